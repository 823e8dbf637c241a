"""Every lint fixture, through the real CLI: codes, lines and columns exactly as annotated.

A fixture marks each finding on the line where it must be reported with `# expect: CODE:COLUMN`;
every other line must stay silent. Fixtures run with the default rules unless their first line
says `# select: CODES` (e.g. `# select: ALL` or `# select: MGL009`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import FIXTURES, expected_findings, json_findings, run_cli

LINT = sorted((FIXTURES / "lint").glob("*.py"))
SELECT = re.compile(r"#\s*select:\s*(\S+)")


@pytest.mark.parametrize("path", LINT, ids=[p.name for p in LINT])
def test_fixture(path: Path) -> None:
    first = path.read_text(encoding="utf-8", errors="replace").splitlines()[:1]
    match = SELECT.search(first[0]) if first else None
    select = ["--select", match.group(1)] if match else []
    result = run_cli(*select, "--format", "json", "--no-cache", str(path), cwd=path.parent)
    assert result.returncode in (0, 1), result.stderr
    found = {(d["location"]["row"], d["code"], d["location"]["column"]) for d in json_findings(result)}
    expected = expected_findings(path)
    with_columns = {e for e in expected if e[2] is not None}
    # A column is required in every expectation of the lint fixtures.
    assert with_columns == expected, f"write a column in every expectation: {expected - with_columns}"
    assert found == expected, _diff(found, expected)
    assert result.returncode == (1 if expected else 0)


def _diff(found: set, expected: set) -> str:  # type: ignore[type-arg]
    missing = sorted(expected - found)
    extra = sorted(found - expected)
    return f"missing (expected, not reported): {missing}\nunexpected (reported, not expected): {extra}"


def test_fixture_folder_has_valid_and_invalid_examples() -> None:
    assert any(expected_findings(p) for p in LINT)
    assert any(not expected_findings(p) for p in LINT)
