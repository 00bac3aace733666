"""Does the language server always answer? Request latency while a 10 MB module lints, and more.

    .venv/bin/python bench/bench_lsp_responsiveness.py              # 3 runs of everything
    .venv/bin/python bench/bench_lsp_responsiveness.py --runs 1 --skip-rss

Against the real server process over stdio (the client of `bench_lsp.py`), each run measures:
- request latency (p50, p95, max) of hover / codeAction requests on a small module, and hovers on
  the big one, sent one after another (20 ms apart) while a generated 10 MB test module (no
  findings; also on disk, so the workspace index parses it too) is linted after `didOpen`, and
  again while it is re-linted after a one-character `didChange`;
- `shutdown` latency while the big module is being linted, and `exit` -> process gone;
- time to first diagnostics: process start -> initialize -> initialized -> didOpen of a
  1,000-line test module -> first publishDiagnostics (median of 5 starts);
- `didChange` -> `publishDiagnostics` median (30 edits, debounce included) at 1,000 and 3,300 lines,
  over the median `ast.parse` of the same text in this process (and over `engine.lint`, so the
  server's own overhead shows);
- the server's RSS once a workspace of the real-world corpus (bench/corpus.py: one workspace
  folder per project plus the interpreter's tests, about 6,000 files) is indexed.
Medians over the runs are printed as Markdown, with /proc/loadavg before and after.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "server"))

from bench_lsp import Client, latency, make_test_file, percentile, rss_mb

BIG_BYTES = 10_000_000
SMALL = """\
import asyncio
import unittest


async def fetch_user(user_id):
    return {"id": user_id}


class UserTest(unittest.TestCase):
    def test_fetch(self):
        user = asyncio.run(fetch_user(1))
        self.assertEqual(user["id"], 1)
"""
BLOCK = """

class Case{n}Test(unittest.TestCase):
    def setUp(self):
        self.value = {n}

    def test_plain_{n}(self):
        items = [x * 2 for x in range(10)]
        self.assertEqual(len(items), 10)
"""


def big_module(size: int = BIG_BYTES) -> str:
    parts, total, number = ["import unittest\n"], 0, 0
    while total < size:
        block = BLOCK.format(n=number)
        parts.append(block)
        total += len(block)
        number += 1
    return "".join(parts)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def open_params(uri: str, text: str, version: int = 1) -> dict[str, Any]:
    return {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}}


def hover(uri: str, line: int, character: int) -> tuple[str, dict[str, Any]]:
    position = {"line": line, "character": character}
    return "textDocument/hover", {"textDocument": {"uri": uri}, "position": position}


def code_action(uri: str, line: int) -> tuple[str, dict[str, Any]]:
    span = {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 40}}
    return "textDocument/codeAction", {
        "textDocument": {"uri": uri},
        "range": span,
        "context": {"diagnostics": []},
    }


def one_character(uri: str, version: int, line: int, text: str, end: int) -> dict[str, Any]:
    span = {"start": {"line": line, "character": 0}, "end": {"line": line, "character": end}}
    return {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"range": span, "text": text}],
    }


async def timed(request: Awaitable[Any]) -> float:
    sent = time.perf_counter()
    await request
    return (time.perf_counter() - sent) * 1000


async def requests_until(
    client: Client, done: Callable[[], bool], asks: list[tuple[str, dict[str, Any]]], cap: float
) -> list[float]:
    """Send the requests in turn, 20 ms apart, until `done()` (or `cap` seconds)."""
    samples: list[float] = []
    deadline = time.perf_counter() + cap
    number = 0
    while not done() and time.perf_counter() < deadline:
        method, params = asks[number % len(asks)]
        samples.append(await timed(client.request(method, params)))
        number += 1
        await asyncio.sleep(0.02)
    return samples


class Published:
    """Watches the client's publications for one URI and version."""

    def __init__(self, client: Client) -> None:
        self.seen: set[tuple[str, int | None]] = set()
        self.task = asyncio.ensure_future(self._watch(client))

    async def _watch(self, client: Client) -> None:
        while True:
            _, params = await client.published.get()
            self.seen.add((params["uri"], params.get("version")))

    def has(self, uri: str, version: int) -> Callable[[], bool]:
        return lambda: (uri, version) in self.seen


