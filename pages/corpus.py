"""Corpus: choose the text the model learns from, clean it, and look at its characters."""

import streamlit as st

from ui.corpus import chosen_text, cleaning_choice, preview, text_chooser, text_metrics, text_warnings, vocabulary_view
from ui.session import through_entry_script
from ui.settings import PAGES

through_entry_script("corpus")

st.title("Corpus")
st.caption("The text the model learns to imitate. Pick a sample or upload a plain-text file.")
text_chooser()
loaded = chosen_text()
cleaning = cleaning_choice()
raw, cleaned = text_metrics(loaded, cleaning)  # the metrics show what is left
text_warnings(raw, cleaned, cleaning)
vocabulary_view(loaded, raw, cleaned, cleaning)
preview(loaded, cleaning)
st.page_link(PAGES["train"], label="Next: train a model on this text", icon=":material/arrow_forward:")
