"""Shared helpers for the charlab pages: session state, caching, the training-job registry, charts, wording.

Pages stay thin (widgets -> charlab -> drawing); everything they share lives here. Nothing in
this module imports TensorFlow: only starting a training (charlab.training) or importing a run
(charlab.runs) does, the first time it is needed.
"""

from __future__ import annotations

import copy
import hmac
import html
import logging
import math
import os
import random
import re
import sys
import threading
import time
import traceback
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from charlab import corpus, lessons, runs, samples
from charlab.baselines import BaselineReport, compute_baselines
from charlab.copying import MIN_PASSAGE, CopyReport, TrainingTextIndex
from charlab.diagnosis import check_first_loss, diagnose
from charlab.errors import CharlabError
from charlab.jobs import JobHandle, JobQueue
from charlab.limits import Limits
from charlab.model import CELLS, ModelConfig, count_parameters, estimate
from charlab.neurons import Trace, UnitMatch, embedding_map, rank_all, trace
from charlab.reber import first_error, grammar_score
from charlab.sampling import NumpyCharModel, probabilities
from charlab.training import FINAL_STATES, Progress
from charlab.vocab import Vocab
from charlab.workers import training_job

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
    if original is None:  # a Streamlit that no longer has it (tests/test_app.py says so loudly)
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

PAGES = {
    "home": "pages/home.py",
    "corpus": "pages/corpus.py",
    "train": "pages/train.py",
    "generate": "pages/generate.py",
    "inside": "pages/inside.py",
}
DEFAULT_SAMPLE = "fables"  # bundled, small, friendly: what Quick start trains on
QUICK_START_CLEANING = "keep"
COLORS = {"primary": "#4F46E5", "train": "#94A3B8", "validation": "#4F46E5", "guess": "#DC2626", "changed": "#F59E0B"}

# ---------------------------------------------------------------- settings and their words

# the same words as charlab.model's error messages and the README
SETTING_LABELS = {
    "seq_length": "Sequence length",
    "units": "Units",
    "layers": "Layers",
    "cell": "Cell type",
    "embedding_dim": "Embedding size",
    "dropout": "Dropout",
    "batch_size": "Batch size",
    "epochs": "Epochs",
    "learning_rate": "Learning rate",
    "validation_fraction": "Validation share",
}
SETTING_HELP = {
    "seq_length": "How many characters the model reads in one training window. "
    "Longer windows let it learn longer patterns (a rhyme, a closing quote) but train slower.",
    "units": "Memory cells in each recurrent layer. More units can learn more, "
    "but train slower and can simply memorise a short text.",
    "layers": "Recurrent layers stacked on top of each other. One or two is plenty for a small text.",
    "cell": "LSTM and GRU have gates that let them remember over long stretches; "
    "SimpleRNN is the plain, forgetful original.",
    "embedding_dim": "Length of the list of numbers the model learns for each character.",
    "dropout": "Share of signals switched off at random while training, so the model cannot lean on "
    "memorising. 0 turns it off.",
    "batch_size": "Training windows processed together in one step. Bigger batches are faster per character "
    "but take more memory and fewer steps per epoch.",
    "epochs": "Passes over the whole training text.",
    "learning_rate": "How big a step the optimizer (Adam) takes. Too high and the loss jumps or becomes NaN; "
    "too low and learning crawls.",
    "validation_fraction": "Share of the text (its end) held back to check the model on text it never trained on.",
}
UNITS_OPTIONS = (16, 32, 64, 128, 256, 384, 512, 768, 1024)
EMBEDDING_OPTIONS = (8, 16, 32, 64, 128, 256)
BATCH_OPTIONS = (8, 16, 32, 64, 128, 256)
LEARNING_RATE_OPTIONS = (1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2)

# preset key -> (label, target training time in seconds, settings); epochs come from the time budget
PRESETS: dict[str, tuple[str, float, dict]] = {
    "quick": (
        "Quick (≈1 min)",
        40.0,
        dict(
            cell="lstm",
            units=256,
            layers=1,
            embedding_dim=32,
            dropout=0.2,
            seq_length=64,
            batch_size=32,
            learning_rate=3e-3,
            validation_fraction=0.1,
        ),
    ),
    "balanced": (
        "Balanced",
        300.0,
        dict(
            cell="lstm",
            units=256,
            layers=1,
            embedding_dim=64,
            dropout=0.1,
            seq_length=100,
            batch_size=64,
            learning_rate=3e-3,
            validation_fraction=0.1,
        ),
    ),
    "best": (
        "Best quality",
        1200.0,
        dict(
            cell="lstm",
            units=512,
            layers=2,
            embedding_dim=64,
            dropout=0.2,
            seq_length=100,
            batch_size=64,
            learning_rate=2e-3,
            validation_fraction=0.1,
        ),
    ),
}
MAX_PRESET_EPOCHS = 200

LOSS_UNITS = {
    "loss": "Loss (nats)",
    "bits": "Bits per character",
    "perplexity": "Perplexity",
}
LOSS_UNIT_HELP = (
    "Loss: how surprised the model is by each real next character (0 = never surprised). "
    "Bits per character: the same in bits. Perplexity: the model is as unsure as if it chose among this many "
    "characters."
)
TEMPERATURE_HELP = (
    "Low temperature: safe, repetitive text. 1: the model's own odds. High: surprising text with more mistakes."
)
COMPARE_TEMPERATURES = (0.2, 0.8, 1.5)
STATUS_WORDS = {
    "queued": "waiting",
    "starting": "starting",
    "training": "training",
    "stopping": "stopping",
    "finished": "finished",
    "stopped": "stopped",
    "failed": "failed",
    "diverged": "diverged",
    "interrupted": "interrupted",
    "damaged": "damaged",
}


def default_settings() -> dict:
    return dict(PRESETS["quick"][2], epochs=20, clipnorm=1.0)


def default_generate() -> dict:
    return {"seed_text": "", "length": 500, "temperature": 0.8, "top_k": 0, "random_seed": 42}


def model_config(settings: dict) -> ModelConfig:
    """The settings dict as the engine's dataclass (validated: raises CharlabError in plain words)."""
    known = {k: v for k, v in settings.items() if k in ModelConfig.__dataclass_fields__}
    return ModelConfig(**known).validate()


def preset_settings(key: str, n_chars: int | None, vocab_size: int | None) -> dict:
    """A preset's settings, with epochs chosen so training takes about the preset's time on this corpus."""
    _, seconds, values = PRESETS[key]
    settings = dict(values, clipnorm=1.0, epochs=20)
    if n_chars and vocab_size:
        per_epoch = estimate(model_config(settings), vocab_size, n_chars).seconds_per_epoch
        settings["epochs"] = int(min(MAX_PRESET_EPOCHS, max(1, round(seconds / max(per_epoch, 1e-3)))))
    return settings


def snap(value, options: Iterable):
    """The option nearest to `value` (a run trained from the command line may use any number)."""
    options = list(options)
    return min(options, key=lambda o: abs(math.log(float(o)) - math.log(max(float(value), 1e-12))))


def settings_from_config(cfg: ModelConfig) -> dict:
    """A run's settings, fitted to the options the Train page offers."""
    s = cfg.to_dict()
    s["units"] = snap(s["units"], UNITS_OPTIONS)
    s["embedding_dim"] = snap(s["embedding_dim"], EMBEDDING_OPTIONS)
    s["batch_size"] = snap(s["batch_size"], BATCH_OPTIONS)
    s["learning_rate"] = snap(s["learning_rate"], LEARNING_RATE_OPTIONS)
    s["seq_length"] = int(min(400, max(8, s["seq_length"])))
    s["dropout"] = round(min(0.5, s["dropout"]) * 20) / 20
    s["validation_fraction"] = round(min(0.3, s["validation_fraction"]) * 20) / 20
    return s


# ---------------------------------------------------------------- session state

PERSISTENT_KEYS = (
    "corpus", "cleaning", "settings", "preset", "preset_for", "run_path", "generate", "lesson",
    "nickname",
)  # fmt: skip


@dataclass(frozen=True)
class LoadedCorpus:
    """The chosen text before cleaning, and where it came from."""

    name: str
    text: str
    sha: str
    source: str  # "sample:<key>" or "upload"
    encoding: str = "utf-8"
    notes: tuple[str, ...] = ()


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
        if page in PAGES and page != "home":
            st.switch_page(PAGES[page])


def init_session() -> None:
    """Run at the top of every script run: defaults, the URL token, re-attaching to a running job."""
    ss = st.session_state
    if "token" not in ss:
        token = st.query_params.get("session", "")
        if not re.fullmatch(r"[0-9a-f]{16}", token or ""):
            token = uuid.uuid4().hex[:16]
        ss.token = token
        for key, value in registry().memory.get(token, {}).items():  # a reload: bring the session back
            ss.setdefault(key, value if isinstance(value, LoadedCorpus) else copy.deepcopy(value))
    if st.query_params.get("session") != ss.token:
        st.query_params["session"] = ss.token
    ss.setdefault("corpus", None)
    ss.setdefault("cleaning", "keep")
    ss.setdefault("settings", default_settings())
    ss.setdefault("preset", None)
    ss.setdefault("preset_for", None)
    ss.setdefault("run_path", None)
    ss.setdefault("generate", default_generate())
    ss.setdefault("lesson", None)
    ss.setdefault("nickname", "")  # "" (no name): a private workspace, see session_workspace
    ss.setdefault("teacher", False)  # not remembered for a reload: the password is asked again
    ss.workspace = str(session_workspace())
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
    """Keep this session's choices server-side under its token, so a browser reload gets them back."""
    ss = st.session_state
    if "token" in ss:
        memory = {k: ss.get(k) for k in PERSISTENT_KEYS}
        memory["settings"] = dict(memory["settings"] or {})
        memory["generate"] = dict(memory["generate"] or {})
        registry().remember(ss.token, memory)


# ---------------------------------------------------------------- owners: whose runs a session sees

