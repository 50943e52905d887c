"""A run as a .zip: export, import, and every hostile archive refused, with the uploaded model file never opened.

Two small runs are really trained once per module (an LSTM, and a 2-layer GRU).
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.learning.training import TrainingJob
from charlab.network import model
from charlab.network.model import ModelConfig, import_keras, load_keras_model
from charlab.saving import archives, runs
from charlab.saving.weights import to_npz_bytes

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "sample_texts" / "fables.txt").read_text(encoding="utf-8")[:6000]
CFG = ModelConfig(cell="lstm", units=16, embedding_dim=8, seq_length=20, batch_size=8, epochs=1)
GRU_CFG = ModelConfig(cell="gru", layers=2, units=12, embedding_dim=6, seq_length=20, batch_size=8, epochs=1)
SEED = "The crow counted"


def _train(root: Path, config: ModelConfig, name: str) -> Path:
    progress = TrainingJob(TEXT, config, name=name, corpus_name="fables.txt", root=root).run()
    assert progress.status == "finished", progress.message
    return progress.run_path


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    return _train(tmp_path_factory.mktemp("trained"), CFG, "fables")


@pytest.fixture(scope="module")
def trained_gru(tmp_path_factory) -> Path:
    return _train(tmp_path_factory.mktemp("trained_gru"), GRU_CFG, "two-layer gru")


@pytest.fixture
def workspace_dir(tmp_path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    return root


def _members(run_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archives.export_zip(run_path))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _meta(path: Path) -> dict:
    return json.loads((path / "config.json").read_text(encoding="utf-8"))


def _text(run_path: Path) -> str:
    """What the run writes after SEED at T=0.8 with random seed 7: the same model writes the same text."""
    return "".join(runs.load_run(run_path).generator().generate(SEED, 300, temperature=0.8, random_seed=7))


def _weights(files: dict[str, bytes]) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(files["weights.npz"])) as data:
        return {name: data[name] for name in data.files}


@pytest.fixture
def keras_never_opens_a_file(monkeypatch):
    """Any attempt to deserialise a .keras file during the test fails it."""
    keras = import_keras()

    def refuse(*args, **kwargs):
        raise AssertionError(f"a .keras file was opened: {args}")

    monkeypatch.setattr(keras.saving, "load_model", refuse)
    monkeypatch.setattr(keras.models, "load_model", refuse)
    monkeypatch.setattr(model, "load_keras_model", refuse)


# ---------------------------------------------------------------- good archives


def test_export_import_round_trip_writes_the_same_text(trained, workspace_dir, keras_never_opens_a_file):
    data = archives.export_zip(trained)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == sorted(runs.RUN_FILES)
    info = archives.import_zip(data, workspace_dir)
    assert info.damaged is None
    assert info.path.parent == workspace_dir and info.path.name != trained.name
    assert info.name == "fables" and info.status == "finished" and info.config == CFG
    assert "imported" in _meta(info.path) and runs.fresh_optimizer(info.path)
    assert _text(info.path) == _text(trained)
    assert runs.read_history(info.path) == runs.read_history(trained)
    assert [i.run_id for i in runs.list_runs(workspace_dir)] == [info.run_id]
    assert not [p for p in workspace_dir.iterdir() if p.name.startswith(".")]
    # importing twice makes two runs, never overwrites
    again = archives.import_zip(data, workspace_dir)
    assert again.path != info.path and len(runs.list_runs(workspace_dir)) == 2


def test_config_and_weights_alone_import_and_write_the_same_text(trained, workspace_dir, keras_never_opens_a_file):
    files = _members(trained)
    info = archives.import_zip(_zip({"config.json": files["config.json"], "weights.npz": files["weights.npz"]}),
                               workspace_dir)  # fmt: skip
    assert info.damaged is None
    assert _text(info.path) == _text(trained)
    assert (info.path / "model.keras").is_file()  # written by charlab from the rebuilt model


def test_a_two_layer_gru_round_trip_writes_the_same_text(trained_gru, workspace_dir, keras_never_opens_a_file):
    files = _members(trained_gru)
    del files["model.keras"]
    info = archives.import_zip(_zip(files), workspace_dir)
    assert info.config == GRU_CFG and info.name == "two-layer gru"
    assert _text(info.path) == _text(trained_gru)


def test_the_run_model_keras_is_rebuilt_from_the_checked_weights(trained, workspace_dir):
    info = archives.import_zip(archives.export_zip(trained), workspace_dir)
    keras_model = load_keras_model(info.path / "model.keras")  # charlab's own file now
    rebuilt = model.keras_weights(keras_model, CFG)
    original = _weights(_members(trained))
    assert all(np.array_equal(rebuilt[name], original[name]) for name in original)


def test_a_run_exported_before_the_renames_imports_with_its_epoch_texts_and_best_loss(trained, workspace_dir):
    """Runs saved before epoch_texts.json and best_loss kept them as samples.json and best_val_loss."""
    files = _members(trained)
    files["samples.json"] = files.pop("epoch_texts.json")
    meta = json.loads(files["config.json"])
    del meta["metrics"]
    meta.update(format_version=1, model=meta.pop("settings"), figures={"best_val_loss": 1.75, "epochs_done": 2})
    files["config.json"] = json.dumps(meta).encode()
    info = archives.import_zip(_zip(files), workspace_dir)
    assert (info.best_loss, info.best_loss_on, info.best_val_loss) == (1.75, runs.VALIDATION, 1.75)
    assert (info.path / "epoch_texts.json").is_file() and not (info.path / "samples.json").exists()
    assert runs.load_run(info.path).epoch_texts() == runs.load_run(trained).epoch_texts() != []
    # and a run folder saved before the rename reads its file under the old name
    (info.path / "epoch_texts.json").rename(info.path / "samples.json")
    assert runs.load_run(info.path).epoch_texts() == runs.load_run(trained).epoch_texts()


def test_import_accepts_a_zipped_folder(trained, workspace_dir):
    info = archives.import_zip(_zip({f"my run/{k}": v for k, v in _members(trained).items()}), workspace_dir)
    assert info.damaged is None and _text(info.path) == _text(trained)


def test_import_of_a_run_saved_while_training_marks_it_interrupted(trained, workspace_dir):
    files = _members(trained)
    meta = json.loads(files["config.json"])
    meta.update(status="training", pid=os.getpid(), heartbeat=time.time())
    files["config.json"] = json.dumps(meta).encode()
    info = archives.import_zip(_zip(files), workspace_dir)
    assert info.status == "interrupted" and _meta(info.path)["status"] == "interrupted"


def _lambda_model_bytes(tmp_path: Path, marker: Path) -> bytes:
    """A .keras file whose Lambda layer creates `marker` whenever Keras deserialises and runs it."""
    keras = import_keras()
    inputs = keras.Input(shape=(None,), dtype="int32", name="char_ids")
    x = keras.layers.Embedding(10, 8, name="embedding")(inputs)
    payload = eval(f"lambda t: (open({str(marker)!r}, 'w').close(), t)[1]")
    x = keras.layers.Lambda(payload)(x)
    path = tmp_path / "evil.keras"
    keras.Model(inputs, x).save(path)
    marker.unlink(missing_ok=True)  # building the model ran it once, here in the test
    return path.read_bytes()


def test_an_uploaded_model_keras_with_code_is_never_opened(trained, workspace_dir, tmp_path):
    marker = tmp_path / "code-ran"
    evil = _lambda_model_bytes(tmp_path, marker)
    info = archives.import_zip(_zip({**_members(trained), "model.keras": evil}), workspace_dir)
    assert not marker.exists()
    assert (info.path / "model.keras").read_bytes() != evil
    assert _text(info.path) == _text(trained)
    rebuilt = runs.load_keras(info.path)  # Continue builds from the weights, never from a file from outside
    assert [layer.name for layer in rebuilt.layers] == ["char_ids", "embedding", "rnn_0", "logits"]
    assert not marker.exists()


# ---------------------------------------------------------------- continuing an imported run


def test_continuing_an_imported_run_starts_the_optimizer_fresh_then_keeps_its_own(trained, workspace_dir):
    info = archives.import_zip(archives.export_zip(trained), workspace_dir)
    assert runs.fresh_optimizer(info.path)
    assert int(runs.load_keras(info.path).optimizer.iterations.numpy()) == 0
    progress = TrainingJob(TEXT, CFG, name="fables", corpus_name="fables.txt", root=workspace_dir,
                           resume_from=info.path).run()  # fmt: skip
    assert progress.status == "finished", progress.message
    assert not runs.fresh_optimizer(info.path)  # model.keras now holds this training's Adam state
    assert int(runs.load_keras(info.path).optimizer.iterations.numpy()) > 0
    assert len(runs.read_history(info.path)) == len(runs.read_history(trained)) + 1


def test_a_run_imported_before_the_flag_existed_never_opens_its_model_file(trained, workspace_dir, monkeypatch):
    info = archives.import_zip(archives.export_zip(trained), workspace_dir)
    meta = _meta(info.path)
    meta["format_version"] = 1
    del meta[runs.FRESH_OPTIMIZER]  # as an older charlab left it, with the uploaded model.keras in the folder
    (info.path / "config.json").write_text(json.dumps(meta), encoding="utf-8")
    (info.path / "model.keras").write_bytes(b"an uploaded file charlab must not open")
    assert runs.fresh_optimizer(info.path)
    assert runs.load_keras(info.path).get_layer("rnn_0") is not None


# ---------------------------------------------------------------- hostile archives


class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _bad_archives(files: dict[str, bytes], marker: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (archive bytes, words the refusal must contain), each built from a good export."""
    config = json.loads(files["config.json"])
    weights = _weights(files)
    corrupted = _zip(files, compression=zipfile.ZIP_STORED)
    at = corrupted.index(b'"format"')
    corrupted = corrupted[:at] + b'"formaX"' + corrupted[at + 8 :]  # same length, wrong CRC

    def with_config(**changes) -> bytes:
        return _zip({**files, "config.json": json.dumps({**config, **changes}).encode()})

    def with_weights(**changes) -> bytes:
        return _zip({**files, "weights.npz": to_npz_bytes({**weights, **changes})})

    nan = weights["logits.bias"].copy()
    nan[0] = np.nan
    extra = {**weights, "rnn_1.kernel": weights["rnn_0.kernel"]}
    missing = {k: v for k, v in weights.items() if k != "logits.bias"}
    return {
        "not-a-zip": (b"PK? no, just some text pretending to be an archive", "not a .zip archive"),
        "empty": (b"", "not a .zip archive"),
        "extra-file": (_zip({**files, "notes.txt": b"hi"}), "'notes.txt', which is not part of a charlab run"),
        "extra-folder": (_zip({**files, "extra/model.keras": b"x"}), "not part of a charlab run"),
        "traversal": (_zip({**files, "../evil": b"x"}), "leaves its folder ('../evil')"),
        "deep-traversal": (_zip({f"run/../../{k}": v for k, v in files.items()}), "leaves its folder"),
        "absolute": (_zip({**files, "/tmp/evil": b"x"}), "leaves its folder ('/tmp/evil')"),
        "drive": (_zip({**files, "C:/evil": b"x"}), "leaves its folder"),
        "no-weights": (_zip({k: v for k, v in files.items() if k != "weights.npz"}), "no 'weights.npz'"),
        "no-config": (_zip({k: v for k, v in files.items() if k != "config.json"}), "no 'config.json'"),
        "not-charlab": (_zip({**files, "config.json": b'{"name": "x", "model": {}}'}), "not a charlab run description"),
        "invalid-json": (_zip({**files, "config.json": b'{"format": "charlab-run",'}), "not valid JSON"),
        "not-utf8": (_zip({**files, "config.json": b"\xff\xfe\x00"}), "not valid JSON"),
        "bad-settings": (with_config(settings={"layers": 9}), "Layers must be between 1 and 4"),
        "bad-vocab": (with_config(vocab=["a", "a"]), "lists a character twice"),
        "odd-types": (with_config(corpus="fables"), "config.json"),
        "wrong-vocab": (with_config(vocab=config["vocab"][:-1]), "'embedding' has shape"),
        "wrong-cell": (with_config(settings={**CFG.to_dict(), "cell": "gru"}), "'rnn_0.kernel' has shape"),
        "more-layers": (with_config(settings={**CFG.to_dict(), "layers": 2}), "its weights lack 'rnn_1.kernel'"),
        "garbage-weights": (_zip({**files, "weights.npz": b"garbage that must not be trusted"}), "cannot be read"),
        "pickled-weights": (with_weights(embedding=np.array([_Payload(marker)], dtype=object)),
                            "hold Python objects, not numbers"),
        "float64-weights": (with_weights(embedding=weights["embedding"].astype(np.float64)), "expected float32"),
        "wrong-shape": (with_weights(**{"logits.kernel": weights["logits.kernel"][:, :-1]}),
                        "'logits.kernel' has shape"),
        "extra-array": (_zip({**files, "weights.npz": to_npz_bytes(extra)}), "hold 'rnn_1.kernel'"),
        "missing-array": (_zip({**files, "weights.npz": to_npz_bytes(missing)}), "lack 'logits.bias'"),
        "nan-weights": (with_weights(**{"logits.bias": nan}), "NaN or infinity"),
        "corrupted": (corrupted, "damaged"),
    }  # fmt: skip


