"""Benchmark: how lint time grows with the size of one input shape (target: linear).

Generates one test module per shape and size n, lints it (median of N runs in this process, after
a warm-up), subtracts the lint time of the same shape at n = 0 (imports, the header, rule set-up)
and prints the growth exponent: the least-squares slope of log(time - baseline) against log(n).
An exponent near 1 is linear; near 2 quadratic. Target: at most 1.1 for every shape.

Shapes (each a realistic pattern of a test suite, grown along one axis):

- elif:    one async test with an n-arm `if/elif` chain, each arm calling the API (a coverage test)
- nested:  `with`/`try` blocks nested n/8 deep (Python allows at most 100 levels), 8 calls each
- classes: n `IsolatedAsyncioTestCase` classes with two tests each
- tests:   one class with n async test methods
- long:    one async test whose body is n statements long

    .venv/bin/python bench/bench_scaling.py                   # all shapes, n = 100..800
    .venv/bin/python bench/bench_scaling.py --shapes elif --sizes 100,200,400
    .venv/bin/python bench/bench_scaling.py --fixes           # also build every diagnostic's fix
"""

from __future__ import annotations

import argparse
import math
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

HEADER = """\
import asyncio
import time
import unittest
from unittest import mock


class Client:
    async def call(self, name):
        await asyncio.sleep(0)
        return name


def helper(value):
    return asyncio.run(Client().call(value))

"""

MAX_NESTING = 90  # the tokenizer refuses more than 100 levels of indentation


def elif_chain(n: int) -> str:
    arms = []
    for i in range(n):
        keyword = "if" if i == 0 else "elif"
        arms.append(
            f"        {keyword} mode == {i}:\n"
            f"            await self.client.call('m{i}')\n"
            f"            self.client.call('n{i}')\n"
        )
    body = "".join(arms) or "        pass\n"
    return (
        HEADER
        + "class Coverage(unittest.IsolatedAsyncioTestCase):\n"
        + "    async def asyncSetUp(self):\n        self.client = Client()\n\n"
        + "    async def test_every_method(self, mode=0):\n"
        + body
    )


