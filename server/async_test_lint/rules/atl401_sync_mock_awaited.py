"""ATL401: a `Mock`/`MagicMock` installed where the code under test awaits it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial

from ..analysis.flow import Reached, Role
from ..analysis.mocks import BrokenAwait, broken_awaits, short_name
from ..analysis.model import FunctionInfo
from ..analysis.names import ASYNC_MOCK, MAGIC_MOCK, MOCK
from ..context import Context
from ..fixes.mocks import async_def_fix, mock_class_fix
from ..model import Diagnostic, LazyFix, Safety
from .base import Invalid, Rule, Valid


class SyncMockAwaited(Rule):
    code = "ATL401"
    name = "sync-mock-awaited"
    family = "T5"
    summary = "A `Mock`/`MagicMock` replaces a dependency that the code under test awaits"
    what = (
        "Finds a `Mock(...)`/`MagicMock(...)` (no `spec`, `spec_set` or `wraps`: those give "
        "`AsyncMock` children for async methods) whose value, or a value it gives, reaches an "
        "`await`, `async with` or `async for` it cannot serve. The mock is followed wherever it "
        "goes (analysis/flow.py): through locals, `self` attributes set in `setUp`, attributes "
        "of objects (`svc.store = mock`), constructor and function arguments (positional or by "
        "keyword, also of module-level functions), lists, tuples and dicts of handlers the code "
        "iterates, `x or default`, returns, `with`/`async with` targets, and into the code under "
        "test in other modules of the project through their summaries, along the class's bases. "
        "What the test configures is read on the way: `m.get.return_value = {...}` (a literal is "
        "still not awaitable), `m.get.side_effect = [...]` or a sync function returning values "
        "(not awaitable either), `m.get = AsyncMock()` or an `async def` side effect (fine: "
        "silent), `pool.acquire.return_value.__aenter__.return_value = conn` (what `async with` "
        "gives). A `MagicMock` supports `async with` and `async for`, and what its `async with` "
        "gives is an `AsyncMock`: those stay silent; a plain `Mock` does not. Only uses on the "
        "unconditional path of a method the test calls (directly or through `self` calls) count; "
        "a mock configured in ways that cannot be read (`configure_mock`, `patch.object(m, ...)`) "
        "is left alone."
    )
    why = (
        "Calling a `Mock` returns another `Mock` (or the literal `return_value`), and neither can "
        "be awaited: the code under test raises *TypeError: object Mock can't be used in 'await' "
        "expression*. When that code catches broad exceptions (a retry loop, a fallback, a "
        "logged `except Exception`), the error is swallowed and the test passes for the wrong "
        "reason: it exercises the failure path, not the one it describes."
    )
    versions = (
        "All Python 3 versions. `AsyncMock` exists since 3.8; below that the fix is not "
        "offered (return a completed `asyncio.Future` instead)."
    )
    fix_notes = (
        "Unsafe: `Mock(...)`/`MagicMock(...)` becomes `AsyncMock(...)` with the same arguments "
        "(spelled through an existing `mock` module alias, or added to the `unittest.mock` "
        "import). Every call of an `AsyncMock` returns a coroutine, and so do calls of its child "
        "attributes: if the code also calls the mock (or one of its methods) synchronously, "
        "those calls now get unawaited coroutines. Check the sync uses, or give them their own "
        "`Mock` child (`m.close = Mock()`). A plain `Mock` used with `async with` or `async for` "
        "becomes `MagicMock` instead; a sync `side_effect` function whose results are awaited "
        "becomes `async def`. No automatic fix when the test itself calls the mock on the way "
        "to the await (`Service(factory())`): an `AsyncMock` would hand that call a coroutine; "
        "set the awaited child instead (`factory.return_value.session.get = AsyncMock(...)`). No "
        "automatic fix either when a literal is set as what the code iterates with `async for` "
        "or enters with `async with`: configure it on a `MagicMock` by hand "
        "(`m.chunks.return_value.__aiter__.return_value = [...]`)."
    )
    fix_safety = Safety.UNSAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model = context.model
        for site in model.calls_to(MOCK, MAGIC_MOCK):
            broken = next(broken_awaits(context.semantics, site.node, site.scope), None)
            if broken is None:
                continue
            factory = short_name(model.callee_name(site) or "Mock")
            yield context.report(
                self,
                site.node,
                _message(context, site.node, factory, broken),
                _fix(context, broken),
            )


_VERBS = {
    "await": "awaited",
    "async with": "entered with async with",
    "async for": "iterated with async for",
}
_SWALLOWED = " (a broad except there swallows the TypeError: the test passes for the wrong reason)"


def _message(context: Context, mock: ast.Call, factory: str, broken: BrokenAwait) -> str:
    """`MagicMock() in setUp becomes self.repo.store, awaited by OrderService.place via
    self.store.session.get(...): ...`"""
    created = f"{factory}()"
    function = _function_around(context, mock)
    if function is not None:
        created += f" in {function.name}"
    use = broken.reached.use
    where = _label(use.function) if use.function is not None else use.where_label
    text = (
        f"{created}{_destination(context, broken.reached)}, {_VERBS[broken.protocol]} by "
        f"{where} via {use.chain()}: {broken.awaited} cannot be used with {broken.protocol}"
    )
    return text + _SWALLOWED if use.swallowed else text


def _function_around(context: Context, node: ast.AST) -> FunctionInfo | None:
    current = context.model.parent(node)
    while current is not None:
        function = context.model.function_of(current)
        if function is not None:
            return function
        current = context.model.parent(current)
    return None


def _label(function: FunctionInfo) -> str:
    method = function.enclosing_method()
    if method is not None and method.cls is not None:
        return f"{method.cls.name}.{function.name}"
    return f"{function.name}()"


def _destination(context: Context, reached: Reached) -> str:
    """` becomes self.repo, passed to OrderService(store=...)`: where the mock went in this
    file (the first store that is more than a local name, the last call it was handed to)."""
    stored = passed = None
    for transfer in reached.path:
        if transfer.node is None:
            continue
        if transfer.role is Role.STORED and transfer.target is not None and stored is None:
            if transfer.target.kind not in ("local", "global") or transfer.target_steps:
                stored = _assignment_target(context, transfer.node)
        elif transfer.role is Role.ARGUMENT and transfer.callee is not None:
            passed = f"{short_name(transfer.callee)}({_argument_label(transfer.argument)})"
    if stored is None:
        return f" is passed to {passed}" if passed else ""
    return f" becomes {stored}, passed to {passed}" if passed else f" becomes {stored}"


def _argument_label(argument: int | str | None) -> str:
    if isinstance(argument, str):
        return f"{argument}=..."
    return "..." if argument is None else f"argument {argument + 1}"


def _assignment_target(context: Context, value: ast.AST) -> str | None:
    parent = context.model.parent(value)
    while isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        parent = context.model.parent(parent)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        return context.source_of(parent.targets[0])
    if isinstance(parent, ast.withitem) and parent.optional_vars is not None:
        return context.source_of(parent.optional_vars)
    return None


def _fix(context: Context, broken: BrokenAwait) -> LazyFix | None:
    if context.target < (3, 8) or broken.called_on_the_way:
        return None
    model, repair = context.model, broken.repair
    if broken.repair_kind == "async-def" and isinstance(repair, ast.FunctionDef):
        title = f"Make {repair.name} async def"
        return context.lazy_fix(title, Safety.UNSAFE, partial(async_def_fix, model, repair, title))
    if not isinstance(repair, ast.expr) or broken.repair_kind == "none":
        return None
    name, title = (
        (MAGIC_MOCK, "Use MagicMock")
        if broken.repair_kind == "magic-mock"
        else (ASYNC_MOCK, "Use AsyncMock")
    )
    return context.lazy_fix(
        title, Safety.UNSAFE, partial(mock_class_fix, model, repair, name, title)
    )


_SERVICE = """\
class UserService:
    def __init__(self, repo=None):
        self.repo = repo

    async def name_of(self, user_id):
        try:
            user = await self.repo.get(user_id)
        except Exception:
            return "unknown"
        return user["name"]
