"""Branches of the engine and the fixer that the coverage report showed no other test reaching.

Each is a case a user can run into, checked by what they see: the fixed text, the error line.
(Branches no input can reach are listed in the coverage notes of the issue-8 report instead.)
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from modal_gpu_lint.analysis import cst_parse
from modal_gpu_lint.findings import Fix, Remove
from modal_gpu_lint.fix.apply import add_import, apply
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import FileResult, lint_bytes, lint_file
from modal_gpu_lint.run.fixer import fix_bytes, fix_file

SETTINGS = load_settings(start=Path("/"))
APP = "import modal\napp = modal.App()\n"


def fixed(source: str, *, unsafe: bool = False) -> str:
    result = fix_bytes("x.py", source.encode(), SETTINGS, unsafe=unsafe)
    assert result.error is None, result.error
    assert result.new_bytes is not None, "nothing was fixed"
    return result.new_bytes.decode()


# ---- the engine: libcst refusing what Python accepts ---------------------------------------------
def test_valid_python_that_libcst_validation_rejects_is_linted() -> None:
    """libcst issue #1061: its node validation rejects `else(lambda: ())`; the parse skips it (cst_parse)."""
    source = (
        b"import modal\napp = modal.App()\nx = () if 0 else(lambda:())\n"
        b'@app.function(gpu="A10:8", timeout=60)\ndef f(): ...\n'
    )
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
    import modal_gpu_lint.analysis.cst_parse as cst_parse

    def explode(text: str) -> None:
        raise TypeError("something odd\nand a second line")

    monkeypatch.setattr(cst_parse, "parse_module", explode)
    result = lint_bytes("x.py", b"import modal  # gpu\nx = modal.gpu.T4()\n", SETTINGS)
    assert result.error is not None
    assert not result.diagnostics
    assert str(result.error).startswith("x.py: cannot parse: TypeError: something odd")


def test_valid_python_beyond_libcst_limits_gets_libcsts_message() -> None:
    """Python accepts 5000 implicitly concatenated strings; libcst does not: its message, shortened."""
    source = b"import modal; modal.gpu.T4()  # gpu\nx = (" + b' "a"' * 5000 + b")\n"  # a Modal site: to libcst
    result = lint_bytes("x.py", source, SETTINGS)
    assert result.error is not None
    assert result.error.row == 2
    message = str(result.error)
    assert message.startswith("x.py:2:")
    assert "cannot parse: " in message
    assert len(message) < 200
    assert "parser error: error at" not in message  # libcst's own position prefix is dropped


def test_a_file_without_a_modal_site_is_not_given_to_libcst() -> None:
    """The gate on Python's tree: the same text as above without a Modal call is settled before
    libcst, so libcst's limits (5000 concatenated strings) do not make it an error."""
    source = b"import modal  # gpu\nx = (" + b' "a"' * 5000 + b")\n"
    assert lint_bytes("x.py", source, SETTINGS) == FileResult("x.py")


def test_a_parser_out_of_stack_or_memory_is_one_error_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should libcst's parser still run out of stack or memory (past the nesting guard): one error line."""

    def exhaust(text: str) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(cst_parse, "parse_module", exhaust)
    result = lint_bytes("x.py", b"import modal  # gpu\nx = modal.gpu.T4()\n", SETTINGS)
    assert not result.diagnostics
    assert str(result.error) == "x.py: cannot parse: nested too deeply"


def test_a_long_libcst_message_is_shortened_to_one_readable_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """When only libcst refuses the file, its message is cut at 120 characters; the position stays."""
    expected = "expected one of " + ", ".join(f"TOKEN{i}" for i in range(40))

    def refuse(text: str) -> None:
        raise cst.ParserSyntaxError(
            f"parser error: error at 2:4: {expected}", lines=text.splitlines(), raw_line=2, raw_column=4
        )

    monkeypatch.setattr(cst_parse, "parse_module", refuse)
    result = lint_bytes("x.py", b"import modal  # gpu\nx = modal.gpu.T4()\n", SETTINGS)
    assert result.error is not None
    assert (result.error.row, result.error.column) == (2, 5)
    assert result.error.message == f"cannot parse: {expected[:117]}..."


