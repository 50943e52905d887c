"""Look inside a trained network: what each unit does, how surprised the model is, where letters sit.

`trace` reads a text one character at a time with the same numpy step the sampler uses
(NumpyCharModel.step), recording every layer's state after each character, the
probabilities it gives the next one and its surprise at the one that came. Built-in
hypotheses ("inside quotes", "position in the line", …) are per-character signals;
`rank_units` finds the units whose activation follows a signal most closely, as in
Karpathy's "Visualizing and understanding recurrent networks".
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from charlab.errors import CharlabError
from charlab.network.cells import CELL_TYPES
from charlab.network.sampling import NumpyCharModel, probabilities
from charlab.text.vocab import Vocab

MAX_TRACE_CHARS = 20_000  # a few seconds of stepping; longer texts are refused, not silently cut
VOWELS = frozenset("aeiouæœøı")  # Latin vowels once accents are taken off; y counts as a consonant
# a script's name as Unicode spells it at the start of its letters' names, for the kinds of character
_SCRIPT_WORDS = {"CJK": "Han", "IDEOGRAPHIC": "Han", "KATAKANA-HIRAGANA": "Katakana"}
_WIDTH_WORDS = ("FULLWIDTH ", "HALFWIDTH ")  # "FULLWIDTH LATIN SMALL LETTER A" is a Latin letter
_OPENING_BRACKETS, _CLOSING_BRACKETS = "([{（［｛【〔〈《", ")]}）］｝】〕〉》"


@dataclass(frozen=True)
class LayerActivations:
    """One recurrent layer's state after each character, by the cell's state names: (T, units) arrays.

    "hidden" (h, what the layer passes on) always; an LSTM's "cell" (c, its memory cell) too.
    """

    states: dict[str, np.ndarray]


@dataclass(frozen=True)
class Trace:
    """What the network did while reading `text`, one row per character."""

    text: str
    layers: tuple[LayerActivations, ...]
    next_probabilities: np.ndarray  # (T, V): after reading char t, P(next char)
    surprise: np.ndarray  # (T,): -ln P(char t | the chars before it); the first is ln V (no context yet)
    vocab: Vocab

    def activations(self, layer: int, state: str = "hidden") -> np.ndarray:
        """(T, units) activations of one layer's hidden ("hidden") or cell ("cell") state."""
        if not 0 <= layer < len(self.layers):
            raise CharlabError(f"This model has {len(self.layers)} layer(s); there is no layer {layer + 1}.")
        names = list(dict.fromkeys(name for cell in CELL_TYPES.values() for name in cell.state_names))
        if state not in names:
            raise CharlabError(f"A layer's state is {' or '.join(repr(n) for n in names)}, not '{state}'.")
        if state not in self.layers[layer].states:
            having = " and ".join(cell.label for cell in CELL_TYPES.values() if state in cell.state_names)
            raise CharlabError(f"Only {having} layers have a {state} state; pick the hidden state instead.")
        return self.layers[layer].states[state]

    def top_guesses(self, t: int, k: int = 5) -> list[tuple[str, float]]:
        """The model's k most likely next characters after reading char t, most likely first."""
        probs = self.next_probabilities[t]
        best = np.argsort(-probs, kind="stable")[:k]
        return [(self.vocab.chars[i], float(probs[i])) for i in best]


def trace(network: NumpyCharModel, vocab: Vocab, text: str) -> Trace:
    """Run the network over `text` from a fresh state, recording everything (characters it never saw are refused)."""
    if not text:
        raise CharlabError("Type or pick a text to look at (it is empty).")
    if len(text) > MAX_TRACE_CHARS:
        raise CharlabError(f"Pick a shorter text: at most {MAX_TRACE_CHARS:,} characters can be traced at once.")
    if len(vocab) != network.vocab_size:
        raise CharlabError("The vocabulary does not match the model; the run may be damaged.")
    ids = vocab.encode(text)
    t_len, units = len(ids), network.units
    names = network.cell_type.state_names
    recorded = [{name: np.zeros((t_len, units), dtype=np.float32) for name in names} for _ in range(network.layers)]
    next_probs = np.zeros((t_len, network.vocab_size), dtype=np.float64)
    state = network.initial_state()
    for t, char_id in enumerate(ids.tolist()):
        logits, state = network.step(char_id, state)
        for i, layer_state in enumerate(state):
            for name, values in zip(names, layer_state, strict=True):
                recorded[i][name][t] = values
        next_probs[t] = probabilities(logits)
    surprise = np.empty(t_len)
    surprise[0] = math.log(network.vocab_size)
    surprise[1:] = -np.log(np.maximum(next_probs[np.arange(t_len - 1), ids[1:]], 1e-300))
    layers = tuple(LayerActivations(states) for states in recorded)
    return Trace(text=text, layers=layers, next_probabilities=next_probs, surprise=surprise, vocab=vocab)


