"""Which Modal client versions each rule and fix applies to (data: `modal_versions.toml`), and
the client version a project targets, read from a version or a requirement specifier."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from modal_gpu_lint.facts._toml import read_data, tomllib

Version = tuple[int, ...]


class VersionError(ValueError):
    """A version or requirement that cannot be read."""


def parse_version(text: str) -> Version:
    """`"1.4"` -> (1, 4, 0); pre-release and local parts are dropped (`1.0.6.dev41` -> (1, 0, 6))."""
    match = re.match(r"^\s*v?(\d+(?:\.\d+)*)", text)
    if match is None:
        raise VersionError(f"not a version: {text!r} (write it like 1.2 or 1.2.3)")
    parts = tuple(int(p) for p in match.group(1).split("."))
    return parts + (0,) * (3 - len(parts)) if len(parts) < 3 else parts


def show(version: Version) -> str:
    """(1, 4, 0) -> "1.4.0"."""
    return ".".join(map(str, version))


@dataclass(frozen=True)
class Target:
    """The newest client a project may run: `version` itself, or (with `below`) any version under it."""

    version: Version
    below: bool = False
    source: str = ""  # where it was read: the config, the command line, a lock file...

    def has(self, version: Version) -> bool:
        """Whether every client the project may run is at `version` or later."""
        return self.version > version if self.below else self.version >= version

    def __str__(self) -> str:
        return f"<{show(self.version)}" if self.below else show(self.version)


def target_from_specifier(spec: str, source: str = "") -> Target | None:
    """The newest version a PEP 440 specifier allows (`<1.0`, `==1.2.*`, `~=1.2.0`, `==1.2.3`);
    None when it has no upper bound (the newest client is assumed)."""
    bounds: list[Target] = []
    for clause in (c.strip() for c in spec.split(",")):
        match = re.match(r"^(===|==|~=|<=|<|>=|>|!=)\s*([0-9][0-9A-Za-z.*+!-]*)$", clause)
        if match is None:
            if clause:
                raise VersionError(f"cannot read the requirement {spec!r}")
            continue
        op, text = match.groups()
        if op in ("==", "===") and text.endswith(".*"):
            parts = [int(p) for p in text[:-2].split(".")]
            parts[-1] += 1
            bounds.append(Target(parse_version(".".join(map(str, parts))), below=True, source=source))
        elif op in ("==", "===", "<="):
            bounds.append(Target(parse_version(text), source=source))
        elif op == "<":
            bounds.append(Target(parse_version(text), below=True, source=source))
        elif op == "~=":
            parts = [int(p) for p in re.findall(r"\d+", text)]
            if len(parts) < 2:
                raise VersionError(f"~= needs two version parts: {spec!r}")
            parts = parts[:-1]
            parts[-1] += 1
            bounds.append(Target(parse_version(".".join(map(str, parts))), below=True, source=source))
    if not bounds:
        return None
    return min(bounds, key=lambda t: (t.version, not t.below))


@dataclass(frozen=True)
class RuleVersions:
    """The client versions one rule applies to."""

    code: str
    stops: Version  # the first client where the flagged API fails (or warns: `deprecated`)
    deprecated: bool  # warns from `stops` on rather than fails
    fix_needs: Version | None  # the first client with every API the fix writes


@lru_cache(maxsize=1)
def rule_versions() -> dict[str, RuleVersions]:
    """Per rule code, from `modal_versions.toml`."""
    data = tomllib.loads(read_data(__package__, "modal_versions.toml"))
    apis = data["api"]
    out = {}
    for code, rule in data["rule"].items():
        flagged = [apis[name] for name in rule["flags"]]
        stops = min(parse_version(api.get("removed") or api["deprecated"]) for api in flagged)
        deprecated = all("removed" not in api for api in flagged)
        added = [parse_version(apis[name]["added"]) for name in rule.get("fix-writes", [])]
        out[code] = RuleVersions(code, stops, deprecated, max(added) if added else None)
    return out
