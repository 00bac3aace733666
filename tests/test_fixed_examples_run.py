"""Proof by running: every runnable invalid example's fixed module passes on every Python found.

For each rule example marked `Invalid(..., runnable=True)`, the fixed text (checked exactly against
`engine.fix` by tests/test_rule_examples.py) is written with the example's `files` into a scratch
project and run once per interpreter, in one subprocess per (interpreter, module), as a user would:
`python -W default` from the project root, with every `PYTHON*` variable of the environment removed
(no `PYTHONASYNCIODEBUG`, `PYTHONWARNINGS`, `PYTHONDEVMODE`, `PYTHONPATH`: the module is found from
the working directory, as `python -m unittest` finds it). `-X dev` is deliberately not used: it puts
every loop (also a class-level `asyncio.run`) in debug mode and changes what a real run does;
`IsolatedAsyncioTestCase` runs its own loops in debug mode anyway, so its slow-callback log is seen.

The subprocess loads the module with unittest's own loader (what `python -m unittest module` does),
runs it with a verbose `TextTestRunner`, and reports which test methods' bodies actually started (a
profile hook records the code objects entered; decorators are unwrapped with `inspect.unwrap`).
Each run must show:
- every test found ran (`Ran N tests` equals the number of test methods the loader found, N > 0),
  none skipped, and every test body was entered (an `async def test` on a plain `TestCase` "passes"
  without its body running: that is a failure here);
- all tests passed;
- no `coroutine ... was never awaited`, no `ResourceWarning`, no `Task was destroyed but it is
  pending`, no asyncio debug "Executing ... took N seconds" (slow callback) log.

Interpreters: the running one, and `.cache/pyvenvs/X.Y` (made by scripts/test, with pytest, which
some fixed modules import) or else the pyenv/PATH interpreter of X.Y, for 3.9-3.14. A missing
3.9-3.13 skips locally and fails under CI; 3.14 is used when present. An example whose
`target_version` is newer than an interpreter is skipped there, and the test id says so
(`...-py3.9-below-target-3.11`).

A run that logs a slow callback is run once more, alone, and judged on that second run, where a
logged step of 0.5 s or more fails the test and a shorter one is only a warning: asyncio's 0.1 s
threshold is crossed by an ordinary test step on a loaded 2-core machine (measured 0.2-0.4 s at a
load average of 14 with the tracing hook on, 0.07 s for the same step alone without it), while a
blocking call in a test (the shape ATL303 reports: `time.sleep(1)`) logs its full length every time.

The runs are started together, in a small thread pool, the first time a test of this file needs a
result (only the selected cases run, so `-k` stays cheap).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from async_test_lint.rules import Invalid, Rule, all_rules

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".cache" / "pyvenvs"
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
OPTIONAL = frozenset({"3.14"})
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TIMEOUT = 120

RUNNER = r"""
import inspect, json, sys, threading, unittest

