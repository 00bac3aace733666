"""Terminal and CI renderings of diagnostics: full and concise text, statistics, JSON, SARIF 2.1.0,
GitHub annotations, GitLab Code Quality and JUnit XML.

Everything here works on `Report`s: plain, picklable records (a worker process builds them, with the
fix already computed), positions 1-based in code points; SARIF gets UTF-16 columns, which is what
GitHub code scanning assumes. The `full` format also needs the text of each reported file, which the
caller passes in (`sources`, by displayed path); nothing here reads files or lints.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TextIO
from urllib.parse import quote

from . import __version__
from .docs import rule_markdown, rule_url
from .engine import SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME
from .model import Diagnostic, Fix, Safety
from .rules import Rule, all_rules, rule_by_code
from .source import LineIndex, split_lines

#: `text` is the old name of `concise`, kept so scripts written for it keep working.
FORMATS = ("full", "concise", "text", "json", "sarif", "github", "gitlab", "junit")
#: the formats that print the summary line (and `--show-fixes` lists) after the diagnostics.
TEXT_FORMATS = ("full", "concise", "text")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/async-test-lint/async-test-lint"
SYNTAX_ERROR_SUMMARY = "The file does not parse as Python"
SYNTAX_ERROR_HELP = (
    f"# {SYNTAX_ERROR_CODE} `{SYNTAX_ERROR_NAME}`\n\n"
    "The file is not valid Python for the interpreter running the linter (or for any newer "
    "grammar it knows). No other rule can check it until the syntax error is fixed.\n"
)


@dataclass(frozen=True)
class Span:
    """A 1-based range in code points, plus the UTF-16 columns of its ends (also 1-based)."""

    line: int
    column: int
    end_line: int
    end_column: int
    utf16_column: int
    utf16_end_column: int


@dataclass(frozen=True)
class Report:
    path: str
    code: str
    name: str
    message: str
    severity: str
    span: Span
    fix: Fix | None


def _utf16(line: str, column: int) -> int:
    prefix = line[:column]
    return column if prefix.isascii() else len(prefix.encode("utf-16-le")) // 2


def make_report(path: str, diagnostic: Diagnostic, lines: LineIndex, with_fix: bool) -> Report:
    start, end = diagnostic.range.start, diagnostic.range.end
    span = Span(
        start.line + 1,
        start.column + 1,
        end.line + 1,
        end.column + 1,
        _utf16(lines.line_text(start.line), start.column) + 1,
        _utf16(lines.line_text(end.line), end.column) + 1,
    )
    fix = diagnostic.fix if with_fix else None
    return Report(
        path,
        diagnostic.code,
        diagnostic.name,
        diagnostic.message,
        diagnostic.severity.value,
        span,
        fix,
    )


# -- text --------------------------------------------------------------------------------------


def text_line(report: Report) -> str:
    return f"{report.path}:{report.span.line}:{report.span.column}: {report.code} {report.message}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def check_summary(reports: Sequence[Report], unsafe: bool) -> str:
    """`All checks passed!` or `Found N problems (M fixable with --fix, K more with ...)`."""
    if not reports:
        return "All checks passed!"
    safe = sum(1 for r in reports if r.fix is not None and r.fix.safety is Safety.SAFE)
    risky = sum(1 for r in reports if r.fix is not None and r.fix.safety is Safety.UNSAFE)
    if unsafe:
        safe, risky = safe + risky, 0
    found = f"Found {_plural(len(reports), 'problem')}"
    if safe and risky:
        return f"{found} ({safe} fixable with --fix, {risky} more with --unsafe-fixes)."
    if safe:
        return f"{found} ({safe} fixable with --fix{' --unsafe-fixes' if unsafe else ''})."
    if risky:
        return f"{found} ({risky} fixable with --fix --unsafe-fixes)."
    return f"{found}."


def fix_summary(fixed: int, remaining: Sequence[Report], unsafe: bool) -> str:
    """`Found N problems (F fixed, R remaining).`, with a hint when unsafe fixes were held back."""
    if not fixed and not remaining:
        return "All checks passed!"
    found = f"Found {_plural(fixed + len(remaining), 'problem')}"
    counts = f"{fixed} fixed, {len(remaining)} remaining"
    held_back = sum(1 for r in remaining if r.fix is not None and r.fix.safety is Safety.UNSAFE)
    if held_back and not unsafe:
        return f"{found} ({counts}; {held_back} fixable with --fix --unsafe-fixes)."
    return f"{found} ({counts})."


def unified_diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), path, path
    )
    return "".join(
        line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
        for line in lines
    )


# -- colour ------------------------------------------------------------------------------------

_RESET = "\x1b[0m"
BOLD, RED, YELLOW, BLUE, CYAN = "1", "31", "33", "34", "36"
_SEVERITY_COLOR = {"error": RED, "warning": YELLOW, "info": CYAN}


def use_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for a terminal, as CPython decides it: `NO_COLOR` (any non-empty value) turns it off,
    then `FORCE_COLOR` (non-empty) turns it on even in a pipe, then `TERM=dumb` turns it off."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


@dataclass(frozen=True)
class Style:
    """ANSI styling, or none: `Style(False).paint(x, ...) == x`."""

    color: bool = False

    def paint(self, text: str, *codes: str) -> str:
        if not self.color or not text or not codes:
            return text
        return f"\x1b[{';'.join(codes)}m{text}{_RESET}"

    def code(self, report: Report) -> str:
        return self.paint(report.code, BOLD, _SEVERITY_COLOR.get(report.severity, RED))


PLAIN = Style(False)


# -- concise (the `text` format of earlier versions) ------------------------------------------


def concise_line(report: Report, style: Style = PLAIN) -> str:
    """`path:line:col: CODE message`; without colour, exactly `text_line`."""
    span = report.span
    location = style.paint(report.path, BOLD) + f":{span.line}:{span.column}:"
    return f"{location} {style.code(report)} {report.message}"


def render_concise(reports: Sequence[Report], style: Style = PLAIN) -> str:
    return "".join(concise_line(report, style) + "\n" for report in reports)


# -- full: each finding with its source, like ruff's default output ---------------------------

#: lines of context above and below the reported range.
CONTEXT_LINES = 1
#: a range over more lines shows its first and last lines with `...` between.
MAX_RANGE_LINES = 6
TAB_WIDTH = 4
UNSAFE_NOTE = "This is an unsafe fix and may change runtime behavior"


def fix_applicable(fix: Fix | None, unsafe: bool) -> bool:
    """What `--fix` (with `unsafe`: `--fix --unsafe-fixes`) would apply: ruff's `[*]`."""
    return fix is not None and (fix.safety is Safety.SAFE or unsafe)


