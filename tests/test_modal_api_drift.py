"""The shared table of Modal calls (`modal_api.ALL_CALLS`) against the installed `modal` stubs.

Reads every `.pyi` file of the installed package, finds each public method with a `gpu`
parameter, and names it the way mypy does. The table must list exactly those names, and a call
accepts fallback lists exactly when its stub annotation allows `list[str]`.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from modal_gpu_lint.facts.modal_api import ALL_CALLS, ModalCall


def modal_root() -> Path:
    spec = importlib.util.find_spec("modal")
    assert spec is not None, "the real `modal` package must be installed"
    assert spec.origin is not None, "the real `modal` package must be installed"
    return Path(spec.origin).parent


def _is_public(name: str) -> bool:
    return not name.startswith("_")


def _spec_attribute(name: str) -> str | None:
    """`__create_spec` -> "create": the protocol modal's stubs type a method attribute with."""
    if name.startswith("__") and name.endswith("_spec") and not name.endswith("__"):
        return name[2 : -len("_spec")]
    return None


def _gpu_annotation(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    args = func.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        if arg.arg == "gpu":
            return ast.unparse(arg.annotation) if arg.annotation is not None else ""
    return None


def _methods(cls: ast.ClassDef, prefix: str) -> Iterator[tuple[str, str]]:
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_public(node.name):
            annotation = _gpu_annotation(node)
            if annotation is not None:
                yield f"{prefix}.{node.name}", annotation
        elif isinstance(node, ast.ClassDef):
            attribute = _spec_attribute(node.name)
            if attribute is not None and _is_public(attribute):
                for node_ in node.body:
                    if isinstance(node_, (ast.FunctionDef, ast.AsyncFunctionDef)) and node_.name in ("__call__", "aio"):
                        annotation = _gpu_annotation(node_)
                        if annotation is not None:
                            yield f"{prefix}.{node.name}.{node_.name}", annotation


def gpu_methods_in_stub(module: str, text: str) -> dict[str, str]:
    """mypy fullname -> annotation of `gpu`, for public classes of one stub module."""
    out: dict[str, str] = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.ClassDef) and _is_public(node.name):
            out.update(_methods(node, f"{module}.{node.name}"))
    return out


def stub_gpu_methods(root: Path) -> dict[str, str]:
    """Every public method with a `gpu` parameter in the public modules of the `modal` package."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*.pyi")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not all(_is_public(part) for part in parts):
            continue
        out.update(gpu_methods_in_stub(".".join(parts), path.read_text(encoding="utf-8")))
    return out


def table() -> dict[str, ModalCall]:
    return {name: call for call in ALL_CALLS for name in call.mypy_fullnames}


@pytest.fixture(scope="module")
def stubs() -> dict[str, str]:
    found = stub_gpu_methods(modal_root())
    assert found, "no .pyi stub with a gpu parameter found in the installed modal package"
    return found


def test_table_lists_every_stub_method_with_gpu(stubs: dict[str, str]) -> None:
    missing = sorted(set(stubs) - set(table()))
    assert not missing, f"modal methods taking gpu= missing from modal_api.ALL_CALLS: {missing}"


def test_table_lists_no_method_that_is_gone(stubs: dict[str, str]) -> None:
    stale = sorted(set(table()) - set(stubs))
    assert not stale, f"modal_api.ALL_CALLS names methods without a gpu parameter in modal's stubs: {stale}"


def test_list_acceptance_matches_stub_annotations(stubs: dict[str, str]) -> None:
    wrong = {
        name: annotation
        for name, call in table().items()
        if name in stubs and ("list[" in (annotation := stubs[name])) != call.accepts_list
    }
    assert not wrong, f"accepts_list disagrees with the stub's gpu annotation: {wrong}"


def test_every_call_kind_has_a_mypy_name() -> None:
    assert all(call.mypy_fullnames for call in ALL_CALLS)
    assert len(table()) == sum(len(call.mypy_fullnames) for call in ALL_CALLS), "a mypy name is listed twice"


SAMPLE_STUB = """
import typing
import typing_extensions

class Sandbox:
    class __create_spec(typing_extensions.Protocol):
        def __call__(self, /, *args: str, gpu: typing.Optional[str] = None) -> Sandbox: ...
        async def aio(self, /, *args: str, gpu: typing.Optional[str] = None) -> Sandbox: ...

    create: typing.ClassVar[__create_spec]

    class ___private_spec(typing_extensions.Protocol):
        def __call__(self, /, gpu: str) -> None: ...

    def new_method(self, *, gpu: typing.Union[str, list[str], None] = None) -> None: ...
    def _hidden(self, gpu: str) -> None: ...
    def no_gpu(self, cpu: float) -> None: ...

class _Sandbox:
    def create(self, gpu: str) -> None: ...
"""


def test_scanner_finds_methods_and_spec_protocols_the_way_mypy_names_them() -> None:
    assert gpu_methods_in_stub("modal.sandbox.sandbox", SAMPLE_STUB) == {
        "modal.sandbox.sandbox.Sandbox.__create_spec.__call__": "typing.Optional[str]",
        "modal.sandbox.sandbox.Sandbox.__create_spec.aio": "typing.Optional[str]",
        "modal.sandbox.sandbox.Sandbox.new_method": "typing.Union[str, list[str], None]",
    }


def test_drift_is_detected_both_ways(tmp_path: Path) -> None:
    """A fake package: one method missing from the table, and table rows absent from it."""
    package = tmp_path / "modal"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sandbox").mkdir()
    (package / "sandbox" / "sandbox.pyi").write_text(SAMPLE_STUB)
    (package / "_private.pyi").write_text("class Image:\n    def pip_install(self, gpu: str) -> None: ...\n")
    found = stub_gpu_methods(package)
    assert set(found) - set(table()) == {"modal.sandbox.sandbox.Sandbox.new_method"}
    assert "modal.app.App.function" in set(table()) - set(found)
