"""Code points <-> the negotiated LSP position encoding.

The engine speaks (line, code-point column) with lines split only on `\\r\\n`, `\\r` and `\\n`
(`source.LineIndex`). LSP columns count UTF-16 code units by default, or UTF-8 bytes / UTF-32 code
points when the client offers them and pygls picks them (`general.positionEncodings`). This is the
only module that converts; everything else in the server works in code points.
"""

from __future__ import annotations

import re

from lsprotocol import types

from ..model import Position, TextRange
from ..source import LineIndex

UTF8 = types.PositionEncodingKind.Utf8.value
UTF16 = types.PositionEncodingKind.Utf16.value
UTF32 = types.PositionEncodingKind.Utf32.value
_SURROGATE = re.compile("[\ud800-\udfff]")


def normalise_encoding(encoding: object) -> str:
    """The encoding name ("utf-8", "utf-16", "utf-32"); UTF-16 for anything unknown or None."""
    value = getattr(encoding, "value", encoding)
    return value if value in (UTF8, UTF16, UTF32) else UTF16


def units(text: str, encoding: str) -> int:
    """Length of `text` in code units of `encoding`."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF16:
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(text.encode("utf-8", "surrogatepass"))


def column_to_units(line: str, column: int, encoding: str) -> int:
    return units(line[: max(column, 0)], encoding)


def column_from_units(line: str, character: int, encoding: str) -> int:
    """The code-point column of `character` code units into `line`.

    Clamped to the line's length; a position inside a character (half a surrogate pair, the middle
    of a UTF-8 sequence) falls back to that character's start.
    """
    character = max(character, 0)
    if encoding == UTF32 or line.isascii():
        return min(character, len(line))
    if _SURROGATE.search(line):
        return _column_by_counting(line, character, encoding)
    if encoding == UTF16:
        data = line.encode("utf-16-le", "surrogatepass")[: 2 * character]
        return len(data.decode("utf-16-le", "ignore"))
    data = line.encode("utf-8", "surrogatepass")[:character]
    return len(data.decode("utf-8", "ignore"))


def _column_by_counting(line: str, character: int, encoding: str) -> int:
    """`column_from_units` for a line holding a lone surrogate (a JavaScript client can send
    one): decoding drops it, or joins two of them into one character, so count instead."""
    counted = 0
    for column, char in enumerate(line):
        counted += units(char, encoding)
        if counted > character:
            return column
    return len(line)


def to_lsp_position(lines: LineIndex, position: Position, encoding: str) -> types.Position:
    if position.line >= lines.line_count:
        last = lines.line_count - 1
        return types.Position(last, units(lines.line_text(last), encoding))
    text = lines.line_text(position.line)
    return types.Position(position.line, column_to_units(text, position.column, encoding))


def from_lsp_position(lines: LineIndex, position: types.Position, encoding: str) -> Position:
    """An LSP position as a code-point position; beyond the last line means the end of the text."""
    if position.line >= lines.line_count:
        last = lines.line_count - 1
        return Position(last, len(lines.line_text(last)))
    text = lines.line_text(position.line)
    return Position(position.line, column_from_units(text, position.character, encoding))


def to_lsp_range(lines: LineIndex, text_range: TextRange, encoding: str) -> types.Range:
    return types.Range(
        start=to_lsp_position(lines, text_range.start, encoding),
        end=to_lsp_position(lines, text_range.end, encoding),
    )


def from_lsp_range(lines: LineIndex, lsp_range: types.Range, encoding: str) -> TextRange:
    start = from_lsp_position(lines, lsp_range.start, encoding)
    end = from_lsp_position(lines, lsp_range.end, encoding)
    return TextRange(start, max(start, end))
