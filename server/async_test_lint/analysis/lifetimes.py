"""Whether a value made by a call is released: the lifetime question asked of the flow layer.

`fate(flow, call)` follows the value a call makes (an event loop, a file, a client) through
locals, attributes (of the test class and of the objects it is handed to), arguments of known
callees and returns, and says:

- `released`: some use calls or hands on one of its release methods (`loop.close()`,
  `self.addCleanup(loop.close)`, `closing = loop.close`);
- `escapes`: the first use through which the value leaves what the analysis can follow (an
  argument of a callee it cannot see, a return or `yield`, a container, a module global, an
  attribute of a class whose bases it cannot see): someone else may release it;
- `holders`: the places that held it (for messages: "goes to Client.loop");
- `kept_by`: the callees named in `keepers` it was handed to: functions known to keep a
  reference without ever releasing it (`asyncio.set_event_loop`); whether someone else
  releases it there is the caller's question.

A value neither released nor escaping is certainly never released by this code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from .flow import CALL, ITEM, Flow, Place, Role, Use

#: bases whose methods never release a value stored on a test object by its subclasses.
_NEUTRAL_BASE_PREFIXES = ("unittest.", "builtins.", "object")


@dataclass(frozen=True)
class Fate:
    released: bool
    escapes: Use | None
    #: the places the value was stored in, in the order reached (for messages).
    holders: tuple[Place, ...]
    #: the keepers (see `fate`) the value was handed to.
    kept_by: tuple[str, ...] = ()

    @property
    def leaked(self) -> bool:
        """Certainly never released: not released, and never out of sight."""
        return not self.released and self.escapes is None


def fate(
    flow: Flow,
    node: ast.Call,
    release: Iterable[str] = ("close",),
    keepers: Iterable[str] = (),
) -> Fate | None:
    """What becomes of the value `node` makes; None when the call is not a use the flow layer
    names (a callee it cannot place). `keepers` are callees that keep the value without
    releasing it: handing it to one is recorded in `kept_by`, not as an escape."""
    releasing, keeping = frozenset(release), frozenset(keepers)
    maximal, inner = _maximal_chain(flow, node)
    if maximal is None:
        return None
    if inner:  # `new_event_loop().run_until_complete(x)`: the value itself is never bound
        released = inner[0] in releasing
        return Fate(released, None, ())
    released = False
    escapes: Use | None = None
    holders: list[Place] = []
    kept_by: list[str] = []
    for reached in flow.reach(maximal):
        use, steps = reached.use, reached.steps
        if steps[:1] and steps[0] in releasing:
            released = True
            continue
        if steps:
            continue  # a method or attribute of the value: it stays where it is
        if use.role is Role.STORED and use.target is not None:
            holders.append(use.target)
        if use.role is Role.ARGUMENT and use.callee in keeping:
            kept_by.append(use.callee)
            continue
        escape = _escapes(flow, use)
        if escape and escapes is None:
            escapes = use
    return Fate(released, escapes, tuple(holders), tuple(kept_by))


def _maximal_chain(flow: Flow, node: ast.Call) -> tuple[Use | None, tuple[str, ...]]:
    """The use whose chain contains `node`, and the steps taken after `node` within it."""
    steps: list[str] = []
    current: ast.expr = node
    parent = flow.model.parent(node)
    while True:
        use = flow.use_of(current)
        if use is not None:
            return use, tuple(steps)
        if isinstance(parent, ast.Attribute) and parent.value is current:
            steps.append(parent.attr)
        elif isinstance(parent, ast.Call) and parent.func is current:
            steps.append(CALL)
        elif isinstance(parent, ast.Subscript) and parent.value is current:
            steps.append(ITEM)
        else:
            return None, ()
        current = parent
        parent = flow.model.parent(parent)


def _escapes(flow: Flow, use: Use) -> bool:
    """The value itself leaves what `reach` follows at this use."""
    role = use.role
    if role is Role.STORED:
        target = use.target
        if target is None or use.target_steps or target.kind in ("global", "return"):
            return True  # a container element, an attribute of something else, a global
        return target.kind == "attr" and not _class_fully_known(flow, target.owner)
    if role is Role.ARGUMENT:
        return next(iter(flow.transfer_targets(use)), None) is None
    return role in (Role.RETURNED, Role.YIELDED, Role.OTHER, Role.CONFIGURED)


def _class_fully_known(flow: Flow, class_key: str) -> bool:
    """Every class of `class_key`'s MRO is seen by the analysis, or is a stdlib base."""
    for key in flow.mro(class_key):
        if key.startswith(_NEUTRAL_BASE_PREFIXES):
            continue
        if None in _bases(flow, key):
            return False
    return True


def _bases(flow: Flow, class_key: str) -> list[str | None]:
    """The qualified names of a class's bases (None where one does not resolve); [None] for a
    class the analysis cannot see."""
    for cls in flow.model.classes:
        if flow.class_key(cls) == class_key:
            scope = cls.parent_scope
            return [flow.model.qualified_name(base, scope) for base in cls.node.bases]
    if flow.summaries is None:
        return [None]
    summary = flow.summaries.find_class(class_key)
    return [None] if summary is None else list(summary.bases)
