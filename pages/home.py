"""Home: what charlab is, the flow corpus -> train -> generate, and a one-click Quick start."""

import streamlit as st

from charlab.errors import CharlabError
from ui import state
from ui.corpus_cache import cleaned_text
from ui.job_registry import is_running
from ui.jobs import own_text_chosen, quick_start
from ui.lesson_links import lesson_fixes_something, training_time_words
from ui.session import through_entry_script
from ui.settings import PAGES
from ui.start_from import own_text_words
from ui.text import md

through_entry_script("home")

st.title("charlab")
# the tagline as a level-2 heading, styled small: an h4 straight under the h1 broke the headings' order that a
# screen reader's outline follows (the accessibility audit, tests/test_browser_a11y.py)
st.markdown(
    '<h2 style="font-size:1.25rem;padding:0.25rem 0">Teach a small neural network to write like a text, and '
    "watch it learn.</h2>",
    unsafe_allow_html=True,
)
st.markdown(
    "charlab trains a *character-level recurrent network*: a model that reads a text one character at a time "
    "and learns to guess the next one. "
    "You pick a text and press **Train**; the guesses improve as you watch, from random letters to words "
    "and sentences in the style of the text. "
    "Then the model writes new text of its own, as careful or as adventurous as you like."
)

steps = [
    ("corpus", ":material/description:", "1 · Corpus", "Pick a text to learn from, or upload your own."),
    ("train", ":material/model_training:", "2 · Train", "Watch the loss fall as the network learns."),
    ("generate", ":material/edit_note:", "3 · Generate", "Let the model write, with a temperature dial."),
]
columns = st.columns([4, 1, 4, 1, 4], vertical_alignment="center")
for i, (page, icon, title, words) in enumerate(steps):
    with columns[2 * i].container(border=True):
        st.markdown(f"### {title}")
        st.caption(words)
        st.page_link(PAGES[page], label=f"Open {title.split(' · ')[1]}", icon=icon)
    if i < len(steps) - 1:
        columns[2 * i + 1].markdown(
            "<div style='text-align:center;font-size:2.5rem;color:#4F46E5'>➜</div>", unsafe_allow_html=True
        )

st.subheader("Quick start")
running = is_running()
if lesson_fixes_something() and state.CORPUS.get() is not None:
    st.markdown(
        f"One click: train on this lesson's text with its settings for **{training_time_words()}**, and watch "
        "it learn on the Train page."
    )
else:
    st.markdown(
        "One click: **Tiny Shakespeare**, the classic text for this kind of network, a GRU network and "
        "**1 minute of training**, by the clock. Its first attempts at writing appear within seconds and "
        "get better as you watch."
    )
own = own_text_chosen() and not lesson_fixes_something()
if own:
    st.markdown(
        f"Or train on **your own text**, «{md(state.CORPUS.get().name)}», with the same one-minute "
        f"settings fitted to its size. {own_text_words(cleaned_text())}".rstrip()
    )
buttons = st.columns(2) if own else [st.container()]
quick = buttons[0].button(
    "Quick start", type="primary", icon=":material/bolt:", key=state.QUICK_START_BUTTON.key, disabled=running
)
own_quick = own and buttons[1].button(
    "Quick start with my text", icon=":material/bolt:", key=state.QUICK_START_OWN_BUTTON.key, disabled=running
)
if quick or own_quick:
    try:
        quick_start(own_text=bool(own_quick))
    except CharlabError as err:
        st.error(md(str(err)), icon=":material/error:")
    else:
        st.switch_page(PAGES["train"])
if running:
    st.info("A training is running. Watch it on the Train page.", icon=":material/model_training:")
    st.page_link(PAGES["train"], label="Go to Train", icon=":material/arrow_forward:")
