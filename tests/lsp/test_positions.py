"""Exact ranges and fixes in UTF-16, UTF-8 and UTF-32, whatever the line holds before the bug."""

from __future__ import annotations

from pathlib import Path

import pytest
from async_test_lint.lsp.documents import Document, Splice, track
from async_test_lint.lsp.positions import (
    column_from_units,
    column_to_units,
    from_lsp_position,
    to_lsp_position,
)
from async_test_lint.model import Diagnostic, Position, Severity, TextRange
from async_test_lint.source import LineIndex
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

# Emoji (outside the BMP), CJK, and a combining accent before the anti-pattern.
PREFIX = 'label = "🐍🎉 你好 é"; '
UNICODE = f"""\
import asyncio
import unittest
\x0c
# a form feed above and a U+2028 here: \u2028 neither breaks a line


async def fetch():
    return 1


class UnicodeTest(unittest.TestCase):
    def test_it(self):
        {PREFIX}value = asyncio.run(fetch())
"""
LINE = 12
COLUMN = 8 + len(PREFIX) + len("value = ")  # code points


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-16", 8 + len(PREFIX.encode("utf-16-le")) // 2 + 8),
        ("utf-8", 8 + len(PREFIX.encode("utf-8")) + 8),
        ("utf-32", COLUMN),
    ],
)
def test_column_conversion(encoding: str, expected: int) -> None:
    line = UNICODE.split("\n")[LINE]
    assert column_to_units(line, COLUMN, encoding) == expected
    assert column_from_units(line, expected, encoding) == COLUMN


def test_inside_a_character_rounds_down() -> None:
    assert column_from_units("🐍x", 1, "utf-16") == 0  # half a surrogate pair
    assert column_from_units("🐍x", 2, "utf-16") == 1
    assert column_from_units("éx", 1, "utf-8") == 0
    assert column_from_units("abc", 99, "utf-16") == 3


def test_only_cr_lf_and_crlf_break_lines() -> None:
    lines = LineIndex("a\x0cb\u2028c\rd\r\ne\nf")
    assert lines.line_count == 4
    assert to_lsp_position(lines, Position(0, 5), "utf-16") == types.Position(0, 5)
    assert from_lsp_position(lines, types.Position(9, 0), "utf-16") == Position(3, 1)


def test_incremental_change_across_form_feed_and_u2028() -> None:
    document = Document("file:///x.py", "a\x0cb\u2028c\nline two\n", 1)
    edits = document.apply(
        [
            types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(1, 0), types.Position(1, 4)), text="LINE"
            )
        ],
        2,
        "utf-16",
    )
    assert document.text == "a\x0cb\u2028c\nLINE two\n"
    assert edits == [Splice(6, 10, "LINE")]


def test_tracked_diagnostics_move_with_edits() -> None:
    before = LineIndex("l0\nl1\nl2\nab asyncio.run()\n")
    found = Diagnostic(
        "ATL101", "x", "m", TextRange(Position(3, 3), Position(3, 16)), Severity.WARNING
    )

    def moved(splice: Splice) -> list[TextRange]:
        after = before.text[: splice.start] + splice.new_text + before.text[splice.end :]
        return [d.range for d in track([found], before, [splice], LineIndex(after))]

    assert moved(Splice(0, 0, "a\nb\n")) == [TextRange(Position(5, 3), Position(5, 16))]
    assert moved(Splice(9, 11, "")) == [TextRange(Position(3, 1), Position(3, 14))]
    assert moved(Splice(13, 14, "z")) == []


@pytest.mark.parametrize(
    ("text", "splice"),
    [
        pytest.param("a\rb asyncio.run()", Splice(2, 2, "\n"), id="insert-lf-after-cr"),
        pytest.param("a\rX\nb asyncio.run()", Splice(2, 3, ""), id="delete-between-cr-lf"),
        pytest.param("a\r\nb asyncio.run()", Splice(1, 1, "\r"), id="split-crlf"),
    ],
)
def test_tracked_diagnostics_when_an_edit_joins_or_splits_a_crlf(text: str, splice: Splice) -> None:
    """Found by the fuzzer: a `\\r` and a `\\n` that an edit brings together are one line break,
    so the lines below do not move by the number of breaks typed (the squiggle landed a line too
    low, past the end of the text)."""
    before = LineIndex(text)
    start = text.index("asyncio")
    found = Diagnostic(
        "ATL101",
        "x",
        "m",
        TextRange(before.position(start), before.position(len(text))),
        Severity.WARNING,
    )
    after_text = text[: splice.start] + splice.new_text + text[splice.end :]
    after = LineIndex(after_text)
    (moved,) = track([found], before, [splice], after)
    assert after.slice(moved.range) == "asyncio.run()"


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
async def test_ranges_and_fixes_in_each_encoding(
    client: LanguageClient, tmp_path: Path, encoding: str
) -> None:
    result = await initialize(
        client, caps=capabilities("visual-studio-code", [encoding]), folders=[tmp_path]
    )
    assert result.capabilities.position_encoding == encoding
    uri = (tmp_path / "test_unicode.py").as_uri()
    open_document(client, uri, UNICODE)
    first = await diagnostics_for(client, uri, 1)
    (found,) = first
    line = UNICODE.split("\n")[LINE]
    start = column_to_units(line, COLUMN, encoding)
    end = column_to_units(line, COLUMN + len("asyncio.run(fetch())"), encoding)
    assert found.range == types.Range(types.Position(LINE, start), types.Position(LINE, end))
    # An incremental edit expressed in the encoding, right after the emoji: still exact.
    after_snake = column_to_units(line, 8 + len('label = "🐍'), encoding)
    change(
        client,
        uri,
        2,
        "🦀",
        types.Range(types.Position(LINE, after_snake), types.Position(LINE, after_snake)),
    )
    text = UNICODE.replace("🐍", "🐍🦀")
    (moved,) = await next_diagnostics(client, uri, first)
    shift = {"utf-16": 2, "utf-8": 4, "utf-32": 1}[encoding]
    assert moved.range.start.character == start + shift
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=moved.range,
            context=types.CodeActionContext(diagnostics=[moved]),
        )
    )
    assert actions is not None
    fix = next(a for a in actions if isinstance(a, types.CodeAction) and "unsafe" in a.title)
    resolved = await client.code_action_resolve_async(fix)
    fixed = apply(text, edits_of(resolved.edit, uri), encoding)
    assert f"{PREFIX.replace('🐍', '🐍🦀')}value = await fetch()" in fixed
    assert "class UnicodeTest(unittest.IsolatedAsyncioTestCase):" in fixed
    assert "\x0c" in fixed and "\u2028" in fixed
    noqa = next(a for a in actions if isinstance(a, types.CodeAction) and "Suppress" in a.title)
    resolved = await client.code_action_resolve_async(noqa)
    suppressed = apply(text, edits_of(resolved.edit, uri), encoding)
    assert suppressed.split("\n")[LINE].endswith("asyncio.run(fetch())  # noqa: ATL101")