def test_lint_file_reads_and_lints(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(APP + '@app.function(gpu="A10:8", timeout=60)\ndef f(): ...\n')
    result = lint_file(str(path), SETTINGS)
    assert result.error is None
    assert [(d.code, d.row, d.column) for d in result.diagnostics] == [("MGL003", 3, 15)]


def test_a_libcst_without_the_validation_hook_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `CSTNode.__post_init__` to switch off: the parse works and libcst keeps validating."""
    monkeypatch.setattr(cst_parse, "_VALIDATE", None)
    source = "import modal\nx = [1,  # one\n     2]\n"
    for _ in range(2):
        assert cst_parse.parse_module(source).deep_equals(cst.parse_module(source))
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")


def test_lint_file_on_something_unreadable(tmp_path: Path) -> None:
    result = lint_file(str(tmp_path), SETTINGS)
    assert result.error is not None
    assert str(result.error).startswith(f"{tmp_path}: cannot read: ")


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
    source = (
        "from modal import (  # c\n    gpu,\n    App,\n)\nimport modal\napp = App()\n"
        '@app.function(timeout=60, gpu="T4")\ndef f(): ...\n'
    )
    assert fixed(source).startswith("from modal import (  # c\n    App,\n)\nimport modal\n")


# ---- the fixer: files it has nothing to do with --------------------------------------------------
def test_fix_bytes_without_modal_returns_at_once() -> None:
    result = fix_bytes("x.py", b"x = 1\n", SETTINGS)
    assert result.new_bytes is None
    assert result.error is None
    assert result.diagnostics == []


def test_fix_file_on_something_unreadable(tmp_path: Path) -> None:
    result = fix_file(str(tmp_path), SETTINGS)
    assert result.error is not None
    assert str(result.error).startswith(f"{tmp_path}: cannot read: ")


@pytest.mark.parametrize(
    "source", ["import modal\nx = 1\n", APP + '@app.function(gpu="A10:8", timeout=60)\ndef f(): ...\n']
)
def test_nothing_fixable_gives_no_bytes(source: str) -> None:
    result = fix_bytes("x.py", source.encode(), SETTINGS, unsafe=True)
    assert result.new_bytes is None
    assert result.error is None


# ---- the fixer: removals the rules do not make yet, through `apply` -------------------------------
def removed_entries(source: str, indexes: tuple[int, ...]) -> str:
    """`source` (`x = <list, set or tuple>`) with the entries at `indexes` removed by `apply`."""
    module = cst.parse_module(source)
    statement = module.body[0]
    assert isinstance(statement, cst.SimpleStatementLine)
    assert isinstance(statement.body[0], cst.Assign)
    collection = statement.body[0].value
    assert isinstance(collection, (cst.List, cst.Set, cst.Tuple))
    changes = tuple(Remove(collection.elements[i]) for i in indexes)
    return apply(module, [Fix("safe", "remove", changes)]).code


@pytest.mark.parametrize(
    ("source", "indexes", "expected"),
    [
        ("x = [  # c\n    1,\n    2,\n]\n", (0,), "x = [  # c\n    2,\n]\n"),
        ("x = {  # c\n    1,\n    2,\n}\n", (0,), "x = {  # c\n    2,\n}\n"),
        ("x = (  # c\n    1,\n    2,\n)\n", (0,), "x = (  # c\n    2,\n)\n"),
        ("x = {1, 2}\n", (0,), "x = {2}\n"),
        ("x = {1, 2}\n", (1,), "x = {1}\n"),
        ("x = {\n    1,  # one\n    2  # two\n}\n", (1,), "x = {\n    1  # one\n}\n"),
        ("x = (1, 2, 3)\n", (0,), "x = (2, 3)\n"),
        ("x = (1, 2)\n", (0,), "x = (2,)\n"),  # still a tuple
        ("x = (\n    1,  # one\n    2  # two\n)\n", (1,), "x = (\n    1,  # one\n)\n"),
        ("x = 1, 2\n", (0,), "x = 2,\n"),
    ],
)
def test_removing_the_first_or_last_entry_of_a_list_set_or_tuple(
    source: str, indexes: tuple[int, ...], expected: str
) -> None:
    out = removed_entries(source, indexes)
    assert out == expected
    compile(out, "x.py", "exec")


def test_removed_statements_hand_their_comment_to_the_next_one_that_stays() -> None:
    module = cst.parse_module("import os\n# about x and y\nx = 1\ny = 2\nz = 3\n")
    fix = Fix("safe", "remove", (Remove(module.body[1]), Remove(module.body[2])))
    assert apply(module, [fix]).code == "import os\n# about x and y\nz = 3\n"


def test_apply_without_changes_returns_the_module_itself() -> None:
    module = cst.parse_module("import modal\n")
    assert apply(module, []) is module
    assert apply(module, [Fix("safe", "nothing", ())]) is module


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"""Doc."""\nimport os\n', '"""Doc."""\nimport os\nimport modal\n'),  # only imports: at the end
        ("import os\nimport modal\nx = 1\n", "import os\nimport modal\nx = 1\n"),  # already there
    ],
)
def test_add_import(source: str, expected: str) -> None:
    assert add_import(cst.parse_module(source), "modal").code == expected


# ---- the fixer: imports next to the ones it removes -----------------------------------------------
def test_two_removed_import_lines_keep_the_comment_above_them() -> None:
    source = "import modal\n# about gpu\nfrom modal import gpu\nfrom modal.gpu import A100\nx = 1\n"
    assert fixed(source) == "import modal\n# about gpu\nx = 1\n"


def test_removing_the_first_name_of_an_import_without_parentheses() -> None:
    source = 'from modal import gpu, App\napp = App()\n@app.function(timeout=60, gpu="T4")\ndef f(): ...\n'
    assert fixed(source) == 'from modal import App\napp = App()\n@app.function(timeout=60, gpu="T4")\ndef f(): ...\n'


def test_a_star_import_in_a_fixed_file_stays() -> None:
    source = "from os import *\n" + APP + "@app.function(timeout=60, keep_warm=1)\ndef f(): ...\n"
    assert fixed(source) == "from os import *\n" + APP + "@app.function(timeout=60, min_containers=1)\ndef f(): ...\n"


# ---- MGL008 on the imports of modal.gpu ----------------------------------------------------------
def test_an_aliased_modal_gpu_import_goes_once_its_name_is_unused() -> None:
    source = APP.replace("import modal\n", "import modal\nimport modal.gpu as g\n") + (
        "@app.function(gpu=g.H100(count=2), timeout=60)\ndef f(): ...\n"
    )
    assert fixed(source) == APP + '@app.function(gpu="H100:2", timeout=60)\ndef f(): ...\n'


def test_modal_gpu_among_other_imports_is_reported_and_left_to_the_user() -> None:
    source = "import os, modal.gpu\n" + APP + '@app.function(gpu="H100", timeout=60)\ndef f(): ...\n'
    result = fix_bytes("x.py", source.encode(), SETTINGS)
    assert result.error is None
    assert result.new_bytes is None
    assert [(d.code, d.row, d.column, d.fix_applicability) for d in result.diagnostics] == [("MGL008", 1, 12, None)]
