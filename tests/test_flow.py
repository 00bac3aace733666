"""The value-flow layer (analysis/flow.py) on small snippets, table-driven.

Each case names a value (the first call whose source text is `start`) and lists where it must
flow: (role, the use spelled from its place, the steps of that use relative to the value). A case
lists what must be reached; `absent` what must not be. Uses read from another file's summary are
spelled from the attribute or parameter they start at (`self.handlers[...](...)`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import pytest
from async_test_lint.analysis.flow import CALL, Flow, Role, protocol_steps
from async_test_lint.analysis.semantics import Semantics
from async_test_lint.analysis.values import constant_string
from async_test_lint.engine import analyse, index_sources
from async_test_lint.model import Settings

SETTINGS = Settings()


@dataclass(frozen=True)
class Case:
    code: str
    start: str
    reached: frozenset[tuple[str, str, tuple[str, ...]]]
    absent: frozenset[tuple[str, str, tuple[str, ...]]] = frozenset()
    files: dict[str, str] = field(default_factory=dict)


#: Names the snippets call, bound by an import so that they have a place.
_PRELUDE = "from lib import begin, first, flag, make, other, second, third\n"


def _flow(code: str, files: dict[str, str]) -> tuple[Flow, ast.Module]:
    analysis = analyse(_PRELUDE + code, "tests/test_snippet.py", SETTINGS)
    assert not hasattr(analysis, "message"), analysis
    semantics = Semantics(analysis.model, index_sources(files, SETTINGS))  # type: ignore[union-attr]
    return semantics.flow, analysis.model.tree  # type: ignore[union-attr]


def _reached(case: Case) -> set[tuple[str, str, tuple[str, ...]]]:
    flow, tree = _flow(case.code, case.files)
    node = next(
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n) == case.start
    )
    start = flow.use_of(node)
    assert start is not None, case.start
    return {(item.use.role.value, item.use.chain(), item.steps) for item in flow.reach(start)}


_SERVICE = """\
class Service:
    def __init__(self, repo, handlers=()):
        self.repo = repo
        self.handlers = list(handlers)
        self.hooks = {}

    async def run(self, item):
        return await self.repo.session.get(item)

    async def publish(self, event):
        for handler in self.handlers:
            await handler(event)

    async def fire(self, event):
        for _name, hook in self.hooks.items():
            await hook(event)

    async def consume(self, source):
        async for _item in source:
            pass
"""

CASES = {
    "local alias then await": Case(
        """\
async def test():
    m = make()
    alias = m
    await alias.get()
""",
        "make()",
        frozenset({("stored", "make(...)", ()), ("awaited", "alias.get(...)", ("get", CALL))}),
    ),
    "self attribute set in setUp, used in a test": Case(
        """\
class T:
    def setUp(self):
        self.client = make()

    async def test_a(self):
        await self.client.fetch(1)
""",
        "make()",
        frozenset({("awaited", "self.client.fetch(...)", ("fetch", CALL))}),
    ),
    "argument to a local function, awaited there": Case(
        """\
async def deliver(order, notifier):
    await notifier.send(order)

async def test():
    await deliver(1, make())
""",
        "make()",
        frozenset({("awaited", "notifier.send(...)", ("send", CALL))}),
    ),
    "keyword argument, returned, awaited by the caller": Case(
        """\
def wrap(value=None):
    return value

async def test():
    got = wrap(value=make())
    await got
""",
        "make()",
        frozenset({("awaited", "got", ())}),
    ),
    "element of a list literal, iterated and awaited": Case(
        """\
async def test():
    pending = [make(), other()]
    for item in pending:
        await item
""",
        "make()",
        frozenset({("awaited", "item", ())}),
    ),
    "x or default carries x": Case(
        """\
class Box:
    def __init__(self, inner=None):
        self.inner = inner or object()

    async def use(self):
        await self.inner.ping()

async def test():
    await Box(make()).use()
""",
        "make()",
        frozenset({("awaited", "self.inner.ping(...)", ("ping", CALL))}),
    ),
    "stored on an object of a class in another file": Case(
        """\
