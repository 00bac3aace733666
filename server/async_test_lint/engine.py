"""The analysis engine: `lint` and `fix`, pure functions of (source, path, settings, index).

It knows nothing of LSP or of terminals; the language server and the CLI only translate.
"""

from __future__ import annotations

import ast
import bisect
import fnmatch
import gc
import logging
import re
import threading
import time
import traceback
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath

from .analysis.index import ProjectIndex, module_name_for
from .analysis.model import SemanticModel
from .analysis.semantics import Semantics
from .analysis.summarize import summarize_module
from .analysis.summary import ModuleSummary
from .context import Context
from .fixes.edits import OverlappingEdits, apply_edits
from .model import (
    Diagnostic,
    Edit,
    Fix,
    LazyFix,
    LintResult,
    Position,
    RuleFailure,
    Safety,
    Settings,
    Severity,
    TextRange,
)
from .noqa import noqa_codes
from .parsing import ParsedSource, SyntaxProblem, parse_python
from .rules import Rule, all_rules
from .source import BOM, LineIndex

logger = logging.getLogger(__name__)

SYNTAX_ERROR_CODE = "ATL001"
SYNTAX_ERROR_NAME = "syntax-error"
MAX_FIX_PASSES = 10
DEFAULT_SETTINGS = Settings()


