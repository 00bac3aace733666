"""ATL207: a loop-bound asyncio resource shared by several tests of an `IsolatedAsyncioTestCase`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from ..analysis.model import ClassInfo, FunctionInfo, SemanticModel
from ..analysis.names import ISOLATED_TESTCASE, LOOP_BOUND_FACTORIES
from ..analysis.semantics import ClassKind
from ..analysis.summarize import attribute_chain
from ..context import Context
from ..fixes.edits import line_diff_edits
from ..model import Diagnostic, Fix, Safety
from .base import Invalid, Rule, Valid

#: Hooks that run around every test: a resource they use is used by every test.
_PER_TEST_HOOKS = ("setUp", "tearDown", "asyncSetUp", "asyncTearDown")
_CLASS_DECORATORS = ("builtins.classmethod", "builtins.staticmethod")


@dataclass(frozen=True)
class Resource:
    """A loop-bound object made once for many tests."""

    where: str  # "module", "class", "setUpClass"
    name: str  # the module global, class attribute or `cls.` attribute
    value: ast.Call
    statement: ast.stmt
    description: str
    #: local names of setUpClass that hold the object too (`ev = cls.ready = asyncio.Event()`,
    #: or `ev = asyncio.Event()` ... `cls.ready = ev`).
    aliases: tuple[str, ...] = ()
    #: the `cls.ready = ev` statement that publishes a local alias (None when made in place).
    link: ast.stmt | None = None


class LoopBoundResourceShared(Rule):
    code = "ATL207"
    name = "loop-bound-resource-shared"
    family = "T10"
    summary = (
        "A loop-bound asyncio object is made once and shared by tests that each run on a fresh loop"
    )
    what = (
        "Finds an `asyncio.Queue`/`PriorityQueue`/`LifoQueue`, `Lock`, `Event`, `Condition`, "
        "`Semaphore`/`BoundedSemaphore`, `Barrier`, `Future` or task (`create_task`, "
        "`ensure_future`), or an instance of a project class whose `__init__` stores one, made at "
        "module level, in the class body or in `setUpClass` of an `IsolatedAsyncioTestCase` "
        "(bases resolved through aliases and other files) and used by two or more of its tests: "
        "directly (`self.queue`, `cls.queue`, the module global), through helper methods of the "
        "class, or through `setUp`/`asyncSetUp`/`tearDown`/`asyncTearDown`, which run for every "
        "test."
    )
    why = (
        "`IsolatedAsyncioTestCase` runs every test on a new event loop and closes it afterwards. "
        "An asyncio primitive belongs to one loop: the first time it has to wait (a `get()` on an "
        "empty queue, a contended lock, `event.wait()`, awaiting a future) it binds to the loop "
        "that runs, and in the next test it raises *RuntimeError: <Queue ...> is bound to a "
        "different event loop*, or a waiter parked on the old loop is never woken and the test "
        "hangs. Uncontended use never binds, so the suite passes until a test happens to wait, "
        "or until test order changes. Tasks die with the loop of the test that made them."
    )
    versions = (
        "Python 3.10+: `Queue`, `Lock`, `Event`, `Condition`, `Semaphore` and `Barrier` bind "
        "lazily, on the first operation that waits: the first test that waits passes, the next "
        "one fails with *is bound to a different event loop* (checked on 3.10-3.13). Python 3.8 "
        "and 3.9: they bind when created, to the loop `get_event_loop()` returns at import or in "
        "`setUpClass` (never the test's loop), so already the first test that waits fails "
        "(*Task ... got Future <Future pending> attached to a different loop*). `asyncio.Future()` "
        "binds when created on every version (3.12+ also warn *There is no current event loop*), "
        "so the first `await` on it fails; `create_task()` outside a running loop raises *no "
        "running event loop* at once."
    )
    fix_notes = (
        "Unsafe: the object is created in `asyncSetUp` instead (`self.queue = asyncio.Queue()`), "
        "on each test's own loop; an `asyncSetUp` is added when the class has none (it calls "
        "`await super().asyncSetUp()` when a project base class defines one), and the module-"
        "level, class-level or `setUpClass` creation is removed (an emptied `setUpClass` goes "
        "too). A module global becomes an attribute named after it in lower case and its uses "
        "in the class become `self.<name>`. Tests that relied on state carried from one test to "
        "the next (items left in a shared queue) then see a fresh object.\n\n"
        "No automatic fix: when the object is used from `setUp`, a class method or outside the "
        "class, by several classes, or when its creation reads names local to where it is: "
        "create it in `asyncSetUp` by hand and pass it to whatever needs it from there."
    )
    fix_safety = Safety.UNSAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        isolated = [
            cls
            for cls in context.model.classes
            if context.semantics.kind(cls) is ClassKind.ISOLATED
        ]
        if not isolated:
            return
        for cls in isolated:
            for resource in [
                *self._class_resources(context, cls),
                *self._setup_class_resources(context, cls),
            ]:
                if _made_per_test(cls, resource.name):
                    continue  # asyncSetUp/setUp gives each test its own: the shared one is unused
                users = _tests_using(context, cls, resource.name, attribute=True)
                if len(users) >= 2:
                    yield self._report(context, resource, [(cls, users)])
        for resource in self._module_resources(context):
            using = [
                (cls, users)
                for cls in isolated
                if (users := _tests_using(context, cls, resource.name, attribute=False))
            ]
            if sum(len(users) for _, users in using) >= 2:
                yield self._report(context, resource, using)

    def _report(
        self, context: Context, resource: Resource, using: list[tuple[ClassInfo, list[str]]]
    ) -> Diagnostic:
        tests = [f"{test}" for _, users in using for test in users]
        shown = ", ".join(tests[:3]) + (", ..." if len(tests) > 3 else "")
        classes = " and ".join(cls.name for cls, _ in using)
        where = {
            "module": f"at module level ({resource.name})",
            "class": f"in the class body of {using[0][0].name} ({resource.name})",
            "setUpClass": f"in setUpClass of {using[0][0].name} (cls.{resource.name})",
        }[resource.where]
        message = (
            f"{resource.description} created {where} is shared by {len(tests)} tests of {classes} "
            f"({shown}): each IsolatedAsyncioTestCase test runs on a fresh event loop"
        )
        fix = None
        if len(using) == 1:
            cls = using[0][0]
            fix = context.lazy_fix(
                f"Create {resource.name} in asyncSetUp",
                Safety.UNSAFE,
                lambda: _fix(context, cls, resource),
            )
        return context.report(self, resource.value, message, fix)

    def _class_resources(self, context: Context, cls: ClassInfo) -> Iterator[Resource]:
        for statement in cls.node.body:
            target, value = _single_assignment(statement)
            if isinstance(target, ast.Name) and value is not None:
                description = _loop_bound(context, value, cls.parent_scope)
                if description is not None:
                    yield Resource("class", target.id, value, statement, description)

    def _setup_class_resources(self, context: Context, cls: ClassInfo) -> Iterator[Resource]:
        method = cls.methods.get("setUpClass")
        receiver = method.receiver if method is not None else None
        if method is None or receiver is None:
            return
        for statement in ast.walk(method.node):
            if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
                continue
            found = _published(context, method, receiver, statement)
            if found is None:
                continue
            chain, value, aliases, link = found
            description = _loop_bound(context, value, method.scope)
            if description is not None:
                creation = statement if link is None else _creation_statement(context, value)
                if creation is not None:
                    yield Resource("setUpClass", chain, value, creation, description, aliases, link)

    def _module_resources(self, context: Context) -> Iterator[Resource]:
        model = context.model
        for statement in model.tree.body:
            target, value = _single_assignment(statement)
            if not isinstance(target, ast.Name) or value is None:
                continue
            bindings = model.module_scope.bindings.get(target.id, [])
            if len(bindings) != 1:
                continue
            description = _loop_bound(context, value, model.module_scope)
            if description is not None:
                yield Resource("module", target.id, value, statement, description)


def _published(
    context: Context, method: FunctionInfo, receiver: str, statement: ast.Assign | ast.AnnAssign
) -> tuple[str, ast.Call, tuple[str, ...], ast.stmt | None] | None:
    """`cls.x = <call>`, `ev = cls.x = <call>` (aliases `ev`), or `cls.x = ev` where the local
    `ev` is bound once, to a call, in `method`: (attribute, call, aliases, link statement)."""
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    chains = [attribute_chain(target, receiver) for target in targets]
    published = [chain for chain in chains if chain is not None]
    if len(published) != 1 or "." in published[0] or statement.value is None:
        return None
    aliases = tuple(target.id for target in targets if isinstance(target, ast.Name))
    if len(aliases) + 1 != len(targets):
        return None  # a tuple, subscript or other attribute target
    value = statement.value
    if isinstance(value, ast.Call):
        return published[0], value, aliases, None
    if aliases or not isinstance(value, ast.Name):
        return None
    bindings = method.scope.bindings.get(value.id, [])
    if len(bindings) != 1 or bindings[0].kind != "assign":
        return None
    made = bindings[0].node
    creation = context.model.parent(made) if isinstance(made, ast.Call) else None
    if not (
        isinstance(made, ast.Call)
        and isinstance(creation, ast.Assign)
        and len(creation.targets) == 1
        and isinstance(creation.targets[0], ast.Name)
    ):
        return None
    return published[0], made, (value.id,), statement


def _creation_statement(context: Context, value: ast.Call) -> ast.stmt | None:
    parent = context.model.parent(value)
    return parent if isinstance(parent, ast.Assign) else None


def _single_assignment(statement: ast.AST) -> tuple[ast.expr | None, ast.Call | None]:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, value = statement.targets[0], statement.value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        target, value = statement.target, statement.value
    else:
        return None, None
    return target, value if isinstance(value, ast.Call) else None


def _loop_bound(context: Context, value: ast.Call, scope: object) -> str | None:
    """`asyncio.Queue()` or `Client()` (holding a lock) when `value` makes a loop-bound object."""
    name = context.model.qualified_name(value.func, scope)  # type: ignore[arg-type]
    if name is None:
        return None
    if name in LOOP_BOUND_FACTORIES:
        return f"{name}()"
    summary = context.semantics.find_class(name)
    if summary is None or not summary.loop_bound_attributes:
        return None
    attribute, factory = summary.loop_bound_attributes[0]
    return f"{name.rpartition('.')[2]}() (its __init__ makes {factory}() in self.{attribute})"


def _is_instance_method(context: Context, method: FunctionInfo) -> bool:
    for decorator in method.node.decorator_list:
        name = context.model.qualified_name(decorator, method.parent_scope)
        if name in _CLASS_DECORATORS:
            return False
    return True


def _mentions(
    context: Context, cls: ClassInfo, method: FunctionInfo, name: str, attribute: bool
) -> bool:
    """Whether `method` refers to the resource: `self.x`/`cls.x`/`Class.x`, or the global."""
    receiver = method.receiver
    global_binding = context.model.module_scope.bindings.get(name)
    for node in ast.walk(method.node):
        if attribute and isinstance(node, ast.Attribute) and node.attr == name:
            if isinstance(node.value, ast.Name) and node.value.id in (receiver, cls.name):
                return True
        elif (
            not attribute
            and isinstance(node, ast.Name)
            and node.id == name
            and context.model.lookup(name, method.scope) is global_binding
        ):
            return True
    return False


def _made_per_test(cls: ClassInfo, attribute: str) -> bool:
    """A per-test hook assigns `self.<attribute>`, shadowing the class-level object."""
    for hook in _PER_TEST_HOOKS:
        method = cls.methods.get(hook)
        receiver = method.receiver if method is not None else None
        if method is None or receiver is None:
            continue
        for node in ast.walk(method.node):
            if isinstance(node, ast.Assign) and any(
                attribute_chain(target, receiver) == attribute for target in node.targets
            ):
                return True
    return False


def _self_calls(method: FunctionInfo) -> set[str]:
    receiver = method.receiver
    called = set()
    for call in method.calls:
        func = call.node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == receiver
        ):
            called.add(func.attr)
    return called


def _tests_using(context: Context, cls: ClassInfo, name: str, attribute: bool) -> list[str]:
    """The tests of `cls` that use the resource: directly, via helpers or via per-test hooks."""
    direct = {
        method_name
        for method_name, method in cls.methods.items()
        if _mentions(context, cls, method, name, attribute)
    }
    calls = {method_name: _self_calls(method) for method_name, method in cls.methods.items()}
    using = set(direct)
    changed = True
    while changed:
        changed = False
        for method_name, called in calls.items():
            if method_name not in using and called & using:
                using.add(method_name)
                changed = True
    tests = sorted(
        (method for method_name, method in cls.methods.items() if method_name.startswith("test")),
        key=lambda method: method.node.lineno,
    )
    if any(hook in using for hook in _PER_TEST_HOOKS):
        return [test.name for test in tests]
    return [test.name for test in tests if test.name in using]


# -- the fix -------------------------------------------------------------------------------------


@dataclass
class _Plan:
    cls: ClassInfo
    resource: Resource
    attribute: str
    #: (line, column) code-point positions (1-based line) of global uses to turn into `self.<attr>`.
    uses: dict[tuple[int, int], str]
    super_call: bool
    #: (0-based line, column) of setUpClass statements that use an alias and move along.
    follow: tuple[tuple[int, int], ...] = ()
    #: (0-based line, column) of the `cls.x = alias` statement, removed.
    drop: tuple[tuple[int, int], ...] = ()


def _fix(context: Context, cls: ClassInfo, resource: Resource) -> Fix | None:
    plan = _plan(context, cls, resource)
    if plan is None or not context.text.endswith(("\n", "\r")):
        return None
    from ._atl207_rewrite import rewrite  # libcst, only when a front end asks for the fix

    new_text = rewrite(
        context,
        plan.cls,
        plan.resource,
        plan.attribute,
        plan.uses,
        plan.super_call,
        follow=plan.follow,
        drop=plan.drop,
    )
    if new_text is None or new_text == context.text:
        return None
    edits = line_diff_edits(context.text, new_text, 0)
    return Fix(f"Create {resource.name} in asyncSetUp", Safety.UNSAFE, tuple(edits))


def _plan(context: Context, cls: ClassInfo, resource: Resource) -> _Plan | None:
    attribute = resource.name
    uses: dict[tuple[int, int], str] = {}
    if not _creation_is_movable(context, cls, resource):
        return None
    follow: tuple[tuple[int, int], ...] = ()
    drop: tuple[tuple[int, int], ...] = ()
    if resource.aliases:
        moved = _alias_statements(context, cls, resource)
        if moved is None:
            return None
        follow, alias_uses = moved
        uses.update(alias_uses)
        if resource.link is not None:
            if context.model.parent(resource.link) is not cls.methods["setUpClass"].node:
                return None  # published inside an `if`/`with`/loop
            link = context.parsed.node_range(resource.link).start
            drop = ((link.line, link.column),)
    if resource.where == "module":
        attribute = resource.name.lower()
        if (
            attribute in cls.methods
            or attribute in cls.attributes
            or attribute in context.semantics.self_attribute_assignments(cls)
        ):
            return None
        found = _global_uses(context, cls, resource.name)
        if found is None:
            return None
        uses = found
    else:
        for method_name, method in cls.methods.items():
            if not _mentions(context, cls, method, attribute, attribute=True):
                continue
            if method_name == "setUpClass" and resource.where == "setUpClass":
                if _attribute_mentions(method, attribute, method.receiver) != 1:
                    return None  # setUpClass reads it after making it
                continue
            if method_name in ("setUp", "setUpClass", "tearDownClass") or not _is_instance_method(
                context, method
            ):
                return None
            if _attribute_mentions(method, attribute, cls.name):
                return None  # `ClassName.queue`: stays a class attribute
        if _class_body_reads(cls, resource):
            return None
    return _Plan(cls, resource, attribute, uses, _needs_super_call(context, cls), follow, drop)


def _alias_statements(
    context: Context, cls: ClassInfo, resource: Resource
) -> tuple[tuple[tuple[int, int], ...], dict[tuple[int, int], str]] | None:
    """The statements of setUpClass that use a local alias of the object: each must be an
    expression statement of setUpClass's own body after the object is made, reading no other
    local and not the class (`ev.set()`); they move to asyncSetUp with the alias spelled
    `self.<attribute>`. None when an alias is used any other way."""
    method = cls.methods["setUpClass"]
    receiver = method.receiver
    made_at = resource.statement.lineno
    follow: list[tuple[int, int]] = []
    uses: dict[tuple[int, int], str] = {}
    for statement in method.node.body:
        names = [node for node in ast.walk(statement) if isinstance(node, ast.Name)]
        alias_names = [node for node in names if node.id in resource.aliases]
        if statement in (resource.statement, resource.link) or not alias_names:
            continue
        if not isinstance(statement, ast.Expr) or statement.lineno < made_at:
            return None
        for node in names:
            if node.id == receiver or (
                node.id not in resource.aliases and node.id in method.scope.bindings
            ):
                return None
        start = context.parsed.node_range(statement).start
        follow.append((start.line, start.column))
        for node in alias_names:
            at = context.parsed.node_range(node).start
            uses[(at.line + 1, at.column)] = "self"
    counted = sum(
        1
        for node in ast.walk(method.node)
        if isinstance(node, ast.Name) and node.id in resource.aliases
    )
    expected = len(uses) + len(resource.aliases) + (1 if resource.link is not None else 0)
    if counted != expected:
        return None  # an alias is read inside a nested block, a lambda...
    return tuple(follow), uses


def _attribute_mentions(method: FunctionInfo, attribute: str, owner: str | None) -> int:
    return sum(
        1
        for node in ast.walk(method.node)
        if isinstance(node, ast.Attribute)
        and node.attr == attribute
        and isinstance(node.value, ast.Name)
        and node.value.id == owner
    )


def _class_body_reads(cls: ClassInfo, resource: Resource) -> bool:
    for statement in cls.node.body:
        if statement is resource.statement or isinstance(
            statement, (ast.FunctionDef, ast.AsyncFunctionDef)
        ):
            continue
        if any(
            isinstance(node, ast.Name) and node.id == resource.name for node in ast.walk(statement)
        ):
            return True
    return False


def _creation_is_movable(context: Context, cls: ClassInfo, resource: Resource) -> bool:
    """The creating expression means the same inside `asyncSetUp`: it reads only module names."""
    model: SemanticModel = context.model
    if resource.where == "module":
        return True
    for node in ast.walk(resource.value):
        if not isinstance(node, ast.Name):
            continue
        if resource.where == "class" and node.id in cls.scope.bindings:
            return False
        if resource.where == "setUpClass":
            method = cls.methods["setUpClass"]
            if node.id in method.scope.bindings:
                return False
    if resource.where == "setUpClass":
        method = cls.methods["setUpClass"]
        if model.parent(resource.statement) is not method.node:
            return False  # inside an `if`/`with`/loop of setUpClass
    return True


def _global_uses(context: Context, cls: ClassInfo, name: str) -> dict[tuple[int, int], str] | None:
    """Every use of the global, all inside instance methods of `cls` (else None)."""
    model = context.model
    binding = model.module_scope.bindings.get(name)
    inside: dict[int, str] = {}
    for method in cls.methods.values():
        receiver = method.receiver
        if (
            receiver is None
            or not _is_instance_method(context, method)
            or method.name in ("setUp", "setUpClass")
        ):
            continue
        if model.lookup(name, method.scope) is not binding:
            continue
        for node in ast.walk(method.node):
            if isinstance(node, ast.Name) and node.id == name:
                inside[id(node)] = receiver
    uses: dict[tuple[int, int], str] = {}
    for node in ast.walk(model.tree):
        if not isinstance(node, ast.Name) or node.id != name:
            continue
        parent = model.parent(node)
        if isinstance(parent, ast.Assign) and node in parent.targets:
            continue  # the creation itself
        if id(node) not in inside or not isinstance(node.ctx, ast.Load):
            return None
        start = context.parsed.node_range(node).start
        uses[(start.line + 1, start.column)] = inside[id(node)]
    if "global" in context.text and any(
        isinstance(node, ast.Global) and name in node.names for node in ast.walk(model.tree)
    ):
        return None
    return uses


def _needs_super_call(context: Context, cls: ClassInfo) -> bool:
    summary = context.semantics.class_summary(cls)
    for base in summary.bases:
        if base is None or base == ISOLATED_TESTCASE:
            continue
        base_summary = context.semantics.find_class(base)
        if (
            base_summary is not None
            and context.semantics.find_method(base_summary, "asyncSetUp") is not None
        ):
            return True
    return False


_RUNNABLE_SETUPCLASS = """\
import asyncio
import unittest


class WorkerTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        # one queue for the whole class
        cls.queue = asyncio.Queue()

    async def roundtrip(self, item):
        getter = asyncio.ensure_future(self.queue.get())
        await asyncio.sleep(0)
        await self.queue.put(item)
        return await getter

    async def test_first(self):
        self.assertEqual(await self.roundtrip(1), 1)

    async def test_second(self):
        self.assertEqual(await self.roundtrip(2), 2)
"""

_RUNNABLE_SETUPCLASS_FIXED = """\
import asyncio
import unittest


class WorkerTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        # one queue for the whole class
        self.queue = asyncio.Queue()

    async def roundtrip(self, item):
        getter = asyncio.ensure_future(self.queue.get())
        await asyncio.sleep(0)
        await self.queue.put(item)
        return await getter

    async def test_first(self):
        self.assertEqual(await self.roundtrip(1), 1)

    async def test_second(self):
        self.assertEqual(await self.roundtrip(2), 2)
"""

_RUNNABLE_ALIAS = """\
import asyncio
import unittest


class ReadyTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ev = cls.ready = asyncio.Event()
        ev.set()  # ready from the start

    async def wait_twice(self):
        await self.ready.wait()
        self.ready.clear()
        asyncio.get_running_loop().call_later(0.01, self.ready.set)
        await self.ready.wait()

    async def test_wait(self):
        await self.wait_twice()

    async def test_wait_again(self):
        await self.wait_twice()
