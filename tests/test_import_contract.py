"""The package's import contract: arrows point one way and no two modules import each other.

Layers, lowest first: the vocabulary (`model`, `source`, `parsing`), `analysis`, the rule
`context`, `fixes`, `rules`, the engine and what serves it, and the front ends (`cli`, `lsp`). A
module may import its own layer or a lower one, never a higher one. Imports inside functions
(done lazily for speed) count like any other; imports under `if TYPE_CHECKING:` are type
annotations only and are left out of the cycle check, not of the layer check.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "server" / "async_test_lint"
ROOT = "async_test_lint"

#: The first matching prefix decides a module's layer (a higher number is a higher layer).
LAYERS: tuple[tuple[str, int], ...] = (
    ("model", 0),
    ("source", 0),
    ("parsing", 0),
    ("analysis", 1),
    ("context", 2),
    ("fixes", 3),
    ("rules", 4),
    ("engine", 5),
    ("noqa", 5),
    ("docs", 5),
    ("config", 5),
    ("prefilter", 5),
    ("results_cache", 5),
    ("workspace", 5),
    ("discovery", 5),
    ("storage", 5),
    ("output", 5),
    ("cli", 6),
    ("lsp", 6),
    ("__main__", 6),
    ("", 0),  # the package's own __init__: its version string
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _layer(module: str) -> int:
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + ".") or prefix == "":
            return layer
    raise AssertionError(module)


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return hidden


def _imports(module: str, path: Path, known: dict[str, Path]) -> list[tuple[str, bool]]:
    """(imported module, only for type checking) for each import of the package's modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and (node.module == ROOT or node.module.startswith(ROOT + ".")):
                target = node.module[len(ROOT) + 1 :]
            else:
                continue
            candidates = [f"{target}.{alias.name}".lstrip(".") for alias in node.names]
            targets = [name for name in candidates if name in known] or [target]
        elif isinstance(node, ast.Import):
            targets = [
                alias.name[len(ROOT) + 1 :]
                for alias in node.names
                if alias.name.startswith(ROOT + ".")
            ]
        found.extend((target, id(node) in hidden) for target in targets)
    return found


def _graph() -> dict[str, list[tuple[str, bool]]]:
    known = _modules()
    return {module: _imports(module, path, known) for module, path in known.items()}


def test_imports_point_down() -> None:
    upward = [
        f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
        for module, imports in _graph().items()
        for target, _ in imports
        if _layer(target) > _layer(module)
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    graph = {
        module: sorted({target for target, typing_only in imports if not typing_only} - {module})
        for module, imports in _graph().items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in graph.get(module, ()):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize(
    ("importer", "imported"),
    [("analysis.flow", "fixes.edits"), ("rules.atl101", "lsp.server"), ("fixes.convert", "rules")],
)
def test_the_contract_catches_an_upward_import(importer: str, imported: str) -> None:
    assert _layer(imported) > _layer(importer)
