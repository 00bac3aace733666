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
from dataclasses import dataclass, field
from typing import Optional, Union

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from ..analysis.model import CallSite, ClassInfo, FunctionInfo
from ..analysis.names import GET_EVENT_LOOP, NEW_EVENT_LOOP, RUN, SET_EVENT_LOOP, TESTCASE
from ..model import Edit, Fix, Safety
from ..rules.base import Context
from .edits import line_diff_edits, merge_edits
from .expressions import needs_parentheses_as_operand
from .imports import reference

ISOLATED = "unittest.IsolatedAsyncioTestCase"
LIFECYCLE_RENAMES = {"setUp": "asyncSetUp", "tearDown": "asyncTearDown"}
_LOOP_FACTORIES = (GET_EVENT_LOOP, NEW_EVENT_LOOP)

Span = tuple[int, int, int, int]  # start line, start column, end line, end column (segment-relative)


@dataclass
class _Plan:
    cls: ClassInfo
    per_test_loop: bool
    #: method name -> new name, for methods that become `async def`.
    make_async: dict[str, str] = field(default_factory=dict)
    #: `asyncio.run(x)`-style calls to rewrite, with "outer parentheses needed".
    loop_calls: dict[Span, bool] = field(default_factory=dict)
    #: calls of converted helpers to await, with "outer parentheses needed".
    helper_calls: dict[Span, bool] = field(default_factory=dict)
    remove_statements: set[Span] = field(default_factory=set)
    base_span: Optional[Span] = None
    base_text: str = ""
    prepend_base: bool = False
    setup_lines: tuple[str, ...] = ()
    #: lifecycle methods removed when the plumbing removal leaves nothing else in them.
    drop_if_empty: set[str] = field(default_factory=set)
    #: `super().setUp()` calls in methods renamed to asyncSetUp/asyncTearDown:
    #: span -> (new method name, already awaited, outer parentheses needed).
    super_calls: dict[Span, tuple[str, bool, bool]] = field(default_factory=dict)


def conversion_fix(context: Context, cls: ClassInfo, *, base_only: bool = False) -> Optional[Fix]:
    """The whole-class conversion fix, or None when it cannot be done safely by a machine.

    `base_only`: switching the base is the fix even when no method of the class itself changes
    (its async tests come from a mixin); it has no per-test-loop form below 3.8.
    """
    per_test_loop = context.target < (3, 8)
    segment = _ClassSegment.of(context, cls)
    if segment is None:
        return None
    plan = _make_plan(context, cls, segment, per_test_loop, base_only=base_only)
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
    else:
        isolated = reference(context.model, ISOLATED)
        if isolated is None:
            return None
        import_edits.extend(isolated.edits)
        plan.base_text = isolated.text
    new_segment = segment.rewrite(plan)
    if new_segment is None:
        return None
    class_edits = line_diff_edits(segment.original, new_segment, segment.first_line)
    title = (
        f"Run {cls.name}'s tests on a per-test loop made in setUp"
        if per_test_loop
        else f"Convert {cls.name} to IsolatedAsyncioTestCase"
    )
    return Fix(title, Safety.UNSAFE, merge_edits([import_edits, class_edits]))


# -- planning (semantic decisions on the ast model) --------------------------------------------


def _make_plan(
    context: Context,
    cls: ClassInfo,
    segment: _ClassSegment,
    per_test_loop: bool,
    *,
    base_only: bool = False,
) -> Optional[_Plan]:
    plan = _Plan(cls, per_test_loop)
    drivers = _loop_driving_calls(context, cls)
    converted: set[str] = set()
    for method_name, calls in drivers.items():
        if calls:
            converted.add(method_name)
    if not per_test_loop:
        converted |= {name for name, method in cls.methods.items() if method.is_async and _is_test_or_lifecycle(name)}
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
    if not per_test_loop:
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
        if isinstance(decorator, ast.Name) and decorator.id in ("property", "staticmethod", "classmethod"):
            return True
    return False


