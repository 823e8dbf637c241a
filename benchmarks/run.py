#!/usr/bin/env python3
"""Time modal-gpu-lint against its peers on the generated corpus, side by side.

For each tree of the corpus (``modal/``: about 182 Modal programs, 1.4 MB; ``mixed/``: about
40 MB of ordinary Python with 5% Modal files), every available tool runs ``--runs`` times and one
table per tree shows the median, min and max wall time, CPU time, peak memory and the ratio to
modal-gpu-lint's cold run, followed by the speed and memory goals marked PASS / FAIL / n.a.

Tools (``--only`` keys): mgl-cold, mgl-warm (or ``mgl`` for both), base-cold (another install's
cold run, ``--baseline``), torchfix, fixit, flake8, flake8+mgl (flake8 with the plugin, default
checks), flake8-mgl (only the plugin's codes), ruff, libcst, ast. Executables are looked for next
to ``sys.executable``, then in each ``--peers-bin`` folder, then on PATH; a missing or broken
tool is skipped with a note.

Each run is one child process. Wall time and CPU time (user + system, including the worker
processes the tool waited for) come from ``os.wait4``. Memory: "RSS MB" is the peak RSS of the
largest single process, from GNU ``time -f %M`` wrapped around the command when /usr/bin/time is
GNU time, else from the per-process VmHWM sampled in /proc (``ru_maxrss`` from ``os.wait4`` alone
would be wrong: exec keeps the high-water mark of the memory the child was forked from, so every
child would show the runner's own RSS as a floor); "tree MB" is the peak of the RSS summed over
the whole process tree, sampled every 10 ms from /proc (what a tool that forks workers holds at
once). Runs are interleaved round-robin across tools, so that a change of machine load hits all
tools alike. Exit codes 0 and 1 are normal for linters; anything else, or a Python traceback,
marks the tool as failed and prints the end of its stderr.

Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import make_corpus  # noqa: E402  (a sibling script, found through the path set just above)

CACHE_DIR_NAME = ".modal-gpu-lint-cache"
TREES = ("modal", "mixed")
TOOL_KEYS = (
    "mgl-cold",
    "mgl-warm",
    "base-cold",
    "torchfix",
    "fixit",
    "flake8",
    "flake8+mgl",
    "flake8-mgl",
    "ruff",
    "libcst",
    "ast",
)
PEERS = ("torchfix", "fixit", "flake8", "flake8+mgl", "flake8-mgl", "ruff", "libcst", "ast")
BASE_GOAL = 2.0  # base-cold / mgl-cold must be at least this (the gate's speed-up over the baseline)
FLAKE8_OVERHEAD = 1.3  # flake8+mgl / flake8 must be at most this
RSS_LIMIT_MB = 150.0
COLD_GOAL = {"modal": 10.0, "mixed": 5.0}  # torchfix / mgl-cold must be at least this
WARM_FACTOR, WARM_SLACK = 2.0, 0.25  # warm <= 2 * ruff cold + 0.25 s

PARSE_SCRIPT = """\
import os, sys
{import_line}
n = bad = 0
for root, dirs, files in os.walk(sys.argv[1]):
    dirs.sort()
    for name in sorted(files):
        if name.endswith(".py"):
            with open(os.path.join(root, name), "rb") as handle:
                data = handle.read()
            n += 1
            try:
                {parse_call}
            except Exception:
                bad += 1
