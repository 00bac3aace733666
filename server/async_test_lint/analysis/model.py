"""What one module means: scopes, bindings, qualified names, functions, classes and call sites.

Built by a single iterative walk over the `ast` (no recursion: a 5,000-deep expression is fine).
Name resolution is flow-insensitive and conservative: a name bound in a scope by two different
things (`try: import x` / `except ImportError: x = None`) resolves to nothing, and so does any
name a star import might provide. Rules treat "nothing" as "stay silent".
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Union

from ..parsing import ParsedSource
from .names import (
    BUILTIN_NAMES,
    NEUTRAL_CLASS_DECORATOR_PREFIXES,
    NEUTRAL_METACLASSES,
    RUNNER_METHODS,
    canonical,
)

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]


@dataclass
class Binding:
    """One way a name gets a value in a scope."""

    kind: str  # "import", "function", "class", "assign", "param", "other"
    qualified_name: str | None = None  # for imports, and defs at module level
    node: ast.AST | None = None  # the def/class node, or the assigned value
    function: FunctionInfo | None = None
    cls: ClassInfo | None = None


@dataclass
class Scope:
    kind: str  # "module", "class", "function"
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    qualname: str | None = None  # for class scopes: the class's dotted name in the module

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


@dataclass
class CallSite:
    node: ast.Call
    scope: Scope
    function: FunctionInfo | None
    cls: ClassInfo | None
    parent: ast.AST
    awaited: bool


@dataclass
class FunctionInfo:
    node: FunctionNode
    scope: Scope  # the function's own scope
    parent_scope: Scope
    cls: ClassInfo | None  # set when the function is directly a method
    parent: FunctionInfo | None
    calls: list[CallSite] = field(default_factory=list)
    awaits: list[ast.Await] = field(default_factory=list)
    #: `x.attr` reads in the body (lambdas included, nested defs excluded).
    attribute_loads: list[ast.Attribute] = field(default_factory=list)
    #: `=` statements directly in this function's body (nested defs have their own).
    assigns: list[ast.Assign] = field(default_factory=list)
    #: whether the body itself yields (nested defs, classes and lambdas excluded).
    yields: bool = False

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, ast.AsyncFunctionDef)

    @property
    def receiver(self) -> str | None:
        """The first positional parameter (`self` / `cls` of a method), if any."""
        arguments = self.node.args.posonlyargs or self.node.args.args
        return arguments[0].arg if arguments else None

    def enclosing_method(self) -> FunctionInfo | None:
        """The method this function is (or is nested in), if any."""
        function: FunctionInfo | None = self
        while function is not None and function.cls is None:
            function = function.parent
        return function


@dataclass
class ClassInfo:
    node: ast.ClassDef
    qualname: str
    scope: Scope
    parent_scope: Scope
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    #: simple assignments in the class body, by name.
    attributes: dict[str, ast.expr] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node.name


class SemanticModel:
    """The facts of one module; rules query it instead of walking the tree themselves."""

    def __init__(self, parsed: ParsedSource, module_name: str, path: str | None) -> None:
        self.parsed = parsed
        self.tree = parsed.tree
        self.module_name = module_name
        self.path = path
        self.module_scope = Scope("module", None)
        self.functions: list[FunctionInfo] = []
        self.classes: list[ClassInfo] = []
        self.calls: list[CallSite] = []
        self.calls_by_name: dict[str, list[CallSite]] = {}
        self.has_star_import = False
        #: every `x.<name>` assigned or deleted anywhere in the module (collected by the one walk).
        self.stored_attributes: set[str] = set()
        self._class_by_node: dict[int, ClassInfo] = {}
        self._function_by_node: dict[int, FunctionInfo] = {}
        self.parents: dict[int, ast.AST] = {}
        #: per-model memo for derived facts (keyed by the deriving function's purpose).
        self.cache: dict[str, Any] = {}
        self._qualified_names: dict[tuple[int, int], tuple[ast.AST, Scope, str | None]] = {}
        self._aliases: dict[tuple[str, frozenset[str]], set[str]] = {}
        _Builder(self).build()

    def release(self) -> None:
        """Break the model's reference cycles so it is freed by reference counting at once.

        Functions, classes, call sites, scopes and bindings point at each other; left alone, a
        dropped model waits for the cyclic collector, which must first scan all of it (tens of
        thousands of objects per keystroke in a large file). The model is unusable afterwards.
        """
        for function in self.functions:
            function.calls = []
            function.cls = None
            function.parent = None
            function.scope.bindings.clear()
        for cls in self.classes:
            cls.methods.clear()
            cls.scope.bindings.clear()
        self.module_scope.bindings.clear()
        self.functions = []
        self.classes = []
        self.calls = []
        self.calls_by_name.clear()
        self.cache.clear()
        self._class_by_node.clear()
        self._function_by_node.clear()
        self._qualified_names.clear()
        self._aliases.clear()

    # -- lookups -------------------------------------------------------------------------------

    def class_of(self, node: ast.ClassDef) -> ClassInfo | None:
        return self._class_by_node.get(id(node))

    def function_of(self, node: ast.AST) -> FunctionInfo | None:
        return self._function_by_node.get(id(node))

    def calls_named(self, *names: str) -> Iterator[CallSite]:
        """Call sites whose callee's last name part is one of `names` (cheap pre-filter)."""
        for name in names:
            yield from self.calls_by_name.get(name, ())

    def calls_to(self, *qualified_names: str) -> Iterator[CallSite]:
        """Call sites whose callee resolves to one of `qualified_names`, however it is spelled
        here (`mock.Mock()`, `Mock()`, `M()` after `from unittest.mock import Mock as M`)."""
        wanted = frozenset(qualified_names)
        names = {name.rpartition(".")[2] for name in wanted} | self._aliases_of(wanted)
        for site in self.calls_named(*sorted(names)):
            if self.callee_name(site) in wanted:
                yield site

    def _aliases_of(self, wanted: frozenset[str]) -> set[str]:
        """Local names bound (by import or `x = y`) to one of `wanted`, in any scope."""
        key = ("aliases", wanted)
        cached = self._aliases.get(key)
        if cached is None:
            cached = set()
            scopes = [self.module_scope, *(f.scope for f in self.functions)]
            scopes += [cls.scope for cls in self.classes]
            for scope in scopes:
                for name, bindings in scope.bindings.items():
                    if any(
                        b.kind in ("import", "assign") and self._binding_name(b, scope, 0) in wanted
                        for b in bindings
                    ):
                        cached.add(name)
            self._aliases[key] = cached
        return cached

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(id(node))

    # -- name resolution ---------------------------------------------------------------------

    def lookup(self, name: str, scope: Scope) -> list[Binding] | None:
        """The bindings `name` refers to from `scope` (Python's LEGB rule), None if unknown."""
        current: Scope | None = scope
        first = True
        while current is not None:
            if name in current.globals and current is not self.module_scope:
                current = self.module_scope
            if (first or current.kind != "class") and name in current.bindings:
                return current.bindings[name]
            first = False
            current = current.parent
        return None

    def resolve_binding(self, name: str, scope: Scope) -> Binding | None:
        """The single binding of `name`, or None when unbound, ambiguous or unknowable."""
        bindings = self.lookup(name, scope)
        if not bindings:
            return None
        first = bindings[0]
        if len(bindings) == 1:
            return first
        if first.qualified_name is not None and all(
            binding.qualified_name == first.qualified_name for binding in bindings[1:]
        ):
            return first
        return None

    def qualified_name(self, expr: ast.AST, scope: Scope, _depth: int = 0) -> str | None:
        """The canonical qualified name `expr` refers to, or None when it cannot be known."""
        if _depth == 0:
            # Memoised per (node, scope): the bindings are complete once the model is built.
            # The entry keeps `expr` and `scope` alive, so their ids cannot be reused meanwhile.
            key = (id(expr), id(scope))
            entry = self._qualified_names.get(key)
            if entry is not None and entry[0] is expr and entry[1] is scope:
                return entry[2]
            found = self._qualified_name(expr, scope, 0)
            self._qualified_names[key] = (expr, scope, found)
            return found
        return self._qualified_name(expr, scope, _depth)

    def _qualified_name(self, expr: ast.AST, scope: Scope, _depth: int) -> str | None:
        if _depth > 8:
            return None
        if isinstance(expr, ast.Name):
            bindings = self.lookup(expr.id, scope)
            if bindings is None:
                if self.has_star_import:
                    return None
                return f"builtins.{expr.id}" if expr.id in BUILTIN_NAMES else None
            names = {self._binding_name(binding, scope, _depth) for binding in bindings}
            if len(names) != 1:
                return None
            return names.pop()
        if isinstance(expr, ast.Attribute):
            base = self.qualified_name(expr.value, scope, _depth + 1)
            return None if base is None else canonical(f"{base}.{expr.attr}")
        return None

    def _binding_name(self, binding: Binding, scope: Scope, depth: int) -> str | None:
        if binding.qualified_name is not None:
            return binding.qualified_name
        if binding.kind == "assign" and isinstance(binding.node, (ast.Name, ast.Attribute)):
            # `run = asyncio.run`: an alias, resolved where it was written.
            return self.qualified_name(binding.node, scope, depth + 1)
        return None

    def callee_name(self, call: CallSite) -> str | None:
        return self.qualified_name(call.node.func, call.scope)

    def source_of(self, node: ast.AST) -> str:
        return self.parsed.source_of(node)


