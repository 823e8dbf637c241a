"""What the code needs versus what it requests (MGL4xx): read the body, not just the decorator."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import libcst as cst

from modal_gpu_lint.analysis.body import BodyFacts, ModelLoad, Parallelism, read_body
from modal_gpu_lint.analysis.gpu_request import Entry, Request, read_request
from modal_gpu_lint.analysis.resolve import Defined
from modal_gpu_lint.analysis.sites import Site
from modal_gpu_lint.analysis.walk import visit  # libcst's own `node.visit` rebuilds every node it passes
from modal_gpu_lint.facts._toml import read_data, tomllib
from modal_gpu_lint.facts.catalog import Catalog, GpuType
from modal_gpu_lint.facts.models import Precision, describe_params, model_size, precision_from_id
from modal_gpu_lint.findings import Finding
from modal_gpu_lint.rules.base import Rule
from modal_gpu_lint.rules.context import Context

RULES = (
    Rule(
        code="MGL401",
        name="cuda-without-gpu",
        default=True,
        fix=None,
        summary="A Modal function or class whose body uses CUDA (`torch.cuda.synchronize()`, `.cuda()`, "
        '`.to("cuda")`, `device="cuda"`, `torch.device("cuda")`, a vLLM or SGLang engine, '
        "`nvidia-smi`) but requests no GPU.",
        why="Without `gpu=` Modal runs the function on a CPU-only container, and the first CUDA call fails "
        "after the image was built and the container started. Silent when the code checks "
        "`torch.cuda.is_available()` / `device_count()` (it adapts), when `gpu=` cannot be known, and "
        "when the module gives the class or function a GPU later with `.with_options(gpu=...)`.",
        example="@app.function()\ndef train():\n    import torch\n    model = torch.nn.Linear(8, 8).cuda()",
        instead='@app.function(gpu="L4", timeout=3600)\ndef train():\n    import torch\n'
        "    model = torch.nn.Linear(8, 8).cuda()",
        valid=(
            '@app.function(gpu="L4", timeout=60)\ndef f():\n    import torch\n    return torch.ones(1).cuda()',
            "@app.function()\ndef f():\n    import torch\n    device = 'cuda' if torch.cuda.is_available() else 'cpu'\n"
            "    return torch.ones(1).to(device)",
            "@app.cls()\nclass M:\n    @modal.method()\n    def f(self):\n        import torch\n"
            "        return torch.ones(1).cuda()\n\n\nBig = M.with_options(gpu='H100')",
        ),
        invalid=("@app.function()\ndef f():\n    import torch\n    torch.cuda.synchronize()",),
    ),
    Rule(
        code="MGL402",
        name="parallelism-exceeds-gpus",
        default=True,
        fix=None,
        summary="A constant `tensor_parallel_size` / `tp_size`, `--tensor-parallel-size` / `-tp` (vLLM, "
        "`trl vllm-serve`), `--tp` / `--tp-size` (SGLang), `torchrun --nproc-per-node` (also "
        "`torch.distributed.run.main([...])` and `LaunchConfig(nproc_per_node=...)`) or `accelerate launch "
        "--num_processes` larger than the number of GPUs the function requests. Pipeline stages and "
        "data-parallel replicas multiply it (`--data-parallel-size` / `-dp`, SGLang `--dp` / `--dp-size`).",
        why="vLLM, SGLang and torchrun fail at start-up when asked for more GPUs than the container has, "
        "after the GPU was paid for. Fewer is legitimate (an engine beside a trainer). Commands are read "
        "as people build them: argv lists grown with `+=`, `.extend()` and `.append()`, shell strings "
        "(`shell=True`, `shlex.split`); a flag added under an `if` that cannot change the GPU count "
        "(`--api-key`) is ignored, any other conditional change makes the command unknown (silent). "
        "SGLang's DP attention (`--enable-dp-attention`) and multi-node data parallelism do not multiply. With "
        "`@modal.clustered(size=N)`, tensor parallelism up to N times the per-container count is "
        "legitimate (torchrun's count is per node). For a fallback list, every entry must be large "
        "enough: Modal may grant any of them.",
        example='@app.function(gpu="H100:2", timeout=3600)\ndef serve():\n    from vllm import LLM\n'
        '    llm = LLM(model="Qwen/Qwen2.5-72B-Instruct", tensor_parallel_size=4)',
        instead='@app.function(gpu="H100:4", timeout=3600)\ndef serve():\n    from vllm import LLM\n'
        '    llm = LLM(model="Qwen/Qwen2.5-72B-Instruct", tensor_parallel_size=4)',
        valid=(
            'N = 2\n\n\n@app.function(gpu=f"H100:{N}", timeout=60)\ndef f():\n    from vllm import LLM\n'
            "    return LLM(model='Qwen/Qwen2.5-7B-Instruct', tensor_parallel_size=N)",
        ),
        invalid=(
            '@app.function(gpu="H100:2", timeout=60)\ndef f():\n    from vllm import LLM\n'
            "    return LLM(model='Qwen/Qwen2.5-7B-Instruct', tensor_parallel_size=4)",
        ),
    ),
    Rule(
        code="MGL403",
        name="model-exceeds-gpu-memory",
        default=True,
        fix=None,
        summary="A model whose parameter count is known (from its id, or a table of well-known models) and "
        "whose weights alone, at a known precision, exceed all the GPU memory the function requests.",
        why="The load fails with CUDA out-of-memory after minutes of downloading, on paid GPU time. Weights "
        "are only a lower bound of what inference needs (the KV cache and activations come on top). "
        'vLLM and SGLang load with `dtype="auto"` when no dtype is given: the checkpoint\'s own precision, '
        "at least 2 bytes per parameter for an unquantized checkpoint, which is assumed when neither the id "
        "(`-FP8`, `-AWQ`, `-4bit`...), nor `quantization=` (other than None) / `--quantization` / `-q`, nor "
        "`load_format`, nor the "
        "model table (checkpoints stored in FP8 or MXFP4) says otherwise. Silent for transformers and "
        "diffusers loads that state no precision, when CPU offload is asked for, and for transformers "
        'models not placed on the GPU in full (`device_map="auto"` may offload).',
        example='@app.function(gpu="A100-80GB", timeout=3600)\ndef serve():\n    from vllm import LLM\n'
        '    llm = LLM(model="meta-llama/Llama-2-70b-hf", dtype="bfloat16")',
        instead='@app.function(gpu="H100:2", timeout=3600)\ndef serve():\n    from vllm import LLM\n'
        '    llm = LLM(model="meta-llama/Llama-2-70b-hf", dtype="bfloat16", tensor_parallel_size=2)',
        valid=(
            '@app.function(gpu="A100-80GB", timeout=60)\ndef f():\n    from vllm import LLM\n'
            "    return LLM(model='hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4')",
            '@app.function(gpu="A100-80GB", timeout=60)\ndef f():\n    from vllm import LLM\n'
            "    return LLM(model='meta-llama/Llama-2-13b-hf')",
        ),
        invalid=(
            '@app.function(gpu="A100-80GB", timeout=60)\ndef f():\n    from vllm import LLM\n'
            "    return LLM(model='meta-llama/Llama-2-70b-hf', dtype='bfloat16')",
            '@app.function(gpu="A100-80GB", timeout=60)\ndef f():\n    from vllm import LLM\n'
            "    return LLM(model='meta-llama/Llama-2-70b-hf')",
        ),
    ),
    Rule(
        code="MGL404",
        name="partial-node-cluster",
        default=True,
        fix=None,
        summary="`@modal.clustered(...)` / `modal.experimental.clustered(...)` on a function or class that "
        "requests fewer GPUs than a full node of its type (`H100:4` instead of `H100:8`), or no GPU.",
        why="Each container of a Modal cluster must request every GPU of its node, and CPU-only clusters are "
        "not supported: Modal rejects the function.",
        example='@app.function(gpu="H100:4", timeout=3600)\n@modal.clustered(size=2)\ndef train(): ...',
        instead='@app.function(gpu="H100:8", timeout=3600)\n@modal.clustered(size=2)\ndef train(): ...',
        valid=('@app.function(gpu="H100:8", timeout=60)\n@modal.clustered(size=2)\ndef f(): ...',),
        invalid=('@app.function(gpu="H100:4", timeout=60)\n@modal.clustered(size=2)\ndef f(): ...',),
    ),
    Rule(
        code="MGL405",
        name="nonpreemptible-gpu",
        default=True,
        fix=None,
        summary="`nonpreemptible=True` on a Modal function, class or server that requests a GPU.",
        why="Modal does not support non-preemptible GPU containers (preemption guide); the client accepts "
        "the flag, so the mistake only shows at deploy time. Make GPU work resumable instead "
        "(checkpoints on a Volume, `retries=`).",
        example='@app.function(gpu="H100", timeout=3600, nonpreemptible=True)',
        instead='@app.function(gpu="H100", timeout=3600, retries=3)',
        valid=("@app.function(nonpreemptible=True)\ndef f(): ...",),
        invalid=('@app.function(gpu="H100", timeout=60, nonpreemptible=True)\ndef f(): ...',),
    ),
)

CODES = frozenset(rule.code for rule in RULES)
DECORATORS = ("app.function", "app.cls", "app.server")
GIB = 1.073741824  # GB per GiB: GPU memory sizes are binary, so "80 GB" is up to 85.9e9 bytes
NAME_MARGIN = 0.9  # names round parameter counts (Llama-2-7b has 6.7B): demand a 10% excess
HEADROOM = 1.2  # what suggestions leave for the KV cache and activations
_CLUSTERED = ("modal.clustered", "modal.experimental.clustered")


# ---- shared with rules/advice.py ----------------------------------------------------------------
@lru_cache(maxsize=1)
def advice_data() -> dict[str, Any]:
    """advice.toml: scarce GPU types and the upgrades `!` pins away from."""
    text = read_data("modal_gpu_lint.facts", "advice.toml")
    return tomllib.loads(text)


class _Bodies(threading.local):
    """The bodies read for the module being checked (per thread), shared by advice and needs."""

    facts: object = None
    bodies: dict[int, BodyFacts]


_cache = _Bodies()


def forget_bodies() -> None:
    """Drop the bodies read for the last module: they hold its whole tree (a large file's tree is
    most of the memory a fix needs; the fixer parses the fixed text once the old tree is gone)."""
    _cache.facts, _cache.bodies = None, {}


def site_body(ctx: Context, site: Site) -> BodyFacts | None:
    """The body facts of a decorated def or class (read once per module)."""
    if site.target is None or site.api.kind not in DECORATORS:
        return None
    if _cache.facts is not ctx.facts:
        _cache.facts, _cache.bodies = ctx.facts, {}
    bodies = _cache.bodies
    key = id(site.target)
    if key not in bodies:
        pins = {str(k): str(v) for k, v in advice_data().get("upgrades", {}).items()}
        bodies[key] = read_body(site.target, ctx.facts.resolver, site.scopes, pins)
    return bodies[key]


@dataclass(frozen=True)
class Cluster:
    """`@modal.clustered(size=N)` on a target: the decorator and every size it may have."""

    call: cst.Call
    sizes: tuple[int, ...] | None  # None when not known


def cluster_of(ctx: Context, site: Site) -> Cluster | None:
    """The cluster decorator of the site's target, if any."""
    if site.target is None:
        return None
    for decorator in site.target.decorators:
        expr = decorator.decorator
        if not isinstance(expr, cst.Call):
            continue
        if ctx.facts.resolver.qualify(expr.func, site.scopes) not in _CLUSTERED:
            continue
        size = next((a.value for a in expr.args if a.keyword is not None and a.keyword.value == "size"), None)
        if size is None:
            positional = [a for a in expr.args if a.keyword is None and not a.star]
            size = positional[0].value if positional else None
        values = ctx.facts.resolver.evaluate(size, site.scopes) if size is not None else []
        known = values and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)
        return Cluster(expr, tuple(v for v in values if isinstance(v, int)) if known else None)
    return None


