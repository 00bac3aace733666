"""ATL204: `async def setUpClass`/`tearDownClass` (and `setUpModule`/`tearDownModule`)."""

from __future__ import annotations

from collections.abc import Iterator

from ..analysis.model import FunctionInfo
from ..analysis.semantics import ClassKind
from ..context import Context
from ..model import Diagnostic, LazyFix, Safety
from . import _atl204_fix
from ._lifecycle import decorators_are_known_neutral, header_range
from .base import Invalid, Rule, Valid

CLASS_HOOKS = ("setUpClass", "tearDownClass")
MODULE_HOOKS = ("setUpModule", "tearDownModule")
_TEST_KINDS = (ClassKind.PLAIN_TESTCASE, ClassKind.ISOLATED)


class AsyncSetupClass(Rule):
    code = "ATL204"
    name = "async-setupclass"
    family = "T8"
    summary = "`async def setUpClass`/`tearDownClass` is called without being awaited"
    what = (
        "Finds `async def setUpClass` and `async def tearDownClass` on a class whose bases resolve "
        "to `unittest.TestCase` or `IsolatedAsyncioTestCase` (any import spelling, local bases, "
        "bases in another file), and module-level `async def setUpModule`/`tearDownModule` in a "
        "module that defines such classes."
    )
    why = (
        "unittest calls class- and module-level fixtures as plain functions, even for an "
        "`IsolatedAsyncioTestCase` (there is no `asyncSetUpClass`: the class fixtures run before "
        "any test's event loop exists). The coroutine is dropped: the shared fixture is never "
        "built (tests fail with an AttributeError on `cls.<name>`, or pass against nothing) and "
        "the class teardown never releases what it should."
    )
    versions = (
        "All versions (checked on 3.8-3.13): the body never runs; the only trace is "
        "*RuntimeWarning: coroutine 'UserTest.setUpClass' was never awaited*. Neither 3.11's "
        "`enterClassContext`/`enterModuleContext` nor `addClassCleanup` accept coroutines."
    )
    fix_notes = (
        "Unsafe. On a plain `TestCase`, and on an `IsolatedAsyncioTestCase` whose class setup "
        "builds loop-independent data (a token, a parsed schema, files), the coroutine is kept "
        "as a class method `asyncSetUpClass` (`asyncTearDownClass`) and a sync `setUpClass` "
        "runs it once per class with `asyncio.run(cls.asyncSetUpClass())`, on a loop that is "
        "closed before the first test. When the setup's state belongs to a loop (it makes an "
        "asyncio primitive or a project object holding one, awaits something only for its side "
        "effects such as starting a server, or the tests await, `async with` or `async for` "
        "over what it stores), the hook becomes `asyncSetUp` (`asyncTearDown`) of an "
        "`IsolatedAsyncioTestCase`: `cls` becomes `self` and it runs before every test on that "
        "test's loop (a once-per-class guard would still bind the object to the first test's "
        "loop). Tests that relied on sharing one object now get one each.\n\n"
        "No automatic fix: for async `setUpModule`/`tearDownModule` (what they start usually "
        "has to outlive one loop: run loop-free work with `asyncio.run(...)` in a sync hook, "
        "or move per-test resources to `asyncSetUp`), when the class already defines the "
        "target method (merge the body into it by hand), when the hook has other decorators, "
        "when a class method reads what the setup stores, or when a sync `tearDownClass` reads "
        "attributes that would move to the per-test setup (make it `asyncTearDown` too)."
    )
    fix_safety = Safety.UNSAFE
    use_instead = """\
import asyncio
import unittest

from app import db, schema


class UserRepositoryTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # loop-independent data only: this loop is closed before the first test runs
        cls.schema = asyncio.run(schema.load())

    async def asyncSetUp(self):
        # loop-bound resources: one per test, on the test's own loop
        self.connection = await db.connect(self.schema)
        self.addAsyncCleanup(self.connection.close)
"""

    def check(self, context: Context) -> Iterator[Diagnostic]:
        has_test_class = False
        for cls in context.model.classes:
            kind = context.semantics.kind(cls)
            if kind not in _TEST_KINDS:
                continue
            has_test_class = True
            hooks = [
                method
                for hook in CLASS_HOOKS
                if (method := cls.methods.get(hook)) is not None
                and _is_plain_coroutine_function(context, method)
            ]
            fix_plan = _atl204_fix.plan(context, cls, hooks) if hooks else None
            for method in hooks:
                message = (
                    f"async def {method.name} on {cls.name} ({kind.value}) is never awaited: "
                    "unittest calls it synchronously, so its body never runs"
                )
                yield context.report(
                    self, header_range(context, method), message, _lazy(context, fix_plan)
                )
        if not has_test_class:
            return
        for hook in MODULE_HOOKS:
            bindings = context.model.module_scope.bindings.get(hook, [])
            if len(bindings) != 1 or bindings[0].function is None:
                continue
            function = bindings[0].function
            if _is_plain_coroutine_function(context, function):
                message = (
                    f"async def {hook} is never awaited: unittest calls it synchronously, so its "
                    "body never runs"
                )
                yield context.report(self, header_range(context, function), message)


