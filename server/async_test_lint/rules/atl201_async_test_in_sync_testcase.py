"""ATL201: `async def test_*` (or `async def setUp`) on a plain `unittest.TestCase`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from ..analysis.model import ClassInfo, FunctionInfo
from ..analysis.semantics import ClassKind
from ..analysis.summary import ClassSummary
from ..context import Context
from ..fixes.convert import conversion_lazy_fix
from ..model import Diagnostic, LazyFix, Safety
from ._lifecycle import decorators_are_known_neutral, header_range, plural
from .base import Invalid, Rule, Valid

_LIFECYCLE = frozenset({"setUp", "tearDown"})
_MIXIN_KINDS = (ClassKind.NOT_A_TEST, ClassKind.PYTEST_STYLE)
_MAX_DEPTH = 30


def _runs_as_test_or_lifecycle(name: str) -> bool:
    return name.startswith("test") or name in _LIFECYCLE


@dataclass
class _Inherited:
    """Async tests (or lifecycle hooks) a plain TestCase gets from a mixin base."""

    base: ast.expr
    base_name: str
    methods: list[str]


class AsyncTestInSyncTestcase(Rule):
    code = "ATL201"
    name = "async-test-in-sync-testcase"
    family = "T3"
    summary = "`async def test_*` on a plain `unittest.TestCase` never runs"
    what = (
        "Finds `async def` test methods (and `async def setUp`/`tearDown`) on a class whose bases "
        "resolve to `unittest.TestCase` but not to `IsolatedAsyncioTestCase` or a framework case "
        "that runs coroutines (Django's `SimpleTestCase` family, `AioHTTPTestCase`, tornado's "
        "`AsyncTestCase`, twisted trial, asynctest): written on the class itself (through any "
        "import spelling, under `@patch` decorators), on a local base class, or inherited from a "
        "mixin defined here or in another file of the project."
    )
    why = (
        "`unittest.TestCase` calls a test method and ignores what it returns. An `async def` test "
        "returns a coroutine object, which is dropped without being awaited: none of the test's "
        "body runs, no assertion is checked, and the test is reported as passed. An `async def "
        "setUp`/`tearDown` is called the same way, so the fixture it was meant to build never "
        "exists (tests that depend on it then fail with confusing AttributeErrors, or pass "
        "against stale state)."
    )
    versions = (
        "All versions. On 3.8-3.13 the only trace is a *RuntimeWarning: coroutine "
        "'UserTest.test_fetch' was never awaited* when the coroutine is garbage-collected (often "
        "hidden by test runners' warning capture). Python 3.11+ also emit *DeprecationWarning: It "
        "is deprecated to return a value that is not None from a test case*; 3.10 and earlier "
        "print nothing else. The test passes everywhere."
    )
    fix_notes = (
        "The class becomes an `IsolatedAsyncioTestCase` (a literal `TestCase` base is "
        "replaced, another base gets `IsolatedAsyncioTestCase` in front of it), `async def "
        "setUp`/`tearDown` become `asyncSetUp`/`asyncTearDown` and a `super().setUp()` inside "
        "becomes `await super().asyncSetUp()`. The test bodies then really run, on a fresh event "
        "loop per test: tests that passed vacuously may now fail, which is the point.\n\n"
        "No automatic fix: when the target Python is below 3.8 (no `IsolatedAsyncioTestCase`: "
        "run each coroutine on a loop made in `setUp` and closed in `tearDown`), when the class "
        "already has an `asyncSetUp` next to an `async def setUp` (merge the two by hand), when "
        "an async `setUp` comes from a mixin (make the mixin's hook `asyncSetUp`), or when a "
        "method that cannot become `async def` (`setUpClass`, `__init__`, a property) would have "
        "to await (move that work into `asyncSetUp`)."
    )
    fix_safety = Safety.UNSAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        abstract = _abstract_bases(context)
        for cls in context.model.classes:
            if context.semantics.kind(cls) is not ClassKind.PLAIN_TESTCASE:
                continue
            if cls.qualname in abstract:
                continue
            own = [
                method for method in cls.methods.values() if self._is_async_test(context, method)
            ]
            inherited = _inherited_async_methods(context, cls)
            if not own and not inherited:
                continue
            fixable = context.target >= (3, 8) and not any(
                name in _LIFECYCLE for group in inherited for name in group.methods
            )
            where = f"on {cls.name} (a plain unittest.TestCase)"
            for method in own:
                if method.name in _LIFECYCLE:
                    message = (
                        f"async def {method.name} {where} is never awaited: its body never runs"
                    )
                else:
                    message = f"async def {method.name} {where} never runs"
                yield context.report(
                    self, header_range(context, method), message, _fix(context, cls, fixable)
                )
            for group in inherited:
                names = ", ".join(group.methods)
                verb = plural(len(group.methods), "never runs", "never run")
                message = f"async def {names} from {group.base_name} {where} {verb}"
                yield context.report(self, group.base, message, _fix(context, cls, fixable))

    @staticmethod
    def _is_async_test(context: Context, method: FunctionInfo) -> bool:
        return (
            method.is_async
            and _runs_as_test_or_lifecycle(method.name)
            and decorators_are_known_neutral(context.semantics, method)
            and not method.yields
        )


def _abstract_bases(context: Context) -> set[str]:
    """Local classes meant only as bases: deleted at module level (`del BaseTests`), or mixed
    into a class that runs coroutines (`class Impl(BaseTests, IsolatedAsyncioTestCase)`)."""
    model = context.model
    found: set[str] = set()
    for statement in model.tree.body:
        if isinstance(statement, ast.Delete):
            found.update(target.id for target in statement.targets if isinstance(target, ast.Name))
    prefix = f"{model.module_name}."
    for cls in model.classes:
        if context.semantics.kind(cls) is ClassKind.PLAIN_TESTCASE:
            continue
        for base in context.semantics.class_summary(cls).bases:
            if base is not None and base.startswith(prefix):
                found.add(base[len(prefix) :])
    return found


def _fix(context: Context, cls: ClassInfo, fixable: bool) -> LazyFix | None:
    if not fixable:
        return None
    return conversion_lazy_fix(context, cls, base_only=True)


def _inherited_async_methods(context: Context, cls: ClassInfo) -> list[_Inherited]:
    """Async tests the class gets from mixin bases (bases that are not test cases themselves:
    a test-case base reports its own methods where it is defined)."""
    semantics = context.semantics
    own_summary = semantics.class_summary(cls)
    found: list[_Inherited] = []
    for base in cls.node.bases:
        expr = base.value if isinstance(base, ast.Subscript) else base
        qualified = context.model.qualified_name(expr, cls.parent_scope)
        if qualified is None or semantics.kind_of_name(qualified) not in _MIXIN_KINDS:
            continue
        summary = semantics.find_class(qualified)
        if summary is None:
            continue
        names = []
        for name, function in _async_methods_along(context, summary, 0):
            if name in cls.methods or name in names:
                continue
            if (
                semantics.find_method(own_summary, name) is function
            ):  # not shadowed earlier in the MRO
                names.append(name)
        if names:
            found.append(_Inherited(base, qualified.rpartition(".")[2], names))
    return found


def _async_methods_along(
    context: Context, summary: ClassSummary, depth: int
) -> Iterator[tuple[str, object]]:
    if depth > _MAX_DEPTH:
        return
    for name, function in summary.methods.items():
        if (
            function.is_async
            and not getattr(function, "is_async_generator", False)
            and not function.runs_coroutines
            and _runs_as_test_or_lifecycle(name)
        ):
            yield name, function
    for base in summary.bases:
        if base is None or context.semantics.kind_of_name(base) not in _MIXIN_KINDS:
            continue
        base_summary = context.semantics.find_class(base)
        if base_summary is not None:
            yield from _async_methods_along(context, base_summary, depth + 1)


_TEXTBOOK = """\
import unittest


