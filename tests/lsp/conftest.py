"""pytest-lsp harness: the real server process, driven by a test client."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "async_test_lint.lsp"]
ENV = {**os.environ, "ASYNC_TEST_LINT_LOG_LEVEL": "WARNING"}

BROKEN = """\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.TestCase):
    def test_fetch(self):
        user = asyncio.run(fetch_user(1))
        self.assertEqual(user["id"], 1)
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    registrations: list[types.Registration] = []
    lsp_client.registrations = registrations  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    yield
    if lsp_client.capabilities is not None and not getattr(lsp_client, "exited", False):
        await lsp_client.shutdown_session()


def capabilities(
    name: str = "visual-studio-code", encodings: Sequence[str] | None = None
) -> types.ClientCapabilities:
    caps = client_capabilities(name)
    if encodings is not None:
        caps.general = caps.general or types.GeneralClientCapabilities()
        caps.general.position_encodings = [types.PositionEncodingKind(e) for e in encodings]
    return caps


async def initialize(
    client: LanguageClient,
    caps: types.ClientCapabilities | None = None,
    options: Any = None,
    folders: Sequence[Path] = (),
    send_initialized: bool = True,
) -> types.InitializeResult:
    params = types.InitializeParams(
        capabilities=caps or capabilities(),
        initialization_options=options,
        workspace_folders=[
            types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name) for folder in folders
        ]
        or None,
        root_uri=folders[0].as_uri() if folders else None,
    )
    if send_initialized:
        return await client.initialize_session(params)
    client.capabilities = params.capabilities
    if params.process_id is None:
        params.process_id = os.getpid()
    return await client.initialize_async(params)


def open_document(
    client: LanguageClient, uri: str, text: str, version: int = 1, language: str = "python"
) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=version, text=text
            )
        )
    )


def change(
    client: LanguageClient,
    uri: str,
    version: int,
    text: str,
    at: types.Range | None = None,
) -> None:
    event: types.TextDocumentContentChangeEvent
    if at is None:
        event = types.TextDocumentContentChangeWholeDocument(text=text)
    else:
        event = types.TextDocumentContentChangePartial(range=at, text=text)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[event],
        )
    )


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the server")
        await asyncio.sleep(0.01)


async def diagnostics_for(
    client: LanguageClient, uri: str, count: int | None = None, timeout: float = 10.0
) -> Sequence[types.Diagnostic]:
    def ready() -> bool:
        found = client.diagnostics.get(uri)
        return found is not None and (count is None or len(found) == count)

    await until(ready, timeout)
    return client.diagnostics[uri]


async def settle(seconds: float = 0.3) -> None:
    await asyncio.sleep(seconds)


async def next_diagnostics(
    client: LanguageClient, uri: str, previous: Sequence[types.Diagnostic], timeout: float = 10.0
) -> Sequence[types.Diagnostic]:
    """The next publication for `uri` after `previous` (by identity)."""
    await until(lambda: client.diagnostics.get(uri) is not previous, timeout)
    return client.diagnostics[uri]
