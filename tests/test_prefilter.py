"""The text pre-filter never changes a result: files it skips are files no rule reports on.

Checked on the examples project, on every rule's Valid and Invalid example (with the other files
it names), on cross-module cases written to have no needle in the test file itself, and (slow) on
the whole real-world corpus of bench/corpus.py.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from async_test_lint.config import load_settings
from async_test_lint.discovery import discover
from async_test_lint.model import DEFAULT_TARGET, Settings
from async_test_lint.output import Report
from async_test_lint.prefilter import Reach, mentions_needle
from async_test_lint.rules import Invalid, Valid, all_rules
from async_test_lint.workspace import Job, ProjectScan, check_project, index_of, scan_project

ROOT = Path(__file__).resolve().parents[1]


def _outcomes(
    paths: list[Path], settings: Settings, prefilter: bool
) -> dict[str, tuple[tuple[Report, ...], str | None]]:
    project = ProjectScan(paths, settings, workers=1)
    jobs = [Job(path, str(path)) for path in paths]
    outcomes = check_project(jobs, project, prefilter=prefilter, workers=1)
    return {outcome.job.display: (outcome.reports, outcome.error) for outcome in outcomes}


def _skipped(paths: list[Path], settings: Settings) -> set[Path]:
    scans = scan_project(paths, settings, workers=1)
    reach = Reach(index_of(scans), {str(path): scan.mentions for path, scan in scans.items()})
    return {
        path for path, scan in scans.items() if not reach.needs_lint(scan.summary, scan.mentions)
    }


def _write(root: Path, files: Mapping[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def assert_same_with_and_without(paths: list[Path], settings: Settings) -> None:
    assert _outcomes(paths, settings, True) == _outcomes(paths, settings, False)


def test_examples_project_results_do_not_change() -> None:
    root = ROOT / "examples"
    settings = load_settings(root)
    paths = discover([root], root=root)
    assert len(paths) > 5
    assert_same_with_and_without(paths, settings)


def _example_cases() -> list[object]:
    cases = []
    for rule in all_rules():
        for kind, examples in (("valid", rule.valid), ("invalid", rule.invalid)):
            for number, example in enumerate(examples, start=1):
                cases.append(pytest.param(example, id=f"{rule.code}-{kind}-{number}"))
    return cases


@pytest.mark.parametrize("example", _example_cases())
def test_rule_example_results_do_not_change(example: Valid | Invalid, tmp_path: Path) -> None:
    settings = Settings(
        project_root=str(tmp_path), target_version=example.target_version or DEFAULT_TARGET
    )
    paths = _write(tmp_path, {**example.files, example.path: example.code})
    with_filter = _outcomes(paths, settings, True)
    assert with_filter == _outcomes(paths, settings, False)
    if isinstance(example, Invalid):
        assert with_filter[str(tmp_path / example.path)][0], "the invalid example was skipped"


SERVICE = """\
import asyncio


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}
"""

REEXPORT = "from app.service import fetch_user\n"

PLAIN_HELPERS = """\
def total(values):
    return sum(values)
"""

#: no needle at all: ATL301 comes only through the index (a coroutine function elsewhere).
CALLS_COROUTINE_THROUGH_REEXPORT = """\
import unittest

from app import fetch_user


class UserTest(unittest.TestCase):
    def test_fetch(self):
        fetch_user(1)
"""

USES_PLAIN_HELPERS = """\
import unittest

from helpers import total


class TotalTest(unittest.TestCase):
    def test_total(self):
        self.assertEqual(total([1, 2]), 3)
"""


def test_cross_module_coroutine_keeps_the_file(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": REEXPORT,
        "app/service.py": SERVICE,
        "helpers.py": PLAIN_HELPERS,
        "tests/test_user.py": CALLS_COROUTINE_THROUGH_REEXPORT,
        "tests/test_total.py": USES_PLAIN_HELPERS,
    }
    paths = _write(tmp_path, files)
    (tmp_path / "pyproject.toml").write_text("[tool.async-test-lint]\n", encoding="utf-8")
    settings = load_settings(tmp_path)
    assert not mentions_needle(CALLS_COROUTINE_THROUGH_REEXPORT)
    skipped = _skipped(paths, settings)
    assert tmp_path / "helpers.py" in skipped
    assert tmp_path / "tests/test_user.py" not in skipped
    outcomes = _outcomes(paths, settings, True)
    assert [r.code for r in outcomes[str(tmp_path / "tests/test_user.py")][0]] == ["ATL301"]
    assert outcomes == _outcomes(paths, settings, False)


def test_unparsable_and_undecodable_files_are_always_linted(tmp_path: Path) -> None:
    paths = _write(tmp_path, {"broken.py": "def f(:\n    pass\n"})
    bad = tmp_path / "latin.py"
    bad.write_bytes(b"x = '\xff'\n")
    paths.append(bad)
    settings = Settings(project_root=str(tmp_path))
    assert _skipped(paths, settings) == set()
    outcomes = _outcomes(paths, settings, True)
    assert [r.code for r in outcomes[str(tmp_path / "broken.py")][0]] == ["ATL001"]
    assert outcomes[str(bad)][1] is not None
    assert outcomes == _outcomes(paths, settings, False)


def test_needles_are_case_insensitive() -> None:
    assert mentions_needle("class T(IsolatedAsyncioTestCase): pass")
    assert mentions_needle("from unittest.mock import MagicMock")
    assert mentions_needle("class T(AioHTTPTestCase): pass")
    assert not mentions_needle("from __future__ import annotations\nx = 1\n")


@pytest.mark.slow
def test_corpus_results_do_not_change() -> None:
    """Every project of the real-world corpus (bench/corpus.py; skipped when not downloaded)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from corpus import SOURCES, project_folders, python_files

    if not SOURCES.is_dir() or not any(SOURCES.iterdir()):
        pytest.skip("the corpus is not downloaded: python bench/corpus.py")
    skipped_total = 0
    for folder in project_folders():
        settings = Settings(project_root=str(folder))
        paths = list(python_files(folder))
        skipped_total += len(_skipped(paths, settings))
        filtered, unfiltered = (
            _outcomes_parallel(paths, settings, prefilter) for prefilter in (True, False)
        )
        assert filtered == unfiltered, folder.name
    assert skipped_total > 0


def _outcomes_parallel(
    paths: list[Path], settings: Settings, prefilter: bool
) -> dict[str, tuple[tuple[Report, ...], str | None]]:
    project = ProjectScan(paths, settings)
    jobs = [Job(path, str(path)) for path in paths]
    outcomes = check_project(jobs, project, prefilter=prefilter)
    return {outcome.job.display: (outcome.reports, outcome.error) for outcome in outcomes}
