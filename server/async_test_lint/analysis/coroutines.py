"""Coroutines that are created and then lost: the facts ATL301, ATL302 and ATL303 share.

- `is_test_module`: where these rules look (see its docstring).
- `creates_coroutine`: a call that certainly creates a coroutine (never an async generator).
- `lost_use`: how the value of an expression is lost without being awaited, or None when it may be
  consumed (awaited later, returned, passed to a function we cannot see into, stored elsewhere).
- `raises_context`: the `self.assertRaises(...)`/`pytest.raises(...)` a statement runs under.
"""

from __future__ import annotations

import ast
from unittest.mock import AsyncMock

from .model import CallSite, FunctionInfo, SemanticModel
from .names import ASYNC_MOCK, PATCH, is_test_path
from .semantics import ClassKind, Semantics
from .summarize import decorators_are_neutral

#: Classes whose `self.assert*` methods are unittest's (directly or through a framework case).
UNITTEST_LIKE = frozenset(
    {
        ClassKind.PLAIN_TESTCASE,
        ClassKind.ISOLATED,
        ClassKind.ASYNC_FRAMEWORK,
        ClassKind.CUSTOM_RUNNER,
    }
)

#: `self.assert*` methods that only look at their arguments: a coroutine passed in is lost.
VALUE_ASSERTIONS = frozenset(
    {
        "assertTrue",
        "assertFalse",
        "assertIsNone",
        "assertIsNotNone",
        "assertEqual",
        "assertEquals",
        "assertNotEqual",
        "assertIs",
        "assertIsNot",
        "assertIn",
        "assertNotIn",
        "assertGreater",
        "assertGreaterEqual",
        "assertLess",
        "assertLessEqual",
        "assertCountEqual",
        "assertListEqual",
        "assertTupleEqual",
        "assertDictEqual",
        "assertSetEqual",
        "assertSequenceEqual",
        "assertAlmostEqual",
        "assertNotAlmostEqual",
    }
)

#: Builtins that only look at (or iterate) their argument.
LOSING_BUILTINS = frozenset(
    {
        "builtins.len",
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
        "builtins.sorted",
        "builtins.bool",
        "builtins.any",
        "builtins.all",
        "builtins.sum",
        "builtins.iter",
        "builtins.enumerate",
    }
)

RAISES_METHODS = frozenset({"assertRaises", "assertRaisesRegex"})
PYTEST_RAISES = "pytest.raises"
_MAX_DEPTH = 4


def is_test_module(model: SemanticModel, semantics: Semantics) -> bool:
    """A test module: named `test_*.py`, `*_test.py`, `tests.py` or `conftest.py`, or defining a
    class whose bases resolve to `unittest.TestCase` (directly or through a framework case)."""
    cached = model.cache.get("is-test-module")
    if cached is None:
        cached = is_test_path(model.path) or any(
            semantics.kind(cls) in UNITTEST_LIKE for cls in model.classes
        )
        model.cache["is-test-module"] = cached
    return bool(cached)


def creates_coroutine(model: SemanticModel, semantics: Semantics, call: CallSite) -> bool:
    """True only when the call certainly creates a coroutine."""
    func = call.node.func
    if isinstance(func, ast.Attribute):
        name = func.attr
    elif isinstance(func, ast.Name):
        name = func.id
    else:
        return False
    with_async_mocks = _uses_async_mock(model)
    if with_async_mocks and semantics.mock_factory_of_call(call) == ASYNC_MOCK:
        return True
    if not _calls_coroutine_function(model, semantics, call, with_async_mocks):
        return False
    # `client.fetch = Mock()` or `patch.object(Client, "fetch", new=...)` somewhere: not certain.
    return name not in _replaced_names(model)


def _calls_coroutine_function(
    model: SemanticModel, semantics: Semantics, call: CallSite, with_async_mocks: bool
) -> bool:
    func = call.node.func
    called = semantics.called_function(call)
    if called is not None:
        return (called.is_async and not called.is_async_generator) or called.returns_awaitable
    if isinstance(func, ast.Attribute):
        return with_async_mocks and _async_mock_child(model, semantics, func, call)
    if isinstance(func, ast.Name):
        # An `async def` nested in the calling function (module-level ones resolve above).
        binding = model.resolve_binding(func.id, call.scope)
        function = binding.function if binding is not None else None
        if function is not None and binding is not None and binding.qualified_name is None:
            return (
                function.is_async
                and decorators_are_neutral(model, function)
                and not function.yields
            )
    return False


