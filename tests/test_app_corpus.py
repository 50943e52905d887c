"""The Corpus page in AppTest: sample texts, cleaning modes, and uploads good and bad."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from app_pages import (
    APP_FIXTURES,
    charts,
    contains,
    go,
    metric,
    open_app,
    plain,
    run,
    sidebar_text,
    texts,
    upload_text,
    use_sample,
)

from charlab.text import corpus
from ui.job_registry import registry

pytestmark = APP_FIXTURES


def test_samples_and_cleaning_modes_change_the_vocabulary():
    at = open_app("corpus")
    assert contains(at.info, "Choose a sample text or upload a file")
    use_sample(at, "fables")
    loaded = at.session_state["corpus"]
    assert loaded.source == "sample:fables" and texts(at.header) == ["Animal fables"]
    assert "Animal fables" in sidebar_text(at)  # the sidebar knows at once, not one click later
    vocab = {}
    for mode in ("keep", "lowercase", "letters_only"):
        run(at.radio(key="corpus_cleaning").set_value(mode))
        assert at.session_state["cleaning"] == mode
        assert corpus.CLEANING_MODES[mode][0] in sidebar_text(at)
        vocab[mode] = int(metric(at, "Vocabulary size").replace(",", ""))
        assert vocab[mode] == len(set(corpus.clean(loaded.text, mode)))
    assert vocab["keep"] > vocab["lowercase"] > vocab["letters_only"]
    assert vocab["letters_only"] <= 27

    use_sample(at, "reber")
    assert at.session_state["corpus"].source == "sample:reber" and texts(at.header) == ["Reber grammar"]


def test_uploading_a_text_uses_it_and_warns_when_it_is_tiny():
    at = open_app()
    upload_text(at, "A tiny text.\n" * 10, "tiny.txt")
    loaded = at.session_state["corpus"]
    assert loaded.source == "upload" and loaded.name == "tiny.txt" and loaded.text == "A tiny text.\n" * 10
    assert list(map(plain, texts(at.header))) == ["tiny.txt"]
    assert "tiny.txt" in sidebar_text(at)
    warnings = plain(" ".join(texts(at.warning)))
    assert "The text is short (130 characters)" in warnings
    assert "it can memorise the text" in warnings
    assert "training cannot start" in warnings
    assert not at.error

    go(at, "train")  # Start is refused in plain words, and nothing starts
    run(at.button(key="train_start").click())
    assert contains(at.error, "too short for a sequence length of 64")
    assert at.session_state["token"] not in registry().queue


BAD_FILES = {
    "empty": ("empty.txt", b"", "is empty"),
    "binary": ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "looks like a binary file"),
    "undecodable": ("old.txt", b"caf\x81 \x8d\x8f\x90\x9d" * 50, "is not UTF-8 text"),
    "too big": ("huge.txt", b"a" * (corpus.DEFAULT_MAX_BYTES + 1), "the limit is 10 MB"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_upload_shows_an_error_and_keeps_the_chosen_text(kind):
    name, data, words = BAD_FILES[kind]
    at = open_app()
    use_sample(at, "fables")
    run(at.file_uploader(key="corpus_upload").upload(name, data, "text/plain"))
    assert len(at.error) == 1 and words in plain(at.error[0].value) and name in plain(at.error[0].value)
    assert at.session_state["corpus"].source == "sample:fables"
    assert texts(at.header) == ["Animal fables"]
    run(at)  # the error stays while the bad file is in the uploader; the text stays too
    assert contains(at.error, words) and at.session_state["corpus"].source == "sample:fables"


DATA_DIR = Path(__file__).parent / "data"
MODE_LABELS = [label for label, _ in corpus.CLEANING_MODES.values()]


def _figures(at) -> dict[str, int]:
    return {m.label: int(m.value.replace(",", "")) for m in at.metric}


def _advised_modes(at) -> list[str]:
    """Cleaning modes named in the page's warnings (a mode is only named to advise it or warn about it)."""
    shown = plain(" ".join(texts(at.warning)))
    return [label for label in MODE_LABELS if f"'{label}'" in shown]


