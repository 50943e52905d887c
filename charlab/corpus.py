"""Turn a text file into clean training text, and describe it for a beginner.

Everything here refuses bad input with a `CharlabError` that a non-programmer can act on:
an empty file, a binary file renamed `.txt`, a file too big for a laptop, text too short.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from charlab.errors import CharlabError

DEFAULT_MAX_BYTES = 10_000_000  # 10 MB: trains in minutes, fits any laptop's memory

# mode key -> (label, one-line explanation); the same words in the UI, the CLI and the README
CLEANING_MODES: dict[str, tuple[str, str]] = {
    "keep": ("Keep everything", "Train on the text exactly as it is, capitals and symbols included."),
    "lowercase": ("Lowercase", "Make every letter small, so 'The' and 'the' are learned as one word."),
    "letters_punct": (
        "Letters and punctuation",
        "Lowercase a–z, digits, space, new lines and . , ; : ! ? ' \" - ( ); anything else becomes a space.",
    ),
    "letters_only": ("Letters only", "Lowercase a–z and spaces only (27 symbols), like the classic sonnets notebook."),
}

_LETTERS_PUNCT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 \n.,;:!?'\"-()")
_LETTERS_ONLY = frozenset("abcdefghijklmnopqrstuvwxyz ")
_SPACES = re.compile(r" {2,}")


@dataclass(frozen=True)
class Corpus:
    """A decoded text and where it came from (before cleaning); its hash names it in caches and runs."""

    name: str
    text: str
    encoding: str = "utf-8"
    notes: tuple[str, ...] = ()  # things the user should know, e.g. "read as Latin-1"
    source: str = "upload"  # or "sample:<key>"
    sha256: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", text_hash(self.text))  # once: a page reads it on every rerun


@dataclass(frozen=True)
class CorpusStats:
    """Figures shown on the Corpus page."""

    characters: int
    lines: int
    words: int
    unique_characters: int
    counts: dict[str, int] = field(default_factory=dict)  # most common first


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_path(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Corpus:
    """Read a text file from disk (the CLI and the benchmarks use this)."""
    path = Path(path)
    if not path.exists():
        raise CharlabError(f"There is no file at '{path}'. Check the name and the folder.")
    if path.is_dir():
        raise CharlabError(f"'{path}' is a folder, not a text file. Pick a .txt file inside it.")
    size = path.stat().st_size
    _check_size(size, max_bytes, path.name)
    return load_bytes(path.read_bytes(), path.name, max_bytes)


def load_bytes(data: bytes, name: str = "uploaded.txt", max_bytes: int = DEFAULT_MAX_BYTES) -> Corpus:
    """Decode uploaded bytes into text, refusing what cannot be a text to learn from."""
    _check_size(len(data), max_bytes, name)
    if not data:
        raise CharlabError(f"'{name}' is empty. Choose a file with some text in it.")
    text, encoding, notes = decode_bytes(data, name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise CharlabError(f"'{name}' is empty. Choose a file with some text in it.")
    if not text.strip():
        raise CharlabError(f"'{name}' contains only spaces and new lines. Choose a file with some text in it.")
    _check_printable(text, name)
    return Corpus(name=name, text=text, encoding=encoding, notes=tuple(notes))


def decode_bytes(data: bytes, name: str = "file") -> tuple[str, str, list[str]]:
    """Decode bytes as UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1252 as a fallback."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig", []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", ["The file was saved as UTF-16; it was converted."]
        except UnicodeDecodeError:
            pass  # a binary file that happens to start like UTF-16: the checks below refuse it
    codec = _utf16_without_bom(data)
    if codec is not None:
        try:
            return (
                data.decode(codec),
                codec,
                ["The file was saved as UTF-16 (without a byte order mark); it was converted."],
            )
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: refused as binary below
    if b"\x00" in data[:65536]:
        raise CharlabError(
            f"'{name}' looks like a binary file (a picture, a program or a document), not plain text. "
            "Save it as plain text (.txt) first, e.g. with 'Save as… > Plain text'."
        )
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as err:
        bad_at = err.start
    # Not UTF-8: old Windows and Mac editors write Windows-1252 (a superset of Latin-1 for text).
    text = data.decode("cp1252", errors="replace")
    if text.count("\ufffd") > max(3, len(text) // 1000):
        raise CharlabError(
            f"'{name}' is not UTF-8 text and could not be read in another common encoding "
            f"(first unreadable byte at position {bad_at}). Open it in a text editor and save it as UTF-8."
        )
    return (
        text,
        "cp1252",
        [
            "The file is not UTF-8; it was read as Windows-1252 (Latin-1). "
            "If accented letters look wrong, save the file as UTF-8 and upload it again."
        ],
    )


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when every other byte is zero, as in mostly-Latin text saved as UTF-16."""
    sample = data[:65536]
    if len(data) % 2 or len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise CharlabError(
            f"'{name}' is {human_size(size, '.1f')}; the limit is {human_size(max_bytes)}. "
            "Use a shorter part of the text: a few MB is plenty to learn a style."
        )


def human_size(n_bytes: float, spec: str = ".3g") -> str:
    """10_000_000 -> '10 MB', 1_500 -> '1.5 KB': a small limit (a demo server, a test) stays readable."""
    units = ((1e9, "GB"), (1e6, "MB"), (1e3, "KB"))
    scale, unit = next(((s, u) for s, u in units if n_bytes >= s), (1, "bytes"))
    return f"{n_bytes / scale:{spec}} {unit}"


def _check_printable(text: str, name: str) -> None:
    sample = text[:100_000]
    unprintable = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\n\t")
    if unprintable > 0.1 * len(sample):
        raise CharlabError(
            f"'{name}' is mostly unprintable characters, so it is probably not a text file. "
            "Save your text as plain text (.txt) and try again."
        )


def clean(text: str, mode: str) -> str:
    """Apply a cleaning mode (see CLEANING_MODES); the result is what the model learns from."""
    if mode not in CLEANING_MODES:
        raise CharlabError(f"Unknown cleaning mode '{mode}'. Choose one of: {', '.join(CLEANING_MODES)}.")
    if mode == "keep":
        return text
    text = text.lower()
    if mode == "lowercase":
        return text
    if mode == "letters_punct":
        text = _strip_accents(text)
        return "".join(ch if ch in _LETTERS_PUNCT else " " for ch in text)
    text = _strip_accents(text)
    text = "".join(ch if ch in _LETTERS_ONLY else " " for ch in text)
    return _SPACES.sub(" ", text)


def _strip_accents(text: str) -> str:
    """é -> e, so French or Spanish text keeps its letters instead of losing them to spaces."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def changed_characters(text: str, mode: str) -> dict[str, str]:
    """Which characters a cleaning mode changes, and into what (for the Corpus page)."""
    changes: dict[str, str] = {}
    for ch in set(text):
        cleaned = clean(ch, mode)
        if cleaned != ch:
            changes[ch] = cleaned
    return dict(sorted(changes.items()))


def stats(text: str) -> CorpusStats:
    counts = Counter(text)
    return CorpusStats(
        characters=len(text),
        lines=text.count("\n") + (0 if text.endswith("\n") or not text else 1),
        words=len(text.split()),
        unique_characters=len(counts),
        counts=dict(counts.most_common()),
    )


def check_length(text: str, seq_length: int, min_windows: int = 4) -> None:
    """Refuse text too short to cut into a few training windows of `seq_length`."""
    needed = seq_length * min_windows + 1
    if len(text) < needed:
        raise CharlabError(
            f"The text has {len(text):,} characters, too short for a sequence length of {seq_length} "
            f"(at least {needed:,} are needed). Use a longer text or a shorter sequence length."
        )


def warnings(text: str, seq_length: int = 100, parameters: int | None = None) -> list[str]:
    """Friendly advice about a corpus: things that will not fail but will disappoint."""
    found: list[str] = []
    info = stats(text)
    if info.characters < 20_000:
        found.append(
            f"The text is short ({info.characters:,} characters). The model will mostly memorise it; "
            "50,000 characters or more give more interesting results."
        )
    if parameters is not None and parameters > 2 * info.characters:
        found.append(
            f"The model has {parameters:,} parameters for {info.characters:,} characters of text: "
            "it can memorise the text instead of learning its style. Use fewer units or a longer text."
        )
    if info.unique_characters > 150:
        found.append(
            f"The text uses {info.unique_characters:,} different characters. A huge vocabulary is slow to learn; "
            "try the 'Lowercase' or 'Letters and punctuation' cleaning."
        )
    if info.unique_characters == 1:
        found.append(
            f"The text uses a single character ({visible(text[0])}): there is nothing to learn, "
            "so training cannot start."
        )
    elif info.counts:
        top_char, top_count = next(iter(info.counts.items()))
        if top_count > 0.5 * info.characters:
            found.append(
                f"More than half of the text is the character {visible(top_char)}. "
                "The model will learn little besides repeating it."
            )
    if info.characters < seq_length * 4 + 1:
        found.append(f"The text is shorter than four sequences of {seq_length} characters: training cannot start.")
    return found


def visible(ch: str) -> str:
    """Show invisible characters visibly in charts and tables."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}.get(ch, ch if ch.isprintable() else f"U+{ord(ch):04X}")
