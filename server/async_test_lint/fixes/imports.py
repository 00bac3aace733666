"""Spelling a qualified name in a module, adding the import it needs when there is none."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..analysis.model import SemanticModel
from ..model import Edit, Position, TextRange
from ..parsing import ParsedSource
from ..source import newline_of


@dataclass(frozen=True)
class NameReference:
    """How to write a name here, and the import edit (if any) that makes it valid."""

    text: str
    edits: tuple[Edit, ...] = ()


def reference(model: SemanticModel, qualified_name: str) -> NameReference | None:
    """How to write `qualified_name` here: `ut.IsolatedAsyncioTestCase`, `IATC`, or a new import."""
    module, _, name = qualified_name.rpartition(".")
    scope = model.module_scope
    for local, bindings in scope.bindings.items():
        if len(bindings) == 1 and bindings[0].qualified_name == qualified_name:
            return NameReference(local)
    for local, bindings in scope.bindings.items():
        if (
            len(bindings) == 1
            and bindings[0].kind == "import"
            and bindings[0].qualified_name == module
        ):
            return NameReference(f"{local}.{name}")
    if name in scope.bindings or model.has_star_import:
        return _module_import(model, module, name)
    extended = _extend_from_import(model, module, name)
    if extended is not None:
        return extended
    return NameReference(name, (_insert_import_line(model.parsed, f"from {module} import {name}"),))


def module_reference(model: SemanticModel, module: str) -> NameReference | None:
    """How to spell the module `module` here (`aio` after `import asyncio as aio`), adding
    `import module` when nothing binds it; None when its top-level name is taken by something
    else."""
    scope = model.module_scope
    for local, bindings in scope.bindings.items():
        if (
            len(bindings) == 1
            and bindings[0].kind == "import"
            and bindings[0].qualified_name == module
        ):
            return NameReference(local)
    if module.split(".")[0] in scope.bindings or model.has_star_import:
        return None
    return NameReference(module, (_insert_import_line(model.parsed, f"import {module}"),))


def _module_import(model: SemanticModel, module: str, name: str) -> NameReference | None:
    top = module.split(".")[0]
    if top in model.module_scope.bindings:
        return None
    return NameReference(
        f"{module}.{name}", (_insert_import_line(model.parsed, f"import {module}"),)
    )


def _extend_from_import(model: SemanticModel, module: str, name: str) -> NameReference | None:
    for statement in model.tree.body:
        if (
            isinstance(statement, ast.ImportFrom)
            and statement.level == 0
            and statement.module == module
            and statement.names
            and statement.names[0].name != "*"
        ):
            last = statement.names[-1]
            end = model.parsed.node_range(last).end if hasattr(last, "end_col_offset") else None
            if end is None:
                end = _alias_end(model.parsed, statement, last)
            if end is None:
                return None
            return NameReference(name, (Edit(TextRange(end, end), f", {name}"),))
    return None


def _alias_end(
    parsed: ParsedSource, statement: ast.ImportFrom, alias: ast.alias
) -> Position | None:
    """Python < 3.10 gives aliases no positions: find the last alias's text in the statement."""
    segment_range = parsed.node_range(statement)
    segment = parsed.lines.slice(segment_range)
    spelled = alias.name if alias.asname is None else alias.asname
    at = segment.rfind(spelled)
    if at < 0:
        return None
    start_offset = parsed.lines.offset(segment_range.start)
    return parsed.lines.position(start_offset + at + len(spelled))


def _insert_import_line(parsed: ParsedSource, line: str) -> Edit:
    """A new import after the last top-level import (or the docstring and `__future__` imports)."""
    body = parsed.tree.body
    anchor: ast.stmt | None = None
    for index, statement in enumerate(body):
        is_docstring = (
            index == 0
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
        if is_docstring or isinstance(statement, (ast.Import, ast.ImportFrom)):
            anchor = statement
        elif anchor is not None or index > 0:
            break
    newline = newline_of(parsed.text)
    if anchor is None:
        return Edit(TextRange(Position(0, 0), Position(0, 0)), line + newline)
    end_line = parsed.node_range(anchor).end.line + 1
    if end_line >= parsed.lines.line_count:
        at = Position(end_line - 1, len(parsed.lines.line_text(end_line - 1)))
        return Edit(TextRange(at, at), newline + line)
    at = Position(end_line, 0)
    return Edit(TextRange(at, at), line + newline)
