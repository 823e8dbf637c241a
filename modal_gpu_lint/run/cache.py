"""The result cache: what linting each file gave, so that an unchanged file is not read again.

One index file per configuration in `.modal-gpu-lint-cache/` at the project root (the folder of the
pyproject.toml in force, else the working folder), or in `$MODAL_GPU_LINT_CACHE_DIR`. The index
file's name is the run key: a digest of this package's version and code, the packaged GPU catalog
and every setting (selection, per-file-ignores, fix-timeout, the catalog with the user's additions,
the project root). Each entry is keyed by the file's absolute path and the digest of its bytes,
and stores the diagnostics (or the read/parse error) of that content.

An entry is found by `(size, mtime_ns, ctime_ns, inode)` without reading the file, as ruff and git
do, or else by the content digest. A stat match is trusted only when the file was last changed
well before the entry was made (git's "racily clean" rule), so a file edited in the same
timestamp tick as the last run is read and hashed again. A cache that cannot be read (corrupt,
from another version, unwritable) is ignored; writes go to a temporary file and `os.replace`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any

from modal_gpu_lint.findings import Diagnostic, Edit
from modal_gpu_lint.run.config import Settings
from modal_gpu_lint.run.engine import FileError, FileResult

FOLDER = ".modal-gpu-lint-cache"
ENV_FOLDER = "MODAL_GPU_LINT_CACHE_DIR"
FORMAT = 1
KEEP = 8  # index files kept (one per configuration), most recently used first
RACY_NS = 2_000_000_000  # coarser than any file system's timestamps (FAT: 2 s)
_PACKAGE = Path(__file__).resolve().parent.parent  # the whole package: rules and facts too, not only run/


def digest(data: bytes) -> str:
    """The content digest that keys an entry."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@lru_cache(maxsize=1)
def package_digest() -> str:
    """A digest of this package's own sources and data, so that an edited checker never serves old results."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in _PACKAGE.rglob("*") if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts):
        h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"?")
        h.update(b"\0")
    return h.hexdigest()


@lru_cache(maxsize=1)
def parser_version() -> str:
    """libcst's version file, found without importing libcst (a new parser may accept new syntax)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("libcst")
        locations = list(spec.submodule_search_locations or []) if spec else []
        return Path(locations[0], "_version.py").read_text(encoding="utf-8") if locations else "?"
    except (ImportError, OSError, ValueError):
        return "?"


def canonical(value: object) -> str:
    """A text that is equal for equal settings in any process (sets sorted, dataclasses by field)."""
    if is_dataclass(value) and not isinstance(value, type):
        items = ",".join(f"{f.name}={canonical(getattr(value, f.name))}" for f in fields(value) if f.compare)
        return f"{type(value).__name__}({items})"
    if isinstance(value, (frozenset, set)):
        return "{" + ",".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, Mapping):
        return "{" + ",".join(sorted(f"{canonical(k)}:{canonical(v)}" for k, v in value.items())) + "}"
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, PurePath):
        return repr(str(value))
    return repr(value)


