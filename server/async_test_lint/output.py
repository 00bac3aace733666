"""Terminal and CI renderings of diagnostics: text, JSON, SARIF 2.1.0, GitHub annotations.

Everything here works on `Report`s: plain, picklable records (a worker process builds them, with the
fix already computed), positions 1-based in code points; SARIF gets UTF-16 columns, which is what
GitHub code scanning assumes.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from urllib.parse import quote

from . import __version__
from .docs import rule_markdown, rule_url
from .engine import SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME
from .model import Diagnostic, Fix, Safety
from .rules import Rule, all_rules
from .source import LineIndex

FORMATS = ("text", "json", "sarif", "github")
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


__all__ = [
    "FORMATS",
    "Report",
    "Span",
    "check_summary",
    "fix_summary",
    "github_line",
    "make_report",
    "render_github",
    "render_json",
    "render_sarif",
    "text_line",
    "unified_diff",
]
