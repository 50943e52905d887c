"""The pages' last line of defence: an unexpected error shown in plain words instead of a traceback."""

from __future__ import annotations

import logging
import traceback
from contextlib import contextmanager

import streamlit as st

from charlab import environment
from charlab.errors import CharlabError
from ui.text import md

log = logging.getLogger("charlab.app")


def page_guard_debug() -> bool:
    return environment.debug()


@contextmanager
def guard(what: str = "This page"):
    """Show an unexpected error in plain words (and log the traceback) instead of a raw traceback."""
    try:
        yield
    except CharlabError as err:
        st.error(md(str(err)), icon=":material/error:")
    except Exception as err:  # noqa: BLE001 - the last line of defence before a traceback reaches a user
        if page_guard_debug():
            raise
        log.error("Unexpected error in %s:\n%s", what, traceback.format_exc())
        st.error(
            f"Something unexpected went wrong ({type(err).__name__}: {str(err)[:200]}). "
            "Your text and your runs are safe. Try again; if it keeps happening, reload the page.",
            icon=":material/error:",
        )
