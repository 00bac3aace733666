"""Crash-freedom and fix properties over every file of the real-world corpus.

    python bench/corpus.py                        # once: download and unpack the corpus
    python bench/fix_properties.py [--project NAME ...] [--target 3.9] [--workers N]

For every `.py` file of every corpus project (indexed per project, as `async-test-lint check`
does) and of the interpreter's `test` package:

- `lint()` never raises and no rule fails;
- every offered fix, safe and unsafe, builds (the engine drops a fix whose builder raises, whose
  edits overlap or whose result does not parse: each of those is counted as a failure), its
  result parses (`ast.parse`), and on re-lint the fixed diagnostic is gone (same rule, same
  message, one fewer; nothing of that rule at the mapped start) and no fix of that rule is offered
  again over the text the fix wrote (idempotence);
- `engine.fix` with safe fixes, then with unsafe ones too, converges: after it stops no allowed
  fix is left to apply, within `MAX_FIX_PASSES`; fixing its result again changes nothing.

Prints the counts, the pass histograms, every failure and the wall time, and writes them to
`bench/.corpus/fix-properties.json`. Any failure is a bug. Exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import os
import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from async_test_lint.analysis.index import ProjectIndex
from async_test_lint.engine import (
    MAX_FIX_PASSES,
    SYNTAX_ERROR_CODE,
    allowed,
    fix,
    index_sources,
    lint,
)
from async_test_lint.fixes.edits import apply_edits
from async_test_lint.model import Diagnostic, Edit, Fix, Safety, Settings
from async_test_lint.source import LineIndex, SourceDecodeError, decode_source
from corpus import project_folders, python_files

CHUNK = 60


@dataclass
class Tally:
    """Counts and failures of one chunk of files; summed over the run."""

    counts: Counter[str] = field(default_factory=Counter)
    safe_passes: Counter[int] = field(default_factory=Counter)
    unsafe_passes: Counter[int] = field(default_factory=Counter)
    failures: list[dict[str, str]] = field(default_factory=list)

    def fail(self, kind: str, path: str, detail: str) -> None:
        self.counts[f"failure: {kind}"] += 1
        self.failures.append({"kind": kind, "path": path, "detail": detail})

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.safe_passes.update(other.safe_passes)
        self.unsafe_passes.update(other.unsafe_passes)
        self.failures.extend(other.failures)


class _EngineLog(logging.Handler):
    """The engine logs (and drops) fixes that do not build, overlap or do not parse."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().splitlines()[0])


_LOG = _EngineLog()
_PROJECTS: dict[str, tuple[Settings, ProjectIndex]] = {}


def _read(path: Path) -> str | None:
    try:
        return decode_source(path.read_bytes())
    except (OSError, SourceDecodeError):
        return None


def _project(folder: Path, target: tuple[int, int]) -> tuple[Settings, ProjectIndex]:
    """Settings and index of a project, built once per worker process."""
    key = str(folder)
    if key not in _PROJECTS:
        texts = {
            str(path): text for path in python_files(folder) if (text := _read(path)) is not None
        }
        settings = Settings(project_root=str(folder), target_version=target)
        _PROJECTS[key] = (settings, index_sources(texts, settings))
    return _PROJECTS[key]


def _setup_worker() -> None:
    logging.getLogger("async_test_lint").addHandler(_LOG)
    logging.getLogger("async_test_lint").propagate = False
    warnings.simplefilter("ignore")  # ast.parse of test data: invalid escapes and the like


def check_chunk(folder: Path, paths: Sequence[Path], target: tuple[int, int]) -> Tally:
    settings, index = _project(folder, target)
    tally = Tally()
    for path in paths:
        tally.counts["files"] += 1
        text = _read(path)
        if text is None:
            tally.counts["undecodable files"] += 1
            continue
        name = str(path.relative_to(folder.parent))
        try:
            _check_file(text, str(path), name, settings, index, tally)
        except Exception:
            tally.fail("engine raised", name, traceback.format_exc(limit=-3))
    return tally


