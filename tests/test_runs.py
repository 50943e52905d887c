"""Runs on disk: listing, loading, renaming, deleting, damage, and atomic writes (archives: test_archives.py).

One small run is really trained once per module; tests that change a run work on a copy of it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.learning.training import TrainingJob
from charlab.network.model import ModelConfig
from charlab.saving import run_format, runs
from charlab.server import owners

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "sample_texts" / "fables.txt").read_text(encoding="utf-8")[:6000]
CFG = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=1)
CONTEXT = "The crow counted"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("trained")
    progress = TrainingJob(TEXT, CFG, name="fables", corpus_name="fables.txt", root=root).run()
    assert progress.status == "finished", progress.message
    return progress.run_path


@pytest.fixture(scope="module")
def reference_probabilities(trained) -> dict[str, float]:
    return runs.load_run(trained).generator().next_char_probabilities(CONTEXT)


@pytest.fixture
def workspace_dir(tmp_path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    return root


@pytest.fixture
def run_copy(trained, workspace_dir) -> Path:
    return _copy(trained, workspace_dir)


def _copy(source: Path, root: Path, folder: str | None = None, **meta_changes) -> Path:
    path = root / (folder or source.name)
    shutil.copytree(source, path)
    if meta_changes:
        _edit_meta(path, **meta_changes)
    return path


def _edit_meta(path: Path, **changes) -> None:
    file = path / "config.json"
    meta = json.loads(file.read_text(encoding="utf-8"))
    meta.update(changes)
    file.write_text(json.dumps(meta), encoding="utf-8")


def _meta(path: Path) -> dict:
    return json.loads((path / "config.json").read_text(encoding="utf-8"))


def _assert_same_probabilities(run_path: Path, reference: dict[str, float]) -> None:
    probs = runs.load_run(run_path).generator().next_char_probabilities(CONTEXT)
    assert list(probs) == list(reference)
    assert np.allclose(list(probs.values()), list(reference.values()), rtol=0, atol=1e-6)


# ---------------------------------------------------------------- a run as training left it


def test_trained_run_has_every_file_and_a_charlab_config(trained):
    for name in runs.RUN_FILES:
        assert (trained / name).is_file(), name
    meta = _meta(trained)
    assert meta["format"] == run_format.FORMAT and meta["format_version"] == run_format.VERSION
    assert meta["status"] == "finished"
    assert meta["vocab"] == sorted(set(TEXT))
    assert meta["corpus"] == {"name": "fables.txt", "sha256": meta["corpus"]["sha256"], "characters": len(TEXT)}
    assert ModelConfig.from_dict(meta["settings"]) == CFG
    assert not [p.name for p in trained.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_run_info_describes_the_run(trained):
    info = runs.run_info(trained)
    assert info.damaged is None
    assert info.name == "fables"
    assert info.status == "finished"
    assert info.run_id == trained.name
    assert info.corpus_name == "fables.txt"
    assert info.cleaning == "keep"
    assert info.config == CFG
    assert info.vocab_size == len(set(TEXT))
    assert info.metrics["epochs_done"] == 1
    assert isinstance(info.best_val_loss, float) and 0 < info.best_val_loss < np.log(len(set(TEXT))) + 1
    assert info.created and info.updated >= info.created


def test_load_run_gives_a_working_generator(trained):
    run = runs.load_run(trained)
    assert run.config == CFG and len(run.vocab) == len(set(TEXT))
    generator = run.generator()
    text = generator.write("The ", 80, temperature=0.8, random_seed=1)
    assert len(text) == 80 and set(text) <= set(TEXT)
    assert text == generator.write("The ", 80, temperature=0.8, random_seed=1)
    probs = generator.next_char_probabilities(CONTEXT)
    assert set(probs) == set(TEXT)
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-9)
    assert len(run.history()) == 1 and run.history()[0]["epoch"] == 1.0
    assert len(run.epoch_texts()) == 1 and run.epoch_texts()[0]["epoch"] == 1


def test_list_runs_newest_first(trained, workspace_dir):
    _copy(trained, workspace_dir, "b-middle", created="2024-05-02T10:00:00+00:00", name="middle")
    _copy(trained, workspace_dir, "c-oldest", created="2023-01-01T00:00:00+00:00", name="oldest")
    _copy(trained, workspace_dir, "a-newest", created="2025-12-31T23:59:59+00:00", name="newest")
    (workspace_dir / ".import-leftover").mkdir()  # hidden folders are never runs
    infos = runs.list_runs(workspace_dir)
    assert [info.name for info in infos] == ["newest", "middle", "oldest"]
    assert all(info.damaged is None and info.status == "finished" for info in infos)


def test_list_runs_of_an_empty_workspace(workspace_dir):
    assert runs.list_runs(workspace_dir) == []


# ---------------------------------------------------------------- rename, delete, find


@pytest.mark.parametrize("name", ["a/b", "../../etc/passwd", "..", "C:\\Windows", "  Poems, 2nd try: ünïcødé 🙂  "])
def test_rename_is_a_label_and_never_moves_the_folder(run_copy, workspace_dir, name):
    before = sorted(p.name for p in workspace_dir.parent.rglob("*"))
    runs.rename_run(run_copy, name)
    assert sorted(p.name for p in workspace_dir.parent.rglob("*")) == before
    assert runs.run_info(run_copy).name == name.strip()
    assert runs.load_run(run_copy).info.name == name.strip()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "Give the run a name"),
        ("   \n ", "Give the run a name"),
        ("x" * 81, "at most 80 characters"),
        ("two\nlines", "cannot contain tabs or line breaks"),
        ("tab\there", "cannot contain tabs or line breaks"),
        (None, "Give the run a name"),
    ],
)
def test_rename_refuses_bad_names(run_copy, name, words):
    before = (run_copy / "config.json").read_bytes()
    with pytest.raises(CharlabError) as err:
        runs.rename_run(run_copy, name)
    assert words in str(err.value)
    assert (run_copy / "config.json").read_bytes() == before


def test_rename_accepts_80_characters(run_copy):
    runs.rename_run(run_copy, "y" * 80)
    assert runs.run_info(run_copy).name == "y" * 80


def test_rename_of_a_deleted_run_is_refused(run_copy):
    shutil.rmtree(run_copy)
    with pytest.raises(CharlabError, match="no longer exists"):
        runs.rename_run(run_copy, "new name")
    assert not run_copy.exists()


def test_delete_removes_the_run_and_twice_is_harmless(run_copy, workspace_dir):
    runs.delete_run(run_copy)
    assert not run_copy.exists()
    assert list(workspace_dir.iterdir()) == []  # nothing half-deleted left behind
    assert runs.list_runs(workspace_dir) == []
    runs.delete_run(run_copy)  # e.g. from a second browser tab
    assert list(workspace_dir.iterdir()) == []


def test_delete_refuses_a_folder_that_is_not_a_run(workspace_dir):
    folder = workspace_dir / "my-documents"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work", encoding="utf-8")
    with pytest.raises(CharlabError) as err:
        runs.delete_run(folder)
    assert "'my-documents' does not look like a charlab run folder" in str(err.value)
    assert (folder / "thesis.txt").read_text(encoding="utf-8") == "years of work"


def test_delete_refuses_a_run_that_is_training(run_copy):
    runs.mark_active(run_copy, True)
    try:
        with pytest.raises(CharlabError, match="still training"):
            runs.delete_run(run_copy)
        assert (run_copy / "config.json").exists()
        assert runs.run_info(run_copy).status == "finished"  # the saved status, not a live one
    finally:
        runs.mark_active(run_copy, False)


def test_find_run_by_id_name_or_path(run_copy, workspace_dir):
    runs.rename_run(run_copy, "My sonnets")
    assert runs.find_run(run_copy.name, workspace_dir) == run_copy
    assert runs.find_run("My sonnets", workspace_dir) == run_copy
    assert runs.find_run(str(run_copy), workspace_dir) == run_copy
    assert runs.find_run(run_copy, workspace_dir.parent / "elsewhere") == run_copy  # a path needs no workspace


def test_find_run_explains_what_exists(run_copy, workspace_dir, tmp_path):
    with pytest.raises(CharlabError) as err:
        runs.find_run("sonnets", workspace_dir)
    message = str(err.value)
    assert "No run called 'sonnets'" in message and "'fables'" in message
    with pytest.raises(CharlabError) as err:
        runs.find_run("sonnets", tmp_path / "empty")
    assert "none yet" in str(err.value)


def test_workspace_argument_env_var_and_default(tmp_path, monkeypatch):
    monkeypatch.setenv("CHARLAB_HOME", str(tmp_path / "from-env"))
    assert runs.workspace(tmp_path / "given") == tmp_path / "given"
    assert (tmp_path / "given").is_dir()
    assert runs.workspace() == tmp_path / "from-env"
    assert (tmp_path / "from-env").is_dir()
    monkeypatch.delenv("CHARLAB_HOME")
    monkeypatch.chdir(tmp_path)
    assert runs.workspace() == Path("runs")
    assert (tmp_path / "runs").is_dir()
    monkeypatch.setenv("CHARLAB_HOME", "")  # set but empty: the default
    assert runs.workspace() == Path("runs")


def test_workspace_that_cannot_be_created_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(CharlabError) as err:
        runs.workspace(blocker / "runs")
    assert "Cannot create the runs folder" in str(err.value) and "a-file" in str(err.value)


# ---------------------------------------------------------------- damaged and interrupted runs


def test_damaged_runs_are_listed_with_a_reason_and_others_still_work(trained, workspace_dir, reference_probabilities):
    good = _copy(trained, workspace_dir, "good", name="good")
    no_model = _copy(trained, workspace_dir, "no-model", name="no model")
    (no_model / "model.keras").unlink()
    (no_model / "weights.npz").unlink()
    broken = _copy(trained, workspace_dir, "broken-json")
    (broken / "config.json").write_text('{"format": "charlab-run", "name": ', encoding="utf-8")
    foreign = _copy(trained, workspace_dir, "foreign")
    (foreign / "config.json").write_text(json.dumps({"name": "resnet", "layers": 50}), encoding="utf-8")
    bad_vocab = _copy(trained, workspace_dir, "bad-vocab", vocab="not a list")
    bad_types = _copy(trained, workspace_dir, "bad-types", corpus="fables.txt", metrics=[1, 2, 3])
    bad_settings = _copy(trained, workspace_dir, "bad-settings", settings={**CFG.to_dict(), "units": "many"})
    empty = workspace_dir / "empty-folder"
    empty.mkdir()

    infos = {info.run_id: info for info in runs.list_runs(workspace_dir)}
    assert set(infos) == {p.name for p in workspace_dir.iterdir()}
    assert infos["good"].damaged is None and infos["good"].status == "finished"
    reasons = {
        "no-model": "No model was saved",
        "broken-json": "damaged and cannot be read",
        "foreign": "not a charlab run description",
        "bad-vocab": "vocabulary",
        "bad-types": "config.json",
        "bad-settings": "Units must be a whole number",
        "empty-folder": "'config.json' is missing",
    }
    for run_id, words in reasons.items():
        assert infos[run_id].damaged and words in infos[run_id].damaged, (run_id, infos[run_id].damaged)

    for path in (no_model, broken, foreign, bad_vocab, bad_types, bad_settings, empty):
        with pytest.raises(CharlabError):
            runs.load_run(path)
    with pytest.raises(CharlabError, match="damaged: .*not a charlab run description"):
        runs.load_run(foreign)
    with pytest.raises(CharlabError, match="has no saved model"):
        runs.load_run(no_model)
    _assert_same_probabilities(good, reference_probabilities)


def test_run_without_weights_npz_loads_from_model_keras(run_copy, reference_probabilities):
    (run_copy / "weights.npz").unlink()
    assert runs.run_info(run_copy).damaged is None
    _assert_same_probabilities(run_copy, reference_probabilities)


def test_damaged_weights_are_refused(run_copy):
    (run_copy / "weights.npz").write_bytes(np.random.default_rng(0).bytes(3000))
    with pytest.raises(CharlabError, match=r"The run 'fables' is damaged: its weights \(weights.npz\) cannot be read"):
        runs.load_run(run_copy)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_weights_that_are_not_numbers_are_refused_in_words(run_copy, bad):
    with np.load(run_copy / "weights.npz") as data:
        weights = {name: data[name] for name in data.files}
    weights["logits.bias"][3] = bad
    np.savez(run_copy / "weights.npz", **weights)
    with pytest.raises(CharlabError, match="'logits.bias' holds values that are not numbers"):
        runs.load_run(run_copy)


def test_weights_that_do_not_fit_the_vocabulary_are_refused(run_copy):
    _edit_meta(run_copy, vocab=_meta(run_copy)["vocab"][:-1])  # one character fewer than the weights know
    with pytest.raises(CharlabError) as err:
        runs.load_run(run_copy)
    assert "damaged" in str(err.value) and "'embedding' has shape" in str(err.value)


def _finished_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_run_left_training_by_a_dead_process_is_interrupted_and_loads(run_copy, reference_probabilities):
    _edit_meta(run_copy, status="training", pid=_finished_pid(), heartbeat=time.time() - 3600)
    info = runs.list_runs(run_copy.parent)[0]
    assert info.status == "interrupted" and info.damaged is None
    _assert_same_probabilities(run_copy, reference_probabilities)


def test_training_status_needs_a_live_process_and_a_fresh_heartbeat(run_copy):
    _edit_meta(run_copy, status="training", pid=_finished_pid(), heartbeat=time.time())
    assert runs.run_info(run_copy).status == "interrupted"  # fresh heartbeat, dead process
    _edit_meta(run_copy, pid=os.getpid())
    assert runs.run_info(run_copy).status == "interrupted"  # this process is not training it
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _edit_meta(run_copy, pid=sleeper.pid, heartbeat=time.time())
        assert runs.run_info(run_copy).status == "training"  # e.g. the command line, in another process
        _edit_meta(run_copy, heartbeat=time.time() - 3600)
        assert runs.run_info(run_copy).status == "interrupted"  # alive but silent for an hour: stuck
    finally:
        sleeper.kill()
        sleeper.wait()
    runs.mark_active(run_copy, True)
    try:
        assert runs.run_info(run_copy).status == "training"
    finally:
        runs.mark_active(run_copy, False)


@pytest.mark.parametrize(
    ("saved", "shown"), [("stopped", "stopped"), ("diverged", "diverged"), ("exploded", "interrupted")]
)
def test_saved_statuses(run_copy, saved, shown):
    _edit_meta(run_copy, status=saved)
    assert runs.run_info(run_copy).status == shown


# ---------------------------------------------------------------- atomic writes


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("broken", ["replace", "fdopen", "fsync"])
def test_failed_json_write_keeps_the_previous_file(tmp_path, monkeypatch, broken):
    target = tmp_path / "config.json"
    runs.write_json_atomic(target, {"version": 1, "text": "Élodie 🙂"})
    before = target.read_bytes()
    monkeypatch.setattr(os, broken, _disk_full)
    with pytest.raises(CharlabError) as err:
        runs.write_json_atomic(target, {"version": 2})
    monkeypatch.undo()
    message = str(err.value)
    assert "Could not save 'config.json'" in message and "No space left on device" in message
    assert "previous version is kept" in message
    assert target.read_bytes() == before
    assert json.loads(before.decode("utf-8")) == {"version": 1, "text": "Élodie 🙂"}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # the temporary file is gone too


@pytest.mark.parametrize("broken", ["replace", "fdopen"])
def test_failed_history_write_keeps_the_previous_history(run_copy, monkeypatch, broken):
    before = (run_copy / "history.csv").read_bytes()
    rows = runs.read_history(run_copy)
    monkeypatch.setattr(os, broken, _disk_full)
    with pytest.raises(CharlabError, match="Could not save 'history.csv'"):
        runs.write_history(run_copy, rows + [{**rows[0], "epoch": 2, "loss": 0.5}])
    monkeypatch.undo()
    assert (run_copy / "history.csv").read_bytes() == before
    assert runs.read_history(run_copy) == rows
    assert not [p.name for p in run_copy.iterdir() if p.name.startswith(".")]


def test_history_round_trip(run_copy):
    rows = [
        {"epoch": 1, "loss": 2.5, "val_loss": 2.6, "seconds": 1.5, "chars_per_second": 1000},
        {"epoch": 2, "loss": 2.0, "val_loss": float("nan"), "seconds": 3.0, "chars_per_second": 1100, "extra": 1},
    ]
    runs.write_history(run_copy, rows)
    read = runs.read_history(run_copy)
    assert [r["epoch"] for r in read] == [1.0, 2.0] and read[1]["loss"] == 2.0
    assert np.isnan(read[1]["val_loss"]) and "extra" not in read[1]


def test_failed_rename_keeps_the_previous_config(run_copy, monkeypatch):
    before = (run_copy / "config.json").read_bytes()
    monkeypatch.setattr(os, "replace", _disk_full)
    with pytest.raises(CharlabError, match="previous version is kept"):
        runs.rename_run(run_copy, "new name")
    monkeypatch.undo()
    assert (run_copy / "config.json").read_bytes() == before
    assert runs.run_info(run_copy).name == "fables"


# ---------------------------------------------------------------- runs in owners' workspaces (charlab.server.owners)


def test_each_owner_lists_only_their_runs_and_the_teacher_lists_all(trained, tmp_path):
    ada, bob = owners.owner_workspace(tmp_path, "Ada"), owners.owner_workspace(tmp_path, "Bob")
    private = owners.owner_workspace(tmp_path)
    _copy(trained, ada, "ada-1", name="ada's first", created="2025-01-01T00:00:00+00:00")
    _copy(trained, ada, "ada-2", name="ada's second", created="2025-01-03T00:00:00+00:00")
    _copy(trained, bob, "bob-1", name="bob's", created="2025-01-02T00:00:00+00:00")
    _copy(trained, private, "p-1", name="secret", created="2025-01-04T00:00:00+00:00")
    _copy(trained, tmp_path, "cli-1", name="from the command line", created="2024-12-31T00:00:00+00:00")

    assert [info.name for info in runs.list_runs(ada)] == ["ada's second", "ada's first"]
    assert [info.name for info in runs.list_runs(bob)] == ["bob's"]
    assert [info.name for info in runs.list_runs(tmp_path)] == ["from the command line"]
    pairs = [(owner, info.name) for owner, info in owners.list_all_runs(tmp_path)]
    assert pairs == [
        (owners.owner_label(private), "secret"),
        ("Ada", "ada's second"),
        ("Bob", "bob's"),
        ("Ada", "ada's first"),
        ("", "from the command line"),
    ]
    assert all(info.damaged is None for _, info in owners.list_all_runs(tmp_path))
