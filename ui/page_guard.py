"""The pages' last line of defence: an unexpected error shown in plain words instead of a traceback."""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from typing import ParamSpec

import streamlit as st

from charlab import environment
from charlab.errors import CharlabError
from ui.text import md

log = logging.getLogger("charlab.app")
P = ParamSpec("P")


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
        st.error(unexpected_words(err), icon=":material/error:")


def unexpected_words(err: Exception) -> str:
    return (
        f"Something unexpected went wrong ({type(err).__name__}: {str(err)[:200]}). "
        "Your text and your runs are safe. Try again; if it keeps happening, reload the page."
    )


def callback(fn: Callable[P, None]) -> Callable[P, None]:
    """A widget's on_change / on_click, guarded as a page is.

    Streamlit runs callbacks before the script, outside every `guard`: an error there reached the user as
    Streamlit's raw error page (seen after a Load removed the widget whose change was being handled). A
    CharlabError is said in its own words, anything else as guard() says it; the page is then drawn as usual.
    """

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        with guard(f"the callback {fn.__name__}"):
            fn(*args, **kwargs)

    guarded.charlab_guarded = True  # tests/test_app_reload.py checks every callback on every page has it
    return guarded
