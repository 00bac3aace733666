"""ATL401: a `Mock`/`MagicMock` installed where the code under test awaits it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial
from typing import Optional

from ..analysis.mocks import (
    _INSPECTING_ATTRIBUTES,
    MockUse,
    awaited_via_methods,
    class_of_function,
    constructor_attribute,
    instance_of,
    is_plain_value,
    plain_sync_mock,
    receiver_chain,
    short_name,
)
from ..analysis.model import CallSite, ClassInfo, FunctionInfo
from ..analysis.names import ASYNC_MOCK, MAGIC_MOCK, MOCK
from ..context import Context
from ..fixes.mocks import async_mock_fix
from ..model import Diagnostic, Safety
from .base import Invalid, Rule, Valid

#: A chain of names from a root: ("svc", "repo") for `svc.repo`; the receiver is spelled "self".
ChainKey = tuple[str, ...]
_SELF = "<self>"


class SyncMockAwaited(Rule):
    code = "ATL401"
    name = "sync-mock-awaited"
    family = "T5"
    summary = "A `Mock`/`MagicMock` replaces a dependency that the code under test awaits"
    what = (
        "Finds a plain `Mock(...)`/`MagicMock(...)` (no `spec`, `spec_set`, `wraps` or "
        "`side_effect`; a `return_value` that is a literal, given as keyword or set later with "
        "`m.return_value = ...`) that ends up in an attribute the code under test awaits: "
        "assigned to `obj.dep` (directly, through a local, or through `self.dep` made in "
        "`setUp`) where `obj` is an instance of a project class whose methods (or its bases' "
        "methods) `await self.dep(...)` or `await self.dep.method(...)`; or passed to the class's "
        "constructor, positionally or by keyword, for a parameter `__init__` stores in such an "
        "attribute. The awaited use must be one the test reaches: it calls a method of the "
        "object (directly, or through the methods that method calls on `self`) that awaits the "
        "attribute, and it does not replace that method on the object. The class is usually "
        "defined in another module of the project. A mock that is configured further "
        "(`m.get = AsyncMock()`, `m.side_effect = ...`, "
        "`configure_mock`) is left alone."
    )
    why = (
        "Calling a `Mock` returns another `Mock` (or the literal `return_value`), and neither can "
        "be awaited: the code under test raises *TypeError: object Mock can't be used in 'await' "
        "expression*. When that code catches broad exceptions (a retry loop, a fallback, a "
        "logged `except Exception`), the error is swallowed and the test passes for the wrong "
        "reason: it exercises the failure path, not the one it describes."
    )
    versions = (
        "All Python 3 versions. `AsyncMock` exists since 3.8; below that the fix is not "
        "offered (return a completed `asyncio.Future` instead)."
    )
    fix_notes = (
        "Unsafe: `Mock(...)`/`MagicMock(...)` becomes `AsyncMock(...)` with the same arguments "
        "(spelled through an existing `mock` module alias, or added to the `unittest.mock` "
        "import). Every call of an `AsyncMock` returns a coroutine, and so do calls of its child "
        "attributes: if the code also calls the mock (or one of its methods) synchronously, "
        "those calls now get unawaited coroutines. Check the sync uses, or give them their own "
        "`Mock` child (`m.close = Mock()`)."
    )
    fix_safety = Safety.UNSAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model, semantics = context.model, context.semantics
        reported: set[int] = set()
        for site in model.calls_named("Mock", "MagicMock"):
            function = site.function
            if function is None or site.scope is not function.scope or id(site.node) in reported:
                continue
            factory = plain_sync_mock(semantics, site.node, site.scope)
            if factory is None:
                continue
            for use in _uses(context, site, function):
                chain = awaited_via_methods(semantics, use.cls, use.called, use.attribute)
                if chain is None:
                    continue
                reported.add(id(site.node))
                cls_name = short_name(use.cls.qualname)
                message = (
                    f"{short_name(factory)}() becomes {use.description}, but {cls_name} awaits "
                    f"self.{chain}: a {short_name(factory)} cannot be awaited (use AsyncMock)"
                )
                fix = None
                if context.target >= (3, 8):
                    target = site.node.func
                    fix = context.lazy_fix(
                        "Use AsyncMock",
                        Safety.UNSAFE,
                        partial(async_mock_fix, model, target, "Use AsyncMock"),
                    )
                yield context.report(self, site.node, message, fix)
                break


def _uses(context: Context, site: CallSite, function: FunctionInfo) -> list[MockUse]:
    """Where the mock built at `site` goes; empty when it may be configured to be awaitable."""
    node = site.node
    parent = site.parent
    if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if len(targets) != 1:
            return []
        target = targets[0]
        if isinstance(target, ast.Name):
            return _holder_uses(context, _local_uses(context, function, target.id))
        attribute = receiver_chain(target, function, context.semantics)
        if attribute is not None:
            return _holder_uses(context, _self_uses(context, function, attribute, node))
        if isinstance(target, ast.Attribute):
            found = _attribute_install(context, function, target, node)
            if found is not None:
                return [found]
            return _child_installs(context, function, target, node)
        return []
    call = context.model.parent(parent) if isinstance(parent, ast.keyword) else parent
    if isinstance(call, ast.Call) and call.func is not node:
        found = _constructor_install(context, function, call, node)
        return [found] if found is not None else []
    return []


def _child_installs(
    context: Context, function: FunctionInfo, target: ast.Attribute, value: ast.expr
) -> list[MockUse]:
    """`db.fetch_one = Mock(...)` where `db` holds a mock installed as an awaited dependency:
    the child is what gets awaited (`await self.db.fetch_one(...)`)."""
    semantics, holder = context.semantics, target.value
    uses: _Uses = None
    if isinstance(holder, ast.Name):
        binding = context.model.resolve_binding(holder.id, function.scope)
        if (
            binding is None
            or binding.kind != "assign"
            or not _is_mock_call(context, binding.node, function)
        ):
            return []
        uses = _local_uses(context, function, holder.id)
    else:
        attribute = receiver_chain(holder, function, semantics)
        cls = class_of_function(function)
        if attribute is None or cls is None:
            return []
        assigned = semantics.self_attribute_value(cls, attribute)
        if assigned is None or not _is_mock_call(context, assigned, function):
            return []
        uses = _self_uses(context, function, attribute, assigned)
    if _configured(context, function, target, value):
        return []
    return [
        MockUse(
            value,
            context.source_of(target),
            install.cls,
            f"{install.attribute}.{target.attr}",
            install.called,
        )
        for install in _holder_uses(context, uses, configured_ok=True)
    ]


def _is_mock_call(context: Context, node: ast.AST | None, function: FunctionInfo) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = context.model.qualified_name(node.func, function.scope)
    return name in (MOCK, MAGIC_MOCK, ASYNC_MOCK)


_Uses = Optional[list[tuple[FunctionInfo, ast.expr]]]


def _holder_uses(context: Context, uses: _Uses, *, configured_ok: bool = False) -> list[MockUse]:
    """Installations through a local or `self.x` holding the mock; none when a use may configure
    it to be awaitable (unless `configured_ok`)."""
    if uses is None:
        return []
    model = context.model
    installs: list[MockUse] = []
    for where, use in uses:
        parent = model.parent(use)
        if isinstance(parent, ast.Attribute) and parent.value is use:
            if configured_ok or _inspects_or_returns_literal(context, use):
                continue
            return []
        if isinstance(parent, ast.Assign) and parent.value is use and len(parent.targets) == 1:
            target = parent.targets[0]
            if (
                isinstance(target, ast.Attribute)
                and receiver_chain(target, where, context.semantics) is None
            ):
                found = _attribute_install(context, where, target, use)
                if found is not None:
                    installs.append(found)
                continue
            return []  # another holder: it may be configured there
        call = model.parent(parent) if isinstance(parent, ast.keyword) else parent
        if isinstance(call, ast.Call) and call.func is not use:
            found = _constructor_install(context, where, call, use)
            if found is not None:
                installs.append(found)
            continue  # passed to a function: that does not make it awaitable
        return []
    return installs


def _inspects_or_returns_literal(context: Context, use: ast.expr) -> bool:
    """`m.assert_called_once()`, `m.call_count`, `m.get(...)`, `m.get.return_value = {...}`:
    uses that leave "calling it returns something that cannot be awaited" intact."""
    model = context.model
    node: ast.expr = use
    while True:
        parent = model.parent(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            if isinstance(parent.ctx, ast.Store):
                statement = model.parent(parent)
                return (
                    parent.attr == "return_value"
                    and isinstance(statement, ast.Assign)
                    and is_plain_value(statement.value)
                )
            if parent.attr in ("assert_not_called", "assert_not_awaited"):
                return False  # the test checks that the dependency is not used at all
            if parent.attr in _INSPECTING_ATTRIBUTES or parent.attr.startswith("assert_"):
                return True
            if parent.attr in _CONFIGURING:
                return False
            node = parent
            continue
        return isinstance(parent, ast.Call) and parent.func is node and node is not use


_CONFIGURING = frozenset({"configure_mock", "attach_mock", "mock_add_spec", "side_effect"})


def _local_uses(context: Context, function: FunctionInfo, name: str) -> _Uses:
    scope = function.scope
    if name in scope.globals or name in scope.nonlocals or len(scope.bindings.get(name, ())) != 1:
        return None
    uses: list[tuple[FunctionInfo, ast.expr]] = []
    stack: list[ast.AST] = list(function.node.body)
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if any(isinstance(inner, ast.Name) and inner.id == name for inner in ast.walk(current)):
                return None
            continue
        if (
            isinstance(current, ast.Name)
            and current.id == name
            and isinstance(current.ctx, ast.Load)
        ):
            uses.append((function, current))
        stack.extend(ast.iter_child_nodes(current))
    return uses


def _self_uses(context: Context, function: FunctionInfo, attribute: str, value: ast.expr) -> _Uses:
    cls = class_of_function(function)
    if cls is None:
        return None
    values = context.semantics.self_attribute_assignments(cls).get(attribute, [])
    if len(values) != 1 or values[0] is not value:
        return None
    return [
        (method, node)
        for method, node in _attribute_loads(context, cls).get(attribute, ())
        if receiver_chain(node, method, context.semantics) == attribute
    ]


def _attribute_loads(
    context: Context, cls: ClassInfo
) -> dict[str, list[tuple[FunctionInfo, ast.Attribute]]]:
    """Attribute loads in the functions of `cls` (methods and functions nested in them), by
    name: built once per class, since every mock stored on `self` asks."""
    key = f"atl401:attribute-loads:{id(cls.node)}"
    cached = context.model.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    by_class = context.model.cache.get("atl401:functions-by-class")
    if by_class is None:
        by_class = {}
        for function in context.model.functions:
            owner = class_of_function(function)
            if owner is not None:
                by_class.setdefault(id(owner.node), []).append(function)
        context.model.cache["atl401:functions-by-class"] = by_class
    loads: dict[str, list[tuple[FunctionInfo, ast.Attribute]]] = {}
    for method in by_class.get(id(cls.node), ()):
        for node in method.attribute_loads:
            loads.setdefault(node.attr, []).append((method, node))
    context.model.cache[key] = loads
    return loads


def _own_nodes(function: FunctionInfo) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of functions nested in it."""
    stack: list[ast.AST] = list(function.node.body)
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(current))


