"""Is the network copying? Compare a generated text with the training text.

Three metrics:
- the longest passage of the generated text that appears verbatim in the training text,
  with where it came from (a long one means the network recites rather than writes);
- the share of generated words that are words of the training text; for a script written
  without spaces between words (Chinese, Japanese, Thai…), where words cannot be told apart,
  the share of generated pairs of neighbouring characters that occur in the training text;
- a repetition score: the share of the generated text's 10-character pieces that already
  appeared earlier in the same generated text (a network stuck in a loop scores near 1;
  the training text's own score, measured on a slice of the same length, is given beside it).

Finding matches uses a suffix array of the training text, built once (under a second for
1 MB, with numpy prefix doubling) and reused for every generated text: each of the
generated text's positions then costs a binary search, so 2,000 characters take milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from charlab.errors import CharlabError

MIN_PASSAGE = 20  # characters: shorter verbatim matches happen by chance in any text of the language
REPETITION_N = 10  # characters per piece in the repetition score
UNSPACED_SCRIPTS = (  # Unicode name prefixes of scripts that write no spaces between words
    "CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "IDEOGRAPHIC", "HIRAGANA", "KATAKANA",
    "HALFWIDTH KATAKANA", "BOPOMOFO", "YI SYLLABLE", "TANGUT", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN",
)  # fmt: skip
# letters, digits and the combining marks (accents, Indic vowel signs) that belong inside a word:
# Python's \w alone cuts "हिन्दी" or a decomposed "é" apart at every mark
_MARKS = "".join(chr(c) for c in range(0x10000) if unicodedata.category(chr(c)).startswith("M"))
_LETTERS = rf"\w[\w{re.escape(_MARKS)}]*"
_WORD = re.compile(rf"{_LETTERS}(?:['’]{_LETTERS})*")


@dataclass(frozen=True)
class Passage:
    """A piece of the generated text found verbatim in the training text."""

    text: str
    start: int  # where it starts in the generated text
    source_start: int  # where the same characters start in the training text
    source_line: int  # the training text's line number there (1-based), to find it by eye

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class CopyReport:
    """The copying metrics of one generated text."""

    longest: Passage | None  # None only for an empty generated text
    passages: tuple[Passage, ...]  # verbatim stretches of at least `min_passage` characters, in order
    copied_share: float  # share of generated characters inside those stretches
    spaced: bool  # whether the training text separates words with spaces: words are counted, else pairs
    real_word_share: float  # share of complete generated words that are words of the training text
    words_checked: int  # 0 for a text without spaces between words
    invented_words: tuple[str, ...]  # up to 20 generated words the training text never uses, first seen first
    known_pair_share: float  # without spaces: share of generated character pairs the training text has
    pairs_checked: int  # 0 for a text with spaces between words
    unknown_pairs: tuple[str, ...]  # up to 20 generated pairs the training text never has, first seen first
    repetition: float  # share of 10-character pieces seen earlier in the same text (0 = none, 1 = a loop)
    reference_repetition: float  # the same score on a slice of the training text of the same length


class TrainingTextIndex:
    """The training text, prepared once for any number of copy checks (cache it per text)."""

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise CharlabError("There is no training text to compare with.")
        self.text = text
        self.suffix_array = suffix_array(text)
        self._positions = memoryview(self.suffix_array)  # indexing gives plain ints, faster than numpy's
        self.spaced = writes_spaces_between_words(text)
        self.words = frozenset(w.lower() for w in _WORD.findall(text)) if self.spaced else frozenset()
        self.pairs = frozenset() if self.spaced else frozenset(unspaced_pairs(text))

    def longest_match(self, query: str, start: int = 0) -> tuple[int, int]:
        """(length, position in the training text) of the longest prefix of query[start:] found verbatim.

        The needle starts at 64 characters and doubles only while the match fills all of it,
        so a long generated text costs no more than its matches need.
        """
        limit = 64
        while True:
            needle = query[start : start + limit]
            length, source = self._longest_prefix(needle)
            if length < len(needle) or start + limit >= len(query):
                return length, source
            limit *= 2

    def _longest_prefix(self, needle: str) -> tuple[int, int]:
        text, sa, m = self.text, self._positions, len(needle)
        if not needle:
            return 0, 0
        lo, hi = 0, len(sa)
        while lo < hi:  # the first suffix not below the needle (suffixes cut to the needle's length)
            mid = (lo + hi) // 2
            if text[sa[mid] : sa[mid] + m] < needle:
                lo = mid + 1
            else:
                hi = mid
        best_length, best_source = 0, 0
        for neighbour in (lo - 1, lo):  # the longest match sits next to where the needle would go
            if 0 <= neighbour < len(sa):
                source = sa[neighbour]
                length = _common_prefix_length(needle, text[source : source + m])
                if length > best_length:
                    best_length, best_source = length, source
        return best_length, best_source

    def matching_lengths(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """For every position of `query`: the longest verbatim match starting there, and its source."""
        lengths = np.zeros(len(query), dtype=np.int64)
        sources = np.zeros(len(query), dtype=np.int64)
        for i in range(len(query)):
            lengths[i], sources[i] = self.longest_match(query, i)
        return lengths, sources

    def line_of(self, position: int) -> int:
        return self.text.count("\n", 0, position) + 1


def suffix_array(text: str) -> np.ndarray:
    """Start positions of all suffixes of `text` in code-point order (as Python compares strings).

    Prefix doubling: suffixes are grouped by their first 1, 2, 4, … characters; each round
    sorts only the suffixes still sharing a group with another, by (group, group of the
    suffix `span` characters later). A suffix's group number is where its group starts in
    the array, so groups stay in order. Most suffixes of a real text are alone after a few
    rounds; a text that repeats long stretches of itself takes more.
    """
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + 1  # 0: past the end
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # the first round sorts by as many characters as fit in 63 bits (9 for ASCII): fewer, cheaper rounds
    bits = int(codes.max()).bit_length()
    span = max(1, 63 // bits)
    packed = np.zeros(n, dtype=np.uint64)
    for j in range(min(span, n)):
        packed[: n - j] |= codes[j:] << np.uint64(bits * (span - 1 - j))
    order = np.argsort(packed).astype(np.int64)
    sorted_packed = packed[order]
    starts = np.concatenate([[True], sorted_packed[1:] != sorted_packed[:-1]])
    positions = np.arange(n)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.maximum.accumulate(np.where(starts, positions, 0))
    active, positions = _still_shared(order, positions, starts)
    while len(active):
        later = active + span
        second = np.where(later < n, rank[np.minimum(later, n - 1)] + 1, 0)  # 0: the suffix ends first
        key = rank[active] * (n + 1) + second
        by_key = np.argsort(key)
        active, key = active[by_key], key[by_key]
        order[positions] = active  # each group keeps its block of the array, now sorted inside
        starts = np.concatenate([[True], key[1:] != key[:-1]])
        rank[active] = np.maximum.accumulate(np.where(starts, positions, 0))
        active, positions = _still_shared(active, positions, starts)
        span *= 2
    return order


def _still_shared(suffixes: np.ndarray, positions: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The suffixes (and their places in the array) whose group has more than one member."""
    group = np.cumsum(starts) - 1
    shared = np.bincount(group)[group] > 1
    return suffixes[shared], positions[shared]


