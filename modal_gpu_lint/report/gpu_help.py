"""What a `gpu=` value means, in words (editor hover), and the values one may write (completion)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modal_gpu_lint.facts.catalog import Catalog, GpuType
from modal_gpu_lint.facts.spec import SpecError, parse_spec
from modal_gpu_lint.rules.gpu_checks import check_gpu_string

SECONDS_PER_HOUR = 3600
_SUFFIX_MEANING = {"!": "pinned: never upgraded to another type", "+": "opts in to an upgrade at the same price"}


def _gb(value: float) -> str:
    return f"{value:g} GB"


def _dollars(value: float) -> str:
    return f"${value:,.2f}"


def describe_spec(text: str, catalog: Catalog) -> list[str]:
    """Markdown lines on one GPU string: type, count, memory, limit, price, notes, problems."""
    lines = [f"**`{text}`**"]
    problems = [f"- {v.code}: {v.message}" for v in check_gpu_string(text, catalog)]
    spec = parse_spec(text)
    gpu = None if isinstance(spec, SpecError) else catalog.lookup(spec.type_text)
    if isinstance(spec, SpecError) or gpu is None:
        return lines + (problems or ["- not a GPU type in the catalog"])
    count = spec.count
    head = f"{count} x {gpu.canonical}" if count != 1 else f"1 x {gpu.canonical}"
    if spec.suffix:
        head += f" ({spec.suffix}: {_SUFFIX_MEANING[spec.suffix]})"
    lines.append(f"- type: {head}")
    lines.append(f"- memory: {_gb(gpu.memory_gb)} per GPU, {_gb(gpu.memory_gb * count)} in total")
    lines.append(
        f"- at most {gpu.max_count} per container"
        if gpu.max_count is not None
        else "- per container: no maximum stated by Modal"
    )
    if gpu.price is not None:
        hourly = gpu.price * SECONDS_PER_HOUR
        total = f", {_dollars(hourly * count)}/h for {count}" if count != 1 else ""
        dated = f" (prices of {catalog.prices_as_of})" if catalog.prices_as_of else ""
        lines.append(f"- price: {_dollars(hourly)}/h per GPU{total}{dated}")
    if gpu.aliases:
        lines.append(f"- also written: {', '.join(gpu.aliases)}")
    if gpu.note:
        lines.append(f"- note: {gpu.note}")
    return lines + problems


def describe_value(values: Sequence[str], catalog: Catalog, *, is_list: bool) -> str:
    """Markdown for a `gpu=` value: one string, or a fallback list tried in order."""
    if not is_list and len(values) == 1:
        return "\n".join(describe_spec(values[0], catalog))
    if not values:
        return "**`gpu=[]`**: an empty list requests nothing"
    out = [f"**Fallback list**: {len(values)} options, tried in order at each scale-up", ""]
    for number, value in enumerate(values, start=1):
        spec_lines = describe_spec(value, catalog)
        out.append(f"{number}. {spec_lines[0]}")
        out.extend(f"   {line}" for line in spec_lines[1:])
    return "\n".join(out)


@dataclass(frozen=True)
class Choice:
    """One value completion offers inside `gpu="`."""

    label: str
    detail: str
    sort: str


def choices(catalog: Catalog) -> list[Choice]:
    """Every type of the catalog, with its suffixes and counts (`H100`, `H100!`, `H100:8`, ...)."""
    out: list[Choice] = []
    for rank, gpu in enumerate(catalog.types):
        base = gpu.canonical
        for suffix in ("", *gpu.suffixes):
            name = base + suffix
            out.append(Choice(name, _detail(gpu, 1, suffix), f"{rank:03d}{suffix or ' '}00"))
            top = gpu.max_count if gpu.max_count is not None else 4
            for count in range(2, top + 1):
                out.append(
                    Choice(f"{name}:{count}", _detail(gpu, count, suffix), f"{rank:03d}{suffix or ' '}{count:02d}")
                )
    return out


def _detail(gpu: GpuType, count: int, suffix: str) -> str:
    memory = f"{_gb(gpu.memory_gb * count)}" + (f" ({count} x {_gb(gpu.memory_gb)})" if count > 1 else "")
    price = f", {_dollars(gpu.price * SECONDS_PER_HOUR * count)}/h" if gpu.price is not None else ""
    pinned = f", {_SUFFIX_MEANING[suffix]}" if suffix else ""
    return f"{memory}{price}{pinned}"
