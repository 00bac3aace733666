"""ATL208: `@pytest.mark.asyncio` on a unittest test case, which pytest-asyncio ignores."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..analysis.model import ClassInfo
from ..analysis.semantics import ClassKind
from ..analysis.styles import ASYNCIO_MARK, class_pytestmarks, mark_name
from ..context import Context
from ..model import Diagnostic, Edit, Fix, Position, Safety, TextRange
from .base import Invalid, Rule, Valid

_FIX_TITLE = "Remove the ignored asyncio mark"


class AsyncioMarkOnUnittest(Rule):
    code = "ATL208"
    name = "asyncio-mark-on-unittest"
    family = "T11"
    summary = (
        "`@pytest.mark.asyncio` on a unittest test case does nothing: pytest-asyncio ignores "
        "unittest classes"
    )
    what = (
        "Finds pytest-asyncio's `asyncio` mark on a method or on the class of a "
        "`unittest.TestCase` or `IsolatedAsyncioTestCase` (bases resolved through aliases and "
        "other files of the project): `@pytest.mark.asyncio`, `@pytest.mark.asyncio(...)`, "
        "`import pytest as pt`, `from pytest import mark`, and a class-level "
        "`pytestmark = pytest.mark.asyncio`."
    )
    why = (
        "pytest runs unittest classes through unittest's own machinery, and pytest-asyncio only "
        "handles pytest functions: the mark is silently ignored. On an "
        "`IsolatedAsyncioTestCase` the test still runs (unittest drives the loop), so the mark "
        "only misleads: `loop_scope=` on it has no effect either, every test gets a fresh loop. "
        "On a plain `unittest.TestCase` the reader believes pytest-asyncio runs the coroutine, "
        "but the method returns an un-awaited coroutine and passes without running its body "
        "(reported by ATL201: the base must become `IsolatedAsyncioTestCase`)."
    )
    versions = (
        "Every pytest-asyncio version (it never collected unittest classes) and every Python "
        "version."
    )
    fix_notes = (
        "Safe: the decorator line (or the class-level `pytestmark` assignment that holds only "
        "the asyncio mark) is removed, or the mark is taken out of a `pytestmark` list; "
        "nothing ran differently because of it. On a plain `TestCase` this does not make the "
        "test run: apply ATL201's conversion to `IsolatedAsyncioTestCase` as well.\n\n"
        "No automatic fix: for a decorator sharing its line with other code (delete the mark "
        "by hand)."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model = context.model
        for cls in model.classes:
            kind = context.semantics.kind(cls)
            if not kind.is_unittest:
                continue
            plain = kind is ClassKind.PLAIN_TESTCASE
            what = "a plain unittest.TestCase" if plain else "an IsolatedAsyncioTestCase"
            for decorator in cls.node.decorator_list:
                if mark_name(model, decorator, cls.parent_scope) == ASYNCIO_MARK:
                    yield self._report(
                        context, decorator, f"class {cls.name} ({what})", plain, "decorator"
                    )
            yield from self._class_pytestmark(context, cls, what, plain)
            for method in cls.methods.values():
                for decorator in method.node.decorator_list:
                    if mark_name(model, decorator, method.parent_scope) != ASYNCIO_MARK:
                        continue
                    where = f"{method.name} of {cls.name} ({what})"
                    yield self._report(
                        context, decorator, where, plain and method.is_async, "decorator"
                    )

    def _class_pytestmark(
        self, context: Context, cls: ClassInfo, what: str, plain: bool
    ) -> Iterator[Diagnostic]:
        value = cls.attributes.get("pytestmark")
        for mark in class_pytestmarks(cls):
            if mark_name(context.model, mark, cls.scope) != ASYNCIO_MARK:
                continue
            alone = mark is value
            yield self._report(
                context,
                mark,
                f"pytestmark of {cls.name} ({what})",
                plain,
                "assignment" if alone else "element",
            )

    def _report(
        self,
        context: Context,
        mark: ast.expr,
        where: str,
        async_on_plain: bool,
        form: str,
    ) -> Diagnostic:
        message = (
            f"@pytest.mark.asyncio on {where} is ignored: "
            "pytest-asyncio does not run unittest classes"
        )
        if async_on_plain:
            message += "; the coroutine never runs (ATL201)"
        if form == "element":
            fix = context.lazy_fix(_FIX_TITLE, Safety.SAFE, lambda: _remove_element(context, mark))
        else:
            fix = context.lazy_fix(
                _FIX_TITLE, Safety.SAFE, lambda: _remove_line(context, mark, form == "assignment")
            )
        return context.report(self, mark, message, fix)


def _remove_line(context: Context, mark: ast.expr, assignment: bool) -> Fix | None:
    """Delete the line(s) of `@mark` (or of `pytestmark = mark`) when nothing else is on them."""
    lines = context.parsed.lines
    node: ast.AST = mark
    if assignment:
        parent = context.model.parent(mark)
        if not isinstance(parent, ast.Assign):
            return None
        node = parent
    text_range = context.range(node)
    before = lines.line_text(text_range.start.line)[: text_range.start.column]
    after = lines.line_text(text_range.end.line)[text_range.end.column :]
    expected_before = before.strip() == "" if assignment else before.strip() == "@"
    if not expected_before or not (after.strip() == "" or after.strip().startswith("#")):
        return None
    start = Position(text_range.start.line, 0)
    end_line = text_range.end.line + 1
    if end_line >= lines.line_count:
        return None
    if assignment and _blank(lines.line_text(end_line)) and end_line + 1 < lines.line_count:
        previous = lines.line_text(start.line - 1) if start.line > 0 else ""
        if _blank(previous) or previous.rstrip().endswith(":"):
            end_line += 1  # the statement opened the class body: drop the blank line after it
    edit = Edit(TextRange(start, Position(end_line, 0)), "")
    return Fix(_FIX_TITLE, Safety.SAFE, (edit,))


def _remove_element(context: Context, mark: ast.expr) -> Fix | None:
    """Drop `mark` from a `pytestmark = [..., mark, ...]` list with one separating comma."""
    container = context.model.parent(mark)
    if not isinstance(container, (ast.List, ast.Tuple)) or len(container.elts) < 2:
        return None
    at = next(index for index, element in enumerate(container.elts) if element is mark)
    own = context.range(mark)
    if at + 1 < len(container.elts):
        start, end = own.start, context.range(container.elts[at + 1]).start
    else:
        start, end = context.range(container.elts[at - 1]).end, own.end
    if start.line != end.line:
        return None
    return Fix(_FIX_TITLE, Safety.SAFE, (Edit(TextRange(start, end), ""),))


def _blank(line: str) -> bool:
    return not line.strip()


AsyncioMarkOnUnittest.invalid = (
    Invalid(
        """\
