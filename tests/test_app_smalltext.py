"""A small text of one's own in AppTest: a preset on a 4 KB upload trains a network fitted to it, and says so; by
default it starts from the classics writer (tests/test_app_startfrom.py), these from a blank network chosen."""

from __future__ import annotations

from app_pages import (
    APP_FIXTURES,
    ROOT,
    choose_blank,
    contains,
    go,
    job,
    metric,
    open_app,
    run,
    texts,
    upload_text,
    use_sample,
    wait_done,
)

from charlab.learning import writers
from charlab.learning.presets import preset
from charlab.network.model import count_parameters
from charlab.saving import runs
from ui.settings import PRESETS, preset_settings
from ui.text import md

pytestmark = APP_FIXTURES


LYRICS = (ROOT / "sample_texts" / "limericks.txt").read_text(encoding="utf-8")[:4_000]  # a song's worth of verse


def test_a_4_kb_upload_and_the_quick_preset_give_the_fitted_network_and_say_so():
    at = open_app()
    upload_text(at, LYRICS, "lyrics.txt")
    choose_blank(go(at, "train"))
    run(at.segmented_control(key="train_preset").set_value("quick"))
    settings = at.session_state["settings"]
    assert (settings.cell, settings.units, settings.dropout) == ("gru", 64, 0.3)  # not the preset's GRU 256
    assert at.select_slider(key="settings_units").value == 64  # the widgets show it
    assert at.select_slider(key="settings_dropout").value == 0.3
    assert at.session_state["minutes"] == 1.0
    vocab_size = len(set(LYRICS))
    assert metric(at, "Parameters") == f"{count_parameters(settings, vocab_size):,}"
    assert count_parameters(settings, vocab_size) < count_parameters(PRESETS["quick"][2], vocab_size) / 5
    assert contains(at.caption, "Fitted to this 4 KB text: GRU 64 with dropout 30% — a bigger network would learn it")

    run(at.segmented_control(key="train_preset").set_value("balanced"))  # 5 minutes would only learn it by heart
    assert at.session_state["settings"].units == 64 and at.session_state["minutes"] == 2.0
    assert contains(at.caption, "GRU 64 with dropout 30%, for 2 minutes —")

    run(at.select_slider(key="settings_units").set_value(128))  # tuned by hand: no preset, nothing said
    assert at.session_state["preset"] is None and not contains(at.caption, "Fitted to")


def test_a_preset_follows_the_text_and_tiny_shakespeare_gets_it_as_measured():
    at = open_app()
    upload_text(at, LYRICS, "lyrics.txt")
    choose_blank(go(at, "train"))
    run(at.segmented_control(key="train_preset").set_value("balanced"))
    assert at.session_state["settings"].units == 64
    use_sample(at, "tiny_shakespeare")  # a big text: the preset as it is, and nothing to say
    go(at, "train")
    assert at.session_state["settings"] == PRESETS["balanced"][2] and at.session_state["minutes"] == 5.0
    assert at.select_slider(key="settings_units").value == 384
    assert at.segmented_control(key="train_preset").value == "balanced"
    assert not contains(at.caption, "Fitted to")
    upload_text(at, LYRICS, "lyrics.txt")  # and back to the small text
    go(at, "train")
    assert at.session_state["settings"] == preset_settings("balanced", len(LYRICS))
    assert at.select_slider(key="settings_units").value == 64


def test_quick_start_on_home_offers_a_users_own_text_and_starts_from_the_writer(workspace):
    """Before, Home's Quick start always switched to Tiny Shakespeare: a student with 4 KB of his own lyrics
    lost his choice, and his text never got the one-minute demo. A small English text starts from the classics
    writer, fitted to it (its minute and batch), and Home says so."""
    at = open_app()
    assert [b.key for b in at.button if b.key.startswith("home_quick")] == ["home_quick_start"]  # the sample
    upload_text(at, LYRICS, "<b>my *lyrics*</b>.txt")
    go(at, "home")
    assert any(f"«{md('<b>my *lyrics*</b>.txt')}»" in m.value for m in at.markdown)  # as typed, never Markdown
    assert contains(at.markdown, "It starts from the classics writer, which already knows English spelling")
    run(at.button(key="home_quick_start_own").click())
    assert texts(at.title) == ["Train"]
    ss = at.session_state
    assert ss["corpus"].name == "<b>my *lyrics*</b>.txt" and ss["corpus"].source == "upload"
    writer = runs.load_run(writers.find_writer("writer")).config
    _, seconds, recipe = preset("quick")  # this computer's recipe
    assert ss["preset"] == "quick" and ss["start_from"] == "writer" and ss["minutes"] == 1.0
    assert ss["settings"] == writers.fine_tune_fit(recipe, seconds, len(LYRICS), writer).config
    training = job(at)
    assert training.name == f"<b>my *lyrics*</b>.txt · GRU {writer_units()}"
    assert training.snapshot().budget_seconds == 60.0
    run(at.button(key="train_stop").click())
    wait_done(at)
    (info,) = runs.list_runs(workspace)
    assert info.name == f"<b>my *lyrics*</b>.txt · GRU {writer_units()}"
    assert runs.read_meta(info.path)["from"]["run_id"] == "classics"


def writer_units() -> int:
    """The shipped writer's size, which a fine-tune keeps."""
    return runs.load_run(writers.find_writer("writer")).config.units
