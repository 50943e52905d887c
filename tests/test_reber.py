"""The Reber grammar: generators stay inside it, the checker finds the first mistake exactly."""

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.text.reber import (
    GrammarScore,
    first_error,
    generate_embedded_reber,
    generate_reber,
    grammar_lines,
    grammar_score,
    is_embedded_reber,
    is_reber,
    reber_corpus,
)


@pytest.mark.parametrize("seed", range(20))
def test_generated_strings_are_grammatical(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        plain = generate_reber(rng)
        assert is_reber(plain), plain
        assert not is_embedded_reber(plain)  # a plain string never has B as its third symbol
        embedded = generate_embedded_reber(rng)
        assert is_embedded_reber(embedded), embedded
        assert embedded[1] == embedded[-2] and embedded[1] in "TP"


def test_generators_use_every_branch():
    rng = np.random.default_rng(0)
    text = "".join(generate_embedded_reber(rng) for _ in range(500))
    assert set(text) == set("BTSXPVE")
    outer = {generate_embedded_reber(rng)[1] for _ in range(100)}
    assert outer == {"T", "P"}


@pytest.mark.parametrize("s", ["BTSSXXTVVE", "BPVVE", "BTXSE", "BPTTVPXVVE", "BTXXVPSE", "BPVPSE"])
def test_valid_plain_strings(s):
    assert is_reber(s)
    assert first_error(s, embedded=False) is None


@pytest.mark.parametrize("s", ["BTBTSSXXTTVVETE", "BPBPVVEPE", "BTBTXSETE", "BPBTXXVPSEPE"])
def test_valid_embedded_strings(s):
    assert is_embedded_reber(s)
    assert first_error(s) is None


@pytest.mark.parametrize(
    ("s", "embedded", "index"),
    [
        ("BTBTXSEPE", True, 7),  # outer letters differ: T ... P
        ("BPBPVVETE", True, 7),
        ("BTBTSSXXTTVVETE", False, 2),  # embedded string is not a plain one: B after T
        ("BTSP", False, 3),  # state 2 allows S or X, not P
        ("BPX", False, 2),  # state 3 allows T or V
        ("TSXE", False, 0),  # must start with B
        ("BTXXE", False, 4),  # state 3 allows T or V, not E
        ("BTXSEE", False, 5),  # extra character after the final E
        ("BTXSE\n", False, 5),  # a newline is just another wrong character
        ("BTBTXSETEX", True, 9),
        ("BXBTXSETE", True, 1),  # second letter must be T or P
        ("BTTTXSETE", True, 2),  # the inner string must start with B
        ("B TBTXSETE", True, 1),
        ("btbtxsete", True, 0),  # symbols are upper case
    ],
)
def test_first_error_on_wrong_strings(s, embedded, index):
    assert first_error(s, embedded) == index
    check = is_embedded_reber if embedded else is_reber
    assert not check(s)


@pytest.mark.parametrize(
    ("s", "embedded"),
    [
        ("", True),
        ("", False),
        ("B", True),
        ("BT", True),
        ("BTBTXS", True),
        ("BTBTXSE", True),
        ("BTBTXSET", True),
        ("BTXS", False),
        ("B", False),
    ],
)
def test_ending_too_early_points_at_the_end(s, embedded):
    assert first_error(s, embedded) == len(s)


def test_grammar_score_counts_complete_lines_only():
    text = "BTBTXSETE\nBPBPVVEPE\nBTBTXSEPE\n\nBPBPVV"  # last line cut off by the sample length
    assert grammar_score(text) == GrammarScore(total=3, grammatical=2, share=pytest.approx(2 / 3))
    # with a final newline the last line counts, and here it is too short
    assert grammar_score(text + "\n").total == 4
    assert grammar_score(text + "\n").grammatical == 2


def test_grammar_score_plain_and_empty():
    assert grammar_score("BTXSE\nBPVVE\nBTT\n", embedded=False) == GrammarScore(3, 2, pytest.approx(2 / 3))
    assert grammar_score("") == GrammarScore(0, 0, 0.0)
    assert grammar_score("BTBTXSETE") == GrammarScore(0, 0, 0.0)  # only a cut-off line
    assert grammar_score("\n\n\n") == GrammarScore(0, 0, 0.0)


def test_grammar_score_of_a_real_corpus_is_perfect():
    score = grammar_score(reber_corpus(200, seed=3))
    assert score == GrammarScore(200, 200, 1.0)
    assert grammar_score(reber_corpus(200, seed=3, embedded=False), embedded=False).share == 1.0


def test_reber_corpus_is_deterministic_and_newline_terminated():
    first = reber_corpus(300, seed=7)
    assert first == reber_corpus(300, seed=7)
    assert first != reber_corpus(300, seed=8)
    assert first.endswith("\n") and first.count("\n") == 300
    assert all(is_embedded_reber(line) for line in first.splitlines())
    assert all(is_reber(line) for line in reber_corpus(50, seed=7, embedded=False).splitlines())


@pytest.mark.parametrize("n_strings", [0, -1, 2.5, "10", True])
def test_reber_corpus_rejects_bad_counts(n_strings):
    with pytest.raises(CharlabError, match="number of Reber strings"):
        reber_corpus(n_strings)


def test_reber_corpus_rejects_bad_seed():
    with pytest.raises(CharlabError, match="seed"):
        reber_corpus(10, seed=-1)


def test_grammar_score_rejects_non_text():
    with pytest.raises(CharlabError):
        grammar_score(None)  # type: ignore[arg-type]


def test_grammar_lines_leave_out_the_cut_off_last_line_and_blanks():
    assert grammar_lines("BTSXSE\n\nBPVVE\nBTX") == ["BTSXSE", "BPVVE"]
    assert grammar_lines("BTSXSE\n") == ["BTSXSE"] and grammar_lines("BTX") == []
