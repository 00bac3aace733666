"""docs/rules/ is generated from the rules' own fields: a stale page fails here."""

from __future__ import annotations

from pathlib import Path

from async_test_lint.docs import generated_files, hover_markdown, rule_markdown
from async_test_lint.model import Diagnostic, Position, Severity, TextRange
from async_test_lint.rules import all_rules

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"
SECTIONS = (
    "## What it does",
    "## Why is this bad?",
    "## Python versions",
    "## Example",
    "## Use instead",
    "## Fix safety",
)
REGENERATE = "regenerate with: .venv/bin/python -m async_test_lint.docs docs/rules"


def test_rule_pages_are_current() -> None:
    expected = generated_files()
    for name, content in expected.items():
        page = DOCS / name
        assert page.exists(), f"{page} is missing; {REGENERATE}"
        assert page.read_text(encoding="utf-8") == content, f"{page} is stale; {REGENERATE}"
    stray = {page.name for page in DOCS.glob("*.md")} - set(expected)
    assert not stray, f"pages of no rule: {sorted(stray)}; {REGENERATE}"


def test_every_page_has_the_five_sections_and_the_hover_names_the_finding() -> None:
    for rule in all_rules():
        page = rule_markdown(rule)
        for heading in (
            "## What it does",
            "## Why is this bad?",
            "## Python versions",
            "## Example",
        ):
            assert heading in page, f"{rule.code} lacks {heading}"
        assert "## Use instead" in page and "## Fix safety" in page, rule.code
        where = TextRange(Position(0, 0), Position(0, 1))
        found = Diagnostic(rule.code, rule.name, "the concrete message", where, Severity.WARNING)
        hover = hover_markdown(rule, found)
        assert hover.startswith(f"**{rule.code} {rule.name}**: the concrete message"), rule.code
