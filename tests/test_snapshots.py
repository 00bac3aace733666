"""Per-rule snapshot tests in ruff's style: today's behaviour, frozen and reviewable.

For every VALID and INVALID example of every rule (one file per rule under
`tests/snapshots/rules/<CODE>.txt`) and for every module of the demo project `examples/` (one file
per module under `tests/snapshots/examples/`), the snapshot records each diagnostic's code, range
(1-based `line:col-line:col`, end exclusive), message, the source line with carets, the fix's title
and safety, the unified diff of applying that diagnostic's fix alone, and the diff of
`fix(..., unsafe=True)` on the whole file (every rule selected).

Regenerate after a deliberate change and review the diff in the commit:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_snapshots.py
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from async_test_lint.analysis.index import ProjectIndex
from async_test_lint.config import load_pyproject
from async_test_lint.engine import fix, index_sources, lint
from async_test_lint.fixes.edits import apply_edits
from async_test_lint.model import DEFAULT_TARGET, Diagnostic, Settings
from async_test_lint.rules import Invalid, Rule, Valid, all_rules

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
RULE_SNAPSHOTS = SNAPSHOTS / "rules"
EXAMPLE_SNAPSHOTS = SNAPSHOTS / "examples"
REGENERATE = "UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_snapshots.py"
HEADER = f"# Snapshot of {{subject}}. Regenerate: {REGENERATE}\n"
DIFF_CONTEXT = 2
INDENT = "    "


def _updating() -> bool:
    return os.environ.get("UPDATE_SNAPSHOTS") == "1"


@dataclass(frozen=True)
class Case:
    """One file to lint: its text, the path the engine sees, and the path the snapshot shows."""

    title: str
    text: str
    path: str
    shown_path: str
    settings: Settings
    index: ProjectIndex | None


# --- rendering ----------------------------------------------------------------------------------


def _diff(before: str, after: str, shown_path: str) -> list[str]:
    """A unified diff, with git's marker for a missing final newline."""
    if before == after:
        return ["(no change)"]
    lines = difflib.unified_diff(
        _with_newlines(before),
        _with_newlines(after),
        f"a/{shown_path}",
        f"b/{shown_path}",
        n=DIFF_CONTEXT,
    )
    return [line.rstrip("\n") for line in lines]


def _with_newlines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def _range(diagnostic: Diagnostic) -> str:
    start, end = diagnostic.range.start, diagnostic.range.end
    return f"{start.line + 1}:{start.column + 1}-{end.line + 1}:{end.column + 1}"


def _source_excerpt(text: str, diagnostic: Diagnostic) -> list[str]:
    """The first line of the range, with carets under the reported part of it."""
    lines = text.splitlines()
    start, end = diagnostic.range.start, diagnostic.range.end
    if start.line >= len(lines):
        return []
    line = lines[start.line]
    last = end.column if end.line == start.line else len(line)
    carets = "^" * max(1, last - start.column)
    more = " ..." if end.line > start.line else ""
    gutter = f"{start.line + 1:>4} | "
    return [gutter + line, " " * (len(gutter) + start.column) + carets + more]


def _render_fix(case: Case, diagnostic: Diagnostic) -> list[str]:
    lazy = diagnostic.lazy_fix
    if lazy is None:
        return ["fix: none"]
    built = diagnostic.fix
    if built is None:
        return [f"fix: {lazy.title} ({lazy.safety.value}) -- not offered: it did not build"]
    return [
        f"fix: {built.title} ({built.safety.value})",
        *_diff(case.text, apply_edits(case.text, built.edits), case.shown_path),
    ]


def _render_diagnostic(case: Case, diagnostic: Diagnostic) -> list[str]:
    head = f"{diagnostic.code} [{_range(diagnostic)}] {diagnostic.message}"
    body = [*_source_excerpt(case.text, diagnostic), *_render_fix(case, diagnostic)]
    return [head, *(INDENT + line for line in body)]


def _ordered(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.range.start, d.range.end, d.code, d.message))


def render_case(case: Case) -> list[str]:
    result = lint(case.text, case.path, case.settings, case.index)
    lines = [f"=== {case.title}"]
    lines.extend(f"rule failure: {failure.code}: {failure.error}" for failure in result.failures)
    diagnostics = _ordered(result.diagnostics)
    if not diagnostics:
        lines.append("(no diagnostics)")
    for diagnostic in diagnostics:
        lines.extend(_render_diagnostic(case, diagnostic))
    if any(d.lazy_fix is not None for d in diagnostics):
        fixed = fix(case.text, case.path, case.settings, case.index, unsafe=True)
        lines.append(f"fix all (unsafe=True): {fixed.applied} applied in {fixed.passes} passes")
        lines.extend(INDENT + line for line in _diff(case.text, fixed.text, case.shown_path))
    return [*lines, ""]


