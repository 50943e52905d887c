"""The playground in a real browser (Debian's chromium at 1280x720): the whole flow, and a reload mid-training.

Also takes a screenshot of each page: into pytest's temporary folder, or into docs/ (the README's
pictures) when CHARLAB_SCREENSHOTS=docs, so an ordinary test run leaves the checkout unchanged.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from charlab.saving import runs
from charlab.server import owners

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the screenshots go (see the module docstring)."""
    return DOCS if os.environ.get("CHARLAB_SCREENSHOTS") == "docs" else tmp_path_factory.mktemp("screenshots")


PROJECTOR = {"width": 1280, "height": 720}  # the viewport conftest.py sets
PAGE_LOAD = 30_000  # ms
TRAINING = 120_000  # ms: starting TensorFlow and training share two cores with the browser


def main_block(page: Page) -> Locator:
    return page.get_by_test_id("stMainBlockContainer")


def keyed(scope: Locator, key: str, role: str = "button") -> Locator:
    """The widget with Streamlit key `key` (its container carries the class st-key-<key>)."""
    return scope.locator(f".st-key-{key}").get_by_role(role)


def go_to(page: Page, title: str) -> Locator:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    main = main_block(page)
    expect(main.locator("h1")).to_contain_text(title, timeout=PAGE_LOAD)
    return main


def no_error(main: Locator) -> None:
    expect(main.get_by_test_id("stException")).to_have_count(0)
    expect(main).not_to_contain_text("Something unexpected went wrong")


def slide(main: Locator, label: str, steps_up: int = 0) -> Locator:
    """To the slider's smallest value, then `steps_up` options up (with the keyboard, as a user can)."""
    thumb = main.get_by_role("slider", name=label)
    thumb.focus()
    thumb.press("Home")
    for _ in range(steps_up):
        thumb.press("ArrowRight")
    return thumb


def screenshot(page: Page, folder: Path, name: str, down_to: Locator | None = None) -> None:
    """<folder>/<name>.png, 1280 wide: the first 720 pixels, or taller to show all of `down_to`."""
    expect(page.get_by_test_id("stToast")).to_have_count(0, timeout=15_000)  # a toast fades after a few seconds
    main = main_block(page)
    main.evaluate("el => { for (let e = el; e; e = e.parentElement) e.scrollTop = 0; }")
    height = PROJECTOR["height"]
    if down_to is not None:
        box = down_to.bounding_box()
        height = max(height, min(2400, round(box["y"] + box["height"] + 32)))
    page.set_viewport_size({"width": PROJECTOR["width"], "height": height})
    page.wait_for_timeout(600)  # charts redraw for the new height
    folder.mkdir(exist_ok=True)
    page.screenshot(path=folder / f"{name}.png")
    assert (folder / f"{name}.png").stat().st_size > 10_000  # a real picture, not an empty page
    page.set_viewport_size(PROJECTOR)


