"""Verdicts on one `gpu=` value, independent of how it was read (libcst or mypy).

Shared by the linter and the mypy plugin, so both doors give the same codes and messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from modal_gpu_lint.analysis.values import GpuObject, KnownType, ListValue, OtherValue, Unknown, Value
from modal_gpu_lint.facts.catalog import SUFFIXES, Catalog, GpuType
from modal_gpu_lint.facts.spec import GpuSpec, SpecError, parse_spec


@dataclass(frozen=True)
class Verdict:
    """One problem with a GPU value: its code, the message, and a replacement text if one is clear."""

    code: str
    message: str
    replacement: str | None = None  # the corrected string, for the fixer
    item: int | None = None  # index in a fallback list, when the problem is one entry


def check_gpu_value(value: Value, *, accepts_list: bool, catalog: Catalog, call: str) -> list[Verdict]:
    """Every verdict on `value` given as `gpu=` to `call` (e.g. "Sandbox.create")."""
    if value is None or isinstance(value, (Unknown, GpuObject)):
        return []
    if isinstance(value, bool):
        return [Verdict("MGL005", f'gpu={value!r} is not accepted: name a GPU type, e.g. gpu="T4"')]
    if isinstance(value, (int, float)):
        return [
            Verdict(
                "MGL005", f'gpu={value!r} is not accepted: a count is written after the type, e.g. gpu="H100:{value}"'
            )
        ]
    if isinstance(value, OtherValue):
        hint = "; write fallbacks as a list" if value.description == "a tuple" and accepts_list else ""
        return [Verdict("MGL005", f"gpu= does not accept {value.description}: give a GPU string{hint}")]
    if isinstance(value, str):
        return list(check_gpu_string(value, catalog))
    if isinstance(value, KnownType):
        # `f"A100-80G:{n}"`: the type is wrong whatever the count; no fix (it is not one literal)
        return [
            Verdict(v.code, f"{v.message} (in {value.written!r}, whatever the count)")
            for v in check_gpu_string(value.type_text, catalog)
            if v.code in ("MGL001", "MGL004")
        ]
    assert isinstance(value, ListValue)
    return list(_check_list(value, accepts_list=accepts_list, catalog=catalog, call=call))


def _check_list(value: ListValue, *, accepts_list: bool, catalog: Catalog, call: str) -> Iterator[Verdict]:
    if not accepts_list:
        yield Verdict("MGL006", f"{call} takes one GPU, not a fallback list: give a single GPU string")
    if not value.items:
        yield Verdict("MGL007", "an empty GPU list requests nothing: give at least one GPU, or gpu=None for CPU")
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(value.items):
        if item is None:
            yield Verdict(
                "MGL005", f"None inside a GPU list (entry {index + 1}) is silently ignored: remove it", item=index
            )
            continue
        if isinstance(item, (Unknown, GpuObject, KnownType)):
            continue
        if not isinstance(item, str):
            yield Verdict(
                "MGL005", f"entry {index + 1} of the GPU list is {_describe(item)}, not a GPU string", item=index
            )
            continue
        for verdict in check_gpu_string(item, catalog):
            yield Verdict(verdict.code, verdict.message, verdict.replacement, index)
        key = _identity(item, catalog)
        if key in seen:
            yield Verdict(
                "MGL007",
                f"{item!r} repeats entry {seen[key] + 1} of the fallback list: a repeat is never tried",
                item=index,
            )
        else:
            seen[key] = index


def _describe(value: Value) -> str:
    if isinstance(value, ListValue):  # `gpu=[["H100"], ...]`: not the value model's repr
        return "a list"
    if isinstance(value, OtherValue):
        return value.description
    return repr(value)


def _identity(text: str, catalog: Catalog) -> str:
    """What makes two list entries the same request (case, alias and `:1` do not count)."""
    spec = parse_spec(text)
    if isinstance(spec, SpecError):
        return text.upper()
    gpu = catalog.lookup(spec.type_text)
    name = gpu.name if gpu else spec.name
    return f"{name}{spec.suffix}:{spec.count}"


def check_gpu_string(text: str, catalog: Catalog) -> Iterator[Verdict]:
    """Verdicts on one GPU string, e.g. "A100-80G", "H100!:8"."""
    spec = parse_spec(text)
    if isinstance(spec, SpecError):
        yield Verdict("MGL002", f"malformed GPU spec {text!r}: {spec.message}")
        return
    gpu = catalog.lookup(spec.type_text)
    if gpu is None:
        yield _unknown_type(spec, catalog)
        return
    problems = False
    if spec.suffix and spec.suffix not in gpu.suffixes:
        problems = True
        owners = [t.name for t in catalog.types if spec.suffix in t.suffixes]
        meaning = {"!": "pins the exact type (no upgrade)", "+": "opts in to an upgrade"}[spec.suffix]
        where = f" only on {', '.join(owners)}" if owners else " on no GPU type"
        yield Verdict(
            "MGL004",
            f"{text!r}: the suffix {spec.suffix!r} {meaning} and is accepted{where}; "
            f"Modal rejects {spec.type_text + spec.suffix!r}",
            _spelled(spec.type_text, "", spec.count_text),
        )
    if spec.count < 1 or (gpu.max_count is not None and spec.count > gpu.max_count):
        problems = True
        limit = f"1 to {gpu.max_count}" if gpu.max_count is not None else "at least 1"
        yield Verdict("MGL003", f"{text!r} asks for {spec.count} x {gpu.name}: a container can have {limit}")
    if not problems:
        canonical = _canonical(spec, gpu)
        if canonical != text:
            yield Verdict("MGL009", f"{text!r} is better written {canonical!r}", canonical)


def _spelled(type_text: str, suffix: str, count_text: str | None) -> str:
    return type_text + suffix + (f":{count_text}" if count_text is not None else "")


def _canonical(spec: GpuSpec, gpu: GpuType) -> str:
    count = f":{spec.count}" if spec.count != 1 else ""
    return f"{gpu.canonical}{spec.suffix}{count}"


_VENDOR = re.compile(r"\b(NVIDIA|TESLA|GEFORCE|RTX(?=\s*\d{4}\b))\b", re.IGNORECASE)
_MEMORY = re.compile(r"[-_ ]?(\d+)\s*G(?:B|IB)?$", re.IGNORECASE)


def _norm(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def suggest(type_text: str, catalog: Catalog) -> tuple[str, bool]:
    """The catalog name `type_text` most likely means, and whether it is clearly the one."""
    names = {_norm(t.canonical): t.canonical for t in catalog.types}
    for t in catalog.types:
        for alias in t.aliases:
            names.setdefault(_norm(alias), t.canonical)
    stripped = _VENDOR.sub("", type_text).strip(" -_")
    key = _norm(stripped)
    if key in names:
        return names[key], True
    memory = _MEMORY.search(stripped)
    if memory:
        # "A100 80GB", "H100-80GB", "H100!-80GB": a known type followed by its own memory size
        head = stripped[: memory.start()].strip(" -_")
        sized = catalog.lookup(f"{head}-{memory.group(1)}GB")  # "A100-40G" -> "A100-40GB"
        if sized is not None:
            return sized.canonical, True
        suffix = head[-1] if head[-1:] in SUFFIXES else ""
        base = catalog.lookup(head[:-1] if suffix else head)
        if base is not None and base.memory_gb == float(memory.group(1)) and (not suffix or suffix in base.suffixes):
            return base.canonical + suffix, True
    import difflib  # here: 13 ms of imports that a file without a misspelled GPU does without

    scored = sorted(
        ((difflib.SequenceMatcher(None, key, n).ratio(), n) for n in names),
        reverse=True,
    )
    if not scored or scored[0][0] < 0.6:
        return "", False
    best_score, best_key = scored[0]
    best = names[best_key]
    runner_up = next((s for s, n in scored[1:] if names[n] != best), 0.0)
    # A different first character ("H100" for "A100...") is never clearly meant, nor different
    # model numbers ("H20" is a real GPU, not a typo of "H200").
    clear = (
        best_score >= 0.8
        and best_score - runner_up >= 0.1
        and key[:1] == best_key[:1]
        and _model_number(key) == _model_number(best_key)
    )
    return best, clear


def _model_number(key: str) -> str:
    """The first run of digits in a normalised name ("A10080GB" -> "10080", "H20" -> "20")."""
    match = re.search(r"\d+", key)
    return match.group(0) if match else ""


def _unknown_type(spec: GpuSpec, catalog: Catalog) -> Verdict:
    head = spec.type_text + spec.suffix
    removed = catalog.removed.get(head.upper()) or catalog.removed.get(spec.name)
    if removed:
        return Verdict("MGL001", f"{head!r} is not a GPU type Modal accepts: {removed}")
    name, clear = suggest(spec.type_text, catalog)
    if name:
        replacement = _spelled(name, spec.suffix, spec.count_text) if clear else None
        return Verdict("MGL001", f"unknown GPU type {head!r}; did you mean {name!r}?", replacement)
    known = ", ".join(t.canonical for t in catalog.types)
    return Verdict("MGL001", f"unknown GPU type {head!r}; Modal accepts {known}")
