"""Typing through syntax errors, odd clients, cancellation, shutdown and exit codes."""

from __future__ import annotations

import asyncio
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from async_test_lint.lsp import create_server
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidRequest, JsonRpcMethodNotFound
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


# -- a lint that takes too long ------------------------------------------------------------------

#: 10,000 lines of nested `asyncio.run` calls in one function: about 1 s to parse and model alone
#: (the limit is checked once that is done), whatever the rules' speed.
PATHOLOGICAL_LINES = 10_000
PATHOLOGICAL = "\n\nasync def slow():\n" + "".join(
    f"    asyncio.run(asyncio.run(fetch_user({n})))\n" for n in range(PATHOLOGICAL_LINES)
)


def _abandoned(client: LanguageClient) -> list[str]:
    return [m.message for m in client.log_messages if "abandoned" in m.message]


async def test_a_lint_past_its_time_limit_is_abandoned_and_the_server_keeps_answering(
    client: LanguageClient, tmp_path: Path
) -> None:
    await initialize(client, options={"lintTimeoutMs": 250}, folders=[tmp_path])
    slow = (tmp_path / "test_slow.py").as_uri()
    open_document(client, slow, BROKEN)
    previous = await diagnostics_for(client, slow, 1)
    # Once indexed, nothing re-lints the slow version behind the next document's back.
    await until(lambda: any("modules indexed" in m.message for m in client.log_messages), 30)
    end = types.Position(BROKEN.count("\n"), 0)
    change(client, slow, 2, PATHOLOGICAL, types.Range(end, end))
    await until(lambda: bool(_abandoned(client)), timeout=30)
    assert f"{slow} (version 2)" in _abandoned(client)[0]

    # The last complete lint's diagnostics stay, without a fix (like a text that does not parse).
    kept = await next_diagnostics(client, slow, previous)
    assert [(d.code, d.data["fix"]) for d in kept] == [("ATL101", None)]

    # The lint thread is free again: another document is linted, requests are answered.
    other = (tmp_path / "test_other.py").as_uri()
    open_document(client, other, BROKEN)
    (found,) = await diagnostics_for(client, other, 1, timeout=30)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=other), position=found.range.start
        )
    )
    assert hover is not None
    # Asking about the slow version again uses its cached outcome: no second lint, no second log.
    await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=slow), position=kept[0].range.start
        )
    )
    assert len(_abandoned(client)) == 1
    assert client.messages == [], "never window/showMessage"

    # Removing the slow part lints in full again.
    inserted = types.Position(end.line + PATHOLOGICAL_LINES + 3, 0)
    change(client, slow, 3, "", types.Range(end, inserted))
    await until(
        lambda: len(client.diagnostics[slow]) == 1 and client.diagnostics[slow][0].data["fix"]
    )


# -- what the workspace holds --------------------------------------------------------------------


def _hostile_workspace(root: Path, pyproject: str) -> None:
    """Symlink loops, a dangling link, undecodable and unparsable files, a broken pyproject."""
    package = root / "pkg"
    package.mkdir()
    (package / "base.py").write_text(
        "import unittest\n\nclass Base(unittest.TestCase):\n    pass\n"
    )
    (package / "loop").symlink_to(root, target_is_directory=True)
    (package / "self").symlink_to(package, target_is_directory=True)
    (package / "test_gone.py").symlink_to(root / "nowhere.py")
    (package / "cycle_a.py").symlink_to(package / "cycle_b.py")
    (package / "cycle_b.py").symlink_to(package / "cycle_a.py")
    (package / "test_latin.py").write_bytes(b"x = '\xe9'\n")
    (package / "test_nul.py").write_bytes(b"x = 1\x00\n")
    (root / "pyproject.toml").write_text(pyproject)


@pytest.mark.parametrize(
    ("pyproject", "problem"),
    [
        ("[tool.async-test-lint\nselect = [\n", "invalid TOML"),
        ('[tool.async-test-lint]\nselect = "ATL1"\nignore = [1]\n', "select"),
    ],
    ids=["invalid-toml", "wrong-types"],
)
async def test_a_hostile_workspace_is_indexed_and_linted(
    client: LanguageClient, tmp_path: Path, pyproject: str, problem: str
) -> None:
    _hostile_workspace(tmp_path, pyproject)
    await initialize(client, folders=[tmp_path])
    await until(lambda: any("modules indexed" in m.message for m in client.log_messages), 30)
    # Only base.py: loops and links to folders are not followed, the dangling link and the link
    # cycle are skipped, the undecodable and the unparsable file are not indexed.
    assert "async-test-lint: 1 modules indexed" in [m.message for m in client.log_messages]
    uri = (tmp_path / "pkg" / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    assert [d.code for d in await diagnostics_for(client, uri, 1)] == ["ATL101"]  # defaults
    for name in ("test_latin.py", "test_nul.py"):  # opened in the editor: linted from its text
        other = (tmp_path / "pkg" / name).as_uri()
        open_document(client, other, (tmp_path / "pkg" / name).read_bytes().decode("latin-1"))
        await diagnostics_for(client, other)
    await settle(0.3)
    pyproject_path = str(tmp_path / "pyproject.toml")
    logged = [m.message for m in client.log_messages if pyproject_path in m.message]
    assert len(logged) == 1 and problem in logged[0] and "default settings" in logged[0], logged
    assert client.messages == []


async def test_requests_after_shutdown_are_refused(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    await diagnostics_for(client, uri, 1)
    await client.shutdown_async(None)
    with pytest.raises(JsonRpcInvalidRequest):
        await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(11, 20)
            )
        )
    # Notifications after shutdown are dropped: no lint, no publication, no crash.
    seen = record_publishes(client)
    change(client, uri, 2, "x = (", types.Range(types.Position(0, 0), types.Position(0, 0)))
    await settle(0.5)
    assert seen == []
    assert await _exit_code(client) == 0


class _Sink:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def close(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.written.append(data)


async def test_finished_notifications_are_forgotten() -> None:
    """Regression: pygls 2.1 kept one future per notification forever (RSS +27 MB over 10,000
    edits, see docs/robustness.md); now only unfinished ones are remembered, and `shutdown`,
    which cancels what is pending, still works."""
    server = create_server()
    protocol = server.protocol
    protocol.set_writer(_Sink())
    message = {"jsonrpc": "2.0", "method": "$/setTrace", "params": {"value": "off"}}
    for _ in range(200):
        protocol.handle_message(protocol.structure_message(message))
        await asyncio.sleep(0)
    assert len(protocol._request_futures) <= 1
    shutdown = {"jsonrpc": "2.0", "id": 1, "method": "shutdown", "params": None}
    protocol.handle_message(protocol.structure_message(shutdown))
    await settle(0.1)
    assert protocol._shutdown
