"""Turn a module's semantic model into the summary other modules resolve against."""

from __future__ import annotations

import ast
from collections.abc import Mapping

from .flow import Flow, summary_facts
from .harness import summarize_fixtures
from .model import (
    Binding,
    CallSite,
    ClassInfo,
    FunctionInfo,
    SemanticModel,
    decorator_name,
    has_custom_runner,
)
from .names import (
    ASYNCCONTEXTMANAGER,
    LOOP_BOUND_FACTORIES,
    RUN,
    SET_EVENT_LOOP_POLICY,
)
from .paths import Guard, constant_defaults, guards
from .summary import ClassSummary, DeferredMapping, FunctionSummary, LazyMapping, ModuleSummary

#: Decorators that leave "calling this returns a coroutine" intact.
NEUTRAL_FUNCTION_DECORATORS = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "abc.abstractmethod",
        "typing.overload",
        "typing.final",
        "typing_extensions.override",
        "typing.override",
        "functools.wraps",
        "unittest.mock.patch",
        "unittest.mock.patch.object",
        "unittest.mock.patch.dict",
        "unittest.mock.patch.multiple",
        "unittest.skip",
        "unittest.skipIf",
        "unittest.skipUnless",
        "unittest.expectedFailure",
    }
)

#: Decorators that make a method an attribute read.
PROPERTY_DECORATORS = frozenset({"builtins.property", "functools.cached_property"})

#: Decorators known to run a coroutine function to completion and return a sync callable.
COROUTINE_RUNNING_DECORATORS = frozenset(
    {
        "asgiref.sync.async_to_sync",
        "tornado.testing.gen_test",
        "aiounittest.async_test",
        "asynctest.fail_on",
        "syncer.sync",
        "anyio.run",
        "trio.run",
    }
)


def decorators_are_neutral(model: SemanticModel, function: FunctionInfo) -> bool:
    for decorator in function.node.decorator_list:
        name = decorator_name(model, decorator, function.parent_scope)
        if name is None or not (
            name in NEUTRAL_FUNCTION_DECORATORS or name.startswith("pytest.mark.")
        ):
            return False
    return True


def loop_driving_call(model: SemanticModel, function: FunctionInfo) -> str | None:
    """`asyncio.run` or `run_until_complete` when the function drives a loop itself."""
    for _, what in loop_driving_calls(model, function):
        return what
    return None


def loop_driving_calls(model: SemanticModel, function: FunctionInfo) -> list[tuple[CallSite, str]]:
    """The calls of `function` that drive a loop, with what each runs (`RUN` or
    "run_until_complete")."""
    found: list[tuple[CallSite, str]] = []
    for call in function.calls:
        func = call.node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name == "run_until_complete" and isinstance(func, ast.Attribute):
            found.append((call, "run_until_complete"))
        # A bare name may be any alias (`from asyncio import run as go`); attributes must say run.
        elif (isinstance(func, ast.Name) or name == "run") and model.callee_name(call) == RUN:
            found.append((call, RUN))
    return found


def _loop_paths(model: SemanticModel, function: FunctionInfo) -> tuple[tuple[Guard, ...], ...]:
    return tuple(
        guards(model, call.node, function) for call, _ in loop_driving_calls(model, function)
    )


def summarize_function(model: SemanticModel, function: FunctionInfo) -> FunctionSummary:
    names = [decorator_name(model, d, function.parent_scope) for d in function.node.decorator_list]
    is_async = function.is_async and decorators_are_neutral(model, function)
    return FunctionSummary(
        name=function.name,
        is_async=is_async,
        is_async_context_manager=ASYNCCONTEXTMANAGER in names,
        drives_loop=loop_driving_call(model, function),
        runs_coroutines=_runs_coroutines(model, function),
        returns_awaitable=not function.is_async and _returns_local_coroutine(model, function),
        is_async_generator=function.is_async and function.yields,
        restores_loop_policy=restores_loop_policy(model, function),
        parameters=_parameter_names(function),
        flow=summary_facts(Flow(model), function),
        constant_defaults=constant_defaults(function.node),
        loop_paths=_loop_paths(model, function),
        is_property=bool(PROPERTY_DECORATORS.intersection(filter(None, names))),
        **_await_facts(model, function),
    )


def _parameter_names(function: FunctionInfo) -> tuple[str, ...]:
    arguments = function.node.args
    return tuple(a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs))