OFF_WORDS = {"0", "false", "no", "off"}
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
    every session then uses the root workspace, as a single user's charlab always did.
    """
    value = os.environ.get("CHARLAB_OWNERS", "").strip() or _charlab_secret("owners")
    return value is None or str(value).strip().lower() not in OFF_WORDS


def teacher_password() -> str | None:
    """$CHARLAB_TEACHER_PASSWORD, else `teacher_password` under [charlab] in secrets.toml; None: no teacher mode."""
    value = os.environ.get("CHARLAB_TEACHER_PASSWORD") or _charlab_secret("teacher_password")
    return str(value) if value else None


def is_teacher() -> bool:
    return teacher_password() is not None and bool(st.session_state.get("teacher"))


def session_workspace() -> Path:
    """Where this session's runs live: its nickname's workspace, else its private one (owners off: the root)."""
    ss = st.session_state
    root = runs.workspace()
    if not owners_enabled():
        return root
    if ss.get("nickname"):
        return runs.owner_workspace(root, ss.nickname)
    # the session token (kept in the URL) names it: a reload, or the same link after a server
    # restart, comes back to it; it is created only when a run is saved into it
    return runs.owner_workspace(root, None, key=ss.token, create=False)


def _inside(path: str | Path, folder: str | Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, RuntimeError, ValueError):
        return False


def run_allowed(path: str | Path) -> bool:
    """A run this session may open: one in its own workspace (a teacher's: any under the root)."""
    return _inside(path, runs.workspace() if is_teacher() else session_workspace())


def check_run_allowed(path: str | Path) -> None:
    if not run_allowed(path):
        raise CharlabError("This run belongs to someone else. Choose one of your runs in My runs.")


def forget_runs_elsewhere() -> None:
    """After a change of name or leaving teacher mode: drop a current run this session may no longer open."""
    ss = st.session_state
    ss.workspace = str(session_workspace())
    if ss.get("run_path") and not run_allowed(ss.run_path):
        ss.run_path = None


def on_nickname_change() -> None:
    """The sidebar's name box: a checked nickname switches the workspace; a bad one keeps the previous one."""
    ss = st.session_state
    typed = ss.get("owner_nickname") or ""
    try:
        nickname = runs.check_nickname(typed) if typed.strip() else ""
        if nickname != ss.get("nickname") and is_running():
            raise CharlabError("Your training is still going: stop it or let it finish, then change your name.")
        if nickname:
            runs.owner_workspace(runs.workspace(), nickname)  # created now, so a disk error shows here
    except CharlabError as err:
        ss.owner_error = str(err)
        return
    ss.owner_error = None
    ss.nickname = ss.owner_nickname = nickname
    forget_runs_elsewhere()


def on_teacher_password() -> None:
    ss = st.session_state
    typed = ss.get("teacher_password_input") or ""
    ss.teacher_password_input = ""  # the password is never kept in the session
    expected = teacher_password()
    if not typed:
        ss.teacher_error = None
    elif expected is not None and hmac.compare_digest(typed.encode("utf-8"), expected.encode("utf-8")):
        ss.teacher, ss.teacher_error = True, None
    else:
        ss.teacher_error = "That is not the teacher password."


def leave_teacher_mode() -> None:
    st.session_state.teacher = False
    forget_runs_elsewhere()


@st.cache_data(show_spinner=False, max_entries=1024)
def _owner_label(folder: str) -> str:
    return runs.owner_label(folder)  # the nickname as first typed: it never changes


def run_owner(path: str | Path) -> str:
    """Whose workspace holds the run: a nickname, 'private …', or '' for the root workspace."""
    folder = Path(path).parent
    return _owner_label(str(folder)) if folder.parent.name == runs.OWNERS_DIR else ""


def owner_box() -> None:
    """Sidebar: the name box (owners on) and, when a password is configured, the teacher's box."""
    ss = st.session_state
    if owners_enabled():
        if "owner_nickname" not in ss:  # a reload or a new session: show the name in use
            ss.owner_nickname = ss.get("nickname", "")
        st.text_input(
            "Your name",
            key="owner_nickname",
            max_chars=40,
            placeholder="A nickname, e.g. Sam",
            on_change=on_nickname_change,
        )
        st.caption(NICKNAME_HELP)
        if ss.get("owner_error"):
            st.error(ss.owner_error, icon=":material/error:")
    if teacher_password() is None:
        return
    with st.expander("Teacher", icon=":material/school:", expanded=bool(ss.get("teacher_error"))):
        if is_teacher():
            st.caption("Teacher mode: My runs lists everyone's runs, with their owner.")
            st.button("Leave teacher mode", key="teacher_leave", on_click=leave_teacher_mode)
        else:
            st.text_input(
                "Teacher password", type="password", key="teacher_password_input", on_change=on_teacher_password
            )
            if ss.get("teacher_error"):
                st.error(ss.teacher_error, icon=":material/error:")


def bound(widget, store: str, name: str, label: str, **kwargs):
    """A widget whose value lives in st.session_state[store][name], so it survives page switches.

    The widget's own key is seeded from the store when missing (first draw, or back from another
    page) and copied back on change; nothing is ever passed as value= twice.
    """
    key = f"{store}_{name}"
    if store == "settings" and is_hidden(name):  # a lesson fixed it: not drawn, its value stays
        return st.session_state[store][name]
    if key not in st.session_state:
        st.session_state[key] = st.session_state[store][name]
    kwargs.setdefault("on_change", _copy_back)
    kwargs.setdefault("args", (store, name, key))
    return widget(label, key=key, **kwargs)


def _copy_back(store: str, name: str, key: str) -> None:
    if st.session_state[key] is None:  # a choice control cleared (seen under load): no setting may be None
        st.session_state[key] = st.session_state[store][name]
        return
    st.session_state[store][name] = st.session_state[key]
    if store == "settings":
        st.session_state.preset = None  # hand-tuned now
        st.session_state.pop("train_preset", None)


def reseed(store: str) -> None:
    """Forget a store's widget keys so the widgets redraw from the store (after a preset or a load)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{store}_")]:
        del st.session_state[key]


def apply_preset(key: str | None, n_chars: int | None, vocab_size: int | None, sha: str | None) -> None:
    ss = st.session_state
    if key is None:
        return
    try:
        ss.settings = preset_settings(key, n_chars, vocab_size)
    except CharlabError:
        return
    ss.preset, ss.preset_for = key, sha
    reseed("settings")


# ---------------------------------------------------------------- lessons (links and preset files)

CONTROL_LABELS = {"sample": "Sample text", "cleaning": "Cleaning", **SETTING_LABELS, "clipnorm": "Gradient clipping"}


def is_hidden(control: str) -> bool:
    """True when the lesson this session opened hides `control` (a name from charlab.lessons.CONTROLS)."""
    lesson = st.session_state.get("lesson")
    return bool(lesson) and control in lesson.get("hidden", ())


def apply_lesson(lesson: lessons.Lesson, key: str = "") -> None:
    """Set up the session as the lesson says: its sample text, cleaning and settings; remember what to hide."""
    ss = st.session_state
    lesson.validate()
    settings = dict(ss.settings, **lesson.settings)
    model_config(settings)  # refuses impossible combinations in plain words, before anything changes
    if lesson.sample is not None:
        use_sample(lesson.sample)
    if lesson.cleaning is not None:
        ss.cleaning = lesson.cleaning
        ss.pop("corpus_cleaning", None)
    ss.settings, ss.preset = settings, None
    ss.pop("train_preset", None)
    reseed("settings")
    ss.lesson = {"key": key, "title": lesson.title, "hidden": list(lesson.hidden)}


def open_lesson_link() -> None:
    """A lesson link (see charlab.lessons): applied once per session, so the learner's own changes then stay."""
    ss = st.session_state
    params = {k: st.query_params.get_all(k) for k in st.query_params if k in lessons.LESSON_PARAMS}
    if not params:
        return
    key = repr(sorted(params.items()))
    if (ss.lesson or {}).get("key") == key or ss.get("lesson_link_failed") == key:
        return
    try:
        apply_lesson(lessons.from_query_params(params), key)
    except CharlabError as err:
        ss.lesson_link_failed = key
        st.error(f"This lesson link could not be opened: {err}", icon=":material/error:")


def leave_lesson() -> None:
    st.session_state.lesson = None
    for key in list(st.query_params):
        if key in lessons.LESSON_PARAMS:
            del st.query_params[key]


def current_lesson(hidden: Iterable[str], title: str) -> lessons.Lesson:
    """This session's text and settings as a lesson, hiding the chosen controls."""
    ss = st.session_state
    loaded = ss.corpus
    sample = loaded.source.removeprefix("sample:") if loaded and loaded.source.startswith("sample:") else None
    settings = {name: ss.settings[name] for name in lessons.SETTING_PARAMS if name in ss.settings}
    return lessons.Lesson(
        sample=sample, cleaning=ss.cleaning, settings=settings, hidden=tuple(hidden), title=title.strip()
    ).validate()


def app_base_url() -> str:
    """The server's address as the browser sees it (without its query), or "" for a relative "?…" link."""
    try:
        url = st.context.url or ""
    except AttributeError:  # an older Streamlit
        url = ""
    return url.split("?", 1)[0].split("#", 1)[0]


def lesson_share() -> None:
    """Train page: make a lesson link and preset file from the current settings; open a preset file."""
    ss = st.session_state
    st.caption(
        "Hand out a link that opens charlab on this text with these settings, with the controls you choose "
        "hidden, so a class can focus on one idea."
    )
    if ss.corpus is not None and not ss.corpus.source.startswith("sample:"):
        st.caption(":material/info: An uploaded text cannot travel in a link: learners keep their own text.")
    hidden = st.multiselect(
        "Controls to hide", list(lessons.CONTROLS), key="lesson_hide", format_func=CONTROL_LABELS.get
    )
    title = st.text_input(
        "Lesson title", key="lesson_title", max_chars=lessons.MAX_TITLE_CHARS, placeholder="e.g. Lesson 2: more units"
    )
    lesson = current_lesson(hidden, title)
    base = app_base_url()
    url = lessons.lesson_url(lesson, base) if base else "?" + urlencode(lessons.to_query_params(lesson))
    st.markdown("**The lesson link**" + ("" if base else " (add it to this page's address)"))
    st.code(url, language=None, wrap_lines=True)
    st.download_button(
        "Download as a preset file",
        data=lessons.preset_to_json(lesson),
        key="lesson_download",
        file_name=f"{runs.slugify(title or 'lesson')}.json",
        mime="application/json",
        icon=":material/download:",
    )
    upload = st.file_uploader("Open a preset file (.json)", type=["json"], key="lesson_upload", max_upload_size=1)
    if upload is not None and ss.get("lesson_upload_seen") != upload.file_id:
        ss.lesson_upload_seen = upload.file_id
        try:
            apply_lesson(lessons.preset_from_json(upload.getvalue()), f"file:{upload.file_id}")
        except CharlabError as err:
            ss.lesson_upload_error = str(err)
        else:
            ss.lesson_upload_error = None
            st.rerun()
    if upload is not None and ss.get("lesson_upload_error"):
        st.error(ss.lesson_upload_error, icon=":material/error:")


def page_guard_debug() -> bool:
    return os.environ.get("CHARLAB_DEBUG") == "1"


@contextmanager
def guard(what: str = "This page"):
    """Show an unexpected error in plain words (and log the traceback) instead of a raw traceback."""
    try:
        yield
    except CharlabError as err:
        st.error(str(err), icon=":material/error:")
    except Exception as err:  # noqa: BLE001 - the last line of defence before a traceback reaches a user
        if page_guard_debug():
            raise
        log.error("Unexpected error in %s:\n%s", what, traceback.format_exc())
        st.error(
            f"Something unexpected went wrong ({type(err).__name__}: {str(err)[:200]}). "
            "Your text and your runs are safe. Try again; if it keeps happening, reload the page.",
            icon=":material/error:",
        )


# ---------------------------------------------------------------- corpus (cached)


@st.cache_data(show_spinner=False, max_entries=16)
def load_sample(key: str) -> str:
    return samples.load_sample(key)


def use_sample(key: str) -> None:
    sample = samples.get_sample(key)
    text = load_sample(key)
    set_corpus(LoadedCorpus(sample.title, text, corpus.text_hash(text), f"sample:{key}"))


def use_upload(name: str, data: bytes) -> None:
    loaded = corpus.load_bytes(data, name, server_limits().upload_bytes)  # CharlabError: empty, binary, too big…
    set_corpus(
        LoadedCorpus(loaded.name, loaded.text, corpus.text_hash(loaded.text), "upload", loaded.encoding, loaded.notes)
    )


def set_corpus(loaded: LoadedCorpus) -> None:
    st.session_state.corpus = loaded


@st.cache_data(show_spinner=False, max_entries=8)
def _clean(sha: str, mode: str, _text: str) -> str:
    return corpus.clean(_text, mode)


@st.cache_data(show_spinner=False, max_entries=16)
def _stats(sha: str, mode: str, _text: str) -> corpus.CorpusStats:
    return corpus.stats(_text)


@st.cache_data(show_spinner=False, max_entries=8)
def _changes(sha: str, mode: str, _text: str) -> dict[str, str]:
    return corpus.changed_characters(_text, mode)


def cleaned_text(loaded: LoadedCorpus | None = None, mode: str | None = None) -> str | None:
    loaded = loaded or st.session_state.corpus
    if loaded is None:
        return None
    mode = mode or st.session_state.cleaning
    return _clean(loaded.sha, mode, loaded.text)


def text_stats(loaded: LoadedCorpus, mode: str | None = None) -> corpus.CorpusStats:
    """Figures of the raw text (mode None) or of the cleaned text."""
    if mode is None:
        return _stats(loaded.sha, "", loaded.text)
    return _stats(loaded.sha, mode, cleaned_text(loaded, mode))


def changed_characters(loaded: LoadedCorpus, mode: str) -> dict[str, str]:
    return _changes(loaded.sha, mode, loaded.text)


def corpus_vocab_size() -> int | None:
    loaded = st.session_state.corpus
    return text_stats(loaded, st.session_state.cleaning).unique_characters if loaded else None


# ---------------------------------------------------------------- the training-job registry


FORGET_AFTER_SECONDS = 24 * 3600  # a session's remembered choices (for a reload) are kept this long


class Registry:
    """Server-wide: the training queue (charlab.jobs) and each session's remembered choices, by session token."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queue = JobQueue()  # cap: $CHARLAB_MAX_TRAININGS or the CPU cores; unwatched jobs stopped and saved
        self.memory: dict[str, dict] = {}
        self.memory_seen: dict[str, float] = {}

    def remember(self, token: str, memory: dict) -> None:
        with self.lock:
            self.memory[token] = memory
            self.memory_seen[token] = time.monotonic()

    def sweep(self) -> None:
        """Stop trainings nobody watches (their runs are saved); forget sessions not seen for a day."""
        self.queue.sweep()
        now = time.monotonic()
        with self.lock:
            for token, seen in list(self.memory_seen.items()):
                if now - seen > FORGET_AFTER_SECONDS and token not in self.queue:
                    self.memory.pop(token, None)
                    self.memory_seen.pop(token, None)


@st.cache_resource(show_spinner=False)
def registry() -> Registry:
    return Registry()


def server_limits() -> Limits:
    """What one session may ask of this server (charlab/limits.py), read from the environment each run."""
    return Limits.from_env()


def check_server_limits() -> None:
    """Stop every page with one plain message while an environment variable sets a limit wrongly."""
    try:
        server_limits()
    except CharlabError as err:
        st.error(f"charlab cannot start: {err} Fix it and start the server again.", icon=":material/error:")
        st.stop()


def upload_box_mb(limit_mb: float) -> int:
    """An upload box's own cap, in whole MB as Streamlit wants it: the browser refuses a bigger file at once."""
    return max(1, math.ceil(limit_mb))


def fit_to_limit(store: str, name: str, highest: int) -> int | None:
    """Lower a remembered setting above this server's limit (from a lesson link, a preset or a loaded run),
    so its widget can be drawn; returns the value it had, for a note, or None when it fitted."""
    ss = st.session_state
    value = ss[store][name]
    if not isinstance(value, (int, float)) or value <= highest:
        return None
    ss[store][name] = highest
    ss.pop(f"{store}_{name}", None)
    return value


def current_handle() -> JobHandle | None:
    """This session's training (waiting, running or ended), marked as watched."""
    token = st.session_state.get("token")
    return registry().queue.touch(token) if token else None


def is_running(handle: JobHandle | None = None) -> bool:
    handle = handle if handle is not None else current_handle()
    return handle is not None and not handle.job.done


def start_training(
    text: str, settings: dict, name: str, cleaning: str, corpus_name: str, resume_from: str | None = None
) -> JobHandle:
    """Check everything now (errors in plain words), then train in the background, into this session's workspace."""
    if resume_from is not None:
        check_run_allowed(resume_from)
    limit = server_limits()
    config = model_config(settings)
    limit.check_epochs(config.epochs)
    job = training_job(  # in a child process, so a class's trainings do not slow the pages
        text,
        config,
        name=name,
        cleaning=cleaning,
        corpus_name=corpus_name,
        root=session_workspace(),
        resume_from=resume_from,
        time_limit_seconds=limit.training_seconds,
    )
    limit.check_parameters(count_parameters(job.config, len(job.vocab)))  # a continued run keeps its own shape
    handle = registry().queue.submit(st.session_state.token, job)
    st.session_state.job_seen_running = True
    return handle


def stop_training() -> None:
    handle = current_handle()
    if handle is None:
        return
    was_waiting = handle.waiting
    registry().queue.stop(handle.token)  # cancels a waiting job, or stops a running one (it saves)
    if was_waiting:
        st.session_state.job_seen_running = False


def rerun_when_finished(p: Progress) -> None:
    """Called from polling fragments: once the job has ended, redraw the whole page (buttons, runs)."""
    if p.status in FINAL_STATES and st.session_state.get("job_seen_running"):
        rerun_page()


def rerun_page() -> None:
    """A polling fragment's st.rerun(), after a yield point.

    Streamlit merges rerun requests and keeps the page of the newest, so a click on another page
    that arrived while the fragment ran would be undone by its st.rerun() (seen in the classroom
    bench: the student stayed on Train). Drawing an element first lets such a click interrupt
    this run instead; the page it opens is drawn afresh anyway.
    """
    st.empty()
    st.rerun()


def default_run_name(loaded: LoadedCorpus | None, settings: dict) -> str:
    corpus_name = loaded.name if loaded else "text"
    return f"{corpus_name} · {CELLS[settings['cell']]} {settings['units']}"


def lesson_fixes_something() -> bool:
    lesson = st.session_state.get("lesson")
    return bool(lesson and lesson.get("hidden"))


def quick_start() -> None:
    """Home's button: a bundled sample, small settings, training at once (in a lesson: its text and settings)."""
    ss = st.session_state
    if lesson_fixes_something() and ss.corpus is not None:
        start_training(
            cleaned_text(), ss.settings, default_run_name(ss.corpus, ss.settings), ss.cleaning, ss.corpus.name
        )
        return
    use_sample(DEFAULT_SAMPLE)
    st.session_state.cleaning = QUICK_START_CLEANING
    loaded = st.session_state.corpus
    text = cleaned_text(loaded, QUICK_START_CLEANING)
    apply_preset("quick", len(text), len(set(text)), corpus_key())
    start_training(
        text,
        st.session_state.settings,
        default_run_name(loaded, st.session_state.settings),
        QUICK_START_CLEANING,
        loaded.name,
    )


# ---------------------------------------------------------------- runs


def run_stamp(path: str | Path) -> float:
    """Changes whenever the run's weights are re-saved, so caches reload a checkpointed run."""
    path = Path(path)
    stamps = [f.stat().st_mtime for f in (path / "weights.npz", path / "config.json") if f.exists()]
    return max(stamps, default=0.0)


@st.cache_resource(show_spinner=False, max_entries=6)
def _load_run(path: str, stamp: float) -> runs.Run:
    return runs.load_run(path)


def load_run(path: str | Path) -> runs.Run:
    check_run_allowed(path)
    return _load_run(str(path), run_stamp(path))


@st.cache_data(show_spinner=False, max_entries=64)
def next_char_distribution(path: str, stamp: float, context: str) -> dict[str, float]:
    """P(next character | context) at temperature 1; other temperatures are derived from it."""
    return _load_run(path, stamp).generator().next_char_probabilities(context[-5000:], 1.0)


def reshape(distribution: dict[str, float], temperature: float, top_k: int | None) -> dict[str, float]:
    """The same distribution at another temperature (softmax(log p / T) = softmax(logits / T))."""
    chars = list(distribution)
    logp = np.log(np.maximum(np.array([distribution[c] for c in chars]), 1e-300))
    probs = probabilities(logp, temperature, top_k)
    return dict(zip(chars, probs.tolist(), strict=True))


def run_info(path: str | None) -> runs.RunInfo | None:
    if not path or not (Path(path) / "config.json").exists() or not run_allowed(path):
        return None
    return runs.run_info(Path(path))


@st.cache_data(show_spinner=False, max_entries=32)
def _cleaned_hash(sha: str, mode: str, _text: str) -> str:
    return corpus.text_hash(corpus.clean(_text, mode))


def run_training_text(run: runs.Run) -> str | None:
    """The text the run was trained on, when it is the current corpus (under the run's cleaning), else None."""
    loaded = st.session_state.corpus
    wanted = (run.meta.get("corpus") or {}).get("sha256")
    mode = run.info.cleaning
    if loaded is None or not wanted or mode not in corpus.CLEANING_MODES:
        return None
    if _cleaned_hash(loaded.sha, mode, loaded.text) != wanted:
        return None
    return cleaned_text(loaded, mode)


def is_reber_run(run: runs.Run) -> bool:
    """True when the run was trained on the Reber grammar sample (under any cleaning)."""
    wanted = (run.meta.get("corpus") or {}).get("sha256")
    mode = run.info.cleaning
    if not wanted or mode not in corpus.CLEANING_MODES:
        return False
    text = load_sample("reber")
    return _cleaned_hash(corpus.text_hash(text), mode, text) == wanted


def is_reber_text(text: str, cleaning: str) -> bool:
    """True when a training's text is the Reber grammar sample (as cleaned): a length check first,
    so the live view, redrawn every second, hashes nothing for other texts."""
    if cleaning not in corpus.CLEANING_MODES:
        return False
    reber = _reber_text(cleaning)
    return len(text) == len(reber) and text == reber


def _saved_run_is_reber(path: str | Path | None) -> bool:
    """For a finished job, which has let go of its text: ask the run it saved."""
    try:
        return path is not None and is_reber_run(load_run(path))
    except CharlabError:
        return False


@st.cache_data(show_spinner=False, max_entries=8)
def _reber_text(cleaning: str) -> str:
    text = load_sample("reber")
    return cleaned_text(LoadedCorpus("reber", text, corpus.text_hash(text), "sample:reber"), cleaning)


@st.cache_data(show_spinner=False, max_entries=16)
def _baselines(
    sha: str, vocab_chars: str, validation_fraction: float, seq_length: int, _text: str, _vocab: Vocab
) -> BaselineReport | None:
    try:
        return compute_baselines(_text, _vocab, validation_fraction, seq_length)
    except CharlabError:
        return None


def baseline_report(text: str, vocab: Vocab, cfg: ModelConfig, sha: str | None = None) -> BaselineReport | None:
    """The counting baselines for a cleaned training text and a run's settings (cached; None when impossible).

    Keyed by the cleaned text's hash (which covers the corpus and its cleaning), the vocabulary,
    the validation share and the sequence length: the split and the scored characters depend on them.
    """
    if not text:
        return None
    sha = sha or _text_sha(text)  # a run knows its text's hash: no need to hash megabytes every second
    return _baselines(sha, "".join(vocab.chars), float(cfg.validation_fraction), int(cfg.seq_length), text, vocab)


_TEXT_SHAS: dict[int, tuple[str, str]] = {}


def _text_sha(text: str) -> str:
    """The text's hash, remembered per text object (a running job's text is hashed once, not every second)."""
    known = _TEXT_SHAS.get(id(text))
    if known is not None and known[0] is text:
        return known[1]
    sha = corpus.text_hash(text)
    if len(_TEXT_SHAS) >= 4:  # it keeps the texts alive: only the few trainings running now
        _TEXT_SHAS.clear()
    _TEXT_SHAS[id(text)] = (text, sha)
    return sha


@st.cache_resource(show_spinner=False, max_entries=4)
def _text_index(sha: str, cleaning: str, _text: str) -> TrainingTextIndex:
    return TrainingTextIndex(_text)


def training_index(run: runs.Run) -> TrainingTextIndex | None:
    """The copy detector's index of the run's training text, or None when that text is not loaded."""
    text = run_training_text(run)
    if not text:
        return None
    return _text_index(st.session_state.corpus.sha, run.info.cleaning, text)


def all_runs() -> list[runs.RunInfo]:
    """This session's runs; in teacher mode, everyone's."""
    if is_teacher():
        return [info for _, info in runs.list_all_runs(runs.workspace())]
    return runs.list_runs(session_workspace())


def usable_runs() -> list[runs.RunInfo]:
    return [info for info in all_runs() if info.damaged is None and info.config is not None]


def run_label(info: runs.RunInfo, owner: str = "") -> str:
    label = f"{info.name} · {fmt_date(info.created)}"
    return f"{label} · {owner}" if owner else label


def run_labels(infos: Iterable[runs.RunInfo]) -> dict[str, str]:
    """Each run's label by path; in teacher mode with its owner (format_func looks them up, never st.session_state)."""
    teacher = is_teacher()
    return {str(info.path): run_label(info, run_owner(info.path) if teacher else "") for info in infos}


def config_words(cfg: ModelConfig | None) -> str:
    if cfg is None:
        return ""
    layers = f"{cfg.layers}×" if cfg.layers > 1 else ""
    return f"{layers}{CELLS[cfg.cell]} {cfg.units}, seq {cfg.seq_length}, batch {cfg.batch_size}"


def runs_table(infos: list[runs.RunInfo], owners: bool = False) -> pd.DataFrame:
    """The My runs table; `owners` (teacher mode) adds whose workspace each run is in."""
    columns = ["Name", "Corpus", "Settings", "Best validation loss", "Epochs", "Date", "Status"]
    return pd.DataFrame(
        [
            {
                "Owner": run_owner(info.path) or "—",
                "Name": info.name,
                "Corpus": info.corpus_name,
                "Settings": config_words(info.config),
                "Best validation loss": info.best_val_loss,
                "Epochs": info.figures.get("epochs_done"),
                "Date": fmt_date(info.created),
                "Status": STATUS_WORDS.get(info.status, info.status) + (" (no model)" if info.damaged else ""),
            }
            for info in infos
        ],
        columns=["Owner", *columns] if owners else columns,
    )


# ---------------------------------------------------------------- charts


def convert_loss(values, unit: str):
    values = np.asarray(values, dtype=float)
    if unit == "bits":
        return values / math.log(2)
    if unit == "perplexity":
        return np.exp(np.minimum(values, 50))
    return values


def guess_label(vocab_size: int, unit: str) -> tuple[float, str]:
    """The random-guessing line: ln V in nats, log2 V bits, perplexity V."""
    value = float(convert_loss([math.log(vocab_size)], unit)[0])
    words = {
        "loss": f"ln {vocab_size} = {value:.2f}",
        "bits": f"log₂ {vocab_size} = {value:.2f} bits",
        "perplexity": f"{vocab_size} characters",
    }[unit]
    return value, f"random guessing ({words})"


def _downsample(points: list[tuple[float, float]], limit: int = 1500) -> list[tuple[float, float]]:
    if len(points) <= limit:
        return points
    size = math.ceil(len(points) / limit)
    return [
        (
            points[i + size - 1][0] if i + size <= len(points) else points[-1][0],
            float(np.mean([v for _, v in points[i : i + size]])),
        )
        for i in range(0, len(points), size)
    ]


def loss_frame(
    history: list[dict], batch_losses: list[tuple[int, float]], batches_per_epoch: int, first_epoch: int
) -> pd.DataFrame:
    """Long-form loss data: training per batch (or per epoch for earlier epochs), validation per epoch."""
    rows = []
    earlier = [h for h in history if h["epoch"] <= first_epoch or not batch_losses]
    for h in earlier:
        if math.isfinite(h.get("loss", float("nan"))):
            rows.append(("Training (each batch)" if batch_losses else "Training (each epoch)", h["epoch"], h["loss"]))
    if batch_losses and batches_per_epoch:
        points = [(first_epoch + step / batches_per_epoch, loss) for step, loss in batch_losses if math.isfinite(loss)]
        rows += [("Training (each batch)", x, y) for x, y in _downsample(points)]
    for h in history:
        if math.isfinite(h.get("val_loss", float("nan"))):
            rows.append(("Validation (each epoch)", h["epoch"], h["val_loss"]))
    return pd.DataFrame(rows, columns=["series", "epoch", "loss"])


REFERENCE_COLORS = {
    "uniform": COLORS["guess"],
    "unigram": "#A16207",
    "context_1": "#059669",
    "context_2": "#0891B2",
    "context_3": "#7C3AED",
}


def reference_frame(vocab_size: int, unit: str, report: BaselineReport | None = None) -> pd.DataFrame:
    """The reference lines of the loss chart: random guessing, and the counting baselines when known."""
    guess_value, guess_text = guess_label(vocab_size, unit)
    rows = [("uniform", math.log(vocab_size), guess_value, guess_text)]
    if report is not None:
        for b in report.baselines:
            if b.key != "uniform" and math.isfinite(b.loss):
                value = float(convert_loss([b.loss], unit)[0])
                rows.append((b.key, b.loss, value, f"{b.label} ({value:.2f})"))
    return pd.DataFrame(rows, columns=["reference", "loss", "value", "label"])


def loss_chart(
    frame: pd.DataFrame,
    vocab_size: int,
    unit: str,
    report: BaselineReport | None = None,
    marker: float | None = None,
    height: int = 320,
) -> alt.Chart:
    """Training and validation curves, the reference lines, and a vertical rule at a time-lapse moment."""
    frame = frame.assign(value=convert_loss(frame["loss"], unit))
    series = sorted(frame["series"].unique().tolist()) or ["Validation (each epoch)"]
    color = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(
            domain=series, range=[COLORS["train"] if s.startswith("Training") else COLORS["validation"] for s in series]
        ),
        legend=alt.Legend(orient="top"),
    )
    y_title = LOSS_UNITS[unit]
    base = alt.Chart(frame).encode(
        x=alt.X("epoch:Q", title="Epoch", scale=alt.Scale(domainMin=0)),
        y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)),
        color=color,
        tooltip=[
            alt.Tooltip("series:N", title="Curve"),
            alt.Tooltip("epoch:Q", format=".2f", title="Epoch"),
            alt.Tooltip("value:Q", format=".3f", title=y_title),
        ],
    )
    train = base.transform_filter(alt.datum.series != "Validation (each epoch)").mark_line(strokeWidth=1.2)
    validation = base.transform_filter(alt.datum.series == "Validation (each epoch)").mark_line(
        point=alt.OverlayMarkDef(size=45), strokeWidth=2.5
    )
    references = reference_frame(vocab_size, unit, report)
    layers = [train, validation]
    for i, key in enumerate(references["reference"]):  # labels alternate sides: close lines do not collide
        line = alt.Chart(references).transform_filter(alt.datum.reference == key)
        color = REFERENCE_COLORS.get(key, "#6B7280")
        layers.append(
            line.mark_rule(color=color, strokeDash=[6, 4]).encode(
                y="value:Q", tooltip=[alt.Tooltip("label:N", title="Reference")]
            )
        )
        side = dict(align="right", x="width") if i % 2 == 0 else dict(align="left", x=4)
        layers.append(
            line.mark_text(baseline="bottom", dy=-2, color=color, fontSize=11, **side).encode(
                y="value:Q", text="label:N"
            )
        )
    if marker is not None:
        moment = pd.DataFrame({"epoch": [float(marker)], "moment": ["time-lapse sample"]})
        layers.append(
            alt.Chart(moment)
            .mark_rule(color=COLORS["changed"], strokeWidth=2)
            .encode(x="epoch:Q", tooltip=["moment:N"])
        )
    return alt.layer(*layers).properties(height=height)


