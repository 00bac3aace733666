"""Fixes that change which mock class a test builds."""

from __future__ import annotations

import ast

from ..analysis.model import SemanticModel
from ..analysis.names import ASYNC_MOCK
from ..model import Edit, Fix, Safety
from .imports import reference


def async_mock_fix(model: SemanticModel, target: ast.expr, title: str) -> Fix | None:
    """Replace `target` (a `Mock` factory expression) with the spelling of `AsyncMock`."""
    spelled = reference(model, ASYNC_MOCK)
    if spelled is None:
        return None
    edit = Edit(model.parsed.node_range(target), spelled.text)
    return Fix(title, Safety.UNSAFE, (edit, *spelled.edits))
