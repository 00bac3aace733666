"""The command line end to end: the real CLI in a subprocess on temporary projects.

Fixtures use ATL101 (`asyncio.run()` in a plain TestCase, unsafe fix) and ATL001 (syntax error),
with `select` pinned to them, so rules still being written do not change these expectations.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import jsonschema
import pytest
from async_test_lint import __version__, cli
from async_test_lint.output import escape_data, escape_property
from async_test_lint.rules import all_rules

PYPROJECT = """\
[project]
name = "demo"
requires-python = ">=3.9"

[tool.async-test-lint]
select = ["ATL101", "ATL001"]
"""

BROKEN = """\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.TestCase):
    def test_fetch(self):
        user = asyncio.run(fetch_user(1))
        self.assertEqual(user["id"], 1)
"""

FIXED = """\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        user = await fetch_user(1)
        self.assertEqual(user["id"], 1)
"""

CLEAN = """\
import unittest


class MathTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(1 + 1, 2)
"""

MESSAGE = "asyncio.run() inside test_fetch of UserTest (a plain unittest.TestCase)"


def make_project(root: Path, files: Mapping[str, str | bytes], pyproject: str = PYPROJECT) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if pyproject:
        (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


def run_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command: `python -m async_test_lint ARGS` in `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "server")}
    return subprocess.run(
        [sys.executable, "-m", "async_test_lint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


def run_in_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`cli.main(ARGS)` in `cwd`, capturing both streams: the same contract, without paying for
    an interpreter start and the libcst import on every call."""
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exit_:  # argparse
                code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@pytest.fixture(params=["process", "in-process"])
def run_both(request: pytest.FixtureRequest) -> Runner:
    """For the tests that must hold for the real command too."""
    return run_process if request.param == "process" else run_in_process


Runner = Callable[..., "subprocess.CompletedProcess[str]"]
run = run_in_process


# -- text output and exit codes ------------------------------------------------------------


def test_text_output_and_exit_code_one(tmp_path: Path, run_both: Runner) -> None:
    make_project(tmp_path, {"tests/test_user.py": BROKEN, "tests/test_math.py": CLEAN})
    result = run_both(tmp_path, "check")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        f"tests/test_user.py:12:16: ATL101 {MESSAGE}",
        "Found 1 problem (1 fixable with --fix --unsafe-fixes).",
    ]
    assert result.stderr == ""


def test_clean_project_exits_zero(tmp_path: Path) -> None:
    make_project(tmp_path, {"tests/test_math.py": CLEAN})
    result = run(tmp_path, "check")
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n")


def test_quiet_and_exit_zero(tmp_path: Path) -> None:
    make_project(tmp_path, {"test_user.py": BROKEN})
    result = run(tmp_path, "check", "-q", "--exit-zero")
    assert result.returncode == 0
    assert result.stdout == f"test_user.py:12:16: ATL101 {MESSAGE}\n"


def test_unsafe_fixes_flag_counts_them_as_fixable(tmp_path: Path) -> None:
    make_project(tmp_path, {"test_user.py": BROKEN})
    result = run(tmp_path, "check", "--unsafe-fixes")
    assert (
        result.stdout.splitlines()[-1] == "Found 1 problem (1 fixable with --fix --unsafe-fixes)."
    )
    assert (tmp_path / "test_user.py").read_text(encoding="utf-8") == BROKEN


def test_path_outside_the_working_folder_is_absolute(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", {"test_user.py": BROKEN})
    (tmp_path / "elsewhere").mkdir()
    result = run(tmp_path / "elsewhere", "check", str(project), "-q")
    assert result.stdout.startswith(f"{project / 'test_user.py'}:12:16: ATL101 ")


def test_syntax_error_is_atl001(tmp_path: Path) -> None:
    make_project(tmp_path, {"test_broken.py": "def test(:\n    pass\n"})
    result = run(tmp_path, "check", "-q")
    assert result.returncode == 1
    assert result.stdout.startswith("test_broken.py:1:")
    assert " ATL001 SyntaxError" in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "--output-format", "xml"], "invalid choice"),
        (["check", "--select", "ATL999"], "--select"),
        (["check", "--ignore", "E501"], "--ignore"),
        (["check", "--target-version", "py27"], "unknown target version"),
        (["check", "missing_dir"], "no such file or folder: missing_dir"),
        (["check", "--config", "nope.toml"], "--config"),
        (["frobnicate"], "invalid choice"),
        ([], "usage"),
    ],
)
def test_usage_errors_exit_two(tmp_path: Path, args: list[str], needle: str) -> None:
    make_project(tmp_path, {"test_user.py": BROKEN})
    result = run(tmp_path, *args)
    assert result.returncode == 2
    assert needle in result.stderr
    assert result.stdout == ""


