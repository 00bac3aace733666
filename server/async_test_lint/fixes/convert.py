"""One fix for a whole test class: move it off hand-driven loops.

From Python 3.8 on, the class becomes an `IsolatedAsyncioTestCase`: the base is switched, each test
and helper that drives a loop becomes `async def`, `asyncio.run(x)` and `loop.run_until_complete(x)`
become `await x`, calls of converted helpers are awaited, `async def setUp`/`tearDown` become
`asyncSetUp`/`asyncTearDown`, and the loop plumbing those tests no longer need is removed.
Below 3.8 the class keeps its base and gets the dedicated per-test loop instead (`setUp` makes it,
`addCleanup` closes it) and every loop-driving call runs on `self.loop`.

The semantic decisions are taken on the `ast` model; libcst rewrites the class's own text, so
formatting and comments inside the class survive, and a line diff turns the result into edits.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..analysis.model import CallSite, ClassInfo, FunctionInfo
from ..analysis.names import GET_EVENT_LOOP, NEW_EVENT_LOOP, RUN, SET_EVENT_LOOP, TESTCASE
from ..context import Context
from ..model import Edit, Fix, LazyFix, Safety
from .edits import line_diff_edits, merge_edits
from .expressions import needs_parentheses_as_operand
from .imports import reference
from .plan import ConversionPlan, Span

ISOLATED = "unittest.IsolatedAsyncioTestCase"
LIFECYCLE_RENAMES = {"setUp": "asyncSetUp", "tearDown": "asyncTearDown"}
_LOOP_FACTORIES = (GET_EVENT_LOOP, NEW_EVENT_LOOP)


def conversion_fix(context: Context, cls: ClassInfo, *, base_only: bool = False) -> Fix | None:
    """The whole-class conversion fix, or None when it cannot be done safely by a machine.

    `base_only`: switching the base is the fix even when no method of the class itself changes
    (its async tests come from a mixin); it has no per-test-loop form below 3.8.
    """
    prepared = _prepare(context, cls, base_only=base_only)
    if prepared is None:
        return None
    segment, plan, import_edits = prepared
    new_segment = segment.rewrite(plan)
    if new_segment is None:
        return None
    class_edits = line_diff_edits(segment.original, new_segment, segment.first_line)
    return Fix(conversion_title(plan), Safety.UNSAFE, merge_edits([import_edits, class_edits]))


def conversion_lazy_fix(
    context: Context, cls: ClassInfo, *, base_only: bool = False
) -> LazyFix | None:
    """The conversion as a lazy fix whose title says what will change, or None when the
    conversion cannot be planned. Planning reads the `ast` model only (cheap, done now, so the
    editor's quick-fix list shows the real title); the libcst rewrite waits for a front end."""
    key = f"convert:title:{id(cls.node)}:{base_only}"
    cache = context.model.cache
    if key not in cache:  # several diagnostics on one class plan it once
        prepared = _prepare(context, cls, base_only=base_only)
        cache[key] = None if prepared is None else conversion_title(prepared[1])
    title: str | None = cache[key]
    if title is None:
        return None
    return context.lazy_fix(
        title,
        Safety.UNSAFE,
        lambda: conversion_fix(context, cls, base_only=base_only),
    )


def own_loop_lazy_fix(context: Context, cls: ClassInfo) -> LazyFix | None:
    """For an `IsolatedAsyncioTestCase` that also makes and drives a loop of its own: the methods
    that drive it become `async def` (`setUp`/`tearDown` become `asyncSetUp`/`asyncTearDown`),
    `self.loop.run_until_complete(x)` becomes `await x`, calls of converted helpers are awaited,
    and the loop's creation, `set_event_loop` and `close` go: everything then runs on the loop the
    runner gives each test. None when the loop has other uses (`call_soon`, passed along...)."""
    prepared = _prepare(context, cls, base_only=False, keep_base=True)
    if prepared is None:
        return None
    return context.lazy_fix(
        conversion_title(prepared[1]), Safety.UNSAFE, lambda: _own_loop_fix(context, cls)
    )


def _own_loop_fix(context: Context, cls: ClassInfo) -> Fix | None:
    prepared = _prepare(context, cls, base_only=False, keep_base=True)
    if prepared is None:
        return None
    segment, plan, _ = prepared
    new_segment = segment.rewrite(plan)
    if new_segment is None:
        return None
    edits = line_diff_edits(segment.original, new_segment, segment.first_line)
    return Fix(conversion_title(plan), Safety.UNSAFE, tuple(edits))


def conversion_title(plan: ConversionPlan) -> str:
    """What the conversion changes, counted: "Convert OrderTest to IsolatedAsyncioTestCase,
    make 2 methods async and await 3 calls"."""
    name = plan.cls.name
    awaited = len(plan.loop_calls) + len(plan.helper_calls) + len(plan.super_calls)
    if plan.per_test_loop:
        calls = _count(len(plan.loop_calls), "call", "calls")
        return f"Run {name}'s tests on a per-test loop made in setUp ({calls} on self.loop)"
    made_async = [method for method in plan.make_async if not plan.cls.methods[method].is_async]
    renames = sorted((old, new) for old, new in plan.make_async.items() if old != new)
    changes = []
    if made_async:
        changes.append(f"make {_count(len(made_async), 'method', 'methods')} async")
    if renames:
        olds = "/".join(old for old, _ in renames)
        news = "/".join(new for _, new in renames)
        changes.append(f"rename {olds} to {news}")
    if awaited:
        changes.append(f"await {_count(awaited, 'call', 'calls')}")
    if plan.remove_statements:
        changes.append("drop the hand-made loop")
    title = f"Convert {name} to IsolatedAsyncioTestCase"
    if plan.keep_base:
        changes = [change for change in changes if change != "drop the hand-made loop"]
        title = f"Drop {name}'s own event loop"
    if not changes:
        return title
    if len(changes) == 1:
        return f"{title} and {changes[0]}"
    return f"{title}, {', '.join(changes[:-1])} and {changes[-1]}"


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def _prepare(
    context: Context, cls: ClassInfo, *, base_only: bool, keep_base: bool = False
) -> tuple[_ClassSegment, ConversionPlan, list[Edit]] | None:
    per_test_loop = context.target < (3, 8) and not keep_base
    segment = _ClassSegment.of(context, cls)
    if segment is None:
        return None
    plan = _make_plan(
        context, cls, segment, per_test_loop, base_only=base_only, keep_base=keep_base
    )
    if plan is None:
        return None
    import_edits: list[Edit] = []
    if per_test_loop:
        factory = reference(context.model, NEW_EVENT_LOOP)
        if factory is None:
            return None
        import_edits.extend(factory.edits)
        plan.setup_lines = (
            f"self.loop = {factory.text}()",
            "self.addCleanup(self.loop.close)",
        )
    elif not keep_base:
        isolated = reference(context.model, ISOLATED)
        if isolated is None:
            return None
        import_edits.extend(isolated.edits)
        plan.base_text = isolated.text
    return segment, plan, import_edits


# -- planning (semantic decisions on the ast model) --------------------------------------------


def _make_plan(
    context: Context,
    cls: ClassInfo,
    segment: _ClassSegment,
    per_test_loop: bool,
    *,
    base_only: bool = False,
    keep_base: bool = False,
) -> ConversionPlan | None:
    plan = ConversionPlan(cls, per_test_loop, keep_base)
    drivers = _loop_driving_calls(context, cls)
    converted: set[str] = set()
    for method_name, calls in drivers.items():
        if calls:
            converted.add(method_name)
    if not per_test_loop:
        converted |= {
            name
            for name, method in cls.methods.items()
            if method.is_async and _is_test_or_lifecycle(name)
        }
        closed = _close_over_callers(cls, converted)
        if closed is None:
            return None
        converted = closed
    if not converted and (per_test_loop or not base_only):
        return None
    for name in converted:
        method = cls.methods[name]
        if name in ("setUpClass", "tearDownClass", "__init__") or _is_property_or_static(method):
            return None
        if per_test_loop:
            if method.is_async:
                return None
            continue
        new_name = LIFECYCLE_RENAMES.get(name, name)
        if new_name != name and new_name in cls.methods:
            return None  # `async def setUp` next to an `asyncSetUp`: merging them is for a human
        plan.make_async[name] = new_name
        if new_name != name:
            for call in _super_lifecycle_calls(context, method, name):
                plan.super_calls[segment.span(context, call.node)] = (
                    new_name,
                    call.awaited,
                    needs_parentheses_as_operand(context.model, call.node),
                )
    for name, calls in drivers.items():
        if name not in converted:
            continue
        for call in calls:
            if per_test_loop or _await_argument_possible(call.node):
                plan.loop_calls[segment.span(context, call.node)] = needs_parentheses_as_operand(
                    context.model, call.node
                )
            else:
                return None
    plan.remove_statements = {
        segment.span(context, statement) for statement in _loop_plumbing(context, cls, converted)
    }
    attribute_plumbing = _attribute_loop_plumbing(context, cls, set(converted))
    if attribute_plumbing is None:
        return None
    removed_attributes, attribute_statements = attribute_plumbing
    for method_name, statement in attribute_statements:
        plan.remove_statements.add(segment.span(context, statement))
        if method_name in ("setUp", "tearDown") and method_name not in converted:
            plan.drop_if_empty.add(method_name)
    clobbered = "loop" not in removed_attributes and "loop" in _self_attribute_assignments(cls)
    if per_test_loop and clobbered:
        return None  # `self.loop` holds something else: the per-test loop would clobber it
    if keep_base and not (removed_attributes or plan.remove_statements):
        return None  # the class's own loop has other uses: it cannot simply go
    if keep_base:
        for call in _helper_calls(context, cls, set(plan.make_async)):
            plan.helper_calls[segment.span(context, call.node)] = needs_parentheses_as_operand(
                context.model, call.node
            )
    elif not per_test_loop:
        for call in _helper_calls(context, cls, set(plan.make_async)):
            plan.helper_calls[segment.span(context, call.node)] = needs_parentheses_as_operand(
                context.model, call.node
            )
        if not _plan_base(context, cls, segment, plan):
            return None
    return plan


def _super_lifecycle_calls(context: Context, method: FunctionInfo, name: str) -> list[CallSite]:
    """`super().<name>(...)` / `super(Cls, self).<name>(...)` directly in `method`."""
    found = []
    for call in method.calls:
        func = call.node.func
        if call.scope is not method.scope or not isinstance(func, ast.Attribute):
            continue
        if func.attr != name:
            continue
        inner = func.value
        if (
            isinstance(inner, ast.Call)
            and context.model.qualified_name(inner.func, call.scope) == "builtins.super"
        ):
            found.append(call)
    return found


def _is_test_or_lifecycle(name: str) -> bool:
    return name.startswith("test") or name in LIFECYCLE_RENAMES


def _is_property_or_static(method: FunctionInfo) -> bool:
    for decorator in method.node.decorator_list:
        if isinstance(decorator, ast.Name) and decorator.id in (
            "property",
            "staticmethod",
            "classmethod",
        ):
            return True
    return False


def _loop_driving_calls(context: Context, cls: ClassInfo) -> dict[str, list[CallSite]]:
    """Per method of `cls`: its `asyncio.run(...)` and unmanaged `run_until_complete(...)` calls."""
    found: dict[str, list[CallSite]] = {}
    for name, method in cls.methods.items():
        calls = [
            call
            for call in method.calls
            if _drives_loop(context, call) and call.scope is method.scope
        ]
        found[name] = calls
    return found


def _drives_loop(context: Context, call: CallSite) -> bool:
    func = call.node.func
    if isinstance(func, ast.Attribute) and func.attr == "run_until_complete":
        return True
    return context.model.callee_name(call) == RUN


def _await_argument_possible(call: ast.Call) -> bool:
    return len(call.args) == 1 and not isinstance(call.args[0], ast.Starred)


def _close_over_callers(cls: ClassInfo, converted: set[str]) -> set[str] | None:
    """Methods that call a converted helper must become async too; give up when one cannot."""
    result = set(converted)
    changed = True
    while changed:
        changed = False
        for name, method in cls.methods.items():
            if name in result:
                continue
            if any(
                _calls_self_method(method, helper)
                for helper in result
                if not helper.startswith("test")
            ):
                if name in ("setUpClass", "tearDownClass", "__init__") or name.startswith("__"):
                    return None
                result.add(name)
                changed = True
    return result


def _calls_self_method(method: FunctionInfo, helper: str) -> bool:
    receiver = method.receiver
    if receiver is None:
        return False
    for call in method.calls:
        func = call.node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == helper
            and isinstance(func.value, ast.Name)
            and func.value.id == receiver
        ):
            return True
    return False


