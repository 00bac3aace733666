"""Where values come from and where they go: the value-flow layer every rule asks.

A value is named by a *place* (a local, a parameter, a module global, an attribute of the instances
of a class, what a function returns) and the *steps* taken from it: `self.store.session.get(...)`
in a method of `Repo` is the place `attr Repo.store` with the steps `("session", "get", "()")`.
One walk of each function body turns every maximal access chain into a `Use`: its place, its
steps, and its `Role` (awaited, `async with`, iterated, passed as argument i, stored into another
place, returned, ...). Stores, arguments and returns are *transfers*: following them (`reach`)
gives where a value goes, through functions and classes of this module and, through the
function summaries of the project index (`summary_facts`), of other files. Reading stores
backwards (`origins`) gives where a value comes from.

Everything here is conservative in the same direction: when a place cannot be named (a star
import, a name bound twice, `getattr`, an unresolvable callee), nothing is recorded, and a rule
that finds nothing stays silent. Recursion and long chains are bounded (`MAX_DEPTH`).
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, Union

from .model import ClassInfo, FunctionInfo, Scope, SemanticModel
from .names import canonical
from .summary import ClassSummary, FlowFact, FunctionSummary

#: The steps of an access chain: an attribute name, or one of these.
CALL = "()"
ITEM = "[]"
ENTER = "<enter>"  # what `with x as y` binds: `x.__enter__()`
AENTER = "<aenter>"  # what `async with x as y` binds: `await x.__aenter__()`

Steps = tuple[str, ...]
Argument = Union[int, str, None]
MAX_DEPTH = 8
_MAX_MRO = 12


class Role(str, enum.Enum):
    """What the code does with a value at one use."""

    AWAITED = "awaited"
    ASYNC_WITH = "async-with"
    ASYNC_FOR = "async-for"
    WITH = "with"
    ITERATED = "iterated"
    ARGUMENT = "argument"  # passed to a call: `Use.call` / `Use.argument` / `Use.callee` say where
    STORED = "stored"  # bound to another place: `Use.target` says which
    RETURNED = "returned"
    YIELDED = "yielded"
    DISCARDED = "discarded"  # an expression statement: the value is dropped
    CONFIGURED = "configured"  # one of its attributes is assigned: `m.get.return_value = 1`
    TESTED = "tested"  # `if x:`, `assert x`, `not x`, `x == y`
    OTHER = "other"


@dataclass(frozen=True)
class Place:
    """A named home of values. `owner` scopes the name: a function's key (`module.Class.method`)
    for its locals, parameters and return value; a class's key for its instances' attributes;
    a module's name for its globals."""

    kind: str  # "local", "param", "global", "attr", "return"
    owner: str
    name: str

    def describe(self) -> str:
        if self.kind == "attr":
            return f"{_last(self.owner)}.{self.name}"
        if self.kind == "return":
            return f"{_last(self.owner)}()"
        return self.name


@dataclass(frozen=True)
class Use:
    """One use of (a value derived from) a place."""

    place: Place
    steps: Steps
    role: Role
    #: the maximal expression of the chain (`self.store.session.get(x)`); None for a use read
    #: from the summary of another file.
    node: ast.expr | None = field(repr=False)
    function: FunctionInfo | None = field(repr=False)
    #: the key of the function the use is in (`app.repo.Repo.save`).
    where: str
    #: on the function's unconditional path: no `if`, loop, `except` or short-circuit above it.
    always: bool = True
    #: a statement before it in the function body may `return` or `raise` first (`if
    #: self.run_async: return fut` before `loop.run_until_complete(fut)`).
    after_exit: bool = False
    #: inside a `try` whose handlers catch `Exception`, `BaseException`, `TypeError` or all.
    swallowed: bool = False
    #: STORED: the place the value goes into, and the steps under it (`("[]",)` for an element
    #: of a container, `("repo",)` for `svc.repo = value`).
    target: Place | None = None
    target_steps: Steps = ()
    #: ARGUMENT: the call (None in a summary), the position or keyword of the value in it, and
    #: the qualified name of the callee when known ("self.<name>" for a method on `self`).
    call: ast.Call | None = field(default=None, repr=False)
    argument: Argument = None
    callee: str | None = None

    def chain(self) -> str:
        """The use spelled for messages: `self.store.session.get(...)`."""
        root = "self" if self.place.kind == "attr" else self.place.name
        steps = (self.place.name, *self.steps) if self.place.kind == "attr" else self.steps
        return spell(root, steps)

    @property
    def method(self) -> str:
        """The name of the function the use is in."""
        return self.where.rpartition(".")[2]

    @property
    def where_label(self) -> str:
        """`Repo.save` for messages."""
        return _last(self.where)


@dataclass(frozen=True)
class Reached:
    """A use a value reaches: `steps` are relative to the value (what of it is used there),
    `path` the transfers taken from the start."""

    use: Use
    steps: Steps
    path: tuple[Use, ...]
    always: bool


class Summaries(Protocol):
    """What the flow layer needs to see of other modules (the semantics of the module)."""

    def find_class(self, qualified_name: str) -> ClassSummary | None: ...

    def find_function(self, qualified_name: str) -> FunctionSummary | None: ...


