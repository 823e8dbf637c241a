"""Shared helpers: run the real CLI, read `# expect:` comments from fixtures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import hypothesis_profiles
import pytest

from modal_gpu_lint.analysis.nesting import ensure_recursion_limit

HYPOTHESIS_PROFILE = hypothesis_profiles.load()  # dev, ci (CI=true) or long: see tests/hypothesis_profiles.py
ensure_recursion_limit()  # as the engine does on first parse; set up front so Hypothesis does not warn

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(?P<items>MGL\d{3}(?::\d+)?(?:\s*,\s*MGL\d{3}(?::\d+)?)*)")


def run_cli(*args: str, cwd: Path | None = None, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m modal_gpu_lint ARGS` as a user would, in `cwd` (default: a neutral folder)."""
    return subprocess.run(
        [sys.executable, "-m", "modal_gpu_lint", *args],
        cwd=cwd or FIXTURES,
        capture_output=True,
        text=True,
        input=None if input is None else input.decode(),
        timeout=300,
    )


def expected_findings(path: Path) -> set[tuple[int, str, int | None]]:
    """(line, code, column) from `# expect: MGL001:12, MGL101` comments (column optional)."""
    out: set[tuple[int, str, int | None]] = set()
    text = path.read_bytes().decode("utf-8", errors="replace")
    for row, line in enumerate(text.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for item in match.group("items").split(","):
                code, _, column = item.strip().partition(":")
                out.add((row, code, int(column) if column else None))
    return out


def json_findings(result: subprocess.CompletedProcess[str]) -> list[dict]:  # type: ignore[type-arg]
    """The JSON array a `--format json` run printed."""
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def cli():  # type: ignore[no-untyped-def]
    return run_cli


def pytest_report_header() -> str:
    return f"hypothesis profile: {HYPOTHESIS_PROFILE}"
