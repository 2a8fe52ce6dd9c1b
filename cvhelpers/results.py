"""Training-results records: what a notebook trained, how well, how long, on which machine.

Each notebook that trains something calls :func:`record`; comparison tables (notebook 08, the
README's "book vs this course") and ``benchmarks/`` read the records back with :func:`load` and
:func:`table`. Records are small JSON files in ``results/<profile>/<name>.json`` (override the
folder with ``CVHELPERS_RESULTS_DIR``).

>>> import os, tempfile
>>> from unittest import mock
>>> with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, CVHELPERS_RESULTS_DIR=tmp):
...     _ = record("demo", test={"accuracy": 0.9}, wall_time_s=1.5)
...     print(load("demo")["test"]["accuracy"])
0.9
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path

from . import profile as _profile

__all__ = ["results_dir", "cpu_name", "machine", "record", "load", "committed", "table", "chance_margin", "paired",
           "check", "CheckFailed", "spread"]


def chance_margin(acc_a: float, n_a: int, acc_b: float, n_b: int, z: float = 2.0) -> float:
    """How far apart two test accuracies can fall through the test sets' sampling alone.

    ``z`` standard errors of the difference of two binomial proportions measured on ``n_a`` and
    ``n_b`` test images (independent draws). Training randomness (seeds) comes on top, so a
    difference smaller than this margin shows neither model to be better.

    >>> round(chance_margin(0.72, 2000, 0.72, 2000), 4)
    0.0284
    >>> round(chance_margin(0.9844, 20000, 0.9857, 10000), 4)
    0.003
    """
    for acc in (acc_a, acc_b):
        if not 0.0 <= acc <= 1.0:
            raise ValueError(f"an accuracy must be between 0 and 1, got {acc!r}")
    for n in (n_a, n_b):
        if int(n) < 1:
            raise ValueError(f"a test set needs at least one image, got {n!r}")
    return float(z * ((acc_a * (1 - acc_a) / n_a + acc_b * (1 - acc_b) / n_b) ** 0.5))


def paired(y_true, pred_a, pred_b) -> dict:
    """Compare two classifiers scored on the **same** test images (McNemar's exact test).

    Only the images that one model gets right and the other wrong (the discordant pairs) carry
    information about which model is better; under "no difference" each of them is a fair coin.
    Returns the accuracies, their difference, the counts ``a_only`` (A right, B wrong) and ``b_only``,
    the two-sided ``p_value`` of McNemar's exact (binomial) test, and ``margin``: the difference
    that would just reach p = 0.05 with this many discordant pairs (about 2 standard errors). A small
    p-value says the test set separates the two *trained models*; whether the *recipes* differ also
    depends on training randomness, which only reruns with other seeds measure
    (``benchmarks/spread.py``).

    >>> r = paired([0, 1, 1, 0, 1, 1], [0, 1, 1, 0, 1, 0], [0, 1, 0, 1, 1, 1])
    >>> r["acc_a"], r["acc_b"], r["a_only"], r["b_only"]
    (0.8333333333333334, 0.6666666666666666, 2, 1)
    >>> r["p_value"]
    1.0
    """
    import numpy as np

    y, a, b = (np.asarray(v).ravel() for v in (y_true, pred_a, pred_b))
    if not (len(y) == len(a) == len(b)) or len(y) == 0:
        raise ValueError(f"y_true, pred_a and pred_b must be equally long and non-empty, got {len(y)}, {len(a)}, {len(b)}")
    right_a, right_b = a == y, b == y
    a_only, b_only = int(np.sum(right_a & ~right_b)), int(np.sum(right_b & ~right_a))
    n, k = a_only + b_only, min(a_only, b_only)
    if n == 0:
        p = 1.0
    else:
        from scipy.stats import binomtest

        p = float(binomtest(k, n, 0.5).pvalue)
    return {"n": int(len(y)), "acc_a": float(right_a.mean()), "acc_b": float(right_b.mean()),
            "diff": float(right_a.mean() - right_b.mean()), "a_only": a_only, "b_only": b_only,
            "p_value": min(p, 1.0), "margin": float(2.0 * max(n, 1) ** 0.5 / len(y))}


class CheckFailed(AssertionError):
    """A lesson's check did not hold (see :func:`check`)."""


_OPS = {">=": lambda v, t: v >= t, ">": lambda v, t: v > t, "<=": lambda v, t: v <= t, "<": lambda v, t: v < t}


def check(name: str, value, op: str, threshold, *, source: str = "") -> bool:
    """Assert ``value op threshold`` in a lesson, saying where the threshold comes from.

    Used for every assert whose value depends on training (seeds, machine): ``source`` says how the
    threshold was set (normally from the spread of that value over seeds measured by
    ``benchmarks/spread.py``, kept in ``results/spread/``). Raises :class:`CheckFailed` with a
    one-line explanation when the check does not hold.

    ``benchmarks/spread.py`` sets ``CVHELPERS_CHECKS_LOG`` (a JSON-lines file each check is appended
    to) and ``CVHELPERS_CHECKS_RAISE=0`` (measure every check instead of stopping at the first).

    >>> check("demo accuracy", 0.93, ">=", 0.5, source="chance is 0.5")
    True
    """
    if op not in _OPS:
        raise ValueError(f"op must be one of {', '.join(_OPS)}, got {op!r}")
    value, threshold = float(value), float(threshold)
    ok = bool(_OPS[op](value, threshold))
    log = os.environ.get("CVHELPERS_CHECKS_LOG", "").strip()
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"name": name, "value": value, "op": op, "threshold": threshold, "ok": ok,
                                 "source": source}) + "\n")
    if not ok and os.environ.get("CVHELPERS_CHECKS_RAISE", "1").strip() != "0":
        raise CheckFailed(f"{name}: {value:.4f} is not {op} {threshold:.4f} (threshold: {source or 'see the notebook'}). "
                          "If nothing was changed, please report it with this run's setup report (seed, machine).")
    return ok


