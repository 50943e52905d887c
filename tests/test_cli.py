"""The command line: train, list, generate, and plain-words errors (exit code 2, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from charlab.cli import _with_preset, build_parser, main
from charlab.learning.presets import PRESETS, fit_to_text
from charlab.network import precision
from charlab.network.generation import GENERATE_SETTINGS
from charlab.saving import runs

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--units", "16", "--embedding-dim", "8", "--seq-length", "20", "--batch-size", "8", "--epochs", "2"]


@pytest.fixture
def text_file(tmp_path) -> Path:
    path = tmp_path / "cats.txt"
    path.write_text("The cat sat on the mat. The dog sat on the log.\n" * 50, encoding="utf-8")
    return path


def test_train_list_generate(tmp_path, text_file, capsys):
    ws = str(tmp_path / "ws")
    assert main(["--workspace", ws, "train", str(text_file), "--name", "cats", "--cleaning", "lowercase", *TINY]) == 0
    err = capsys.readouterr().err
    assert "100%" in err and "epoch 2/2" in err and "chars/s" in err
    assert "written after epoch 2" in err
    assert "Training finished." in err
    (info,) = runs.list_runs(ws)
    assert info.name == "cats" and info.status == "finished" and info.cleaning == "lowercase"
    assert info.config.units == 16 and info.config.epochs == 2

    assert main(["--workspace", ws, "runs"]) == 0
    assert "cats" in capsys.readouterr().out

    args = ["--workspace", ws, "generate", "cats", "--seed-text", "the É cat", "--length", "80", "--random-seed", "3"]
    assert main(args) == 0
    first = capsys.readouterr()
    assert first.out.startswith("the  cat")  # the unseen 'É' (lowercase training text) is left out…
    assert "never saw 'É'" in first.err  # …and the user is told
    assert len(first.out.rstrip("\n")) == len("the  cat") + 80
    assert main(args) == 0
    assert capsys.readouterr().out == first.out  # the same random seed writes the same text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "/nonexistent/file.txt"], "There is no file"),
        (["train", "sample:nope"], "nope"),
        (["train", "{text}", "--units", "0"], "Units must be between"),
        (["train", "{text}", "--seq-length", "5000"], "Sequence length must be between"),
        (["generate", "nothing-here"], "No run called 'nothing-here'"),
    ],
)
def test_errors_are_one_plain_sentence(tmp_path, text_file, capsys, argv, message):
    argv = [a.replace("{text}", str(text_file)) for a in argv]
    assert main(["--workspace", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_binary_file_is_refused(tmp_path, capsys):
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20)
    assert main(["--workspace", str(tmp_path), "train", str(binary)]) == 2
    assert "binary file" in capsys.readouterr().err


def test_module_entry_point_has_help():
    done = subprocess.run(
        [sys.executable, "-m", "charlab", "train", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0
    for option in ("--seq-length", "--units", "--layers", "--cell", "--epochs", "--learning-rate", "--continue"):
        assert option in done.stdout


def test_train_a_classic_with_no_network(tmp_path):
    """`python -m charlab train sample:tiny_shakespeare --epochs 1` on a machine that cannot reach the internet."""
    closed = "http://127.0.0.1:9"  # nothing listens on the discard port: any download would fail at once
    env = {**os.environ, "http_proxy": closed, "https_proxy": closed, "HTTP_PROXY": closed, "HTTPS_PROXY": closed,
           "no_proxy": "", "NO_PROXY": "", "CHARLAB_CACHE": str(tmp_path / "empty-cache")}  # fmt: skip
    small = ["--units", "16", "--embedding-dim", "8", "--seq-length", "50", "--batch-size", "256", "--epochs", "1"]
    command = [sys.executable, "-m", "charlab", "--workspace", str(tmp_path / "ws"), "train", "sample:tiny_shakespeare"]
    done = subprocess.run([*command, *small], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Training finished." in done.stderr
    (info,) = runs.list_runs(tmp_path / "ws")
    assert info.status == "finished" and info.corpus_name == "Tiny Shakespeare"
    assert not (tmp_path / "empty-cache").exists()


def test_train_by_the_clock(tmp_path, text_file, capsys):
    ws = str(tmp_path / "ws")
    small = ["--units", "16", "--embedding-dim", "8", "--seq-length", "20", "--batch-size", "8"]
    assert main(["--workspace", ws, "train", str(text_file), "--minutes", "0.05", *small]) == 0
    err = capsys.readouterr().err
    assert "Trained for 3 seconds, as planned." in err and "/10000" not in err
    (info,) = runs.list_runs(ws)
    assert info.status == "finished" and info.config.epochs == 10_000 and info.metrics["epochs_done"] >= 1
    assert main(["--workspace", ws, "train", str(text_file), "--minutes", "0", *small]) == 2
    assert "time budget must be a number of seconds above 0" in capsys.readouterr().err


def test_a_cleaning_that_blanks_the_text_is_said_before_training(tmp_path, capsys):
    sums = tmp_path / "sums.txt"
    sums.write_text("12+34=46\n7+8=15\n" * 100, encoding="utf-8")
    assert main(["--workspace", str(tmp_path / "ws"), "train", str(sums), "--cleaning", "letters_only", *TINY]) == 2
    err = capsys.readouterr().err
    assert "warning: The 'Letters only' cleaning turns 1,400 of the text's 1,400 visible characters" in err
    assert err.rstrip().splitlines()[-1].startswith("error: ")  # then the training is refused in plain words


def test_precision_is_a_flag_and_the_run_says_what_it_trained_in(tmp_path, text_file, capsys, monkeypatch):
    monkeypatch.setenv("CHARLAB_BFLOAT16", "0")  # a computer without a bfloat16 unit: bfloat16 falls back
    monkeypatch.setattr(precision, "has_gpu", lambda: False)
    ws = str(tmp_path / "ws")
    assert main(["--workspace", ws, "train", str(text_file), "--precision", "bfloat16", *TINY]) == 0
    assert "precision: float32: bfloat16 was chosen, but this computer has no bfloat16 unit" in capsys.readouterr().err
    (info,) = runs.list_runs(ws)
    assert info.config.precision == "bfloat16" and info.metrics["precision"] == "float32"
    with pytest.raises(SystemExit):
        main(["--workspace", ws, "train", str(text_file), "--precision", "float16"])
    assert "invalid choice: 'float16'" in capsys.readouterr().err


def writer_named_aesop(tmp_path, text_file) -> str:
    """A workspace holding a tiny run named 'aesop', to start from."""
    ws = str(tmp_path / "ws")
    assert main(["--workspace", ws, "train", str(text_file), "--name", "aesop", *TINY]) == 0
    return ws


def test_train_from_a_writer_keeps_its_shape_and_records_it(tmp_path, text_file, capsys):
    """--from RUN: a new run with the writer's shape, fine-tuning's smaller step and the writer named in it."""
    from charlab.learning import writers
    from charlab.network.model import ModelConfig, count_parameters

    ws = writer_named_aesop(tmp_path, text_file)
    student = tmp_path / "student.txt"
    student.write_text("Le café est très bon, n’est-ce pas? The cat sat on the mat.\n" * 30, encoding="utf-8")
    capsys.readouterr()
    args = ["--workspace", ws, "train", str(student), "--name", "student", "--from", "aesop", "--units", "32"]
    assert main([*args, "--epochs", "1", "--seq-length", "20", "--batch-size", "8"]) == 0
    err = capsys.readouterr().err
    assert "cannot change" in err and f"learning rate {writers.FINE_TUNE_LEARNING_RATE:g}" in err
    # the estimate counts the grown vocabulary: the writer's characters and the new é, è, ’, ?, -
    grown = len(writers.grown_vocab(runs.load_run(runs.find_run("aesop", ws)).vocab, student.read_text("utf-8")))
    assert f"{count_parameters(ModelConfig(units=16, embedding_dim=8), grown):,} parameters" in err
    student_run = runs.load_run(runs.find_run("student", ws))
    assert student_run.config.units == 16 and student_run.config.embedding_dim == 8
    assert student_run.config.learning_rate == writers.FINE_TUNE_LEARNING_RATE
    assert student_run.meta["from"]["name"] == "aesop" and "é" in student_run.meta["from"]["new_characters"]
    assert "é" in student_run.vocab and "’" in student_run.vocab


def test_train_from_a_writer_warns_of_a_text_in_another_script(tmp_path, text_file, capsys):
    ws = writer_named_aesop(tmp_path, text_file)
    greek = tmp_path / "greek.txt"
    greek.write_text("Μῆνιν ἄειδε θεὰ Πηληϊάδεω Ἀχιλῆος οὐλομένην.\n" * 40, encoding="utf-8")
    capsys.readouterr()
    args = ["--workspace", ws, "train", str(greek), "--from", "aesop", "--epochs", "1", "--seq-length", "20"]
    assert main(args) == 0
    assert "blank network" in capsys.readouterr().err


def test_train_from_the_writer_warns_with_its_measured_start_on_a_german_text(tmp_path, monkeypatch, capsys):
    """German looks like English letters, but the writer's first guesses on it are worse than its letter
    frequencies: the warning says so with the measured numbers (the user may still train from it)."""
    from charlab import cli
    from charlab.errors import CharlabError
    from charlab.learning import writers

    def planned_job(*args, **kwargs):
        raise CharlabError("planned, not trained")

    monkeypatch.setattr(cli, "TrainingJob", planned_job)
    german = Path(__file__).parent / "data" / "languages" / "deutsch.txt"
    assert main(["--workspace", str(tmp_path / "ws"), "train", str(german), "--from", "writer"]) == 2
    text = german.read_text(encoding="utf-8")
    head = writers.writer_head_start(runs.load_run(writers.find_writer("writer")), text)
    err = capsys.readouterr().err
    assert f"warning: {writers.writer_advice(text, runs.load_run(writers.find_writer('writer')))}" in err
    assert f"({head.writer_loss:.2f} against {head.letters_only:.2f} nats per character)" in err


def test_train_cannot_both_continue_and_start_from_a_writer(tmp_path, text_file, capsys):
    ws = writer_named_aesop(tmp_path, text_file)
    capsys.readouterr()
    assert main(["--workspace", ws, "train", str(text_file), "--from", "aesop", "--continue", "writer"]) == 2
    assert "not both" in capsys.readouterr().err


def test_generate_flags_come_from_the_settings_table(capsys):
    """Each generation setting is a flag whose default and help are the table's (GENERATE_SETTINGS)."""
    args = build_parser().parse_args(["generate", "some-run"])
    for name, setting in GENERATE_SETTINGS.items():
        expected = None if name == "random_seed" else setting.default  # no seed: a new text each time
        assert getattr(args, name) == expected
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for setting in GENERATE_SETTINGS.values():
        assert "--" + setting.name.replace("_", "-") in shown and " ".join(setting.help.split()) in shown
    assert "(a number above 0; default 0.8)" in shown and "(a whole number from 0 to 1,000,000; default 500)" in shown


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--temperature", "0"], "error: Temperature must be a number above 0, not 0.0."),
        (["--length", "-5"], "error: Length (characters) must be a whole number from 0 to 1,000,000; -5 is out"),
        (["--top-k", "-1"], "error: Top-k (0 = all) must be a whole number, 0 or more; -1 is out of range."),
        (["--random-seed", "-2"], "error: Random seed must be a whole number, 0 or more; -2 is out of range."),
    ],
)
def test_a_bad_generate_setting_is_refused_in_words(tmp_path, capsys, flags, message):
    """Refused before the run is even looked for: the run named here does not exist."""
    assert main(["--workspace", str(tmp_path), "generate", "no-such-run", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err


def test_top_k_zero_writes_with_every_character(tmp_path, text_file, capsys):
    """0 means every character, as on the Generate page (the command line used to refuse it)."""
    ws = str(tmp_path / "ws")
    assert main(["--workspace", ws, "train", str(text_file), "--name", "cats", *TINY]) == 0
    capsys.readouterr()
    common = ["--workspace", ws, "generate", "cats", "--length", "40", "--random-seed", "5"]
    assert main([*common, "--top-k", "0"]) == 0
    every = capsys.readouterr().out
    assert main(common) == 0
    assert capsys.readouterr().out == every and len(every.rstrip("\n")) == 40


def test_a_preset_trains_its_recipe_fitted_to_the_text_and_a_flag_wins(tmp_path, text_file, capsys):
    """--preset quick on a 2,450-character text: the app's fit (GRU 32, dropout 30%, a smaller batch); --units and
    --epochs given as flags win over the preset's."""
    ws = str(tmp_path / "ws")
    small = ["--units", "16", "--embedding-dim", "8", "--seq-length", "20", "--epochs", "1"]
    assert main(["--workspace", ws, "train", str(text_file), "--preset", "quick", *small]) == 0
    assert "preset quick, fitted to this small text: gru 16, 1 minute" in capsys.readouterr().err
    (info,) = runs.list_runs(ws)
    _, seconds, preset = PRESETS["quick"]
    fitted = fit_to_text(preset, seconds, len(text_file.read_text(encoding="utf-8")))
    assert fitted.fitted and fitted.config.units == 32
    assert info.config == replace(fitted.config, units=16, embedding_dim=8, seq_length=20, epochs=1)
    assert info.config.dropout == 0.3 and info.config.cell == "gru"


def test_a_preset_on_a_big_text_is_the_preset_itself():
    """By the clock as the app trains it: the epochs only cap it at the most a training may have."""
    from charlab.network.model import MAX_EPOCHS

    _, seconds, preset = PRESETS["balanced"]
    config, minutes = _with_preset("balanced", 1_000_000, {"learning_rate": 1e-3}, None)
    assert config == replace(preset, learning_rate=1e-3, epochs=MAX_EPOCHS) and minutes == seconds / 60 == 5
    assert _with_preset("best", 1_000_000, {}, 2.5)[1] == 2.5  # --minutes given wins over the preset's 20


def test_train_from_the_writer_on_a_small_text_trains_the_apps_fitted_minute(tmp_path, text_file, monkeypatch, capsys):
    """--from writer with no length given: the Quick preset fitted to the small text as the app fits it (its
    minute, small batch and dropout; the writer's shape, fine-tuning's rate), by the clock with the early stop, not
    the preset's 20 passes; a length given wins."""
    from charlab import cli
    from charlab.errors import CharlabError
    from charlab.learning import writers
    from charlab.network.model import MAX_EPOCHS, ModelConfig

    started: list[dict] = []

    def planned_job(text, config, **kwargs):
        started.append({"config": config, **kwargs})
        raise CharlabError("planned, not trained")

    monkeypatch.setattr(cli, "TrainingJob", planned_job)
    ws = str(tmp_path / "ws")
    assert main(["--workspace", ws, "train", str(text_file), "--from", "writer"]) == 2
    (job,) = started
    writer = runs.load_run(writers.find_writer("writer")).config
    _, seconds, recipe = PRESETS["quick"]
    n_chars = len(text_file.read_text(encoding="utf-8"))
    fit = writers.fine_tune_fit(recipe, seconds, n_chars, writer)
    assert fit.fitted and job["budget_seconds"] == fit.seconds == 60.0
    config = job["config"]
    assert (config.cell, config.units, config.embedding_dim) == (writer.cell, writer.units, writer.embedding_dim)
    assert config.batch_size == fit_to_text(recipe, seconds, n_chars).config.batch_size < recipe.batch_size
    assert config.dropout == 0.3 and config.learning_rate == writers.FINE_TUNE_LEARNING_RATE
    assert config.epochs == MAX_EPOCHS  # the clock and the early stop end it
    err = capsys.readouterr().err
    assert "fitted to this small text" in err and "Use fewer units" not in err  # the writer's size is fixed
    assert main(["--workspace", ws, "train", str(text_file), "--from", "writer", "--minutes", "0.5"]) == 2
    assert started[-1]["budget_seconds"] == 30.0 and started[-1]["config"].batch_size == ModelConfig().batch_size