def _check_file(
    text: str, path: str, name: str, settings: Settings, index: ProjectIndex, tally: Tally
) -> None:
    result = lint(text, path, settings, index)
    for failure in result.failures:
        tally.fail("rule failed", name, f"{failure.code}: {failure.error}")
    if any(diagnostic.code == SYNTAX_ERROR_CODE for diagnostic in result.diagnostics):
        tally.counts["files with a syntax error"] += 1
        return
    tally.counts["lines"] += text.count("\n") + 1
    tally.counts["diagnostics"] += len(result.diagnostics)
    for diagnostic in result.diagnostics:
        if diagnostic.lazy_fix is not None:
            _check_fix(text, path, name, settings, index, result.diagnostics, diagnostic, tally)
    if any(diagnostic.lazy_fix is not None for diagnostic in result.diagnostics):
        for unsafe in (False, True):
            _check_convergence(text, path, name, settings, index, unsafe, tally)


def _check_fix(
    text: str,
    path: str,
    name: str,
    settings: Settings,
    index: ProjectIndex,
    before: Sequence[Diagnostic],
    diagnostic: Diagnostic,
    tally: Tally,
) -> None:
    where = f"{name}:{diagnostic.range.start.line + 1} {diagnostic.code}"
    safety = "safe" if diagnostic.fix_safety is Safety.SAFE else "unsafe"
    tally.counts[f"diagnostics with a {safety} fix"] += 1
    _LOG.messages.clear()
    offered = diagnostic.fix
    if offered is None:
        dropped = "; ".join(_LOG.messages) or "the builder returned no fix"
        tally.fail("fix not built", where, dropped)
        return
    if offered.safety is not diagnostic.fix_safety:
        tally.fail("safety differs from the announced one", where, offered.safety.value)
    fixed = apply_edits(text, offered.edits, LineIndex(text))
    try:
        ast.parse(fixed)
    except (SyntaxError, ValueError) as error:
        tally.fail("fixed code does not parse", where, str(error))
        return
    after = lint(fixed, path, settings, index)
    same_rule = [other for other in after.diagnostics if other.code == diagnostic.code]
    if _still_reported(text, fixed, offered, before, diagnostic, same_rule):
        tally.fail("diagnostic not gone after its fix", where, diagnostic.message)
    elif _offered_again(text, fixed, offered, same_rule):
        tally.fail("fix offered again over its own edit", where, offered.title)
    else:
        tally.counts[f"{safety} fixes with every property"] += 1


def _still_reported(
    text: str,
    fixed: str,
    offered: Fix,
    before: Sequence[Diagnostic],
    diagnostic: Diagnostic,
    same_rule: Sequence[Diagnostic],
) -> bool:
    def same(other: Diagnostic) -> bool:
        return other.code == diagnostic.code and other.message == diagnostic.message

    if sum(map(same, same_rule)) >= sum(map(same, before)):
        return True
    start = _mapped(LineIndex(text).offset(diagnostic.range.start), offered.edits, LineIndex(text))
    fixed_lines = LineIndex(fixed)
    return any(
        fixed_lines.offset(other.range.start) == start and same(other) for other in same_rule
    )


def _mapped(offset: int, edits: Sequence[Edit], lines: LineIndex) -> int:
    """Where `offset` of the old text lands in the edited text (the start of an edit it is in)."""
    shift = 0
    for edit in sorted(edits, key=lambda e: e.range):
        start, end = lines.offset(edit.range.start), lines.offset(edit.range.end)
        if end <= offset and start < offset:
            shift += len(edit.new_text) - (end - start)
        elif start <= offset < end:
            return start + shift
    return offset + shift


def _written_spans(text: str, edits: Sequence[Edit]) -> Iterator[tuple[int, int]]:
    """The offsets, in the edited text, of what each edit wrote."""
    lines = LineIndex(text)
    shift = 0
    for edit in sorted(edits, key=lambda e: e.range):
        start, end = lines.offset(edit.range.start), lines.offset(edit.range.end)
        yield start + shift, start + shift + len(edit.new_text)
        shift += len(edit.new_text) - (end - start)


