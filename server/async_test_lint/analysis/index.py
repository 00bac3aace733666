"""The project index: summaries of every module of the checked tree or workspace.

A module is known under every dotted suffix of its path (`src/app/client.py` answers to
`src.app.client`, `app.client` and `client`), so `src/` layouts, test folders without `__init__.py`
and rootdir-relative imports resolve without touching the file system. A name that two modules
claim is ambiguous and resolves to nothing: the rules then stay silent.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import PurePath
from typing import Callable, TypeVar, Union, cast

from .summary import ClassSummary, FunctionSummary, ModuleSummary

Resolved = Union[ClassSummary, FunctionSummary, ModuleSummary]
_MAX_REEXPORT_DEPTH = 6
T = TypeVar("T")


def module_name_for(path: str, root: str | None = None) -> str:
    """The dotted name of the module at `path`, relative to `root` when `path` is inside it."""
    pure = PurePath(path)
    if root is not None:
        try:
            pure = pure.relative_to(root)
        except ValueError:
            pure = PurePath(pure.name)
    if not pure.name:  # "" or the root itself: no module name to derive
        return "__main__"
    parts = [part for part in pure.with_suffix("").parts if part not in ("", ".", "/")]
    if parts and parts[-1] == "__init__":
        parts.pop()
    if pure.anchor and parts and parts[0] == pure.anchor:
        parts.pop(0)
    return ".".join(part for part in parts if part.isidentifier()) or pure.stem


def _dotted_suffixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[start:]) for start in range(len(parts))]


class ProjectIndex:
    def __init__(self, summaries: Iterable[ModuleSummary] = ()) -> None:
        self._lock = threading.RLock()
        self._by_path: dict[str, ModuleSummary] = {}
        self._by_name: dict[str, set[str]] = {}
        #: bumped by every change, so project-wide facts are recomputed only when stale.
        self._generation = 0
        self._derived: dict[str, tuple[int, object]] = {}
        for summary in summaries:
            self.update(summary)

    def __len__(self) -> int:
        return len(self._by_path)

    def update(self, summary: ModuleSummary) -> None:
        with self._lock:
            self.remove(summary.path)
            self._generation += 1
            self._by_path[summary.path] = summary
            for suffix in _dotted_suffixes(summary.name):
                self._by_name.setdefault(suffix, set()).add(summary.path)

    def remove(self, path: str) -> None:
        with self._lock:
            old = self._by_path.pop(path, None)
            if old is None:
                return
            self._generation += 1
            for suffix in _dotted_suffixes(old.name):
                paths = self._by_name.get(suffix)
                if paths is not None:
                    paths.discard(path)
                    if not paths:
                        del self._by_name[suffix]

    def get(self, path: str) -> ModuleSummary | None:
        return self._by_path.get(path)

    def summaries(self) -> list[ModuleSummary]:
        with self._lock:
            return list(self._by_path.values())

    def module(self, dotted_name: str, exclude_path: str | None = None) -> ModuleSummary | None:
        """The one module answering to `dotted_name`, or None when none or several do."""
        paths = self._by_name.get(dotted_name)
        if not paths:
            return None
        candidates = [path for path in paths if path != exclude_path]
        if len(candidates) != 1:
            return None
        return self._by_path.get(candidates[0])

    def resolve(self, qualified_name: str, exclude_path: str | None = None) -> Resolved | None:
        return self._resolve(qualified_name, exclude_path, 0)

    def _resolve(
        self, qualified_name: str, exclude_path: str | None, depth: int
    ) -> Resolved | None:
        if depth > _MAX_REEXPORT_DEPTH:
            return None
        parts = qualified_name.split(".")
        for split in range(len(parts) - 1, 0, -1):
            module = self.module(".".join(parts[:split]), exclude_path)
            if module is None:
                continue
            return self._resolve_in(module, parts[split:], exclude_path, depth)
        module = self.module(qualified_name, exclude_path)
        return module

    def _resolve_in(
        self, module: ModuleSummary, attributes: list[str], exclude_path: str | None, depth: int
    ) -> Resolved | None:
        head, rest = attributes[0], attributes[1:]
        if head in module.classes:
            # Nested classes are summarised under their dotted qualname.
            nested = ".".join(attributes)
            if nested in module.classes:
                return module.classes[nested]
            if not rest:
                return module.classes[head]
            method = module.classes[head].methods.get(rest[0])
            return method if len(rest) == 1 else None
        if head in module.functions:
            return module.functions[head] if not rest else None
        if head in module.imports:
            target = ".".join([module.imports[head], *rest])
            return self._resolve(target, None, depth + 1)
        submodule = self.module(f"{module.name}.{head}", exclude_path)
        if submodule is not None:
            return self._resolve_in(submodule, rest, exclude_path, depth) if rest else submodule
        return None

    def derived(self, key: str, compute: Callable[[list[ModuleSummary]], T]) -> T:
        """A project-wide fact computed from all summaries, memoised until the index changes.

        Rules ask project-wide questions (is pytest-asyncio used anywhere? the dominant style?) for
        every file; without the memo a check of N files would cost N x N.
        """
        with self._lock:
            cached = self._derived.get(key)
            if cached is not None and cached[0] == self._generation:
                return cast(T, cached[1])
            value = compute(list(self._by_path.values()))
            self._derived[key] = (self._generation, value)
            return value

    def style_counts(self) -> Counter[str]:
        def count(summaries: list[ModuleSummary]) -> Counter[str]:
            counts: Counter[str] = Counter()
            for summary in summaries:
                counts.update(summary.styles)
            return counts

        return Counter(self.derived("style-counts", count))
