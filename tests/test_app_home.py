"""The Home page in AppTest: the three steps, Quick start, and a deep link that opens a page through app.py."""

from __future__ import annotations

import re
import time

import pytest
from app_pages import (
    APP_FIXTURES,
    PAGES_MANAGER_INIT,
    ROOT,
    TINY,
    check,
    choose_blank,
    contains,
    go,
    job,
    open_app,
    run,
    sidebar_text,
    texts,
    upload_text,
    wait_done,
    wait_until,
)
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from charlab.saving import runs
from ui.limits import server_limits
from ui.settings import PAGES, PRESETS

pytestmark = APP_FIXTURES


def test_home_shows_the_three_steps_and_quick_start():
    at = open_app()
    assert texts(at.title) == ["charlab"]
    for step in ("1 · Corpus", "2 · Train", "3 · Generate"):
        assert contains(at.markdown, f"### {step}")
    assert [link.proto.label for link in at.get("page_link")] == ["Open Corpus", "Open Train", "Open Generate"]
    quick = at.button(key="home_quick_start")
    assert quick.label == "Quick start" and not quick.disabled
    assert "No text chosen yet." in texts(at.sidebar.caption)


def test_quick_start_trains_for_one_minute_by_the_clock_and_opens_train(workspace):
    at = open_app()
    assert contains(at.markdown, "**1 minute of training**")
    run(at.button(key="home_quick_start").click())
    assert texts(at.title) == ["Train"]
    ss = at.session_state
    assert ss["corpus"].source == "sample:tiny_shakespeare" and ss["cleaning"] == "keep"
    assert ss["preset"] == "quick" and ss["settings"].units == PRESETS["quick"][2].units
    assert ss["minutes"] == 1.0
    assert "Tiny Shakespeare" in sidebar_text(at)
    training = job(at)
    assert not training.done and training.name == "Tiny Shakespeare · GRU 256"
    assert training.snapshot().budget_seconds == 60.0 and training.config.epochs == server_limits().max_epochs
    assert at.button(key="train_start").disabled and not at.button(key="train_stop").disabled

    wait_until(lambda: training.snapshot().step >= 1 or training.done)
    run(at)  # the live view's next refresh: a progress bar in the page and in the sidebar
    [bar] = at.main.get("progress")
    assert re.match(r"Epoch 1 · 1 min of training · ", bar.text), bar.text
    [small_bar] = at.sidebar.get("progress")
    assert re.match(r"Training · .* of 1 min$", small_bar.text), small_bar.text
    go(at, "home")  # a second Quick start is not offered while this one runs
    assert at.button(key="home_quick_start").disabled
    assert contains(at.info, "A training is running")

    go(at, "train")
    run(at.button(key="train_stop").click())
    wait_done(at)
    assert contains(at.info, "Stopped: what was learned is saved.")
    [info] = runs.list_runs(workspace)
    assert info.status == "stopped" and info.name == "Tiny Shakespeare · GRU 256" and info.damaged is None


def test_a_preset_ends_by_the_clock_as_planned(monkeypatch, workspace):
    """A preset's minutes are kept by the clock (here the server allows 3 seconds, so the preset gets 3)."""
    monkeypatch.setenv("CHARLAB_MAX_TRAINING_MINUTES", "0.05")
    at = open_app()
    upload_text(at)
    choose_blank(go(at, "train"))  # a tiny blank network, not the writer a small text of one's own gets
    run(at.segmented_control(key="train_preset").set_value("quick"))
    assert at.session_state["minutes"] == pytest.approx(0.05)
    assert at.number_input(key="settings_minutes").value == pytest.approx(0.05)
    assert "Epochs in 3 s" in [m.label for m in at.metric]
    set_units = at.select_slider(key="settings_units").set_value(TINY["units"])  # a smaller model: hand-tuned now
    run(set_units)
    assert at.session_state["minutes"] == pytest.approx(0.05)  # still by the clock
    run(at.button(key="train_start").click())
    started = time.monotonic()
    wait_done(at)
    assert time.monotonic() - started < 60
    assert contains(at.success, "Trained for 3 seconds, as planned.")
    [info] = runs.list_runs(workspace)
    assert info.status == "finished" and info.metrics["train_seconds"] >= 3.0

    run(at.segmented_control(key="settings_train_by").set_value("epochs"))  # back to epochs: its widget returns
    assert at.session_state["minutes"] is None and at.number_input(key="settings_epochs").value == 20


@pytest.mark.parametrize("page", ["corpus", "train", "generate"])
def test_a_deep_link_on_a_fresh_server_opens_the_page_through_app_py(monkeypatch, page):
    """A tab left open while the server restarted asks for /<page> first: Streamlit's legacy mode
    (a pages/ folder) runs the page file alone; it must hand over to app.py and still open."""
    monkeypatch.setattr(PagesManager, "__init__", PAGES_MANAGER_INIT)  # Streamlit as it is
    at = check(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).switch_page(PAGES[page]).run())
    assert texts(at.title) == [page.capitalize()]
    assert "#### Corpus" in texts(at.sidebar.markdown)  # the sidebar app.py draws
    assert "open" not in at.query_params and re.fullmatch(r"[0-9a-f]{16}", at.query_params["session"])
