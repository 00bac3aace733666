"""ATL205: `addCleanup()` of a callable returning a coroutine, in an `IsolatedAsyncioTestCase`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from ..analysis.model import CallSite, ClassInfo, FunctionInfo
from ..analysis.semantics import ClassKind
from ..analysis.summary import FunctionSummary
from ..context import Context
from ..fixes.expressions import add_await
from ..model import Diagnostic, Edit, Fix, Safety, TextRange
from ._lifecycle import (
    attribute_name_range,
    call_site,
    decorators_are_known_neutral,
    def_keyword_position,
)
from .base import Invalid, Rule, Valid

_CLEANUP_METHODS = ("addCleanup", "addAsyncCleanup")
_LOOPS = (
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
_EARLIER_HOOKS = {
    "setUp": frozenset(),
    "asyncSetUp": frozenset({"setUp"}),
}


@dataclass
class _Found:
    site: CallSite
    cls: ClassInfo
    message: str
    #: the lambda's body call (lambda form) or the wrapper (callable form).
    inner: CallSite | None = None
    wrapper: FunctionInfo | None = None


class AddCleanupCoroutine(Rule):
    code = "ATL205"
    name = "add-cleanup-coroutine"
    family = "T8"
    summary = "`addCleanup()` of a sync callable that returns a coroutine: never awaited on 3.11+"
    what = (
        "In an `IsolatedAsyncioTestCase`, finds `self.addCleanup(...)` (and `addAsyncCleanup`) "
        "given a `lambda` whose call returns a coroutine (`lambda: client.close()` where `close` "
        "is an `async def` of the project or a known async API), or a sync function or method "
        "that returns the coroutine of an async call (`def close_client(self): return "
        "self.client.aclose()`)."
    )
    why = (
        "From Python 3.11 on, `IsolatedAsyncioTestCase` awaits a cleanup only when the callable "
        "itself is a coroutine function (`inspect.iscoroutinefunction`); anything else is called "
        "synchronously and its result dropped. A lambda or a sync wrapper returns the coroutine "
        "without being one, so the cleanup never runs: connections, servers and temporary state "
        "leak into later tests, and the only trace is a *coroutine ... was never awaited* "
        "RuntimeWarning. `addAsyncCleanup` is a plain alias of `addCleanup` here, so switching "
        "the method name alone does not help: the callable must be the coroutine function."
    )
    versions = (
        "3.8, 3.9 and 3.10: works (the runner awaits any awaitable a cleanup returns). 3.11, 3.12 "
        "and 3.13: the coroutine is created and never awaited. `self.addCleanup(client.aclose)` "
        "with an `async def aclose` works on every version."
    )
    fix_notes = (
        "A lambda around one call becomes `self.addAsyncCleanup(f, args...)` "
        "(`lambda: client.close(timeout=1)` -> `addAsyncCleanup(client.close, timeout=1)`), "
        "offered only when the called function is an `async def` and the callee and arguments "
        "are names and attributes that hold the same value when the cleanup is registered as "
        "when it runs (the lambda evaluated them late). A sync wrapper defined in this file whose "
        "body is `return <async call>` becomes `async def` and awaits the call, which keeps "
        "every other caller working. `addAsyncCleanup` does not need to be awaited: it only "
        "registers the callable.\n\n"
        "No automatic fix: when the lambda does more than one call, its callee is not an "
        "`async def` this analysis can see, or its arguments may change before the cleanup "
        "runs: write a small `async def` that awaits what must be awaited and register it with "
        "`self.addAsyncCleanup(...)`."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        for site in context.model.calls_named(*_CLEANUP_METHODS):
            found = _find(context, site)
            if found is None:
                continue
            fix = None
            if found.inner is not None and _lambda_fix_possible(context, found):
                fix = context.lazy_fix(
                    "Use addAsyncCleanup with the coroutine function",
                    Safety.SAFE,
                    partial(_lambda_fix, context, found),
                )
            elif found.wrapper is not None and _wrapper_fix_possible(context, found.wrapper):
                name = found.wrapper.name
                fix = context.lazy_fix(
                    f"Make {name} an async def that awaits the call",
                    Safety.SAFE,
                    partial(_wrapper_fix, context, found),
                )
            yield context.report(self, site.node, found.message, fix)


# -- detection -------------------------------------------------------------------------------


def _find(context: Context, site: CallSite) -> _Found | None:
    func = site.node.func
    if site.function is None or not isinstance(func, ast.Attribute) or not site.node.args:
        return None
    method = site.function.enclosing_method()
    cls = method.cls if method is not None else None
    if cls is None or context.semantics.kind(cls) is not ClassKind.ISOLATED:
        return None
    if not _is_receiver(context, func.value, site):
        return None
    target = site.node.args[0]
    where = f"in {cls.name} (an IsolatedAsyncioTestCase)"
    if isinstance(target, ast.Lambda):
        inner = _lambda_call(context, target)
        if inner is None or not context.semantics.returns_coroutine(inner):
            return None
        callee = context.source_of(inner.node.func)
        message = (
            f"{func.attr}() of a lambda returning the coroutine of {callee}() {where}: "
            "never awaited on Python 3.11+"
        )
        return _Found(site, cls, message, inner=inner)
    if isinstance(target, (ast.Name, ast.Attribute)):
        summary, wrapper = _callable(context, target, site, cls)
        if summary is None or summary.is_async:
            return None
        if not (
            summary.returns_awaitable
            or (wrapper is not None and _returns_coroutine(context, wrapper))
        ):
            return None
        name = context.source_of(target)
        message = (
            f"{func.attr}({name}) {where}: {name} is a sync function returning a coroutine, "
            "never awaited on Python 3.11+"
        )
        return _Found(site, cls, message, wrapper=wrapper)
    return None


def _is_receiver(context: Context, expr: ast.expr, site: CallSite) -> bool:
    receiver = context.semantics.receiver(site.function) if site.function is not None else None
    if receiver is None or not isinstance(expr, ast.Name) or expr.id != receiver:
        return False
    bindings = context.model.lookup(receiver, site.scope)
    return bool(bindings) and all(binding.kind == "param" for binding in bindings or ())


def _lambda_call(context: Context, node: ast.Lambda) -> CallSite | None:
    arguments = node.args
    if (
        arguments.posonlyargs
        or arguments.args
        or arguments.kwonlyargs
        or arguments.vararg
        or arguments.kwarg
    ):
        return None
    if not isinstance(node.body, ast.Call):
        return None
    return call_site(context.model, node.body)


def _callable(
    context: Context, target: ast.expr, site: CallSite, cls: ClassInfo
) -> tuple[FunctionSummary | None, FunctionInfo | None]:
    """The summary of the function `target` names, and its definition when it is in this file."""
    semantics = context.semantics
    if isinstance(target, ast.Attribute):
        if _is_receiver(context, target.value, site):
            if target.attr in semantics.self_attribute_assignments(cls):
                return None, None  # an instance attribute shadows any method
            summary = semantics.find_method(semantics.class_summary(cls), target.attr)
            return summary, cls.methods.get(target.attr)
        instance = semantics.instance_class(target.value, site)
        if instance is not None:
            return semantics.find_method(instance, target.attr), None
    name = context.model.qualified_name(target, site.scope)
    if name is None:
        return None, None
    wrapper = None
    if isinstance(target, ast.Name):
        binding = context.model.resolve_binding(target.id, site.scope)
        if binding is not None and binding.kind == "function":
            wrapper = binding.function
    return semantics.find_function(name), wrapper


def _returns_coroutine(context: Context, wrapper: FunctionInfo) -> bool:
    """A `return <call>` of the wrapper certainly returns a coroutine."""
    if wrapper.is_async:
        return False
    for node in _own_returns(wrapper):
        if isinstance(node.value, ast.Call):
            inner = call_site(context.model, node.value)
            if inner is not None and context.semantics.returns_coroutine(inner):
                return True
    return False


def _own_returns(function: FunctionInfo) -> Iterator[ast.Return]:
    stack: list[ast.AST] = list(function.node.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))


# -- the lambda fix --------------------------------------------------------------------------


def _lambda_fix_possible(context: Context, found: _Found) -> bool:
    inner = found.inner
    site = found.site
    if inner is None or len(site.node.args) != 1 or site.node.keywords:
        return False
    called = context.semantics.called_function(inner)
    if called is None or not called.is_async or getattr(called, "is_async_generator", False):
        return False
    if _inside_loop(context, site.node) or not _only_argument(context, site.node):
        return False
    stable = _Stability(context, site, found.cls)
    call = inner.node
    if not stable.callee(call.func):
        return False
    values = [*call.args, *(keyword.value for keyword in call.keywords)]
    return all(
        stable.value(value.value if isinstance(value, ast.Starred) else value) for value in values
    )


def _lambda_fix(context: Context, found: _Found) -> Fix | None:
    inner = found.inner
    if inner is None:
        return None
    site = found.site.node
    lam = site.args[0]
    func = site.func
    if not isinstance(func, ast.Attribute) or not _only_argument(context, site):
        return None
    call = inner.node
    parts = [context.source_of(call.func)]
    parts.extend(context.source_of(argument) for argument in call.args)
    for keyword in call.keywords:
        value = context.source_of(keyword.value)
        parts.append(f"**{value}" if keyword.arg is None else f"{keyword.arg}={value}")
    edits = (
        Edit(attribute_name_range(context, func), "addAsyncCleanup"),
        Edit(context.range(lam), ", ".join(parts)),
    )
    return Fix("Use addAsyncCleanup with the coroutine function", Safety.SAFE, edits)


def _only_argument(context: Context, site: ast.Call) -> bool:
    """`addCleanup(lambda: ...)` with nothing else between the parentheses (no extra
    parentheses around the lambda, no comments)."""
    lines = context.parsed.lines
    lam = site.args[0]
    before = lines.slice(TextRange(context.range(site.func).end, context.range(lam).start))
    after = lines.slice(TextRange(context.range(lam).end, context.range(site).end))
    return before.strip() == "(" and after.strip() in (")", ",)")


def _inside_loop(context: Context, node: ast.AST) -> bool:
    current = context.model.parent(node)
    while current is not None and not isinstance(
        current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)
    ):
        if isinstance(current, _LOOPS):
            return True
        current = context.model.parent(current)
    return False


class _Stability:
    """Whether an expression has the same value when `addCleanup` runs as when the cleanup runs
    (the lambda evaluated it late; `addAsyncCleanup(f, x)` evaluates it at once)."""

    def __init__(self, context: Context, site: CallSite, cls: ClassInfo) -> None:
        self.context = context
        self.site = site
        self.cls = cls
        self.receiver = (
            context.semantics.receiver(site.function) if site.function is not None else None
        )

    def callee(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Attribute):
            if isinstance(expr.value, ast.Name) and expr.value.id == self.receiver:
                return self._self_attribute(expr.attr)
            return self.value(expr.value) or self._module_attribute(expr.value)
        return self.value(expr)

    def value(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Constant):
            return True
        if isinstance(expr, ast.Name):
            return self._name(expr.id)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            if expr.value.id == self.receiver:
                return self._self_attribute(expr.attr)
            return self._module_attribute(expr.value)
        return False

    def _name(self, name: str) -> bool:
        model = self.context.model
        if name == self.receiver:
            return True
        bindings = model.lookup(name, self.site.scope)
        if not bindings or len(bindings) != 1:
            return False
        binding = bindings[0]
        if binding.kind in ("import", "class") or (
            binding.kind == "function" and binding.qualified_name
        ):
            return True
        if binding.kind != "assign" or not isinstance(binding.node, ast.expr):
            return False
        function = self.site.function
        if function is None or name not in function.scope.bindings:
            return False  # bound in an enclosing scope: may change between the two moments
        statement = model.parent(binding.node)
        return statement is not None and self._before_site(statement)

    def _module_attribute(self, expr: ast.expr) -> bool:
        """`asyncio.sleep`, `pkg.module.close`: attributes of an imported module."""
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return False
        bindings = self.context.model.lookup(expr.id, self.site.scope)
        return bool(bindings) and len(bindings or ()) == 1 and bindings[0].kind == "import"  # type: ignore[index]

    def _self_attribute(self, attribute: str) -> bool:
        semantics = self.context.semantics
        assignments = semantics.self_attribute_assignments(self.cls)
        if attribute not in assignments:
            # a method of the class (not shadowed by an instance attribute of this class)
            return semantics.find_method(semantics.class_summary(self.cls), attribute) is not None
        if len(assignments[attribute]) != 1:
            return False
        value = assignments[attribute][0]
        assigning = self._method_of(value)
        method = self.site.function.enclosing_method() if self.site.function is not None else None
        if assigning is None or method is None:
            return False
        if assigning is method:
            statement = self.context.model.parent(value)
            return statement is not None and self._before_site(statement)
        return assigning.name in _EARLIER_HOOKS.get(method.name, frozenset({"setUp", "asyncSetUp"}))

    def _method_of(self, node: ast.AST) -> FunctionInfo | None:
        current: ast.AST | None = node
        model = self.context.model
        while current is not None:
            if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
                function = model.function_of(current)
                return function.enclosing_method() if function is not None else None
            current = model.parent(current)
        return None

    def _before_site(self, statement: ast.AST) -> bool:
        site_start = self.context.range(self.site.node).start
        return self.context.range(statement).end <= site_start and not _inside_loop(
            self.context, self.site.node
        )


# -- the wrapper fix -------------------------------------------------------------------------


def _wrapper_fix_possible(context: Context, wrapper: FunctionInfo) -> bool:
    if wrapper.is_async or not decorators_are_known_neutral(context.semantics, wrapper):
        return False
    body = list(wrapper.node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    if (
        len(body) != 1
        or not isinstance(body[0], ast.Return)
        or not isinstance(body[0].value, ast.Call)
    ):
        return False
    inner = call_site(context.model, body[0].value)
    return inner is not None and context.semantics.returns_coroutine(inner)


def _wrapper_fix(context: Context, found: _Found) -> Fix | None:
    wrapper = found.wrapper
    if wrapper is None:
        return None
    position = def_keyword_position(context, wrapper)
    body = [statement for statement in wrapper.node.body if isinstance(statement, ast.Return)]
    if position is None or len(body) != 1 or not isinstance(body[0].value, ast.Call):
        return None
    edits = (
        Edit(TextRange(position, position), "async "),
        *add_await(context.model, body[0].value),
    )
    return Fix(f"Make {wrapper.name} an async def that awaits the call", Safety.SAFE, edits)


_TEXTBOOK = """\
import unittest