def _attribute_install(
    context: Context, function: FunctionInfo, target: ast.Attribute, value: ast.expr
) -> MockUse | None:
    cls = instance_of(context.semantics, target.value, function)
    if cls is None:
        return None
    if _configured(context, function, target, value):
        return None
    called = _called_methods(context, function, target.value)
    return MockUse(value, context.source_of(target), cls, target.attr, called)


def _constructor_install(
    context: Context, function: FunctionInfo, call: ast.Call, argument: ast.expr
) -> MockUse | None:
    found = constructor_attribute(context.semantics, call, function.scope, argument)
    if found is None:
        return None
    cls, parameter, attribute = found
    description = f"{short_name(cls.qualname)}({parameter}=...)"
    parent = context.model.parent(call)
    if isinstance(parent, ast.Attribute) and parent.value is call:
        # `Service(repo=Mock()).run()`: the method is called on the new object at once.
        grandparent = context.model.parent(parent)
        if isinstance(grandparent, ast.Call) and grandparent.func is parent:
            return MockUse(argument, description, cls, attribute, frozenset({parent.attr}))
        return None
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and parent.value is call):
        return None
    owner = parent.targets[0]
    key = _chain_key(owner, function, context)
    if key is None or _configured_key(context, function, (*key, attribute), None):
        return None  # `service.repo.get = AsyncMock()` configures the mock through the object
    return MockUse(argument, description, cls, attribute, _called_methods(context, function, owner))


