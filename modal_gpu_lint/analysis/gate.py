"""`may_have_sites(tree, text)`: whether a file can hold a Modal call site, read from Python's `ast`.

Every rule reports on a Modal call site or a removed Modal name that the call finder
(`analysis.sites`) finds in libcst's tree, and the finder trusts only what a name is bound to
(`analysis.resolve`). So a site needs one of:

- a binding of the `modal` package: `import modal...`, `from modal... import ...` (absolute), or
  a name assigned from `importlib.import_module(...)`: the only ways `Resolver.qualify` gives a
  `modal.X` name (Modal's classes, `modal.App(...)`, `Sandbox.create`, `modal.gpu.*`, `Stub`,
  `web_endpoint` and the imports of removed names all go through it);
- or an App imported from the project (`Resolver.is_app` without `modal`): an attribute
  `X.function` / `X.cls` / `X.server` whose `X` is a name bound by `from M import NAME` with an
  app-like NAME (`facts.modal_api.project_app`), or an attribute with an app-like name
  (`common.app`). `.with_options` sites need one of these too (on a function an App decorates).

This is a necessary condition, checked on the tree the nesting guard builds anyway, so a file
without it is not given to libcst: no finding is lost (tests/test_gate.py compares gated and
ungated results on every fixture, the corpus and generated programs). It errs on the side of
passing: imports are taken from every scope, `import *` passes, and so does any mention of
`import_module`. Python normalizes identifiers (NFKC) where libcst keeps them as written, which
only makes more names match here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from modal_gpu_lint.facts.modal_api import APP_CALLS, APP_LIKE_NAME, IMAGE_CALLS, project_app

_APP_METHODS = frozenset(APP_CALLS)  # function, cls, server
_IMAGE_METHODS = frozenset(IMAGE_CALLS)
_CONSTRUCTORS = frozenset({"App", "Stub", "lookup"})  # the last part of modal.App, modal.Stub, modal.App.lookup
_REMOTE_LOOKUPS = frozenset({"from_name", "lookup"})  # modal.Cls.from_name, modal.Function.lookup, ...
_REMOVED = frozenset({"gpu", "Stub", "web_endpoint"})  # modal.gpu.X(...), modal.Stub(...), modal.web_endpoint
# Text that an attribute `.function`/`.cls`/`.server` leaves, whatever is between the dot and the
# name (spaces, line continuations, newlines and comments inside brackets): when there is none and
# `modal` is not imported, the walk of the whole tree is skipped.
_METHOD_TEXT = re.compile(
    r"\.(?:[ \t\f\r\n]|\\(?:\r\n|\r|\n)|#[^\r\n]*)*(?:" + "|".join(sorted(_APP_METHODS)) + r")(?![\w])"
)
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def may_have_sites(tree: ast.AST, text: str) -> bool:
    """False only when no Modal call site or removed Modal name can be in the file."""
    imports = _Imports(tree)
    if imports.event:
        return True
    if "import_module" in text and _names_modal_module(tree):
        return True  # `m = importlib.import_module("modal")`: left to the call finder
    if not imports.modal and not _METHOD_TEXT.search(text):
        return False  # no App: neither `modal` nor an attribute `.function`/`.cls`/`.server`
    return _Uses(tree, imports).sites


def _names_modal_module(tree: ast.AST) -> bool:
    """Whether a string in the file names `modal` or a module in it (the resolver follows
    `importlib.import_module("...")` with a plain string only)."""
    return any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value == "modal" or node.value.startswith("modal."))
        for node in ast.walk(tree)
    )


class _Imports:
    """What the file's import statements (in every scope) bind."""

    def __init__(self, tree: ast.AST) -> None:
        self.modal = False  # some name is bound to the `modal` package or something in it
        self.event = False  # an import that is itself a finding's site (`from modal import Stub`, ...)
        # local name -> the last part of each dotted name it is imported as (what `qualify` ends in)
        self.bound: dict[str, set[str]] = {}
        self.apps: set[str] = set()  # local names of Apps imported from the project
        for statement in _statements(tree):
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    parts = alias.name.split(".")
                    if parts[0] == "modal":
                        self.modal = True
                        self.event |= alias.name == "modal.gpu"
                    local, last = (alias.asname, parts[-1]) if alias.asname else (parts[0], parts[0])
                    self.bound.setdefault(local, set()).add(last)
            elif isinstance(statement, ast.ImportFrom):
                module = statement.module or ""
                if statement.level == 0 and module.split(".")[0] == "modal":
                    self.modal = True
                    names = {alias.name for alias in statement.names}
                    self.event |= "*" not in names and (
                        module == "modal.gpu" or (module == "modal" and not names.isdisjoint(_REMOVED))
                    )
                for alias in statement.names:
                    self.bound.setdefault(alias.asname or alias.name, set()).add(alias.name)
                    if project_app(module, alias.name):
                        self.apps.add(alias.asname or alias.name)

    def names_as(self, expr: ast.expr, parts: frozenset[str]) -> bool:
        """Whether `Resolver.qualify(expr)` may end in one of `parts`: an attribute of that name,
        or a name imported as one."""
        if isinstance(expr, ast.Attribute):
            return expr.attr in parts
        return isinstance(expr, ast.Name) and not self.bound.get(expr.id, set()).isdisjoint(parts)


_IMAGE = frozenset({"Image"})
_SANDBOX = frozenset({"Sandbox"})
_CREATE = frozenset({"create"})
_GPU = frozenset({"gpu"})
_REMOTE_CLASSES = frozenset({"Cls", "Function"})
_CALL_ATTRIBUTES = _IMAGE_METHODS | {"with_options", "create", "aio"}
_REMOVED_ATTRIBUTES = frozenset({"Stub", "web_endpoint"})


