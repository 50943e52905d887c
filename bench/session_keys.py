"""Session-state keys of the app, and the files that reach each (issue 22, item 2): `python bench/session_keys.py
[CHECKOUT] [FILE ...]`. A key counts in a file that names it through st.session_state (`ss.run_path`,
`ss["run_path"]`, `ss.get("run_path")`, `"run_path" in ss`, `seed_key("run_path", …)`) or through its declaration in
ui/state.py (`state.RUN_PATH`); FILE ... keeps the keys those files reach. Compare two commits with `git archive`:
`git archive 568b1b7 app.py pages ui | tar -x -C /tmp/before && python bench/session_keys.py /tmp/before`."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

METHODS = {"get", "pop", "setdefault", "update", "keys", "items", "values", "clear", "to_dict"}


def declarations(root: Path) -> dict[str, str]:
    """Each name ui/state.py declares, with its key (a family's prefix ends in '*')."""
    path = root / "ui" / "state.py"
    found = {}
    for node in ast.walk(ast.parse(path.read_text())) if path.exists() else ():
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            kind = getattr(node.value.func, "id", "")
            if kind in ("value", "family") and isinstance(node.value.args[0], ast.Constant):
                found[node.targets[0].id] = node.value.args[0].value + ("*" if kind == "family" else "")
    return found


def _session_state(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "ss") or (
        isinstance(node, ast.Attribute) and node.attr == "session_state"
    )


def keys_in(path: Path, declared: dict[str, str]) -> set[str]:
    tree = ast.parse(path.read_text())
    constants = {
        n.targets[0].id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Constant)
    }

    def literal(node: ast.AST):
        if isinstance(node, ast.Constant):
            return node.value
        return constants.get(node.id) if isinstance(node, ast.Name) else None

    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _session_state(node.value) and node.attr not in METHODS:
            found.add(node.attr)
        elif isinstance(node, ast.Subscript) and _session_state(node.value):
            found.add(literal(node.slice))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _session_state(node.func.value):
            if node.func.attr in ("get", "pop", "setdefault") and node.args:
                found.add(literal(node.args[0]))
        elif isinstance(node, ast.Compare) and any(_session_state(c) for c in node.comparators):
            found.add(literal(node.left))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "seed_key" and node.args:
            found.add(literal(node.args[0]))
        elif path.name != "state.py" and isinstance(node, ast.Attribute) and node.attr in declared:
            if isinstance(node.value, ast.Name) and node.value.id == "state":
                found.add(declared[node.attr])
    return {key for key in found if isinstance(key, str)}


def main(argv: list[str]) -> None:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[1]
    only = set(argv[1:])
    declared = declarations(root)
    files = [root / "app.py", *sorted((root / "pages").glob("*.py")), *sorted((root / "ui").glob("*.py"))]
    where: dict[str, set[str]] = defaultdict(set)
    for path in files:
        for key in keys_in(path, declared):
            where[key].add(str(path.relative_to(root)))
    shown = [(key, sorted(paths)) for key, paths in where.items() if not only or set(paths) & only]
    for key, paths in sorted(shown, key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"{key:26s} {len(paths):2d}  {' '.join(paths)}")
    print(f"{len(shown)} keys; {len(declared)} declared in ui/state.py")


if __name__ == "__main__":
    main(sys.argv[1:])