"""

_SHOP_ORDERS = """\
class Session:
    async def get(self, key): ...
class Store:
    def __init__(self):
        self.session = Session()
class OrderService:
    def __init__(self, store=None):
        self.store = store or Store()
    async def place(self, order):
        row = await self.store.session.get(order)
        return row
"""

_SHOP_BUS = """\
class EventBus:
    def __init__(self, handlers):
        self.handlers = handlers
    async def publish(self, event):
        for handler in self.handlers:
            await handler(event)
class NamedBus:
    def __init__(self):
        self.hooks = {}
    async def fire(self, event):
        for name, hook in self.hooks.items():
            await hook(event)
"""

_SHOP_DELIVERY = """\
async def deliver(order, notifier):
    await notifier.send(order)
    return True
async def deliver_all(orders, notifier):
    for order in orders:
        await deliver(order, notifier)
"""

_SHOP_DAO = """\
class UserDao:
    def __init__(self, pool):
        self._pool = pool
    async def count(self):
        async with self._pool.acquire() as conn:
            return await conn.fetchval("select count(*) from users")
"""

_SHOP_COUNTER = """\
class Counter:
    def __init__(self, lock):
        self.lock = lock
        self.value = 0
    async def bump(self):
        async with self.lock:
            self.value += 1
"""

_FEED_READER = """\
class FeedReader:
    def __init__(self, parser):
        self.parser = parser

    async def total(self, source):
        size = 0
        async for chunk in source.chunks():
            size += len(self.parser(chunk))
        return size

    async def publish(self, sink, items):
        for item in items:
            await sink.put(item)
        return len(items)
