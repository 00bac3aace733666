"""`# noqa` comments: the grammar the engine honours, and the edit that adds or extends one.

One module for both, so "Suppress ATLxxx for this line" (a code action today, a CLI option one
day) always writes what the engine reads.
"""

from __future__ import annotations

import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

from .model import Edit, Position, TextRange
from .source import LineIndex

#: A noqa comment, optionally with `: CODE[, CODE...]`.
_NOQA = re.compile(
    r"#\s*noqa(?::[ \t]*(?P<codes>[A-Za-z]+[0-9]+(?:[ \t]*,?[ \t]*[A-Za-z]+[0-9]+)*))?", re.I
)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")


def noqa_codes(line: str) -> frozenset[str] | None:
    """None when the line has no `# noqa`; an empty set for a bare `# noqa` (everything)."""
    match = _NOQA.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    return frozenset(code.upper() for code in _CODE.findall(codes)) if codes else frozenset()


@dataclass(frozen=True)
class CommentMap:
    """Per line: where its comment starts, and whether its end lies inside a multi-line string."""

    comments: dict[int, int]
    in_string: frozenset[int]
    reliable: bool


def comment_map(lines: LineIndex) -> CommentMap:
    comments: dict[int, int] = {}
    in_string: set[int] = set()

    def readline_source() -> Iterator[str]:
        for text in lines.lines():
            yield text + "\n"

    readline = readline_source().__next__
    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0] - 1] = token.start[1]
            elif (token.type == tokenize.STRING and token.end[0] > token.start[0]) or (
                token.type == getattr(tokenize, "FSTRING_MIDDLE", -1)
                and token.end[0] > token.start[0]
            ):
                in_string.update(range(token.start[0] - 1, token.end[0] - 1))
    except (tokenize.TokenError, SyntaxError, IndentationError, StopIteration):
        return CommentMap(comments, frozenset(in_string), reliable=False)
    return CommentMap(comments, frozenset(in_string), reliable=True)


def suppression_edit(
    lines: LineIndex, comments: CommentMap, text_range: TextRange, code: str
) -> Edit | None:
    """The edit that makes the engine skip `code` on the diagnostic's start (or end) line."""
    for line in dict.fromkeys((text_range.start.line, text_range.end.line)):
        if line in comments.in_string:
            continue
        return _edit_for_line(lines, comments, line, code)
    return None


def _edit_for_line(lines: LineIndex, comments: CommentMap, line: int, code: str) -> Edit:
    text = lines.line_text(line)
    column = comments.comments.get(line)
    if column is not None:
        match = _NOQA.search(text, column)
        if match is not None:
            codes_end = match.end("codes") if match.group("codes") else match.end()
            insert = f", {code}" if match.group("codes") else f": {code}"
            point = Position(line, codes_end)
            return Edit(TextRange(point, point), insert)
    content_end = len(text.rstrip(" \t"))
    start, end = Position(line, content_end), Position(line, len(text))
    separator = "  " if content_end else ""
    return Edit(TextRange(start, end), f"{separator}# noqa: {code}")
