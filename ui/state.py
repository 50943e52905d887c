"""Every value a session keeps in st.session_state, declared once: its key, what it holds, its first value and
whether a reload brings it back.

Streamlit runs a page's script again on every click; a value that must outlive that run lives in session
state. Each such value is declared here, so one file lists every key a session holds and what it means, and
the pages and helpers go through the declaration (`RUN_PATH.get()`, `RUN_PATH.set(path)`, a widget's
`key=PRESET_BOX.key`), never through a string of their own (tests/test_ui_state.py checks). A value only the
drawing of one page needs, read back in the same run, is returned by the function that draws it instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import streamlit as st

from charlab.network.generation import GenerateConfig
from charlab.network.model import ModelConfig
from charlab.text.corpus import Corpus
from ui.settings import default_settings

T = TypeVar("T")


@dataclass(frozen=True)
class Value(Generic[T]):
    """One value of a session: `key` in st.session_state, what it `holds` in words, the `kinds` (types) it may
    hold, its `first` value (None: absent until set, as a widget's key before its page draws it), and whether a
    reload brings it back (`remembered`: kept server-side under the session's token, see ui/session.py)."""

    key: str
    holds: str
    kinds: tuple[type, ...] = (object,)
    first: Callable[[], T] | None = None
    remembered: bool = False

    def get(self, default: Any = None) -> T:
        return st.session_state.get(self.key, default)

    def set(self, value: T) -> None:
        st.session_state[self.key] = value

    def forget(self) -> None:
        st.session_state.pop(self.key, None)

    def is_set(self) -> bool:
        return self.key in st.session_state

    def start(self) -> None:
        """Its first value, unless the session already holds one (a reload restored it, a widget set it)."""
        if self.first is not None and self.key not in st.session_state:
            st.session_state[self.key] = self.first()


@dataclass(frozen=True)
class Family:
    """Keys made from a prefix and a name, one per member of a table (e.g. each model setting's widget)."""

    prefix: str
    holds: str

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"


VALUES: dict[str, Value] = {}
FAMILIES: dict[str, Family] = {}


def value(key: str, holds: str, kinds: tuple[type, ...] = (object,), first=None, remembered: bool = False) -> Value:
    """Declare one value (each key once: a second declaration of a key is a mistake)."""
    assert key not in VALUES, f"session-state key {key!r} declared twice"
    VALUES[key] = Value(key, holds, kinds, first, remembered)
    return VALUES[key]


def family(prefix: str, holds: str) -> Family:
    assert prefix not in FAMILIES, f"session-state key family {prefix!r} declared twice"
    FAMILIES[prefix] = Family(prefix, holds)
    return FAMILIES[prefix]


def start_all() -> None:
    """Every value with a first value, set unless the session holds it: at the top of every script run."""
    for declared in VALUES.values():
        declared.start()


def held(keys: tuple[str, ...]) -> dict[str, Any]:
    """The values of those keys this session holds (a widget's key is absent while its page is not drawn)."""
    return {key: st.session_state[key] for key in keys if key in st.session_state}


def restore(values: dict[str, Any]) -> None:
    """A reload's remembered values, each unless the session already holds one."""
    for key, kept in values.items():
        st.session_state.setdefault(key, kept)


def remembered() -> dict[str, tuple[type, ...]]:
    """What a reload brings back, with the kinds each may hold: a remembered value of another kind (e.g. None for
    the run name of a Train page never drawn, which made Start training fail after every reload) is not
    restored."""
    return {declared.key: declared.kinds for declared in VALUES.values() if declared.remembered}


NONE = type(None)

# ---------------------------------------------------------------- the session itself (ui/session.py)
TOKEN = value("token", "this session's id (16 hex digits), also in the URL as ?session=, so a reload finds it")
WORKSPACE = value("workspace", "the folder this session's runs are saved in (str), set on every run")
JOB_SEEN_RUNNING = value("job_seen_running", "True while this session's training was last seen running", (bool,))

# ---------------------------------------------------------------- shared by the pages
CORPUS = value("corpus", "the text chosen on the Corpus page, cleaned (a Corpus), or None", (Corpus, NONE),
               first=lambda: None, remembered=True)  # fmt: skip
CLEANING = value("cleaning", "how the text is cleaned: a key of charlab.text.corpus.CLEANING_MODES", (str,),
                 first=lambda: "keep", remembered=True)  # fmt: skip
SETTINGS = value("settings", "the model settings the Train page shows (a frozen ModelConfig)", (ModelConfig,),
                 first=default_settings, remembered=True)  # fmt: skip
MINUTES = value("minutes", "how long to train by the clock, in minutes (None: the settings' epochs)",
                (int, float, NONE), first=lambda: None, remembered=True)  # fmt: skip
PRESET = value("preset", "the preset last applied (a key of PRESETS), or None for settings of one's own",
               (str, NONE), first=lambda: None, remembered=True)  # fmt: skip
START_FROM = value("start_from", 'where a training starts: "blank" or "writer" (ui/start_from.py)', (str,),
                   first=lambda: "blank", remembered=True)  # fmt: skip
RUN_PATH = value("run_path", "the folder of the current run, the one Generate and Look inside show (str), or None",
                 (str, NONE), first=lambda: None, remembered=True)  # fmt: skip
GENERATE = value("generate", "the generation settings (a frozen GenerateConfig: a remembered copy never changes)",
                 (GenerateConfig,), first=GenerateConfig, remembered=True)  # fmt: skip
LESSON = value("lesson", "the lesson link this session opened (its decoded parts, a dict), or None", (dict, NONE),
               first=lambda: None, remembered=True)  # fmt: skip
PROJECTOR = value("projector", "projector mode: large text and charts (the sidebar's toggle, a lesson's pm=1)",
                  (bool,), first=lambda: False, remembered=True)  # fmt: skip
NICKNAME = value("nickname", 'the name a student gave ("": none, a private workspace; see ui/owners.py)', (str,),
                 first=lambda: "", remembered=True)  # fmt: skip
TEACHER = value("teacher", "True once the teacher's password was given; not remembered: asked again after a reload",
                (bool,), first=lambda: False)  # fmt: skip
TRAIN_RUN_NAME = value("train_run_name", "the Train page's Run name box (absent while that page is not drawn)",
                       (str,), remembered=True)  # fmt: skip

# ---------------------------------------------------------------- the Train page
# its widgets' keys; each is seeded from the value it shows when drawn (absent while its page is not drawn)
SETTING_WIDGETS = family("settings_", "each model setting's widget on the Train page (settings_<name>), seeded from "
                         "SETTINGS and copied back on change (ui/widget_state.py)")  # fmt: skip
GENERATE_WIDGETS = family("generate_", "each generation setting's widget on the Generate page (generate_<name>), "
                          "seeded from GENERATE, copied back on change (ui/widget_state.generate_widget)")  # fmt: skip
TRAIN_BY = value("settings_train_by", 'the Train for control: "minutes" or "epochs" (seeded from MINUTES)', (str,))
MINUTES_BOX = value("settings_minutes", "the Minutes box (seeded from MINUTES, copied back on change)", (int, float))
PRESET_BOX = value("train_preset", "the Preset control (seeded from PRESET; forgotten to redraw from it)", (str, NONE))
START_FROM_BOX = value("train_start_from", 'the Start from control, "blank" or "writer" (seeded from START_FROM)',
                       (str,))  # fmt: skip
UNIT_BOX = value("train_unit", "the Show the loss as control beside the chart (seeded from LOSS_UNIT)", (str,))
TIMELAPSE_BOX = value("train_timelapse", "the time-lapse slider: the index of the frame shown", (int,))
START_BUTTON = value("train_start", "the Start training button (True in the run after its click)", (bool,))
STOP_BUTTON = value("train_stop", "the Stop button (True in the run after its click)", (bool,))
CONTINUE_BUTTON = value("train_continue", "the Continue button (True in the run after its click)", (bool,))
QUICK_START_BUTTON = value("home_quick_start", "Home's Quick start button", (bool,))
QUICK_START_OWN_BUTTON = value("home_quick_start_own", "Home's Quick start with my text button", (bool,))
LESSON_HIDE_ALL_BOX = value("lesson_hide_all", "Share as a lesson link: the Hide all settings box", (bool,))
LESSON_HIDE_BOX = value("lesson_hide", "Share as a lesson link: the controls to hide (names from lessons.CONTROLS)",
                        (list,))  # fmt: skip
LESSON_TITLE_BOX = value("lesson_title", "Share as a lesson link: the Lesson title box", (str,))
LESSON_PROJECTOR_BOX = value("lesson_projector", "Share as a lesson link: the Open in projector mode box", (bool,))
LESSON_DOWNLOAD_BUTTON = value("lesson_download", "Share as a lesson link: the Download as a lesson file button",
                               (bool,))  # fmt: skip
LESSON_UPLOAD_BOX = value("lesson_upload", "Share as a lesson link: the Open a lesson file box (an uploaded file)")
CLEANING_BOX = value("corpus_cleaning", "the Corpus page's Cleaning choice (forgotten when a lesson sets CLEANING, "
                     "so it redraws from it)", (str, NONE))  # fmt: skip
# what a Train page keeps between its runs
LOSS_UNIT = value("loss_unit", "the unit the loss charts show, a key of ui.settings.LOSS_UNITS (My runs' chart "
                  "follows the Train page's choice)", (str,), first=lambda: "loss")  # fmt: skip
PRESET_TEXT = value("preset_text", "the cleaned text (ui.corpus_cache.corpus_key) PRESET was last fitted to: on "
                    "another text the preset is fitted again", (str, NONE))  # fmt: skip
START_FROM_CHOSEN = value("start_from_chosen", "True once the user (or a lesson) chose with Start from: a preset "
                          "then keeps that choice instead of the default for the text", (bool,))  # fmt: skip
SETTINGS_BEFORE_WRITER = value("settings_before_writer", "the settings (a ModelConfig) before Start from chose the "
                               "writer: choosing a blank network again brings back their shape and rate",
                               (ModelConfig, NONE))  # fmt: skip
TIMELAPSE_LAST = value("train_timelapse_last", "the time-lapse's last frame when last drawn: a slider left on it "
                       "follows the newest frame", (int,))  # fmt: skip
SCROLL_TO_LIVE = value("scroll_to_live", "True from a Start until the rerun that scrolls the page to the live view",
                       (bool,))  # fmt: skip
LESSON_LINK_FAILED = value("lesson_link_failed", "the lesson link (its parameters) that failed to open: said once, "
                           "not tried again on every run", (str,))  # fmt: skip
UPLOAD_TAKEN = family("taken_", "for each file uploader (by its key), the file last taken and how it went: "
                      "(file id, None or (\"ok\" or \"error\", words)), so a rerun does not take it again")  # fmt: skip

# ---------------------------------------------------------------- Sidebar: name, teacher, projector
OWNER_NICKNAME = value("owner_nickname", "the sidebar's Your name box, as typed (the name in use is NICKNAME)", (str,))
OWNER_ERROR = value("owner_error", "why the name last typed was refused, in words (None: it was taken)", (str, NONE))
TEACHER_PASSWORD_BOX = value("teacher_password_input", "the Teacher password box, emptied as soon as it is read: "
                             "the password is never kept", (str,))  # fmt: skip
TEACHER_ERROR = value("teacher_error", "why the teacher password was refused, in words (None: no error)", (str, NONE))
PROJECTOR_SWITCH = value("sidebar_projector", "the sidebar's Projector mode switch, set from PROJECTOR before each "
                         "draw (app.py draws it anew on every page)", (bool,))  # fmt: skip

# ---------------------------------------------------------------- Generate
GENERATE_RUN = value("generate_run", "Generate's Run picker, set from RUN_PATH at each draw", (str,))
GENERATED = value("generate_output", "the text Generate wrote last: a dict of the run, seed, text and sampling "
                  "options, shown until another run is current", (dict, NONE))  # fmt: skip
COMPARISON = value("generate_comparison", "Compare temperatures' texts: a dict of the run, seed and "
                   "(temperature, text) pairs", (dict, NONE))  # fmt: skip
SCROLL_TO = value("generate_scroll", "the anchor of the result just asked for, brought on screen once after the "
                  "rerun that draws it", (str, NONE))  # fmt: skip
GRAMMAR_LINE = value("generate_grammar_line", "the Grammar lab's Check one string choice (an index into the "
                     "text's lines)", (int,))  # fmt: skip

# ---------------------------------------------------------------- Look inside
INSIDE_RUN = value("inside_run", "Look inside's Run picker, set from RUN_PATH at each draw", (str,))
INSIDE_SOURCE = value("inside_source", 'where the text to read comes from: "corpus" (a piece of it) or "typed"', (str,))
INSIDE_LENGTH = value("inside_length", "how many characters of the corpus the network reads", (int,))
INSIDE_START = value("inside_start", "where in the corpus the piece starts (a character index)", (int,))
INSIDE_TEXT = value("inside_text", "the text typed for the network to read", (str,))
INSIDE_PICK = value("inside_pick", "the unit chosen in the ranking (an index into it), or None", (int, NONE))
INSIDE_LAYER = value("inside_layer", "the layer of the unit shown (from 1)", (int,))
INSIDE_STATE = value("inside_state", 'the state of the unit shown: one of its cell\'s state_names ("hidden", "cell")',
                     (str,))  # fmt: skip
INSIDE_UNIT = value("inside_unit", "the number of the unit shown (from 0)", (int,))

# ---------------------------------------------------------------- My runs
RUNS_PICK = value("runs_pick", "the run My runs acts on (its folder)", (str,))
RUNS_FOLLOWED = value("runs_followed", "the current run the picker last followed, so it follows each new one once",
                      (str, NONE))  # fmt: skip
RUNS_CONFIRM_DELETE = value("runs_confirm_delete", "the run Delete… asks about (its folder), or None", (str, NONE))
RUNS_LOADED_NOTE = value("runs_loaded_note", "Loaded «name»: said beside the button after the rerun a Load makes, "
                         "then forgotten", (str,))  # fmt: skip
RUNS_COMPARE = value("runs_compare", "the runs Compare runs overlays (their folders, the newest 8)", (list,))
RUNS_COMPARE_FOLLOWED = value("runs_compare_followed", "the current run Compare runs last added, so each new one "
                              "joins once", (str, NONE))  # fmt: skip

# ---------------------------------------------------------------- Privacy
CONFIRM_DELETE_MINE = value("privacy_confirm_mine", "the I want to delete everything of mine switch (off again "
                            "after a deletion)", (bool,))  # fmt: skip
CONFIRM_DELETE_CLASS = value("privacy_confirm_class", "the teacher's I want to delete every student's data switch",
                             (bool,))  # fmt: skip
PRIVACY_MESSAGE = value("privacy_message", 'what a deletion did: ("success" or "error", words), said once',
                        (tuple,))  # fmt: skip

# ---------------------------------------------------------------- Class board
BOARD_HIDDEN = value("board_hidden", "the trainings hidden from the projector (their folders; nothing is deleted)",
                     (list,))  # fmt: skip
BOARD_STUDENT = value("board_student", "the training whose text the board shows (its folder)", (str,))
BOARD_TEXT = value("board_text", "the text whose trainings the board compares (a key of charlab.server.board.texts)",
                   (str,))  # fmt: skip
BOARD_WRITTEN = value("board_written", "a text Write now wrote: a dict of the path, temperature and text",
                      (dict, NONE))  # fmt: skip
BOARD_ROWS = value("board_rows", "the Every training table's row selection (Streamlit's)")
BOARD_ROWS_APPLIED = value("board_rows_applied", "the row selection last turned into a choice of student, so a "
                           "click chooses once", (list,))  # fmt: skip