def _loop_driving_calls(context: Context, cls: ClassInfo) -> dict[str, list[CallSite]]:
    """Per method of `cls`: its `asyncio.run(...)` and unmanaged `run_until_complete(...)` calls."""
    found: dict[str, list[CallSite]] = {}
    for name, method in cls.methods.items():
        calls = [call for call in method.calls if _drives_loop(context, call) and call.scope is method.scope]
        found[name] = calls
    return found


def _drives_loop(context: Context, call: CallSite) -> bool:
    func = call.node.func
    if isinstance(func, ast.Attribute) and func.attr == "run_until_complete":
        return True
    return context.model.callee_name(call) == RUN


def _await_argument_possible(call: ast.Call) -> bool:
    return len(call.args) == 1 and not isinstance(call.args[0], ast.Starred)


def _close_over_callers(cls: ClassInfo, converted: set[str]) -> Optional[set[str]]:
    """Methods that call a converted helper must become async too; give up when one cannot."""
    result = set(converted)
    changed = True
    while changed:
        changed = False
        for name, method in cls.methods.items():
            if name in result:
                continue
            if any(_calls_self_method(method, helper) for helper in result if not helper.startswith("test")):
                if name in ("setUpClass", "tearDownClass", "__init__") or name.startswith("__"):
                    return None
                result.add(name)
                changed = True
    return result


def _calls_self_method(method: FunctionInfo, helper: str) -> bool:
    receiver = _receiver(method)
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


def _receiver(method: FunctionInfo) -> Optional[str]:
    arguments = [*method.node.args.posonlyargs, *method.node.args.args]
    return arguments[0].arg if arguments else None


def _helper_calls(context: Context, cls: ClassInfo, converted: set[str]) -> list[CallSite]:
    helpers = {name for name in converted if not name.startswith("test") and name not in LIFECYCLE_RENAMES}
    calls = []
    for method in cls.methods.values():
        receiver = _receiver(method)
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


def _plumbing_uses(context: Context, method: FunctionInfo, local: str) -> Optional[list[ast.stmt]]:
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


def _plumbing_statement(context: Context, method: FunctionInfo, node: ast.Name, parent: Optional[ast.AST]) -> Optional[ast.stmt]:
    model = context.model
    call: Optional[ast.AST] = None
    if isinstance(parent, ast.Attribute) and parent.attr == "close":
        call = model.parent(parent)
    elif isinstance(parent, ast.Call) and model.qualified_name(parent.func, method.scope) == SET_EVENT_LOOP:
        call = parent
    if not isinstance(call, ast.Call):
        return None
    statement = model.parent(call)
    return statement if isinstance(statement, ast.Expr) else None


def _self_attribute_assignments(cls: ClassInfo) -> dict[str, list[tuple[FunctionInfo, ast.Assign]]]:
    """`self.x = value` statements in the methods of `cls`, by attribute."""
    found: dict[str, list[tuple[FunctionInfo, ast.Assign]]] = {}
    for method in cls.methods.values():
        receiver = _receiver(method)
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
) -> Optional[tuple[set[str], list[tuple[str, ast.stmt]]]]:
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
) -> Optional[list[tuple[str, ast.stmt]]]:
    model = context.model
    removable: list[tuple[str, ast.stmt]] = []
    for name, method in cls.methods.items():
        receiver = _receiver(method)
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
    context: Context, method: FunctionInfo, node: ast.Attribute, parent: Optional[ast.AST]
) -> Optional[ast.stmt]:
    model = context.model
    call: Optional[ast.AST] = None
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


def _plan_base(context: Context, cls: ClassInfo, segment: _ClassSegment, plan: _Plan) -> bool:
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
    def of(cls, context: Context, info: ClassInfo) -> Optional[_ClassSegment]:
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

    def rewrite(self, plan: _Plan) -> Optional[str]:
        dedented = _dedent(self.original, self.indent)
        if dedented is None:
            return None
        try:
            module = cst.parse_module(dedented)
            wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
            transformer = _ClassTransformer(plan, wrapper.resolve(PositionProvider))
            new_code = wrapper.module.visit(transformer).code
        except (cst.ParserSyntaxError, _GiveUp):
            return None
        return _indent(new_code, self.indent)


