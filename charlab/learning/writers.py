"""Start a training from a writer: a network that already knows English, fine-tuned on a student's small text.

A writer is any saved run (the classics writer charlab ships, or one of the user's own). Starting
from it fixes the network's shape (cell, units, layers, embedding size: its weights have that
shape), keeps every weight it learned, and grows its vocabulary by the characters of the new text
it never saw: each gets a small random embedding row and an output column whose bias makes the
network predict it rarely at first (about `NEW_CHARACTER_PRIOR`), so the writer's first guesses
on the new text are still its own. Plain numpy: the weights cross here as checked arrays
(charlab.saving.weights), never as a model file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from charlab.errors import CharlabError
from charlab.learning.presets import TextFit, fit_to_text
from charlab.network.cells import cell_type
from charlab.network.model import MODEL_SETTINGS, ModelConfig
from charlab.network.sampling import NumpyCharModel
from charlab.saving import runs
from charlab.saving.run_format import ORIGIN_KEY  # noqa: F401  (where a fine-tune records its writer)
from charlab.text.baselines import unigram_loss_from_counts
from charlab.text.vocab import Vocab

# fixed by a network's weights (cell, units, layers, embedding_dim: MODEL_SETTINGS' `shape`)
SHAPE_SETTINGS = tuple(setting.name for setting in MODEL_SETTINGS.values() if setting.shape)
# half the default step size, measured: the classics writer fine-tuned 1 minute (batch 8, cosine) on 4,000
# characters of charlab's recipes (its start 2.655) reached 1.267 at 0.0025 and 1.247 at 0.005 side by side,
# but only 1.853 at 0.001 (1/5) where 0.0025 reached 1.497 beside it: 1/5 is too timid for a minute. Half keeps
# a minute's result and treads more gently on what the writer knew in a longer fine-tune (Adam starts afresh)
FINE_TUNE_LEARNING_RATE = ModelConfig().learning_rate / 2
NEW_CHARACTER_PRIOR = 1e-4  # how likely the writer first finds a character it never saw (about 1 in 10,000)
NEW_EMBEDDING_SCALE = 0.01  # the spread of a new character's embedding row (Keras' own start is ±0.05)
SHIPPED_WRITERS_DIR = Path(__file__).parents[2] / "sample_texts" / "writers"
CLASSICS_WRITER = "classics"  # `--from writer` and the Train page's "the classics writer"
WRITER_ALIASES = ("writer", CLASSICS_WRITER)
# where a training starts (the Train page's control, a lesson's "from"): the labels say it to a non-programmer
START_FROM = {"blank": "a blank network", "writer": "the classics writer"}
MOSTLY_UNSEEN_SHARE = 0.5  # above this share of a text's letters outside the writer's vocabulary, start blank
# The writer's first guesses on a text (writer_head_start) are measured on a few pieces spread through it: each
# piece's first SAMPLE_CONTEXT characters only give the network its context (a fresh state guesses the first
# characters badly on any text), the rest are scored. 4 × 450 scored characters came within 0.10 nats of the
# writer's loss on the whole text (held-out fairy tale 1.75 against 1.85, the others within 0.04), in 0.13-0.32 s
# whatever the text's length (100,000 characters: 0.14-0.24 s, 10 MB: 0.28 s; numpy, one character at a time, on
# the 2-core machine at a load of 5 to 10; python bench/writer_start.py --whole)
SAMPLE_PIECES = 4
SAMPLE_PIECE_LENGTH = 500
SAMPLE_CONTEXT = 50
# below this many scored characters the measurement says nothing (letters only, counted on the text itself, fits a
# few characters' frequencies exactly: "12345 ... !!!" has 1.7 nats of them); such a text gets no advice
MIN_SCORED = 200
# The writer is the default only when its first guesses beat the text's own letter frequencies ("letters only",
# what a blank network learns in its first seconds) by at least this many nats per character: a head start worth
# its fixed shape. Measured (python bench/writer_start.py, on the characters the writer knows; the shipped GRU 384),
# letters only against the writer's start: English lyrics 3.04 / 1.61, the held-out letters 2.98 / 1.66, fairy tale
# 3.00 / 1.74, poems 3.13 / 1.91 (the writer won on all four in bench/finetune.py, by 0.20 to 0.69 nats in a
# minute); 4,000 characters of charlab's recipes (lists, quantities) 3.12 / 2.71; a German story 3.09 / 4.28 (worse
# than letters only: the writer lost, 2.381 against a blank network's 2.178). 0.25 is well above the pieces'
# sampling error (≤ 0.10) and below the smallest head start measured on English (the recipes, 0.40): a writer
# that only ties letters only gives a fine-tune nothing to build on, where a blank network gains ~0.9 nats on
# letters only in its first minute on these small texts (German 3.16 to 2.18, the letters 2.99 to 2.23)
CLEAR_HEAD_START = 0.25
# a text of one's own below this many characters starts from the writer by default (Quick start with my text, a
# preset fitted to the text) when the writer has a clear head start on it (CLEAR_HEAD_START). Below it a blank
# network has too little text to learn English spelling before it learns the text by heart (issue 20: 4 KB of
# lyrics, blank GRU 256, best 1.785, "Running on a city looke sis"); the writer already spells. Measured at 3 to
# 30 KB (bench/finetune.py); ~100 KB is a judgement beyond that: a bigger text teaches its own spelling in a
# preset's minutes, and a preset's own network (GRU 384 for Balanced) should not be overruled by the writer's
# fixed shape
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
    weights: dict[str, np.ndarray], config: ModelConfig, old: Vocab, new: Vocab, seed: int = 0
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
    embedding = rng.normal(0.0, NEW_EMBEDDING_SCALE, (len(new), config.embedding_dim)).astype(np.float32)
    embedding[known] = weights["embedding"][rows[known]]
    kernel = np.zeros((config.units, len(new)), dtype=np.float32)
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


def fine_tune_settings(config: ModelConfig, writer: ModelConfig) -> ModelConfig:
    """`config` as a fine-tune of `writer` trains it: the writer's shape and fine-tuning's learning rate."""
    return replace(fine_tune_config(config, writer), learning_rate=FINE_TUNE_LEARNING_RATE)


def fine_tune_fit(config: ModelConfig, seconds: float, n_chars: int, writer: ModelConfig) -> TextFit:
    """A preset's `config` and `seconds` for a fine-tune on a text of `n_chars` characters: fitted to the text as a
    blank network's are (a small text overfits fast from a writer too: its batch, dropout and minutes, and the
    training's early stop, keep the best weights before it copies), with the writer's shape and fine-tuning's rate."""
    fit = fit_to_text(config, seconds, n_chars)
    return TextFit(fine_tune_settings(fit.config, writer), fit.seconds, fit.fitted)


