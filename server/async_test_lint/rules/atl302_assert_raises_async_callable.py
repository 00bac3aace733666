"""ATL302: `assertRaises` given a coroutine function, or wrapping an unawaited coroutine call."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial

from ..analysis.coroutines import (
    RAISES_METHODS,
    call_label,
    callable_creates_coroutine,
    creates_coroutine,
    expects_type_error,
    is_raises_call,
    self_method_call,
    where,
)
from ..analysis.model import CallSite, FunctionInfo
from ..context import Context
from ..fixes.expressions import await_fix
from ..model import Diagnostic, Edit, Fix, Safety, TextRange
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
        "`AsyncMock`), and `with self.assertRaises(Err): fetch()` (also `assertRaisesRegex` and "
        "`pytest.raises`) where a statement of the block calls a coroutine function without "
        "`await`."
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
        "await fetch(arg)` (keyword arguments go to `fetch`, as `assertRaises` passed them), "
        "and in the context-manager form the call is awaited. In a sync test there is no fix: "
        "the test must become a coroutine first (convert the class to `IsolatedAsyncioTestCase`, "
        "see ATL101/ATL201); the same rewrite then applies."
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
        if not callable_creates_coroutine(model, semantics, target, site):
            return
        name = context.source_of(target)
        message = (
            f"self.{method}() gets the coroutine function {name}: calling it only creates a "
            f"coroutine that is never awaited, so nothing raises ({where(function)})"
        )
        fix = None
        if function.is_async:
            fix = context.lazy_fix(
                f"Use `with self.{method}(...)` and await {name}()",
                Safety.SAFE,
                lambda: _callable_form_fix(context, site, function, position),
            )
        else:
            message += "; the test must become async before it can await it"
        yield context.report(self, site.node, message, fix)

    def _check_block(
        self, context: Context, site: CallSite, function: FunctionInfo
    ) -> Iterator[Diagnostic]:
        model, semantics = context.model, context.semantics
        with_node = model.parent(site.parent)
        if not isinstance(with_node, ast.With):
            return
        by_node = {id(call.node): call for call in function.calls}
        manager = context.source_of(site.node.func)
        for statement in _statements(with_node.body):
            if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
                continue
            inner = by_node.get(id(statement.value))
            if inner is None or inner.awaited or inner.scope is not function.scope:
                continue
            if not creates_coroutine(model, semantics, inner):
                continue
            label = call_label(model, inner.node)
            message = (
                f"{label} inside `with {manager}(...)` only creates a coroutine that is never "
                f"awaited, so nothing raises ({where(function)})"
            )
            fix = None
            if function.is_async:
                title = f"Await {label}"
                fix = context.lazy_fix(
                    title, Safety.SAFE, partial(await_fix, model, inner.node, title)
                )
            else:
                message += "; the test must become async before it can await it"
            yield context.report(self, inner.node, message, fix)


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


def _callable_form_fix(
    context: Context, site: CallSite, function: FunctionInfo, position: int
) -> Fix | None:
    """`self.assertRaises(E, f, a, k=v)` -> `with self.assertRaises(E):` + `await f(a, k=v)`."""
    statement = site.parent
    if not isinstance(statement, ast.Expr) or statement.value is not site.node:
        return None
    call = site.node
    if any(keyword.arg is None for keyword in call.keywords):
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
    unit = _indent_unit(context, function)
    source = context.source_of
    manager_arguments = ", ".join(source(argument) for argument in call.args[:position])
    call_arguments = [source(argument) for argument in call.args[position + 1 :]]
    call_arguments += [f"{keyword.arg}={source(keyword.value)}" for keyword in call.keywords]
    newline = newline_of(context.text)
    new_text = (
        f"with {source(call.func)}({manager_arguments}):{newline}"
        f"{indent}{unit}await {source(call.args[position])}({', '.join(call_arguments)})"
    )
    title = "Use the context-manager form and await the call"
    return Fix(title, Safety.SAFE, (Edit(TextRange(text_range.start, text_range.end), new_text),))


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