from app.service import Service

async def test():
    service = Service(None)
    service.repo = make()
    await service.run(1)
""",
        "make()",
        frozenset({("awaited", "self.repo.session.get(...)", ("session", "get", CALL))}),
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
    ),
    "list of handlers passed to a constructor in another file": Case(
        """\
from app.service import Service

async def test():
    await Service(None, [make()]).publish("x")
""",
        "make()",
        frozenset({("awaited", "self.handlers[...](...)", (CALL,))}),
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
    ),
    "dict of hooks iterated with items()": Case(
        """\
from app.service import Service

async def test():
    service = Service(None)
    service.hooks = {"a": make()}
    await service.fire("x")
""",
        "make()",
        frozenset({("awaited", "self.hooks[...](...)", (CALL,))}),
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
    ),
    "a value stored under a holder travels with the holder": Case(
        """\
class Repo:
    def __init__(self, db):
        self.db = db

    async def get(self):
        return await self.db.fetch()

async def test():
    db = object()
    db.fetch = make()
    await Repo(db).get()
""",
        "make()",
        frozenset({("awaited", "self.db.fetch(...)", (CALL,))}),
    ),
    "async with target": Case(
        """\
async def test():
    pool = make()
    async with pool.acquire() as conn:
        await conn.fetch()
""",
        "make()",
        frozenset(
            {
                ("async-with", "pool.acquire(...)", ("acquire", CALL)),
                ("awaited", "conn.fetch(...)", ("acquire", CALL, "<aenter>", "fetch", CALL)),
            }
        ),
    ),
    "configuration of a mock is a use": Case(
        """\
def test():
    m = make()
    m.get.return_value = 1
""",
        "make()",
        frozenset({("configured", "m.get", ("get",))}),
    ),
    "a rebinding is another value": Case(
        """\
async def test():
    m = make()
    m = other()
    await m.get()
""",
        "make()",
        frozenset({("stored", "make(...)", ())}),
    ),
    "an attribute the method rebinds first is another value": Case(
        """\
class Client:
    def __init__(self, inner):
        self.inner = inner

    async def connect(self):
        self.inner = other()
        await self.inner.open()

async def test():
    await Client(make()).connect()
""",
        "make()",
        frozenset({("stored", "inner", ())}),
        absent=frozenset({("awaited", "self.inner.open(...)", ("open", CALL))}),
    ),
    "argument to a method of an instance in another file": Case(
        """\
from app.service import Service

async def test():
    item = make()
    service = Service(None)
    await service.consume(item)
""",
        "make()",
        frozenset({("async-for", "source", ())}),
        files={"app/__init__.py": "", "app/service.py": _SERVICE},
    ),
    "argument to a method of a new instance reaches its use there": Case(
        """\
class Sink:
    async def put(self, target):
        await target.write()

async def test():
    await Sink().put(make())
""",
        "make()",
        frozenset({("awaited", "target.write(...)", ("write", CALL))}),
    ),
    "a static method binds no self: the flow stops": Case(
        """\
class Sink:
    @staticmethod
    async def put(target, other):
        await other.write()

async def test():
    sink = Sink()
    await sink.put(make(), 1)
""",
        "make()",
        frozenset({("argument", "make(...)", ())}),
        absent=frozenset({("awaited", "other.write(...)", ("write", CALL))}),
    ),
    "an unknown callee ends the flow": Case(
        """\
async def test(unknown):
    await unknown(make())
""",
        "make()",
        frozenset({("argument", "make(...)", ())}),
        absent=frozenset({("awaited", "unknown(...)", (CALL,))}),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reach(name: str) -> None:
    case = CASES[name]
    reached = _reached(case)
    assert case.reached <= reached, sorted(reached)
    assert not (case.absent & reached), sorted(reached)


def test_a_rebinding_is_not_followed_as_the_first_value() -> None:
    reached = _reached(CASES["a rebinding is another value"])
    assert not any(role == "awaited" for role, _, _ in reached)


def test_always_and_swallowed() -> None:
    flow, _ = _flow(
        """\