def _lazy(context: Context, fix_plan: _atl204_fix.Plan | None) -> LazyFix | None:
    if fix_plan is None:
        return None
    return context.lazy_fix(
        fix_plan.title, Safety.UNSAFE, lambda: _atl204_fix.build(context, fix_plan)
    )


def _is_plain_coroutine_function(context: Context, function: FunctionInfo) -> bool:
    return (
        function.is_async
        and not function.yields
        and decorators_are_known_neutral(context.semantics, function)
    )


_DB_FILES = {
    "app/__init__.py": "",
    "app/db.py": """\
import asyncio


class Connection:
    def __init__(self):
        self.lock = asyncio.Lock()
        self.rows = []

    async def execute(self, statement):
        async with self.lock:
            await asyncio.sleep(0)
            self.rows.append(statement)

    async def close(self):
        await asyncio.sleep(0)


async def connect():
    await asyncio.sleep(0)
    return Connection()
""",
    "tests/__init__.py": "",
}

_RUNNABLE_PER_TEST = """\
import asyncio
import unittest

from app import db


class UserRepositoryTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    async def setUpClass(cls):
        super().setUpClass()
        cls.connection = await db.connect()

    @classmethod
    async def tearDownClass(cls):
        await cls.connection.close()

    async def test_insert(self):
        await asyncio.gather(
            self.connection.execute("insert into users values (1)"),
            self.connection.execute("insert into users values (2)"),
        )
        self.assertEqual(len(self.connection.rows), 2)

    async def test_insert_again(self):
        await asyncio.gather(
            self.connection.execute("insert into users values (3)"),
            self.connection.execute("insert into users values (4)"),
        )
        self.assertEqual(len(self.connection.rows), 2)
"""

_RUNNABLE_PER_TEST_FIXED = """\
import asyncio
import unittest

from app import db


class UserRepositoryTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.connection = await db.connect()

    async def asyncTearDown(self):
        await self.connection.close()

    async def test_insert(self):
        await asyncio.gather(
            self.connection.execute("insert into users values (1)"),
            self.connection.execute("insert into users values (2)"),
        )
        self.assertEqual(len(self.connection.rows), 2)

    async def test_insert_again(self):
        await asyncio.gather(
            self.connection.execute("insert into users values (3)"),
            self.connection.execute("insert into users values (4)"),
        )
        self.assertEqual(len(self.connection.rows), 2)
"""

_SCHEMA_FILES = {
    "app/__init__.py": "",
    "app/schema.py": """\
import asyncio


async def load():
    await asyncio.sleep(0)
    return {"users": ["id", "name"]}
""",
    "tests/__init__.py": "",
}

_RUNNABLE_ONCE = """\
import unittest

from app import schema


class SchemaTest(unittest.IsolatedAsyncioTestCase):
    loads = 0

    @classmethod
    async def setUpClass(cls):
        super().setUpClass()
        cls.schema = await schema.load()
        cls.loads += 1

    async def test_columns(self):
        self.assertEqual(self.schema["users"], ["id", "name"])

    def test_loaded_once(self):
        self.assertEqual(self.loads, 1)
"""

_RUNNABLE_ONCE_FIXED = """\
import unittest

from app import schema
import asyncio


class SchemaTest(unittest.IsolatedAsyncioTestCase):
    loads = 0

    @classmethod
    def setUpClass(cls):
        asyncio.run(cls.asyncSetUpClass())

    @classmethod
    async def asyncSetUpClass(cls):
        super().setUpClass()
        cls.schema = await schema.load()
        cls.loads += 1

    async def test_columns(self):
        self.assertEqual(self.schema["users"], ["id", "name"])

    def test_loaded_once(self):
        self.assertEqual(self.loads, 1)
"""

_BUCKET_FILES = {
    "app/__init__.py": "",
    "app/storage.py": """\
import asyncio

deleted = []


class Bucket:
    async def delete(self):
        await asyncio.sleep(0)
        deleted.append(self)


def create_bucket():
    return Bucket()
""",
    "tests/__init__.py": "",
}

_RUNNABLE_PLAIN = """\
import unittest

from app import storage


class ArchiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bucket = storage.create_bucket()
        cls.addClassCleanup(lambda: storage.deleted.remove(cls.bucket))

    @classmethod
    async def tearDownClass(cls):
        await cls.bucket.delete()

    def test_bucket(self):
        self.assertEqual(storage.deleted, [])
"""

_RUNNABLE_PLAIN_FIXED = """\
import unittest

from app import storage
import asyncio


class ArchiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bucket = storage.create_bucket()
        cls.addClassCleanup(lambda: storage.deleted.remove(cls.bucket))

    @classmethod
    def tearDownClass(cls):
        asyncio.run(cls.asyncTearDownClass())

    @classmethod
    async def asyncTearDownClass(cls):
        await cls.bucket.delete()

    def test_bucket(self):
        self.assertEqual(storage.deleted, [])
"""

