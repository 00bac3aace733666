"""Benchmark: `async-test-lint check` side by side with its peers, on the same files and machine.

    .venv/bin/python bench/corpus.py               # once: download the corpus
    .venv/bin/python bench/bench_peers.py          # install the peers (once), measure, print
    .venv/bin/python bench/bench_peers.py --write  # and update `## Side by side` in
                                                   # docs/performance.md

The corpus of bench/corpus.py (pinned projects plus the interpreter's `test` package) is copied
into a temporary folder, once whole and once as its *async subset* (the files whose text
mentions `async`), each with a `pyproject.toml` so every tool sees one project. On each:

- the floor: a Python script that reads every file and calls `ast.parse` on it, in one process
  and in two (a process pool, like the linters that use both cores);
- `async-test-lint check` without its cache (`--no-cache`), with a cold cache (first run, writes
  it) and with a warm one (nothing changed: no file is parsed);
- `ruff check --select ASYNC` (no cache), `flake8 --select ASYNC` with flake8-async (its default
  `--jobs`: one process per core), `fixit lint` (its default rules and processes).

The peers are installed, pinned (bench/peers-requirements.txt), into the git-ignored
`.cache/peers-venv`, never into the project's venv. fixit is very slow (the issue measured about
1,265 s of CPU on the async subset), so by default it runs on an evenly spaced sample of the
async subset (`--fixit-sample`, files per second extrapolate); `--fixit async` or `--fixit all`
run it on the whole async subset or on both corpora. Every command has a time limit
(`--timeout`); a command that reaches it is stopped and reported as such.

Reported per command: wall time, CPU time (user + system of the command and every process it
waited for), files/s and lines/s (by wall time), and the ratio of its wall time to the floor's
(one process) measured in the same run. Commands that take less than `--repeat-below` seconds are
run `--runs` times and the median is shown. The machine may be shared: compare ratios from one
run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import project_folders, python_files

PEERS_VENV = ROOT / ".cache" / "peers-venv"
PEERS_REQUIREMENTS = Path(__file__).resolve().parent / "peers-requirements.txt"
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
SECTION = "## Side by side"

FLOOR = """\
import ast, sys, warnings
from concurrent.futures import ProcessPoolExecutor

def parse(paths):
    warnings.simplefilter("ignore")
    for path in paths:
        with open(path, "rb") as stream:
            data = stream.read()
        try:
            ast.parse(data)
        except (SyntaxError, ValueError):
            pass
    return len(paths)

paths = open(sys.argv[1], encoding="utf-8").read().splitlines()
workers = int(sys.argv[2])
if workers == 1:
    parse(paths)
