"""The bundled demo project (`examples/`) as a snapshot test.

Every diagnostic of every file (path, line, code) is compared with `tests/snapshots/examples.txt`.
Regenerate it after a rule changes on purpose:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_examples_project.py

and review the diff. Independently of the snapshot, the correct example modules
(`tests/test_ok_*.py`, `app/`, `scripts/`) must stay silent, and no rule may fail on any file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from async_test_lint.engine import index_sources, lint
from async_test_lint.model import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "examples.txt"
HEADER = (
    "# Diagnostics of the demo project examples/ as `path:line:column: code`.\n"
    "# Regenerate: UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_examples_project.py\n"
)
#: Modules written to be correct: any diagnostic in them is a false positive.
SILENT = ("app/*.py", "scripts/*.py", "tests/test_ok_*.py", "tests/__init__.py")


def _selectors(values: object) -> frozenset[str]:
    assert isinstance(values, list)
    return frozenset(str(value).upper() for value in values)


def example_settings() -> Settings:
    """Settings from examples/pyproject.toml, read as the CLI and the server read them."""
    try:
        from async_test_lint.config import load_pyproject
    except ImportError:  # pragma: no cover - before config.py existed
        return _fallback_settings()
    return load_pyproject(EXAMPLES / "pyproject.toml")


def _fallback_settings() -> Settings:
    data = tomllib.loads((EXAMPLES / "pyproject.toml").read_text(encoding="utf-8"))
    table = data["tool"]["async-test-lint"]
    digits = str(table.get("target-version", "py39")).removeprefix("py").replace(".", "")
    per_file = tuple(
        (pattern, _selectors(codes)) for pattern, codes in table.get("per-file-ignores", {}).items()
    )
    return Settings(
        select=_selectors(table.get("select", ["ALL"])),
        ignore=_selectors(table.get("ignore", [])),
        per_file_ignores=per_file,
        exclude=tuple(table.get("exclude", ())),
        target_version=(int(digits[0]), int(digits[1:])),
        project_root=str(EXAMPLES),
    )


def test_settings_come_from_the_example_pyproject() -> None:
    settings = example_settings()
    assert settings.target_version == (3, 9)
    assert settings.project_root is not None and Path(settings.project_root) == EXAMPLES
    assert settings.per_file_ignores


def example_files() -> dict[str, str]:
    return {
        path.relative_to(EXAMPLES).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(EXAMPLES.rglob("*.py"))
    }


def lint_examples() -> tuple[list[str], list[str]]:
    """(snapshot lines, rule failures) for the whole demo project."""
    settings = example_settings()
    files = example_files()
    # The index knows every module under its absolute path, as the CLI and the server see them.
    index = index_sources(
        {str(EXAMPLES / relative): text for relative, text in files.items()}, settings
    )
    lines: list[str] = []
    failures: list[str] = []
    for relative, text in files.items():
        result = lint(text, str(EXAMPLES / relative), settings, index)
        failures.extend(
            f"{relative}: {failure.code}: {failure.error}" for failure in result.failures
        )
        for diagnostic in result.diagnostics:
            start = diagnostic.range.start
            lines.append(f"{relative}:{start.line + 1}:{start.column + 1}: {diagnostic.code}")
    return lines, failures


def test_example_project_matches_snapshot() -> None:
    lines, failures = lint_examples()
    assert failures == []
    text = HEADER + "".join(f"{line}\n" for line in lines)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
        if os.environ.get("UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"{SNAPSHOT} did not exist and was written: review and commit it")
    expected = [
        line
        for line in SNAPSHOT.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert lines == expected, "the diagnostics of examples/ changed; UPDATE_SNAPSHOTS=1 regenerates"


def test_correct_examples_are_silent() -> None:
    import fnmatch

    lines, _ = lint_examples()
    noisy = [
        line
        for line in lines
        if any(fnmatch.fnmatch(line.split(":", 1)[0], pattern) for pattern in SILENT)
    ]
    assert noisy == []


def test_every_broken_example_module_is_reported() -> None:
    """Once the rules land, each broken module has at least one diagnostic (ATL101 already does)."""
    lines, _ = lint_examples()
    assert any(
        line.startswith("tests/test_client_loops.py:") and line.endswith("ATL101") for line in lines
    )


def test_noqa_and_per_file_ignores_apply() -> None:
    lines, _ = lint_examples()
    client_loops = (
        (EXAMPLES / "tests" / "test_client_loops.py").read_text(encoding="utf-8").splitlines()
    )
    noqa_line = next(
        number for number, line in enumerate(client_loops, 1) if "noqa: ATL101" in line
    )
    assert f"tests/test_client_loops.py:{noqa_line}:" not in "\n".join(lines)
    assert not any(line.startswith("scripts/") for line in lines)
