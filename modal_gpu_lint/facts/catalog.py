"""The GPU catalog: packaged data plus the user's additions, as frozen types."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from modal_gpu_lint.facts._toml import read_data, tomllib

SUFFIXES = ("!", "+")


class CatalogError(ValueError):
    """A catalog row (packaged or from the user's config) is not well formed."""


@dataclass(frozen=True)
class GpuType:
    """One GPU type Modal accepts, as `gpu="NAME"`."""

    name: str
    memory_gb: float
    max_count: int | None = None
    aliases: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    price: float | None = None
    note: str = ""
    spelling: str = ""  # how Modal writes it when not the upper-case name ("any")

    @property
    def canonical(self) -> str:
        """The spelling MGL009 recommends."""
        return self.spelling or self.name


@dataclass(frozen=True)
class Catalog:
    """All GPU types, looked up case-insensitively by name or alias."""

    types: tuple[GpuType, ...]
    removed: Mapping[str, str] = field(default_factory=dict)
    checked: str = ""
    source: str = ""
    prices_as_of: str = ""
    _index: dict[str, GpuType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, GpuType] = {}
        for gpu in self.types:
            index[gpu.name.upper()] = gpu
        for gpu in self.types:
            for alias in gpu.aliases:
                index.setdefault(alias.upper(), gpu)
        object.__setattr__(self, "_index", index)

    def lookup(self, name: str) -> GpuType | None:
        """The type written as `name` (any case, alias allowed), or None."""
        return self._index.get(name.upper())

    def names(self) -> tuple[str, ...]:
        """Every accepted spelling (canonical names and aliases), upper case."""
        return tuple(self._index)

    def with_overrides(self, rows: Mapping[str, Mapping[str, Any]]) -> Catalog:
        """A new catalog with `[tool.modal-gpu-lint.gpus.NAME]` rows added or merged."""
        types = {t.name: t for t in self.types}
        for raw_name, row in rows.items():
            name = raw_name.upper()
            if not isinstance(row, Mapping):
                raise CatalogError(f"gpus.{raw_name}: expected a table, got {type(row).__name__}")
            base = types.get(name) or self.lookup(name)
            fields = _row_fields(f"gpus.{raw_name}", row, partial=base is not None)
            if base is None:
                types[name] = GpuType(name=name, **fields)
            else:
                types[base.name] = replace(base, **fields)
        return replace(self, types=tuple(types.values()))


_KEYS = {
    "memory-gb": "memory_gb",
    "max-count": "max_count",
    "aliases": "aliases",
    "suffixes": "suffixes",
    "price": "price",
    "note": "note",
    "spelling": "spelling",
}


def _row_fields(where: str, row: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        attr = _KEYS.get(key)
        if attr is None:
            raise CatalogError(f"{where}: unknown key {key!r} (expected one of {', '.join(_KEYS)})")
        out[attr] = _check_value(f"{where}.{key}", attr, value)
    if not partial and "memory_gb" not in out:
        raise CatalogError(f"{where}: a new GPU type needs 'memory-gb'")
    return out


def _check_value(where: str, attr: str, value: Any) -> Any:
    if attr in ("memory_gb", "price"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise CatalogError(f"{where}: expected a positive number, got {value!r}")
        return float(value)
    if attr == "max_count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CatalogError(f"{where}: expected a whole number >= 1, got {value!r}")
        return value
    if attr in ("aliases", "suffixes"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CatalogError(f"{where}: expected a list of strings, got {value!r}")
        if attr == "suffixes" and any(v not in SUFFIXES for v in value):
            raise CatalogError(f"{where}: suffixes may only be {' and '.join(map(repr, SUFFIXES))}")
        return tuple(v.upper() for v in value) if attr == "aliases" else tuple(value)
    if not isinstance(value, str):
        raise CatalogError(f"{where}: expected a string, got {value!r}")
    return value


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    """Build a catalog from the TOML layout of `catalog.toml`."""
    meta = data.get("meta", {})
    gpus = data.get("gpus", {})
    types = tuple(
        GpuType(name=name.upper(), **_row_fields(f"gpus.{name}", row, partial=False)) for name, row in gpus.items()
    )
    removed = {str(k).upper(): str(v) for k, v in meta.get("removed", {}).items()}
    return Catalog(
        types=types,
        removed=removed,
        checked=str(meta.get("checked", "")),
        source=str(meta.get("source", "")),
        prices_as_of=str(meta.get("prices-as-of", "")),
    )


@lru_cache(maxsize=1)
def catalog_text() -> str:
    """The packaged catalog file's text (also part of the cache key)."""
    return read_data(__package__, "catalog.toml")


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The packaged catalog."""
    return parse_catalog(tomllib.loads(catalog_text()))
