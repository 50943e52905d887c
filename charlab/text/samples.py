"""The catalogue of ready-made texts, so a user can start training without a file of their own.

Every sample works offline. Four kinds:
- bundled: short texts written for charlab, in ``sample_texts/``;
- classic: public-domain books shipped compressed in ``sample_texts/classics/`` (school networks
  often block downloads; a classroom server is often offline). Only if an installation lacks the
  file is it downloaded, once, into a cache folder;
- generated: made by code (Reber grammar, sums), with rules a program can check;
- stdlib: Python's own standard library source, read from this computer at run time.
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import sysconfig
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from charlab import environment
from charlab.errors import CharlabError
from charlab.text import corpus
from charlab.text.reber import GrammarScore, reber_corpus

SAMPLE_TEXTS_DIR = Path(__file__).parents[2] / "sample_texts"

ProgressCallback = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)

_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
_CHUNK_BYTES = 64 * 1024
_STDLIB_CAP_CHARS = 600_000
# plain, pure-Python modules present in every CPython 3.10+; sorted so the text never changes order
_STDLIB_MODULES = (
    "argparse.py",
    "bisect.py",
    "calendar.py",
    "colorsys.py",
    "copy.py",
    "difflib.py",
    "fnmatch.py",
    "fractions.py",
    "glob.py",
    "heapq.py",
    "pprint.py",
    "queue.py",
    "shlex.py",
    "string.py",
    "textwrap.py",
)
_REBER_STRINGS = 3000
_ARITHMETIC_LINES = 4000
_ARITHMETIC_MAX_OPERAND = 99


@dataclass(frozen=True)
class SampleCorpus:
    """One entry in the catalogue: what the UI shows before the text is loaded."""

    key: str  # stable id used in code, saved runs and URLs
    title: str  # shown in the UI
    description: str  # one line, for a non-programmer
    kind: str  # "bundled", "classic", "generated" or "stdlib"
    approx_size: int  # characters, approximate, shown before loading
    url: str | None = None  # where a "classic" sample is downloaded from if its shipped file is missing
    source: str = ""  # where a classic text comes from, for the curious and the licence note


SAMPLES: tuple[SampleCorpus, ...] = (
    SampleCorpus(
        key="reber",
        title="Reber grammar",
        description="Strings like BTBPVVETE that follow strict hidden rules; we can check if the model learned them.",
        kind="generated",
        approx_size=39_000,
    ),
    SampleCorpus(
        key="arithmetic",
        title="Small sums",
        description="Lines like 17+25=42; we can check whether the model's sums are right.",
        kind="generated",
        approx_size=37_000,
    ),
    SampleCorpus(
        key="fables",
        title="Animal fables",
        description="Short animal stories written for charlab, each ending with a moral.",
        kind="bundled",
        approx_size=15_000,
    ),
    SampleCorpus(
        key="recipes",
        title="Recipes",
        description="Short recipes with a fixed layout (ingredients, then numbered steps) that is quick to learn.",
        kind="bundled",
        approx_size=16_000,
    ),
    SampleCorpus(
        key="limericks",
        title="Limericks",
        description="Funny five-line rhyming poems written for charlab.",
        kind="bundled",
        approx_size=13_000,
    ),
    SampleCorpus(
        key="python_stdlib",
        title="Python source code",
        description="Code from Python's own standard library, read from this computer.",
        kind="stdlib",
        approx_size=370_000,
    ),
    SampleCorpus(
        key="aesop",
        title="Aesop's fables",
        description="82 of Aesop's fables, retold for children by Joseph Jacobs (1894), each with its moral.",
        kind="classic",
        approx_size=61_000,
        source="Project Gutenberg eBook #28, The Fables of Aesop (the fables only)",
    ),
    SampleCorpus(
        key="tiny_shakespeare",
        title="Tiny Shakespeare",
        description="About 40,000 lines from Shakespeare's plays, the classic char-RNN text.",
        kind="classic",
        approx_size=1_115_000,
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        source="karpathy/char-rnn, data/tinyshakespeare/input.txt",
    ),
    SampleCorpus(
        key="sonnets",
        title="Shakespeare's sonnets",
        description="All 154 of Shakespeare's sonnets, a blank line between them.",
        kind="classic",
        approx_size=94_000,
        url="https://www.gutenberg.org/cache/epub/1041/pg1041.txt",
        source="the Moby edition of Shakespeare's works, as shipped in prosodic 1.6.2",
    ),
    SampleCorpus(
        key="alice",
        title="Alice in Wonderland",
        description="Lewis Carroll's novel, Alice's Adventures in Wonderland.",
        kind="classic",
        approx_size=144_000,
        url="https://www.gutenberg.org/cache/epub/11/pg11.txt",
        source="Project Gutenberg eBook #11, Millennium Fulcrum Edition 3.0",
    ),
)

CLASSICS_DIR = SAMPLE_TEXTS_DIR / "classics"


def get_sample(key: str) -> SampleCorpus:
    """The catalogue entry for ``key``; reads ``SAMPLES`` each time so tests can swap an entry."""
    for sample in SAMPLES:
        if sample.key == key:
            return sample
    valid = ", ".join(sample.key for sample in SAMPLES)
    raise CharlabError(f"There is no sample text called {key!r}. Choose one of: {valid}.")


def load_sample(
    key: str,
    cache_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = 20.0,
) -> str:
    """The text of sample ``key``; downloads fetch once, later calls read the cache (no network)."""
    sample = get_sample(key)
    if sample.kind == "bundled":
        return _read_bundled(sample)
    if sample.kind == "generated":
        return _GENERATORS[sample.key]()
    if sample.kind == "stdlib":
        return python_stdlib_text()
    if sample.kind == "classic":
        if shipped_path(sample).is_file():
            return _read_shipped(sample)
        return _load_download(sample, cache_dir, progress, timeout)
    raise CharlabError(f"The sample {sample.title!r} has an unknown kind {sample.kind!r}.")


def shipped_path(sample: SampleCorpus) -> Path:
    """Where a classic text lies in this installation (gzip-compressed UTF-8)."""
    return CLASSICS_DIR / f"{sample.key}.txt.gz"


def is_offline(key: str, cache_dir: Path | None = None) -> bool:
    """True when loading ``key`` needs no internet: every sample, unless a classic's file is missing
    from this installation and was never downloaded."""
    sample = get_sample(key)
    if sample.kind != "classic" or shipped_path(sample).is_file():
        return True
    return _cache_path(sample, cache_dir).is_file()


def default_cache_dir() -> Path:
    """Where downloads are kept: ``$CHARLAB_CACHE`` if set, else ``~/.cache/charlab``."""
    return environment.cache_dir()


# ---- generated ----


def arithmetic_corpus(
    n_lines: int = _ARITHMETIC_LINES, seed: int = 0, max_operand: int = _ARITHMETIC_MAX_OPERAND
) -> str:
    """Lines like ``17+25=42``: random sums of numbers 0..max_operand, same seed, same text."""
    for name, value, minimum in (
        ("number of lines", n_lines, 1),
        ("seed", seed, 0),
        ("largest number", max_operand, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise CharlabError(f"The {name} must be a whole number of at least {minimum} (got {value!r}).")
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, max_operand + 1, size=(n_lines, 2))
    return "".join(f"{a}+{b}={a + b}\n" for a, b in pairs.tolist())


_SUM_LINE = re.compile(r"(\d+)\+(\d+)=(\d+)")


def arithmetic_score(text: str) -> GrammarScore:
    """Share of generated lines that are a correct sum; same line rules as ``reber.grammar_score``."""
    lines = text.split("\n")
    lines.pop()  # "" after a final newline, or a line cut off by the sample length
    checked = [line for line in lines if line != ""]
    correct = 0
    for line in checked:
        match = _SUM_LINE.fullmatch(line)
        correct += bool(match) and int(match[1]) + int(match[2]) == int(match[3])
    share = correct / len(checked) if checked else 0.0
    return GrammarScore(total=len(checked), grammatical=correct, share=share)


_GENERATORS: dict[str, Callable[[], str]] = {
    "reber": lambda: reber_corpus(_REBER_STRINGS, seed=0, embedded=True),
    "arithmetic": lambda: arithmetic_corpus(_ARITHMETIC_LINES, seed=0),
}


# ---- bundled and stdlib ----


def _read_bundled(sample: SampleCorpus) -> str:
    path = SAMPLE_TEXTS_DIR / f"{sample.key}.txt"
    try:
        return _normalise_newlines(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise CharlabError(
            f"The sample text {sample.title!r} is missing from this installation ({path}). "
            "Reinstall charlab, or use a text file of your own."
        ) from error


def _read_shipped(sample: SampleCorpus) -> str:
    path = shipped_path(sample)
    try:
        return gzip.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as error:  # gzip.BadGzipFile is an OSError
        raise CharlabError(
            f"The copy of {sample.title!r} in this installation is damaged ({path}). "
            "Reinstall charlab, or use a text file of your own."
        ) from error


def python_stdlib_text(cap_chars: int = _STDLIB_CAP_CHARS) -> str:
    """A dozen standard-library modules joined with ``# ---- file: name ----`` headers."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts: list[str] = []
    for name in _STDLIB_MODULES:
        try:
            source = (stdlib / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # some installs (embedded, zipped) lack a module; use the rest
        parts.append(f"# ---- file: {name} ----\n{_normalise_newlines(source).rstrip()}\n\n")
    if not parts:
        raise CharlabError(
            f"Could not find Python's standard library source files in {stdlib}. "
            "This Python may ship without them; choose another sample or upload a .txt file."
        )
    text = "".join(parts)
    if len(text) > cap_chars:
        text = text[: text.rfind("\n", 0, cap_chars) + 1]  # cut at a line end
    return text


# ---- downloads ----


class _NetworkError(CharlabError):
    """The download failed for network reasons (offline, refused, timeout, HTTP error)."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"Could not download {label} ({reason}). Check the internet connection and try again.")
        self.reason = reason  # short phrase, shown in brackets in the user's message


def _cache_path(sample: SampleCorpus, cache_dir: Path | None) -> Path:
    return Path(cache_dir if cache_dir is not None else default_cache_dir()) / f"{sample.key}.txt"


def _load_download(
    sample: SampleCorpus, cache_dir: Path | None, progress: ProgressCallback | None, timeout: float
) -> str:
    if not timeout > 0:
        raise CharlabError(f"The download timeout must be more than 0 seconds (got {timeout!r}).")
    path = _cache_path(sample, cache_dir)
    if not path.is_file():
        if sample.url is None:
            raise CharlabError(f"The sample {sample.title!r} has no download address.")
        try:
            _download(sample.url, path, progress, timeout, name=sample.title)
        except _NetworkError as error:
            raise CharlabError(
                f"Could not download {sample.title!r} ({error.reason}). You can download it "
                f"yourself from {sample.url} and use that file instead."
            ) from error
    try:
        return _decode_download(path.read_bytes())
    except OSError as error:
        raise CharlabError(
            f"Could not read the downloaded copy of {sample.title!r} at {path} ({error.strerror}). "
            "Delete that file and load the sample again."
        ) from error


def _download(
    url: str,
    dest: Path,
    progress: ProgressCallback | None = None,
    timeout: float = 20.0,
    *,
    name: str | None = None,
) -> None:
    """Fetch ``url`` into ``dest`` via a temp file and ``os.replace``: never a half-written file."""
    label = repr(name) if name else url
    request = urllib.request.Request(url, headers={"User-Agent": "charlab (char-RNN playground)"})
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CharlabError(
            f"Could not create the download folder {dest.parent} ({error.strerror}). "
            "Set the CHARLAB_CACHE environment variable to a folder you can write to."
        ) from error
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    _copy_response(response, out, progress, label)
            except urllib.error.HTTPError as error:
                raise _NetworkError(label, f"the server answered {error.code} {error.reason}") from error
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                raise _NetworkError(label, "no internet connection?") from error  # also timeouts, drops
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _copy_response(response, out, progress: ProgressCallback | None, label: str) -> None:
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    too_big = CharlabError(
        f"The download {label} is larger than {_MAX_DOWNLOAD_BYTES // (1024 * 1024)} MB, "
        "too big for a playground. Upload a smaller .txt file instead."
    )
    if total is not None and total > _MAX_DOWNLOAD_BYTES:
        raise too_big
    received = 0
    if progress is not None:
        progress(received, total)
    while chunk := response.read(_CHUNK_BYTES):
        received += len(chunk)
        if received > _MAX_DOWNLOAD_BYTES:
            raise too_big
        try:
            out.write(chunk)
        except OSError as error:  # not a network problem, so not reported as one
            raise CharlabError(
                f"Could not save the download {label} ({error.strerror}). "
                "Is the disk full? Free some space or set CHARLAB_CACHE to another folder."
            ) from error
        if progress is not None:
            progress(received, total)
    if received == 0:
        raise _NetworkError(label, "the server sent an empty file")


def _decode_download(raw: bytes) -> str:
    """UTF-8 (BOM dropped), ``\\n`` line ends, Project Gutenberg header and footer removed."""
    text = _normalise_newlines(raw.decode("utf-8-sig", errors="replace"))
    return strip_gutenberg(text)


_GUTENBERG_START = re.compile(r"^[ \t]*\*\*\* ?START OF.*$", re.MULTILINE)
_GUTENBERG_END = re.compile(r"^[ \t]*\*\*\* ?END OF.*$", re.MULTILINE)


def strip_gutenberg(text: str) -> str:
    """The book without Project Gutenberg's licence text; unchanged if the markers are missing."""
    start, end = _GUTENBERG_START.search(text), _GUTENBERG_END.search(text)
    if start is None and end is None:
        return text
    begin = start.end() if start else 0
    finish = end.start() if end and end.start() >= begin else len(text)
    return text[begin:finish].strip("\n") + "\n"


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_source(source: str, progress: ProgressCallback | None = None) -> tuple[str, str, tuple[str, ...]]:
    """A text named as the command line and the benchmarks take it: `sample:KEY` (a shipped or downloaded
    sample) or a path to a text file. Returns the text, its name and what the reader should know of it
    ("read as Latin-1"); a shipped `.gz` sample is never read as if it were UTF-8 text."""
    if source.startswith("sample:"):
        key = source.split(":", 1)[1]
        return load_sample(key, progress=progress), get_sample(key).title, ()
    loaded = corpus.load_path(source)
    return loaded.text, Path(source).name, loaded.notes
