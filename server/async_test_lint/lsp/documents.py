"""Open documents: their text per version, kept by the server itself.

pygls' own `TextDocument` splits lines with `str.splitlines`, which also breaks on form feed,
U+2028 and other characters LSP (and Python) do not treat as line ends; incremental edits would land
on the wrong line. The server therefore applies `didChange` events here, with `source.LineIndex`.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from lsprotocol import types

from ..model import Diagnostic, TextRange
from ..source import LineIndex
from .positions import from_lsp_range

_epochs = itertools.count(1)
#: the line breaks of `source.LineIndex` (as CPython's tokenizer: `\r\n`, `\r`, `\n`).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def path_of(uri: str) -> str | None:
    """The file-system path of a `file:` URI; None for untitled documents, notebook cells, ..."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if parsed.netloc and parsed.netloc != "localhost":
        path = f"//{parsed.netloc}{path}"
    if len(path) >= 3 and path[0] == "/" and path[2] == ":":  # file:///c:/x -> c:/x
        path = path[1:]
    return path or None


@dataclass
class Document:
    uri: str
    text: str
    version: int
    language_id: str = "python"
    #: a new number each time the URI is opened, so a lint started before a close/re-open is stale.
    epoch: int = field(default_factory=lambda: next(_epochs))
    _lines: LineIndex | None = field(default=None, repr=False)

    @property
    def path(self) -> str | None:
        return path_of(self.uri)

    @property
    def lines(self) -> LineIndex:
        if self._lines is None or self._lines.text is not self.text:
            self._lines = LineIndex(self.text)
        return self._lines

    def adopt_lines(self, lines: LineIndex) -> None:
        """A line index of this text made elsewhere (in a lint thread, off the event loop)."""
        if lines.text is self.text:
            self._lines = lines

    @property
    def key(self) -> tuple[int, int]:
        """Identifies this exact text: (epoch, version)."""
        return (self.epoch, self.version)

    def apply(
        self, changes: Sequence[types.TextDocumentContentChangeEvent], version: int, encoding: str
    ) -> list[Splice]:
        """Apply `changes` in order; the splices made, each in the offsets of the text it hit."""
        splices: list[Splice] = []
        for change in changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                lines = self.lines
                text_range = from_lsp_range(lines, change.range, encoding)
                start, end = lines.offset(text_range.start), lines.offset(text_range.end)
                text = self.text[:start] + change.text + self.text[end:]
                self._lines = SplicedLines.after(lines, start, end, change.text, text)
                self.text = text
            else:
                start, end = 0, len(self.text)
                self.text, self._lines = change.text, None
            splices.append(Splice(start, end, change.text))
        self.version = version
        return splices


class SplicedLines(LineIndex):
    """A line index made from the previous text's by one splice, without rescanning the text.

    Rebuilding the index of a 10 MB document on every keystroke took about 0.5 s of the event
    loop (and splitting it into lines 0.3 s more); this costs a shift of the line starts after
    the splice. Only the lines around the splice are scanned again, from a line start that follows
    a `\\n` to one that follows a `\\n` (a `\\r` next to the splice could join a `\\n` into one line
    break, or be split from one). Lines are sliced from the text, never split all at once.
    """

    __slots__ = ()

    def __init__(self, text: str, starts: list[int]) -> None:
        self.text = text
        self._line_starts = starts
        self._lines = None

    @classmethod
    def after(cls, before: LineIndex, start: int, end: int, new_text: str, text: str) -> LineIndex:
        """The index of `text`, which is `before.text` with `[start:end]` replaced by `new_text`."""
        old_text, starts = before.text, before._line_starts
        delta = len(new_text) - (end - start)
        first = bisect_right(starts, start) - 1
        while first > 0 and old_text[starts[first] - 1] != "\n":
            first -= 1
        after = bisect_right(starts, end)
        while after < len(starts) and old_text[starts[after] - 1] != "\n":
            after += 1
        window_end = starts[after] + delta if after < len(starts) else len(text)
        rescanned = [
            found.end()
            for found in _LINE_BREAK.finditer(text, starts[first], window_end)
            if found.end() != window_end or after == len(starts)
        ]
        shifted = [offset + delta for offset in starts[after:]]
        return cls(text, [*starts[: first + 1], *rescanned, *shifted])

    def line_text(self, line: int) -> str:
        starts = self._line_starts
        if not 0 <= line < len(starts):
            return ""
        if line + 1 == len(starts):
            return self.text[starts[line] :]
        text = self.text[starts[line] : starts[line + 1]]
        return text[:-2] if text.endswith("\r\n") else text[:-1]


@dataclass(frozen=True)
class Splice:
    """One applied change: `text[start:end]` (code-point offsets) became `new_text`."""

    start: int
    end: int
    new_text: str


def track(
    diagnostics: Iterable[Diagnostic],
    before: LineIndex,
    splices: Iterable[Splice],
    after: LineIndex,
) -> list[Diagnostic]:
    """Diagnostics of the text `before`, moved along with the splices that made the text `after`.

    A diagnostic whose range a splice touches is dropped; the others keep pointing at the same
    code. Their fixes are dropped too: they were computed for the old text. The work is done in
    offsets, not lines: an edit can join a `\r` and a `\n` into one line break (or split one),
    which changes the lines after it in a way no count of the inserted line breaks tells.
    """
    spans = [(before.offset(d.range.start), before.offset(d.range.end), d) for d in diagnostics]
    for splice in splices:
        delta = len(splice.new_text) - (splice.end - splice.start)
        spans = [
            (start, end, d) if end < splice.start else (start + delta, end + delta, d)
            for start, end, d in spans
            if end < splice.start or start > splice.end
        ]
    return [
        Diagnostic(
            d.code,
            d.name,
            d.message,
            TextRange(after.position(start), after.position(end)),
            d.severity,
        )
        for start, end, d in spans
    ]


class DocumentStore:
    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}

    def open(self, item: types.TextDocumentItem) -> Document:
        document = Document(item.uri, item.text, item.version, item.language_id)
        self._documents[item.uri] = document
        return document

    def close(self, uri: str) -> Document | None:
        return self._documents.pop(uri, None)

    def get(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def all(self) -> list[Document]:
        return list(self._documents.values())

    def by_path(self, path: str) -> Document | None:
        for document in self._documents.values():
            if document.path == path:
                return document
        return None
