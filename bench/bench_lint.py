"""Benchmark: `engine.lint` against `ast.parse` (and `libcst.parse_module`) of the same text.

Generates realistic test modules of about 300, 3,300 and 10,000 lines from many test classes, broken
and correct (unique names, so nothing is artificially ambiguous), times each step as the median of
N runs in this one process, prints a table, and with `--write` puts it into the `## Engine`
section of docs/performance.md. Target: lint at most 3x ast.parse.

    .venv/bin/python bench/bench_lint.py            # print the table
    .venv/bin/python bench/bench_lint.py --write    # and update docs/performance.md
    .venv/bin/python bench/bench_lint.py --profile large   # cProfile of one lint, top entries
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from async_test_lint.engine import freeze_startup_objects, lint
from async_test_lint.model import Settings

HEADER = '''\
"""Generated benchmark module: realistic async tests, broken and correct."""

import asyncio
import time
import unittest
from unittest import mock
from unittest.mock import AsyncMock, MagicMock, Mock, patch

import pytest


class TransportError(Exception):
    pass


class Transport:
    async def get(self, path):
        await asyncio.sleep(0)
        return {"path": path}

    async def close(self):
        await asyncio.sleep(0)


class Client:
    def __init__(self, transport=None):
        self.transport = transport or Transport()
        self.cache = {}
        self.lock = None

    async def fetch(self, key):
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            if key not in self.cache:
                self.cache[key] = await self.transport.get(f"/items/{key}")
            return self.cache[key]

    async def aclose(self):
        await self.transport.close()


async def fetch_item(key):
    client = Client()
    try:
        return await client.fetch(key)
    finally:
        await client.aclose()

'''

# Each template is one test class (about 20-40 lines); {n} makes every name unique.
TEMPLATES = (
    # T1 asyncio.run in a plain TestCase, with a helper
    """
class ItemClientTest{n}(unittest.TestCase):
    def setUp(self):
        self.client = Client()

    def run_async(self, coro):
        return asyncio.run(coro)

    def test_fetch_{n}(self):
        item = asyncio.run(self.client.fetch({n}))
        self.assertEqual(item["path"], "/items/{n}")

    def test_fetch_via_helper_{n}(self):
        self.assertIsNotNone(self.run_async(self.client.fetch("k{n}")))

    def test_sync_value_{n}(self):
        values = [index * 2 for index in range({n} % 7 + 3)]
        self.assertEqual(len(values), {n} % 7 + 3)
""",
    # correct IsolatedAsyncioTestCase
    """
