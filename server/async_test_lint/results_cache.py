"""Check results by content hash across runs, like ruff's cache: an unchanged file is not parsed.

A file's diagnostics are a function of its text, how it is shown (its display path), the
settings, the version of this package's code, and (through the project index) of every other file
of the project. The key hashes all of it: the file's content digest, its display path, the
settings, the code fingerprint and the *index digest*, a hash of every indexed file's path and
content digest (summaries are a pure function of those). Editing any file of the project thus
invalidates every cached result: coarse, but exact, and a re-run of an unchanged tree never
parses a file.

Only CHECK results are cached: `--fix` and `--diff` compute and write fixed text. A file that
does not decode is cached with its error (a function of its bytes too); outcomes of a file that
could not be read or of a failed rule are never stored (they are re-tried).

The store is one JSON file per project root in `<root>/.async-test-lint-cache/`, written
atomically, one entry per path (a new key replaces the old one); past `MAX_ENTRIES` paths only the
current run's entries are kept. A cache file that cannot be read or does not match the expected
shape is ignored and rebuilt; it never fails a run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import Edit, Fix, Position, Safety, Settings, TextRange
from .output import Report, Span
from .storage import ensure_cache_folder, write_atomic

logger = logging.getLogger(__name__)

#: paths kept; past it, entries of paths not seen in the current run are dropped.
MAX_ENTRIES = 200_000
_FORMAT = 2
Entry = tuple[str, list[Any], "str | None"]  # key, reports as JSON, decode error


@dataclass(frozen=True)
class CachedResult:
    reports: tuple[Report, ...]
    #: the file does not decode: the error line of the run that stored it.
    error: str | None = None


def index_digest(files: Mapping[str, str | None], settings: Settings, fingerprint: str) -> str:
    """A hash of what the project index is made of: each file's path and content digest."""
    hasher = hashlib.sha256(f"{fingerprint}\0{settings.project_root}\0".encode())
    for path in sorted(files):
        hasher.update(f"{path}\0{files[path]}\0".encode("utf-8", "surrogateescape"))
    return hasher.hexdigest()


def settings_key(settings: Settings) -> str:
    """A stable text of the settings (sets sorted), for result keys."""
    parts = [
        sorted(settings.select),
        sorted(settings.ignore),
        [[pattern, sorted(codes)] for pattern, codes in settings.per_file_ignores],
        list(settings.exclude),
        list(settings.target_version),
        settings.project_root,
    ]
    return json.dumps(parts, separators=(",", ":"))


def result_key(digest: str, display: str, settings: str, fingerprint: str, index: str) -> str:
    text = "\0".join((digest, display, settings, fingerprint, index))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class ResultsCache:
    """Cached check results (reports) by path and key, for one project root."""

    def __init__(self, folder: Path, root_key: str, fingerprint: str) -> None:
        self.folder = folder
        self.file = folder / f"results-{root_key}.json"
        self.fingerprint = fingerprint
        self._entries: dict[str, Entry] | None = None
        self._touched: dict[str, Entry] = {}

    def _load(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def _read(self) -> dict[str, Entry]:
        try:
            document = json.loads(self.file.read_text(encoding="utf-8"))
            if document.get("format") != _FORMAT or document.get("fingerprint") != self.fingerprint:
                return {}
            entries = document["entries"]
            if not isinstance(entries, dict):
                return {}
            return {
                path: (key, reports, error)
                for path, (key, reports, error) in entries.items()
                if isinstance(key, str)
                and isinstance(reports, list)
                and isinstance(error, (str, type(None)))
            }
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            logger.debug("results cache not used: %s", error)
            return {}

    def get(self, path: str, key: str) -> CachedResult | None:
        """The result stored for `path` under `key`; None when absent, stale or unreadable."""
        entry = self._load().get(path)
        if entry is None or entry[0] != key:
            return None
        try:
            reports = tuple(_report_from_json(item) for item in entry[1])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            logger.debug("cached result of %s not used: %s", path, error)
            return None
        self._touched[path] = entry
        return CachedResult(reports, entry[2])

    def put(self, path: str, key: str, reports: Iterable[Report], error: str | None = None) -> None:
        self._touched[path] = (key, [_report_to_json(report) for report in reports], error)

    def save(self) -> None:
        """Write the entries of this run over the stored ones (atomically); errors are ignored."""
        if not self._touched:
            return
        entries = dict(self._load())
        entries.update(self._touched)
        if len(entries) > MAX_ENTRIES:
            entries = dict(self._touched)
        document = {
            "format": _FORMAT,
            "fingerprint": self.fingerprint,
            "entries": {path: list(entry) for path, entry in entries.items()},
        }
        try:
            ensure_cache_folder(self.folder)
            write_atomic(self.file, json.dumps(document, separators=(",", ":")).encode("utf-8"))
        except OSError as error:
            logger.debug("results cache not written: %s", error)


def _position(value: list[int]) -> Position:
    line, column = value
    return Position(int(line), int(column))


def _report_to_json(report: Report) -> dict[str, Any]:
    span = report.span
    fix = report.fix
    return {
        "path": report.path,
        "code": report.code,
        "name": report.name,
        "message": report.message,
        "severity": report.severity,
        "span": [
            span.line,
            span.column,
            span.end_line,
            span.end_column,
            span.utf16_column,
            span.utf16_end_column,
        ],
        "fix": None
        if fix is None
        else {
            "title": fix.title,
            "safety": fix.safety.value,
            "edits": [
                [
                    [edit.range.start.line, edit.range.start.column],
                    [edit.range.end.line, edit.range.end.column],
                    edit.new_text,
                ]
                for edit in fix.edits
            ],
        },
    }


def _report_from_json(item: dict[str, Any]) -> Report:
    fix_item = item["fix"]
    fix = None
    if fix_item is not None:
        edits = tuple(
            Edit(TextRange(_position(start), _position(end)), str(new_text))
            for start, end, new_text in fix_item["edits"]
        )
        fix = Fix(str(fix_item["title"]), Safety(fix_item["safety"]), edits)
    line, column, end_line, end_column, utf16_column, utf16_end = (int(x) for x in item["span"])
    return Report(
        path=str(item["path"]),
        code=str(item["code"]),
        name=str(item["name"]),
        message=str(item["message"]),
        severity=str(item["severity"]),
        span=Span(line, column, end_line, end_column, utf16_column, utf16_end),
        fix=fix,
    )


__all__ = [
    "MAX_ENTRIES",
    "CachedResult",
    "ResultsCache",
    "index_digest",
    "result_key",
    "settings_key",
]
