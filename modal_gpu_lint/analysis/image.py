"""What a Modal function's image says about its PyTorch, CUDA and target architectures.

The image is read from the function's `image=` (or its App's `image=`) back through variables
to a `modal.Image` constructor, then step by step: `.pip_install` / `.uv_pip_install` (with
`index_url=` / `extra_index_url=`), `.run_commands("pip install ...")`, `.env({...})`,
`from_registry` tags. Unknown stays unknown: a step that may install packages in a way not
read (a requirements file, a Dockerfile, a script) makes torch unknown, and so does any package
installed after the torch pin (it may require another torch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import libcst as cst

from modal_gpu_lint.analysis.requirements import (
    INDEX_OPTIONS,
    TorchRequirement,
    below,
    compare,
    index_build,
    package_name,
    parse_torch,
    shell_installs,
)
from modal_gpu_lint.analysis.resolve import Assigned, Resolver, Scope
from modal_gpu_lint.analysis.sites import Site
from modal_gpu_lint.analysis.values import ListValue, Value
from modal_gpu_lint.facts.torch_builds import Arch, FirstRelease, Version, torch_facts


@dataclass(frozen=True)
class TorchPin:
    """The image's torch, when a step pins it and nothing after it may change it."""

    requirement: TorchRequirement
    builds: frozenset[str]  # CUDA builds an index or `+cuXYZ` label may serve ("cu128")
    pypi: bool  # PyPI may serve it (its default build for the version)
    clean_base: bool  # the base image brings no torch of its own

    def describe(self) -> str:
        """`torch==2.5.1 (cu121 index)`."""
        where = sorted(self.builds) + (["PyPI"] if self.pypi else [])
        return f"{self.requirement.text} ({', '.join(where)})"


@dataclass(frozen=True)
class ImageFacts:
    """What the image's build chain says; every field None when it does not say."""

    torch: TorchPin | None = None
    torch_note: str | None = None  # the last torch requirement seen, even when it may change
    cuda: Version | None = None  # a CUDA version visible in the image (base tag, torch build)
    archs: tuple[tuple[int, int, bool], ...] | None = None  # TORCH_CUDA_ARCH_LIST: (major, minor, arch-specific)
    arch_text: str | None = None
    engine: str | None = None  # a package that builds engines for one architecture (TensorRT-LLM)


UNREAD = ImageFacts()

_IMAGE_CLASS = ("modal.Image", "modal.image.Image")
_CLEAN_BASES = {"debian_slim", "micromamba"}
_CUDA_REGISTRY = re.compile(r"^(?:docker\.io/)?nvidia/cuda:(\d+)\.(\d+)")
_CUDA_TAG = re.compile(r"cuda[-_]?(\d+)\.(\d+)|[-_.]cu(\d\d)(\d)\b")
_NEUTRAL = frozenset(
    {
        "apt_install",
        "add_local_file",
        "add_local_dir",
        "add_local_python_source",
        "workdir",
        "entrypoint",
        "cmd",
        "shell",
        "copy_local_file",
        "copy_local_dir",
        "run_function",
    }
)
_ENGINE_PACKAGES = frozenset({"tensorrt-llm"})
_MAX_DEPTH = 32


def image_of(site: Site, resolver: Resolver) -> ImageFacts:
    """The image facts of a decorator site (its own `image=`, else its App's)."""
    arg = site.arg("image")
    if arg is not None:
        return read_image(arg.value, site.scopes, resolver)
    if site.star_kwargs:
        return UNREAD
    app = site.expr.func if isinstance(site.expr, cst.Call) else site.expr
    if not isinstance(app, cst.Attribute) or not isinstance(app.value, cst.Name):
        return UNREAD
    found, where = resolver.lookup(app.value.value, site.scopes)
    if len(found) != 1 or not isinstance(found[0], Assigned) or not isinstance(found[0].value, cst.Call):
        return UNREAD
    image = next((a for a in found[0].value.args if a.keyword is not None and a.keyword.value == "image"), None)
    return read_image(image.value, where, resolver) if image is not None else UNREAD


