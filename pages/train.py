"""Train: settings and what they cost, Start / Stop / Continue, the live loss chart, and My runs."""

import streamlit as st

from charlab.errors import CharlabError
from charlab.network.model import estimate, parameter_table
from charlab.saving import runs
from charlab.text import corpus
from ui import state
from ui import train as train_ui
from ui.corpus_cache import cleaned_text, corpus_vocab_size
from ui.formatting import fmt_duration
from ui.job_registry import current_handle, is_running, watched_handle
from ui.jobs import default_run_name, following_words, rerun_page, start_training, stop_training
from ui.lesson_links import lesson_hides_all, lesson_share, lesson_summary
from ui.limits import fit_to_limit, server_limits
from ui.page_guard import guard
from ui.runs_view import my_runs
from ui.saved_runs import allowed_run_info
from ui.session import through_entry_script
from ui.settings import (
    PAGES,
    PRESETS,
    SETTING_COLUMNS,
    SETTING_LABELS,
    budget_seconds,
    model_config,
    presets_recipe_words,
    training_length_words,
)
from ui.sidebar import on_preset_change, poll_seconds
from ui.start_from import (
    preset_fitted_note,
    shape_fixed,
    start_from_control,
    start_vocab_size,
    writer_path,
    writer_shape,
)
from ui.text import md, scroll_to
from ui.widget_state import is_hidden, seed, setting_widget, training_length

through_entry_script("train")

st.title("Train")
loaded, text, vocab_size = state.CORPUS.get(), cleaned_text(), corpus_vocab_size()
handle = current_handle()
running = is_running(handle)
watched = watched_handle(state.RUN_PATH.get())  # this session's training, or another's training of the current run
if watched is not None and watched is not handle:
    st.caption(following_words(watched))
elif loaded is None:
    st.info("Choose a text on the Corpus page first (or press Quick start on Home).", icon=":material/info:")
    st.page_link(PAGES["corpus"], label="Go to Corpus", icon=":material/description:")
else:
    st.caption(
        f"Learning from **{md(loaded.name)}**: {len(text):,} characters after cleaning "
        f"({corpus.CLEANING_MODES[state.CLEANING.get()][0]}), {vocab_size} different characters."
    )

# ---- the live view first once there is a training or a run to show (it fits a 1280x720 screen);
# the settings first while there is nothing to show yet
current = allowed_run_info(state.RUN_PATH.get())
live_first = running or current is not None
settings_area, controls_area = st.container(), st.container()
if live_first:
    settings_area, controls_area = controls_area, settings_area

with settings_area:
    # ---- settings
    limit = server_limits()
    lowered = fit_to_limit("settings", "epochs", limit.max_epochs)
    if lowered is not None:
        st.info(
            f"Epochs lowered from {lowered:,} to {limit.max_epochs:,}, the most this server allows in one training."
        )
    if lesson_hides_all():  # the learner sees what a training will do, Start and the chart
        lesson_summary()
    else:
        with st.expander("Settings", expanded=not live_first, icon=":material/tune:"):
            if not any(is_hidden(name) for name in SETTING_LABELS):  # a preset would change what a lesson fixed
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
            start_from_control(text, hidden=is_hidden("start_from"))
            for column, names in zip(st.columns(3), SETTING_COLUMNS, strict=True):
                with column:
                    for name in names:
                        if name == "epochs":
                            training_length(limit)
                        else:
                            setting_widget(name, disabled=shape_fixed(name))
            if loaded is not None:
                try:
                    cfg = model_config(writer_shape(state.SETTINGS.get()))
                    network_vocab = start_vocab_size(text, vocab_size)  # a writer's grown by the text's new ones
                    cost = estimate(cfg, network_vocab, len(text))
                except CharlabError as err:
                    st.error(md(str(err)), icon=":material/error:")
                else:
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
                    budget = budget_seconds(state.MINUTES.get())
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
                            fmt_duration(cost.seconds_per_epoch * cfg.epochs),
                            border=True,
                            help="An estimate of the time the whole training takes on this computer.",
                        )
                    try:
                        limit.check_parameters(cost.parameters)
                    except CharlabError as err:
                        st.error(md(str(err)), icon=":material/error:")
                    if not budget and cost.seconds_per_epoch * cfg.epochs > limit.training_seconds:
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
                            for r in parameter_table(cfg, network_vocab)
                        ],
                        hide_index=True,
                        width="stretch",
                    )

        with st.expander("Share as a lesson link", icon=":material/share:"):
            with guard("the lesson link"):
                lesson_share()


with controls_area:
    # ---- start / stop / continue
    settings, minutes, cleaning = state.SETTINGS.get(), state.MINUTES.get(), state.CLEANING.get()
    can_continue = (
        current is not None
        and current.damaged is None
        and current.status != "training"
        and (current.path / "model.keras").exists()
    )
    name_column, start_column, stop_column, continue_column = st.columns([5, 3, 2, 2], vertical_alignment="bottom")
    run_name = name_column.text_input(
        "Run name",
        key=state.TRAIN_RUN_NAME.key,
        max_chars=80,
        placeholder=default_run_name(loaded, settings) if loaded is not None else "Choose a text first",
    )
    if start_column.button(
        "Start training",
        type="primary",
        key=state.START_BUTTON.key,
        icon=":material/play_arrow:",
        disabled=running or loaded is None,
        width="stretch",
    ):
        try:
            start_training(
                text,
                settings,
                minutes,
                run_name.strip() or default_run_name(loaded, settings),
                cleaning,
                loaded.name,
                start_from=writer_path(),
            )
        except CharlabError as err:
            st.error(md(str(err)), icon=":material/error:")
        else:
            st.rerun()
    if stop_column.button(
        "Stop",
        key=state.STOP_BUTTON.key,
        icon=":material/stop:",
        disabled=not running,
        width="stretch",
        help="Stops after the current batch; what was learned is saved.",
    ):
        stop_training()
        st.rerun()
    if continue_column.button(
        "Continue",
        key=state.CONTINUE_BUTTON.key,
        icon=":material/fast_forward:",
        disabled=running or loaded is None or not can_continue,
        width="stretch",
        help=f"Train the current run «{md(current.name)}» for "
        f"{training_length_words(settings, minutes)} more on this text."
        if can_continue
        else "Train or load a run first.",
    ):
        try:
            start_training(text, settings, minutes, current.name, cleaning, loaded.name, resume_from=str(current.path))
        except CharlabError as err:
            st.error(md(str(err)), icon=":material/error:")
        else:
            st.rerun()
    if can_continue and runs.fresh_optimizer(current.path):
        st.caption(
            "This run was uploaded: Continue keeps everything its network learned, but the optimizer's running "
            "averages are not part of an upload, so they start afresh (the loss may wobble for the first steps)."
        )

    # ---- live view: polls the background job (once a second while it trains, every 5 s while it waits)
    poll = poll_seconds(watched)

    @st.fragment(run_every=poll)
    def live_view() -> None:
        with guard("the live view"):
            now = watched_handle(state.RUN_PATH.get())
            if poll is not None and poll_seconds(now) != poll:  # it got its place (poll faster) or ended
                rerun_page()
            train_ui.live_view(now, state.RUN_PATH.get())

    live_view()
if state.SCROLL_TO_LIVE.get():
    state.SCROLL_TO_LIVE.forget()
    scroll_to("live-view")

# ---- my runs
st.header("My runs", divider="gray")
with guard("My runs"):
    my_runs()