class Client:
    closed = False

    async def close(self):
        Client.closed = True


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def test_request(self):
        client = Client()
        self.addCleanup(lambda: client.close())
        self.assertFalse(client.closed)
"""

_TEXTBOOK_FIXED = """\
import unittest


class Client:
    closed = False

    async def close(self):
        Client.closed = True


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def test_request(self):
        client = Client()
        self.addAsyncCleanup(client.close)
        self.assertFalse(client.closed)
"""

AddCleanupCoroutine.invalid = (
    Invalid(_TEXTBOOK, line=14, fixed=_TEXTBOOK_FIXED, runnable=True),
    Invalid(
        """\
from unittest import IsolatedAsyncioTestCase as IATC

from app.pool import Pool


class PoolTest(IATC):
    async def asyncSetUp(self):
        self.pool = Pool()
        self.addCleanup(lambda: self.pool.shutdown(self.pool, force=True))

    async def test_size(self):
        self.assertEqual(self.pool.size, 1)
""",
        line=9,
        files={
            "app/__init__.py": "",
            "app/pool.py": """\
class Pool:
    size = 1

    async def shutdown(self, pool, force=False):
        assert force and pool is self
""",
        },
        fixed="""\
from unittest import IsolatedAsyncioTestCase as IATC

from app.pool import Pool


