"""Start a training from a writer: a network that already knows English, fine-tuned on a student's small text.

A writer is any saved run (the classics writer charlab ships, or one of the user's own). Starting
from it fixes the network's shape (cell, units, layers, embedding size: its weights have that
shape), keeps every weight it learned, and grows its vocabulary by the characters of the new text
it never saw: each gets a small random embedding row and an output column whose bias makes the
network predict it rarely at first (about `NEW_CHARACTER_PRIOR`), so the writer's first guesses
on the new text are still its own. Plain numpy: the weights cross here as checked arrays
(charlab.weights), never as a model file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from charlab import runs
from charlab.cells import cell_type
from charlab.errors import CharlabError
from charlab.model import ModelConfig
from charlab.presets import TextFit, fit_to_text
from charlab.vocab import Vocab

SHAPE_SETTINGS = ("cell", "units", "layers", "embedding_dim")  # fixed by a network's weights
# half the default step size, measured: the classics writer fine-tuned 1 minute (batch 8, cosine) on 4,000
# characters of charlab's recipes (its start 2.655) reached 1.267 at 0.0025 and 1.247 at 0.005 side by side,
# but only 1.853 at 0.001 (1/5) where 0.0025 reached 1.497 beside it: 1/5 is too timid for a minute. Half keeps
# a minute's result and treads more gently on what the writer knew in a longer fine-tune (Adam starts afresh)
FINE_TUNE_LEARNING_RATE = ModelConfig().learning_rate / 2
NEW_CHARACTER_PRIOR = 1e-4  # how likely the writer first finds a character it never saw (about 1 in 10,000)
NEW_EMBEDDING_SCALE = 0.01  # the spread of a new character's embedding row (Keras' own start is ±0.05)
SHIPPED_WRITERS_DIR = Path(__file__).parent.parent / "sample_texts" / "writers"
CLASSICS_WRITER = "classics"  # `--from writer` and the Train page's "the classics writer"
WRITER_ALIASES = ("writer", CLASSICS_WRITER)
# where a training starts (the Train page's control, a lesson's "from"): the labels say it to a non-programmer
START_FROM = {"blank": "a blank network", "writer": "the classics writer"}
ORIGIN_KEY = "from"  # a fine-tuned run's config.json: {"name", "run_id", "val_loss", ...} of its writer
MOSTLY_UNSEEN_SHARE = 0.5  # above this share of a text's letters outside the writer's vocabulary, start blank
# a text of one's own below this many characters starts from the writer by default (Quick start with my text, a
# preset fitted to the text) when the writer knows its letters. Below it a blank network has too little text to
# learn English spelling before it learns the text by heart (issue 20: 4 KB of lyrics, blank GRU 256, best 1.785,
# "Running on a city looke sis"); the writer already spells. Measured at 3 to 30 KB (bench/finetune.py); ~100 KB is
# a judgement beyond that: a bigger text teaches its own spelling in a preset's minutes, and a preset's own network
# (GRU 384 for Balanced) should not be overruled by the writer's fixed GRU 256
WRITER_DEFAULT_MAX_CHARS = 100_000


def find_writer(ref: str | Path, root: str | Path | None = None) -> Path:
    """The run folder a training starts from: 'writer' (or 'classics') is the shipped classics writer; anything
    else is a run of the workspace (its name, id or folder), as `--continue` takes it."""
    if str(ref) in WRITER_ALIASES:
        path = SHIPPED_WRITERS_DIR / CLASSICS_WRITER
        if not (path / "config.json").exists():
            raise CharlabError(
                "This copy of charlab has no classics writer (sample_texts/writers/classics is missing). "
                "Start from a blank network, or from one of your own runs."
            )
        return path
    return runs.find_run(ref, root)


def grown_vocab(vocab: Vocab, text: str) -> Vocab:
    """The writer's vocabulary and the characters of `text` it never saw, in sorted order as every vocabulary is."""
    return Vocab(sorted(set(vocab.chars) | set(text)))