def suggest_for_memory(catalog: Catalog, need_gb: float, limit: int = 2, same: GpuType | None = None) -> list[str]:
    """GPU requests with at least `need_gb` of memory: more of the `same` type first (when it can
    hold it), then the fewest GPUs, then the cheapest."""
    options: list[tuple[int, float, str]] = []
    first: list[str] = []
    for gpu in catalog.types:
        if gpu.price is None:
            continue
        top = gpu.max_count or 8
        for count in (1, 2, 4, 8):
            if count <= top and gpu.memory_gb * count >= need_gb:
                text = gpu.canonical if count == 1 else f"{gpu.canonical}:{count}"
                if same is not None and gpu.name == same.name:
                    first.append(text)
                else:
                    options.append((count, gpu.price * count, text))
                break
    return (first + [text for _, _, text in sorted(options)])[:limit]


def or_list(items: list[str]) -> str:
    """`"A"`, `"A" or "B"`."""
    quoted = [f'"{item}"' for item in items]
    return " or ".join(quoted)


def where(site: Site, gpus: tuple[tuple[Entry, ...], ...]) -> str:
    """How the message names the request: `gpu="H100:2"` as written, or as resolved."""
    arg = site.arg("gpu")
    if arg is not None and isinstance(arg.value, (cst.SimpleString, cst.List)):
        return "gpu=" + " ".join(cst.Module(body=[]).code_for_node(arg.value).split())
    if len(gpus) == 1 and len(gpus[0]) == 1:
        return f'gpu="{gpus[0][0].text}"'
    if len(gpus) == 1:
        return "gpu=[" + ", ".join(f'"{e.text}"' for e in gpus[0]) + "]"
    return "the GPU request"


