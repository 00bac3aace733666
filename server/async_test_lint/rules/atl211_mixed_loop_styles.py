"""ATL211: several loop-management styles in one test module (information)."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator

from ..analysis.model import ClassInfo
from ..analysis.semantics import ClassKind
from ..analysis.styles import (
    ANYIO,
    ISOLATED,
    MANUAL_LOOP,
    PYTEST_ASYNCIO,
    STYLE_ORDER,
    StyleUse,
    resolve_pending,
    style_uses,
)
from ..context import Context
from ..model import Diagnostic, Position, Severity, TextRange
from .base import Invalid, Rule, Valid

LABELS = {
    ISOLATED: "IsolatedAsyncioTestCase",
    MANUAL_LOOP: "hand-driven loops (asyncio.run / run_until_complete)",
    PYTEST_ASYNCIO: "pytest-asyncio",
    ANYIO: "anyio's pytest plugin",
}

_KINDS = {
    ClassKind.ISOLATED: "isolated",
    ClassKind.PLAIN_TESTCASE: "plain",
    ClassKind.PYTEST_STYLE: "pytest",
}


class MixedLoopStyles(Rule):
    code = "ATL211"
    name = "mixed-loop-styles"
    family = "T11"
    summary = "One test module mixes several event-loop management styles"
    severity = Severity.INFO
    what = (
        "Counts, per test, how the tests of a module get their event loop: "
        "`IsolatedAsyncioTestCase` (the runner's loop), hand-driven loops in tests of a plain "
        "`unittest.TestCase` (`asyncio.run`, `loop.run_until_complete`, directly or through a "
        "helper method), "
        "pytest-asyncio (`pytest.mark.asyncio` on the test, its class or `pytestmark`, or an "
        "unmarked `async def` pytest test) and anyio (`pytest.mark.anyio`, `anyio_backend`). "
        "When a "
        "module uses more than one, each style other than the suite's dominant one is reported "
        "once, at its first use. The dominant style is the most common one over the whole "
        "project index (this module's own counts when there is no index); test classes whose "
        "base class lives in another file are counted once that base resolves."
    )
    why = (
        "Each style owns the loop differently: IsolatedAsyncioTestCase makes one per test, "
        "pytest-asyncio one per `loop_scope`, `asyncio.run` one per call, anyio one per test and "
        "backend. Objects made under one style (a client, a `Lock`, a session-scoped async "
        "fixture) do not survive in another, the loop-scope and debug settings differ, and a "
        "hand-driven `asyncio.run` clears the current loop that later `get_event_loop()` callers "
        "rely on. A reader has to know all of them to reason about one file. A sync test of an "
        "`IsolatedAsyncioTestCase` that calls `asyncio.run` works (no loop runs during it, SPEC "
        "T1) and is counted with its class, not as a style of its own."
    )
    versions = "All Python versions; anyio and pytest-asyncio styles need those plugins."
    fix_notes = (
        "No automatic fix: moving tests between styles changes fixtures, setup and loop "
        "lifetimes. Convert the minority style to the suite's dominant one (ATL101/ATL102 convert "
        "hand-driven unittest tests to `IsolatedAsyncioTestCase`), or split the module."
    )
    use_instead = """\
import asyncio
import unittest


class CacheTest(unittest.IsolatedAsyncioTestCase):
    async def test_fill(self):
        await asyncio.sleep(0)

    async def test_sync_path(self):
        self.assertEqual(await compute(), 1)
"""

    def check(self, context: Context) -> Iterator[Diagnostic]:
        def kind_of(cls: ClassInfo) -> str | None:
            return _KINDS.get(context.semantics.kind(cls))

        uses = list(style_uses(context.model, kind_of))
        file_counts = Counter(use.style for use in uses)
        if len(file_counts) < 2:
            return
        suite = _suite_counts(context, file_counts)
        dominant = max(
            suite, key=lambda style: (suite[style], file_counts[style], -STYLE_ORDER.index(style))
        )
        total = sum(suite.values())
        others = sorted(file_counts, key=STYLE_ORDER.index)
        seen: set[str] = set()
        for use in uses:
            if use.style in seen or use.style == dominant:
                continue
            seen.add(use.style)
            also = ", ".join(LABELS[style] for style in others if style != use.style)
            message = (
                f"{use.detail}: {LABELS[use.style]} in a module that also uses {also}; "
                f"the suite's dominant style is {LABELS[dominant]} "
                f"({suite[dominant]} of {total} tests)"
            )
            yield context.report(self, _range(context, use), message)


def _suite_counts(context: Context, file_counts: Counter[str]) -> Counter[str]:
    suite: Counter[str] = Counter()
    index = context.semantics.index
    if index is not None:
        suite.update(index.style_counts())
        own = index.get(context.path) if context.path is not None else None
        if own is not None:
            suite.subtract(own.styles)  # the index may hold an older version of this file
    kinds = {ClassKind.ISOLATED: "isolated", ClassKind.PLAIN_TESTCASE: "plain"}
    suite = resolve_pending(+suite, lambda base: kinds.get(context.semantics.kind_of_name(base)))
    suite.update(file_counts)
    return +suite


def _range(context: Context, use: StyleUse) -> TextRange | ast.AST:
    node = use.node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        start = context.parsed.position(node.lineno, node.col_offset)
        line = context.parsed.lines.line_text(start.line)
        at = line.find(node.name, start.column)
        if at >= 0:
            return TextRange(Position(start.line, at), Position(start.line, at + len(node.name)))
    if isinstance(node, ast.ClassDef):
        return context.range(node.bases[0]) if node.bases else node
    return node


MixedLoopStyles.invalid = (
    Invalid(
        """\
