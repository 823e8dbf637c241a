"""`modal-gpu-lint server` end to end: a real LSP client (pytest-lsp) talks to the server in a
subprocess over stdio, as an editor does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from modal_gpu_lint.facts.catalog import default_catalog

APP = """\
import modal

app = modal.App("lsp")


@app.function(gpu="A100-80G", timeout=60, keep_warm=1)
def train() -> None: ...


@app.function(gpu=["H100:8", "A100-40GB:2"], timeout=60)
def big() -> None: ...
"""
SERVER = [sys.executable, "-m", "modal_gpu_lint", "server"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    params = types.InitializeParams(capabilities=client_capabilities("visual-studio-code"))
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def open_doc(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[uri])


async def change_doc(client: LanguageClient, path: Path, text: str, version: int) -> list[types.Diagnostic]:
    uri = path.as_uri()
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[uri])


def at(d: types.Diagnostic) -> tuple[Any, int, int, int, int]:
    r = d.range
    return (d.code, r.start.line, r.start.character, r.end.line, r.end.character)


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text: UTF-16 units are characters) from the last to the first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p: types.Position) -> int:
        return starts[min(p.line, len(lines))] + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


@pytest.mark.asyncio
async def test_diagnostics_on_open_and_on_change(client: LanguageClient, tmp_path: Path) -> None:
    diagnostics = await open_doc(client, tmp_path / "app.py", APP)
    assert [at(d) for d in diagnostics] == [("MGL001", 5, 14, 5, 28), ("MGL201", 5, 42, 5, 53)]
    first = diagnostics[0]
    assert first.source == "modal-gpu-lint"
    assert first.severity == types.DiagnosticSeverity.Error
    assert first.message == "unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?"
    assert first.code_description is not None
    assert first.code_description.href.endswith("docs/rules.md#mgl001")
    changed = await change_doc(client, tmp_path / "app.py", APP.replace("A100-80G", "A100-80GB"), 2)
    assert [at(d) for d in changed] == [("MGL201", 5, 43, 5, 54)]


@pytest.mark.asyncio
async def test_columns_are_utf16_units(client: LanguageClient, tmp_path: Path) -> None:
    text = APP.replace('@app.function(gpu="A100-80G"', '@app.function(name="\U0001f680", gpu="A100-80G"')
    diagnostics = await open_doc(client, tmp_path / "app.py", text)
    # The rocket is one character but two UTF-16 code units, as LSP counts by default.
    assert at(diagnostics[0]) == ("MGL001", 5, 14 + len('name="\U0001f680", ') + 1, 5, 28 + len('name="", ') + 2)


@pytest.mark.asyncio
async def test_quick_fixes_safe_preferred_unsafe_marked(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    diagnostics = await open_doc(client, path, APP)
    whole_line = types.Range(start=types.Position(5, 0), end=types.Position(5, 60))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=whole_line,
            context=types.CodeActionContext(diagnostics=diagnostics, only=[types.CodeActionKind.QuickFix]),
        )
    )
    assert actions is not None
    by_title = {a.title: a for a in actions if isinstance(a, types.CodeAction)}
    assert sorted(by_title) == ["Rename to min_containers (MGL201)", "Write 'A100-80GB' (MGL001, unsafe fix)"]
    safe, unsafe = by_title["Rename to min_containers (MGL201)"], by_title["Write 'A100-80GB' (MGL001, unsafe fix)"]
    assert (safe.kind, safe.is_preferred, unsafe.is_preferred) == (types.CodeActionKind.QuickFix, True, False)
    assert safe.diagnostics is not None
    assert [d.code for d in safe.diagnostics] == ["MGL201"]
    assert safe.edit is not None
    assert safe.edit.changes is not None
    assert apply_edits(APP, safe.edit.changes[path.as_uri()]) == APP.replace("keep_warm=1", "min_containers=1")
    assert unsafe.edit is not None
    assert unsafe.edit.changes is not None
    assert apply_edits(APP, unsafe.edit.changes[path.as_uri()]) == APP.replace('"A100-80G"', '"A100-80GB"')


@pytest.mark.asyncio
async def test_fix_all_source_action_applies_the_safe_fixes(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    text = APP + '\n\n@app.function(gpu="T4", timeout=60, container_idle_timeout=5)\ndef idle() -> None: ...\n'
    await open_doc(client, path, text)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll]),
        )
    )
    assert actions is not None
    assert len(actions) == 1
    action = actions[0]
    assert isinstance(action, types.CodeAction)
    assert action.kind == "source.fixAll.modal-gpu-lint"
    assert action.edit is not None
    assert action.edit.changes is not None
    fixed = apply_edits(text, action.edit.changes[path.as_uri()])
    assert fixed == text.replace("keep_warm=1", "min_containers=1").replace(
        "container_idle_timeout=5", "scaledown_window=5"
    )
    assert path.read_text(encoding="utf-8") == text  # the server writes nothing: the editor applies the edit


def hover_text(hover: types.Hover | None) -> str:
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


def hourly(name: str, count: int = 1) -> str:
    gpu = default_catalog().lookup(name)
    assert gpu is not None
    assert gpu.price is not None
    return f"${gpu.price * 3600 * count:,.2f}/h"


@pytest.mark.asyncio
async def test_hover_explains_a_gpu_value_and_a_fallback_list(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    await open_doc(client, path, APP)
    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    single = await client.text_document_hover_async(types.HoverParams(doc, types.Position(5, 22)))
    text = hover_text(single)
    assert "MGL001: unknown GPU type 'A100-80G'; did you mean 'A100-80GB'?" in text
    listed = hover_text(await client.text_document_hover_async(types.HoverParams(doc, types.Position(9, 21))))
    assert listed.splitlines()[0] == "**Fallback list**: 2 options, tried in order at each scale-up"
    assert "1. **`H100:8`**" in listed
    assert "   - type: 8 x H100" in listed
    assert "   - memory: 80 GB per GPU, 640 GB in total" in listed
    assert "   - at most 8 per container" in listed
    assert f"   - price: {hourly('H100')} per GPU, {hourly('H100', 8)} for 8 (prices of 2026-06)" in listed
    assert "2. **`A100-40GB:2`**" in listed
    assert "   - note: never upgraded" in listed
    nothing = await client.text_document_hover_async(types.HoverParams(doc, types.Position(0, 3)))
    assert nothing is None


@pytest.mark.asyncio
async def test_config_and_catalog_additions_apply(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.modal-gpu-lint]\n"
        'per-file-ignores = { "scripts/*" = ["MGL201"] }\n'
        '[tool.modal-gpu-lint.gpus.MI300X]\nmemory-gb = 192\nmax-count = 8\nprice = 0.001\nnote = "our own pool"\n',
        encoding="utf-8",
    )
    (tmp_path / "scripts").mkdir()
    text = APP.replace('"A100-80G"', '"MI300X:2"')
    diagnostics = await open_doc(client, tmp_path / "scripts" / "app.py", text)
    assert diagnostics == []  # the added type is known; MGL201 is ignored for scripts/*
    doc = types.TextDocumentIdentifier(uri=(tmp_path / "scripts" / "app.py").as_uri())
    hover = hover_text(await client.text_document_hover_async(types.HoverParams(doc, types.Position(5, 22))))
    assert "- memory: 192 GB per GPU, 384 GB in total" in hover
    assert "- note: our own pool" in hover


@pytest.mark.asyncio
async def test_completion_inside_a_gpu_string(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    text = APP + '\n\n@app.function(gpu="H1'
    await open_doc(client, path, text)
    row = len(text.splitlines()) - 1
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri=path.as_uri()), types.Position(row, 21))
    )
    assert isinstance(result, types.CompletionList)
    labels = [item.label for item in result.items]
    catalog = default_catalog()
    assert labels.count("H100") == 1
    assert {"H100!", "H100:8", "H100!:8", "B200+", "any"} <= set(labels)
    assert "H100:9" not in labels
    assert "A10:5" not in labels
    assert len({label.split(":")[0].rstrip("!+").upper() for label in labels}) == len(catalog.types)
    h100 = next(item for item in result.items if item.label == "H100:8")
    assert isinstance(h100.text_edit, types.TextEdit)
    assert h100.text_edit.range == types.Range(start=types.Position(row, 19), end=types.Position(row, 21))
    assert h100.detail == f"640 GB (8 x 80 GB), {hourly('H100', 8)}"
    outside = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri=path.as_uri()), types.Position(0, 5))
    )
    assert outside is None


@pytest.mark.asyncio
async def test_requests_for_an_unknown_file_get_empty_answers(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(APP, encoding="utf-8")  # on disk, but never opened by the client
    doc = types.TextDocumentIdentifier(uri=path.as_uri())
    ghost = types.TextDocumentIdentifier(uri=(tmp_path / "missing.py").as_uri())
    for identifier in (doc, ghost):
        assert await client.text_document_hover_async(types.HoverParams(identifier, types.Position(5, 22))) is None
        everything = types.Range(start=types.Position(0, 0), end=types.Position(99, 0))
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(identifier, everything, types.CodeActionContext(diagnostics=[]))
        )
        assert not actions
        completion = await client.text_document_completion_async(
            types.CompletionParams(identifier, types.Position(5, 20))
        )
        assert completion is None
    # The server is still serving.
    assert [at(d)[0] for d in await open_doc(client, path, APP)] == ["MGL001", "MGL201"]


@pytest.mark.asyncio
async def test_a_file_that_does_not_parse_gets_one_error_and_close_clears(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "app.py"
    diagnostics = await open_doc(client, path, APP + "\ndef broken(:\n")
    assert [(d.severity, d.range.start.line, d.message) for d in diagnostics] == [
        (types.DiagnosticSeverity.Error, 12, "modal-gpu-lint cannot check this file: cannot parse: invalid syntax")
    ]
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=path.as_uri())))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[path.as_uri()]) == []
