"""ATL207's fix: move a shared loop-bound object's creation into `asyncSetUp` (libcst).

Imported only when a front end asks for the fix, so detection never pays for libcst. The semantic
decisions (what moves, which uses become `self.<attribute>`, whether `super().asyncSetUp()` is
awaited) are taken by the rule on the `ast` model; this module only reshapes the text, keeping
comments and formatting: the moved statement keeps its comments and its value's exact text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

if TYPE_CHECKING:
    from ..analysis.model import ClassInfo
    from ..context import Context
    from .atl207_loop_bound_resource_shared import Resource

_LIFECYCLE_FIRST = ("setUpClass", "tearDownClass", "setUp", "tearDown")
#: Statements that carry their own leading blank and comment lines.
_WITH_LINES = (
    cst.SimpleStatementLine,
    cst.FunctionDef,
    cst.ClassDef,
    cst.If,
    cst.For,
    cst.While,
    cst.With,
    cst.Try,
)


class _GiveUp(Exception):
    pass


def rewrite(
    context: Context,
    cls: ClassInfo,
    resource: Resource,
    attribute: str,
    uses: dict[tuple[int, int], str],
    super_call: bool,
    *,
    follow: tuple[tuple[int, int], ...] = (),
    drop: tuple[tuple[int, int], ...] = (),
) -> str | None:
    """`follow`: (0-based line, column) of statements that move into asyncSetUp after the
    creation (they use an alias of the object, rewritten through `uses`); `drop`: statements
    removed (the `cls.x = alias` that published the object)."""
    try:
        wrapper = MetadataWrapper(cst.parse_module(context.text), unsafe_skip_copy=True)
    except cst.ParserSyntaxError:
        return None
    positions = wrapper.resolve(PositionProvider)
    start = context.parsed.node_range(resource.statement).start
    class_start = context.parsed.position(cls.node.lineno, cls.node.col_offset)
    moved: cst.SimpleStatementLine | None = None
    target_class: cst.ClassDef | None = None
    following: dict[tuple[int, int], cst.SimpleStatementLine] = {}
    dropped: list[cst.SimpleStatementLine] = []
    for node, code_range in positions.items():
        at = (code_range.start.line - 1, code_range.start.column)
        if isinstance(node, cst.SimpleStatementLine) and at in follow:
            following[at] = node
        elif isinstance(node, cst.SimpleStatementLine) and at in drop:
            dropped.append(node)
        if isinstance(node, cst.SimpleStatementLine) and at == (start.line, start.column):
            moved = node
        elif isinstance(node, cst.ClassDef) and at == (class_start.line, class_start.column):
            target_class = node
    if moved is None or target_class is None or len(moved.body) != 1:
        return None
    if len(following) != len(follow) or len(dropped) != len(drop):
        return None
    transformer = _Mover(
        positions, moved, target_class, resource.where, attribute, uses, super_call
    )
    transformer.following = [following[at] for at in sorted(following)]
    transformer.dropped = dropped
    try:
        new_module = wrapper.module.visit(transformer)
    except _GiveUp:
        return None
    return new_module.code if transformer.done else None


class _Mover(cst.CSTTransformer):
    def __init__(
        self,
        positions: object,
        moved: cst.SimpleStatementLine,
        target_class: cst.ClassDef,
        where: str,
        attribute: str,
        uses: dict[tuple[int, int], str],
        super_call: bool,
    ) -> None:
        super().__init__()
        self.positions = positions
        self.moved = moved
        self.target_class = target_class
        self.where = where
        self.attribute = attribute
        self.uses = uses
        self.super_call = super_call
        self.done = False
        self.following: list[cst.SimpleStatementLine] = []
        self.dropped: list[cst.SimpleStatementLine] = []
        #: the following statements as rewritten (alias -> self.<attribute>), in order.
        self.carried: dict[int, cst.SimpleStatementLine] = {}

    # -- removing the old creation, rewriting global uses -------------------------------------

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        if original_node is self.moved or any(original_node is node for node in self.dropped):
            return cst.RemoveFromParent()
        for index, node in enumerate(self.following):
            if original_node is node:
                self.carried[index] = updated_node.with_changes(
                    leading_lines=[line for line in updated_node.leading_lines if line.comment]
                )
                return cst.RemoveFromParent()
        return updated_node

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if not self.uses:
            return updated_node
        code_range = self.positions[original_node]  # type: ignore[index]
        receiver = self.uses.get((code_range.start.line, code_range.start.column))
        if receiver is None:
            return updated_node
        return cst.Attribute(value=cst.Name(receiver), attr=cst.Name(self.attribute))

    # -- the class: asyncSetUp ------------------------------------------------------------------

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        if original_node is not self.target_class:
            return updated_node
        block = updated_node.body
        if not isinstance(block, cst.IndentedBlock):
            raise _GiveUp
        first_was_moved = bool(original_node.body.body) and original_node.body.body[0] is self.moved
        statements = list(block.body)
        insert_at: int | None = None
        inherited_lines: list[cst.EmptyLine] = []
        for index, statement in enumerate(statements):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "setUpClass":
                if self.where == "setUpClass" and _only_boilerplate(statement):
                    insert_at = index
                    inherited_lines = list(statement.leading_lines)
                    del statements[index]
                break
        existing = next(
            (
                index
                for index, statement in enumerate(statements)
                if isinstance(statement, cst.FunctionDef) and statement.name.value == "asyncSetUp"
            ),
            None,
        )
        if existing is not None:
            statements[existing] = self._extend(statements[existing])  # type: ignore[arg-type]
        else:
            method = self._new_method()
            if insert_at is None:
                insert_at = _insertion_index(statements)
                inherited_lines = [cst.EmptyLine(indent=False)] if insert_at > 0 else []
                if insert_at < len(statements):
                    following = statements[insert_at]
                    if isinstance(following, _WITH_LINES) and not following.leading_lines:
                        statements[insert_at] = following.with_changes(
                            leading_lines=[cst.EmptyLine(indent=False)]
                        )
            statements.insert(insert_at, method.with_changes(leading_lines=inherited_lines))
        first = statements[0] if statements else None
        if first_was_moved and isinstance(first, _WITH_LINES):
            statements[0] = first.with_changes(leading_lines=_strip_blank(first.leading_lines))
        self.done = True
        return updated_node.with_changes(body=block.with_changes(body=statements))

    def _assignment(self, receiver: str) -> cst.SimpleStatementLine:
        small = self.moved.body[0]
        if not isinstance(small, (cst.Assign, cst.AnnAssign)) or small.value is None:
            raise _GiveUp
        target = cst.Attribute(value=cst.Name(receiver), attr=cst.Name(self.attribute))
        assign = cst.Assign(targets=[cst.AssignTarget(target=target)], value=small.value)
        comments = [line for line in self.moved.leading_lines if line.comment is not None]
        return self.moved.with_changes(body=[assign], leading_lines=comments)

    def _extend(self, method: cst.FunctionDef) -> cst.FunctionDef:
        params = method.params.params
        if not params or not isinstance(method.body, cst.IndentedBlock):
            raise _GiveUp
        body = list(method.body.body)
        position = 0
        while position < len(body) and (
            _is_docstring(body[position]) or _is_super_setup(body[position])
        ):
            position += 1
        body[position:position] = self._statements(params[0].name.value)
        return method.with_changes(body=method.body.with_changes(body=body))

    def _statements(self, receiver: str) -> list[cst.SimpleStatementLine]:
        if len(self.carried) != len(self.following):
            raise _GiveUp
        carried = [self.carried[index] for index in sorted(self.carried)]
        if self.following and receiver != "self":
            raise _GiveUp  # the alias uses were spelled `self.<attribute>`
        return [self._assignment(receiver), *carried]

    def _new_method(self) -> cst.FunctionDef:
        source = "async def asyncSetUp(self):\n"
        if self.super_call:
            source += "    await super().asyncSetUp()\n"
        source += "    pass\n"
        method = cst.parse_statement(source)
        if not isinstance(method, cst.FunctionDef) or not isinstance(
            method.body, cst.IndentedBlock
        ):
            raise _GiveUp
        body = list(method.body.body)
        body[-1:] = self._statements("self")
        return method.with_changes(body=method.body.with_changes(body=body))


def _code(statement: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(statement)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_super_setup(statement: cst.BaseStatement) -> bool:
    code = _code(statement)
    return "super()" in code and "asyncSetUp" in code


def _only_boilerplate(method: cst.FunctionDef) -> bool:
    """setUpClass left with nothing but `super().setUpClass()`, `pass` or a docstring."""
    if not isinstance(method.body, cst.IndentedBlock):
        return False
    for statement in method.body.body:
        if _is_docstring(statement):
            continue
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            if isinstance(small, cst.Pass):
                continue
            code = _code(small)
            if code.replace(" ", "") == "super().setUpClass()":
                continue
        return False
    return True


def _insertion_index(statements: list[cst.BaseStatement]) -> int:
    """After the leading run of setUpClass/setUp-style methods, or before the first method."""
    for index, statement in enumerate(statements):
        if isinstance(statement, cst.FunctionDef) and statement.name.value not in _LIFECYCLE_FIRST:
            return index
    return len(statements)


def _strip_blank(lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    result = list(lines)
    while result and result[0].comment is None:
        result.pop(0)
    return result
