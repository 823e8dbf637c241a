"""read -> prefilter -> guard + gate (Python's ast) -> libcst parse -> sites -> rules -> noqa -> diagnostics."""

from __future__ import annotations

import ast
import os
import re
import stat
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from modal_gpu_lint.analysis.nesting import ensure_recursion_limit, guard
from modal_gpu_lint.analysis.noqa import suppressed
from modal_gpu_lint.analysis.notebook import (
    Notebook,
    NotebookError,
    cell_texts,
    is_notebook,
    read_notebook,
    without_cells,
)
from modal_gpu_lint.analysis.source import Source, SourceError, decode, nul_position, python_syntax_error, split_lines
from modal_gpu_lint.findings import Diagnostic, Edit, Finding
from modal_gpu_lint.run.config import Settings

# A file can hold a Modal call only if it mentions modal, or calls `.function`/`.cls`/`.server`/
# `.with_options` on something (an App imported from a sibling module need not say "modal").
# One pattern per word: a pattern that starts with a literal is searched as fast as `bytes.find`,
# while one pattern of alternatives tries every position (3x slower on a tree of ordinary code).
_MODAL_TEXT = tuple(
    re.compile(pattern) for pattern in (rb"modal", rb"\.function\b", rb"\.cls\b", rb"\.server\b", rb"\.with_options\b")
)
# ... and a rule can fire only if one of these words is there (a new rule adds its trigger words here).
_RULE_TEXT = (
    b"gpu",
    b"timeout",
    b"scaledown_window",
    b"keep_warm",
    b"concurrency_limit",
    b"allow_concurrent_inputs",
    b"max_inputs",
    b"Stub",
    b"web_endpoint",
    # MGL401/MGL404 fire without a `gpu=`: CUDA use, vLLM/SGLang engines, nvidia-smi, clusters
    b"cuda",
    b"nvidia-smi",
    b"vllm",
    b"sglang",
    b"clustered",
    # MGL406 reads the image of a `gpu=` request: b"gpu" above lets its files through
)

if TYPE_CHECKING:  # libcst, the checkers and positions are imported when a file is parsed, not before:
    import libcst as cst  # a run that parses nothing (all files prefiltered or cached) never imports them

    from modal_gpu_lint.analysis.positions import Span


def may_have_findings(data: bytes) -> bool:
    """The text prefilter: False means no rule can fire, so the file is not parsed."""
    return any(mark.search(data) for mark in _MODAL_TEXT) and any(word in data for word in _RULE_TEXT)


@dataclass(frozen=True)
class FileError:
    """A file that could not be read, decoded or parsed."""

    path: str
    message: str
    row: int = 0
    column: int = 0
    cell: int | None = None  # in a notebook: the cell of `row`

    def __str__(self) -> str:
        path = f"{self.path}:cell {self.cell}" if self.cell is not None else self.path
        where = f"{path}:{self.row}:{self.column}" if self.row else path
        return f"{where}: {self.message}"


@dataclass
class FileResult:
    """What linting one file gave."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: FileError | None = None
    suppressed: int = 0
    dependencies: dict[str, str] = field(default_factory=dict)  # project modules read -> their digest


@dataclass
class Parsed:
    """A parsed file and its findings, kept for the fixer."""

    source: Source
    module: cst.Module
    findings: list[Finding]  # selected and not suppressed by a noqa comment


def parse(path: str, data: bytes) -> tuple[Source, cst.Module]:
    """Decode and parse, or raise FileError."""
    source, _ = guarded(path, data)
    return source, parse_cst(path, source.text)


def parse_modal(path: str, data: bytes) -> tuple[Source, cst.Module] | None:
    """`parse`, or None when no Modal call site can be in the file: the text prefilter, then the
    gate on Python's tree (`analysis.gate`), before libcst is imported or run."""
    if not may_have_findings(data):
        return None
    source, tree = guarded(path, data)
    if tree is not None:
        from modal_gpu_lint.analysis.gate import may_have_sites

        if not may_have_sites(tree, source.text):
            return None
    return source, parse_cst(path, source.text)


