"""Which paths of a function reach a node: its guards, as conditions on flags the caller sets.

`def start(self): fut = ensure_future(...); if self.run_async: return fut; return
self.loop.run_until_complete(fut)` runs the loop only when `self.run_async` is false: the guard of
the `run_until_complete` call is `("attr", "run_async", FALSY, None)`. A caller decides it: the
argument it passes for a parameter (or the parameter's default), or the value the object's
constructor stored in the attribute.

Only conditions of a flag form are recorded (a parameter or a `self` attribute, tested for truth or
compared with a constant, under `not`, `and`, `or` where the implication is exact); any other
condition constrains nothing here, so a node behind it counts as reached. A recorded guard whose
value cannot be decided makes the answer "unknown" (`None`), and rules stay silent on unknown.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Optional

from .model import FunctionInfo, SemanticModel
from .summary import ClassSummary

TRUTHY = "truthy"
FALSY = "falsy"
EQUAL = "=="
NOT_EQUAL = "!="

#: (subject kind "param" / "attr", subject name, test TRUTHY/FALSY/EQUAL/NOT_EQUAL, constant).
Guard = tuple[str, str, str, object]
#: What a caller knows of a subject: a 1-tuple holding its value, or None when unknown.
Known = Optional[tuple[object]]
Lookup = Callable[[str, str], Known]

_NEGATED = {TRUTHY: FALSY, FALSY: TRUTHY, EQUAL: NOT_EQUAL, NOT_EQUAL: EQUAL}
_TERMINATORS = (ast.Return, ast.Raise)
_MISSING = object()


def guards(model: SemanticModel, node: ast.AST, function: FunctionInfo) -> tuple[Guard, ...]:
    """The flag conditions that hold whenever `node` (inside `function`'s own body) runs."""
    found: list[Guard] = []
    child: ast.AST = node
    parent = model.parent(node)
    while parent is not None and child is not function.node:
        found.extend(_guards_at(function, parent, child))
        child, parent = parent, model.parent(parent)
    return tuple(found)


def _guards_at(function: FunctionInfo, parent: ast.AST, child: ast.AST) -> list[Guard]:
    found: list[Guard] = []
    if isinstance(parent, (ast.If, ast.IfExp)):
        if _contains(parent.body, child):
            found.extend(implied(function, parent.test, positive=True))
        elif _contains(parent.orelse, child):
            found.extend(implied(function, parent.test, positive=False))
    elif isinstance(parent, ast.BoolOp) and child is not parent.values[0]:
        position = next(i for i, value in enumerate(parent.values) if value is child)
        for earlier in parent.values[:position]:  # `a and x`: x runs when a is true
            found.extend(implied(function, earlier, positive=isinstance(parent.op, ast.And)))
    for block in _blocks(parent):
        if not _contains(block, child):
            continue
        for statement in block:
            if statement is child:
                break
            found.extend(_early_exit_guards(function, statement))
    return found


def _early_exit_guards(function: FunctionInfo, statement: ast.stmt) -> list[Guard]:
    """`if flag: return x` before a statement: the statement runs only when `flag` is false."""
    if not isinstance(statement, ast.If):
        return []
    body_exits, else_exits = _exits(statement.body), _exits(statement.orelse)
    if body_exits and not else_exits:
        return implied(function, statement.test, positive=False)
    if else_exits and not body_exits:
        return implied(function, statement.test, positive=True)
    return []


def _exits(block: Sequence[ast.stmt]) -> bool:
    return bool(block) and isinstance(block[-1], _TERMINATORS)


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    blocks = []
    for name in ("body", "orelse", "finalbody"):
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            blocks.append(value)
    return blocks


def _contains(block: object, child: ast.AST) -> bool:
    if isinstance(block, list):
        return any(item is child for item in block)
    return block is child


def implied(function: FunctionInfo, test: ast.expr, *, positive: bool) -> list[Guard]:
    """The flag guards that hold when `test` evaluates to `positive`."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return implied(function, test.operand, positive=not positive)
    if isinstance(test, ast.BoolOp):
        # `a and b` true: both hold; `a or b` false: neither holds. Otherwise nothing is certain.
        if isinstance(test.op, ast.And) == positive:
            return [g for value in test.values for g in implied(function, value, positive=positive)]
        return []
    atom = _atom(function, test)
    if atom is None:
        return []
    kind, name, check, constant = atom
    return [(kind, name, check if positive else _NEGATED[check], constant)]


def _atom(function: FunctionInfo, test: ast.expr) -> Guard | None:
    subject = _subject(function, test)
    if subject is not None:
        return (*subject, TRUTHY, None)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, right, op = test.left, test.comparators[0], test.ops[0]
    if not isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
        return None
    if isinstance(left, ast.Constant):
        left, right = right, left
    subject = _subject(function, left)
    if subject is None or not isinstance(right, ast.Constant):
        return None
    check = EQUAL if isinstance(op, (ast.Is, ast.Eq)) else NOT_EQUAL
    return (*subject, check, right.value)


def _subject(function: FunctionInfo, expr: ast.expr) -> tuple[str, str] | None:
    """A parameter of `function` never rebound, or `self.<name>` in a method."""
    if isinstance(expr, ast.Name):
        bindings = function.scope.bindings.get(expr.id)
        if bindings and all(binding.kind == "param" for binding in bindings):
            return ("param", expr.id)
        return None
    receiver = function.receiver
    if (
        receiver is not None
        and isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == receiver
    ):
        return ("attr", expr.attr)
    return None


def holds(guard: Guard, value: object) -> bool:
    _, _, check, constant = guard
    if check == TRUTHY:
        return bool(value)
    if check == FALSY:
        return not value
    same = (
        value is constant if constant is None or isinstance(constant, bool) else value == constant
    )
    return same if check == EQUAL else not same


def decide(guard_list: Iterable[Guard], lookup: Lookup) -> bool | None:
    """Whether a node with these guards runs: False when a guard is false, None when a guard
    cannot be decided (and none is false), True otherwise."""
    answer: bool | None = True
    for guard in guard_list:
        known = lookup(guard[0], guard[1])
        if known is None:
            answer = None
        elif not holds(guard, known[0]):
            return False
    return answer


def decide_any(paths: Iterable[Sequence[Guard]], lookup: Lookup) -> bool | None:
    """Whether one of several guarded nodes runs: True if one does, None if one may."""
    answer: bool | None = False
    for path in paths:
        decided = decide(path, lookup)
        if decided:
            return True
        if decided is None:
            answer = None
    return answer


# -- what a caller passes ----------------------------------------------------------------------


def literal(expr: ast.expr | None) -> Known:
    """The value of a literal constant (`True`, `0`, `"x"`, `None`, `-1`), else None."""
    if isinstance(expr, ast.Constant):
        return (expr.value,)
    if (
        isinstance(expr, ast.UnaryOp)
        and isinstance(expr.op, ast.USub)
        and isinstance(expr.operand, ast.Constant)
        and isinstance(expr.operand.value, (int, float))
    ):
        return (-expr.operand.value,)
    return None


def constant_defaults(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
) -> tuple[tuple[str, object], ...]:
    """The parameters whose default is a literal constant, with it."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = list(zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults))
    pairs += [
        (argument, default)
        for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults)
        if default is not None
    ]
    found = []
    for argument, default in pairs:
        known = literal(default)
        if known is not None:
            found.append((argument.arg, known[0]))
    return tuple(found)


