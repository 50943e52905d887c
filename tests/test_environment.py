"""The environment variables charlab reads, each with its default when unset."""

from __future__ import annotations

from pathlib import Path

import pytest

from charlab import environment

VARIABLES = ("CHARLAB_HOME", "CHARLAB_CACHE", "CHARLAB_TRAIN_IN_THREADS", "CHARLAB_INTRA_THREADS",
             "CHARLAB_INTER_THREADS", "CHARLAB_OWNERS", "CHARLAB_TEACHER_PASSWORD", "CHARLAB_DEBUG")  # fmt: skip


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


def test_each_variable_is_read(unset, tmp_path):
    unset.setenv("CHARLAB_HOME", str(tmp_path / "home"))
    unset.setenv("CHARLAB_CACHE", str(tmp_path / "cache"))
    unset.setenv("CHARLAB_INTRA_THREADS", "2")
    unset.setenv("CHARLAB_INTER_THREADS", "1")
    unset.setenv("CHARLAB_OWNERS", " off ")
    unset.setenv("CHARLAB_TEACHER_PASSWORD", "s3cret")
    unset.setenv("CHARLAB_DEBUG", "1")
    assert environment.runs_home() == tmp_path / "home" and environment.cache_dir() == tmp_path / "cache"
    assert environment.tensorflow_threads() == (2, 1)
    assert environment.owners_setting() == "off" and environment.teacher_password() == "s3cret"
    assert environment.debug() is True


@pytest.mark.parametrize(("value", "threads"), [("1", True), ("TRUE", True), ("yes", True), ("0", False), ("", False)])
def test_training_in_threads_is_asked_for_in_words(unset, value, threads):
    unset.setenv("CHARLAB_TRAIN_IN_THREADS", value)
    assert environment.trains_in_threads() is threads
