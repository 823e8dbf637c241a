"""The unvalidated parse (`cst_parse.parse_module`) gives libcst's own tree and leaves validation on."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from modal_gpu_lint.analysis.cst_parse import parse_module

FIXTURES = sorted((Path(__file__).parent / "fixtures").rglob("*.py"))


def test_there_are_fixtures_to_compare() -> None:
    assert len(FIXTURES) > 50


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_same_tree_as_libcst(path: Path) -> None:
    text = path.read_bytes().decode("utf-8-sig", "surrogateescape")
    try:
        expected = cst.parse_module(text)
    except Exception:
        pytest.skip("libcst rejects this fixture (a bad-input case)")
    got = parse_module(text)
    assert got.deep_equals(expected)
    if text.endswith("\r") and not text.endswith("\r\n"):
        # libcst drops a CR-only file's last `\r` (run.fixer puts it back: fix/cr_only.*.py)
        assert got.code == text[:-1]
    else:
        assert got.code == text


def test_validation_is_back_after_a_parse() -> None:
    parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")  # what validation rejects


def test_validation_is_back_after_a_failed_parse() -> None:
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def (:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")


def test_syntax_errors_are_still_errors() -> None:
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("x = = 1\n")