def bound_arguments(
    call: ast.Call,
    parameters: Sequence[str],
    defaults: Mapping[str, object],
    *,
    skip_first: bool,
) -> dict[str, Known]:
    """What `call` passes for each parameter: a literal, the default it leaves in place, or None
    (unknown: a non-literal argument, or `*args` / `**kwargs` that may hold it)."""
    names = list(parameters[1:] if skip_first else parameters)
    found: dict[str, Known] = {}
    starred = any(isinstance(a, ast.Starred) for a in call.args)
    for name, argument in zip(names, call.args):
        if isinstance(argument, ast.Starred):
            break
        found[name] = literal(argument)
    double_starred = any(keyword.arg is None for keyword in call.keywords)
    for keyword in call.keywords:
        if keyword.arg is not None:
            found[keyword.arg] = literal(keyword.value)
    for name in names:
        if name in found:
            continue
        default = defaults.get(name, _MISSING)
        found[name] = None if starred or double_starred or default is _MISSING else (default,)
    return found


def stored_constant(constructor: ast.Call, cls: ClassSummary, attribute: str) -> Known:
    """The constant `constructor` (a call of `cls`) leaves in `self.<attribute>`: `__init__`
    stores a parameter there (`self.run_async = run_async`) and the call passes a literal for it
    or leaves its literal default. None when that cannot be told."""
    stored_from = [parameter for parameter, target in cls.init_parameters if target == attribute]
    init = cls.methods.get("__init__")
    if len(stored_from) != 1 or init is None:
        return None
    arguments = bound_arguments(
        constructor, init.parameters, dict(init.constant_defaults), skip_first=True
    )
    return arguments.get(stored_from[0])
