"""Code written for Python 3.8-3.14 is analysed whichever interpreter runs the tool.

Each test runs the engine in a subprocess under another interpreter (a venv that `scripts/test`
creates in `.cache/pyvenvs/X.Y` with libcst, and tomli below 3.11; `server/` is put on PYTHONPATH),
on a test module full of syntax newer than that interpreter (type aliases, type parameters, PEP 701
f-strings, `match`, `except*`, t-strings) followed by an ATL101 anti-pattern, and checks that the
file parses and the diagnostic is found at the right position. The same runs in-process too.

A version is skipped only when its interpreter is genuinely absent and CI is not set; under CI, or
when the interpreter exists but its venv does not, the test fails (run `./scripts/test`).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from async_test_lint.engine import lint
from async_test_lint.parsing import ParsedSource, parse_python

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".cache" / "pyvenvs"
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))

HEADER = """\
import asyncio
import unittest

type Pair[T] = tuple[T, T]
type Json = dict[str, "Json"] | list["Json"] | str | int | None


def first[T](items: list[T]) -> T:
    return items[0]


class Box[T: (int, str)]:
    def __init__(self, item: T) -> None:
        self.item = item


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id, "name": f"{"user"}-{user_id}"}


def describe(value):
    label = f"{value!r:>{10}} {'\\n'.join(["a", "b"])}"
    multi = f"{value
    }"
    match value:
        case {"id": ident} if ident > 0:
            return f"{label}: {ident}"
        case [x, *_]:
            return f"{x}"
        case (
            1
            | 2
        ):
            return multi
        case _:
            return label


def grouped():
    try:
        raise ExceptionGroup("many", [ValueError(1)])
    except* ValueError as group:
        return group
"""

TSTRING = """

def template(name):
    return t"hello {name}"
"""

TEST_CLASS = """

class UserTest(unittest.TestCase):
    def test_fetch(self):
        user = asyncio.run(fetch_user(1))
        self.assertEqual(user["id"], 1)
"""

# The probe a foreign interpreter runs: lint each text of a JSON list on stdin, print JSON results.
PROBE = """\
import json, sys
from async_test_lint.engine import lint
from async_test_lint.parsing import ParsedSource, parse_python
results = []
for text in json.loads(sys.stdin.read()):
    parsed = parse_python(text)
    result = lint(text, "tests/test_users.py")
    results.append({
        "parsed": isinstance(parsed, ParsedSource),
        "problem": None if isinstance(parsed, ParsedSource) else parsed.message,
        "version": list(sys.version_info[:2]),
        "failures": [f"{f.code}: {f.error}" for f in result.failures],
        "diagnostics": [
            [d.code, d.range.start.line, d.range.start.column, d.range.end.line, d.range.end.column]
            for d in result.diagnostics
        ],
    })
print(json.dumps(results))
"""


def _source(with_tstring: bool) -> str:
    return HEADER + (TSTRING if with_tstring else "") + TEST_CLASS


def _expected_atl101(text: str) -> list[object]:
    """ATL101 on `asyncio.run(fetch_user(1))`: 0-based line, code-point columns."""
    lines = text.splitlines()
    line = next(
        number for number, content in enumerate(lines) if "asyncio.run(fetch_user(1))" in content
    )
    column = lines[line].index("asyncio.run(")
    return ["ATL101", line, column, line, column + len("asyncio.run(fetch_user(1))")]


def _interpreter_present(version: str) -> bool:
    if glob.glob(str(PYENV_ROOT / "versions" / f"{version}.*" / "bin" / f"python{version}")):
        return True
    return shutil.which(f"python{version}") is not None


def _venv_python(version: str) -> Path:
    python = VENVS / version / "bin" / "python"
    if python.exists():
        return python
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    if not _interpreter_present(version) and not in_ci:
        pytest.skip(f"Python {version} is not installed here")
    pytest.fail(f"no venv for Python {version} at {python.parent.parent}: run ./scripts/test")


def _run_many(version: str, texts: list[str]) -> list[dict[str, object]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONPATH"] = str(ROOT / "server")
    completed = subprocess.run(
        [str(_venv_python(version)), "-c", PROBE],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, object]] = json.loads(completed.stdout)
    for result in results:
        assert result["version"] == [int(part) for part in version.split(".")]
    return results


_RESULTS: dict[tuple[str, str], dict[str, object]] = {}


def _all_texts() -> list[str]:
    texts = [_source(False), _source(True), _crlf_bom_source(), _broken_source()]
    texts.extend(_tricky_text(snippet) for snippet in TRICKY.values())
    return texts


def _run(version: str, text: str) -> dict[str, object]:
    """The probe's result for `text`; one subprocess per version lints every text of this module."""
    if (version, text) not in _RESULTS:
        texts = _all_texts()
        if text not in texts:
            texts.append(text)
        for each, result in zip(texts, _run_many(version, texts)):
            _RESULTS[(version, each)] = result
    return _RESULTS[(version, text)]