def _called_methods(context: Context, function: FunctionInfo, owner: ast.expr) -> frozenset[str]:
    """The methods called on `owner` (`svc.run()`), in the function, or in every method of the
    test class when `owner` is `self.svc`. Names the test replaces on the object (`svc.helper =
    ...`, `patch.object(svc, "helper", ...)`) come back prefixed with "-": their code never runs."""
    key = _chain_key(owner, function, context)
    if key is None:
        return frozenset()
    names: set[str] = set()
    for where in _functions_for(context, function, key):
        for call in where.calls:
            func = call.node.func
            if not isinstance(func, ast.Attribute):
                continue
            if _chain_key(func.value, where, context) == key:
                names.add(func.attr)
            elif (
                func.attr == "object"
                and len(call.node.args) >= 2
                and _chain_key(call.node.args[0], where, context) == key
                and isinstance(call.node.args[1], ast.Constant)
                and isinstance(call.node.args[1].value, str)
            ):
                names.add("-" + call.node.args[1].value)
        for node in _own_nodes(where):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                target = _chain_key(node, where, context)
                if target is not None and len(target) == len(key) + 1 and target[:-1] == key:
                    names.add(f"-{target[-1]}")
    return frozenset(names)


def _functions_for(context: Context, function: FunctionInfo, key: ChainKey) -> list[FunctionInfo]:
    cls = class_of_function(function)
    if key[0] == _SELF and cls is not None:
        return [f for f in context.model.functions if class_of_function(f) is cls]
    return [function]


