"""Pip requirement text, as far as an image's PyTorch goes: `torch==2.5.1`, `torch<2.6`, indexes.

Pure text, no libcst: `analysis.image` feeds it the strings of `.pip_install(...)`,
`.uv_pip_install(...)` and `.run_commands("pip install ...")`. Anything not understood is None.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from modal_gpu_lint.facts.torch_builds import Version, parse_version

Bound = tuple[Version, bool]  # (version, inclusive)


@dataclass(frozen=True)
class TorchRequirement:
    """A `torch` requirement: the versions it allows, as an interval, and a `+cuXYZ` local label."""

    text: str
    low: Bound | None
    high: Bound | None
    local: str | None  # "cu121" from `torch==2.5.1+cu121`


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$", re.DOTALL)
_CLAUSE = re.compile(r"^(===|==|~=|!=|<=|>=|<|>)\s*([0-9][0-9.]*)(\.\*)?(?:\+([A-Za-z0-9.]+))?$")


def package_name(requirement: str) -> str | None:
    """The normalized project name of a requirement string (`"Torch[x]>=2"` -> "torch"); None for
    a URL, a path or an option."""
    text = requirement.strip()
    if not text or text.startswith(("-", ".", "/", "git+")) or "://" in text.split("@")[0]:
        return None
    match = _NAME.match(text)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


def parse_torch(requirement: str) -> TorchRequirement | None:
    """The interval of a `torch` requirement; None when it is not one or cannot be read (a URL,
    an environment marker, a pre-release): then the image's torch is unknown."""
    match = _NAME.match(requirement.strip())
    if match is None:
        return None
    rest = match.group(3).strip()
    if "@" in rest or ";" in rest:
        return None
    low: Bound | None = None
    high: Bound | None = None
    local: str | None = None
    for clause in filter(None, (c.strip() for c in rest.split(","))):
        parsed = _CLAUSE.match(clause.replace(" ", ""))
        if parsed is None:
            return None
        op, text, wildcard, label = parsed.groups()
        version = parse_version(text.rstrip("."))
        if version is None or (wildcard and op not in ("==", "!=")) or (label and op not in ("==", "===")):
            return None
        if op == "!=":
            continue  # only narrows
        local = label or local
        clause_low, clause_high = _interval(op, version, bool(wildcard))
        low = clause_low if low is None or (clause_low is not None and _after(clause_low, low)) else low
        high = clause_high if high is None or (clause_high is not None and _before(clause_high, high)) else high
    return TorchRequirement(requirement.strip(), low, high, local.lower() if local else None)


def _interval(op: str, version: Version, wildcard: bool) -> tuple[Bound | None, Bound | None]:
    if op in ("==", "===") and wildcard:
        return (version, True), ((*version[:-1], version[-1] + 1), False)
    if op in ("==", "==="):
        return (version, True), (version, True)
    if op == "~=":
        if len(version) < 2:
            return None, None
        return (version, True), ((*version[:-2], version[-2] + 1), False)
    if op in ("<", "<="):
        return None, (version, op == "<=")
    return (version, op == ">="), None


def compare(a: Version, b: Version) -> int:
    """-1, 0 or 1, with missing parts as zeros (2.7 == 2.7.0)."""
    width = max(len(a), len(b))
    pa, pb = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return (pa > pb) - (pa < pb)


def _after(a: Bound, b: Bound) -> bool:
    """Whether lower bound `a` is tighter than `b`."""
    c = compare(a[0], b[0])
    return c > 0 or (c == 0 and not a[1])


def _before(a: Bound, b: Bound) -> bool:
    """Whether upper bound `a` is tighter than `b`."""
    c = compare(a[0], b[0])
    return c < 0 or (c == 0 and not a[1])


def below(high: Bound, version: Version) -> bool:
    """Whether every version allowed by upper bound `high` is older than `version`."""
    c = compare(high[0], version)
    return c < 0 or (c == 0 and not high[1])


# ---- indexes ------------------------------------------------------------------------------------
_PYTORCH_INDEX = re.compile(r"^https?://download\.pytorch\.org/whl/(cu\d{3})/?$")
_PYPI = re.compile(r"^https?://pypi\.org/simple/?$")
INDEX_OPTIONS = re.compile(
    r"(?:^|\s)(?:--index-url|--extra-index-url|--index|--default-index|--find-links|-i|-f)(?:[=\s]|$)"
)


def index_build(url: str) -> str | None:
    """`cu128` for PyTorch's `.../whl/cu128` index, "pypi" for PyPI, None for any other index."""
    match = _PYTORCH_INDEX.match(url.strip())
    if match:
        return match.group(1)
    return "pypi" if _PYPI.match(url.strip()) else None


# ---- shell commands -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PipCommand:
    """`pip install A B --extra-index-url X` read from a shell command."""

    packages: tuple[str, ...]
    index_url: str | None
    extra_index_urls: tuple[str, ...]


_SEPARATORS = re.compile(r"&&|\|\||[;|\n]")
_INSTALLERS = re.compile(r"\b(pip3?|uv|conda|mamba|micromamba|poetry|setup\.py|install)\b")
_FLAGS = frozenset(
    {"-U", "--upgrade", "-q", "--quiet", "--no-cache-dir", "--system", "--pre", "--no-deps", "--force-reinstall"}
)


def shell_installs(command: str) -> list[PipCommand] | None:
    """The `pip install` / `uv pip install` commands in `command`; [] when it installs nothing,
    None when it installs something in a way not understood (a script, conda, `-r file`, `-e .`)."""
    found: list[PipCommand] = []
    for segment in _SEPARATORS.split(command):
        if not _INSTALLERS.search(segment):
            continue
        try:
            words = shlex.split(segment)
        except ValueError:
            return None
        parsed = _pip_install(words)
        if parsed is None:
            return None
        found.append(parsed)
    return found


def _pip_install(words: list[str]) -> PipCommand | None:
    for start in range(len(words) - 1):
        head = words[start : start + 2]
        if head == ["pip", "install"] or head == ["pip3", "install"]:
            rest = words[start + 2 :]
            break
        if words[start : start + 3] == ["uv", "pip", "install"]:
            rest = words[start + 3 :]
            break
    else:
        return None
    packages: list[str] = []
    index_url: str | None = None
    extras: list[str] = []
    words_iter = iter(rest)
    for word in words_iter:
        option, _, value = word.partition("=")
        if option in ("--index-url", "-i", "--extra-index-url"):
            url = value or next(words_iter, "")
            if option == "--extra-index-url":
                extras.append(url)
            else:
                index_url = url
        elif word in _FLAGS:
            continue
        elif word.startswith("-"):
            return None  # -r, -e, -c, --find-links...: not understood
        else:
            packages.append(word)
    return PipCommand(tuple(packages), index_url, tuple(extras))