def read_image(expr: cst.BaseExpression, scopes: tuple[Scope, ...], resolver: Resolver) -> ImageFacts:
    """Read the build chain `expr` names into facts."""
    steps = _chain(expr, scopes, resolver, 0)
    if not steps:
        return UNREAD
    reader = _Reader(resolver)
    for method, call, where in steps:
        reader.step(method, call, where)
    return reader.result()


Step = tuple[str, cst.Call, tuple[Scope, ...]]


def _chain(expr: cst.BaseExpression, scopes: tuple[Scope, ...], resolver: Resolver, depth: int) -> list[Step] | None:
    """The calls from the `modal.Image` constructor to `expr`, in build order."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        method = expr.func.attr.value
        if resolver.qualify(expr.func, scopes) in tuple(f"{c}.{method}" for c in _IMAGE_CLASS):
            return [(method, expr, scopes)]
        before = _chain(expr.func.value, scopes, resolver, depth + 1)
        return None if before is None else [*before, (method, expr, scopes)]
    if not isinstance(expr, cst.Name):
        return None
    found, where = resolver.lookup(expr.value, scopes)
    values = [b.value for b in found if isinstance(b, Assigned) and b.value is not None]
    if not found or len(values) != len(found):
        return None
    steps = _chain(values[0], where, resolver, depth + 1)
    for value in values[1:]:  # `image = image.pip_install(...)`: each rebinding extends the last
        if steps is None or _root(value) != expr.value:
            return None
        more = _chain_after(value, expr.value, where, resolver, depth + 1)
        steps = None if more is None else [*steps, *more]
    return steps


def _chain_after(
    expr: cst.BaseExpression, name: str, scopes: tuple[Scope, ...], resolver: Resolver, depth: int
) -> list[Step] | None:
    if isinstance(expr, cst.Name) and expr.value == name:
        return []
    if depth > _MAX_DEPTH or not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
        return None
    before = _chain_after(expr.func.value, name, scopes, resolver, depth + 1)
    return None if before is None else [*before, (expr.func.attr.value, expr, scopes)]


def _root(expr: cst.BaseExpression) -> str | None:
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        expr = expr.func.value
    return expr.value if isinstance(expr, cst.Name) else None


@dataclass
class _Reader:
    resolver: Resolver
    facts: ImageFacts = field(default_factory=ImageFacts)
    clean_base: bool = False
    started: bool = False

    def result(self) -> ImageFacts:
        return self.facts if self.started else UNREAD

    def step(self, method: str, call: cst.Call, scopes: tuple[Scope, ...]) -> None:
        if not self.started:
            self._base(method, call, scopes)
            return
        if method in ("pip_install", "uv_pip_install"):
            self._install(call, scopes)
        elif method == "run_commands":
            self._commands(call, scopes)
        elif method == "env":
            self._env(call, scopes)
        elif method not in _NEUTRAL:
            self._unknown_install()

    def _base(self, method: str, call: cst.Call, scopes: tuple[Scope, ...]) -> None:
        self.started = True
        self.clean_base = method in _CLEAN_BASES
        if method != "from_registry" or not call.args:
            return
        tags = [v for v in self.resolver.evaluate(call.args[0].value, scopes) if isinstance(v, str)]
        if len(tags) != 1:
            return
        tag = tags[0]
        registry = _CUDA_REGISTRY.match(tag)
        self.clean_base = registry is not None  # NVIDIA's CUDA images bring no PyTorch
        version = _tag_cuda(tag)
        if version is not None:
            self.facts = replace(self.facts, cuda=version)

    def _unknown_install(self) -> None:
        self.facts = replace(self.facts, torch=None)

    # ---- installs -------------------------------------------------------------------------
    def _install(self, call: cst.Call, scopes: tuple[Scope, ...]) -> None:
        packages: list[str] = []
        for arg in call.args:
            if arg.keyword is not None:
                continue
            strings = self._strings(arg.value, scopes, star=arg.star == "*")
            if strings is None:
                self._unknown_install()
                return
            packages.extend(strings)
        index = self._keyword(call, "index_url", scopes)
        extras = self._keyword(call, "extra_index_url", scopes)
        options = self._keyword(call, "extra_options", scopes)
        links = self._keyword(call, "find_links", scopes)
        unread_index = (
            index is None
            or extras is None
            or options is None
            or links is None
            or bool(links)
            or any(INDEX_OPTIONS.search(o) for o in options)
        )
        self._packages(packages, index[0] if index else None, tuple(extras or ()), unread_index)

    def _commands(self, call: cst.Call, scopes: tuple[Scope, ...]) -> None:
        for arg in call.args:
            if arg.keyword is not None:
                continue
            strings = self._strings(arg.value, scopes, star=arg.star == "*")
            if strings is None:
                self._unknown_install()
                return
            for command in strings:
                installs = shell_installs(command)
                if installs is None:
                    self._unknown_install()
                    return
                for pip in installs:
                    self._packages(list(pip.packages), pip.index_url, pip.extra_index_urls, False)

    def _packages(self, packages: list[str], index: str | None, extras: tuple[str, ...], unread_index: bool) -> None:
        if not packages:
            return
        names = [package_name(p) for p in packages]
        if any(n in _ENGINE_PACKAGES for n in names):
            engine = next(p for p, n in zip(packages, names, strict=True) if n in _ENGINE_PACKAGES)
            self.facts = replace(self.facts, engine=engine)
        torch = [p for p, n in zip(packages, names, strict=True) if n == "torch"]
        if not torch:
            # another package may require another torch (or bring one, when a name is not read)
            self._unknown_install()
            return
        note = torch[-1].strip()
        self.facts = replace(self.facts, torch=self._pin(torch, index, extras, unread_index), torch_note=note)
        if self.facts.torch is not None and not self.facts.torch.pypi:
            version = _build_cuda(self.facts.torch.builds)
            if version is not None and (self.facts.cuda is None or compare(version, self.facts.cuda) > 0):
                self.facts = replace(self.facts, cuda=version)

    def _pin(self, torch: list[str], index: str | None, extras: tuple[str, ...], unread: bool) -> TorchPin | None:
        if unread or len(torch) != 1:
            return None
        requirement = parse_torch(torch[0])
        if requirement is None:
            return None
        builds: set[str] = set()
        pypi = index is None
        for url in ((index,) if index else ()) + extras:
            build = index_build(url)
            if build is None:
                return None  # an index we know nothing about may serve any build
            if build == "pypi":
                pypi = True
            else:
                builds.add(build)
        if requirement.local is not None:  # `+cu121`: only that build matches
            if not requirement.local.startswith("cu"):
                return None
            builds, pypi = {requirement.local}, False
        return TorchPin(requirement, frozenset(builds), pypi, self.clean_base)

    def _env(self, call: cst.Call, scopes: tuple[Scope, ...]) -> None:
        if not call.args or not isinstance(call.args[0].value, cst.Dict):
            return
        for element in call.args[0].value.elements:
            if not isinstance(element, cst.DictElement):
                continue
            keys = self.resolver.evaluate(element.key, scopes)
            if keys != ["TORCH_CUDA_ARCH_LIST"]:
                continue
            values = self.resolver.evaluate(element.value, scopes)
            text = values[0] if len(values) == 1 and isinstance(values[0], str) else None
            archs = parse_arch_list(text) if text is not None else None
            self.facts = replace(self.facts, archs=archs, arch_text=text if archs is not None else None)

    # ---- values ---------------------------------------------------------------------------
    def _strings(self, expr: cst.BaseExpression, scopes: tuple[Scope, ...], *, star: bool) -> list[str] | None:
        values = self.resolver.evaluate(expr, scopes)
        if len(values) != 1:
            return None
        return _flatten(values[0], star)

    def _keyword(self, call: cst.Call, name: str, scopes: tuple[Scope, ...]) -> list[str] | None:
        """The strings of keyword `name` ([] when absent or None), None when not known."""
        arg = next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)
        if arg is None:
            return []
        values = self.resolver.evaluate(arg.value, scopes)
        if len(values) != 1:
            return None
        if values[0] is None or values[0] is False:
            return []
        return _flatten(values[0], True)


def _flatten(value: Value, allow_list: bool) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if allow_list and isinstance(value, ListValue) and all(isinstance(i, str) for i in value.items):
        return [i for i in value.items if isinstance(i, str)]
    return None


def _tag_cuda(tag: str) -> Version | None:
    registry = _CUDA_REGISTRY.match(tag)
    if registry:
        return int(registry.group(1)), int(registry.group(2))
    match = _CUDA_TAG.search(tag.split(":", 1)[-1])
    if match is None:
        return None
    if match.group(1):
        return int(match.group(1)), int(match.group(2))
    return int(match.group(3)), int(match.group(4))


def _build_cuda(builds: frozenset[str]) -> Version | None:
    """The CUDA version of the one build in `builds` (`cu128` -> 12.8)."""
    build = next(iter(builds)) if len(builds) == 1 else ""
    return (int(build[2:4]), int(build[4:])) if re.fullmatch(r"cu\d{3}", build) else None


def parse_arch_list(text: str) -> tuple[tuple[int, int, bool], ...] | None:
    """`"9.0 9.0a"` -> ((9, 0, False), (9, 0, True)); None when a `+PTX` entry lets newer GPUs
    JIT-compile, or an entry is not a compute capability."""
    archs: list[tuple[int, int, bool]] = []
    for item in re.split(r"[;,\s]+", text.strip()):
        if not item:
            continue
        match = re.fullmatch(r"(\d+)\.(\d+)([af]?)", item)
        if match is None:
            return None
        archs.append((int(match.group(1)), int(match.group(2)), bool(match.group(3))))
    return tuple(archs) or None


def arch_pin_runs(archs: tuple[tuple[int, int, bool], ...], cc: tuple[int, int]) -> bool:
    """Whether code built only for `archs` runs on compute capability `cc`."""
    return any(
        (major, minor) == cc if specific else major == cc[0] and minor <= cc[1] for major, minor, specific in archs
    )


# ---- verdicts -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CannotRun:
    """Why the image's torch certainly has no kernels for a GPU's architecture."""

    pin: TorchPin
    arch: Arch
    first: FirstRelease | None
    builds: tuple[str, ...]  # the CUDA builds that may be installed, all without kernels (() if by release)
    series: Version | None = None  # the release series those builds are of (2, 7)
    older: bool = False  # the pin also allows releases before `first`


def cannot_run(image: ImageFacts, arch: Arch) -> CannotRun | None:
    """Why no torch build the image may install runs on `arch`; None when one may."""
    pin = image.torch
    if pin is None or not pin.clean_base or pin.requirement.high is None:
        return None
    facts = torch_facts()
    first = facts.first_release.get(arch.cc)
    high = pin.requirement.high
    if first is not None and below(high, first.release):
        return CannotRun(pin, arch, first, ())
    low = pin.requirement.low[0] if pin.requirement.low else None
    older = first is not None and (low is None or compare(low, first.release) < 0)
    if older and first is not None:
        low = first.release  # older versions have no kernels for it either
    if low is None:
        return None
    series = ((*low, 0, 0))[:2]
    if not below(high, (series[0], series[1] + 1)):
        return None
    builds = set(pin.builds)
    if pin.pypi:
        default = facts.pypi_default.get(series)
        if default is None:
            return None
        builds.add(default)
    if not builds or any(b not in facts.builds or facts.builds[b].runs(arch.cc) for b in builds):
        return None
    return CannotRun(pin, arch, first, tuple(sorted(builds)), series, older)


def runnable(image: ImageFacts, gpu_name: str, same_as: Arch | None = None) -> bool:
    """Whether the image can run GPU type `gpu_name` as far as it shows (for suggestions):
    its torch has kernels for it, its pinned architectures include it, and it shows the CUDA
    the type needs. `same_as` is the requested type's architecture, for images that build
    engines for one architecture."""
    facts = torch_facts()
    needed = facts.min_cuda.get(gpu_name.upper())
    if needed is not None and (image.cuda is None or compare(image.cuda, needed) < 0):
        return False
    arch = facts.arch(gpu_name)
    if arch is None:
        return image.archs is None and image.engine is None
    if image.archs is not None and not arch_pin_runs(image.archs, arch.cc):
        return False
    if image.engine is not None and (same_as is None or arch.cc != same_as.cc):
        return False
    return cannot_run(image, arch) is None


def cuda_text(version: Version | None) -> str | None:
    """`12.8`."""
    return ".".join(map(str, version)) if version is not None else None


__all__ = ["UNREAD", "CannotRun", "ImageFacts", "TorchPin", "cannot_run", "image_of", "runnable"]
