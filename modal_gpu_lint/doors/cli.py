"""The command line: argument parsing and dispatch only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from modal_gpu_lint import __version__
from modal_gpu_lint.doors.stdin import STDIN, check_stdin, config_start
from modal_gpu_lint.report.output import FORMATS, concise, full, github, github_error, statistics, to_json, use_color
from modal_gpu_lint.run.config import ConfigError, Settings, load_settings
from modal_gpu_lint.run.discover import python_files
from modal_gpu_lint.run.engine import FileResult
from modal_gpu_lint.run.runner import fix_paths, lint_paths

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SUBCOMMANDS = ("check", "rule", "catalog", "inventory", "server")


def _codes(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def check_parser() -> argparse.ArgumentParser:
    """`modal-gpu-lint [PATHS...]`."""
    parser = argparse.ArgumentParser(
        prog="modal-gpu-lint",
        description="Check GPU requests, timeouts and removed APIs in Modal programs.",
        epilog="Other commands: 'modal-gpu-lint rule CODE', 'modal-gpu-lint catalog', 'modal-gpu-lint inventory',"
        " 'modal-gpu-lint server' (a language server over stdio).",
    )
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)")
    parser.add_argument("--select", type=_codes, help="codes or prefixes to check, replacing the configured set")
    parser.add_argument("--extend-select", type=_codes, default=[], help="codes or prefixes to add")
    parser.add_argument("--ignore", type=_codes, default=[], help="codes or prefixes to leave out")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    parser.add_argument("--fix", action="store_true", help="apply safe fixes to the files (atomic writes)")
    parser.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff: also apply unsafe fixes")
    parser.add_argument(
        "--diff", action="store_true", help="print what --fix would change as a unified diff; write nothing"
    )
    parser.add_argument(
        "--show-diff",
        action="store_true",
        help="report the findings, then print the diff --fix would apply (pre-commit)",
    )
    parser.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    parser.add_argument("--config", type=Path, help="a pyproject.toml to read instead of the nearest one")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    parser.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help="with the path '-': check standard input as if it were the file NAME (config, excludes apply)",
    )
    parser.add_argument("--version", action="version", version=f"modal-gpu-lint {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `modal-gpu-lint` script."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] == "rule":
            return _rule(args[1:])
        if args and args[0] == "catalog":
            return _catalog(args[1:])
        if args and args[0] == "inventory":
            from modal_gpu_lint.report.inventory import main as inventory_main

            return inventory_main(args[1:])
        if args and args[0] == "server":
            return _server(args[1:])
        if args and args[0] == "check":
            args = args[1:]
        return _check(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `modal-gpu-lint src | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR


def _check(argv: list[str]) -> int:
    parser = check_parser()
    options = parser.parse_args(argv)
    from_stdin = STDIN in options.paths
    if from_stdin and len(options.paths) > 1:
        parser.error("'-' (standard input) must be the only path")
    if options.stdin_filename and not from_stdin:
        if options.paths != ["."]:
            parser.error("--stdin-filename names standard input: give the path '-' (or no path)")
        options.paths = [STDIN]  # as ruff: --stdin-filename alone reads standard input
        from_stdin = True
    try:
        settings = load_settings(
            options.config,
            select=options.select,
            extend_select=options.extend_select,
            ignore=options.ignore,
            start=config_start(options),
        )
    except ConfigError as error:
        print(f"modal-gpu-lint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    if options.show_diff and options.format not in ("text", "concise"):
        parser.error("--show-diff prints a diff after the findings: use it with --format text or concise")
    if from_stdin:
        return check_stdin(options, settings, _report)
    missing = [p for p in options.paths if not Path(p).exists()]
    for path in missing:
        print(f"modal-gpu-lint: error: {path}: no such file or folder", file=sys.stderr)
    paths = [p for p in options.paths if p not in missing]
    if options.fix or options.diff:
        code = _fix(python_files(paths, settings), options, settings)
        return EXIT_ERROR if missing else code
    results = lint_paths(
        python_files(paths, settings),
        settings,
        edits=options.format in ("json", "sarif"),
        use_cache=not options.no_cache,
        walked=[p for p in paths if Path(p).is_dir()],
    )
    code = _report(results, options, settings)
    if options.show_diff:
        _show_diff(results, options, settings)
    return EXIT_ERROR if missing else code


def _fix(paths: Iterable[str], options: argparse.Namespace, settings: Settings) -> int:
    """`--fix` (write, then report what remains) and `--diff` (print the changes, write nothing)."""
    edits = options.format in ("json", "sarif")
    fixes = fix_paths(  # in parallel; files cached without a fix to apply are not read
        paths,
        settings,
        unsafe=options.unsafe_fixes,
        write=not options.diff,
        diff=options.diff,
        edits=edits,
        use_cache=not options.no_cache,
    )
    if not options.diff:
        return _report([f.as_file_result() for f in fixes], options, settings, fixed=sum(f.fixed for f in fixes))
    errors = [f.error for f in fixes if f.error is not None]
    for error in errors:
        print(f"{error}", file=sys.stderr)
    _write_bytes(b"".join(f.diff for f in fixes))
    would = sum(f.fixed for f in fixes if f.changed)
    if would:
        print(f"Would fix {would} {'error' if would == 1 else 'errors'}.", file=sys.stderr)
    else:
        print("No errors would be fixed.", file=sys.stderr)
    hidden = sum(1 for f in fixes for d in f.diagnostics if d.fix_applicability == "unsafe")
    if hidden and not options.unsafe_fixes:
        print(f"({hidden} more fixable with `--unsafe-fixes`.)", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if any(f.changed for f in fixes) and not options.exit_zero else EXIT_OK


def _show_diff(results: list[FileResult], options: argparse.Namespace, settings: Settings) -> None:
    """`--show-diff`: after the findings, the unified diff that `--fix` would apply (writes nothing)."""
    from modal_gpu_lint.run.fixer import fix_file

    wanted = ("safe", "unsafe") if options.unsafe_fixes else ("safe",)
    paths = [r.path for r in results if any(d.fix_applicability in wanted for d in r.diagnostics)]
    diffs = [fix_file(path, settings, unsafe=options.unsafe_fixes, write=False, diff=True).diff for path in paths]
    if any(diffs):
        kind = "fixes" if options.unsafe_fixes else "safe fixes"
        print(
            f"\nThe {kind}, as `modal-gpu-lint --fix{' --unsafe-fixes' if options.unsafe_fixes else ''}` "
            "would apply them:\n"
        )
        _write_bytes(b"".join(diffs))


def _write_bytes(data: bytes) -> None:
    """Diffs are the files' own bytes (encoding, line endings): they go to stdout unchanged."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (tests capturing stdout)
        sys.stdout.write(data.decode("utf-8", "surrogateescape"))
        return
    buffer.write(data)
    buffer.flush()


