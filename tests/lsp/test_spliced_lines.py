"""The line index a `didChange` updates in place equals one built from scratch."""

from __future__ import annotations

from async_test_lint.lsp.documents import SplicedLines
from async_test_lint.source import LineIndex
from hypothesis import given, settings
from hypothesis import strategies as st

PIECES = st.text(alphabet="ab\r\n\u2028\x0c", max_size=12)


def same(actual: LineIndex, text: str) -> None:
    expected = LineIndex(text)
    assert actual.line_count == expected.line_count
    assert [actual.line_start(n) for n in range(actual.line_count)] == [
        expected.line_start(n) for n in range(expected.line_count)
    ]
    assert [actual.line_text(n) for n in range(-1, actual.line_count + 1)] == [
        expected.line_text(n) for n in range(-1, expected.line_count + 1)
    ]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(PIECES, max_size=8),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 20), PIECES), min_size=1, max_size=4),
)
def test_splices_keep_the_lines_of_a_fresh_index(
    parts: list[str], edits: list[tuple[int, int, str]]
) -> None:
    text = "".join(parts)
    lines: LineIndex = LineIndex(text)
    for at, length, new_text in edits:
        start = min(at, len(text))
        end = min(start + length, len(text))
        text = text[:start] + new_text + text[end:]
        lines = SplicedLines.after(lines, start, end, new_text, text)
        same(lines, text)


def test_a_carriage_return_joined_with_a_new_line_feed() -> None:
    before = LineIndex("a\rb\nc")
    after = SplicedLines.after(before, 2, 2, "\n", "a\r\nb\nc")
    same(after, "a\r\nb\nc")
    split = SplicedLines.after(after, 2, 2, "x", "a\rx\nb\nc")
    same(split, "a\rx\nb\nc")