# ---- the checker --------------------------------------------------------------------------------
def check(ctx: Context) -> Iterator[Finding]:
    """MGL401-MGL405 on every Modal function, class and server."""
    if not ctx.wants(*CODES):
        return
    given: _GivenLater | None = None
    for site in ctx.facts.sites:
        if site.api.kind not in DECORATORS:
            continue
        request = read_request(site, ctx.facts.resolver, ctx.catalog)
        if ctx.wants("MGL405"):
            yield from _nonpreemptible(ctx, site, request)
        cluster = cluster_of(ctx, site)
        if ctx.wants("MGL404") and cluster is not None:
            yield from _partial_cluster(ctx, site, request, cluster)
        if site.target is None or request is None:
            continue
        if not ctx.wants("MGL401", "MGL402", "MGL403"):
            continue
        body = site_body(ctx, site)
        if body is None:
            continue
        if ctx.wants("MGL401") and request.no_gpu and cluster is None and body.cuda and not body.adaptive:
            given = given or _GivenLater(ctx)
            if not given.covers(site.target):
                yield _cuda_without_gpu(ctx, site, body)
        gpus = request.gpus
        if gpus is None:
            continue
        if ctx.wants("MGL402"):
            for setting in body.parallel:
                finding = _parallelism(site, gpus, setting, cluster)
                if finding is not None:
                    yield finding
        if ctx.wants("MGL403"):
            for load in body.models:
                finding = _model_memory(ctx, site, gpus, load, cluster)
                if finding is not None:
                    yield finding


