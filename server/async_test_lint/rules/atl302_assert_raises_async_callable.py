"""ATL302: `assertRaises` given a coroutine function, or wrapping an unawaited coroutine call."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from functools import partial

from ..analysis.coroutines import (
    RAISES_METHODS,
    AsyncCallable,
    async_callable,
    call_label,
    creates_awaitable,
    expects_type_error,
    is_raises_call,
    lost_coroutine,
    self_method_call,
    where,
)
from ..analysis.model import CallSite, FunctionInfo
from ..context import Context
from ..fixes.async_tests import async_test_fix, async_test_title, can_become_async
from ..fixes.expressions import add_await, await_fix
from ..model import Diagnostic, Edit, Fix, LazyFix, Safety, TextRange
from ..source import newline_of
from .base import Invalid, Rule, Valid


class AssertRaisesAsyncCallable(Rule):
    code = "ATL302"
    name = "assert-raises-async-callable"
    family = "T9"
    summary = (
        "`assertRaises` checks a coroutine function that is never awaited, so nothing can raise"
    )
    what = (
        "Finds `self.assertRaises(Err, fetch, arg)` and `self.assertRaisesRegex(Err, pattern, "
        "fetch, arg)` where `fetch` is a coroutine function (an `async def` of the file or of "
        "another project module, an async method of the class or of a project object, an "
        "`AsyncMock`), a `functools.partial` of one (under any alias, also bound to a local "
        "first) or a `lambda: fetch(x)`; and `with self.assertRaises(Err): ...` (also "
        "`assertRaisesRegex` and `pytest.raises`) where a call in the block makes a coroutine "
        "that is lost unawaited (discarded, stored and never awaited, asserted on: the "
        "value-flow query ATL301 uses)."
    )
    why = (
        "`assertRaises` calls `fetch(arg)`, which only creates a coroutine object: the body never "
        "runs, so the exception it should raise is never raised. The callable form fails with "
        "*Err not raised* (and a `coroutine ... was never awaited` warning), which points at the "
        "wrong cause. The context-manager form is worse when the block has other statements "
        "that happen to raise `Err`: the test passes while the code under test never ran."
    )
    versions = "All Python 3 versions; `assertRaises` has never awaited anything."
    fix_notes = (
        "Safe in an `async def` test: the callable form becomes `with self.assertRaises(Err): "
        "await fetch(arg)` (keyword arguments go to `fetch`, as `assertRaises` passed them; a "
        "partial's bound arguments come first; a lambda's call is awaited as written), and in "
        "the context-manager form the call is awaited. In a sync test method of a unittest "
        "class the fix is one **unsafe** edit: a plain `TestCase` becomes an "
        "`IsolatedAsyncioTestCase`, the test becomes `async def`, and the same rewrite "
        "applies. No automatic fix for a sync helper or a pytest-style sync test (make it a "
        "coroutine first), a decorated test, or a call that shares its line with another "
        "statement: the message says which."
    )
    fix_safety = Safety.SAFE
    #: the coordinated fix of a sync test (convert the class, `async def`, await) is unsafe.
    other_fix_safeties = (Safety.UNSAFE,)

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model, semantics = context.model, context.semantics
        for site in model.calls_named("assertRaises", "assertRaisesRegex", "raises"):
            function = site.function
            if function is None or site.scope is not function.scope:
                continue
            if not is_raises_call(model, semantics, site.node, function):
                continue
            if expects_type_error(model, site.node, function):
                continue  # wrong arguments raise TypeError at the call: a signature test
            if isinstance(site.parent, ast.withitem):
                yield from self._check_block(context, site, function)
            else:
                yield from self._check_callable_form(context, site, function)

    def _check_callable_form(
        self, context: Context, site: CallSite, function: FunctionInfo
    ) -> Iterator[Diagnostic]:
        model, semantics = context.model, context.semantics
        method = self_method_call(semantics, site.node, function)
        if method not in RAISES_METHODS:
            return
        position = 1 if method == "assertRaises" else 2
        arguments = site.node.args
        if len(arguments) <= position or any(
            isinstance(a, ast.Starred) for a in arguments[: position + 1]
        ):
            return
        target = arguments[position]
        callable_ = async_callable(model, semantics, target, site)
        if callable_ is None:
            return
        name = _callable_name(context, target, callable_)
        message = (
            f"self.{method}() gets {name}: calling it only creates a coroutine that is never "
            f"awaited, so nothing raises ({where(function)})"
        )
        called = context.source_of(callable_.func)
        rewrite = partial(_callable_form_edits, context, site, function, position, callable_)
        fix: LazyFix | None
        if function.is_async:
            title = f"Use `with self.{method}(...)` and await {called}()"
            fix = context.lazy_fix(title, Safety.SAFE, partial(_edits_fix, title, rewrite))
        else:
            fix = self._sync_fix(
                context, function, f"await {called}() in `with self.{method}`", rewrite
            )
            if fix is None:
                message += f"; {_no_fix(context, function)}"
        yield context.report(self, site.node, message, fix)

    def _sync_fix(
        self,
        context: Context,
        function: FunctionInfo,
        what: str,
        edits: Callable[[], tuple[Edit, ...] | None],
    ) -> LazyFix | None:
        """Convert the class, make the sync test a coroutine and apply `edits` (unsafe)."""
        cls = function.cls
        if cls is None or can_become_async(context, function) is not None:
            return None
        title = async_test_title(context, cls, [function], what)

        def build() -> Fix | None:
            own = edits()
            return None if own is None else async_test_fix(context, cls, [(function, own)], what)

        return context.lazy_fix(title, Safety.UNSAFE, build)

    def _check_block(
        self, context: Context, site: CallSite, function: FunctionInfo
    ) -> Iterator[Diagnostic]:
        model, semantics = context.model, context.semantics
        with_node = model.parent(site.parent)
        if not isinstance(with_node, ast.With):
            return
        manager = context.source_of(site.node.func)
        for inner in _calls_in(function, with_node):
            if inner.awaited or inner.scope is not function.scope:
                continue
            if not creates_awaitable(model, semantics, inner):
                continue
            if lost_coroutine(model, semantics, inner.node) is None:
                continue
            label = call_label(model, inner.node)
            message = (
                f"{label} inside `with {manager}(...)` only creates a coroutine that is never "
                f"awaited, so nothing raises ({where(function)})"
            )
            node = inner.node
            fix: LazyFix | None
            if function.is_async:
                title = f"Await {label}"
                fix = context.lazy_fix(title, Safety.SAFE, partial(await_fix, model, node, title))
            else:
                fix = self._sync_fix(
                    context, function, f"await {label}", partial(add_await, model, node)
                )
                if fix is None:
                    message += f"; {_no_fix(context, function)}"
            yield context.report(self, inner.node, message, fix)


def _no_fix(context: Context, function: FunctionInfo) -> str:
    why = can_become_async(context, function) or "it is not a unittest method"
    return f"no automatic fix: {function.name} is sync ({why}); make it a coroutine, then await"


def _callable_name(context: Context, target: ast.expr, callable_: AsyncCallable) -> str:
    if callable_.call is not None:
        return f"a lambda that calls the coroutine function {context.source_of(callable_.func)}"
    if callable_.args or callable_.keywords or target is not callable_.func:
        return f"a partial of the coroutine function {context.source_of(callable_.func)}"
    return f"the coroutine function {context.source_of(target)}"


def _calls_in(function: FunctionInfo, with_node: ast.With) -> list[CallSite]:
    """The calls of `function` inside the statements of the `with` block (not nested defs)."""
    inside = {id(node) for statement in _statements(with_node.body) for node in ast.walk(statement)}
    return [call for call in function.calls if id(call.node) in inside]


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a block and of the blocks nested in it, not of nested defs or classes."""
    stack = list(reversed(body))
    while stack:
        statement = stack.pop()
        yield statement
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            stack.extend(reversed(getattr(statement, field, None) or []))
        for handler in getattr(statement, "handlers", None) or []:
            stack.extend(reversed(handler.body))


