"""ATL105: `asyncio.get_event_loop()` in sync test code, where no loop is running."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..analysis.coroutines import enclosing_statement
from ..analysis.harness import runs_under_loop_fixture
from ..analysis.model import CallSite, ClassInfo, FunctionInfo, Scope, decorator_name
from ..analysis.names import NEW_EVENT_LOOP, SET_EVENT_LOOP, is_test_path
from ..analysis.semantics import ClassKind
from ..analysis.summarize import (
    COROUTINE_RUNNING_DECORATORS,
    NEUTRAL_FUNCTION_DECORATORS,
)
from ..context import Context
from ..fixes.imports import reference
from ..model import Diagnostic, Edit, Fix, LazyFix, Safety
from ._loops import (
    CLASS_LIFECYCLE,
    DESCRIPTIONS,
    GET,
    POLICY_GET,
    TEST_LIFECYCLE,
    class_family,
    is_self_attribute,
    is_test_name,
    loop_factory,
    reachable_sync_methods,
    self_calls,
    statement_line_insertion,
    unmanaged_origin_nodes,
)
from .base import Invalid, Rule, Valid

#: Fixtures (pytest-asyncio's deprecated `event_loop`, aiohttp's `loop`, tornado's `io_loop`)
#: that make a loop current for the test that requests them.
_LOOP_SETTING_FIXTURES = frozenset({"event_loop", "loop", "io_loop"})


class GetEventLoopInSyncTest(Rule):
    code = "ATL105"
    name = "get-event-loop-without-running-loop"
    family = "T12"
    summary = "`asyncio.get_event_loop()` in sync test code, where no event loop is running"
    what = (
        "Finds `asyncio.get_event_loop()` and `asyncio.get_event_loop_policy().get_event_loop()` "
        "(any import spelling) in code that runs with no event loop: sync test methods, "
        "`setUp`/`tearDown`/`setUpClass`/`tearDownClass` and the sync helpers they call in a "
        "plain `unittest.TestCase`, and sync pytest tests and fixtures of a test module. Not "
        "reported: coroutines (a loop runs there), `IsolatedAsyncioTestCase` (its runner makes "
        "its loop current around sync tests too), a class or module that makes a loop current "
        "with `asyncio.set_event_loop(loop)`, tests that request a loop-setting fixture "
        "(`event_loop`, `loop`, `io_loop`), sync pytest tests and fixtures that depend on an "
        "async fixture (directly, through other fixtures, `usefixtures`, or an autouse fixture "
        "of the class, the module or any `conftest.py` up the tree: pytest-asyncio runs it on a "
        "runner whose loop is current while they run) or on a sync fixture that makes its own "
        "loop current with `set_event_loop()`, and a loop handed to "
        "`run_until_complete()` in a "
        "plain TestCase (ATL102 reports that), and a probe in a `try` whose handler catches "
        "`RuntimeError` (or `Exception`) and swallows it: the code handles *no current event "
        "loop*."
    )
    why = (
        "With no running loop and none set, `get_event_loop()` falls back to creating a loop "
        "and making it current: an implicit loop that nobody closes and that every later test "
        "of the process shares. This fallback is deprecated; the same test code warns on newer "
        "Pythons and then fails. After a test that used `asyncio.run()` (which leaves no current "
        "loop), it already raises *RuntimeError: There is no current event loop*, so the "
        "failure depends on test order."
    )
    versions = (
        "Up to 3.9, and 3.10-3.11 from 3.10.9/3.11.1 on: silent (earlier 3.10 and 3.11 releases "
        "warned). 3.12 and 3.13: `DeprecationWarning: There "
        "is no current event loop` (an error under `-W error`). 3.14: `RuntimeError`. "
        "`get_event_loop_policy().get_event_loop()` warns the same on 3.12-3.13."
    )
    fix_notes = (
        "Unsafe: in a plain TestCase, `loop = asyncio.get_event_loop()` (or `self.loop = ...`) "
        "becomes `asyncio.new_event_loop()`, owned by the test and closed by a "
        "`self.addCleanup(loop.close)` inserted after it (`cls.addClassCleanup` in "
        "`setUpClass`, target 3.8+). The new loop is not made current: code that still relies "
        "on the current loop (another `get_event_loop()`, `asyncio.Future()` or a library "
        "object built without an explicit loop, often inside the code under test) now gets a "
        "different loop, which a linter cannot rule out. Where a coroutine is available, "
        "`asyncio.get_running_loop()` inside it is the other cure. Other spellings (the call "
        "used inline, pytest functions) get no automatic fix."
    )
    fix_safety = Safety.UNSAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model = context.model
        if not model.calls_by_name.get("get_event_loop"):
            return
        reported_elsewhere = unmanaged_origin_nodes(context)
        module_sets_loop = _sets_current_loop(
            context,
            [
                call
                for call in model.calls
                if call.function is None or call.function.name == "setUpModule"
            ],
        )
        if module_sets_loop:
            return
        for call in model.calls_named("get_event_loop"):
            kind = loop_factory(context, call.node, call.scope)
            if kind not in (GET, POLICY_GET) or id(call.node) in reported_elsewhere:
                continue
            function = call.function
            if function is None or function.is_async or call.scope is not function.scope:
                continue
            if context.semantics.manages_loop_state(function):
                continue  # restores the loop policy itself
            where = self._where(context, function)
            if where is None or _expects_the_warning(context, call.node, function):
                continue
            if _probes_for_a_current_loop(context, call.node):
                continue
            message = f"{DESCRIPTIONS[kind]} in {where}, where no event loop is running"
            fix = None
            if (
                function.cls is not None
                and context.semantics.kind(function.cls) is ClassKind.PLAIN_TESTCASE
            ):
                fix = self._fix(context, function, call)
            yield context.report(self, call.node, message, fix)

    def _where(self, context: Context, function: FunctionInfo) -> str | None:
        """Where `function` runs as sync test code, or None."""
        cls = function.cls
        if _uses_loop_fixture(context, function.node.decorator_list, function.parent_scope):
            return None
        if cls is not None:
            if _uses_loop_fixture(context, cls.node.decorator_list, cls.parent_scope):
                return None
            kind = context.semantics.kind(cls)
            if kind is ClassKind.PLAIN_TESTCASE:
                if not _unittest_sync_code(context, cls, function) or _class_sets_loop(
                    context, cls
                ):
                    return None
                return f"{function.name} of {cls.name} (a plain unittest.TestCase)"
            if kind is ClassKind.PYTEST_STYLE and _pytest_function(context, function):
                return f"{function.name} of {cls.name} (a pytest test class)"
            return None
        module_level = (
            function.parent is None and function.parent_scope is context.model.module_scope
        )
        if module_level and _pytest_function(context, function):
            fixture = function.name in context.semantics.summary.fixtures
            return f"{'fixture' if fixture else 'test'} {function.name}"
        return None

    def _fix(self, context: Context, function: FunctionInfo, call: CallSite) -> LazyFix | None:
        if function.name in ("tearDown", "tearDownClass"):
            return None
        statement = context.model.parent(call.node)
        if not (
            isinstance(statement, ast.Assign)
            and statement.value is call.node
            and len(statement.targets) == 1
        ):
            return None
        receiver = function.receiver
        if receiver is None:
            return None
        target = statement.targets[0]
        if isinstance(target, ast.Name):
            loop_text = target.id
        else:
            attribute = is_self_attribute(target, function)
            if attribute is None:
                return None
            loop_text = f"{receiver}.{attribute}"
        class_level = function.name == "setUpClass"
        if class_level and context.target < (3, 8):
            return None
        if function.node.decorator_list and not class_level:
            return None
        register = "addClassCleanup" if class_level else "addCleanup"
        cleanup = f"{receiver}.{register}({loop_text}.close)"
        title = f"Use a new loop owned by {function.name}, closed by {register}"
        node = call.node
        return context.lazy_fix(
            title, Safety.UNSAFE, lambda: _new_loop_fix(context, node, statement, cleanup, title)
        )


def _new_loop_fix(
    context: Context, call: ast.Call, statement: ast.stmt, cleanup: str, title: str
) -> Fix | None:
    factory = reference(context.model, NEW_EVENT_LOOP)
    insertion = statement_line_insertion(context, statement, cleanup)
    if factory is None or insertion is None:
        return None
    replace = Edit(context.parsed.node_range(call), f"{factory.text}()")
    edits = sorted(
        [*factory.edits, replace, insertion], key=lambda edit: (edit.range.start, edit.range.end)
    )
    return Fix(title, Safety.UNSAFE, tuple(edits))


def _unittest_sync_code(context: Context, cls: ClassInfo, function: FunctionInfo) -> bool:
    """A sync test, lifecycle method or helper of `cls` that runs with no loop running."""
    if not _plain_decorators(context, function):
        return False  # an unknown decorator may run it inside a loop
    name = function.name
    if is_test_name(name) or name in TEST_LIFECYCLE or name in CLASS_LIFECYCLE:
        return True
    reached = any(
        method is function
        for method, _ in reachable_sync_methods(context, cls, TEST_LIFECYCLE | CLASS_LIFECYCLE)
    )
    return reached and not _called_from_coroutine(context, cls, name)


def _called_from_coroutine(context: Context, cls: ClassInfo, name: str) -> bool:
    for member in class_family(context, cls):
        for method in member.methods.values():
            if not method.is_async:
                continue
            if any(called == name for _, called in self_calls(method)):
                return True
            receiver = method.receiver
            for node in ast.walk(method.node):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == name
                    and isinstance(node.value, ast.Name)
                    and node.value.id == receiver
                ):
                    return True
    return False


def _class_sets_loop(context: Context, cls: ClassInfo) -> bool:
    calls = [
        call
        for member in class_family(context, cls)
        for method in member.methods.values()
        for call in method.calls
    ]
    return _sets_current_loop(context, calls)


def _sets_current_loop(context: Context, calls: list[CallSite]) -> bool:
    for call in calls:
        if context.model.callee_name(call) != SET_EVENT_LOOP or not call.node.args:
            continue
        argument = call.node.args[0]
        if not (isinstance(argument, ast.Constant) and argument.value is None):
            return True
    return False


_EXPECTING_METHODS = frozenset(
    {"assertWarns", "assertWarnsRegex", "assertRaises", "assertRaisesRegex"}
)
_EXPECTING_FUNCTIONS = frozenset({"pytest.warns", "pytest.raises", "pytest.deprecated_call"})


def _expects_the_warning(context: Context, node: ast.AST, function: FunctionInfo) -> bool:
    """Inside `with self.assertWarns(...)` / `pytest.warns(...)`: the test checks the warning."""
    model = context.model
    current = model.parent(node)
    while current is not None and current is not function.node:
        if isinstance(current, ast.With):
            for item in current.items:
                expr = item.context_expr
                if not isinstance(expr, ast.Call):
                    continue
                if isinstance(expr.func, ast.Attribute) and expr.func.attr in _EXPECTING_METHODS:
                    return True
                if model.qualified_name(expr.func, function.scope) in _EXPECTING_FUNCTIONS:
                    return True
        current = model.parent(current)
    return False


#: what `get_event_loop()` raises without a current loop (3.14), and the handlers that catch it.
_CATCHES_NO_LOOP = frozenset({"RuntimeError", "Exception", "BaseException"})


def _probes_for_a_current_loop(context: Context, node: ast.AST) -> bool:
    """`try: loop = get_event_loop() except RuntimeError: pass`: the code handles "no loop".

    The call's statement is directly in a `try` body with a handler that catches the
    *no current event loop* error and swallows it (no `raise`, no `fail()`).
    """
    model = context.model
    statement = enclosing_statement(model, node)
    parent = model.parent(statement) if statement is not None else None
    if not isinstance(parent, ast.Try) or not any(item is statement for item in parent.body):
        return False
    return any(_catches_no_loop(handler.type) and _swallows(handler) for handler in parent.handlers)


def _catches_no_loop(caught: ast.expr | None) -> bool:
    if caught is None:
        return True
    if isinstance(caught, ast.Tuple):
        return any(_catches_no_loop(element) for element in caught.elts)
    return isinstance(caught, ast.Name) and caught.id in _CATCHES_NO_LOOP


def _swallows(handler: ast.ExceptHandler) -> bool:
    for node in ast.walk(handler):
        if isinstance(node, ast.Raise):
            return False
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == "fail":
                return False
    return True


def _uses_loop_fixture(context: Context, decorators: list[ast.expr], scope: Scope) -> bool:
    """`@pytest.mark.usefixtures("event_loop")`: the fixture makes a loop current."""
    for decorator in decorators:
        if not isinstance(decorator, ast.Call):
            continue
        if context.model.qualified_name(decorator.func, scope) != "pytest.mark.usefixtures":
            continue
        for argument in decorator.args:
            if isinstance(argument, ast.Constant) and argument.value in _LOOP_SETTING_FIXTURES:
                return True
    return False


def _plain_decorators(context: Context, function: FunctionInfo) -> bool:
    """Every decorator is known to call the function as it is (no loop around it)."""
    for decorator in function.node.decorator_list:
        name = decorator_name(context.model, decorator, function.parent_scope)
        if name is None or name in COROUTINE_RUNNING_DECORATORS:
            return False
        if (
            name.startswith(("pytest.", "unittest.mock.patch", "unittest.skip"))
            or name in NEUTRAL_FUNCTION_DECORATORS
        ):
            continue
        found = context.semantics.find_function(name)
        if found is None or found.runs_coroutines:
            return False
    return True


def _pytest_function(context: Context, function: FunctionInfo) -> bool:
    if not is_test_path(context.path):
        return False
    if not (is_test_name(function.name) or function.name in context.semantics.summary.fixtures):
        return False
    if not _plain_decorators(context, function):
        return False
    arguments = function.node.args
    names = {
        argument.arg
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    }
    if names & _LOOP_SETTING_FIXTURES:
        return False
    # An async fixture it depends on (conftest autouse fixtures included) runs on
    # pytest-asyncio's runner, whose loop is current while the test runs.
    semantics = context.semantics
    return (
        runs_under_loop_fixture(
            context.model, function, semantics.summary.fixture_summaries, semantics.index
        )
        is None
    )


GetEventLoopInSyncTest.invalid = (
    Invalid(
        """\
