"""How fast is a correlation: plain loops, NumPy, SciPy and TensorFlow timed on the same image."""

from __future__ import annotations

import math
import time

import numpy as np

from ..checks import positive_int
from .filtering import correlate2d, correlate2d_loops

__all__ = ["benchmark", "format_benchmark"]


def _best_time(fn, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def benchmark(size: int = 512, kernel_sizes=(3, 7), naive_size: int = 128, repeat: int = 5,
              seed: int = 0) -> list[dict]:
    """Time one 'same' correlation of a ``size × size`` float32 image four ways, for each kernel
    size: plain Python loops, vectorised NumPy (:func:`correlate2d`), SciPy
    (``scipy.signal.correlate2d`` and ``scipy.ndimage.correlate``) and ``tf.nn.conv2d``.

    The Python loops are timed once on a ``naive_size × naive_size`` crop and scaled by the
    number of output pixels (the cost is exactly proportional to it); the others are the best
    of ``repeat`` runs on the full image, after one warm-up call. Returns one dict per
    (method, kernel) with ``seconds`` and ``note``.

    >>> rows = benchmark(size=32, kernel_sizes=(3,), naive_size=16, repeat=1)   # doctest: +SKIP
    """
    import scipy.ndimage
    import scipy.signal
    import tensorflow as tf

    size = positive_int(size, "size")
    naive_size = min(positive_int(naive_size, "naive_size"), size)
    repeat = positive_int(repeat, "repeat")
    sizes = [positive_int(k, "kernel size") for k in kernel_sizes]
    rng = np.random.default_rng(seed)
    img = rng.random((size, size), dtype=np.float32)
    rows = []
    for f in sizes:
        k = rng.normal(size=(f, f)).astype(np.float32)
        crop = img[:naive_size, :naive_size]
        t0 = time.perf_counter()
        correlate2d_loops(crop, k, "same")
        naive = (time.perf_counter() - t0) * (size / naive_size) ** 2
        note = "one run on a %d×%d crop, ×%g" % (naive_size, naive_size, (size / naive_size) ** 2) \
            if naive_size < size else "one run"
        rows.append({"method": "Python loops", "kernel": f, "seconds": naive, "note": note})
        x4 = tf.constant(img[None, :, :, None])
        k4 = tf.constant(k[:, :, None, None])
        ways = [
            ("NumPy (vectorised)", lambda: correlate2d(img, k, "same")),
            ("scipy.signal.correlate2d", lambda: scipy.signal.correlate2d(img, k, "same")),
            ("scipy.ndimage.correlate", lambda: scipy.ndimage.correlate(img, k, mode="constant")),
            ("tf.nn.conv2d", lambda: tf.nn.conv2d(x4, k4, 1, "SAME").numpy()),
        ]
        for name, fn in ways:
            fn()                                   # warm-up (TensorFlow builds its kernel once)
            rows.append({"method": name, "kernel": f, "seconds": _best_time(fn, repeat),
                         "note": f"best of {repeat}"})
    return rows


def format_benchmark(rows: list[dict], size: int | None = None) -> str:
    """A text table of :func:`benchmark` rows: milliseconds per image and speed-up over the
    Python loops and over vectorised NumPy, per kernel size.

    >>> print(format_benchmark([{"method": "a", "kernel": 3, "seconds": 1.0, "note": ""},
    ...                         {"method": "NumPy (vectorised)", "kernel": 3, "seconds": 0.5, "note": ""}]))
    ... # doctest: +NORMALIZE_WHITESPACE
    kernel  method                         ms/image  × vs loops  × vs NumPy  note
    3×3     a                              1000.000         1.0         0.5
    3×3     NumPy (vectorised)              500.000         2.0         1.0
    """
    if not rows:
        raise ValueError("no benchmark rows to format")
    lines = [f"{'kernel':<7} {'method':<28} {'ms/image':>10} {'× vs loops':>11} {'× vs NumPy':>11}  note"]
    def ratio(x: float) -> str:
        return f"{x:11.0f}" if x >= 100 else f"{x:11.1f}" if x >= 1 else f"{x:11.2g}"

    for f in sorted({r["kernel"] for r in rows}):
        group = [r for r in rows if r["kernel"] == f]
        base = group[0]["seconds"]
        numpy_t = next((r["seconds"] for r in group if r["method"].startswith("NumPy")), None)
        for r in group:
            vs_np = ratio(numpy_t / r["seconds"]) if numpy_t else f"{'':>11}"
            lines.append(f"{str(f) + '×' + str(f):<7} {r['method']:<28} {r['seconds'] * 1e3:10.3f} "
                         f"{ratio(base / r['seconds'])} {vs_np}  {r['note']}".rstrip())
    if size:
        lines.insert(0, f"'same' correlation of one {size}×{size} float32 image")
    return "\n".join(lines)
