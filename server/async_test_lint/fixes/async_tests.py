"""Coordinated fixes that make sync test methods coroutines so a call in them can be awaited.

An un-awaited coroutine in a sync test of a plain `TestCase` needs three changes at once: the
class becomes an `IsolatedAsyncioTestCase` (`convert.conversion_fix`), the test becomes
`async def` (`setUp`/`tearDown` become `asyncSetUp`/`asyncTearDown`), and the calls in it are
awaited or rewritten. `async_test_fix` composes them into one unsafe `Fix`, or gives None when any
part cannot be done by a machine (the caller then says "No automatic fix" and what to do).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from ..analysis.model import ClassInfo, FunctionInfo
from ..analysis.semantics import ClassKind
from ..context import Context
from ..model import Edit, Fix, Safety, TextRange
from .convert import LIFECYCLE_RENAMES, conversion_fix
from .edits import OverlappingEdits, merge_edits


def can_become_async(context: Context, method: FunctionInfo) -> str | None:
    """Why `method` cannot simply become a coroutine method, or None when it can: a test method
    or `setUp`/`tearDown` of a plain `TestCase` (converted) or an `IsolatedAsyncioTestCase`."""
    cls = method.cls
    if cls is None:
        return "it is not a method of a unittest test case"
    kind = context.semantics.kind(cls)
    if kind not in (ClassKind.PLAIN_TESTCASE, ClassKind.ISOLATED):
        return f"{cls.name} is {kind.value}"
    name = method.name
    if not (name.startswith("test") or name in LIFECYCLE_RENAMES):
        return f"{name} is a helper, not a test: make it `async def` and await it in its callers"
    renamed = LIFECYCLE_RENAMES.get(name)
    if renamed is not None and renamed in cls.methods:
        return f"{cls.name} already has {renamed}: move the code there by hand"
    if renamed is not None and _calls_super(method):
        return f"{name} calls super().{name}(): move its body to {renamed} by hand"
    if method.node.decorator_list:
        return f"{name} is decorated: check the decorator accepts a coroutine function"
    return None


def async_test_fix(
    context: Context,
    cls: ClassInfo,
    changes: Sequence[tuple[FunctionInfo, Sequence[Edit]]],
    what: str,
) -> Fix | None:
    """One unsafe fix: convert `cls` if it is a plain `TestCase`, make each method of `changes`
    (once each) a coroutine method, and apply its edits (awaits, rewrites). `what` names the
    edits for the title ("await 3 calls")."""
    if not changes or any(can_become_async(context, method) for method, _ in changes):
        return None
    groups: list[Sequence[Edit]] = []
    if context.semantics.kind(cls) is ClassKind.PLAIN_TESTCASE:
        if context.target < (3, 8):
            return None
        conversion = conversion_fix(context, cls, base_only=True)
        if conversion is None:
            return None
        groups.append(conversion.edits)
    for method, edits in changes:
        groups.append(_make_async(context, method))
        groups.append(edits)
    try:
        merged = merge_edits(groups)
    except OverlappingEdits:
        return None  # the conversion rewrites the same lines: its own fix goes first
    title = async_test_title(context, cls, [method for method, _ in changes], what)
    return Fix(title, Safety.UNSAFE, merged)


def async_test_title(
    context: Context, cls: ClassInfo, methods: Sequence[FunctionInfo], what: str
) -> str:
    """ "Convert OrderTest to IsolatedAsyncioTestCase, make test_place async and await 2 calls"."""
    names = ", ".join(sorted({LIFECYCLE_RENAMES.get(m.name, m.name) for m in methods}))
    title = f"make {names} async and {what}"
    if context.semantics.kind(cls) is ClassKind.PLAIN_TESTCASE:
        title = f"Convert {cls.name} to IsolatedAsyncioTestCase, {title}"
    return title[0].upper() + title[1:]


def _make_async(context: Context, method: FunctionInfo) -> list[Edit]:
    """`def test_x(` -> `async def test_x(`; `def setUp(` -> `async def asyncSetUp(`."""
    node = method.node
    start = context.range(node).start
    if node.decorator_list:
        return []  # refused by can_become_async
    line = context.parsed.lines.line_text(start.line)
    def_at = start.column
    if not line.startswith("def", def_at):
        return []
    edits = [Edit(TextRange(start, start), "async ")]
    renamed = LIFECYCLE_RENAMES.get(method.name)
    if renamed is not None:
        name_at = line.find(method.name, def_at + 3)
        if name_at < 0:
            return []
        begin = type(start)(start.line, name_at)
        end = type(start)(start.line, name_at + len(method.name))
        edits.append(Edit(TextRange(begin, end), renamed))
    return edits


def _calls_super(method: FunctionInfo) -> bool:
    return any(
        isinstance(call.node.func, ast.Attribute)
        and isinstance(call.node.func.value, ast.Call)
        and isinstance(call.node.func.value.func, ast.Name)
        and call.node.func.value.func.id == "super"
        for call in method.calls
    )
