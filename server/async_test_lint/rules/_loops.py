"""Shared facts about hand-made event loops, for ATL102-ATL105.

Where a loop expression comes from (`asyncio.get_event_loop()`, `new_event_loop()`, a local or
`self.` attribute holding one), whether it is closed, which methods of a test class run as test
code, and the loops ATL102 reports (so ATL105 does not report the same `get_event_loop()` again).
Everything here reads the `ast` model only; names are resolved through `SemanticModel`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from ..analysis.model import CallSite, ClassInfo, FunctionInfo, Scope
from ..analysis.names import (
    GET_EVENT_LOOP,
    GET_EVENT_LOOP_POLICY,
    GET_RUNNING_LOOP,
    ISOLATED_TESTCASE,
    NEUTRAL_BASES,
    NEW_EVENT_LOOP,
    SET_EVENT_LOOP,
    TESTCASE,
)
from ..analysis.semantics import ClassKind
from ..analysis.summarize import attribute_chain
from ..context import Context
from ..model import Edit, Position, TextRange
from ..source import newline_of

#: Where a loop comes from.
GET = "get"  # asyncio.get_event_loop()
POLICY_GET = "policy-get"  # asyncio.get_event_loop_policy().get_event_loop()
NEW = "new"  # asyncio.new_event_loop() / get_event_loop_policy().new_event_loop()
RUNNING = "running"  # asyncio.get_running_loop()

DESCRIPTIONS = {
    GET: "asyncio.get_event_loop()",
    POLICY_GET: "asyncio.get_event_loop_policy().get_event_loop()",
    NEW: "asyncio.new_event_loop()",
    RUNNING: "asyncio.get_running_loop()",
}

#: Lifecycle methods that run around every test, and around the class.
TEST_LIFECYCLE = frozenset({"setUp", "tearDown"})
CLASS_LIFECYCLE = frozenset({"setUpClass", "tearDownClass"})
_TEARDOWN_HOOKS = frozenset(
    {"tearDown", "tearDownClass", "doCleanups", "doClassCleanups", "setUp", "setUpClass"}
)


def loop_factory(context: Context, expr: ast.AST | None, scope: Scope) -> str | None:
    """GET, POLICY_GET, NEW or RUNNING when `expr` is a call that makes or fetches a loop."""
    if not isinstance(expr, ast.Call) or expr.args or expr.keywords:
        return None
    func = expr.func
    model = context.model
    name = model.qualified_name(func, scope)
    if name == GET_EVENT_LOOP:
        return GET
    if name == NEW_EVENT_LOOP:
        return NEW
    if name == GET_RUNNING_LOOP:
        return RUNNING
    if (
        isinstance(func, ast.Attribute)
        and func.attr in ("get_event_loop", "new_event_loop")
        and isinstance(func.value, ast.Call)
        and model.qualified_name(func.value.func, scope) == GET_EVENT_LOOP_POLICY
    ):
        return POLICY_GET if func.attr == "get_event_loop" else NEW
    return None


def is_self_attribute(expr: ast.AST, function: FunctionInfo) -> str | None:
    """`self.loop` -> "loop" inside a method whose receiver is `self` (one level only)."""
    method = function.enclosing_method()
    if method is None or not isinstance(expr, ast.Attribute):
        return None
    receiver = method.receiver
    chain = attribute_chain(expr, receiver) if receiver else None
    return chain if chain is not None and "." not in chain else None


# -- classes -----------------------------------------------------------------------------------


def _module_classes(context: Context) -> dict[str, ClassInfo]:
    cached = context.model.cache.get("atl-loops:module-classes")
    if cached is None:
        cached = {}
        for cls in context.model.classes:
            if cls.parent_scope.kind == "module":
                cached.setdefault(cls.qualname, cls)
        context.model.cache["atl-loops:module-classes"] = cached
    return cached


def local_class(context: Context, qualified_name: str | None) -> ClassInfo | None:
    prefix = f"{context.model.module_name}."
    if qualified_name is None or not qualified_name.startswith(prefix):
        return None
    return _module_classes(context).get(qualified_name[len(prefix) :])


def local_bases(context: Context, cls: ClassInfo) -> list[ClassInfo]:
    found = []
    for base in cls.node.bases:
        name = context.model.qualified_name(base, cls.parent_scope)
        local = local_class(context, name)
        if local is not None and local is not cls:
            found.append(local)
    return found


def local_mro(context: Context, cls: ClassInfo) -> list[ClassInfo]:
    """`cls` and its bases defined in this file, depth first (memoised per class)."""
    key = f"atl-loops:local-mro:{id(cls.node)}"
    cached = context.model.cache.get(key)
    if cached is not None:
        return list(cached)
    order: list[ClassInfo] = []
    stack = [cls]
    while stack and len(order) < 50:
        current = stack.pop(0)
        if any(current is seen for seen in order):
            continue
        order.append(current)
        stack.extend(local_bases(context, current))
    context.model.cache[key] = tuple(order)
    return order


def _local_subclasses(context: Context) -> dict[int, list[ClassInfo]]:
    """For each class (by node id), the classes of this file deriving from it: computed once,
    so asking per class stays linear in the number of classes."""
    cached = context.model.cache.get("atl-loops:subclasses")
    if cached is None:
        cached = {}
        for other in context.model.classes:
            for base in local_mro(context, other)[1:]:
                cached.setdefault(id(base.node), []).append(other)
        context.model.cache["atl-loops:subclasses"] = cached
    return cached


def class_family(context: Context, cls: ClassInfo) -> list[ClassInfo]:
    """`cls`, its local bases and the local classes deriving from it."""
    family = local_mro(context, cls)
    for other in _local_subclasses(context).get(id(cls.node), ()):
        if not any(other is member for member in family):
            family.append(other)
    return family


def has_local_subclass(context: Context, cls: ClassInfo) -> bool:
    return any(other is not cls for other in _local_subclasses(context).get(id(cls.node), ()))


def opaque_teardown(context: Context, cls: ClassInfo) -> bool:
    """A base in another file defines lifecycle hooks we cannot see (they may close the loop)."""
    for member in local_mro(context, cls):
        for base in member.node.bases:
            name = context.model.qualified_name(base, member.parent_scope)
            if name is None:
                return True
            if name in (TESTCASE, ISOLATED_TESTCASE) or name in NEUTRAL_BASES:
                continue
            if local_class(context, name) is not None:
                continue
            summary = context.semantics.find_class(name)
            if summary is None:
                return True
            if any(
                context.semantics.find_method(summary, hook) is not None for hook in _TEARDOWN_HOOKS
            ):
                return True
    return False


def find_local_method(context: Context, cls: ClassInfo, name: str) -> FunctionInfo | None:
    """The method `name` along the local bases; None when absent or defined elsewhere."""
    for member in local_mro(context, cls):
        if name in member.methods:
            return member.methods[name]
    return None


def self_calls(function: FunctionInfo) -> Iterator[tuple[CallSite, str]]:
    """Calls `self.name(...)` made directly by `function` (a method)."""
    receiver = function.receiver
    if receiver is None:
        return
    for call in function.calls:
        func = call.node.func
        if (
            call.scope is function.scope
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == receiver
        ):
            yield call, func.attr


def is_test_name(name: str) -> bool:
    return name.startswith("test")


def _in_order(cls: ClassInfo) -> list[FunctionInfo]:
    return sorted(cls.methods.values(), key=lambda method: method.node.lineno)


def reachable_sync_methods(
    context: Context, cls: ClassInfo, roots: frozenset[str] = TEST_LIFECYCLE
) -> list[tuple[FunctionInfo, FunctionInfo | None]]:
    """Sync tests, the given lifecycle methods, and the sync helpers they call through `self`.

    Each entry is (method, the test or lifecycle method it was first reached from, None for a root).
    """
    result: list[tuple[FunctionInfo, FunctionInfo | None]] = []
    seen: set[int] = set()
    queue: list[tuple[FunctionInfo, FunctionInfo | None]] = []
    for method in _in_order(cls):
        if (is_test_name(method.name) or method.name in roots) and not method.is_async:
            queue.append((method, None))
    while queue:
        method, origin = queue.pop(0)
        if id(method.node) in seen:
            continue
        seen.add(id(method.node))
        result.append((method, origin))
        for _, name in self_calls(method):
            helper = find_local_method(context, cls, name)
            if helper is not None and not helper.is_async and id(helper.node) not in seen:
                queue.append((helper, origin or method))
    return result


# -- attributes of self --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeAssignment:
    method: FunctionInfo
    statement: ast.Assign
    value: ast.expr


def self_assignments(context: Context, cls: ClassInfo) -> dict[str, list[AttributeAssignment]]:
    """`self.x = value` (and `cls.x = value`) statements in the methods of `cls`'s local MRO."""
    key = f"atl-loops:self-assignments:{id(cls.node)}"
    cached = context.model.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    found: dict[str, list[AttributeAssignment]] = {}
    for member in local_mro(context, cls):
        for method in member.methods.values():
            receiver = method.receiver
            if receiver is None:
                continue
            for function in context.semantics.nested_functions(method):
                for node in function.assigns:
                    for target in node.targets:
                        chain = attribute_chain(target, receiver)
                        if chain is not None and "." not in chain:
                            found.setdefault(chain, []).append(
                                AttributeAssignment(method, node, node.value)
                            )
    context.model.cache[key] = found
    return found