async def fetch_user(user_id):
    return {"id": user_id}


class UserTest(unittest.TestCase):
    async def test_fetch(self):
        user = await fetch_user(1)
        self.assertEqual(user["id"], 1)
"""

_TEXTBOOK_FIXED = """\
import unittest


async def fetch_user(user_id):
    return {"id": user_id}


class UserTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        user = await fetch_user(1)
        self.assertEqual(user["id"], 1)
"""

_SERVICE = """\
async def fetch():
    return 0


class Service:
    async def call(self):
        return await fetch()
"""

_CLIENT = """\
class Client:
    async def fetch(self, user_id):
        return {"id": user_id}
"""

AsyncTestInSyncTestcase.invalid = (
    Invalid(_TEXTBOOK, line=9, fixed=_TEXTBOOK_FIXED, runnable=True),
    Invalid(
        """\
import unittest as ut
from unittest import mock as m

from app import service


class ServiceTest(ut.TestCase):
    async def setUp(self):
        super().setUp()
        self.service = service.Service()

    @m.patch("app.service.fetch")
    async def test_call(self, fetch):
        fetch.return_value = 1
        self.assertEqual(await self.service.call(), 1)
""",
        line=8,
        count=2,
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        fixed="""\
import unittest as ut
from unittest import mock as m

