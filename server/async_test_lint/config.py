"""Settings from `pyproject.toml`: the `[tool.async-test-lint]` table.

Which file: `find_pyproject(start)` walks from `start` (a file's folder, or a folder) up to the
file system root and returns the nearest `pyproject.toml` that has a `[tool.async-test-lint]`
table. When no file on the way has one, it returns the nearest `pyproject.toml` that has a
`[project]` table (the project's own root, whose `requires-python` still gives the target
version). Otherwise None. A file
that cannot be parsed while searching stops the search with a `ConfigError`: a broken
`pyproject.toml` next to the code is never silently skipped.

Keys (all optional):

- `select`, `ignore`: lists of rule codes or prefixes (`"ATL1"`, `"ATL101"`, `"ALL"`).
- `per-file-ignores`: a table from a glob (relative to the project root, or a bare file name) to a
  list of codes or prefixes.
- `exclude`: a list of globs (relative to the project root, or a bare file or folder name).
- `target-version`: `"py37"` .. `"py314"`. Defaults to the lower bound of
  `[project] requires-python`, else to `model.DEFAULT_TARGET`.

Every mistake (unknown key, wrong type, unknown code, bad version, invalid TOML) is a
`ConfigError` whose message names the file and the key.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .model import DEFAULT_TARGET, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

TABLE = "async-test-lint"
PYPROJECT = "pyproject.toml"
SUPPORTED_TARGETS: tuple[tuple[int, int], ...] = tuple((3, minor) for minor in range(7, 15))
KNOWN_KEYS = ("select", "ignore", "per-file-ignores", "exclude", "target-version")

_TARGET = re.compile(r"(?:py3|3\.)(\d{1,2})")
_SELECTOR = re.compile(r"ATL\d{0,3}")
_VERSION = re.compile(r"\s*(===|==|~=|>=|<=|!=|>|<|\^|~)?\s*v?(\d+)(?:\.(\d+|\*))?")


class ConfigError(Exception):
    """A configuration mistake; the message names the file and the key."""


def _where(source: Path | None) -> str:
    return str(source) if source is not None else "the settings"


def read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            document: dict[str, object] = tomllib.load(handle)
            return document
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None


def _tool_table(document: Mapping[str, object]) -> object | None:
    tool = document.get("tool")
    return tool.get(TABLE) if isinstance(tool, dict) else None


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml above `start` with our table, else the nearest with [project]."""
    folder = start if start.is_dir() else start.parent
    folder = Path(folder).absolute()
    with_project: Path | None = None
    for candidate_folder in (folder, *folder.parents):
        candidate = candidate_folder / PYPROJECT
        if not candidate.is_file():
            continue
        document = read_toml(candidate)
        if _tool_table(document) is not None:
            return candidate
        if with_project is None and isinstance(document.get("project"), dict):
            with_project = candidate
    return with_project


def load_settings(start: Path) -> Settings:
    """Settings for the code at `start` (a file or a folder)."""
    found = find_pyproject(start)
    if found is None:
        folder = start if start.is_dir() else start.parent
        return Settings(project_root=str(Path(folder).absolute()))
    return load_pyproject(found)


def load_pyproject(path: Path) -> Settings:
    """Settings from one given pyproject.toml (also `--config`); its folder is the project root."""
    path = path.absolute()
    document = read_toml(path)
    table = _tool_table(document)
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{TABLE}] must be a table")
    project = document.get("project")
    requires = project.get("requires-python") if isinstance(project, dict) else None
    if requires is not None and not isinstance(requires, str):
        raise ConfigError(f"{path}: project.requires-python must be a string")
    return settings_from_table(table, path, requires)


def settings_from_table(
    table: Mapping[str, object],
    source: Path | None,
    requires_python: str | None,
) -> Settings:
    """Validate the `[tool.async-test-lint]` table (or an editor's equivalent mapping)."""
    where = _where(source)
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {TABLE}.{unknown[0]} (known keys: {', '.join(KNOWN_KEYS)})"
        )
    select = _selectors(table, "select", where, default=("ALL",))
    ignore = _selectors(table, "ignore", where, default=())
    per_file = _per_file_ignores(table.get("per-file-ignores"), where)
    exclude = tuple(_string_list(table.get("exclude", []), "exclude", where))
    target = _target(table.get("target-version"), where, requires_python)
    return Settings(
        select=select,
        ignore=ignore,
        per_file_ignores=per_file,
        exclude=exclude,
        target_version=target,
        project_root=str(source.parent) if source is not None else None,
    )