def _char_width(char: str) -> int:
    if char == "\t":
        return TAB_WIDTH
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _printable(line: str) -> str:
    """The line as the terminal shows it: tabs as spaces, control characters as `?`."""
    return "".join(
        " " * TAB_WIDTH if char == "\t" else "?" if unicodedata.category(char) == "Cc" else char
        for char in line
    )


def _width(text: str) -> int:
    return sum(_char_width(char) for char in text)


def _underline(line: str, start: int, end: int) -> tuple[int, int]:
    """Display offset and width of the carets under code points [start, end) of `line` (at least
    one caret, also for an empty range or one past the line's end)."""
    start = min(max(start, 0), len(line))
    end = min(max(end, start), len(line))
    return _width(line[:start]), max(_width(line[start:end]), 1)


def _covered(report: Report, number: int, line: str) -> tuple[int, int] | None:
    """The columns of `line` (1-based `number`) the report's range covers, or None."""
    span = report.span
    if not span.line <= number <= span.end_line:
        return None
    start = span.column - 1 if number == span.line else len(line) - len(line.lstrip())
    end = span.end_column - 1 if number == span.end_line else len(line.rstrip())
    if span.line != span.end_line and number == span.end_line and end == 0:
        return None  # a range ending at the start of a line does not cover it
    return start, end


