"""Apply fixes to a parse tree: collect changes, drop overlaps, apply in one pass."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst

from .findings import AddImport, Change, Edit, Fix, InsertDecorator, Remove, Replace
from .positions import LineIndex


class _Subtree(cst.CSTVisitor):
    def __init__(self) -> None:
        self.ids: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.ids.add(id(node))
        return True


def _touched(change: Change) -> set[int]:
    """Ids of every node a change rewrites (a replaced node's whole subtree)."""
    if isinstance(change, AddImport):
        return set()
    if isinstance(change, InsertDecorator):
        return {id(change.target), id(change.after)}
    walker = _Subtree()
    change.node.visit(walker)
    return walker.ids


def compatible(fixes: Iterable[Fix]) -> tuple[list[Fix], list[Fix]]:
    """Split fixes into ones that can be applied together and ones that overlap an earlier one."""
    taken: set[int] = set()
    accepted: list[Fix] = []
    deferred: list[Fix] = []
    for fix in fixes:
        touched: set[int] = set()
        for change in fix.changes:
            touched |= _touched(change)
        # An insertion into a def only conflicts with a change of the def itself.
        if touched & taken:
            deferred.append(fix)
            continue
        taken |= {t for c in fix.changes if not isinstance(c, InsertDecorator) for t in _touched(c)}
        accepted.append(fix)
    return accepted, deferred


class _Applier(cst.CSTTransformer):
    def __init__(self, changes: Sequence[Change]) -> None:
        self.replace: dict[int, cst.CSTNode] = {}
        self.remove: set[int] = set()
        self.inserts: dict[int, list[InsertDecorator]] = {}
        self.imports: list[str] = []
        for change in changes:
            if isinstance(change, Replace):
                self.replace[id(change.node)] = change.new
            elif isinstance(change, Remove):
                self.remove.add(id(change.node))
            elif isinstance(change, InsertDecorator):
                self.inserts.setdefault(id(change.target), []).append(change)
            elif change.module not in self.imports:
                self.imports.append(change.module)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode | cst.RemovalSentinel:  # type: ignore[override]
        key = id(original_node)
        if key in self.remove:
            return cst.RemoveFromParent()
        if key in self.replace:
            return self.replace[key]
        if isinstance(original_node, cst.Call) and isinstance(updated_node, cst.Call):
            return self._fix_commas(original_node, updated_node)
        if isinstance(original_node, cst.ImportFrom) and isinstance(updated_node, cst.ImportFrom):
            return self._fix_import(original_node, updated_node)
        if key in self.inserts and isinstance(updated_node, (cst.FunctionDef, cst.ClassDef)):
            assert isinstance(original_node, (cst.FunctionDef, cst.ClassDef))
            return self._insert(original_node, updated_node)
        return updated_node

    def _fix_commas(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        """After removing the last argument, the new last one takes its comma (layout kept)."""
        if not original.args or id(original.args[-1]) not in self.remove or not updated.args:
            return updated
        args = list(updated.args)
        args[-1] = args[-1].with_changes(comma=original.args[-1].comma)
        return updated.with_changes(args=args)

    def _fix_import(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom | cst.RemovalSentinel:
        if isinstance(original.names, cst.ImportStar) or isinstance(updated.names, cst.ImportStar):
            return updated
        if not any(id(alias) in self.remove for alias in original.names):
            return updated
        if not updated.names:
            return cst.RemoveFromParent()
        names = list(updated.names)
        if id(original.names[-1]) in self.remove:
            names[-1] = names[-1].with_changes(comma=original.names[-1].comma)
        if updated.rpar is None:  # without parentheses a trailing comma is a syntax error
            names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(names=names)

    def _insert(
        self, original: cst.FunctionDef | cst.ClassDef, updated: cst.FunctionDef | cst.ClassDef
    ) -> cst.FunctionDef | cst.ClassDef:
        decorators = list(updated.decorators)
        for insert in reversed(self.inserts[id(original)]):
            index = next(i for i, d in enumerate(original.decorators) if d is insert.after)
            decorators.insert(index + 1, insert.decorator)
        return updated.with_changes(decorators=decorators)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        for module in self.imports:
            updated_node = add_import(updated_node, module)
        return updated_node


def add_import(module: cst.Module, name: str) -> cst.Module:
    """`import NAME` after the module docstring, `__future__` imports and leading imports."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import) and any(
                    cst.helpers.get_full_name_for_node(a.name) == name and a.asname is None for a in small.names
                ):
                    return module
    body = list(module.body)
    position = 0
    for index, statement in enumerate(body):
        if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) or (index == 0 and _is_docstring(s)) for s in statement.body
        ):
            position = index + 1
        else:
            break
    line = cst.SimpleStatementLine([cst.Import([cst.ImportAlias(cst.Name(name))])])
    body.insert(position, line)
    return module.with_changes(body=body)


def _is_docstring(statement: cst.BaseSmallStatement) -> bool:
    return isinstance(statement, cst.Expr) and isinstance(statement.value, (cst.SimpleString, cst.ConcatenatedString))


def apply(module: cst.Module, fixes: Sequence[Fix]) -> cst.Module:
    """The module with every change of `fixes` applied (they must not overlap)."""
    changes = [change for fix in fixes for change in fix.changes]
    if not changes:
        return module
    return module.visit(_Applier(changes))


def fix_edits(module: cst.Module, text: str, fix: Fix, index: LineIndex) -> tuple[Edit, ...]:
    """The fix as one text edit (the changed span of the file), for JSON output."""
    new = apply(module, [fix]).code
    start = 0
    limit = min(len(text), len(new))
    while start < limit and text[start] == new[start]:
        start += 1
    end_old, end_new = len(text), len(new)
    while end_old > start and end_new > start and text[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    row, column = index.row_col(start)
    end_row, end_column = index.row_col(end_old)
    return (Edit(new[start:end_new], row, column, end_row, end_column),)
