"""The `ui` package says where things live: pages import each helper from the module that holds it, no
private name crosses modules, and the plain-words helpers depend on nothing above them. Read with ast."""

from __future__ import annotations

import ast
from pathlib import Path

from test_imports import circles

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
PROJECT = [*PAGES, *sorted((ROOT / "ui").glob("*.py")), *sorted((ROOT / "charlab").rglob("*.py"))]


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def test_ui_exports_only_the_registry_that_scripts_outside_the_app_use():
    exported = {alias.asname or alias.name for node in tree(ROOT / "ui" / "__init__.py").body
                if isinstance(node, ast.ImportFrom) for alias in node.names}  # fmt: skip
    assert exported == {"registry"}


def test_pages_import_each_helper_from_its_own_module():
    for page in PAGES:
        for node in ast.walk(tree(page)):
            if isinstance(node, ast.Import):
                assert all(alias.name != "ui" for alias in node.names), f"{page.name}: import ui"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert node.value.id != "ui", f"{page.name}: ui.{node.attr}"


def test_no_private_name_is_imported_from_another_module():
    for path in PROJECT:
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("ui", "charlab")):
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                assert not private, f"{path.relative_to(ROOT)} imports {private} from {node.module}"


def test_the_words_for_numbers_need_neither_the_job_registry_nor_the_cluster():
    imported = set()
    for node in ast.walk(tree(ROOT / "ui" / "formatting.py")):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported.isdisjoint(
        {"ui.job_registry", "charlab.server.jobs", "charlab.server.cluster", "charlab.server.backends"}
    )


def test_the_pages_run_info_is_not_charlabs_under_the_same_name():
    """charlab.saving.runs.run_info reads any run folder; the pages' helper also says None for another's run."""
    names = {node.name for node in tree(ROOT / "ui" / "saved_runs.py").body if isinstance(node, ast.FunctionDef)}
    assert "run_info" not in names and "allowed_run_info" in names


def ui_imports(source: str, modules: set[str]) -> set[str]:
    """The ui modules one module's source imports, wherever the import statement stands (inside a function too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "ui":
                found |= {alias.name for alias in node.names}  # `from ui import state`
            elif node.module.startswith("ui."):
                found.add(node.module.removeprefix("ui."))
        elif isinstance(node, ast.Import):
            found |= {alias.name.removeprefix("ui.") for alias in node.names if alias.name.startswith("ui.")}
    return found & modules


def ui_import_graph() -> dict[str, set[str]]:
    paths = [path for path in (ROOT / "ui").glob("*.py") if path.stem != "__init__"]
    modules = {path.stem for path in paths}
    return {path.stem: ui_imports(path.read_text(encoding="utf-8"), modules) - {path.stem} for path in paths}


def test_the_ui_graph_sees_an_import_inside_a_function():
    modules = {"widget_state", "start_from", "state"}
    assert ui_imports("def f():\n    from ui.start_from import preset_start\n", modules) == {"start_from"}
    assert ui_imports("from ui import state\nimport ui.widget_state\n", modules) == {"state", "widget_state"}
    graph = {"widget_state": {"start_from"}, "start_from": {"widget_state", "state"}, "state": set()}
    assert circles(graph) == [["start_from", "widget_state"]]


def test_no_ui_module_imports_one_that_imports_it_back():
    graph = ui_import_graph()
    assert len(graph) > 20 and graph["train"] >= {"state", "jobs"}  # all was read
    assert circles(graph) == []


def test_the_train_and_home_pages_read_widgets_call_and_draw():
    """The pages hold no logic of their own: no function, no error handling (Start and Continue share
    ui.train.start_or_continue), no look at a run's files; each group of widgets is drawn by a call."""
    for name in ("train.py", "home.py"):
        page = tree(ROOT / "pages" / name)
        logic = [
            f"{type(node).__name__} at line {node.lineno}"
            for node in ast.walk(page)
            if isinstance(node, (ast.FunctionDef, ast.Try, ast.ClassDef, ast.Lambda))
            or (isinstance(node, ast.Attribute) and node.attr in ("exists", "session_state"))
        ]
        assert logic == [], f"pages/{name}: {logic}"


def test_ui_init_lists_every_module_after_the_ones_it_imports():
    """ui/__init__'s list is a reading order ("each importing only those above it"): it names every module, and
    none imports one listed below it."""
    listed = [line[2:].split(":")[0] for line in ast.get_docstring(tree(ROOT / "ui" / "__init__.py")).splitlines()
              if line.startswith("- ")]  # fmt: skip
    graph = ui_import_graph()
    assert set(listed) == set(graph)
    below = {module: sorted(graph[module] & set(listed[i + 1 :])) for i, module in enumerate(listed)}
    assert {module: found for module, found in below.items() if found} == {}
