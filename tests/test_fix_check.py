"""The engine checks a fix by parsing the statement it edits, never changing the verdict of a
whole-file parse: a fix whose result does not parse is refused, one whose result parses is kept."""

from __future__ import annotations

import random

import pytest
from async_test_lint import engine, parsing
from async_test_lint.fixes.edits import OverlappingEdits, apply_edits
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

SOURCE = '''\
"""Module docstring."""
import asyncio
import unittest

FLAG = True  # a comment


@decorator
@other(
    1,
)
class Test(unittest.IsolatedAsyncioTestCase):
    attribute = [
        1,
        2,
    ]

    async def test_a(self, mode=0):
        if mode == 1:
            await asyncio.sleep(0)
        elif mode == 2:
            x = 1; y = 2
        else:
            pass
        try:
            value = await self.call(
                "text"
            )
        except ValueError as error:
            raise
        finally:
            self.done = True
        with open("a") as handle, \\
                open("g"):
            text = """multi
line"""
        return value

    @staticmethod
    def helper():
        return 1


def tabbed():
\tif True:
\t\treturn 1


async def top_level(items):
    for item in items:
        while item:
            item -= 1
        else:
            continue
    if FLAG: print("same line")
    total = sum(
        item for item in items
    )
    return total
'''

SNIPPETS = (
    "",
    "await ",
    "(",
    ")",
    "\n",
    "    ",
    "\t",
    "pass",
    "\n        pass",
    "\n    pass",
    "\npass\n",
    "if x:\n",
    ":",
    ";",
    "\\",
    "'''",
    '"',
    "# comment",
    "elif y:",
    "else:",
    "\n        z = 1\n",
    "lambda: 0",
    "@",
    "def f(): pass",
    "x = 1; ",
    "asyncio.run(",
)


def _parsed(text: str) -> parsing.ParsedSource:
    parsed = parsing.parse_python(text)
    assert isinstance(parsed, parsing.ParsedSource)
    return parsed


def _random_edits(rng: random.Random, text: str, count: int) -> list[Edit]:
    lines = _parsed(text).lines
    offsets = sorted(rng.sample(range(len(text) + 1), 2 * count))
    edits = []
    for start, end in zip(offsets[::2], offsets[1::2]):
        if rng.random() < 0.6:
            end = start if rng.random() < 0.7 else min(end, start + rng.randint(1, 8))
        edits.append(
            Edit(TextRange(lines.position(start), lines.position(end)), rng.choice(SNIPPETS))
        )
    return edits


def _whole_file_verdict(text: str, edits: list[Edit]) -> bool | None:
    try:
        fixed = apply_edits(text, edits)
    except OverlappingEdits:
        return None
    return engine.syntax_ok(fixed)


@pytest.mark.parametrize("seed", range(6))
def test_the_statement_check_agrees_with_a_whole_file_parse(seed: int) -> None:
    rng = random.Random(seed)
    checker = engine.FixChecker(_parsed(SOURCE))
    agreed = {True: 0, False: 0}
    for _ in range(400):
        edits = _random_edits(rng, SOURCE, rng.choice((1, 1, 1, 2, 3)))
        expected = _whole_file_verdict(SOURCE, edits)
        if expected is None:
            with pytest.raises(OverlappingEdits):
                checker.parses(edits)
            continue
        assert checker.parses(edits) is expected, edits
        agreed[expected] += 1
    assert agreed[True] > 20 and agreed[False] > 20  # both verdicts were exercised


def test_edits_that_stay_in_one_method_do_not_parse_the_whole_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = SOURCE + "".join(f"\n\ndef filler_{n}():\n    return {n}\n" for n in range(500))
    parsed = _parsed(text)
    lines = parsed.lines
    row = next(i for i, line in enumerate(lines.lines()) if "await asyncio.sleep(0)" in line)
    at = Position(row, lines.line_text(row).index("await"))
    parsed_sizes: list[int] = []
    real_parse = parsing.parse_python

    def measuring_parse(source: str) -> object:
        parsed_sizes.append(len(source))
        return real_parse(source)

    monkeypatch.setattr(engine, "parse_python", measuring_parse)
    checker = engine.FixChecker(parsed)
    assert checker.parses([Edit(TextRange(at, at), "x = (")]) is False
    assert checker.parses([Edit(TextRange(at, at), "\n")]) is False
    assert checker.parses([Edit(TextRange(at, at), "print(")]) is False
    parsed_sizes.clear()
    assert checker.parses([Edit(TextRange(at, Position(row, at.column + 6)), "")]) is True
    assert parsed_sizes and max(parsed_sizes) < len(text) / 20  # the statement, not the file


def _diagnostic(parsed: parsing.ParsedSource, fix: Fix) -> Diagnostic:
    raw = LazyFix.ready(fix)
    unchecked = Diagnostic("ATL999", "test", "m", fix.edits[0].range, Severity.WARNING, raw)
    return engine._validated(unchecked, parsed, engine._ModelOwner())


def test_a_fix_whose_result_does_not_parse_is_still_refused() -> None:
    text = "class T:\n    def test(self):\n        x = 1\n\n    def other(self):\n        pass\n"
    parsed = _parsed(text)
    line = TextRange(Position(2, 8), Position(2, 13))
    # Parses as a statement list on its own, but dedents out of the method and the class:
    # the line after it (`def other`, indented) then fails.
    dedenting = Fix("dedent", Safety.SAFE, (Edit(line, "x = 1\npass"),))
    assert not engine.syntax_ok(apply_edits(text, dedenting.edits))
    assert _diagnostic(parsed, dedenting).fix is None
    unbalanced = Fix("unbalanced", Safety.SAFE, (Edit(line, "x = (1"),))
    assert _diagnostic(parsed, unbalanced).fix is None
    fine = Fix("fine", Safety.SAFE, (Edit(line, "x = 2"),))
    assert _diagnostic(parsed, fine).fix == fine


def test_a_fix_that_parses_only_in_its_file_is_kept() -> None:
    # The edit closes the method's block and adds a statement to the class body: the statement
    # alone (inside `if 1:`) does not parse as one block, the whole file does.
    text = "class T:\n    def test(self):\n        x = 1\n"
    parsed = _parsed(text)
    line = TextRange(Position(2, 8), Position(2, 13))
    outdenting = Fix("outdent", Safety.SAFE, (Edit(line, "x = 1\n    y = 2"),))
    assert engine.syntax_ok(apply_edits(text, outdenting.edits))
    assert _diagnostic(parsed, outdenting).fix == outdenting
