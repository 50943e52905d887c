"""charlab.saving.webpage: a run as one self-contained web page. What the browser does: test_browser_webpage.py."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from webpage_runs import make_run

from charlab import cli
from charlab.errors import CharlabError
from charlab.network import sampling
from charlab.network.generation import GENERATE_SETTINGS
from charlab.saving import runs, webpage

HOSTILE_NAME = "</script><script>alert(1)</script>"
HOSTILE_CHARS = "ab <&\">'\u2028\u2029\n"


def parts(page: str) -> dict[str, str]:
    """The page's CSP, style, data block and script, as the browser will read them."""
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL)
    return {
        "csp": re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1),
        "style": re.search(r"<style>(.*?)</style>", page, re.DOTALL).group(1),
        "scripts": scripts,
        "data": next(body for attrs, body in scripts if "application/json" in attrs),
        "script": next(body for attrs, body in scripts if "application/json" not in attrs),
    }


def sha(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def test_one_script_whose_hash_is_the_only_one_allowed(tmp_path):
    page = webpage.export_html(make_run(tmp_path))
    p = parts(page)
    assert len(p["scripts"]) == 2  # the data block (never run) and the page's own script
    assert f"script-src 'sha256-{sha(p['script'])}'" in p["csp"]
    assert f"style-src 'sha256-{sha(p['style'])}'" in p["csp"]
    assert p["csp"].startswith("default-src 'none';")  # no connect-src, font-src, frame-src: nothing goes out
    assert "connect-src" not in p["csp"] and "unsafe" not in p["csp"]
    assert (
        "CHARLAB_CELLS" in p["script"] and "function vecMat" in p["script"]
    )  # the cells' JS from charlab.network.cells


def test_nothing_comes_from_another_address(tmp_path):
    page = webpage.export_html(make_run(tmp_path))
    outside = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.DOTALL)
    assert not re.search(r"https?:|//[a-z]", outside.replace("<!doctype html>", ""), re.IGNORECASE)
    for link in re.findall(r'(?:src|href)="([^"]*)"', outside):
        assert link.startswith("data:"), link
    assert "@import" not in outside and "url(" not in outside


def test_the_run_goes_in_as_data_never_markup(tmp_path):
    path = make_run(
        tmp_path,
        chars=HOSTILE_CHARS,
        name=HOSTILE_NAME,
        corpus_name="<b>bold</b> & co",
        epoch_texts=[{"epoch": 1, "temperature": 0.8, "text": "<img src=x onerror=alert(2)>\u2028</script>"}],
    )
    p = parts(webpage.export_html(path))
    assert not re.search("[<>&\u2028\u2029]", p["data"])  # every one written as a \u escape
    data = json.loads(p["data"])
    assert data["name"] == HOSTILE_NAME
    assert data["corpus_name"] == "<b>bold</b> & co"
    assert data["vocab"] == sorted(set(HOSTILE_CHARS))
    assert data["epoch_texts"][0]["text"] == "<img src=x onerror=alert(2)>\u2028</script>"
    assert "U+2028" in data["visible"] and "⏎" in data["visible"] and "␣" in data["visible"]


def test_json_for_html_escapes_what_could_end_a_script():
    text = webpage.json_for_html({"a": "</script>&\u2028\u2029"})
    assert text == '{"a":"\\u003c/script\\u003e\\u0026\\u2028\\u2029"}'
    assert json.loads(text) == {"a": "</script>&\u2028\u2029"}


def test_markers_in_the_data_are_not_filled_again(tmp_path):
    page = webpage.export_html(make_run(tmp_path, name="{{script}} {{csp}}"))
    assert json.loads(parts(page)["data"])["name"] == "{{script}} {{csp}}"
    assert page.count("CHARLAB_CELLS = {") == 1


def test_the_weights_read_back_are_the_runs_rounded_to_float16(tmp_path):
    run = runs.load_run(make_run(tmp_path, cell="lstm", layers=2, units=8))
    block = webpage.page_data(run)["weights"]
    flat = np.frombuffer(base64.b64decode(block["data"]), dtype="<f2").astype(np.float32)
    rounded = webpage.rounded_weights(run.weights)
    assert {a["name"] for a in block["arrays"]} == set(run.weights)
    for a in block["arrays"]:
        size = int(np.prod(a["shape"]))
        np.testing.assert_array_equal(flat[a["offset"] : a["offset"] + size].reshape(a["shape"]), rounded[a["name"]])
        assert np.abs(rounded[a["name"]] - run.weights[a["name"]]).max() <= 1e-3 * np.abs(run.weights[a["name"]]).max()


def test_float32_is_exact_but_twice_the_size(tmp_path):
    run = runs.load_run(make_run(tmp_path, units=64))
    block = webpage.encode_weights(run, "float32")
    flat = np.frombuffer(base64.b64decode(block["data"]), dtype="<f4")
    assert flat.size == sum(w.size for w in run.weights.values())
    half = len(webpage.encode_weights(run, "float16")["data"])
    assert len(block["data"]) == pytest.approx(2 * half, rel=0.01)
    with pytest.raises(CharlabError, match="float16 or float32"):
        webpage.export_html(run, encoding="int8")


@pytest.mark.parametrize(("units", "limit_mb"), [(256, 1.0), (384, 2.0)])
def test_the_default_and_the_5_minute_preset_fit(tmp_path, units, limit_mb):
    """GRU 256 (the default) within 1 MB, GRU 384 (Balanced · 5 minutes) within 2 MB, for 65 characters."""
    size = len(webpage.export_html(make_run(tmp_path, units=units)).encode("utf-8"))
    assert size <= limit_mb * 1e6
    assert size >= 0.5 * limit_mb * 1e6  # the weights are really in it


