"""Engine benchmark: each of charlab's choices measured side by side with the classic way, in one run.

    python bench/engine.py [CORPUS] [--minutes 5] [--quick]

CORPUS: a text file or sample:KEY; it defaults to the Tiny Shakespeare the repository ships. Every part runs in its own
subprocess so its peak memory (RSS) is its own. Prints a table of figures and ratios:

- arithmetic: the machine's fp32 matrix-product rate (numpy and TensorFlow), the ceiling every
  training figure is also given as a fraction of (FLOPs per trained character x characters/s);
- training: the seed tutorials' baseline (many-to-one, one-hot windows of 100, LSTM(128),
  softmax, batch 256) vs charlab's default model (many-to-many, Embedding, ids), both on the wall
  clock (charlab from its first finished step to its last, with start-up and saving apart);
- memory: peak RSS of both, the one-hot array the baseline needs for the whole corpus, and
  charlab training on a 10 MB corpus;
- generation of 500 characters from an LSTM(256): model.predict on a sliding window vs a
  stateful Keras layer vs charlab's numpy step;
- learning: validation loss of the default settings over `--minutes` of training (the curve);
- start-up: `import charlab` vs `import tensorflow`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from charlab.errors import CharlabError  # noqa: E402

DEFAULT_CORPUS = "sample:tiny_shakespeare"  # shipped in sample_texts/classics/: a fresh clone has it


def read_corpus(corpus: str) -> str:
    """CORPUS as the command line takes it: a path, or sample:KEY."""
    from charlab.text.samples import read_source

    return read_source(corpus)[0]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# ---------------------------------------------------------------- parts (each in a subprocess)


class Log:
    """A bench's lines: printed, and with a path also written there line by line, so a long run keeps what it
    measured even when it is stopped."""

    def __init__(self, path: str | None):
        self._out = open(path, "w", encoding="utf-8") if path else None  # noqa: SIM115 - open for the whole run

    def __call__(self, line: str) -> None:
        print(line, flush=True)
        if self._out:
            self._out.write(line + "\n")
            self._out.flush()

    def close(self) -> None:
        if self._out:
            self._out.close()


def load_words() -> str:
    """The machine's load average (1, 5, 15 minutes), which each bench prints beside its figures."""
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def settings_from_words(words: str, **extra_types: type) -> dict:
    """'units=32,dropout=0.2' -> {'units': 32, 'dropout': 0.2}, typed as ModelConfig's fields are (and as
    `extra_types` says for other names, e.g. minutes=float): a bench's --try."""
    from charlab.network.model import ModelConfig

    types = {**{name: type(value) for name, value in ModelConfig().to_dict().items()}, **extra_types}
    pairs = (part.split("=", 1) for part in words.split(",") if part.strip())
    return {name.strip(): types[name.strip()](value) for name, value in pairs}


def part_baseline_train(corpus: str, seconds: float) -> dict:
    """The seed tutorials' recipe, measured on a slice of the corpus (all of it would need GBs)."""
    import numpy as np

    from charlab.network.model import import_keras

    keras = import_keras()
    text = read_corpus(corpus)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    seq, vocab = 100, len(chars)
    n_windows = 30_000  # enough batches for a steady figure; 30,000·100·V bytes of one-hot
    ids = np.array([index[c] for c in text[: n_windows + seq + 1]], dtype=np.int32)
    x = np.zeros((n_windows, seq, vocab), dtype=bool)
    for t in range(seq):  # one-hot windows, as the tutorials build them
        x[np.arange(n_windows), t, ids[t : t + n_windows]] = True
    y = np.zeros((n_windows, vocab), dtype=bool)
    y[np.arange(n_windows), ids[seq : seq + n_windows]] = True
    model = keras.Sequential([keras.Input((seq, vocab)), keras.layers.LSTM(128), keras.layers.Dense(vocab, "softmax")])
    model.compile(optimizer=keras.optimizers.Adam(clipvalue=1.0), loss="categorical_crossentropy")
    model.fit(x[:512], y[:512], batch_size=256, epochs=1, verbose=0)  # build and trace outside the timing
    timer = _Timer(keras, seconds)
    started = time.perf_counter()
    model.fit(x, y, batch_size=256, epochs=1000, verbose=0, callbacks=[timer])
    elapsed = time.perf_counter() - started
    windows = timer.batches * 256
    full_onehot_gb = (len(text) - seq) * seq * vocab / 1e9
    forward = seq * 2 * (vocab + 128) * 4 * 128 + 2 * 128 * vocab  # one window: 100 LSTM steps, one softmax
    return {
        "chars_per_second": windows / elapsed,  # each window predicts one character; wall clock, traced before
        "flops_per_char": 3 * forward,  # forward + backward
        "peak_rss_mb": peak_rss_mb(),
        "onehot_full_corpus_gb": full_onehot_gb,
        "onehot_slice_gb": x.nbytes / 1e9,
    }


