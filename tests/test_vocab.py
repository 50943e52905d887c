"""The vocabulary: sorted, stable across processes, lossless, and strict about what it is given."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from charlab.errors import CharlabError
from charlab.text.vocab import Vocab

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Hello, Wörld! Γειά σου κόσμε. 你好，世界。 🙂🚀 naïve café\n\t$€£"


def test_ids_follow_sorted_code_points():
    vocab = Vocab.from_text(TEXT)
    assert list(vocab.chars) == sorted(set(TEXT))
    assert [ord(ch) for ch in vocab.chars] == sorted(ord(ch) for ch in set(TEXT))
    assert len(vocab) == len(set(TEXT))
    for i, ch in enumerate(vocab.chars):
        assert vocab.id_of(ch) == i
        assert ch in vocab
    assert "Z" not in vocab


def test_same_vocabulary_whatever_the_text_order():
    reference = Vocab.from_text("bca!é\n")
    for perm in itertools.permutations("bca!é\n"):
        assert Vocab.from_text("".join(perm)) == reference
    shuffled = list(TEXT * 3)
    np.random.default_rng(0).shuffle(shuffled)
    assert Vocab.from_text("".join(shuffled)) == Vocab.from_text(TEXT)
    assert hash(Vocab.from_text("".join(shuffled))) == hash(Vocab.from_text(TEXT))


def _in_subprocess(hash_seed: str) -> dict[str, str]:
    """The vocabulary JSON and the raw set order of TEXT, computed by a fresh interpreter."""
    code = (
        "import json, sys; from charlab.text.vocab import Vocab; text = sys.stdin.read(); "
        "sys.stdout.write(json.dumps({'vocab': Vocab.from_text(text).to_json(), 'set': ''.join(set(text))}))"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-c", code], input=TEXT.encode(), capture_output=True, env=env, cwd=ROOT, check=True
    )
    return json.loads(result.stdout.decode("utf-8"))


def test_same_vocabulary_in_processes_with_different_hash_seeds():
    here = Vocab.from_text(TEXT).to_json()
    first, second = _in_subprocess("1"), _in_subprocess("4242")
    assert first["set"] != second["set"]  # the premise: set order really differs between the processes
    assert first["vocab"] == second["vocab"] == here


def test_encode_decode_round_trip_including_non_ascii():
    vocab = Vocab.from_text(TEXT)
    ids = vocab.encode(TEXT)
    assert ids.dtype == np.int32
    assert ids.shape == (len(TEXT),)  # one id per character, also for emoji outside the BMP
    assert vocab.decode(ids) == TEXT
    assert vocab.decode(ids.tolist()) == TEXT
    assert ids.tolist() == [vocab.id_of(ch) for ch in TEXT]


def test_encode_empty_text():
    ids = Vocab.from_text("abc").encode("")
    assert ids.shape == (0,) and ids.dtype == np.int32
    assert Vocab.from_text("abc").decode(ids) == ""


def test_encode_a_long_text_fast_and_right():
    text = TEXT * 20_000  # ~1.3 million characters
    vocab = Vocab.from_text(TEXT)
    ids = vocab.encode(text)
    assert len(ids) == len(text)
    assert np.array_equal(ids[: len(TEXT)], vocab.encode(TEXT))
    assert vocab.decode(ids[-len(TEXT) :]) == TEXT


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("abcz", ["'z'"]),
        ("ab🙂", ["'🙂'"]),  # beyond the lookup table
        ("a\x01b", ["'\\x01'"]),  # below every code point in the vocabulary
        ("aéxé", ["'é'", "'x'"]),
    ],
)
def test_encode_refuses_unknown_characters_and_names_them(text, unknown):
    vocab = Vocab.from_text("abc")
    with pytest.raises(CharlabError) as err:
        vocab.encode(text)
    message = str(err.value)
    assert "never saw" in message
    for name in unknown:
        assert name in message
    assert "'a'" not in message and "'b'" not in message


def test_encode_seed_drops_unseen_characters_and_reports_them_in_order():
    vocab = Vocab.from_text("hello world")
    seed = vocab.encode_seed("Hello, World! 🙂 hello!")
    assert seed.text == "ello orld  hello"
    assert seed.dropped == ("H", ",", "W", "!", "🙂")
    assert vocab.decode(seed.ids) == seed.text
    assert seed.ids.dtype == np.int32


def test_encode_seed_of_known_or_empty_text():
    vocab = Vocab.from_text(TEXT)
    seed = vocab.encode_seed(TEXT)
    assert seed.text == TEXT and seed.dropped == ()
    assert np.array_equal(seed.ids, vocab.encode(TEXT))
    empty = vocab.encode_seed("")
    assert empty.text == "" and empty.dropped == () and len(empty.ids) == 0
    nothing_known = Vocab.from_text("abc").encode_seed("xyz")
    assert nothing_known.text == "" and nothing_known.dropped == ("x", "y", "z") and len(nothing_known.ids) == 0


def test_json_round_trip():
    vocab = Vocab.from_text(TEXT)
    data = vocab.to_json()
    assert json.loads(data) == list(vocab.chars)
    assert "🙂" in data  # written as the character, readable in config.json
    again = Vocab.from_json(data)
    assert again == vocab
    assert again.chars == vocab.chars
    assert np.array_equal(again.encode(TEXT), vocab.encode(TEXT))
    assert Vocab.from_json(list(vocab.chars)) == vocab  # the already-parsed list from config.json


def test_from_json_keeps_the_saved_order():
    """The saved order is the model's id order: it must not be re-sorted on loading."""
    vocab = Vocab.from_json('["b", "a", "c"]')
    assert vocab.chars == ("b", "a", "c")
    assert vocab.encode("abc").tolist() == [1, 0, 2]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ('["a", "b", "a"]', "twice"),
        ('["a", "bc"]', "single characters"),
        ('["a", ""]', "single characters"),
        ('["a", 1]', "single characters"),
        ('["a", null]', "single characters"),
        ('{"a": 0}', "not a list"),
        ('"abc"', "not a list"),
        ("42", "not a list"),
        ("null", "not a list"),
        ("[]", "empty"),
        ('["a", "b"', "damaged"),
        ("", "damaged"),
        ("not json at all", "damaged"),
    ],
)
def test_corrupted_json_vocabulary_is_refused(data, words):
    with pytest.raises(CharlabError) as err:
        Vocab.from_json(data)
    assert words in str(err.value)


def test_constructor_refuses_the_same_bad_input():
    with pytest.raises(CharlabError, match="twice"):
        Vocab(["x", "x"])
    with pytest.raises(CharlabError, match="empty"):
        Vocab([])
    with pytest.raises(CharlabError, match="empty"):
        Vocab.from_text("")
    with pytest.raises(CharlabError, match="not a list"):
        Vocab.from_json(None)


def test_equality_and_repr():
    assert Vocab.from_text("ab") != Vocab.from_text("abc")
    assert Vocab.from_text("ab") != ("a", "b")
    assert repr(Vocab.from_text("abc")) == "Vocab(3 chars)"
