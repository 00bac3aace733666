"""What one module tells the others: the facts resolution needs, small and picklable.

The same summary describes the module being linted and every other module of the project, so a
base class or an `async def` resolves by one code path wherever it is defined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

V = TypeVar("V")

#: What a function does with one of its parameters or its object's attributes (analysis/flow.py):
#: (root kind "param"/"attr", root name, steps, role, always, swallowed, target kind "attr"/
#: "return"/"", target name, target steps, callee, argument: a position in digits or a keyword).
FlowFact = tuple[str, str, tuple[str, ...], str, bool, bool, str, str, tuple[str, ...], str, str]


class LazyMapping(Mapping[str, V]):
    """A read-only mapping whose values are computed on first access, then kept.

    The summary of the file being linted is rebuilt on every keystroke, but rules look up a few
    methods by name: summarising all of them eagerly cost a tenth of a lint. Pickles and compares
    as a plain dict (the index of other files always holds plain dicts).
    """

    __slots__ = ("_factory", "_keys", "_values")

    def __init__(self, keys: Iterable[str], factory: Callable[[str], V]) -> None:
        self._keys = dict.fromkeys(keys)
        self._factory = factory
        self._values: dict[str, V] = {}

    def __getitem__(self, key: str) -> V:
        try:
            return self._values[key]
        except KeyError:
            if key not in self._keys:
                raise
        value = self._values[key] = self._factory(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self.items()),))

    def __repr__(self) -> str:
        return f"LazyMapping({list(self._keys)})"


class DeferredMapping(Mapping[str, V]):
    """A read-only mapping computed as a whole by `compute` the first time it is read."""

    __slots__ = ("_compute", "_value")

    def __init__(self, compute: Callable[[], Mapping[str, V]]) -> None:
        self._compute: Callable[[], Mapping[str, V]] | None = compute
        self._value: Mapping[str, V] | None = None

    def _get(self) -> Mapping[str, V]:
        if self._value is None:
            assert self._compute is not None
            self._value, self._compute = self._compute(), None
        return self._value

    def __getitem__(self, key: str) -> V:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self._get()),))


@dataclass(frozen=True)
class FunctionSummary:
    name: str
    is_async: bool
    #: decorated with contextlib.asynccontextmanager: calling it gives an async context manager.
    is_async_context_manager: bool = False
    #: calls asyncio.run / run_until_complete itself (a helper that drives a loop).
    drives_loop: str | None = None
    #: a decorator that turns a coroutine function into a sync callable (runs it on a loop).
    runs_coroutines: bool = False
    #: a sync function that returns the coroutine of an async call (awaitable result).
    returns_awaitable: bool = False
    #: an `async def` that yields: calling it gives an async generator, not a coroutine.
    is_async_generator: bool = False
    #: attribute chains of `self` this function awaits: `await self.repo.get()` gives "repo.get".
    awaited_chains: frozenset[str] = frozenset()
    #: methods this function calls on `self` (to follow awaits through helpers).
    self_calls: frozenset[str] = frozenset()
    #: last names of the calls it awaits: `await x.fetch()` and `await fetch()` give "fetch".
    awaited_names: frozenset[str] = frozenset()
    #: calls `asyncio.set_event_loop_policy(...)` or registers it as a cleanup: it restores
    #: asyncio's global loop state itself (a harness that manages loops on purpose).
    restores_loop_policy: bool = False
    #: the parameter names, in order (positional, then keyword-only).
    parameters: tuple[str, ...] = ()
    #: where the values of its parameters and of its object's attributes go (analysis/flow.py).
    flow: tuple[FlowFact, ...] = ()
    #: the parameters whose default is a literal constant, with it (analysis/paths.py).
    constant_defaults: tuple[tuple[str, object], ...] = ()
    #: one entry per call that drives a loop (`drives_loop`): the flag guards on its path
    #: (analysis/paths.py `Guard`); an empty entry is a call every run reaches.
    loop_paths: tuple[tuple[tuple[str, str, str, object], ...], ...] = ()
    #: decorated with `property` / `functools.cached_property`: read as an attribute.
    is_property: bool = False


@dataclass(frozen=True)
class ClassSummary:
    qualname: str
    #: canonical qualified names of the bases; None where a base cannot be resolved.
    bases: tuple[str | None, ...]
    methods: Mapping[str, FunctionSummary]
    #: overrides unittest's running machinery, has a custom metaclass, __init_subclass__, or a class
    #: decorator that may rewrite methods: its tests run in a way this analysis does not model.
    custom_runner: bool = False
    #: `__init__` parameters (in order) and the attribute each is stored in, if any.
    init_parameters: tuple[tuple[str, str | None], ...] = ()
    is_async_context_manager: bool = False
    #: `__init__` stores a loop-bound asyncio primitive: (attribute, factory) pairs.
    loop_bound_attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FixtureSummary:
    """A pytest fixture (analysis/harness.py): what it is called, whether it is async, and which
    fixtures it requests."""

    name: str
    is_async: bool
    autouse: bool = False
    requests: tuple[str, ...] = ()
    #: the qualname of the class defining it; None at module level.
    cls: str | None = None
    #: calls `asyncio.set_event_loop(<a loop>)`: the loop is current while its dependents run.
    sets_loop: bool = False


@dataclass(frozen=True)
class ModuleSummary:
    name: str
    path: str
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    #: names bound by import: local name -> canonical qualified name (for re-exports).
    imports: dict[str, str] = field(default_factory=dict)
    has_star_import: bool = False
    #: pytest fixtures defined here, by name.
    fixtures: frozenset[str] = frozenset()
    #: loop-management styles used here ("isolated", "manual-loop", "pytest-asyncio", "anyio").
    styles: Mapping[str, int] = field(default_factory=dict)
    #: the pytest fixtures defined here, with what they request (analysis/harness.py).
    fixture_summaries: tuple[FixtureSummary, ...] = ()
