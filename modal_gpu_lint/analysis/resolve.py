"""Name binding and constant evaluation, per scope, without libcst metadata providers.

A scope maps each name to how it is bound (import, assignment, def, parameter...). The linter
only trusts what it can see: a name bound more than once, a parameter, an attribute or a call
evaluates to UNKNOWN, and every rule stays silent on UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import product

import libcst as cst

from modal_gpu_lint.analysis.values import UNKNOWN, GpuObject, ListValue, OtherValue, Unknown, Value
from modal_gpu_lint.analysis.walk import visit  # libcst's own `node.visit` rebuilds every node it passes
from modal_gpu_lint.facts.modal_api import project_app


@dataclass(frozen=True)
class ModuleRef:
    """`import modal` / `import modal as m` binds a module."""

    module: str


@dataclass(frozen=True)
class ImportedName:
    """`from MODULE import NAME`; level > 0 for relative imports."""

    module: str
    name: str
    level: int


@dataclass(frozen=True, eq=False)
class Assigned:
    """`NAME = value`; value None when the target shape hides it (star unpacking, `+=`)."""

    value: cst.BaseExpression | None


@dataclass(frozen=True, eq=False)
class Defined:
    """`def NAME` or `class NAME`."""

    node: cst.FunctionDef | cst.ClassDef


@dataclass(frozen=True)
class Opaque:
    """Bound in a way that says nothing about the value (parameter, loop, `with`, global...)."""


OPAQUE = Opaque()
Binding = ModuleRef | ImportedName | Assigned | Defined | Opaque


@dataclass
class Scope:
    """The names bound directly in one module, function, lambda or comprehension."""

    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    is_class: bool = False  # a class body: seen from its own statements only, not from its methods

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


class _Binder(cst.CSTVisitor):
    """Collects the bindings of one scope; does not enter nested scopes."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    # nested scopes: bind the name, do not enter
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.scope.bind(node.name.value, Defined(node))
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.scope.bind(node.name.value, Defined(node))
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return False

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return False

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return False

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if dotted is None:
                continue
            if alias.asname is not None:
                name = _target_name(alias.asname.name)
                if name:
                    self.scope.bind(name, ModuleRef(dotted))
            else:
                top = dotted.split(".")[0]
                self.scope.bind(top, ModuleRef(top))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        module = _dotted(node.module) if node.module is not None else ""
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar) or module is None:
            return False
        for alias in node.names:
            imported = _dotted(alias.name)
            if imported is None:
                continue
            local = _target_name(alias.asname.name) if alias.asname else imported
            if local:
                self.scope.bind(local, ImportedName(module, imported, level))
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind_target(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind_opaque(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_opaque(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_opaque(node.name.name)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.scope.bind(item.name.value, OPAQUE)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self.scope.bind(item.name.value, OPAQUE)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.scope.bind(node.name.value, OPAQUE)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.scope.bind(node.name.value, OPAQUE)

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.scope.bind(target.value, Assigned(value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = [e.value for e in target.elements]
            values: Sequence[cst.BaseExpression | None]
            if (
                isinstance(value, (cst.Tuple, cst.List))
                and len(value.elements) == len(elements)
                and not any(isinstance(e, cst.StarredElement) for e in value.elements)
                and not any(isinstance(e, cst.StarredElement) for e in target.elements)
            ):
                values = [e.value for e in value.elements]
            else:
                values = [None] * len(elements)
            for element, element_value in zip(elements, values, strict=False):
                self._bind_target(element, element_value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, None)

    def _bind_opaque(self, target: cst.BaseExpression) -> None:
        for name in _names_in_target(target):
            self.scope.bind(name, OPAQUE)


def _names_in_target(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _names_in_target(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _names_in_target(target.value)


def _target_name(node: cst.BaseExpression) -> str | None:
    return node.value if isinstance(node, cst.Name) else None


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


def module_scope(module: cst.Module) -> Scope:
    """Bindings made by the module's own statements (not inside functions or classes)."""
    scope = Scope()
    binder = _Binder(scope)
    for statement in module.body:
        visit(statement, binder)
    return scope


# function_scope's results for the module being analysed, by node identity (each entry keeps its
# node alive, so an id cannot be reused while it is here); emptied by `forget_scopes`.
_FUNCTION_SCOPES: dict[int, tuple[cst.FunctionDef | cst.Lambda, Scope]] = {}


def forget_scopes() -> None:
    """Drop the remembered function scopes (a new module is being analysed)."""
    _FUNCTION_SCOPES.clear()


def function_scope(node: cst.FunctionDef | cst.Lambda) -> Scope:
    """Bindings local to a function: its parameters and what its body binds (computed once per
    node: the call finder, the body reader and the fixes all ask; nothing changes a Scope later)."""
    known = _FUNCTION_SCOPES.get(id(node))
    if known is not None and known[0] is node:
        return known[1]
    scope = Scope()
    for param in _params(node.params):
        scope.bind(param, OPAQUE)
    visit(node.body, _Binder(scope))
    _FUNCTION_SCOPES[id(node)] = (node, scope)
    return scope


def class_scope(node: cst.ClassDef) -> Scope:
    """Names bound directly in a class body (visible to the body's own statements and decorators)."""
    scope = Scope(is_class=True)
    visit(node.body, _Binder(scope))
    return scope


def comprehension_scope(node: cst.BaseComp) -> Scope:
    """The loop variables of a comprehension."""
    scope = Scope()
    comp: cst.CompFor | None = node.for_in
    while comp is not None:
        for name in _names_in_target(comp.target):
            scope.bind(name, OPAQUE)
        comp = comp.inner_for_in
    return scope


def _params(params: cst.Parameters) -> Iterator[str]:
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        yield param.name.value
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star.name.value


_KEYWORD_CONSTANTS: dict[str, Value] = {"True": True, "False": False, "None": None}
_ENV_GETTERS = {"os.environ.get", "os.getenv"}
_MAX_ALTERNATIVES = 32
_MAX_DEPTH = 24
_APP_CONSTRUCTORS = {"modal.App", "modal.Stub", "modal.App.lookup"}


class Resolver:
    """Answers what a name or expression is, looking through a stack of scopes."""

    def __init__(self, module_scope: Scope) -> None:
        self.module_scope = module_scope

    def bindings(self, name: str, scopes: Sequence[Scope]) -> list[Binding]:
        """The bindings of `name` in the innermost scope that binds it ([] if none)."""
        return self.lookup(name, scopes)[0]

    def lookup(self, name: str, scopes: Sequence[Scope]) -> tuple[list[Binding], tuple[Scope, ...]]:
        """The bindings of `name`, and the scope stack where they were made (to evaluate them in)."""
        for depth in range(len(scopes) - 1, -1, -1):
            if scopes[depth].is_class and depth != len(scopes) - 1:
                continue  # a method does not see the names of its class body
            found = scopes[depth].bindings.get(name)
            if found:
                return found, tuple(scopes[: depth + 1])
        return self.module_scope.bindings.get(name, []), ()

    # ---- what an expression names -------------------------------------------------------
    def qualify(self, expr: cst.BaseExpression, scopes: Sequence[Scope], depth: int = 0) -> str | None:
        """The dotted name `expr` refers to, e.g. "modal.App", or None when not known."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Attribute):
            head = self.qualify(expr.value, scopes, depth + 1)
            return None if head is None else f"{head}.{expr.attr.value}"
        if not isinstance(expr, cst.Name):
            return None
        found: set[str] = set()
        bindings, scopes = self.lookup(expr.value, scopes)
        for binding in bindings:
            if isinstance(binding, ModuleRef):
                found.add(binding.module)
            elif isinstance(binding, ImportedName) and binding.level == 0:
                found.add(f"{binding.module}.{binding.name}")
            elif isinstance(binding, Assigned) and binding.value is not None:
                if _is_none(binding.value):
                    continue  # `except ImportError: modal = None`
                imported = self._import_module_call(binding.value, scopes, depth)
                if imported is None:
                    return None
                found.add(imported)
            else:
                return None
        return found.pop() if len(found) == 1 else None

    def _import_module_call(self, value: cst.BaseExpression, scopes: Sequence[Scope], depth: int) -> str | None:
        if not isinstance(value, cst.Call) or not value.args:
            return None
        if self.qualify(value.func, scopes, depth + 1) != "importlib.import_module":
            return None
        name = value.args[0].value
        if isinstance(name, cst.SimpleString):
            text = name.evaluated_value
            return text if isinstance(text, str) else None
        return None

    def is_modal(self, expr: cst.BaseExpression, scopes: Sequence[Scope], *paths: str) -> bool:
        """Whether `expr` names one of the `modal.X` paths given."""
        return self.qualify(expr, scopes) in paths

    def is_app(self, expr: cst.BaseExpression, scopes: Sequence[Scope]) -> bool:
        """Whether `expr` is a Modal App: built here with `modal.App(...)` or imported from the project.

        Every binding of the name must agree; `app = None` (an import fallback) does not count
        against it, but does not make it an App on its own either.
        """
        if isinstance(expr, cst.Call):
            return self.qualify(expr.func, scopes) in _APP_CONSTRUCTORS
        if isinstance(expr, cst.Attribute):
            return self._is_project_app_attribute(expr, scopes)
        if not isinstance(expr, cst.Name):
            return False
        found, scopes = self.lookup(expr.value, scopes)
        apps = 0
        for binding in found:
            if isinstance(binding, Assigned):
                if binding.value is not None and _is_none(binding.value):
                    continue  # `except ImportError: app = None`
                if binding.value is None or not isinstance(binding.value, cst.Call):
                    return False
                if self.qualify(binding.value.func, scopes) not in _APP_CONSTRUCTORS:
                    return False
            elif isinstance(binding, ImportedName):
                if not project_app(binding.module, binding.name):
                    return False
            else:
                return False
            apps += 1
        return apps > 0

    def _is_project_app_attribute(self, expr: cst.Attribute, scopes: Sequence[Scope]) -> bool:
        """`common.app` after `import common` (or `import pkg.common`): an App imported from the project."""
        if not isinstance(expr.value, (cst.Name, cst.Attribute)):
            return False
        found = self.bindings(_root_name(expr.value), scopes)
        if not found or not all(isinstance(b, ModuleRef) for b in found):
            return False
        module = self.qualify(expr.value, scopes)
        return module is not None and project_app(module, expr.attr.value)

    def decorated_by_app(self, node: cst.FunctionDef | cst.ClassDef, method: str, scopes: Sequence[Scope]) -> bool:
        """Whether `node` carries `@app.<method>(...)` (or the bare `@app.<method>`)."""
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if isinstance(expr, cst.Attribute) and expr.attr.value == method and self.is_app(expr.value, scopes):
                return True
        return False

    # ---- what an expression evaluates to ------------------------------------------------
    def evaluate(self, expr: cst.BaseExpression, scopes: Sequence[Scope], depth: int = 0) -> list[Value]:
        """Every value `expr` may take (UNKNOWN where the source does not say)."""
        if depth > _MAX_DEPTH:
            return [UNKNOWN]
        values = self._evaluate(expr, scopes, depth + 1)
        return values[:_MAX_ALTERNATIVES] if len(values) <= _MAX_ALTERNATIVES else [UNKNOWN]

    def _evaluate(self, expr: cst.BaseExpression, scopes: Sequence[Scope], depth: int) -> list[Value]:
        if isinstance(expr, cst.SimpleString):
            text = expr.evaluated_value
            return [text] if isinstance(text, str) else [OtherValue("bytes")]
        if isinstance(expr, cst.ConcatenatedString):
            return self._concat(self.evaluate(expr.left, scopes, depth), self.evaluate(expr.right, scopes, depth))
        if isinstance(expr, cst.FormattedString):
            return self._fstring(expr, scopes, depth)
        if isinstance(expr, (cst.Integer, cst.Float)):
            return [expr.evaluated_value]
        if isinstance(expr, cst.Imaginary):
            return [OtherValue("a complex number")]
        if isinstance(expr, cst.Name):
            return self._name(expr, scopes, depth)
        if isinstance(expr, cst.IfExp):
            return self.evaluate(expr.body, scopes, depth) + self.evaluate(expr.orelse, scopes, depth)
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr, scopes, depth)
        if isinstance(expr, cst.UnaryOperation):
            return self._unary(expr, scopes, depth)
        if isinstance(expr, cst.List):
            return self._list(expr, scopes, depth)
        if isinstance(expr, cst.Tuple):
            return [OtherValue("a tuple")]
        if isinstance(expr, (cst.Dict, cst.DictComp)):
            return [OtherValue("a dict")]
        if isinstance(expr, (cst.Set, cst.SetComp)):
            return [OtherValue("a set")]
        if isinstance(expr, cst.Call):
            return self._call(expr, scopes, depth)
        if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
            return self._or(expr, scopes, depth)
        return [UNKNOWN]

    def _or(self, expr: cst.BooleanOperation, scopes: Sequence[Scope], depth: int) -> list[Value]:
        """`os.environ.get("GPU") or "T4"`: the left value when it is true, the right one when it is not."""
        out: list[Value] = []
        right: list[Value] | None = None
        for value in self.evaluate(expr.left, scopes, depth):
            truth = _truth(value)
            if truth is not False:
                out.append(value if truth else UNKNOWN)
            if truth is not True:
                right = self.evaluate(expr.right, scopes, depth) if right is None else right
                out.extend(right)
        return out

    def _name(self, expr: cst.Name, scopes: Sequence[Scope], depth: int) -> list[Value]:
        if expr.value in _KEYWORD_CONSTANTS:
            return [_KEYWORD_CONSTANTS[expr.value]]
        found, where = self.lookup(expr.value, scopes)
        if len(found) != 1:
            return [UNKNOWN]
        binding = found[0]
        if not isinstance(binding, Assigned) or binding.value is None:
            return [UNKNOWN]
        return self.evaluate(binding.value, where, depth)

    def _concat(self, left: list[Value], right: list[Value]) -> list[Value]:
        out: list[Value] = []
        for a, b in product(left, right):
            out.append(a + b if isinstance(a, str) and isinstance(b, str) else UNKNOWN)
        return out

    def _fstring(self, expr: cst.FormattedString, scopes: Sequence[Scope], depth: int) -> list[Value]:
        pieces: list[list[Value]] = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append([part.value.replace("{{", "{").replace("}}", "}")])
                continue
            assert isinstance(part, cst.FormattedStringExpression)
            if part.conversion is not None or part.format_spec is not None:
                return [UNKNOWN]
            pieces.append(
                [
                    str(v) if isinstance(v, (str, int)) and not isinstance(v, bool) else UNKNOWN
                    for v in self.evaluate(part.expression, scopes, depth)
                ]
            )
        out: list[Value] = []
        for combo in product(*pieces):
            out.append("".join(combo) if all(isinstance(c, str) for c in combo) else UNKNOWN)  # type: ignore[arg-type]
            if len(out) > _MAX_ALTERNATIVES:
                return [UNKNOWN]
        return out

    def _binary(self, expr: cst.BinaryOperation, scopes: Sequence[Scope], depth: int) -> list[Value]:
        left = self.evaluate(expr.left, scopes, depth)
        right = self.evaluate(expr.right, scopes, depth)
        out: list[Value] = []
        for a, b in product(left, right):
            out.append(_arith(expr.operator, a, b))
        return out

    def _unary(self, expr: cst.UnaryOperation, scopes: Sequence[Scope], depth: int) -> list[Value]:
        out: list[Value] = []
        for v in self.evaluate(expr.expression, scopes, depth):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if isinstance(expr.operator, cst.Minus):
                    out.append(-v)
                    continue
                if isinstance(expr.operator, cst.Plus):
                    out.append(v)
                    continue
            out.append(UNKNOWN)
        return out

    def _list(self, expr: cst.List, scopes: Sequence[Scope], depth: int) -> list[Value]:
        items: list[Value] = []
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                return [UNKNOWN]
            values = self.evaluate(element.value, scopes, depth)
            items.append(values[0] if len(values) == 1 else UNKNOWN)
        return [ListValue(tuple(items))]

    def _call(self, expr: cst.Call, scopes: Sequence[Scope], depth: int) -> list[Value]:
        name = self.qualify(expr.func, scopes)
        if name is None:
            return [UNKNOWN]
        if name in _ENV_GETTERS:
            positional = [a for a in expr.args if a.keyword is None and not a.star]
            default = next((a for a in expr.args if a.keyword is not None and a.keyword.value == "default"), None)
            if default is None and len(positional) >= 2:
                default = positional[1]
            if default is None:
                return [UNKNOWN]
            return self.evaluate(default.value, scopes, depth)
        if name.startswith("modal.gpu.") and name.count(".") == 2:
            return [GpuObject(expr, name.rsplit(".", 1)[1])]
        return [UNKNOWN]


def _is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _truth(value: Value) -> bool | None:
    """Whether a value is true, false, or not known."""
    if isinstance(value, (Unknown, OtherValue)):
        return None
    if isinstance(value, GpuObject):
        return True
    if isinstance(value, ListValue):
        return bool(value.items)
    return bool(value)


def _root_name(expr: cst.BaseExpression) -> str:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else ""


def _arith(op: cst.BaseBinaryOp, a: Value, b: Value) -> Value:
    if isinstance(a, str) and isinstance(b, str) and isinstance(op, cst.Add):
        return a + b
    numbers = (int, float)
    if not (isinstance(a, numbers) and isinstance(b, numbers)) or isinstance(a, bool) or isinstance(b, bool):
        return UNKNOWN
    try:
        if isinstance(op, cst.Add):
            return a + b
        if isinstance(op, cst.Subtract):
            return a - b
        if isinstance(op, cst.Multiply):
            return a * b
        if isinstance(op, cst.Divide):
            return a / b
        if isinstance(op, cst.FloorDivide):
            return a // b
        if isinstance(op, cst.Modulo):
            return a % b
        if isinstance(op, cst.Power) and abs(b) <= 64:
            return a**b
    except (ZeroDivisionError, OverflowError):
        return UNKNOWN
    return UNKNOWN


def is_unknown(value: Value) -> bool:
    """Whether the source does not fix `value`."""
    return isinstance(value, Unknown)