def results_dir(profile: str | None = None) -> Path:
    """Folder of the records for ``profile`` (default: the active one)."""
    base = os.environ.get("CVHELPERS_RESULTS_DIR", "").strip()
    root = Path(base) if base else Path(__file__).resolve().parent.parent / "results"
    return root / (profile or _profile.name())


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> dict:
    """A short description of this machine: CPU count, platform, Keras backend and its GPUs."""
    import sys

    info = {"platform": platform.platform(terse=True), "cpus": os.cpu_count(), "python": platform.python_version()}
    if "keras" in sys.modules:
        keras = sys.modules["keras"]
        info["keras"] = getattr(keras, "__version__", "?")
        try:
            info["keras_backend"] = keras.backend.backend()
        except Exception:  # noqa: BLE001 - a half-imported Keras: leave the field out
            pass
    if "jax" in sys.modules and info.get("keras_backend") == "jax":
        info["gpus"] = [d.device_kind for d in sys.modules["jax"].devices() if d.platform == "gpu"]
    if "torch" in sys.modules and info.get("keras_backend") == "torch":
        torch = sys.modules["torch"]
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        info["tensorflow"] = tf.__version__
        info["gpus"] = [
            (tf.config.experimental.get_device_details(d) or {}).get("device_name", d.name)
            for d in tf.config.list_physical_devices("GPU")
        ]
    return info


def _seed():
    """The seed this run set (CVHELPERS_SEED, else the course's default 42)."""
    from .env import current_seed

    return current_seed()


def _plain(obj):
    """Make NumPy scalars/arrays JSON-friendly."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return obj


def record(name: str, *, history=None, test: dict | None = None, wall_time_s: float | None = None,
           data: str = "", notes: str = "", **extra) -> Path:
    """Write the record ``name`` for the active profile and return its path (atomic write).

    ``history`` may be a Keras ``History`` or its ``.history`` dict; ``test`` a dict of test
    metrics (e.g. ``{"accuracy": 0.991}``); ``data`` says which data the run used.
    """
    if not name or any(c in name for c in "/\\"):
        raise ValueError(f"record name must be a plain file name, got {name!r}")
    hist = getattr(history, "history", history) or {}
    rec = {
        "name": name,
        "profile": _profile.name(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "seed": _seed(),
        "data": data,
        "history": _plain(hist),
        "epochs": len(next(iter(hist.values()))) if hist else 0,
        "test": _plain(test or {}),
        "wall_time_s": wall_time_s,
        "notes": notes,
        **_plain(extra),
    }
    out = results_dir() / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rec, indent=1, sort_keys=True))
    os.replace(tmp, out)
    return out


def load(name: str, profile: str | None = None) -> dict:
    """Read the record ``name`` (active profile unless given); FileNotFoundError says which notebook to run."""
    path = results_dir(profile) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no results record {path}: run the notebook that trains {name!r} first")
    return json.loads(path.read_text())


def committed(name: str, profile: str = "full") -> dict | None:
    """The record ``name`` committed in the repository's ``results/<profile>/`` folder, or None.

    Unlike :func:`load` this ignores ``CVHELPERS_RESULTS_DIR``: it reads the figures shipped with the
    course (e.g. the full profile's, for a table that labels them as such). None when the file is
    absent, e.g. in a ``pip install`` without the repository's ``results/`` folder.
    """
    if not name or any(c in name for c in "/\\") or not profile or any(c in profile for c in "/\\"):
        raise ValueError(f"record and profile names must be plain file names, got {name!r}, {profile!r}")
    path = Path(__file__).resolve().parent.parent / "results" / profile / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def spread(notebook: str) -> dict | None:
    """The committed spread measurements of a notebook (``results/spread/NN.json``), or None.

    Written by ``benchmarks/spread.py``: the notebook run under several seeds and thread counts,
    with every check's and record's values per run. None when the file is absent (e.g. a
    ``pip install`` without the repository's ``results/`` folder), so a notebook can say so.
    """
    if not (isinstance(notebook, str) and len(notebook) == 2 and notebook.isdigit()):
        raise ValueError(f"notebook must be two digits such as '03', got {notebook!r}")
    path = Path(__file__).resolve().parent.parent / "results" / "spread" / f"{notebook}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def table(names, metric: str = "accuracy", profile: str | None = None):
    """A pandas-free list of rows ``(name, test metric, best val metric, epochs, wall time)``.

    Missing records give a row with ``None`` values rather than an error, so a table can be
    printed while some notebooks have not run yet.
    """
    rows = []
    for n in names:
        try:
            r = load(n, profile)
        except FileNotFoundError:
            rows.append((n, None, None, None, None))
            continue
        val = r["history"].get(f"val_{metric}")
        rows.append((n, r["test"].get(metric), max(val) if val else None, r["epochs"], r["wall_time_s"]))
    return rows