def _uses_async_mock(model: SemanticModel) -> bool:
    """Whether the module constructs an `AsyncMock` anywhere (else no call can reach one)."""
    cached = model.cache.get("constructs-async-mock")
    if cached is None:
        names = {"AsyncMock"} | {
            local
            for local, bindings in model.module_scope.bindings.items()
            if any(binding.qualified_name == ASYNC_MOCK for binding in bindings)
        }
        cached = model.cache["constructs-async-mock"] = any(
            model.callee_name(site) == ASYNC_MOCK for site in model.calls_named(*names)
        )
    return bool(cached)


#: Attributes of a mock that are its own API, not auto-created children.
_MOCK_API = frozenset(name for name in dir(AsyncMock) if not name.startswith("__")) | frozenset(
    {
        "return_value",
        "side_effect",
        "called",
        "call_count",
        "call_args",
        "call_args_list",
        "mock_calls",
        "method_calls",
        "await_count",
        "await_args",
        "await_args_list",
    }
)


def _async_mock_child(
    model: SemanticModel, semantics: Semantics, func: ast.Attribute, call: CallSite
) -> bool:
    """`m.fetch()` where `m = AsyncMock()` (no spec): children of an AsyncMock are AsyncMocks."""
    if func.attr in _MOCK_API or func.attr.startswith(("assert", "_")):
        return False
    holder = func.value
    value: ast.AST | None = None
    if isinstance(holder, ast.Name):
        binding = model.resolve_binding(holder.id, call.scope)
        value = binding.node if binding is not None and binding.kind == "assign" else None
    elif call.function is not None and call.cls is not None:
        receiver = semantics.receiver(call.function)
        if (
            receiver is not None
            and isinstance(holder, ast.Attribute)
            and isinstance(holder.value, ast.Name)
            and holder.value.id == receiver
        ):
            value = semantics.self_attribute_value(call.cls, holder.attr)
    if not isinstance(value, ast.Call) or value.args:
        return False
    if model.qualified_name(value.func, call.scope) != ASYNC_MOCK:
        return False
    if any(
        keyword.arg in (None, "spec", "spec_set", "wraps", func.attr) for keyword in value.keywords
    ):
        return False
    configured = _assigned_attribute_names(model)
    return func.attr not in configured and "*" not in configured


def _replaced_names(model: SemanticModel) -> frozenset[str]:
    """Names this module may replace with something else: attributes it assigns, and the targets
    of its `patch(...)`/`patch.object(...)`/`patch.multiple(...)` calls."""
    cached = model.cache.get("replaced-names")
    if cached is None:
        names = set(_assigned_attribute_names(model))
        for site in model.calls_named("patch", "object", "multiple"):
            callee = model.callee_name(site)
            if callee is None or not callee.startswith(PATCH):
                continue
            for argument in site.node.args[:2]:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    names.add(argument.value.rpartition(".")[2])
            names.update(keyword.arg for keyword in site.node.keywords if keyword.arg)
        cached = model.cache["replaced-names"] = frozenset(names)
    return frozenset(cached)


def _assigned_attribute_names(model: SemanticModel) -> frozenset[str]:
    """Every `x.<name> = ...` target name in the module (a configured child is not auto-made)."""
    cached = model.cache.get("assigned-attribute-names")
    if cached is None:
        # From the model's one walk, not another walk of the whole tree.
        names = set(model.stored_attributes)
        configuring = model.calls_named("configure_mock", "attach_mock", "mock_add_spec")
        if any(isinstance(site.node.func, ast.Attribute) for site in configuring):
            names.add("*")
        cached = model.cache["assigned-attribute-names"] = frozenset(names)
    return frozenset(cached)


def callable_creates_coroutine(
    model: SemanticModel, semantics: Semantics, expr: ast.expr, site: CallSite
) -> bool:
    """Whether calling the callable `expr` (seen from `site`) certainly creates a coroutine."""
    if not isinstance(expr, (ast.Name, ast.Attribute)):
        return False
    probe = ast.Call(func=expr, args=[], keywords=[])
    fake = CallSite(probe, site.scope, site.function, site.cls, site.node, False)
    return creates_coroutine(model, semantics, fake)


def unittest_receiver(semantics: Semantics, function: FunctionInfo) -> str | None:
    """The `self` of a method of a unittest-like class (also from a function nested in it)."""
    method = function.enclosing_method()
    if method is None or method.cls is None:
        return None
    if semantics.kind(method.cls) not in UNITTEST_LIKE:
        return None
    return semantics.receiver(function)


def self_method_call(
    semantics: Semantics, call: ast.Call, function: FunctionInfo | None
) -> str | None:
    """`name` when `call` is `self.name(...)` on a unittest-like test case."""
    func = call.func
    if function is None or not (
        isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
    ):
        return None
    receiver = unittest_receiver(semantics, function)
    return func.attr if receiver is not None and func.value.id == receiver else None


