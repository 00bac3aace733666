"""ATL102: `loop.run_until_complete()` on an unmanaged loop in a plain `unittest.TestCase`."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import Context
from ..fixes.convert import conversion_lazy_fix
from ..model import Diagnostic, Safety
from ._loops import DESCRIPTIONS, NEW, has_local_subclass, unmanaged_runs
from .base import Invalid, Rule, Valid


class RunUntilCompleteInTest(Rule):
    code = "ATL102"
    name = "run-until-complete-in-test"
    family = "T2"
    summary = (
        "`loop.run_until_complete()` on a loop nobody manages, inside a test of a plain "
        "`unittest.TestCase`"
    )
    what = (
        "Finds `run_until_complete()` called by a test, `setUp`/`tearDown`, `setUpClass`, a "
        "helper method they call, or a decorator of this file that runs the test coroutines, "
        "in a class whose bases resolve to `unittest.TestCase` but not "
        "to `IsolatedAsyncioTestCase`, when the loop is `asyncio.get_event_loop()` (also "
        "`get_event_loop_policy().get_event_loop()`, through any import spelling, directly, "
        "through a local variable or a `self.` attribute), or an `asyncio.new_event_loop()` "
        "made by the test and never closed. A dedicated loop made in `setUp` and closed in "
        "`tearDown` or with `addCleanup` (the correct pre-3.8 pattern), and a local loop closed "
        "in a `finally`, are not reported; a loop made in `setUp`/`setUpClass` or at module level "
        "and never closed is ATL103's. No fix is offered for the decorator form."
    )
    why = (
        "`asyncio.get_event_loop()` outside a running loop hands out the thread's *current* "
        "loop, creating it on first use: every test of the process then shares one loop that "
        "nobody closes. Tasks and callbacks scheduled by one test stay alive in the next, a test "
        "that closes the loop breaks every later test with *Event loop is closed*, and a test "
        "that runs after `asyncio.run()` (which leaves no current loop) fails with *There is no "
        "current event loop*: order-dependent failures. A `new_event_loop()` that is never "
        "closed leaks its selector and file descriptors (`ResourceWarning: unclosed event loop` "
        "under `-W default`)."
    )
    versions = (
        "3.10-3.11: silent unless an earlier `asyncio.run()` cleared the current loop "
        "(then *RuntimeError: There is no current event loop*). 3.12-3.13: "
        "`DeprecationWarning: There is no current event loop` when no loop is set. 3.14: "
        "`get_event_loop()` raises `RuntimeError` when no loop is set."
    )
    fix_notes = (
        "Unsafe: the class becomes an `IsolatedAsyncioTestCase`, each test or helper that ran "
        "a loop becomes `async def`, `loop.run_until_complete(x)` becomes `await x`, calls of "
        "converted helpers are awaited, and the local loop plumbing (`loop = ...`, "
        "`loop.close()`, `set_event_loop(loop)`) those tests no longer need is removed. Every "
        "test then runs on a fresh loop owned by the runner, which changes when setup code runs "
        "relative to the loop. Below Python 3.8 the fix instead creates a dedicated loop in "
        "`setUp`, closes it with `addCleanup`, and runs each coroutine with "
        "`self.loop.run_until_complete()`. No fix is offered for a helper defined in a base "
        "class that other classes of the file inherit."
    )
    fix_safety = Safety.UNSAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        for run in unmanaged_runs(context):
            if context.semantics.manages_loop_state(run.method):
                continue  # restores the loop policy itself: drives loops on purpose
            loop = f"{run.receiver_text}.run_until_complete()"
            source = DESCRIPTIONS[run.origin]
            if run.origin == NEW:
                source += " that is never closed"
            if run.where_made is not None and run.where_made != run.method.name:
                source += f" (made in {run.where_made})"
            where = f"{run.method.name} of {run.cls.name} (a plain unittest.TestCase)"
            if run.caller is not None and run.method.cls is None:
                decorator = run.method
                while decorator.parent is not None:
                    decorator = decorator.parent
                where = (
                    f"decorator {decorator.name}, which runs {run.caller.name} of {run.cls.name} "
                    "(a plain unittest.TestCase)"
                )
            elif run.caller is not None:
                owner_name = run.method.cls.name if run.method.cls is not None else run.cls.name
                caller = run.caller.name
                if owner_name != run.cls.name:
                    caller = f"{caller} of {run.cls.name}"
                where = (
                    f"helper {run.method.name}() of {owner_name}, called from {caller} "
                    "(a plain unittest.TestCase)"
                )
            if run.call.node.func.value is run.origin_node:  # type: ignore[attr-defined]
                never = " on a loop that is never closed" if run.origin == NEW else ""
                message = f"{loop}{never} inside {where}"
            else:
                message = f"{loop} on {source} inside {where}"
            owner = run.method.cls
            fix = None
            if owner is not None and not (
                run.caller is not None and has_local_subclass(context, owner)
            ):
                fix = conversion_lazy_fix(context, owner)
            yield context.report(self, run.call.node, message, fix)


_TEXTBOOK = """\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.TestCase):
    def test_fetch(self):
        loop = asyncio.get_event_loop()
        user = loop.run_until_complete(fetch_user(1))
        self.assertEqual(user["id"], 1)