def compare_chart(histories: dict[str, list[dict]], unit: str) -> alt.Chart:
    rows = []
    for name, history in histories.items():
        for h in history:
            for kind, column in (("Training", "loss"), ("Validation", "val_loss")):
                value = h.get(column, float("nan"))
                if math.isfinite(value):
                    rows.append((name, kind, h["epoch"], value))
    frame = pd.DataFrame(rows, columns=["run", "curve", "epoch", "loss"])
    frame = frame.assign(value=convert_loss(frame["loss"], unit))
    return (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(size=25))
        .encode(
            x=alt.X("epoch:Q", title="Epoch"),
            y=alt.Y("value:Q", title=LOSS_UNITS[unit], scale=alt.Scale(zero=False)),
            color=alt.Color("run:N", title="Run", legend=alt.Legend(orient="top", columns=2)),
            strokeDash=alt.StrokeDash(
                "curve:N", title="Curve", scale=alt.Scale(domain=["Validation", "Training"], range=[[1, 0], [5, 4]])
            ),
            tooltip=["run:N", "curve:N", "epoch:Q", alt.Tooltip("value:Q", format=".3f", title=LOSS_UNITS[unit])],
        )
        .properties(height=340)
    )


def vocabulary_frame(stats: corpus.CorpusStats, changes: dict[str, str]) -> pd.DataFrame:
    total = max(1, stats.characters)
    rows = []
    for ch, count in stats.counts.items():
        becomes = changes.get(ch)
        fate = "kept" if becomes is None else ("dropped" if becomes == "" else "replaced")
        rows.append(
            {
                "Character": corpus.visible(ch),
                "Name": char_name(ch),
                "Count": count,
                "Share": count / total,
                "Cleaning": fate,
                "Becomes": "" if becomes is None else ("(dropped)" if becomes == "" else visible_text(becomes)),
            }
        )
    return pd.DataFrame(rows, columns=["Character", "Name", "Count", "Share", "Cleaning", "Becomes"])


