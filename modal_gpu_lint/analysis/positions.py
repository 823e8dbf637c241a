"""Line and column of a few CST nodes, without libcst's whole-tree metadata providers.

libcst's PositionProvider costs about four parses per file. Findings are rare, so positions are
computed only for files with findings, by one code generation pass that counts characters and
records only the nodes asked for, stopping as soon as all of them are seen.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Span:
    """A source range: 1-based rows, 1-based columns (characters), end exclusive."""

    row: int
    column: int
    end_row: int
    end_column: int
    start_offset: int
    end_offset: int


class _Done(Exception):
    pass


class _CountingState(CodegenState):
    """A codegen state that only counts characters and notes the targets' offsets."""

    def __init__(self, module: cst.Module, targets: set[int]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.offset = 0
        self.targets = targets
        self.pending = set(targets)
        self.found: dict[int, tuple[int, int]] = {}
        self._open: dict[int, int] = {}

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.offset += len(value)

    def pop_trailing_newline(self) -> None:
        pass

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.pending and key not in self._open:
            self._open[key] = self.offset

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.pending:
            self.found.setdefault(key, (self._open[key], self.offset))
            self.pending.discard(key)
            if not self.pending:
                raise _Done

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        key = id(node)
        if key not in self.pending:
            yield
            return
        start = self.offset
        yield
        # Syntactic positions exclude owned whitespace, as libcst's PositionProvider does.
        self.found[key] = (start, self.offset)


class LineIndex:
    """Maps character offsets of a text to 1-based rows and columns."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def row_col(self, offset: int) -> tuple[int, int]:
        row = bisect.bisect_right(self.starts, offset)
        return row, offset - self.starts[row - 1] + 1


def node_spans(module: cst.Module, nodes: Iterable[cst.CSTNode], index: LineIndex) -> dict[int, Span]:
    """Spans of `nodes` (keyed by `id(node)`) in the text `module` was parsed from."""
    targets = {id(n) for n in nodes}
    if not targets:
        return {}
    state = _CountingState(module, targets)
    with suppress(_Done):
        module._codegen(state)
    spans: dict[int, Span] = {}
    for key, (start, end) in state.found.items():
        row, col = index.row_col(start)
        end_row, end_col = index.row_col(end)
        spans[key] = Span(row, col, end_row, end_col, start, end)
    return spans
