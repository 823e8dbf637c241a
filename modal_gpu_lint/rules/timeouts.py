"""Timeout rules (MGL1xx)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from modal_gpu_lint.analysis.resolve import Defined
from modal_gpu_lint.analysis.sites import Site
from modal_gpu_lint.analysis.values import GpuObject, KnownType, ListValue, Value
from modal_gpu_lint.facts.modal_api import DEFAULT_TIMEOUT, MAX_TIMEOUT, SCALEDOWN_RANGE
from modal_gpu_lint.findings import Finding, Fix, Replace
from modal_gpu_lint.rules.base import Rule
from modal_gpu_lint.rules.context import Context

RULES = (
    Rule(
        code="MGL101",
        name="missing-timeout",
        default=True,
        fix="unsafe",
        summary="`@app.function` / `@app.cls` that requests a GPU and sets no `timeout=`; also "
        "`Model.with_options(gpu=...)` that adds a GPU to a function or class of this module that sets no "
        "timeout, without passing `timeout=` itself.",
        why=f"Modal stops a call after {DEFAULT_TIMEOUT} s by default: long GPU jobs are killed silently, "
        "after paid GPU time. Choose the value from the longest call you expect (a measured run plus a "
        "margin), from 1 to 86400 s; it applies per attempt, so retries multiply the wall time. Never "
        "reported on `@app.server` (it has no `timeout`), on CPU-only functions, on web-serving functions "
        "(`@modal.fastapi_endpoint`, `asgi_app`, `wsgi_app`, `web_server`, or a class with such a method), "
        "whose requests HTTP bounds anyway (Modal answers a request still running after 150 s with a redirect), "
        "nor on `with_options` of a target looked up by name (its timeout is not in this file).",
        example='@app.function(gpu="H100")',
        instead='@app.function(gpu="H100", timeout=3600)',
        fix_note="Unsafe: adds `timeout=` with the configured `fix-timeout` (default 3600), which changes how long "
        "a call may run: replace it by the longest call you expect plus a margin.",
        valid=(
            '@app.function(gpu="H100", timeout=3600)\ndef f(): ...',
            "@app.function()\ndef f(): ...",
            '@app.server(gpu="H100")\nclass S: ...',
            '@app.function(gpu="H100")\n@modal.fastapi_endpoint()\ndef f(): ...',
            '@app.function(gpu="L4")\n@modal.asgi_app()\ndef f(): ...',
            '@app.cls(gpu="A10")\nclass S:\n    @modal.wsgi_app()\n    def web(self): ...',
            '@app.function(gpu="H100")\n@modal.web_server(8000)\ndef f(): ...',
        ),
        invalid=('@app.function(gpu="H100")\ndef f(): ...',),
    ),
    Rule(
        code="MGL102",
        name="timeout-out-of-range",
        default=True,
        fix=None,
        summary="`timeout` of None, below 1 or above 86400; `startup_timeout` below 1 or above 86400; "
        "`scaledown_window` outside 2 to 3600.",
        why="`timeout=None` raises in the client; out-of-range values pass the client and are rejected by "
        "the server at deploy time.",
        example='@app.function(gpu="H100", timeout=48 * 60 * 60)',
        instead='@app.function(gpu="H100", timeout=24 * 60 * 60)',
        valid=("@app.function(timeout=86400, scaledown_window=2)\ndef f(): ...",),
        invalid=("@app.function(timeout=0)\ndef f(): ...",),
    ),
)

_TIMED = ("app.function", "app.cls")


def check(ctx: Context) -> Iterator[Finding]:
    """Missing and out-of-range timeouts."""
    for site in ctx.facts.sites:
        if (
            ctx.wants("MGL101")
            and site.api.kind in _TIMED
            and _requests_gpu(ctx, site)
            and site.arg("timeout") is None
            and not site.star_kwargs
            and site.call is not None
            and not _serves_web(site)
        ):
            yield _missing(ctx, site, site.call)
        if (
            ctx.wants("MGL101")
            and site.api.kind == "with_options"
            and site.arg("timeout") is None
            and not site.star_kwargs
            and site.call is not None
            and _requests_gpu(ctx, site)
            and _untimed_cpu_target(ctx, site, site.call)
        ):
            yield _missing(ctx, site, site.call)
        if ctx.wants("MGL102"):
            yield from _ranges(ctx, site)


# Decorators that make a function (or a class's method) serve HTTP: each request is bounded by HTTP
# (a redirect after 150 s) whatever `timeout=` says (../shared/modal-facts.md, "Timeouts").
WEB_DECORATORS = frozenset({"fastapi_endpoint", "asgi_app", "wsgi_app", "web_server", "web_endpoint"})


def _serves_web(site: Site) -> bool:
    """The decorated function is a web endpoint, or the decorated class has one."""
    target = site.target
    if target is None:
        return False
    if _is_web(target.decorators):
        return True
    if isinstance(target, cst.ClassDef):
        return any(
            isinstance(stmt, cst.FunctionDef) and _is_web(stmt.decorators)
            for stmt in target.body.body
            if not isinstance(target.body, cst.SimpleStatementSuite)
        )
    return False


def _is_web(decorators: Sequence[cst.Decorator]) -> bool:
    """`@modal.asgi_app()`, `@m.asgi_app()` (`import modal as m`), `@asgi_app()` (imported from modal),
    called or bare. The module is not resolved: a look-alike only silences MGL101, the safe side."""
    for decorator in decorators:
        expr = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            name = expr.attr.value
        elif isinstance(expr, cst.Name):
            name = expr.value
        else:
            continue
        if name in WEB_DECORATORS:
            return True
    return False


def _requests_gpu(ctx: Context, site: Site) -> bool:
    """True only when every value `gpu=` may take is a known GPU request."""
    arg = site.arg("gpu")
    if arg is None:
        return False
    values = ctx.values(site, arg.value)
    return bool(values) and all(_is_request(v) for v in values)


def _is_request(value: Value) -> bool:
    """A GPU string, a `modal.gpu` object or a non-empty list: `None`, `""`, `[]`, unknowns and non-GPU
    values are not."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (GpuObject, KnownType)):
        return True  # `modal.gpu.H100()` (removed, MGL008), `f"H100:{n}"`: a GPU all the same
    return isinstance(value, ListValue) and bool(value.items)