def test_a_model_too_big_for_a_page_is_refused_in_words(tmp_path):
    info = runs.run_info(make_run(tmp_path, units=1024, layers=2, name="Huge"))
    problem = webpage.export_problem(info)
    assert problem is not None and "«Huge»" in problem and "5,000,000" in problem and ".zip" in problem
    with pytest.raises(CharlabError, match="too big to open quickly"):
        webpage.export_html(info.path)
    assert webpage.export_problem(runs.run_info(make_run(tmp_path, units=256))) is None


def test_a_run_without_a_saved_model_yet_is_said_so(tmp_path):
    path = make_run(tmp_path, name="Still training")
    (path / "weights.npz").unlink()
    runs.update_meta(path, status="training")
    runs.mark_active(path, True)  # trained by this process, before its first checkpoint
    try:
        problem = webpage.export_problem(runs.run_info(path))
    finally:
        runs.mark_active(path, False)
    assert problem == "«Still training» has no saved model yet: it can become a web page after its first checkpoint."


def test_the_size_check_counts_every_number_of_the_weights(tmp_path):
    for cell in ("lstm", "gru", "simple_rnn"):
        run = runs.load_run(make_run(tmp_path, cell=cell, layers=2, units=12))
        from charlab.network.model import count_parameters

        assert count_parameters(run.config, len(run.vocab)) == sum(w.size for w in run.weights.values())


def test_what_the_page_says_about_the_run(tmp_path):
    run = runs.load_run(make_run(tmp_path, cell="lstm", layers=2, units=16, corpus_name="fables.txt"))
    assert webpage.facts_words(run) == "Learned from fables.txt · 2×LSTM 16 · best validation loss 1.234"
    data = webpage.page_data(run)
    assert data["compare_temperatures"] == [0.2, 0.8, 1.5]
    assert data["settings"]["temperature"]["help"].startswith("Low temperature: safe, repetitive text.")
    assert "trained with charlab" in data["words"]["footer"].lower()


def test_the_page_data_carries_every_generation_setting_from_the_table(tmp_path):
    """The page's inputs are drawn from this: a new row of GENERATE_SETTINGS reaches the page by itself."""
    run = runs.load_run(make_run(tmp_path, units=16))
    data = webpage.page_data(run)["settings"]
    assert list(data) == list(GENERATE_SETTINGS)
    for name, setting in GENERATE_SETTINGS.items():
        shown = data[name]
        assert (shown["label"], shown["help"], shown["default"]) == (setting.label, setting.help, setting.default)
        assert shown["whole"] == (setting.kind is int)
    assert (data["length"]["min"], data["length"]["max"]) == (10, webpage.MAX_LENGTH)
    assert (data["top_k"]["min"], data["top_k"]["max"]) == (0, len(run.vocab))
    assert (data["random_seed"]["max"], data["temperature"]["step"]) == (2**31 - 1, 0.05)
    assert data["temperature"]["kept_within"] == [sampling.MIN_TEMPERATURE, sampling.MAX_TEMPERATURE]
    assert data["seed_text"]["max"] == 2000 and data["seed_text"]["placeholder"] == "e.g. The fox"
    words = webpage.page_data(run)["words"]["numbers_help"]
    assert words == f"Top-k: o{GENERATE_SETTINGS['top_k'].help[1:]} {GENERATE_SETTINGS['random_seed'].help}"


def test_many_epoch_texts_are_thinned_to_the_first_the_last_and_some_between(tmp_path):
    texts = [{"epoch": i, "temperature": 0.8, "text": f"text {i}"} for i in range(1, 101)]
    data = webpage.page_data(runs.load_run(make_run(tmp_path, epoch_texts=texts)))
    epochs = [e["epoch"] for e in data["epoch_texts"]]
    assert len(epochs) == webpage.MAX_EPOCH_TEXTS and epochs[0] == 1 and epochs[-1] == 100
    assert epochs == sorted(set(epochs))


def test_cli_exports_a_web_page_and_a_zip(tmp_path, capsys):
    make_run(tmp_path / "runs", name="Shakespeare")
    page, archive = tmp_path / "out.html", tmp_path / "out.zip"
    argv = ["--workspace", str(tmp_path / "runs"), "export", "Shakespeare", "--html", str(page), "--zip", str(archive)]
    assert cli.main(argv) == 0
    assert json.loads(parts(page.read_text(encoding="utf-8"))["data"])["name"] == "Shakespeare"
    assert archive.read_bytes()[:2] == b"PK"
    assert "wrote" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "Say what to write: --html FILE"),
        (["--html", "{tmp}"], "is a folder"),
        (["--html", "{tmp}/nowhere/page.html"], "does not exist"),
    ],
)
def test_cli_export_errors_are_one_plain_sentence(tmp_path, capsys, extra, message):
    make_run(tmp_path / "runs", name="Shakespeare")
    extra = [e.replace("{tmp}", str(tmp_path)) for e in extra]
    assert cli.main(["--workspace", str(tmp_path / "runs"), "export", "Shakespeare", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_refuses_a_model_too_big_for_a_page(tmp_path, capsys):
    make_run(tmp_path / "runs", units=1024, layers=2, name="Huge")
    target = tmp_path / "huge.html"
    assert cli.main(["--workspace", str(tmp_path / "runs"), "export", "Huge", "--html", str(target)]) == 2
    assert "too big to open quickly" in capsys.readouterr().err
    assert not target.exists()


def test_the_page_files_ship_inside_the_package():
    folder = Path(webpage.__file__).parent / webpage.ASSETS
    assert sorted(p.name for p in folder.iterdir()) == ["page.css", "page.html", "page.js"]
