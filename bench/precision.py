"""Presets × precisions: each preset trained for its minutes by the clock in float32 and in bfloat16.

    python bench/precision.py [--presets quick balanced] [--text sample:tiny_shakespeare]
                              [--minutes-scale 1] [--force-bfloat16] [--candidates] [--memory]

Each training is charlab's own (`TrainingJob` through bench/engine.py's training part, the preset's
settings with `precision` set), in a fresh process, float32 then bfloat16 for each preset. Printed per
training: the precision it actually trained in (the job's own record: `bfloat16` falls back to float32
on a processor without AVX512-BF16 or AMX, unless --force-bfloat16 sets CHARLAB_BFLOAT16=1 to emulate
it), steps, trained characters per wall-clock second, best validation loss, and the fraction of the
ceiling in that precision. --candidates also trains charlab.learning.calibration's bigger recipes for each preset
in bfloat16: the figures that would replace the estimated thresholds of charlab.learning.calibration.CANDIDATES.

The ceiling is measured at the network's own shapes, in the precision's own number type, as charlab runs
TensorFlow (one thread per product): for each character of a batch, a GRU/LSTM layer multiplies its input
(batch × d)·(d × gates·units) and its state (batch × units)·(units × gates·units), and the output layer
(batch·seq × units)·(units × V) once per window. The ceiling is those products' FLOPs over their best
times; the fraction is chars/s × the model's FLOPs per trained character (charlab.network.model.step_work) over it.

--memory instead measures a training process's peak RSS (a few steps of GRU 16 to 1024 at batch 8 to
256, in both precisions) beside charlab.network.model.estimate: the figures behind the estimate's constants.

The texts are the ones charlab ships (`sample:KEY`, as the command line takes) or a file path.
--minutes-scale 0.1 trains each preset a tenth of its minutes: a smoke run, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import run_part  # noqa: E402 - each training is engine.py's training part

PRECISIONS = ("float32", "bfloat16")
DTYPES = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


def part_ceiling(cell: str, units: int, embedding_dim: int, batch: int, seq: int, vocab: int, dtype: str) -> dict:
    """The product rate a network's own shapes allow in `dtype`, best of repeats (run in its own process):
    charlab.learning.calibration's products and timing, each product timed for a second."""
    from charlab.learning import calibration
    from charlab.network.model import ModelConfig

    config = ModelConfig(cell=cell, units=units, embedding_dim=embedding_dim, batch_size=batch, seq_length=seq)
    wanted = {(m, k, n, dtype) for m, k, n, _ in calibration.products(config, vocab)}
    return {"gflops": calibration.rate(config, dtype, calibration.time_products(wanted, seconds_each=1.0), vocab)}


def part_memory(policy: str, units: int, batch: int, seq: int = 64, vocab: int = 65, n_chars: int = 1_000_000) -> dict:
    """A few training steps of a GRU: the process's peak RSS beside charlab's estimate (its own process)."""
    import resource

    import numpy as np

    from charlab.network.model import ModelConfig, build_model, estimate

    config = ModelConfig(units=units, batch_size=batch, seq_length=seq)
    ids = np.random.default_rng(0).integers(0, vocab, n_chars).astype(np.int32)
    model = build_model(config, vocab, policy=policy)
    x = ids[: batch * seq].reshape(batch, seq)
    for _ in range(4):
        model.train_on_batch(x, np.roll(x, -1, axis=1))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return {"peak": peak, "estimate": estimate(config, vocab, n_chars, policy=policy).memory_bytes}


PARTS = {"ceiling": part_ceiling, "memory": part_memory}


