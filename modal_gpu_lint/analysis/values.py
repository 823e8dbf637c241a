"""What a `gpu=` (or `timeout=`) argument can be, as far as the source text says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keeps libcst out of the mypy plugin's import cost
    import libcst as cst


@dataclass(frozen=True)
class Unknown:
    """A value the source does not fix (a parameter, an attribute, an import...)."""


UNKNOWN = Unknown()


@dataclass(frozen=True)
class ListValue:
    """A list literal; its items are values too."""

    items: tuple[Value, ...]


@dataclass(frozen=True)
class OtherValue:
    """A literal of a type Modal never accepts for `gpu=` (a tuple, a dict, ...)."""

    description: str


@dataclass(frozen=True, eq=False)
class GpuObject:
    """A call of the removed `modal.gpu.X(...)` API, or the bare class `modal.gpu.X` (call None)."""

    call: cst.Call | None
    type_name: str  # the attribute after `modal.gpu.`, e.g. "A100"
    text: str | None = None  # the GPU string it meant, e.g. "A100-80GB:2" (None: arguments not known)


@dataclass(frozen=True)
class KnownType:
    """A GPU string whose type part (before the first `:`) is known and whose count is not:
    `f"A100-80G:{n}"` with `n` unknown."""

    type_text: str  # "A100-80G", "H200!"
    written: str  # the string with `{...}` for what is not known, for messages


Value = str | int | float | bool | None | ListValue | OtherValue | GpuObject | KnownType | Unknown


def describe(value: Value) -> str:
    """A short text for messages."""
    if isinstance(value, OtherValue):
        return value.description
    if isinstance(value, GpuObject):
        return f"modal.gpu.{value.type_name}(...)"
    if isinstance(value, ListValue):
        return "a list"
    if isinstance(value, KnownType):
        return repr(value.written)
    if isinstance(value, Unknown):
        return "an unknown value"
    return repr(value)
