"""The Look inside page and the Grammar lab in AppTest: units, guesses and embedding; Reber-grammar scores."""

from __future__ import annotations

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
    job,
    metric,
    open_app,
    run,
    set_tiny_settings,
    texts,
    upload_text,
    use_sample,
    wait_done,
)

from charlab.network.sampling import NumpyCharModel
from charlab.saving import runs
from charlab.teaching.neurons import points_to_label, trace, unit_ranking
from charlab.text import corpus, samples
from charlab.text.reber import first_error, grammar_score
from ui.inside import MAP_LABELS
from ui.saved_runs import is_reber_text

pytestmark = APP_FIXTURES


@pytest.fixture(scope="module")
def chinese_run(tmp_path_factory):
    return train_chinese_run(tmp_path_factory.mktemp("chinese"))


# ---------------------------------------------------------------- Look inside


def test_look_inside_ranks_units_colours_the_text_and_maps_the_embedding(with_run):
    at = open_app()
    upload_text(at)
    at = go(at, "inside")
    assert texts(at.title) == ["Look inside"]
    piece = corpus.clean(TEXT, "keep")[:600]
    loaded = runs.load_run(with_run)
    ranking = unit_ranking(trace(NumpyCharModel.from_config(loaded.config, loaded.weights), loaded.vocab, piece))
    table = next(d.value for d in at.dataframe if "What it tracks" in d.value.columns)
    assert table["Unit"].tolist() == [m.describe() for m in ranking]
    best = ranking[0]
    assert (at.selectbox(key="inside_layer").value, at.segmented_control(key="inside_state").value) == (
        best.layer + 1,
        best.state,
    )
    assert at.number_input(key="inside_unit").value == best.unit
    boxes = [h.proto.body for h in at.get("html") if "charlab-inside" in h.proto.body]
    assert len(boxes) == 2 and all(box.count("<span style=") == len(piece) for box in boxes)

    other = ranking[1]
    run(at.selectbox(key="inside_pick").set_value(1))
    assert at.number_input(key="inside_unit").value == other.unit
    assert contains(at.markdown, f"unit {other.unit} of layer {other.layer + 1}")

    run(at.slider(key="inside_position").set_value(3))  # the model's guesses after the 4th character
    guesses = next(d.value for d in at.dataframe if "Guess" in d.value.columns)
    assert len(guesses) == 5 and guesses["Probability"].is_monotonic_decreasing
    kinds = chart_data(at, "Kind")
    assert len(kinds) == len(loaded.vocab) and "vowel" in set(kinds["Kind"])
    assert kinds["Written"].all()  # 15 characters: every one written on the map
    assert not contains(at.caption, "are written on the map")


def test_look_inside_a_chinese_model_names_its_characters_readably_and_calls_none_a_consonant(chinese_run, workspace):
    copy_run(chinese_run, workspace)
    at = open_app()
    upload_text(at, CHINESE, CHINESE_NAME)
    at = go(at, "inside")
    table = next(d.value for d in at.dataframe if "What it tracks" in d.value.columns)
    assert "vowel vs consonant" not in set(table["What it tracks"])  # Chinese has no vowel letters to test

    run(at.slider(key="inside_position").set_value(2))  # after "我们今"
    guesses = next(d.value for d in at.dataframe if "Guess" in d.value.columns)
    for guess, name in zip(guesses["Guess"], guesses["Name"], strict=True):
        assert "cjk unified ideograph" not in name.lower()
        if "\u4e00" <= guess <= "\u9fff":
            assert name == f"{guess} (Han character)"
    boxes = " ".join(h.proto.body for h in at.get("html") if "charlab-inside" in h.proto.body)
    assert "cjk unified ideograph" not in boxes.lower() and 'title="今 (Han character) · surprise' in boxes

    kinds = chart_data(at, "Kind")
    assert "consonant" not in set(kinds["Kind"]) and "vowel" not in set(kinds["Kind"])
    assert set(kinds.loc[kinds["Character"] == "烟", "Kind"]) == {"Han character"}
    written = points_to_label(kinds[["x", "y"]].to_numpy(), kinds["Uses"].to_numpy(), MAP_LABELS)
    assert kinds["Written"].tolist() == written.tolist() and 0 < written.sum() <= MAP_LABELS < len(kinds)
    assert kinds.loc[kinds["Character"] == "，", "Uses"].item() == CHINESE.count("，")
    assert kinds.loc[kinds["Uses"].idxmax(), "Written"]  # the most used character is always written
    assert contains(at.caption, f"Only {written.sum()} characters are written on the map")


