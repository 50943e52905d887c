"""charlab's playground: `streamlit run app.py`.

The entry script runs on every click: it sets up the session (and re-attaches to a training
that is still running after a browser reload), draws the sidebar shared by every page, then
runs the page the user is on.
"""

from pathlib import Path

import streamlit as st

from ui.display import page_style
from ui.job_registry import show_cluster_problem
from ui.limits import check_server_limits
from ui.owners import is_teacher
from ui.page_guard import guard
from ui.privacy import expire_old_runs
from ui.session import init_session, open_requested_page, remember
from ui.settings import PAGES
from ui.sidebar import sidebar

# the tab's icon from the app itself: a ":material/…:" icon made every page load fetch it from
# fonts.gstatic.com, missing on a school network with no internet and telling Google who uses the app
ICON = Path(__file__).parent / "ui" / "assets" / "icon.png"
st.set_page_config(page_title="charlab", page_icon=str(ICON), layout="wide")

check_server_limits()  # a mistyped limit (e.g. CHARLAB_MAX_EPOCHS=ten) is said once, in words
show_cluster_problem()  # a Ray cluster configured (CHARLAB_RAY_ADDRESS) but unreachable
expire_old_runs()  # CHARLAB_KEEP_DAYS: the server removes old runs itself, at most hourly

with guard("the session set-up"):
    init_session()

page = st.navigation(
    [
        st.Page(PAGES["home"], title="Home", icon=":material/home:", default=True),
        st.Page(PAGES["corpus"], title="Corpus", icon=":material/description:"),
        st.Page(PAGES["train"], title="Train", icon=":material/model_training:"),
        st.Page(PAGES["generate"], title="Generate", icon=":material/edit_note:"),
        st.Page(PAGES["inside"], title="Look inside", icon=":material/biotech:"),
        st.Page(PAGES["privacy"], title="Privacy", icon=":material/shield:"),
        # the class board names every student: only a teacher's navigation has it
        *([st.Page(PAGES["board"], title="Class board", icon=":material/groups:")] if is_teacher() else []),
    ]
)

open_requested_page()  # after a deep link on a fresh server (see ui.session.through_entry_script)

with guard("the sidebar"):
    sidebar()
page_style()  # the focus ring, and projector mode's sizes when it is on

try:
    with guard(page.title):
        page.run()
finally:
    remember()  # also when the page reruns or stops, so a reload finds this session's choices
