"""`--fix` and `--diff` on every pair in tests/fixtures/fix, through the real CLI, byte for byte.

Each `NAME.in.py` is copied into a temporary folder as `NAME.py` and fixed with
`modal-gpu-lint --fix --no-cache [ARGS]`; the result must equal `NAME.out.py` byte for byte. A
second `--fix` must change nothing (a fixed point), and `--diff` on a fresh copy must write
nothing and print a diff that turns the input into the expected output.

ARGS: the default rules and safe fixes only, unless the fixture's first line reads
`# fix-args: ...` (for example `# fix-args: --unsafe-fixes` for the unsafe fixes, or
`# fix-args: --extend-select MGL009`). Fixtures are grouped by ARGS and each group is run as one
CLI call over a folder, to keep the suite fast. Files whose names contain `crlf`, `latin1` or
`bom` hold CRLF line endings, latin-1 bytes or a BOM; `tests/fixtures/fix/.gitattributes` stops
git from rewriting them, and they are compared as bytes like every other pair. A pair whose
two files are identical is a file that `--fix` must leave alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURES, json_findings, run_cli

FIX = FIXTURES / "fix"
INPUTS = sorted(FIX.glob("*.in.py"))
NAMES = [p.name[: -len(".in.py")] for p in INPUTS]
ARGS_LINE = re.compile(rb"^#\s*fix-args:(?P<args>[^\r\n]*)")


def fix_args(path: Path) -> tuple[str, ...]:
    """The extra CLI arguments named on the fixture's first line."""
    match = ARGS_LINE.match(path.read_bytes())
    return tuple(match.group("args").decode().split()) if match else ()


@dataclass
class Run:
    """One group of fixtures (same ARGS), fixed twice and diffed, with the CLI's outputs."""

    folder: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    second_bytes: dict[str, bytes]
    diff_folder: Path
    diff: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Run]:
    groups: dict[tuple[str, ...], list[Path]] = {}
    for path in INPUTS:
        groups.setdefault(fix_args(path), []).append(path)
    out: dict[tuple[str, ...], Run] = {}
    for index, (args, paths) in enumerate(sorted(groups.items())):
        folder = tmp_path_factory.mktemp(f"fix{index}")
        diff_folder = tmp_path_factory.mktemp(f"diff{index}")
        for path in paths:
            shutil.copyfile(path, folder / _target(path))
            shutil.copyfile(path, diff_folder / _target(path))
        first = run_cli("--fix", "--no-cache", *args, ".", cwd=folder)
        fixed = {p.name: p.read_bytes() for p in folder.iterdir()}
        second = run_cli("--fix", "--no-cache", *args, ".", cwd=folder)
        second_bytes = {p.name: p.read_bytes() for p in folder.iterdir()}
        for name, data in fixed.items():  # keep the first run's result for the byte comparison
            (folder / name).write_bytes(data)
        diff = _run_cli_bytes("--diff", "--no-cache", *args, ".", cwd=diff_folder)
        out[args] = Run(folder, first, second, second_bytes, diff_folder, diff)
    return out


