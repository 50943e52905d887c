"""The Train page in AppTest: settings, training and stopping, whether the loss is good, the time-lapse."""

from __future__ import annotations

import html
import json
import math
import re
import time

import pandas as pd
import pytest
from app_pages import (
    APP_FIXTURES,
    ROOT,
    TEXT,
    TINY,
    chart_data,
    charts,
    choose_blank,
    contains,
    go,
    job,
    metric,
    open_app,
    plain,
    run,
    runs_table,
    set_tiny_settings,
    sidebar_text,
    start_tiny_training,
    texts,
    upload_text,
    use_sample,
    wait_done,
    wait_until,
)
from streamlit.testing.v1 import AppTest

import ui.charts
import ui.formatting
import ui.job_registry
import ui.saved_runs
import ui.settings
import ui.sidebar
import ui.train
from charlab.learning import calibration
from charlab.learning.diagnosis import check_first_loss, diagnose, kept_epoch
from charlab.network import precision
from charlab.network.model import MODEL_SETTINGS, count_parameters
from charlab.saving import runs
from charlab.server.jobs import JobQueue
from charlab.text import corpus
from charlab.text.baselines import Baseline, BaselineReport, compute_baselines
from ui.job_registry import registry
from ui.saved_runs import baseline_report
from ui.settings import (
    PRESETS,
    SETTING_COLUMNS,
    SETTING_HELP,
    SETTING_LABELS,
    model_config,
    preset_minutes,
    preset_settings,
    training_length_words,
)
from ui.sidebar import poll_seconds
from ui.train import BASELINE_WORDS, timelapse_words

pytestmark = APP_FIXTURES


# ---------------------------------------------------------------- settings


# AppTest's name for each kind of widget charlab.network.model.MODEL_SETTINGS asks for
WIDGET_KINDS = {"segmented": "segmented_control", "select_slider": "select_slider", "slider": "slider",
                "number": "number_input"}  # fmt: skip
SETTING_WIDGETS = {s.name: WIDGET_KINDS[s.widget] for s in MODEL_SETTINGS.values() if s.widget}


def test_settings_have_help_and_the_parameter_count_follows_the_units():
    at = open_app("train")
    assert contains(at.info, "Choose a text on the Corpus page first")
    assert at.button(key="train_start").disabled
    upload_text(at)
    go(at, "train")
    for name, kind in SETTING_WIDGETS.items():
        widget = getattr(at, kind)(key=f"settings_{name}")
        assert widget.proto.label == SETTING_LABELS[name]
        assert widget.proto.help == SETTING_HELP[name]
    vocab_size = len(set(corpus.clean(TEXT, "keep")))

    def expected() -> str:
        return f"{count_parameters(model_config(at.session_state['settings']), vocab_size):,}"

    before = metric(at, "Parameters")
    assert before == expected()
    run(at.select_slider(key="settings_units").set_value(16))
    assert at.session_state["settings"].units == 16
    after = metric(at, "Parameters")
    assert after == expected() and int(after.replace(",", "")) < int(before.replace(",", ""))
    layers = next(d.value for d in at.dataframe if "Formula" in d.value.columns)
    assert "GRU" in " ".join(layers["Layer"])  # the default cell


def test_presets_fill_every_setting_and_hand_tuning_clears_the_preset():
    at = open_app()
    upload_text(at)
    choose_blank(go(at, "train"))  # a blank network's fit (from the writer: tests/test_app_startfrom.py)
    for key in ("balanced", "quick"):
        run(at.segmented_control(key="train_preset").set_value(key))
        wanted = preset_settings(key, len(TEXT))  # fitted to this small text (tests/test_app_smalltext.py)
        assert at.session_state["settings"] == wanted and at.session_state["preset"] == key
        assert at.session_state["minutes"] == preset_minutes(key, len(TEXT))
        assert at.segmented_control(key="train_preset").value == key
        assert at.slider(key="settings_seq_length").value == wanted.seq_length  # the widgets show it
        assert at.select_slider(key="settings_embedding_dim").value == wanted.embedding_dim
        assert at.number_input(key="settings_minutes").value == preset_minutes(key, len(TEXT))  # by the clock
        assert at.segmented_control(key="settings_train_by").value == "minutes"
    assert preset_minutes("balanced") == 5 and preset_minutes("best") == 20
    assert training_length_words(preset_settings("quick"), 1.0) == "1 minute"  # Continue's help says how long
    assert training_length_words(model_config(preset_settings("balanced"), epochs=1), None) == "1 epoch"
    use_sample(at, "fables")  # another text: the preset is fitted to it
    go(at, "train")
    fables_chars = len(corpus.clean(at.session_state["corpus"].text, "keep"))
    assert at.session_state["settings"] == preset_settings("quick", fables_chars)
    run(at.select_slider(key="settings_units").set_value(512))
    assert at.session_state["preset"] is None and at.segmented_control(key="train_preset").value is None
    assert at.session_state["settings"].units == 512
    go(at, "home")  # settings survive a page switch
    go(at, "train")
    assert at.select_slider(key="settings_units").value == 512


