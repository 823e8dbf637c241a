"""Where a value that is not written at the call comes from, for messages: "GPU_TYPE (line 3)",
"the default of $GPUS_PER_NODE ('4')"."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from modal_gpu_lint.analysis.project_index import Constant
from modal_gpu_lint.analysis.resolve import ENV_GETTERS, Assigned, ImportedName, LoopItem, Resolver
from modal_gpu_lint.analysis.scopes import Scope
from modal_gpu_lint.analysis.value_ops import CONVERSIONS

LineOf = Callable[[cst.CSTNode], int | None]
_MAX_DEPTH = 12


_ANY = object()  # no particular value: every source of the expression counts


def origin(
    resolver: Resolver, expr: cst.BaseExpression, scopes: Sequence[Scope], line_of: LineOf, value: object = _ANY
) -> str | None:
    """Where `expr`'s value (or, given `value`, where that value of it) comes from when it is not a
    literal written here (None when it is): `"A100-80G" if big else OTHER` names OTHER only for
    OTHER's value."""
    found: list[str] = []
    _collect(resolver, expr, scopes, line_of, 0, found, value)
    unique = list(dict.fromkeys(found))
    return ", ".join(unique) if unique else None


def _collect(
    resolver: Resolver,
    expr: cst.BaseExpression,
    scopes: Sequence[Scope],
    line_of: LineOf,
    depth: int,
    out: list[str],
    value: object = _ANY,
) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(expr, cst.Name):
        found, where = resolver.lookup(expr.value, scopes)
        if len(found) != 1:
            return
        binding = found[0]
        if isinstance(binding, Assigned) and binding.value is not None:
            inner: list[str] = []
            _collect(resolver, binding.value, where, line_of, depth + 1, inner, value)
            if inner:
                out.extend(inner)  # an environment default says more than the name bound to it
            else:
                out.append(_named(expr.value, binding.value, line_of))
        elif isinstance(binding, LoopItem):
            out.append(_named(f"the loop variable {expr.value}", binding.iterable, line_of))
        elif isinstance(binding, ImportedName):
            constant = resolver.imported(binding.module, binding.name, binding.level)
            if constant is not None:
                out.append(_imported(expr.value, constant))
        return
    if isinstance(expr, cst.Attribute):
        option = resolver.parsed_option(expr, scopes)
        if option is not None:
            declared = _named(option.flag, option.call, line_of)
            out.append(f"the default of {declared}, which runs when {option.flag} is not given")
            return
        constant = resolver.module_attribute(expr, scopes)
        code = cst.Module([]).code_for_node(expr)
        out.append(_imported(code, constant) if constant is not None else code)
        return
    if isinstance(expr, cst.Call):
        _call(resolver, expr, scopes, line_of, depth, out)
        return
    children: list[cst.BaseExpression] = []
    if isinstance(expr, cst.FormattedString):
        children = [p.expression for p in expr.parts if isinstance(p, cst.FormattedStringExpression)]
    elif isinstance(expr, (cst.BinaryOperation, cst.BooleanOperation)):
        children = [expr.left, expr.right]
    elif isinstance(expr, cst.IfExp):
        for arm in (expr.body, expr.orelse):  # the arm(s) that can give `value`
            if value is _ANY or value in resolver.evaluate(arm, scopes):
                _collect(resolver, arm, scopes, line_of, depth + 1, out, value)
        return
    elif isinstance(expr, cst.UnaryOperation):
        children = [expr.expression]
    for child in children:
        _collect(resolver, child, scopes, line_of, depth + 1, out)


def _call(
    resolver: Resolver, expr: cst.Call, scopes: Sequence[Scope], line_of: LineOf, depth: int, out: list[str]
) -> None:
    func = expr.func
    if isinstance(func, cst.Name) and func.value in CONVERSIONS and len(expr.args) == 1:
        _collect(resolver, expr.args[0].value, scopes, line_of, depth + 1, out)
        return
    if resolver.qualify(func, scopes) not in ENV_GETTERS:
        return
    positional = [a for a in expr.args if a.keyword is None and not a.star]
    default = next((a for a in expr.args if a.keyword is not None and a.keyword.value == "default"), None)
    if default is None and len(positional) >= 2:
        default = positional[1]
    variable = positional[0].value if positional else None
    values = resolver.evaluate(default.value, scopes) if default is not None else []
    name = variable.evaluated_value if isinstance(variable, cst.SimpleString) else None
    if not isinstance(name, str) or len(values) != 1:
        return
    out.append(f"the default of ${name} ({values[0]!r}), which runs when ${name} is not set")


def _imported(name: str, constant: Constant) -> str:
    """`GPU_TYPE (settings.py:3)`, or the environment default it holds."""
    if constant.env is not None:
        variable, default = constant.env
        return f"the default of ${variable} ({default!r}) in {constant.where()}, which runs when ${variable} is not set"
    return f"{name} ({constant.where()})"


def _named(name: str, node: cst.CSTNode, line_of: LineOf) -> str:
    line = line_of(node)
    return f"{name} (line {line})" if line is not None else name
