"""The class board (teacher mode): every student's training of the day on the projector, refreshing by itself.

Its metrics come from charlab.server.board; this module only reads the runs' small files, cached by their
modification times, and draws them. A student never gets here: the page is not in their navigation, and
says it is the teacher's if opened anyway.
"""

from __future__ import annotations

import html
from datetime import datetime, time
from pathlib import Path

import pandas as pd
import streamlit as st

from charlab.saving import runs
from charlab.saving.runs import OWNERS_DIR
from charlab.server import board, owners
from ui import state
from ui.charts import board_chart, reference_table
from ui.display import chart
from ui.page_guard import callback
from ui.saved_runs import open_run
from ui.settings import LOSS_UNITS, STATUS_WORDS, TEMPERATURE_HELP
from ui.text import TEXT_BACKGROUND, box, md

# a board watched on the projector redraws every few seconds; a training checkpoints its metrics about as
# often, and each redraw only stats the runs' folders and re-reads the files that changed
BOARD_SECONDS = 5.0
WRITE_LENGTH = 300  # characters: what fits the large box on a projector
BOARD_TEXT_STYLE = "font-size:2rem;line-height:1.4;" + TEXT_BACKGROUND  # read from the back of a classroom
TEXTS_APART = (
    "Curves are compared only on the same text: a loss on one text says nothing about a loss on another, "
    "so choose the text whose trainings to compare."
)


LOSS_COLUMN = {"Best validation loss": st.column_config.NumberColumn(format="%.3f")}


def _file_stamp(path: Path) -> tuple[int, int]:
    """A file's modification time and size: a change of either means its content changed (0, 0: no file)."""
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _runs_stamp(root: Path) -> tuple:
    """Every run folder's config.json time under the root and each owner's workspace: changes when a training
    checkpoints, ends, or a run is added, renamed or deleted."""
    folders = [root, *(f for f in (root / OWNERS_DIR).glob("*") if f.is_dir())]
    return tuple(
        (str(run), _file_stamp(run / "config.json"))
        for folder in folders
        for run in (folder.iterdir() if folder.is_dir() else ())
        if run.is_dir() and run.name != OWNERS_DIR
    )


@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def _rows(root: str, stamp: tuple, since: datetime, minute: int) -> list[board.BoardRow]:
    # `minute`: a training whose server died stays 'training' on disk; its status turns to 'interrupted' by
    # the clock, so the cache is renewed at least once a minute
    return board.board_rows(owners.list_all_runs(root), since)


