"""Language-server benchmark: latency as a client process sees it, start-up, memory.

    .venv/bin/python bench/bench_lsp.py            # everything (a few minutes on 2 cores)
    .venv/bin/python bench/bench_lsp.py --quick    # fewer edits, smaller workspace

Measures, against the real server process (`python -m async_test_lint.lsp`) over stdio:
- didChange -> publishDiagnostics latency (median, p95) over N edits, for test files of about
  300, 1,000, 3,300 and 10,000 lines (each edit changes one character inside a test; the
  server's default debounce is included);
- time to first diagnostics: process start -> initialize -> initialized -> didOpen -> first publish;
- the server's RSS after indexing a workspace of a few thousand generated files.
Results go to stdout as a Markdown table (copy them into docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SERVER = [sys.executable, "-m", "async_test_lint.lsp"]


def make_test_file(lines: int) -> str:
    out = ["import asyncio\nimport unittest\n\n\nasync def fetch(x):\n    return x\n"]
    count, number = 6, 0
    while count < lines:
        block = f"""

class Case{number}Test(unittest.TestCase):
    def setUp(self):
        self.value = {number}

    def test_run_{number}(self):
        result = asyncio.run(fetch(self.value))
        self.assertEqual(result, {number})

    def test_plain_{number}(self):
        items = [x * 2 for x in range(10)]
        self.assertEqual(len(items), 10)
"""
        out.append(block)
        count += block.count("\n")
        number += 1
    return "".join(out)


class Client:
    """A minimal LSP client: framing, requests, and a queue of notifications."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.published: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self.progress_done = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls) -> tuple[Client, float]:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *SERVER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None if os.environ.get("ATL_BENCH_STDERR") else asyncio.subprocess.DEVNULL,
        )
        return cls(process), started

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self.send({"id": self.next_id, "method": method, "params": params})
        return await future

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            header = await stdout.readuntil(b"\r\n\r\n")
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(await stdout.readexactly(length))
            now = time.perf_counter()
            if "id" in message and "method" in message:  # a request from the server
                result: Any = None
                if message["method"] == "workspace/configuration":
                    result = [None for _ in message["params"]["items"]]
                self.send({"id": message["id"], "result": result})
            elif "id" in message:
                self.pending.pop(message["id"]).set_result(message.get("result"))
            elif message.get("method") == "textDocument/publishDiagnostics":
                self.published.put_nowait((now, message["params"]))
            elif (
                message.get("method") == "$/progress"
                and message["params"]["value"].get("kind") == "end"
            ):
                self.progress_done.set()

    async def initialize(self, root: Path | None) -> None:
        folders = [{"uri": root.as_uri(), "name": root.name}] if root else None
        await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri() if root else None,
                "workspaceFolders": folders,
                "capabilities": {
                    "window": {"workDoneProgress": True},
                    "workspace": {"configuration": True, "workspaceFolders": True},
                    "textDocument": {"publishDiagnostics": {"versionSupport": True}},
                },
            },
        )
        self.notify("initialized", {})

    async def wait_published(self, uri: str, version: int) -> tuple[float, dict[str, Any]]:
        while True:
            when, params = await self.published.get()
            if params["uri"] == uri and params.get("version") == version:
                return when, params

    async def close(self) -> None:
        await self.request("shutdown", None)
        self.notify("exit", None)
        await asyncio.wait_for(self.process.wait(), 10)
        self.reader.cancel()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def latency(lines: int, edits: int, folder: Path) -> tuple[float, float, int]:
    text = make_test_file(lines)
    path = folder / f"test_bench_{lines}.py"
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client, _ = await Client.start()
    await client.initialize(folder)
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    _, first = await client.wait_published(uri, 1)
    target_line = next(
        n for n, line in enumerate(text.splitlines()) if "self.value = " in line and n > lines // 2
    )
    column = text.splitlines()[target_line].index("= ") + 2
    samples = []
    for version in range(2, edits + 2):
        digit = str(1 + version % 9)  # never a leading zero: that would not parse
        change = {
            "range": {
                "start": {"line": target_line, "character": column},
                "end": {"line": target_line, "character": column + 1},
            },
            "text": digit,
        }
        sent = time.perf_counter()
        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        received, _ = await client.wait_published(uri, version)
        samples.append((received - sent) * 1000)
        await asyncio.sleep(0.05)  # a typist's pause: every edit gets its own lint
    await client.close()
    return statistics.median(samples), percentile(samples, 0.95), len(first["diagnostics"])


async def first_diagnostics(folder: Path, runs: int) -> float:
    text = make_test_file(1000)
    path = folder / "test_first.py"
    path.write_text(text, encoding="utf-8")
    times = []
    for _ in range(runs):
        client, started = await Client.start()
        await client.initialize(folder)
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": path.as_uri(),
                    "languageId": "python",
                    "version": 1,
                    "text": text,
                }
            },
        )
        received, _ = await client.wait_published(path.as_uri(), 1)
        times.append(received - started)
        await client.close()
    return statistics.median(times)


def make_workspace(root: Path, files: int) -> None:
    for number in range(files):
        package = root / f"pkg{number // 100}"
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").touch()
        (package / f"test_module_{number}.py").write_text(make_test_file(120), encoding="utf-8")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def indexed_rss(root: Path) -> tuple[float, float]:
    client, started = await Client.start()
    await client.initialize(root)
    await asyncio.wait_for(client.progress_done.wait(), 600)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.5)
    memory = rss_mb(client.process.pid)
    await client.close()
    return elapsed, memory


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--files", type=int, default=3000)
    arguments = parser.parse_args()
    edits = 10 if arguments.quick else arguments.edits
    files = 300 if arguments.quick else arguments.files
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        print("| file | diagnostics | median (ms) | p95 (ms) |")
        print("| --- | --- | --- | --- |")
        for lines in (300, 1000, 3300, 10000):
            median, p95, count = await latency(lines, edits, folder)
            print(f"| {lines:,} lines | {count} | {median:.1f} | {p95:.1f} |", flush=True)
        first = await first_diagnostics(folder, 3 if arguments.quick else 5)
        print(f"\nfirst diagnostics (1,000 lines) from process start: {first:.2f} s (median)")
        workspace = folder / "workspace"
        make_workspace(workspace, files)
        elapsed, memory = await indexed_rss(workspace)
        print(
            f"indexing {files:,} files: {elapsed:.1f} s, server RSS after indexing {memory:.0f} MB"
        )


if __name__ == "__main__":
    asyncio.run(main())
