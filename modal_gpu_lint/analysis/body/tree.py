"""Small, fast libcst helpers of the body reader: children in source order, arguments by name or place."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

from modal_gpu_lint.analysis.walk import is_node, is_noise, may_hold_code

_FIELDS: dict[type, tuple[str, ...]] = {}

_CODE: dict[type, bool] = {}  # per concrete node type: can it hold code? (ABC checks are slow)


def _is_code(kind: type) -> bool:
    known = _CODE.get(kind)
    if known is None:
        known = _CODE[kind] = is_node(kind) and not is_noise(kind)
    return known


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes of `node` that can hold code, in source order."""
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:  # fields that can hold code at all, by their annotation (not whitespace, `str`...)
        names = tuple(f.name for f in dataclasses.fields(node) if may_hold_code(f.type))
        _FIELDS[kind] = names
    out: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        value_kind = type(value)
        if value_kind is list or value_kind is tuple:
            out.extend(v for v in value if _is_code(type(v)))
        elif _is_code(value_kind):
            out.append(value)
    return out


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional_arg(call: cst.Call, index: int) -> cst.BaseExpression | None:
    positional = [a for a in call.args if a.keyword is None]
    for arg in positional[: index + 1]:
        if arg.star:
            return None
    return positional[index].value if index < len(positional) else None


def walk_expr(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node` (itself included), not entering nested functions."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and isinstance(current, (cst.Lambda, cst.FunctionDef)):
            continue
        stack.extend(reversed(children(current)))
