"""Look inside: what single units of a trained network track, how surprised it is, where letters sit."""

import streamlit as st

from charlab.errors import CharlabError
from charlab.network.cells import cell_type
from charlab.teaching.neurons import unit_ranking
from ui.corpus_cache import cleaned_text
from ui.display import chart
from ui.inside import (
    INSIDE_MAX_CHARS,
    STATE_HELP,
    STATE_WORDS,
    activation_html,
    embedding_chart,
    embedding_table,
    guesses_table,
    ranking_table,
    run_trace,
    surprise_html,
    surprise_table,
)
from ui.page_guard import callback
from ui.saved_runs import open_run, pick_current_run, run_training_text
from ui.session import through_entry_script
from ui.text import md, visible_text
from ui.widget_state import seed_key

through_entry_script("inside")

ss = st.session_state
st.title("Look inside")
st.caption(
    "A trained network is thousands of numbers, but some single units learn one clear job, such as "
    "“am I inside quotes?”. Here you can find them and watch them switch on and off as the network reads."
)
pick_current_run("inside_run", "No trained run yet. Train one first, then come back to look inside it.")
try:
    run = open_run(ss.run_path)
except CharlabError as err:
    st.info(md(str(err)), icon=":material/hourglass_top:")
    st.stop()

# ---- the text to read
st.subheader("1 · A text for the network to read")
source_text = run_training_text(run) or cleaned_text()
sources = {"corpus": "A piece of the corpus", "typed": "Type a text"}
seed_key("inside_source", "corpus" if source_text else "typed")
source = st.segmented_control(
    "Text", list(sources), key="inside_source", format_func=sources.get, required=True, label_visibility="collapsed"
)
if source == "corpus" and source_text:
    longest = min(INSIDE_MAX_CHARS, len(source_text))
    length = longest
    if longest > 50:
        seed_key("inside_length", min(600, longest))
        length = st.slider("Characters", min_value=50, max_value=longest, key="inside_length")
    start, last_start = 0, len(source_text) - length
    if last_start > 0:
        seed_key("inside_start", 0)
        ss.inside_start = min(ss.inside_start, last_start)  # a longer piece leaves less room to move
        start = st.slider(
            "Start at character",
            min_value=0,
            max_value=last_start,
            key="inside_start",
            help="Where in the corpus the piece starts.",
        )
    chosen = source_text[start : start + length]
else:
    if source == "corpus":
        st.caption("No corpus is chosen (pick one on the Corpus page), so type a text instead.")
    seed_key("inside_text", 'He said "hello (and goodbye)" to the cat.\nThe dog sat on the mat.\n')
    chosen = st.text_area("Your text", key="inside_text", max_chars=INSIDE_MAX_CHARS, height=110)
encoded = run.vocab.encode_seed(chosen)
if encoded.dropped:
    skipped = md(visible_text("".join(encoded.dropped)))
    st.caption(f":material/warning: Not in this model's vocabulary, so skipped: {skipped}")
if not encoded.text:
    st.info("Type or pick a text to look at.", icon=":material/info:")
    st.stop()
with st.spinner("The network is reading…"):
    result = run_trace(ss.run_path, encoded.text)

# ---- units ranked by what they track
st.subheader("2 · Units that track something")
st.caption(
    "Each built-in idea (inside quotes, position in the line…) is compared with every unit's activation; "
    "a correlation near +1 or −1 means the unit follows that idea closely on this text. A negative one means "
    "it works the other way round: its activation drops (red below) where the idea holds, e.g. a unit that "
    "turns off inside quotes."
)
ranking = unit_ranking(result)
config = run.config
if ranking:
    st.dataframe(
        ranking_table(ranking)[["What it tracks", "Unit", "Correlation"]],
        hide_index=True,
        width="stretch",
        column_config={"Correlation": st.column_config.NumberColumn(format="%+.2f")},
    )

    @callback
    def show_ranked() -> None:
        if ss.get("inside_pick") is None or ss.inside_pick >= len(ranking):  # cleared, or another text meanwhile
            return
        m = ranking[ss.inside_pick]
        ss.inside_layer, ss.inside_state, ss.inside_unit = m.layer + 1, m.state, m.unit

    if ss.get("inside_pick") is not None and ss.inside_pick >= len(ranking):  # another text or run
        ss.inside_pick = None
    st.selectbox(
        "Show a unit from the ranking",
        list(range(len(ranking))),
        key="inside_pick",
        format_func=lambda i: ranking[i].describe(),
        on_change=show_ranked,
        index=None,
        placeholder="Choose a unit…",
    )
else:
    st.caption("This text gives the ideas nothing to test (no quotes, brackets or new lines). Try a longer text.")
best = ranking[0] if ranking else None
seed_key("inside_layer", best.layer + 1 if best else 1)
seed_key("inside_state", best.state if best else "hidden")
seed_key("inside_unit", best.unit if best else 0)
states = list(cell_type(config.cell).state_names)
if ss.inside_state not in states or ss.inside_layer > config.layers or ss.inside_unit >= config.units:  # another run
    ss.inside_layer, ss.inside_state, ss.inside_unit = 1, "hidden", 0
a, b, c = st.columns([1, 2, 1])
layer = a.selectbox("Layer", list(range(1, config.layers + 1)), key="inside_layer")
state = b.segmented_control(
    "State", states, key="inside_state", format_func=STATE_WORDS.get, required=True, help=STATE_HELP
)
unit = c.number_input("Unit", min_value=0, max_value=config.units - 1, step=1, key="inside_unit")

# ---- the text coloured by the unit
st.markdown(f"**The text coloured by unit {unit} of layer {layer}** ({state} state)")
st.caption(
    "Blue: the unit is on (positive), underlined when strongly; red: negative, dotted underline when strongly; "
    "white: near zero. Hover a character for its numbers."
)
st.html(activation_html(result, layer - 1, state, int(unit)))

# ---- surprise and guesses
st.subheader("3 · How surprised the network is")
st.caption(
    "Orange characters surprised the model (it gave them a low chance), underlined when strongly; white ones it "
    "saw coming. Hover a character for the model's top 5 guesses of what comes next."
)
st.html(surprise_html(result))
with st.expander("The most surprising characters, in numbers"):
    st.dataframe(
        surprise_table(result),
        hide_index=True,
        column_config={"Surprise (nats)": st.column_config.NumberColumn(format="%.2f")},
    )
position = st.slider("Character", min_value=0, max_value=len(result.text) - 1, value=0, key="inside_position")
ch = result.text[position]
st.caption(
    f"After “{md(visible_text(result.text[max(0, position - 30) : position + 1]))}” "
    f"(surprise at {md(visible_text(ch))}: {result.surprise[position]:.2f} nats), "
    "its top 5 guesses for the next character:"
)
st.dataframe(
    guesses_table(result, position),
    hide_index=True,
    column_config={"Probability": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)},
)

# ---- the embedding map
st.subheader("4 · Where the network puts each character")
table, explained = embedding_table(run, source_text or result.text)
alike = (
    "vowels with vowels, digits with digits" if {"vowel", "consonant"} & set(table["Kind"]) else "digits with digits"
)
st.caption(
    "Each character's learned list of numbers, squeezed onto a flat map (PCA: the two directions that spread "
    f"them most, showing {explained[0] + explained[1]:.0%} of the differences). Characters the network uses "
    f"alike end up close together: {alike}."
)
if not table["Written"].all():
    st.caption(
        f"Only {table['Written'].sum()} characters are written on the map: the ones the text uses most, where "
        f"they have room. The other {(~table['Written']).sum():,} are dots (hover one to see it)."
    )
chart(embedding_chart(table))
