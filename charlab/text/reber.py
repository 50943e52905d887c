"""The (embedded) Reber grammar: a corpus whose rules can be checked exactly.

A model trained on Reber strings either follows the grammar or it doesn't, so the
playground can show a hard number ("93% of generated lines are grammatical") instead
of asking the user to judge whether the text "looks right".

The plain Reber grammar is this finite-state machine (symbols B T S X P V E)::

    0 -B-> 1
    1 -T-> 2    1 -P-> 3
    2 -S-> 2    2 -X-> 4
    3 -T-> 3    3 -V-> 5
    4 -X-> 3    4 -S-> 6
    5 -P-> 4    5 -V-> 6
    6 -E-> end

An embedded Reber string is ``"B" + c + reber_string + c + "E"`` with c either "T" or
"P", the same letter both times. Remembering c across the whole inner string is what
makes it a test of a network's long-term memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from charlab.errors import CharlabError

REBER_SYMBOLS = "BTSXPVE"

_END = -1
# state -> {symbol: next state}; every state's symbols differ, so the machine is deterministic
_TRANSITIONS: dict[int, dict[str, int]] = {
    0: {"B": 1},
    1: {"T": 2, "P": 3},
    2: {"S": 2, "X": 4},
    3: {"T": 3, "V": 5},
    4: {"X": 3, "S": 6},
    5: {"P": 4, "V": 6},
    6: {"E": _END},
}
_OUTER_LETTERS = ("T", "P")


def generate_reber(rng: np.random.Generator) -> str:
    """One random Reber string, choosing uniformly at every branch."""
    state, symbols = 0, []
    while state != _END:
        choices = list(_TRANSITIONS[state].items())
        symbol, state = choices[int(rng.integers(len(choices)))]
        symbols.append(symbol)
    return "".join(symbols)


def generate_embedded_reber(rng: np.random.Generator) -> str:
    """One random embedded Reber string: B, c, a Reber string, the same c, E."""
    outer = _OUTER_LETTERS[int(rng.integers(len(_OUTER_LETTERS)))]
    return "B" + outer + generate_reber(rng) + outer + "E"


def first_error(s: str, embedded: bool = True) -> int | None:
    """Index of the first character where ``s`` leaves the grammar, or None if it is grammatical.

    Three ways to fail, all answered with "where a correct string would differ":
    - a character the grammar does not allow there: its index;
    - the string stops before the final E ("ends too early", including ""): ``len(s)``,
      the position where the next symbol was still expected;
    - characters after the final E: the index of the first extra character, the
      position where the string should have ended.
    Any character outside B T S X P V E (a space, a newline) is simply not allowed.
    """
    pos = 0
    outer = ""
    if embedded:
        for allowed in ("B", "TP"):
            if pos >= len(s):
                return len(s)
            if s[pos] not in allowed:
                return pos
            pos += 1
        outer = s[1]

    state = 0
    while state != _END:
        if pos >= len(s):
            return len(s)
        next_state = _TRANSITIONS[state].get(s[pos])
        if next_state is None:
            return pos
        state = next_state
        pos += 1

    if embedded:
        for expected in (outer, "E"):
            if pos >= len(s):
                return len(s)
            if s[pos] != expected:
                return pos
            pos += 1

    return pos if pos < len(s) else None


def is_reber(s: str) -> bool:
    """True if ``s`` is exactly one plain Reber string."""
    return first_error(s, embedded=False) is None


def is_embedded_reber(s: str) -> bool:
    """True if ``s`` is exactly one embedded Reber string."""
    return first_error(s, embedded=True) is None


def reber_corpus(n_strings: int = 3000, seed: int = 0, embedded: bool = True) -> str:
    """``n_strings`` random Reber strings, one per line (newline-terminated); same seed, same text."""
    if not _is_whole_number(n_strings) or n_strings < 1:
        raise CharlabError(
            f"The number of Reber strings must be a whole number of at least 1 (got {n_strings!r}). "
            "Pick a number such as 3000."
        )
    if not _is_whole_number(seed) or seed < 0:
        raise CharlabError(f"The random seed must be a whole number of 0 or more (got {seed!r}). Try 0.")
    rng = np.random.default_rng(seed)
    generate = generate_embedded_reber if embedded else generate_reber
    return "".join(generate(rng) + "\n" for _ in range(n_strings))


def _is_whole_number(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class GrammarScore:
    """How many generated lines follow the grammar."""

    total: int  # complete, non-empty lines checked
    grammatical: int  # of those, lines that are exactly one grammatical string
    share: float  # grammatical / total, 0.0 when there was nothing to check


def grammar_score(text: str, embedded: bool = True) -> GrammarScore:
    """Check a trained model's output line by line.

    The last line is ignored unless ``text`` ends with a newline: sampling stops after a
    fixed number of characters, so that line was most likely cut off mid-string and would
    be counted as wrong unfairly. Empty lines are ignored too. Any other line counts, so
    a line with a stray space or two strings glued together is ungrammatical.
    """
    if not isinstance(text, str):
        raise CharlabError("The text to check must be text (a string of characters).")
    lines = text.split("\n")
    lines.pop()  # "" after a final newline, or the cut-off last line
    checked = [line for line in lines if line != ""]
    grammatical = sum(first_error(line, embedded) is None for line in checked)
    share = grammatical / len(checked) if checked else 0.0
    return GrammarScore(total=len(checked), grammatical=grammatical, share=share)


def grammar_lines(text: str) -> list[str]:
    """The complete, non-empty lines grammar_score checks (the cut-off last line is left out)."""
    return [line for line in text.split("\n")[:-1] if line]
