"""The CLI and the language server never run the workspace's code, open sockets, or write files
except the fixes the user asked for and the CLI's documented cache.

The workspace is hostile: every module's top level deletes a marker file, writes a new file and
connects to a listener on 127.0.0.1 (test modules, `conftest.py`, a package `__init__.py`,
`setup.py`, a helper imported by the tests, and a `libcst.py` that would shadow the real library
if the workspace were ever on `sys.path`). The processes under test run with a `sitecustomize.py`
on PYTHONPATH that installs an audit hook (PEP 578) before anything else: it logs every socket
created for the network or connected, every file opened for writing, every removal or rename,
every source file compiled or code object executed, and every process started. After a session
the test checks the markers, the listener and the log.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "async-test-lint"

AUDIT_HOOK = """
import os, sys

_log = open(os.environ["ATL_AUDIT_LOG"], "a", buffering=1, encoding="utf-8")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_NETWORK = {2, 10}  # AF_INET, AF_INET6 (asyncio's self-pipe is an AF_UNIX socketpair)
_CHANGES = {"os.remove", "os.rename", "os.rmdir", "os.truncate", "shutil.rmtree", "os.link",
            "os.symlink", "os.chmod", "os.mkdir"}
_PROCESSES = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
              "os.fork", "os.forkpty", "pty.spawn"}


def _record(kind, *values):
    _log.write(repr((kind,) + tuple(str(v) for v in values)) + "\\n")


def _hook(event, args):
    if event == "open":
        path, mode, flags = args
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        ):
            _record("write", path)
    elif event in _CHANGES:
        _record("change", event, *args[:2])
    elif event == "socket.__new__" and args[1] in _NETWORK:
        _record("socket", event, args[1])
    elif event in ("socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
                   "socket.gethostbyname", "urllib.Request"):
        _record("socket", event, args[1] if len(args) > 1 else args[0])
    elif event == "compile":
        _record("compile", args[1])
    elif event == "exec":
        _record("exec", getattr(args[0], "co_filename", args[0]))
    elif event in _PROCESSES:
        _record("process", event, args[0])


sys.addaudithook(_hook)
"""

EVIL = """\
import pathlib
import socket

pathlib.Path({marker!r}).unlink()
pathlib.Path({created!r}).write_text("ran")
socket.create_connection(("127.0.0.1", {port}), timeout=1)
"""

TEST_MODULE = """\
import asyncio
import unittest

from .helpers import fetch_user


class UserTest(unittest.TestCase):
    def test_fetch(self):
        user = asyncio.run(fetch_user(1))
        self.assertEqual(user, 1)
"""

HELPERS = """\
async def fetch_user(user_id):
    return user_id
