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
    if "import_module" in text:
        return True
    imports = _Imports(tree)
    if imports.event:
        return True
    if not imports.modal and not _METHOD_TEXT.search(text):
        return False  # no App: neither `modal` nor an attribute `.function`/`.cls`/`.server`
    return _Uses(tree, imports).sites


class _Imports:
    """What the file's import statements (in every scope) bind."""

    def __init__(self, tree: ast.AST) -> None:
        self.modal = False  # some name is bound to the `modal` package or something in it
        self.event = False  # an import that is itself a finding's site (`from modal import Stub`, ...)
        self.names: set[str] = set()  # the last part of every imported name (what `qualify` may end in)
        self.apps: set[str] = set()  # local names of Apps imported from the project
        self.constructors: set[str] = set()  # local names of an imported App, Stub or lookup
        for statement in _statements(tree):
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    parts = alias.name.split(".")
                    self.names.update(parts)
                    if parts[0] == "modal":
                        self.modal = True
                        self.event |= alias.name == "modal.gpu"
                    if alias.asname and parts[-1] in _CONSTRUCTORS:
                        self.constructors.add(alias.asname)
            elif isinstance(statement, ast.ImportFrom):
                module = statement.module or ""
                self.names.update(module.split("."))
                top = module.split(".")[0] if statement.level == 0 else ""
                if top == "modal":
                    self.modal = True
                    names = {alias.name for alias in statement.names}
                    self.event |= "*" not in names and (
                        module == "modal.gpu" or (module == "modal" and not names.isdisjoint(_REMOVED))
                    )
                for alias in statement.names:
                    self.names.add(alias.name)
                    if alias.name in _CONSTRUCTORS:
                        self.constructors.add(alias.asname or alias.name)
                    if project_app(module, alias.name):
                        self.apps.add(alias.asname or alias.name)


class _Uses:
    """One walk of the tree: whether a call the call finder reports can be there."""

    def __init__(self, tree: ast.AST, imports: _Imports) -> None:
        self.imports = imports
        attributes: set[str] = set()
        receivers: list[ast.expr] = []  # of `.function`/`.cls`/`.server`
        self.assigned: dict[str, list[ast.expr]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                attributes.add(node.attr)
                if node.attr in _APP_METHODS:
                    receivers.append(node.value)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            self.assigned.setdefault(name.id, []).append(node.value)
        self.sites = any(self._is_app(receiver) for receiver in receivers)
        if imports.modal and not self.sites:
            named = attributes | imports.names  # every last part `Resolver.qualify` can give
            self.sites = (
                not attributes.isdisjoint(_REMOVED)
                or ("with_options" in attributes and not named.isdisjoint(_REMOTE_LOOKUPS))
                or (not attributes.isdisjoint({"create", "aio"}) and "Sandbox" in named)
                or (not attributes.isdisjoint(_IMAGE_METHODS) and "Image" in named)
            )

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
        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr in _CONSTRUCTORS:
                    return True
                if isinstance(func, ast.Name) and func.id in self.imports.constructors:
                    return True
        return False


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
