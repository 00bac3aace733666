"""ATL211: several loop-management styles in one test module (information)."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

from ..analysis.model import ClassInfo, FunctionInfo
from ..analysis.names import NEW_EVENT_LOOP, SET_EVENT_LOOP
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
from ..fixes.convert import own_loop_lazy_fix
from ..model import Diagnostic, Position, Safety, Severity, TextRange
from .base import Invalid, Rule, Valid

#: `get_event_loop()` in a sync hook of an IsolatedAsyncioTestCase returns the runner's own loop
#: (driving it there works): only a new loop is a loop of the class's own.
_LOOP_FACTORIES = (NEW_EVENT_LOOP,)

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
        "base class lives in another file are counted once that base resolves. Also finds an "
        "`IsolatedAsyncioTestCase` that makes its own loop (`self.loop = "
        "asyncio.new_event_loop()`) and drives it (`run_until_complete`, `set_event_loop`): "
        "reported as a warning. (`get_event_loop()` in its sync hooks returns the runner's "
        "loop: driving that one works and stays silent.)"
    )
    why = (
        "Each style owns the loop differently: IsolatedAsyncioTestCase makes one per test, "
        "pytest-asyncio one per `loop_scope`, `asyncio.run` one per call, anyio one per test and "
        "backend. Objects made under one style (a client, a `Lock`, a session-scoped async "
        "fixture) do not survive in another, the loop-scope and debug settings differ, and a "
        "hand-driven `asyncio.run` clears the current loop that later `get_event_loop()` callers "
        "rely on. A reader has to know all of them to reason about one file. A sync test of an "
        "`IsolatedAsyncioTestCase` that calls `asyncio.run` works (no loop runs during it, SPEC "
        "T1) and is counted with its class, not as a style of its own. An "
        "`IsolatedAsyncioTestCase` that also runs its own loop in `setUp` is a bug, not a "
        "matter of style: a server, task or future made there lives on a loop that does not "
        "run while the tests do (requests hang, *attached to a different loop*), and on 3.8-3.10 "
        "`set_event_loop` there replaces the runner's loop as the current one."
    )
    versions = "All Python versions; anyio and pytest-asyncio styles need those plugins."
    fix_notes = (
        "Unsafe, for an `IsolatedAsyncioTestCase` that makes and drives a loop of its own "
        "(reported as a warning): the methods that drive it become `async def` (`setUp`/"
        "`tearDown` become `asyncSetUp`/`asyncTearDown`, `super().setUp()` becomes `await "
        "super().asyncSetUp()`), `self.loop.run_until_complete(x)` becomes `await x`, calls of "
        "helpers made async are awaited, and the loop's creation, `set_event_loop(...)` and "
        "`close()` go: everything then runs on the loop the runner gives each test.\n\n"
        "No automatic fix: when that loop has other uses (`call_soon`, `create_task`, passed "
        "to other code: move that work into `asyncSetUp` and use `asyncio.get_running_loop()`), "
        "and for a module that mixes styles, because moving tests between styles changes "
        "fixtures, setup and loop lifetimes. Convert the minority style to the suite's dominant "
        "one (ATL101/ATL102 convert hand-driven unittest tests to `IsolatedAsyncioTestCase`), or "
        "split the module."
    )
    fix_safety = Safety.UNSAFE
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
        yield from self._own_loops(context)
        yield from self._styles(context)

    def _own_loops(self, context: Context) -> Iterator[Diagnostic]:
        """An IsolatedAsyncioTestCase that also makes and drives an event loop of its own."""
        for cls in context.model.classes:
            if context.semantics.kind(cls) is not ClassKind.ISOLATED:
                continue
            for method, attribute, call in _own_loop_attributes(context, cls):
                message = (
                    f"{cls.name} is an IsolatedAsyncioTestCase, but {method.name} makes and "
                    f"drives its own event loop (self.{attribute}): what runs on it belongs to "
                    "another loop than the one each test runs on"
                )
                found = context.report(self, call, message, own_loop_lazy_fix(context, cls))
                yield replace(found, severity=Severity.WARNING)

    def _styles(self, context: Context) -> Iterator[Diagnostic]:
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


def _own_loop_attributes(
    context: Context, cls: ClassInfo
) -> Iterator[tuple[FunctionInfo, str, ast.Call]]:
    """`self.<attribute> = asyncio.new_event_loop()` (or `get_event_loop()`) in a sync method of
    `cls`, for a loop the class then drives (`run_until_complete`) or makes current."""
    model = context.model
    driven = _driven_attributes(context, cls)
    for method in cls.methods.values():
        receiver = method.receiver
        if method.is_async or receiver is None:
            continue
        for node in ast.walk(method.node):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            if model.qualified_name(node.value.func, method.scope) not in _LOOP_FACTORIES:
                continue
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == receiver
                    and target.attr in driven
                ):
                    yield method, target.attr, node.value


def _driven_attributes(context: Context, cls: ClassInfo) -> set[str]:
    """Attributes `x` of `cls` with `self.x.run_until_complete(...)` or
    `asyncio.set_event_loop(self.x)` in one of its methods."""
    found: set[str] = set()
    for method in cls.methods.values():
        receiver = method.receiver
        for call in method.calls:
            func = call.node.func
            subject: ast.expr | None = None
            if isinstance(func, ast.Attribute) and func.attr == "run_until_complete":
                subject = func.value
            elif (
                context.model.qualified_name(func, call.scope) == SET_EVENT_LOOP
                and len(call.node.args) == 1
            ):
                subject = call.node.args[0]
            if (
                isinstance(subject, ast.Attribute)
                and isinstance(subject.value, ast.Name)
                and subject.value.id == receiver
            ):
                found.add(subject.attr)
    return found


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

_SERVER_FILES = {
    "app/__init__.py": "",
    "app/echo.py": """\
