"""How pages look for every student: projector mode (large text, controls and charts for the back of a
classroom) and a focus ring that shows where the keyboard is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import streamlit as st

from ui import state
from ui.charts import LABEL_GAP
from ui.page_guard import callback

PROJECTOR_HELP = (
    "Large text, controls and charts, readable from the back of a classroom on a projector. "
    "A lesson link turns it on with pm=1."
)
# the whole app drawn 1.3 times as large, as a browser's own zoom would (Streamlit sizes its text in pixels, so a
# larger root font changes nothing): at 1280x720 the Train page's progress and loss chart stay above the fold
# (tests/test_browser_a11y.py checks it), while a caption reads from the back of a room
PROJECTOR_ZOOM = 1.3
CHART_SCALE = 1.5  # charts' labels, titles and lines: 13 px axis labels become 19.5 px (charts are not zoomed)

# Every focused control gets a ring in the theme's primary colour (3:1 or more on both themes): keyboard users
# see where they are on every control, not only where Streamlit draws its own. Streamlit sets its app's CSS
# color-scheme to the theme in use, so light-dark() picks each theme's colour, whichever the student chose.
# Its primary buttons' text is white, 3:1 on the dark theme's light indigo: dark text there instead.
FOCUS_CSS = """
:focus-visible { outline: 3px solid light-dark(#4F46E5, #818CF8) !important; outline-offset: 2px !important; }
[data-testid="stBaseButton-primary"], [data-testid="stBaseButton-primary"] * { color: light-dark(#FFFFFF, #0B0F19); }
"""
# a zoomed chart measured its width unzoomed and overflowed its column: charts keep zoom 1 and grow by CHART_SCALE
PROJECTOR_CSS = f"""
[data-testid="stAppViewContainer"] {{ zoom: {PROJECTOR_ZOOM}; }}
[data-testid="stVegaLiteChart"] {{ zoom: {1 / PROJECTOR_ZOOM:.4f}; }}
"""


def projector_on() -> bool:
    return bool(state.PROJECTOR.get(False))


def projector_toggle() -> None:
    """The sidebar's switch. The session's plain `projector` key holds the choice (remembered for a reload, see
    ui.session; set by a lesson link's pm=1): a widget's own value is dropped at each page switch, as a widget
    drawn by app.py is a new widget on every page."""
    state.PROJECTOR_SWITCH.set(projector_on())
    st.toggle("Projector mode", key=state.PROJECTOR_SWITCH.key, help=PROJECTOR_HELP, on_change=_keep_projector)


@callback
def _keep_projector() -> None:
    state.PROJECTOR.set(bool(state.PROJECTOR_SWITCH.get()))


def label_gap() -> float:
    """The pixels between two reference labels' centres on the loss chart: more for projector mode's larger ones."""
    return LABEL_GAP * CHART_SCALE if projector_on() else LABEL_GAP


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
