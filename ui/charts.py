"""The Altair charts: loss curves, baselines, comparisons, the vocabulary and next-character odds."""

from __future__ import annotations

import functools
import json
import math
import unicodedata

import altair as alt
import numpy as np
import pandas as pd

from charlab.text import corpus
from charlab.text.baselines import BaselineReport
from ui.settings import COLORS, LOSS_UNITS
from ui.text import char_name, visible_text


def convert_loss(values, unit: str):
    values = np.asarray(values, dtype=float)
    if unit == "bits":
        return values / math.log(2)
    if unit == "perplexity":
        return np.exp(np.minimum(values, 50))
    return values


def guess_label(vocab_size: int, unit: str) -> tuple[float, str]:
    """The random-guessing line: ln V in nats, log2 V bits, perplexity V, said in plain words first."""
    value = float(convert_loss([math.log(vocab_size)], unit)[0])
    words = {
        "loss": f"ln {vocab_size} = {value:.2f}",
        "bits": f"log₂ {vocab_size} = {value:.2f} bits",
        "perplexity": f"{vocab_size} characters",
    }[unit]
    return value, f"random guessing among {vocab_size} characters ({words})"


def _downsample(points: list[tuple[float, float]], limit: int = 1500) -> list[tuple[float, float]]:
    """At most `limit` points: each group of consecutive points becomes its mean, at the group's last x."""
    if len(points) <= limit:
        return points
    size = math.ceil(len(points) / limit)
    xs, ys = np.asarray(points, dtype=float).T
    starts = np.arange(0, len(points), size)
    means = np.add.reduceat(ys, starts) / np.diff(np.append(starts, len(points)))
    ends = np.minimum(starts + size, len(points)) - 1
    return list(zip(xs[ends].tolist(), means.tolist(), strict=True))


def loss_table(
    history: list[dict],
    batch_losses: list[tuple[int, float]],
    batches_per_epoch: int,
    first_epoch: int,
    initial_loss: float | None = None,
    writer_start: float | None = None,
) -> pd.DataFrame:
    """Long-form loss data: training per batch (or per epoch for earlier epochs), validation per epoch;
    a new network's loss before its first step at epoch 0, and a fine-tune's validation curve starting at
    epoch 0 from its writer's loss on the text (charlab.learning.writers records it), so a class sees where it began."""
    rows = []
    if writer_start is not None and math.isfinite(writer_start):
        rows.append(("Validation (each epoch)", 0.0, writer_start))
    if initial_loss is not None and first_epoch == 0 and math.isfinite(initial_loss):
        rows.append(("Training (each batch)", 0.0, initial_loss))
    earlier = [h for h in history if h["epoch"] <= first_epoch or not batch_losses]
    for h in earlier:
        if math.isfinite(h.get("loss", float("nan"))):
            rows.append(("Training (each batch)" if batch_losses else "Training (each epoch)", h["epoch"], h["loss"]))
    if batch_losses and batches_per_epoch:
        points = [(first_epoch + step / batches_per_epoch, loss) for step, loss in batch_losses if math.isfinite(loss)]
        rows += [("Training (each batch)", x, y) for x, y in _downsample(points)]
    for h in history:
        if math.isfinite(h.get("val_loss", float("nan"))):
            rows.append(("Validation (each epoch)", h["epoch"], h["val_loss"]))
    return pd.DataFrame(rows, columns=["series", "epoch", "loss"])


REFERENCE_COLORS = {
    "uniform": COLORS["guess"],
    "unigram": "#A16207",
    "context_1": "#009E73",
    "context_2": "#0891B2",
    "context_3": "#9467BD",
}
# the reference lines' names in the column right of the plot: short enough to leave the plot its width on a
# phone; the caption under the chart and each line's tooltip say them in full
REFERENCE_SHORT = {
    "uniform": "random",
    "unigram": "letter freq.",
    "context_1": "1 char",
    "context_2": "2 chars",
    "context_3": "3 chars",
}
LABEL_FONT_SIZE = 14  # px: read from the back of a room on a 1280x720 projector
LABEL_GAP = 18  # px between two labels' centres: 14 px text that never overlaps
AXIS_FONT_SIZE = 13