# ---------------------------------------------------------------- hypotheses


@dataclass(frozen=True)
class Hypothesis:
    """A per-character signal a unit might track; values describe the state after reading each char."""

    key: str
    label: str
    rises: str  # what a positively correlated unit does, e.g. "turns on inside quotes"
    falls: str  # the same for a negative correlation
    signal: Callable[[str], np.ndarray]  # text -> (T,) float values, NaN where the question does not apply


def inside_quotes(text: str) -> np.ndarray:
    """1 from an opening double quote up to its closing one (which reads as 0: the quote is over)."""
    values, inside = np.zeros(len(text)), False
    for t, ch in enumerate(text):
        if ch == "“":
            inside = True
        elif ch == "”":
            inside = False
        elif ch == '"':
            inside = not inside
        values[t] = inside
    return values


def line_position(text: str) -> np.ndarray:
    """How many characters since the last line break (0 right after reading one)."""
    values, position = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        position = 0 if ch == "\n" else position + 1
        values[t] = position
    return values


def inside_brackets(text: str) -> np.ndarray:
    """1 while at least one ( [ or { is open."""
    values, depth = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        if ch in _OPENING_BRACKETS:
            depth += 1
        elif ch in _CLOSING_BRACKETS:
            depth = max(0, depth - 1)
        values[t] = depth > 0
    return values


def after_newline(text: str) -> np.ndarray:
    """1 on a line break: the state from which the network must start a new line."""
    return np.array([ch == "\n" for ch in text], dtype=np.float64)


def vowel_or_consonant(text: str) -> np.ndarray:
    """1 for a vowel, 0 for a consonant, NaN for anything else, Chinese characters included (left out)."""
    kinds = [character_kind(ch) for ch in text]
    return np.array([1.0 if k == "vowel" else 0.0 if k == "consonant" else np.nan for k in kinds])


HYPOTHESES: tuple[Hypothesis, ...] = (
    Hypothesis("inside_quotes", "inside quotes", "turns on inside quotes", "turns off inside quotes", inside_quotes),
    Hypothesis(
        "line_position", "position in the line", "grows along each line", "shrinks along each line", line_position
    ),
    Hypothesis(
        "inside_brackets", "inside brackets", "turns on inside brackets", "turns off inside brackets", inside_brackets
    ),
    Hypothesis(
        "after_newline",
        "after a line break",
        "fires after a line break",
        "goes quiet after a line break",
        after_newline,
    ),
    Hypothesis("vowel", "vowel vs consonant", "fires on vowels", "fires on consonants", vowel_or_consonant),
)


def get_hypothesis(key: str) -> Hypothesis:
    for hypothesis in HYPOTHESES:
        if hypothesis.key == key:
            return hypothesis
    raise CharlabError(f"There is no hypothesis called '{key}'. Choose one of: {', '.join(h.key for h in HYPOTHESES)}.")


@dataclass(frozen=True)
class UnitMatch:
    """A unit whose activation follows a hypothesis; `layer` and `unit` count from 0."""

    hypothesis: Hypothesis
    layer: int
    state: str  # "hidden" or "cell"
    unit: int
    correlation: float  # Pearson correlation over the characters where the hypothesis applies

    def describe(self) -> str:
        """e.g. "Unit 17 of layer 1 (cell state) turns on inside quotes (correlation 0.83)"."""
        action = self.hypothesis.rises if self.correlation >= 0 else self.hypothesis.falls
        return (
            f"Unit {self.unit} of layer {self.layer + 1} ({self.state} state) {action} "
            f"(correlation {self.correlation:+.2f})"
        )


def rank_units(result: Trace, hypothesis: Hypothesis | str, top: int = 10) -> list[UnitMatch]:
    """The units that follow `hypothesis` most closely, best (largest |correlation|) first.

    Empty when the text gives the hypothesis nothing to test (no quote in it, say): a
    correlation with a constant signal means nothing.
    """
    if isinstance(hypothesis, str):
        hypothesis = get_hypothesis(hypothesis)
    signal = hypothesis.signal(result.text)
    applies = np.isfinite(signal)
    if applies.sum() < 3 or np.ptp(signal[applies]) == 0:
        return []
    names, columns = [], []
    for i, layer in enumerate(result.layers):
        for state, values in layer.states.items():
            names += [(i, state, u) for u in range(values.shape[1])]
            columns.append(values)
    correlations = _correlations(np.concatenate(columns, axis=1)[applies], signal[applies])
    best = np.argsort(-np.abs(correlations), kind="stable")[:top]
    return [UnitMatch(hypothesis, *names[k], correlation=float(correlations[k])) for k in best]


