"""ATL202: `async def setUp`/`tearDown` in an `IsolatedAsyncioTestCase`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial

from ..analysis.model import ClassInfo, FunctionInfo
from ..analysis.semantics import ClassKind
from ..context import Context
from ..fixes.expressions import add_await
from ..model import Diagnostic, Edit, Fix, Safety
from ._lifecycle import (
    attribute_name_range,
    decorators_are_known_neutral,
    header_range,
    rename_edit,
    super_calls,
)
from .base import Invalid, Rule, Valid

RENAMES = {"setUp": "asyncSetUp", "tearDown": "asyncTearDown"}


class AsyncSetupInIsolatedTestcase(Rule):
    code = "ATL202"
    name = "async-setup-in-isolated-testcase"
    family = "T8"
    summary = "`async def setUp`/`tearDown` in an `IsolatedAsyncioTestCase` is never awaited"
    what = (
        "Finds `async def setUp` and `async def tearDown` defined on a class whose bases resolve "
        "to `unittest.IsolatedAsyncioTestCase` (through any import spelling, a local base class "
        "or a base class in another file of the project)."
    )
    why = (
        "`IsolatedAsyncioTestCase` calls `setUp()` and `tearDown()` as plain functions and awaits "
        "only `asyncSetUp()`, `asyncTearDown()`, the test and async cleanups. An `async def setUp` "
        "returns a coroutine that is dropped: the fixture it builds never exists (tests fail with "
        "an AttributeError far from the cause, or pass against state left by something else), and "
        "an `async def tearDown` silently skips its cleanup, leaking connections and files "
        "between tests."
    )
    versions = (
        "All versions with `IsolatedAsyncioTestCase` (3.8+): the body never runs; the only trace "
        "is *RuntimeWarning: coroutine 'UserTest.setUp' was never awaited*."
    )
    fix_notes = (
        "The method is renamed `asyncSetUp`/`asyncTearDown` (the hooks the runner awaits), "
        "and a `super().setUp()` inside becomes `await super().asyncSetUp()` so the chain of "
        "async hooks is kept and the base's sync `setUp` still runs exactly once (the runner calls "
        "it).\n\n"
        "No automatic fix: when the class already defines the async hook (merge the two bodies "
        "into `asyncSetUp`/`asyncTearDown` by hand), or when a decorator of unknown effect sits "
        "on the method (check what it wraps, then rename)."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        for cls in context.model.classes:
            if context.semantics.kind(cls) is not ClassKind.ISOLATED:
                continue
            for old, new in RENAMES.items():
                method = cls.methods.get(old)
                if method is None or not method.is_async or method.yields:
                    continue
                if not decorators_are_known_neutral(context.semantics, method):
                    continue
                message = (
                    f"async def {old} on {cls.name} (an IsolatedAsyncioTestCase) is never awaited: "
                    f"the runner only awaits {new}"
                )
                fix = None
                if new not in cls.methods:
                    fix = context.lazy_fix(
                        f"Rename {old} to {new}",
                        Safety.SAFE,
                        partial(rename_fix, context, cls, method, old, new),
                    )
                yield context.report(self, header_range(context, method), message, fix)


def rename_fix(
    context: Context, cls: ClassInfo, method: FunctionInfo, old: str, new: str
) -> Fix | None:
    """Rename `method` to the async hook; `super().<old>()` inside -> `await super().<new>()`."""
    rename = rename_edit(context, method, new)
    if rename is None:
        return None
    edits: list[Edit] = [rename]
    for call in super_calls(context.model, method, old):
        func = call.node.func
        if not isinstance(func, ast.Attribute):
            return None
        edits.append(Edit(attribute_name_range(context, func), new))
        if not call.awaited:
            edits.extend(add_await(context.model, call.node))
    return Fix(
        f"Rename {old} to {new}", Safety.SAFE, tuple(sorted(edits, key=lambda edit: edit.range))
    )


_TEXTBOOK = """\
import unittest


