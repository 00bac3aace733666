"""Code actions: each diagnostic's fix, "Suppress ... for this line", and fix-all.

Listing an action costs nothing: the fix's title and safety are known without building it
(`Diagnostic.lazy_fix`). The edit is built in `codeAction/resolve` when the client resolves edits,
else right away. Every edit targets the document version the action was made for; a stale action
resolves to no edit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .. import engine
from ..model import Diagnostic, Safety, TextRange
from ..noqa import comment_map, suppression_edit
from . import convert
from .documents import Document
from .positions import from_lsp_range, to_lsp_range

if TYPE_CHECKING:
    from .server import AsyncTestLintServer, Linted

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.{convert.SOURCE}"
QUICKFIX = types.CodeActionKind.QuickFix.value


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Does the client's `only` filter ask for actions of `kind`? (LSP kinds are hierarchical.)"""
    if not only:
        return kind == QUICKFIX
    return any(kind == asked or kind.startswith(f"{asked}.") for asked in only)


def _only(params: types.CodeActionParams) -> list[str] | None:
    only = params.context.only
    return None if only is None else [getattr(kind, "value", kind) for kind in only]


def _matching(
    linted: Linted, lines_range: TextRange, context: Sequence[types.Diagnostic]
) -> list[tuple[int, Diagnostic]]:
    """The shown diagnostics the request is about: those the client names, else those in range."""
    shown = list(enumerate(linted.shown))
    named: list[tuple[int, Diagnostic]] = []
    for item in context:
        if item.source != convert.SOURCE:
            continue
        data = item.data if isinstance(item.data, dict) else {}
        position = data.get("index")
        if (
            list(data.get("key", [])) == list(linted.key)
            and isinstance(position, int)
            and 0 <= position < len(shown)
            and shown[position][1].code == item.code
        ):
            named.append(shown[position])
    if named:
        return list(dict.fromkeys(named))
    return [
        (number, found)
        for number, found in shown
        if found.range.overlaps(lines_range)
        or found.range.contains(lines_range.start)
        or lines_range.contains(found.range.start)
    ]


async def code_actions(
    server: AsyncTestLintServer, document: Document, params: types.CodeActionParams
) -> list[types.CodeAction]:
    linted = await server.for_request(document)
    if server.documents.get(document.uri) is not document or document.key != linted.key:
        return []  # the text changed meanwhile: the client asks again
    only = _only(params)
    actions: list[types.CodeAction] = []
    if wanted(QUICKFIX, only):
        request_range = from_lsp_range(linted.lines, params.range, server.encoding)
        for number, found in _matching(linted, request_range, params.context.diagnostics):
            lsp_diagnostic = convert.diagnostic(
                found, linted.lines, server.encoding, linted.key, number
            )
            if found.lazy_fix is not None:
                unsafe = found.lazy_fix.safety is Safety.UNSAFE
                title = found.lazy_fix.title + (" (unsafe)" if unsafe else "")
                actions.append(
                    _action(title, QUICKFIX, document, number, "fix", [lsp_diagnostic], not unsafe)
                )
            actions.append(
                _action(
                    f"Suppress {found.code} for this line",
                    QUICKFIX,
                    document,
                    number,
                    "noqa",
                    [lsp_diagnostic],
                    False,
                )
            )
    explicit = only is not None and wanted(FIX_ALL_KIND, only)
    safe_fixes = any(d.fix_safety is Safety.SAFE for d in linted.shown)
    if explicit or (only is None and safe_fixes and linted.parsed):
        actions.append(
            _action(
                "Fix all safe async-test-lint problems",
                FIX_ALL_KIND,
                document,
                -1,
                "fixAll",
                [],
                False,
            )
        )
    if not server.client_supports("text_document.code_action.resolve_support"):
        resolved = [await resolve(server, action) for action in actions]
        actions = [action for action in resolved if action.edit is not None]
    elif explicit:
        # editor.codeActionsOnSave: apply straight away, without a round trip.
        actions = [
            await resolve(server, action) if action.kind == FIX_ALL_KIND else action
            for action in actions
        ]
        actions = [a for a in actions if a.kind != FIX_ALL_KIND or a.edit is not None]
    return actions