class _Timer:
    """Stops fit after `seconds` (a Keras callback built on first use)."""

    def __new__(cls, keras, seconds):
        class Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.batches, self.deadline = 0, time.perf_counter() + seconds

            def on_train_batch_end(self, batch, logs=None):
                self.batches += 1
                if time.perf_counter() > self.deadline:
                    self.model.stop_training = True

        return Timer()


def part_charlab_train(corpus: str, seconds: float, repeat: int = 1, root: str | None = None, **overrides) -> dict:
    """charlab's default settings trained through TrainingJob for `seconds` by the clock (as the app's
    minutes do), timed on the wall clock: start-up, training and saving apart. The run is saved under
    `root` (a new temporary folder when None) and its folder returned, for a bench that reads it."""
    import tempfile
    import threading

    from charlab.learning.training import TrainingJob
    from charlab.network.model import ModelConfig, step_work

    text = read_corpus(corpus) * repeat
    config = ModelConfig(**{**ModelConfig().to_dict(), "epochs": 1000, **overrides})
    job = TrainingJob(text, config, name="bench", root=root or tempfile.mkdtemp(prefix="charlab-bench-"),
                      budget_seconds=seconds)  # fmt: skip
    steps = []  # (wall-clock time, steps done), read every 10 ms
    started = time.perf_counter()
    threading.Thread(target=job.run, daemon=True).start()
    while not job.done:
        steps.append((time.perf_counter(), job.trained_steps))
        time.sleep(0.01)
    ended = time.perf_counter()
    p = job.snapshot()
    first = next(t for t, n in steps if n >= 1)  # the first step has finished
    last = next(t for t, n in steps if n >= p.step)  # the last one has
    chars_per_step = config.batch_size * config.seq_length
    _, flops_per_step = step_work(config, p.vocab_size)
    return {
        "chars_per_second": (p.step - 1) * chars_per_step / (last - first),  # wall clock, epoch ends included
        "chars_per_second_in_batches": p.chars_per_second,  # the time inside batches only, as the page shows
        "startup_seconds": first - started,
        "saving_seconds": ended - last,
        "flops_per_char": flops_per_step / chars_per_step,
        "peak_rss_mb": peak_rss_mb(),
        "curve": [(row["seconds"], row["val_loss"]) for row in p.history],
        "best_val_loss": p.best_val_loss,
        "epochs": len(p.history),
        "steps": p.step,
        "corpus_mb": len(text.encode("utf-8")) / 1e6,
        "config": config.to_dict(),
        "run_path": str(p.run_path),
    }


def part_gemm(sizes: tuple[int, ...] = (1024, 2048)) -> dict:
    """The machine's fp32 matrix-product rate (the arithmetic ceiling of training), numpy and TensorFlow,
    best of a few repeats; and TensorFlow's rate (as charlab runs it: one thread per product) on the
    default network's recurrent product, h @ U, at batch 64 and 256."""
    import numpy as np

    from charlab.network.cells import cell_type
    from charlab.network.model import ModelConfig, import_keras

    def best_rate(multiply, m: int, k: int, n: int, repeats: int) -> float:
        multiply()  # warm-up
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            multiply()
            best = min(best, time.perf_counter() - started)
        return 2 * m * k * n / best / 1e9

    import_keras()
    import tensorflow as tf

    rng = np.random.default_rng(0)
    out = {}
    for size in sizes:
        a, b = rng.standard_normal((size, size), dtype=np.float32), rng.standard_normal((size, size), dtype=np.float32)
        ta, tb = tf.constant(a), tf.constant(b)
        out[f"numpy_{size}"] = best_rate(lambda a=a, b=b: a @ b, size, size, size, 5)
        tf_product = lambda ta=ta, tb=tb: tf.linalg.matmul(ta, tb).numpy()  # noqa: E731
        out[f"tensorflow_{size}"] = best_rate(tf_product, size, size, size, 5)
    config = ModelConfig()
    width = cell_type(config.cell).gates * config.units
    u = tf.constant(rng.standard_normal((config.units, width), dtype=np.float32))
    for batch in (64, 256):  # the default GRU(256): (batch, 256) @ (256, 768) at every character of a window
        h = tf.constant(rng.standard_normal((batch, config.units), dtype=np.float32))
        rate = best_rate(lambda h=h: tf.linalg.matmul(h, u).numpy(), batch, config.units, width, 200)
        out[f"recurrent_step_{batch}"] = rate
    out["ceiling"] = max(v for k, v in out.items() if not k.startswith("recurrent_step"))
    return out


