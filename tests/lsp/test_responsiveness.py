"""Lints never stand in the way of requests, stale lints are never published, `exit` is immediate.

The server runs with a lint that can be held (`blocking_server.py`): a document marked
`# BLOCK-LINT:<folder>` is linted only once `<folder>/release` exists. Nothing here measures time;
the timeouts are hang guards (see bench/bench_lsp.py for the latencies).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import BROKEN, ENV, change, diagnostics_for, initialize, open_document, until
from .test_diagnostics import record_publishes

pytestmark = pytest.mark.asyncio

HELD_SERVER = [sys.executable, str(Path(__file__).with_name("blocking_server.py"))]
#: documents from this size on are linted in the background worker process (an initialization
#: option, so these tests need no 10 MB text).
BACKGROUND = 2_000
HANG_GUARD = 20.0


@pytest_lsp.fixture(config=ClientServerConfig(server_command=HELD_SERVER, server_env=ENV))
async def held(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        pass

    yield
    if lsp_client.capabilities is not None and not getattr(lsp_client, "exited", False):
        hold_folder = getattr(lsp_client, "hold_folder", None)
        if hold_folder is not None:
            (Path(hold_folder) / "release").touch()
        await lsp_client.shutdown_session()


def held_text(folder: Path, size: int = 0) -> str:
    """BROKEN, whose lint waits for `folder/release`, padded to at least `size` characters."""
    text = f"{BROKEN}# BLOCK-LINT:{folder}\n"
    padding = max(0, size - len(text)) // 6 + 1
    return text + "# pad\n" * padding


def padded(size: int) -> str:
    return BROKEN + "# pad\n" * (size // 6 + 1)


async def started_lints(folder: Path, count: int = 1) -> list[int]:
    """The process ids of the held lints once `count` of them started."""
    await until(lambda: len(list(folder.glob("started-*"))) >= count, HANG_GUARD)
    return [int(path.name.split("-")[1]) for path in sorted(folder.glob("started-*"))]


async def start(client: LanguageClient, root: Path, options: object = None) -> Path:
    folder = root / "hold"
    folder.mkdir()
    client.hold_folder = str(folder)  # type: ignore[attr-defined]
    await initialize(client, options=options, folders=[root])
    return folder


def hover_params(uri: str, position: types.Position) -> types.HoverParams:
    return types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)


def server_pid(client: LanguageClient) -> int:
    assert client._server is not None
    return client._server.pid


async def gone(pid: int) -> None:
    def ended() -> bool:
        status = Path(f"/proc/{pid}/status")
        try:
            return "\nState:\tZ" in status.read_text()
        except OSError:
            return True

    await until(ended, HANG_GUARD)


async def exit_code(client: LanguageClient) -> int | None:
    client.exit(None)
    client.exited = True  # type: ignore[attr-defined]
    assert client._server is not None
    return await asyncio.wait_for(client._server.wait(), HANG_GUARD)


async def test_requests_are_answered_while_a_heavy_document_lints(
    held: LanguageClient, tmp_path: Path
) -> None:
    folder = await start(held, tmp_path, {"backgroundLintChars": BACKGROUND})
    small = (tmp_path / "test_small.py").as_uri()
    open_document(held, small, BROKEN)
    await diagnostics_for(held, small, 1, HANG_GUARD)

    big = (tmp_path / "test_big.py").as_uri()
    open_document(held, big, held_text(folder, 2 * BACKGROUND))
    (linting,) = await started_lints(folder)
    assert linting != server_pid(held), "a heavy document is linted in the worker process"

    # Another document is linted and published meanwhile...
    second_test = BROKEN + "\n    def test_again(self):\n        asyncio.run(fetch_user(2))\n"
    change(held, small, 2, second_test)
    found = await diagnostics_for(held, small, 2, HANG_GUARD)
    # ...and requests on it and on the document being linted are answered.
    hover = await held.text_document_hover_async(hover_params(small, found[1].range.start))
    assert hover is not None
    actions = await held.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=small),
            range=found[1].range,
            context=types.CodeActionContext(diagnostics=list(found)),
        )
    )
    assert actions
    assert await held.text_document_hover_async(hover_params(big, found[0].range.start)) is None

    # `shutdown` and `exit` while the lint is held: the process and its worker end.
    await held.shutdown_async(None)
    assert await exit_code(held) == 0
    await gone(linting)


async def test_exit_ends_the_process_while_a_lint_runs_in_the_lint_thread(
    held: LanguageClient, tmp_path: Path
) -> None:
    folder = await start(held, tmp_path)
    uri = (tmp_path / "test_held.py").as_uri()
    open_document(held, uri, held_text(folder))
    (linting,) = await started_lints(folder)
    assert linting == server_pid(held), "a small document is linted in the server's lint thread"

    # A request on another document whose lint waits behind the held one is still answered
    # (from the last results: none yet).
    other = (tmp_path / "test_other.py").as_uri()
    open_document(held, other, BROKEN)
    assert await held.text_document_hover_async(hover_params(other, types.Position(11, 20))) is None

    assert await exit_code(held) == 1  # never released: `exit` does not wait for the lint


async def test_a_stale_heavy_lint_is_abandoned_and_never_published(
    held: LanguageClient, tmp_path: Path
) -> None:
    folder = await start(held, tmp_path, {"backgroundLintChars": BACKGROUND})
    seen = record_publishes(held)
    uri = (tmp_path / "test_big.py").as_uri()
    open_document(held, uri, held_text(folder, 2 * BACKGROUND))
    (stale_worker,) = await started_lints(folder)

    change(held, uri, 2, padded(2 * BACKGROUND))  # not held
    await until(lambda: any(p.uri == uri and p.version == 2 for p in seen), HANG_GUARD)
    await gone(stale_worker)  # the out-of-date lint was stopped, not waited for
    (folder / "release").touch()

    # The new worker lints the current version in full: its fix is built there on demand.
    (found,) = held.diagnostics[uri]
    actions = await held.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=found.range,
            context=types.CodeActionContext(diagnostics=[found]),
        )
    )
    assert actions
    fix = next(a for a in actions if isinstance(a, types.CodeAction) and "Convert" in a.title)
    resolved = await held.code_action_resolve_async(fix)
    assert resolved.edit is not None
    assert [p.version for p in seen if p.uri == uri] == [2]


async def test_a_stale_lint_in_the_lint_thread_is_never_published(
    held: LanguageClient, tmp_path: Path
) -> None:
    folder = await start(held, tmp_path)
    seen = record_publishes(held)
    uri = (tmp_path / "test_held.py").as_uri()
    open_document(held, uri, held_text(folder))
    await started_lints(folder)
    change(held, uri, 2, BROKEN)
    (folder / "release").touch()  # version 1's lint finishes: too late to be shown
    await until(lambda: any(p.uri == uri and p.version == 2 for p in seen), HANG_GUARD)
    assert [p.version for p in seen if p.uri == uri] == [2]