def test_config_error_names_key_and_file(tmp_path: Path, run_both: Runner) -> None:
    make_project(
        tmp_path, {"test_user.py": BROKEN}, pyproject='[tool.async-test-lint]\nselect = ["ATL9"]\n'
    )
    result = run_both(tmp_path, "check")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert str(tmp_path / "pyproject.toml") in result.stderr
    assert "async-test-lint.select" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_explicit_config(tmp_path: Path) -> None:
    make_project(tmp_path, {"test_user.py": BROKEN})
    other = tmp_path / "other" / "pyproject.toml"
    other.parent.mkdir()
    other.write_text('[tool.async-test-lint]\nignore = ["ATL101"]\n', encoding="utf-8")
    assert run(tmp_path, "check", "--config", str(other), "test_user.py").returncode == 0


# -- machine-readable outputs --------------------------------------------------------------


def test_json_output(tmp_path: Path, run_both: Runner) -> None:
    make_project(tmp_path, {"tests/test_user.py": BROKEN})
    result = run_both(tmp_path, "check", "--output-format", "json")
    assert result.returncode == 1
    [item] = json.loads(result.stdout)
    assert {key: item[key] for key in item if key != "fix"} == {
        "path": "tests/test_user.py",
        "code": "ATL101",
        "name": "asyncio-run-in-test",
        "message": MESSAGE,
        "severity": "warning",
        "line": 12,
        "column": 16,
        "end_line": 12,
        "end_column": 42,
    }
    fix = item["fix"]
    assert fix["safety"] == "unsafe"
    assert (
        fix["title"]
        == "Convert UserTest to IsolatedAsyncioTestCase, make 1 method async and await 1 call"
    )
    assert fix["edits"] and all(
        set(edit) == {"line", "column", "end_line", "end_column", "new_text"} and edit["line"] >= 1
        for edit in fix["edits"]
    )


def test_json_output_is_an_empty_array_when_clean(tmp_path: Path) -> None:
    make_project(tmp_path, {"test_math.py": CLEAN})
    result = run(tmp_path, "check", "--output-format", "json")
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


WIDE = BROKEN.replace(
    "        user = asyncio.run(fetch_user(1))",
    '        user = ("😀", asyncio.run(fetch_user(1)))[1]',
)


#: The OASIS SARIF 2.1.0 schema (rtm.5, the one GitHub code scanning documents), as shipped in
#: Microsoft's @microsoft/jest-sarif 1.0.0-beta.0 (MIT; lib/schemas/sarif-2.1.0-rtm.5.json).
SARIF_SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-2.1.0-rtm.5.json").read_text(encoding="utf-8")
)


def validate_sarif(document: dict[str, object]) -> None:
    """Valid against the SARIF 2.1.0 schema, with the parts GitHub code scanning requires."""
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    assert document["version"] == "2.1.0"
    assert str(document["$schema"]).endswith("sarif-2.1.0.json")
    [run_] = document["runs"]  # type: ignore[misc]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "async-test-lint" and driver["version"] == __version__
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"].startswith(f"# {rule['id']}")
    for result in run_["results"]:
        assert result["ruleId"] in rule_ids
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert not physical["artifactLocation"]["uri"].startswith(("/", "file:"))
        region = physical["region"]
        assert all(isinstance(region[key], int) and region[key] >= 1 for key in region)
        assert (region["startLine"], region["startColumn"]) <= (
            region["endLine"],
            region["endColumn"],
        )


