"""Loop-style counting (analysis/styles.py) and fix edge cases of ATL207/ATL208/ATL209."""

from __future__ import annotations

from collections import Counter

from async_test_lint.analysis.styles import module_styles, pending_key, resolve_pending
from async_test_lint.engine import analyse, fix, index_sources, lint
from async_test_lint.model import Settings
from async_test_lint.parsing import SyntaxProblem

MIXED = """\
import asyncio
import unittest

import pytest

from tests.base import ServiceTestCase


class CacheTest(unittest.IsolatedAsyncioTestCase):
    async def test_a(self):
        pass

    def test_sync_runs_a_loop(self):
        asyncio.run(asyncio.sleep(0))


class LegacyTest(unittest.TestCase):
    def run_async(self, coro):
        return asyncio.run(coro)

    def test_b(self):
        self.run_async(asyncio.sleep(0))

    def test_pure(self):
        pass


class ServiceTest(ServiceTestCase):
    async def test_c(self):
        pass

    def test_d(self):
        asyncio.run(asyncio.sleep(0))


@pytest.mark.asyncio
async def test_e():
    pass


@pytest.mark.anyio
async def test_f():
    pass


async def test_g(anyio_backend):
    pass
"""


def _styles(text: str) -> dict[str, int]:
    analysis = analyse(text, "tests/test_mixed.py", Settings())
    assert not isinstance(analysis, SyntaxProblem)
    return module_styles(analysis.model)


def test_module_styles_counts_each_test_once() -> None:
    assert _styles(MIXED) == {
        "isolated": 2,  # a sync test of an IsolatedAsyncioTestCase counts with its class
        "manual-loop": 1,  # through the run_async helper; test_pure drives no loop
        "pytest-asyncio": 1,
        "anyio": 2,
        pending_key("tests.base.ServiceTestCase", "isolated"): 2,
        pending_key("tests.base.ServiceTestCase", "manual-loop"): 1,
    }


def test_pending_keys_resolve_by_the_kind_of_the_base() -> None:
    counts = Counter(_styles(MIXED))
    isolated = resolve_pending(counts, lambda base: "isolated")
    assert isolated["isolated"] == 4 and isolated["manual-loop"] == 1
    plain = resolve_pending(counts, lambda base: "plain")
    assert plain["isolated"] == 2 and plain["manual-loop"] == 2
    unknown = resolve_pending(counts, lambda base: None)
    assert not any(key.startswith("?") for key in unknown)


def _fixed(code: str, text: str, files: dict[str, str] | None = None) -> str:
    settings = Settings(select=frozenset({code}))
    index = index_sources(files or {}, settings)
    result = fix(text, "tests/test_x.py", settings, index, unsafe=True)
    assert not [
        d for d in lint(result.text, "tests/test_x.py", settings, index).diagnostics if d.fix
    ]
    return result.text


def test_atl207_moves_every_resource_of_a_class_into_one_async_setup() -> None:
    text = '''\
import asyncio
import unittest


class MultiTest(unittest.IsolatedAsyncioTestCase):
    """Docstring."""

    queue = asyncio.Queue()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.event = asyncio.Event()
        cls.name = "x"

    async def test_a(self):
        await self.queue.put(1)
        self.event.set()

    async def test_b(self):
        await self.queue.put(2)
        self.event.set()
'''
    fixed = _fixed("ATL207", text)
    lines = fixed.splitlines()
    assert "        cls.event = asyncio.Event()" not in lines
    assert "    queue = asyncio.Queue()" not in lines
    assert "    async def asyncSetUp(self):\n" in fixed
    assert "        self.event = asyncio.Event()\n" in fixed
    assert "        self.queue = asyncio.Queue()\n" in fixed
    assert '        cls.name = "x"\n' in fixed  # the rest of setUpClass stays


def test_atl207_no_fix_when_setup_reads_the_shared_object() -> None:
    text = """\
import asyncio
import unittest


class EventTest(unittest.IsolatedAsyncioTestCase):
    ready = asyncio.Event()

    def setUp(self):
        self.ready.clear()

    async def test_a(self):
        self.ready.set()

    async def test_b(self):
        await self.ready.wait()
"""
    settings = Settings(select=frozenset({"ATL207"}))
    (diagnostic,) = lint(text, "tests/test_x.py", settings, index_sources({}, settings)).diagnostics
    assert diagnostic.fix is None  # setUp runs before asyncSetUp: moving would break it


def test_atl209_removes_a_parameter_alone_on_its_line() -> None:
    text = """\
import pytest


@pytest.mark.asyncio
async def test_a(
    db,
    event_loop,
):
    assert event_loop is not None
"""
    assert (
        _fixed("ATL209", text)
        == """\
import pytest
from asyncio import get_running_loop


@pytest.mark.asyncio
async def test_a(
    db,
):
    assert get_running_loop() is not None
"""
    )


def test_atl209_no_fix_when_a_nested_function_uses_the_loop() -> None:
    text = """\
import pytest


@pytest.mark.asyncio
async def test_a(event_loop):
    def later():
        return event_loop

    assert later()
"""
    settings = Settings(select=frozenset({"ATL209"}))
    (diagnostic,) = lint(text, "tests/test_x.py", settings, index_sources({}, settings)).diagnostics
    assert diagnostic.fix is None


def test_atl209_is_silent_without_a_project_index() -> None:
    text = "def test_a(event_loop):\n    assert event_loop\n"
    settings = Settings(select=frozenset({"ATL209"}))
    assert lint(text, "tests/test_x.py", settings, None).diagnostics == ()