BAD_ARCHIVE_NAMES = [
    "not-a-zip", "empty", "extra-file", "extra-folder", "traversal", "deep-traversal", "absolute", "drive",
    "no-weights", "no-config", "not-charlab", "invalid-json", "not-utf8", "bad-settings", "bad-vocab", "odd-types",
    "wrong-vocab", "wrong-cell", "more-layers", "garbage-weights", "pickled-weights", "float64-weights",
    "wrong-shape", "extra-array", "missing-array", "nan-weights", "corrupted",
]  # fmt: skip


@pytest.fixture(scope="module")
def unpickled_marker(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pickle") / "unpickled"


@pytest.fixture(scope="module")
def bad_archives(trained, unpickled_marker) -> dict[str, tuple[bytes, str]]:
    archives_by_name = _bad_archives(_members(trained), unpickled_marker)
    assert sorted(archives_by_name) == sorted(BAD_ARCHIVE_NAMES)
    return archives_by_name


@pytest.mark.parametrize("case", BAD_ARCHIVE_NAMES)
def test_import_refuses_bad_archives_and_leaves_nothing_behind(bad_archives, trained, workspace_dir, case,
                                                               unpickled_marker):  # fmt: skip
    existing = workspace_dir / trained.name
    existing.mkdir()
    for name, data in _members(trained).items():
        (existing / name).write_bytes(data)
    before = sorted(p.name for p in workspace_dir.iterdir())
    data, words = bad_archives[case]
    with pytest.raises(CharlabError) as err:
        archives.import_zip(data, workspace_dir)
    assert words in str(err.value), str(err.value)
    assert sorted(p.name for p in workspace_dir.iterdir()) == before  # no new run, no .import-* leftovers
    assert [info.run_id for info in runs.list_runs(workspace_dir)] == [existing.name]
    assert not unpickled_marker.exists()


def test_archive_premises(bad_archives, unpickled_marker):
    """The refused names really are in the archives, and the pickled payload really is live."""
    with zipfile.ZipFile(io.BytesIO(bad_archives["absolute"][0])) as archive:
        assert "/tmp/evil" in archive.namelist()
    with zipfile.ZipFile(io.BytesIO(bad_archives["traversal"][0])) as archive:
        assert "../evil" in archive.namelist()
    with zipfile.ZipFile(io.BytesIO(bad_archives["corrupted"][0])) as archive:
        assert archive.testzip() == "config.json"
    with zipfile.ZipFile(io.BytesIO(bad_archives["pickled-weights"][0])) as archive:
        npz = archive.read("weights.npz")
    with np.load(io.BytesIO(npz), allow_pickle=True) as unsafe:
        unsafe["embedding"]
    assert unpickled_marker.exists()
    unpickled_marker.unlink()


def test_import_refuses_an_oversized_archive(trained, workspace_dir):
    data = archives.export_zip(trained)
    with pytest.raises(CharlabError) as err:
        archives.import_zip(data, workspace_dir, max_bytes=10_000)
    assert "unpacks to more than 10 KB" in str(err.value)
    assert list(workspace_dir.iterdir()) == []
    assert archives.import_zip(data, workspace_dir, max_bytes=len(data) * 100).damaged is None
