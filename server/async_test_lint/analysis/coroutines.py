"""Coroutines that are created and then lost: the facts ATL301, ATL302 and ATL303 share.

- `is_test_module`: where these rules look (see its docstring).
- `creates_coroutine`: a call that certainly creates a coroutine (never an async generator).
- `lost_coroutine`: how the awaitable a call makes is lost without being awaited, or None when it
  may be consumed: a query on the value-flow layer (`flow.use_of` + `flow.reach`), judged use by
  use (`judge`) against one list of awaitable consumers (`AWAITABLE_CONSUMERS`,
  `AWAITABLE_CONSUMER_METHODS`) and of calls that only inspect a value (`LOSING_BUILTINS`,
  `self.assert*`, a mock's `assert_*`).
- `raises_context`: the `self.assertRaises(...)`/`pytest.raises(...)` a statement runs under.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass
from unittest.mock import AsyncMock

from .flow import ITEM, Reached, Role, Use
from .model import CallSite, FunctionInfo, SemanticModel
from .names import ASYNC_MOCK, PATCH, is_test_path
from .semantics import ClassKind, Semantics
from .summarize import decorators_are_neutral
from .summary import ModuleSummary

#: Classes whose `self.assert*` methods are unittest's (directly or through a framework case).
UNITTEST_LIKE = frozenset(
    {
        ClassKind.PLAIN_TESTCASE,
        ClassKind.ISOLATED,
        ClassKind.ASYNC_FRAMEWORK,
        ClassKind.CUSTOM_RUNNER,
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


#: Folders whose modules are test code: helpers there run on the tests' loops.
TEST_FOLDERS = frozenset({"tests", "test", "testing"})
_TEST_FRAMEWORKS = ("unittest", "pytest", "pytest_asyncio", "anyio.pytest_plugin")


def is_test_support_module(model: SemanticModel, semantics: Semantics) -> bool:
    """A test module (`is_test_module`), or a module of test utilities whose async helpers run
    on the tests' loops: under a `tests/`, `test/` or `testing/` folder, named for tests
    (`testing.py`, `test_utils.py`, `pkg/testing/...`), or imported by a test module of the
    project while importing `unittest`/`pytest` itself (a harness, not the code under test)."""
    cached = model.cache.get("is-test-support-module")
    if cached is None:
        cached = model.cache["is-test-support-module"] = (
            is_test_module(model, semantics)
            or _named_for_tests(model.path, model.module_name)
            or (_imports_a_test_framework(model) and _imported_by_tests(model, semantics))
        )
    return bool(cached)


def _named_for_tests(path: str | None, module_name: str) -> bool:
    folders = (path or "").replace("\\", "/").split("/")[:-1]
    if any(folder in TEST_FOLDERS for folder in folders):
        return True
    return any(
        part in TEST_FOLDERS
        or part.startswith(("test_", "testing_", "testutil", "testhelper", "testsupport"))
        or part.endswith(("_test", "_tests", "_testing"))
        for part in module_name.lower().split(".")
    )


def _imports_a_test_framework(model: SemanticModel) -> bool:
    return any(
        binding.kind == "import"
        and binding.qualified_name is not None
        and binding.qualified_name.split(".")[0] in _TEST_FRAMEWORKS
        for bindings in model.module_scope.bindings.values()
        for binding in bindings
    )


def _imported_by_tests(model: SemanticModel, semantics: Semantics) -> bool:
    index = semantics.index
    if index is None:
        return False
    imported = index.derived("modules-imported-by-tests", _modules_imported_by_tests)
    return model.module_name in imported


def _modules_imported_by_tests(summaries: list[ModuleSummary]) -> frozenset[str]:
    """Every module (and package prefix) a test module of the project imports from."""
    found: set[str] = set()
    for summary in summaries:
        if not is_test_path(summary.path):
            continue
        for qualified in summary.imports.values():
            parts = qualified.split(".")
            found.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return frozenset(found)


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


def creates_awaitable(model: SemanticModel, semantics: Semantics, call: CallSite) -> bool:
    """A call that certainly makes a coroutine, or a future that must be awaited (`gather`)."""
    return makes_future(model, call) or creates_coroutine(model, semantics, call)


def makes_future(model: SemanticModel, call: CallSite) -> bool:
    """`asyncio.gather(...)`: an awaitable that is not a coroutine."""
    func = call.node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name in ("gather", *_aliases(model, AWAITABLE_FACTORIES)) and (
        model.callee_name(call) in AWAITABLE_FACTORIES
    )


def aliases_of(model: SemanticModel, *names: str) -> frozenset[str]:
    """Local names bound at module level to one of `names` (`from time import sleep as pause`)."""
    return _aliases(model, frozenset(names))


def _aliases(model: SemanticModel, names: frozenset[str]) -> frozenset[str]:
    """Local names bound at module level to one of `names` (`from asyncio import gather as g`);
    memoised per model (asked once per call site: a scan per call was quadratic)."""
    key = f"coroutines:aliases:{sorted(names)}"
    cached: frozenset[str] | None = model.cache.get(key)
    if cached is None:
        cached = model.cache[key] = frozenset(
            local
            for local, bindings in model.module_scope.bindings.items()
            if any(binding.qualified_name in names for binding in bindings)
        )
    return cached


def returns_coroutine(model: SemanticModel, semantics: Semantics, function: FunctionInfo) -> bool:
    """A sync function of this module that returns a coroutine it makes (`def request(self):
    return self.client.get(...)`), found by following each call's value to a `return`."""
    if function.is_async:
        return False
    key = f"returns-coroutine:{id(function.node)}"
    cached = model.cache.get(key)
    if cached is None:
        model.cache[key] = False  # a recursive helper: not while it is being decided
        cached = model.cache[key] = any(
            _returned_by(semantics, call, function) and creates_awaitable(model, semantics, call)
            for call in function.calls
            if not call.awaited and call.scope is function.scope
        )
    return bool(cached)