@dataclass
class _Facts:
    uses: dict[Place, list[Use]] = field(default_factory=dict)
    #: every binding of a place: the store uses whose target it is, exactly (no steps).
    stores: dict[Place, list[Use]] = field(default_factory=dict)
    #: places bound in ways the walk does not follow (`for` over a call, `except ... as e`...).
    opaque: set[Place] = field(default_factory=set)
    by_node: dict[int, Use] = field(default_factory=dict)
    by_function: dict[int, list[Use]] = field(default_factory=dict)

    def add(self, use: Use) -> None:
        self.uses.setdefault(use.place, []).append(use)
        if use.node is not None and id(use.node) not in self.by_node:
            self.by_node[id(use.node)] = use
        if use.function is not None:
            self.by_function.setdefault(id(use.function.node), []).append(use)
        if use.role is Role.STORED and use.target is not None and not use.target_steps:
            self.stores.setdefault(use.target, []).append(use)


class Flow:
    """The value-flow facts of one module (built on first use, kept for the module's lint) and
    the queries rules ask of them."""

    def __init__(self, model: SemanticModel, summaries: Summaries | None = None) -> None:
        self.model = model
        self.summaries = summaries
        self._facts: _Facts | None = None
        self._keys: dict[int, str] = {}
        self._classes_by_key: dict[str, ClassInfo] | None = None
        self._foreign: dict[Place, list[Use]] = {}

    # -- places --------------------------------------------------------------------------------

    def function_key(self, function: FunctionInfo) -> str:
        key = self._keys.get(id(function.node))
        if key is None:
            if function.cls is not None:
                key = f"{self.class_key(function.cls)}.{function.name}"
            elif function.parent is not None:
                key = f"{self.function_key(function.parent)}.<locals>.{function.name}"
            else:
                key = f"{self.model.module_name}.{function.name}"
            self._keys[id(function.node)] = key
        return key

    def class_key(self, cls: ClassInfo) -> str:
        return f"{self.model.module_name}.{cls.qualname}"

    def place_of(self, expr: ast.expr, scope: Scope, function: FunctionInfo | None) -> Place | None:
        """The place `expr` (a name, or `self.<name>` in a method) denotes, if any."""
        root, steps = chain(expr)
        if root is None:
            return None
        located = self.locate(root, steps, scope, function)
        return located[0] if located is not None and not located[1] else None

    def locate(
        self, root: ast.Name, steps: Steps, scope: Scope, function: FunctionInfo | None
    ) -> tuple[Place, Steps] | None:
        """The place of a chain's root name, and the steps left after it."""
        name = root.id
        method = function.enclosing_method() if function is not None else None
        if (
            method is not None
            and method.cls is not None
            and name == method.receiver
            and _binds_only_parameter(self.model, name, scope, method.scope)
        ):
            if not steps or not _is_attribute_step(steps[0]):
                return None
            return Place("attr", self.class_key(method.cls), steps[0]), steps[1:]
        owner = _owning_scope(self.model, name, scope)
        if owner is None:
            return None
        if owner.kind == "module":
            return Place("global", self.model.module_name, name), steps
        if owner.kind != "function":
            return None
        owner_function = self._function_of_scope(owner)
        if owner_function is None:
            return None
        bindings = owner.bindings[name]
        kind = "param" if all(binding.kind == "param" for binding in bindings) else "local"
        return Place(kind, self.function_key(owner_function), name), steps

    def _function_of_scope(self, scope: Scope) -> FunctionInfo | None:
        by_scope = self.model.cache.get("flow:function-by-scope")
        if by_scope is None:
            by_scope = {id(function.scope): function for function in self.model.functions}
            self.model.cache["flow:function-by-scope"] = by_scope
        found: FunctionInfo | None = by_scope.get(id(scope))
        return found

    # -- queries -------------------------------------------------------------------------------

    def facts(self) -> _Facts:
        """The uses of the module: walked once per model, shared by every `Flow` view of it."""
        if self._facts is None:
            cached = self.model.cache.get("flow:facts")
            if cached is None:
                cached = self.model.cache["flow:facts"] = _Walker(self).run()
            self._facts = cached
        return self._facts

    def use_of(self, node: ast.expr) -> Use | None:
        """The use whose maximal chain is `node` (`self.repo.get(1)`), if it names a place."""
        return self.facts().by_node.get(id(node))

    def reach_value(self, node: ast.expr, limit: int = MAX_DEPTH) -> list[Reached]:
        """Where the value of any expression goes: `reach` from the chain `node` is part of,
        with steps relative to `node`'s value (`Service(x).run()`: the object's `run()` call)."""
        maximal, extra = node, []
        while True:
            parent = self.model.parent(maximal)
            if isinstance(parent, ast.Attribute) and parent.value is maximal:
                extra.append(parent.attr)
            elif isinstance(parent, ast.Call) and parent.func is maximal:
                extra.append(CALL)
            elif isinstance(parent, ast.Subscript) and parent.value is maximal:
                extra.append(ITEM)
            else:
                break
            maximal = parent
        start = self.use_of(maximal)
        if start is None:
            return []
        return [
            Reached(item.use, (*extra, *item.steps), item.path, item.always)
            for item in self.reach(start, limit)
        ]

    def uses_in(self, function: FunctionInfo) -> list[Use]:
        return self.facts().by_function.get(id(function.node), [])

    def uses(self, place: Place) -> list[Use]:
        """Every use of `place`: in this module, or read from the summaries of another one. The
        attributes of a class's instances are used by the methods of its bases too."""
        if place.kind == "attr":
            found: list[Use] = []
            for key in self.mro(place.owner):
                found.extend(self._direct_uses(Place("attr", key, place.name)))
            return found
        return self._direct_uses(place)

    def _direct_uses(self, place: Place) -> list[Use]:
        if place.kind == "return":
            return self._return_uses(place)
        if self._is_local(place.owner):
            return self.facts().uses.get(place, [])
        cached = self._foreign.get(place)
        if cached is None:
            cached = self._foreign[place] = self._foreign_uses(place)
        return cached

    def _return_uses(self, place: Place) -> list[Use]:
        """What callers in this module do with what a function returns: the uses of its name
        with a call as first step (`got = wrap(x)`, `await self.helper()`), spelled after it."""
        function = self._local_functions().get(place.owner)
        if function is None:
            return []
        if function.cls is not None:
            callee = Place("attr", self.class_key(function.cls), function.name)
        elif function.parent is None:
            callee = Place("global", self.model.module_name, function.name)
        else:
            return []
        return [
            replace(use, place=place, steps=use.steps[1:])
            for use in self.facts().uses.get(callee, [])
            if use.steps[:1] == (CALL,)
        ]

    def _is_local(self, owner: str) -> bool:
        module = self.model.module_name
        return owner == module or owner.startswith(module + ".")

    def stores(self, place: Place) -> list[Use] | None:
        """Every store into `place` of this module; None when it may be bound in another way."""
        facts = self.facts()
        if place in facts.opaque or not self._is_local(place.owner):
            return None
        return facts.stores.get(place, [])

    def origins(
        self, expr: ast.expr, scope: Scope, function: FunctionInfo | None
    ) -> list[ast.expr] | None:
        """The expressions whose value `expr` may hold, through locals, `self` attributes and
        module globals of this module; None when some binding on the way is not a plain store
        of this module (a parameter, a loop variable, an attribute set from outside)."""
        root, steps = chain(expr)
        if root is None:
            return [expr]
        located = self.locate(root, steps, scope, function)
        if located is None or located[1]:
            return None
        found: list[ast.expr] = []
        return found if self._collect_origins(located[0], found, set(), 0) else None

    def _collect_origins(
        self, place: Place, found: list[ast.expr], seen: set[Place], depth: int
    ) -> bool:
        if place in seen:
            return True
        seen.add(place)
        stores = self.stores(place)
        if not stores or depth > MAX_DEPTH or place.kind == "param":
            return False
        for store in stores:
            if store.node is None:
                return False
            if store.steps == () and store.place.kind in ("local", "global", "attr"):
                if not self._collect_origins(store.place, found, seen, depth + 1):
                    return False
            elif (store.steps and store.place.kind != "global") or store.steps.count(CALL) != 1:
                return False  # a derived value (`x = y.z`) or a call of a local: not followed
            else:
                found.append(store.node)
        return True

    def instance_classes(self, place: Place, depth: int = 0) -> list[str] | None:
        """The keys of the classes whose instances `place` holds (`svc = Service(...)`, or an
        alias of such a name), when every value it may hold is a constructor call of a class
        this analysis can see."""
        stores = self.stores(place)
        if not stores or depth > MAX_DEPTH:
            return None
        keys: list[str] = []
        for store in stores:
            if store.steps == () and store.place.kind in ("local", "global", "attr"):
                inner = self.instance_classes(store.place, depth + 1)
                if inner is None:
                    return None
                keys.extend(inner)
                continue
            key = self._constructed_class(store)
            if key is None:
                return None
            keys.append(key)
        return keys

    def _constructed_class(self, store: Use) -> str | None:
        if store.steps != (CALL,) or store.node is None or not isinstance(store.node, ast.Call):
            return None
        scope = store.function.scope if store.function is not None else self.model.module_scope
        name = self.model.qualified_name(store.node.func, scope)
        if name is None:
            return None
        return name if self._is_known_class(name) else None

    def _local_classes(self) -> dict[str, ClassInfo]:
        if self._classes_by_key is None:
            self._classes_by_key = {self.class_key(cls): cls for cls in self.model.classes}
        return self._classes_by_key

    def mro(self, class_key: str) -> list[str]:
        """`class_key` and the keys of its bases this analysis can see, depth first."""
        order: list[str] = []
        stack = [class_key]
        while stack and len(order) < _MAX_MRO:
            key = stack.pop(0)
            if key in order:
                continue
            order.append(key)
            stack.extend(self._bases(key))
        return order

    def _bases(self, class_key: str) -> list[str]:
        local = self._local_classes().get(class_key)
        if local is not None:
            scope = local.parent_scope
            names = [self.model.qualified_name(base, scope) for base in local.node.bases]
            return [name for name in names if name is not None]
        if self.summaries is None:
            return []
        summary = self.summaries.find_class(class_key)
        return [base for base in summary.bases if base is not None] if summary else []

    def reach(self, start: Use, limit: int = MAX_DEPTH) -> Iterator[Reached]:
        """Every use the value at `start` flows to, through stores (into locals, attributes and
        containers), arguments, returns and the attributes of objects it is stored on, in this
        module and in the summaries of others. `start` itself comes first. A value stored inside
        another (`db.fetch = m`, `handlers = [m]`) travels with its holder when the holder is
        stored or passed on."""
        seen: set[tuple[Place, Steps]] = set()
        # (reached, pending): with `pending` steps, the use holds the value that many steps down.
        queue: list[tuple[Reached, Steps]] = [(Reached(start, (), (), start.always), ())]
        while queue:
            reached, pending = queue.pop(0)
            if not pending:
                yield reached
            if len(reached.path) >= limit:
                continue
            path = (*reached.path, reached.use)
            always = reached.always and reached.use.always
            for place, under in self.transfer_targets(reached.use):
                under = (*under, *pending)
                if (place, under) in seen:
                    continue
                seen.add((place, under))
                live = self._live_range(reached.use, place)
                for later in self.uses(place):
                    if later is reached.use or not _within(later, live):
                        continue
                    if place.kind == "attr" and self.rebound_before(later, reached.use):
                        continue  # `self.client = Inner()` first: another value
                    relative = _relative(later.steps, under)
                    if relative is not None:
                        # what went there was the value's `reached.steps` part
                        steps = (*reached.steps, *relative)
                        queue.append((Reached(later, steps, path, always and later.always), ()))
                    elif under[: len(later.steps)] == later.steps and later.role in _TRANSFERS:
                        held = Reached(later, reached.steps, path, always and later.always)
                        queue.append((held, under[len(later.steps) :]))
                if place.kind == "attr" and not under:
                    queue.extend((item, ()) for item in self._through_holder(place, path, always))

    def _through_holder(
        self, place: Place, path: tuple[Use, ...], always: bool
    ) -> Iterator[Reached]:
        """A value a constructor stored in `self.<name>` is also reached through the object the
        test holds: `w = Wrapper(stream=m)` then `w.stream.next = AsyncMock()` configures `m`."""
        constructor = next(
            (
                use
                for use in reversed(path)
                if use.role is Role.ARGUMENT
                and use.call is not None
                and (self.parameter_of(use) or Place("", "", "")).owner.startswith(
                    place.owner + "."
                )
            ),
            None,
        )
        if constructor is None or constructor.call is None:
            return
        made = self.use_of(constructor.call)
        if made is None:
            return
        for holder in self.reach(made, limit=2):
            if holder.steps[:1] == (place.name,) and holder.use.node is not None:
                yield Reached(holder.use, holder.steps[1:], path, always and holder.always)

    def rebound_before(self, use: Use, arriving: Use | None = None) -> bool:
        """Whether the function of a use of an attribute stores another value into that
        attribute first, on its unconditional path (`self.client = Inner(); await
        self.client.connect()`): the use sees that value, not the one `arriving` stored."""
        if use.node is None or use.function is None:
            return False
        position = _position(use.node)
        after = (0, 0)
        if arriving is not None and arriving.function is use.function and arriving.node:
            after = _position(arriving.node)
        return any(
            store is not arriving
            and store.function is use.function
            and store.always
            and store.node is not None
            and after < _position(store.node) < position
            for store in self.facts().stores.get(use.place, [])
        )

    def _live_range(self, store: Use, place: Place) -> tuple[_Position, _Position] | None:
        """Where a value stored into a local that is bound more than once can be read: from
        the store to the next binding in source order (None: everywhere)."""
        if place.kind != "local" or store.node is None or store.role is not Role.STORED:
            return None
        stores = self.facts().stores.get(place, [])
        if len(stores) < 2:
            return None
        start = _position(store.node)
        later = [
            _position(s.node) for s in stores if s.node is not None and _position(s.node) > start
        ]
        return start, min(later, default=(1 << 30, 0))

    def transfer_targets(self, use: Use) -> Iterator[tuple[Place, Steps]]:
        """Where the value at a transfer use goes: (place, steps under it)."""
        if use.role is Role.STORED and use.target is not None:
            steps = protocol_steps(use.target_steps)
            yield use.target, steps
            if steps and _is_attribute_step(steps[0]):
                # `svc.repo = value` where `svc = Service()`: an attribute of Service objects.
                for key in self.instance_classes(use.target) or ():
                    yield Place("attr", key, steps[0]), steps[1:]
        elif use.role is Role.ARGUMENT:
            parameter = self.parameter_of(use)
            if parameter is not None:
                yield parameter, use.target_steps
        elif use.role is Role.RETURNED:
            yield Place("return", use.where, ""), use.target_steps

    def parameter_of(self, use: Use) -> Place | None:
        """The parameter an argument binds, when the callee is known."""
        if use.argument is None:
            return None
        if use.callee is None:
            bound = self._instance_method(use)
            return None if bound is None else self._bound_parameter(bound, use.argument, 1)
        callee = use.callee
        if callee.startswith("self.") and use.function is not None:
            method = use.function.enclosing_method()
            if method is None or method.cls is None:
                return None
            owner = self._method_owner(self.class_key(method.cls), callee[5:])
            if owner is None:
                return None
            callee, shift = f"{owner}.{callee[5:]}", 1
        else:
            shift = 0
        parameters = self._parameters(callee)
        if parameters is None:
            init = self._parameters(f"{callee}.__init__")
            if init is None:
                return None
            callee, parameters, shift = f"{callee}.__init__", init, 1
        return self._bound_parameter(callee, use.argument, shift, parameters)

    def _bound_parameter(
        self,
        callee: str,
        argument: int | str,
        shift: int,
        parameters: tuple[str, ...] | None = None,
    ) -> Place | None:
        if parameters is None:
            parameters = self._parameters(callee)
            # a method called on an instance binds `self` (or `cls`) first; else stay silent.
            if not parameters or parameters[0] not in ("self", "cls"):
                return None
        if isinstance(argument, int):
            index = argument + shift
            return Place("param", callee, parameters[index]) if index < len(parameters) else None
        return Place("param", callee, argument) if argument in parameters else None

    def _instance_method(self, use: Use) -> str | None:
        """`gw.stream(x)` / `Gateway(h).stream(x)`: the method, when every value the receiver
        may hold is an instance of one class this analysis can see, that defines or inherits it."""
        func = use.call.func if use.call is not None else None
        if not isinstance(func, ast.Attribute):
            return None
        receiver = func.value
        scope = use.function.scope if use.function is not None else self.model.module_scope
        if isinstance(receiver, ast.Call):
            name = self.model.qualified_name(receiver.func, scope)
            classes = [name] if name is not None and self._is_known_class(name) else None
        else:
            place = self.place_of(receiver, scope, use.function)
            classes = self.instance_classes(place) if place is not None else None
        if not classes or len(set(classes)) != 1:
            return None
        owner = self._method_owner(classes[0], func.attr)
        return None if owner is None else f"{owner}.{func.attr}"

    def _is_known_class(self, name: str) -> bool:
        if name.startswith(self.model.module_name + ".") and name in self._local_classes():
            return True
        return self.summaries is not None and self.summaries.find_class(name) is not None

    def _method_owner(self, class_key: str, name: str) -> str | None:
        for key in self.mro(class_key):
            if self._parameters(f"{key}.{name}") is not None:
                return key
        return None

    def _parameters(self, function_key: str) -> tuple[str, ...] | None:
        local = self._local_functions().get(function_key)
        if local is not None:
            arguments = local.node.args
            return tuple(
                a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
            )
        if self._is_local(function_key) or self.summaries is None:
            return None
        summary = self.summaries.find_function(function_key)
        return summary.parameters if summary is not None and summary.parameters else None

    def _local_functions(self) -> dict[str, FunctionInfo]:
        cached = self.model.cache.get("flow:functions-by-key")
        if cached is None:
            cached = {self.function_key(function): function for function in self.model.functions}
            self.model.cache["flow:functions-by-key"] = cached
        functions: dict[str, FunctionInfo] = cached
        return functions

    # -- other modules -------------------------------------------------------------------------

    def _foreign_uses(self, place: Place) -> list[Use]:
        if self.summaries is None:
            return []
        if place.kind == "attr":
            cls = self.summaries.find_class(place.owner)
            if cls is None:
                return []
            return [
                use
                for name, method in cls.methods.items()
                for use in _uses_from_summary(method, f"{place.owner}.{name}", place.owner)
                if use.place == place
            ]
        if place.kind in ("param", "return"):
            function = self.summaries.find_function(place.owner)
            if function is None:
                return []
            owner_class = place.owner.rpartition(".")[0]
            return [
                use
                for use in _uses_from_summary(function, place.owner, owner_class)
                if use.place == place
            ]
        return []


