"""Reading a line of source around the editor's cursor: the `gpu=` value there, or the start of
one being typed. Plain text, no parse: it must work on a line that does not parse yet."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_STRING = r"""(?:[rRuU]?(?:"[^"\\\n]*(?:\\.[^"\\\n]*)*"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'))"""
# gpu="H100", gpu = 'A10:2', gpu=["H100", "A100-80GB"], gpu: str = "L4" (a parameter default)
_VALUE = re.compile(
    rf"""\bgpu(?:\s*:\s*[\w.\[\]| ]+?)?\s*=\s*(?P<value>{_STRING}|\[\s*(?:{_STRING}\s*,\s*)*(?:{_STRING}\s*)?,?\s*\])"""
)
# The text before the cursor when it is inside an open string of a `gpu=` value.
_OPEN = re.compile(
    rf"""\bgpu(?:\s*:\s*[\w.\[\]| ]+?)?\s*=\s*\[?\s*(?:{_STRING}\s*,\s*)*(?P<quote>["'])(?P<typed>[^"'\\]*)$"""
)


@dataclass(frozen=True)
class GpuValue:
    """A `gpu=` value written as literals on one line: its strings and where it is (0-based columns)."""

    values: tuple[str, ...]
    is_list: bool
    start: int  # the `g` of `gpu`
    end: int  # after the value


def gpu_value_at(line: str, column: int) -> GpuValue | None:
    """The `gpu=` value whose text (from `gpu` to the end of the value) holds `column`, if any."""
    for match in _VALUE.finditer(line):
        if match.start() <= column <= match.end():
            try:
                value = ast.literal_eval(match["value"])
            except (ValueError, SyntaxError):
                return None
            if isinstance(value, str):
                return GpuValue((value,), False, match.start(), match.end())
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return GpuValue(tuple(value), True, match.start(), match.end())
            return None
    return None


@dataclass(frozen=True)
class Typing:
    """The part of a GPU string typed so far, before the cursor (0-based column where it starts)."""

    typed: str
    start: int


def gpu_string_being_typed(line: str, column: int) -> Typing | None:
    """When the cursor is inside the quotes of a `gpu=` string (or of an entry of a `gpu=[...]`)."""
    match = _OPEN.search(line[:column])
    if match is None:
        return None
    return Typing(match["typed"], match.start("typed"))
