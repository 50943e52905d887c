"""Learning per wall-clock minute: candidate recipes trained for the same minutes, side by side.

    python bench/sweep.py [CORPUS] [--minutes 2] [--only KEY ...]

CORPUS (a text file or sample:KEY) defaults to the shipped Tiny Shakespeare (90/10 split, kept as it is). Each recipe
trains through `TrainingJob` with a time budget of `--minutes` (as the app's minutes do: the
schedule, when there is one, is sized to them), in its own process, one after another. Printed per
recipe: best validation loss (nats/char), epochs, trained characters per wall-clock second (first
step to last), the fraction of the machine's fp32 matrix-product rate that is, and the start-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import DEFAULT_CORPUS, run_part  # noqa: E402 - each recipe is engine.py's training part

BASE = dict(cell="lstm", units=256, layers=1, embedding_dim=32, dropout=0.0, seq_length=64, batch_size=32,
            learning_rate=3e-3, schedule="constant", clipnorm=1.0)  # fmt: skip
RECIPES: dict[str, dict] = {
    "app default (LSTM 256, b32, lr 3e-3)": {},
    "+ cosine": dict(schedule="cosine"),
    "cosine, lr 5e-3": dict(schedule="cosine", learning_rate=5e-3),
    "cosine, b64, lr 5e-3": dict(schedule="cosine", batch_size=64, learning_rate=5e-3),
    "cosine, b128, lr 8e-3": dict(schedule="cosine", batch_size=128, learning_rate=8e-3),
    "cosine, b64, seq 100, lr 5e-3": dict(schedule="cosine", batch_size=64, seq_length=100, learning_rate=5e-3),
    "cosine, GRU 256, b64, lr 5e-3": dict(schedule="cosine", cell="gru", batch_size=64, learning_rate=5e-3),
    "cosine, LSTM 384, b64, lr 4e-3": dict(schedule="cosine", units=384, batch_size=64, learning_rate=4e-3),
    "cosine, LSTM 512, b64, lr 3e-3": dict(schedule="cosine", units=512, batch_size=64, learning_rate=3e-3),
    "cosine, 2 x LSTM 256, b64, lr 4e-3": dict(schedule="cosine", layers=2, batch_size=64, learning_rate=4e-3),
    "GRU 256, b64, lr 5e-3": dict(cell="gru", batch_size=64, learning_rate=5e-3),
    "cosine, GRU 256, b32, lr 5e-3": dict(schedule="cosine", cell="gru", learning_rate=5e-3),
    "cosine, GRU 256, b64, lr 8e-3": dict(schedule="cosine", cell="gru", batch_size=64, learning_rate=8e-3),
    "cosine, GRU 256, b128, lr 1e-2": dict(schedule="cosine", cell="gru", batch_size=128, learning_rate=1e-2),
    "cosine, GRU 384, b64, lr 5e-3": dict(schedule="cosine", cell="gru", units=384, batch_size=64, learning_rate=5e-3),
    "cosine, GRU 512, b128, lr 6e-3": dict(
        schedule="cosine", cell="gru", units=512, batch_size=128, learning_rate=6e-3
    ),
    # without dropout GRU 512 overfits tiny shakespeare within 20 minutes (1.565 after 5 minutes, 1.584 after 20)
    "cosine, GRU 512, b128, lr 6e-3, dropout 0.25": dict(
        schedule="cosine", cell="gru", units=512, batch_size=128, learning_rate=6e-3, dropout=0.25
    ),
    "cosine, GRU 384, b64, lr 5e-3, dropout 0.1": dict(
        schedule="cosine", cell="gru", units=384, batch_size=64, learning_rate=5e-3, dropout=0.1
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    parser.add_argument("--minutes", type=float, default=2.0, help="the time budget of each recipe")
    parser.add_argument("--only", nargs="*", help="recipe names (or a part of them) to run")
    args = parser.parse_args()
    chosen = {k: v for k, v in RECIPES.items() if not args.only or any(o in k for o in args.only)}
    ceiling = run_part("gemm")["ceiling"]
    print(f"charlab sweep · {args.corpus} · {args.minutes:g} min each · {os.cpu_count()} cores · "
          f"fp32 ceiling {ceiling:.0f} GFLOP/s · {time.strftime('%Y-%m-%d %H:%M')}")  # fmt: skip
    print(f"{'recipe':<38}{'best val':>9}{'epochs':>8}{'chars/s':>10}{'of ceiling':>12}{'start-up':>10}")
    for name, changes in chosen.items():
        r = run_part("charlab_train", corpus=args.corpus, seconds=args.minutes * 60, **{**BASE, **changes})
        share = r["chars_per_second"] * r["flops_per_char"] / (ceiling * 1e9)
        print(f"{name:<38}{r['best_val_loss']:>9.3f}{r['epochs']:>8}{r['chars_per_second']:>10,.0f}"
              f"{share:>12.0%}{r['startup_seconds']:>9.1f}s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
