"""Start from the classics writer in a real browser (Debian's chromium): a German text of one's own (ä, ß, „ “: the
writer's vocabulary grows) is told in one line that the writer knows English (its measured first guesses against
letter frequencies) and starts blank, yet the user may still choose the writer: its shape greyed, a fine-tune
whose chart marks where the writer started; a Chinese text gets the one line that recommends a blank network.
Screenshots at 1280x720 (projector) and 390x844 (phone) go to a temporary folder (CHARLAB_SCREENSHOTS_DIR to keep
them)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from test_browser import PAGE_LOAD, go_to, no_error

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
TRAINING = 180_000  # ms: TensorFlow's start, the writer's GRU and the browser share two cores
GERMAN = (ROOT / "tests" / "data" / "german_de.txt").read_text(encoding="utf-8") * 5  # 4.6 KB
CHINESE = (ROOT / "tests" / "data" / "tang_poems_zh.txt").read_text(encoding="utf-8")
PHONE = {"width": 390, "height": 844}
GERMAN_ADVICE = (
    re.compile(  # the numbers are charlab.learning.writers.writer_head_start's (tests/test_writers.py checks them)
        r"The writer knows English: on this text its first guesses are worse than knowing only how often each letter "
        r"appears \(\d\.\d\d against \d\.\d\d nats per character\), so start from a blank network\."
    )
)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("CHARLAB_SCREENSHOTS_DIR")
    return Path(folder) if folder else tmp_path_factory.mktemp("startfrom_shots")


def keyed(scope: Locator, key: str) -> Locator:
    """The container of the widget with Streamlit key `key` (test_browser.keyed finds a role inside it)."""
    return scope.locator(f".st-key-{key}")


def upload(page: Page, text: str, name: str) -> None:
    main = go_to(page, "Corpus")
    main.get_by_role("tab", name="Upload your own").click()
    main.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": name, "mimeType": "text/plain", "buffer": text.encode("utf-8")}]
    )
    expect(page.get_by_test_id("stSidebar")).to_contain_text(name, timeout=PAGE_LOAD)


def test_a_german_text_fine_tuned_from_the_writer_and_a_chinese_one_told_to_start_blank(
    page: Page, browser: Browser, app_url: str, shots: Path
):
    page.goto(app_url)
    upload(page, GERMAN, "mühle.txt")
    main = go_to(page, "Train")
    start_from = keyed(main, "train_start_from")
    expect(start_from.get_by_role("radio", name="a blank network")).to_have_attribute("aria-checked", "true")
    expect(main).to_contain_text(GERMAN_ADVICE)
    expect(main.get_by_role("slider", name="Units")).not_to_be_disabled()
    page.screenshot(path=str(shots / "train_german_advice_1280.png"))
    start_from.get_by_role("radio", name="the classics writer").click()  # the user may still choose it
    fixed = re.compile(r"The writer's shape is fixed: its weights only fit a GRU \d+ ")
    expect(main).to_contain_text(fixed, timeout=PAGE_LOAD)
    expect(main.get_by_role("slider", name="Units")).to_be_disabled()
    expect(main.get_by_role("slider", name="Embedding size")).to_be_disabled()
    expect(main.get_by_role("slider", name="Learning rate")).to_have_attribute("aria-valuetext", "0.0025")
    no_error(main)
    page.screenshot(path=str(shots / "train_writer_settings_1280.png"))

    epochs = main.get_by_label("Epochs", exact=True)
    epochs.fill("2")
    epochs.press("Enter")
    keyed(main, "train_start").click()
    expect(main.get_by_test_id("stAlert").filter(has_text=re.compile("Training finished|Trained"))).to_be_visible(
        timeout=TRAINING
    )
    caption = main.get_by_text("The diamond at 0: the writer's loss on this text before its first step")
    expect(caption).to_be_visible(timeout=PAGE_LOAD)
    chart = main.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    no_error(main)
    chart.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "train_writer_chart_1280.png"))
    page.set_viewport_size(PHONE)
    chart.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "train_writer_chart_390.png"))

    student = browser.new_context(viewport={"width": 1280, "height": 720})  # another browser, a Chinese text
    try:
        other = student.new_page()
        other.goto(app_url)
        upload(other, CHINESE, "唐诗.txt")
        main = go_to(other, "Train")
        expect(main).to_contain_text("letters are ones the writer never saw", timeout=PAGE_LOAD)
        expect(main).to_contain_text("start from a blank network instead")
        keyed(main, "train_preset").get_by_role("radio", name="Quick · 1 minute").click()
        expect(keyed(main, "train_start_from").get_by_role("radio", name="a blank network")).to_have_attribute(
            "aria-checked", "true", timeout=PAGE_LOAD
        )
        no_error(main)
        other.screenshot(path=str(shots / "train_chinese_1280.png"))
    finally:
        student.close()