def test_a_cleared_choice_keeps_its_setting():
    """Seen under load in bench/classroom.py: the cell-type control sent None and broke the Train page."""
    at = open_app("train")
    before = at.session_state["settings"].cell
    run(at.segmented_control(key="settings_cell").set_value(None))
    assert at.session_state["settings"].cell == before
    assert at.segmented_control(key="settings_cell").value == before
    assert not at.error


# ---------------------------------------------------------------- training, stopping, continuing


def test_training_runs_to_the_end_is_saved_and_can_continue(workspace):
    at = open_app()
    upload_text(at)
    go(at, "train")
    set_tiny_settings(at, epochs=1)
    at.text_input(key="train_run_name").input("my cats")
    run(at.button(key="train_start").click())
    assert job(at).name == "my cats"
    wait_done(at)
    assert contains(at.success, "Training finished.")
    assert contains(at.toast, "Training finished: the run is saved in My runs.")
    [info] = runs.list_runs(workspace)
    assert info.name == "my cats" and info.status == "finished" and info.config.units == 16
    assert at.session_state["run_path"] == str(info.path)
    assert "my cats" in sidebar_text(at)
    assert list(runs_table(at)["Name"]) == ["my cats"]
    assert not at.button(key="train_start").disabled and at.button(key="train_stop").disabled
    losses = chart_data(at, "series")  # the loss chart: training and validation curves
    assert set(losses["series"]) >= {"Validation (each epoch)"} and len(losses) > 1
    assert contains(at.markdown, "What the kept network writes")
    assert contains(at.caption, "The network from epoch 1, the last, kept because its validation loss")
    assert plain(texts(at.subheader)[0]) == "Trained «my cats»"  # no longer "Training" once it has ended

    run(at.segmented_control(key="train_unit").set_value("bits"))
    in_bits = chart_data(at, "series")
    assert in_bits["value"].tolist() == pytest.approx((in_bits["loss"] / math.log(2)).tolist())
    assert any("Bits per character" in spec for spec, _ in charts(at))

    run(at.button(key="train_continue").click())  # one more epoch on the same run
    wait_done(at)
    assert [row["epoch"] for row in runs.read_history(info.path)] == [1, 2]
    assert len(runs.list_runs(workspace)) == 1
    assert contains(at.success, "Training finished.")

    use_sample(at, "fables")  # continuing on a text with characters the model never saw is refused
    go(at, "train")
    run(at.button(key="train_continue").click())
    assert contains(at.error, "characters this model never saw")
    assert job(at).done and len(runs.read_history(info.path)) == 2


