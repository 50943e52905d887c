"""The environment variables charlab reads, each with its default when unset."""

from __future__ import annotations

from pathlib import Path

import pytest

from charlab import environment
from charlab.errors import CharlabError

VARIABLES = ("CHARLAB_HOME", "CHARLAB_CACHE", "CHARLAB_TRAIN_IN_THREADS", "CHARLAB_INTRA_THREADS",
             "CHARLAB_INTER_THREADS", "CHARLAB_OWNERS", "CHARLAB_TEACHER_PASSWORD", "CHARLAB_DEBUG",
             "CHARLAB_PUBLIC_URL")  # fmt: skip


@pytest.fixture
def unset(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_when_nothing_is_set(unset):
    assert environment.runs_home() == Path("runs")
    assert environment.cache_dir() == Path.home() / ".cache" / "charlab"
    assert environment.trains_in_threads() is False
    assert environment.tensorflow_threads() == (1, 2)
    assert environment.owners_setting() is None and environment.teacher_password() is None
    assert environment.debug() is False
    assert environment.public_url() is None


def test_each_variable_is_read(unset, tmp_path):
    unset.setenv("CHARLAB_HOME", str(tmp_path / "home"))
    unset.setenv("CHARLAB_CACHE", str(tmp_path / "cache"))
    unset.setenv("CHARLAB_INTRA_THREADS", "2")
    unset.setenv("CHARLAB_INTER_THREADS", "1")
    unset.setenv("CHARLAB_OWNERS", " off ")
    unset.setenv("CHARLAB_TEACHER_PASSWORD", "s3cret")
    unset.setenv("CHARLAB_DEBUG", "1")
    unset.setenv("CHARLAB_PUBLIC_URL", " http://192.168.1.20:8501/ ")
    assert environment.runs_home() == tmp_path / "home" and environment.cache_dir() == tmp_path / "cache"
    assert environment.tensorflow_threads() == (2, 1)
    assert environment.owners_setting() == "off" and environment.teacher_password() == "s3cret"
    assert environment.debug() is True
    assert environment.public_url() == "http://192.168.1.20:8501/"


@pytest.mark.parametrize(("value", "threads"), [("1", True), ("TRUE", True), ("yes", True), ("0", False), ("", False)])
def test_training_in_threads_is_asked_for_in_words(unset, value, threads):
    unset.setenv("CHARLAB_TRAIN_IN_THREADS", value)
    assert environment.trains_in_threads() is threads


@pytest.mark.parametrize(
    "value", ["https://charlab.myschool.example", "http://[fd00::5]:8501/charlab", "http://pc-12:80"]
)
def test_a_public_url_is_an_address_students_can_open(unset, value):
    unset.setenv("CHARLAB_PUBLIC_URL", value)
    assert environment.public_url() == value


@pytest.mark.parametrize(
    "value", ["192.168.1.20:8501", "ftp://school.example/", "http://", "http://pc:99999/", "http://pc:port/",
              "http://pc/?x=1", "http://pc/#top", "http://my pc/"],
)  # fmt: skip
def test_a_bad_public_url_is_refused_in_words_naming_the_variable(unset, value):
    unset.setenv("CHARLAB_PUBLIC_URL", value)
    with pytest.raises(CharlabError, match="CHARLAB_PUBLIC_URL must be the address students open") as err:
        environment.public_url()
    assert repr(value) in str(err.value)
