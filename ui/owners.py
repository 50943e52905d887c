"""Owners: whose runs a session sees (a nickname's workspace, a private one, or a teacher's view of all)."""

from __future__ import annotations

import hmac
from pathlib import Path

import streamlit as st

from charlab import environment
from charlab.errors import CharlabError
from charlab.saving import runs
from charlab.server import owners
from ui import state
from ui.job_registry import is_running
from ui.page_guard import callback
from ui.text import md

NICKNAME_HELP = (
    "Your runs are saved under this name; use the same name on another day to find them. "
    "Without a name, they stay private to this tab."
)


def _charlab_secret(name: str):
    """st.secrets["charlab"][name], or None: no secrets file, no [charlab] table or no such key."""
    try:
        return st.secrets["charlab"][name]
    except Exception:  # noqa: BLE001 - a missing or unreadable secrets.toml means "not configured"
        return None


def owners_enabled() -> bool:
    """Each session works in its own workspace (on by default, for a classroom server).

    Off with $CHARLAB_OWNERS=0 (or `owners = false` under [charlab] in .streamlit/secrets.toml):
    every session then uses the root workspace: one user's charlab on their own machine.
    """
    value = environment.owners_setting() or _charlab_secret("owners")
    return value is None or str(value).strip().lower() not in environment.OFF_WORDS


def teacher_password() -> str | None:
    """$CHARLAB_TEACHER_PASSWORD, else `teacher_password` under [charlab] in secrets.toml; None: no teacher mode."""
    value = environment.teacher_password() or _charlab_secret("teacher_password")
    return str(value) if value else None


def is_teacher() -> bool:
    return teacher_password() is not None and bool(state.TEACHER.get())


def shared_owner() -> str | None:
    """The nickname's workspace, which any tab of that nickname may watch and stop trainings in; None for a
    private workspace (one tab's own) or with owners off (one user, whose tabs each keep their own)."""
    return str(session_workspace()) if owners_enabled() and state.NICKNAME.get() else None


def session_workspace() -> Path:
    """Where this session's runs live: its nickname's workspace, else its private one (owners off: the root)."""
    root = runs.workspace()
    if not owners_enabled():
        return root
    if state.NICKNAME.get():
        return owners.owner_workspace(root, state.NICKNAME.get())
    # the session token (kept in the URL) names it: a reload, or the same link after a server
    # restart, comes back to it; it is created only when a run is saved into it
    return owners.owner_workspace(root, None, key=state.TOKEN.get(), create=False)


def run_allowed(path: str | Path) -> bool:
    """A run this session may open: one in its own workspace (a teacher's: any under the root)."""
    return owners.may_open(path, session_workspace(), teacher=is_teacher())


def check_run_allowed(path: str | Path) -> None:
    if not run_allowed(path):
        raise CharlabError("This run belongs to someone else. Choose one of your runs in My runs.")


def forget_runs_elsewhere() -> None:
    """After a change of name or leaving teacher mode: drop a current run this session may no longer open."""
    state.WORKSPACE.set(str(session_workspace()))
    if state.RUN_PATH.get() and not run_allowed(state.RUN_PATH.get()):
        state.RUN_PATH.set(None)


@callback
def on_nickname_change() -> None:
    """The sidebar's name box: a checked nickname switches the workspace; a bad one keeps the previous one."""
    typed = state.OWNER_NICKNAME.get() or ""
    try:
        nickname = owners.check_nickname(typed) if typed.strip() else ""
        if nickname != state.NICKNAME.get() and is_running():
            raise CharlabError("Your training is still going: stop it or let it finish, then change your name.")
        if nickname:
            owners.owner_workspace(runs.workspace(), nickname)  # created now, so a disk error shows here
    except CharlabError as err:
        state.OWNER_ERROR.set(str(err))
        return
    state.OWNER_ERROR.set(None)
    state.NICKNAME.set(nickname)
    state.OWNER_NICKNAME.set(nickname)
    forget_runs_elsewhere()


@callback
def on_teacher_password() -> None:
    typed = state.TEACHER_PASSWORD_BOX.get() or ""
    state.TEACHER_PASSWORD_BOX.set("")  # the password is never kept in the session
    expected = teacher_password()
    if not typed:
        state.TEACHER_ERROR.set(None)
    elif expected is not None and hmac.compare_digest(typed.encode("utf-8"), expected.encode("utf-8")):
        state.TEACHER.set(True)
        state.TEACHER_ERROR.set(None)
    else:
        state.TEACHER_ERROR.set("That is not the teacher password.")


@callback
def leave_teacher_mode() -> None:
    state.TEACHER.set(False)
    forget_runs_elsewhere()


@st.cache_data(show_spinner=False, max_entries=1024)
def _owner_label(folder: str) -> str:
    return owners.owner_label(folder)  # the nickname as first typed: it never changes


def run_owner(path: str | Path) -> str:
    """Whose workspace holds the run: a nickname, 'private …', or '' for the root workspace."""
    folder = Path(path).parent
    return _owner_label(str(folder)) if folder.parent.name == runs.OWNERS_DIR else ""


def owner_box() -> None:
    """Sidebar: the name box (owners on) and, when a password is configured, the teacher's box."""
    if owners_enabled():
        if not state.OWNER_NICKNAME.is_set():  # a reload or a new session: show the name in use
            state.OWNER_NICKNAME.set(state.NICKNAME.get(""))
        st.text_input(
            "Your name",
            key=state.OWNER_NICKNAME.key,
            max_chars=40,
            placeholder="A nickname, e.g. Sam",
            on_change=on_nickname_change,
        )
        st.caption(NICKNAME_HELP)
        if state.OWNER_ERROR.get():
            st.error(md(state.OWNER_ERROR.get()), icon=":material/error:")
    if teacher_password() is None:
        return
    with st.expander("Teacher", icon=":material/school:", expanded=bool(state.TEACHER_ERROR.get())):
        if is_teacher():
            st.caption("Teacher mode: My runs lists everyone's runs, with their owner.")
            st.button("Leave teacher mode", key="teacher_leave", on_click=leave_teacher_mode)
        else:
            st.text_input(
                "Teacher password", type="password", key=state.TEACHER_PASSWORD_BOX.key, on_change=on_teacher_password
            )
            if state.TEACHER_ERROR.get():
                st.error(md(state.TEACHER_ERROR.get()), icon=":material/error:")
