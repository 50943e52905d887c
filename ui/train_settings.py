"""The Train page's settings: the preset, where a training starts, the model settings' widgets and what they cost
(parameters, memory, time), or a lesson's one line in their place; and the Share as a lesson link expander.

Each widget keeps its value in the session (ui/state.py), so the settings survive a switch to another page;
settings_section returns the settings and minutes they hold once drawn, for the buttons below."""

from __future__ import annotations

import streamlit as st

from charlab.errors import CharlabError
from charlab.limits import Limits
from charlab.network.model import Estimate, ModelConfig, estimate, parameter_table
from charlab.text import corpus
from ui import state
from ui.corpus_cache import corpus_vocab_size
from ui.formatting import fmt_duration
from ui.lesson_links import lesson_hides_all, lesson_share, lesson_summary
from ui.limits import fit_to_limit, server_limits
from ui.page_guard import guard
from ui.settings import PRESETS, SETTING_COLUMNS, SETTING_LABELS, budget_seconds, model_config, presets_recipe_words
from ui.sidebar import on_preset_change
from ui.start_from import preset_fitted_note, shape_fixed, start_from_control, start_vocab_size, writer_shape
from ui.text import md
from ui.widget_state import is_hidden, seed, setting_widget, training_length


def settings_section(text: str | None, expanded: bool) -> tuple[ModelConfig, float | None]:
    """The settings (or the lesson's line that stands for them) and the lesson link; returns the settings and the
    minutes by the clock (None: the epochs) a training would use."""
    limit = server_limits()
    lowered = fit_to_limit("settings", "epochs", limit.max_epochs)
    if lowered is not None:
        st.info(
            f"Epochs lowered from {lowered:,} to {limit.max_epochs:,}, the most this server allows in one training."
        )
    if lesson_hides_all():  # the learner sees what a training will do, Start and the chart
        lesson_summary()
    else:
        with st.expander("Settings", expanded=expanded, icon=":material/tune:"):
            if not any(is_hidden(name) for name in SETTING_LABELS):  # a preset would change what a lesson fixed
                preset_control()
            start_from_control(text, hidden=is_hidden("start_from"))
            setting_widgets(limit)
            if text is not None:
                cost_view(text, limit)
        with st.expander("Share as a lesson link", icon=":material/share:"):
            with guard("the lesson link"):
                lesson_share()
    return state.SETTINGS.get(), state.MINUTES.get()


def preset_control() -> None:
    """Quick, Balanced or Best quality, and the line that says how the chosen one was fitted to the text."""
    seed(state.PRESET_BOX, state.PRESET.get())
    st.segmented_control(
        "Preset",
        list(PRESETS),
        key=state.PRESET_BOX.key,
        format_func=lambda k: PRESETS[k][0],
        on_change=on_preset_change,
        help="Ready-made settings, each training for its minutes by the clock; a small text gets a "
        "smaller network, fitted to it. " + presets_recipe_words(),
    )
    preset_fitted_note()


def setting_widgets(limit: Limits) -> None:
    """Every model setting in three columns, how long to train in the place of the epochs; a writer's shape greyed."""
    for column, names in zip(st.columns(3), SETTING_COLUMNS, strict=True):
        with column:
            for name in names:
                if name == "epochs":
                    training_length(limit)
                else:
                    setting_widget(name, disabled=shape_fixed(name))


def cost_view(text: str, limit: Limits) -> None:
    """What the settings cost on this text: parameters, memory and time, this server's limits, and each layer's
    parameters (a setting refused in plain words instead)."""
    try:
        settings = model_config(writer_shape(state.SETTINGS.get()))
        network_vocab = start_vocab_size(text, corpus_vocab_size())  # a writer's grown by the text's new ones
        cost = estimate(settings, network_vocab, len(text))
    except CharlabError as err:
        st.error(md(str(err)), icon=":material/error:")
        return
    budget = budget_seconds(state.MINUTES.get())
    cost_metrics(cost, settings, budget)
    try:
        limit.check_parameters(cost.parameters)
    except CharlabError as err:
        st.error(md(str(err)), icon=":material/error:")
    if not budget and cost.seconds_per_epoch * settings.epochs > limit.training_seconds:
        st.info(
            "This server stops each training after "
            f"{fmt_duration(limit.training_seconds)}, so it is shared fairly. What the network "
            "learned by then is saved, and Continue trains it more.",
            icon=":material/timer:",
        )
    st.caption("The parameters of each layer (V = vocabulary size, d = input size, m = units):")
    st.dataframe(
        [
            {"Layer": r.layer, "Parameters": f"{r.parameters:,}", "Formula": r.formula}
            for r in parameter_table(settings, network_vocab)
        ],
        hide_index=True,
        width="stretch",
    )


def cost_metrics(cost: Estimate, settings: ModelConfig, budget: float | None) -> None:
    """Four metrics side by side: parameters, memory, time per epoch, and epochs in the minutes (or all epochs)."""
    m = st.columns(4)
    m[0].metric(
        "Parameters",
        f"{cost.parameters:,}",
        border=True,
        help="Numbers the model learns. Compare with the characters of the text.",
    )
    # short labels: four metrics side by side fit a 1280x720 screen; "(estimate)" goes in the help
    m[1].metric(
        "Memory",
        corpus.human_size(cost.memory_bytes),
        border=True,
        help="An estimate of the memory training takes, data and network together.",
    )
    m[2].metric(
        "Per epoch",
        fmt_duration(cost.seconds_per_epoch),
        border=True,
        help="An estimate of the time one pass over the whole text takes on this computer.",
    )
    if budget:
        m[3].metric(
            f"Epochs in {fmt_duration(budget)}",
            f"{budget / max(cost.seconds_per_epoch, 1e-3):,.1f}",
            border=True,
            help="An estimate. Training ends by the clock; the best model it found is kept.",
        )
    else:
        m[3].metric(
            "All epochs",
            fmt_duration(cost.seconds_per_epoch * settings.epochs),
            border=True,
            help="An estimate of the time the whole training takes on this computer.",
        )
