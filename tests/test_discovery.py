"""File discovery: skipped folders, .gitignore semantics, exclude globs, explicit paths, links."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from async_test_lint.discovery import IgnoreFile, discover, gitignore_verdict, parse_gitignore_line


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")


def found(root: Path, paths: list[Path] | None = None, **kwargs: object) -> list[str]:
    files = discover(paths or [root], root=root, **kwargs)  # type: ignore[arg-type]
    return sorted(path.relative_to(root).as_posix() for path in files)


def test_only_python_files_and_skipped_folders(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "a.py", "b.pyi", "notes.txt", "pkg/__init__.py", "pkg/mod.py",
        ".git/hooks/x.py", ".venv/lib/y.py", "venv/z.py", ".tox/t.py", "node_modules/n.py",
        "build/b.py", "dist/d.py", "pkg/__pycache__/c.py", ".mypy_cache/m.py", "x.egg-info/e.py",
        "env3/pyvenv.cfg", "env3/lib/site.py",
    )  # fmt: skip
    assert found(tmp_path) == ["a.py", "pkg/__init__.py", "pkg/mod.py"]


def rule_matches(line: str, relative: str, is_dir: bool = False) -> bool | None:
    rule = parse_gitignore_line(line)
    assert rule is not None
    root = Path("/r")
    return gitignore_verdict([IgnoreFile(root, (rule,))], root / relative, is_dir)


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "ignored"),
    [
        ("*.py", "a/b/c.py", False, True),
        ("gen_*.py", "deep/gen_x.py", False, True),
        ("/top.py", "top.py", False, True),
        ("/top.py", "sub/top.py", False, None),
        ("a/b.py", "a/b.py", False, True),
        ("a/b.py", "x/a/b.py", False, None),
        ("out/", "out", True, True),
        ("out/", "out", False, None),
        ("**/gen/*.py", "x/y/gen/z.py", False, True),
        ("**/gen/*.py", "gen/z.py", False, True),
        ("a/**/z.py", "a/z.py", False, True),
        ("a/**/z.py", "a/b/c/z.py", False, True),
        ("a/**", "a/b/c.py", False, True),
        ("te?t_*.py", "test_x.py", False, True),
        ("test_[ab].py", "test_b.py", False, True),
        ("test_[!ab].py", "test_b.py", False, None),
        ("\\#hash.py", "#hash.py", False, True),
        ("!keep.py", "keep.py", False, False),
    ],
)
def test_gitignore_patterns(pattern: str, path: str, is_dir: bool, ignored: bool | None) -> None:
    assert rule_matches(pattern, path, is_dir) is ignored


def test_comments_and_blank_lines_are_not_rules() -> None:
    assert parse_gitignore_line("# comment") is None
    assert parse_gitignore_line("   ") is None


def test_gitignore_nested_negation_and_directories(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "keep.py", "gen_a.py", "gen_keep.py", "out/o.py", "sub/gen_b.py", "sub/local.py",
        "sub/inner/gen_c.py", "docs/conf.py",
    )  # fmt: skip
    (tmp_path / ".gitignore").write_text("gen_*.py\n!gen_keep.py\nout/\n/docs\n", encoding="utf-8")
    (tmp_path / "sub" / ".gitignore").write_text("local.py\n!gen_c.py\n", encoding="utf-8")
    assert found(tmp_path) == ["gen_keep.py", "keep.py", "sub/inner/gen_c.py"]
    assert "gen_a.py" in found(tmp_path, use_gitignore=False)


def test_root_gitignore_applies_when_walking_a_subfolder(tmp_path: Path) -> None:
    touch(tmp_path, "tests/test_a.py", "tests/generated/test_b.py")
    (tmp_path / ".gitignore").write_text("generated/\n", encoding="utf-8")
    assert found(tmp_path, [tmp_path / "tests"]) == ["tests/test_a.py"]


def test_exclude_globs(tmp_path: Path) -> None:
    touch(tmp_path, "tests/fixtures/f.py", "tests/test_a.py", "legacy_x.py", "src/legacy_y.py")
    assert found(tmp_path, exclude=["tests/fixtures", "legacy_*.py"]) == ["tests/test_a.py"]


def test_explicit_file_is_checked_even_when_ignored_unless_forced(tmp_path: Path) -> None:
    touch(tmp_path, "gen/x.py", "y.py", "script")
    (tmp_path / ".gitignore").write_text("gen/\n", encoding="utf-8")
    explicit = [tmp_path / "gen" / "x.py", tmp_path / "script"]
    assert found(tmp_path, explicit) == ["gen/x.py", "script"]
    assert found(tmp_path, explicit, force_exclude=True) == ["script"]
    assert found(tmp_path, [tmp_path / "y.py"], exclude=["y.py"]) == ["y.py"]
    assert found(tmp_path, [tmp_path / "y.py"], exclude=["y.py"], force_exclude=True) == []


def test_duplicates_are_reported_once(tmp_path: Path) -> None:
    touch(tmp_path, "a/b.py")
    assert found(tmp_path, [tmp_path, tmp_path / "a", tmp_path / "a" / "b.py"]) == ["a/b.py"]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_symlink_loops_are_not_followed(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/a.py", "elsewhere/real.py")
    os.symlink(tmp_path, tmp_path / "pkg" / "loop")
    os.symlink(tmp_path / "elsewhere" / "real.py", tmp_path / "pkg" / "linked.py")
    assert found(tmp_path, [tmp_path / "pkg"]) == ["pkg/a.py", "pkg/linked.py"]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs permissions")
def test_unreadable_folder_is_a_warning(tmp_path: Path) -> None:
    touch(tmp_path, "ok.py", "locked/x.py")
    locked = tmp_path / "locked"
    locked.chmod(0)
    warnings: list[str] = []
    try:
        assert found(tmp_path, warn=warnings.append) == ["ok.py"]
    finally:
        locked.chmod(0o755)
    assert len(warnings) == 1 and "locked" in warnings[0]


def test_missing_path_is_a_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    assert discover([tmp_path / "nope.py"], root=tmp_path, warn=warnings.append) == []
    assert "nope.py" in warnings[0]


def test_unreadable_folder_is_a_warning_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(tmp_path, "ok.py", "locked/x.py")
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if Path(str(path)).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    warnings: list[str] = []
    assert found(tmp_path, warn=warnings.append) == ["ok.py"]
    assert warnings == [f"cannot read folder {tmp_path / 'locked'}: Permission denied"]


def test_git_info_exclude_is_honoured_below_gitignore(tmp_path: Path) -> None:
    touch(tmp_path, "local_a.py", "local_keep.py", "b.py")
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("local_*.py\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("!local_keep.py\n", encoding="utf-8")
    assert found(tmp_path) == ["b.py", "local_keep.py"]