def repetition_score(text: str, n: int = REPETITION_N) -> float:
    """Share of the text's n-character pieces that already appeared earlier in it (0 when too short)."""
    pieces = [text[i : i + n] for i in range(len(text) - n + 1)]
    if not pieces:
        return 0.0
    seen: set[str] = set()
    repeats = 0
    for piece in pieces:
        repeats += piece in seen
        seen.add(piece)
    return repeats / len(pieces)


@lru_cache(maxsize=4096)
def is_unspaced_letter(ch: str) -> bool:
    """Whether `ch` is a letter of a script written without spaces between words (Han, kana, Thai…)."""
    return unicodedata.category(ch).startswith("L") and unicodedata.name(ch, "").startswith(UNSPACED_SCRIPTS)


def writes_spaces_between_words(text: str) -> bool:
    """False when the text is mostly written in scripts without spaces between words (Chinese, say).

    Counted as a reader would: each letter of such a script against each word of the others
    (a Chinese character is about one word; "TensorFlow" in a Chinese sentence is one, not ten).
    """
    unspaced = {ch for ch in set(text) if is_unspaced_letter(ch)}
    if not unspaced:
        return True
    unspaced_letters = sum(count for ch, count in Counter(text).items() if ch in unspaced)
    spaced_words = sum(1 for word in _WORD.findall(text) if unspaced.isdisjoint(word))
    return spaced_words >= unspaced_letters


