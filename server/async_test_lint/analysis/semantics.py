"""Questions rules ask about a module, answered through its own summary and the project index.

Every answer can be "don't know" (None or ClassKind.UNKNOWN), and rules stay silent on it.
"""

from __future__ import annotations

import ast
import collections
import enum
from typing import Union

from .flow import Flow
from .index import ProjectIndex
from .model import CallSite, ClassInfo, FunctionInfo, Scope, SemanticModel, decorator_name
from .names import (
    ASYNC_FRAMEWORK_TESTCASES,
    ASYNC_MOCK,
    ISOLATED_TESTCASE,
    KNOWN_COROUTINE_FUNCTIONS,
    NEUTRAL_BASES,
    SYNC_MOCKS,
    TESTCASE,
)
from .summarize import (
    COROUTINE_RUNNING_DECORATORS,
    attribute_chain,
    restores_loop_policy,
    summarize_class,
    summarize_module,
)
from .summary import ClassSummary, FunctionSummary, ModuleSummary


class ClassKind(enum.Enum):
    PLAIN_TESTCASE = "a plain unittest.TestCase"
    ISOLATED = "an IsolatedAsyncioTestCase"
    ASYNC_FRAMEWORK = "a framework test case that runs coroutines"
    CUSTOM_RUNNER = "a test case with its own running machinery"
    PYTEST_STYLE = "a pytest-style test class"
    NOT_A_TEST = "not a test class"
    UNKNOWN = "unknown"

    @property
    def is_unittest(self) -> bool:
        return self in (ClassKind.PLAIN_TESTCASE, ClassKind.ISOLATED)


_LOOP_STATE_HOOKS = (
    "setUp",
    "tearDown",
    "setUpClass",
    "tearDownClass",
    "asyncSetUp",
    "asyncTearDown",
)
_SILENT_KINDS = (ClassKind.ASYNC_FRAMEWORK, ClassKind.CUSTOM_RUNNER)
_MAX_CLASS_DEPTH = 30


