"""Files on disk: reading them as Python does, writing fixes back, and indexing a tree.

Writing keeps what the file had: the encoding its coding cookie declares, a UTF-8 BOM, and its
newline style (a fix that inserts `\\n` into a CRLF file gets `\\r\\n`). Writes are atomic: a
temporary file in the same folder replaces the original, whose permission bits it keeps.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import io
import json
import logging
import multiprocessing
import os
import re
import tokenize
import typing
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from . import __version__, engine
from .analysis.index import ProjectIndex
from .analysis.summary import ModuleSummary
from .model import Diagnostic, RuleFailure, Settings
from .output import Report, make_report
from .prefilter import Reach, mentions_needle
from .results_cache import ResultsCache, index_digest, result_key, settings_key
from .source import LineIndex, SourceDecodeError, decode_source
from .storage import ensure_cache_folder, write_atomic

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


def write_source(path: Path, original: SourceFile, fixed_text: str) -> bool:
    """Write `fixed_text` back in the file's encoding and newline style; False when unchanged."""
    text = keep_newlines(original.text, fixed_text)
    if text == original.text:
        return False
    write_atomic(path, original.encode(text))
    return True


# -- scanning the project: content digests, summaries, pre-filter needles -----------------


class ScannedFile:
    """What a run knows of one project file before linting anything.

    A summary that came from the index cache is decoded only when first read: a re-run whose
    results all come from the results cache never needs the project index.
    """

    __slots__ = ("_raw", "_summary", "digest", "mentions", "path", "settings")

    def __init__(
        self,
        path: Path,
        settings: Settings,
        digest: str | None,
        mentions: bool,
        summary: ModuleSummary | None = None,
        raw: object = None,
    ) -> None:
        self.path = path
        self.settings = settings
        #: a hash of the file's bytes; None when it cannot be read.
        self.digest = digest
        #: its text mentions a pre-filter needle (True when it cannot be read or decoded).
        self.mentions = mentions
        self._summary = summary
        self._raw = raw

    @property
    def summary(self) -> ModuleSummary | None:
        if self._raw is not None:
            raw, self._raw = self._raw, None
            try:
                self._summary = _decode(ModuleSummary, raw)
            except (TypeError, ValueError, KeyError, AttributeError) as error:
                logger.debug("cached summary of %s not used: %s", self.path, error)
                self._summary, self.mentions = scan_file(self.path, self.settings)
        return self._summary

    def cache_entry(self) -> list[object]:
        raw = self._raw if self._raw is not None else _encode(self._summary)
        return [self.digest, self.mentions, raw]


def content_digest(path: Path) -> str | None:
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def scan_file(path: Path, settings: Settings) -> tuple[ModuleSummary | None, bool]:
    """The index entry of one file (None when it cannot be read, decoded or parsed) and whether
    its text mentions a pre-filter needle (True when it cannot be read)."""
    try:
        text = read_source(path)
    except (OSError, SourceDecodeError) as error:
        logger.info("not indexed: %s: %s", path, error)
        return None, True
    mentions = mentions_needle(text)
    try:
        return engine.summarize(text, str(path), settings), mentions
    except Exception:  # the index is best effort: a file it cannot summarize stays unknown
        logger.exception("could not summarize %s", path)
        return None, mentions


def summarize_file(path: Path, settings: Settings) -> ModuleSummary | None:
    """The index entry of one file; None when it cannot be read, decoded or parsed."""
    return scan_file(path, settings)[0]


def _scan_batch(
    paths: Sequence[Path], settings: Settings
) -> list[tuple[ModuleSummary | None, bool]]:
    return [scan_file(path, settings) for path in paths]


