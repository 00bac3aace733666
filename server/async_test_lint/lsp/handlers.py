"""One small function per LSP method; the work is done by `server.AsyncTestLintServer`."""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from .. import docs
from ..rules import rule_by_code
from . import actions
from .documents import path_of, track
from .positions import from_lsp_position, to_lsp_range
from .server import AsyncTestLintServer

logger = logging.getLogger(__name__)

WATCHERS = ("**/pyproject.toml", "**/*.py")


def initialize(ls: AsyncTestLintServer, params: types.InitializeParams) -> None:
    ls.configure(params)


async def initialized(ls: AsyncTestLintServer, params: types.InitializedParams) -> None:
    ls.initialized = True
    await _pull_configuration(ls)  # first: the first lint waits for it
    await _register_dynamic(ls)
    ls.start_indexing(with_progress=True)


async def _register_dynamic(ls: AsyncTestLintServer) -> None:
    registrations = []
    if ls.client_supports("workspace.did_change_watched_files.dynamic_registration"):
        registrations.append(
            types.Registration(
                id="async-test-lint/watched-files",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHERS]
                ),
            )
        )
    if ls.client_supports("workspace.did_change_configuration.dynamic_registration"):
        registrations.append(
            types.Registration(
                id="async-test-lint/configuration",
                method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(
                    section="asyncTestLint"
                ),
            )
        )
    if registrations:
        try:
            await ls.client_register_capability_async(
                types.RegistrationParams(registrations=registrations)
            )
        except Exception as error:
            logger.info("dynamic registration refused: %s", error)


async def _pull_configuration(ls: AsyncTestLintServer) -> bool:
    """Ask for `asyncTestLint` globally and per workspace folder; True when anything changed."""
    ready = ls.config_ready
    if not ls.client_supports("workspace.configuration"):
        if ready is not None:
            ready.set()
        return False
    folders = ls.index.folders()
    scopes: list[str | None] = [None, *folders]
    items = [
        types.ConfigurationItem(
            section="asyncTestLint",
            scope_uri=None if scope is None else _uri(ls, scope),
        )
        for scope in scopes
    ]
    before = (ls.global_settings, dict(ls.folder_settings))
    try:
        values = await ls.workspace_configuration_async(types.ConfigurationParams(items=items))
    except Exception as error:
        logger.info("workspace/configuration failed: %s", error)
        values = []
    for scope, value in zip(scopes, values or []):
        ls.set_editor_settings(scope, value)
    if ready is not None:
        ready.set()
    return before != (ls.global_settings, dict(ls.folder_settings))


def _uri(ls: AsyncTestLintServer, folder: str) -> str:
    for workspace_folder in ls.workspace.folders.values():
        if path_of(workspace_folder.uri) == folder:
            return str(workspace_folder.uri)
    return f"file://{folder}"


def did_open(ls: AsyncTestLintServer, params: types.DidOpenTextDocumentParams) -> None:
    document = ls.documents.open(params.text_document)
    state = ls.state(document.uri)
    state.linted, state.good, state.published = None, [], None
    if not ls.initialized:
        ls.start_indexing(with_progress=False)
    ls.schedule(document.uri, 0)