else:
    size = max(1, len(paths) // (workers * 4))
    with ProcessPoolExecutor(workers) as pool:
        sum(pool.map(parse, [paths[i : i + size] for i in range(0, len(paths), size)]))
"""


@dataclass(frozen=True)
class Tree:
    name: str
    folder: Path
    files: list[Path]
    lines: int


@dataclass
class Measure:
    tool: str
    wall: float
    cpu: float
    files: int
    lines: int
    note: str = ""
    timed_out: bool = False


# -- set-up -----------------------------------------------------------------------------------


def ensure_peers() -> Path:
    """Create `.cache/peers-venv` with the pinned peers, once (a stamp of the requirements)."""
    stamp = PEERS_VENV / ".requirements-sha256"
    wanted = hashlib.sha256(PEERS_REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == wanted:
        return PEERS_VENV / "bin"
    print(f"installing the peers into {PEERS_VENV} ...", flush=True)
    if not (PEERS_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    pip = [str(PEERS_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-r", str(PEERS_REQUIREMENTS)], check=True)
    stamp.write_text(wanted + "\n", encoding="utf-8")
    return PEERS_VENV / "bin"


def build_trees(base: Path) -> tuple[Tree, Tree]:
    """Copy the corpus into `base/whole` and its async subset into `base/async`."""
    whole, subset = base / "whole", base / "async"
    whole_files: list[Path] = []
    subset_files: list[Path] = []
    whole_lines = subset_lines = 0
    for folder in project_folders():
        name = "cpython-test" if folder.name == "test" else folder.name
        for source in python_files(folder):
            data = source.read_bytes()
            relative = Path(name) / source.relative_to(folder)
            lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
            whole_files.append(_copy(data, whole / relative))
            whole_lines += lines
            if b"async" in data:
                subset_files.append(_copy(data, subset / relative))
                subset_lines += lines
    for tree in (whole, subset):
        (tree / "pyproject.toml").write_text("[tool.async-test-lint]\n", encoding="utf-8")
    return (
        Tree("whole corpus", whole, whole_files, whole_lines),
        Tree("async subset", subset, subset_files, subset_lines),
    )


def _copy(data: bytes, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


# -- measuring --------------------------------------------------------------------------------


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: where the measured copy of the package lives (see `snapshot_package`); the live tree until then.
PACKAGE_PATH = [ROOT / "server"]


def snapshot_package(base: Path) -> None:
    """Measure a copy of the package: other work editing the tree mid-run would change the code
    fingerprint, and a warm-cache run would silently become a cold one."""
    target = base / "server"
    shutil.copytree(
        ROOT / "server" / "async_test_lint",
        target / "async_test_lint",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    PACKAGE_PATH[0] = target


def run_once(command: Sequence[str], cwd: Path, timeout: float) -> tuple[float, float, bool]:
    """Wall and CPU seconds of one run of `command`; True when it hit `timeout` (then stopped)."""
    cpu, started = _children_cpu(), time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(PACKAGE_PATH[0])},
    )
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        group_cpu = _group_cpu(process.pid)  # its workers are never reaped by us once killed
        os.killpg(process.pid, 9)
        process.wait()
        return time.perf_counter() - started, group_cpu, True
    return time.perf_counter() - started, _children_cpu() - cpu, False


def _group_cpu(group: int) -> float:
    """CPU seconds used so far by the processes of a process group (and the children they
    reaped), from /proc; NaN where there is no /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return float("nan")
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text(encoding="utf-8")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[2]) == group:  # pgrp; utime, stime, cutime, cstime follow at 11..14
            total += sum(int(value) for value in fields[11:15])
    return total / ticks


def measure(
    tool: str,
    command: Sequence[str],
    tree: Tree,
    args: argparse.Namespace,
    *,
    before: Sequence[str] | None = None,
    files: int | None = None,
    lines: int | None = None,
    note: str = "",
) -> Measure:
    """Median of up to `args.runs` runs (one when a run takes `args.repeat_below` s or more).

    `before`, when given, runs (unmeasured) before each measured run: e.g. clearing a cache.
    """
    walls: list[float] = []
    cpus: list[float] = []
    timed_out = False
    for _ in range(args.runs):
        if before is not None:
            subprocess.run(before, cwd=tree.folder, check=False, capture_output=True)
        wall, cpu, timed_out = run_once(command, tree.folder, args.timeout)
        walls.append(wall)
        cpus.append(cpu)
        if timed_out or wall >= args.repeat_below:
            break
    result = Measure(
        tool,
        statistics.median(walls),
        statistics.median(cpus),
        tree_files if (tree_files := files) is not None else len(tree.files),
        lines if lines is not None else tree.lines,
        note=note if len(walls) == 1 else f"{note}{'; ' if note else ''}median of {len(walls)}",
        timed_out=timed_out,
    )
    flag = " (TIMED OUT)" if timed_out else ""
    print(f"  {tool:34} {result.wall:8.2f} s wall {result.cpu:8.2f} s CPU{flag}", flush=True)
    return result


def _wanted(tool: str, args: argparse.Namespace) -> bool:
    return not any(tool.startswith(prefix) for prefix in args.skip)


