"""The Generate page in AppTest: length, seeds, temperatures, the chosen run, and whether the text is copied."""

from __future__ import annotations

import html
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from app_chinese import CHINESE, CHINESE_NAME, copy_run, train_chinese_run
from app_pages import (
    APP_FIXTURES,
    TEXT,
    chart_data,
    charts,
    contains,
    generate_page,
    go,
    metric,
    open_app,
    run,
    sidebar_text,
    texts,
    upload_text,
)

from charlab.network.generation import GENERATE_SETTINGS
from charlab.saving import runs
from charlab.teaching.copying import TrainingTextIndex, copy_report
from charlab.text import corpus
from ui.limits import server_limits
from ui.settings import COMPARE_TEMPERATURES
from ui.text import copy_summary

pytestmark = APP_FIXTURES


def test_generate_without_a_run_points_to_train():
    at = open_app("generate")
    assert contains(at.info, "No trained run yet")
    assert "generate_go" not in [b.key for b in at.button]


def test_generate_says_which_network_writes_the_kept_one(with_run):
    """Seen after training on a small text: Train ended on epoch 370's text while Generate silently used the
    network of epoch 5, the one with the lowest validation loss."""
    val = [2.5, 2.1, 2.3, 2.6, 2.9]
    history = [
        {"epoch": i + 1, "loss": 2.0 - 0.3 * i, "val_loss": v, "seconds": i + 1.0, "chars_per_second": 100}
        for i, v in enumerate(val)
    ]
    runs.write_history(with_run, history)
    at = generate_page()
    assert contains(
        at.caption, "Writes with the network from epoch 2 of 5, kept because its validation loss (2.10) was the lowest."
    )


def test_generate_writes_the_requested_length_and_the_seed_reproduces_it(with_run):
    at = generate_page()
    assert at.download_button(key="generate_web_page").label == "Download as a web page"
    assert at.selectbox(key="generate_run").value == str(with_run)
    at.number_input(key="generate_length").set_value(60)
    run(at.button(key="generate_go").click())
    first = at.session_state["generate_output"]
    assert len(first["text"]) == 60 and first["random_seed"] == 42 and first["run"] == str(with_run)
    assert set(first["text"]) <= set(TEXT)
    assert contains(at.html, html.escape(first["text"]))
    assert at.download_button(key="generate_download").label == "Download the text"

    run(at.button(key="generate_go").click())
    assert at.session_state["generate_output"]["text"] == first["text"]  # same random seed, same text

    run(at.button(key="generate_dice").click())
    assert at.session_state["generate"].random_seed != 42
    run(at.button(key="generate_go").click())
    assert at.session_state["generate_output"]["text"] != first["text"]


def test_compare_temperatures_writes_three_texts(with_run):
    at = generate_page()
    at.number_input(key="generate_length").set_value(80)
    run(at.button(key="generate_compare").click())
    comparison = at.session_state["generate_comparison"]
    assert [t for t, _ in comparison["texts"]] == list(COMPARE_TEMPERATURES)
    assert all(len(text) == 80 for _, text in comparison["texts"])
    assert "Compare temperatures" in texts(at.subheader)
    for temperature in COMPARE_TEMPERATURES:
        assert contains(at.markdown, f"**Temperature {temperature:g}**")


def test_the_temperature_slider_reshapes_the_next_character_chart(with_run):
    at = generate_page()
    spec, _ = next(c for c in charts(at) if "Probability at temperature" in c[0])
    assert "Probability at temperature 0.8" in spec
    tops = {}
    for temperature in (0.2, 1.0, 2.0):
        run(at.slider(key="generate_temperature").set_value(temperature))
        frame = chart_data(at, "Probability")
        assert frame["Probability"].sum() <= 1.0 + 1e-6
        tops[temperature] = (frame["Probability"].max(), frame["At temperature 1"].tolist())
        assert any(f"Probability at temperature {temperature:g}" in spec for spec, _ in charts(at))
    assert tops[0.2][0] > tops[1.0][0] > tops[2.0][0]  # cold sharpens, hot flattens
    assert tops[1.0][0] == pytest.approx(max(tops[1.0][1]))  # at 1 the bars are the model's own odds
    assert sorted(tops[0.2][1]) == pytest.approx(sorted(tops[2.0][1]))  # the black ticks never move
    run(at.number_input(key="generate_top_k").set_value(1))  # top-k 1: one certain character
    assert sorted(chart_data(at, "Probability")["Probability"])[-2:] == pytest.approx([0.0, 1.0])


