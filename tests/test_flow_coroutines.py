"""The flow queries ATL301-303 rely on: where the coroutine a call makes goes (`use_of` + `reach`,
judged by `analysis/coroutines.py`), which calls make one, which callables make one, and which
modules are test utilities. Table-driven: a snippet, the call under test, the answer."""

from __future__ import annotations

import ast

import pytest
from async_test_lint.analysis.coroutines import (
    async_callable,
    creates_awaitable,
    is_test_support_module,
    lost_coroutine,
)
from async_test_lint.analysis.flow import ITEM, Role
from async_test_lint.analysis.index import ProjectIndex, module_name_for
from async_test_lint.analysis.model import CallSite, SemanticModel
from async_test_lint.analysis.semantics import Semantics
from async_test_lint.engine import index_sources
from async_test_lint.model import DEFAULT_TARGET, Settings
from async_test_lint.parsing import ParsedSource, parse_python

HEADER = """\
import asyncio
import unittest
from unittest import mock


async def fetch(n=0):
    return n


"""


def _semantics(
    code: str, path: str = "tests/test_m.py", files: dict[str, str] | None = None
) -> Semantics:
    parsed = parse_python(code)
    assert isinstance(parsed, ParsedSource)
    model = SemanticModel(parsed, module_name_for(path), path)
    index: ProjectIndex | None = None
    if files is not None:
        index = index_sources(dict(files), Settings(target_version=DEFAULT_TARGET))
    return Semantics(model, index)


def _call(semantics: Semantics, line: int) -> CallSite:
    """The call of `fetch` on `line` (1-based, counted in the snippet after HEADER), else the
    outermost call there."""
    line += HEADER.count("\n")
    sites = [site for site in semantics.model.calls if site.node.lineno == line]
    assert sites, f"no call on line {line}"
    named = [site for site in sites if getattr(site.node.func, "id", None) == "fetch"]
    return (named or sorted(sites, key=lambda site: site.node.col_offset))[0]


LOST_CASES = [
    # (snippet, line of the call, how it is lost or None)
    ("async def test():\n    fetch()\n", 2, "discarded"),
    ("async def test():\n    await fetch()\n", 2, None),
    ("async def test():\n    x = fetch()\n    assert x\n", 2, "stored in `x`, only inspected"),
    ("async def test():\n    x = fetch()\n    await x\n", 2, None),
    ("async def test():\n    x = fetch()\n", 2, "stored in `x`, never used"),
    ("async def test():\n    if fetch():\n        pass\n", 2, "tested for truth"),
    ("async def test():\n    assert fetch() or True\n", 2, "asserted on"),
    ("async def test():\n    return fetch()\n", 2, None),
    ("async def test():\n    asyncio.create_task(fetch())\n", 2, None),
    ("async def test():\n    asyncio.gather(fetch())\n", 2, None),
    ("async def test():\n    await asyncio.wait_for(fetch(), 1)\n", 2, None),
    ("async def test(loop):\n    loop.run_until_complete(fetch())\n", 2, None),
    ("async def test():\n    len(fetch())\n", 2, "passed to len()"),
    ("async def test():\n    for x in fetch():\n        pass\n", 2, "iterated"),
    ("async def test():\n    unknown(fetch())\n", 2, None),
    ("async def test():\n    c = fetch()\n    c.close()\n", 2, None),
    (
        "async def test():\n    cs = [fetch(i) for i in range(2)]\n    assert len(cs) == 2\n",
        2,
        "stored in `cs`, never awaited",
    ),
    (
        "async def test():\n    cs = [fetch(i) for i in range(2)]\n    await asyncio.gather(*cs)\n",
        2,
        None,
    ),
    (
        "async def test():\n    cs = [fetch(i) for i in range(2)]\n    for c in cs:\n"
        "        await c\n",
        2,
        None,
    ),
    ("async def test():\n    cs = [fetch(i) for i in range(2)]\n    return cs\n", 2, None),
    ("async def test():\n    cs = [fetch(i) for i in range(2)]\n    use(list(cs))\n", 2, None),
    (
        "def drop(c):\n    c\n\nasync def test():\n    drop(fetch())\n",
        5,
        "passed to drop(), which discards it",
    ),
    ("def keep(c):\n    return c\n\nasync def test():\n    keep(fetch())\n", 5, None),
    (
        "class T(unittest.IsolatedAsyncioTestCase):\n    async def test(self):\n"
        "        self.assertIsInstance(fetch(), int)\n",
        3,
        "passed to self.assertIsInstance()",
    ),
    (
        "class T(unittest.IsolatedAsyncioTestCase):\n    async def test(self):\n"
        "        self.assertRaises(TypeError, fetch())\n",
        3,
        None,
    ),
    (
        "class T(unittest.IsolatedAsyncioTestCase):\n    def setUp(self):\n"
        "        self.p = fetch()\n    async def test(self):\n        self.assertTrue(self.p)\n",
        3,
        "stored in `self.p`, then passed to self.assertTrue()",
    ),
    (
        "class T(unittest.IsolatedAsyncioTestCase):\n    def setUp(self):\n"
        "        self.p = fetch()\n    async def test(self):\n        await self.p\n",
        3,
        None,
    ),
    (
        "class T(unittest.IsolatedAsyncioTestCase):\n    async def test(self):\n"
        "        self.addAsyncCleanup(fetch())\n",
        3,
        None,
    ),
    (
        "async def test(m):\n    m.assert_called_with(fetch())\n",
        2,
        "passed to m.assert_called_with()",
    ),
]


