"""Removed Modal API rules (MGL2xx)."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from modal_gpu_lint.analysis.resolve import ImportedName, ModuleRef
from modal_gpu_lint.analysis.sites import Event, Site
from modal_gpu_lint.analysis.values import Unknown
from modal_gpu_lint.facts.modal_api import RENAMED_AUTOSCALER
from modal_gpu_lint.findings import AddImport, Finding, Fix, InsertDecorator, Remove, Replace
from modal_gpu_lint.rules.base import Rule
from modal_gpu_lint.rules.context import Context
from modal_gpu_lint.rules.fixes import is_free, name_uses, rename_changes

RULES = (
    Rule(
        code="MGL201",
        name="renamed-autoscaler-parameter",
        default=True,
        fix="safe",
        summary="`keep_warm`, `concurrency_limit` or `container_idle_timeout` on a Modal call.",
        why="They were renamed to `min_containers`, `max_containers` and `scaledown_window`; the old names "
        "raise since client 1.4.0.",
        example='@app.function(gpu="T4", timeout=60, container_idle_timeout=300)',
        instead='@app.function(gpu="T4", timeout=60, scaledown_window=300)',
        fix_note="Safe: renames the keyword where the call accepts the new name.",
        valid=("@app.function(min_containers=1, max_containers=4, scaledown_window=300)\ndef f(): ...",),
        invalid=("@app.function(keep_warm=1)\ndef f(): ...",),
    ),
    Rule(
        code="MGL202",
        name="removed-allow-concurrent-inputs",
        default=True,
        fix="safe",
        summary="`allow_concurrent_inputs=N` on a Modal call.",
        why="Removed in client 1.4.0: input concurrency is now the `@modal.concurrent(max_inputs=N)` "
        "decorator, placed directly under the app decorator.",
        example="@app.function(allow_concurrent_inputs=10)\ndef f(): ...",
        instead="@app.function()\n@modal.concurrent(max_inputs=10)\ndef f(): ...",
        fix_note="Safe: removes the keyword and adds `@modal.concurrent(max_inputs=N)` under the app decorator "
        "(and `import modal` when the file has none).",
        valid=("@app.function()\n@modal.concurrent(max_inputs=10)\ndef f(): ...",),
        invalid=("@app.function(allow_concurrent_inputs=10)\ndef f(): ...",),
    ),
    Rule(
        code="MGL203",
        name="removed-stub",
        default=True,
        fix="safe",
        summary="`modal.Stub(...)` and `from modal import Stub`.",
        why="`Stub` was renamed `App` and removed in client 1.0.0.",
        example='stub = modal.Stub("example")',
        instead='app = modal.App("example")',
        fix_note="Safe: writes `App` for `Stub` (the variable keeps its name).",
        valid=('other = modal.App("example")',),
        invalid=('stub = modal.Stub("example")',),
    ),
    Rule(
        code="MGL204",
        name="renamed-web-endpoint",
        default=True,
        fix="safe",
        summary="`@modal.web_endpoint(...)`.",
        why="Renamed `@modal.fastapi_endpoint` and removed in client 1.4.0.",
        example='@app.function()\n@modal.web_endpoint(method="POST")\ndef f(): ...',
        instead='@app.function()\n@modal.fastapi_endpoint(method="POST")\ndef f(): ...',
        fix_note="Safe: renames the decorator.",
        valid=('@app.function()\n@modal.fastapi_endpoint(method="POST")\ndef f(): ...',),
        invalid=('@app.function()\n@modal.web_endpoint(method="POST")\ndef f(): ...',),
    ),
    Rule(
        code="MGL205",
        name="deprecated-max-inputs",
        default=True,
        fix="safe",
        summary="`max_inputs=1` on `@app.function` / `@app.cls` (not inside `@modal.concurrent`).",
        why="Deprecated since client 1.3.0 in favour of `single_use_containers=True`.",
        example="@app.function(max_inputs=1)",
        instead="@app.function(single_use_containers=True)",
        fix_note="Safe: writes `single_use_containers=True`.",
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
    imports = _import_renames(ctx) if ctx.wants("MGL203", "MGL204") else {}
    for event in ctx.facts.events:
        if event.kind in ("stub-call", "stub-import") and ctx.wants("MGL203"):
            yield _stub(event, imports)
        elif event.kind in ("web-endpoint", "web-endpoint-import") and ctx.wants("MGL204"):
            yield _web_endpoint(event, imports)


def _renamed(site: Site) -> Iterator[Finding]:
    for old, new in RENAMED_AUTOSCALER.items():
        arg = site.arg(old)
        if arg is None or arg.keyword is None:
            continue
        fix = None
        if new in site.api.parameters and site.arg(new) is None:
            fix = Fix("safe", f"Rename to {new}", (Replace(arg.keyword, cst.Name(new)),))
            message = f"{old}= was renamed {new}= (it raises since client 1.4.0)"
        elif site.arg(new) is not None:
            message = f"{old}= was removed (it raises since client 1.4.0) and {new}= is already given: delete {old}="
        else:
            message = f"{old}= was removed (it raises since client 1.4.0); {site.api.kind} takes no {new}= either"
        yield Finding("MGL201", message, arg, arg, fix)


def _concurrent_inputs(ctx: Context, site: Site) -> Iterator[Finding]:
    arg = site.arg("allow_concurrent_inputs")
    if arg is None:
        return
    message = (
        "allow_concurrent_inputs= was removed in client 1.4.0: "
        "use @modal.concurrent(max_inputs=N) under the app decorator"
    )
    yield Finding("MGL202", message, arg, arg, _concurrent_fix(ctx, site, arg))


def _concurrent_fix(ctx: Context, site: Site, arg: cst.Arg) -> Fix | None:
    if site.decorator is None or site.target is None or site.call is None:
        return None
    resolver = ctx.facts.resolver
    if any(
        resolver.is_modal(
            d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator, site.scopes, "modal.concurrent"
        )
        for d in site.target.decorators
    ):
        return None  # already there: removing the keyword alone would need a judgement
    if not _is_count(ctx, site, arg.value):
        return None
    modal_name = _modal_alias(ctx, site)
    above = _comments_above(site.call, arg)
    changes: list[Remove | InsertDecorator | AddImport] = [Remove(arg, above)]
    if modal_name is None:
        if resolver.lookup("modal", site.scopes)[0]:
            return None  # `modal` names something else here: adding `import modal` would shadow it
        if _imports_modal_only_guarded(ctx.facts.module):
            return None  # modal is optional here (`try: from modal import ...`): `import modal` would require it
        modal_name = "modal"
        changes.append(AddImport("modal"))
    changes.append(InsertDecorator(site.target, site.decorator, _concurrent_decorator(modal_name, arg, above)))
    return Fix("safe", "Use @modal.concurrent(max_inputs=N)", tuple(changes))


def _concurrent_decorator(modal_name: str, arg: cst.Arg, above: tuple[cst.EmptyLine, ...]) -> cst.Decorator:
    """`@modal.concurrent(max_inputs=N)`, with the comments of the keyword: the one on its line
    at the end of the decorator's line, the lines right above it above the decorator (or at the
    end of its line when that is the only comment)."""
    comment = None
    if isinstance(arg.comma, cst.Comma) and isinstance(arg.comma.whitespace_after, cst.ParenthesizedWhitespace):
        comment = arg.comma.whitespace_after.first_line.comment
    elif isinstance(arg.whitespace_after_arg, cst.ParenthesizedWhitespace):
        comment = arg.whitespace_after_arg.first_line.comment
    texts = [line.comment.value for line in above if line.comment is not None]
    leading: list[cst.EmptyLine] = []
    if comment is None and len(texts) == 1:
        comment = cst.Comment(texts[0])
    else:
        leading = [cst.EmptyLine(comment=cst.Comment(text)) for text in texts]
    trailing = cst.TrailingWhitespace(cst.SimpleWhitespace("  " if comment else ""), comment)
    return cst.Decorator(
        decorator=cst.Call(
            func=cst.Attribute(cst.Name(modal_name), cst.Name("concurrent")),
            args=[
                cst.Arg(
                    keyword=cst.Name("max_inputs"),
                    value=arg.value.with_changes(lpar=[], rpar=[]) if _bare_parens(arg.value) else arg.value,
                    equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                )
            ],
        ),
        leading_lines=leading,
        trailing_whitespace=trailing,
    )


def _comments_above(call: cst.Call, arg: cst.Arg) -> tuple[cst.EmptyLine, ...]:
    """The comment lines right above `arg` in `call` (no blank line between them and it)."""
    index = next(i for i, a in enumerate(call.args) if a is arg)
    before = call.whitespace_before_args
    if index:
        comma = call.args[index - 1].comma
        before = comma.whitespace_after if isinstance(comma, cst.Comma) else call.args[index - 1].whitespace_after_arg
    if not isinstance(before, cst.ParenthesizedWhitespace):
        return ()
    lines: list[cst.EmptyLine] = []
    for line in reversed(before.empty_lines):
        if line.comment is None:
            break
        lines.insert(0, line)
    return tuple(lines)


def _imports_modal_only_guarded(module: cst.Module) -> bool:
    """Whether modal is imported in a `try` block and not by a plain top-level import."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and any(_is_modal_import(s) for s in statement.body):
            return False
    return any(
        isinstance(statement, cst.Try)
        and any(
            isinstance(inner, cst.SimpleStatementLine) and any(_is_modal_import(s) for s in inner.body)
            for inner in statement.body.body
        )
        for statement in module.body
    )


