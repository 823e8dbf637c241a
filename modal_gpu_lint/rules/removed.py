"""Removed Modal API rules (MGL2xx)."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from ..findings import AddImport, Finding, Fix, InsertDecorator, Remove, Replace
from ..modal_api import RENAMED_AUTOSCALER
from ..resolve import ModuleRef
from ..sites import Event, Site
from .base import Rule
from .context import Context

RULES = (
    Rule(
        "MGL201", "renamed-autoscaler-parameter", True, "safe",
        "`keep_warm`, `concurrency_limit` or `container_idle_timeout` on a Modal call.",
        "They were renamed to `min_containers`, `max_containers` and `scaledown_window`; the old names "
        "raise since client 1.4.0.",
        '@app.function(gpu="T4", timeout=60, container_idle_timeout=300)',
        '@app.function(gpu="T4", timeout=60, scaledown_window=300)',
        "Safe: renames the keyword where the call accepts the new name.",
        valid=("@app.function(min_containers=1, max_containers=4, scaledown_window=300)\ndef f(): ...",),
        invalid=("@app.function(keep_warm=1)\ndef f(): ...",),
    ),
    Rule(
        "MGL202", "removed-allow-concurrent-inputs", True, "safe",
        "`allow_concurrent_inputs=N` on a Modal call.",
        "Removed in client 1.4.0: input concurrency is now the `@modal.concurrent(max_inputs=N)` "
        "decorator, placed directly under the app decorator.",
        "@app.function(allow_concurrent_inputs=10)\ndef f(): ...",
        "@app.function()\n@modal.concurrent(max_inputs=10)\ndef f(): ...",
        "Safe: removes the keyword and adds `@modal.concurrent(max_inputs=N)` under the app decorator "
        "(and `import modal` when the file has none).",
        valid=("@app.function()\n@modal.concurrent(max_inputs=10)\ndef f(): ...",),
        invalid=("@app.function(allow_concurrent_inputs=10)\ndef f(): ...",),
    ),
    Rule(
        "MGL203", "removed-stub", True, "safe",
        "`modal.Stub(...)` and `from modal import Stub`.",
        "`Stub` was renamed `App` and removed in client 1.0.0.",
        'stub = modal.Stub("example")',
        'app = modal.App("example")',
        "Safe: writes `App` for `Stub` (the variable keeps its name).",
        valid=('other = modal.App("example")',),
        invalid=('stub = modal.Stub("example")',),
    ),
    Rule(
        "MGL204", "renamed-web-endpoint", True, "safe",
        "`@modal.web_endpoint(...)`.",
        "Renamed `@modal.fastapi_endpoint` and removed in client 1.4.0.",
        '@app.function()\n@modal.web_endpoint(method="POST")\ndef f(): ...',
        '@app.function()\n@modal.fastapi_endpoint(method="POST")\ndef f(): ...',
        "Safe: renames the decorator.",
        valid=('@app.function()\n@modal.fastapi_endpoint(method="POST")\ndef f(): ...',),
        invalid=('@app.function()\n@modal.web_endpoint(method="POST")\ndef f(): ...',),
    ),
    Rule(
        "MGL205", "deprecated-max-inputs", True, "safe",
        "`max_inputs=1` on `@app.function` / `@app.cls` (not inside `@modal.concurrent`).",
        "Deprecated since client 1.3.0 in favour of `single_use_containers=True`.",
        "@app.function(max_inputs=1)",
        "@app.function(single_use_containers=True)",
        "Safe: writes `single_use_containers=True`.",
        valid=("@app.function()\n@modal.concurrent(max_inputs=1)\ndef f(): ...",),
        invalid=("@app.function(max_inputs=1)\ndef f(): ...",),
    ),
)


def check(ctx: Context) -> Iterator[Finding]:
    """Removed keywords on Modal calls, `modal.Stub` and `modal.web_endpoint`."""
    for site in ctx.facts.sites:
        if site.api.kind.startswith("app.") or site.api.kind == "with_options":
            if ctx.wants("MGL201"):
                yield from _renamed(site)
            if ctx.wants("MGL202"):
                yield from _concurrent_inputs(ctx, site)
            if ctx.wants("MGL205") and site.api.kind in ("app.function", "app.cls"):
                yield from _max_inputs(ctx, site)
    for event in ctx.facts.events:
        if event.kind in ("stub-call", "stub-import") and ctx.wants("MGL203"):
            yield _stub(event)
        elif event.kind in ("web-endpoint", "web-endpoint-import") and ctx.wants("MGL204"):
            yield _web_endpoint(event)


def _renamed(site: Site) -> Iterator[Finding]:
    for old, new in RENAMED_AUTOSCALER.items():
        arg = site.arg(old)
        if arg is None or arg.keyword is None:
            continue
        fix = None
        if new in site.api.parameters and site.arg(new) is None:
            fix = Fix("safe", f"Rename to {new}", (Replace(arg.keyword, cst.Name(new)),))
            message = f"{old}= was renamed {new}= (it raises since client 1.4.0)"
        else:
            message = f"{old}= was removed (it raises since client 1.4.0); {site.api.kind} takes no {new}= either"
        yield Finding("MGL201", message, arg, arg, fix)


def _concurrent_inputs(ctx: Context, site: Site) -> Iterator[Finding]:
    arg = site.arg("allow_concurrent_inputs")
    if arg is None:
        return
    message = "allow_concurrent_inputs= was removed in client 1.4.0: use @modal.concurrent(max_inputs=N) under the app decorator"
    yield Finding("MGL202", message, arg, arg, _concurrent_fix(ctx, site, arg))


def _concurrent_fix(ctx: Context, site: Site, arg: cst.Arg) -> Fix | None:
    if site.decorator is None or site.target is None or site.call is None:
        return None
    resolver = ctx.facts.resolver
    if any(
        resolver.is_modal(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator, site.scopes, "modal.concurrent")
        for d in site.target.decorators
    ):
        return None  # already there: removing the keyword alone would need a judgement
    modal_name = _modal_alias(ctx, site)
    changes: list[Remove | InsertDecorator | AddImport] = [Remove(arg)]
    if modal_name is None:
        modal_name = "modal"
        changes.append(AddImport("modal"))
    decorator = cst.Decorator(
        decorator=cst.Call(
            func=cst.Attribute(cst.Name(modal_name), cst.Name("concurrent")),
            args=[
                cst.Arg(
                    keyword=cst.Name("max_inputs"),
                    value=arg.value,
                    equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                )
            ],
        ),
        leading_lines=(),
    )
    changes.append(InsertDecorator(site.target, site.decorator, decorator))
    return Fix("safe", "Use @modal.concurrent(max_inputs=N)", tuple(changes))


def _modal_alias(ctx: Context, site: Site) -> str | None:
    """A name bound to the modal module at module level, if any."""
    for name, bindings in ctx.facts.resolver.module_scope.bindings.items():
        if all(b == ModuleRef("modal") for b in bindings):
            return name
    return None


def _max_inputs(ctx: Context, site: Site) -> Iterator[Finding]:
    arg = site.arg("max_inputs")
    if arg is None or arg.keyword is None:
        return
    values = ctx.values(site, arg.value)
    if values != [1] or site.arg("single_use_containers") is not None:
        return
    new = arg.with_changes(keyword=cst.Name("single_use_containers"), value=cst.Name("True"))
    fix = Fix("safe", "Use single_use_containers=True", (Replace(arg, new),))
    yield Finding(
        "MGL205", "max_inputs=1 is deprecated since client 1.3.0: write single_use_containers=True", arg, arg, fix
    )


def _stub(event: Event) -> Finding:
    message = "modal.Stub was renamed modal.App and removed in client 1.0.0"
    node = event.node
    if isinstance(node, cst.ImportAlias):
        name = node.name
        assert isinstance(name, cst.Name)
        # `from modal import Stub` -> `from modal import App as Stub` keeps every use working.
        new = node.with_changes(name=cst.Name("App"), asname=node.asname or cst.AsName(cst.Name("Stub")))
        return Finding("MGL203", message, node, node, Fix("safe", "Import App", (Replace(node, new),)))
    assert isinstance(node, cst.Call)
    func = node.func
    fix = None
    if isinstance(func, cst.Attribute):
        fix = Fix("safe", "Write App", (Replace(func.attr, cst.Name("App")),))
    return Finding("MGL203", message, node, node, fix)


def _web_endpoint(event: Event) -> Finding:
    message = "modal.web_endpoint was renamed modal.fastapi_endpoint and removed in client 1.4.0"
    node = event.node
    if isinstance(node, cst.ImportAlias):
        new = node.with_changes(name=cst.Name("fastapi_endpoint"), asname=node.asname or cst.AsName(cst.Name("web_endpoint")))
        return Finding("MGL204", message, node, node, Fix("safe", "Import fastapi_endpoint", (Replace(node, new),)))
    func = node.func if isinstance(node, cst.Call) else node
    fix = None
    if isinstance(func, cst.Attribute):
        fix = Fix("safe", "Write fastapi_endpoint", (Replace(func.attr, cst.Name("fastapi_endpoint")),))
    return Finding("MGL204", message, node, node, fix)
