"""The command line: `python -m charlab train FILE`, `generate RUN`, `export RUN --html FILE` and `calibrate`.

The same engine as the app, for people who prefer a terminal (and for scripting). Errors a
user can cause are printed as one plain sentence, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from charlab import environment
from charlab.errors import CharlabError
from charlab.learning import calibration, presets, writers
from charlab.learning.presets import PRESETS, fit_to_text, preset
from charlab.learning.training import TrainingJob
from charlab.network import precision
from charlab.network.generation import GENERATE_SETTINGS, GenerateConfig
from charlab.network.model import MAX_EPOCHS, MODEL_SETTINGS, ModelConfig, estimate
from charlab.saving import runs
from charlab.text import corpus, samples


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    """One flag per model setting (charlab.network.model.MODEL_SETTINGS), with the app's words as its help.

    No flag has a default of its own (None: not given), so a flag given overrides a --preset's value."""
    defaults = ModelConfig()
    group = parser.add_argument_group("model and training settings")
    for setting in MODEL_SETTINGS.values():
        flag = "--" + setting.name.replace("_", "-")
        words = setting.help.replace("%", "%%")
        if setting.name == "epochs":  # no default: with --minutes the clock decides
            group.add_argument(flag, type=int, help=f"{words} (default {defaults.epochs}; with --minutes, no cap)")
        elif setting.choices is not None:
            default = getattr(defaults, setting.name)
            group.add_argument(flag, choices=list(setting.choices), help=f"{words} (default {default})")
        else:
            value_range = f"{setting.low:g} to {setting.high:g}"
            default = getattr(defaults, setting.name)
            group.add_argument(flag, type=setting.kind, help=f"{words} ({value_range}; default {default})")


