"""What the AppTest tests (tests/test_app_*.py) share: the text and model they train, and helpers that drive the pages.

Each test gets its own empty workspace ($CHARLAB_HOME in a temporary folder), used by every
session as by a single user (CHARLAB_OWNERS=0) unless the test asks for the classroom default,
a workspace per owner (the `owners` fixture); a tiny model trained once per module is copied
into the workspace of the tests that need a run. Trainings
started from a page run in the app's real background thread: AppTest never fires the live
view's once-a-second refresh, so a test waits for the job and runs the script again, as the
browser's next refresh would. The fixtures are in conftest.py.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from ui.job_registry import registry
from ui.settings import PAGES

ROOT = Path(__file__).resolve().parent.parent
PAGES_MANAGER_INIT = PagesManager.__init__
TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 40  # 1,960 characters, 15 different
TINY = dict(cell="lstm", units=16, embedding_dim=8, seq_length=16, batch_size=8, dropout=0.0, learning_rate=0.01,
            validation_fraction=0.1)  # fmt: skip

# every AppTest module sets `pytestmark = APP_FIXTURES`: an empty workspace per test, and app.py run on every
# page (both in conftest.py, where they are not autouse: the other tests need neither)
APP_FIXTURES = pytest.mark.usefixtures("workspace", "entry_script_runs_every_time")


def check(at: AppTest) -> AppTest:
    """No raw traceback, and no unexpected error turned into plain words by ui.page_guard.guard."""
    assert not at.exception, [e.value for e in at.exception]
    unexpected = [e.value for e in at.error if "Something unexpected" in e.value]
    assert not unexpected, unexpected
    return at


def run(at: AppTest) -> AppTest:
    return check(at.run())


def open_app(page: str = "home") -> AppTest:
    at = run(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60))
    return at if page == "home" else go(at, page)


def go(at: AppTest, page: str) -> AppTest:
    return run(at.switch_page(PAGES[page]))


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def plain(markdown: str) -> str:
    """What a reader sees of a string escaped with ui.text.md (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def contains(elements, words: str) -> bool:
    """Whether any element shows `words`, as a reader sees them (user text inside is escaped, see ui.text.md)."""
    return any(words in plain(str(value)) for value in texts(elements))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def sidebar_text(at: AppTest) -> str:
    """The sidebar as a reader sees it (names are escaped for markdown, see ui.text.md)."""
    return plain(" ".join(str(e.value) for e in at.sidebar.markdown))


def charts(at: AppTest) -> list[tuple[str, list]]:
    """Every Vega-Lite chart drawn: its spec (JSON text) and its datasets as DataFrames."""
    return [
        (node.proto.spec, [convert_arrow_bytes_to_pandas_df(d.data.data) for d in node.proto.datasets])
        for node in at.get("vega_lite_chart")
    ]


def chart_data(at: AppTest, column: str):
    """The dataset of the one chart whose data has `column`."""
    found = [frame for _, frames in charts(at) for frame in frames if column in frame.columns]
    assert len(found) == 1, f"{len(found)} charts with a {column!r} column"
    return found[0]


def runs_table(at: AppTest):
    return next(d.value for d in at.dataframe if "Best validation loss" in d.value.columns)


def use_sample(at: AppTest, key: str) -> AppTest:
    go(at, "corpus")
    at.radio(key="corpus_sample").set_value(key)
    return run(at.button(key="corpus_use_sample").click())


def upload_text(at: AppTest, text: str = TEXT, name: str = "cats.txt") -> AppTest:
    go(at, "corpus")
    return run(at.file_uploader(key="corpus_upload").upload(name, text.encode("utf-8"), "text/plain"))


def choose_blank(at: AppTest) -> AppTest:
    """On the Train page, the user's own choice of a blank network (a preset keeps it), instead of the classics
    writer that a preset gives a small English text of one's own (ui.start_from)."""
    run(at.segmented_control(key="train_start_from").set_value("writer"))
    return run(at.segmented_control(key="train_start_from").set_value("blank"))


def set_tiny_settings(at: AppTest, epochs: int = 1) -> AppTest:
    at.segmented_control(key="settings_cell").set_value(TINY["cell"])
    at.select_slider(key="settings_units").set_value(TINY["units"])
    at.select_slider(key="settings_embedding_dim").set_value(TINY["embedding_dim"])
    at.slider(key="settings_seq_length").set_value(TINY["seq_length"])
    at.select_slider(key="settings_batch_size").set_value(TINY["batch_size"])
    at.select_slider(key="settings_dropout").set_value(TINY["dropout"])
    at.select_slider(key="settings_learning_rate").set_value(TINY["learning_rate"])
    at.number_input(key="settings_epochs").set_value(epochs)
    return run(at)


def start_tiny_training(epochs: int = 1) -> AppTest:
    """A session that uploaded TEXT and pressed Start training with the tiny settings."""
    at = open_app()
    upload_text(at)
    go(at, "train")
    set_tiny_settings(at, epochs=epochs)
    return run(at.button(key="train_start").click())


def job(at: AppTest):
    return registry().queue.touch(at.session_state["token"]).job


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def wait_done(at: AppTest) -> AppTest:
    """Wait for this session's training, then refresh the page as the live view would."""
    assert job(at).wait(120), "the training did not end"
    return run(at)


def generate_page() -> AppTest:
    at = open_app("generate")
    assert texts(at.title) == ["Generate"]
    return at