def reference_table(vocab_size: int, unit: str, report: BaselineReport | None = None) -> pd.DataFrame:
    """The reference lines of the loss chart: random guessing, and the counting baselines when known."""
    guess_value, guess_text = guess_label(vocab_size, unit)
    rows = [("uniform", math.log(vocab_size), guess_value, guess_text)]
    if report is not None:
        for b in report.baselines:
            if b.key != "uniform" and math.isfinite(b.loss):
                value = float(convert_loss([b.loss], unit)[0])
                rows.append((b.key, b.loss, value, f"{b.label} ({value:.2f})"))
    frame = pd.DataFrame(rows, columns=["reference", "loss", "value", "label"])
    pairs = zip(frame["reference"], frame["value"], strict=True)
    return frame.assign(short=[f"{REFERENCE_SHORT.get(key, key)} {value:.2f}" for key, value in pairs])


def reference_words(vocab_size: int, unit: str, report: BaselineReport | None = None) -> str:
    """The caption beside the loss chart: what its y axis and its dashed lines mean, in plain words."""
    guess_value, _ = guess_label(vocab_size, unit)
    what = {"loss": "Loss (nats)", "bits": "Bits per character", "perplexity": "Perplexity"}[unit]
    words = (
        f"{what}: how surprised the network is by each next character; **lower is better**. Dashed lines: what "
        f"simple counting scores on the same text: *random* {guess_value:.2f} = guessing at random among "
        f"{vocab_size} characters"
    )
    if report is not None and len(report.baselines) > 1:
        words += (
            "; *letter freq.* = knowing only how often each character comes; *1, 2, 3 chars* = predicting "
            "from the previous 1, 2 or 3 characters"
        )
    return words + "."


def spread_labels(values: list[float], low: float, high: float, height: float, gap: float = LABEL_GAP) -> list[float]:
    """Label positions (in data units) as near their lines as they can be while at least `gap` pixels apart.

    The y axis runs from `low` (bottom) to `high` (top) over `height` pixels. Labels are pushed down past
    the one above them, then back up from the bottom edge if that pushed them out of the chart."""
    if not values or high <= low:
        return list(values)
    per_pixel = (high - low) / height
    order = sorted(range(len(values)), key=lambda i: -values[i])  # top to bottom
    ys = [(high - values[i]) / per_pixel for i in order]
    for k in range(1, len(ys)):
        ys[k] = max(ys[k], ys[k - 1] + gap)
    ys[-1] = min(ys[-1], height)
    for k in range(len(ys) - 2, -1, -1):
        ys[k] = min(ys[k], ys[k + 1] - gap)
    placed = [0.0] * len(values)
    for i, y in zip(order, ys, strict=True):
        placed[i] = high - y * per_pixel
    return placed


def _y_range(values: list[float]) -> tuple[float, float]:
    """The y axis' extent: every curve and line, with a margin so none sits on the frame."""
    low, high = min(values), max(values)
    margin = max((high - low) * 0.04, abs(high) * 0.01, 1e-3)
    return low - margin, high + margin


LOSS_DATA, REFERENCE_DATA, MOMENT_DATA, WRITER_DATA = "losses", "references", "moment", "writer"
WRITER_START_WORDS = "the writer's start"  # the label beside a fine-tune's first point: its writer's loss on the text


def writer_start_label(value: float) -> str:
    """The words beside a fine-tune's first point, in the chart's unit: "the writer's start: 2.41"."""
    return f"{WRITER_START_WORDS}: {value:.2f}"


