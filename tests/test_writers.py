"""Starting from a writer: a small text fine-tuned from a network that already learned another text (issue 20)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.learning import writers
from charlab.learning.training import FINISHED, TrainingJob
from charlab.network.model import ModelConfig
from charlab.saving import archives, runs, webpage, weights
from charlab.text import samples
from charlab.text.vocab import Vocab

WRITER_CONFIG = ModelConfig(units=48, embedding_dim=16, seq_length=32, batch_size=32, epochs=4, learning_rate=0.01)
NEW_CHARACTERS = "éß’🙂"


@pytest.fixture(scope="module")
def writer(tmp_path_factory):
    """A tiny writer: a few epochs on the fables written for charlab (English, about 15,000 characters)."""
    root = tmp_path_factory.mktemp("writers")
    progress = TrainingJob(samples.load_sample("fables"), WRITER_CONFIG, name="tiny writer", root=root).run()
    assert progress.status == FINISHED, progress.message
    return progress.run_path


@pytest.fixture(scope="module")
def student_text() -> str:
    """4,000 characters of another text the writer never read: the limericks."""
    return samples.load_sample("limericks")[:4000]


def fine_tune(writer_path, text, root, **changes):
    config = ModelConfig(seq_length=32, batch_size=16, epochs=3, learning_rate=writers.FINE_TUNE_LEARNING_RATE)
    config = ModelConfig(**{**config.to_dict(), **changes})
    return TrainingJob(text, config, name="fine-tuned", root=root, start_from=writer_path).run()


def test_fine_tuning_lowers_the_validation_loss_below_the_writers_start(writer, student_text, tmp_path):
    progress = fine_tune(writer, student_text, tmp_path, epochs=10)
    assert progress.status == FINISHED, progress.message
    origin = progress.start_from
    assert origin["name"] == "tiny writer"
    unseen = set(student_text) - set(runs.load_run(writer).vocab.chars)  # the limericks have '!', '?', 'J'
    assert unseen and origin["new_characters"] == sorted(unseen)
    assert math.isfinite(origin["val_loss"])
    assert progress.best_val_loss < origin["val_loss"] - 0.05
    run = runs.load_run(progress.run_path)
    assert run.config.units == WRITER_CONFIG.units and run.config.embedding_dim == WRITER_CONFIG.embedding_dim
    assert run.config.batch_size == 16  # the training settings are the fine-tune's own
    assert run.meta[writers.ORIGIN_KEY] == origin
    # the writer itself is left as it was: a fine-tune writes a new run
    assert progress.run_path != writer and runs.run_info(writer).status == FINISHED


def test_the_writers_start_is_its_own_loss_on_the_new_text(writer, student_text, tmp_path):
    """Before its first step the fine-tune is the writer: the recorded loss is far below guessing at random,
    and a blank network of the same shape starts near ln V."""
    progress = fine_tune(writer, student_text, tmp_path, epochs=1)
    blank = TrainingJob(student_text, ModelConfig(**{**WRITER_CONFIG.to_dict(), "epochs": 1}), root=tmp_path).run()
    assert progress.start_from["val_loss"] < math.log(progress.vocab_size) - 0.5
    assert progress.start_from["val_loss"] < blank.initial_loss - 0.5


def test_a_text_with_new_characters_trains_and_can_write_every_character(writer, student_text, tmp_path):
    text = (student_text[:1500] + f" Café, Straße, it’s fine {NEW_CHARACTERS[-1]}\n") * 2
    progress = fine_tune(writer, text, tmp_path, epochs=2)
    assert progress.status == FINISHED, progress.message
    assert set(NEW_CHARACTERS) <= set(progress.start_from["new_characters"])
    run = runs.load_run(progress.run_path)
    assert all(ch in run.vocab for ch in set(text))
    probabilities = run.generator().next_char_probabilities("Caf")
    assert all(math.isfinite(p) and p > 0 for p in probabilities.values())
    assert set(NEW_CHARACTERS) <= set(probabilities)
    written = run.generator().write("Caf", 50, temperature=0.8, random_seed=1)
    assert written and all(ch in run.vocab for ch in written)


def test_grown_weights_keep_what_the_writer_knew_and_predict_new_characters_rarely():
    config = ModelConfig(units=4, embedding_dim=3)
    old = Vocab(["a", "b", "c"])
    rng = np.random.default_rng(0)
    weights = {
        "embedding": rng.normal(size=(3, 3)).astype(np.float32),
        "logits.kernel": rng.normal(size=(4, 3)).astype(np.float32),
        "logits.bias": np.array([0.5, -1.0, 2.0], dtype=np.float32),
        "rnn_0.kernel": rng.normal(size=(3, 12)).astype(np.float32),
    }
    new = writers.grown_vocab(old, "abé c")
    assert new.chars == (" ", "a", "b", "c", "é")
    grown = writers.grow_weights(weights, config, old, new, seed=3)
    for ch in "abc":
        assert np.array_equal(grown["embedding"][new.id_of(ch)], weights["embedding"][old.id_of(ch)])
        assert np.array_equal(grown["logits.kernel"][:, new.id_of(ch)], weights["logits.kernel"][:, old.id_of(ch)])
    assert np.array_equal(grown["rnn_0.kernel"], weights["rnn_0.kernel"])
    assert all(array.dtype == np.float32 for array in grown.values())
    new_rows = [new.id_of(" "), new.id_of("é")]
    assert np.abs(grown["embedding"][new_rows]).max() < 0.1 and np.abs(grown["embedding"][new_rows]).max() > 0
    bias = grown["logits.bias"].astype(np.float64)
    shares = np.exp(bias) / np.exp(bias).sum()
    assert shares[new_rows] == pytest.approx([writers.NEW_CHARACTER_PRIOR] * 2, rel=0.01)
    # seeded: the same start every time
    again = writers.grow_weights(weights, config, old, new, seed=3)
    assert np.array_equal(again["embedding"], grown["embedding"])


def test_the_origin_survives_save_reload_continue_export_and_import(writer, student_text, tmp_path):
    progress = fine_tune(writer, student_text, tmp_path / "first", epochs=1)
    origin = runs.read_meta(progress.run_path)[writers.ORIGIN_KEY]
    assert origin["name"] == "tiny writer"
    continued = TrainingJob(
        student_text, runs.load_run(progress.run_path).config, root=tmp_path, resume_from=progress.run_path
    ).run()
    assert continued.status == FINISHED, continued.message
    assert runs.read_meta(progress.run_path)[writers.ORIGIN_KEY] == origin
    imported = archives.import_zip(archives.export_zip(progress.run_path), root=tmp_path / "imported")
    assert runs.load_run(imported.path).meta[writers.ORIGIN_KEY] == origin
    assert "fine-tuned from tiny writer" in webpage.export_html(imported.path)
    data = webpage.page_data(runs.load_run(imported.path))
    assert data["start_from"] == "tiny writer"
    assert "fine-tuned from tiny writer" in data["facts"]


def test_a_training_cannot_both_continue_and_start_from_a_writer(writer, student_text, tmp_path):
    with pytest.raises(CharlabError, match="not both"):
        TrainingJob(student_text, WRITER_CONFIG, root=tmp_path, resume_from=writer, start_from=writer)


def test_find_writer_names_the_shipped_writer_or_a_run(writer, tmp_path, monkeypatch):
    assert writers.find_writer(runs.run_info(writer).run_id, writer.parent) == writer
    monkeypatch.setattr(writers, "SHIPPED_WRITERS_DIR", tmp_path / "nowhere")
    with pytest.raises(CharlabError, match="no classics writer"):
        writers.find_writer("writer")


LANGUAGES = Path(__file__).parent / "data" / "languages"
GERMAN = (LANGUAGES / "deutsch.txt").read_text(encoding="utf-8")  # a 3 KB story: ä ö ü ß are 3 % of its letters
LYRICS = (LANGUAGES / "lyrics.txt").read_text(encoding="utf-8")  # 3.9 KB of English song lyrics


@pytest.fixture(scope="module")
def classics() -> runs.Run:
    """The shipped classics writer (it knows English)."""
    return runs.load_run(writers.find_writer("writer"))


@pytest.mark.parametrize(
    "text",
    [
        "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
        "Μῆνιν ἄειδε θεὰ Πηληϊάδεω Ἀχιλῆος οὐλομένην, ἣ μυρί᾽ Ἀχαιοῖς ἄλγε᾽ ἔθηκε.",
        "Мой дядя самых честных правил, когда не в шутку занемог, он уважать себя заставил.",
    ],
)
def test_a_text_mostly_in_another_script_gets_a_blank_network_recommended(text, classics):
    advice = writers.writer_advice(text, classics)
    assert advice is not None and "blank network" in advice and "\n" not in advice


def test_an_english_text_with_a_few_new_letters_is_fine_for_the_writer(classics):
    text = LYRICS[:2000] + "Café au lait at the Straße, it’s fine — naïve but fine. 🙂\n" + LYRICS[2000:]
    assert writers.unseen_letter_share(text, classics.vocab) > 0
    assert writers.writer_advice(text, classics) is None
    assert writers.writer_advice("12345 ... !!!", classics) is None  # no letters at all: nothing to say


def test_a_german_text_gets_the_measured_advice_and_starts_blank(classics):
    """Its letters look familiar (ä ö ü ß are a few %), but the writer knows English: its first guesses on German
    are worse than knowing only how often each letter appears, and the line says so with the measured numbers."""
    assert writers.unseen_letter_share(GERMAN, classics.vocab) < writers.MOSTLY_UNSEEN_SHARE
    head = writers.writer_head_start(classics, GERMAN)
    assert head.writer_loss > head.letters_only and not head.clear
    advice = writers.writer_advice(GERMAN, classics)
    assert advice == (
        "The writer knows English: on this text its first guesses are worse than knowing only how often each "
        f"letter appears ({head.writer_loss:.2f} against {head.letters_only:.2f} nats per character), so start "
        "from a blank network."
    )
    assert not writers.writer_by_default(GERMAN, classics)


def test_an_english_small_text_keeps_the_writer_by_default(classics):
    head = writers.writer_head_start(classics, LYRICS)
    assert head.nats > writers.CLEAR_HEAD_START and head.clear
    assert writers.writer_advice(LYRICS, classics) is None and writers.writer_by_default(LYRICS, classics)


def test_a_writer_only_a_little_better_than_letters_only_is_not_the_default(classics, monkeypatch):
    """Between worse and clearly better, the line says the writer is hardly better (with its numbers)."""
    head = writers.writer_head_start(classics, LYRICS)
    monkeypatch.setattr(writers, "CLEAR_HEAD_START", head.nats + 0.1)
    advice = writers.writer_advice(LYRICS, classics)
    assert advice is not None and "hardly better than knowing only how often each letter appears" in advice
    assert f"({head.writer_loss:.2f} against {head.letters_only:.2f} nats per character)" in advice
    assert not writers.writer_by_default(LYRICS, classics)
    assert writers.writer_by_default(LYRICS, classics, advise=lambda text: None)  # an advice the caller kept


def test_the_head_start_is_the_writers_loss_on_the_characters_it_knows(classics):
    """On a short text (one piece): the writer's loss, step by step from a fresh state after the context, on every
    next character it knows (a new one, here é, is left out), beside letter frequencies on the same characters."""
    from charlab.network.sampling import NumpyCharModel
    from charlab.text.baselines import unigram_loss

    run = classics
    text = LYRICS[:400] + "The fox saw the crow, and the café was closed.\n" + LYRICS[400:800]
    head = writers.writer_head_start(run, text)
    start = writers.prepare_start(run.path, text)
    network = NumpyCharModel.from_config(start.config, start.weights)
    state, losses, scored = network.initial_state(), [], []
    context = writers.SAMPLE_CONTEXT  # fed first, not scored
    for i in range(len(text) - 1):
        logits, state = network.step(start.vocab.id_of(text[i]), state)
        if i >= context and text[i + 1] in run.vocab:
            log_p = logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())
            losses.append(-log_p[start.vocab.id_of(text[i + 1])])
            scored.append(i + 1)
    own = Vocab.from_text(text)
    assert head.scored == len(scored) < len(text) - 1 - context  # the é was not scored
    assert head.writer_loss == pytest.approx(float(np.mean(losses)), abs=1e-4)
    ids = own.encode(text)
    assert head.letters_only == pytest.approx(unigram_loss(ids, ids[scored], len(own)))
    short = LYRICS[: writers.MIN_SCORED]  # less its context: too few characters scored to say
    assert writers.writer_head_start(run, short) is None and writers.writer_advice(short, run) is None


def test_the_head_start_samples_spread_pieces_of_a_long_text_and_a_short_one_whole():
    pieces = writers.sample_pieces(100_000)
    assert len(pieces) == writers.SAMPLE_PIECES and pieces[0] == (0, writers.SAMPLE_PIECE_LENGTH)
    assert pieces[-1] == (100_000 - writers.SAMPLE_PIECE_LENGTH, 100_000)
    assert all(end - begin == writers.SAMPLE_PIECE_LENGTH for begin, end in pieces)
    assert writers.sample_pieces(1_500) == [(0, 1_500)]


def test_the_shipped_writer_is_checked_like_an_uploaded_run_and_starts_a_fine_tune(tmp_path):
    """The classics writer in the repository: its arrays read against its settings (never unpickled), small
    enough to ship, a run that exports and imports, and a start far below guessing on a text it never read."""
    path = writers.find_writer("writer")
    meta = runs.read_meta(path)
    config, vocab = ModelConfig.from_dict(meta["settings"]), Vocab.from_json(meta["vocab"])
    weights.read_npz(path / "weights.npz", config, len(vocab), "The classics writer")
    assert sum(f.stat().st_size for f in path.iterdir()) <= 3_000_000
    assert not (path / "model.keras").exists() and runs.fresh_optimizer(path)  # no Keras file is ever opened
    writer_run = runs.load_run(path)
    assert writer_run.info.status == FINISHED and writer_run.info.best_val_loss < 2.0
    assert (path / "sample.txt").read_text(encoding="utf-8").strip()
    assert archives.import_zip(archives.export_zip(path), root=tmp_path / "imported").name == "classics writer"
    recipe = samples.load_sample("recipes")[:3000] + "Crème brûlée 🙂\n"  # charlab's recipes: not in its texts
    progress = TrainingJob(recipe, ModelConfig(epochs=1, seq_length=32), root=tmp_path, start_from=path).run()
    assert progress.status == FINISHED, progress.message
    assert progress.start_from["name"] == "classics writer"
    assert progress.start_from["val_loss"] < math.log(progress.vocab_size) - 1.0


def test_a_fine_tune_trains_in_a_child_process_as_the_app_runs_it(writer, student_text, tmp_path):
    """The app trains in a child process (charlab.server.workers): the writer's start reaches it and comes back."""
    from charlab.server.workers import ProcessTrainingJob

    config = ModelConfig(seq_length=32, batch_size=16, epochs=1)
    progress = ProcessTrainingJob(student_text, config, name="in a child", root=tmp_path, start_from=writer).run()
    assert progress.status == FINISHED, progress.message
    assert progress.start_from["name"] == "tiny writer"
    assert runs.read_meta(progress.run_path)[writers.ORIGIN_KEY] == progress.start_from


