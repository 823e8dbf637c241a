"""`nesting.nesting_problem`: what libcst must never see, found cheaply and exactly.

The CLI-level behaviour (one clear error, the other files still linted) is in test_hostile.py;
here are the branches and the pruning: skipping short statements must never hide a deep one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from modal_gpu_lint.analysis import nesting
from modal_gpu_lint.analysis.nesting import MAX_DEPTH, ensure_recursion_limit, nesting_problem


def full_depth(text: str) -> int:
    """The weighted depth without any pruning: the reference the pruned walk must agree with."""
    tree = ast.parse(text)
    best = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        best = max(best, depth)
        step = len(node.values) - 1 if isinstance(node, ast.BoolOp) else 1
        stack.extend((child, depth + step) for child in ast.iter_child_nodes(node))
    return best


def chain(kind: str, length: int) -> str:
    return {
        "and": "a" + " and a" * length,
        "add": "1" + " + 1" * length,
        "attr": "a" + ".b" * length,
        "neg": "-" * length + "1",
        "call": "f" + "()" * length,
    }[kind]


WRAPPERS = [
    "x = {}",
    "def f():\n    return {}",
    "class C:\n    def m(self):\n        if x:\n            y = [1, 2, {}]",
    "x = (\n    {}\n)",
    "@decorator({})\ndef g(): ...",
    "for i in range(3):\n    print(i, {})",
    "LONG = {}  # " + "padding " * 40,
    'x = f"{{{}}}"',
    'x = f"""\n{{{}}}\n"""',
    "x = [i for i in range(3) if {}]",
    "match x:\n    case 1:\n        y = {}",
    "with open(p) as f, g({}) as h:\n    pass",
    "try:\n    pass\nexcept E:\n    z = {}",
]


def test_ordinary_code_passes() -> None:
    assert nesting_problem(Path(nesting.__file__).read_text(encoding="utf-8"), "nesting.py") is None
    assert nesting_problem("", "empty.py") is None


def test_a_deep_chain_is_reported_at_its_row_and_character_column() -> None:
    text = "import modal\n\u00e9\u00e9 = 1; x = " + chain("and", MAX_DEPTH + 5) + "\n"
    problem = nesting_problem(text, "deep.py")
    assert problem is not None
    message, row, column = problem
    assert f"more than {MAX_DEPTH} levels" in message
    assert row == 2
    assert column == len("\u00e9\u00e9 = 1; x = ") + 1  # characters, not UTF-8 bytes


@given(st.sampled_from(WRAPPERS), st.sampled_from(["and", "add", "attr", "neg", "call"]), st.integers(-30, 30))
def test_pruning_never_hides_a_deep_node(wrapper: str, kind: str, offset: int) -> None:
    text = "import modal\n" + wrapper.format(chain(kind, MAX_DEPTH + offset)) + "\n"
    expected = full_depth(text) > MAX_DEPTH
    assert (nesting_problem(text, "x.py") is not None) == expected


def test_python_errors_that_mean_danger_are_reported() -> None:
    problem = nesting_problem("x = " + "[" * 300 + "]" * 300 + "\n", "brackets.py")
    assert problem is not None
    assert "too many nested parentheses" in problem[0]
    assert problem[1] == 1
    problem = nesting_problem("x = " + "-" * 100_000 + "1\n", "negations.py")
    assert problem == ("nested too deeply: Python itself cannot compile this file", 0, 0)


def test_other_syntax_errors_are_left_to_libcst_unless_the_text_looks_dangerous() -> None:
    assert nesting_problem('print "x"\n', "py2.py") is None  # libcst (or its error message) decides
    long_line = 'print "x"\nX = "' + "a" * 20_000 + '"\n'
    problem = nesting_problem(long_line, "py2.py")
    assert problem is not None
    assert problem[1] == 1
    assert problem[2] >= 1
    brackets_in_strings = 'print "x"\nX = "' + "(" * 150 + '"\n'  # counted naively: still refused
    assert nesting_problem(brackets_in_strings, "py2.py") is not None


def test_recursion_limit_is_raised_never_lowered() -> None:
    before = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(nesting.RECURSION_LIMIT * 2)
        ensure_recursion_limit()
        assert sys.getrecursionlimit() == nesting.RECURSION_LIMIT * 2
        sys.setrecursionlimit(1000)
        ensure_recursion_limit()
        assert sys.getrecursionlimit() == nesting.RECURSION_LIMIT
    finally:
        sys.setrecursionlimit(max(before, nesting.RECURSION_LIMIT))