class ItemClientAsyncTest{n}(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.transport = Transport()
        self.client = Client(self.transport)
        self.addAsyncCleanup(self.client.aclose)

    async def test_fetch_{n}(self):
        item = await self.client.fetch({n})
        self.assertEqual(item["path"], "/items/{n}")

    async def test_fetch_twice_{n}(self):
        first = await self.client.fetch("a{n}")
        second = await self.client.fetch("a{n}")
        self.assertIs(first, second)

    async def test_missing_{n}(self):
        self.client.transport.get = AsyncMock(side_effect=TransportError("boom"))
        with self.assertRaises(TransportError):
            await self.client.fetch("missing{n}")

    async def test_gather_{n}(self):
        items = await asyncio.gather(*(self.client.fetch(key) for key in range(3)))
        self.assertEqual(len(items), 3)
""",
    # T3 async tests on a plain TestCase + T2 get_event_loop
    """
class LegacyLoopTest{n}(unittest.TestCase):
    async def test_never_runs_{n}(self):
        self.assertEqual(await fetch_item({n}), {{"path": "/items/{n}"}})

    def test_run_until_complete_{n}(self):
        loop = asyncio.get_event_loop()
        item = loop.run_until_complete(fetch_item({n}))
        self.assertEqual(item["path"], "/items/{n}")
""",
    # T4/T9/T13 in an IsolatedAsyncioTestCase
    """
class AwaitingTest{n}(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = Client()

    async def test_truthy_coroutine_{n}(self):
        self.assertTrue(self.client.fetch({n}))

    async def test_assert_raises_{n}(self):
        self.assertRaises(TransportError, self.client.fetch, {n})

    async def test_blocking_sleep_{n}(self):
        time.sleep(0.01)
        await asyncio.sleep(0)
        self.assertEqual(self.client.cache, {{}})
""",
    # T5 mocks where the code awaits, and correct AsyncMock use
    """
class MockedTransportTest{n}(unittest.IsolatedAsyncioTestCase):
    async def test_sync_mock_{n}(self):
        transport = Mock()
        transport.get = Mock(return_value={{"path": "/items/{n}"}})
        client = Client(transport)
        self.assertEqual((await client.fetch({n}))["path"], "/items/{n}")

    async def test_patch_object_{n}(self):
        with patch.object(Client, "fetch", new=MagicMock(return_value={{}})):
            self.assertEqual(await Client().fetch({n}), {{}})

    async def test_async_mock_{n}(self):
        transport = AsyncMock()
        transport.get.return_value = {{"path": "/items/{n}"}}
        self.assertEqual((await Client(transport).fetch({n}))["path"], "/items/{n}")

    @patch("asyncio.sleep", new_callable=AsyncMock)
    async def test_patched_sleep_{n}(self, sleep):
        await Transport().close()
        sleep.assert_awaited()
""",
    # T8/T10 lifecycle mistakes
    """
class LifecycleTest{n}(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.queue = asyncio.Queue()

    async def setUp(self):
        self.client = Client()

    async def test_cleanup_{n}(self):
        client = Client()
        self.addCleanup(lambda: client.aclose())
        await self.queue.put({n})
        self.assertEqual(await self.queue.get(), {n})
""",
    # correct per-test loop (pre-3.8 style)
    """
class DedicatedLoopTest{n}(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)

    def test_fetch_{n}(self):
        item = self.loop.run_until_complete(fetch_item({n}))
        self.assertEqual(item["path"], "/items/{n}")

    def test_plain_{n}(self):
        data = {{"key": {n}, "values": list(range(5))}}
        self.assertIn("key", data)
        self.assertEqual(sum(data["values"]), 10)
""",
    # pytest style, correct and broken
    """
@pytest.mark.asyncio
async def test_pytest_fetch_{n}():
    client = Client()
    assert (await client.fetch({n}))["path"] == "/items/{n}"
    await client.aclose()


class TestPytestStyle{n}:
    @pytest.mark.asyncio
    async def test_method_{n}(self):
        await asyncio.sleep(0)
        assert {n} >= 0

    def test_sync_{n}(self):
        assert str({n}).isdigit()
""",
)

SIZES = {"small": 300, "large": 3300, "xlarge": 10000}


def generate(lines: int) -> str:
    """A test module of about `lines` lines (never fewer)."""
    parts = [HEADER]
    count = HEADER.count("\n")
    n = 0
    while count < lines:
        block = TEMPLATES[n % len(TEMPLATES)].format(n=n)
        parts.append(block)
        count += block.count("\n")
        n += 1
    return "".join(parts)


def median_seconds(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def measure(runs: int, sizes: dict[str, int]) -> list[dict[str, object]]:
    import libcst

    settings = Settings()
    rows = []
    for label, lines in sizes.items():
        text = generate(lines)
        lint(text, "tests/test_bench.py", settings)  # warm-up: imports, rule discovery
        freeze_startup_objects()  # as the CLI and the language server do after start-up
        ast_time = median_seconds(lambda text=text: ast.parse(text), runs)
        cst_time = median_seconds(lambda text=text: libcst.parse_module(text), max(1, runs // 2))
        lint_time = median_seconds(
            lambda text=text: lint(text, "tests/test_bench.py", settings), runs
        )
        diagnostics = len(lint(text, "tests/test_bench.py", settings).diagnostics)
        rows.append(
            {
                "size": label,
                "lines": text.count("\n"),
                "diagnostics": diagnostics,
                "ast": ast_time,
                "libcst": cst_time,
                "lint": lint_time,
                "ratio": lint_time / ast_time,
            }
        )
    return rows


def table(rows: list[dict[str, object]]) -> str:
    out = [
        "| file | lines | diagnostics | ast.parse | libcst.parse_module | lint "
        "| lint / ast.parse |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        out.append(
            f"| {row['size']} | {row['lines']:,} | {row['diagnostics']:,} | "
            f"{row['ast'] * 1000:.1f} ms | {row['libcst'] * 1000:.1f} ms | "
            f"{row['lint'] * 1000:.1f} ms | {row['ratio']:.1f}x |"
        )
    return "\n".join(out)


def machine() -> str:
    cpus = os.cpu_count() or 0
    processor = platform.processor() or platform.machine()
    return f"{platform.system()} {platform.machine()}, {cpus} cores ({processor})"


def engine_section(rows: list[dict[str, object]], runs: int, rules: int) -> str:
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    worst = max(float(row["ratio"]) for row in rows)  # type: ignore[arg-type]
    verdict = "meets" if worst <= 3.0 else "misses"
    spots = "\n".join(f"- {share:.0%} `{where}`" for where, share in hot_spots())
    return f"""## Engine

`lint()` of one generated test module (realistic test classes, broken and correct) against
`ast.parse` of the same text, which is the reference: the issue's target is **lint at most 3x
ast.parse**. `libcst.parse_module` is shown for context (fixes use it, lazily; detection never
does). Median of {runs} runs in one process, after a warm-up. Reproduce with
`.venv/bin/python bench/bench_lint.py --write` (see bench/README.md).

- Date: {today}
- Machine: {machine()}
- Python: {platform.python_implementation()} {platform.python_version()}
- Rules enabled: {rules} (all registered rules)

{table(rows)}

Worst ratio {worst:.1f}x: this {verdict} the 3x target. Re-run whenever rules land or change;
the figures above are only as current as the rule set they were measured with.

Where the time goes (cProfile of one lint of the large file, cumulative share of the lint;
nested entries overlap; `--profile large` shows the full picture):

{spots}
"""


def write_section(section: str, path: Path) -> None:
    """Replace the `## Engine` section of `path` (up to the next `## `) or add it; keep the rest."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "## Engine"), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    path.write_text(new, encoding="utf-8")


def hot_spots(size: str = "large", count: int = 8) -> list[tuple[str, float]]:
    """The analysis and rule functions with the largest cumulative share of one lint."""
    import cProfile
    import pstats

    text = generate(SIZES[size])
    lint(text, "tests/test_bench.py")
    profiler = cProfile.Profile()
    profiler.enable()
    lint(text, "tests/test_bench.py")
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    lints = [entry[3] for (_, _, name), entry in stats.items() if name == "lint"]
    total = max(lints, default=0.0)
    package = str(ROOT / "server" / "async_test_lint")
    found: dict[str, float] = {}
    for (file, line, name), (_, _, _, cumulative, _) in stats.items():
        if not file.startswith(package) or file.endswith("engine.py") or name.startswith("<"):
            continue
        where = f"{Path(file).relative_to(package).as_posix()}:{line} {name}"
        found[where] = cumulative / total if total else 0.0
    return sorted(found.items(), key=lambda item: -item[1])[:count]


def profile(size: str) -> None:
    import cProfile
    import pstats

    text = generate(SIZES[size])
    lint(text, "tests/test_bench.py")
    profiler = cProfile.Profile()
    profiler.enable()
    lint(text, "tests/test_bench.py")
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement (median)")
    parser.add_argument(
        "--sizes", default="small,large,xlarge", help="comma-separated: small,large,xlarge"
    )
    parser.add_argument(
        "--write", action="store_true", help="update docs/performance.md (## Engine)"
    )
    parser.add_argument(
        "--profile", choices=sorted(SIZES), help="profile one lint of this size instead"
    )
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile)
        return 0
    from async_test_lint.rules import all_rules

    sizes = {name: SIZES[name] for name in args.sizes.split(",")}
    rows = measure(args.runs, sizes)
    print(f"Python {platform.python_version()} on {machine()}; median of {args.runs} runs")
    print(table(rows))
    if args.write:
        write_section(
            engine_section(rows, args.runs, len(all_rules())), ROOT / "docs" / "performance.md"
        )
        print("wrote docs/performance.md (## Engine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
