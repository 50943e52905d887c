"""A small text of one's own: each preset as it is (before) and fitted to the text (after), side by side.

    python bench/smalltext.py [--sizes 3 8 20] [--presets quick balanced] [--sample tiny_shakespeare]
                              [--try "units=32,dropout=0.2" ...] [--out FILE]

Texts of `--sizes` thousand characters are cut from the start of a shipped sample (cleaned as Quick
start cleans: kept as they are). Each preset trains on each text by its own time budget, through
`TrainingJob` in a fresh process (bench/engine.py's training part, with the app's cap of 500 epochs),
once as `charlab.learning.presets.PRESETS` has it and once as `charlab.learning.presets.fit_to_text` fits it (plus any
`--try` variants: the fitted preset with some settings changed), one after another. Printed per
training: the network, its parameters, the minutes asked and the wall clock it took (start-up and
saving included), the epochs run, the best validation loss and the epoch (and second) it came at,
the last epoch's validation loss, and what the kept network writes: the share of real words at T=0.8
and the longest passage copied from the text at T=0.8 and T=0.2 (charlab.teaching.copying, as Generate's "Is
it copying?" counts them; 3 texts of 500 characters each, words pooled, the median copy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import ROOT, Log, load_words, run_part, settings_from_words  # noqa: E402 - engine.py's training part

from charlab.learning.presets import PRESETS, fit_to_text  # noqa: E402
from charlab.limits import Limits  # noqa: E402
from charlab.network.cells import CELL_TYPES  # noqa: E402
from charlab.network.model import ModelConfig, count_parameters  # noqa: E402
from charlab.saving import runs  # noqa: E402
from charlab.teaching.copying import TrainingTextIndex, copy_report  # noqa: E402
from charlab.text import samples  # noqa: E402
from charlab.text.corpus import clean  # noqa: E402
from charlab.text.vocab import Vocab  # noqa: E402

WRITE_CHARS = 500  # Generate's default length
SEEDS = (0, 1, 2)


def network_words(config: ModelConfig) -> str:
    return f"{CELL_TYPES[config.cell].label} {config.units} d{config.dropout:g} b{config.batch_size}"


def variant_of(config: ModelConfig, seconds: float, words: str) -> tuple[ModelConfig, float]:
    """A --try variant of the fitted preset: its settings and minutes changed as `words` says."""
    changes = settings_from_words(words, minutes=float)
    minutes = changes.pop("minutes", None)
    return replace(config, **changes), minutes * 60 if minutes else seconds


def writing(run_path: str, index: TrainingTextIndex) -> dict:
    """What the kept network writes: real words at T=0.8, the longest copied passage at T=0.8 and T=0.2."""
    generator = runs.load_run(run_path).generator()
    metrics = {}
    for temperature in (0.8, 0.2):
        reports = [
            copy_report(generator.write("", WRITE_CHARS, temperature=temperature, random_seed=seed), index)
            for seed in SEEDS
        ]
        checked = sum(r.words_checked for r in reports)
        real = sum(r.real_word_share * r.words_checked for r in reports)
        metrics[f"words_{temperature}"] = real / checked if checked else 0.0
        metrics[f"copy_{temperature}"] = statistics.median(len(r.longest.text) if r.longest else 0 for r in reports)
    return metrics


def train(corpus_path: str, config: ModelConfig, seconds: float, root: str) -> dict:
    started = time.perf_counter()
    r = run_part("charlab_train", corpus=corpus_path, seconds=seconds, root=root,
                 **{**config.to_dict(), "epochs": Limits().max_epochs})  # fmt: skip
    r["wall"] = time.perf_counter() - started
    curve = [v for _, v in r["curve"]]
    best = min(range(len(curve)), key=curve.__getitem__) if curve else 0
    r["best_epoch"], r["best_second"] = best + 1, r["curve"][best][0] if curve else 0.0
    r["final_val_loss"] = curve[-1] if curve else float("nan")
    return r


HEADER = (f"{'text':>6} {'preset':<9} {'':<6} {'network':<18} {'params':>8} {'min':>4} {'wall s':>7} {'epochs':>6} "
          f"{'best val':>8} {'best @ epoch (s)':>17} {'last val':>8} {'words .8':>8} {'copy .8':>7} "
          f"{'copy .2':>7}")  # fmt: skip


def row(size: int, preset: str, variant: str, config: ModelConfig, vocab_size: int, seconds: float, r: dict) -> str:
    at = f"{r['best_epoch']} ({r['best_second']:.0f} s)"
    return (f"{size:>5}k {preset:<9} {variant:<6} {network_words(config):<18} "
            f"{count_parameters(config, vocab_size):>8,} "
            f"{seconds / 60:>4g} {r['wall']:>7.0f} {r['epochs']:>6} {r['best_val_loss']:>8.3f} {at:>17} "
            f"{r['final_val_loss']:>8.3f} {r['words_0.8']:>8.0%} {r['copy_0.8']:>7.0f} "
            f"{r['copy_0.2']:>7.0f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 8, 20], help="text sizes, thousands of characters")
    parser.add_argument("--presets", nargs="+", default=["quick", "balanced"], choices=list(PRESETS))
    parser.add_argument("--sample", default="tiny_shakespeare", help="the shipped sample the texts are cut from")
    parser.add_argument("--variants", nargs="+", default=["before", "after"], choices=["before", "after"])
    parser.add_argument("--try", dest="tries", action="append", default=[],
                        help="a variant of the fitted preset, e.g. 'units=32,dropout=0.2' (repeatable)")  # fmt: skip
    parser.add_argument("--cap-minutes", type=float, help="train each for at most this long (a smoke run)")
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()
    say = Log(args.out)
    full = clean(samples.load_sample(args.sample), "keep")
    say(f"charlab small texts · cut from {args.sample} · {os.cpu_count()} cores · {load_words()} · "
        f"{time.strftime('%Y-%m-%d %H:%M')}")  # fmt: skip
    say(HEADER)
    root = tempfile.mkdtemp(prefix="charlab-smalltext-")
    started = time.perf_counter()
    for size in args.sizes:
        text = full[: size * 1000]
        corpus_path = Path(root) / f"text-{size}k.txt"
        corpus_path.write_text(text, encoding="utf-8")
        index, vocab_size = TrainingTextIndex(text), len(Vocab.from_text(text))
        for preset in args.presets:
            _, preset_seconds, preset_config = PRESETS[preset]
            fit = fit_to_text(preset_config, preset_seconds, len(text))
            variants = {"before": (preset_config, preset_seconds), "after": (fit.config, fit.seconds)}
            chosen = [(v, *variants[v]) for v in args.variants]
            chosen += [(f"try{i + 1}", *variant_of(fit.config, fit.seconds, t)) for i, t in enumerate(args.tries)]
            for variant, config, seconds in chosen:
                seconds = min(seconds, args.cap_minutes * 60) if args.cap_minutes else seconds
                r = train(str(corpus_path), config, seconds, root)
                r.update(writing(r["run_path"], index))
                say(row(size, preset, variant, config, vocab_size, seconds, r))
    for i, t in enumerate(args.tries):
        say(f"try{i + 1}: the fitted preset with {t}")
    say(f"total {time.perf_counter() - started:.0f} s · at the end {load_words()} · "
        f"python bench/smalltext.py {' '.join(sys.argv[1:])} (in {ROOT.name})")  # fmt: skip
    say.close()


if __name__ == "__main__":
    main()
