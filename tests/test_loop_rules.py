"""Edge cases of the hand-driven-loop rules (ATL102-ATL105) beyond their documented examples."""

from __future__ import annotations

from async_test_lint.engine import fix, index_sources, lint
from async_test_lint.model import Settings

PATH = "tests/test_example.py"
CODES = frozenset({"ATL102", "ATL103", "ATL104", "ATL105"})


def _found(code: str, select: frozenset[str] = CODES) -> list[tuple[str, int, str]]:
    settings = Settings(select=select)
    result = lint(code, PATH, settings, index_sources({}, settings))
    assert not result.failures
    return [(d.code, d.range.start.line + 1, d.message) for d in result.diagnostics]


def _fixed(code: str, rule: str) -> str:
    settings = Settings(select=frozenset({rule}))
    return fix(code, PATH, settings, index_sources({}, settings), unsafe=True).text


def test_get_event_loop_expected_to_warn_is_silent() -> None:
    code = """\
import asyncio
import unittest

import pytest


class DeprecationTest(unittest.TestCase):
    def test_warns(self):
        with self.assertWarns(DeprecationWarning):
            asyncio.get_event_loop()


def test_warns():
    with pytest.warns(DeprecationWarning):
        asyncio.get_event_loop()
"""
    assert _found(code) == []


def test_run_until_complete_on_get_event_loop_is_reported_once() -> None:
    code = """\
import asyncio
import unittest


async def compute():
    return 1


class ComputeTest(unittest.TestCase):
    def test_compute(self):
        loop = asyncio.get_event_loop()
        self.assertEqual(loop.run_until_complete(compute()), 1)
"""
    assert [code for code, _, _ in _found(code)] == ["ATL102"]


def test_helper_of_a_local_base_names_both_classes_and_has_no_fix() -> None:
    code = """\
import asyncio
import unittest


async def compute():
    return 1


class Base(unittest.TestCase):
    def run_coro(self, coro):
        return asyncio.get_event_loop().run_until_complete(coro)


class ComputeTest(Base):
    def test_compute(self):
        self.assertEqual(self.run_coro(compute()), 1)
"""
    settings = Settings(select=frozenset({"ATL102"}))
    [diagnostic] = lint(code, PATH, settings).diagnostics
    expected = "helper run_coro() of Base, called from test_compute of ComputeTest"
    assert expected in diagnostic.message
    assert diagnostic.lazy_fix is None


def test_policy_reset_counts_as_resetting_the_current_loop() -> None:
    code = """\
import asyncio
import unittest


class ClockTest(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.addCleanup(self.loop.close)
        self.addCleanup(asyncio.set_event_loop_policy, None)

    def test_now(self):
        self.assertIs(asyncio.get_event_loop(), self.loop)
"""
    assert _found(code) == []


def test_cleanup_inserted_after_a_last_line_without_newline() -> None:
    code = (
        "import asyncio\n"
        "import unittest\n"
        "\n"
        "\n"
        "class LoopTest(unittest.TestCase):\n"
        "    def setUp(self):\n"
        "        self.loop = asyncio.new_event_loop()"
    )
    assert _fixed(code, "ATL103") == code + "\n        self.addCleanup(self.loop.close)"


def test_no_insertion_after_a_statement_sharing_its_line() -> None:
    code = """\
import asyncio
import unittest


class LoopTest(unittest.TestCase):
    def setUp(self):
        self.loop = asyncio.new_event_loop(); self.ready = True
"""
    settings = Settings(select=frozenset({"ATL103"}))
    [diagnostic] = lint(code, PATH, settings).diagnostics
    assert diagnostic.fix is None


def test_helper_that_checks_for_a_running_loop_is_silent() -> None:
    code = """\
import asyncio


def run_sync(coro):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    raise RuntimeError("await it instead")


async def compute():
    return 1


async def test_compute():
    assert run_sync(compute()) == 1
"""
    assert _found(code) == []


def test_nested_sync_function_called_directly_in_a_coroutine_is_reported() -> None:
    code = """\
import asyncio


async def compute():
    return 1


async def test_compute():
    def inner():
        return asyncio.run(compute())

    assert inner() == 1
"""
    [(code_, line, message)] = _found(code)
    assert (code_, line) == ("ATL104", 12)
    assert message.startswith("inner() runs an event loop (asyncio.run())")


def test_sync_helper_called_from_a_coroutine_is_not_a_sync_test() -> None:
    code = """\
import asyncio
import unittest


class ClockTest(unittest.TestCase):
    def now(self):
        return asyncio.get_event_loop().time()

    def test_now(self):
        self.assertTrue(asyncio.run(self.later()))

    async def later(self):
        return self.now() >= 0
"""
    assert [c for c, _, _ in _found(code)] == []


def test_set_event_loop_in_setupclass_before_38_has_no_fix() -> None:
    code = """\
import asyncio
import unittest


class LoopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(cls.loop)

    @classmethod
    def tearDownClass(cls):
        cls.loop.close()
"""
    settings = Settings(select=frozenset({"ATL103"}), target_version=(3, 7))
    [diagnostic] = lint(code, PATH, settings).diagnostics
    assert diagnostic.range.start.line + 1 == 9
    assert diagnostic.fix is None
    fixed = _fixed(code, "ATL103")
    assert "        cls.addClassCleanup(asyncio.set_event_loop, None)\n" in fixed


_CLASS_LOOP = """\
import asyncio
import unittest


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    loop = asyncio.new_event_loop()

    def setUp(self):
        super().setUp()
        self.value = 1

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
"""


def test_class_level_loop_moves_into_an_existing_setup() -> None:
    assert (
        _fixed(_CLASS_LOOP, "ATL103")
        == """\
import asyncio
import unittest


async def compute():
    return 42


class ComputeTest(unittest.TestCase):
    def setUp(self):
        super().setUp()
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)
        self.value = 1

    def test_compute(self):
        self.assertEqual(self.loop.run_until_complete(compute()), 42)
"""
    )


def test_class_level_loop_referenced_through_the_class_gets_no_fix() -> None:
    code = (
        _CLASS_LOOP
        + """\

    @classmethod
    def tearDownClass(cls):
        cls.loop.close()
"""
    )
    settings = Settings(select=frozenset({"ATL103"}))
    [diagnostic] = lint(code, PATH, settings).diagnostics
    assert diagnostic.lazy_fix is None
