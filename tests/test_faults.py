"""Faults a classroom server meets, each with a test: nothing crashes, nothing saved is lost.

A run folder damaged by hand, a server killed mid-training, a full disk while saving, and two
sessions renaming or deleting the same run at once.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.learning import training
from charlab.learning.training import FAILED, FINISHED, TrainingJob
from charlab.network.model import ModelConfig
from charlab.saving import run_format, runs

ROOT = Path(__file__).resolve().parents[1]
FABLES = ROOT / "sample_texts" / "fables.txt"
TEXT = FABLES.read_text(encoding="utf-8")[:4000]
TINY = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=1)
TIMEOUT = 120


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    progress = TrainingJob(TEXT, TINY, name="fables", root=tmp_path_factory.mktemp("trained")).run()
    assert progress.status == FINISHED, progress.message
    return progress.run_path


@pytest.fixture
def run_copy(trained, tmp_path) -> Path:
    path = tmp_path / "workspace" / trained.name
    shutil.copytree(trained, path)
    return path


def _meta(path: Path) -> dict:
    return json.loads((path / "config.json").read_text(encoding="utf-8"))


def _edit_meta(path: Path, **changes) -> None:
    (path / "config.json").write_text(json.dumps({**_meta(path), **changes}), encoding="utf-8")


def _checkpoint_bytes(path: Path) -> dict[str, bytes]:
    return {name: (path / name).read_bytes() for name in ("model.keras", "weights.npz", "config.json")}


def _hidden(path: Path) -> list[str]:
    return [p.name for p in path.iterdir() if p.name.startswith(".")]


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


# ---------------------------------------------------------------- a run folder damaged by hand


# folder -> how to damage a copy of a good run; None: still usable, else words of the reason
DAMAGE = {
    "config-a-list": (lambda p: (p / "config.json").write_text("[1, 2, 3]"), "not a charlab run description"),
    "config-null": (lambda p: (p / "config.json").write_text("null"), "not a charlab run description"),
    "config-binary": (lambda p: (p / "config.json").write_bytes(b"\xff\xfe\x00garbage"), "cannot be read"),
    "config-gone": (lambda p: (p / "config.json").unlink(), "'config.json' is missing"),
    "settings-a-list": (lambda p: _edit_meta(p, settings=[1, 2]), "settings are not readable"),
    "huge-units": (lambda p: _edit_meta(p, settings={**TINY.to_dict(), "units": 10**400}), "Units must be between"),
    "huge-pid": (lambda p: _edit_meta(p, status="training", pid=10**30, heartbeat=time.time()), None),
    "negative-pid": (lambda p: _edit_meta(p, status="training", pid=-1, heartbeat=time.time()), None),
    "huge-heartbeat": (lambda p: _edit_meta(p, status="training", heartbeat=10**400), "wrong kind"),
    "text-heartbeat": (lambda p: _edit_meta(p, status="training", heartbeat="soon"), "wrong kind"),
    "metrics-a-string": (lambda p: _edit_meta(p, metrics="great"), "wrong kind"),
    "models-gone": (lambda p: [(p / n).unlink() for n in ("model.keras", "weights.npz")], "No model was saved"),
    "history-garbage": (lambda p: (p / "history.csv").write_bytes(b"epoch,loss\n\xff\xfe,abc\n1,x,y,z\n"), None),
    "epoch-texts-a-dict": (lambda p: (p / "epoch_texts.json").write_text('{"epoch": 1}'), None),
    "epoch-texts-broken": (lambda p: (p / "epoch_texts.json").write_text('[{"epoch": 1, "te'), None),
    "timelapse-broken": (lambda p: (p / "timelapse.json").write_text("[[[["), None),
}


def test_damaged_run_folders_are_listed_and_the_others_still_load(trained, tmp_path):
    workspace = tmp_path / "workspace"
    shutil.copytree(trained, workspace / "good")
    for folder, (damage, _) in DAMAGE.items():
        shutil.copytree(trained, workspace / folder)
        damage(workspace / folder)

    infos = {info.run_id: info for info in runs.list_runs(workspace)}  # never raises
    assert set(infos) == {"good", *DAMAGE}
    for folder, (_, words) in DAMAGE.items():
        info = infos[folder]
        if words is None:
            assert info.damaged is None, (folder, info.damaged)
            assert info.status in ("finished", "interrupted"), (folder, info.status)
            run = runs.load_run(workspace / folder)  # still usable: the optional files read as what is left
            assert len(run.generator().write("The ", 10, random_seed=0)) == 10
            assert isinstance(run.history(), list) and isinstance(run.epoch_texts(), list)
            assert isinstance(run.timelapse(), list)
        else:
            assert info.damaged and words in info.damaged, (folder, info.damaged)
            with pytest.raises(CharlabError, match="damaged|no saved model"):
                runs.load_run(workspace / folder)
    assert infos["huge-pid"].status == infos["negative-pid"].status == "interrupted"
    assert runs.load_run(workspace / "epoch-texts-a-dict").epoch_texts() == []
    assert runs.load_run(workspace / "good").epoch_texts()[0]["epoch"] == 1


# ---------------------------------------------------------------- the server killed mid-training


@pytest.mark.slow
def test_a_training_killed_with_its_server_is_listed_as_interrupted_and_its_checkpoint_loads(tmp_path):
    root = tmp_path / "runs"
    script = f"""