import asyncio
import unittest

import pytest


class CacheTest(unittest.IsolatedAsyncioTestCase):
    @pytest.mark.asyncio
    async def test_fill(self):
        await asyncio.sleep(0)
        self.assertTrue(True)
""",
        line=8,
        fixed="""\
import asyncio
import unittest

import pytest


class CacheTest(unittest.IsolatedAsyncioTestCase):
    async def test_fill(self):
        await asyncio.sleep(0)
        self.assertTrue(True)
""",
        runnable=True,
        note="The textbook spelling on an IsolatedAsyncioTestCase method.",
    ),
    Invalid(
        """\
import asyncio
from unittest import IsolatedAsyncioTestCase as IATC

import pytest as pt
from pytest import mark


@mark.asyncio(loop_scope="class")
class QueueTest(IATC):
    @pt.mark.asyncio
    async def test_put(self):
        queue = asyncio.Queue()
        await queue.put(1)
        self.assertEqual(queue.qsize(), 1)
""",
        line=8,
        count=2,
        fixed="""\
import asyncio
from unittest import IsolatedAsyncioTestCase as IATC

import pytest as pt
from pytest import mark


class QueueTest(IATC):
    async def test_put(self):
        queue = asyncio.Queue()
        await queue.put(1)
        self.assertEqual(queue.qsize(), 1)
""",
        runnable=True,
        note="`from pytest import mark` on the class, `import pytest as pt` on the method.",
    ),
    Invalid(
        """\
import pytest

from tests.base import ApiTestCase


class UsersTest(ApiTestCase):
    pytestmark = pytest.mark.asyncio

    async def test_list(self):
        self.assertEqual(await self.fetch("/users"), [])
""",
        line=7,
        files={
            "tests/base.py": """\
import unittest


class ApiTestCase(unittest.IsolatedAsyncioTestCase):
    async def fetch(self, path):
        return []
""",
        },
        fixed="""\
import pytest

from tests.base import ApiTestCase


class UsersTest(ApiTestCase):
    async def test_list(self):
        self.assertEqual(await self.fetch("/users"), [])
""",
        note="A class-level `pytestmark`; the IsolatedAsyncioTestCase base is in another file.",
    ),
    Invalid(
        """\
import unittest

import pytest


class LegacyTest(unittest.TestCase):
    @pytest.mark.asyncio
    async def test_fetch(self):
        self.assertTrue(False)
""",
        line=7,
        fixed="""\
import unittest

import pytest


class LegacyTest(unittest.TestCase):
    async def test_fetch(self):
        self.assertTrue(False)
""",
        note="A plain TestCase: the mark goes, and ATL201 still reports the never-run coroutine.",
    ),
)

AsyncioMarkOnUnittest.invalid += (
    Invalid(
        """\
import unittest

import pytest


@pytest.mark.slow
class SlowTest(unittest.IsolatedAsyncioTestCase):
    pytestmark = [pytest.mark.timeout(5), pytest.mark.asyncio]

    async def test_wait(self):
        self.assertTrue(True)
""",
        line=8,
        fixed="""\
import unittest

import pytest


@pytest.mark.slow
class SlowTest(unittest.IsolatedAsyncioTestCase):
    pytestmark = [pytest.mark.timeout(5)]

    async def test_wait(self):
        self.assertTrue(True)
""",
        note="Inside a class-level `pytestmark` list: the element goes, the other marks stay.",
    ),
)

AsyncioMarkOnUnittest.valid = (
    Valid(
        """\
import asyncio

import pytest


class TestCache:
    @pytest.mark.asyncio
    async def test_fill(self):
        await asyncio.sleep(0)
""",
        note="A pytest-style class: pytest-asyncio runs it.",
    ),
    Valid(
        """\
import asyncio
import unittest

import pytest

asyncio_mark = pytest.mark.asyncio


class CacheTest(unittest.IsolatedAsyncioTestCase):
    @pytest.mark.slow
    @unittest.skipIf(asyncio_mark is None, "pytest-asyncio missing")
    async def test_fill(self):
        await asyncio.sleep(0)
""",
        note="Another mark on the unittest method; the asyncio mark only referenced, not applied.",
    ),
    Valid(
        """\
import pytest

from plugin_base import AsyncCase


class CacheTest(AsyncCase):
    @pytest.mark.asyncio
    async def test_fill(self):
        assert True
""",
        note="A base that cannot be resolved: it may be a pytest-style class.",
    ),
)
