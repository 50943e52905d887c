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
MAX_EASY_VOCABULARY = 150  # more different characters than this deserves a word of advice
# a cleaning that turns more of the visible characters into spaces is said in words: Letters only takes 4-11 %
# of the English samples (punctuation, digits), 18 % of Python code, and + and = (24 %) from the sums
KEPT_ENOUGH = 0.85
_SCRIPT_NAMES = {"CJK": "Chinese characters (Han)", "HIRAGANA": "Japanese kana", "KATAKANA": "Japanese kana",
                 "HANGUL": "Korean Hangul letters"}  # fmt: skip

# mode key -> (label, one-line explanation); the same words in the UI, the CLI and the README.
# No mode ever turns a letter into a space: a letter of any script (Latin, Greek, Cyrillic, Chinese…) stays a letter.
CLEANING_MODES: dict[str, tuple[str, str]] = {
    "keep": ("Keep everything", "Train on the text exactly as it is, capitals and symbols included."),
    "lowercase": (
        "Lowercase",
        "Make every capital letter small, so 'The' and 'the' are learned as one word. "
        "Scripts without capitals, such as Chinese, are left as they are.",
    ),
    "letters_punct": (
        "Letters and punctuation",
        "Small letters of every script, digits, space, new lines and . , ; : ! ? ' \" - ( ). "
        "Latin letters lose their accents (é → e, ß → ss); curly quotes and « » become \" or ', "
        "dashes become -, … becomes ...; any other symbol becomes a space.",
    ),
    "letters_only": (
        "Letters only",
        "Small letters of every script and single spaces; digits, punctuation and new lines become spaces. "
        "Latin letters lose their accents (é → e, ß → ss), so an English text keeps 27 symbols, "
        "like the classic sonnets notebook.",
    ),
}

_LETTERS_PUNCT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 \n.,;:!?'\"-()")
_LETTERS_ONLY = frozenset("abcdefghijklmnopqrstuvwxyz ")
_ALLOWED = {"letters_punct": _LETTERS_PUNCT, "letters_only": _LETTERS_ONLY}
_SPACES = re.compile(r" {2,}")
# Latin letters that NFKD does not split into a plain letter and accents
_LATIN_FOLDS = {"ß": "ss", "ẞ": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l",
                "ı": "i", "ħ": "h", "ŧ": "t", "ŀ": "l"}  # fmt: skip
# typographic punctuation, in European and East Asian texts, as the plain punctuation a letter mode keeps
_PUNCT_FOLDS = {"„": '"', "“": '"', "”": '"', "‟": '"', "«": '"', "»": '"', "″": '"', "‚": "'", "‘": "'",
                "’": "'", "‛": "'", "‹": "'", "›": "'", "′": "'", "‐": "-", "‑": "-", "‒": "-", "–": "-",
                "—": "-", "―": "-", "−": "-", "…": "...", "。": ".", "、": ",", "「": '"', "」": '"', "『": '"',
                "』": '"', "《": '"', "》": '"', "〈": "'", "〉": "'", "【": "(", "】": ")", "〔": "(",
                "〕": ")"}  # fmt: skip


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
    """Metrics shown on the Corpus page."""

    characters: int
    lines: int
    words: int
    unique_characters: int
    counts: dict[str, int] = field(default_factory=dict)  # most common first

    @property
    def letters(self) -> int:
        """How many of the characters are letters, of any script."""
        return sum(n for ch, n in self.counts.items() if is_letter(ch))


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
    text = text.lower()  # Unicode lowercasing: Ä -> ä, Σ -> σ (ς at the end of a word), ẞ -> ß
    if mode == "lowercase":
        return text
    allowed = _ALLOWED[mode]
    text = text.translate({ord(ch): _fold(ch, allowed) for ch in set(text) if ch not in allowed})
    text = _drop_loose_marks(text)
    return _SPACES.sub(" ", text) if mode == "letters_only" else text


def _fold(ch: str, allowed: frozenset[str]) -> str:
    """What one character becomes in a letter mode: a letter stays a letter, whatever its script."""
    category = unicodedata.category(ch)
    if category.startswith("L"):
        return _fold_latin(ch) if "LATIN" in unicodedata.name(ch, "") else ch
    if category.startswith("M"):
        return ch  # an accent or vowel sign: _drop_loose_marks decides by the letter it sits on
    if category == "Nd" and "0" in allowed:
        return str(unicodedata.decimal(ch))  # ٣ or ３ -> 3
    plain = _PUNCT_FOLDS.get(ch) or unicodedata.normalize("NFKC", ch)  # fullwidth ！ -> !, ² -> 2, Ⅻ -> xii
    plain = plain.lower()
    return plain if plain and all(c in allowed for c in plain) else " "


def _fold_latin(ch: str) -> str:
    """é -> e, ß -> ss, ﬁ -> fi; a Latin letter with no plain form (ŋ, ə) stays as it is."""
    if ch in _LATIN_FOLDS:
        return _LATIN_FOLDS[ch]
    plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.category(c).startswith("M"))
    plain = "".join(_LATIN_FOLDS.get(c, c) for c in plain.lower())
    return plain if plain.isascii() and plain.isalpha() else ch


