"""The class board in a real browser at 1280x720 (issue 21, item 1): the teacher types the password, opens the board
and sees every student's training, their curves on one chart, the leaderboard and a student's text in large print.

The screenshot goes to docs/board.png with CHARLAB_SCREENSHOTS=docs (see test_browser.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_browser import PAGE_LOAD, go_to, keyed, main_block, no_error, screenshot, shots  # noqa: F401 (a fixture)

from charlab.saving import runs
from charlab.server import board, owners

pytestmark = pytest.mark.browser
PASSWORD = "owl-42"
ROW_HEIGHT = 35  # pixels of a row (and of the header) in Streamlit's dataframe
# (nickname, run name, how much lower than the trained run its validation curve lies, its newest epoch text)
CLASS = (
    ("Alice", "first try", 0.00, "the cat sat on the mat. the dog sat on"),
    ("Bob", "Bob's **big** one", 0.35, "the dog sat on the log.\nthe cat sat on the mat."),
    ("Cleo", "tiny <b>net</b>", -0.20, "thhe mat sat on cat <b>dog</b>"),
)


def fill_class(trained_run: Path, home: Path) -> None:
    """Each student's copy of the trained run, with a curve and a text of their own."""
    for nickname, name, lower, text in CLASS:
        path = Path(shutil.copytree(trained_run, owners.owner_workspace(home, nickname) / runs.slugify(name)))
        runs.rename_run(path, name)
        history = [{**h, "val_loss": h["val_loss"] - lower * h["epoch"] / 2} for h in runs.read_history(path)]
        runs.write_history(path, history)
        best = min(h["val_loss"] for h in history)
        runs.update_meta(path, metrics={"best_loss": best, "train_seconds": 90 + 60 * lower})
        runs.write_epoch_texts(path, [*runs.read_epoch_texts(path), {"epoch": 3, "temperature": 0.8, "text": text}])


def student_texts() -> list[tuple[str, str]]:
    return [(f"{nickname} · {name}", text) for nickname, name, _, text in CLASS]


def click_each_row(page: Page, main, order: list[str]) -> None:
    """Click each row of "Every training" (its row-marker column, as a teacher would): the student box and the
    large text follow the row clicked."""
    texts = dict(student_texts())
    keyed(main, "board_student", "combobox").click()
    page.get_by_role("option", name=order[-1], exact=True).click()  # so that the first click changes the choice
    table = main.get_by_test_id("stDataFrame").last
    for row, label in enumerate(order):
        for attempt in range(3):  # a click that lands while the board redraws itself (every 5 s) is lost
            table.scroll_into_view_if_needed()
            box = table.bounding_box()  # again: another student's text above may move the table
            page.mouse.click(box["x"] + 16, box["y"] + ROW_HEIGHT * (row + 1.5))  # below the header: row `row`
            try:
                expect(keyed(main, "board_student", "combobox")).to_have_value(label, timeout=8000)
                break
            except AssertionError:
                if attempt == 2:
                    raise
        expect(main.locator(".charlab-board-text")).to_have_text(texts[label], timeout=PAGE_LOAD)


def test_the_teacher_opens_the_class_board_on_the_projector(page: Page, own_server, trained_run, shots: Path):  # noqa: F811
    fill_class(trained_run, own_server.home)
    own_server.env["CHARLAB_TEACHER_PASSWORD"] = PASSWORD
    page.goto(own_server.start(timeout=60))
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("link", name="Class board")).to_have_count(0)  # not for students
    sidebar.get_by_text("Teacher", exact=True).click()
    password = sidebar.get_by_label("Teacher password")
    password.fill(PASSWORD)
    password.press("Enter")
    main = go_to(page, "Class board")
    no_error(main)
    expect(main.get_by_test_id("stDataFrame").first).to_be_visible(timeout=PAGE_LOAD)
    for label, text in (("Bob · Bob's **big** one", CLASS[1][3]), ("Cleo · tiny <b>net</b>", CLASS[2][3])):
        keyed(main, "board_student", "combobox").click()
        page.get_by_role("option", name=label, exact=True).click()
        expect(main.locator(".charlab-board-text")).to_have_text(text)  # as written, never as HTML or Markdown
    expect(main.locator("canvas, svg").first).to_be_visible()
    rows = board.board_rows(owners.list_all_runs(own_server.home), board.start_of_today())
    order = [f"{row.nickname} · {row.run_name}" for row in rows]  # the table's rows, top to bottom
    assert sorted(order) == sorted(label for label, _ in student_texts())
    click_each_row(page, main, order)
    student = keyed(main, "board_student", "combobox")
    student.click()
    if not page.get_by_role("listbox").is_visible():
        student.press("ArrowDown")  # the click landed while the board redrew: open the list from the keyboard
    page.get_by_role("option", name=order[0], exact=True).click()  # the box still chooses after a click
    page.wait_for_timeout(6000)  # a refresh of the board: the row clicked before does not take it back
    expect(keyed(main, "board_student", "combobox")).to_have_value(order[0])
    screenshot(page, shots, "board")
    keyed(main, "board_write").click()  # Cleo's network writes now, at the temperature on the slider
    expect(main).to_contain_text("Written just now at temperature 0.8", timeout=PAGE_LOAD)
    expect(main.locator(".charlab-board-text")).not_to_have_text(CLASS[2][3])
    no_error(main)
