"""The layout docs/architecture.md describes: layers that import only downward, no import circle,
small modules, few modules at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "modal_gpu_lint"
# From the bottom up: a module may import from its own layer or a lower one, never a higher one.
LAYERS = ["findings", "facts", "analysis", "rules", "fix", "run", "report", "doors"]
TOP_LEVEL = {"__init__", "__main__", "findings", "mypy_plugin"}


def module_name(path: Path) -> str:
    parts = ("modal_gpu_lint", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts).removesuffix(".__init__")


def imports(path: Path) -> set[str]:
    """Every module of the package that `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("modal_gpu_lint"):
            for alias in node.names:  # `from modal_gpu_lint.rules import registry` imports a module
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("modal_gpu_lint"))
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: imports(path) for name, path in MODULES.items()}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_layers_import_only_downward() -> None:
    upward = [
        (module, target)
        for module, targets in GRAPH.items()
        for target in targets
        if layer(module) in LAYERS
        and layer(target) in LAYERS
        and LAYERS.index(layer(target)) > LAYERS.index(layer(module))
    ]
    assert upward == []


def test_no_import_circle() -> None:
    """Depth-first search over every import, lazy ones included: no module reaches itself."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if target not in MODULES or target == module:
                continue
            if state.get(target) == 1:
                return [*path, module, target]
            if target not in state:
                cycle = visit(target, [*path, module])
                if cycle:
                    return cycle
        state[module] = 2
        return None

    for module in sorted(MODULES):
        if module not in state:
            assert visit(module, []) is None


def test_top_level_holds_few_modules() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL
    assert len(top) <= 8


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_600_lines(name: str) -> None:
    assert len(MODULES[name].read_text(encoding="utf-8").splitlines()) <= 600


def test_package_inits_import_nothing() -> None:
    """Importing a package costs nothing: the mypy plugin and warm runs rely on it (no libcst)."""
    for name, path in MODULES.items():
        if path.name == "__init__.py" and name not in ("modal_gpu_lint", "modal_gpu_lint.analysis.body"):
            body = ast.parse(path.read_text(encoding="utf-8")).body
            assert all(isinstance(node, ast.Expr) for node in body), name