def needs_libcst(path: str, data: bytes) -> bool:
    """Whether `parse_modal` would parse the file with libcst (or report it unparsable); for
    a prefiltered file: the nesting guard and the gate, without libcst."""
    try:
        source, tree = guarded(path, data)
    except FileErrorException:
        return True
    if tree is None:
        return True
    from modal_gpu_lint.analysis.gate import may_have_sites

    return may_have_sites(tree, source.text)


def guarded(path: str, data: bytes) -> tuple[Source, ast.Module | None]:
    """Decode and run the nesting guard (FileErrorException when the file is refused); Python's
    tree of the file comes back too (None when this Python cannot parse it)."""
    try:
        source = decode(data)
    except SourceError as error:
        raise FileErrorException(FileError(path, error.message, error.row, error.column)) from None
    nul = nul_position(source.text)
    if nul is not None:
        raise FileErrorException(FileError(path, "cannot parse: source code contains a NUL byte", *nul))
    ensure_recursion_limit()  # first: Python's own parser (in the guard) depends on it too
    tree, problem = guard(source.text, path)  # what would crash or stall libcst's parser
    if problem is not None:
        message, row, column = problem
        raise FileErrorException(FileError(path, f"cannot parse: {message}", row, column))
    return source, tree


def parse_cst(path: str, text: str) -> cst.Module:
    """libcst's tree of a guarded file, or FileErrorException."""
    import libcst as cst

    from modal_gpu_lint.analysis.cst_parse import parse_module

    try:
        return parse_module(text)
    except cst.ParserSyntaxError as error:
        raise FileErrorException(_syntax_error(path, text, error)) from None
    except (RecursionError, MemoryError):
        raise FileErrorException(FileError(path, "cannot parse: nested too deeply")) from None
    except Exception as error:  # the native parser may raise anything on hostile input
        raise FileErrorException(FileError(path, f"cannot parse: {type(error).__name__}: {error}")) from None


def _syntax_error(path: str, text: str, error: cst.ParserSyntaxError) -> FileError:
    """Python's own message when Python rejects the file too; libcst's (shortened) otherwise."""
    python = python_syntax_error(text, path)
    if python is not None and python[1] > 0:
        message, row, column = python
        return FileError(path, f"cannot parse: {message}", row, max(column, 1))
    message = str(error.message).strip().splitlines()[0] if error.message else "invalid syntax"
    message = re.sub(r"^parser error: error at \d+:\d+: ", "", message)
    if len(message) > 120:
        message = message[:117] + "..."
    return FileError(path, f"cannot parse: {message}", error.raw_line, error.raw_column + 1)