def _untimed_cpu_target(ctx: Context, site: Site, call: cst.Call) -> bool:
    """Whether `Target.with_options(...)` applies to a def or class of this module whose decorator
    sets no timeout and requests no GPU (one that does is reported at its decorator)."""
    receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
    if not isinstance(receiver, cst.Name):
        return False
    found, _ = ctx.facts.resolver.lookup(receiver.value, site.scopes)
    if len(found) != 1 or not isinstance(found[0], Defined):
        return False
    target = found[0].node
    decorators = [s for s in ctx.facts.sites if s.target is target and s.api.kind in _TIMED]
    if len(decorators) != 1:
        return False
    decorator = decorators[0]
    if decorator.star_kwargs or decorator.arg("timeout") is not None:
        return False
    gpu = decorator.arg("gpu")
    return gpu is None or all(v is None for v in ctx.values(decorator, gpu.value))


def _missing(ctx: Context, site: Site, call: cst.Call) -> Finding:
    what = f"{site.api.kind} requests a GPU but sets no timeout"
    if site.api.kind == "with_options":
        what = "with_options adds a GPU to a target that sets no timeout, and passes none"
    message = (
        f"{what}: Modal stops each call after {DEFAULT_TIMEOUT} s; set timeout= to the longest call you expect "
        f"plus a margin (1 to {MAX_TIMEOUT} s, per attempt)"
    )
    return Finding("MGL101", message, call, call, _add_timeout(call, ctx.fix_timeout))


def _add_timeout(call: cst.Call, seconds: int) -> Fix:
    """`timeout=N` appended as the last argument, in the call's own layout (comments stay put)."""
    new = cst.Arg(
        keyword=cst.Name("timeout"),
        value=cst.Integer(str(seconds)),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    return Fix(
        "unsafe",
        f"Add timeout={seconds} (the `fix-timeout` setting; use your longest expected call plus a margin)",
        (Replace(call, call.with_changes(args=append_arg(call, new))),),
    )


def append_arg(call: cst.Call, new: cst.Arg) -> list[cst.Arg]:
    """The call's arguments with `new` added last, laid out like the others.

    One line stays one line (`f(a, b, new)`); with the closing parenthesis on its own line the
    new argument gets its own line at the arguments' indentation, the trailing comma style is
    kept, and a comment after the old last argument stays on that argument's line.
    """
    args = list(call.args)
    if not args:
        return [new]
    last = args[-1]
    trailing = isinstance(last.comma, cst.Comma)
    closing = last.comma.whitespace_after if isinstance(last.comma, cst.Comma) else last.whitespace_after_arg
    if not isinstance(closing, cst.ParenthesizedWhitespace):  # `)` on the last argument's line
        if isinstance(last.comma, cst.Comma):
            new = new.with_changes(comma=last.comma)
            args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        else:
            new = new.with_changes(whitespace_after_arg=last.whitespace_after_arg)
            args[-1] = last.with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
        return [*args, new]
    between = args[-2].comma.whitespace_after if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else None
    if not isinstance(between, cst.ParenthesizedWhitespace):
        between = (
            call.whitespace_before_args
            if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace)
            else None
        )
    if isinstance(between, cst.ParenthesizedWhitespace):
        indent, last_line = between.indent, between.last_line
    else:
        indent, last_line = closing.indent, cst.SimpleWhitespace(closing.last_line.value + "    ")
    # the old last argument's line keeps its comment; the new argument goes on the next line
    line_break = closing.with_changes(indent=indent, last_line=last_line)
    close = cst.ParenthesizedWhitespace(indent=closing.indent, last_line=closing.last_line)
    comma = last.comma if isinstance(last.comma, cst.Comma) else cst.Comma()
    if trailing:
        args[-1] = last.with_changes(comma=comma.with_changes(whitespace_after=line_break))
        new = new.with_changes(comma=cst.Comma(whitespace_after=close))
    else:
        args[-1] = last.with_changes(
            comma=comma.with_changes(whitespace_after=line_break), whitespace_after_arg=cst.SimpleWhitespace("")
        )
        new = new.with_changes(whitespace_after_arg=close)
    return [*args, new]


def _ranges(ctx: Context, site: Site) -> Iterator[Finding]:
    for name, low, high in (
        ("timeout", 1, MAX_TIMEOUT),
        ("startup_timeout", 1, MAX_TIMEOUT),
        ("scaledown_window", *SCALEDOWN_RANGE),
    ):
        arg = site.arg(name)
        if arg is None:
            continue
        for value in dict.fromkeys(ctx.values(site, arg.value)):
            if value is None and name == "timeout" and site.api.kind in _TIMED:
                # `with_options(timeout=None)` keeps the class's timeout; a Sandbox takes None when persistent
                yield Finding(
                    "MGL102", "timeout=None raises InvalidError in Modal's client: give seconds (1 to 86400)", arg, arg
                )
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and not low <= value <= high:
                yield Finding(
                    "MGL102", f"{name}={value:g} is outside {low} to {high} seconds: Modal rejects it", arg, arg
                )
