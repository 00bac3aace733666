"""ATL301: a call that creates a coroutine whose value is lost without being awaited."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from ..analysis.branches import in_dead_branch
from ..analysis.coroutines import (
    call_label,
    creates_awaitable,
    enclosing_statement,
    is_test_module,
    lost_coroutine,
    makes_future,
    raises_context,
    where,
)
from ..analysis.model import CallSite, ClassInfo, FunctionInfo
from ..context import Context
from ..fixes.async_tests import async_test_fix, async_test_title, can_become_async
from ..fixes.expressions import add_await, await_fix
from ..model import Diagnostic, Edit, Fix, Safety
from .base import Invalid, Rule, Valid


class CoroutineNeverAwaited(Rule):
    code = "ATL301"
    name = "coroutine-never-awaited"
    family = "T4"
    summary = "A coroutine is created in test code and never awaited"
    what = (
        "Finds calls that certainly create a coroutine (or a future that must be awaited, "
        "`asyncio.gather(...)`) whose value is lost without being awaited, in any function of a "
        "test module (a file named `test_*.py`, `*_test.py`, `tests.py` or `conftest.py`, or one "
        "that defines a `unittest.TestCase` subclass). A call certainly creates a coroutine when "
        "it calls an `async def` of the same file or of another module of the project, an "
        "`async def` method found along the bases or on an instance of a project class, an "
        "`AsyncMock`, a known coroutine function of a library (`asyncio.sleep`, "
        "`asyncio.wait_for`, ...), or a sync helper or method (here or in another module) that "
        "returns such a coroutine. Where the value goes is asked of the value-flow layer: it is "
        "followed through locals, `self` attributes (a coroutine made in a sync `setUp` and "
        "asserted on by a test), containers and comprehensions, and into the parameters of "
        "known functions. It is lost when every use it reaches only inspects or drops it: a bare "
        "statement, any `self.assert*` method or a mock's `assert_*`, `assert`/`if`/`not`/a "
        "comparison, `len()`/`list()`/iteration, a helper that does one of those, or a "
        "container of coroutines that is only counted. Anything that may consume it keeps the "
        "rule silent: `await`, `return`/`yield`, one of the awaitable consumers "
        "(`create_task`, `ensure_future`, `gather`, `wait`, `wait_for`, `shield`, `run`, "
        "`run_until_complete`, `addAsyncCleanup`, a task group's `create_task`/`start_soon`, "
        "...), `gather(*coros)`, a function whose parameters are unknown, `coro.send()`/"
        "`coro.close()`, a lambda or nested function that uses it. A bare call inside `with "
        "self.assertRaises(...)` is reported by ATL302 instead. Code in a branch that never "
        "runs is skipped: one ruled out by a module constant bound once (`_IS_SYNC = True` in "
        "the sync twin of a generated suite) or by `TYPE_CHECKING`."
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
        "In a sync test method or `setUp`/`tearDown` of a unittest class the fix is one "
        "coordinated **unsafe** edit: a plain `TestCase` becomes an `IsolatedAsyncioTestCase`, "
        "the methods become `async def` (`setUp` -> `asyncSetUp`), and every lost call of the "
        'class is awaited ("Convert OrderTest to IsolatedAsyncioTestCase, make test_place '
        'async and await 3 calls"). No automatic fix for a sync helper that is not a test '
        "(make it `async def` and await it in its callers), a pytest-style sync test (make it a "
        "coroutine test of pytest-asyncio or anyio), a decorated test, a `setUp` that calls "
        "`super().setUp()` or sits next to an `asyncSetUp` (move its body by hand): the "
        "message says which."
    )
    fix_safety = Safety.SAFE
    #: the coordinated fix of a sync test (convert the class, `async def`, await) is unsafe.
    other_fix_safeties = (Safety.UNSAFE,)

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model, semantics = context.model, context.semantics
        if not is_test_module(model, semantics):
            return
        findings = list(self._findings(context))
        in_sync = _sync_findings_by_class(findings)
        for site, function, lost in findings:
            label = call_label(model, site.node)
            made = "a future" if makes_future(model, site) else "a coroutine"
            message = f"{label} creates {made} that is never awaited ({lost}) in {where(function)}"
            fix = None
            if function.is_async:
                title = f"Await {label}"
                fix = context.lazy_fix(
                    title, Safety.SAFE, partial(await_fix, model, site.node, title)
                )
            else:
                why_not = can_become_async(context, function)
                if why_not is None and function.cls is not None:
                    sites = in_sync[id(function.cls.node)]
                    methods = [site.function for site in sites if site.function is not None]
                    title = async_test_title(context, function.cls, methods, _awaits(sites))
                    fix = context.lazy_fix(
                        title,
                        Safety.UNSAFE,
                        partial(_convert_and_await, context, function.cls, sites),
                    )
                else:
                    message += (
                        f"; no automatic fix: {function.name} is a sync function "
                        f"({why_not or 'not a unittest method'}), make it a coroutine and await "
                        "the call"
                    )
            yield context.report(self, site.node, message, fix)

    def _findings(self, context: Context) -> Iterator[tuple[CallSite, FunctionInfo, str]]:
        model, semantics = context.model, context.semantics
        for site in model.calls:
            function = site.function
            if site.awaited or function is None or site.scope is not function.scope:
                continue
            if in_dead_branch(model, site.node):
                continue  # `if not _IS_SYNC:` in the sync twin of a generated suite
            if not creates_awaitable(model, semantics, site):
                continue
            lost = lost_coroutine(model, semantics, site.node)
            if lost is None:
                continue
            statement = enclosing_statement(model, site.node)
            if statement is not None and raises_context(model, semantics, statement, function):
                # A bare call there is ATL302's; other uses (`for x in fetch()`, `len(fetch())`)
                # inside `assertRaises(TypeError)` test that a coroutine is not a value.
                continue
            yield site, function, lost


def _sync_findings_by_class(
    findings: list[tuple[CallSite, FunctionInfo, str]],
) -> dict[int, list[CallSite]]:
    by_class: dict[int, list[CallSite]] = {}
    for site, function, _ in findings:
        if not function.is_async and function.cls is not None:
            by_class.setdefault(id(function.cls.node), []).append(site)
    return by_class


def _awaits(sites: list[CallSite]) -> str:
    return f"await {len(sites)} call{'s' * (len(sites) != 1)}"


def _convert_and_await(context: Context, cls: ClassInfo, sites: list[CallSite]) -> Fix | None:
    """Every lost call in the sync methods of `cls` awaited, those methods made coroutines, and
    the class converted to `IsolatedAsyncioTestCase` when it is a plain `TestCase`."""
    changes: dict[int, tuple[FunctionInfo, list[Edit]]] = {}
    for site in sites:
        if site.function is None:
            return None
        method = changes.setdefault(id(site.function.node), (site.function, []))
        method[1].extend(add_await(context.model, site.node))
    return async_test_fix(context, cls, list(changes.values()), _awaits(sites))


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
        files={"app/__init__.py": "", "app/client.py": "async def refresh():\n    return True\n"},
        fixed="""\
