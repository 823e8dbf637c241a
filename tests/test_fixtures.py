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


def _select(path: Path) -> tuple[str, ...]:
    first = path.read_text(encoding="utf-8", errors="replace").splitlines()[:1]
    match = SELECT.search(first[0]) if first else None
    return ("--select", match.group(1)) if match else ()


@pytest.fixture(scope="module")
def reported() -> dict[str, set[tuple[int, str, int]]]:
    """Each fixture's findings, from one CLI run per group of fixtures with the same selection and
    the same verdict (findings expected or not), so that each group's exit code is every file's."""
    groups: dict[tuple[tuple[str, ...], bool], list[Path]] = {}
    for path in LINT:
        groups.setdefault((_select(path), bool(expected_findings(path))), []).append(path)
    out: dict[str, set[tuple[int, str, int]]] = {path.name: set() for path in LINT}
    for (select, findings_expected), paths in groups.items():
        result = run_cli(*select, "--format", "json", "--no-cache", *(p.name for p in paths), cwd=FIXTURES / "lint")
        assert result.returncode == (1 if findings_expected else 0), result.stderr
        assert result.stderr == ""
        for d in json_findings(result):
            out[Path(d["filename"]).name].add((d["location"]["row"], d["code"], d["location"]["column"]))
    return out


@pytest.mark.parametrize("path", LINT, ids=[p.name for p in LINT])
def test_fixture(path: Path, reported: dict[str, set[tuple[int, str, int]]]) -> None:
    found = reported[path.name]
    expected = expected_findings(path)
    with_columns = {e for e in expected if e[2] is not None}
    # A column is required in every expectation of the lint fixtures.
    assert with_columns == expected, f"write a column in every expectation: {expected - with_columns}"
    assert found == expected, _diff(found, expected)


def _diff(found: set, expected: set) -> str:  # type: ignore[type-arg]
    missing = sorted(expected - found)
    extra = sorted(found - expected)
    return f"missing (expected, not reported): {missing}\nunexpected (reported, not expected): {extra}"


def test_fixture_folder_has_valid_and_invalid_examples() -> None:
    assert any(expected_findings(p) for p in LINT)
    assert any(not expected_findings(p) for p in LINT)
