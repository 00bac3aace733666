"""The same session under the capability snapshots of real clients (pytest-lsp ships them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import BROKEN, capabilities, diagnostics_for, initialize, open_document
from .edits import apply, edits_of

CLIENTS = ["visual-studio-code", "neovim", "neovim@v0.7.0", "neovim@v0.6.1", "emacs"]


@pytest.mark.asyncio
@pytest.mark.parametrize("name", CLIENTS)
async def test_session(client: LanguageClient, tmp_path: Path, name: str) -> None:
    caps = capabilities(name)
    result = await initialize(client, caps=caps, folders=[tmp_path])
    sync = result.capabilities.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    found = list(await diagnostics_for(client, uri, 1))
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=found[0].range.start
        )
    )
    assert hover is not None
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=found[0].range,
            context=types.CodeActionContext(diagnostics=found),
        )
    )
    assert actions is not None
    fix = actions[0]
    assert isinstance(fix, types.CodeAction)
    if fix.edit is None:
        fix = await client.code_action_resolve_async(fix)
    fixed = apply(
        BROKEN, edits_of(fix.edit, uri), result.capabilities.position_encoding or "utf-16"
    )
    assert "class UserTest(unittest.IsolatedAsyncioTestCase):" in fixed
    assert client.messages == []
