"""Typing through syntax errors, odd clients, cancellation, shutdown and exit codes."""

from __future__ import annotations

import asyncio
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound
from pytest_lsp import LanguageClient

from .conftest import (
    BROKEN,
    capabilities,
    change,
    diagnostics_for,
    initialize,
    next_diagnostics,
    open_document,
    settle,
    until,
)
from .test_diagnostics import record_publishes

pytestmark = pytest.mark.asyncio
BROKEN_SYNTAX = "def typing_now(:\n"


@pytest.mark.parametrize("show", [False, True])
async def test_syntax_error_keeps_last_good_diagnostics(
    client: LanguageClient, tmp_path: Path, show: bool
) -> None:
    await initialize(client, options={"showSyntaxErrors": show}, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    previous = await diagnostics_for(client, uri, 1)
    at_top = types.Range(types.Position(0, 0), types.Position(0, 0))
    change(client, uri, 2, BROKEN_SYNTAX, at_top)
    found = await next_diagnostics(client, uri, previous)
    codes = sorted(str(d.code) for d in found)
    assert codes == (["ATL001", "ATL101"] if show else ["ATL101"])
    kept = next(d for d in found if d.code == "ATL101")
    assert kept.range.start == types.Position(12, 15), "moved down with the inserted line"
    assert kept.data["fix"] is None, "no fix offered for a text that does not parse"
    # Keep typing: still no popup, the squiggle stays.
    for version, letter in enumerate("abc", start=3):
        change(client, uri, version, letter, at_top)
    await settle(0.3)
    assert [d.code for d in client.diagnostics[uri] if d.code == "ATL101"] == ["ATL101"]
    # Repair it: a real lint again, with its fix.
    change(client, uri, 6, "", types.Range(types.Position(0, 0), types.Position(1, 0)))
    await until(
        lambda: len(client.diagnostics[uri]) == 1 and client.diagnostics[uri][0].data["fix"]
    )
    assert client.messages == [], "never window/showMessage"


async def test_client_that_never_sends_initialized(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, caps=capabilities("neovim"), send_initialized=False)
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    assert len(await diagnostics_for(client, uri, 1)) == 1
    assert client.registrations == []  # type: ignore[attr-defined]
    assert client.progress_reports == {}


async def test_unknown_methods(client: LanguageClient) -> None:
    await initialize(client)
    with pytest.raises(JsonRpcMethodNotFound):
        await client.protocol.send_request_async("asyncTestLint/noSuchMethod", {})
    client.protocol.notify("asyncTestLint/noSuchNotification", {})
    # A malformed notification: logged, no popup, the server carries on.
    body = json.dumps(
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": 1}}}
    )
    writer = client.protocol.writer
    assert writer is not None
    written = writer.write(f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
    if inspect.isawaitable(written):
        await written
    await settle(0.3)
    assert client.messages == []
    result = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri="file:///nowhere.py"),
            position=types.Position(0, 0),
        )
    )
    assert result is None


@pytest.mark.parametrize(
    "uri", ["untitled:Untitled-1", "vscode-notebook-cell:/tmp/n.ipynb#W0sZmlsZQ%3D%3D"]
)
async def test_documents_without_a_path(client: LanguageClient, uri: str) -> None:
    await initialize(client)
    open_document(client, uri, BROKEN)
    found = list(await diagnostics_for(client, uri, 1))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=found[0].range,
            context=types.CodeActionContext(diagnostics=found),
        )
    )
    assert actions is not None
    resolved = await client.code_action_resolve_async(actions[0])  # type: ignore[arg-type]
    assert resolved.edit is not None


async def test_closed_while_a_lint_is_pending(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    seen = record_publishes(client)
    uri = (tmp_path / "test_big.py").as_uri()
    body = BROKEN + "".join(
        f"\n    def test_{n}(self):\n        asyncio.run(fetch_user({n}))\n" for n in range(800)
    )
    open_document(client, uri, body)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await until(lambda: any(p.uri == uri for p in seen))
    await settle(1.0)
    mine = [p for p in seen if p.uri == uri]
    assert mine[-1].diagnostics == [] or list(mine[-1].diagnostics) == []


async def test_cancellation(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    await diagnostics_for(client, uri, 1)
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(11, 20)
    )
    for number in range(5):
        future = client.protocol.send_request(
            types.TEXT_DOCUMENT_HOVER, params, msg_id=f"c{number}"
        )
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=f"c{number}"))
        try:
            await asyncio.wrap_future(future)
        except Exception as error:  # cancelled: RequestCancelled (-32800)
            assert "cancel" in str(error).lower()
    alive = await client.text_document_hover_async(params)
    assert alive is not None
    assert client.messages == []


async def _exit_code(client: LanguageClient) -> Any:
    client.exit(None)
    client.exited = True  # type: ignore[attr-defined]
    server = client._server
    assert server is not None
    return await asyncio.wait_for(server.wait(), 10)


async def test_shutdown_then_exit_is_0(client: LanguageClient) -> None:
    await initialize(client)
    await client.shutdown_async(None)
    assert await _exit_code(client) == 0


async def test_exit_without_shutdown_is_1(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    open_document(client, (tmp_path / "test_user.py").as_uri(), BROKEN)
    assert await _exit_code(client) == 1
