"""Run `--fix --unsafe-fixes` on a copy of Modal's 2024 examples and check that it loses nothing.

    python scripts/fix_corpus_check.py [CORPUS]

CORPUS defaults to `../shared/corpus/modal-examples-2024-04` beside the repository root. The copy
goes to a temporary folder (the corpus is never written). Checks, for every file the fix changed:

- it compiles (`compile()`), when the original did;
- every comment of the original is still in it (comments joined on one line count);
- a second `--fix --unsafe-fixes` run changes no file;
- no run reports an error (exit 2) or a traceback, and at least one file was changed.

Prints one line per problem and a summary; exits 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import io
import shutil
import stat
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "modal-examples-2024-04"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every Python file under `folder`, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.py"))}


def run_fix(folder: Path) -> subprocess.CompletedProcess[str]:
    """`modal-gpu-lint --fix --unsafe-fixes --no-cache .` in `folder`, as a user runs it."""
    command = [sys.executable, "-m", "modal_gpu_lint", "--fix", "--unsafe-fixes", "--no-cache", "."]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600)


def comments(data: bytes) -> list[str]:
    """The comments of a Python file, in order (tokenize reads its encoding cookie)."""
    return [t.string for t in tokenize.tokenize(io.BytesIO(data).readline) if t.type == tokenize.COMMENT]


def lost_comments(old: bytes, new: bytes) -> list[str]:
    """Comments of `old` not found in `new` (each found one is used once)."""
    pool = "\n".join(comments(new))
    lost = []
    for comment in comments(old):
        at = pool.find(comment)
        if at < 0:
            lost.append(comment)
        else:
            pool = pool[:at] + pool[at + len(comment) :]
    return lost


def compiles(data: bytes, name: str) -> str | None:
    """None when `data` compiles, else the error."""
    try:
        compile(data, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return str(error)
    return None


def main(argv: list[str]) -> int:
    """Copy, fix twice, check; print the summary."""
    corpus = Path(argv[0]) if argv else DEFAULT_CORPUS
    if not corpus.is_dir():
        print(f"no corpus at {corpus}", file=sys.stderr)
        return 2
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mgl-corpus-") as temporary:
        copy = Path(temporary) / corpus.name
        shutil.copytree(corpus, copy)
        for path in [copy, *copy.rglob("*")]:  # the copy is ours: make it writable (the corpus is 0444)
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
        before = snapshot(copy)
        first = run_fix(copy)
        after = snapshot(copy)
        second = run_fix(copy)
        again = snapshot(copy)
    changed = [name for name in before if after.get(name) != before[name]]
    for name in changed:
        if compiles(before[name], name) is None and (error := compiles(after[name], name)) is not None:
            problems.append(f"{name}: does not compile after the fix: {error}")
        for comment in lost_comments(before[name], after[name]):
            problems.append(f"{name}: comment lost: {comment}")
    rechanged = [name for name in after if again.get(name) != after[name]]
    problems += [f"{name}: changed again by a second run" for name in rechanged]
    if "Traceback" in first.stderr + second.stderr:
        problems.append("a run printed a traceback")
    if first.returncode == 2 or second.returncode == 2:
        problems.append("a run reported errors (exit 2)")
    if not changed:
        problems.append("the fix changed no file: nothing was checked")
    for line in problems:
        print(line)
    print(f"corpus: {corpus} ({len(before)} Python files)")
    print(f"first run: exit {first.returncode}; {_last(first.stdout)}")
    for line in first.stderr.splitlines():
        print(f"  stderr: {line}")
    print(f"files changed: {len(changed)}")
    compiled = sum(1 for n in changed if compiles(after[n], n) is None)
    print(f"changed files that compile: {compiled}/{len(changed)}")
    lost = sum(1 for p in problems if ": comment lost: " in p)
    kept = sum(len(comments(before[n])) for n in changed)
    print(f"comments of the changed files: {kept}, lost: {lost}")
    print(f"second run: exit {second.returncode}; {_last(second.stdout)}; files changed again: {len(rechanged)}")
    print("OK" if not problems else f"FAILED: {len(problems)} problem(s)")
    return 0 if not problems else 1


def _last(text: str) -> str:
    found = [line for line in text.splitlines() if line.startswith(("Found ", "All checks"))]
    return found[-1] if found else "(no summary)"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