def _edits_fix(title: str, edits: Callable[[], tuple[Edit, ...] | None]) -> Fix | None:
    found = edits()
    return None if found is None else Fix(title, Safety.SAFE, found)


def _callable_form_edits(
    context: Context,
    site: CallSite,
    function: FunctionInfo,
    position: int,
    callable_: AsyncCallable,
) -> tuple[Edit, ...] | None:
    """`self.assertRaises(E, f, a, k=v)` -> `with self.assertRaises(E):` + `await f(a, k=v)`;
    a partial's bound arguments come first, a lambda's body is awaited as it is written."""
    statement = site.parent
    if not isinstance(statement, ast.Expr) or statement.value is not site.node:
        return None
    call = site.node
    if any(keyword.arg is None for keyword in (*call.keywords, *callable_.keywords)):
        return None
    lines = context.parsed.lines
    text_range = context.range(statement)
    first_line = lines.line_text(text_range.start.line)
    indent = first_line[: text_range.start.column]
    rest = lines.line_text(text_range.end.line)[text_range.end.column :].strip()
    if indent.strip() or (rest and not rest.startswith("#")):
        return None  # shares its line with another statement
    if text_range.start.line != text_range.end.line and "#" in context.source_of(statement):
        return None  # comments inside the call would be lost
    source = context.source_of
    if callable_.call is not None:
        if len(call.args) > position + 1 or call.keywords:
            return None
        awaited = source(callable_.call)
    else:
        positional = [*callable_.args, *call.args[position + 1 :]]
        keywords = [*callable_.keywords, *call.keywords]
        arguments = [source(argument) for argument in positional]
        arguments += [f"{keyword.arg}={source(keyword.value)}" for keyword in keywords]
        awaited = f"{source(callable_.func)}({', '.join(arguments)})"
    unit = _indent_unit(context, function)
    manager_arguments = ", ".join(source(argument) for argument in call.args[:position])
    newline = newline_of(context.text)
    new_text = (
        f"with {source(call.func)}({manager_arguments}):{newline}{indent}{unit}await {awaited}"
    )
    return (Edit(TextRange(text_range.start, text_range.end), new_text),)


