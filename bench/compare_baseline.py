"""The corpus diagnostics against a stored baseline: what appeared and what disappeared.

    python bench/corpus.py                       # once: download and unpack the corpus
    python bench/compare_baseline.py             # now vs bench/baselines/corpus-f69af3e.txt
    python bench/compare_baseline.py --project aiohttp --project tornado
    python bench/compare_baseline.py --check     # exit 1 when anything changed

    # write a baseline of another checkout (a git worktree of the commit), on this corpus:
    git worktree add /tmp/base f69af3e
    python bench/compare_baseline.py --server /tmp/base/server \
        --write bench/baselines/corpus-f69af3e.txt

Each project of `corpus.py` (the interpreter's own `test` package last) is indexed whole and
linted with every rule, as `precision.py` does; one line per diagnostic,
`project/path:line: CODE message`, sorted. A rule that raises is a line too (`FAILURE CODE`).
Only projects present in both the baseline and the corpus are compared. `--write` with
`--project` replaces those projects in the baseline and keeps the others. Projects are spread over
`--jobs` processes (default: every core), the largest first.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import interpreter_tests, project_folders, python_files

DEFAULT_SERVER = HERE.parent / "server"
DEFAULT_BASELINE = HERE / "baselines" / "corpus-f69af3e.txt"


@dataclass(frozen=True)
class Unit:
    folder: Path
    label: str


def use_server(server: str) -> None:
    """Import `async_test_lint` from `server` (also in the worker processes)."""
    sys.path.insert(0, server)


def project_label(folder: Path) -> str:
    if folder == interpreter_tests():
        return f"python{sys.version_info[0]}.{sys.version_info[1]}-test"
    return folder.name


def content_root(folder: Path) -> Path:
    """The sdist's own top folder (`src/aiohttp-3.14.5/aiohttp-3.14.5/`), else `folder`."""
    entries = list(folder.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


def lint_unit(unit: Unit) -> tuple[list[str], int]:
    """Lines for this project's files, and how many files it linted."""
    from async_test_lint.engine import index_sources, lint
    from async_test_lint.model import Settings
    from async_test_lint.source import SourceDecodeError, decode_source

    texts: dict[str, str] = {}
    for path in python_files(unit.folder):
        try:
            texts[str(path)] = decode_source(path.read_bytes())
        except (OSError, SourceDecodeError):
            continue
    settings = Settings(project_root=str(unit.folder), target_version=(3, 9))
    index = index_sources(texts, settings)
    mine = sorted(texts)
    root = content_root(unit.folder)
    lines: list[str] = []
    for name in mine:
        shown = f"{unit.label}/{Path(name).relative_to(root).as_posix()}"
        try:
            result = lint(texts[name], name, settings, index)
        except Exception as error:  # an engine crash is a result to compare
            lines.append(f"{shown}:0: CRASH {type(error).__name__}")
            continue
        lines.extend(f"{shown}:0: FAILURE {failure.code}" for failure in result.failures)
        lines.extend(
            f"{shown}:{d.range.start.line + 1}: {d.code} {_one_line(d.message)}"
            for d in result.diagnostics
            if d.code != "ATL001"  # syntax errors: test data broken on purpose
        )
    return lines, len(mine)


def _one_line(text: str) -> str:
    return text.replace("\n", "\\n")


def units(folders: Iterable[Path]) -> list[Unit]:
    """One unit per project, the largest first, so the pool's processes end together."""
    sized = [(sum(p.stat().st_size for p in python_files(f)), f) for f in folders]
    return [Unit(f, project_label(f)) for _, f in sorted(sized, key=lambda pair: -pair[0])]


def run(folders: list[Path], server: str, jobs: int) -> tuple[list[str], dict[str, int]]:
    work = units(folders)
    with ProcessPoolExecutor(max_workers=jobs, initializer=use_server, initargs=(server,)) as pool:
        results = list(pool.map(lint_unit, work))
    files: Counter[str] = Counter()
    lines: list[str] = []
    for unit, (found, count) in zip(work, results):
        files[unit.label] += count
        lines.extend(found)
    return sorted(lines, key=_sort_key), dict(sorted(files.items()))


def _sort_key(line: str) -> tuple[str, int, str]:
    location, _, rest = line.partition(": ")
    path, _, number = location.rpartition(":")
    return path, int(number), rest


def describe_code(server: str) -> str:
    def git(*args: str) -> str:
        completed = subprocess.run(
            ["git", "-C", server, *args], capture_output=True, text=True, check=False
        )
        return completed.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", ".")
    return commit + (" + uncommitted changes under server/" if dirty else "")


HEADER = (
    "# async-test-lint diagnostics on the corpus of bench/corpus.py (bench/compare_baseline.py)",
    "# line format: project/path:line: CODE message (ATL001 syntax errors left out)",
)


@dataclass
class Baseline:
    """Diagnostic lines, and one header line per project (files, code, Python)."""

    lines: list[str]
    projects: dict[str, str]


def read_baseline(source: Path) -> Baseline:
    baseline = Baseline([], {})
    if not source.exists():
        return baseline
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# project "):
            baseline.projects[line.split()[2].rstrip(":")] = line
        elif line and not line.startswith("#"):
            baseline.lines.append(line)
    return baseline


def write_baseline(target: Path, lines: list[str], files: dict[str, int], code: str) -> None:
    """Write the projects linted now; other projects already in `target` are kept."""
    kept = read_baseline(target)
    python = platform.python_version()
    projects = {label: header for label, header in kept.projects.items() if label not in files}
    projects.update(
        (label, f"# project {label}: {count} files, code {code}, Python {python}")
        for label, count in files.items()
    )
    merged = [line for line in kept.lines if _project(line) not in files] + lines
    text = [*HEADER, *(projects[label] for label in sorted(projects))]
    text += sorted(merged, key=_sort_key)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(f"{line}\n" for line in text), encoding="utf-8")


