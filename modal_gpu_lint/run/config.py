"""`[tool.modal-gpu-lint]` in pyproject.toml, merged with command-line selectors."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from modal_gpu_lint.facts._toml import tomllib
from modal_gpu_lint.facts.catalog import Catalog, CatalogError, default_catalog
from modal_gpu_lint.facts.modal_versions import Target, VersionError, parse_version
from modal_gpu_lint.rules.table import DEFAULT_CODES, RULES  # not .rules: that imports the checkers (and libcst)

SECTION = "modal-gpu-lint"
DEFAULT_FIX_TIMEOUT = 3600
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytest_cache",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pycache__",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
    ".modal-gpu-lint-cache",
)
_KEYS = {
    "select",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "exclude",
    "extend-exclude",
    "fix-timeout",
    "force-exclude",
    "gpus",
    "target-modal-version",
    "upgrade-notes",
}


class ConfigError(ValueError):
    """A configuration problem, with the file and key named in the message."""


@dataclass(frozen=True)
class Settings:
    """Everything that decides the verdicts, for one run."""

    selected: frozenset[str] = DEFAULT_CODES
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    fix_timeout: int = DEFAULT_FIX_TIMEOUT
    force_exclude: bool = False  # apply `exclude` to files named on the command line too
    target: Target | None = None  # the Modal client the project runs; None: the newest
    upgrade_notes: bool = False  # report what stops working on a newer client than `target`
    catalog: Catalog = field(default_factory=default_catalog)
    root: Path = field(default_factory=Path.cwd)
    config_path: Path | None = None
    fingerprint: str = ""  # what the cache key needs to know about the config

    def codes_for(self, path: str) -> frozenset[str]:
        """The codes selected for one file, after `per-file-ignores`."""
        codes = self.selected
        if not self.per_file_ignores:
            return codes
        rel = relative_posix(path, self.root)
        for pattern, ignored in self.per_file_ignores:
            if _matches(rel, pattern):
                codes = codes - ignored
        return codes

    def is_excluded(self, path: str) -> bool:
        """Whether a path found while walking a folder is excluded."""
        return _exclude_matcher(self.exclude)(relative_posix(path, self.root))


@lru_cache(maxsize=16)
def _exclude_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """`any(_matches(rel, p) for p in patterns)`, with the name patterns compiled into one regex
    (called for every file and folder of the tree: fnmatch pattern by pattern was most of a run)."""
    names = [p.rstrip("/") for p in patterns if "/" not in p.rstrip("/")]
    paths = [p for p in patterns if "/" in p.rstrip("/")]
    name = re.compile("|".join(f"(?:{fnmatch.translate(n)})" for n in names)).match if names else None

    def excluded(rel: str) -> bool:
        if name is not None and any(name(part) for part in rel.split("/")):
            return True
        return any(_matches(rel, pattern) for pattern in paths)

    return excluded


def relative_posix(path: str, root: Path) -> str:
    """`path` relative to `root` when inside it, with forward slashes."""
    absolute = os.path.abspath(path)
    prefix = os.path.join(str(root), "")
    if absolute.startswith(prefix) and len(absolute) > len(prefix):  # the common case, without relpath
        rel = absolute[len(prefix) :]
        return rel.replace(os.sep, "/") if os.sep != "/" else rel
    if os.sep == "/":  # the root itself, or outside it (where relpath would start with "..")
        return "." if absolute == str(root) else absolute
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:
        return PurePosixPath(Path(absolute)).as_posix()
    if rel.startswith(".."):
        return Path(absolute).as_posix()
    return Path(rel).as_posix()


def _matches(rel: str, pattern: str) -> bool:
    """gitignore-like: a pattern without `/` matches any path component or the file name."""
    pattern = pattern.rstrip("/")
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in rel.split("/"))
    pattern = pattern[2:] if pattern.startswith("./") else pattern
    return (
        fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(rel, pattern + "/*") or rel.startswith(pattern + "/")
    )


def expand(selector: str, where: str) -> frozenset[str]:
    """The codes a selector names: a code, a prefix (`MGL4`) or `ALL`."""
    key = selector.strip().upper()
    if key == "ALL":
        return frozenset(RULES)
    codes = frozenset(code for code in RULES if code.startswith(key))
    if not key or not codes:
        raise ConfigError(
            f"{where}: unknown rule selector {selector!r} (codes look like MGL001; prefixes like MGL0 work)"
        )
    return codes


def _expand_all(selectors: Iterable[str], where: str) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for selector in selectors:
        out |= expand(selector, where)
    return out


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.modal-gpu-lint] table, from `start` upwards."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
                data = tomllib.loads(text)
            except OSError:
                continue
            except UnicodeDecodeError as error:
                if SECTION.encode() in candidate.read_bytes():  # ours, but unreadable: say so
                    raise ConfigError(
                        f"{candidate}: cannot read: not UTF-8 ({error.reason} at byte {error.start})"
                    ) from None
                continue
            except tomllib.TOMLDecodeError as error:
                if SECTION in text:  # our table is there but unreadable: say so, do not ignore it
                    raise ConfigError(f"{candidate}: invalid TOML: {error}") from None
                continue
            tool = data.get("tool", {})
            if isinstance(tool, Mapping) and SECTION in tool:
                return candidate
    return None


def load_settings(
    config: Path | None = None,
    *,
    select: Sequence[str] | None = None,
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    start: Path | None = None,
    target_modal_version: str | None = None,
    upgrade_notes: bool | None = None,
) -> Settings:
    """Settings from `config` (or the nearest pyproject.toml) and command-line options."""
    path = config if config is not None else find_config((start or Path.cwd()).resolve())
    table: Mapping[str, Any] = {}
    text = ""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except OSError as error:
            raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise ConfigError(f"{path}: cannot read: not UTF-8 ({error.reason} at byte {error.start})") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: invalid TOML: {error}") from None
        tool = data.get("tool", {})
        if not isinstance(tool, Mapping):
            raise ConfigError(f"{path}: [tool] must be a table")
        table = tool.get(SECTION, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"{path}: [tool.{SECTION}] must be a table")
    settings = _settings(table, path, select, extend_select, ignore)
    return _with_target(settings, table, target_modal_version, upgrade_notes)


def _with_target(
    settings: Settings, table: Mapping[str, Any], given: str | None, upgrade_notes: bool | None
) -> Settings:
    """`target-modal-version` from the command line, the config, else the project's `modal` requirement."""
    where = f"{settings.config_path}: [tool.{SECTION}]" if settings.config_path else "config"
    notes = table.get("upgrade-notes", False) if upgrade_notes is None else upgrade_notes
    if not isinstance(notes, bool):
        raise ConfigError(f"{where}: upgrade-notes must be true or false, got {notes!r}")
    written = table.get("target-modal-version")
    target: Target | None
    if given is not None or written is not None:
        text = given if given is not None else written
        origin = "--target-modal-version" if given is not None else f"{where} target-modal-version"
        if not isinstance(text, str):
            raise ConfigError(f'{origin} must be a version string such as "1.2", got {text!r}')
        try:
            target = Target(parse_version(text), source=origin)
        except VersionError as error:
            raise ConfigError(f"{origin}: {error}") from None
    else:
        from modal_gpu_lint.run.modal_target import detect_target

        target = detect_target(settings.root)
    if target is None and not notes:
        return settings
    fingerprint = settings.fingerprint + repr((target and (target.version, target.below), notes))
    return replace(settings, target=target, upgrade_notes=notes, fingerprint=fingerprint)