def _helper_calls(context: Context, cls: ClassInfo, converted: set[str]) -> list[CallSite]:
    helpers = {
        name for name in converted if not name.startswith("test") and name not in LIFECYCLE_RENAMES
    }
    calls = []
    for method in cls.methods.values():
        receiver = method.receiver
        for call in method.calls:
            func = call.node.func
            if (
                not call.awaited
                and isinstance(func, ast.Attribute)
                and func.attr in helpers
                and isinstance(func.value, ast.Name)
                and func.value.id == receiver
            ):
                calls.append(call)
    return calls


def _loop_plumbing(context: Context, cls: ClassInfo, converted: set[str]) -> list[ast.stmt]:
    """`loop = asyncio.new_event_loop()`, `set_event_loop(loop)`, `loop.close()` of a local loop
    that only ran coroutines, in converted methods: the isolated runner owns the loop now."""
    statements: list[ast.stmt] = []
    model = context.model
    for name in converted:
        method = cls.methods[name]
        for local, bindings in method.scope.bindings.items():
            if len(bindings) != 1 or bindings[0].kind != "assign":
                continue
            value = bindings[0].node
            if not isinstance(value, ast.Call) or not (
                model.qualified_name(value.func, method.scope) in _LOOP_FACTORIES
                or _is_loop_factory_call(context, value, method)
            ):
                continue
            uses = _plumbing_uses(context, method, local)
            if uses is not None:
                statements.extend(uses)
                assignment = model.parent(value)
                if isinstance(assignment, ast.Assign):
                    statements.append(assignment)
    return statements


