"""Rule documentation, rendered from the rules' own fields.

`docs/rules/<CODE>.md`, `async-test-lint rule CODE` and the editor hover all come from here.
Regenerate the files with `python -m async_test_lint.docs docs/rules`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .model import Diagnostic
from .rules import Rule, all_rules

FAMILY_TITLES = {
    "ATL1": "Driving the event loop by hand",
    "ATL2": "Test-case style and lifecycle",
    "ATL3": "Awaiting",
    "ATL4": "Mocks",
}

DOCS_URL = "https://github.com/async-test-lint/async-test-lint/blob/main/docs/rules/{code}.md"


def rule_url(code: str) -> str:
    return DOCS_URL.format(code=code)


def _fix_line(rule: type[Rule]) -> str:
    if rule.fix_safety is None:
        return "No automatic fix."
    return f"Fix: **{rule.fix_safety.value}**. {rule.fix_notes}"


NO_FIX = "No automatic fix"


def no_fix_text(rule: type[Rule]) -> str:
    """What the hover of a finding without a fix says: the rule's own "No automatic fix: ..."
    explanation (why, and what to do by hand) when its fix notes have one."""
    notes = rule.fix_notes
    at = notes.find(NO_FIX)
    if at >= 0:
        return notes[at:].strip()
    if rule.fix_safety is not None:
        return f"{NO_FIX} for this case. {notes}"
    return f"{NO_FIX}. {notes}".strip()


def _code_block(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


def rule_markdown(rule: type[Rule]) -> str:
    """The full page: What it does / Why is this bad? / Python versions / Example / Use instead /
    Fix safety."""
    sections = [
        f"# {rule.code} `{rule.name}`",
        f"{rule.summary}.",
        f"Family {rule.family} · severity {rule.severity.value} · "
        + (f"fix {rule.fix_safety.value}" if rule.fix_safety else "no fix"),
        "## What it does",
        rule.what,
        "## Why is this bad?",
        rule.why,
        "## Python versions",
        rule.versions,
    ]
    before, after = rule.example_before(), rule.example_after()
    if before:
        sections += ["## Example", _code_block(before)]
    if after:
        sections += ["## Use instead", _code_block(after)]
    sections += [
        "## Fix safety",
        _fix_line(rule) if rule.fix_safety else rule.fix_notes or "No automatic fix.",
    ]
    return "\n\n".join(sections) + "\n"


def hover_markdown(rule: type[Rule], diagnostic: Diagnostic) -> str:
    """What a user sees when hovering a diagnostic: the concrete message first, then the why."""
    parts = [
        f"**{rule.code} {rule.name}**: {diagnostic.message}",
        rule.why,
        f"*Python versions:* {rule.versions}",
    ]
    before, after = rule.example_before(), rule.example_after()
    if before and after:
        parts += ["Before:", _code_block(_trim(before)), "After:", _code_block(_trim(after))]
    parts.append(_fix_line(rule) if diagnostic.lazy_fix is not None else no_fix_text(rule))
    parts.append(f"[{rule.code} documentation]({rule_url(rule.code)})")
    return "\n\n".join(parts)


def _trim(code: str, limit: int = 24) -> str:
    lines = code.rstrip().splitlines()
    return "\n".join(lines if len(lines) <= limit else [*lines[:limit], "..."])


def index_markdown() -> str:
    lines = ["# Rules", "", "| Code | Name | Summary | Fix |", "| --- | --- | --- | --- |"]
    for rule in all_rules():
        fix = rule.fix_safety.value if rule.fix_safety else "none"
        lines.append(f"| [{rule.code}]({rule.code}.md) | `{rule.name}` | {rule.summary} | {fix} |")
    return "\n".join(lines) + "\n"


def generated_files() -> dict[str, str]:
    files = {f"{rule.code}.md": rule_markdown(rule) for rule in all_rules()}
    files["README.md"] = index_markdown()
    return files


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    expected = generated_files()
    for stale in directory.glob("ATL*.md"):
        if stale.name not in expected:
            stale.unlink()
    for name, content in expected.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8", newline="\n")
            written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")
    for path in write(target):
        print(f"wrote {path}")
