"""The class board's data: which trainings it lists, texts kept apart, the leaderboard's order, curves, labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from charlab.network.model import ModelConfig
from charlab.saving import runs
from charlab.server import board
from charlab.server.owners import list_all_runs, owner_workspace

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)


def info(
    name: str,
    loss: float | None = 1.5,
    text: str = "cats.txt",
    sha: str = "aaa",
    status: str = "finished",
    hours_ago: float = 1,
    seconds: float = 120,
    **model,
) -> runs.RunInfo:
    when = (NOON - timedelta(hours=hours_ago)).isoformat(timespec="seconds")
    figures = {"best_loss": loss, "best_loss_on": runs.VALIDATION, "train_seconds": seconds}
    return runs.RunInfo(
        path=Path("/runs") / name,
        name=name,
        status=status,
        created=when,
        updated=when,
        corpus_name=text,
        corpus_sha256=sha,
        config=ModelConfig(**model),
        metrics=figures,
    )


def test_the_board_lists_todays_and_running_trainings_newest_first_and_skips_the_rest():
    pairs = [
        ("Alice", info("a", hours_ago=1)),
        ("Bob", info("b", hours_ago=3)),
        ("Cleo", info("c", hours_ago=30)),  # yesterday
        ("Dan", info("d", hours_ago=30, status="training")),  # started yesterday, still going
        ("Eve", runs.RunInfo(path=Path("/runs/e"), name="e", status="damaged", damaged="broken")),
        ("", info("f", hours_ago=2)),  # the root workspace: nobody's
    ]
    rows = board.board_rows(pairs, SINCE)
    assert [r.nickname for r in rows] == ["Alice", board.NO_NAME, "Bob", "Dan"]
    assert "c" in [r.run_name for r in board.board_rows(pairs, SINCE - timedelta(days=2))]  # a time the teacher picks


def test_a_row_says_nickname_text_model_status_minutes_and_best_validation_loss():
    row = board.board_rows(
        [("Zoé <b>", info("my *run*", loss=1.234, seconds=150, cell="gru", units=256, layers=2))], SINCE
    )[0]
    assert (row.nickname, row.run_name, row.text) == ("Zoé <b>", "my *run*", "cats.txt")
    assert (row.model, row.status, row.minutes, row.best_val_loss) == ("2×GRU 256", "finished", 2.5, 1.234)


def test_a_run_without_validation_text_or_an_epoch_has_no_best_validation_loss():
    no_validation = info("t", loss=1.0)
    no_validation.metrics["best_loss_on"] = runs.TRAINING
    rows = board.board_rows(
        [("A", no_validation), ("B", info("n", loss=None)), ("C", info("x", loss=float("nan")))], SINCE
    )
    assert [r.best_val_loss for r in rows] == [None, None, None]


def test_texts_are_told_apart_by_content_not_name_the_most_trained_on_first():
    rows = board.board_rows(
        [
            ("A", info("a", text="cats.txt", sha="one")),
            ("B", info("b", text="shakespeare", sha="two")),
            ("C", info("c", text="shakespeare", sha="two")),
            ("D", info("d", text="cats.txt", sha="three")),  # another text with the same name
        ],
        SINCE,
    )
    assert board.texts(rows) == {"two": "shakespeare", "one": "cats.txt", "three": "cats.txt (2)"}
    assert [r.nickname for r in board.on_text(rows, "one")] == ["A"]


def test_the_leaderboard_puts_the_lowest_validation_loss_first_on_one_text_only():
    rows = board.board_rows(
        [
            ("Slow", info("s", loss=1.2, seconds=600)),
            ("Best", info("b", loss=0.9, seconds=300)),
            ("Quick", info("q", loss=1.2, seconds=60)),  # a tie: the shorter training first
            ("None yet", info("n", loss=None)),
            ("Other text", info("o", loss=0.1, sha="bbb")),
        ],
        SINCE,
    )
    assert [r.nickname for r in board.leaderboard(rows, "aaa")] == ["Best", "Quick", "Slow"]
    assert [r.nickname for r in board.leaderboard(rows, "bbb")] == ["Other text"]


def test_one_curve_per_student_named_by_run_when_a_student_has_several():
    rows = board.board_rows([("Ann", info("first")), ("Ann", info("second")), ("Ben", info("b"))], SINCE)
    histories = {
        "/runs/first": [{"epoch": 1.0, "val_loss": 2.0}, {"epoch": 2.0, "val_loss": 1.8}],
        "/runs/second": [{"epoch": 1.0, "val_loss": float("nan")}],  # not measured: no point
        "/runs/b": [{"epoch": 1.0, "val_loss": 1.9}],
    }
    assert sorted(board.curve_points(rows, histories)) == [
        ("Ann · first", 1.0, 2.0),
        ("Ann · first", 2.0, 1.8),
        ("Ben", 1.0, 1.9),
    ]


def test_the_newest_epoch_text_is_the_latest_epochs():
    texts = [{"epoch": 2, "text": "two"}, {"epoch": 10, "text": "ten"}, {"epoch": 3, "text": "three"}]
    assert board.newest_epoch_text(texts)["text"] == "ten"
    assert board.newest_epoch_text([]) is None


def test_the_board_reads_real_runs_of_every_workspace(trained_run, tmp_path):
    import shutil

    for nickname in ("Alice", "Bob"):
        shutil.copytree(trained_run, owner_workspace(tmp_path, nickname) / trained_run.name)
    rows = board.board_rows(list_all_runs(tmp_path), board.start_of_today())
    assert sorted(r.nickname for r in rows) == ["Alice", "Bob"]
    assert len(board.texts(rows)) == 1 and rows[0].text == "cats.txt" and rows[0].best_val_loss is not None
    assert rows[0].text_key == runs.read_meta(trained_run)["corpus"]["sha256"]
