"""ATL210: `scope=` on the asyncio mark of pytest-asyncio, renamed `loop_scope=`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import partial

from ..analysis.styles import ASYNCIO_MARK
from ..context import Context
from ..model import Diagnostic, Edit, Fix, Position, Safety, TextRange
from .base import Invalid, Rule, Valid


class AsyncioMarkScope(Rule):
    code = "ATL210"
    name = "asyncio-mark-scope"
    family = "T11"
    summary = "`scope=` on `pytest.mark.asyncio` is deprecated: the keyword is `loop_scope=`"
    what = (
        "Finds the `scope` keyword on pytest-asyncio's `asyncio` mark in every spelling: a "
        'decorator `@pytest.mark.asyncio(scope="module")`, `from pytest import mark`, '
        "`import pytest as pt`, and `pytestmark = pytest.mark.asyncio(scope=...)` (alone or in a "
        "list) at module or class level. `scope=` of `pytest.fixture` / `pytest_asyncio.fixture` "
        "is the fixture's own scope and is not reported."
    )
    why = (
        "The keyword selects the scope of the event loop the test runs in, not a fixture scope. "
        'pytest-asyncio renamed it `loop_scope` and warns on every marked test (*The "scope" '
        "keyword argument to the asyncio marker has been deprecated. Please use the "
        '"loop_scope" argument instead.*); under `-W error` (or `filterwarnings = error`) the '
        "tests fail. A mark that gives both `scope` and `loop_scope` fails each test (*defines "
        'both "scope" and "loop_scope"*).'
    )
    versions = (
        "pytest-asyncio 0.23 introduced `scope=` on the mark; 0.24 renamed it `loop_scope=` and "
        "deprecated `scope=` (still the case in 1.x). Independent of the Python version."
    )
    fix_notes = (
        "Safe: the keyword is renamed `loop_scope`, keeping its value. `loop_scope` needs "
        "pytest-asyncio 0.24 or newer: 0.23 ignores it and would run the tests on a "
        "function-scoped loop. When the mark already has `loop_scope` with the same value, the "
        "duplicate `scope=` is removed.\n\n"
        "No automatic fix: when the mark already has `loop_scope` with a different value "
        "(pick one by hand)."
    )
    fix_safety = Safety.SAFE

    def check(self, context: Context) -> Iterator[Diagnostic]:
        model = context.model
        for call in model.calls:
            func = call.node.func
            if isinstance(func, ast.Attribute) and func.attr != "asyncio":
                continue  # cheap pre-filter; a bare name may be an alias of the mark
            if not call.node.keywords or model.callee_name(call) != ASYNCIO_MARK:
                continue
            keywords = {keyword.arg: keyword for keyword in call.node.keywords}
            scope = keywords.get("scope")
            if scope is None:
                continue
            value = _literal(scope.value)
            if "loop_scope" in keywords:
                same = ast.dump(keywords["loop_scope"].value) == ast.dump(scope.value)
                yield context.report(
                    self,
                    scope,
                    f"`scope={value}` next to `loop_scope=` on the asyncio mark: pytest-asyncio "
                    "fails the test (give only loop_scope)",
                    context.lazy_fix(
                        "Remove the duplicate `scope` argument",
                        Safety.SAFE,
                        partial(_remove, context, call.node, scope),
                    )
                    if same
                    else None,
                )
                continue
            yield context.report(
                self,
                scope,
                f"deprecated `scope={value}` on the asyncio mark: use `loop_scope={value}`",
                context.lazy_fix(
                    "Rename `scope` to `loop_scope`",
                    Safety.SAFE,
                    partial(_rename, context, scope),
                ),
            )


def _literal(value: ast.expr) -> str:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return repr(value.value).replace("'", '"')
    return "..."


def _rename(context: Context, keyword: ast.keyword) -> Fix | None:
    start = context.range(keyword).start
    line = context.parsed.lines.line_text(start.line)
    if line[start.column : start.column + len("scope")] != "scope":
        return None
    end = Position(start.line, start.column + len("scope"))
    return Fix(
        "Rename `scope` to `loop_scope`", Safety.SAFE, (Edit(TextRange(start, end), "loop_scope"),)
    )


def _remove(context: Context, call: ast.Call, keyword: ast.keyword) -> Fix | None:
    """Delete `keyword` and one separating comma, when it shares a line with its neighbour."""
    arguments: list[ast.AST] = [*call.args, *call.keywords]
    arguments.sort(key=lambda node: (node.lineno, node.col_offset))  # type: ignore[attr-defined]
    at = next(index for index, node in enumerate(arguments) if node is keyword)
    own = context.range(keyword)
    if at > 0:
        start = context.range(arguments[at - 1]).end
        end = own.end
    elif at + 1 < len(arguments):
        start = own.start
        end = context.range(arguments[at + 1]).start
    else:
        return None
    if start.line != end.line:
        return None
    return Fix(
        "Remove the duplicate `scope` argument", Safety.SAFE, (Edit(TextRange(start, end), ""),)
    )


AsyncioMarkScope.invalid = (
    Invalid(
        """\