import unittest

from app.client import refresh


class RefreshTest(unittest.IsolatedAsyncioTestCase):
    async def test_refresh(self):
        await refresh()
""",
        runnable=True,
        note="A sync test of a plain `TestCase`: one unsafe fix converts the class, makes the "
        "test `async def` and awaits the call.",
    ),
    Invalid(
        """\
import unittest

from app.orders import OrderService


class OrderTest(unittest.TestCase):
    def setUp(self):
        self.service = OrderService()

    def test_place(self):
        self.assertTrue(self.service.place("book"))
        self.assertEqual(self.service.count(), 1)

    def test_cancel(self):
        self.assertIsNotNone(self.service.cancel("book"))
""",
        line=11,
        count=3,
        files={
            "app/__init__.py": "",
            "app/orders.py": """\
class OrderService:
    def __init__(self):
        self.orders = []

    async def place(self, item):
        self.orders.append(item)
        return True

    async def count(self):
        return len(self.orders)

    async def cancel(self, item):
        return item
""",
        },
        fixed="""\
import unittest

from app.orders import OrderService


class OrderTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.service = OrderService()

    async def test_place(self):
        self.assertTrue(await self.service.place("book"))
        self.assertEqual(await self.service.count(), 1)

    async def test_cancel(self):
        self.assertIsNotNone(await self.service.cancel("book"))