def restores_loop_policy(model: SemanticModel, function: FunctionInfo) -> bool:
    """`asyncio.set_event_loop_policy(...)` called, or handed to `addCleanup`, in `function`."""
    for call in function.calls:
        func = call.node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if (isinstance(func, ast.Name) or name == "set_event_loop_policy") and model.callee_name(
            call
        ) == SET_EVENT_LOOP_POLICY:
            return True
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("addCleanup", "addClassCleanup", "addModuleCleanup")
            and call.node.args
            and model.qualified_name(call.node.args[0], call.scope) == SET_EVENT_LOOP_POLICY
        ):
            return True
    return False


#: Statements and expressions whose parts may not run: an await below one is not certain.
_BRANCHING: tuple[type[ast.AST], ...] = (
    ast.If,
    ast.While,
    ast.For,
    ast.AsyncFor,
    ast.IfExp,
    ast.BoolOp,
    ast.ExceptHandler,
    *(getattr(ast, name) for name in ("match_case",) if hasattr(ast, name)),
)


def _always_runs(model: SemanticModel, node: ast.AST, function: FunctionInfo) -> bool:
    """`node` runs whenever `function` runs to the end (a `try` body counts: it is entered)."""
    parent = model.parents.get(id(node))
    while parent is not None and parent is not function.node:
        if isinstance(parent, _BRANCHING):
            return False
        parent = model.parents.get(id(parent))
    return True


def _await_facts(model: SemanticModel, function: FunctionInfo) -> dict[str, frozenset[str]]:
    """`awaited_chains`, `self_calls` and `awaited_names` of a function (see FunctionSummary).

    Chains and self calls are kept only on the unconditional path: aiohttp's
    `MultipartResponseWrapper.next` awaits `self.release()` only `if self.stream.at_eof()`, and a
    test that turns that branch off must not be told its Mock will be awaited there.
    """
    arguments = [*function.node.args.posonlyargs, *function.node.args.args]
    receiver = arguments[0].arg if function.cls is not None and arguments else None
    chains: set[str] = set()
    names: set[str] = set()
    for node in function.awaits:
        value = node.value.func if isinstance(node.value, ast.Call) else node.value
        if isinstance(value, ast.Attribute):
            names.add(value.attr)
        elif isinstance(value, ast.Name):
            names.add(value.id)
        chain = attribute_chain(value, receiver) if receiver is not None else None
        if chain is not None and _always_runs(model, node, function):
            chains.add(chain)
    self_calls: set[str] = set()
    if receiver is not None:
        for call in function.calls:
            func = call.node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == receiver
                and _always_runs(model, call.node, function)
            ):
                self_calls.add(func.attr)
    return {
        "awaited_chains": frozenset(chains),
        "self_calls": frozenset(self_calls),
        "awaited_names": frozenset(names),
    }


def _runs_coroutines(model: SemanticModel, function: FunctionInfo) -> bool:
    """A decorator (or decorator factory) whose inner function drives a loop."""
    wrappers = model.cache.get("loop-running-wrappers")
    if wrappers is None:
        wrappers = set()
        for inner in model.functions:
            if inner.parent is not None and loop_driving_call(model, inner) is not None:
                outer: FunctionInfo | None = inner.parent
                while outer is not None:
                    wrappers.add(id(outer.node))
                    outer = outer.parent
        model.cache["loop-running-wrappers"] = wrappers
    return id(function.node) in wrappers


def _returns_local_coroutine(model: SemanticModel, function: FunctionInfo) -> bool:
    """`def close(self): return self.client.aclose()`-style wrappers of a coroutine function."""
    for call in function.calls:
        if not isinstance(call.parent, ast.Return) or call.scope is not function.scope:
            continue
        func = call.node.func
        if isinstance(func, ast.Name):
            binding = model.resolve_binding(func.id, function.scope)
            if binding is not None and binding.function is not None and binding.function.is_async:
                return True
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and function.cls is not None
            and function.receiver == func.value.id
        ):
            method = function.cls.methods.get(func.attr)
            if method is not None and method.is_async:
                return True
    return False