def test_the_loss_chart_starts_a_fine_tunes_validation_curve_at_its_writers_loss(writer, student_text, tmp_path):
    """The chart's mark of where the writer started: the validation curve's point at epoch 0, from a saved run too."""
    from ui.charts import loss_chart, loss_table

    progress = fine_tune(writer, student_text, tmp_path, epochs=2)
    run = runs.load_run(progress.run_path)
    start = run.info.writer_start_loss
    assert start == pytest.approx(progress.start_from["val_loss"])
    table = loss_table(run.history(), [], 0, len(run.history()), writer_start=start)
    validation = table[table["series"] == "Validation (each epoch)"].sort_values("epoch")
    assert validation["epoch"].iloc[0] == 0.0 and validation["loss"].iloc[0] == pytest.approx(start)
    assert len(validation) == 1 + len(run.history())
    spec = loss_chart(table, len(run.vocab), "loss")
    assert spec["datasets"]["losses"]["x"].min() == 0.0  # the chart draws it, from epoch 0
    blank, garbled = (runs.RunInfo(run.path, "x", "finished", origin=o) for o in ({}, {"val_loss": "1.2"}))
    assert blank.writer_start_loss is None and garbled.writer_start_loss is None and blank.writer_name is None
    blank = loss_table(run.history(), [], 0, len(run.history()))
    assert 0.0 not in blank[blank["series"] == "Validation (each epoch)"]["epoch"].tolist()