def summary_facts(flow: Flow, function: FunctionInfo) -> tuple[FlowFact, ...]:
    """What a function does with its parameters and its object's attributes, for the index:
    each use of a parameter or `self` attribute, followed through the function's own locals."""
    key = flow.function_key(function)
    facts: list[FlowFact] = []
    for use in flow.uses_in(function):
        if use.place.kind not in ("param", "attr") or (
            use.place.kind == "param" and use.place.owner != key
        ):
            continue
        if use.place.kind == "attr" and flow.rebound_before(use):
            continue  # the function reads what it stored itself
        for reached in flow.reach(use, limit=4):
            inner = reached.use
            if inner.function is not function:
                continue
            if reached.path and inner.place.kind in ("param", "attr"):
                continue  # recorded from its own root
            facts.append(_fact(use, reached, inner))
    return tuple(dict.fromkeys(facts))


def _fact(root_use: Use, reached: Reached, use: Use) -> FlowFact:
    """The fact of `use`, reached from the use of a parameter or attribute `root_use`: its steps
    are spelled from the root place (the value `root_use` moved was `root.steps` of it)."""
    root = root_use.place
    steps = (*root_use.steps, *reached.steps) if reached.path else use.steps
    target_kind = target_name = ""
    target_steps: Steps = ()
    if use.target is not None and use.target.kind in ("attr", "return"):
        target_kind, target_name, target_steps = use.target.kind, use.target.name, use.target_steps
    argument = "" if use.argument is None else str(use.argument)
    return (
        root.kind,
        root.name,
        steps,
        use.role.value,
        reached.always and use.always,
        use.swallowed,
        target_kind,
        target_name,
        target_steps,
        use.callee or "",
        argument,
    )


