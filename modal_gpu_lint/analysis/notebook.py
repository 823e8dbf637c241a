"""Jupyter notebooks as one Python program: the code cells in order, magics masked, and back.

`read_notebook` joins the code cells into one text (so a cell sees the names of earlier cells),
each cell after a marker comment line, with IPython syntax (`%pip`, `!nvidia-smi`, `x = !ls`,
`obj?`) replaced by `pass` (or a comment, for continuation lines) that names the line it stands
for. Cells run by a non-Python cell magic (`%%bash`, `%%writefile`) are left out. `rows` maps each
line of the text back to (cell, line in the cell). `write_back` splits a fixed text at the markers,
puts the magics back and writes the notebook JSON in the layout it was read in; it refuses
(`NotebookError`) rather than lose a cell, a magic or a line.

Cells are numbered from 1 by their place in the notebook, markdown cells included.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from modal_gpu_lint.findings import Diagnostic, Edit

SUFFIX = ".ipynb"
# Cell magics whose body is Python: the body is linted, the `%%` line masked.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})
_MARKER = "# modal-gpu-lint cell {}"
_MARKER_RE = re.compile(r"^# modal-gpu-lint cell (\d+)$")
_MAGIC_RE = re.compile(r"^[ \t]*(?:pass  )?# modal-gpu-lint magic (\d+)$")
_IPYTHON_LINE = re.compile(
    r"""^[ \t]*(?:
        [%!]                                  # %pip install, !nvidia-smi, %%time (first line)
      | [A-Za-z_][\w.]*[ \t]*=[ \t]*[%!]        # files = !ls, t = %timeit -o f()
      | \?\??[A-Za-z_]                          # ?obj
      | [A-Za-z_][\w.]*\?\??[ \t]*$             # obj?  obj??
    )""",
    re.VERBOSE,
)


class NotebookError(ValueError):
    """A file that is not a notebook this tool can read or write; `row`/`column` 1-based, 0 if unknown."""

    def __init__(self, message: str, row: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


def is_notebook(path: str) -> bool:
    """Whether `path` names a Jupyter notebook (by its suffix)."""
    return path.lower().endswith(SUFFIX)


@dataclass
class Notebook:
    """A notebook read for linting: its JSON, the joined Python text, and the way back."""

    data: dict[str, Any]
    text: str
    rows: list[tuple[int, int] | None]  # text row - 1 -> (cell, row in cell); None on a marker line
    cells: dict[int, list[str]]  # cell number -> its lines as written (code cells)
    magics: dict[int, str] = field(default_factory=dict)  # placeholder number -> the line it stands for
    skipped: frozenset[int] = frozenset()  # code cells not linted (a non-Python cell magic, or left out)
    raw: str = ""  # the JSON text as read, to write it back in the same layout
    python: bool = True  # False: the kernel is not Python, nothing is linted

    def locate(self, row: int) -> tuple[int, int]:
        """(cell, row in cell) of a row of `text` (a marker row counts as the first row of its cell)."""
        index = min(max(row, 1), len(self.rows)) - 1 if self.rows else 0
        for at in range(index, len(self.rows)):
            spot = self.rows[at]
            if spot is not None:
                return spot if at == index else (spot[0], 1)
        return (0, row)

    def to_cells(self, d: Diagnostic) -> Diagnostic:
        """A diagnostic on `text`, moved to its cell (the end is kept in the cell of the start)."""
        cell, row = self.locate(d.row)
        end_cell, end_row = self.locate(d.end_row)
        end_column = d.end_column
        if end_cell != cell:  # cannot happen for a statement; keep the span in one cell anyway
            end_row, end_column = row, d.column + 1
        edits = tuple(self._edit(e) for e in d.edits)
        return Diagnostic(
            path=d.path,
            code=d.code,
            message=d.message,
            row=row,
            column=d.column,
            end_row=end_row,
            end_column=end_column,
            fix_applicability=d.fix_applicability,
            fix_message=d.fix_message,
            edits=edits,
            cell=cell,
        )

    def _edit(self, e: Edit) -> Edit:
        _, row = self.locate(e.row)
        _, end_row = self.locate(e.end_row)
        return Edit(e.content, row, e.column, end_row, e.end_column)


def read_notebook(data: bytes) -> Notebook:
    """Parse notebook JSON and join its code cells; NotebookError when it is not a notebook."""
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NotebookError(f"cannot read notebook: not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        notebook = json.loads(raw)
    except json.JSONDecodeError as error:
        raise NotebookError(f"cannot read notebook: not valid JSON ({error.msg})", error.lineno, error.colno) from None
    except RecursionError:
        raise NotebookError("cannot read notebook: JSON nested too deeply") from None
    if not isinstance(notebook, dict):
        raise NotebookError("not a Jupyter notebook: the JSON is not an object")
    if "worksheets" in notebook and "cells" not in notebook:
        raise NotebookError("not supported: an nbformat 3 notebook (open and save it in Jupyter to upgrade it)")
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("not a Jupyter notebook: no 'cells' list")
    out = Notebook(notebook, "", [], {}, raw=raw, python=_is_python(notebook))
    lines: list[str] = []
    skipped: set[int] = set()
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell_source(cell, number)
        cell_lines = source.split("\n")
        if cell_lines[-1] == "":
            cell_lines.pop()
        out.cells[number] = cell_lines
        first = next((line for line in cell_lines if line.strip()), "")
        if first.startswith("%%") and first[2:].split(" ")[0].strip() not in PYTHON_CELL_MAGICS:
            skipped.add(number)
            continue
        lines.append(_MARKER.format(number))
        out.rows.append(None)
        continuation = False
        for row, line in enumerate(cell_lines, start=1):
            masked = continuation or _IPYTHON_LINE.match(line) is not None
            if masked:
                key = len(out.magics) + 1
                out.magics[key] = line
                indent = line[: len(line) - len(line.lstrip(" \t"))]
                lines.append(f"{indent}{'' if continuation else 'pass  '}# modal-gpu-lint magic {key}")
                continuation = line.endswith("\\")
            else:
                lines.append(line)
            out.rows.append((number, row))
    out.skipped = frozenset(skipped)
    out.text = "\n".join(lines) + "\n" if lines else ""
    return out


def cell_source(cell: dict[str, Any], number: int) -> str:
    """A cell's source as one string (Jupyter stores a list of lines or a string)."""
    source = cell.get("source", "")
    if isinstance(source, str):
        return source.replace("\r\n", "\n")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source).replace("\r\n", "\n")
    raise NotebookError(f"not a Jupyter notebook: cell {number} has a source that is not text")


