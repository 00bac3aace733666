"""ATL209: pytest-asyncio's `event_loop` fixture, deprecated in 0.23 and removed in 1.0."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ..analysis.model import FunctionInfo
from ..analysis.names import GET_RUNNING_LOOP, is_test_path
from ..analysis.semantics import ClassKind
from ..analysis.styles import PYTEST_ASYNCIO, mark_name
from ..analysis.summary import ModuleSummary
from ..context import Context
from ..fixes.imports import reference
from ..model import Diagnostic, Edit, Fix, Position, Safety, TextRange
from .base import Invalid, Rule, Valid

FIXTURE_NAME = "event_loop"
_FIXTURE_DECORATORS = ("pytest.fixture", "pytest_asyncio.fixture")
_USEFIXTURES = "pytest.mark.usefixtures"
_PARAMETRIZE = "pytest.mark.parametrize"
_DEF_NAME = re.compile(r"(?:async[ \t]+)?def[ \t]+(\w+)")
_FIX_TITLE = "Use asyncio.get_running_loop() instead of the event_loop fixture"


class EventLoopFixture(Rule):
    code = "ATL209"
    name = "event-loop-fixture"
    family = "T11"
    summary = "pytest-asyncio's `event_loop` fixture was deprecated in 0.23 and removed in 1.0"
    what = (
        "Finds (1) a fixture named `event_loop` (`@pytest.fixture` or `@pytest_asyncio.fixture`, "
        'any import spelling, or `name="event_loop"`) in a project that uses pytest-asyncio: the '
        "old way to change the loop's scope or policy; (2) tests, fixtures and "
        '`@pytest.mark.usefixtures("event_loop")` that request `event_loop` when no module of '
        "the project (a `conftest.py`, a plugin module, the test module itself) defines such a "
        "fixture. Silent when the module declares `pytest_plugins` or has a star import, and "
        "without a project index (a conftest we cannot see may define it). unittest methods are "
        "never reported: they cannot request fixtures. A definition in a test module with no "
        "coroutine test or async fixture (only its sync tests request it and drive the loop "
        "themselves) is not reported."
    )
    why = (
        "pytest-asyncio 1.0 removed the fixture: a test that requests it errors at setup with "
        "*fixture 'event_loop' not found*. Before that (0.23-0.26) requesting it in async tests "
        "and fixtures, and redefining it, emitted deprecation warnings (errors under `-W error`). "
        "A project's own `event_loop` fixture no longer changes the loop pytest-asyncio runs tests "
        'on: a `scope="session"` override that used to share one loop between tests now does '
        "nothing, and session-scoped async fixtures bound to that loop break with *attached to a "
        "different loop* or *Event loop is closed*."
    )
    versions = (
        "pytest-asyncio 0.23 deprecated redefining `event_loop` and 0.23/0.24 warn when async "
        "tests request it; 1.0 (May 2025) removed it. Independent of the Python version."
    )
    fix_notes = (
        "Safe, for an `async def` test or fixture: the `event_loop` parameter is removed and its "
        "uses become `asyncio.get_running_loop()`, the loop the test runs on (the same loop "
        "pytest-asyncio passed as `event_loop`).\n\n"
        "No automatic fix: for a sync test or fixture, which has no running loop (make it "
        "`async def`, or create and close a loop it owns); for a redefinition of the fixture: "
        "to share one loop between tests, mark them "
        '`@pytest.mark.asyncio(loop_scope="module")` (or `pytestmark = '
        'pytest.mark.asyncio(loop_scope="session")`, or the `asyncio_default_test_loop_scope` '
        "ini option), give async fixtures the same `loop_scope=`, and use the "
        "`pytest_asyncio_loop_factories` hook (1.4+) or the `event_loop_policy` fixture for "
        "another loop implementation."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        definitions = [
            function
            for function in context.model.functions
            if _fixture_name(context, function) == FIXTURE_NAME
        ]
        if definitions and _uses_pytest_asyncio(context) and _may_serve_async_code(context):
            for function in definitions:
                yield self._definition(context, function)
        if definitions or _project_defines_fixture(context):
            return
        # A request is pytest-asyncio's only where the project visibly uses pytest-asyncio and no
        # other plugin provides `event_loop` (aio-pika's and aiormq's suites use aiomisc's).
        if not _uses_pytest_asyncio(context) or _other_provider(context):
            return
        for function in context.model.functions:
            if _fixture_name(context, function) is None and not _is_pytest_test(context, function):
                continue
            parameter = _parameter(function)
            if parameter is not None and not _parametrized(context, function):
                yield self._request(context, function, parameter)
            yield from self._usefixtures(context, function.node.decorator_list, function)
        for cls in context.model.classes:
            if context.semantics.kind(cls) is ClassKind.PYTEST_STYLE:
                yield from self._usefixtures(context, cls.node.decorator_list, cls)

    def _definition(self, context: Context, function: FunctionInfo) -> Diagnostic:
        scope = _fixture_scope(context, function)
        advice = (
            f'mark the tests @pytest.mark.asyncio(loop_scope="{scope}") instead'
            if scope not in (None, "function")
            else "pytest-asyncio gives each test its loop; use loop_scope= or a loop factory"
        )
        message = (
            "redefined `event_loop` fixture: deprecated in pytest-asyncio 0.23, ignored since 1.0; "
            + advice
        )
        return context.report(self, _name_range(context, function), message)

    def _request(self, context: Context, function: FunctionInfo, parameter: ast.arg) -> Diagnostic:
        kind = "fixture" if _fixture_name(context, function) is not None else "test"
        message = (
            f"{kind} {function.name} requests `event_loop`, removed in pytest-asyncio 1.0 "
            "(\"fixture 'event_loop' not found\")"
        )
        fix = None
        if function.is_async:
            message += "; use asyncio.get_running_loop()"
            fix = context.lazy_fix(
                _FIX_TITLE, Safety.SAFE, lambda: _running_loop_fix(context, function, parameter)
            )
        else:
            message += "; a sync test has no running loop: make it async or own a loop"
        return context.report(self, parameter, message, fix)

    def _usefixtures(
        self, context: Context, decorators: list[ast.expr], owner: object
    ) -> Iterator[Diagnostic]:
        scope = getattr(owner, "parent_scope", context.model.module_scope)
        for decorator in decorators:
            if (
                not isinstance(decorator, ast.Call)
                or mark_name(context.model, decorator, scope) != _USEFIXTURES
            ):
                continue
            for argument in decorator.args:
                if isinstance(argument, ast.Constant) and argument.value == FIXTURE_NAME:
                    yield context.report(
                        self,
                        argument,
                        'usefixtures("event_loop"): the fixture was removed in pytest-asyncio 1.0',
                    )


def _fixture_name(context: Context, function: FunctionInfo) -> str | None:
    for decorator in function.node.decorator_list:
        if mark_name(context.model, decorator, function.parent_scope) not in _FIXTURE_DECORATORS:
            continue
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "name":
                    value = keyword.value
                    return (
                        value.value
                        if isinstance(value, ast.Constant) and isinstance(value.value, str)
                        else "?"
                    )
        return function.name
    return None


def _may_serve_async_code(context: Context) -> bool:
    """Whether an `event_loop` defined here may be taken for pytest-asyncio's loop.

    A fixture of a test module is visible in that module only: with no coroutine test or async
    fixture there, only sync tests request it, and they drive the loop they get themselves (a
    plain fixture since pytest-asyncio 1.0 forgot the name). A conftest.py or plugin module
    serves modules we do not look at: always reported.
    """
    path = context.path or ""
    if not is_test_path(path) or path.replace("\\", "/").endswith("conftest.py"):
        return True
    if "pytestmark" in context.model.module_scope.bindings:
        return True
    return any(
        function.is_async
        and (_fixture_name(context, function) is not None or _is_pytest_test(context, function))
        for function in context.model.functions
    )


def _fixture_scope(context: Context, function: FunctionInfo) -> str | None:
    for decorator in function.node.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                value = keyword.value
                if (
                    keyword.arg == "scope"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    return value.value
    return None


def _is_pytest_test(context: Context, function: FunctionInfo) -> bool:
    if function.parent is not None or not function.name.startswith("test"):
        return False
    if function.cls is None:
        return function.parent_scope is context.model.module_scope
    return context.semantics.kind(function.cls) is ClassKind.PYTEST_STYLE


def _parameter(function: FunctionInfo) -> ast.arg | None:
    arguments = function.node.args
    for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
        if argument.arg == FIXTURE_NAME:
            return argument
    return None


def _parametrized(context: Context, function: FunctionInfo) -> bool:
    """`@pytest.mark.parametrize("event_loop", ...)` supplies the argument: not a fixture."""
    for decorator in function.node.decorator_list:
        if not isinstance(decorator, ast.Call) or not decorator.args:
            continue
        if mark_name(context.model, decorator, function.parent_scope) != _PARAMETRIZE:
            continue
        names = decorator.args[0]
        if isinstance(names, ast.Constant) and isinstance(names.value, str):
            if FIXTURE_NAME in [name.strip() for name in names.value.split(",")]:
                return True
        elif isinstance(names, (ast.List, ast.Tuple)):
            if any(
                isinstance(name, ast.Constant) and name.value == FIXTURE_NAME for name in names.elts
            ):
                return True
        else:
            return True  # argument names we cannot read
    return False


#: pytest plugins that provide a fixture named `event_loop` of their own.
_OTHER_EVENT_LOOP_PROVIDERS = frozenset({"aiomisc", "aiomisc_pytest"})


def _imports_any(summary: ModuleSummary, top_level: frozenset[str]) -> bool:
    return any(name.split(".")[0] in top_level for name in summary.imports.values())


def _shows_pytest_asyncio(summary: ModuleSummary) -> bool:
    return bool(summary.styles.get(PYTEST_ASYNCIO)) or _imports_any(summary, _PYTEST_ASYNCIO)


def _uses_pytest_asyncio(context: Context) -> bool:
    if _shows_pytest_asyncio(context.semantics.summary):
        return True
    index = context.semantics.index
    if index is None:
        return False
    return index.derived(
        "atl209:pytest-asyncio", lambda summaries: any(map(_shows_pytest_asyncio, summaries))
    )


def _other_provider(context: Context) -> bool:
    """A plugin other than pytest-asyncio (aiomisc's) that defines `event_loop` is in use."""
    if _imports_any(context.semantics.summary, _OTHER_EVENT_LOOP_PROVIDERS):
        return True
    index = context.semantics.index
    return index is not None and index.derived(
        "atl209:other-provider",
        lambda summaries: any(_imports_any(s, _OTHER_EVENT_LOOP_PROVIDERS) for s in summaries),
    )


_PYTEST_ASYNCIO = frozenset({"pytest_asyncio"})


def _project_defines_fixture(context: Context) -> bool:
    """The project (or this module, by definition or import) provides its own `event_loop`."""
    if FIXTURE_NAME in context.model.module_scope.bindings or context.model.has_star_import:
        return True
    if "pytest_plugins" in context.model.module_scope.bindings:
        return True  # a plugin we cannot see may define it
    index = context.semantics.index
    if index is None:
        return True  # no project view: a conftest.py we cannot see may define it
    definers = index.derived(
        "atl209:definers",
        lambda summaries: frozenset(s.path for s in summaries if FIXTURE_NAME in s.fixtures),
    )
    return bool(definers - {context.path})


def _name_range(context: Context, function: FunctionInfo) -> TextRange | ast.AST:
    node = function.node
    start = context.parsed.position(node.lineno, node.col_offset)
    line = context.parsed.lines.line_text(start.line)
    match = _DEF_NAME.match(line, start.column)
    if match is None:
        return node
    return TextRange(Position(start.line, match.start(1)), Position(start.line, match.end(1)))


# -- the fix -------------------------------------------------------------------------------------


def _running_loop_fix(context: Context, function: FunctionInfo, parameter: ast.arg) -> Fix | None:
    uses = _uses(function)
    if uses is None or _has_default(function, parameter):
        return None
    removal = _remove_parameter(context, parameter)
    if removal is None:
        return None
    edits = [removal]
    if uses:
        loop = reference(context.model, GET_RUNNING_LOOP)
        if loop is None:
            return None
        edits.extend(loop.edits)
        edits.extend(Edit(context.range(use), f"{loop.text}()") for use in uses)
    return Fix(_FIX_TITLE, Safety.SAFE, tuple(edits))


def _uses(function: FunctionInfo) -> list[ast.Name] | None:
    """Loads of `event_loop` in the function's own body; None when it is rebound or nested."""
    found: list[ast.Name] = []
    stack: list[ast.AST] = list(function.node.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if any(
                isinstance(inner, ast.Name) and inner.id == FIXTURE_NAME for inner in ast.walk(node)
            ):
                return None
            continue
        if isinstance(node, ast.Name) and node.id == FIXTURE_NAME:
            if not isinstance(node.ctx, ast.Load):
                return None
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _has_default(function: FunctionInfo, parameter: ast.arg) -> bool:
    arguments = function.node.args
    if parameter in arguments.kwonlyargs:
        return arguments.kw_defaults[arguments.kwonlyargs.index(parameter)] is not None
    positional = [*arguments.posonlyargs, *arguments.args]
    first_default = len(positional) - len(arguments.defaults)
    return positional.index(parameter) >= first_default


def _remove_parameter(context: Context, parameter: ast.arg) -> Edit | None:
    """Delete the parameter with one neighbouring comma, or its whole line when alone on it."""
    lines = context.parsed.lines
    own = context.range(parameter)
    if own.start.line != own.end.line:
        return None
    text = lines.line_text(own.start.line)
    before, after = text[: own.start.column], text[own.end.column :]
    if not before.strip() and after.strip() in (",", ""):
        if after.strip() == "" and own.start.line + 1 < lines.line_count:
            following = lines.line_text(own.start.line + 1).strip()
            if not following.startswith(")"):
                return None
        if own.start.line + 1 >= lines.line_count:
            return None
        return Edit(TextRange(Position(own.start.line, 0), Position(own.start.line + 1, 0)), "")
    forward = re.match(r"[ \t]*,[ \t]*", after)
    if forward is not None and not after[forward.end() :].startswith(")"):
        end = Position(own.end.line, own.end.column + forward.end())
        return Edit(TextRange(own.start, end), "")
    backward = re.search(r",[ \t]*$", before)
    if backward is not None:
        return Edit(TextRange(Position(own.start.line, backward.start()), own.end), "")
    if forward is not None:  # the only parameter, with a trailing comma: `(event_loop,)`
        return Edit(
            TextRange(own.start, Position(own.end.line, own.end.column + forward.end())), ""
        )
    return Edit(own, "")


EventLoopFixture.invalid = (
    Invalid(
        """\
import asyncio

import pytest


def blocking_read():
    return b"data"


@pytest.mark.asyncio
async def test_read(event_loop):
    data = await event_loop.run_in_executor(None, blocking_read)
    assert data == b"data"
""",
        line=11,
        fixed="""\
import asyncio

import pytest


def blocking_read():
    return b"data"


@pytest.mark.asyncio
async def test_read():
    data = await asyncio.get_running_loop().run_in_executor(None, blocking_read)
    assert data == b"data"
""",
        note="An async test requesting the removed fixture.",
    ),
    Invalid(
        """\
import pytest_asyncio as pa


@pa.fixture
async def client(unused_tcp_port, event_loop):
    server = await start(event_loop, unused_tcp_port)
    yield server
    event_loop.call_soon(server.close)


async def start(loop, port):
    return object()
""",
        line=5,
        fixed="""\
import pytest_asyncio as pa
from asyncio import get_running_loop


@pa.fixture
async def client(unused_tcp_port):
    server = await start(get_running_loop(), unused_tcp_port)
    yield server
    get_running_loop().call_soon(server.close)


async def start(loop, port):
    return object()
""",
        path="tests/conftest.py",
        note="An async fixture in conftest.py (`import pytest_asyncio as pa`): adds the import.",
    ),
    Invalid(
        """\
import asyncio

import pytest


@pytest.fixture(scope="session")
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()
""",
        line=7,
        path="tests/conftest.py",
        files={
            "tests/test_api.py": """\
import pytest


@pytest.mark.asyncio
async def test_ping():
    assert True
""",
        },
        note="The old scope override in conftest.py; the project's tests use pytest-asyncio.",
    ),
    Invalid(
        """\
import pytest


async def ping():
    return "pong"


@pytest.mark.usefixtures("event_loop")
class TestPing:
    def test_ping(self, event_loop):
        assert event_loop.run_until_complete(ping()) == "pong"
""",
        line=8,
        count=2,
        files={
            "tests/test_stream.py": """\
import pytest


@pytest.mark.asyncio
async def test_stream():
    pass
""",
        },
        note=(
            "`usefixtures` on a pytest-style class and a sync test, in a project whose other tests "
            "use pytest-asyncio: reported without a fix."
        ),
    ),
)

EventLoopFixture.valid = (
    Valid(
        """\
import asyncio

import pytest


@pytest.fixture
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_ping(event_loop):
    async def ping():
        return "pong"

    assert event_loop.run_until_complete(ping()) == "pong"
""",
        path="tests/test_bench.py",
        files={
            "tests/test_stream.py": """\
import pytest


@pytest.mark.asyncio
async def test_stream():
    pass
""",
        },
        note="A test module's own `event_loop` fixture that only its sync tests request and "
        "drive: no coroutine there runs on it (asgiref's benchmarks).",
    ),
    Valid(
        """\
import pytest


@pytest.mark.usefixtures("event_loop")
class TestPublish:
    async def test_publish(self, event_loop):
        assert event_loop.is_running()
""",
        files={
            "tests/conftest.py": """\
import pytest
from aiomisc import entrypoint

pytest_plugins = ("aiomisc",)
""",
            "tests/test_other.py": """\
import pytest


@pytest.mark.asyncio
async def test_other():
    pass
""",
        },
        note=(
            "aiomisc's pytest plugin provides its own `event_loop` fixture (aio-pika's and "
            "aiormq's suites): requests are not pytest-asyncio's."
        ),
    ),
    Valid(
        """\
import asyncio

import pytest


@pytest.mark.parametrize("event_loop", [asyncio.new_event_loop])
def test_factory(event_loop):
    loop = event_loop()
    loop.close()
""",
        note="`parametrize` supplies an argument named `event_loop`: no fixture is requested.",
    ),
    Valid(
        """\
async def ping():
    return "pong"


def test_ping(event_loop):
    assert event_loop.run_until_complete(ping()) == "pong"
""",
        files={
            "tests/conftest.py": """\
import asyncio

import pytest


@pytest.fixture
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()
""",
        },
        note="The project defines its own `event_loop` fixture (and does not use pytest-asyncio).",
    ),
    Valid(
        """\
import asyncio

import pytest


@pytest.mark.asyncio(loop_scope="module")
async def test_read():
    loop = asyncio.get_running_loop()
    assert loop.is_running()
""",
        note="The replacement: `loop_scope=` and `asyncio.get_running_loop()`.",
    ),
    Valid(
        """\
import asyncio


def drain(event_loop):
    event_loop.run_until_complete(asyncio.sleep(0))


def make_loop():
    event_loop = asyncio.new_event_loop()
    drain(event_loop)
    event_loop.close()
""",
        path="tools/loops.py",
        note="A plain helper with a parameter named `event_loop`: not a test or a fixture.",
    ),
)