def vocabulary_chart(frame: pd.DataFrame, limit: int = 70) -> alt.Chart:
    top = frame.head(limit)
    order = top["Character"].tolist()
    return (
        alt.Chart(top)
        .mark_bar()
        .encode(
            x=alt.X(
                "Character:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelFontSize=13, labelOverlap=False)
            ),
            y=alt.Y("Count:Q", title="How often"),
            color=alt.Color(
                "Cleaning:N",
                title="Cleaning",
                scale=alt.Scale(
                    domain=["kept", "replaced", "dropped"],
                    range=[COLORS["primary"], COLORS["changed"], COLORS["guess"]],
                ),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                "Character:N",
                "Name:N",
                alt.Tooltip("Count:Q", format=","),
                alt.Tooltip("Share:Q", format=".2%"),
                "Cleaning:N",
                "Becomes:N",
            ],
        )
        .properties(height=260)
    )


def probability_chart(
    now: dict[str, float], at_one: dict[str, float], temperature: float, limit: int = 20
) -> alt.Chart:
    top = sorted(now, key=now.get, reverse=True)[:limit]
    frame = pd.DataFrame(
        {
            "Character": [corpus.visible(c) for c in top],
            "Name": [char_name(c) for c in top],
            "Probability": [now[c] for c in top],
            "At temperature 1": [at_one[c] for c in top],
        }
    )
    order = frame["Character"].tolist()
    x = alt.X("Character:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelFontSize=14, labelOverlap=False))
    tooltip = [
        "Character:N",
        "Name:N",
        alt.Tooltip("Probability:Q", format=".1%"),
        alt.Tooltip("At temperature 1:Q", format=".1%"),
    ]
    top_value = max(1e-9, frame["Probability"].max(), frame["At temperature 1"].max())
    bars = (
        alt.Chart(frame)
        .mark_bar(color=COLORS["primary"])
        .encode(
            x=x,
            y=alt.Y(
                "Probability:Q",
                title=f"Probability at temperature {temperature:g}",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, top_value]),
            ),
            tooltip=tooltip,
        )
    )
    ticks = (
        alt.Chart(frame)
        .mark_tick(color="#111827", thickness=2, size=22)
        .encode(x=x, y="At temperature 1:Q", tooltip=tooltip)
    )
    return alt.layer(bars, ticks).properties(height=260)


