"""Lesson links and lesson files: round trips, short readable URLs, and refusing bad values in plain words."""

from __future__ import annotations

import ipaddress
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from charlab.errors import CharlabError
from charlab.network.model import ModelConfig
from charlab.teaching.lessons import (
    CONTROLS,
    SETTING_PARAMS,
    Lesson,
    LinkAddress,
    from_query_params,
    is_lesson,
    is_local_address,
    lesson_from_json,
    lesson_to_json,
    lesson_url,
    link_address,
    network_address,
    to_query_params,
    with_host,
)

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
    config = back.config()
    assert (config.units, config.cell, config.learning_rate, config.layers) == (128, "gru", 0.003, ModelConfig().layers)


def test_a_lesson_can_fix_the_precision():
    lesson = from_query_params({"pr": "float32", "h": "pr"})
    assert lesson.settings == {"precision": "float32"} and lesson.hidden == ("precision",)
    assert to_query_params(lesson)["pr"] == "float32"
    with pytest.raises(CharlabError, match="Precision must be one of auto, float32, bfloat16"):
        from_query_params({"pr": "float8"})


def test_the_settings_short_names_are_the_ones_links_in_the_wild_use():
    assert SETTING_PARAMS == {
        "cell": "c", "units": "u", "layers": "l", "embedding_dim": "e", "dropout": "do", "seq_length": "sl",
        "batch_size": "bs", "learning_rate": "lr", "schedule": "sch", "clipnorm": "cn", "epochs": "ep",
        "validation_fraction": "vf", "precision": "pr",
    }  # fmt: skip


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


# ---------------------------------------------------------------- how long to train, hiding everything

QUICK_MINUTE = Lesson(sample="tiny_shakespeare", settings={"cell": "gru", "units": 256, "epochs": 20}, minutes=1.0)


def test_a_link_carries_minutes_by_the_clock():
    url = lesson_url(QUICK_MINUTE, "http://192.0.2.7:8501/")
    query = parse_qs(urlsplit(url).query)
    assert query["min"] == ["1"] and query["ep"] == ["20"]  # the epochs stay: by the clock they only cap it
    back = _from_url(url)
    assert back == QUICK_MINUTE and back.minutes == 1.0
    assert from_query_params({"min": "2.5"}).minutes == 2.5
    assert _from_url(lesson_url(SONNETS, "http://x/")).minutes is None  # a link without minutes: by epochs


def test_a_link_can_hide_all_settings():
    lesson = Lesson(sample="reber", cleaning="keep", minutes=0.5, hide_all=True, hidden=("units",))
    params = to_query_params(lesson)
    assert params["h"] == "all" and params["min"] == "0.5"
    back = from_query_params(params)
    assert back.hide_all and back == lesson.validate()
    assert back.hidden_controls == tuple(CONTROLS)  # the text, the cleaning, every setting and the length
    own_text = from_query_params({"u": "64", "h": "all"})  # made from an uploaded text: the learner picks one
    assert set(CONTROLS) - set(own_text.hidden_controls) == {"sample", "cleaning"}
    assert from_query_params({"h": "u.all"}).hide_all
    assert not from_query_params({"h": "u"}).hide_all and SONNETS.hidden_controls == SONNETS.hidden


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("abc", "'abc'"), ("-1", "'-1'"), ("0", "'0'"), ("0.1", "'0.1'"), ("nan", "'nan'"), ("inf", "'inf'"),
     ("100000", "'100000'"), ("1,5", "'1,5'")],
)  # fmt: skip
def test_bad_minutes_are_refused_in_plain_words_quoting_the_link(raw, shown):
    with pytest.raises(CharlabError, match="training time must be a number of minutes from 0.5 to 600") as err:
        from_query_params({"u": "64", "min": raw})
    assert str(err.value).endswith(f"not {shown}.")


def test_a_lesson_file_carries_minutes_and_hide_all():
    lesson = Lesson(sample="reber", settings={"units": 32}, minutes=3.0, hide_all=True)
    data = json.loads(lesson_to_json(lesson))
    assert data["format_version"] == 3 and data["minutes"] == 3.0 and data["hide_all"] is True
    assert lesson_from_json(json.dumps(data)) == lesson
    by_epochs = json.loads(lesson_to_json(SONNETS))
    assert by_epochs["minutes"] is None and by_epochs["hide_all"] is False


def test_a_lesson_turns_projector_mode_on_by_link_and_by_file():
    lesson = Lesson(sample="reber", projector=True)
    params = to_query_params(lesson)
    assert params["pm"] == "1"
    assert from_query_params(params) == lesson
    assert from_query_params({"s": "reber", "pm": "0"}).projector is False
    assert not from_query_params({"s": "reber"}).projector  # without it: the learner's own choice
    assert "pm" not in to_query_params(Lesson(sample="reber"))
    assert is_lesson({"pm": "1"})
    data = json.loads(lesson_to_json(lesson))
    assert data["projector"] is True and lesson_from_json(json.dumps(data)) == lesson
    data.pop("projector")  # a version 2 file has none
    assert lesson_from_json(json.dumps(data | {"format_version": 2})).projector is False