def test_sarif_output(tmp_path: Path, run_both: Runner) -> None:
    make_project(tmp_path, {"tests/test_user.py": WIDE})
    result = run_both(tmp_path, "check", "--output-format", "sarif")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    validate_sarif(document)
    run_ = document["runs"][0]
    assert run_["columnKind"] == "utf16CodeUnits"
    rules = {rule["id"]: rule for rule in run_["tool"]["driver"]["rules"]}
    assert set(rules) >= {rule.code for rule in all_rules()} | {"ATL001"}
    assert rules["ATL101"]["helpUri"].endswith("ATL101.md")
    [found] = run_["results"]
    assert found["ruleId"] == "ATL101"
    assert found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "tests/test_user.py"
    )
    region = found["locations"][0]["physicalLocation"]["region"]
    # `        user = ("😀", ` is 21 code points and 22 UTF-16 code units before the call.
    assert (region["startLine"], region["startColumn"]) == (12, 23)
    text = json.loads(run_both(tmp_path, "check", "--output-format", "json").stdout)
    assert text[0]["column"] == 22


def test_github_output(tmp_path: Path, run_both: Runner) -> None:
    make_project(tmp_path, {"tests/test_user.py": BROKEN})
    result = run_both(tmp_path, "check", "--output-format", "github")
    assert result.returncode == 1
    assert result.stdout == (
        "::warning file=tests/test_user.py,line=12,col=16,endLine=12,endColumn=42,"
        f"title=ATL101::{MESSAGE}\n"
    )


def test_github_escaping() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


# -- selection, per-file ignores, exclusion ------------------------------------------------


@pytest.mark.parametrize(
    ("config", "args", "reported"),
    [
        ('select = ["ATL1"]\nignore = ["ATL101"]', [], False),
        ('select = ["ATL1"]\nignore = ["ATL1"]', [], False),
        ('select = ["ATL101"]\nignore = ["ATL1"]', [], True),
        ('select = ["ATL1"]\nignore = ["ATL101"]', ["--select", "ATL101"], True),
        ('select = ["ATL1"]', ["--ignore", "ATL101"], False),
        ('select = ["ATL1"]', ["--select", "ATL001"], False),
        ('select = ["ATL001"]', ["--extend-select", "ATL101"], True),
        ("", ["--select", "ATL101", "--ignore", "ATL1"], True),
        ("", ["--select", "ATL1", "--ignore", "ATL101"], False),
    ],
)
def test_select_ignore_precedence(
    tmp_path: Path, config: str, args: list[str], reported: bool
) -> None:
    make_project(tmp_path, {"test_user.py": BROKEN}, f"[tool.async-test-lint]\n{config}\n")
    result = run(tmp_path, "check", "-q", *args)
    assert ("ATL101" in result.stdout) is reported, result.stdout + result.stderr


def test_per_file_ignores(tmp_path: Path) -> None:
    config = (
        PYPROJECT + '\n[tool.async-test-lint.per-file-ignores]\n"tests/legacy/*" = ["ATL101"]\n'
    )
    make_project(
        tmp_path, {"tests/legacy/test_old.py": BROKEN, "tests/test_new.py": BROKEN}, config
    )
    result = run(tmp_path, "check", "-q")
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["tests/test_new.py"]


def test_exclude_and_gitignore(tmp_path: Path) -> None:
    config = PYPROJECT + 'exclude = ["tests/fixtures"]\n'
    make_project(
        tmp_path,
        {
            "tests/fixtures/test_fixture.py": BROKEN,
            "tests/generated/test_gen.py": BROKEN,
            "tests/test_real.py": BROKEN,
            ".gitignore": "generated/\n",
        },
        config,
    )
    result = run(tmp_path, "check", "-q")
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["tests/test_real.py"]
    # Named explicitly, an ignored file is checked (like ruff), unless --force-exclude.
    named = run(tmp_path, "check", "-q", "tests/generated/test_gen.py")
    assert named.stdout.startswith("tests/generated/test_gen.py:12:16: ATL101")
    forced = run(tmp_path, "check", "--force-exclude", "tests/generated/test_gen.py")
    assert (forced.returncode, forced.stdout) == (0, "All checks passed!\n")