"""

_RUNNABLE_ALIAS_FIXED = """\
import asyncio
import unittest


class ReadyTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.ready = asyncio.Event()
        self.ready.set()  # ready from the start

    async def wait_twice(self):
        await self.ready.wait()
        self.ready.clear()
        asyncio.get_running_loop().call_later(0.01, self.ready.set)
        await self.ready.wait()

    async def test_wait(self):
        await self.wait_twice()

    async def test_wait_again(self):
        await self.wait_twice()
"""

_RUNNABLE_LINKED_ALIAS = """\
import asyncio
import unittest


class JobsTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        jobs = asyncio.Queue()
        jobs.put_nowait("warm-up")
        cls.jobs = jobs
        cls.prefix = "job"

    async def take(self):
        await self.jobs.get()
        getter = asyncio.ensure_future(self.jobs.get())
        await asyncio.sleep(0)
        self.jobs.put_nowait(f"{self.prefix}-1")
        return await getter

    async def test_take(self):
        self.assertEqual(await self.take(), "job-1")

    async def test_take_again(self):
        self.assertEqual(await self.take(), "job-1")
"""

_RUNNABLE_LINKED_ALIAS_FIXED = """\
import asyncio
import unittest


class JobsTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = "job"

    async def asyncSetUp(self):
        self.jobs = asyncio.Queue()
        self.jobs.put_nowait("warm-up")

    async def take(self):
        await self.jobs.get()
        getter = asyncio.ensure_future(self.jobs.get())
        await asyncio.sleep(0)
        self.jobs.put_nowait(f"{self.prefix}-1")
        return await getter

    async def test_take(self):
        self.assertEqual(await self.take(), "job-1")

    async def test_take_again(self):
        self.assertEqual(await self.take(), "job-1")
