"""The copy detector: planted passages are found with their source, words and loops are measured."""

from __future__ import annotations

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.teaching.copying import (
    TrainingTextIndex,
    copy_report,
    known_pair_share,
    real_word_share,
    repetition_score,
    suffix_array,
    writes_spaces_between_words,
)

ALPHABET = "abcdefghijklmnopqrstuvwxyz     \n"


def _random_text(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(list(ALPHABET), n))


@pytest.mark.parametrize("text", ["banana", "mississippi", "aaaaaa", "a", "abcabcabc\n", "zé€a😀b"])
def test_suffix_array_sorts_suffixes_like_python(text):
    assert suffix_array(text).tolist() == sorted(range(len(text)), key=lambda i: text[i:])


def test_suffix_array_of_random_text_with_repeats():
    text = _random_text(3000, 1) * 3 + _random_text(500, 2)
    assert suffix_array(text).tolist() == sorted(range(len(text)), key=lambda i: text[i:])


def test_planted_passage_is_found_with_where_it_came_from():
    training = _random_text(50_000, 0)
    source = 31_337
    planted = training[source : source + 80]
    generated = _random_text(300, 5) + planted + _random_text(300, 6)
    report = copy_report(generated, training)
    longest = report.longest
    assert longest is not None
    assert longest.text.startswith(planted) and len(longest.text) < len(planted) + 5  # + chance extension
    assert longest.start == 300
    assert training[longest.source_start : longest.source_start + len(longest.text)] == longest.text
    assert longest.source_line == training.count("\n", 0, longest.source_start) + 1
    assert [p.start for p in report.passages] == [300]
    assert report.copied_share == pytest.approx(len(longest.text) / len(generated))


def test_two_planted_passages_are_both_listed_and_never_overlap():
    training = _random_text(20_000, 3)
    first, second = training[100:140], training[9000:9060]
    generated = "#" * 10 + first + "#" * 10 + second + "#"
    report = copy_report(generated, TrainingTextIndex(training))
    assert [(p.start, p.source_start) for p in report.passages] == [(10, 100), (60, 9000)]
    assert report.longest.text == second
    assert report.copied_share == pytest.approx(100 / len(generated))


def test_a_passage_longer_than_the_first_needle_is_found_whole():
    training = _random_text(10_000, 4)
    generated = "#" + training[2000:2700] + "#"  # longer than the 64-character first try
    assert copy_report(generated, training).longest.text == training[2000:2700]


def test_matching_agrees_with_brute_force():
    training = "the cat sat on the mat. the dog sat on the log.\n" * 3 + "a cat ran."
    index = TrainingTextIndex(training)
    query = "the cat ran on the log. a dog sat"
    lengths, sources = index.matching_lengths(query)
    for i in range(len(query)):
        expected = max(n for n in range(len(query) - i + 1) if query[i : i + n] in training)
        assert lengths[i] == expected
        assert training[sources[i] : sources[i] + lengths[i]] == query[i : i + lengths[i]]


def test_real_words_are_counted_and_the_cut_off_last_word_is_not_judged():
    words = frozenset({"the", "cat", "sat", "on", "mat"})
    share, checked, invented = real_word_share("The cat sot on thi mat", words)
    assert checked == 5  # "mat" is cut off by the end of the text
    assert share == pytest.approx(3 / 5)
    assert invented == ("sot", "thi")
    assert real_word_share("", words) == (0.0, 0, ())


def test_words_of_any_spaced_script_are_whole_words():
    german = "Grüße aus Köln: Straße, Mädchen und Bär.\n"
    share, checked, invented = real_word_share("Die Straße, das Mädchen, Grüße! ", frozenset({"straße", "grüße"}))
    assert (checked, invented) == (5, ("die", "das", "mädchen"))
    assert TrainingTextIndex(german).words == {"grüße", "aus", "köln", "straße", "mädchen", "und", "bär"}
    decomposed, hindi = "cafe\u0301", "हिन्दी"  # an accent and vowel signs are marks, not word breaks
    assert real_word_share(f"{decomposed} {hindi} .", frozenset({decomposed, hindi})) == (1.0, 2, ())


@pytest.mark.parametrize(
    ("text", "spaced"),
    [
        ("The cat sat on the mat.", True),
        ("Grüße aus Köln, schöne Straße.", True),
        ("한국어는 단어 사이에 띄어쓰기를 합니다.", True),  # Korean does put spaces between words
        ("Он сказал: «Привет».", True),
        ("烟雨江南，春风又绿。", False),
        ("吾輩は猫である。名前はまだ無い。", False),
        ("ภาษาไทยไม่เว้นวรรคระหว่างคำ", False),
        ("我们学习 Python 和 TensorFlow 的基础知识。", False),  # mostly Chinese letters
        ("12, 13; 14.", True),  # no letters: nothing speaks against words
    ],
)
def test_scripts_written_without_spaces_are_recognised(text, spaced):
    assert writes_spaces_between_words(text) is spaced


def test_chinese_is_checked_by_character_pairs_and_never_lists_a_clause_as_a_word():
    training = "烟雨江南，春风又绿江南岸。我们在山上看见了一只小猫，它在树下睡觉。\n" * 5
    generated = "烟雨江北，春风又绿。小猫在山上睡觉了。"
    report = copy_report(generated, training)
    assert not report.spaced
    assert (report.words_checked, report.invented_words) == (0, ())  # no "烟雨江北" as one made-up word
    assert report.pairs_checked == 13  # 烟雨 雨江 江北 | 春风 风又 又绿 | 小猫 猫在 在山 山上 上睡 睡觉 觉了
    assert report.unknown_pairs == ("江北", "猫在", "上睡", "觉了")
    assert report.known_pair_share == pytest.approx(1 - 4 / 13)
    assert known_pair_share("", frozenset()) == (0.0, 0, ())


def test_a_chinese_clause_in_an_english_text_is_not_a_made_up_word():
    report = copy_report("the cat said 烟雨江南 to the dog and sat.", "the cat sat on the mat.\n")
    assert report.spaced
    assert report.invented_words == ("said", "to", "dog", "and")
    assert report.words_checked == 8


def test_repetition_score_is_low_for_varied_text_and_high_for_loops():
    assert repetition_score("the cat sat on the mat and then it ran away", n=10) == 0.0
    looped = "I am the king. " * 20
    assert repetition_score(looped) > 0.9
    assert repetition_score("short") == 0.0
    report = copy_report(looped, "I am the king of the castle, said the cat.\n")
    assert report.repetition > 0.9 and report.reference_repetition < 0.1


def test_empty_inputs():
    assert copy_report("", "some training text").longest is None
    with pytest.raises(CharlabError):
        TrainingTextIndex("")