async def run(self):
    try:
        await first()
    except Exception:
        pass
    if flag:
        await second()
    await third()
""",
        {},
    )
    uses = {ast.unparse(use.node): use for use in flow.uses_in(flow.model.functions[0])}  # type: ignore[arg-type]
    assert uses["first()"].role is Role.AWAITED and uses["first()"].swallowed
    assert uses["first()"].always and not uses["second()"].always and uses["third()"].always
    assert not uses["third()"].swallowed


def test_after_exit() -> None:
    flow, _ = _flow(
        """\
def start(self):
    fut = begin()
    if self.run_async:
        return fut
    return self.loop.run_until_complete(fut)
""",
        {},
    )
    uses = {ast.unparse(use.node): use for use in flow.uses_in(flow.model.functions[0])}  # type: ignore[arg-type]
    assert not uses["begin()"].after_exit
    assert uses["self.loop.run_until_complete(fut)"].after_exit


def test_origins_and_instance_classes() -> None:
    flow, tree = _flow(
        """\
class Client:
    pass

def test():
    client = Client()
    same = client
    same
""",
        {},
    )
    function = flow.model.functions[0]
    name = next(n for n in ast.walk(tree) if isinstance(n, ast.Expr)).value
    assert isinstance(name, ast.Name)
    origins = flow.origins(name, function.scope, function)
    assert origins is not None and [ast.unparse(o) for o in origins] == ["Client()"]
    place = flow.place_of(name, function.scope, function)
    assert place is not None
    assert flow.instance_classes(place) == ["tests.test_snippet.Client"]


def test_origins_unknown_for_parameters_and_loop_variables() -> None:
    flow, tree = _flow(
        """\
def test(param):
    for item in param:
        item
    param
""",
        {},
    )
    function = flow.model.functions[0]
    names = [n.value for n in ast.walk(tree) if isinstance(n, ast.Expr)]
    assert all(flow.origins(name, function.scope, function) is None for name in names)


def test_summaries_carry_flow_across_files() -> None:
    index = index_sources({"app/__init__.py": "", "app/service.py": _SERVICE}, SETTINGS)
    module = index.get("app/service.py")
    assert module is not None
    run = module.classes["Service"].methods["run"]
    assert ("attr", "repo", ("session", "get", CALL), "awaited") in {f[:4] for f in run.flow}
    init = module.classes["Service"].methods["__init__"]
    assert init.parameters == ("self", "repo", "handlers")
    stored = {(f[1], f[6], f[7]) for f in init.flow if f[3] == "stored"}
    assert ("repo", "attr", "repo") in stored


@pytest.mark.parametrize(
    ("names", "steps"),
    [
        (("get", "return_value"), ("get", CALL)),
        (("acquire", "return_value", "__aenter__", "return_value"), ("acquire", CALL, "<aenter>")),
        (("session",), ("session",)),
    ],
)
def test_protocol_steps(names: tuple[str, ...], steps: tuple[str, ...]) -> None:
    assert protocol_steps(names) == steps


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"pkg.mod.fn"', "pkg.mod.fn"),
        ('TARGET + ".fn"', "pkg.mod.fn"),
        ('f"{TARGET}.fn"', "pkg.mod.fn"),
        ('__name__ + ".fn"', "tests.test_snippet.fn"),
        ('f"{os.__name__}.getcwd"', "os.getcwd"),
        ('f"{TARGET!r}.fn"', None),
        ("CHANGING", None),
        ("unknown_name", None),
    ],
)
def test_constant_string(source: str, expected: str | None) -> None:
    code = f'import os\nTARGET = "pkg.mod"\nCHANGING = "a"\nCHANGING = "b"\nvalue = {source}\n'
    analysis = analyse(code, "tests/test_snippet.py", SETTINGS)
    model = analysis.model  # type: ignore[union-attr]
    assign = model.tree.body[-1]
    assert isinstance(assign, ast.Assign)
    assert constant_string(model, assign.value, model.module_scope) == expected