def _chain_key(expr: ast.expr, function: FunctionInfo, context: Context) -> ChainKey | None:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    root = _SELF if expr.id == context.semantics.receiver(function) else expr.id
    return (root, *reversed(parts))


def _configured(
    context: Context, function: FunctionInfo, target: ast.Attribute, value: ast.expr
) -> bool:
    """Whether `target` is assigned again, or configured further (`target.get = ...`)."""
    key = _chain_key(target, function, context)
    return key is None or _configured_key(context, function, key, value)


def _configured_key(
    context: Context, function: FunctionInfo, key: ChainKey, value: ast.expr | None
) -> bool:
    for where in _functions_for(context, function, key):
        for node in _own_nodes(where):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for assigned in targets:
                    other = _chain_key(assigned, where, context)
                    if other is None or other[: len(key)] != key:
                        continue
                    if other == key and node.value is value:
                        continue
                    if (
                        other[-1] == "return_value"
                        and not _CONFIGURING.intersection(other[len(key) :])
                        and isinstance(node, ast.Assign)
                        and is_plain_value(node.value)
                    ):
                        continue
                    return True
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("configure_mock", "attach_mock", "mock_add_spec")
            ):
                owner = _chain_key(node.func.value, where, context)
                if owner is not None and owner[: len(key)] == key:
                    return True
    return False


_SERVICE = """\
class UserService:
    def __init__(self, repo=None):
        self.repo = repo

    async def name_of(self, user_id):
        try:
            user = await self.repo.get(user_id)
        except Exception:
            return "unknown"
        return user["name"]
"""