def attribute_closed(context: Context, cls: ClassInfo, attribute: str) -> bool:
    """`self.<attribute>.close()` called, or `<attribute>.close` registered as a cleanup, in the
    methods of any class related to `cls` in this file (conservative: anywhere counts)."""
    for member in class_family(context, cls):
        for method in member.methods.values():
            receiver = method.receiver
            if receiver is None:
                continue
            for function in context.semantics.nested_functions(method):
                for node in function.attribute_loads:
                    if node.attr == "close" and attribute_chain(node.value, receiver) == attribute:
                        return True
    return False


def name_closed(function: FunctionInfo, name: str) -> bool:
    """`name.close()` called or `name.close` passed on (e.g. to addCleanup) inside `function`."""
    for node in ast.walk(function.node):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "close"
            and isinstance(node.value, ast.Name)
            and node.value.id == name
        ):
            return True
    return False


def resets_current_loop(context: Context, functions: list[FunctionInfo]) -> bool:
    """`asyncio.set_event_loop(None)` called, or registered as a cleanup, in any of `functions`."""
    for function in functions:
        for call in function.calls:
            name = context.model.callee_name(call)
            args = call.node.args
            if name in _RESETTERS and args and _is_none(args[0]):
                return True
            if (
                isinstance(call.node.func, ast.Attribute)
                and call.node.func.attr
                in ("addCleanup", "addClassCleanup", "addModuleCleanup", "enterContext")
                and len(args) >= 2
                and context.model.qualified_name(args[0], call.scope) in _RESETTERS
                and _is_none(args[1])
            ):
                return True
    return False


