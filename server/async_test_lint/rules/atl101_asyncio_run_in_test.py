"""ATL101: `asyncio.run()` inside a test of a plain `unittest.TestCase`."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..analysis.model import CallSite, ClassInfo, FunctionInfo
from ..analysis.names import RUN, SYNC_LIFECYCLE
from ..analysis.semantics import ClassKind
from ..context import Context
from ..fixes.convert import conversion_lazy_fix
from ..model import Diagnostic, Safety
from .base import Invalid, Rule, Valid


class AsyncioRunInTest(Rule):
    code = "ATL101"
    name = "asyncio-run-in-test"
    family = "T1"
    summary = (
        "`asyncio.run()` drives a fresh event loop inside a test of a plain `unittest.TestCase`"
    )
    what = (
        "Finds `asyncio.run()` called by a test (or `setUp`/`tearDown`) of a class whose bases "
        "resolve to `unittest.TestCase` but not to `IsolatedAsyncioTestCase`: directly, through "
        "any import spelling (`from asyncio import run`, `import asyncio as aio`), or through a "
        "helper method of the class (or of a base class in another file) that calls it."
    )
    why = (
        "Each `asyncio.run()` makes a new event loop and closes it on return. It works until "
        "state crosses two runs: a `Lock`, `Queue` or `Semaphore` made in one run and used in "
        "the next fails with *is bound to a different event loop*; tasks started in one run are "
        "cancelled silently when it ends; an object that cached its loop raises *Event loop is "
        "closed*. `asyncio.run()` also leaves no current loop behind, so a later test calling "
        "`asyncio.get_event_loop()` fails only when it runs after this one: an order-dependent "
        "failure that is hard to trace back here."
    )
    versions = (
        "All versions with `asyncio.run` (3.7+). On 3.12+ the later `get_event_loop()` call "
        "also warns (*There is no current event loop*); on 3.14 it raises."
    )
    fix_notes = (
        "Unsafe: the class becomes an `IsolatedAsyncioTestCase` (a literal `TestCase` base is "
        "replaced; another base gets `IsolatedAsyncioTestCase` in front of it), each test or "
        "helper that drove a loop becomes `async def`, `asyncio.run(x)` becomes `await x`, and "
        "calls of converted helpers are awaited. Every test then runs on a fresh loop the runner "
        "owns, which changes when setup code runs relative to the loop. Below Python 3.8 (no "
        "`IsolatedAsyncioTestCase`) the fix instead creates a dedicated loop in `setUp`, closes "
        "it with `addCleanup`, and runs each coroutine with `self.loop.run_until_complete()`."
    )
    fix_safety = Safety.UNSAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        for cls in context.model.classes:
            if context.semantics.kind(cls) is not ClassKind.PLAIN_TESTCASE:
                continue
            for method in cls.methods.values():
                if method.is_async or not _is_test_or_lifecycle(method.name):
                    continue
                found = list(self._check_method(context, cls, method))
                # Asked only when there is something to report: it reads summaries.
                if found and not context.semantics.manages_loop_state(method):
                    yield from found  # (a test restoring the loop policy drives loops on purpose)

    def _check_method(
        self, context: Context, cls: ClassInfo, method: FunctionInfo
    ) -> Iterator[Diagnostic]:
        where = f"{method.name} of {cls.name} (a plain unittest.TestCase)"
        for call in method.calls:
            if call.scope is not method.scope:
                continue  # inside a lambda or nested function: not run by the test itself
            if context.model.callee_name(call) == RUN:
                message = f"asyncio.run() inside {where}"
            else:
                helper = _loop_running_helper(context, cls, method, call)
                if helper is None:
                    continue
                message = f"asyncio.run() via helper self.{helper}() inside {where}"
            yield context.report(
                self,
                call.node,
                message,
                conversion_lazy_fix(context, cls),
            )


def _is_test_or_lifecycle(name: str) -> bool:
    return name.startswith("test") or name in SYNC_LIFECYCLE - {"setUpClass", "tearDownClass"}


def _loop_running_helper(
    context: Context, cls: ClassInfo, method: FunctionInfo, call: CallSite
) -> str | None:
    """The name of the method `call` calls on `self` when that method calls `asyncio.run`."""
    func = call.node.func
    receiver = context.semantics.receiver(method)
    if not (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == receiver
    ):
        return None
    found = context.semantics.find_method(context.semantics.class_summary(cls), func.attr)
    if found is None or found.is_async or found.drives_loop != RUN:
        return None
    return func.attr


_RUNNABLE_TEXTBOOK = """\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.TestCase):
    def test_fetch(self):
        user = asyncio.run(fetch_user(1))
        self.assertEqual(user["id"], 1)
"""

_RUNNABLE_TEXTBOOK_FIXED = """\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        user = await fetch_user(1)
        self.assertEqual(user["id"], 1)
"""

AsyncioRunInTest.invalid = (
    Invalid(_RUNNABLE_TEXTBOOK, line=12, fixed=_RUNNABLE_TEXTBOOK_FIXED, runnable=True),
    Invalid(
        """\
from asyncio import run
from unittest import TestCase as TC

