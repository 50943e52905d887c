"""Home's sections: the flow corpus -> train -> generate, and Quick start's words and buttons."""

from __future__ import annotations

import streamlit as st

from charlab.errors import CharlabError
from ui import state
from ui.corpus_cache import cleaned_text
from ui.jobs import own_text_chosen, quick_start
from ui.lesson_links import lesson_fixes_something, training_time_words
from ui.settings import PAGES
from ui.start_from import own_text_words
from ui.text import md

STEPS = [
    ("corpus", ":material/description:", "1 · Corpus", "Pick a text to learn from, or upload your own."),
    ("train", ":material/model_training:", "2 · Train", "Watch the loss fall as the network learns."),
    ("generate", ":material/edit_note:", "3 · Generate", "Let the model write, with a temperature dial."),
]


def flow_steps() -> None:
    """The three steps side by side, each with a link to its page, arrows between them."""
    columns = st.columns([4, 1, 4, 1, 4], vertical_alignment="center")
    for i, (page, icon, title, words) in enumerate(STEPS):
        with columns[2 * i].container(border=True):
            st.markdown(f"### {title}")
            st.caption(words)
            st.page_link(PAGES[page], label=f"Open {title.split(' · ')[1]}", icon=icon)
        if i < len(STEPS) - 1:
            columns[2 * i + 1].markdown(
                "<div style='text-align:center;font-size:2.5rem;color:#4F46E5'>➜</div>", unsafe_allow_html=True
            )


def quick_start_buttons(running: bool) -> tuple[bool, bool]:
    """What Quick start trains (a lesson's text and settings, or Tiny Shakespeare for a minute), and its buttons:
    returns whether Quick start, or Quick start with my text (offered for an uploaded text), was clicked."""
    loaded = state.CORPUS.get()
    if lesson_fixes_something() and loaded is not None:
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
            f"Or train on **your own text**, «{md(loaded.name)}», with the same one-minute "
            f"settings fitted to its size. {own_text_words(cleaned_text())}".rstrip()
        )
    buttons = st.columns(2) if own else [st.container()]
    quick = buttons[0].button(
        "Quick start", type="primary", icon=":material/bolt:", key=state.QUICK_START_BUTTON.key, disabled=running
    )
    own_quick = own and buttons[1].button(
        "Quick start with my text", icon=":material/bolt:", key=state.QUICK_START_OWN_BUTTON.key, disabled=running
    )
    return quick, bool(own_quick)


def start_quickly(own_text: bool) -> None:
    """Quick start, then the Train page to watch it; a refusal said in plain words, nothing lost."""
    try:
        quick_start(own_text=own_text)
    except CharlabError as err:
        st.error(md(str(err)), icon=":material/error:")
    else:
        st.switch_page(PAGES["train"])
