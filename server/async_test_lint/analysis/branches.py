"""Code that never runs: branches a module-level constant decides, and a fork's child branch.

Test suites generated from one source for both an async and a sync API (pymongo's `synchro`,
`unasync`) keep both spellings behind a flag bound once per module, `_IS_SYNC = True`; the
branch for the other API is dead in that module. `if TYPE_CHECKING:` is dead at run time.

Both questions are asked for every call of every coroutine, so the answers are memoised per node
in the model (`_BranchFacts`): a node's answer is its parent's answer combined with the one branch
edge between them, and each branch's test is judged once. Asking about every node of a test with
an n-arm `if/elif` chain (nested n deep) costs O(n), not O(n^3).
"""

from __future__ import annotations

import ast

from .model import Scope, SemanticModel

_FALSE_AT_RUN_TIME = frozenset({"typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"})
_FORK = "os.fork"
_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_CACHE_KEY = "branch-facts"


def in_dead_branch(model: SemanticModel, node: ast.AST) -> bool:
    """Whether `node` sits in an `if`/`while`/conditional-expression branch that never runs."""
    return _facts(model).in_dead_branch(node)


def in_forked_child(model: SemanticModel, node: ast.AST) -> bool:
    """Whether `node` runs only in the child of `os.fork()`: `if pid == 0:` after `pid = os.fork()`.

    The child inherits no running event loop (asyncio forgets the parent's in the child), so
    starting a loop there is correct even inside a coroutine of the parent.
    """
    return _facts(model).in_forked_child(node)


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
    if name in _facts(model).function_globals():
        return None  # a function may rebind it with `global`
    return value.value


def _facts(model: SemanticModel) -> _BranchFacts:
    facts = model.cache.get(_CACHE_KEY)
    if not isinstance(facts, _BranchFacts):
        facts = model.cache[_CACHE_KEY] = _BranchFacts(model)
    return facts


