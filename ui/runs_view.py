"""My runs: the runs table; loading, renaming, deleting, downloading (a .zip, a web page) and uploading runs;
comparing them."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from charlab.errors import CharlabError
from charlab.learning import writers
from charlab.network.model import MODEL_SETTINGS
from charlab.saving import archives, runs
from ui import state
from ui.charts import compare_chart
from ui.display import chart
from ui.job_registry import is_running
from ui.limits import server_limits, upload_box_mb
from ui.owners import check_run_allowed, is_teacher, owners_enabled, session_workspace
from ui.saved_runs import all_runs, run_labels, runs_table, web_page_download
from ui.settings import LOSS_UNITS, settings_from_config
from ui.start_from import BLANK, WRITER
from ui.text import md
from ui.widget_state import is_hidden, reseed, take_upload


def my_runs() -> None:
    """Every saved run: table, load, rename, delete (confirmed), download, upload, compare."""
    infos = all_runs()
    if is_teacher():
        st.caption(":material/school: Teacher mode: everyone's runs, with their owner.")
    elif owners_enabled() and runs.list_runs(runs.workspace()):
        st.caption(
            ":material/info: Older runs saved without a name are not listed here: the teacher can see them, "
            "or start charlab with CHARLAB_OWNERS=0 to work as a single user."
        )
    if not infos:
        st.caption("No runs yet. Every training is saved here when it ends or is stopped.")
    else:
        _runs_manage(infos)
        _runs_compare(infos)
    with st.expander("Add a run from a .zip", icon=":material/upload:"):
        limit = server_limits()
        upload = st.file_uploader(
            f"A run downloaded from charlab (.zip, at most {limit.run_upload_mb:g} MB)",
            type=["zip"],
            key="runs_upload",
            max_upload_size=upload_box_mb(limit.run_upload_mb),
        )
        take_upload(upload, "runs_upload", lambda f: _add_run(f, limit))


def _runs_manage(infos: list[runs.RunInfo]) -> None:
    """The runs table, then what can be done with the one picked: load, download, delete, rename."""
    st.dataframe(
        runs_table(infos, owners=is_teacher()),
        hide_index=True,
        width="stretch",
        column_config={
            "Best validation loss": st.column_config.NumberColumn(format="%.3f"),
            "Epochs": st.column_config.NumberColumn(format="%d"),
        },
    )
    info = _picked_run(infos)
    pick = str(info.path)
    if info.damaged:
        st.warning(f"This run cannot be used: {md(info.damaged)}", icon=":material/warning:")
    load, download, web_page, delete = st.columns([1, 1, 1.4, 1])
    if load.button(
        "Load",
        key="runs_load",
        icon=":material/open_in_new:",
        disabled=info.damaged is not None,
        width="stretch",
        help="Make it the current run: Generate uses it, Continue trains it further.",
    ):
        _load(info)
    note = state.RUNS_LOADED_NOTE.get()
    state.RUNS_LOADED_NOTE.forget()
    if note:
        st.success(note, icon=":material/check_circle:")
    download.download_button(
        "Download .zip",
        data=lambda: archives.export_zip(pick),
        key="runs_download",
        file_name=f"{runs.slugify(info.name)}.zip",
        mime="application/zip",
        icon=":material/download:",
        width="stretch",
    )
    web_page_download(web_page, info, "runs_web_page")
    if delete.button("Delete…", key="runs_delete", icon=":material/delete:", width="stretch"):
        state.RUNS_CONFIRM_DELETE.set(pick)
    if state.RUNS_CONFIRM_DELETE.get() == pick:
        _confirm_delete(info)
    _rename(info)


def _add_run(upload, limit) -> str:
    """An uploaded run archive, checked and added to this session's runs; it becomes the current run (unless
    a training is running: the run being trained stays current)."""
    limit.check_run_upload(upload.size, upload.name)
    with st.spinner("Checking the archive…"):
        added = archives.import_zip(upload.getvalue(), session_workspace())
    if is_running():
        return f"Added «{added.name}» to My runs."
    _make_current(added)
    return f"Added «{added.name}» to My runs: it is the current run, Generate uses it."


def _picked_run(infos: list[runs.RunInfo]) -> runs.RunInfo:
    """The run the picker shows: it follows a new current run, so Delete and Rename never act on an older pick."""
    by_path = {str(info.path): info for info in infos}
    paths = list(by_path)
    current = state.RUN_PATH.get()
    if current in paths and state.RUNS_FOLLOWED.get() != current:
        # a new current run (a training started or ended, a run loaded): the picker follows it, so
        # Download, Delete and Rename never act on the run chosen before
        state.RUNS_FOLLOWED.set(current)
        state.RUNS_PICK.set(current)
        state.RUNS_CONFIRM_DELETE.set(None)
    if state.RUNS_PICK.get() not in paths:
        state.RUNS_PICK.set(current if current in paths else paths[0])
    labels = run_labels(infos)
    return by_path[st.selectbox("Choose a run", paths, key=state.RUNS_PICK.key, format_func=labels.get)]


def _load(info: runs.RunInfo) -> None:
    """Load: the run becomes the current one."""
    _make_current(info)
    # said beside the button after the rerun (a toast lasts 4 s and is easily missed on a projector)
    state.RUNS_LOADED_NOTE.set(f"Loaded «{md(info.name)}»: its settings are on this page and Generate uses it.")
    st.rerun()


def _make_current(info: runs.RunInfo) -> None:
    """Make the run the current one, with its settings on the Train page (a lesson's hidden ones stay)."""
    check_run_allowed(info.path)
    state.RUN_PATH.set(str(info.path))
    fixed = {name: getattr(state.SETTINGS.get(), name) for name in MODEL_SETTINGS if is_hidden(name)}
    state.SETTINGS.set(replace(settings_from_config(info.config), **fixed))
    state.MINUTES.set(None)  # a run's files do not say how long it trained by the clock: its epochs stand
    state.PRESET.set(None)
    origin = runs.read_meta(info.path).get(writers.ORIGIN_KEY)  # a run fine-tuned from the classics writer
    from_writer = isinstance(origin, dict) and origin.get("run_id") == writers.CLASSICS_WRITER
    state.START_FROM.set(WRITER if from_writer else BLANK)
    reseed("settings")
    state.PRESET_BOX.forget()  # the Train page's controls redraw from the run's choices
    state.START_FROM_BOX.forget()


def _confirm_delete(info: runs.RunInfo) -> None:
    """Delete asks once, naming the run, before anything is lost."""
    pick = str(info.path)
    st.warning(f"Delete «{md(info.name)}» and its model for good? This cannot be undone.", icon=":material/delete:")
    yes, no, _ = st.columns([1, 1, 3])
    if yes.button("Yes, delete", type="primary", key="runs_delete_yes", width="stretch"):
        state.RUNS_CONFIRM_DELETE.set(None)
        try:
            check_run_allowed(pick)
            runs.delete_run(pick)  # refuses a run that is still training, in plain words
        except CharlabError as err:
            st.error(md(str(err)), icon=":material/error:")
        else:
            if state.RUN_PATH.get() == pick:
                state.RUN_PATH.set(None)
            st.toast(f"Deleted «{md(info.name)}».")
            st.rerun()
    if no.button("Cancel", key="runs_delete_no", width="stretch"):
        state.RUNS_CONFIRM_DELETE.set(None)
        st.rerun()


def _rename(info: runs.RunInfo) -> None:
    name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    new_name = name_column.text_input("New name", key="runs_new_name", max_chars=80, placeholder=info.name)
    if button_column.button("Rename", key="runs_rename", icon=":material/edit:", width="stretch"):
        try:
            check_run_allowed(info.path)
            runs.rename_run(info.path, new_name)  # plain-words error for an empty or too long name
        except CharlabError as err:
            st.error(md(str(err)), icon=":material/error:")
        else:
            st.toast(f"Renamed to «{md(new_name.strip())}».")
            st.rerun()


def _runs_compare(infos: list[runs.RunInfo]) -> None:
    st.subheader("Compare runs")
    usable = {str(info.path): info for info in infos if info.damaged is None}
    if not usable:
        return
    labels = run_labels(usable.values())
    current = state.RUN_PATH.get()
    if state.RUNS_COMPARE.is_set():  # the user's choice, even an empty one, minus runs deleted since
        state.RUNS_COMPARE.set([p for p in state.RUNS_COMPARE.get() if p in usable])
    else:
        state.RUNS_COMPARE.set([current] if current in usable else list(usable)[:1])
    if current in usable and state.RUNS_COMPARE_FOLLOWED.get() != current:
        state.RUNS_COMPARE_FOLLOWED.set(current)  # a new current run joins the overlay (the newest 8 are kept)
        state.RUNS_COMPARE.set([p for p in state.RUNS_COMPARE.get() if p != current][-7:] + [current])
    chosen = st.multiselect(
        "Runs to overlay",
        list(usable),
        key=state.RUNS_COMPARE.key,
        max_selections=8,
        format_func=labels.get,
        help="Solid lines: validation loss; dashed: training loss (per epoch).",
    )
    histories = {}
    for path in chosen:
        label = labels[path]
        histories[label if label not in histories else f"{label} ({len(histories) + 1})"] = runs.read_history(path)
    if any(histories.values()):
        unit = state.LOSS_UNIT.get("loss")
        chart(compare_chart(histories, unit))
        st.caption(
            f"Shown as {LOSS_UNITS[unit].lower()} (switch above the live chart). Lower is better; "
            "compare validation lines to see which settings generalise best."
        )
    elif chosen:
        st.caption("These runs have no finished epoch yet.")