def test_look_inside_without_a_run_points_to_train():
    at = open_app("inside")
    assert contains(at.info, "No trained run yet")


def test_look_inside_escapes_a_typed_text(with_run):
    at = open_app("inside")
    run(at.segmented_control(key="inside_source").set_value("typed"))
    run(at.text_area(key="inside_text").input("the <cat> sat"))
    assert contains(at.caption, "Not in this model's vocabulary")
    boxes = [h.proto.body for h in at.get("html") if "charlab-inside" in h.proto.body]
    assert boxes and all("<cat>" not in box for box in boxes)


# ---------------------------------------------------------------- Grammar lab


def test_the_grammar_lab_scores_strings_charts_the_time_lapse_and_finds_the_first_error(with_run):
    """The run is told it learned the Reber sample (its corpus hash) and given Reber-like output and
    time-lapse frames, so the page's figures can be checked against charlab.text.reber exactly."""
    reber_text = samples.load_sample("reber")
    sha = corpus.text_hash(corpus.clean(reber_text, "keep"))
    runs.update_meta(with_run, corpus={"name": "Reber grammar", "sha256": sha, "characters": len(reber_text)})
    early, late = "BTBXE\nBPBPVVEPE\nBT\n", "BTBTXSETE\nBPBPVVEPE\nBTBTSXSETE\n"
    runs.write_timelapse(with_run, [
        {"step": 1, "epoch": 0.5, "seconds": 1.0, "text": early},
        {"step": 2, "epoch": 1.0, "seconds": 2.0, "text": late},
    ])  # fmt: skip
    at = generate_page()
    generated = "BTBTXSETE\nBPBPVVEPE\nBTBTXXVPSEPE\nBPB"
    at.session_state["generate_output"] = {
        "run": str(with_run), "seed": "", "text": generated, "temperature": 0.8, "top_k": None, "random_seed": 1,
    }  # fmt: skip
    run(at)
    assert "Grammar lab" in texts(at.subheader)
    score = grammar_score(generated)
    assert (score.total, score.grammatical) == (3, 2)
    assert metric(at, "Grammatical strings") == "67%"
    growth = chart_data(at, "grammatical")
    assert growth["grammatical"].tolist() == pytest.approx([grammar_score(early).share, 1.0])

    run(at.selectbox(key="generate_grammar_line").set_value(2))
    where = first_error("BTBTXXVPSEPE")
    assert contains(at.warning, f"It breaks the grammar at character {where + 1}")
    assert contains(at.html, f'<mark style="background:#FCA5A5;color:#0B0F19;padding:0">{"BTBTXXVPSEPE"[where]}</mark>')
    run(at.selectbox(key="generate_grammar_line").set_value(0))
    assert contains(at.success, "This string follows the grammar")


def test_train_charts_the_grammatical_share_under_the_time_lapse_of_a_reber_training(workspace):
    at = open_app()
    use_sample(at, "reber")
    go(at, "train")
    set_tiny_settings(at, epochs=2)
    run(at.button(key="train_start").click())
    wait_done(at)
    timelapse = job(at).snapshot().timelapse
    assert len(timelapse) > 1
    growth = chart_data(at, "grammatical")  # drawn from the finished job's time-lapse
    expected = [grammar_score(e["text"]).share for e in timelapse if grammar_score(e["text"]).total]
    assert growth["grammatical"].tolist() == pytest.approx(expected)
    assert growth["seconds"].is_monotonic_increasing
    assert contains(at.markdown, "Grammatical strings as it learned")
    reber = corpus.clean(samples.load_sample("reber"), "keep")  # while it trains, the job's own text tells
    assert is_reber_text(reber, "keep") and not is_reber_text(reber[:-1] + "X", "keep")
    assert not is_reber_text(TEXT, "keep") and not is_reber_text(reber, "no-such-cleaning")

    upload_text(at)  # another text: no grammar chart for its training
    go(at, "train")
    set_tiny_settings(at, epochs=1)
    run(at.button(key="train_start").click())
    wait_done(at)
    assert not any("grammatical" in frame.columns for _, frames in charts(at) for frame in frames)


def test_the_grammar_lab_is_only_for_the_reber_sample(with_run):
    at = generate_page()
    at.number_input(key="generate_length").set_value(30)
    run(at.button(key="generate_go").click())
    assert "Grammar lab" not in texts(at.subheader)
