"""Lesson links and lesson files: round trips, short readable URLs, and refusing bad values in plain words."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from charlab.errors import CharlabError
from charlab.lessons import (
    CONTROLS,
    Lesson,
    from_query_params,
    is_lesson,
    lesson_from_json,
    lesson_to_json,
    lesson_url,
    to_query_params,
)
from charlab.model import ModelConfig

SONNETS = Lesson(
    sample="sonnets",
    cleaning="lowercase",
    settings={"units": 128, "learning_rate": 0.003, "cell": "gru", "dropout": 0.2},
    hidden=("layers", "embedding_dim", "dropout", "cleaning"),
    title="Lesson 2: more units",
)


def _from_url(url: str) -> Lesson:
    return from_query_params(parse_qs(urlsplit(url).query))  # lists of values, as parse_qs gives them


def test_url_round_trip():
    url = lesson_url(SONNETS, "http://localhost:8501/")
    assert url.startswith("http://localhost:8501/?")
    assert "u=128" in url and "s=sonnets" in url and "h=l.e.do.cl" in url
    back = _from_url(url)
    assert back == SONNETS
    cfg = back.config()
    assert (cfg.units, cfg.cell, cfg.learning_rate, cfg.layers) == (128, "gru", 0.003, ModelConfig().layers)


def test_query_params_are_short_and_only_what_the_lesson_sets():
    params = to_query_params(Lesson(settings={"epochs": 5}))
    assert params == {"ep": "5"}
    assert from_query_params(params) == Lesson(settings={"epochs": 5})
    assert lesson_url(Lesson(), "http://x/") == "http://x/"
    assert lesson_url(Lesson(sample="reber"), "http://x/?a=1").endswith("?a=1&s=reber")


def test_unknown_keys_are_ignored_and_a_session_is_not_a_lesson():
    params = {"session": "0123456789abcdef", "zz": "1", "u": "64", "h": "u.nonsense"}
    assert is_lesson(params)
    assert not is_lesson({"session": "0123456789abcdef"})
    lesson = from_query_params(params)
    assert lesson.settings == {"units": 64}
    assert lesson.hidden == ("units",)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"u": "lots"}, "not a number"),
        ({"u": "0"}, "Units must be between"),
        ({"u": "12.5"}, "whole number"),
        ({"lr": "nan"}, "Learning rate"),
        ({"vf": "0.7"}, "Validation share"),
        ({"c": "transformer"}, "Cell type must be one of"),
        ({"s": "no_such_text"}, "no sample text called"),
        ({"cl": "shout"}, "cleaning mode 'shout'"),
        ({"t": "x" * 500}, "title"),
    ],
)
def test_bad_values_are_refused_in_plain_words(params, words):
    with pytest.raises(CharlabError, match=words):
        from_query_params(params)


def test_whole_number_floats_become_ints():
    assert from_query_params({"u": "128.0", "ep": "3"}).settings == {"units": 128, "epochs": 3}


def test_lesson_file_round_trip_with_full_names(tmp_path):
    text = lesson_to_json(SONNETS)
    data = json.loads(text)
    assert data["format"] == "charlab-lesson"
    assert data["settings"]["units"] == 128 and "layers" in data["hidden"]
    path = tmp_path / "lesson.json"
    path.write_text(text, encoding="utf-8")
    assert lesson_from_json(path.read_bytes()) == SONNETS
    assert set(SONNETS.hidden) <= set(CONTROLS)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not a charlab lesson file"),
        ('{"format": "something-else"}', "not a charlab lesson file"),
        ('{"format": "charlab-lesson", "settings": [1]}', "damaged"),
        ('{"format": "charlab-lesson", "settings": {"units": "many"}}', "Units must be a whole number"),
        ('{"format": "charlab-lesson", "sample": 7}', "sample is not text"),
        ("x" * 100_000, "too large"),
    ],
)
def test_bad_lesson_files_are_refused(data, words):
    with pytest.raises(CharlabError, match=words):
        lesson_from_json(data)


def test_a_lesson_file_ignores_unknown_settings_and_controls():
    data = {"format": "charlab-lesson", "settings": {"units": 32, "warp": 9}, "hidden": ["epochs", "warp"]}
    lesson = lesson_from_json(json.dumps(data))
    assert lesson.settings == {"units": 32} and lesson.hidden == ("epochs",)


def test_an_unknown_cleaning_mode_is_refused_with_each_modes_name_in_words():
    with pytest.raises(CharlabError) as err:
        from_query_params({"cl": "tidy"}).validate()
    assert "cleaning mode 'tidy' that does not exist" in str(err.value)
    assert "letters_punct (Letters and punctuation)" in str(err.value) and "keep (Keep everything)" in str(err.value)
