"""Start from: a blank network or the classics writer, on the Train page (issue 20) — the writer's shape greyed,
its rate, its parameters; the default for a small text of one's own; a text in another script stays blank."""

from __future__ import annotations

from app_pages import APP_FIXTURES, ROOT, charts, contains, go, metric, open_app, run, upload_text, wait_done
from test_app_reload import reload

import ui
from charlab.learning import writers
from charlab.network.model import ModelConfig, count_parameters
from charlab.saving import runs
from ui.settings import preset_settings

pytestmark = APP_FIXTURES

# 4 KB of English the writer never read (charlab's recipes), with characters it never saw: é, ü, „ “, €
RECIPES = (ROOT / "sample_texts" / "recipes.txt").read_text(encoding="utf-8")[:4_000]
RECIPES += "Crème brûlée für „Grüße“: 5 €.\n"
CHINESE = (ROOT / "tests" / "data" / "tang_poems_zh.txt").read_text(encoding="utf-8")
GERMAN = (ROOT / "tests" / "data" / "languages" / "deutsch.txt").read_text(encoding="utf-8")  # 3 KB: ä ö ü ß


def classics() -> runs.Run:
    return runs.load_run(writers.find_writer("writer"))


def shape(config: ModelConfig) -> tuple:
    return tuple(getattr(config, name) for name in writers.SHAPE_SETTINGS)


def test_choosing_the_writer_greys_its_shape_halves_the_rate_and_trains_from_it(workspace):
    at = open_app()
    upload_text(at, RECIPES, "recipes.txt")
    go(at, "train")
    control = at.segmented_control(key="train_start_from")
    assert control.value == "blank" and "Shakespeare" in control.help
    assert not at.select_slider(key="settings_units").disabled
    run(control.set_value("writer"))
    writer = classics()
    settings = at.session_state["settings"]
    assert shape(settings) == shape(writer.config) and settings.learning_rate == writers.FINE_TUNE_LEARNING_RATE
    for key in ("settings_units", "settings_embedding_dim"):
        assert at.select_slider(key=key).disabled and at.select_slider(key=key).value == getattr(settings, key[9:])
    assert at.segmented_control(key="settings_cell").disabled and at.segmented_control(key="settings_layers").disabled
    assert not at.select_slider(key="settings_learning_rate").disabled  # the rate may still change
    assert at.select_slider(key="settings_learning_rate").value == writers.FINE_TUNE_LEARNING_RATE
    assert contains(at.caption, f"The writer's shape is fixed: its weights only fit a GRU {writer.config.units} ")
    grown = len(writers.grown_vocab(writer.vocab, RECIPES))  # the writer's 77 and the recipes' é, ü, „, €
    assert metric(at, "Parameters") == f"{count_parameters(settings, grown):,}"
    assert grown > len(writer.vocab)

    at.number_input(key="settings_epochs").set_value(1)
    run(at.button(key="train_start").click())
    wait_done(at)
    (info,) = runs.list_runs(workspace)
    origin = runs.read_meta(info.path)["from"]
    assert origin["run_id"] == writers.CLASSICS_WRITER and "€" in origin["new_characters"]
    assert shape(info.config) == shape(writer.config) and len(runs.read_history(info.path)) == 1
    marked = [f for _, frames in charts(at) for f in frames if "label" in f and "x" in f]  # the writer's start
    assert [row["label"] for row in marked[0].to_dict("records")] == [f"the writer's start: {origin['val_loss']:.2f}"]
    assert contains(at.caption, "The diamond at 0: the writer's loss on this text before its first step")

    run(at.button(key="train_continue").click())  # Continue goes on from the fine-tuned run, not the writer
    wait_done(at)
    (again,) = runs.list_runs(workspace)
    assert again.path == info.path and again.status == "finished" and len(runs.read_history(info.path)) == 2

    run(at.segmented_control(key="train_start_from").set_value("blank"))  # the blank network's settings come back
    assert at.session_state["settings"].learning_rate == ModelConfig().learning_rate
    assert not at.select_slider(key="settings_units").disabled
    assert not contains(at.caption, "The writer's shape is fixed")


