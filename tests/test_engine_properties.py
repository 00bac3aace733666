"""Properties of fixes, for every rule example and for generated variations of them.

- every offered fix (safe and unsafe), applied alone, yields code that parses;
- `fix` (all fixes, passes until nothing changes) yields code that parses, converges within the
  pass bound, and is idempotent: fixing the result again changes nothing;
- the engine never raises and no rule fails on any of these inputs.

Variations (hypothesis): identifiers renamed, comment lines and blank lines inserted, CRLF line
breaks. They keep the module valid Python; the findings may change, the properties may not.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from typing import Union

import pytest
from async_test_lint.engine import MAX_FIX_PASSES, fix, index_sources, lint, syntax_ok
from async_test_lint.fixes.edits import apply_edits
from async_test_lint.model import DEFAULT_TARGET, Safety, Settings
from async_test_lint.rules import Invalid, Valid, all_rules
from async_test_lint.source import LineIndex
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

Example = Union[Invalid, Valid]


def _examples(include_valid: bool = False) -> list[tuple[str, Example]]:
    found: list[tuple[str, Example]] = []
    for rule in all_rules():
        for number, example in enumerate(rule.invalid, start=1):
            found.append((f"{rule.code}-invalid-{number}", example))
        if include_valid:
            for number, valid in enumerate(rule.valid, start=1):
                found.append((f"{rule.code}-valid-{number}", valid))
    return found


INVALID = _examples()
EVERY = _examples(include_valid=True)


def _settings(example: Example) -> Settings:
    return Settings(target_version=example.target_version or DEFAULT_TARGET)


def check_properties(code: str, example: Example) -> None:
    settings = _settings(example)
    index = index_sources(dict(example.files), settings)
    result = lint(code, example.path, settings, index)
    assert result.failures == (), result.failures
    for diagnostic in result.diagnostics:
        offered = diagnostic.fix
        if offered is None:
            continue
        assert offered.safety in (Safety.SAFE, Safety.UNSAFE)
        assert offered.safety == diagnostic.fix_safety
        alone = apply_edits(code, offered.edits, LineIndex(code))
        assert syntax_ok(alone), f"the fix of {diagnostic.code} does not parse:\n{alone}"
    for unsafe in (False, True):
        first = fix(code, example.path, settings, index, unsafe=unsafe)
        assert syntax_ok(first.text), first.text
        assert first.passes < MAX_FIX_PASSES, f"no convergence in {MAX_FIX_PASSES} passes"
        again = fix(first.text, example.path, settings, index, unsafe=unsafe)
        assert again.applied == 0 and again.text == first.text, "fixing twice changed the text"
        assert lint(first.text, example.path, settings, index).failures == ()


@pytest.mark.parametrize(("name", "example"), INVALID, ids=[name for name, _ in INVALID])
def test_fix_properties_of_rule_examples(name: str, example: Invalid) -> None:
    check_properties(example.code, example)


# -- variations ----------------------------------------------------------------------------------

_KEEP = {"self", "cls", "super", "print", "len", "range", "object", "Exception", "None", "True"}


def _renamable(code: str) -> list[str]:
    """Names defined in the module that can be renamed without changing what unittest runs."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = node.name
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            name = node.id
        elif isinstance(node, ast.arg):
            name = node.arg
        else:
            continue
        special = name.startswith(("test", "setUp", "tearDown", "asyncSetUp", "asyncTearDown", "_"))
        if not special and name not in _KEEP and not keyword.iskeyword(name):
            names.add(name)
    return sorted(names)


def rename(code: str, renames: dict[str, str]) -> str:
    """Rename NAME tokens (never text in strings or comments)."""
    lines = code.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.NAME and token.string in renames:
            edits.append((token.start[0] - 1, token.start[1], token.end[1], renames[token.string]))
    for line, start, end, new in sorted(edits, reverse=True):
        lines[line] = lines[line][:start] + new + lines[line][end:]
    return "".join(lines)


def insert_lines(code: str, positions: list[int], comment: bool) -> str:
    """Comment or blank lines before some lines (never after a backslash continuation)."""
    lines = code.splitlines(keepends=True)
    for position in sorted({p % (len(lines) + 1) for p in positions}, reverse=True):
        if position > 0 and lines[position - 1].rstrip("\r\n").endswith("\\"):
            continue
        following = lines[position] if position < len(lines) else ""
        indent = following[: len(following) - len(following.lstrip(" \t"))] if comment else ""
        lines.insert(position, f"{indent}# a comment: asyncio.run(x)\n" if comment else "\n")
    return "".join(lines)


@st.composite
def variations(draw: st.DrawFn) -> tuple[str, Example]:
    _, example = draw(st.sampled_from(EVERY))
    code = example.code
    names = _renamable(code)
    if names:
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=4))
        suffix = draw(st.sampled_from(["_x", "2", "Renamed", "_ü"]))
        code = rename(code, {name: name + suffix for name in chosen})
    count = code.count("\n") + 1
    code = insert_lines(code, draw(st.lists(st.integers(0, count), max_size=4)), comment=True)
    code = insert_lines(code, draw(st.lists(st.integers(0, count), max_size=3)), comment=False)
    if draw(st.booleans()):
        code = code.replace("\r\n", "\n").replace("\n", "\r\n")
    return code, example


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(variations())
def test_fix_properties_of_variations(variation: tuple[str, Example]) -> None:
    code, example = variation
    assume(syntax_ok(code))
    check_properties(code, example)


def test_renaming_helper_only_touches_names() -> None:
    code = 'def fetch():\n    return "fetch"  # fetch\n\n\nfetch()\n'
    assert rename(code, {"fetch": "get"}) == 'def get():\n    return "fetch"  # fetch\n\n\nget()\n'
