"""What an expression certainly evaluates to, when the module alone says so.

Only what cannot change is folded: string literals, names bound once to such a value, `__name__`
(the module's own name, or a module's through `mod.__name__`), f-strings and `+` of foldable
parts. Anything else is None, and the rule asking stays silent.
"""

from __future__ import annotations

import ast

from .model import Scope, SemanticModel

_MAX_DEPTH = 8


def constant_string(
    model: SemanticModel, expr: ast.expr, scope: Scope, depth: int = 0
) -> str | None:
    """The string `expr` always evaluates to, or None."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Constant):
        return expr.value if isinstance(expr.value, str) else None
    if isinstance(expr, ast.Name):
        return _name_value(model, expr.id, scope, depth)
    if isinstance(expr, ast.Attribute) and expr.attr == "__name__":
        return model.qualified_name(expr.value, scope)
    if isinstance(expr, ast.JoinedStr):
        return _joined(model, expr, scope, depth)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left = constant_string(model, expr.left, scope, depth + 1)
        right = constant_string(model, expr.right, scope, depth + 1)
        return left + right if left is not None and right is not None else None
    return None


def _name_value(model: SemanticModel, name: str, scope: Scope, depth: int) -> str | None:
    bindings = model.lookup(name, scope)
    if bindings is None:
        return model.module_name if name == "__name__" and not model.has_star_import else None
    if len(bindings) != 1 or bindings[0].kind != "assign":
        return None
    value = bindings[0].node
    if not isinstance(value, ast.expr):
        return None
    return constant_string(model, value, model.module_scope, depth + 1)


def _joined(model: SemanticModel, expr: ast.JoinedStr, scope: Scope, depth: int) -> str | None:
    parts: list[str] = []
    for value in expr.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(value.value)
        elif (
            isinstance(value, ast.FormattedValue)
            and value.conversion in (-1, 115)  # none, or !s
            and value.format_spec is None
        ):
            inner = constant_string(model, value.value, scope, depth + 1)
            if inner is None:
                return None
            parts.append(inner)
        else:
            return None
    return "".join(parts)
