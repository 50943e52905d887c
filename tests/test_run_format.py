"""Run format versions: every stored run of every version (tests/run_formats/) loads, writes and trains on,
from its folder and uploaded as a .zip; each upgrade step does what its docstring says."""

from __future__ import annotations

import copy
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.learning.training import FINISHED, Timelapse, TrainingJob
from charlab.network.model import ModelConfig
from charlab.saving import archives, run_format, runs, webpage
from charlab.saving.weights import to_npz_bytes

STORED = Path(__file__).parent / "run_formats"
VERSIONS = sorted(int(folder.name[1:]) for folder in STORED.glob("v*") if folder.is_dir())
TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 40  # what the stored runs learned (make_runs.py)
# what each stored run was trained with, whichever version wrote it down
TRAINED_WITH = ModelConfig(
    cell="gru", units=8, embedding_dim=4, seq_length=16, batch_size=16, epochs=1,
    learning_rate=0.01, schedule="constant", precision="float32",
)  # fmt: skip


def _raw_meta(version: int) -> dict:
    return json.loads((STORED / f"v{version}" / "config.json").read_text(encoding="utf-8"))


@pytest.fixture(params=VERSIONS, ids=lambda v: f"v{v}")
def stored_run(request, tmp_path) -> tuple[int, Path]:
    """A copy of the stored run of one version (the stored folder itself is never written to)."""
    path = tmp_path / "runs" / f"v{request.param}"
    shutil.copytree(STORED / path.name, path)
    return request.param, path


def test_the_test_folder_holds_one_run_of_every_version():
    assert VERSIONS == list(range(1, run_format.VERSION + 1))
    assert len(run_format.UPGRADES) == run_format.VERSION - 1
    assert all(step.__doc__ for step in run_format.UPGRADES)  # each step says what changed and when
    # before version 7 every charlab wrote format_version 1, whatever the shape
    assert {_raw_meta(v)["format_version"] for v in VERSIONS[:-1]} == {1}
    assert _raw_meta(run_format.VERSION)["format_version"] == run_format.VERSION


def test_each_version_really_has_its_old_shape():
    """The stored runs differ exactly where the versions did (so each step below is exercised)."""
    names = {v: {f.name for f in (STORED / f"v{v}").iterdir()} for v in VERSIONS}
    assert "samples.json" in names[3] and "epoch_texts.json" not in names[3] and "epoch_texts.json" in names[4]
    assert "fresh_optimizer" not in _raw_meta(1) and _raw_meta(2)["fresh_optimizer"] is False
    assert "schedule" not in _raw_meta(2)["model"] and "schedule" in _raw_meta(3)["model"]
    assert (
        "learning_rate" not in (STORED / "v2" / "history.csv").read_text()
        and "learning_rate" in (STORED / "v3" / "history.csv").read_text()
    )
    assert "best_val_loss" in _raw_meta(3)["figures"] and "best_loss_on" in _raw_meta(4)["figures"]
    assert "epochs_trained" not in _raw_meta(4)["figures"] and "epochs_trained" in _raw_meta(5)["figures"]
    assert "precision" not in _raw_meta(5)["model"] and "precision" in _raw_meta(6)["model"]
    assert "model" in _raw_meta(6) and {"settings", "metrics"} <= set(_raw_meta(7)) and "figures" not in _raw_meta(7)


def test_every_version_reads_into_todays_shape():
    today = run_format.upgrade(_raw_meta(run_format.VERSION))
    for version in VERSIONS:
        meta = run_format.upgrade(_raw_meta(version))
        assert meta["format_version"] == run_format.VERSION
        assert "model" not in meta and "figures" not in meta
        assert ModelConfig.from_dict(meta["settings"]) == TRAINED_WITH, version
        assert meta["metrics"]["best_loss"] == today["metrics"]["best_loss"]
        assert meta["metrics"]["best_loss_on"] == runs.VALIDATION
        assert meta["metrics"]["epochs_trained"] == 1 and "best_val_loss" not in meta["metrics"]
        assert meta["fresh_optimizer"] is False