def _is_modal_import(small: cst.BaseSmallStatement) -> bool:
    if isinstance(small, cst.Import):
        return any(cst.helpers.get_full_name_for_node(a.name).partition(".")[0] == "modal" for a in small.names)  # type: ignore[union-attr]
    return (
        isinstance(small, cst.ImportFrom)
        and not small.relative
        and small.module is not None
        and (cst.helpers.get_full_name_for_node(small.module) or "").partition(".")[0] == "modal"
    )


def _bare_parens(expr: cst.BaseExpression) -> bool:
    return bool(expr.lpar) and all(isinstance(p.whitespace_after, cst.SimpleWhitespace) for p in expr.lpar)


def _is_count(ctx: Context, site: Site, expr: cst.BaseExpression) -> bool:
    """Whether the value is an integer (or cannot be known): `True` or a string has no safe rewrite."""
    if "\n" in cst.Module([]).code_for_node(expr):
        return False  # a value spread over lines would break the one-line decorator
    return all(
        isinstance(v, Unknown) or (isinstance(v, int) and not isinstance(v, bool)) for v in ctx.values(site, expr)
    )


def _modal_alias(ctx: Context, site: Site) -> str | None:
    """A name bound to the modal module at module level and visible at the decorator, if any."""
    resolver = ctx.facts.resolver
    for name, bindings in resolver.module_scope.bindings.items():
        if all(b == ModuleRef("modal") for b in bindings) and resolver.qualify(cst.Name(name), site.scopes) == "modal":
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