async def big_module_run(folder: Path, cap: float) -> dict[str, float]:
    small_path, big_path = folder / "test_small.py", folder / "test_big.py"
    small_path.write_text(SMALL, encoding="utf-8")
    text = big_module()
    big_path.write_text(text, encoding="utf-8")
    small, big = small_path.as_uri(), big_path.as_uri()
    client, _ = await Client.start()
    await client.initialize(folder)
    client.notify("textDocument/didOpen", open_params(small, SMALL))
    await client.wait_published(small, 1)
    watcher = Published(client)
    asks = [hover(small, 10, 20), code_action(small, 10), hover(big, 5, 8)]

    opened = time.perf_counter()
    client.notify("textDocument/didOpen", open_params(big, text))
    while_open = await requests_until(client, watcher.has(big, 1), asks, cap)
    first_lint = time.perf_counter() - opened

    line = text.count("\n") // 2
    edited = time.perf_counter()
    client.notify("textDocument/didChange", one_character(big, 2, line, " ", 0))
    while_edited = await requests_until(client, watcher.has(big, 2), asks, cap)
    second_lint = time.perf_counter() - edited

    # shutdown while the big module is being linted again, then exit
    client.notify("textDocument/didChange", one_character(big, 3, line, "", 1))
    await asyncio.sleep(1.0)
    shutdown = await timed(client.request("shutdown", None))
    exited = time.perf_counter()
    client.notify("exit", None)
    await asyncio.wait_for(client.process.wait(), 60)
    exit_ms = (time.perf_counter() - exited) * 1000
    client.reader.cancel()
    watcher.task.cancel()
    samples = while_open + while_edited
    return {
        "requests": len(samples),
        "p50": statistics.median(samples),
        "p95": percentile(samples, 0.95),
        "max": max(samples),
        "p95 after open": percentile(while_open, 0.95),
        "p95 after edit": percentile(while_edited, 0.95),
        "big lint after open (s)": first_lint,
        "big lint after edit (s)": second_lint,
        "shutdown": shutdown,
        "exit": exit_ms,
    }


async def first_diagnostics(folder: Path, starts: int) -> float:
    path = folder / "test_first.py"
    text = make_test_file(1000)
    path.write_text(text, encoding="utf-8")
    times = []
    for _ in range(starts):
        client, started = await Client.start()
        await client.initialize(folder)
        client.notify("textDocument/didOpen", open_params(path.as_uri(), text))
        received, _ = await client.wait_published(path.as_uri(), 1)
        times.append(received - started)
        await client.close()
    return statistics.median(times)


def median_time(function: Callable[[], object], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def keystroke_ratios(folder: Path, edits: int) -> dict[str, float]:
    from async_test_lint import engine

    results: dict[str, float] = {}
    for lines in (1000, 3300):
        text = make_test_file(lines)
        parse = median_time(lambda text=text: ast.parse(text))
        lint = median_time(lambda text=text: engine.lint(text, "/tmp/test_x.py"))
        median, _, _ = await latency(lines, edits, folder)
        results[f"{lines} parse"] = parse
        results[f"{lines} lint"] = lint
        results[f"{lines} publish"] = median
        results[f"{lines} publish/parse"] = median / parse
        results[f"{lines} lint/parse"] = lint / parse
        results[f"{lines} overhead"] = median - lint
    return results


async def corpus_rss() -> tuple[int, float, float] | None:
    import corpus

    folders = [folder for folder in corpus.project_folders() if folder.is_dir()]
    if len(folders) < 2:
        return None
    files = sum(1 for folder in folders for _ in corpus.python_files(folder))
    client, started = await Client.start()
    await client.request(
        "initialize",
        {
            "processId": None,
            "rootUri": None,
            "workspaceFolders": [{"uri": f.as_uri(), "name": f.name} for f in folders],
            "capabilities": {"window": {"workDoneProgress": True}},
        },
    )
    client.notify("initialized", {})
    await asyncio.wait_for(client.progress_done.wait(), 1200)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(1.0)
    memory = rss_mb(client.process.pid)
    await client.close()
    return files, elapsed, memory


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def table(title: str, values: dict[str, float], runs: list[dict[str, float]]) -> None:
    print(f"\n**{title}** (median of {len(runs)} runs; each run's value in brackets)\n")
    print("| measure | median | runs |")
    print("| --- | ---: | --- |")
    for key, value in values.items():
        each = " / ".join(f"{run[key]:.2f}" for run in runs)
        print(f"| {key} | {value:.2f} | {each} |")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per big-module phase")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    arguments = parser.parse_args()
    print(f"python {sys.version.split()[0]}; load before: {loadavg()}", flush=True)
    big_runs, first_runs, ratio_runs = [], [], []
    for run in range(arguments.runs):
        with tempfile.TemporaryDirectory() as temporary:
            root = Path(temporary)
            for name in ("big", "first", "keys"):
                (root / name).mkdir()
            if not arguments.skip_big:
                big_runs.append(await big_module_run(root / "big", arguments.cap))
            first_runs.append({"first diagnostics (s)": await first_diagnostics(root / "first", 5)})
            ratio_runs.append(await keystroke_ratios(root / "keys", arguments.edits))
        print(f"run {run + 1} done; load {loadavg()}", flush=True)
    if big_runs:
        table("Requests while a 10 MB module lints (ms unless said)", medians(big_runs), big_runs)
    table("First diagnostics", medians(first_runs), first_runs)
    table("Keystroke to squiggle (ms, ratios)", medians(ratio_runs), ratio_runs)
    if not arguments.skip_rss:
        found = await corpus_rss()
        if found is None:
            print("\nno corpus (run bench/corpus.py): RSS not measured")
        else:
            files, elapsed, memory = found
            print(f"\ncorpus workspace: {files:,} files indexed in {elapsed:.1f} s")
            print(f"server RSS after indexing: {memory:.0f} MB")
    print(f"\nload after: {loadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
