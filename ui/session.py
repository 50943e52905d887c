"""Session state: set-up at the top of every script run, the URL token, remembering choices for a
reload, deep links through app.py, and the Streamlit patch that keeps Keras state between runs."""

from __future__ import annotations

import copy
import logging
import re
import sys
import uuid

import streamlit as st

from charlab.server import backends
from charlab.teaching import lessons
from charlab.text.corpus import CLEANING_MODES, Corpus
from ui import state
from ui.job_registry import current_handle, registry
from ui.lesson_links import open_lesson_link
from ui.owners import is_teacher, run_allowed, session_workspace, shared_owner
from ui.settings import PAGES, PRESETS
from ui.start_from import START_FROM

log = logging.getLogger("charlab.app")


def _keep_keras_state_between_runs() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run.

    Streamlit does so after each run, fragment refreshes included: a full gc.collect() and
    TensorFlow's kernel cache cleared, twice a second while the Train page is watched, under a
    training running in another thread (measured: 45x slower, 0.13 instead of 6 epochs/s).
    charlab builds each model in its own job, so it needs no clearing; matplotlib is still closed.
    """
    from streamlit.runtime.scriptrunner import script_runner

    original = getattr(script_runner, "_clean_problem_modules", None)
    if original is None:  # a Streamlit that no longer has it (tests/test_app_train.py says so loudly)
        log.warning("Streamlit's _clean_problem_modules is gone: training may slow down while a page is watched.")
        return
    if getattr(original, "charlab", False):
        return

    def clean_problem_modules() -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            try:
                plt.close("all")
            except Exception:  # noqa: BLE001 - as Streamlit's own clean-up
                pass

    clean_problem_modules.charlab = True
    script_runner._clean_problem_modules = clean_problem_modules


_keep_keras_state_between_runs()


REMEMBERED = state.remembered()  # what a reload brings back: declared in ui/state.py
PERSISTENT_KEYS = tuple(REMEMBERED)


def through_entry_script(page: str) -> None:
    """Make sure app.py ran: a page opened by a deep link on a fresh server can run without it.

    Beside a `pages/` folder, Streamlit starts in its legacy multipage mode: the first request for
    /train (a tab left open while the server restarted) runs pages/train.py alone, with no
    session set-up and no sidebar. Such a page hands over to app.py, which opens it properly.
    """
    if not state.TOKEN.is_set():
        params = {"open": page}
        for key in ("session", *lessons.LESSON_PARAMS):  # a lesson link opened on a fresh server keeps its lesson
            if st.query_params.get(key):
                params[key] = st.query_params[key]
        st.switch_page("app.py", query_params=params)


def open_requested_page() -> None:
    """app.py's side of through_entry_script: go on to the page that was asked for."""
    page = st.query_params.get("open")
    if page is not None:
        del st.query_params["open"]
        if page in PAGES and page != "home" and (page != "board" or is_teacher()):  # a student has no board
            st.switch_page(PAGES[page])


def init_session() -> None:
    """Run at the top of every script run: defaults, the URL token, re-attaching to a running job."""
    if not state.TOKEN.is_set():
        token = st.query_params.get("session", "")
        if not re.fullmatch(r"[0-9a-f]{16}", token or ""):
            token = uuid.uuid4().hex[:16]
        state.TOKEN.set(token)
        backends.prepare()  # a training process waits ready for this session's first click
        kept = restorable(registry().memory.get(token, {}))  # a reload: bring the session back
        state.restore(
            {key: value if isinstance(value, Corpus) else copy.deepcopy(value) for key, value in kept.items()}
        )
    token = state.TOKEN.get()
    if st.query_params.get("session") != token:
        st.query_params["session"] = token
    state.start_all()
    state.WORKSPACE.set(str(session_workspace()))
    owner = shared_owner()
    if owner is not None:  # a student back in a new tab with the same nickname finds the running training
        registry().queue.adopt(token, owner)
    run_path = state.RUN_PATH.get()
    if run_path and not run_allowed(run_path):
        state.RUN_PATH.set(None)  # another owner's run (e.g. loaded in teacher mode, or owners switched on)
    open_lesson_link()
    registry().sweep()
    handle = current_handle()
    if handle is None:
        return
    p = handle.job.snapshot()
    if p.run_path is not None and state.RUN_PATH.get() != str(p.run_path) and not p.done:
        state.RUN_PATH.set(str(p.run_path))  # the run being trained is the current run
    if not p.done:
        state.JOB_SEEN_RUNNING.set(True)
    elif state.JOB_SEEN_RUNNING.get():
        state.JOB_SEEN_RUNNING.set(False)
        if p.run_path is not None:
            state.RUN_PATH.set(str(p.run_path))
        words = {"finished": "Training finished", "stopped": "Training stopped"}.get(p.status)
        if words:
            st.toast(f"{words}: the run is saved in My runs.", icon=":material/check_circle:")


def remember() -> None:
    """Keep this session's choices server-side under its token, so a browser reload gets them back.

    Only the keys this session holds, with a value of their kind: a widget's key is absent while its page is
    not drawn, and a reload must then draw the widget afresh, not from None."""
    if state.TOKEN.is_set():
        memory = restorable(state.held(PERSISTENT_KEYS))
        registry().remember(state.TOKEN.get(), memory)


def restorable(memory: dict) -> dict:
    """The remembered values a reload may bring back: each of its key's kind (see REMEMBERED) and one the
    pages can draw (a cleaning and a preset they know)."""
    kept = {k: v for k, v in memory.items() if k in REMEMBERED and isinstance(v, REMEMBERED[k])}
    if kept.get("cleaning") not in (None, *CLEANING_MODES):
        del kept["cleaning"]
    if kept.get("preset") not in (None, *PRESETS):
        del kept["preset"]
    if kept.get("start_from") not in (None, *START_FROM):
        del kept["start_from"]
    return kept