print(f"parsed {{n}} files, {{bad}} failed")
"""
LIBCST_SCRIPT = PARSE_SCRIPT.format(import_line="import libcst", parse_call="libcst.parse_module(data)")
AST_SCRIPT = PARSE_SCRIPT.format(import_line="import ast", parse_call="ast.parse(data)")


# --------------------------------------------------------------------------------------------
# Finding the tools
# --------------------------------------------------------------------------------------------


@dataclass
class Tool:
    key: str
    argv: list[str]  # "{tree}" stands for the tree's path
    path: str = ""  # the executable (or interpreter) used
    version: str = ""
    env: dict[str, str] = field(default_factory=dict)
    cold_cache: bool = False  # delete the linter's cache folder before every timed run
    prime: bool = False  # one untimed run first, so that the cache is in place
    ok_codes: tuple[int, ...] = (0, 1)
    note: str = ""


def search_dirs(peers_bin: Sequence[str]) -> list[Path]:
    """Where to look for executables: next to sys.executable, then --peers-bin, then PATH."""
    dirs = [Path(sys.executable).parent]  # not resolved: a venv's bin/ holds symlinks
    dirs += [Path(p).expanduser() for p in peers_bin]
    dirs += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def candidates(name: str, dirs: Sequence[Path]) -> list[str]:
    found: list[str] = []
    for d in dirs:
        exe = d / name
        if exe.is_file() and os.access(exe, os.X_OK) and str(exe) not in found:
            found.append(str(exe))
    return found


_PROBES: dict[tuple[str, ...], tuple[bool, str]] = {}


def probe(argv: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> tuple[bool, str]:
    """Run a quick command (a --version); return (worked, its output or the end of its stderr)."""
    key = (*argv, *(f"{k}={v}" for k, v in sorted((env or {}).items())))
    if key not in _PROBES:
        _PROBES[key] = _probe(argv, env, timeout)
    return _PROBES[key]


def _probe(argv: list[str], env: dict[str, str] | None, timeout: float) -> tuple[bool, str]:
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
            env={**os.environ, **(env or {})},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    text = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or "Traceback (most recent call last)" in proc.stderr:
        return False, tail(proc.stderr or proc.stdout, 600)
    return True, " ".join(text.split())  # argparse wraps long --version texts


def tail(text: str, n: int = 1200) -> str:
    text = text.strip()
    return text if len(text) <= n else "..." + text[-n:]


def python_with(module: str, dirs: Sequence[Path]) -> tuple[str, str] | None:
    """An interpreter that can import ``module`` (this one first), with the module's version."""
    pythons = [sys.executable] + [p for d in dirs[1:] for p in candidates("python3", [d])]
    code = (
        f"import {module}, importlib.metadata as m, sys; "
        f"print({module!r}, m.version({module!r}) if {module!r} != 'ast' else sys.version.split()[0])"
    )
    for py in dict.fromkeys(pythons):
        ok, out = probe([py, "-c", code])
        if ok:
            return py, out
    return None