def _plumbing_uses(context: Context, method: FunctionInfo, local: str) -> list[ast.stmt] | None:
    """Statements using `local` only to close it or make it current; None if it has other uses."""
    model = context.model
    removable: list[ast.stmt] = []
    for node in ast.walk(method.node):
        if not (isinstance(node, ast.Name) and node.id == local and isinstance(node.ctx, ast.Load)):
            continue
        parent = model.parent(node)
        if isinstance(parent, ast.Attribute) and parent.attr == "run_until_complete":
            continue
        statement = _plumbing_statement(context, method, node, parent)
        if statement is None:
            return None
        removable.append(statement)
    return removable


def _plumbing_statement(
    context: Context, method: FunctionInfo, node: ast.Name, parent: ast.AST | None
) -> ast.stmt | None:
    model = context.model
    call: ast.AST | None = None
    if isinstance(parent, ast.Attribute) and parent.attr == "close":
        call = model.parent(parent)
    elif (
        isinstance(parent, ast.Call)
        and model.qualified_name(parent.func, method.scope) == SET_EVENT_LOOP
    ):
        call = parent
    if not isinstance(call, ast.Call):
        return None
    statement = model.parent(call)
    return statement if isinstance(statement, ast.Expr) else None


def _self_attribute_assignments(cls: ClassInfo) -> dict[str, list[tuple[FunctionInfo, ast.Assign]]]:
    """`self.x = value` statements in the methods of `cls`, by attribute."""
    found: dict[str, list[tuple[FunctionInfo, ast.Assign]]] = {}
    for method in cls.methods.values():
        receiver = method.receiver
        if receiver is None:
            continue
        for node in ast.walk(method.node):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == receiver
                    ):
                        found.setdefault(target.attr, []).append((method, node))
    return found


