"""Runs made in a blink for the web page's tests and bench: seeded random weights saved through charlab's own
run files (config.json, weights.npz), no TensorFlow and no training.

Random weights of the usual scale give near-uniform odds, where rounding to float16 could flip an argmax
at every other step; these are scaled up so that the network has favourites, as a trained one does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charlab.network.model import ModelConfig
from charlab.saving import runs
from charlab.saving.weights import expected_shapes, to_npz_bytes
from charlab.text.vocab import Vocab

# a lively state whose greedy text does not settle on one character, yet not chaotic: rounding differences of
# 1e-7 (numpy's and the page's sums run in different orders) must not grow into another text
RECURRENT_SCALE = 2.0
LETTERS = "\n !',.:;?abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"  # 65 characters, as Tiny Shakespeare


def random_weights(
    config: ModelConfig, vocab_size: int, seed: int = 0, logit_scale: float = 6.0
) -> dict[str, np.ndarray]:
    """Every array the settings call for, float32; `logit_scale` sets how sure the network is of its favourites."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in expected_shapes(config, vocab_size).items():
        fan_in = shape[0] if len(shape) > 1 else config.units
        scale = 1.0 if name == "embedding" else 1.5 / np.sqrt(fan_in)
        if name.endswith("recurrent_kernel"):
            scale = RECURRENT_SCALE / np.sqrt(fan_in)
        if name == "logits.kernel":
            scale = logit_scale / np.sqrt(fan_in)
        weights[name] = (rng.standard_normal(shape) * scale).astype(np.float32)
    return weights


def make_run(
    root: Path,
    cell: str = "gru",
    units: int = 32,
    layers: int = 1,
    chars: str = LETTERS,
    name: str = "Random writer",
    corpus_name: str = "letters.txt",
    seed: int = 0,
    epoch_texts: list[dict] | None = None,
    logit_scale: float = 6.0,
) -> Path:
    """A finished run with seeded random weights, saved as charlab saves one."""
    config = ModelConfig(cell=cell, units=units, layers=layers, embedding_dim=16).checked()
    vocab = Vocab(sorted(set(chars)))
    path = runs.create_run(Path(root), name, config, vocab, "keep", corpus_name, "0" * 64, 1000)
    runs.write_bytes_atomic(path / "weights.npz", to_npz_bytes(random_weights(config, len(vocab), seed, logit_scale)))
    runs.write_epoch_texts(path, epoch_texts or [{"epoch": 1, "temperature": 0.8, "text": "the cat sat"}])
    runs.update_meta(path, status="finished", metrics={"best_loss": 1.234, "best_loss_on": runs.VALIDATION})
    return path
