"""The Privacy page in AppTest: what the server keeps in plain words, and deleting everything of one's own
(nothing of it left on disk) or, for the teacher, the whole class's."""

from __future__ import annotations

from app_pages import APP_FIXTURES, contains, go, job, open_app, run, set_tiny_settings, texts, upload_text, wait_done
from test_app_owners import named

import ui.privacy
import ui.state as state
from charlab.saving import runs
from charlab.server import owners as charlab_owners

pytestmark = APP_FIXTURES

# a text whose words appear nowhere else: any copy of it on disk would be found
DIARY = "Marguerite's secret diary: the zebra quilt of Ulvhild, page 7.\n" * 40
MARKER = b"zebra quilt of Ulvhild"


def files_holding(folder, needle: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def train_tiny(at):
    go(at, "train")
    set_tiny_settings(at, epochs=1)
    run(at.button(key="train_start").click())
    return wait_done(at)


def test_the_page_says_what_is_kept_in_plain_words(owners, monkeypatch):
    monkeypatch.setenv("CHARLAB_KEEP_DAYS", "30")
    at = go(named("Zoé"), "privacy")
    assert texts(at.title) == ["What this server keeps"]
    for words in ("never written to its disk", "removed by the server **30 days** after", "Sent elsewhere.",
                  "named by the nickname", "No teacher password is set"):  # fmt: skip
        assert contains(at.markdown, words), words
    assert "privacy_delete_mine" not in [b.key for b in at.button]  # the button waits for the toggle


def test_delete_everything_of_mine_leaves_nothing_of_it_on_disk_and_nothing_of_others(owners, tmp_path):
    sam = named("Sam")
    upload_text(sam)
    train_tiny(sam)
    zoe = named("Zoé")
    upload_text(zoe, DIARY, "diary.txt")
    train_tiny(zoe)
    zoe_folder = charlab_owners.owner_workspace(owners, "Zoé", create=False)
    assert len(runs.list_runs(zoe_folder)) == 1

    go(zoe, "privacy")
    run(zoe.toggle(key="privacy_confirm_mine").set_value(True))  # asked once
    run(zoe.button(key="privacy_delete_mine").click())
    assert contains(zoe.success, "Deleted: 1 run, the text you chose and your nickname.")
    assert not zoe_folder.exists(), [str(p) for p in zoe_folder.rglob("*")]
    assert files_holding(owners, MARKER) == [] and files_holding(owners, b"Zo\xc3\xa9") == []
    assert zoe.session_state["corpus"] is None and zoe.session_state["run_path"] is None
    held = {key: zoe.session_state[key] for key in state.VALUES if key in zoe.session_state}
    assert {key: v for key, v in held.items() if not isinstance(v, state.VALUES[key].kinds)} == {}  # nickname was None
    assert zoe.toggle(key="privacy_confirm_mine").value is False  # the next delete is asked again
    assert len(runs.list_runs(charlab_owners.owner_workspace(owners, "Sam", create=False))) == 1


def test_a_running_training_is_not_deleted_under_its_student(owners):
    zoe = named("Zoé")
    upload_text(zoe)
    go(zoe, "train")
    set_tiny_settings(zoe, epochs=500)
    run(zoe.button(key="train_start").click())
    training = job(zoe)
    go(zoe, "privacy")
    run(zoe.toggle(key="privacy_confirm_mine").set_value(True))
    run(zoe.button(key="privacy_delete_mine").click())
    assert contains(zoe.error, "Your training is still running. Stop it first, then delete; nothing was deleted.")
    assert not training.done
    training.stop()
    assert training.wait(120)


def test_the_teacher_deletes_every_students_data_at_the_end_of_term(owners, monkeypatch):
    monkeypatch.setenv("CHARLAB_TEACHER_PASSWORD", "owl-42")
    for nickname in ("Sam", "Zoé"):
        student = named(nickname)
        upload_text(student)
        train_tiny(student)
    student = go(named("Sam"), "privacy")
    assert "privacy_confirm_class" not in [t.key for t in student.toggle]  # students never see it
    teacher = open_app_as_teacher()
    go(teacher, "privacy")
    run(teacher.toggle(key="privacy_confirm_class").set_value(True))
    run(teacher.button(key="privacy_delete_class").click())
    assert contains(teacher.success, "Deleted every student's data: 2 runs.")
    assert [p for p in (owners / "owners").iterdir()] == []


def test_a_bad_keep_days_stops_the_app_in_words(owners, monkeypatch):
    monkeypatch.setenv("CHARLAB_KEEP_DAYS", "a month")
    at = open_app()
    assert contains(at.error, "CHARLAB_KEEP_DAYS must be a number of days above 0")


def open_app_as_teacher():
    at = named("Miss T")
    return run(at.text_input(key="teacher_password_input").input("owl-42"))


def test_old_runs_are_removed_by_the_server_itself(owners, monkeypatch, trained_run):
    import shutil

    old = shutil.copytree(trained_run, charlab_owners.owner_workspace(owners, "Zoé") / "old-run")
    meta = runs.read_meta(old)
    meta["updated"] = "2020-01-01T00:00:00+00:00"
    runs.write_json_atomic(old / "config.json", meta)
    monkeypatch.setenv("CHARLAB_KEEP_DAYS", "30")
    monkeypatch.setitem(ui.privacy._last_expiry, "at", float("-inf"))
    named("Sam")  # any page load by anyone
    assert not old.exists()
