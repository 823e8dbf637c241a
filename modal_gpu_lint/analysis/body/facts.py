"""What the body reader finds: CUDA uses, parallelism, model loads (the MGL3xx/MGL4xx rules read these)."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from modal_gpu_lint.facts.models import Precision

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
    # vLLM / SGLang with neither dtype (or dtype="auto") nor quantization nor load format given: the
    # checkpoint loads in its own precision (MGL403 assumes >= 2 bytes when the id states no quantization)
    auto_dtype: bool = False


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


@dataclass(eq=False)
class Pending:
    """A `from_pretrained` / `pipeline` load, waiting to learn whether it is moved to CUDA."""

    call: cst.Call
    load: ModelLoad
    placed: bool
    target: str | None  # the expression it is assigned to, e.g. "self.model"