# ---- MGL401 -------------------------------------------------------------------------------------
def _cuda_without_gpu(ctx: Context, site: Site, body: BodyFacts) -> Finding:
    assert site.target is not None
    use = body.cuda[0]
    cheapest = suggest_for_memory(ctx.catalog, 0.0, 1)
    example = f'gpu="{cheapest[0]}"' if cheapest else 'gpu="..."'
    kind = "class" if isinstance(site.target, cst.ClassDef) else "function"
    message = (
        f"{kind} {site.target.name.value} uses CUDA ({use.text}) but requests no GPU: Modal runs it on a "
        f"CPU-only container, where that call fails; request one ({example}, or what the model needs), "
        "or give it with .with_options(gpu=...)"
    )
    node = site.call if site.call is not None else site.expr
    return Finding("MGL401", message, node, node)


class _GivenLater:
    """`.with_options(gpu=...)` calls in the module, and what they may apply to."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        collector = _WithOptions()
        visit(ctx.facts.module, collector)
        self.calls = collector.calls

    def covers(self, target: cst.FunctionDef | cst.ClassDef) -> bool:
        """Whether a `with_options(gpu=...)` in the module may give `target` its GPU."""
        name = target.name.value
        resolver = self.ctx.facts.resolver
        for call in self.calls:
            assert isinstance(call.func, cst.Attribute)
            gpu = next((a for a in call.args if a.keyword is not None and a.keyword.value == "gpu"), None)
            splat = any(a.star == "**" for a in call.args)
            if gpu is None and not splat:
                continue
            if gpu is not None and resolver.evaluate(gpu.value, ()) == [None]:
                continue
            receiver = call.func.value
            if isinstance(receiver, cst.Name):
                if receiver.value == name:
                    return True
                bindings = resolver.module_scope.bindings.get(receiver.value, [])
                if bindings and all(isinstance(b, Defined) and b.node is not target for b in bindings):
                    continue  # another def or class of this module
                return True
            if isinstance(receiver, cst.Attribute):
                if receiver.attr.value == name:
                    return True
                continue
            if isinstance(receiver, cst.Call):
                looked_up = _looked_up_name(receiver)
                if looked_up is None or looked_up == name:
                    return True
                continue
            return True
        return False


def _looked_up_name(call: cst.Call) -> str | None:
    """The object name in `modal.Cls.from_name("app", "Name")`, when written as a string."""
    arg = next((a for a in call.args if a.keyword is not None and a.keyword.value == "name"), None)
    positional = [a for a in call.args if a.keyword is None]
    if arg is None and len(positional) >= 2:
        arg = positional[1]
    if arg is not None and isinstance(arg.value, cst.SimpleString):
        value = arg.value.evaluated_value
        return value if isinstance(value, str) else None
    return None


class _WithOptions(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "with_options":
            self.calls.append(node)


# ---- MGL402 -------------------------------------------------------------------------------------
def _limit(entries: tuple[Entry, ...], setting: Parallelism, cluster: Cluster | None) -> int | None:
    """How many GPUs `setting` may use under the smallest entry of one alternative."""
    per_container = min(e.count for e in entries)
    if setting.per_container:
        return per_container
    machines = setting.machines
    if cluster is not None:
        if cluster.sizes is None:
            return None
        machines = max(machines, max(cluster.sizes))
    return per_container * machines


def _parallelism(
    site: Site, gpus: tuple[tuple[Entry, ...], ...], setting: Parallelism, cluster: Cluster | None
) -> Finding | None:
    limits = [_limit(alt, setting, cluster) for alt in gpus]
    if any(limit is None for limit in limits):
        return None
    best = max(limit for limit in limits if limit is not None)
    if setting.size <= best:
        return None
    smallest = min((e for alt in gpus for e in alt), key=lambda e: e.count)
    nodes = 1
    if not setting.per_container:
        nodes = max(cluster.sizes) if cluster is not None and cluster.sizes else setting.machines
    gives = f"{best} GPU{'s' if best != 1 else ''}"
    if nodes > 1:
        gives += f" ({nodes} containers x {best // nodes})"
    what = where(site, gpus)
    if len(gpus) == 1 and len(gpus[0]) > 1:
        what = f'the fallback entry "{smallest.text}" of {what}'
    advice = _more(gpus, setting, nodes, cluster)
    if len(gpus) == 1 and len(gpus[0]) > 1 and gpus[0][0].count * nodes >= setting.size:
        advice = f"give the fallback entry at least {math.ceil(setting.size / nodes)} GPUs, or drop it"
    message = f"{setting.setting} uses {setting.size} GPUs at once, but {what} gives {gives}: {advice}"
    return Finding("MGL402", message, setting.node, setting.node)


def _more(gpus: tuple[tuple[Entry, ...], ...], setting: Parallelism, nodes: int, cluster: Cluster | None) -> str:
    """What to request instead, from the catalog's per-container maximum."""
    first = gpus[0][0]
    top = first.gpu.max_count
    name = f"{first.gpu.canonical}{first.suffix}"
    per_node = math.ceil(setting.size / nodes)
    if top is None or per_node <= top:
        return f'request gpu="{name}:{per_node}", or lower the parallel size'
    if setting.per_container:
        return (
            f"lower it to {top} or fewer: each {first.gpu.canonical} container has at most {top} GPUs "
            "(torchrun counts per node)"
        )
    needed = math.ceil(setting.size / top)
    if cluster is not None:
        return f'use @modal.clustered(size={needed}) with gpu="{name}:{top}", or lower the parallel size'
    return f'spread it over @modal.clustered(size={needed}) with gpu="{name}:{top}", or lower the parallel size'