def _returned_by(semantics: Semantics, call: CallSite, function: FunctionInfo) -> bool:
    start = semantics.flow.use_of(call.node)
    if start is None:
        return False
    return any(
        reached.use.role is Role.RETURNED and not reached.steps and reached.use.function is function
        for reached in semantics.flow.reach(start, limit=3)
    )


def _local_callee(
    model: SemanticModel, semantics: Semantics, call: CallSite
) -> FunctionInfo | None:
    """The function of this module `call` calls: `helper()` or `self.helper()`."""
    func = call.node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        method = call.function.enclosing_method() if call.function is not None else None
        if method is not None and method.cls is not None and method.receiver == func.value.id:
            return method.cls.methods.get(func.attr)
        return None
    if not isinstance(func, ast.Name):
        return None
    binding = model.resolve_binding(func.id, call.scope)
    return binding.function if binding is not None else None


def _calls_coroutine_function(
    model: SemanticModel, semantics: Semantics, call: CallSite, with_async_mocks: bool
) -> bool:
    func = call.node.func
    called = semantics.called_function(call)
    if called is not None:
        if called.is_async and not called.is_async_generator:
            return True
        if called.returns_awaitable:
            return not _may_replace_what_it_returns(model, semantics, call)
        helper = _local_callee(model, semantics, call)
        return (
            helper is not None
            and decorators_are_neutral(model, helper)
            and returns_coroutine(model, semantics, helper)
        )
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


def _may_replace_what_it_returns(
    model: SemanticModel, semantics: Semantics, call: CallSite
) -> bool:
    """A sync helper hands back a coroutine another function makes (`return self._request()`):
    when this module replaces one of the receiver class's coroutine methods (`patch.object(Session,
    "_request", new=...)`), or anything at all for a plain function, what it returns is unknown."""
    replaced = _replaced_names(model)
    if not replaced:
        return False
    func = call.node.func
    instance = (
        semantics.instance_class(func.value, call) if isinstance(func, ast.Attribute) else None
    )
    if instance is None:
        return True
    return any(name in replaced for name, method in instance.methods.items() if method.is_async)


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


PARTIAL = "functools.partial"


