"""The engine on real code: the corpus of bench/corpus.py and the interpreter's test_asyncio.

Slow (minutes): excluded from the default run. Download the corpus once, then run

    .venv/bin/python bench/corpus.py
    .venv/bin/python -m pytest -m slow tests/test_corpus.py -s

Without the corpus the fix-property test is skipped; without the interpreter's `test` package
(some distributions strip it) the test_asyncio test is. See docs/real-world.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from async_test_lint.engine import index_sources, lint
from async_test_lint.model import Settings
from async_test_lint.source import SourceDecodeError, decode_source

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import corpus  # noqa: E402  (bench/ is not a package)
import fix_properties  # noqa: E402

pytestmark = pytest.mark.slow


def _downloaded_projects() -> list[Path]:
    if not corpus.SOURCES.is_dir():
        return []
    return sorted(folder for folder in corpus.SOURCES.iterdir() if folder.is_dir())


def test_fix_properties_hold_on_every_corpus_file(capsys: pytest.CaptureFixture[str]) -> None:
    projects = _downloaded_projects()
    if not projects:
        pytest.skip("the corpus is not downloaded: run `python bench/corpus.py`")
    folders = [*projects, corpus.interpreter_tests()]
    tally = fix_properties.run(folders, (3, 9), os.cpu_count() or 2)
    with capsys.disabled():
        print(f"\n[corpus] {dict(sorted(tally.counts.items()))}")
    assert tally.counts["files"] > 0
    assert tally.failures == [], "\n".join(
        f"{failure['kind']}: {failure['path']}: {failure['detail']}"
        for failure in tally.failures[:20]
    )


def test_the_interpreters_test_asyncio_is_silent() -> None:
    package = corpus.interpreter_tests() / "test_asyncio"
    if not package.is_dir():
        pytest.skip(f"this interpreter ships no test package ({package})")
    texts: dict[str, str] = {}
    for path in corpus.python_files(package):
        try:
            texts[str(path)] = decode_source(path.read_bytes())
        except SourceDecodeError:
            continue
    settings = Settings(project_root=str(package.parent), target_version=(3, 9))
    index = index_sources(texts, settings)
    found = [
        f"{Path(path).name}:{diagnostic.range.start.line + 1} {diagnostic.code} "
        f"{diagnostic.message}"
        for path, text in texts.items()
        for diagnostic in lint(text, path, settings, index).diagnostics
    ]
    assert len(texts) > 20
    assert found == []
