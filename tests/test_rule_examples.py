"""Every rule's VALID and INVALID examples, turned into tests.

- A valid example is silent for every rule, not only its own.
- An invalid example is reported `count` times by its rule, the first on `line`.
- Where the example has a fixed form, applying the rule's fixes (safe and unsafe) gives exactly that
  text, the rule is silent on it, and fixing again changes nothing. A `runnable` fixed module is
  run on every Python found by tests/test_fixed_examples_run.py.
"""

from __future__ import annotations

import re

import pytest
from async_test_lint.engine import fix, index_sources, lint
from async_test_lint.model import DEFAULT_TARGET, Settings
from async_test_lint.rules import Invalid, Rule, Valid, all_rules


def _settings(example: Valid | Invalid, select: frozenset[str] = frozenset({"ALL"})) -> Settings:
    return Settings(select=select, target_version=example.target_version or DEFAULT_TARGET)


def _cases(kind: str) -> list[object]:
    cases = []
    for rule in all_rules():
        examples = rule.valid if kind == "valid" else rule.invalid
        for number, example in enumerate(examples, start=1):
            cases.append(pytest.param(rule, example, id=f"{rule.code}-{kind}-{number}"))
    return cases


@pytest.mark.parametrize(("rule", "example"), _cases("valid"))
def test_valid_example_is_silent(rule: type[Rule], example: Valid) -> None:
    settings = _settings(example)
    index = index_sources(dict(example.files), settings)
    result = lint(example.code, example.path, settings, index)
    assert not result.failures
    assert [(d.code, d.range.start.line + 1, d.message) for d in result.diagnostics] == []


@pytest.mark.parametrize(("rule", "example"), _cases("invalid"))
def test_invalid_example_is_reported(rule: type[Rule], example: Invalid) -> None:
    settings = _settings(example)
    index = index_sources(dict(example.files), settings)
    result = lint(example.code, example.path, settings, index)
    assert not result.failures
    own = [d for d in result.diagnostics if d.code == rule.code]
    assert len(own) == example.count, [
        (d.code, d.range.start.line + 1, d.message) for d in result.diagnostics
    ]
    assert own[0].range.start.line + 1 == example.line
    for diagnostic in own:
        assert diagnostic.message and diagnostic.range.start <= diagnostic.range.end
        # A rule may offer an unsafe fix where its usual one cannot apply (`other_fix_safeties`).
        safeties = {rule.fix_safety, *getattr(rule, "other_fix_safeties", ())}
        assert diagnostic.fix_safety in (safeties if diagnostic.lazy_fix else {None})


@pytest.mark.parametrize(
    ("rule", "example"),
    [case for case in _cases("invalid") if case.values[1].fixed is not None],  # type: ignore[attr-defined]
)
def test_fix_gives_the_expected_text(rule: type[Rule], example: Invalid) -> None:
    settings = _settings(example, frozenset({rule.code}))
    index = index_sources(dict(example.files), settings)
    fixed = fix(example.code, example.path, settings, index, unsafe=True)
    assert fixed.text == example.fixed
    assert not [
        d
        for d in lint(fixed.text, example.path, settings, index).diagnostics
        if d.code == rule.code
    ]
    again = fix(fixed.text, example.path, settings, index, unsafe=True)
    assert again.text == fixed.text and again.applied == 0


def test_every_rule_has_documentation_and_examples() -> None:
    for rule in all_rules():
        assert re.fullmatch(r"ATL\d{3}", rule.code), rule
        assert re.fullmatch(r"[a-z0-9-]+", rule.name), rule
        for attribute in ("summary", "what", "why", "versions", "fix_notes", "family"):
            assert getattr(rule, attribute, "").strip(), f"{rule.code} lacks {attribute}"
        assert len(rule.invalid) >= 3, f"{rule.code} needs at least three invalid examples"
        assert len(rule.valid) >= 3, f"{rule.code} needs at least three valid examples"
        assert rule.example_after(), f"{rule.code} needs a fixed example or use_instead"
        if rule.fix_safety is not None:
            assert any(example.fixed for example in rule.invalid), f"{rule.code} shows no fix"


def test_rule_names_and_codes_are_unique() -> None:
    rules = all_rules()
    assert len({rule.code for rule in rules}) == len(rules)
    assert len({rule.name for rule in rules}) == len(rules)