def resolve_tools(
    keys: Sequence[str], dirs: Sequence[Path], baseline: Path | None = None
) -> tuple[list[Tool], dict[str, str]]:
    """The runnable tools among ``keys``, and a reason for each one skipped (``base-cold`` needs
    ``baseline``: a folder holding another install's ``modal-gpu-lint``)."""
    tools: list[Tool] = []
    skipped: dict[str, str] = {}

    def first_working(
        name: str, version_args: Sequence[str] = ("--version",), rank: Callable[[str], int | None] | None = None
    ) -> tuple[str, str] | str:
        """(path, version) of the first candidate that answers, best ``rank`` (of its version
        text; None = unusable) first; else the reason why none would do."""
        found = candidates(name, dirs)
        if not found:
            return f"{name} not found (looked next to {sys.executable}, in --peers-bin folders and on PATH)"
        errors: list[str] = []
        matches: list[tuple[int, str, str]] = []
        for exe in found:
            ok, out = probe([exe, *version_args])
            if not ok:
                errors.append(f"{exe} {' '.join(version_args)} failed:\n{out}")
                continue
            score = rank(out) if rank else 0
            if score is None:
                errors.append(f"{exe} does not qualify ({out})")
                continue
            matches.append((score, exe, out))
        if matches:
            best = min(matches, key=lambda m: m[0])  # min() keeps the first of equals: search order
            return best[1], best[2]
        return "\n".join(errors)

    mgl_needed = any(k.startswith("mgl") for k in keys)
    mgl: tuple[str, str] | str = "not requested"
    mgl_argv: list[str] = []
    mgl_env: dict[str, str] = {}
    if mgl_needed:
        mgl = first_working("modal-gpu-lint")
        if isinstance(mgl, str):
            alt = first_working("modal-gpu-lint", ("--help",))
            if not isinstance(alt, str):
                mgl = (alt[0], "(no --version)")
        if not isinstance(mgl, str):
            mgl_argv = [mgl[0]]
        elif (REPO / "modal_gpu_lint" / "__main__.py").exists():
            mgl_env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}
            ok, out = probe([sys.executable, "-m", "modal_gpu_lint", "--version"], env=mgl_env)
            if ok:
                mgl = (f"{sys.executable} -m modal_gpu_lint", out)
                mgl_argv = [sys.executable, "-m", "modal_gpu_lint"]
    for key in keys:
        if key in ("mgl-cold", "mgl-warm"):
            if isinstance(mgl, str):
                skipped[key] = mgl
                continue
            cold = key == "mgl-cold"
            tools.append(
                Tool(
                    key,
                    [*mgl_argv, *(["--no-cache"] if cold else []), "{tree}"],
                    mgl[0],
                    mgl[1],
                    env=mgl_env,
                    cold_cache=cold,
                    prime=not cold,
                )
            )
        elif key == "base-cold":
            exe = baseline / "modal-gpu-lint" if baseline is not None else None
            if exe is None or not exe.is_file():
                skipped[key] = "no --baseline folder holding a modal-gpu-lint"
                continue
            ok, out = probe([str(exe), "--version"])
            if not ok:
                skipped[key] = f"{exe} --version failed:\n{out}"
                continue
            tools.append(Tool(key, [str(exe), "--no-cache", "{tree}"], str(exe), out, cold_cache=True))
        elif key in ("torchfix", "ruff"):
            found = first_working(key)
            if isinstance(found, str):
                skipped[key] = found
                continue
            argv = [found[0], "{tree}"]
            if key == "ruff":
                argv = [found[0], "check", "--no-cache", "--isolated", "{tree}"]
            tools.append(Tool(key, argv, found[0], found[1]))
        elif key == "fixit":
            found = first_working("fixit")
            if isinstance(found, str):
                skipped[key] = found
                continue
            # fixit sets bit 2 of its exit code when a file could not be linted: noted, not fatal
            tools.append(Tool(key, [found[0], "lint", "{tree}"], found[0], found[1], ok_codes=(0, 1, 2, 3)))
        elif key == "flake8":
            # the peer baseline is flake8 with its default checks and no plugin (torchfix and
            # modal-gpu-lint both register one, which every flake8 run then executes)
            found = first_working("flake8", rank=lambda v: (2 if has_mgl_plugin(v) else 1) if extra_plugins(v) else 0)
            if isinstance(found, str):
                skipped[key] = found
                continue
            extras = extra_plugins(found[1])
            note = (
                (
                    f"this flake8 also runs the plugins {', '.join(extras)} (no flake8 without plugins was found; "
                    "install one in its own venv and pass --peers-bin)"
                )
                if extras
                else ""
            )
            tools.append(Tool(key, [found[0], "{tree}"], found[0], found[1], note=note))
        elif key in ("flake8-mgl", "flake8+mgl"):
            found = first_working("flake8", rank=lambda v: len(extra_plugins(v)) if has_mgl_plugin(v) else None)
            if isinstance(found, str):
                skipped[key] = "no flake8 with the modal-gpu-lint plugin registered:\n" + found
                continue
            # flake8+mgl: what a user who installs the plugin runs (default checks and the plugin)
            select = ["--select", "MGL"] if key == "flake8-mgl" else []
            tools.append(Tool(key, [found[0], *select, "{tree}"], found[0], found[1]))
        elif key in ("libcst", "ast"):
            found_py = python_with(key, dirs)
            if found_py is None:
                skipped[key] = f"no Python interpreter here can import {key}"
                continue
            script = LIBCST_SCRIPT if key == "libcst" else AST_SCRIPT
            tools.append(
                Tool(
                    key, [found_py[0], "-c", script, "{tree}"], found_py[0], found_py[1], note="parse only, one process"
                )
            )
    return tools, skipped


def has_mgl_plugin(version_text: str) -> bool:
    return any(p.lower().replace("_", "-") == "modal-gpu-lint" for p in extra_plugins(version_text))


def extra_plugins(flake8_version: str) -> list[str]:
    """Plugins beyond flake8's own three, from `flake8 --version`: "7.5.0 (TorchFix: 0.7.0, mccabe: ...)"."""
    match = re.search(r"\(([^)]*)\)", flake8_version)
    if not match:
        return []
    names = [part.split(":")[0].strip() for part in match.group(1).split(",")]
    return [n for n in names if n and n not in ("mccabe", "pycodestyle", "pyflakes")]


# --------------------------------------------------------------------------------------------
# Measuring one run
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float  # user + system of the child and the children it waited for
    max_rss_mb: float  # ru_maxrss: the largest single process
    tree_rss_mb: float | None  # sampled sum over the process tree (None: no /proc)
    code: int
    out_lines: int
    failed: str = ""
    stderr_tail: str = ""


HAVE_PROC = Path("/proc/self/statm").exists()