def lost_use(
    model: SemanticModel,
    semantics: Semantics,
    node: ast.expr,
    function: FunctionInfo,
    depth: int = 0,
) -> str | None:
    """How the value of `node` is lost unawaited ("discarded", "passed to len()", ...), or None
    when it may be consumed."""
    if depth > _MAX_DEPTH:
        return None
    parent = model.parent(node)
    if isinstance(parent, ast.Expr):
        return "discarded"
    if isinstance(parent, (ast.If, ast.While, ast.IfExp)) and parent.test is node:
        return "tested for truth"
    if isinstance(parent, ast.Assert) and parent.test is node:
        return "asserted on"
    if isinstance(parent, ast.Compare):
        return "compared"
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return "negated"
    if isinstance(parent, ast.BoolOp):
        return lost_use(model, semantics, parent, function, depth + 1)
    if isinstance(parent, ast.For) and parent.iter is node:
        return "iterated"
    if isinstance(parent, ast.Call) and any(argument is node for argument in parent.args):
        assertion = self_method_call(semantics, parent, function)
        if assertion in VALUE_ASSERTIONS:
            return f"passed to self.{assertion}()"
        if isinstance(parent.func, ast.Name):
            name = model.qualified_name(parent.func, function.scope)
            if name in LOSING_BUILTINS:
                return f"passed to {parent.func.id}()"
        return None
    if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            return _lost_local(model, semantics, targets[0].id, function, depth)
    return None


def _lost_local(
    model: SemanticModel, semantics: Semantics, name: str, function: FunctionInfo, depth: int
) -> str | None:
    """`name` holds the value; it is lost when every use of the local loses it."""
    scope = function.scope
    if name in scope.globals or name in scope.nonlocals or len(scope.bindings.get(name, ())) != 1:
        return None
    uses: list[ast.Name] = []
    stack: list[ast.AST] = list(function.node.body)
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if any(isinstance(inner, ast.Name) and inner.id == name for inner in ast.walk(current)):
                return None  # used by a nested scope: it may be awaited there
            continue
        if (
            isinstance(current, ast.Name)
            and current.id == name
            and not isinstance(current.ctx, ast.Store)
        ):
            uses.append(current)
        stack.extend(ast.iter_child_nodes(current))
    for use in uses:
        if isinstance(use.ctx, ast.Del):
            continue
        if lost_use(model, semantics, use, function, depth + 1) is None:
            return None
    return f"stored in `{name}`" + (", never used" if not uses else ", only inspected")


def raises_context(
    model: SemanticModel, semantics: Semantics, statement: ast.stmt, function: FunctionInfo
) -> ast.Call | None:
    """The `self.assertRaises(...)`/`pytest.raises(...)` of a `with` that `statement` runs in."""
    node: ast.AST | None = statement
    while node is not None and node is not function.node:
        parent = model.parent(node)
        if isinstance(parent, ast.With) and any(node is child for child in parent.body):
            for item in parent.items:
                if is_raises_call(model, semantics, item.context_expr, function):
                    assert isinstance(item.context_expr, ast.Call)
                    return item.context_expr
        if not isinstance(parent, ast.stmt):
            return None
        node = parent
    return None


def enclosing_statement(model: SemanticModel, node: ast.AST) -> ast.stmt | None:
    current: ast.AST | None = node
    while current is not None and not isinstance(current, ast.stmt):
        current = model.parent(current)
    return current


def expects_type_error(model: SemanticModel, raises: ast.Call, function: FunctionInfo) -> bool:
    """`assertRaises(TypeError, ...)`: calling a coroutine function with wrong arguments raises
    `TypeError` at the call, before any coroutine exists; such tests are about the signature."""
    if not raises.args:
        return False
    expected = raises.args[0]
    options = expected.elts if isinstance(expected, ast.Tuple) else [expected]
    return any(
        model.qualified_name(option, function.scope) == "builtins.TypeError" for option in options
    )


def is_raises_call(
    model: SemanticModel, semantics: Semantics, expr: ast.expr, function: FunctionInfo
) -> bool:
    if not isinstance(expr, ast.Call):
        return False
    if self_method_call(semantics, expr, function) in RAISES_METHODS:
        return True
    return model.qualified_name(expr.func, function.scope) == PYTEST_RAISES


def where(function: FunctionInfo) -> str:
    """`test_fetch of UserTest`, or the function's name."""
    if function.cls is not None:
        return f"{function.name} of {function.cls.name}"
    method = function.enclosing_method()
    if method is not None and method.cls is not None:
        return f"{function.name} in {method.name} of {method.cls.name}"
    return function.name


def call_label(model: SemanticModel, call: ast.Call) -> str:
    """`fetch_user()` / `self.client.fetch()`: the callee as written, for messages."""
    text = model.source_of(call.func)
    if len(text) > 60 or "\n" in text:
        text = text.splitlines()[0][:57] + "..."
    return f"{text}()"
