"""A lesson link in a real browser (Debian's chromium): a teacher who trains for 1 minute by the clock shares a
link, and a student in another browser gets 1 minute, not the link's epochs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

pytestmark = pytest.mark.browser

PAGE_LOAD = 30_000  # ms
TRAINING = 120_000  # ms: starting TensorFlow and the first step share two cores with the browsers
BUDGET_SHOWN = re.compile(r"1 min of training|Trained for 1 minute, as planned")
# a fitted small text may stop early, before its minute, when it only learns the text by heart
ENDED = re.compile(r"Stopped: what was learned is saved|Trained for 1 minute, as planned|Stopped early: ")


def main_block(page: Page) -> Locator:
    return page.get_by_test_id("stMainBlockContainer")


def keyed(scope: Locator, key: str) -> Locator:
    """The element with Streamlit key `key` (its container carries the class st-key-<key>)."""
    return scope.locator(f".st-key-{key}")


def go_to(page: Page, title: str) -> Locator:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    main = main_block(page)
    expect(main.locator("h1")).to_contain_text("charlab" if title == "Home" else title, timeout=PAGE_LOAD)
    return main


def no_error(main: Locator) -> None:
    expect(main.get_by_test_id("stException")).to_have_count(0)
    expect(main).not_to_contain_text("Something unexpected went wrong")


def teachers_link(page: Page, app_url: str) -> str:
    """The teacher: the Limericks, the 1-minute preset, then Share as a lesson link; the link they copy."""
    page.goto(app_url)
    main = go_to(page, "Corpus")
    main.get_by_text("Limericks", exact=True).click()
    keyed(main, "corpus_use_sample").get_by_role("button").click()
    expect(main.locator("h2")).to_contain_text("Limericks", timeout=PAGE_LOAD)
    main = go_to(page, "Train")
    keyed(main, "train_preset").get_by_role("radio", name="Quick · 1 minute").click(timeout=PAGE_LOAD)
    expect(keyed(main, "settings_minutes").get_by_role("spinbutton")).to_have_value("1.00", timeout=PAGE_LOAD)
    main.get_by_text("Share as a lesson link", exact=True).click()
    expect(main).to_contain_text("Learners train for 1 minute by the clock", timeout=PAGE_LOAD)
    # this server listens on 127.0.0.1 only (tests/streamlit_server.py): the teacher is told students cannot reach it
    expect(main.get_by_test_id("stAlert").filter(has_text="a name that means this computer")).to_be_visible()
    expect(main.get_by_test_id("stAlert").filter(has_text="--server.address 0.0.0.0")).to_be_visible()
    code = main.get_by_test_id("stCode").filter(has_text="min=1")
    expect(code).to_have_count(1, timeout=PAGE_LOAD)
    no_error(main)
    return code.inner_text().strip()


def test_a_lesson_link_made_after_one_minute_trains_one_minute_in_another_browser(
    page: Page, browser: Browser, app_url: str
):
    link = teachers_link(page, app_url)
    assert link.startswith(app_url) and "s=limericks" in link and "ep=20" in link, link

    student = browser.new_context(viewport={"width": 1280, "height": 720})  # another browser: no shared session
    try:
        learner = student.new_page()
        learner.goto(link)  # the page the teacher was on: Train
        main = main_block(learner)
        expect(main.locator("h1")).to_contain_text("Train", timeout=PAGE_LOAD)
        expect(main).to_contain_text("Learning from Limericks")
        minutes = keyed(main, "settings_train_by").get_by_role("radio", name="Minutes")
        expect(minutes).to_have_attribute("aria-checked", "true", timeout=PAGE_LOAD)  # "Train for: Minutes"
        expect(keyed(main, "settings_minutes").get_by_role("spinbutton")).to_have_value("1.00")
        expect(main.get_by_test_id("stMetric").filter(has_text="Epochs in 1 min")).to_be_visible()
        no_error(main)

        main = go_to(learner, "Home")
        expect(main).to_contain_text("with its settings for 1 minute by the clock")  # what Quick start promises
        main = go_to(learner, "Train")
        keyed(main, "train_start").get_by_role("button").click()
        # the budget the training got: its progress says so, or (on a machine so loaded that the first step
        # takes the whole minute) its end does
        expect(main).to_contain_text(BUDGET_SHOWN, timeout=TRAINING)
        keyed(main, "train_stop").get_by_role("button").click(force=True)  # a finished training's Stop ignores it
        expect(main).to_contain_text(ENDED, timeout=TRAINING)
        no_error(main)
    finally:
        student.close()