def test_noqa(tmp_path: Path) -> None:
    suppressed = BROKEN.replace(
        "asyncio.run(fetch_user(1))", "asyncio.run(fetch_user(1))  # noqa: ATL101"
    )
    other = BROKEN.replace("asyncio.run(fetch_user(1))", "asyncio.run(fetch_user(1))  # noqa: X1")
    make_project(tmp_path, {"test_a.py": suppressed, "test_b.py": other})
    result = run(tmp_path, "check", "-q")
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["test_b.py"]


# -- cross-file resolution -----------------------------------------------------------------

BASE = """\
import unittest


class ServiceTestCase(unittest.TestCase):
    maxDiff = None
"""

USES_BASE = """\
import asyncio

from tests.base import ServiceTestCase
from app.client import fetch


class PingTest(ServiceTestCase):
    def test_ping(self):
        self.assertEqual(asyncio.run(fetch()), "pong")
"""


def test_base_class_in_another_file_resolves_when_one_file_is_checked(
    tmp_path: Path, run_both: Runner
) -> None:
    make_project(
        tmp_path,
        {
            "tests/__init__.py": "",
            "tests/base.py": BASE,
            "tests/test_ping.py": USES_BASE,
            "src/app/__init__.py": "",
            "src/app/client.py": 'async def fetch():\n    return "pong"\n',
        },
    )
    result = run_both(tmp_path / "tests", "check", "test_ping.py", "-q")
    assert result.stdout.splitlines() == [
        "test_ping.py:9:26: ATL101 asyncio.run() inside test_ping of PingTest "
        "(a plain unittest.TestCase)"
    ]


# -- unreadable files ----------------------------------------------------------------------


def test_undecodable_file_is_one_error_line_and_the_rest_continue(
    tmp_path: Path, run_both: Runner
) -> None:
    latin = b"# caf\xe9\n" + CLEAN.encode("ascii")
    make_project(tmp_path, {"test_bad.py": latin, "test_user.py": BROKEN})
    result = run_both(tmp_path, "check", "-q")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot decode test_bad.py: ")
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout.startswith("test_user.py:12:16: ATL101")


def test_undecodable_file_alone_still_fails(tmp_path: Path) -> None:
    make_project(tmp_path, {"test_bad.py": b"x = '\xff'\n"})
    result = run(tmp_path, "check", "--exit-zero")
    assert result.returncode == 1 and "cannot decode" in result.stderr


def test_coding_cookie_file_is_read(tmp_path: Path) -> None:
    latin = ("# -*- coding: latin-1 -*-\n# café\n" + BROKEN).encode("latin-1")
    make_project(tmp_path, {"test_user.py": latin})
    result = run(tmp_path, "check", "-q")
    assert result.stdout.startswith("test_user.py:14:16: ATL101"), result.stderr


# -- fixing --------------------------------------------------------------------------------


def test_fix_applies_only_safe_fixes(tmp_path: Path) -> None:
    make_project(tmp_path, {"test_user.py": BROKEN})
    result = run(tmp_path, "check", "--fix")
    assert result.returncode == 1
    assert (tmp_path / "test_user.py").read_text(encoding="utf-8") == BROKEN
    assert result.stdout.splitlines()[-1] == (
        "Found 1 problem (0 fixed, 1 remaining; 1 fixable with --fix --unsafe-fixes)."
    )


