"""Widgets whose values live in the session (ui/state.py), so they survive page switches; presets, lessons and
Loads reseed them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from charlab.errors import CharlabError
from charlab.limits import Limits
from charlab.network import precision
from charlab.network.generation import GENERATE_SETTINGS
from charlab.network.model import MODEL_SETTINGS
from ui import state
from ui.page_guard import callback
from ui.settings import MINUTES_HELP, MINUTES_LABEL
from ui.text import md

# the stores a bound widget keeps its value in, by name, each with its widgets' keys
STORES: dict[str, tuple[state.Value, state.Family]] = {
    "settings": (state.SETTINGS, state.SETTING_WIDGETS),  # a ModelConfig (frozen: replaced by a changed copy)
    "generate": (state.GENERATE, state.GENERATE_WIDGETS),  # a GenerateConfig (frozen too)
}


def widget_value(store: str, name: str) -> state.Value:
    """The value of the widget that shows `name` of a store (its key: the store's family, e.g. settings_units)."""
    widgets = STORES[store][1]
    return state.Value(widgets.key(name), widgets.holds)


def bound(widget, store: str, name: str, label: str, **kwargs):
    """A widget whose value lives in a store of the session (STORES: the settings, or the generation settings)
    under `name`, so it survives page switches.

    The widget's own key is seeded from the store when missing (first draw, or back from another
    page) and copied back on change; nothing is ever passed as value= twice.
    """
    if store == "settings" and is_hidden(name):  # a lesson fixed it: not drawn, its value stays
        return stored(store, name)
    box = widget_value(store, name)
    if not box.is_set():
        box.set(stored(store, name))
    kwargs.setdefault("on_change", _copy_back)
    kwargs.setdefault("args", (store, name))
    return widget(label, key=box.key, **kwargs)


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
    if is_hidden("epochs"):  # a lesson fixed how long to train, minutes or epochs: neither is drawn
        return
    minutes = state.MINUTES.get()
    seed(state.TRAIN_BY, "minutes" if minutes else "epochs")
    st.segmented_control(
        "Train for",
        ["minutes", "epochs"],
        key=state.TRAIN_BY.key,
        format_func={"minutes": MINUTES_LABEL, "epochs": MODEL_SETTINGS["epochs"].label}.get,
        required=True,
        on_change=on_train_by_change,
        help="Minutes: by the clock, the same on any computer. Epochs: a number of passes over the text.",
    )
    if minutes:
        seed(state.MINUTES_BOX, minutes)
        st.number_input(MINUTES_LABEL, key=state.MINUTES_BOX.key, min_value=min(0.5, limit.training_seconds / 60),
                        max_value=limit.training_seconds / 60, step=0.5, help=MINUTES_HELP,
                        on_change=_minutes_changed)  # fmt: skip
    else:
        epochs = MODEL_SETTINGS["epochs"]
        bound(st.number_input, "settings", "epochs", epochs.label, min_value=1, max_value=limit.max_epochs, step=1,
              help=epochs.help)  # fmt: skip


def stored(store: str, name: str):
    """One value of a store (STORES): a field of its frozen dataclass, or a dict's item."""
    holder = STORES[store][0].get()
    return holder[name] if isinstance(holder, dict) else getattr(holder, name)


def store_value(store: str, name: str, value) -> None:
    """Change one value of a store; a frozen dataclass (the settings) is replaced by a changed copy."""
    kept = STORES[store][0]
    holder = kept.get()
    if isinstance(holder, dict):
        holder[name] = value
    else:
        kept.set(replace(holder, **{name: value}))


@callback
def _copy_back(store: str, name: str) -> None:
    box = widget_value(store, name)
    if not box.is_set() or not STORES[store][0].is_set():  # the widget was taken away meanwhile (a Load reseeds)
        return
    if box.get() is None:  # a choice control cleared (seen under load): no setting may be None
        box.set(stored(store, name))
        return
    store_value(store, name, box.get())
    if store == "settings":
        _hand_tuned()


@callback
def _minutes_changed() -> None:
    if not state.MINUTES_BOX.is_set():  # the box was taken away meanwhile (a Load trains by the epochs)
        return
    if state.MINUTES_BOX.get() is None:  # emptied: the minutes stay
        if state.MINUTES.get():
            state.MINUTES_BOX.set(state.MINUTES.get())
        else:
            state.MINUTES_BOX.forget()
        return
    state.MINUTES.set(float(state.MINUTES_BOX.get()))
    _hand_tuned()


def _hand_tuned() -> None:
    """A setting was changed by hand: no preset describes the settings any more."""
    state.PRESET.set(None)
    state.PRESET_BOX.forget()


def reseed(store: str) -> None:
    """Forget a store's widget values so the widgets redraw from the store (after a preset, a lesson or a load);
    the settings also forget how long to train by and the settings kept from before the writer."""
    names = MODEL_SETTINGS if store == "settings" else GENERATE_SETTINGS
    for name in names:
        widget_value(store, name).forget()
    if store == "settings":
        for kept in (state.TRAIN_BY, state.MINUTES_BOX, state.SETTINGS_BEFORE_WRITER):
            kept.forget()


@callback
def on_train_by_change() -> None:
    """Minutes or epochs: a training ends by the clock, or after its passes over the text."""
    minutes = state.MINUTES_BOX.get() or 1.0  # the widget is seeded afresh from the settings when drawn
    state.MINUTES_BOX.forget()
    state.MINUTES.set(float(minutes) if state.TRAIN_BY.get() == "minutes" else None)
    _hand_tuned()


def is_hidden(control: str) -> bool:
    """True when the lesson this session opened hides `control` (a name from charlab.teaching.lessons.CONTROLS)."""
    lesson = state.LESSON.get()
    return bool(lesson) and control in lesson.get("hidden", ())


def seed(box: state.Value, value) -> None:
    """Give a widget its remembered value when it is (re)drawn after a page switch."""
    if not box.is_set():
        box.set(value)


def seed_key(key: str, value) -> None:
    """seed() for a widget known by its key."""
    seed(state.VALUES.get(key) or state.Value(key, "a widget's value"), value)


def take_upload(upload, key: str, accept: Callable[[object], str | None]) -> None:
    """Hand a file uploader's file to `accept` once (a rerun does not take it again), then say how it went
    for as long as the file stays in the box: `accept`'s words on success (None: nothing to say, the page
    reruns to show what changed), its CharlabError in plain words, with what was there before kept."""
    if upload is None:
        return
    taken = state.Value(state.UPLOAD_TAKEN.key(key), state.UPLOAD_TAKEN.holds)
    seen, outcome = taken.get() or (None, None)
    if seen != upload.file_id:
        taken.set((upload.file_id, None))
        try:
            words = accept(upload)
        except CharlabError as err:
            outcome = ("error", str(err))
            taken.set((upload.file_id, outcome))
        else:
            taken.set((upload.file_id, ("ok", words) if words else None))
            st.rerun()  # the sidebar and lists, drawn before, show what the file changed
    if outcome is not None:
        kind, words = outcome
        if kind == "ok":
            st.success(md(words), icon=":material/check_circle:")
        else:
            st.error(md(words), icon=":material/error:")