# ---- MGL403 -------------------------------------------------------------------------------------
# vLLM's and SGLang's default dtype="auto" keeps the checkpoint's precision; a Hub checkpoint whose
# id states no quantization (and that the model table does not list as stored quantized) is bf16/fp16
# or wider: 2 bytes per parameter is a lower bound.
AUTO_DTYPE = Precision(2.0, 'dtype="auto"')


@dataclass(frozen=True)
class _Weights:
    model_id: str
    params_b: float
    precision: Precision
    gb: float  # nominal
    bound_gb: float  # what is sure (names round their sizes)


def _weights(load: ModelLoad) -> _Weights | None:
    """The smallest weights any of the load's ids can have, or None when not sure."""
    smallest: _Weights | None = None
    for model_id in load.model_ids:
        size = model_size(model_id)
        if size is None:
            return None
        from_id = precision_from_id(model_id)
        if from_id is False:
            return None
        bounds = list(load.bounds)
        if isinstance(from_id, Precision):
            bounds.append(from_id)
        if size.native_bytes is not None:
            bounds.append(Precision(size.native_bytes, "the precision of its published weights"))
        elif load.auto_dtype and from_id is None and not load.bounds:
            bounds.append(AUTO_DTYPE)
        if not bounds:
            return None
        precision = min(bounds, key=lambda p: p.bytes)
        gb = size.params_b * precision.bytes
        bound = gb * (1.0 if size.from_table else NAME_MARGIN)
        weights = _Weights(model_id, size.params_b, precision, gb, bound)
        if smallest is None or weights.bound_gb < smallest.bound_gb:
            smallest = weights
    return smallest