def test_stop_from_a_reloaded_page_saves_the_run_as_stopped(workspace):
    at = open_app()
    upload_text(at)
    go(at, "train")
    set_tiny_settings(at, epochs=500)
    assert at.button(key="train_stop").disabled
    run(at.button(key="train_start").click())
    training = job(at)
    wait_until(lambda: training.snapshot().step >= 3)
    run(at)
    assert at.button(key="train_start").disabled and at.button(key="train_continue").disabled
    go(at, "generate")  # the run has no saved weights yet: said in plain words
    assert contains(at.info, "is still training: it can write here once its first checkpoint is saved")

    # a browser reload is a new session with the same token in the URL: it finds the job again
    reloaded = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    reloaded.query_params["session"] = at.session_state["token"]
    run(reloaded)
    go(reloaded, "train")
    assert reloaded.session_state["corpus"].name == "cats.txt"
    assert reloaded.session_state["settings"].epochs == 500
    assert plain(texts(reloaded.subheader)[0]) == "Training «cats.txt · LSTM 16»"
    assert not reloaded.button(key="train_stop").disabled
    run(reloaded.button(key="runs_delete").click())  # a run still training cannot be deleted
    run(reloaded.button(key="runs_delete_yes").click())
    assert contains(reloaded.error, "This run is still training. Stop it first")
    assert training.snapshot().run_path.exists() and not training.done
    run(reloaded.button(key="train_stop").click())
    wait_done(reloaded)
    assert training.snapshot().status == "stopped"
    assert contains(reloaded.info, "Stopped: what was learned is saved.")
    trained = ui.formatting.fmt_epochs(training.snapshot().epochs_trained)  # stopped mid-epoch: a part counts
    kept = kept_epoch(training.snapshot().history)  # an epoch cut short is filed where the stop cut it (7.8, not 8)
    assert kept.epoch <= training.snapshot().epochs_trained + 0.005
    assert contains(reloaded.info, f"(the network of epoch {kept.epoch:g}, kept) after {trained} in")
    assert contains(reloaded.toast, "Training stopped")
    [info] = runs.list_runs(workspace)
    assert info.status == "stopped" and info.damaged is None
    assert 1 <= info.metrics["epochs_done"] < 500
    assert runs_table(reloaded)["Status"].tolist() == ["stopped"]
    assert not reloaded.button(key="train_start").disabled


def test_a_second_training_waits_for_a_free_place_and_can_be_cancelled(workspace, monkeypatch):
    monkeypatch.setattr(registry(), "queue", JobQueue(max_trainings=1))  # one training at a time
    first = open_app()
    upload_text(first)
    go(first, "train")
    set_tiny_settings(first, epochs=500)
    run(first.button(key="train_start").click())
    wait_until(lambda: job(first).snapshot().step >= 1)

    second = open_app()  # another browser
    upload_text(second, TEXT, "dogs.txt")
    go(second, "train")
    set_tiny_settings(second, epochs=1)
    run(second.button(key="train_start").click())
    handle = registry().queue.touch(second.session_state["token"])
    assert handle.waiting
    assert contains(second.info, "Waiting for a free place: other trainings are using this computer (yours is next")
    assert contains(second.sidebar.caption, "Waiting for a free place (yours is next")
    assert "waiting for a free place" in sidebar_text(second) and "training" not in sidebar_text(second).lower()
    assert re.search(r"starts in about \d", " ".join(texts(second.info)))  # the wait, from the first job's ETA
    assert not second.button(key="train_stop").disabled
    run(second.button(key="train_stop").click())  # leaves the queue: nothing is trained or saved
    assert handle.cancelled and second.session_state["token"] not in registry().queue
    assert not second.button(key="train_start").disabled
    assert not contains(second.info, "Waiting for a free place")
    assert [info.corpus_name for info in runs.list_runs(workspace)] == ["cats.txt"]
    assert not job(first).done  # the first training went on


def test_pages_poll_a_waiting_training_slowly_and_an_ended_one_never():
    class Waiting:
        waiting, job = True, type("J", (), {"done": False})()

    class Training:
        waiting, job, started_at = False, type("J", (), {"done": False, "trained_steps": 3})(), time.monotonic()

    class Settled:
        waiting, job, started_at = False, Training.job, time.monotonic() - 31

    class Starting:
        waiting, job = False, type("J", (), {"done": False, "trained_steps": 0})()

    class Ended:
        waiting, job = False, type("J", (), {"done": True})()

    polls = [poll_seconds(h) for h in (Waiting(), Starting(), Training(), Settled(), Ended(), None)]
    assert polls == [5.0, 0.25, 1.0, 2.0, None, None]


def test_streamlit_does_not_clear_keras_after_every_script_run():
    """Streamlit's clean-up after each run calls keras.backend.clear_session(): with the live view
    refreshing, it slowed a training in the background 45-fold. ui replaces it; a Streamlit upgrade
    that renames the hook must fail here, not slow every classroom down silently."""
    from streamlit.runtime.scriptrunner import script_runner

    assert getattr(script_runner._clean_problem_modules, "charlab", False)
    script_runner._clean_problem_modules()  # still safe to call: closes matplotlib figures only


# ---------------------------------------------------------------- is my loss good?


def loaded_run_on_train(at: AppTest) -> AppTest:
    """The trained run loaded on the Train page, with its training text (TEXT) as the corpus."""
    upload_text(at)
    go(at, "train")
    return run(at.button(key="runs_load").click())