def _uses_from_summary(function: FunctionSummary, where: str, class_key: str) -> Iterator[Use]:
    for fact in function.flow:
        (kind, name, steps, role, always, swallowed, t_kind, t_name, t_steps, callee, argument) = (
            fact
        )
        owner = class_key if kind == "attr" else where
        target = None
        if t_kind == "attr":
            target = Place("attr", class_key, t_name)
        elif t_kind == "return":
            target = Place("return", where, "")
        yield Use(
            place=Place(kind, owner, name),
            steps=tuple(steps),
            role=Role(role),
            node=None,
            function=None,
            where=where,
            always=bool(always),
            swallowed=bool(swallowed),
            target=target,
            target_steps=tuple(t_steps),
            argument=int(argument) if argument.isdigit() else (argument or None),
            callee=callee or None,
        )


_Position = tuple[int, int]


def _position(node: ast.AST) -> _Position:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _within(use: Use, live: tuple[_Position, _Position] | None) -> bool:
    if live is None or use.node is None:
        return True
    return live[0] < _position(use.node) < live[1]


def chain(expr: ast.expr) -> tuple[ast.Name | None, Steps]:
    """The root name and the steps of an access chain: `a.b(1)[0].c` -> (a, (b, (), [], c))."""
    steps: list[str] = []
    node: ast.expr = expr
    while True:
        if isinstance(node, ast.Attribute):
            steps.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            steps.append(CALL)
            node = node.func
        elif isinstance(node, ast.Subscript):
            steps.append(ITEM)
            node = node.value
        elif isinstance(node, ast.Name):
            return node, tuple(reversed(steps))
        else:
            return None, ()


