"""Reference losses for the loss chart: what simple counting gets on the same validation text.

A loss of 1.9 nats/char means little on its own. Beside it, the loss of guessing at random
(ln V), of knowing only letter frequencies, and of counting which character follows the
previous 1, 2 or 3 characters tell a student what the network has learned: beating the
"previous 3 characters" line means it uses more context than a trigram table.

The counting models are fitted on the training part only and scored on the held-out part,
split exactly as training splits it (`charlab.text.data.split_ids`), on the same target
characters as Keras' `val_loss` (`charlab.text.data.windows`).

Smoothing: the unigram adds one to every count (a character never seen in training still
gets a little probability). The n-gram models use interpolated Kneser-Ney with a fixed
discount D = 0.75: every seen count gives up D, and the freed probability goes to the
next shorter context, whose counts are "continuation counts" (in how many different
contexts a character sequence appears), down to a uniform 1/V. Probabilities always sum to 1.

Counting is vectorised: each n-gram gets an integer code (np.unique on a pair of codes),
and counts are np.bincount over the codes, so a 10 MB text takes seconds, not minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from charlab.errors import CharlabError
from charlab.text import data as data_module
from charlab.text.vocab import Vocab

DISCOUNT = 0.75  # Kneser-Ney's classic fixed discount
MAX_CONTEXT = 3  # the chart shows the previous 1, 2 and 3 characters
_MAX_TABLE = 1 << 25  # largest n-gram key range renumbered with a lookup table (~160 MB while it lasts)


@dataclass(frozen=True)
class Baseline:
    """One reference line on the loss chart."""

    key: str  # "uniform", "unigram", "context_1", "context_2", "context_3"
    label: str  # plain words for the chart legend
    loss: float  # nats per character on the scored text
    context: int | None  # characters of context the model uses (None: not even letter frequencies)


@dataclass(frozen=True)
class BaselineReport:
    """All reference losses for one text, and what they were measured on."""

    baselines: tuple[Baseline, ...]
    held_out: bool  # False when there is no validation part: then scored on the training text itself
    scored_characters: int

    def get(self, key: str) -> Baseline:
        for baseline in self.baselines:
            if baseline.key == key:
                return baseline
        raise KeyError(key)

    def beaten_by(self, loss: float) -> list[Baseline]:
        """The baselines a network with this loss does better than (lower is better)."""
        return [b for b in self.baselines if math.isfinite(loss) and loss < b.loss]


def uniform_loss(vocab_size: int) -> float:
    """ln(V): every character equally likely."""
    if vocab_size < 1:
        raise CharlabError("The vocabulary is empty, so there is nothing to guess.")
    return math.log(vocab_size)


def unigram_loss(train_ids: np.ndarray, scored_ids: np.ndarray, vocab_size: int) -> float:
    """Letter frequencies of the training part, add-one smoothed, scored on `scored_ids`."""
    counts = np.bincount(np.asarray(train_ids, dtype=np.int64), minlength=vocab_size)
    return unigram_loss_from_counts(counts, scored_ids)


def unigram_loss_from_counts(counts: np.ndarray, scored_ids: np.ndarray) -> float:
    """unigram_loss from the training part's count of each character (one per vocabulary entry): a caller that
    counted a long text without encoding it all (charlab.learning.writers) gets the same loss."""
    counts = np.asarray(counts, dtype=np.float64)
    log_p = np.log(counts + 1.0) - math.log(counts.sum() + len(counts))
    return float(-log_p[np.asarray(scored_ids, dtype=np.int64)].mean()) if len(scored_ids) else float("nan")


def kneser_ney_probabilities(
    train_ids: np.ndarray, eval_ids: np.ndarray, vocab_size: int, context: int, first_target: int = 1
) -> np.ndarray:
    """P(eval_ids[t] | up to `context` previous characters of eval_ids) for t >= first_target.

    Context never reaches back into the training part; the first targets are scored by the
    shorter model their context allows (target 1 has one character before it).
    """
    return _kneser_ney_all(train_ids, eval_ids, vocab_size, [context], first_target)[context]


def ngram_losses(
    train_ids: np.ndarray, eval_ids: np.ndarray, vocab_size: int, max_context: int = MAX_CONTEXT, first_target: int = 1
) -> dict[int, float]:
    """Kneser-Ney loss (nats/char) for each context length 1..max_context, sharing the counting work."""
    contexts = list(range(1, max_context + 1))
    probs = _kneser_ney_all(train_ids, eval_ids, vocab_size, contexts, first_target)
    return {k: float(-np.log(p).mean()) if len(p) else float("nan") for k, p in probs.items()}


def compute_baselines(
    text: str,
    vocab: Vocab,
    validation_fraction: float,
    seq_length: int,
    max_context: int = MAX_CONTEXT,
) -> BaselineReport:
    """Every baseline for a text, split and scored exactly as training and `val_loss` do it."""
    ids = vocab.encode(text)
    split = data_module.split_ids(ids, validation_fraction, seq_length)
    held_out = len(split.validation) > seq_length  # training measures val_loss only then
    scored_text = split.validation if held_out else split.train
    _, targets = data_module.windows(scored_text, seq_length)
    n_targets = targets.size  # val_loss scores scored_text[1 : n_targets + 1]
    scored = scored_text[: n_targets + 1]
    v = len(vocab)
    context_losses = ngram_losses(split.train, scored, v, max_context)
    baselines = [
        Baseline("uniform", "random guessing", uniform_loss(v), None),
        Baseline("unigram", "letter frequencies only", unigram_loss(split.train, scored[1:], v), 0),
    ]
    for k, loss in context_losses.items():
        label = f"previous {k} character{'s' if k > 1 else ''}"
        baselines.append(Baseline(f"context_{k}", label, loss, k))
    return BaselineReport(baselines=tuple(baselines), held_out=held_out, scored_characters=int(n_targets))


# ---------------------------------------------------------------- interpolated Kneser-Ney


def _kneser_ney_all(
    train_ids: np.ndarray, eval_ids: np.ndarray, vocab_size: int, contexts: list[int], first_target: int
) -> dict[int, np.ndarray]:
    """Per-target probabilities for several context lengths at once (they share all counts)."""
    if any(k < 1 for k in contexts):
        raise CharlabError("An n-gram baseline needs at least one character of context.")
    train = np.asarray(train_ids, dtype=np.int64)
    evaluated = np.asarray(eval_ids, dtype=np.int64)
    n_train, v, top = len(train), vocab_size, max(contexts)
    if n_train < 2:
        raise CharlabError("The training part is too short to count which character follows which.")
    targets = np.arange(first_target, len(evaluated))
    if len(targets) == 0:
        return {k: np.zeros(0) for k in contexts}
    joined = np.concatenate([train, evaluated])
    codes = _ngram_codes(joined, top + 1, v)  # codes[n][s]: the n-gram starting at s

    # raw counts of training n-grams (those lying wholly inside the training part)
    raw = {n: np.bincount(codes[n][: max(n_train - n + 1, 0)], minlength=_n_codes(codes[n])) for n in range(1, top + 2)}
    # the code of each n-gram's prefix (drop the last char) and suffix (drop the first)
    prefix = {n: _code_map(codes[n], codes[n - 1][: len(codes[n])]) for n in range(1, top + 2)}
    suffix = {n: _code_map(codes[n], codes[n - 1][1 : len(codes[n]) + 1]) for n in range(2, top + 2)}
    # continuation count of an n-gram: how many different characters precede it in training
    continuation = {n: np.bincount(suffix[n + 1][raw[n + 1] > 0], minlength=len(raw[n])) for n in range(1, top + 1)}

    positions = n_train + targets  # index of each target in `joined`
    lower = np.full(len(targets), 1.0 / v)  # below the empty context: uniform
    top_level: dict[int, np.ndarray] = {}  # j -> P with raw counts at context j (a model's own top level)
    for j in range(0, top + 1):  # j = characters of context
        top_level[j] = _interpolate(raw[j + 1], prefix[j + 1], codes, j, positions, targets, lower)
        if j < top:  # the lower levels of longer models use continuation counts
            lower = _interpolate(continuation[j + 1], prefix[j + 1], codes, j, positions, targets, lower)
    result: dict[int, np.ndarray] = {}
    for k in contexts:
        p = top_level[k].copy()
        for j in range(k):  # the first targets have less context than k characters
            short = targets == j
            p[short] = top_level[j][short]
        result[k] = p
    return result


def _ngram_codes(ids: np.ndarray, max_n: int, vocab_size: int) -> dict[int, np.ndarray]:
    """codes[n][s] identifies the n-gram ids[s : s + n]; equal n-grams get equal codes.

    Each code is built from the (n-1)-gram code and the next id, then made dense again, so
    codes stay below len(ids) · V and never overflow.
    """
    codes = {0: np.zeros(len(ids) + 1, dtype=np.int32), 1: ids.astype(np.int32)}
    for n in range(2, max_n + 1):
        pair = codes[n - 1][: max(len(ids) - n + 1, 0)].astype(np.int64) * vocab_size + ids[n - 1 :]
        codes[n] = _dense(pair, _n_codes(codes[n - 1]) * vocab_size)
    return codes


def _dense(keys: np.ndarray, key_range: int) -> np.ndarray:
    """Renumber keys 0, 1, 2, … keeping equal keys equal (int32, to halve the memory of a 10 MB text).

    A table over every possible key needs no sorting (3x faster on 10 MB); np.unique sorts
    when the key range is too large for a table.
    """
    if key_range <= _MAX_TABLE:
        present = np.zeros(key_range, dtype=bool)
        present[keys] = True
        renumbered = np.cumsum(present, dtype=np.int32) - 1
        return renumbered[keys]
    _, inverse = np.unique(keys, return_inverse=True)
    return inverse.reshape(-1).astype(np.int32)


def _n_codes(codes: np.ndarray) -> int:
    return int(codes.max()) + 1 if len(codes) else 1


def _code_map(codes: np.ndarray, related: np.ndarray) -> np.ndarray:
    """A table: n-gram code -> code of a related (n-1)-gram (its prefix or suffix)."""
    table = np.zeros(_n_codes(codes), dtype=np.int32)
    table[codes] = related
    return table


def _interpolate(
    counts: np.ndarray,
    prefix_of: np.ndarray,
    codes: dict[int, np.ndarray],
    j: int,
    positions: np.ndarray,
    targets: np.ndarray,
    lower: np.ndarray,
) -> np.ndarray:
    """P(w | h) = (max(c(hw) - D, 0) + D · N1+(h•) · P_lower(w)) / c(h), or P_lower(w) for an unseen h.

    Targets with fewer than j characters of evaluated text before them keep `lower`.
    """
    context_total = np.bincount(prefix_of, weights=counts, minlength=len(codes[j]))
    context_types = np.bincount(prefix_of, weights=(counts > 0).astype(np.float64), minlength=len(codes[j]))
    usable = targets >= j
    starts = positions[usable] - j  # the (j+1)-gram ending at the target starts j characters back
    gram = codes[j + 1][starts]
    history = codes[j][starts]
    total = context_total[history]
    seen = total > 0
    p = lower.copy()
    mixed = np.maximum(counts[gram] - DISCOUNT, 0.0) + DISCOUNT * context_types[history] * lower[usable]
    p_usable = p[usable]
    p_usable[seen] = mixed[seen] / total[seen]
    p[usable] = p_usable
    return p


# ---------------------------------------------------------------- saved with a run


def report_to_dict(report: BaselineReport) -> dict:
    """The report as JSON data, saved in a run's config.json so its chart keeps the lines without the text."""
    return {
        "held_out": report.held_out,
        "scored_characters": report.scored_characters,
        "baselines": [{"key": b.key, "label": b.label, "loss": b.loss, "context": b.context} for b in report.baselines],
    }


def report_from_dict(data: object) -> BaselineReport | None:
    """A saved report, or None for anything that is not one (a run saved before reports were, or edited by hand)."""
    try:
        baselines = tuple(
            Baseline(
                str(b["key"]), str(b["label"]), float(b["loss"]), None if b["context"] is None else int(b["context"])
            )
            for b in data["baselines"]
        )
        report = BaselineReport(baselines, bool(data["held_out"]), int(data["scored_characters"]))
    except (TypeError, KeyError, ValueError):
        return None
    if not baselines or not all(math.isfinite(b.loss) and b.loss >= 0 for b in baselines):
        return None
    return report