"""


SyncMockAwaited.invalid = (
    Invalid(
        """\
import unittest
from unittest.mock import Mock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_unknown_user(self):
        service = UserService()
        service.repo = Mock()
        service.repo.get.return_value = {"name": "ada"}
        self.assertEqual(await service.name_of(1), "ada")
""",
        line=10,
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        fixed="""\
import unittest
from unittest.mock import Mock, AsyncMock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_unknown_user(self):
        service = UserService()
        service.repo = AsyncMock()
        service.repo.get.return_value = {"name": "ada"}
        self.assertEqual(await service.name_of(1), "ada")
""",
        runnable=True,
        note='The broad `except` of the service turns the TypeError into "unknown", so the '
        'test fails far from the cause (a test expecting "unknown" would pass for the wrong '
        "reason). The awaited `repo` is set on the object after construction.",
    ),
    Invalid(
        """\
import unittest
from unittest import mock as m

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.repo = m.MagicMock()
        self.repo.get.return_value = {"name": "ada"}
        self.service = UserService(repo=self.repo)

    async def test_name(self):
        self.assertEqual(await self.service.name_of(1), "ada")
""",
        line=9,
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        fixed="""\
import unittest
from unittest import mock as m

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.repo = m.AsyncMock()
        self.repo.get.return_value = {"name": "ada"}
        self.service = UserService(repo=self.repo)

    async def test_name(self):
        self.assertEqual(await self.service.name_of(1), "ada")
