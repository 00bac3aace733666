"""analysis/paths.py: the flag guards of a node, and what a caller's arguments decide of them."""

from __future__ import annotations

import ast

import pytest
from async_test_lint.analysis.model import FunctionInfo, SemanticModel
from async_test_lint.analysis.paths import (
    EQUAL,
    FALSY,
    NOT_EQUAL,
    TRUTHY,
    Guard,
    bound_arguments,
    constant_defaults,
    decide,
    decide_any,
    guards,
    holds,
)
from async_test_lint.parsing import ParsedSource, parse_python


def _function_and_target(code: str) -> tuple[SemanticModel, FunctionInfo, ast.Call]:
    """The model, the function named `f` (or the method `C.f`), and its call of `target()`."""
    parsed = parse_python(code)
    assert isinstance(parsed, ParsedSource)
    model = SemanticModel(parsed, "m", "m.py")
    function = next(f for f in model.functions if f.name == "f")
    call = next(
        c.node
        for c in function.calls
        if isinstance(c.node.func, (ast.Name, ast.Attribute))
        and getattr(c.node.func, "id", getattr(c.node.func, "attr", None)) == "target"
    )
    return model, function, call


GUARD_CASES = [
    ("def f(x):\n    target()\n", ()),
    (
        "def f(sync=True):\n    if not sync:\n        return 1\n    target()\n",
        (("param", "sync", TRUTHY, None),),
    ),
    ("def f(sync):\n    if sync:\n        target()\n", (("param", "sync", TRUTHY, None),)),
    (
        "def f(sync):\n    if sync:\n        pass\n    else:\n        target()\n",
        (("param", "sync", FALSY, None),),
    ),
    (
        "class C:\n    def f(self):\n        if self.run_async:\n"
        "            return 0\n        return target()\n",
        (("attr", "run_async", FALSY, None),),
    ),
    (
        "def f(mode):\n    if mode == 'a':\n        raise ValueError\n    target()\n",
        (("param", "mode", NOT_EQUAL, "a"),),
    ),
    ("def f(loop):\n    if loop is None:\n        target()\n", (("param", "loop", EQUAL, None),)),
    (
        "def f(a, b):\n    if a and b:\n        target()\n",
        (("param", "a", TRUTHY, None), ("param", "b", TRUTHY, None)),
    ),
    ("def f(a, b):\n    if a or b:\n        target()\n", ()),
    (
        "def f(a, b):\n    if a or b:\n        return\n    target()\n",
        (("param", "a", FALSY, None), ("param", "b", FALSY, None)),
    ),
    ("def f(a):\n    return 0 if a else target()\n", (("param", "a", FALSY, None),)),
    ("def f(a):\n    return a and target()\n", (("param", "a", TRUTHY, None),)),
    ("def f(a):\n    a = 1\n    if a:\n        target()\n", ()),
    ("def f(n):\n    if n > 3:\n        return\n    target()\n", ()),
    ("def f(a):\n    if a:\n        print(1)\n    target()\n", ()),
    (
        "def f(a, b):\n    if a:\n        return\n    for x in b:\n"
        "        if not x:\n            continue\n        target()\n",
        (("param", "a", FALSY, None),),
    ),
]


@pytest.mark.parametrize(("code", "expected"), GUARD_CASES)
def test_guards(code: str, expected: tuple[Guard, ...]) -> None:
    model, function, call = _function_and_target(code)
    assert guards(model, call, function) == expected


@pytest.mark.parametrize(
    ("guard", "value", "expected"),
    [
        (("param", "x", TRUTHY, None), 1, True),
        (("param", "x", FALSY, None), 1, False),
        (("param", "x", EQUAL, None), None, True),
        (("param", "x", EQUAL, True), 1, False),  # `x is True` with 1
        (("param", "x", NOT_EQUAL, "a"), "b", True),
        (("param", "x", EQUAL, 0), 0, True),
    ],
)
def test_holds(guard: Guard, value: object, expected: bool) -> None:
    assert holds(guard, value) is expected


def test_decide_false_beats_unknown_and_unknown_beats_true() -> None:
    known = {"a": (True,), "b": None}

    def lookup(kind: str, name: str) -> tuple[object] | None:
        return known.get(name)

    assert decide([("param", "a", TRUTHY, None)], lookup) is True
    assert decide([("param", "b", TRUTHY, None)], lookup) is None
    assert decide([("param", "b", TRUTHY, None), ("param", "a", FALSY, None)], lookup) is False
    assert (
        decide_any([[("param", "a", FALSY, None)], [("param", "b", TRUTHY, None)]], lookup) is None
    )
    assert decide_any([[("param", "a", FALSY, None)], []], lookup) is True
    assert decide_any([[("param", "a", FALSY, None)]], lookup) is False


def _call(text: str) -> ast.Call:
    node = ast.parse(text, mode="eval").body
    assert isinstance(node, ast.Call)
    return node


@pytest.mark.parametrize(
    ("call", "skip_first", "expected"),
    [
        ("run(c)", False, {"coro": None, "sync": (True,), "n": (0,)}),
        ("run(c, False)", False, {"coro": None, "sync": (False,), "n": (0,)}),
        ("run(c, sync=flag)", False, {"coro": None, "sync": None, "n": (0,)}),
        ("run(c, n=-2)", False, {"coro": None, "sync": (True,), "n": (-2,)}),
        ("run(*args)", False, {"coro": None, "sync": None, "n": None}),
        ("run(c, **options)", False, {"coro": None, "sync": None, "n": None}),
        ("obj.run(True)", True, {"sync": (True,), "n": (0,)}),
    ],
)
def test_bound_arguments(call: str, skip_first: bool, expected: dict[str, object]) -> None:
    definition = ast.parse("def run(coro, sync=True, *, n=0): pass").body[0]
    assert isinstance(definition, ast.FunctionDef)
    defaults = dict(constant_defaults(definition))
    parameters = ["self", "sync", "n"] if skip_first else ["coro", "sync", "n"]
    assert bound_arguments(_call(call), parameters, defaults, skip_first=skip_first) == expected
