"""The class board in AppTest: the teacher sees every student's training, the leaderboard, a student's text in large
print and can hide a row; a student gets no board and never sees another student's nickname."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from app_pages import APP_FIXTURES, ROOT, charts, check, contains, go, run, wait_done, wait_until
from streamlit.testing.v1 import AppTest
from test_app_owners import named, put_run, zoes_long_training

from charlab.saving import runs
from charlab.server import owners as charlab_owners
from ui.settings import PAGES

pytestmark = APP_FIXTURES
PASSWORD = "owl-42"


def student_run(trained_run: Path, root: Path, nickname: str, name: str, loss: float, text: str) -> Path:
    """A copy of the trained run in `nickname`'s workspace with its own best loss and newest epoch text."""
    path = put_run(trained_run, charlab_owners.owner_workspace(root, nickname), name)
    runs.update_meta(path, metrics={"best_loss": loss, "train_seconds": 60 * loss})
    written = runs.read_epoch_texts(path)
    runs.write_epoch_texts(path, [*written, {"epoch": 99, "temperature": 0.8, "text": text}])
    return path


def class_of_three(trained_run: Path, root: Path) -> dict[str, Path]:
    return {
        "Alice": student_run(trained_run, root, "Alice", "Alice cats", 1.5, "alice writes"),
        "Bob": student_run(trained_run, root, "Bob", "Bob's **best**", 0.9, "bob <b>wrote</b> *this*\n  twice"),
        "Cleo": student_run(trained_run, root, "Cleo", "Cleo cats", 1.2, "cleo writes"),
    }


def teacher(monkeypatch) -> AppTest:
    monkeypatch.setenv("CHARLAB_TEACHER_PASSWORD", PASSWORD)
    at = named("Ms Teacher")
    return run(at.text_input(key="teacher_password_input").input(PASSWORD))