def test_back_to_a_blank_network_brings_back_the_shape_and_rate_chosen_before_the_writer():
    """Choosing the writer kept the settings before it, but reseeding its widgets forgot them at once (a key of the
    same prefix), so a blank network came back with ModelConfig's shape instead of the user's."""
    at = open_app()
    upload_text(at, RECIPES, "recipes.txt")
    go(at, "train")
    run(at.select_slider(key="settings_units").set_value(64))
    run(at.select_slider(key="settings_learning_rate").set_value(0.001))
    run(at.segmented_control(key="train_start_from").set_value("writer"))
    assert at.session_state["settings"].units == classics().config.units
    run(at.segmented_control(key="train_start_from").set_value("blank"))
    assert at.session_state["settings"].units == 64 and at.select_slider(key="settings_units").value == 64
    assert at.session_state["settings"].learning_rate == 0.001


def test_the_choice_survives_a_reload():
    at = open_app()
    upload_text(at, RECIPES, "recipes.txt")
    run(go(at, "train").segmented_control(key="train_start_from").set_value("writer"))
    again = go(reload(at), "train")
    assert again.session_state["start_from"] == "writer"
    assert again.segmented_control(key="train_start_from").value == "writer"
    assert again.select_slider(key="settings_units").disabled
    assert ui.session.restorable({"start_from": "a rumour"}) == {}  # only the choices the control knows


def test_a_chinese_text_gets_the_one_line_and_its_preset_stays_blank():
    at = open_app()
    upload_text(at, CHINESE, "poems.txt")
    go(at, "train")
    advice = writers.writer_advice(CHINESE, classics())
    assert advice and contains(at.caption, advice)
    run(at.segmented_control(key="train_preset").set_value("quick"))
    assert at.session_state["start_from"] == "blank"
    assert at.session_state["settings"] == preset_settings("quick", len(CHINESE))


def test_a_german_text_gets_the_measured_line_and_starts_blank_measured_once(monkeypatch):
    """German looks like English letters (ä ö ü ß are 3 %), but the writer's first guesses on it are worse than
    letter frequencies: Home does not promise the writer, the Train page says why in one line with the measured
    numbers, and a preset starts blank. The measurement runs once for the text, however often the pages draw."""
    measured = []
    measure = writers.writer_head_start
    monkeypatch.setattr(writers, "writer_head_start", lambda *args: measured.append(1) or measure(*args))
    ui.start_from.writer_advice.clear()
    at = open_app()
    upload_text(at, GERMAN, "mühle.txt")
    go(at, "home")
    assert at.button(key="home_quick_start_own") and not contains(at.markdown, "starts from the classics writer")
    go(at, "train")
    head = measure(classics(), GERMAN)
    line = (
        "The writer knows English: on this text its first guesses are worse than knowing only how often each "
        f"letter appears ({head.writer_loss:.2f} against {head.letters_only:.2f} nats per character)"
    )
    assert head.writer_loss > head.letters_only and contains(at.caption, line)
    run(at.segmented_control(key="train_preset").set_value("quick"))
    assert at.session_state["start_from"] == "blank" and at.segmented_control(key="train_start_from").value == "blank"
    assert at.session_state["settings"] == preset_settings("quick", len(GERMAN))
    assert len(measured) == 1


def test_a_preset_on_a_small_english_text_of_ones_own_starts_from_the_writer_and_says_so():
    at = open_app()
    upload_text(at, RECIPES, "recipes.txt")
    go(at, "train")
    run(at.segmented_control(key="train_preset").set_value("quick"))
    assert at.segmented_control(key="train_start_from").value == "writer"
    settings = at.session_state["settings"]
    blank = preset_settings("quick", len(RECIPES))
    assert shape(settings) == shape(classics().config) and settings.batch_size == blank.batch_size
    assert settings.learning_rate == writers.FINE_TUNE_LEARNING_RATE and at.session_state["minutes"] == 1.0
    assert contains(at.caption, "starts from the classics writer, which already knows English spelling")

    run(at.segmented_control(key="train_start_from").set_value("blank"))  # the user's choice: the preset refits
    assert at.session_state["settings"] == blank and at.session_state["preset"] == "quick"
    run(at.segmented_control(key="train_preset").set_value("balanced"))  # and a preset keeps it
    assert at.session_state["start_from"] == "blank" and at.session_state["settings"].units == 64


