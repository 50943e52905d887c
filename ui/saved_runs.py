"""Saved runs: loading them (cached, reloaded when re-saved), their training text, baselines and copy
index, and the runs list with its labels.

Nothing here imports TensorFlow until a run is loaded (charlab.saving.runs)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import streamlit as st

from charlab.errors import CharlabError
from charlab.network.cells import CELL_TYPES
from charlab.network.model import ModelConfig
from charlab.saving import runs, webpage
from charlab.server import owners
from charlab.teaching.copying import TrainingTextIndex
from charlab.text import corpus
from charlab.text.baselines import BaselineReport, compute_baselines
from charlab.text.vocab import Vocab
from ui import state
from ui.corpus_cache import cleaned_text, load_sample
from ui.formatting import fmt_date
from ui.owners import check_run_allowed, is_teacher, run_allowed, run_owner, session_workspace
from ui.page_guard import callback
from ui.settings import PAGES, STATUS_WORDS
from ui.text import md


def run_stamp(path: str | Path) -> float:
    """Changes whenever the run's weights are re-saved, so caches reload a checkpointed run."""
    path = Path(path)
    stamps = [f.stat().st_mtime for f in (path / "weights.npz", path / "config.json") if f.exists()]
    return max(stamps, default=0.0)


@st.cache_resource(show_spinner=False, max_entries=6)
def load_cached_run(path: str, stamp: float) -> runs.Run:
    return runs.load_run(path)


def open_run(path: str | Path) -> runs.Run:
    """A run this session may open, loaded once and kept until its files change."""
    check_run_allowed(path)
    return load_cached_run(str(path), run_stamp(path))


@st.cache_data(show_spinner=False, max_entries=64)
def next_char_distribution(path: str, stamp: float, context: str) -> dict[str, float]:
    """P(next character | context) at temperature 1; other temperatures are derived from it."""
    return load_cached_run(path, stamp).generator().next_char_probabilities(context[-5000:], 1.0)


def allowed_run_info(path: str | None) -> runs.RunInfo | None:
    """charlab.saving.runs.run_info for a run this session may see; None for no path, no run there, or another's."""
    if not path or not (Path(path) / "config.json").exists() or not run_allowed(path):
        return None
    return runs.run_info(Path(path))


@st.cache_data(show_spinner=False, max_entries=32)
def _cleaned_hash(sha: str, mode: str, _text: str) -> str:
    return corpus.text_hash(corpus.clean(_text, mode))


def run_training_text(run: runs.Run) -> str | None:
    """The text the run was trained on, when it is the current corpus (under the run's cleaning), else None."""
    loaded = state.CORPUS.get()
    wanted = run.info.corpus_sha256
    mode = run.info.cleaning
    if loaded is None or not wanted or mode not in corpus.CLEANING_MODES:
        return None
    if _cleaned_hash(loaded.sha256, mode, loaded.text) != wanted:
        return None
    return cleaned_text(loaded, mode)


def is_reber_run(run: runs.Run) -> bool:
    """True when the run was trained on the Reber grammar sample (under any cleaning)."""
    wanted = run.info.corpus_sha256
    mode = run.info.cleaning
    if not wanted or mode not in corpus.CLEANING_MODES:
        return False
    text = load_sample("reber")
    return _cleaned_hash(corpus.text_hash(text), mode, text) == wanted


def is_reber_text(text: str, cleaning: str) -> bool:
    """True when a training's text is the Reber grammar sample (as cleaned): a length check first,
    so the live view, redrawn every second, hashes nothing for other texts."""
    if cleaning not in corpus.CLEANING_MODES:
        return False
    reber = _reber_text(cleaning)
    return len(text) == len(reber) and text == reber


def saved_run_is_reber(path: str | Path | None) -> bool:
    """For a finished job, which has let go of its text: ask the run it saved."""
    try:
        return path is not None and is_reber_run(open_run(path))
    except CharlabError:
        return False


@st.cache_data(show_spinner=False, max_entries=8)
def _reber_text(cleaning: str) -> str:
    text = load_sample("reber")
    return cleaned_text(corpus.Corpus("reber", text, source="sample:reber"), cleaning)


@st.cache_data(show_spinner=False, max_entries=16)
def _baselines(
    sha: str, vocab_chars: str, validation_fraction: float, seq_length: int, _text: str, _vocab: Vocab
) -> BaselineReport | None:
    try:
        return compute_baselines(_text, _vocab, validation_fraction, seq_length)
    except CharlabError:
        return None


