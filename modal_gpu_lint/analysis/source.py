"""Reading Python source files as Python does: encoding cookies, BOMs, any line endings."""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
from dataclasses import dataclass

_LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Physical lines as Python counts them: only `\\n`, `\\r\\n` and `\\r` end a line
    (`str.splitlines` also splits at form feeds and other separators, shifting rows)."""
    lines = _LINE_END.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


class SourceError(Exception):
    """A file that cannot be read or decoded; `row`/`column` are 1-based, 0 when unknown."""

    def __init__(self, message: str, row: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Source:
    """A decoded file, with what is needed to write it back byte for byte."""

    text: str  # without the BOM
    encoding: str
    bom: bool

    def encode(self, text: str) -> bytes:
        """`text` in this file's encoding, BOM included when the file had one."""
        data = text.encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.bom else data


def decode(data: bytes) -> Source:
    """Decode source bytes like the interpreter (PEP 263 cookie, UTF-8 BOM, default UTF-8)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise SourceError(f"cannot decode: {error.msg}", _cookie_row(data), 1) from None
    bom = data.startswith(codecs.BOM_UTF8)
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        # The position in characters, as an editor shows it.
        row, column = row_col(body[: error.start].decode(encoding, errors="replace"))
        raise SourceError(
            f"cannot decode as {encoding}: {error.reason} (byte {body[error.start]:#04x})", row, column
        ) from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the coding cookie", 1) from None
    return Source(text, encoding, bom)


def row_col(text: str, index: int | None = None) -> tuple[int, int]:
    """1-based row and column (in characters) of `text[index]` (default: the end of `text`)."""
    prefix = text if index is None else text[:index]
    row, start = 1, 0
    for match in _LINE_END.finditer(prefix):
        row, start = row + 1, match.end()
    return row, len(prefix) - start + 1


def _cookie_row(data: bytes) -> int:
    """The line of the coding cookie (1 or 2), or 1."""
    lines = data.splitlines()[:2]
    for row, line in enumerate(lines, start=1):
        if b"coding" in line and line.lstrip().startswith(b"#"):
            return row
    return 1


def nul_position(text: str) -> tuple[int, int] | None:
    """Where the first NUL character is (Python refuses source that contains one), or None."""
    index = text.find("\x00")
    return None if index < 0 else row_col(text, index)


def python_syntax_error(text: str, path: str) -> tuple[str, int, int] | None:
    """Python's own message, row and column for a syntax error in `text`, or None if Python parses it.

    Used only after libcst has failed, for a message users know ("'(' was never closed")."""
    try:
        compile(text, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        return error.msg, error.lineno or 0, error.offset or 0
    except (ValueError, RecursionError, MemoryError, OverflowError):
        return None
    return None