class FileErrorException(Exception):
    """Carries a FileError out of `parse`."""

    def __init__(self, error: FileError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class Analysis:
    """Findings kept after selection and `# noqa`, with their source spans."""

    findings: list[Finding] = field(default_factory=list)
    spans: dict[int, Span] = field(default_factory=dict)
    suppressed: int = 0
    dependencies: dict[str, str] = field(default_factory=dict)  # project modules read -> their digest


def analyze(
    module: cst.Module,
    text: str,
    settings: Settings,
    codes: frozenset[str],
    *,
    noqa: bool = True,
    path: str | None = None,
) -> Analysis:
    """Run the checkers on a parsed module and drop what `# noqa` silences (unless `noqa=False`:
    the flake8 plugin leaves `# noqa` to flake8, so that `--disable-noqa` works). With the file's
    `path`, constants imported from the project's modules are followed."""
    from modal_gpu_lint.analysis.positions import node_spans
    from modal_gpu_lint.analysis.scopes import forget_scopes
    from modal_gpu_lint.analysis.sites import find_sites
    from modal_gpu_lint.rules.needs import forget_bodies
    from modal_gpu_lint.rules.registry import CHECKERS, Context

    facts = find_sites(module, path, text)
    if not facts.sites and not facts.events:
        return Analysis()
    ctx = Context(facts, settings.catalog, settings.fix_timeout, codes)
    try:
        findings = [f for check in CHECKERS for f in check(ctx) if f.code in codes]
    finally:  # what the checkers remember of this module holds its whole tree
        forget_bodies()
        forget_scopes()
    if settings.target is not None:
        findings = for_target(findings, settings)
    dependencies = facts.resolver.dependencies
    if not findings:
        return Analysis(dependencies=dependencies)
    if facts.stand_ins:  # keywords read from a `**{...}` splat: report at the splat
        for f in findings:
            f.node = facts.stand_ins.get(id(f.node), f.node)
            if f.end_node is not None:
                f.end_node = facts.stand_ins.get(id(f.end_node), f.end_node)
            if f.fix is not None and any(id(getattr(change, "node", None)) in facts.made for change in f.fix.changes):
                f.fix = None  # it would edit a keyword that is only a dict key in the file
    nodes = [f.node for f in findings] + [f.end_node for f in findings if f.end_node is not None]
    spans = node_spans(module, nodes, facts.lines())
    if not noqa:
        return Analysis(findings, spans, dependencies=dependencies)
    lines = split_lines(text)
    kept = [
        f
        for f in findings
        if not (spans[id(f.node)].row <= len(lines) and suppressed(lines[spans[id(f.node)].row - 1], f.code))
    ]
    kept_ids = {id(f) for f in kept}
    dropped = [f for f in findings if id(f) not in kept_ids]  # (`f not in kept` was quadratic)
    # One fix may serve several findings (an import rename), or two findings may carry the same
    # edit (a constant used at two sites): a noqa comment on any of them keeps it unapplied.
    blocked = {id(f.fix) for f in dropped if f.fix is not None}
    if blocked:
        from modal_gpu_lint.fix.apply import same_changes

        blocked_changes = {same_changes(f.fix) for f in dropped if f.fix is not None}
        for f in kept:
            if f.fix is not None and (id(f.fix) in blocked or same_changes(f.fix) in blocked_changes):
                f.fix = None
    return Analysis(kept, spans, len(dropped), dependencies)


def for_target(findings: list[Finding], settings: Settings) -> list[Finding]:
    """Findings as they apply to the client the project targets: a fix that writes an API the
    target lacks is withheld; a finding about an API that still works there becomes an upgrade
    note (kept only with `upgrade-notes`)."""
    from modal_gpu_lint.facts.modal_versions import rule_versions, show

    target = settings.target
    assert target is not None
    versions = rule_versions()
    kept = []
    for finding in findings:
        known = versions.get(finding.code)
        if known is None:
            kept.append(finding)
            continue
        if finding.fix is not None and known.fix_needs is not None and not target.has(known.fix_needs):
            finding.fix = None
        if not target.has(known.stops):
            if not settings.upgrade_notes:
                continue
            change = "deprecated" if known.deprecated else "fails"
            finding.severity = "upgrade"
            finding.message = f"upgrade note (works on modal {target}, {change} from {show(known.stops)}): " + (
                finding.message
            )
        kept.append(finding)
    return kept


def to_diagnostics(
    path: str, module: cst.Module, text: str, analysis: Analysis, *, edits: bool = False
) -> list[Diagnostic]:
    """Findings with positions (and the text edits of their fixes when asked)."""
    from modal_gpu_lint.analysis.positions import LineIndex

    out = []
    index = LineIndex(text) if edits else None
    for finding in analysis.findings:
        start = analysis.spans[id(finding.node)]
        end = analysis.spans[id(finding.end_node or finding.node)]
        fix_edits: tuple[Edit, ...] = ()
        if index is not None and finding.fix is not None:
            from modal_gpu_lint.fix.apply import fix_edits as compute_edits

            fix_edits = compute_edits(module, text, finding.fix, index)
        out.append(
            Diagnostic(
                path=path,
                code=finding.code,
                message=finding.message,
                row=start.row,
                column=start.column,
                end_row=end.end_row,
                end_column=end.end_column,
                fix_applicability=finding.fix.applicability if finding.fix else None,
                fix_message=finding.fix.message if finding.fix else "",
                edits=fix_edits,
                severity=finding.severity,
            )
        )
    out.sort(key=lambda d: (d.row, d.column, d.code))
    return out


def parse_selected(path: str, data: bytes, settings: Settings) -> tuple[frozenset[str], Source, cst.Module] | None:
    """The codes selected for `path` and the parsed file; None when no selected rule can fire on
    it (nothing selected, or the prefilter or the gate rules it out). FileErrorException when it cannot be parsed."""
    codes = settings.codes_for(path)
    parsed = parse_modal(path, data) if codes else None
    return None if parsed is None else (codes, *parsed)


def lint_bytes(path: str, data: bytes, settings: Settings, *, edits: bool = False) -> FileResult:
    """Lint one file's bytes (a Jupyter notebook's JSON when `path` ends with `.ipynb`)."""
    if not is_notebook(path):
        return lint_python(path, data, settings, edits=edits)
    try:
        notebook, error = notebook_view(path, data, settings)
    except FileErrorException as problem:
        return FileResult(path, error=problem.error)
    if notebook is None:
        return FileResult(path)
    result = lint_python(path, notebook.text.encode("utf-8"), settings, edits=edits)
    result.diagnostics = [notebook.to_cells(d) for d in result.diagnostics]
    result.error = error or in_cell(notebook, result.error)
    return result


def notebook_view(path: str, data: bytes, settings: Settings) -> tuple[Notebook | None, FileError | None]:
    """A notebook's code as one program (None when nothing is to be checked in it), without the
    cells that cannot be parsed: the first of those is the error. FileErrorException: not a notebook."""
    try:
        notebook = read_notebook(data)
    except NotebookError as error:
        raise FileErrorException(FileError(path, error.message, error.row, error.column)) from None
    if not notebook.python:
        return None, None
    try:
        parse_selected(path, notebook.text.encode("utf-8"), settings)
        return notebook, None
    except FileErrorException as whole:
        bad: dict[int, FileError] = {}
        for number, text in cell_texts(notebook).items():
            try:
                parse(path, text.encode("utf-8"))
            except FileErrorException as problem:
                bad[number] = replace(problem.error, cell=number)
        if not bad:  # no cell fails alone (a block left open across cells): blame the cell where it failed
            located = in_cell(notebook, whole.error)
            assert located is not None
            bad[located.cell or 0] = located
        first = bad[min(bad)]
        more = f" (and {len(bad) - 1} more {'cell' if len(bad) == 2 else 'cells'})" if len(bad) > 1 else ""
        return without_cells(notebook, set(bad)), replace(first, message=first.message + more)


def in_cell(notebook: Notebook, error: FileError | None) -> FileError | None:
    """An error on a notebook's joined text, moved to its cell."""
    if error is None or not error.row or error.cell is not None:
        return error
    cell, row = notebook.locate(error.row)
    return replace(error, row=row, cell=cell)


def lint_python(path: str, data: bytes, settings: Settings, *, edits: bool = False) -> FileResult:
    """Lint one Python file's bytes."""
    result = FileResult(path)
    try:
        parsed = parse_selected(path, data, settings)
    except FileErrorException as error:
        result.error = error.error
        return result
    if parsed is None:
        return result
    codes, source, module = parsed
    try:
        analysis = analyze(module, source.text, settings, codes, path=path)
        result.suppressed = analysis.suppressed
        result.dependencies = analysis.dependencies
        result.diagnostics = to_diagnostics(path, module, source.text, analysis, edits=edits)
    except Exception as error:  # a bug in a rule: one line naming the file, never a traceback
        result.error = FileError(path, f"internal error: {type(error).__name__}: {error} (please report this)")
        result.diagnostics = []
    return result


def read_file(path: str, info: os.stat_result | None = None) -> bytes:
    """The bytes of a regular file (`info`: its `os.stat`, when known), or FileErrorException."""
    try:
        if not stat.S_ISREG((info or os.stat(path)).st_mode):  # a FIFO or a device would block or never end
            raise FileErrorException(FileError(path, "cannot read: not a regular file"))
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise FileErrorException(FileError(path, f"cannot read: {error.strerror or error}")) from None


def lint_file(path: str, settings: Settings, *, edits: bool = False) -> FileResult:
    """Lint one file on disk."""
    try:
        data = read_file(path)
    except FileErrorException as error:
        return FileResult(path, error=error.error)
    return lint_bytes(path, data, settings, edits=edits)
