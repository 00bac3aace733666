"""Which files can be left unlinted: they cannot hold any anti-pattern, whatever the rules ask.

Every rule is about coroutines, event loops or mocks. A rule fires only on code that either says
so in its own text (`async def`, `await`, `asyncio`, a loop, `Mock`, `patch`, an async test
framework by name: the `NEEDLES`) or reaches an *async fact* of another module through the
project index: a function summary that is a coroutine function, an async context manager or
generator, drives a loop, runs coroutines, returns an awaitable, awaits something or restores the
loop policy; a class summary with such a method, an async context manager, loop-bound attributes
or a base that is one of those or is named like an async test case. Facts that are not reached by
a name (the project's loop styles, names awaited anywhere, `event_loop` fixtures) are only asked
about on behalf of code that already mentions a needle (a second style, a `Mock`, a fixture
named `event_loop`). A summary made from text without a needle has no async fact.

The index is reached only by resolving qualified names (`ProjectIndex.resolve`, excluding the
file itself), and a file's qualified names start with a name it imports or with its own module
name. So a file without a needle is linted only when (any of):

- it has no summary: it cannot be read, decoded or parsed (the error or ATL001 is the result);
- it has a star import (what it imports is not named);
- a name it imports resolves to a function or class with an async fact (classes: their bases,
  methods and nested classes, transitively), or to a *relevant* module or one with a relevant
  submodule, or to nothing while sharing a name component with a relevant module (a package
  without `__init__.py` answers only for its submodules);
- a prefix of its own module name answers, in the index, for a relevant module (where its own
  unsummarised names resolve), or a relevant module lives under its name (its submodules).

A module is relevant when its text mentions a needle, when it has a star import, or when it
imports from a relevant module (a re-export), transitively; this part works by name components,
generously. A false keep costs one lint, a false skip would lose a diagnostic:
`tests/test_prefilter.py` checks that the filter never changes a result, over the examples, the
rule examples, cross-module cases and (slow) the corpus.

A module with no needle still goes in the project index: its classes are bases, its names make
other modules' names ambiguous, so the index needs every summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .analysis.index import ProjectIndex
from .analysis.summary import ClassSummary, FunctionSummary, ModuleSummary

#: lower-case substrings: any of them keeps a file. `aio` covers aiohttp's AioHTTPTestCase,
#: aiounittest and aiomisc; `aenter` a hand-written async context manager; `aclosing` its stdlib
#: helper; `gen_test` tornado's generator tests; `autospec` mocks made by `create_autospec`.
NEEDLES: tuple[str, ...] = (
    "async",
    "await",
    "loop",
    "aio",
    "anyio",
    "trio",
    "curio",
    "coroutine",
    "mock",
    "patch",
    "autospec",
    "run_until_complete",
    "run_forever",
    "aenter",
    "aexit",
    "aclosing",
    "gen_test",
)
_MAX_BASE_DEPTH = 16


def mentions_needle(text: str) -> bool:
    """Whether `text` says anything a rule could be about (a cheap, case-insensitive test)."""
    lowered = text.lower()
    return any(needle in lowered for needle in NEEDLES)


def _components(dotted: str) -> set[str]:
    return {part for part in dotted.split(".") if part}


def _suffixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[start:]) for start in range(len(parts))]


def _prefixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


class Reach:
    """What the project's relevant modules are, and whether a file can reach an async fact."""

    def __init__(self, index: ProjectIndex, mentions: Mapping[str, bool]) -> None:
        """`mentions` maps a path to whether its text mentions a needle; a path missing from it
        counts as mentioning one."""
        self.index = index
        summaries = index.summaries()
        self.relevant_paths = _relevant_paths(summaries, mentions)
        relevant = [summary for summary in summaries if summary.path in self.relevant_paths]
        self.components: set[str] = set()
        #: every dotted name a relevant module answers to, and every proper prefix of those.
        self.parents: set[str] = set()
        for summary in relevant:
            self.components |= _components(summary.name)
            for suffix in _suffixes(summary.name):
                self.parents.update(_prefixes(suffix)[:-1])
        self._owner = {
            id(cls): summary for summary in summaries for cls in summary.classes.values()
        }

    def needs_lint(self, summary: ModuleSummary | None, mentions: bool) -> bool:
        """Whether a file must be linted; False only when no rule can report anything on it."""
        if mentions or summary is None or summary.has_star_import:
            return True
        if self._own_name_reaches(summary):
            return True
        return any(
            self._import_reaches(target, summary.path) for target in summary.imports.values()
        )

    def _own_name_reaches(self, summary: ModuleSummary) -> bool:
        """Where the file's own names resolve: the first module (longest prefix first) answering
        to a prefix of its name, and on from there only along its own name."""
        if summary.name in self.parents:  # a relevant submodule
            return True
        parts = summary.name.split(".")
        for end in range(len(parts), 0, -1):
            module = self.index.module(".".join(parts[:end]), exclude_path=summary.path)
            if module is None:
                continue
            if end == len(parts):  # another module answering to the same name
                return self._module_reaches(module)
            head = parts[end]
            named = head in module.classes or head in module.functions or head in module.imports
            return named and self._module_reaches(module)
        return False

    def _module_reaches(self, module: ModuleSummary) -> bool:
        return module.path in self.relevant_paths or module.name in self.parents

    def _import_reaches(self, target: str, path: str) -> bool:
        if target in self.parents:  # a longer name may resolve to a relevant module first
            return True
        found = self.index.resolve(target, exclude_path=path)
        if found is None:
            return not _components(target).isdisjoint(self.components)
        if isinstance(found, ModuleSummary):
            return self._module_reaches(found)
        if isinstance(found, FunctionSummary):
            return has_async_fact(found)
        return self._class_reaches(found, path, 0)

    def _class_reaches(self, cls: ClassSummary, path: str, depth: int) -> bool:
        if depth > _MAX_BASE_DEPTH:
            return True
        if cls.is_async_context_manager or cls.loop_bound_attributes:
            return True
        if any(has_async_fact(method) for method in cls.methods.values()):
            return True
        owner = self._owner.get(id(cls))
        if owner is None:
            return True
        nested = f"{cls.qualname}."
        for qualname, inner in owner.classes.items():
            if qualname.startswith(nested) and self._class_reaches(inner, path, depth + 1):
                return True
        for base in cls.bases:
            if base is None:
                continue
            if mentions_needle(base):
                return True
            if self._import_reaches_base(base, path, depth):
                return True
        return False

    def _import_reaches_base(self, base: str, path: str, depth: int) -> bool:
        if base in self.parents:
            return True
        found = self.index.resolve(base, exclude_path=path)
        if isinstance(found, ClassSummary):
            return self._class_reaches(found, path, depth + 1)
        if found is None:
            return not _components(base).isdisjoint(self.components)
        return True


