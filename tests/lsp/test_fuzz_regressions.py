"""Bugs the language-server fuzzer (tests/fuzz/) found, each pinned by the smallest session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from async_test_lint import engine
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import (
    capabilities,
    change,
    diagnostics_for,
    initialize,
    next_diagnostics,
    open_document,
)
from .edits import apply, edits_of

pytestmark = pytest.mark.asyncio

CR_ONLY = "\r".join(
    [
        "import asyncio",
        "import unittest",
        "",
        "",
        "class UserTest(unittest.TestCase):",
        "    def test_fetch(self):",
        "        asyncio.run(fetch())",
        "",
    ]
)
FIX_ALL = "source.fixAll.async-test-lint"
CALL = types.Range(types.Position(6, 8), types.Position(6, 28))


def _at(line: int, character: int) -> types.Range:
    return types.Range(types.Position(line, character), types.Position(line, character))


async def test_squiggle_stays_when_a_typed_lf_joins_a_cr(
    client: LanguageClient, tmp_path: Path
) -> None:
    """While the text does not parse, the last good diagnostics move with the edits. A `\\n`
    typed right after a `\\r` makes one `\\r\\n` line break, not a new line: the squiggle moved
    a line down (past the end of the file) instead of staying on its call."""
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, CR_ONLY)
    (found,) = await diagnostics_for(client, uri, 1)
    assert found.range == CALL
    change(client, uri, 2, "(", at=_at(0, 14))  # "import asyncio(": no longer parses
    shown = await next_diagnostics(client, uri, client.diagnostics[uri])
    assert [d.range for d in shown] == [CALL]
    change(client, uri, 3, "\n", at=_at(1, 0))  # "import asyncio(\r\n": the same seven lines
    shown = await next_diagnostics(client, uri, shown)
    assert [d.range for d in shown] == [CALL]


LONE_SURROGATE = "\n".join(
    [
        "import asyncio",
        "import unittest",
        "",
        "LABEL = '\ud83d'",  # half an emoji, as a JavaScript editor can hold and send it
        "",
        "",
        "class UserTest(unittest.TestCase):",
        "    def test_fetch(self):",
        "        asyncio.run(fetch())",
        "",
    ]
)


@pytest.mark.parametrize(("encoding", "width"), [("utf-16", 1), ("utf-8", 3)])
async def test_edit_after_a_lone_surrogate_lands_where_the_client_means(
    client: LanguageClient, tmp_path: Path, encoding: str, width: int
) -> None:
    """Converting a client's column back to code points decoded the line, which drops a lone
    surrogate (or joins two into one character): edits after it landed too far left and the
    server's text parted from the editor's. Here replacing the half emoji left it in place."""
    await initialize(client, capabilities(encodings=[encoding]), folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, LONE_SURROGATE)
    await diagnostics_for(client, uri, 0)  # does not parse: nothing to show yet
    half = types.Range(types.Position(3, 9), types.Position(3, 9 + width))
    change(client, uri, 2, "x", at=half)
    (found,) = await diagnostics_for(client, uri, 1)
    assert found.code == "ATL101"
    assert found.range == types.Range(types.Position(8, 8), types.Position(8, 28))


def _many_unawaited_calls(classes: int) -> str:
    parts = ["import asyncio", "import unittest", "", "", "async def fetch():", "    return 1", ""]
    for number in range(classes):
        parts += [
            "",
            f"class Test{number}(unittest.IsolatedAsyncioTestCase):",
            f"    async def test_{number}(self):",
            "        fetch()",
            "",
        ]
    return "\n".join(parts)


async def test_fix_all_raced_by_an_edit_names_the_version_it_was_built_for(
    client: LanguageClient, tmp_path: Path
) -> None:
    """Fix-all is built in the lint thread; an edit that arrived meanwhile bumped the document's
    version, and the edit built for the old text was sent naming the new version: the client
    applied it to the wrong text. Here the line is typed while a fix-all for 80 classes is built
    (a correct server answers for either version, or with no edit)."""
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_many.py").as_uri()
    text = _many_unawaited_calls(80)
    open_document(client, uri, text)
    await diagnostics_for(client, uri, 80)
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=_at(0, 0),
        context=types.CodeActionContext(diagnostics=[], only=[FIX_ALL]),  # type: ignore[list-item]
    )
    pending = asyncio.ensure_future(client.text_document_code_action_async(params))
    await asyncio.sleep(0.05)  # the server is building the fix-all now
    change(client, uri, 2, "#\n", at=_at(0, 0))
    texts = {1: text, 2: "#\n" + text}
    for action in await pending or []:
        assert isinstance(action, types.CodeAction)
        if action.edit is None:
            continue  # stale: the client asks again
        (document_edit,) = action.edit.document_changes or []
        assert isinstance(document_edit, types.TextDocumentEdit)
        version = document_edit.text_document.version
        assert version in texts
        fixed = apply(texts[version], edits_of(action.edit, uri))
        assert fixed == engine.fix(texts[version], str(tmp_path / "test_many.py")).text
