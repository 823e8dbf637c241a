"""Parse a GPU string exactly as Modal's client does: `TYPE[!|+][:COUNT]`.

The client (`modal._utils.function_utils.parse_gpu_config`) splits at the first `:`, upper-cases
the type and reads the count with `int()`. This module mirrors that and adds what the server
rejects later (empty type, surrounding whitespace). It knows no GPU names: see `catalog`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modal_gpu_lint.facts.catalog import SUFFIXES

SpecErrorKind = Literal["empty", "whitespace", "count"]


@dataclass(frozen=True)
class GpuSpec:
    """A well-formed GPU string, split into its parts."""

    text: str
    type_text: str  # as written, without suffix and count, e.g. "a100-80gb"
    suffix: str  # "", "!" or "+"
    count: int
    count_text: str | None  # the text after ":", or None when there is no ":"

    @property
    def name(self) -> str:
        """The type upper-cased, as the client sends it (without suffix)."""
        return self.type_text.upper()


@dataclass(frozen=True)
class SpecError:
    """Why a GPU string is malformed, in words a user can act on."""

    text: str
    kind: SpecErrorKind
    message: str


def parse_spec(text: str) -> GpuSpec | SpecError:
    """Split `text` like Modal's client; return what is wrong instead of raising."""
    head, colon, count_text = text.partition(":")
    count = 1
    if colon:
        try:
            count = int(count_text)
        except ValueError:
            if not count_text:
                return SpecError(text, "count", "nothing follows ':' (write a count, or drop the ':')")
            return SpecError(text, "count", f"the count {count_text!r} after ':' is not a whole number")
    if not head.strip():
        return SpecError(text, "empty", "the GPU type is empty")
    if head != head.strip():
        return SpecError(text, "whitespace", "whitespace around the GPU type is sent to Modal as part of the name")
    suffix = head[-1] if head[-1] in SUFFIXES else ""
    type_text = head[:-1] if suffix else head
    if not type_text:
        return SpecError(text, "empty", "the GPU type is empty")
    return GpuSpec(text, type_text, suffix, count, count_text if colon else None)
