"""The background lane: heavy documents are linted in a worker process, off the request path.

Why a process: `ast.parse` of a 10 MB module is one C call that holds the interpreter lock for
about 10 s, and freeing its tree for seconds more; a lint thread would stall the event loop (and
every hover, `shutdown`, `exit`) for that long, whatever `sys.setswitchinterval` says. A small
document's lint holds it for a few tens of milliseconds at most, so small documents keep the
in-process lint thread (and their lazy fixes, which need the analysed model).

The worker keeps the last lint's result, so a fix of a heavy document is built there, on demand.
A lint of a version that is out of date is abandoned by killing the worker (the parse cannot be
interrupted any other way); the next call starts a fresh one. The parent talks to the worker from
one thread of its own, so calls are served in order and the event loop never waits on the pipe.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import pickle
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from .. import engine
from ..analysis.index import ProjectIndex
from ..analysis.summary import ModuleSummary
from ..discovery import Walker
from ..model import Diagnostic, Fix, LazyFix, LintResult, RuleFailure, Safety, Settings
from .settings import Effective

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Abandoned(Exception):
    """The worker was stopped while it ran this call (its document changed, or the server stops)."""


# -- what runs in a lint (in the lint thread, or in the worker process)


def excluded(path: str | None, settings: Effective) -> bool:
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


def lint_text(
    text: str,
    path: str | None,
    settings: Effective,
    index: ProjectIndex | None,
    time_limit: float | None,
) -> LintResult:
    """One lint as the server wants it; the engine is pure and thread-safe per call."""
    if not settings.enable or excluded(path, settings):
        return LintResult((), skipped_reason="disabled or excluded")
    return engine.lint(text, path, settings.lint_settings, index, time_limit=time_limit)


# -- the worker process side


@dataclass(frozen=True)
class PlainResult:
    """A lint result that can cross a pipe: each diagnostic without its fix builder, the fix's
    title and safety beside it."""

    diagnostics: tuple[Diagnostic, ...]
    fixes: tuple[tuple[str, Safety] | None, ...]
    failures: tuple[RuleFailure, ...]
    skipped_reason: str | None


@dataclass(frozen=True)
class TimedOut:
    path: str | None
    limit: float
    phase: str


class _WorkerState:
    key: object = None
    result: LintResult | None = None
    index_token: object = None
    index: ProjectIndex | None = None


_state = _WorkerState()


def _index(token: object, blob: bytes | None) -> ProjectIndex | None:
    if blob is not None:
        _state.index_token, _state.index = token, ProjectIndex(pickle.loads(blob))
    elif token != _state.index_token:
        return None  # not sent, and not the one held: lint without (never in practice)
    return _state.index


def worker_lint(
    key: object,
    text: str,
    path: str | None,
    settings: Effective,
    index_token: object,
    index_blob: bytes | None,
    time_limit: float | None,
) -> PlainResult | TimedOut:
    _state.key, _state.result = None, None
    try:
        result = lint_text(text, path, settings, _index(index_token, index_blob), time_limit)
    except engine.LintTimeout as timeout:
        return TimedOut(timeout.path, timeout.limit, timeout.phase)
    _state.key, _state.result = key, result
    return PlainResult(
        tuple(replace(found, lazy_fix=None) for found in result.diagnostics),
        tuple(
            None if found.lazy_fix is None else (found.lazy_fix.title, found.lazy_fix.safety)
            for found in result.diagnostics
        ),
        tuple(result.failures),
        result.skipped_reason,
    )


def worker_build_fix(key: object, number: int) -> Fix | None:
    """The fix of diagnostic `number` of the last lint, if that lint was of `key`."""
    result = _state.result
    if _state.key != key or result is None or not 0 <= number < len(result.diagnostics):
        return None
    return result.diagnostics[number].fix


def worker_fix_all(
    text: str, path: str | None, settings: Settings, index_token: object, blob: bytes | None
) -> str:
    return engine.fix(text, path, settings, _index(index_token, blob)).text


def worker_summarize(text: str, path: str, settings: Settings) -> ModuleSummary | None:
    return engine.summarize(text, path, settings)


def _worker_main(connection: Connection) -> None:
    from ..rules import all_rules
    from .project import release_stdout

    release_stdout()
    all_rules()
    engine.freeze_startup_objects()
    while True:
        try:
            function, arguments = connection.recv()
        except (EOFError, OSError):
            return  # the server is gone
        try:
            reply: tuple[str, Any] = ("ok", function(*arguments))
        except Exception as error:
            logger.exception("the background worker failed")
            reply = ("error", f"{type(error).__name__}: {error}")
        try:
            connection.send(reply)
        except (BrokenPipeError, OSError):
            return


# -- the server side


class WorkerProcess:
    """One worker process, started on first use; `kill` abandons whatever it is doing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        #: connections of workers stopped on purpose: their calls were abandoned, not failed.
        self._killed: weakref.WeakSet[Connection] = weakref.WeakSet()

    def start(self) -> int:
        """Start the worker unless it runs; its process id."""
        self._ensure()
        process = self._process
        return process.pid or 0 if process is not None else 0

    def _ensure(self) -> Connection:
        with self._lock:
            if self._process is not None and self._process.is_alive() and self._connection:
                return self._connection
            context = multiprocessing.get_context("spawn")
            mine, theirs = context.Pipe()
            process = context.Process(
                target=_worker_main, args=(theirs,), name="atl-background", daemon=True
            )
            process.start()
            theirs.close()
            self._process, self._connection = process, mine
            return mine

    def call(self, function: Callable[..., T], *arguments: Any) -> T:
        """Run `function(*arguments)` in the worker (blocking: call it from one thread only)."""
        connection = self._ensure()
        try:
            connection.send((function, arguments))
            kind, value = connection.recv()
        except (EOFError, OSError) as error:
            if connection in self._killed:
                raise Abandoned(str(error)) from None
            self.kill()
            raise RuntimeError(f"the background worker died: {error!r}") from None
        if kind == "error":
            raise RuntimeError(f"background worker: {value}")
        return value  # type: ignore[no-any-return]

    def kill(self) -> None:
        with self._lock:
            process, connection = self._process, self._connection
            self._process = self._connection = None
            if connection is not None:
                self._killed.add(connection)
        if process is not None and process.is_alive():
            process.kill()
        if connection is not None:
            connection.close()
        if process is not None:
            process.join(timeout=1)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None


