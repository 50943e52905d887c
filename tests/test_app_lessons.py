"""Lesson links and lesson files in AppTest: a teacher's text, settings and hidden controls, opened by a learner."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from app_pages import (
    APP_FIXTURES,
    ROOT,
    contains,
    go,
    job,
    open_app,
    run,
    texts,
    use_sample,
    wait_done,
)
from streamlit.testing.v1 import AppTest

from charlab.teaching import lessons

pytestmark = APP_FIXTURES


def lesson_link(at: AppTest) -> str:
    return next(c.value for c in at.code if "u=" in c.value or "s=" in c.value)


def test_a_lesson_link_opens_with_its_text_settings_and_hidden_controls():
    teacher = open_app()
    use_sample(teacher, "fables")
    go(teacher, "train")
    run(teacher.select_slider(key="settings_units").set_value(64))
    run(teacher.multiselect(key="lesson_hide").set_value(["sample", "units", "cleaning"]))
    run(teacher.text_input(key="lesson_title").input("Lesson 1: <b>units</b>"))
    url = lesson_link(teacher)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["s"] == "fables" and query["u"] == "64" and query["h"] == "s.u.cl"
    expected = lessons.from_query_params(query)
    assert expected.title == "Lesson 1: <b>units</b>" and expected.settings["units"] == 64
    assert teacher.download_button(key="lesson_download").label == "Download as a lesson file"

    learner = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in query.items():
        learner.query_params[key] = value
    run(learner)
    ss = learner.session_state
    assert ss["corpus"].source == "sample:fables" and ss["settings"].units == 64
    assert ss["lesson"]["hidden"] == ["sample", "units", "cleaning"] and ss["lesson"]["title"] == expected.title
    assert {k: getattr(ss["settings"], k) for k in expected.settings} == expected.settings and ss["cleaning"] == "keep"
    assert re.fullmatch(r"[0-9a-f]{16}", learner.query_params["session"])  # the session token sits beside it
    assert "Lesson 1: <b>units</b>" not in " ".join(texts(learner.sidebar.markdown))  # shown escaped
    assert contains(learner.sidebar.caption, "Set by the lesson: sample text, units, cleaning.")
    go(learner, "train")
    keys = [w.key for w in learner.select_slider]
    assert "settings_units" not in keys and "settings_embedding_dim" in keys
    assert "train_preset" not in [w.key for w in learner.segmented_control]
    run(learner.select_slider(key="settings_embedding_dim").set_value(16))  # the shown controls still work
    assert ss["settings"].units == 64 and ss["settings"].embedding_dim == 16
    go(learner, "corpus")
    assert "corpus_sample" not in [r.key for r in learner.radio] and "corpus_cleaning" not in [
        r.key for r in learner.radio
    ]
    run(learner)  # the lesson is applied once: the learner's own change stays
    assert learner.session_state["settings"].embedding_dim == 16

    run(learner.sidebar.button(key="lesson_leave").click())
    assert learner.session_state["lesson"] is None and "s" not in learner.query_params
    assert "corpus_sample" in [r.key for r in learner.radio]


def test_a_broken_lesson_link_says_so_and_opens_the_app():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["s"] = "no-such-sample"
    run(at)
    assert contains(at.error, "This lesson link could not be opened")
    assert texts(at.title) == ["charlab"]


def test_a_preset_file_applies_its_lesson_and_a_bad_one_is_refused():
    at = open_app("train")
    preset = lessons.lesson_to_json(
        lessons.Lesson(sample="reber", settings={"units": 32, "epochs": 3}, hidden=("epochs",), title="Grammar")
    )
    run(at.file_uploader(key="lesson_upload").upload("grammar.json", preset.encode(), "application/json"))
    ss = at.session_state
    assert ss["corpus"].source == "sample:reber" and ss["settings"].units == 32 and ss["settings"].epochs == 3
    assert "settings_epochs" not in [w.key for w in at.number_input]
    run(at.file_uploader(key="lesson_upload").upload("bad.json", b"{not json", "application/json"))
    assert contains(at.error, "not a lesson file")
    assert at.session_state["settings"].units == 32


def test_quick_start_in_a_lesson_trains_the_lessons_text_and_settings():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in {"s": "limericks", "u": "16", "e": "8", "sl": "16", "bs": "8", "ep": "1", "h": "u.ep"}.items():
        at.query_params[key] = value
    run(at)
    assert contains(at.markdown, "train on this lesson's text with its settings")
    run(at.button(key="home_quick_start").click())
    training = job(at)
    assert training.corpus_name == "Limericks"
    assert (training.config.units, training.config.epochs, training.config.seq_length) == (16, 1, 16)
    run(at.button(key="train_stop").click())
    wait_done(at)


# ---------------------------------------------------------------- how long to train, hiding everything, the address

SMALL = {"settings_units": 32, "settings_embedding_dim": 8, "settings_batch_size": 16}  # cheap to start and stop


def teacher_after_a_minute(hide_all: bool = False) -> tuple[AppTest, dict[str, str]]:
    """A teacher on the Limericks who chose the 1-minute preset (then a smaller network), and the link they share."""
    teacher = open_app()
    use_sample(teacher, "limericks")
    go(teacher, "train")
    run(teacher.segmented_control(key="train_preset").set_value("quick"))  # 1 minute by the clock
    for key, value in SMALL.items():
        run(teacher.select_slider(key=key).set_value(value))
    assert teacher.session_state["minutes"] == 1.0  # a hand-tuned setting keeps the minutes
    if hide_all:
        run(teacher.checkbox(key="lesson_hide_all").check())
    assert contains(teacher.caption, "Learners train for 1 minute by the clock")
    return teacher, dict(parse_qsl(urlsplit(lesson_link(teacher)).query))


def learner_opening(query: dict[str, str]) -> AppTest:
    learner = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in query.items():
        learner.query_params[key] = value
    return run(learner)


def test_a_link_made_after_one_minute_trains_one_minute_by_quick_start_and_start():
    _, query = teacher_after_a_minute()
    assert query["min"] == "1" and query["s"] == "limericks"
    learner = learner_opening(query)
    assert learner.session_state["minutes"] == 1.0
    assert contains(learner.markdown, "with its settings for **1 minute by the clock**")  # what Quick start promises
    run(learner.button(key="home_quick_start").click())
    training = job(learner)
    assert training.snapshot().budget_seconds == 60  # by the clock, not the 20 epochs of the link's ep
    assert training.config.units == 32
    run(learner.button(key="train_stop").click())
    wait_done(learner)
    assert learner.segmented_control(key="settings_train_by").value == "minutes"
    assert learner.number_input(key="settings_minutes").value == 1.0
    run(learner.button(key="train_start").click())
    assert job(learner).snapshot().budget_seconds == 60
    run(learner.button(key="train_stop").click())
    wait_done(learner)


def test_an_old_link_without_minutes_trains_by_its_epochs_even_after_a_preset():
    learner = open_app("train")
    run(learner.segmented_control(key="train_preset").set_value("quick"))  # the learner's own minute
    old_link = {"s": "limericks", "u": "32", "ep": "3"}
    for key, value in old_link.items():
        learner.query_params[key] = value
    run(learner)
    assert learner.session_state["minutes"] is None and learner.session_state["settings"].epochs == 3
    assert learner.number_input(key="settings_epochs").value == 3


def test_a_link_more_minutes_than_the_server_allows_trains_for_the_servers_limit(monkeypatch):
    monkeypatch.setenv("CHARLAB_MAX_TRAINING_MINUTES", "2")
    learner = learner_opening({"s": "limericks", "min": "45"})
    assert learner.session_state["minutes"] == 2.0
    assert contains(learner.info, "this server stops each training after 2")


def test_a_bad_minutes_value_is_refused_in_plain_words_and_shown_as_typed():
    learner = learner_opening({"s": "limericks", "min": "**-3**"})
    assert contains(learner.error, "training time must be a number of minutes from 0.5 to 600, not '**-3**'")
    assert any(r"\*\*\-3\*\*" in e.value for e in learner.error)  # escaped: no bold, the stars as typed
    assert learner.session_state["lesson"] is None and learner.session_state["minutes"] is None
    assert texts(learner.title) == ["charlab"]


def test_a_lesson_that_hides_all_settings_shows_start_and_what_a_training_does():
    _, query = teacher_after_a_minute(hide_all=True)
    assert query["h"] == "all"
    learner = learner_opening(query)
    assert contains(learner.sidebar.caption, "Set by the lesson: the text and every setting.")
    go(learner, "train")
    assert not [e for e in learner.expander if e.label in ("Settings", "Share as a lesson link")]
    assert not learner.select_slider and not learner.segmented_control and not learner.number_input
    assert contains(learner.caption, "This lesson chose the text and every setting: each training lasts 1 minute by")
    assert learner.button(key="train_start").disabled is False
    go(learner, "corpus")
    assert "corpus_sample" not in [r.key for r in learner.radio]
    run(learner.sidebar.button(key="lesson_leave").click())  # "Show all controls" brings everything back
    go(learner, "train")
    assert learner.segmented_control(key="settings_train_by").value == "minutes"


def test_a_lesson_that_hides_all_settings_but_names_no_text_lets_the_learner_choose_one():
    learner = learner_opening({"u": "32", "min": "1", "h": "all"})
    go(learner, "train")
    assert contains(learner.caption, "This lesson chose every setting: each training lasts 1 minute by the clock")
    go(learner, "corpus")
    assert "corpus_sample" in [r.key for r in learner.radio]


def test_a_lesson_hiding_the_training_length_hides_the_minutes_too():
    learner = learner_opening({"s": "limericks", "min": "1", "h": "ep"})
    go(learner, "train")
    assert "settings_minutes" not in [w.key for w in learner.number_input]
    assert "settings_train_by" not in [w.key for w in learner.segmented_control]

    own_minute = open_app("train")  # a learner already training by the clock opens a lesson that hides the length
    run(own_minute.segmented_control(key="train_preset").set_value("quick"))
    own_minute.query_params["s"], own_minute.query_params["h"] = "limericks", "ep"
    run(own_minute)
    assert own_minute.session_state["minutes"] == 1.0  # kept: the lesson does not say how long
    assert "settings_minutes" not in [w.key for w in own_minute.number_input]


def share_section(context_url: str | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if context_url:
        at.context["url"] = context_url
    run(at)
    use_sample(at, "limericks")
    return go(at, "train")


def test_a_teacher_on_localhost_is_told_and_given_the_network_address(monkeypatch):
    monkeypatch.setattr(lessons, "network_address", lambda: "192.0.2.7")
    at = share_section("http://localhost:8501/")
    assert contains(at.warning, "This browser opens charlab at http://localhost:8501/")
    assert contains(at.warning, "a name that means this computer: on a student's computer that address leads nowhere")
    assert any(c.startswith("http://192.0.2.7:8501/") and "?" not in c for c in texts(at.code))  # the address alone
    assert lesson_link(at).startswith("http://192.0.2.7:8501/") and "s=limericks" in lesson_link(at)


def test_without_a_network_address_the_teacher_is_told_to_set_the_public_url(monkeypatch):
    monkeypatch.setattr(lessons, "network_address", lambda: None)
    at = share_section("http://127.0.0.1:8501/")
    assert contains(at.warning, "network address could not be found: set `CHARLAB_PUBLIC_URL`")
    assert lesson_link(at).startswith("http://127.0.0.1:8501/")


def test_the_public_url_builds_the_link(monkeypatch):
    monkeypatch.setenv("CHARLAB_PUBLIC_URL", "https://charlab.myschool.example/class")
    at = share_section("http://localhost:8501/")
    assert not at.warning and contains(at.caption, "The link is built on `CHARLAB_PUBLIC_URL`")
    assert lesson_link(at).startswith("https://charlab.myschool.example/class?")


def test_a_bad_public_url_stops_the_app_in_words_naming_it(monkeypatch):
    monkeypatch.setenv("CHARLAB_PUBLIC_URL", "charlab.local:8501")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert contains(at.error, "charlab cannot start: CHARLAB_PUBLIC_URL must be the address students open")
    assert not at.button


def test_the_browser_address_is_shown_as_typed(monkeypatch):
    monkeypatch.setattr(lessons, "network_address", lambda: "192.0.2.7")
    at = share_section("http://localhost:8501/**bold**_$x$_/")  # a proxy's path may hold any character
    [warning] = at.warning
    assert r"http\://localhost\:8501/\*\*bold\*\*\_\$x\$\_/" in warning.value  # escaped: no bold, no maths
    assert lesson_link(at).startswith("http://192.0.2.7:8501/**bold**_$x$_/")


def test_a_server_shorter_than_half_a_minute_still_makes_a_link(monkeypatch):
    monkeypatch.setenv("CHARLAB_MAX_TRAINING_MINUTES", "0.05")  # 3 s, as some tests run the app
    at = open_app("train")
    run(at.segmented_control(key="train_preset").set_value("quick"))
    assert at.session_state["minutes"] == pytest.approx(0.05) and not at.error
    assert dict(parse_qsl(urlsplit(lesson_link(at)).query))["min"] == "0.5"  # the least a link carries


def test_a_teacher_makes_a_link_that_opens_in_projector_mode():
    teacher = open_app()
    use_sample(teacher, "limericks")
    go(teacher, "train")
    assert "pm" not in dict(parse_qsl(urlsplit(lesson_link(teacher)).query))  # off unless asked
    run(teacher.checkbox(key="lesson_projector").check())
    query = dict(parse_qsl(urlsplit(lesson_link(teacher)).query))
    assert query["pm"] == "1"
    learner = learner_opening(query)
    assert learner.session_state["projector"] is True  # the class opens the link in projector mode
