"""`modal-gpu-lint server`: a language server over stdio (pygls, the optional extra `[lsp]`).

It lints each open Python document on open and on every change with the same engine as the
command line (the project's pyproject.toml applies, found from the document's folder), and
publishes the findings. Each fix is a quick-fix code action (safe ones preferred, unsafe ones
marked); "fix all" is a `source.fixAll` action that applies the safe fixes as `--fix` does.
Hover on a `gpu=` value explains it; completion inside `gpu="` offers the catalog's values.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import ServerTextPosition, ServerTextRange, TextDocument

from modal_gpu_lint import __version__
from modal_gpu_lint.doors.lsp_text import gpu_string_being_typed, gpu_value_at
from modal_gpu_lint.findings import Diagnostic, Edit, Finding
from modal_gpu_lint.report.gpu_help import choices, describe_value
from modal_gpu_lint.report.output import level
from modal_gpu_lint.rules.table import RULES
from modal_gpu_lint.run.config import ConfigError, Settings, find_config, load_settings
from modal_gpu_lint.run.engine import (
    Analysis,
    FileError,
    FileErrorException,
    analyze,
    may_have_findings,
    to_diagnostics,
)
from modal_gpu_lint.run.reparse import Reparser

if TYPE_CHECKING:
    import libcst as cst

NAME = "modal-gpu-lint"
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.{NAME}"
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}


@dataclass
class Linted:
    """The last lint of one open document: what was published, and what its fixes need."""

    version: int | None
    path: str
    text: str
    settings: Settings
    module: cst.Module | None = None
    found: list[tuple[Finding, Diagnostic, types.Diagnostic]] = field(default_factory=list)


class Server(LanguageServer):
    """The language server and what it remembers: settings per folder, lints per document."""

    def __init__(self) -> None:
        super().__init__(NAME, __version__)
        self.linted: dict[str, Linted] = {}
        self.reparsers: dict[str, Reparser] = {}  # per open document: its last parse, re-used on the next change
        self.settings_by_folder: dict[str, tuple[str | None, float, Settings]] = {}
        self.reported_config_errors: set[str] = set()

    # ---- settings -------------------------------------------------------------------------------
    def settings_for(self, path: str) -> Settings:
        """The settings of the project `path` is in (re-read when its pyproject.toml changes)."""
        folder = os.path.dirname(os.path.abspath(path))
        try:
            config = find_config(Path(folder))
        except ConfigError as error:
            return self._config_error(str(error), folder)
        key = str(config) if config else None
        mtime = config.stat().st_mtime if config and config.exists() else 0.0
        known = self.settings_by_folder.get(folder)
        if known is not None and known[0] == key and known[1] == mtime:
            return known[2]
        try:
            settings = load_settings(config, start=Path(folder))
        except ConfigError as error:
            return self._config_error(str(error), folder)
        self.settings_by_folder[folder] = (key, mtime, settings)
        return settings

    def _config_error(self, message: str, folder: str) -> Settings:
        if message not in self.reported_config_errors:  # say it once, not on every keystroke
            self.reported_config_errors.add(message)
            self.window_show_message(
                types.ShowMessageParams(types.MessageType.Error, f"{NAME}: {message}; using the default settings")
            )
        return Settings(root=Path(folder))

    # ---- linting --------------------------------------------------------------------------------
    def lint(self, document: TextDocument) -> None:
        """Lint an open document and publish what was found."""
        path = to_fs_path(document.uri) or document.uri
        if not _is_python(document, path):
            return
        text = document.source
        settings = self.settings_for(path)
        linted = Linted(document.version, path, text, settings)
        published: list[types.Diagnostic] = []
        try:
            codes = settings.codes_for(path)
            if codes and may_have_findings(text.encode("utf-8")):
                reparser = self.reparsers.get(document.uri)
                if reparser is None or reparser.path != path:
                    reparser = self.reparsers[document.uri] = Reparser(path)
                source, module = reparser.parse(text)
                linted.module = module
                analysis = analyze(module, source.text, settings, codes)
                for finding in analysis.findings:
                    one = Analysis([finding], analysis.spans)
                    diagnostic = to_diagnostics(path, module, source.text, one)[0]
                    lsp = self.to_lsp(document, diagnostic)
                    linted.found.append((finding, diagnostic, lsp))
                linted.found.sort(key=lambda item: (item[1].row, item[1].column, item[1].code))
                published = [lsp for _, _, lsp in linted.found]
        except FileErrorException as problem:
            published = [self.error_to_lsp(document, problem.error)]
        except Exception as error:  # a bug in a rule: tell the user, keep serving
            published = [
                self.error_to_lsp(document, FileError(path, f"internal error: {type(error).__name__}: {error}"))
            ]
        self.linted[document.uri] = linted
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=document.uri, diagnostics=published, version=document.version)
        )

    def to_lsp(self, document: TextDocument, d: Diagnostic) -> types.Diagnostic:
        """A finding as an LSP diagnostic (positions in the client's units)."""
        rule = RULES[d.code]
        data: dict[str, Any] = {"fix": d.fix_applicability, "fix_message": d.fix_message}
        return types.Diagnostic(
            range=self.range(document, d.row, d.column, d.end_row, d.end_column),
            message=d.message,
            severity=_SEVERITY[level(d.code)],
            code=d.code,
            code_description=types.CodeDescription(href=rule.url),
            source=NAME,
            data=data,
        )

    def error_to_lsp(self, document: TextDocument, error: FileError) -> types.Diagnostic:
        """A file the engine cannot read as a diagnostic at the place named (or the first line)."""
        row, column = max(error.row, 1), max(error.column, 1)
        return types.Diagnostic(
            range=self.range(document, row, column, row, column + 1),
            message=f"{NAME} cannot check this file: {error.message}",
            severity=types.DiagnosticSeverity.Error,
            source=NAME,
        )

    def range(self, document: TextDocument, row: int, column: int, end_row: int, end_column: int) -> types.Range:
        """A 1-based (row, column in characters) span as an LSP range in the client's units."""
        return _client_range(document, row - 1, column - 1, end_row - 1, end_column - 1)

    # ---- code actions -------------------------------------------------------------------------
    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        """Quick fixes for the findings in the range, and "fix all" for the document."""
        document = self.document(params.text_document.uri)
        linted = self.linted.get(params.text_document.uri)
        if document is None or linted is None or linted.text != document.source or linted.module is None:
            return []
        only = params.context.only
        actions: list[types.CodeAction] = []
        if not only or any(types.CodeActionKind.QuickFix.value.startswith(k) or k == "quickfix" for k in only):
            actions.extend(self.quick_fixes(document, linted, params.range))
        if not only or any(FIX_ALL.startswith(k) for k in only):
            fix_all = self.fix_all(document, linted)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

    def quick_fixes(self, document: TextDocument, linted: Linted, wanted: types.Range) -> list[types.CodeAction]:
        from modal_gpu_lint.analysis.positions import LineIndex
        from modal_gpu_lint.fix.apply import fix_edits

        assert linted.module is not None
        index = LineIndex(linted.text)
        out = []
        for finding, diagnostic, lsp in linted.found:
            if finding.fix is None or not _overlaps(lsp.range, wanted):
                continue
            edits = fix_edits(linted.module, linted.text, finding.fix, index)
            if not edits:
                continue
            safe = finding.fix.applicability == "safe"
            out.append(
                types.CodeAction(
                    title=f"{finding.fix.message} ({diagnostic.code}{'' if safe else ', unsafe fix'})",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[lsp],
                    is_preferred=safe,
                    edit=self.workspace_edit(document, [self.text_edit(document, e) for e in edits]),
                )
            )
        return out

    def fix_all(self, document: TextDocument, linted: Linted) -> types.CodeAction | None:
        from modal_gpu_lint.analysis.source import decode
        from modal_gpu_lint.run.fixer import fix_bytes

        if not any(f.fix is not None and f.fix.applicability == "safe" for f, _, _ in linted.found):
            return None
        result = fix_bytes(linted.path, linted.text.encode("utf-8"), linted.settings)
        if result.new_bytes is None:
            return None
        new = decode(result.new_bytes).text
        lines = document.lines
        whole = types.Range(start=types.Position(0, 0), end=types.Position(len(lines), 0))
        return types.CodeAction(
            title=f"{NAME}: fix all safe fixes ({result.fixed})",
            kind=FIX_ALL,
            edit=self.workspace_edit(document, [types.TextEdit(range=whole, new_text=new)]),
        )

    def text_edit(self, document: TextDocument, edit: Edit) -> types.TextEdit:
        return types.TextEdit(
            range=self.range(document, edit.row, edit.column, edit.end_row, edit.end_column), new_text=edit.content
        )

    def workspace_edit(self, document: TextDocument, edits: Sequence[types.TextEdit]) -> types.WorkspaceEdit:
        return types.WorkspaceEdit(changes={document.uri: list(edits)})

    # ---- hover and completion -----------------------------------------------------------------
    def hover(self, params: types.HoverParams) -> types.Hover | None:
        """What the `gpu=` value under the cursor asks for."""
        document = self.document(params.text_document.uri)
        if document is None or params.position.line >= len(document.lines):
            return None
        line = document.lines[params.position.line]
        column = document.position_from_client_units(params.position).character
        value = gpu_value_at(line, column)
        if value is None:
            return None
        catalog = self.settings_for(to_fs_path(document.uri) or document.uri).catalog
        row = params.position.line
        return types.Hover(
            contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown, value=describe_value(value.values, catalog, is_list=value.is_list)
            ),
            range=_client_range(document, row, value.start, row, value.end),
        )

    def completion(self, params: types.CompletionParams) -> types.CompletionList | None:
        """The catalog's GPU values, when the cursor is inside the quotes of a `gpu=` string."""
        document = self.document(params.text_document.uri)
        if document is None or params.position.line >= len(document.lines):
            return None
        line = document.lines[params.position.line]
        column = document.position_from_client_units(params.position).character
        typing = gpu_string_being_typed(line, column)
        if typing is None:
            return None
        catalog = self.settings_for(to_fs_path(document.uri) or document.uri).catalog
        row = params.position.line
        typed = _client_range(document, row, typing.start, row, column)
        items = [
            types.CompletionItem(
                label=choice.label,
                kind=types.CompletionItemKind.Value,
                detail=choice.detail,
                sort_text=choice.sort,
                filter_text=choice.label,
                text_edit=types.TextEdit(range=typed, new_text=choice.label),
            )
            for choice in choices(catalog)
        ]
        return types.CompletionList(is_incomplete=False, items=items)

    def document(self, uri: str) -> TextDocument | None:
        """An open document, or None for a file the client never opened (no read from disk)."""
        from urllib.parse import unquote

        documents = self.workspace.text_documents
        found = documents.get(uri) or documents.get(unquote(uri))
        return found if isinstance(found, TextDocument) else None