class _Uses:
    """One walk of the tree: whether a call the call finder reports can be there. Each test
    mirrors one branch of `analysis.sites` with names in place of what they are bound to."""

    def __init__(self, tree: ast.AST, imports: _Imports) -> None:
        self.imports = imports
        self.assigned: dict[str, list[ast.expr]] = {}  # name -> every value assigned to it, anywhere
        self.sites = self._find(tree)

    def _find(self, tree: ast.AST) -> bool:
        """A candidate that passes with the assignments seen so far ends the walk (an assignment
        seen later only adds values); the others are tried again once every assignment is known."""
        modal = self.imports.modal
        apps: list[ast.expr] = []  # receivers of `.function`/`.cls`/`.server`
        calls: list[ast.Attribute] = []  # other attributes a Modal call may be made through
        for node in _nodes(tree):
            kind = type(node)
            if kind is ast.Attribute:
                assert isinstance(node, ast.Attribute)
                attr = node.attr
                if attr in _APP_METHODS:
                    if self._is_app(node.value):
                        return True
                    apps.append(node.value)
                if modal:
                    if attr in _CALL_ATTRIBUTES:
                        if self._modal_call(node):
                            return True
                        calls.append(node)
                    # `modal.Stub`, `modal.web_endpoint`, `modal.gpu.X`
                    if attr in _REMOVED_ATTRIBUTES or self.imports.names_as(node.value, _GPU):
                        return True
            elif kind is ast.Assign or kind is ast.AnnAssign or kind is ast.NamedExpr:
                assert isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr))
                if node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        for name in ast.walk(target):
                            if isinstance(name, ast.Name):
                                self.assigned.setdefault(name.id, []).append(node.value)
        return any(self._is_app(receiver) for receiver in apps) or any(self._modal_call(node) for node in calls)

    def _is_app(self, expr: ast.expr) -> bool:
        """`Resolver.is_app`, widened: a constructor call, a name assigned one (anywhere, in any
        shape) or imported from the project as an App, or an attribute with an app-like name."""
        if isinstance(expr, ast.Attribute):
            return APP_LIKE_NAME.search(expr.attr) is not None
        if isinstance(expr, ast.Name):
            if expr.id in self.imports.apps:
                return True
            return any(self._builds_app(value) for value in self.assigned.get(expr.id, ()))
        return self._builds_app(expr)

    def _builds_app(self, expr: ast.expr) -> bool:
        if not self.imports.modal:
            return False
        return any(
            isinstance(node, ast.Call) and self.imports.names_as(node.func, _CONSTRUCTORS) for node in ast.walk(expr)
        )

    def _modal_call(self, func: ast.Attribute) -> bool:
        """`_SiteFinder._modal_call` for `with_options`, `Sandbox.create(.aio)` and the image methods."""
        receiver = func.value
        if func.attr == "with_options":
            return self._remote_lookup(receiver, 0)
        if func.attr == "create":
            return self.imports.names_as(receiver, _SANDBOX)
        if func.attr == "aio":
            if isinstance(receiver, ast.Attribute) and receiver.attr == "create":
                return self.imports.names_as(receiver.value, _SANDBOX)
            return self.imports.names_as(receiver, _CREATE)
        return self._image(receiver, 0, frozenset())  # an image method

    def _remote_lookup(self, expr: ast.expr, depth: int) -> bool:
        """`modal.Cls.from_name(...)` and the like, or a name assigned one (Functions and Classes
        an App decorates are sites of their own)."""
        if depth > 64:
            return False
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Attribute) and func.attr in _REMOTE_LOOKUPS:
                return self.imports.names_as(func.value, _REMOTE_CLASSES)
            return self.imports.names_as(func, _REMOTE_LOOKUPS)
        if isinstance(expr, ast.Name):
            return any(self._remote_lookup(value, depth + 1) for value in self.assigned.get(expr.id, ()))
        return False

    def _image(self, expr: ast.expr, depth: int, seen: frozenset[str]) -> bool:
        """`_SiteFinder._image_state` widened: a chain of calls and attributes down to `modal.Image`,
        through names assigned one."""
        if depth > 64:
            return False
        if isinstance(expr, ast.Call):
            return self._image(expr.func, depth + 1, seen)
        if isinstance(expr, ast.Attribute):
            return expr.attr == "Image" or self._image(expr.value, depth + 1, seen)
        if not isinstance(expr, ast.Name):
            return False
        if self.imports.names_as(expr, _IMAGE):
            return True
        if expr.id in seen:
            return False
        values = self.assigned.get(expr.id, ())
        return any(self._image(value, depth + 1, seen | {expr.id}) for value in values)


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree, depth first, in about source order (`ast.walk` costs twice as
    much: its generators per node, and the `Load`/`Store` context nodes it also visits)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        for name in node._fields:
            if name == "ctx":
                continue
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend([child for child in reversed(value) if isinstance(child, ast.AST)])
            elif isinstance(value, ast.AST):
                stack.append(value)


def _statements(tree: ast.AST) -> list[ast.stmt]:
    """Every statement, at any depth (imports may sit in a function, a `try` or an `if`);
    expressions are not entered: no statement is inside one."""
    out: list[ast.stmt] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for name in _BODIES:
            children = getattr(node, name, None)
            if children:
                for child in children:
                    if isinstance(child, ast.stmt):
                        out.append(child)
                    stack.append(child)  # an except handler or a match case holds statements too
    return out
