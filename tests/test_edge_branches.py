"""Branches of the engine and the fixer that the coverage report showed no other test reaching.

Each is a case a user can run into, checked by what they see: the fixed text, the error line.
(Branches no input can reach are listed in the coverage notes of the issue-8 report instead.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modal_gpu_lint.config import load_settings
from modal_gpu_lint.engine import lint_bytes, lint_file
from modal_gpu_lint.fix import fix_bytes, fix_file

SETTINGS = load_settings(start=Path("/"))
APP = 'import modal\napp = modal.App()\n'


def fixed(source: str, *, unsafe: bool = False) -> str:
    result = fix_bytes("x.py", source.encode(), SETTINGS, unsafe=unsafe)
    assert result.error is None, result.error
    assert result.new_bytes is not None, "nothing was fixed"
    return result.new_bytes.decode()


# ---- the engine: libcst refusing what Python accepts ---------------------------------------------
def test_valid_python_that_libcst_validation_rejects_is_linted() -> None:
    """libcst issue #1061: its node validation rejects `else(lambda: ())`; the parse skips it (cst_parse)."""
    source = b'import modal\napp = modal.App()\nx = () if 0 else(lambda:())\n@app.function(gpu="A10:8", timeout=60)\ndef f(): ...\n'
    result = lint_bytes("x.py", source, SETTINGS)
    assert result.error is None
    assert [(d.code, d.row, d.column) for d in result.diagnostics] == [("MGL003", 4, 15)]


def test_fixing_valid_python_that_libcst_validation_rejects() -> None:
    """libcst #1061 again: the fixer's tree copies skip the validation that rejects this valid code."""
    head = "import modal\napp = modal.App()\nx = () if 0 else(lambda:())\n"
    source = head + '@app.function(gpu="A10G", keep_warm=1, timeout=60)\ndef f(): ...\n'
    expected = head + '@app.function(gpu="A10G", min_containers=1, timeout=60)\ndef f(): ...\n'
    assert fixed(source) == expected


def test_a_parser_crash_is_one_error_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the native parser raises on hostile input becomes one line naming the file."""
    import modal_gpu_lint.cst_parse as cst_parse

    def explode(text: str) -> None:
        raise TypeError("something odd\nand a second line")

    monkeypatch.setattr(cst_parse, "parse_module", explode)
    result = lint_bytes("x.py", b"import modal  # gpu\nx = 1\n", SETTINGS)
    assert result.error is not None and not result.diagnostics
    assert str(result.error).startswith("x.py: cannot parse: TypeError: something odd")


def test_valid_python_beyond_libcst_limits_gets_libcsts_message() -> None:
    """Python accepts 5000 implicitly concatenated strings; libcst does not: its message, shortened."""
    source = b"import modal  # gpu\nx = (" + b' "a"' * 5000 + b")\n"
    result = lint_bytes("x.py", source, SETTINGS)
    assert result.error is not None and result.error.row == 2
    message = str(result.error)
    assert message.startswith("x.py:2:") and "cannot parse: " in message and len(message) < 200
    assert "parser error: error at" not in message  # libcst's own position prefix is dropped


def test_lint_file_on_something_unreadable(tmp_path: Path) -> None:
    result = lint_file(str(tmp_path), SETTINGS)
    assert result.error is not None and str(result.error).startswith(f"{tmp_path}: cannot read: ")


# ---- the fixer: layouts around removed list entries ----------------------------------------------
def test_removing_the_last_entry_keeps_the_comment_of_the_one_before() -> None:
    source = APP + '@app.function(timeout=60, gpu=[\n    "H100",  # first choice\n    "h100"])\ndef f(): ...\n'
    assert fixed(source) == APP + '@app.function(timeout=60, gpu=[\n    "H100"  # first choice\n])\ndef f(): ...\n'


def test_removing_a_middle_entry_keeps_the_comment_above_it() -> None:
    source = APP + '@app.function(timeout=60, gpu=[\n    "H100",  # first choice\n    "h100", "T4",\n])\ndef f(): ...\n'
    expected = APP + '@app.function(timeout=60, gpu=[\n    "H100",  # first choice\n    "T4",\n])\ndef f(): ...\n'
    assert fixed(source) == expected


# ---- the fixer: imports it adds and removes ------------------------------------------------------
def test_one_import_for_two_fixes_that_need_it_placed_after_leading_imports() -> None:
    source = (
        "from fastapi import FastAPI\nweb = FastAPI()\nfrom modal import App\napp = App()\n"
        "@app.function(timeout=60, allow_concurrent_inputs=4)\ndef f(): ...\n"
        "@app.function(timeout=60, allow_concurrent_inputs=8)\ndef g(): ...\n"
    )
    assert fixed(source) == (
        "from fastapi import FastAPI\nimport modal\nweb = FastAPI()\nfrom modal import App\napp = App()\n"
        "@app.function(timeout=60)\n@modal.concurrent(max_inputs=4)\ndef f(): ...\n"
        "@app.function(timeout=60)\n@modal.concurrent(max_inputs=8)\ndef g(): ...\n"
    )


def test_a_removed_import_that_ends_a_block_leaves_its_comment_and_a_valid_block() -> None:
    source = "import modal\nif True:\n    # about gpu\n    from modal import gpu\n"
    out = fixed(source)
    assert out == "import modal\nif True:\n    pass\n    # about gpu\n"
    compile(out, "x.py", "exec")


def test_removing_the_first_name_of_a_parenthesized_import() -> None:
    source = 'from modal import (  # c\n    gpu,\n    App,\n)\nimport modal\napp = App()\n@app.function(timeout=60, gpu="T4")\ndef f(): ...\n'
    assert fixed(source).startswith("from modal import (  # c\n    App,\n)\nimport modal\n")


# ---- the fixer: files it has nothing to do with --------------------------------------------------
def test_fix_bytes_without_modal_returns_at_once() -> None:
    result = fix_bytes("x.py", b"x = 1\n", SETTINGS)
    assert result.new_bytes is None and result.error is None and result.diagnostics == []


def test_fix_file_on_something_unreadable(tmp_path: Path) -> None:
    result = fix_file(str(tmp_path), SETTINGS)
    assert result.error is not None and str(result.error).startswith(f"{tmp_path}: cannot read: ")


@pytest.mark.parametrize("source", ["import modal\nx = 1\n", APP + '@app.function(gpu="A10:8", timeout=60)\ndef f(): ...\n'])
def test_nothing_fixable_gives_no_bytes(source: str) -> None:
    result = fix_bytes("x.py", source.encode(), SETTINGS, unsafe=True)
    assert result.new_bytes is None and result.error is None
