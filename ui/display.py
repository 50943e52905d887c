"""How pages look for every student: projector mode (large text, controls and charts for the back of a
classroom) and a focus ring that shows where the keyboard is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import streamlit as st

PROJECTOR_HELP = (
    "Large text, controls and charts, readable from the back of a classroom on a projector. "
    "A lesson link turns it on with pm=1."
)
# 1.3 times Streamlit's 16 px: at 1280x720 the Train page's progress and loss chart stay above the fold
# (tests/test_browser_a11y.py checks it), while a caption reads from the back of a room
PROJECTOR_FONT_PX = 21
CHART_SCALE = 1.5  # charts' labels, titles and lines in projector mode: 13 px axis labels become 20 px

# Every focused control gets a ring in the theme's primary colour (3:1 or more on both themes): keyboard users
# see where they are on every control, not only where Streamlit draws its own.
FOCUS_CSS = """
:focus-visible { outline: 3px solid #5F63EA !important; outline-offset: 2px !important; }
"""
PROJECTOR_CSS = f"""
html {{ font-size: {PROJECTOR_FONT_PX}px; }}
[data-testid="stMainBlockContainer"] {{ padding-top: 2.5rem; padding-left: 2rem; padding-right: 2rem; }}
[data-testid="stSidebar"] {{ min-width: 300px; }}
.charlab-text, .charlab-inside {{ font-size: 1.15rem !important; }}
"""


def projector_on() -> bool:
    return bool(st.session_state.get("projector", False))


def projector_toggle() -> None:
    """The sidebar's switch; its key is the session's own `projector`, remembered for a reload (ui.session)."""
    st.toggle("Projector mode", key="projector", help=PROJECTOR_HELP)


def page_style() -> None:
    """The page's own CSS for this script run: the focus ring always, projector sizes when it is on."""
    css = FOCUS_CSS + (PROJECTOR_CSS if projector_on() else "")
    st.html(f"<style>{css}</style>")


# the sizes a chart spec may state for itself, which a Vega-Lite config cannot override
_SIZES = {"labelFontSize", "titleFontSize", "fontSize", "strokeWidth", "symbolStrokeWidth", "thickness"}
_AREAS = {"size", "symbolSize"}  # a point's area grows with the square of its width
_PROJECTOR_CONFIG = {  # the sizes a chart leaves to Vega-Lite's defaults
    "axis": {"labelFontSize": 11, "titleFontSize": 11},
    "legend": {"labelFontSize": 11, "titleFontSize": 11},
    "title": {"fontSize": 13},
    "text": {"fontSize": 11},
    "line": {"strokeWidth": 2},
    "rule": {"strokeWidth": 1},
}


def enlarged(spec: Mapping[str, Any], factor: float = CHART_SCALE) -> dict[str, Any]:
    """A Vega-Lite spec with every stated font size, line width and point size times `factor`, and
    the defaults it leaves to Vega-Lite enlarged in its config. The data are shared, never copied."""

    def grow(node: Any, key: str = "") -> Any:
        if isinstance(node, Mapping):
            if key == "datasets":
                return node
            return {k: grow(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [grow(v) for v in node]
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            if key in _SIZES:
                return node * factor
            if key in _AREAS:
                return node * factor * factor
        return node

    grown = grow(spec)
    config = grow(_PROJECTOR_CONFIG)
    for part, sizes in (spec.get("config") or {}).items():  # the chart's own config wins over the defaults
        config[part] = {**config.get(part, {}), **grow(sizes)} if isinstance(sizes, Mapping) else sizes
    grown["config"] = config
    return grown


def chart(drawn: alt.TopLevelMixin | Mapping[str, Any]) -> None:
    """Draw an Altair chart or a Vega-Lite spec across the page's width; in projector mode, enlarged."""
    if not projector_on():
        if isinstance(drawn, Mapping):
            st.vega_lite_chart(spec=drawn, width="stretch")
        else:
            st.altair_chart(drawn, width="stretch")
        return
    spec = drawn if isinstance(drawn, Mapping) else drawn.to_dict()
    st.vega_lite_chart(spec=enlarged(spec), width="stretch")
