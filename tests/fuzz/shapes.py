"""Test modules as real projects write them, for the fuzzers: seeds and generated shapes.

- `seed_modules()`: every rule example (`Invalid` and `Valid`) and the test files of `examples/`;
- `module_shapes()`: a hypothesis strategy composing unittest and pytest modules from the parts the
  rules look at (loops driven by hand, `async def` tests in plain test cases, coroutines never
  awaited, mocks, marks, fixtures, cleanups), in random indentation, line breaks and with non-ASCII
  names, strings and comments. Most generated modules parse; the shapes are what matters, and a
  few that do not parse are welcome too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from async_test_lint.rules import all_rules
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]


@cache
def seed_modules() -> tuple[str, ...]:
    found: list[str] = []
    for rule in all_rules():
        found.extend(example.code for example in (*rule.invalid, *rule.valid))
    for path in sorted((ROOT / "examples" / "tests").glob("test_*.py")):
        found.append(path.read_text(encoding="utf-8"))
    return tuple(dict.fromkeys(found))


IMPORTS = (
    "import asyncio",
    "import unittest",
    "import time",
    "import pytest",
    "import contextlib",
    "from unittest import IsolatedAsyncioTestCase, TestCase",
    "from unittest import mock",
    "from unittest.mock import AsyncMock, MagicMock, Mock, patch",
    "from asyncio import run, get_event_loop, new_event_loop",
    "from app.client import UserClient",
)

HELPERS = (
    "async def fetch(value):\n    await asyncio.sleep(0)\n    return value",
    "def make_client():\n    return UserClient()",
    "@contextlib.asynccontextmanager\nasync def session():\n    yield {'open': True}",
    "LOOP = asyncio.new_event_loop()",
    "pytestmark = pytest.mark.asyncio",
    "pytestmark = [pytest.mark.asyncio(loop_scope='module')]",
    "class FakeTransport:\n    async def send(self, data):\n        return data",
)

BASES = (
    "unittest.TestCase",
    "unittest.IsolatedAsyncioTestCase",
    "TestCase",
    "IsolatedAsyncioTestCase",
    "object",
    "",
    "Base",
)

#: (statement, needs an async function)
STATEMENTS = (
    ("asyncio.run(fetch(1))", False),
    ("run(fetch(1))", False),
    ("user = asyncio.run(self.client.fetch_user(1))", False),
    ("loop = asyncio.new_event_loop()", False),
    ("asyncio.set_event_loop(loop)", False),
    ("loop.run_until_complete(fetch(2))", False),
    ("loop.close()", False),
    ("asyncio.get_event_loop().run_until_complete(fetch(3))", False),
    ("LOOP.run_until_complete(fetch(4))", False),
    ("fetch(5)", False),
    ("result = fetch(6)", False),
    ("time.sleep(0.01)", False),
    ("self.assertEqual(1, 1)", False),
    ("self.assertRaises(ValueError, fetch, 1)", False),
    ("self.addCleanup(fetch, 1)", False),
    ("self.addCleanup(self.client.close)", False),
    ("self.enterContext(session())", False),
    ("client = Mock()", False),
    ("client = AsyncMock()", False),
    ("self.client = UserClient(FakeTransport())", False),
    ("pass", False),
    ("await fetch(7)", True),
    ("value = await self.client.fetch_user(1)", True),
    ("await asyncio.sleep(0)", True),
    ("await client.fetch()", True),
    ("asyncio.ensure_future(fetch(8))", True),
    ("self.addAsyncCleanup(fetch, 1)", True),
    ("async with session() as s:\n    self.assertTrue(s['open'])", True),
    ("with self.assertRaises(ValueError):\n    await fetch(9)", True),
    ("with patch('app.client.UserClient.fetch_user') as fetched:\n    await fetched(1)", True),
    ("with mock.patch.object(UserClient, 'fetch_user', new=Mock()):\n    pass", False),
)

METHOD_NAMES = (
    "test_fetch",
    "test_refresh",
    "test_ünïcode",
    "test_日本",
    "setUp",
    "tearDown",
    "asyncSetUp",
    "asyncTearDown",
    "helper",
    "run_async",
)

DECORATORS = (
    "",
    "@pytest.mark.asyncio",
    "@pytest.mark.asyncio(loop_scope='module')",
    "@pytest.fixture",
    "@classmethod",
    "@mock.patch('app.client.UserClient')",
)

#: things editors and users put in files that exercise positions and line handling.
ODD_TEXT = (
    "# 👩‍💻 ünïcödé, 日本語, e\u0301\u0301",
    "# form\x0cfeed",
    "# line\u2028separator",
    "label = 'tab\there 🚀'",
    "name = '\U0001d49c\U0001f600'",
    "x = 1  # noqa: ATL101",
    "",
)


@st.composite
def _body(draw: st.DrawFn, is_async: bool, prefix: str, indent: str) -> str:
    """Statements at `prefix`; the blocks inside them (written with four spaces) use `indent`."""
    allowed = [text for text, needs_async in STATEMENTS if is_async or not needs_async]
    statements = draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=5))
    lines = []
    for statement in statements:
        lines.extend(prefix + line.replace("    ", indent) for line in statement.split("\n"))
    return "\n".join(lines)


@st.composite
def _function(draw: st.DrawFn, indent: str, level: int) -> str:
    is_async = draw(st.booleans())
    name = draw(st.sampled_from(METHOD_NAMES))
    decorator = draw(st.sampled_from(DECORATORS))
    params = "self" if level else draw(st.sampled_from(("", "event_loop", "client", "request")))
    if decorator == "@classmethod":
        params, name = "cls", draw(st.sampled_from(("setUpClass", "tearDownClass", name)))
    head = f"{'async ' if is_async else ''}def {name}({params}):"
    prefix = indent * level
    body = draw(_body(is_async, prefix + indent, indent))
    lines = [prefix + decorator] if decorator else []
    return "\n".join([*lines, prefix + head, body])


@st.composite
def _class(draw: st.DrawFn, indent: str) -> str:
    base = draw(st.sampled_from(BASES))
    name = draw(st.sampled_from(("UserTest", "ClientTests", "TestLoop", "Base", "Tëst")))
    methods = draw(st.lists(_function(indent, 1), min_size=1, max_size=4))
    head = f"class {name}({base}):" if base else f"class {name}:"
    return "\n\n".join([head, *methods])


@st.composite
def _module(draw: st.DrawFn) -> str:
    indent = draw(st.sampled_from(("    ", "  ", "\t")))
    parts = list(draw(st.lists(st.sampled_from(IMPORTS), min_size=1, max_size=6, unique=True)))
    parts.extend(draw(st.lists(st.sampled_from(HELPERS), max_size=3, unique=True)))
    blocks = draw(st.lists(st.one_of(_class(indent), _function(indent, 0)), min_size=1, max_size=4))
    parts.extend(blocks)
    odd = draw(st.lists(st.sampled_from(ODD_TEXT), max_size=3))
    for text in odd:
        parts.insert(draw(st.integers(0, len(parts))), text)
    return "\n\n\n".join(parts) + draw(st.sampled_from(("\n", "", "\n\n")))


def with_line_breaks(text: str, newline: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", newline)


@st.composite
def module_shapes(draw: st.DrawFn) -> str:
    """A seed or a generated module, with one kind of line break or a mix of them."""
    text = draw(st.sampled_from(seed_modules())) if draw(st.booleans()) else draw(_module())
    newline = draw(st.sampled_from(("\n", "\n", "\r\n", "\r", "mixed")))
    if newline != "mixed":
        return with_line_breaks(text, newline)
    lines = with_line_breaks(text, "\n").split("\n")
    breaks = draw(st.lists(st.sampled_from(("\n", "\r\n", "\r")), min_size=len(lines)))
    return lines[0] + "".join(brk + line for brk, line in zip(breaks, lines[1:]))
