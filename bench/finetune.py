"""Start from the classics writer or from a blank network: held-out small texts, side by side (issue 20).

    python bench/finetune.py [--texts letters fairy_tale poems] [--minutes 1 5] [--starts blank writer]
                             [--out FILE]

The texts are in sample_texts/heldout/ (sources in sample_texts/README.md): none of them is part of the
writer's training text. Each trains for each of `--minutes` by the clock, from a blank network and from
the shipped writer (`charlab.learning.writers.find_writer("writer")`), one after another, each in a fresh process
(TensorFlow's thread pools and memory its own). The settings are the app's for that text: a blank network
is the Quick preset fitted to the text (`charlab.learning.presets.fit_to_text`: a small network with dropout); the
writer keeps its shape with the same training settings and fine-tuning's learning rate
(`writers.FINE_TUNE_LEARNING_RATE`); both stop early when the network starts learning the text by heart,
as every training by the clock does.

Printed per training: the network and its parameters, the wall clock (start-up and saving included),
the epochs, the writer's loss on the text before the first step, the best validation loss and when it
came, the last validation loss, the seconds from Start to the first loss point on the chart, and what the
kept network writes at T=0.8 (3 texts of 500 characters, seeds 0-2): the share of real words, judged
against the words of the writer's training text and of the small text (a word in neither is invented),
and the longest passage copied from the small text (median of the three; also at T=0.2). Last: the
writer's size on disk and the time to load and check it (as an upload is checked).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from engine import Log, load_words, settings_from_words  # noqa: E402 - shared by the benches

from charlab.learning import writers  # noqa: E402
from charlab.learning.presets import PRESETS, fit_to_text  # noqa: E402
from charlab.limits import Limits  # noqa: E402
from charlab.network.model import ModelConfig, count_parameters  # noqa: E402
from charlab.saving import runs  # noqa: E402
from charlab.teaching.copying import TrainingTextIndex, copy_report, real_word_share  # noqa: E402

HELDOUT = ROOT / "sample_texts" / "heldout"
TEXTS = ("letters", "fairy_tale", "poems")
WRITE_CHARS = 500  # Generate's default length
SEEDS = (0, 1, 2)


def settings(text: str, seconds: float, start: str, writer_ref: str = "writer") -> tuple[ModelConfig, str | None]:
    """The app's settings for `text`: the Quick preset fitted to it; from the writer, the writer's shape and
    fine-tuning's rate. Returns (settings, the writer's folder or None)."""
    fit = fit_to_text(PRESETS["quick"][2], seconds, len(text)).config
    config = replace(fit, epochs=Limits().max_epochs)  # the clock decides, as the app's minutes do
    if start == "blank":
        return config, None
    writer = writers.find_writer(writer_ref)
    return writers.fine_tune_settings(config, runs.load_run(writer).config), str(writer)


def one(text_path: str, seconds: float, start: str, changes: dict | None = None, writer_ref: str = "writer") -> dict:
    """One training by the clock through TrainingJob, timed on the wall clock (runs in a fresh process, warmed as
    the app's spare training process is: TensorFlow imported and a tiny network run once before Start)."""
    from charlab.learning.training import EARLY_STOP_WORDS, TrainingJob
    from charlab.network.model import import_keras
    from charlab.server.workers import _warm_up

    import_keras()
    _warm_up()
    text = Path(text_path).read_text(encoding="utf-8")
    config, writer = settings(text, seconds, start, writer_ref)
    config = replace(config, **(changes or {}))
    root = tempfile.mkdtemp(prefix="charlab-finetune-")
    job = TrainingJob(text, config, name=f"{Path(text_path).stem}-{start}", root=root, budget_seconds=seconds,
                      start_from=writer)  # fmt: skip
    first_point = None
    started = time.perf_counter()
    threading.Thread(target=job.run, daemon=True).start()
    while not job.done:
        if first_point is None:
            p = job.snapshot()
            if p.batch_losses or p.history or (p.start_from or {}).get("val_loss") is not None:
                first_point = time.perf_counter() - started
        time.sleep(0.01)
    wall = time.perf_counter() - started
    p = job.snapshot()
    curve = [row["val_loss"] for row in p.history]
    best = min(range(len(curve)), key=curve.__getitem__) if curve else 0
    return {
        "config": config.to_dict(),
        "vocab_size": p.vocab_size,
        "wall": wall,
        "first_point": first_point,
        "epochs": len(p.history),
        "start_loss": (p.start_from or {}).get("val_loss"),
        "best_val_loss": p.best_val_loss,
        "best_epoch": best + 1,
        "best_second": p.history[best]["seconds"] if curve else 0.0,
        "last_val_loss": curve[-1] if curve else float("nan"),
        "stopped_early": p.message == EARLY_STOP_WORDS,
        "run_path": str(p.run_path),
    }


def in_fresh_process(text_path: Path, seconds: float, start: str, changes: dict, writer_ref: str) -> dict:
    cmd = [sys.executable, __file__, "--one", json.dumps([str(text_path), seconds, start, changes, writer_ref])]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"training {text_path.name} {start} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def writing(run_path: str, index: TrainingTextIndex, dictionary: frozenset[str]) -> dict:
    """What the kept network writes: real words at T=0.8 (in `dictionary`), the longest copy at T=0.8 and 0.2."""
    generator = runs.load_run(run_path).generator()
    metrics = {}
    for temperature in (0.8, 0.2):
        written = [generator.write("", WRITE_CHARS, temperature=temperature, random_seed=s) for s in SEEDS]
        reports = [copy_report(text, index) for text in written]
        metrics[f"copy_{temperature}"] = statistics.median(len(r.longest.text) if r.longest else 0 for r in reports)
        if temperature == 0.8:
            shares = [real_word_share(text, dictionary) for text in written]
            checked = sum(n for _, n, _ in shares)
            metrics["words"] = sum(share * n for share, n, _ in shares) / checked if checked else 0.0
            metrics["sample"] = written[0][:160]
    return metrics


def writer_cost() -> dict:
    """The shipped writer's size on disk and the seconds to load and check it as an upload is checked."""
    folder = writers.find_writer("writer")
    started = time.perf_counter()
    run = runs.load_run(folder)
    return {
        "megabytes": sum(f.stat().st_size for f in folder.iterdir()) / 1e6,
        "load_seconds": time.perf_counter() - started,
        "best_val_loss": run.info.best_loss,
        "vocab_size": len(run.vocab),
    }


def writer_words() -> frozenset[str]:
    """The words of the writer's training text (bench/writer.py joins the same shipped texts)."""
    from writer import writer_text

    return TrainingTextIndex(writer_text()).words


HEADER = (f"{'text':<10} {'chars':>6} {'min':>3} {'start':<6} {'network':<16} {'params':>8} {'wall s':>6} "
          f"{'1st pt s':>8} {'epochs':>6} {'writer@0':>8} {'best val':>8} {'best @ (s)':>10} {'last val':>8} "
          f"{'words .8':>8} {'copy .8':>7} {'copy .2':>7}")  # fmt: skip


def row(name: str, n_chars: int, minutes: float, start: str, r: dict) -> str:
    config = ModelConfig(**r["config"])
    network = f"{config.cell.upper()} {config.units} d{config.dropout:g} b{config.batch_size}"
    writer_at_0 = f"{r['start_loss']:.3f}" if r["start_loss"] is not None else "-"
    first = f"{r['first_point']:.1f}" if r["first_point"] is not None else "-"
    return (f"{name:<10} {n_chars:>6,} {minutes:>3g} {start:<6} {network:<16} "
            f"{count_parameters(config, r['vocab_size']):>8,} {r['wall']:>6.0f} {first:>8} {r['epochs']:>6} "
            f"{writer_at_0:>8} {r['best_val_loss']:>8.3f} {r['best_epoch']:>4} ({r['best_second']:>3.0f}) "
            f"{r['last_val_loss']:>8.3f}{'*' if r['stopped_early'] else ' '}{r['words']:>8.0%} "
            f"{r['copy_0.8']:>7.0f} {r['copy_0.2']:>7.0f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", nargs="+", default=list(TEXTS),
                        help=f"held-out texts ({', '.join(TEXTS)}) or paths of other UTF-8 texts")  # fmt: skip
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--starts", nargs="+", default=["blank", "writer"], choices=["blank", "writer"])
    parser.add_argument("--try", dest="tries", action="append", default=[],
                        help="also start from the writer with settings changed, e.g. 'dropout=0'")  # fmt: skip
    parser.add_argument("--writer", dest="writers", action="append", default=[],
                        help="also start from this run folder (another writer, e.g. of another size)")  # fmt: skip
    parser.add_argument("--out", help="also write the table to this file")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(*json.loads(args.one))))
        return
    say = Log(args.out)
    say(f"charlab fine-tune bench · {os.cpu_count()} cores · {load_words()} · {time.strftime('%Y-%m-%d %H:%M')}")
    cost = writer_cost()
    say(f"writer: {cost['megabytes']:.2f} MB on disk, loaded and checked in {cost['load_seconds']:.2f} s, "
        f"{cost['vocab_size']} characters, its own best validation loss {cost['best_val_loss']:.3f}")  # fmt: skip
    known_words = writer_words()
    say(HEADER)
    started = time.perf_counter()
    samples = []
    # (label, start, settings changed, writer): each text trains each of these for each of --minutes
    tries = [(start, start, {}, "writer") for start in args.starts]
    tries += [(f"try{i + 1}", "writer", settings_from_words(words), "writer") for i, words in enumerate(args.tries)]
    tries += [(f"other{i + 1}", "writer", {}, ref) for i, ref in enumerate(args.writers)]
    for name in args.texts:
        path = HELDOUT / f"{name}.txt" if name in TEXTS else Path(name)
        name = path.stem
        text = path.read_text(encoding="utf-8")
        index = TrainingTextIndex(text)
        dictionary = known_words | index.words
        for minutes in args.minutes:
            for label, start, changes, writer_ref in tries:
                r = in_fresh_process(path, minutes * 60, start, changes, writer_ref)
                r.update(writing(r["run_path"], index, dictionary))
                say(row(name, len(text), minutes, label, r))
                samples.append(f"{name} {minutes:g} min {label}: {r['sample']!r}")
    for i, words in enumerate(args.tries):
        say(f"try{i + 1}: from the writer with {words}")
    for i, ref in enumerate(args.writers):
        say(f"other{i + 1}: from {ref}")
    say("*: stopped early (the text was being learned by heart)")
    say("words .8: share of words (T=0.8) found in the writer's training text or the small text")
    say("copy: longest passage (characters) copied verbatim from the small text, median of 3 texts of 500")
    for line in samples:
        say(line)
    say(f"total {time.perf_counter() - started:.0f} s · at the end {load_words()} · "
        f"python bench/finetune.py {' '.join(sys.argv[1:])}")  # fmt: skip
    say.close()


if __name__ == "__main__":
    main()
