"""Presets sized to the machine: the choice from given product rates (never timed here), its cache, the command."""

from __future__ import annotations

import json

import pytest

from charlab.cli import main
from charlab.learning import calibration, presets
from charlab.network import precision
from charlab.network.model import ModelConfig, step_work

TODAY = {  # today's float32 winners (tests/test_presets.py): what a computer without bfloat16 units trains
    "quick": ModelConfig(cell="gru", units=256, epochs=20),
    "balanced": ModelConfig(cell="gru", units=384, epochs=20),
    "best": ModelConfig(cell="gru", units=384, dropout=0.1, epochs=20),
}
NO_UNITS = "This computer has no bfloat16 units (AVX512-BF16 or AMX): the float32 recipe."


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """An empty cache folder, no GPU, no calibration of this process yet; `times` records every timing asked,
    answered as if each product ran at `machine.gflops` (a fake: no test times anything)."""

    class Machine:
        gflops = 2_000.0
        timed: list[set] = []

        def time_products(self, wanted):
            wanted = set(wanted)
            self.timed.append(wanted)
            return {calibration.product_name(m, k, n, d): 2 * m * k * n / (self.gflops * 1e9) for m, k, n, d in wanted}

        def bfloat16(self, on: bool):
            monkeypatch.setenv("CHARLAB_BFLOAT16", "1" if on else "0")

    fake = Machine()
    monkeypatch.setenv("CHARLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CHARLAB_BFLOAT16", raising=False)
    monkeypatch.setattr(precision, "has_gpu", lambda: False)
    monkeypatch.setattr(calibration, "_measured", {})
    monkeypatch.setattr(calibration, "time_products", fake.time_products)
    return fake


def fake_seconds(gflops: float) -> dict[str, float]:
    """Every recipe's product times in bfloat16 at `gflops`."""
    configs = [r.config for recipes in calibration.CANDIDATES.values() for r in recipes]
    return {
        calibration.product_name(m, k, n, "bfloat16"): 2 * m * k * n / (gflops * 1e9)
        for config in configs
        for m, k, n, _ in calibration.products(config)
    }


def test_the_products_are_the_training_steps_work():
    """The calibration times what a training step computes: 3 × (forward products) ≈ charlab.network.model.step_work."""
    for config in (ModelConfig(units=512, batch_size=256), ModelConfig(cell="lstm", units=128, layers=2)):
        _, flops = step_work(config, calibration.VOCAB)
        forward = sum(2 * m * k * n * count for m, k, n, count in calibration.products(config))
        assert 0.9 < 3 * forward / flops < 1.05
    config = ModelConfig(units=512, batch_size=256)
    assert calibration.rate(config, "bfloat16", fake_seconds(750.0)) == pytest.approx(750.0)
    assert calibration.rate(config, "float32", fake_seconds(750.0)) is None  # not measured


def test_fast_bfloat16_gets_the_bigger_network_and_slow_or_none_todays_recipe(machine):
    machine.bfloat16(True)
    fast = calibration.choose("balanced", TODAY["balanced"], fake_seconds(1_000.0))
    assert fast.bfloat16 and (fast.config.units, fast.config.batch_size) == (512, 256)
    assert "1,000 GFLOP/s" in fast.words and "GRU 512 at batch 256 in mixed bfloat16" in fast.words
    best = calibration.choose("best", TODAY["best"], fake_seconds(1_000.0))
    assert (best.config.units, best.config.dropout) == (768, 0.2)  # the biggest whose rate is reached
    best = calibration.choose("best", TODAY["best"], fake_seconds(500.0))
    assert (best.config.units, best.config.dropout) == (512, 0.1)
    slow = calibration.choose("balanced", TODAY["balanced"], fake_seconds(100.0))
    assert not slow.bfloat16 and slow.config == TODAY["balanced"]
    assert "needs 400 GFLOP/s, 100 here" in slow.words and "float32 recipe" in slow.words
    machine.bfloat16(False)  # the same speed, but this computer does not train in bfloat16
    off = calibration.choose("balanced", TODAY["balanced"], fake_seconds(1_000.0))
    assert off.config == TODAY["balanced"] and "no bfloat16 units" in off.words


def test_without_bfloat16_the_presets_are_todays_and_nothing_is_timed(machine, monkeypatch):
    machine.bfloat16(False)
    for key, config in TODAY.items():
        assert presets.preset(key) == presets.PRESETS[key] and presets.preset(key)[2] == config
        assert (
            presets.recipe_words(key) == "This computer has no bfloat16 units (AVX512-BF16 or AMX): the float32 recipe."
        )
    monkeypatch.delenv("CHARLAB_BFLOAT16")
    monkeypatch.setattr(precision, "bfloat16_unit", lambda: None)  # a processor without the flags, as this one
    assert [presets.preset(key)[2] for key in TODAY] == list(TODAY.values())
    assert machine.timed == []  # no TensorFlow, no seconds spent


def test_with_fast_bfloat16_the_presets_grow_and_small_texts_are_still_fitted(machine):
    machine.bfloat16(True)
    label, seconds, config = presets.preset("balanced")
    assert (label, seconds) == presets.PRESETS["balanced"][:2] and (config.units, config.batch_size) == (512, 256)
    assert [d for products in machine.timed for *_, d in products] == ["bfloat16"] * len(machine.timed[0])
    fitted = presets.fit_to_text(config, seconds, 4_000)  # fit_to_text applies after, unchanged
    assert fitted.fitted and fitted.config.units == 64 and fitted.config.dropout >= 0.3
    presets.preset("quick"), presets.preset("best")
    assert len(machine.timed) == 1  # measured once a process