def nested_blocks(n: int) -> str:
    depth = min(n // 8, MAX_NESTING)
    per_level = max(1, n // depth) if depth else 0
    lines = ["class Nested(unittest.IsolatedAsyncioTestCase):", "    async def test_nested(self):"]
    closing: list[str] = []  # the `except` clauses to write once the inner levels are done
    for level in range(depth):
        indent = "    " * (level + 2)
        if level % 2 == 0:
            lines.append(f"{indent}with mock.patch('time.sleep'):")
        else:
            lines.append(f"{indent}try:")
            closing.append(f"{indent}except ValueError:\n{indent}    pass")
        for call in range(per_level):
            lines.append(f"{indent}    await Client().call('l{level}c{call}')")
        lines.append(f"{indent}    Client().call('x{level}')")
    if depth == 0:
        lines.append("        pass")
    lines.extend(reversed(closing))
    return HEADER + "\n".join(lines) + "\n"


def many_classes(n: int) -> str:
    parts = [HEADER]
    for i in range(n):
        parts.append(
            f"class Api{i}Test(unittest.IsolatedAsyncioTestCase):\n"
            f"    async def test_call_{i}(self):\n"
            f"        self.assertTrue(await Client().call({i}))\n\n"
            f"    async def test_lost_{i}(self):\n"
            f"        Client().call({i})\n\n\n"
        )
    return "".join(parts)


def many_tests(n: int) -> str:
    parts = [HEADER, "class Api(unittest.IsolatedAsyncioTestCase):\n    client = Client()\n\n"]
    for i in range(n):
        parts.append(
            f"    async def test_call_{i}(self):\n"
            f"        value = await self.client.call({i})\n"
            f"        self.client.call({i})\n"
            f"        self.assertEqual(value, {i})\n\n"
        )
    if not n:
        parts.append("    pass\n")
    return "".join(parts)


def long_test(n: int) -> str:
    lines = [
        "class Long(unittest.IsolatedAsyncioTestCase):",
        "    async def test_long(self):",
        "        client = Client()",
    ]
    for i in range(n):
        kind = i % 4
        if kind == 0:
            lines.append(f"        v{i} = await client.call({i})")
        elif kind == 1:
            lines.append(f"        client.call({i})")
        elif kind == 2:
            lines.append(f"        self.assertEqual(v{i - 2}, {i - 2})")
        else:
            lines.append(f"        time.sleep(0)  # {i}")
    return HEADER + "\n".join(lines) + "\n"


SHAPES: dict[str, Callable[[int], str]] = {
    "elif": elif_chain,
    "nested": nested_blocks,
    "classes": many_classes,
    "tests": many_tests,
    "long": long_test,
}


def median_seconds(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.process_time()
        action()
        timings.append(time.process_time() - start)
    return statistics.median(timings)


def lint_once(text: str, fixes: bool) -> int:
    result = lint(text, "tests/test_scaling.py", Settings())
    if fixes:
        for diagnostic in result.diagnostics:
            diagnostic.fix  # noqa: B018 - builds and checks the fix, as JSON output does
    return len(result.diagnostics)


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(time) over log(n); nan with fewer than two usable points."""
    usable = [(math.log(n), math.log(t)) for n, t in points if n > 0 and t > 0]
    if len(usable) < 2:
        return float("nan")
    mean_x = statistics.fmean(x for x, _ in usable)
    mean_y = statistics.fmean(y for _, y in usable)
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in usable)
    denominator = sum((x - mean_x) ** 2 for x, _ in usable)
    return numerator / denominator


def measure_shape(
    name: str, sizes: list[int], runs: int, fixes: bool, budget: float
) -> tuple[list[dict[str, float]], float]:
    build = SHAPES[name]
    baseline = median_seconds(lambda: lint_once(build(0), fixes), runs)
    rows: list[dict[str, float]] = []
    for n in sizes:
        text = build(n)
        start = time.process_time()
        diagnostics = lint_once(text, fixes)
        first = time.process_time() - start
        # a slow size is timed once (no point waiting minutes for a median of a cubic)
        seconds = (
            first
            if first > budget
            else median_seconds(lambda text=text: lint_once(text, fixes), runs)  # type: ignore[misc]
        )
        rows.append(
            {
                "n": n,
                "lines": text.count("\n"),
                "diagnostics": diagnostics,
                "seconds": seconds,
                "extra": max(seconds - baseline, 1e-9),
            }
        )
        if first > budget * 4:
            break  # the next size would take far too long
    exponent = slope([(int(row["n"]), row["extra"]) for row in rows])
    return rows, exponent


def table(results: dict[str, tuple[list[dict[str, float]], float]], sizes: list[int]) -> str:
    head = "| shape | " + " | ".join(f"n={n}" for n in sizes) + " | exponent |"
    rule = "| --- | " + " | ".join("---:" for _ in sizes) + " | ---: |"
    out = [head, rule]
    for name, (rows, exponent) in results.items():
        by_n = {int(row["n"]): row for row in rows}
        cells = []
        for n in sizes:
            row = by_n.get(n)
            if row is None:
                cells.append("-")
            else:
                cells.append(f"{row['extra'] * 1000:.1f} ms ({int(row['lines']):,} l.)")
        out.append(f"| {name} | " + " | ".join(cells) + f" | {exponent:.2f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes")
    parser.add_argument("--sizes", default="100,200,400,800", help="comma-separated n")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--fixes", action="store_true", help="also build every fix (JSON output)")
    parser.add_argument(
        "--budget", type=float, default=2.0, help="seconds above which a size is timed once"
    )
    args = parser.parse_args(argv)
    sizes = [int(each) for each in args.sizes.split(",")]
    lint_once(elif_chain(3), args.fixes)  # warm-up: imports, rule discovery
    freeze_startup_objects()
    results = {}
    for name in args.shapes.split(","):
        results[name] = measure_shape(name, sizes, args.runs, args.fixes, args.budget)
        exponent = results[name][1]
        print(f"{name}: exponent {exponent:.2f}", file=sys.stderr, flush=True)
    what = "lint + every fix" if args.fixes else "lint"
    print(
        f"Python {platform.python_version()}; {what}; median of {args.runs} runs; time over the "
        "same shape at n=0"
    )
    print(table(results, sizes))
    worst = max(exponent for _, exponent in results.values())
    print(f"worst exponent {worst:.2f} (target <= 1.1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
