"""Files on disk: reading them as Python does, writing fixes back, and indexing a tree.

Writing keeps what the file had: the encoding its coding cookie declares, a UTF-8 BOM, and its
newline style (a fix that inserts `\\n` into a CRLF file gets `\\r\\n`). Writes are atomic: a
temporary file in the same folder replaces the original, whose permission bits it keeps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import io
import json
import logging
import os
import re
import stat
import tempfile
import tokenize
import typing
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from . import __version__, engine
from .analysis.index import ProjectIndex
from .analysis.summary import ModuleSummary
from .model import RuleFailure, Settings
from .output import Report, make_report
from .source import LineIndex, SourceDecodeError, decode_source

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: below this many files, a process pool costs more than it saves.
PARALLEL_THRESHOLD = 64
_LONE_LF = re.compile(r"(?<!\r)\n")
_LONE_CR = re.compile(r"\r(?!\n)")


@dataclass(frozen=True)
class SourceFile:
    """A file's text and how to write it back."""

    text: str
    encoding: str

    def encode(self, text: str) -> bytes:
        """`text` as bytes in this file's encoding (a BOM comes back with `utf-8-sig`)."""
        return text.encode(self.encoding)


def read_file(path: Path) -> SourceFile:
    """Read and decode `path`; raises OSError or SourceDecodeError."""
    return decode_file(Path(path).read_bytes())


def decode_file(data: bytes) -> SourceFile:
    """Decode bytes read from a file or a pipe; raises SourceDecodeError."""
    text = decode_source(data)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:  # decode_source would have raised already
        raise SourceDecodeError(str(error)) from None
    return SourceFile(text, encoding)


def read_source(path: Path) -> str:
    """The text of `path`; raises OSError or SourceDecodeError with a clear message."""
    return read_file(path).text


def newline_style(text: str) -> str | None:
    """The one newline `text` uses, or None when it has none or mixes them."""
    crlf = text.count("\r\n")
    lone_lf = len(_LONE_LF.findall(text))
    lone_cr = len(_LONE_CR.findall(text))
    styles = [style for style, count in (("\r\n", crlf), ("\n", lone_lf), ("\r", lone_cr)) if count]
    return styles[0] if len(styles) == 1 else None


