"""analysis/lifetimes.py: is the value a call makes released, leaked, or out of sight?"""

from __future__ import annotations

import ast

import pytest
from async_test_lint.analysis.lifetimes import fate
from async_test_lint.analysis.model import SemanticModel
from async_test_lint.analysis.semantics import Semantics
from async_test_lint.parsing import ParsedSource, parse_python


def _fate(code: str) -> tuple[bool, bool, tuple[str, ...], tuple[str, ...]]:
    """(released, escapes, holder names, kept_by) of the first `make()` call of `code`."""
    parsed = parse_python(code)
    assert isinstance(parsed, ParsedSource)
    model = SemanticModel(parsed, "m", "m.py")
    semantics = Semantics(model)
    call = next(
        node
        for node in ast.walk(model.tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "make"
    )
    found = fate(semantics.flow, call, keepers=("m.keep",))
    assert found is not None
    holders = tuple(place.name for place in found.holders)
    return found.released, found.escapes is not None, holders, found.kept_by


HEADER = "def make(): pass\ndef keep(x): pass\n"

CASES = [
    ("def f():\n    x = make()\n    x.run()\n", (False, False, ("x",), ())),
    (
        "def f():\n    x = make()\n    try:\n        pass\n    finally:\n        x.close()\n",
        (True, False, ("x",), ()),
    ),
    ("def f(t):\n    x = make()\n    t.addCleanup(x.close)\n", (True, False, ("x",), ())),
    ("def f():\n    make().run()\n", (False, False, (), ())),
    ("def f():\n    make().close()\n", (True, False, (), ())),
    ("def f():\n    return make()\n", (False, True, (), ())),
    ("def f():\n    yield make()\n", (False, True, (), ())),
    ("def f(lib):\n    lib.Session(loop=make())\n", (False, True, (), ())),
    ("def f():\n    items = [make()]\n", (False, True, ("items",), ())),
    ("G = None\ndef f():\n    global G\n    G = make()\n", (False, True, ("G",), ())),
    ("def f():\n    keep(make())\n", (False, False, (), ("m.keep",))),
    (
        "class C:\n    def __init__(self, loop):\n        self.loop = loop\n"
        "    def close(self):\n        self.loop.close()\n"
        "def f():\n    C(make())\n",
        (True, False, ("loop",), ()),
    ),
    (
        "class C:\n    def __init__(self, loop):\n        self.loop = loop\n"
        "def f():\n    x = make()\n    C(x)\n",
        (False, False, ("x", "loop"), ()),
    ),
    (
        "from lib import Base\nclass T(Base):\n    def setUp(self):\n        self.loop = make()\n",
        (False, True, ("loop",), ()),  # Base may close self.loop
    ),
    (
        "import unittest\nclass T(unittest.TestCase):\n    def setUp(self):\n"
        "        self.loop = make()\n    def tearDown(self):\n        self.loop.close()\n",
        (True, False, ("loop",), ()),
    ),
]


@pytest.mark.parametrize(("code", "expected"), CASES)
def test_fate(code: str, expected: tuple[bool, bool, tuple[str, ...], tuple[str, ...]]) -> None:
    assert _fate(HEADER + code) == expected