""",
        runnable=True,
        note="`from unittest import mock as m`; a `MagicMock` made in `setUp` and passed to the "
        "constructor by keyword.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import MagicMock

from app.notify import Notifier


class NotifierTest(unittest.IsolatedAsyncioTestCase):
    async def test_send(self):
        send = MagicMock()
        send.return_value = True
        notifier = Notifier(send)
        self.assertTrue(await notifier.notify("hi"))
""",
        line=9,
        files={
            "app/notify.py": """\
class Base:
    async def notify(self, text):
        return await self.transport(text)


class Notifier(Base):
    def __init__(self, transport):
        self.transport = transport
""",
        },
        fixed="""\
import unittest
from unittest.mock import MagicMock, AsyncMock

from app.notify import Notifier


class NotifierTest(unittest.IsolatedAsyncioTestCase):
    async def test_send(self):
        send = AsyncMock()
        send.return_value = True
        notifier = Notifier(send)
        self.assertTrue(await notifier.notify("hi"))
""",
        runnable=True,
        note="A local mock with `return_value` set afterwards, passed positionally; the awaiting "
        "method is on a base class.",
    ),
    Invalid(
        """\
import unittest
from unittest import mock
from shop.orders import OrderService
class PlaceTest(unittest.IsolatedAsyncioTestCase):
    async def test_place(self):
        svc = OrderService()
        svc.store = mock.MagicMock()
        self.assertIsNotNone(await svc.place({"id": 3}))
""",
        line=7,
        files={"shop/__init__.py": "", "shop/orders.py": _SHOP_ORDERS},
        fixed="""\
import unittest
from unittest import mock
from shop.orders import OrderService
class PlaceTest(unittest.IsolatedAsyncioTestCase):
    async def test_place(self):
        svc = OrderService()
        svc.store = mock.AsyncMock()
        self.assertIsNotNone(await svc.place({"id": 3}))
""",
        runnable=True,
        note=(
            "A whole dependency replaced on the object: the service awaits "
            "`self.store.session.get(...)`, two attributes below what the test set."
        ),
    ),
    Invalid(
        """\
import unittest
from unittest.mock import Mock as M
from shop import delivery
class DeliverTest(unittest.IsolatedAsyncioTestCase):
    async def test_deliver(self):
        notifier = M()
        self.assertTrue(await delivery.deliver({"id": 1}, notifier))
""",
        line=6,
        files={"shop/__init__.py": "", "shop/delivery.py": _SHOP_DELIVERY},
        fixed="""\
import unittest
from unittest.mock import Mock as M, AsyncMock
from shop import delivery
class DeliverTest(unittest.IsolatedAsyncioTestCase):
    async def test_deliver(self):
        notifier = AsyncMock()
        self.assertTrue(await delivery.deliver({"id": 1}, notifier))
""",
        runnable=True,
        note=(
            "A mock handed to a module-level coroutine function's parameter (`from unittest.mock "
            "import Mock as M`)."
        ),
    ),
    Invalid(
        """\
import unittest
from unittest.mock import MagicMock
from shop.delivery import deliver_all
class DeliverTest(unittest.IsolatedAsyncioTestCase):
    async def test_all(self):
        await deliver_all([1, 2], notifier=MagicMock())
""",
        line=6,
        files={"shop/__init__.py": "", "shop/delivery.py": _SHOP_DELIVERY},
        fixed="""\
import unittest
from unittest.mock import MagicMock, AsyncMock
from shop.delivery import deliver_all
class DeliverTest(unittest.IsolatedAsyncioTestCase):
    async def test_all(self):
        await deliver_all([1, 2], notifier=AsyncMock())
""",
        runnable=True,
        note="Passed by keyword to one function that hands it to another inside a loop.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import Mock
from shop.bus import EventBus
class BusTest(unittest.IsolatedAsyncioTestCase):
    async def test_publish(self):
        audit = Mock()
        bus = EventBus([audit, Mock()])
        await bus.publish("created")
        audit.assert_called_once_with("created")
""",
        line=6,
        count=2,
        files={"shop/__init__.py": "", "shop/bus.py": _SHOP_BUS},
        fixed="""\
import unittest
from unittest.mock import Mock, AsyncMock
from shop.bus import EventBus
class BusTest(unittest.IsolatedAsyncioTestCase):
    async def test_publish(self):
        audit = AsyncMock()
        bus = EventBus([audit, AsyncMock()])
        await bus.publish("created")
        audit.assert_called_once_with("created")
""",
        runnable=True,
        note="A list of handlers the code iterates and awaits: both mocks in it are reported.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import Mock
from shop.bus import NamedBus
class BusTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.bus = NamedBus()
        self.bus.hooks = {"audit": Mock()}
    async def test_fire(self):
        await self.bus.fire("x")
""",
        line=7,
        files={"shop/__init__.py": "", "shop/bus.py": _SHOP_BUS},
        fixed="""\
import unittest
from unittest.mock import Mock, AsyncMock
from shop.bus import NamedBus
class BusTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.bus = NamedBus()
        self.bus.hooks = {"audit": AsyncMock()}
    async def test_fire(self):
        await self.bus.fire("x")
""",
        runnable=True,
        note="A dict of hooks set in `setUp` on the object, iterated with `.items()` and awaited.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import MagicMock
from shop.orders import OrderService
class PlaceTest(unittest.IsolatedAsyncioTestCase):
    async def test_place(self):
        store = MagicMock()
        store.session.get.side_effect = [{"id": 1}, {"id": 2}]
        svc = OrderService(store)
        self.assertEqual(await svc.place(1), {"id": 1})
""",
        line=6,
        files={"shop/__init__.py": "", "shop/orders.py": _SHOP_ORDERS},
        fixed="""\
import unittest
from unittest.mock import MagicMock, AsyncMock
from shop.orders import OrderService
class PlaceTest(unittest.IsolatedAsyncioTestCase):
    async def test_place(self):
        store = AsyncMock()
        store.session.get.side_effect = [{"id": 1}, {"id": 2}]
        svc = OrderService(store)
        self.assertEqual(await svc.place(1), {"id": 1})
""",
        runnable=True,
        note="A `side_effect` list of plain values for an awaited call.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import MagicMock
from shop.orders import OrderService
def fake_get(key):
    return {"id": key}
class PlaceTest(unittest.IsolatedAsyncioTestCase):
    async def test_place(self):
        store = MagicMock()
        store.session.get.side_effect = fake_get
        svc = OrderService(store)
        self.assertEqual(await svc.place(1), {"id": 1})
""",
        line=8,
        files={"shop/__init__.py": "", "shop/orders.py": _SHOP_ORDERS},
        fixed="""\
import unittest
from unittest.mock import MagicMock
from shop.orders import OrderService
async def fake_get(key):
    return {"id": key}
class PlaceTest(unittest.IsolatedAsyncioTestCase):
    async def test_place(self):
        store = MagicMock()
        store.session.get.side_effect = fake_get
        svc = OrderService(store)
        self.assertEqual(await svc.place(1), {"id": 1})
""",
        runnable=True,
        note="A sync `side_effect` function for an awaited call: the fix makes it `async def`.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import MagicMock
from shop.dao import UserDao
class DaoTest(unittest.IsolatedAsyncioTestCase):
    async def test_count(self):
        conn = MagicMock()
        conn.fetchval.return_value = 3
        pool = MagicMock()
        pool.acquire.return_value.__aenter__.return_value = conn
        self.assertEqual(await UserDao(pool).count(), 3)
""",
        line=6,
        files={"shop/__init__.py": "", "shop/dao.py": _SHOP_DAO},
        fixed="""\
import unittest
from unittest.mock import MagicMock, AsyncMock
from shop.dao import UserDao
class DaoTest(unittest.IsolatedAsyncioTestCase):
    async def test_count(self):
        conn = AsyncMock()
        conn.fetchval.return_value = 3
        pool = MagicMock()
        pool.acquire.return_value.__aenter__.return_value = conn
        self.assertEqual(await UserDao(pool).count(), 3)
""",
        runnable=True,
        note=(
            "A `MagicMock` connection set as what `async with pool.acquire()` gives, whose method"
            " the code awaits."
        ),
    ),
    Invalid(
        """\
import unittest
from unittest import mock
from shop.counter import Counter
class CounterTest(unittest.IsolatedAsyncioTestCase):
    async def test_bump(self):
        counter = Counter(lock=mock.Mock())
        await counter.bump()
        self.assertEqual(counter.value, 1)
""",
        line=6,
        files={"shop/__init__.py": "", "shop/counter.py": _SHOP_COUNTER},
        fixed="""\
import unittest
from unittest import mock
from shop.counter import Counter
class CounterTest(unittest.IsolatedAsyncioTestCase):
    async def test_bump(self):
        counter = Counter(lock=mock.MagicMock())
        await counter.bump()
        self.assertEqual(counter.value, 1)
""",
        runnable=True,
        note=(
            "A plain `Mock` used as an async context manager (it has no `__aenter__`): the fix is"
            " `MagicMock`, which supports `async with`."
        ),
    ),
    Invalid(
        """\
import unittest
from unittest.mock import Mock
from shop.orders import OrderService
class PlaceTest(unittest.IsolatedAsyncioTestCase):
    async def test_place(self):
        factory = Mock()
        factory.return_value.session.get.return_value = {"id": 9}
        svc = OrderService(factory())
        self.assertEqual(await svc.place(9), {"id": 9})
""",
        line=6,
        files={"shop/__init__.py": "", "shop/orders.py": _SHOP_ORDERS},
        note=(
            "A `return_value` chain; the test calls the mock itself (`factory()`), so `AsyncMock`"
            " is no repair: no fix is offered."
        ),
    ),
    Invalid(
        """\
import unittest
import unittest.mock as um
from feeds.reader import FeedReader
class PublishTest(unittest.IsolatedAsyncioTestCase):
    async def test_publish(self):
        sink = um.Mock()
        reader = FeedReader(parser=bytes)
        self.assertEqual(await reader.publish(sink, ["a", "b"]), 2)
        self.assertEqual(sink.put.call_count, 2)
""",
        line=6,
        files={"feeds/__init__.py": "", "feeds/reader.py": _FEED_READER},
        fixed="""\
import unittest
import unittest.mock as um
from feeds.reader import FeedReader
class PublishTest(unittest.IsolatedAsyncioTestCase):
    async def test_publish(self):
        sink = um.AsyncMock()
        reader = FeedReader(parser=bytes)
        self.assertEqual(await reader.publish(sink, ["a", "b"]), 2)
        self.assertEqual(sink.put.call_count, 2)
""",
        runnable=True,
        note="Handed to a method of an instance the test built: the method awaits `sink.put(...)`.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import Mock
from feeds.reader import FeedReader
class TotalTest(unittest.IsolatedAsyncioTestCase):
    async def test_total(self):
        source = Mock()
        source.chunks.return_value = [b"ab", b"c"]
        self.assertEqual(await FeedReader(bytes).total(source), 3)
""",
        line=6,
        files={"feeds/__init__.py": "", "feeds/reader.py": _FEED_READER},
        note=(
            "A list set as the value the code iterates with `async for` (on a method of a new"
            " instance): no literal is an async iterator, so no fix is offered; configure"
            " `source.chunks.return_value.__aiter__.return_value = [...]` on a `MagicMock`."
        ),
    ),
)

