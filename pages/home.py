"""Home: what charlab is, the flow corpus -> train -> generate, and a one-click Quick start."""

import streamlit as st

from ui.home import flow_steps, quick_start_buttons, start_quickly
from ui.job_registry import is_running
from ui.session import through_entry_script
from ui.settings import PAGES

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
flow_steps()

st.subheader("Quick start")
running = is_running()
quick, own_quick = quick_start_buttons(running)
if quick or own_quick:
    start_quickly(own_text=own_quick)
if running:
    st.info("A training is running. Watch it on the Train page.", icon=":material/model_training:")
    st.page_link(PAGES["train"], label="Go to Train", icon=":material/arrow_forward:")
