"""Small value operations the resolver applies: builtin conversions, and the attributes a module sets."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from modal_gpu_lint.analysis.values import UNKNOWN, Value
from modal_gpu_lint.analysis.walk import visit

CONVERSIONS = frozenset({"int", "str", "float"})


def convert(kind: str, value: Value) -> Value:
    """`int(value)`, `str(value)` or `float(value)` as Python computes it; UNKNOWN where it would raise
    or where the source does not fix the value."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return UNKNOWN
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        return str(value)
    except (ValueError, OverflowError):
        return UNKNOWN


def gpu_object_text(
    type_name: str, call: cst.Call | None, evaluate: Callable[[cst.BaseExpression], list[Value]]
) -> str | None:
    """The GPU string a removed `modal.gpu.X(...)` object meant: `A100(size="80GB", count=2)` is
    "A100-80GB:2", `T4(1)` is "T4", the bare class `H100` is "H100" (modal-facts.md, "Old object
    API"); None when an argument is not known or not one the old API took."""
    name = type_name.upper()
    size: str | None = None
    count = 1
    for index, arg in enumerate(call.args if call is not None else ()):
        keyword = arg.keyword.value if arg.keyword is not None else ("count" if index == 0 else None)
        values = evaluate(arg.value) if not arg.star else []
        if keyword is None or len(values) != 1:
            return None
        value = values[0]
        if keyword == "count" and isinstance(value, int) and not isinstance(value, bool):
            count = value
        elif keyword == "size" and isinstance(value, str):
            size = value.strip().upper()
        elif keyword == "memory" and isinstance(value, int) and not isinstance(value, bool):
            size = f"{value}GB"  # older clients: `A100(memory=80)`
        else:
            return None
    if size:
        name = f"{name}-{size}"
    return name if count == 1 else f"{name}:{count}"


class AttributeTargets(cst.CSTVisitor):
    """Collects the attribute names assigned (`x.gpu = ...`, `x.gpu += 1`, `setattr(x, "gpu", ...)`);
    the call finder inherits it, to collect them in its own pass."""

    def __init__(self) -> None:
        self.assigned_names: set[str] = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._attribute_target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._attribute_target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._attribute_target(node.target)

    def note_setattr(self, node: cst.Call) -> None:
        """`setattr(obj, "name", value)`; "*" when the name is computed."""
        if isinstance(node.func, cst.Name) and node.func.value == "setattr" and len(node.args) >= 2:
            name = node.args[1].value
            if isinstance(name, cst.SimpleString) and isinstance(name.evaluated_value, str):
                self.assigned_names.add(name.evaluated_value)
            else:
                self.assigned_names.add("*")

    def visit_Call(self, node: cst.Call) -> None:
        self.note_setattr(node)

    def _attribute_target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute):
            self.assigned_names.add(target.attr.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._attribute_target(element.value)


_ASSIGNED: dict[int, tuple[cst.Module, frozenset[str]]] = {}


def assigned_attributes(module: cst.Module) -> frozenset[str]:
    """Every attribute name the module assigns anywhere (`self.gpu = ...`, `CONFIG.gpu += 1`,
    `setattr(x, "gpu", ...)`); "*" when a `setattr` name is not a literal. Computed once per module."""
    known = _ASSIGNED.get(id(module))
    if known is not None and known[0] is module:
        return known[1]
    finder = AttributeTargets()
    visit(module, finder)
    names = frozenset(finder.assigned_names)
    _ASSIGNED.clear()  # one module at a time
    _ASSIGNED[id(module)] = (module, names)
    return names


class _Returns(cst.CSTVisitor):
    def __init__(self) -> None:
        self.values: list[cst.BaseExpression | None] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.values.append(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested def's returns are its own

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def returned_values(function: cst.FunctionDef) -> list[cst.BaseExpression | None]:
    """What each `return` of a function (not of the defs nested in it) gives."""
    finder = _Returns()
    visit(function.body, finder)
    return finder.values


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)


def names_in(node: cst.CSTNode) -> list[cst.Name]:
    """Every Name node under `node`."""
    finder = _Names()
    visit(node, finder)
    return finder.names


class _Mutated(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._subscript(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._subscript(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._subscript(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.attr.value in _MUTATORS:
            self.names.add(func.value.value)

    def _subscript(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self.names.add(target.value.value)
        elif isinstance(target, (cst.Tuple, cst.List)):  # `D["gpu"], n = ...`, `del D["a"], D["b"]`
            for element in target.elements:
                self._subscript(element.value)
        elif isinstance(target, cst.StarredElement):
            self._subscript(target.value)


_MUTATORS = frozenset({"update", "pop", "setdefault", "clear", "popitem", "__setitem__"})
_MUTATED: dict[int, tuple[cst.Module, frozenset[str]]] = {}


def mutated_names(module: cst.Module) -> frozenset[str]:
    """Names of dicts the module changes in place anywhere (`CONFIG["gpu"] = ...`, `CONFIG.update(...)`),
    computed once per module."""
    known = _MUTATED.get(id(module))
    if known is not None and known[0] is module:
        return known[1]
    finder = _Mutated()
    visit(module, finder)
    _MUTATED.clear()
    _MUTATED[id(module)] = (module, frozenset(finder.names))
    return _MUTATED[id(module)][1]
