"""Widgets whose values live in st.session_state, so they survive page switches; presets and lessons
reseed them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from charlab.errors import CharlabError
from charlab.limits import Limits
from charlab.network import precision
from charlab.network.generation import GENERATE_SETTINGS
from charlab.network.model import MODEL_SETTINGS
from ui.page_guard import callback
from ui.settings import MINUTES_HELP, MINUTES_LABEL, capped_minutes
from ui.text import md


def bound(widget, store: str, name: str, label: str, **kwargs):
    """A widget whose value lives in st.session_state[store] (a dict, or a settings dataclass) under
    `name`, so it survives page switches.

    The widget's own key is seeded from the store when missing (first draw, or back from another
    page) and copied back on change; nothing is ever passed as value= twice.
    """
    key = f"{store}_{name}"
    if store == "settings" and is_hidden(name):  # a lesson fixed it: not drawn, its value stays
        return stored(store, name)
    if key not in st.session_state:
        st.session_state[key] = stored(store, name)
    kwargs.setdefault("on_change", _copy_back)
    kwargs.setdefault("args", (store, name, key))
    return widget(label, key=key, **kwargs)


def setting_widget(name: str, disabled: bool = False) -> None:
    """A model setting's widget on the Train page, drawn as charlab.network.model.MODEL_SETTINGS describes it (greyed
    when `disabled`: a writer's shape)."""
    setting = MODEL_SETTINGS[name]
    common = {"help": setting.help, "disabled": disabled}
    if setting.widget == "segmented":
        options = list(setting.choices or setting.offered)
        bound(st.segmented_control, "settings", name, setting.label, options=options, format_func=setting.shown,
              required=True, **common)  # fmt: skip
    elif setting.widget == "select_slider":
        bound(st.select_slider, "settings", name, setting.label, options=setting.offered, format_func=setting.shown,
              **common)  # fmt: skip
    elif setting.widget == "slider":
        low, high = setting.app_range
        bound(st.slider, "settings", name, setting.label, min_value=int(low), max_value=int(high), **common)
    else:
        raise ValueError(f"no widget for the setting {name!r}")
    if name == "precision" and not is_hidden(name):  # what the choice means on this computer
        st.caption(md(precision.support_words()))


def generate_widget(name: str, where=st, highest: float | None = None, **kwargs):
    """A generation setting's widget on the Generate page, drawn as charlab.network.generation.GENERATE_SETTINGS
    describes it, in `where` (a column); `highest` caps its range (the server's length limit, the vocabulary's
    size)."""
    setting = GENERATE_SETTINGS[name]
    kwargs.setdefault("help", setting.help)
    if setting.kind is str:
        return bound(where.text_area, "generate", name, setting.label, max_chars=int(setting.high),
                     placeholder=setting.placeholder, **kwargs)  # fmt: skip
    low, high = setting.app_range
    high = high if highest is None else min(high, highest)
    widget = where.slider if setting.kind is float else where.number_input
    return bound(widget, "generate", name, setting.label, min_value=setting.kind(low), max_value=setting.kind(high),
                 step=setting.kind(setting.step), **kwargs)  # fmt: skip


def training_length(limit: Limits) -> None:
    """How long to train: minutes by the clock or a number of epochs, within this server's limits."""
    ss = st.session_state
    if not is_hidden("epochs"):
        seed_key("settings_train_by", "minutes" if ss.minutes else "epochs")
        st.segmented_control(
            "Train for",
            ["minutes", "epochs"],
            key="settings_train_by",
            format_func={"minutes": MINUTES_LABEL, "epochs": MODEL_SETTINGS["epochs"].label}.get,
            required=True,
            on_change=on_train_by_change,
            help="Minutes: by the clock, the same on any computer. Epochs: a number of passes over the text.",
        )
    else:  # a lesson fixed how long to train, minutes or epochs: neither is drawn
        return
    if ss.minutes:
        seed_key("settings_minutes", ss.minutes)
        st.number_input(MINUTES_LABEL, key="settings_minutes", min_value=min(0.5, limit.training_seconds / 60),
                        max_value=limit.training_seconds / 60, step=0.5, help=MINUTES_HELP,
                        on_change=_minutes_changed)  # fmt: skip
    else:
        epochs = MODEL_SETTINGS["epochs"]
        bound(st.number_input, "settings", "epochs", epochs.label, min_value=1, max_value=limit.max_epochs, step=1,
              help=epochs.help)  # fmt: skip


def stored(store: str, name: str):
    """A value kept in a store of st.session_state: the settings' ModelConfig, or a dict."""
    holder = st.session_state[store]
    return holder[name] if isinstance(holder, dict) else getattr(holder, name)


