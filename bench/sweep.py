"""Learning per wall-clock minute: candidate recipes trained for the same minutes, side by side.

    python bench/sweep.py [CORPUS] [--minutes 2] [--only KEY ...]

CORPUS defaults to ../shared/corpora/tinyshakespeare.txt (90/10 split, kept as it is). Each recipe
trains through `TrainingJob` with a time budget of `--minutes` (as the app's minutes do: the
schedule, when there is one, is sized to them), in its own process, one after another. Printed per
recipe: best validation loss (nats/char), epochs, trained characters per wall-clock second (first
step to last), the fraction of the machine's fp32 matrix-product rate that is, and the start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "tinyshakespeare.txt"

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
}


def part_train(corpus: str, seconds: float, settings: dict) -> dict:
    """One recipe, timed on the wall clock (in a fresh process: its own TensorFlow thread pools)."""
    import tempfile
    import threading

    from charlab.model import MAX_EPOCHS, ModelConfig, step_work
    from charlab.training import TrainingJob

    text = Path(corpus).read_text(encoding="utf-8")
    cfg = ModelConfig(**settings, epochs=MAX_EPOCHS, validation_fraction=0.1)
    job = TrainingJob(text, cfg, name="sweep", root=tempfile.mkdtemp(prefix="charlab-sweep-"), budget_seconds=seconds)
    steps = []
    started = time.perf_counter()
    threading.Thread(target=job.run, daemon=True).start()
    while not job.done:
        steps.append((time.perf_counter(), job.trained_steps))
        time.sleep(0.01)
    p = job.snapshot()
    first = next(t for t, n in steps if n >= 1)
    last = next(t for t, n in steps if n >= p.step)
    chars_per_step = cfg.batch_size * cfg.seq_length
    return {
        "best_val_loss": p.best_val_loss,
        "epochs": len(p.history),
        "chars_per_second": (p.step - 1) * chars_per_step / (last - first),
        "flops_per_char": step_work(cfg, p.vocab_size)[1] / chars_per_step,
        "startup_seconds": first - started,
        "curve": [(row["seconds"], row["val_loss"]) for row in p.history],
    }


def part_ceiling() -> dict:
    """The machine's fp32 matrix-product rate (GFLOP/s), best of numpy and TensorFlow at 2048."""
    import numpy as np

    from charlab.model import import_keras

    import_keras()
    import tensorflow as tf

    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    ta = tf.constant(a)
    rates = []
    for multiply in (lambda: a @ a, lambda: tf.linalg.matmul(ta, ta).numpy()):
        multiply()
        best = min(_timed(multiply) for _ in range(5))
        rates.append(2 * 2048**3 / best / 1e9)
    return {"gflops": max(rates)}


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run_part(name: str, **kwargs) -> dict:
    cmd = [sys.executable, __file__, "--part", name, "--kwargs", json.dumps(kwargs)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"part {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--minutes", type=float, default=2.0, help="the time budget of each recipe")
    parser.add_argument("--only", nargs="*", help="recipe names (or a part of them) to run")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps({"train": part_train, "ceiling": part_ceiling}[args.part](**json.loads(args.kwargs))))
        return
    chosen = {k: v for k, v in RECIPES.items() if not args.only or any(o in k for o in args.only)}
    ceiling = run_part("ceiling")["gflops"]
    print(f"charlab sweep · {Path(args.corpus).name} · {args.minutes:g} min each · {os.cpu_count()} cores · "
          f"fp32 ceiling {ceiling:.0f} GFLOP/s · {time.strftime('%Y-%m-%d %H:%M')}")  # fmt: skip
    print(f"{'recipe':<38}{'best val':>9}{'epochs':>8}{'chars/s':>10}{'of ceiling':>12}{'start-up':>10}")
    for name, changes in chosen.items():
        r = run_part("train", corpus=args.corpus, seconds=args.minutes * 60, settings={**BASE, **changes})
        share = r["chars_per_second"] * r["flops_per_char"] / (ceiling * 1e9)
        print(f"{name:<38}{r['best_val_loss']:>9.3f}{r['epochs']:>8}{r['chars_per_second']:>10,.0f}"
              f"{share:>12.0%}{r['startup_seconds']:>9.1f}s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