def compare(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """(disappeared, appeared), as multisets: a line reported twice counts twice."""
    old, new = Counter(before), Counter(after)
    gone = sorted((old - new).elements(), key=_sort_key)
    came = sorted((new - old).elements(), key=_sort_key)
    return gone, came


def _project(line: str) -> str:
    return line.split("/", 1)[0]


def _code(line: str) -> str:
    return line.partition(": ")[2].split(" ", 1)[0]


def report(gone: list[str], came: list[str]) -> None:
    for line in gone:
        print(f"- {line}")
    for line in came:
        print(f"+ {line}")
    per_rule = {
        code: (sum(_code(g) == code for g in gone), sum(_code(c) == code for c in came))
        for code in sorted({_code(line) for line in [*gone, *came]})
    }
    summary = ", ".join(f"{code} -{lost} +{new}" for code, (lost, new) in per_rule.items())
    print(f"disappeared {len(gone)}, appeared {len(came)}" + (f" ({summary})" if summary else ""))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument(
        "--write",
        type=Path,
        help="write the projects linted now into this baseline (keeping its other projects)",
    )
    parser.add_argument(
        "--server", default=str(DEFAULT_SERVER), help="the server/ folder to lint with"
    )
    parser.add_argument("--project", action="append", default=[], help="only these projects")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--check", action="store_true", help="exit 1 when anything changed")
    args = parser.parse_args()
    use_server(args.server)
    import async_test_lint

    print(f"linting with {Path(async_test_lint.__file__).parent} ({describe_code(args.server)})")
    folders = [
        folder
        for folder in project_folders()
        if not args.project or any(project_label(folder).startswith(p) for p in args.project)
    ]
    started = time.perf_counter()
    lines, files = run(folders, args.server, args.jobs)
    seconds = time.perf_counter() - started
    print(
        f"{sum(files.values())} files of {len(files)} projects, {len(lines)} lines, {seconds:.1f}s"
    )
    if args.write:
        write_baseline(args.write, lines, files, describe_code(args.server))
        print(f"written to {args.write}")
        return 0
    baseline = read_baseline(args.baseline)
    missing = sorted(set(files) - set(baseline.projects))
    if missing:
        print(f"not in the baseline (not compared): {', '.join(missing)}")
    compared = set(files) & set(baseline.projects)
    gone, came = compare(
        [line for line in baseline.lines if _project(line) in compared],
        [line for line in lines if _project(line) in compared],
    )
    report(gone, came)
    return 1 if args.check and (gone or came) else 0


if __name__ == "__main__":
    sys.exit(main())
