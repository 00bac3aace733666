"""How a module's tests get their event loop: the loop-management styles (ATL211, the index).

Four styles are told apart, each counted once per test:

- ``isolated``: a test of an ``unittest.IsolatedAsyncioTestCase`` (the runner owns one loop per
  test);
- ``manual-loop``: a sync test of a plain ``unittest.TestCase`` that drives a loop itself
  (``asyncio.run``, ``loop.run_until_complete``), directly or through a helper method of its class
  (a sync test of an ``IsolatedAsyncioTestCase`` doing so works and counts as ``isolated``);
- ``pytest-asyncio``: a pytest test marked ``pytest.mark.asyncio`` (on the function, its class or
  ``pytestmark``); an unmarked ``async def`` test counts for no style (its plugin is configured
  elsewhere);
- ``anyio``: a pytest test marked ``pytest.mark.anyio`` or requesting ``anyio_backend``.

The index counts them with local-only class resolution (a summary is made without the index); a
rule that needs the exact picture of the file it lints passes its own class-kind function.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable, Optional

from .model import ClassInfo, FunctionInfo, Scope, SemanticModel, has_custom_runner
from .names import ISOLATED_TESTCASE, NEUTRAL_BASES, RUN, TESTCASE

ISOLATED = "isolated"
MANUAL_LOOP = "manual-loop"
PYTEST_ASYNCIO = "pytest-asyncio"
ANYIO = "anyio"
#: Tie-break order when two styles are equally common.
STYLE_ORDER = (ISOLATED, PYTEST_ASYNCIO, ANYIO, MANUAL_LOOP)

ASYNCIO_MARK = "pytest.mark.asyncio"
ANYIO_MARK = "pytest.mark.anyio"
TRIO_MARK = "pytest.mark.trio"

#: What a class-kind function answers: "isolated", "plain", "pytest" or None (not a test / unknown).
KindOf = Callable[[ClassInfo], Optional[str]]


@dataclass(frozen=True)
class StyleUse:
    """One test using one style, and the node that shows it (a mark, a call, a base, a def)."""

    style: str
    test: FunctionInfo
    node: ast.AST
    detail: str


def mark_name(model: SemanticModel, expr: ast.expr, scope: Scope) -> str | None:
    """The qualified name of a pytest mark expression, `@m` and `@m(...)` alike."""
    target = expr.func if isinstance(expr, ast.Call) else expr
    return model.qualified_name(target, scope)


def pytestmark_values(value: ast.AST | None) -> list[ast.expr]:
    """The mark expressions of a `pytestmark = ...` value (one mark, a list or a tuple)."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return list(value.elts)
    return [value] if isinstance(value, ast.expr) else []


def module_pytestmarks(model: SemanticModel) -> list[ast.expr]:
    bindings = model.module_scope.bindings.get("pytestmark") or []
    marks: list[ast.expr] = []
    for binding in bindings:
        if binding.kind == "assign":
            marks.extend(pytestmark_values(binding.node))
    return marks


def class_pytestmarks(cls: ClassInfo) -> list[ast.expr]:
    return pytestmark_values(cls.attributes.get("pytestmark"))


def local_kind(model: SemanticModel, cls: ClassInfo, depth: int = 0) -> str | None:
    """The class kind from this module alone: bases in other modules are unknown (None)."""
    if depth > 20 or has_custom_runner(model, cls):
        return None
    kinds: list[str] = []
    for base in cls.node.bases:
        expr = base.value if isinstance(base, ast.Subscript) else base
        name = model.qualified_name(expr, cls.parent_scope)
        if name == ISOLATED_TESTCASE:
            kinds.append("isolated")
        elif name == TESTCASE:
            kinds.append("plain")
        elif name in NEUTRAL_BASES:
            continue
        elif name is not None and name.startswith(f"{model.module_name}."):
            binding = model.resolve_binding(name[len(model.module_name) + 1 :], model.module_scope)
            if binding is None or binding.cls is None:
                return None
            kind = local_kind(model, binding.cls, depth + 1)
            if kind in (None, "pytest"):
                return None
            kinds.append(kind)
        else:
            return None
    if "isolated" in kinds:
        return "isolated"
    if "plain" in kinds:
        return "plain"
    if not kinds and cls.name.startswith("Test"):
        return "pytest"
    return None


