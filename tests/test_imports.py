"""charlab's modules import each other without a circle: each can be read (and tested) after the ones it
builds on. Read from the source with ast, so an import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

CHARLAB = Path(__file__).resolve().parents[1] / "charlab"


def charlab_imports(source: str, modules: set[str]) -> set[str]:
    """The charlab modules one module's source imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] == "charlab":
                found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("charlab.")}
    return found & modules


def import_graph(package: Path) -> dict[str, set[str]]:
    modules = {path.stem for path in package.glob("*.py")}
    return {
        path.stem: charlab_imports(path.read_text(encoding="utf-8"), modules) - {path.stem}
        for path in package.glob("*.py")
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another, directly or round a longer loop (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_circle_finder_finds_a_circle_through_a_function_level_import():
    graph = {
        "workers": charlab_imports("def f():\n    from charlab import cluster\n", {"cluster"}),
        "cluster": charlab_imports("from charlab.workers import Base\n", {"workers"}),
        "model": set(),
    }
    assert circles(graph) == [["cluster", "workers"]]


def test_no_charlab_module_imports_one_that_imports_it_back():
    graph = import_graph(CHARLAB)
    assert len(graph) > 30 and graph["backends"] >= {"workers", "cluster"}  # the whole package was read
    assert circles(graph) == []