def spell(root: str, steps: Sequence[str]) -> str:
    """`self.store.session.get(...)` from a root and steps."""
    text = root
    for step in steps:
        if step == CALL:
            text += "(...)"
        elif step == ITEM:
            text += "[...]"
        elif step in (ENTER, AENTER):
            text = f"(what {'async ' if step == AENTER else ''}with {text} gives)"
        else:
            text += f".{step}"
    return text


#: How a mock's configuration spells the steps code takes: `m.get.return_value = v` sets what
#: `m.get()` gives; `m.__aenter__.return_value = v` what `async with m as x` binds.
_PROTOCOL_NAMES: tuple[tuple[Steps, str], ...] = (
    (("__aenter__", "return_value"), AENTER),
    (("__enter__", "return_value"), ENTER),
    (("__getitem__", "return_value"), ITEM),
    (("return_value",), CALL),
)


def protocol_steps(names: Steps) -> Steps:
    """Flow steps for attribute names set on a mock: `("get", "return_value")` -> `("get",
    "()")`."""
    if "return_value" not in names:
        return names
    steps: list[str] = []
    index = 0
    while index < len(names):
        for spelled, step in _PROTOCOL_NAMES:
            if names[index : index + len(spelled)] == spelled:
                steps.append(step)
                index += len(spelled)
                break
        else:
            steps.append(names[index])
            index += 1
    return tuple(steps)


