"""The client's side of a document: its text, and LSP positions in one of the three encodings.

Written independently of the server (`lsp/positions.py`, `source.LineIndex`), as an editor would:

- lines end at `\\r\\n`, `\\r` and `\\n` only (form feed, U+2028, NEL are ordinary characters);
- a character is counted as 1 (UTF-32), 1 or 2 (UTF-16: surrogate pairs) or 1 to 4 (UTF-8) units;
  a lone surrogate is one UTF-16 unit and three UTF-8 bytes (as `surrogatepass` encodes it);
- a position past a line's end means the line's end, past the last line the end of the text;
- a position inside a character (between the halves of a surrogate pair, inside a UTF-8 sequence)
  is invalid in LSP; the server documents that it falls back to the character's start, and so does
  this model, so that an edit a fuzzer sends there has one meaning on both sides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_BREAK = re.compile(r"\r\n|\r|\n")
ENCODINGS = ("utf-8", "utf-16", "utf-32")


def char_units(char: str, encoding: str) -> int:
    point = ord(char)
    if encoding == "utf-32":
        return 1
    if encoding == "utf-16":
        return 2 if point > 0xFFFF else 1
    if point < 0x80:
        return 1
    if point < 0x800:
        return 2
    return 3 if point < 0x10000 else 4


@dataclass(frozen=True)
class Position:
    line: int
    character: int

    def to_json(self) -> dict[str, int]:
        return {"line": self.line, "character": self.character}

    @staticmethod
    def of(raw: Any) -> Position:
        return Position(int(raw["line"]), int(raw["character"]))


@dataclass(frozen=True)
class Range:
    start: Position
    end: Position

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.to_json(), "end": self.end.to_json()}

    @staticmethod
    def of(raw: Any) -> Range:
        return Range(Position.of(raw["start"]), Position.of(raw["end"]))


class InvalidPosition(AssertionError):
    """A position the server sent that does not name a character boundary of the text."""


class Text:
    """One version of a document's text with its line starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [match.end() for match in _BREAK.finditer(text)]

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line(self, number: int) -> str:
        start = self.starts[number]
        end = self.starts[number + 1] if number + 1 < len(self.starts) else len(self.text)
        return _BREAK.sub("", self.text[start:end])

    def line_units(self, number: int, encoding: str) -> int:
        return sum(char_units(char, encoding) for char in self.line(number))

    def offset(self, position: Position, encoding: str) -> int:
        """What a client means by `position` (lenient: clamped, inside a character -> its start)."""
        if position.line >= self.line_count:
            return len(self.text)
        line = self.line(position.line)
        counted = 0
        for column, char in enumerate(line):
            width = char_units(char, encoding)
            if counted + width > position.character:
                return self.starts[position.line] + column
            counted += width
        return self.starts[position.line] + len(line)

    def strict_offset(self, position: Position, encoding: str) -> int:
        """The offset of a position the server sent: it must be exactly on a character boundary."""
        if not 0 <= position.line < self.line_count or position.character < 0:
            raise InvalidPosition(f"{position} is outside the {self.line_count} lines")
        line = self.line(position.line)
        counted = 0
        for column, char in enumerate(line):
            if counted == position.character:
                return self.starts[position.line] + column
            counted += char_units(char, encoding)
            if counted > position.character:
                raise InvalidPosition(f"{position} is inside {char!r} ({encoding})")
        if counted == position.character:
            return self.starts[position.line] + len(line)
        raise InvalidPosition(f"{position} is past the end of line {line!r} ({encoding})")

    def position(self, offset: int, encoding: str) -> Position:
        """The position of a code-point offset (an offset inside `\\r\\n` is its line's end)."""
        line = max(index for index, start in enumerate(self.starts) if start <= offset)
        before = self.text[self.starts[line] : offset]
        before = _BREAK.sub("", before).rstrip("\r")
        return Position(line, sum(char_units(char, encoding) for char in before))

    def strict_span(self, raw: Any, encoding: str) -> tuple[int, int]:
        lsp_range = Range.of(raw)
        start = self.strict_offset(lsp_range.start, encoding)
        end = self.strict_offset(lsp_range.end, encoding)
        if end < start:
            raise InvalidPosition(f"{lsp_range} ends before it starts")
        return start, end


@dataclass(frozen=True)
class Change:
    """One content change of a `didChange`: a range (None: the whole text) and its new text."""

    range: Range | None
    text: str

    def to_json(self) -> dict[str, Any]:
        if self.range is None:
            return {"text": self.text}
        return {"range": self.range.to_json(), "text": self.text}


@dataclass(frozen=True)
class Splice:
    """A change in code points: `text[start:end]` became `new_text`."""

    start: int
    end: int
    new_text: str


def apply_change(text: str, change: Change, encoding: str) -> tuple[str, Splice]:
    if change.range is None:
        return change.text, Splice(0, len(text), change.text)
    current = Text(text)
    start = current.offset(change.range.start, encoding)
    end = max(start, current.offset(change.range.end, encoding))
    return text[:start] + change.text + text[end:], Splice(start, end, change.text)


def apply_server_edits(text: str, edits: Sequence[Any], encoding: str) -> tuple[str, list[Splice]]:
    """Apply a server's `TextEdit`s the way LSP defines them: every range refers to the original
    text, ranges must lie on character boundaries and must not overlap."""
    current = Text(text)
    spans = sorted(
        (*current.strict_span(edit["range"], encoding), order, edit["newText"])
        for order, edit in enumerate(edits)
    )
    for (_, end, _, _), (start, _, _, _) in zip(spans, spans[1:]):
        if start < end:
            raise InvalidPosition(f"overlapping edits: {edits}")
    for start, end, _, new_text in reversed(spans):
        text = text[:start] + new_text + text[end:]
    return text, [Splice(start, end, new_text) for start, end, _, new_text in spans]


def unchanged_outside(before: str, after: str, splices: Iterable[Splice]) -> bool:
    """Is `after` exactly `before` with the splices made, nothing else touched?"""
    rebuilt: list[str] = []
    cursor = 0
    for splice in sorted(splices, key=lambda item: (item.start, item.end)):
        rebuilt.append(before[cursor : splice.start])
        rebuilt.append(splice.new_text)
        cursor = splice.end
    rebuilt.append(before[cursor:])
    return "".join(rebuilt) == after


def move_span(span: tuple[int, int], splice: Splice) -> tuple[int, int] | None:
    """Where a diagnostic's span lands after `splice`: kept before it, shifted after it, dropped
    when the splice touches it (the server's documented behaviour while the text does not parse)."""
    start, end = span
    if end < splice.start:
        return span
    if start > splice.end:
        delta = len(splice.new_text) - (splice.end - splice.start)
        return start + delta, end + delta
    return None
