"""What a rule is: its identity, its documentation, its examples, and its check.

One rule, one module. The documentation fields feed `docs/rules/<CODE>.md`, `async-test-lint rule
CODE` and the editor hover; the examples feed the test suite. Nothing about a rule is written twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from ..context import Context
from ..model import Diagnostic, Safety, Severity

DEFAULT_EXAMPLE_PATH = "tests/test_example.py"


@dataclass(frozen=True)
class Valid:
    """Correct code that must stay silent (for every rule, not only this one)."""

    code: str
    #: other files of the project, by path relative to the project root.
    files: Mapping[str, str] = field(default_factory=dict)
    path: str = DEFAULT_EXAMPLE_PATH
    target_version: tuple[int, int] | None = None
    note: str = ""


@dataclass(frozen=True)
class Invalid:
    """Code this rule reports: `count` times, the first on the 1-based `line`."""

    code: str
    line: int
    count: int = 1
    #: the file after applying this rule's fixes (safe and unsafe); None when no fix is offered.
    fixed: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)
    path: str = DEFAULT_EXAMPLE_PATH
    target_version: tuple[int, int] | None = None
    #: the fixed module is a unittest module whose tests must run and pass.
    runnable: bool = False
    note: str = ""


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    #: SPEC.md family, e.g. "T1".
    family: ClassVar[str]
    #: one line, for listings.
    summary: ClassVar[str]
    severity: ClassVar[Severity] = Severity.WARNING
    #: Markdown sections of the explanation.
    what: ClassVar[str]
    why: ClassVar[str]
    versions: ClassVar[str]
    fix_notes: ClassVar[str]
    #: the safety of the fix this rule offers, None when it offers none.
    fix_safety: ClassVar[Safety | None] = None
    #: shown under "Use instead" when the first invalid example has no fixed form.
    use_instead: ClassVar[str] = ""
    min_target: ClassVar[tuple[int, int] | None] = None
    max_target: ClassVar[tuple[int, int] | None] = None
    valid: ClassVar[tuple[Valid, ...]] = ()
    invalid: ClassVar[tuple[Invalid, ...]] = ()

    def check(self, context: Context) -> Iterable[Diagnostic]:
        raise NotImplementedError

    @classmethod
    def applies_to(cls, target: tuple[int, int]) -> bool:
        if cls.min_target is not None and target < cls.min_target:
            return False
        return cls.max_target is None or target <= cls.max_target

    @classmethod
    def example_before(cls) -> str:
        return cls.invalid[0].code if cls.invalid else ""

    @classmethod
    def example_after(cls) -> str:
        if cls.invalid and cls.invalid[0].fixed is not None:
            return cls.invalid[0].fixed
        return cls.use_instead