def test_the_typed_accessors_read_what_the_ui_dug_out_of_raw_dicts():
    """Reference lines came with version 3 (2026-11-30); the corpus hash and the writer were always optional."""
    assert runs.read_baselines(STORED / "v2") is None and runs.load_run(STORED / "v2").baselines is None
    report = runs.read_baselines(STORED / f"v{run_format.VERSION}")
    assert report is not None and report == runs.load_run(STORED / "v3").baselines
    info = runs.run_info(STORED / "v1")
    assert info.corpus_sha256 == _raw_meta(1)["corpus"]["sha256"] and info.writer_name is None
    assert info.writer_start_loss is None


def test_an_upgrade_leaves_what_it_read_as_it_was():
    raw = _raw_meta(1)
    before = copy.deepcopy(raw)
    run_format.upgrade(raw)
    assert raw == before


def test_an_imported_run_of_version_1_starts_its_optimizer_afresh():
    """Version 1 marked an imported run `imported` only; its model.keras came from outside."""
    imported = {**_raw_meta(1), "imported": "2026-11-28T10:00:00+00:00"}
    assert run_format.upgrade(imported)["fresh_optimizer"] is True
    assert run_format.upgrade(_raw_meta(1))["fresh_optimizer"] is False


def test_a_best_val_loss_without_validation_text_was_a_training_loss():
    raw = _raw_meta(3)
    raw["model"]["validation_fraction"] = 0.0
    metrics = run_format.upgrade(raw)["metrics"]
    assert (metrics["best_loss"], metrics["best_loss_on"]) == (_raw_meta(3)["figures"]["best_val_loss"], runs.TRAINING)


def test_a_run_labelled_1_keeps_what_a_newer_shape_already_holds():
    """Every charlab before version 7 wrote 1: a run of shape 6 says 1 too, and its values stand."""
    raw = _raw_meta(6)
    raw["model"].update(schedule="cosine", precision="bfloat16")
    raw["figures"].update(epochs_trained=0.5, best_loss_on=runs.TRAINING)
    meta = run_format.upgrade(raw)
    assert (meta["settings"]["schedule"], meta["settings"]["precision"]) == ("cosine", "bfloat16")
    assert (meta["metrics"]["epochs_trained"], meta["metrics"]["best_loss_on"]) == (0.5, runs.TRAINING)


def test_a_run_from_a_newer_charlab_is_refused_in_words(stored_run):
    _, path = stored_run
    meta = json.loads((path / "config.json").read_text())
    meta["format_version"] = run_format.VERSION + 1
    (path / "config.json").write_text(json.dumps(meta))
    info = runs.run_info(path)
    assert info.status == "damaged" and "newer charlab" in info.damaged and "Update charlab" in info.damaged
    with pytest.raises(CharlabError, match="newer charlab"):
        archives.import_zip(_zip_folder(path), path.parent.parent / "other")
    for bad in ("7", True, 0, None):
        with pytest.raises(CharlabError):
            run_format.upgrade({**meta, "format_version": bad})


def test_every_stored_run_loads_generates_and_continues(stored_run):
    version, path = stored_run
    info = runs.run_info(path)
    assert info.damaged is None and info.status == "finished"
    assert info.best_loss == pytest.approx(_raw_meta(run_format.VERSION)["metrics"]["best_loss"])
    run = runs.load_run(path)
    assert run.config == TRAINED_WITH and run.meta["format_version"] == run_format.VERSION
    assert len(run.epoch_texts()) == 1 and len(run.history()) == 1
    written = run.generator().write("the ", 40, temperature=0.8, random_seed=1)
    assert len(written) == 40 and set(written) <= set(run.vocab.chars)
    assert "Learned from cats.txt" in webpage.facts_words(run)  # the web page export reads it too
    assert not runs.fresh_optimizer(path)  # trained here: Continue keeps its own Adam state

    more = TrainingJob(TEXT, TRAINED_WITH, root=path.parent, resume_from=path, timelapse=Timelapse(None)).run()
    assert more.status == FINISHED, more.message
    assert len(runs.read_history(path)) == 2 and len(runs.read_epoch_texts(path)) == 2
    saved = json.loads((path / "config.json").read_text())  # written back in today's format
    assert saved["format_version"] == run_format.VERSION and {"settings", "metrics"} <= set(saved)
    assert "model" not in saved and "figures" not in saved
    assert saved["metrics"]["epochs_trained"] == 2
    assert runs.load_run(path).config == TRAINED_WITH  # what it was trained with, not today's defaults


