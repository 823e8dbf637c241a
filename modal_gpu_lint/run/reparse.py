"""Parse a document again after an edit, re-parsing only the top-level statements it touched.

An editor sends a new text on every keystroke; parsing 1,000 lines with libcst takes most of the
time the language server has. `Reparser.parse` keeps the last tree and where each top-level
statement starts, finds the changed stretch (common prefix and suffix of the two texts), and
parses only the statements that hold it plus one neighbour on each side, as a text of its own.
The new statements replace the old ones in a copy of the tree. The result is used only when the
new statements' code is exactly the re-parsed text, and the part does not border on the module's
header or footer (which lines those take is for a whole parse to decide) unless it starts or ends
the file; anything else (a syntax error, a change of indentation style) falls back to a whole parse, which
also raises the error the user should see.

The prefix before the stretch is unchanged and ends at a top-level statement boundary, so the
tokenizer is in the same state there in both texts; the neighbour after the edited statements is
unchanged, so what follows it is read as before.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modal_gpu_lint.analysis.source import Source
from modal_gpu_lint.run.engine import parse

if TYPE_CHECKING:
    import libcst as cst


@dataclass
class _Last:
    text: str
    source: Source
    module: cst.Module
    starts: list[int]  # offset of each top-level statement, then the end of the body


class Reparser:
    """The last parse of one document, reused for the next one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.last: _Last | None = None
        self.partial = 0  # parses that re-used the last tree (for tests and the benchmark)

    def parse(self, text: str) -> tuple[Source, cst.Module]:
        """Parse `text` (FileErrorException when it does not parse), re-using the last tree when it can."""
        last = self.last
        if last is not None and text == last.text:
            return last.source, last.module
        if last is not None:
            quick = _reparse(last, text)
            if quick is not None:
                self.partial += 1
                module, starts = quick
                self.last = _Last(text, last.source, module, starts)
                return last.source, module
        self.last = None
        source, module = parse(self.path, text.encode("utf-8"))
        found = _starts(module, source.text) if source.text == text else None
        if found is not None:
            self.last = _Last(text, source, module, found)
        return source, module


def _starts(module: cst.Module, text: str) -> list[int] | None:
    """Where each top-level statement starts in `text`, and where the body ends (None: no match)."""
    offset = sum(len(module.code_for_node(line)) for line in module.header)
    out = []
    for statement in module.body:
        out.append(offset)
        offset += len(module.code_for_node(statement))
    out.append(offset)
    footer = sum(len(module.code_for_node(line)) for line in module.footer)
    return out if offset + footer == len(text) else None


def _common_prefix(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:  # binary search with C-speed slice compares
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _reparse(last: _Last, text: str) -> tuple[cst.Module, list[int]] | None:
    old, starts, module = last.text, last.starts, last.module
    count = len(module.body)
    if count == 0:
        return None
    prefix = _common_prefix(old, text)
    limit = min(len(old), len(text)) - prefix
    suffix = _common_prefix(old[::-1][:limit], text[::-1][:limit])
    old_end, delta = len(old) - suffix, len(text) - len(old)
    body_end = starts[-1]
    if prefix < starts[0] or old_end > body_end:  # the edit touches the header or the footer
        return None
    first = max(bisect.bisect_right(starts, prefix) - 1 - 1, 0)
    last_index = min(max(bisect.bisect_right(starts, max(old_end - 1, prefix)) - 1, first) + 1, count - 1)
    at_start, at_end = first == 0, last_index == count - 1
    # Which lines the module's header and footer take is for a whole parse to decide, unless the
    # part starts the file (no header before it) or ends it (no footer after it): then it decides.
    if (at_start and module.header) or (at_end and module.footer):
        return None
    chunk_start, chunk_old_end = starts[first], starts[last_index + 1]
    chunk = text[chunk_start : chunk_old_end + delta]
    from modal_gpu_lint.analysis.cst_parse import parse_module
    from modal_gpu_lint.analysis.nesting import nesting_problem

    try:
        if not chunk.endswith(("\n", "\r")) or nesting_problem(chunk, "<chunk>") is not None:
            return None
        part = parse_module(chunk)
    except Exception:  # a syntax error or worse: the whole parse reports it properly
        return None
    if not part.body or part.default_newline != module.default_newline or part.default_indent != module.default_indent:
        return None
    new = list(part.body)
    header = list(part.header) if at_start else list(module.header)
    if part.header and not at_start:
        new[0] = new[0].with_changes(leading_lines=[*part.header, *new[0].leading_lines])
    after = list(module.body[last_index + 1 :])
    footer = list(part.footer) if at_end else list(module.footer)
    if part.footer and not at_end:
        after[0] = after[0].with_changes(leading_lines=[*part.footer, *after[0].leading_lines])
    combined = module.with_changes(header=header, body=[*module.body[:first], *new, *after], footer=footer)
    head = sum(len(combined.code_for_node(line)) for line in part.header) if at_start else 0
    lengths = [len(combined.code_for_node(statement)) for statement in new]
    moved = sum(len(combined.code_for_node(line)) for line in part.footer)
    if head + sum(lengths) + moved != len(chunk):
        return None
    offset = chunk_start + head
    new_starts = starts[:first]
    for length in lengths:
        new_starts.append(offset)
        offset += length
    if "".join(combined.code_for_node(s) for s in new) != text[chunk_start + head : offset]:
        return None
    if at_end:
        new_starts.append(offset)  # the body ends where the part's footer starts
    else:
        new_starts.extend(s + delta - (moved if i == 0 else 0) for i, s in enumerate(starts[last_index + 1 :]))
    return combined, new_starts
