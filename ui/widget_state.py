"""Widgets whose values live in st.session_state, so they survive page switches; presets and lessons
reseed them."""

from __future__ import annotations

import streamlit as st

from charlab.errors import CharlabError
from ui.settings import preset_settings


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
        _hand_tuned()


def _hand_tuned() -> None:
    """A setting was changed by hand: no preset describes the settings any more."""
    st.session_state.preset = None
    st.session_state.pop("train_preset", None)


def reseed(store: str) -> None:
    """Forget a store's widget keys so the widgets redraw from the store (after a preset or a load)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{store}_")]:
        del st.session_state[key]


def on_train_by_change() -> None:
    """Minutes or epochs: a training ends by the clock, or after its passes over the text."""
    ss = st.session_state
    minutes = ss.pop("settings_minutes", None) or 1.0  # the widget is seeded afresh from the settings when drawn
    ss.settings = {**ss.settings, "minutes": float(minutes) if ss.get("settings_train_by") == "minutes" else None}
    _hand_tuned()


def apply_preset(key: str | None) -> None:
    """Every setting from the preset: the same on any text, since a preset trains for its minutes."""
    ss = st.session_state
    if key is None:
        return
    try:
        ss.settings = preset_settings(key)
    except CharlabError:
        return
    ss.preset = key
    reseed("settings")


def is_hidden(control: str) -> bool:
    """True when the lesson this session opened hides `control` (a name from charlab.lessons.CONTROLS)."""
    lesson = st.session_state.get("lesson")
    return bool(lesson) and control in lesson.get("hidden", ())


def seed_key(key: str, value) -> None:
    """Give a widget its remembered value when it is (re)drawn after a page switch."""
    if key not in st.session_state:
        st.session_state[key] = value