def baseline_report(text: str, vocab: Vocab, config: ModelConfig, sha: str) -> BaselineReport | None:
    """The counting baselines for a cleaned training text and a run's settings (cached; None when impossible).

    Keyed by the cleaned text's hash (which covers the corpus and its cleaning), the vocabulary,
    the validation share and the sequence length: the split and the scored characters depend on them.
    """
    if not text or not sha:
        return None
    return _baselines(sha, "".join(vocab.chars), float(config.validation_fraction), int(config.seq_length), text, vocab)


@st.cache_resource(show_spinner=False, max_entries=4)
def _text_index(sha: str, cleaning: str, _text: str) -> TrainingTextIndex:
    return TrainingTextIndex(_text)


def training_index(run: runs.Run) -> TrainingTextIndex | None:
    """The copy detector's index of the run's training text, or None when that text is not loaded."""
    text = run_training_text(run)
    if not text:
        return None
    return _text_index(state.CORPUS.get().sha256, run.info.cleaning, text)


def all_runs() -> list[runs.RunInfo]:
    """This session's runs; in teacher mode, everyone's."""
    if is_teacher():
        return [info for _, info in owners.list_all_runs(runs.workspace())]
    return runs.list_runs(session_workspace())


def usable_runs() -> list[runs.RunInfo]:
    return [info for info in all_runs() if info.damaged is None and info.config is not None]


def run_label(info: runs.RunInfo, owner: str = "") -> str:
    label = f"{info.name} · {fmt_date(info.created)}"
    return f"{label} · {owner}" if owner else label


def run_labels(infos: Iterable[runs.RunInfo]) -> dict[str, str]:
    """Each run's label by path; in teacher mode with its owner (format_func looks them up, never st.session_state)."""
    teacher = is_teacher()
    return {str(info.path): run_label(info, run_owner(info.path) if teacher else "") for info in infos}


def config_words(config: ModelConfig | None) -> str:
    if config is None:
        return ""
    layers = f"{config.layers}×" if config.layers > 1 else ""
    return f"{layers}{CELL_TYPES[config.cell].label} {config.units}, seq {config.seq_length}, batch {config.batch_size}"


def runs_table(infos: list[runs.RunInfo], owners: bool = False) -> pd.DataFrame:
    """The My runs table; `owners` (teacher mode) adds whose workspace each run is in."""
    columns = ["Name", "Corpus", "Settings", "Best validation loss", "Epochs", "Date", "Status"]
    return pd.DataFrame(
        [
            {
                "Owner": run_owner(info.path) or "—",
                "Name": info.name,
                "Corpus": info.corpus_name,
                "Settings": config_words(info.config),
                "Best validation loss": info.best_val_loss,
                "Epochs": info.metrics.get("epochs_done"),
                "Date": fmt_date(info.created),
                "Status": STATUS_WORDS.get(info.status, info.status) + (" (no model)" if info.damaged else ""),
            }
            for info in infos
        ],
        columns=["Owner", *columns] if owners else columns,
    )


def pick_current_run(picker: state.Value, no_runs_words: str) -> runs.RunInfo:
    """The run picker of Generate and Look inside (`picker` its widget's value): it shows the current run (the
    newest when there is none, or it was deleted) and choosing one makes it current everywhere. Without any run
    the page says so and stops."""
    infos = {str(info.path): info for info in usable_runs()}
    if not infos:
        st.info(no_runs_words, icon=":material/info:")
        st.page_link(PAGES["train"], label="Go to Train", icon=":material/model_training:")
        st.stop()
    if state.RUN_PATH.get() not in infos:
        state.RUN_PATH.set(next(iter(infos)))
        st.rerun()  # the sidebar, drawn before this page, names the current run

    @callback
    def pick() -> None:
        if picker.get() is not None:
            state.RUN_PATH.set(picker.get())

    picker.set(state.RUN_PATH.get())
    labels = run_labels(infos.values())
    st.selectbox("Run", list(infos), key=picker.key, format_func=labels.get, on_change=pick)
    return infos[state.RUN_PATH.get()]


def web_page_download(container, info: runs.RunInfo, key: str, width: str = "stretch") -> None:
    """Download as a web page: the run as one .html file that writes by itself, offline (charlab.saving.webpage).

    A run that cannot be a page (too big, or no model saved yet) gets the button greyed out, with the reason
    in its tooltip.
    """
    problem = webpage.export_problem(info)
    path = str(info.path)
    container.download_button(
        "Download as a web page",
        data=lambda: webpage.export_html(path),  # built on the click, not on every rerun
        key=key,
        file_name=webpage.suggested_file_name(info),
        mime="text/html",
        icon=":material/language:",
        width=width,
        disabled=problem is not None,
        help=md(problem)
        if problem
        else "One .html file that writes like this run, by itself and offline: open it by double-click, "
        "send it, or put it on a website. No Python needed.",
    )
