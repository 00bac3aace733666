"""Open documents: their text per version, kept by the server itself.

pygls' own `TextDocument` splits lines with `str.splitlines`, which also breaks on form feed,
U+2028 and other characters LSP (and Python) do not treat as line ends; incremental edits would land
on the wrong line. The server therefore applies `didChange` events here, with `source.LineIndex`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from lsprotocol import types

from ..model import Diagnostic, Position, TextRange
from ..source import LineIndex
from .positions import from_lsp_range

_epochs = itertools.count(1)


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

    @property
    def key(self) -> tuple[int, int]:
        """Identifies this exact text: (epoch, version)."""
        return (self.epoch, self.version)

    def apply(
        self, changes: Sequence[types.TextDocumentContentChangeEvent], version: int, encoding: str
    ) -> list[tuple[TextRange, str]]:
        """Apply `changes` in order; the edits made, each in the coordinates of the text it hit."""
        edits: list[tuple[TextRange, str]] = []
        for change in changes:
            lines = self.lines
            if isinstance(change, types.TextDocumentContentChangePartial):
                text_range = from_lsp_range(lines, change.range, encoding)
                start, end = lines.offset(text_range.start), lines.offset(text_range.end)
                self.text = self.text[:start] + change.text + self.text[end:]
            else:
                text_range = TextRange(Position(0, 0), lines.position(len(self.text)))
                self.text = change.text
            edits.append((text_range, change.text))
        self.version = version
        return edits


def shift_position(position: Position, edit: TextRange, new_text: str) -> Position:
    """Where `position` (at or after the edit's end) lands once `edit` is replaced by `new_text`."""
    new_lines = LineIndex(new_text)
    added_lines = new_lines.line_count - 1
    last_line_length = len(new_lines.line_text(added_lines))
    line = position.line - (edit.end.line - edit.start.line) + added_lines
    if position.line != edit.end.line:
        return Position(line, position.column)
    base = edit.start.column if added_lines == 0 else 0
    return Position(line, base + last_line_length + (position.column - edit.end.column))


def track(
    diagnostics: Iterable[Diagnostic], edits: Iterable[tuple[TextRange, str]]
) -> list[Diagnostic]:
    """Diagnostics moved along with the text edited after they were computed.

    A diagnostic whose range an edit touches is dropped; the others keep pointing at the same code.
    Their fixes are dropped too: they were computed for the old text.
    """
    kept = [Diagnostic(d.code, d.name, d.message, d.range, d.severity) for d in diagnostics]
    for edit, new_text in edits:
        moved = []
        for diagnostic in kept:
            current = diagnostic.range
            if current.end < edit.start:
                moved.append(diagnostic)
            elif current.start > edit.end:
                new_range = TextRange(
                    shift_position(current.start, edit, new_text),
                    shift_position(current.end, edit, new_text),
                )
                moved.append(
                    Diagnostic(
                        diagnostic.code,
                        diagnostic.name,
                        diagnostic.message,
                        new_range,
                        diagnostic.severity,
                    )
                )
        kept = moved
    return kept


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