def summarize_class(model: SemanticModel, cls: ClassInfo, *, lazy: bool = False) -> ClassSummary:
    scope = cls.parent_scope
    bases = tuple(
        model.qualified_name(base.value if isinstance(base, ast.Subscript) else base, scope)
        for base in cls.node.bases
    )
    methods: Mapping[str, FunctionSummary]
    if lazy:
        methods = LazyMapping(
            cls.methods, lambda name: summarize_function(model, cls.methods[name])
        )
    else:
        methods = {name: summarize_function(model, method) for name, method in cls.methods.items()}
    return ClassSummary(
        qualname=cls.qualname,
        bases=bases,
        methods=methods,
        custom_runner=has_custom_runner(model, cls),
        init_parameters=_init_parameters(cls),
        is_async_context_manager="__aenter__" in cls.methods and "__enter__" not in cls.methods,
        loop_bound_attributes=_loop_bound_attributes(model, cls),
    )


def _loop_bound_attributes(model: SemanticModel, cls: ClassInfo) -> tuple[tuple[str, str], ...]:
    """`self.<attribute> = asyncio.Lock()`-style assignments of `__init__`: (attribute, factory)."""
    init = cls.methods.get("__init__")
    if init is None:
        return ()
    arguments = [*init.node.args.posonlyargs, *init.node.args.args]
    if not arguments:
        return ()
    receiver = arguments[0].arg
    found: list[tuple[str, str]] = []
    for statement in ast.walk(init.node):
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or not isinstance(
            statement.value, ast.Call
        ):
            continue
        factory = model.qualified_name(statement.value.func, init.scope)
        if factory not in LOOP_BOUND_FACTORIES:
            continue
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            chain = attribute_chain(target, receiver)
            if chain is not None and "." not in chain:
                found.append((chain, factory))
    return tuple(found)


def attribute_chain(expr: ast.expr, receiver: str) -> str | None:
    """`self.a.b` -> "a.b" when `expr` is an attribute chain on the name `receiver`."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name) and expr.id == receiver and parts:
        return ".".join(reversed(parts))
    return None


def _init_parameters(cls: ClassInfo) -> tuple[tuple[str, str | None], ...]:
    init = cls.methods.get("__init__")
    if init is None:
        return ()
    arguments = [*init.node.args.posonlyargs, *init.node.args.args, *init.node.args.kwonlyargs]
    if not arguments:
        return ()
    receiver = arguments[0].arg
    stored: dict[str, str] = {}
    for statement in ast.walk(init.node):
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Name):
            for target in statement.targets:
                chain = attribute_chain(target, receiver)
                if chain is not None and "." not in chain:
                    stored.setdefault(statement.value.id, chain)
    return tuple((argument.arg, stored.get(argument.arg)) for argument in arguments[1:])


def _import_bindings(model: SemanticModel) -> dict[str, str]:
    imports: dict[str, str] = {}
    for name, bindings in model.module_scope.bindings.items():
        if len(bindings) == 1 and bindings[0].kind == "import" and bindings[0].qualified_name:
            imports[name] = bindings[0].qualified_name
    return imports


def _is_fixture(model: SemanticModel, function: FunctionInfo) -> bool:
    for decorator in function.node.decorator_list:
        name = decorator_name(model, decorator, function.parent_scope)
        if name in ("pytest.fixture", "pytest_asyncio.fixture"):
            return True
    return False


def _module_level(binding: Binding) -> bool:
    return binding.qualified_name is not None


def summarize_module(model: SemanticModel, *, lazy: bool = False) -> ModuleSummary:
    """The module's summary. `lazy` (for the file being linted) defers each method's summary and
    the styles until a rule reads them; the index keeps plain, serialisable summaries."""
    functions = {}
    for name, bindings in model.module_scope.bindings.items():
        if len(bindings) == 1 and bindings[0].function is not None and _module_level(bindings[0]):
            functions[name] = summarize_function(model, bindings[0].function)
    classes = {
        cls.qualname: summarize_class(model, cls, lazy=lazy)
        for cls in model.classes
        if cls.parent_scope.kind != "function"
    }
    fixtures = frozenset(
        function.name for function in model.functions if _is_fixture(model, function)
    )
    return ModuleSummary(
        name=model.module_name,
        path=model.path or model.module_name,
        functions=functions,
        classes=classes,
        imports=_import_bindings(model),
        has_star_import=model.has_star_import,
        fixtures=fixtures,
        styles=DeferredMapping(lambda: _module_styles(model)) if lazy else _module_styles(model),
        fixture_summaries=summarize_fixtures(model) if fixtures else (),
    )


def _module_styles(model: SemanticModel) -> dict[str, int]:
    from .styles import module_styles  # styles builds on this module's helpers

    return module_styles(model)
