"""Generate: let a trained run write, and see how temperature reshapes its next-character odds."""

import streamlit as st

from charlab.errors import CharlabError
from charlab.learning.diagnosis import kept_epoch
from charlab.network.sampling import reshape
from charlab.saving import runs
from charlab.saving.runs import best_loss_words
from charlab.teaching.copying import copy_report
from ui.charts import probability_chart
from ui.display import chart
from ui.formatting import kept_words
from ui.grammar import grammar_view
from ui.inside import new_random_seed
from ui.limits import fit_to_limit, server_limits
from ui.saved_runs import (
    config_words,
    is_reber_run,
    next_char_distribution,
    open_run,
    pick_current_run,
    run_stamp,
    training_index,
    web_page_download,
)
from ui.session import through_entry_script
from ui.settings import COMPARE_TEMPERATURES, STATUS_WORDS, TEMPERATURE_HELP
from ui.text import copy_check_missing, copy_summary, copy_view, md, scroll_to, stream, text_box, visible_text
from ui.widget_state import generate_widget

through_entry_script("generate")

ss = st.session_state
st.title("Generate")
info = pick_current_run("generate_run", "No trained run yet. Train one first: text appears after a minute.")
st.caption(
    f"Trained on {md(info.corpus_name)} · {config_words(info.config)} · "
    f"{best_loss_words(info.best_loss, info.best_loss_on)} · {STATUS_WORDS.get(info.status, info.status)}"
)
try:
    run = open_run(ss.run_path)
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

settings_column, chart_column = st.columns([1, 1], gap="large")
with settings_column:
    seed = generate_widget("seed_text", height=90)
    dropped = run.vocab.encode_seed(seed).dropped
    if dropped:
        skipped = visible_text("".join(dropped))
        st.caption(f":material/warning: Not in this model's vocabulary, so skipped: {md(skipped)}")
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

try:
    chosen = ss.generate.checked()
except CharlabError as err:  # the widgets keep within range; a remembered value might not
    st.error(md(str(err)), icon=":material/error:")
    st.stop()
top_k = chosen.top_k or None
index = training_index(run)  # the copy detector's view of the training text (None: not loaded)
output = ss.get("generate_output")
if not output or output["run"] != ss.run_path:
    output = None
context = output["seed"] + output["text"] if output else chosen.seed_text
with chart_column:
    stamp = run_stamp(ss.run_path)
    at_one = next_char_distribution(ss.run_path, stamp, context)
    now = reshape(at_one, chosen.temperature, top_k)
    st.markdown("**Next-character probabilities**")
    shown = md(visible_text(context[-40:])) if context else "(the start of a line)"
    st.caption(
        f"What the model would write after “…{shown}”. Bars: at temperature {chosen.temperature:g}; "
        "orange ticks: at temperature 1. Move the temperature slider to reshape them."
    )
    chart(probability_chart(now, at_one, chosen.temperature))

options = chosen.sampling_options()
generator = run.generator()
seed_used = run.vocab.encode_seed(chosen.seed_text).text
if generate:
    placeholder = st.empty()
    text = stream(placeholder, seed_used, generator.generate(seed_used, chosen.length, **options), chosen.length)
    ss.generate_output = {"run": ss.run_path, "seed": seed_used, "text": text, **options}
    ss.generate_scroll = "the-text"
    st.rerun()  # redraw the probabilities after the new text
if output:
    st.subheader("The text", anchor="the-text")
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
if compare:
    length = min(chosen.length, 1500)
    ss.generate_scroll = "compare-temperatures"
    ss.generate_comparison = {  # not the button's key, which Streamlit owns
        "run": ss.run_path,
        "seed": seed_used,
        "texts": [
            (t, generator.write(seed_used, length, **dict(options, temperature=t))) for t in COMPARE_TEMPERATURES
        ],
    }
comparison = ss.get("generate_comparison")
if comparison and comparison["run"] == ss.run_path:
    st.subheader("Compare temperatures", anchor="compare-temperatures")
    st.caption("Same seed text and random seed; only the temperature differs.")
    for column, (temperature, text) in zip(st.columns(len(comparison["texts"])), comparison["texts"], strict=True):
        column.markdown(f"**Temperature {temperature:g}**")
        column.html(text_box(comparison["seed"], text, height=360))
        if index is not None:
            column.caption(copy_summary(copy_report(text, index)))
scroll_to(ss.pop("generate_scroll", None))  # the result just asked for, brought on screen once