@dataclass(frozen=True)
class AsyncCallable:
    """A callable whose call makes a coroutine, taken apart: `func` called with the `args` and
    `keywords` a `functools.partial` binds first; `call` is the body of a `lambda: fetch(x)`."""

    func: ast.expr
    args: tuple[ast.expr, ...] = ()
    keywords: tuple[ast.keyword, ...] = ()
    call: ast.Call | None = None


def async_callable(
    model: SemanticModel, semantics: Semantics, expr: ast.expr, site: CallSite, depth: int = 0
) -> AsyncCallable | None:
    """`fetch`, `self.repo.get`, `functools.partial(fetch, 1)` (also through a local bound
    once to it), `lambda: fetch(1)`: a callable that certainly makes a coroutine, or None."""
    if depth > 3:
        return None
    scope = site.scope
    if isinstance(expr, ast.Call) and model.qualified_name(expr.func, scope) == PARTIAL:
        if not expr.args or any(isinstance(a, ast.Starred) for a in expr.args):
            return None
        if any(keyword.arg is None for keyword in expr.keywords):
            return None
        inner = async_callable(model, semantics, expr.args[0], site, depth + 1)
        if inner is None or inner.call is not None:
            return None
        return AsyncCallable(
            inner.func, (*inner.args, *expr.args[1:]), (*inner.keywords, *expr.keywords)
        )
    if isinstance(expr, ast.Lambda):
        body = expr.body
        arguments = expr.args
        if (
            isinstance(body, ast.Call)
            and not (arguments.args or arguments.posonlyargs or arguments.kwonlyargs)
            and not (arguments.vararg or arguments.kwarg)
        ):
            probe = CallSite(body, scope, site.function, site.cls, expr, False)
            if creates_coroutine(model, semantics, probe):
                return AsyncCallable(body.func, call=body)
        return None
    if isinstance(expr, ast.Name):
        origins = semantics.flow.origins(expr, scope, site.function)
        if (
            origins is not None
            and len(origins) == 1
            and isinstance(origins[0], ast.Call)
            and model.qualified_name(origins[0].func, scope) == PARTIAL
        ):
            return async_callable(model, semantics, origins[0], site, depth + 1)
    if callable_creates_coroutine(model, semantics, expr, site):
        return AsyncCallable(expr)
    return None


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


# -- where a coroutine goes (queries on the value-flow layer) ------------------------------------

#: Callables that take an awaitable and await it, schedule it or hand it to a loop: a coroutine
#: passed to one of them is consumed. Resolved by qualified name.
AWAITABLE_CONSUMERS = frozenset(
    {
        "asyncio.gather",
        "asyncio.wait",
        "asyncio.wait_for",
        "asyncio.shield",
        "asyncio.as_completed",
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.run",
        "asyncio.run_coroutine_threadsafe",
        "asyncio.Task",
        "asyncio.tasks.Task",
        "asyncio.timeout",
        "anyio.run",
        "trio.run",
        "asgiref.sync.async_to_sync",
    }
)

#: Methods that consume an awaitable whatever their receiver's class (a loop, a task group, a
#: test case, an executor of the project): `loop.run_until_complete(coro)`, `tg.create_task(coro)`.
AWAITABLE_CONSUMER_METHODS = frozenset(
    {
        "run_until_complete",
        "create_task",
        "ensure_future",
        "run_coroutine_threadsafe",
        "addAsyncCleanup",
        "enterAsyncContext",
        "start_soon",
        "spawn",
        "run_sync",
    }
)

#: Calls that make an awaitable which is not a coroutine but must be awaited all the same.
AWAITABLE_FACTORIES = frozenset({"asyncio.gather"})

#: `self.assert*` methods that take a callable (or a block): they are not value assertions.
CALLABLE_ASSERTIONS = frozenset(
    {
        "assertRaises",
        "assertRaisesRegex",
        "assertWarns",
        "assertWarnsRegex",
        "assertLogs",
        "assertNoLogs",
    }
)


class Verdict(enum.Enum):
    CONSUMED = "consumed"  # awaited, scheduled, returned to a caller, driven by hand
    UNKNOWN = "unknown"  # it goes where this analysis cannot see: stay silent
    TRANSFER = "transfer"  # the value moves on (store, argument into a known parameter)
    LOST = "lost"  # inspected or dropped: the coroutine is never awaited there


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    how: str = ""  # LOST: "discarded", "passed to self.assertTrue()", ...


