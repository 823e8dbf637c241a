"""`modal-gpu-lint inventory`: every GPU request, with its memory, timeout and worst-case cost.

Built on the linter's own pieces: `sites.find_sites` finds the calls, the resolver evaluates
`gpu=` and the timeout, `spec` and the catalog give counts, memory and prices. What the source
does not fix (a parameter, an import, an environment variable without default) is unknown:
`None` here, `null` in JSON, an empty cell in CSV, `?` in the table. Nothing is guessed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import libcst as cst

from modal_gpu_lint.analysis.image import cuda_text, image_of
from modal_gpu_lint.analysis.notebook import is_notebook
from modal_gpu_lint.analysis.positions import LineIndex, node_spans
from modal_gpu_lint.analysis.resolve import Defined
from modal_gpu_lint.analysis.sites import ModuleFacts, Site, find_sites
from modal_gpu_lint.analysis.values import GpuObject, KnownType, ListValue, Unknown, Value, describe
from modal_gpu_lint.facts.catalog import Catalog
from modal_gpu_lint.facts.spec import SpecError, parse_spec
from modal_gpu_lint.run.config import ConfigError, Settings, load_settings
from modal_gpu_lint.run.discover import python_files
from modal_gpu_lint.run.engine import FileErrorException, parse_modal

FORMATS = ("text", "json", "csv")
COLUMNS = (
    "file",
    "line",
    "name",
    "kind",
    "gpu",
    "type",
    "count",
    "fallbacks",
    "memory_gb",
    "timeout",
    "timeout_default",
    "cost_usd",
    "torch",
    "cuda",
)
Number = int | float


@dataclass(frozen=True)
class Request:
    """One GPU request: one row of the inventory. `None` means unknown."""

    file: str
    line: int  # the line of `gpu=`
    name: str | None  # the decorated function or class, the `with_options` receiver, the function run
    kind: str  # "app.function", "app.cls", "app.server", "with_options", "sandbox.create", "image.<step>"
    gpu: str | None  # the first (or only) GPU as written, e.g. "H100!:2"
    type: str | None  # its catalog name (or the name as sent, when not in the catalog)
    count: int | None
    fallbacks: tuple[str | None, ...] | None  # the other entries of a fallback list, as written
    memory_gb: tuple[Number | None, ...] | None  # catalog memory x count, per entry (gpu, *fallbacks)
    timeout: Number | None  # seconds
    timeout_default: bool  # the timeout is Modal's default for this call, not written
    cost_usd: float | None  # price per GPU-second x count x timeout, the costliest entry
    torch: str | None = None  # the image's torch pin and where it comes from, when certain
    cuda: str | None = None  # a CUDA version the image shows (base image tag, torch build)

    def as_json(self) -> dict[str, Any]:
        """The JSON object of this row."""
        out = asdict(self)
        for key in ("fallbacks", "memory_gb"):
            out[key] = None if out[key] is None else list(out[key])
        return out


@dataclass(frozen=True)
class _Entry:
    text: str | None
    type: str | None
    count: int | None
    memory_gb: Number | None
    price: float | None


def requests_in(path: str, data: bytes, catalog: Catalog) -> list[Request]:
    """The GPU requests of one file (raises `FileErrorException` when it cannot be parsed)."""
    parsed = parse_modal(path, data)
    if parsed is None:
        return []
    source, module = parsed
    facts = find_sites(module, path, source.text)
    sites = [(site, arg) for site in facts.sites if (arg := site.arg("gpu")) is not None]
    if not sites:
        return []
    where = {id(arg): facts.stand_ins.get(id(arg), arg) for _, arg in sites}  # `**{"gpu": ...}`: the splat
    spans = node_spans(module, list(where.values()), LineIndex(source.text))
    decorated = {id(site.target): site for site in facts.sites if site.target is not None}
    out: list[Request] = []
    for site, arg in sites:
        timeout, is_default = _timeout(facts, _timed_site(facts, site, decorated))
        template = Request(
            file=os.path.normpath(path),
            line=spans[id(where[id(arg)])].row,
            name=_name(module, site),
            kind=site.api.kind,
            gpu=None,
            type=None,
            count=None,
            fallbacks=None,
            memory_gb=None,
            timeout=timeout,
            timeout_default=is_default,
            cost_usd=None,
        )
        if site.api.decorator:
            image = image_of(site, facts.resolver)
            torch = image.torch.describe() if image.torch is not None else None
            template = replace(template, torch=torch, cuda=cuda_text(image.cuda))
        for value in _distinct(facts.evaluate(arg.value, site.scopes)):
            request = _request(template, value, catalog)
            if request is not None:
                out.append(request)
    return out


def _distinct(values: list[Value]) -> Iterator[Value]:
    seen: list[Value] = []
    for value in values:
        if not any(value is s or (type(value) is type(s) and value == s) for s in seen):
            seen.append(value)
            yield value


def _request(template: Request, value: Value, catalog: Catalog) -> Request | None:
    """`template` (where, what call, timeout) completed with what `value` requests."""
    if value is None:
        return None  # CPU only
    if isinstance(value, GpuObject) and value.text is not None:
        value = value.text  # the removed object API: the string it meant
    if isinstance(value, ListValue):
        if not value.items:
            return None  # an empty list requests nothing (MGL007)
        entries = [_entry(item, catalog) for item in value.items]
    elif isinstance(value, str):
        entries = [_entry(value, catalog)]
    else:
        # unknown, or a value Modal rejects (True, a number, a removed modal.gpu object)
        return replace(template, gpu=None if isinstance(value, (Unknown, KnownType)) else describe(value))
    first = entries[0]
    timeout = template.timeout
    costs = [
        e.price * e.count * timeout if e.price is not None and e.count is not None and timeout else None
        for e in entries
    ]
    known = [c for c in costs if c is not None]
    return replace(
        template,
        gpu=first.text,
        type=first.type,
        count=first.count,
        fallbacks=tuple(e.text for e in entries[1:]),
        memory_gb=tuple(e.memory_gb for e in entries),
        cost_usd=round(max(known), 6) if len(known) == len(costs) else None,
    )


def _entry(item: Value, catalog: Catalog) -> _Entry:
    if not isinstance(item, str):
        return _Entry(None if isinstance(item, Unknown) else describe(item), None, None, None, None)
    spec = parse_spec(item)
    if isinstance(spec, SpecError):
        return _Entry(item, None, None, None, None)
    gpu = catalog.lookup(spec.type_text)
    if gpu is None:
        return _Entry(item, spec.name, spec.count, None, None)
    memory = gpu.memory_gb * spec.count
    return _Entry(item, gpu.canonical, spec.count, int(memory) if memory.is_integer() else memory, gpu.price)


def _timeout(facts: ModuleFacts, site: Site) -> tuple[Number | None, bool]:
    """Seconds one call may run, and whether that is the call's default (None: unknown)."""
    param = site.api.timeout_param
    if param is None:
        return None, False
    arg = site.arg(param)
    if arg is None:
        if site.star_kwargs or site.api.default_timeout is None:
            return None, False  # given in **kwargs, or inherited (with_options)
        return site.api.default_timeout, True
    values = facts.evaluate(arg.value, site.scopes)
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not values or len(numbers) != len(values):
        return None, False
    return max(numbers), False  # both arms of a conditional: the worst case