from charlab.learning import training
from charlab.network.model import ModelConfig
training.CHECKPOINT_EVERY_SECONDS = 0.0  # checkpoint at every better epoch, so one exists before the kill
text = open({str(FABLES)!r}, encoding="utf-8").read()[:4000]
config = ModelConfig(units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=10000)
training.TrainingJob(text, config, name="killed", root={str(root)!r}).run()
"""
    log = tmp_path / "server.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=stderr)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not list(root.glob("*/weights.npz")) or len(runs.list_runs(root)[0].metrics) < 2:
            assert server.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "no checkpoint was written"
            time.sleep(0.1)
        assert runs.list_runs(root)[0].status == "training"  # alive, with a fresh heartbeat
    finally:
        server.send_signal(signal.SIGKILL)  # no clean-up of any kind, like a power cut
        server.wait()

    [info] = runs.list_runs(root)  # temporary files of a write cut short are hidden, never runs
    assert info.status == "interrupted" and info.damaged is None
    run = runs.load_run(info.path)
    assert len(run.generator().write("The ", 30, random_seed=0)) == 30
    assert np.isfinite(run.weights["embedding"]).all()


# ---------------------------------------------------------------- a full disk while saving


class _FakeModel:
    """Stands for a Keras model whose save fills the disk halfway through."""

    def __init__(self, model, broken: str):
        self.model, self.broken = model, broken

    def get_layer(self, name):
        return self.model.get_layer(name)

    def save(self, path):
        if self.broken == "keras":
            Path(path).write_bytes(b"half a model")
            _disk_full()
        self.model.save(path)


@pytest.mark.parametrize("broken", ["keras", "fsync", "fdopen", "replace"])
def test_a_full_disk_while_saving_weights_keeps_the_previous_checkpoint(run_copy, monkeypatch, broken):
    before = _checkpoint_bytes(run_copy)
    model = runs.load_keras(run_copy)
    model.set_weights([w + 1.0 for w in model.get_weights()])  # a different checkpoint to save
    if broken != "keras":
        monkeypatch.setattr(os, broken, _disk_full)
    with pytest.raises(CharlabError) as err:
        runs.save_weights(run_copy, _FakeModel(model, broken), TINY)
    monkeypatch.undo()
    message = str(err.value)
    assert message.startswith("The disk is full.") and "previous checkpoint is kept" in message, message
    assert "Delete old runs" in message
    assert _checkpoint_bytes(run_copy) == before  # both files as they were, never one new and one old
    assert _hidden(run_copy) == []  # no temporary file left behind
    assert runs.load_run(run_copy).info.damaged is None


def test_saving_into_a_run_deleted_meanwhile_says_it_is_gone(run_copy):
    shutil.rmtree(run_copy)
    with pytest.raises(CharlabError, match="no longer exists"):
        runs.write_json_atomic(run_copy / "config.json", {"x": 1})
    assert not run_copy.exists()


def test_a_training_whose_save_fails_ends_as_failed_and_keeps_the_previous_checkpoint(trained, tmp_path, monkeypatch):
    run_path = tmp_path / trained.name
    shutil.copytree(trained, run_path)
    before = {name: (run_path / name).read_bytes() for name in ("model.keras", "weights.npz")}
    keras_model = type(runs.load_keras(run_path))
    monkeypatch.setattr(keras_model, "save", lambda self, *a, **k: _disk_full())
    job = TrainingJob(TEXT, TINY, root=tmp_path, resume_from=run_path).start()
    assert job.wait(TIMEOUT), "the job hung after its save failed"
    monkeypatch.undo()
    progress = job.snapshot()
    assert progress.status == FAILED
    assert "But saving failed: The disk is full." in progress.message
    assert progress.message.count("The disk is full") == 1
    assert {name: (run_path / name).read_bytes() for name in before} == before
    info = runs.run_info(run_path)
    assert info.status == "failed" and _meta(run_path)["message"] == progress.message
    assert runs.load_run(run_path).info.damaged is None
    assert _hidden(run_path) == []


def test_a_training_that_cannot_write_anything_still_ends(tmp_path, monkeypatch):
    real_replace = os.replace
    calls = {"n": 0}

    def replace_once(*args):  # the run folder is created, then the disk is full
        calls["n"] += 1
        if calls["n"] > 1:
            _disk_full()
        real_replace(*args)

    monkeypatch.setattr(os, "replace", replace_once)
    monkeypatch.setattr(training, "CHECKPOINT_EVERY_SECONDS", 0.0)
    job = TrainingJob(TEXT, ModelConfig(**{**TINY.to_dict(), "epochs": 3}), name="full", root=tmp_path).start()
    assert job.wait(TIMEOUT), "the job hung"
    monkeypatch.undo()
    progress = job.snapshot()
    assert progress.status == FAILED and "The disk is full" in progress.message
    [info] = runs.list_runs(tmp_path)
    assert info.status == "interrupted"  # its config still says 'training', and nobody is training it


# ---------------------------------------------------------------- two sessions, one run


def _race(workers: list, seconds: float = 1.5) -> list[BaseException]:
    """Run each worker in its own thread, over and over, for `seconds`; return what they raised besides CharlabError."""
    errors: list[BaseException] = []
    stop = time.monotonic() + seconds

    def loop(work) -> None:
        while time.monotonic() < stop:
            try:
                work()
            except CharlabError:
                pass
            except BaseException as err:  # noqa: BLE001 - any other error is the failure being tested
                errors.append(err)
                return

    threads = [threading.Thread(target=loop, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    return errors


def test_two_sessions_renaming_the_same_run_never_lose_each_others_changes(run_copy):
    counter = {"metrics": 0}

    def rename(name: str):
        return lambda: runs.rename_run(run_copy, name)

    def progress():  # what a training does to the same config.json
        counter["metrics"] += 1
        runs.update_meta(run_copy, metrics={"epochs_done": counter["metrics"]})

    def listing():
        [info] = runs.list_runs(run_copy.parent)
        assert info.damaged is None and info.name in ("fables", "first tab", "second tab")

    assert _race([rename("first tab"), rename("second tab"), progress, listing]) == []
    meta = _meta(run_copy)
    assert meta["name"] in ("first tab", "second tab")
    assert meta["metrics"]["epochs_done"] == counter["metrics"]  # the last update, never undone by a rename
    assert meta["format"] == run_format.FORMAT and runs.load_run(run_copy).info.damaged is None
    assert _hidden(run_copy) == []


def test_renaming_and_deleting_the_same_run_at_once(trained, run_copy):
    workspace = run_copy.parent
    refusals: list[str] = []
    restored = {"n": 0}

    def rename():
        try:
            runs.rename_run(run_copy, "renamed")
        except CharlabError as err:
            refusals.append(str(err))
            raise

    def restore():  # a third session imports the run again, so the race repeats
        if not run_copy.exists():
            staging = workspace / f".restore-{restored['n']}"
            shutil.copytree(trained, staging)
            os.replace(staging, run_copy)
            restored["n"] += 1
        time.sleep(0.005)

    def listing():
        assert len(runs.list_runs(workspace)) <= 1

    errors = _race([rename, rename, lambda: runs.delete_run(run_copy), lambda: runs.delete_run(run_copy), restore,
                    listing])  # fmt: skip
    assert errors == []
    assert restored["n"] > 3, "the race did not repeat"
    assert refusals and set(refusals) == {"That run no longer exists (it may have been deleted in another tab)."}
    assert _hidden(workspace) == []  # nothing half-deleted left behind
    if run_copy.exists():  # whoever came last: the run is whole, or it is gone
        assert runs.load_run(run_copy).info.name in ("fables", "renamed")
        assert _hidden(run_copy) == []
    runs.delete_run(run_copy)
    with pytest.raises(CharlabError, match="no longer exists"):
        runs.rename_run(run_copy, "too late")
    runs.delete_run(run_copy)  # deleting it again is harmless
    assert list(workspace.iterdir()) == []