import asyncio
import contextlib


class EchoServer:
    async def start(self):
        self.requests = asyncio.Queue()
        self.worker = asyncio.ensure_future(self.serve())
        return self

    async def serve(self):
        while True:
            reply, text = await self.requests.get()
            reply.set_result(text.upper())

    async def ask(self, text):
        reply = asyncio.get_running_loop().create_future()
        await self.requests.put((reply, text))
        return await reply

    async def stop(self):
        self.worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.worker
""",
    "tests/__init__.py": "",
}

_RUNNABLE_OWN_LOOP = """\
import asyncio
import unittest

from app.echo import EchoServer


class EchoTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        super().setUp()
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(EchoServer().start())

    def tearDown(self):
        self.loop.run_until_complete(self.server.stop())
        self.loop.close()

    async def test_echo(self):
        self.assertEqual(await asyncio.wait_for(self.server.ask("hi"), 1), "HI")

    async def test_echo_again(self):
        self.assertEqual(await asyncio.wait_for(self.server.ask("yo"), 1), "YO")
"""

_RUNNABLE_OWN_LOOP_FIXED = """\
import asyncio
import unittest

from app.echo import EchoServer


class EchoTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.server = await EchoServer().start()

    async def asyncTearDown(self):
        await self.server.stop()

    async def test_echo(self):
        self.assertEqual(await asyncio.wait_for(self.server.ask("hi"), 1), "HI")

    async def test_echo_again(self):
        self.assertEqual(await asyncio.wait_for(self.server.ask("yo"), 1), "YO")
"""

MixedLoopStyles.invalid += (
    Invalid(
        _RUNNABLE_OWN_LOOP,
        line=10,
        fixed=_RUNNABLE_OWN_LOOP_FIXED,
        files=_SERVER_FILES,
        runnable=True,
        note="An IsolatedAsyncioTestCase that also builds its own loop in setUp: the server's "
        "worker task lives on that loop, which never runs during a test (every request times "
        "out). The fix makes the hooks async, awaits what they ran on the loop and drops it.",
    ),
    Invalid(
        """\
import asyncio
from unittest import IsolatedAsyncioTestCase as IATC


async def fetch(value):
    await asyncio.sleep(0)
    return value


class FetchTest(IATC):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)

    def fetch_now(self, value):
        return self.loop.run_until_complete(fetch(value))

    def test_fetch(self):
        self.assertEqual(self.fetch_now(1), 1)

    async def test_fetch_async(self):
        self.assertEqual(await fetch(2), 2)
""",
        line=12,
        fixed="""\
import asyncio
from unittest import IsolatedAsyncioTestCase as IATC


async def fetch(value):
    await asyncio.sleep(0)
    return value


class FetchTest(IATC):
    async def fetch_now(self, value):
        return await fetch(value)

    async def test_fetch(self):
        self.assertEqual(await self.fetch_now(1), 1)

    async def test_fetch_async(self):
        self.assertEqual(await fetch(2), 2)
""",
        runnable=True,
        note="A new loop kept on self and driven through a helper: the helper becomes async and "
        "its caller awaits it; the emptied setUp goes. (This `fetch` holds no loop state, so "
        "the original passes too, on the wrong loop.)",
    ),
    Invalid(
        """\
import asyncio
import unittest


class TickTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)
        self.ticks = []
        self.loop.call_soon(self.ticks.append, 1)
        self.loop.run_until_complete(asyncio.sleep(0))

    async def test_ticks(self):
        self.assertEqual(self.ticks, [1])
""",
        line=7,
        note="The loop has another use (`call_soon`): reported without an automatic fix.",
    ),
)

MixedLoopStyles.valid = (
    Valid(
        """\
import asyncio
import unittest


async def fetch(value):
    return value


class FetchTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.loop = asyncio.get_event_loop()

    def test_fetch(self):
        self.assertEqual(self.loop.run_until_complete(fetch(1)), 1)

    async def test_fetch_async(self):
        self.assertEqual(await fetch(2), 2)
""",
        note="In a sync hook of an IsolatedAsyncioTestCase, `get_event_loop()` is the runner's "
        "own loop, and a sync test may drive it: one loop, one style.",
    ),
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