def _action(
    title: str,
    kind: str,
    document: Document,
    number: int,
    what: str,
    diagnostics: list[types.Diagnostic],
    preferred: bool,
) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=kind,
        diagnostics=diagnostics or None,
        is_preferred=preferred or None,
        data={"uri": document.uri, "key": list(document.key), "index": number, "what": what},
    )


async def resolve(server: AsyncTestLintServer, action: types.CodeAction) -> types.CodeAction:
    data: dict[str, Any] = action.data if isinstance(action.data, dict) else {}
    document = server.documents.get(str(data.get("uri")))
    if document is None or list(document.key) != list(data.get("key", [])):
        return action  # stale: no edit for a text that is gone
    linted = await server.for_request(document)
    if linted.key != document.key:
        return action
    what, number = data.get("what"), data.get("index")
    edits: list[types.TextEdit] | None = None
    loop = asyncio.get_running_loop()
    executor = server.executor_for(document)  # a heavy document's fixes: in the worker process
    if what == "fixAll":
        fixer = _fixer(server, document, linted)
        edits = await loop.run_in_executor(executor, _fix_all, fixer, linted, server.encoding)
    elif isinstance(number, int) and 0 <= number < len(linted.shown):
        found = linted.shown[number]
        if what == "fix" and found.lazy_fix is not None:
            fix = await loop.run_in_executor(executor, found.lazy_fix.get)
            if fix is not None:
                edits = convert.text_edits(fix.edits, linted.lines, server.encoding)
        elif what == "noqa":
            comments = comment_map(linted.lines)
            edit = suppression_edit(linted.lines, comments, found.range, found.code)
            if edit is not None:
                edits = convert.text_edits([edit], linted.lines, server.encoding)
    if document.key != linted.key:
        # The text changed while the edits were built (in the lint thread): they are for the old
        # text, and naming the new version would let the client apply them to the wrong text.
        return action
    if edits:
        action.edit = convert.workspace_edit(
            document.uri,
            linted.key[1],
            edits,
            server.client_supports("workspace.workspace_edit.document_changes"),
        )
    return action


def _fixer(server: AsyncTestLintServer, document: Document, linted: Linted) -> Callable[[str], str]:
    """What `engine.fix` a text: in this thread, or (a heavy document) in the worker process."""
    path, settings = document.path, linted.settings.engine
    if server.is_heavy(document):
        snapshot = server.index.snapshot(path)
        lane = server.background
        return lambda text: lane.fix_all_job(document.uri, text, path, settings, snapshot)
    index = server.index.index_for(path)
    return lambda text: engine.fix(text, path, settings, index).text


def _fix_all(
    fixer: Callable[[str], str], linted: Linted, encoding: str
) -> list[types.TextEdit] | None:
    """Every safe fix, pass after pass until nothing changes (engine.fix), as one minimal edit."""
    if not linted.parsed:
        return None
    text = linted.lines.text
    fixed = fixer(text)
    if fixed == text:
        return None
    start = 0
    limit = min(len(text), len(fixed))
    while start < limit and text[start] == fixed[start]:
        start += 1
    end_old, end_new = len(text), len(fixed)
    while end_old > start and end_new > start and text[end_old - 1] == fixed[end_new - 1]:
        end_old -= 1
        end_new -= 1
    if start > 0 and text[start - 1] == "\r":
        start -= 1  # never split a \r\n pair
    if 0 < end_old < len(text) and text[end_old] == "\n" and text[end_old - 1] == "\r":
        end_old += 1
        end_new += 1
    lines = linted.lines
    span = TextRange(lines.position(start), lines.position(end_old))
    return [
        types.TextEdit(range=to_lsp_range(lines, span, encoding), new_text=fixed[start:end_new])
    ]


__all__ = ["FIX_ALL_KIND", "code_actions", "resolve"]