def test_a_teachers_link_after_choosing_the_writer_starts_the_learner_from_it(workspace):
    from urllib.parse import parse_qsl, urlsplit

    from app_pages import use_sample
    from streamlit.testing.v1 import AppTest

    teacher = open_app()
    use_sample(teacher, "recipes")  # a sample the writer never read
    go(teacher, "train")
    run(teacher.segmented_control(key="train_start_from").set_value("writer"))
    teacher.number_input(key="settings_epochs").set_value(1)
    run(teacher.multiselect(key="lesson_hide").set_value(["start_from"]))
    url = next(c.value for c in teacher.code if "from=" in c.value)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["from"] == "writer" and query["h"] == "from" and query["lr"] == "0.0025"

    learner = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)  # another browser
    for key, value in query.items():
        learner.query_params[key] = value
    go(run(learner), "train")
    assert learner.session_state["start_from"] == "writer"
    assert "train_start_from" not in [w.key for w in learner.segmented_control]  # the lesson hides the control
    assert learner.select_slider(key="settings_units").disabled and contains(learner.caption, "shape is fixed")
    assert shape(learner.session_state["settings"]) == shape(classics().config)
    run(learner.button(key="train_start").click())
    wait_done(learner)
    (info,) = runs.list_runs(workspace)
    assert runs.read_meta(info.path)["from"]["run_id"] == writers.CLASSICS_WRITER
    assert info.config.learning_rate == writers.FINE_TUNE_LEARNING_RATE


def test_a_link_with_an_unknown_start_is_refused_in_words():
    from streamlit.testing.v1 import AppTest

    learner = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    learner.query_params["from"] = "<b>gpt</b>"
    run(learner)
    assert contains(learner.error, "This lesson link could not be opened: The lesson starts from '<b>gpt</b>'")
    assert learner.session_state["start_from"] == "blank"


def test_a_lesson_hiding_every_setting_says_its_trainings_start_from_the_writer():
    from streamlit.testing.v1 import AppTest

    learner = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in {"s": "recipes", "from": "writer", "h": "all", "ep": "1"}.items():
        learner.query_params[key] = value
    go(run(learner), "train")
    assert contains(learner.caption, "each training lasts 1 epoch, from the classics writer.")


def test_homes_sample_quick_start_is_the_blank_demo_even_after_choosing_the_writer(workspace):
    """Home promises Tiny Shakespeare learned by a fresh network (which the writer has read): a writer chosen
    earlier for one's own text does not carry over to it."""
    at = open_app()
    upload_text(at, RECIPES, "recipes.txt")
    run(go(at, "train").segmented_control(key="train_start_from").set_value("writer"))
    go(at, "home")
    run(at.button(key="home_quick_start").click())
    assert at.session_state["start_from"] == "blank" and at.session_state["settings"] == preset_settings("quick")
    run(at.button(key="train_stop").click())
    wait_done(at)
    (info,) = runs.list_runs(workspace)
    assert info.corpus_name == "Tiny Shakespeare" and "from" not in runs.read_meta(info.path)


def test_loading_a_run_sets_where_it_started_from(with_run):
    """Load puts a run's settings on the page: a blank network's stay free, a fine-tune's come back greyed."""
    at = open_app()
    upload_text(at, RECIPES, "recipes.txt")
    run(go(at, "train").segmented_control(key="train_start_from").set_value("writer"))
    run(at.button(key="runs_load").click())
    assert at.session_state["start_from"] == "blank" and not at.select_slider(key="settings_units").disabled
    runs.update_meta(with_run, **{writers.ORIGIN_KEY: {"name": "classics writer", "run_id": writers.CLASSICS_WRITER}})
    run(at.button(key="runs_load").click())
    assert at.session_state["start_from"] == "writer" and at.select_slider(key="settings_units").disabled
    assert at.segmented_control(key="train_start_from").value == "writer"
