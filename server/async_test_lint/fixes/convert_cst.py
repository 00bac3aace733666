"""The libcst half of the whole-class conversion: rewrite the class's own text from a plan.

Imported only when a conversion fix is built (libcst takes ~0.6 s to import); `convert.py` takes
every semantic decision on the `ast` model and hands over a `ConversionPlan` keyed by positions.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from .plan import ConversionPlan, Span


def rewrite_class(dedented: str, plan: ConversionPlan) -> str | None:
    """The class source rewritten per `plan`, or None when libcst cannot do it faithfully."""
    try:
        module = cst.parse_module(dedented)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        transformer = _ClassTransformer(plan, wrapper.resolve(PositionProvider))
        return wrapper.module.visit(transformer).code
    except (cst.ParserSyntaxError, _GiveUp):
        return None


class _GiveUp(Exception):
    pass


class _ClassTransformer(cst.CSTTransformer):
    def __init__(self, plan: ConversionPlan, positions: object) -> None:
        super().__init__()
        self.plan = plan
        self.positions = positions
        self.class_depth = 0
        self.function_depth = 0

    def _span(self, node: cst.CSTNode) -> Span:
        code_range = self.positions[node]  # type: ignore[index]
        return (
            code_range.start.line - 1,
            code_range.start.column,
            code_range.end.line - 1,
            code_range.end.column,
        )

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.class_depth += 1
        return True

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        self.class_depth -= 1
        if self.class_depth != 0:
            return updated_node
        if self.plan.drop_if_empty:
            updated_node = self._keep_first_spacing(original_node, updated_node)
        if self.plan.per_test_loop:
            return self._add_loop_setup(updated_node)
        if self.plan.keep_base:
            return updated_node
        return self._switch_base(original_node, updated_node)

    def _switch_base(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        new_base = cst.parse_expression(self.plan.base_text)
        bases = list(updated.bases)
        for index, base in enumerate(original.bases):
            if self._span(base.value) != self.plan.base_span:
                continue
            if self.plan.prepend_base:
                bases.insert(
                    index,
                    cst.Arg(
                        value=new_base, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                    ),
                )
            else:
                bases[index] = bases[index].with_changes(value=new_base)
            return updated.with_changes(bases=bases)
        raise _GiveUp

    @staticmethod
    def _keep_first_spacing(original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        """A dropped first method takes its (absent) leading blank lines with it."""
        old_body, new_body = original.body, updated.body
        if not isinstance(old_body, cst.IndentedBlock):
            return updated
        if not isinstance(new_body, cst.IndentedBlock):
            return updated
        if not old_body.body or not new_body.body:
            return updated
        old_first, new_first = old_body.body[0], new_body.body[0]
        if not isinstance(old_first, cst.FunctionDef):
            return updated
        if not isinstance(new_first, (cst.FunctionDef, cst.SimpleStatementLine)):
            return updated
        if isinstance(new_first, cst.FunctionDef) and new_first.name.value == old_first.name.value:
            return updated
        first = new_first.with_changes(leading_lines=old_first.leading_lines)
        statements = [first, *new_body.body[1:]]
        return updated.with_changes(body=new_body.with_changes(body=statements))

    def _add_loop_setup(self, updated: cst.ClassDef) -> cst.ClassDef:
        body = updated.body
        if not isinstance(body, cst.IndentedBlock):
            raise _GiveUp
        setup_statements = [cst.parse_statement(line + "\n") for line in self.plan.setup_lines]
        statements = list(body.body)
        for index, statement in enumerate(statements):
            if isinstance(statement, cst.FunctionDef) and statement.name.value == "setUp":
                inner = statement.body
                if not isinstance(inner, cst.IndentedBlock):
                    raise _GiveUp
                position = 1 if inner.body and _is_super_setup(inner.body[0]) else 0
                new_inner = [*inner.body[:position], *setup_statements, *inner.body[position:]]
                statements[index] = statement.with_changes(body=inner.with_changes(body=new_inner))
                return updated.with_changes(body=body.with_changes(body=statements))
        setup = cst.parse_statement(
            "def setUp(self):\n    super().setUp()\n"
            + "".join(f"    {line}\n" for line in self.plan.setup_lines)
        )
        first_method = next(
            (
                index
                for index, statement in enumerate(statements)
                if isinstance(statement, cst.FunctionDef)
            ),
            len(statements),
        )
        if first_method > 0:
            setup = setup.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        if first_method < len(statements):
            existing = statements[first_method]
            if isinstance(existing, cst.FunctionDef) and not existing.leading_lines:
                statements[first_method] = existing.with_changes(
                    leading_lines=[cst.EmptyLine(indent=False)]
                )
        statements.insert(first_method, setup)
        return updated.with_changes(body=body.with_changes(body=statements))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.function_depth += 1
        return True

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef | cst.RemovalSentinel:
        self.function_depth -= 1
        if self.class_depth != 1 or self.function_depth != 0:
            return updated_node
        dropped = original_node.name.value in self.plan.drop_if_empty
        if dropped and _only_pass_or_super(updated_node):
            return cst.RemoveFromParent()
        new_name = self.plan.make_async.get(original_node.name.value)
        if new_name is None:
            return updated_node
        return updated_node.with_changes(
            name=updated_node.name.with_changes(value=new_name),
            asynchronous=updated_node.asynchronous or cst.Asynchronous(),
        )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        span = self._span(original_node)
        if span in self.plan.super_calls:
            new_name, awaited, outer_parentheses = self.plan.super_calls[span]
            func = updated_node.func
            if not isinstance(func, cst.Attribute):
                raise _GiveUp
            renamed = updated_node.with_changes(func=func.with_changes(attr=cst.Name(new_name)))
            return renamed if awaited else _awaited(renamed, outer_parentheses, argument=False)
        if span in self.plan.loop_calls:
            if self.plan.per_test_loop:
                return _on_self_loop(updated_node)
            return _awaited(_argument(updated_node), self.plan.loop_calls[span])
        if span in self.plan.helper_calls:
            return _awaited(updated_node, self.plan.helper_calls[span], argument=False)
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        if (
            len(original_node.body) == 1
            and self._span(original_node.body[0]) in self.plan.remove_statements
        ):
            return cst.RemoveFromParent()
        return updated_node

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated_node


_SUPER_SETUP = m.SimpleStatementLine(
    body=[
        m.Expr(
            value=m.Call(func=m.Attribute(value=m.Call(func=m.Name("super")), attr=m.Name("setUp")))
        )
    ]
)


def _only_pass_or_super(function: cst.FunctionDef) -> bool:
    """The body is `pass` and/or `super().<same name>()` only: nothing left worth keeping."""
    body = function.body
    if not isinstance(body, cst.IndentedBlock):
        return False
    for statement in body.body:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return False
        small = statement.body[0]
        if isinstance(small, cst.Pass):
            continue
        if (
            isinstance(small, cst.Expr)
            and isinstance(small.value, cst.Call)
            and not small.value.args
            and isinstance(small.value.func, cst.Attribute)
            and small.value.func.attr.value == function.name.value
            and isinstance(small.value.func.value, cst.Call)
            and isinstance(small.value.func.value.func, cst.Name)
            and small.value.func.value.func.value == "super"
        ):
            continue
        return False
    return True


def _is_super_setup(statement: cst.BaseStatement) -> bool:
    return m.matches(statement, _SUPER_SETUP)


def _argument(call: cst.Call) -> cst.BaseExpression:
    if len(call.args) < 1:
        raise _GiveUp
    return call.args[0].value


_ATOMS = (
    cst.Call,
    cst.Name,
    cst.Attribute,
    cst.Subscript,
    cst.Await,
    cst.List,
    cst.Tuple,
    cst.Dict,
    cst.Set,
)


def _awaited(
    expression: cst.BaseExpression, outer_parentheses: bool, argument: bool = True
) -> cst.BaseExpression:
    if argument and not isinstance(expression, _ATOMS) and not expression.lpar:
        expression = expression.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    awaited = cst.Await(expression=expression)
    if outer_parentheses:
        awaited = awaited.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return awaited


def _on_self_loop(call: cst.Call) -> cst.Call:
    if isinstance(call.func, cst.Attribute) and call.func.attr.value == "run_until_complete":
        func = call.func.with_changes(value=cst.parse_expression("self.loop"))
        return call.with_changes(func=func)
    if not call.args:
        raise _GiveUp
    return call.with_changes(
        func=cst.parse_expression("self.loop.run_until_complete"),
        args=[call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)],
    )