def part_step_variant(seconds: float, unroll: bool = False, **overrides) -> dict:
    """Steady training speed of the default network on random ids (no validation, samples or saving),
    run in this process's thread settings: where the time of a step goes, one change at a time."""
    import numpy as np

    from charlab.network.model import ModelConfig, build_model, import_keras, step_work

    keras = import_keras()
    import tensorflow as tf

    config = ModelConfig(**{**ModelConfig().to_dict(), **overrides})
    if unroll:  # TensorFlow's loop over the sequence written out step by step instead
        original = keras.layers.GRU.__init__
        keras.layers.GRU.__init__ = lambda self, *a, **k: original(self, *a, **{**k, "unroll": True})
    vocab = 65
    model = build_model(config, vocab)
    ids = np.random.default_rng(0).integers(0, vocab, (config.batch_size * 64, config.seq_length + 1), dtype=np.int32)
    stream = tf.data.Dataset.from_tensor_slices((ids[:, :-1], ids[:, 1:])).repeat().batch(config.batch_size).prefetch(2)
    marks = []  # when each step ended

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            marks.append(time.perf_counter())
            if marks[-1] - marks[0] > seconds:
                self.model.stop_training = True

    started = time.perf_counter()
    model.fit(stream, steps_per_epoch=1_000_000, epochs=1, verbose=0, callbacks=[Clock()])
    tracing = marks[0] - started
    steps = len(marks) - 1  # timed from the end of the first (traced) step to the end of the last
    chars = steps * config.batch_size * config.seq_length
    _, flops_per_step = step_work(config, vocab)
    return {
        "chars_per_second": chars / (marks[-1] - marks[0]),
        "flops_per_char": flops_per_step / (config.batch_size * config.seq_length),
        "tracing_seconds": tracing,
    }


# what a default training step is made of, one change at a time: (label, environment, part arguments)
STEP_VARIANTS = (
    ("as charlab trains: 1 thread per op, 2 ops at a time", {}, {}),
    ("2 threads per op, 1 op at a time", {"CHARLAB_INTRA_THREADS": "2", "CHARLAB_INTER_THREADS": "1"}, {}),
    ("2 threads per op, 2 ops at a time", {"CHARLAB_INTRA_THREADS": "2", "CHARLAB_INTER_THREADS": "2"}, {}),
    ("the sequence unrolled (no TensorFlow loop)", {}, {"unroll": True}),
    ("batch 256 (4x wider products)", {}, {"batch_size": 256}),
)


