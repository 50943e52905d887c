"""Privacy: what this server keeps, for whom and how long, in words a parent understands; deleting it."""

import streamlit as st

import ui

ui.through_entry_script("privacy")

st.title("What this server keeps")
ui.what_this_server_keeps()
st.divider()
ui.privacy_delete_box()
