"""Constants imported from the project's own modules: the command line and the flake8 plugin follow
them (as the mypy plugin does), say where the value is, and the result cache notices when the
imported module changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import run_cli

SETTINGS = """\
import os

GPU_TYPE = "A100-80G"
GPUS_PER_NODE = int(os.environ.get("GPUS_PER_NODE", "12"))
TIMEOUT = 60
TWICE = "A100-80G"
TWICE = "A100-80GB"
if os.environ.get("BIG"):
    CONDITIONAL = "A100-80G"
"""

MAIN = """\
import modal
from helpers import LOCAL_GPU

from . import settings
from .settings import CONDITIONAL, GPU_TYPE, TIMEOUT, TWICE
from app.settings import GPUS_PER_NODE
from json import decoder

app = modal.App()


@app.function(gpu=GPU_TYPE, timeout=TIMEOUT)
def relative() -> None: ...


@app.function(gpu=f"H100:{GPUS_PER_NODE}", timeout=TIMEOUT)
def absolute_from_the_package() -> None: ...


@app.function(gpu=settings.GPU_TYPE, timeout=TIMEOUT)
def module_attribute() -> None: ...


@app.function(gpu=LOCAL_GPU, timeout=TIMEOUT)
def sibling_module() -> None: ...


@app.function(gpu=TWICE, timeout=TIMEOUT)
def bound_twice_is_unknown() -> None: ...


@app.function(gpu=CONDITIONAL, timeout=TIMEOUT)
def bound_in_an_if_is_unknown() -> None: ...


@app.function(gpu=decoder.GPU, timeout=TIMEOUT)
def not_a_project_module() -> None: ...
"""

EXPECTED = [
    "app/main.py:12:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'? (value from GPU_TYPE "
    "(settings.py:3))",
    "app/main.py:16:15: MGL003 'H100:12' asks for 12 x H100: a container can have 1 to 8 (value from the default "
    "of $GPUS_PER_NODE ('12') in settings.py:4, which runs when $GPUS_PER_NODE is not set)",
    "app/main.py:20:15: MGL001 unknown GPU type 'A100-80G'; did you mean 'A100-80GB'? (value from "
    "settings.GPU_TYPE (settings.py:3))",
    "app/main.py:24:15: MGL004 'L4!': the suffix '!' pins the exact type (no upgrade) and is accepted only on "
    "H100; Modal rejects 'L4!' (value from LOCAL_GPU (helpers.py:1))",
]


def make_project(root: Path) -> Path:
    package = root / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS)
    (package / "helpers.py").write_text('LOCAL_GPU = "L4!"\n')
    (package / "main.py").write_text(MAIN)
    return package


def concise(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("app/")]


def test_cli_follows_project_constants(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = run_cli("--no-cache", "--format", "concise", "app/main.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert concise(result) == EXPECTED


def test_flake8_follows_them_too(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "MGL", "app/main.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert [line for line in result.stdout.splitlines() if line.startswith("app/")] == EXPECTED


def test_cache_notices_a_changed_imported_module(tmp_path: Path) -> None:
    package = make_project(tmp_path)
    first = run_cli("--format", "concise", "app/main.py", cwd=tmp_path)
    assert concise(first) == EXPECTED
    assert concise(run_cli("--format", "concise", "app/main.py", cwd=tmp_path)) == EXPECTED  # served from the cache
    (package / "settings.py").write_text(SETTINGS.replace('GPU_TYPE = "A100-80G"', 'GPU_TYPE = "A100-80GB"'))
    fixed = run_cli("--format", "concise", "app/main.py", cwd=tmp_path)
    assert concise(fixed) == [EXPECTED[1], EXPECTED[3]]
    (package / "settings.py").write_text(SETTINGS)
    assert concise(run_cli("--format", "concise", "app/main.py", cwd=tmp_path)) == EXPECTED
