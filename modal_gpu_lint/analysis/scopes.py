"""Scopes: how each name is bound in a module, function, class body or comprehension.

Built without libcst metadata providers; `resolve.Resolver` reads them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from modal_gpu_lint.analysis.walk import visit  # libcst's own `node.visit` rebuilds every node it passes


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


@dataclass(frozen=True, eq=False)
class LoopItem:
    """`for NAME in ITERABLE:` where the iterable may be a literal list or tuple (or a name bound
    to one): NAME takes each item in turn."""

    iterable: cst.BaseExpression


@dataclass(frozen=True, eq=False)
class ParsedArgs:
    """`args = parser.parse_args()` (or `args, _ = parser.parse_known_args()`): the namespace of
    options `parser` declares, as the program gets them from its command line."""

    parser: cst.BaseExpression


@dataclass(frozen=True)
class Opaque:
    """Bound in a way that says nothing about the value (parameter, loop, `with`, global...)."""


OPAQUE = Opaque()
Binding = ModuleRef | ImportedName | Assigned | Defined | LoopItem | ParsedArgs | Opaque


@dataclass
class Scope:
    """The names bound directly in one module, function, lambda or comprehension."""

    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    is_class: bool = False  # a class body: seen from its own statements only, not from its methods
    owner: cst.ClassDef | None = None  # a class body: its class
    first_param: str | None = None  # a function: its first parameter (`self`, `cls`)
    method_of: cst.ClassDef | None = None  # a function defined directly in a class body: that class

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


class _Declared(cst.CSTVisitor):
    """The names a function or class body (nested ones included) declares `global` or `nonlocal`;
    only statements are read, never expressions."""

    def __init__(self) -> None:
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        self._small(node.body)
        return False

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> bool:
        self._small(node.body)
        return False

    def _small(self, statements: Sequence[cst.BaseSmallStatement]) -> None:
        for statement in statements:
            if isinstance(statement, cst.Global):
                self.globals.update(item.name.value for item in statement.names)
            elif isinstance(statement, cst.Nonlocal):
                self.nonlocals.update(item.name.value for item in statement.names)


class _WalrusTargets(cst.CSTVisitor):
    """`NAME := ...` inside a comprehension (not inside a lambda there, which has its own scope)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self.names.append(node.target.value)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


class _Binder(cst.CSTVisitor):
    """Collects the bindings of one scope; does not enter nested scopes."""

    def __init__(self, scope: Scope, *, module: bool = False) -> None:
        self.scope = scope
        self.module = module  # the module's own scope: `global NAME` in any function rebinds it

    # nested scopes: bind the name, do not enter; names they rebind here (`global`, `nonlocal`)
    # are bound here too, in a way that says nothing about the value
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.scope.bind(node.name.value, Defined(node))
        self._rebound_inside(node)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.scope.bind(node.name.value, Defined(node))
        self._rebound_inside(node)
        return False

    def _rebound_inside(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        declared = _Declared()
        visit(node.body, declared)
        for name in declared.globals if self.module else declared.nonlocals:
            self.scope.bind(name, OPAQUE)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    # a comprehension's own names are its own, but `NAME := ...` in it binds NAME here
    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._walrus_inside(node)

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._walrus_inside(node)

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._walrus_inside(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._walrus_inside(node)

    def _walrus_inside(self, node: cst.BaseComp | cst.DictComp) -> bool:
        targets = _WalrusTargets()
        visit(node, targets)
        for name in targets.names:
            self.scope.bind(name, OPAQUE)
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
        if isinstance(node.target, cst.Name) and isinstance(node.iter, (cst.List, cst.Tuple, cst.Name)):
            self.scope.bind(node.target.value, LoopItem(node.iter))
        else:
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
        parsed = _parsed_args(target, value)
        if parsed is not None:
            name, parser = parsed
            self.scope.bind(name, ParsedArgs(parser))
            for other in _names_in_target(target):
                if other != name:
                    self.scope.bind(other, OPAQUE)
        elif isinstance(target, cst.Name):
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


def _parsed_args(target: cst.BaseExpression, value: cst.BaseExpression | None) -> tuple[str, cst.BaseExpression] | None:
    """(name, parser) for `NAME = P.parse_args()`, `NAME = P.parse_known_args()[0]` and
    `NAME, _ = P.parse_known_args()` (no argument list given: the program's own command line)."""
    index_zero = False
    if isinstance(value, cst.Subscript) and len(value.slice) == 1:
        index = value.slice[0].slice
        index_zero = isinstance(index, cst.Index) and isinstance(index.value, cst.Integer) and index.value.value == "0"
        value = value.value if index_zero else None
    if not isinstance(value, cst.Call) or value.args or not isinstance(value.func, cst.Attribute):
        return None
    method = value.func.attr.value
    if isinstance(target, cst.Name) and (
        (method == "parse_args" and not index_zero) or (method == "parse_known_args" and index_zero)
    ):
        return target.value, value.func.value
    if (
        method == "parse_known_args"
        and not index_zero
        and isinstance(target, (cst.Tuple, cst.List))
        and len(target.elements) == 2
        and isinstance(target.elements[0].value, cst.Name)
        and not any(isinstance(e, cst.StarredElement) for e in target.elements)
    ):
        return target.elements[0].value.value, value.func.value
    return None


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
    binder = _Binder(scope, module=True)
    for statement in module.body:
        visit(statement, binder)
    return scope


# function_scope's results for the module being analysed, by node identity (each entry keeps its
# node alive, so an id cannot be reused while it is here); emptied by `forget_scopes`.
_FUNCTION_SCOPES: dict[int, tuple[cst.FunctionDef | cst.Lambda, Scope]] = {}


_CLASS_SCOPES: dict[int, tuple[cst.ClassDef, Scope]] = {}


def forget_scopes() -> None:
    """Drop the remembered function and class scopes (a new module is being analysed)."""
    _FUNCTION_SCOPES.clear()
    _CLASS_SCOPES.clear()


def method_scope(node: cst.FunctionDef, owner: cst.ClassDef | None) -> Scope:
    """`function_scope(node)`, marked as a method of `owner` when it is defined directly in its body."""
    scope = function_scope(node)
    static = any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)
    if owner is not None and scope.method_of is None and not static:
        scope.method_of = owner
    return scope


def function_scope(node: cst.FunctionDef | cst.Lambda) -> Scope:
    """Bindings local to a function: its parameters and what its body binds (computed once per
    node: the call finder, the body reader and the fixes all ask; nothing changes a Scope later)."""
    known = _FUNCTION_SCOPES.get(id(node))
    if known is not None and known[0] is node:
        return known[1]
    scope = Scope()
    for param in _params(node.params):
        scope.bind(param, OPAQUE)
        if scope.first_param is None and not node.params.posonly_params:
            scope.first_param = param
    if node.params.posonly_params:
        scope.first_param = node.params.posonly_params[0].name.value
    visit(node.body, _Binder(scope))
    _FUNCTION_SCOPES[id(node)] = (node, scope)
    return scope


def class_scope(node: cst.ClassDef) -> Scope:
    """Names bound directly in a class body (visible to the body's own statements and decorators)."""
    known = _CLASS_SCOPES.get(id(node))
    if known is not None and known[0] is node:
        return known[1]
    scope = Scope(is_class=True, owner=node)
    visit(node.body, _Binder(scope))
    _CLASS_SCOPES[id(node)] = (node, scope)
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