SyncMockAwaited.invalid = (
    Invalid(
        """\
import unittest
from unittest.mock import Mock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_unknown_user(self):
        service = UserService()
        service.repo = Mock()
        service.repo.get.return_value = {"name": "ada"}
        self.assertEqual(await service.name_of(1), "ada")
""",
        line=10,
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        fixed="""\
import unittest
from unittest.mock import Mock, AsyncMock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_unknown_user(self):
        service = UserService()
        service.repo = AsyncMock()
        service.repo.get.return_value = {"name": "ada"}
        self.assertEqual(await service.name_of(1), "ada")
""",
        runnable=True,
        note='The broad `except` of the service turns the TypeError into "unknown", so the '
        'test fails far from the cause (a test expecting "unknown" would pass for the wrong '
        "reason). The awaited `repo` is set on the object after construction.",
    ),
    Invalid(
        """\
import unittest
from unittest import mock as m

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.repo = m.MagicMock()
        self.repo.get.return_value = {"name": "ada"}
        self.service = UserService(repo=self.repo)

    async def test_name(self):
        self.assertEqual(await self.service.name_of(1), "ada")
""",
        line=9,
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        fixed="""\
import unittest
from unittest import mock as m

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.repo = m.AsyncMock()
        self.repo.get.return_value = {"name": "ada"}
        self.service = UserService(repo=self.repo)

    async def test_name(self):
        self.assertEqual(await self.service.name_of(1), "ada")
""",
        runnable=True,
        note="`from unittest import mock as m`; a `MagicMock` made in `setUp` and passed to the "
        "constructor by keyword.",
    ),
    Invalid(
        """\
import unittest
from unittest.mock import MagicMock

from app.notify import Notifier


class NotifierTest(unittest.IsolatedAsyncioTestCase):
    async def test_send(self):
        send = MagicMock()
        send.return_value = True
        notifier = Notifier(send)
        self.assertTrue(await notifier.notify("hi"))
""",
        line=9,
        files={
            "app/notify.py": """\
class Base:
    async def notify(self, text):
        return await self.transport(text)


class Notifier(Base):
    def __init__(self, transport):
        self.transport = transport
""",
        },
        fixed="""\
import unittest
from unittest.mock import MagicMock, AsyncMock

from app.notify import Notifier


class NotifierTest(unittest.IsolatedAsyncioTestCase):
    async def test_send(self):
        send = AsyncMock()
        send.return_value = True
        notifier = Notifier(send)
        self.assertTrue(await notifier.notify("hi"))
""",
        runnable=True,
        note="A local mock with `return_value` set afterwards, passed positionally; the awaiting "
        "method is on a base class.",
    ),
)

SyncMockAwaited.valid = (
    Valid(
        """\
import unittest
from unittest import mock

from app.multipart import ResponseWrapper


class WrapperTest(unittest.IsolatedAsyncioTestCase):
    async def test_next(self):
        wrapper = ResponseWrapper(mock.Mock(), mock.Mock())
        wrapper.stream.next = mock.AsyncMock(return_value=b"")
        wrapper.stream.at_eof.return_value = False
        await wrapper.next()
""",
        files={
            "app/multipart.py": """\
class ResponseWrapper:
    def __init__(self, resp, stream):
        self.resp = resp
        self.stream = stream

    async def next(self):
        item = await self.stream.next()
        if self.stream.at_eof():
            await self.release()
        return item

    async def release(self):
        await self.resp.release()
""",
        },
        note=(
            "The Mock is awaited only on a branch the test turns off (aiohttp's multipart "
            "tests): only awaits on a method's unconditional path count."
        ),
    ),
    Valid(
        """\
import unittest
from unittest.mock import AsyncMock, MagicMock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_name(self):
        service = UserService(repo=AsyncMock())
        service.repo.get.return_value = {"name": "ada"}
        self.assertEqual(await service.name_of(1), "ada")

    async def test_spec(self):
        service = UserService(repo=MagicMock(spec=["get"]))
        self.assertEqual(await service.name_of(1), "unknown")
""",
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        note="`AsyncMock`, and a spec'd MagicMock.",
    ),
    Valid(
        """\
import asyncio
import unittest
from unittest.mock import Mock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_name(self):
        done = asyncio.get_running_loop().create_future()
        done.set_result({"name": "ada"})
        repo = Mock()
        repo.get.return_value = done
        service = UserService(repo)
        self.assertEqual(await service.name_of(1), "ada")
""",
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        note="The mock's method returns a completed future: awaiting it works (the pre-3.8 idiom).",
    ),
    Valid(
        """\
import unittest
from unittest.mock import Mock

from app.report import Report


class ReportTest(unittest.TestCase):
    def test_render(self):
        report = Report(formatter=Mock(return_value="x"))
        report.sink = Mock()
        self.assertEqual(report.render(), "x")
""",
        files={
            "app/report.py": """\
class Report:
    def __init__(self, formatter):
        self.formatter = formatter
        self.sink = None

    def render(self):
        return self.formatter()

    async def flush(self, client):
        await client.send(self.render())
""",
        },
        note="The attributes the mocks replace are only called synchronously; what is awaited is "
        "a parameter, not an attribute.",
    ),
    Valid(
        """\
import unittest
from unittest.mock import MagicMock

from app.service import UserService


class UserServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_repo_is_stored(self):
        repo = MagicMock()
        service = UserService(repo)
        self.assertIs(service.repo, repo)
        repo.get.assert_not_called()
""",
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
        note="The test never calls a method that awaits the mock, and asserts it is not used.",
    ),
)