def _dedent(text: str, indent: str) -> Optional[str]:
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
    return "".join(indent + line if line.strip() else line for line in text.splitlines(keepends=True))


class _GiveUp(Exception):
    pass


class _ClassTransformer(cst.CSTTransformer):
    def __init__(self, plan: _Plan, positions: object) -> None:
        super().__init__()
        self.plan = plan
        self.positions = positions
        self.class_depth = 0
        self.function_depth = 0

    def _span(self, node: cst.CSTNode) -> Span:
        code_range = self.positions[node]  # type: ignore[index]
        return (
            code_range.start.line - 1,
            code_range.start.column,
            code_range.end.line - 1,
            code_range.end.column,
        )

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.class_depth += 1
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.class_depth -= 1
        if self.class_depth != 0:
            return updated_node
        if self.plan.drop_if_empty:
            updated_node = self._keep_first_spacing(original_node, updated_node)
        if self.plan.per_test_loop:
            return self._add_loop_setup(updated_node)
        return self._switch_base(original_node, updated_node)

    def _switch_base(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        new_base = cst.parse_expression(self.plan.base_text)
        bases = list(updated.bases)
        for index, base in enumerate(original.bases):
            if self._span(base.value) != self.plan.base_span:
                continue
            if self.plan.prepend_base:
                bases.insert(index, cst.Arg(value=new_base, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
            else:
                bases[index] = bases[index].with_changes(value=new_base)
            return updated.with_changes(bases=bases)
        raise _GiveUp

    @staticmethod
    def _keep_first_spacing(original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        """A dropped first method takes its (absent) leading blank lines with it."""
        old_body, new_body = original.body, updated.body
        if not isinstance(old_body, cst.IndentedBlock):
            return updated
        if not isinstance(new_body, cst.IndentedBlock):
            return updated
        if not old_body.body or not new_body.body:
            return updated
        old_first, new_first = old_body.body[0], new_body.body[0]
        if not isinstance(old_first, cst.FunctionDef):
            return updated
        if not isinstance(new_first, (cst.FunctionDef, cst.SimpleStatementLine)):
            return updated
        if isinstance(new_first, cst.FunctionDef) and new_first.name.value == old_first.name.value:
            return updated
        first = new_first.with_changes(leading_lines=old_first.leading_lines)
        statements = [first, *new_body.body[1:]]
        return updated.with_changes(body=new_body.with_changes(body=statements))

    def _add_loop_setup(self, updated: cst.ClassDef) -> cst.ClassDef:
        body = updated.body
        if not isinstance(body, cst.IndentedBlock):
            raise _GiveUp
        setup_statements = [cst.parse_statement(line + "\n") for line in self.plan.setup_lines]
        statements = list(body.body)
        for index, statement in enumerate(statements):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "setUp":
                inner = statement.body
                if not isinstance(inner, cst.IndentedBlock):
                    raise _GiveUp
                position = 1 if inner.body and _is_super_setup(inner.body[0]) else 0
                new_inner = [*inner.body[:position], *setup_statements, *inner.body[position:]]
                statements[index] = statement.with_changes(body=inner.with_changes(body=new_inner))
                return updated.with_changes(body=body.with_changes(body=statements))
        setup = cst.parse_statement(
            "def setUp(self):\n    super().setUp()\n"
            + "".join(f"    {line}\n" for line in self.plan.setup_lines)
        )
        first_method = next(
            (index for index, statement in enumerate(statements) if isinstance(statement, cst.FunctionDef)),
            len(statements),
        )
        if first_method > 0:
            setup = setup.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        if first_method < len(statements):
            existing = statements[first_method]
            if isinstance(existing, cst.FunctionDef) and not existing.leading_lines:
                statements[first_method] = existing.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        statements.insert(first_method, setup)
        return updated.with_changes(body=body.with_changes(body=statements))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.function_depth += 1
        return True

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> Union[cst.FunctionDef, cst.RemovalSentinel]:
        self.function_depth -= 1
        if self.class_depth != 1 or self.function_depth != 0:
            return updated_node
        dropped = original_node.name.value in self.plan.drop_if_empty
        if dropped and _only_pass_or_super(updated_node):
            return cst.RemoveFromParent()
        new_name = self.plan.make_async.get(original_node.name.value)
        if new_name is None:
            return updated_node
        return updated_node.with_changes(
            name=updated_node.name.with_changes(value=new_name),
            asynchronous=updated_node.asynchronous or cst.Asynchronous(),
        )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        span = self._span(original_node)
        if span in self.plan.super_calls:
            new_name, awaited, outer_parentheses = self.plan.super_calls[span]
            func = updated_node.func
            if not isinstance(func, cst.Attribute):
                raise _GiveUp
            renamed = updated_node.with_changes(func=func.with_changes(attr=cst.Name(new_name)))
            return renamed if awaited else _awaited(renamed, outer_parentheses, argument=False)
        if span in self.plan.loop_calls:
            if self.plan.per_test_loop:
                return _on_self_loop(updated_node)
            return _awaited(_argument(updated_node), self.plan.loop_calls[span])
        if span in self.plan.helper_calls:
            return _awaited(updated_node, self.plan.helper_calls[span], argument=False)
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> Union[cst.SimpleStatementLine, cst.RemovalSentinel]:
        if len(original_node.body) == 1 and self._span(original_node.body[0]) in self.plan.remove_statements:
            return cst.RemoveFromParent()
        return updated_node

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated_node


_SUPER_SETUP = m.SimpleStatementLine(
    body=[m.Expr(value=m.Call(func=m.Attribute(value=m.Call(func=m.Name("super")), attr=m.Name("setUp"))))]
)


def _only_pass_or_super(function: cst.FunctionDef) -> bool:
    """The body is `pass` and/or `super().<same name>()` only: nothing left worth keeping."""
    body = function.body
    if not isinstance(body, cst.IndentedBlock):
        return False
    for statement in body.body:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return False
        small = statement.body[0]
        if isinstance(small, cst.Pass):
            continue
        if (
            isinstance(small, cst.Expr)
            and isinstance(small.value, cst.Call)
            and not small.value.args
            and isinstance(small.value.func, cst.Attribute)
            and small.value.func.attr.value == function.name.value
            and isinstance(small.value.func.value, cst.Call)
            and isinstance(small.value.func.value.func, cst.Name)
            and small.value.func.value.func.value == "super"
        ):
            continue
        return False
    return True


def _is_super_setup(statement: cst.BaseStatement) -> bool:
    return m.matches(statement, _SUPER_SETUP)


def _argument(call: cst.Call) -> cst.BaseExpression:
    if len(call.args) < 1:
        raise _GiveUp
    return call.args[0].value


_ATOMS = (cst.Call, cst.Name, cst.Attribute, cst.Subscript, cst.Await, cst.List, cst.Tuple, cst.Dict, cst.Set)


def _awaited(expression: cst.BaseExpression, outer_parentheses: bool, argument: bool = True) -> cst.BaseExpression:
    if argument and not isinstance(expression, _ATOMS) and not expression.lpar:
        expression = expression.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    awaited = cst.Await(expression=expression)
    if outer_parentheses:
        awaited = awaited.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return awaited


def _on_self_loop(call: cst.Call) -> cst.Call:
    if isinstance(call.func, cst.Attribute) and call.func.attr.value == "run_until_complete":
        func = call.func.with_changes(value=cst.parse_expression("self.loop"))
        return call.with_changes(func=func)
    if not call.args:
        raise _GiveUp
    return call.with_changes(
        func=cst.parse_expression("self.loop.run_until_complete"), args=[call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    )