def test_renaming_an_old_run_writes_it_in_todays_format(stored_run):
    _, path = stored_run
    runs.rename_run(path, "*renamed* <b>")
    saved = json.loads((path / "config.json").read_text())
    assert saved["format_version"] == run_format.VERSION and saved["name"] == "*renamed* <b>"
    assert ModelConfig.from_dict(saved["settings"]) == TRAINED_WITH
    assert runs.load_run(path).epoch_texts() != []  # samples.json of an old run still found


def _zip_folder(path: Path) -> bytes:
    """The run's files under the names they have in the folder (an archive exported by that version)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(path.iterdir()):
            archive.write(file, arcname=file.name)
    return buffer.getvalue()


def test_an_uploaded_run_of_every_version_imports_in_todays_format(stored_run, tmp_path):
    version, path = stored_run
    info = archives.import_zip(_zip_folder(path), tmp_path / "imported")
    assert info.damaged is None and info.config == TRAINED_WITH
    saved = json.loads((info.path / "config.json").read_text())
    assert saved["format_version"] == run_format.VERSION and saved["fresh_optimizer"] is True
    assert (info.path / "epoch_texts.json").is_file() and not (info.path / "samples.json").exists()
    run = runs.load_run(info.path)
    assert len(run.epoch_texts()) == 1
    assert run.generator().write("the ", 20, random_seed=1) == runs.load_run(path).generator().write(
        "the ", 20, random_seed=1
    )
    # and the export of an old run names its files as today's format does
    with zipfile.ZipFile(io.BytesIO(archives.export_zip(path))) as exported:
        assert "epoch_texts.json" in exported.namelist() and "samples.json" not in exported.namelist()


class _Payload:
    """Unpickling this would create `marker`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_an_uploaded_run_of_an_old_version_is_checked_array_by_array_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    old = tmp_path / "v1"
    shutil.copytree(STORED / "v1", old)
    with np.load(old / "weights.npz", allow_pickle=False) as stored:
        weights = {name: stored[name] for name in stored.files}
    for changed, words in (
        ({"embedding": np.array([_Payload(marker)], dtype=object)}, "hold Python objects, not numbers"),
        ({"logits.bias": weights["logits.bias"][:-1]}, "'logits.bias' has shape"),
    ):
        (old / "weights.npz").write_bytes(to_npz_bytes({**weights, **changed}))
        with pytest.raises(CharlabError, match=words):
            archives.import_zip(_zip_folder(old), tmp_path / "imported")
    assert not marker.exists()
    assert runs.list_runs(tmp_path / "imported") == []


@pytest.mark.usefixtures("entry_script_runs_every_time")
def test_the_app_writes_with_a_run_of_the_first_version(workspace):
    """Generate and the sidebar read a version 1 run (samples.json, best_val_loss, no schedule) as any other."""
    from app_pages import contains, generate_page, run, sidebar_text

    path = Path(shutil.copytree(STORED / "v1", workspace / "v1"))
    at = generate_page()
    assert at.selectbox(key="generate_run").value == str(path)
    assert contains(at.caption, "best validation loss") and "tiny cat" in sidebar_text(at)
    at.number_input(key="generate_length").set_value(30)
    run(at.button(key="generate_go").click())
    written = at.session_state["generate_output"]["text"]
    assert len(written) == 30 and set(written) <= set(TEXT)
    assert json.loads((path / "config.json").read_text())["format_version"] == 1  # reading never rewrites a run
