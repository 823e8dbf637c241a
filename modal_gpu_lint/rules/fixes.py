"""Helpers the rules use to build fixes: where a module-level name is used, renaming it safely."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from modal_gpu_lint.analysis.resolve import Scope, comprehension_scope, function_scope
from modal_gpu_lint.analysis.walk import visit  # libcst's own `node.visit` rebuilds every node it passes
from modal_gpu_lint.findings import Change, Replace


@dataclass
class NameUses:
    """Every `Name` node spelled `name` in a module, sorted by what it is."""

    name: str
    module_refs: list[cst.Name] = field(default_factory=list)  # resolve to the module-level binding
    attribute_bases: list[cst.Name] = field(default_factory=list)  # module refs used as `name.attr`
    other: int = 0  # bound here (assignment targets, parameters, defs) or resolved to a local binding
    imports: int = 0  # import statements binding the name


class _UseFinder(cst.CSTVisitor):
    def __init__(self, uses: NameUses) -> None:
        self.uses = uses
        self.scopes: list[Scope] = []
        self.skip: set[int] = set()
        self.bases: set[int] = set()
        self.targets: set[int] = set()
        self.outer_fors: set[int] = set()  # the first `for` of each comprehension
        self.suspended: list[Scope] = []  # comprehension scopes left while their first iterable is read

    # positions where a Name is not a reference
    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))
        self.bases.add(id(node.value))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        bound = node.asname.name if node.asname else node.name
        if isinstance(bound, cst.Name) and bound.value == self.uses.name:
            self.uses.imports += 1
        return False

    def visit_Global(self, node: cst.Global) -> bool:
        # `global NAME` inside a function: its uses there are module references
        self.uses.module_refs.extend(item.name for item in node.names if item.name.value == self.uses.name)
        return False

    def _bind(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.skip.add(id(target))
            if target.value == self.uses.name:
                self.uses.other += 1
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._bind(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        if isinstance(node.name, cst.BaseExpression):
            self._bind(node.name)

    def visit_Param(self, node: cst.Param) -> None:
        self.skip.add(id(node.name))
        if node.name.value == self.uses.name:
            self.uses.other += 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.skip.add(id(node.name))
        if node.name.value == self.uses.name:
            self.uses.other += 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.skip.add(id(node.name))
        if node.name.value == self.uses.name:
            self.uses.other += 1

    # scopes
    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.scopes.append(function_scope(node))

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.scopes.pop()

    # A lambda's parameter defaults, and a comprehension's first iterable, are evaluated in the
    # enclosing scope: only the lambda's body and the rest of the comprehension are its own.
    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        self.scopes.append(function_scope(node))

    def leave_Lambda_body(self, node: cst.Lambda) -> None:
        self.scopes.pop()

    def _enter_comprehension(self, node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp) -> None:
        self.scopes.append(comprehension_scope(node))
        self.outer_fors.add(id(node.for_in))

    def visit_CompFor_iter(self, node: cst.CompFor) -> None:
        if id(node) in self.outer_fors:
            self.suspended.append(self.scopes.pop())

    def leave_CompFor_iter(self, node: cst.CompFor) -> None:
        if id(node) in self.outer_fors:
            self.scopes.append(self.suspended.pop())

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._enter_comprehension(node)

    def leave_ListComp(self, original_node: cst.ListComp) -> None:
        self.scopes.pop()

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._enter_comprehension(node)

    def leave_SetComp(self, original_node: cst.SetComp) -> None:
        self.scopes.pop()

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._enter_comprehension(node)

    def leave_DictComp(self, original_node: cst.DictComp) -> None:
        self.scopes.pop()

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._enter_comprehension(node)

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp) -> None:
        self.scopes.pop()

    def visit_Name(self, node: cst.Name) -> None:
        if node.value != self.uses.name or id(node) in self.skip:
            return
        if any(self.uses.name in scope.bindings for scope in self.scopes):
            self.uses.other += 1
            return
        self.uses.module_refs.append(node)
        if id(node) in self.bases:
            self.uses.attribute_bases.append(node)


def name_uses(module: cst.Module, name: str) -> NameUses:
    """Where `name` appears in `module` as a name (not as a keyword, attribute or import).

    Conservative: every binding of the name (assignment, parameter, def, `as`, loop target) counts
    in `other`, and a reference inside a function that binds the name locally counts there too.
    """
    uses = NameUses(name)
    visit(module, _UseFinder(uses))
    return uses


def rename_changes(uses: NameUses, new: str) -> tuple[Change, ...]:
    """Replace every module-level reference of `uses.name` by `new`."""
    return tuple(Replace(node, node.with_changes(value=new)) for node in uses.module_refs)


def is_free(module: cst.Module, name: str) -> bool:
    """Whether `name` appears nowhere in `module` as a name (so renaming to it cannot collide)."""
    uses = name_uses(module, name)
    return not uses.module_refs and uses.other == 0 and uses.imports == 0


def quote_like(text: str, like: cst.SimpleString) -> str:
    """`text` as a string literal written like `like` (its quote and r/u prefix), or `repr` when
    that quote or a backslash would need escaping."""
    quote = like.quote
    prefix = "".join(c for c in like.prefix if c in "rRuU")
    if quote in text or "\\" in text:
        return repr(text)
    return f"{prefix}{quote}{text}{quote}"


def imports_module(module: cst.Module, name: str) -> bool:
    """Whether a module-level `import NAME` (no `as`) is there already."""
    return any(
        isinstance(small, cst.Import)
        and any(cst.helpers.get_full_name_for_node(a.name) == name and a.asname is None for a in small.names)
        for statement in module.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
    )