def _run_cli_bytes(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Like `run_cli`, with stdout read as bytes and kept byte for byte (as latin-1 text)."""
    done = subprocess.run([sys.executable, "-m", "modal_gpu_lint", *args], cwd=cwd, capture_output=True, timeout=300)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("latin-1"), done.stderr.decode())


def _target(path: Path) -> str:
    return path.name[: -len(".in.py")] + ".py"


@pytest.mark.parametrize("name", NAMES)
def test_fix_gives_expected_bytes(runs: dict[tuple[str, ...], Run], name: str) -> None:
    source = FIX / f"{name}.in.py"
    run = runs[fix_args(source)]
    assert run.first.returncode in (0, 1), run.first.stderr
    assert "Traceback" not in run.first.stderr
    expected = (FIX / f"{name}.out.py").read_bytes()
    got = (run.folder / f"{name}.py").read_bytes()
    assert got == expected, _show(got, expected)


@pytest.mark.parametrize("name", NAMES)
def test_second_fix_changes_nothing(runs: dict[tuple[str, ...], Run], name: str) -> None:
    run = runs[fix_args(FIX / f"{name}.in.py")]
    assert run.second_bytes[f"{name}.py"] == (FIX / f"{name}.out.py").read_bytes()


def test_second_fix_reports_nothing_fixed(runs: dict[tuple[str, ...], Run]) -> None:
    for args, run in runs.items():
        assert run.second.returncode in (0, 1), run.second.stderr
        assert "All checks passed!" in run.second.stdout or "(0 fixed," in run.second.stdout, (args, run.second.stdout)


@pytest.mark.parametrize("name", NAMES)
def test_diff_writes_nothing_and_turns_input_into_output(runs: dict[tuple[str, ...], Run], name: str) -> None:
    source = FIX / f"{name}.in.py"
    run = runs[fix_args(source)]
    assert (run.diff_folder / f"{name}.py").read_bytes() == source.read_bytes(), "--diff must not write"
    # the diff holds the files' own bytes (encoding, BOM, line endings): compare them as bytes
    before = source.read_bytes().decode("latin-1")
    after = (FIX / f"{name}.out.py").read_bytes().decode("latin-1")
    patches = _split_diff(run.diff.stdout)
    path = f"{name}.py"
    assert f"./{name}.py" not in patches, "a relative path is written without `./` (git apply rejects it)"
    if before == after:
        assert path not in patches
        return
    assert path in patches, run.diff.stdout
    assert _apply(before, patches[path]) == after


def test_diff_exit_code_says_whether_changes_are_pending(runs: dict[tuple[str, ...], Run]) -> None:
    for args, run in runs.items():
        assert run.diff.returncode == 1, (args, run.diff.stderr)  # every group has a file to change
        assert re.search(r"Would fix \d+ errors?\.", run.diff.stderr), run.diff.stderr


def test_fixture_set_covers_every_fixable_rule() -> None:
    text = "\n".join(p.read_text(encoding="latin-1") for p in INPUTS)
    for code, needle in {
        "MGL001": "unsafe_mgl001",
        "MGL004": "unsafe_mgl004",
        "MGL101": "unsafe_mgl101",
        "MGL007": "mgl007",
        "MGL008": "mgl008",
        "MGL009": "mgl009",
        "MGL201": "mgl201",
        "MGL202": "mgl202",
        "MGL203": "mgl203",
        "MGL204": "mgl204",
        "MGL205": "mgl205",
    }.items():
        assert any(n.startswith(needle) for n in NAMES), code
    assert any(b"\r\n" in p.read_bytes() for p in INPUTS if "crlf" in p.name)
    assert any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in INPUTS if "bom" in p.name)
    assert "coding: latin-1" in text
    assert any((FIX / f"{n}.out.py").read_bytes() == (FIX / f"{n}.in.py").read_bytes() for n in NAMES)


def test_clean_outputs_load_with_the_real_modal_client(runs: dict[tuple[str, ...], Run], tmp_path: Path) -> None:
    """Every fixed file the linter passes is accepted by Modal's client 1.6.4 when imported.

    The decorators run at import time and raise DeprecationError/InvalidError on the removed
    keywords and objects, so this checks that the fixes produce what Modal accepts today.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in NAMES:
        groups.setdefault(fix_args(FIX / f"{name}.in.py"), []).append(name)
    clean = []
    for index, (args, names) in enumerate(groups.items()):
        folder = tmp_path / f"group{index}"
        folder.mkdir()
        for name in names:
            (folder / f"{name}.py").write_bytes((FIX / f"{name}.out.py").read_bytes())
        result = run_cli("--no-cache", "--format", "json", *args, ".", cwd=folder)
        dirty = {Path(d["filename"]).name for d in json_findings(result)}
        clean += [str(folder / f"{name}.py") for name in names if f"{name}.py" not in dirty]
    assert len(clean) >= 15, clean
    loader = (
        "import runpy, sys, warnings\n"
        "for path in sys.argv[1:]:\n"
        "    with warnings.catch_warnings():\n"
        "        warnings.simplefilter('error')\n"
        "        runpy.run_path(path, run_name='fixture')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", loader, *clean], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_original_pre2025_program_fails_on_the_current_client(tmp_path: Path) -> None:
    """The migration input really is broken today (so the test above proves the fix matters)."""
    copy = tmp_path / "old.py"
    copy.write_bytes((FIX / "migrate_pre2025.in.py").read_bytes())
    code = "import runpy, sys; runpy.run_path(sys.argv[1])"
    result = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "cannot import name 'Stub'" in result.stderr


def test_migration_in_one_run_leaves_nothing(tmp_path: Path) -> None:
    """A pre-2025 program (GPU objects, Stub, old keywords, web_endpoint) in one `--fix` run."""
    target = tmp_path / "app.py"
    target.write_bytes((FIX / "migrate_pre2025.in.py").read_bytes())
    result = run_cli("--fix", "--no-cache", "app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "Found 14 errors (14 fixed, 0 remaining)."
    assert target.read_bytes() == (FIX / "migrate_pre2025.out.py").read_bytes()
    lint = run_cli("--no-cache", "app.py", cwd=tmp_path)
    assert (lint.returncode, lint.stdout.strip()) == (0, "All checks passed!")


def test_git_applies_the_diff(tmp_path: Path) -> None:
    """`--diff` output is a patch that a real tool applies (`git apply -p0`)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    target = tmp_path / "app.py"
    target.write_bytes((FIX / "several_in_one_call.in.py").read_bytes())
    diff = run_cli("--diff", "--no-cache", "--unsafe-fixes", "app.py", cwd=tmp_path)
    assert diff.returncode == 1
    (tmp_path / "fix.patch").write_text(diff.stdout)
    applied = subprocess.run([git, "apply", "-p0", "fix.patch"], cwd=tmp_path, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr
    assert target.read_bytes() == (FIX / "several_in_one_call.out.py").read_bytes()


@pytest.mark.parametrize("tool", ["git", "patch"])
def test_diff_of_a_folder_applies_byte_for_byte(tmp_path: Path, tool: str) -> None:
    """`--diff .` (latin-1, CRLF and BOM files in a subfolder too) applies with `git apply -p0` and
    `patch -p0`, as the README says, and gives the bytes `--fix` writes."""
    program = shutil.which(tool)
    if program is None:
        pytest.skip(f"{tool} is not installed")
    names = ["latin1", "crlf", "bom", "mgl205_max_inputs"]
    (tmp_path / "sub").mkdir()
    for name in names:
        for folder in (tmp_path, tmp_path / "sub"):
            shutil.copyfile(FIX / f"{name}.in.py", folder / f"{name}.py")
    diff = subprocess.run(
        [sys.executable, "-m", "modal_gpu_lint", "--diff", "--no-cache", "."], cwd=tmp_path, capture_output=True
    )
    assert diff.returncode == 1, diff.stderr
    (tmp_path / "fix.patch").write_bytes(diff.stdout)
    command = [program, "apply", "-p0", "fix.patch"] if tool == "git" else [program, "-p0", "-i", "fix.patch"]
    applied = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for name in names:
        for folder in (tmp_path, tmp_path / "sub"):
            assert (folder / f"{name}.py").read_bytes() == (FIX / f"{name}.out.py").read_bytes(), (folder, name)


# ---- helpers --------------------------------------------------------------------------------
def _split_diff(text: str) -> dict[str, list[str]]:
    """The combined `--diff` output, per file."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    lines = _split_lines(text)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            current = out.setdefault(line[4:].rstrip("\r\n"), [])
            i += 2
            continue
        assert current is not None, f"diff text before a file header: {line!r}"
        current.append(line)
        i += 1
    return out


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _apply(text: str, patch: list[str]) -> str:
    """Apply one file's unified diff hunks to `text` (exact context required)."""
    old = _split_lines(text)
    new: list[str] = []
    position = 0
    pending: str | None = None
    for line in patch:
        hunk = _HUNK.match(line)
        if hunk:
            start = int(hunk.group(1)) - (0 if hunk.group(2) == "0" else 1)
            new.extend(old[position:start])
            position = start
            continue
        if line.startswith("\\"):  # "\ No newline at end of file" after an added line
            if pending == "+":
                new[-1] = new[-1].rstrip("\r\n")
            continue
        kind, body = line[0], line[1:]
        pending = kind
        if kind == " ":
            assert old[position].rstrip("\r\n") == body.rstrip("\r\n"), (old[position], body)
            new.append(old[position])
            position += 1
        elif kind == "-":
            assert old[position].rstrip("\r\n") == body.rstrip("\r\n"), (old[position], body)
            position += 1
        elif kind == "+":
            new.append(body)
    new.extend(old[position:])
    return "".join(new)


def _split_lines(text: str) -> list[str]:
    """Lines ended by `\\n`, `\\r\\n` or `\\r` only, as Python and patch tools count them."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def _show(got: bytes, expected: bytes) -> str:
    import difflib

    diff = difflib.unified_diff(
        expected.decode("latin-1").splitlines(keepends=True),
        got.decode("latin-1").splitlines(keepends=True),
        "expected",
        "got",
    )
    return "fixed file differs from .out.py:\n" + "".join(diff)
