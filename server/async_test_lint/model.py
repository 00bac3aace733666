"""The one vocabulary shared by the engine, the CLI and the language server.

Positions are 0-based lines and 0-based columns counted in Unicode code points. Front ends convert
them: the CLI adds one, the language server converts to the negotiated LSP position encoding.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Callable, Optional


class Safety(str, enum.Enum):
    """Whether applying a fix can change behaviour beyond removing the bug."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True, order=True)
class TextRange:
    start: Position
    end: Position

    def contains(self, position: Position) -> bool:
        return self.start <= position <= self.end

    def overlaps(self, other: TextRange) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Edit:
    """Replace the text in `range` by `new_text` (an empty range inserts)."""

    range: TextRange
    new_text: str


@dataclass(frozen=True)
class Fix:
    title: str
    safety: Safety
    edits: tuple[Edit, ...]

    def span(self) -> TextRange:
        return TextRange(
            min(edit.range.start for edit in self.edits),
            max(edit.range.end for edit in self.edits),
        )


FixBuilder = Callable[[], Optional[Fix]]


class LazyFix:
    """A fix computed on first use, at most once.

    Detection runs on every keystroke; computing an edit can cost a libcst parse, so rules hand the
    engine a builder and nobody pays for it until a front end asks (a code action, `--fix`, JSON).
    """

    __slots__ = ("_builder", "_done", "_lock", "_value", "safety", "title", "unchecked")

    def __init__(
        self,
        title: str,
        safety: Safety,
        builder: FixBuilder,
        *,
        unchecked: LazyFix | None = None,
    ) -> None:
        self.title = title
        self.safety = safety
        #: the same fix before the engine's check that the fixed file parses, for callers that
        #: check a whole pass of fixes at once (`engine.fix`).
        self.unchecked = unchecked
        self._builder: FixBuilder | None = builder
        self._value: Fix | None = None
        self._done = False
        self._lock = threading.Lock()

    @classmethod
    def ready(cls, fix: Fix) -> LazyFix:
        lazy = cls(fix.title, fix.safety, lambda: fix)
        lazy.get()
        return lazy

    def get(self) -> Fix | None:
        with self._lock:
            if not self._done:
                builder, self._builder = self._builder, None
                assert builder is not None
                self._done = True  # a builder that raises is not run again: no fix, next time
                self._value = builder()
            return self._value


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    message: str
    range: TextRange
    severity: Severity
    lazy_fix: LazyFix | None = field(default=None, compare=False, repr=False)

    @property
    def fix(self) -> Fix | None:
        return self.lazy_fix.get() if self.lazy_fix is not None else None

    @property
    def fix_safety(self) -> Safety | None:
        """The safety of the offered fix, known without computing it."""
        return self.lazy_fix.safety if self.lazy_fix is not None else None


@dataclass(frozen=True)
class RuleFailure:
    """A rule raised while checking a file: reported, never fatal; the other rules still ran."""

    code: str
    path: str
    error: str


@dataclass(frozen=True)
class LintResult:
    diagnostics: Sequence[Diagnostic]
    failures: Sequence[RuleFailure] = ()
    skipped_reason: str | None = None
    #: keeps the analysis behind the lazy fixes intact while the result lives (see engine.lint).
    owner: object = field(default=None, compare=False, repr=False)


DEFAULT_TARGET = (3, 9)


@dataclass(frozen=True)
class Settings:
    """What to check and for which Python. Selectors are codes or code prefixes ("ATL1", "ALL")."""

    select: frozenset[str] = frozenset({"ALL"})
    ignore: frozenset[str] = frozenset()
    #: (glob pattern, selectors) pairs applied to paths relative to the project root.
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    exclude: tuple[str, ...] = ()
    target_version: tuple[int, int] = DEFAULT_TARGET
    #: the folder of the pyproject.toml these settings came from (per-file patterns are relative
    #: to it).
    project_root: str | None = None

    def is_enabled(self, code: str, file_ignores: frozenset[str] = frozenset()) -> bool:
        """Selected and not ignored (the more specific selector wins; a tie goes to ignore).

        `file_ignores` (from per-file-ignores) always win, as in ruff: a file pattern is a
        stronger statement than a project-wide select.
        """
        if _most_specific(code, file_ignores) >= 0:
            return False
        selected = _most_specific(code, self.select)
        ignored = _most_specific(code, self.ignore)
        if selected < 0:
            return False
        return ignored < selected or ignored < 0


def _most_specific(code: str, selectors: frozenset[str]) -> int:
    """Length of the longest selector matching `code` ("ALL" counts as 0), -1 when none does."""
    best = -1
    for selector in selectors:
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best