def _model_memory(
    ctx: Context, site: Site, gpus: tuple[tuple[Entry, ...], ...], load: ModelLoad, cluster: Cluster | None
) -> Finding | None:
    if load.offload or load.unsure:
        return None
    weights = _weights(load)
    if weights is None:
        return None
    nodes = 1
    if cluster is not None:
        if cluster.sizes is None:
            return None
        nodes = max(cluster.sizes)
    # The memory each alternative surely gives: its smallest entry (any entry may be granted).
    capacities = [min(e.total_gb for e in alt) * nodes for alt in gpus]
    best = max(capacities)
    if weights.bound_gb <= best * GIB:
        return None
    weakest = min((e for alt in gpus for e in alt), key=lambda e: e.total_gb)
    has = f"{weakest.count} x {weakest.gpu.canonical}{weakest.suffix} has {weakest.total_gb:g} GB"
    if nodes > 1:
        has = f"{nodes} containers of {weakest.count} x {weakest.gpu.canonical} have {best:g} GB"
    elif len(gpus) == 1 and len(gpus[0]) > 1:
        has = (
            f'the fallback entry "{weakest.text}" ({weakest.count} x {weakest.gpu.canonical}) '
            f"has {weakest.total_gb:g} GB"
        )
    suggestions = suggest_for_memory(ctx.catalog, weights.gb * HEADROOM, same=gpus[0][0].gpu)
    advice = (
        f"request {or_list(suggestions)} (the weights plus 20% for the KV cache and activations)"
        if suggestions
        else "use a smaller or quantized model, or a @modal.clustered cluster"
    )
    largest = max(e.total_gb for alt in gpus for e in alt) * nodes
    if len(gpus) == 1 and len(gpus[0]) > 1 and weights.bound_gb <= largest * GIB:
        advice = (
            f'drop the fallback entry "{weakest.text}", or replace it with GPUs of at least '
            f"{weights.gb * HEADROOM:.0f} GB in total"
        )

    per = weights.precision.bytes
    precision = f"in {weights.precision.label} ({per:g} byte{'' if per == 1 else 's'} per parameter)"
    if weights.precision is AUTO_DTYPE:
        precision = (
            'loaded with dtype="auto" (the default: the checkpoint\'s own precision, which for an unquantized '
            "checkpoint is at least 2 bytes per parameter),"
        )
    message = (
        f"{weights.model_id} has about {describe_params(weights.params_b)} parameters; {precision} its weights "
        f"alone need about {weights.gb:.0f} GB, but {has}: {advice}"
    )
    return Finding("MGL403", message, load.node, load.node)