def _indent_unit(context: Context, function: FunctionInfo) -> str:
    lines = context.parsed.lines
    def_line = lines.line_text(context.range(function.node).start.line)
    body_line = lines.line_text(context.range(function.node.body[0]).start.line)
    def_indent = def_line[: len(def_line) - len(def_line.lstrip())]
    body_indent = body_line[: len(body_line) - len(body_line.lstrip())]
    if body_indent.startswith(def_indent) and len(body_indent) > len(def_indent):
        return body_indent[len(def_indent) :]
    return "    "


AssertRaisesAsyncCallable.invalid = (
    Invalid(
        """\
import unittest


async def parse_port(text):
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


class PortTest(unittest.IsolatedAsyncioTestCase):
    async def test_rejects_words(self):
        self.assertRaises(ValueError, parse_port, "http")

    async def test_rejects_names(self):
        with self.assertRaises(ValueError):
            parse_port("ssh")
""",
        line=12,
        count=2,
        fixed="""\
import unittest


async def parse_port(text):
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


class PortTest(unittest.IsolatedAsyncioTestCase):
    async def test_rejects_words(self):
        with self.assertRaises(ValueError):
            await parse_port("http")

    async def test_rejects_names(self):
        with self.assertRaises(ValueError):
            await parse_port("ssh")
""",
        runnable=True,
    ),
    Invalid(
        """\
from unittest import IsolatedAsyncioTestCase as IATC

from app.repo import Repository


class RepoTest(IATC):
    def setUp(self):
        self.repo = Repository()

    async def test_missing(self):
        self.assertRaisesRegex(KeyError, "nobody", self.repo.get, user_id="nobody")
""",
        line=11,
        files={
            "app/repo.py": """\
class Repository:
    async def get(self, user_id):
        raise KeyError(user_id)
""",
        },
        fixed="""\
from unittest import IsolatedAsyncioTestCase as IATC

from app.repo import Repository


class RepoTest(IATC):
    def setUp(self):
        self.repo = Repository()

    async def test_missing(self):
        with self.assertRaisesRegex(KeyError, "nobody"):
            await self.repo.get(user_id="nobody")
""",
        runnable=True,
        note="`assertRaisesRegex`, an aliased base, an async method of a project object made in "
        "`setUp`, keyword arguments forwarded to the callable.",
    ),
    Invalid(
        """\
import pytest

from app.client import connect


async def test_refused():
    with pytest.raises(ConnectionError):
        connect("localhost", 1)
""",
        line=8,
        files={
            "app/client.py": "async def connect(host, port):\n    raise ConnectionError(host)\n"
        },
        fixed="""\
import pytest

from app.client import connect


async def test_refused():
    with pytest.raises(ConnectionError):
        await connect("localhost", 1)
""",
        note="`pytest.raises` around an unawaited call of an `async def` in another module.",
    ),
    Invalid(
        """\
import unittest as ut


class PortTest(ut.TestCase):
    async def _parse(self, text):
        raise ValueError(text)

    def test_rejects_words(self):
        self.assertRaises(ValueError, self._parse, "http")
""",
        line=9,
        note="A sync test: no fix until the test is a coroutine.",
    ),
    Invalid(
        """\
import functools
import unittest


async def parse_port(text):
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


class PortTest(unittest.TestCase):
    def test_rejects_words(self):
        self.assertRaises(ValueError, functools.partial(parse_port, "http"))

    def test_accepts_digits(self):
        self.assertEqual(int("80"), 80)
""",
        line=13,
        fixed="""\
import functools
import unittest


async def parse_port(text):
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


class PortTest(unittest.IsolatedAsyncioTestCase):
    async def test_rejects_words(self):
        with self.assertRaises(ValueError):
            await parse_port("http")

    def test_accepts_digits(self):
        self.assertEqual(int("80"), 80)
""",
        runnable=True,
        note="A `functools.partial` of an async function in a sync test of a plain `TestCase`: "
        "one unsafe fix converts the class, makes the test a coroutine and awaits the call in "
        "the context-manager form.",
    ),
    Invalid(
        """\
import unittest
from functools import partial as bind

from app.net import connect


class ConnectTest(unittest.IsolatedAsyncioTestCase):
    def test_refused(self):
        check = bind(connect, "localhost")
        self.assertRaisesRegex(ConnectionError, "localhost", check, 1)
""",
        line=10,
        files={
            "app/__init__.py": "",
            "app/net.py": "async def connect(host, port):\n    raise ConnectionError(host)\n",
        },
        fixed="""\
import unittest
from functools import partial as bind

from app.net import connect


class ConnectTest(unittest.IsolatedAsyncioTestCase):
    async def test_refused(self):
        check = bind(connect, "localhost")
        with self.assertRaisesRegex(ConnectionError, "localhost"):
            await connect("localhost", 1)
""",
        runnable=True,
        note="`partial` under another name, bound to a local first, of an async function of "
        "another module; a sync test of an `IsolatedAsyncioTestCase` becomes `async def`.",
    ),
    Invalid(
        """\
import unittest

from app.repo import Repository


class RepoTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.repo = Repository()

    async def test_missing(self):
        self.assertRaises(KeyError, lambda: self.repo.get("nobody"))
""",
        line=11,
        files={
            "app/__init__.py": "",
            "app/repo.py": """\
class Repository:
    async def get(self, user_id):
        raise KeyError(user_id)
""",
        },
        fixed="""\
import unittest

from app.repo import Repository


class RepoTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.repo = Repository()

    async def test_missing(self):
        with self.assertRaises(KeyError):
            await self.repo.get("nobody")
""",
        runnable=True,
        note="A `lambda` that calls an async method.",
    ),
    Invalid(
        """\
import unittest as ut


async def parse_port(text):
    raise ValueError(text)


class PortTest(ut.TestCase):
    def test_rejects_words(self):
        with self.assertRaises(ValueError):
            port = parse_port("ssh")
""",
        line=11,
        fixed="""\
import unittest as ut


async def parse_port(text):
    raise ValueError(text)


class PortTest(ut.IsolatedAsyncioTestCase):
    async def test_rejects_words(self):
        with self.assertRaises(ValueError):
            port = await parse_port("ssh")
""",
        runnable=True,
        note="The context-manager form in a sync test, the coroutine stored in a local that is "
        "never used.",
    ),
)