def _shown_lines(report: Report, line_count: int) -> list[int | None]:
    """1-based numbers of the lines to print; None stands for the `...` of a long range."""
    span = report.span
    first = max(span.line - CONTEXT_LINES, 1)
    last = min(span.end_line + CONTEXT_LINES, line_count)
    if span.end_line - span.line < MAX_RANGE_LINES:
        return list(range(first, last + 1))
    keep = MAX_RANGE_LINES // 2
    return [*range(first, span.line + keep), None, *range(span.end_line - keep + 1, last + 1)]


def _snippet_numbers(report: Report, lines: Sequence[str]) -> list[int | None]:
    """The line numbers `_snippet` shows (empty when the report is past the end of the text)."""
    count = len(lines)
    if count > 1 and lines[-1] == "" and report.span.end_line < count:
        count -= 1  # the empty "line" after a final newline is no context
    if report.span.line > count:
        return []
    return _shown_lines(report, count)


def _gutter_width(numbers: Sequence[int | None], report: Report) -> int:
    return len(str(max((n for n in numbers if n is not None), default=report.span.line)))


def _snippet(
    report: Report, lines: Sequence[str], numbers: Sequence[int | None], style: Style
) -> list[str]:
    if not numbers:
        return []
    gutter = _gutter_width(numbers, report)
    bar = style.paint(" " * gutter + " |", BOLD, BLUE)
    color = _SEVERITY_COLOR.get(report.severity, RED)
    out = [bar]
    for number in numbers:
        if number is None:
            out.append(style.paint("...", BOLD, BLUE))
            continue
        text = lines[number - 1]
        out.append(
            (style.paint(f"{number:>{gutter}} |", BOLD, BLUE) + " " + _printable(text)).rstrip()
        )
        covered = _covered(report, number, text)
        if covered is not None:
            offset, width = _underline(text, *covered)
            out.append(f"{bar} {' ' * offset}{style.paint('^' * width, BOLD, color)}")
    out.append(bar)
    return out


def _fix_lines(report: Report, unsafe: bool, style: Style) -> list[str]:
    fix = report.fix
    if fix is None:
        hint = f"no automatic fix; `async-test-lint rule {report.code}` explains the rule"
        return [f"{style.paint('help', BOLD, CYAN)}: {hint}"]
    how = "--fix" if fix.safety is Safety.SAFE else "--fix --unsafe-fixes"
    lines = [f"{style.paint('help', BOLD, CYAN)}: {fix.title} ({fix.safety.value} fix: {how})"]
    if fix.safety is Safety.UNSAFE:
        lines.append(f"{style.paint('note', BOLD)}: {UNSAFE_NOTE}")
    return lines


def full_block(
    report: Report, source: str | None, unsafe: bool = False, style: Style = PLAIN
) -> str:
    """One finding: `CODE [*] message`, ` --> path:line:col`, the source lines with carets under
    the range, then the fix (`help:`) and its safety, like ruff's `full` output."""
    return _full_block(report, split_lines(source) if source is not None else None, unsafe, style)


def _full_block(report: Report, lines: Sequence[str] | None, unsafe: bool, style: Style) -> str:
    marker = " " + style.paint("[*]", BOLD, CYAN) if fix_applicable(report.fix, unsafe) else ""
    span = report.span
    numbers = _snippet_numbers(report, lines) if lines is not None else []
    arrow = style.paint(" " * _gutter_width(numbers, report) + "-->", BOLD, BLUE)
    out = [
        f"{style.code(report)}{marker} {style.paint(report.message, BOLD)}",
        f"{arrow} {report.path}:{span.line}:{span.column}",
    ]
    if lines is not None:
        out.extend(_snippet(report, lines, numbers, style))
    out.extend(_fix_lines(report, unsafe, style))
    return "\n".join(out) + "\n"


def render_full(
    reports: Sequence[Report],
    sources: Mapping[str, str],
    unsafe: bool = False,
    style: Style = PLAIN,
) -> str:
    """Every report as a `full_block`, a blank line after each. `sources` maps a report's path to
    the text the report's positions refer to; a path missing there is shown without its source.
    Each file's text is split into lines once, however many findings it has."""
    split: dict[str, list[str]] = {}
    blocks = []
    for report in reports:
        source = sources.get(report.path)
        lines = None
        if source is not None:
            lines = split.get(report.path)
            if lines is None:
                lines = split[report.path] = split_lines(source)
        blocks.append(_full_block(report, lines, unsafe, style) + "\n")
    return "".join(blocks)


