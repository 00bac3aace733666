"""ATL104: `asyncio.run()` or `run_until_complete()` while a loop already runs."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping

from ..analysis.branches import in_dead_branch, in_forked_child
from ..analysis.flow import CALL, Use
from ..analysis.model import CallSite, ClassInfo, FunctionInfo, Scope
from ..analysis.names import GET_RUNNING_LOOP, RUN
from ..analysis.paths import (
    Known,
    Lookup,
    bound_arguments,
    constant_defaults,
    decide,
    decide_any,
    guards,
    stored_constant,
)
from ..analysis.summarize import loop_driving_calls
from ..analysis.summary import FunctionSummary, ModuleSummary
from ..context import Context
from ..fixes.expressions import add_await, await_argument_instead
from ..model import Diagnostic, Edit, Fix, Safety, TextRange
from ._loops import (
    DESCRIPTIONS,
    RUNNING,
    find_local_method,
    is_self_attribute,
    is_test_name,
    loop_factory,
    self_assignments,
)
from .base import Invalid, Rule, Valid

_MAX_HELPER_DEPTH = 4


class NestedEventLoop(Rule):
    code = "ATL104"
    name = "nested-event-loop"
    family = "T7"
    summary = (
        "`asyncio.run()` or `run_until_complete()` called while an event loop is already running"
    )
    what = (
        "Finds `asyncio.run()` (any import spelling) and `run_until_complete()` on a known event "
        "loop (`asyncio.get_event_loop()`, `new_event_loop()`, `get_running_loop()`, a local or "
        "`self.` attribute holding one) called directly inside an `async def`: an async test, "
        "`asyncSetUp`, a fixture or any coroutine function; and calls from a coroutine of a sync "
        "helper (a function of this module or of another module of the project, or a method of "
        "the class or its bases) that itself calls `asyncio.run()` or `run_until_complete()`. "
        "Calls in a lambda or a nested `def` (often handed to `asyncio.to_thread` or "
        "`run_in_executor`, which run them in another thread) are not reported, nor calls in "
        "the child branch of `os.fork()` (`if pid == 0:`; the child inherits no running loop), "
        "in a helper's `for _ in range(n)` loop that the caller passes `n=0`, or in a branch "
        "that never runs (a module constant such as `_IS_SYNC = False` rules it out). A helper "
        "is followed on the path its caller selects: a loop call behind an early return or an "
        "`if` on a flag parameter (`if not sync: return coro`) or on an attribute of the object "
        "(`if self.run_async: return future`) counts only when the caller's argument, the "
        "parameter's default or the value the object's constructor stored says the path runs; "
        "when that cannot be told, nothing is reported. A sync property (`@property`, "
        "`functools.cached_property`) of a class of the project that runs a loop, read in a "
        "coroutine on an object whose class is known, is reported the same way."
    )
    why = (
        "A coroutine runs inside its event loop; starting a loop from there is refused: "
        "`asyncio.run()` raises *RuntimeError: asyncio.run() cannot be called from a running "
        "event loop* (and the coroutine passed to it is never awaited), and "
        "`run_until_complete()` raises *This event loop is already running* on the running "
        "loop, or *Cannot run the event loop while another loop is running* on another one. "
        "The error often surfaces far away, as a test that errors only when a helper is first "
        "reused from an async test."
    )
    versions = (
        "All versions with `asyncio.run` (3.7+); `run_until_complete` refuses to nest on every "
        "version. (`nest_asyncio` patches this away, at the cost of re-entrancy bugs.)"
    )
    fix_notes = (
        "Safe, when the call is directly in the coroutine: `asyncio.run(x)` and "
        "`loop.run_until_complete(x)` become `await x`, which runs `x` on the loop that is "
        "already running (the only way the code can work). Keyword arguments such as "
        "`debug=True` are dropped with the call. Safe too, for a sync helper of this module (a "
        "function or a method) that runs the loop itself on every path and that only "
        "coroutines of this module call (nothing passes it on as a value, no other module "
        "imports it or its class): the helper becomes `async def`, its `asyncio.run(x)` / "
        "`run_until_complete(x)` become `await x`, and every call is awaited (the code could "
        "never have worked: each call raised). Otherwise a helper called from a coroutine gets "
        "no automatic fix: it may be called from sync code too, and making it async changes "
        "every caller; do it by hand, or run the helper in a thread with "
        "`await asyncio.to_thread(helper, ...)`."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model = context.model
        if _imports_other_event_loop(context):
            return
        for function in model.functions:
            if not function.is_async or _checks_for_running_loop(context, function, helper=False):
                continue
            for call in function.calls:
                if call.scope is not function.scope:
                    continue  # in a lambda or nested function: may run in a thread
                if in_forked_child(model, call.node) or in_dead_branch(model, call.node):
                    continue  # a fork's child has no running loop; a dead branch never runs
                found = self._direct(context, function, call)
                if found is None:
                    found = self._helper(context, function, call)
                if found is None:
                    continue
                if context.semantics.manages_loop_state(function):
                    break  # a loop harness (asyncio's own tests provoke this error on purpose)
                yield found
            else:
                if _loop_properties_exist(context):
                    yield from self._properties(context, function)

    def _properties(self, context: Context, function: FunctionInfo) -> Iterator[Diagnostic]:
        """`service.value` read in a coroutine, where `value` is a sync property that runs a
        loop (on the path the object's constructor arguments select)."""
        for use in context.flow.uses_in(function):
            if not use.steps or use.node is None or use.steps[1:2] == (CALL,):
                continue
            if use.function is not function or in_dead_branch(context.model, use.node):
                continue
            found = _loop_driving_property(context, function, use)
            if found is None or context.semantics.manages_loop_state(function):
                continue
            name, what = found
            message = (
                f"property {name} runs an event loop ({what}) and is read in coroutine "
                f"{_where(function)}, where a loop is already running"
            )
            yield context.report(self, use.node, message)

    def _direct(
        self, context: Context, function: FunctionInfo, call: CallSite
    ) -> Diagnostic | None:
        what = _loop_driver(context, function, call)
        if what is None:
            return None
        message = (
            f"{what} inside coroutine {_where(function)}, where an event loop is already running"
        )
        node = call.node
        return context.report(
            self,
            node,
            message,
            context.lazy_fix(
                "Await the coroutine instead", Safety.SAFE, lambda: _await_fix(context, node)
            ),
        )

    def _helper(
        self, context: Context, function: FunctionInfo, call: CallSite
    ) -> Diagnostic | None:
        found = _loop_driving_helper(context, function, call)
        if found is None:
            return None
        helper, what = found
        message = (
            f"{helper}() runs an event loop ({what}) and is called from coroutine "
            f"{_where(function)}, where a loop is already running"
        )
        local = _local_callee(context, function, call)
        plan = None if local is None else _async_helper_plan(context, local)
        if local is None or plan is None:
            return context.report(self, call.node, message)
        title = f"Make {local.name} async and await its {len(plan)} call{'s' * (len(plan) > 1)}"
        return context.report(
            self,
            call.node,
            message,
            context.lazy_fix(
                title, Safety.SAFE, lambda: _async_helper_fix(context, local, plan, title)
            ),
        )


def _async_helper_plan(context: Context, helper: FunctionInfo) -> list[ast.Call] | None:
    """The calls of `helper` (a sync function or method of this file that runs a loop itself)
    when every one is made directly in a coroutine of this file and nothing else refers to it
    (no other module imports it or its class): the helper can become `async def`. None
    otherwise."""
    node = helper.node
    if (
        helper.is_async
        or helper.yields
        or helper.parent is not None
        or node.decorator_list
        or is_test_name(helper.name)
        or helper.name.startswith("__")
        or not loop_driving_calls(context.model, helper)
        or _imported_elsewhere(context, helper)
    ):
        return None
    if any(
        call.scope is not helper.scope
        or guards(context.model, call.node, helper)  # a path that returns before the loop
        or await_argument_instead(context.model, call.node) is None
        for call, _ in loop_driving_calls(context.model, helper)
    ):
        return None
    calls: list[ast.Call] = []
    for reference in _references(context, helper):
        parent = context.model.parent(reference)
        if not (isinstance(parent, ast.Call) and parent.func is reference):
            return None  # passed on as a value (to a thread, a callback): stays sync
        caller = _function_of(context, parent)
        if caller is None or not caller.is_async or caller.scope is not _scope_of(context, parent):
            return None
        calls.append(parent)
    return calls or None


def _references(context: Context, helper: FunctionInfo) -> list[ast.expr]:
    """Every `name` / `self.name` / `cls.name` / `Class.name` load of the helper in this file."""
    found: list[ast.expr] = []
    for node in ast.walk(context.model.tree):
        if helper.cls is None:
            if isinstance(node, ast.Name) and node.id == helper.name:
                found.append(node)  # a store would rebind it: the plan then fails its check
        elif isinstance(node, ast.Attribute) and node.attr == helper.name:
            found.append(node)
    return found


def _function_of(context: Context, node: ast.AST) -> FunctionInfo | None:
    functions = {id(function.node): function for function in context.model.functions}
    current = context.model.parent(node)
    while current is not None:
        found = functions.get(id(current))
        if found is not None:
            return found
        current = context.model.parent(current)
    return None


def _scope_of(context: Context, node: ast.AST) -> Scope | None:
    function = _function_of(context, node)
    if function is None:
        return None
    current = context.model.parent(node)
    while current is not None and current is not function.node:
        if isinstance(current, ast.Lambda):
            return None
        current = context.model.parent(current)
    return function.scope


def _imported_elsewhere(context: Context, helper: FunctionInfo) -> bool:
    """Another module of the project imports the helper (or its class)."""
    index = context.semantics.index
    if index is None:
        return False
    owner = helper.cls.qualname.split(".")[0] if helper.cls is not None else helper.name
    name = f"{context.model.module_name}.{owner}"
    suffix = f".{owner}"
    for summary in index.summaries():
        if summary.path == context.model.path:
            continue
        if summary.has_star_import:
            return True
        for imported in summary.imports.values():
            if imported == name or (imported.endswith(suffix) and name.endswith(imported)):
                return True
    return False


def _async_helper_fix(
    context: Context, helper: FunctionInfo, calls: list[ast.Call], title: str
) -> Fix | None:
    model = context.model
    definition = context.parsed.node_range(helper.node)
    edits: list[Edit] = [Edit(TextRange(definition.start, definition.start), "async ")]
    for call, _ in loop_driving_calls(model, helper):
        inner = await_argument_instead(model, call.node)
        if inner is None:
            return None
        edits.extend(inner)
    for site in calls:
        edits.extend(add_await(model, site))
    edits.sort(key=lambda edit: (edit.range.start, edit.range.end))
    return Fix(title, Safety.SAFE, tuple(edits))


def _await_fix(context: Context, node: ast.Call) -> Fix | None:
    edits = await_argument_instead(context.model, node)
    return None if edits is None else Fix("Await the coroutine instead", Safety.SAFE, edits)


def _where(function: FunctionInfo) -> str:
    if function.cls is not None:
        return f"{function.name} of {function.cls.name}"
    return function.name


def _imports_other_event_loop(context: Context) -> bool:
    """trio (or curio) runs coroutines without an asyncio loop: `asyncio.run` inside works."""
    for bindings in context.model.module_scope.bindings.values():
        for binding in bindings:
            name = binding.qualified_name or ""
            if binding.kind == "import" and name.split(".")[0] in ("trio", "curio"):
                return True
    return False


def _loop_driver(context: Context, function: FunctionInfo, call: CallSite) -> str | None:
    """`asyncio.run()` or `<loop>.run_until_complete()` on a loop the model can name."""
    func = call.node.func
    if isinstance(func, (ast.Name, ast.Attribute)) and context.model.callee_name(call) == RUN:
        return "asyncio.run()"
    if not (isinstance(func, ast.Attribute) and func.attr == "run_until_complete"):
        return None
    loop = _known_loop(context, function, func.value)
    if loop is None:
        return None
    return (
        f"{context.source_of(func.value)}.run_until_complete() on {loop}"
        if loop != "direct"
        else (f"{context.source_of(func.value)}.run_until_complete()")
    )


def _known_loop(context: Context, function: FunctionInfo, receiver: ast.expr) -> str | None:
    kind = loop_factory(context, receiver, function.scope)
    if kind is not None:
        return "direct"
    if isinstance(receiver, ast.Name):
        bindings = context.model.lookup(receiver.id, function.scope)
        if not bindings or len(bindings) != 1 or bindings[0].kind != "assign":
            return None
        kind = loop_factory(context, bindings[0].node, function.scope)
        return (
            None
            if kind is None
            else ("the running loop" if kind == RUNNING else DESCRIPTIONS[kind])
        )
    attribute = is_self_attribute(receiver, function)
    method = function.enclosing_method()
    if attribute is None or method is None or method.cls is None:
        return None
    assignments = self_assignments(context, method.cls).get(attribute)
    if not assignments:
        return None
    kinds = {loop_factory(context, a.value, a.method.scope) for a in assignments}
    if len(kinds) != 1 or None in kinds:
        return None
    kind = kinds.pop()
    assert kind is not None
    return f"a loop from {DESCRIPTIONS[kind]}"


def _loop_driving_helper(
    context: Context, function: FunctionInfo, call: CallSite
) -> tuple[str, str] | None:
    """(helper name, what it runs) when `call` calls a sync function that drives a loop on
    the path the call selects (its arguments, the flags of the object it is called on)."""
    local = _local_callee(context, function, call)
    if local is not None:
        if local.is_async:
            return None
        what = _local_drives_loop(context, local, 0, set(), _arguments_of(call.node, local))
        return None if what is None else (_callee_text(call), what)
    summary = context.semantics.called_function(call)
    if summary is None or summary.is_async or summary.returns_awaitable or summary.runs_coroutines:
        return None
    if summary.drives_loop is None:
        return None
    if decide_any(summary.loop_paths or ((),), _summary_lookup(context, function, call, summary)):
        what = "asyncio.run()" if summary.drives_loop == RUN else f"{summary.drives_loop}()"
        return _callee_text(call), what
    return None  # not on the path this call selects, or undecided: silent


def _loop_properties_exist(context: Context) -> bool:
    """Some class of this module or of the project has a property that drives a loop."""
    cached = context.model.cache.get("atl104:loop-properties")
    if cached is None:
        cached = any(
            context.semantics.class_summary(cls).methods[name].is_property
            and context.semantics.class_summary(cls).methods[name].drives_loop is not None
            for cls in context.model.classes
            for name, method in cls.methods.items()
            if method.node.decorator_list  # only decorated methods can be properties
        )
        index = context.semantics.index
        if not cached and index is not None:
            cached = index.derived("atl104:loop-properties", _has_loop_property)
        context.model.cache["atl104:loop-properties"] = cached
    return bool(cached)


def _has_loop_property(summaries: list[ModuleSummary]) -> bool:
    return any(
        method.is_property and method.drives_loop is not None
        for summary in summaries
        for cls in summary.classes.values()
        for method in cls.methods.values()
    )


def _loop_driving_property(
    context: Context, function: FunctionInfo, use: Use
) -> tuple[str, str] | None:
    """(Class.name, what it runs) when `use` reads a property that drives a loop."""
    classes = context.flow.instance_classes(use.place)
    if not classes or len(set(classes)) != 1 or use.node is None:
        return None
    cls = context.semantics.find_class(classes[0])
    prop = None if cls is None else context.semantics.find_method(cls, use.steps[0])
    if prop is None or not prop.is_property or prop.drives_loop is None:
        return None
    receiver = _receiver_node(use.node, len(use.steps))
    if receiver is None:
        return None

    def lookup(kind: str, name: str) -> Known:
        if kind != "attr":
            return None
        return _receiver_attribute(context, function, function.scope, receiver, name)

    if not decide_any(prop.loop_paths or ((),), lookup):
        return None
    what = "asyncio.run()" if prop.drives_loop == RUN else f"{prop.drives_loop}()"
    return f"{classes[0].rpartition('.')[2]}.{use.steps[0]}", what


def _receiver_node(node: ast.expr, steps: int) -> ast.expr | None:
    """The root of an access chain of `steps` steps (`service` in `service.value`)."""
    for _ in range(steps):
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return None
    return node if isinstance(node, ast.Name) else None


def _summary_lookup(
    context: Context, function: FunctionInfo, call: CallSite, summary: FunctionSummary
) -> Lookup:
    """What `call` tells of the callee's parameters and of the attributes of its receiver."""
    func = call.node.func
    method = isinstance(func, ast.Attribute) and summary.parameters[:1] in (("self",), ("cls",))
    arguments = bound_arguments(
        call.node, summary.parameters, dict(summary.constant_defaults), skip_first=method
    )
    receiver = func.value if isinstance(func, ast.Attribute) and method else None

    def lookup(kind: str, name: str) -> Known:
        if kind == "param":
            return arguments.get(name)
        if receiver is None:
            return None
        return _receiver_attribute(context, function, call.scope, receiver, name)

    return lookup


def _receiver_attribute(
    context: Context, function: FunctionInfo, scope: Scope, receiver: ast.expr, name: str
) -> Known:
    """The constant every constructor call `receiver` may come from stores in `.name`."""
    origins = context.flow.origins(receiver, scope, function)
    if not origins:
        return None
    values: set[tuple[type, object]] = set()
    for origin in origins:
        if not isinstance(origin, ast.Call):
            return None
        name_of_class = context.model.qualified_name(origin.func, scope)
        cls = None if name_of_class is None else context.semantics.find_class(name_of_class)
        known = None if cls is None else stored_constant(origin, cls, name)
        if known is None:
            return None
        values.add((type(known[0]), known[0]))
    return (values.pop()[1],) if len(values) == 1 else None


def _callee_text(call: CallSite) -> str:
    func = call.node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    if isinstance(func, ast.Name):
        return func.id
    return "the helper"


def _local_callee(context: Context, function: FunctionInfo, call: CallSite) -> FunctionInfo | None:
    """The function of this file `call` calls: a plain name, or a method through `self`."""
    func = call.node.func
    model = context.model
    if isinstance(func, ast.Name):
        binding = model.resolve_binding(func.id, call.scope)
        if binding is None or binding.function is None:
            return None
        return binding.function if not binding.function.node.decorator_list else None
    method = function.enclosing_method()
    if method is None or method.cls is None or not isinstance(func, ast.Attribute):
        return None
    arguments = [*method.node.args.posonlyargs, *method.node.args.args]
    if not (arguments and isinstance(func.value, ast.Name) and func.value.id == arguments[0].arg):
        return None
    bindings = model.lookup(func.value.id, call.scope)
    if not bindings or any(binding.kind != "param" for binding in bindings):
        return None
    found = _method_in_file(context, method.cls, func.attr)
    if found is None or found.node.decorator_list:
        return None
    return found


def _method_in_file(context: Context, cls: ClassInfo, name: str) -> FunctionInfo | None:
    found = find_local_method(context, cls, name)
    if found is not None:
        return found
    return None


_RUNNING_LOOP_PROBES = frozenset({"_get_running_loop", "get_running_loop"})


def _checks_for_running_loop(context: Context, function: FunctionInfo, *, helper: bool) -> bool:
    """`loop.is_running()`, `asyncio._get_running_loop()` (and, in a sync helper,
    `asyncio.get_running_loop()`, usually in a `try`): the code guards against a running loop."""
    for call in function.calls:
        func = call.node.func
        if isinstance(func, ast.Attribute):
            if func.attr == "is_running":
                return True
            if func.attr not in _RUNNING_LOOP_PROBES:
                continue  # cheap pre-filter: only these names can be the probes below
        name = context.model.callee_name(call)
        if name == "asyncio._get_running_loop" or (helper and name == GET_RUNNING_LOOP):
            return True
    return False


def _local_drives_loop(
    context: Context,
    helper: FunctionInfo,
    depth: int,
    seen: set[int],
    known: Mapping[str, Known],
) -> str | None:
    """What `helper` (sync, in this file) runs in its own body, directly or through helpers,
    on the path its caller selects.

    `known` holds what the caller passes for each parameter (analysis/paths.py): a call behind
    `if not sync: return` with `sync=False` passed, or inside `for _ in range(n)` with `n` passed
    as 0, never runs on this path; one behind a flag the caller leaves unknown is not counted.
    """
    if depth > _MAX_HELPER_DEPTH or id(helper.node) in seen:
        return None
    seen.add(id(helper.node))
    if _checks_for_running_loop(context, helper, helper=True):
        return None  # it looks for a running loop first: written to be called from one

    def lookup(kind: str, name: str) -> Known:
        return known.get(name) if kind == "param" else None

    reached = [
        call
        for call in helper.calls
        if call.scope is helper.scope
        and not _in_empty_loop(context, call.node, helper, known)
        and decide(guards(context.model, call.node, helper), lookup)
    ]
    for call in reached:
        what = _loop_driver(context, helper, call)
        if what is not None:
            return what
    for call in reached:
        inner = _local_callee(context, helper, call)
        if inner is not None and not inner.is_async:
            what = _local_drives_loop(
                context, inner, depth + 1, seen, _arguments_of(call.node, inner)
            )
            if what is not None:
                return what
    return None


def _arguments_of(call: ast.Call, callee: FunctionInfo) -> dict[str, Known]:
    """What `call` passes for each parameter of `callee` (`self.helper(...)`: receiver bound)."""
    arguments = callee.node.args
    parameters = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
    bound = callee.cls is not None and isinstance(call.func, ast.Attribute)
    defaults = dict(constant_defaults(callee.node))
    return bound_arguments(call, parameters, defaults, skip_first=bound)


def _in_empty_loop(
    context: Context, node: ast.AST, helper: FunctionInfo, known: Mapping[str, Known]
) -> bool:
    """`node` is in the body of `for ... in range(n)` where `n` is known to be 0 or less."""
    child, parent = node, context.model.parent(node)
    while parent is not None and parent is not helper.node:
        if (
            isinstance(parent, ast.For)
            and any(statement is child for statement in parent.body)
            and _empty_range(context, parent.iter, helper, known)
        ):
            return True
        child, parent = parent, context.model.parent(parent)
    return False


def _empty_range(
    context: Context, iterable: ast.expr, helper: FunctionInfo, known: Mapping[str, Known]
) -> bool:
    if not (isinstance(iterable, ast.Call) and len(iterable.args) == 1 and not iterable.keywords):
        return False
    if context.model.qualified_name(iterable.func, helper.scope) != "builtins.range":
        return False
    bound = iterable.args[0]
    if isinstance(bound, ast.Name):
        bindings = helper.scope.bindings.get(bound.id)
        if not bindings or len(bindings) != 1 or bindings[0].kind != "param":
            return False  # rebound in the body: the argument is not what the loop sees
        passed = known.get(bound.id)
        value = None if passed is None else passed[0]
    elif isinstance(bound, ast.Constant):
        value = bound.value
    else:
        return False
    return isinstance(value, int) and not isinstance(value, bool) and value <= 0


NestedEventLoop.invalid = (
    Invalid(
        """\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        user = asyncio.run(fetch_user(1))
        self.assertEqual(user["id"], 1)
""",
        line=12,
        fixed="""\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        user = await fetch_user(1)
        self.assertEqual(user["id"], 1)
""",
        runnable=True,
        note="`asyncio.run()` inside an async test.",
    ),
    Invalid(
        """\
import asyncio as aio
from unittest import IsolatedAsyncioTestCase as IATC


async def make_db():
    return {"rows": 0}


class DbTest(IATC):
    async def asyncSetUp(self):
        self.db = aio.get_event_loop().run_until_complete(make_db())

    async def test_rows(self):
        loop = aio.get_running_loop()
        self.assertEqual(loop.run_until_complete(make_db())["rows"], self.db["rows"])
""",
        line=11,
        count=2,
        fixed="""\
import asyncio as aio
from unittest import IsolatedAsyncioTestCase as IATC


async def make_db():
    return {"rows": 0}


class DbTest(IATC):
    async def asyncSetUp(self):
        self.db = await make_db()

    async def test_rows(self):
        loop = aio.get_running_loop()
        self.assertEqual((await make_db())["rows"], self.db["rows"])
""",
        runnable=True,
        note="Aliases; `run_until_complete()` in `asyncSetUp` and on the running loop in a test.",
    ),
    Invalid(
        """\
import asyncio

import pytest

from app.sync_api import fetch_now


def run(coro):
    return asyncio.run(coro)


async def compute():
    return 1


@pytest.mark.asyncio
async def test_compute():
    assert run(compute()) == 1
    assert fetch_now() == 1
""",
        line=18,
        count=2,
        files={
            "app/sync_api.py": """\
import asyncio


async def _now():
    return 1


def fetch_now():
    return asyncio.run(_now())
""",
        },
        note="Sync helpers that call `asyncio.run()`, one in this module and one in another, "
        "called from a pytest-asyncio test: no automatic fix.",
    ),
    Invalid(
        """\
from tests.base import ApiTestCase


async def ping():
    return "pong"


class PingTest(ApiTestCase):
    async def test_ping(self):
        self.assertEqual(self.call(ping()), "pong")
""",
        line=10,
        files={
            "tests/base.py": """\
import asyncio
import unittest


class ApiTestCase(unittest.IsolatedAsyncioTestCase):
    def call(self, coro):
        return asyncio.run(coro)
""",
        },
        note="A helper method of a base class in another file runs the loop.",
    ),
    Invalid(
        """\
import unittest

from tests.jobs import Job


async def compute():
    return 1


class JobTest(unittest.IsolatedAsyncioTestCase):
    async def test_job(self):
        job = Job(compute)
        self.assertEqual(job.start(), 1)
""",
        line=13,
        files={
            "tests/jobs.py": """\
import asyncio


class Job:
    def __init__(self, factory, run_async=False):
        self.factory = factory
        self.run_async = run_async
        self.loop = asyncio.get_event_loop()

    def start(self):
        future = asyncio.ensure_future(self.factory(), loop=self.loop)
        if self.run_async:
            return future
        return self.loop.run_until_complete(future)
""",
        },
        note="The helper returns early only when `run_async` is set; this object keeps the "
        "default `False`, so `start()` reaches `run_until_complete()`.",
    ),
    Invalid(
        """\
import asyncio

import pytest


def run(coro, sync=True):
    if not sync:
        return coro
    return asyncio.run(coro)


async def compute():
    return 1


@pytest.mark.asyncio
async def test_compute():
    assert run(compute(), sync=True) == 1
    assert run(compute()) == 1
""",
        line=18,
        count=2,
        note="A flag parameter selects the path that runs the loop: passed `True`, and left "
        "at its default `True`.",
    ),
    Invalid(
        """\
import asyncio
import unittest


async def compute():
    return 1


class Service:
    def __init__(self):
        self.loop = asyncio.get_event_loop()

    @property
    def value(self):
        return self.loop.run_until_complete(compute())


class ServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_value(self):
        service = Service()
        self.assertEqual(service.value, 1)
""",
        line=21,
        note="A sync property that runs a loop, read in a coroutine.",
    ),
    Invalid(
        """\
import pytest

from app.settings import Settings


@pytest.mark.asyncio
async def test_settings():
    settings = Settings(cached=False)
    assert settings.remote["debug"] is False
""",
        line=9,
        files={
            "app/settings.py": """\
import asyncio
import functools


async def _fetch():
    return {"debug": False}


class Settings:
    def __init__(self, cached=True):
        self.cached = cached

    @functools.cached_property
    def remote(self):
        if self.cached:
            return {"debug": False}
        return asyncio.run(_fetch())
""",
        },
        note="A `cached_property` of a class in another module runs `asyncio.run()` on the path "
        "the constructor argument `cached=False` selects.",
    ),
    Invalid(
        """\
import asyncio
import unittest


async def fetch(key):
    await asyncio.sleep(0)
    return key.upper()


def run(coro):
    return asyncio.run(coro)


class FetchTest(unittest.IsolatedAsyncioTestCase):
    def call(self, coro):
        return asyncio.get_event_loop().run_until_complete(coro)

    async def test_fetch(self):
        self.assertEqual(run(fetch("a")), "A")

    async def test_fetch_twice(self):
        self.assertEqual(run(fetch("b")) + self.call(fetch("c")), "BC")
""",
        line=19,
        count=3,
        fixed="""\
import asyncio
import unittest


async def fetch(key):
    await asyncio.sleep(0)
    return key.upper()


async def run(coro):
    return await coro


class FetchTest(unittest.IsolatedAsyncioTestCase):
    async def call(self, coro):
        return await coro

    async def test_fetch(self):
        self.assertEqual(await run(fetch("a")), "A")

    async def test_fetch_twice(self):
        self.assertEqual(await run(fetch("b")) + await self.call(fetch("c")), "BC")
""",
        runnable=True,
        note="Sync helpers (a module function and a method) that run a loop, called only from "
        "coroutines of this module: each becomes `async def` and its calls are awaited.",
    ),
)

NestedEventLoop.valid = (
    Valid(
        """\
import asyncio
import unittest


async def compute():
    return 1


class ThreadTest(unittest.IsolatedAsyncioTestCase):
    async def test_in_thread(self):
        result = await asyncio.to_thread(lambda: asyncio.run(compute()))
        self.assertEqual(result, 1)

    async def test_in_executor(self):
        def work():
            return asyncio.run(compute())

        loop = asyncio.get_running_loop()
        self.assertEqual(await loop.run_in_executor(None, work), 1)
""",
        note="A lambda or nested function handed to a thread: it runs its own loop there.",
    ),
    Valid(
        """\
import asyncio


async def read(path):
    return path


def load(path):
    return asyncio.run(read(path))


async def test_load():
    assert await asyncio.to_thread(load, "x") == "x"


def test_load_sync():
    assert load("x") == "x"
""",
        note="A sync helper that runs a loop, called from sync code and passed (not called) to "
        "`to_thread` from a coroutine.",
    ),
    Valid(
        """\
from app.jobs import JobRunner, job


async def test_job():
    runner = JobRunner()
    assert runner.run_until_complete(job()) == 1
""",
        note="A `run_until_complete` method of an object the analysis does not know as a loop.",
    ),
    Valid(
        """\
import asyncio
import unittest


async def compute():
    return 1


class ComputeTest(unittest.IsolatedAsyncioTestCase):
    def test_sync(self):
        self.assertEqual(asyncio.run(compute()), 1)
""",
        note="A sync test of an IsolatedAsyncioTestCase runs outside the loop: no nesting.",
    ),
    Valid(
        """\
import asyncio
import os
import unittest


async def ping():
    return True


class ForkTest(unittest.IsolatedAsyncioTestCase):
    async def test_ping_in_child(self):
        pid = os.fork()
        if pid == 0:
            asyncio.set_event_loop(None)
            loop = asyncio.new_event_loop()
            ok = loop.run_until_complete(ping())
            loop.close()
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(status, 0)
""",
        note="The child of `os.fork()` inherits no running loop (asyncio resets it in the "
        "child): a coroutine's child branch may start its own (Motor's executor test).",
    ),
    Valid(
        """\
import asyncio


async def ping():
    return True


class Cluster:
    def _probe(self, attempts=60):
        loop = asyncio.new_event_loop()
        try:
            for _ in range(attempts):
                if loop.run_until_complete(ping()):
                    break
        finally:
            loop.close()
        return "running"

    def status(self):
        return self._probe(attempts=0)

    async def connect(self):
        return self.status()
""",
        path="tests/cluster.py",
        note="On the path from the coroutine the helper's retry loop runs `range(0)` times: "
        "no loop is driven (asyncpg's test cluster).",
    ),
    Valid(
        """\
import asyncio
import unittest

_IS_SYNC = False


async def ping():
    return True


class PingTest(unittest.IsolatedAsyncioTestCase):
    async def test_ping(self):
        ok = asyncio.run(ping()) if _IS_SYNC else await ping()
        self.assertTrue(ok)
""",
        note="The async source of a generated suite: the `_IS_SYNC` branch never runs here.",
    ),
    Valid(
        """\
import unittest

from tests.jobs import Job


async def compute():
    return 1


class JobTest(unittest.IsolatedAsyncioTestCase):
    async def test_job(self):
        job = Job(compute, run_async=True)
        self.assertEqual(await job.start(), 1)
""",
        files={
            "tests/jobs.py": """\
import asyncio


class Job:
    def __init__(self, factory, run_async=False):
        self.factory = factory
        self.run_async = run_async
        self.loop = asyncio.get_event_loop()

    def start(self):
        future = asyncio.ensure_future(self.factory(), loop=self.loop)
        if self.run_async:
            return future
        return self.loop.run_until_complete(future)
""",
        },
        note="The helper returns the future early when the object was built with "
        "`run_async=True`, as here: no loop is run on this path.",
    ),
    Valid(
        """\
import asyncio

import pytest


def run(coro, sync=True):
    if not sync:
        return coro
    return asyncio.run(coro)


async def compute():
    return 1


@pytest.mark.asyncio
async def test_compute():
    assert await run(compute(), sync=False) == 1


@pytest.mark.asyncio
async def test_compute_positional(mode):
    assert await run(compute(), False) == 1
    assert await run(compute(), mode) == 1
""",
        note="A flag parameter the caller sets to `False` returns the coroutine before "
        "`asyncio.run()`; a flag it passes from a variable cannot be decided: silent.",
    ),
    Valid(
        """\
import asyncio


async def fetch():
    return 1


class Client:
    def __init__(self, blocking=True):
        self.blocking = blocking
        self.loop = asyncio.get_event_loop()

    def get(self):
        coro = fetch()
        return self.loop.run_until_complete(coro) if self.blocking else coro


class AsyncClient:
    async def get(self):
        client = Client(blocking=False)
        return await client.get()
""",
        path="tests/clients.py",
        note="A conditional expression on an attribute the constructor call sets to `False`.",
    ),
    Valid(
        """\
import pytest

from app.settings import Settings


@pytest.mark.asyncio
async def test_settings():
    settings = Settings()
    assert settings.remote["debug"] is False


def test_settings_sync():
    assert Settings(cached=False).remote["debug"] is False
""",
        files={
            "app/settings.py": """\
import asyncio
import functools


async def _fetch():
    return {"debug": False}


class Settings:
    def __init__(self, cached=True):
        self.cached = cached

    @functools.cached_property
    def remote(self):
        if self.cached:
            return {"debug": False}
        return asyncio.run(_fetch())
""",
        },
        note="The property's loop path is not taken for an object built with the default "
        "`cached=True`; a sync test may run the loop.",
    ),
    Valid(
        """\
import asyncio
import unittest


async def compute():
    return 1


class Service:
    @property
    def value(self):
        return compute()


class ServiceTest(unittest.IsolatedAsyncioTestCase):
    async def test_value(self):
        service = Service()
        self.assertEqual(await service.value, 1)
""",
        note="A property that returns a coroutine, awaited by the caller.",
    ),
)
