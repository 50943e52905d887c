"""The privacy page's sections: what this server keeps, in words a parent understands, and deleting it."""

from __future__ import annotations

import threading
import time

import streamlit as st

from charlab import environment
from charlab.errors import CharlabError
from charlab.server import privacy
from ui import state
from ui.job_registry import current_handle
from ui.owners import is_teacher, owners_enabled, session_workspace, teacher_password
from ui.page_guard import callback
from ui.text import md

EXPIRY_EVERY_SECONDS = 3600.0  # the retention rule is about days: an hourly look costs nothing a class notices
_expiry_lock = threading.Lock()
_last_expiry = {"at": float("-inf")}


def expire_old_runs() -> None:
    """Remove runs older than CHARLAB_KEEP_DAYS, at most once an hour for the whole server."""
    days = environment.keep_days()
    if days is None:
        return
    with _expiry_lock:
        if time.monotonic() - _last_expiry["at"] < EXPIRY_EVERY_SECONDS:
            return
        _last_expiry["at"] = time.monotonic()
    privacy.remove_expired(days)


def what_this_server_keeps() -> None:
    days = environment.keep_days()
    kept_for = (
        f"Runs are removed by the server **{days:g} days** after they last changed."
        if days
        else "Runs stay until their owner (or the teacher) deletes them; this server sets no time limit."
    )
    whose = (
        "Each student's runs are in a folder of their own, named by the nickname typed in the sidebar (or, "
        "without one, by a private key only this browser tab knows)."
        if owners_enabled()
        else "This server has one shared folder of runs: everyone using it sees every run."
    )
    teacher = (
        "The teacher, with the teacher password, can open every student's runs."
        if teacher_password()
        else "No teacher password is set: nobody can open another student's runs."
    )
    st.markdown(
        "**What is stored.** Texts you upload stay in this server's memory while your tab uses them: they are "
        "never written to its disk. What is written is each *run*: its name, the settings, the network's "
        "numbers, the losses, and short texts the network wrote while it learned. Nicknames are stored with the "
        "runs. No e-mail address, no real name, no password of yours.\n\n"
        f"**Where, and who sees it.** On this server's own disk only. {whose} {teacher}\n\n"
        f"**For how long.** {kept_for}\n\n"
        "**Sent elsewhere.** Nothing. charlab sends no data to any other computer, uses no analytics and loads no "
        "fonts, icons or scripts from the internet: it works on a school network with no internet at all."
    )


@callback
def _delete_mine() -> None:
    state.CONFIRM_DELETE_MINE.set(False)  # asked again next time
    handle = current_handle()
    if handle is not None and handle.active:
        state.PRIVACY_MESSAGE.set(
            ("error", "Your training is still running. Stop it first, then delete; nothing was deleted.")
        )
        return
    try:
        count = privacy.delete_workspace(session_workspace())  # the runs folder itself when owners are off
    except CharlabError as err:
        state.PRIVACY_MESSAGE.set(("error", str(err)))
        return
    _forget_this_session()
    runs_words = f"{count:,} run{'' if count == 1 else 's'}"
    state.PRIVACY_MESSAGE.set(("success", f"Deleted: {runs_words}, the text you chose and your nickname."))


@callback
def _delete_class() -> None:
    state.CONFIRM_DELETE_CLASS.set(False)
    try:
        count = privacy.delete_every_workspace()
    except CharlabError as err:
        state.PRIVACY_MESSAGE.set(("error", str(err)))
        return
    _forget_this_session()
    state.PRIVACY_MESSAGE.set(("success", f"Deleted every student's data: {count:,} run{'' if count == 1 else 's'}."))


def _forget_this_session() -> None:
    """The session's text, current run and nickname go too (a nickname in use would make its folder again),
    and every cached copy of a text (the caches refill)."""
    state.CORPUS.set(None)
    state.RUN_PATH.set(None)
    state.NICKNAME.set("")  # no name: a private workspace (it was set to None, of no kind NICKNAME holds)
    state.OWNER_NICKNAME.set("")
    state.WORKSPACE.set(str(session_workspace()))
    st.cache_data.clear()


def delete_box() -> None:
    """'Delete everything of mine', asked once; for the teacher, every student's data too."""
    message = state.PRIVACY_MESSAGE.get()
    state.PRIVACY_MESSAGE.forget()
    if message:
        kind, words = message
        (st.success if kind == "success" else st.error)(md(words), icon=":material/info:")
    st.header("Delete everything of mine")  # an h2 under the page's h1: an h4 broke the headings' order
    st.caption(
        "Removes all your runs and forgets the text you chose, on this server, at once. It cannot be undone: "
        "download a run first (My runs) if you want to keep it."
    )
    if st.toggle("I want to delete everything of mine", key=state.CONFIRM_DELETE_MINE.key):
        st.button("Delete everything of mine", key="privacy_delete_mine", type="primary", on_click=_delete_mine)
    if is_teacher():
        st.header("End of term: delete every student's data")
        st.caption("Removes every run of every student (and the runs saved by the command line) on this server.")
        if st.toggle("I want to delete every student's data", key=state.CONFIRM_DELETE_CLASS.key):
            st.button("Delete every student's data", key="privacy_delete_class", type="primary", on_click=_delete_class)
