"""read -> prefilter -> parse -> sites -> rules -> noqa -> positions -> diagnostics."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from .config import Settings
from .findings import Diagnostic, Edit, Finding
from .noqa import suppressed
from .positions import LineIndex, Span, node_spans
from .rules import CHECKERS, Context
from .sites import find_sites
from .source import Source, SourceError, decode

# A file can hold a Modal call only if it mentions modal, or calls `.function`/`.cls`/`.server`/
# `.with_options` on something (an App imported from a sibling module need not say "modal").
_MODAL_TEXT = re.compile(rb"modal|\.(?:function|cls|server|with_options)\b")
# ... and a rule can fire only if one of these words is there.
_RULE_TEXT = re.compile(
    rb"gpu|timeout|scaledown_window|keep_warm|concurrency_limit|allow_concurrent_inputs|max_inputs"
    rb"|Stub|web_endpoint"
)


def may_have_findings(data: bytes) -> bool:
    """The text prefilter: False means no rule can fire, so the file is not parsed."""
    return _MODAL_TEXT.search(data) is not None and _RULE_TEXT.search(data) is not None


@dataclass(frozen=True)
class FileError:
    """A file that could not be read, decoded or parsed."""

    path: str
    message: str
    row: int = 0
    column: int = 0

    def __str__(self) -> str:
        where = f"{self.path}:{self.row}:{self.column}" if self.row else self.path
        return f"{where}: {self.message}"


@dataclass
class FileResult:
    """What linting one file gave."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: FileError | None = None
    suppressed: int = 0


@dataclass
class Parsed:
    """A parsed file and its findings, kept for the fixer."""

    source: Source
    module: cst.Module
    findings: list[Finding]  # selected and not suppressed by `# noqa`


def parse(path: str, data: bytes) -> tuple[Source, cst.Module]:
    """Decode and parse, or raise FileError."""
    try:
        source = decode(data)
    except SourceError as error:
        raise FileErrorException(FileError(path, error.message, error.row, error.column)) from None
    try:
        module = cst.parse_module(source.text)
    except cst.ParserSyntaxError as error:
        message = str(error.message).strip().splitlines()[0] if error.message else "invalid syntax"
        raise FileErrorException(
            FileError(path, f"cannot parse: {message}", error.raw_line, error.raw_column + 1)
        ) from None
    except (RecursionError, MemoryError):
        raise FileErrorException(FileError(path, "cannot parse: nested too deeply")) from None
    except Exception as error:  # the native parser may raise anything on hostile input
        raise FileErrorException(FileError(path, f"cannot parse: {type(error).__name__}: {error}")) from None
    return source, module


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


def analyze(module: cst.Module, text: str, settings: Settings, codes: frozenset[str]) -> Analysis:
    """Run the checkers on a parsed module and drop what `# noqa` silences."""
    facts = find_sites(module)
    if not facts.sites and not facts.events:
        return Analysis()
    ctx = Context(facts, settings.catalog, settings.fix_timeout, codes)
    findings = [f for check in CHECKERS for f in check(ctx) if f.code in codes]
    if not findings:
        return Analysis()
    nodes = [f.node for f in findings] + [f.end_node for f in findings if f.end_node is not None]
    spans = node_spans(module, nodes, LineIndex(text))
    lines = text.splitlines()
    kept = [
        f
        for f in findings
        if not (spans[id(f.node)].row <= len(lines) and suppressed(lines[spans[id(f.node)].row - 1], f.code))
    ]
    return Analysis(kept, spans, len(findings) - len(kept))


def to_diagnostics(
    path: str, module: cst.Module, text: str, analysis: Analysis, *, edits: bool = False
) -> list[Diagnostic]:
    """Findings with positions (and the text edits of their fixes when asked)."""
    out = []
    index = LineIndex(text) if edits else None
    for finding in analysis.findings:
        start = analysis.spans[id(finding.node)]
        end = analysis.spans[id(finding.end_node or finding.node)]
        fix_edits: tuple[Edit, ...] = ()
        if index is not None and finding.fix is not None:
            from .fix import fix_edits as compute_edits

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
            )
        )
    out.sort(key=lambda d: (d.row, d.column, d.code))
    return out


def lint_bytes(path: str, data: bytes, settings: Settings, *, edits: bool = False) -> FileResult:
    """Lint one file's bytes."""
    result = FileResult(path)
    codes = settings.codes_for(path)
    if not codes or not may_have_findings(data):
        return result
    try:
        source, module = parse(path, data)
    except FileErrorException as error:
        result.error = error.error
        return result
    analysis = analyze(module, source.text, settings, codes)
    result.suppressed = analysis.suppressed
    result.diagnostics = to_diagnostics(path, module, source.text, analysis, edits=edits)
    return result


def lint_file(path: str, settings: Settings, *, edits: bool = False) -> FileResult:
    """Lint one file on disk."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return FileResult(path, error=FileError(path, f"cannot read: {error.strerror or error}"))
    return lint_bytes(path, data, settings, edits=edits)