def table(at: AppTest, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, f"{len(found)} tables with a {column!r} column"
    return found[0]


def test_the_teacher_sees_every_training_the_leaderboard_and_a_students_text_in_large_print(
    trained_run, owners, monkeypatch
):
    paths = class_of_three(trained_run, owners)
    at = go(teacher(monkeypatch), "board")
    rows = table(at, "Status")
    assert sorted(rows["Student"]) == ["Alice", "Bob", "Cleo"]
    assert "Bob's **best**" in list(rows["Run"])  # a dataframe shows the name as typed, never as Markdown
    assert set(rows["Text"]) == {"cats.txt"} and set(rows["Status"]) == {"finished"}

    leaders = table(at, "Place")
    assert list(leaders["Student"]) == ["Bob", "Cleo", "Alice"]  # lowest validation loss first
    assert list(leaders["Best validation loss"]) == [0.9, 1.2, 1.5] and list(leaders["Minutes"]) == [0.9, 1.2, 1.5]

    curves = [frame for _, frames in charts(at) for frame in frames if "student" in frame.columns]
    assert len(curves) == 1 and set(curves[0]["student"]) == {"Alice", "Bob", "Cleo"}  # one chart, a line each
    assert any("reference" in frame.columns for _, frames in charts(at) for frame in frames)  # the text's lines

    run(at.selectbox(key="board_student").set_value(str(paths["Bob"])))
    boxes = [h.proto.body for h in at.get("html") if "charlab-board-text" in h.proto.body]
    assert len(boxes) == 1 and html.escape("bob <b>wrote</b> *this*\n  twice") in boxes[0]
    assert "font-size:2rem" in boxes[0]


def test_the_teacher_can_hide_a_row_from_the_projector_and_show_it_again(trained_run, owners, monkeypatch):
    paths = class_of_three(trained_run, owners)
    at = go(teacher(monkeypatch), "board")
    run(at.selectbox(key="board_student").set_value(str(paths["Bob"])))
    run(at.button(key="board_hide").click())
    assert sorted(table(at, "Status")["Student"]) == ["Alice", "Cleo"]
    assert list(table(at, "Place")["Student"]) == ["Cleo", "Alice"]
    curves = [frame for _, frames in charts(at) for frame in frames if "student" in frame.columns]
    assert "Bob" not in set(curves[0]["student"])
    assert paths["Bob"].exists()  # hidden, not deleted
    run(at.button(key="board_show_hidden").click())
    assert sorted(table(at, "Status")["Student"]) == ["Alice", "Bob", "Cleo"]


def test_curves_on_different_texts_are_never_on_one_axis(trained_run, owners, monkeypatch):
    paths = class_of_three(trained_run, owners)
    meta = runs.read_meta(paths["Cleo"])
    runs.update_meta(paths["Cleo"], corpus={**meta["corpus"], "name": "poems.txt", "sha256": "another text"})
    at = go(teacher(monkeypatch), "board")
    assert contains(at.caption, "Curves are compared only on the same text")
    assert list(table(at, "Place")["Student"]) == ["Bob", "Alice"]
    run(at.selectbox(key="board_text").set_value("another text"))
    assert list(table(at, "Place")["Student"]) == ["Cleo"]
    curves = [frame for _, frames in charts(at) for frame in frames if "student" in frame.columns]
    assert set(curves[0]["student"]) == {"Cleo"}


def test_a_student_gets_no_board_and_no_other_nickname(trained_run, owners, monkeypatch):
    class_of_three(trained_run, owners)
    monkeypatch.setenv("CHARLAB_TEACHER_PASSWORD", PASSWORD)
    alice = named("Alice")
    assert "board.py" not in _navigation(alice) and "train.py" in _navigation(alice)
    with pytest.raises(ValueError, match="navigation page"):
        alice.switch_page(PAGES["board"])  # not a page of hers: Streamlit has no such address for her
    go(alice, "train")
    shown = " ".join(str(e.value) for e in [*alice.markdown, *alice.caption, *alice.text, *alice.info])
    assert "Bob" not in shown and "Cleo" not in shown and "Bob" not in str(list(alice.dataframe))

    deep_link = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    deep_link.query_params["open"] = "board"  # a board link opened on a fresh server, without the password
    check(deep_link.run())
    assert not [d for d in deep_link.dataframe if "Student" in d.value.columns]


def test_the_board_is_in_the_teachers_navigation_only_while_in_teacher_mode(trained_run, owners, monkeypatch):
    at = teacher(monkeypatch)
    assert "board.py" in _navigation(at)
    run(at.button(key="teacher_leave").click())
    assert "board.py" not in _navigation(at)


def _navigation(at: AppTest) -> list[str]:
    """The file names of the pages in the session's navigation."""
    return [Path(str(info.get("script_path", ""))).name for info in at._registered_pages.values()]


def test_the_page_file_exists():
    assert (ROOT / PAGES["board"]).exists()


def test_the_board_follows_the_class_as_runs_change_on_disk(trained_run, owners, monkeypatch):
    paths = class_of_three(trained_run, owners)
    at = go(teacher(monkeypatch), "board")
    assert list(table(at, "Place")["Student"]) == ["Bob", "Cleo", "Alice"]
    runs.update_meta(paths["Alice"], metrics={"best_loss": 0.5})  # Alice's training checkpoints a better network
    student_run(trained_run, owners, "Dan", "Dan cats", 1.0, "dan writes")  # Dan starts later
    run(at)  # the board's next refresh
    assert list(table(at, "Place")["Student"]) == ["Alice", "Bob", "Dan", "Cleo"]
    runs.delete_run(paths["Bob"])
    run(at)
    assert sorted(table(at, "Status")["Student"]) == ["Alice", "Cleo", "Dan"]


def test_the_teacher_has_a_students_network_write_now_at_a_chosen_temperature(trained_run, owners, monkeypatch):
    paths = class_of_three(trained_run, owners)
    at = go(teacher(monkeypatch), "board")
    run(at.selectbox(key="board_student").set_value(str(paths["Alice"])))
    run(at.slider(key="board_temperature").set_value(0.5))
    run(at.button(key="board_write").click())
    written = at.session_state["board_written"]
    assert written["path"] == str(paths["Alice"]) and written["temperature"] == 0.5 and len(written["text"]) == 300
    assert set(written["text"]) <= set(runs.load_run(paths["Alice"]).vocab.chars)
    boxes = [h.proto.body for h in at.get("html") if "charlab-board-text" in h.proto.body]
    assert len(boxes) == 1 and html.escape(written["text"]) in boxes[0] and "alice writes" not in boxes[0]
    assert contains(at.caption, "Written just now at temperature 0.5")
    run(at.selectbox(key="board_student").set_value(str(paths["Cleo"])))  # another student: their newest text
    assert any("cleo writes" in h.proto.body for h in at.get("html") if "charlab-board-text" in h.proto.body)


def test_the_boards_callbacks_are_guarded(trained_run, owners, monkeypatch):
    """As test_app_reload checks for the other pages: an error in a callback is said in words."""
    paths = class_of_three(trained_run, owners)
    at = go(teacher(monkeypatch), "board")
    run(at.selectbox(key="board_student").set_value(str(paths["Bob"])))
    run(at.button(key="board_hide").click())
    callbacks = [m.callback for m in at._session_state._state._new_widget_state.widget_metadata.values() if m.callback]
    board_callbacks = [cb for cb in callbacks if getattr(cb, "__module__", "") == "ui.board"]
    assert len(board_callbacks) >= 3 and all(hasattr(cb, "charlab_guarded") for cb in board_callbacks)


def test_a_training_still_running_is_on_the_board_as_training(trained_run, owners, monkeypatch):
    class_of_three(trained_run, owners)
    zoe, training = zoes_long_training()
    wait_until(lambda: training.snapshot().step >= 1, timeout=300)  # its run folder exists from the first step
    at = go(teacher(monkeypatch), "board")
    rows = table(at, "Status")
    assert dict(zip(rows["Student"], rows["Status"], strict=True))["Zoé"] == "training"
    run(zoe.button(key="train_stop").click())
    wait_done(zoe)
    run(at)  # the board's next refresh
    rows = table(at, "Status")
    assert dict(zip(rows["Student"], rows["Status"], strict=True))["Zoé"] == "stopped"
