"""Applying edits to text, and turning a rewritten region into minimal edits."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from ..model import Edit, Position, TextRange
from ..source import LineIndex, newline_of, split_lines


class OverlappingEdits(ValueError):
    pass


def apply_edits(text: str, edits: Iterable[Edit], lines: LineIndex | None = None) -> str:
    """Apply non-overlapping edits, all expressed against `text`."""
    lines = lines or LineIndex(text)
    spans = sorted(
        (
            (lines.offset(edit.range.start), lines.offset(edit.range.end), edit.new_text)
            for edit in edits
        ),
        key=lambda span: (span[0], span[1]),
    )
    pieces: list[str] = []
    cursor = 0
    for start, end, new_text in spans:
        if start < cursor:
            raise OverlappingEdits(f"edits overlap at offset {start}")
        pieces.append(text[cursor:start])
        pieces.append(new_text)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def line_diff_edits(old: str, new: str, first_line: int) -> list[Edit]:
    """Edits that turn the block of whole lines `old` (starting at `first_line`) into `new`.

    Both end at a line end; equal lines are kept untouched so the editor's cursor and folding
    survive a large rewrite that changes little.
    """
    old_lines = split_lines(old)
    new_lines = split_lines(new)
    if len(old_lines) > 1 and len(new_lines) > 1 and old_lines[-1] == "" and new_lines[-1] == "":
        # Both end at a line end: the empty piece after the last break is not a line, and must
        # not be matched against a real blank line (that would keep a blank line at the end).
        old_lines.pop()
        new_lines.pop()
    newline = newline_of(old)
    edits: list[Edit] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        replacement = "".join(line + newline for line in new_lines[new_start:new_end])
        edits.append(
            Edit(
                TextRange(Position(first_line + old_start, 0), Position(first_line + old_end, 0)),
                replacement,
            )
        )
    return edits


def merge_edits(groups: Sequence[Sequence[Edit]]) -> tuple[Edit, ...]:
    merged = sorted((edit for group in groups for edit in group), key=lambda edit: edit.range)
    for previous, current in zip(merged, merged[1:]):
        if current.range.start < previous.range.end:
            raise OverlappingEdits("edits of one fix overlap")
    return tuple(merged)
