"""Real users' texts in a real browser: a German story, Chinese poems and 4 KB of one's own song lyrics, each
uploaded and walked through Corpus → Train → Generate → Look inside, with a reload of the tab on every page.

The demo path (a bundled English sample) is tests/test_browser.py; these are the paths it does not take: letters
outside ASCII (ß, ä, „ “), a script without spaces between words and with hundreds of characters, a text too small
for the default network, a phone's screen (390×844), a reload before every main button (the address keeps
`?session=…`, so the same session must come back whole) and a school network with no internet (every request to
another address is refused, and none may be attempted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

DATA = Path(__file__).resolve().parent / "data" / "languages"
PAGE_LOAD = 30_000  # ms
TRAINING = 180_000  # ms: TensorFlow's start and a tiny training share two cores with the browser
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}


@dataclass(frozen=True)
class Text:
    file: str
    viewport: dict
    letters: re.Pattern  # what every cleaning mode must keep recognisable in the preview
    written: re.Pattern  # what the network's own text must contain after a short training


TEXTS = {
    "german": Text("deutsch.txt", PROJECTOR, re.compile(r"m(ü|u|ue)hlenstra(ß|ss)e", re.I), re.compile(r"[a-zäöüß]")),
    "chinese": Text("tang_poems.txt", PROJECTOR, re.compile("明月"), re.compile(r"[\u4e00-\u9fff]")),
    "lyrics on a phone": Text("lyrics.txt", PHONE, re.compile(r"running", re.I), re.compile(r"[a-z]")),
}


def main_block(page: Page) -> Locator:
    return page.get_by_test_id("stMainBlockContainer")


def keyed(scope: Locator, key: str, role: str = "button") -> Locator:
    return scope.locator(f".st-key-{key}").get_by_role(role)


def no_error(page: Page) -> None:
    for scope in (main_block(page), page.get_by_test_id("stSidebar")):
        expect(scope.get_by_test_id("stException")).to_have_count(0)
        expect(scope).not_to_contain_text("Something unexpected went wrong")


def go_to(page: Page, title: str) -> Locator:
    """Through the sidebar's navigation, opening the sidebar first where a phone's screen hides it."""
    nav = page.get_by_test_id("stSidebarNav")
    if not nav.is_visible():
        page.get_by_test_id("stExpandSidebarButton").click()
    nav.get_by_role("link", name=title).click()
    main = main_block(page)
    expect(main.locator("h1")).to_contain_text(title, timeout=PAGE_LOAD)
    if page.viewport_size == PHONE and nav.is_visible():  # the open sidebar covers a phone's page
        page.get_by_test_id("stSidebarCollapseButton").click()
    return main


def reload(page: Page, title: str) -> Locator:
    """The tab reloaded at the same address: the same session, on the same page."""
    url = page.url
    assert re.search(r"[?&]session=[0-9a-f]{16}\b", url), url
    page.reload()
    main = main_block(page)
    expect(main.locator("h1")).to_contain_text(title, timeout=PAGE_LOAD)
    assert page.url == url
    no_error(page)
    return main


def slide_to_smallest(main: Locator, label: str) -> None:
    thumb = main.get_by_role("slider", name=label)
    thumb.focus()
    thumb.press("Home")


def train_by_epochs(main: Locator, epochs: int) -> None:
    box = main.get_by_label("Epochs", exact=True)
    if not box.is_visible():  # training by minutes: switch to epochs
        main.get_by_role("button", name="Epochs", exact=True).click()
    box.fill(str(epochs))
    box.press("Enter")
    expect(box).to_have_value(str(epochs))


def refuse_other_addresses(page: Page, app_url: str) -> list[str]:
    """Refuse every request the page makes to an address other than the app's, and list it. Before, every page
    load fetched the tab's icon from fonts.gstatic.com (missing offline; telling Google who uses the app)."""
    tried: list[str] = []
    origin = re.match(r"https?://[^/]+", app_url).group(0)

    def handle(route):
        url = route.request.url
        if url.startswith((origin, "data:", "blob:")):
            route.continue_()
        else:
            tried.append(url)
            route.abort()

    page.context.route("**/*", handle)
    return tried


@pytest.mark.parametrize("name", list(TEXTS))
def test_a_text_of_ones_own_from_corpus_to_look_inside(page: Page, app_url: str, name: str):
    text = TEXTS[name]
    raw = (DATA / text.file).read_bytes()
    outside = refuse_other_addresses(page, app_url)  # a school network with no internet
    page.set_viewport_size(text.viewport)
    page.goto(app_url)
    expect(main_block(page).locator("h1")).to_contain_text("charlab", timeout=PAGE_LOAD)

    # ---- Corpus: the upload, every cleaning mode keeps the text's letters, a reload keeps the text
    main = go_to(page, "Corpus")
    main.get_by_role("tab", name="Upload your own").click()
    main.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": text.file, "mimeType": "text/plain", "buffer": raw}]
    )
    expect(main.locator("h2").first).to_have_text(text.file, timeout=PAGE_LOAD)
    cleaning = main.locator(".st-key-corpus_cleaning")
    modes = cleaning.get_by_role("radio")
    expect(modes.first).to_be_attached()
    names = modes.evaluate_all("radios => radios.map(r => r.closest('label').innerText.trim())")
    for i, mode in enumerate(names):
        cleaning.get_by_text(mode, exact=True).click()
        expect(modes.nth(i)).to_be_checked()
        preview = main.get_by_test_id("stCode").last  # the cleaned preview
        expect(preview).to_contain_text(text.letters, timeout=PAGE_LOAD)
        no_error(page)
    cleaning.get_by_text(names[0], exact=True).click()  # back to keeping everything
    expect(modes.first).to_be_checked()
    main = reload(page, "Corpus")
    expect(main.locator("h2").first).to_have_text(text.file)

    # ---- Train: a reload first, then Start with the run name left empty; a tiny network for a few epochs
    main = go_to(page, "Train")
    main = reload(page, "Train")
    expect(main).to_contain_text(f"Learning from {text.file}")
    slide_to_smallest(main, "Units")
    slide_to_smallest(main, "Sequence length")
    train_by_epochs(main, 3)
    expect(main.get_by_label("Run name", exact=True)).to_have_value("")
    keyed(main, "train_start").click()
    expect(main).to_contain_text("Training finished.", timeout=TRAINING)
    no_error(page)
    main = reload(page, "Train")
    expect(main).to_contain_text("finished")
    no_error(page)

    # ---- Generate: a reload, then the network writes in the text's own letters
    go_to(page, "Generate")
    main = reload(page, "Generate")
    keyed(main, "generate_go").click()
    expect(keyed(main, "generate_download")).to_be_visible(timeout=PAGE_LOAD)
    written = main.locator(".charlab-text").first.inner_text()
    assert text.written.search(written), written[:200]
    expect(main).to_contain_text("Is it copying?")
    no_error(page)

    # ---- Look inside: a reload, then the text coloured by a unit
    go_to(page, "Look inside")
    main = reload(page, "Look inside")
    coloured = main.locator(".charlab-inside").first
    expect(coloured).to_be_visible(timeout=PAGE_LOAD)
    assert coloured.locator("span").count() > 50
    no_error(page)

    # every page, a training and Generate, and not one request to another address was even attempted
    assert outside == [], outside