# ---- MGL404 -------------------------------------------------------------------------------------
def _partial_cluster(ctx: Context, site: Site, request: Request | None, cluster: Cluster) -> Iterator[Finding]:
    if request is None:
        return
    if request.no_gpu:
        scarce = [str(t).upper() for t in advice_data().get("scarce-types", [])]
        example = next((g for g in ctx.catalog.types if g.name in scarce and g.max_count), None)
        hint = f', e.g. gpu="{example.canonical}:{example.max_count}"' if example is not None else ""
        message = (
            f"@modal.clustered needs GPUs: CPU-only clusters are not supported; request every GPU of each node{hint}"
        )
        yield Finding("MGL404", message, cluster.call, cluster.call)
        return
    gpus = request.gpus
    arg = site.arg("gpu")
    if gpus is None or arg is None:
        return
    partial = [[e for e in alt if e.gpu.max_count is not None and e.count < e.gpu.max_count] for alt in gpus]
    if not all(partial):
        return
    entry = partial[0][0]
    assert entry.gpu.max_count is not None
    full = f"{entry.gpu.canonical}{entry.suffix}:{entry.gpu.max_count}"
    message = (
        f'@modal.clustered needs every GPU of each node: "{entry.text}" asks for {entry.count} of the '
        f'{entry.gpu.max_count} GPUs of one {entry.gpu.canonical} node; request "{full}"'
    )
    yield Finding("MGL404", message, arg, arg)


# ---- MGL405 -------------------------------------------------------------------------------------
def _nonpreemptible(ctx: Context, site: Site, request: Request | None) -> Iterator[Finding]:
    arg = site.arg("nonpreemptible")
    if arg is None or request is None or request.gpus is None:
        return
    values = ctx.values(site, arg.value)
    if not values or not all(v is True for v in values):
        return
    message = (
        "nonpreemptible=True is not supported for GPU containers (Modal's preemption guide): remove it "
        "and make the work resumable (checkpoints on a Volume, retries=)"
    )
    yield Finding("MGL405", message, arg, arg)