"""

LoopBoundResourceShared.invalid = (
    Invalid(
        _RUNNABLE_SETUPCLASS,
        line=9,
        fixed=_RUNNABLE_SETUPCLASS_FIXED,
        runnable=True,
        note="Made in setUpClass, used by two tests through a helper method.",
    ),
    Invalid(
        """\
import asyncio as aio
from unittest import IsolatedAsyncioTestCase as IATC


class LockTest(IATC):
    lock = aio.Lock()  # guards the counter

    async def asyncSetUp(self):
        self.count = 0

    async def bump(self):
        async with self.lock:
            await aio.sleep(0.01)
            self.count += 1

    async def test_bump(self):
        await aio.gather(self.bump(), self.bump())
        self.assertEqual(self.count, 2)

    async def test_bump_again(self):
        await aio.gather(self.bump(), self.bump())
        self.assertEqual(self.count, 2)
""",
        line=6,
        fixed="""\
import asyncio as aio
from unittest import IsolatedAsyncioTestCase as IATC


class LockTest(IATC):
    async def asyncSetUp(self):
        self.lock = aio.Lock()  # guards the counter
        self.count = 0

    async def bump(self):
        async with self.lock:
            await aio.sleep(0.01)
            self.count += 1

    async def test_bump(self):
        await aio.gather(self.bump(), self.bump())
        self.assertEqual(self.count, 2)

    async def test_bump_again(self):
        await aio.gather(self.bump(), self.bump())
        self.assertEqual(self.count, 2)