def has_async_fact(function: FunctionSummary) -> bool:
    return bool(
        function.is_async
        or function.is_async_context_manager
        or function.drives_loop
        or function.runs_coroutines
        or function.returns_awaitable
        or function.is_async_generator
        or function.awaited_chains
        or function.awaited_names
        or function.restores_loop_policy
    )


def _relevant_paths(summaries: Iterable[ModuleSummary], mentions: Mapping[str, bool]) -> set[str]:
    """Modules that mention a needle or star-import, and those importing from them (by name
    component, transitively)."""
    pending: list[tuple[ModuleSummary, set[str]]] = []
    components: set[str] = set()
    relevant: set[str] = set()
    for summary in summaries:
        if mentions.get(summary.path, True) or summary.has_star_import:
            relevant.add(summary.path)
            components |= _components(summary.name)
        else:
            imported: set[str] = set()
            for target in summary.imports.values():
                imported |= _components(target)
            pending.append((summary, imported))
    changed = True
    while changed and pending:
        changed = False
        still: list[tuple[ModuleSummary, set[str]]] = []
        for summary, imported in pending:
            if imported.isdisjoint(components):
                still.append((summary, imported))
            else:
                relevant.add(summary.path)
                components |= _components(summary.name)
                changed = True
        pending = still
    return relevant


__all__ = ["NEEDLES", "Reach", "has_async_fact", "mentions_needle"]
