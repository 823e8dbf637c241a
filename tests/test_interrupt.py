"""`--fix` interrupted at any moment leaves every file either as it was or fully fixed.

The CLI runs in its own process group and is killed (SIGKILL, as an OOM killer or a CI timeout
would) or interrupted (SIGINT, Ctrl-C in pre-commit) at seeded random moments. To make sure
some kills land inside the write itself, a variant slows `os.fsync` down (the fixer writes a
temporary file, fsyncs it, then renames it over the original) and strikes while a temporary file
exists. Afterwards: the file's bytes are the original or the fixed ones, never anything else; a
SIGKILL may leave a hidden `.NAME.py.XXXX.mgl-tmp` file (nothing can clean up after SIGKILL), which
is not a `.py` file, so later runs neither lint it nor trip over it; SIGINT leaves none.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.fixer import fix_bytes

# A slow fsync makes the window between "temporary file written" and "renamed over" wide.
RUNNER = """\
import os, runpy, sys, time
delay = float(os.environ.get("MGL_TEST_FSYNC_DELAY", "0"))
if delay:
    _fsync = os.fsync
    def fsync(fd):
        time.sleep(delay)
        _fsync(fd)
    os.fsync = fsync
runpy.run_module("modal_gpu_lint", run_name="__main__", alter_sys=True)
"""
SETTINGS = load_settings(start=Path(os.sep))


def big_program(functions: int) -> bytes:
    """Many functions, each with a safe fix (MGL201: keep_warm -> min_containers)."""
    parts = ['"""Fix me."""\nimport modal\n\napp = modal.App("big")\n']
    for i in range(functions):
        parts.append(
            f'\n\n@app.function(gpu="T4", timeout=60, keep_warm=1)\ndef f{i}(x: int) -> int:\n    return x + {i}\n'
        )
    return "".join(parts).encode()


@pytest.fixture(scope="module")
def program() -> tuple[bytes, bytes]:
    """(original, fixed) bytes of a file that takes the CLI a moment to fix."""
    original = big_program(250)
    result = fix_bytes("big.py", original, SETTINGS)
    assert result.error is None
    assert result.new_bytes is not None
    assert b"keep_warm" not in result.new_bytes
    return original, result.new_bytes


def start(folder: Path, *args: str, delay: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, "--fix", "--no-cache", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: worker processes get the signal too
        env={**os.environ, "PYTHONPATH": str(ROOT), "MGL_TEST_FSYNC_DELAY": str(delay)},
    )


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".mgl-tmp"))


def wait_for_temporary(folder: Path, process: subprocess.Popen[str], limit: float = 120) -> bool:
    """Poll until a temporary file exists (True) or the process ends first (False)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if temporaries(folder):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.002)
    raise AssertionError("no temporary file appeared")


def finish(process: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


def check_later_runs(folder: Path, fixed: dict[str, bytes]) -> None:
    """Leftovers are hidden non-.py files: a lint of the folder ignores them, a --fix completes."""
    for name in temporaries(folder):
        assert name.startswith("."), name
        assert not name.endswith(".py"), name
    lint = subprocess.run(
        [sys.executable, "-m", "modal_gpu_lint", "--no-cache", "--format", "concise", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert lint.returncode in (0, 1), lint.stderr
    assert lint.stderr == "", lint.stderr
    assert ".mgl-tmp" not in lint.stdout
    done = start(folder, ".")
    _, stderr = done.communicate(timeout=300)
    assert done.returncode in (0, 1), stderr
    assert "Traceback" not in stderr, stderr
    for name, data in fixed.items():
        assert (folder / name).read_bytes() == data


def test_sigkill_at_random_moments(tmp_path: Path, program: tuple[bytes, bytes]) -> None:
    original, fixed = program
    target = tmp_path / "big.py"
    target.write_bytes(original)
    began = time.monotonic()
    calibration = start(tmp_path, "big.py")
    assert calibration.wait(timeout=300) == 0, calibration.communicate()[1]
    duration = time.monotonic() - began
    assert target.read_bytes() == fixed
    outcomes = {"original": 0, "fixed": 0}
    rng = random.Random(8)
    for _ in range(10):
        target.write_bytes(original)
        process = start(tmp_path, "big.py")
        time.sleep(rng.uniform(0, duration * 1.1))
        _code, stderr = finish(process, signal.SIGKILL)
        assert "Traceback" not in stderr
        data = target.read_bytes()
        assert data in (original, fixed), "a killed --fix left a partial file"
        outcomes["original" if data == original else "fixed"] += 1
    print(f"after SIGKILL at random moments: {outcomes}")
    check_later_runs(tmp_path, {"big.py": fixed})


def test_sigkill_inside_the_write(tmp_path: Path, program: tuple[bytes, bytes]) -> None:
    original, fixed = program
    target = tmp_path / "big.py"
    rng = random.Random(9)
    for _ in range(3):
        target.write_bytes(original)
        process = start(
            tmp_path, "big.py", delay=2.0
        )  # a wide window: the signal lands inside it even on a loaded machine
        assert wait_for_temporary(tmp_path, process)
        time.sleep(rng.uniform(0, 0.4))  # inside the slow fsync: written, not yet renamed
        finish(process, signal.SIGKILL)
        assert target.read_bytes() == original
    assert temporaries(tmp_path), "SIGKILL leaves the temporary file (nothing can remove it)"
    check_later_runs(tmp_path, {"big.py": fixed})


def test_ctrl_c_inside_the_write_cleans_up(tmp_path: Path, program: tuple[bytes, bytes]) -> None:
    original, _ = program
    target = tmp_path / "big.py"
    target.write_bytes(original)
    process = start(tmp_path, "big.py", delay=2.0)  # a wide window: the signal lands inside it even on a loaded machine
    assert wait_for_temporary(tmp_path, process)
    time.sleep(0.1)
    code, stderr = finish(process, signal.SIGINT)
    assert code == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert target.read_bytes() == original
    assert temporaries(tmp_path) == []


def test_interrupting_a_parallel_fix_of_many_files(tmp_path: Path) -> None:
    """Many files fixed by worker processes: SIGINT or SIGKILL to the group, each file whole."""
    originals = {f"m{i}.py": big_program(30 + i) for i in range(12)}
    fixed = {}
    for name, data in originals.items():
        result = fix_bytes(name, data, SETTINGS)
        assert result.new_bytes is not None
        fixed[name] = result.new_bytes
    rng = random.Random(10)
    for sig in (signal.SIGINT, signal.SIGKILL, signal.SIGINT, signal.SIGKILL):
        for name, data in originals.items():
            (tmp_path / name).write_bytes(data)
        left_by_sigkill = temporaries(tmp_path)  # an earlier SIGKILL may have left some
        process = start(tmp_path, ".", delay=0.05)
        assert wait_for_temporary(tmp_path, process)
        time.sleep(rng.uniform(0, 0.3))
        _code, stderr = finish(process, sig)
        assert "Traceback" not in stderr, stderr
        for name in originals:
            assert (tmp_path / name).read_bytes() in (originals[name], fixed[name]), name
        if sig == signal.SIGINT:
            time.sleep(0.5)  # workers finish their cleanup
            assert temporaries(tmp_path) == left_by_sigkill
    check_later_runs(tmp_path, fixed)