def _timed_site(facts: ModuleFacts, site: Site, decorated: dict[int, Site]) -> Site:
    """The site whose timeout applies: `Model.with_options(...)` without `timeout=` inherits
    the timeout of `@app.cls(...)` on `class Model` when that class is defined in this module."""
    call = site.call
    if site.api.kind != "with_options" or site.arg("timeout") is not None or call is None:
        return site
    receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
    if not isinstance(receiver, cst.Name):
        return site
    found, _ = facts.resolver.lookup(receiver.value, site.scopes)
    if len(found) != 1 or not isinstance(found[0], Defined):
        return site
    return decorated.get(id(found[0].node), site)


def _name(module: cst.Module, site: Site) -> str | None:
    if site.target is not None:
        return site.target.name.value
    call = site.call
    if call is None:
        return None
    if site.api.kind == "with_options" and isinstance(call.func, cst.Attribute):
        return _code(module, call.func.value)
    if site.api.kind == "image.run_function":
        first = next((a for a in call.args if a.keyword is None and not a.star), None)
        raw_f = site.arg("raw_f")
        chosen = first or raw_f
        return _code(module, chosen.value) if chosen is not None else None
    return None


def _code(module: cst.Module, node: cst.CSTNode) -> str:
    text = re.sub(r"\s+", " ", module.code_for_node(node)).strip()
    return text if len(text) <= 60 else text[:57] + "..."