def render(subject: str, cases: Iterable[Case]) -> str:
    lines = [line for case in cases for line in render_case(case)]
    return HEADER.format(subject=subject) + "".join(f"{line.rstrip()}\n" for line in lines)


# --- cases --------------------------------------------------------------------------------------


def _example_case(kind: str, number: int, example: Valid | Invalid) -> Case:
    settings = Settings(target_version=example.target_version or DEFAULT_TARGET)
    details = [example.path]
    if isinstance(example, Invalid):
        details.append(f"expected line {example.line}, count {example.count}")
    if example.target_version:
        details.append("target py{}.{}".format(*example.target_version))
    if example.files:
        details.append("with " + ", ".join(sorted(example.files)))
    return Case(
        title=f"{kind} {number}: " + "; ".join(details),
        text=example.code,
        path=example.path,
        shown_path=example.path,
        settings=settings,
        index=index_sources(dict(example.files), settings),
    )


def rule_cases(rule: type[Rule]) -> list[Case]:
    valid = [_example_case("valid", n, e) for n, e in enumerate(rule.valid, start=1)]
    invalid = [_example_case("invalid", n, e) for n, e in enumerate(rule.invalid, start=1)]
    return [*valid, *invalid]


def render_rule(rule: type[Rule]) -> str:
    return render(f"{rule.code} ({rule.name}): its valid and invalid examples", rule_cases(rule))


def example_modules() -> dict[str, str]:
    return {
        path.relative_to(EXAMPLES).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(EXAMPLES.rglob("*.py"))
    }


def _examples_index(modules: Mapping[str, str], settings: Settings) -> ProjectIndex:
    return index_sources({str(EXAMPLES / rel): text for rel, text in modules.items()}, settings)


def render_example_module(relative: str) -> str:
    settings = load_pyproject(EXAMPLES / "pyproject.toml")
    modules = example_modules()
    case = Case(
        title=f"examples/{relative}",
        text=modules[relative],
        path=str(EXAMPLES / relative),
        shown_path=f"examples/{relative}",
        settings=settings,
        index=_examples_index(modules, settings),
    )
    return render(f"examples/{relative} (settings from examples/pyproject.toml)", [case])


def example_snapshot_path(relative: str) -> Path:
    return EXAMPLE_SNAPSHOTS / f"{relative}.txt"


# --- comparison ---------------------------------------------------------------------------------


def check_snapshot(target: Path, actual: str) -> None:
    if _updating():
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != actual:
            target.write_text(actual, encoding="utf-8")
        return
    if not target.exists():
        pytest.fail(f"{_shown(target)} does not exist; create it with:\n    {REGENERATE}")
    expected = target.read_text(encoding="utf-8")
    if expected != actual:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            f"{_shown(target)} (snapshot)",
            f"{_shown(target)} (now)",
        )
        pytest.fail(
            f"{_shown(target)} changed:\n{''.join(diff)}\n"
            f"If the change is deliberate, regenerate and review the diff:\n    {REGENERATE}",
            pytrace=False,
        )


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _expected_files() -> set[Path]:
    rules = {RULE_SNAPSHOTS / f"{rule.code}.txt" for rule in all_rules()}
    return rules | {example_snapshot_path(relative) for relative in example_modules()}


# --- tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_rule_examples_match_snapshot(rule: type[Rule]) -> None:
    check_snapshot(RULE_SNAPSHOTS / f"{rule.code}.txt", render_rule(rule))


@pytest.mark.parametrize("relative", sorted(example_modules()))
def test_example_module_matches_snapshot(relative: str) -> None:
    check_snapshot(example_snapshot_path(relative), render_example_module(relative))


def test_no_stale_snapshots() -> None:
    """A snapshot of a rule or module that no longer exists is removed (or reported)."""
    present = {*RULE_SNAPSHOTS.glob("*.txt"), *EXAMPLE_SNAPSHOTS.rglob("*.txt")}
    stale = sorted(present - _expected_files())
    if _updating():
        for path in stale:
            path.unlink()
        return
    assert not stale, f"stale snapshots {[_shown(p) for p in stale]}; {REGENERATE} removes them"
