"""The Modal client a project targets, when the config does not say: its lock file (uv.lock,
poetry.lock), else its `modal` requirement (pyproject.toml, requirements*.txt)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modal_gpu_lint.facts._toml import tomllib
from modal_gpu_lint.facts.modal_versions import Target, VersionError, parse_version, target_from_specifier

_REQUIREMENT = re.compile(r"^\s*modal\s*(?:\[[^\]]*\])?\s*\(?\s*([^;#)]*)", re.IGNORECASE)
_PROJECT_FILES = ("uv.lock", "poetry.lock", "pyproject.toml")


def detect_target(root: Path) -> Target | None:
    """The target read from the first folder, from `root` up, that holds a project file; None when
    nothing there names `modal` with an upper bound (the newest client is then assumed)."""
    for folder in (root, *root.parents):
        requirements = sorted(folder.glob("requirements*.txt"))
        if not requirements and not any((folder / name).is_file() for name in _PROJECT_FILES):
            continue
        for lock in ("uv.lock", "poetry.lock"):
            found = _from_lock(folder / lock)
            if found is not None:
                return found
        found = _from_pyproject(folder / "pyproject.toml")
        if found is not None:
            return found
        for path in requirements:
            found = _from_requirements(path)
            if found is not None:
                return found
        return None
    return None


def _toml(path: Path) -> Mapping[str, Any] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"modal" not in data.lower():  # `Modal>=1.0`: names are case-insensitive
        return None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # not ours to report: the file's own tool will


_LOCKED = re.compile(rb'^\[\[package\]\]\s*\nname = "modal"\s*\nversion = "([^"]+)"', re.MULTILINE)


def _from_lock(path: Path) -> Target | None:
    """The locked version: found by its two lines (uv.lock and poetry.lock write `name` then
    `version`; a lock may be megabytes), else by parsing the TOML."""
    try:
        match = _LOCKED.search(path.read_bytes())
    except OSError:
        return None
    if match is not None:
        try:
            return Target(parse_version(match.group(1).decode("ascii", "replace")), source=path.name)
        except VersionError:
            return None
    data = _toml(path)
    packages = (data or {}).get("package", [])
    for package in packages if isinstance(packages, list) else []:
        if isinstance(package, Mapping) and str(package.get("name", "")).lower() == "modal":
            try:
                return Target(parse_version(str(package.get("version", ""))), source=f"{path.name}")
            except VersionError:
                return None
    return None


def _from_pyproject(path: Path) -> Target | None:
    data = _toml(path)
    if data is None:
        return None
    dependencies = _table(data, "project").get("dependencies", [])
    for requirement in dependencies if isinstance(dependencies, list) else []:
        found = _from_line(str(requirement), f"{path.name} [project] dependencies")
        if found is not None:
            return found
    spec = _table(_table(_table(data, "tool"), "poetry"), "dependencies").get("modal")
    if isinstance(spec, Mapping):
        spec = spec.get("version")
    if isinstance(spec, str):
        return _poetry(spec, f"{path.name} [tool.poetry.dependencies]")
    return None


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """`data[key]` when it is a table, else an empty one (a malformed file names no pin)."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _from_requirements(path: Path) -> Target | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        found = _from_line(line, path.name)
        if found is not None:
            return found
    return None


def _from_line(line: str, source: str) -> Target | None:
    match = _REQUIREMENT.match(line)
    if match is None or re.match(r"^\s*modal[\w.-]", line, re.IGNORECASE):  # `modal-foo` is another package
        return None
    try:
        return target_from_specifier(match.group(1).strip(), f"{source}: {line.strip()}")
    except VersionError:
        return None


def _poetry(spec: str, source: str) -> Target | None:
    """Poetry's constraints, comma-separated (the tightest bound wins): `^1.2` (< 2.0), `~1.2`
    (< 1.3), a bare `1.2.3` (exactly it), `1.2.*`, `*`, and PEP 440 clauses."""
    try:
        clauses = [_pep440(clause.strip()) for clause in spec.split(",")]
        return target_from_specifier(",".join(clauses), f"{source}: modal {spec.strip()}")
    except VersionError:
        return None


def _pep440(clause: str) -> str:
    """One Poetry clause as PEP 440 ("" for any version)."""
    if clause in ("", "*"):
        return ""
    if clause[0] in "^~" and clause[1:2] != "=":
        if not re.fullmatch(r"[\^~]\s*\d+(\.\d+)*(\.\*)?", clause):
            raise VersionError(f"cannot read the constraint {clause!r}")
        written = [int(p) for p in re.findall(r"\d+", clause)]
        parts = [*written, 0, 0]
        if clause[0] == "^":  # the first non-zero part may not change
            index = next((i for i, p in enumerate(parts[:3]) if p), min(len(written), 3) - 1)
        else:  # ~1.2 and ~1.2.3: < 1.3; ~1: < 2
            index = 1 if len(written) > 1 else 0
        return "<" + ".".join(map(str, [*parts[:index], parts[index] + 1]))
    if clause[0].isdigit():  # a bare version is an exact pin in Poetry
        return f"=={clause}"
    return clause
