"""The Corpus page in AppTest: sample texts, cleaning modes, and uploads good and bad."""

from __future__ import annotations

import pytest
from app_pages import (
    APP_FIXTURES,
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

import ui
from charlab import corpus

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
    assert at.session_state["token"] not in ui.registry().queue


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
