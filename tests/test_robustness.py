"""The engine never crashes: every input gives diagnostics (or none), never an exception.

Covers what an editor sends while someone types (every prefix of a real file), what the file
system holds (encodings, NUL bytes, huge and deeply nested files, odd line breaks and characters)
and what a broken rule does (reported as a RuleFailure; the other rules still run).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from async_test_lint import cli, engine, workspace
from async_test_lint.context import Context
from async_test_lint.engine import SYNTAX_ERROR_CODE, LintTimeout, fix, lint
from async_test_lint.lsp import project
from async_test_lint.model import Diagnostic, Position, Settings, Severity, TextRange
from async_test_lint.parsing import ParsedSource, SyntaxProblem, parse_python
from async_test_lint.rules import Rule
from async_test_lint.rules.atl101_asyncio_run_in_test import AsyncioRunInTest
from async_test_lint.source import LineIndex, SourceDecodeError, decode_source

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_TESTS = ROOT / "examples" / "tests"
PATH = "tests/test_robust.py"

#: A module with one ATL101 finding; `{prefix}` goes before the offending call on its line.
TEMPLATE = (
    "import asyncio\n"
    "import unittest\n"
    "\n"
    "\n"
    "async def fetch():\n"
    "    return 1\n"
    "\n"
    "\n"
    "class FetchTest(unittest.TestCase):\n"
    "    def test_fetch(self):\n"
    "        {prefix}asyncio.run(fetch())\n"
)
CALL = "asyncio.run(fetch())"


def atl101(text: str) -> list[TextRange]:
    result = lint(text, PATH)
    assert result.failures == ()
    return [d.range for d in result.diagnostics if d.code == "ATL101"]


def expected_range(text: str, line_break: str = "\n") -> TextRange:
    """The range of CALL in code points, splitting lines like the tokenizer does."""
    offset = text.index(CALL)
    index = LineIndex(text)
    return TextRange(index.position(offset), index.position(offset + len(CALL)))


def only_syntax_error(result_diagnostics: Sequence[Diagnostic]) -> Diagnostic:
    assert len(result_diagnostics) == 1, result_diagnostics
    (diagnostic,) = result_diagnostics
    assert diagnostic.code == SYNTAX_ERROR_CODE
    assert diagnostic.message.startswith("SyntaxError")
    return diagnostic


# -- syntax errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("def f(:\n    pass\n", 0),
        ("import asyncio\n\nclass T:\n    def test(self)\n        pass\n", 3),
        ("x = (1,\ny = 2\n", 0),
        ("def f():\nreturn 1\n", 1),
        ('s = "unterminated\n', 0),
        ("if True:\n        x = 1\n    y = 2\n", 2),
    ],
)
def test_a_file_that_does_not_parse_gives_one_syntax_error(text: str, line: int) -> None:
    result = lint(text, PATH)
    assert result.failures == ()
    diagnostic = only_syntax_error(result.diagnostics)
    lines = LineIndex(text)
    assert diagnostic.range.start.line == line, diagnostic
    assert diagnostic.range.start <= diagnostic.range.end
    assert diagnostic.range.end.line == diagnostic.range.start.line
    assert 0 <= diagnostic.range.start.column <= len(lines.line_text(line))
    assert diagnostic.fix is None


# -- typing a file character by character --------------------------------------------------------


def _prefix_offsets(text: str, seed: int, samples: int) -> Iterator[int]:
    offsets = {index + 1 for index, char in enumerate(text) if char == "\n"}
    offsets |= set(random.Random(seed).sample(range(len(text) + 1), min(samples, len(text) + 1)))
    offsets |= {0, len(text)}
    yield from sorted(offsets)


@pytest.mark.parametrize(
    "name", ["test_client_loops.py", "test_lifecycle.py", "test_awaiting.py", "test_mocks.py"]
)
def test_every_prefix_of_a_real_file_lints(name: str) -> None:
    text = (EXAMPLE_TESTS / name).read_text(encoding="utf-8")
    for offset in _prefix_offsets(text, seed=len(text), samples=60):
        prefix = text[:offset]
        result = lint(prefix, PATH)
        assert result.failures == (), (offset, result.failures)
        if any(d.code == SYNTAX_ERROR_CODE for d in result.diagnostics):
            only_syntax_error(result.diagnostics)


def test_typing_into_the_middle_of_a_file_lints() -> None:
    text = (EXAMPLE_TESTS / "test_nested_loops.py").read_text(encoding="utf-8")
    rng = random.Random(7)
    for _ in range(40):
        cut = rng.randrange(len(text))
        edited = (
            text[:cut]
            + rng.choice(["(", "await ", "async ", ":", "\n    ", "'", "\\"])
            + text[cut:]
        )
        result = lint(edited, PATH)
        assert result.failures == ()


# -- bytes and encodings -------------------------------------------------------------------------


def test_latin1_coding_cookie_decodes() -> None:
    data = "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1")
    assert decode_source(data) == "# -*- coding: latin-1 -*-\nname = 'café'\n"


def test_utf8_bom_is_dropped() -> None:
    assert decode_source(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"


def test_invalid_utf8_is_a_clear_error() -> None:
    with pytest.raises(SourceDecodeError) as error:
        decode_source(b"x = 1\nname = '\xff\xfe'\n")
    message = str(error.value)
    assert "utf-8" in message.lower() and "byte" in message


def test_bytes_invalid_for_the_declared_encoding_are_a_clear_error() -> None:
    with pytest.raises(SourceDecodeError) as error:
        decode_source(b"# coding: ascii\nname = '\xe9'\n")
    assert "ascii" in str(error.value)


def test_unknown_coding_cookie_is_a_clear_error() -> None:
    with pytest.raises(SourceDecodeError) as error:
        decode_source(b"# coding: klingon\nx = 1\n")
    assert "klingon" in str(error.value)


def test_bom_with_a_conflicting_cookie_is_a_clear_error() -> None:
    with pytest.raises(SourceDecodeError):
        decode_source(b"\xef\xbb\xbf# coding: latin-1\nx = 1\n")


@pytest.mark.parametrize("where", ["start", "middle", "in a string", "end"])
def test_nul_bytes_give_one_syntax_error(where: str) -> None:
    text = TEMPLATE.format(prefix="")
    if where == "start":
        text = "\x00" + text
    elif where == "middle":
        text = text.replace("return 1", "return\x001")
    elif where == "in a string":
        text = text.replace("return 1", "return '\x00'")
    else:
        text += "\x00"
    result = lint(text, PATH)
    assert result.failures == ()
    diagnostic = only_syntax_error(result.diagnostics)
    nul = LineIndex(text).position(text.index("\x00"))
    assert diagnostic.range.start == nul


# -- size and depth ------------------------------------------------------------------------------


def test_a_10_mb_file_lints(capsys: pytest.CaptureFixture[str]) -> None:
    """A test module carrying a large embedded data table: completes, finds the one problem."""
    row = '    ("user-{0:07d}", "Ada Lovelace", "ada@example.org", {0}, True, 3.25),\n'
    rows = "".join(row.format(number) for number in range(10_000_000 // len(row) + 1))
    text = "DATA = [\n" + rows + "]\n\n" + TEMPLATE.format(prefix="")
    assert len(text.encode("utf-8")) >= 10_000_000
    start = time.perf_counter()
    result = lint(text, PATH)
    elapsed = time.perf_counter() - start
    assert result.failures == ()
    assert [d.range for d in result.diagnostics if d.code == "ATL101"] == [expected_range(text)]
    with capsys.disabled():
        print(f"\n[robustness] lint of a {len(text) / 1e6:.1f} MB file took {elapsed:.2f} s")


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("(" * 5000 + "1" + ")" * 5000, id="parentheses"),
        pytest.param("[" * 5000 + "]" * 5000, id="lists"),
        pytest.param("-" * 5000 + "1", id="unary"),
        pytest.param("1" + " + 1" * 5000, id="binary-chain"),
        pytest.param("f(" * 5000 + ")" * 5000, id="calls"),
        pytest.param("not " * 5000 + "x", id="not"),
        pytest.param("x" + ".a" * 5000, id="attributes"),
    ],
)
def test_5000_deep_nesting_never_raises(expression: str) -> None:
    text = TEMPLATE.format(prefix=f"value = {expression}\n        ")
    result = lint(text, PATH)
    assert result.failures == ()
    codes = [d.code for d in result.diagnostics]
    if SYNTAX_ERROR_CODE in codes:  # too deep for this interpreter's parser: said once, clearly
        only_syntax_error(result.diagnostics)
    else:
        assert "ATL101" in codes


def test_deep_nesting_that_parses_is_analysed_and_fixed_without_crashing() -> None:
    # Deep enough to break recursive visitors, shallow enough for ast.parse on 3.9-3.13.
    text = TEMPLATE.format(prefix="value = " + "1" + " + 1" * 1500 + "\n        ")
    if isinstance(parse_python(text), SyntaxProblem):
        pytest.skip("this interpreter's parser rejects the expression")
    assert len(atl101(text)) == 1
    fix(text, PATH, unsafe=True)  # a fix that cannot be built is dropped, never raised


def test_deeply_nested_blocks_never_raise() -> None:
    body = "".join("    " * depth + "if x:\n" for depth in range(2, 120)) + "    " * 120 + "pass\n"
    text = "import asyncio\n\ndef f(x):\n" + body.replace("    ", "    ", 1)
    result = lint(text, PATH)
    assert result.failures == ()
    # CPython allows 100 indentation levels: this is a syntax error, reported once.
    only_syntax_error(result.diagnostics)


def test_a_100_000_character_line() -> None:
    values = ", ".join(["1"] * 33_334)
    prefix = f"values = [{values}]; "
    assert len(prefix) >= 100_000
    text = TEMPLATE.format(prefix=prefix)
    assert atl101(text) == [expected_range(text)]
    assert expected_range(text).start.column == 8 + len(prefix)


# -- line breaks and characters ------------------------------------------------------------------


def test_bom() -> None:
    text = "\ufeff" + TEMPLATE.format(prefix="")
    assert atl101(text) == [expected_range(text)]
    assert isinstance(parse_python("\ufeffimport asyncio\n"), ParsedSource)


def test_bom_on_the_first_line_keeps_code_point_columns() -> None:
    text = "\ufeffx = (1,\n"
    diagnostic = only_syntax_error(lint(text, PATH).diagnostics)
    assert diagnostic.range.start.line == 0


def test_crlf() -> None:
    text = TEMPLATE.format(prefix="").replace("\n", "\r\n")
    ranges = atl101(text)
    assert ranges == [expected_range(text)]
    assert ranges == atl101(TEMPLATE.format(prefix=""))


def test_lone_cr() -> None:
    text = TEMPLATE.format(prefix="").replace("\n", "\r")
    assert atl101(text) == [expected_range(text)]
    assert expected_range(text).start.line == 10


def test_mixed_line_breaks() -> None:
    lines = TEMPLATE.format(prefix="").split("\n")
    breaks = ["\n", "\r\n", "\r"]
    text = "".join(line + breaks[index % 3] for index, line in enumerate(lines[:-1]))
    assert atl101(text) == [expected_range(text)]


def test_form_feed() -> None:
    text = "\f" + TEMPLATE.format(prefix="x = 1;\f").replace("\nclass", "\n\f\nclass")
    assert atl101(text) == [expected_range(text)]


def test_line_separator_inside_strings_is_not_a_line_break() -> None:
    text = TEMPLATE.format(prefix='label = "a\u2028b\u2029c\x85d\x0be\x1cf"; ')
    text = text.replace("return 1", 'return "\u2028"')
    ranges = atl101(text)
    assert ranges == [expected_range(text)]
    assert ranges[0].start.line == 10


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param('label = "😀🚀"; ', id="emoji"),
        pytest.param('label = "日本語のテスト"; ', id="cjk"),
        pytest.param('label = "e\u0301a\u0308"; ', id="combining"),
        pytest.param('label = "👩‍👩‍👧"; ', id="zwj-sequence"),
        pytest.param("ユーザー = 1; ", id="identifier"),
    ],
)
def test_non_ascii_before_the_problem_counts_code_points(prefix: str) -> None:
    text = TEMPLATE.format(prefix=prefix)
    (found,) = atl101(text)
    assert found == expected_range(text)
    assert found.start == Position(10, 8 + len(prefix))
    assert found.end.column - found.start.column == len(CALL)


@pytest.mark.parametrize(
    "text", ["", "\n", "\r\n", "   ", "# only a comment", "\ufeff", '"""doc"""']
)
def test_empty_and_trivial_files(text: str) -> None:
    result = lint(text, PATH)
    assert result.diagnostics == () and result.failures == ()
    assert fix(text, PATH, unsafe=True).text == text


def test_no_path_and_odd_paths() -> None:
    text = TEMPLATE.format(prefix="")
    for path in (
        None,
        "",
        "x",
        "/abs/tests/test_a.py",
        "C:\\work\\tests\\test_a.py",
        "tests/ü/test.py",
    ):
        result = lint(text, path, Settings(project_root="/abs"))
        assert result.failures == ()


# -- a failing rule ------------------------------------------------------------------------------


class ExplodingRule(Rule):
    code = "ATL999"
    name = "exploding"
    family = "T0"
    summary = what = why = versions = fix_notes = "test only"

    def check(self, context: object) -> Iterator[Diagnostic]:
        raise ZeroDivisionError("boom")
        yield  # pragma: no cover


def test_a_failing_rule_is_reported_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "all_rules", lambda: (AsyncioRunInTest, ExplodingRule))
    text = TEMPLATE.format(prefix="")
    result = lint(text, "tests/test_boom.py")
    assert [(f.code, f.path) for f in result.failures] == [("ATL999", "tests/test_boom.py")]
    assert "ZeroDivisionError" in result.failures[0].error and "boom" in result.failures[0].error
    assert [d.code for d in result.diagnostics] == ["ATL101"]


def test_a_rule_failing_mid_iteration_keeps_nothing_half_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = AsyncioRunInTest.check

    def check_then_fail(self: AsyncioRunInTest, context: object) -> Iterator[Diagnostic]:
        yield from original(self, context)  # type: ignore[arg-type]
        raise RuntimeError("late failure")

    monkeypatch.setattr(AsyncioRunInTest, "check", check_then_fail)
    monkeypatch.setattr(engine, "all_rules", lambda: (AsyncioRunInTest,))
    result = lint(TEMPLATE.format(prefix=""), None)
    assert [(f.code, f.path) for f in result.failures] == [("ATL101", "<unsaved document>")]
    assert result.diagnostics == ()


def test_a_fix_builder_that_raises_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    import async_test_lint.fixes.convert as module

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("cannot build")

    monkeypatch.setattr(module, "conversion_fix", broken)
    monkeypatch.setattr(engine, "all_rules", lambda: (AsyncioRunInTest,))
    text = TEMPLATE.format(prefix="")
    (diagnostic,) = lint(text, PATH).diagnostics
    assert diagnostic.fix is None
    assert fix(text, PATH, unsafe=True).text == text


def test_recursion_limit_is_left_as_it_was() -> None:
    before = sys.getrecursionlimit()
    lint(TEMPLATE.format(prefix="value = " + "-" * 5000 + "1\n        "), PATH)
    assert sys.getrecursionlimit() == before


def test_invalid_escape_sequences_are_not_syntax_errors() -> None:
    """`ast.parse` warns about `"\\("`; under `-W error` that warning must not become ATL001."""
    text = 'import re\n\npattern = re.compile("\\(x\\)")\n'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = lint(text, PATH)
    assert result.diagnostics == () and result.failures == ()


# -- time limit ----------------------------------------------------------------------------------


class SlowRule(Rule):
    """Yields a finding every 50 ms on files whose path says `slow`; instant elsewhere."""

    code = "ATL998"
    name = "slow"
    family = "T0"
    summary = what = why = versions = fix_notes = "test only"

    def check(self, context: Context) -> Iterator[Diagnostic]:
        if "slow" not in (context.path or ""):
            return
        for line in range(12):
            time.sleep(0.05)
            start = Position(line, 0)
            yield Diagnostic(
                self.code, self.name, "slow", TextRange(start, start), Severity.WARNING
            )


@pytest.fixture
def slow_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "all_rules", lambda: (AsyncioRunInTest, SlowRule))


@pytest.mark.usefixtures("slow_rule")
def test_a_lint_past_its_time_limit_raises_lint_timeout() -> None:
    text = TEMPLATE.format(prefix="")
    with pytest.raises(LintTimeout) as raised:
        lint(text, "tests/test_slow.py", time_limit=0.2)
    assert raised.value.phase == "in ATL998", "checked between a rule's findings"
    assert "tests/test_slow.py: analysis abandoned after 0.2 s" in str(raised.value)
    with pytest.raises(LintTimeout):
        fix(text, "tests/test_slow.py", unsafe=True, time_limit=0.2)
    # The same rule on another file, and without a limit: an ordinary result.
    assert atl101(text) == [expected_range(text)]
    assert len(lint(text, "tests/test_slow.py").diagnostics) == 13


def test_the_time_limit_is_checked_once_the_file_is_parsed() -> None:
    """Whatever the rules cost, a file that alone takes longer to parse than the limit."""
    text = "import asyncio\n" + "".join(f"x{n} = asyncio.run(f({n}))\n" for n in range(500))
    with pytest.raises(LintTimeout) as raised:
        lint(text, PATH, time_limit=1e-9)
    assert raised.value.phase == "after parsing and modelling"
    assert lint(text, PATH, time_limit=60).failures == ()


# -- the CLI and the server's index with files that change under them ---------------------------


def _project(root: Path, files: dict[str, str | bytes]) -> Path:
    (root / "pyproject.toml").write_text("[tool.async-test-lint]\n", encoding="utf-8")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def _check(cwd: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["check", "--no-cache", *args])
    finally:
        os.chdir(previous)
    return code, out.getvalue(), err.getvalue()


FOUND = "test_user.py:11:9: ATL101"


@pytest.mark.usefixtures("slow_rule")
def test_cli_skips_a_file_past_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workspace, "CHECK_TIME_LIMIT", 0.2)
    text = TEMPLATE.format(prefix="")
    _project(tmp_path, {"test_slow.py": text, "test_user.py": text})
    code, out, err = _check(tmp_path, "-q")
    assert code == 1
    assert err == "error: skipped test_slow.py: analysis took longer than 0.2 s\n"
    assert out.startswith(FOUND), out


def _around_checking(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """Run `action` after the project is discovered and indexed, before its files are read."""
    original = workspace.check_files

    def check_files(*args: Any, **kwargs: Any) -> Any:
        action()
        return original(*args, **kwargs)

    monkeypatch.setattr(workspace, "check_files", check_files)


def test_cli_file_deleted_after_indexing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TEMPLATE.format(prefix="")
    _project(tmp_path, {"test_gone.py": text, "test_user.py": text})
    _around_checking(monkeypatch, (tmp_path / "test_gone.py").unlink)
    code, out, err = _check(tmp_path, "-q")
    assert code == 1
    assert err == "error: cannot read test_gone.py: No such file or directory\n"
    assert out.startswith(FOUND), out


def test_cli_file_changed_after_indexing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report is about the text that was read for checking: positions match that text."""
    text = TEMPLATE.format(prefix="")
    _project(tmp_path, {"test_user.py": text})
    moved = "# two lines\n# added\n" + text
    _around_checking(monkeypatch, lambda: (tmp_path / "test_user.py").write_text(moved))
    code, out, err = _check(tmp_path, "-q")
    assert (code, err) == (1, "")
    assert out.startswith("test_user.py:13:9: ATL101"), out