def _gnu_time() -> str | None:
    """GNU time, if it is there: its %M is the true peak RSS of the command it runs.

    os.wait4's ru_maxrss cannot give that: exec keeps the high-water mark of the memory the
    child was forked from, so every child of this Python process would show this process's RSS
    as a floor. A command forked by the small `time` program starts from a floor of about 1 MB.
    """
    exe = shutil.which("time", path="/usr/bin:/bin:/usr/local/bin")
    if not exe:
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as fh:
        try:
            proc = subprocess.run(
                [exe, "-f", "%M", "-o", fh.name, "true"], capture_output=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        ok = proc.returncode == 0 and fh.read().strip().isdigit()
    return exe if ok else None


GNU_TIME = _gnu_time()
RSS_SOURCE = (
    "GNU time %M"
    if GNU_TIME
    else "sampled VmHWM from /proc"
    if HAVE_PROC
    else "os.wait4 ru_maxrss (includes the runner's own RSS as a floor)"
)


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids += [int(x) for x in fh.read().split()]
    except (OSError, ValueError):
        pass
    return kids


def _status_kb(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a live process in kB, or None."""
    rss = hwm = -1
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return (rss, hwm) if rss >= 0 and hwm >= 0 else None


class TreeSampler(threading.Thread):
    """Samples a process and its descendants every ``interval`` seconds: the peak of their summed
    RSS (what the tree holds at once) and each process's own high-water mark (VmHWM)."""

    def __init__(self, pid: int, skip_root: bool, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.skip_root = skip_root  # the GNU time wrapper: not part of the tool
        self.interval = interval
        self.peak_sum_kb = 0
        self.hwm_kb: dict[int, int] = {}
        self.done = threading.Event()

    def sample(self) -> None:
        total = 0
        stack = [self.pid]
        seen: set[int] = set()
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            kids = _children(pid)
            stack += kids
            if pid == self.pid and self.skip_root:
                continue
            got = _status_kb(pid)
            if got is None:
                continue
            total += got[0]
            self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), got[1])
        self.peak_sum_kb = max(self.peak_sum_kb, total)

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(self.interval)


def tool_environment() -> dict[str, str]:
    """This environment, minus PYTHONDONTWRITEBYTECODE: as installed for real, every tool keeps
    its compiled bytecode between runs (pip compiles the peers' at install time; an editable
    install of modal-gpu-lint would otherwise compile its own sources on every run)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Run:
    """Run one command to its end; measure wall and CPU time (os.wait4) and memory."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file,
    ):
        full = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv] if GNU_TIME else argv
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            full,
            cwd=cwd,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={**tool_environment(), **env},
            start_new_session=True,
        )
        sampler = TreeSampler(proc.pid, skip_root=GNU_TIME is not None) if HAVE_PROC else None
        if sampler:
            sampler.start()
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)  # the tool and the workers it started

        timer = threading.Timer(timeout, kill)
        timer.start()
        wait4_rss_mb = float("nan")
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime  # includes the children the tool waited for
            wait4_rss_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)
        else:  # no wait4 (Windows): wall time only
            proc.wait()
            wall = time.perf_counter() - t0
            cpu = float("nan")
        timer.cancel()
        max_rss_mb = wait4_rss_mb
        tree_mb: float | None = None
        if sampler:
            sampler.done.set()
            sampler.join()
            if sampler.hwm_kb:
                max_rss_mb = max(sampler.hwm_kb.values()) / 1024
            tree_mb = sampler.peak_sum_kb / 1024
        if GNU_TIME:
            numbers = [line.strip() for line in rss_file.read().splitlines() if line.strip().isdigit()]
            if numbers:
                max_rss_mb = int(numbers[-1]) / 1024
        if tree_mb is not None:
            tree_mb = max(tree_mb, max_rss_mb)
        out.seek(0)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: out.read(1 << 20), b""))
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    code = proc.returncode
    failed = ""
    if timed_out.is_set():
        failed = f"timed out after {timeout:.0f} s"
    elif code < 0:
        failed = f"killed by signal {-code}"
    elif "Traceback (most recent call last)" in stderr and code == 1:
        failed = "crashed (Python traceback):\n" + tail(stderr)
    return Run(wall, cpu, max_rss_mb, tree_mb, code, lines, failed, tail(stderr))


# --------------------------------------------------------------------------------------------
# Benchmarking a tree
# --------------------------------------------------------------------------------------------


