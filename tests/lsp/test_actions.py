"""Quick fixes, suppression, fix-all and hover, as a client sees them."""

from __future__ import annotations

from pathlib import Path

import pytest
from async_test_lint import engine
from async_test_lint.model import Safety
from async_test_lint.rules import all_rules
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import (
    BROKEN,
    capabilities,
    change,
    diagnostics_for,
    initialize,
    next_diagnostics,
    open_document,
)
from .edits import apply, edits_of

pytestmark = pytest.mark.asyncio
FIXED = BROKEN.replace("unittest.TestCase", "unittest.IsolatedAsyncioTestCase").replace(
    "    def test_fetch(self):\n        user = asyncio.run(fetch_user(1))",
    "    async def test_fetch(self):\n        user = await fetch_user(1)",
)


async def actions_at(
    client: LanguageClient,
    uri: str,
    diagnostics: list[types.Diagnostic],
    only: list[str] | None = None,
    at: types.Range | None = None,
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=at or diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics, only=_kinds(only)),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


_KINDS = {kind.value for kind in types.CodeActionKind}


def _kinds(only: list[str] | None) -> list[types.CodeActionKind | str] | None:
    if only is None:
        return None
    return [types.CodeActionKind(kind) if kind in _KINDS else kind for kind in only]


async def test_quick_fix_applies_and_the_diagnostic_goes(
    client: LanguageClient, tmp_path: Path
) -> None:
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    found = list(await diagnostics_for(client, uri, 1))
    actions = await actions_at(client, uri, found)
    titles = [a.title for a in actions]
    assert titles == [
        "Convert UserTest to IsolatedAsyncioTestCase, make 1 method async and await 1 call"
        " (unsafe)",
        "Suppress ATL101 for this line",
    ]
    fix = actions[0]
    assert fix.kind == types.CodeActionKind.QuickFix
    assert not fix.is_preferred, "an unsafe fix is never preferred"
    assert fix.edit is None, "edits are computed in codeAction/resolve"
    resolved = await client.code_action_resolve_async(fix)
    fixed = apply(BROKEN, edits_of(resolved.edit, uri))
    assert fixed == FIXED
    change(client, uri, 2, fixed)
    assert list(await next_diagnostics(client, uri, client.diagnostics[uri])) == []


async def test_suppress_adds_and_extends_noqa(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    text = BROKEN.replace(
        "asyncio.run(fetch_user(1))", "asyncio.run(fetch_user(1))  # keep # noqa: ATL999"
    )
    open_document(client, uri, text)
    found = list(await diagnostics_for(client, uri, 1))
    suppress = next(a for a in await actions_at(client, uri, found) if "Suppress" in a.title)
    resolved = await client.code_action_resolve_async(suppress)
    suppressed = apply(text, edits_of(resolved.edit, uri))
    assert "# keep # noqa: ATL999, ATL101\n" in suppressed
    change(client, uri, 2, suppressed)
    assert list(await next_diagnostics(client, uri, client.diagnostics[uri])) == []


async def test_edits_come_at_once_without_resolve_support(
    client: LanguageClient, tmp_path: Path
) -> None:
    caps = capabilities("emacs")
    await initialize(client, caps=caps, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    found = list(await diagnostics_for(client, uri, 1))
    actions = await actions_at(client, uri, found)
    assert all(a.edit is not None for a in actions)
    assert apply(BROKEN, edits_of(actions[0].edit, uri)) == FIXED


def _safe_example() -> str | None:
    for rule in all_rules():
        if rule.fix_safety is not Safety.SAFE:
            continue
        for example in rule.invalid:
            if example.fixed and not example.files and example.target_version is None:
                return example.code
    return None


async def test_fix_all_applies_every_safe_fix(client: LanguageClient, tmp_path: Path) -> None:
    text = _safe_example()
    if text is None:
        pytest.skip("no rule with a safe fix yet")
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_safe.py").as_uri()
    open_document(client, uri, text)
    found = list(await diagnostics_for(client, uri))
    kind = "source.fixAll.async-test-lint"
    everything = types.Range(types.Position(0, 0), types.Position(len(text.splitlines()), 0))
    for only in ([kind], ["source.fixAll"], ["source"]):
        actions = await actions_at(client, uri, found, only=only, at=everything)
        assert [a.kind for a in actions] == [kind], only
        fixed = apply(text, edits_of(actions[0].edit, uri))
        assert fixed == engine.fix(text, str(tmp_path / "test_safe.py")).text
        assert fixed != text
    assert await actions_at(client, uri, found, only=["refactor"], at=everything) == []


async def test_fix_all_offers_nothing_without_safe_fixes(
    client: LanguageClient, tmp_path: Path
) -> None:
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    found = list(await diagnostics_for(client, uri, 1))
    assert await actions_at(client, uri, found, only=["source.fixAll.async-test-lint"]) == []


async def test_hover_inside_the_range_only(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    (found,) = await diagnostics_for(client, uri, 1)

    async def hover(line: int, character: int) -> types.Hover | None:
        return await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line, character),
            )
        )

    start, end = found.range.start, found.range.end
    for character in (start.character, (start.character + end.character) // 2, end.character):
        result = await hover(start.line, character)
        assert result is not None
        assert isinstance(result.contents, types.MarkupContent)
        assert result.contents.kind == types.MarkupKind.Markdown
        text = result.contents.value
        assert text.startswith("**ATL101 asyncio-run-in-test**: asyncio.run() inside test_fetch")
        assert "Python versions" in text and "Before:" in text and "After:" in text
        assert "Fix: **unsafe**" in text
        assert result.range == found.range
    assert await hover(start.line, start.character - 1) is None
    assert await hover(0, 0) is None
