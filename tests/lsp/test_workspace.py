"""The project index: other files' base classes, multi-root, unsaved text, watched files."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import (
    change,
    diagnostics_for,
    initialize,
    next_diagnostics,
    open_document,
    until,
)

pytestmark = pytest.mark.asyncio

TEST_PING = """\
import asyncio

from tests.base import ServiceTestCase


async def ping():
    return "pong"


class PingTest(ServiceTestCase):
    def test_ping(self):
        self.assertEqual(asyncio.run(ping()), "pong")
"""
BASE = "import unittest\n\n\nclass ServiceTestCase(unittest.{kind}):\n    maxDiff = None\n"


def project(root: Path, kind: str = "TestCase") -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "__init__.py").write_text("", encoding="utf-8")
    (root / "tests" / "base.py").write_text(BASE.format(kind=kind), encoding="utf-8")
    (root / "tests" / "test_ping.py").write_text(TEST_PING, encoding="utf-8")
    for number in range(30):
        (root / "tests" / f"test_filler_{number}.py").write_text(
            f"async def helper_{number}():\n    return {number}\n", encoding="utf-8"
        )
    return root / "tests" / "test_ping.py"


async def test_base_class_from_another_file_with_progress(
    client: LanguageClient, tmp_path: Path
) -> None:
    test_ping = project(tmp_path)
    await initialize(client, folders=[tmp_path])
    uri = test_ping.as_uri()
    open_document(client, uri, TEST_PING)
    await until(lambda: len(client.diagnostics.get(uri, ())) == 1)
    (found,) = client.diagnostics[uri]
    assert found.code == "ATL101" and found.range.start.line == 11
    (token,) = client.progress_reports
    kinds = [report.kind for report in client.progress_reports[token]]
    assert kinds[0] == "begin" and kinds[-1] == "end"


async def test_unsaved_base_class_change_relints_dependents(
    client: LanguageClient, tmp_path: Path
) -> None:
    test_ping = project(tmp_path)
    base = tmp_path / "tests" / "base.py"
    await initialize(client, folders=[tmp_path])
    uri = test_ping.as_uri()
    open_document(client, uri, TEST_PING)
    await until(lambda: len(client.diagnostics.get(uri, ())) == 1)
    open_document(client, base.as_uri(), BASE.format(kind="TestCase"))
    previous = client.diagnostics[uri]
    change(client, base.as_uri(), 2, BASE.format(kind="IsolatedAsyncioTestCase"))
    assert list(await next_diagnostics(client, uri, previous)) == [], "unsaved text wins"
    # Closing without saving: the file on disk (a plain TestCase) counts again.
    previous = client.diagnostics[uri]
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=base.as_uri())
        )
    )
    assert len(await next_diagnostics(client, uri, previous)) == 1


async def test_watched_file_change_on_disk(client: LanguageClient, tmp_path: Path) -> None:
    test_ping = project(tmp_path)
    base = tmp_path / "tests" / "base.py"
    await initialize(client, folders=[tmp_path])
    uri = test_ping.as_uri()
    open_document(client, uri, TEST_PING)
    await until(lambda: len(client.diagnostics.get(uri, ())) == 1)
    previous = client.diagnostics[uri]
    base.write_text(BASE.format(kind="IsolatedAsyncioTestCase"), encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=base.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    assert list(await next_diagnostics(client, uri, previous)) == []


async def test_multi_root_folders_have_their_own_index(
    client: LanguageClient, tmp_path: Path
) -> None:
    first = project(tmp_path / "one", kind="TestCase")
    second = project(tmp_path / "two", kind="IsolatedAsyncioTestCase")
    await initialize(client, folders=[tmp_path / "one", tmp_path / "two"])
    open_document(client, first.as_uri(), TEST_PING)
    open_document(client, second.as_uri(), TEST_PING)
    await until(lambda: len(client.diagnostics.get(first.as_uri(), ())) == 1)
    await diagnostics_for(client, second.as_uri(), 0)


async def test_workspace_folder_added_later(client: LanguageClient, tmp_path: Path) -> None:
    first = project(tmp_path / "one")
    second = project(tmp_path / "two")
    await initialize(client, folders=[tmp_path / "one"])
    open_document(client, first.as_uri(), TEST_PING)
    await until(lambda: len(client.diagnostics.get(first.as_uri(), ())) == 1)
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=(tmp_path / "two").as_uri(), name="two")],
                removed=[],
            )
        )
    )
    open_document(client, second.as_uri(), TEST_PING)
    await until(lambda: len(client.diagnostics.get(second.as_uri(), ())) == 1)