class _BranchFacts:
    """Memoised answers per node of one model (the tree outlives them: ids stay unique)."""

    def __init__(self, model: SemanticModel) -> None:
        self.model = model
        self._dead: dict[int, bool] = {}
        self._forked: dict[int, bool] = {}
        self._scopes: dict[int, Scope] = {}
        self._truths: dict[int, bool | None] = {}
        self._child_tests: dict[tuple[int, bool], bool] = {}
        self._bodies: dict[int, tuple[frozenset[int], frozenset[int]]] = {}
        self._function_globals: frozenset[str] | None = None

    def function_globals(self) -> frozenset[str]:
        """Every name some function declares `global`."""
        if self._function_globals is None:
            names: set[str] = set()
            for function in self.model.functions:
                names.update(function.scope.globals)
            self._function_globals = frozenset(names)
        return self._function_globals

    # -- dead branches -------------------------------------------------------------------------

    def in_dead_branch(self, node: ast.AST) -> bool:
        """Dead when the parent is, or when the branch from the parent to it is never taken."""
        dead, parents = self._dead, self.model.parents
        path: list[tuple[ast.AST, ast.AST]] = []
        current = node
        known = dead.get(id(current))
        while known is None:
            parent = parents.get(id(current))
            if parent is None:
                known = False
                break
            path.append((current, parent))
            current = parent
            known = dead.get(id(current))
        for child, parent in reversed(path):
            if not known:
                taken_when = self._branch_condition(parent, child)
                if taken_when is not None:
                    truth = self._truth(parent, taken_when[0])
                    known = truth is not None and truth is not taken_when[1]
            dead[id(child)] = known
        return known

    def _truth(self, branch: ast.AST, test: ast.expr) -> bool | None:
        key = id(branch)
        if key in self._truths:
            return self._truths[key]
        truth = self._truths[key] = static_truth(self.model, test, self.scope_of(branch))
        return truth

    # -- fork children -------------------------------------------------------------------------

    def in_forked_child(self, node: ast.AST) -> bool:
        """Forked when a branch between the node and its scope runs only in a fork's child."""
        forked, parents = self._forked, self.model.parents
        path: list[tuple[ast.AST, ast.AST]] = []
        current = node
        known = forked.get(id(current))
        while known is None:
            parent = parents.get(id(current))
            if parent is None or isinstance(parent, _SCOPE_NODES):
                known = False
                break
            path.append((current, parent))
            current = parent
            known = forked.get(id(current))
        for child, parent in reversed(path):
            if not known:
                taken_when = self._branch_condition(parent, child)
                if taken_when is not None:
                    known = self._is_child_test(parent, *taken_when)
            forked[id(child)] = known
        return known

    def _is_child_test(self, branch: ast.AST, test: ast.expr, wanted: bool) -> bool:
        key = (id(branch), wanted)
        found = self._child_tests.get(key)
        if found is None:
            found = self._child_tests[key] = _is_child_test(self, test, wanted, branch)
        return found

    # -- shared --------------------------------------------------------------------------------

    def scope_of(self, node: ast.AST) -> Scope:
        """The scope in which `node` (a statement or expression) is evaluated."""
        scopes, parents = self._scopes, self.model.parents
        path: list[ast.AST] = []
        current = node
        found = scopes.get(id(current))
        while found is None:
            path.append(current)
            parent = parents.get(id(current))
            if parent is None or isinstance(parent, _SCOPE_NODES):
                found = self._scope_of_definition(parent)
                break
            current = parent
            found = scopes.get(id(current))
        for each in path:
            scopes[id(each)] = found
        return found

    def _scope_of_definition(self, definition: ast.AST | None) -> Scope:
        model = self.model
        if isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = model.function_of(definition)
            if function is not None:
                return function.scope
        elif isinstance(definition, ast.ClassDef):
            cls = model.class_of(definition)
            if cls is not None:
                return cls.scope
        return model.module_scope

    def _branch_condition(self, parent: ast.AST, child: ast.AST) -> tuple[ast.expr, bool] | None:
        """(test, the truth value under which `child` runs) when `child` is a branch of `parent`."""
        kind = type(parent)
        if kind is ast.If or kind is ast.While:
            body, orelse = self._branch_bodies(parent)  # type: ignore[arg-type]
            if id(child) in body:
                return parent.test, True  # type: ignore[attr-defined]
            if kind is ast.If and id(child) in orelse:
                return parent.test, False  # type: ignore[attr-defined]
        elif kind is ast.IfExp:
            if parent.body is child:  # type: ignore[attr-defined]
                return parent.test, True  # type: ignore[attr-defined]
            if parent.orelse is child:  # type: ignore[attr-defined]
                return parent.test, False  # type: ignore[attr-defined]
        return None

    def _branch_bodies(self, parent: ast.If | ast.While) -> tuple[frozenset[int], frozenset[int]]:
        found = self._bodies.get(id(parent))
        if found is None:
            found = self._bodies[id(parent)] = (
                frozenset(id(statement) for statement in parent.body),
                frozenset(id(statement) for statement in parent.orelse),
            )
        return found


def _is_child_test(facts: _BranchFacts, test: ast.expr, wanted: bool, branch: ast.AST) -> bool:
    """`pid == 0` / `not pid` (taken when true) or `pid != 0` / `pid` (taken when false)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return wanted and _is_fork_result(facts, test.operand, branch)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and len(test.comparators) == 1:
        left, right = test.left, test.comparators[0]
        if isinstance(left, ast.Constant):
            left, right = right, left
        if not (isinstance(right, ast.Constant) and right.value == 0):
            return False
        if isinstance(test.ops[0], ast.Eq):
            return wanted and _is_fork_result(facts, left, branch)
        if isinstance(test.ops[0], ast.NotEq):
            return not wanted and _is_fork_result(facts, left, branch)
        return False
    return not wanted and _is_fork_result(facts, test, branch)


def _is_fork_result(facts: _BranchFacts, expr: ast.expr, branch: ast.AST) -> bool:
    model = facts.model
    scope = facts.scope_of(branch)
    if isinstance(expr, ast.Call):
        return model.qualified_name(expr.func, scope) == _FORK
    if not isinstance(expr, ast.Name):
        return False
    bindings = scope.bindings.get(expr.id)
    if not bindings or len(bindings) != 1 or bindings[0].kind != "assign":
        return False
    value = bindings[0].node
    return isinstance(value, ast.Call) and model.qualified_name(value.func, scope) == _FORK
