"""Per-session server limits in AppTest: said in words before a start, kept by a training, refused when mistyped."""

from __future__ import annotations

import pytest
from app_pages import (
    APP_FIXTURES,
    ROOT,
    TEXT,
    contains,
    generate_page,
    go,
    job,
    open_app,
    plain,
    run,
    set_tiny_settings,
    texts,
    upload_text,
    wait_done,
)
from streamlit.testing.v1 import AppTest

from charlab.saving import runs
from ui.job_registry import registry
from ui.settings import PAGES

pytestmark = APP_FIXTURES


@pytest.mark.parametrize("variable, value", [("CHARLAB_MAX_EPOCHS", "ten"), ("CHARLAB_MAX_TRAININGS", "0")])
def test_a_mistyped_limit_is_said_once_in_words_on_every_page(monkeypatch, variable, value):
    with monkeypatch.context() as patch:  # undone before the workspace fixture asks for the queue
        patch.setenv(variable, value)
        for page in ("home", "train"):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
            if page != "home":
                at.switch_page(PAGES[page]).run()
            assert not at.exception
            [error] = map(plain, texts(at.error))
            assert error.startswith(f"charlab cannot start: {variable} sets") and f"not '{value}'" in error


def test_quick_start_keeps_within_the_servers_epoch_limit(monkeypatch):
    """Quick start trains by the clock with the server's epochs as its cap; a lesson may ask for any
    number of epochs: both keep to what the server allows, so the one-click start never fails."""
    monkeypatch.setenv("CHARLAB_MAX_EPOCHS", "3")
    at = open_app()
    run(at.button(key="home_quick_start").click())
    assert not at.error and texts(at.title) == ["Train"]
    assert job(at).config.epochs == 3 and job(at).corpus_name == "Tiny Shakespeare"
    run(at.button(key="train_stop").click())
    wait_done(at)

    lesson = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in {"s": "limericks", "u": "16", "e": "8", "sl": "16", "bs": "8", "ep": "300", "h": "ep"}.items():
        lesson.query_params[key] = value
    run(lesson)
    run(lesson.button(key="home_quick_start").click())
    assert not lesson.error and job(lesson).config.epochs == 3 and job(lesson).corpus_name == "Limericks"
    run(lesson.button(key="train_stop").click())
    wait_done(lesson)


def test_a_server_upload_limit_refuses_a_bigger_text_in_words(monkeypatch):
    monkeypatch.setenv("CHARLAB_MAX_UPLOAD_MB", "0.001")  # 1,000 bytes
    at = open_app()
    go(at, "corpus")
    assert at.file_uploader(key="corpus_upload").proto.max_upload_size_mb == 1  # the browser's own fence
    assert "at most 0.001 MB" in at.file_uploader(key="corpus_upload").label
    run(at.file_uploader(key="corpus_upload").upload("cats.txt", TEXT.encode(), "text/plain"))
    assert contains(at.error, "'cats.txt' is 1.9 KB; the limit is 1 KB")
    assert at.session_state["corpus"] is None
    upload_text(at, "a short text.\n" * 10, "short.txt")  # 140 bytes: taken
    assert at.session_state["corpus"].name == "short.txt"


def test_model_size_and_epoch_limits_are_shown_before_start_and_refused_at_start(monkeypatch):
    monkeypatch.setenv("CHARLAB_MAX_PARAMETERS", "2000")
    monkeypatch.setenv("CHARLAB_MAX_EPOCHS", "5")
    at = open_app()
    upload_text(at)
    go(at, "train")
    assert contains(at.info, "Epochs lowered from 20 to 5, the most this server allows in one training.")
    assert at.number_input(key="settings_epochs").value == 5 and at.number_input(key="settings_epochs").max == 5
    assert contains(at.error, "parameters; this server allows at most 2,000 per training")
    run(at.button(key="train_start").click())
    assert contains(at.error, "this server allows at most 2,000 per training")
    assert at.session_state["token"] not in registry().queue  # nothing started
    monkeypatch.setenv("CHARLAB_MAX_PARAMETERS", "100000")
    set_tiny_settings(at, epochs=5)
    assert not contains(at.error, "this server allows")
    run(at.button(key="train_start").click())
    wait_done(at)
    assert job(at).snapshot().status == "finished" and job(at).config.epochs == 5