def _string_list(value: object, key: str, where: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: {TABLE}.{key} must be a list of strings, got {value!r}")
    return list(value)


def _selectors(
    table: Mapping[str, object], key: str, where: str, default: Sequence[str]
) -> frozenset[str]:
    if key not in table:
        return frozenset(default)
    return frozenset(
        validate_selectors(_string_list(table[key], key, where), f"{where}: {TABLE}.{key}")
    )


def known_codes() -> tuple[str, ...]:
    from .engine import SYNTAX_ERROR_CODE
    from .rules import all_rules

    return (SYNTAX_ERROR_CODE, *(rule.code for rule in all_rules()))


def _family_prefixes() -> tuple[str, ...]:
    from .docs import FAMILY_TITLES

    return tuple(FAMILY_TITLES)


def is_valid_selector(selector: str) -> bool:
    """ "ALL", a known code, or a prefix of one (or of a documented rule family)."""
    if selector == "ALL":
        return True
    if not _SELECTOR.fullmatch(selector):
        return False
    if any(code.startswith(selector) for code in known_codes()):
        return True
    return any(family.startswith(selector) for family in _family_prefixes())


def validate_selectors(values: Sequence[str], where: str) -> list[str]:
    """Normalised (upper-case, stripped) selectors; a ConfigError for an unknown one."""
    normalised = []
    for value in values:
        selector = value.strip().upper()
        if not is_valid_selector(selector):
            raise ConfigError(
                f"{where}: unknown rule code or prefix {value!r} "
                f"(known codes: {', '.join(known_codes())})"
            )
        normalised.append(selector)
    return normalised


def _per_file_ignores(value: object, where: str) -> tuple[tuple[str, frozenset[str]], ...]:
    if value is None:
        return ()
    key = "per-file-ignores"
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {TABLE}.{key} must be a table of glob = [codes]")
    pairs = []
    for pattern, codes in value.items():
        entry = f"{key}.{pattern!r}"
        selectors = validate_selectors(
            _string_list(codes, entry, where), f"{where}: {TABLE}.{entry}"
        )
        pairs.append((str(pattern), frozenset(selectors)))
    return tuple(pairs)


def _target(value: object, where: str, requires_python: str | None) -> tuple[int, int]:
    if value is None:
        if requires_python:
            return target_from_requires_python(requires_python) or DEFAULT_TARGET
        return DEFAULT_TARGET
    if not isinstance(value, str):
        raise ConfigError(f'{where}: {TABLE}.target-version must be a string like "py39"')
    try:
        return parse_target_version(value)
    except ValueError as error:
        raise ConfigError(f"{where}: {TABLE}.target-version: {error}") from None


def parse_target_version(value: str) -> tuple[int, int]:
    """`"py39"` (or `"3.9"`) -> (3, 9). A ValueError for anything outside py37..py314."""
    match = _TARGET.fullmatch(value.strip().lower())
    version = (3, int(match.group(1))) if match else None
    if version not in SUPPORTED_TARGETS:
        names = ", ".join(f"py3{minor}" for _, minor in SUPPORTED_TARGETS)
        raise ValueError(f"unknown target version {value!r} (expected one of {names})")
    assert version is not None
    return version


def target_from_requires_python(requires: str) -> tuple[int, int] | None:
    """The lower bound of a `requires-python` specifier, clamped to the supported targets.

    `>=3.9`, `>=3.8,<4`, `~=3.10`, `==3.11.*`, `^3.9` and `>3.8` all give their minor version; a
    clause separated by `||` (Poetry) or unparseable text is tolerated; None when no clause gives
    a lower bound.
    """
    alternatives = []
    for alternative in re.split(r"\|\|?", requires):
        bounds = [bound for clause in alternative.split(",") if (bound := _lower_bound(clause))]
        if bounds:
            alternatives.append(max(bounds))
    if not alternatives:
        return None
    lowest = min(alternatives)
    return min(max(lowest, SUPPORTED_TARGETS[0]), SUPPORTED_TARGETS[-1])


def _lower_bound(clause: str) -> tuple[int, int] | None:
    match = _VERSION.match(clause)
    if match is None:
        return None
    operator, major, minor = match.group(1) or "==", int(match.group(2)), match.group(3)
    if operator in ("<", "<=", "!="):
        return None
    if major != 3:
        return (3, 0) if major < 3 else None
    return (3, int(minor) if minor and minor != "*" else 0)


__all__ = [
    "ConfigError",
    "find_pyproject",
    "load_pyproject",
    "load_settings",
    "parse_target_version",
    "settings_from_table",
    "target_from_requires_python",
    "validate_selectors",
]
