"""ATL301: a call that creates a coroutine whose value is lost without being awaited."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial

from ..analysis.branches import in_dead_branch
from ..analysis.coroutines import (
    call_label,
    creates_coroutine,
    enclosing_statement,
    is_test_module,
    lost_use,
    raises_context,
    where,
)
from ..context import Context
from ..fixes.expressions import await_fix
from ..model import Diagnostic, Safety
from .base import Invalid, Rule, Valid


class CoroutineNeverAwaited(Rule):
    code = "ATL301"
    name = "coroutine-never-awaited"
    family = "T4"
    summary = "A coroutine is created in test code and never awaited"
    what = (
        "Finds calls that certainly create a coroutine and whose value is lost without being "
        "awaited, in any function of a test module (a file named `test_*.py`, `*_test.py`, "
        "`tests.py` or `conftest.py`, or one that defines a `unittest.TestCase` subclass). A call "
        "certainly creates a coroutine when it calls an `async def` of the same file or of another "
        "module of the project, an `async def` method found along the bases or on an instance of "
        "a project class (`client = Client()`, or `self.client = Client()` in `setUp`), an "
        "`AsyncMock`, or a known coroutine function of a library (`asyncio.sleep`, "
        "`asyncio.wait_for`, ...). The value is lost when the call is a bare statement, is "
        "passed to a value assertion (`self.assertTrue(fetch())`, `assertIsNotNone`, "
        "`assertEqual(fetch(), ...)`), is tested (`assert fetch()`, `if fetch():`, a comparison), "
        "passed to `len()`/`list()` or iterated, or is stored in a local whose every use is one of "
        "those. Anything that may consume the coroutine keeps the rule silent: `await` later, "
        "`return`/`yield`, `asyncio.create_task`/`gather`/`ensure_future`/`wait_for`/`run`, any "
        "other function it is passed to, an attribute or container it is stored in, a lambda or "
        "nested function that uses it. A bare call inside `with self.assertRaises(...)` is "
        "reported by ATL302 instead. Code in a branch that never runs is skipped: one ruled out "
        "by a module constant bound once (`_IS_SYNC = True` in the sync twin of a generated "
        "suite) or by `TYPE_CHECKING`."
    )
    why = (
        "Calling a coroutine function does not run it: it only creates a coroutine object. "
        "Unawaited, the body never runs, so the test checks nothing: `self.assertTrue(fetch())` "
        "passes because a coroutine object is truthy, `assertIsNotNone` passes for the same "
        "reason, and a side effect the test relies on (a write, a sent message) never happens. "
        "The only trace is a `RuntimeWarning: coroutine '...' was never awaited` printed when "
        "the object is garbage-collected, often far from the cause. Type checkers report the "
        "bare statement form only; this rule follows the value into assertions, conditions and "
        "locals."
    )
    versions = (
        "All Python 3 versions. The `never awaited` RuntimeWarning exists since 3.5; with "
        "`-W error::RuntimeWarning` it is raised where the coroutine is collected, not at the "
        "call."
    )
    fix_notes = (
        "Safe inside an `async def`: the call is awaited where it stands "
        "(`self.assertTrue(await fetch())`, `coro = await fetch()`), parenthesised where the "
        "grammar needs it. That runs the code the test meant to run; an assertion that passed "
        "only because a coroutine object is truthy may now fail, which is the bug surfacing. "
        "In a sync test there is no fix: the test must become a coroutine first (convert the "
        "class to `IsolatedAsyncioTestCase`, see ATL101/ATL201), then add `await`."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model, semantics = context.model, context.semantics
        if not is_test_module(model, semantics):
            return
        for site in model.calls:
            function = site.function
            if site.awaited or function is None or site.scope is not function.scope:
                continue
            if in_dead_branch(model, site.node):
                continue  # `if not _IS_SYNC:` in the sync twin of a generated suite
            if not isinstance(site.parent, (ast.Assign, ast.AnnAssign)):
                lost = lost_use(model, semantics, site.node, function)
                if lost is None or not creates_coroutine(model, semantics, site):
                    continue
            else:
                if not creates_coroutine(model, semantics, site):
                    continue
                lost = lost_use(model, semantics, site.node, function)
                if lost is None:
                    continue
            statement = enclosing_statement(model, site.node)
            if statement is not None and raises_context(model, semantics, statement, function):
                # A bare call there is ATL302's; other uses (`for x in fetch()`, `len(fetch())`)
                # inside `assertRaises(TypeError)` test that a coroutine is not a value.
                continue
            message = (
                f"{call_label(model, site.node)} creates a coroutine that is never awaited "
                f"({lost}) in {where(function)}"
            )
            fix = None
            if function.is_async:
                title = f"Await {call_label(model, site.node)}"
                fix = context.lazy_fix(
                    title, Safety.SAFE, partial(await_fix, model, site.node, title)
                )
            else:
                message += " (a sync function: make the test async, then await it)"
            yield context.report(self, site.node, message, fix)


CoroutineNeverAwaited.invalid = (
    Invalid(
        """\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        self.assertIsNotNone(fetch_user(1))

    async def test_touch(self):
        asyncio.sleep(0)
