"""Small ``tf.data`` helpers used by the training notebooks.

Why they exist: on small CPU machines (2 cores) about half of ``fit()``/``predict()`` calls sat
idle 8–10 s after the last batch while tf.data's autotuner wound down; switching autotuning off
removed the stall in every run measured (timings taken while the course was developed, on its
2-vCPU Xeon machine with TensorFlow 2.21 for CPU; they are not kept in the repository). On a GPU the autotuner
is what keeps the accelerator fed (it sizes the parallel map and prefetch buffers), so it stays on
there. :func:`tune` applies that choice (and nothing else) to any dataset; :func:`from_arrays`
builds a batched dataset from NumPy arrays with it already applied.

>>> import numpy as np
>>> ds = from_arrays(np.zeros((10, 4, 4, 1), "float32"), np.arange(10), batch_size=4)  # doctest: +SKIP
>>> [int(b[0].shape[0]) for b in ds]                                                     # doctest: +SKIP
[4, 4, 2]
"""

from __future__ import annotations

__all__ = ["tune", "from_arrays"]


def tune(ds, autotune: bool | None = None):
    """Return ``ds`` with tf.data autotuning on when a GPU is visible and off on a CPU-only machine.

    Off on the CPU because there the autotuner's wind-down stalled the end of about half of the
    ``fit()``/``predict()`` calls by 8–10 s on 2 cores; on a GPU it is left on, because it is what
    keeps the accelerator busy. ``autotune=True``/``False`` forces either choice.

    >>> tune(tf.data.Dataset.range(3), autotune=False).options().autotune.enabled   # doctest: +SKIP
    False
    """
    import tensorflow as tf

    if autotune is None:
        autotune = bool(tf.config.list_physical_devices("GPU"))
    elif not isinstance(autotune, bool):
        raise ValueError(f"autotune must be True, False or None (decide from the devices), got {autotune!r}")
    opt = tf.data.Options()
    opt.autotune.enabled = autotune
    return ds.with_options(opt)


def from_arrays(x, y=None, batch_size: int = 32, shuffle: bool = False, seed: int = 42, prefetch: int = 2):
    """A batched ``tf.data.Dataset`` of ``(x, y)`` (or ``x``), shuffled if asked, prefetching, tuned.

    ``y`` may also be a dict (or tuple) of arrays, one per output of a multi-output model.
    """
    import tensorflow as tf

    if y is not None:
        # y may be one array or a dict/tuple of arrays (one per output of a multi-head model)
        leaves = list(y.values()) if isinstance(y, dict) else list(y) if isinstance(y, tuple) else [y]
        for leaf in leaves:
            if len(leaf) != len(x):
                raise ValueError(f"x and y differ in length: {len(x)} vs {len(leaf)}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return tune(ds.batch(batch_size).prefetch(prefetch))
