"""Editor settings (section `asyncTestLint`) merged over `pyproject.toml`.

Precedence, lowest first: defaults, `[tool.async-test-lint]` of the nearest pyproject.toml,
initialization options, `workspace/configuration` (global, then the document's workspace folder).
A key the editor leaves unset (missing or null) keeps the value from below.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import config
from ..engine import SYNTAX_ERROR_CODE
from ..model import Settings

logger = logging.getLogger(__name__)

SECTION = "asyncTestLint"
EDITOR_KEYS = ("enable", "select", "ignore", "targetVersion", "showSyntaxErrors", "lintOnChange")


@dataclass(frozen=True)
class EditorSettings:
    """What the editor may set; None means "not set here"."""

    enable: bool | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    target_version: tuple[int, int] | None = None
    show_syntax_errors: bool | None = None
    lint_on_change: bool | None = None

    def over(self, base: EditorSettings) -> EditorSettings:
        """These settings, with unset keys taken from `base`."""
        values = {
            item.name: getattr(self, item.name)
            if getattr(self, item.name) is not None
            else getattr(base, item.name)
            for item in dataclasses.fields(self)
        }
        return EditorSettings(**values)


@dataclass(frozen=True)
class Effective:
    """The settings one document is linted with."""

    engine: Settings
    enable: bool = True
    show_syntax_errors: bool = False
    lint_on_change: bool = True
    #: the user's settings enable ATL001 (the engine is always asked for it, to know the state).
    syntax_code_enabled: bool = True

    @property
    def lint_settings(self) -> Settings:
        """The engine settings with ATL001 forced on, so a syntax error is always recognised."""
        return dataclasses.replace(
            self.engine,
            select=self.engine.select | {SYNTAX_ERROR_CODE},
            ignore=self.engine.ignore - {SYNTAX_ERROR_CODE},
        )


def _section(raw: object) -> Mapping[str, Any]:
    """Accept `{"asyncTestLint": {...}}`, `{"settings": {...}}` or the settings object itself."""
    if not isinstance(raw, Mapping):
        return {}
    for key in (SECTION, "settings"):
        inner = raw.get(key)
        if isinstance(inner, Mapping):
            return _section(inner) if key == "settings" else inner
    return raw


def parse_editor_settings(raw: object, problems: list[str] | None = None) -> EditorSettings:
    """Editor settings from JSON; an invalid value is reported in `problems` and ignored."""
    section = _section(raw)
    problems = problems if problems is not None else []

    def flag(key: str) -> bool | None:
        value = section.get(key)
        if value is None or isinstance(value, bool):
            return value
        problems.append(f"{SECTION}.{key} must be true or false, got {value!r}")
        return None

    def selectors(key: str) -> tuple[str, ...] | None:
        value = section.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            problems.append(f"{SECTION}.{key} must be a list of rule codes, got {value!r}")
            return None
        try:
            return tuple(config.validate_selectors(list(value), f"{SECTION}.{key}"))
        except config.ConfigError as error:
            problems.append(str(error))
            return None

    target: tuple[int, int] | None = None
    raw_target = section.get("targetVersion")
    if raw_target not in (None, ""):
        try:
            target = config.parse_target_version(str(raw_target))
        except ValueError as error:
            problems.append(f"{SECTION}.targetVersion: {error}")
    return EditorSettings(
        enable=flag("enable"),
        select=selectors("select"),
        ignore=selectors("ignore"),
        target_version=target,
        show_syntax_errors=flag("showSyntaxErrors"),
        lint_on_change=flag("lintOnChange"),
    )


def merge(project: Settings, editor: EditorSettings) -> Effective:
    engine = project
    if editor.select is not None:
        engine = dataclasses.replace(engine, select=frozenset(editor.select))
    if editor.ignore is not None:
        engine = dataclasses.replace(engine, ignore=frozenset(editor.ignore))
    if editor.target_version is not None:
        engine = dataclasses.replace(engine, target_version=editor.target_version)
    return Effective(
        engine=engine,
        enable=editor.enable if editor.enable is not None else True,
        show_syntax_errors=bool(editor.show_syntax_errors),
        lint_on_change=editor.lint_on_change if editor.lint_on_change is not None else True,
        syntax_code_enabled=engine.is_enabled(SYNTAX_ERROR_CODE),
    )


class ProjectSettings:
    """pyproject.toml settings per folder, cached until a pyproject.toml changes."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[Settings, str | None]] = {}

    def clear(self) -> None:
        self._cache.clear()

    def for_path(self, path: str | None, folder: str | None) -> Settings:
        """Settings for a file of workspace folder `folder` (or, without a path, for the folder).

        Without a pyproject.toml on the way up, the workspace folder is the project root (module
        names are relative to it), else the file's own folder.
        """
        start = str(Path(path).parent) if path is not None else folder
        if start is None:
            return Settings()
        cached = self._cache.get(start)
        if cached is not None:
            return cached[0]
        error: str | None = None
        root = folder or start
        try:
            found = config.find_pyproject(Path(start))
            settings = config.load_pyproject(found) if found else Settings(project_root=root)
        except config.ConfigError as problem:
            error = str(problem)
            logger.warning("%s; using the default settings", error)
            settings = Settings(project_root=root)
        except OSError as problem:
            error = str(problem)
            settings = Settings(project_root=root)
        self._cache[start] = (settings, error)
        return settings

    def errors(self) -> list[str]:
        return sorted({error for _, error in self._cache.values() if error})
