"""ATL203: a sync `def asyncSetUp`/`asyncTearDown` in an `IsolatedAsyncioTestCase`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial

from ..analysis.model import FunctionInfo
from ..analysis.semantics import ClassKind
from ..analysis.summarize import loop_driving_call
from ..context import Context
from ..fixes.expressions import add_await
from ..model import Diagnostic, Edit, Fix, Safety, TextRange
from ._lifecycle import (
    decorators_are_known_neutral,
    def_keyword_position,
    header_range,
    super_calls,
)
from .base import Invalid, Rule, Valid

HOOKS = ("asyncSetUp", "asyncTearDown")


class SyncAsyncSetup(Rule):
    code = "ATL203"
    name = "sync-async-setup"
    family = "T8"
    summary = "`def asyncSetUp`/`asyncTearDown` without `async` breaks every test of the class"
    what = (
        "Finds `asyncSetUp` and `asyncTearDown` defined with a plain `def` on a class whose bases "
        "resolve to `unittest.IsolatedAsyncioTestCase` (through any import spelling, a local base "
        "class or a base class in another file of the project)."
    )
    why = (
        "The runner expects these hooks to be coroutine functions and asserts it. Every test of "
        "the class fails (or errors, for `asyncTearDown`) with an internal `AssertionError` from "
        "`unittest/async_case.py` that does not point at the missing `async` keyword."
    )
    versions = (
        "3.8: `AssertionError` (bare) after the hook's body ran. 3.9 and 3.10: the body runs, "
        "then *AssertionError: <bound method UserTest.asyncSetUp ...> returned non-awaitable*. "
        "3.11, 3.12 and 3.13: the body does not run at all: *AssertionError: <bound method "
        "UserTest.asyncSetUp ...> is not an async function* (a sync hook that returns "
        "`super().asyncSetUp()` therefore passes on 3.8-3.10 and fails from 3.11 on)."
    )
    fix_notes = (
        "The hook becomes `async def`, and a `super().asyncSetUp()` inside that was not "
        "awaited (its coroutine was dropped, or returned) is awaited.\n\n"
        "No automatic fix: when the body drives an event loop itself (`asyncio.run`, "
        "`run_until_complete` cannot run inside the runner's loop: await their arguments "
        "instead), returns another value (drop the return), or carries a decorator of unknown "
        "effect (check what it wraps)."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        for cls in context.model.classes:
            if context.semantics.kind(cls) is not ClassKind.ISOLATED:
                continue
            for hook in HOOKS:
                method = cls.methods.get(hook)
                if method is None or method.is_async or method.yields:
                    continue
                if not decorators_are_known_neutral(context.semantics, method):
                    continue
                if _is_static(context, method):
                    continue
                message = (
                    f"def {hook} on {cls.name} (an IsolatedAsyncioTestCase) is not async: "
                    "every test of the class fails with an AssertionError"
                )
                fix = context.lazy_fix(
                    f"Make {hook} async def",
                    Safety.SAFE,
                    partial(make_async_fix, context, method, hook),
                )
                yield context.report(self, header_range(context, method), message, fix)


def _is_static(context: Context, method: FunctionInfo) -> bool:
    for decorator in method.node.decorator_list:
        if context.model.qualified_name(decorator, method.parent_scope) in (
            "builtins.staticmethod",
            "builtins.classmethod",
        ):
            return True
    return False


def make_async_fix(context: Context, method: FunctionInfo, hook: str) -> Fix | None:
    position = def_keyword_position(context, method)
    if position is None or loop_driving_call(context.model, method) is not None:
        return None
    supers = super_calls(context.model, method, hook)
    allowed_returns = {id(call.node) for call in supers}
    for node in _own_nodes(method):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if (
                not (isinstance(value, ast.Constant) and value.value is None)
                and id(value) not in allowed_returns
            ):
                return None
    edits: list[Edit] = [Edit(TextRange(position, position), "async ")]
    for call in supers:
        if not call.awaited:
            edits.extend(add_await(context.model, call.node))
    return Fix(
        f"Make {hook} async def", Safety.SAFE, tuple(sorted(edits, key=lambda edit: edit.range))
    )


def _own_nodes(method: FunctionInfo) -> Iterator[ast.AST]:
    stack: list[ast.AST] = list(method.node.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))


_TEXTBOOK = """\
import unittest


class Cache:
    async def warm(self):
        return {"ready": True}


class CacheTest(unittest.IsolatedAsyncioTestCase):
    def asyncSetUp(self):
        self.cache = Cache()

    async def test_warm(self):
        self.assertEqual(await self.cache.warm(), {"ready": True})
"""

_TEXTBOOK_FIXED = """\
import unittest


class Cache:
    async def warm(self):
        return {"ready": True}


class CacheTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.cache = Cache()

    async def test_warm(self):
        self.assertEqual(await self.cache.warm(), {"ready": True})
"""

SyncAsyncSetup.invalid = (
    Invalid(_TEXTBOOK, line=10, fixed=_TEXTBOOK_FIXED, runnable=True),
    Invalid(
        """\
import unittest as ut


class SessionTest(ut.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.session = []

    def asyncTearDown(self):
        self.session.clear()
        return super().asyncTearDown()

    async def test_session(self):
        self.assertEqual(self.session, [])
""",
        line=8,
        fixed="""\
import unittest as ut


class SessionTest(ut.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.session = []

    async def asyncTearDown(self):
        self.session.clear()
        return await super().asyncTearDown()

    async def test_session(self):
        self.assertEqual(self.session, [])
""",
        runnable=True,
        note="Returning `super().asyncTearDown()` works on 3.8-3.10 and fails from 3.11 on.",
    ),
    Invalid(
        """\
from tests.base import ApiTestCase


class UsersTest(ApiTestCase):
    def asyncSetUp(self):
        super().asyncSetUp()
        self.users = ["ada"]

    async def test_users(self):
        self.assertEqual(self.users, ["ada"])
        self.assertTrue(self.api_ready)
""",
        line=5,
        files={
            "tests/base.py": """\
from unittest import IsolatedAsyncioTestCase


class ApiTestCase(IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.api_ready = True
""",
        },
        fixed="""\
from tests.base import ApiTestCase


class UsersTest(ApiTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.users = ["ada"]

    async def test_users(self):
        self.assertEqual(self.users, ["ada"])
        self.assertTrue(self.api_ready)
""",
        runnable=True,
        note="The base is in another file; the dropped `super().asyncSetUp()` is awaited.",
    ),
)

SyncAsyncSetup.valid = (
    Valid(
        """\
import unittest


class CacheTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.cache = {}

    async def asyncTearDown(self):
        self.cache.clear()

    async def test_cache(self):
        self.assertEqual(self.cache, {})
""",
        note="The hooks are coroutine functions, as the runner expects.",
    ),
    Valid(
        """\
import unittest


class Loader:
    def asyncSetUp(self):
        return "a method of an ordinary class"


class LoaderTest(unittest.TestCase):
    def test_loader(self):
        self.assertTrue(Loader().asyncSetUp())
""",
        note="A method called `asyncSetUp` on a class that is not a test case.",
    ),
    Valid(
        """\
import unittest

from tests.hooks import coroutine_hook


class HookTest(unittest.IsolatedAsyncioTestCase):
    @coroutine_hook
    def asyncSetUp(self):
        self.ready = True

    async def test_ready(self):
        self.assertTrue(self.ready)
""",
        note="A decorator of unknown effect (it may return a coroutine function).",
    ),
)
