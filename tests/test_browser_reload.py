""" "Refresh your page" is the first thing a class hears: in a real browser, the tab is reloaded at the same
?session= address on every page, before and after a text is picked, and each page's main buttons are pressed
after the reload. Nothing may end in "Something unexpected went wrong" or Streamlit's raw error box.

Seen in a class: a text picked on Corpus, the tab reloaded, then Start training with an empty Run name failed
(AttributeError: 'NoneType' object has no attribute 'strip'), again after every reload.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from test_browser import PAGE_LOAD, TRAINING, go_to, keyed, main_block, slide

pytestmark = pytest.mark.browser

SESSION = re.compile(r"[?&]session=([0-9a-f]{16})\b")


def no_error(page: Page) -> None:
    """Nowhere on the page (main area and sidebar): no raw error box, no unexpected error in plain words."""
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stApp")).not_to_contain_text("Something unexpected went wrong")


def reload_on(page: Page, title: str) -> Locator:
    """Reload the tab; it comes back to the same page of the same session."""
    token = SESSION.search(page.url)
    assert token, page.url
    page.reload()
    main = main_block(page)
    expect(main.locator("h1")).to_contain_text(title, timeout=PAGE_LOAD)
    assert SESSION.search(page.url).group(1) == token.group(1), page.url
    no_error(page)
    return main


def go_home(page: Page) -> Locator:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Home").click()
    main = main_block(page)
    expect(keyed(main, "home_quick_start")).to_be_visible(timeout=PAGE_LOAD)
    return main


def test_every_page_works_after_a_reload(page: Page, app_url: str):
    # ---- Home, reloaded before anything was chosen
    page.goto(app_url)
    main = main_block(page)
    expect(main.locator("h1")).to_contain_text("charlab", timeout=PAGE_LOAD)
    expect(page).to_have_url(SESSION, timeout=PAGE_LOAD)
    reload_on(page, "charlab")

    # ---- Corpus: pick a text, reload, press its buttons again (Use, a cleaning)
    main = go_to(page, "Corpus")
    main.get_by_text("Limericks", exact=True).click()
    keyed(main, "corpus_use_sample").click()
    expect(main.locator("h2")).to_contain_text("Limericks", timeout=PAGE_LOAD)
    main = reload_on(page, "Corpus")
    expect(main.locator("h2")).to_contain_text("Limericks", timeout=PAGE_LOAD)  # the text came back
    main.get_by_text("Lowercase", exact=True).click()  # the cleaning's on_change callback
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Lowercase", timeout=PAGE_LOAD)
    keyed(main, "corpus_use_sample").click()
    expect(main.locator("h2")).to_contain_text("Limericks", timeout=PAGE_LOAD)
    no_error(page)
    reload_on(page, "Corpus")  # the Train page was never drawn: its Run name box has no value yet

    # ---- Home reloaded with a text chosen
    go_home(page)
    reload_on(page, "charlab")

    # ---- Train: reloaded, then Start training with an empty Run name (a tiny network), Stop after a reload
    main = go_to(page, "Train")
    main = reload_on(page, "Train")
    expect(main).to_contain_text("Learning from Limericks", timeout=PAGE_LOAD)
    expect(slide(main, "Units")).to_have_attribute("aria-valuetext", "16")
    expect(slide(main, "Embedding size")).to_have_attribute("aria-valuetext", "8")
    expect(slide(main, "Sequence length")).to_have_attribute("aria-valuetext", "8")
    epochs = main.get_by_label("Epochs", exact=True)
    epochs.fill("300")  # more than the test waits for: Stop ends it
    epochs.press("Enter")
    expect(main.get_by_test_id("stMetric").filter(has_text="All epochs")).to_be_visible(timeout=PAGE_LOAD)
    expect(main.get_by_label("Run name", exact=True)).to_have_value("")
    keyed(main, "train_start").click()
    expect(main.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=TRAINING)
    no_error(page)
    main = reload_on(page, "Train")  # mid-training
    expect(main.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=PAGE_LOAD)
    keyed(main, "train_stop").click()
    expect(main).to_contain_text("Stopped: what was learned is saved.", timeout=TRAINING)
    expect(main.get_by_role("combobox", name="Choose a run")).to_have_value(re.compile("^Limericks"))
    no_error(page)
    main = reload_on(page, "Train")  # after the training: Load in My runs
    keyed(main, "runs_load").click()
    expect(main.get_by_test_id("stAlert").filter(has_text="Loaded «Limericks")).to_be_visible(timeout=PAGE_LOAD)
    no_error(page)

    # ---- Generate: reloaded, then Generate, Compare temperatures, New random seed
    go_to(page, "Generate")
    main = reload_on(page, "Generate")
    expect(main.get_by_role("combobox", name="Run", exact=True)).to_have_value(re.compile("^Limericks"))
    keyed(main, "generate_go").click()
    expect(keyed(main, "generate_download")).to_be_visible(timeout=PAGE_LOAD)
    keyed(main, "generate_compare").click()
    expect(main).to_contain_text("Temperature 1.5", timeout=PAGE_LOAD)
    keyed(main, "generate_dice").click()  # an on_click callback
    expect(main.get_by_label("Random seed", exact=True)).not_to_have_value("42", timeout=PAGE_LOAD)
    no_error(page)
    main = reload_on(page, "Generate")
    keyed(main, "generate_go").click()
    expect(keyed(main, "generate_download")).to_be_visible(timeout=PAGE_LOAD)
    no_error(page)

    # ---- Look inside: reloaded, then a unit picked from the ranking (an on_change callback)
    go_to(page, "Look inside")
    main = reload_on(page, "Look inside")
    expect(main.locator(".charlab-inside").first).to_be_visible(timeout=PAGE_LOAD)
    ranking = main.get_by_role("combobox", name="Show a unit from the ranking")
    if ranking.count():  # a text with quotes, brackets or new lines ranks its units
        ranking.focus()
        ranking.press("ArrowDown")  # opens the list on its first unit
        ranking.press("Enter")
        expect(ranking).to_have_value(re.compile(r"\S"), timeout=PAGE_LOAD)
        expect(main.locator(".charlab-inside").first).to_be_visible(timeout=PAGE_LOAD)
    no_error(page)

    # ---- Home: reloaded, then Quick start (stopped at once: the test needs only that it starts)
    go_home(page)
    main = reload_on(page, "charlab")
    keyed(main, "home_quick_start").click()
    expect(main.locator("h1")).to_contain_text("Train", timeout=PAGE_LOAD)
    expect(keyed(main, "train_stop")).to_be_enabled(timeout=TRAINING)
    main = reload_on(page, "Train")
    keyed(main, "train_stop").click()
    expect(keyed(main, "train_start")).to_be_enabled(timeout=TRAINING)
    no_error(page)