#: `set_event_loop(None)`, and `set_event_loop_policy(None)` (a fresh policy has no loop).
_RESETTERS = frozenset({SET_EVENT_LOOP, "asyncio.set_event_loop_policy"})


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


# -- ATL102's findings, shared with ATL105 ------------------------------------------------


@dataclass(frozen=True)
class UnmanagedRun:
    """A `run_until_complete()` call on a loop nobody manages, in test code of a plain TestCase."""

    call: CallSite
    cls: ClassInfo
    method: FunctionInfo
    #: the test or lifecycle method that calls the helper `method`, None when `method` is one.
    caller: FunctionInfo | None
    origin: str
    #: the loop factory call the loop came from.
    origin_node: ast.Call
    #: how the loop is reached at the call: `loop`, `self.loop`, or the factory call itself.
    receiver_text: str
    where_made: str | None


def unmanaged_runs(context: Context) -> list[UnmanagedRun]:
    cached = context.model.cache.get("atl-loops:unmanaged-runs")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    found: list[UnmanagedRun] = []
    if context.model.calls_by_name.get("run_until_complete"):
        seen: set[int] = set()
        for cls in context.model.classes:
            if context.semantics.kind(cls) is not ClassKind.PLAIN_TESTCASE:
                continue
            roots = TEST_LIFECYCLE | CLASS_LIFECYCLE
            for method, caller in reachable_sync_methods(context, cls, roots):
                found.extend(_runs_in(context, cls, method, caller, seen))
            for test in _in_order(cls):
                if is_test_name(test.name):
                    for wrapper in _local_decorator_wrappers(context, test):
                        found.extend(_runs_in(context, cls, wrapper, test, seen))
    context.model.cache["atl-loops:unmanaged-runs"] = found
    return found


def _runs_in(
    context: Context,
    cls: ClassInfo,
    method: FunctionInfo,
    caller: FunctionInfo | None,
    seen: set[int],
) -> Iterator[UnmanagedRun]:
    for call in method.calls:
        if id(call.node) in seen or call.scope is not method.scope:
            continue
        func = call.node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "run_until_complete"):
            continue
        origin = _unmanaged_origin(context, cls, method, func.value)
        if origin is None:
            continue
        seen.add(id(call.node))
        kind, node, where = origin
        yield UnmanagedRun(
            call, cls, method, caller, kind, node, context.source_of(func.value), where
        )


