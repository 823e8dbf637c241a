"""torch_builds.toml as frozen types: GPU architectures and which PyTorch builds carry kernels for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from modal_gpu_lint.facts._toml import read_data, tomllib

Version = tuple[int, ...]


@dataclass(frozen=True)
class Arch:
    """A GPU type's architecture: "Blackwell", (10, 0)."""

    name: str
    cc: tuple[int, int]

    @property
    def sm(self) -> str:
        """`sm_100`."""
        return f"sm_{self.cc[0]}{self.cc[1]}"


@dataclass(frozen=True)
class FirstRelease:
    """The first PyTorch release (and its CUDA build) with kernels for a compute capability."""

    release: Version
    build: str


@dataclass(frozen=True)
class Build:
    """An official CUDA build's architecture list (`cu126`)."""

    archs: tuple[tuple[int, int], ...]
    ptx: bool

    def runs(self, cc: tuple[int, int]) -> bool:
        """Whether it has kernels a GPU of compute capability `cc` can run: SASS of the same major
        version and no newer minor one, or PTX of an older capability (JIT-compiled)."""
        if any(a[0] == cc[0] and a[1] <= cc[1] for a in self.archs):
            return True
        return self.ptx and any(a <= cc for a in self.archs)


@dataclass(frozen=True)
class TorchFacts:
    """Everything torch_builds.toml says."""

    gpus: dict[str, Arch]
    min_cuda: dict[str, Version]
    first_release: dict[tuple[int, int], FirstRelease]
    builds: dict[str, Build]
    pypi_default: dict[Version, str]  # release series (2, 7) -> "cu126"

    def arch(self, gpu_name: str) -> Arch | None:
        """The architecture of a catalog type (upper-case name), if known."""
        return self.gpus.get(gpu_name.upper())


_VERSION = re.compile(r"\d+(?:\.\d+)*")


def parse_version(text: str) -> Version | None:
    """`"2.7"` -> (2, 7); None when `text` is not a dotted number."""
    text = text.strip()
    return tuple(int(p) for p in text.split(".")) if _VERSION.fullmatch(text) else None


def _cc(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def _version(text: str) -> Version:
    version = parse_version(text)
    if version is None:
        raise ValueError(f"torch_builds.toml: not a version: {text!r}")
    return version


def parse_torch_facts(data: dict[str, object]) -> TorchFacts:
    """Build the facts from the TOML layout of torch_builds.toml."""
    gpus = {str(k).upper(): Arch(str(v["arch"]), _cc(str(v["cc"]))) for k, v in _table(data, "gpus").items()}
    min_cuda = {str(k).upper(): _version(str(v)) for k, v in _table(data, "min-cuda").items()}
    first = {
        _cc(str(k)): FirstRelease(_version(str(v["release"])), str(v["build"]))
        for k, v in _table(data, "first-release").items()
    }
    builds = {
        str(k): Build(tuple(_cc(str(a)) for a in v["archs"]), bool(v["ptx"])) for k, v in _table(data, "builds").items()
    }
    defaults = {_version(str(k)): str(v) for k, v in _table(data, "pypi-default").items()}
    return TorchFacts(gpus, min_cuda, first, builds, defaults)


def _table(data: dict[str, object], key: str) -> dict[str, dict]:  # type: ignore[type-arg]
    value = data.get(key, {})
    assert isinstance(value, dict)
    return value


@lru_cache(maxsize=1)
def torch_facts_text() -> str:
    """The packaged file's text (also part of the cache key)."""
    return read_data(__package__, "torch_builds.toml")


@lru_cache(maxsize=1)
def torch_facts() -> TorchFacts:
    """The packaged facts."""
    return parse_torch_facts(tomllib.loads(torch_facts_text()))
