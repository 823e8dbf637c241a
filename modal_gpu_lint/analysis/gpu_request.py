"""What a Modal call's `gpu=` requests, as far as the source says: alternatives of entries.

`gpu="A" if X else ["B", "C:2"]` is two alternatives (which one runs depends on X, and X may be
tied to other choices in the program); the second is a fallback list, whose entries Modal may each
grant. Rules that must be sure therefore fire only when a problem holds in EVERY alternative, and,
within an alternative, for an entry that Modal may grant.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from modal_gpu_lint.analysis.resolve import Resolver
from modal_gpu_lint.analysis.sites import Site
from modal_gpu_lint.analysis.values import GpuObject, ListValue
from modal_gpu_lint.facts.catalog import Catalog, GpuType
from modal_gpu_lint.facts.spec import SpecError, parse_spec


@dataclass(frozen=True, eq=False)
class Entry:
    """One GPU string, e.g. "H100:2", that the catalog knows."""

    text: str
    gpu: GpuType
    suffix: str
    count: int
    node: cst.SimpleString | None  # the string as written inline in the call, for fixes

    @property
    def total_gb(self) -> float:
        """GPU memory of the whole request (GB as the catalog states it)."""
        return self.gpu.memory_gb * self.count

    def describe(self) -> str:
        """`2 x H100 (80 GB each)`."""
        return f"{self.count} x {self.gpu.canonical}{self.suffix} ({self.gpu.memory_gb:g} GB each)"


@dataclass(frozen=True)
class Request:
    """Every way `gpu=` may be set: None for "no GPU", else the entries of a string or list."""

    alternatives: tuple[tuple[Entry, ...] | None, ...]
    is_list: tuple[bool, ...]

    @property
    def no_gpu(self) -> bool:
        """Surely CPU only (no `gpu=`, or `gpu=None` in every alternative)."""
        return all(a is None for a in self.alternatives)

    @property
    def gpus(self) -> tuple[tuple[Entry, ...], ...] | None:
        """The entries of each alternative when every alternative requests a GPU, else None."""
        if any(a is None or not a for a in self.alternatives):
            return None
        return tuple(a for a in self.alternatives if a is not None)


def read_request(site: Site, resolver: Resolver, catalog: Catalog) -> Request | None:
    """The request of `site`, or None when it cannot be known (a `**kwargs` splat, a parameter,
    an unknown or malformed GPU string: other rules report those)."""
    arg = site.arg("gpu")
    if arg is None:
        return None if site.star_kwargs else Request((None,), (False,))
    values = resolver.evaluate(arg.value, site.scopes)
    inline = arg.value
    alternatives: list[tuple[Entry, ...] | None] = []
    is_list: list[bool] = []
    for value in values:
        if value is None:
            alternatives.append(None)
            is_list.append(False)
        elif isinstance(value, GpuObject) and value.text is not None:
            entry = _entry(value.text, catalog, None)  # the removed object API: the string it meant
            if entry is None:
                return None
            alternatives.append((entry,))
            is_list.append(False)
        elif isinstance(value, str):
            entry = _entry(
                value, catalog, inline if isinstance(inline, cst.SimpleString) and len(values) == 1 else None
            )
            if entry is None:
                return None
            alternatives.append((entry,))
            is_list.append(False)
        elif isinstance(value, ListValue):
            entries = _list_entries(
                value, inline if isinstance(inline, cst.List) and len(values) == 1 else None, catalog
            )
            if entries is None:
                return None
            alternatives.append(entries)
            is_list.append(True)
        else:
            return None
    if not alternatives:
        return None
    return Request(tuple(alternatives), tuple(is_list))


def _list_entries(value: ListValue, inline: cst.List | None, catalog: Catalog) -> tuple[Entry, ...] | None:
    entries: list[Entry] = []
    for index, item in enumerate(value.items):
        if item is None:
            continue  # the client drops None items (MGL005 reports them)
        if not isinstance(item, str):
            return None
        node = None
        if inline is not None and index < len(inline.elements):
            element = inline.elements[index].value
            node = element if isinstance(element, cst.SimpleString) else None
        entry = _entry(item, catalog, node)
        if entry is None:
            return None
        entries.append(entry)
    return tuple(entries)


def _entry(text: str, catalog: Catalog, node: cst.SimpleString | None) -> Entry | None:
    spec = parse_spec(text)
    if isinstance(spec, SpecError):
        return None
    gpu = catalog.lookup(spec.type_text)
    if gpu is None or spec.count < 1 or (spec.suffix and spec.suffix not in gpu.suffixes):
        return None  # not a request Modal accepts: MGL001-MGL004 say why, the others stay silent
    if gpu.max_count is not None and spec.count > gpu.max_count:
        return None
    return Entry(text, gpu, spec.suffix, spec.count, node)
