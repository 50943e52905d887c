"""The command line: train, list, generate, and plain-words errors (exit code 2, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from charlab import precision, runs
from charlab.cli import main

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
    assert info.status == "finished" and info.config.epochs == 10_000 and info.figures["epochs_done"] >= 1
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
    assert info.config.precision == "bfloat16" and info.figures["precision"] == "float32"
    with pytest.raises(SystemExit):
        main(["--workspace", ws, "train", str(text_file), "--precision", "float16"])
    assert "invalid choice: 'float16'" in capsys.readouterr().err


def test_train_from_a_writer_keeps_its_shape_and_records_it(tmp_path, text_file, capsys):
    """--from RUN: a new run with the writer's shape, fine-tuning's smaller step and the writer named in it."""
    from charlab import writers
    from charlab.model import ModelConfig, count_parameters

    ws = str(tmp_path / "ws")
    assert main(["--workspace", ws, "train", str(text_file), "--name", "aesop", *TINY]) == 0
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
    ws = str(tmp_path / "ws")
    assert main(["--workspace", ws, "train", str(text_file), "--name", "aesop", *TINY]) == 0
    greek = tmp_path / "greek.txt"
    greek.write_text("Μῆνιν ἄειδε θεὰ Πηληϊάδεω Ἀχιλῆος οὐλομένην.\n" * 40, encoding="utf-8")
    capsys.readouterr()
    args = ["--workspace", ws, "train", str(greek), "--from", "aesop", "--epochs", "1", "--seq-length", "20"]
    assert main(args) == 0
    assert "blank network" in capsys.readouterr().err


def test_train_cannot_both_continue_and_start_from_a_writer(tmp_path, text_file, capsys):
    ws = str(tmp_path / "ws")
    assert main(["--workspace", ws, "train", str(text_file), "--name", "aesop", *TINY]) == 0
    capsys.readouterr()
    assert main(["--workspace", ws, "train", str(text_file), "--from", "aesop", "--continue", "writer"]) == 2
    assert "not both" in capsys.readouterr().err
