"""analysis/harness.py: which sync pytest tests run with an async fixture's loop current."""

from __future__ import annotations

import pytest
from async_test_lint.analysis.harness import (
    conftest_chain,
    runs_under_loop_fixture,
    summarize_fixtures,
)
from async_test_lint.analysis.index import ProjectIndex, module_name_for
from async_test_lint.analysis.model import SemanticModel
from async_test_lint.analysis.summarize import summarize_module
from async_test_lint.analysis.summary import FixtureSummary
from async_test_lint.parsing import ParsedSource, parse_python


def _model(code: str, path: str) -> SemanticModel:
    parsed = parse_python(code)
    assert isinstance(parsed, ParsedSource)
    return SemanticModel(parsed, module_name_for(path), path)


def _index(files: dict[str, str]) -> ProjectIndex:
    return ProjectIndex(summarize_module(_model(code, path)) for path, code in files.items())


def test_fixture_summaries() -> None:
    model = _model(
        "import pytest, pytest_asyncio\n"
        "@pytest_asyncio.fixture\nasync def a(b): pass\n"
        "@pytest.fixture(autouse=True, name='bee')\ndef b(tmp_path): pass\n"
        "class TestX:\n    @pytest.fixture\n    def c(self, a): pass\n"
        "def helper(a): pass\n",
        "tests/test_x.py",
    )
    assert summarize_fixtures(model) == (
        FixtureSummary("a", True, False, ("b",), None),
        FixtureSummary("bee", False, True, ("tmp_path",), None),
        FixtureSummary("c", False, False, ("a",), "TestX"),
    )


def test_conftest_chain_is_nearest_first_and_only_up_the_tree() -> None:
    index = _index(
        {
            "conftest.py": "",
            "tests/conftest.py": "",
            "tests/unit/conftest.py": "",
            "tests/other/conftest.py": "",
        }
    )
    chain = [summary.path for summary in conftest_chain(index, "tests/unit/test_a.py")]
    assert chain == ["tests/unit/conftest.py", "tests/conftest.py", "conftest.py"]
    assert [s.path for s in conftest_chain(index, "tests/conftest.py")] == ["conftest.py"]


CONFTESTS = {
    "conftest.py": "import pytest\n@pytest.fixture\nasync def pool(): yield 1\n",
    "tests/conftest.py": (
        "import pytest\n@pytest.fixture\ndef db(pool): return pool\n"
        "@pytest.fixture\ndef plain(tmp_path): return tmp_path\n"
    ),
}


@pytest.mark.parametrize(
    ("code", "path", "expected"),
    [
        ("def test_a(db): pass\n", "tests/test_a.py", "pool"),
        ("def test_a(plain): pass\n", "tests/test_a.py", None),
        ("def test_a(pool): pass\n", "elsewhere/test_a.py", "pool"),
        ("def test_a(db): pass\n", "elsewhere/test_a.py", None),  # tests/conftest.py is not up
        (
            "import pytest\n@pytest.fixture\ndef db(): return 1\ndef test_a(db): pass\n",
            "tests/test_a.py",
            None,  # the module's own `db` overrides the conftest one
        ),
        (
            "import pytest\n@pytest.fixture(autouse=True)\ndef _auto(db): pass\n"
            "def test_a(): pass\n",
            "tests/test_a.py",
            "pool",
        ),
        (
            "import pytest\nclass TestA:\n    @pytest.fixture(autouse=True)\n"
            "    def _auto(self, pool): pass\n    def test_a(self): pass\n"
            "def test_b(): pass\n",
            "tests/test_a.py",
            "pool",
        ),
        (
            "import pytest\n@pytest.mark.usefixtures('db')\ndef test_a(): pass\n",
            "tests/test_a.py",
            "pool",
        ),
        (
            "import pytest\npytestmark = [pytest.mark.usefixtures('pool')]\ndef test_a(): pass\n",
            "tests/test_a.py",
            "pool",
        ),
    ],
)
def test_runs_under_loop_fixture(code: str, path: str, expected: str | None) -> None:
    index = _index(CONFTESTS)
    model = _model(code, path)
    function = next(f for f in model.functions if f.name == "test_a")
    summary = summarize_module(model)
    found = runs_under_loop_fixture(model, function, summary.fixture_summaries, index)
    assert found == expected


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "    loop = asyncio.new_event_loop()\n"
            "    asyncio.set_event_loop(loop)\n    yield loop\n",
            "cur",
        ),
        ("    asyncio.set_event_loop(None)\n    yield\n", None),
        (
            "    def inner():\n"
            "        asyncio.set_event_loop(asyncio.new_event_loop())\n    yield\n",
            None,
        ),
    ],
)
def test_a_sync_fixture_that_sets_the_loop(fixture: str, expected: str | None) -> None:
    index = _index(
        {"tests/conftest.py": "import asyncio, pytest\n@pytest.fixture\ndef cur():\n" + fixture}
    )
    model = _model(
        "import pytest\n@pytest.mark.usefixtures('cur')\n"
        "class TestA:\n    def test_a(self): pass\n",
        "tests/test_a.py",
    )
    function = next(f for f in model.functions if f.name == "test_a")
    summary = summarize_module(model)
    assert runs_under_loop_fixture(model, function, summary.fixture_summaries, index) == expected


def test_a_class_autouse_fixture_does_not_reach_module_tests() -> None:
    code = (
        "import pytest\nclass TestA:\n    @pytest.fixture(autouse=True)\n"
        "    async def _auto(self): pass\ndef test_b(): pass\n"
    )
    model = _model(code, "tests/test_b.py")
    function = next(f for f in model.functions if f.name == "test_b")
    summary = summarize_module(model)
    assert runs_under_loop_fixture(model, function, summary.fixture_summaries, None) is None
