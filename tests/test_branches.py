"""Dead branches and fork children: the same answers whatever order nodes are asked in, and work
linear in the tree (an n-arm `if/elif` chain nests n deep; every call in it is asked about)."""

from __future__ import annotations

import ast

import pytest
from async_test_lint.analysis.branches import in_dead_branch, in_forked_child
from async_test_lint.analysis.model import SemanticModel
from async_test_lint.engine import analyse
from async_test_lint.model import Settings
from async_test_lint.parsing import SyntaxProblem

SOURCE = """\
import os
import typing

_IS_SYNC = True


async def f(mode):
    if not _IS_SYNC:
        dead_a()
    elif mode == 1:
        live_b()
    else:
        live_c()
    if typing.TYPE_CHECKING:
        dead_d()
    pid = os.fork()
    if pid == 0:
        child_e()
    else:
        parent_g()
    while False:
        dead_w()
    value = live_h() if _IS_SYNC else dead_i()
    lam = lambda: dead_j() if not _IS_SYNC else live_k()


def rebinds():
    global _REBOUND
    _REBOUND = True


_REBOUND = False
if _REBOUND:
    live_l()
"""


def _model(text: str) -> SemanticModel:
    analysis = analyse(text, "tests/test_branches.py", Settings())
    assert not isinstance(analysis, SyntaxProblem)
    return analysis.model


def _answers(model: SemanticModel, order: list[ast.Call]) -> dict[str, tuple[bool, bool]]:
    answers = {}
    for call in order:
        assert isinstance(call.func, ast.Name)
        answers[call.func.id] = (in_dead_branch(model, call), in_forked_child(model, call))
    return answers


def _calls(model: SemanticModel) -> list[ast.Call]:
    return [
        site.node
        for site in model.calls
        if isinstance(site.node.func, ast.Name) and "_" in site.node.func.id
    ]


@pytest.mark.parametrize("reverse", [False, True])
def test_dead_branches_and_fork_children(reverse: bool) -> None:
    model = _model(SOURCE)
    calls = _calls(model)
    answers = _answers(model, calls[::-1] if reverse else calls)
    dead = {name for name, (is_dead, _) in answers.items() if is_dead}
    forked = {name for name, (_, is_forked) in answers.items() if is_forked}
    assert dead == {"dead_a", "dead_d", "dead_w", "dead_i", "dead_j"}
    # the lambda's conditional is judged in the module scope, where `_IS_SYNC` is True too
    assert "live_k" not in dead
    assert forked == {"child_e"}


class _CountingParents(dict):  # type: ignore[type-arg]
    lookups = 0

    def get(self, key, default=None):  # type: ignore[no-untyped-def]
        _CountingParents.lookups += 1
        return super().get(key, default)


def _elif_chain(arms: int) -> str:
    lines = ["async def test_every_method(client, mode):"]
    for arm in range(arms):
        keyword = "if" if arm == 0 else "elif"
        lines += [f"    {keyword} mode == {arm}:", f"        await client.call_{arm}(x, y)"]
    return "\n".join(lines) + "\n"


def _lookups_for_every_call(arms: int) -> int:
    model = _model(_elif_chain(arms))
    model.parents = _CountingParents(model.parents)
    _CountingParents.lookups = 0
    for site in model.calls:
        in_dead_branch(model, site.node)
        in_forked_child(model, site.node)
        for argument in site.node.args:
            in_dead_branch(model, argument)
    return _CountingParents.lookups


def test_asking_about_every_call_of_an_elif_chain_is_linear() -> None:
    small, large = _lookups_for_every_call(100), _lookups_for_every_call(400)
    # Four times the arms, four times the parent lookups (was the cube: 64 times).
    assert large <= 4.5 * small
    assert large <= 40 * 400