def keep_newlines(original: str, fixed: str) -> str:
    """Give the lines a fix inserted the original file's newline when the file used only one."""
    style = newline_style(original)
    if style is None or style == "\n" or newline_style(fixed) == style:
        return fixed
    unified = fixed.replace("\r\n", "\n").replace("\r", "\n")
    return unified.replace("\n", style)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` by `data` through a temporary file in the same folder."""
    path = Path(path)
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_source(path: Path, original: SourceFile, fixed_text: str) -> bool:
    """Write `fixed_text` back in the file's encoding and newline style; False when unchanged."""
    text = keep_newlines(original.text, fixed_text)
    if text == original.text:
        return False
    write_atomic(path, original.encode(text))
    return True


# -- the project index -------------------------------------------------------------------------


def summarize_file(path: Path, settings: Settings) -> ModuleSummary | None:
    """The index entry of one file; None when it cannot be read, decoded or parsed."""
    try:
        text = read_source(path)
    except (OSError, SourceDecodeError) as error:
        logger.info("not indexed: %s: %s", path, error)
        return None
    try:
        return engine.summarize(text, str(path), settings)
    except Exception:  # the index is best effort: a file it cannot summarize stays unknown
        logger.exception("could not summarize %s", path)
        return None


def _summarize_batch(paths: Sequence[Path], settings: Settings) -> list[ModuleSummary | None]:
    return [summarize_file(path, settings) for path in paths]


def chunks(items: Sequence[T], count: int) -> list[Sequence[T]]:
    """About four batches per worker: even load without a message per file."""
    size = max(1, -(-len(items) // max(count * 4, 1)))
    return [items[start : start + size] for start in range(0, len(items), size)]


def worker_count(files: int) -> int:
    if files <= PARALLEL_THRESHOLD:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def build_index(
    files: Iterable[Path],
    settings: Settings,
    *,
    workers: int | None = None,
    cache: IndexCache | None = None,
) -> ProjectIndex:
    """Summaries of `files` (unreadable, undecodable or unparsable ones skipped).

    With a `cache`, files whose size and modification time did not change are not parsed again.
    """
    paths = list(files)
    known = cache.load() if cache is not None else {}
    stamps = {path: _stamp(path) for path in paths}
    fresh = {
        path: known[str(path)][1]
        for path in paths
        if str(path) in known and stamps[path] is not None and known[str(path)][0] == stamps[path]
    }
    todo = [path for path in paths if path not in fresh]
    count = worker_count(len(todo)) if workers is None else workers
    if count <= 1:
        computed = _summarize_batch(todo, settings)
    else:
        with ProcessPoolExecutor(max_workers=count) as pool:
            batches = pool.map(partial(_summarize_batch, settings=settings), chunks(todo, count))
            computed = [summary for batch in batches for summary in batch]
    summaries = {**fresh, **dict(zip(todo, computed))}
    if cache is not None and todo:
        entries: dict[str, tuple[Stamp, ModuleSummary | None]] = {}
        for path, summary in summaries.items():
            stamp = stamps[path]
            if stamp is not None:
                entries[str(path)] = (stamp, summary)
        cache.save(entries)
    return ProjectIndex(found for path in paths if (found := summaries.get(path)) is not None)


# -- the index cache ---------------------------------------------------------------------------

Stamp = tuple[int, int]
CACHE_FOLDER = ".async-test-lint-cache"


def _stamp(path: Path) -> Stamp | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def _code_fingerprint() -> str:
    """Changes whenever this package's code changes (a new version, or an edit in development)."""
    package = Path(__file__).parent
    latest = max((each.stat().st_mtime_ns for each in package.rglob("*.py")), default=0)
    return f"{__version__}-{latest}"


class IndexCache:
    """File summaries by path, stamped with (mtime, size), in `<root>/.async-test-lint-cache/`.

    JSON, not pickle: the folder lives in the user's project and is never trusted to run code. A
    cache that cannot be read or written is ignored (a debug log line), never an error. The folder
    holds a `.gitignore` of `*`, so git ignores it without a change to the project's own files.
    """

    def __init__(self, root: Path) -> None:
        key = hashlib.sha256(str(root.absolute()).encode("utf-8")).hexdigest()[:16]
        self.folder = root / CACHE_FOLDER
        self.file = self.folder / f"index-{key}.json"
        self.fingerprint = _code_fingerprint()

    def load(self) -> dict[str, tuple[Stamp, ModuleSummary | None]]:
        try:
            document = json.loads(self.file.read_text(encoding="utf-8"))
            if document.get("fingerprint") != self.fingerprint:
                return {}
            return {
                path: ((entry[0], entry[1]), _decode(ModuleSummary, entry[2]))
                for path, entry in document["files"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
            logger.debug("index cache not used: %s", error)
            return {}

    def save(self, entries: dict[str, tuple[Stamp, ModuleSummary | None]]) -> None:
        document = {
            "fingerprint": self.fingerprint,
            "files": {
                path: [stamp[0], stamp[1], _encode(summary)]
                for path, (stamp, summary) in entries.items()
            },
        }
        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by async-test-lint.\n*\n", encoding="utf-8")
            write_atomic(self.file, json.dumps(document, separators=(",", ":")).encode("utf-8"))
        except OSError as error:
            logger.debug("index cache not written: %s", error)


def _encode(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(_encode(item) for item in value)  # type: ignore[type-var]
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    return value


@functools.cache
def _field_types(kind: type) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    return {field.name: hints[field.name] for field in dataclasses.fields(kind)}


def _decode(kind: Any, value: Any) -> Any:
    """Rebuild `value` as `kind` from its JSON form; a TypeError when it does not fit."""
    if value is None:
        return None
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _field_types(kind)
        if not isinstance(value, dict) or not value.keys() <= hints.keys():
            raise TypeError(f"cached {kind.__name__} does not match the current fields")
        return kind(**{name: _decode(hints[name], item) for name, item in value.items()})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union:
        return _decode(next(arg for arg in args if arg is not type(None)), value)
    if origin in (dict, Mapping):
        return {key: _decode(args[1], item) for key, item in value.items()}
    if origin in (frozenset, set):
        return origin(_decode(args[0], item) for item in value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in value)
        return tuple(_decode(arg, item) for arg, item in zip(args, value))
    if kind in (str, int, bool, float) and not isinstance(value, kind):
        raise TypeError(f"cached value {value!r} is not a {kind.__name__}")
    return value


# -- checking and fixing files -----------------------------------------------------------------


class Mode(str, enum.Enum):
    CHECK = "check"
    FIX = "fix"
    DIFF = "diff"


@dataclass(frozen=True)
class Job:
    path: Path
    #: how the path is shown: relative to the working folder when inside it.
    display: str
    #: the text to check instead of the file's (standard input, an editor buffer).
    source: SourceFile | None = None


@dataclass(frozen=True)
class FileOutcome:
    job: Job
    reports: tuple[Report, ...] = ()
    failures: tuple[RuleFailure, ...] = ()
    #: the file could not be read or decoded (or written back): one line for the user.
    error: str | None = None
    #: set when fixing changed the text.
    original: SourceFile | None = None
    fixed_text: str | None = None
    fixed: int = 0


def check_file(
    job: Job, settings: Settings, index: ProjectIndex, mode: Mode, unsafe: bool
) -> FileOutcome:
    """Lint one file (and in FIX/DIFF mode compute its fixed text); never raises."""
    try:
        return _check_file(job, settings, index, mode, unsafe)
    except Exception as error:  # one broken file must not end the run (or a worker process)
        logger.exception("internal error on %s", job.path)
        return FileOutcome(
            job, error=f"internal error on {job.display}: {type(error).__name__}: {error}"
        )


def _check_file(
    job: Job, settings: Settings, index: ProjectIndex, mode: Mode, unsafe: bool
) -> FileOutcome:
    try:
        source = job.source if job.source is not None else read_file(job.path)
    except SourceDecodeError as error:
        return FileOutcome(job, error=f"cannot decode {job.display}: {error}")
    except OSError as error:
        return FileOutcome(job, error=f"cannot read {job.display}: {error.strerror or error}")
    path = str(job.path)
    result = engine.lint(source.text, path, settings, index)
    text = source.text
    fixed = 0
    if mode is not Mode.CHECK and any(
        engine.allowed(diagnostic.fix_safety, unsafe) for diagnostic in result.diagnostics
    ):
        outcome = engine.fix(source.text, path, settings, index, unsafe=unsafe)
        if outcome.applied and outcome.text != source.text:
            text = keep_newlines(source.text, outcome.text)
            fixed = max(outcome.applied, len(result.diagnostics) - len(outcome.remaining))
            result = engine.lint(text, path, settings, index)
    lines = LineIndex(text)
    reports = tuple(make_report(job.display, d, lines, with_fix=True) for d in result.diagnostics)
    changed = text != source.text
    return FileOutcome(
        job,
        reports,
        tuple(result.failures),
        original=source if changed else None,
        fixed_text=text if changed else None,
        fixed=fixed,
    )


_WORKER_STATE: dict[str, object] = {}


def _init_worker(
    settings: Settings, summaries: list[ModuleSummary], mode: Mode, unsafe: bool
) -> None:
    if not logging.getLogger("async_test_lint").handlers:  # spawned, not forked: stay quiet
        logging.getLogger("async_test_lint").addHandler(logging.NullHandler())
    _WORKER_STATE.update(settings=settings, index=ProjectIndex(summaries), mode=mode, unsafe=unsafe)


def _check_batch(jobs: Sequence[Job]) -> list[FileOutcome]:
    state = _WORKER_STATE
    settings, index = state["settings"], state["index"]
    mode, unsafe = state["mode"], state["unsafe"]
    assert isinstance(settings, Settings) and isinstance(index, ProjectIndex)
    assert isinstance(mode, Mode) and isinstance(unsafe, bool)
    return [check_file(job, settings, index, mode, unsafe) for job in jobs]


def check_files(
    jobs: Sequence[Job],
    settings: Settings,
    index: ProjectIndex,
    mode: Mode = Mode.CHECK,
    unsafe: bool = False,
    *,
    workers: int | None = None,
) -> list[FileOutcome]:
    """Outcomes in the order of `jobs`; a process pool when there are many files."""
    count = worker_count(len(jobs)) if workers is None else workers
    if count <= 1:
        return [check_file(job, settings, index, mode, unsafe) for job in jobs]
    batches = chunks(jobs, count)
    initargs = (settings, index.summaries(), mode, unsafe)
    with ProcessPoolExecutor(
        max_workers=count, initializer=_init_worker, initargs=initargs
    ) as pool:
        return [outcome for batch in pool.map(_check_batch, batches) for outcome in batch]


__all__ = [
    "PARALLEL_THRESHOLD",
    "FileOutcome",
    "IndexCache",
    "Job",
    "Mode",
    "SourceFile",
    "build_index",
    "check_file",
    "check_files",
    "keep_newlines",
    "read_file",
    "read_source",
    "write_atomic",
    "write_source",
]