def _deny_reading(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """A PermissionError for one file, as for a file without read permission (root reads all)."""
    original = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == denied:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


def test_cli_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TEMPLATE.format(prefix="")
    _project(tmp_path, {"test_locked.py": text, "test_user.py": text})
    locked = tmp_path / "test_locked.py"
    if os.geteuid() == 0:
        _deny_reading(monkeypatch, locked)
    else:
        locked.chmod(0)
    try:
        code, out, err = _check(tmp_path, "-q")
    finally:
        locked.chmod(0o644)
    assert code == 1
    assert err == "error: cannot read test_locked.py: Permission denied\n"
    assert out.startswith(FOUND), out


def test_cli_symlink_loops(tmp_path: Path) -> None:
    text = TEMPLATE.format(prefix="")
    _project(tmp_path, {"pkg/test_user.py": text})
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "pkg" / "cycle_a.py").symlink_to(tmp_path / "pkg" / "cycle_b.py")
    (tmp_path / "pkg" / "cycle_b.py").symlink_to(tmp_path / "pkg" / "cycle_a.py")
    (tmp_path / "pkg" / "test_dangling.py").symlink_to(tmp_path / "nowhere.py")
    code, out, err = _check(tmp_path, "-q")
    assert (code, err) == (1, "")
    assert out.splitlines() == ["pkg/" + FOUND + " " + out.split(" ATL101 ", 1)[1].strip()]


