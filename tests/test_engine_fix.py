"""`engine.fix` checks a pass of fixes together: one parse per pass, not one per fix."""

from __future__ import annotations

import pytest
from async_test_lint import engine, parsing
from async_test_lint.model import (
    Diagnostic,
    Edit,
    Fix,
    LazyFix,
    Position,
    Safety,
    Severity,
    TextRange,
)


def _module(tests: int) -> str:
    lines = ["import asyncio", "import time", "import unittest", ""]
    for n in range(tests):
        lines += [
            f"class T{n}(unittest.IsolatedAsyncioTestCase):",
            f"    async def test_{n}(self):",
            "        time.sleep(0.1)",
            "",
        ]
    return "\n".join(lines)


def test_a_pass_of_many_fixes_parses_the_result_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parses = 0
    real_parse = parsing.parse_python

    def counting_parse(text: str) -> object:
        nonlocal parses
        parses += 1
        return real_parse(text)

    monkeypatch.setattr(engine, "parse_python", counting_parse)
    result = engine.fix(_module(60), "tests/test_many.py")
    assert result.applied == 60
    assert result.text.count("await asyncio.sleep(0.1)") == 60
    # Two lints (before and after the pass) and one check of the pass, whatever the fix count.
    assert parses <= 3 * (result.passes + 1)


def test_when_the_combination_does_not_parse_the_fixes_are_checked_one_by_one() -> None:
    text = "x = 1\ny = 2\n"
    line_0 = TextRange(Position(0, 0), Position(0, 5))
    line_1 = TextRange(Position(1, 0), Position(1, 5))
    # The first fix breaks the file: the pass falls back to checking each fix, keeps the second.
    breaking = Fix("break", Safety.SAFE, (Edit(line_0, "x = ("),))
    fine = Fix("fine", Safety.SAFE, (Edit(line_1, "y = 3"),))
    diagnostics = [_diagnostic(breaking), _diagnostic(fine)]
    assert engine._fix_pass(text, diagnostics) == ("x = 1\ny = 3\n", 1)


def _diagnostic(fix: Fix) -> Diagnostic:
    raw = LazyFix.ready(fix)
    parsed = parsing.parse_python("x = 1\ny = 2\n")
    assert isinstance(parsed, parsing.ParsedSource)
    unchecked = Diagnostic("ATL999", "test", "m", fix.edits[0].range, Severity.WARNING, raw)
    return engine._validated(unchecked, parsed, engine._ModelOwner())
