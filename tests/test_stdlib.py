"""The engine never raises on any .py file of the running interpreter's standard library.

Slow (thousands of files, `test` package included): excluded from the default run. Run it with

    .venv/bin/python -m pytest -m slow tests/test_stdlib.py -s

Files that do not decode or parse (the test suite ships deliberately broken ones) must give a
clear error: a SourceDecodeError, or exactly one ATL001 syntax-error diagnostic. Every other file
must lint without a rule failure. The counts and the time are printed (`-s`).
"""

from __future__ import annotations

import sysconfig
import time
from pathlib import Path

import pytest
from async_test_lint.engine import SYNTAX_ERROR_CODE, lint
from async_test_lint.source import SourceDecodeError, decode_source

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _files() -> list[Path]:
    return sorted(path for path in STDLIB.rglob("*.py") if "site-packages" not in path.parts)


@pytest.mark.slow
def test_engine_never_raises_on_the_standard_library(capsys: pytest.CaptureFixture[str]) -> None:
    files = _files()
    assert len(files) > 1000, f"no standard library found at {STDLIB}"
    counts = {"files": 0, "undecodable": 0, "syntax errors": 0, "diagnostics": 0}
    failures: list[str] = []
    slowest: list[tuple[float, str]] = []
    started = time.perf_counter()
    for path in files:
        counts["files"] += 1
        try:
            text = decode_source(path.read_bytes())
        except SourceDecodeError as error:
            assert str(error), path
            counts["undecodable"] += 1
            continue
        begin = time.perf_counter()
        result = lint(text, str(path))
        slowest.append((time.perf_counter() - begin, str(path.relative_to(STDLIB))))
        failures.extend(f"{path}: {failure.code}: {failure.error}" for failure in result.failures)
        if any(d.code == SYNTAX_ERROR_CODE for d in result.diagnostics):
            assert len(result.diagnostics) == 1, path
            counts["syntax errors"] += 1
        else:
            counts["diagnostics"] += len(result.diagnostics)
    elapsed = time.perf_counter() - started
    slowest.sort(reverse=True)
    with capsys.disabled():
        print(f"\n[stdlib] {STDLIB}: {counts} in {elapsed:.1f} s")
        for seconds, name in slowest[:5]:
            print(f"[stdlib]   {seconds:.2f} s  {name}")
    assert failures == [], "\n".join(failures[:50])
