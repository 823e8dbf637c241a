"""`walk.visit` calls exactly the hooks libcst's own `node.visit` calls, in the same order.

The linter's visitors (sites, scopes, name uses) run on `walk.visit` because libcst's walk rebuilds
every node it passes. A tracer visitor with a hook for every node class and every field records
both walks over every fixture file; a sparse visitor (some hooks, one that skips children) checks
the pruned fast path the real visitors take.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from conftest import FIXTURES

from modal_gpu_lint.analysis.walk import visit

FILES = sorted(p for p in FIXTURES.rglob("*.py") if "mypy" not in p.parts)


def _tracer() -> type[cst.CSTVisitor]:
    """A visitor class with visit_/leave_ hooks for every node class and every field."""

    def hook(tag: str) -> Callable[[Any, cst.CSTNode], None]:
        def record(self: Any, node: cst.CSTNode) -> None:
            self.log.append((tag, id(node)))

        return record

    namespace: dict[str, Any] = {}
    for kind in vars(cst).values():
        if isinstance(kind, type) and issubclass(kind, cst.CSTNode) and dataclasses.is_dataclass(kind):
            name = kind.__name__
            namespace[f"visit_{name}"] = hook(f"visit {name}")
            namespace[f"leave_{name}"] = hook(f"leave {name}")
            for f in dataclasses.fields(kind):
                namespace[f"visit_{name}_{f.name}"] = hook(f"visit {name}.{f.name}")
                namespace[f"leave_{name}_{f.name}"] = hook(f"leave {name}.{f.name}")
    namespace["__init__"] = lambda self: setattr(self, "log", [])
    return type("Tracer", (cst.CSTVisitor,), namespace)


class Sparse(cst.CSTVisitor):
    """A few hooks, as the linter's visitors have; skips the children of some functions."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.log.append(("call", id(node)))

    def visit_Name(self, node: cst.Name) -> None:
        self.log.append(("name", id(node)))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.log.append(("def", id(node)))
        return len(node.name.value) % 3 != 0

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.log.append(("body", id(node)))

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self.log.append(("end body", id(node)))

    def visit_FormattedStringExpression_format_spec(self, node: cst.FormattedStringExpression) -> None:
        self.log.append(("format spec", id(node)))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.log.append(("end class", id(original_node)))


TRACER = _tracer()

EXTRA = """\
x = f"{a!r:>{width}} {b=} {c:{d}.{e}}"
match command:
    case [Point(x=0, y=0), *rest] if rest: pass
    case {"k": v, **kw}: pass
async def f[T](a, /, b: int = 1, *args, c, **kw) -> T:
    async with a as (b, c), d:
        async for i in aiter(): yield [j async for j in i if (k := j)]
    global g
    del x[0], y.z
    lambda q=1, *r: (yield)
type Alias = list[int]
"""


@pytest.mark.parametrize("path", [*FILES, "extra"], ids=[*(p.name for p in FILES), "extra"])
def test_same_hooks_in_the_same_order(path: Path | str) -> None:
    text = EXTRA if path == "extra" else Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        pytest.skip("not parseable (a bad-input fixture)")
    for kind in (TRACER, Sparse):
        theirs, ours = kind(), kind()
        module.visit(theirs)
        visit(module, ours)
        assert ours.log == theirs.log, kind.__name__  # type: ignore[attr-defined]
        assert ours.log  # type: ignore[attr-defined]