def loss_chart(
    frame: pd.DataFrame,
    vocab_size: int,
    unit: str,
    report: BaselineReport | None = None,
    marker: float | None = None,
    height: int = 320,
    batches_per_epoch: int = 0,
    label_gap: float = LABEL_GAP,
    writer_start: float | None = None,
) -> dict:
    """Training and validation curves, the reference lines, a vertical rule at a time-lapse moment, and for a
    fine-tune a labelled point where its writer started (its loss on the text before the first step, at 0), as a
    Vega-Lite spec for `st.vega_lite_chart`.

    Within the first epoch (when `batches_per_epoch` is known) the x axis counts training steps: epochs
    would read 0.000 … 0.009 for the first seconds. A watching tab redraws this every second or two, so the
    chart's layout is built by Altair (and checked against the Vega-Lite schema) once per look, and each
    redraw only attaches the new data and the y range its labels were placed for. `label_gap`: the pixels between
    two reference labels' centres (larger labels, as in projector mode, need more)."""
    frame = frame.assign(value=convert_loss(frame["loss"], unit))
    by_steps = bool(batches_per_epoch) and not frame.empty and float(frame["epoch"].max()) < 1
    scale = batches_per_epoch if by_steps else 1
    frame = frame.assign(x=frame["epoch"] * scale)
    references = reference_table(vocab_size, unit, report)
    low, high = _y_range(frame["value"].tolist() + references["value"].tolist())
    references = references.assign(
        label_value=spread_labels(references["value"].tolist(), low, high, height, label_gap)
    )
    series = tuple(sorted(frame["series"].unique().tolist()) or ["Validation (each epoch)"])
    x_title = f"Training steps (one epoch = {batches_per_epoch:,} steps)" if by_steps else "Epoch"
    writer = writer_start is not None and math.isfinite(writer_start)
    layout = _loss_layout(series, tuple(references["reference"]), unit, marker is not None, height, x_title, writer)
    spec = json.loads(layout)
    for layer in spec["layer"]:
        y = layer.get("encoding", {}).get("y")
        if y is not None and "scale" in y:
            y["scale"]["domain"] = [low, high]
    spec["datasets"] = {LOSS_DATA: frame, REFERENCE_DATA: references}
    if marker is not None:
        moment = {"epoch": [float(marker)], "x": [float(marker) * scale], "moment": ["time-lapse frame"]}
        spec["datasets"][MOMENT_DATA] = pd.DataFrame(moment)
    if writer:
        value = float(convert_loss([writer_start], unit)[0])
        spec["datasets"][WRITER_DATA] = pd.DataFrame(
            {"x": [0.0], "value": [value], "label": [writer_start_label(value)]}
        )
    return spec


