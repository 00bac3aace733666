"""Engine values -> LSP values (positions in the negotiated encoding)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from ..docs import rule_url
from ..model import Diagnostic, Edit, Severity
from ..source import LineIndex
from .positions import to_lsp_range

SOURCE = "async-test-lint"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def diagnostic(
    found: Diagnostic,
    lines: LineIndex,
    encoding: str,
    key: tuple[int, int],
    position: int,
) -> types.Diagnostic:
    """`data` says which lint result (`key`: epoch, version) and entry this is, and its fix."""
    fix: dict[str, str] | None = None
    if found.lazy_fix is not None:
        fix = {"title": found.lazy_fix.title, "safety": found.lazy_fix.safety.value}
    data: dict[str, Any] = {"key": list(key), "index": position, "code": found.code, "fix": fix}
    return types.Diagnostic(
        range=to_lsp_range(lines, found.range, encoding),
        message=found.message,
        severity=_SEVERITY.get(found.severity, types.DiagnosticSeverity.Warning),
        code=found.code,
        code_description=types.CodeDescription(href=rule_url(found.code)),
        source=SOURCE,
        data=data,
    )


def diagnostics(
    found: Sequence[Diagnostic], lines: LineIndex, encoding: str, key: tuple[int, int]
) -> list[types.Diagnostic]:
    return [diagnostic(item, lines, encoding, key, number) for number, item in enumerate(found)]


def text_edits(edits: Sequence[Edit], lines: LineIndex, encoding: str) -> list[types.TextEdit]:
    return [
        types.TextEdit(range=to_lsp_range(lines, edit.range, encoding), new_text=edit.new_text)
        for edit in edits
    ]


def workspace_edit(
    uri: str,
    version: int,
    edits: list[types.TextEdit],
    document_changes: bool,
) -> types.WorkspaceEdit:
    """Versioned `documentChanges` when the client supports them, so a stale edit is refused."""
    if document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=version
                    ),
                    edits=list(edits),
                )
            ]
        )
    return types.WorkspaceEdit(changes={uri: list(edits)})


def whole_text_edit(old: LineIndex, new_text: str, encoding: str) -> types.TextEdit:
    end = old.position(len(old.text))
    from ..model import Position, TextRange

    return types.TextEdit(
        range=to_lsp_range(old, TextRange(Position(0, 0), end), encoding), new_text=new_text
    )