def grow_weights(
    weights: dict[str, np.ndarray], cfg: ModelConfig, old: Vocab, new: Vocab, seed: int = 0
) -> dict[str, np.ndarray]:
    """The writer's weights for the grown vocabulary `new`: every character it knew keeps its embedding row and
    output column; each new one gets a small random row (seeded) and a zero column whose bias is the log of
    `NEW_CHARACTER_PRIOR` below the writer's mean bias, so it is predicted rarely until the text teaches it."""
    missing = [ch for ch in old.chars if ch not in new]
    if missing:
        raise CharlabError("A grown vocabulary must keep every character the writer knew.")
    rows = np.array([old.id_of(ch) if ch in old else -1 for ch in new.chars])
    known = rows >= 0
    rng = np.random.default_rng(seed)
    grown = {name: array.copy() for name, array in weights.items()}
    embedding = rng.normal(0.0, NEW_EMBEDDING_SCALE, (len(new), cfg.embedding_dim)).astype(np.float32)
    embedding[known] = weights["embedding"][rows[known]]
    kernel = np.zeros((cfg.units, len(new)), dtype=np.float32)
    kernel[:, known] = weights["logits.kernel"][:, rows[known]]
    bias = np.full(len(new), _new_character_bias(weights["logits.bias"]), dtype=np.float32)
    bias[known] = weights["logits.bias"][rows[known]]
    grown.update({"embedding": embedding, "logits.kernel": kernel, "logits.bias": bias})
    return grown


def _new_character_bias(bias: np.ndarray) -> float:
    """A logit that, among the writer's (softmax of its biases), has about NEW_CHARACTER_PRIOR of the probability."""
    log_total = float(np.log(np.exp(bias - bias.max()).sum()) + bias.max())
    return log_total + math.log(NEW_CHARACTER_PRIOR / (1 - NEW_CHARACTER_PRIOR))


def fine_tune_config(config: ModelConfig, writer: ModelConfig) -> ModelConfig:
    """`config` with the writer's shape: only the training settings (rate, windows, minutes…) may change."""
    return replace(config, **{name: getattr(writer, name) for name in SHAPE_SETTINGS})


def fine_tune_fit(config: ModelConfig, seconds: float, n_chars: int, writer: ModelConfig) -> TextFit:
    """A preset's `config` and `seconds` for a fine-tune on a text of `n_chars` characters: fitted to the text as a
    blank network's are (a small text overfits fast from a writer too: its batch, dropout and minutes, and the
    training's early stop, keep the best weights before it copies), with the writer's shape and fine-tuning's rate."""
    fit = fit_to_text(config, seconds, n_chars)
    tuned = replace(fine_tune_config(fit.config, writer), learning_rate=FINE_TUNE_LEARNING_RATE)
    return TextFit(tuned, fit.seconds, fit.fitted)


def writer_by_default(text: str, vocab: Vocab) -> bool:
    """True when a text of one's own should start from the writer unless the user says otherwise: it is small
    (WRITER_DEFAULT_MAX_CHARS) and written mostly in letters the writer knows (no writer_advice)."""
    return 0 < len(text) < WRITER_DEFAULT_MAX_CHARS and writer_advice(text, vocab) is None


@dataclass(frozen=True)
class Start:
    """Where a fine-tune starts: the writer's checked settings, vocabulary and weights grown for the new text."""

    name: str
    run_id: str
    config: ModelConfig
    vocab: Vocab  # grown: the writer's characters and the text's new ones
    weights: dict[str, np.ndarray]
    new_characters: tuple[str, ...]

    def origin(self, val_loss: float | None) -> dict:
        """What a fine-tuned run records of where it started ("from" in its config.json)."""
        return {
            "name": self.name,
            "run_id": self.run_id,
            "vocab_size": len(self.vocab) - len(self.new_characters),
            "new_characters": list(self.new_characters),
            "val_loss": val_loss,
        }


def prepare_start(writer: str | Path, text: str, seed: int = 0) -> Start:
    """Load the writer's run (checked like an upload: plain arrays against its settings) and grow it for `text`."""
    run = runs.load_run(writer)
    vocab = grown_vocab(run.vocab, text)
    cell_type(run.config.cell)  # a known cell, or a clear error
    return Start(
        name=run.info.name,
        run_id=run.info.run_id,
        config=run.config,
        vocab=vocab,
        weights=grow_weights(run.weights, run.config, run.vocab, vocab, seed),
        new_characters=tuple(ch for ch in vocab.chars if ch not in run.vocab),
    )


def unseen_letter_share(text: str, vocab: Vocab) -> float:
    """The share of the text's letters (not spaces, digits or punctuation) that the writer never saw."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(ch not in vocab for ch in letters) / len(letters)


def writer_advice(text: str, vocab: Vocab) -> str | None:
    """One line when most of the text's letters are outside the writer's (Chinese, Greek, Russian): a writer that
    knows English letters helps little there, so a blank network is recommended. None when the writer fits."""
    share = unseen_letter_share(text, vocab)
    if share <= MOSTLY_UNSEEN_SHARE:
        return None
    return (
        f"{share:.0%} of this text's letters are ones the writer never saw (it knows English letters): "
        "start from a blank network instead."
    )
