"""An exported page in Debian's chromium, opened from a file:// URL with every other request refused.

The runs have seeded random weights (tests/webpage_runs.py), saved through charlab's run files. The
page's weights are float16, so its text is compared with charlab's numpy generator running on the
same float16-rounded weights: greedy text (lowest temperature, top-k 1) must be identical for 300
characters (top-k 1 makes it greedy by definition on both sides: at temperature 0.001 alone, both
samplers still take the runner-up now and then where two characters are within ~0.01 of each other,
each with its own random numbers), and the probabilities of the first 50 steps within PROBABILITY_TOLERANCE.
How far float16 moves the text against the float32 weights is measured by bench/webpage.py, not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from streamlit_server import StreamlitServer
from webpage_runs import make_run

from charlab.network.cells import CELL_TYPES
from charlab.network.generation import GENERATE_SETTINGS
from charlab.network.sampling import Generator, NumpyCharModel, probabilities
from charlab.saving import runs, webpage

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [(cell, layers) for cell in CELL_TYPES for layers in (1, 2)]
# random weights whose greedy text keeps changing (many settle on one character, which would prove little)
WEIGHT_SEEDS = {("lstm", 1): 2, ("gru", 1): 2, ("gru", 2): 26, ("simple_rnn", 1): 1}
GREEDY_CHARS, PROBABILITY_STEPS = 300, 50
# float32 on both sides, summed in different orders; these networks are sure of themselves (logits of
# ±20), so a rounding of 1e-7 grows: measured at most 1.4e-5 (2-layer SimpleRNN), most configs ~1e-6
PROBABILITY_TOLERANCE = 1e-4
WAIT = 30_000  # ms: two cores shared with other tests
PHONE = {"width": 390, "height": 844}
TEXT = "to be, or not to be: that is the question.\nwhether 'tis nobler in the mind to suffer"


class OfflineBrowser:
    """A browser context where only file:// loads; every request is recorded, every other one refused."""

    def __init__(self, browser: Browser, viewport: dict | None = None):
        self.context: BrowserContext = browser.new_context(viewport=viewport or {"width": 1280, "height": 720})
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.context.route("**/*", self._route)
        self.context.on("request", lambda request: self.requests.append(request.url))

    def _route(self, route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def open(self, html_file: Path) -> Page:
        page = self.context.new_page()
        page.dialogs = []  # an alert() or confirm() would be a script that is not the page's own
        page.console = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("console", lambda message: page.console.append(message.text))
        page.on("pageerror", lambda error: page.console.append(f"page error: {error}"))
        page.goto(html_file.as_uri())
        expect(page.locator("body")).to_have_attribute("data-ready", "yes", timeout=WAIT)
        return page

    def gone_out(self) -> list[str]:
        return self.refused + [url for url in self.requests if not url.startswith("file://")]


@pytest.fixture
def offline(browser: Browser):
    context = OfflineBrowser(browser)
    yield context
    context.context.close()


def exported(tmp_path: Path, **run_options) -> tuple[runs.Run, Path]:
    """A run with random weights, exported as a page into tmp_path."""
    run = runs.load_run(make_run(tmp_path / "runs", **run_options))
    page = tmp_path / "page.html"
    page.write_text(webpage.export_html(run), encoding="utf-8")
    return run, page


def page_network(run: runs.Run) -> NumpyCharModel:
    """charlab's numpy network on the weights as the page has them (float16, back in float32)."""
    return NumpyCharModel.from_config(run.config, webpage.rounded_weights(run.weights))


def write_with_the_page(page: Page, seed: str, length: int, temperature: str, top_k: int, random_seed: int) -> str:
    """Type the settings, press Write, wait until it has written; the text written (without the seed)."""
    page.locator("#seed-text").fill(seed)
    page.locator("#temperature").fill(temperature)
    page.locator("#length").fill(str(length))
    page.locator("#top-k").fill(str(top_k))
    page.locator("#random-seed").fill(str(random_seed))
    page.locator("#text-speed").evaluate("element => { element.textContent = ''; }")
    page.locator("#write").click()
    expect(page.locator("#text-speed")).to_contain_text(f"{length:,} characters in", timeout=WAIT)
    expect(page.locator("#write")).to_be_enabled()
    return page.locator("#text-written").text_content()


@pytest.mark.parametrize(("cell", "layers"), CONFIGS)
def test_greedy_text_is_charlabs_and_the_odds_match(tmp_path, offline, cell, layers):
    run, html_file = exported(tmp_path, cell=cell, layers=layers, units=24, seed=WEIGHT_SEEDS.get((cell, layers), 0))
    page = offline.open(html_file)

    written = write_with_the_page(page, "the ", GREEDY_CHARS, "0.1", top_k=1, random_seed=0)
    numpy_generator = Generator(page_network(run), run.vocab)
    expected = numpy_generator.write("the ", GREEDY_CHARS, temperature=0.1, top_k=1, random_seed=0)
    assert len(written) == GREEDY_CHARS
    assert written == expected
    assert len(set(expected)) > 3  # a text, not one character over and over

    in_page = np.array(page.evaluate("([t, n]) => charlabPage.stepProbabilities(t, n)", [TEXT, PROBABILITY_STEPS]))
    network, state, expected_odds = page_network(run), page_network(run).initial_state(), []
    for char_id in run.vocab.encode(TEXT[:PROBABILITY_STEPS]):
        logits, state = network.step(int(char_id), state)
        expected_odds.append(probabilities(logits))
    assert in_page.shape == (PROBABILITY_STEPS, len(run.vocab))
    assert np.abs(in_page - np.array(expected_odds)).max() <= PROBABILITY_TOLERANCE
    assert offline.gone_out() == [] and page.dialogs == [] and page.console == []


def test_it_loads_and_writes_offline_on_a_phone(tmp_path, browser):
    run, html_file = exported(tmp_path, units=32, name="Fables", corpus_name="aesop.txt", logit_scale=1.5)
    phone = OfflineBrowser(browser, PHONE)
    try:
        page = phone.open(html_file)
        expect(page.locator("h1")).to_have_text("Fables")
        expect(page.locator("#run-facts")).to_have_text("Learned from aesop.txt · GRU 32 · best validation loss 1.234")
        expect(page.locator("footer")).to_contain_text("Trained with charlab.")
        page.locator("#write").click()  # the defaults: 500 characters at temperature 0.8
        expect(page.locator("#text-speed")).to_contain_text("500 characters in", timeout=WAIT)
        assert len(page.locator("#text-written").text_content()) == 500
        expect(page.locator("#next-bars li")).to_have_count(15)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        page.locator("#compare").click()
        columns = page.locator("#compare-columns > div")
        expect(columns).to_have_count(3)
        for i, temperature in enumerate(("0.2", "0.8", "1.5")):
            expect(columns.nth(i).locator("h3")).to_have_text(f"Temperature {temperature}")
        expect(page.locator("#write")).to_be_enabled(timeout=WAIT)
        assert all(len(columns.nth(i).locator(".text-box span").nth(1).text_content()) == 500 for i in range(3))
        assert phone.requests == [html_file.as_uri()]  # the page itself, and nothing else
        assert phone.gone_out() == [] and page.console == []
    finally:
        phone.context.close()


def test_the_same_random_seed_writes_the_same_text(tmp_path, offline):
    _, html_file = exported(tmp_path, units=32, logit_scale=1.5)
    page = offline.open(html_file)
    first = write_with_the_page(page, "the ", 200, "1", top_k=0, random_seed=7)
    again = write_with_the_page(page, "the ", 200, "1", top_k=0, random_seed=7)
    other = write_with_the_page(page, "the ", 200, "1", top_k=0, random_seed=8)
    assert first == again
    assert other != first


def test_characters_it_never_saw_are_skipped_and_said(tmp_path, offline):
    _, html_file = exported(tmp_path, units=16)
    page = offline.open(html_file)
    page.locator("#seed-text").fill("the ü€ cat")
    expect(page.locator("#seed-skipped")).to_have_text("⚠ Not in this model's vocabulary, so skipped: ü€")
    written = write_with_the_page(page, "the ü€ cat", 50, "0.8", top_k=0, random_seed=1)
    expect(page.locator("#text-seed")).to_have_text("the  cat")
    assert len(written) == 50
    page.locator("#length").fill("3")
    page.locator("#write").click()
    expect(page.locator("#settings-problem")).to_contain_text("Length (characters) must be a whole number from 10")


def test_the_inputs_say_what_the_settings_table_says(tmp_path, offline):
    """Labels, ranges and defaults of the page's inputs come from charlab.network.generation.GENERATE_SETTINGS."""
    run, html_file = exported(tmp_path, units=16)
    page = offline.open(html_file)
    ids = {"seed_text": "seed-text", "temperature": "temperature", "length": "length", "top_k": "top-k",
           "random_seed": "random-seed"}  # fmt: skip
    highest = {"length": webpage.MAX_LENGTH, "top_k": len(run.vocab)}
    for name, setting in GENERATE_SETTINGS.items():
        box = page.locator(f"#{ids[name]}")
        expect(page.locator(f"label[for='{ids[name]}']")).to_contain_text(setting.label)
        if setting.kind is str:
            expect(box).to_have_attribute("maxlength", as_js(setting.high))
            expect(box).to_have_attribute("placeholder", setting.placeholder)
            continue
        low, high = setting.app_range
        expect(box).to_have_attribute("min", as_js(low))
        expect(box).to_have_attribute("max", as_js(min(high, highest.get(name, high))))
        expect(box).to_have_attribute("step", as_js(setting.step))
        assert float(box.input_value()) == setting.default
    expect(page.locator("#temperature-help")).to_have_text(GENERATE_SETTINGS["temperature"].help)


def as_js(number: float) -> str:
    """A number as JavaScript's String() writes it: 2, 0.05, 2147483647."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


@pytest.mark.parametrize(
    ("box", "value", "words"),
    [
        ("top-k", "999", "Top-k (0 = all) must be a whole number from 0 to "),
        ("random-seed", "-1", "Random seed must be a whole number from 0 to 2,147,483,647."),
        ("length", "9999999", "Length (characters) must be a whole number from 10 to 5,000."),
    ],
)
def test_a_bad_number_is_refused_in_words(tmp_path, offline, box, value, words):
    _, html_file = exported(tmp_path, units=16)
    page = offline.open(html_file)
    page.locator(f"#{box}").fill(value)
    page.locator("#write").click()
    expect(page.locator("#settings-problem")).to_contain_text(words)
    expect(page.locator("#text-section")).to_be_hidden()


def test_a_hostile_run_runs_nothing_but_the_page(tmp_path, offline):
    name = "</script><script>alert(1)</script>"
    chars = "ab <&\">'\u2028\n"
    _, html_file = exported(
        tmp_path,
        units=16,
        chars=chars,
        name=name,
        corpus_name="<img src=x onerror=alert(2)>",
        epoch_texts=[{"epoch": 1, "temperature": 0.8, "text": "<script>alert(3)</script>\u2028<b>x</b>"}],
    )
    page = offline.open(html_file)
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#run-facts")).to_contain_text("Learned from <img src=x onerror=alert(2)>")
    expect(page.locator("#epoch-texts .text-box")).to_have_text("<script>alert(3)</script>\u2028<b>x</b>")
    written = write_with_the_page(page, '<&"a', 300, "2", top_k=0, random_seed=3)
    assert set(written) <= set(chars)
    assert page.locator("script").count() == 2  # the data block and the page's own script, no other
    assert page.locator("script:not([type])").count() == 1
    assert page.locator("img, b, iframe, object").count() == 0
    assert page.dialogs == []
    assert not [m for m in page.console if "Content Security Policy" in m]  # nothing even tried to run
    assert offline.gone_out() == []


def test_my_runs_downloads_a_page_that_writes_offline(tmp_path, browser):
    """The whole way: My runs' Download as a web page in the app, then the downloaded file, offline."""
    home = tmp_path / "home"
    make_run(home, units=32, name="Downloaded fables", logit_scale=1.5)
    server = StreamlitServer(ROOT, home, tmp_path / "streamlit.log", env={"CHARLAB_OWNERS": "0"})
    try:
        url = server.start(timeout=90)
        context = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
        page = context.new_page()
        page.goto(f"{url}/train")
        main = page.get_by_test_id("stMainBlockContainer")
        button = main.locator(".st-key-runs_web_page").get_by_role("button")
        expect(button).to_be_enabled(timeout=60_000)
        expect(main.get_by_test_id("stSkeleton")).to_have_count(0, timeout=60_000)
        with page.expect_download(timeout=60_000) as download:
            button.click()
        assert download.value.suggested_filename == "downloaded-fables.html"
        saved = tmp_path / "downloaded.html"
        download.value.save_as(saved)
        context.close()
    finally:
        server.stop()
    offline = OfflineBrowser(browser)
    try:
        page = offline.open(saved)
        expect(page.locator("h1")).to_have_text("Downloaded fables")
        assert len(write_with_the_page(page, "the ", 100, "0.8", top_k=0, random_seed=2)) == 100
        assert offline.gone_out() == [] and page.console == []
    finally:
        offline.context.close()


def test_new_random_seed_stays_within_the_settings_range(tmp_path, offline):
    _, html_file = exported(tmp_path, units=16)
    page = offline.open(html_file)
    page.locator("#new-seed").click()
    value = int(page.locator("#random-seed").input_value())
    low, high = GENERATE_SETTINGS["random_seed"].app_range
    assert low <= value <= high
    page.locator("#write").click()
    expect(page.locator("#text-speed")).to_contain_text(f"random seed {value}.", timeout=WAIT)
    expect(page.locator("#settings-problem")).to_be_hidden()
