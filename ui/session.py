"""Session state: set-up at the top of every script run, the URL token, remembering choices for a
reload, deep links through app.py, and the Streamlit patch that keeps Keras state between runs."""

from __future__ import annotations

import copy
import logging
import re
import sys
import uuid

import streamlit as st

from charlab.network.generation import GenerateConfig
from charlab.network.model import ModelConfig
from charlab.server import backends
from charlab.teaching import lessons
from charlab.text.corpus import CLEANING_MODES, Corpus
from ui.job_registry import current_handle, registry
from ui.lesson_links import open_lesson_link
from ui.owners import is_teacher, run_allowed, session_workspace, shared_owner
from ui.settings import PAGES, PRESETS, default_settings
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


# what a reload brings back, and the kinds of value each may hold: a remembered value of another kind (e.g. None
# for the run name of a Train page never drawn, which made Start training fail after every reload) is not restored
REMEMBERED: dict[str, tuple[type, ...]] = {
    "corpus": (Corpus, type(None)),
    "cleaning": (str,),
    "settings": (ModelConfig,),
    "minutes": (int, float, type(None)),
    "preset": (str, type(None)),
    "start_from": (str,),  # "blank" or "writer" (ui.start_from)
    "run_path": (str, type(None)),
    "generate": (GenerateConfig,),  # frozen: a remembered copy never changes with the widgets
    "lesson": (dict, type(None)),
    "nickname": (str,),
    "train_run_name": (str,),  # the Run name box's own key: absent while the Train page is not drawn
    "projector": (bool,),  # projector mode (the sidebar's toggle, or a lesson link's pm=1)
}
PERSISTENT_KEYS = tuple(REMEMBERED)


def through_entry_script(page: str) -> None:
    """Make sure app.py ran: a page opened by a deep link on a fresh server can run without it.

    Beside a `pages/` folder, Streamlit starts in its legacy multipage mode: the first request for
    /train (a tab left open while the server restarted) runs pages/train.py alone, with no
    session set-up and no sidebar. Such a page hands over to app.py, which opens it properly.
    """
    if "token" not in st.session_state:
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
    ss = st.session_state
    if "token" not in ss:
        token = st.query_params.get("session", "")
        if not re.fullmatch(r"[0-9a-f]{16}", token or ""):
            token = uuid.uuid4().hex[:16]
        ss.token = token
        backends.prepare()  # a training process waits ready for this session's first click
        for key, value in restorable(registry().memory.get(token, {})).items():  # a reload: bring the session back
            ss.setdefault(key, value if isinstance(value, Corpus) else copy.deepcopy(value))
    if st.query_params.get("session") != ss.token:
        st.query_params["session"] = ss.token
    ss.setdefault("corpus", None)
    ss.setdefault("cleaning", "keep")
    ss.setdefault("settings", default_settings())
    ss.setdefault("minutes", None)  # how long to train by the clock (None: the settings' epochs)
    ss.setdefault("preset", None)
    ss.setdefault("start_from", "blank")
    ss.setdefault("run_path", None)
    ss.setdefault("generate", GenerateConfig())
    ss.setdefault("lesson", None)
    ss.setdefault("projector", False)
    ss.setdefault("nickname", "")  # "" (no name): a private workspace, see session_workspace
    ss.setdefault("teacher", False)  # not remembered for a reload: the password is asked again
    ss.workspace = str(session_workspace())
    owner = shared_owner()
    if owner is not None:  # a student back in a new tab with the same nickname finds the running training
        registry().queue.adopt(ss.token, owner)
    if ss.run_path and not run_allowed(ss.run_path):
        ss.run_path = None  # another owner's run (e.g. loaded in teacher mode, or owners switched on)
    open_lesson_link()
    registry().sweep()
    handle = current_handle()
    if handle is None:
        return
    p = handle.job.snapshot()
    if p.run_path is not None and ss.run_path != str(p.run_path) and not p.done:
        ss.run_path = str(p.run_path)  # the run being trained is the current run
    if not p.done:
        ss.job_seen_running = True
    elif ss.get("job_seen_running"):
        ss.job_seen_running = False
        if p.run_path is not None:
            ss.run_path = str(p.run_path)
        words = {"finished": "Training finished", "stopped": "Training stopped"}.get(p.status)
        if words:
            st.toast(f"{words}: the run is saved in My runs.", icon=":material/check_circle:")


def remember() -> None:
    """Keep this session's choices server-side under its token, so a browser reload gets them back.

    Only the keys this session holds, with a value of their kind: a widget's key is absent while its page is
    not drawn, and a reload must then draw the widget afresh, not from None."""
    ss = st.session_state
    if "token" in ss:
        memory = restorable({k: ss[k] for k in PERSISTENT_KEYS if k in ss})
        registry().remember(ss.token, memory)


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