def _report(
    results: list[FileResult],
    options: argparse.Namespace,
    settings: Settings,
    fixed: int | None = None,
    sources: dict[str, bytes] | None = None,
) -> int:
    errors = [r.error for r in results if r.error is not None]
    for error in errors:
        print(f"{error}", file=sys.stderr)
    diagnostics = [d for r in results for d in r.diagnostics]
    out = sys.stdout
    color = use_color(out)
    if options.statistics:
        statistics(diagnostics, out)
    elif options.format == "json":
        print(to_json(diagnostics), file=out)
    elif options.format == "sarif":
        from modal_gpu_lint.report.sarif import to_sarif

        print(to_sarif(diagnostics, errors), file=out)
    elif options.format == "github":
        for error in errors:
            if error.cell is not None:
                message = f"cell {error.cell}, line {error.row}, column {error.column}: {error.message}"
                print(github_error(error.path, message), file=out)
            else:
                print(github_error(error.path, error.message, error.row, error.column), file=out)
        for d in diagnostics:
            print(github(d), file=out)
    elif options.format == "concise":
        for d in diagnostics:
            print(concise(d, color), file=out)
    else:
        by_path: dict[tuple[str, int | None], list[str]] = {}
        for d in diagnostics:
            if (d.path, d.cell) not in by_path:
                by_path[d.path, d.cell] = _lines(d.path, (sources or {}).get(d.path), d.cell)
            print(full(d, by_path[d.path, d.cell], color) + "\n", file=out)
    if options.format in ("text", "concise") and not options.statistics:
        _summary(diagnostics, len(errors), fixed, options.unsafe_fixes)
    if errors:
        return EXIT_ERROR
    if diagnostics and not options.exit_zero:
        return EXIT_FINDINGS
    return EXIT_OK


