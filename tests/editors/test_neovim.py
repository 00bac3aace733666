"""Real Neovim (headless, 0.7+ APIs): diagnostics, hover, a quick fix, the diagnostic goes away.

Skipped when `nvim` is missing, except on CI (CI=true), where a missing editor is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
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


def _nvim() -> str:
    found = shutil.which("nvim")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nvim is not installed (CI installs Debian's `neovim`)")
        pytest.skip("nvim is not installed")
    return found


def test_neovim_diagnostic_hover_quick_fix(tmp_path: Path) -> None:
    nvim = _nvim()
    target = tmp_path / "test_user.py"
    target.write_text(BROKEN, encoding="utf-8")
    result = tmp_path / "result.txt"
    env = {
        **os.environ,
        "ATL_PYTHON": sys.executable,
        "ATL_FILE": str(target),
        "ATL_RESULT": str(result),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    completed = subprocess.run(
        [
            nvim,
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-c",
            f"luafile {HERE / 'neovim_e2e.lua'}",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        check=False,
    )
    steps = (
        dict(
            line.split("=", 1)
            for line in result.read_text(encoding="utf-8").splitlines()
            if "=" in line
        )
        if result.exists()
        else {}
    )
    context = f"steps={steps}\nstderr={completed.stderr.decode(errors='replace')[-2000:]}"
    assert completed.returncode == 0, context
    assert steps["diagnostic_code"] == "ATL101", context
    assert steps["diagnostic_source"] == "async-test-lint", context
    assert (steps["diagnostic_line"], steps["diagnostic_col"]) == ("11", "15"), context
    assert steps["hover_mentions_rule"] == "true", context
    assert "(unsafe)" in steps["offered"], context
    assert steps["fix_applied"] == "true" and steps["diagnostics_cleared"] == "true", context
    saved = target.read_text(encoding="utf-8")
    assert "class UserTest(unittest.IsolatedAsyncioTestCase):" in saved
    assert "        user = await fetch_user(1)" in saved
