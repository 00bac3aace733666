"""`[tool.async-test-lint]`: which pyproject.toml, which keys, and errors that name key and file."""

from __future__ import annotations

from pathlib import Path

import pytest
from async_test_lint.config import (
    ConfigError,
    find_pyproject,
    load_pyproject,
    load_settings,
    parse_target_version,
    settings_from_table,
    target_from_requires_python,
)
from async_test_lint.model import DEFAULT_TARGET


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_nearest_file_with_our_table_wins_over_a_nearer_project_file(tmp_path: Path) -> None:
    outer = write(tmp_path / "pyproject.toml", '[tool.async-test-lint]\nignore = ["ATL101"]\n')
    write(tmp_path / "pkg" / "pyproject.toml", '[project]\nname = "pkg"\n')
    (tmp_path / "pkg" / "tests").mkdir()
    assert find_pyproject(tmp_path / "pkg" / "tests") == outer


def test_project_file_is_the_fallback(tmp_path: Path) -> None:
    project = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    write(tmp_path / "a" / "pyproject.toml", "[tool.black]\nline-length = 80\n")
    (tmp_path / "a" / "b").mkdir()
    assert find_pyproject(tmp_path / "a" / "b" / "test_x.py") == project


def test_no_pyproject_gives_defaults_rooted_at_the_start_folder(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    settings = load_settings(tmp_path / "tests" / "test_x.py")
    assert settings.project_root == str(tmp_path / "tests")
    assert settings.select == frozenset({"ALL"})
    assert settings.target_version == DEFAULT_TARGET


def test_all_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """\
[project]
requires-python = ">=3.8"

[tool.async-test-lint]
select = ["atl1", "ATL001"]
ignore = ["ATL101"]
exclude = ["tests/fixtures", "legacy_*.py"]
target-version = "py311"

[tool.async-test-lint.per-file-ignores]
"tests/old/*.py" = ["ATL1"]
""",
    )
    settings = load_settings(tmp_path)
    assert settings.select == frozenset({"ATL1", "ATL001"})
    assert settings.ignore == frozenset({"ATL101"})
    assert settings.exclude == ("tests/fixtures", "legacy_*.py")
    assert settings.per_file_ignores == (("tests/old/*.py", frozenset({"ATL1"})),)
    assert settings.target_version == (3, 11)  # explicit beats requires-python
    assert settings.project_root == str(path.parent)


def test_target_version_defaults_to_requires_python(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nrequires-python = ">=3.12,<4"\n')
    assert load_settings(tmp_path).target_version == (3, 12)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">=3.9", (3, 9)),
        (">=3.8,<4", (3, 8)),
        ("<4, >=3.10.2", (3, 10)),
        ("~=3.10", (3, 10)),
        ("^3.9", (3, 9)),
        ("==3.11.*", (3, 11)),
        (">3.8", (3, 8)),
        (">=2.7", (3, 7)),
        (">=3.99", (3, 14)),
        (">=3.8 || >=3.10", (3, 8)),
        ("<4", None),
        ("nonsense", None),
        ("", None),
    ],
)
def test_requires_python_lower_bound(spec: str, expected: tuple[int, int] | None) -> None:
    assert target_from_requires_python(spec) == expected


def test_unparseable_requires_python_falls_back_to_the_default(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nrequires-python = "whatever"\n')
    assert load_settings(tmp_path).target_version == DEFAULT_TARGET


@pytest.mark.parametrize(
    ("name", "version"), [("py37", (3, 7)), ("PY314", (3, 14)), ("3.10", (3, 10))]
)
def test_parse_target_version(name: str, version: tuple[int, int]) -> None:
    assert parse_target_version(name) == version


@pytest.mark.parametrize("name", ["py36", "py315", "3.6", "py3", "python39", "3.9.1", ""])
def test_bad_target_version(name: str) -> None:
    with pytest.raises(ValueError, match="unknown target version"):
        parse_target_version(name)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('selekt = ["ATL1"]', "selekt"),
        ('select = "ATL1"', "select"),
        ('select = ["ATL999"]', "select"),
        ('ignore = ["E501"]', "ignore"),
        ("exclude = [1]", "exclude"),
        ('target-version = "py27"', "target-version"),
        ("target-version = 39", "target-version"),
        ('per-file-ignores = ["x"]', "per-file-ignores"),
        ('per-file-ignores = { "a.py" = ["NOPE1"] }', "per-file-ignores"),
    ],
)
def test_mistakes_name_the_key_and_the_file(tmp_path: Path, table: str, key: str) -> None:
    path = write(tmp_path / "pyproject.toml", f"[tool.async-test-lint]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    message = str(caught.value)
    assert str(path) in message
    assert key in message


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.async-test-lint\nselect = [\n")
    with pytest.raises(ConfigError, match="invalid TOML") as caught:
        load_settings(tmp_path)
    assert str(path) in str(caught.value)


def test_explicit_config_file_without_our_table(tmp_path: Path) -> None:
    path = write(tmp_path / "cfg" / "pyproject.toml", '[project]\nrequires-python = "~=3.13"\n')
    settings = load_pyproject(path)
    assert settings.target_version == (3, 13)
    assert settings.project_root == str(path.parent)


def test_settings_from_an_editor_mapping() -> None:
    settings = settings_from_table({"select": ["ATL101"], "target-version": "py38"}, None, None)
    assert settings.select == frozenset({"ATL101"}) and settings.target_version == (3, 8)
    with pytest.raises(ConfigError, match=r"async-test-lint\.select"):
        settings_from_table({"select": ["BAD"]}, None, None)


def test_family_prefix_without_rules_yet_is_accepted() -> None:
    assert settings_from_table({"ignore": ["ATL4", "ATL"]}, None, None).ignore == frozenset(
        {"ATL4", "ATL"}
    )