""",
        runnable=True,
        note="A class attribute, aliased imports, an existing asyncSetUp.",
    ),
    Invalid(
        """\
import asyncio

from tests.base import ServiceTestCase

EVENTS = asyncio.Queue()


class EventTest(ServiceTestCase):
    async def test_publish(self):
        await EVENTS.put("created")
        self.assertEqual(await EVENTS.get(), "created")

    async def test_empty(self):
        self.assertTrue(EVENTS.empty())
""",
        line=5,
        files={
            "tests/base.py": """\
import unittest


class ServiceTestCase(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.service = object()
""",
        },
        fixed="""\
import asyncio

from tests.base import ServiceTestCase


class EventTest(ServiceTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.events = asyncio.Queue()

    async def test_publish(self):
        await self.events.put("created")
        self.assertEqual(await self.events.get(), "created")

    async def test_empty(self):
        self.assertTrue(self.events.empty())
""",
        note="A module global; the base class (another file) has its own asyncSetUp.",
    ),
    Invalid(
        """\
import unittest

from app.client import RateLimitedClient


class ClientTest(unittest.IsolatedAsyncioTestCase):
    client = RateLimitedClient()

    async def test_get(self):
        self.assertEqual(await self.client.get("a"), "a")

    async def test_get_twice(self):
        self.assertEqual(await self.client.get("b"), "b")
""",
        line=7,
        files={
            "app/client.py": """\
import asyncio


class RateLimitedClient:
    def __init__(self):
        self._slots = asyncio.Semaphore(2)

    async def get(self, key):
        async with self._slots:
            return key
""",
        },
        fixed="""\
import unittest

from app.client import RateLimitedClient


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = RateLimitedClient()

    async def test_get(self):
        self.assertEqual(await self.client.get("a"), "a")

    async def test_get_twice(self):
        self.assertEqual(await self.client.get("b"), "b")
""",
        note="A project client whose __init__ makes a Semaphore.",
    ),
    Invalid(
        _RUNNABLE_ALIAS,
        line=9,
        fixed=_RUNNABLE_ALIAS_FIXED,
        runnable=True,
        note="Reached through an alias (`ev = cls.ready = asyncio.Event()`); the statement that "
        "configures it through the alias moves along.",
    ),
    Invalid(
        _RUNNABLE_LINKED_ALIAS,
        line=8,
        fixed=_RUNNABLE_LINKED_ALIAS_FIXED,
        runnable=True,
        note="Made in a local, configured, then published (`cls.jobs = jobs`).",
    ),
)

LoopBoundResourceShared.valid = (
    Valid(
        """\
import asyncio
import unittest


class LockTest(unittest.IsolatedAsyncioTestCase):
    lock = asyncio.Lock()  # documents the attribute; replaced per test

    async def asyncSetUp(self):
        self.lock = asyncio.Lock()

    async def test_one(self):
        async with self.lock:
            pass

    async def test_two(self):
        async with self.lock:
            pass
""",
        note="asyncSetUp makes a per-test object that shadows the class attribute.",
    ),
    Valid(
        """\
import asyncio
import unittest


class QueueTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.queue = asyncio.Queue()

    async def test_put(self):
        await self.queue.put(1)

    async def test_get(self):
        await self.queue.put(1)
        self.assertEqual(await self.queue.get(), 1)
""",
        note="Made per test in asyncSetUp: the fix's result.",
    ),
    Valid(
        """\
import unittest
from threading import Lock

LOCK = Lock()


class CounterTest(unittest.IsolatedAsyncioTestCase):
    queue_factory = list

    async def test_one(self):
        with LOCK:
            self.assertEqual(self.queue_factory(), [])

    async def test_two(self):
        with LOCK:
            self.assertEqual(self.queue_factory(), [])
""",
        note="`threading.Lock` imported as `Lock` is not loop-bound.",
    ),
    Valid(
        """\
import asyncio
import unittest


class OneTest(unittest.IsolatedAsyncioTestCase):
    event = asyncio.Event()

    async def test_only(self):
        self.event.set()
        await self.event.wait()

    def test_unrelated(self):
        self.assertTrue(True)
""",
        note="Used by one test only: one loop, nothing crosses.",
    ),
    Valid(
        """\
import asyncio
import unittest


class Config:
    def __init__(self):
        self.retries = 3


CONFIG = Config()


class RetryTest(unittest.IsolatedAsyncioTestCase):
    async def test_one(self):
        self.assertEqual(CONFIG.retries, 3)

    async def test_two(self):
        await asyncio.sleep(0)
        self.assertEqual(CONFIG.retries, 3)
""",
        note="A project object that holds no loop-bound primitive.",
    ),
)
