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


CLUSTER_VARIABLES = ("CHARLAB_RAY_ADDRESS", "CHARLAB_CPUS_PER_TRAINING", "CHARLAB_GPUS_PER_TRAINING",
                     "CHARLAB_RAY_FALLBACK", "CHARLAB_RAY_SHARED_RUNS")  # fmt: skip


@pytest.fixture
def no_cluster_settings(unset):
    for name in CLUSTER_VARIABLES:
        unset.delenv(name, raising=False)
    return unset


def test_good_cluster_settings_pass_the_start_up_check(no_cluster_settings):
    environment.check_cluster_settings()  # nothing set: no cluster
    good = {"CHARLAB_RAY_ADDRESS": "ray://head.school.lan:10001", "CHARLAB_CPUS_PER_TRAINING": "2",
            "CHARLAB_GPUS_PER_TRAINING": "0", "CHARLAB_RAY_FALLBACK": "local",
            "CHARLAB_RAY_SHARED_RUNS": "yes"}  # fmt: skip
    for name, value in good.items():
        no_cluster_settings.setenv(name, value)
    environment.check_cluster_settings()
    assert environment.ray_address() == "ray://head.school.lan:10001"
    assert environment.resources_per_training() == (2.0, 0.0)
    assert environment.ray_fallback_local() is True and environment.ray_shared_runs() is True
    for address in ("auto", "10.0.0.5:6379", "[fd00::2]:6379", "head:6379"):
        no_cluster_settings.setenv("CHARLAB_RAY_ADDRESS", address)
        assert environment.ray_address() == address
    no_cluster_settings.setenv("CHARLAB_RAY_SHARED_RUNS", "off")
    assert environment.ray_shared_runs() is False


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("CHARLAB_CPUS_PER_TRAINING", "two", "must be a number above 0 up to 1024 (such as 1 or 2), not 'two'"),
        ("CHARLAB_CPUS_PER_TRAINING", "0", "must be a number above 0"),
        ("CHARLAB_GPUS_PER_TRAINING", "a quarter", "must be a number from 0 up to 1024 (such as 0, 0.25 or 1)"),
        ("CHARLAB_RAY_ADDRESS", "head", "must be auto, HOST:PORT"),
        ("CHARLAB_RAY_ADDRESS", "head:99999", "not 'head:99999'"),
        ("CHARLAB_RAY_ADDRESS", "http://head:8265", "an http:// address is a web page, such as Ray's dashboard"),
        ("CHARLAB_RAY_FALLBACK", "loacl", "must be local (train on this computer"),
        ("CHARLAB_RAY_SHARED_RUNS", "sure", "must be 1 (on) or 0 (off"),
    ],
)
def test_a_mistyped_cluster_setting_is_refused_at_start_up_naming_it(no_cluster_settings, name, value, words):
    """Before, a mistyped CPUs per training left a cluster's queue at 0 places, waiting forever; a mistyped
    fallback or shared-runs switch was silently taken as off; an address without a port reached Ray."""
    no_cluster_settings.setenv(name, value)
    with pytest.raises(CharlabError) as refused:
        environment.check_cluster_settings()
    assert str(refused.value).startswith(f"{name} ") and words in str(refused.value)


def test_every_mistyped_cluster_setting_is_said_at_once(no_cluster_settings):
    no_cluster_settings.setenv("CHARLAB_CPUS_PER_TRAINING", "two")
    no_cluster_settings.setenv("CHARLAB_RAY_FALLBACK", "yes")
    with pytest.raises(CharlabError, match="CHARLAB_RAY_FALLBACK must .* CHARLAB_CPUS_PER_TRAINING must"):
        environment.check_cluster_settings()


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
