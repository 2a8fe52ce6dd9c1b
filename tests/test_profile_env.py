"""Profiles, results records, and the environment helpers (setup, seeds, strategy)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cvhelpers import profile, results


def test_profile_switches_on_env(monkeypatch):
    monkeypatch.setenv("CVHELPERS_FAST", "1")
    p = profile.Profile(epochs=(1, 10), lr=1e-3)
    assert (p.epochs, p.lr, p.name, profile.pick(fast="a", full="b")) == (1, 1e-3, "fast", "a")
    monkeypatch.setenv("CVHELPERS_FAST", "0")
    p = profile.Profile(epochs=(1, 10))
    assert (p.epochs, p.name, profile.name()) == (10, "full", "full")
    with pytest.raises(AttributeError, match="no hyper-parameter 'batch'"):
        p.batch
    monkeypatch.setenv("CVHELPERS_FAST", "yes please")
    with pytest.raises(ValueError, match="CVHELPERS_FAST"):
        profile.is_fast()


def test_results_record_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("CVHELPERS_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("CVHELPERS_FAST", "1")
    hist = {"loss": [np.float32(0.5), 0.3], "val_accuracy": [0.8, np.float64(0.9)]}
    path = results.record("nb_x", history=hist, test={"accuracy": np.float32(0.875)}, wall_time_s=12.5, data="mirror")
    assert path == tmp_path / "fast" / "nb_x.json"
    rec = json.loads(path.read_text())
    assert rec["epochs"] == 2 and rec["test"]["accuracy"] == pytest.approx(0.875) and rec["profile"] == "fast"
    assert results.table(["nb_x", "missing"]) == [("nb_x", pytest.approx(0.875), 0.9, 2, 12.5),
                                                   ("missing", None, None, None, None)]
    with pytest.raises(FileNotFoundError, match="run the notebook"):
        results.load("missing")
    with pytest.raises(ValueError):
        results.record("../escape")


@pytest.mark.slow
def test_setup_seeds_and_reports(monkeypatch, capsys):
    from cvhelpers import env

    monkeypatch.setenv("CVHELPERS_FAST", "1")
    info = env.setup(seed=7)
    out = capsys.readouterr().out
    assert "TensorFlow" in out and "profile:         fast" in out and info["profile"] == "fast"
    import tensorflow as tf

    a = (np.random.rand(), float(tf.random.uniform(())))
    env.seed_everything(7)
    b = (np.random.rand(), float(tf.random.uniform(())))
    assert a == b
    with pytest.raises(ValueError):
        env.seed_everything(-1)
    if not info["gpus"]:
        assert any("GPU" in f for f in info["fixes"])


def test_fixes_name_the_colab_remedy():
    from cvhelpers import env

    assert env.fixes({"gpus": [], "colab": True}) == [env.COLAB_GPU_FIX]
    assert env.fixes({"gpus": [{"name": "x"}], "colab": False}) == []


@pytest.mark.slow
def test_strategy_on_this_machine():
    from cvhelpers.env import strategy

    s = strategy(verbose=False)
    assert s.num_replicas_in_sync >= 1
