"""The workspace index manager: one `ProjectIndex` per workspace folder, kept current.

- Built in the background (a worker process for large folders, so the server's interpreter stays
  free for linting), with progress reported through a callback.
- Open documents win over disk: their summaries come from the editor's text and stay in force
  until the document is closed, even across a rebuild.
- Changes on disk (watched files) update single entries.
- `affected(path)` answers which modules (transitively) import or subclass from the module at
  `path`, so the server re-lints only the open documents that depend on a change.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

from .. import engine
from ..analysis.index import ProjectIndex
from ..analysis.summary import ModuleSummary
from ..discovery import discover
from ..model import Settings
from ..workspace import summarize_file

logger = logging.getLogger(__name__)

#: below this many files a worker process costs more than it saves...
PROCESS_THRESHOLD = 200
#: ...unless one of them is this large: parsing it in the server's own process would hold the
#: interpreter lock (and stall every request) for about a second per megabyte.
LARGE_FILE_BYTES = 200_000
Progress = Callable[[int, int], None]


def release_stdout() -> None:
    """In a worker process: let go of the server's stdout (the LSP channel, inherited by spawned
    processes). A worker still holding it after the server ended would keep the client's end of
    the pipe open, so the client would see the server as still running."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _summarize_batch(paths: Sequence[str], settings: Settings) -> list[ModuleSummary | None]:
    return [summarize_file(Path(path), settings) for path in paths]


def _references(summary: ModuleSummary) -> Iterable[str]:
    yield from summary.imports.values()
    for cls in summary.classes.values():
        yield from (base for base in cls.bases if base)


def _suffixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[start:]) for start in range(len(parts))]


def depends_on(summary: ModuleSummary, names: Iterable[str]) -> bool:
    """Does `summary` import from (or subclass something of) any module named in `names`?"""
    if summary.has_star_import:
        return True
    wanted = {suffix for name in names for suffix in _suffixes(name)}
    for reference in _references(summary):
        parts = reference.split(".")
        if any(".".join(parts[:end]) in wanted for end in range(1, len(parts) + 1)):
            return True
    return False