class BackgroundLane:
    """Heavy documents' lints, fixes and summaries, one at a time, in the worker process."""

    def __init__(self) -> None:
        self.worker = WorkerProcess()
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="atl-background")
        self._lock = threading.Lock()
        self._running: str | None = None  # the URI whose job the worker runs now
        self._sent_index: tuple[int, object] | None = None

    def _job(self, uri: str, function: Callable[..., T], *arguments: Any) -> T:
        with self._lock:
            self._running = uri
        try:
            return self.worker.call(function, *arguments)
        finally:
            with self._lock:
                self._running = None

    async def run(self, uri: str, function: Callable[..., T], *arguments: Any) -> T:
        """`function(*arguments)` in the worker, for `uri` (what `abandon(uri)` stops)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.thread, self._job, uri, function, *arguments)

    async def submit(self, function: Callable[..., T], *arguments: Any) -> T:
        """A blocking `function` of this lane (it talks to the worker) in the lane's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.thread, function, *arguments)

    def abandon(self, uri: str) -> bool:
        """Stop the worker if it works for `uri` now (its result would be out of date)."""
        with self._lock:
            if self._running != uri:
                return False
            self.worker.kill()
            return True

    def index_arguments(self, token: object, pickled: Callable[[], bytes]) -> tuple[object, Any]:
        """(token, blob): the index is pickled and sent only when the worker does not hold this
        one yet. Called in the lane's thread, right before the call that uses it."""
        held = (self.worker.start(), token)
        if self._sent_index == held:
            return token, None
        self._sent_index = held
        return token, pickled()

    def lint_job(
        self,
        uri: str,
        key: object,
        text: str,
        path: str | None,
        settings: Effective,
        index: tuple[object, Callable[[], bytes]],
        time_limit: float | None,
    ) -> PlainResult | TimedOut:
        """Blocking (the lane's thread): one lint in the worker."""
        token, blob = self.index_arguments(*index)
        return self._job(uri, worker_lint, key, text, path, settings, token, blob, time_limit)

    def fix_all_job(
        self,
        uri: str,
        text: str,
        path: str | None,
        settings: Settings,
        index: tuple[object, Callable[[], bytes]],
    ) -> str:
        token, blob = self.index_arguments(*index)
        return self._job(uri, worker_fix_all, text, path, settings, token, blob)

    def build_fix(self, uri: str, key: object, number: int) -> Fix | None:
        """Blocking: the fix of a heavy document's diagnostic, built where it was linted."""
        try:
            return self._job(uri, worker_build_fix, key, number)
        except Abandoned:
            return None

    def stop(self) -> None:
        self.worker.kill()
        self.thread.shutdown(wait=False, cancel_futures=True)


def rebuilt(plain: PlainResult, build: Callable[[int], Fix | None]) -> LintResult:
    """The worker's result as the server keeps it: fixes built on demand through `build`."""
    diagnostics: list[Diagnostic] = []
    for number, (found, fix) in enumerate(zip(plain.diagnostics, plain.fixes)):
        if fix is not None:
            lazy = LazyFix(fix[0], fix[1], functools.partial(build, number))
            found = replace(found, lazy_fix=lazy)
        diagnostics.append(found)
    return LintResult(tuple(diagnostics), plain.failures, plain.skipped_reason)
