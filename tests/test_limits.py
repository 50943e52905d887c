"""Per-session limits of a shared server: defaults, environment variables, and refusals in words."""

from __future__ import annotations

import pytest

from charlab import limits
from charlab.errors import CharlabError
from charlab.limits import SETTINGS, Limits
from charlab.network.model import ModelConfig, count_parameters
from charlab.text import corpus


def test_defaults_fit_the_best_preset_and_a_shared_laptop():
    lim = Limits.from_env({})
    assert lim == Limits()
    assert lim.upload_bytes == 10_000_000 and lim.training_seconds == 30 * 60
    best = ModelConfig(cell="lstm", units=512, layers=2, embedding_dim=64)  # the "Best quality" preset
    lim.check_parameters(count_parameters(best, 100))  # allowed
    huge = ModelConfig(cell="lstm", units=1024, layers=4, embedding_dim=256)
    with pytest.raises(CharlabError, match=r"parameters; this server allows at most 5,000,000.*fewer units"):
        lim.check_parameters(count_parameters(huge, 100))


def test_every_limit_has_its_own_environment_variable():
    env = {
        "CHARLAB_MAX_UPLOAD_MB": "2.5",
        "CHARLAB_MAX_RUN_UPLOAD_MB": "50",
        "CHARLAB_MAX_PARAMETERS": "1_000_000",
        "CHARLAB_MAX_EPOCHS": " 40 ",
        "CHARLAB_MAX_TRAINING_MINUTES": "10",
        "CHARLAB_MAX_GENERATE_CHARS": "2000",
        "CHARLAB_MAX_TRAININGS": "3",
        "CHARLAB_ABANDON_MINUTES": "5",
    }
    assert sorted(env) == sorted(s.env for s in SETTINGS.values())
    lim = Limits.from_env(env)
    assert lim == Limits(2.5, 50.0, 1_000_000, 40, 10.0, 2000, 3, 5.0)
    assert lim.upload_bytes == 2_500_000 and lim.run_upload_bytes == 50_000_000


def test_current_reads_the_environment_each_time(monkeypatch):
    monkeypatch.setenv("CHARLAB_MAX_EPOCHS", "7")
    assert limits.current().max_epochs == 7
    monkeypatch.delenv("CHARLAB_MAX_EPOCHS")
    assert limits.current().max_epochs == Limits().max_epochs


@pytest.mark.parametrize(
    "name, raw",
    [
        ("max_epochs", "0"),
        ("max_epochs", "2.5"),
        ("max_epochs", "many"),
        ("max_parameters", "50"),
        ("upload_mb", "-1"),
        ("upload_mb", "inf"),
        ("training_minutes", "nan"),
        ("generate_chars", "5"),
        ("max_trainings", True),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(name, raw):
    with pytest.raises(CharlabError, match=rf"{SETTINGS[name].env} sets .*: it must be .* not '{raw}'"):
        Limits.from_env({SETTINGS[name].env: str(raw)}) if not isinstance(raw, bool) else limits.parse(name, raw)


def test_epochs_and_uploads_over_the_limit_are_refused_in_words():
    lim = Limits(upload_mb=1, run_upload_mb=20, max_epochs=50, max_parameters=100_000)
    lim.check_training(ModelConfig(units=16, embedding_dim=8, epochs=50), 30)
    with pytest.raises(CharlabError, match="51 epochs is more than this server allows in one training .50.*continue"):
        lim.check_training(ModelConfig(units=16, embedding_dim=8, epochs=51), 30)
    with pytest.raises(CharlabError, match="this server allows at most 100,000 per training"):
        lim.check_training(ModelConfig(units=256, epochs=5), 30)
    assert corpus.load_bytes(b"a b" * 333_333, "a.txt", lim.upload_bytes).text  # 999,999 bytes: taken
    with pytest.raises(CharlabError, match=r"'a.txt' is 1.5 MB; the limit is 1 MB"):
        corpus.load_bytes(b"a" * 1_500_000, "a.txt", lim.upload_bytes)
    lim.check_run_upload(20_000_000, "r.zip")
    with pytest.raises(CharlabError, match=r"'r.zip' is 25.0 MB; this server takes run files of up to 20 MB"):
        lim.check_run_upload(25_000_000, "r.zip")