def run_key(settings: Settings, *, version: str | None = None, catalog: str | None = None) -> str:
    """The key of every entry made with these settings by this build of the linter."""
    import modal_gpu_lint
    from modal_gpu_lint.facts.catalog import catalog_text

    parts = (
        FORMAT,
        modal_gpu_lint.__version__ if version is None else version,
        catalog_text() if catalog is None else catalog,
        package_digest(),
        settings.fingerprint,
        canonical(settings),
        sys.version_info[:2],  # libcst's parser and `compile` may differ between Pythons
        parser_version(),
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def folder_for(settings: Settings) -> Path:
    """Where the cache lives for these settings."""
    override = os.environ.get(ENV_FOLDER)
    return Path(override) if override else Path(settings.root) / FOLDER


def _stat_key(info: os.stat_result) -> list[int]:
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


@dataclass(frozen=True)
class Hit:
    """A cached result; `path` is set by `result`."""

    diagnostics: tuple[Diagnostic, ...]
    error: FileError | None
    suppressed: int

    def result(self, path: str) -> FileResult:
        """The cached result for the file as the user named it."""
        diagnostics = [_with_path(d, path) for d in self.diagnostics]
        error = replace(self.error, path=path) if self.error else None
        return FileResult(path, diagnostics, error, self.suppressed)


def _with_path(d: Diagnostic, path: str) -> Diagnostic:
    values = {f.name: getattr(d, f.name) for f in fields(Diagnostic)}
    values["path"] = path
    return Diagnostic(**values)


class Cache:
    """The index of one configuration; `get_*` then `put` per file, then `save` once."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key
        self.index_path = folder / f"{key}.json"
        self.entries: dict[str, list[Any]] = {}
        self.dirty = False
        self._load()

    @classmethod
    def open(cls, settings: Settings) -> Cache:
        """The cache for these settings (empty when there is none yet or it cannot be read)."""
        return cls(folder_for(settings), run_key(settings))

    def _load(self) -> None:
        try:
            data = json.loads(self.index_path.read_bytes())
        except (OSError, ValueError):
            return
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != self.key:
            return
        entries = data.get("files")
        if isinstance(entries, dict):
            self.entries = entries

    # ---- lookups ------------------------------------------------------------------------------
    def get_by_stat(self, path: str, info: os.stat_result, edits: bool) -> Hit | None:
        """The entry for `path` when the file is unchanged by its stat (no read needed)."""
        entry = self.entries.get(path)
        if not isinstance(entry, list) or len(entry) != 8 or entry[0] != _stat_key(info):
            return None
        checked = entry[1]
        if not isinstance(checked, int) or max(info.st_mtime_ns, info.st_ctime_ns) >= checked - RACY_NS:
            return None  # changed shortly before it was read: the same stat may hide another content
        return self._hit(entry, edits)

    def get_by_digest(self, path: str, content: str, info: os.stat_result | None, edits: bool, now: int) -> Hit | None:
        """The entry for `path` when its content is the same as when the entry was made."""
        entry = self.entries.get(path)
        if not isinstance(entry, list) or len(entry) != 8 or entry[2] != content:
            return None
        hit = self._hit(entry, edits)
        if hit is not None and info is not None and (entry[0] != _stat_key(info) or entry[1] != now):
            entry[0], entry[1] = _stat_key(info), now
            self.dirty = True
        return hit

    def _hit(self, entry: list[Any], edits: bool) -> Hit | None:
        if edits and not entry[3]:
            return None  # made without the fix edits JSON output shows
        try:
            return Hit(tuple(_diagnostic(d) for d in entry[6]), _error(entry[5]), _int(entry[4]))
        except (TypeError, ValueError, IndexError, KeyError):
            return None  # a damaged entry is a miss

    # ---- updates ------------------------------------------------------------------------------
    def put(
        self, path: str, info: os.stat_result | None, content: str, now: int, result: FileResult, edits: bool
    ) -> None:
        """Remember what linting `content` (read at time `now`, with `info` from before the read) gave."""
        error = (
            [result.error.message, result.error.row, result.error.column, result.error.cell] if result.error else None
        )
        stat_key = _stat_key(info) if info is not None else None
        self.entries[path] = [
            stat_key,
            now,
            content,
            edits,
            result.suppressed,
            error,
            [_encode(d) for d in result.diagnostics],
            0,  # reserved
        ]
        self.dirty = True

    def forget_missing(self, folders: Iterable[str], seen: Iterable[str]) -> None:
        """Drop entries of files under `folders` (walked this run) that were not found there."""
        prefixes = tuple(os.path.join(f, "") for f in folders)
        if not prefixes:
            return
        present = set(seen)
        for path in [p for p in self.entries if p.startswith(prefixes) and p not in present]:
            del self.entries[path]
            self.dirty = True

    def save(self) -> None:
        """Write the index atomically (and the folder's .gitignore); failures are ignored."""
        if not self.dirty:
            return
        try:
            _prepare(self.folder)
            payload = json.dumps(
                {"format": FORMAT, "key": self.key, "files": self.entries}, separators=(",", ":")
            ).encode()
            handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(payload)
                os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; a cache need not be
                os.replace(temporary, self.index_path)
            except BaseException:
                _unlink(temporary)
                raise
            self.dirty = False
            _prune(self.folder, self.index_path)
        except OSError:
            pass  # a read-only checkout: run without a cache


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _prepare(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Automatically created by modal-gpu-lint.\n*\n", encoding="utf-8")
    tag = folder / "CACHEDIR.TAG"
    if not tag.exists():  # https://bford.info/cachedir/ : backup tools skip this folder
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by modal-gpu-lint.\n",
            encoding="utf-8",
        )


def _prune(folder: Path, keep: Path) -> None:
    """Keep the KEEP most recently written index files; remove stale temporary files."""
    now = time.time()
    indexes = []
    for path in folder.iterdir():
        try:
            if path.name.startswith(".index-") and now - path.stat().st_mtime > 3600:
                _unlink(str(path))
            elif path.suffix == ".json" and path != keep:
                indexes.append((path.stat().st_mtime, path))
        except OSError:
            continue
    indexes.sort(reverse=True)
    for _, path in indexes[KEEP - 1 :]:
        _unlink(str(path))


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


# ---- entry encoding (plain JSON: a cache folder is not trusted with pickle) --------------------
def _encode(d: Diagnostic) -> list[Any]:
    values: list[Any] = []
    for f in fields(Diagnostic):
        if f.name == "path":
            continue
        value = getattr(d, f.name)
        if f.name == "edits":
            value = [[e.content, e.row, e.column, e.end_row, e.end_column] for e in value]
        values.append(value)
    return values


def _diagnostic(values: list[Any]) -> Diagnostic:
    names = [f.name for f in fields(Diagnostic) if f.name != "path"]
    if not isinstance(values, list) or len(values) != len(names):
        raise ValueError("not a diagnostic")
    given = dict(zip(names, values, strict=False))
    for name in ("code", "message", "fix_message"):
        if name in given and not isinstance(given[name], str):
            raise ValueError(name)
    for name in ("row", "column", "end_row", "end_column"):
        if name in given:
            given[name] = _int(given[name])
    if given.get("cell") is not None:
        given["cell"] = _int(given["cell"])
    if given.get("fix_applicability") not in (None, "safe", "unsafe"):
        raise ValueError("fix_applicability")
    given["edits"] = tuple(_edit(e) for e in given.get("edits", ()))
    return Diagnostic(path="", **given)


def _edit(values: list[Any]) -> Edit:
    content, row, column, end_row, end_column = values
    if not isinstance(content, str):
        raise ValueError("edit")
    return Edit(content, _int(row), _int(column), _int(end_row), _int(end_column))


def _error(values: list[Any] | None) -> FileError | None:
    if values is None:
        return None
    message, row, column, cell = values
    if not isinstance(message, str):
        raise ValueError("error")
    return FileError("", message, _int(row), _int(column), None if cell is None else _int(cell))


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not an int")
    return value
