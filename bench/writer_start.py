"""The classics writer's head start on a text: its first guesses against the text's own letter frequencies.

    python bench/writer_start.py [FILE[:CHARS] ...] [--whole]

For each text (default: the German story and English lyrics of tests/data/languages/, 4,000 characters of
charlab's recipes, and the held-out texts of sample_texts/heldout/ when this checkout has them), what
`charlab.learning.writers.writer_head_start` measures (on SAMPLE_PIECES spread pieces, the characters the writer knows):
letters only, the writer's start, the head start, whether the writer is the default (CLEAR_HEAD_START), and the
milliseconds the measurement took (the best of 3). `--whole` adds the writer's loss on every character of the
text it knows, to see the sampled pieces' error. Last, the time for 100,000 characters (the default's limit)
and for 10 MB (the upload limit), and for writer_advice as a whole (its letter count too).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from charlab.learning import writers  # noqa: E402
from charlab.saving import runs  # noqa: E402
from charlab.text import samples  # noqa: E402

DEFAULT_TEXTS = [
    "tests/data/languages/deutsch.txt",
    "tests/data/languages/lyrics.txt",
    "sample_texts/recipes.txt:4000",
    "sample_texts/heldout/letters.txt",
    "sample_texts/heldout/fairy_tale.txt",
    "sample_texts/heldout/poems.txt",
]


def read(spec: str) -> tuple[str, str]:
    """'FILE' or 'FILE:CHARS' (the first CHARS characters)."""
    path, _, chars = spec.partition(":")
    text = (ROOT / path if not Path(path).is_absolute() else Path(path)).read_text(encoding="utf-8")
    return Path(path).stem, text[: int(chars)] if chars else text


def timed(writer: runs.Run, text: str) -> tuple[writers.HeadStart | None, float]:
    best, head = float("inf"), None
    for _ in range(3):
        began = time.perf_counter()
        head = writers.writer_head_start(writer, text)
        best = min(best, time.perf_counter() - began)
    return head, best


def whole_text_loss(writer: runs.Run, text: str) -> float:
    """The writer's loss on every character of the text that it knows (the sampled pieces' reference)."""
    saved = writers.SAMPLE_PIECES, writers.SAMPLE_PIECE_LENGTH, writers.SAMPLE_CONTEXT
    writers.SAMPLE_PIECES, writers.SAMPLE_PIECE_LENGTH, writers.SAMPLE_CONTEXT = 1, len(text), 0
    try:
        return writers.writer_head_start(writer, text).writer_loss
    finally:
        writers.SAMPLE_PIECES, writers.SAMPLE_PIECE_LENGTH, writers.SAMPLE_CONTEXT = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("texts", nargs="*", help="FILE or FILE:CHARS")
    parser.add_argument("--whole", action="store_true", help="also the writer's loss on the whole text")
    args = parser.parse_args()
    specs = args.texts or [s for s in DEFAULT_TEXTS if (ROOT / s.partition(":")[0]).exists()]
    writer = runs.load_run(writers.find_writer(writers.CLASSICS_WRITER))
    pieces = f"{writers.SAMPLE_PIECES} pieces of {writers.SAMPLE_PIECE_LENGTH} characters"
    print(f"head start needed: {writers.CLEAR_HEAD_START} nats; {pieces}, the first {writers.SAMPLE_CONTEXT} context")
    header = "| text | chars | letters only | writer's start | head start | default | ms |"
    print(header + (" whole text |" * args.whole))
    print("|---|---:|---:|---:|---:|---|---:|" + ("---:|" * args.whole))
    for spec in specs:
        name, text = read(spec)
        head, seconds = timed(writer, text)
        default = writers.writer_by_default(text, writer)
        row = f"| {name} | {len(text):,} | {head.letters_only:.3f} | {head.writer_loss:.3f} | {head.nats:+.3f} | "
        row += f"{'writer' if default else 'blank'} | {seconds * 1000:.0f} |"
        if args.whole:
            row += f" {whole_text_loss(writer, text):.3f} |"
        print(row, flush=True)
    fables = samples.load_sample("fables")
    for n_chars in (100_000, 10_000_000):  # the writer's default's limit, the upload limit
        big = (fables * (n_chars // len(fables) + 1))[:n_chars]
        began = time.perf_counter()
        writers.writer_advice(big, writer)
        advice = time.perf_counter() - began
        _, seconds = timed(writer, big)
        print(f"{n_chars:,} characters (the fables repeated): {seconds * 1000:.0f} ms, the whole advice {advice:.2f} s")


if __name__ == "__main__":
    main()
