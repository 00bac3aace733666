"""Sync mocks that end up where code awaits: the facts ATL401 and ATL402 share.

A "plain sync mock" is `Mock(...)`/`MagicMock(...)` without `spec`/`spec_set`/`wraps` (those give
AsyncMock children for async methods), without `side_effect` (a function may return an awaitable,
an exception raises before the `await`), and whose `return_value` (if any) is a literal: calling it
certainly returns something that cannot be awaited.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .model import CallSite, ClassInfo, FunctionInfo, Scope
from .names import SYNC_MOCKS
from .semantics import Semantics
from .summarize import attribute_chain
from .summary import ClassSummary, FunctionSummary

_MAX_DEPTH = 30

#: Keywords of Mock() that leave "calling it returns a non-awaitable" intact.
_HARMLESS_KEYWORDS = frozenset({"name", "unsafe"})

#: Attributes of a mock that only read its record or assert on it.
_INSPECTING_ATTRIBUTES = frozenset(
    {
        "called",
        "call_count",
        "call_args",
        "call_args_list",
        "mock_calls",
        "method_calls",
        "reset_mock",
    }
)


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


def init_parameters(
    semantics: Semantics, summary: ClassSummary
) -> tuple[tuple[str, str | None], ...] | None:
    """The `__init__` parameters of the class, from the first class along the bases defining it."""
    current: ClassSummary | None = summary
    for _ in range(_MAX_DEPTH):
        if current is None:
            return None
        if "__init__" in current.methods:
            return current.init_parameters
        bases = [base for base in current.bases if base != "builtins.object"]
        if not bases or bases[0] is None:
            return None
        current = semantics.find_class(bases[0])
    return None


def constructor_attribute(
    semantics: Semantics, call: ast.Call, scope: Scope, argument: ast.expr
) -> tuple[ClassSummary, str, str] | None:
    """(class, parameter, attribute) when `argument` of the constructor call `call` is stored in an
    attribute of the new object."""
    name = semantics.model.qualified_name(call.func, scope)
    summary = semantics.find_class(name) if name is not None else None
    if summary is None:
        return None
    parameters = init_parameters(semantics, summary)
    if parameters is None:
        return None
    for index, positional in enumerate(call.args):
        if isinstance(positional, ast.Starred):
            return None
        if positional is argument:
            if index >= len(parameters) or parameters[index][1] is None:
                return None
            return summary, parameters[index][0], parameters[index][1]  # type: ignore[return-value]
    for keyword in call.keywords:
        if keyword.value is argument and keyword.arg is not None:
            for parameter, attribute in parameters:
                if parameter == keyword.arg and attribute is not None:
                    return summary, parameter, attribute
    return None


def instance_of(
    semantics: Semantics, expr: ast.expr, function: FunctionInfo
) -> ClassSummary | None:
    """The project class of `expr` (`svc` after `svc = Service()`, or `self.svc`)."""
    probe = ast.Call(func=expr, args=[], keywords=[])
    site = CallSite(probe, function.scope, function, class_of_function(function), expr, False)
    return semantics.instance_class(expr, site)


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


@dataclass(frozen=True)
class MockUse:
    """A place a mock goes: an attribute of a project object, or a constructor parameter."""

    node: ast.expr  # the expression holding the mock there
    description: str  # "service.repo" / "UserService(repo=...)"
    cls: ClassSummary
    attribute: str
    #: the methods the test calls on the object that holds the mock.
    called: frozenset[str] = frozenset()


def receiver_chain(expr: ast.expr, function: FunctionInfo, semantics: Semantics) -> str | None:
    """The attribute name when `expr` is `self.<name>` in a method (or a function nested in one)."""
    receiver = semantics.receiver(function)
    if receiver is None:
        return None
    chain = attribute_chain(expr, receiver)
    return chain if chain is not None and "." not in chain else None


def class_of_function(function: FunctionInfo) -> ClassInfo | None:
    method = function.enclosing_method()
    return method.cls if method is not None else None


def awaited_via_methods(
    semantics: Semantics, cls: ClassSummary, methods: frozenset[str], attribute: str
) -> str | None:
    """A chain through `attribute` that calling `methods` of the class awaits (following the
    methods they call on `self`): `repo.get` when `name_of` awaits `self.repo.get(...)`.
    Names prefixed with "-" are methods the test replaced: not followed."""
    queue = [(name, 0) for name in sorted(methods) if not name.startswith("-")]
    seen = {name[1:] for name in methods if name.startswith("-")}  # replaced by the test
    while queue:
        name, depth = queue.pop()
        if name in seen or depth > _MAX_HELPER_DEPTH:
            continue
        seen.add(name)
        method = semantics.find_method(cls, name)
        if method is None:
            continue
        for chain in sorted(method.awaited_chains):
            if chain == attribute or chain.startswith(attribute + "."):
                return chain
        queue.extend((called, depth + 1) for called in method.self_calls)
    return None


_MAX_HELPER_DEPTH = 4


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