def lost_coroutine(model: SemanticModel, semantics: Semantics, node: ast.expr) -> str | None:
    """How the awaitable made by `node` (a call) is lost without being awaited, or None when it
    may be consumed somewhere (or its way cannot be followed).

    Asks the flow layer: `use_of(node)` then `reach(...)` through locals, attributes, containers
    and parameters of known callees. The value is lost when every use it reaches inspects or
    drops it and none awaits, schedules, returns or hands it where the analysis cannot see.
    """
    flow = semantics.flow
    start = flow.use_of(node)
    if start is None:
        return None
    losses: list[tuple[Reached, str]] = []
    inspected: list[Use] = []
    for reached in flow.reach(start):
        judgement = judge(model, semantics, reached)
        if judgement.verdict in (Verdict.CONSUMED, Verdict.UNKNOWN):
            return None
        if judgement.verdict is Verdict.LOST:
            losses.append((reached, judgement.how))
        elif reached.use.role is Role.STORED and ITEM in reached.use.target_steps:
            if not _container_uses_lose(model, semantics, reached.use):
                return None
            inspected.append(reached.use)
    if losses:
        return _describe_path(*losses[0])
    if inspected and inspected[0].target is not None:
        return f"stored in `{inspected[0].target.describe()}`, never awaited"
    if start.role is Role.STORED and start.target is not None:
        return _never_used(start)
    return None


def judge(model: SemanticModel, semantics: Semantics, reached: Reached) -> Judgement:
    """What one use a coroutine reaches does with it."""
    use = reached.use
    if reached.steps:
        # `coro.send(None)`, `coro.close()`: driven or closed by hand.
        return Judgement(Verdict.UNKNOWN)
    role = use.role
    if role in (Role.AWAITED, Role.RETURNED, Role.YIELDED):
        return Judgement(Verdict.CONSUMED)
    if role is Role.STORED:
        return Judgement(Verdict.TRANSFER)
    if role is Role.DISCARDED:
        return Judgement(Verdict.LOST, "discarded")
    if role is Role.ITERATED:
        return Judgement(Verdict.LOST, "iterated")
    if role is Role.TESTED:
        return Judgement(Verdict.LOST, _tested_how(model, use.node))
    if role is Role.ARGUMENT:
        return _judge_argument(model, semantics, use)
    if role is Role.OTHER and _starred_consumer(model, use) is not None:
        return Judgement(Verdict.CONSUMED)
    return Judgement(Verdict.UNKNOWN)


def _judge_argument(model: SemanticModel, semantics: Semantics, use: Use) -> Judgement:
    if is_awaitable_consumer(use.callee, use.call):
        return Judgement(Verdict.CONSUMED)
    losing = losing_callee(semantics, use)
    if losing is not None:
        return Judgement(Verdict.LOST, f"passed to {losing}")
    if semantics.flow.parameter_of(use) is not None:
        return Judgement(Verdict.TRANSFER)
    return Judgement(Verdict.UNKNOWN)


def is_awaitable_consumer(callee: str | None, call: ast.Call | None) -> bool:
    """Whether a call with this callee (qualified name, or `self.<name>`) consumes an awaitable
    passed to it."""
    if callee is not None and callee in AWAITABLE_CONSUMERS:
        return True
    method = None
    if call is not None and isinstance(call.func, ast.Attribute):
        method = call.func.attr
    elif callee is not None and "." in callee:
        method = callee.rpartition(".")[2]
    return method in AWAITABLE_CONSUMER_METHODS


def losing_callee(semantics: Semantics, use: Use) -> str | None:
    """`self.assertTrue()` / `len()` / `m.assert_called_with()` when the call only looks at the
    value passed to it, else None."""
    callee = use.callee
    if callee in LOSING_BUILTINS:
        return f"{callee.rpartition('.')[2]}()"
    if callee is not None and callee.startswith("self.assert"):
        name = callee[5:]
        if name in CALLABLE_ASSERTIONS:
            return None
        function = use.function
        if function is not None and unittest_receiver(semantics, function) is None:
            return None
        return f"self.{name}()"
    call = use.call
    if (
        call is not None
        and isinstance(call.func, ast.Attribute)
        and call.func.attr.startswith("assert_")  # a mock's own assertion methods
    ):
        return f"{semantics.model.source_of(call.func)}()"
    return None


