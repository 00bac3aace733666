"""ATL206: `self.enterContext()` (or the class/module variants) of an async context manager."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial

from ..analysis.model import CallSite, ClassInfo
from ..analysis.names import NEUTRAL_BASES
from ..analysis.semantics import ClassKind
from ..analysis.summary import ClassSummary
from ..context import Context
from ..fixes.expressions import add_await
from ..model import Diagnostic, Edit, Fix, Safety
from ._lifecycle import attribute_name_range, call_site
from .base import Invalid, Rule, Valid

#: Library factories whose result has `__aenter__` and no `__enter__`.
ASYNC_ONLY_CONTEXT_MANAGERS = frozenset(
    {
        "contextlib.AsyncExitStack",
        "contextlib.aclosing",
        "asyncio.timeout",
        "asyncio.timeout_at",
        "asyncio.TaskGroup",
    }
)
_ASYNC_ONLY_BASES = frozenset({"contextlib.AbstractAsyncContextManager"})
_MODULE_ENTER = "unittest.enterModuleContext"
_TEST_KINDS = (ClassKind.PLAIN_TESTCASE, ClassKind.ISOLATED)
_ADVICE = {"enterContext": "use await self.enterAsyncContext()"}
_MAX_DEPTH = 30


class EnterContextAsyncCm(Rule):
    code = "ATL206"
    name = "enter-context-async-cm"
    family = "T8"
    summary = (
        "`enterContext()` of an async context manager raises TypeError: use `enterAsyncContext`"
    )
    what = (
        "Finds `self.enterContext(cm)` in a unittest test case (and `cls.enterClassContext(cm)`, "
        "`unittest.enterModuleContext(cm)`) where `cm` is an async-only context manager: an "
        "instance of a project class with `__aenter__` and no `__enter__` (also through its "
        "bases), the result of a function decorated with `contextlib.asynccontextmanager`, or "
        "`contextlib.AsyncExitStack()`, `contextlib.aclosing()`, `asyncio.timeout()`, "
        "`asyncio.TaskGroup()`; passed directly, through a local name or a `self.` attribute "
        "assigned once in the class."
    )
    why = (
        "`enterContext` enters a context manager with `__enter__` and registers its `__exit__` "
        "as a cleanup. An async context manager has neither, so the call raises *TypeError: "
        "'app.db.Connection' object does not support the context manager protocol* and the "
        "test errors before it starts; for an `asynccontextmanager` function the message names "
        "`contextlib._AsyncGeneratorContextManager`, which hides where it came from. "
        "`IsolatedAsyncioTestCase.enterAsyncContext` is the async twin: it awaits `__aenter__` "
        "and registers `__aexit__` as an async cleanup."
    )
    versions = (
        "`enterContext`, `enterClassContext`, `enterModuleContext` and `enterAsyncContext` "
        "exist from Python 3.11 on (before that the call itself is an AttributeError). On "
        "3.11-3.13 the call raises the TypeError above. There is no async variant of "
        "`enterClassContext` or `enterModuleContext`."
    )
    fix_notes = (
        "`self.enterContext(cm)` becomes `await self.enterAsyncContext(cm)`. Offered only "
        "in an `async def` of an `IsolatedAsyncioTestCase` (`enterAsyncContext` must be awaited "
        "and exists only there) and when the target Python is 3.11 or newer (it does not exist "
        "before).\n\n"
        "No automatic fix: in a sync method, a plain `TestCase` or for class/module contexts, "
        "enter the context in `asyncSetUp` instead (converting the class first if needed); "
        "below 3.11, `value = await cm.__aenter__()` then "
        "`self.addAsyncCleanup(cm.__aexit__, None, None, None)`."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        for site in context.model.calls_named(
            "enterContext", "enterClassContext", "enterModuleContext"
        ):
            if (
                len(site.node.args) != 1
                or site.node.keywords
                or isinstance(site.node.args[0], ast.Starred)
            ):
                continue
            where = self._where(context, site)
            if where is None:
                continue
            argument = site.node.args[0]
            if not _is_async_only_cm(context, argument, site):
                continue
            func = site.node.func
            api = func.attr if isinstance(func, ast.Attribute) else "enterModuleContext"
            message = (
                f"{api}() of the async context manager {context.source_of(argument)} {where} "
                f"raises TypeError: {_ADVICE.get(api, 'enter it in asyncSetUp')}"
            )
            fix = None
            if self._fixable(context, site):
                fix = context.lazy_fix(
                    "Use await self.enterAsyncContext()",
                    Safety.SAFE,
                    partial(_fix, context, site),
                )
            yield context.report(self, site.node, message, fix)

    @staticmethod
    def _where(context: Context, site: CallSite) -> str | None:
        func = site.node.func
        if isinstance(func, ast.Attribute) and func.attr in ("enterContext", "enterClassContext"):
            cls = _class_of_receiver_call(context, site)
            if cls is None:
                return None
            kind = context.semantics.kind(cls)
            return f"in {cls.name} ({kind.value})" if kind in _TEST_KINDS else None
        if context.model.callee_name(site) == _MODULE_ENTER:
            return "at module level"
        return None

    @staticmethod
    def _fixable(context: Context, site: CallSite) -> bool:
        func = site.node.func
        if (
            context.target < (3, 11)
            or not isinstance(func, ast.Attribute)
            or func.attr != "enterContext"
        ):
            return False
        function = site.function
        if function is None or not function.is_async or site.scope is not function.scope:
            return False
        cls = _class_of_receiver_call(context, site)
        return cls is not None and context.semantics.kind(cls) is ClassKind.ISOLATED


def _class_of_receiver_call(context: Context, site: CallSite) -> ClassInfo | None:
    """The test class when `site` is `self.<method>(...)` (or `cls.`) on the method's receiver."""
    func = site.node.func
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
        return None
    return _class_of_receiver(context, func.value, site)