def part_generation(corpus: str, n_predict: int, n_numpy: int) -> dict:
    """500 characters from an LSTM(256) (weights random: speed does not depend on them)."""
    import numpy as np

    from charlab.network.model import ModelConfig, build_model, import_keras, keras_weights
    from charlab.network.sampling import Generator, NumpyCharModel, probabilities
    from charlab.text.vocab import Vocab

    keras = import_keras()
    text = read_corpus(corpus)[:200_000]
    vocab = Vocab.from_text(text)
    config = ModelConfig(cell="lstm", units=256, embedding_dim=64)  # the generation rows compare an LSTM(256)
    model = build_model(config, len(vocab))
    seed_ids = list(vocab.encode(text[:100]))
    rng = np.random.default_rng(0)

    # 1. the tutorials' way: model.predict on the last 100 characters, once per new character
    window = list(seed_ids)
    started = time.perf_counter()
    for _ in range(n_predict):
        logits = model.predict(np.array([window[-100:]]), verbose=0)[0, -1]
        window.append(int(rng.choice(len(vocab), p=probabilities(logits, 0.8))))
    predict_cps = n_predict / (time.perf_counter() - started)

    # 2. a stateful Keras copy fed one character per call
    inputs = keras.Input(batch_shape=(1, 1), dtype="int32")
    x = keras.layers.Embedding(len(vocab), config.embedding_dim)(inputs)
    x = keras.layers.LSTM(config.units, return_sequences=True, stateful=True)(x)
    stateful = keras.Model(inputs, keras.layers.Dense(len(vocab))(x))
    stateful.set_weights(model.get_weights())
    for char_id in seed_ids:
        stateful(np.array([[char_id]]), training=False)
    started = time.perf_counter()
    char_id = seed_ids[-1]
    for _ in range(n_predict * 4):
        logits = stateful(np.array([[char_id]]), training=False).numpy()[0, -1]
        char_id = int(rng.choice(len(vocab), p=probabilities(logits, 0.8)))
    stateful_cps = n_predict * 4 / (time.perf_counter() - started)

    # 3. charlab: numpy step carrying the state
    generator = Generator(NumpyCharModel.from_config(config, keras_weights(model, config)), vocab)
    generator.write(text[:100], 50, random_seed=0)  # warm-up
    started = time.perf_counter()
    rounds = max(1, n_numpy // 500)
    for i in range(rounds):
        generator.write(text[:100], 500, temperature=0.8, random_seed=i)
    numpy_cps = rounds * 500 / (time.perf_counter() - started)

    # 4. the numpy step's probabilities against Keras' for the seed text
    keras_logits = model(np.array([seed_ids]), training=False).numpy()[0, -1]
    gap = float(np.abs(probabilities(keras_logits) - probabilities(generator.network.feed(seed_ids)[0])).max())
    return {"predict": predict_cps, "stateful": stateful_cps, "numpy": numpy_cps, "max_prob_gap": gap}


def part_import() -> dict:
    code = "import time; t=time.perf_counter(); import {}; print(time.perf_counter()-t)"
    out = {}
    for name, module in (
        ("charlab", "charlab, charlab.text.corpus, charlab.text.samples, charlab.saving.runs"),
        ("tensorflow", "tensorflow"),
    ):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        run = subprocess.run(
            [sys.executable, "-c", code.format(module)], capture_output=True, text=True, env=env, cwd=ROOT
        )
        out[name] = float(run.stdout.strip().splitlines()[-1])
    check = "import sys, charlab, charlab.text.samples, charlab.saving.runs; print('tensorflow' in sys.modules)"
    out["charlab_pulls_tensorflow"] = (
        subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT).stdout.strip() == "True"
    )
    return out


PARTS = {
    "baseline_train": part_baseline_train,
    "charlab_train": part_charlab_train,
    "generation": part_generation,
    "import": part_import,
    "gemm": part_gemm,
    "step_variant": part_step_variant,
}


def run_part(name: str, env: dict[str, str] | None = None, **kwargs) -> dict:
    """Run one part in a fresh interpreter, so peak memory and TensorFlow's thread pools are its own."""
    cmd = [sys.executable, __file__, "--part", name, "--kwargs", json.dumps(kwargs)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"part {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--minutes", type=float, default=5.0, help="training time of the learning curve")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (figures are rough)")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](**json.loads(args.kwargs))))
        return
    try:
        corpus_mb = len(read_corpus(args.corpus).encode("utf-8")) / 1e6
    except CharlabError as err:
        raise SystemExit(f"corpus {args.corpus}: {err}") from None
    quick = args.quick
    learn_seconds = 20 if quick else args.minutes * 60
    print(f"corpus: {args.corpus} ({corpus_mb:.2f} MB); cpu cores: {os.cpu_count()}")

    started = time.perf_counter()
    gemm = run_part("gemm")
    base = run_part("baseline_train", corpus=args.corpus, seconds=10 if quick else 40)
    ours = run_part("charlab_train", corpus=args.corpus, seconds=learn_seconds)
    big = run_part("charlab_train", corpus=args.corpus, seconds=15 if quick else 40, repeat=9)
    gen = run_part("generation", corpus=args.corpus, n_predict=20 if quick else 100, n_numpy=2000 if quick else 10_000)
    imp = run_part("import")
    variant_seconds = 10 if quick else 30
    variants = [
        (label, run_part("step_variant", env=env, seconds=variant_seconds, **kw)) for label, env, kw in STEP_VARIANTS
    ]
    ceiling = gemm["ceiling"] * 1e9

    def of_ceiling(metrics: dict) -> str:
        rate = metrics["chars_per_second"] * metrics["flops_per_char"]
        return f"{rate / 1e9:.0f} GFLOP/s = {rate / ceiling:.0%} of the ceiling"

    settings = ours["config"]
    model_words = (
        f"{settings['cell'].upper()} {settings['units']}, embedding {settings['embedding_dim']}, "
        f"batch {settings['batch_size']}, {settings['schedule']} rate {settings['learning_rate']:g}"
    )
    rows = [
        (
            "arithmetic: fp32 matrix product, numpy / TensorFlow (2048)",
            f"{gemm['numpy_2048']:.0f} / {gemm['tensorflow_2048']:.0f} GFLOP/s",
            f"ceiling = the best of them at 1024 and 2048: {gemm['ceiling']:.0f} GFLOP/s",
        ),
        (
            "arithmetic: the default network's h @ U, batch 64 / 256",
            f"{gemm['recurrent_step_64']:.0f} / {gemm['recurrent_step_256']:.0f} GFLOP/s",
            "(TensorFlow, one thread per product as charlab trains)",
        ),
        (
            "training: baseline (one-hot, many-to-one, LSTM 128, batch 256)",
            f"{base['chars_per_second']:,.0f} chars/s",
            f"wall clock; {base['flops_per_char'] / 1e6:.1f} MFLOP per char, {of_ceiling(base)}",
        ),
        (
            f"training: charlab default (ids, many-to-many, {model_words})",
            f"{ours['chars_per_second']:,.0f} chars/s",
            f"wall clock, first step to last; {ours['chars_per_second'] / base['chars_per_second']:.1f}x baseline; "
            f"{ours['flops_per_char'] / 1e6:.2f} MFLOP per char, {of_ceiling(ours)}",
        ),
        (
            "training: charlab default, time inside batches only",
            f"{ours['chars_per_second_in_batches']:,.0f} chars/s",
            "(the page's figure: validation, samples and checkpoints left out)",
        ),
        (
            "training: charlab start-up / saving at the end",
            f"{ours['startup_seconds']:.1f} s / {ours['saving_seconds']:.1f} s",
            "(start to the first finished step; last step to saved and ended)",
        ),
        (
            "memory: baseline one-hot data for the whole corpus",
            f"{base['onehot_full_corpus_gb']:.1f} GB",
            f"(not built: {base['onehot_slice_gb']:.2f} GB slice, peak RSS {base['peak_rss_mb']:,.0f} MB)",
        ),
        ("memory: charlab peak RSS, whole corpus", f"{ours['peak_rss_mb']:,.0f} MB", "(target < 1,500 MB)"),
        (
            f"memory: charlab peak RSS, {big['corpus_mb']:.0f} MB corpus",
            f"{big['peak_rss_mb']:,.0f} MB",
            f"{big['chars_per_second']:,.0f} chars/s (target well under 2,000 MB)",
        ),
        ("generation: model.predict on a sliding window", f"{gen['predict']:,.1f} chars/s", ""),
        (
            "generation: stateful Keras layer, one char per call",
            f"{gen['stateful']:,.0f} chars/s",
            f"{gen['stateful'] / gen['predict']:.0f}x predict",
        ),
        (
            "generation: charlab numpy step",
            f"{gen['numpy']:,.0f} chars/s",
            f"{gen['numpy'] / gen['predict']:,.0f}x predict (target >= 1000x and >= 25,000 chars/s)",
        ),
        (
            "generation: numpy vs Keras probabilities, max difference",
            f"{gen['max_prob_gap']:.1e}",
            "(tests hold it <= 1e-5)",
        ),
        (
            f"learning: best validation loss after {learn_seconds / 60:.1f} min",
            f"{ours['best_val_loss']:.3f} nats/char",
            f"= {ours['best_val_loss'] / math.log(2):.2f} bits/char (target <= 1.50 nats in 5 min)",
        ),
        (
            "start-up: import charlab (corpus, samples, runs)",
            f"{imp['charlab']:.2f} s",
            f"tensorflow imported: {imp['charlab_pulls_tensorflow']}",
        ),
        ("start-up: import tensorflow", f"{imp['tensorflow']:.2f} s", f"{imp['tensorflow'] / imp['charlab']:.0f}x"),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for label, figure, note in rows:
        print(f"{label:<{width}}  {figure:>18}  {note}")
    print(f"\nwhere a step's time goes: the default network on random ids, {variant_seconds:g} s of steps each")
    for label, metrics in variants:
        print(
            f"  {label:<52}{metrics['chars_per_second']:>10,.0f} chars/s  {of_ceiling(metrics)}"
            f"  (tracing {metrics['tracing_seconds']:.1f} s)"
        )
    print("\nlearning curve (seconds, validation loss):")
    print("  " + ", ".join(f"{s:.0f}s {v:.3f}" for s, v in ours["curve"]))
    print(f"\ndefault settings: {ours['config']}")
    print(f"total bench time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
