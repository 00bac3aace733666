"""Helpers shared by the ATL2xx lifecycle rules (ATL201-ATL206): where a `def` header is, how to
rename a method or insert `async `, which calls are `super().<name>()`, which decorators are
known to leave a function alone.

Everything here reads the `ast` and the semantic model only (no libcst): rules call it on the
detection path, fix builders call it lazily.
"""

from __future__ import annotations

import ast
import re

from ..analysis.model import CallSite, FunctionInfo, SemanticModel, decorator_name
from ..analysis.semantics import Semantics
from ..analysis.summarize import NEUTRAL_FUNCTION_DECORATORS
from ..context import Context
from ..model import Edit, Position, TextRange

_GAP = r"(?:[ \t\f]|\\\r\n|\\\r|\\\n)+"
_HEADER = re.compile(rf"(?:async{_GAP})?def{_GAP}")


def header_range(context: Context, function: FunctionInfo) -> TextRange:
    """`async def name` / `def name`: the header of `function`, without decorators or body."""
    name = name_range(context, function)
    start = context.parsed.position(function.node.lineno, function.node.col_offset)
    if name.start == name.end:  # not located exactly: the header's first line
        line_end = len(context.parsed.lines.line_text(start.line))
        return TextRange(start, Position(start.line, line_end))
    return TextRange(start, name.end)


def name_range(context: Context, function: FunctionInfo) -> TextRange:
    """The range of the function's name in its `def` header."""
    lines = context.parsed.lines
    start = context.parsed.position(function.node.lineno, function.node.col_offset)
    offset = lines.offset(start)
    match = _HEADER.match(context.text, offset)
    name = function.name
    if match is not None and context.text.startswith(name, match.end()):
        return TextRange(lines.position(match.end()), lines.position(match.end() + len(name)))
    # Unusual spelling (comments inside the header...): fall back to the keyword's position.
    return TextRange(start, start)


def def_keyword_position(context: Context, function: FunctionInfo) -> Position | None:
    """Where `def` starts in a sync function's header (to insert `async ` there)."""
    if function.is_async:
        return None
    start = context.parsed.position(function.node.lineno, function.node.col_offset)
    offset = context.parsed.lines.offset(start)
    return start if context.text.startswith("def", offset) else None


def rename_edit(context: Context, function: FunctionInfo, new_name: str) -> Edit | None:
    """Rename a function in its header; None when the name cannot be located exactly."""
    where = name_range(context, function)
    if where.start == where.end:
        return None
    return Edit(where, new_name)


def attribute_name_range(context: Context, attribute: ast.Attribute) -> TextRange:
    """The range of `attr` in `value.attr` (the name always ends the attribute node)."""
    end = context.parsed.node_range(attribute).end
    return TextRange(Position(end.line, end.column - len(attribute.attr)), end)


def super_calls(model: SemanticModel, function: FunctionInfo, name: str) -> list[CallSite]:
    """`super().<name>(...)` / `super(Cls, self).<name>(...)` calls directly in `function`."""
    found = []
    for call in function.calls:
        func = call.node.func
        if not (isinstance(func, ast.Attribute) and func.attr == name):
            continue
        inner = func.value
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Name)
            and model.qualified_name(inner.func, call.scope) == "builtins.super"
        ):
            found.append(call)
    return found


def call_site(model: SemanticModel, node: ast.Call) -> CallSite | None:
    """The model's CallSite for a call node."""
    by_node: dict[int, CallSite] | None = model.cache.get("atl2:call-sites")
    if by_node is None:
        by_node = {id(call.node): call for call in model.calls}
        model.cache["atl2:call-sites"] = by_node
    return by_node.get(id(node))


_NEUTRAL_PREFIXES = (
    "pytest.mark.",
    "unittest.mock.patch",
    "unittest.skip",
    "unittest.expectedFailure",
)


def decorators_are_known_neutral(semantics: Semantics, function: FunctionInfo) -> bool:
    """Every decorator is a library one known to keep the function what it is (`@patch`,
    `@skip`, `@pytest.mark.*`, `@classmethod`...). A project decorator may wrap the function in
    anything (run the coroutine on a loop, make it a coroutine function): the rules stay silent.
    """
    if semantics.runs_coroutines(function) is not False:
        return False
    for decorator in function.node.decorator_list:
        name = decorator_name(semantics.model, decorator, function.parent_scope)
        if name is None:
            return False
        if not (name in NEUTRAL_FUNCTION_DECORATORS or name.startswith(_NEUTRAL_PREFIXES)):
            return False
    return True


def plural(count: int, singular: str, many: str) -> str:
    return singular if count == 1 else many