def _summary(diagnostics: list, errors: int, fixed: int | None = None, unsafe_fixes: bool = False) -> None:  # type: ignore[type-arg]
    if not diagnostics and not fixed:
        if not errors:
            print("All checks passed!")
        return
    fixable = sum(1 for d in diagnostics if d.fix_applicability == "safe")
    unsafe = sum(1 for d in diagnostics if d.fix_applicability == "unsafe")
    total = len(diagnostics) + (fixed or 0)
    noun = "error" if total == 1 else "errors"
    if fixed is None:
        print(f"Found {total} {noun}.")
    else:  # after --fix, like ruff
        print(f"Found {total} {noun} ({fixed} fixed, {len(diagnostics)} remaining).")
    if unsafe_fixes:
        fixable, unsafe = fixable + unsafe, 0
    if fixable:
        print(f"[*] {fixable} fixable with the `--fix` option.")
    if unsafe:
        print(f"({unsafe} {'more ' if fixable else ''}fixable with `--fix --unsafe-fixes`.)")


def _lines(path: str, data: bytes | None = None, cell: int | None = None) -> list[str]:
    """The lines of a file (of `data`, the text read from standard input, when given), or of a
    notebook's cell."""
    from modal_gpu_lint.analysis.notebook import NotebookError, read_notebook
    from modal_gpu_lint.analysis.source import SourceError, decode, split_lines

    try:
        if data is None:
            with open(path, "rb") as handle:
                data = handle.read()
        if cell is not None:
            return read_notebook(data).cells.get(cell, [])
        return split_lines(decode(data).text)
    except (OSError, SourceError, NotebookError):
        return []


def _rule(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="modal-gpu-lint rule", description="Explain a rule.")
    parser.add_argument("code", nargs="?", help="a rule code such as MGL003, or a rule name")
    parser.add_argument("--all", action="store_true", help="explain every rule")
    options = parser.parse_args(argv)
    from modal_gpu_lint.report.docs import explain
    from modal_gpu_lint.rules.registry import (
        RULES,  # here, not at the top: it imports libcst, which a cached run never needs
    )

    if options.all:
        print("\n\n".join(explain(rule) for rule in RULES.values()))
        return EXIT_OK
    if not options.code:
        parser.error("give a rule code, e.g. MGL003, or --all")
    key = options.code.strip()
    rule = RULES.get(key.upper()) or next((r for r in RULES.values() if r.name == key.lower()), None)
    if rule is None:
        print(f"modal-gpu-lint: error: unknown rule {options.code!r}; codes: {', '.join(RULES)}", file=sys.stderr)
        return EXIT_ERROR
    print(explain(rule))
    return EXIT_OK


def _catalog(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="modal-gpu-lint catalog", description="Print the GPU table in force.")
    parser.add_argument("--config", type=Path, help="a pyproject.toml to read instead of the nearest one")
    options = parser.parse_args(argv)
    try:
        settings = load_settings(options.config)
    except ConfigError as error:
        print(f"modal-gpu-lint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    from modal_gpu_lint.report.docs import catalog_table

    print(catalog_table(settings.catalog))
    return EXIT_OK


def _server(argv: list[str]) -> int:
    try:
        from modal_gpu_lint.doors.lsp_server import main as server_main
    except ImportError as error:
        print(
            f"modal-gpu-lint: error: the language server needs pygls ({error}); "
            "install it with: pip install 'modal-gpu-lint[lsp]'",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return server_main(argv)