ALL_LINES = ["uniform", "unigram", "context_1", "context_2", "context_3"]


def test_a_run_keeps_its_reference_lines_without_its_text(with_run):
    """Seen in a browser: once a training ended or was stopped, only random guessing was left on the chart."""
    at = open_app("train")
    run(at.button(key="runs_load").click())  # its text is not the current corpus: the lines come from the run
    assert chart_data(at, "reference")["reference"].tolist() == ALL_LINES
    assert "The kept network (epoch" in " ".join(texts(at.caption))

    meta = runs.read_meta(with_run)
    del meta["baselines"]  # a run saved before runs kept them
    (with_run / "config.json").write_text(json.dumps(meta), encoding="utf-8")
    run(at)
    assert chart_data(at, "reference")["reference"].tolist() == ["uniform"]
    loaded_run_on_train(at)  # with its text loaded, they are counted again
    assert chart_data(at, "reference")["reference"].tolist() == ALL_LINES


def test_the_reference_lines_stay_when_a_training_ends(workspace):
    at = start_tiny_training(epochs=1)
    wait_done(at)
    assert job(at).text == ""  # the finished job has let go of its text
    assert chart_data(at, "reference")["reference"].tolist() == ALL_LINES
    use_sample(at, "limericks")  # another text: the run's own lines still show
    go(at, "train")
    assert chart_data(at, "reference")["reference"].tolist() == ALL_LINES


def test_the_loss_chart_has_the_counting_baselines_in_every_unit(with_run):
    at = open_app("train")
    loaded_run_on_train(at)
    loaded = runs.load_run(with_run)
    report = compute_baselines(
        corpus.clean(TEXT, "keep"), loaded.vocab, TINY["validation_fraction"], TINY["seq_length"]
    )
    lines = chart_data(at, "reference").set_index("reference")
    assert list(lines.index) == ALL_LINES
    for b in report.baselines:
        assert lines.loc[b.key, "loss"] == pytest.approx(b.loss)
        assert lines.loc[b.key, "value"] == pytest.approx(b.loss)
    assert lines.loc["context_3", "label"].startswith("previous 3 characters")
    assert lines.loc["unigram", "label"].startswith("letter frequencies only")
    run(at.segmented_control(key="train_unit").set_value("bits"))
    in_bits = chart_data(at, "reference").set_index("reference")
    assert in_bits.loc["context_2", "value"] == pytest.approx(report.get("context_2").loss / math.log(2))
    run(at.segmented_control(key="train_unit").set_value("perplexity"))
    assert chart_data(at, "reference").set_index("reference").loc["unigram", "value"] == pytest.approx(
        math.exp(report.get("unigram").loss)
    )

    val_loss = min(row["val_loss"] for row in runs.read_history(with_run))  # the kept network's
    beaten = [b for b in report.baselines if val_loss < b.loss]
    captions = " ".join(texts(at.caption))
    if beaten:
        strongest = min(beaten, key=lambda b: b.loss)
        assert f"beats {BASELINE_WORDS[strongest.key]}" in captions
    else:
        assert "is not yet better than guessing at random" in captions


def test_a_watching_tab_redraws_the_losses_without_rebuilding_the_chart(with_run):
    """A tab polls its live view every 1-2 s: building the chart with Altair (and its schema check) on each
    poll was most of the server's CPU per watching tab. The layout is built once; a poll sends the data."""
    from ui.charts import _loss_layout

    _loss_layout.cache_clear()
    at = loaded_run_on_train(open_app())
    [(spec, _)] = [chart for chart in charts(at) if '"name": "losses"' in chart[0]]
    built = _loss_layout.cache_info().misses
    assert built >= 1
    run(at)
    [(again, _)] = [chart for chart in charts(at) if '"name": "losses"' in chart[0]]
    assert _loss_layout.cache_info().misses == built  # the same look: nothing rebuilt
    assert again == spec
    history = runs.read_history(with_run)
    losses = chart_data(at, "series")
    validation = losses[losses["series"] == "Validation (each epoch)"]
    assert validation["loss"].tolist() == pytest.approx([h["val_loss"] for h in history])
    run(at.segmented_control(key="train_unit").set_value("bits"))  # another look: a new layout
    assert _loss_layout.cache_info().misses == built + 1