def _class_of_receiver(context: Context, name: ast.Name, site: CallSite) -> ClassInfo | None:
    """The class of the method `site` is in, when `name` is that method's `self` (or `cls`)."""
    if site.function is None:
        return None
    method = site.function.enclosing_method()
    if method is None or method.cls is None:
        return None
    if name.id != context.semantics.receiver(site.function):
        return None
    bindings = context.model.lookup(name.id, site.scope)
    if not bindings or any(binding.kind != "param" for binding in bindings):
        return None
    return method.cls


def _is_async_only_cm(context: Context, expr: ast.expr, site: CallSite, depth: int = 0) -> bool:
    model = context.model
    if depth > 3:
        return False
    if isinstance(expr, ast.Name):
        binding = model.resolve_binding(expr.id, site.scope)
        if binding is None or binding.kind != "assign" or not isinstance(binding.node, ast.Call):
            return False
        return _is_async_only_cm(context, binding.node, site, depth + 1)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        # `self.stack`, assigned once in the class: `self.stack = contextlib.AsyncExitStack()`
        owner = _class_of_receiver(context, expr.value, site)
        value = None if owner is None else context.semantics.self_attribute_value(owner, expr.attr)
        if not isinstance(value, ast.Call):
            return False
        return _is_async_only_cm(context, value, site, depth + 1)
    if not isinstance(expr, ast.Call):
        return False
    name = model.qualified_name(expr.func, site.scope)
    if name in ASYNC_ONLY_CONTEXT_MANAGERS:
        return True
    if name is not None:
        cls = context.semantics.find_class(name)
        if cls is not None:
            return _class_is_async_only(context, cls)
    inner = call_site(model, expr)
    if inner is None:
        return False
    called = context.semantics.called_function(inner)
    return called is not None and called.is_async_context_manager


def _class_is_async_only(context: Context, summary: ClassSummary) -> bool:
    """`__aenter__` somewhere along the bases and `__enter__` nowhere; every base known."""
    has_aenter = False
    pending: list[tuple[ClassSummary, int]] = [(summary, 0)]
    while pending:
        current, depth = pending.pop()
        if depth > _MAX_DEPTH or "__enter__" in current.methods:
            return False
        has_aenter = has_aenter or "__aenter__" in current.methods
        for base in current.bases:
            if base is None:
                return False
            if base in _ASYNC_ONLY_BASES:
                has_aenter = True
                continue
            if base in NEUTRAL_BASES:
                continue
            found = context.semantics.find_class(base)
            if found is None:
                return False
            pending.append((found, depth + 1))
    return has_aenter