def store_value(store: str, name: str, value) -> None:
    """Change one value of a store; the settings' ModelConfig is frozen, so it is replaced by a changed copy."""
    holder = st.session_state[store]
    if isinstance(holder, dict):
        holder[name] = value
    else:
        st.session_state[store] = replace(holder, **{name: value})


@callback
def _copy_back(store: str, name: str, key: str) -> None:
    ss = st.session_state
    if key not in ss or store not in ss:  # the widget was taken away meanwhile (a Load reseeds the settings)
        return
    if ss[key] is None:  # a choice control cleared (seen under load): no setting may be None
        ss[key] = stored(store, name)
        return
    store_value(store, name, ss[key])
    if store == "settings":
        _hand_tuned()


@callback
def _minutes_changed() -> None:
    ss = st.session_state
    if "settings_minutes" not in ss:  # the box was taken away meanwhile (a Load trains by the epochs)
        return
    if ss.settings_minutes is None:  # emptied: the minutes stay
        if ss.get("minutes"):
            ss.settings_minutes = ss.minutes
        else:
            del ss["settings_minutes"]
        return
    ss.minutes = float(ss.settings_minutes)
    _hand_tuned()


def _hand_tuned() -> None:
    """A setting was changed by hand: no preset describes the settings any more."""
    st.session_state.preset = None
    st.session_state.pop("train_preset", None)


def reseed(store: str) -> None:
    """Forget a store's widget keys so the widgets redraw from the store (after a preset or a load)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{store}_")]:
        del st.session_state[key]


@callback
def on_train_by_change() -> None:
    """Minutes or epochs: a training ends by the clock, or after its passes over the text."""
    ss = st.session_state
    minutes = ss.pop("settings_minutes", None) or 1.0  # the widget is seeded afresh from the settings when drawn
    ss.minutes = float(minutes) if ss.get("settings_train_by") == "minutes" else None
    _hand_tuned()


def apply_preset(key: str | None) -> None:
    """Every setting from the preset, fitted to the chosen text: a small text gets a smaller network
    (charlab.learning.presets.fit_to_text), a big one the preset as it is."""
    ss = st.session_state
    if key is None:
        return
    from ui.corpus_cache import cleaned_text, corpus_key  # here: corpus_cache imports this module (ui.limits)
    from ui.start_from import preset_start  # here: it imports this module

    text = cleaned_text()
    try:
        fit, ss.start_from = preset_start(key, text)  # a small text of one's own starts from the writer
    except CharlabError:
        return
    ss.settings, ss.minutes = fit.config, capped_minutes(fit.seconds)
    ss.preset, ss.preset_text = key, corpus_key()
    ss.pop("settings_before_writer", None)
    ss.pop("train_start_from", None)  # the Start from control redraws from the choice
    reseed("settings")


def preset_fitted_note() -> None:
    """Under the Preset control: fit the chosen preset again when the text changed, and say in one line when
    it was fitted to a small text."""
    ss = st.session_state
    if ss.get("preset") is None or ss.corpus is None:
        return
    from ui.corpus_cache import cleaned_text, corpus_key
    from ui.start_from import preset_words

    if ss.get("preset_text") != corpus_key():
        apply_preset(ss.preset)
    words = preset_words(ss.preset, cleaned_text())
    if words:
        st.caption(words)


def is_hidden(control: str) -> bool:
    """True when the lesson this session opened hides `control` (a name from charlab.teaching.lessons.CONTROLS)."""
    lesson = st.session_state.get("lesson")
    return bool(lesson) and control in lesson.get("hidden", ())


def seed_key(key: str, value) -> None:
    """Give a widget its remembered value when it is (re)drawn after a page switch."""
    if key not in st.session_state:
        st.session_state[key] = value


def take_upload(upload, key: str, accept: Callable[[object], str | None]) -> None:
    """Hand a file uploader's file to `accept` once (a rerun does not take it again), then say how it went
    for as long as the file stays in the box: `accept`'s words on success (None: nothing to say, the page
    reruns to show what changed), its CharlabError in plain words, with what was there before kept."""
    ss = st.session_state
    if upload is None:
        return
    if ss.get(f"{key}_seen") != upload.file_id:
        ss[f"{key}_seen"] = upload.file_id
        try:
            words = accept(upload)
        except CharlabError as err:
            ss[f"{key}_outcome"] = ("error", str(err))
        else:
            ss[f"{key}_outcome"] = ("ok", words) if words else None
            st.rerun()  # the sidebar and lists, drawn before, show what the file changed
    outcome = ss.get(f"{key}_outcome")
    if outcome is not None:
        kind, words = outcome
        if kind == "ok":
            st.success(md(words), icon=":material/check_circle:")
        else:
            st.error(md(words), icon=":material/error:")
