"""Availability and cost advice (MGL3xx): fallbacks, pinning H100, weaker fallbacks."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from modal_gpu_lint.analysis.body import Use
from modal_gpu_lint.analysis.gpu_request import Entry, read_request
from modal_gpu_lint.analysis.image import ImageFacts, image_of, runnable
from modal_gpu_lint.analysis.sites import Site
from modal_gpu_lint.facts.catalog import Catalog
from modal_gpu_lint.facts.spec import GpuSpec, parse_spec
from modal_gpu_lint.facts.torch_builds import torch_facts
from modal_gpu_lint.findings import Finding, Fix, Replace
from modal_gpu_lint.rules.base import Rule
from modal_gpu_lint.rules.context import Context
from modal_gpu_lint.rules.fixes import quote_like
from modal_gpu_lint.rules.needs import advice_data, cluster_of, site_body

RULES = (
    Rule(
        code="MGL301",
        name="suggest-fallbacks",
        default=False,
        fix="unsafe",
        summary="A single scarce GPU request (more than 2 GPUs per container, or an H100/H200/B200-class type) "
        "with no fallback list. Suggests a list of types with the same count and at least as much "
        "memory per GPU.",
        why="Scarce requests wait longest for capacity; a fallback list lets Modal start the function on "
        "the next type that is free. Off by default: only you know whether other hardware is "
        "acceptable. Never suggested for a pinned `H100!` or code that depends on the exact GPU. Only "
        "types the function's image can run are suggested: none whose architecture its pinned torch has "
        "no kernels for (MGL406), B300 only when the image shows CUDA 13.1+, only the pinned "
        "architecture when the image sets `TORCH_CUDA_ARCH_LIST` or installs TensorRT-LLM, and only "
        "full-node counts inside `@modal.clustered`.",
        example='@app.function(gpu="H100:4", timeout=3600)',
        instead='@app.function(gpu=["H100:4", "A100-80GB:4", "RTX-PRO-6000:4"], timeout=3600)',
        fix_note="Unsafe: replaces the string with the suggested list (when written inline), which lets Modal "
        "grant other hardware.",
        valid=(
            '@app.function(gpu=["H100", "A100-80GB"], timeout=60)\ndef f(): ...',
            '@app.function(gpu="L4", timeout=60)\ndef f(): ...',
            '@app.function(gpu="H100!", timeout=60)\ndef f(): ...',
        ),
        invalid=('@app.function(gpu="H100:4", timeout=60)\ndef f(): ...',),
    ),
    Rule(
        code="MGL302",
        name="suggest-strict-h100",
        default=True,
        fix="unsafe",
        summary='`gpu="H100"` (not pinned) on code that depends on the exact hardware: it compares the '
        'device name with "H100" (`torch.cuda.get_device_name()`, `get_device_properties().name`), or '
        "benchmarks (`triton.testing.do_bench`, `torch.utils.benchmark.Timer`, or CUDA events created "
        "with `enable_timing=True` whose `elapsed_time` is read, in code that loops).",
        why="Modal may run an `H100` request on an H200 at the same price: a device-name assertion then "
        "fails, and benchmark numbers are silently measured on different hardware. `H100!` pins the "
        "H100. Code that also accepts H200 is not reported. A build for compute capability 9.0 only "
        '(`TORCH_CUDA_ARCH_LIST="9.0"`, `-arch=sm_90`) is not a reason: the H200 is compute '
        "capability 9.0 too.",
        example='@app.function(gpu="H100", timeout=600)\ndef bench():\n    import torch\n'
        '    assert "H100" in torch.cuda.get_device_name()',
        instead='@app.function(gpu="H100!", timeout=600)\ndef bench():\n    import torch\n'
        '    assert "H100" in torch.cuda.get_device_name()',
        fix_note='Unsafe: writes `"H100!"` for `"H100"` (when written inline), which removes the free upgrade '
        "and may wait longer for capacity.",
        valid=(
            '@app.function(gpu="H100!", timeout=60)\ndef f():\n    import torch\n'
            '    assert "H100" in torch.cuda.get_device_name()',
            '@app.function(gpu="H100", timeout=60)\ndef f():\n    import torch\n'
            "    print(torch.cuda.get_device_name())",
        ),
        invalid=(
            '@app.function(gpu="H100", timeout=60)\ndef f():\n    import torch\n'
            '    assert "H100" in torch.cuda.get_device_name()',
        ),
    ),
    Rule(
        code="MGL303",
        name="weaker-fallback",
        default=False,
        fix=None,
        summary="A fallback list entry with less total GPU memory (memory per GPU x count) than the first entry.",
        why="Code is usually sized for the first entry (batch size, model, tensor parallelism); when Modal "
        "grants the smaller fallback it runs out of memory. Off by default: the code may adapt.",
        example='@app.function(gpu=["H100", "L4"], timeout=3600)',
        instead='@app.function(gpu=["H100", "A100-80GB"], timeout=3600)',
        valid=('@app.function(gpu=["H100", "A100-80GB", "L40S:2"], timeout=60)\ndef f(): ...',),
        invalid=('@app.function(gpu=["H100", "L4"], timeout=60)\ndef f(): ...',),
    ),
)

CODES = frozenset(rule.code for rule in RULES)
_LIST_CALLS = ("app.function", "app.cls", "app.server", "image.run_function")


def check(ctx: Context) -> Iterator[Finding]:
    """MGL301-MGL303 on every `gpu=` request."""
    if not ctx.wants(*CODES):
        return
    for site in ctx.facts.sites:
        if site.arg("gpu") is None:
            continue
        request = read_request(site, ctx.facts.resolver, ctx.catalog)
        if request is None or request.gpus is None:
            continue
        gpus = request.gpus
        if ctx.wants("MGL302") and _loose(gpus):
            signals = _signals(ctx, site)
            if signals:
                finding = _strict_h100(site, gpus, signals[0].text)
                if finding is not None:
                    yield finding
        if ctx.wants("MGL301") and site.api.kind in _LIST_CALLS:
            finding = _fallbacks(ctx, site, gpus, request.is_list)
            if finding is not None and not _signals(ctx, site):  # exact hardware: no fallbacks
                yield finding
        if ctx.wants("MGL303"):
            yield from _weaker(site, gpus, request.is_list)


def _signals(ctx: Context, site: Site) -> list[Use]:
    """What ties the code to the exact hardware: device-name checks, benchmarks."""
    body = site_body(ctx, site)
    return body.hardware_signals if body is not None else []


def _loose(gpus: tuple[tuple[Entry, ...], ...]) -> list[Entry]:
    """Entries of a type Modal may upgrade, not pinned with `!`."""
    upgrades = {str(k).upper() for k in advice_data().get("upgrades", {})}
    return [e for alt in gpus for e in alt if e.suffix == "" and "!" in e.gpu.suffixes and e.gpu.name in upgrades]


# ---- MGL302 -------------------------------------------------------------------------------------
def _strict_h100(site: Site, gpus: tuple[tuple[Entry, ...], ...], signal: str) -> Finding | None:
    upgrades = {str(k).upper(): str(v) for k, v in advice_data().get("upgrades", {}).items()}
    loose = _loose(gpus)
    if not loose:
        return None
    arg = site.arg("gpu")
    assert arg is not None
    entry = loose[0]
    pinned = _with_suffix(entry.text, "!")
    message = (
        f'"{entry.text}" may run on an {upgrades[entry.gpu.name]} (Modal upgrades {entry.gpu.canonical} '
        f'requests at no extra cost), but this code {signal}: pin the hardware with "{pinned}"'
    )
    changes = tuple(
        Replace(e.node, cst.SimpleString(quote_like(_with_suffix(e.text, "!"), e.node)))
        for e in loose
        if e.node is not None
    )
    fix = Fix("unsafe", f'Write "{pinned}"', changes) if changes else None
    return Finding("MGL302", message, arg, arg, fix)


def _with_suffix(text: str, suffix: str) -> str:
    spec = parse_spec(text)
    assert isinstance(spec, GpuSpec)
    return spec.type_text + suffix + (f":{spec.count_text}" if spec.count_text is not None else "")


# ---- MGL301 -------------------------------------------------------------------------------------
def _fallbacks(
    ctx: Context, site: Site, gpus: tuple[tuple[Entry, ...], ...], is_list: tuple[bool, ...]
) -> Finding | None:
    if len(gpus) != 1 or is_list[0] or len(gpus[0]) != 1:
        return None  # already a list, or a choice made elsewhere
    entry = gpus[0][0]
    data = advice_data()
    scarce_types = {str(t).upper() for t in data.get("scarce-types", [])}
    scarce_count = int(data.get("scarce-count", 2))
    if entry.suffix == "!":
        return None  # pinned on purpose
    why = []
    if entry.count > scarce_count:
        why.append(f"{entry.count} GPUs per container")
    if entry.gpu.name in scarce_types:
        why.append(f"{entry.gpu.canonical} capacity")
    if not why:
        return None
    image = image_of(site, ctx.facts.resolver) if site.api.kind != "image.run_function" else ImageFacts()
    full_node = site.api.decorator and cluster_of(ctx, site) is not None
    alternatives = _alternatives(ctx.catalog, entry, image, full_node=full_node)
    if not alternatives:
        return None
    suggestion = [entry.text, *alternatives]
    shown = "[" + ", ".join(f'"{s}"' for s in suggestion) + "]"
    message = (
        f'"{entry.text}" is a scarce request ({" and ".join(why)}) with no fallback: it waits until one '
        f"is free; consider gpu={shown} (the same count, at least as much memory per GPU)"
    )
    fix = None
    if entry.node is not None:
        new = cst.List(
            [
                cst.Element(
                    cst.SimpleString(quote_like(text, entry.node)),
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                    if i < len(suggestion) - 1
                    else cst.MaybeSentinel.DEFAULT,
                )
                for i, text in enumerate(suggestion)
            ]
        )
        fix = Fix("unsafe", f"Write gpu={shown}", (Replace(entry.node, new),))
    arg = site.arg("gpu")
    assert arg is not None
    return Finding("MGL301", message, arg, arg, fix)


def _alternatives(
    catalog: Catalog, entry: Entry, image: ImageFacts, *, full_node: bool = False, limit: int = 2
) -> list[str]:
    """Other types that take the same count with at least the same memory per GPU, cheapest first;
    only types the image can run (see `analysis.image.runnable`), and inside `@modal.clustered`
    only where the count is a full node."""
    options: list[tuple[float, str]] = []
    requested = torch_facts().arch(entry.gpu.name)
    for gpu in catalog.types:
        if gpu.name == entry.gpu.name or gpu.price is None:
            continue
        if gpu.memory_gb < entry.gpu.memory_gb:
            continue
        if gpu.max_count is not None and entry.count > gpu.max_count:
            continue
        if full_node and gpu.max_count != entry.count:
            continue
        if not runnable(image, gpu.name, requested):
            continue
        options.append((gpu.price, gpu.canonical if entry.count == 1 else f"{gpu.canonical}:{entry.count}"))
    return [text for _, text in sorted(options)[:limit]]


# ---- MGL303 -------------------------------------------------------------------------------------
def _weaker(site: Site, gpus: tuple[tuple[Entry, ...], ...], is_list: tuple[bool, ...]) -> Iterator[Finding]:
    arg = site.arg("gpu")
    assert arg is not None
    for entries, listed in zip(gpus, is_list, strict=False):
        if not listed or len(entries) < 2:
            continue
        first = entries[0]
        for entry in entries[1:]:
            if entry.total_gb >= first.total_gb:
                continue
            node: cst.CSTNode = entry.node if entry.node is not None else arg
            message = (
                f'fallback "{entry.text}" has {entry.total_gb:g} GB of GPU memory, less than the first entry '
                f'"{first.text}" ({first.total_gb:g} GB): code sized for the first may run out of memory '
                f"when Modal grants this one; list GPUs with at least {first.total_gb:g} GB, or size the code "
                "for the smallest"
            )
            yield Finding("MGL303", message, node, node)