def style_uses(model: SemanticModel, kind_of: KindOf) -> Iterator[StyleUse]:
    """Every test's style, in source order."""
    module_marks = _named_marks(model, module_pytestmarks(model), model.module_scope)
    tests = [
        function
        for function in model.functions
        if function.parent is None and function.name.startswith("test")
    ]
    tests.sort(key=lambda function: (function.node.lineno, function.node.col_offset))
    kinds: dict[int, str | None] = {}
    for function in tests:
        cls = function.cls
        if cls is None:
            if function.parent_scope is not model.module_scope:
                continue
            use = _pytest_use(model, function, [], module_marks)
        else:
            if id(cls.node) not in kinds:
                kinds[id(cls.node)] = kind_of(cls)
            kind = kinds[id(cls.node)]
            if kind in ("isolated", "plain"):
                use = _unittest_use(model, function, cls, kind == "isolated")
            elif kind == "pytest":
                class_marks = _named_marks(model, class_pytestmarks(cls), cls.parent_scope)
                class_marks += [
                    (decorator, name)
                    for decorator, name in _named_marks(
                        model, cls.node.decorator_list, cls.parent_scope
                    )
                ]
                use = _pytest_use(model, function, class_marks, module_marks)
            else:
                use = None
        if use is not None:
            yield use


def module_styles(model: SemanticModel) -> dict[str, int]:
    """Tests per style in this module, with classes resolved locally (for the index).

    A class whose one non-neutral base is defined in another module cannot be classified without
    the index; its tests are recorded under deferred keys (`pending_key`) that a reader with the
    index resolves with `resolve_pending`.
    """
    counts = Counter(use.style for use in style_uses(model, lambda cls: local_kind(model, cls)))
    for cls in model.classes:
        base = _foreign_base(model, cls)
        if base is None:
            continue
        tests = [method for name, method in cls.methods.items() if name.startswith("test")]
        if tests:
            counts[pending_key(base, ISOLATED)] += len(tests)
        driving = sum(
            1
            for method in tests
            if not method.is_async and _driving_call(model, method, cls) is not None
        )
        if driving:
            counts[pending_key(base, MANUAL_LOOP)] += driving
    return dict(counts)


PENDING_PREFIX = "?"


def pending_key(base: str, style: str) -> str:
    """`?<style>:<base>`: tests counting as `style` when `base` turns out to be the right kind."""
    return f"{PENDING_PREFIX}{style}:{base}"


def resolve_pending(
    counts: Counter[str], kind_of_name: Callable[[str], str | None]
) -> Counter[str]:
    """Fold deferred keys into styles: `isolated` ones when the base is an IsolatedAsyncioTestCase,
    `manual-loop` ones when it is a plain TestCase; everything else is dropped."""
    resolved: Counter[str] = Counter()
    kinds: dict[str, str | None] = {}
    for key, count in counts.items():
        if not key.startswith(PENDING_PREFIX):
            resolved[key] += count
            continue
        style, _, base = key[len(PENDING_PREFIX) :].partition(":")
        if base not in kinds:
            kinds[base] = kind_of_name(base)
        kind = kinds[base]
        if (style == ISOLATED and kind == "isolated") or (style == MANUAL_LOOP and kind == "plain"):
            resolved[style] += count
    return resolved


def _foreign_base(model: SemanticModel, cls: ClassInfo) -> str | None:
    """The one base imported from another module, when every other base is neutral."""
    if cls.parent_scope is not model.module_scope:
        return None
    foreign: list[str] = []
    for base in cls.node.bases:
        expr = base.value if isinstance(base, ast.Subscript) else base
        name = model.qualified_name(expr, cls.parent_scope)
        if name is None:
            return None
        if name in NEUTRAL_BASES:
            continue
        if name in (ISOLATED_TESTCASE, TESTCASE) or name.startswith(f"{model.module_name}."):
            return None
        foreign.append(name)
    if len(foreign) != 1 or has_custom_runner(model, cls):
        return None
    return foreign[0]


