"""Text helpers: characters made visible, generated text boxes and streaming, the copy check's marks."""

from __future__ import annotations

import html
import re
import time
import unicodedata
from collections.abc import Iterable, Iterator

import streamlit as st
import streamlit.components.v1 as components

from charlab.saving import runs
from charlab.teaching.copying import MIN_PASSAGE, REPETITION_N, CopyReport
from charlab.teaching.neurons import character_kind
from charlab.text import corpus


def char_name(ch: str) -> str:
    """A character's name for tables and tooltips: "latin small letter a", "烟 (Han character)".

    Unicode names an ideograph only by its number ("CJK UNIFIED IDEOGRAPH-70DF"): there the
    character itself and its kind say more.
    """
    special = {" ": "space", "\n": "new line", "\t": "tab", "\r": "carriage return"}
    if ch in special:
        return special[ch]
    name = unicodedata.name(ch, "")
    if not name:
        return f"U+{ord(ch):04X}"
    if re.search(r"-[0-9A-F]{4,6}$", name):  # a name made of the code point
        return f"{ch} ({character_kind(ch)})"
    return name.lower()


def visible_text(text: str) -> str:
    return "".join(corpus.visible(ch) for ch in text)


def md(text: str) -> str:
    """A name or text safe inside st.markdown/st.caption: markdown and HTML characters are escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~<>$:&])", r"\\\1", str(text))


def skipped_caption(dropped: Iterable[str]) -> None:
    """Say which characters of a typed text the model cannot read (not in its vocabulary), when there are any."""
    skipped = "".join(dropped)
    if skipped:
        st.caption(f":material/warning: Not in this model's vocabulary, so skipped: {md(visible_text(skipped))}")


def scroll_to(anchor: str | None) -> None:
    """Bring the heading with this anchor on screen (Streamlit never scrolls to a new result by itself)."""
    if not anchor or not re.fullmatch(r"[a-z0-9-]+", anchor):
        return
    components.html(
        "<script>const target = window.parent.document.getElementById("
        f"{anchor!r}); if (target) target.scrollIntoView({{behavior: 'smooth', block: 'start'}});</script>",
        height=0,
    )


BOX_STYLE = (  # every box of text the app draws: generated text, marked copies, coloured activations
    # pre-wrap keeps the text's own line breaks; overflow-wrap breaks a long run without spaces (an untrained
    # network's gibberish, a URL) at the box's edge instead of cutting it off
    "white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:0.95rem;"
    "padding:0.8rem 1rem;border:1px solid rgba(128,128,128,0.35);border-radius:0.5rem;"
)
# a faint tint of the page's own colours, never a fixed light background: the text inherits the theme's colour,
# and a light box under the dark theme's light text left it unreadable
TEXT_BACKGROUND = "background:rgba(99,102,241,0.06);"
DARK_TEXT = "#0B0F19"  # on a light highlight in either theme (the dark theme's own text is light)
FADED = "opacity:0.72;"  # the seed and side notes: paler in either theme, still 4.5:1 against the background


def box(css_class: str, inner_html: str, height: int | None, extra_style: str = "") -> str:
    """A box of monospaced text (inner_html already escaped), scrolling beyond `height` pixels.

    A box that scrolls takes the keyboard's focus (Tab, then the arrow keys scroll it): without it a keyboard
    user could never read past its first lines (axe's scrollable-region-focusable)."""
    if not height:
        return f'<div class="{css_class}" style="{BOX_STYLE}{extra_style}">{inner_html}</div>'
    scroll = f"max-height:{height}px;overflow-y:auto;"
    return (
        f'<div class="{css_class}" style="{BOX_STYLE}{extra_style}{scroll}" tabindex="0" role="region" '
        f'aria-label="Text (scrolls)">{inner_html}</div>'
    )


def text_box(seed: str, generated: str, height: int | None = 320) -> str:
    """Generated text in a readable box; the seed (what the user typed) is shown paler."""
    inner = f'<span style="{FADED}">{html.escape(seed)}</span><span>{html.escape(generated)}</span>'
    return box("charlab-text", inner, height, "line-height:1.5;" + TEXT_BACKGROUND)


def stream(placeholder, seed: str, chars: Iterator[str], length: int, seconds: float = 1.5) -> str:
    """Show characters as they are sampled, paced so a reader sees the text being written."""
    out: list[str] = []
    chunk = max(1, length // 60)
    pause = seconds / max(1, length / chunk)
    for i, ch in enumerate(chars, 1):
        out.append(ch)
        if i % chunk == 0:
            placeholder.html(text_box(seed, "".join(out)))
            time.sleep(pause)
    text = "".join(out)
    placeholder.html(text_box(seed, text))
    return text


def marked_text(text: str, spans: Iterable[tuple[int, int, str]], height: int | None = 320) -> str:
    """A text box with some stretches highlighted; spans are (start, end, CSS background), never overlapping.

    Every piece is html-escaped: the text comes from a model trained on an uploaded file.
    """
    pieces, at = [], 0
    for start, end, background in sorted(spans):
        if start < at or end <= start:
            continue
        pieces.append(html.escape(text[at:start]))
        marked = html.escape(text[start:end])
        pieces.append(f'<mark style="background:{background};color:{DARK_TEXT};padding:0">{marked}</mark>')
        at = end
    pieces.append(html.escape(text[at:]))
    return box("charlab-text", "".join(pieces), height, "line-height:1.5;" + TEXT_BACKGROUND)


COPY_LONGEST, COPY_OTHER = "#FDBA74", "#FEF3C7"


def copy_spans(report: CopyReport) -> list[tuple[int, int, str]]:
    """The longest verbatim passage in orange, the other copied stretches in pale yellow."""
    spans = [(p.start, p.end, COPY_OTHER) for p in report.passages if report.longest is None or p != report.longest]
    if report.longest is not None and len(report.longest.text) >= MIN_PASSAGE:
        spans = [s for s in spans if s[1] <= report.longest.start or s[0] >= report.longest.end]
        spans.append((report.longest.start, report.longest.end, COPY_LONGEST))
    return spans


def familiar_words(report: CopyReport) -> str:
    """e.g. "87% of its words are in the training text" (character pairs for Chinese and the like)."""
    if not report.spaced:
        if not report.pairs_checked:
            return "no character pairs to check"
        return f"{report.known_pair_share:.0%} of its character pairs are in the training text"
    if not report.words_checked:
        return "no whole words"
    return f"{report.real_word_share:.0%} of its words are in the training text"


def repetition_words(report: CopyReport) -> str:
    """The repetition score in plain words, to stand beside its number."""
    return (
        f"{report.repetition:.0%} of its {REPETITION_N}-character pieces already came earlier in it "
        f"(a stretch of the training text as long: {report.reference_repetition:.0%}; near 100% is a loop)"
    )


def copy_summary(report: CopyReport) -> str:
    """One line for a small column: longest copied passage, familiar words, repetition."""
    longest = len(report.longest.text) if report.longest else 0
    return (
        f"Longest copied passage: {longest} characters · {familiar_words(report)} · "
        f"repetition {report.repetition:.2f} means: {repetition_words(report)}"
    )


def copy_view(report: CopyReport, generated: str) -> None:
    """ "Is it copying?": the longest verbatim passage highlighted, where it came from, familiar words, repetition."""
    longest = report.longest
    length = len(longest.text) if longest else 0
    m = st.columns(3)
    m[0].metric(
        "Longest passage copied",
        f"{length} characters",
        help=f"The longest stretch found word for word in the training text. Under {MIN_PASSAGE} characters "
        "happens by chance in any text.",
        border=True,
    )
    if report.spaced:
        m[1].metric(
            "Real words",
            f"{report.real_word_share:.0%}" if report.words_checked else "–",
            help="Share of the generated words that also appear in the training text.",
            border=True,
        )
    else:
        m[1].metric(
            "Known character pairs",
            f"{report.known_pair_share:.0%}" if report.pairs_checked else "–",
            help="Share of the generated text's pairs of neighbouring characters that also occur in the training text.",
            border=True,
        )
        m[1].caption(
            "This text's writing puts no spaces between words, so its words cannot be counted: pairs of "
            "neighbouring characters can."
        )
    m[2].metric(
        "Repetition",
        f"{report.repetition:.2f}",
        delta=f"training text: {report.reference_repetition:.2f}",
        delta_color="off",
        delta_arrow="off",
        help=f"Share of {REPETITION_N}-character pieces the text already used earlier (0 = never repeats, 1 = a loop).",
        border=True,
    )
    m[2].caption(f"{report.repetition:.2f} means: {repetition_words(report)}.")
    if longest is not None and length >= MIN_PASSAGE:
        st.caption(
            f"The orange passage ({length} characters) is copied from line {longest.source_line:,} of the "
            f"training text; pale yellow: other copied stretches ({report.copied_share:.0%} of the text in all)."
        )
        st.html(marked_text(generated, copy_spans(report), height=260))
    else:
        st.caption(
            f"No passage of {MIN_PASSAGE} characters or more comes word for word from the training text: "
            "the network writes its own text."
        )
    unfamiliar = report.invented_words if report.spaced else report.unknown_pairs
    if unfamiliar:  # the model's words: escaped, never read as markdown
        what = "Words" if report.spaced else "Character pairs"
        listed = html.escape(", ".join(unfamiliar[:12]))
        st.html(f'<div style="{FADED}font-size:0.875rem">{what} not in the training text: {listed}</div>')


def copy_check_missing(info: runs.RunInfo) -> None:
    st.caption(
        f":material/info: To check copying, choose the text this run learned from ({md(info.corpus_name)}, "
        f"cleaning: {corpus.CLEANING_MODES.get(info.cleaning, (info.cleaning,))[0]}) on the Corpus page: "
        "the training text is not loaded."
    )
