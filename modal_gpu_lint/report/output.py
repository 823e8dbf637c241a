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
from modal_gpu_lint.run.engine import FileError

FORMATS = ("text", "concise", "json", "sarif", "github")

# A file that could not be read, decoded or parsed: not a rule (no select, ignore or noqa reaches
# it), but a diagnostic with this code in every format, so that every consumer sees why a run failed.
FILE_ERROR_CODE = "MGL000"
FILE_ERROR_NAME = "unreadable-file"
FILE_ERROR_SUMMARY = "A file (or a path given on the command line) that could not be read, decoded or parsed."

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


def severity(d: Diagnostic) -> str:
    """What text output shows: the rule's level, or "upgrade" for an upgrade note."""
    return d.severity or level(d.code)


def diagnostic_level(d: Diagnostic) -> str:
    """The SARIF level of one diagnostic: an upgrade note is a "note"."""
    return "note" if d.severity == "upgrade" else level(d.code)


def file_error(error: FileError) -> Diagnostic:
    """A file that could not be checked, as a diagnostic (row and column 1 when not known)."""
    row, column = error.row or 1, error.column or 1
    return Diagnostic(error.path, FILE_ERROR_CODE, error.message, row, column, row, column, cell=error.cell)


def rule_name(code: str) -> str:
    """The name of a rule code (or of the file-error code)."""
    return FILE_ERROR_NAME if code == FILE_ERROR_CODE else RULES[code].name


FILE_ERROR_URL = "docs/output-formats.md#mgl000"  # relative to the source tree, like the rules' (rules/base.py)


def code_url(code: str) -> str:
    """Where a code is documented."""
    return FILE_ERROR_URL if code == FILE_ERROR_CODE else RULES[code].url


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _style(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def concise(d: Diagnostic, color: bool = False) -> str:
    """`path:row:col: CODE [*] message` (the `[*]` marks a safe fix); a finding that is not an
    error says its severity after the code: `CODE [warning] message`."""
    mark = "[*] " if d.fix_applicability == "safe" else ""
    kind = severity(d)
    shown = "" if kind == "error" else f"[{kind}] "
    where = _style(f"{where_in_file(d.path, d.cell)}:{d.row}:{d.column}:", "1", color)
    return f"{where} {_style(d.code, '1;31' if kind == 'error' else '1;33', color)} {shown}{mark}{d.message}"


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
        "url": code_url(d.code),
        "cell": d.cell,  # in a notebook: rows and columns count in this cell (from 1); else null
    }


def github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command that annotates the finding in the pull request."""
    properties = {
        "title": f"{d.code} ({rule_name(d.code)})",
        "file": github_path(d.path),
        "line": str(d.row),
        "col": str(d.column),
        "endLine": str(d.end_row),
        "endColumn": str(d.end_column),
    }
    if d.cell is not None:  # lines of the notebook's JSON are not lines of a cell: annotate the file
        for key in ("line", "col", "endLine", "endColumn"):
            del properties[key]
    return _workflow_command(_GITHUB_COMMANDS[diagnostic_level(d)], properties, in_cell(d) + d.message)


def github_error(path: str, message: str, row: int = 0, column: int = 0) -> str:
    """An `::error` annotation for a file that could not be read or parsed."""
    properties = {"title": f"{FILE_ERROR_CODE} ({FILE_ERROR_NAME})", "file": github_path(path)}
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


def statistics(diagnostics: Sequence[Diagnostic], stream: TextIO = sys.stdout, *, as_json: bool = False) -> None:
    """Counts per code, most frequent first, like `ruff --statistics` (with `as_json`, a JSON array
    of `{code, name, count, fixable}`, `fixable` counting the safe fixes)."""
    counts = Counter(d.code for d in diagnostics)
    fixable = Counter(d.code for d in diagnostics if d.fix_applicability == "safe")
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if as_json:
        rows = [{"code": c, "name": rule_name(c), "count": n, "fixable": fixable[c]} for c, n in ordered]
        print(json.dumps(rows, indent=2), file=stream)
        return
    for code, count in ordered:
        mark = "[*]" if fixable[code] == count else "[ ]" if not fixable[code] else "[-]"
        print(f"{count:>5}\t{code}\t{mark} {rule_name(code)}", file=stream)
