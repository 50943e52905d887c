"""charlab's modules import each other without a circle, and its folders in one direction: text, then network,
saving, learning, and on top server and teaching, which never import each other. So each module can be read
(and tested) after the ones it builds on, and a folder never reaches up. Read from the source with ast, so an
import inside a function counts too."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CHARLAB = Path(__file__).resolve().parents[1] / "charlab"
FOLDERS = ("text", "network", "saving", "learning", "server", "teaching")  # each may import only those before it
BESIDE = {"server": "teaching", "teaching": "server"}  # the two on top stay apart
# charlab's top-level modules a folder may use, from the first folder that may: errors and environment depend on
# nothing; limits (a shared server's limits, read from the environment like environment's) counts parameters
CONFIGURATION = {"errors": "text", "environment": "text", "limits": "learning"}


def module_name(path: Path, package: Path) -> str:
    """'learning.training' for charlab/learning/training.py, 'errors' for charlab/errors.py."""
    return ".".join(path.relative_to(package).with_suffix("").parts)


def charlab_imports(source: str, modules: set[str]) -> set[str]:
    """The charlab modules one module's source imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "charlab" or node.module.startswith("charlab."):
                inside = node.module.removeprefix("charlab").lstrip(".")
                found.add(inside)  # `from charlab.learning.training import x`
                found |= {
                    f"{inside}.{alias.name}".lstrip(".") for alias in node.names
                }  # `from charlab.learning import training`
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("charlab.") for a in node.names if a.name.startswith("charlab.")}
    return found & modules


def import_graph(package: Path) -> dict[str, set[str]]:
    paths = [path for path in package.rglob("*.py") if path.stem != "__init__"]
    modules = {module_name(path, package) for path in paths}
    return {
        module_name(path, package): charlab_imports(path.read_text(encoding="utf-8"), modules)
        - {module_name(path, package)}
        for path in paths
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


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import from a folder into one it may not use (a later folder, or the other one on top)."""
    wrong = []
    for module, imported in sorted(graph.items()):
        folder = module.split(".")[0]
        if folder not in FOLDERS:
            continue  # the top-level modules (cli, limits) put the folders together
        allowed = set(FOLDERS[: FOLDERS.index(folder) + 1]) - {BESIDE.get(folder)}
        allowed |= {name for name, first in CONFIGURATION.items() if FOLDERS.index(first) <= FOLDERS.index(folder)}
        wrong += [f"{module} → {other}" for other in sorted(imported) if other.split(".")[0] not in allowed]
    return wrong


def test_the_circle_finder_finds_a_circle_through_a_function_level_import():
    modules = {"server.workers", "server.cluster", "network.model"}
    graph = {
        "server.workers": charlab_imports("def f():\n    from charlab.server import cluster\n", modules),
        "server.cluster": charlab_imports("from charlab.server.workers import Base\n", modules),
        "network.model": set(),
    }
    assert circles(graph) == [["server.cluster", "server.workers"]]


def test_the_direction_check_finds_an_import_that_reaches_up():
    modules = {"network.model", "learning.training", "server.jobs", "teaching.lessons", "errors", "limits"}
    graph = {
        "network.model": charlab_imports(
            "from charlab import errors, limits\nfrom charlab.learning import training\n", modules
        ),
        "teaching.lessons": charlab_imports("import charlab.server.jobs\n", modules),
        "server.jobs": charlab_imports("from charlab.learning.training import TrainingJob\n", modules),
    }
    assert upward_imports(graph) == [
        "network.model → learning.training",
        "network.model → limits",
        "teaching.lessons → server.jobs",
    ]


def test_no_charlab_module_imports_one_that_imports_it_back():
    graph = import_graph(CHARLAB)
    assert len(graph) > 30 and graph["server.backends"] >= {"server.workers", "server.cluster"}  # all was read
    assert circles(graph) == []


def test_charlab_folders_import_only_the_folders_below_them():
    graph = import_graph(CHARLAB)
    assert {module.split(".")[0] for module in graph} >= set(FOLDERS)
    assert upward_imports(graph) == []


def test_import_charlab_imports_no_module_until_a_name_is_used():
    """charlab/__init__.py imports nothing itself: a server's threads importing charlab's modules at once never wait
    on a package half imported (`from charlab import environment` in one thread, the whole public API in another:
    a deadlock). Its public names still work, each from its own module."""
    script = (
        "import sys, charlab\n"
        "print(sorted(m for m in sys.modules if m.startswith('charlab')))\n"
        "from charlab import Corpus, TrainingJob\n"
        "every = all(getattr(charlab, name) is not None for name in charlab.__all__)\n"
        "print(Corpus.__module__, TrainingJob.__module__, every)\n"
    )
    said = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=CHARLAB.parent, check=True
    )
    assert said.stdout.split("\n")[:2] == [
        "['charlab']",
        "charlab.text.corpus charlab.learning.training True",
    ]