_gc_lock = threading.Lock()
_gc_holders = 0


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while one document is analysed.

    Building the model allocates tens of thousands of small objects while a large `ast` is alive;
    generational collections then rescan that tree again and again (40% of lint time on a
    3,300-line file). Nothing analysed here needs collecting before the analysis ends. Holders are
    counted so concurrent lints in the language server's threads do not re-enable it early.
    """
    global _gc_holders
    with _gc_lock:
        _gc_holders += 1
        if _gc_holders == 1:
            was_enabled = gc.isenabled()
            gc.disable()
            _gc_state.append(was_enabled)
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_state.pop():
                gc.enable()


_gc_state: list[bool] = []

#: public for front ends: the language server converts a large result to LSP under the same pause.
collector_paused = _collector_paused


def freeze_startup_objects() -> None:
    """Move every object alive now out of the collector's reach (`gc.freeze`).

    Front ends call this once, after their imports: the modules, rule classes and libcst grammar
    then never get rescanned by full collections, which otherwise cost a third of a lint.
    """
    gc.collect()
    gc.freeze()


class LintTimeout(Exception):
    """A lint ran past its time limit and was abandoned.

    The limit is cooperative: it is checked once the file is parsed and modelled, before each rule
    and after each diagnostic a rule yields. `ast.parse` and the model's single walk are not
    interrupted (both linear in the file's size): a lint can overrun the limit by their duration.
    """

    def __init__(self, path: str | None, limit: float, phase: str) -> None:
        where = path or "<unsaved document>"
        super().__init__(f"{where}: analysis abandoned after {limit:g} s ({phase})")
        self.path = path
        self.limit = limit
        self.phase = phase


class _Deadline:
    """The moment a lint (or all passes of a fix) must be done by; no limit when None."""

    __slots__ = ("_at", "limit", "path")

    def __init__(self, limit: float | None, path: str | None) -> None:
        self.limit = limit
        self.path = path
        self._at = None if limit is None else time.monotonic() + limit

    def check(self, phase: str) -> None:
        if self._at is not None and time.monotonic() > self._at:
            assert self.limit is not None
            raise LintTimeout(self.path, self.limit, phase)


@dataclass(frozen=True)
class Analysis:
    """One parsed and modelled document: what lint reads, and what an index learns from it."""

    parsed: ParsedSource
    model: SemanticModel


def module_name(path: str | None, settings: Settings) -> str:
    if path is None:
        return "__main__"
    return module_name_for(path, settings.project_root)


def analyse(source: str, path: str | None, settings: Settings) -> Analysis | SyntaxProblem:
    parsed = parse_python(source)
    if isinstance(parsed, SyntaxProblem):
        return parsed
    return Analysis(parsed, SemanticModel(parsed, module_name(path, settings), path))


def summarize(source: str, path: str, settings: Settings) -> ModuleSummary | None:
    """The index entry for a file, or None when it does not parse."""
    analysis = analyse(source, path, settings)
    if isinstance(analysis, SyntaxProblem):
        return None
    return summarize_module(analysis.model)


def index_sources(files: Mapping[str, str], settings: Settings) -> ProjectIndex:
    """A project index of in-memory files (path -> text); files that do not parse are skipped."""
    index = ProjectIndex()
    for path, text in files.items():
        summary = summarize(text, path, settings)
        if summary is not None:
            index.update(summary)
    return index


def lint(
    source: str,
    path: str | None = None,
    settings: Settings = DEFAULT_SETTINGS,
    index: ProjectIndex | None = None,
    *,
    time_limit: float | None = None,
) -> LintResult:
    """Every diagnostic of the enabled rules for `source`, each carrying its (lazy) fix.

    With a `time_limit` (seconds), a lint that runs longer raises `LintTimeout`.
    """
    with _collector_paused():
        return _lint(source, path, settings, index, _Deadline(time_limit, path))


def _lint(
    source: str,
    path: str | None,
    settings: Settings,
    index: ProjectIndex | None,
    deadline: _Deadline,
) -> LintResult:
    extra_ignores = per_file_ignores(path, settings)
    analysis = analyse(source, path, settings)
    if isinstance(analysis, SyntaxProblem):
        if not settings.is_enabled(SYNTAX_ERROR_CODE, extra_ignores):
            return LintResult(())
        return LintResult((_syntax_diagnostic(analysis),))
    deadline.check("after parsing and modelling")
    # Whoever can still build a fix of this lint holds `owner` (the result and every lazy fix);
    # when nobody does, the model's cycles are broken so it is freed at once by reference
    # counting instead of waiting for (and costing) a cyclic collection on the next keystroke.
    owner = _ModelOwner()
    semantics = Semantics(analysis.model, index)
    weakref.finalize(owner, semantics.release)
    context = Context(analysis.parsed, analysis.model, semantics, settings, path)
    diagnostics: list[Diagnostic] = []
    failures: list[RuleFailure] = []
    for rule_class in enabled_rules(settings, extra_ignores):
        try:
            found = _run_rule(rule_class, context, deadline)
        except LintTimeout:
            raise
        except Exception as error:  # a broken rule must not take the others down
            failures.append(_failure(rule_class, path, error))
            continue
        diagnostics.extend(_validated(diagnostic, analysis.parsed, owner) for diagnostic in found)
    kept = _drop_suppressed(_dedupe(diagnostics), analysis.parsed.lines)
    kept.sort(key=lambda diagnostic: (diagnostic.range, diagnostic.code))
    return LintResult(tuple(kept), tuple(failures), owner=owner)


def _run_rule(rule_class: type[Rule], context: Context, deadline: _Deadline) -> list[Diagnostic]:
    found = []
    deadline.check(f"before {rule_class.code}")
    for diagnostic in rule_class().check(context):
        found.append(diagnostic)
        deadline.check(f"in {rule_class.code}")
    return found


def enabled_rules(
    settings: Settings, extra_ignores: frozenset[str] = frozenset()
) -> list[type[Rule]]:
    return [
        rule
        for rule in all_rules()
        if settings.is_enabled(rule.code, extra_ignores)
        and rule.applies_to(settings.target_version)
    ]


def per_file_ignores(path: str | None, settings: Settings) -> frozenset[str]:
    if path is None or not settings.per_file_ignores:
        return frozenset()
    relative = _relative_posix(path, settings.project_root)
    ignored: set[str] = set()
    for pattern, codes in settings.per_file_ignores:
        if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(
            PurePosixPath(relative).name, pattern
        ):
            ignored |= codes
    return frozenset(ignored)


def _relative_posix(path: str, root: str | None) -> str:
    pure = PurePath(path)
    if root is not None:
        with suppress(ValueError):
            pure = pure.relative_to(root)
    return pure.as_posix()


def _failure(rule: type[Rule], path: str | None, error: Exception) -> RuleFailure:
    where = path or "<unsaved document>"
    logger.error("rule %s failed on %s:\n%s", rule.code, where, traceback.format_exc())
    return RuleFailure(rule.code, where, f"{type(error).__name__}: {error}")


def _syntax_diagnostic(problem: SyntaxProblem) -> Diagnostic:
    return Diagnostic(
        code=SYNTAX_ERROR_CODE,
        name=SYNTAX_ERROR_NAME,
        message=f"SyntaxError: {problem.message}",
        range=problem.range,
        severity=Severity.ERROR,
    )


def _dedupe(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, TextRange, str]] = set()
    unique = []
    for diagnostic in diagnostics:
        key = (diagnostic.code, diagnostic.range, diagnostic.message)
        if key not in seen:
            seen.add(key)
            unique.append(diagnostic)
    return unique


def _drop_suppressed(diagnostics: Sequence[Diagnostic], lines: LineIndex) -> list[Diagnostic]:
    kept = []
    for diagnostic in diagnostics:
        suppressed = False
        for line in {diagnostic.range.start.line, diagnostic.range.end.line}:
            codes = noqa_codes(lines.line_text(line))
            if codes is not None and (not codes or diagnostic.code in codes):
                suppressed = True
                break
        if not suppressed:
            kept.append(diagnostic)
    return kept


class _ModelOwner:
    """A token whose lifetime is "some fix of this lint can still be built"."""

    __slots__ = ("__weakref__", "fix_checker")

    def __init__(self) -> None:
        self.fix_checker: FixChecker | None = None


def _fix_checker(parsed: ParsedSource, owner: _ModelOwner) -> FixChecker:
    """One checker per lint, shared by its fixes (it memoises the statement lists it searched)."""
    if owner.fix_checker is None:
        owner.fix_checker = FixChecker(parsed)
    return owner.fix_checker


#: what may follow a statement on its last line for that line to hold nothing else.
_STATEMENT_TAIL = re.compile(r"[ \t]*;?[ \t]*(?:#.*)?")
_INDENT = re.compile(r"[ \t]*")


class FixChecker:
    """Whether the file still parses once a fix's edits are applied, without parsing all of it.

    The edits are applied to the smallest statement that holds them all and has its lines to
    itself (nothing but its indentation before it, nothing but a comment after it), and only
    that statement's lines are parsed, inside `if 1:` when indented, followed by a `pass` at the
    statement's indentation. When that parses as one block, the whole file parses: the region
    was a sequence of complete statements at that indentation before the edit and still is after
    it, brackets and strings closed within it, so every line outside it tokenizes and parses as
    before. When it does not (or no statement qualifies), the whole fixed file is parsed: a
    fix is refused only when the whole file says so. Checking a file's fixes costs the size of
    their statements, not the size of the file times the number of fixes.
    """

    def __init__(self, parsed: ParsedSource) -> None:
        self.parsed = parsed
        #: per block (by id: the tree outlives the checker): its statements and first lines.
        self._blocks: dict[int, tuple[list[ast.stmt], list[int]]] = {}

    def parses(self, edits: Sequence[Edit]) -> bool:
        """Whether the text with `edits` applied parses; OverlappingEdits when they overlap."""
        text, lines = self.parsed.text, self.parsed.lines
        spans = sorted(
            (
                (lines.offset(edit.range.start), lines.offset(edit.range.end), edit.new_text)
                for edit in edits
            ),
            key=lambda span: (span[0], span[1]),
        )
        region = self._region(spans[0][0], max(end for _, end, _ in spans))
        if region is not None:
            start, end, indent = region
            edited = _apply_spans(text, start, end, spans)
            if _block_parses(edited, indent):
                return True
        return syntax_ok(_apply_spans(text, 0, len(text), spans))

    def _region(self, first: int, last: int) -> tuple[int, int, str] | None:
        """(start offset, end offset, indentation) of the lines of the smallest statement that
        holds the offsets `first`..`last` and has its lines to itself; None when none does."""
        parsed, lines = self.parsed, self.parsed.lines
        if parsed.text.startswith(BOM) and lines.position(first).line == 0:
            return None
        first_line = lines.position(first).line + 1  # 1-based, as in `ast`
        last_line = lines.position(last).line + 1
        found: tuple[int, int, str] | None = None
        block: ast.AST | None = parsed.tree
        while block is not None:
            statement = self._statement_over(block, first_line, last_line)
            if statement is None:
                break
            candidate = self._own_lines(statement)
            if candidate is not None and _holds(candidate, first, last):
                found = candidate
            block = statement
        return found

    def _statement_over(self, block: ast.AST, first_line: int, last_line: int) -> ast.stmt | None:
        """The statement directly in `block` (the module, or a statement's blocks) whose lines
        span `first_line`..`last_line`, if any."""
        known = self._blocks.get(id(block))
        if known is None:
            statements = _child_statements(block)
            known = self._blocks[id(block)] = (
                statements,
                [_first_line(each) for each in statements],
            )
        statements, starts = known
        at = bisect.bisect_right(starts, first_line) - 1
        if at < 0:
            return None
        statement = statements[at]
        end_line = getattr(statement, "end_lineno", None) or statement.lineno
        return statement if end_line >= last_line else None

    def _own_lines(self, statement: ast.stmt) -> tuple[int, int, str] | None:
        parsed, lines = self.parsed, self.parsed.lines
        first_line = _first_line(statement) - 1
        text = lines.line_text(first_line)
        if first_line > 0 and lines.line_text(first_line - 1).endswith("\\"):
            return None  # the statement may continue a logical line of the previous one
        indent = _INDENT.match(text).group()  # type: ignore[union-attr]
        rest = text[len(indent) :]
        if getattr(statement, "decorator_list", None):
            if not rest.startswith("@"):
                return None
        elif statement.col_offset != len(indent) or _is_elif(statement, rest):
            return None
        end_col = getattr(statement, "end_col_offset", None)
        end_lineno = getattr(statement, "end_lineno", None)
        if end_col is None or end_lineno is None:
            return None
        end = parsed.position(end_lineno, end_col)
        tail = lines.line_text(end.line)[end.column :]
        if not _STATEMENT_TAIL.fullmatch(tail):
            return None
        start = lines.line_start(first_line)
        return start, lines.line_start(end.line) + len(lines.line_text(end.line)), indent


def _holds(region: tuple[int, int, str], first: int, last: int) -> bool:
    """Whether offsets `first`..`last` lie in the region, after its first line's indentation."""
    start, end, indent = region
    return start + len(indent) <= first and last <= end


def _first_line(statement: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(statement, "decorator_list", None) or []
    return min([statement.lineno, *(decorator.lineno for decorator in decorators)])


def _is_elif(statement: ast.stmt, line_rest: str) -> bool:
    """An `elif` is an `If` in its parent's `orelse`: not a statement with lines of its own."""
    return isinstance(statement, ast.If) and line_rest.startswith("elif")


def _child_statements(statement: ast.AST) -> list[ast.stmt]:
    """The statements of every block of `statement` (or of the module), in source order."""
    found: list[ast.stmt] = []
    for name in ("body", "handlers", "cases", "orelse", "finalbody"):
        value = getattr(statement, name, None)
        if not value:
            continue
        for item in value:
            if isinstance(item, ast.stmt):
                found.append(item)
            else:  # an except handler or a match case: its body
                found.extend(getattr(item, "body", ()))
    return found


def _apply_spans(text: str, start: int, end: int, spans: Sequence[tuple[int, int, str]]) -> str:
    """`text[start:end]` with the (sorted) edit spans applied; OverlappingEdits when they do."""
    pieces: list[str] = []
    cursor = start
    for span_start, span_end, new_text in spans:
        if span_start < cursor:
            raise OverlappingEdits(f"edits overlap at offset {span_start}")
        pieces.append(text[cursor:span_start])
        pieces.append(new_text)
        cursor = span_end
    pieces.append(text[cursor:end])
    return "".join(pieces)


def _block_parses(region: str, indent: str) -> bool:
    """Whether `region` (whole lines, the first at `indent`) parses as statements at `indent`."""
    if not indent:
        return syntax_ok(region)
    parsed = parse_python(f"if 1:\n{region}\n{indent}pass\n")
    if isinstance(parsed, SyntaxProblem) or len(parsed.tree.body) != 1:
        return False  # broken, or it left the block (dedented below the indentation)
    wrapper = parsed.tree.body[0]
    # Still statements (not only comments: the block must not become empty), and no `else:`
    # of the wrapper's `if` at the start of a line (that too left the block).
    return isinstance(wrapper, ast.If) and len(wrapper.body) >= 2 and not wrapper.orelse


def _validated(diagnostic: Diagnostic, parsed: ParsedSource, owner: _ModelOwner) -> Diagnostic:
    """Wrap the fix so it is offered only when it builds and the fixed file still parses."""
    lazy = diagnostic.lazy_fix
    if lazy is None:
        return diagnostic
    code = diagnostic.code
    checker = _fix_checker(parsed, owner)

    # `owner` as a default: held by the function itself, so the model stays intact while this
    # fix can still be built, even after the result is gone.
    def build(_owner: _ModelOwner = owner) -> Fix | None:
        try:
            fix = lazy.get()
        except Exception:
            logger.error("the fix of %s failed to build:\n%s", code, traceback.format_exc())
            return None
        if fix is None or not fix.edits:
            return None
        try:
            parses = checker.parses(fix.edits)
        except OverlappingEdits:
            logger.error("the fix of %s has overlapping edits", code)
            return None
        if not parses:
            logger.warning("the fix of %s was dropped: its result does not parse", code)
            return None
        return fix

    return Diagnostic(
        code=diagnostic.code,
        name=diagnostic.name,
        message=diagnostic.message,
        range=diagnostic.range,
        severity=diagnostic.severity,
        lazy_fix=LazyFix(lazy.title, lazy.safety, build, unchecked=lazy),
    )


@dataclass(frozen=True)
class FixResult:
    text: str
    applied: int
    passes: int
    remaining: Sequence[Diagnostic]


def allowed(safety: Safety | None, unsafe: bool) -> bool:
    return safety is Safety.SAFE or (unsafe and safety is Safety.UNSAFE)


def fix(
    source: str,
    path: str | None = None,
    settings: Settings = DEFAULT_SETTINGS,
    index: ProjectIndex | None = None,
    *,
    unsafe: bool = False,
    max_passes: int = MAX_FIX_PASSES,
    time_limit: float | None = None,
) -> FixResult:
    """Apply fixes until none is left or nothing changes: non-overlapping fixes per pass.

    `time_limit` (seconds) bounds all passes together; past it, `LintTimeout` is raised.
    """
    deadline = _Deadline(time_limit, path)

    def lint_pass(text: str) -> LintResult:
        with _collector_paused():
            return _lint(text, path, settings, index, deadline)

    text = source
    applied = 0
    passes = 0
    result = lint_pass(text)
    while passes < max_passes:
        wanted = [d for d in result.diagnostics if allowed(d.fix_safety, unsafe)]
        new_text, count = _fix_pass(text, wanted)
        if count == 0 or new_text == text:
            break
        passes += 1
        applied += count
        text = new_text
        result = lint_pass(text)
    return FixResult(text, applied, passes, result.diagnostics)


def _fix_pass(text: str, diagnostics: Sequence[Diagnostic]) -> tuple[str, int]:
    """One pass of `fix`: the pass's fixes are checked together, with one parse of the result.

    Checking each fix on its own (what a code action needs) parses the whole file once per fix:
    quadratic in a file with hundreds of fixes. Only when the combination fails are the fixes
    taken one by one, checked.
    """
    unchecked = [found for diagnostic in diagnostics if (found := _unchecked_fix(diagnostic))]
    chosen = _non_overlapping(unchecked)
    if not chosen:
        return text, 0
    try:
        fixed = apply_edits(text, [edit for each in chosen for edit in each.edits], LineIndex(text))
    except OverlappingEdits:
        fixed = None
    if fixed is not None and syntax_ok(fixed):
        return fixed, len(chosen)
    return apply_fix_pass(text, [found for diagnostic in diagnostics if (found := diagnostic.fix)])


def _unchecked_fix(diagnostic: Diagnostic) -> Fix | None:
    lazy = diagnostic.lazy_fix
    if lazy is None:
        return None
    if lazy.unchecked is None:
        return lazy.get()
    try:
        found = lazy.unchecked.get()
    except Exception:
        logger.error("the fix of %s failed to build:\n%s", diagnostic.code, traceback.format_exc())
        return None
    return found if found is not None and found.edits else None


def _non_overlapping(fixes: Iterable[Fix]) -> list[Fix]:
    """The fixes, in order, that do not conflict with an earlier one."""
    chosen: list[Fix] = []
    taken: list[TextRange] = []
    for candidate in sorted(fixes, key=lambda f: f.span()):
        spans = [edit.range for edit in candidate.edits]
        if any(_conflicts(span, other) for span in spans for other in taken):
            continue
        chosen.append(candidate)
        taken.extend(spans)
    return chosen


def apply_fix_pass(text: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """Apply the fixes that do not overlap an earlier one; refuse a pass that breaks the syntax."""
    chosen = _non_overlapping(fixes)
    if not chosen:
        return text, 0
    lines = LineIndex(text)
    fixed = apply_edits(text, [edit for chosen_fix in chosen for edit in chosen_fix.edits], lines)
    if isinstance(parse_python(fixed), SyntaxProblem):
        # Each fix parses alone; together they do not. Apply the first one only.
        first = apply_edits(text, chosen[0].edits, lines)
        return (first, 1) if not isinstance(parse_python(first), SyntaxProblem) else (text, 0)
    return fixed, len(chosen)


def _conflicts(a: TextRange, b: TextRange) -> bool:
    if a.overlaps(b):
        return True
    # Two insertions (or an insertion at a replaced range's edge) at one point: order is unclear.
    return (
        a.start == b.start
        or (a.start == a.end and b.start <= a.start <= b.end)
        or (b.start == b.end and a.start <= b.start <= a.end)
    )


def syntax_ok(text: str) -> bool:
    return not isinstance(parse_python(text), SyntaxProblem)


__all__ = [
    "SYNTAX_ERROR_CODE",
    "Analysis",
    "FixResult",
    "LintTimeout",
    "Position",
    "analyse",
    "apply_fix_pass",
    "fix",
    "freeze_startup_objects",
    "index_sources",
    "lint",
    "summarize",
]
