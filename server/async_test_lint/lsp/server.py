"""The language server's state and its lint pipeline; the LSP methods are in `handlers.py`.

Linting never runs on the event loop, so requests are always read and answered:
- small documents are linted in a one-thread executor (their parse holds the interpreter lock for
  tens of milliseconds at most, and their lazy fixes need the analysed model in this process);
- heavy documents (`background_chars` and more, or one whose last lint was slow) are linted in a
  worker process (`background.py`): a 10 MB parse would hold the lock for seconds.
Per document at most one lint runs at a time; edits that arrive meanwhile are coalesced into one
more run on the newest text, and a heavy document's out-of-date lint is abandoned at once (its
worker is killed). A result is published only when it belongs to the document's current version
(and the open of the document it was computed for): an old version's result never follows a newer
one. Requests (hover, code actions, resolve) are answered from the last results: they wait for a
small document's current lint for at most `REQUEST_WAIT`, never for a heavy one's.

While the text does not parse, the last diagnostics of a version that parsed stay visible, moved
along with the edits made since (those an edit touched are dropped, and none offers a fix). With
`showSyntaxErrors` the syntax error (ATL001) is shown too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound
from pygls.lsp.server import LanguageServer

from .. import __version__ as VERSION
from .. import engine
from ..model import Diagnostic, LintResult
from ..rules import all_rules
from ..source import LineIndex
from . import convert
from .background import (
    Abandoned,
    BackgroundLane,
    PlainResult,
    TimedOut,
    lint_text,
    rebuilt,
    worker_summarize,
)
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
#: documents this large (code points) are linted in the background worker process: parsing
#: 200,000 characters holds the interpreter lock for about 0.1-0.2 s.
BACKGROUND_CHARS = 200_000
#: a lint in the lint thread that took longer moves its document to the background worker (until
#: its text shrinks to half that size).
SLOW_LINT = 0.5
#: a heavy document's lint takes seconds: wait for a longer pause in typing before starting one.
BACKGROUND_DEBOUNCE = 0.3
#: how long a request on a small document waits for its current version's lint at most.
REQUEST_WAIT = 0.5
#: the workspace index starts once the first lint is done (or after this long): both parse.
INDEX_DELAY = 1.5


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


class Snapshot(NamedTuple):
    """What one lint is of: the text of one version, with one settings generation."""

    key: tuple[int, int]
    text: str
    generation: int


@dataclass
class Job:
    """The lint of one version that is under way; requests for that version await it."""

    key: tuple[int, int]
    generation: int
    future: asyncio.Future[Linted]
    background: bool


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
    job: Job | None = None
    #: the size of the text whose lint in the lint thread was slow (see `SLOW_LINT`).
    slow_chars: int | None = None


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
        self.background = BackgroundLane()
        self.background_chars = BACKGROUND_CHARS
        self.first_lint = asyncio.Event()
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
        if isinstance(options, dict) and isinstance(options.get("backgroundLintChars"), int):
            self.background_chars = max(options["backgroundLintChars"], 0)
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
        if delay is None:
            document = self.documents.get(uri)
            heavy = document is not None and self.is_heavy(document)
            delay = max(self.debounce, BACKGROUND_DEBOUNCE) if heavy else self.debounce
        loop = asyncio.get_running_loop()
        state.timer = loop.call_later(delay, self._start, uri)

    def is_heavy(self, document: Document) -> bool:
        """Is the document linted in the background worker?"""
        size = len(document.text)
        state = self.states.get(document.uri)
        slow = state.slow_chars if state is not None else None
        return size >= self.background_chars or (slow is not None and size >= slow // 2)

    def _start(self, uri: str) -> None:
        if uri not in self.states or self.cancel_indexing.is_set():
            return  # closed meanwhile, or shut down (the worker threads are gone)
        state = self.state(uri)
        state.timer = None
        document = self.documents.get(uri)
        if document is None:
            return
        if state.running:
            state.again = True
            job = state.job
            if job is not None and job.background and job.key != document.key:
                self.background.abandon(uri)  # out of date: stop it, lint the newest text
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
        except Abandoned:
            logger.debug("the lint of %s was abandoned", uri)
        except Exception as error:
            failed = True  # logged once; no retry loop: the next edit tries again
            logger.exception("linting %s failed", uri)
            self.log_once(types.MessageType.Error, f"async-test-lint: linting failed: {error!r}")
        finally:
            self.first_lint.set()
            state.running = False
            current = self.documents.get(uri)
            if current is not None:
                linted = state.linted
                stale = linted is None or linted.generation != self.generation
                if state.again or (stale and not failed and current.key == started):
                    state.again = False
                    self.schedule(uri, 0)

    async def linted(self, document: Document) -> Linted:
        """The lint of the document's current text (cached per version and settings); a lint of
        that version already under way is shared, not repeated."""
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
        job = state.job
        if job is None or job.key != document.key or job.generation != self.generation:
            background = self.is_heavy(document)
            snapshot = Snapshot(document.key, document.text, self.generation)
            future = asyncio.ensure_future(self._compute(document, snapshot, background))
            future.add_done_callback(_retrieved)
            job = state.job = Job(document.key, self.generation, future, background)
        return await asyncio.shield(job.future)

    async def for_request(self, document: Document) -> Linted:
        """What a request (hover, code action, resolve) is answered from: the current version's
        lint when it is there or soon will be, else the last results."""
        state = self.state(document.uri)
        cached = state.linted
        heavy = self.is_heavy(document)
        fresh = cached is not None and cached.generation == self.generation
        if cached is not None and cached.key == document.key and (fresh or heavy):
            return cached
        if not heavy:
            try:
                return await asyncio.wait_for(asyncio.shield(self.linted(document)), REQUEST_WAIT)
            except asyncio.TimeoutError:
                logger.debug("answering from the last results of %s", document.uri)
            cached = state.linted
            if cached is not None and cached.key == document.key:
                return cached
        return self.tracked_view(document)

    def tracked_view(self, document: Document) -> Linted:
        """The last good diagnostics, moved along with the edits since (no fixes)."""
        state = self.state(document.uri)
        return Linted(
            document.key,
            self.generation,
            document.lines,
            LintResult(()),
            self.effective(document),
            tuple(state.good),
            False,
        )

    async def _compute(self, document: Document, snapshot: Snapshot, background: bool) -> Linted:
        state = self.state(document.uri)
        key, text, generation = snapshot
        settings = self.effective(document)
        started = time.perf_counter()
        timed_out = False
        try:
            if background:
                result, lines = await self._lint_in_background(document, snapshot, settings)
            else:
                result, lines = await self._lint_in_thread(document.path, text, settings)
        except engine.LintTimeout as timeout:
            timed_out = True
            self.report_timeout(document.uri, key, timeout)
            result, lines = LintResult((), skipped_reason=str(timeout)), None
        elapsed = time.perf_counter() - started
        if not background and (timed_out or elapsed > SLOW_LINT):
            state.slow_chars = len(text)  # its next lints go to the background worker
        logger.debug(
            "linted %s v%s in %.1f ms (%s): %d diagnostics",
            document.uri,
            key[1],
            elapsed * 1000,
            "background" if background else "thread",
            len(result.diagnostics),
        )
        if lines is None:
            lines = document.lines if document.key == key else LineIndex(text)
        document.adopt_lines(lines)
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

    async def _lint_in_thread(
        self, path: str | None, text: str, settings: Effective
    ) -> tuple[LintResult, LineIndex]:
        index = self.index.index_for(path)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.lint_pool, _lint_with_lines, text, path, settings, index, self.lint_timeout
        )

    async def _lint_in_background(
        self, document: Document, snapshot: Snapshot, settings: Effective
    ) -> tuple[LintResult, LineIndex]:
        uri, (key, text, _) = document.uri, snapshot
        outcome = await self.background.submit(
            self.background.lint_job,
            uri,
            key,
            text,
            document.path,
            settings,
            self.index.snapshot(document.path),
            self.lint_timeout,
        )
        if isinstance(outcome, TimedOut):
            raise engine.LintTimeout(outcome.path, outcome.limit, outcome.phase)
        build = functools.partial(self.background.build_fix, uri, key)
        return await self.background.submit(_rebuilt_with_lines, outcome, build, text)

    def executor_for(self, document: Document) -> ThreadPoolExecutor:
        """Where work on the document's lint result runs (a fix of a heavy document is built by
        the worker, through the background lane's thread)."""
        return self.background.thread if self.is_heavy(document) else self.lint_pool

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
        if self.is_heavy(document):
            try:
                summary = await self.background.run(
                    uri, worker_summarize, document.text, document.path, settings
                )
            except Abandoned:
                return
            changed = self.index.put_open(document.path, summary)
        else:
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
        if not self.first_lint.is_set():
            # Parsing the workspace would compete with the first lint for the CPU.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.first_lint.wait(), INDEX_DELAY)
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
        self.background.stop()
        self.index.stop()


def _retrieved(future: asyncio.Future[Any]) -> None:
    """A job's failure is reported by whoever awaits it; a request that gave up on it must not
    leave it "never retrieved"."""
    if not future.cancelled():
        future.exception()


def _lint_with_lines(
    text: str, path: str | None, settings: Effective, index: Any, time_limit: float | None
) -> tuple[LintResult, LineIndex]:
    """Runs in the lint thread: the lint, and the text's line index (built off the event loop)."""
    return lint_text(text, path, settings, index, time_limit), _warm(LineIndex(text))


def _rebuilt_with_lines(plain: PlainResult, build: Any, text: str) -> tuple[LintResult, LineIndex]:
    return rebuilt(plain, build), _warm(LineIndex(text))


def _warm(lines: LineIndex) -> LineIndex:
    lines.lines()  # split once here: converting positions needs the lines' text
    return lines


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
