"""Model loads in a body (vLLM, SGLang, transformers, diffusers) with their precision, and parallel sizes."""

from __future__ import annotations

import re

import libcst as cst

from modal_gpu_lint.analysis.body.base import ReaderBase
from modal_gpu_lint.analysis.body.facts import ModelLoad, Parallelism, Pending, Use
from modal_gpu_lint.analysis.body.tree import keyword_arg, positional_arg
from modal_gpu_lint.analysis.resolve import Assigned
from modal_gpu_lint.facts.models import Precision, dtype_bytes, quantization_bytes

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


class ModelReader(ReaderBase):
    """Engines and `from_pretrained`/`pipeline` loads, and `tensor_parallel_size=`-style settings."""

    def _parallel_keywords(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "dict":
            return  # data, maybe for another function
        for keyword in _PARALLEL_KEYWORDS:
            arg = keyword_arg(node, keyword)
            if arg is None:
                continue
            sizes = self.known_int(arg.value)
            if not sizes:
                continue
            size = min(sizes)
            setting = f"{keyword}={size}"
            for other in _PIPELINE_KEYWORDS:
                pp = keyword_arg(node, other)
                stages = self.known_int(pp.value) if pp is not None else None
                if stages and min(stages) > 1:
                    size *= min(stages)
                    setting += f" x {other}={min(stages)}"
            self.facts.parallel.append(Parallelism(arg, size, setting, per_container=False))

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
        arg = keyword_arg(node, keyword)
        expr = arg.value if arg is not None else (positional_arg(node, 0) if keyword == "model" else None)
        if expr is None:
            return
        ids = self.known_str(expr)
        if not ids:
            return
        bounds: list[Precision] = []
        unsure = False
        dtype = keyword_arg(node, "dtype")
        if dtype is not None:
            bound = self.dtype_bound(dtype.value)
            if bound is not None:
                bounds.append(bound)
        quantization = keyword_arg(node, "quantization")
        quantized = False  # quantization= given a value other than None (the default)
        if quantization is not None:
            bound, quant_unsure = self.quantization_bound(quantization.value)
            unsure |= quant_unsure
            quantized = bound is not None or quant_unsure
            if bound is not None:
                bounds.append(bound)
        offload = False
        for offload_keyword in ("cpu_offload_gb", "offload_gb"):
            offload_arg = keyword_arg(node, offload_keyword)
            if offload_arg is not None and self.is_true(offload_arg.value) is not False:
                offload = True
        report = arg if arg is not None else expr
        auto = (
            (dtype is None or self.known_str(dtype.value) == ["auto"])
            and not quantized
            and keyword_arg(node, "load_format") is None
            and not any(a.star for a in node.args)
        )
        self.facts.models.append(ModelLoad(report, tuple(ids), loader, tuple(bounds), unsure, offload, auto))

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
        arg = keyword_arg(node, "pretrained_model_name_or_path")
        expr = arg.value if arg is not None else positional_arg(node, 0)
        if expr is None:
            return
        ids = self.known_str(expr)
        if not ids:
            return
        bounds, unsure = self._hf_precision(node)
        offload = any(keyword_arg(node, k) is not None for k in ("offload_folder", "max_memory", "offload_state_dict"))
        device_map = keyword_arg(node, "device_map")
        placed = device_map is not None and self.is_gpu_index_or_cuda(device_map.value)
        loader = f"{owner.rsplit('.', 1)[-1]}.from_pretrained(...)"
        load = ModelLoad(arg or expr, tuple(ids), loader, tuple(bounds), unsure, offload)
        self.pending.append(Pending(node, load, placed, self.assigned_to.get(id(node))))

    def _pipeline(self, node: cst.Call) -> None:
        arg = keyword_arg(node, "model")
        if arg is None:
            return
        ids = self.known_str(arg.value)
        if not ids:
            return
        bounds, unsure = self._hf_precision(node)
        device = keyword_arg(node, "device") or keyword_arg(node, "device_map")
        placed = device is not None and self.is_gpu_index_or_cuda(device.value)
        load = ModelLoad(arg, tuple(ids), "pipeline(...)", tuple(bounds), unsure, False)
        self.pending.append(Pending(node, load, placed, self.assigned_to.get(id(node))))

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
            arg = keyword_arg(node, keyword)
            if arg is not None:
                bound = self.dtype_bound(arg.value)
                if bound is not None:
                    bounds.append(bound)
        for keyword, size in (("load_in_4bit", 0.5), ("load_in_8bit", 1.0)):
            arg = keyword_arg(node, keyword)
            if arg is None:
                continue
            flag = self.is_true(arg.value)
            if flag is None:
                unsure = True
            elif flag:
                bounds.append(Precision(size, keyword))
        config = keyword_arg(node, "quantization_config")
        if config is not None:
            bound = self._bnb_config(config.value)
            if bound is None:
                unsure = True
            else:
                bounds.append(bound)
        return bounds, unsure

    def _bnb_config(self, expr: cst.BaseExpression) -> Precision | None:
        if isinstance(expr, cst.Name):
            found, _where = self.resolver.lookup(expr.value, self.here)
            if len(found) == 1 and isinstance(found[0], Assigned) and isinstance(found[0].value, cst.Call):
                expr = found[0].value
        if not isinstance(expr, cst.Call) or not (self.qualify(expr.func) or "").endswith("BitsAndBytesConfig"):
            return None
        for keyword, size in (("load_in_4bit", 0.5), ("load_in_8bit", 1.0)):
            arg = keyword_arg(expr, keyword)
            if arg is not None and self.is_true(arg.value):
                return Precision(size, f"BitsAndBytesConfig({keyword}=True)")
        return None