def _add_generate_options(parser: argparse.ArgumentParser) -> None:
    """One flag per generation setting (charlab.network.generation.GENERATE_SETTINGS), with the app's words as its help.

    The random seed has no default here: without one, each run of the command writes a new text."""
    group = parser.add_argument_group("generation settings")
    for setting in GENERATE_SETTINGS.values():
        flag = "--" + setting.name.replace("_", "-")
        words = setting.help.replace("%", "%%")
        if setting.name == "random_seed":
            group.add_argument(flag, type=int, help=f"{words} ({setting.range_words()}; default: a new text each time)")
        else:
            shown = f"{setting.range_words()}; default %(default)r" if setting.kind is not str else "default: empty"
            group.add_argument(flag, type=setting.kind, default=setting.default, help=f"{words} ({shown})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m charlab",
        description="Teach a character-level recurrent network to write like a text.",
    )
    parser.add_argument("--workspace", help="folder of runs (default: $CHARLAB_HOME or ./runs)")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model on a text file", description="Train a model on a text file.")
    train.add_argument("file", help="a UTF-8 .txt file, or sample:KEY for a sample corpus (see 'samples')")
    train.add_argument("--cleaning", choices=list(corpus.CLEANING_MODES), default="keep", help="how to clean the text")
    train.add_argument("--name", help="run name (default: the file name)")
    train.add_argument("--continue", dest="resume", metavar="RUN", help="continue training this run")
    train.add_argument(
        "--from",
        dest="start_from",
        metavar="WRITER",
        help="start from a network that already writes: 'writer' for the classics writer charlab ships, or one of "
        "your runs; its shape is kept and it learns your text with a smaller step (fine-tuning)",
    )
    train.add_argument("--minutes", type=float, help="train this long by the clock, keeping the best model")
    train.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="the app's recipe: "
        + "; ".join(f"{key}: {label}" for key, (label, _, _) in PRESETS.items())
        + ". Fitted to a small text as the app does; a setting given as a flag wins.",
    )
    _add_model_options(train)

    generate = sub.add_parser("generate", help="write text with a trained run", description="Write text with a run.")
    generate.add_argument("run", help="run name, run id or run folder")
    _add_generate_options(generate)

    export = sub.add_parser(
        "export",
        help="save a run as one web page that writes offline (--html) or as a .zip (--zip)",
        description="Save a run as one web page that writes by itself, offline (--html), or as a .zip to upload "
        "into charlab again (--zip).",
    )
    export.add_argument("run", help="run name, run id or run folder")
    export.add_argument("--html", metavar="FILE", help="the web page to write (e.g. shakespeare.html)")
    export.add_argument("--zip", metavar="FILE", help="the .zip to write (My runs can add it again)")

    sub.add_parser("runs", help="list the runs in the workspace")
    sub.add_parser("samples", help="list the sample corpora")
    sub.add_parser(
        "calibrate",
        help="time this computer's matrix products and show which recipe each preset trains here",
        description="Time the matrix products of each preset's recipes in each number type this computer trains "
        "in (a few seconds), cache them, and print the table and each preset's choice.",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.typed = list(sys.argv[1:] if argv is None else argv)  # which settings the user chose, not defaulted
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "generate":
            return _generate(args)
        if args.command == "export":
            return _export(args)
        if args.command == "runs":
            return _list_runs(args)
        if args.command == "calibrate":
            return _calibrate()
        return _list_samples()
    except CharlabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def _load_text(source: str) -> tuple[str, str]:
    text, name, notes = samples.read_source(source, progress=_download_progress)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return text, name


def _download_progress(done: int, total: int | None) -> None:
    size = f" of {total / 1e6:.1f} MB" if total else ""
    print(f"\rdownloading… {done / 1e6:.1f} MB{size}", end="", file=sys.stderr, flush=True)


def _train(args: argparse.Namespace) -> int:
    chosen = {name: getattr(args, name) for name in MODEL_SETTINGS if getattr(args, name, None) is not None}
    if args.minutes is not None and args.epochs is None and args.preset is None:
        chosen["epochs"] = MAX_EPOCHS  # the clock decides
    config = ModelConfig(**chosen).checked()  # a bad flag is refused before a long download
    raw, corpus_name = _load_text(args.file)
    text = corpus.clean(raw, args.cleaning)
    writer = _writer(args, text) if args.start_from else None
    if writer is not None and args.preset is None and args.minutes is None and args.epochs is None:
        args.preset = "quick"  # as the app's Quick start: its minute, fitted to a small text, stopping before it copies
    if args.preset is not None:
        config, args.minutes = _with_preset(
            args.preset, len(text), chosen, args.minutes, writer.config if writer is not None else None
        )
    if writer is not None:
        config = _fine_tune_settings(args, config, writer.config)
    vocab_size = len(writers.grown_vocab(writer.vocab, text)) if writer else len(set(text))
    cost = estimate(config, vocab_size, len(text))
    print(
        f"{len(text):,} characters, {len(set(text))} distinct; {cost.parameters:,} parameters; "
        f"about {cost.seconds_per_epoch:.0f} s per epoch (estimate)",
        file=sys.stderr,
    )
    print(f"precision: {precision.resolve(config.precision).words}", file=sys.stderr)
    cleaning_warnings = corpus.cleaning_warnings(corpus.stats(raw), args.cleaning)
    # from a writer the network's size is fixed: "use fewer units" is no advice (its early stop keeps the best)
    parameters = None if writer is not None else cost.parameters
    for warning in cleaning_warnings + corpus.warnings(text, config.seq_length, parameters):
        print(f"warning: {warning}", file=sys.stderr)
    job = TrainingJob(
        text,
        config,
        name=args.name or Path(corpus_name).stem,
        cleaning=args.cleaning,
        corpus_name=corpus_name,
        root=args.workspace,
        resume_from=runs.find_run(args.resume, args.workspace) if args.resume else None,
        start_from=writer.path if writer else None,
        budget_seconds=args.minutes * 60 if args.minutes is not None else None,
    ).start()
    shown_texts = 0
    try:
        while not job.wait(timeout=0.5):
            shown_texts = _draw(job, shown_texts)
    except KeyboardInterrupt:
        print("\nstopping after this batch (Ctrl-C again to abandon)…", file=sys.stderr)
        job.stop()
        job.wait()
    _draw(job, shown_texts)
    progress = job.snapshot()
    print(f"\n{progress.message}", file=sys.stderr)
    if progress.run_path is not None:
        print(f"run saved in {progress.run_path}", file=sys.stderr)
    return 0 if progress.status in ("finished", "stopped") else 1


def _writer(args: argparse.Namespace, text: str) -> runs.Run:
    """The writer's run, and a word when it is a poor start for the text (few of its letters, or first guesses no
    better than the text's letter frequencies: charlab.learning.writers.writer_advice)."""
    if args.resume:
        raise CharlabError(
            "Use --continue RUN or --from WRITER, not both: a training continues a run or starts from one."
        )
    writer = runs.load_run(writers.find_writer(args.start_from, args.workspace))
    advice = writers.writer_advice(text, writer)
    if advice:
        print(f"warning: {advice}", file=sys.stderr)
    return writer


def _fine_tune_settings(args: argparse.Namespace, config: ModelConfig, writer: ModelConfig) -> ModelConfig:
    """The writer's shape, and fine-tuning's smaller step unless --learning-rate chose one."""
    shape = writers.fine_tune_config(config, writer)
    changed = [name for name in writers.SHAPE_SETTINGS if getattr(config, name) != getattr(shape, name)]
    if any(_typed(args, f"--{name.replace('_', '-')}") for name in changed):
        print(f"note: the writer's shape is kept ({writer.cell} {writer.units}×{writer.layers}, "
              f"embedding {writer.embedding_dim}); {', '.join(changed)} cannot change", file=sys.stderr)  # fmt: skip
    if not _typed(args, "--learning-rate"):
        shape = writers.fine_tune_settings(config, writer)
    print(f"starting from {args.start_from!r}: learning rate {shape.learning_rate:g}", file=sys.stderr)
    return shape


def _typed(args: argparse.Namespace, flag: str) -> bool:
    return any(word == flag or word.startswith(f"{flag}=") for word in args.typed)


def _with_preset(
    key: str, n_chars: int, chosen: dict, minutes: float | None, writer: ModelConfig | None = None
) -> tuple[ModelConfig, float]:
    """A preset's settings and minutes fitted to the text (and to the `writer` a fine-tune starts from), as the
    app's Preset control does; the flags given win. By the clock, as the app: the epochs only cap it at the most
    a training may have, so a small text's training ends by its minutes or its early stop, not after 20 passes."""
    _, seconds, recipe = preset(key)  # this machine's recipe (charlab.learning.calibration)
    fit = writers.fine_tune_fit(recipe, seconds, n_chars, writer) if writer else fit_to_text(recipe, seconds, n_chars)
    config = replace(fit.config, **{"epochs": MAX_EPOCHS, **chosen}).checked()
    minutes = minutes if minutes is not None else fit.seconds / 60
    fitted = ", fitted to this small text" if fit.fitted else ""
    plural = "" if minutes == 1 else "s"
    print(f"preset {key}{fitted}: {config.cell} {config.units}, {minutes:g} minute{plural}", file=sys.stderr)
    return config, minutes


def _draw(job: TrainingJob, shown_texts: int) -> int:
    """A one-line progress bar on stderr, and each new epoch's text once."""
    p = job.snapshot()
    for written in p.epoch_texts[shown_texts:]:
        print(
            f"\n--- written after epoch {written['epoch']} (temperature {written['temperature']}) ---", file=sys.stderr
        )
        print(written["text"], file=sys.stderr)
    width = 30
    filled = int(width * p.fraction)
    loss = f"loss {p.batch_losses[-1][1]:.3f}" if p.batch_losses else p.status
    val = f" val {p.history[-1]['val_loss']:.3f}" if p.history else ""
    eta = f" ETA {_clock(p.eta)}" if p.eta else ""
    epochs = "" if p.budget_seconds else f"/{p.epochs}"  # by the clock, the epochs are only a cap
    line = (
        f"\r[{'#' * filled}{'-' * (width - filled)}] {p.fraction:4.0%} epoch {p.epoch}{epochs} {loss}{val}"
        f" | {p.chars_per_second:,.0f} chars/s | {_clock(p.elapsed)}{eta} "
    )
    print(line, end="", file=sys.stderr, flush=True)
    return len(p.epoch_texts)


def _clock(seconds: float | None) -> str:
    seconds = int(seconds or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _generate(args: argparse.Namespace) -> int:
    chosen = GenerateConfig(**{name: getattr(args, name) for name in GENERATE_SETTINGS}).checked()
    run = runs.load_run(runs.find_run(args.run, args.workspace))
    generator = run.generator()
    seed = run.vocab.encode_seed(chosen.seed_text)
    if seed.dropped:
        shown = " ".join(repr(ch) for ch in seed.dropped)
        print(f"note: the model never saw {shown}; left out of the seed text", file=sys.stderr)
    stream = generator.generate(chosen.seed_text, chosen.length, **chosen.sampling_options())
    started = time.perf_counter()
    sys.stdout.write(seed.text)
    for ch in stream:
        sys.stdout.write(ch)
        sys.stdout.flush()
    sys.stdout.write("\n")
    print(f"({chosen.length / max(time.perf_counter() - started, 1e-9):,.0f} chars/s)", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    """Write the run as a web page and/or a .zip; each file whole or not at all."""
    from charlab.saving import archives, webpage

    if not args.html and not args.zip:
        raise CharlabError("Say what to write: --html FILE for a web page, --zip FILE for a .zip (or both).")
    path = runs.find_run(args.run, args.workspace)
    if args.html:
        _write_file(args.html, webpage.export_html(path).encode("utf-8"))
    if args.zip:
        _write_file(args.zip, archives.export_zip(path))
    return 0


def _write_file(name: str, payload: bytes) -> None:
    target = Path(name)
    if target.is_dir():
        raise CharlabError(f"'{name}' is a folder: give a file name, e.g. {target / 'run.html'}.")
    if not target.parent.is_dir():
        raise CharlabError(f"The folder '{target.parent}' does not exist; create it first or choose another.")
    runs.write_bytes_atomic(target, payload)
    print(f"wrote {target} ({len(payload) / 1e6:.2f} MB)", file=sys.stderr)


def _list_runs(args: argparse.Namespace) -> int:
    infos = runs.list_runs(args.workspace)
    if not infos:
        print("no runs yet: train one with 'python -m charlab train FILE'")
    for info in infos:
        best = f"{info.best_loss:.3f}" if info.best_loss is not None else "-"
        on = "train" if info.best_loss_on == runs.TRAINING else "val"
        detail = info.damaged or f"{info.config.cell} {info.config.units}×{info.config.layers}, best {on} loss {best}"
        print(f"{info.name:<30} {info.status:<12} {info.created[:16]:<17} {detail}  [{info.run_id}]")
    return 0


def _list_samples() -> int:
    for sample in samples.SAMPLES:
        where = "offline" if samples.is_offline(sample.key) else "needs the internet once"
        size = f"~{sample.approx_size:>9,} chars"
        print(f"sample:{sample.key:<18} {sample.title:<24} {size}  {where:<8}  {sample.description}")
    return 0


def _calibrate() -> int:
    intra, inter = environment.tensorflow_threads()
    timing = " and ".join(calibration.dtypes_here())
    print(f"calibrating on {calibration.cpu_model()} · TensorFlow {calibration.tensorflow_version()} · threads "
          f"{intra}/{inter} · timing {timing} · load {os.getloadavg()[0]:.1f}")  # fmt: skip
    started = time.perf_counter()
    seconds = calibration.calibration(again=True, full=True, winners=presets.winners())
    print("\n".join(presets.calibration_table(seconds)))
    path = calibration.cache_path()
    kept = calibration.read_cache(calibration.cache_key()) == seconds
    where = f"kept in {path}" if kept else f"not kept: {path} could not be written"
    print(f"measured in {time.perf_counter() - started:.1f} s, {where}")
    return 0
