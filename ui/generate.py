"""The Generate page's sections: the run that writes, the generation settings, the next-character odds, the text
written and the comparison of temperatures. Each draws one group and returns what it read."""

from __future__ import annotations

import random

import streamlit as st

from charlab.errors import CharlabError
from charlab.learning.diagnosis import kept_epoch
from charlab.network.generation import GenerateConfig
from charlab.network.sampling import reshape
from charlab.saving import runs
from charlab.saving.runs import best_loss_words
from charlab.teaching.copying import TrainingTextIndex, copy_report
from ui import state
from ui.charts import probability_chart
from ui.display import chart
from ui.formatting import kept_words
from ui.grammar import grammar_view
from ui.limits import fit_to_limit, server_limits
from ui.page_guard import callback
from ui.saved_runs import (
    config_words,
    is_reber_run,
    next_char_distribution,
    open_run,
    run_stamp,
    web_page_download,
)
from ui.settings import COMPARE_TEMPERATURES, STATUS_WORDS, TEMPERATURE_HELP
from ui.text import copy_check_missing, copy_summary, copy_view, md, skipped_caption, stream, text_box, visible_text
from ui.widget_state import generate_widget, store_value, widget_value

COMPARE_MOST = 1500  # characters per temperature compared: three boxes side by side stay quick to write and read
TEXT_ANCHOR, COMPARE_ANCHOR = "the-text", "compare-temperatures"  # the headings a new result scrolls to


def writing_run(info: runs.RunInfo) -> runs.Run:
    """The run chosen, opened to write: its caption, and which epoch's network writes. The page stops, in words,
    when the run has nothing to write with yet (before a training's first checkpoint)."""
    st.caption(
        f"Trained on {md(info.corpus_name)} · {config_words(info.config)} · "
        f"{best_loss_words(info.best_loss, info.best_loss_on)} · {STATUS_WORDS.get(info.status, info.status)}"
    )
    try:
        run = open_run(info.path)
    except CharlabError as err:
        if info.status == "training":  # before its first checkpoint
            st.info(
                f"«{md(info.name)}» is still training: it can write here once its first checkpoint is saved, at "
                "the end of its first epoch (then at most every 20 seconds). Come back in a moment.",
                icon=":material/hourglass_top:",
            )
        else:
            st.info(md(str(err)), icon=":material/hourglass_top:")
        st.stop()
    history = run.history()
    kept = kept_epoch(history)
    if kept is not None:  # a training keeps its best epoch, not its last: say which one writes here
        st.caption(f"Writes with {kept_words(kept, history[-1]['epoch'])}.")
    return run


def generation_controls(run: runs.Run, info: runs.RunInfo) -> tuple[bool, bool]:
    """The seed text, temperature, length, top-k and random seed (kept in GENERATE); returns whether Generate and
    Compare temperatures were clicked."""
    seed = generate_widget("seed_text", height=90)
    skipped_caption(run.vocab.encode_seed(seed).dropped)
    generate_widget("temperature", help=None)
    st.caption(TEMPERATURE_HELP)  # under the slider, not a tooltip: it is the lesson of this page
    generate_column, compare_column = st.columns([2, 3])  # high on the page: on screen at 1280x720
    generate = generate_column.button(
        "Generate", type="primary", key="generate_go", icon=":material/edit:", width="stretch"
    )
    compare = compare_column.button(
        "Compare temperatures",
        key="generate_compare",
        icon=":material/compare:",
        width="stretch",
        help="The same seed at temperatures 0.2, 0.8 and 1.5, side by side.",
    )
    a, b, c = st.columns(3)
    most = server_limits().generate_chars
    fit_to_limit("generate", "length", most)
    generate_widget("length", a, highest=most)
    generate_widget("top_k", b, highest=len(run.vocab))
    generate_widget("random_seed", c)
    st.button("New random seed", key="generate_dice", icon=":material/casino:", on_click=new_random_seed)
    web_page_download(st, info, "generate_web_page", width="content")
    return generate, compare


@callback
def new_random_seed() -> None:
    value = random.randrange(0, 1_000_000)
    store_value("generate", "random_seed", value)
    widget_value("generate", "random_seed").set(value)  # the box shows it at once


def checked_settings() -> GenerateConfig:
    """The generation settings, checked; the page stops, in words, on one out of range (the widgets keep within
    range; a remembered value might not)."""
    try:
        return state.GENERATE.get().checked()
    except CharlabError as err:
        st.error(md(str(err)), icon=":material/error:")
        st.stop()


