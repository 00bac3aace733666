"""The VS Code extension's server payload, run the way the extension runs it.

`bundled/tool/serve.py` with `bundled/libs/` (built by `scripts/package-vsix --payload-only`) is
started as `python -I -S -B serve.py`, like the client does, and must answer a real LSP session:
- from a venv whose own pygls (1.x), attrs (21.1.0) and a `.pth` file hiding `attrs` would break a
  server that used that environment, with a PYTHONPATH that would break it too;
- with every pyenv interpreter 3.9-3.13 on this machine;
- and with old interpreters (3.6-3.8) it must exit with code 3 and say why.

The payload and the venv come from `scripts/setup-vscode --python` (idempotent; `scripts/test`
runs it). When they cannot be built the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = ROOT / "bundled" / "tool" / "serve.py"
LIBS = ROOT / "bundled" / "libs"
OLD_DEPS_PYTHON = ROOT / ".cache" / "vsix-tests" / "old-deps" / "bin" / "python"
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
UNDER_CI = os.environ.get("CI", "").lower() == "true"

EXIT_PYTHON_TOO_OLD = 3
EXIT_NO_BUNDLED_LIBS = 4
EXIT_NOT_INSTALLED = 5

BROKEN = """\
import asyncio
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def test_fetch(self):
        fetch_user(2)
"""


def unavailable(reason: str) -> None:
    if UNDER_CI:
        pytest.fail(f"{reason} (CI=true: the VS Code payload must be testable)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def payload() -> Path:
    """bundled/libs and the old-deps venv, built (or found up to date) by the project's script."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "setup-vscode"), "--python"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        unavailable(f"scripts/setup-vscode --python failed:\n{result.stderr[-3000:]}")
    return LIBS


def pyenv_python(version: str) -> Path | None:
    found = sorted(PYENV_ROOT.glob(f"versions/{version}.*/bin/python{version}"))
    return found[-1] if found else None


def launcher_command(python: Path | str, *options: str) -> list[str]:
    return [str(python), "-I", "-S", "-B", str(LAUNCHER), *options]


@contextlib.asynccontextmanager
async def serving(
    command: Sequence[str], env: dict[str, str] | None = None
) -> AsyncIterator[LanguageClient]:
    """A client connected to the server started by `command`; the server is always stopped."""
    client = await ClientServerConfig(server_command=list(command), server_env=env).start()
    assert isinstance(client, LanguageClient)
    try:
        yield client
    finally:
        if client.capabilities is not None and not getattr(client, "shut_down", False):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.shutdown_session(), 10)
        await asyncio.wait_for(client.stop(), 10)


async def published_diagnostics(
    client: LanguageClient, uri: str, timeout: float = 20.0
) -> Sequence[types.Diagnostic]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not client.diagnostics.get(uri):
        if loop.time() > deadline:
            raise AssertionError(f"no diagnostics for {uri} within {timeout} s")
        await asyncio.sleep(0.02)
    return client.diagnostics[uri]


async def lint_round_trip(client: LanguageClient, folder: Path) -> None:
    """initialize, the diagnostic of a broken test, its fix through fix-all, hover, shutdown."""
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"asyncTestLint": {"select": ["ALL"], "enable": True}},
            workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
        )
    )
    assert result.server_info is not None
    assert result.server_info.name == "async-test-lint"
    uri = (folder / "test_user.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=BROKEN
            )
        )
    )
    diagnostics = await published_diagnostics(client, uri)
    assert [item.code for item in diagnostics] == ["ATL301"]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(0, 0), end=types.Position(12, 0)),
            context=types.CodeActionContext(
                diagnostics=list(diagnostics),
                only=["source.fixAll.async-test-lint"],  # type: ignore[list-item]
            ),
        )
    )
    assert actions is not None and len(actions) == 1
    fix_all = actions[0]
    assert isinstance(fix_all, types.CodeAction)
    if fix_all.edit is None:
        fix_all = await client.code_action_resolve_async(fix_all)
    assert fix_all.edit is not None and fix_all.edit.document_changes is not None
    [document_edit] = fix_all.edit.document_changes
    assert isinstance(document_edit, types.TextDocumentEdit)
    assert [(edit.range.start, edit.new_text) for edit in document_edit.edits] == [
        (types.Position(11, 8), "await ")
    ]
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=diagnostics[0].range.start,
        )
    )
    assert hover is not None
    await client.shutdown_session()
    client.shut_down = True  # type: ignore[attr-defined]