@pytest.mark.parametrize(("snippet", "line", "expected"), LOST_CASES)
def test_where_a_coroutine_goes(snippet: str, line: int, expected: str | None) -> None:
    semantics = _semantics(HEADER + snippet)
    site = _call(semantics, line)
    assert creates_awaitable(semantics.model, semantics, site)
    assert lost_coroutine(semantics.model, semantics, site.node) == expected


def test_the_flow_layer_gives_what_the_judgement_needs() -> None:
    """The facts of flow.py the coroutine queries rely on (roles, container steps, *args)."""
    code = HEADER + (
        "async def test():\n"
        "    cs = [fetch(i) for i in range(2)]\n"
        "    await asyncio.gather(*cs)\n"
        "    fetch()\n"
    )
    semantics = _semantics(code)
    flow = semantics.flow
    element = flow.use_of(_call(semantics, 2).node)
    assert element is not None and element.role is Role.STORED
    assert element.target is not None and element.target_steps == (ITEM,)
    # `*cs` is a use of the whole container (steps shorter than the element's), unpacked into
    # gather: recorded as an argument (or OTHER in older layers) whose parent is the Starred.
    whole = [use for use in flow.uses(element.target) if use.steps == ()]
    assert len(whole) == 1 and whole[0].role in (Role.ARGUMENT, Role.OTHER)
    assert whole[0].node is not None
    assert isinstance(semantics.model.parent(whole[0].node), ast.Starred)
    discarded = flow.use_of(_call(semantics, 4).node)
    assert discarded is not None and discarded.role is Role.DISCARDED
    assert [reached.use for reached in flow.reach(discarded)] == [discarded]


CREATES_CASES = [
    ("def test():\n    fetch()\n", 2, True),
    ("def make():\n    c = fetch()\n    return c\n\ndef test():\n    make()\n", 6, True),
    ("def make():\n    return 1\n\ndef test():\n    make()\n", 5, False),
    ("def test():\n    asyncio.gather()\n", 2, True),
    ("def test():\n    asyncio.ensure_future(fetch())\n", 2, False),
    ("def test():\n    m = mock.AsyncMock()\n    m()\n", 3, True),
    ("def test():\n    m = mock.MagicMock()\n    m()\n", 3, False),
]


@pytest.mark.parametrize(("snippet", "line", "expected"), CREATES_CASES)
def test_which_calls_make_an_awaitable(snippet: str, line: int, expected: bool) -> None:
    semantics = _semantics(HEADER + snippet)
    sites = [s for s in semantics.model.calls if s.node.lineno == line + HEADER.count("\n")]
    site = min(sites, key=lambda s: s.node.col_offset)
    assert creates_awaitable(semantics.model, semantics, site) is expected