def board_rows(since: datetime) -> list[board.BoardRow]:
    """Every training running or changed since `since`, over every workspace (cached by file times)."""
    root = runs.workspace()
    return _rows(str(root), _runs_stamp(root), since, int(datetime.now().timestamp() // 60))


@st.cache_data(show_spinner=False, max_entries=256)
def _history(path: str, stamp: tuple) -> list[dict]:
    return runs.read_history(Path(path))


@st.cache_data(show_spinner=False, max_entries=256)
def _epoch_texts(path: str, stamp: tuple) -> list[dict]:
    return runs.read_epoch_texts(Path(path))


@st.cache_data(show_spinner=False, max_entries=64)
def _baselines(path: str, stamp: tuple):
    return runs.read_baselines(path)


@st.cache_data(show_spinner=False, max_entries=16)
def _chart_spec(points: tuple, unit: str, references: pd.DataFrame | None) -> dict:
    # built again only when a curve changed: Altair takes ~85 ms of CPU for 30 students' curves
    # (measured on this 2-core machine), which every board would otherwise spend every BOARD_SECONDS
    spec = board_chart(list(points), unit, references).to_dict()
    spec.pop("config", None)  # Streamlit's theme and the page's width apply, as on the Train page's chart
    return spec


def _histories(rows: list[board.BoardRow]) -> dict[str, list[dict]]:
    return {row.path: _history(row.path, _file_stamp(Path(row.path) / "history.csv")) for row in rows}


def _hidden() -> list[str]:
    return state.BOARD_HIDDEN.get([])


@callback
def hide_row(path: str) -> None:
    """Hide a student's row from the projector (this session only: nothing is deleted)."""
    if path not in _hidden():
        state.BOARD_HIDDEN.set([*_hidden(), path])


@callback
def show_hidden() -> None:
    state.BOARD_HIDDEN.set([])


def rows_table(rows: list[board.BoardRow]) -> pd.DataFrame:
    """The board's table: every name exactly as typed (a dataframe shows text, never Markdown)."""
    return pd.DataFrame(
        [
            {
                "Student": row.nickname,
                "Run": row.run_name,
                "Text": row.text,
                "Model": row.model,
                "Status": STATUS_WORDS.get(row.status, row.status),
                "Minutes": row.minutes,
                "Best validation loss": row.best_val_loss,
            }
            for row in rows
        ],
        columns=["Student", "Run", "Text", "Model", "Status", "Minutes", "Best validation loss"],
    )


def leaderboard_table(rows: list[board.BoardRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Place": place,
                "Student": row.nickname,
                "Best validation loss": row.best_val_loss,
                "Model": row.model,
                "Minutes": row.minutes,
            }  # fmt: skip
            for place, row in enumerate(rows, start=1)
        ],
        columns=["Place", "Student", "Best validation loss", "Model", "Minutes"],
    )


def since_picker() -> datetime:
    """Trainings since midnight, or since a time today the teacher picks (e.g. the lesson's start)."""
    picked = st.time_input("Trainings since", value=time(0, 0), key="board_since", step=900)
    return datetime.combine(board.start_of_today().date(), picked).astimezone()


def class_board() -> None:
    """The whole board; it redraws by itself every BOARD_SECONDS (only this part of the page)."""
    st.fragment(run_every=BOARD_SECONDS)(_live_board)()


def _live_board() -> None:
    since_column, text_column = st.columns([1, 3])
    with since_column:
        since = since_picker()
    every = board_rows(since)
    hidden = [path for path in _hidden() if path in {row.path for row in every}]
    rows = [row for row in every if row.path not in hidden]
    if hidden:
        st.button(f"Show the {len(hidden)} hidden row(s) again", key="board_show_hidden", on_click=show_hidden)
    if not rows:
        st.info(f"No training since {since:%H:%M} yet. The board fills as students train.", icon=":material/info:")
        return
    clicked = clicked_row([row.path for row in rows])
    if clicked is not None:  # a click on a row of "Every training" (drawn last, read here before the choices)
        state.BOARD_STUDENT.set(clicked)
    texts = board.texts(rows)
    if state.BOARD_TEXT.get() not in texts:
        state.BOARD_TEXT.set(next(iter(texts)))
    with text_column:
        text_key = st.selectbox("Text", list(texts), key=state.BOARD_TEXT.key, format_func=texts.get, help=TEXTS_APART)
    st.caption(md(TEXTS_APART))
    chart_column, leader_column = st.columns([1, 1])
    with chart_column:
        _curves(board.on_text(rows, text_key))
    with leader_column:
        st.subheader("Leaderboard")
        leaders = board.leaderboard(rows, text_key)
        if leaders:
            st.dataframe(leaderboard_table(leaders), hide_index=True, width="stretch", column_config=LOSS_COLUMN)
        else:
            st.caption("No validation loss measured on this text yet.")
        _student_text(rows)  # beside the curves: the whole board fits a 1280x720 projector
    st.subheader("Every training")
    st.caption("Click a row to show what that network writes.")
    st.dataframe(
        rows_table(rows),
        hide_index=True,
        width="stretch",
        column_config=LOSS_COLUMN,
        key=state.BOARD_ROWS.key,
        on_select="rerun",
        selection_mode="single-row",
    )


def clicked_row(paths: list[str]) -> str | None:
    """The training of the row just clicked in "Every training", once per click: the table's selection stays in
    session state after it, and must not undo a later choice in the Student box."""
    selection = state.BOARD_ROWS.get()
    chosen = list(((selection or {}).get("selection") or {}).get("rows") or []) if hasattr(selection, "get") else []
    if chosen == state.BOARD_ROWS_APPLIED.get([]):
        return None
    state.BOARD_ROWS_APPLIED.set(chosen)
    return paths[chosen[0]] if chosen and 0 <= chosen[0] < len(paths) else None


def _curves(rows: list[board.BoardRow]) -> None:
    unit = state.LOSS_UNIT.get("loss")
    points = board.curve_points(rows, _histories(rows))
    if not points:
        st.caption("No epoch finished on this text yet: the curves appear after each training's first epoch.")
        return
    newest = rows[0]  # the text's reference lines, measured as the newest training on it measured them
    report = _baselines(newest.path, _file_stamp(Path(newest.path) / "config.json"))
    references = reference_table(newest.vocab_size, unit, report) if newest.vocab_size else None
    chart(_chart_spec(tuple(points), unit, references))
    st.caption(f"Validation {LOSS_UNITS[unit].lower()}: one line per training. Dashed: what simple counting scores.")


def _student_text(rows: list[board.BoardRow]) -> None:
    """What one student's network writes, in large print, exactly as written: the newest epoch's text, or a
    text written now at the teacher's temperature."""
    st.subheader("What a network writes")
    labels = {row.path: f"{row.nickname} · {row.run_name}" for row in rows}
    if state.BOARD_STUDENT.get() not in labels:
        state.BOARD_STUDENT.set(rows[0].path)
    path = st.selectbox("Student", list(labels), key=state.BOARD_STUDENT.key, format_func=labels.get)
    temperature_column, write_column = st.columns([3, 2], vertical_alignment="bottom")
    with temperature_column:
        temperature = st.slider("Temperature", 0.2, 1.5, 0.8, 0.1, key="board_temperature", help=TEMPERATURE_HELP)
    with write_column:
        st.button("Write now", key="board_write", on_click=write_now, args=(path, temperature), width="stretch")
    now = state.BOARD_WRITTEN.get()
    if now is not None and now["path"] == path:
        st.caption(f"Written just now at temperature {now['temperature']:g}.")
        st.html(box("charlab-board-text", html.escape(now["text"]), 360, BOARD_TEXT_STYLE))
    else:
        written = board.newest_epoch_text(_epoch_texts(path, _file_stamp(Path(path) / "epoch_texts.json")))
        if written is None:
            st.caption("This training has not finished its first epoch yet.")
        else:
            epoch, at = float(written["epoch"]), written.get("temperature", "")
            st.caption(f"Written at the end of epoch {epoch:g}, at temperature {at}.")
            st.html(box("charlab-board-text", html.escape(written["text"]), 360, BOARD_TEXT_STYLE))
    st.button("Hide this row from the projector", key="board_hide", on_click=hide_row, args=(path,))


@callback
def write_now(path: str, temperature: float) -> None:
    """A new text from the student's kept network (numpy, no TensorFlow), shown until another student is chosen."""
    text = open_run(path).generator().write("", WRITE_LENGTH, temperature=temperature)
    state.BOARD_WRITTEN.set({"path": path, "temperature": temperature, "text": text})