def test_the_verdict_replaces_the_overfitting_note(with_run):
    at = loaded_run_on_train(open_app())
    loaded = runs.load_run(with_run)
    cleaned = corpus.clean(TEXT, "keep")
    report = baseline_report(cleaned, loaded.vocab, loaded.config, corpus.text_hash(cleaned))
    expected = diagnose(loaded.history(), [], reference_loss=report.get("unigram").loss)
    shown = texts(at.success) + texts(at.info) + texts(at.warning) + texts(at.caption)
    assert any(expected.message in str(words) for words in shown), expected
    if expected.verdict != "too early":
        assert any(f"**{expected.verdict.capitalize()}.**" in str(words) for words in shown)


def test_an_overfitting_history_gets_the_overfitting_verdict(with_run):
    history = [
        {"epoch": 1, "loss": 2.0, "val_loss": 1.8},
        {"epoch": 2, "loss": 1.5, "val_loss": 1.6},
        {"epoch": 3, "loss": 1.2, "val_loss": 1.7},
        {"epoch": 4, "loss": 1.0, "val_loss": 1.8},
    ]
    runs.write_history(with_run, history)
    at = loaded_run_on_train(open_app())
    assert contains(at.warning, "**Overfitting.** Validation loss is rising")


def test_a_fresh_training_checks_its_first_batch(monkeypatch):
    """A first loss far above ln(V) is warned about; here the real check runs with a tolerance so strict
    that even this normal start counts as too high."""
    strict = check_first_loss
    monkeypatch.setattr(  # the Train page's live view looks it up in ui.train
        ui.train, "check_first_loss", lambda loss, vocab_size: strict(loss, vocab_size, tolerance=-10.0)
    )
    at = start_tiny_training(epochs=500)
    training = job(at)
    wait_until(lambda: training.snapshot().step >= 1)
    run(at)
    first = training.snapshot().batch_losses[0][1]
    assert contains(at.warning, f"The first loss is {first:.2f}, far above")
    run(at.button(key="train_stop").click())
    wait_done(at)


# ---------------------------------------------------------------- the time-lapse


def test_the_time_lapse_slider_shows_the_text_of_that_moment_and_marks_the_chart(with_run):
    entries = runs.read_timelapse(with_run)
    assert len(entries) >= 3
    at = open_app("train")
    run(at.button(key="runs_load").click())
    slider = at.select_slider(key="train_timelapse")
    assert slider.value == len(entries) - 1  # the newest moment first
    assert contains(at.html, html.escape(entries[-1]["text"]))
    assert chart_data(at, "moment")["epoch"].tolist() == [pytest.approx(entries[-1]["epoch"])]
    run(slider.set_value(0))
    assert at.select_slider(key="train_timelapse").value == 0
    assert contains(at.html, html.escape(entries[0]["text"]))
    assert chart_data(at, "moment")["epoch"].tolist() == [pytest.approx(entries[0]["epoch"])]
    assert contains(at.caption, timelapse_words(entries[0]).capitalize())
    run(at)  # the user's moment stays put on the next refresh
    assert at.select_slider(key="train_timelapse").value == 0


def test_the_precision_is_chosen_beside_a_line_on_what_this_computer_supports(monkeypatch):
    monkeypatch.setenv("CHARLAB_BFLOAT16", "1")  # as on a processor with AMX
    monkeypatch.setattr(precision, "has_gpu", lambda: False)
    at = open_app()
    upload_text(at)
    go(at, "train")
    control = at.segmented_control(key="settings_precision")
    assert control.value == "auto" and control.options == ["Auto", "float32", "bfloat16"]
    assert contains(at.caption, "auto trains in mixed bfloat16")
    preset_help = at.segmented_control(key="train_preset").help  # bfloat16 here is emulated-slow (tests/conftest.py)
    assert "bfloat16 is not fast enough here for a bigger network" in preset_help
    run(control.set_value("float32"))
    assert at.session_state["settings"].precision == "float32"
    monkeypatch.setenv("CHARLAB_BFLOAT16", "0")  # a laptop without a bfloat16 unit
    run(at)
    assert contains(at.caption, "This processor has no bfloat16 unit (AVX512-BF16 or AMX): auto trains in float32")


def _never_timed(wanted):
    raise AssertionError(f"timed {wanted} on a computer that cannot train in bfloat16")