# ---------------------------------------------------------------- text helpers


def char_name(ch: str) -> str:
    return {" ": "space", "\n": "new line", "\t": "tab", "\r": "carriage return"}.get(
        ch, unicodedata.name(ch, f"U+{ord(ch):04X}").lower()
    )


def visible_text(text: str) -> str:
    return "".join(corpus.visible(ch) for ch in text)


def md(text: str) -> str:
    """A name or text safe inside st.markdown/st.caption: markdown and HTML characters are escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~<>$:&])", r"\\\1", str(text))


def text_box(seed: str, generated: str, height: int | None = 320) -> str:
    """Generated text in a readable box; the seed (what the user typed) is shown paler."""
    scroll = f"max-height:{height}px;overflow-y:auto;" if height else ""
    return (
        f'<div class="charlab-text" style="white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;'
        f"font-size:0.95rem;line-height:1.5;padding:0.8rem 1rem;border:1px solid #E5E7EB;border-radius:0.5rem;"
        f'background:#FAFAFF;{scroll}"><span style="color:#9CA3AF">{html.escape(seed)}</span>'
        f"<span>{html.escape(generated)}</span></div>"
    )


def stream(placeholder, seed: str, chars: Iterator[str], length: int, seconds: float = 1.5) -> str:
    """Show characters as they are sampled, paced so a reader sees the text being written."""
    out: list[str] = []
    chunk = max(1, length // 60)
    pause = seconds / max(1, length / chunk)
    for i, ch in enumerate(chars, 1):
        out.append(ch)
        if i % chunk == 0:
            placeholder.html(text_box(seed, "".join(out)))
            time.sleep(pause)
    text = "".join(out)
    placeholder.html(text_box(seed, text))
    return text


def marked_text(text: str, spans: Iterable[tuple[int, int, str]], height: int | None = 320) -> str:
    """A text box with some stretches highlighted; spans are (start, end, CSS background), never overlapping.

    Every piece is html-escaped: the text comes from a model trained on an uploaded file.
    """
    pieces, at = [], 0
    for start, end, background in sorted(spans):
        if start < at or end <= start:
            continue
        pieces.append(html.escape(text[at:start]))
        pieces.append(f'<mark style="background:{background};padding:0">{html.escape(text[start:end])}</mark>')
        at = end
    pieces.append(html.escape(text[at:]))
    scroll = f"max-height:{height}px;overflow-y:auto;" if height else ""
    return (
        f'<div class="charlab-text" style="white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;'
        f"font-size:0.95rem;line-height:1.5;padding:0.8rem 1rem;border:1px solid #E5E7EB;border-radius:0.5rem;"
        f'background:#FAFAFF;{scroll}">{"".join(pieces)}</div>'
    )


COPY_LONGEST, COPY_OTHER = "#FDBA74", "#FEF3C7"


def copy_spans(report: CopyReport) -> list[tuple[int, int, str]]:
    """The longest verbatim passage in orange, the other copied stretches in pale yellow."""
    spans = [(p.start, p.end, COPY_OTHER) for p in report.passages if report.longest is None or p != report.longest]
    if report.longest is not None and len(report.longest.text) >= MIN_PASSAGE:
        spans = [s for s in spans if s[1] <= report.longest.start or s[0] >= report.longest.end]
        spans.append((report.longest.start, report.longest.end, COPY_LONGEST))
    return spans


def copy_summary(report: CopyReport) -> str:
    """One line for a small column: longest copied passage, real words, repetition."""
    longest = len(report.longest.text) if report.longest else 0
    words = f"{report.real_word_share:.0%} real words" if report.words_checked else "no whole words"
    return (
        f"Longest copied passage: {longest} characters · {words} · "
        f"repetition {report.repetition:.2f} (the text itself: {report.reference_repetition:.2f})"
    )


def copy_view(report: CopyReport, generated: str) -> None:
    """ "Is it copying?": the longest verbatim passage highlighted, where it came from, real words, repetition."""
    longest = report.longest
    length = len(longest.text) if longest else 0
    m = st.columns(3)
    m[0].metric(
        "Longest passage copied",
        f"{length} characters",
        help=f"The longest stretch found word for word in the training text. Under {MIN_PASSAGE} characters "
        "happens by chance in any text.",
        border=True,
    )
    m[1].metric(
        "Real words",
        f"{report.real_word_share:.0%}" if report.words_checked else "–",
        help="Share of the generated words that also appear in the training text.",
        border=True,
    )
    m[2].metric(
        "Repetition",
        f"{report.repetition:.2f}",
        delta=f"the text itself: {report.reference_repetition:.2f}",
        delta_color="off",
        delta_arrow="off",
        help="Share of 10-character pieces the text already used earlier (0 = never repeats, 1 = a loop).",
        border=True,
    )
    if longest is not None and length >= MIN_PASSAGE:
        st.caption(
            f"The orange passage ({length} characters) is copied from line {longest.source_line:,} of the "
            f"training text; pale yellow: other copied stretches ({report.copied_share:.0%} of the text in all)."
        )
        st.html(marked_text(generated, copy_spans(report), height=260))
    else:
        st.caption(
            f"No passage of {MIN_PASSAGE} characters or more comes word for word from the training text: "
            "the network writes its own text."
        )
    if report.invented_words:  # the model's words: escaped, never read as markdown
        made_up = html.escape(", ".join(report.invented_words[:12]))
        st.html(f'<div style="color:#6B7280;font-size:0.875rem">Words it made up: {made_up}</div>')


def copy_check_missing(info: runs.RunInfo) -> None:
    st.caption(
        f":material/info: To check copying, choose the text this run learned from ({md(info.corpus_name)}, "
        f"cleaning: {corpus.CLEANING_MODES.get(info.cleaning, (info.cleaning,))[0]}) on the Corpus page: "
        "the training text is not loaded."
    )


# ---------------------------------------------------------------- Grammar lab (the Reber sample)


def grammar_lines(text: str) -> list[str]:
    """The complete, non-empty lines grammar_score checks (the cut-off last line is left out)."""
    return [line for line in text.split("\n")[:-1] if line]


def grammar_timelapse_frame(timelapse: list[dict]) -> pd.DataFrame:
    """Share of grammatical strings in each time-lapse sample, by epoch and training time."""
    rows = []
    for entry in timelapse:
        score = grammar_score(entry.get("text", ""))
        if score.total:
            rows.append((float(entry.get("epoch", 0.0)), float(entry.get("seconds", 0.0)), score.share, score.total))
    return pd.DataFrame(rows, columns=["epoch", "seconds", "grammatical", "strings"])


def grammar_chart(frame: pd.DataFrame) -> alt.Chart:
    """The share of grammatical strings against training time: the proof that rules are being learned."""
    return (
        alt.Chart(frame)
        .mark_line(point=True, color=COLORS["primary"])
        .encode(
            x=alt.X("seconds:Q", title="Training time (seconds)"),
            y=alt.Y(
                "grammatical:Q", title="Grammatical strings", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            tooltip=[
                alt.Tooltip("epoch:Q", format=".2f", title="Epoch"),
                alt.Tooltip("seconds:Q", format=".0f", title="Seconds of training"),
                alt.Tooltip("grammatical:Q", format=".0%", title="Grammatical"),
                alt.Tooltip("strings:Q", title="Strings checked"),
            ],
        )
        .properties(height=220)
    )


def grammar_growth(timelapse: list[dict]) -> None:
    """How the share of grammatical strings grew over the time-lapse samples (Train and Generate)."""
    frame = grammar_timelapse_frame(timelapse)
    if len(frame) > 1:
        st.markdown("**Grammatical strings as it learned** (in each time-lapse sample)")
        st.altair_chart(grammar_chart(frame), width="stretch")


def grammar_view(run: runs.Run, text: str) -> None:
    """Share of grammatical strings, its growth over the time-lapse, and where a chosen string breaks the rules."""
    ss = st.session_state
    score = grammar_score(text)
    st.metric(
        "Grammatical strings",
        f"{score.share:.0%}" if score.total else "–",
        help="Lines that are exactly one string the embedded Reber grammar allows (the cut-off last line is not "
        "counted).",
        border=True,
    )
    st.caption(f"{score.grammatical} of {score.total} complete strings follow every rule of the grammar.")
    grammar_growth(run.timelapse())
    lines = grammar_lines(text)
    if not lines:
        return
    if ss.get("generate_grammar_line", 0) >= len(lines):
        ss.generate_grammar_line = 0
    i = st.selectbox(
        "Check one string",
        list(range(len(lines))),
        key="generate_grammar_line",
        format_func=lambda k: f"{k + 1}: {lines[k][:60]}",
    )
    line = lines[i]
    where = first_error(line)
    if where is None:
        st.success("This string follows the grammar from start to end.", icon=":material/check_circle:")
        st.html(marked_text(line, [], height=None))
    else:
        st.warning(
            f"It breaks the grammar at character {where + 1}"
            + (" (the string ends too early)." if where >= len(line) else "."),
            icon=":material/error:",
        )
        st.html(marked_text(line + (" " if where >= len(line) else ""), [(where, where + 1, "#FCA5A5")], height=None))


# ---------------------------------------------------------------- Look inside

INSIDE_MAX_CHARS = 2000  # characters traced and drawn at once (each becomes a coloured span)
STATE_WORDS = {"hidden": "Hidden state", "cell": "Cell state"}
STATE_HELP = "Hidden state: what the layer passes on to the next. Cell state: an LSTM's inner memory."
CATEGORY_COLORS = {
    "vowel": "#DC2626",
    "consonant": "#4F46E5",
    "digit": "#059669",
    "punctuation": "#D97706",
    "space": "#6B7280",
}


@st.cache_resource(show_spinner=False, max_entries=4)
def _trace(path: str, stamp: float, text: str) -> Trace:
    run = _load_run(path, stamp)
    return trace(NumpyCharModel.from_config(run.config, run.weights), run.vocab, text)


def run_trace(path: str, text: str) -> Trace:
    """What the run's network does while reading `text` (cached per run and text)."""
    return _trace(str(path), run_stamp(path), text)