class PoolTest(IATC):
    async def asyncSetUp(self):
        self.pool = Pool()
        self.addAsyncCleanup(self.pool.shutdown, self.pool, force=True)

    async def test_size(self):
        self.assertEqual(self.pool.size, 1)
""",
        runnable=True,
        note="`IATC` alias, an attribute set earlier in the hook, positional and keyword args.",
    ),
    Invalid(
        """\
import unittest as ut


class Server:
    async def stop(self):
        pass


class ServerTest(ut.IsolatedAsyncioTestCase):
    def stop_server(self):
        return self.server.stop()

    async def asyncSetUp(self):
        self.server = Server()
        self.addCleanup(self.stop_server)

    async def test_running(self):
        self.assertIsNotNone(self.server)
""",
        line=15,
        fixed="""\
import unittest as ut


class Server:
    async def stop(self):
        pass


class ServerTest(ut.IsolatedAsyncioTestCase):
    async def stop_server(self):
        return await self.server.stop()

    async def asyncSetUp(self):
        self.server = Server()
        self.addCleanup(self.stop_server)

    async def test_running(self):
        self.assertIsNotNone(self.server)
""",
        runnable=True,
        note="A sync helper method that returns the coroutine: it becomes the coroutine function.",
    ),
    Invalid(
        """\