def test_without_bfloat16_units_the_presets_are_todays_and_the_help_says_why(monkeypatch):
    """This computer's case (an AMD EPYC without AVX512-BF16 or AMX): the float32 winners, nothing timed."""
    monkeypatch.delenv("CHARLAB_BFLOAT16", raising=False)
    monkeypatch.setattr(precision, "bfloat16_unit", lambda: None)
    monkeypatch.setattr(precision, "has_gpu", lambda: False)
    monkeypatch.setattr(calibration, "time_products", _never_timed)
    at = open_app()
    use_sample(at, "tiny_shakespeare")  # a big text: the presets as they are, not fitted
    go(at, "train")
    today = {"quick": (256, 0.0, 1.0), "balanced": (384, 0.0, 5.0), "best": (384, 0.1, 20.0)}
    for key, (units, dropout, minutes) in today.items():
        run(at.segmented_control(key="train_preset").set_value(key))
        settings = at.session_state["settings"]
        assert settings == PRESETS[key][2] and at.session_state["minutes"] == minutes
        assert (settings.cell, settings.units, settings.dropout, settings.batch_size) == ("gru", units, dropout, 64)
    help_words = at.segmented_control(key="train_preset").help
    assert help_words.endswith("This computer has no bfloat16 units (AVX512-BF16 or AMX): the float32 recipe.")


def test_with_fast_bfloat16_units_balanced_trains_the_bigger_network_and_says_so(monkeypatch):
    monkeypatch.setenv("CHARLAB_BFLOAT16", "1")
    monkeypatch.setattr(precision, "has_gpu", lambda: False)

    def time_products(wanted):  # a fake processor computing 1,000 GFLOP/s of bfloat16 (nothing is timed)
        return {calibration.product_name(m, k, n, d): 2 * m * k * n / 1e12 for m, k, n, d in wanted}

    monkeypatch.setattr(calibration, "time_products", time_products)
    at = open_app()
    use_sample(at, "tiny_shakespeare")
    go(at, "train")
    run(at.segmented_control(key="train_preset").set_value("balanced"))
    settings = at.session_state["settings"]
    assert (settings.units, settings.batch_size, at.session_state["minutes"]) == (512, 256, 5.0)
    assert at.select_slider(key="settings_units").value == 512  # the widgets show it
    assert at.select_slider(key="settings_batch_size").value == 256
    help_words = at.segmented_control(key="train_preset").help
    assert "Balanced · 5 minutes: This processor computes bfloat16 products at 1,000 GFLOP/s" in help_words
    assert "a GRU 512 at batch 256 in mixed bfloat16" in help_words


def test_the_settings_stand_in_the_train_pages_three_columns_as_model_settings_places_them():
    assert SETTING_COLUMNS == (
        ("cell", "units", "layers", "embedding_dim"),
        ("seq_length", "batch_size", "dropout"),
        ("epochs", "learning_rate", "schedule", "validation_fraction", "precision"),
    )
    shown = [name for name, setting in MODEL_SETTINGS.items() if setting.widget]
    assert sorted(name for column in SETTING_COLUMNS for name in column) == sorted(shown)  # each widget once


@pytest.mark.parametrize("key", ["quick", "balanced", "best"])
def test_every_preset_is_a_valid_model_the_train_page_can_show(key):
    settings = model_config(preset_settings(key))  # a valid model
    for setting in MODEL_SETTINGS.values():
        value = getattr(settings, setting.name)
        if setting.widget in ("segmented", "select_slider"):  # its widget offers the preset's value
            assert value in (setting.choices or setting.offered), (key, setting.name)
        elif setting.widget == "slider":
            low, high = setting.app_range
            assert low <= value <= high


# ---------------------------------------------------------------- the network that is kept


def kept_early(run_path) -> list[dict]:
    """The run's history rewritten as a small text's: best validation at epoch 2 of 5, then memorising, with
    each epoch's text saying which epoch wrote it. Its baselines say where the lines are."""
    report = runs.read_meta(run_path)["baselines"]
    guess = next(b["loss"] for b in report["baselines"] if b["key"] == "uniform")
    val = [guess - 0.2, guess - 0.5, guess + 0.3, guess + 0.8, guess + 1.0]  # the last is worse than random
    history = [
        {"epoch": i + 1, "loss": 3.0 - 0.5 * i, "val_loss": v, "seconds": i + 1.0, "chars_per_second": 100}
        for i, v in enumerate(val)
    ]
    runs.write_history(run_path, history)
    texts = [{"epoch": i + 1, "temperature": 0.8, "text": f"written by epoch {i + 1}"} for i in range(5)]
    runs.write_epoch_texts(run_path, texts)
    runs.write_timelapse(run_path, [{"step": 50, "epoch": 5.0, "seconds": 5.0, "text": "the last network"}])
    return history