def test_a_chinese_text_is_never_told_to_clean_its_letters_away():
    text = (DATA_DIR / "tang_poems_zh.txt").read_text(encoding="utf-8")
    at = open_app()
    upload_text(at, text, "poems.txt")
    distinct = len(set(text))
    assert distinct > 600  # the premise: hundreds of different characters
    for mode in corpus.CLEANING_MODES:
        run(at.radio(key="corpus_cleaning").set_value(mode))
        cleaned = corpus.clean(text, mode)
        assert _advised_modes(at) == [], (mode, texts(at.warning))
        assert contains(at.warning, "normal for this script")
        figures = _figures(at)  # what is left after cleaning
        assert figures["Characters"] == len(cleaned) and figures["Vocabulary size"] == len(set(cleaned))
        assert figures["Letters"] == corpus.stats(cleaned).letters == corpus.stats(text).letters
        preview = at.code[-1].value
        assert preview == cleaned[:1500] and "床前明月光" in preview
    at.radio(key="corpus_cleaning").set_value("lowercase")
    run(at)
    assert contains(at.caption, "Cleaning changes none of them")


def test_the_vocabulary_chart_says_it_shows_the_most_frequent_and_the_table_has_all():
    text = (DATA_DIR / "tang_poems_zh.txt").read_text(encoding="utf-8")
    at = open_app()
    upload_text(at, text, "poems.txt")
    distinct = len(set(text))
    assert contains(at.caption, f"the chart shows the most frequent, the table below lists all {distinct:,}")
    (spec, frames), *_ = [c for c in charts(at) if "Cleaning" in c[0]]
    # Chinese characters are twice as wide as Latin letters: half as many bars keep every label readable
    title = json.loads(spec)["title"]["text"]
    assert title == [f"The 35 most frequent of {distinct:,} characters;", f"the table below lists all {distinct:,}."]
    assert len(frames[0]) == 35
    table = next(d.value for d in at.dataframe if "Character" in d.value.columns)
    assert len(table) == distinct
    moon = table[table["Character"] == "月"].iloc[0]
    assert moon["Name"] == "月 (Han character)"  # not only 'cjk unified ideograph-6708'

    use_sample(at, "fables")  # a small vocabulary: every character is drawn, nothing more to say
    assert not contains(at.caption, "the chart shows the most frequent")
    (spec, frames), *_ = [c for c in charts(at) if "Cleaning" in c[0]]
    assert "most frequent of" not in spec and len(frames[0]) == len(set(at.session_state["corpus"].text))


def test_german_letters_and_quotes_survive_the_letter_modes():
    text = (DATA_DIR / "german_de.txt").read_text(encoding="utf-8")
    at = open_app()
    upload_text(at, text, "muehle.txt")
    raw_letters = sum(unicodedata.category(ch).startswith("L") for ch in text)
    for mode in ("letters_punct", "letters_only"):
        run(at.radio(key="corpus_cleaning").set_value(mode))
        assert not at.warning or _advised_modes(at) == [], texts(at.warning)
        preview = at.code[-1].value
        assert "muhlenstrasse" in preview and " gross" in preview and "gro " not in preview
        assert _figures(at)["Letters"] == raw_letters + text.count("ß")  # every letter kept, ß -> ss
    run(at.radio(key="corpus_cleaning").set_value("letters_punct"))
    assert '"wer hat die muhle gebaut?", fragt' in at.code[-1].value
    left = len(corpus.clean(text, "letters_punct"))
    assert left == len(text) + text.count("ß") + 2 * text.count("…")  # ß -> ss, … -> ...
    assert f"{left:,} characters · Letters and punctuation" in sidebar_text(at)  # what the model learns from
    changed = plain(" ".join(texts(at.markdown)))
    assert "ß → ss" in changed and '„ → "' in changed and "– → -" in changed


def test_a_cleaning_that_blanks_most_of_the_text_is_said_with_numbers():
    sums = "12+34=46\n7+8=15\n" * 100
    at = open_app()
    upload_text(at, sums, "sums.txt")
    assert not contains(at.warning, "into spaces")
    run(at.radio(key="corpus_cleaning").set_value("letters_only"))
    assert contains(at.warning, "turns 1,400 of the text's 1,400 visible characters (100%) into spaces")
    assert _figures(at)["Characters"] == len(corpus.clean(sums, "letters_only")) == 1
    assert _figures(at)["Letters"] == 0