class Semantics:
    def __init__(self, model: SemanticModel, index: ProjectIndex | None = None) -> None:
        self.model = model
        self.index = index
        self.summary: ModuleSummary = summarize_module(model, lazy=True)
        #: classes the module defines more than once: the module summary describes only one of
        #: the definitions, so each is summarised on its own.
        defined = collections.Counter(cls.qualname for cls in model.classes)
        self._redefined = {name for name, count in defined.items() if count > 1}
        self._kinds: dict[str, ClassKind] = {}
        self._local_summaries: dict[int, ClassSummary] = {}
        #: id(call node) -> what it calls; several rules ask about the same calls.
        self._called: dict[int, FunctionSummary | None] = {}
        #: id(function node) -> manages_loop_state(function); rules ask once per call site.
        self._manages_loop_state: dict[int, bool] = {}
        self._flow: Flow | None = None

    @property
    def flow(self) -> Flow:
        """Where the module's values come from and go (built on first use)."""
        if self._flow is None:
            self._flow = Flow(self.model, self)
        return self._flow

    def release(self) -> None:
        """Break the cycles through this object (its flow view points back at it) and release
        the model's; both are unusable afterwards."""
        self._flow = None
        self._local_summaries.clear()
        self._called.clear()
        self.model.release()

    # -- classes -----------------------------------------------------------------------------

    def class_summary(self, cls: ClassInfo) -> ClassSummary:
        summary = self.summary.classes.get(cls.qualname)
        if (
            summary is not None
            and cls.parent_scope.kind != "function"
            and cls.qualname not in self._redefined
        ):
            return summary
        cached = self._local_summaries.get(id(cls.node))
        if cached is None:
            cached = self._local_summaries[id(cls.node)] = summarize_class(
                self.model, cls, lazy=True
            )
        return cached

    def kind(self, cls: ClassInfo) -> ClassKind:
        summary = self.class_summary(cls)
        key = f"{self.model.module_name}:{cls.qualname}:{id(cls.node)}"
        cached = self._kinds.get(key)
        if cached is None:
            cached = self._kinds[key] = self._summary_kind(summary, cls.name, 0)
        return cached

    def find_class(self, qualified_name: str) -> ClassSummary | None:
        local_prefix = f"{self.model.module_name}."
        if qualified_name.startswith(local_prefix):
            local = self.summary.classes.get(qualified_name[len(local_prefix) :])
            if local is not None:
                return local
        if self.index is None:
            return None
        found = self.index.resolve(qualified_name, exclude_path=self.model.path)
        return found if isinstance(found, ClassSummary) else None

    def find_function(self, qualified_name: str) -> FunctionSummary | None:
        local_prefix = f"{self.model.module_name}."
        if qualified_name.startswith(local_prefix):
            rest = qualified_name[len(local_prefix) :]
            local = self.summary.functions.get(rest)
            if local is not None:
                return local
            imported = self.summary.imports.get(rest)
            if imported is not None and imported != qualified_name:
                return self.find_function(imported)  # patched where it is looked up
            if "." in rest:
                owner, _, method = rest.rpartition(".")
                cls = self.summary.classes.get(owner)
                if cls is not None:
                    return cls.methods.get(method)
        if self.index is None:
            return None
        found = self.index.resolve(qualified_name, exclude_path=self.model.path)
        return found if isinstance(found, FunctionSummary) else None

    def kind_of_name(self, qualified_name: str | None, depth: int = 0) -> ClassKind:
        if qualified_name is None or depth > _MAX_CLASS_DEPTH:
            return ClassKind.UNKNOWN
        if qualified_name == ISOLATED_TESTCASE:
            return ClassKind.ISOLATED
        if qualified_name == TESTCASE:
            return ClassKind.PLAIN_TESTCASE
        if qualified_name in ASYNC_FRAMEWORK_TESTCASES:
            return ClassKind.ASYNC_FRAMEWORK
        if qualified_name in NEUTRAL_BASES:
            return ClassKind.NOT_A_TEST
        summary = self.find_class(qualified_name)
        if summary is None:
            return ClassKind.UNKNOWN
        return self._summary_kind(summary, qualified_name.rpartition(".")[2], depth + 1)

    def _summary_kind(self, summary: ClassSummary, name: str, depth: int) -> ClassKind:
        base_kinds = [self.kind_of_name(base, depth + 1) for base in summary.bases]
        for silent in _SILENT_KINDS:
            if silent in base_kinds:
                return silent
        if ClassKind.UNKNOWN in base_kinds:
            return ClassKind.UNKNOWN
        unittest_kind = next(
            (kind for kind in (ClassKind.ISOLATED, ClassKind.PLAIN_TESTCASE) if kind in base_kinds),
            None,
        )
        if unittest_kind is not None:
            return ClassKind.CUSTOM_RUNNER if summary.custom_runner else unittest_kind
        if summary.custom_runner:
            return ClassKind.UNKNOWN
        if name.startswith("Test") and all(kind is ClassKind.NOT_A_TEST for kind in base_kinds):
            return ClassKind.PYTEST_STYLE
        return ClassKind.NOT_A_TEST

    def find_method(
        self, summary: ClassSummary, name: str, depth: int = 0
    ) -> FunctionSummary | None:
        """`name` looked up along the bases (depth first, as the MRO does for simple trees)."""
        if name in summary.methods:
            return summary.methods[name]
        if depth > _MAX_CLASS_DEPTH:
            return None
        for base in summary.bases:
            if base is None:
                return None
            base_summary = self.find_class(base)
            if base_summary is None:
                continue
            found = self.find_method(base_summary, name, depth + 1)
            if found is not None:
                return found
        return None

    # -- loop harnesses ----------------------------------------------------------------------

    def manages_loop_state(self, function: FunctionInfo | None) -> bool:
        """Whether code running `function` restores asyncio's loop policy itself.

        A test, its class's lifecycle (along the bases, also in other files) or the module's
        `setUpModule`/`tearDownModule` that calls `asyncio.set_event_loop_policy` (directly or
        as a cleanup) owns the global loop state on purpose: asyncio's own test suite, loop
        libraries, harnesses. Rules about driving loops by hand stay silent there.
        """
        if self._module_restores_loop_policy():
            return True
        if function is None:
            return False
        key = id(function.node)
        cached = self._manages_loop_state.get(key)
        if cached is None:
            cached = self._manages_loop_state[key] = self._restores_loop_state(function)
        return cached

    def _restores_loop_state(self, function: FunctionInfo) -> bool:
        if restores_loop_policy(self.model, function):
            return True
        if function.cls is not None:
            class_summary = self.class_summary(function.cls)
            for hook in _LOOP_STATE_HOOKS:
                found = self.find_method(class_summary, hook)
                if found is not None and found.restores_loop_policy:
                    return True
        return function.parent is not None and self.manages_loop_state(function.parent)

    def _module_restores_loop_policy(self) -> bool:
        cached = self.model.cache.get("module-restores-loop-policy")
        if cached is None:
            cached = any(
                self.summary.functions[name].restores_loop_policy
                for name in ("setUpModule", "tearDownModule")
                if name in self.summary.functions
            )
            self.model.cache["module-restores-loop-policy"] = cached
        return bool(cached)

    # -- tests -------------------------------------------------------------------------------

    def is_test_method(self, function: FunctionInfo) -> bool:
        return (
            function.cls is not None
            and function.name.startswith("test")
            and self.kind(function.cls).is_unittest
        )

    def runs_coroutines(self, function: FunctionInfo) -> bool | None:
        """Whether a decorator of `function` turns it into a sync callable; None if unknowable."""
        result: bool | None = False
        for decorator in function.node.decorator_list:
            name = decorator_name(self.model, decorator, function.parent_scope)
            if name is None:
                return None
            if name in COROUTINE_RUNNING_DECORATORS:
                return True
            found = self.find_function(name)
            if found is not None and found.runs_coroutines:
                return True
            if found is None and not _is_known_library_decorator(name):
                result = None
        return result

    def receiver(self, function: FunctionInfo) -> str | None:
        """The name of `self` (or `cls`) in a method, or of the enclosing method's receiver."""
        method = function.enclosing_method()
        return None if method is None else method.receiver

    # -- calls -------------------------------------------------------------------------------

    def called_function(self, call: CallSite) -> FunctionSummary | None:
        """The summary of the function or method `call` calls, when it can be known."""
        key = id(call.node)
        if key in self._called:
            return self._called[key]
        found = self._called[key] = self._called_function(call)
        return found

    def _called_function(self, call: CallSite) -> FunctionSummary | None:
        func = call.node.func
        if call.function is not None and call.cls is not None and isinstance(func, ast.Attribute):
            receiver = self.receiver(call.function)
            if (
                receiver is not None
                and isinstance(func.value, ast.Name)
                and func.value.id == receiver
            ):
                if self._is_rebound(receiver, call.scope):
                    return None
                return self.find_method(self.class_summary(call.cls), func.attr)
        instance = (
            self.instance_class(func.value, call) if isinstance(func, ast.Attribute) else None
        )
        if instance is not None and isinstance(func, ast.Attribute):
            return self.find_method(instance, func.attr)
        name = self.model.callee_name(call)
        if name is None:
            return None
        if name in KNOWN_COROUTINE_FUNCTIONS:
            return FunctionSummary(name=name.rpartition(".")[2], is_async=True)
        return self.find_function(name)

    def _is_rebound(self, receiver: str, scope: Scope) -> bool:
        bindings = self.model.lookup(receiver, scope)
        return bindings is None or any(binding.kind != "param" for binding in bindings)

    def returns_coroutine(self, call: CallSite) -> bool:
        """True only when calling `call`'s callee certainly creates a coroutine (or awaitable)."""
        if self.mock_factory_of_call(call) == ASYNC_MOCK:
            return True
        called = self.called_function(call)
        return called is not None and (
            (called.is_async and not called.is_async_generator) or called.returns_awaitable
        )

    def instance_class(self, expr: ast.expr, call: CallSite) -> ClassSummary | None:
        """The project class `expr` is an instance of: `Client()`, `x = Client()` or
        `self.x = Client()`."""
        value = expr if isinstance(expr, ast.Call) else self._assigned_value(expr, call)
        if not isinstance(value, ast.Call):
            return None
        name = self.model.qualified_name(value.func, call.scope)
        return None if name is None else self.find_class(name)

    def _assigned_value(self, expr: ast.expr, call: CallSite) -> ast.expr | None:
        if isinstance(expr, ast.Name):
            binding = self.model.resolve_binding(expr.id, call.scope)
            if binding is None or binding.kind != "assign":
                return None
            return binding.node if isinstance(binding.node, ast.expr) else None
        if call.function is not None and call.cls is not None:
            receiver = self.receiver(call.function)
            chain = attribute_chain(expr, receiver) if receiver else None
            if chain is not None and "." not in chain:
                return self.self_attribute_value(call.cls, chain)
        return None

    def self_attribute_value(self, cls: ClassInfo, attribute: str) -> ast.expr | None:
        """The one value the class's methods assign to `self.<attribute>`, if they agree."""
        values = self.self_attribute_assignments(cls).get(attribute)
        if not values:
            return None
        if len(values) > 1 and len({ast.dump(value) for value in values}) != 1:
            return None
        return values[0]

    def nested_functions(self, function: FunctionInfo) -> list[FunctionInfo]:
        """`function` and every function nested in it, at any depth (facts of the model's walk
        are recorded per function; this joins them back up for a method)."""
        return self._nested_functions().get(id(function), [function])

    def _nested_functions(self) -> dict[int, list[FunctionInfo]]:
        """id(function) -> the function itself and every function nested in it, at any depth."""
        cached = self.model.cache.get("nested-functions")
        if cached is None:
            cached = {}
            for function in self.model.functions:
                current: FunctionInfo | None = function
                while current is not None:
                    cached.setdefault(id(current), []).append(function)
                    current = current.parent
            self.model.cache["nested-functions"] = cached
        return cached

    def self_attribute_assignments(self, cls: ClassInfo) -> dict[str, list[ast.expr]]:
        key = f"self-assignments:{id(cls.node)}"
        cached = self.model.cache.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        assignments: dict[str, list[ast.expr]] = {}
        for method in cls.methods.values():
            arguments = [*method.node.args.posonlyargs, *method.node.args.args]
            if not arguments:
                continue
            receiver = arguments[0].arg
            # The method's `=` statements and those of functions nested in it, from the model's
            # one walk (the same statements `ast.walk(method.node)` would find).
            for function in self._nested_functions().get(id(method), [method]):
                for node in function.assigns:
                    for target in node.targets:
                        chain = attribute_chain(target, receiver)
                        if chain is not None and "." not in chain:
                            assignments.setdefault(chain, []).append(node.value)
        self.model.cache[key] = assignments
        return assignments

    # -- mocks -------------------------------------------------------------------------------

    def mock_factory_of_call(self, call: CallSite) -> str | None:
        """`AsyncMock`/`Mock`/`MagicMock` when `call` calls an attribute or name holding one."""
        value = self._assigned_value(call.node.func, call)
        if isinstance(value, ast.Call):
            return self.mock_factory(value, call.scope)
        return None

    def mock_factory(self, expr: ast.expr, scope: Scope) -> str | None:
        """The mock class `expr` constructs, when it is a plain sync mock or an AsyncMock.

        Mocks built with `spec`/`spec_set`/`wraps` get AsyncMock children for async methods, so
        they are reported as None (not a plain mock).
        """
        if not isinstance(expr, ast.Call):
            return None
        name = self.model.qualified_name(expr.func, scope)
        if name == ASYNC_MOCK:
            return name
        if name in SYNC_MOCKS:
            if any(keyword.arg in ("spec", "spec_set", "wraps") for keyword in expr.keywords):
                return None
            if expr.args:  # the first positional argument is `spec`
                return None
            return name
        return None


def _is_known_library_decorator(name: str) -> bool:
    from .summarize import NEUTRAL_FUNCTION_DECORATORS

    return name in NEUTRAL_FUNCTION_DECORATORS or name.startswith(
        ("pytest.mark.", "unittest.mock.patch", "unittest.skip")
    )


CallTarget = Union[FunctionSummary, ClassSummary]