def flatten(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from flatten(test)
        else:
            yield test

module = sys.argv[1]
suite = unittest.defaultTestLoader.loadTestsFromName(module)
tests = list(flatten(suite))
wanted = {}
for test in tests:
    method = getattr(type(test), getattr(test, "_testMethodName", ""), None)
    function = inspect.unwrap(method) if method is not None else None
    code = getattr(function, "__code__", None)
    if code is not None:
        wanted[code] = test.id()
entered = set()

def trace(frame, event, arg):
    code = frame.f_code
    if code in wanted:
        entered.add(wanted[code])
    return None

threading.settrace(trace)
sys.settrace(trace)
result = unittest.TextTestRunner(verbosity=2).run(suite)
sys.settrace(None)
threading.settrace(None)
report = {
    "found": len(tests),
    "ran": result.testsRun,
    "skipped": len(result.skipped),
    "not_entered": sorted(set(wanted.values()) - entered),
    "ok": result.wasSuccessful(),
}
print("ATL-RUN-REPORT " + json.dumps(report), file=sys.stderr)
sys.exit(0 if result.wasSuccessful() else 1)
"""

SLOW_CALLBACK = re.compile(r"Executing .* took (\d+(?:\.\d+)?) seconds")
#: A logged step this long is a blocking call (a `time.sleep`, a sync socket), not machine load.
BLOCKING_SECONDS = 0.5
PROBLEMS = {
    "never awaited": re.compile(r"coroutine .* was never awaited"),
    "ResourceWarning": re.compile(r"ResourceWarning"),
    "pending task destroyed": re.compile(r"Task was destroyed but it is pending"),
}


def _slow_steps(output: str) -> list[float]:
    return [float(match.group(1)) for match in SLOW_CALLBACK.finditer(output)]


@dataclass(frozen=True)
class Case:
    rule: str
    number: int
    example: Invalid
    version: str

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.rule, self.number, self.version)


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    seconds: float
    report: dict[str, object] | None


def _interpreter(version: str) -> str | None:
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    venv = VENVS / version / "bin" / "python"
    if venv.exists():
        return str(venv)
    found = sorted(
        glob.glob(str(PYENV_ROOT / "versions" / f"{version}.*" / "bin" / f"python{version}"))
    )
    if found:
        return found[-1]
    return shutil.which(f"python{version}")


def _runnable_examples() -> Iterator[tuple[type[Rule], int, Invalid]]:
    for rule in all_rules():
        for number, example in enumerate(rule.invalid, start=1):
            if example.runnable:
                yield rule, number, example


def _cases() -> list[object]:
    params = []
    for rule, number, example in _runnable_examples():
        for version in VERSIONS:
            case = Case(rule.code, number, example, version)
            name = f"{rule.code}-invalid-{number}-py{version}"
            target = example.target_version
            version_tuple = tuple(int(part) for part in version.split("."))
            marks: list[pytest.MarkDecorator] = []
            if target is not None and version_tuple < target:
                name += f"-below-target-{target[0]}.{target[1]}"
                marks.append(pytest.mark.skip(reason=f"the example targets {target} and later"))
            elif _interpreter(version) is None:
                name += "-interpreter-absent"
                if not IN_CI or version in OPTIONAL:
                    marks.append(pytest.mark.skip(reason=f"Python {version} is not installed here"))
            params.append(pytest.param(case, id=name, marks=marks))
    return params


def _write_project(directory: Path, example: Invalid) -> str:
    assert example.fixed is not None, "a runnable example needs its fixed form"
    for relative, text in {**example.files, example.path: example.fixed}.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return Path(example.path).with_suffix("").as_posix().replace("/", ".")


def _run(case: Case) -> Run:
    python = _interpreter(case.version)
    if python is None:
        return Run(1, f"Python {case.version} is absent under CI: run ./scripts/test", 0.0, None)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    with tempfile.TemporaryDirectory(prefix="atl-fixed-run-") as scratch:
        module = _write_project(Path(scratch), case.example)
        started = time.perf_counter()
        completed = subprocess.run(
            [python, "-W", "default", "-c", RUNNER, module],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        seconds = time.perf_counter() - started
    output = completed.stdout + completed.stderr
    found = re.search(r"^ATL-RUN-REPORT (.*)$", output, re.MULTILINE)
    report = json.loads(found.group(1)) if found else None
    return Run(completed.returncode, output, seconds, report)


def _rerun(case: Case, first: Run) -> Run:
    again = _run(case)
    note = "(first run, in parallel, logged a slow callback; this is the second, alone)\n"
    return Run(again.returncode, note + again.output, first.seconds + again.seconds, again.report)


_RESULTS: dict[tuple[str, int, str], Run] = {}


@pytest.fixture
def run_of(request: pytest.FixtureRequest) -> Run:
    """The run of this test's case; the first call runs every selected case of this file."""
    case: Case = request.node.callspec.params["case"]
    if case.key not in _RESULTS:
        selected = [
            item.callspec.params["case"]
            for item in request.session.items
            if item.module is request.module
            and hasattr(item, "callspec")
            and not item.get_closest_marker("skip")
            and item.callspec.params["case"].key not in _RESULTS
        ]
        if case not in selected:
            selected.append(case)
        workers = max(1, min(4, os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for each, run in zip(selected, pool.map(_run, selected)):
                _RESULTS[each.key] = run
        for each in selected:  # a slow callback on a loaded machine: run it again, alone
            if SLOW_CALLBACK.search(_RESULTS[each.key].output):
                _RESULTS[each.key] = _rerun(each, _RESULTS[each.key])
    return _RESULTS[case.key]


@pytest.mark.parametrize("case", _cases())
def test_fixed_example_runs_green(case: Case, run_of: Run) -> None:
    header = f"{case.rule} invalid example {case.number} on Python {case.version}:\n"
    output = header + run_of.output
    assert run_of.report is not None, output
    report = run_of.report
    assert report["found"] and report["ran"] == report["found"], output
    assert report["skipped"] == 0, output
    assert report["not_entered"] == [], output
    assert report["ok"] and run_of.returncode == 0, output
    problems = [name for name, pattern in PROBLEMS.items() if pattern.search(run_of.output)]
    blocking = [seconds for seconds in _slow_steps(run_of.output) if seconds >= BLOCKING_SECONDS]
    if blocking:
        problems.append(f"slow callback of {max(blocking)} s")
    assert problems == [], output
    if _slow_steps(run_of.output):
        warnings.warn(
            f"{header}slow callback logged (under {BLOCKING_SECONDS} s, twice): {run_of.output}",
            stacklevel=1,
        )


def test_runs_are_timed() -> None:
    """Not an assertion on time: prints the cost of the runs done in this session (-s shows it)."""
    if not _RESULTS:
        pytest.skip("no example ran in this session")
    total = sum(run.seconds for run in _RESULTS.values())
    print(f"\n{len(_RESULTS)} fixed-example runs, {total:.1f} s of subprocess time")