import asyncio
import unittest


async def compute():
    return 1


class CacheTest(unittest.IsolatedAsyncioTestCase):
    async def test_fill(self):
        await asyncio.sleep(0)

    async def test_drain(self):
        await asyncio.sleep(0)


class LegacyCacheTest(unittest.TestCase):
    def test_sync_path(self):
        self.assertEqual(asyncio.run(compute()), 1)
""",
        line=19,
        note="A plain TestCase driving its own loop next to IsolatedAsyncioTestCase tests.",
    ),
    Invalid(
        """\
import asyncio as aio
import unittest as ut

import pytest


class LegacyTest(ut.TestCase):
    def setUp(self):
        self.loop = aio.new_event_loop()
        self.addCleanup(self.loop.close)

    def run_async(self, coro):
        return self.loop.run_until_complete(coro)

    def test_get(self):
        self.assertIsNone(self.run_async(aio.sleep(0)))


@pytest.mark.asyncio
async def test_get_new_style():
    await aio.sleep(0)
""",
        line=16,
        files={
            "tests/test_other.py": """\
import asyncio

import pytest


@pytest.mark.asyncio
async def test_one():
    await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_two():
    await asyncio.sleep(0)
""",
        },
        note="The suite is mostly pytest-asyncio (another file): the per-test-loop class is odd.",
    ),
    Invalid(
        """\
import anyio
from pytest import mark


@mark.anyio
async def test_read():
    await anyio.sleep(0)


@mark.anyio
async def test_write():
    await anyio.sleep(0)


@mark.asyncio
async def test_flush():
    await anyio.sleep(0)
""",
        line=15,
        note="Mostly anyio (`from pytest import mark`); one test opts into pytest-asyncio.",
    ),
)

MixedLoopStyles.invalid += (
    Invalid(
        """\
import asyncio
import unittest

import pytest


class PingTest(unittest.IsolatedAsyncioTestCase):
    async def test_ping(self):
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_pong():
    await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_pong_again():
    await asyncio.sleep(0)
""",
        line=12,
        files={
            "tests/base.py": """\
import unittest


class ServiceTestCase(unittest.IsolatedAsyncioTestCase):
    pass
""",
            "tests/test_service.py": """\
from tests.base import ServiceTestCase


class ServiceTest(ServiceTestCase):
    async def test_a(self):
        pass

    async def test_b(self):
        pass

    async def test_c(self):
        pass
""",
        },
        note=(
            "The suite's IsolatedAsyncioTestCase tests use a base class from a third file; they "
            "still count, so pytest-asyncio is the minority here."
        ),
    ),
)

MixedLoopStyles.valid = (
    Valid(
        """\
import asyncio
import unittest


class CacheTest(unittest.IsolatedAsyncioTestCase):
    async def test_fill(self):
        await asyncio.sleep(0)

    def test_sync_path(self):
        self.assertEqual(asyncio.run(asyncio.sleep(0, "ok")), "ok")
""",
        note="A sync test of an IsolatedAsyncioTestCase may run its own loop (SPEC T1): one style.",
    ),
    Valid(
        """\
import asyncio
import unittest


class CacheTest(unittest.IsolatedAsyncioTestCase):
    async def test_fill(self):
        await asyncio.sleep(0)

    def test_pure(self):
        self.assertEqual(1 + 1, 2)
""",
        note="One style: a sync test that drives no loop is not another style.",
    ),
    Valid(
        """\
import asyncio

import pytest


@pytest.mark.asyncio
async def test_marked():
    await asyncio.sleep(0)


async def test_unmarked_in_auto_mode():
    await asyncio.sleep(0)


def test_sync():
    assert True
""",
        note="Marked and unmarked pytest-asyncio tests are one style.",
    ),
    Valid(
        """\
import asyncio
import unittest

from somewhere import Base


class CacheTest(unittest.IsolatedAsyncioTestCase):
    async def test_fill(self):
        await asyncio.sleep(0)


class OtherTest(Base):
    def test_run(self):
        asyncio.run(asyncio.sleep(0))
""",
        note="A class with an unresolvable base: its style cannot be known, so it is not counted.",
    ),
)