# What the replacements accept (modal 1.6.4: `inspect.signature(modal.App.__init__)` and
# `modal.fastapi_endpoint`): a rename is only safe when the old call passes nothing else.
_APP_PARAMETERS = frozenset({"name", "tags", "image", "secrets", "volumes", "include_source"})
_FASTAPI_ENDPOINT_PARAMETERS = frozenset({"method", "label", "custom_domains", "docs", "requires_proxy_auth"})
_RENAMES = {"stub-import": ("Stub", "App"), "web-endpoint-import": ("web_endpoint", "fastapi_endpoint")}


def _accepts(call: cst.Call, parameters: frozenset[str], positional: int) -> bool:
    """Whether `call`'s arguments all fit a signature with these keywords and positional slots."""
    count = 0
    for arg in call.args:
        if arg.star:
            return False
        if arg.keyword is None:
            count += 1
        elif arg.keyword.value not in parameters:
            return False
    return count <= positional


def _call_accepted(call: cst.Call, kind: str) -> bool:
    if kind.startswith("stub"):
        return _accepts(call, _APP_PARAMETERS, 1)
    return _accepts(call, _FASTAPI_ENDPOINT_PARAMETERS, 0)


def _import_renames(ctx: Context) -> dict[str, Fix | None]:
    """The fix of each `from modal import Stub` / `web_endpoint` (by local name), shared with the
    findings on the calls that use that name, so one fix serves all of them.

    `from modal import Stub` becomes `from modal import App` and every use of `Stub` becomes `App`
    when that is unambiguous (one module-level binding, no local rebinding, `App` unused);
    otherwise `from modal import App as Stub`, which keeps every use working.
    """
    out: dict[str, Fix | None] = {}
    module = ctx.facts.module
    for event in ctx.facts.events:
        if event.kind not in _RENAMES or not isinstance(event.node, cst.ImportAlias):
            continue
        old, new = _RENAMES[event.kind]
        alias = event.node
        local = alias.asname.name if alias.asname else alias.name
        if not isinstance(local, cst.Name):
            continue
        calls = [
            e.node
            for e in ctx.facts.events
            if e.kind in ("stub-call", "web-endpoint")
            and isinstance(e.node, cst.Call)
            and isinstance(e.node.func, cst.Name)
            and e.node.func.value == local.value
        ]
        if any(not _call_accepted(call, event.kind) for call in calls):
            out[local.value] = None
            continue
        renamed = alias.with_changes(name=cst.Name(new))
        uses = name_uses(module, local.value)
        bindings = ctx.facts.resolver.module_scope.bindings.get(local.value, [])
        plain = not event.scopes and len(bindings) == 1 and not uses.other and uses.imports == 1
        if alias.asname is not None:
            fix = Fix("safe", f"Import {new}", (Replace(alias, renamed),))
        elif plain and _imported_already(ctx, new, module):
            # `from modal import App, Stub`: drop `Stub` and use the `App` already imported
            fix = Fix("safe", f"Use {new} for {old}", (Remove(alias), *rename_changes(uses, new)))
        elif plain and is_free(module, new):
            fix = Fix(
                "safe", f"Import {new} and use it for {old}", (Replace(alias, renamed), *rename_changes(uses, new))
            )
        else:
            fix = Fix(
                "safe",
                f"Import {new} as {old}",
                (Replace(alias, renamed.with_changes(asname=cst.AsName(cst.Name(old)))),),
            )
        out[local.value] = fix
    return out


