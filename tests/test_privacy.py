"""What a server keeps and how it lets go: one student's everything, a class's, and runs past CHARLAB_KEEP_DAYS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from charlab import environment
from charlab.errors import CharlabError
from charlab.network.model import ModelConfig
from charlab.saving import runs
from charlab.server import owners, privacy
from charlab.text.vocab import Vocab

TEXT = "the cat sat on the mat.\n"


def saved_run(folder, name: str, status: str = "finished", updated: datetime | None = None):
    path = runs.create_run(folder, name, ModelConfig(units=8), Vocab.from_text(TEXT), "keep", "cats.txt", "0" * 64, 24)
    runs.update_meta(path, status=status)
    if updated is not None:
        meta = runs.read_meta(path)
        meta["updated"] = updated.isoformat(timespec="seconds")
        runs.write_json_atomic(path / "config.json", meta)
    return path


def test_deleting_a_students_workspace_leaves_nothing_of_them_and_nothing_of_others(tmp_path):
    zoe, sam = owners.owner_workspace(tmp_path, "Zoé"), owners.owner_workspace(tmp_path, "Sam")
    saved_run(zoe, "poems"), saved_run(zoe, "songs"), saved_run(sam, "sam's")
    assert privacy.delete_workspace(zoe) == 2
    assert not zoe.exists()  # the folder with her nickname (owner.json) too
    assert [info.name for info in runs.list_runs(sam)] == ["sam's"]
    assert privacy.delete_workspace(zoe) == 0  # already gone: nothing to do
    assert privacy.delete_workspace(tmp_path / "owners" / "~never-saved") == 0


def test_nothing_is_deleted_while_a_run_trains(tmp_path):
    zoe = owners.owner_workspace(tmp_path, "Zoé")
    saved_run(zoe, "done")
    training = saved_run(zoe, "learning", status="training")
    runs.mark_active(training, True)
    try:
        with pytest.raises(CharlabError, match=r"still training \(«learning»\)\. Stop it first.*nothing was deleted"):
            privacy.delete_workspace(zoe)
        with pytest.raises(CharlabError, match="still training"):
            privacy.delete_every_workspace(tmp_path)
        assert len(runs.list_runs(zoe)) == 2
    finally:
        runs.mark_active(training, False)


def test_the_end_of_term_deletes_every_workspace_and_the_roots_own_runs(tmp_path):
    for nickname in ("Zoé", "Sam", None):
        saved_run(owners.owner_workspace(tmp_path, nickname, key="tab"), "a run")
    saved_run(tmp_path, "from the command line")
    assert privacy.delete_every_workspace(tmp_path) == 4
    assert runs.list_runs(tmp_path) == [] and list((tmp_path / "owners").iterdir()) == []


def test_runs_past_the_days_kept_are_removed_and_newer_ones_stay(tmp_path):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    zoe, sam = owners.owner_workspace(tmp_path, "Zoé"), owners.owner_workspace(tmp_path, "Sam")
    saved_run(zoe, "old", updated=now - timedelta(days=31))
    saved_run(sam, "old too", updated=now - timedelta(days=40))
    saved_run(sam, "recent", updated=now - timedelta(days=29))
    saved_run(tmp_path, "cli old", updated=now - timedelta(days=31))
    still = saved_run(zoe, "old but training", status="training", updated=now - timedelta(days=90))
    runs.mark_active(still, True)
    try:
        removed = privacy.remove_expired(30, tmp_path, now=now + timedelta(days=0))
    finally:
        runs.mark_active(still, False)
    assert sorted(removed) == ["cli old", "old", "old too"]
    assert [i.name for i in runs.list_runs(sam)] == ["recent"]
    assert [i.name for i in runs.list_runs(zoe)] == ["old but training"]
    far_later = datetime.now(UTC) + timedelta(days=400)  # Zoé's folder goes with her last run, not before
    privacy.remove_expired(30, tmp_path, now=far_later)
    assert not zoe.exists() and not sam.exists()


@pytest.mark.parametrize(("value", "days"), [("", None), ("30", 30.0), (" 0.5 ", 0.5)])
def test_keep_days_is_read_from_the_environment(monkeypatch, value, days):
    monkeypatch.setenv("CHARLAB_KEEP_DAYS", value)
    assert environment.keep_days() == days


@pytest.mark.parametrize("value", ["thirty", "0", "-3", "nan", "inf", "99999"])
def test_a_bad_keep_days_is_refused_in_words_naming_it(monkeypatch, value):
    monkeypatch.setenv("CHARLAB_KEEP_DAYS", value)
    with pytest.raises(CharlabError, match=f"CHARLAB_KEEP_DAYS must be a number of days above 0.*not '{value}'"):
        environment.keep_days()
