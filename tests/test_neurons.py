"""Looking inside: traces equal the sampler's own steps, and a planted quote unit is found first."""

from __future__ import annotations

import math

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.network.cells import CELL_TYPES
from charlab.network.model import ModelConfig
from charlab.network.sampling import Generator, NumpyCharModel
from charlab.saving.weights import expected_shapes
from charlab.teaching.neurons import (
    HYPOTHESES,
    after_newline,
    character_kind,
    embedding_map,
    inside_brackets,
    inside_quotes,
    line_position,
    points_to_label,
    rank_all,
    rank_units,
    trace,
    unit_ranking,
    vowel_or_consonant,
)
from charlab.text.vocab import Vocab

QUOTED = (
    'he said "hello there" and left.\nshe wrote "no" then (quietly) "yes, all of it" twice.\n'
    'the end, "or the start" of a long line with no quote at all in it.\n'
) * 3


def _random_weights(cell: str, layers: int, vocab_size: int, units: int, embedding_dim: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    config = ModelConfig(cell=cell, layers=layers, units=units, embedding_dim=embedding_dim)
    shapes = expected_shapes(config, vocab_size)
    scales = {"embedding": 0.5, "logits.kernel": 0.5, "logits.bias": 0.1, "kernel": 0.4, "recurrent_kernel": 0.4}
    first = ("embedding", "logits.kernel", "logits.bias")  # drawn first, as the planted units were tuned with
    order = [*first, *(name for name in shapes if name not in first)]
    return {name: rng.normal(0, scales.get(name, scales.get(name.split(".")[-1], 0.1)), shapes[name]) for name in order}


def _quote_tracking_lstm(vocab: Vocab, units: int = 8, sign: float = 1.0) -> NumpyCharModel:
    """An LSTM whose unit 3 flips its memory cell at every double quote and holds it otherwise.

    Input gate and forget gate open/close only on '"' (embedding dimension 0); the candidate
    is -sign(h) of the unit itself, so each quote flips the cell: on inside, off outside
    (`sign` -1: the first quote pushes it negative, so it is low inside quotes and high outside).
    """
    w = _random_weights("lstm", 1, len(vocab), units, embedding_dim=3, seed=1)
    w["embedding"][:, 0] = 0.0
    w["embedding"][vocab.id_of('"'), 0] = 1.0
    u, m = 3, units
    i_col, f_col, g_col, o_col = u, m + u, 2 * m + u, 3 * m + u
    kernel, recurrent, bias = w["rnn_0.kernel"], w["rnn_0.recurrent_kernel"], w["rnn_0.bias"]
    for col in (i_col, f_col, g_col, o_col):
        kernel[:, col] = 0.0
        recurrent[:, col] = 0.0
    kernel[0, i_col], bias[i_col] = 20.0, -10.0  # input gate: open only on a quote
    kernel[0, f_col], bias[f_col] = -20.0, 10.0  # forget gate: forget only on a quote
    recurrent[u, g_col], bias[g_col] = -10.0, 0.5 * sign  # candidate: the opposite of the unit's current sign
    bias[o_col] = 10.0  # output gate always open
    return NumpyCharModel("lstm", 1, w)


def test_planted_quote_unit_is_ranked_first():
    vocab = Vocab.from_text(QUOTED)
    result = trace(_quote_tracking_lstm(vocab), vocab, QUOTED)
    matches = rank_units(result, "inside_quotes", top=5)
    assert (matches[0].layer, matches[0].unit) == (0, 3)
    assert matches[0].correlation > 0.9
    assert {(m.unit, m.state) for m in matches[:2]} == {(3, "hidden"), (3, "cell")}
    assert matches[0].describe().startswith("Unit 3 of layer 1 (")
    assert "turns on inside quotes" in matches[0].describe()
    assert all(abs(m.correlation) < 0.9 for m in matches[2:])


def test_a_unit_that_runs_the_other_way_is_ranked_first_and_described_as_turning_off():
    vocab = Vocab.from_text(QUOTED)
    result = trace(_quote_tracking_lstm(vocab, sign=-1.0), vocab, QUOTED)
    best = rank_units(result, "inside_quotes", top=5)[0]
    assert (best.layer, best.unit) == (0, 3) and best.correlation < -0.9
    assert best.describe() == (
        f"Unit 3 of layer 1 ({best.state} state) turns off inside quotes (correlation {best.correlation:+.2f})"
    )


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", list(CELL_TYPES))
def test_trace_equals_the_samplers_own_steps(cell, layers):
    text = 'the cat (sat) on "the" mat.\nthe end'
    vocab = Vocab.from_text(text)
    network = NumpyCharModel(cell, layers, _random_weights(cell, layers, len(vocab), units=6, embedding_dim=4))
    result = trace(network, vocab, text)
    state = network.initial_state()
    for t, char_id in enumerate(vocab.encode(text)):
        _, state = network.step(int(char_id), state)
        for i in range(layers):
            for k, name in enumerate(CELL_TYPES[cell].state_names):
                np.testing.assert_array_equal(result.activations(i, name)[t], state[i][k])
    generator = Generator(network, vocab)
    for t in (1, 5, len(text) - 1):
        expected = generator.next_char_probabilities(text[:t])[text[t]]
        assert result.surprise[t] == pytest.approx(-math.log(expected), rel=1e-5)
        guesses = result.top_guesses(t - 1)
        probs = generator.next_char_probabilities(text[:t])
        assert [ch for ch, _ in guesses] == sorted(probs, key=probs.get, reverse=True)[:5]
    assert result.surprise[0] == pytest.approx(math.log(len(vocab)))
    assert result.next_probabilities.shape == (len(text), len(vocab))
    if "cell" not in CELL_TYPES[cell].state_names:
        with pytest.raises(CharlabError, match="Only LSTM layers have a cell state"):
            result.activations(0, "cell")
    with pytest.raises(CharlabError, match="A layer's state is 'hidden' or 'cell', not 'memory'"):
        result.activations(0, "memory")


def test_hypothesis_signals():
    np.testing.assert_array_equal(inside_quotes('a"bc"d“e”'), [0, 1, 1, 1, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(line_position("ab\ncd"), [1, 2, 0, 1, 2])
    np.testing.assert_array_equal(inside_brackets("a(b[c])d)"), [0, 1, 1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(after_newline("a\nb"), [0, 1, 0])
    np.testing.assert_array_equal(vowel_or_consonant("aB É!"), [1, 0, np.nan, 1, np.nan])
    assert [character_kind(ch) for ch in "aZ7 ,\né€"] == [
        "vowel",
        "consonant",
        "digit",
        "space",
        "punctuation",
        "space",
        "vowel",
        "punctuation",
    ]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Tea, 2 cups!", ["consonant", "vowel", "vowel", "punctuation", "space", "digit", "space"]
         + ["consonant", "vowel", "consonant", "consonant", "punctuation"]),
        ("Grüße, Öl", ["consonant", "consonant", "vowel", "consonant", "vowel", "punctuation", "space", "vowel",
                      "consonant"]),
        ("烟雨。“江南”3", ["Han character", "Han character", "punctuation", "punctuation", "Han character",
                         "Han character", "punctuation", "digit"]),
        ("ねカー々", ["Hiragana letter", "Katakana letter", "Katakana letter", "Han character"]),
        ("Жα\u0301Ａ", ["Cyrillic letter", "Greek letter", "mark", "vowel"]),
    ],
)  # fmt: skip
def test_kinds_of_character_come_from_unicode_and_only_latin_letters_are_vowels_or_consonants(text, kinds):
    assert [character_kind(ch) for ch in text] == kinds


def test_chinese_characters_are_no_consonants_and_leave_the_vowel_question_out():
    text = "烟雨江南，春风又绿。\n（我们在山上）看见了一只小猫。\n"
    assert np.isnan(vowel_or_consonant(text)).all()
    vocab = Vocab.from_text(text)
    network = NumpyCharModel("gru", 1, _random_weights("gru", 1, len(vocab), units=5, embedding_dim=3))
    result = trace(network, vocab, text)
    assert rank_units(result, "vowel") == []  # nothing to correlate with
    assert len(rank_units(result, "inside_brackets", top=3)) == 3  # full-width brackets are brackets
    np.testing.assert_array_equal(inside_brackets("a（b）c【d】"), [0, 1, 1, 0, 0, 1, 1, 0])
    kinds = embedding_map(np.eye(len(vocab)), vocab).kinds
    assert "consonant" not in kinds and kinds.count("Han character") == sum(ch.isalpha() for ch in vocab.chars)


def test_every_hypothesis_ranks_and_an_absent_one_gives_nothing():
    text = "no quotes here, just words\nand lines\n"
    vocab = Vocab.from_text(text)
    network = NumpyCharModel("gru", 1, _random_weights("gru", 1, len(vocab), units=5, embedding_dim=3))
    result = trace(network, vocab, text)
    ranking = rank_all(result, top=3)
    assert set(ranking) == {h.key for h in HYPOTHESES}
    assert ranking["inside_quotes"] == []  # nothing to test it on
    assert len(ranking["line_position"]) == 3
    assert all(
        abs(a.correlation) >= abs(b.correlation) for a, b in zip(ranking["vowel"], ranking["vowel"][1:], strict=False)
    )
    with pytest.raises(CharlabError, match="no hypothesis"):
        rank_units(result, "smiles")
    # one list of every hypothesis' best units, strongest first, as the Look inside table shows them
    merged = unit_ranking(result, top=3)

    def key(m):
        return m.hypothesis.key, m.layer, m.state, m.unit

    assert sorted(map(key, merged)) == sorted(key(m) for found in ranking.values() for m in found)
    assert [abs(m.correlation) for m in merged] == sorted((abs(m.correlation) for m in merged), reverse=True)


def test_trace_refuses_unseen_characters_and_empty_text():
    vocab = Vocab.from_text("abc")
    network = NumpyCharModel("simple_rnn", 1, _random_weights("simple_rnn", 1, 3, units=2, embedding_dim=2))
    with pytest.raises(CharlabError, match="never saw"):
        trace(network, vocab, "abz")
    with pytest.raises(CharlabError):
        trace(network, vocab, "")


def test_embedding_map_separates_planted_groups():
    vocab = Vocab.from_text("aeiou bcdfg 123 .,!")
    rng = np.random.default_rng(0)
    embedding = rng.normal(0, 0.1, (len(vocab), 8))
    for i, ch in enumerate(vocab.chars):
        embedding[i, 2] += 3.0 if ch in "aeiou" else -1.0
    result = embedding_map(embedding, vocab)
    assert result.xy.shape == (len(vocab), 2)
    assert result.kinds[vocab.id_of("a")] == "vowel"
    assert result.kinds[vocab.id_of("1")] == "digit"
    assert result.explained[0] > result.explained[1] and sum(result.explained) <= 1 + 1e-9
    vowel_side = {np.sign(result.xy[vocab.id_of(ch), 0]) for ch in "aeiou"}
    other_side = {np.sign(result.xy[vocab.id_of(ch), 0]) for ch in "bcdfg123.,!"}
    assert len(vowel_side) == 1 and vowel_side.isdisjoint(other_side)
    assert embedding_map(np.ones((len(vocab), 1)), vocab).xy.shape == (len(vocab), 2)
    with pytest.raises(CharlabError):
        embedding_map(embedding[:3], vocab)


def test_a_big_map_writes_the_most_used_points_that_have_room_and_a_small_one_writes_all():
    rng = np.random.default_rng(0)
    xy = rng.normal(0, 1, (600, 2))
    uses = rng.integers(0, 1000, 600)
    assert points_to_label(xy[:80], uses[:80], limit=80).all()
    chosen = points_to_label(xy, uses, limit=80, room=(0.03, 0.06))
    assert 0 < chosen.sum() <= 80
    scaled = (xy - xy.min(axis=0)) / np.ptp(xy, axis=0)
    picked = np.flatnonzero(chosen)
    for a in picked:  # no two written labels overlap
        for b in picked[picked > a]:
            assert (np.abs(scaled[a] - scaled[b]) >= (0.03, 0.06)).any()
    skipped = np.flatnonzero(~chosen & (uses > uses[chosen].min()))
    assert len(skipped) > 0
    for i in skipped:  # a point more used than a written one is a dot only for want of room
        assert any((np.abs(scaled[i] - scaled[j]) < (0.03, 0.06)).all() for j in picked if uses[j] >= uses[i])
    assert chosen[np.argmax(uses)]
    crowded = np.zeros((200, 2))  # all on one spot: one label only
    assert points_to_label(crowded, np.arange(200), limit=80).tolist() == [i == 199 for i in range(200)]
