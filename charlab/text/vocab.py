"""The character <-> id mapping, saved with every model so a model is never useless without it.

Ids follow sorted code points, never `set()` order, so the same text gives the same vocabulary
in every process and on every machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from charlab.errors import CharlabError


@dataclass(frozen=True)
class SeedEncoding:
    """A seed text as ids, and what had to be dropped because the model never saw it."""

    ids: np.ndarray
    text: str  # the seed as the model will see it
    dropped: tuple[str, ...]  # distinct unseen characters, in order of appearance


class Vocab:
    """A stable, sorted character vocabulary."""

    def __init__(self, chars: list[str] | tuple[str, ...]):
        chars = tuple(chars)
        if not chars:
            raise CharlabError("The vocabulary is empty: the text has no characters.")
        if any(not isinstance(ch, str) or len(ch) != 1 for ch in chars):
            raise CharlabError("A vocabulary must list single characters.")
        if len(set(chars)) != len(chars):
            raise CharlabError("The vocabulary lists a character twice; the model file may be damaged.")
        self.chars = chars
        self._index = {ch: i for i, ch in enumerate(chars)}
        # a lookup table from code point to id makes encoding a 10 MB text take milliseconds
        self._table = np.full(max(map(ord, chars)) + 1, -1, dtype=np.int32)
        for i, ch in enumerate(chars):
            self._table[ord(ch)] = i

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and other.chars == self.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self._index

    def __repr__(self) -> str:
        return f"Vocab({len(self)} chars)"

    def id_of(self, ch: str) -> int:
        return self._index[ch]

    def encode(self, text: str) -> np.ndarray:
        """Text -> int32 ids; every character must be in the vocabulary."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        in_table = codes < len(self._table)
        ids = np.full(len(codes), -1, dtype=np.int32)
        ids[in_table] = self._table[codes[in_table]]
        if (ids < 0).any():
            unknown = sorted({text[i] for i in np.flatnonzero(ids < 0)[:1000]})
            shown = " ".join(repr(ch) for ch in unknown[:10])
            raise CharlabError(
                f"The text has characters this model never saw: {shown}. "
                "Clean the text the same way as the model's training text."
            )
        return ids

    def encode_seed(self, seed_text: str) -> SeedEncoding:
        """Encode a seed typed by a user: unseen characters are dropped and reported, never guessed."""
        kept = [ch for ch in seed_text if ch in self._index]
        dropped = tuple(dict.fromkeys(ch for ch in seed_text if ch not in self._index))
        text = "".join(kept)
        ids = np.array([self._index[ch] for ch in text], dtype=np.int32)
        return SeedEncoding(ids=ids, text=text, dropped=dropped)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def to_json(self) -> str:
        return json.dumps(list(self.chars), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str | list[str]) -> Vocab:
        try:
            chars = json.loads(data) if isinstance(data, str) else data
        except json.JSONDecodeError as err:
            raise CharlabError("The saved vocabulary is damaged (not valid JSON) and cannot be read.") from err
        if not isinstance(chars, list):
            raise CharlabError("The saved vocabulary is not a list of characters; the model file may be damaged.")
        return cls(chars)
