"""Timeout rules (MGL1xx)."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ..findings import Finding, Fix, Replace
from ..modal_api import DEFAULT_TIMEOUT, MAX_TIMEOUT, SCALEDOWN_RANGE
from ..sites import Site
from ..values import ListValue, Unknown
from .base import Rule
from .context import Context

RULES = (
    Rule(
        "MGL101", "missing-timeout", True, "unsafe",
        "`@app.function` / `@app.cls` that requests a GPU and sets no `timeout=`.",
        f"Modal stops a call after {DEFAULT_TIMEOUT} s by default: long GPU jobs are killed silently, "
        "after paid GPU time. Never reported on `@app.server` (it has no `timeout`) or CPU-only functions.",
        '@app.function(gpu="H100")',
        '@app.function(gpu="H100", timeout=3600)',
        "Unsafe: adds `timeout=` with the configured `fix-timeout` (default 3600), which changes how long "
        "a call may run.",
        valid=(
            '@app.function(gpu="H100", timeout=3600)\ndef f(): ...',
            "@app.function()\ndef f(): ...",
            '@app.server(gpu="H100")\nclass S: ...',
        ),
        invalid=('@app.function(gpu="H100")\ndef f(): ...',),
    ),
    Rule(
        "MGL102", "timeout-out-of-range", True, None,
        "`timeout` of None, below 1 or above 86400; `startup_timeout` below 1 or above 86400; "
        "`scaledown_window` outside 2 to 3600.",
        "`timeout=None` raises in the client; out-of-range values pass the client and are rejected by "
        "the server at deploy time.",
        '@app.function(gpu="H100", timeout=48 * 60 * 60)',
        '@app.function(gpu="H100", timeout=24 * 60 * 60)',
        valid=('@app.function(timeout=86400, scaledown_window=2)\ndef f(): ...',),
        invalid=("@app.function(timeout=0)\ndef f(): ...",),
    ),
)

_TIMED = ("app.function", "app.cls")


def check(ctx: Context) -> Iterator[Finding]:
    """Missing and out-of-range timeouts."""
    for site in ctx.facts.sites:
        if ctx.wants("MGL101") and site.api.kind in _TIMED and _requests_gpu(ctx, site):
            if site.arg("timeout") is None and not site.star_kwargs and site.call is not None:
                yield _missing(ctx, site, site.call)
        if ctx.wants("MGL102"):
            yield from _ranges(ctx, site)


def _requests_gpu(ctx: Context, site: Site) -> bool:
    """True only when every value `gpu=` may take is a known GPU request."""
    arg = site.arg("gpu")
    if arg is None:
        return False
    values = ctx.values(site, arg.value)
    return bool(values) and all(v is not None and not isinstance(v, (Unknown, bool)) for v in values) and any(
        isinstance(v, (str, ListValue)) for v in values
    )


def _missing(ctx: Context, site: Site, call: cst.Call) -> Finding:
    message = (
        f"{site.api.kind} requests a GPU but sets no timeout: Modal stops each call after "
        f"{DEFAULT_TIMEOUT} s; set timeout= to the longest run you expect"
    )
    return Finding("MGL101", message, call, call, _add_timeout(call, ctx.fix_timeout))


def _add_timeout(call: cst.Call, seconds: int) -> Fix:
    """`timeout=N` appended as the last argument, in the call's own layout."""
    new = cst.Arg(
        keyword=cst.Name("timeout"),
        value=cst.Integer(str(seconds)),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if args and isinstance(args[-1].comma, cst.Comma):
        # A trailing comma: the new argument takes it over, the old last one takes the separator
        # used between arguments (or the layout after the opening parenthesis).
        before = args[-2].comma if len(args) > 1 else None
        separator = before if isinstance(before, cst.Comma) else cst.Comma(whitespace_after=call.whitespace_before_args)
        new = new.with_changes(comma=args[-1].comma)
        args[-1] = args[-1].with_changes(comma=separator)
    elif args:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(new)
    return Fix("unsafe", f"Add timeout={seconds}", (Replace(call, call.with_changes(args=args)),))


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
            if value is None and name == "timeout":
                yield Finding("MGL102", "timeout=None raises InvalidError in Modal's client: give seconds (1 to 86400)", arg, arg)
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and not low <= value <= high:
                yield Finding("MGL102", f"{name}={value:g} is outside {low} to {high} seconds: Modal rejects it", arg, arg)