AssertRaisesAsyncCallable.valid = (
    Valid(
        """\
import unittest


async def parse_port(text):
    raise ValueError(text)


def parse_sync(text):
    raise ValueError(text)


class PortTest(unittest.IsolatedAsyncioTestCase):
    async def test_rejects_words(self):
        with self.assertRaises(ValueError):
            await parse_port("http")
        self.assertRaises(ValueError, parse_sync, "http")
""",
        note="Awaited inside the block; a sync callable in the callable form.",
    ),
    Valid(
        """\
import unittest

from asgiref.sync import async_to_sync


@async_to_sync
async def parse_port(text):
    raise ValueError(text)


class PortTest(unittest.TestCase):
    def test_rejects_words(self):
        self.assertRaises(ValueError, parse_port, "http")
        with self.assertRaises(ValueError):
            parse_port("ssh")
""",
        note="`async_to_sync` turns the coroutine function into a sync callable that runs it.",
    ),
    Valid(
        """\
import pytest


async def load(path):
    raise FileNotFoundError(path)


def test_missing_file():
    coro = load("nope")
    with pytest.raises(FileNotFoundError):
        coro.send(None)
""",
        path="tests/test_files.py",
        note="The coroutine is driven by hand with `send()`.",
    ),
    Valid(
        """\
import unittest


async def connect(host, port):
    return (host, port)


class SignatureTest(unittest.IsolatedAsyncioTestCase):
    async def test_port_is_required(self):
        with self.assertRaises(TypeError):
            connect("localhost")
        self.assertRaises(TypeError, connect, "localhost", 1, 2)
""",
        note="Wrong arguments raise `TypeError` at the call, before a coroutine exists: a "
        "signature test, silent for `TypeError`.",
    ),
)

