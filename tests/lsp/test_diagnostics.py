"""Live diagnostics: push on open/change/save, cleared on close, pull when the client can."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import (
    BROKEN,
    capabilities,
    change,
    diagnostics_for,
    initialize,
    open_document,
    settle,
    until,
)

pytestmark = pytest.mark.asyncio
FIXED_LINE = "        user = fetch_user\n"


def record_publishes(client: LanguageClient) -> list[types.PublishDiagnosticsParams]:
    """Keep every publishDiagnostics (pytest-lsp keeps only the last per URI)."""
    seen: list[types.PublishDiagnosticsParams] = []
    features = client.protocol.fm.features
    original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def recording(params: types.PublishDiagnosticsParams) -> Any:
        seen.append(params)
        return original(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = recording
    return seen


async def test_diagnostic_fields(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    (found,) = await diagnostics_for(client, uri, 1)
    assert found.source == "async-test-lint"
    assert found.code == "ATL101"
    assert found.code_description is not None
    assert found.code_description.href.endswith("/docs/rules/ATL101.md")
    assert found.severity == types.DiagnosticSeverity.Warning
    assert found.range == types.Range(types.Position(11, 15), types.Position(11, 41))
    assert found.message.startswith("asyncio.run() inside test_fetch of UserTest")
    assert found.data["fix"] == {
        "title": "Convert UserTest to IsolatedAsyncioTestCase, make 1 method async and await"
        " 1 call",
        "safety": "unsafe",
    }


async def test_incremental_changes_relint(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    await diagnostics_for(client, uri, 1)
    # Replace `asyncio.run(fetch_user(1))` by `fetch_user(1)`: an incremental edit.
    line = BROKEN.splitlines()[11]
    start = line.index("asyncio.run(")
    change(
        client,
        uri,
        2,
        "fetch_user(1)",
        types.Range(types.Position(11, start), types.Position(11, len(line) - 0)),
    )
    await diagnostics_for(client, uri, 0)
    # And type it back, one character at a time.
    text = "asyncio.run(fetch_user(1))"
    for offset in range(len("fetch_user(1)")):
        change(
            client,
            uri,
            3 + offset,
            "",
            types.Range(types.Position(11, start), types.Position(11, start + 1)),
        )
    version = 3 + len("fetch_user(1)")
    change(
        client,
        uri,
        version,
        text,
        types.Range(types.Position(11, start), types.Position(11, start)),
    )
    (found,) = await diagnostics_for(client, uri, 1)
    assert found.range.start == types.Position(11, start)


async def test_no_old_version_after_a_newer_one(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    seen = record_publishes(client)
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    for version in range(2, 60):
        body = BROKEN if version % 2 else BROKEN.replace("asyncio.run(", "(")
        change(client, uri, version, body)
    await until(lambda: any(p.version == 59 for p in seen))
    await settle(0.3)
    versions = [p.version for p in seen if p.uri == uri]
    assert versions == sorted(versions), versions
    assert versions[-1] == 59
    assert len(seen[-1].diagnostics) == 1  # version 59 is odd: broken


async def test_save_lints_when_lint_on_change_is_off(
    client: LanguageClient, tmp_path: Path
) -> None:
    await initialize(client, options={"lintOnChange": False}, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    await diagnostics_for(client, uri, 1)
    # A second offending test appended at the end: no lint until the save; the shown
    # squiggle moves down with the comment inserted above it.
    end = len(BROKEN.splitlines())
    extra = "\n    def test_again(self):\n        asyncio.run(fetch_user(2))\n"
    change(client, uri, 2, extra, types.Range(types.Position(end, 0), types.Position(end, 0)))
    change(client, uri, 3, "# moved\n", types.Range(types.Position(0, 0), types.Position(0, 0)))
    await settle(0.3)
    (kept,) = client.diagnostics[uri]
    assert kept.range.start == types.Position(12, 15)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    found = await diagnostics_for(client, uri, 2)
    assert [d.range.start.line for d in found] == [12, 16]


async def test_close_clears(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    await diagnostics_for(client, uri, 1)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await diagnostics_for(client, uri, 0)


def pull_capabilities() -> types.ClientCapabilities:
    caps = copy.deepcopy(capabilities("visual-studio-code"))
    assert caps.text_document is not None and caps.workspace is not None
    caps.text_document.diagnostic = types.DiagnosticClientCapabilities(
        dynamic_registration=False, related_document_support=False
    )
    caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    return caps


async def test_pull_diagnostics(client: LanguageClient, tmp_path: Path) -> None:
    result = await initialize(client, caps=pull_capabilities(), folders=[tmp_path])
    assert result.capabilities.diagnostic_provider is not None
    # Once the index is built the server asks the client to pull again.
    await until(lambda: client.diagnostic_refresh_count >= 1)
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    assert [d.code for d in report.items] == ["ATL101"]
    again = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            previous_result_id=report.result_id,
        )
    )
    assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)
    change(client, uri, 2, BROKEN.replace("asyncio.run(fetch_user(1))", "fetch_user(1)"))
    fresh = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            previous_result_id=report.result_id,
        )
    )
    assert isinstance(fresh, types.RelatedFullDocumentDiagnosticReport)
    assert list(fresh.items) == []
    await settle(0.2)
    assert uri not in client.diagnostics, "pull mode never pushes"


async def test_push_mode_has_no_diagnostic_provider(client: LanguageClient) -> None:
    result = await initialize(client, caps=capabilities("neovim"))
    assert result.capabilities.diagnostic_provider is None