@dataclass
class Result:
    tool: str
    runs: list[Run] = field(default_factory=list)
    failed: str = ""
    notes: list[str] = field(default_factory=list)

    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def median(self) -> float | None:
        return statistics.median(self.walls()) if self.runs and not self.failed else None

    def summary(self) -> dict[str, Any]:
        ok = bool(self.runs) and not self.failed
        tree_rss = [r.tree_rss_mb for r in self.runs if r.tree_rss_mb is not None]
        return {
            "median_s": self.median,
            "min_s": min(self.walls()) if ok else None,
            "max_s": max(self.walls()) if ok else None,
            "cpu_median_s": statistics.median(r.cpu for r in self.runs) if ok else None,
            "max_rss_mb": max(r.max_rss_mb for r in self.runs) if ok else None,
            "tree_rss_mb": max(tree_rss) if ok and tree_rss else None,
            "exit_codes": sorted({r.code for r in self.runs}),
            "out_lines": self.runs[-1].out_lines if self.runs else None,
            "failed": self.failed,
            "notes": self.notes,
            "runs": [asdict(r) for r in self.runs],
        }

    def peak_mb(self) -> float | None:
        if not self.runs or self.failed:
            return None
        values = [r.tree_rss_mb if r.tree_rss_mb is not None else r.max_rss_mb for r in self.runs]
        return max(values)


def clear_cache(workdir: Path) -> None:
    shutil.rmtree(workdir / CACHE_DIR_NAME, ignore_errors=True)


def warm_page_cache(tree: Path) -> None:
    """Read every file once, so that no tool pays for the first read from disk."""
    for root, _dirs, files in os.walk(tree):
        for name in files:
            with open(os.path.join(root, name), "rb") as fh:
                while fh.read(1 << 20):
                    pass


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bench_tree(name: str, tree: Path, tools: Sequence[Tool], runs: int, timeout: float) -> dict[str, Result]:
    """Run every tool ``runs`` times on ``tree``, round-robin; each tool in its own empty cwd."""
    warm_page_cache(tree)
    results = {t.key: Result(t.key) for t in tools}
    workdirs = {t.key: Path(tempfile.mkdtemp(prefix=f"mgl-bench-{t.key}-")) for t in tools}

    def argv_for(tool: Tool) -> list[str]:
        return [str(tree) if a == "{tree}" else a for a in tool.argv]

    def judge(tool: Tool, run: Run) -> str:
        if run.failed:
            return run.failed
        if run.code not in tool.ok_codes:
            return f"exit code {run.code}:\n{run.stderr_tail}"
        return ""

    try:
        for tool in tools:
            if tool.prime:
                clear_cache(workdirs[tool.key])
                say(f"[{name}] priming {tool.key} ...")
                run = run_once(argv_for(tool), workdirs[tool.key], tool.env, timeout)
                problem = judge(tool, run)
                if problem:
                    results[tool.key].failed = f"priming run failed: {problem}"
                elif not (workdirs[tool.key] / CACHE_DIR_NAME).exists():
                    results[tool.key].notes.append(f"no {CACHE_DIR_NAME} folder in the cwd after priming")
        for i in range(runs):
            for tool in tools:
                res = results[tool.key]
                if res.failed:
                    continue
                if tool.cold_cache:
                    clear_cache(workdirs[tool.key])
                run = run_once(argv_for(tool), workdirs[tool.key], tool.env, timeout)
                problem = judge(tool, run)
                if problem:
                    res.failed = problem
                    say(f"[{name}] run {i + 1}/{runs} {tool.key:<10} FAILED: {problem.splitlines()[0]}")
                    continue
                if tool.key == "fixit" and run.code & 2 and not any("exit code" in n for n in res.notes):
                    res.notes.append(f"exit code {run.code}: fixit could not lint some files")
                res.runs.append(run)
                say(f"[{name}] run {i + 1}/{runs} {tool.key:<10} {run.wall:8.2f} s  exit {run.code}")
    finally:
        for d in workdirs.values():
            shutil.rmtree(d, ignore_errors=True)
    return results


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None or math.isnan(value) else format(value, spec)