import asyncio
import unittest


class Clock:
    def __init__(self, loop):
        self.loop = loop

    def now(self):
        return self.loop.time()


class ClockTest(unittest.TestCase):
    def test_now(self):
        loop = asyncio.get_event_loop()
        clock = Clock(loop)
        self.assertGreaterEqual(clock.now(), 0)
""",
        line=15,
        fixed="""\
import asyncio
import unittest


class Clock:
    def __init__(self, loop):
        self.loop = loop

    def now(self):
        return self.loop.time()


class ClockTest(unittest.TestCase):
    def test_now(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        clock = Clock(loop)
        self.assertGreaterEqual(clock.now(), 0)
""",
        runnable=True,
        note="The textbook spelling: a sync test asks for the current loop to hand it on.",
    ),
    Invalid(
        """\
from asyncio import get_event_loop
import unittest as ut


class FutureTest(ut.TestCase):
    def setUp(self):
        self.loop = get_event_loop()

    def make_future(self):
        return self.loop.create_future()

    def test_future(self):
        self.assertFalse(self.make_future().done())
""",
        line=7,
        fixed="""\
from asyncio import get_event_loop, new_event_loop
import unittest as ut


class FutureTest(ut.TestCase):
    def setUp(self):
        self.loop = new_event_loop()
        self.addCleanup(self.loop.close)

    def make_future(self):
        return self.loop.create_future()

    def test_future(self):
        self.assertFalse(self.make_future().done())
""",
        runnable=True,
        note="`from asyncio import get_event_loop`, `import unittest as ut`, in `setUp`.",
    ),
    Invalid(
        """\
import asyncio as aio

import pytest


@pytest.fixture
def loop_time():
    return aio.get_event_loop_policy().get_event_loop().time()


def test_time(loop_time):
    assert loop_time >= 0
    assert not aio.get_event_loop().is_closed()
""",
        line=8,
        count=2,
        note="`import asyncio as aio`; the policy's `get_event_loop()` in a sync pytest fixture, "
        "and a sync pytest test: no automatic fix.",
    ),
    Invalid(
        """\
import asyncio


def test_loop_time():
    assert asyncio.get_event_loop().time() >= 0
""",
        line=5,
        path="tests/unit/test_time.py",
        files={
            "tests/conftest.py": """\
import pytest


@pytest.fixture(autouse=True)
def settings(tmp_path):
    yield tmp_path
""",
            "tests/other/conftest.py": """\
import pytest


@pytest.fixture(autouse=True)
async def database():
    yield object()
""",
        },
        note="The autouse fixtures up this test's tree are all sync; the async one is in a "
        "sibling folder's `conftest.py`, which does not apply here.",
    ),
    Invalid(
        """\
import asyncio

from tests.base import ServiceTestCase


class TimerTest(ServiceTestCase):
    def deadline(self, seconds):
        return asyncio.get_event_loop().time() + seconds

    def test_deadline(self):
        self.assertGreater(self.deadline(5), 0)
""",
        line=8,
        files={
            "tests/base.py": """\
import unittest


class ServiceTestCase(unittest.TestCase):
    maxDiff = None
""",
        },
        note="A helper method called from a sync test, the plain TestCase base in another file.",
    ),
    Invalid(
        """\
import asyncio
import unittest


class ClockTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.loop = asyncio.get_event_loop()

    def test_now(self):
        self.assertGreaterEqual(self.loop.time(), 0)
""",
        line=8,
        fixed="""\
import asyncio
import unittest


class ClockTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.loop = asyncio.new_event_loop()
        cls.addClassCleanup(cls.loop.close)

    def test_now(self):
        self.assertGreaterEqual(self.loop.time(), 0)
""",
        runnable=True,
        note="In `setUpClass`: the class's own loop, closed by `addClassCleanup`.",
    ),
)

GetEventLoopInSyncTest.valid = (
    Valid(
        """\
import asyncio
import unittest


class ClockTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.started = asyncio.get_event_loop().time()

    async def test_now(self):
        self.assertGreaterEqual(asyncio.get_event_loop().time(), self.started)
""",
        note="IsolatedAsyncioTestCase makes its loop current around sync `setUp` too, and a "
        "coroutine runs inside the loop.",
    ),
    Valid(
        """\
import asyncio
import unittest


class ClockTest(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.addCleanup(asyncio.set_event_loop, None)
        self.addCleanup(self.loop.close)

    def test_now(self):
        self.assertIs(asyncio.get_event_loop(), self.loop)
""",
        note="The class makes its own loop current in `setUp`: `get_event_loop()` returns it.",
    ),
    Valid(
        """\
import asyncio


def make_future():
    return asyncio.get_event_loop().create_future()


async def test_future():
    future = make_future()
    future.set_result(1)
    assert await future == 1
""",
        note="A module helper, called from a coroutine where a loop runs.",
    ),
    Valid(
        """\
import asyncio


class Scheduler:
    def __init__(self):
        self.loop = asyncio.get_event_loop()
""",
        path="app/scheduler.py",
        note="Application code, not a test.",
    ),
    Valid(
        """\
import asyncio
import unittest


class LeakTest(unittest.TestCase):
    def tearDown(self):
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            pass  # no current loop: nothing to close
        else:
            loop.close()

    def test_nothing_leaks(self):
        self.assertTrue(True)
""",
        note="A probe for a current loop that handles *there is no current event loop* and "
        "closes what it finds (tornado's leak tests).",
    ),
    Valid(
        """\
import asyncio

import pytest
import pytest_asyncio


@pytest_asyncio.fixture
async def server():
    yield "server"


@pytest.fixture
def clock(server):
    return asyncio.get_event_loop().time()


def test_clock(clock):
    assert clock >= 0
    assert not asyncio.get_event_loop().is_closed()
""",
        note="A sync fixture that requests an async pytest-asyncio fixture, and a sync test "
        "through it: the fixture's runner loop is current while they run.",
    ),
    Valid(
        """\
import asyncio


def test_loop_is_current():
    loop = asyncio.get_event_loop()
    assert loop.is_running() is False
""",
        path="tests/unit/test_loop.py",
        files={
            "tests/conftest.py": """\
import pytest


@pytest.fixture(autouse=True)
def _database(db_pool):
    yield db_pool
""",
            "conftest.py": """\
import pytest


@pytest.fixture
async def db_pool():
    yield object()
""",
        },
        note="An autouse fixture of a `conftest.py` up the tree requests an async fixture of "
        "the root `conftest.py`: every test below runs with the runner's loop current.",
    ),
    Valid(
        """\
import asyncio

import pytest

pytestmark = pytest.mark.usefixtures("broker")


@pytest.fixture(name="broker")
async def _broker():
    return "broker"


class TestLoop:
    def test_time(self):
        assert asyncio.get_event_loop().time() >= 0


@pytest.mark.usefixtures("broker")
def test_time():
    assert asyncio.get_event_loop().time() >= 0
""",
        note="`usefixtures` (module `pytestmark`, a decorator) naming an async fixture "
        "registered under another name: the tests run with its loop current.",
    ),
    Valid(
        """\
import asyncio

import pytest


@pytest.mark.usefixtures("autostop_loop")
class TestMain:
    def test_debug(self):
        loop = asyncio.get_event_loop()
        assert not loop.is_closed()
""",
        path="tests/test_main.py",
        files={
            "tests/conftest.py": """\
import asyncio

import pytest


@pytest.fixture
def temp_event_loop():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def autostop_loop(temp_event_loop):
    yield temp_event_loop
    temp_event_loop.stop()
""",
        },
        note="A sync conftest fixture makes its own loop current (`set_event_loop`); the class "
        "requests it through `usefixtures` and another fixture (aiosmtpd's `temp_event_loop`).",
    ),
)