def _named_marks(
    model: SemanticModel, exprs: list[ast.expr], scope: Scope
) -> list[tuple[ast.expr, str]]:
    named = []
    for expr in exprs:
        name = mark_name(model, expr, scope)
        if name is not None:
            named.append((expr, name))
    return named


def _pytest_use(
    model: SemanticModel,
    function: FunctionInfo,
    class_marks: list[tuple[ast.expr, str]],
    module_marks: list[tuple[ast.expr, str]],
) -> StyleUse | None:
    own = _named_marks(model, function.node.decorator_list, function.parent_scope)
    every = [*own, *class_marks, *module_marks]
    names = {name for _, name in every}
    parameters = {argument.arg for argument in function.node.args.args}
    if ANYIO_MARK in names or "anyio_backend" in parameters:
        node = next((expr for expr, name in every if name == ANYIO_MARK), function.node)
        return StyleUse(ANYIO, function, node, f"{function.name} runs under anyio")
    if TRIO_MARK in names:
        return None
    if ASYNCIO_MARK in names:
        node = next(expr for expr, name in every if name == ASYNCIO_MARK)
        return StyleUse(PYTEST_ASYNCIO, function, node, f"{function.name} is marked asyncio")
    # An unmarked `async def` test is run by whichever plugin the project configured (pytest-asyncio
    # in auto mode, anyio, aiohttp's or aiomisc's plugin...): the file alone cannot tell which, so
    # it counts for no style. Found on real suites: aiohttp's and anyio's own tests.
    return None


def loop_call(model: SemanticModel, function: FunctionInfo) -> ast.Call | None:
    """The first `asyncio.run(...)` / `....run_until_complete(...)` the function itself makes."""
    for call in function.calls:
        if call.scope is not function.scope:
            continue
        func = call.node.func
        if isinstance(func, ast.Attribute) and func.attr == "run_until_complete":
            return call.node
        if model.callee_name(call) == RUN:
            return call.node
    return None


def _unittest_use(
    model: SemanticModel, function: FunctionInfo, cls: ClassInfo, isolated: bool
) -> StyleUse | None:
    # A sync test of an IsolatedAsyncioTestCase may run its own loop (no loop runs during it,
    # SPEC T1): it is counted with its class, not as a style of its own.
    if not function.is_async and not isolated:
        driver = _driving_call(model, function, cls)
        if driver is not None:
            node, how = driver
            return StyleUse(MANUAL_LOOP, function, node, f"{how} in {function.name} of {cls.name}")
    if isolated:
        base: ast.AST = cls.node.bases[0] if cls.node.bases else cls.node
        return StyleUse(ISOLATED, function, base, f"{cls.name} is an IsolatedAsyncioTestCase")
    return None


def _driving_call(
    model: SemanticModel, function: FunctionInfo, cls: ClassInfo
) -> tuple[ast.Call, str] | None:
    own = loop_call(model, function)
    if own is not None:
        return own, _describe(model, own, function.scope)
    arguments = [*function.node.args.posonlyargs, *function.node.args.args]
    if not arguments:
        return None
    receiver = arguments[0].arg
    for call in function.calls:
        func = call.node.func
        if (
            call.scope is function.scope
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == receiver
        ):
            helper = cls.methods.get(func.attr)
            if helper is not None and not helper.is_async:
                inner = loop_call(model, helper)
                if inner is not None:
                    return (
                        call.node,
                        f"{_describe(model, inner, helper.scope)} via self.{func.attr}()",
                    )
    return None


def _describe(model: SemanticModel, call: ast.Call, scope: Scope) -> str:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "run_until_complete":
        return "run_until_complete()"
    return "asyncio.run()"
