"""Shared fixtures: the Streamlit server and Debian's chromium for the real-browser tests; the workspace
and the trained run of the AppTest tests (tests/test_app_*.py, helpers in app_pages.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit_server import CHROMIUM, CHROMIUM_ARGS, StreamlitServer

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 720}  # a classroom projector


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """`streamlit run app.py` on a free port, with its own empty workspace; stopped after the tests."""
    yield from serving(tmp_path_factory, "streamlit.log")


def serving(tmp_path_factory, log_name: str):
    """A fresh `streamlit run app.py` with its own empty workspace: yields its address, then stops it (for a
    fixture of any scope)."""
    home = tmp_path_factory.mktemp("charlab_home")
    server = StreamlitServer(ROOT, home, home.parent / log_name)
    try:
        url = server.start(timeout=60)
    except RuntimeError as err:
        pytest.fail(str(err))
    yield url
    server.stop()


@pytest.fixture
def own_server(tmp_path) -> StreamlitServer:
    """A server of this test's own (not started), with an empty workspace: a test may kill and restart it."""
    home = tmp_path / "charlab_home"
    home.mkdir()
    server = StreamlitServer(ROOT, home, tmp_path / "streamlit.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's chromium, never a browser downloaded by `playwright install`."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need it. Install it: `sudo apt-get install chromium`.")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": VIEWPORT}


# ---------------------------------------------------------------- the app in AppTest
# For tests/test_app_*.py. `workspace` and `entry_script_runs_every_time` are not autouse (that would give them
# to every test of the suite): each of those files applies both with `pytestmark = APP_FIXTURES` (app_pages.py).
# Streamlit, ui and the engine are imported inside the fixtures, so tests that never open the app do not import them.


def presets_as_measured(monkeypatch, tmp_path: Path) -> None:
    """No AppTest times this computer (charlab.learning.calibration): where a test says bfloat16 (CHARLAB_BFLOAT16=1,
    or a processor with AMX), its products run at emulated bfloat16's speed, too slow for a bigger recipe, so every
    preset is the float32 winner the tests expect; the times go to the test's folder, not ~/.cache."""
    from charlab.learning import calibration

    def emulated_speed(wanted):  # 40 GFLOP/s, about what emulated bfloat16 reaches on 2 cores (bench/README.md)
        return {calibration.product_name(m, k, n, dtype): 2 * m * k * n / 40e9 for m, k, n, dtype in wanted}

    monkeypatch.setattr(calibration, "_measured", {})
    monkeypatch.setattr(calibration, "time_products", emulated_speed)
    monkeypatch.setattr(calibration, "cache_path", lambda: tmp_path / "calibration.json")


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """An empty runs folder per test, shared by every session; no training started by a test outlives it."""
    from app_pages import wait_until

    from ui.job_registry import registry

    home = tmp_path / "runs"
    monkeypatch.setenv("CHARLAB_HOME", str(home))
    monkeypatch.setenv("CHARLAB_OWNERS", "0")  # a single user: runs saved straight into $CHARLAB_HOME
    monkeypatch.delenv("CHARLAB_TEACHER_PASSWORD", raising=False)
    presets_as_measured(monkeypatch, tmp_path)
    yield home
    queue = registry().queue
    queue.stop_all()
    wait_until(lambda: queue.counts() == (0, 0), timeout=120)  # every place given back, every run saved


@pytest.fixture
def entry_script_runs_every_time(monkeypatch):
    """Run app.py on every page, as a server does once its first request has run app.py.

    Beside a `pages/` folder Streamlit starts in its legacy multipage mode, which runs a page
    file without the entry script until app.py's st.navigation switches it off; AppTest
    restarts in that mode on every run. See test_a_deep_link_on_a_fresh_server_opens_the_page_through_app_py
    in test_app_home.py.
    """
    from app_pages import PAGES_MANAGER_INIT
    from streamlit.runtime.pages_manager import PagesManager

    def init(self, *args, **kwargs):
        PAGES_MANAGER_INIT(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """A tiny LSTM trained for two epochs on TEXT, straight through the engine (once per test module)."""
    from app_pages import TEXT, TINY

    from charlab.learning.training import TrainingJob
    from charlab.network.model import ModelConfig

    config = ModelConfig(**TINY, epochs=2)
    root = tmp_path_factory.mktemp("trained")
    progress = TrainingJob(TEXT, config, name="Tiny cats", corpus_name="cats.txt", root=root).run()
    assert progress.status == "finished", progress.message
    return Path(progress.run_path)


@pytest.fixture
def with_run(trained_run, workspace) -> Path:
    """A copy of the trained run in this test's workspace (tests may rename or delete it)."""
    return Path(shutil.copytree(trained_run, workspace / trained_run.name))


@pytest.fixture
def owners(workspace, monkeypatch) -> Path:
    """The classroom default: each session works in its own workspace under $CHARLAB_HOME/owners."""
    monkeypatch.delenv("CHARLAB_OWNERS")
    return workspace