# ---- output -----------------------------------------------------------------------------------
def to_json(requests: Sequence[Request]) -> str:
    """A JSON array, one object per request."""
    return json.dumps([r.as_json() for r in requests], indent=2)


def to_csv(requests: Sequence[Request]) -> str:
    """CSV with a header row; unknown values are empty cells, lists are joined with `;`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in requests:
        row = r.as_json()
        writer.writerow([_csv_cell(row[column]) for column in COLUMNS])
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join("" if v is None else str(v) for v in value)
    return str(value)


def to_table(requests: Sequence[Request], catalog: Catalog) -> str:
    """A table for the terminal; `?` marks what the source does not fix."""
    header = ("location", "name", "kind", "gpu", "count", "fallbacks", "memory", "timeout", "max cost/call", "image")
    rows = [_table_row(r) for r in requests]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    files = len({r.file for r in requests})
    noun = "request" if len(requests) == 1 else "requests"
    lines.append("")
    lines.append(
        f"{len(requests)} GPU {noun} in {files} file{'' if files == 1 else 's'}. Max cost/call = price per "
        f"GPU-second x count x timeout, the costliest fallback entry; prices as of {catalog.prices_as_of}. "
        "? = not knowable from the source."
    )
    return "\n".join(lines)


def _table_row(r: Request) -> tuple[str, ...]:
    def text(value: object) -> str:
        return "?" if value is None else str(value)

    gpu = "?" if r.gpu is None else _type_label(r)
    fallbacks = "?" if r.fallbacks is None else (", ".join(text(f) for f in r.fallbacks) or "-")
    known_memory = r.memory_gb is not None and any(m is not None for m in r.memory_gb)
    memory = "/".join(text(m) for m in r.memory_gb or ()) + " GB" if known_memory else "?"
    timeout = "?" if r.timeout is None else f"default {r.timeout:g}" if r.timeout_default else f"{r.timeout:g}"
    cost = "?" if r.cost_usd is None else f"${r.cost_usd:,.2f}" if r.cost_usd >= 1 else f"${r.cost_usd:.4f}"
    image = "-" if not r.kind.startswith("app.") else ", ".join(filter(None, (r.torch, r.cuda and f"CUDA {r.cuda}")))
    return (
        f"{r.file}:{r.line}",
        r.name or "-",
        r.kind,
        gpu,
        text(r.count),
        fallbacks,
        memory,
        timeout,
        cost,
        image or "?",
    )


def _type_label(r: Request) -> str:
    """The catalog name with the suffix written ("h100!:2" -> "H100!"), else the value as written."""
    spec = parse_spec(r.gpu or "")
    if r.type is None or isinstance(spec, SpecError):
        return r.gpu or "?"
    return r.type + spec.suffix


# ---- command line -----------------------------------------------------------------------------
def main(argv: Sequence[str]) -> int:
    """`modal-gpu-lint inventory [PATHS] [--format text|json|csv]`."""
    parser = argparse.ArgumentParser(
        prog="modal-gpu-lint inventory",
        description="List every GPU request: where, what, memory, timeout and worst-case cost of one call.",
    )
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--config", type=Path, help="a pyproject.toml to read instead of the nearest one")
    options = parser.parse_args(list(argv))
    try:
        settings = load_settings(options.config)
    except ConfigError as error:
        print(f"modal-gpu-lint: error: {error}", file=sys.stderr)
        return 2
    requests, failed = collect(options.paths, settings)
    if options.format == "json":
        print(to_json(requests))
    elif options.format == "csv":
        sys.stdout.write(to_csv(requests))
    else:
        print(to_table(requests, settings.catalog))
    return 2 if failed else 0


def collect(paths: Sequence[str], settings: Settings) -> tuple[list[Request], bool]:
    """Every request under `paths`, and whether some path could not be read or parsed."""
    failed = False
    requests: list[Request] = []
    existing = []
    for path in paths:
        if Path(path).exists():
            existing.append(path)
        else:
            print(f"modal-gpu-lint: error: {path}: no such file or folder", file=sys.stderr)
            failed = True
    for path in python_files(existing, settings):
        if is_notebook(path):  # not yet: a request's line would have to name its cell
            continue
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            requests.extend(requests_in(path, data, settings.catalog))
        except OSError as error:
            print(f"{path}: cannot read: {error.strerror or error}", file=sys.stderr)
            failed = True
        except FileErrorException as error:
            print(error.error, file=sys.stderr)
            failed = True
    requests.sort(key=lambda r: (r.file, r.line))
    return requests, failed
