"""Shared fixtures: the Streamlit server and Debian's chromium for the real-browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit_server import CHROMIUM, CHROMIUM_ARGS, StreamlitServer

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 720}  # a classroom projector


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """`streamlit run app.py` on a free port, with its own empty workspace; stopped after the tests."""
    home = tmp_path_factory.mktemp("charlab_home")
    server = StreamlitServer(ROOT, home, home.parent / "streamlit.log")
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