class Connection:
    async def open(self):
        self.is_open = True
        return self


class ConnectionTest(unittest.IsolatedAsyncioTestCase):
    async def setUp(self):
        self.connection = await Connection().open()

    async def test_open(self):
        self.assertTrue(self.connection.is_open)
"""

_TEXTBOOK_FIXED = """\
import unittest


class Connection:
    async def open(self):
        self.is_open = True
        return self


class ConnectionTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.connection = await Connection().open()

    async def test_open(self):
        self.assertTrue(self.connection.is_open)
"""

AsyncSetupInIsolatedTestcase.invalid = (
    Invalid(_TEXTBOOK, line=11, fixed=_TEXTBOOK_FIXED, runnable=True),
    Invalid(
        """\
from unittest import IsolatedAsyncioTestCase as IATC


class Store:
    def __init__(self):
        self.rows = [1]

    async def clear(self):
        self.rows.clear()


class StoreTest(IATC):
    def setUp(self):
        self.store = Store()

    async def tearDown(self):
        super().tearDown()
        await self.store.clear()

    async def test_rows(self):
        self.assertEqual(self.store.rows, [1])
""",
        line=16,
        fixed="""\
from unittest import IsolatedAsyncioTestCase as IATC


class Store:
    def __init__(self):
        self.rows = [1]

    async def clear(self):
        self.rows.clear()


class StoreTest(IATC):
    def setUp(self):
        self.store = Store()

    async def asyncTearDown(self):
        await super().asyncTearDown()
        await self.store.clear()

    async def test_rows(self):
        self.assertEqual(self.store.rows, [1])
""",
        runnable=True,
        note="`IsolatedAsyncioTestCase as IATC`; `super().tearDown()` becomes the async hook.",
    ),
    Invalid(
        """\
from tests.base import DatabaseTestCase


class QueryTest(DatabaseTestCase):
    async def setUp(self):
        await super().setUp()
        self.rows = await self.db.fetch("select 1")

    async def test_rows(self):
        self.assertEqual(self.rows, [1])
""",
        line=5,
        files={
            "tests/base.py": """\
import unittest


class FakeDatabase:
    async def fetch(self, query):
        return [1]


class DatabaseTestCase(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.db = FakeDatabase()
""",
        },
        fixed="""\
from tests.base import DatabaseTestCase


class QueryTest(DatabaseTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.rows = await self.db.fetch("select 1")

    async def test_rows(self):
        self.assertEqual(self.rows, [1])
""",
        runnable=True,
        note="The base is in another file; `await super().setUp()` was a guess.",
    ),
)

AsyncSetupInIsolatedTestcase.valid = (
    Valid(
        """\
import unittest


class ConnectionTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.events = []

    async def asyncSetUp(self):
        self.events.append("async")

    async def test_events(self):
        self.assertEqual(self.events, ["async"])
""",
        note="A sync `setUp` next to an `asyncSetUp`: both hooks are used as designed.",
    ),
    Valid(
        """\
from tests.harness import AwaitingHooksTestCase


class ViewTest(AwaitingHooksTestCase):
    async def setUp(self):
        self.ready = True

    async def test_view(self):
        self.assertTrue(self.ready)
""",
        files={
            "tests/harness.py": """\
import unittest


class AwaitingHooksTestCase(unittest.IsolatedAsyncioTestCase):
    def _callSetUp(self):
        self._callAsync(self.setUp)
""",
        },
        note="A base (in another file) overriding `_callSetUp`: the project awaits its own hooks.",
    ),
    Valid(
        """\
import unittest


class Helper:
    async def setUp(self):
        return "not a test hook"


class HelperTest(unittest.IsolatedAsyncioTestCase):
    async def test_helper(self):
        self.assertEqual(await Helper().setUp(), "not a test hook")
""",
        note="A method called `setUp` on a class that is not a test case.",
    ),
)
