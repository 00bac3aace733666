"""The pre-commit hooks of `.pre-commit-hooks.yaml`, run by the real `pre-commit` (a dev extra).

pre-commit installs hooks from a git repository at a revision, so the test first makes one: a
fresh repository holding this working tree's package files (`hook_repo`), committed with fixed
names and dates, so the same files give the same revision and pre-commit's environment for it (in
`.cache/pre-commit`, kept between runs and by CI on the same machine) is reused. pre-commit
pip-installs the package and its dependencies from PyPI into that environment (pip's cache:
`.cache/pip`). Then a scratch project with a broken test module runs the check hook (fails, names
the file) and the fix hook (writes the safe fix, leaves the unsafe one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
#: what a build of the package reads (with server/): hooks, metadata, readme, licence.
PACKAGE_FILES = (".pre-commit-hooks.yaml", "pyproject.toml", "README.md", "LICENSE")
FIXED_IDENTITY = {
    "GIT_AUTHOR_NAME": "async-test-lint tests",
    "GIT_AUTHOR_EMAIL": "tests@async-test-lint.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "async-test-lint tests",
    "GIT_COMMITTER_EMAIL": "tests@async-test-lint.invalid",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
}

BROKEN = """\
import asyncio
import time
import unittest


async def fetch_user(user_id):
    await asyncio.sleep(0)
    return {"id": user_id}


class UserTest(unittest.TestCase):
    def test_fetch(self):
        user = asyncio.run(fetch_user(1))
        self.assertEqual(user["id"], 1)


async def test_pause():
    time.sleep(0.1)
"""

CLEAN = """\
import unittest


class MathTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(1 + 1, 2)
"""

PYPROJECT = """\
[project]
name = "scratch"
requires-python = ">=3.9"

[tool.async-test-lint]
exclude = ["tests/fixtures"]
"""


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **FIXED_IDENTITY}
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def hook_repo(dest: Path) -> str:
    """A one-commit repository of the package as it is in this working tree; its revision."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in PACKAGE_FILES:
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(
        ROOT / "server",
        dest / "server",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "async-test-lint as in the working tree")
    return git(dest, "rev-parse", "HEAD")


def pre_commit_home(revision: str) -> Path:
    """`.cache/pre-commit`, emptied when it holds environments of another revision (each one is a
    virtualenv with libcst: they would pile up as the code changes)."""
    home = CACHE / "pre-commit"
    stamp = CACHE / "pre-commit.rev"
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != revision:
        shutil.rmtree(home, ignore_errors=True)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(revision, encoding="utf-8")
    return home


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A git repository using both hooks of this project, and the environment to run pre-commit."""
    if not PRE_COMMIT.exists():
        pytest.fail(f"{PRE_COMMIT} is missing: install the dev extras (./scripts/test does)")
    repo = CACHE / "pre-commit-hook-repo"
    revision = hook_repo(repo)
    project = tmp_path_factory.mktemp("scratch")
    config = {
        "repos": [
            {
                "repo": str(repo),
                "rev": revision,
                "hooks": [{"id": "async-test-lint"}, {"id": "async-test-lint-fix"}],
            }
        ]
    }
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (project / "tests").mkdir()
    (project / "tests" / "test_user.py").write_text(BROKEN, encoding="utf-8")
    (project / "tests" / "test_math.py").write_text(CLEAN, encoding="utf-8")
    git(project, "init", "-q")
    git(project, "add", "-A")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(pre_commit_home(revision)),
        "PIP_CACHE_DIR": str(CACHE / "pip"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "NO_COLOR": "1",
    }
    env.pop("PYTHONPATH", None)  # the hook must run the package pre-commit installed
    return project, env


def pre_commit(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PRE_COMMIT), "run", "--color", "never", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_hooks_file_declares_check_and_fix() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / PACKAGE_FILES[0]).read_text())}
    assert hooks["async-test-lint"]["entry"].split()[:2] == ["async-test-lint", "check"]
    assert "--fix" not in hooks["async-test-lint"]["entry"]
    assert "--fix" in hooks["async-test-lint-fix"]["entry"].split()
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["types"] == ["python"]
        assert hook["require_serial"] is True


def test_check_hook_fails_and_names_the_file(scratch: tuple[Path, dict[str, str]]) -> None:
    project, env = scratch
    result = pre_commit(project, env, "async-test-lint", "--all-files")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "async-test-lint" in output and "Failed" in output
    assert "tests/test_user.py:13:16: ATL101" in output
    assert "tests/test_user.py:18:5: ATL303" in output
    assert "test_math.py" not in output
    clean = pre_commit(project, env, "async-test-lint", "--files", "tests/test_math.py")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout


def test_fix_hook_writes_the_safe_fixes(scratch: tuple[Path, dict[str, str]]) -> None:
    project, env = scratch
    module = project / "tests" / "test_user.py"
    result = pre_commit(project, env, "async-test-lint-fix", "--files", "tests/test_user.py")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # the file changed, and ATL101 (unsafe fix) remains
    assert "files were modified by this hook" in output
    fixed = module.read_text(encoding="utf-8")
    assert "    await asyncio.sleep(0.1)\n" in fixed and "time.sleep" not in fixed
    assert "asyncio.run(fetch_user(1))" in fixed  # unsafe: not applied without --unsafe-fixes
    assert "tests/test_user.py:13:16: ATL101" in output
    assert "ATL303" not in output  # fixed, so no longer reported
    again = pre_commit(project, env, "async-test-lint-fix", "--files", "tests/test_user.py")
    assert "files were modified by this hook" not in again.stdout + again.stderr
    assert module.read_text(encoding="utf-8") == fixed
