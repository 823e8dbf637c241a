"""How big a model's weights are: parameter counts read from model ids, bytes per parameter.

Every number is a lower bound, used only to prove that weights cannot fit: a size the id does not
state (a mixture of experts named by its active parameters, an unknown quantization) is None, and
MGL403 stays silent on None. The data (known models, dtype and quantization names) is in
`models.toml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from modal_gpu_lint.facts._toml import read_data, tomllib


@dataclass(frozen=True)
class KnownModel:
    """A model whose id does not state its total size (a row of models.toml)."""

    pattern: re.Pattern[str]
    params_b: float
    native_bytes: float | None
    source: str


@dataclass(frozen=True)
class ModelTable:
    """models.toml, parsed."""

    models: tuple[KnownModel, ...]
    dtypes: dict[str, float]
    quantization: dict[str, float]
    markers: dict[str, float]


@dataclass(frozen=True)
class ModelSize:
    """What an id says about a model: total parameters (billions) and where that came from."""

    model_id: str
    params_b: float
    from_table: bool  # a model card figure (exact) rather than a size rounded in the name
    native_bytes: float | None  # the checkpoint's own quantization, if the table states one


@lru_cache(maxsize=1)
def models_text() -> str:
    """The packaged models.toml (part of any cache key, like the catalog)."""
    return read_data(__package__, "models.toml")


@lru_cache(maxsize=1)
def model_table() -> ModelTable:
    """The packaged table of known models and precision names."""
    data: dict[str, Any] = tomllib.loads(models_text())
    models = tuple(
        KnownModel(
            re.compile(str(row["pattern"]), re.IGNORECASE),
            float(row["params-b"]),
            float(row["native-bytes"]) if "native-bytes" in row else None,
            str(row.get("source", "")),
        )
        for row in data.get("models", [])
    )

    def floats(key: str) -> dict[str, float]:
        return {str(k).lower(): float(v) for k, v in data.get(key, {}).items()}

    return ModelTable(models, floats("dtypes"), floats("quantization"), floats("markers"))


# An id as the Hugging Face Hub writes it: "org/name" (or a bare legacy name such as "gpt2").
_HUB_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")
# "70b", "1.5B", "135M": a size delimited by non-alphanumerics ("a3b" in "30B-A3B" is not one).
_SIZE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)([bm])(?![a-z0-9])")
# Names that count experts ("8x7B", "17B-16E"): the size in the name is not the total.
_EXPERTS = re.compile(r"\d+x\d+(?:\.\d+)?[bm]|(?<![a-z0-9.])\d+e(?![a-z0-9])")


def base_name(model_id: str) -> str | None:
    """The last part of a Hub id, lower case; None for local paths and other non-ids."""
    if not _HUB_ID.match(model_id):
        return None
    return model_id.rsplit("/", 1)[-1].lower()


def model_size(model_id: str, table: ModelTable | None = None) -> ModelSize | None:
    """Total parameters of the model `model_id` names, or None when the id does not say."""
    table = table or model_table()
    name = base_name(model_id)
    if name is None:
        return None
    for known in table.models:
        if known.pattern.search(name):
            return ModelSize(model_id, known.params_b, True, known.native_bytes)
    if _EXPERTS.search(name):
        return None
    sizes = {float(n) * (1.0 if unit == "b" else 0.001) for n, unit in _SIZE.findall(name)}
    if len(sizes) != 1:
        return None  # no size, or two different ones ("...-7B-...-13B"): not sure which
    return ModelSize(model_id, sizes.pop(), False, None)


_BIT_TOKENS = (
    re.compile(r"^(?:int|fp|float|bf|mxfp|nvfp|nf|uint)(\d+)$"),
    re.compile(r"^(\d+)bits?$"),
    re.compile(r"^w(\d+)a\d+$"),
)
_WIDTHS = {2, 3, 4, 6, 8, 16, 32}


@dataclass(frozen=True)
class Precision:
    """Bytes per parameter and how that was learnt, for messages."""

    bytes: float
    label: str  # e.g. "bfloat16", "AWQ (id)", "fp8 quantization"


def precision_from_id(model_id: str, table: ModelTable | None = None) -> Precision | bool | None:
    """The precision an id's markers state (`-FP8`, `-AWQ`, `-4bit`...).

    None when the id says nothing; False when it says "quantized" without a width we can read
    (GGUF, EXL2...), which makes the model's size in memory unknown.
    """
    table = table or model_table()
    name = base_name(model_id)
    if name is None:
        return None
    tokens = [t for t in re.split(r"[-_.]", name) if t]
    widths: list[tuple[int, str]] = []
    for token in tokens:
        for pattern in _BIT_TOKENS:
            match = pattern.match(token)
            if match and int(match.group(1)) in _WIDTHS:
                widths.append((int(match.group(1)), token))
                break
    if widths:
        bits, token = min(widths)
        return Precision(bits / 8, f"{token} (from its id)")
    marked = [(table.markers[t], t) for t in tokens if t in table.markers]
    if not marked:
        return None
    if any(value == 0 for value, _ in marked):
        return False
    value, token = min(marked)
    return Precision(value, f"{token} (from its id)")


def dtype_bytes(text: str, table: ModelTable | None = None) -> float | None:
    """Bytes per parameter of a dtype name ("bfloat16", "torch.float16", "half"); None if unknown."""
    table = table or model_table()
    key = text.lower().rsplit(".", 1)[-1]
    return table.dtypes.get(key)


def quantization_bytes(text: str, table: ModelTable | None = None) -> float | None:
    """The fewest bytes per weight a vLLM/SGLang `quantization=` value can mean; None if unknown."""
    table = table or model_table()
    return table.quantization.get(text.lower())


def weights_gb(size: ModelSize, precision: Precision) -> float:
    """Gigabytes (1e9 bytes) the weights take."""
    return size.params_b * precision.bytes


def describe_params(params_b: float) -> str:
    """`70B`, `1.5B`, `124M`."""
    if params_b < 1:
        return f"{params_b * 1000:.0f}M"
    return f"{params_b:g}B"