def test_choosing_another_run_makes_it_the_current_run(with_run, workspace):
    other = Path(shutil.copytree(with_run, workspace / "other-run"))
    runs.rename_run(other, "Other cats")
    at = generate_page()
    first = at.session_state["run_path"]
    at.number_input(key="generate_length").set_value(30)
    run(at.button(key="generate_go").click())
    assert at.session_state["generate_output"]["run"] == first
    second = next(p for p in (str(with_run), str(other)) if p != first)
    run(at.selectbox(key="generate_run").set_value(second))
    assert at.session_state["run_path"] == second
    assert runs.run_info(Path(second)).name in sidebar_text(at)
    assert "generate_download" not in [b.key for b in at.download_button]  # that text was another run's
    go(at, "train")  # the Train page and My runs follow
    assert at.selectbox(key="runs_pick").value == second


def test_seed_characters_the_model_never_saw_are_reported_and_skipped(with_run):
    at = generate_page()
    run(at.text_area(key="generate_seed_text").input("Zebra ✨ cat"))
    note = next(c.value for c in at.caption if "Not in this model's vocabulary" in c.value)
    for ch in "Zbr✨":
        assert ch in note
    at.number_input(key="generate_length").set_value(20)
    run(at.button(key="generate_go").click())
    output = at.session_state["generate_output"]
    assert output["seed"] == "ea  cat" and len(output["text"]) == 20


# ---------------------------------------------------------------- is it copying?


def test_generate_says_when_the_training_text_is_not_loaded(with_run):
    at = generate_page()
    at.number_input(key="generate_length").set_value(40)
    run(at.button(key="generate_go").click())
    assert "Is it copying?" in texts(at.subheader)
    assert contains(at.caption, "the training text is not loaded")


def test_a_copied_passage_is_highlighted_with_its_line(with_run):
    at = open_app()
    upload_text(at)
    at = go(at, "generate")
    passage = TEXT[49:120]  # the second line of the text and a bit of the third
    planted = "zz<b>" + passage + "qq"
    at.session_state["generate_output"] = {
        "run": str(with_run), "seed": "", "text": planted, "temperature": 0.8, "top_k": None, "random_seed": 1,
    }  # fmt: skip
    run(at)
    expected = copy_report(planted, corpus.clean(TEXT, "keep"))
    assert expected.longest.text == passage
    assert metric(at, "Longest passage copied") == f"{len(passage)} characters"
    assert metric(at, "Real words") == f"{expected.real_word_share:.0%}"
    assert metric(at, "Repetition") == f"{expected.repetition:.2f}"
    assert contains(at.caption, f"copied from line {expected.longest.source_line:,} of the training text")
    assert contains(at.html, f"{html.escape(passage)}</mark>")
    assert contains(at.html, "zz&lt;b&gt;")  # the text is escaped, never read as HTML


def test_compare_temperatures_reports_copying_beside_each_text(with_run):
    at = open_app()
    upload_text(at)
    at = go(at, "generate")
    at.number_input(key="generate_length").set_value(80)
    run(at.button(key="generate_compare").click())
    index = TrainingTextIndex(corpus.clean(TEXT, "keep"))
    for _, text in at.session_state["generate_comparison"]["texts"]:
        assert contains(at.caption, copy_summary(copy_report(text, index)))


def _show_generated(at, run_path: Path, text: str) -> None:
    at.session_state["generate_output"] = {
        "run": str(run_path), "seed": "", "text": text, "temperature": 0.8, "top_k": None, "random_seed": 1,
    }  # fmt: skip
    run(at)