def _fix(context: Context, site: CallSite) -> Fix | None:
    func = site.node.func
    if not isinstance(func, ast.Attribute):
        return None
    edits: list[Edit] = [Edit(attribute_name_range(context, func), "enterAsyncContext")]
    if not site.awaited:
        edits.extend(add_await(context.model, site.node))
    return Fix(
        "Use await self.enterAsyncContext()",
        Safety.SAFE,
        tuple(sorted(edits, key=lambda edit: edit.range)),
    )


_TEXTBOOK = """\
import unittest


class Connection:
    async def __aenter__(self):
        self.open = True
        return self

    async def __aexit__(self, *exc_info):
        self.open = False


class ConnectionTest(unittest.IsolatedAsyncioTestCase):
    async def test_open(self):
        connection = self.enterContext(Connection())
        self.assertTrue(connection.open)
"""

_TEXTBOOK_FIXED = """\
import unittest


class Connection:
    async def __aenter__(self):
        self.open = True
        return self

    async def __aexit__(self, *exc_info):
        self.open = False


class ConnectionTest(unittest.IsolatedAsyncioTestCase):
    async def test_open(self):
        connection = await self.enterAsyncContext(Connection())
        self.assertTrue(connection.open)
"""

_DB = """\
import contextlib


@contextlib.asynccontextmanager
async def transaction():
    yield {"open": True}
"""

EnterContextAsyncCm.invalid = (
    Invalid(_TEXTBOOK, line=15, fixed=_TEXTBOOK_FIXED, target_version=(3, 11), runnable=True),
    Invalid(
        """\
from unittest import IsolatedAsyncioTestCase as IATC

from app.db import transaction


class TransactionTest(IATC):
    async def asyncSetUp(self):
        tx = transaction()
        self.tx = self.enterContext(tx)

    async def test_open(self):
        self.assertTrue(self.tx["open"])
""",
        line=9,
        target_version=(3, 12),
        files={"app/__init__.py": "", "app/db.py": _DB},
        fixed="""\
from unittest import IsolatedAsyncioTestCase as IATC

from app.db import transaction


class TransactionTest(IATC):
    async def asyncSetUp(self):
        tx = transaction()
        self.tx = await self.enterAsyncContext(tx)

    async def test_open(self):
        self.assertTrue(self.tx["open"])
""",
        runnable=True,
        note="An `asynccontextmanager` function of another file, through a local name.",
    ),
    Invalid(
        """\
import unittest
from contextlib import AsyncExitStack as AES


class StackTest(unittest.IsolatedAsyncioTestCase):
    async def test_stack(self):
        stack = self.enterContext(AES())
        self.assertIsNotNone(stack)
""",
        line=7,
        note=(
            "Default target Python 3.9: `enterAsyncContext` does not exist there, so no fix is "
            "offered (the call fails on 3.11+, where `enterContext` exists)."
        ),
    ),
    Invalid(
        """\
import unittest as ut

from tests.resources import Server


class ServerTest(ut.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = cls.enterClassContext(Server())

    def test_server(self):
        self.assertIsNotNone(self.server)
""",
        line=9,
        target_version=(3, 11),
        files={
            "tests/resources.py": """\
import contextlib


class Resource(contextlib.AbstractAsyncContextManager):
    async def __aexit__(self, *exc_info):
        return None


class Server(Resource):
    pass
""",
        },
        note="`enterClassContext` of a class that is async-only through its bases: no fix.",
    ),
)

EnterContextAsyncCm.valid = (
    Valid(
        """\
import unittest


class Connection:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        return None


class ConnectionTest(unittest.IsolatedAsyncioTestCase):
    async def test_open(self):
        connection = await self.enterAsyncContext(Connection())
        self.assertIsNotNone(connection)
""",
        target_version=(3, 11),
        note="The async twin, awaited.",
    ),
    Valid(
        """\
import contextlib
import tempfile
import unittest


class Both:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        return None


class FilesTest(unittest.TestCase):
    def test_files(self):
        self.enterContext(tempfile.TemporaryDirectory())
        self.enterContext(contextlib.ExitStack())
        self.enterContext(Both())
""",
        target_version=(3, 11),
        note="Sync context managers, and a class that supports both protocols.",
    ),
    Valid(
        """\
import unittest

from vendor.sessions import open_session


class SessionTest(unittest.IsolatedAsyncioTestCase):
    async def test_session(self):
        session = self.enterContext(open_session())
        self.assertIsNotNone(session)
""",
        target_version=(3, 11),
        note="A factory that cannot be resolved: it may return a sync context manager.",
    ),
)
