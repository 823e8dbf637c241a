"""What the image can run (MGL406): GPUs whose architecture the image's PyTorch has no kernels for."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from modal_gpu_lint.analysis.gpu_request import Entry, read_request
from modal_gpu_lint.analysis.image import CannotRun, cannot_run, image_of
from modal_gpu_lint.facts.torch_builds import torch_facts
from modal_gpu_lint.findings import Finding
from modal_gpu_lint.rules.base import Rule
from modal_gpu_lint.rules.context import Context

RULES = (
    Rule(
        code="MGL406",
        name="image-cannot-run-on-gpu",
        default=True,
        fix=None,
        summary="A requested GPU type, or any entry of a fallback list, whose architecture no PyTorch build "
        "the function's image may install has kernels for (`B200` or `RTX-PRO-6000` with `torch==2.5.1`, "
        "`torch<2.7`, or `torch==2.7.0` from PyPI, whose build is CUDA 12.6).",
        why='The container gets the GPU, but PyTorch fails at its first CUDA operation with "no kernel image '
        'is available for execution on the device", after the image was built and the GPU paid for. '
        "Blackwell GPUs (B200, B300, RTX-PRO-6000) need PyTorch 2.7 or newer in a CUDA 12.8+ build. "
        "Only reported when the image's torch pin makes it certain: silent for an unpinned torch, an "
        "image without torch, a base image that may bring its own torch, an index the linter does not "
        "know, a version whose PyPI build is not verified, and when a later step installs other packages "
        "(they may change torch).",
        example='image = modal.Image.debian_slim().pip_install("torch==2.5.1")\n\n\n'
        '@app.function(gpu="B200", image=image, timeout=600)',
        instead='image = modal.Image.debian_slim().pip_install(\n    "torch==2.7.1", '
        'index_url="https://download.pytorch.org/whl/cu128"\n)\n\n\n'
        '@app.function(gpu="B200", image=image, timeout=600)',
        valid=(
            'image = modal.Image.debian_slim().pip_install("torch==2.5.1")\n\n\n'
            '@app.function(gpu="H100", image=image, timeout=60)\ndef f(): ...',
            'image = modal.Image.debian_slim().pip_install("torch")\n\n\n'
            '@app.function(gpu="B200", image=image, timeout=60)\ndef f(): ...',
            'image = modal.Image.debian_slim().pip_install(\n    "torch==2.7.1", '
            'extra_index_url="https://download.pytorch.org/whl/cu128"\n)\n\n\n'
            '@app.function(gpu="B200", image=image, timeout=60)\ndef f(): ...',
        ),
        invalid=(
            'image = modal.Image.debian_slim().pip_install("torch==2.5.1")\n\n\n'
            '@app.function(gpu="B200", image=image, timeout=60)\ndef f(): ...',
        ),
    ),
)

CODES = frozenset(rule.code for rule in RULES)
DECORATORS = ("app.function", "app.cls", "app.server")
_SYMPTOM = 'its first CUDA operation fails with "no kernel image is available for execution on the device"'


def check(ctx: Context) -> Iterator[Finding]:
    """MGL406 on every Modal function, class and server that requests a GPU and has a readable image."""
    if not ctx.wants(*CODES):
        return
    facts = torch_facts()
    for site in ctx.facts.sites:
        arg = site.arg("gpu")
        if site.api.kind not in DECORATORS or arg is None:
            continue
        request = read_request(site, ctx.facts.resolver, ctx.catalog)
        if request is None or request.gpus is None:
            continue
        image = image_of(site, ctx.facts.resolver)
        if image.torch is None:
            continue
        bad: list[list[tuple[Entry, CannotRun]]] = []
        for entries in request.gpus:
            found = []
            for entry in entries:
                arch = facts.arch(entry.gpu.name)
                why = cannot_run(image, arch) if arch is not None else None
                if why is not None:
                    found.append((entry, why))
            bad.append(found)
        if not all(bad):  # a choice made elsewhere may avoid it
            continue
        reported: set[tuple[int, str]] = set()
        for entry, why in bad[0]:
            node: cst.CSTNode = entry.node if entry.node is not None and len(request.gpus) == 1 else arg
            key = (id(node), entry.gpu.name)
            if key in reported or any(k[0] == id(node) for k in reported):
                continue  # one finding per written value
            reported.add(key)
            yield Finding("MGL406", message(entry, why), node, node)


def message(entry: Entry, why: CannotRun) -> str:
    """What MGL406 says: the GPU's architecture, the torch pin, the first release that supports it."""
    arch = why.arch
    head = f'"{entry.text}" is a {arch.name} GPU ({arch.sm}), but the image pins {why.pin.requirement.text}'
    first = why.first
    release = ".".join(map(str, first.release)) if first is not None else ""
    fix = (
        f"install torch {release} or newer from PyTorch's {first.build} index "
        f'(index_url="https://download.pytorch.org/whl/{first.build}")'
        if first is not None
        else f"install a PyTorch build with {arch.sm} kernels"
    )
    if not why.builds:
        return f"{head}, and no PyTorch before {release} has {arch.sm} kernels: {_SYMPTOM}; {fix}"
    if not why.pin.builds:
        source = "PyPI serves"
    elif why.pin.pypi:
        source = "PyPI and the index given serve"
    else:
        source = "the index given serves"
    builds = " and ".join(why.builds)
    plural = "builds" if len(why.builds) > 1 else "build"
    series = ".".join(map(str, why.series or ()))
    older = f"releases before {release} have no {arch.sm} kernels, and " if why.older else ""
    return (
        f"{head}: {older}{source} torch {series} as its {builds} {plural}, without {arch.sm} kernels: {_SYMPTOM}; {fix}"
    )