def test_the_train_page_shows_and_judges_the_kept_network_not_the_last(with_run):
    """Seen on a small text: the page ended on the last network's text and judged its last validation loss
    ('Not yet better than guessing at random') while the run kept, and Generate used, epoch 5 of 370."""
    history = kept_early(with_run)
    at = loaded_run_on_train(open_app())
    captions = " ".join(texts(at.caption))
    assert "The network from epoch 2 of 5, kept because its validation loss" in captions
    assert f"({history[1]['val_loss']:.2f}) was the lowest: Generate uses this network." in captions
    written = [h.value for h in at.html if "written by epoch" in h.value]
    assert len(written) == 6 and "written by epoch 2" in written[0]  # the kept one's, then every epoch's
    assert f"The kept network (epoch 2, validation loss {history[1]['val_loss']:.2f}) beats" in captions
    assert "not yet better" not in captions
    assert contains(at.markdown, "What it wrote last")  # beside the chart: the last network, said to be so
    assert "The network kept, the one Generate uses, is epoch 2's" in captions
    assert any("Epoch 2 · validation loss" in c and "**kept**" in c for c in texts(at.caption))


def test_every_epochs_text_wraps_its_long_lines():
    """Seen in a browser: the texts written after each epoch were cut at the box's edge, not wrapped (a run of
    characters without a space, as an early network writes, was cut even in a pre-wrap box)."""
    at = AppTest.from_function(_epoch_texts_script, default_timeout=30).run()
    assert not at.exception and not at.code
    boxes = [h.value for h in at.html if "a long line" in h.value]
    assert len(boxes) == 3 and all("white-space:pre-wrap;overflow-wrap:anywhere" in box for box in boxes)


def _epoch_texts_script() -> None:
    from charlab.learning.diagnosis import kept_epoch
    from ui.train import kept_text_view

    history = [{"epoch": i, "loss": 2.0, "val_loss": 2.0 - i / 10} for i in (1, 2)]
    epoch_texts = [{"epoch": i, "temperature": 0.8, "text": "a long line " * 40 + "x" * 300} for i in (1, 2)]
    kept_text_view(epoch_texts, kept_epoch(history), history, done=True)


def _untrained_text_script() -> None:
    from ui.train import LiveMetrics, newest_text

    frames = [{"step": 0, "epoch": 0.0, "seconds": 0.5, "text": "zqx"}]
    figures = LiveMetrics(
        history=[],
        batch_losses=[(i, 2.6) for i in range(1, 41)],
        epoch_texts=[],
        timelapse=frames,
        batches_per_epoch=100,
        first_epoch=0,
        vocab_size=30,
        initial_loss=3.4,
        report=None,
        reber=False,
        step=40,
        done=False,
    )
    newest_text(figures, None)


def test_the_untrained_networks_text_is_not_called_what_it_writes_now():
    """Seen 12 s into a training: 'What it writes now (… step 0)' beside a loss already down to 2.61."""
    at = AppTest.from_function(_untrained_text_script, default_timeout=30).run()
    assert not at.exception
    assert contains(at.markdown, "**What the untrained network wrote** (before its first step")
    assert contains(at.markdown, "it is at step 40 now")
    assert not contains(at.markdown, "What it writes now")


def test_the_metrics_fit_a_projector_and_say_they_are_estimates():
    """Seen at 1280 px: 'Time per epoch (estima…' cut; each label is short, its help says it is an estimate."""
    at = upload_text(open_app())
    go(at, "train")
    assert at.metric, "no metrics"
    for m in at.metric:
        assert len(m.label) <= 16, m.label
        assert m.label == "Parameters" or "estimate" in m.help.lower(), m.label


# ---------------------------------------------------------------- the loss chart on a projector


def _close_lines() -> BaselineReport:
    """Five reference lines within 0.12 nats, as on the Chinese poems: all five labels in one band."""
    keys = ["uniform", "unigram", "context_1", "context_2", "context_3"]
    lines = [Baseline(key, key, 6.42 - 0.03 * i, None) for i, key in enumerate(keys)]
    return BaselineReport(tuple(lines), held_out=True, scored_characters=1000)


