"""What one session may ask of this server (charlab/limits.py): checks and fitting remembered settings."""

from __future__ import annotations

import math

import streamlit as st

from charlab import environment
from charlab.errors import CharlabError
from charlab.limits import Limits
from ui.text import md
from ui.widget_state import store_value, stored, widget_value


def server_limits() -> Limits:
    """What one session may ask of this server (charlab/limits.py), read from the environment each run."""
    return Limits.from_env()


def check_server_limits() -> None:
    """Stop every page with one plain message while an environment variable sets a limit (or the address
    students use, CHARLAB_PUBLIC_URL, or the days runs are kept, CHARLAB_KEEP_DAYS) wrongly."""
    try:
        server_limits()
        environment.public_url()
        environment.keep_days()
    except CharlabError as err:
        st.error(f"charlab cannot start: {md(str(err))} Fix it and start the server again.", icon=":material/error:")
        st.stop()


def upload_box_mb(limit_mb: float) -> int:
    """An upload box's own cap, in whole MB as Streamlit wants it: the browser refuses a bigger file at once."""
    return max(1, math.ceil(limit_mb))


def fit_to_limit(store: str, name: str, highest: int) -> int | None:
    """Lower a remembered setting above this server's limit (from a lesson link, a preset or a loaded run),
    so its widget can be drawn; returns the value it had, for a note, or None when it fitted."""
    value = stored(store, name)
    if not isinstance(value, (int, float)) or value <= highest:
        return None
    store_value(store, name, highest)
    widget_value(store, name).forget()
    return value