def test_unsafe_fixes_write_and_a_second_run_is_clean(tmp_path: Path, run_both: Runner) -> None:
    make_project(tmp_path, {"test_user.py": BROKEN})
    result = run_both(tmp_path, "check", "--fix", "--unsafe-fixes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "Found 1 problem (1 fixed, 0 remaining).\n"
    assert (tmp_path / "test_user.py").read_text(encoding="utf-8") == FIXED
    before = (tmp_path / "test_user.py").stat().st_mtime_ns
    again = run_both(tmp_path, "check", "--fix", "--unsafe-fixes")
    assert (again.returncode, again.stdout) == (0, "All checks passed!\n")
    assert (tmp_path / "test_user.py").stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("crlf", lambda text: text.replace("\n", "\r\n").encode("utf-8")),
        ("bom", lambda text: b"\xef\xbb\xbf" + text.encode("utf-8")),
        (
            "cookie",
            lambda text: ("# -*- coding: latin-1 -*-\n# café\n" + text).encode("latin-1"),
        ),
        ("bom-crlf", lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")),
    ],
)
def test_fix_keeps_encoding_bom_and_newlines(tmp_path: Path, name: str, encode: object) -> None:
    assert callable(encode)
    make_project(tmp_path, {"test_user.py": encode(BROKEN)})
    result = run(tmp_path, "check", "--fix", "--unsafe-fixes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "test_user.py").read_bytes() == encode(FIXED)
    assert run(tmp_path, "check").returncode == 0


def test_fix_with_an_inserted_import_keeps_crlf(tmp_path: Path) -> None:
    files = {"tests/__init__.py": "", "tests/base.py": BASE, "tests/test_ping.py": USES_BASE}
    files = {name: text.replace("\n", "\r\n") for name, text in files.items()}
    make_project(tmp_path, files)
    result = run(tmp_path, "check", "--fix", "--unsafe-fixes", "tests/test_ping.py")
    assert result.returncode == 0, result.stdout + result.stderr
    data = (tmp_path / "tests" / "test_ping.py").read_bytes()
    assert b"IsolatedAsyncioTestCase" in data
    assert data.count(b"\n") == data.count(b"\r\n")


def test_diff_prints_and_writes_nothing(tmp_path: Path, run_both: Runner) -> None:
    make_project(tmp_path, {"test_user.py": BROKEN})
    result = run_both(tmp_path, "check", "--diff", "--unsafe-fixes")
    assert result.returncode == 1
    assert result.stdout.startswith("--- test_user.py\n+++ test_user.py\n@@ ")
    assert "-class UserTest(unittest.TestCase):\n" in result.stdout
    assert "+class UserTest(unittest.IsolatedAsyncioTestCase):\n" in result.stdout
    assert result.stderr == "Would fix 1 problem.\n"
    assert (tmp_path / "test_user.py").read_text(encoding="utf-8") == BROKEN
    safe_only = run_both(tmp_path, "check", "--diff")
    assert (safe_only.returncode, safe_only.stdout) == (0, "")


def test_target_version_defaults_to_requires_python(tmp_path: Path) -> None:
    pyproject = PYPROJECT.replace(">=3.9", ">=3.7")
    make_project(tmp_path, {"test_user.py": BROKEN}, pyproject)
    result = run(tmp_path, "check", "--diff", "--unsafe-fixes")
    assert "self.loop.run_until_complete(fetch_user(1))" in result.stdout
    assert "IsolatedAsyncioTestCase" not in result.stdout
    override = run(tmp_path, "check", "--diff", "--unsafe-fixes", "--target-version", "py38")
    assert "IsolatedAsyncioTestCase" in override.stdout


# -- rule, rules, version, serve ----------------------------------------------------------


def test_rule_command(tmp_path: Path, run_both: Runner) -> None:
    result = run_both(tmp_path, "rule", "atl101")
    assert result.returncode == 0
    assert result.stdout.startswith("# ATL101 `asyncio-run-in-test`")
    assert "## Why is this bad?" in result.stdout
    assert run_both(tmp_path, "rule", "asyncio-run-in-test").stdout == result.stdout


def test_unknown_rule_lists_valid_codes(tmp_path: Path) -> None:
    result = run(tmp_path, "rule", "ATL999")
    assert result.returncode == 2
    assert "unknown rule 'ATL999'" in result.stderr and "ATL101" in result.stderr


def test_rules_listing(tmp_path: Path) -> None:
    text = run(tmp_path, "rules")
    assert text.returncode == 0
    assert any(line.startswith("ATL101  asyncio-run-in-test") for line in text.stdout.splitlines())
    rows = json.loads(run(tmp_path, "rules", "--output-format", "json").stdout)
    assert {"code": "ATL101", "name": "asyncio-run-in-test", "fix": "unsafe"}.items() <= next(
        row for row in rows if row["code"] == "ATL101"
    ).items()
    assert {row["code"] for row in rows} >= {rule.code for rule in all_rules()}


def test_version(tmp_path: Path, run_both: Runner) -> None:
    result = run_both(tmp_path, "--version")
    assert (result.returncode, result.stdout) == (0, f"async-test-lint {__version__}\n")


def test_serve_rejects_a_bad_tcp_address(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", "--tcp", "localhost")
    assert result.returncode == 2 and "HOST:PORT" in result.stderr


def test_check_does_not_import_the_language_server(tmp_path: Path) -> None:
    make_project(tmp_path, {"test_math.py": CLEAN})
    code = (
        "import sys\nfrom async_test_lint.cli import main\nmain(['check', '-q'])\n"
        "assert not any(name.startswith(('pygls', 'async_test_lint.lsp')) for name in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "server")}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 0


# -- in-process: rule failures, parallel runs ----------------------------------------------


def test_rule_failure_is_reported_and_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from async_test_lint.rules.atl101_asyncio_run_in_test import AsyncioRunInTest

    def explode(self: object, context: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(AsyncioRunInTest, "check", explode)
    make_project(tmp_path, {"test_user.py": BROKEN})
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--exit-zero"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "error: rule ATL101 failed on test_user.py: RuntimeError: boom\n"
    assert captured.out == "All checks passed!\n"


def test_parallel_and_serial_runs_agree(tmp_path: Path) -> None:
    from async_test_lint.config import load_settings
    from async_test_lint.discovery import discover
    from async_test_lint.workspace import Job, build_index, check_files

    files = {f"tests/test_{number:02}.py": BROKEN if number % 3 else CLEAN for number in range(12)}
    make_project(tmp_path, files)
    settings = load_settings(tmp_path)
    paths = discover([tmp_path], root=tmp_path)
    index = build_index(paths, settings, workers=2)
    assert len(index) == len(build_index(paths, settings, workers=1)) == 12
    jobs = [Job(path, path.name) for path in paths]
    serial = check_files(jobs, settings, index, workers=1)
    parallel = check_files(jobs, settings, index, workers=2)
    assert [outcome.reports for outcome in parallel] == [outcome.reports for outcome in serial]
    assert sum(len(outcome.reports) for outcome in serial) == 8


# -- the index cache -----------------------------------------------------------------------


def test_index_cache_reuses_unchanged_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from async_test_lint import workspace
    from async_test_lint.config import load_settings
    from async_test_lint.discovery import discover

    make_project(tmp_path, {"tests/base.py": BASE, "tests/test_ping.py": USES_BASE})
    settings = load_settings(tmp_path)
    paths = discover([tmp_path], root=tmp_path)
    first = workspace.build_index(paths, settings, cache=workspace.IndexCache(tmp_path))
    folder = tmp_path / workspace.CACHE_FOLDER
    assert (folder / ".gitignore").read_text(encoding="utf-8").endswith("*\n")

    parsed: list[Path] = []
    original = workspace.scan_file

    def counting(path: Path, settings: object) -> object:
        parsed.append(path)
        return original(path, settings)  # type: ignore[arg-type]

    monkeypatch.setattr(workspace, "scan_file", counting)
    second = workspace.build_index(paths, settings, cache=workspace.IndexCache(tmp_path))
    assert parsed == []
    assert second.summaries() == first.summaries()

    (tmp_path / "tests" / "base.py").write_text(BASE + "\n\nclass Extra:\n    pass\n", "utf-8")
    third = workspace.build_index(paths, settings, cache=workspace.IndexCache(tmp_path))
    assert parsed == [tmp_path / "tests" / "base.py"]
    assert any("Extra" in summary.classes for summary in third.summaries())

    for cached in folder.glob("index-*.json"):
        cached.write_text("{not json", encoding="utf-8")
    parsed.clear()
    workspace.build_index(paths, settings, cache=workspace.IndexCache(tmp_path))
    assert len(parsed) == 2


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    make_project(tmp_path, {"test_user.py": BROKEN})
    assert run(tmp_path, "check", "--no-cache", "-q").returncode == 1
    assert not (tmp_path / ".async-test-lint-cache").exists()
    assert run(tmp_path, "check", "-q").returncode == 1
    assert (tmp_path / ".async-test-lint-cache").is_dir()


# -- summaries and diffs -------------------------------------------------------------------


def _report(safety: str | None) -> object:
    from async_test_lint.model import Fix, Safety
    from async_test_lint.output import Report, Span

    fix = Fix("t", Safety(safety), ()) if safety else None
    return Report("a.py", "ATL101", "n", "m", "warning", Span(1, 1, 1, 2, 1, 2), fix)


@pytest.mark.parametrize(
    ("safeties", "unsafe", "expected"),
    [
        ([], False, "All checks passed!"),
        ([None], False, "Found 1 problem."),
        (["safe", None], False, "Found 2 problems (1 fixable with --fix)."),
        (
            ["safe", "unsafe", "unsafe"],
            False,
            "Found 3 problems (1 fixable with --fix, 2 more with --unsafe-fixes).",
        ),
        (["unsafe"], False, "Found 1 problem (1 fixable with --fix --unsafe-fixes)."),
        (["safe", "unsafe"], True, "Found 2 problems (2 fixable with --fix --unsafe-fixes)."),
    ],
)
def test_check_summary(safeties: list[str | None], unsafe: bool, expected: str) -> None:
    from async_test_lint.output import check_summary

    assert check_summary([_report(s) for s in safeties], unsafe) == expected  # type: ignore[misc]


def test_diff_marks_a_missing_final_newline() -> None:
    from async_test_lint.output import unified_diff

    diff = unified_diff("a.py", "x = 1\ny = 2", "x = 1\ny = 3")
    assert diff.endswith(
        "-y = 2\n\\ No newline at end of file\n+y = 3\n\\ No newline at end of file\n"
    )


def test_serve_without_the_server_package_exits_two(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "async_test_lint.lsp", None)
    assert cli.main(["serve"]) == 2
    assert capsys.readouterr().err.startswith("error: the language server is not available")


# -- standard input ------------------------------------------------------------------------


def run_stdin(cwd: Path, data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "server")}
    command = [sys.executable, "-m", "async_test_lint", "check", *args]
    return subprocess.run(command, cwd=cwd, input=data, capture_output=True, env=env, timeout=120)


def test_stdin_is_checked_as_the_named_file(tmp_path: Path) -> None:
    make_project(tmp_path, {"tests/__init__.py": "", "tests/base.py": BASE})
    result = run_stdin(tmp_path, USES_BASE.encode(), "--stdin-filename", "tests/test_ping.py")
    assert result.returncode == 1
    assert result.stdout.decode().startswith("tests/test_ping.py:9:26: ATL101 ")
    anonymous = run_stdin(tmp_path, BROKEN.encode(), "-", "-q")
    assert anonymous.stdout.decode().startswith("-:12:16: ATL101 ")
    assert not (tmp_path / "tests" / "test_ping.py").exists()


def test_stdin_fix_prints_the_fixed_code_in_its_encoding(tmp_path: Path) -> None:
    make_project(tmp_path, {})
    data = BROKEN.replace("\n", "\r\n").encode("utf-8")
    result = run_stdin(tmp_path, data, "--stdin-filename", "t.py", "--fix", "--unsafe-fixes")
    assert result.returncode == 0, result.stderr
    assert result.stdout == FIXED.replace("\n", "\r\n").encode("utf-8")
    unchanged = run_stdin(tmp_path, CLEAN.encode(), "--stdin-filename", "t.py", "--fix")
    assert (unchanged.returncode, unchanged.stdout) == (0, CLEAN.encode())


def test_stdin_cannot_be_mixed_with_paths(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.py": CLEAN})
    result = run_in_process(tmp_path, "check", "-", "a.py")
    assert result.returncode == 2 and "standard input" in result.stderr