""",
        line=12,
        count=2,
        fixed="""\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        self.assertIsNotNone(await fetch_user(1))

    async def test_touch(self):
        await asyncio.sleep(0)
""",
        runnable=True,
        note="An assertion on a coroutine object always passes; a bare `asyncio.sleep(0)` "
        "does nothing.",
    ),
    Invalid(
        """\
import unittest as ut

from app.service import UserService


class ServiceTest(ut.IsolatedAsyncioTestCase):
    def setUp(self):
        self.service = UserService()

    async def test_save(self):
        self.service.save({"id": 1})
        result = self.service.load(1)
        assert result
        self.assertTrue(len(self.service.saved) == 1)
""",
        line=11,
        count=2,
        files={
            "app/__init__.py": "",
            "app/service.py": """\
class UserService:
    def __init__(self):
        self.saved = []

    async def save(self, user):
        self.saved.append(user)

    async def load(self, user_id):
        return {"id": user_id}
""",
        },
        fixed="""\
import unittest as ut

from app.service import UserService


class ServiceTest(ut.IsolatedAsyncioTestCase):
    def setUp(self):
        self.service = UserService()

    async def test_save(self):
        await self.service.save({"id": 1})
        result = await self.service.load(1)
        assert result
        self.assertTrue(len(self.service.saved) == 1)
""",
        runnable=True,
        note="Methods of a project class instance made in `setUp`; the class is in another module. "
        "A local that is only asserted on is lost too.",
    ),
    Invalid(
        """\
import unittest
from unittest import mock as m


class NotifyTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.send = m.AsyncMock(return_value=True)

    async def test_send(self):
        if self.send("hello"):
            self.send.assert_called_once_with("hello")

    async def ping(self):
        return "pong"

    async def test_ping(self):
        self.assertEqual(self.ping(), "pong")
""",
        line=10,
        count=2,
        fixed="""\
import unittest
from unittest import mock as m


class NotifyTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.send = m.AsyncMock(return_value=True)

    async def test_send(self):
        if await self.send("hello"):
            self.send.assert_called_once_with("hello")

    async def ping(self):
        return "pong"

    async def test_ping(self):
        self.assertEqual(await self.ping(), "pong")
""",
        runnable=True,
        note="An `AsyncMock` stored on the test (`from unittest import mock as m`), and an async "
        "helper method of the test class.",
    ),
    Invalid(
        """\
import unittest

from app.client import refresh


class RefreshTest(unittest.TestCase):
    def test_refresh(self):
        refresh()
""",
        line=8,
        files={"app/client.py": "async def refresh():\n    return True\n"},
        note="A sync test: no fix until the test is a coroutine (convert the class first).",
    ),
)

CoroutineNeverAwaited.valid = (
    Valid(
        """\
import asyncio
import unittest


async def fetch(n):
    return n


class GatherTest(unittest.IsolatedAsyncioTestCase):
    async def test_gather(self):
        first = fetch(1)
        task = asyncio.create_task(fetch(2))
        results = await asyncio.gather(first, fetch(3))
        self.assertEqual(results, [1, 3])
        self.assertEqual(await task, 2)
""",
        note="Coroutines handed to `create_task`/`gather`, or stored and awaited later.",
    ),
    Valid(
        """\
import unittest

from app.client import fetch


def make_request():
    return fetch()


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        pending = [fetch(), fetch()]
        callback = lambda: fetch()
        for coro in pending:
            self.assertEqual(await coro, 1)
        self.assertEqual(await callback(), 1)
        self.assertEqual(await make_request(), 1)
""",
        files={"app/client.py": "async def fetch():\n    return 1\n"},
        note="Returned, stored in a container, made in a lambda: consumed elsewhere.",
    ),
    Valid(
        """\
import unittest


async def numbers():
    yield 1


def run_later(coro):
    return coro


class StreamTest(unittest.IsolatedAsyncioTestCase):
    async def test_stream(self):
        gen = numbers()
        self.assertEqual([n async for n in gen], [1])
        self.assertTrue(run_later(self.fetch()).close() is None)

    async def fetch(self):
        return 1
""",
        note="An async generator is not a coroutine; a coroutine passed to a function the rule "
        "cannot see into may be consumed there.",
    ),
    Valid(
        """\
import asyncio
import threading
import unittest

_IS_SYNC = True


class ExecutorTest(unittest.TestCase):
    def test_wake(self):
        woken = threading.Event() if _IS_SYNC else asyncio.Event()
        woken.set()
        if _IS_SYNC:
            woken.wait(timeout=2)
        else:
            asyncio.wait_for(woken.wait(), timeout=2)
        if not _IS_SYNC:
            asyncio.sleep(0)
""",
        note="The sync twin of a generated suite (pymongo's `synchro`, `unasync`): a branch a "
        "module constant bound once (`_IS_SYNC = True`) rules out never runs.",
    ),
)