def _imported_already(ctx: Context, name: str, module: cst.Module) -> bool:
    """Whether `name` is bound once, at module level, by `from modal import NAME`, and nowhere else."""
    bindings = ctx.facts.resolver.module_scope.bindings.get(name, [])
    uses = name_uses(module, name)
    return bindings == [ImportedName("modal", name, 0)] and uses.imports == 1 and not uses.other


def _stub(event: Event, imports: dict[str, Fix | None]) -> Finding:
    message = "modal.Stub was renamed modal.App and removed in client 1.0.0"
    node = event.node
    if isinstance(node, cst.ImportAlias):
        local = node.asname.name if node.asname else node.name
        fix = imports.get(local.value) if isinstance(local, cst.Name) else None
        return Finding("MGL203", message, node, node, fix)
    assert isinstance(node, cst.Call)
    func = node.func
    fix = None
    if isinstance(func, cst.Name):
        fix = imports.get(func.value)
    elif isinstance(func, cst.Attribute) and _call_accepted(node, event.kind):
        fix = Fix("safe", "Write App", (Replace(func.attr, cst.Name("App")),))
    return Finding("MGL203", message, node, node, fix)


def _web_endpoint(event: Event, imports: dict[str, Fix | None]) -> Finding:
    message = "modal.web_endpoint was renamed modal.fastapi_endpoint and removed in client 1.4.0"
    node = event.node
    if isinstance(node, cst.ImportAlias):
        local = node.asname.name if node.asname else node.name
        fix = imports.get(local.value) if isinstance(local, cst.Name) else None
        return Finding("MGL204", message, node, node, fix)
    func = node.func if isinstance(node, cst.Call) else node
    if isinstance(node, cst.Call) and not _call_accepted(node, event.kind):
        return Finding("MGL204", message, node, node)
    fix = None
    if isinstance(func, cst.Name):
        fix = imports.get(func.value)
    elif isinstance(func, cst.Attribute):
        fix = Fix("safe", "Write fastapi_endpoint", (Replace(func.attr, cst.Name("fastapi_endpoint")),))
    return Finding("MGL204", message, node, node, fix)
