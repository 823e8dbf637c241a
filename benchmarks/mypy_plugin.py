#!/usr/bin/env python3
"""What the mypy plugin costs: mypy's wall time on a fixture program with and without it.

Runs `python -m mypy` (as a user does) on tests/fixtures/mypy/cross_module, a six-module project
importing the real `modal` package, four ways: without / with the plugin, each with a cold cache
(a fresh cache folder per run) and a warm one (the same folder, after one unmeasured run).
Prints the median of `--runs` runs (default 3) for each, side by side: wall-clock seconds, and the
CPU seconds (user + system) mypy used, which vary less on a busy machine.

    python benchmarks/mypy_plugin.py [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "mypy" / "cross_module"
TARGET = "gpuproj"
PLUGIN_LINE = "plugins = modal_gpu_lint.doors.mypy_plugin\n"


Timing = tuple[float, float]  # (wall seconds, CPU seconds)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def mypy(workdir: Path, config: Path, cache: Path) -> tuple[Timing, int]:
    """(wall, CPU) seconds one mypy run takes, and how many plugin errors it printed."""
    cpu = _cpu()
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(cache), TARGET],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start, _cpu() - cpu
    if result.returncode not in (0, 1):
        sys.exit(f"mypy failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return elapsed, result.stdout.count("[modal-gpu]")


def median(timings: list[Timing]) -> Timing:
    return statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings)


def measure(workdir: Path, config: Path, runs: int) -> tuple[Timing, Timing, int]:
    """(median cold, median warm, plugin errors) for one config."""
    cold: list[Timing] = []
    errors = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="mypy-cold-") as cache:
            seconds, errors = mypy(workdir, config, Path(cache))
            cold.append(seconds)
    with tempfile.TemporaryDirectory(prefix="mypy-warm-") as cache:
        mypy(workdir, config, Path(cache))
        warm = [mypy(workdir, config, Path(cache))[0] for _ in range(runs)]
    return median(cold), median(warm), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (the median is printed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mypy-plugin-bench-") as tmp:
        workdir = Path(tmp) / "project"
        shutil.copytree(PROJECT, workdir)
        with_plugin = workdir / "mypy.ini"
        text = with_plugin.read_text(encoding="utf-8")
        assert PLUGIN_LINE in text, f"{with_plugin} no longer enables the plugin as expected"
        without_plugin = workdir / "mypy-without-plugin.ini"
        without_plugin.write_text(text.replace(PLUGIN_LINE, ""), encoding="utf-8")

        rows = [
            ("without plugin", measure(workdir, without_plugin, args.runs)),
            ("with plugin", measure(workdir, with_plugin, args.runs)),
        ]
    print(f"mypy {TARGET} (tests/fixtures/mypy/cross_module), median of {args.runs} runs, seconds (wall / CPU)")
    print(f"{'':16}{'cold cache':>16}{'warm cache':>16}")
    print(f"{'':16}{'wall':>8}{'CPU':>8}{'wall':>8}{'CPU':>8}{'plugin errors':>15}")
    for label, (cold, warm, errors) in rows:
        print(f"{label:16}{cold[0]:8.2f}{cold[1]:8.2f}{warm[0]:8.2f}{warm[1]:8.2f}{errors:15d}")
    (_, (cold_a, warm_a, _)), (_, (cold_b, warm_b, _)) = rows
    deltas = [b - a for pair in ((cold_a, cold_b), (warm_a, warm_b)) for a, b in zip(*pair, strict=False)]
    print(f"{'plugin cost':16}" + "".join(f"{d:+8.2f}" for d in deltas))


if __name__ == "__main__":
    main()