def test_corpus_train_generate(page: Page, app_url: str, shots: Path):
    # ---- Home
    assert page.viewport_size == PROJECTOR
    page.goto(app_url)
    main = main_block(page)
    expect(main.locator("h1")).to_contain_text("charlab", timeout=PAGE_LOAD)
    expect(keyed(main, "home_quick_start")).to_be_visible()
    no_error(main)
    screenshot(page, shots, "home")

    # ---- Corpus: a small sample, its vocabulary chart; then a binary file is refused in plain words
    main = go_to(page, "Corpus")
    main.get_by_text("Limericks", exact=True).click()
    keyed(main, "corpus_use_sample").click()
    expect(main.locator("h2")).to_contain_text("Limericks", timeout=PAGE_LOAD)
    chart = main.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    no_error(main)
    screenshot(page, shots, "corpus", down_to=chart)

    main.get_by_role("tab", name="Upload your own").click()
    main.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "bad.txt", "mimeType": "text/plain", "buffer": bytes(range(256)) * 16}]
    )
    expect(main.get_by_test_id("stAlert").filter(has_text="looks like a binary file")).to_be_visible(timeout=PAGE_LOAD)
    expect(main.locator("h2")).to_contain_text("Limericks")  # the chosen text stays
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Limericks")
    no_error(main)

    # ---- Train: a small network (LSTM 64), live progress and loss chart, Stop, the run saved
    main = go_to(page, "Train")
    expect(main).to_contain_text("Learning from Limericks")
    expect(slide(main, "Units", steps_up=2)).to_have_attribute("aria-valuetext", "64")
    expect(slide(main, "Sequence length")).to_have_attribute("aria-valuetext", "8")
    epochs = main.get_by_label("Epochs", exact=True)
    epochs.fill("300")  # more than the test waits for: Stop ends it
    epochs.press("Enter")
    expect(main.get_by_test_id("stMetric").filter(has_text="All epochs")).to_be_visible()
    run_name = main.get_by_label("Run name", exact=True)
    run_name.fill("Browser test")
    run_name.press("Enter")
    keyed(main, "train_start").click()

    expect(main.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=TRAINING)
    loss_chart = main.get_by_test_id("stVegaLiteChart").first
    expect(loss_chart).to_be_visible(timeout=TRAINING)
    newest = main.locator(".charlab-text").first  # what it writes now, beside the chart
    expect(newest).to_be_visible(timeout=TRAINING)
    for shown in (loss_chart, newest):  # both on screen at 1280x720 without scrolling
        box = shown.bounding_box()
        assert box["y"] >= 0 and box["y"] + min(box["height"], 200) <= PROJECTOR["height"], box
    after_20_epochs = re.compile(r"Epoch ([2-9]\d|\d{3}) of")  # the kept network may be an earlier one's
    expect(main.get_by_test_id("stProgress")).to_contain_text(after_20_epochs, timeout=TRAINING)  # words by then
    expect(main).to_contain_text("What the kept network writes")
    no_error(main)
    screenshot(page, shots, "train", down_to=main.get_by_test_id("stHtml").first)

    keyed(main, "train_stop").click()
    expect(main).to_contain_text("Stopped: what was learned is saved.", timeout=TRAINING)
    expect(main.get_by_test_id("stProgress")).to_have_count(0)
    expect(main.get_by_role("combobox", name="Choose a run")).to_have_value(re.compile("^Browser test"))  # My runs
    expect(page.get_by_test_id("stSidebar")).to_contain_text("stopped")
    no_error(main)

    # ---- Generate: text appears; three temperatures side by side
    main = go_to(page, "Generate")
    expect(main.get_by_role("combobox", name="Run", exact=True)).to_have_value(re.compile("^Browser test"))
    expect(keyed(main, "generate_go")).to_be_in_viewport(ratio=1)  # no scrolling to find it
    keyed(main, "generate_go").click()
    expect(keyed(main, "generate_download")).to_be_visible(timeout=PAGE_LOAD)  # drawn once the text is complete
    text_box = main.locator(".charlab-text").first
    expect(text_box).to_be_visible()
    assert len(text_box.inner_text().strip()) > 50
    no_error(main)
    screenshot(page, shots, "generate", down_to=text_box)

    keyed(main, "generate_compare").click()
    expect(main).to_contain_text("Temperature 1.5", timeout=PAGE_LOAD)
    expect(main.locator("h3", has_text="Compare temperatures")).to_be_in_viewport(timeout=PAGE_LOAD)  # brought up
    compare = main.get_by_test_id("stHorizontalBlock").filter(has_text="Temperature 0.2").last
    columns = compare.get_by_test_id("stColumn")
    expect(columns).to_have_count(3)
    for column, temperature in zip(columns.all(), ("0.2", "0.8", "1.5"), strict=True):
        expect(column).to_contain_text(f"Temperature {temperature}")
        assert len(column.locator(".charlab-text").inner_text().strip()) > 50
    no_error(main)

    # ---- Look inside: units ranked, the text coloured by one of them, the embedding map
    main = go_to(page, "Look inside")
    coloured = main.locator(".charlab-inside").first
    expect(coloured).to_be_visible(timeout=PAGE_LOAD)
    expect(main.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    assert coloured.locator("span").count() > 100
    no_error(main)
    screenshot(page, shots, "inside", down_to=coloured)


def test_reload_reattaches_to_the_training(page: Page, app_url: str):
    page.goto(app_url)
    main = main_block(page)
    keyed(main, "home_quick_start").click()  # Tiny Shakespeare, an LSTM, 1 minute by the clock
    expect(main.locator("h1")).to_contain_text("Train", timeout=PAGE_LOAD)
    expect(main.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=TRAINING)
    url = page.url
    assert re.search(r"[?&]session=[0-9a-f]{16}\b", url), url

    page.reload()
    main = main_block(page)
    expect(main).to_contain_text("Training «Tiny Shakespeare", timeout=PAGE_LOAD)
    expect(main.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=PAGE_LOAD)
    expect(main.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=TRAINING)
    assert page.url == url
    no_error(main)

    keyed(main, "train_stop").click()  # the re-attached page still controls the job
    expect(main).to_contain_text("Stopped", timeout=TRAINING)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Tiny Shakespeare")


def test_a_server_restart_mid_training_lists_the_run_as_interrupted_and_it_still_writes(page: Page, own_server):
    """The classroom default (a private workspace per tab, no nickname): the server dies with SIGKILL
    mid-training and is started again; the same tab's link finds its run, interrupted, at its last checkpoint."""
    lesson = "?s=fables&u=32&e=8&sl=32&bs=16&ep=500"  # a small network and more epochs than the test waits for
    page.goto(own_server.start() + lesson)
    main = main_block(page)
    keyed(main, "home_quick_start").click()
    expect(main.locator("h1")).to_contain_text("Train", timeout=PAGE_LOAD)
    expect(main.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=TRAINING)
    url = page.url
    token = re.search(r"[?&]session=([0-9a-f]{16})\b", url).group(1)
    private = own_server.home / runs.OWNERS_DIR / owners.private_folder_name(token)
    deadline = time.monotonic() + TRAINING / 1000
    while not list(private.glob("*/weights.npz")):  # the first checkpoint (every 20 s at most)
        assert time.monotonic() < deadline, "no checkpoint was written"
        page.wait_for_timeout(500)
    [info] = runs.list_runs(private)
    assert info.status == "training"

    own_server.kill()  # a power cut: the training dies with the server
    own_server.start()  # the teacher starts it again, on the same port and runs folder
    assert runs.list_runs(private)[0].status == "interrupted"

    page.goto(url)  # the tab, reloaded: a deep link to Train on a fresh server
    main = main_block(page)
    expect(main.locator("h1")).to_contain_text("Train", timeout=PAGE_LOAD)
    picker = main.get_by_role("combobox", name="Choose a run")
    expect(picker).to_have_value(re.compile("^Animal fables"), timeout=PAGE_LOAD)  # its own run, found again
    keyed(main, "runs_load").click()
    expect(page.get_by_test_id("stSidebar")).to_contain_text("interrupted", timeout=PAGE_LOAD)
    no_error(main)

    main = go_to(page, "Generate")  # the last checkpoint writes text
    keyed(main, "generate_go").click()
    expect(keyed(main, "generate_download")).to_be_visible(timeout=PAGE_LOAD)
    assert len(main.locator(".charlab-text").first.inner_text().strip()) > 50
    no_error(main)


PAYLOAD = "**b** :red[x] $k$ `<b>"  # bold, colour, LaTeX, a backtick and HTML, as a user might type them


def test_user_text_is_rendered_as_typed(page: Page, app_url: str):
    """Escaped markdown reaches the reader literally: no bold, no colour, no formula, no HTML."""
    page.goto(app_url + "?cl=" + ":red[**HACKED**]")
    main = main_block(page)
    expect(main.get_by_test_id("stAlert")).to_contain_text(
        "a cleaning mode ':red[**HACKED**]' that does not exist", timeout=PAGE_LOAD
    )

    main = go_to(page, "Corpus")
    main.get_by_role("tab", name="Upload your own").click()
    text = ("The cat sat on the mat. " * 200 + PAYLOAD + "\n").encode()
    main.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": f"{PAYLOAD}.txt", "mimeType": "text/plain", "buffer": text}]
    )
    heading = main.locator("h2").first
    expect(heading).to_have_text(f"{PAYLOAD}.txt", timeout=PAGE_LOAD)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"{PAYLOAD}.txt")
    main = go_to(page, "Train")
    expect(main).to_contain_text(f"Learning from {PAYLOAD}.txt")
    for scope in (main, page.get_by_test_id("stSidebar")):
        expect(scope.locator(".katex")).to_have_count(0)  # no formula
        expect(scope.locator("strong", has_text=re.compile(r"^(b|HACKED)$"))).to_have_count(0)  # no bold
        expect(scope.locator("span", has_text=re.compile(r"^x$"))).to_have_count(0)  # no coloured x
    no_error(main)