"""

RunUntilCompleteInTest.invalid = (
    Invalid(
        _TEXTBOOK,
        line=13,
        fixed="""\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        user = await fetch_user(1)
        self.assertEqual(user["id"], 1)
""",
        runnable=True,
        note="The textbook pre-3.8 spelling: the current loop from `get_event_loop()`.",
    ),
    Invalid(
        """\
import asyncio as aio
from unittest import TestCase as TC


async def compute():
    return 42


class ComputeTest(TC):
    def setUp(self):
        self.loop = aio.get_event_loop()

    def run_coro(self, coro):
        return self.loop.run_until_complete(coro)

    def test_compute(self):
        self.assertEqual(self.run_coro(compute()), 42)

    def test_compute_twice(self):
        self.assertEqual(self.run_coro(compute()) * 2, 84)
""",
        line=14,
        fixed="""\
import asyncio as aio
from unittest import TestCase as TC, IsolatedAsyncioTestCase


async def compute():
    return 42


class ComputeTest(IsolatedAsyncioTestCase):
    async def run_coro(self, coro):
        return await coro

    async def test_compute(self):
        self.assertEqual(await self.run_coro(compute()), 42)

    async def test_compute_twice(self):
        self.assertEqual(await self.run_coro(compute()) * 2, 84)
""",
        runnable=True,
        note="Aliases (`import asyncio as aio`, `TestCase as TC`), the loop kept on `self` by "
        "`setUp`, and a helper method that runs it.",
    ),
    Invalid(
        """\
import asyncio
import unittest as ut


async def compute():
    return 42


class ComputeTest(ut.TestCase):
    def test_compute(self):
        loop = asyncio.new_event_loop()
        self.assertEqual(loop.run_until_complete(compute()), 42)

    def test_policy(self):
        loop = asyncio.get_event_loop_policy().get_event_loop()
        self.assertEqual(loop.run_until_complete(compute()), 42)
""",
        line=12,
        count=2,
        fixed="""\
import asyncio
import unittest as ut


async def compute():
    return 42


class ComputeTest(ut.IsolatedAsyncioTestCase):
    async def test_compute(self):
        self.assertEqual(await compute(), 42)

    async def test_policy(self):
        self.assertEqual(await compute(), 42)
""",
        runnable=True,
        note="`import unittest as ut`; a `new_event_loop()` never closed, and the policy's "
        "`get_event_loop()`.",
    ),
    Invalid(
        """\
from asyncio import get_event_loop

