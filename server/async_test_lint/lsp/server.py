"""The language server's state and its lint pipeline; the LSP methods are in `handlers.py`.

Linting runs in a one-thread executor so the event loop keeps reading messages. Per document at most
one lint runs at a time; edits that arrive meanwhile are coalesced into one more run on the newest
text. A result is published only when it belongs to the document's current version (and the open
of the document it was computed for): an old version's result never follows a newer one.

While the text does not parse, the last diagnostics of a version that parsed stay visible, moved
along with the edits made since (those an edit touched are dropped, and none offers a fix). With
`showSyntaxErrors` the syntax error (ATL001) is shown too.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound
from pygls.lsp.server import LanguageServer

from .. import __version__ as VERSION
from .. import engine
from ..discovery import Walker
from ..model import Diagnostic, LintResult
from ..rules import all_rules
from ..source import LineIndex
from . import convert
from .documents import Document, DocumentStore, path_of
from .positions import UTF16, normalise_encoding
from .project import WorkspaceIndex
from .protocol import Protocol
from .settings import (
    EditorSettings,
    Effective,
    ProjectSettings,
    merge,
    parse_editor_settings,
)

logger = logging.getLogger(__name__)

NAME = "async-test-lint"
DEFAULT_DEBOUNCE = 0.005
#: a lint that runs longer is abandoned (`lintTimeoutMs`; 0 turns the limit off). A 3,300-line
#: test module lints in 0.15 s; a 10 MB file in 6 s (15 s with both cores of a small machine busy).
DEFAULT_LINT_TIMEOUT = 10.0
#: how long the user pauses before an open document is re-summarised for the other files' sake.
SUMMARY_IDLE = 1.0
CONFIG_WAIT = 1.0


@dataclass(frozen=True)
class Linted:
    """One lint of one exact text with one settings generation."""

    key: tuple[int, int]
    generation: int
    lines: LineIndex
    result: LintResult
    settings: Effective
    #: what the user sees (the result, or the tracked last good diagnostics plus a syntax error).
    shown: tuple[Diagnostic, ...]
    parsed: bool


@dataclass
class DocState:
    timer: asyncio.TimerHandle | None = None
    summary_timer: asyncio.TimerHandle | None = None
    running: bool = False
    again: bool = False
    linted: Linted | None = None
    #: the diagnostics of the last version that parsed, moved along with later edits.
    good: list[Diagnostic] = field(default_factory=list)
    published: tuple[int, list[types.Diagnostic]] | None = None
    #: the (open, version) whose lint last ran out of time: logged once per version.
    timed_out: tuple[int, int] | None = None


class AsyncTestLintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            NAME,
            VERSION,
            protocol_cls=Protocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.documents = DocumentStore()
        self.states: dict[str, DocState] = {}
        self.index = WorkspaceIndex()
        self.project_settings = ProjectSettings()
        self.init_settings = EditorSettings()
        self.global_settings = EditorSettings()
        self.folder_settings: dict[str, EditorSettings] = {}
        self.generation = 0
        self.encoding = UTF16
        self.pull = False
        self.debounce = DEFAULT_DEBOUNCE
        self.lint_timeout: float | None = DEFAULT_LINT_TIMEOUT
        self.initialized = False
        self.config_ready: asyncio.Event | None = None
        self.index_started = False
        self.cancel_indexing = threading.Event()
        self.exit_code: int | None = None
        self.lint_pool = ThreadPoolExecutor(1, thread_name_prefix="atl-lint")
        self.index_pool = ThreadPoolExecutor(1, thread_name_prefix="atl-index")
        self._tasks: set[asyncio.Future[Any]] = set()
        self._logged: set[str] = set()

    # -- errors: logged, never a popup

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls shows a window/showMessage per error by default; a typing user would get one per
        keystroke. Errors go to the log (window/logMessage) instead."""
        where = getattr(source, "__name__", str(source))
        kind = types.MessageType.Error
        if isinstance(error, JsonRpcMethodNotFound):
            kind = types.MessageType.Warning
        logger.log(
            logging.ERROR if kind is types.MessageType.Error else logging.WARNING,
            "%s: %s",
            where,
            error,
        )
        self.log(kind, f"{where}: {error}")

    def log(self, kind: types.MessageType, message: str) -> None:
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:  # the transport is gone: nothing left to tell
            logger.debug("could not send a log message", exc_info=True)

    def log_once(self, kind: types.MessageType, message: str) -> None:
        if message not in self._logged:
            self._logged.add(message)
            self.log(kind, message)

    # -- capabilities and settings

    def adjust_capabilities(self, capabilities: types.ServerCapabilities) -> None:
        if not self.pull:
            capabilities.diagnostic_provider = None

    def client_supports(self, dotted: str) -> bool:
        value: Any = self.client_capabilities
        for part in dotted.split("."):
            value = getattr(value, part, None)
            if value is None:
                return False
        return bool(value)

    def configure(self, params: types.InitializeParams) -> None:
        # Import the rules (and libcst, which fixes need) while the client gets ready: the first
        # lint queues behind this in the same thread instead of paying for it itself.
        self.lint_pool.submit(all_rules)
        self.encoding = normalise_encoding(self.workspace.position_encoding)
        options = params.initialization_options
        problems: list[str] = []
        self.init_settings = parse_editor_settings(options, problems)
        if isinstance(options, dict) and isinstance(options.get("debounceMs"), (int, float)):
            self.debounce = max(float(options["debounceMs"]), 0.0) / 1000
        if isinstance(options, dict) and isinstance(options.get("lintTimeoutMs"), (int, float)):
            milliseconds = float(options["lintTimeoutMs"])
            self.lint_timeout = milliseconds / 1000 if milliseconds > 0 else None
        self.pull = self.client_supports("text_document.diagnostic") and self.client_supports(
            "workspace.diagnostics.refresh_support"
        )
        for folder in params.workspace_folders or []:
            if (path := path_of(folder.uri)) is not None:
                self.index.add_folder(path)
        if not params.workspace_folders and params.root_uri and (path := path_of(params.root_uri)):
            self.index.add_folder(path)
        self.config_ready = asyncio.Event()
        if not self.client_supports("workspace.configuration"):
            self.config_ready.set()
        for problem in problems:
            logger.warning("%s", problem)

    def set_editor_settings(self, scope: str | None, raw: object) -> None:
        problems: list[str] = []
        parsed = parse_editor_settings(raw, problems)
        if scope is None:
            self.global_settings = parsed
        else:
            self.folder_settings[scope] = parsed
        for problem in problems:
            self.log_once(types.MessageType.Warning, problem)

    def settings_changed(self) -> None:
        self.project_settings.clear()
        self.relint_all()

    def effective(self, document: Document) -> Effective:
        path = document.path
        folder = self.index.folder_for(path)
        fallback = folder or next(iter(self.index.folders()), None)
        project = self.project_settings.for_path(path, fallback)
        for problem in self.project_settings.errors():
            self.log_once(types.MessageType.Warning, f"{problem}; using the default settings")
        editor = self.init_settings
        editor = self.global_settings.over(editor)
        scoped = self.folder_settings.get(folder or fallback or "")
        if scoped is not None:
            editor = scoped.over(editor)
        return merge(project, editor)

    # -- the lint pipeline

    def state(self, uri: str) -> DocState:
        return self.states.setdefault(uri, DocState())

    def spawn(self, awaitable: Any) -> None:
        """Run a coroutine in the background; its exception, if any, is logged."""
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("background task failed", exc_info=error)
            self.log_once(types.MessageType.Error, f"async-test-lint: internal error: {error!r}")

    def schedule(self, uri: str, delay: float | None = None) -> None:
        """Lint `uri` after `delay` seconds of quiet (the debounce); pull mode asks the client."""
        if self.pull:
            return
        state = self.state(uri)
        if state.timer is not None:
            state.timer.cancel()
        loop = asyncio.get_running_loop()
        state.timer = loop.call_later(self.debounce if delay is None else delay, self._start, uri)

    def _start(self, uri: str) -> None:
        if uri not in self.states or self.cancel_indexing.is_set():
            return  # closed meanwhile, or shut down (the worker threads are gone)
        state = self.state(uri)
        state.timer = None
        if state.running:
            state.again = True
            return
        if self.documents.get(uri) is None:
            return
        state.running = True
        self.spawn(self._lint_and_publish(uri))

    async def _lint_and_publish(self, uri: str) -> None:
        state = self.state(uri)
        document = self.documents.get(uri)
        started = document.key if document is not None else None
        failed = False
        try:
            if document is not None:
                await self.linted(document)
        except Exception as error:
            failed = True  # logged once; no retry loop: the next edit tries again
            logger.exception("linting %s failed", uri)
            self.log_once(types.MessageType.Error, f"async-test-lint: linting failed: {error!r}")
        finally:
            state.running = False
            current = self.documents.get(uri)
            if current is not None:
                linted = state.linted
                stale = linted is None or linted.generation != self.generation
                if state.again or (stale and not failed and current.key == started):
                    state.again = False
                    self.schedule(uri, 0)

    async def linted(self, document: Document) -> Linted:
        """The lint of the document's current text (cached per version and settings)."""
        ready = self.config_ready
        if ready is not None and not ready.is_set():
            try:
                await asyncio.wait_for(ready.wait(), CONFIG_WAIT)
            except asyncio.TimeoutError:
                ready.set()
        state = self.state(document.uri)
        cached = state.linted
        if (
            cached is not None
            and cached.key == document.key
            and cached.generation == self.generation
        ):
            return cached
        key, text, path, generation = document.key, document.text, document.path, self.generation
        settings = self.effective(document)
        index = self.index.index_for(path)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        limit = self.lint_timeout
        timed_out = False
        try:
            result = await loop.run_in_executor(
                self.lint_pool, _lint, text, path, settings, index, limit
            )
        except engine.LintTimeout as timeout:
            timed_out = True
            self.report_timeout(document.uri, key, timeout)
            result = LintResult((), skipped_reason=str(timeout))
        logger.debug(
            "linted %s v%s in %.1f ms: %d diagnostics, %d modules indexed",
            document.uri,
            key[1],
            (time.perf_counter() - started) * 1000,
            len(result.diagnostics),
            len(index),
        )
        lines = document.lines if document.key == key else LineIndex(text)
        current = self.documents.get(document.uri)
        good = state.good if current is not None and current.key == key else []
        linted = _view(key, generation, lines, result, settings, good, timed_out)
        if current is not None and current.key == key and generation == self.generation:
            state.linted = linted
            if linted.parsed:
                state.good = list(linted.shown)
                self.schedule_summary(document)
            self.publish(document, linted)
        for failure in result.failures:
            self.log_once(
                types.MessageType.Error,
                f"rule {failure.code} failed on {failure.path}: {failure.error}",
            )
        return linted

    def report_timeout(self, uri: str, key: tuple[int, int], timeout: engine.LintTimeout) -> None:
        """Say once per document version that its lint was abandoned (a log line, no popup)."""
        state = self.state(uri)
        if state.timed_out == key:
            return
        state.timed_out = key
        logger.warning("%s", timeout)
        self.log(
            types.MessageType.Warning,
            f"async-test-lint: linting {uri} (version {key[1]}) was abandoned after "
            f"{timeout.limit:g} s ({timeout.phase}); the last complete lint's diagnostics stay",
        )

    def publish(self, document: Document, linted: Linted) -> None:
        if self.pull:
            return
        state = self.state(document.uri)
        diagnostics = self.lsp_diagnostics(linted)
        stamp = (document.version, diagnostics)
        if state.published == stamp:
            return  # the same squiggles for the same version: nothing to tell
        state.published = stamp
        with engine.collector_paused():  # serialising walks every diagnostic
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=document.uri, version=document.version, diagnostics=diagnostics
                )
            )

    def publish_tracked(self, document: Document) -> None:
        """Without a lint on change: move the shown squiggles along with the edit."""
        if self.pull:
            return
        state = self.state(document.uri)
        state.published = None
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=document.uri,
                version=document.version,
                diagnostics=convert.diagnostics(
                    state.good, document.lines, self.encoding, document.key
                ),
            )
        )

    def clear(self, uri: str) -> None:
        if not self.pull:
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    def lsp_diagnostics(self, linted: Linted) -> list[types.Diagnostic]:
        """LSP diagnostics of a result; the collector is paused: a large model is still alive
        (the lazy fixes hold it) and would be rescanned many times while thousands of small
        objects are made."""
        with engine.collector_paused():
            return convert.diagnostics(linted.shown, linted.lines, self.encoding, linted.key)

    def relint_all(self) -> None:
        """Settings or the index changed: every cached result is out of date."""
        self.generation += 1
        for document in self.documents.all():
            self.relint(document.uri)
        if self.pull:
            self.refresh_pull()

    def relint(self, uri: str) -> None:
        logger.debug("re-lint %s", uri)
        state = self.state(uri)
        state.linted = None
        self.schedule(uri, 0)

    def refresh_pull(self) -> None:
        if self.pull and self.initialized:
            self.spawn(self._refresh())

    async def _refresh(self) -> None:
        try:
            await self.workspace_diagnostic_refresh_async(None)
        except Exception as error:
            logger.info("diagnostic refresh failed: %s", error)

    # -- the project index

    def schedule_summary(self, document: Document) -> None:
        """Once the user pauses, tell the index what this open file now defines."""
        if document.path is None:
            return
        state = self.state(document.uri)
        if state.summary_timer is not None:
            state.summary_timer.cancel()
        loop = asyncio.get_running_loop()
        state.summary_timer = loop.call_later(
            SUMMARY_IDLE, lambda: self.spawn(self.update_open_summary(document.uri))
        )

    async def update_open_summary(self, uri: str) -> None:
        document = self.documents.get(uri)
        if document is None or document.path is None:
            return
        settings = self.effective(document).engine
        loop = asyncio.get_running_loop()
        # In the lint thread: a summary parses the file too; it must not compete with a lint.
        changed = await loop.run_in_executor(
            self.lint_pool, self.index.set_open, document.path, document.text, settings
        )
        if changed:
            self.relint_dependents(document.path)

    def relint_dependents(self, path: str) -> None:
        affected = self.index.affected(path)
        if not affected:
            return
        hit = False
        self.generation += 1
        for document in self.documents.all():
            if document.path in affected:
                hit = True
                self.relint(document.uri)
        if hit:
            self.refresh_pull()

    async def file_changed_on_disk(self, path: str) -> None:
        document = self.documents.by_path(path)
        settings = self.project_settings.for_path(path, self.index.folder_for(path))
        loop = asyncio.get_running_loop()
        if document is None:
            changed = await loop.run_in_executor(
                self.index_pool, self.index.refresh_from_disk, path, settings
            )
            if changed:
                self.relint_dependents(path)

    def start_indexing(self, with_progress: bool) -> None:
        if self.index_started:
            return
        self.index_started = True
        self.index.ready.clear()
        self.spawn(self.build_index(self.index.folders(), with_progress))

    async def build_index(self, folders: Sequence[str], with_progress: bool) -> None:
        token = "async-test-lint/indexing"
        progress = with_progress and self.client_supports("window.work_done_progress")
        if progress:
            try:
                await self.work_done_progress.create_async(token)
                self.work_done_progress.begin(
                    token,
                    types.WorkDoneProgressBegin(
                        title="async-test-lint: indexing", percentage=0, cancellable=False
                    ),
                )
            except Exception as error:
                logger.info("no progress reporting: %s", error)
                progress = False
        loop = asyncio.get_running_loop()
        total_modules = 0
        for folder in folders:
            if self.cancel_indexing.is_set():
                break
            settings = self.project_settings.for_path(None, folder)

            def report(done: int, total: int, folder: str = folder) -> None:
                if progress and total:
                    loop.call_soon_threadsafe(self._report, token, done, total, folder)

            try:
                total_modules += await loop.run_in_executor(
                    self.index_pool,
                    self.index.build,
                    folder,
                    settings,
                    report,
                    self.cancel_indexing,
                )
            except Exception:
                logger.exception("indexing %s failed", folder)
        self.index.ready.set()
        logger.debug("indexed %d modules of %s", total_modules, folders)
        if progress:
            self.work_done_progress.end(
                token, types.WorkDoneProgressEnd(message=f"{total_modules} modules indexed")
            )
        self.log(types.MessageType.Info, f"async-test-lint: {total_modules} modules indexed")
        if not self.cancel_indexing.is_set():
            self.relint_all()

    def _report(self, token: str, done: int, total: int, folder: str) -> None:
        if self.cancel_indexing.is_set():
            return
        self.work_done_progress.report(
            token,
            types.WorkDoneProgressReport(
                message=f"{done}/{total} files of {Path(folder).name}",
                percentage=int(100 * done / total),
            ),
        )

    def stop(self) -> None:
        self.cancel_indexing.set()
        for state in self.states.values():
            for timer in (state.timer, state.summary_timer):
                if timer is not None:
                    timer.cancel()
        self.lint_pool.shutdown(wait=False, cancel_futures=True)
        self.index_pool.shutdown(wait=False, cancel_futures=True)