def unit_ranking(result: Trace, top: int = 3) -> list[UnitMatch]:
    """The best units for every hypothesis, strongest correlation first."""
    found = [m for matches in rank_all(result, top).values() for m in matches]
    return sorted(found, key=lambda m: -abs(m.correlation))


def ranking_frame(matches: list[UnitMatch]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "What it tracks": m.hypothesis.label,
                "Unit": m.describe(),
                "Layer": m.layer + 1,
                "State": m.state,
                "Unit number": m.unit,
                "Correlation": m.correlation,
            }
            for m in matches
        ],
        columns=["What it tracks", "Unit", "Layer", "State", "Unit number", "Correlation"],
    )


def activation_color(value: float) -> str:
    """Red (negative) – white (0) – blue (positive), for a value in [-1, 1]."""
    v = max(-1.0, min(1.0, float(value)))
    if v >= 0:
        r, g, b = (int(255 + (c - 255) * v) for c in (37, 99, 235))
    else:
        r, g, b = (int(255 + (c - 255) * -v) for c in (220, 38, 38))
    return f"#{r:02x}{g:02x}{b:02x}"


def surprise_color(value: float, scale: float) -> str:
    """White (no surprise) to orange (as surprised as guessing at random, or more)."""
    v = max(0.0, min(1.0, float(value) / max(scale, 1e-9)))
    r, g, b = (int(255 + (c - 255) * v) for c in (249, 115, 22))
    return f"#{r:02x}{g:02x}{b:02x}"


def guesses_words(result: Trace, t: int) -> str:
    return ", ".join(f"{corpus.visible(ch)} {p:.0%}" for ch, p in result.top_guesses(t, 5))


def _char_span(ch: str, background: str, title: str) -> str:
    shown = "↵\n" if ch == "\n" else ch
    return f'<span style="background:{background}" title="{html.escape(title, quote=True)}">{html.escape(shown)}</span>'


def _coloured_box(spans: list[str], height: int) -> str:
    return (
        '<div class="charlab-inside" style="white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;'
        f"font-size:0.95rem;line-height:1.6;padding:0.8rem 1rem;border:1px solid #E5E7EB;border-radius:0.5rem;"
        f'max-height:{height}px;overflow-y:auto">{"".join(spans)}</div>'
    )


def activation_html(result: Trace, layer: int, state: str, unit: int, height: int = 320) -> str:
    """Each character coloured by one unit's activation after reading it (escaped; details in the tooltip)."""
    values = result.activations(layer, state)[:, unit].astype(float)
    scale = 1.0 if state == "hidden" else max(1.0, float(np.abs(values).max()))  # tanh is in [-1, 1]; c is not
    spans = [
        _char_span(
            ch,
            activation_color(values[t] / scale),
            f"{char_name(ch)} · activation {values[t]:+.2f} · surprise {result.surprise[t]:.2f}",
        )
        for t, ch in enumerate(result.text)
    ]
    return _coloured_box(spans, height)


def surprise_html(result: Trace, height: int = 240) -> str:
    """Each character coloured by how surprised the model was to see it; its guesses for the next one in the tooltip."""
    scale = math.log(len(result.vocab))
    spans = [
        _char_span(
            ch,
            surprise_color(result.surprise[t], scale),
            f"{char_name(ch)} · surprise {result.surprise[t]:.2f} nats · next: {guesses_words(result, t)}",
        )
        for t, ch in enumerate(result.text)
    ]
    return _coloured_box(spans, height)


def guesses_frame(result: Trace, t: int) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Guess": corpus.visible(ch), "Name": char_name(ch), "Probability": p} for ch, p in result.top_guesses(t, 5)],
        columns=["Guess", "Name", "Probability"],
    )


def embedding_frame(run: runs.Run) -> tuple[pd.DataFrame, tuple[float, float]]:
    found = embedding_map(run.weights["embedding"], run.vocab)
    frame = pd.DataFrame(
        {
            "Character": [corpus.visible(ch) for ch in found.chars],
            "Name": [char_name(ch) for ch in found.chars],
            "Kind": list(found.categories),
            "x": found.xy[:, 0],
            "y": found.xy[:, 1],
        }
    )
    return frame, found.explained


