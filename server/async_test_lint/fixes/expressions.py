"""Token-level edits computed from exact `ast` positions.

Inserting `await ` before a call, or turning `asyncio.run(x)` into `await x`, touches a few
characters whose offsets `ast` already gives; everything between them (arguments, comments,
line breaks) is left byte for byte as it was. libcst is kept for edits that reshape statements.
"""

from __future__ import annotations

import ast

from ..analysis.model import SemanticModel
from ..model import Edit, Fix, Safety, TextRange

#: An awaited expression that is one of these may follow `await` without parentheses.
_PRIMARY = (
    ast.Call,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Await,
)


def needs_parentheses_as_operand(model: SemanticModel, node: ast.expr) -> bool:
    """Whether `await <node>` must be parenthesised where `node` stands."""
    parent = model.parent(node)
    if isinstance(parent, ast.Attribute) and parent.value is node:
        return True
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return True
    if isinstance(parent, ast.Call) and parent.func is node:
        return True
    return isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Pow) and parent.left is node


def add_await(model: SemanticModel, node: ast.expr) -> tuple[Edit, ...]:
    """Edits that await `node` where it stands."""
    text_range = model.parsed.node_range(node)
    if needs_parentheses_as_operand(model, node):
        return (
            Edit(TextRange(text_range.start, text_range.start), "(await "),
            Edit(TextRange(text_range.end, text_range.end), ")"),
        )
    return (Edit(TextRange(text_range.start, text_range.start), "await "),)


def await_argument_instead(model: SemanticModel, call: ast.Call) -> tuple[Edit, ...] | None:
    """`asyncio.run(x)` / `loop.run_until_complete(x)` -> `await x`, keeping `x`'s text."""
    if len(call.args) != 1 or isinstance(call.args[0], ast.Starred):
        return None
    if any(keyword.arg is None for keyword in call.keywords):
        return None
    argument = call.args[0]
    call_range = model.parsed.node_range(call)
    argument_range = model.parsed.node_range(argument)
    inner_parens = not isinstance(argument, _PRIMARY)
    outer_parens = needs_parentheses_as_operand(model, call)
    prefix = ("(" if outer_parens else "") + "await " + ("(" if inner_parens else "")
    suffix = (")" if inner_parens else "") + (")" if outer_parens else "")
    return (
        Edit(TextRange(call_range.start, argument_range.start), prefix),
        Edit(TextRange(argument_range.end, call_range.end), suffix),
    )


def await_fix(model: SemanticModel, node: ast.expr, title: str) -> Fix:
    """The safe fix that awaits `node` where it stands."""
    return Fix(title, Safety.SAFE, add_await(model, node))
