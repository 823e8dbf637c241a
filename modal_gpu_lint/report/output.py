"""Output formats: text (with the source line), concise, json, github (sarif is in `sarif.py`)."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from modal_gpu_lint.findings import Diagnostic
from modal_gpu_lint.rules.table import RULES  # not .rules: that imports the checkers (and libcst)

FORMATS = ("text", "concise", "json", "sarif", "github")

# SARIF levels (and GitHub annotation kinds): "error" unless listed here.
_LEVELS = {
    "MGL009": "note",  # spelling only
    "MGL101": "warning",  # runs, but may be cut off after 300 s
    "MGL205": "warning",  # a deprecation warning in the client, not an error
    "MGL301": "note",  # advice
    "MGL302": "warning",
    "MGL303": "note",
}
_GITHUB_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def level(code: str) -> str:
    """The SARIF level of a rule: "error", "warning" or "note"."""
    return _LEVELS.get(code, "error")


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _style(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def concise(d: Diagnostic, color: bool = False) -> str:
    """`path:row:col: CODE [*] message` (the `[*]` marks a safe fix)."""
    mark = "[*] " if d.fix_applicability == "safe" else ""
    where = _style(f"{where_in_file(d.path, d.cell)}:{d.row}:{d.column}:", "1", color)
    return f"{where} {_style(d.code, '1;31', color)} {mark}{d.message}"


def where_in_file(path: str, cell: int | None) -> str:
    """`path`, or `path:cell N` for a finding in a notebook's cell (as ruff writes it)."""
    return path if cell is None else f"{path}:cell {cell}"


def in_cell(d: Diagnostic) -> str:
    """`cell N, line R, column C: ` before a notebook finding's message where a format has no cell field."""
    return "" if d.cell is None else f"cell {d.cell}, line {d.row}, column {d.column}: "


def full(d: Diagnostic, lines: Sequence[str], color: bool = False) -> str:
    """The concise line, then the source line with a caret under the finding."""
    out = [concise(d, color)]
    if 0 < d.row <= len(lines):
        source = _printable(lines[d.row - 1])
        end = d.end_column if d.end_row == d.row else len(source) + 1
        gutter = f"{d.row:>4} | "
        out.append(f"{gutter}{source}")
        before = _width(source[: d.column - 1])
        width = _width(source[d.column - 1 : end - 1])
        caret = " " * (len(gutter) + before) + "^" * max(1, width)
        out.append(_style(caret, "31", color))
        if d.fix_applicability is not None:
            label = "Safe fix" if d.fix_applicability == "safe" else "Unsafe fix"
            out.append(f"     = help: {d.fix_message} ({label})")
    return "\n".join(out)


def _printable(line: str) -> str:
    """The line as shown: a tab as one space, other control characters (escape sequences
    written in the source, form feeds) as U+FFFD, so columns stay one character each."""
    return "".join(" " if c == "\t" else "\ufffd" if unicodedata.category(c) == "Cc" else c for c in line)


def _width(text: str) -> int:
    """Terminal cells taken by `text`: wide East Asian characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


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
        "cell": d.cell,  # in a notebook: rows and columns count in this cell (from 1); else null
    }


def github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command that annotates the finding in the pull request."""
    properties = {
        "title": f"{d.code} ({RULES[d.code].name})",
        "file": github_path(d.path),
        "line": str(d.row),
        "col": str(d.column),
        "endLine": str(d.end_row),
        "endColumn": str(d.end_column),
    }
    if d.cell is not None:  # lines of the notebook's JSON are not lines of a cell: annotate the file
        for key in ("line", "col", "endLine", "endColumn"):
            del properties[key]
    return _workflow_command(_GITHUB_COMMANDS[level(d.code)], properties, in_cell(d) + d.message)


def github_error(path: str, message: str, row: int = 0, column: int = 0) -> str:
    """An `::error` annotation for a file that could not be read or parsed."""
    properties = {"title": "modal-gpu-lint", "file": github_path(path)}
    if row:
        properties["line"] = str(row)
        if column:
            properties["col"] = str(column)
    return _workflow_command("error", properties, message)


def github_path(path: str) -> str:
    """The path relative to the working folder (the repository root in a workflow) when inside it."""
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, os.getcwd())
    return absolute if rel.startswith("..") else rel.replace(os.sep, "/")


def _workflow_command(command: str, properties: dict[str, str], message: str) -> str:
    # Escaping from the runner's own rules (actions/toolkit, command.ts).
    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    props = ",".join(f"{key}={prop(value)}" for key, value in properties.items())
    return f"::{command} {props}::{data(message)}"


def statistics(diagnostics: Sequence[Diagnostic], stream: TextIO = sys.stdout) -> None:
    """Counts per code, most frequent first, like `ruff --statistics`."""
    counts = Counter(d.code for d in diagnostics)
    fixable = Counter(d.code for d in diagnostics if d.fix_applicability == "safe")
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        mark = "[*]" if fixable[code] == count else "[ ]" if not fixable[code] else "[-]"
        print(f"{count:>5}\t{code}\t{mark} {RULES[code].name}", file=stream)