def _drop_loose_marks(text: str) -> str:
    """Drop accents written as separate characters after a letter folded to ASCII (e + ◌́ -> e),
    or after nothing; keep the vowel signs and accents of letters that stay (Hindi, Greek, Japanese…)."""
    marks = "".join(sorted(ch for ch in set(text) if unicodedata.category(ch).startswith("M")))
    if not marks:
        return text
    loose = re.compile(f"(?:^|(?<=[\\x00-\\x7f]))[{re.escape(marks)}]+")
    return loose.sub("", text)


def changed_characters(text: str, mode: str) -> dict[str, str]:
    """Which characters a cleaning mode changes, and into what (for the Corpus page).

    Accents written as separate characters count as dropped only when cleaning drops every one of them."""
    changes: dict[str, str] = {}
    distinct = set(text)
    cleaned = None
    for ch in distinct:
        if mode != "keep" and unicodedata.category(ch).startswith("M"):
            cleaned = clean(text, mode) if cleaned is None else cleaned
            if ch not in cleaned:
                changes[ch] = ""
            continue
        becomes = clean(ch, mode)
        if becomes != ch:
            changes[ch] = becomes
    return dict(sorted(changes.items()))


def is_letter(ch: str) -> bool:
    """A letter of any script: a, é, ß, σ, ж, 月 (Unicode categories Lu, Ll, Lt, Lm, Lo)."""
    return unicodedata.category(ch).startswith("L")


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
    if info.unique_characters > MAX_EASY_VOCABULARY:
        found.append(_vocabulary_advice(info))
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


def _vocabulary_advice(info: CorpusStats) -> str:
    """Why a big vocabulary costs, and the cleaning that shrinks it when one can without deleting letters."""
    n = info.unique_characters
    caseless = [ch for ch in info.counts if is_letter(ch) and ch.lower() == ch.upper()]  # most common first
    if len(caseless) > n / 2:  # Chinese, Japanese, Korean, Thai…: the letters are the vocabulary
        rare = sum(1 for count in info.counts.values() if count < 5)
        return (
            f"The text uses {n:,} different characters, most of them {_script_name(caseless[0])}. "
            "That is normal for this script: its letters have no capitals and each stands for a word or a syllable, "
            "so no cleaning makes the vocabulary smaller without deleting letters. "
            f"It has a cost: every prediction is a choice among {n:,} characters, so the model's output is bigger "
            "and slower, and each character must be seen many times to be learned. This text has "
            f"{info.characters / n:,.0f} characters per different character on average, and {rare:,} of them appear "
            "fewer than 5 times: a longer text (hundreds of thousands of characters) teaches the rare ones."
        )
    options = []
    for mode, size in _shrinking_modes(info.counts):
        options.append(f"the '{CLEANING_MODES[mode][0]}' cleaning ({n:,} → {size:,})")
        if size <= MAX_EASY_VOCABULARY:
            break
    advice = (
        "try " + " or ".join(options) if options else "no cleaning makes it smaller without removing most of the text"
    )
    return f"The text uses {n:,} different characters. A huge vocabulary is slow to learn; {advice}."


def _shrinking_modes(counts: dict[str, int]) -> list[tuple[str, int]]:
    """The modes that make the vocabulary smaller while keeping most of the text, with the size they leave."""
    found = []
    for mode in ("lowercase", "letters_punct", "letters_only"):
        size = len({c for ch in counts for c in clean(ch, mode)})
        visible, kept = _visible_kept(counts, mode)
        if size < len(counts) and kept >= KEPT_ENOUGH * visible:
            found.append((mode, size))
    return found


def _visible_kept(counts: dict[str, int], mode: str) -> tuple[int, int]:
    """(visible characters, how many of them stay visible under `mode`); accents count with their letter."""
    visible = kept = 0
    for ch, count in counts.items():
        if ch.isspace() or unicodedata.category(ch).startswith("M"):
            continue
        visible += count
        kept += count if clean(ch, mode).strip() else 0
    return visible, kept


def cleaning_warnings(raw: CorpusStats, mode: str) -> list[str]:
    """Say in numbers when the chosen cleaning turns much of the text into spaces (digits, symbols, code…)."""
    visible, kept = _visible_kept(raw.counts, mode)
    if not visible or kept >= KEPT_ENOUGH * visible:
        return []
    lost = visible - kept
    return [
        f"The '{CLEANING_MODES[mode][0]}' cleaning turns {lost:,} of the text's {visible:,} visible characters "
        f"({lost / visible:.0%}) into spaces: only {kept:,} are left to learn from. "
        "Choose 'Keep everything' or 'Lowercase' to keep them."
    ]


def _script_name(letter: str) -> str:
    """'Chinese characters' for 月, 'Thai letters' for ก: the first word of the Unicode name says the script."""
    first = unicodedata.name(letter, "").split(" ")[0]
    return _SCRIPT_NAMES.get(first, f"{first.title()} letters")


def visible(ch: str) -> str:
    """Show invisible characters visibly in charts and tables."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}.get(ch, ch if ch.isprintable() else f"U+{ord(ch):04X}")