def _is_loop_factory_call(context: Context, value: ast.expr, method: FunctionInfo) -> bool:
    if not isinstance(value, ast.Call) or value.args or value.keywords:
        return False
    model = context.model
    if model.qualified_name(value.func, method.scope) in _LOOP_FACTORIES:
        return True
    func = value.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in ("get_event_loop", "new_event_loop")
        and isinstance(func.value, ast.Call)
        and model.qualified_name(func.value.func, method.scope) == "asyncio.get_event_loop_policy"
    )


def _attribute_loop_plumbing(
    context: Context, cls: ClassInfo, converted: set[str]
) -> tuple[set[str], list[tuple[str, ast.stmt]]] | None:
    """`self.loop = asyncio.get_event_loop()` (or `new_event_loop()`) and its `close()`,
    `addCleanup(self.loop.close)` and `set_event_loop(self.loop)` statements, for a loop attribute
    used otherwise only by the loop-driving calls this fix rewrites. Returns the attributes
    removed and (method name, statement) pairs; None when the plan must give up."""
    removed: set[str] = set()
    statements: list[tuple[str, ast.stmt]] = []
    for attribute, assignments in _self_attribute_assignments(cls).items():
        if not all(
            len(assign.targets) == 1 and _is_loop_factory_call(context, assign.value, method)
            for method, assign in assignments
        ):
            continue
        uses = _attribute_plumbing_uses(context, cls, attribute, converted)
        if uses is None:
            continue
        removed.add(attribute)
        statements.extend(uses)
        statements.extend((method.name, assign) for method, assign in assignments)
    return removed, statements


