"""Refuse, with a clear message, source that libcst's native parser would crash or stall on.

libcst (1.9) parses with a recursive native parser: about 1500 nested brackets or 10000 chained
`and`s kill the process with a segmentation fault (no exception, every other file's result
lost), and chains of a few thousand operators (`a[0][0]...`, `1+1+...`) take minutes, since
its cost grows with the square of the chain length. Python's own parser stops such input
cheaply and safely (200 nested brackets, 100 indentation levels), so each file is first
parsed by Python, and its tree measured, before libcst sees it.
"""

from __future__ import annotations

import ast
import re
import sys

# Deepest syntax tree handed to libcst (a chain of `and`s counts one level per operand, as
# libcst nests them). Python accepts about 3000; ordinary code stays below 50. At 1000 libcst
# needs a few seconds for the slowest shape (subscript chains) and the rules about 5000 frames.
MAX_DEPTH = 1000
# Python frames the parse-tree visitors need for MAX_DEPTH levels (about 5 per level), with room.
RECURSION_LIMIT = 10_000
# Above these, a file that Python rejects is not handed to libcst either: its error is reported.
_RISKY_BRACKETS = 100
_RISKY_LINE = 10_000
_BRACKET = re.compile(r"[\[\](){}]")
_LINE_END = re.compile(r"\r\n|\r|\n")


def ensure_recursion_limit() -> None:
    """Let the recursive parse-tree visitors go MAX_DEPTH levels deep (never lowers the limit)."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def nesting_problem(text: str, path: str) -> tuple[str, int, int] | None:
    """Why `text` must not be given to libcst: (message, row, column; 0 when unknown), or None."""
    return guard(text, path)[1]


def guard(text: str, path: str) -> tuple[ast.Module | None, tuple[str, int, int] | None]:
    """Python's tree of `text` (None when Python cannot build it) and `nesting_problem`'s answer."""
    try:
        tree = compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        # Newer syntax than this Python's is left to libcst, unless the text looks dangerous;
        # Python's message is what would be reported for a broken file anyway.
        if "too many nested" in error.msg or _risky(text):
            row = error.lineno or 0
            return None, (error.msg, row, max(error.offset or 1, 1) if row else 0)
        return None, None
    except (RecursionError, MemoryError):
        return None, ("nested too deeply: Python itself cannot compile this file", 0, 0)
    except (ValueError, OverflowError):  # NUL bytes and the like: left to the caller's checks
        return None, None
    assert isinstance(tree, ast.Module)
    return tree, tree_problem(tree, text)


def tree_problem(tree: ast.AST, text: str) -> tuple[str, int, int] | None:
    """`nesting_problem` for a file whose Python tree is already built (flake8 hands one over)."""
    deep = _too_deep(tree, _line_starts(text))
    if deep is None:
        return None
    row, column = deep
    line = _LINE_END.split(text)[row - 1] if row else ""
    column = len(line.encode("utf-8", "surrogatepass")[:column].decode("utf-8", "ignore")) + 1
    return f"nested more than {MAX_DEPTH} levels deep: too deep for this linter's parser (libcst)", row, column


def _risky(text: str) -> bool:
    """Deep brackets (counted naively, strings included) or a very long line."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(text):
        depth = depth + 1 if bracket in "([{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    if deepest >= _RISKY_BRACKETS:
        return True
    return any(len(line) >= _RISKY_LINE for line in _LINE_END.split(text))


def _line_starts(text: str) -> list[int]:
    """Offset of the start of each line (index 0 is line 1), as Python counts lines."""
    return [0] + [match.end() for match in _LINE_END.finditer(text)]


def _too_deep(tree: ast.AST, starts: list[int]) -> tuple[int, int] | None:
    """(row, byte column) of the node whose children lie deeper than MAX_DEPTH, or None.

    An explicit stack, no recursion. A node whose source span is short cannot hide a deep
    subtree (each level takes at least one character), so only long statements and
    expressions are walked into: the cost is about one step per statement.
    """
    stack: list[tuple[ast.AST, int, int, int]] = [(tree, 1, 1, 0)]
    last = len(starts)
    while stack:
        node, depth, row, column = stack.pop()
        row = getattr(node, "lineno", row)
        column = getattr(node, "col_offset", column)
        end_row = getattr(node, "end_lineno", None)
        end_column = getattr(node, "end_col_offset", None)
        decorated = bool(getattr(node, "decorator_list", None))  # its `lineno` is the `def` line, below them
        if end_row is not None and end_column is not None and 0 < row <= end_row <= last and not decorated:
            span = starts[end_row - 1] + end_column - starts[row - 1]  # bytes >= characters: an upper bound
            if depth + 2 * span + 2 < MAX_DEPTH:
                continue
        # libcst nests `a and b and c` as binary operations: one level per operand.
        step = len(node.values) - 1 if isinstance(node, ast.BoolOp) else 1
        for child in ast.iter_child_nodes(node):
            if depth + step > MAX_DEPTH:  # report the node whose operands go too deep: where the chain is
                return row, column
            stack.append((child, depth + step, row, column))
    return None
