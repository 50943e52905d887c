"""The Train page's sections: its first line, the Run name and Start / Stop / Continue, and the live view of a
training (its verdict, baselines and time-lapse)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st

from charlab.errors import CharlabError
from charlab.learning.diagnosis import KeptEpoch, check_first_loss, diagnose, judged_loss, kept_epoch
from charlab.learning.training import Progress
from charlab.network.model import ModelConfig
from charlab.saving import runs
from charlab.saving.runs import RunInfo, best_loss_words
from charlab.server.jobs import JobHandle
from charlab.text import corpus
from charlab.text.baselines import BaselineReport
from ui import state
from ui.charts import loss_chart, loss_table, reference_words
from ui.corpus_cache import cleaned_text, corpus_vocab_size
from ui.display import chart, label_gap
from ui.formatting import fmt_duration, fmt_epochs, kept_words, progress_words, starting_words
from ui.grammar import grammar_growth
from ui.job_registry import queue_words, registry, watched_handle
from ui.jobs import default_run_name, following_words, rerun_page, start_training
from ui.page_guard import guard
from ui.saved_runs import (
    allowed_run_info,
    baseline_report,
    config_words,
    is_reber_run,
    is_reber_text,
    open_run,
    run_training_text,
    saved_run_is_reber,
)
from ui.settings import LOSS_UNIT_HELP, LOSS_UNITS, PAGES, STATUS_WORDS, training_length_words
from ui.sidebar import poll_seconds
from ui.start_from import writer_path
from ui.text import md, scroll_to, text_box
from ui.widget_state import seed


@dataclass(frozen=True)
class LiveMetrics:
    """What the live view draws, from a training under way or just ended, or from a saved run."""

    history: list[dict]
    batch_losses: list[tuple[int, float]]
    epoch_texts: list[dict]
    timelapse: list[dict]
    batches_per_epoch: int
    first_epoch: int
    vocab_size: int
    initial_loss: float | None
    report: BaselineReport | None  # the counting reference lines, when known
    reber: bool  # a Reber grammar text: its grammar chart too
    step: int | None = None  # batches the training under way has trained (None: a saved run)
    done: bool = True  # no training under way: its network now is the last one, not one still changing
    writer_start: float | None = None  # a fine-tune's writer's validation loss on its text before the first step


def heading(watched: JobHandle | None, handle: JobHandle | None) -> None:
    """The page's first line: the training it follows (another session's), the text it learns from, or where to
    choose one."""
    loaded, text = state.CORPUS.get(), cleaned_text()
    if watched is not None and watched is not handle:
        st.caption(following_words(watched))
    elif loaded is None:
        st.info("Choose a text on the Corpus page first (or press Quick start on Home).", icon=":material/info:")
        st.page_link(PAGES["corpus"], label="Go to Corpus", icon=":material/description:")
    else:
        st.caption(
            f"Learning from **{md(loaded.name)}**: {len(text):,} characters after cleaning "
            f"({corpus.CLEANING_MODES[state.CLEANING.get()][0]}), {corpus_vocab_size()} different characters."
        )


def training_buttons(
    settings: ModelConfig, minutes: float | None, current: RunInfo | None, running: bool
) -> tuple[str, bool, bool, bool]:
    """The Run name box beside Start training, Stop and Continue: returns the name typed and which was clicked."""
    loaded = state.CORPUS.get()
    can_continue = runs.continuable(current)
    name_column, start_column, stop_column, continue_column = st.columns([5, 3, 2, 2], vertical_alignment="bottom")
    run_name = name_column.text_input(
        "Run name",
        key=state.TRAIN_RUN_NAME.key,
        max_chars=80,
        placeholder=default_run_name(loaded, settings) if loaded is not None else "Choose a text first",
    )
    start = start_column.button(
        "Start training",
        type="primary",
        key=state.START_BUTTON.key,
        icon=":material/play_arrow:",
        disabled=running or loaded is None,
        width="stretch",
    )
    stop = stop_column.button(
        "Stop",
        key=state.STOP_BUTTON.key,
        icon=":material/stop:",
        disabled=not running,
        width="stretch",
        help="Stops after the current batch; what was learned is saved.",
    )
    go_on = continue_column.button(
        "Continue",
        key=state.CONTINUE_BUTTON.key,
        icon=":material/fast_forward:",
        disabled=running or loaded is None or not can_continue,
        width="stretch",
        help=f"Train the current run «{md(current.name)}» for {training_length_words(settings, minutes)} more on "
        "this text."
        if can_continue
        else "Train or load a run first.",
    )
    return run_name, start, stop, go_on


def start_or_continue(
    text: str, settings: ModelConfig, minutes: float | None, run_name: str, resume: RunInfo | None = None
) -> None:
    """Start a new run, or (`resume`) Continue that one, on the chosen text: a refusal is said in plain words with
    nothing lost, else the page reruns (a button's disabled state is fixed when it is drawn)."""
    loaded, cleaning = state.CORPUS.get(), state.CLEANING.get()
    try:
        if resume is None:
            name = run_name.strip() or default_run_name(loaded, settings)
            start_training(text, settings, minutes, name, cleaning, loaded.name, start_from=writer_path())
        else:
            start_training(text, settings, minutes, resume.name, cleaning, loaded.name, resume_from=str(resume.path))
    except CharlabError as err:
        st.error(md(str(err)), icon=":material/error:")
    else:
        st.rerun()


def continue_note(current: RunInfo | None) -> None:
    """Under the buttons, for an uploaded run: Continue starts its optimizer afresh."""
    if runs.continuable(current) and runs.fresh_optimizer(current.path):
        st.caption(
            "This run was uploaded: Continue keeps everything its network learned, but the optimizer's running "
            "averages are not part of an upload, so they start afresh (the loss may wobble for the first steps)."
        )


def live_section(watched: JobHandle | None) -> None:
    """The live view in a fragment that polls the training: once a second while it trains, every 5 s while it
    waits, never once it has ended (poll_seconds)."""
    poll = poll_seconds(watched)

    @st.fragment(run_every=poll)
    def live() -> None:
        with guard("the live view"):
            run_path = state.RUN_PATH.get()
            now = watched_handle(run_path)
            if poll is not None and poll_seconds(now) != poll:  # it got its place (poll faster) or ended
                rerun_page()
            live_view(now, run_path)

    live()


def scroll_to_live_once() -> None:
    """After a Start, bring the live view on screen (the button may sit below the settings)."""
    if state.SCROLL_TO_LIVE.get():
        state.SCROLL_TO_LIVE.forget()
        scroll_to("live-view")


def live_view(handle: JobHandle | None, run_path: str | None) -> None:
    """The running (or last) training: status, progress, loss chart, latest text it wrote; else the current run."""
    p = handle.job.snapshot() if handle is not None else None
    if p is not None and p.done and state.JOB_SEEN_RUNNING.get():
        rerun_page()  # the job has just ended: redraw the whole page (buttons, My runs, sidebar)
    job_run = allowed_run_info(str(p.run_path)) if p is not None and p.run_path is not None else None
    if p is not None and p.done and p.run_path is not None and job_run is None:
        p = None  # the run it saved was deleted (or is not this session's): nothing of it is left to show
    if p is not None and (not p.done or p.run_path is None or run_path in (None, str(p.run_path))):
        name = md(job_run.name if job_run is not None else handle.job.name)
        st.subheader(f"{'Trained' if p.done else 'Training'} «{name}»", anchor="live-view")
        _job_status(handle, p)
        metrics = _job_metrics(handle, p)
    elif run_path and allowed_run_info(run_path) is not None:
        metrics = _run_metrics(run_path)
        if metrics is None:
            return
    else:
        st.info(
            "Press **Start training**: the loss chart and the model's first attempts at writing appear here.",
            icon=":material/play_arrow:",
        )
        return
    _draw(metrics)


def _job_metrics(handle: JobHandle, p: Progress) -> LiveMetrics:
    """A training's metrics; while it trains the job holds its text, once over the lines come from its run."""
    job = handle.job
    if job.text:
        report = baseline_report(job.text, job.vocab, job.config, p.text_sha256)
    else:
        report = saved_baselines(p.run_path)
    first_loss = p.initial_loss if p.initial_loss is not None else (p.batch_losses[0][1] if p.batch_losses else None)
    if p.first_epoch == 0 and first_loss is not None:  # a fresh network should start near random guessing
        start = check_first_loss(first_loss, len(job.vocab))
        if not start.ok:
            st.warning(f"{start.message} {start.suggestion}", icon=":material/warning:")
    return LiveMetrics(
        history=p.history,
        batch_losses=p.batch_losses,
        epoch_texts=p.epoch_texts,
        timelapse=p.timelapse,
        batches_per_epoch=p.batches_per_epoch,
        first_epoch=p.first_epoch,
        vocab_size=p.vocab_size,
        initial_loss=p.initial_loss,
        writer_start=(p.start_from or {}).get("val_loss"),
        report=report,
        reber=is_reber_text(job.text, job.cleaning) if job.text else saved_run_is_reber(p.run_path),
        step=p.step,
        done=p.done,
    )


def _run_metrics(run_path: str) -> LiveMetrics | None:
    """A saved run's metrics (None, said in words, when it cannot be loaded)."""
    info = allowed_run_info(run_path)
    st.subheader(f"Run «{md(info.name)}»", anchor="live-view")
    st.caption(
        f"{STATUS_WORDS.get(info.status, info.status).capitalize()} · {md(info.corpus_name)} · "
        f"{config_words(info.config)} · {best_loss_words(info.best_loss, info.best_loss_on)}"
    )
    try:
        run = open_run(run_path)
    except CharlabError as err:
        st.info(md(str(err)), icon=":material/info:")
        return None
    report = run.baselines
    if report is None:  # a run saved before runs kept their reference lines: count them if its text is here
        text = run_training_text(run)
        report = baseline_report(text, run.vocab, run.config, run.info.corpus_sha256) if text else None
    history = run.history()
    return LiveMetrics(
        history=history,
        batch_losses=[],
        epoch_texts=run.epoch_texts(),
        timelapse=run.timelapse(),
        batches_per_epoch=0,
        first_epoch=len(history),
        vocab_size=len(run.vocab),
        initial_loss=None,
        writer_start=run.info.writer_start_loss,
        report=report,
        reber=is_reber_run(run),
    )


def _draw(f: LiveMetrics) -> None:
    """The loss chart beside the newest text it wrote, the verdict, the time-lapse and the epochs' texts."""
    table = loss_table(f.history, f.batch_losses, f.batches_per_epoch, f.first_epoch, f.initial_loss, f.writer_start)
    moment = timelapse_position(f.timelapse)
    kept = kept_epoch(f.history)
    chart_column, writing_column = st.columns([3, 2], gap="medium")
    with writing_column:  # beside the chart, so both fit a 1280x720 screen
        newest_text(f, kept)
        seed(state.UNIT_BOX, state.LOSS_UNIT.get())
        unit = (
            st.segmented_control(
                "Show the loss as",
                list(LOSS_UNITS),
                format_func=UNIT_BUTTONS.get,
                key=state.UNIT_BOX.key,
                required=True,
                help=LOSS_UNIT_HELP,
            )
            or "loss"
        )
        state.LOSS_UNIT.set(unit)
    with chart_column:
        if table.empty:
            st.caption("The loss chart appears after the first training steps.")
        else:
            marker = f.timelapse[moment]["epoch"] if moment is not None else None
            spec = loss_chart(
                table,
                f.vocab_size,
                unit,
                f.report,
                marker,
                batches_per_epoch=f.batches_per_epoch,
                label_gap=label_gap(),
                writer_start=f.writer_start,
            )
            chart(spec)
            st.caption(reference_words(f.vocab_size, unit, f.report) + writer_start_words(f.writer_start))
    if not table.empty:
        verdict_view(f.history, f.batch_losses, f.report, f.writer_start)
    if f.timelapse:
        timelapse_view(f.timelapse, moment)
        if f.reber:
            grammar_growth(f.timelapse)
    if f.epoch_texts:
        kept_text_view(f.epoch_texts, kept, f.history, f.done)


# the loss units' buttons beside the chart: short, so the three fit the column on a 1280x720 screen
# (LOSS_UNIT_HELP and the chart's axis say them in full)
UNIT_BUTTONS = {"loss": "Nats", "bits": "Bits", "perplexity": "Perplexity"}


def kept_text_view(epoch_texts: list[dict], kept: KeptEpoch | None, history: list[dict], done: bool) -> None:
    """What the kept network writes (the one Generate uses), and every epoch's text, the kept one marked.

    A training keeps the weights of its best epoch, not its last: on a small text the last network may
    recite the text word for word while the kept one, from long before, writes something else."""
    by_epoch = {written["epoch"]: written for written in epoch_texts}
    shown = by_epoch.get(kept.epoch) if kept is not None else None
    last = epoch_texts[-1]
    if shown is None:  # a run whose best epoch has no text (older runs): the last epoch's, said as such
        st.markdown(f"**What the model writes after epoch {last['epoch']:g}** (temperature {last['temperature']:g})")
        st.html(text_box("", last["text"], height=220))
    else:
        st.markdown(f"**What the kept network writes** (temperature {shown['temperature']:g})")
        last_epoch = history[-1]["epoch"] if history else last["epoch"]
        words = kept_words(kept, last_epoch, so_far=not done)
        st.caption(f"{words.capitalize()}: Generate uses this network.")
        st.html(text_box("", shown["text"], height=220))
    losses = {row.get("epoch"): row for row in history}
    with st.expander("What it wrote after each epoch"):
        for written in reversed(epoch_texts[-40:]):
            row = losses.get(written["epoch"], {})
            on, loss = next(
                ((on, row[key]) for on, key in (("validation", "val_loss"), ("training", "loss")) if _finite(row, key)),
                ("", None),
            )
            metrics = f" · {on} loss {loss:.2f}" if loss is not None else ""
            mark = f" · **kept** (lowest {kept.on} loss; Generate uses it)" if shown is written else ""
            st.caption(f"Epoch {written['epoch']:g}{metrics}{mark}")
            st.html(text_box("", written["text"], height=None))  # wraps long lines, as every text box does


def _finite(row: dict, key: str) -> bool:
    return math.isfinite(row.get(key, float("nan")))


def saved_baselines(run_path) -> BaselineReport | None:
    """The reference lines a run saved when its training began (None for a run that has none)."""
    return runs.read_baselines(run_path) if run_path is not None else None


def newest_text(f: LiveMetrics, kept: KeptEpoch | None) -> None:
    """What the network writes now: the newest of the time-lapse frames (every few seconds) and the epochs'
    texts, with the step it was written at; once training is over, said to be the last network, not the kept."""
    frame = f.timelapse[-1] if f.timelapse else None
    written = f.epoch_texts[-1] if f.epoch_texts else None
    if frame is not None and (written is None or frame.get("epoch", 0) >= written["epoch"]):
        text, epoch = frame["text"], float(frame.get("epoch", 0))
        if frame.get("step", 0) == 0:  # the untrained network's text: not what a network at step 40 writes
            now = f"; the next text comes within seconds, it is at step {f.step:,} now" if f.step else ""
            when, heading = f"before its first step{now}", "What the untrained network wrote"
        else:
            when, heading = timelapse_words(frame), "What it writes now"
    elif written is not None:
        text, epoch = written["text"], float(written["epoch"])
        when, heading = f"after epoch {written['epoch']:g}", "What it writes now"
    else:
        st.caption("Its first attempts at writing appear here within seconds of the first step.")
        return
    if f.done and heading == "What it writes now":
        heading = "What it wrote last"
    st.markdown(f"**{heading}** ({when})")
    st.html(text_box("", text, height=200))
    if f.done and kept is not None and epoch > kept.epoch:
        st.caption(
            f"Written by the network as training ended. The network kept, the one Generate uses, is epoch "
            f"{kept.epoch:g}'s (lowest {kept.on} loss): its text is below."
        )


VERDICT_LOOK = {
    "learning": (st.success, ":material/trending_down:"),
    "plateau": (st.info, ":material/trending_flat:"),
    "overfitting": (st.warning, ":material/warning:"),
    "underfitting": (st.warning, ":material/warning:"),
    "diverged": (st.error, ":material/error:"),
}


def writer_start_words(writer_start: float | None) -> str:
    """For the chart's caption: what a fine-tune's labelled first point is (nothing for a blank network)."""
    if writer_start is None or not math.isfinite(writer_start):
        return ""
    return (
        " The diamond at 0: the writer's loss on this text before its first step here; a blank network starts at "
        "*random*."
    )


def verdict_view(
    history: list[dict],
    batch_losses: list[tuple[int, float]],
    report: BaselineReport | None,
    writer_start: float | None = None,
) -> None:
    """Which reference lines the kept network beats, and the plain-words verdict on where training is going (in a
    fine-tune's words when it started from a writer)."""
    judged = judged_loss(history, batch_losses)
    if report is not None and judged is not None:
        st.caption(beaten_words(report, judged, kept_epoch(history)))
    reference = report.get("unigram").loss if report is not None else None
    found = diagnose(history, batch_losses, reference_loss=reference, writer_start=writer_start)
    if found.verdict == "too early":
        st.caption(found.message)
        return
    show, icon = VERDICT_LOOK.get(found.verdict, (st.info, ":material/info:"))
    words = f"**{found.verdict.capitalize()}.** {found.message}"
    show(f"{words} {found.suggestion}".strip(), icon=icon)


BASELINE_WORDS = {
    "uniform": "guessing at random",
    "unigram": "a model that knows only letter frequencies",
    "context_1": "a model that looks at the previous character",
    "context_2": "a model that looks at the previous 2 characters",
    "context_3": "a model that looks at the previous 3 characters",
}


def beaten_words(report: BaselineReport, loss: float, kept: KeptEpoch | None = None) -> str:
    """e.g. "The kept network (epoch 5, validation loss 1.79) beats a model that looks at the previous
    3 characters." — judged on the network a run keeps, not its last epoch; `kept` None: the training loss
    of a first epoch not yet over."""
    who = (
        f"The kept network (epoch {kept.epoch:g}, {kept.on} loss {loss:.2f})"
        if kept is not None
        else f"Your network (training loss {loss:.2f} now)"
    )
    beaten = {b.key for b in report.beaten_by(loss)}
    best = [b for b in report.baselines if b.key in beaten]
    ahead = [b for b in report.baselines if b.key not in beaten]
    if not best:
        uniform = report.get("uniform").loss if "uniform" in {b.key for b in report.baselines} else None
        figure = f" ({uniform:.2f})" if uniform is not None else ""
        return (
            f":material/flag: {who} is not yet better than {BASELINE_WORDS['uniform']}{figure}: the reference "
            "lines show what simple counting gets on the same text."
        )
    strongest = min(best, key=lambda b: b.loss)
    words = f":material/military_tech: {who} beats {BASELINE_WORDS.get(strongest.key, strongest.label)}"
    if ahead:
        nxt = max(ahead, key=lambda b: b.loss)
        return f"{words}. Next to beat: {nxt.label} ({nxt.loss:.2f})."
    return f"{words}: it uses more than the previous 3 characters."


def timelapse_position(timelapse: list[dict]) -> int | None:
    """The time-lapse entry the slider points at; it follows the newest entry until the user moves it back."""
    if not timelapse:
        return None
    last = len(timelapse) - 1
    chosen = state.TIMELAPSE_BOX.get()
    if not isinstance(chosen, int) or chosen > last or chosen == state.TIMELAPSE_LAST.get():
        chosen = last
    state.TIMELAPSE_BOX.set(chosen)
    state.TIMELAPSE_LAST.set(last)
    return chosen


def timelapse_words(entry: dict) -> str:
    seconds, epoch, step = entry.get("seconds"), entry.get("epoch", 0), entry.get("step", 0)
    return f"after {fmt_duration(seconds)} · epoch {epoch:.2f} · step {step:,}"


def timelapse_view(timelapse: list[dict], moment: int | None) -> None:
    """A slider through the time-lapse frames; the loss chart marks the same moment."""
    st.markdown("**Time-lapse: what the network wrote as it learned**")
    st.caption(
        "The same start and the same dice every time: only the network changed between these texts. "
        "Move the slider; the orange line on the loss chart shows when this text was written."
    )
    if len(timelapse) > 1:
        st.select_slider(
            "Moment in the training",
            options=list(range(len(timelapse))),
            key=state.TIMELAPSE_BOX.key,
            format_func=lambda i: timelapse_words(timelapse[i]),
        )
    entry = timelapse[moment if moment is not None else -1]
    st.caption(timelapse_words(entry).capitalize())
    st.html(text_box("", entry["text"], height=160))


def _job_status(handle: JobHandle, p: Progress) -> None:
    if handle.waiting:
        # every place taken, or (a cluster) no computer that can hold it: charlab.server.jobs says which
        st.info(md(registry().queue.waiting_words(queue_words(handle))), icon=":material/hourglass_top:")
    elif p.status in ("queued", "starting"):
        # the seconds before training: say which step it is at, redrawn four times a second
        st.info(starting_words(p), icon=":material/hourglass_top:")
    elif p.status in ("training", "stopping"):
        st.progress(p.fraction, text=progress_words(p))
        if p.status == "stopping":
            st.caption("Stopping after this batch… what was learned is saved.")
    else:
        message = p.message or STATUS_WORDS.get(p.status, p.status)
        kept = kept_epoch(p.history)
        metrics = (
            f" {best_loss_words(p.best_loss, p.best_loss_on).capitalize()} (the network of epoch {kept.epoch:g}, "
            f"kept) after {fmt_epochs(p.epochs_trained)} in {fmt_duration(p.run_seconds)}."
            if p.history and kept is not None
            else ""
        )
        box = {"finished": st.success, "stopped": st.info, "diverged": st.warning, "interrupted": st.warning}
        box.get(p.status, st.error)(message + metrics, icon=":material/flag:")
