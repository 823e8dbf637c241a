"""`modal-gpu-lint [--stdin-filename NAME] -`: lint (or fix) the text on standard input, as ruff does.

The text is checked as if it were the file NAME: the configuration is looked up from NAME's
folder, and `exclude` and `per-file-ignores` apply by that name. With `--fix` the fixed source
(or the input unchanged) is the only thing on standard output, and no file is written; what
remains is reported on standard error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from modal_gpu_lint.run.config import Settings
from modal_gpu_lint.run.engine import FileResult, lint_bytes

STDIN = "-"

Report = Callable[..., int]


def stdin_name(options: argparse.Namespace) -> str:
    """The name the text on standard input is checked under."""
    return str(options.stdin_filename) if options.stdin_filename else STDIN


def config_start(options: argparse.Namespace) -> Path | None:
    """Where to look for the configuration: the folder of `--stdin-filename`, when given."""
    if not options.stdin_filename:
        return None
    return Path(options.stdin_filename).absolute().parent


def check_stdin(options: argparse.Namespace, settings: Settings, report: Report) -> int:
    """Lint or fix standard input; `report` prints lint results as for files (`cli._report`)."""
    name = stdin_name(options)
    data = sys.stdin.buffer.read()
    excluded = bool(options.stdin_filename) and settings.is_excluded(name)
    lines = {name: data}
    if options.fix or options.diff:
        return _fix(name, data, options, settings, report, excluded)
    edits = options.format in ("json", "sarif")
    result = FileResult(name) if excluded else lint_bytes(name, data, settings, edits=edits)
    code = report([result], options, settings, sources=lines)
    if options.show_diff and not excluded:
        from modal_gpu_lint.run.fixer import fix_bytes, unified_diff

        fixed = fix_bytes(name, data, settings, unsafe=options.unsafe_fixes)
        if fixed.new_bytes is not None:
            print("\nThe fixes, as `modal-gpu-lint --fix` would apply them:\n")
            _write_stdout(unified_diff(name, data, fixed.new_bytes))
    return code


def _fix(
    name: str, data: bytes, options: argparse.Namespace, settings: Settings, report: Report, excluded: bool
) -> int:
    if excluded:
        if not options.diff:
            _write_stdout(data)
        return 0
    from modal_gpu_lint.run.fixer import fix_bytes, unified_diff  # here: it imports libcst

    fixed = fix_bytes(name, data, settings, unsafe=options.unsafe_fixes, edits=options.format in ("json", "sarif"))
    new = fixed.new_bytes
    if options.diff:
        if fixed.error is not None:
            print(f"{fixed.error}", file=sys.stderr)
        if new is not None:
            _write_stdout(unified_diff(name, data, new))
        noun = "error" if fixed.fixed == 1 else "errors"
        print(f"Would fix {fixed.fixed} {noun}." if new else "No errors would be fixed.", file=sys.stderr)
        if fixed.error is not None:
            return 2
        return 1 if new is not None and not options.exit_zero else 0
    _write_stdout(new if new is not None else data)  # never lose the text: unchanged input on any problem
    stdout, sys.stdout = sys.stdout, sys.stderr  # the findings that remain go to standard error
    try:
        return report([fixed.as_file_result()], options, settings, fixed=fixed.fixed, sources={name: new or data})
    finally:
        sys.stdout.flush()
        sys.stdout = stdout


def _write_stdout(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
