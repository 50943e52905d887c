"""What the class board costs the server: 30 students' trainings listed, 1 and then 5 boards open.

    python bench/board.py [--students 30] [--boards 1 5] [--seconds 30]

Trains one tiny run (a few seconds), copies it into --students nicknames' workspaces (each with its own
curve), starts `streamlit run app.py` with a teacher password, and opens chromium tabs at 1280x720 that
type the password and open the Class board. The server process's own CPU is measured over --seconds
while the boards refresh by themselves (every ui.board.BOARD_SECONDS), for each count of boards, beside
the same server with no tab open. Compare with bench/README.md's "What a watching tab costs the server"
(0.013-0.02 core per tab watching a training).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from streamlit_server import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, cpu_seconds, vm  # noqa: E402

PASSWORD = "bench-board"
PAGE_LOAD = 60_000  # ms


def fill_class(home: Path, students: int) -> None:
    """`students` copies of one tiny trained run, each in its own nickname's workspace with its own curve."""
    from app_pages import TEXT, TINY

    from charlab.learning.training import TrainingJob
    from charlab.network.model import ModelConfig
    from charlab.saving import runs
    from charlab.server import owners

    source = Path(tempfile.mkdtemp(prefix="charlab-board-source-"))
    progress = TrainingJob(TEXT, ModelConfig(**TINY, epochs=3), name="cats", corpus_name="cats.txt", root=source).run()
    for i in range(students):
        path = Path(shutil.copytree(progress.run_path, owners.owner_workspace(home, f"student {i + 1}") / "cats"))
        history = [{**h, "val_loss": h["val_loss"] * (1 + i / 100)} for h in runs.read_history(path)]
        runs.write_history(path, history)
        runs.update_meta(path, metrics={"best_loss": min(h["val_loss"] for h in history)})
    shutil.rmtree(source, ignore_errors=True)


def open_board(chromium):
    page = chromium.new_page(viewport={"width": 1280, "height": 720})
    page.goto(SERVER.url)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Teacher", exact=True).click()
    password = sidebar.get_by_label("Teacher password")
    password.fill(PASSWORD)
    password.press("Enter")
    sidebar.get_by_role("link", name="Class board").click()
    page.locator(".charlab-board-text").wait_for(timeout=PAGE_LOAD)
    return page


def server_cpu(seconds: float) -> tuple[float, float]:
    """The server process's CPU (cores) over `seconds`, and its RSS in MB."""
    before, t0 = cpu_seconds(SERVER.pid), time.perf_counter()
    time.sleep(seconds)
    return (cpu_seconds(SERVER.pid) - before) / (time.perf_counter() - t0), vm(SERVER.pid, "VmRSS") / 2**20


def main() -> None:
    global SERVER
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--boards", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="charlab-board-"))
    fill_class(home, args.students)
    SERVER = StreamlitServer(ROOT, home, home / "streamlit.log", env={"CHARLAB_TEACHER_PASSWORD": PASSWORD})
    SERVER.start(timeout=90)
    rows = []
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            rows.append(("no tab open", *server_cpu(args.seconds)))
            pages = []
            for boards in args.boards:
                while len(pages) < boards:
                    pages.append(open_board(chromium))
                time.sleep(5)  # the pages settle into their refresh
                rows.append((f"{boards} board{'s' if boards > 1 else ''} open", *server_cpu(args.seconds)))
            chromium.close()
    finally:
        SERVER.stop()
        shutil.rmtree(home, ignore_errors=True)
    print(
        f"class board · {args.students} trainings listed · {os.cpu_count()} cores · {time.strftime('%Y-%m-%d %H:%M')}"
    )
    for label, cores, rss in rows:
        print(f"{label:<16} server CPU {cores:.3f} core, RSS {rss:,.0f} MB")
    if len(rows) > 2:
        (_, first, _), (_, last, _) = rows[1], rows[-1]
        print(f"per extra board  {(last - first) / (args.boards[-1] - args.boards[0]):.3f} core")


SERVER: StreamlitServer
if __name__ == "__main__":
    main()