CROSS_FILE = {
    "app/__init__.py": "",
    "app/store.py": (
        "class Store:\n    async def _load(self):\n        return 1\n\n"
        "    def load(self):\n        return self._load()\n"
    ),
    "app/helpers.py": "async def refresh():\n    return 1\n\ndef start():\n    return refresh()\n",
}


@pytest.mark.parametrize(
    ("snippet", "line"),
    [
        ("from app.store import Store\n\ndef test():\n    s = Store()\n    s.load()\n", 5),
        ("from app.helpers import start\n\ndef test():\n    start()\n", 4),
    ],
)
def test_sync_helpers_of_other_modules_that_return_a_coroutine(snippet: str, line: int) -> None:
    semantics = _semantics(snippet, files=CROSS_FILE)
    sites = [s for s in semantics.model.calls if s.node.lineno == line]
    site = min(sites, key=lambda s: s.node.col_offset)
    assert creates_awaitable(semantics.model, semantics, site)


@pytest.mark.parametrize(
    ("snippet", "files"),
    [
        (
            "class Local:\n    async def place(self):\n        return 1\n\n"
            "def test():\n    Local().place()\n",
            None,
        ),
        ("from app.store import Store\n\ndef test():\n    Store()._load()\n", CROSS_FILE),
        ("from app.store import Store\n\ndef test():\n    Store().load()\n", CROSS_FILE),
    ],
)
def test_a_method_called_on_a_new_instance(snippet: str, files: dict[str, str] | None) -> None:
    """`Cls().method()`: the receiver's class is the constructed one, here or in another file."""
    semantics = _semantics(snippet, files=files)
    [site] = [s for s in semantics.model.calls if isinstance(s.node.func, ast.Attribute)]
    assert creates_awaitable(semantics.model, semantics, site)


CALLABLE_CASES = [
    ("functools.partial(fetch, 1)", "fetch", 1),
    ("partial(fetch)", "fetch", 0),
    ("bound", "fetch", 1),
    ("lambda: fetch(2)", "fetch", 0),
    ("fetch", "fetch", 0),
    ("functools.partial(len, [])", None, 0),
    ("lambda x: fetch(x)", None, 0),
]


@pytest.mark.parametrize(("expr", "func", "bound"), CALLABLE_CASES)
def test_which_callables_make_a_coroutine(expr: str, func: str | None, bound: int) -> None:
    code = (
        HEADER + "import functools\nfrom functools import partial\n\n"
        "def test():\n    bound = partial(fetch, 1)\n    use(" + expr + ")\n"
    )
    semantics = _semantics(code)
    line = 6 + HEADER.count("\n")
    site = next(
        s
        for s in semantics.model.calls
        if s.node.lineno == line and getattr(s.node.func, "id", None) == "use"
    )
    found = async_callable(semantics.model, semantics, site.node.args[0], site)
    if func is None:
        assert found is None
    else:
        assert found is not None and ast.unparse(found.func) == func
        assert len(found.args) == bound


@pytest.mark.parametrize(
    ("path", "code", "files", "expected"),
    [
        ("tests/test_x.py", "", None, True),
        ("tests/utils.py", "", None, True),
        ("myproj/testing.py", "", None, True),
        ("myproj/test_utils.py", "", None, True),
        ("myproj/attestation.py", "", None, False),
        ("myproj/worker.py", "", {"tests/test_w.py": "from myproj.worker import poll\n"}, False),
        (
            "myproj/harness.py",
            "import pytest\n",
            {"tests/test_w.py": "from myproj.harness import poll\n"},
            True,
        ),
        ("myproj/harness.py", "import pytest\n", {"tests/test_w.py": "import os\n"}, False),
    ],
)
def test_which_modules_are_test_utilities(
    path: str, code: str, files: dict[str, str] | None, expected: bool
) -> None:
    semantics = _semantics(code, path=path, files=files)
    assert is_test_support_module(semantics.model, semantics) is expected
