"""Editor settings over pyproject.toml; changes to either re-lint the open documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import (
    BROKEN,
    capabilities,
    diagnostics_for,
    initialize,
    next_diagnostics,
    open_document,
    settle,
    until,
)

pytestmark = pytest.mark.asyncio


def pyproject(folder: Path, table: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(f"[tool.async-test-lint]\n{table}\n", encoding="utf-8")
    return path


async def test_initialization_options_ignore(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(
        client, caps=capabilities("neovim"), options={"ignore": ["ATL1"]}, folders=[tmp_path]
    )
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    assert list(await diagnostics_for(client, uri)) == []


async def test_enable_false(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(client, caps=capabilities("neovim"), options={"enable": False})
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    assert list(await diagnostics_for(client, uri)) == []


async def test_pyproject_applies_and_editor_settings_override(
    client: LanguageClient, tmp_path: Path
) -> None:
    pyproject(tmp_path, 'ignore = ["ATL101"]')
    client.set_configuration({"ignore": []}, section="asyncTestLint")
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    assert [d.code for d in await diagnostics_for(client, uri, 1)] == ["ATL101"]
    # The editor drops its override: pyproject's ignore applies again.
    previous = client.diagnostics[uri]
    client.set_configuration({}, section="asyncTestLint")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    assert list(await next_diagnostics(client, uri, previous)) == []


async def test_pyproject_change_relints(client: LanguageClient, tmp_path: Path) -> None:
    path = pyproject(tmp_path, "")
    await initialize(client, folders=[tmp_path])
    registrations = client.registrations  # type: ignore[attr-defined]
    await until(lambda: len(registrations) >= 2)
    watched = next(r for r in registrations if r.method == "workspace/didChangeWatchedFiles")
    assert "**/pyproject.toml" in str(watched.register_options)
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    previous = await diagnostics_for(client, uri, 1)
    pyproject(tmp_path, 'ignore = ["ATL101"]')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    assert list(await next_diagnostics(client, uri, previous)) == []


async def test_target_version_changes_the_fix(client: LanguageClient, tmp_path: Path) -> None:
    await initialize(
        client, caps=capabilities("neovim"), options={"targetVersion": "py37"}, folders=[tmp_path]
    )
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    found = list(await diagnostics_for(client, uri, 1))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=found[0].range,
            context=types.CodeActionContext(diagnostics=found),
        )
    )
    assert actions is not None
    fix = await client.code_action_resolve_async(actions[0])  # type: ignore[arg-type]
    assert "run_until_complete" in str(fix.edit)


async def test_invalid_settings_are_logged_not_shown(
    client: LanguageClient, tmp_path: Path
) -> None:
    client.set_configuration({"select": ["NOPE1"], "targetVersion": "py2"}, section="asyncTestLint")
    await initialize(client, folders=[tmp_path])
    uri = (tmp_path / "test_user.py").as_uri()
    open_document(client, uri, BROKEN)
    await diagnostics_for(client, uri, 1)
    await settle(0.2)
    assert client.messages == []
    logged = "\n".join(m.message for m in client.log_messages)
    assert "NOPE1" in logged and "py2" in logged
