"""cvhelpers.pipeline.from_arrays: batches, shuffling, multi-output labels, clear errors."""

import numpy as np
import pytest

from cvhelpers.pipeline import from_arrays


def test_batches_in_order_and_shuffled():
    x = np.arange(10, dtype="float32")[:, None]
    y = np.arange(10)
    batches = [b for b in from_arrays(x, y, batch_size=4)]
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert np.concatenate([b[1].numpy() for b in batches]).tolist() == list(range(10))
    shuffled = np.concatenate([b[1].numpy() for b in from_arrays(x, y, batch_size=4, shuffle=True)])
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled.tolist() != list(range(10))


def test_dict_labels_for_a_two_head_model():
    x = np.zeros((6, 2), "float32")
    ds = from_arrays(x, {"cls": np.arange(6), "box": np.ones((6, 4), "float32")}, batch_size=4)
    xb, yb = next(iter(ds))
    assert set(yb) == {"cls", "box"} and yb["box"].shape == (4, 4)
    with pytest.raises(ValueError, match="differ in length: 6 vs 5"):
        from_arrays(x, {"cls": np.arange(6), "box": np.ones((5, 4))})


def test_bad_input():
    with pytest.raises(ValueError, match="differ in length"):
        from_arrays(np.zeros((3, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size"):
        from_arrays(np.zeros((3, 1)), batch_size=0)


def test_tune_keeps_autotuning_on_gpus_only(monkeypatch):
    import tensorflow as tf

    from cvhelpers.pipeline import tune

    ds = tf.data.Dataset.range(4)
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    assert tune(ds).options().autotune.enabled is False                       # CPU only: off
    assert from_arrays(np.zeros((4, 1)), batch_size=2).options().autotune.enabled is False
    gpu = tf.config.PhysicalDevice(name="/physical_device:GPU:0", device_type="GPU")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [gpu] if kind == "GPU" else [])
    assert tune(ds).options().autotune.enabled is True                        # a GPU: on
    assert tune(ds, autotune=False).options().autotune.enabled is False       # forced
    with pytest.raises(ValueError, match="autotune must be"):
        tune(ds, autotune="yes")
