"""Privacy: what this server keeps, for whom and how long, in words a parent understands; deleting it."""

import streamlit as st

from ui.privacy import delete_box, what_this_server_keeps
from ui.session import through_entry_script

through_entry_script("privacy")

st.title("What this server keeps")
what_this_server_keeps()
st.divider()
delete_box()