def table(
    name: str, info: dict[str, Any], tools: Sequence[Tool], results: dict[str, Result], runs: int, tree: Path
) -> list[str]:
    lines = [
        (
            f"== {name}: {info['files']} files, {info['bytes'] / 1e6:.2f} MB ({tree}); "
            f"median of {runs} run{'s' if runs != 1 else ''} =="
        )
    ]
    header = (
        f"{'tool':<12}{'median s':>10}{'min s':>9}{'max s':>9}{'cpu s':>9}{'RSS MB':>9}{'tree MB':>9}"
        f"{'out lines':>11}{'vs mgl-cold':>13}"
    )
    lines += [header, "-" * len(header)]
    base = results.get("mgl-cold")
    base_median = base.median if base else None
    for tool in tools:
        res = results[tool.key]
        if res.failed:
            lines.append(f"{tool.key:<12}{'FAILED':>10}   {res.failed.splitlines()[0][:70]}")
            continue
        s = res.summary()
        ratio = f"{s['median_s'] / base_median:.1f}x" if base_median and s["median_s"] is not None else "-"
        lines.append(
            f"{tool.key:<12}{fmt(s['median_s']):>10}{fmt(s['min_s']):>9}{fmt(s['max_s']):>9}"
            f"{fmt(s['cpu_median_s']):>9}{fmt(s['max_rss_mb'], '.0f'):>9}{fmt(s['tree_rss_mb'], '.0f'):>9}"
            f"{s['out_lines'] if s['out_lines'] is not None else '-':>11}{ratio:>13}"
        )
    for tool in tools:
        res = results[tool.key]
        for note in ([tool.note] if tool.note else []) + res.notes:
            lines.append(f"  note: {tool.key}: {note}")
        if res.failed:
            lines.append(f"  {tool.key} failed: " + res.failed.replace("\n", "\n    "))
    return lines


def goals(name: str, results: dict[str, Result]) -> list[dict[str, Any]]:
    def med(key: str) -> float | None:
        res = results.get(key)
        return res.median if res else None

    def cpu(key: str) -> float | None:
        res = results.get(key)
        value = res.summary()["cpu_median_s"] if res else None
        return float(value) if value is not None and not math.isnan(value) else None

    cold, warm, torchfix, ruff = med("mgl-cold"), med("mgl-warm"), med("torchfix"), med("ruff")
    base, flake8, flake8_mgl = med("base-cold"), med("flake8"), med("flake8+mgl")
    out: list[dict[str, Any]] = []

    def add(goal: str, passed: bool | None, detail: str, *, info: bool = False) -> None:
        status = "info" if info else "n.a." if passed is None else "PASS" if passed else "FAIL"
        out.append({"goal": goal, "status": status, "detail": detail})

    def missing(*pairs: tuple[str, float | None]) -> str:
        return "no result for " + ", ".join(k for k, v in pairs if v is None)

    need = COLD_GOAL[name]
    goal = f"cold run >= {need:g}x faster than torchfix"
    if cold is not None and torchfix is not None:
        ratio = torchfix / cold
        detail = f"torchfix {torchfix:.2f} s / mgl-cold {cold:.2f} s = {ratio:.1f}x"
        cpu_cold, cpu_torchfix = cpu("mgl-cold"), cpu("torchfix")
        if cpu_cold and cpu_torchfix:  # steadier than wall time on a busy machine; for information
            detail += f" (CPU time: {cpu_torchfix / cpu_cold:.1f}x)"
        add(goal, ratio >= need, detail)
    else:
        add(goal, None, missing(("mgl-cold", cold), ("torchfix", torchfix)))
    goal = f"warm run <= {WARM_FACTOR:g} x ruff cold + {WARM_SLACK} s"
    if warm is not None and ruff is not None:
        limit = WARM_FACTOR * ruff + WARM_SLACK
        add(
            goal,
            warm <= limit,
            f"mgl-warm {warm:.2f} s vs limit {WARM_FACTOR:g} x {ruff:.2f} + {WARM_SLACK} = {limit:.2f} s",
        )
    else:
        add(goal, None, missing(("mgl-warm", warm), ("ruff", ruff)))
    if base is not None and cold is not None:
        detail = f"base-cold {base:.2f} s / mgl-cold {cold:.2f} s = {base / cold:.2f}x"
        cpu_cold, cpu_base = cpu("mgl-cold"), cpu("base-cold")
        if cpu_cold and cpu_base:
            detail += f" (CPU time: {cpu_base / cpu_cold:.2f}x)"
        add(f"cold run >= {BASE_GOAL:g}x faster than the baseline", base / cold >= BASE_GOAL, detail)
    if flake8 is not None and flake8_mgl is not None:
        detail = f"flake8+mgl {flake8_mgl:.2f} s / flake8 {flake8:.2f} s = {flake8_mgl / flake8:.2f}x"
        cpu_plain, cpu_mgl = cpu("flake8"), cpu("flake8+mgl")
        if cpu_plain and cpu_mgl:
            detail += f" (CPU time: {cpu_mgl / cpu_plain:.2f}x)"
        goal = f"flake8 with the plugin <= {FLAKE8_OVERHEAD:g}x flake8 alone"
        if name == "mixed":
            add(goal, flake8_mgl / flake8 <= FLAKE8_OVERHEAD, detail)
        else:  # every file holds Modal code: libcst parses each one, which no gate can spare
            parse = med("libcst")
            floor = f"; libcst's parse alone: {parse:.2f} s" if parse is not None else ""
            add(goal + " (judged on the mixed tree)", None, detail + floor, info=True)
    if name == "mixed":
        goal = f"peak RSS < {RSS_LIMIT_MB:g} MB"
        peaks: dict[str, float] = {}
        for key in ("mgl-cold", "mgl-warm", "base-cold"):
            peak = results[key].peak_mb() if key in results else None
            if peak is not None:
                peaks[key] = peak
        if peaks:
            where = " (summed over the process tree)" if HAVE_PROC else ""
            ours = [v for k, v in peaks.items() if k != "base-cold"]
            detail = ", ".join(f"{k} {v:.0f} MB" for k, v in peaks.items()) + where
            add(goal, max(ours) < RSS_LIMIT_MB if ours else None, detail)
        else:
            add(goal, None, "no modal-gpu-lint result")
    return out


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_only(value: str | None) -> list[str]:
    if not value:
        return list(TOOL_KEYS)
    keys: list[str] = []
    for item in value.split(","):
        item = item.strip().lower()
        if not item:
            continue
        expanded = ["mgl-cold", "mgl-warm"] if item in ("mgl", "modal-gpu-lint") else [item]
        for key in expanded:
            if key not in TOOL_KEYS:
                raise SystemExit(f"--only: unknown tool {item!r}; choose from mgl, {', '.join(TOOL_KEYS)}")
            if key not in keys:
                keys.append(key)
    return [k for k in TOOL_KEYS if k in keys]