def chunks(items: Sequence[T], count: int) -> list[Sequence[T]]:
    """About four batches per worker: even load without a message per file."""
    size = max(1, -(-len(items) // max(count * 4, 1)))
    return [items[start : start + size] for start in range(0, len(items), size)]


def worker_count(files: int) -> int:
    if files <= PARALLEL_THRESHOLD:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


class ProjectScan:
    """The files of a project: content digests at once, summaries on first need.

    A run whose results all come from the results cache needs the digests only (they make the
    keys), so it neither parses a file nor loads the index cache.
    """

    def __init__(
        self,
        files: Iterable[Path],
        settings: Settings,
        *,
        workers: int | None = None,
        cache: IndexCache | None = None,
    ) -> None:
        self.settings = settings
        self.paths = list(dict.fromkeys(files))
        self.digests = {path: content_digest(path) for path in self.paths}
        self._workers = workers
        self._cache = cache
        self._files: dict[Path, ScannedFile] | None = None
        self._index: ProjectIndex | None = None

    def files(self) -> dict[Path, ScannedFile]:
        """Every file's digest, needle mention and summary, in the order given; with a cache,
        files whose content did not change are not parsed again."""
        if self._files is None:
            self._files = self._scan()
        return self._files

    def index(self) -> ProjectIndex:
        if self._index is None:
            self._index = index_of(self.files())
        return self._index

    def _scan(self) -> dict[Path, ScannedFile]:
        settings, cache, digests = self.settings, self._cache, self.digests
        known = cache.load() if cache is not None else {}
        scans: dict[Path, ScannedFile] = {}
        todo: list[Path] = []
        for path in self.paths:
            digest, entry = digests[path], known.get(str(path))
            if digest is not None and entry is not None and entry[0] == digest:
                scans[path] = ScannedFile(path, settings, digest, entry[1], raw=entry[2])
            else:
                todo.append(path)
        count = worker_count(len(todo)) if self._workers is None else self._workers
        if count <= 1:
            computed = _scan_batch(todo, settings)
        else:
            with ProcessPoolExecutor(max_workers=count) as pool:
                batches = pool.map(partial(_scan_batch, settings=settings), chunks(todo, count))
                computed = [scanned for batch in batches for scanned in batch]
        for path, (summary, mentions) in zip(todo, computed):
            scans[path] = ScannedFile(path, settings, digests[path], mentions, summary)
        if cache is not None and todo:
            entries = {str(path): scan.cache_entry() for path, scan in scans.items() if scan.digest}
            cache.save(entries)
        return {path: scans[path] for path in self.paths}


def scan_project(
    files: Iterable[Path],
    settings: Settings,
    *,
    workers: int | None = None,
    cache: IndexCache | None = None,
) -> dict[Path, ScannedFile]:
    """Every file's digest, needle mention and summary (see `ProjectScan.files`)."""
    return ProjectScan(files, settings, workers=workers, cache=cache).files()


def index_of(scans: Mapping[Path, ScannedFile]) -> ProjectIndex:
    return ProjectIndex(found for scan in scans.values() if (found := scan.summary) is not None)


def build_index(
    files: Iterable[Path],
    settings: Settings,
    *,
    workers: int | None = None,
    cache: IndexCache | None = None,
) -> ProjectIndex:
    """Summaries of `files` (unreadable, undecodable or unparsable ones skipped).

    With a `cache`, files whose content did not change are not parsed again.
    """
    return index_of(scan_project(files, settings, workers=workers, cache=cache))


# -- the index cache ---------------------------------------------------------------------------

CACHE_FOLDER = ".async-test-lint-cache"
_INDEX_FORMAT = 2
CacheEntry = list[Any]  # [content digest, mentions a needle, summary as JSON]


def _code_fingerprint() -> str:
    """Changes whenever this package's code changes (a new version, or an edit in development)."""
    package = Path(__file__).parent
    latest = max((each.stat().st_mtime_ns for each in package.rglob("*.py")), default=0)
    return f"{__version__}-{latest}"


class IndexCache:
    """File summaries by path, keyed by content digest, in `<root>/.async-test-lint-cache/`.

    JSON, not pickle: the folder lives in the user's project and is never trusted to run code. A
    cache that cannot be read or written is ignored (a debug log line), never an error. The folder
    holds a `.gitignore` of `*`, so git ignores it without a change to the project's own files.
    Summaries stay JSON until read (`ScannedFile.summary`).
    """

    def __init__(self, root: Path) -> None:
        self.key = hashlib.sha256(str(root.absolute()).encode("utf-8")).hexdigest()[:16]
        self.folder = root / CACHE_FOLDER
        self.file = self.folder / f"index-{self.key}.json"
        self.fingerprint = _code_fingerprint()

    def results(self) -> ResultsCache:
        """The check results cache of the same project root (same folder and fingerprint)."""
        return ResultsCache(self.folder, self.key, self.fingerprint)

    def load(self) -> dict[str, CacheEntry]:
        try:
            document = json.loads(self.file.read_text(encoding="utf-8"))
            if (
                document.get("format") != _INDEX_FORMAT
                or document.get("fingerprint") != self.fingerprint
            ):
                return {}
            return {
                path: entry
                for path, entry in document["files"].items()
                if isinstance(entry, list)
                and len(entry) == 3
                and isinstance(entry[0], str)
                and isinstance(entry[1], bool)
                and isinstance(entry[2], (dict, type(None)))
            }
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            logger.debug("index cache not used: %s", error)
            return {}

    def save(self, entries: Mapping[str, CacheEntry]) -> None:
        document = {"format": _INDEX_FORMAT, "fingerprint": self.fingerprint, "files": entries}
        try:
            ensure_cache_folder(self.folder)
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
    #: `error` says that the file's bytes do not decode (so it is a function of its content).
    undecodable: bool = False
    #: set when fixing changed the text.
    original: SourceFile | None = None
    fixed_text: str | None = None
    fixed: int = 0
    #: (code, count) of the findings the fixes removed, by code.
    fixed_by_rule: tuple[tuple[str, int], ...] = ()


#: seconds one file's lint (or all its fix passes) may take before it is skipped as an error.
CHECK_TIME_LIMIT = 60.0


def check_file(
    job: Job, settings: Settings, index: ProjectIndex, mode: Mode, unsafe: bool
) -> FileOutcome:
    """Lint one file (and in FIX/DIFF mode compute its fixed text); never raises."""
    try:
        return _check_file(job, settings, index, mode, unsafe)
    except engine.LintTimeout as timeout:
        return FileOutcome(
            job, error=f"skipped {job.display}: analysis took longer than {timeout.limit:g} s"
        )
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
        return FileOutcome(job, error=f"cannot decode {job.display}: {error}", undecodable=True)
    except OSError as error:
        return FileOutcome(job, error=f"cannot read {job.display}: {error.strerror or error}")
    path = str(job.path)
    result = engine.lint(source.text, path, settings, index, time_limit=CHECK_TIME_LIMIT)
    text = source.text
    fixed = 0
    fixed_by_rule: tuple[tuple[str, int], ...] = ()
    if mode is not Mode.CHECK and any(
        engine.allowed(diagnostic.fix_safety, unsafe) for diagnostic in result.diagnostics
    ):
        outcome = engine.fix(
            source.text, path, settings, index, unsafe=unsafe, time_limit=CHECK_TIME_LIMIT
        )
        if outcome.applied and outcome.text != source.text:
            text = keep_newlines(source.text, outcome.text)
            fixed = max(outcome.applied, len(result.diagnostics) - len(outcome.remaining))
            before = result.diagnostics
            result = engine.lint(text, path, settings, index)
            fixed_by_rule = _removed_by_code(before, result.diagnostics)
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
        fixed_by_rule=fixed_by_rule,
    )


def _removed_by_code(
    before: Sequence[Diagnostic], after: Sequence[Diagnostic]
) -> tuple[tuple[str, int], ...]:
    removed = Counter(d.code for d in before) - Counter(d.code for d in after)
    return tuple(sorted(removed.items()))


_WORKER_STATE: dict[str, object] = {}


def _init_worker(
    settings: Settings, summaries: list[ModuleSummary], mode: Mode, unsafe: bool
) -> None:
    _quiet_worker_logging()
    _WORKER_STATE.update(settings=settings, index=ProjectIndex(summaries), mode=mode, unsafe=unsafe)


def _quiet_worker_logging() -> None:
    if not logging.getLogger("async_test_lint").handlers:  # spawned, not forked: stay quiet
        logging.getLogger("async_test_lint").addHandler(logging.NullHandler())


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
    if multiprocessing.get_start_method() == "fork":
        # Forked workers inherit the index: no pickling it once per worker.
        _WORKER_STATE.update(settings=settings, index=index, mode=mode, unsafe=unsafe)
        try:
            with ProcessPoolExecutor(max_workers=count, initializer=_quiet_worker_logging) as pool:
                return [outcome for batch in pool.map(_check_batch, batches) for outcome in batch]
        finally:
            _WORKER_STATE.clear()
    initargs = (settings, index.summaries(), mode, unsafe)
    with ProcessPoolExecutor(
        max_workers=count, initializer=_init_worker, initargs=initargs
    ) as pool:
        return [outcome for batch in pool.map(_check_batch, batches) for outcome in batch]


def check_project(
    jobs: Sequence[Job],
    project: ProjectScan,
    mode: Mode = Mode.CHECK,
    unsafe: bool = False,
    *,
    results: ResultsCache | None = None,
    prefilter: bool = True,
    workers: int | None = None,
) -> list[FileOutcome]:
    """Check `jobs` (files of `project`) in their order.

    Results come from `results` when their key matches (CHECK mode only); the files that cannot
    hold any anti-pattern are not linted (`prefilter`); the rest go through `check_files` with
    the project index. The project is summarised only when some result is not cached.
    """
    settings = project.settings
    outcomes: dict[int, FileOutcome] = {}
    keys = _result_keys(jobs, project, results) if mode is Mode.CHECK else {}
    if results is not None:
        for position, stored in keys.items():
            cached = results.get(str(jobs[position].path), stored)
            if cached is not None:
                undecodable = cached.error is not None
                outcomes[position] = FileOutcome(
                    jobs[position], cached.reports, error=cached.error, undecodable=undecodable
                )
    remaining = [position for position in range(len(jobs)) if position not in outcomes]
    if remaining:
        if prefilter:
            outcomes.update(_filtered_out(jobs, remaining, project))
        todo = [position for position in remaining if position not in outcomes]
        if todo:
            checked = check_files(
                [jobs[at] for at in todo], settings, project.index(), mode, unsafe, workers=workers
            )
            outcomes.update(zip(todo, checked))
    if results is not None:
        for position in remaining:
            outcome = outcomes[position]
            new_key = keys.get(position)
            cacheable = outcome.error is None or outcome.undecodable
            if (
                new_key is not None
                and cacheable
                and not outcome.failures
                and _unchanged_since_scan(outcome.job.path, project)
            ):
                results.put(str(outcome.job.path), new_key, outcome.reports, outcome.error)
        results.save()
    return [outcomes[position] for position in range(len(jobs))]


def _unchanged_since_scan(path: Path, project: ProjectScan) -> bool:
    """The file still has the content its key was made from: a file edited while it was being
    checked must not have the new text's result stored under the old text's key."""
    return content_digest(path) == project.digests.get(path)


def _result_keys(
    jobs: Sequence[Job], project: ProjectScan, results: ResultsCache | None
) -> dict[int, str]:
    if results is None:
        return {}
    digests = {str(path): digest for path, digest in project.digests.items()}
    index = index_digest(digests, project.settings, results.fingerprint)
    settings_text = settings_key(project.settings)
    keys: dict[int, str] = {}
    for position, job in enumerate(jobs):
        digest = project.digests.get(job.path)
        if job.source is None and digest is not None:
            keys[position] = result_key(
                digest, job.display, settings_text, results.fingerprint, index
            )
    return keys


def _filtered_out(
    jobs: Sequence[Job], positions: Sequence[int], project: ProjectScan
) -> dict[int, FileOutcome]:
    """Empty outcomes for the jobs no rule can report on (see `prefilter`)."""
    scans = project.files()
    reach: Reach | None = None
    skipped: dict[int, FileOutcome] = {}
    for position in positions:
        job = jobs[position]
        scan = scans.get(job.path)
        if job.source is not None or scan is None or scan.mentions:
            continue
        if reach is None:
            mentions = {str(path): each.mentions for path, each in scans.items()}
            reach = Reach(project.index(), mentions)
        if not reach.needs_lint(scan.summary, scan.mentions):
            skipped[position] = FileOutcome(job)
    return skipped


__all__ = [
    "PARALLEL_THRESHOLD",
    "FileOutcome",
    "IndexCache",
    "Job",
    "Mode",
    "ProjectScan",
    "ScannedFile",
    "SourceFile",
    "build_index",
    "check_file",
    "check_files",
    "check_project",
    "keep_newlines",
    "read_file",
    "read_source",
    "scan_project",
    "write_atomic",
    "write_source",
]