def test_words_missing_from_the_training_text_are_not_called_made_up_and_repetition_is_explained(with_run):
    at = open_app()
    upload_text(at)
    at = go(at, "generate")
    generated = "the big cat ran to the hat. the big cat ran to the hat. the big cat ran to the hat. the"
    _show_generated(at, with_run, generated)
    expected = copy_report(generated, corpus.clean(TEXT, "keep"))
    assert contains(at.html, "Words not in the training text: big, ran, to, hat</div>")
    assert not contains(at.html, "made up")
    assert expected.repetition > 0.5
    plain_words = f"{expected.repetition:.0%} of its 10-character pieces already came earlier in it"
    assert contains(at.caption, f"{expected.repetition:.2f} means: {plain_words}")
    assert plain_words in copy_summary(expected) and "the text itself" not in copy_summary(expected)


@pytest.fixture(scope="module")
def chinese_run(tmp_path_factory):
    return train_chinese_run(tmp_path_factory.mktemp("chinese"))


def test_a_chinese_text_is_checked_by_character_pairs_not_by_words(chinese_run, workspace):
    run_path = copy_run(chinese_run, workspace)
    at = open_app()
    upload_text(at, CHINESE, CHINESE_NAME)
    at = go(at, "generate")
    generated = "我们今天去山上散步，看见烟雨江北。老师说：“学习要好好休息。”"
    _show_generated(at, run_path, generated)
    expected = copy_report(generated, CHINESE)
    assert "Real words" not in [m.label for m in at.metric]  # not "Real words 0 %": Chinese has no spaces to count by
    assert metric(at, "Known character pairs") == f"{expected.known_pair_share:.0%}"
    assert 0 < expected.known_pair_share < 1
    assert contains(at.caption, "no spaces between words")
    listed = next(h.proto.body for h in at.get("html") if "not in the training text" in h.proto.body)
    assert listed.endswith(f"Character pairs not in the training text: {', '.join(expected.unknown_pairs)}</div>")
    assert "山上散" in generated and "山上散" not in listed  # pairs, never whole clauses
    assert "of its character pairs are in the training text" in copy_summary(expected)


def test_the_widgets_say_what_the_settings_table_says(with_run):
    """Every generation widget takes its label, range, default and help from
    charlab.network.generation.GENERATE_SETTINGS, the length capped by the server's limit and top-k by the
    vocabulary."""
    at = generate_page()
    vocab_size = len(runs.load_run(with_run).vocab)
    seed = at.text_area(key="generate_seed_text")
    assert seed.label == GENERATE_SETTINGS["seed_text"].label and seed.value == GENERATE_SETTINGS["seed_text"].default
    assert seed.max_chars == GENERATE_SETTINGS["seed_text"].high and seed.help == GENERATE_SETTINGS["seed_text"].help
    assert seed.placeholder == GENERATE_SETTINGS["seed_text"].placeholder
    highest = {"length": server_limits().generate_chars, "top_k": vocab_size}
    widgets = {"temperature": at.slider(key="generate_temperature")}
    widgets |= {name: at.number_input(key=f"generate_{name}") for name in ("length", "top_k", "random_seed")}
    for name, widget in widgets.items():
        setting = GENERATE_SETTINGS[name]
        low, high = setting.app_range
        assert (widget.label, widget.value, widget.step) == (setting.label, setting.default, setting.step)
        assert (widget.min, widget.max) == (low, min(high, highest.get(name, high)))
        assert widget.help == ("" if name == "temperature" else setting.help)  # temperature's is a caption
    assert contains(at.caption, GENERATE_SETTINGS["temperature"].help)


def test_a_remembered_bad_value_is_refused_in_words(with_run):
    """A value the widgets could not give (a session's store edited, a future bug) is said, never written with."""
    at = generate_page()
    at.session_state["generate"] = replace(at.session_state["generate"], temperature=0.0)
    at.session_state["generate_temperature"] = 0.1  # the slider itself stays in range
    run(at)
    assert contains(at.error, "Temperature must be a number above 0, not 0.0.")
    assert "generate_output" not in at.session_state