def _crlf_bom_source() -> str:
    return "\ufeff" + _source(False).replace("\n", "\r\n")


def _broken_source() -> str:
    return _source(False) + "\ndef broken(:\n    pass\n"


@pytest.mark.parametrize(
    ("version", "with_tstring"),
    [("3.9", False), ("3.10", False), ("3.12", True), ("3.13", True)],
)
def test_newer_syntax_is_analysed_on_older_interpreters(version: str, with_tstring: bool) -> None:
    text = _source(with_tstring)
    result = _run(version, text)
    assert result["parsed"], result["problem"]
    assert result["failures"] == []
    assert result["diagnostics"] == [_expected_atl101(text)]


@pytest.mark.parametrize("version", ["3.9", "3.10"])
def test_newer_syntax_with_crlf_and_bom_on_older_interpreters(version: str) -> None:
    text = _crlf_bom_source()
    result = _run(version, text)
    assert result["parsed"], result["problem"]
    assert result["diagnostics"] == [_expected_atl101(text)]


@pytest.mark.parametrize("version", ["3.9", "3.12"])
def test_a_real_syntax_error_is_still_one_diagnostic(version: str) -> None:
    text = _broken_source()
    result = _run(version, text)
    assert not result["parsed"]
    diagnostics = result["diagnostics"]
    assert isinstance(diagnostics, list) and len(diagnostics) == 1
    assert diagnostics[0][0] == "ATL001"


def _positions(text: str) -> list[list[object]]:
    return [
        [d.code, d.range.start.line, d.range.start.column, d.range.end.line, d.range.end.column]
        for d in lint(text, "tests/test_users.py").diagnostics
    ]


def test_running_interpreter() -> None:
    text = _source(with_tstring=True)
    assert isinstance(parse_python(text), ParsedSource)
    result = lint(text, "tests/test_users.py")
    assert not result.failures
    assert [
        [d.code, d.range.start.line, d.range.start.column, d.range.end.line, d.range.end.column]
        for d in result.diagnostics
    ] == [_expected_atl101(text)]


TRICKY = {
    "fstring-break-before-closing-brace": 'x = f"{1\n}"\n',
    "fstring-comment": 'x = f"{1 # a comment\n}"\n',
    "fstring-concatenated": 'x = ("a" f"{"b"}" "c")\n',
    "fstring-nested": 'x = f"{f"{f"{1}"}"}"\n',
    "fstring-triple-quoted": 'x = f"""{"a"}\nline\n"""\n',
    "type-params-multiline": "def f[\n    T: int,\n    U,\n](x: T) -> T:\n    return x\n",
    "type-params-blank-line": "def f[\n\n    T,\n](x: T) -> T:\n    return x\n",
    "class-type-params-blank-line": "class A[\n\n    T]:\n    pass\nclass B[T\r\n\r\n](A): pass\n",
    "alias-type-params-blank-line": "type Pair[\n\n    T,\n] = tuple[T, T]\n",
    "match-parenthesised": (
        "match (\n    x\n):\n    case (\n        1\n        | 2\n    ):\n        pass\n"
    ),
    "case-guard-parenthesised": (
        "match x:\n    case P(a=0) if (\n        a\n    ):  # comment: with colon\n        pass\n"
    ),
    "except-star-tuple": "try:\n    pass\nexcept *(ValueError, TypeError) as eg:\n    pass\n",
    "soft-keywords-as-names": "match = 1\ncase = 2\ntype = 3\n",
}


def _tricky_text(snippet: str) -> str:
    return (
        "import asyncio\nimport unittest\n"
        + snippet
        + TEST_CLASS
        + "\n\nasync def fetch_user(n):\n    return n\n"
    )


@pytest.mark.parametrize("version", ["3.9", "3.10", "running"])
def test_tricky_newer_syntax_keeps_positions(version: str) -> None:
    """Each construct, blanked on an older interpreter, leaves every later position in place."""
    texts = {name: _tricky_text(snippet) for name, snippet in TRICKY.items()}
    if version == "running":
        found = {name: _positions(text) for name, text in texts.items()}
    else:
        found = {name: _run(version, text)["diagnostics"] for name, text in texts.items()}
    expected = {name: [_expected_atl101(text)] for name, text in texts.items()}
    assert found == expected