def _attribute_plumbing_uses(
    context: Context, cls: ClassInfo, attribute: str, converted: set[str]
) -> list[tuple[str, ast.stmt]] | None:
    model = context.model
    removable: list[tuple[str, ast.stmt]] = []
    for name, method in cls.methods.items():
        receiver = method.receiver
        for node in ast.walk(method.node):
            if not (
                isinstance(node, ast.Attribute)
                and node.attr == attribute
                and isinstance(node.ctx, ast.Load)
                and isinstance(node.value, ast.Name)
                and node.value.id == receiver
            ):
                continue
            parent = model.parent(node)
            if isinstance(parent, ast.Attribute) and parent.attr == "run_until_complete":
                call = model.parent(parent)
                rewritten = name in converted and any(
                    site.node is call and site.scope is method.scope for site in method.calls
                )
                if rewritten:
                    continue
                return None
            statement = _attribute_plumbing_statement(context, method, node, parent)
            if statement is None:
                return None
            removable.append((name, statement))
    return removable


def _is_set_event_loop(context: Context, call: ast.Call, method: FunctionInfo) -> bool:
    return context.model.qualified_name(call.func, method.scope) == SET_EVENT_LOOP


def _attribute_plumbing_statement(
    context: Context, method: FunctionInfo, node: ast.Attribute, parent: ast.AST | None
) -> ast.stmt | None:
    model = context.model
    call: ast.AST | None = None
    if isinstance(parent, ast.Attribute) and parent.attr == "close":
        grandparent = model.parent(parent)
        if isinstance(grandparent, ast.Call) and grandparent.func is parent:
            call = grandparent  # self.loop.close()
        elif (
            isinstance(grandparent, ast.Call)
            and isinstance(grandparent.func, ast.Attribute)
            and grandparent.func.attr == "addCleanup"
            and len(grandparent.args) == 1
            and grandparent.args[0] is parent
        ):
            call = grandparent  # self.addCleanup(self.loop.close)
    elif isinstance(parent, ast.Call) and _is_set_event_loop(context, parent, method):
        call = parent
    if not isinstance(call, ast.Call):
        return None
    statement = model.parent(call)
    return statement if isinstance(statement, ast.Expr) else None


def _plan_base(
    context: Context, cls: ClassInfo, segment: _ClassSegment, plan: ConversionPlan
) -> bool:
    """Replace a literal `TestCase` base; otherwise put IsolatedAsyncioTestCase first."""
    for base in cls.node.bases:
        if context.model.qualified_name(base, cls.parent_scope) == TESTCASE:
            plan.base_span = segment.span(context, base)
            return True
    if not cls.node.bases:
        return False
    plan.base_span = segment.span(context, cls.node.bases[0])
    plan.prepend_base = True
    return True


# -- rewriting (libcst on the class's own text) --------------------------------------------------


@dataclass
class _ClassSegment:
    first_line: int
    indent: str
    original: str

    @classmethod
    def of(cls, context: Context, info: ClassInfo) -> _ClassSegment | None:
        node = info.node
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)]) - 1
        last = (node.end_lineno or node.lineno) - 1
        lines = context.parsed.lines
        start = lines.line_start(first)
        end = lines.line_start(last + 1) if last + 1 < lines.line_count else len(lines.text)
        original = lines.text[start:end]
        first_text = lines.line_text(first)
        indent = first_text[: len(first_text) - len(first_text.lstrip(" \t"))]
        if not original.endswith(("\n", "\r")):
            return None  # the class ends the file without a newline: keep it simple, no fix
        return cls(first, indent, original)

    def span(self, context: Context, node: ast.AST) -> Span:
        text_range = context.parsed.node_range(node)
        width = len(self.indent)
        return (
            text_range.start.line - self.first_line,
            text_range.start.column - width,
            text_range.end.line - self.first_line,
            text_range.end.column - width,
        )

    def rewrite(self, plan: ConversionPlan) -> str | None:
        dedented = _dedent(self.original, self.indent)
        if dedented is None:
            return None
        from .convert_cst import rewrite_class  # libcst costs ~0.6 s to import: only for fixes

        new_code = rewrite_class(dedented, plan)
        return None if new_code is None else _indent(new_code, self.indent)


def _dedent(text: str, indent: str) -> str | None:
    if not indent:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith(indent):
            out.append(line[len(indent) :])
        elif line.strip() == "":
            out.append(line.lstrip(" \t"))
        else:
            return None
    return "".join(out)


def _indent(text: str, indent: str) -> str:
    if not indent:
        return text
    return "".join(
        indent + line if line.strip() else line for line in text.splitlines(keepends=True)
    )