@functools.lru_cache(maxsize=64)
def _loss_layout(
    series: tuple[str, ...],
    references: tuple[str, ...],
    unit: str,
    marker: bool,
    height: int,
    x_title: str = "Epoch",
    writer: bool = False,
) -> str:
    """The loss chart's Vega-Lite spec without its data (JSON text, so each caller gets its own copy).

    The reference lines are named in a column right of the plot, never over the curves, each label joined
    to its line by a short stroke; loss_chart puts the labels at least LABEL_GAP pixels apart."""
    color = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(
            domain=list(series),
            range=[COLORS["train"] if s.startswith("Training") else COLORS["validation"] for s in series],
        ),
        legend=alt.Legend(orient="top", labelFontSize=AXIS_FONT_SIZE, symbolStrokeWidth=3),
    )
    y_title = f"{LOSS_UNITS[unit]} · lower is better"
    axis = dict(labelFontSize=AXIS_FONT_SIZE, titleFontSize=AXIS_FONT_SIZE)
    y_scale = alt.Scale(zero=False, nice=False)  # loss_chart sets the domain the labels were placed for
    base = alt.Chart(alt.NamedData(LOSS_DATA)).encode(
        x=alt.X(
            "x:Q",
            title=x_title,
            scale=alt.Scale(domainMin=0),
            axis=alt.Axis(format=",.2~f", tickMinStep=1 if x_title != "Epoch" else 0.01, **axis),
        ),
        y=alt.Y("value:Q", title=y_title, scale=y_scale, axis=alt.Axis(format=",.2~f", **axis)),
        color=color,
        tooltip=[
            alt.Tooltip("series:N", title="Curve"),
            alt.Tooltip("epoch:Q", format=".2f", title="Epoch"),
            alt.Tooltip("value:Q", format=".3f", title=LOSS_UNITS[unit]),
        ],
    )
    train = base.transform_filter(alt.datum.series != "Validation (each epoch)").mark_line(strokeWidth=1.2)
    validation = base.transform_filter(alt.datum.series == "Validation (each epoch)").mark_line(
        point=alt.OverlayMarkDef(size=45), strokeWidth=2.5
    )
    layers = [train, validation]
    for key in references:
        line = alt.Chart(alt.NamedData(REFERENCE_DATA)).transform_filter(alt.datum.reference == key)
        color = REFERENCE_COLORS.get(key, COLORS["guess"])
        tooltip = [alt.Tooltip("label:N", title="Reference")]
        layers.append(
            line.mark_rule(color=color, strokeDash=[6, 4]).encode(y=alt.Y("value:Q", scale=y_scale), tooltip=tooltip)
        )
        layers.append(  # from the line's end at the plot's edge to its label
            line.mark_rule(color=color, x="width", x2={"expr": "width + 8"}).encode(
                y=alt.Y("value:Q", scale=y_scale), y2="label_value:Q"
            )
        )
        layers.append(
            line.mark_text(
                align="left", baseline="middle", x={"expr": "width + 10"}, color=color, fontSize=LABEL_FONT_SIZE
            ).encode(y=alt.Y("label_value:Q", scale=y_scale), text="short:N", tooltip=tooltip)
        )
    if marker:
        layers.append(
            alt.Chart(alt.NamedData(MOMENT_DATA))
            .mark_rule(color=COLORS["changed"], strokeWidth=2)
            .encode(x="x:Q", tooltip=["moment:N"])
        )
    if writer:  # a fine-tune's first point, labelled inside the plot (above it, clear of the curve going down)
        start = alt.Chart(alt.NamedData(WRITER_DATA)).encode(
            x="x:Q", y=alt.Y("value:Q", scale=y_scale), tooltip=[alt.Tooltip("label:N", title="Fine-tune")]
        )
        layers.append(start.mark_point(shape="diamond", size=160, filled=True, color=COLORS["validation"], opacity=1))
        layers.append(
            start.mark_text(
                align="left", baseline="bottom", dx=8, dy=-6, color=COLORS["validation"], fontSize=LABEL_FONT_SIZE
            ).encode(text="label:N")
        )
    spec = alt.layer(*layers).properties(height=height).to_dict()
    spec.pop("config", None)  # Altair's default theme sizes; Streamlit's theme and the page's width apply instead
    return json.dumps(spec)


def compare_chart(histories: dict[str, list[dict]], unit: str) -> alt.LayerChart:
    """Runs' curves on one chart: a colour and a name per run, solid validation and dashed training lines."""
    rows = []
    for name, history in histories.items():
        for h in history:
            for kind, column in (("Training", "loss"), ("Validation", "val_loss")):
                value = h.get(column, float("nan"))
                if math.isfinite(value):
                    rows.append((name, kind, h["epoch"], value))
    frame = pd.DataFrame(rows, columns=["run", "curve", "epoch", "loss"])
    frame = frame.assign(value=convert_loss(frame["loss"], unit))
    base = alt.Chart(frame).encode(
        x=alt.X("epoch:Q", title="Epoch"),
        y=alt.Y("value:Q", title=LOSS_UNITS[unit], scale=alt.Scale(zero=False)),
        color=alt.Color("run:N", title="Run", legend=alt.Legend(orient="top", columns=2)),
        tooltip=["run:N", "curve:N", "epoch:Q", alt.Tooltip("value:Q", format=".3f", title=LOSS_UNITS[unit])],
    )
    lines = base.mark_line(point=alt.OverlayMarkDef(size=25)).encode(
        strokeDash=alt.StrokeDash(
            "curve:N", title="Curve", scale=alt.Scale(domain=["Validation", "Training"], range=[[1, 0], [5, 4]])
        )
    )
    names = (  # each run named at its newest validation point: colour is not the only way to tell runs apart
        base.transform_filter(alt.datum.curve == "Validation")
        .transform_window(rank="rank()", sort=[alt.SortField("epoch", order="descending")], groupby=["run"])
        .transform_filter(alt.datum.rank == 1)
        .mark_text(align="right", dx=-6, dy=-12, fontSize=LABEL_FONT_SIZE, fontWeight="bold")
        .encode(text="run:N")
    )
    return alt.layer(lines, names).properties(height=340)


