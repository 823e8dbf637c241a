"""Output formats: text (with the source line), concise, json."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from .findings import Diagnostic
from .rules import RULES

FORMATS = ("text", "concise", "json")


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _style(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def concise(d: Diagnostic, color: bool = False) -> str:
    """`path:row:col: CODE [*] message` (the `[*]` marks a safe fix)."""
    mark = "[*] " if d.fix_applicability == "safe" else ""
    where = _style(f"{d.path}:{d.row}:{d.column}:", "1", color)
    return f"{where} {_style(d.code, '1;31', color)} {mark}{d.message}"


def full(d: Diagnostic, lines: Sequence[str], color: bool = False) -> str:
    """The concise line, then the source line with a caret under the finding."""
    out = [concise(d, color)]
    if 0 < d.row <= len(lines):
        source = lines[d.row - 1].expandtabs(1)
        width = (d.end_column - d.column) if d.end_row == d.row else len(source) - d.column + 1
        gutter = f"{d.row:>4} | "
        out.append(f"{gutter}{source}")
        caret = " " * (len(gutter) + d.column - 1) + "^" * max(1, width)
        out.append(_style(caret, "31", color))
        if d.fix_applicability is not None:
            label = "Safe fix" if d.fix_applicability == "safe" else "Unsafe fix"
            out.append(f"     = help: {d.fix_message} ({label})")
    return "\n".join(out)


def to_json(diagnostics: Sequence[Diagnostic]) -> str:
    """A JSON array shaped like ruff's `--output-format json`."""
    return json.dumps([_json_item(d) for d in diagnostics], indent=2)


def _json_item(d: Diagnostic) -> dict[str, Any]:
    fix = None
    if d.fix_applicability is not None:
        fix = {
            "applicability": d.fix_applicability,
            "message": d.fix_message,
            "edits": [
                {
                    "content": e.content,
                    "location": {"row": e.row, "column": e.column},
                    "end_location": {"row": e.end_row, "column": e.end_column},
                }
                for e in d.edits
            ],
        }
    return {
        "code": d.code,
        "message": d.message,
        "filename": os.path.abspath(d.path),
        "location": {"row": d.row, "column": d.column},
        "end_location": {"row": d.end_row, "column": d.end_column},
        "fix": fix,
        "noqa_row": d.noqa_row,
        "url": RULES[d.code].url,
    }


def statistics(diagnostics: Sequence[Diagnostic], stream: TextIO = sys.stdout) -> None:
    """Counts per code, most frequent first, like `ruff --statistics`."""
    counts = Counter(d.code for d in diagnostics)
    fixable = Counter(d.code for d in diagnostics if d.fix_applicability == "safe")
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        mark = "[*]" if fixable[code] == count else "[ ]" if not fixable[code] else "[-]"
        print(f"{count:>5}\t{code}\t{mark} {RULES[code].name}", file=stream)
