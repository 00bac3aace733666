"""Which files to check: `.py` files under the given paths, minus what the project ignores.

Decisions:

- Only `.py` files are found by walking (stubs hold no tests). A *file* named explicitly is
  checked whatever its suffix, and even when an exclude glob or a `.gitignore` matches it (like
  ruff), unless `force_exclude` is set. An explicit *folder* is walked even when ignored itself;
  what is under it is filtered as usual.
- Always skipped folders: version control (`.git`, `.hg`, `.svn`, ...), virtual environments (any
  folder with a `pyvenv.cfg`, plus `.venv`, `venv`, `.tox`, `.nox`), caches, `node_modules`,
  `build`, `dist`, `__pycache__`, `site-packages`, `*.egg-info`.
- `.gitignore` files (and a repository's `.git/info/exclude`) are honoured from the project root
  (`root`) down to each folder, whether or not a `.git` folder exists: nested files, `!`
  negation, `dir/` patterns, anchored patterns (`/x`, `a/b`), `*`, `?`, `[...]`, `**`. A file
  inside an ignored folder cannot be re-included (git's rule too: the folder is never entered).
- `exclude` globs match a path relative to `root` or its bare name (`fnmatch`, `*` crosses `/`).
- Symbolic links to folders are not followed (no loops possible); links to files are checked.
  An unreadable folder is skipped with a warning on the `warn` callback.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

SKIPPED_FOLDERS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", ".jj", ".git-rewrite",
        ".venv", "venv", ".tox", ".nox", ".direnv", ".eggs", "__pypackages__",
        "node_modules", "build", "dist", "_build", "buck-out", "site-packages",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pytype",
        ".hypothesis", ".ipynb_checkpoints", ".async-test-lint-cache",
    }
)  # fmt: skip
PYTHON_SUFFIXES = (".py",)

Warn = Callable[[str], None]


def _stderr_warning(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


# -- .gitignore ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IgnoreRule:
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool
    #: matched against the path relative to the .gitignore's folder (else against the name).
    anchored: bool


def _translate_segment(segment: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        index += 1
        if char == "\\" and index < len(segment):
            out.append(re.escape(segment[index]))
            index += 1
        elif char == "*":
            while index < len(segment) and segment[index] == "*":
                index += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find(
                "]", index + 1 if segment[index : index + 1] in ("!", "^") else index
            )
            if end < 0:
                out.append(re.escape(char))
                continue
            body = segment[index:end]
            index = end + 1
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _translate(pattern: str) -> str:
    segments = pattern.split("/")
    out: list[str] = []
    last = len(segments) - 1
    for number, segment in enumerate(segments):
        if segment == "**":
            out.append(".*" if number == last else "(?:[^/]+/)*")
            continue
        out.append(_translate_segment(segment))
        if number != last:
            out.append("/")
    return "".join(out)


def parse_gitignore_line(line: str) -> IgnoreRule | None:
    line = line.rstrip("\n").rstrip("\r")
    if not line or line.startswith("#"):
        return None
    # Trailing spaces are dropped unless escaped with a backslash.
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        stripped += " "
    line = stripped
    negated = line.startswith("!")
    if negated or line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    directory_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    return IgnoreRule(re.compile(_translate(line) + r"\Z", re.S), negated, directory_only, anchored)


def read_gitignore(path: Path) -> list[IgnoreRule]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [rule for line in text.splitlines() if (rule := parse_gitignore_line(line))]


@dataclass(frozen=True)
class IgnoreFile:
    folder: Path
    rules: tuple[IgnoreRule, ...]


def gitignore_verdict(files: Sequence[IgnoreFile], path: Path, is_dir: bool) -> bool | None:
    """True ignored, False re-included by a negation, None no rule matched. Deeper files win."""
    verdict: bool | None = None
    for ignore_file in files:
        try:
            relative = path.relative_to(ignore_file.folder).as_posix()
        except ValueError:
            continue
        for rule in ignore_file.rules:
            if rule.directory_only and not is_dir:
                continue
            subject = relative if rule.anchored else PurePosixPath(relative).name
            if rule.regex.match(subject):
                verdict = not rule.negated
    return verdict


# -- walking ---------------------------------------------------------------------------------


class Walker:
    def __init__(
        self, exclude: Sequence[str], root: Path, warn: Warn, use_gitignore: bool = True
    ) -> None:
        self.exclude = tuple(exclude)
        self.root = root
        self.warn = warn
        self.use_gitignore = use_gitignore
        self.found: list[Path] = []
        self.seen: set[Path] = set()

    def excluded(self, path: Path) -> bool:
        if not self.exclude:
            return False
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            relative = path.as_posix()
        return any(
            fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern)
            for pattern in self.exclude
        )

    def ancestors_ignore_files(self, folder: Path) -> list[IgnoreFile]:
        """The .gitignore files from the root down to the parent of `folder`."""
        if not self.use_gitignore:
            return []
        try:
            relative = folder.relative_to(self.root)
        except ValueError:
            return []
        if not relative.parts:
            return []
        folders = [self.root]
        for part in relative.parts[:-1]:
            folders.append(folders[-1] / part)
        return [found for each in folders for found in self._ignore_files_of(each)]

    def _ignore_files_of(self, folder: Path) -> list[IgnoreFile]:
        """`.git/info/exclude` of a repository root (lower precedence), then `.gitignore`."""
        found = []
        for name in (".git/info/exclude", ".gitignore"):
            if (folder / name).is_file():
                found.append(IgnoreFile(folder, tuple(read_gitignore(folder / name))))
        return found

    def add(self, path: Path) -> None:
        if path not in self.seen:
            self.seen.add(path)
            self.found.append(path)

    def walk(self, folder: Path, ignore_files: list[IgnoreFile]) -> None:
        if self.use_gitignore:
            ignore_files = [*ignore_files, *self._ignore_files_of(folder)]
        try:
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            self.warn(f"cannot read folder {folder}: {error.strerror or error}")
            return
        for entry in listing:
            self._visit(folder, entry, ignore_files)

    def _visit(self, folder: Path, entry: os.DirEntry[str], ignore_files: list[IgnoreFile]) -> None:
        path = folder / entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file(follow_symlinks=True)
        except OSError:
            return
        if is_dir:
            if skipped_folder(path) or self.ignored(path, True, ignore_files):
                return
            self.walk(path, ignore_files)
        elif (
            is_file
            and entry.name.endswith(PYTHON_SUFFIXES)
            and not self.ignored(path, False, ignore_files)
        ):
            self.add(path)

    def ignored(self, path: Path, is_dir: bool, ignore_files: Sequence[IgnoreFile]) -> bool:
        if self.excluded(path):
            return True
        return bool(ignore_files) and gitignore_verdict(ignore_files, path, is_dir) is True


def skipped_folder(path: Path) -> bool:
    name = path.name
    if name in SKIPPED_FOLDERS or name.endswith(".egg-info"):
        return True
    return (path / "pyvenv.cfg").is_file()


def discover(
    paths: Sequence[Path],
    exclude: Sequence[str] = (),
    root: Path | None = None,
    *,
    force_exclude: bool = False,
    use_gitignore: bool = True,
    warn: Warn = _stderr_warning,
) -> list[Path]:
    """The Python files to check under `paths`, absolute, without duplicates, in walk order."""
    base = Path(root).absolute() if root is not None else Path.cwd()
    walker = Walker(exclude, base, warn, use_gitignore)
    for given in paths:
        path = Path(os.path.abspath(given))
        if not path.exists():
            warn(f"no such file or folder: {given}")
            continue
        inherited = walker.ancestors_ignore_files(path)
        if force_exclude and _explicit_path_ignored(walker, path, inherited):
            continue
        if path.is_dir():
            walker.walk(path, inherited)
        else:
            walker.add(path)
    return walker.found


def _explicit_path_ignored(walker: Walker, path: Path, ignore_files: Sequence[IgnoreFile]) -> bool:
    """With force_exclude: is the path, or one of its folders below the root, excluded?"""
    try:
        relative = path.relative_to(walker.root)
    except ValueError:
        return walker.excluded(path)
    current = walker.root
    for part in relative.parts:
        current = current / part
        is_dir = current != path or path.is_dir()
        if is_dir and current != path and skipped_folder(current):
            return True
        inherited = [file for file in ignore_files if _is_relative_to(current, file.folder)]
        if walker.ignored(current, is_dir, inherited):
            return True
    return False


def _is_relative_to(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return path != folder


__all__ = ["SKIPPED_FOLDERS", "discover", "gitignore_verdict", "parse_gitignore_line"]