def test_a_training_stops_and_saves_at_the_server_time_limit(monkeypatch, workspace):
    monkeypatch.setenv("CHARLAB_MAX_TRAINING_MINUTES", "0.02")  # 1.2 s
    at = open_app()
    upload_text(at)
    go(at, "train")
    set_tiny_settings(at, epochs=500)
    assert contains(at.info, "This server stops each training after 1 s")
    run(at.button(key="train_start").click())
    wait_done(at)
    assert contains(at.info, "Stopped at this server's limit of 1.2 seconds per training")
    [info] = runs.list_runs(workspace)
    assert info.status == "stopped" and info.damaged is None and 1 <= info.metrics["epochs_done"] < 500


def test_generate_length_is_capped_by_the_server(monkeypatch, with_run):
    monkeypatch.setenv("CHARLAB_MAX_GENERATE_CHARS", "100")
    at = generate_page()
    length = at.number_input(key="generate_length")
    assert length.max == 100 and length.value == 100  # the remembered 500 was lowered to fit
    run(at.button(key="generate_go").click())
    assert len(at.session_state["generate_output"]["text"]) == 100


def test_an_unreachable_cluster_is_said_on_every_page_and_start_refuses():
    """CHARLAB_RAY_ADDRESS set to an address where nothing answers, without the local fallback."""
    from charlab.server import cluster
    from ui.job_registry import registry

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CHARLAB_RAY_ADDRESS", "127.0.0.1:1")
            cluster.decide_again()
            registry.clear()  # a server started with that address
            at = open_app()
            problem = "Trainings cannot start: The Ray cluster at 127.0.0.1:1 (CHARLAB_RAY_ADDRESS) cannot be reached"
            assert contains(at.error, problem)
            upload_text(at)
            go(at, "train")
            assert contains(at.error, problem)
            set_tiny_settings(at)
            run(at.button(key="train_start").click())
            assert contains(at.error, "cannot be reached: nothing answers there")
            assert registry().queue.touch(at.session_state["token"]) is None  # nothing was queued
    finally:
        cluster.decide_again()  # the next tests' server: no cluster
        registry.clear()


@pytest.mark.parametrize(
    "variable, value, words",
    [
        ("CHARLAB_CPUS_PER_TRAINING", "two", "CHARLAB_CPUS_PER_TRAINING must be a number above 0 up to 1024"),
        ("CHARLAB_RAY_ADDRESS", "http://127.0.0.1:8265", "CHARLAB_RAY_ADDRESS must be auto, HOST:PORT"),
    ],
)
def test_a_mistyped_cluster_setting_is_said_on_every_page_and_start_refuses(variable, value, words):
    """Before, CHARLAB_CPUS_PER_TRAINING=two was read only when the queue asked the cluster for its places, which
    then read 0, so every training waited forever; now it is said from the start, naming the variable."""
    from charlab.server import cluster
    from ui.job_registry import registry

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(variable, value)
            cluster.decide_again()
            registry.clear()  # a server started with that setting
            at = open_app()
            problem = f"Trainings cannot start: {words}"
            assert contains(at.error, problem) and contains(at.error, f"not '{value}'")
            upload_text(at)
            go(at, "train")
            assert contains(at.error, problem)
            set_tiny_settings(at)
            run(at.button(key="train_start").click())
            assert len([e for e in texts(at.error) if words in plain(e)]) == 2  # on the page, and the refusal
            assert registry().queue.touch(at.session_state["token"]) is None  # nothing was queued
            quick = open_app()
            run(quick.button(key="home_quick_start").click())
            assert len([e for e in texts(quick.error) if words in plain(e)]) == 2
            assert quick.session_state["token"] not in registry().queue
    finally:
        cluster.decide_again()  # the next tests' server: no cluster
        registry.clear()
