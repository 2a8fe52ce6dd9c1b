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
    if not info["gpus"] and not info["colab"]:   # a CPU in the fast profile: a neutral note, not a fix
        assert not any("GPU" in f for f in info["fixes"]) and "note: no GPU here, and none is needed" in out


def test_fixes_name_the_colab_remedy():
    from cvhelpers import env

    assert env.fixes({"gpus": [], "colab": True}) == [env.COLAB_GPU_FIX]
    assert env.fixes({"gpus": [], "colab": True, "profile": "fast"}) == [env.COLAB_GPU_FIX]
    assert env.fixes({"gpus": [{"name": "x"}], "colab": False}) == []


def test_no_gpu_is_a_fix_only_where_it_matters():
    from cvhelpers import env

    assert env.fixes({"gpus": [], "colab": False, "profile": "full"}) == [env.LOCAL_GPU_FIX]
    assert env.fixes({"gpus": [], "colab": False}) == [env.LOCAL_GPU_FIX]      # profile unknown: say it
    assert env.fixes({"gpus": [], "colab": False, "profile": "fast"}) == []


def _info(**changes):
    """A dict shaped like setup()'s, for a machine whose folders are all outside the home folder."""
    from cvhelpers import env

    info = dict(python="3.11.7", tensorflow="2.21.0", keras="3.15.1", colab=False, gpus=[], mixed_precision="-",
                profile="fast", data_dir="/srv/build-box/data", data_dir_missing=False,
                cache_dir="/opt/ci/cache/cvhelpers", offline=True, mirrors=[], seed=42, threads=None,
                deterministic=False)
    info.update(changes)
    info["fixes"] = env.fixes(info)
    return info


def test_report_shows_no_machine_paths(monkeypatch, tmp_path):
    from cvhelpers import env

    monkeypatch.setenv("HOME", str(tmp_path / "home" / "student"))
    monkeypatch.setenv("CVHELPERS_DATA_DIR", "/srv/build-box/data")
    monkeypatch.setenv("CVHELPERS_CACHE_DIR", "/opt/ci/cache/cvhelpers")
    text = env.report(_info(mirrors=["http://teacher-pc:8000", "/srv/build-box/mirror"]))
    assert "/srv" not in text and "/opt" not in text, text
    assert "course data folder set in CVHELPERS_DATA_DIR, then cache set in CVHELPERS_CACHE_DIR" in text
    assert "mirrors first: http://teacher-pc:8000, a folder set in CVHELPERS_MIRROR" in text

    home = tmp_path / "home" / "student"
    monkeypatch.delenv("CVHELPERS_DATA_DIR")
    monkeypatch.delenv("CVHELPERS_CACHE_DIR")
    text = env.report(_info(data_dir=None, cache_dir=str(home / ".cache" / "cvhelpers")))
    assert "cache ~/.cache/cvhelpers (no course data folder: CVHELPERS_DATA_DIR is not set)" in text
    assert str(tmp_path) not in text
    text = env.report(_info(data_dir=str(home / "course-data"), cache_dir=str(home / ".cache" / "cvhelpers")))
    assert "course data folder ~/course-data (CVHELPERS_DATA_DIR), then cache ~/.cache/cvhelpers" in text


def test_report_notes_a_missing_gpu_in_the_fast_profile_and_fixes_it_in_the_full_one():
    from cvhelpers import env

    fast, full = env.report(_info()), env.report(_info(profile="full"))
    assert "note: no GPU here, and none is needed" in fast and "fix:" not in fast
    assert f"fix: {env.LOCAL_GPU_FIX}" in full and "note:" not in full
    colab = env.report(_info(colab=True))
    assert f"fix: {env.COLAB_GPU_FIX}" in colab and "note:" not in colab
    gpu = env.report(_info(gpus=[{"name": "NVIDIA T4"}], profile="full"))
    assert "fix:" not in gpu and "note:" not in gpu and "GPU:             NVIDIA T4" in gpu


@pytest.mark.slow
def test_strategy_on_this_machine():
    from cvhelpers.env import strategy

    s = strategy(verbose=False)
    assert s.num_replicas_in_sync >= 1


_TWO_REPLICAS = r"""
import numpy as np
from cvhelpers.env import split_cpu, strategy
assert split_cpu(2) == ["/device:CPU:0", "/device:CPU:1"]
assert split_cpu(2) == ["/device:CPU:0", "/device:CPU:1"]       # again: harmless
import keras, tensorflow as tf
s = strategy(verbose=False)
assert type(s).__name__ == "MirroredStrategy" and s.num_replicas_in_sync == 2, s
keras.utils.set_random_seed(0)
x = np.random.default_rng(0).normal(size=(64, 5)).astype("float32")
y = (x.sum(1) > 0).astype("int32")

def build():
    m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return m

one = build()
with s.scope():
    two = build()
two.set_weights(one.get_weights())
for m in (one, two):   # same batches in the same order: only the number of replicas differs
    m.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(16), epochs=2, verbose=0)
diff = max(float(np.abs(a - b).max()) for a, b in zip(one.get_weights(), two.get_weights()))
moved = max(float(np.abs(a - b).max()) for a, b in zip(one.get_weights(), build().get_weights()))
assert diff < 1e-5 < moved, (diff, moved)
try:
    split_cpu(3)
except RuntimeError as e:
    assert "restart the kernel" in str(e)
else:
    raise AssertionError("split_cpu after initialisation must fail")
print("ok")
"""


@pytest.mark.slow
def test_strategy_mirrors_over_two_logical_cpus():
    """strategy() with two replicas: logical devices must be set before TensorFlow starts, so a fresh process."""
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _TWO_REPLICAS], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_split_cpu_rejects_bad_counts():
    from cvhelpers.env import split_cpu

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive int"):
            split_cpu(bad)


def test_chance_margin_is_two_standard_errors_of_a_difference():
    import math
    import pytest
    m = results.chance_margin(0.75, 1000, 0.70, 500)
    assert math.isclose(m, 2 * math.sqrt(0.75 * 0.25 / 1000 + 0.70 * 0.30 / 500))
    assert results.chance_margin(0.75, 4000, 0.75, 4000) < results.chance_margin(0.75, 1000, 0.75, 1000)
    assert results.chance_margin(1.0, 100, 1.0, 100) == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        results.chance_margin(75, 1000, 0.7, 1000)
    with pytest.raises(ValueError, match="at least one image"):
        results.chance_margin(0.75, 0, 0.7, 1000)