def test_the_calibration_is_cached_and_measured_again_when_its_key_changes(machine, monkeypatch):
    machine.bfloat16(True)
    first = calibration.calibration()
    assert len(machine.timed) == 1 and calibration.cache_path().exists()
    monkeypatch.setattr(calibration, "_measured", {})  # a new process: the cache file answers
    assert calibration.calibration() == first and len(machine.timed) == 1
    key = calibration.cache_key()
    monkeypatch.setattr(calibration, "tensorflow_version", lambda: "9.9.9")
    assert calibration.cache_key() != key
    calibration.calibration()
    assert len(machine.timed) == 2  # another TensorFlow: measured again
    flags = precision.cpu_flags()
    monkeypatch.setattr(precision, "cpu_flags", lambda *a: flags | {"amx_bf16"})
    later = calibration.cache_key()
    assert later["flags"] != key["flags"]
    calibration.calibration()
    assert len(machine.timed) == 3
    monkeypatch.setenv("CHARLAB_INTRA_THREADS", "2")  # other thread pools
    calibration.calibration()
    assert len(machine.timed) == 4
    assert json.loads(calibration.cache_path().read_text())["key"] == calibration.cache_key()


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"\xff\xfe not json",
        b'{"version": 1, "key": {}, "seconds": {}}',  # another machine's key
        b"[1, 2, 3]",
        b"KEY",  # the key alone, no times
        b'{"version": 1, "key": KEY, "seconds": {"1x1x1 bfloat16": -1}}',
        b'{"version": 1, "key": KEY, "seconds": {"1x1x1 bfloat16": "fast"}}',
        b'{"version": 1, "key": KEY, "seconds": ["1x1x1 bfloat16"]}',
        b'{"version": 99, "key": KEY, "seconds": {}}',
    ],
)
def test_a_damaged_or_stale_cache_is_measured_again_never_a_crash(machine, damage):
    machine.bfloat16(True)
    path = calibration.cache_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(damage.replace(b"KEY", json.dumps(calibration.cache_key()).encode()))
    assert calibration.read_cache(calibration.cache_key()) is None
    whole = b'{"version": 1, "key": KEY, "seconds": {"1x1x1 bfloat16": 0.5}}'  # what is checked is all that differs
    path.write_bytes(whole.replace(b"KEY", json.dumps(calibration.cache_key()).encode()))
    assert calibration.read_cache(calibration.cache_key()) == {"1x1x1 bfloat16": 0.5}
    path.write_bytes(damage.replace(b"KEY", json.dumps(calibration.cache_key()).encode()))
    choice = calibration.choose("balanced", TODAY["balanced"])
    assert choice.bfloat16 and len(machine.timed) == 1  # measured again (the fake is fast)
    assert calibration.read_cache(calibration.cache_key()) is not None  # and the file replaced by a whole one


def test_a_calibration_that_fails_gives_todays_recipe_and_says_why(machine, monkeypatch):
    machine.bfloat16(True)

    def broken(wanted):
        raise RuntimeError("no bfloat16 kernel")

    monkeypatch.setattr(calibration, "time_products", broken)
    assert presets.preset("balanced") == presets.PRESETS["balanced"]
    assert "bfloat16 failed (RuntimeError): the float32 recipe" in presets.recipe_words("balanced")


def test_a_cache_folder_that_cannot_be_written_only_means_measuring_again(machine, monkeypatch, tmp_path, capsys):
    machine.bfloat16(True)
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CHARLAB_CACHE", str(blocker))
    assert presets.preset("balanced")[2].units == 512
    assert not calibration.cache_path().exists()
    assert main(["calibrate"]) == 0
    assert f"not kept: {calibration.cache_path()} could not be written" in capsys.readouterr().out


def test_the_calibrate_command_prints_the_table_and_the_choice(machine, capsys):
    machine.bfloat16(False)
    assert main(["calibrate"]) == 0
    out = capsys.readouterr().out
    assert "timing float32 ·" in out and "kept in" in out
    assert "quick     GRU 256 at batch 64" in out and out.count("← chosen") == 3
    chosen = [line.split()[1:4] for line in out.splitlines() if line.endswith("← chosen")]
    assert chosen == [["GRU", "256", "at"], ["GRU", "384", "at"], ["GRU", "384", "at"]]
    assert out.count("no bfloat16 units") == 3
    assert {d for products in machine.timed for *_, d in products} == {"float32"}  # bfloat16 not timed at all

    machine.bfloat16(True)
    assert main(["calibrate"]) == 0
    out = capsys.readouterr().out
    assert "timing float32 and bfloat16" in out
    balanced = next(line for line in out.splitlines() if line.startswith("balanced") and "← chosen" in line)
    assert "GRU 512 at batch 256" in balanced and "2,000" in balanced  # the fake's rate, in both columns
    assert "in mixed bfloat16" in out


def test_a_server_that_allows_fewer_parameters_keeps_todays_recipe(machine, monkeypatch):
    machine.bfloat16(True)
    monkeypatch.setenv("CHARLAB_MAX_PARAMETERS", "600000")  # GRU 512 has 874k: a student could not train it
    choice = calibration.choose("balanced", TODAY["balanced"], fake_seconds(1_000.0))
    assert choice.config == TODAY["balanced"] and not choice.bfloat16
    assert calibration.choose("quick", TODAY["quick"], fake_seconds(1_000.0)).config.units == 384  # 509k: allowed


def test_the_key_names_the_processor_model_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu amx_bf16\n")
    assert calibration.cpu_model(cpuinfo) == "Intel(R) Xeon(R) Platinum 8480+"
    assert calibration.cpu_model(tmp_path / "missing") == calibration.os.uname().machine  # macOS, Windows
    assert calibration.tensorflow_version() != "none"  # tensorflow-cpu here: read from its package metadata
