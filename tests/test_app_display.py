"""Projector mode: the sidebar's toggle and a lesson link's pm=1 turn it on, a reload keeps it, and it enlarges the
page's text and its charts; the focus ring is on every page."""

from __future__ import annotations

import json
import re

import pandas as pd
from app_pages import (
    APP_FIXTURES,
    ROOT,
    charts,
    contains,
    go,
    open_app,
    run,
    start_tiny_training,
    use_sample,
    wait_done,
)
from streamlit.testing.v1 import AppTest

from ui import charts as ui_charts
from ui import display

pytestmark = APP_FIXTURES

PROJECTOR_FONT = f"zoom: {display.PROJECTOR_ZOOM};"


def styles(at: AppTest) -> str:
    return " ".join(str(h.value) for h in at.html if "<style>" in str(h.value))


def reload(at: AppTest) -> AppTest:
    """The same tab reloaded: a new session, the same token in the URL."""
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.query_params["session"] = at.session_state["token"]
    return run(again)


def test_projector_mode_is_the_students_choice_and_a_reload_keeps_it():
    at = open_app()
    assert ":focus-visible" in styles(at)  # the focus ring, always
    assert PROJECTOR_FONT not in styles(at)
    run(at.toggle(key="sidebar_projector").set_value(True))
    assert PROJECTOR_FONT in styles(at)
    again = reload(at)
    assert again.toggle(key="sidebar_projector").value is True
    assert PROJECTOR_FONT in styles(go(again, "train"))
    run(again.toggle(key="sidebar_projector").set_value(False))
    assert PROJECTOR_FONT not in styles(again)


def test_a_lesson_link_turns_projector_mode_on():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update({"s": "limericks", "pm": "1"})
    run(at)
    assert at.toggle(key="sidebar_projector").value is True
    assert PROJECTOR_FONT in styles(at)


def test_a_bad_projector_value_in_a_lesson_link_is_said_in_words_and_changes_nothing():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update({"s": "limericks", "pm": "big"})
    run(at)
    assert contains(at.error, "projector mode (pm) is 'big'")
    assert at.toggle(key="sidebar_projector").value is False


def axis_font_sizes(at: AppTest) -> list[float]:
    found = []
    for spec, _ in charts(at):
        encoding = json.loads(spec).get("encoding", {})
        channels = [e for e in encoding.values() if isinstance(e, dict) and isinstance(e.get("axis"), dict)]
        found += [e["axis"]["labelFontSize"] for e in channels if "labelFontSize" in e["axis"]]
    return found


def test_projector_mode_enlarges_the_charts_labels():
    at = use_sample(open_app(), "limericks")
    assert axis_font_sizes(at) == [13]  # the vocabulary chart's characters
    run(at.toggle(key="sidebar_projector").set_value(True))
    assert axis_font_sizes(at) == [13 * display.CHART_SCALE]


def test_enlarged_scales_every_stated_size_keeps_the_data_and_the_charts_own_config():
    data = pd.DataFrame({"x": [1, 2]})
    spec = {
        "layer": [
            {"mark": {"type": "line", "strokeWidth": 2, "point": {"size": 40}}},
            {"mark": {"type": "text", "fontSize": 14}, "encoding": {"x": {"axis": {"labelFontSize": 13}}}},
        ],
        "datasets": {"losses": data},
        "config": {"view": {"stroke": None}},
        "height": 300,
    }
    grown = display.enlarged(spec, 2)
    assert grown["layer"][0]["mark"] == {"type": "line", "strokeWidth": 4, "point": {"size": 160}}
    assert grown["layer"][1]["mark"]["fontSize"] == 28
    assert grown["layer"][1]["encoding"]["x"]["axis"]["labelFontSize"] == 26
    assert grown["height"] == 300  # the chart keeps its place on the page
    assert grown["datasets"]["losses"] is data  # shared, not copied
    assert grown["config"]["view"] == {"stroke": None}
    assert grown["config"]["axis"]["labelFontSize"] == 22  # Vega-Lite's own 11 px default, doubled
    assert spec["layer"][0]["mark"]["strokeWidth"] == 2  # the cached spec is left as it was


def test_every_page_draws_its_charts_through_the_one_helper():
    """A chart drawn with st.altair_chart directly would stay small in projector mode."""
    sources = [*ROOT.joinpath("pages").glob("*.py"), *ROOT.joinpath("ui").glob("*.py")]
    assert len(sources) > 10
    calls = re.compile(r"\bst\.(altair_chart|vega_lite_chart)\(")
    direct = [p.name for p in sources if p.name != "display.py" and calls.search(p.read_text())]
    assert direct == []


def test_projector_mode_spreads_the_loss_charts_larger_labels_further_apart(monkeypatch):
    """The Train page places the reference labels for projector mode's larger letters."""
    gaps = []
    spread = ui_charts.spread_labels
    monkeypatch.setattr(ui_charts, "spread_labels", lambda *args: gaps.append(args[-1]) or spread(*args))
    at = start_tiny_training(epochs=2)
    wait_done(at)
    run(at)
    assert gaps and set(gaps) == {ui_charts.LABEL_GAP}
    gaps.clear()
    run(at.toggle(key="sidebar_projector").set_value(True))
    assert gaps and set(gaps) == {ui_charts.LABEL_GAP * display.CHART_SCALE}