def folder_info(folder: Path, option: str = "--modal-tree") -> dict[str, Any]:
    """Files and bytes of the .py files under a folder given with --modal-tree or --mixed-tree."""
    if not folder.is_dir():
        raise SystemExit(f"{option}: {folder} is not a folder")
    sizes = [p.stat().st_size for p in folder.rglob("*.py") if p.is_file()]
    return {"files": len(sizes), "bytes": sum(sizes), "given": True}


def ensure_corpus(corpus: Path, scale: float, seed: int, regenerate: bool) -> dict[str, Any]:
    manifest = make_corpus.load_manifest(corpus)
    want = {"generator_version": make_corpus.GENERATOR_VERSION, "seed": seed, "scale": scale}
    have = {k: manifest.get(k) for k in want} if manifest else None
    trees_present = all((corpus / t).is_dir() for t in TREES)
    if regenerate or have != want or not trees_present:
        if manifest is None or not trees_present:
            say(f"no corpus at {corpus}: generating it")
        elif regenerate:
            say("--regenerate: generating the corpus again")
        else:
            say(f"corpus at {corpus} was made with {have}, this run wants {want}: generating it again")
        manifest = make_corpus.generate(corpus, scale, seed, quiet=False)
    assert manifest is not None
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=5, help="timed runs per tool and tree (default 5)")
    ap.add_argument("--scale", type=float, default=1.0, help="corpus scale, as make_corpus.py --scale (default 1.0)")
    ap.add_argument("--seed", type=int, default=make_corpus.DEFAULT_SEED, help="corpus seed")
    ap.add_argument(
        "--corpus",
        type=Path,
        default=make_corpus.DEFAULT_OUT,
        help=f"corpus folder (default {make_corpus.DEFAULT_OUT}); generated when missing or stale",
    )
    ap.add_argument("--regenerate", action="store_true", help="generate the corpus even if it looks current")
    ap.add_argument("--only", help="comma-separated tools: mgl (= mgl-cold,mgl-warm), " + ", ".join(TOOL_KEYS))
    ap.add_argument("--trees", default=",".join(TREES), help="comma-separated trees (default: modal,mixed)")
    ap.add_argument(
        "--peers-bin",
        action="append",
        default=[],
        metavar="DIR",
        help="extra folder to look for executables in (after the one holding sys.executable, "
        "before PATH); may be repeated",
    )
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed (default 1800)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write all results to FILE as JSON")
    ap.add_argument(
        "--modal-tree",
        type=Path,
        metavar="DIR",
        help="time this folder as the Modal-heavy tree instead of the generated one "
        "(e.g. a checkout of github.com/modal-labs/modal-examples)",
    )
    ap.add_argument(
        "--mixed-tree",
        type=Path,
        metavar="DIR",
        help="time this folder as the mixed tree instead of the generated one "
        "(e.g. real repositories of ordinary packages plus Modal code)",
    )
    ap.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="a folder holding another install's modal-gpu-lint (e.g. main's venv/bin): "
        "its cold run is the base-cold row, side by side with this one",
    )
    args = ap.parse_args(argv)
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    keys = parse_only(args.only)
    trees = [t.strip() for t in args.trees.split(",") if t.strip()]
    for t in trees:
        if t not in TREES:
            raise SystemExit(f"--trees: unknown tree {t!r}; choose from {', '.join(TREES)}")

    corpus = args.corpus.resolve()
    manifest = ensure_corpus(corpus, args.scale, args.seed, args.regenerate)
    paths = {t: corpus / t for t in TREES}
    if args.modal_tree is not None:
        paths["modal"] = args.modal_tree.resolve()
        manifest["trees"]["modal"] = folder_info(paths["modal"])
    if args.mixed_tree is not None:
        paths["mixed"] = args.mixed_tree.resolve()
        manifest["trees"]["mixed"] = folder_info(paths["mixed"], "--mixed-tree")
    dirs = search_dirs(args.peers_bin)
    tools, skipped = resolve_tools(keys, dirs, args.baseline.resolve() if args.baseline else None)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cores = os.cpu_count() or 1
    head = [
        f"modal-gpu-lint benchmark: {platform.platform()}, {cores} cores, Python {platform.python_version()}",
        f"corpus: {corpus} (seed {args.seed}, scale {args.scale:g}); runs per tool: {args.runs}",
    ]
    if args.modal_tree is not None:
        head.append(f"Modal-heavy tree: {paths['modal']} (given with --modal-tree)")
    if args.mixed_tree is not None:
        head.append(f"mixed tree: {paths['mixed']} (given with --mixed-tree)")
    if load is not None:
        head.append(
            f"load average at start: {load:.2f}"
            + (
                f"  (busy machine: other processes compete for the {cores} cores; numbers will be noisy)"
                if load > 0.5 * cores
                else ""
            )
        )
    head.append(
        f"memory: RSS MB = largest process ({RSS_SOURCE}); tree MB = summed over the process tree"
        + (" (sampled every 10 ms)" if HAVE_PROC else " (unavailable without /proc)")
    )
    head.append("tools:")
    for tool in tools:
        head.append(f"  {tool.key:<11} {tool.version or '?'}  [{tool.path}]")
    for key, why in skipped.items():
        head.append(f"  {key:<11} SKIPPED: " + why.replace("\n", "\n" + " " * 14))
    print("\n".join(head), flush=True)

    report: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "cores": cores,
            "python": platform.python_version(),
            "load_average_start": load,
            "rss_source": RSS_SOURCE,
        },
        "corpus": {
            "path": str(corpus),
            "seed": args.seed,
            "scale": args.scale,
            "modal_tree": str(paths["modal"]),
            "mixed_tree": str(paths["mixed"]),
            "trees": {t: {k: v for k, v in manifest["trees"][t].items() if k != "mistakes"} for t in TREES},
        },
        "runs": args.runs,
        "tools": {t.key: {"path": t.path, "version": t.version, "argv": t.argv, "note": t.note} for t in tools},
        "skipped": skipped,
        "trees": {},
        "goals": {},
    }
    exit_code = 0
    for name in trees:
        tree = paths[name]
        info = manifest["trees"][name]
        results = bench_tree(name, tree, tools, args.runs, args.timeout) if tools else {}
        lines = ["", *table(name, info, tools, results, args.runs, tree)]
        checks = goals(name, results)
        lines.append(f"goals on the {name} tree:")
        for g in checks:
            lines.append(f"  {g['status']:<5} {g['goal']:<46} {g['detail']}")
        print("\n".join(lines), flush=True)
        report["trees"][name] = {k: r.summary() for k, r in results.items()}
        report["goals"][name] = checks
        if any(r.failed for r in results.values()):
            exit_code = 1
    if load is not None:
        end = os.getloadavg()[0]
        report["machine"]["load_average_end"] = end
        print(f"\nload average at end: {end:.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