def _label_layers(spec: dict) -> list[dict]:
    return [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]


def test_the_reference_labels_are_readable_and_never_overlap_each_other_or_the_curves():
    from ui.charts import LABEL_GAP, loss_chart

    frame = pd.DataFrame(
        [("Training (each batch)", x / 10, 6.5 - x / 10) for x in range(40)]
        + [("Validation (each epoch)", e, 6.0 - e / 3) for e in (1, 2, 3)],
        columns=["series", "epoch", "loss"],
    )
    spec = loss_chart(frame, 614, "loss", _close_lines(), height=320)
    labels = _label_layers(spec)
    assert len(labels) == 5
    for layer in labels:
        assert layer["mark"]["fontSize"] >= 13
        assert layer["mark"]["x"] == {"expr": "width + 10"} and layer["mark"]["align"] == "left"  # right of the plot
        assert layer["encoding"]["y"]["field"] == "label_value"
    low, high = labels[0]["encoding"]["y"]["scale"]["domain"]
    pixels = sorted(320 * (high - v) / (high - low) for v in spec["datasets"]["references"]["label_value"])
    assert min(b - a for a, b in zip(pixels, pixels[1:], strict=False)) >= LABEL_GAP - 1e-6 >= 13
    assert 0 <= pixels[0] and pixels[-1] <= 320  # all inside the chart's height


def test_the_x_axis_counts_steps_within_the_first_epoch_and_never_shows_three_decimals():
    """Seen in the first seconds: an epoch axis reading 0.000 … 0.009."""
    from ui.charts import loss_chart

    first_seconds = pd.DataFrame(
        [("Training (each batch)", step / 1000, 4.2 - step / 100) for step in range(10)],
        columns=["series", "epoch", "loss"],
    )
    spec = loss_chart(first_seconds, 65, "loss", batches_per_epoch=1000)
    x = spec["layer"][0]["encoding"]["x"]
    assert x["title"] == "Training steps (one epoch = 1,000 steps)"
    assert spec["datasets"]["losses"]["x"].tolist() == pytest.approx(list(range(10)))
    assert x["axis"]["format"] == ",.2~f"  # at most 2 decimals whatever the range
    later = pd.concat([first_seconds, pd.DataFrame([("Validation (each epoch)", 1.0, 3.0)], columns=frame_columns)])
    x = loss_chart(later, 65, "loss", batches_per_epoch=1000)["layer"][0]["encoding"]["x"]
    assert x["title"] == "Epoch" and x["axis"]["format"] == ",.2~f"
    y = loss_chart(later, 65, "loss")["layer"][0]["encoding"]["y"]
    assert y["title"] == "Loss (nats) · lower is better"


frame_columns = ["series", "epoch", "loss"]


def test_the_chart_says_what_its_axis_and_lines_mean_in_plain_words(with_run):
    at = loaded_run_on_train(open_app())
    assert contains(at.caption, "Loss (nats): how surprised the network is by each next character")
    vocab = len(runs.load_run(with_run).vocab)
    assert contains(at.caption, f"guessing at random among {vocab} characters")
    assert chart_data(at, "reference").set_index("reference").loc["uniform", "short"].startswith("random ")


def test_a_partial_epoch_is_counted_as_what_it_is():
    """Seen: 'Best validation loss 1.722 after 3 epochs' for a clock that stopped at 2.48 epochs."""
    assert [ui.formatting.fmt_epochs(n) for n in (2.48, 3.0, 1.0, 0.04, 12.0)] == [
        "2.5 epochs",
        "3 epochs",
        "1 epoch",
        "0.04 epochs",
        "12 epochs",
    ]


def test_continue_needs_a_whole_run_not_training_with_its_keras_model(trained_run, tmp_path):
    """The Train page asks charlab.saving.runs.continuable instead of probing the run's files itself."""
    import shutil
    from dataclasses import replace

    from charlab.saving.runs import continuable

    info = runs.run_info(trained_run)
    assert continuable(info) and not continuable(None)
    assert not continuable(replace(info, status="training"))
    cut = tmp_path / "cut"
    shutil.copytree(trained_run, cut)
    (cut / "model.keras").unlink()  # a first checkpoint cut off between its two files: weights only
    assert runs.run_info(cut).damaged is None and not continuable(runs.run_info(cut))