def embedding_chart(frame: pd.DataFrame) -> alt.Chart:
    kinds = [k for k in CATEGORY_COLORS if k in set(frame["Kind"])]
    color = alt.Color(
        "Kind:N",
        title=None,
        scale=alt.Scale(domain=kinds, range=[CATEGORY_COLORS[k] for k in kinds]),
        legend=alt.Legend(orient="top"),
    )
    base = alt.Chart(frame).encode(
        x=alt.X("x:Q", title="First direction", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", title="Second direction", axis=alt.Axis(labels=False, ticks=False)),
        color=color,
        tooltip=["Character:N", "Name:N", "Kind:N"],
    )
    points = base.mark_circle(size=60, opacity=0.35)
    labels = base.mark_text(fontSize=15, fontWeight="bold").encode(text="Character:N")
    return alt.layer(points, labels).properties(height=380)


def new_random_seed() -> None:
    value = random.randrange(0, 1_000_000)
    st.session_state.generate["random_seed"] = value
    st.session_state["generate_random_seed"] = value


# ---------------------------------------------------------------- formatting


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 0.5:
        return "under 1 s"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def fmt_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}" if n < 10 * size else f"{n / size:.0f} {unit}"
    return f"{int(n)} bytes"


def fmt_loss(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.3f}"


def fmt_date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%d %b %Y, %H:%M")
    except (TypeError, ValueError):
        return iso or "–"


def queue_words(handle: JobHandle) -> str:
    """ "yours is next, about 2 min" — the place in the queue and, when it can be told, the wait."""
    queue = registry().queue
    ahead = queue.position(handle.token) or 0
    eta = queue.eta(handle.token)
    place = "yours is next" if ahead == 0 else f"{ordinal(ahead + 1)} in the queue"
    if eta is None:
        return place
    return f"{place}, starts in a few seconds" if eta < 10 else f"{place}, starts in about {fmt_duration(eta)}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def progress_words(p: Progress) -> str:
    epoch = f"Epoch {p.first_epoch + max(p.epoch, 1)} of {p.first_epoch + p.epochs}"
    speed = f"{p.chars_per_second:,.0f} characters/s" if p.chars_per_second else "measuring speed"
    eta = f"about {fmt_duration(p.eta)} left" if p.eta is not None and p.step else "estimating time left"
    return f"{epoch} · {speed} · {fmt_duration(p.elapsed)} elapsed · {eta}"


# ---------------------------------------------------------------- the sidebar, on every page


def sidebar() -> None:
    ss = st.session_state
    with st.sidebar:
        owner_box()
        lesson = ss.get("lesson")
        if lesson and (lesson.get("title") or lesson.get("hidden")):
            st.markdown("#### Lesson")
            if lesson.get("title"):
                st.markdown(md(lesson["title"]))
            if lesson.get("hidden"):
                hidden = ", ".join(CONTROL_LABELS.get(c, c).lower() for c in lesson["hidden"])
                st.caption(f"Set by the lesson: {hidden}.")
                st.button("Show all controls", key="lesson_leave", icon=":material/visibility:", on_click=leave_lesson)
        st.markdown("#### Corpus")
        loaded = ss.corpus
        if loaded is None:
            st.caption("No text chosen yet.")
        else:
            label, _ = corpus.CLEANING_MODES[ss.cleaning]
            st.markdown(f"**{md(loaded.name)}**  \n{len(loaded.text):,} characters · {label}")
        st.markdown("#### Run")
        info = run_info(ss.run_path)
        handle = current_handle()
        running = handle is not None and not handle.job.done
        if running and (info is None or info.status != "training"):  # its folder may not exist yet
            st.markdown(f"**{md(handle.job.name)}**  \n{STATUS_WORDS['training']}")
        elif info is None:
            st.caption("No run yet: train one, or load one from My runs.")
        else:
            loss = f" · best validation loss {fmt_loss(info.best_val_loss)}" if info.best_val_loss else ""
            st.markdown(f"**{md(info.name)}**  \n{STATUS_WORDS.get(info.status, info.status)}{loss}")
        poll = poll_seconds(handle)
        if poll is not None:
            st.fragment(run_every=poll * 2)(_sidebar_progress)(poll)  # the Train page's live view is the fast one


def poll_seconds(handle: JobHandle | None) -> float | None:
    """How often a page redraws a training: every second while it trains, every 5 s while it waits
    for a place (a full class waiting must not keep the server busy), never once it has ended."""
    if handle is None or handle.job.done:
        return None
    return 5.0 if handle.waiting else 1.0


def _sidebar_progress(poll: float) -> None:
    handle = current_handle()
    if handle is None:
        return
    if poll_seconds(handle) not in (poll, None):  # it got its place: redraw, and poll at the new pace
        rerun_page()
    p = handle.job.snapshot()
    if p.done or handle.cancelled:
        rerun_when_finished(p)
        return
    if handle.waiting:
        st.caption(f"Waiting for a free place ({queue_words(handle)})…")
    else:
        st.progress(p.fraction, text=f"Training · epoch {p.first_epoch + max(p.epoch, 1)}/{p.first_epoch + p.epochs}")


def on_preset_change() -> None:
    """The Preset control changed: fill every setting from the preset, fitted to the current corpus."""
    ss = st.session_state
    text = cleaned_text()
    apply_preset(ss.get("train_preset"), len(text) if text else None, corpus_vocab_size(), corpus_key())


def corpus_key() -> str | None:
    """Identifies the cleaned text the preset epochs were computed for."""
    loaded = st.session_state.corpus
    return f"{loaded.sha}:{st.session_state.cleaning}" if loaded else None


def seed_key(key: str, value) -> None:
    """Give a widget its remembered value when it is (re)drawn after a page switch."""
    if key not in st.session_state:
        st.session_state[key] = value


# ---------------------------------------------------------------- Train page sections


def live_view(handle: JobHandle | None, run_path: str | None) -> None:
    """The running (or last) training: status, progress, loss chart, latest sample; else the current run."""
    ss = st.session_state
    p = handle.job.snapshot() if handle is not None else None
    if p is not None and p.done and ss.get("job_seen_running"):
        rerun_page()  # the job has just ended: redraw the whole page (buttons, My runs, sidebar)
    if p is not None and (not p.done or p.run_path is None or run_path in (None, str(p.run_path))):
        st.subheader(f"Training «{md(handle.job.name)}»")
        _job_status(handle, p)
        history, batch_losses, samples_, timelapse = p.history, p.batch_losses, p.samples, p.timelapse
        bpe, first, vocab_size = p.batches_per_epoch, p.first_epoch, p.vocab_size
        job = handle.job
        report = baseline_report(job.text, job.vocab, job.config)
        reber = is_reber_text(job.text, job.cleaning) if job.text else _saved_run_is_reber(p.run_path)
        if first == 0 and batch_losses:  # a fresh network should start near random guessing
            start = check_first_loss(batch_losses[0][1], len(job.vocab))
            if not start.ok:
                st.warning(f"{start.message} {start.suggestion}", icon=":material/warning:")
    elif run_path and run_info(run_path) is not None:
        info = run_info(run_path)
        st.subheader(f"Run «{md(info.name)}»")
        st.caption(
            f"{STATUS_WORDS.get(info.status, info.status).capitalize()} · {info.corpus_name} · "
            f"{config_words(info.config)} · best validation loss {fmt_loss(info.best_val_loss)}"
        )
        try:
            run = load_run(run_path)
        except CharlabError as err:
            st.info(str(err), icon=":material/info:")
            return
        history, batch_losses, samples_, timelapse = run.history(), [], run.samples(), run.timelapse()
        bpe, first, vocab_size = 0, len(history), len(run.vocab)
        text = run_training_text(run)
        sha = (run.meta.get("corpus") or {}).get("sha256")
        report = baseline_report(text, run.vocab, run.config, sha) if text else None
        reber = is_reber_run(run)
    else:
        st.info(
            "Press **Start training**: the loss chart and the model's first attempts at writing appear here.",
            icon=":material/play_arrow:",
        )
        return
    seed_key("train_unit", ss.get("loss_unit", "loss"))
    unit = (
        st.segmented_control(
            "Show the loss as",
            list(LOSS_UNITS),
            format_func=LOSS_UNITS.get,
            key="train_unit",
            required=True,
            help=LOSS_UNIT_HELP,
        )
        or "loss"
    )
    ss.loss_unit = unit
    frame = loss_frame(history, batch_losses, bpe, first)
    moment = timelapse_position(timelapse)
    if frame.empty:
        st.caption("The loss chart appears after the first training steps.")
    else:
        marker = timelapse[moment]["epoch"] if moment is not None else None
        st.altair_chart(loss_chart(frame, vocab_size, unit, report, marker), width="stretch")
        verdict_view(history, batch_losses, report)
    if timelapse:
        timelapse_view(timelapse, moment)
        if reber:
            grammar_growth(timelapse)
    if samples_:
        last = samples_[-1]
        st.markdown(f"**What the model writes after epoch {last['epoch']}** (temperature {last['temperature']:g})")
        st.html(text_box("", last["text"], height=220))
        with st.expander("Samples of every epoch"):
            for sample in reversed(samples_[-40:]):
                st.caption(f"Epoch {sample['epoch']}")
                st.code(sample["text"], language=None, wrap_lines=True)


VERDICT_LOOK = {
    "learning": (st.success, ":material/trending_down:"),
    "plateau": (st.info, ":material/trending_flat:"),
    "overfitting": (st.warning, ":material/warning:"),
    "underfitting": (st.warning, ":material/warning:"),
    "diverged": (st.error, ":material/error:"),
}


def verdict_view(history: list[dict], batch_losses: list[tuple[int, float]], report: BaselineReport | None) -> None:
    """Which reference lines the network beats, and the plain-words verdict on where training is going."""
    latest = latest_loss(history, batch_losses)
    if report is not None and latest is not None:
        st.caption(beaten_words(report, latest))
    reference = report.get("unigram").loss if report is not None else None
    found = diagnose(history, batch_losses, reference_loss=reference)
    if found.verdict == "too early":
        st.caption(found.message)
        return
    show, icon = VERDICT_LOOK.get(found.verdict, (st.info, ":material/info:"))
    words = f"**{found.verdict.capitalize()}.** {found.message}"
    show(f"{words} {found.suggestion}".strip(), icon=icon)


def latest_loss(history: list[dict], batch_losses: list[tuple[int, float]]) -> float | None:
    """The loss to compare with the reference lines: the last validation loss, else the recent training loss."""
    for h in reversed(history):
        if math.isfinite(h.get("val_loss", float("nan"))):
            return float(h["val_loss"])
    recent = [loss for _, loss in batch_losses[-20:] if math.isfinite(loss)]
    if recent:
        return float(np.mean(recent))
    finite = [h["loss"] for h in history if math.isfinite(h.get("loss", float("nan")))]
    return float(finite[-1]) if finite else None