def _local_decorator_wrappers(context: Context, test: FunctionInfo) -> Iterator[FunctionInfo]:
    """The nested functions of a decorator of `test` defined at module level in this file
    (`def async_test(f): def wrapper(*a): return loop.run_until_complete(f(*a))`)."""
    model = context.model
    for decorator in test.node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if not isinstance(target, ast.Name):
            continue
        binding = model.resolve_binding(target.id, test.parent_scope)
        outer = binding.function if binding is not None else None
        if outer is None or outer.parent is not None or outer.cls is not None:
            continue
        for inner in model.functions:
            ancestor = inner.parent
            while ancestor is not None and ancestor is not outer:
                ancestor = ancestor.parent
            if ancestor is outer and not inner.is_async:
                yield inner


def _unmanaged_origin(
    context: Context, cls: ClassInfo, method: FunctionInfo, receiver: ast.expr
) -> tuple[str, ast.Call, str | None] | None:
    """(factory, factory call, where it was made) for a loop nobody closes or owns."""
    kind = loop_factory(context, receiver, method.scope)
    if kind is not None and isinstance(receiver, ast.Call):
        return (kind, receiver, None) if kind in (GET, POLICY_GET, NEW) else None
    if isinstance(receiver, ast.Name):
        bindings = method.scope.bindings.get(receiver.id)
        if not bindings or len(bindings) != 1 or bindings[0].kind != "assign":
            return None  # a parameter, a module-level loop (ATL103), or several values
        value = bindings[0].node
        kind = loop_factory(context, value, method.scope)
        if kind is None or not isinstance(value, ast.Call):
            return None
        if kind in (GET, POLICY_GET):
            return kind, value, None
        if kind == NEW and not name_closed(method, receiver.id):
            return kind, value, None
        return None
    attribute = is_self_attribute(receiver, method)
    if attribute is None:
        return None
    assignments = self_assignments(context, cls).get(attribute)
    if not assignments or opaque_teardown(context, cls):
        return None
    kinds = {loop_factory(context, a.value, a.method.scope) for a in assignments}
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    first = assignments[0]
    if not isinstance(first.value, ast.Call):
        return None
    if kind in (GET, POLICY_GET):
        return kind, first.value, first.method.name
    if kind == NEW:
        made_in_lifecycle = any(
            a.method.name in TEST_LIFECYCLE | CLASS_LIFECYCLE for a in assignments
        )
        if made_in_lifecycle or attribute_closed(context, cls, attribute):
            return None  # a dedicated loop; when never closed, ATL103 reports where it is made
        return kind, first.value, first.method.name
    return None


def unmanaged_origin_nodes(context: Context) -> set[int]:
    return {id(run.origin_node) for run in unmanaged_runs(context)}


# -- edits -----------------------------------------------------------------------------------------


def statement_line_insertion(context: Context, statement: ast.stmt, text: str) -> Edit | None:
    """An edit adding `text` as a new statement right after `statement`, at its indentation.

    Only for a statement alone on its lines (not after `;`, not the body of a one-line `if x:`);
    the new line uses the file's own line terminator.
    """
    parsed = context.parsed
    lines = parsed.lines
    statement_range = parsed.node_range(statement)
    first = lines.line_text(statement_range.start.line)
    indent = first[: statement_range.start.column]
    if indent.strip(" \t"):
        return None  # something precedes the statement on its line
    last_line = statement_range.end.line
    rest = lines.line_text(last_line)[statement_range.end.column :].strip()
    if rest and not rest.startswith("#"):
        return None  # `a(); b()`
    newline = line_terminator(context, last_line)
    if newline:
        at = Position(last_line + 1, 0)
        return Edit(TextRange(at, at), f"{indent}{text}{newline}")
    end = Position(last_line, len(lines.line_text(last_line)))
    return Edit(TextRange(end, end), f"{newline_of(context.text)}{indent}{text}")


def line_terminator(context: Context, line: int) -> str:
    lines = context.parsed.lines
    if line + 1 >= lines.line_count:
        return ""
    start = lines.line_start(line) + len(lines.line_text(line))
    return context.text[start : lines.line_start(line + 1)]


def is_statement_call(context: Context, call: ast.Call) -> ast.Expr | None:
    """The expression statement `call` is, when it stands alone as one."""
    parent = context.model.parent(call)
    return parent if isinstance(parent, ast.Expr) and parent.value is call else None
