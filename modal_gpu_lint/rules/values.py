"""GPU value rules (MGL0xx): the `gpu=` argument against the catalog and Modal's grammar."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from modal_gpu_lint.analysis.resolve import Assigned
from modal_gpu_lint.analysis.sites import Event, Site
from modal_gpu_lint.analysis.values import ListValue
from modal_gpu_lint.facts.catalog import Catalog
from modal_gpu_lint.findings import Applicability, Finding, Fix, Remove, Replace
from modal_gpu_lint.rules.base import Rule
from modal_gpu_lint.rules.context import Context
from modal_gpu_lint.rules.fixes import imports_module, name_uses, quote_like
from modal_gpu_lint.rules.gpu_checks import Verdict, check_gpu_value

RULES = (
    Rule(
        code="MGL001",
        name="unknown-gpu-type",
        default=True,
        fix="unsafe",
        summary="A GPU type that is not in the catalog.",
        why='Modal\'s client no longer knows GPU names: a typo such as "A100-80G" is sent as is and only '
        "rejected by the server at `modal run` / `modal deploy` time.",
        example='@app.function(gpu="A100-80G")',
        instead='@app.function(gpu="A100-80GB")',
        fix_note="Unsafe: replaces the type only when exactly one catalog name is clearly meant.",
        valid=('@app.function(gpu="A100-80GB", timeout=60)\ndef f(): ...',),
        invalid=('@app.function(gpu="A100-80G", timeout=60)\ndef f(): ...',),
    ),
    Rule(
        code="MGL002",
        name="malformed-gpu-spec",
        default=True,
        fix=None,
        summary="A GPU string that does not follow `TYPE[!|+][:COUNT]`: a count `int()` rejects, an empty "
        "string, whitespace around the type.",
        why="The client raises `InvalidError: Invalid GPU count` when the module is imported; an empty or "
        "padded type passes the client and fails later on the server.",
        example='@app.function(gpu="H100:8!")',
        instead='@app.function(gpu="H100!:8")',
        valid=('@app.function(gpu="H100!:8", timeout=60)\ndef f(): ...',),
        invalid=('@app.function(gpu="H100:two", timeout=60)\ndef f(): ...',),
    ),
    Rule(
        code="MGL003",
        name="gpu-count-out-of-range",
        default=True,
        fix=None,
        summary="A GPU count below 1 or above the most one container of that type can have.",
        why="Modal rejects the request at deploy time (A10 tops out at 4 per container, most types at 8).",
        example='@app.function(gpu="A10:8")',
        instead='@app.function(gpu="L40S:8")  # or "A10:4"',
        valid=('@app.function(gpu="A10:4", timeout=60)\ndef f(): ...',),
        invalid=('@app.function(gpu="A10:8", timeout=60)\ndef f(): ...',),
    ),
    Rule(
        code="MGL004",
        name="invalid-gpu-suffix",
        default=True,
        fix="unsafe",
        summary="A `!` suffix on a type other than H100, or `+` on a type other than B200.",
        why="`!` (pin: no upgrade) is documented on H100 only and `+` (opt-in upgrade) on B200 only; the "
        "server rejects values such as `H200!` and `A10G!`.",
        example='@app.function(gpu="H200!")',
        instead='@app.function(gpu="H200")',
        fix_note="Unsafe: drops the suffix, which may change what hardware is granted.",
        valid=('@app.function(gpu="H100!", timeout=60)\ndef f(): ...',),
        invalid=('@app.function(gpu="H200!", timeout=60)\ndef f(): ...',),
    ),
    Rule(
        code="MGL005",
        name="invalid-gpu-value",
        default=True,
        fix=None,
        summary="A `gpu=` value that is not a string, a list or None (True, a number, a tuple, a dict), or "
        "None or a non-string inside a list.",
        why="`gpu=True` and numbers are errors in the client; a tuple is rejected; `None` inside a list is "
        "silently dropped.",
        example="@app.function(gpu=True)",
        instead='@app.function(gpu="T4")',
        valid=("@app.function(gpu=None)\ndef f(): ...",),
        invalid=("@app.function(gpu=True, timeout=60)\ndef f(): ...",),
    ),
    Rule(
        code="MGL006",
        name="gpu-list-not-accepted",
        default=True,
        fix=None,
        summary="A fallback list given to a call that takes one GPU: `Sandbox.create`, `with_options`, Image "
        "build steps other than `run_function`.",
        why="Only `App.function`, `App.cls`, `App.server` and `Image.run_function` accept lists; the others "
        "raise `InvalidError`.",
        example='modal.Sandbox.create(app=app, gpu=["H100", "A100-80GB"])',
        instead='modal.Sandbox.create(app=app, gpu="H100")',
        valid=('modal.Sandbox.create(app=app, gpu="H100")',),
        invalid=('modal.Sandbox.create(app=app, gpu=["H100", "A100-80GB"])',),
    ),
    Rule(
        code="MGL007",
        name="bad-fallback-list",
        default=True,
        fix="safe",
        summary="An empty GPU list, or the same GPU twice in a fallback list (case-insensitive).",
        why="An empty list requests nothing; a repeated entry is never tried and hides what was meant.",
        example='@app.function(gpu=["H100", "h100", "A100-80GB"])',
        instead='@app.function(gpu=["H100", "A100-80GB"])',
        fix_note="Safe: removes the repeated entries.",
        valid=('@app.function(gpu=["H100", "A100-80GB"], timeout=60)\ndef f(): ...',),
        invalid=('@app.function(gpu=["H100", "H100"], timeout=60)\ndef f(): ...',),
    ),
    Rule(
        code="MGL008",
        name="removed-gpu-object",
        default=True,
        fix="safe",
        summary="The `modal.gpu.X(...)` objects and the imports of the module: `from modal import gpu`, "
        "`from modal.gpu import X`, `import modal.gpu`.",
        why="The module `modal.gpu` was deleted in client 1.4.0: the program fails at import.",
        example='gpu=modal.gpu.A100(size="80GB", count=2)',
        instead='gpu="A100-80GB:2"',
        fix_note="Safe: writes the equivalent string (an f-string when the count is a name).",
        valid=('@app.function(gpu="A100-80GB:2", timeout=60)\ndef f(): ...',),
        invalid=('x = modal.gpu.A100(size="80GB", count=2)',),
    ),
    Rule(
        code="MGL009",
        name="non-canonical-gpu-spelling",
        default=False,
        fix="safe",
        summary="A valid GPU string written in a non-canonical way: lower case, `A10G` for `A10`, an explicit "
        "`:1`, counts such as `+8`, `08` or ` 8`.",
        why="One spelling per GPU makes code searchable and reviews easier. Off by default.",
        example='@app.function(gpu="a10g:1")',
        instead='@app.function(gpu="A10")',
        fix_note="Safe: rewrites the string in canonical form.",
        valid=('@app.function(gpu="A10", timeout=60)\ndef f(): ...',),
        invalid=('@app.function(gpu="h100", timeout=60)\ndef f(): ...',),
    ),
)

VALUE_CODES = frozenset(rule.code for rule in RULES) - {"MGL008"}


def check(ctx: Context) -> Iterator[Finding]:
    """Findings for every `gpu=` value and every use of `modal.gpu`."""
    if ctx.wants(*VALUE_CODES):
        for site in ctx.facts.sites:
            arg = site.arg("gpu")
            if arg is not None:
                yield from _check_site(ctx, site, arg)
    if ctx.wants("MGL008"):
        for event in ctx.facts.events:
            if event.kind in ("gpu-object", "gpu-import"):
                yield _removed_gpu(ctx, event)


def _check_site(ctx: Context, site: Site, arg: cst.Arg) -> Iterator[Finding]:
    seen: set[tuple[str, str]] = set()
    call = _call_name(site)
    for value in ctx.values(site, arg.value):
        source: list[str | None] = []  # where this value comes from, computed on its first finding
        for verdict in check_gpu_value(value, accepts_list=site.api.accepts_list, catalog=ctx.catalog, call=call):
            key = (verdict.code, verdict.message)
            if key in seen:
                continue
            seen.add(key)
            if not source:
                source.append(ctx.origin(site, arg, value))
            message = verdict.message if source[0] is None else f"{verdict.message} (value from {source[0]})"
            yield Finding(verdict.code, message, arg, arg, _fix(ctx, site, verdict, arg, value))


def _call_name(site: Site) -> str:
    return {
        "with_options": "with_options",
        "sandbox.create": "Sandbox.create",
    }.get(site.api.kind, f"Image.{site.api.method}" if site.api.kind.startswith("image.") else site.api.kind)


_FIXABLE: dict[str, Applicability] = {"MGL001": "unsafe", "MGL004": "unsafe", "MGL009": "safe", "MGL007": "safe"}


def _fix(ctx: Context, site: Site, verdict: Verdict, arg: cst.Arg, value: object) -> Fix | None:
    """A fix when the offending string is written in the call, or in a module constant it names."""
    applicability = _FIXABLE.get(verdict.code)
    if applicability is None:
        return None
    target: cst.BaseExpression = arg.value
    if verdict.item is not None:
        if not isinstance(target, cst.List) or not isinstance(value, ListValue):
            return None
        element = target.elements[verdict.item]
        if verdict.code == "MGL007":
            return Fix("safe", "Remove the repeated entry", (Remove(element),))
        target = element.value
    if verdict.replacement is None:
        return None
    string = target if isinstance(target, cst.SimpleString) else _constant_string(ctx, site, target, applicability)
    if string is None:
        return None
    new = string.with_changes(value=quote_like(verdict.replacement, string))
    return Fix(applicability, f"Write {verdict.replacement!r}", (Replace(string, new),))


def _constant_string(
    ctx: Context, site: Site, expr: cst.BaseExpression, applicability: Applicability
) -> cst.SimpleString | None:
    """The string literal a module constant named by `expr` is bound to, if a fix may edit it.

    An unsafe fix (the user asked for it) edits the constant wherever it is used; a safe fix only
    when this `gpu=` is the constant's one and only use, so no other code sees a new value.
    """
    if not isinstance(expr, cst.Name):
        return None
    found, where = ctx.facts.resolver.lookup(expr.value, site.scopes)
    if where or len(found) != 1 or not isinstance(found[0], Assigned):
        return None
    value = found[0].value
    if not isinstance(value, cst.SimpleString):
        return None
    if applicability == "safe":
        uses = name_uses(ctx.facts.module, expr.value)
        if uses.module_refs != [expr] or uses.other != 1 or uses.imports:
            return None  # `other` is the constant's own assignment
    return value


def _removed_gpu(ctx: Context, event: Event) -> Finding:
    if event.kind == "gpu-import":
        alias = event.node
        assert isinstance(alias, cst.ImportAlias)
        statement = event.parent
        empty = cst.Module([])
        if isinstance(statement, cst.ImportFrom) and statement.module is not None:
            spelled_import = f"from {empty.code_for_node(statement.module)} import {empty.code_for_node(alias.name)}"
        else:
            spelled_import = f"import {empty.code_for_node(alias.name)}"
        if alias.asname is not None:
            spelled_import += f" as {empty.code_for_node(alias.asname.name)}"
        return Finding(
            "MGL008",
            f"`{spelled_import}`: the module modal.gpu was removed in client 1.4.0; write GPU strings",
            alias,
            fix=_remove_gpu_import(ctx, event, alias),
        )
    if isinstance(event.node, cst.Attribute):
        return _removed_gpu_class(ctx, event.node, event)
    call = event.node
    assert isinstance(call, cst.Call)
    qualified = ctx.facts.resolver.qualify(call.func, event.scopes) or ""
    spelled = gpu_object_string(call, ctx.catalog, qualified.rpartition(".")[2] or None)
    hint = f": write gpu={spelled}" if spelled else ': write a GPU string such as gpu="A100-80GB:2"'
    fix = None
    if spelled is not None and not _used_as_object(ctx, call):
        new = cst.parse_expression(spelled).with_changes(lpar=call.lpar, rpar=call.rpar)
        fix = Fix("safe", f"Write {spelled}", (Replace(call, new),))
    return Finding("MGL008", f"modal.gpu objects were removed in client 1.4.0{hint}", call, call, fix)


def _removed_gpu_class(ctx: Context, node: cst.Attribute, event: Event) -> Finding:
    """The bare class `modal.gpu.H100`, which old clients took as `"H100"`."""
    qualified = ctx.facts.resolver.qualify(node, event.scopes) or ""
    gpu = ctx.catalog.lookup(qualified.rpartition(".")[2])
    spelled = f'"{gpu.canonical}"' if gpu is not None else None
    hint = f": write gpu={spelled}" if spelled else ': write a GPU string such as gpu="H100"'
    fix = None
    as_gpu = any((arg := site.arg("gpu")) is not None and arg.value is node for site in ctx.facts.sites)
    if spelled is not None and as_gpu:
        fix = Fix("safe", f"Write {spelled}", (Replace(node, cst.SimpleString(spelled)),))
    return Finding("MGL008", f"modal.gpu classes were removed in client 1.4.0{hint}", node, node, fix)


def _remove_gpu_import(ctx: Context, event: Event, alias: cst.ImportAlias) -> Fix | None:
    """Remove `from modal import gpu` (`from modal.gpu import X`, `import modal.gpu as g`) once
    nothing uses the name it binds, and `import modal.gpu` once nothing mentions `modal.gpu`
    (it becomes `import modal`, which it also did). The object calls are fixed first."""
    if event.scopes:
        return None
    statement = event.parent
    alone = isinstance(statement, cst.Import) and len(statement.names) == 1
    if isinstance(statement, cst.Import) and alias.asname is None:
        module = ctx.facts.module
        if len(_MODAL_GPU_TEXT.findall(module.code)) != 1:
            return None  # `modal.gpu` is still used (or mentioned: left to the user)
        if not imports_module(module, "modal"):
            return Fix("safe", "Import modal instead", (Replace(alias, alias.with_changes(name=cst.Name("modal"))),))
        return Fix("safe", "Remove the import", (Remove(alias),)) if alone else None
    bound = alias.asname.name if alias.asname else alias.name
    if not isinstance(bound, cst.Name) or (isinstance(statement, cst.Import) and not alone):
        return None
    uses = name_uses(ctx.facts.module, bound.value)
    if uses.module_refs or uses.imports != 1:
        return None  # (parameters and locals named `gpu` elsewhere do not need the import)
    return Fix("safe", "Remove the import", (Remove(alias),))


_MODAL_GPU_TEXT = re.compile(r"\bmodal\s*\.\s*gpu\b")


def _used_as_object(ctx: Context, call: cst.Call) -> bool:
    """Whether the object is bound to a name that the code reads attributes of (`cfg.count`)."""
    for statement in ctx.facts.module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is call:
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                for target in targets:
                    if isinstance(target, cst.Name) and name_uses(ctx.facts.module, target.value).attribute_bases:
                        return True
    return False


# Keyword arguments of the removed classes, e.g. `modal.gpu.A100(size="80GB", count=2)`.
_COUNT_TEXT = re.compile(r"[A-Za-z0-9_.+\-*/%() ]+")


def gpu_object_string(call: cst.Call, catalog: Catalog | None = None, type_name: str | None = None) -> str | None:
    """The source text of the GPU string equivalent to `modal.gpu.X(size=..., count=...)`.

    `"A100-80GB:2"` for constant counts, `f"H100:{N_GPU}"` when the count is an expression; None
    when the call has arguments the old API did not take or the type is not in `catalog`.
    `type_name`: X as the resolver read it (`H100(...)` after `from modal.gpu import H100`).
    """
    func = call.func
    if type_name is None and isinstance(func, cst.Attribute):
        type_name = func.attr.value
    if not type_name:
        return None
    name = type_name.upper()
    size: str | None = None
    count: cst.BaseExpression | None = None
    for arg in call.args:
        keyword = arg.keyword.value if arg.keyword else None
        if keyword == "size" and isinstance(arg.value, cst.SimpleString):
            evaluated = arg.value.evaluated_value
            size = evaluated if isinstance(evaluated, str) else None
            if size is None:
                return None
        elif keyword == "count" and count is None:
            count = arg.value
        # Older clients took `memory=80` (GB) before `size="80GB"`; public code still has
        # `gpu.A100(memory=80, count=2)` (albertoecf/llm_inferece, modal/vllm_mixtral.py).
        elif keyword == "memory" and isinstance(arg.value, cst.Integer):
            size = f"{arg.value.value}GB"
        else:
            return None
    if size:
        name = f"{name}-{size.strip().upper()}"
    if catalog is not None:
        gpu = catalog.lookup(name)
        if gpu is None:
            return None
        if gpu.canonical.upper() == name:
            name = gpu.canonical  # the catalog's spelling ("any"), not an alias's
    if not re.fullmatch(r"[A-Za-z0-9!+-]+", name):
        return None
    if count is None:
        return f'"{name}"'
    if isinstance(count, cst.Integer):
        n = count.evaluated_value
        return f'"{name}:{n}"' if n != 1 else f'"{name}"'
    text = cst.Module([]).code_for_node(count)
    if isinstance(count, (cst.Name, cst.Attribute, cst.BinaryOperation)) and _COUNT_TEXT.fullmatch(text):
        return f'f"{name}:{{{text}}}"'
    return None
