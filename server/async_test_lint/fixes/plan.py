"""The decisions of a class conversion, keyed by positions: made on the `ast` model by
`convert.py`, carried out on the class's text by `convert_cst.py`."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analysis.model import ClassInfo

Span = tuple[
    int, int, int, int
]  # start line, start column, end line, end column (segment-relative)


@dataclass
class ConversionPlan:
    cls: ClassInfo
    per_test_loop: bool
    #: the class already is an IsolatedAsyncioTestCase (it also drove a loop of its own).
    keep_base: bool = False
    #: method name -> new name, for methods that become `async def`.
    make_async: dict[str, str] = field(default_factory=dict)
    #: `asyncio.run(x)`-style calls to rewrite, with "outer parentheses needed".
    loop_calls: dict[Span, bool] = field(default_factory=dict)
    #: calls of converted helpers to await, with "outer parentheses needed".
    helper_calls: dict[Span, bool] = field(default_factory=dict)
    remove_statements: set[Span] = field(default_factory=set)
    base_span: Span | None = None
    base_text: str = ""
    prepend_base: bool = False
    setup_lines: tuple[str, ...] = ()
    #: lifecycle methods removed when the plumbing removal leaves nothing else in them.
    drop_if_empty: set[str] = field(default_factory=set)
    #: `super().setUp()` calls in methods renamed to asyncSetUp/asyncTearDown:
    #: span -> (new method name, already awaited, outer parentheses needed).
    super_calls: dict[Span, tuple[str, bool, bool]] = field(default_factory=dict)
