"""Harness facts: what makes an event loop current for a test, wherever it is defined.

pytest-asyncio (1.x) runs async fixtures on an `asyncio.Runner` per loop scope, and that runner's
loop is the current loop while the tests of its scope run. A sync test or fixture that depends on
an async fixture, directly, through other fixtures, or through an autouse fixture (of its class,
its module, or any `conftest.py` up the tree), therefore runs with a current loop:
`asyncio.get_event_loop()` is correct there.

Fixtures are read from module summaries (`ModuleSummary.fixture_summaries`), so the `conftest.py`
files of the project index take part; pytest's own resolution order is followed (the class, the
module, then the conftest files from the nearest folder up). A sync fixture that calls
`asyncio.set_event_loop(loop)` makes a loop current for its dependents just the same. A name no
summary defines is a builtin or plugin fixture: not loop-setting as far as this analysis knows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import PurePath

from .index import ProjectIndex
from .model import FunctionInfo, SemanticModel, decorator_name
from .names import SET_EVENT_LOOP
from .summary import FixtureSummary, ModuleSummary

FIXTURE_DECORATORS = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
_USEFIXTURES = "pytest.mark.usefixtures"
_MAX_FIXTURES = 200


# -- summaries ---------------------------------------------------------------------------------


def summarize_fixtures(model: SemanticModel) -> tuple[FixtureSummary, ...]:
    """The pytest fixtures a module defines (module level and in classes)."""
    found: list[FixtureSummary] = []
    for function in model.functions:
        summary = fixture_summary(model, function)
        if summary is not None:
            found.append(summary)
    return tuple(found)


def fixture_summary(model: SemanticModel, function: FunctionInfo) -> FixtureSummary | None:
    if function.parent is not None:
        return None  # a fixture nested in a function is not collected
    for decorator in function.node.decorator_list:
        if decorator_name(model, decorator, function.parent_scope) not in FIXTURE_DECORATORS:
            continue
        name, autouse = function.name, False
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                value = keyword.value
                if keyword.arg == "name" and isinstance(value, ast.Constant):
                    name = str(value.value)
                elif keyword.arg == "autouse" and isinstance(value, ast.Constant):
                    autouse = bool(value.value)
        return FixtureSummary(
            name=name,
            is_async=function.is_async,
            autouse=autouse,
            requests=requested_names(function),
            cls=function.cls.qualname if function.cls is not None else None,
            sets_loop=sets_current_loop(model, function),
        )
    return None


def sets_current_loop(model: SemanticModel, function: FunctionInfo) -> bool:
    """`asyncio.set_event_loop(x)` with `x` not `None` in the function's own body."""
    for call in function.calls:
        if call.scope is not function.scope or model.callee_name(call) != SET_EVENT_LOOP:
            continue
        arguments = call.node.args
        if arguments and not (
            isinstance(arguments[0], ast.Constant) and arguments[0].value is None
        ):
            return True
    return False


def requested_names(function: FunctionInfo) -> tuple[str, ...]:
    """The fixtures a test or fixture requests by parameter (its receiver excluded)."""
    arguments = function.node.args
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
    if function.cls is not None and names:
        names = names[1:]
    return tuple(names)


# -- the conftest chain ------------------------------------------------------------------------


def conftest_chain(index: ProjectIndex | None, path: str | None) -> list[ModuleSummary]:
    """The `conftest.py` summaries that apply to the file at `path`, nearest folder first."""
    if index is None or path is None:
        return []
    by_folder = index.derived("harness:conftests", _conftests_by_folder)
    own = PurePath(path)
    chain = []
    for folder in own.parents:
        found = by_folder.get(folder.as_posix())
        if found is not None and found.path != path:
            chain.append(found)
    return chain


def _conftests_by_folder(summaries: list[ModuleSummary]) -> dict[str, ModuleSummary]:
    return {
        PurePath(summary.path).parent.as_posix(): summary
        for summary in summaries
        if PurePath(summary.path).name == "conftest.py"
    }


# -- the question rules ask ----------------------------------------------------------------------


class Fixtures:
    """The fixtures visible from one test module: its own, then those of its conftest chain."""

    def __init__(self, module: Iterable[FixtureSummary], conftests: list[ModuleSummary]) -> None:
        self._module = tuple(module)
        self._conftests = [
            tuple(fixture for fixture in summary.fixture_summaries if fixture.cls is None)
            for summary in conftests
        ]

    def definition(self, name: str, cls: str | None) -> FixtureSummary | None:
        """The fixture `name` resolves to for a test of class `cls` (or a module-level one)."""
        for layer in self._layers(cls):
            for fixture in layer:
                if fixture.name == name:
                    return fixture
        return None

    def autouse(self, cls: str | None) -> Iterator[FixtureSummary]:
        for layer in self._layers(cls):
            yield from (fixture for fixture in layer if fixture.autouse)

    def _layers(self, cls: str | None) -> Iterator[tuple[FixtureSummary, ...]]:
        if cls is not None:
            yield tuple(fixture for fixture in self._module if fixture.cls == cls)
        yield tuple(fixture for fixture in self._module if fixture.cls is None)
        yield from self._conftests

    def loop_dependency(self, requested: Iterable[str], cls: str | None) -> str | None:
        """The first fixture that makes a loop current (an async one, or one that calls
        `set_event_loop`) reached from `requested` and the autouse fixtures, if any."""
        pending = [*requested, *(fixture.name for fixture in self.autouse(cls))]
        seen: set[str] = set()
        while pending and len(seen) < _MAX_FIXTURES:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            fixture = self.definition(name, cls)
            if fixture is None:
                continue
            if fixture.is_async or fixture.sets_loop:
                return fixture.name
            # A fixture's own requests resolve from where it is defined; a class fixture's
            # requests may name module fixtures, which the same layers cover.
            pending.extend(fixture.requests)
        return None


def usefixtures_names(model: SemanticModel, function: FunctionInfo) -> tuple[str, ...]:
    """Fixtures named by `@pytest.mark.usefixtures(...)` on the function, its class, and the
    module's `pytestmark`."""
    found: list[str] = []
    decorators = list(function.node.decorator_list)
    if function.cls is not None:
        decorators.extend(function.cls.node.decorator_list)
    for decorator in decorators:
        found.extend(_usefixtures_of(model, decorator, function.parent_scope))
    for statement in model.tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in statement.targets
        ):
            value = statement.value
            marks = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
            for mark in marks:
                found.extend(_usefixtures_of(model, mark, model.module_scope))
    return tuple(found)


def _usefixtures_of(model: SemanticModel, mark: ast.expr, scope: object) -> list[str]:
    if not isinstance(mark, ast.Call) or decorator_name(model, mark, scope) != _USEFIXTURES:
        return []
    return [
        str(argument.value)
        for argument in mark.args
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str)
    ]


def runs_under_loop_fixture(
    model: SemanticModel,
    function: FunctionInfo,
    module_fixtures: Iterable[FixtureSummary],
    index: ProjectIndex | None,
) -> str | None:
    """The fixture whose loop is current while `function` (a sync pytest test or fixture of
    this module) runs, when it depends on one (an async fixture: pytest-asyncio's runner loop; a
    fixture that calls `set_event_loop`); None when it does not, or cannot be told."""
    fixtures = Fixtures(module_fixtures, conftest_chain(index, model.path))
    cls = function.cls.qualname if function.cls is not None else None
    requested = (*requested_names(function), *usefixtures_names(model, function))
    return fixtures.loop_dependency(requested, cls)
