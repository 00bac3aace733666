"""Code that never runs: branches a module-level constant decides, and a fork's child branch.

Test suites generated from one source for both an async and a sync API (pymongo's `synchro`,
`unasync`) keep both spellings behind a flag bound once per module, `_IS_SYNC = True`; the
branch for the other API is dead in that module. `if TYPE_CHECKING:` is dead at run time.
"""

from __future__ import annotations

import ast

from .model import Scope, SemanticModel

_FALSE_AT_RUN_TIME = frozenset({"typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"})
_FORK = "os.fork"
_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def in_dead_branch(model: SemanticModel, node: ast.AST) -> bool:
    """Whether `node` sits in an `if`/`while`/conditional-expression branch that never runs."""
    child, parent = node, model.parent(node)
    while parent is not None:
        taken_when = _branch_condition(parent, child)
        if taken_when is not None:
            test, wanted = taken_when
            truth = static_truth(model, test, _scope_of(model, parent))
            if truth is not None and truth is not wanted:
                return True
        child, parent = parent, model.parent(parent)
    return False


def _branch_condition(parent: ast.AST, child: ast.AST) -> tuple[ast.expr, bool] | None:
    """(test, the truth value under which `child` runs) when `child` is a branch of `parent`."""
    if isinstance(parent, (ast.If, ast.While)):
        if any(statement is child for statement in parent.body):
            return parent.test, True
        if isinstance(parent, ast.If) and any(statement is child for statement in parent.orelse):
            return parent.test, False
    elif isinstance(parent, ast.IfExp):
        if parent.body is child:
            return parent.test, True
        if parent.orelse is child:
            return parent.test, False
    return None


def static_truth(model: SemanticModel, test: ast.expr, scope: Scope) -> bool | None:
    """The truth value of `test` whenever it runs, or None when it is not known statically."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = static_truth(model, test.operand, scope)
        return None if inner is None else not inner
    if (
        isinstance(test, (ast.Name, ast.Attribute))
        and model.qualified_name(test, scope) in _FALSE_AT_RUN_TIME
    ):
        return False
    if isinstance(test, ast.Name):
        return _module_constant(model, test.id, scope)
    return None


def _module_constant(model: SemanticModel, name: str, scope: Scope) -> bool | None:
    """The value of a module-level name bound once to `True` or `False` and never rebound."""
    bindings = model.lookup(name, scope)
    if bindings is None or bindings is not model.module_scope.bindings.get(name):
        return None  # unbound, or a local/class name shadows it
    if len(bindings) != 1 or bindings[0].kind != "assign":
        return None
    value = bindings[0].node
    if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
        return None
    if any(name in function.scope.globals for function in model.functions):
        return None  # a function may rebind it with `global`
    return value.value


def _scope_of(model: SemanticModel, node: ast.AST) -> Scope:
    """The scope in which `node` (a statement or expression) is evaluated."""
    current = model.parent(node)
    while current is not None and not isinstance(current, _SCOPE_NODES):
        current = model.parent(current)
    if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
        function = model.function_of(current)
        if function is not None:
            return function.scope
    elif isinstance(current, ast.ClassDef):
        cls = model.class_of(current)
        if cls is not None:
            return cls.scope
    return model.module_scope


def in_forked_child(model: SemanticModel, node: ast.AST) -> bool:
    """Whether `node` runs only in the child of `os.fork()`: `if pid == 0:` after `pid = os.fork()`.

    The child inherits no running event loop (asyncio forgets the parent's in the child), so
    starting a loop there is correct even inside a coroutine of the parent.
    """
    child, parent = node, model.parent(node)
    while parent is not None and not isinstance(parent, _SCOPE_NODES):
        taken_when = _branch_condition(parent, child)
        if taken_when is not None and _is_child_test(model, *taken_when, parent):
            return True
        child, parent = parent, model.parent(parent)
    return False


def _is_child_test(model: SemanticModel, test: ast.expr, wanted: bool, branch: ast.AST) -> bool:
    """`pid == 0` / `not pid` (taken when true) or `pid != 0` / `pid` (taken when false)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return wanted and _is_fork_result(model, test.operand, branch)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and len(test.comparators) == 1:
        left, right = test.left, test.comparators[0]
        if isinstance(left, ast.Constant):
            left, right = right, left
        if not (isinstance(right, ast.Constant) and right.value == 0):
            return False
        if isinstance(test.ops[0], ast.Eq):
            return wanted and _is_fork_result(model, left, branch)
        if isinstance(test.ops[0], ast.NotEq):
            return not wanted and _is_fork_result(model, left, branch)
        return False
    return not wanted and _is_fork_result(model, test, branch)


def _is_fork_result(model: SemanticModel, expr: ast.expr, branch: ast.AST) -> bool:
    scope = _scope_of(model, branch)
    if isinstance(expr, ast.Call):
        return model.qualified_name(expr.func, scope) == _FORK
    if not isinstance(expr, ast.Name):
        return False
    bindings = scope.bindings.get(expr.id)
    if not bindings or len(bindings) != 1 or bindings[0].kind != "assign":
        return False
    value = bindings[0].node
    return isinstance(value, ast.Call) and model.qualified_name(value.func, scope) == _FORK