def vocabulary_table(stats: corpus.CorpusStats, changes: dict[str, str]) -> pd.DataFrame:
    total = max(1, stats.characters)
    rows = []
    for ch, count in stats.counts.items():
        becomes = changes.get(ch)
        fate = "kept" if becomes is None else ("dropped" if becomes == "" else "replaced")
        rows.append(
            {
                "Character": corpus.visible(ch),
                "Name": char_name(ch),
                "Count": count,
                "Share": count / total,
                "Cleaning": fate,
                "Becomes": "" if becomes is None else ("(dropped)" if becomes == "" else visible_text(becomes)),
            }
        )
    return pd.DataFrame(rows, columns=["Character", "Name", "Count", "Share", "Cleaning", "Becomes"])


def vocabulary_chart(frame: pd.DataFrame, limit: int = 70) -> alt.Chart:
    """The characters as bars, most frequent first, at most `limit` (half as many for Chinese or Japanese,
    whose characters are twice as wide, so that every label stays readable); when that is not all of them,
    the chart's title says it shows the most frequent and that the table lists them all."""
    wide = sum(unicodedata.east_asian_width(label[0]) in "WF" for label in frame["Character"].head(limit))
    wide_labels = wide > limit // 2
    if wide_labels:
        limit //= 2
    top = frame.head(limit)
    order = top["Character"].tolist()
    title = alt.Undefined
    if len(frame) > limit:
        title = alt.Title(  # two short lines: a phone cuts a long title off
            [f"The {limit} most frequent of {len(frame):,} characters;", f"the table below lists all {len(frame):,}."],
            anchor="start",
            fontWeight="normal",
        )
    return (
        alt.Chart(top, title=title)
        .mark_bar()
        .encode(
            x=alt.X(
                "Character:N",
                sort=order,
                title=None,
                # Chinese labels on a phone: every other one rather than a smear (each has its tooltip)
                axis=alt.Axis(labelAngle=0, labelFontSize=13, labelOverlap="greedy" if wide_labels else False),
            ),
            y=alt.Y("Count:Q", title="How often"),
            color=alt.Color(
                "Cleaning:N",
                title="Cleaning",
                scale=alt.Scale(
                    domain=["kept", "replaced", "dropped"],
                    range=[COLORS["primary"], COLORS["changed"], COLORS["guess"]],
                ),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                "Character:N",
                "Name:N",
                alt.Tooltip("Count:Q", format=","),
                alt.Tooltip("Share:Q", format=".2%"),
                "Cleaning:N",
                "Becomes:N",
            ],
        )
        .properties(height=260)
    )


