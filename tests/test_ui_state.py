"""Session state is declared once (ui/state.py): no other module of the app touches st.session_state, so each key,
what it holds and its first value are found in one place. Read with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import ui.state as state

ROOT = Path(__file__).resolve().parents[1]
APP = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]

# modules not yet moved to ui/state.py's declarations (issue 22, item 2): emptied as each is
PENDING_TRAIN: set[str] = set()

PENDING_OTHERS: set[str] = set()  # Corpus, Generate, Look inside, Privacy, the board, the sidebar, My runs


def touches_session_state(source: str) -> list[int]:
    """The lines that name st.session_state (or session_state imported from streamlit)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "session_state":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and any(alias.name == "session_state" for alias in node.names):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_scan_finds_session_state_however_it_is_reached():
    assert touches_session_state("import streamlit as st\nss = st.session_state\nss.run_path = 1\n") == [2]
    assert touches_session_state("from streamlit import session_state\n") == [1]
    assert touches_session_state("state.RUN_PATH.set(None)\n") == []


def test_only_ui_state_touches_session_state():
    pending = PENDING_TRAIN | PENDING_OTHERS
    offenders = {
        f"{path.relative_to(ROOT)}": touches_session_state(path.read_text(encoding="utf-8"))
        for path in APP
        if path.name != "state.py" and f"{path.relative_to(ROOT)}" not in pending
    }
    assert {name: lines for name, lines in offenders.items() if lines} == {}


def test_each_value_says_what_it_holds_and_each_key_is_declared_once():
    assert len(state.VALUES) >= 10
    for key, declared in state.VALUES.items():
        assert declared.key == key and len(declared.holds) > 10, key
    keys = [*state.VALUES, *state.FAMILIES]
    assert len(keys) == len(set(keys))
    remembered = state.remembered()
    assert {"corpus", "settings", "run_path", "start_from", "projector"} <= set(remembered)
    assert "teacher" not in remembered  # a session link must not carry a teacher's rights