from tests.base import ServiceTestCase


async def ping():
    return "pong"


class PingTest(ServiceTestCase):
    def test_ping(self):
        self.assertEqual(get_event_loop().run_until_complete(ping()), "pong")
""",
        line=12,
        files={
            "tests/base.py": """\
import unittest


class ServiceTestCase(unittest.TestCase):
    maxDiff = None
""",
        },
        fixed="""\
from asyncio import get_event_loop

from tests.base import ServiceTestCase
from unittest import IsolatedAsyncioTestCase


async def ping():
    return "pong"


class PingTest(IsolatedAsyncioTestCase, ServiceTestCase):
    async def test_ping(self):
        self.assertEqual(await ping(), "pong")
""",
        note="`from asyncio import get_event_loop`; the plain TestCase base is in another file.",
    ),
    Invalid(
        _TEXTBOOK,
        line=13,
        target_version=(3, 7),
        fixed="""\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.TestCase):
    def setUp(self):
        super().setUp()
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)

    def test_fetch(self):
        user = self.loop.run_until_complete(fetch_user(1))
        self.assertEqual(user["id"], 1)
""",
        runnable=True,
        note="Target Python 3.7: the dedicated per-test loop instead of IsolatedAsyncioTestCase.",
    ),
    Invalid(
        """\
import asyncio
import functools
import unittest


def async_test(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        loop = asyncio.get_event_loop()
        return loop.run_until_complete(func(*args, **kwargs))

    return wrapper


class UserTest(unittest.TestCase):
    @async_test
    async def test_fetch(self):
        await asyncio.sleep(0)
""",
        line=10,
        note="A decorator of this file that runs each test coroutine on the current loop: "
        "reported inside the decorator, no automatic fix.",
    ),
)

RunUntilCompleteInTest.valid = (
    Valid(
        """\
import asyncio
import unittest


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
""",
        note="The correct pre-3.8 pattern: a dedicated loop made in `setUp`, closed by "
        "`addCleanup`.",
    ),
    Valid(
        """\
import asyncio
from unittest import TestCase


async def compute():
    return 42


class ComputeTest(TestCase):
    def setUp(self):
        super().setUp()
        self.loop = asyncio.new_event_loop()

    def tearDown(self):
        self.loop.close()
        super().tearDown()

    def run_coro(self, coro):
        return self.loop.run_until_complete(coro)

    def test_compute(self):
        self.assertEqual(self.run_coro(compute()), 42)
""",
        note="A dedicated loop closed in `tearDown`, driven through a helper.",
    ),
    Valid(
        """\
import asyncio
import unittest


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    def test_compute(self):
        loop = asyncio.new_event_loop()
        try:
            self.assertEqual(loop.run_until_complete(compute()), 42)
        finally:
            loop.close()
""",
        note="A local loop the test makes and closes in a `finally`.",
    ),
    Valid(
        """\
from harness import LoopTestCase


async def compute():
    return 42


class ComputeTest(LoopTestCase):
    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
""",
        files={
            "harness.py": """\
import asyncio
import unittest


class LoopTestCase(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()

    def tearDown(self):
        self.loop.close()
""",
        },
        note="The loop comes from a base class in another file: where it is made and closed is "
        "not visible here, so nothing is said.",
    ),
    Valid(
        """\
import asyncio


async def main():
    return 42


if __name__ == "__main__":
    loop = asyncio.get_event_loop()
    loop.run_until_complete(main())
""",
        path="scripts/run.py",
        note="A script's entry point, not a test.",
    ),
    Valid(
        """\
import asyncio
import functools
import unittest


def async_test(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(func(*args, **kwargs))
        finally:
            loop.close()

    return wrapper


class UserTest(unittest.TestCase):
    @async_test
    async def test_fetch(self):
        await asyncio.sleep(0)
""",
        note="A decorator that runs each test on its own loop and closes it.",
    ),
)
