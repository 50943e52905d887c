"""My runs on the Train page in AppTest: load, rename, download, upload, delete and compare runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from app_pages import (
    APP_FIXTURES,
    TINY,
    chart_data,
    contains,
    go,
    open_app,
    plain,
    run,
    runs_table,
    set_tiny_settings,
    sidebar_text,
    texts,
    upload_text,
    wait_done,
)

from charlab.saving import archives, runs
from ui.saved_runs import run_label

pytestmark = APP_FIXTURES


def test_my_runs_load_rename_download_and_delete(with_run, workspace):
    at = open_app("train")
    assert list(runs_table(at)["Name"]) == ["Tiny cats"]
    assert at.download_button(key="runs_download").label == "Download .zip"
    web_page = at.download_button(key="runs_web_page")
    assert web_page.label == "Download as a web page" and not web_page.proto.disabled

    run(at.button(key="runs_load").click())
    assert at.session_state["run_path"] == str(with_run)
    assert "Run «Tiny cats»" in map(plain, texts(at.subheader))  # the live view shows the loaded run's curves
    assert set(chart_data(at, "series")["epoch"]) >= {1, 2}
    assert at.session_state["settings"].units == 16 and at.select_slider(key="settings_units").value == 16
    assert "Tiny cats" in sidebar_text(at)

    at.text_input(key="runs_new_name").input("   ")
    run(at.button(key="runs_rename").click())
    assert contains(at.error, "Give the run a name")
    at.text_input(key="runs_new_name").input("Renamed cats")
    run(at.button(key="runs_rename").click())
    assert runs.run_info(with_run).name == "Renamed cats"
    assert list(runs_table(at)["Name"]) == ["Renamed cats"]
    assert "Renamed cats" in sidebar_text(at)

    run(at.button(key="runs_delete").click())
    assert contains(at.warning, "Delete «Renamed cats»")
    run(at.button(key="runs_delete_no").click())
    assert with_run.exists() and not contains(at.warning, "Delete «")
    run(at.button(key="runs_delete").click())
    run(at.button(key="runs_delete_yes").click())
    assert not with_run.exists() and runs.list_runs(workspace) == []
    assert contains(at.caption, "No runs yet")
    assert at.session_state["run_path"] is None
    assert "No run yet" in " ".join(texts(at.sidebar.caption))


def test_my_runs_follow_the_newest_run_and_names_stay_fresh(workspace):
    """Seen in a browser: after a second training, Delete acted on the first run; Rename and Delete left stale names."""
    at = open_app()
    upload_text(at)
    go(at, "train")
    set_tiny_settings(at, epochs=1)
    for name in ("first", "second"):
        at.text_input(key="train_run_name").input(name)
        run(at.button(key="train_start").click())
        wait_done(at)
    second = at.session_state["run_path"]
    assert runs.run_info(second).name == "second"
    assert at.selectbox(key="runs_pick").value == second  # Download, Delete and Rename act on the newest run
    assert second in at.multiselect(key="runs_compare").value
    run(at.button(key="runs_delete").click())
    assert contains(at.warning, "Delete «second»")
    run(at.button(key="runs_delete_no").click())

    at.text_input(key="runs_new_name").input("renamed second")
    run(at.button(key="runs_rename").click())
    headings = " ".join(map(plain, texts(at.subheader)))
    assert "renamed second" in headings and "«second»" not in headings  # the live heading follows
    assert at.selectbox(key="runs_pick").value == second
    assert "renamed second" in at.selectbox(key="runs_pick").format_func(second)
    assert "renamed second" in sidebar_text(at)

    run(at.button(key="runs_delete").click())
    run(at.button(key="runs_delete_yes").click())
    assert not at.error, texts(at.error)
    assert not Path(second).exists() and at.session_state["run_path"] is None
    assert "No run yet" in " ".join(texts(at.sidebar.caption))
    assert "renamed second" not in " ".join(map(plain, texts(at.subheader)))  # its chart and samples are gone
    assert not contains(at.markdown, "What the kept network writes")
    assert [info.name for info in runs.list_runs(workspace)] == ["first"]
    assert at.selectbox(key="runs_pick").value == str(runs.list_runs(workspace)[0].path)


def test_uploading_a_run_zip_adds_it_and_a_bad_zip_is_refused(trained_run, workspace):
    at = open_app("train")
    zipped = archives.export_zip(trained_run)
    run(at.file_uploader(key="runs_upload").upload("tiny-cats.zip", zipped, "application/zip"))
    assert "Added «Tiny cats» to My runs: it is the current run, Generate uses it." in map(plain, texts(at.success))
    [info] = runs.list_runs(workspace)
    assert info.name == "Tiny cats" and info.damaged is None
    assert list(runs_table(at)["Name"]) == ["Tiny cats"]
    # it is the current run at once, with no Load (the sidebar said "No run yet" until Load)
    assert at.session_state["run_path"] == str(info.path) and "Tiny cats" in sidebar_text(at)
    assert at.session_state["settings"].units == TINY["units"] and at.select_slider(key="settings_units").value == 16
    assert "Run «Tiny cats»" in map(plain, texts(at.subheader))
    assert contains(at.caption, "This run was uploaded: Continue keeps everything its network learned")

    run(at.file_uploader(key="runs_upload").upload("broken.zip", b"PK\x03\x04 not really a zip", "application/zip"))
    assert contains(at.error, "This file is not a .zip archive")
    assert len(runs.list_runs(workspace)) == 1


def test_a_damaged_run_is_listed_but_cannot_be_used(with_run, workspace):
    broken = workspace / "broken-run"
    broken.mkdir()
    (broken / "config.json").write_text("{ not json", encoding="utf-8")
    at = open_app("train")
    table = runs_table(at)
    assert sorted(table["Status"]) == ["damaged (no model)", "finished"]
    run(at.selectbox(key="runs_pick").set_value(str(broken)))
    assert contains(at.warning, "This run cannot be used")
    assert at.button(key="runs_load").disabled
    assert at.multiselect(key="runs_compare").options == [run_label(runs.run_info(with_run))]
    go(at, "generate")  # Generate offers only the usable run
    assert at.selectbox(key="generate_run").options == [run_label(runs.run_info(with_run))]


def test_compare_overlays_the_chosen_runs(with_run, workspace):
    other = Path(shutil.copytree(with_run, workspace / "other-run"))
    runs.rename_run(other, "Other cats")
    at = open_app("train")
    compare = at.multiselect(key="runs_compare")
    assert len(compare.value) == 1
    run(compare.set_value([str(with_run), str(other)]))
    frame = chart_data(at, "run")
    assert len(set(frame["run"])) == 2
    assert set(frame["curve"]) == {"Training", "Validation"} and set(frame["epoch"]) == {1, 2}


def test_a_run_too_big_for_a_web_page_says_why_on_its_greyed_button(workspace):
    from webpage_runs import make_run

    make_run(workspace, units=1024, layers=2, name="Huge")
    at = open_app("train")
    web_page = at.download_button(key="runs_web_page")
    assert web_page.proto.disabled
    assert "too big to open quickly" in web_page.proto.help and "Huge" in web_page.proto.help
    assert not at.download_button(key="runs_download").proto.disabled  # the .zip still downloads
