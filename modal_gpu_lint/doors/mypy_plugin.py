"""mypy plugin: the GPU value rules (MGL001-MGL007) on every Modal call mypy type-checks.

Enable it with `plugins = modal_gpu_lint.doors.mypy_plugin` in any mypy config file. mypy sees the whole
program, so a `Final` constant or a `Literal[...]` type defined in another module is checked where
it is used. Values mypy cannot know (a plain `str`) are never errors. Errors carry the code
`modal-gpu`: silence one with `# type: ignore[modal-gpu]`, all with `disable_error_code`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

from mypy.errorcodes import ErrorCode
from mypy.errors import CompileError
from mypy.nodes import (
    ARG_NAMED,
    ARG_POS,
    DictExpr,
    Expression,
    ListExpr,
    MemberExpr,
    NameExpr,
    SetExpr,
    StrExpr,
    TupleExpr,
    Var,
)
from mypy.options import Options
from mypy.plugin import MethodContext, Plugin, ReportConfigContext
from mypy.types import Instance, LiteralType, NoneType, Type, UnionType, get_proper_type

from modal_gpu_lint import __version__
from modal_gpu_lint.analysis.values import UNKNOWN, ListValue, OtherValue, Value
from modal_gpu_lint.facts.catalog import catalog_text
from modal_gpu_lint.facts.modal_api import ALL_CALLS, ModalCall
from modal_gpu_lint.rules.gpu_checks import check_gpu_value
from modal_gpu_lint.run.config import ConfigError, Settings, load_settings

MODAL_GPU = ErrorCode("modal-gpu", "GPU request Modal rejects (modal-gpu-lint MGL001-MGL007)", "modal-gpu-lint")

REPORTED = frozenset({"MGL001", "MGL002", "MGL003", "MGL004", "MGL005", "MGL006", "MGL007"})
"""The codes this plugin reports (MGL009 is advice, off by default: the command line has it)."""

HOOKED: dict[str, ModalCall] = {name: call for call in ALL_CALLS for name in call.mypy_fullnames}
"""mypy's fullname of every Modal method that takes `gpu=` -> its row in the shared table."""

_INSTALLED = frozenset({"site-packages", "dist-packages"})


def call_name(call: ModalCall) -> str:
    """How messages name the call, as the command-line linter does ("Sandbox.create", ...)."""
    if call.kind == "sandbox.create":
        return "Sandbox.create"
    if call.kind.startswith("image."):
        return f"Image.{call.method}"
    return call.kind


class ModalGpuPlugin(Plugin):
    """Checks the `gpu=` argument of every call listed in `modal_api.ALL_CALLS`."""

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.settings = _load_settings(options)
        self._config_data = _config_data(self.settings)

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        call = HOOKED.get(fullname)
        return partial(self._check_call, call) if call is not None else None

    def report_config_data(self, ctx: ReportConfigContext) -> str | None:
        # Installed packages never show errors, so the GPU config cannot change what mypy prints for
        # them; leaving them out keeps their cache valid when the config changes.
        if _INSTALLED.intersection(Path(ctx.path).parts):
            return None
        return self._config_data

    def _check_call(self, call: ModalCall, ctx: MethodContext) -> Type:
        found = _gpu_argument(ctx)
        if found is not None:
            arg_type, expr = found
            codes = self.settings.codes_for(ctx.api.path) & REPORTED
            seen: set[str] = set()
            for value in read_values(arg_type, expr):
                verdicts = check_gpu_value(
                    value, accepts_list=call.accepts_list, catalog=self.settings.catalog, call=call_name(call)
                )
                for verdict in verdicts:
                    message = f"{verdict.code} {verdict.message}"
                    if verdict.code in codes and message not in seen:
                        seen.add(message)
                        ctx.api.fail(message, expr, code=MODAL_GPU)
        return ctx.default_return_type


def _gpu_argument(ctx: MethodContext) -> tuple[Type, Expression] | None:
    """The type and expression passed as `gpu=` (None when absent or passed through `*`/`**`)."""
    try:
        index = ctx.callee_arg_names.index("gpu")
    except ValueError:
        return None
    kinds = ctx.arg_kinds[index]
    if len(kinds) != 1 or kinds[0] not in (ARG_NAMED, ARG_POS):
        return None
    return ctx.arg_types[index][0], ctx.args[index][0]


def read_values(arg_type: Type, expr: Expression) -> list[Value]:
    """What `expr` (of type `arg_type`) can be: one value, or each member of a union of literals."""
    known = _from_type(arg_type)
    if known is not None:
        return known
    return [_from_expression(expr)]


def _from_type(typ: Type) -> list[Value] | None:
    proper = get_proper_type(typ)
    if isinstance(proper, UnionType):
        values = [_from_type(item) for item in proper.items]
        if all(v is not None for v in values):
            return [value for group in values if group is not None for value in group]
        return None
    if isinstance(proper, NoneType):
        return [None]
    literal = _literal(proper)
    return None if literal is UNKNOWN else [literal]


def _literal(typ: Type) -> Value:
    """The value of a literal type (`Literal["H100"]`, or `str` whose last known value is "H100")."""
    proper = get_proper_type(typ)
    if isinstance(proper, Instance) and proper.last_known_value is not None:
        proper = proper.last_known_value
    if not isinstance(proper, LiteralType) or proper.is_enum_literal():
        return UNKNOWN
    fallback = proper.fallback.type.fullname
    value = proper.value
    if fallback == "builtins.str" and isinstance(value, str):
        return value
    if fallback == "builtins.bool" and isinstance(value, bool):
        return value
    if fallback == "builtins.int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    return UNKNOWN


def _from_expression(expr: Expression) -> Value:
    """A value written in the call or held by a final or literal-typed name; else UNKNOWN."""
    if isinstance(expr, StrExpr):
        return expr.value
    if isinstance(expr, ListExpr):
        return ListValue(tuple(_from_expression(item) for item in expr.items))
    if isinstance(expr, TupleExpr):
        return OtherValue("a tuple")
    if isinstance(expr, DictExpr):
        return OtherValue("a dict")
    if isinstance(expr, SetExpr):
        return OtherValue("a set")
    if isinstance(expr, (NameExpr, MemberExpr)):
        if expr.fullname == "builtins.None":
            return None
        node = expr.node
        if isinstance(node, Var):
            if node.final_value is not None and isinstance(node.final_value, (str, int, bool)):
                return node.final_value
            if node.type is not None:
                return _literal(node.type)
    return UNKNOWN


def _load_settings(options: Options) -> Settings:
    """`[tool.modal-gpu-lint]` from the pyproject.toml nearest to mypy's config file (or the cwd)."""
    start = Path(options.config_file).resolve().parent if options.config_file else Path.cwd()
    try:
        return load_settings(start=start)
    except ConfigError as error:
        raise CompileError([f"error: modal-gpu-lint: {error}"]) from None


def _config_data(settings: Settings) -> str:
    """What invalidates mypy's cache for a module: the plugin version, the catalog and the config."""
    digest = hashlib.sha256()
    for part in (__version__, catalog_text(), settings.fingerprint):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return ModalGpuPlugin