SyncMockAwaited.valid = (
    Valid(
        """\
import unittest
from unittest import mock

from app.multipart import ResponseWrapper


class WrapperTest(unittest.IsolatedAsyncioTestCase):
    async def test_next(self):
        wrapper = ResponseWrapper(mock.Mock(), mock.Mock())
        wrapper.stream.next = mock.AsyncMock(return_value=b"")
        wrapper.stream.at_eof.return_value = False
        await wrapper.next()
""",
        files={
            "app/multipart.py": """\
class ResponseWrapper:
    def __init__(self, resp, stream):
        self.resp = resp
        self.stream = stream

    async def next(self):
        item = await self.stream.next()
        if self.stream.at_eof():
            await self.release()
        return item

    async def release(self):
        await self.resp.release()
""",
        },
        note=(
            "The Mock is awaited only on a branch the test turns off (aiohttp's multipart "
            "tests): only awaits on a method's unconditional path count."
        ),
    ),
    Valid(
        """\
import unittest
from unittest.mock import AsyncMock, MagicMock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_name(self):
        service = UserService(repo=AsyncMock())
        service.repo.get.return_value = {"name": "ada"}
        self.assertEqual(await service.name_of(1), "ada")

    async def test_spec(self):
        service = UserService(repo=MagicMock(spec=["get"]))
        self.assertEqual(await service.name_of(1), "unknown")
""",
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        note="`AsyncMock`, and a spec'd MagicMock.",
    ),
    Valid(
        """\
import asyncio
import unittest
from unittest.mock import Mock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_name(self):
        done = asyncio.get_running_loop().create_future()
        done.set_result({"name": "ada"})
        repo = Mock()
        repo.get.return_value = done
        service = UserService(repo)
        self.assertEqual(await service.name_of(1), "ada")
""",
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        note="The mock's method returns a completed future: awaiting it works (the pre-3.8 idiom).",
    ),
    Valid(
        """\
import unittest
from unittest.mock import Mock

from app.report import Report


class ReportTest(unittest.TestCase):
    def test_render(self):
        report = Report(formatter=Mock(return_value="x"))
        report.sink = Mock()
        self.assertEqual(report.render(), "x")
""",
        files={
            "app/report.py": """\
class Report:
    def __init__(self, formatter):
        self.formatter = formatter
        self.sink = None

    def render(self):
        return self.formatter()

    async def flush(self, client):
        await client.send(self.render())
""",
        },
        note="The attributes the mocks replace are only called synchronously; what is awaited is "
        "a parameter, not an attribute.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import MagicMock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_repo_is_stored(self):
        repo = MagicMock()
        service = UserService(repo)
        self.assertIs(service.repo, repo)
        repo.get.assert_not_called()
""",
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        note="The test never calls a method that awaits the mock, and asserts it is not used.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import MagicMock, AsyncMock
from shop.orders import OrderService
class PlaceTest(unittest.IsolatedAsyncioTestCase):
    async def test_place(self):
        store = MagicMock()
        store.session.get = AsyncMock(return_value={"id": 1})
        self.assertEqual(await OrderService(store).place(1), {"id": 1})
""",
        files={"shop/__init__.py": "", "shop/orders.py": _SHOP_ORDERS},
        note="The awaited child is configured as an `AsyncMock`.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import MagicMock
from shop.dao import UserDao
class DaoTest(unittest.IsolatedAsyncioTestCase):
    async def test_count(self):
        pool = MagicMock()
        conn = pool.acquire.return_value.__aenter__.return_value
        conn.fetchval.return_value = 3
        self.assertEqual(await UserDao(pool).count(), 3)
""",
        files={"shop/__init__.py": "", "shop/dao.py": _SHOP_DAO},
        note=(
            "What `async with` on a `MagicMock` gives is an `AsyncMock` child: its awaited "
            "methods work, and a `return_value` set on them is what the await gives."
        ),
    ),
    Valid(
        """\
import unittest
from unittest import mock
from shop.counter import Counter
class CounterTest(unittest.IsolatedAsyncioTestCase):
    async def test_bump(self):
        counter = Counter(lock=mock.MagicMock())
        await counter.bump()
        self.assertEqual(counter.value, 1)
""",
        files={"shop/__init__.py": "", "shop/counter.py": _SHOP_COUNTER},
        note="`MagicMock` supports `async with` (3.8+).",
    ),
    Valid(
        """\
import unittest
from unittest.mock import MagicMock
from shop.orders import OrderService
async def fake_get(key):
    return {"id": key}
class PlaceTest(unittest.IsolatedAsyncioTestCase):
    async def test_place(self):
        store = MagicMock()
        store.session.get.side_effect = fake_get
        self.assertEqual(await OrderService(store).place(1), {"id": 1})
""",
        files={"shop/__init__.py": "", "shop/orders.py": _SHOP_ORDERS},
        note="An `async def` side effect: awaiting the call gives its result.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import create_autospec, Mock
from shop.delivery import deliver
class Notifier:
    async def send(self, order): ...
class DeliverTest(unittest.IsolatedAsyncioTestCase):
    async def test_deliver(self):
        self.assertTrue(await deliver(1, Mock(spec=Notifier)))
        self.assertTrue(await deliver(1, create_autospec(Notifier)))
""",
        files={"shop/__init__.py": "", "shop/delivery.py": _SHOP_DELIVERY},
        note="A mock specced with a class: its async methods become `AsyncMock`.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import Mock
class Report:
    def __init__(self, sink):
        self.sink = sink
    def render(self):
        self.sink.write("x")
    async def flush(self, client):
        await client.send(1)
class ReportTest(unittest.TestCase):
    def test_render(self):
        Report(Mock()).render()
""",
        note=(
            "The mocked attribute is only called synchronously; what is awaited is a parameter of"
            " another method."
        ),
    ),
    Valid(
        """\
import unittest
from unittest.mock import MagicMock
from feeds.reader import FeedReader
class TotalTest(unittest.IsolatedAsyncioTestCase):
    async def test_total(self):
        source = MagicMock()
        source.chunks.return_value.__aiter__.return_value = [b"ab", b"c"]
        self.assertEqual(await FeedReader(bytes).total(source), 3)
""",
        files={"feeds/__init__.py": "", "feeds/reader.py": _FEED_READER},
        note="A `MagicMock` configured as an async iterator: `async for` gets the list's items.",
    ),
)
