"""A page reads as a list of calls: it reads widgets through the functions that draw them, calls, and draws
(issue 22, item 2). Loops, error handling, functions of its own and comprehensions are logic, which lives in
ui/ (drawing) or charlab/ (knowledge) where it can be found and tested. Read with ast."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "pages").glob("*.py"))
LOGIC = (ast.Try, ast.For, ast.While, ast.FunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.DictComp,
         ast.SetComp, ast.GeneratorExp)  # fmt: skip


def logic_in(source: str) -> list[str]:
    """What in a page's source is logic rather than a call: each as 'line: kind'."""
    return [f"{node.lineno}: {type(node).__name__}" for node in ast.walk(ast.parse(source)) if isinstance(node, LOGIC)]


def test_the_scan_finds_logic_however_small():
    assert logic_in("x = [a for a in b]\n") == ["1: ListComp"]
    assert logic_in("try:\n    f()\nexcept E:\n    g()\n") == ["1: Try"]
    assert logic_in("if clicked:\n    write(run)\nwith column:\n    draw()\n") == []


def test_pages_read_widgets_call_and_draw():
    found = {f"{page.relative_to(ROOT)}": logic_in(page.read_text(encoding="utf-8")) for page in PAGES}
    assert {page: lines for page, lines in found.items() if lines} == {}
    assert len(found) >= 7  # every page: Home, Corpus, Train, Generate, Look inside, Privacy, the board
