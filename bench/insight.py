"""Timings of the "look inside" tools on a real corpus: are they cheap enough to run on every page load?

    python bench/insight.py [CORPUS] [--no-train]

CORPUS (a text file or sample:KEY) defaults to the Tiny Shakespeare the repository ships.
Prints how long each step takes:
the n-gram baselines (on the corpus and on it repeated to ~10 MB), the copy detector's index
and one report for 2,000 generated characters, tracing a network over 2,000 characters, and
what the training time-lapse costs (each sample timed inside a real training of the default
model, as a share of the training's time).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import DEFAULT_CORPUS, read_corpus  # noqa: E402 - the benchmarks read CORPUS one way


def timed(label: str, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"{label:<58} {time.perf_counter() - start:8.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    parser.add_argument("--no-train", action="store_true", help="skip the time-lapse measurement (needs TensorFlow)")
    args = parser.parse_args()

    from charlab.network.sampling import NumpyCharModel
    from charlab.teaching.copying import TrainingTextIndex, copy_report
    from charlab.teaching.neurons import rank_all, trace
    from charlab.text.baselines import compute_baselines
    from charlab.text.vocab import Vocab

    text = read_corpus(args.corpus)
    vocab = Vocab.from_text(text)
    print(f"corpus: {args.corpus} ({len(text):,} characters, {len(vocab)} distinct)")

    report = timed("baselines (validation 10%, seq_length 100)", compute_baselines, text, vocab, 0.1, 100)
    for b in report.baselines:
        print(f"    {b.label:<28} {b.loss:.3f} nats/char")
    big = text * max(1, 10_000_000 // len(text))
    timed(f"baselines on {len(big) / 1e6:.1f} MB (the corpus repeated)", compute_baselines, big, vocab, 0.1, 100)

    index = timed("copy detector: index of the training text", TrainingTextIndex, text)
    rng = random.Random(0)
    words = text.split()
    generated = " ".join(rng.choice(words) for _ in range(400))[:1800] + text[len(text) // 2 : len(text) // 2 + 200]
    result = timed("copy report for 2,000 generated characters", copy_report, generated, index)
    print(f"    longest passage {len(result.longest.text)} chars, real words {result.real_word_share:.0%}")
    copied = text[100_000:102_000]
    timed("copy report for 2,000 characters copied verbatim", copy_report, copied, index)

    weights = _random_lstm(len(vocab), units=256, embedding_dim=64)
    network = NumpyCharModel("lstm", 1, weights)
    traced = timed("trace an LSTM(256) over 2,000 characters", trace, network, vocab, text[:2000])
    timed("rank units for every hypothesis", rank_all, traced)

    if not args.no_train:
        _timelapse_cost(text[:300_000])


def _random_lstm(vocab_size: int, units: int, embedding_dim: int) -> dict:
    import numpy as np

    from charlab.network.model import ModelConfig
    from charlab.saving.weights import expected_shapes

    rng = np.random.default_rng(0)
    shapes = expected_shapes(ModelConfig(cell="lstm", units=units, embedding_dim=embedding_dim), vocab_size)
    return {name: np.zeros(s) if name.endswith("bias") else rng.normal(0, 0.1, s) for name, s in shapes.items()}


def _timelapse_cost(text: str) -> None:
    """Time every time-lapse sample inside a real training of the default model."""
    from charlab.learning.training import TrainingJob
    from charlab.network.model import ModelConfig

    config = ModelConfig(epochs=2)
    with tempfile.TemporaryDirectory() as root:
        job = TrainingJob(text, config, name="bench", root=root)
        costs: list[float] = []
        record = job._record_timelapse

        def timed_record() -> None:
            start = time.perf_counter()
            record()
            costs.append(time.perf_counter() - start)

        job._record_timelapse = timed_record
        progress = job.run()
    total = progress.elapsed
    print(
        f"time-lapse during {progress.step} steps of LSTM(256) on {len(text):,} chars ({total:.1f} s): "
        f"{len(progress.timelapse)} samples, {1000 * sum(costs) / max(1, len(costs)):.1f} ms each, "
        f"{sum(costs) / total:.1%} of the training time"
    )
    per_step = (total - sum(costs)) / max(1, progress.step)
    full_steps = 10 * 1_000_000 // (config.batch_size * config.seq_length)
    share = 30 * sum(costs) / max(1, len(costs)) / (full_steps * per_step)
    print(f"    for 10 epochs of a 1 MB text ({full_steps} steps, 30 samples): about {share:.2%} of the training time")


if __name__ == "__main__":
    main()