AsyncSetupClass.invalid = (
    Invalid(
        """\
import unittest

from app import db


class UserRepositoryTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    async def setUpClass(cls):
        cls.connection = await db.connect()

    async def test_insert(self):
        await self.connection.execute("insert into users values (1)")
""",
        line=8,
        fixed="""\
import unittest

from app import db


class UserRepositoryTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.connection = await db.connect()

    async def test_insert(self):
        await self.connection.execute("insert into users values (1)")
""",
        note="The tests await methods of what the setup stores: it moves to asyncSetUp.",
    ),
    Invalid(
        """\
from unittest import TestCase as TC

from app import storage


class ArchiveTest(TC):
    @classmethod
    def setUpClass(cls):
        cls.bucket = storage.create_bucket()

    @classmethod
    async def tearDownClass(cls):
        await cls.bucket.delete()

    def test_bucket(self):
        self.assertTrue(self.bucket)
""",
        line=12,
        fixed="""\
from unittest import TestCase as TC

from app import storage
import asyncio


class ArchiveTest(TC):
    @classmethod
    def setUpClass(cls):
        cls.bucket = storage.create_bucket()

    @classmethod
    def tearDownClass(cls):
        asyncio.run(cls.asyncTearDownClass())

    @classmethod
    async def asyncTearDownClass(cls):
        await cls.bucket.delete()

    def test_bucket(self):
        self.assertTrue(self.bucket)
""",
        note="A plain TestCase imported as `TC`: the bucket is never deleted. The teardown "
        "runs once per class on a loop of its own.",
    ),
    Invalid(
        """\
import unittest

from tests.base import ServiceTestCase

from app import server


async def setUpModule():
    await server.start()


async def tearDownModule():
    await server.stop()


class PingTest(ServiceTestCase):
    @classmethod
    async def setUpClass(cls):
        cls.token = await server.login()

    async def test_ping(self):
        self.assertTrue(self.token)
""",
        line=8,
        count=3,
        files={
            "tests/base.py": """\
import unittest


class ServiceTestCase(unittest.IsolatedAsyncioTestCase):
    maxDiff = None
""",
        },
        note="Module-level fixtures and a base class in another file. The class hook has a "
        "fix (asyncio.run, the token is data); the module hooks have none.",
    ),
    Invalid(
        _RUNNABLE_PER_TEST,
        line=9,
        count=2,
        fixed=_RUNNABLE_PER_TEST_FIXED,
        files=_DB_FILES,
        runnable=True,
        note="A connection holding an asyncio.Lock, awaited by the tests: setup and teardown "
        "move to asyncSetUp/asyncTearDown together, `super().setUpClass()` is chained as "
        "`await super().asyncSetUp()`.",
    ),
    Invalid(
        _RUNNABLE_ONCE,
        line=10,
        fixed=_RUNNABLE_ONCE_FIXED,
        files=_SCHEMA_FILES,
        runnable=True,
        note="Loop-free data (a parsed schema): loaded once per class with asyncio.run.",
    ),
    Invalid(
        _RUNNABLE_PLAIN,
        line=13,
        fixed=_RUNNABLE_PLAIN_FIXED,
        files=_BUCKET_FILES,
        runnable=True,
        note="A plain TestCase whose async tearDownClass never deleted the bucket.",
    ),
)

AsyncSetupClass.valid = (
    Valid(
        """\
import unittest


class ConfigTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.settings = {"debug": True}

    async def asyncSetUp(self):
        self.events = []

    async def test_settings(self):
        self.assertTrue(self.settings["debug"])
""",
        note="A sync `setUpClass` for loop-independent data, per-test async setup in `asyncSetUp`.",
    ),
    Valid(
        """\
class Fixtures:
    @classmethod
    async def setUpClass(cls):
        return "an ordinary class, awaited by whoever calls it"


async def setUpModule():
    return await Fixtures.setUpClass()
""",
        path="app/fixtures.py",
        note="Same names outside any test case, in a module without test classes.",
    ),
    Valid(
        """\
from tests.harness import AsyncClassFixturesCase


class ReportTest(AsyncClassFixturesCase):
    @classmethod
    async def setUpClass(cls):
        cls.report = "ready"

    def test_report(self):
        self.assertEqual(self.report, "ready")
""",
        files={
            "tests/harness.py": """\
import asyncio
import inspect
import unittest


class AwaitClassFixtures(type):
    def __new__(mcs, name, bases, namespace):
        hook = namespace.get("setUpClass")
        if isinstance(hook, classmethod) and inspect.iscoroutinefunction(hook.__func__):
            coroutine_function = hook.__func__
            namespace["setUpClass"] = classmethod(lambda cls: asyncio.run(coroutine_function(cls)))
        return super().__new__(mcs, name, bases, namespace)


class AsyncClassFixturesCase(unittest.TestCase, metaclass=AwaitClassFixtures):
    pass
""",
        },
        note="A metaclass (in another file) that runs async class fixtures: a custom runner.",
    ),
)
