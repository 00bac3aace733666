"""The results cache of `check`: same output as without it, invalidated by everything a result
depends on, never parsing an unchanged tree, surviving broken cache files, off with --no-cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from async_test_lint import engine, results_cache, workspace
from test_cli import make_project, run_in_process

PYPROJECT = """\
[project]
name = "demo"
requires-python = ">=3.9"

[tool.async-test-lint]
"""

BASE = """\
import unittest


class ServiceTestCase(unittest.TestCase):
    maxDiff = None
"""

ISOLATED_BASE = BASE.replace("unittest.TestCase", "unittest.IsolatedAsyncioTestCase")

USES_BASE = """\
import asyncio

from tests.base import ServiceTestCase
from app.client import fetch


class PingTest(ServiceTestCase):
    def test_ping(self):
        self.assertEqual(asyncio.run(fetch()), "pong")

    async def test_pong(self):
        self.assertEqual(await fetch(), "pong")
"""

CLIENT = 'async def fetch():\n    return "pong"\n'

SYNC_CALLER = """\
import unittest

from app.client import fetch


class FetchTest(unittest.TestCase):
    def test_fetch(self):
        fetch()
"""

BROKEN_SYNTAX = "def f(:\n    pass\n"


def _project(root: Path) -> Path:
    """Cross-file results (a base class, a coroutine function), a syntax error, a file that does
    not decode, and files with nothing to report."""
    return make_project(
        root,
        {
            "tests/__init__.py": "",
            "tests/base.py": BASE,
            "tests/test_ping.py": USES_BASE,
            "tests/test_fetch.py": SYNC_CALLER,
            "tests/test_broken.py": BROKEN_SYNTAX,
            "tests/test_latin.py": b"x = '\xff'\n",  # no coding cookie: does not decode
            "src/app/__init__.py": "",
            "src/app/client.py": CLIENT,
        },
        PYPROJECT,
    )


def _check(root: Path, *args: str) -> tuple[int, str, str]:
    result = run_in_process(root, "check", *args)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths `engine.analyse` parses during the test (workers run in-process here)."""
    seen: list[str] = []
    original = engine.analyse

    def counting(source: str, path: str | None, settings: object) -> object:
        seen.append(str(path))
        return original(source, path, settings)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "analyse", counting)
    return seen


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_cached_runs_print_what_uncached_runs_print(
    tmp_path: Path, output_format: str, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    uncached = _check(root, "--no-cache", "--output-format", output_format)
    assert uncached[0] == 1 and "ATL101" in uncached[1] and "ATL301" in uncached[1]
    assert uncached[2].startswith("error: cannot decode tests/test_latin.py")
    assert _check(root, "--output-format", output_format) == uncached  # writes the cache
    parses.clear()
    loads: list[object] = []
    monkeypatch.setattr(workspace.IndexCache, "load", lambda self: loads.append(self) or {})
    assert _check(root, "--output-format", output_format) == uncached  # reads it
    assert parses == [] and loads == []  # neither parsed nor needed the index
    if output_format == "json":
        assert json.loads(uncached[1])


def test_editing_a_base_class_in_another_file_changes_the_cached_result(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = _check(root)
    assert "tests/test_ping.py:9:26: ATL101" in before[1]
    (root / "tests" / "base.py").write_text(ISOLATED_BASE, encoding="utf-8")
    after = _check(root)
    assert after == _check(root, "--no-cache")
    assert "ATL101" not in after[1] and after != before


def test_editing_a_coroutine_in_another_file_changes_the_cached_result(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert "tests/test_fetch.py:8:9: ATL301" in _check(root)[1]
    (root / "src" / "app" / "client.py").write_text('def fetch():\n    return "pong"\n', "utf-8")
    after = _check(root)
    assert after == _check(root, "--no-cache")
    assert "test_fetch.py" not in after[1]


@pytest.mark.parametrize(
    "options",
    [
        ("--select", "ATL3"),
        ("--ignore", "ATL101"),
        ("--target-version", "py310"),
        ("--extend-select", "ATL1", "--select", "ATL001"),
    ],
)
def test_other_settings_do_not_reuse_results(tmp_path: Path, options: tuple[str, ...]) -> None:
    root = _project(tmp_path)
    _check(root)
    assert _check(root, *options) == _check(root, "--no-cache", *options)
    assert _check(root) == _check(root, "--no-cache")


def _cache_files(root: Path, pattern: str) -> list[Path]:
    found = sorted((root / ".async-test-lint-cache").glob(pattern))
    assert found
    return found


@pytest.mark.parametrize(
    "garbage",
    [
        "{not json",
        "[]",
        '{"format": 1, "fingerprint": 3, "entries": []}',
        "\x00\xff",
        "",
    ],
)
def test_corrupt_cache_files_are_ignored_and_rebuilt(tmp_path: Path, garbage: str) -> None:
    root = _project(tmp_path)
    expected = _check(root, "--no-cache")
    assert _check(root) == expected
    for path in [*_cache_files(root, "results-*.json"), *_cache_files(root, "index-*.json")]:
        path.write_text(garbage, encoding="utf-8", errors="surrogateescape")
    assert _check(root) == expected
    assert _check(root) == expected
    assert json.loads(_cache_files(root, "results-*.json")[0].read_text(encoding="utf-8"))


def test_entries_of_the_wrong_shape_are_recomputed(tmp_path: Path) -> None:
    root = _project(tmp_path)
    expected = _check(root)
    [results] = _cache_files(root, "results-*.json")
    document = json.loads(results.read_text(encoding="utf-8"))
    for path, (key, reports, error) in document["entries"].items():
        document["entries"][path] = [key, [{"span": "nonsense"}] if reports else reports, error]
    results.write_text(json.dumps(document), encoding="utf-8")
    assert _check(root) == expected


def _poison(root: Path) -> None:
    """Rewrite every cached message: output that shows it came from the cache."""
    [results] = _cache_files(root, "results-*.json")
    document = json.loads(results.read_text(encoding="utf-8"))
    for _path, (_key, reports, _error) in document["entries"].items():
        for report in reports:
            report["message"] = "POISONED"
    results.write_text(json.dumps(document), encoding="utf-8")


def test_no_cache_neither_reads_nor_writes_results(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _check(root)
    _poison(root)
    assert "POISONED" in _check(root)[1]  # proof that the next line would have read it
    before = _cache_files(root, "results-*.json")[0].read_bytes()
    assert "POISONED" not in _check(root, "--no-cache")[1]
    assert _cache_files(root, "results-*.json")[0].read_bytes() == before


def test_fix_and_diff_do_not_use_cached_results(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _check(root)
    _poison(root)
    code, out, err = _check(root, "--diff", "--unsafe-fixes")
    assert code == 1
    assert "POISONED" not in out + err and "IsolatedAsyncioTestCase" in out


def test_the_store_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_ENTRIES paths, only the current run's entries are kept."""
    root = _project(tmp_path)
    _check(root)
    [results] = _cache_files(root, "results-*.json")
    assert len(json.loads(results.read_text(encoding="utf-8"))["entries"]) == 8
    monkeypatch.setattr(results_cache, "MAX_ENTRIES", 3)
    _check(root, "tests/test_fetch.py", "tests/test_ping.py")
    entries = json.loads(results.read_text(encoding="utf-8"))["entries"]
    assert sorted(Path(path).name for path in entries) == ["test_fetch.py", "test_ping.py"]


def test_a_file_edited_while_it_is_checked_is_not_cached_under_its_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    target = root / "tests" / "test_fetch.py"
    original_read = workspace.read_file

    def edited_after_the_scan(path: Path) -> workspace.SourceFile:
        if path == target:  # the user saves a fixed version between the scan and the lint
            target.write_text(SYNC_CALLER.replace("        fetch()", "        pass"), "utf-8")
        return original_read(path)

    monkeypatch.setattr(workspace, "read_file", edited_after_the_scan)
    _check(root)  # hashed the old text, linted the new one
    monkeypatch.setattr(workspace, "read_file", original_read)
    target.write_text(SYNC_CALLER, encoding="utf-8")  # back to the old text
    assert _check(root) == _check(root, "--no-cache")
    assert "tests/test_fetch.py:8:9: ATL301" in _check(root)[1]
