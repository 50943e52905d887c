"""Weights as checked plain arrays: the shapes charlab's models really have, and every hostile weights.npz refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.network.cells import CELL_TYPES
from charlab.network.model import ModelConfig, build_model, keras_weights, set_keras_weights
from charlab.saving.weights import expected_shapes, read_npz, to_npz_bytes

CFG = ModelConfig(units=6, embedding_dim=4, layers=2, cell="gru")
VOCAB_SIZE = 7


def _good() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {name: rng.normal(size=shape).astype(np.float32) for name, shape in expected_shapes(CFG, VOCAB_SIZE).items()}


@pytest.mark.parametrize("cell", list(CELL_TYPES))
@pytest.mark.parametrize("layers", [1, 3])
def test_expected_shapes_are_those_of_the_keras_model(cell, layers):
    config = ModelConfig(cell=cell, layers=layers, units=5, embedding_dim=3)
    weights = keras_weights(build_model(config, 11), config)
    assert {name: array.shape for name, array in weights.items()} == expected_shapes(config, 11)


def test_set_keras_weights_puts_back_exactly_what_keras_weights_took():
    weights = _good()
    model = build_model(CFG, VOCAB_SIZE)
    set_keras_weights(model, CFG, weights)
    back = keras_weights(model, CFG)
    assert back.keys() == weights.keys()
    assert all(np.array_equal(back[name], weights[name]) for name in weights)


def test_good_weights_read_back_equal():
    weights = _good()
    read = read_npz(to_npz_bytes(weights), CFG, VOCAB_SIZE, "The upload")
    assert all(np.array_equal(read[name], weights[name]) and read[name].dtype == np.float32 for name in weights)


class _Payload:
    """Unpickling this would create `marker`: the proof that nothing was unpickled is that it does not exist."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_an_object_array_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    weights = {**_good(), "embedding": np.array([_Payload(marker)], dtype=object)}
    data = to_npz_bytes(weights)
    with pytest.raises(CharlabError, match="hold Python objects, not numbers"):
        read_npz(data, CFG, VOCAB_SIZE, "The upload")
    assert not marker.exists()
    with np.load(io.BytesIO(data), allow_pickle=True) as unsafe:  # the premise: the payload is live
        unsafe["embedding"]
    assert marker.exists()


def _npz_with(**changes) -> bytes:
    weights = _good()
    for name, value in changes.items():
        if value is None:
            del weights[name]
        else:
            weights[name] = value
    return to_npz_bytes(weights)


def _nan_at_end(name: str, bad: float) -> np.ndarray:
    array = _good()[name].copy()
    array.flat[-1] = bad
    return array


def _compressed_bomb() -> bytes:
    """A small file whose 'embedding' unpacks to 400 MB of zeros."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{**_good(), "embedding": np.zeros((10_000, 10_000), np.float32)})
    return buffer.getvalue()


HOSTILE = {
    "missing": (lambda: _npz_with(**{"rnn_1.bias": None}), "its weights lack 'rnn_1.bias'"),
    "extra": (lambda: _npz_with(backdoor=np.zeros(3, np.float32)), "hold 'backdoor', which its settings do not have"),
    "wrong-shape": (lambda: _npz_with(**{"rnn_0.kernel": np.zeros((4, 24), np.float32)}),
                    "'rnn_0.kernel' has shape (4, 24), expected (4, 18)"),
    "lstm-bias-for-gru": (lambda: _npz_with(**{"rnn_0.bias": np.zeros(18, np.float32)}), "'rnn_0.bias' has shape"),
    "float64": (lambda: _npz_with(embedding=_good()["embedding"].astype(np.float64)),
                "'embedding' holds float64 values, expected float32"),
    "ints": (lambda: _npz_with(**{"logits.bias": np.zeros(VOCAB_SIZE, np.int32)}), "holds int32 values"),
    "strings": (lambda: _npz_with(**{"logits.bias": np.array(["a"] * VOCAB_SIZE)}), "expected float32"),
    "nan": (lambda: _npz_with(embedding=_nan_at_end("embedding", np.nan)), "not numbers (NaN or infinity)"),
    "inf": (lambda: _npz_with(**{"logits.kernel": _nan_at_end("logits.kernel", np.inf)}), "NaN or infinity"),
    "not-a-zip": (lambda: b"\x93NUMPY definitely not an npz", "cannot be read"),
    "empty": (lambda: b"", "cannot be read"),
    "bomb": (_compressed_bomb, "'embedding' in its weights is larger than its settings allow"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_weights_are_refused_in_words(case):
    make, words = HOSTILE[case]
    with pytest.raises(CharlabError) as err:
        read_npz(make(), CFG, VOCAB_SIZE, "The upload")
    assert words in str(err.value), str(err.value)
    assert str(err.value).startswith("The upload ")


def test_a_npz_member_that_is_not_an_array_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("embedding.npy", b"not an npy file at all")
    with pytest.raises(CharlabError, match="cannot be read"):
        read_npz(buffer.getvalue(), CFG, VOCAB_SIZE, "The upload")


def test_a_path_is_read_like_bytes(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_bytes(to_npz_bytes(_good()))
    assert read_npz(path, CFG, VOCAB_SIZE, "The run").keys() == _good().keys()
