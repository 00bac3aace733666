"""ATL103: an event loop reused or leaked across tests."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..analysis.lifetimes import Fate, fate
from ..analysis.model import CallSite, ClassInfo, FunctionInfo, Scope
from ..analysis.names import SET_EVENT_LOOP, is_test_path
from ..analysis.semantics import ClassKind
from ..context import Context
from ..model import Diagnostic, Edit, Fix, LazyFix, Position, Safety, TextRange
from ..source import newline_of
from ._loops import (
    DESCRIPTIONS,
    GET,
    NEW,
    POLICY_GET,
    attribute_closed,
    class_family,
    has_local_subclass,
    is_self_attribute,
    is_statement_call,
    line_terminator,
    local_class,
    local_mro,
    loop_factory,
    name_closed,
    opaque_teardown,
    resets_current_loop,
    self_assignments,
    statement_line_insertion,
    unmanaged_origin_nodes,
)
from .base import Invalid, Rule, Valid

_UNITTEST = (ClassKind.PLAIN_TESTCASE, ClassKind.ISOLATED)
_TEST_CLASSES = (*_UNITTEST, ClassKind.PYTEST_STYLE)


class EventLoopLeaked(Rule):
    code = "ATL103"
    name = "event-loop-leaked"
    family = "T6"
    summary = "An event loop is shared by several tests, or outlives the test that made it"
    what = (
        "Finds event loops that live longer than one test: a loop made at module level or in a "
        "test class body and used by the tests; a loop made in `setUpClass` that no "
        "`tearDownClass` or `addClassCleanup` closes; a loop made in `setUp` that no "
        "`tearDown` or `addCleanup` closes; and `asyncio.set_event_loop(loop)` in a plain "
        "`unittest.TestCase` (or a sync pytest test or fixture) that is never reset with "
        "`set_event_loop(None)`. Spellings through aliases (`import asyncio as aio`, "
        "`from asyncio import new_event_loop`) are recognised. A lifecycle method of a base class "
        "in another file may close the loop, so such classes are not reported. And a loop made "
        "anywhere else in test code (a test, a helper, the wrapper or the body of a decorator "
        "in a test-utilities module; `new_event_loop()` or a loop class such as "
        "`asyncio.SelectorEventLoop()` constructed directly) that is never closed: the loop is "
        "followed through locals, `self` attributes, and the objects and known functions it is "
        "handed to (analysis/lifetimes.py); `stop()` does not close it; a loop made current "
        "with `set_event_loop()` counts as closed when the module fetches the current loop and "
        "closes it. A loop that goes where the analysis cannot see (a library object, a "
        "container, a return or `yield`) is not reported."
    )
    why = (
        "A loop shared by tests carries state from one test into the next: tasks and callbacks "
        "one test scheduled and never awaited run (or fail) during a later test, and a test that "
        "closes the shared loop breaks all later ones with *Event loop is closed*. A loop made "
        "per test and never closed leaks its selector and sockets: `ResourceWarning: unclosed "
        "event loop` under `-W default`, and *Too many open files* in long suites. A current "
        "loop that is never reset outlives its test: after the test closes it, any later "
        "`asyncio.get_event_loop()` in the process returns the closed loop."
    )
    versions = (
        "All versions. On 3.12+ a test that relies on the current loop a previous test left "
        "behind stops warning only by accident; on 3.14 `get_event_loop()` raises where no loop "
        "was set, so removing the leak may reveal that reliance."
    )
    fix_notes = (
        "Safe, for a loop made in `setUp` (or `setUpClass`, target 3.8+) that is never closed: "
        "`self.addCleanup(<loop>.close)` (`cls.addClassCleanup(...)`) is inserted right after "
        "the statement that makes it; and for `asyncio.set_event_loop(loop)` never reset: "
        "`self.addCleanup(asyncio.set_event_loop, None)` is inserted right after it (cleanups "
        "run after `tearDown`, so the loop is still usable there). A `new_event_loop()` in the "
        "body of a plain TestCase becomes a per-test loop made in `setUp` and closed by "
        "`addCleanup`, but only when nothing else references it: every use in the file is "
        "`self.<name>` in an instance method of that class (no `cls.<name>`, no "
        "`Class.<name>`, no other class-body statement, no subclass in the file). A "
        "module-level loop, a class-level `get_event_loop()` (other code may rely on it being "
        "the current loop) and any other shared loop get no automatic fix: the per-test loop is "
        "still the cure, but whether fixtures, objects built at import time or other modules "
        "hold the shared loop cannot be known; converting the class to "
        "`IsolatedAsyncioTestCase` is the other way out. "
        "A loop made in a unittest test method and bound to a name or `self` attribute gets "
        "`self.addCleanup(<loop>.close)` right after it (safe); one made in a decorator or "
        "helper gets no automatic fix: close it in a `finally` around the run (or at the end "
        "of the decorator's wrapper), or let `IsolatedAsyncioTestCase` own the loop."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model = context.model
        if model.calls_by_name.get("new_event_loop") or model.calls_by_name.get("get_event_loop"):
            yield from self._shared_loops(context)
            yield from self._unclosed_lifecycle_loops(context)
        yield from self._current_loop_never_reset(context)
        if _may_make_loops(context):
            yield from self._loops_never_closed(context)

    # -- a loop made in test code, never closed (analysis/lifetimes.py) ------------------------

    def _loops_never_closed(self, context: Context) -> Iterator[Diagnostic]:
        """A loop made in a function of test code (a test, a helper, a decorator's wrapper of
        a test-utilities module) that no code closes: followed through locals, attributes and
        the objects it is handed to; silent when it goes where the analysis cannot see."""
        reported = unmanaged_origin_nodes(context)
        closes_current: bool | None = None
        for call in context.model.calls:
            function = call.function
            if function is None or id(call.node) in reported:
                continue
            made = _made_loop(context, call)
            if made is None or _reported_as_lifecycle_loop(context, function):
                continue
            found = fate(context.flow, call.node, keepers=(SET_EVENT_LOOP,))
            if found is None or not found.leaked:
                continue
            if found.kept_by:
                if closes_current is None:
                    closes_current = _closes_current_loop(context)
                if closes_current:
                    continue  # the current loop is fetched and closed somewhere here
            if context.semantics.manages_loop_state(function):
                continue
            yield self._never_closed(context, call, function, made, found)

    def _never_closed(
        self, context: Context, call: CallSite, function: FunctionInfo, made: str, found: Fate
    ) -> Diagnostic:
        where = function.name if function.cls is None else f"{function.name} of {function.cls.name}"
        goes = _where_it_goes(context, function, found)
        message = (
            f"{made} in {where} is never closed{goes}: every run leaks an event loop "
            f"(ResourceWarning: unclosed event loop)"
        )
        return context.report(
            self, call.node, message, _close_with_cleanup(context, call, function)
        )

    # -- module-level and class-level loops ------------------------------------------------------

    def _shared_loops(self, context: Context) -> Iterator[Diagnostic]:
        model = context.model
        for call in model.calls_named("new_event_loop", "get_event_loop"):
            if call.function is not None:
                continue
            kind = loop_factory(context, call.node, call.scope)
            if kind not in (GET, POLICY_GET, NEW):
                continue
            statement = model.parent(call.node)
            if not (
                isinstance(statement, ast.Assign)
                and statement.value is call.node
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                continue
            name = statement.targets[0].id
            bindings = call.scope.bindings.get(name)
            if not bindings or len(bindings) != 1:
                continue
            if call.scope is model.module_scope:
                users = self._module_loop_users(context, name)
                if users:
                    yield context.report(
                        self,
                        call.node,
                        f"module-level event loop {name} = {DESCRIPTIONS[kind]} is shared by "
                        f"{_names(users)}: state leaks from one test into the next",
                    )
            elif call.scope.kind == "class" and call.cls is not None:
                if context.semantics.kind(call.cls) not in _TEST_CLASSES:
                    continue
                users = self._class_loop_users(context, call.cls, name)
                if users:
                    yield context.report(
                        self,
                        call.node,
                        f"class-level event loop {call.cls.name}.{name} = {DESCRIPTIONS[kind]} is "
                        f"shared by {_names(users)}: state leaks from one test into the next",
                        self._per_test_loop_fix(context, call.cls, statement, name, kind),
                    )

    def _per_test_loop_fix(
        self, context: Context, cls: ClassInfo, statement: ast.Assign, name: str, kind: str
    ) -> LazyFix | None:
        """A class-body `new_event_loop()` used only as `self.<name>` by the class's own instance
        methods becomes a per-test loop made in `setUp` and closed by `addCleanup`."""
        if kind != NEW or context.semantics.kind(cls) is not ClassKind.PLAIN_TESTCASE:
            return None
        if has_local_subclass(context, cls) or not _only_self_references(context, cls, name):
            return None
        title = f"Make {cls.name}.{name} a per-test loop created in setUp"
        return context.lazy_fix(
            title,
            Safety.SAFE,
            lambda: _per_test_loop_edits(context, cls, statement, name, title),
        )

    def _module_loop_users(self, context: Context, name: str) -> list[FunctionInfo]:
        model = context.model
        target = model.module_scope.bindings.get(name)
        users = []
        for function in _test_functions(context):
            if model.lookup(name, function.scope) is not target:
                continue
            if any(
                isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)
                for node in ast.walk(function.node)
            ):
                users.append(function)
        return users

    def _class_loop_users(self, context: Context, cls: ClassInfo, name: str) -> list[FunctionInfo]:
        users = []
        for member in class_family(context, cls):
            for method in member.methods.values():
                receiver = method.receiver
                for node in ast.walk(method.node):
                    if not (isinstance(node, ast.Attribute) and node.attr == name):
                        continue
                    value = node.value
                    if isinstance(value, ast.Name) and value.id in (receiver, cls.name):
                        users.append(method)
                        break
        return users

    # -- setUp / setUpClass ---------------------------------------------------------------------

    def _unclosed_lifecycle_loops(self, context: Context) -> Iterator[Diagnostic]:
        for cls in context.model.classes:
            if context.semantics.kind(cls) not in _UNITTEST:
                continue
            for hook in ("setUp", "setUpClass"):
                method = cls.methods.get(hook)
                if method is None or method.is_async:
                    continue
                for call in method.calls:
                    if (
                        call.scope is not method.scope
                        or loop_factory(context, call.node, method.scope) != NEW
                    ):
                        continue
                    found = self._unclosed(context, cls, method, call)
                    if found is not None:
                        yield found

    def _unclosed(
        self, context: Context, cls: ClassInfo, method: FunctionInfo, call: CallSite
    ) -> Diagnostic | None:
        statement = context.model.parent(call.node)
        if not (
            isinstance(statement, ast.Assign)
            and statement.value is call.node
            and len(statement.targets) == 1
        ):
            return None
        target = statement.targets[0]
        receiver = method.receiver
        if receiver is None:
            return None
        if isinstance(target, ast.Name):
            bindings = method.scope.bindings.get(target.id)
            if not bindings or len(bindings) != 1 or name_closed(method, target.id):
                return None
            loop_text = target.id
        else:
            attribute = is_self_attribute(target, method)
            if (
                attribute is None
                or attribute_closed(context, cls, attribute)
                or opaque_teardown(context, cls)
            ):
                return None
            loop_text = f"{receiver}.{attribute}"
        class_level = method.name == "setUpClass"
        register = "addClassCleanup" if class_level else "addCleanup"
        closer = "tearDownClass" if class_level else "tearDown"
        message = (
            f"event loop {loop_text} made in {method.name} of {cls.name} is never closed "
            f"(no {closer} or {register} closes it)"
        )
        if class_level and context.target < (3, 8):
            return context.report(self, call.node, message)
        text = f"{receiver}.{register}({loop_text}.close)"
        return context.report(
            self,
            call.node,
            message,
            context.lazy_fix(
                f"Close {loop_text} with {register}",
                Safety.SAFE,
                lambda: _insertion_fix(
                    context, statement, text, f"Close {loop_text} with {register}"
                ),
            ),
        )

    # -- set_event_loop(loop) never reset -------------------------------------------------------

    def _current_loop_never_reset(self, context: Context) -> Iterator[Diagnostic]:
        model = context.model
        candidates = [
            call
            for call in model.calls_named("set_event_loop")
            if model.callee_name(call) == SET_EVENT_LOOP
            and len(call.node.args) == 1
            and not call.node.keywords
            and not (
                isinstance(call.node.args[0], ast.Constant) and call.node.args[0].value is None
            )
        ]
        if not candidates or resets_current_loop(context, model.functions):
            return
        for call in candidates:
            function = call.function
            if function is None or function.is_async or call.scope is not function.scope:
                continue
            if not _owns_loop(context, call, function):
                continue  # a fixture's or a context manager's loop: its owner resets it
            method = function.enclosing_method()
            if method is not None and method.cls is not None:
                cls = method.cls
                if not _plain_or_local_runner(context, cls) or opaque_teardown(context, cls):
                    continue
                yield self._never_reset(
                    context,
                    call,
                    f"{function.name} of {cls.name}",
                    method if method is function else None,
                )
            elif function.parent is None and _is_pytest_function(context, function):
                yield self._never_reset(context, call, function.name, None)

    def _never_reset(
        self, context: Context, call: CallSite, where: str, method: FunctionInfo | None
    ) -> Diagnostic:
        shown = context.source_of(call.node)
        if len(shown) > 60 or "\n" in shown:
            shown = "asyncio.set_event_loop(...)"
        message = (
            f"{shown} in {where} is never reset to None: the loop stays current after the test "
            f"and later tests get it (closed) from get_event_loop()"
        )
        statement = is_statement_call(context, call.node)
        receiver = method.receiver if method is not None else None
        if (
            method is None
            or statement is None
            or receiver is None
            or (method.node.decorator_list and method.name != "setUpClass")
        ):
            return context.report(self, call.node, message)
        if method.name in ("tearDown", "tearDownClass"):
            return context.report(self, call.node, message)
        register = "addClassCleanup" if method.name == "setUpClass" else "addCleanup"
        if register == "addClassCleanup" and context.target < (3, 8):
            return context.report(self, call.node, message)
        text = f"{receiver}.{register}({context.source_of(call.node.func)}, None)"
        title = f"Reset the current loop with {register}"
        return context.report(
            self,
            call.node,
            message,
            context.lazy_fix(
                title, Safety.SAFE, lambda: _insertion_fix(context, statement, text, title)
            ),
        )


_LOOP_CLASSES = frozenset(
    {
        "asyncio.SelectorEventLoop",
        "asyncio.ProactorEventLoop",
        "uvloop.Loop",
        "uvloop.new_event_loop",
    }
)


def _makes_loop(context: Context, value: ast.AST | None, scope: Scope) -> bool:
    if loop_factory(context, value, scope) in (GET, POLICY_GET, NEW):
        return True
    return (
        isinstance(value, ast.Call)
        and context.model.qualified_name(value.func, scope) in _LOOP_CLASSES
    )


def _owns_loop(context: Context, call: CallSite, function: FunctionInfo) -> bool:
    """`set_event_loop(x)` where this test code made `x` itself: only then is the reset its job.

    A loop from a parameter (aiohttp's `loop` fixture), a `with loop_context() as loop` block or
    any other source is reset by whoever made it.
    """
    argument = call.node.args[0]
    if _makes_loop(context, argument, call.scope):
        return True
    if isinstance(argument, ast.Name):
        binding = context.model.resolve_binding(argument.id, call.scope)
        return (
            binding is not None
            and binding.kind == "assign"
            and _makes_loop(context, binding.node, call.scope)
        )
    attribute = is_self_attribute(argument, function)
    method = function.enclosing_method()
    if attribute is None or method is None or method.cls is None:
        return False
    assignments = self_assignments(context, method.cls).get(attribute, [])
    return bool(assignments) and all(
        _makes_loop(context, assignment.value, assignment.method.scope)
        for assignment in assignments
    )


def _plain_or_local_runner(context: Context, cls: ClassInfo) -> bool:
    """A plain TestCase, or one whose own running machinery (`__init_subclass__` wrapping
    coroutine tests, an overridden `run`) is defined in this file on plain TestCase bases:
    this file, which never resets the current loop, is all there is to read."""
    kind = context.semantics.kind(cls)
    if kind is ClassKind.PLAIN_TESTCASE:
        return True
    if kind is not ClassKind.CUSTOM_RUNNER:
        return False
    for member in local_mro(context, cls):
        for base in member.node.bases:
            name = context.model.qualified_name(base, member.parent_scope)
            if local_class(context, name) is not None:
                continue
            if context.semantics.kind_of_name(name) is not ClassKind.PLAIN_TESTCASE:
                return False
    return True


def _may_make_loops(context: Context) -> bool:
    """A cheap pre-filter: the file calls something named like a loop factory, in test code."""
    calls = context.model.calls_by_name
    if not any(calls.get(name) for name in _LOOP_MAKER_NAMES):
        return False
    return in_test_code(context.path)


_LOOP_MAKER_NAMES = (
    "new_event_loop",
    "SelectorEventLoop",
    "ProactorEventLoop",
    "EventLoop",
    "Loop",
)


def in_test_code(path: str | None) -> bool:
    """A test module, or a module of a `tests`/`test`/`testing` folder (test utilities)."""
    if is_test_path(path):
        return True
    parts = (path or "").replace("\\", "/").split("/")[:-1]
    return any(part in ("tests", "test", "testing") for part in parts)


def _made_loop(context: Context, call: CallSite) -> str | None:
    """How `call` makes a new loop, spelled for messages, or None."""
    if loop_factory(context, call.node, call.scope) == NEW:
        return DESCRIPTIONS[NEW]
    name = context.model.qualified_name(call.node.func, call.scope)
    if name in _LOOP_CLASSES or name == "asyncio.EventLoop":
        return f"{name}()"
    return None


def _reported_as_lifecycle_loop(context: Context, function: FunctionInfo) -> bool:
    """`setUp`/`setUpClass` of a unittest class: `_unclosed_lifecycle_loops` speaks there."""
    cls = function.cls
    return (
        cls is not None
        and function.name in ("setUp", "setUpClass")
        and context.semantics.kind(cls) in _UNITTEST
    )


def _closes_current_loop(context: Context) -> bool:
    """Some code of the module fetches the current loop and closes it."""
    for call in context.model.calls_named("get_event_loop"):
        if loop_factory(context, call.node, call.scope) not in (GET, POLICY_GET):
            continue
        found = fate(context.flow, call.node)
        if found is None or found.released or found.escapes is not None:
            return True
    return False


def _where_it_goes(context: Context, function: FunctionInfo, found: Fate) -> str:
    module = context.model.module_name + "."
    for holder in found.holders:
        if holder.kind == "attr":
            owner = holder.owner[len(module) :] if holder.owner.startswith(module) else holder.owner
            if function.cls is None or owner != function.cls.qualname:
                return f" (it goes to {owner.rpartition('.')[2]}.{holder.name})"
    if found.kept_by:
        return " (it becomes the current loop, and nothing closes that)"
    return ""


def _close_with_cleanup(context: Context, call: CallSite, function: FunctionInfo) -> LazyFix | None:
    """`loop = new_event_loop()` in a unittest test method: `self.addCleanup(loop.close)`."""
    cls = function.cls
    receiver = function.receiver
    statement = context.model.parent(call.node)
    if (
        cls is None
        or receiver is None
        or function.node.decorator_list
        or context.semantics.kind(cls) not in _UNITTEST
        or not (
            isinstance(statement, ast.Assign)
            and statement.value is call.node
            and len(statement.targets) == 1
            and any(item is statement for item in function.node.body)
        )
    ):
        return None
    target = statement.targets[0]
    if isinstance(target, ast.Name):
        loop_text = target.id
    else:
        attribute = is_self_attribute(target, function)
        if attribute is None:
            return None
        loop_text = f"{receiver}.{attribute}"
    title = f"Close {loop_text} with addCleanup"
    text = f"{receiver}.addCleanup({loop_text}.close)"
    return context.lazy_fix(
        title, Safety.SAFE, lambda: _insertion_fix(context, statement, text, title)
    )


def _only_self_references(context: Context, cls: ClassInfo, name: str) -> bool:
    """Every use of the class attribute `name` in the file is `self.<name>` in an instance
    method of `cls` (not `cls.<name>`, not `Class.<name>`, not the bare name in the body)."""
    methods = {id(method.node): method for method in cls.methods.values()}
    for statement in cls.node.body:
        if id(statement) in methods:
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                return False
    receivers: dict[int, str] = {}
    for method in cls.methods.values():
        if method.node.decorator_list:
            if any(
                isinstance(node, ast.Attribute) and node.attr == name
                for node in ast.walk(method.node)
            ):
                return False
            continue
        receiver = method.receiver
        if receiver is not None:
            for node in ast.walk(method.node):
                receivers[id(node)] = receiver
    for node in ast.walk(context.model.tree):
        if not (isinstance(node, ast.Attribute) and node.attr == name):
            continue
        receiver = receivers.get(id(node))
        if receiver is None or not (isinstance(node.value, ast.Name) and node.value.id == receiver):
            return False
        if not isinstance(node.ctx, ast.Load):
            return False
    return True


def _per_test_loop_edits(
    context: Context, cls: ClassInfo, statement: ast.Assign, name: str, title: str
) -> Fix | None:
    parsed = context.parsed
    lines = parsed.lines
    statement_range = parsed.node_range(statement)
    first_line, last_line = statement_range.start.line, statement_range.end.line
    indent = lines.line_text(first_line)[: statement_range.start.column]
    if indent.strip(" \t") or lines.line_text(last_line)[statement_range.end.column :].strip():
        return None  # not alone on its lines
    class_indent = lines.line_text(parsed.node_range(cls.node).start.line)
    class_indent = class_indent[: len(class_indent) - len(class_indent.lstrip(" \t"))]
    unit = indent[len(class_indent) :] or "    "
    newline = line_terminator(context, last_line) or newline_of(context.text)
    factory = context.source_of(statement.value)
    body = [f"self.{name} = {factory}", f"self.addCleanup(self.{name}.close)"]
    start = Position(first_line, 0)
    end = Position(last_line + 1, 0)
    if last_line + 1 >= lines.line_count:
        return None
    setup = cls.methods.get("setUp")
    if setup is None:
        text = f"{indent}def setUp(self):{newline}{indent}{unit}super().setUp(){newline}"
        text += "".join(f"{indent}{unit}{line}{newline}" for line in body)
        return Fix(title, Safety.SAFE, (Edit(TextRange(start, end), text),))
    if setup.is_async or setup.node.decorator_list or not setup.node.body:
        return None
    first = setup.node.body[0]
    anchor = first
    if _is_super_setup(first) and len(setup.node.body) > 1:
        anchor = setup.node.body[1]
    elif _is_super_setup(first):
        return None
    anchor_range = parsed.node_range(anchor)
    if any(decorated for decorated in getattr(anchor, "decorator_list", [])):
        return None
    body_indent = lines.line_text(anchor_range.start.line)[: anchor_range.start.column]
    if body_indent.strip(" \t"):
        return None
    at = Position(anchor_range.start.line, 0)
    text = "".join(f"{body_indent}{line}{newline}" for line in body)
    removal = Edit(TextRange(start, _after_blank_line(context, cls, statement, end)), "")
    return Fix(title, Safety.SAFE, (removal, Edit(TextRange(at, at), text)))


def _after_blank_line(
    context: Context, cls: ClassInfo, statement: ast.stmt, end: Position
) -> Position:
    """Removing the first statement of a class body takes the blank line after it too."""
    lines = context.parsed.lines
    first = bool(cls.node.body) and cls.node.body[0] is statement
    blank_follows = end.line + 1 < lines.line_count and not lines.line_text(end.line).strip()
    return Position(end.line + 1, 0) if first and blank_follows else end


def _is_super_setup(statement: ast.stmt) -> bool:
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    func = statement.value.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "setUp"
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "super"
    )


def _insertion_fix(context: Context, statement: ast.stmt, text: str, title: str) -> Fix | None:
    edit = statement_line_insertion(context, statement, text)
    return None if edit is None else Fix(title, Safety.SAFE, (edit,))


def _names(functions: list[FunctionInfo]) -> str:
    names = sorted({function.name for function in functions})
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"{'test code' if len(names) != 1 else 'the test code'} ({shown})"


def _test_functions(context: Context) -> list[FunctionInfo]:
    """Functions that are test code: methods of test classes, pytest tests and fixtures."""
    found = []
    for function in context.model.functions:
        top = function
        while top.parent is not None:
            top = top.parent
        if top.cls is not None:
            if context.semantics.kind(top.cls) in _TEST_CLASSES:
                found.append(function)
        elif top.parent_scope is context.model.module_scope and _is_pytest_function(context, top):
            found.append(function)
    return found


def _is_pytest_function(context: Context, function: FunctionInfo) -> bool:
    if function.parent_scope is not context.model.module_scope or not is_test_path(context.path):
        return False
    return function.name.startswith("test") or function.name in context.semantics.summary.fixtures


EventLoopLeaked.invalid = (
    Invalid(
        """\
import asyncio
import unittest


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
""",
        line=11,
        fixed="""\
import asyncio
import unittest


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
""",
        runnable=True,
        note="`setUp` makes a loop per test and nothing closes it.",
    ),
    Invalid(
        """\
import asyncio as aio
import unittest as ut


class ClockTest(ut.TestCase):
    def setUp(self):
        self.loop = aio.new_event_loop()
        aio.set_event_loop(self.loop)
        self.addCleanup(self.loop.close)

    def test_now(self):
        self.assertGreaterEqual(aio.get_event_loop().time(), 0)
""",
        line=8,
        fixed="""\
import asyncio as aio
import unittest as ut


class ClockTest(ut.TestCase):
    def setUp(self):
        self.loop = aio.new_event_loop()
        aio.set_event_loop(self.loop)
        self.addCleanup(aio.set_event_loop, None)
        self.addCleanup(self.loop.close)

    def test_now(self):
        self.assertGreaterEqual(aio.get_event_loop().time(), 0)
""",
        runnable=True,
        note="`import asyncio as aio`, `import unittest as ut`: the loop is closed, but it stays "
        "the current loop after the test.",
    ),
    Invalid(
        """\
from asyncio import new_event_loop
from unittest import TestCase as TC


async def compute():
    return 42


class ComputeTest(TC):
    @classmethod
    def setUpClass(cls):
        cls.loop = new_event_loop()

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
""",
        line=12,
        fixed="""\
from asyncio import new_event_loop
from unittest import TestCase as TC


async def compute():
    return 42


class ComputeTest(TC):
    @classmethod
    def setUpClass(cls):
        cls.loop = new_event_loop()
        cls.addClassCleanup(cls.loop.close)

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
""",
        runnable=True,
        note="`from asyncio import new_event_loop`; a loop made in `setUpClass` and never closed.",
    ),
    Invalid(
        "import asyncio\r\n"
        "\r\n"
        "from tests.base import ApiTestCase\r\n"
        "\r\n"
        "\r\n"
        "class PingTest(ApiTestCase):\r\n"
        "    def setUp(self):\r\n"
        "        super().setUp()\r\n"
        "        loop = asyncio.new_event_loop()\r\n"
        "        asyncio.set_event_loop(loop)\r\n"
        "\r\n"
        "    def test_ping(self):\r\n"
        "        self.assertFalse(asyncio.get_event_loop().is_closed())\r\n",
        line=9,
        count=2,
        files={
            "tests/base.py": """\
import unittest


class ApiTestCase(unittest.TestCase):
    maxDiff = None
""",
        },
        fixed="import asyncio\r\n"
        "\r\n"
        "from tests.base import ApiTestCase\r\n"
        "\r\n"
        "\r\n"
        "class PingTest(ApiTestCase):\r\n"
        "    def setUp(self):\r\n"
        "        super().setUp()\r\n"
        "        loop = asyncio.new_event_loop()\r\n"
        "        self.addCleanup(loop.close)\r\n"
        "        asyncio.set_event_loop(loop)\r\n"
        "        self.addCleanup(asyncio.set_event_loop, None)\r\n"
        "\r\n"
        "    def test_ping(self):\r\n"
        "        self.assertFalse(asyncio.get_event_loop().is_closed())\r\n",
        note="A local loop made current in `setUp`, a base class in another file, CRLF line "
        "endings kept by the inserted lines.",
    ),
    Invalid(
        """\
import asyncio
import unittest

loop = asyncio.get_event_loop()


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    def test_compute(self):
        self.assertEqual(loop.run_until_complete(compute()), 42)


def test_plain():
    assert loop.run_until_complete(compute()) == 42
""",
        line=4,
        note="A module-level loop shared by a unittest test and a pytest test: no automatic fix.",
    ),
    Invalid(
        """\
import asyncio
import unittest


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    loop = asyncio.new_event_loop()

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)

    def test_again(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
""",
        line=10,
        fixed="""\
import asyncio
import unittest


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    def setUp(self):
        super().setUp()
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)

    def test_again(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
""",
        runnable=True,
        note="A loop in the class body, used only as `self.loop` by the tests: it becomes a "
        "per-test loop.",
    ),
    Invalid(
        """\
import asyncio
import unittest


class Client:
    def __init__(self, loop):
        self.loop = loop

    def get(self):
        return self.loop.run_until_complete(asyncio.sleep(0, result=1))


class ClientTest(unittest.TestCase):
    def test_get(self):
        loop = asyncio.new_event_loop()
        client = Client(loop)
        self.assertEqual(client.get(), 1)
""",
        line=15,
        fixed="""\
import asyncio
import unittest


class Client:
    def __init__(self, loop):
        self.loop = loop

    def get(self):
        return self.loop.run_until_complete(asyncio.sleep(0, result=1))


class ClientTest(unittest.TestCase):
    def test_get(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        client = Client(loop)
        self.assertEqual(client.get(), 1)
""",
        runnable=True,
        note="`new_event_loop()` in a test, handed to a client that stores it and never closes "
        "it: `self.addCleanup(loop.close)` is inserted.",
    ),
    Invalid(
        """\
import asyncio
import functools


def run_async(test):
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        loop = asyncio.new_event_loop()
        return loop.run_until_complete(test(*args, **kwargs))

    return wrapper
""",
        line=8,
        path="tests/support.py",
        files={
            "tests/test_orders.py": """\
import unittest

from tests.support import run_async


class OrderTest(unittest.TestCase):
    @run_async
    async def test_total(self):
        self.assertEqual(1, 1)
""",
        },
        note="A per-test decorator of a test-utilities module makes a loop for every test "
        "and never closes it.",
    ),
    Invalid(
        """\
import asyncio
import functools


def async_test(test):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.get_event_loop().run_until_complete(test(*args, **kwargs))

    return wrapper
""",
        line=6,
        path="tests/utils.py",
        note="A decorator that makes a loop when it decorates a test, makes it current and "
        "never closes it: one leaked loop per decorated test.",
    ),
    Invalid(
        """\
from asyncio import SelectorEventLoop as Loop


async def answer():
    return 42


def test_answer():
    loop = Loop()
    assert loop.run_until_complete(answer()) == 42
    loop.stop()
""",
        line=9,
        note="A loop class constructed directly, under an alias; `stop()` does not close it.",
    ),
    Invalid(
        """\
import asyncio
import unittest


class LoopCase(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)

    def tearDown(self):
        asyncio.set_event_loop(asyncio.new_event_loop())

    def test_nothing(self):
        self.assertTrue(self.loop.is_closed() is False)
""",
        line=11,
        count=2,
        note="A shared base case whose `tearDown` installs a brand-new loop that nothing "
        "closes: one leaked loop per test.",
    ),
    Invalid(
        """\
import asyncio
import functools
import unittest


class AsyncCase(unittest.TestCase):
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if name.startswith("test") and asyncio.iscoroutinefunction(value):
                setattr(cls, name, cls._wrap(value))

    @staticmethod
    def _wrap(method):
        @functools.wraps(method)
        def wrapper(self):
            return self.loop.run_until_complete(method(self))

        return wrapper

    def setUp(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def tearDown(self):
        self.loop.close()


class PingTest(AsyncCase):
    async def test_ping(self):
        self.assertTrue(asyncio.get_running_loop() is self.loop)
""",
        line=23,
        fixed="""\
import asyncio
import functools
import unittest


class AsyncCase(unittest.TestCase):
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if name.startswith("test") and asyncio.iscoroutinefunction(value):
                setattr(cls, name, cls._wrap(value))

    @staticmethod
    def _wrap(method):
        @functools.wraps(method)
        def wrapper(self):
            return self.loop.run_until_complete(method(self))

        return wrapper

    def setUp(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.addCleanup(asyncio.set_event_loop, None)

    def tearDown(self):
        self.loop.close()


class PingTest(AsyncCase):
    async def test_ping(self):
        self.assertTrue(asyncio.get_running_loop() is self.loop)
""",
        runnable=True,
        note="A base case that wraps coroutine tests in `__init_subclass__` (its own running "
        "machinery, in this file) and makes its loop current in `setUp` without resetting it.",
    ),
)

EventLoopLeaked.valid = (
    Valid(
        """\
import asyncio


def test_default_loop(loop):
    asyncio.set_event_loop(loop)
    assert asyncio.get_event_loop() is loop
""",
        note=(
            "The loop comes from a fixture (aiohttp's `loop`), whose teardown resets the current "
            "loop: only code that made the loop owes the reset."
        ),
    ),
    Valid(
        """\
import asyncio
import unittest


class ClockTest(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def tearDown(self):
        asyncio.set_event_loop(None)
        self.loop.close()

    def test_now(self):
        self.assertGreaterEqual(asyncio.get_event_loop().time(), 0)
""",
        note="A per-test loop made current in `setUp`, reset and closed in `tearDown`.",
    ),
    Valid(
        """\
import asyncio
import unittest


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.loop = asyncio.new_event_loop()

    @classmethod
    def tearDownClass(cls):
        cls.loop.close()

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
""",
        note="A class-wide loop made in `setUpClass` and closed in `tearDownClass`.",
    ),
    Valid(
        """\
import asyncio

loop = asyncio.new_event_loop()


async def serve():
    return 0


def main():
    try:
        return loop.run_until_complete(serve())
    finally:
        loop.close()


if __name__ == "__main__":
    main()
""",
        path="scripts/serve.py",
        note="A module-level loop in a script, used by no test.",
    ),
    Valid(
        """\
import asyncio

from harness import LoopTestCase


class ClockTest(LoopTestCase):
    def setUp(self):
        super().setUp()
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def test_now(self):
        self.assertGreaterEqual(self.loop.time(), 0)
""",
        files={
            "harness.py": """\
import asyncio
import unittest


class LoopTestCase(unittest.TestCase):
    def tearDown(self):
        asyncio.set_event_loop(None)
        self.loop.close()
""",
        },
        note="A base class in another file has a `tearDown` this file cannot see into: it may "
        "close and reset the loop (here it does).",
    ),
    Valid(
        """\
import asyncio
import unittest


async def answer():
    return 42


class AnswerTest(unittest.TestCase):
    def test_answer(self):
        loop = asyncio.new_event_loop()
        try:
            self.assertEqual(loop.run_until_complete(answer()), 42)
        finally:
            loop.close()
""",
        note="A loop made in a test and closed in `finally`.",
    ),
    Valid(
        """\
import asyncio
import unittest


class Client:
    def __init__(self, loop):
        self.loop = loop

    def get(self):
        return self.loop.run_until_complete(asyncio.sleep(0, result=1))

    def close(self):
        self.loop.close()


class ClientTest(unittest.TestCase):
    def test_get(self):
        client = Client(asyncio.new_event_loop())
        self.addCleanup(client.close)
        self.assertEqual(client.get(), 1)
""",
        note="The client the loop is handed to closes it.",
    ),
    Valid(
        """\
import asyncio

import pytest
from aiohttp import ClientSession


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_session():
    session = ClientSession(loop=asyncio.new_event_loop())
    assert session is not None
""",
        note="A fixture that yields the loop and closes it; a loop handed to a library object "
        "the analysis cannot see (it may close it).",
    ),
    Valid(
        """\
import asyncio
import functools


def async_test(test):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.get_event_loop().run_until_complete(test(*args, **kwargs))

    return wrapper


def close_current_loop():
    asyncio.get_event_loop().close()
    asyncio.set_event_loop(None)
""",
        path="tests/utils.py",
        note="The module that makes the loop current also fetches the current loop and "
        "closes it (its tests call `close_current_loop` in `tearDown`).",
    ),
    Valid(
        """\
import asyncio
import functools
import unittest


class AsyncCase(unittest.TestCase):
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if name.startswith("test") and asyncio.iscoroutinefunction(value):
                setattr(cls, name, functools.partialmethod(cls._drive, value))

    def _drive(self, method):
        return self.loop.run_until_complete(method(self))

    def setUp(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def tearDown(self):
        asyncio.set_event_loop(None)
        self.loop.close()
""",
        note="The same kind of harness resets the current loop in `tearDown`.",
    ),
    Valid(
        """\
import asyncio

from tests.harness import LoopCase


class PingTest(LoopCase):
    def setUp(self):
        super().setUp()
        asyncio.set_event_loop(self.loop)

    def test_ping(self):
        self.assertFalse(self.loop.is_closed())
""",
        files={
            "tests/harness.py": """\
import asyncio
import unittest


class LoopCase(unittest.TestCase):
    def run(self, result=None):
        self.loop = asyncio.new_event_loop()
        try:
            return super().run(result)
        finally:
            asyncio.set_event_loop(None)
            self.loop.close()
""",
        },
        note="The running machinery is a base class in another file (it resets the loop): "
        "this file alone cannot tell, so nothing is reported.",
    ),
)