def writer_by_default(text: str, writer: runs.Run, advise: Callable[[str], str | None] | None = None) -> bool:
    """True when a text of one's own should start from the writer unless the user says otherwise: it is small
    (WRITER_DEFAULT_MAX_CHARS) and the writer has a clear head start on it (no writer_advice; `advise` gives it
    for a text when the caller keeps it, as the app caches it per text)."""
    if not 0 < len(text) < WRITER_DEFAULT_MAX_CHARS:
        return False
    advice = advise(text) if advise is not None else writer_advice(text, writer)
    return advice is None


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


def character_counts(text: str) -> dict[str, int]:
    """How often each character appears (counted over the text's code points: 10 MB in a tenth of a second)."""
    counts = np.bincount(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32))
    return {chr(code): int(counts[code]) for code in np.flatnonzero(counts)}


def unseen_letter_share(text: str, vocab: Vocab) -> float:
    """The share of the text's letters (not spaces, digits or punctuation) that the writer never saw."""
    letters = {ch: n for ch, n in character_counts(text).items() if ch.isalpha()}
    if not letters:
        return 0.0
    return sum(n for ch, n in letters.items() if ch not in vocab) / sum(letters.values())


@dataclass(frozen=True)
class HeadStart:
    """How well the writer guesses a text before any training, beside knowing only the text's letter frequencies
    (both in nats per character, on the same sampled characters)."""

    writer_loss: float
    letters_only: float
    scored: int  # characters scored

    @property
    def nats(self) -> float:
        """How far the writer's first guesses are below letters only (negative: above)."""
        return self.letters_only - self.writer_loss

    @property
    def clear(self) -> bool:
        """A head start worth starting from the writer by default (CLEAR_HEAD_START)."""
        return self.nats >= CLEAR_HEAD_START