def did_change(ls: AsyncTestLintServer, params: types.DidChangeTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        logger.warning("change of a document that is not open: %s", params.text_document.uri)
        return
    before = document.lines
    splices = document.apply(params.content_changes, params.text_document.version, ls.encoding)
    state = ls.state(document.uri)
    state.good = track(state.good, before, splices, document.lines)
    if ls.effective(document).lint_on_change:
        ls.schedule(document.uri)
    else:
        ls.publish_tracked(document)


def did_save(ls: AsyncTestLintServer, params: types.DidSaveTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return
    if ls.state(document.uri).linted is None or not ls.effective(document).lint_on_change:
        ls.relint(document.uri)
    if document.path is not None:
        ls.spawn(ls.update_open_summary(document.uri))


def did_close(ls: AsyncTestLintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    document = ls.documents.close(uri)
    state = ls.states.pop(uri, None)
    if state is not None:
        for timer in (state.timer, state.summary_timer):
            if timer is not None:
                timer.cancel()
    ls.background.abandon(uri)
    ls.clear(uri)
    if document is not None and document.path is not None:
        ls.index.close(document.path)
        ls.spawn(ls.file_changed_on_disk(document.path))


async def diagnostic(
    ls: AsyncTestLintServer, params: types.DocumentDiagnosticParams
) -> types.DocumentDiagnosticReport:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    linted = await ls.linted(document)
    result_id = f"{linted.key[0]}.{linted.key[1]}.{linted.generation}"
    if params.previous_result_id == result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    return types.RelatedFullDocumentDiagnosticReport(
        items=ls.lsp_diagnostics(linted), result_id=result_id
    )


async def hover(ls: AsyncTestLintServer, params: types.HoverParams) -> types.Hover | None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return None
    linted = await ls.for_request(document)
    position = from_lsp_position(linted.lines, params.position, ls.encoding)
    hits = [found for found in linted.shown if found.range.contains(position)]
    if not hits:
        return None
    parts = []
    for found in hits:
        rule = rule_by_code(found.code)
        parts.append(
            docs.hover_markdown(rule, found)
            if rule is not None
            else f"**{found.code}**: {found.message}"
        )
    formats = ls.client_capabilities.text_document
    kinds = formats.hover.content_format if formats and formats.hover else None
    markup = (
        types.MarkupKind.Markdown
        if not kinds or types.MarkupKind.Markdown in kinds
        else types.MarkupKind.PlainText
    )
    return types.Hover(
        contents=types.MarkupContent(kind=markup, value="\n\n---\n\n".join(parts)),
        range=to_lsp_range(linted.lines, hits[0].range, ls.encoding),
    )


async def code_action(
    ls: AsyncTestLintServer, params: types.CodeActionParams
) -> list[types.CodeAction] | None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return None
    return await actions.code_actions(ls, document, params)


async def code_action_resolve(
    ls: AsyncTestLintServer, params: types.CodeAction
) -> types.CodeAction:
    return await actions.resolve(ls, params)


async def did_change_configuration(
    ls: AsyncTestLintServer, params: types.DidChangeConfigurationParams
) -> None:
    if ls.client_supports("workspace.configuration"):
        await _pull_configuration(ls)
    elif isinstance(params.settings, dict):
        ls.set_editor_settings(None, params.settings)
    ls.settings_changed()


async def did_change_watched_files(
    ls: AsyncTestLintServer, params: types.DidChangeWatchedFilesParams
) -> None:
    config_changed = False
    for change in params.changes:
        path = path_of(change.uri)
        if path is None:
            continue
        if path.endswith("pyproject.toml"):
            config_changed = True
        elif path.endswith(".py"):
            await ls.file_changed_on_disk(path)
    if config_changed:
        ls.settings_changed()


def did_change_workspace_folders(
    ls: AsyncTestLintServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    for removed in params.event.removed:
        if (path := path_of(removed.uri)) is not None:
            ls.index.remove_folder(path)
    added = [path for folder in params.event.added if (path := path_of(folder.uri)) is not None]
    for path in added:
        ls.index.add_folder(path)
    if added:
        ls.spawn(ls.build_index(added, with_progress=True))
    ls.spawn(_reconfigure(ls))


async def _reconfigure(ls: AsyncTestLintServer) -> None:
    await _pull_configuration(ls)
    ls.settings_changed()


def shutdown(ls: AsyncTestLintServer, params: Any) -> None:
    ls.stop()


def exit_(ls: AsyncTestLintServer, params: Any) -> None:
    ls.exit_code = 0 if ls.protocol._shutdown else 1


def register(ls: AsyncTestLintServer) -> None:
    feature = ls.feature
    feature(types.INITIALIZE)(initialize)
    feature(types.INITIALIZED)(initialized)
    feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(did_save)
    feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="async-test-lint",
            inter_file_dependencies=True,
            workspace_diagnostics=False,
        ),
    )(diagnostic)
    feature(types.TEXT_DOCUMENT_HOVER)(hover)
    feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL_KIND],
            resolve_provider=True,
        ),
    )(code_action)
    feature(types.CODE_ACTION_RESOLVE)(code_action_resolve)
    feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(did_change_watched_files)
    feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(did_change_workspace_folders)
    feature(types.SHUTDOWN)(shutdown)
    feature(types.EXIT)(exit_)


__all__ = ["register"]
