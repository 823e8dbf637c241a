"""What a Modal function's body (or a Modal class's methods) does with GPUs, read from the source.

One pass over the decorated def or class (all its methods) collects:
- sure CUDA uses (calls that raise without a GPU), and "adaptive" code that checks for one;
- parallelism settings (`tensor_parallel_size=`, `torchrun --nproc-per-node`, `vllm serve -tp`...);
- model loads (vLLM, SGLang, transformers, diffusers) with their id and precision hints;
- hardware-dependence signals for MGL302: device-name checks and benchmarks.

Values go through the resolver with the function's own scopes; anything not known stays out.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import libcst as cst

from .models import Precision, dtype_bytes, quantization_bytes
from .resolve import Assigned, Defined, Resolver, Scope, comprehension_scope, function_scope, module_scope
from .values import Value
from .walk import NOISE, may_hold_code

Target = cst.FunctionDef | cst.ClassDef


@dataclass(frozen=True, eq=False)
class Use:
    """Something the body does, where, in words."""

    node: cst.CSTNode
    text: str


@dataclass(frozen=True, eq=False)
class Parallelism:
    """A constant number of GPUs the code will use at once."""

    node: cst.CSTNode  # where to report
    size: int
    setting: str  # e.g. "tensor_parallel_size=4", "torchrun --nproc-per-node 8"
    per_container: bool  # torchrun counts per node; tensor parallel and accelerate count every node
    machines: int = 1  # accelerate --num_machines


@dataclass(frozen=True, eq=False)
class ModelLoad:
    """Weights put on the GPU: the model id(s), and what bounds their bytes per parameter."""

    node: cst.CSTNode
    model_ids: tuple[str, ...]  # every value the id may take
    loader: str  # e.g. "vLLM LLM(...)", "from_pretrained(...)", "vllm serve"
    bounds: tuple[Precision, ...]  # explicit dtype / quantization (each an upper bound on bytes)
    unsure: bool = False  # a precision hint we cannot read (quantization=X unknown...): stay silent
    offload: bool = False  # CPU offload requested: weights need not fit


@dataclass
class BodyFacts:
    """Everything the MGL3xx/MGL4xx rules read about one target."""

    cuda: list[Use] = field(default_factory=list)
    adaptive: list[Use] = field(default_factory=list)  # checks whether a GPU is there
    parallel: list[Parallelism] = field(default_factory=list)
    models: list[ModelLoad] = field(default_factory=list)
    device_name_checks: list[Use] = field(default_factory=list)
    benchmarks: list[Use] = field(default_factory=list)

    @property
    def hardware_signals(self) -> list[Use]:
        """Signals that the code depends on the exact GPU (MGL302)."""
        return self.device_name_checks + self.benchmarks


# ---- what counts --------------------------------------------------------------------------------
# torch.cuda calls that initialise CUDA and raise when no GPU is visible. Not listed on purpose:
# is_available/device_count (they are how code adapts), manual_seed*/empty_cache/memory_allocated
# (silently do nothing without CUDA), Event (created lazily).
_SURE_CUDA = frozenset(
    f"torch.cuda.{name}"
    for name in (
        "synchronize",
        "get_device_name",
        "get_device_properties",
        "get_device_capability",
        "mem_get_info",
        "set_device",
        "current_device",
        "CUDAGraph",
    )
)
_ADAPTIVE = frozenset({"torch.cuda.is_available", "torch.cuda.device_count", "torch.cuda.is_initialized"})
_ADAPTIVE_ATTRS = frozenset(name.rsplit(".", 1)[1] for name in _ADAPTIVE)
# Calls that run a Modal function elsewhere: their arguments describe that function, not this one.
_INVOCATIONS = frozenset(
    {"remote", "remote_gen", "spawn", "spawn_map", "map", "starmap", "for_each", "local", "aio", "with_options"}
)
# Constructors of configuration objects: a `device="cuda"` there may be meant for another process.
_CONFIG_NAME = re.compile(r"(?:config|args|arguments|settings|options|params|spec|dict)$", re.IGNORECASE)
_DEVICE_KEYWORDS = ("device", "device_map", "map_location")
_CUDA_DEVICE = re.compile(r"^cuda(?::\d+)?$")
_ENGINES = {  # qualified-name suffixes of engines that need a GPU, and the keyword naming their model
    "LLM": "model",
    "LLMEngine": "model",
    "AsyncLLMEngine": "model",
    "AsyncLLM": "model",
    "AsyncEngineArgs": "model",
    "EngineArgs": "model",
}
_SGLANG = {"Engine": "model_path", "Runtime": "model_path"}
_NOT_WEIGHTS = re.compile(r"(Tokenizer|Processor|Config|Extractor|Scheduler)\w*$")
_PARALLEL_KEYWORDS = ("tensor_parallel_size", "tp_size")
_PIPELINE_KEYWORDS = ("pipeline_parallel_size", "pp_size")
_ARGV_CALLS = frozenset(
    {"subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call", "subprocess.check_output"}
)
_SHELL_CALLS = frozenset({"os.system", "os.popen", "asyncio.create_subprocess_shell"})
_EXEC_CALLS = frozenset({"asyncio.create_subprocess_exec"})
_BENCHMARKS = frozenset(
    {
        "triton.testing.do_bench",
        "triton.testing.do_bench_cudagraph",
        "torch.utils.benchmark.Timer",
        "torch.utils.benchmark.utils.timer.Timer",
    }
)
_DEVICE_NAME_CALL = "torch.cuda.get_device_name"
_DEVICE_PROPERTIES_CALL = "torch.cuda.get_device_properties"
_STRING_TESTS = frozenset({"startswith", "endswith", "find", "index", "count"})
_REGEX_CALLS = frozenset({"re.search", "re.match", "re.fullmatch", "re.findall"})
_SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", ";;"})


def read_body(
    target: Target, resolver: Resolver, scopes: tuple[Scope, ...], pins: Mapping[str, str] | None = None
) -> BodyFacts:
    """Read `target` (a decorated def or class), whose decorator is evaluated in `scopes`.

    `pins` maps the GPU names whose device-name checks count for MGL302 to the name of the GPU
    Modal may run them on instead ({"H100": "H200"}): code that also accepts the latter is fine.
    """
    reader = _BodyReader(resolver, scopes, {k.upper(): v.upper() for k, v in (pins or {}).items()})
    if isinstance(target, cst.FunctionDef):
        reader.enter_function(target)
        reader.walk(target.body)
        reader.leave_function()
    else:
        statements = [s for s in target.body.body if isinstance(s, (cst.SimpleStatementLine, cst.BaseCompoundStatement))]
        class_scope = module_scope(cst.Module(body=statements))
        reader.class_scopes.add(id(class_scope))
        reader.scopes.append(class_scope)
        reader.walk(target.body)
    reader.finish()
    return reader.facts


@dataclass(frozen=True, eq=False)
class _Token:
    text: str | None  # None when the source does not fix it
    node: cst.CSTNode


@dataclass(eq=False)
class _Pending:
    """A `from_pretrained` / `pipeline` load, waiting to learn whether it is moved to CUDA."""

    call: cst.Call
    load: ModelLoad
    placed: bool
    target: str | None  # the expression it is assigned to, e.g. "self.model"


class _BodyReader:
    def __init__(self, resolver: Resolver, scopes: tuple[Scope, ...], pins: dict[str, str]) -> None:
        self.resolver = resolver
        self.base_depth = len(scopes)
        self.scopes: list[Scope] = list(scopes)
        self.saved: list[list[Scope]] = []
        self.class_scopes: set[int] = set()
        self.pins = pins
        self.facts = BodyFacts()
        self.assigned_to: dict[int, str] = {}  # id(call) -> code of the name it is assigned to
        self.mutated: set[str] = set()  # names of lists changed in place (`cmd.extend(...)`)
        self.commands: list[tuple[cst.Call, str, list[Scope]]] = []
        self.pending: list[_Pending] = []
        self.moved: set[str] = set()  # code of expressions moved with .to("cuda") / .cuda()
        self.moved_calls: set[int] = set()
        self.timed_events: list[Use] = []
        self.name_tests: list[tuple[cst.CSTNode, list[str]]] = []  # strings compared with the GPU name
        self.elapsed = False
        self.loops = False
        self._empty = cst.Module(body=[])

    # ---- scopes ---------------------------------------------------------------------------
    def enter_function(self, node: cst.FunctionDef | cst.Lambda) -> None:
        self.saved.append(self.scopes)
        self.scopes = [s for s in self.scopes if id(s) not in self.class_scopes] + [function_scope(node)]

    def leave_function(self) -> None:
        self.scopes = self.saved.pop()

    def walk(self, root: cst.CSTNode) -> None:
        """Visit `root` and everything under it in source order (an explicit stack: no recursion
        limit, and none of the node rebuilding that libcst's visitors do)."""
        stack: list[tuple[cst.CSTNode, bool]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            kind = type(node)
            if leaving:
                if kind is cst.FunctionDef or kind is cst.Lambda:
                    self.leave_function()
                else:
                    self.scopes.pop()
                continue
            if kind not in _READ_KINDS:  # most nodes: skip the isinstance chain (ABC checks are slow)
                stack.extend((child, False) for child in reversed(_children(node)))
                continue
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                self.enter_function(node)
                stack.append((node, True))
            elif isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
                self.loops = True
                self.scopes.append(comprehension_scope(node))
                stack.append((node, True))
            elif isinstance(node, cst.Call):
                self.visit_Call(node)
            elif isinstance(node, cst.Attribute):
                self.visit_Attribute(node)
            elif isinstance(node, cst.Assign):
                self.visit_Assign(node)
            elif isinstance(node, (cst.AssignTarget, cst.Del)):
                target = node.target
                if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
                    self.mutated.add(target.value.value)  # `cmd[1] = ...`, `del cmd[0]`
            elif isinstance(node, cst.Comparison):
                self.visit_Comparison(node)
            elif isinstance(node, (cst.For, cst.While)):
                self.loops = True
            stack.extend((child, False) for child in reversed(_children(node)))

    # ---- helpers --------------------------------------------------------------------------
    @property
    def here(self) -> tuple[Scope, ...]:
        return tuple(self.scopes)

    def code(self, node: cst.CSTNode) -> str:
        return self._empty.code_for_node(node)

    def short(self, node: cst.CSTNode, limit: int = 60) -> str:
        text = " ".join(self.code(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def method_text(self, call: cst.Call) -> str:
        """`model.cuda()`, `....to("cuda")`: the receiver shortened, the method call in full."""
        assert isinstance(call.func, cst.Attribute)
        value = call.func.value
        receiver = f"{self.short(value.func, 30)}(...)" if isinstance(value, cst.Call) else self.short(value, 30)
        args = self.short(cst.Call(func=cst.Name("f"), args=call.args), 30)[1:]
        return f"{receiver}.{call.func.attr.value}{args}"

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        return self.resolver.qualify(expr, self.here)

    def values(self, expr: cst.BaseExpression, scopes: tuple[Scope, ...] | None = None) -> list[Value]:
        return self.resolver.evaluate(expr, scopes if scopes is not None else self.here)

    def known_str(self, expr: cst.BaseExpression) -> list[str] | None:
        values = self.values(expr)
        if values and all(isinstance(v, str) for v in values):
            return [v for v in values if isinstance(v, str)]
        return None

    def known_int(self, expr: cst.BaseExpression) -> list[int] | None:
        values = self.values(expr)
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return [v for v in values if isinstance(v, int)]
        return None

    def is_true(self, expr: cst.BaseExpression) -> bool | None:
        """True / False when every value says so; None when not known."""
        values = self.values(expr)
        if values and all(v is True for v in values):
            return True
        if values and all(v is False or v is None or v == 0 for v in values):
            return False
        return None

    # ---- statements -----------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.value, cst.Call):
            target = node.targets[0].target
            if isinstance(target, (cst.Name, cst.Attribute)):
                self.assigned_to[id(node.value)] = self.code(target)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if not self.pins:
            return
        operands = [node.left, *(c.comparator for c in node.comparisons)]
        if not any(self.mentions_device_name(o) for o in operands):
            return
        strings = [s for o in operands for s in self.strings_in(o)]
        self._device_name_check(node, strings)

    def _device_name_check(self, node: cst.CSTNode, strings: list[str]) -> None:
        self.name_tests.append((node, [s.upper() for s in strings]))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _ADAPTIVE_ATTRS and self.qualify(node) in _ADAPTIVE:
            self.facts.adaptive.append(Use(node, self.short(node)))

    # ---- calls ----------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        attr = func.attr.value if isinstance(func, cst.Attribute) else None
        if attr in _MUTATORS and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            self.mutated.add(func.value.value)
        if attr in _INVOCATIONS:
            return
        name = self.qualify(func)
        if attr == "elapsed_time":
            self.elapsed = True
        if name is not None:
            self._named_call(node, name)
        self._cuda_call(node, attr, name)
        self._parallel_keywords(node)
        if attr == "from_pretrained" and isinstance(func, cst.Attribute):
            self._from_pretrained(node, func)
        if self.pins and attr is not None and isinstance(func, cst.Attribute):
            self._string_test(node, func, attr, name)

    def _named_call(self, node: cst.Call, name: str) -> None:
        if name in _SURE_CUDA:
            self.facts.cuda.append(Use(node, self.short(node)))
        if name in _BENCHMARKS:
            self.facts.benchmarks.append(Use(node, f"benchmarks with {name.rsplit('.', 1)[1]}(...)"))
        elif name == "torch.cuda.Event":
            timing = _keyword(node, "enable_timing")
            if timing is not None and self.is_true(timing.value):
                self.timed_events.append(Use(node, self.short(node)))
        elif name == "torch.device":
            first = _positional(node, 0)
            if first is not None and self.is_cuda(first):
                self.facts.cuda.append(Use(node, self.short(node)))
        elif name in _ARGV_CALLS or name in _SHELL_CALLS or name in _EXEC_CALLS:
            self.commands.append((node, name, list(self.scopes)))  # read at the end, see finish()
        elif name == "transformers.pipeline":
            self._pipeline(node)
        else:
            self._engine(node, name)

    def _cuda_call(self, node: cst.Call, attr: str | None, name: str | None) -> None:
        if attr == "cuda" and name is None:
            self.facts.cuda.append(Use(node, self.method_text(node)))
            self._moved(node)
            return
        if attr == "to":
            device = _keyword(node, "device")
            first = device.value if device is not None else (_positional(node, 0))
            if first is not None and self.is_cuda(first):
                self.facts.cuda.append(Use(node, self.method_text(node)))
                self._moved(node)
            return
        callee = name or attr or (node.func.value if isinstance(node.func, cst.Name) else "")
        if _CONFIG_NAME.search(callee.rsplit(".", 1)[-1]) or self.is_own_code(node.func):
            return
        for keyword in _DEVICE_KEYWORDS:
            arg = _keyword(node, keyword)
            if arg is not None and self.is_cuda(arg.value):
                self.facts.cuda.append(Use(arg, f"{keyword}={self.short(arg.value)}"))

    def is_own_code(self, func: cst.BaseExpression) -> bool:
        """A function or class of this module, or a method called on `self` / `cls`: code we do not
        read, which may fall back to the CPU by itself."""
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
            return True
        if isinstance(func, cst.Name):
            found = self.resolver.bindings(func.value, self.here)
            return bool(found) and all(isinstance(b, Defined) for b in found)
        return False

    def _moved(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            receiver = func.value
            if isinstance(receiver, cst.Call):
                self.moved_calls.add(id(receiver))
            elif isinstance(receiver, (cst.Name, cst.Attribute)):
                self.moved.add(self.code(receiver))

    def is_cuda(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """Whether `expr` surely names a CUDA device: "cuda", "cuda:0", torch.device("cuda")."""
        if depth > 8:
            return False
        if isinstance(expr, cst.Call):
            first = _positional(expr, 0)
            return self.qualify(expr.func) == "torch.device" and first is not None and self.is_cuda(first, depth + 1)
        if isinstance(expr, cst.Name):
            found, where = self.resolver.lookup(expr.value, self.here)
            if len(found) == 1 and isinstance(found[0], Assigned) and isinstance(found[0].value, cst.Call):
                call = found[0].value
                first = _positional(call, 0)
                if self.resolver.qualify(call.func, where) == "torch.device" and first is not None:
                    values = self.values(first, where)
                    return bool(values) and all(isinstance(v, str) and _CUDA_DEVICE.match(v) for v in values)
        values = self.values(expr)
        return bool(values) and all(isinstance(v, str) and _CUDA_DEVICE.match(v) is not None for v in values)

    # ---- parallelism ----------------------------------------------------------------------
    def _parallel_keywords(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "dict":
            return  # data, maybe for another function
        for keyword in _PARALLEL_KEYWORDS:
            arg = _keyword(node, keyword)
            if arg is None:
                continue
            sizes = self.known_int(arg.value)
            if not sizes:
                continue
            size = min(sizes)
            setting = f"{keyword}={size}"
            for other in _PIPELINE_KEYWORDS:
                pp = _keyword(node, other)
                stages = self.known_int(pp.value) if pp is not None else None
                if stages and min(stages) > 1:
                    size *= min(stages)
                    setting += f" x {other}={min(stages)}"
            self.facts.parallel.append(Parallelism(arg, size, setting, per_container=False))

    # ---- engines and model loads ----------------------------------------------------------
    def _engine(self, node: cst.Call, name: str) -> None:
        head, _, last = name.rpartition(".")
        root = head.split(".", 1)[0]
        if root == "vllm" and last in _ENGINES:
            keyword = _ENGINES[last]
            if not last.endswith("Args"):
                self.facts.cuda.append(Use(node, f"vLLM {last}(...)"))
            self._engine_load(node, keyword, f"vLLM {last}(...)")
        elif root == "sglang" and last in _SGLANG:
            self.facts.cuda.append(Use(node, f"SGLang {last}(...)"))
            self._engine_load(node, _SGLANG[last], f"SGLang {last}(...)")
        elif last in ("from_engine_args", "from_vllm_config") and head.split(".", 1)[0] == "vllm":
            self.facts.cuda.append(Use(node, f"vLLM {head.rsplit('.', 1)[-1]}.{last}(...)"))

    def _engine_load(self, node: cst.Call, keyword: str, loader: str) -> None:
        arg = _keyword(node, keyword)
        expr = arg.value if arg is not None else (_positional(node, 0) if keyword == "model" else None)
        if expr is None:
            return
        ids = self.known_str(expr)
        if not ids:
            return
        bounds: list[Precision] = []
        unsure = False
        dtype = _keyword(node, "dtype")
        if dtype is not None:
            bound = self.dtype_bound(dtype.value)
            if bound is not None:
                bounds.append(bound)
        quantization = _keyword(node, "quantization")
        if quantization is not None:
            bound, quant_unsure = self.quantization_bound(quantization.value)
            unsure |= quant_unsure
            if bound is not None:
                bounds.append(bound)
        offload = False
        for offload_keyword in ("cpu_offload_gb", "offload_gb"):
            offload_arg = _keyword(node, offload_keyword)
            if offload_arg is not None and self.is_true(offload_arg.value) is not False:
                offload = True
        report = arg if arg is not None else expr
        self.facts.models.append(ModelLoad(report, tuple(ids), loader, tuple(bounds), unsure, offload))

    def dtype_bound(self, expr: cst.BaseExpression) -> Precision | None:
        """An explicit dtype: "bfloat16", torch.float16, ... (None when "auto" or not known)."""
        if isinstance(expr, cst.Attribute):
            name = self.qualify(expr)
            if name is not None and name.startswith("torch."):
                size = dtype_bytes(name)
                return Precision(size, name) if size is not None else None
            return None
        texts = self.known_str(expr)
        if not texts:
            return None
        sizes = [dtype_bytes(t) for t in texts]
        if any(s is None for s in sizes):
            return None
        fewest = min(s for s in sizes if s is not None)  # a lower bound holds for every alternative
        return Precision(fewest, texts[sizes.index(fewest)])

    def quantization_bound(self, expr: cst.BaseExpression) -> tuple[Precision | None, bool]:
        """A `quantization=` value: (bytes bound, unsure). None / "none" means no quantization."""
        values = self.values(expr)
        if values and all(v is None for v in values):
            return None, False
        if not values or not all(isinstance(v, str) for v in values):
            return None, True
        sizes = [quantization_bytes(str(v)) for v in values]
        if any(s is None for s in sizes):
            return None, True
        smallest = min(s for s in sizes if s is not None)
        return Precision(smallest, f"{values[sizes.index(smallest)]} quantization"), False

    def _from_pretrained(self, node: cst.Call, func: cst.Attribute) -> None:
        owner = self.qualify(func.value)
        if owner is None or owner.split(".", 1)[0] not in ("transformers", "diffusers"):
            return
        if _NOT_WEIGHTS.search(owner):
            return
        arg = _keyword(node, "pretrained_model_name_or_path")
        expr = arg.value if arg is not None else _positional(node, 0)
        if expr is None:
            return
        ids = self.known_str(expr)
        if not ids:
            return
        bounds, unsure = self._hf_precision(node)
        offload = any(_keyword(node, k) is not None for k in ("offload_folder", "max_memory", "offload_state_dict"))
        device_map = _keyword(node, "device_map")
        placed = device_map is not None and self.is_gpu_index_or_cuda(device_map.value)
        loader = f"{owner.rsplit('.', 1)[-1]}.from_pretrained(...)"
        load = ModelLoad(arg or expr, tuple(ids), loader, tuple(bounds), unsure, offload)
        self.pending.append(_Pending(node, load, placed, self.assigned_to.get(id(node))))

    def _pipeline(self, node: cst.Call) -> None:
        arg = _keyword(node, "model")
        if arg is None:
            return
        ids = self.known_str(arg.value)
        if not ids:
            return
        bounds, unsure = self._hf_precision(node)
        device = _keyword(node, "device") or _keyword(node, "device_map")
        placed = device is not None and self.is_gpu_index_or_cuda(device.value)
        load = ModelLoad(arg, tuple(ids), "pipeline(...)", tuple(bounds), unsure, False)
        self.pending.append(_Pending(node, load, placed, self.assigned_to.get(id(node))))

    def is_gpu_index_or_cuda(self, expr: cst.BaseExpression) -> bool:
        """`device=0` / `device_map="cuda:0"` put everything on one GPU ("auto" may offload)."""
        ints = self.known_int(expr)
        if ints is not None:
            return all(i >= 0 for i in ints)
        return self.is_cuda(expr)

    def _hf_precision(self, node: cst.Call) -> tuple[list[Precision], bool]:
        bounds: list[Precision] = []
        unsure = False
        for keyword in ("torch_dtype", "dtype"):
            arg = _keyword(node, keyword)
            if arg is not None:
                bound = self.dtype_bound(arg.value)
                if bound is not None:
                    bounds.append(bound)
        for keyword, size in (("load_in_4bit", 0.5), ("load_in_8bit", 1.0)):
            arg = _keyword(node, keyword)
            if arg is None:
                continue
            flag = self.is_true(arg.value)
            if flag is None:
                unsure = True
            elif flag:
                bounds.append(Precision(size, keyword))
        config = _keyword(node, "quantization_config")
        if config is not None:
            bound = self._bnb_config(config.value)
            if bound is None:
                unsure = True
            else:
                bounds.append(bound)
        return bounds, unsure

    def _bnb_config(self, expr: cst.BaseExpression) -> Precision | None:
        if isinstance(expr, cst.Name):
            found, where = self.resolver.lookup(expr.value, self.here)
            if len(found) == 1 and isinstance(found[0], Assigned) and isinstance(found[0].value, cst.Call):
                expr = found[0].value
        if not isinstance(expr, cst.Call) or not (self.qualify(expr.func) or "").endswith("BitsAndBytesConfig"):
            return None
        for keyword, size in (("load_in_4bit", 0.5), ("load_in_8bit", 1.0)):
            arg = _keyword(expr, keyword)
            if arg is not None and self.is_true(arg.value):
                return Precision(size, f"BitsAndBytesConfig({keyword}=True)")
        return None

    # ---- command lines --------------------------------------------------------------------
    def _command(self, node: cst.Call, name: str) -> None:
        if name in _EXEC_CALLS:
            tokens: list[_Token] | None = []
            for item in node.args:
                if item.keyword is not None:
                    continue
                if item.star:
                    tokens = None
                    break
                assert tokens is not None
                tokens.append(_Token(self.token_text(item.value), item.value))
        else:
            arg = _keyword(node, "args") or (node.args[0] if node.args and node.args[0].keyword is None else None)
            if arg is None or arg.star:
                return
            tokens = self.tokens(arg.value, arg.value, 0)
        if tokens:
            for segment in _segments(tokens):
                self._segment(segment)

    def tokens(self, expr: cst.BaseExpression, report: cst.CSTNode, depth: int) -> list[_Token] | None:
        """The argv an expression stands for: a list literal, a shell string, a join or split."""
        if depth > 8:
            return None
        if isinstance(expr, cst.List):
            out: list[_Token] = []
            for element in expr.elements:
                if isinstance(element, cst.StarredElement):
                    return None  # a splat may add or override any flag
                out.append(_Token(self.token_text(element.value), element.value))
            return out
        if isinstance(expr, cst.Name):
            if expr.value in self.mutated:
                return None  # flags appended later may add to or override the ones we see
            found, where = self.resolver.lookup(expr.value, self.here)
            if len(found) != 1 or not isinstance(found[0], Assigned) or found[0].value is None:
                return self._shell(expr, report)
            value = found[0].value
            inner = len(where) > self.base_depth  # bound inside the target: report where written
            saved = self.scopes
            self.scopes = list(where)
            try:
                result = self.tokens(value, value if inner else report, depth + 1)
            finally:
                self.scopes = saved
            if result is not None and not inner:
                result = [_Token(t.text, report) for t in result]
            return result
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            method = expr.func.attr.value
            if method == "join" and len(expr.args) == 1 and self.known_str(expr.func.value) == [" "]:
                parts = self.tokens(expr.args[0].value, report, depth + 1)
                return None if parts is None else [piece for t in parts for piece in _resplit(t)]
            if method == "split" and not expr.args:
                return self._shell(expr.func.value, report, split_only=True)
            if self.qualify(expr.func) == "shlex.split" and len(expr.args) == 1:
                return self._shell(expr.args[0].value, report)
        return self._shell(expr, report)

    def _shell(self, expr: cst.BaseExpression, report: cst.CSTNode, split_only: bool = False) -> list[_Token] | None:
        text = self.template(expr)
        if text is None:
            return None
        try:
            if split_only:
                words = text.split()
            else:
                lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
                lexer.whitespace_split = True
                words = list(lexer)
        except ValueError:
            return None
        node = report
        return [_Token(None if "\x00" in w else w, node) for w in words]

    def template(self, expr: cst.BaseExpression, depth: int = 0) -> str | None:
        """A string's text with unknown parts as "\\x00" (so known flags around them still count)."""
        if depth > 8:
            return None
        if isinstance(expr, cst.FormattedString):
            pieces: list[str] = []
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    pieces.append(part.value.replace("{{", "{").replace("}}", "}"))
                else:
                    assert isinstance(part, cst.FormattedStringExpression)
                    text = None if part.format_spec is not None else self.token_text(part.expression)
                    pieces.append(text if text is not None else "\x00")
            return "".join(pieces)
        if isinstance(expr, cst.Name):
            found, where = self.resolver.lookup(expr.value, self.here)
            if len(found) == 1 and isinstance(found[0], Assigned) and isinstance(found[0].value, cst.FormattedString):
                saved = self.scopes
                self.scopes = list(where)
                try:
                    return self.template(found[0].value, depth + 1)
                finally:
                    self.scopes = saved
        texts = self.known_str(expr)
        return texts[0] if texts is not None and len(texts) == 1 else None

    def token_text(self, expr: cst.BaseExpression) -> str | None:
        """One argv element: a string, a number, `str(N)`."""
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "str":
            if not self.resolver.bindings("str", self.here) and len(expr.args) == 1:
                return self.token_text(expr.args[0].value)
            return None
        values = self.values(expr)
        if len(values) != 1:
            return None
        value = values[0]
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return None

    def _segment(self, tokens: list[_Token]) -> None:
        if not tokens:
            return
        first = tokens[0].text
        if first is not None and first.rsplit("/", 1)[-1] == "nvidia-smi":
            self.facts.cuda.append(Use(tokens[0].node, "runs nvidia-smi"))
        launcher = _launcher(tokens)
        if launcher is None:
            return
        kind, start = launcher
        flags = _Flags(tokens[start:], stop_at_positional=kind in ("torchrun", "accelerate"))
        if kind == "torchrun":
            self._flag_parallel(flags, ("--nproc-per-node", "--nproc_per_node"), "torchrun", per_container=True)
        elif kind == "accelerate":
            machines = flags.int_value(("--num_machines", "--num-machines"))
            if machines is None and flags.has(("--num_machines", "--num-machines")):
                return
            self._flag_parallel(
                flags, ("--num_processes", "--num-processes"), "accelerate launch", per_container=False, machines=machines or 1
            )
        else:
            tp: tuple[str, ...] = ("--tensor-parallel-size", "--tensor_parallel_size", "-tp")
            if kind == "sglang":
                tp = ("--tp-size", "--tp_size", "--tp", "--tensor-parallel-size")
            pp = ("--pipeline-parallel-size", "--pipeline_parallel_size", "-pp", "--pp-size", "--pp_size")
            self._flag_parallel(flags, tp, "vllm serve" if kind == "vllm" else "sglang", per_container=False, pipeline=pp)
            self._flag_model(flags, kind, tokens[start:])

    def _flag_parallel(
        self,
        flags: _Flags,
        names: tuple[str, ...],
        launcher: str,
        *,
        per_container: bool,
        machines: int = 1,
        pipeline: tuple[str, ...] = (),
    ) -> None:
        found = flags.get(names)
        if found is None:
            return
        flag, token = found
        if token.text is None or not token.text.isdigit():
            return
        size = int(token.text)
        setting = f"{launcher} {flag} {size}"
        stages_found = flags.get(pipeline) if pipeline else None
        if stages_found is not None and stages_found[1].text is not None and stages_found[1].text.isdigit():
            stages = int(stages_found[1].text)
            if stages > 1:
                size *= stages
                setting += f" x {stages_found[0]} {stages}"
        self.facts.parallel.append(Parallelism(token.node, size, setting, per_container, machines))

    def _flag_model(self, flags: _Flags, kind: str, tokens: list[_Token]) -> None:
        model: _Token | None = None
        if kind == "vllm" and len(tokens) > 1 and tokens[0].text == "serve":
            candidate = tokens[1]
            if candidate.text is not None and not candidate.text.startswith("-"):
                model = candidate
        names = ("--model", "--model-path", "--model_path") if kind == "sglang" else ("--model",)
        found = flags.get(names)
        if found is not None:
            model = found[1]
        if model is None or model.text is None:
            return
        bounds: list[Precision] = []
        unsure = False
        dtype = flags.get(("--dtype",))
        if dtype is not None and dtype[1].text is not None:
            size = dtype_bytes(dtype[1].text)
            if size is not None:
                bounds.append(Precision(size, dtype[1].text))
        elif dtype is not None:
            pass  # an unknown dtype only loses a bound
        quantization = flags.get(("--quantization", "-q"))
        if quantization is not None:
            text = quantization[1].text
            size = quantization_bytes(text) if text is not None else None
            if size is None:
                unsure = True
            else:
                bounds.append(Precision(size, f"{text} quantization"))
        offload = flags.get(("--cpu-offload-gb", "--cpu_offload_gb")) is not None
        loader = "vllm serve" if kind == "vllm" else "sglang launch_server"
        self.facts.models.append(ModelLoad(model.node, (model.text,), loader, tuple(bounds), unsure, offload))

    # ---- MGL302: string tests on the device name ------------------------------------------
    def _string_test(self, node: cst.Call, func: cst.Attribute, attr: str, name: str | None) -> None:
        if attr in _STRING_TESTS and self.mentions_device_name(func.value):
            strings = [s for a in node.args for s in self.strings_in(a.value)]
            self._device_name_check(node, strings)
        elif name in _REGEX_CALLS and len(node.args) >= 2 and self.mentions_device_name(node.args[1].value):
            self._device_name_check(node, self.strings_in(node.args[0].value))

    def mentions_device_name(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """Whether `expr` contains the GPU's name: get_device_name(), get_device_properties().name."""
        if depth > 4:
            return False
        for node in _walk(expr):
            if isinstance(node, cst.Call) and self.qualify(node.func) == _DEVICE_NAME_CALL:
                return True
            if (
                isinstance(node, cst.Attribute)
                and node.attr.value == "name"
                and isinstance(node.value, cst.Call)
                and self.qualify(node.value.func) == _DEVICE_PROPERTIES_CALL
            ):
                return True
            if isinstance(node, cst.Name):
                found, where = self.resolver.lookup(node.value, self.here)
                if len(found) == 1 and isinstance(found[0], Assigned) and found[0].value is not None:
                    if len(where) > self.base_depth:  # a local of the target
                        saved = self.scopes
                        self.scopes = list(where)
                        try:
                            if self.mentions_device_name(found[0].value, depth + 1):
                                return True
                        finally:
                            self.scopes = saved
        return False

    def strings_in(self, expr: cst.BaseExpression) -> list[str]:
        """Every string constant in `expr` (literals and names of string constants)."""
        out: list[str] = []
        for node in _walk(expr):
            if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.Name)):
                out.extend(v for v in self.values(node) if isinstance(v, str))
        return out

    # ---- end ------------------------------------------------------------------------------
    def finish(self) -> None:
        saved = self.scopes
        for call, name, scopes in self.commands:  # now that every in-place change is known
            self.scopes = scopes
            self._command(call, name)
        self.scopes = saved
        for pending in self.pending:
            placed = (
                pending.placed
                or id(pending.call) in self.moved_calls
                or (pending.target is not None and pending.target in self.moved)
            )
            if placed:
                self.facts.models.append(pending.load)
        for pin, upgrade in self.pins.items():
            tested = [node for node, strings in self.name_tests if any(pin in s for s in strings)]
            accepts_upgrade = any(upgrade in s for _, strings in self.name_tests for s in strings)
            if tested and not accepts_upgrade:
                node = tested[0]
                self.facts.device_name_checks.append(Use(node, f"checks the device name ({self.short(node)})"))
        if self.timed_events and self.elapsed and self.loops:
            event = self.timed_events[0]
            self.facts.benchmarks.append(Use(event.node, f"times GPU work with CUDA events ({event.text})"))


# ---- small helpers ------------------------------------------------------------------------------
_MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "reverse", "sort", "__setitem__"})


_FIELDS: dict[type, tuple[str, ...]] = {}
# What `_BodyReader.walk` acts on (classes libcst never subclasses, so `type(node) in` is isinstance).
_READ_KINDS = frozenset(
    {
        cst.FunctionDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.Call,
        cst.Attribute, cst.Assign, cst.AssignTarget, cst.Del, cst.Comparison, cst.For, cst.While,
    }
)


_CODE: dict[type, bool] = {}  # per concrete node type: can it hold code? (ABC checks are slow)


def _is_code(kind: type) -> bool:
    known = _CODE.get(kind)
    if known is None:
        known = _CODE[kind] = issubclass(kind, cst.CSTNode) and not issubclass(kind, NOISE)
    return known


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes of `node` that can hold code, in source order."""
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:  # fields that can hold code at all, by their annotation (not whitespace, `str`...)
        names = tuple(f.name for f in dataclasses.fields(node) if may_hold_code(f.type))
        _FIELDS[kind] = names
    out: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        value_kind = type(value)
        if value_kind is list or value_kind is tuple:
            out.extend(v for v in value if _is_code(type(v)))
        elif _is_code(value_kind):
            out.append(value)
    return out


def _keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def _positional(call: cst.Call, index: int) -> cst.BaseExpression | None:
    positional = [a for a in call.args if a.keyword is None]
    for arg in positional[: index + 1]:
        if arg.star:
            return None
    return positional[index].value if index < len(positional) else None


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node` (itself included), not entering nested functions."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and isinstance(current, (cst.Lambda, cst.FunctionDef)):
            continue
        stack.extend(reversed(_children(current)))


def _segments(tokens: list[_Token]) -> Iterator[list[_Token]]:
    current: list[_Token] = []
    for token in tokens:
        if token.text in _SHELL_OPERATORS:
            yield current
            current = []
        else:
            current.append(token)
    yield current


def _resplit(token: _Token) -> list[_Token]:
    if token.text is None:
        return [token]
    return [_Token(word, token.node) for word in token.text.split()] or [token]


def _launcher(tokens: list[_Token]) -> tuple[str, int] | None:
    """Which launcher the command runs ("torchrun", "accelerate", "vllm", "sglang") and where its
    own arguments start."""
    texts = [t.text for t in tokens]
    for index, text in enumerate(texts):
        if text is None:
            return None
        base = text.rsplit("/", 1)[-1]
        following = texts[index + 1] if index + 1 < len(texts) else None
        if base == "torchrun":
            return "torchrun", index + 1
        if base == "accelerate" and following == "launch":
            return "accelerate", index + 2
        if base == "vllm" and following == "serve":
            return "vllm", index + 1  # tokens[start] is "serve", the model follows
        if text == "-m" and following in ("torch.distributed.run", "torch.distributed.launch"):
            return "torchrun", index + 2
        if text == "-m" and following in ("vllm.entrypoints.openai.api_server", "vllm.entrypoints.api_server"):
            return "vllm", index + 2
        if text == "-m" and following == "sglang.launch_server":
            return "sglang", index + 2
        if not _WRAPPER.match(base):
            return None  # the command runs something else first (ssh, docker...): not ours to read
    return None


# What may come before a launcher in the same command: environment assignments and wrappers.
_WRAPPER = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=.*|env|nohup|exec|time|uv|poetry|run|python[0-9.]*|-u|-[A-Z])$")


# Launcher flags that take no value (so the word after them is the script, not their value).
_BOOLEAN_FLAGS = frozenset(
    {
        "--standalone", "--no-python", "--no_python", "--run-path", "--run_path", "-m", "--module",
        "--multi_gpu", "--multi-gpu", "--cpu", "--use_deepspeed", "--use_fsdp", "--use_megatron_lm",
        "--tpu", "--debug", "-q", "--quiet", "--same_network", "--same-network",
    }
)


class _Flags:
    """The `--flag value` / `--flag=value` pairs of a launcher (the last one wins, like argparse)."""

    def __init__(self, tokens: list[_Token], *, stop_at_positional: bool) -> None:
        self.pairs: list[tuple[str, _Token]] = []
        self.seen: set[str] = set()
        index = 0
        while index < len(tokens):
            token = tokens[index]
            text = token.text
            if text is None:
                index += 1
                continue
            if text.startswith("-") and len(text) > 1:
                flag, eq, value = text.partition("=")
                self.seen.add(flag)
                if eq:
                    self.pairs.append((flag, _Token(value, token.node)))
                elif flag not in _BOOLEAN_FLAGS and index + 1 < len(tokens):
                    following = tokens[index + 1]
                    if following.text is None or not following.text.startswith("-"):
                        self.pairs.append((flag, following))
                        index += 1
                index += 1
                continue
            if stop_at_positional:
                break  # the script: what follows are its own arguments
            index += 1

    def has(self, names: tuple[str, ...]) -> bool:
        return any(n in self.seen for n in names)

    def get(self, names: tuple[str, ...]) -> tuple[str, _Token] | None:
        for flag, token in reversed(self.pairs):
            if flag in names:
                return flag, token
        # a flag present whose value we could not read counts as unknown (None text)
        for name in names:
            if name in self.seen:
                return name, _Token(None, cst.Name("unknown"))
        return None

    def int_value(self, names: tuple[str, ...]) -> int | None:
        found = self.get(names)
        if found is None or found[1].text is None or not found[1].text.isdigit():
            return None
        return int(found[1].text)
