"""How good is the Train page's time estimate? Measured against real training, side by side.

    python bench/estimate.py [CORPUS] [--seconds 12] [--fit]

For a spread of settings (units, layers, batch size, sequence length, cell) it trains charlab's
model on the corpus for a few seconds, measures characters per second, and prints it beside
`charlab.network.model.estimate`'s figure and their ratio. With --fit it also fits the two constants of
the estimate (per-time-step overhead and arithmetic rate) to these measurements and prints them,
to paste into charlab/network/model.py after a change of machine or library.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import DEFAULT_CORPUS, read_corpus  # noqa: E402 - the benchmarks read CORPUS one way

from charlab.network.model import ModelConfig, build_model, compile_model, estimate, import_keras, step_work  # noqa: E402

SETTINGS = [
    dict(units=64, batch_size=32, seq_length=64),
    dict(units=128, batch_size=64, seq_length=100),
    dict(units=256, batch_size=32, seq_length=64, embedding_dim=32),
    dict(units=256, batch_size=64, seq_length=100),
    dict(units=256, batch_size=128, seq_length=100),
    dict(units=256, batch_size=64, seq_length=100, cell="gru"),
    dict(units=512, batch_size=64, seq_length=100),
    dict(units=256, layers=2, batch_size=64, seq_length=100),
    dict(units=512, layers=2, batch_size=64, seq_length=100),
]


def measure(ids: np.ndarray, vocab_size: int, config: ModelConfig, seconds: float) -> float:
    """Trained characters per second of plain fit() on this model (after a warm-up)."""
    t = config.seq_length
    n = (len(ids) - 1) // t
    x, y = ids[: n * t].reshape(n, t), ids[1 : n * t + 1].reshape(n, t)
    model = build_model(config, vocab_size)
    compile_model(model, config)
    model.fit(x[: config.batch_size * 3], y[: config.batch_size * 3], batch_size=config.batch_size, epochs=1, verbose=0)
    batches, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        chunk = 4
        start = (batches * config.batch_size) % max(1, n - chunk * config.batch_size)
        model.fit(
            x[start : start + chunk * config.batch_size],
            y[start : start + chunk * config.batch_size],
            batch_size=config.batch_size,
            epochs=1,
            verbose=0,
        )
        batches += chunk
    return batches * config.batch_size * t / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    parser.add_argument("--seconds", type=float, default=12.0, help="training time per setting")
    parser.add_argument("--fit", action="store_true", help="fit the estimate's constants to the measurements")
    args = parser.parse_args()
    if not Path(args.corpus).exists():
        raise SystemExit(f"corpus not found: {args.corpus} (give a path to a text file)")
    import_keras()
    text = read_corpus(args.corpus)[:300_000]
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in text], dtype=np.int32)
    rows, work = [], []
    for overrides in SETTINGS:
        config = ModelConfig(**{"cell": "lstm", "schedule": "constant", **overrides}).checked()  # as the rows say
        measured = measure(ids, len(chars), config, args.seconds)
        guessed = estimate(config, len(chars), len(text)).chars_per_second
        rows.append((overrides, measured, guessed))
        work.append((*step_work(config, len(chars)), config.batch_size * config.seq_length / measured))
        print(
            f"{str(overrides):<70} measured {measured:>9,.0f}  estimate {guessed:>9,.0f}  "
            f"ratio {guessed / measured:.2f}",
            flush=True,
        )
    ratios = [g / m for _, m, g in rows]
    worst = max(ratios, key=lambda r: abs(math.log(r)))
    print(f"\nestimate / measured: median {np.median(ratios):.2f}, worst {worst:.2f}")
    if args.fit:
        # seconds per step = timesteps · overhead + flops / rate: least squares in (overhead, 1/rate) on
        # relative errors (each row divided by its measured seconds), so small models count as much as big ones
        a = np.array([[steps / seconds, flops / seconds] for steps, flops, seconds in work])
        b = np.ones(len(work))
        (overhead, inverse_rate), *_ = np.linalg.lstsq(a, b, rcond=None)
        print(f"fitted: _STEP_OVERHEAD_SECONDS = {overhead:.3g}, _TRAIN_FLOPS_PER_SECOND = {1 / inverse_rate:.3g}")


if __name__ == "__main__":
    main()