AssertRaisesAsyncCallable.valid += (
    Valid(
        """\
import functools
import unittest


def parse_sync(text):
    raise ValueError(text)


class PortTest(unittest.TestCase):
    def test_rejects_words(self):
        self.assertRaises(ValueError, functools.partial(parse_sync, "http"))
        self.assertRaises(ValueError, lambda: parse_sync("ssh"))
""",
        note="A partial and a lambda of a sync function.",
    ),
    Valid(
        """\
import unittest
from functools import partial


async def parse_port(text):
    raise ValueError(text)


class PortTest(unittest.IsolatedAsyncioTestCase):
    async def test_rejects_words(self):
        check = partial(parse_port, "http")
        with self.assertRaises(ValueError):
            await check()
        with self.assertRaises(ValueError):
            await partial(parse_port, "ssh")()
""",
        note="A partial of an async function that is called and awaited inside the block.",
    ),
    Valid(
        """\
import unittest
from functools import partial


async def parse_port(text):
    raise ValueError(text)


class PortTest(unittest.TestCase):
    def test_signature(self):
        self.assertRaises(TypeError, partial(parse_port, "a", "b"))
        with self.assertRaises(TypeError):
            parse_port()
""",
        note="A partial with wrong arguments raises `TypeError` at the call, before a "
        "coroutine exists: a signature test.",
    ),
)
