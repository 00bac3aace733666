"""A client-side edit applier, independent of the server's code: what an editor does."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types

_BREAK = re.compile(r"\r\n|\r|\n")


def _offset(text: str, position: types.Position, encoding: str) -> int:
    starts = [0] + [m.end() for m in _BREAK.finditer(text)]
    if position.line >= len(starts):
        return len(text)
    start = starts[position.line]
    end = starts[position.line + 1] if position.line + 1 < len(starts) else len(text)
    line = _BREAK.sub("", text[start:end])
    codec = {"utf-8": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}[encoding]
    width = {"utf-8": 1, "utf-16": 2, "utf-32": 4}[encoding]
    data = line.encode(codec)[: position.character * width]
    return start + len(data.decode(codec))


def apply(text: str, edits: Sequence[types.TextEdit], encoding: str = "utf-16") -> str:
    spans = sorted(
        (
            (
                _offset(text, e.range.start, encoding),
                _offset(text, e.range.end, encoding),
                e.new_text,
            )
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def edits_of(edit: types.WorkspaceEdit | None, uri: str) -> list[types.TextEdit]:
    assert edit is not None, "the action carries no edit"
    if edit.document_changes:
        found: list[types.TextEdit] = []
        for change in edit.document_changes:
            assert isinstance(change, types.TextDocumentEdit)
            assert change.text_document.uri == uri
            found.extend(e for e in change.edits if isinstance(e, types.TextEdit))
        return found
    assert edit.changes is not None
    return list(edit.changes[uri])
