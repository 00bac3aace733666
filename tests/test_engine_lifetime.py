"""The lifetime contract of a lint result.

A result's lazy fixes keep its analysis alive; once neither the result nor any of its fixes can be
used, the model's reference cycles are broken so it is freed by reference counting at once. The
language server relies on this: otherwise every keystroke leaves tens of thousands of objects for
the cyclic collector, whose pass then lands on the next edit.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from async_test_lint.engine import lint
from async_test_lint.model import Settings
from async_test_lint.rules import rule_by_code

SETTINGS = Settings(target_version=(3, 11))


def _source(classes: int = 20) -> str:
    rule = rule_by_code("ATL101")
    assert rule is not None
    body = rule.invalid[0].code
    parts = [body]
    for number in range(classes):
        parts.append(body.split("class ", 1)[1].replace("UserTest", f"UserTest{number}", 1))
    return "\nclass ".join(parts) + "\n"


@pytest.fixture
def quiet_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_dropped_result_leaves_no_cyclic_garbage(quiet_collector: None) -> None:
    result = lint(_source(), "tests/test_users.py", SETTINGS)
    assert len(result.diagnostics) > 20
    del result
    assert gc.collect() == 0


def test_a_diagnostic_outliving_its_result_still_builds_its_fix(quiet_collector: None) -> None:
    source = _source()
    expected = lint(source, "tests/test_users.py", SETTINGS).diagnostics[-1].fix
    diagnostic = lint(source, "tests/test_users.py", SETTINGS).diagnostics[-1]
    gc.collect()
    assert expected is not None
    assert diagnostic.fix == expected
    del diagnostic
    assert gc.collect() == 0
