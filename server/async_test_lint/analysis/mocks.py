"""Sync mocks that end up where code awaits: the facts ATL401 and ATL402 share.

A "plain sync mock" is `Mock(...)`/`MagicMock(...)` without `spec`/`spec_set`/`wraps` (those give
AsyncMock children for async methods), without `side_effect` (a function may return an awaitable,
an exception raises before the `await`), and whose `return_value` (if any) is a literal: calling it
certainly returns something that cannot be awaited.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from .flow import AENTER, CALL, ENTER, ITEM, Flow, Reached, Role, Steps, Use
from .model import FunctionInfo, Scope, SemanticModel
from .names import MAGIC_MOCK, MOCK, PATCH_OBJECT, SYNC_MOCKS
from .semantics import Semantics
from .summary import ClassSummary, FunctionSummary

_MAX_DEPTH = 30
PATCH_MULTIPLE = f"{PATCH_OBJECT.rpartition('.')[0]}.multiple"

#: Keywords of Mock() that leave "calling it returns a non-awaitable" intact.
_HARMLESS_KEYWORDS = frozenset({"name", "unsafe"})


def is_plain_value(expr: ast.expr) -> bool:
    """A literal: certainly not awaitable."""
    if isinstance(expr, (ast.Constant, ast.JoinedStr)):
        return True
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.operand, ast.Constant):
        return True
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return all(is_plain_value(element) for element in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(
            key is not None and is_plain_value(key) and is_plain_value(value)
            for key, value in zip(expr.keys, expr.values)
        )
    return False


def plain_sync_mock(semantics: Semantics, expr: ast.expr, scope: Scope) -> str | None:
    """`unittest.mock.Mock`/`MagicMock` when `expr` builds a plain sync mock (see module doc)."""
    if not isinstance(expr, ast.Call):
        return None
    factory = semantics.mock_factory(expr, scope)
    if factory not in SYNC_MOCKS:
        return None
    for keyword in expr.keywords:
        if keyword.arg == "return_value" and is_plain_value(keyword.value):
            continue
        if keyword.arg not in _HARMLESS_KEYWORDS:
            return None
    return factory


def short_name(qualified_name: str) -> str:
    return qualified_name.rpartition(".")[2]


def instance_of(
    semantics: Semantics, expr: ast.expr, function: FunctionInfo
) -> ClassSummary | None:
    """The project class of `expr` (`svc` after `svc = Service()`, or `self.svc`)."""
    flow = semantics.flow
    place = flow.place_of(expr, function.scope, function)
    classes = flow.instance_classes(place) if place is not None else None
    if not classes or len(set(classes)) != 1:
        return None
    return semantics.find_class(classes[0])


def async_callable(summary: FunctionSummary | None) -> bool:
    return summary is not None and summary.is_async and not summary.is_async_generator


def method_or_function(
    semantics: Semantics, qualified_name: str, attribute: str
) -> FunctionSummary | None:
    """`attribute` of the class or module `qualified_name` names (methods along the bases)."""
    cls = semantics.find_class(qualified_name)
    if cls is not None:
        return semantics.find_method(cls, attribute)
    return semantics.find_function(f"{qualified_name}.{attribute}")


def awaited_name_somewhere(semantics: Semantics, name: str) -> bool:
    """Whether this module or another module of the project awaits a call whose last name is
    `name` (`await self.fetch(...)`, `await client.fetch(...)`, `await fetch(...)`)."""
    model = semantics.model
    local = model.cache.get("awaited-call-names")
    if local is None:
        names: set[str] = set()
        for function in model.functions:
            for node in function.awaits:
                value = node.value.func if isinstance(node.value, ast.Call) else node.value
                if isinstance(value, ast.Attribute):
                    names.add(value.attr)
                elif isinstance(value, ast.Name):
                    names.add(value.id)
        local = model.cache["awaited-call-names"] = frozenset(names)
    if name in local:
        return True
    if semantics.index is None:
        return False
    for summary in semantics.index.summaries():
        if summary.path == model.path:
            continue
        functions = [*summary.functions.values()]
        functions += [m for cls in summary.classes.values() for m in cls.methods.values()]
        if any(name in function.awaited_names for function in functions):
            return True
    return False


# -- sync mocks followed through the value-flow layer ------------------------------------------

#: What an `await`-like use needs of a value, and the mock classes that lack it by default.
_PROTOCOL = {Role.AWAITED: "await", Role.ASYNC_WITH: "async with", Role.ASYNC_FOR: "async for"}
_LACKS = {
    Role.AWAITED: SYNC_MOCKS,
    Role.ASYNC_WITH: frozenset({MOCK}),  # MagicMock supports `async with` (3.8+)
    Role.ASYNC_FOR: frozenset({MOCK}),  # and `async for`
}
#: Calls on a mock that may make any part of it awaitable: the analysis stops there.
_RECONFIGURING = frozenset({"configure_mock", "attach_mock", "mock_add_spec", "reset_mock"})
_MAX_MOCK_DEPTH = 4


@dataclass(frozen=True)
class BrokenAwait:
    """A use that awaits (or `async with`/`async for`s) a value a sync mock gives, which cannot."""

    reached: Reached
    protocol: str  # "await", "async with", "async for"
    #: what is awaited: "a MagicMock", "the return_value {'id': 1}", ...
    awaited: str
    #: what to change to repair it: the mock factory expression (`Mock` -> `AsyncMock` or
    #: `MagicMock`), or the `def` of a sync `side_effect` function (-> `async def`).
    repair: ast.AST
    repair_kind: str  # "async-mock", "magic-mock", "async-def", "none" (no automatic fix)
    #: the test itself calls the mock on the way (`Service(factory())`): an `AsyncMock` there
    #: would hand a coroutine to that call, so changing the mock class is no repair.
    called_on_the_way: bool = False


def broken_awaits(semantics: Semantics, mock: ast.Call, scope: Scope) -> Iterator[BrokenAwait]:
    """Where the sync mock built by `mock` (or a value it returns) reaches an `await`,
    `async with` or `async for` that it cannot serve, following the value through locals,
    attributes, containers, arguments and returns in this module and others (analysis/flow.py).
    Silent where the mock may be configured in a way the analysis cannot read."""
    factory = semantics.mock_factory(mock, scope)
    if factory not in SYNC_MOCKS:
        return
    flow = semantics.flow
    start = flow.use_of(mock)
    if start is None:
        return
    reached = list(flow.reach(start))
    configured = _configurations(semantics, mock, reached)
    if configured is None:
        return
    for item in reached:
        role = item.use.role
        if role not in _PROTOCOL or not item.always:
            continue
        if not _runs(semantics, item):
            continue
        path = _normalise(item.steps)
        found = _breaks(semantics, factory, mock, role, path, configured)
        if found is not None:
            awaited, repair, kind = found
            on_the_way = _called_on_the_way(reached, path)
            yield BrokenAwait(item, _PROTOCOL[role], awaited, repair, kind, on_the_way)


def _called_on_the_way(reached: list[Reached], awaited: Steps) -> bool:
    """Whether a call of the mock that the awaited value is derived from is made without
    `await` (`factory()` before `await svc.place()` reaches `factory.return_value...`)."""
    for item in reached:
        if item.steps[-1:] != (CALL,) or item.use.role is Role.AWAITED:
            continue
        called = _normalise(item.steps)
        if len(called) < len(awaited) and awaited[: len(called)] == called:
            return True
    return False


def _normalise(steps: Steps) -> Steps:
    """Mock attribute names for flow steps: a call gives `return_value`, `async with` gives
    `__aenter__().return_value`, an item `__getitem__().return_value`."""
    names: list[str] = []
    for step in steps:
        if step == CALL:
            names.append("return_value")
        elif step == AENTER:
            names.extend(("__aenter__", "return_value"))
        elif step == ENTER:
            names.extend(("__enter__", "return_value"))
        elif step == ITEM:
            names.extend(("__getitem__", "return_value"))
        else:
            names.append(step)
    return tuple(names)


_Configured = dict[Steps, Optional[ast.expr]]


def _configurations(
    semantics: Semantics, mock: ast.Call, reached: list[Reached]
) -> _Configured | None:
    """The attributes of the mock set by the test (`m.get.return_value = {...}`, `m.get =
    AsyncMock()`, `Mock(return_value=...)`), by normalised path; None when it may be configured
    in a way that cannot be read (`configure_mock`, `patch.object(m, ...)`, a store in a file
    the analysis only has summaries of)."""
    configured: _Configured = {}
    for keyword in mock.keywords:
        if keyword.arg is None:
            return None
        if keyword.arg in ("return_value", "side_effect"):
            configured[(keyword.arg,)] = keyword.value
        elif keyword.arg not in _HARMLESS_KEYWORDS:
            return None  # spec, spec_set, wraps, ...: async methods become AsyncMock
    for item in reached:
        use = item.use
        if use.role is Role.CONFIGURED:
            if use.node is None:
                return None
            path = _normalise((*item.steps, *use.target_steps))
            configured[path] = _assigned_value(semantics.model, use.node)
        elif _RECONFIGURING.intersection(item.steps) or (
            use.role is Role.ARGUMENT and use.callee in (PATCH_OBJECT, PATCH_MULTIPLE)
        ):
            return None
    return configured


def _assigned_value(model: SemanticModel, target: ast.expr) -> ast.expr | None:
    parent = model.parent(target)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        return parent.value
    if isinstance(parent, ast.AnnAssign):
        return parent.value
    return None


def _breaks(
    semantics: Semantics,
    factory: str,
    mock: ast.Call,
    role: Role,
    path: Steps,
    configured: _Configured,
) -> tuple[str, ast.AST, str] | None:
    """(what is awaited, the expression to repair, how) when the value at `path` of the mock
    cannot serve `role`; None when it can or when that cannot be known."""
    name = short_name(factory)
    for length in range(len(path), -1, -1):
        prefix = path[:length]
        side_effect = _side_effect_for(path, length, configured)
        if side_effect is not None:
            return _side_effect_breaks(semantics, side_effect, mock, role)
        if prefix not in configured:
            continue
        value = configured[prefix]
        if value is None:
            return None
        if path[length:] or not is_plain_value(value):
            return None  # a mock set there is followed from where it is made
        what = f"the value {_short(semantics, value)} set as {_spell_path(prefix)}"
        if role is not Role.AWAITED:
            # no literal has `__aiter__`/`__aenter__`; the repair (an async iterator or context
            # manager configured on a MagicMock) is for the user to write.
            return what, mock.func, "none"
        if _async_child(factory, prefix[:-1]):
            return None  # an AsyncMock's return_value is what awaiting its call gives
        return what, mock.func, "async-mock"
    if _async_child(factory, path):
        return None
    if factory not in _LACKS[role]:
        return None
    if role is not Role.AWAITED:
        return f"a {name}", mock.func, "magic-mock"
    what = f"a {name}" if not path else f"its {_spell_path(path)} (a {name} too)"
    return what, mock.func, "async-mock"


def _async_child(factory: str, path: Steps) -> bool:
    """Whether the child of a mock at `path` is an `AsyncMock`: what `async with` on a
    `MagicMock` gives (`__aenter__` is an AsyncMock, and so are its children)."""
    return factory == MAGIC_MOCK and ("__aenter__" in path or "__aexit__" in path)


def _side_effect_for(path: Steps, length: int, configured: _Configured) -> ast.expr | None:
    """`m.get.side_effect` when `path` awaits what a call of `m.get` returns."""
    if length == 0 or path[length - 1] != "return_value":
        return None
    key = (*path[: length - 1], "side_effect")
    if key in configured and length == len(path):
        return configured[key] or _UNKNOWN
    return None


_UNKNOWN = ast.Constant(value=...)


def _side_effect_breaks(
    semantics: Semantics, side_effect: ast.expr, mock: ast.Call, role: Role
) -> tuple[str, ast.AST, str] | None:
    """A `side_effect` decides what the call returns: a list of literals or a sync function
    returning values gives values that cannot be awaited."""
    if side_effect is _UNKNOWN or role is not Role.AWAITED:
        return None
    if isinstance(side_effect, (ast.List, ast.Tuple)) and side_effect.elts:
        if all(is_plain_value(element) for element in side_effect.elts):
            return (
                f"the values of side_effect={_short(semantics, side_effect)}",
                mock.func,
                "async-mock",
            )
        return None
    if isinstance(side_effect, ast.Name):
        model = semantics.model
        where = _function_of(model, side_effect)
        scope = where.scope if where is not None else model.module_scope
        binding = model.resolve_binding(side_effect.id, scope)
        function = binding.function if binding is not None else None
        if (
            function is not None
            and not function.is_async
            and not function.yields
            and _returns_plain(function)
        ):
            return (
                f"what the sync side_effect {function.name}() returns",
                function.node,
                "async-def",
            )
    return None


def _returns_plain(function: FunctionInfo) -> bool:
    """Every `return` of the function gives a value that certainly cannot be awaited."""
    returns = [node for node in ast.walk(function.node) if isinstance(node, ast.Return)]
    return bool(returns) and all(
        node.value is None or isinstance(node.value, _NOT_AWAITABLE) for node in returns
    )


#: Expressions whose value is never awaitable: literals, displays, comprehensions, comparisons.
_NOT_AWAITABLE = (
    ast.Constant,
    ast.JoinedStr,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.Compare,
)


def _function_of(model: SemanticModel, node: ast.AST) -> FunctionInfo | None:
    current = model.parent(node)
    while current is not None:
        function = model.function_of(current)
        if function is not None:
            return function
        current = model.parent(current)
    return None


def _runs(semantics: Semantics, item: Reached) -> bool:
    """Whether the test reaches the code of the use: a use in a method of a class the mock was
    stored on runs only when the test calls that method (or a method calling it on `self`),
    and has not replaced it."""
    flow = semantics.flow
    for index, transfer in enumerate(item.path):
        for place, _under in flow.transfer_targets(transfer):
            if place.kind != "attr" or not item.use.where.startswith(place.owner + "."):
                continue
            if _is_test_class(semantics, place.owner):
                return True
            holder = _holder(flow, item.path[: index + 1])
            if holder is None:
                return False
            called, replaced = holder
            return _method_reached(semantics, place.owner, called, replaced, item.use.method)
    return True


def _is_test_class(semantics: Semantics, class_key: str) -> bool:
    for cls in semantics.model.classes:
        if semantics.flow.class_key(cls) == class_key:
            return semantics.kind(cls).is_unittest
    return False


def _holder(flow: Flow, path: tuple[Use, ...]) -> tuple[frozenset[str], frozenset[str]] | None:
    """(methods called on, methods replaced on) the object whose attribute the value entered
    through the last transfer of `path`."""
    last = path[-1]
    if last.role is Role.STORED and last.target is not None and last.target_steps:
        # `svc.repo = value`: the object is what `svc` holds
        uses = [Reached(u, u.steps, (), u.always) for u in flow.uses(last.target)]
    elif last.role is Role.ARGUMENT and last.call is not None:
        uses = flow.reach_value(last.call)
    elif len(path) >= 2 and path[-2].role is Role.ARGUMENT and path[-2].call is not None:
        return _holder(flow, path[:-1])
    else:
        return None
    called: set[str] = set()
    replaced: set[str] = set()
    for item in uses:
        steps = item.steps
        if len(steps) >= 2 and steps[1] == CALL:
            called.add(steps[0])
        if item.use.role is Role.CONFIGURED and not steps and item.use.target_steps:
            replaced.add(item.use.target_steps[0])
    return frozenset(called), frozenset(replaced)


def _method_reached(
    semantics: Semantics,
    class_key: str,
    called: frozenset[str],
    replaced: frozenset[str],
    target: str,
) -> bool:
    summary = semantics.find_class(class_key)
    if summary is None:
        return False
    queue = [name for name in called if name not in replaced]
    seen: set[str] = set(replaced)
    while queue:
        name = queue.pop()
        if name in seen:
            continue
        seen.add(name)
        if name == target:
            return True
        method = semantics.find_method(summary, name)
        if method is not None:
            queue.extend(method.self_calls)
    return False


def _short(semantics: Semantics, node: ast.expr) -> str:
    text = semantics.model.source_of(node)
    return text if len(text) <= 40 and "\n" not in text else text.splitlines()[0][:37] + "..."


def _spell_path(path: Steps) -> str:
    return ".".join(path)
