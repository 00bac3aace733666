"""Source text: decoding bytes as Python does, and positions in code points.

Lines are split only on `\\r\\n`, `\\r` and `\\n`, exactly as CPython's tokenizer does; form feed
and U+2028 are ordinary characters. `ast` reports columns as UTF-8 byte offsets; everything above
this module speaks code points.
"""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from bisect import bisect_right

from .model import Position, TextRange

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
BOM = "\ufeff"


class SourceDecodeError(Exception):
    """The bytes are not text in the encoding the file declares (PEP 263) or in UTF-8."""


def decode_source(data: bytes) -> str:
    """Decode a file's bytes the way the interpreter would: BOM, then coding cookie, then UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise SourceDecodeError(str(error)) from None
    try:
        codecs.lookup(encoding)
        text = data.decode(encoding)
    except LookupError:
        raise SourceDecodeError(f"unknown encoding {encoding!r} in the coding cookie") from None
    except UnicodeDecodeError as error:
        raise SourceDecodeError(
            f"not valid {encoding} at byte {error.start}: {error.reason}"
        ) from None
    return text[1:] if text.startswith(BOM) else text


def newline_of(text: str) -> str:
    """The file's line break: the first of `\\r\\n`, `\\r`, `\\n` it uses (`\\n` when none)."""
    for candidate in ("\r\n", "\r", "\n"):
        if candidate in text:
            return candidate
    return "\n"


def split_lines(text: str) -> list[str]:
    """The lines of `text` without their terminators (a trailing break gives a last empty line)."""
    return _LINE_BREAK.split(text)


class LineIndex:
    """Maps between code-point offsets, (line, column) positions and `ast` byte columns."""

    __slots__ = ("_line_starts", "_lines", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        starts.extend(match.end() for match in _LINE_BREAK.finditer(text))
        self._line_starts = starts
        self._lines: list[str] | None = None

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self.text)
        return self._lines

    def line_text(self, line: int) -> str:
        if 0 <= line < len(self._line_starts):
            return self.lines()[line]
        return ""

    def line_start(self, line: int) -> int:
        if line >= len(self._line_starts):
            return len(self.text)
        return self._line_starts[max(line, 0)]

    def offset(self, position: Position) -> int:
        """Code-point offset of `position`, clamped to the line (the terminator is not in it)."""
        if position.line >= len(self._line_starts):
            return len(self.text)
        start = self._line_starts[max(position.line, 0)]
        return start + min(max(position.column, 0), len(self.line_text(position.line)))

    def position(self, offset: int) -> Position:
        offset = min(max(offset, 0), len(self.text))
        line = bisect_right(self._line_starts, offset) - 1
        column = offset - self._line_starts[line]
        line_length = len(self.line_text(line))
        return Position(line, min(column, line_length))

    def slice(self, text_range: TextRange) -> str:
        return self.text[self.offset(text_range.start) : self.offset(text_range.end)]

    def from_ast(self, lineno: int, byte_column: int) -> Position:
        """Convert `ast`'s (1-based line, UTF-8 byte column) into a code-point position."""
        line = lineno - 1
        text = self.line_text(line)
        if text.isascii():
            return Position(line, byte_column)
        encoded = text.encode("utf-8")
        return Position(line, len(encoded[:byte_column].decode("utf-8", errors="ignore")))