def unspaced_pairs(text: str) -> list[str]:
    """Every pair of neighbouring letters of a script without spaces ("烟雨" in "烟雨江南"), in order."""
    unspaced = {ch for ch in set(text) if is_unspaced_letter(ch)}
    return [text[i : i + 2] for i in range(len(text) - 1) if text[i] in unspaced and text[i + 1] in unspaced]


def real_word_share(text: str, words: frozenset[str] | set[str]) -> tuple[float, int, tuple[str, ...]]:
    """(share of words found in `words`, words checked, words not found), case-insensitively.

    A word cut off by the end of the text (no character after it) is not judged, since
    generation stopped in the middle of it. A run of Chinese (or Thai…) letters is not a word
    but a clause: it is left out (see known_pair_share).
    """
    found = [(m.group().lower(), m.end()) for m in _WORD.finditer(text)]
    complete = [w for w, end in found if end < len(text) and not any(map(is_unspaced_letter, w))]
    if not complete:
        return 0.0, 0, ()
    invented = [w for w in complete if w not in words]
    return 1 - len(invented) / len(complete), len(complete), tuple(dict.fromkeys(invented))[:20]


def known_pair_share(text: str, pairs: frozenset[str] | set[str]) -> tuple[float, int, tuple[str, ...]]:
    """(share of the text's character pairs found in `pairs`, pairs checked, pairs not found).

    For scripts without spaces between words: a pair of neighbouring characters is the
    smallest piece whose familiarity can be checked (most Chinese words are one or two characters).
    """
    found = unspaced_pairs(text)
    if not found:
        return 0.0, 0, ()
    unknown = [p for p in found if p not in pairs]
    return 1 - len(unknown) / len(found), len(found), tuple(dict.fromkeys(unknown))[:20]


def copy_report(generated: str, index: TrainingTextIndex | str, min_passage: int = MIN_PASSAGE) -> CopyReport:
    """All copying metrics for one generated text (pass a TrainingTextIndex to reuse it)."""
    if not isinstance(index, TrainingTextIndex):
        index = TrainingTextIndex(index)
    lengths, sources = index.matching_lengths(generated)
    longest = None
    if len(generated):
        i = int(np.argmax(lengths))
        longest = _passage(index, generated, i, int(lengths[i]), int(sources[i]))
    passages, covered = [], np.zeros(len(generated), dtype=bool)
    reach = 0  # passages do not overlap: the next one starts after the previous one ends
    for i, length in enumerate(lengths.tolist()):
        if length >= min_passage and i >= reach:
            passages.append(_passage(index, generated, i, length, int(sources[i])))
            covered[i : i + length] = True
            reach = i + length
    words = real_word_share(generated, index.words) if index.spaced else (0.0, 0, ())
    pairs = (0.0, 0, ()) if index.spaced else known_pair_share(generated, index.pairs)
    middle = max(0, len(index.text) // 2 - len(generated) // 2)
    return CopyReport(
        longest=longest,
        passages=tuple(passages),
        copied_share=float(covered.mean()) if len(generated) else 0.0,
        spaced=index.spaced,
        real_word_share=words[0],
        words_checked=words[1],
        invented_words=words[2],
        known_pair_share=pairs[0],
        pairs_checked=pairs[1],
        unknown_pairs=pairs[2],
        repetition=repetition_score(generated),
        reference_repetition=repetition_score(index.text[middle : middle + len(generated)]),
    )


def _passage(index: TrainingTextIndex, generated: str, start: int, length: int, source: int) -> Passage:
    return Passage(generated[start : start + length], start, source, index.line_of(source))


def _common_prefix_length(a: str, b: str) -> int:
    """Length of the common start of two strings, by halving (each comparison runs in C)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo] and a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo
