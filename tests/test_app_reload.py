"""A browser reload in AppTest (a new session with the same ?session= token), and widget callbacks that cannot
crash a page: the paths a class takes when it is told "refresh your page"."""

from __future__ import annotations

from app_pages import (
    APP_FIXTURES,
    ROOT,
    contains,
    go,
    job,
    open_app,
    run,
    set_tiny_settings,
    upload_text,
    wait_done,
    wait_until,
)
from streamlit.testing.v1 import AppTest

import ui.job_registry
import ui.page_guard
import ui.session
import ui.widget_state
from charlab.network.generation import GenerateConfig
from charlab.network.model import ModelConfig
from charlab.saving import runs
from charlab.text.corpus import Corpus
from ui.job_registry import registry

pytestmark = APP_FIXTURES

PAGE_NAMES = ("home", "corpus", "train", "generate", "inside")


def reload(at: AppTest) -> AppTest:
    """The same tab reloaded: a new session, the same token in the URL."""
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.query_params["session"] = at.session_state["token"]
    return run(again)


def test_start_training_after_a_reload_with_an_empty_run_name(workspace):
    """Seen in a class: a text picked on Corpus, the tab reloaded, Start training with no run name failed with
    "AttributeError: 'NoneType' object has no attribute 'strip'", again after every reload."""
    at = open_app()
    upload_text(at)  # the Train page is never drawn, so its Run name box has no value yet
    again = go(reload(at), "train")
    assert again.text_input(key="train_run_name").value == ""
    set_tiny_settings(again, epochs=1)
    run(again.button(key="train_start").click())
    wait_done(again)
    [info] = runs.list_runs(workspace)
    assert info.name == "cats.txt · LSTM 16" and info.status == "finished"


def test_a_typed_run_name_comes_back_after_a_reload_on_the_train_page():
    at = open_app()
    upload_text(at)
    go(at, "train").text_input(key="train_run_name").input("my cats")
    run(at)
    assert go(reload(at), "train").text_input(key="train_run_name").value == "my cats"


def test_no_remembered_key_comes_back_as_something_the_pages_cannot_draw():
    """Every remembered key: None, or a value of another kind, never replaces a value a page expects."""
    at = open_app()
    token = at.session_state["token"]
    registry().remember(token, {key: None for key in ui.session.PERSISTENT_KEYS})
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.query_params["session"] = token
    run(again)
    for page in PAGE_NAMES:
        go(again, page)
    ss = again.session_state
    assert isinstance(ss["settings"], ModelConfig) and isinstance(ss["generate"], GenerateConfig)
    assert ss["cleaning"] == "keep" and ss["nickname"] == "" and ss["corpus"] is None

    remembered = {"cleaning": "gone", "preset": "old", "generate": GenerateConfig(length=80), "minutes": "3"}
    registry().remember(token, remembered)
    later = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    later.query_params["session"] = token
    run(later)
    assert later.session_state["cleaning"] == "keep" and later.session_state["preset"] is None
    assert later.session_state["minutes"] is None
    assert later.session_state["generate"] == GenerateConfig(length=80)

    kept = ui.session.restorable({key: None for key in ui.session.PERSISTENT_KEYS})
    may_be_none = {"corpus", "minutes", "preset", "run_path", "lesson"}
    assert set(kept) == may_be_none  # the others (cleaning, settings, generate, nickname, run name) are dropped


def test_every_page_works_after_a_reload_with_a_text_and_a_run(with_run):
    at = open_app()
    upload_text(at)
    go(at, "generate")  # the run becomes the current one
    for page in PAGE_NAMES:
        again = go(reload(at), page)
        assert isinstance(again.session_state["corpus"], Corpus)
        assert again.session_state["run_path"] == str(with_run)


def test_every_callback_on_every_page_is_guarded(with_run, monkeypatch):
    """Streamlit runs on_change / on_click before the script, outside every page guard: each must be wrapped in
    ui.page_guard.callback, or an error in it reaches the user as Streamlit's raw error page."""
    monkeypatch.setenv("CHARLAB_TEACHER_PASSWORD", "owl-42")
    at = open_app()
    upload_text(at)
    seen = {}
    for page in PAGE_NAMES:
        go(at, page)
        if page == "train":
            at.segmented_control(key="settings_train_by").set_value("minutes")
            run(at)
        for meta in at._session_state._state._new_widget_state.widget_metadata.values():
            if meta.callback is not None:
                seen[meta.id] = meta.callback
    assert len(seen) >= 15, len(seen)  # the settings, the minutes, Generate's controls, the name and teacher boxes
    unguarded = {wid: getattr(cb, "__qualname__", cb) for wid, cb in seen.items() if not hasattr(cb, "charlab_guarded")}
    assert not unguarded, unguarded


def test_an_error_in_a_callback_is_said_in_plain_words():
    def script():
        import streamlit as st

        from charlab.errors import CharlabError
        from ui.page_guard import callback

        def broken():
            raise KeyError("settings_minutes")

        def refused():
            raise CharlabError("That cannot be done now.")

        st.button("Broken", key="broken", on_click=callback(broken))
        st.button("Refused", key="refused", on_click=callback(refused))
        st.write("the page is drawn")

    at = AppTest.from_function(script, default_timeout=30).run()
    at.button(key="broken").click().run()
    assert not at.exception
    assert contains(at.error, "Something unexpected went wrong (KeyError: 'settings_minutes')")
    assert contains(at.markdown, "the page is drawn")
    at.button(key="refused").click().run()
    assert not at.exception and contains(at.error, "That cannot be done now.")
    assert not contains(at.error, "Something unexpected")


def test_the_minutes_box_callback_after_a_load_took_the_box_away():
    """Seen once in five teacher Loads: _minutes_changed ran after Load had removed settings_minutes, and the
    AttributeError reached the user as Streamlit's raw error page."""

    def script():
        import streamlit as st

        from ui.widget_state import _copy_back, _minutes_changed

        st.session_state.setdefault("minutes", None)
        st.session_state.pop("settings_minutes", None)
        st.session_state.pop("settings_units", None)
        _minutes_changed()
        _copy_back("settings", "units")
        st.write("still here")

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error and contains(at.markdown, "still here")


def test_a_reloaded_tab_can_stop_and_start_again(workspace):
    """The Train page's buttons after a reload mid-training: Stop, then Start with an empty name."""
    at = open_app()
    upload_text(at)
    go(at, "train")
    set_tiny_settings(at, epochs=500)
    run(at.button(key="train_start").click())
    training = job(at)
    wait_until(lambda: training.snapshot().step >= 1)  # its run folder exists: Stop saves it
    again = go(reload(at), "train")
    run(again.button(key="train_stop").click())
    wait_done(again)
    assert training.snapshot().status in ("stopped", "finished")
    again.number_input(key="settings_epochs").set_value(1)
    run(again)
    run(again.button(key="train_start").click())
    wait_done(again)
    assert len(runs.list_runs(workspace)) == 2