def _excluded(path: str | None, settings: Effective) -> bool:
    """Does an `exclude` glob of the project match the file or one of its folders?"""
    if path is None or not settings.engine.exclude or settings.engine.project_root is None:
        return False
    root = Path(settings.engine.project_root)
    walker = Walker(settings.engine.exclude, root, warn=lambda message: None)
    candidate = Path(path)
    try:
        relative = candidate.relative_to(root)
    except ValueError:
        return walker.excluded(candidate)
    current = root
    for part in relative.parts:
        current = current / part
        if walker.excluded(current):
            return True
    return False


def _lint(
    text: str, path: str | None, settings: Effective, index: Any, time_limit: float | None
) -> LintResult:
    """Runs in the lint thread: the engine is pure and thread-safe per call."""
    if not settings.enable or _excluded(path, settings):
        return LintResult((), skipped_reason="disabled or excluded")
    return engine.lint(text, path, settings.lint_settings, index, time_limit=time_limit)


def _view(
    key: tuple[int, int],
    generation: int,
    lines: LineIndex,
    result: LintResult,
    settings: Effective,
    good: Sequence[Diagnostic],
    timed_out: bool = False,
) -> Linted:
    syntax = [d for d in result.diagnostics if d.code == engine.SYNTAX_ERROR_CODE]
    if timed_out:  # like a text that does not parse: the last good diagnostics stay
        return Linted(key, generation, lines, result, settings, tuple(good), False)
    if not syntax:
        return Linted(key, generation, lines, result, settings, tuple(result.diagnostics), True)
    shown = list(good)
    if settings.show_syntax_errors and settings.syntax_code_enabled:
        shown.append(syntax[0])
    return Linted(key, generation, lines, result, settings, tuple(shown), False)