def test_a_small_english_text_starts_from_the_writer_by_default_a_chinese_or_big_one_blank(classics):
    english = samples.load_sample("limericks")[:4000]
    assert writers.writer_by_default(english, classics)
    assert not writers.writer_by_default("春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。" * 100, classics)
    big = english * (writers.WRITER_DEFAULT_MAX_CHARS // len(english) + 1)
    assert not writers.writer_by_default(big, classics)
    assert not writers.writer_by_default("", classics)


def test_a_fine_tunes_fit_is_the_blank_fit_with_the_writers_shape_and_rate():
    writer = ModelConfig(cell="gru", units=256, layers=1, embedding_dim=32)
    preset = ModelConfig(cell="gru", units=384, embedding_dim=64, batch_size=64, epochs=20)
    blank = writers.fit_to_text(preset, 300.0, 4_000)
    fit = writers.fine_tune_fit(preset, 300.0, 4_000, writer)
    assert fit.fitted and fit.seconds == blank.seconds < 300.0
    assert (fit.config.units, fit.config.embedding_dim) == (256, 32) and blank.config.units < 256
    assert (fit.config.batch_size, fit.config.dropout) == (blank.config.batch_size, blank.config.dropout)
    assert fit.config.learning_rate == writers.FINE_TUNE_LEARNING_RATE


def test_the_loss_chart_labels_the_writers_start_in_the_charts_unit_beside_the_reference_lines():
    import json

    from ui.charts import loss_chart, loss_table

    history = [{"epoch": 1.0, "loss": 1.9, "val_loss": 1.8}, {"epoch": 2.0, "loss": 1.6, "val_loss": 1.7}]
    frame = loss_table(history, [], 0, 2, writer_start=2.41)
    spec = loss_chart(frame, 80, "bits", writer_start=2.41)
    (point,) = spec["datasets"]["writer"].to_dict("records")
    assert point["x"] == 0.0 and point["value"] == pytest.approx(2.41 / math.log(2))
    assert point["label"] == f"the writer's start: {2.41 / math.log(2):.2f}"
    marks = [layer.get("mark", {}) for layer in spec["layer"]]
    assert {"type": "point", "shape": "diamond"}.items() <= next(m for m in marks if m.get("shape")).items()
    assert json.dumps(spec["datasets"]["references"]["reference"].tolist()) == '["uniform"]'  # still drawn
    blank = loss_chart(loss_table(history, [], 0, 2), 80, "bits")
    assert "writer" not in blank["datasets"] and not any(m.get("shape") == "diamond" for m in map(dict, (
        layer.get("mark", {}) for layer in blank["layer"])))  # fmt: skip