def without_cells(notebook: Notebook, bad: set[int]) -> Notebook:
    """The notebook with cells `bad` left out of the joined text (they cannot be parsed)."""
    keep_lines: list[str] = []
    keep_rows: list[tuple[int, int] | None] = []
    current = 0
    for line, spot in zip(notebook.text.split("\n"), notebook.rows, strict=False):
        match = _MARKER_RE.match(line) if spot is None else None
        if match:
            current = int(match[1])
        if current in bad:
            continue
        keep_lines.append(line)
        keep_rows.append(spot)
    text = "\n".join(keep_lines) + "\n" if keep_lines else ""
    return Notebook(
        notebook.data,
        text,
        keep_rows,
        notebook.cells,
        notebook.magics,
        notebook.skipped | bad,
        notebook.raw,
        notebook.python,
    )


def cell_texts(notebook: Notebook) -> dict[int, str]:
    """The joined text of each linted cell (with its magics masked), for parsing cells one by one."""
    out: dict[int, list[str]] = {}
    for line, spot in zip(notebook.text.split("\n"), notebook.rows, strict=False):
        if spot is not None:
            out.setdefault(spot[0], []).append(line)
    return {number: "\n".join(lines) + "\n" for number, lines in out.items()}


def write_back(notebook: Notebook, fixed: str) -> bytes:
    """The notebook with its linted cells replaced by their part of `fixed`, in its own layout."""
    parts: dict[int, list[str]] = {}
    order: list[int] = []
    before: list[str] = []  # text a fix put above the first marker (an added import)
    current: int | None = None
    lines = fixed.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        match = _MARKER_RE.match(line)
        if match:
            current = int(match[1])
            if current in parts:
                raise NotebookError(f"left unchanged: cell {current} would appear twice (please report this)")
            parts[current] = []
            order.append(current)
        elif current is None:
            before.append(line)
        else:
            parts[current].append(line)
    linted = [n for n in notebook.cells if n not in notebook.skipped]
    if order != linted:
        raise NotebookError("left unchanged: the fixes moved the cell boundaries (please report this)")
    if before:
        parts[order[0]] = before + parts[order[0]]
    seen: set[int] = set()
    cells = notebook.data["cells"]
    for number in order:
        restored = []
        for line in parts[number]:
            magic = _MAGIC_RE.match(line)
            if magic:
                key = int(magic[1])
                if key not in notebook.magics or key in seen:
                    raise NotebookError("left unchanged: the fixes changed a magic line (please report this)")
                seen.add(key)
                restored.append(notebook.magics[key])
            else:
                restored.append(line)
        cell = cells[number - 1]
        old = cell_source(cell, number)
        new = "\n".join(restored) + ("\n" if old.endswith("\n") else "")
        if new != old:
            cell["source"] = new.splitlines(keepends=True) if isinstance(cell.get("source"), list) else new
    if seen != set(notebook.magics):
        raise NotebookError("left unchanged: the fixes removed a magic line (please report this)")
    return dump(notebook.data, _layout(notebook.raw))


def dump(data: dict[str, Any], layout: tuple[int | None, bool, bool]) -> bytes:
    """Notebook JSON in a given layout (Jupyter's own: indent 1, UTF-8 as is, a final newline)."""
    indent, ensure_ascii, newline = layout
    text = json.dumps(data, indent=indent, ensure_ascii=ensure_ascii)
    return (text + ("\n" if newline else "")).encode("utf-8")


def _layout(raw: str) -> tuple[int | None, bool, bool]:
    """The `json.dumps` options that give back `raw` exactly, when there are some (Jupyter's first)."""
    newline = raw.endswith("\n")
    data = json.loads(raw)  # as read: the notebook's own data now holds the new sources
    second = raw.split("\n", 2)[1] if raw.count("\n") >= 2 else ""
    guess = len(second) - len(second.lstrip(" ")) if second.strip() else None
    for indent in dict.fromkeys((guess, 1, 2, 4, None)):
        for ensure_ascii in (False, True):
            if dump(data, (indent, ensure_ascii, newline)).decode("utf-8") == raw:
                return (indent, ensure_ascii, newline)
    return (1, False, newline)


def _is_python(notebook: dict[str, Any]) -> bool:
    metadata = notebook.get("metadata")
    if not isinstance(metadata, dict):
        return True
    for key, inner in (("language_info", "name"), ("kernelspec", "language")):
        table = metadata.get(key)
        if isinstance(table, dict) and isinstance(table.get(inner), str):
            return bool(table[inner].lower() == "python")
    return True
