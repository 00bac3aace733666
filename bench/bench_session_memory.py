"""Memory over a long editing session: the server's RSS after 1,000, 5,000 and 10,000 edits.

    .venv/bin/python bench/bench_session_memory.py              # 10,000 edits (a few minutes)
    .venv/bin/python bench/bench_session_memory.py --edits 2000 # a shorter session

Drives the real server (`python -m async_test_lint.lsp`) over stdio on a realistic test module of
about 1,000 lines. The session types snippets into test bodies one character at a time and deletes
them again (incremental `didChange`s): a call that adds and removes an ATL101 diagnostic, a line
that leaves an unbalanced parenthesis (the text does not parse until it is deleted), plain code.
Every tenth edit the script waits for the newest version's diagnostics, as a typist's pauses let the
server lint. RSS is read from /proc/PID/status (VmRSS) once the file is open and linted, then at the
checkpoints. Results go to stdout as a Markdown table (copy them into docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lsp import Client, make_test_file, rss_mb

SNIPPETS = [
    "asyncio.run(fetch(3)); ",  # an ATL101 comes and goes
    "value = (1 + ",  # does not parse until deleted again
    "items = [x for x in range(3)]; ",
    "loop = asyncio.new_event_loop(); ",
]
BURST = 10
CHECKPOINTS = (1_000, 5_000, 10_000)


def edits(text: str) -> Iterator[tuple[int, int, int, str]]:
    """(line, start column, end column, new text): type a snippet in, then delete it, forever."""
    lines = text.splitlines()
    targets = [number for number, line in enumerate(lines) if "self.assertEqual(" in line]
    for cycle in itertools.count():
        line = targets[(cycle * 37) % len(targets)]
        column = len(lines[line]) - len(lines[line].lstrip())
        snippet = SNIPPETS[cycle % len(SNIPPETS)]
        for offset, char in enumerate(snippet):
            yield line, column + offset, column + offset, char
        for offset in range(len(snippet), 0, -1):
            yield line, column + offset - 1, column + offset, ""


async def session(total: int, lines: int, folder: Path) -> list[tuple[int, float]]:
    text = make_test_file(lines)
    path = folder / "test_session.py"
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client, _ = await Client.start()
    await client.initialize(folder)
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    await asyncio.wait_for(client.wait_published(uri, 1), 60)
    await asyncio.sleep(1.5)  # the idle re-summary of the open file runs once
    samples = [(0, rss_mb(client.process.pid))]
    checkpoints = {point for point in CHECKPOINTS if point <= total} | {total}
    for done, (line, start, end, new) in enumerate(itertools.islice(edits(text), total), 1):
        version = done + 1
        change = {
            "range": {
                "start": {"line": line, "character": start},
                "end": {"line": line, "character": end},
            },
            "text": new,
        }
        client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        if done % BURST == 0 or done in checkpoints:
            await asyncio.wait_for(client.wait_published(uri, version), 60)
        if done in checkpoints:
            await asyncio.sleep(1.5)  # let the idle re-summary run, as after a real pause
            samples.append((done, rss_mb(client.process.pid)))
            print(f"  {done:>6} edits: {samples[-1][1]:.1f} MB", file=sys.stderr, flush=True)
    await client.close()
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=CHECKPOINTS[-1])
    parser.add_argument("--lines", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        samples = await session(args.edits, args.lines, Path(folder))
    elapsed = time.perf_counter() - started
    base = samples[0][1]
    print(f"RSS over {args.edits:,} edits of a {args.lines:,}-line file ({elapsed:.0f} s)\n")
    print("| Edits | RSS (MB) | Growth since open (MB) |")
    print("| ---: | ---: | ---: |")
    for done, memory in samples:
        print(f"| {done:,} | {memory:.1f} | {memory - base:+.1f} |")


if __name__ == "__main__":
    asyncio.run(main())