import asyncio

from tests.base import ApiTestCase


class LimitTest(ApiTestCase):
    async def test_limit(self):
        self.addCleanup(lambda: asyncio.sleep(0))
""",
        line=8,
        files={
            "tests/base.py": """\
import unittest


class ApiTestCase(unittest.IsolatedAsyncioTestCase):
    pass
""",
        },
        fixed="""\
import asyncio

from tests.base import ApiTestCase


class LimitTest(ApiTestCase):
    async def test_limit(self):
        self.addAsyncCleanup(asyncio.sleep, 0)
""",
        runnable=True,
        note="A known async API; the IsolatedAsyncioTestCase base is in another file.",
    ),
    Invalid(
        """\
import unittest


class LimitTest(unittest.IsolatedAsyncioTestCase):
    async def test_limit(self):
        self.addAsyncCleanup(lambda: self.reset_later())

    def reset_later(self):
        return self.reset()

    async def reset(self):
        pass
""",
        line=6,
        note=(
            "`addAsyncCleanup` of a lambda around a sync helper returning a coroutine: reported, "
            "no fix (`addAsyncCleanup(self.reset_later)` would still not be awaited on 3.11+; "
            "`addAsyncCleanup(self.reset)` is the cure when the helper adds nothing)."
        ),
    ),
)

AddCleanupCoroutine.valid = (
    Valid(
        """\
import unittest


class Client:
    async def aclose(self):
        pass


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = Client()
        self.addCleanup(self.client.aclose)

    async def test_client(self):
        self.assertIsNotNone(self.client)
""",
        note="An `async def` bound method: awaited by the runner on every version.",
    ),
    Valid(
        """\
import unittest


class Store:
    def close(self):
        pass


class StoreTest(unittest.IsolatedAsyncioTestCase):
    async def test_store(self):
        store = Store()
        self.addCleanup(lambda: store.close())
        self.addCleanup(store.close)
""",
        note="Sync callables: nothing to await.",
    ),
    Valid(
        """\
import unittest

from app.client import make_client


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def test_client(self):
        client = make_client()
        self.addAsyncCleanup(client.aclose)
        self.addCleanup(lambda: client.shutdown())
""",
        note="The callee cannot be resolved (an unknown factory's result): stay silent.",
    ),
)
