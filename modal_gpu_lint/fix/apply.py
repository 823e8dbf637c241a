"""Apply fixes to a libcst tree: collect the changes, drop overlaps, apply in one pass.

`apply` edits a tree (layout and comments around each edit are kept); `fix_edits` gives the text
edits of one fix. The lint -> fix -> re-parse loop on a file is `run.fixer`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from typing import TypeVar

import libcst as cst

from modal_gpu_lint.analysis.cst_parse import unvalidated
from modal_gpu_lint.analysis.positions import LineIndex
from modal_gpu_lint.analysis.walk import NOISE, may_hold_code, visit
from modal_gpu_lint.findings import AddImport, Change, Edit, Fix, InsertDecorator, Remove, Replace

T = TypeVar("T")


# ---- which fixes can go together ------------------------------------------------------------
class _Subtree(cst.CSTVisitor):
    def __init__(self) -> None:
        self.ids: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.ids.add(id(node))
        return True


def _touched(change: Change) -> set[int]:
    """Ids of every node a change rewrites (a replaced or removed node's whole subtree)."""
    if isinstance(change, AddImport):
        return set()
    if isinstance(change, InsertDecorator):
        return {id(change.target), id(change.after)}
    walker = _Subtree()
    _revalidating(lambda: change.node.visit(walker))
    if isinstance(change, Remove):
        for line in change.above:
            _revalidating(lambda line=line: line.visit(walker))  # type: ignore[misc]
    return walker.ids


class _Comments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found.append(node.value)


def comments(node: cst.CSTNode) -> list[str]:
    """The text of every comment in `node`, in order."""
    finder = _Comments()
    visit(node, finder)
    return finder.found


def _revalidating(step: Callable[[], T]) -> T:
    """`step()`, a libcst walk that copies nodes; again without validation if that fails: libcst's
    validation rejects copies of some valid code (issue #1061, `else(lambda: ())`). Whatever the
    fixes build is still re-parsed and compiled before it is written."""
    try:
        return step()
    except Exception:
        with unvalidated():
            return step()


def compatible(fixes: Iterable[Fix]) -> tuple[list[Fix], list[Fix]]:
    """Split fixes into ones that can be applied together and ones that overlap an earlier one.

    A fix is deferred when a node it changes lies inside (or is) a node an accepted fix changes.
    Inserting a decorator only conflicts with a change of the decorated def or of the anchor
    decorator itself. Each Fix object is considered once, however many findings share it.
    """
    taken: set[int] = set()
    accepted: list[Fix] = []
    deferred: list[Fix] = []
    seen: set[int] = set()
    for fix in fixes:
        if id(fix) in seen:
            continue
        seen.add(id(fix))
        touched: set[int] = set()
        for change in fix.changes:
            touched |= _touched(change)
        if touched & taken:
            deferred.append(fix)
            continue
        taken |= {t for c in fix.changes if not isinstance(c, InsertDecorator) for t in _touched(c)}
        accepted.append(fix)
    return accepted, deferred


def same_changes(fix: Fix) -> tuple[tuple[object, ...], ...]:
    """What a fix does, comparable between Fix objects: two findings may carry equal fixes (a
    constant used at two sites gets the same rewrite twice); applying one applies both."""
    out: list[tuple[object, ...]] = []
    code = cst.Module([]).code_for_node
    for change in fix.changes:
        if isinstance(change, Replace):
            out.append(("replace", id(change.node), code(change.new)))
        elif isinstance(change, Remove):
            out.append(("remove", id(change.node)))
        elif isinstance(change, InsertDecorator):
            out.append(("insert", id(change.target), id(change.after), code(change.decorator)))
        else:
            out.append(("import", change.module))
    return tuple(out)


# ---- applying changes to the tree -----------------------------------------------------------
_Item = TypeVar("_Item", cst.Arg, cst.BaseElement, cst.ImportAlias)
_STATEMENTS = (cst.SimpleStatementLine, cst.BaseCompoundStatement)
_Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement


def _join(
    keep: cst.BaseParenthesizableWhitespace, tail: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """The whitespace after a kept item that now ends the sequence.

    `keep` follows the kept item (its line's comment, comment lines below it); `tail` closed the
    sequence after the removed last item (comment lines before the bracket, the bracket's indent).
    """
    if not isinstance(keep, cst.ParenthesizedWhitespace):
        return tail
    if isinstance(tail, cst.ParenthesizedWhitespace):
        return keep.with_changes(
            empty_lines=[*keep.empty_lines, *tail.empty_lines], indent=tail.indent, last_line=tail.last_line
        )
    if keep.first_line.comment is None and all(line.comment is None for line in keep.empty_lines):
        return tail  # nothing to keep on the line break: close on the kept item's line
    return keep.with_changes(indent=True, last_line=cst.SimpleWhitespace(""))


def _lost_comments(original: cst.CSTNode, new: cst.CSTNode) -> list[str]:
    """The comments of `original` that `new` does not have (a replacement keeps none by itself)."""
    kept = comments(new)
    lost = []
    for comment in comments(original):
        if comment in kept:
            kept.remove(comment)
        else:
            lost.append(comment)
    return lost


def _with_comment(whitespace: cst.BaseParenthesizableWhitespace, text: str) -> cst.BaseParenthesizableWhitespace | None:
    """A line break with `text` as its line's comment, or None when there is no free line end."""
    if not isinstance(whitespace, cst.ParenthesizedWhitespace) or whitespace.first_line.comment is not None:
        return None
    first = whitespace.first_line.with_changes(whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(text))
    return whitespace.with_changes(first_line=first)


def _has_comment(whitespace: cst.BaseParenthesizableWhitespace) -> bool:
    return isinstance(whitespace, cst.ParenthesizedWhitespace) and (
        whitespace.first_line.comment is not None or any(line.comment is not None for line in whitespace.empty_lines)
    )


def _join_middle(
    keep: cst.BaseParenthesizableWhitespace, below: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """The whitespace before the next item after removing the item in between.

    `keep` followed the previous item (or the opening bracket); `below` followed the removed
    item: its comment lines and the next item's indentation stay, its own line's comment goes
    unless the removed item shared a line with the previous one.
    """
    if not isinstance(keep, cst.ParenthesizedWhitespace):
        return below if isinstance(below, cst.ParenthesizedWhitespace) else keep
    if isinstance(below, cst.ParenthesizedWhitespace):
        return keep.with_changes(
            empty_lines=[*keep.empty_lines, *below.empty_lines], indent=below.indent, last_line=below.last_line
        )
    return keep


def _changed_nodes(changes: Sequence[Change]) -> set[int]:
    """Ids of the nodes the changes rewrite (the statement holding each must be visited)."""
    out: set[int] = set()
    for change in changes:
        if isinstance(change, InsertDecorator):
            out.add(id(change.target))
        elif not isinstance(change, AddImport):
            out.add(id(change.node))
    return out


_CODE_FIELDS: dict[type, tuple[str, ...]] = {}
_KIND: dict[type, int] = {}  # 0: whitespace or punctuation, 1: a statement, 2: another node


def _statements_holding(module: cst.Module, targets: set[int]) -> set[int]:
    """Ids of the statements (at any depth) that hold a node of `targets` (a fast walk that
    skips whitespace and punctuation, which hold no change's node)."""
    found: set[int] = set()
    path: list[int] = []

    def kind_of(kind: type) -> int:
        known = _KIND.get(kind)
        if known is None:
            known = _KIND[kind] = 0 if issubclass(kind, NOISE) else 1 if issubclass(kind, _STATEMENTS) else 2
        return known

    def walk(node: cst.CSTNode) -> None:
        kind = type(node)
        statement = kind_of(kind) == 1
        if statement:
            path.append(id(node))
        if id(node) in targets:
            found.update(path)
        else:
            names = _CODE_FIELDS.get(kind)
            if names is None:
                names = _CODE_FIELDS[kind] = tuple(f.name for f in fields(node) if may_hold_code(f.type))
            for name in names:
                value = getattr(node, name)
                if isinstance(value, (tuple, list)):
                    for child in value:
                        if isinstance(child, cst.CSTNode) and kind_of(type(child)):
                            walk(child)
                elif isinstance(value, cst.CSTNode) and kind_of(type(value)):
                    walk(value)
        if statement:
            path.pop()

    walk(module)
    return found


class _Applier(cst.CSTTransformer):
    def __init__(self, changes: Sequence[Change], visit: set[int] | None = None) -> None:
        self.visit = visit  # the statements to enter (None: all)
        self.replace: dict[int, cst.CSTNode] = {}
        self.remove: set[int] = set()
        self.inserts: dict[int, list[InsertDecorator]] = {}
        self.imports: list[str] = []
        for change in changes:
            if isinstance(change, Replace):
                self.replace[id(change.node)] = change.new
            elif isinstance(change, Remove):
                self.remove.add(id(change.node))
                self.remove.update(id(line) for line in change.above)
            elif isinstance(change, InsertDecorator):
                self.inserts.setdefault(id(change.target), []).append(change)
            elif change.module not in self.imports:
                self.imports.append(change.module)
        # Comment lines above a removed statement move to the statement that follows it.
        self._carry: list[cst.EmptyLine] = []
        self._carry_to: int | None = None
        # Comments inside a replaced node that its replacement lacks: they go to the nearest line end.
        self._orphans: list[str] = []
        self._orphan_depth = 0  # they go to the replaced node's ancestors (depth below this)
        self._depth = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._depth += 1
        if self._carry and self._carry_to is None and isinstance(node, _STATEMENTS):
            self._carry_to = id(node)
        if self.visit is not None and isinstance(node, _STATEMENTS) and id(node) not in self.visit:
            return False  # nothing changes in it: libcst need not rebuild it
        if (
            isinstance(node, (cst.Import, cst.ImportFrom))
            and not isinstance(node.names, cst.ImportStar)
            and all(id(alias) in self.remove for alias in node.names)
        ):
            self.remove.add(id(node))  # every name goes: the statement goes (libcst forbids empty imports)
        return id(node) not in self.replace and id(node) not in self.remove

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel:
        key = id(original_node)
        depth, self._depth = self._depth, self._depth - 1
        if key in self.remove:
            if isinstance(original_node, _STATEMENTS):
                self._drop_statement(original_node)
            return cst.RemoveFromParent()
        if key in self.replace:
            new = self.replace[key]
            lost = _lost_comments(original_node, new)
            if lost:
                self._orphans.extend(lost)
                self._orphan_depth = min(self._orphan_depth, depth) if self._orphan_depth else depth
            return new
        if isinstance(original_node, cst.Call) and isinstance(updated_node, cst.Call):
            return self._fix_call(original_node, updated_node)
        if isinstance(original_node, (cst.List, cst.Set, cst.Tuple)) and isinstance(
            updated_node, (cst.List, cst.Set, cst.Tuple)
        ):
            return self._fix_collection(original_node, updated_node)
        if isinstance(original_node, cst.ImportFrom) and isinstance(updated_node, cst.ImportFrom):
            return self._fix_import(original_node, updated_node)
        if (
            isinstance(original_node, cst.SimpleStatementLine)
            and isinstance(updated_node, cst.SimpleStatementLine)
            and original_node.body
            and not updated_node.body
        ):
            self._drop_statement(original_node)
            return cst.RemoveFromParent()
        if key in self.inserts and isinstance(updated_node, (cst.FunctionDef, cst.ClassDef)):
            assert isinstance(original_node, (cst.FunctionDef, cst.ClassDef))
            updated_node = self._insert(original_node, updated_node)
        if self._orphans and depth < self._orphan_depth:
            updated_node = self._adopt(updated_node)
            self._orphan_depth = depth if self._orphans else 0
        if isinstance(updated_node, _STATEMENTS) and key == self._carry_to:
            updated_node = updated_node.with_changes(leading_lines=[*self._carry, *updated_node.leading_lines])
            self._carry, self._carry_to = [], None
        if isinstance(updated_node, (cst.IndentedBlock, cst.Module)) and self._carry and self._carry_to is None:
            # the removed statement was the last of its block: its comments stay at the block's end
            updated_node = updated_node.with_changes(footer=[*self._carry, *updated_node.footer])
            self._carry = []
        if isinstance(updated_node, cst.Module):
            for name in self.imports:
                updated_node = add_import(updated_node, name)
        return updated_node

    def _adopt(self, node: cst.CSTNode) -> cst.CSTNode:
        """`node` with the orphaned comments at the end of its line, or above it when it is a
        statement whose line has a comment already (unchanged when it has no place for them)."""
        text = "  ".join(self._orphans)
        if isinstance(node, (cst.Arg, cst.Element, cst.DictElement)):
            if isinstance(node.comma, cst.Comma):
                ending = _with_comment(node.comma.whitespace_after, text)
                if ending is not None:
                    self._orphans = []
                    return node.with_changes(comma=node.comma.with_changes(whitespace_after=ending))
            elif isinstance(node, cst.Arg):
                ending = _with_comment(node.whitespace_after_arg, text)
                if ending is not None:
                    self._orphans = []
                    return node.with_changes(whitespace_after_arg=ending)
            return node
        if isinstance(node, (cst.SimpleStatementLine, cst.Decorator)) and node.trailing_whitespace.comment is None:
            self._orphans = []
            trailing = node.trailing_whitespace.with_changes(
                whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(text)
            )
            return node.with_changes(trailing_whitespace=trailing)
        if isinstance(node, _STATEMENTS):
            lines = [cst.EmptyLine(comment=cst.Comment(c)) for c in self._orphans]
            self._orphans = []
            return node.with_changes(leading_lines=[*node.leading_lines, *lines])
        return node

    def _drop_statement(self, statement: _Statement) -> None:
        if self._carry_to == id(statement):
            self._carry_to = None  # the statement meant to receive the comments goes too
        if any(line.comment is not None for line in statement.leading_lines):
            self._carry = [*self._carry, *statement.leading_lines]

    # -- sequences: after removing items, keep the layout and comments of what stays --------
    def _shrink(
        self,
        original: Sequence[_Item],
        updated: Sequence[_Item],
        opening: cst.BaseParenthesizableWhitespace | None,
        closing: cst.BaseParenthesizableWhitespace | None,
        keep_comma: bool = False,
    ) -> tuple[list[_Item], cst.BaseParenthesizableWhitespace | None, cst.BaseParenthesizableWhitespace | None]:
        """The items after removals, and the new whitespace after the opening and before the
        closing bracket (None: unchanged).

        A removed item takes its own line's comment with it; every other comment stays. Comment
        lines below a removed item move to the item before it (or after the opening bracket).
        When the last item goes, the new last item keeps its own line's comment, takes over the
        layout before the closing bracket, and the sequence keeps its trailing-comma style.
        `opening`/`closing` are the brackets' own whitespace, when the node has it there.
        """
        if not original or not any(id(item) in self.remove for item in original):
            return list(updated), None, None
        items: list[_Item] = []
        kept = iter(updated)
        new_opening = opening
        for index, item in enumerate(original):
            if id(item) not in self.remove:
                items.append(next(kept))
                continue
            if index == len(original) - 1 or not isinstance(item.comma, cst.Comma):
                continue
            below = item.comma.whitespace_after  # the layout (and comment lines) before the next item
            if items:
                previous = items[-1]
                assert isinstance(previous.comma, cst.Comma)
                merged = _join_middle(previous.comma.whitespace_after, below)
                items[-1] = previous.with_changes(comma=previous.comma.with_changes(whitespace_after=merged))
            elif new_opening is not None:
                new_opening = _join_middle(new_opening, below)
        opening_change = new_opening if new_opening is not opening else None
        if id(original[-1]) not in self.remove or not items:
            return items, opening_change, None
        last, removed = items[-1], original[-1]
        comma = last.comma
        assert isinstance(comma, cst.Comma)  # it was not the last item
        parts: list[cst.BaseParenthesizableWhitespace] = []
        if isinstance(removed, cst.Arg):
            parts.append(removed.whitespace_after_arg)
        if isinstance(removed.comma, cst.Comma):
            parts.append(removed.comma.whitespace_after)
        if closing is not None:
            parts.append(closing)
        tail: cst.BaseParenthesizableWhitespace = next(
            (p for p in parts if isinstance(p, cst.ParenthesizedWhitespace)),
            next(
                (p for p in reversed(parts) if isinstance(p, cst.SimpleWhitespace) and p.value),
                cst.SimpleWhitespace(""),
            ),
        )
        whitespace = _join(comma.whitespace_after, tail)
        new_closing: cst.BaseParenthesizableWhitespace | None = None if closing is None else cst.SimpleWhitespace("")
        if isinstance(removed.comma, cst.Comma) or keep_comma:  # keep the trailing comma
            items[-1] = last.with_changes(comma=comma.with_changes(whitespace_after=whitespace))
        elif isinstance(last, cst.Arg):
            items[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=whitespace)
        else:
            items[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
            new_closing = whitespace if closing is not None else None
        return items, opening_change, new_closing

    def _fix_call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        args, opening, _ = self._shrink(original.args, updated.args, updated.whitespace_before_args, None)
        if original.args and not args:
            opening = _emptied(opening or updated.whitespace_before_args, original.args[-1])
        if opening is not None:
            updated = updated.with_changes(whitespace_before_args=opening)
        return updated.with_changes(args=args) if args != list(updated.args) else updated

    def _fix_collection(
        self, original: cst.List | cst.Set | cst.Tuple, updated: cst.List | cst.Set | cst.Tuple
    ) -> cst.List | cst.Set | cst.Tuple:
        opening: cst.BaseParenthesizableWhitespace | None
        if isinstance(updated, cst.List):
            opening, closing = updated.lbracket.whitespace_after, updated.rbracket.whitespace_before
        elif isinstance(updated, cst.Set):
            opening, closing = updated.lbrace.whitespace_after, updated.rbrace.whitespace_before
        elif updated.lpar and updated.rpar:
            opening, closing = updated.lpar[0].whitespace_after, updated.rpar[-1].whitespace_before
        else:
            opening = closing = None
        keep_comma = isinstance(updated, cst.Tuple) and len(updated.elements) == 1
        elements, new_opening, new_closing = self._shrink(
            original.elements, updated.elements, opening, closing, keep_comma
        )
        updated = updated.with_changes(elements=elements)
        if isinstance(updated, cst.List):
            if new_opening is not None:
                updated = updated.with_changes(lbracket=updated.lbracket.with_changes(whitespace_after=new_opening))
            if new_closing is not None:
                updated = updated.with_changes(rbracket=updated.rbracket.with_changes(whitespace_before=new_closing))
            return updated
        if isinstance(updated, cst.Set):
            if new_opening is not None:
                updated = updated.with_changes(lbrace=updated.lbrace.with_changes(whitespace_after=new_opening))
            if new_closing is not None:
                updated = updated.with_changes(rbrace=updated.rbrace.with_changes(whitespace_before=new_closing))
            return updated
        lpar, rpar = list(updated.lpar), list(updated.rpar)
        if new_opening is not None:
            lpar[0] = lpar[0].with_changes(whitespace_after=new_opening)
        if new_closing is not None:
            rpar[-1] = rpar[-1].with_changes(whitespace_before=new_closing)
        return updated.with_changes(lpar=lpar, rpar=rpar)

    def _fix_import(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom | cst.RemovalSentinel:
        if isinstance(original.names, cst.ImportStar) or isinstance(updated.names, cst.ImportStar):
            return updated
        if not any(id(alias) in self.remove for alias in original.names):
            return updated
        # (an import losing every name never gets here: on_visit removes the whole statement)
        lpar, rpar = updated.lpar, updated.rpar
        names, opening, closing = self._shrink(
            original.names,
            updated.names,
            lpar.whitespace_after if lpar else None,
            rpar.whitespace_before if rpar else None,
        )
        if rpar is None:  # without parentheses a trailing comma is a syntax error
            names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        updated = updated.with_changes(names=names)
        if lpar is not None and opening is not None:
            updated = updated.with_changes(lpar=lpar.with_changes(whitespace_after=opening))
        if rpar is not None and closing is not None:
            updated = updated.with_changes(rpar=rpar.with_changes(whitespace_before=closing))
        return updated

    def _insert(
        self, original: cst.FunctionDef | cst.ClassDef, updated: cst.FunctionDef | cst.ClassDef
    ) -> cst.FunctionDef | cst.ClassDef:
        decorators = list(updated.decorators)
        for insert in reversed(self.inserts[id(original)]):
            index = next(i for i, d in enumerate(original.decorators) if d is insert.after)
            decorators.insert(index + 1, insert.decorator)
        return updated.with_changes(decorators=decorators)


def _emptied(opening: cst.BaseParenthesizableWhitespace, last: cst.Arg) -> cst.BaseParenthesizableWhitespace:
    """The whitespace inside a call whose every argument was removed: none (`f()`), unless comment
    lines were there (after the opening bracket, or below the last argument)."""
    parts = [last.whitespace_after_arg]
    if isinstance(last.comma, cst.Comma):
        parts.append(last.comma.whitespace_after)
    tail = next((p for p in parts if isinstance(p, cst.ParenthesizedWhitespace)), None)
    if tail is not None:
        tail = tail.with_changes(first_line=cst.TrailingWhitespace())  # that comment went with the argument
    merged = opening if tail is None else _join(opening, tail)
    return merged if _has_comment(merged) else cst.SimpleWhitespace("")


def add_import(module: cst.Module, name: str) -> cst.Module:
    """`import NAME` after the module docstring, `__future__` imports and leading imports."""
    from modal_gpu_lint.rules.fixes import imports_module  # here: the rules are loaded once there is a fix to apply

    if imports_module(module, name):
        return module
    body = list(module.body)
    position = 0
    for index, statement in enumerate(body):
        if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) or (index == 0 and _is_docstring(s)) for s in statement.body
        ):
            if _imports_from(statement, name):
                position = index  # `import modal` right before `from modal import ...`, as isort orders them
                break
            position = index + 1
        else:
            break
    line = cst.SimpleStatementLine([cst.Import([cst.ImportAlias(cst.Name(name))])])
    if position < len(body) and _imports_from(body[position], name):
        # the new line takes the blank and comment lines above the statement it goes before
        line = line.with_changes(leading_lines=body[position].leading_lines)
        body[position] = body[position].with_changes(leading_lines=())
    body.insert(position, line)
    return module.with_changes(body=body)


def _imports_from(statement: cst.BaseStatement, name: str) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(s, cst.ImportFrom)
        and s.module is not None
        and not s.relative
        and cst.helpers.get_full_name_for_node(s.module) == name
        for s in statement.body
    )


def _is_docstring(statement: cst.BaseSmallStatement) -> bool:
    return isinstance(statement, cst.Expr) and isinstance(statement.value, (cst.SimpleString, cst.ConcatenatedString))


def apply(module: cst.Module, fixes: Sequence[Fix]) -> cst.Module:
    """The module with every change of `fixes` applied (they must not overlap: see `compatible`)."""
    changes = [change for fix in fixes for change in fix.changes]
    if not changes:
        return module
    holding = _statements_holding(module, _changed_nodes(changes))
    return _revalidating(lambda: module.visit(_Applier(changes, holding)))


def fix_edits(module: cst.Module, text: str, fix: Fix, index: LineIndex) -> tuple[Edit, ...]:
    """The fix as text edits, one per changed region of the file, for JSON output."""
    try:
        new = apply(module, [fix]).code
    except Exception:  # a broken fix must not break the report; `--fix` reports it
        return ()
    if new == text:
        return ()
    old_lines = text.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old, replacement = text[starts[i1] : starts[i2]], "".join(new_lines[j1:j2])
        prefix = 0
        while prefix < min(len(old), len(replacement)) and old[prefix] == replacement[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(old), len(replacement)) - prefix and old[-1 - suffix] == replacement[-1 - suffix]:
            suffix += 1
        row, column = index.row_col(starts[i1] + prefix)
        end_row, end_column = index.row_col(starts[i2] - suffix)
        edits.append(Edit(replacement[prefix : len(replacement) - suffix], row, column, end_row, end_column))
    return tuple(edits)
