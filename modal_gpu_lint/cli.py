"""The command line: argument parsing and dispatch only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import ConfigError, Settings, load_settings
from .discover import python_files
from .engine import FileResult, lint_file
from .output import FORMATS, concise, full, statistics, to_json, use_color
from .rules import RULES

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SUBCOMMANDS = ("check", "rule", "catalog")


def _codes(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def check_parser() -> argparse.ArgumentParser:
    """`modal-gpu-lint [PATHS...]`."""
    parser = argparse.ArgumentParser(
        prog="modal-gpu-lint",
        description="Check GPU requests, timeouts and removed APIs in Modal programs.",
        epilog="Other commands: 'modal-gpu-lint rule CODE', 'modal-gpu-lint catalog'.",
    )
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)")
    parser.add_argument("--select", type=_codes, help="codes or prefixes to check, replacing the configured set")
    parser.add_argument("--extend-select", type=_codes, default=[], help="codes or prefixes to add")
    parser.add_argument("--ignore", type=_codes, default=[], help="codes or prefixes to leave out")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    parser.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    parser.add_argument("--config", type=Path, help="a pyproject.toml to read instead of the nearest one")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
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
    try:
        settings = load_settings(
            options.config,
            select=options.select,
            extend_select=options.extend_select,
            ignore=options.ignore,
        )
    except ConfigError as error:
        print(f"modal-gpu-lint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    missing = [p for p in options.paths if not Path(p).exists()]
    for path in missing:
        print(f"modal-gpu-lint: error: {path}: no such file or folder", file=sys.stderr)
    paths = [p for p in options.paths if p not in missing]
    results = [lint_file(path, settings, edits=options.format == "json") for path in python_files(paths, settings)]
    code = _report(results, options, settings)
    return EXIT_ERROR if missing else code


def _report(results: list[FileResult], options: argparse.Namespace, settings: Settings) -> int:
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
    elif options.format == "concise":
        for d in diagnostics:
            print(concise(d, color), file=out)
    else:
        by_path: dict[str, list[str]] = {}
        for d in diagnostics:
            if d.path not in by_path:
                by_path[d.path] = _lines(d.path)
            print(full(d, by_path[d.path], color) + "\n", file=out)
    if options.format in ("text", "concise") and not options.statistics:
        _summary(diagnostics, len(errors))
    if errors:
        return EXIT_ERROR
    if diagnostics and not options.exit_zero:
        return EXIT_FINDINGS
    return EXIT_OK


def _summary(diagnostics: list, errors: int) -> None:  # type: ignore[type-arg]
    if not diagnostics:
        if not errors:
            print("All checks passed!")
        return
    fixable = sum(1 for d in diagnostics if d.fix_applicability == "safe")
    unsafe = sum(1 for d in diagnostics if d.fix_applicability == "unsafe")
    noun = "error" if len(diagnostics) == 1 else "errors"
    print(f"Found {len(diagnostics)} {noun}.")
    if fixable:
        print(f"[*] {fixable} fixable with the `--fix` option.")
    if unsafe:
        print(f"({unsafe} {'more ' if fixable else ''}fixable with `--fix --unsafe-fixes`.)")


def _lines(path: str) -> list[str]:
    from .source import SourceError, decode

    try:
        with open(path, "rb") as handle:
            return decode(handle.read()).text.splitlines()
    except (OSError, SourceError):
        return []


def _rule(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="modal-gpu-lint rule", description="Explain a rule.")
    parser.add_argument("code", nargs="?", help="a rule code such as MGL003, or a rule name")
    parser.add_argument("--all", action="store_true", help="explain every rule")
    options = parser.parse_args(argv)
    from .docs import explain

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
    from .docs import catalog_table

    print(catalog_table(settings.catalog))
    return EXIT_OK