def _settings(
    table: Mapping[str, Any],
    path: Path | None,
    select: Sequence[str] | None,
    extend_select: Sequence[str],
    ignore: Sequence[str],
) -> Settings:
    where = f"{path}: [tool.{SECTION}]" if path else "config"
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")

    def strings(key: str) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key} must be a list of strings, got {value!r}")
        return value

    chosen = _expand_all(strings("select"), f"{where} select") if "select" in table else DEFAULT_CODES
    if select is not None:
        chosen = _expand_all(select, "--select")
    chosen |= _expand_all(strings("extend-select"), f"{where} extend-select")
    chosen |= _expand_all(extend_select, "--extend-select")
    chosen -= _expand_all(strings("ignore"), f"{where} ignore")
    chosen -= _expand_all(ignore, "--ignore")

    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, Mapping):
        raise ConfigError(f"{where}: per-file-ignores must be a table of pattern = [codes]")
    per_file_ignores = []
    for pattern, codes in per_file.items():
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{where}: per-file-ignores.{pattern!r} must be a list of codes, got {codes!r}")
        per_file_ignores.append((pattern, _expand_all(codes, f"{where} per-file-ignores.{pattern!r}")))

    exclude = tuple(strings("exclude")) if "exclude" in table else DEFAULT_EXCLUDE
    exclude += tuple(strings("extend-exclude"))
    force_exclude = table.get("force-exclude", False)
    if not isinstance(force_exclude, bool):
        raise ConfigError(f"{where}: force-exclude must be true or false, got {force_exclude!r}")

    fix_timeout = table.get("fix-timeout", DEFAULT_FIX_TIMEOUT)
    if isinstance(fix_timeout, bool) or not isinstance(fix_timeout, int) or not 1 <= fix_timeout <= 86400:
        raise ConfigError(
            f"{where}: fix-timeout must be a whole number of seconds from 1 to 86400, got {fix_timeout!r}"
        )

    gpus = table.get("gpus", {})
    if not isinstance(gpus, Mapping):
        raise ConfigError(f"{where}: gpus must be a table of [tool.{SECTION}.gpus.NAME] tables")
    try:
        catalog = default_catalog().with_overrides(gpus) if gpus else default_catalog()
    except CatalogError as error:
        raise ConfigError(f"{where}: {error}") from None

    # Equal in every process for equal settings (sets sorted): the cache key is built on it.
    fingerprint = repr(
        (
            sorted(chosen),
            [(pattern, sorted(codes)) for pattern, codes in per_file_ignores],
            fix_timeout,
            sorted((k, sorted(v.items())) for k, v in gpus.items()),
        )
    )
    return Settings(
        selected=frozenset(chosen),
        per_file_ignores=tuple(per_file_ignores),
        exclude=exclude,
        fix_timeout=fix_timeout,
        force_exclude=force_exclude,
        catalog=catalog,
        root=path.parent.resolve() if path else Path.cwd().resolve(),
        config_path=path,
        fingerprint=fingerprint,
    )