# -- statistics (--statistics) -----------------------------------------------------------------


@dataclass(frozen=True)
class RuleCount:
    code: str
    name: str
    count: int
    fixable_count: int


def rule_counts(reports: Iterable[Report], unsafe: bool = False) -> list[RuleCount]:
    """Findings per rule, most frequent first (then by code); `fixable_count` as `--fix` sees it."""
    counts: Counter[str] = Counter()
    fixable: Counter[str] = Counter()
    names: dict[str, str] = {}
    for report in reports:
        counts[report.code] += 1
        fixable[report.code] += fix_applicable(report.fix, unsafe)
        names.setdefault(report.code, report.name)
    ordered = sorted(counts, key=lambda code: (-counts[code], code))
    return [RuleCount(code, names[code], counts[code], fixable[code]) for code in ordered]


def render_statistics(reports: Sequence[Report], unsafe: bool = False, style: Style = PLAIN) -> str:
    """ruff's table: `count<TAB>code<TAB>[*] name`, `[*]` when every finding is fixable."""
    rows = rule_counts(reports, unsafe)
    if not rows:
        return ""
    count_width = max(len(str(row.count)) for row in rows)
    code_width = max(len(row.code) for row in rows)
    lines = []
    for row in rows:
        marker = "[*]" if row.fixable_count == row.count else "[-]" if row.fixable_count else "[ ]"
        code = style.paint(f"{row.code:<{code_width}}", BOLD, RED)
        lines.append(f"{row.count:>{count_width}}\t{code}\t{marker} {row.name}")
    return "\n".join(lines) + "\n"


def render_statistics_json(reports: Sequence[Report], unsafe: bool = False) -> str:
    rows = [
        {
            "code": row.code,
            "name": row.name,
            "count": row.count,
            "fixable": row.fixable_count > 0,
            "fixable_count": row.fixable_count,
        }
        for row in rule_counts(reports, unsafe)
    ]
    return json.dumps(rows, indent=2)


# -- --show-fixes ------------------------------------------------------------------------------


def render_applied_fixes(
    fixed: Mapping[str, int], by_rule: Mapping[str, Sequence[tuple[str, int]]] | None = None
) -> str:
    """After `--fix`: `Fixed N problems:`, then per written file the count and, as ruff lists
    them, `K x CODE (name)` (with a multiplication sign) per rule whose findings went."""
    total = sum(fixed.values())
    if not total:
        return "No fixes applied.\n"
    lines = [f"Fixed {_plural(total, 'problem')}:"]
    for path, count in fixed.items():
        if not count:
            continue
        lines.append(f"- {path}: {count} fixed")
        for code, removed in (by_rule or {}).get(path, ()):
            rule = rule_by_code(code)
            name = f" ({rule.name})" if rule is not None else ""
            lines.append(f"    {removed} \N{MULTIPLICATION SIGN} {code}{name}")
    return "\n".join(lines) + "\n"


def render_available_fixes(reports: Sequence[Report], unsafe: bool = False) -> str:
    """Without `--fix`: each finding that has a fix, with its safety and title, per file."""
    with_fix = [report for report in reports if report.fix is not None]
    if not with_fix:
        return "No fixes available.\n"
    applicable = sum(fix_applicable(report.fix, unsafe) for report in with_fix)
    lines = [
        f"{len(with_fix)} {'fix' if len(with_fix) == 1 else 'fixes'} available "
        f"({applicable} applied by --fix{' --unsafe-fixes' if unsafe else ''}):"
    ]
    path = None
    for report in with_fix:
        assert report.fix is not None
        if report.path != path:
            path = report.path
            lines.append(f"- {path}:")
        span = report.span
        lines.append(
            f"    {span.line}:{span.column} {report.code} [{report.fix.safety.value}] "
            f"{report.fix.title}"
        )
    return "\n".join(lines) + "\n"


# -- JSON --------------------------------------------------------------------------------------