def probability_chart(
    now: dict[str, float], at_one: dict[str, float], temperature: float, limit: int = 20
) -> alt.Chart:
    top = sorted(now, key=now.get, reverse=True)[:limit]
    frame = pd.DataFrame(
        {
            "Character": [corpus.visible(c) for c in top],
            "Name": [char_name(c) for c in top],
            "Probability": [now[c] for c in top],
            "At temperature 1": [at_one[c] for c in top],
        }
    )
    order = frame["Character"].tolist()
    x = alt.X("Character:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelFontSize=14, labelOverlap=False))
    tooltip = [
        "Character:N",
        "Name:N",
        alt.Tooltip("Probability:Q", format=".1%"),
        alt.Tooltip("At temperature 1:Q", format=".1%"),
    ]
    top_value = max(1e-9, frame["Probability"].max(), frame["At temperature 1"].max())
    bars = (
        alt.Chart(frame)
        .mark_bar(color=COLORS["primary"])
        .encode(
            x=x,
            y=alt.Y(
                "Probability:Q",
                title=f"Probability at temperature {temperature:g}",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, top_value]),
            ),
            tooltip=tooltip,
        )
    )
    ticks = (
        alt.Chart(frame)
        .mark_tick(color=COLORS["changed"], thickness=2, size=22)
        .encode(x=x, y="At temperature 1:Q", tooltip=tooltip)
    )
    return alt.layer(bars, ticks).properties(height=260)


def board_chart(points: list[tuple[str, float, float]], unit: str, references: pd.DataFrame | None = None) -> alt.Chart:
    """The class board's validation curves on one text: one line per student, named at its newest point as well
    as by colour, and the text's reference lines (reference_table) dashed, named right of the plot and spread
    so that no two labels overlap."""
    height = 380
    frame = pd.DataFrame(points, columns=["student", "epoch", "loss"])
    frame = frame.assign(value=convert_loss(frame["loss"], unit))
    references = references if references is not None else pd.DataFrame(columns=["value", "label", "short"])
    low, high = _y_range(frame["value"].tolist() + references["value"].tolist())
    references = references.assign(label_value=spread_labels(references["value"].tolist(), low, high, height))
    axis = dict(labelFontSize=AXIS_FONT_SIZE, titleFontSize=AXIS_FONT_SIZE)
    y_scale = alt.Scale(domain=[low, high], nice=False)
    y_title = f"Validation {LOSS_UNITS[unit].lower()} · lower is better"
    base = alt.Chart(frame).encode(
        x=alt.X("epoch:Q", title="Epoch", scale=alt.Scale(domainMin=0), axis=alt.Axis(format=",.2~f", **axis)),
        y=alt.Y("value:Q", title=y_title, scale=y_scale, axis=alt.Axis(format=",.2~f", **axis)),
        color=alt.Color("student:N", title=None, legend=alt.Legend(orient="top", labelFontSize=AXIS_FONT_SIZE)),
        tooltip=[
            alt.Tooltip("student:N", title="Student"),
            alt.Tooltip("epoch:Q", format=".2f", title="Epoch"),
            alt.Tooltip("value:Q", format=".3f", title=LOSS_UNITS[unit]),
        ],
    )
    lines = base.mark_line(point=alt.OverlayMarkDef(size=45), strokeWidth=2.5)
    ends = (  # each line's name above its newest point: colour is not the only way to tell students apart
        base.transform_window(rank="rank()", sort=[alt.SortField("epoch", order="descending")], groupby=["student"])
        .transform_filter(alt.datum.rank == 1)
        .mark_text(align="right", dx=-6, dy=-12, fontSize=LABEL_FONT_SIZE, fontWeight="bold")
        .encode(text="student:N")
    )
    layers = [lines, ends]
    if not references.empty:
        refs = alt.Chart(references).encode(tooltip=[alt.Tooltip("label:N", title="Reference")])
        grey = COLORS["guess"]
        layers.append(refs.mark_rule(strokeDash=[6, 4], color=grey).encode(y=alt.Y("value:Q", scale=y_scale)))
        layers.append(
            refs.mark_text(
                align="left", baseline="middle", x={"expr": "width + 6"}, fontSize=LABEL_FONT_SIZE - 1
            ).encode(y=alt.Y("label_value:Q", scale=y_scale), text="short:N", color=alt.value(grey))
        )
    return alt.layer(*layers).properties(height=height)
