"""Input checks shared by the filters and the layer arithmetic: one clear ValueError each.

>>> int_pair(3, "stride"), check_mode("SAME")
((3, 3), 'same')
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

__all__ = ["MODES", "positive_int", "int_pair", "check_mode", "numeric_array", "as_float"]

MODES = ("valid", "same", "full")


def positive_int(value, what: str) -> int:
    """``value`` as an int if it is one and >= 1, else a ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def int_pair(value, what: str) -> tuple[int, int]:
    """An int or a pair of ints, each >= 1 (a stride or a kernel size)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{what} must be an int or a pair (rows, cols), got {value!r}")
        return positive_int(value[0], what), positive_int(value[1], what)
    v = positive_int(value, what)
    return v, v


def check_mode(mode) -> str:
    """``mode`` lower-cased if it is one of :data:`MODES`, else a ValueError."""
    m = str(mode).lower()
    if m not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return m


def numeric_array(x, what: str, ndims: tuple[int, ...]) -> np.ndarray:
    """``x`` as a real, numeric, non-empty array with one of ``ndims`` dimensions, else a ValueError."""
    a = np.asarray(x)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"{what} must be a numeric array, got dtype {a.dtype}")
    if a.ndim not in ndims:
        raise ValueError(f"{what} must have {' or '.join(map(str, ndims))} dimensions, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{what} is empty (shape {a.shape})")
    if np.iscomplexobj(a):
        raise ValueError(f"{what} must be real, got dtype {a.dtype}")
    return a


def as_float(a: np.ndarray) -> np.ndarray:
    """``a`` as floats (float32 at least; float64 stays float64)."""
    return a.astype(np.result_type(a.dtype, np.float32), copy=False)