def _relative(steps: Steps, under: Steps) -> Steps | None:
    """The steps of a use relative to a value stored `under` its place (None: another value)."""
    return steps[len(under) :] if steps[: len(under)] == under else None


def _is_attribute_step(step: str) -> bool:
    return step not in (CALL, ITEM, ENTER, AENTER)


def _last(key: str) -> str:
    """`Repo.save` from `app.repo.Repo.save` (the last two parts)."""
    parts = key.split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 else key


def _owning_scope(model: SemanticModel, name: str, scope: Scope) -> Scope | None:
    """The scope whose binding `name` refers to from `scope` (Python's LEGB rule)."""
    current: Scope | None = scope
    first = True
    while current is not None:
        if name in current.globals:
            current = model.module_scope
        if (first or current.kind != "class") and name in current.bindings:
            return current
        first = False
        current = current.parent
    return None


def _binds_only_parameter(model: SemanticModel, name: str, scope: Scope, owner: Scope) -> bool:
    found = _owning_scope(model, name, scope)
    return (
        found is owner
        and len(owner.bindings[name]) == 1
        and owner.bindings[name][0].kind == "param"
    )


#: Statements and expressions whose parts may not run. A `for` body counts as running: tests
#: iterate what they set up, and the collections they pass are not empty.
_BRANCHING: tuple[type[ast.AST], ...] = (
    ast.If,
    ast.While,
    ast.IfExp,
    ast.BoolOp,
    ast.ExceptHandler,
    *(getattr(ast, name) for name in ("match_case",) if hasattr(ast, name)),
)
#: Builtins whose result holds the elements of their argument.
_COPYING_BUILTINS = frozenset(
    f"builtins.{name}" for name in ("list", "tuple", "set", "frozenset", "sorted", "dict")
)
_TRANSFERS = frozenset({Role.STORED, Role.ARGUMENT, Role.RETURNED})
_CHAINS = (ast.Attribute, ast.Call, ast.Subscript, ast.Name)
_CONTAINERS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_BROAD_EXCEPTIONS = frozenset(
    {"builtins.Exception", "builtins.BaseException", "builtins.TypeError"}
)
_EXITS = (ast.Return, ast.Raise)


def _may_exit_before(body: list[ast.stmt]) -> int:
    """The line after which a statement of the body may leave it first (a `return` or
    `raise` at any depth outside nested functions); a large number when none may."""
    for statement in body:
        if _may_exit(statement):
            return getattr(statement, "end_lineno", None) or statement.lineno
    return 1 << 30


def _may_exit(statement: ast.stmt) -> bool:
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, _EXITS):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


