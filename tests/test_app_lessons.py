"""Lesson links and lesson files in AppTest: a teacher's text, settings and hidden controls, opened by a learner."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

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

from charlab import lessons

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
