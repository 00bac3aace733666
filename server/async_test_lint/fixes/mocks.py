"""Fixes that change which mock class a test builds, or make a mock's side effect awaitable."""

from __future__ import annotations

import ast

from ..analysis.model import SemanticModel
from ..analysis.names import ASYNC_MOCK
from ..model import Edit, Fix, Safety, TextRange
from .imports import reference


def async_mock_fix(model: SemanticModel, target: ast.expr, title: str) -> Fix | None:
    """Replace `target` (a `Mock` factory expression) with the spelling of `AsyncMock`."""
    return mock_class_fix(model, target, ASYNC_MOCK, title)


def mock_class_fix(
    model: SemanticModel, target: ast.expr, qualified_name: str, title: str
) -> Fix | None:
    """Replace `target` (a mock factory expression) with the spelling of `qualified_name`."""
    spelled = reference(model, qualified_name)
    if spelled is None:
        return None
    edit = Edit(model.parsed.node_range(target), spelled.text)
    return Fix(title, Safety.UNSAFE, (edit, *spelled.edits))


def async_def_fix(model: SemanticModel, function: ast.FunctionDef, title: str) -> Fix | None:
    """`def f(...)` becomes `async def f(...)` (a `side_effect` whose results are awaited)."""
    at = model.parsed.node_range(function).start  # the `def` keyword (decorators come before)
    if not model.parsed.lines.line_text(at.line)[at.column :].startswith("def"):
        return None
    return Fix(title, Safety.UNSAFE, (Edit(TextRange(at, at), "async "),))