def sample_pieces(n_chars: int) -> list[tuple[int, int]]:
    """The sampled pieces (begin, end): SAMPLE_PIECES spread evenly through the text, or a short text whole."""
    if n_chars <= SAMPLE_PIECES * SAMPLE_PIECE_LENGTH:
        return [(0, n_chars)]
    begins = np.linspace(0, n_chars - SAMPLE_PIECE_LENGTH, SAMPLE_PIECES).astype(int)
    return [(int(begin), int(begin) + SAMPLE_PIECE_LENGTH) for begin in begins]


def writer_head_start(writer: runs.Run, text: str) -> HeadStart | None:
    """The writer's loss on a few pieces of `text` before any training (numpy, its vocabulary grown as a fine-tune
    grows it), and letters only (the text's own letter frequencies) on the same characters. Scored only where the
    next character is one the writer knows: a new character costs it ~9 nats at first (NEW_CHARACTER_PRIOR) but
    is learned in a fine-tune's first steps, and a text mostly in new letters is told apart before (writer_advice).
    None when the text is too short to say (MIN_SCORED)."""
    if len(text) <= MIN_SCORED:
        return None
    vocab = grown_vocab(writer.vocab, text)
    grown = grow_weights(writer.weights, writer.config, writer.vocab, vocab)
    network = NumpyCharModel.from_config(writer.config, grown)
    counts = character_counts(text)
    own = Vocab(sorted(counts))  # the text's own vocabulary, as a blank network's
    known = np.array([ch in writer.vocab for ch in vocab.chars])
    tops, targets, own_targets = [], [], []
    for begin, end in sample_pieces(len(text)):
        ids, own_ids = vocab.encode(text[begin:end]), own.encode(text[begin:end])
        context = min(SAMPLE_CONTEXT, (len(ids) - 1) // 2)
        state = network.initial_state()
        for i in range(len(ids) - 1):
            top, state = network.hidden_step(int(ids[i]), state)
            if i >= context and known[ids[i + 1]]:
                tops.append(top)
                targets.append(ids[i + 1])
                own_targets.append(own_ids[i + 1])
    if len(targets) < MIN_SCORED:
        return None
    logits = np.array(tops, dtype=np.float64) @ network.out_kernel + network.out_bias
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    writer_loss = float(-log_p[np.arange(len(targets)), targets].mean())
    letters_only = unigram_loss_from_counts(np.array([counts[ch] for ch in own.chars]), np.array(own_targets))
    return HeadStart(writer_loss, letters_only, len(targets))


def writer_advice(text: str, writer: runs.Run) -> str | None:
    """One line when the writer is a poor start for the text, recommending a blank network; None when it fits.
    Cheap first: most of the text's letters are outside the writer's (Chinese, Greek, Russian). Else measured: its
    first guesses are not clearly below letters only (a German text: it knows English), with the numbers."""
    share = unseen_letter_share(text, writer.vocab)
    if share > MOSTLY_UNSEEN_SHARE:
        return (
            f"{share:.0%} of this text's letters are ones the writer never saw (it knows English letters): "
            "start from a blank network instead."
        )
    head = writer_head_start(writer, text)
    if head is None or head.clear:
        return None
    than = "worse than" if head.nats <= 0 else "hardly better than"
    return (
        f"The writer knows English: on this text its first guesses are {than} knowing only how often each letter "
        f"appears ({head.writer_loss:.2f} against {head.letters_only:.2f} nats per character), so start from a "
        "blank network."
    )