class _Walker:
    """Records the uses of every function body (and of the module body) of a model."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.model = flow.model
        self.facts = _Facts()

    def run(self) -> _Facts:
        for function in self.model.functions:
            self._walk(function.node.body, function.scope, function)
            self._bind_arguments(function)
        self._walk(self.model.tree.body, self.model.module_scope, None)
        return self.facts

    def _bind_arguments(self, function: FunctionInfo) -> None:
        """Parameters are bound by callers: `stores` of a parameter stay unknown (opaque)."""
        arguments = function.node.args
        for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            self.facts.opaque.add(Place("param", self.flow.function_key(function), argument.arg))

    def _walk(self, body: list[ast.stmt], scope: Scope, function: FunctionInfo | None) -> None:
        exits = _may_exit_before(body)
        # (node, always, swallowed)
        stack: list[tuple[ast.AST, bool, bool]] = [(s, True, False) for s in reversed(body)]
        while stack:
            node, always, swallowed = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                self._opaque_binding(node, scope, function)
                continue  # their bodies are walked as functions of their own
            if isinstance(node, _CHAINS) and self._is_maximal(node):
                self._record(node, scope, function, always, swallowed, exits)
            elif isinstance(node, ast.Assign) and chain(node.value)[0] is None:
                self._opaque_targets(node.targets, scope, function, node.value)
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                if chain(node.value)[0] is None:
                    self._opaque_targets([node.target], scope, function, node.value)
            elif isinstance(node, (ast.AugAssign, ast.ExceptHandler, ast.Import, ast.ImportFrom)):
                self._opaque_binding(node, scope, function)
            self._push_children(node, always, swallowed, stack)

    def _push_children(
        self, node: ast.AST, always: bool, swallowed: bool, stack: list[tuple[ast.AST, bool, bool]]
    ) -> None:
        branching = isinstance(node, _BRANCHING)
        first: Sequence[ast.AST] = []
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            first = [node.test]
        elif isinstance(node, ast.BoolOp):
            first = node.values[:1]
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            first = [node.iter]
        children = [child for child in ast.iter_child_nodes(node) if child not in first]
        inner_swallowed = swallowed
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            inner_swallowed = swallowed or self._catches_broadly(node)  # type: ignore[arg-type]
            body = set(map(id, node.body))  # type: ignore[attr-defined]
            for child in reversed(children):
                in_body = id(child) in body
                stack.append((child, always and in_body, inner_swallowed if in_body else swallowed))
            return
        for child in reversed(children):
            stack.append((child, always and not branching, swallowed))
        for child in reversed(first):
            stack.append((child, always, swallowed))

    def _catches_broadly(self, node: ast.Try) -> bool:
        scope = self.model.module_scope
        for handler in node.handlers:
            if handler.type is None:
                return True
            types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            for kind in types:
                name = self.model.qualified_name(kind, scope)
                if name is not None and canonical(name) in _BROAD_EXCEPTIONS:
                    return True
        return False

    def _is_maximal(self, node: ast.expr) -> bool:
        parent = self.model.parent(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            return False
        if isinstance(parent, ast.Call) and parent.func is node:
            return False
        return not (isinstance(parent, ast.Subscript) and parent.value is node)

    def _record(
        self,
        node: ast.expr,
        scope: Scope,
        function: FunctionInfo | None,
        always: bool,
        swallowed: bool,
        exits: int,
    ) -> None:
        root, steps = chain(node)
        if root is None:
            return
        located = self.flow.locate(root, steps, scope, function)
        if located is None:
            return
        place, rest = located
        where = self.flow.function_key(function) if function is not None else self.model.module_name
        after_exit = node.lineno > exits
        base = _UseBase(place, rest, node, function, where, always, swallowed, after_exit)
        for use in self._roles(base, scope):
            self.facts.add(use)

    def _roles(self, base: _UseBase, scope: Scope) -> Iterator[Use]:
        model = self.model
        context = getattr(base.node, "ctx", None)
        if context is not None and not isinstance(context, ast.Load):
            if base.steps:  # `x.a = v` / `x[k] = v`: the value of `x` is configured
                yield base.make(
                    Role.CONFIGURED, steps=base.steps[:-1], target_steps=base.steps[-1:]
                )
            return
        node = self._anchor(base.node)  # `store or Store()`: the value goes where the `or` goes
        parent = model.parent(node)
        if isinstance(parent, ast.Await):
            yield base.make(Role.AWAITED)
        elif isinstance(parent, ast.withitem) and parent.context_expr is node:
            is_async = isinstance(model.parent(parent), ast.AsyncWith)
            yield base.make(Role.ASYNC_WITH if is_async else Role.WITH)
            if parent.optional_vars is not None:
                entered = AENTER if is_async else ENTER
                yield from self._bind(parent.optional_vars, base, (entered,), scope)
        elif isinstance(parent, (ast.For, ast.AsyncFor)) and parent.iter is node:
            yield base.make(Role.ASYNC_FOR if isinstance(parent, ast.AsyncFor) else Role.ITERATED)
            yield from self._bind(parent.target, base, (ITEM,), scope)
        elif isinstance(parent, ast.comprehension) and parent.iter is node:
            yield base.make(Role.ASYNC_FOR if parent.is_async else Role.ITERATED)
            yield from self._bind(parent.target, base, (ITEM,), scope)
        elif isinstance(parent, ast.Call):
            yield self._argument(base, parent, scope)
        elif isinstance(parent, ast.keyword):
            call = model.parent(parent)
            if isinstance(call, ast.Call) and parent.arg is not None:
                yield self._argument(base, call, scope, parent.arg)
            else:
                yield base.make(Role.OTHER)
        elif (
            isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and parent.value is node
        ):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            for target in targets:
                yield from self._bind(target, base, (), scope)
        elif isinstance(parent, ast.Return):
            yield base.make(Role.RETURNED)
        elif isinstance(parent, (ast.Yield, ast.YieldFrom)):
            yield base.make(Role.YIELDED)
        elif isinstance(parent, ast.Expr):
            yield base.make(Role.DISCARDED)
        elif isinstance(parent, (_CONTAINERS, _COMPREHENSIONS)):
            yield from self._contained(base, parent, scope)
        elif isinstance(
            parent, (ast.If, ast.While, ast.Assert, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp)
        ):
            yield base.make(Role.TESTED)
        else:
            yield base.make(Role.OTHER)

    def _anchor(self, node: ast.expr) -> ast.expr:
        """The expression whose value `node` is or holds: `x or default`, `a if c else x`,
        `list(x)` (the same elements)."""
        current = node
        while True:
            parent = self.model.parent(current)
            if (
                (isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.Or))
                or (isinstance(parent, ast.IfExp) and parent.test is not current)
                or (
                    isinstance(parent, ast.Call)
                    and parent.args[:1] == [current]
                    and self.model.qualified_name(parent.func, self.model.module_scope)
                    in _COPYING_BUILTINS
                )
            ):
                current = parent
            else:
                return current

    def _argument(
        self,
        base: _UseBase,
        call: ast.Call,
        scope: Scope,
        keyword: str | None = None,
        anchor: ast.AST | None = None,
        under: Steps = (),
    ) -> Use:
        argument: Argument = keyword
        anchor = anchor if anchor is not None else self._anchor(base.node)
        if keyword is None:
            argument = next((i for i, a in enumerate(call.args) if a is anchor), None)
            if argument is None:
                return base.make(Role.OTHER)  # `*args`: position unknown
            if any(isinstance(a, ast.Starred) for a in call.args[:argument]):
                argument = None
        return base.make(
            Role.ARGUMENT,
            target_steps=under,
            call=call,
            argument=argument,
            callee=self._callee(call, base.function, scope),
        )

    def _callee(self, call: ast.Call, function: FunctionInfo | None, scope: Scope) -> str | None:
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and function is not None
        ):
            method = function.enclosing_method()
            if method is not None and method.cls is not None and func.value.id == method.receiver:
                return f"self.{func.attr}"
        name = self.model.qualified_name(func, scope)
        if name is None:
            return None
        if name == "functools.partial":
            return None
        return name

    def _contained(self, base: _UseBase, container: ast.expr, scope: Scope) -> Iterator[Use]:
        """An element of a literal or comprehension goes where the container goes, one `[]`
        step down per level of nesting."""
        if isinstance(container, ast.Dict) and base.node in container.keys:
            yield base.make(Role.OTHER)
            return
        under: Steps = (ITEM,)
        outer: ast.AST = container
        parent = self.model.parent(outer)
        while isinstance(parent, (_CONTAINERS, _COMPREHENSIONS)):
            under, outer = (*under, ITEM), parent
            parent = self.model.parent(outer)
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is outer:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            for target in targets:
                yield from self._bind(target, base, under, scope, contained=True)
        elif isinstance(parent, ast.Return):
            yield base.make(Role.RETURNED, target_steps=under)
        elif isinstance(parent, ast.Call) and outer in parent.args:
            yield self._argument(base, parent, scope, anchor=outer, under=under)
        elif isinstance(parent, ast.keyword) and parent.arg is not None:
            call = self.model.parent(parent)
            if isinstance(call, ast.Call):
                yield self._argument(base, call, scope, parent.arg, anchor=outer, under=under)
        else:
            yield base.make(Role.OTHER)

    def _bind(
        self, target: ast.expr, base: _UseBase, extra: Steps, scope: Scope, contained: bool = False
    ) -> Iterator[Use]:
        """The value (+ `extra` steps) is bound to `target`: a store into its place. Unpacking
        binds one element (`[]`) to each name; a container stores its element one step down.
        Iterating a dict's `.values()` or `.items()` binds its values (`[]` of the dict)."""
        view = base.steps[-2:]
        if extra == (ITEM,) and not contained and view in (("values", CALL), ("items", CALL)):
            values = replace(base, steps=base.steps[:-2])
            if view[0] == "values":
                yield from self._bind(target, values, (ITEM,), scope)
            elif isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == 2:
                yield from self._bind(target.elts[1], values, (ITEM,), scope)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                inner = element.value if isinstance(element, ast.Starred) else element
                yield from self._bind(inner, base, (*extra, ITEM), scope)
            return
        root, steps = chain(target)
        located = self.flow.locate(root, steps, scope, base.function) if root is not None else None
        if located is None:
            return
        place, under = located
        if contained:
            yield base.make(Role.STORED, target=place, target_steps=(*under, *extra))
        else:
            yield base.make(
                Role.STORED, steps=(*base.steps, *extra), target=place, target_steps=under
            )

    def _opaque_targets(
        self, targets: list[ast.expr], scope: Scope, function: FunctionInfo | None, value: ast.expr
    ) -> None:
        """`x = <not a chain>` (a literal, an `await`, a lambda...): a store whose value is the
        expression itself (containers are recorded by their elements)."""
        for target in targets:
            if isinstance(target, (ast.Tuple, ast.List)):
                for element in target.elts:
                    self._mark_opaque(element, scope, function)
                continue
            root, steps = chain(target)
            located = self.flow.locate(root, steps, scope, function) if root is not None else None
            if located is None or located[1]:
                continue
            where = (
                self.flow.function_key(function) if function is not None else self.model.module_name
            )
            self.facts.stores.setdefault(located[0], []).append(
                Use(
                    Place("<value>", where, ""),
                    (),
                    Role.STORED,
                    value,
                    function,
                    where,
                    target=located[0],
                )
            )

    def _opaque_binding(self, node: ast.AST, scope: Scope, function: FunctionInfo | None) -> None:
        if isinstance(node, ast.AugAssign):
            self._mark_opaque(node.target, scope, function)
        elif isinstance(node, ast.ExceptHandler):
            if node.name:
                self._mark_name(node.name, scope, function)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._mark_name(node.name, scope, function)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                self._mark_name((alias.asname or alias.name).split(".")[0], scope, function)

    def _mark_opaque(self, target: ast.expr, scope: Scope, function: FunctionInfo | None) -> None:
        root, steps = chain(target)
        located = self.flow.locate(root, steps, scope, function) if root is not None else None
        if located is not None and not located[1]:
            self.facts.opaque.add(located[0])

    def _mark_name(self, name: str, scope: Scope, function: FunctionInfo | None) -> None:
        self._mark_opaque(ast.Name(id=name, ctx=ast.Load()), scope, function)


@dataclass(frozen=True)
class _UseBase:
    place: Place
    steps: Steps
    node: ast.expr
    function: FunctionInfo | None
    where: str
    always: bool
    swallowed: bool
    after_exit: bool

    def make(self, role: Role, **changes: object) -> Use:
        fields: dict[str, object] = {
            "place": self.place,
            "steps": self.steps,
            "role": role,
            "node": self.node,
            "function": self.function,
            "where": self.where,
            "always": self.always,
            "swallowed": self.swallowed,
            "after_exit": self.after_exit,
        }
        fields.update(changes)
        return Use(**fields)  # type: ignore[arg-type]