def fix_json(fix: Fix | None) -> dict[str, object] | None:
    if fix is None:
        return None
    return {
        "safety": fix.safety.value,
        "title": fix.title,
        "edits": [
            {
                "line": edit.range.start.line + 1,
                "column": edit.range.start.column + 1,
                "end_line": edit.range.end.line + 1,
                "end_column": edit.range.end.column + 1,
                "new_text": edit.new_text,
            }
            for edit in fix.edits
        ],
    }


def report_json(report: Report) -> dict[str, object]:
    return {
        "path": report.path,
        "code": report.code,
        "name": report.name,
        "message": report.message,
        "severity": report.severity,
        "line": report.span.line,
        "column": report.span.column,
        "end_line": report.span.end_line,
        "end_column": report.span.end_column,
        "fix": fix_json(report.fix),
    }


def render_json(reports: Sequence[Report]) -> str:
    return json.dumps([report_json(report) for report in reports], indent=2, ensure_ascii=False)


# -- SARIF -------------------------------------------------------------------------------------

_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _sarif_rule(rule: type[Rule]) -> dict[str, object]:
    markdown = rule_markdown(rule)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.what},
        "helpUri": rule_url(rule.code),
        "help": {"text": rule.why, "markdown": markdown},
        "defaultConfiguration": {"level": _SARIF_LEVEL.get(rule.severity.value, "warning")},
        "properties": {"tags": [rule.family], "fixSafety": _safety(rule.fix_safety)},
    }


def _safety(safety: Safety | None) -> str:
    return safety.value if safety is not None else "none"


def _syntax_rule() -> dict[str, object]:
    return {
        "id": SYNTAX_ERROR_CODE,
        "name": SYNTAX_ERROR_NAME,
        "shortDescription": {"text": SYNTAX_ERROR_SUMMARY},
        "fullDescription": {"text": SYNTAX_ERROR_SUMMARY},
        "help": {"text": SYNTAX_ERROR_SUMMARY, "markdown": SYNTAX_ERROR_HELP},
        "defaultConfiguration": {"level": "error"},
    }


def sarif_rules() -> list[dict[str, object]]:
    return [_syntax_rule(), *(_sarif_rule(rule) for rule in all_rules())]


def _sarif_result(report: Report, rule_index: dict[str, int]) -> dict[str, object]:
    span = report.span
    result: dict[str, object] = {
        "ruleId": report.code,
        "level": _SARIF_LEVEL.get(report.severity, "warning"),
        "message": {"text": report.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(report.path),
                    "region": {
                        "startLine": span.line,
                        "startColumn": span.utf16_column,
                        "endLine": span.end_line,
                        "endColumn": span.utf16_end_column,
                    },
                }
            }
        ],
    }
    if report.code in rule_index:
        result["ruleIndex"] = rule_index[report.code]
    return result


def _artifact(path: str) -> dict[str, str]:
    """A URI relative to %SRCROOT% (the working folder) or, for a path outside it, absolute."""
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": Path(pure).as_uri()}
    return {"uri": quote(pure.as_posix()), "uriBaseId": "%SRCROOT%"}


def render_sarif(reports: Sequence[Report], root_uri: str) -> str:
    rules = sarif_rules()
    rule_index = {str(rule["id"]): number for number, rule in enumerate(rules)}
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "async-test-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
                "columnKind": "utf16CodeUnits",
                "results": [_sarif_result(report, rule_index) for report in reports],
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


# -- GitHub Actions workflow commands ---------------------------------------------------------


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github_line(report: Report) -> str:
    span = report.span
    command = "error" if report.severity == "error" else "warning"
    properties = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (
            ("file", report.path),
            ("line", span.line),
            ("col", span.column),
            ("endLine", span.end_line),
            ("endColumn", span.end_column),
            ("title", report.code),
        )
    )
    return f"::{command} {properties}::{escape_data(report.message)}"


def render_github(reports: Sequence[Report]) -> str:
    return "\n".join(github_line(report) for report in reports)


# -- GitLab Code Quality -----------------------------------------------------------------------