def own_part(name: str, env: dict[str, str] | None = None, **kwargs) -> dict:
    """Run one of this file's parts in a fresh interpreter."""
    cmd = [sys.executable, __file__, "--part", name, "--kwargs", json.dumps(kwargs)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"part {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def text_file(source: str) -> Path:
    """The text as a file the training part reads: a shipped sample (`sample:KEY`) or a path."""
    if not source.startswith("sample:"):
        return Path(source)
    from charlab.text import samples

    path = Path(tempfile.mkdtemp(prefix="charlab-precision-")) / f"{source.split(':', 1)[1]}.txt"
    path.write_text(samples.load_sample(source.split(":", 1)[1]), encoding="utf-8")
    return path


def presets_table(args: argparse.Namespace) -> None:
    from charlab.learning.calibration import CANDIDATES
    from charlab.learning.presets import PRESETS

    corpus = text_file(args.text)
    text = corpus.read_text(encoding="utf-8")
    env = {"CHARLAB_BFLOAT16": "1"} if args.force_bfloat16 else {}
    print(f"charlab precision bench · {args.text} · minutes × {args.minutes_scale:g} · {os.cpu_count()} cores · "
          f"load {os.getloadavg()[0]:.2f} · {time.strftime('%Y-%m-%d %H:%M')}"
          + (" · bfloat16 forced (CHARLAB_BFLOAT16=1)" if args.force_bfloat16 else ""))  # fmt: skip
    print(f"{'preset GRU/batch':<18}{'asked':<10}{'trained in':<16}{'minutes':>8}{'steps':>7}{'chars/s':>9}"
          f"{'best val':>9}{'ceiling GFLOP/s':>16}{'of ceiling':>11}")  # fmt: skip
    for key in args.presets:
        _, seconds, winner = PRESETS[key]
        seconds *= args.minutes_scale
        rows = [(winner, PRECISIONS)]  # today's float32 winner in both precisions
        if args.candidates:  # and charlab.learning.calibration's bigger recipes for this preset, in bfloat16
            rows += [(recipe.config, ("bfloat16",)) for recipe in CANDIDATES.get(key, ())]
        for config, precisions in rows:
            settings = {k: v for k, v in config.to_dict().items() if k != "epochs"}  # the clock decides, as in the app
            for asked in precisions:
                r = run_part("charlab_train", env=env, corpus=str(corpus), seconds=seconds,
                             **{**settings, "precision": asked})  # fmt: skip
                policy = json.loads((Path(r["run_path"]) / "config.json").read_text())["metrics"]["precision"]
                ceiling = own_part("ceiling", env=env, cell=config.cell, units=config.units,
                                   embedding_dim=config.embedding_dim, batch=config.batch_size, seq=config.seq_length,
                                   vocab=len(set(text)), dtype=DTYPES[policy])["gflops"]  # fmt: skip
                share = r["chars_per_second"] * r["flops_per_char"] / (ceiling * 1e9)
                best = f"{r['best_val_loss']:.3f}" if r["best_val_loss"] is not None else "-"
                name = f"{key} {config.units}/{config.batch_size}" + (f"/{config.dropout:g}" if config.dropout else "")
                print(f"{name:<18}{asked:<10}{policy:<16}{seconds / 60:>8.2f}{r['steps']:>7}"
                      f"{r['chars_per_second']:>9,.0f}{best:>9}{ceiling:>16.0f}{share:>11.0%}", flush=True)  # fmt: skip


def memory_table() -> None:
    print(f"peak RSS of a few training steps beside charlab.network.model.estimate · load {os.getloadavg()[0]:.2f}")
    print(f"{'policy':<16}{'GRU':>5}{'batch':>6}{'peak MB':>9}{'estimate MB':>12}{'ratio':>7}")
    for units, batch in ((16, 8), (256, 64), (512, 256), (1024, 256)):
        for policy in ("float32", "mixed_bfloat16"):
            r = own_part("memory", policy=policy, units=units, batch=batch)
            print(f"{policy:<16}{units:>5}{batch:>6}{r['peak'] / 1e6:>9.0f}{r['estimate'] / 1e6:>12.0f}"
                  f"{r['estimate'] / r['peak']:>7.2f}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--presets", nargs="+", default=["quick", "balanced"], help="keys of charlab.learning.presets.PRESETS"
    )
    parser.add_argument("--text", default="sample:tiny_shakespeare", help="sample:KEY (shipped) or a file path")
    parser.add_argument("--minutes-scale", type=float, default=1.0, help="train each preset this share of its minutes")
    parser.add_argument("--force-bfloat16", action="store_true", help="CHARLAB_BFLOAT16=1: emulate where it is missing")
    parser.add_argument("--candidates", action="store_true",
                        help="also train the bigger bfloat16 recipes of charlab.learning.calibration")  # fmt: skip
    parser.add_argument("--memory", action="store_true", help="peak RSS beside the memory estimate instead")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](**json.loads(args.kwargs))))
    elif args.memory:
        memory_table()
    else:
        presets_table(args)


if __name__ == "__main__":
    main()