def _offered_again(text: str, fixed: str, offered: Fix, same_rule: Sequence[Diagnostic]) -> bool:
    """A fix of the same rule that would rewrite text the first fix wrote (a fix that never ends).

    Only non-empty writes count: a pure deletion has nothing to be rewritten.
    """
    fixed_lines = LineIndex(fixed)
    written = [(s, e) for s, e in _written_spans(text, offered.edits) if e > s]
    for other in same_rule:
        second = other.fix
        if second is None:
            continue
        for edit in second.edits:
            start, end = fixed_lines.offset(edit.range.start), fixed_lines.offset(edit.range.end)
            if any(start < w_end and w_start < max(end, start + 1) for w_start, w_end in written):
                return True
    return False


def _check_convergence(
    text: str,
    path: str,
    name: str,
    settings: Settings,
    index: ProjectIndex,
    unsafe: bool,
    tally: Tally,
) -> None:
    kind = "unsafe" if unsafe else "safe"
    first = fix(text, path, settings, index, unsafe=unsafe)
    (tally.unsafe_passes if unsafe else tally.safe_passes)[first.passes] += 1
    try:
        ast.parse(first.text)
    except (SyntaxError, ValueError) as error:
        tally.fail(f"fix ({kind}) result does not parse", name, str(error))
        return
    left = [
        diagnostic.code
        for diagnostic in first.remaining
        if allowed(diagnostic.fix_safety, unsafe) and diagnostic.fix is not None
    ]
    if left:
        tally.fail(
            f"fix ({kind}) stopped with a fix left to apply (bound: {MAX_FIX_PASSES} passes)",
            name,
            str(left),
        )
    again = fix(first.text, path, settings, index, unsafe=unsafe)
    if again.text != first.text:
        tally.fail(f"fix ({kind}) twice changed the text", name, f"{again.applied} more fixes")


def _chunks(folders: Sequence[Path]) -> list[tuple[Path, list[Path]]]:
    work = []
    for folder in folders:
        files = list(python_files(folder))
        work.extend((folder, files[i : i + CHUNK]) for i in range(0, len(files), CHUNK))
    return work


def run(folders: Sequence[Path], target: tuple[int, int], workers: int) -> Tally:
    """Check every file of `folders` on a pool of `workers` processes."""
    total = Tally()
    with ProcessPoolExecutor(max_workers=workers, initializer=_setup_worker) as pool:
        futures = [
            pool.submit(check_chunk, folder, paths, target) for folder, paths in _chunks(folders)
        ]
        for future in futures:
            total.add(future.result())
    return total


def _report(tally: Tally, seconds: float, workers: int) -> dict[str, object]:
    return {
        "wall seconds": round(seconds, 1),
        "workers": workers,
        "counts": dict(sorted(tally.counts.items())),
        "fix passes (safe)": dict(sorted(tally.safe_passes.items())),
        "fix passes (safe and unsafe)": dict(sorted(tally.unsafe_passes.items())),
        "failures": tally.failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", action="append", default=[], help="only these project folders")
    parser.add_argument("--target", default="3.9", help="target Python version (default 3.9)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / ".corpus" / "fix-properties.json"
    )
    args = parser.parse_args()
    major, minor = (int(part) for part in args.target.split("."))
    folders = [
        folder
        for folder in project_folders()
        if not args.project or any(folder.name.startswith(name) for name in args.project)
    ]
    started = time.perf_counter()
    total = run(folders, (major, minor), args.workers)
    report = _report(total, time.perf_counter() - started, args.workers)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    for failure in total.failures:
        print(f"FAIL {failure['kind']}: {failure['path']}: {failure['detail']}")
    for key, value in report.items():
        if key != "failures":
            print(f"{key}: {value}")
    print(f"written to {args.out}")
    sys.exit(1 if total.failures else 0)


if __name__ == "__main__":
    main()
