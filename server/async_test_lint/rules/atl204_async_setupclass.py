"""ATL204: `async def setUpClass`/`tearDownClass` (and `setUpModule`/`tearDownModule`)."""

from __future__ import annotations

from collections.abc import Iterator

from ..analysis.model import FunctionInfo
from ..analysis.semantics import ClassKind
from ..context import Context
from ..model import Diagnostic
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
        "No automatic fix: there is no async class-level hook to rename to, and each way out "
        "changes what is shared. Per-test setup in `asyncSetUp`/`asyncTearDown` is the usual "
        "answer for `IsolatedAsyncioTestCase`, which gives every test a fresh event loop: a "
        "connection, lock, queue or task made once per class would be bound to a loop that is "
        "gone by the next test (see ATL-T10). Data that does not hold on to a loop (a parsed "
        "schema, generated files, a started subprocess) can be built in a sync `setUpClass` that "
        "runs its coroutine on a loop it owns and closes (`asyncio.run(...)`), before any test's "
        "loop exists."
    )
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
            for hook in CLASS_HOOKS:
                method = cls.methods.get(hook)
                if method is None or not _is_plain_coroutine_function(context, method):
                    continue
                message = (
                    f"async def {hook} on {cls.name} ({kind.value}) is never awaited: unittest "
                    "calls it synchronously, so its body never runs"
                )
                yield context.report(self, header_range(context, method), message)
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


def _is_plain_coroutine_function(context: Context, function: FunctionInfo) -> bool:
    return (
        function.is_async
        and not function.yields
        and decorators_are_known_neutral(context.semantics, function)
    )


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
        note="A plain TestCase imported as `TC`: the bucket is never deleted.",
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
        note="Module-level fixtures and a base class in another file.",
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