""",
        runnable=True,
        note='Asserted on in sync tests of a plain `TestCase`: one fix ("Convert OrderTest to '
        'IsolatedAsyncioTestCase, make test_cancel, test_place async and await 3 calls", '
        "unsafe) converts the class, makes both tests coroutines and awaits the three calls.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import AsyncMock


class HookTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.hook = AsyncMock(return_value="ready")
        self.state = self.hook("start")

    async def test_state(self):
        self.assertIsNotNone(self.state)
""",
        line=8,
        fixed="""\
import unittest
from unittest.mock import AsyncMock


class HookTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.hook = AsyncMock(return_value="ready")
        self.state = await self.hook("start")

    async def test_state(self):
        self.assertIsNotNone(self.state)
""",
        runnable=True,
        note="Created in a sync `setUp`, stored on the test and only asserted on by a test: "
        "`setUp` becomes `asyncSetUp` and the call is awaited (unsafe).",
    ),
    Invalid(
        """\
import unittest as ut

from app.client import Client


class ClientTest(ut.IsolatedAsyncioTestCase):
    def setUp(self):
        self.client = Client()
        self.client.connect()

    async def test_connected(self):
        self.assertTrue(self.client.connected)
""",
        line=9,
        files={
            "app/__init__.py": "",
            "app/client.py": """\
class Client:
    def __init__(self):
        self.connected = False

    async def connect(self):
        self.connected = True
""",
        },
        fixed="""\
import unittest as ut

from app.client import Client


class ClientTest(ut.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = Client()
        await self.client.connect()

    async def test_connected(self):
        self.assertTrue(self.client.connected)
""",
        runnable=True,
        note="Discarded in a sync `setUp` (the client never connects).",
    ),
    Invalid(
        """\
import asyncio
import unittest


async def fetch(n):
    return n


def pending(n):
    coro = fetch(n)
    return coro


class HelperTest(unittest.IsolatedAsyncioTestCase):
    async def test_pending(self):
        self.assertTrue(pending(1))

    async def test_wait(self):
        self.assertIsNotNone(asyncio.wait_for(fetch(2), timeout=1))
""",
        line=16,
        count=2,
        fixed="""\
import asyncio
import unittest


async def fetch(n):
    return n


def pending(n):
    coro = fetch(n)
    return coro


class HelperTest(unittest.IsolatedAsyncioTestCase):
    async def test_pending(self):
        self.assertTrue(await pending(1))

    async def test_wait(self):
        self.assertIsNotNone(await asyncio.wait_for(fetch(2), timeout=1))
""",
        runnable=True,
        note="A sync helper that returns the coroutine it makes (through a local), and an "
        "`asyncio.wait_for(...)` that is never awaited.",
    ),
    Invalid(
        """\
import unittest

from app.helpers import start_refresh
from app.store import Store


class StoreTest(unittest.IsolatedAsyncioTestCase):
    async def test_load(self):
        store = Store()
        self.assertIsNotNone(store.load("k"))

    async def test_refresh(self):
        start_refresh()
""",
        line=10,
        count=2,
        files={
            "app/__init__.py": "",
            "app/store.py": """\
class Store:
    async def _load(self, key):
        return key

    def load(self, key):
        return self._load(key)
""",
            "app/helpers.py": """\
async def refresh():
    return True


def start_refresh():
    return refresh()
""",
        },
        fixed="""\
import unittest

from app.helpers import start_refresh
from app.store import Store


class StoreTest(unittest.IsolatedAsyncioTestCase):
    async def test_load(self):
        store = Store()
        self.assertIsNotNone(await store.load("k"))

    async def test_refresh(self):
        await start_refresh()
""",
        runnable=True,
        note="A sync method of a class in another module, and a sync helper of another "
        "module, each returning the coroutine of an `async def`.",
    ),
    Invalid(
        """\
import asyncio
import unittest


async def fetch(n):
    return n


class BatchTest(unittest.IsolatedAsyncioTestCase):
    async def test_batch(self):
        coros = [fetch(n) for n in range(3)]
        self.assertEqual(len(coros), 3)

    async def test_gather(self):
        asyncio.gather(fetch(1), fetch(2))
        results = {n: fetch(n) for n in range(2)}
        self.assertIn(0, results)
""",
        line=11,
        count=3,
        note="Built in a comprehension and only counted; a `gather` whose future is dropped "
        "(its tasks may still be pending when the test ends). Awaiting each element would "
        "run them one by one; the fix awaits them where they stand.",
        fixed="""\
import asyncio
import unittest


async def fetch(n):
    return n


class BatchTest(unittest.IsolatedAsyncioTestCase):
    async def test_batch(self):
        coros = [await fetch(n) for n in range(3)]
        self.assertEqual(len(coros), 3)

    async def test_gather(self):
        await asyncio.gather(fetch(1), fetch(2))
        results = {n: await fetch(n) for n in range(2)}
        self.assertIn(0, results)
""",
        runnable=True,
    ),
    Invalid(
        """\
import unittest
from unittest import mock

from app.api import fetch_user


def check_user(user):
    assert user


class ApiTest(unittest.IsolatedAsyncioTestCase):
    async def test_user(self):
        self.assertIsInstance(fetch_user(1), dict)
        check_user(fetch_user(2))
        notify = mock.Mock()
        notify({"id": 3})
        notify.assert_called_once_with(fetch_user(3))
""",
        line=13,
        count=3,
        files={
            "app/__init__.py": "",
            "app/api.py": "async def fetch_user(user_id):\n    return {'id': user_id}\n",
        },
        fixed="""\
import unittest
from unittest import mock

from app.api import fetch_user


def check_user(user):
    assert user


class ApiTest(unittest.IsolatedAsyncioTestCase):
    async def test_user(self):
        self.assertIsInstance(await fetch_user(1), dict)
        check_user(await fetch_user(2))
        notify = mock.Mock()
        notify({"id": 3})
        notify.assert_called_once_with(await fetch_user(3))
""",
        runnable=True,
        note="Passed to any `assert*` method (`assertIsInstance`), to a helper that only "
        "asserts on it, and to a mock's `assert_called_once_with`.",
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

CoroutineNeverAwaited.valid += (
    Valid(
        """\
import asyncio
import unittest

from app.helpers import start_refresh
from app.store import Store


class StoreTest(unittest.IsolatedAsyncioTestCase):
    async def test_load(self):
        store = Store()
        self.assertEqual(await store.load("k"), "k")
        pending = start_refresh()
        self.assertTrue(await pending)
        task = asyncio.ensure_future(start_refresh())
        self.assertTrue(await task)
        self.assertEqual(store.size(), 0)
""",
        files={
            "app/__init__.py": "",
            "app/store.py": """\
class Store:
    async def _load(self, key):
        return key

    def load(self, key):
        return self._load(key)

    def size(self):
        return 0
""",
            "app/helpers.py": """\
async def refresh():
    return True


def start_refresh():
    return refresh()
""",
        },
        note="Coroutines returned by sync helpers of other modules, awaited or scheduled; a "
        "plain sync method of the same class.",
    ),
    Valid(
        """\
import asyncio
import unittest


async def fetch(n):
    return n


async def gather_all(coros):
    return await asyncio.gather(*coros)


class BatchTest(unittest.IsolatedAsyncioTestCase):
    async def test_counted_then_gathered(self):
        coros = [fetch(n) for n in range(3)]
        self.assertEqual(len(coros), 3)
        self.assertEqual(await asyncio.gather(*coros), [0, 1, 2])

    async def test_helper_gathers(self):
        self.assertEqual(await gather_all([fetch(n) for n in range(2)]), [0, 1])

    async def test_each_awaited(self):
        for coro in [fetch(1), fetch(2)]:
            self.assertTrue(await coro)
        tasks = {n: asyncio.ensure_future(fetch(n)) for n in range(2)}
        done, _ = await asyncio.wait(tasks.values())
        self.assertEqual(len(done), 2)
""",
        note="Comprehensions of coroutines that are gathered (`*coros`), handed to a helper, "
        "or iterated and awaited one by one.",
    ),
    Valid(
        """\
import asyncio
import unittest


async def fetch(n):
    return n


class WaitTest(unittest.IsolatedAsyncioTestCase):
    async def test_gather_later(self):
        group = asyncio.gather(fetch(1), fetch(2))
        self.assertEqual(await group, [1, 2])

    async def test_wait_for_later(self):
        waiter = asyncio.wait_for(fetch(3), timeout=1)
        self.assertEqual(await waiter, 3)

    async def test_awaited_inline(self):
        self.assertEqual(await asyncio.gather(fetch(1)), [1])
        self.assertEqual(await asyncio.wait_for(fetch(2), 1), 2)
""",
        note="`gather(...)`/`wait_for(...)` stored and awaited later, or awaited where made.",
    ),
    Valid(
        """\
import asyncio
import unittest
from unittest import mock


async def fetch_user(user_id):
    return {"id": user_id}


class ApiTest(unittest.IsolatedAsyncioTestCase):
    async def test_user(self):
        self.assertIsInstance(await fetch_user(1), dict)
        coro = fetch_user(2)
        self.assertTrue(asyncio.iscoroutine(coro))
        coro.close()
        notify = mock.AsyncMock()
        await notify(1)
        notify.assert_awaited_once_with(1)
        with self.assertRaises(TypeError):
            fetch_user(1, 2)
""",
        note="Awaited before the assertion; a coroutine checked with `iscoroutine` and closed "
        "by hand; a signature test.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import AsyncMock


class Client:
    def __init__(self):
        self.connected = False

    async def connect(self):
        self.connected = True


class ClientTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.client = Client()
        self.pending = self.client.connect()
        self.hook = AsyncMock()
        self.addAsyncCleanup(self.hook, "stop")

    async def test_connected(self):
        await self.pending
        self.assertTrue(self.client.connected)
""",
        note="A coroutine made in a sync `setUp` and awaited by the test; an `AsyncMock` "
        "registered (not called) as an async cleanup.",
    ),
)