def old_deps_python(payload: Path) -> Path:
    if not OLD_DEPS_PYTHON.exists():
        unavailable(f"{OLD_DEPS_PYTHON} is missing (run scripts/setup-vscode)")
    return OLD_DEPS_PYTHON


def test_the_old_deps_venv_really_breaks_a_server_that_uses_it(payload: Path) -> None:
    """Guards the next test: its environment has pygls 1.x, attrs 21.1.0 and a .pth file that
    hides `attrs` from every program that runs `site`."""
    python = old_deps_python(payload)
    probe = "import importlib.metadata as m; print(m.version('pygls'), m.version('attrs'))"
    versions = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    assert versions.stdout.split() == ["1.3.1", "21.1.0"]
    for code in ("import attrs", "import pygls.server"):
        result = subprocess.run([python, "-c", code], capture_output=True, check=False)
        assert result.returncode != 0, code


@pytest.mark.asyncio
async def test_server_ignores_the_environments_old_pygls_and_attrs(
    payload: Path, tmp_path: Path
) -> None:
    python = old_deps_python(payload)
    # PYTHONPATH pointing at a package that explodes on import: -I must keep it out too.
    poisoned = tmp_path / "poisoned"
    (poisoned / "pygls").mkdir(parents=True)
    (poisoned / "pygls" / "__init__.py").write_text("raise ImportError('user pygls imported')\n")
    env = {**os.environ, "PYTHONPATH": str(poisoned)}
    async with serving(launcher_command(python), env) as client:
        await lint_round_trip(client, tmp_path)


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.11", "3.12", "3.13"])
@pytest.mark.asyncio
async def test_launcher_serves_with_each_interpreter(
    payload: Path, tmp_path: Path, version: str
) -> None:
    python = pyenv_python(version)
    if python is None:
        unavailable(f"no pyenv Python {version} on this machine")
    async with serving(launcher_command(python)) as client:
        await lint_round_trip(client, tmp_path)


@pytest.mark.parametrize("version", ["3.6", "3.7", "3.8"])
def test_old_interpreters_get_a_clear_message_and_exit_code(payload: Path, version: str) -> None:
    python = pyenv_python(version)
    if python is None:
        pytest.skip(f"no pyenv Python {version} on this machine")
    result = subprocess.run(
        launcher_command(python), capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert result.returncode == EXIT_PYTHON_TOO_OLD
    assert f"is Python {version}." in result.stderr
    assert "needs Python 3.9 or newer" in result.stderr
    assert result.stdout == ""


def test_an_interpreter_without_bundled_libraries_is_named(payload: Path, tmp_path: Path) -> None:
    """A copy of the launcher whose manifest lists no library for this interpreter."""
    tool = tmp_path / "tool"
    tool.mkdir()
    (tool / "serve.py").write_text(LAUNCHER.read_text())
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "manifest.json").write_text(
        '{"platform": "linux-x64", "glibc": "2.28", "interpreters": ["cp399"]}'
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", str(tool / "serve.py")],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == EXIT_NO_BUNDLED_LIBS
    version = ".".join(map(str, sys.version_info[:3]))
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert f"(Python {version}, {tag}) has no bundled libraries; they exist for cp399" in (
        result.stderr
    )


def test_from_environment_without_the_package_says_how_to_install_it(payload: Path) -> None:
    python = old_deps_python(payload)
    result = subprocess.run(
        launcher_command(python, "--import-strategy", "fromEnvironment"),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == EXIT_NOT_INSTALLED
    assert "-m pip install async-test-lint" in result.stderr


@pytest.mark.asyncio
async def test_from_environment_runs_the_environments_server(payload: Path, tmp_path: Path) -> None:
    """The dev venv has async-test-lint installed: fromEnvironment serves from it."""
    async with serving(
        launcher_command(sys.executable, "--import-strategy", "fromEnvironment")
    ) as client:
        await lint_round_trip(client, tmp_path)