def last_text(run_path: str) -> dict | None:
    """What Generate wrote last, if it was this run that wrote it."""
    output = state.GENERATED.get()
    return output if output and output["run"] == run_path else None


def next_character_view(run_path: str, chosen: GenerateConfig, output: dict | None) -> None:
    """The odds of the next character after the text last written (`output`), else after the seed text, at the
    chosen temperature and at 1."""
    context = output["seed"] + output["text"] if output else chosen.seed_text
    at_one = next_char_distribution(run_path, run_stamp(run_path), context)
    now = reshape(at_one, chosen.temperature, chosen.top_k or None)
    st.markdown("**Next-character probabilities**")
    shown = md(visible_text(context[-40:])) if context else "(the start of a line)"
    st.caption(
        f"What the model would write after “…{shown}”. Bars: at temperature {chosen.temperature:g}; "
        "orange ticks: at temperature 1. Move the temperature slider to reshape them."
    )
    chart(probability_chart(now, at_one, chosen.temperature))


def write_text(run: runs.Run, run_path: str, chosen: GenerateConfig) -> None:
    """Write as asked, streaming onto the page, keep it (GENERATED), and rerun to redraw the odds after it."""
    options = chosen.sampling_options()
    seed = run.vocab.encode_seed(chosen.seed_text).text
    chars = run.generator().generate(seed, chosen.length, **options)
    text = stream(st.empty(), seed, chars, chosen.length)
    state.GENERATED.set({"run": run_path, "seed": seed, "text": text, **options})
    state.SCROLL_TO.set(TEXT_ANCHOR)  # after the rerun, which draws it
    st.rerun()


def text_view(run: runs.Run, info: runs.RunInfo, output: dict, index: TrainingTextIndex | None) -> None:
    """The text written, its download, whether it copies the training text, and the Grammar lab for a Reber run."""
    st.subheader("The text", anchor=TEXT_ANCHOR)
    st.html(text_box(output["seed"], output["text"], height=None))
    st.download_button(
        "Download the text",
        data=output["seed"] + output["text"],
        key="generate_download",
        file_name=f"{runs.slugify(info.name)}-t{output['temperature']:g}.txt",
        mime="text/plain",
        icon=":material/download:",
    )
    st.subheader("Is it copying?")
    st.caption("Does the network write its own text, or recite passages of the text it learned from?")
    if index is None:
        copy_check_missing(info)
    else:
        copy_view(copy_report(output["text"], index), output["text"])
    if is_reber_run(run):
        st.subheader("Grammar lab")
        st.caption(
            "This run learned the embedded Reber grammar, whose rules can be checked exactly: "
            "a high share of grammatical strings proves it learned the rules, not just the letters."
        )
        grammar_view(run, output["seed"] + output["text"])


def compare_temperatures(run: runs.Run, run_path: str, chosen: GenerateConfig) -> None:
    """The same seed written at each of COMPARE_TEMPERATURES (kept in COMPARISON, shown until another run)."""
    options = chosen.sampling_options()
    seed = run.vocab.encode_seed(chosen.seed_text).text
    length = min(chosen.length, COMPARE_MOST)
    writer = run.generator()
    texts = [(t, writer.write(seed, length, **dict(options, temperature=t))) for t in COMPARE_TEMPERATURES]
    state.COMPARISON.set({"run": run_path, "seed": seed, "texts": texts})


def comparison_view(run_path: str, index: TrainingTextIndex | None) -> None:
    """The texts of Compare temperatures side by side, each with how much of it is copied."""
    comparison = state.COMPARISON.get()
    if not comparison or comparison["run"] != run_path:
        return
    st.subheader("Compare temperatures", anchor=COMPARE_ANCHOR)
    st.caption("Same seed text and random seed; only the temperature differs.")
    for column, (temperature, text) in zip(st.columns(len(comparison["texts"])), comparison["texts"], strict=True):
        column.markdown(f"**Temperature {temperature:g}**")
        column.html(text_box(comparison["seed"], text, height=360))
        if index is not None:
            column.caption(copy_summary(copy_report(text, index)))


def asked_anchor() -> str | None:
    """The result asked for before the last rerun (the text written), forgotten once brought on screen."""
    anchor = state.SCROLL_TO.get()
    state.SCROLL_TO.forget()
    return anchor
