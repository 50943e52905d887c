"""Colour is never the only cue, and every colour reads in the light and the dark theme: the charts' palette, the
coloured characters of Look inside (their text colour, their underline, their table) and the comparison's names."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ui import charts, inside
from ui.settings import CHART_BACKGROUNDS, COLORS

ROOT = Path(__file__).resolve().parents[1]
THEME = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["theme"]


def luminance(colour: str) -> float:
    """WCAG 2's relative luminance of a #RRGGBB colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_chart_backgrounds_are_the_themes_own():
    assert CHART_BACKGROUNDS == {name: THEME[name]["backgroundColor"] for name in ("light", "dark")}


CHART_COLOURS = sorted({*COLORS.values(), *charts.REFERENCE_COLORS.values(), *THEME["chartCategoricalColors"]})


@pytest.mark.parametrize("colour", CHART_COLOURS)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_chart_colour_stands_out_on_both_themes(colour, theme):
    """WCAG's 3:1 for lines and marks, on the light and on the dark background alike."""
    assert contrast(colour, CHART_BACKGROUNDS[theme]) >= 3, (colour, theme)


def fake_trace(text: str, surprise: list[float], activations: list[float]) -> SimpleNamespace:
    """What activation_html and surprise_html read of a Trace, with chosen numbers."""
    vocab = sorted(set(text))
    values = np.array(activations, dtype=float)[:, None]
    return SimpleNamespace(
        text=text,
        vocab=vocab,
        surprise=np.array(surprise, dtype=float),
        activations=lambda layer, state: values,
        top_guesses=lambda t, k: [(vocab[0], 0.5)],
    )


def spans(html_text: str) -> list[dict[str, str]]:
    """Each coloured character's style properties and title."""
    found = []
    for style, title in re.findall(r'<span style="([^"]*)" title="([^"]*)">', html_text):
        props = dict(p.split(":", 1) for p in style.strip(";").split(";"))
        found.append({**props, "title": title})
    return found


def test_every_coloured_character_keeps_its_text_readable_and_strong_ones_are_underlined():
    values = [-1.0, -0.6, -0.2, 0.0, 0.3, 0.7, 1.0]
    result = fake_trace("abcdefg", [0.1] * 7, values)
    drawn = spans(inside.activation_html(result, 0, "hidden", 0))
    assert len(drawn) == len(values)
    for span, value in zip(drawn, values, strict=True):
        assert contrast(span["color"], span["background"]) >= 4.5, span  # 4.5:1 whatever the theme's text colour
        assert f"activation {value:+.2f}" in span["title"]  # the number on hover
        underline = span.get("text-decoration", "")
        assert ("solid" in underline) == (value >= inside.STRONG), span
        assert ("dotted" in underline) == (value <= -inside.STRONG), span


def test_the_most_surprising_characters_are_also_underlined_and_listed_in_numbers():
    surprise = [0.1, 2.0, 0.2, 1.5, 0.0]  # ln 4 = 1.39: the 2nd and 4th are as surprising as guessing, or more
    result = fake_trace("abcd\n", surprise, [0.0] * 5)
    drawn = spans(inside.surprise_html(result))
    assert ["solid" in s.get("text-decoration", "") for s in drawn] == [False, True, False, True, False]
    for span in drawn:
        assert contrast(span["color"], span["background"]) >= 4.5, span
    table = inside.surprise_table(result, top=3)
    assert table["Position"].tolist() == [1, 3, 2]
    assert table["Character"].tolist() == ["b", "d", "c"]
    assert table["After"].tolist() == ["a", "abc", "ab"]
    assert table["Surprise (nats)"].tolist() == [2.0, 1.5, 0.2]


def test_compared_runs_are_named_on_the_chart_not_only_coloured():
    history = [{"epoch": 1, "loss": 2.0, "val_loss": 2.1}, {"epoch": 2, "loss": 1.8, "val_loss": 1.9}]
    spec = charts.compare_chart({"Run A": history, "Run B": history}, "loss").to_dict()
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert len(texts) == 1 and texts[0]["encoding"]["text"]["field"] == "run"
    lines = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line"]
    assert lines[0]["encoding"]["strokeDash"]["field"] == "curve"  # training dashed, validation solid