def measure_tree(
    tree: Tree, peers: Path, args: argparse.Namespace, fixit_full: bool
) -> list[Measure]:
    print(f"{tree.name}: {len(tree.files):,} files, {tree.lines:,} lines", flush=True)
    listing = tree.folder.parent / f"{tree.folder.name}-files.txt"
    listing.write_text("\n".join(str(path) for path in tree.files) + "\n", encoding="utf-8")
    python = sys.executable
    atl = [python, "-m", "async_test_lint", "check", "-q", "--exit-zero", "."]
    clear_cache = [python, "-c", "import shutil; shutil.rmtree('.async-test-lint-cache', True)"]
    ruff = [str(peers / "ruff"), "check", "--isolated", "--no-cache", "--select", "ASYNC"]
    flake8 = [str(peers / "flake8"), "--isolated", "--select", "ASYNC", "--exit-zero", "."]
    commands: list[tuple[str, list[str], list[str] | None]] = [
        ("floor: read + ast.parse, 1 process", [python, "-c", FLOOR, str(listing), "1"], None),
        ("floor: read + ast.parse, 2 processes", [python, "-c", FLOOR, str(listing), "2"], None),
        ("async-test-lint check --no-cache", [*atl, "--no-cache"], None),
        ("async-test-lint check, cold cache", atl, clear_cache),
        ("async-test-lint check, warm cache", atl, None),
        ("ruff check --select ASYNC", [*ruff, "--exit-zero", "-q", "."], None),
        ("flake8 --select ASYNC", flake8, None),
    ]
    results = [
        measure(tool, command, tree, args, before=before)
        for tool, command, before in commands
        if _wanted(tool, args)
    ]
    fixit = [str(peers / "fixit"), "lint"]
    if not _wanted("fixit", args):
        return results
    if fixit_full:
        results.append(measure("fixit lint", [*fixit, "."], tree, args))
    elif tree.name == "async subset" and args.fixit_sample > 0:
        step = max(1, len(tree.files) // args.fixit_sample)
        sample = tree.files[::step][: args.fixit_sample]
        sample_lines = sum(path.read_bytes().count(b"\n") for path in sample)
        relative = [str(path.relative_to(tree.folder)) for path in sample]
        results.append(
            measure(
                "fixit lint (sample)",
                [*fixit, *relative],
                tree,
                args,
                files=len(sample),
                lines=sample_lines,
                note=f"{len(sample)} evenly spaced files",
            )
        )
    return results


# -- the process pool's cut-over --------------------------------------------------------------


def cutover(tree: Tree, sizes: Sequence[int], runs: int) -> str:
    """Index and lint N files of `tree` in one process and in a pool of 2, in this process."""
    sys.path.insert(0, str(ROOT / "server"))
    from async_test_lint.engine import freeze_startup_objects
    from async_test_lint.model import Settings
    from async_test_lint.workspace import Job, ProjectScan, check_files

    freeze_startup_objects()
    settings = Settings(project_root=str(tree.folder))
    rows = [
        "| files | lines | index, 1 process | index, 2 | lint, 1 process | lint, 2 |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sizes:
        files = tree.files[:: max(1, len(tree.files) // size)][:size]
        lines = sum(path.read_bytes().count(b"\n") for path in files)
        jobs = [Job(path, str(path)) for path in files]
        index = ProjectScan(files, settings, workers=1).index()
        actions: list[Callable[[], object]] = [
            partial(_index, files, settings, 1),
            partial(_index, files, settings, 2),
            partial(check_files, jobs, settings, index, workers=1),
            partial(check_files, jobs, settings, index, workers=2),
        ]
        cells = [statistics.median(_timed(action) for _ in range(runs)) for action in actions]
        row = " | ".join(f"{cell:.2f} s" for cell in cells)
        rows.append(f"| {len(files)} | {lines:,} | {row} |")
        print(rows[-1], flush=True)
    return "\n".join(rows) + "\n"


def _index(files: list[Path], settings: Any, workers: int) -> object:
    from async_test_lint.workspace import ProjectScan

    return ProjectScan(files, settings, workers=workers).files()


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# -- reporting --------------------------------------------------------------------------------


def table(tree: Tree, results: list[Measure]) -> str:
    floor = results[0]
    rows = [
        f"**{tree.name}**: {len(tree.files):,} files, {tree.lines:,} lines",
        "",
        "| command | wall | CPU | files/s | lines/s | wall / floor | CPU / floor | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        rate = result.files / result.wall, result.lines / result.wall
        ratio = (result.wall / result.files) / (floor.wall / floor.files)
        cpu_ratio = (result.cpu / result.files) / (floor.cpu / floor.files)
        # A stopped command gives bounds: more time, fewer files per second.
        more, less = (">", "<") if result.timed_out else ("", "")
        wall = f"> {result.wall:.0f} s (stopped)" if result.timed_out else f"{result.wall:.2f} s"
        rows.append(
            f"| {result.tool} | {wall} | {more}{result.cpu:.2f} s | {less}{_rate(rate[0])} "
            f"| {less}{_rate(rate[1])} | {more}{ratio:.2f}x | {more}{cpu_ratio:.2f}x "
            f"| {result.note} |"
        )
    return "\n".join(rows) + "\n"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.2f}"


def section(tables: list[str], args: argparse.Namespace, peers: Path) -> str:
    versions = subprocess.run(
        [str(peers / "python"), "-m", "pip", "freeze"], capture_output=True, text=True, check=False
    ).stdout.split()
    pinned = ", ".join(
        line
        for line in versions
        if line.split("==")[0] in ("ruff", "flake8", "flake8-async", "fixit")
    )
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    python = platform.python_version()
    body = "\n".join(tables)
    return f"""{SECTION}

`async-test-lint check` against its peers on the same files, same machine, one script:
`.venv/bin/python bench/bench_peers.py --write` (see bench/README.md). *wall / floor* and
*CPU / floor* are the command's time per file over the floor's (read + `ast.parse`, one process)
in the same run. fixit runs on a sample of the async subset unless asked (`--fixit async|all`):
compare its rates and ratios, not its totals. A command stopped at the time limit shows bounds.

- Date: {now}; load average at the end: {load}. Other work shared the 2 cores:
  absolute times are noisy, ratios within one run less so.
- Machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores; CPython {python}
- Peers: {pinned}
- Runs: median of {args.runs} for commands under {args.repeat_below:g} s, else one run; time
  limit {args.timeout:g} s per command

{body}"""


def write_section(text: str, path: Path = PERFORMANCE_DOC) -> None:
    """Replace the `## Side by side` section (up to the next `## `) or append it."""
    content = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    lines = content.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        new = content.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + text + ("\n" + tail if tail else "")
    path.write_text(new, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per cheap command (median)")
    parser.add_argument(
        "--repeat-below",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="repeat a command only when one run takes less than this",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="stop any one command after this long",
    )
    parser.add_argument(
        "--fixit",
        choices=("sample", "async", "all"),
        default="sample",
        help="fixit on a sample of the async subset, on all of it, or on both",
    )
    parser.add_argument("--fixit-sample", type=int, default=40, metavar="FILES")
    parser.add_argument("--only", choices=("whole", "async"), help="measure one corpus only")
    parser.add_argument(
        "--skip",
        type=lambda value: [item.strip() for item in value.split(",") if item.strip()],
        default=[],
        metavar="TOOLS",
        help="commands to leave out, by the start of their name: ruff,flake8,fixit",
    )
    parser.add_argument("--write", action="store_true", help=f"update `{SECTION}` in docs")
    parser.add_argument(
        "--cutover",
        action="store_true",
        help="only measure 1 process against a pool of 2 on growing parts of the async subset",
    )
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="async-test-lint-peers-"))
    snapshot_package(base)
    if args.cutover:
        try:
            print(cutover(build_trees(base)[1], (8, 16, 32, 64, 128, 256), args.runs))
        finally:
            shutil.rmtree(base, ignore_errors=True)
        return
    peers = ensure_peers()
    try:
        whole, subset = build_trees(base)
        tables = []
        for tree in (whole, subset):
            if args.only and not tree.name.startswith(args.only):
                continue
            full = args.fixit == "all" or (args.fixit == "async" and tree is subset)
            tables.append(table(tree, measure_tree(tree, peers, args, full)))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    text = section(tables, args, peers)
    print()
    print(text)
    if args.write:
        write_section(text)
        print(f"written to {PERFORMANCE_DOC}")


if __name__ == "__main__":
    main()