def _client_range(document: TextDocument, row: int, column: int, end_row: int, end_column: int) -> types.Range:
    """0-based rows and columns in characters as an LSP range in the client's units (UTF-16 by default)."""
    span = ServerTextRange(ServerTextPosition(row, column), ServerTextPosition(end_row, end_column))
    return document.range_to_client_units(span)


def _is_python(document: TextDocument, path: str) -> bool:
    if document.language_id is not None:
        return document.language_id == "python"
    return path.endswith((".py", ".pyi"))


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def build() -> Server:
    """The server with its features registered."""
    server = Server()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Server, params: types.DidOpenTextDocumentParams) -> None:
        document = ls.document(params.text_document.uri)
        if document is not None:
            ls.lint(document)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Server, params: types.DidChangeTextDocumentParams) -> None:
        document = ls.document(params.text_document.uri)
        if document is not None:
            ls.lint(document)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: Server, params: types.DidSaveTextDocumentParams) -> None:
        if params.text_document.uri.endswith("pyproject.toml"):  # the settings may have changed
            for uri in list(ls.linted):
                document = ls.document(uri)
                if document is not None:
                    ls.lint(document)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Server, params: types.DidCloseTextDocumentParams) -> None:
        ls.reparsers.pop(params.text_document.uri, None)
        if ls.linted.pop(params.text_document.uri, None) is not None:
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
            )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )
    def code_action(ls: Server, params: types.CodeActionParams) -> list[types.CodeAction]:
        return ls.code_actions(params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: Server, params: types.HoverParams) -> types.Hover | None:
        return ls.hover(params)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=['"', "'", ":"]))
    def completion(ls: Server, params: types.CompletionParams) -> types.CompletionList | None:
        return ls.completion(params)

    return server


def main(argv: Sequence[str] = ()) -> int:
    """Serve over stdin/stdout until the client says exit."""
    if argv and argv[0] in ("-h", "--help"):
        print(f"usage: {NAME} server\n\nA language server (LSP) over stdio; see the README for editor settings.")
        return 0
    if argv:
        print(f"{NAME} server: error: unexpected arguments: {' '.join(argv)}", file=sys.stderr)
        return 2
    build().start_io()
    return 0
