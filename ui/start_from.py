"""Start from: a blank network or the classics writer (charlab.learning.writers). The Train page's control, the settings
the writer fixes (drawn greyed with its values), the default for a small text of one's own, and the presets, fitted
to the text and to where a training starts.

`state.START_FROM` holds the choice ("blank" or "writer"; a preset puts the default for the text there until the
user chooses with the control); choosing the writer puts its shape and fine-tuning's learning rate into the settings,
so every widget, estimate and lesson link reads one ModelConfig.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from charlab.errors import CharlabError
from charlab.learning import writers
from charlab.learning.presets import TextFit
from charlab.network.model import MODEL_SETTINGS, ModelConfig
from charlab.saving import runs
from charlab.text.corpus import human_size
from ui import state
from ui.corpus_cache import cleaned_text, corpus_key
from ui.page_guard import callback
from ui.settings import capped_minutes, fitted_words, preset_for_text, training_length_words
from ui.text import md
from ui.widget_state import reseed, seed, widget_value

BLANK, WRITER = "blank", "writer"
START_FROM = writers.START_FROM  # {"blank": "a blank network", "writer": "the classics writer"}
START_FROM_HELP = (
    "A blank network knows nothing and learns everything from your text. The classics writer has already read "
    "Shakespeare, the sonnets, Alice and Aesop's fables, so it knows English spelling and words: it goes on "
    "learning from your text, and a small text gets something worth reading in a minute. Its network's shape is "
    "fixed (its size and kind), and it knows English letters best."
)
WRITER_DEFAULT_WORDS = "starts from the classics writer, which already knows English spelling"


@st.cache_resource(show_spinner=False)
def _shipped_writer() -> runs.Run | str:
    """The classics writer, loaded once per server (checked arrays, no TensorFlow), or why it cannot be."""
    try:
        return runs.load_run(writers.find_writer(writers.CLASSICS_WRITER))
    except CharlabError as err:
        return str(err)


def classics_writer() -> runs.Run:
    """The shipped classics writer (a CharlabError in words when this copy of charlab has none)."""
    found = _shipped_writer()
    if isinstance(found, str):
        raise CharlabError(found)
    return found


def start_choice() -> str:
    """This session's choice: "blank" or "writer"."""
    return WRITER if state.START_FROM.get() == WRITER else BLANK


def writer_path() -> str | None:
    """The folder a training starts from (None: a blank network)."""
    return str(classics_writer().path) if start_choice() == WRITER else None


def start_vocab_size(text: str, text_vocab_size: int) -> int:
    """The vocabulary the network will have: the writer's grown by the text's new characters, or the text's own."""
    if start_choice() != WRITER:
        return text_vocab_size
    return len(writers.grown_vocab(classics_writer().vocab, text))


def writer_shape(config: ModelConfig) -> ModelConfig:
    """`config` with the writer's shape when the session starts from it (what Start trains), else as it is."""
    if start_choice() != WRITER:
        return config
    return writers.fine_tune_config(config, classics_writer().config)


@st.cache_data(show_spinner=False, max_entries=16)
def writer_advice(text: str) -> str | None:
    """charlab.learning.writers.writer_advice for the classics writer, measured once per text (a quarter of a
    second: the writer's first guesses on a few pieces of the text) however often the pages draw."""
    return writers.writer_advice(text, classics_writer())


def default_start(text: str | None) -> str:
    """Where a preset starts: the writer for a small text of one's own on which its first guesses are clearly
    better than letter frequencies, else a blank network (a sample text may be one the writer read: its
    validation loss would flatter it)."""
    loaded = state.CORPUS.get()
    if text is None or loaded is None or loaded.source != "upload":
        return BLANK
    try:
        writer = classics_writer()
        by_default = writers.writer_by_default(text, writer, advise=writer_advice)
    except CharlabError:
        return BLANK
    return WRITER if by_default else BLANK


def preset_start(key: str, text: str | None) -> tuple[TextFit, str]:
    """A preset fitted to the text, and where it starts from: the user's choice in the control, else the default
    for the text (default_start); from the writer, its shape and fine-tuning's rate with the text's minutes and
    batch (charlab.learning.writers.fine_tune_fit)."""
    choice = start_choice() if state.START_FROM_CHOSEN.get() else default_start(text)
    if choice == WRITER:
        blank = preset_for_text(key)  # this computer's recipe, not yet fitted
        return writers.fine_tune_fit(blank.config, blank.seconds, len(text), classics_writer().config), choice
    return preset_for_text(key, len(text) if text is not None else None), choice