from app import service


class ServiceTest(ut.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.service = service.Service()

    @m.patch("app.service.fetch")
    async def test_call(self, fetch):
        fetch.return_value = 1
        self.assertEqual(await self.service.call(), 1)
""",
        runnable=True,
        note="`import unittest as ut`, an `async def setUp`, and a test under `@mock.patch`.",
    ),
    Invalid(
        """\
from unittest import TestCase as TC

from app.client import Client
from tests.contracts import FetchContract


class ClientTest(FetchContract, TC):
    def setUp(self):
        self.client = Client()
""",
        line=7,
        files={
            "app/__init__.py": "",
            "app/client.py": _CLIENT,
            "tests/contracts.py": """\
class FetchContract:
    async def test_fetch_returns_the_user(self):
        user = await self.client.fetch(1)
        self.assertEqual(user["id"], 1)
""",
        },
        fixed="""\
from unittest import TestCase as TC, IsolatedAsyncioTestCase

from app.client import Client
from tests.contracts import FetchContract


class ClientTest(FetchContract, IsolatedAsyncioTestCase):
    def setUp(self):
        self.client = Client()
""",
        runnable=True,
        note="The async test comes from a mixin defined in another file.",
    ),
    Invalid(
        """\
import unittest


class APITestCase(unittest.TestCase):
    base_url = "http://testserver"


class HealthTest(APITestCase):
    async def test_health(self):
        self.assertTrue(self.base_url.startswith("http"))
""",
        line=9,
        fixed="""\
import unittest


class APITestCase(unittest.TestCase):
    base_url = "http://testserver"


class HealthTest(unittest.IsolatedAsyncioTestCase, APITestCase):
    async def test_health(self):
        self.assertTrue(self.base_url.startswith("http"))
""",
        runnable=True,
        note="A local base class: `IsolatedAsyncioTestCase` goes in front of it.",
    ),
    Invalid(
        """\
import unittest


class CacheTest(unittest.TestCase):
    async def tearDown(self):
        await self.cache.clear()

    def test_put(self):
        self.cache = {}
""",
        line=5,
        target_version=(3, 7),
        note="Target Python 3.7: no `IsolatedAsyncioTestCase`, so no automatic fix.",
    ),
)

AsyncTestInSyncTestcase.valid = (
    Valid(
        """\
import unittest


class StorageContract(unittest.TestCase):
    async def test_roundtrip(self):
        await self.storage.put("k", 1)
        self.assertEqual(await self.storage.get("k"), 1)


class MemoryStorageTest(StorageContract, unittest.IsolatedAsyncioTestCase):
    pass


del StorageContract
""",
        note="An abstract base, mixed into an IsolatedAsyncioTestCase and deleted from the module.",
    ),
    Valid(
        """\
from django.test import SimpleTestCase


class HomeViewTest(SimpleTestCase):
    async def test_home(self):
        response = await self.async_client.get("/")
        self.assertEqual(response.status_code, 200)
""",
        note="Django's test cases run `async def` tests themselves.",
    ),
    Valid(
        """\
from tests.harness import AsyncRunnerTestCase


class PingTest(AsyncRunnerTestCase):
    async def test_ping(self):
        self.assertTrue(True)
""",
        files={
            "tests/harness.py": """\
import asyncio
import inspect
import unittest


class AsyncRunnerTestCase(unittest.TestCase):
    def _callTestMethod(self, method):
        result = method()
        if inspect.iscoroutine(result):
            asyncio.run(result)
""",
        },
        note="A project base in another file overrides `_callTestMethod`: it runs the coroutines.",
    ),
    Valid(
        """\
import unittest

from asgiref.sync import async_to_sync


class SyncWrappedTest(unittest.TestCase):
    @async_to_sync
    async def test_wrapped(self):
        self.assertTrue(True)
""",
        note="A decorator that turns the coroutine function into a sync callable.",
    ),
    Valid(
        """\
import unittest

from helpers import run_in_loop


class WrappedTest(unittest.TestCase):
    @run_in_loop
    async def test_wrapped(self):
        self.assertTrue(True)
""",
        note="An unresolvable decorator: it may run the coroutine, so the rule stays silent.",
    ),
    Valid(
        """\
class TestFetch:
    async def test_fetch(self):
        assert True
""",
        note="A pytest-style class: pytest-asyncio (or anyio) runs its coroutine tests.",
    ),
    Valid(
        """\
import unittest


class UserTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.user = {"id": 1}

    async def test_fetch(self):
        self.assertEqual(self.user["id"], 1)
""",
        note="The async-aware base: every coroutine test is awaited.",
    ),
)