import pytest


@pytest.mark.asyncio(scope="module")
async def test_shared_loop():
    assert True
""",
        line=4,
        fixed="""\
import pytest


@pytest.mark.asyncio(loop_scope="module")
async def test_shared_loop():
    assert True
""",
        note="The textbook decorator.",
    ),
    Invalid(
        """\
from pytest import mark as m


class TestCache:
    @m.asyncio(scope="class")
    async def test_fill(self):
        assert True

    @m.asyncio(loop_scope="class", scope="class")
    async def test_drain(self):
        assert True
""",
        line=5,
        count=2,
        fixed="""\
from pytest import mark as m


class TestCache:
    @m.asyncio(loop_scope="class")
    async def test_fill(self):
        assert True

    @m.asyncio(loop_scope="class")
    async def test_drain(self):
        assert True
""",
        note="`from pytest import mark as m`; both keywords fail the test: the duplicate goes.",
    ),
    Invalid(
        """\
import pytest as pt

pytestmark = [pt.mark.asyncio(scope="session"), pt.mark.slow]


async def test_ping():
    assert True
""",
        line=3,
        fixed="""\
import pytest as pt

pytestmark = [pt.mark.asyncio(loop_scope="session"), pt.mark.slow]


async def test_ping():
    assert True
""",
        note="A module-level `pytestmark` list with `import pytest as pt`.",
    ),
    Invalid(
        """\
import pytest

asyncio_mark = pytest.mark.asyncio


class TestPool:
    pytestmark = asyncio_mark(scope="class")

    async def test_acquire(self):
        assert True
""",
        line=7,
        fixed="""\
import pytest

asyncio_mark = pytest.mark.asyncio


class TestPool:
    pytestmark = asyncio_mark(loop_scope="class")

    async def test_acquire(self):
        assert True
""",
        note="The mark bound to a local alias, used in a class-level `pytestmark`.",
    ),
)

AsyncioMarkScope.valid = (
    Valid(
        """\
import pytest


@pytest.mark.asyncio(loop_scope="module")
async def test_shared_loop():
    assert True
""",
        note="Already `loop_scope`.",
    ),
    Valid(
        """\
import pytest
import pytest_asyncio


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client():
    yield object()


@pytest.fixture(scope="session")
def settings():
    return {}
""",
        path="tests/conftest.py",
        note="`scope=` of a fixture is the fixture's own scope.",
    ),
    Valid(
        """\
import pytest


@pytest.mark.parametrize("scope", ["module", "session"])
@pytest.mark.usefixtures("db")
def test_scopes(scope):
    assert scope
""",
        note="Another mark; `scope` is a parameter name here.",
    ),
)
