"""Lint (or fix) many files: cache lookups and the text prefilter here, parsing in worker processes.

The parent process stats each file and answers from the cache when it can, else reads the bytes and
runs the prefilter (microseconds per file) and, until the workers are started, the gate on Python's
tree (`analysis.gate`). Only the files that may have findings are parsed: in this process when there
are few, else in a pool of worker processes that is started as soon as 64 KiB of them have turned
up, so that the workers import libcst while the parent is still walking. A run that parses nothing
(no Modal call site anywhere) never imports libcst at all, nor starts a worker.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from modal_gpu_lint.analysis.notebook import is_notebook
from modal_gpu_lint.run.cache import Cache, Hit, digest
from modal_gpu_lint.run.config import Settings
from modal_gpu_lint.run.engine import (
    FileErrorException,
    FileResult,
    lint_bytes,
    may_have_findings,
    needs_libcst,
    read_file,
)

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from modal_gpu_lint.run.fixer import FixResult

R = TypeVar("R")
# Below this much source to parse, worker processes cost more than they save.
PARALLEL_MIN_FILES = 2
PARALLEL_MIN_BYTES = 65_536


def available_cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except OSError:
            pass
    return max(1, os.cpu_count() or 1)


# ---- what a worker does with one file -----------------------------------------------------------
_settings: Settings | None = None


def _init_worker(settings: Settings) -> None:
    global _settings
    _settings = settings
    # Import the parser and the checkers now, while the parent is still walking the tree.
    for module in (
        "libcst",
        "modal_gpu_lint.analysis.positions",
        "modal_gpu_lint.analysis.sites",
        "modal_gpu_lint.rules.registry",
    ):
        importlib.import_module(module)


def _warm() -> None:
    """A no-op task: submitting it starts the worker processes."""


@dataclass(frozen=True)
class _Check:
    """Lint one file; picklable, so the same task runs in-process or in a worker."""

    edits: bool

    def __call__(self, path: str, settings: Settings) -> tuple[str | None, int, FileResult]:
        now = time.time_ns()
        try:
            data = read_file(path)
        except FileErrorException as error:
            return None, now, FileResult(path, error=error.error)
        return digest(data), now, lint_bytes(path, data, settings, edits=self.edits)


@dataclass(frozen=True)
class _Fix:
    """Fix one file (`fix.fix_file`). Its result is never stored in the cache: the file may have changed."""

    unsafe: bool
    write: bool
    diff: bool
    edits: bool

    def __call__(self, path: str, settings: Settings) -> tuple[str | None, int, FixResult]:
        from modal_gpu_lint.run.fixer import fix_file

        result = fix_file(path, settings, unsafe=self.unsafe, write=self.write, diff=self.diff, edits=self.edits)
        return None, 0, result


def _run_task(task: Callable[[str, Settings], tuple[str | None, int, R]], path: str) -> tuple[str | None, int, R]:
    assert _settings is not None
    return task(path, _settings)


# ---- the driver ---------------------------------------------------------------------------------
@dataclass
class _Pending:
    index: int
    path: str
    key: str  # absolute path: the cache key
    info: os.stat_result | None
    size: int


@dataclass
class Stats:
    """What a run did, for `--verbose`-style reporting and tests."""

    files: int = 0
    cached: int = 0
    parsed: int = 0
    workers: int = 0


class _Pool(Generic[R]):
    """Worker processes, started on demand."""

    def __init__(self, settings: Settings, jobs: int) -> None:
        self.settings = settings
        self.jobs = jobs
        self.executor: Executor | None = None

    def start(self) -> None:
        if self.executor is not None or self.jobs < 2:
            return
        from concurrent.futures import ProcessPoolExecutor  # here: 20 ms of imports a cached run does without

        context = None
        if sys.platform.startswith("linux"):
            import multiprocessing

            # fork: the workers start in milliseconds; the executor forks them all before it starts
            # its own thread, so no thread is ever forked.
            context = multiprocessing.get_context("fork")
        self.executor = ProcessPoolExecutor(
            max_workers=self.jobs, mp_context=context, initializer=_init_worker, initargs=(self.settings,)
        )
        self.executor.submit(_warm)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


def _drive(
    paths: Iterable[str],
    settings: Settings,
    task: Callable[[str, Settings], tuple[str | None, int, R]],
    *,
    cached: Callable[[str, Hit], R | None],
    empty: Callable[[str], R],
    error: Callable[[FileErrorException], R],
    store: Callable[[R], FileResult | None],
    edits: bool,
    use_cache: bool,
    jobs: int | None,
    walked: Sequence[str],
    stats: Stats,
) -> list[R]:
    cache = Cache.open(settings) if use_cache else None
    results: dict[int, R] = {}
    pending: list[_Pending] = []
    pending_bytes = 0
    pool: _Pool[R] = _Pool(settings, min(jobs or available_cpus(), 61))  # 61: Windows' limit
    seen: list[str] = []
    try:
        for index, path in enumerate(paths):
            stats.files += 1
            if not settings.codes_for(path):
                results[index] = empty(path)
                continue
            key = os.path.abspath(path)
            seen.append(key)
            try:
                info: os.stat_result | None = os.stat(path)
            except OSError:
                info = None
            if cache is not None and info is not None:
                hit = cache.get_by_stat(key, info, edits)
                answer = cached(path, hit) if hit is not None else None
                if answer is not None:
                    stats.cached += 1
                    results[index] = answer
                    continue
            now = time.time_ns()
            try:
                data = read_file(path, info)
            except FileErrorException as problem:
                results[index] = error(problem)
                continue
            content = digest(data) if cache is not None else ""
            if cache is not None:
                hit = cache.get_by_digest(key, content, info, edits, now)
                answer = cached(path, hit) if hit is not None else None
                if answer is not None:
                    stats.cached += 1
                    results[index] = answer
                    continue
            # Until the workers are started, the gate runs here too: files without a Modal site
            # (most of those the prefilter lets through) then never start them. A notebook's JSON
            # is always checked (its code is gated once it is read out of the cells).
            gate_here = pool.jobs > 1 and pool.executor is None
            if not is_notebook(path) and (not may_have_findings(data) or (gate_here and not needs_libcst(path, data))):
                results[index] = empty(path)
                if cache is not None:
                    cache.put(key, info, content, now, FileResult(path), edits)
                continue
            pending.append(_Pending(index, path, key, info, len(data)))
            pending_bytes += len(data)
            if len(pending) >= PARALLEL_MIN_FILES and pending_bytes >= PARALLEL_MIN_BYTES:
                pool.start()
        stats.parsed = len(pending)
        done = _parse(pending, task, settings, pool)
        stats.workers = pool.jobs if pool.executor is not None else 0
    finally:
        pool.close()
    for item, (content_digest, now, result) in zip(pending, done, strict=False):
        results[item.index] = result
        if cache is not None and content_digest is not None:
            lint = store(result)
            if lint is not None:
                cache.put(item.key, item.info, content_digest, now, lint, edits)
    if cache is not None:
        cache.forget_missing([os.path.abspath(w) for w in walked], seen)
        cache.save()
    return [results[i] for i in range(len(results))]


def _parse(
    pending: list[_Pending],
    task: Callable[[str, Settings], tuple[str | None, int, R]],
    settings: Settings,
    pool: _Pool[R],
) -> list[tuple[str | None, int, R]]:
    """Run `task` on every pending file, in the pool when it was started, in order."""
    if pool.executor is None or len(pending) < PARALLEL_MIN_FILES:
        return [task(item.path, settings) for item in pending]
    # Longest first, so that no worker is left with a big file at the end.
    order = sorted(range(len(pending)), key=lambda i: -pending[i].size)
    chunksize = max(1, len(pending) // (pool.jobs * 8))
    from functools import partial

    answers = pool.executor.map(partial(_run_task, task), [pending[i].path for i in order], chunksize=chunksize)
    by_position = dict(zip(order, answers, strict=False))
    return [by_position[i] for i in range(len(pending))]


# ---- the two entry points -----------------------------------------------------------------------
def lint_paths(
    paths: Iterable[str],
    settings: Settings,
    *,
    edits: bool = False,
    use_cache: bool = True,
    jobs: int | None = None,
    walked: Sequence[str] = (),
    stats: Stats | None = None,
) -> list[FileResult]:
    """Lint every file of `paths` (in order). `walked`: the folders `paths` came from (cache pruning)."""
    return _drive(
        paths,
        settings,
        _Check(edits),
        cached=lambda path, hit: hit.result(path),
        empty=FileResult,
        error=lambda problem: FileResult(problem.error.path, error=problem.error),
        store=lambda result: result,
        edits=edits,
        use_cache=use_cache,
        jobs=jobs,
        walked=walked,
        stats=stats or Stats(),
    )


def fix_paths(
    paths: Iterable[str],
    settings: Settings,
    *,
    unsafe: bool = False,
    write: bool = True,
    diff: bool = False,
    edits: bool = False,
    use_cache: bool = True,
    jobs: int | None = None,
    walked: Sequence[str] = (),
    stats: Stats | None = None,
) -> list[FixResult]:
    """`--fix` / `--diff` on every file of `paths`: a cached file is trusted only when it has no fix
    to apply; every file that is fixed is read, parsed and linted again, never taken from the cache."""
    from modal_gpu_lint.run.fixer import FixResult

    wanted = ("safe", "unsafe") if unsafe else ("safe",)

    def cached(path: str, hit: Hit) -> FixResult | None:
        if hit.error is not None or any(d.fix_applicability in wanted for d in hit.diagnostics):
            return None
        lint = hit.result(path)
        return FixResult(path, diagnostics=lint.diagnostics, suppressed=lint.suppressed)

    return _drive(
        paths,
        settings,
        _Fix(unsafe, write, diff, edits),
        cached=cached,
        empty=FixResult,
        error=lambda problem: FixResult(problem.error.path, error=problem.error),
        store=lambda result: None,  # see _Fix
        edits=edits,
        use_cache=use_cache,
        jobs=jobs,
        walked=walked,
        stats=stats or Stats(),
    )