BASELINE_WORDS = {
    "uniform": "guessing at random",
    "unigram": "a model that knows only letter frequencies",
    "context_1": "a model that looks at the previous character",
    "context_2": "a model that looks at the previous 2 characters",
    "context_3": "a model that looks at the previous 3 characters",
}


def beaten_words(report: BaselineReport, loss: float) -> str:
    """e.g. "Your network now beats a model that looks at the previous 3 characters." """
    beaten = {b.key for b in report.beaten_by(loss)}
    best = [b for b in report.baselines if b.key in beaten]
    ahead = [b for b in report.baselines if b.key not in beaten]
    if not best:
        return (
            f":material/flag: Not yet better than {BASELINE_WORDS['uniform']}: the reference lines show what "
            "simple counting gets on the same text."
        )
    strongest = min(best, key=lambda b: b.loss)
    words = f":material/military_tech: Your network now beats {BASELINE_WORDS.get(strongest.key, strongest.label)}"
    if ahead:
        nxt = max(ahead, key=lambda b: b.loss)
        return f"{words}. Next to beat: {nxt.label} ({nxt.loss:.2f})."
    return f"{words}: it uses more than the previous 3 characters."


def timelapse_position(timelapse: list[dict]) -> int | None:
    """The time-lapse entry the slider points at; it follows the newest entry until the user moves it back."""
    ss = st.session_state
    if not timelapse:
        return None
    last = len(timelapse) - 1
    chosen = ss.get("train_timelapse")
    if not isinstance(chosen, int) or chosen > last or chosen == ss.get("train_timelapse_last"):
        chosen = last
    ss.train_timelapse = chosen
    ss.train_timelapse_last = last
    return chosen


def timelapse_words(entry: dict) -> str:
    seconds, epoch, step = entry.get("seconds"), entry.get("epoch", 0), entry.get("step", 0)
    return f"after {fmt_duration(seconds)} · epoch {epoch:.2f} · step {step:,}"


def timelapse_view(timelapse: list[dict], moment: int | None) -> None:
    """A slider through the time-lapse samples; the loss chart marks the same moment."""
    st.markdown("**Time-lapse: what the network wrote as it learned**")
    st.caption(
        "The same start and the same dice every time: only the network changed between these samples. "
        "Move the slider; the orange line on the loss chart shows when the sample was written."
    )
    if len(timelapse) > 1:
        st.select_slider(
            "Moment in the training",
            options=list(range(len(timelapse))),
            key="train_timelapse",
            format_func=lambda i: timelapse_words(timelapse[i]),
        )
    entry = timelapse[moment if moment is not None else -1]
    st.caption(timelapse_words(entry).capitalize())
    st.html(text_box("", entry["text"], height=160))


def _job_status(handle: JobHandle, p: Progress) -> None:
    if handle.waiting:
        ahead = queue_words(handle)
        st.info(
            f"Waiting for a free place: other trainings are using this computer ({ahead}). Training starts by itself.",
            icon=":material/hourglass_top:",
        )
    elif p.status in ("queued", "starting"):
        st.info(
            "Preparing the data and the model… (the first training takes a few seconds to start)",
            icon=":material/hourglass_top:",
        )
    elif p.status in ("training", "stopping"):
        st.progress(p.fraction, text=progress_words(p))
        if p.status == "stopping":
            st.caption("Stopping after this batch… what was learned is saved.")
    else:
        message = p.message or STATUS_WORDS.get(p.status, p.status)
        figures = (
            f" Best validation loss {fmt_loss(p.best_val_loss)} after {len(p.history)} epochs in "
            f"{fmt_duration(p.elapsed)}."
            if p.history
            else ""
        )
        {"finished": st.success, "stopped": st.info, "diverged": st.warning}.get(p.status, st.error)(
            message + figures, icon=":material/flag:"
        )


def my_runs() -> None:
    """Every saved run: table, load, rename, delete (confirmed), download, upload, compare."""
    ss = st.session_state
    infos = all_runs()
    if is_teacher():
        st.caption(":material/school: Teacher mode: everyone's runs, with their owner.")
    elif owners_enabled() and runs.list_runs(runs.workspace()):
        st.caption(
            ":material/info: Older runs saved without a name are not listed here: the teacher can see them, "
            "or start charlab with CHARLAB_OWNERS=0 to work as a single user."
        )
    if not infos:
        st.caption("No runs yet. Every training is saved here when it ends or is stopped.")
    else:
        _runs_manage(infos)
        _runs_compare(infos)
    with st.expander("Add a run from a .zip", icon=":material/upload:"):
        limit = server_limits()
        upload = st.file_uploader(
            f"A run downloaded from charlab (.zip, at most {limit.run_upload_mb:g} MB)",
            type=["zip"],
            key="runs_upload",
            max_upload_size=upload_box_mb(limit.run_upload_mb),
        )
        if upload is not None and ss.get("runs_upload_seen") != upload.file_id:
            ss.runs_upload_seen = upload.file_id
            try:
                limit.check_upload(upload.size, upload.name, "run")
                with st.spinner("Checking the archive…"):
                    added = runs.import_zip(upload.getvalue(), session_workspace())
                ss.runs_upload_result = ("ok", f"Added «{md(added.name)}» to My runs.")
            except CharlabError as err:
                ss.runs_upload_result = ("error", str(err))
            st.rerun()
        if upload is not None and ss.get("runs_upload_result"):
            kind, words = ss.runs_upload_result
            (st.success if kind == "ok" else st.error)(words)


def _runs_manage(infos: list[runs.RunInfo]) -> None:
    ss = st.session_state
    st.dataframe(
        runs_table(infos, owners=is_teacher()),
        hide_index=True,
        width="stretch",
        column_config={
            "Best validation loss": st.column_config.NumberColumn(format="%.3f"),
            "Epochs": st.column_config.NumberColumn(format="%d"),
        },
    )
    by_path = {str(info.path): info for info in infos}
    paths = list(by_path)
    if ss.get("runs_pick") not in paths:
        ss.runs_pick = ss.run_path if ss.run_path in paths else paths[0]
    labels = run_labels(infos)
    pick = st.selectbox("Choose a run", paths, key="runs_pick", format_func=labels.get)
    info = by_path[pick]
    if info.damaged:
        st.warning(f"This run cannot be used: {info.damaged}", icon=":material/warning:")
    load, download, delete, _ = st.columns([1, 1, 1, 2])
    if load.button(
        "Load",
        key="runs_load",
        icon=":material/open_in_new:",
        disabled=info.damaged is not None,
        width="stretch",
        help="Make it the current run: Generate uses it, Continue trains it further.",
    ):
        check_run_allowed(pick)
        ss.run_path = pick
        fixed = {k: v for k, v in ss.settings.items() if is_hidden(k)}  # a lesson's hidden settings stay
        ss.settings = {**settings_from_config(info.config), **fixed}
        ss.preset = None
        reseed("settings")
        ss.pop("train_preset", None)
        st.toast(f"Loaded «{md(info.name)}»: its settings are on this page and Generate uses it.")
        st.rerun()
    download.download_button(
        "Download .zip",
        data=lambda: runs.export_zip(pick),
        key="runs_download",
        file_name=f"{runs.slugify(info.name)}.zip",
        mime="application/zip",
        icon=":material/download:",
        width="stretch",
    )
    if delete.button("Delete…", key="runs_delete", icon=":material/delete:", width="stretch"):
        ss.runs_confirm_delete = pick
    if ss.get("runs_confirm_delete") == pick:
        st.warning(f"Delete «{md(info.name)}» and its model for good? This cannot be undone.", icon=":material/delete:")
        yes, no, _ = st.columns([1, 1, 3])
        if yes.button("Yes, delete", type="primary", key="runs_delete_yes", width="stretch"):
            ss.runs_confirm_delete = None
            try:
                check_run_allowed(pick)
                runs.delete_run(pick)  # refuses a run that is still training, in plain words
            except CharlabError as err:
                st.error(str(err), icon=":material/error:")
            else:
                if ss.run_path == pick:
                    ss.run_path = None
                st.toast(f"Deleted «{md(info.name)}».")
                st.rerun()
        if no.button("Cancel", key="runs_delete_no", width="stretch"):
            ss.runs_confirm_delete = None
            st.rerun()
    name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    new_name = name_column.text_input("New name", key="runs_new_name", max_chars=80, placeholder=info.name)
    if button_column.button("Rename", key="runs_rename", icon=":material/edit:", width="stretch"):
        try:
            check_run_allowed(pick)
            runs.rename_run(pick, new_name)  # plain-words error for an empty or too long name
        except CharlabError as err:
            st.error(str(err), icon=":material/error:")
        else:
            st.toast(f"Renamed to «{md(new_name.strip())}».")
            st.rerun()


def _runs_compare(infos: list[runs.RunInfo]) -> None:
    ss = st.session_state
    st.subheader("Compare runs")
    usable = {str(info.path): info for info in infos if info.damaged is None}
    if not usable:
        return
    labels = run_labels(usable.values())
    if "runs_compare" in ss:  # the user's choice, even an empty one, minus runs deleted since
        ss.runs_compare = [p for p in ss.runs_compare if p in usable]
    else:
        ss.runs_compare = [ss.run_path] if ss.run_path in usable else list(usable)[:1]
    chosen = st.multiselect(
        "Runs to overlay",
        list(usable),
        key="runs_compare",
        max_selections=8,
        format_func=labels.get,
        help="Solid lines: validation loss; dashed: training loss (per epoch).",
    )
    histories = {}
    for path in chosen:
        label = labels[path]
        histories[label if label not in histories else f"{label} ({len(histories) + 1})"] = runs.read_history(path)
    if any(histories.values()):
        unit = ss.get("loss_unit", "loss")
        st.altair_chart(compare_chart(histories, unit), width="stretch")
        st.caption(
            f"Shown as {LOSS_UNITS[unit].lower()} (switch above the live chart). Lower is better; "
            "compare validation lines to see which settings generalise best."
        )
    elif chosen:
        st.caption("These runs have no finished epoch yet.")