def _terminal_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


class _Builder:
    """The one walk. Each stack entry is (node, scope, function, class)."""

    def __init__(self, model: SemanticModel) -> None:
        self.model = model

    def build(self) -> None:
        model = self.model
        stack: list[tuple[ast.AST, Scope, FunctionInfo | None, ClassInfo | None]] = [
            (child, model.module_scope, None, None) for child in reversed(model.tree.body)
        ]
        for statement in model.tree.body:
            model.parents[id(statement)] = model.tree
        parents = model.parents
        awaited: set[int] = set()
        while stack:
            node, scope, function, cls = stack.pop()
            kind = type(node)
            if kind is ast.Call:
                self._record_call(node, scope, function, cls, awaited)  # type: ignore[arg-type]
            elif kind is ast.Attribute:
                if type(node.ctx) is not ast.Load:  # type: ignore[attr-defined]
                    model.stored_attributes.add(node.attr)  # type: ignore[attr-defined]
                elif function is not None:
                    function.attribute_loads.append(node)  # type: ignore[arg-type]
            elif kind is ast.Await:
                awaited.add(id(node.value))  # type: ignore[attr-defined]
                if function is not None:
                    function.awaits.append(node)  # type: ignore[arg-type]
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                self._enter_function(node, scope, function, cls, stack)  # type: ignore[arg-type]
                continue
            elif kind is ast.ClassDef:
                self._enter_class(node, scope, function, stack)  # type: ignore[arg-type]
                continue
            elif kind is ast.Lambda:
                self._enter_lambda(node, scope, function, cls, stack)  # type: ignore[arg-type]
                continue
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._bind_import(node, scope)  # type: ignore[arg-type]
            elif kind is ast.Assign:
                self._bind_assign(node.targets, node.value, scope, cls)  # type: ignore[attr-defined]
                if function is not None:
                    function.assigns.append(node)  # type: ignore[arg-type]
            elif kind is ast.AnnAssign:
                self._bind_assign([node.target], node.value, scope, cls)  # type: ignore[attr-defined]
            elif kind is ast.Global:
                scope.globals.update(node.names)  # type: ignore[attr-defined]
            elif kind is ast.Nonlocal:
                scope.nonlocals.update(node.names)  # type: ignore[attr-defined]
            elif kind is ast.Name and not isinstance(node.ctx, ast.Load):  # type: ignore[attr-defined]
                if not _is_assignment_target(node, parents):  # type: ignore[arg-type]
                    scope.bind(node.id, Binding("other"))  # type: ignore[attr-defined]
            elif kind is ast.Yield or kind is ast.YieldFrom:
                if function is not None and scope is function.scope:
                    function.yields = True
            elif kind is ast.alias or kind is ast.arguments:
                continue
            elif kind is ast.ExceptHandler and node.name:  # type: ignore[attr-defined]
                scope.bind(node.name, Binding("other"))  # type: ignore[attr-defined]
            elif kind in _MATCH_CAPTURES:
                captured = getattr(node, "name", None) or getattr(node, "rest", None)
                if captured:
                    scope.bind(captured, Binding("other"))
            for child in _children(node):
                parents[id(child)] = node
                stack.append((child, scope, function, cls))
        for call in model.calls:
            call.awaited = id(call.node) in awaited

    def _record_call(
        self,
        node: ast.Call,
        scope: Scope,
        function: FunctionInfo | None,
        cls: ClassInfo | None,
        awaited: set[int],
    ) -> None:
        model = self.model
        site = CallSite(node, scope, function, cls, model.parents.get(id(node), model.tree), False)
        model.calls.append(site)
        name = _terminal_name(node.func)
        if name is not None:
            model.calls_by_name.setdefault(name, []).append(site)
        if function is not None:
            function.calls.append(site)

    def _bind_assign(
        self, targets: list[ast.expr], value: ast.expr | None, scope: Scope, cls: ClassInfo | None
    ) -> None:
        for target in targets:
            if isinstance(target, ast.Name):
                scope.bind(target.id, Binding("assign", node=value))
                if scope.kind == "class" and cls is not None and value is not None:
                    cls.attributes[target.id] = value

    def _bind_import(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        model = self.model
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.bind(alias.asname, Binding("import", canonical(alias.name)))
                else:
                    top = alias.name.split(".")[0]
                    scope.bind(top, Binding("import", canonical(top)))
            return
        base = self._import_base(node)
        for alias in node.names:
            if alias.name == "*":
                if scope is model.module_scope:
                    model.has_star_import = True
                continue
            local = alias.asname or alias.name
            qualified = None if base is None else canonical(f"{base}.{alias.name}")
            scope.bind(local, Binding("import", qualified) if qualified else Binding("other"))

    def _import_base(self, node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module
        package = self.model.module_name.split(".")
        is_package = bool(self.model.path) and str(self.model.path).endswith("__init__.py")
        keep = len(package) - node.level + (1 if is_package else 0)
        if keep < 0 or (keep == 0 and not node.module):
            return None
        prefix = package[:keep]
        if node.module:
            prefix.append(node.module)
        return ".".join(prefix) or None

    def _enter_function(
        self,
        node: FunctionNode,
        scope: Scope,
        function: FunctionInfo | None,
        cls: ClassInfo | None,
        stack: list[tuple[ast.AST, Scope, FunctionInfo | None, ClassInfo | None]],
    ) -> None:
        model = self.model
        method_of = cls if scope.kind == "class" else None
        info = FunctionInfo(node, Scope("function", scope), scope, method_of, function)
        model.functions.append(info)
        model._function_by_node[id(node)] = info
        qualified = f"{model.module_name}.{node.name}" if scope is model.module_scope else None
        scope.bind(node.name, Binding("function", qualified, node, function=info))
        if method_of is not None:
            method_of.methods[node.name] = info
        self._bind_parameters(node.args, info.scope)
        parents = model.parents
        outer = [*node.decorator_list, *_argument_defaults(node.args)]
        if node.returns is not None:
            outer.append(node.returns)
        for child in outer:
            parents[id(child)] = node
            stack.append((child, scope, function, cls))
        for statement in node.body:
            parents[id(statement)] = node
            stack.append((statement, info.scope, info, cls))

    def _enter_lambda(
        self,
        node: ast.Lambda,
        scope: Scope,
        function: FunctionInfo | None,
        cls: ClassInfo | None,
        stack: list[tuple[ast.AST, Scope, FunctionInfo | None, ClassInfo | None]],
    ) -> None:
        lambda_scope = Scope("lambda", scope)
        self._bind_parameters(node.args, lambda_scope)
        parents = self.model.parents
        for child in _argument_defaults(node.args):
            parents[id(child)] = node
            stack.append((child, scope, function, cls))
        parents[id(node.body)] = node
        stack.append((node.body, lambda_scope, function, cls))

    def _enter_class(
        self,
        node: ast.ClassDef,
        scope: Scope,
        function: FunctionInfo | None,
        stack: list[tuple[ast.AST, Scope, FunctionInfo | None, ClassInfo | None]],
    ) -> None:
        model = self.model
        enclosing = _enclosing_class_qualname(scope)
        qualname = f"{enclosing}.{node.name}" if enclosing else node.name
        info = ClassInfo(node, qualname, Scope("class", scope, qualname=qualname), scope)
        model.classes.append(info)
        model._class_by_node[id(node)] = info
        at_module_level = scope is model.module_scope
        qualified = f"{model.module_name}.{node.name}" if at_module_level else None
        scope.bind(node.name, Binding("class", qualified, node, cls=info))
        parents = model.parents
        for child in [*node.decorator_list, *node.bases, *node.keywords]:
            parents[id(child)] = node
            stack.append((child, scope, function, None))
        for statement in node.body:
            parents[id(statement)] = node
            stack.append((statement, info.scope, function, info))

    @staticmethod
    def _bind_parameters(arguments: ast.arguments, scope: Scope) -> None:
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        if arguments.vararg is not None:
            every.append(arguments.vararg)
        if arguments.kwarg is not None:
            every.append(arguments.kwarg)
        for argument in every:
            scope.bind(argument.arg, Binding("param"))


def _enclosing_class_qualname(scope: Scope) -> str | None:
    return scope.qualname if scope.kind == "class" else None


def _is_assignment_target(name: ast.Name, parents: dict[int, ast.AST]) -> bool:
    """Direct targets of `=` and annotated assignments are bound with their value elsewhere."""
    parent = parents.get(id(name))
    if isinstance(parent, ast.Assign):
        return any(target is name for target in parent.targets)
    return isinstance(parent, ast.AnnAssign) and parent.target is name


def _argument_defaults(arguments: ast.arguments) -> list[ast.expr]:
    defaults: list[ast.expr] = [*arguments.defaults]
    defaults.extend(default for default in arguments.kw_defaults if default is not None)
    return defaults


#: Pattern nodes that bind a name (`case [x, *rest]`, `case {**rest}`); absent before 3.10.
_MATCH_CAPTURES = frozenset(
    getattr(ast, name) for name in ("MatchAs", "MatchStar", "MatchMapping") if hasattr(ast, name)
)

_FIELDS_CACHE: dict[type, tuple[str, ...]] = {}


def _children(node: ast.AST) -> Iterator[ast.AST]:
    kind = type(node)
    fields = _FIELDS_CACHE.get(kind)
    if fields is None:
        fields = tuple(
            name for name in kind._fields if name not in ("ctx", "type_comment", "type_ignores")
        )
        _FIELDS_CACHE[kind] = fields
    for name in fields:
        value = getattr(node, name, None)
        if value is None:
            continue
        if isinstance(value, list):
            for item in reversed(value):
                if isinstance(item, ast.AST):
                    yield item
        elif isinstance(value, ast.AST):
            yield value


def decorator_name(model: SemanticModel, decorator: ast.expr, scope: object) -> str | None:
    """The qualified name of a decorator, `@x(...)` read as `x`."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return model.qualified_name(target, scope)  # type: ignore[arg-type]


def has_custom_runner(model: SemanticModel, cls: ClassInfo) -> bool:
    """Whether the class overrides how its tests run (runner methods, `__init_subclass__`, a
    metaclass or class decorator this analysis does not know): its tests are not modelled."""
    if any(name in RUNNER_METHODS or name == "__init_subclass__" for name in cls.methods):
        return True
    for keyword in cls.node.keywords:
        if keyword.arg == "metaclass":
            name = model.qualified_name(keyword.value, cls.parent_scope)
            if name not in NEUTRAL_METACLASSES:
                return True
    for decorator in cls.node.decorator_list:
        name = decorator_name(model, decorator, cls.parent_scope)
        if name is None or not name.startswith(NEUTRAL_CLASS_DECORATOR_PREFIXES):
            return True
    return False