def rank_all(result: Trace, top: int = 5) -> dict[str, list[UnitMatch]]:
    """rank_units for every built-in hypothesis."""
    return {h.key: rank_units(result, h, top) for h in HYPOTHESES}


def _correlations(activations: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column with the signal; 0 for a unit that never changes."""
    a = activations.astype(np.float64) - activations.mean(axis=0)
    s = signal - signal.mean()
    norms = np.sqrt((a**2).sum(axis=0)) * np.sqrt((s**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * s[:, None]).sum(axis=0) / norms
    return np.where(norms > 1e-12, r, 0.0)


# ---------------------------------------------------------------- the embedding map


@dataclass(frozen=True)
class EmbeddingMap:
    """Each character's learned vector projected to 2-D, for a scatter plot."""

    chars: tuple[str, ...]
    xy: np.ndarray  # (V, 2): the first two principal components
    kinds: tuple[str, ...]  # character_kind of each character
    explained: tuple[float, float]  # share of the vectors' variance each axis shows


def character_kind(ch: str) -> str:
    """The kind of a character, from its Unicode category (and script, for letters).

    space, digit, punctuation (symbols included), mark (an accent or vowel sign on its own),
    other (control characters); a Latin letter is a vowel or a consonant (accented vowels are
    vowels); a letter of another script, where vowel and consonant do not apply in the same
    way, is named by its script: "Han character", "Greek letter", "Hiragana letter".
    """
    if ch.isspace():
        return "space"
    major = unicodedata.category(ch)[0]
    if major == "N":
        return "digit"
    if major in "PS":
        return "punctuation"
    if major == "M":
        return "mark"
    if major != "L":
        return "other"
    script = script_of(ch)
    if script == "Latin":
        return "vowel" if unicodedata.normalize("NFKD", ch)[0].lower() in VOWELS else "consonant"
    if script == "Han":
        return "Han character"
    return f"{script} letter" if script else "letter"


def script_of(ch: str) -> str:
    """The script a letter belongs to, read from its Unicode name ("Latin", "Han", "Cyrillic"; "" if unnamed)."""
    name = unicodedata.name(ch, "").removeprefix(_WIDTH_WORDS[0]).removeprefix(_WIDTH_WORDS[1])
    first = name.split(" ")[0]
    if first in ("", "MODIFIER", "SMALL", "CAPITAL"):  # "MODIFIER LETTER SMALL H" names no script
        return ""
    return _SCRIPT_WORDS.get(first, first.title())


def embedding_map(embedding: np.ndarray, vocab: Vocab) -> EmbeddingMap:
    """PCA of the (V, d) embedding matrix with numpy's SVD: the 2-D view that keeps the most spread."""
    matrix = np.asarray(embedding, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != len(vocab):
        raise CharlabError("The embedding does not match the vocabulary; the run may be damaged.")
    centred = matrix - matrix.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    xy = centred @ components.T
    if xy.shape[1] < 2:  # an embedding of size 1 has only one axis
        xy = np.pad(xy, ((0, 0), (0, 2 - xy.shape[1])))
    variance = singular**2
    total = variance.sum()
    shares = [float(v / total) if total > 0 else 0.0 for v in variance[:2]] + [0.0, 0.0]
    return EmbeddingMap(
        chars=vocab.chars,
        xy=xy,
        kinds=tuple(character_kind(ch) for ch in vocab.chars),
        explained=(shares[0], shares[1]),
    )


def points_to_label(
    xy: np.ndarray, uses: np.ndarray, limit: int, room: tuple[float, float] = (0.055, 0.06)
) -> np.ndarray:
    """Which points of a scatter plot get a written label: all when at most `limit`, else the most used
    that have room, up to `limit`.

    `room` is the (width, height) one label takes, as shares of the plot's spread (a 15-pixel
    character on a phone's 300-pixel-wide plot); a point whose label would overlap one already
    chosen stays a dot. 600 Chinese characters written at once made one unreadable blot.
    """
    chosen = np.zeros(len(xy), dtype=bool)
    if len(xy) <= limit:
        return ~chosen
    spread = np.ptp(xy, axis=0)
    scaled = (xy - xy.min(axis=0)) / np.where(spread > 0, spread, 1.0)
    placed: list[np.ndarray] = []
    for i in np.argsort(-np.asarray(uses), kind="stable"):  # ties keep the vocabulary's order
        if len(placed) == limit:
            break
        if all((np.abs(scaled[i] - p) >= room).any() for p in placed):
            chosen[i] = True
            placed.append(scaled[i])
    return chosen


def unit_ranking(result: Trace, top: int = 3) -> list[UnitMatch]:
    """The best units for every hypothesis, strongest correlation first."""
    found = [m for matches in rank_all(result, top).values() for m in matches]
    return sorted(found, key=lambda m: -abs(m.correlation))
