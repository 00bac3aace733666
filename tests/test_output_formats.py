"""Terminal and CI output: `full` (source lines, carets, fix safety) and `concise`, colour on a
terminal (NO_COLOR, FORCE_COLOR), `--statistics`, `--show-fixes`, GitLab Code Quality (validated
against a JSON schema of GitLab's required fields) and JUnit XML (read back with junitparser, a
real consumer's parser).

The project fixture is the one of test_cli.py: `select` pinned to ATL101 (unsafe fix) and ATL001;
ATL303 (safe fix) is enabled where a test needs a safe fix.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shlex
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import yaml
from async_test_lint import cli
from async_test_lint.model import Edit, Fix, Position, Safety, TextRange
from async_test_lint.output import (
    PLAIN,
    Report,
    Span,
    Style,
    full_block,
    render_gitlab,
    render_junit,
    use_color,
)
from junitparser import Failure, JUnitXml
from test_cli import BROKEN, CLEAN, MESSAGE, make_project, run_in_process, validate_sarif

ROOT = Path(__file__).resolve().parents[1]
CI_DOC = ROOT / "docs" / "ci.md"

ANSI = "\x1b["
SLEEPY = """\
import asyncio
import time


async def test_pause():
    time.sleep(0.1)
"""
BOTH = """\
[project]
name = "demo"
requires-python = ">=3.9"

[tool.async-test-lint]
select = ["ATL101", "ATL303", "ATL001"]
"""

#: GitLab's Code Quality report: the fields GitLab requires of each issue (its documentation,
#: "Code Quality report format"), as a JSON schema.
GITLAB_CODE_QUALITY_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1, "not": {"pattern": "^(/|\\./)"}},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {
                            "begin": {"type": "integer", "minimum": 1},
                            "end": {"type": "integer", "minimum": 1},
                        },
                    },
                },
            },
        },
    },
}


def project(tmp_path: Path) -> Path:
    return make_project(
        tmp_path,
        {"tests/test_user.py": BROKEN, "tests/test_sleep.py": SLEEPY, "tests/test_ok.py": CLEAN},
        pyproject=BOTH,
    )


def fix_titles(root: Path) -> dict[str, str]:
    rows = json.loads(run_in_process(root, "check", "--output-format", "json").stdout)
    return {row["code"]: row["fix"]["title"] for row in rows}


# -- full ----------------------------------------------------------------------------------------


def test_full_output_shows_source_carets_and_fix_safety(tmp_path: Path) -> None:
    root = project(tmp_path)
    titles = fix_titles(root)
    result = run_in_process(root, "check", "--output-format", "full")
    assert result.returncode == 1, result.stderr
    assert result.stdout == (
        "ATL303 [*] time.sleep() blocks the event loop in test_pause: use await asyncio.sleep()\n"
        " --> tests/test_sleep.py:6:5\n"
        "  |\n"
        "5 | async def test_pause():\n"
        "6 |     time.sleep(0.1)\n"
        "  |     ^^^^^^^^^^^^^^^\n"
        "  |\n"
        f"help: {titles['ATL303']} (safe fix: --fix)\n"
        "\n"
        f"ATL101 {MESSAGE}\n"
        "  --> tests/test_user.py:12:16\n"
        "   |\n"
        "11 |     def test_fetch(self):\n"
        "12 |         user = asyncio.run(fetch_user(1))\n"
        "   |                ^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        '13 |         self.assertEqual(user["id"], 1)\n'
        "   |\n"
        f"help: {titles['ATL101']} (unsafe fix: --fix --unsafe-fixes)\n"
        "note: This is an unsafe fix and may change runtime behavior\n"
        "\n"
        "Found 2 problems (1 fixable with --fix, 1 more with --unsafe-fixes).\n"
    )


def test_full_marks_unsafe_fixes_applicable_with_unsafe_fixes(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_in_process(root, "check", "--output-format", "full", "--unsafe-fixes")
    assert f"ATL101 [*] {MESSAGE}\n" in result.stdout


def test_full_after_fix_shows_the_fixed_text(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_in_process(root, "check", "--output-format", "full", "--fix")
    assert result.returncode == 1
    assert "ATL303" not in result.stdout  # fixed
    assert "12 |         user = asyncio.run(fetch_user(1))\n" in result.stdout
    assert "Found 2 problems (1 fixed, 1 remaining;" in result.stdout


def make_report(
    line: int, column: int, end_line: int, end_column: int, fix: Fix | None = None
) -> Report:
    span = Span(line, column, end_line, end_column, column, end_column)
    return Report("t.py", "ATL999", "demo", "the message", "warning", span, fix)


def test_full_carets_follow_display_width() -> None:
    source = 'x = ("😀", call())\n\tcall()\n'
    wide = full_block(make_report(1, 11, 1, 17), source)
    assert '1 | x = ("😀", call())\n  |            ^^^^^^\n' in wide  # the emoji is 2 columns
    tab = full_block(make_report(2, 2, 2, 8), source)
    assert "2 |     call()\n  |     ^^^^^^\n" in tab  # a tab shows as 4 spaces


def test_full_empty_range_gets_one_caret_and_no_fix_says_so() -> None:
    block = full_block(make_report(1, 3, 1, 3), "abcdef\n")
    assert "1 | abcdef\n  |   ^\n" in block
    assert block.endswith(
        "help: no automatic fix; `async-test-lint rule ATL999` explains the rule\n"
    )


def test_full_long_range_is_elided() -> None:
    source = "".join(f"line{n}\n" for n in range(1, 21))
    block = full_block(make_report(3, 1, 15, 7), source)
    shown = [line.split("|")[0].strip() for line in block.splitlines() if "|" in line]
    numbers = [n for n in shown if n]
    assert numbers == ["2", "3", "4", "5", "13", "14", "15", "16"]
    assert "\n...\n" in block


def test_full_arrow_lines_up_with_the_gutter() -> None:
    last = full_block(make_report(9, 1, 9, 2), "".join(f"x{n}\n" for n in range(1, 10)))
    assert last.splitlines()[1:5] == [" --> t.py:9:1", "  |", "8 | x8", "9 | x9"]
    wide = full_block(make_report(9, 1, 9, 2), "".join(f"x{n}\n" for n in range(1, 12)))
    assert wide.splitlines()[1:3] == ["  --> t.py:9:1", "   |"]


def test_full_without_source_still_names_the_place() -> None:
    fix = Fix("Do it", Safety.SAFE, (Edit(TextRange(Position(0, 0), Position(0, 1)), "y"),))
    block = full_block(make_report(1, 1, 1, 2, fix), None)
    assert block == "ATL999 [*] the message\n --> t.py:1:1\nhelp: Do it (safe fix: --fix)\n"


# -- concise, default, colour ----------------------------------------------------------------


def test_text_is_an_alias_of_concise(tmp_path: Path) -> None:
    root = project(tmp_path)
    concise = run_in_process(root, "check", "--output-format", "concise")
    assert run_in_process(root, "check", "--output-format", "text").stdout == concise.stdout
    assert run_in_process(root, "check").stdout == concise.stdout  # not a terminal: concise
    assert concise.stdout.splitlines()[1] == f"tests/test_user.py:12:16: ATL101 {MESSAGE}"


class FakeTerminal:
    def isatty(self) -> bool:
        return True


def test_default_format_and_colour_decisions() -> None:
    assert cli.output_format(None, FakeTerminal()) == "full"  # type: ignore[arg-type]
    assert cli.output_format(None, sys.stderr) in ("full", "concise")
    assert cli.output_format("text", FakeTerminal()) == "concise"  # type: ignore[arg-type]
    terminal = FakeTerminal()
    assert use_color(terminal, {}) is True  # type: ignore[arg-type]
    assert use_color(terminal, {"NO_COLOR": "1"}) is False  # type: ignore[arg-type]
    assert use_color(terminal, {"NO_COLOR": ""}) is True  # type: ignore[arg-type]
    assert use_color(terminal, {"TERM": "dumb"}) is False  # type: ignore[arg-type]
    pipe = open(os.devnull, "w")  # noqa: SIM115
    with pipe:
        assert use_color(pipe, {}) is False
        assert use_color(pipe, {"FORCE_COLOR": "1"}) is True
        assert use_color(pipe, {"FORCE_COLOR": "1", "NO_COLOR": "1"}) is False
    assert Style(True).paint("x", "1") == "\x1b[1mx\x1b[0m" and PLAIN.paint("x", "1") == "x"


def run_on_terminal(cwd: Path, *args: str, **env: str) -> str:
    """Run the CLI with stdout on a pseudo-terminal; what the terminal received."""
    primary, secondary = pty.openpty()
    environ = {**os.environ, **env}
    environ["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "server")
    for name in ("NO_COLOR", "FORCE_COLOR"):
        if name not in env:
            environ.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "async_test_lint", *args],
        cwd=cwd,
        stdout=secondary,
        stderr=subprocess.PIPE,
        env=environ,
    )
    os.close(secondary)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 1)
        if ready:
            try:
                data = os.read(primary, 65536)
            except OSError:  # the other side closed: Linux raises EIO
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    process.wait(timeout=60)
    os.close(primary)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_terminal_gets_full_output_in_colour_unless_no_color(tmp_path: Path) -> None:
    root = project(tmp_path)
    coloured = run_on_terminal(root, "check", "--no-cache")
    assert ANSI in coloured
    assert "\x1b[1;33mATL101\x1b[0m" in coloured  # a warning's code in bold yellow
    plain = run_on_terminal(root, "check", "--no-cache", NO_COLOR="1")
    assert ANSI not in plain
    assert "12 |         user = asyncio.run(fetch_user(1))\n" in plain  # full by default
    assert " --> tests/test_sleep.py:6:5\n" in plain


def test_force_color_colours_a_pipe(tmp_path: Path) -> None:
    root = project(tmp_path)
    env = {**os.environ, "FORCE_COLOR": "1", "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    env.pop("NO_COLOR", None)
    result = subprocess.run(
        [sys.executable, "-m", "async_test_lint", "check", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ANSI in result.stdout
    assert "\x1b[1mtests/test_user.py\x1b[0m:12:16:" in result.stdout  # concise, coloured
    env["NO_COLOR"] = "1"
    again = subprocess.run(
        [sys.executable, "-m", "async_test_lint", "check", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ANSI not in again.stdout


# -- --statistics, --show-fixes --------------------------------------------------------------


def test_statistics_table_and_json(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        {"tests/test_a.py": SLEEPY, "tests/test_b.py": SLEEPY, "tests/test_user.py": BROKEN},
        pyproject=BOTH,
    )
    result = run_in_process(root, "check", "--statistics")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "2\tATL303\t[*] blocking-sleep-in-async-test",
        "1\tATL101\t[ ] asyncio-run-in-test",
        "Found 3 problems (2 fixable with --fix, 1 more with --unsafe-fixes).",
    ]
    unsafe = run_in_process(root, "check", "--statistics", "--unsafe-fixes")
    assert "1\tATL101\t[*] asyncio-run-in-test" in unsafe.stdout
    rows = json.loads(
        run_in_process(root, "check", "--statistics", "--output-format", "json").stdout
    )
    assert rows == [
        {
            "code": "ATL303",
            "name": "blocking-sleep-in-async-test",
            "count": 2,
            "fixable": True,
            "fixable_count": 2,
        },
        {
            "code": "ATL101",
            "name": "asyncio-run-in-test",
            "count": 1,
            "fixable": False,
            "fixable_count": 0,
        },
    ]
    refused = run_in_process(root, "check", "--statistics", "--output-format", "sarif")
    assert refused.returncode == 2 and "--statistics" in refused.stderr


def test_show_fixes_lists_available_then_applied(tmp_path: Path) -> None:
    root = project(tmp_path)
    titles = fix_titles(root)
    available = run_in_process(root, "check", "--show-fixes")
    assert (
        "\n2 fixes available (1 applied by --fix):\n"
        "- tests/test_sleep.py:\n"
        f"    6:5 ATL303 [safe] {titles['ATL303']}\n"
        "- tests/test_user.py:\n"
        f"    12:16 ATL101 [unsafe] {titles['ATL101']}\n"
        "Found 2 problems"
    ) in available.stdout
    applied = run_in_process(root, "check", "--fix", "--show-fixes")
    assert applied.stdout.endswith(
        "\nFixed 1 problem:\n- tests/test_sleep.py: 1 fixed\n"
        "    1 \u00d7 ATL303 (blocking-sleep-in-async-test)\n"
        "Found 2 problems (1 fixed, 1 remaining; 1 fixable with --fix --unsafe-fixes).\n"
    )
    nothing = run_in_process(root, "check", "--fix", "--show-fixes")
    assert "\nNo fixes applied.\n" in nothing.stdout


# -- GitLab Code Quality -----------------------------------------------------------------------


def test_gitlab_report_matches_the_code_quality_schema(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_in_process(root, "check", "--output-format", "gitlab")
    assert result.returncode == 1
    issues = json.loads(result.stdout)
    jsonschema.validate(issues, GITLAB_CODE_QUALITY_SCHEMA)
    assert [
        (i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues
    ] == [
        ("ATL303", "tests/test_sleep.py", 6),
        ("ATL101", "tests/test_user.py", 12),
    ]
    assert issues[1]["description"] == f"ATL101 {MESSAGE}"
    assert issues[1]["severity"] == "minor"
    assert len({issue["fingerprint"] for issue in issues}) == 2
    clean = make_project(tmp_path / "clean", {"tests/test_ok.py": CLEAN}, pyproject=BOTH)
    assert json.loads(run_in_process(clean, "check", "--output-format", "gitlab").stdout) == []


def test_gitlab_fingerprints_survive_moves_and_tell_repeats_apart(tmp_path: Path) -> None:
    here = [make_report(3, 1, 3, 5), make_report(9, 1, 9, 5)]
    moved = [make_report(5, 1, 5, 5), make_report(11, 1, 11, 5)]
    first = [issue["fingerprint"] for issue in json.loads(render_gitlab(here, tmp_path))]
    second = [issue["fingerprint"] for issue in json.loads(render_gitlab(moved, tmp_path))]
    assert first == second and len(set(first)) == 2


def test_gitlab_paths_are_relative_to_ci_project_dir(tmp_path: Path) -> None:
    nested = tmp_path / "repo" / "service"
    nested.mkdir(parents=True)
    [issue] = json.loads(render_gitlab([make_report(1, 1, 1, 2)], nested, tmp_path / "repo"))
    assert issue["location"]["path"] == "service/t.py"
    jsonschema.validate([issue], GITLAB_CODE_QUALITY_SCHEMA)


# -- JUnit -----------------------------------------------------------------------------------


def test_junit_report_reads_back_with_junitparser(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_in_process(root, "check", "--output-format", "junit")
    assert result.returncode == 1
    report_file = tmp_path / "junit.xml"
    report_file.write_text(result.stdout, encoding="utf-8")
    xml = JUnitXml.fromfile(str(report_file))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"tests/test_sleep.py", "tests/test_user.py"}
    assert (xml.tests, xml.failures, xml.errors) == (2, 2, 0)
    [case] = list(suites["tests/test_user.py"])
    assert case.classname == "tests.test_user"
    assert case.name.startswith("ATL101 asyncio-run-in-test")
    [failure] = case.result
    assert isinstance(failure, Failure)
    assert failure.message == MESSAGE and failure.type == "ATL101"
    assert failure.text == f"tests/test_user.py:12:16: ATL101 {MESSAGE}"


def test_junit_without_findings_has_one_passing_case(tmp_path: Path) -> None:
    report_file = tmp_path / "junit.xml"
    report_file.write_text(render_junit([]), encoding="utf-8")
    xml = JUnitXml.fromfile(str(report_file))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == 1 and cases[0].is_passed
    assert (xml.tests, xml.failures) == (1, 0)


def test_junit_escapes_markup_in_messages(tmp_path: Path) -> None:
    report = make_report(1, 1, 1, 2)
    tricky = Report(
        report.path, report.code, report.name, 'a <b> & "c"', "error", report.span, None
    )
    report_file = tmp_path / "junit.xml"
    report_file.write_text(render_junit([tricky]), encoding="utf-8")
    [suite] = list(JUnitXml.fromfile(str(report_file)))
    [case] = list(suite)
    assert case.result[0].message == 'a <b> & "c"'


# -- docs/ci.md: its examples run ------------------------------------------------------------


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def yaml_blocks() -> list[object]:
    return [
        yaml.safe_load(body) for lang, body in code_blocks(CI_DOC.read_text()) if lang == "yaml"
    ]


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in _strings(value)]
    if isinstance(node, list):
        return [text for item in node for text in _strings(item)]
    return []


def documented_commands() -> list[str]:
    """Each `async-test-lint check ...` of docs/ci.md: YAML `run:`/`script:` values, shell lines."""
    commands: list[str] = []
    for lang, body in code_blocks(CI_DOC.read_text(encoding="utf-8")):
        if lang == "yaml":
            found = _strings(yaml.safe_load(body))
        elif lang in ("sh", "bash", "console"):
            found = [line.removeprefix("$ ") for line in body.splitlines()]
        else:
            continue
        commands.extend(
            text.strip() for text in found if text.strip().startswith("async-test-lint check")
        )
    return commands


def test_ci_doc_has_an_example_per_ci_format() -> None:
    commands = " ".join(documented_commands())
    for fmt in ("github", "sarif", "gitlab", "junit"):
        assert f"--output-format {fmt}" in commands


def _redirect(command: str) -> tuple[list[str], str | None]:
    command, _, target = command.partition(" > ")
    return shlex.split(command), target.strip() or None


def _read_back(fmt: str, output: str, path: Path) -> None:
    """Read the output as the CI system would."""
    path.write_text(output, encoding="utf-8")
    if fmt == "github":
        lines = output.splitlines()
        assert lines and all(
            line.startswith(("::warning file=", "::error file=")) for line in lines
        )
    elif fmt == "sarif":
        validate_sarif(json.loads(output))
    elif fmt == "gitlab":
        jsonschema.validate(json.loads(output), GITLAB_CODE_QUALITY_SCHEMA)
    elif fmt == "junit":
        assert JUnitXml.fromfile(str(path)).failures == 2
    else:
        pytest.fail(f"no reader for {fmt}")


@pytest.mark.parametrize("command", documented_commands())
def test_ci_doc_command_runs(command: str, tmp_path: Path) -> None:
    args, target = _redirect(command)
    assert args[:2] == ["async-test-lint", "check"]
    root = project(tmp_path / "project")
    result = run_in_process(root, *args[1:])
    assert result.returncode == (0 if "--exit-zero" in args else 1), result.stderr
    assert result.stderr == ""
    fmt = args[args.index("--output-format") + 1]
    _read_back(fmt, result.stdout, tmp_path / (target or "output"))


def _redirect_targets(commands: list[str]) -> set[str]:
    return {target for command in commands if (target := _redirect(command)[1])}


def test_ci_doc_steps_hand_over_the_files_they_write() -> None:
    """upload-sarif reads the file the check step wrote; GitLab's reports are the files written."""
    targets = _redirect_targets(documented_commands())
    uploads = [
        step
        for block in yaml_blocks()
        if isinstance(block, dict)
        for job in (block.get("jobs") or {}).values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@")
    ]
    assert len(uploads) == 1 and uploads[0]["with"]["sarif_file"] in targets
    [gitlab] = [
        block["async-test-lint"]
        for block in yaml_blocks()
        if isinstance(block, dict) and "async-test-lint" in block
    ]
    reports = gitlab["artifacts"]["reports"]
    assert {reports["codequality"], reports["junit"]} <= targets
    assert gitlab["artifacts"]["when"] == "always"


def test_ci_doc_pre_commit_examples_name_real_hooks() -> None:
    hooks = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    configs = [block for block in yaml_blocks() if isinstance(block, dict) and "repos" in block]
    assert len(configs) == 2
    for config in configs:
        [repo] = config["repos"]
        assert repo["repo"] == "https://github.com/async-test-lint/async-test-lint"
        assert {hook["id"] for hook in repo["hooks"]} <= hooks


def _without_fix_titles(output: str) -> str:
    """The rendering with each fix's title blanked: the rules own the wording of their titles."""
    return re.sub(r"^help: .*? \((safe|unsafe) fix: ", r"help: TITLE (\1 fix: ", output, flags=re.M)


def test_cli_doc_full_example_is_real_output(tmp_path: Path) -> None:
    """docs/cli.md shows `full` output: it must be what the command prints for these files (up to
    the fixes' titles, which change with the rules)."""
    [example] = [
        body
        for lang, body in code_blocks((ROOT / "docs" / "cli.md").read_text(encoding="utf-8"))
        if body.startswith("ATL303 [*]")
    ]
    root = make_project(
        tmp_path, {"tests/test_user.py": BROKEN, "tests/test_sleep.py": SLEEPY}, pyproject=BOTH
    )
    output = run_in_process(root, "check", "--output-format", "full").stdout
    assert _without_fix_titles(output) == _without_fix_titles(example)
    assert _without_fix_titles(example) != example  # the pattern did match the help lines