@callback
def on_start_from_change() -> None:
    """The control changed: the writer's shape and rate come into the settings, or the blank network's go back."""
    chosen = state.START_FROM_BOX.get() or start_choice()
    if chosen == start_choice():
        return
    state.START_FROM.set(chosen)
    state.START_FROM_CHOSEN.set(True)  # a preset keeps it from now on
    if state.PRESET.get() is not None:  # the preset's settings for this start (fitted to the text)
        apply_preset(state.PRESET.get())
        return
    settings = state.SETTINGS.get()
    before = state.SETTINGS_BEFORE_WRITER.get() or ModelConfig()
    reseed("settings")  # forgets the settings before the writer too: kept again below when choosing the writer
    if chosen == WRITER:
        state.SETTINGS.set(writers.fine_tune_settings(settings, classics_writer().config))
        state.SETTINGS_BEFORE_WRITER.set(settings)
    else:
        kept = {name: getattr(before, name) for name in (*writers.SHAPE_SETTINGS, "learning_rate")}
        state.SETTINGS.set(replace(settings, **kept))


def keep_writer_shape() -> None:
    """Starting from the writer, the settings hold its shape (a Load, a lesson or a reload may have put another)."""
    settings = state.SETTINGS.get()
    if start_choice() == WRITER and writer_shape(settings) != settings:
        state.SETTINGS.set(writer_shape(settings))
        for name in writers.SHAPE_SETTINGS:
            widget_value("settings", name).forget()


def start_from_control(text: str | None, hidden: bool = False) -> None:
    """The Train page's "Start from" control (not drawn when a lesson chose: `hidden`), the line that says why
    the writer's shape is fixed, and, for a text the writer starts poorly on (mostly letters it never saw, or first
    guesses no better than letter frequencies), the one line that recommends a blank network."""
    try:
        writer = classics_writer()
    except CharlabError as err:
        st.caption(md(str(err)))
        return
    if not hidden:
        seed(state.START_FROM_BOX, start_choice())
        st.segmented_control(
            "Start from",
            list(START_FROM),
            key=state.START_FROM_BOX.key,
            format_func=START_FROM.get,
            required=True,
            on_change=on_start_from_change,
            help=START_FROM_HELP,
        )
        advice = writer_advice(text) if text else None
        if advice:
            st.caption(f":material/translate: {advice}")
    if start_choice() == WRITER:
        keep_writer_shape()
        settings = writer.config
        cell = MODEL_SETTINGS["cell"].shown(settings.cell)
        layers = f"{settings.layers} layer{'' if settings.layers == 1 else 's'}"
        st.caption(
            f"The writer's shape is fixed: its weights only fit a {cell} {settings.units} ({layers}, embedding "
            f"{settings.embedding_dim}), so those settings are greyed. Its learning rate starts at "
            f"{writers.FINE_TUNE_LEARNING_RATE:g}, half the usual, to keep what it knew."
        )


def shape_fixed(name: str) -> bool:
    """True for a setting the writer fixes while the session starts from it (drawn greyed)."""
    return start_choice() == WRITER and name in writers.SHAPE_SETTINGS


def preset_words(key: str, text: str) -> str | None:
    """The one line under the Preset control: the writer a small text of one's own starts from, or how the preset
    was fitted to a small text (None: the preset as it is)."""
    if start_choice() != WRITER:
        return fitted_words(key, len(text))
    fit, _ = preset_start(key, text)
    minutes = training_length_words(fit.config, capped_minutes(fit.seconds))
    dropout = MODEL_SETTINGS["dropout"].shown(fit.config.dropout)
    return f"This {human_size(len(text), '.2g')} text {WRITER_DEFAULT_WORDS}: {minutes}, dropout {dropout}."


def own_text_words(text: str | None) -> str:
    """Home's words for Quick start with one's own text: where it starts from."""
    if default_start(text) == WRITER:
        return f"It {WRITER_DEFAULT_WORDS}, so even a few pages give something worth reading."
    return ""


def apply_preset(key: str | None) -> None:
    """Every setting from the preset, fitted to the chosen text: a small text gets a smaller network
    (charlab.learning.presets.fit_to_text), a big one the preset as it is."""
    if key is None:
        return
    try:
        fit, start = preset_start(key, cleaned_text())  # a small text of one's own starts from the writer
    except CharlabError:
        return
    state.START_FROM.set(start)
    state.SETTINGS.set(fit.config)
    state.MINUTES.set(capped_minutes(fit.seconds))
    state.PRESET.set(key)
    state.PRESET_TEXT.set(corpus_key())
    state.START_FROM_BOX.forget()  # the Start from control redraws from the choice
    reseed("settings")  # the settings before the writer too


def preset_fitted_note() -> None:
    """Under the Preset control: fit the chosen preset again when the text changed, and say in one line when
    it was fitted to a small text."""
    preset = state.PRESET.get()
    if preset is None or state.CORPUS.get() is None:
        return
    if state.PRESET_TEXT.get() != corpus_key():
        apply_preset(preset)
    words = preset_words(preset, cleaned_text())
    if words:
        st.caption(words)
