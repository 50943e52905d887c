"""The chosen text (a charlab Corpus) and the cached corpus helpers: samples, uploads, cleaning and metrics."""

from __future__ import annotations

import streamlit as st

from charlab.limits import Limits
from charlab.text import corpus, samples
from charlab.text.corpus import Corpus
from ui import state


@st.cache_data(show_spinner=False, max_entries=16)
def load_sample(key: str) -> str:
    return samples.load_sample(key)


def use_sample(key: str) -> None:
    sample = samples.get_sample(key)
    text = load_sample(key)
    set_corpus(Corpus(sample.title, text, source=f"sample:{key}"))


def use_upload(name: str, data: bytes) -> None:
    loaded = corpus.load_bytes(data, name, Limits.from_env().upload_bytes)  # CharlabError: empty, binary, too big…
    set_corpus(loaded)  # an uploaded Corpus


def set_corpus(loaded: Corpus) -> None:
    state.CORPUS.set(loaded)


@st.cache_data(show_spinner=False, max_entries=8)
def _clean(sha: str, mode: str, _text: str) -> str:
    return corpus.clean(_text, mode)


@st.cache_data(show_spinner=False, max_entries=16)
def _stats(sha: str, mode: str, _text: str) -> corpus.CorpusStats:
    return corpus.stats(_text)


@st.cache_data(show_spinner=False, max_entries=8)
def _changes(sha: str, mode: str, _text: str) -> dict[str, str]:
    return corpus.changed_characters(_text, mode)


def cleaned_text(loaded: Corpus | None = None, mode: str | None = None) -> str | None:
    loaded = loaded or state.CORPUS.get()
    if loaded is None:
        return None
    mode = mode or state.CLEANING.get()
    return _clean(loaded.sha256, mode, loaded.text)


def text_stats(loaded: Corpus, mode: str | None = None) -> corpus.CorpusStats:
    """Metrics of the raw text (mode None) or of the cleaned text."""
    if mode is None:
        return _stats(loaded.sha256, "", loaded.text)
    return _stats(loaded.sha256, mode, cleaned_text(loaded, mode))


def changed_characters(loaded: Corpus, mode: str) -> dict[str, str]:
    return _changes(loaded.sha256, mode, loaded.text)


def corpus_vocab_size() -> int | None:
    loaded = state.CORPUS.get()
    return text_stats(loaded, state.CLEANING.get()).unique_characters if loaded else None


def corpus_key() -> str | None:
    """Identifies the cleaned text the preset epochs were computed for."""
    loaded = state.CORPUS.get()
    return f"{loaded.sha256}:{state.CLEANING.get()}" if loaded else None
