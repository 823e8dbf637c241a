#!/usr/bin/env python3
"""Lint vs `--fix` on one large generated file: wall time and peak RSS side by side (issue 13).

The file holds N `@app.function(gpu=..., keep_warm=1)` functions (default 20,000) with a mix
of fixable findings: MGL201 (`keep_warm` -> `min_containers`, safe), MGL009 (`"a10g"` -> `"A10G"`,
selected with `--extend-select MGL009`) and MGL101 (a missing timeout, an unsafe fix). Each
command runs on a fresh copy of the file in its own process under `/usr/bin/time -v` when that
exists (else `resource.getrusage` of the child). Standard library only; not a timed test.

    python benchmarks/fix_large_file.py                 # 20,000 functions
    python benchmarks/fix_large_file.py -n 2000 --keep  # smaller, and keep the files
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = '"""A generated Modal app with many functions."""\n\nimport modal\n\napp = modal.App("big")\n'
GPUS = ("a10g", "A10G", "l4", "H100", "t4")


def generate(functions: int) -> str:
    """The source of a file with `functions` Modal functions, every one with a fixable finding."""
    parts = [HEADER]
    for index in range(functions):
        gpu = GPUS[index % len(GPUS)]
        timeout = "" if index % 3 == 0 else f", timeout={600 + index % 7 * 60}"
        keep = f", keep_warm={index % 2 + 1}" if index % 4 != 3 else ""
        comment = "  # warm pool" if index % 10 == 0 else ""
        parts.append(
            f"\n\n@app.function(gpu={gpu!r}{keep}{timeout}){comment}\n"
            f"def task_{index}(x: int) -> int:\n"
            f'    """Task {index}."""\n'
            f"    return x * {index}\n"
        )
    return "".join(parts)


def run(command: list[str]) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds (user + system), peak RSS in kB and exit code of `command`.

    CPU time is the steadier number on a shared machine. Without /usr/bin/time the peak RSS is
    the largest of any child so far.
    """
    timer = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
    if timer is not None:
        start = time.perf_counter()
        done = subprocess.run([timer, "-v", *command], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        found = {
            key: float(m.group(1))
            for key, pattern in (
                ("rss", r"Maximum resident set size \(kbytes\): (\d+)"),
                ("user", r"User time \(seconds\): ([\d.]+)"),
                ("sys", r"System time \(seconds\): ([\d.]+)"),
            )
            if (m := re.search(pattern, done.stderr))
        }
        cpu = found.get("user", -1.0) + found.get("sys", 0.0)
        return wall, cpu, int(found.get("rss", -1)), done.returncode
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run(command, capture_output=True, check=False).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, after.ru_maxrss, code


def main() -> int:
    """Generate the file, lint it, fix it, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--functions", type=int, default=20_000, help="functions in the file (default 20000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument("--unsafe", action="store_true", help="also time --fix --unsafe-fixes")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="mgl-fix-large-"))
    source = folder / "big.py"
    source.write_text(generate(args.functions), encoding="utf-8")
    base = [sys.executable, "-m", "modal_gpu_lint", "--no-cache", "--extend-select", "MGL009"]
    commands = {
        "lint": [*base, "--exit-zero"],
        "--fix": [*base, "--exit-zero", "--fix"],
    }
    if args.unsafe:
        commands["--fix --unsafe-fixes"] = [*base, "--exit-zero", "--fix", "--unsafe-fixes"]
    size = source.stat().st_size
    print(f"{args.functions} functions, {size / 1e6:.2f} MB ({source})")
    print(f"{'command':<22} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12} {'exit':>5}")
    for name, command in commands.items():
        target = folder / f"run-{len(name)}.py"
        shutil.copyfile(source, target)
        wall, cpu, rss, code = run([*command, str(target)])
        print(f"{name:<22} {wall:>8.1f} {cpu:>8.1f} {rss / 1024:>12.0f} {code:>5}", flush=True)
    if args.keep:
        print(f"kept: {folder}")
    else:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