class WorkspaceIndex:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._folders: dict[str, ProjectIndex] = {}
        self._loose = ProjectIndex()
        self._open: dict[str, ModuleSummary] = {}
        self.ready = threading.Event()
        #: bumped on every change of any summary: identifies what a copy of an index holds.
        self.revision = 0
        self._pools: set[ProcessPoolExecutor] = set()

    # -- where a file belongs

    def folders(self) -> list[str]:
        with self._lock:
            return list(self._folders)

    def folder_for(self, path: str | None) -> str | None:
        if path is None:
            return None
        with self._lock:
            candidates = [f for f in self._folders if _inside(path, f)]
        return max(candidates, key=len) if candidates else None

    def index_for(self, path: str | None) -> ProjectIndex:
        folder = self.folder_for(path)
        with self._lock:
            return self._folders[folder] if folder is not None else self._loose

    def add_folder(self, folder: str) -> None:
        with self._lock:
            self._folders.setdefault(folder, ProjectIndex())
            self.revision += 1

    def remove_folder(self, folder: str) -> None:
        with self._lock:
            self._folders.pop(folder, None)
            self.revision += 1

    def snapshot(self, path: str | None) -> tuple[object, Callable[[], bytes]]:
        """(token, pickler) of the index `path` is linted with, for the background worker: the
        token names this exact content; the pickler copies it under the lock (cheap to hand
        around, costly to call: only when the worker does not hold that token yet). What is
        pickled is the list of summaries (`ProjectIndex(summaries)` rebuilds it)."""
        with self._lock:
            token = (self.folder_for(path), self.revision)
            index = self.index_for(path)

        def pickled() -> bytes:
            with self._lock:
                return pickle.dumps(index.summaries(), pickle.HIGHEST_PROTOCOL)

        return token, pickled

    # -- building

    def build(
        self,
        folder: str,
        settings: Settings,
        progress: Progress,
        cancelled: threading.Event,
    ) -> int:
        """Index every Python file of `folder` (blocking: run it in an executor)."""
        files = [
            str(path)
            for path in discover([Path(folder)], settings.exclude, Path(folder), warn=logger.info)
        ]
        total = len(files)
        progress(0, total)
        index = ProjectIndex()
        batches = [files[start : start + 50] for start in range(0, total, 50)]
        done = 0

        def take(batch: Sequence[ModuleSummary | None]) -> None:
            nonlocal done
            for summary in batch:
                if summary is not None:
                    index.update(summary)
            done += len(batch)
            progress(done, total)

        if total >= PROCESS_THRESHOLD or any(_large(path) for path in files):
            workers = max(1, min((os.cpu_count() or 2) - 1, 4))
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=context, initializer=release_stdout
            ) as pool:
                self._pools.add(pool)
                try:
                    for batch in pool.map(_summarize_batch, batches, [settings] * len(batches)):
                        if cancelled.is_set():
                            pool.shutdown(cancel_futures=True)
                            break
                        take(batch)
                finally:
                    self._pools.discard(pool)
        else:
            for paths in batches:
                if cancelled.is_set():
                    break
                take(_summarize_batch(paths, settings))
        with self._lock:
            for path, summary in self._open.items():
                if _inside(path, folder):
                    index.update(summary)
            self._folders[folder] = index
            self.revision += 1
        return len(index)

    def stop(self) -> None:
        """Kill the processes of an index build under way (the server is exiting: a parse of a
        large file would otherwise run on, orphaned, for seconds)."""
        for pool in list(self._pools):
            processes = getattr(pool, "_processes", None) or {}
            for process in list(processes.values()):
                with contextlib.suppress(Exception):
                    process.kill()

    # -- incremental updates

    def set_open(self, path: str, text: str, settings: Settings) -> bool:
        """The editor's text of an open file; True when what other files see of it changed."""
        return self.put_open(path, engine.summarize(text, path, settings))

    def put_open(self, path: str, summary: ModuleSummary | None) -> bool:
        """An open file's summary made elsewhere (None: its text does not parse now)."""
        if summary is None:
            return False  # does not parse while being typed: keep the last good summary
        with self._lock:
            self._open[path] = summary
            return self._put(path, summary)

    def close(self, path: str) -> None:
        with self._lock:
            self._open.pop(path, None)

    def refresh_from_disk(self, path: str, settings: Settings) -> bool:
        """Re-read a file that changed on disk (ignored while it is open); True when it changed."""
        with self._lock:
            if path in self._open:
                return False
        summary = summarize_file(Path(path), settings) if os.path.isfile(path) else None
        with self._lock:
            if summary is None:
                index = self.index_for(path)
                existed = index.get(path) is not None
                index.remove(path)
                self.revision += 1
                return existed
            return self._put(path, summary)

    def _put(self, path: str, summary: ModuleSummary) -> bool:
        index = self.index_for(path)
        if index.get(path) == summary:
            return False
        index.update(summary)
        self.revision += 1
        return True

    # -- dependencies

    def affected(self, path: str) -> set[str]:
        """Paths of the modules that depend on the module at `path`, directly or through others."""
        index = self.index_for(path)
        changed = index.get(path)
        if changed is None:
            return set()
        names = {changed.name}
        found: set[str] = set()
        summaries = [s for s in index.summaries() if s.path != path]
        for _ in range(8):  # re-export / base-class chains are short
            new = [s for s in summaries if s.path not in found and depends_on(s, names)]
            if not new:
                break
            found.update(s.path for s in new)
            names.update(s.name for s in new)
        return found


def _large(path: str) -> bool:
    try:
        return os.path.getsize(path) >= LARGE_FILE_BYTES
    except OSError:
        return False


def _inside(path: str, folder: str) -> bool:
    folder = folder.rstrip("/\\")
    return path == folder or path.startswith(folder + os.sep) or path.startswith(folder + "/")