#: GitLab's severities: info, minor, major, critical, blocker.
_GITLAB_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def _gitlab_path(path: str, cwd: Path, project_dir: Path | None) -> str:
    """The path relative to the repository root (`CI_PROJECT_DIR`) when it is inside it."""
    if project_dir is None:
        return PurePath(path).as_posix()
    absolute = Path(path) if PurePath(path).is_absolute() else cwd / path
    try:
        return absolute.relative_to(project_dir).as_posix()
    except ValueError:
        return PurePath(path).as_posix()


def gitlab_issues(
    reports: Sequence[Report], cwd: Path, project_dir: Path | None = None
) -> list[dict[str, object]]:
    """Code Quality issues. The fingerprint hashes the path, code and message (not the line, so an
    edit above a finding does not make it new) plus a counter for repeats of the same triple."""
    seen: Counter[tuple[str, str, str]] = Counter()
    issues: list[dict[str, object]] = []
    for report in reports:
        path = _gitlab_path(report.path, cwd, project_dir)
        key = (path, report.code, report.message)
        seen[key] += 1
        digest = hashlib.sha256("\0".join((*key, str(seen[key]))).encode("utf-8"))
        issues.append(
            {
                "type": "issue",
                "check_name": report.code,
                "description": f"{report.code} {report.message}",
                "categories": ["Bug Risk"],
                "fingerprint": digest.hexdigest(),
                "severity": _GITLAB_SEVERITY.get(report.severity, "minor"),
                "location": {
                    "path": path,
                    "lines": {"begin": report.span.line, "end": report.span.end_line},
                },
            }
        )
    return issues


def render_gitlab(reports: Sequence[Report], cwd: Path, project_dir: Path | None = None) -> str:
    return json.dumps(gitlab_issues(reports, cwd, project_dir), indent=2, ensure_ascii=False)


# -- JUnit XML ---------------------------------------------------------------------------------


def render_junit(reports: Sequence[Report]) -> str:
    """One `testsuite` per file with findings, one failed `testcase` per finding (as ruff does);
    no finding gives one passing test case, so a CI test report shows the run happened."""
    by_path: dict[str, list[Report]] = {}
    for report in reports:
        by_path.setdefault(report.path, []).append(report)
    root = ElementTree.Element(
        "testsuites",
        name="async-test-lint",
        tests=str(max(len(reports), 1)),
        failures=str(len(reports)),
        errors="0",
    )
    if not reports:
        suite = _junit_suite(root, "async-test-lint", 1, 0)
        ElementTree.SubElement(
            suite, "testcase", name="No problems found", classname="async-test-lint"
        )
    for path, found in by_path.items():
        suite = _junit_suite(root, path, len(found), len(found))
        for report in found:
            _junit_case(suite, report)
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _junit_suite(
    root: ElementTree.Element, name: str, tests: int, failures: int
) -> ElementTree.Element:
    return ElementTree.SubElement(
        root,
        "testsuite",
        name=name,
        tests=str(tests),
        failures=str(failures),
        errors="0",
        skipped="0",
    )


def _junit_case(suite: ElementTree.Element, report: Report) -> None:
    span = report.span
    case = ElementTree.SubElement(
        suite,
        "testcase",
        name=f"{report.code} {report.name} ({span.line}:{span.column})",
        classname=PurePath(report.path).with_suffix("").as_posix().replace("/", "."),
        file=report.path,
        line=str(span.line),
    )
    failure = ElementTree.SubElement(case, "failure", message=report.message, type=report.code)
    failure.text = f"{report.path}:{span.line}:{span.column}: {report.code} {report.message}"


__all__ = [
    "FORMATS",
    "PLAIN",
    "TEXT_FORMATS",
    "Report",
    "RuleCount",
    "Span",
    "Style",
    "check_summary",
    "concise_line",
    "fix_applicable",
    "fix_summary",
    "full_block",
    "github_line",
    "gitlab_issues",
    "make_report",
    "render_applied_fixes",
    "render_available_fixes",
    "render_concise",
    "render_full",
    "render_github",
    "render_gitlab",
    "render_json",
    "render_junit",
    "render_sarif",
    "render_statistics",
    "render_statistics_json",
    "rule_counts",
    "text_line",
    "unified_diff",
    "use_color",
]