@pytest.mark.parametrize("raw", ["yes", "2", "on", "<b>"])
def test_a_bad_projector_value_in_a_link_is_refused_in_words(raw):
    with pytest.raises(CharlabError, match=f"projector mode \\(pm\\) is '{re.escape(raw)}': it can be 1 \\(on\\) or 0"):
        from_query_params({"s": "reber", "pm": raw})


def test_a_lesson_file_whose_projector_is_not_true_or_false_is_refused():
    with pytest.raises(CharlabError, match="'projector' must be true or false"):
        lesson_from_json('{"format": "charlab-lesson", "projector": "yes"}')


def test_a_version_1_lesson_file_trains_by_its_epochs():
    version_1 = {"format": "charlab-lesson", "format_version": 1, "title": "", "sample": "reber", "cleaning": None,
                 "settings": {"units": 32, "epochs": 3}, "hidden": ["epochs"]}  # fmt: skip
    lesson = lesson_from_json(json.dumps(version_1))
    assert lesson.minutes is None and not lesson.hide_all and lesson.settings["epochs"] == 3


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ('{"format": "charlab-lesson", "minutes": "1"}', "training time must be a number"),
        ('{"format": "charlab-lesson", "minutes": true}', "training time must be a number"),
        ('{"format": "charlab-lesson", "minutes": -2}', "not '-2'"),
        ('{"format": "charlab-lesson", "hide_all": "yes"}', "hides all settings or not"),
    ],
)
def test_bad_minutes_or_hide_all_in_a_lesson_file_are_refused(data, words):
    with pytest.raises(CharlabError, match=words):
        lesson_from_json(data)


# ---------------------------------------------------------------- the address students can reach


def _never_asked() -> str:
    raise AssertionError("the network address was looked up although it was not needed")


@pytest.mark.parametrize(
    ("browser", "public", "listen", "expected"),
    [
        ("http://localhost:8501/", "https://charlab.school.example", None,
         LinkAddress("https://charlab.school.example", "public")),
        ("http://192.0.2.9:8501/", None, None, LinkAddress("http://192.0.2.9:8501/", "browser")),
        ("", None, None, LinkAddress("", "browser")),  # unknown (an old Streamlit): a relative link
        ("http://localhost:8501/", None, "127.0.0.1", LinkAddress("http://localhost:8501/", "listens_locally")),
        ("http://127.0.0.1:8501/app/", None, "192.0.2.5", LinkAddress("http://192.0.2.5:8501/app/", "network")),
    ],
)  # fmt: skip
def test_the_link_address_is_one_students_can_reach(browser, public, listen, expected):
    assert link_address(browser, public, listen, _never_asked) == expected


@pytest.mark.parametrize("browser", ["http://localhost:8501/", "http://127.0.0.1:8501/", "http://[::1]:8501/"])
def test_a_localhost_link_uses_this_computers_network_address(browser):
    for listen in (None, "", "0.0.0.0", "::"):  # every interface: the network address is found
        found = link_address(browser, None, listen, lambda: "192.0.2.7")
        assert found == LinkAddress("http://192.0.2.7:8501/", "network")
    assert link_address(browser, None, None, lambda: None) == LinkAddress(browser, "no_network")


def test_local_addresses_and_hosts_swapped():
    assert is_local_address("http://localhost:8501") and is_local_address("http://127.0.1.1/")
    assert is_local_address("http://app.localhost/") and is_local_address("http://[::1]:8501/")
    assert not is_local_address("http://192.168.1.20:8501/") and not is_local_address("https://school.example/")
    assert with_host("http://localhost:8501/a/?x=1#y", "10.0.0.2") == "http://10.0.0.2:8501/a/"
    assert with_host("https://localhost/", "fe80::1") == "https://[fe80::1]/"


def test_the_network_address_is_none_or_not_this_computers_loopback():
    found = network_address()  # a UDP socket's connect sends no packet: nothing leaves this machine
    assert found is None or not ipaddress.ip_address(found).is_loopback


def test_a_link_and_a_lesson_file_carry_where_a_training_starts_from():
    lesson = Lesson(sample="recipes", start_from="writer", hidden=("start_from",))
    assert to_query_params(lesson) == {"s": "recipes", "from": "writer", "h": "from"}
    assert _from_url(lesson_url(lesson, "http://x/")) == lesson
    assert json.loads(lesson_to_json(lesson))["start_from"] == "writer"
    assert lesson_from_json(lesson_to_json(lesson)) == lesson
    assert from_query_params({"from": "blank"}).start_from == "blank"
    assert from_query_params({"u": "64"}).start_from is None  # an older link: the learner's own choice
    version_2 = {"format": "charlab-lesson", "format_version": 2, "settings": {"units": 32}, "minutes": 1}
    assert lesson_from_json(json.dumps(version_2)).start_from is None


def test_an_unknown_start_is_refused_naming_it_and_the_choices():
    with pytest.raises(CharlabError, match="starts from 'gpt-4', which charlab does not know.*'writer'"):
        from_query_params({"from": "gpt-4"})
    with pytest.raises(CharlabError, match="start_from is not text"):
        lesson_from_json(json.dumps({"format": "charlab-lesson", "start_from": 3}))
    with pytest.raises(CharlabError, match="starts from 'classics '"):
        lesson_from_json(json.dumps({"format": "charlab-lesson", "start_from": "classics "}))