def _starred_consumer(model: SemanticModel, use: Use) -> ast.Call | None:
    """`gather(*coros)`: the call a `*value` argument is unpacked into, when it consumes."""
    node = use.node
    parent = model.parent(node) if node is not None else None
    if not isinstance(parent, ast.Starred):
        return None
    call = model.parent(parent)
    if not isinstance(call, ast.Call) or use.function is None:
        return None
    callee = model.qualified_name(call.func, use.function.scope)
    return call if is_awaitable_consumer(callee, call) else None


def _container_uses_lose(model: SemanticModel, semantics: Semantics, store: Use) -> bool:
    """The value is stored as an element (`coros = [fetch(i) for i in ids]`): every use of the
    container as a whole must only inspect it (`len(coros)`, `for c in coros`, `assert coros`)
    or unpack it into a consumer (checked by the caller through `judge`); anything else (passed
    on, stored, returned) may consume the elements."""
    target = store.target
    under = store.target_steps
    if target is None:
        return False
    for use in semantics.flow.uses(target):
        if len(use.steps) >= len(under) or use.steps != under[: len(use.steps)]:
            continue  # a use of the element itself, or of another value
        if use.role in (Role.ITERATED, Role.TESTED, Role.DISCARDED):
            continue  # iteration binds each element, followed by `reach`
        if use.role is Role.ARGUMENT and _inspects_container(semantics, use):
            continue
        return False  # passed on, stored, returned, unpacked into a call: it may be consumed
    return True


def _inspects_container(semantics: Semantics, use: Use) -> bool:
    """`len(coros)`, `self.assertEqual(coros, ...)`: looks at a container, keeps no element
    (`list(coros)` copies the elements on, so it is not one of these)."""
    if use.callee in ("builtins.len", "builtins.bool"):
        return True
    return use.callee not in LOSING_BUILTINS and losing_callee(semantics, use) is not None


def _tested_how(model: SemanticModel, node: ast.expr | None) -> str:
    current: ast.AST | None = node
    parent = model.parent(current) if current is not None else None
    while isinstance(parent, ast.BoolOp):
        current, parent = parent, model.parent(parent)
    if isinstance(parent, ast.Assert):
        return "asserted on"
    if isinstance(parent, ast.Compare):
        return "compared"
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return "negated"
    return "tested for truth"


def _describe_path(reached: Reached, how: str) -> str:
    stores = [use for use in reached.path if use.role is Role.STORED and use.target is not None]
    passes = [use for use in reached.path if use.role is Role.ARGUMENT]
    if not reached.path:
        return how
    if passes:
        first = passes[0]
        callee = (first.callee or "a function").replace("self.", "")
        return f"passed to {callee.rpartition('.')[2]}(), which {_third_person(how)}"
    if stores and reached.use.place.kind == "local" and len(stores) == 1:
        return f"stored in `{stores[0].target.name}`, only inspected"  # type: ignore[union-attr]
    if stores:
        target = stores[-1].target
        assert target is not None
        holder = f"self.{target.name}" if target.kind == "attr" else target.name
        return f"stored in `{holder}`, then {how}"
    return how


def _third_person(how: str) -> str:
    """`discarded` -> `discards it`: what a callee does with the value, for messages."""
    if how.startswith("passed to "):
        return "passes it to " + how[len("passed to ") :]
    verbs = {
        "discarded": "discards it",
        "iterated": "iterates it",
        "compared": "compares it",
        "negated": "negates it",
        "asserted on": "asserts on it",
        "tested for truth": "tests it",
    }
    return verbs.get(how, how)


def _never_used(start: Use) -> str | None:
    target = start.target
    if target is None or target.kind != "local" or start.target_steps:
        return None
    return f"stored in `{target.name}`, never used"


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
