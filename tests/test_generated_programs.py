"""Generated programs: the engine never raises, no rule fails, and every fix re-parses.

Three sources of programs:

- `hypothesmith`: arbitrary Python from the grammar (`from_grammar`) and from libcst node trees
  (`from_node`): syntax nobody writes in a test file, which the model and rules must still survive;
- `fuzz.shapes.module_shapes`: unittest and pytest modules built from what the rules look at,
  so fixes are offered often;
- those modules cut and spliced at random (what an editor holds mid-edit): mostly not parsing.

Properties, under the settings a project would use (`ALL`, a test-file path, three target
versions): `lint` returns without raising and without a `RuleFailure`; every offered fix, applied
alone, parses; `fix` (safe, and with unsafe fixes) parses and is idempotent.

Size: `ATL_FUZZ_PROGRAMS` multiplies the example counts (default 1; nightly: 20).
"""

from __future__ import annotations

import os

import hypothesmith
import pytest
from async_test_lint.engine import fix, lint, syntax_ok
from async_test_lint.fixes.edits import apply_edits
from async_test_lint.model import Settings
from async_test_lint.source import LineIndex
from fuzz.shapes import module_shapes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles
SCALE = max(1, int(os.environ.get("ATL_FUZZ_PROGRAMS", "1")))
PATH = "/project/tests/test_generated.py"
TARGETS = st.sampled_from(((3, 8), (3, 11), (3, 13)))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=os.environ.get("CI") == "true",
        suppress_health_check=list(HealthCheck),
    )


def check_program(code: str, target: tuple[int, int]) -> None:
    engine_settings = Settings(target_version=target, project_root="/project")
    result = lint(code, PATH, engine_settings)
    assert result.failures == (), result.failures
    if not syntax_ok(code):
        assert [d.code for d in result.diagnostics] in ([], ["ATL001"]), result.diagnostics
        return
    for diagnostic in result.diagnostics:
        offered = diagnostic.fix
        if offered is None:
            continue
        alone = apply_edits(code, offered.edits, LineIndex(code))
        assert syntax_ok(alone), f"the fix of {diagnostic.code} does not parse:\n{alone}"
    for unsafe in (False, True):
        fixed = fix(code, PATH, engine_settings, unsafe=unsafe)
        assert syntax_ok(fixed.text), f"fix(unsafe={unsafe}) does not parse:\n{fixed.text}"
        again = fix(fixed.text, PATH, engine_settings, unsafe=unsafe)
        assert again.text == fixed.text, "fixing twice changed the text"


@st.composite
def spliced(draw: st.DrawFn) -> str:
    """A module with a piece cut out and a piece of another module (or itself) pasted in."""
    text = draw(module_shapes())
    donor = draw(st.one_of(st.just(text), module_shapes()))
    cut = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=2)))
    take = sorted(draw(st.lists(st.integers(0, len(donor)), min_size=2, max_size=2)))
    return text[: cut[0]] + donor[take[0] : take[1]] + text[cut[1] :]


@fuzz_settings(60)
@given(code=hypothesmith.from_grammar(), target=TARGETS)
def test_grammar_programs(code: str, target: tuple[int, int]) -> None:
    check_program(code, target)


@fuzz_settings(30)
@given(code=hypothesmith.from_node(), target=TARGETS)
def test_node_programs(code: str, target: tuple[int, int]) -> None:
    check_program(code, target)


@fuzz_settings(150)
@given(code=module_shapes(), target=TARGETS)
def test_test_module_shapes(code: str, target: tuple[int, int]) -> None:
    check_program(code, target)


@fuzz_settings(150)
@given(code=spliced(), target=TARGETS)
def test_spliced_modules(code: str, target: tuple[int, int]) -> None:
    check_program(code, target)


REDEFINED_CLASS = """\
import unittest


class T(unittest.TestCase):
    async def test_a(self):
        pass


class T(unittest.TestCase):
    async def asyncTearDown(self):
        pass
"""


@pytest.mark.parametrize(
    "code",
    [
        # The second `class T` was taken for the first (the module summary knows one class per
        # name): once the first became an IsolatedAsyncioTestCase, ATL201 still called it a plain
        # TestCase and its fix added the base again, pass after pass.
        pytest.param(REDEFINED_CLASS, id="redefined-class"),
    ],
)
def test_found_by_the_generators(code: str) -> None:
    check_program(code, (3, 8))
