"""Reference losses: hand-computed values, a textbook Kneser-Ney, and the exact training split."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.text.baselines import (
    DISCOUNT,
    compute_baselines,
    kneser_ney_probabilities,
    ngram_losses,
    uniform_loss,
    unigram_loss,
)
from charlab.text.data import split_ids, windows
from charlab.text.vocab import Vocab


def _ids(text: str, chars: str = "ab") -> np.ndarray:
    return np.array([chars.index(ch) for ch in text], dtype=np.int32)


def _textbook_kneser_ney(train: list[int], evaluated: list[int], v: int, k: int) -> list[float]:
    """Interpolated Kneser-Ney written straight from its definition, with dictionaries."""
    raw = {n: Counter(tuple(train[s : s + n]) for s in range(len(train) - n + 1)) for n in range(1, k + 2)}
    continuation = {n: Counter(gram[1:] for gram in raw[n + 1]) for n in range(1, k + 1)}

    def p(history: tuple[int, ...], w: int, top: bool) -> float:
        j = len(history)
        counts = raw[j + 1] if top else continuation[j + 1]
        lower = 1.0 / v if j == 0 else p(history[1:], w, top=False)
        total = sum(c for gram, c in counts.items() if gram[:-1] == history)
        types = sum(1 for gram, c in counts.items() if gram[:-1] == history and c > 0)
        if total == 0:
            return lower
        return (max(counts[history + (w,)] - DISCOUNT, 0.0) + DISCOUNT * types * lower) / total

    return [p(tuple(evaluated[max(0, t - k) : t]), evaluated[t], top=True) for t in range(1, len(evaluated))]


def test_uniform_is_log_of_the_vocabulary_size():
    assert uniform_loss(65) == pytest.approx(math.log(65))
    with pytest.raises(CharlabError):
        uniform_loss(0)


def test_unigram_by_hand():
    # "aab": a twice, b once; add one to each → p(a) = 3/5, p(b) = 2/5
    loss = unigram_loss(_ids("aab"), _ids("ab"), vocab_size=2)
    assert loss == pytest.approx(-(math.log(3 / 5) + math.log(2 / 5)) / 2)


def test_previous_character_by_hand():
    # training "aaab": "aa" twice, "ab" once, so after "a": 3 counts of 2 kinds.
    # Continuation counts: "a" and "b" each follow one kind of character → 1/2 each.
    # P(a|a) = (2 - 0.75 + 0.75·2·½) / 3 = 2/3 ;  P(b|a) = (1 - 0.75 + 0.75·2·½) / 3 = 1/3
    probs = kneser_ney_probabilities(_ids("aaab"), _ids("aab"), vocab_size=2, context=1)
    np.testing.assert_allclose(probs, [2 / 3, 1 / 3])
    # "b" was never followed by anything in training: fall back to the continuation counts (½)
    np.testing.assert_allclose(kneser_ney_probabilities(_ids("aaab"), _ids("ba"), 2, context=1), [0.5])
    assert ngram_losses(_ids("aaab"), _ids("aab"), 2, max_context=1)[1] == pytest.approx(math.log(4.5) / 2)


@pytest.mark.parametrize("context", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_textbook_definition(context, seed):
    rng = np.random.default_rng(seed)
    v = 4
    train = rng.choice(v, 300, p=[0.5, 0.3, 0.15, 0.05]).tolist()
    evaluated = rng.choice(v, 60).tolist()
    expected = _textbook_kneser_ney(train, evaluated, v, context)
    got = kneser_ney_probabilities(np.array(train), np.array(evaluated), v, context)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("context", [1, 2, 3])
def test_probabilities_sum_to_one_after_every_context(context):
    rng = np.random.default_rng(5)
    v = 3
    train = rng.choice(v, 200, p=[0.6, 0.3, 0.1])
    for history in np.ndindex(*(v,) * context):  # seen and unseen contexts alike
        total = sum(
            kneser_ney_probabilities(train, np.array([*history, w]), v, context, first_target=context)[0]
            for w in range(v)
        )
        assert total == pytest.approx(1.0)


def _structured_text(n_words: int = 6000) -> str:
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "mat", "dog", "ran", "to", "a", "log", "and", "then", "slept"]
    return " ".join(rng.choice(words, n_words)) + "\n"


def test_longer_contexts_beat_shorter_ones_on_structured_text():
    text = _structured_text()
    report = compute_baselines(text, Vocab.from_text(text), validation_fraction=0.1, seq_length=50)
    losses = [b.loss for b in report.baselines]
    assert [b.key for b in report.baselines] == ["uniform", "unigram", "context_1", "context_2", "context_3"]
    assert losses == sorted(losses, reverse=True)
    assert losses[-1] < 0.8 * losses[2]
    assert report.held_out
    assert [b.label for b in report.beaten_by(losses[2] - 1e-9)] == [
        "random guessing",
        "letter frequencies only",
        "previous 1 character",
    ]
    assert report.beaten_by(float("nan")) == []


def test_fitted_on_the_training_split_and_scored_on_val_loss_targets():
    # the validation part uses "z", which the training part never has: only add-one saves it
    text = "ab" * 200 + "zazb" * 30
    vocab = Vocab.from_text(text)
    report = compute_baselines(text, vocab, validation_fraction=0.2, seq_length=7)
    split = split_ids(vocab.encode(text), 0.2, 7)
    _, targets = windows(split.validation, 7)
    assert report.scored_characters == targets.size
    scored = split.validation[1 : targets.size + 1]
    assert report.get("unigram").loss == pytest.approx(unigram_loss(split.train, scored, len(vocab)))
    assert all(math.isfinite(b.loss) for b in report.baselines)


def test_without_validation_the_training_text_is_scored():
    text = _structured_text(500)
    report = compute_baselines(text, Vocab.from_text(text), validation_fraction=0.0, seq_length=20)
    assert not report.held_out
    assert report.scored_characters > 0.9 * len(text)


def test_sorting_fallback_for_large_vocabularies_gives_the_same_losses(monkeypatch):
    import charlab.text.baselines as baselines

    rng = np.random.default_rng(3)
    train, evaluated = rng.choice(6, 2000), rng.choice(6, 300)
    expected = ngram_losses(train, evaluated, 6)
    monkeypatch.setattr(baselines, "_MAX_TABLE", 0)  # as if the vocabulary were huge
    assert ngram_losses(train, evaluated, 6) == pytest.approx(expected, rel=1e-12)


def test_a_report_survives_a_round_trip_through_json_and_garbage_reads_as_none():
    import json

    from charlab.text.baselines import report_from_dict, report_to_dict

    text = "the cat sat on the mat. the dog sat on the log.\n" * 40
    report = compute_baselines(text, Vocab.from_text(text), 0.1, 16)
    assert report_from_dict(json.loads(json.dumps(report_to_dict(report)))) == report
    for garbage in (None, {}, {"baselines": "x"}, {**report_to_dict(report), "baselines": []},
                    {**report_to_dict(report), "baselines": [{"key": "uniform", "label": "x", "loss": "nan",
                                                              "context": None}]}):  # fmt: skip
        assert report_from_dict(garbage) is None
