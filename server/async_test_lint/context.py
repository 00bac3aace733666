"""What a rule sees of one file: the parsed text, the semantic model and its queries, the settings.

It sits beside the engine (which builds it) and below the rules and fixes (which read it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import ClassVar, Protocol, Union

from .analysis.flow import Flow
from .analysis.model import ClassInfo, FunctionInfo, SemanticModel
from .analysis.semantics import Semantics
from .model import Diagnostic, Fix, FixBuilder, LazyFix, Safety, Settings, Severity, TextRange
from .parsing import ParsedSource


class RuleIdentity(Protocol):
    """What a diagnostic needs to know of the rule that reports it."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]


Node = Union[ast.AST, TextRange]


class Context:
    """What a rule sees of one file: the model, the semantic queries, the settings."""

    def __init__(
        self,
        parsed: ParsedSource,
        model: SemanticModel,
        semantics: Semantics,
        settings: Settings,
        path: str | None,
    ) -> None:
        self.parsed = parsed
        self.model = model
        self.semantics = semantics
        self.settings = settings
        self.path = path
        self.text = parsed.text

    @property
    def flow(self) -> Flow:
        return self.semantics.flow

    @property
    def target(self) -> tuple[int, int]:
        return self.settings.target_version

    def range(self, node: Node) -> TextRange:
        return node if isinstance(node, TextRange) else self.parsed.node_range(node)

    def source_of(self, node: ast.AST) -> str:
        return self.parsed.source_of(node)

    def report(
        self,
        rule: RuleIdentity,
        node: Node,
        message: str,
        fix: Fix | LazyFix | None = None,
    ) -> Diagnostic:
        lazy = LazyFix.ready(fix) if isinstance(fix, Fix) else fix
        return Diagnostic(
            code=rule.code,
            name=rule.name,
            message=message,
            range=self.range(node),
            severity=rule.severity,
            lazy_fix=lazy,
        )

    def lazy_fix(self, title: str, safety: Safety, builder: FixBuilder) -> LazyFix:
        return LazyFix(title, safety, builder)

    # -- iteration helpers shared by rules ---------------------------------------------------

    def unittest_classes(self) -> Iterator[tuple[ClassInfo, object]]:
        for cls in self.model.classes:
            kind = self.semantics.kind(cls)
            if kind.is_unittest:
                yield cls, kind

    def test_methods(self, cls: ClassInfo) -> Iterator[FunctionInfo]:
        for name, method in cls.methods.items():
            if name.startswith("test"):
                yield method