def test_server_index_with_files_that_vanish_or_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = "import unittest\n\nclass Base(unittest.TestCase):\n    pass\n"
    _project(tmp_path, {"base.py": base, "locked.py": base, "gone.py": base})
    _deny_reading(monkeypatch, tmp_path / "locked.py")
    original = project.discover

    def discover_then_delete(*args: Any, **kwargs: Any) -> list[Path]:
        found = list(original(*args, **kwargs))
        (tmp_path / "gone.py").unlink()  # listed, then deleted before it is read
        return found

    monkeypatch.setattr(project, "discover", discover_then_delete)
    index = project.WorkspaceIndex()
    index.add_folder(str(tmp_path))
    reports: list[tuple[int, int]] = []
    count = index.build(
        str(tmp_path),
        Settings(project_root=str(tmp_path)),
        lambda *r: reports.append(r),
        threading.Event(),
    )
    assert count == 1 and reports[-1] == (3, 3)
    assert [s.path for s in index.index_for(str(tmp_path / "x.py")).summaries()] == [
        str(tmp_path / "base.py")
    ]
    # A watched-file event for a file that is gone again removes it; nothing raises.
    (tmp_path / "base.py").unlink()
    assert index.refresh_from_disk(str(tmp_path / "base.py"), Settings()) is True
    assert index.refresh_from_disk(str(tmp_path / "locked.py"), Settings()) is False
