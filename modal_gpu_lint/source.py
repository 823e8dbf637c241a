"""Reading Python source files as Python does: encoding cookies, BOMs, any line endings."""

from __future__ import annotations

import codecs
import io
import tokenize
from dataclasses import dataclass


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
        raise SourceError(f"cannot decode: {error.msg}", getattr(error, "lineno", 0) or 0) from None
    bom = data.startswith(codecs.BOM_UTF8)
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    body = data[len(codecs.BOM_UTF8):] if bom else data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        row = body.count(b"\n", 0, error.start) + 1
        column = error.start - (body.rfind(b"\n", 0, error.start) + 1) + 1
        raise SourceError(f"cannot decode as {encoding}: {error.reason} (byte {body[error.start]:#04x})", row, column) from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the coding cookie", 1) from None
    return Source(text, encoding, bom)