from app.client import fetch_user


class UserTest(TC):
    def test_fetch(self):
        # the client caches its loop: the second run gets "Event loop is closed"
        self.assertEqual(run(fetch_user(1)), {"id": 1})
""",
        line=10,
        fixed="""\
from asyncio import run
from unittest import TestCase as TC, IsolatedAsyncioTestCase

from app.client import fetch_user


class UserTest(IsolatedAsyncioTestCase):
    async def test_fetch(self):
        # the client caches its loop: the second run gets "Event loop is closed"
        self.assertEqual(await fetch_user(1), {"id": 1})
""",
        note="Aliased imports: `from asyncio import run`, `TestCase as TC`.",
    ),
    Invalid(
        """\
import asyncio as aio
import unittest as ut


async def compute():
    return 42


class ComputeTest(ut.TestCase):
    def run_async(self, coro):
        return aio.run(coro)

    def test_compute(self):
        self.assertEqual(self.run_async(compute()), 42)

    def test_compute_twice(self):
        self.assertEqual(self.run_async(compute()) * 2, 84)
""",
        line=14,
        count=2,
        fixed="""\
import asyncio as aio
import unittest as ut


async def compute():
    return 42


class ComputeTest(ut.IsolatedAsyncioTestCase):
    async def run_async(self, coro):
        return await coro

    async def test_compute(self):
        self.assertEqual(await self.run_async(compute()), 42)

    async def test_compute_twice(self):
        self.assertEqual(await self.run_async(compute()) * 2, 84)
""",
        runnable=True,
        note="A helper method that wraps `asyncio.run`, called from tests.",
    ),
    Invalid(
        """\
import asyncio

from tests.base import ServiceTestCase


async def ping():
    return "pong"


class PingTest(ServiceTestCase):
    def test_ping(self):
        self.assertEqual(asyncio.run(ping()), "pong")
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
import asyncio

from tests.base import ServiceTestCase
from unittest import IsolatedAsyncioTestCase


async def ping():
    return "pong"


class PingTest(IsolatedAsyncioTestCase, ServiceTestCase):
    async def test_ping(self):
        self.assertEqual(await ping(), "pong")
""",
        note="The plain TestCase base is defined in another file of the project.",
    ),
    Invalid(
        """\
import asyncio
import unittest


async def fetch_user(user_id):
    return {"id": user_id}


class UserTest(unittest.TestCase):
    def test_fetch(self):
        self.assertEqual(asyncio.run(fetch_user(1)), {"id": 1})
""",
        line=11,
        target_version=(3, 7),
        fixed="""\
import asyncio
import unittest


async def fetch_user(user_id):
    return {"id": user_id}


class UserTest(unittest.TestCase):
    def setUp(self):
        super().setUp()
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)

    def test_fetch(self):
        self.assertEqual(self.loop.run_until_complete(fetch_user(1)), {"id": 1})
""",
        runnable=True,
        note="Target Python 3.7: the per-test loop form instead of IsolatedAsyncioTestCase.",
    ),
)

AsyncioRunInTest.valid = (
    Valid(
        """\
import asyncio
import unittest


def tearDownModule():
    asyncio.set_event_loop_policy(None)


class RunTests(unittest.TestCase):
    def test_run_returns_the_result(self):
        async def main():
            return 42

        self.assertEqual(asyncio.run(main()), 42)
""",
        note=(
            "A module that restores the event-loop policy itself (asyncio's own test suite): it "
            "drives loops by hand on purpose and owns the global loop state."
        ),
    ),
    Valid(
        """\
import asyncio


async def main():
    await asyncio.sleep(0)


if __name__ == "__main__":
    asyncio.run(main())
""",
        note="A script's entry point under the `__main__` guard.",
    ),
    Valid(
        """\
import asyncio
import unittest


async def compute():
    return 1


class ComputeTest(unittest.IsolatedAsyncioTestCase):
    def test_sync_helper(self):
        self.assertEqual(asyncio.run(compute()), 1)
""",
        note="A sync test of an IsolatedAsyncioTestCase: no loop runs during it, so this works.",
    ),
    Valid(
        """\
import asyncio
import unittest

from harness import LoopTestCase


class ComputeTest(LoopTestCase):
    def test_compute(self):
        self.assertEqual(asyncio.run(self.compute()), 1)
""",
        files={
            "harness.py": """\
import unittest


class LoopTestCase(unittest.TestCase):
    def run(self, result=None):
        return super().run(result)

    async def compute(self):
        return 1
""",
        },
        note="A base class in another file overrides `run`: the suite has its own machinery.",
    ),
    Valid(
        """\
import asyncio
import unittest

from somewhere_unknown import Base


class ComputeTest(Base, unittest.TestCase):
    def test_compute(self):
        asyncio.run(asyncio.sleep(0))
""",
        note="A base that cannot be resolved: the analysis cannot know how tests run.",
    ),
    Valid(
        """\
from asyncio import run


def main():
    run(serve())


async def serve():
    pass


if __name__ == "__main__":
    main()
""",
        path="scripts/serve.py",
        note="A module-level `main()` called only from the guard, in a script.",
    ),
)
