"""The package as it would be published: `python -m build` makes an sdist and a wheel (the wheel
built from the sdist, so the sdist must hold what a build needs), the archives hold the package and
its metadata and no repository junk, and the wheel, installed (not editable) into a fresh venv with
its dependencies from PyPI (pip's cache: `.cache/pip`), runs `async-test-lint check`.

The build runs on a copy of the working tree's files (tracked and untracked, not ignored: what a
clean clone plus uncommitted work holds), so it writes nothing into the repository.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
from async_test_lint import __version__

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"
PACKAGE = "async_test_lint"
REPOSITORY = "https://github.com/async-test-lint/async-test-lint"

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


def pip_env() -> dict[str, str]:
    env = {**os.environ, "PIP_CACHE_DIR": str(CACHE / "pip"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    return env


def working_tree_files() -> list[str]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell the project's files from build products")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) of `python -m build` on a copy of the working tree."""
    work = tmp_path_factory.mktemp("package")
    source = work / "src"
    for name in working_tree_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(source)],
        capture_output=True,
        text=True,
        env=pip_env(),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [sdist] = (work / "dist").glob("*.tar.gz")
    [wheel] = (work / "dist").glob("*.whl")
    return sdist, wheel


def test_sdist_holds_what_a_build_needs_and_no_junk(dists: tuple[Path, Path]) -> None:
    sdist, _ = dists
    assert sdist.name == f"async_test_lint-{__version__}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    modules = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "server" / PACKAGE).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    required = {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO", f"server/{PACKAGE}/py.typed"}
    assert required | modules <= names
    junk = [
        name
        for name in names
        if name.startswith(("tests/", "bench/", "client/", "bundled/", "docs/", "examples/", "."))
        or "__pycache__" in name
        or name.endswith((".pyc", ".vsix", ".log"))
    ]
    assert junk == []


def _wheel_metadata(wheel: Path) -> tuple[set[str], email.message.Message]:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"async_test_lint-{__version__}.dist-info/METADATA")
    return names, email.parser.BytesParser().parsebytes(metadata)


def test_wheel_contents_and_metadata(dists: tuple[Path, Path]) -> None:
    _, wheel = dists
    assert wheel.name == f"async_test_lint-{__version__}-py3-none-any.whl"
    names, metadata = _wheel_metadata(wheel)
    dist_info = f"async_test_lint-{__version__}.dist-info"
    assert {f"{PACKAGE}/__init__.py", f"{PACKAGE}/py.typed", f"{PACKAGE}/lsp/server.py"} <= names
    assert f"{dist_info}/licenses/LICENSE" in names
    assert all(name.startswith((f"{PACKAGE}/", f"{dist_info}/")) for name in names), names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert metadata["Name"] == "async-test-lint" and metadata["Version"] == __version__
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.9"
    assert metadata.get_content_type() == "text/plain"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().lstrip().startswith("# async-test-lint")
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert urls["Repository"] == REPOSITORY and urls["Issues"] == f"{REPOSITORY}/issues"
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.9" in classifiers
    requires = metadata.get_all("Requires-Dist") or []
    runtime = [spec for spec in requires if "extra ==" not in spec]
    assert {spec.split(">")[0].split("<")[0] for spec in runtime} >= {"libcst", "pygls"}
    assert not any(tool in spec for spec in runtime for tool in ("pytest", "ruff", "mypy"))
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert "async-test-lint = async_test_lint.cli:main" in entry_points


def test_wheel_runs_check_from_a_clean_venv(dists: tuple[Path, Path], tmp_path: Path) -> None:
    _, wheel = dists
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        env=pip_env(),
        timeout=600,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    located = subprocess.run(
        [str(python), "-c", "import async_test_lint; print(async_test_lint.__file__)"],
        capture_output=True,
        text=True,
        env=pip_env(),
        cwd=tmp_path,
        check=True,
    ).stdout.strip()
    assert Path(located).is_relative_to(env_dir), located  # installed, not this checkout
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_user.py").write_text(BROKEN, encoding="utf-8")
    result = subprocess.run(
        [str(bin_dir / "async-test-lint"), "check"],
        cwd=project,
        capture_output=True,
        text=True,
        env=pip_env(),
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tests/test_user.py:12:16: ATL101 asyncio.run() inside test_fetch" in result.stdout
    assert "Found 1 problem" in result.stdout
    version = subprocess.run(
        [str(bin_dir / "async-test-lint"), "--version"], capture_output=True, text=True
    )
    assert version.stdout.strip() == f"async-test-lint {__version__}"