"""


class Workspace:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.marker = root / "marker.txt"
        self.created = root / "created-by-workspace-code.txt"
        evil = EVIL.format(marker=str(self.marker), created=str(self.created), port=port)
        files = {
            "pyproject.toml": "[tool.async-test-lint]\n",
            "setup.py": evil,
            "conftest.py": evil,
            "libcst.py": evil,
            "tests/__init__.py": evil,
            "tests/conftest.py": evil,
            "tests/helpers.py": evil + "\n\n" + HELPERS,
            "tests/test_user.py": evil + "\n" + TEST_MODULE,
        }
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        self.marker.write_text("intact", encoding="utf-8")
        self.before = self.files()

    def files(self) -> dict[str, bytes]:
        return {
            str(path.relative_to(self.root)): path.read_bytes()
            for path in sorted(self.root.rglob("*"))
            if path.is_file()
        }

    def new_files(self) -> list[str]:
        return sorted(set(self.files()) - set(self.before))

    def changed_files(self) -> list[str]:
        after = self.files()
        return sorted(name for name, data in self.before.items() if after.get(name) != data)


class Audit:
    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        (folder / "sitecustomize.py").write_text(AUDIT_HOOK, encoding="utf-8")
        self.folder = folder
        self.log = folder / "audit.log"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(self.folder), str(ROOT / "server")]),
            "ATL_AUDIT_LOG": str(self.log),
            "ASYNC_TEST_LINT_LOG_LEVEL": "WARNING",
        }

    def events(self) -> list[tuple[str, ...]]:
        if not self.log.exists():
            return []
        import ast

        return [ast.literal_eval(line) for line in self.log.read_text().splitlines()]

    def inside(self, kind: str, folder: Path) -> list[tuple[str, ...]]:
        return [
            event
            for event in self.events()
            if event[0] == kind and any(str(folder) in value for value in event[1:])
        ]

    def touched(self, folder: Path) -> set[str]:
        """Paths under `folder` opened for writing, created, renamed, removed or chmod-ed."""
        prefix = str(folder) + os.sep
        return {
            value[len(prefix) :]
            for event in self.events()
            if event[0] in ("write", "change")
            for value in event[1:]
            if value.startswith(prefix)
        }


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture
def setting(tmp_path: Path, listener: socket.socket) -> tuple[Workspace, Audit]:
    root = tmp_path / "workspace"
    root.mkdir()
    return Workspace(root, listener.getsockname()[1]), Audit(tmp_path / "audit")


def assert_nothing_ran(workspace: Workspace, audit: Audit, listener: socket.socket) -> None:
    assert audit.log.exists(), "the audit hook did not load"
    assert workspace.marker.read_text(encoding="utf-8") == "intact"
    assert not workspace.created.exists()
    with pytest.raises(BlockingIOError):
        listener.accept()
    assert [e for e in audit.events() if e[0] == "socket"] == []
    assert [e for e in audit.events() if e[0] == "process"] == []
    assert audit.inside("compile", workspace.root) == []
    assert audit.inside("exec", workspace.root) == []


async def _diagnostics(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    for _ in range(1000):
        if client.diagnostics.get(uri):
            return list(client.diagnostics[uri])
        await asyncio.sleep(0.01)
    raise AssertionError("no diagnostics")


def run_cli(workspace: Workspace, audit: Audit, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), *args],
        cwd=workspace.root,
        env=audit.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_check_runs_nothing_and_writes_only_its_cache(
    setting: tuple[Workspace, Audit], listener: socket.socket
) -> None:
    workspace, audit = setting
    result = run_cli(workspace, audit, "check", "--output-format", "json")
    assert result.returncode == 1, result.stderr
    assert {d["code"] for d in json.loads(result.stdout)} == {"ATL101"}
    assert_nothing_ran(workspace, audit, listener)
    assert workspace.changed_files() == []
    cache = ".async-test-lint-cache"
    assert workspace.new_files() and all(name.startswith(cache) for name in workspace.new_files())
    touched = audit.touched(workspace.root)
    assert touched and all(path.startswith(cache) for path in touched), touched


def test_cli_fix_writes_only_the_fixed_file(
    setting: tuple[Workspace, Audit], listener: socket.socket
) -> None:
    workspace, audit = setting
    result = run_cli(workspace, audit, "check", "--fix", "--unsafe-fixes", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_nothing_ran(workspace, audit, listener)
    assert workspace.changed_files() == ["tests/test_user.py"]
    assert workspace.new_files() == []
    # write_atomic: a temporary file next to the original, then os.replace.
    touched = audit.touched(workspace.root)
    assert "tests/test_user.py" in touched
    assert all(path.startswith("tests/.test_user.py.") for path in touched - {"tests/test_user.py"})


def test_cli_python_m_from_the_workspace_is_isolated_with_p(
    setting: tuple[Workspace, Audit], listener: socket.socket
) -> None:
    """`python -m` puts the current folder on sys.path (Python's rule): `-P` keeps it off."""
    if sys.version_info < (3, 11):
        pytest.skip("-P is Python 3.11+")
    workspace, audit = setting
    result = subprocess.run(
        [sys.executable, "-P", "-m", "async_test_lint", "check", "--fix", "--unsafe-fixes"],
        cwd=workspace.root,
        env=audit.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert_nothing_ran(workspace, audit, listener)
    assert workspace.changed_files() == ["tests/test_user.py"]


@pytest.mark.asyncio
async def test_server_session_runs_nothing_and_writes_nothing(
    setting: tuple[Workspace, Audit], listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace, audit = setting
    monkeypatch.chdir(workspace.root)
    config = ClientServerConfig(server_command=[str(COMMAND), "serve"], server_env=audit.env())
    client: Any = await config.start()
    assert isinstance(client, LanguageClient)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            process_id=os.getpid(),
            root_uri=workspace.root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.root.as_uri(), name="ws")],
        )
    )
    path = workspace.root / "tests" / "test_user.py"
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "python", 1, path.read_text(encoding="utf-8"))
        )
    )
    (found,) = await _diagnostics(client, uri)
    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri=uri), found.range.start)
    )
    assert hover is not None
    for kinds in (None, [types.CodeActionKind.SourceFixAll]):
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=found.range,
                context=types.CodeActionContext(diagnostics=[found], only=kinds),
            )
        )
        assert actions or kinds, "quick fixes (fix-all: only when a safe fix exists)"
        for action in actions:
            if isinstance(action, types.CodeAction) and action.edit is None:
                await client.code_action_resolve_async(action)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=(workspace.root / name).as_uri(), type=kind)
                for name, kind in [
                    ("tests/helpers.py", types.FileChangeType.Changed),
                    ("pyproject.toml", types.FileChangeType.Changed),
                    ("conftest.py", types.FileChangeType.Created),
                ]
            ]
        )
    )
    await asyncio.sleep(1.5)  # the index and the re-lints the events start
    await client.shutdown_session()
    assert_nothing_ran(workspace, audit, listener)
    assert workspace.changed_files() == [] and workspace.new_files() == []
    assert audit.touched(workspace.root) == set()


def test_the_audit_hook_sees_what_it_must(
    setting: tuple[Workspace, Audit], listener: socket.socket, tmp_path: Path
) -> None:
    """The mechanism itself: running a workspace module is caught by every check above."""
    workspace, audit = setting
    shutil.copy(workspace.root / "setup.py", tmp_path / "evil.py")
    completed = subprocess.run(
        [sys.executable, str(tmp_path / "evil.py")], env=audit.env(), timeout=60
    )
    assert completed.returncode == 0
    assert not workspace.marker.exists() and workspace.created.exists()
    connection, _ = listener.accept()
    connection.close()
    kinds = {event[0] for event in audit.events()}
    assert {"socket", "write", "change", "compile"} <= kinds, kinds
