"""ATL204's fix: an `async def setUpClass`/`tearDownClass` that unittest never awaits.

Two shapes run correctly, and the plan picks one per class:

- **once per class, on a loop of its own** (`asyncio.run`): the coroutine becomes a class method
  `asyncSetUpClass` (`asyncTearDownClass`) and a sync `setUpClass` runs it with `asyncio.run(...)`.
  Right when what the hook builds does not hold on to the loop (data, a token, files): that loop is
  closed before the first test. Always the shape on a plain `TestCase`, whose sync tests cannot use
  loop-bound objects anyway.
- **per test, on the test's loop** (`IsolatedAsyncioTestCase` only): the hook becomes
  `asyncSetUp` (`asyncTearDown`): `@classmethod` goes, its `cls` parameter becomes `self`, and
  `super().setUpClass()` becomes `await super().asyncSetUp()`. Chosen when the setup's state is
  loop-bound: it makes an asyncio primitive or a project object holding one, awaits something
  for its side effects only (a started server), or a test awaits, `async with`s or `async for`s
  over an attribute the setup stores. A per-class guard would not help there: the object would
  still belong to the first test's loop.

No fix when the class already has the target method, the hook carries other decorators, the body
uses `self`, another class-level method reads what the setup stores, or a sync `tearDownClass`
reads attributes that move to the per-test setup. Module-level hooks get no fix (see fix_notes).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..analysis.model import ClassInfo, FunctionInfo
from ..analysis.names import LOOP_BOUND_FACTORIES
from ..analysis.semantics import ClassKind
from ..analysis.summarize import attribute_chain
from ..context import Context
from ..fixes.edits import merge_edits
from ..fixes.imports import module_reference
from ..model import Edit, Fix, Position, Safety, TextRange
from ..source import newline_of
from ._lifecycle import rename_edit, super_calls

PER_TEST = {"setUpClass": "asyncSetUp", "tearDownClass": "asyncTearDown"}
RUN_HELPER = {"setUpClass": "asyncSetUpClass", "tearDownClass": "asyncTearDownClass"}


@dataclass(frozen=True)
class Plan:
    cls: ClassInfo
    #: the async class hooks to repair, in source order.
    hooks: tuple[FunctionInfo, ...]
    per_test: bool

    @property
    def title(self) -> str:
        names = [hook.name for hook in self.hooks]
        if self.per_test:
            targets = [PER_TEST[name] for name in names]
            return (
                f"Move {' and '.join(names)} of {self.cls.name} to {' and '.join(targets)} "
                "(run for every test, on its loop)"
            )
        return (
            f"Run {' and '.join(names)} of {self.cls.name} once per class with asyncio.run "
            f"(coroutine kept as {' and '.join(RUN_HELPER[name] for name in names)})"
        )


def plan(context: Context, cls: ClassInfo, hooks: list[FunctionInfo]) -> Plan | None:
    """What the fix does for the async class hooks of `cls`, or None when no shape is safe."""
    if not hooks:
        return None
    setup = next((hook for hook in hooks if hook.name == "setUpClass"), None)
    per_test = (
        context.semantics.kind(cls) is ClassKind.ISOLATED
        and setup is not None
        and _holds_loop_state(context, cls, setup)
    )
    for hook in hooks:
        if not _only_classmethod(context, hook) or _parameter(hook) is None:
            return None
        target = PER_TEST[hook.name] if per_test else RUN_HELPER[hook.name]
        if target in cls.methods:
            return None  # merging into an existing method is for a human
    if per_test and not _movable_per_test(context, cls, hooks):
        return None
    return Plan(cls, tuple(sorted(hooks, key=lambda hook: hook.node.lineno)), per_test)


def build(context: Context, fix_plan: Plan) -> Fix | None:
    groups: list[list[Edit]] = []
    for hook in fix_plan.hooks:
        edits = (
            _per_test_edits(context, hook) if fix_plan.per_test else _run_once_edits(context, hook)
        )
        if edits is None:
            return None
        groups.append(edits)
    return Fix(fix_plan.title, Safety.UNSAFE, merge_edits(groups))


# -- choosing the shape --------------------------------------------------------------------------


def _parameter(hook: FunctionInfo) -> str | None:
    arguments = hook.node.args
    if arguments.posonlyargs or len(arguments.args) != 1 or arguments.vararg or arguments.kwarg:
        return None
    return arguments.args[0].arg


def _only_classmethod(context: Context, hook: FunctionInfo) -> bool:
    decorators = hook.node.decorator_list
    return len(decorators) == 1 and (
        context.model.qualified_name(decorators[0], hook.parent_scope) == "builtins.classmethod"
    )


def _stored_attributes(hook: FunctionInfo) -> set[str]:
    parameter = _parameter(hook)
    found: set[str] = set()
    for node in ast.walk(hook.node):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            chain = attribute_chain(target, parameter) if parameter else None
            if chain is not None:
                found.add(chain.split(".")[0])
    return found


def _holds_loop_state(context: Context, cls: ClassInfo, setup: FunctionInfo) -> bool:
    """Whether what `setUpClass` builds may belong to the loop that runs it."""
    for node in ast.walk(setup.node):
        if isinstance(node, ast.Call) and _makes_loop_bound(context, node, setup):
            return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Await):
            return True  # awaited for its side effects: a server, a pool, a subscription...
    stored = _stored_attributes(setup)
    for method in cls.methods.values():
        if method is setup:
            continue
        receiver = method.receiver
        for node in ast.walk(method.node):
            if isinstance(node, ast.Await):
                looked_at: list[ast.expr] = [node.value]
            elif isinstance(node, ast.AsyncWith):
                looked_at = [item.context_expr for item in node.items]
            elif isinstance(node, ast.AsyncFor):
                looked_at = [node.iter]
            else:
                continue
            for expr in looked_at:
                for inner in ast.walk(expr):
                    chain = attribute_chain(inner, receiver) if receiver else None  # type: ignore[arg-type]
                    if chain is not None and chain.split(".")[0] in stored:
                        return True
    return False


def _makes_loop_bound(context: Context, call: ast.Call, hook: FunctionInfo) -> bool:
    name = context.model.qualified_name(call.func, hook.scope)
    if name is None:
        return False
    if name in LOOP_BOUND_FACTORIES:
        return True
    summary = context.semantics.find_class(name)
    return summary is not None and bool(summary.loop_bound_attributes)


def _movable_per_test(context: Context, cls: ClassInfo, hooks: list[FunctionInfo]) -> bool:
    stored: set[str] = set()
    for hook in hooks:
        if _mentions_name(hook, "self"):
            return False
        if hook.name == "setUpClass":
            stored = _stored_attributes(hook)
    for name, method in cls.methods.items():
        if method in hooks:
            continue
        is_instance = method.receiver is not None and not _class_level(context, method)
        for node in ast.walk(method.node):
            if not (isinstance(node, ast.Attribute) and node.attr in stored):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and (
                owner.id == cls.name or (not is_instance and owner.id == method.receiver)
            ):
                return False  # read at class level: it stays per class
        if name == "tearDownClass" and stored & _attributes_read(method):
            return False
    return True


def _class_level(context: Context, method: FunctionInfo) -> bool:
    return any(
        context.model.qualified_name(decorator, method.parent_scope)
        in ("builtins.classmethod", "builtins.staticmethod")
        for decorator in method.node.decorator_list
    )


def _attributes_read(method: FunctionInfo) -> set[str]:
    receiver = method.receiver
    return {
        node.attr
        for node in ast.walk(method.node)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == receiver
    }


def _mentions_name(hook: FunctionInfo, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(hook.node))


# -- the edits -----------------------------------------------------------------------------------


def _run_once_edits(context: Context, hook: FunctionInfo) -> list[Edit] | None:
    """A sync hook that runs the coroutine, now named `asyncSetUpClass`, with `asyncio.run`."""
    asyncio_module = module_reference(context.model, "asyncio")
    rename = rename_edit(context, hook, RUN_HELPER[hook.name])
    parameter = _parameter(hook)
    if asyncio_module is None or rename is None or parameter is None:
        return None
    decorator = hook.node.decorator_list[0]
    start = context.parsed.position(decorator.lineno, decorator.col_offset - 1)
    line_text = context.parsed.lines.line_text(start.line)
    indent = line_text[: start.column]
    if indent.strip() or not line_text[start.column :].startswith("@"):
        return None
    newline = newline_of(context.text)
    sync_hook = (
        f"@classmethod{newline}"
        f"{indent}def {hook.name}({parameter}):{newline}"
        f"{indent}    {asyncio_module.text}.run({parameter}.{RUN_HELPER[hook.name]}()){newline}"
        f"{newline}"
        f"{indent}"
    )
    return [*asyncio_module.edits, Edit(TextRange(start, start), sync_hook), rename]


def _per_test_edits(context: Context, hook: FunctionInfo) -> list[Edit] | None:
    """`@classmethod async def setUpClass(cls)` -> `async def asyncSetUp(self)`."""
    parameter = _parameter(hook)
    rename = rename_edit(context, hook, PER_TEST[hook.name])
    decorator_line = _decorator_line(context, hook)
    if parameter is None or rename is None or decorator_line is None:
        return None
    edits = [decorator_line, rename]
    supers = {id(call.node) for call in super_calls(context.model, hook, hook.name)}
    for node in ast.walk(hook.node):
        nested = (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        if isinstance(node, nested) and node is not hook.node and _binds(node, parameter):
            return None
        if isinstance(node, ast.Call) and id(node) in supers:
            statement = context.model.parent(node)
            if not isinstance(statement, ast.Expr):
                return None  # awaited, assigned...: not the plain chaining call
            edits.append(
                Edit(context.parsed.node_range(node), f"await super().{PER_TEST[hook.name]}()")
            )
    replaced = _inside_supers(context, hook, supers)
    for node in ast.walk(hook.node):
        if isinstance(node, ast.Name) and node.id == parameter and id(node) not in replaced:
            edits.append(Edit(context.parsed.node_range(node), "self"))
    argument = hook.node.args.args[0]
    edits.append(Edit(context.parsed.node_range(argument), "self"))
    return edits


def _binds(node: ast.AST, name: str) -> bool:
    arguments = getattr(node, "args", None)
    if isinstance(arguments, ast.arguments):
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        if any(argument.arg == name for argument in every):
            return True
    return any(
        isinstance(inner, ast.Name) and inner.id == name and isinstance(inner.ctx, ast.Store)
        for inner in ast.walk(node)
    )


def _inside_supers(context: Context, hook: FunctionInfo, supers: set[int]) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(hook.node):
        if isinstance(node, ast.Call) and id(node) in supers:
            inside.update(id(inner) for inner in ast.walk(node))
    return inside


def _decorator_line(context: Context, hook: FunctionInfo) -> Edit | None:
    """Removes the `@classmethod` line (it must stand alone on its line)."""
    decorator = hook.node.decorator_list[0]
    at = context.parsed.position(decorator.lineno, decorator.col_offset - 1)
    lines = context.parsed.lines
    text = lines.line_text(at.line)
    if text.strip() != "@classmethod":
        return None
    return Edit(TextRange(Position(at.line, 0), Position(at.line + 1, 0)), "")
