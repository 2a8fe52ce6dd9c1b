"""Image gradients with the Sobel kernels: the two derivatives, their magnitude and direction."""

from __future__ import annotations

import numpy as np

from ..checks import numeric_array
from .filtering import correlate2d
from .kernels import sobel_x, sobel_y

__all__ = ["sobel_gradient", "gradient_magnitude", "gradient_direction"]


def sobel_gradient(image, mode: str = "same") -> tuple[np.ndarray, np.ndarray]:
    """``(gx, gy)``: Sobel derivatives of a grey image (rightwards and downwards).

    >>> ramp = np.tile(np.arange(5.0), (5, 1))          # brightness grows to the right
    >>> gx, gy = sobel_gradient(ramp, "valid")
    >>> float(gx[0, 0]), float(gy[0, 0])
    (8.0, 0.0)
    """
    numeric_array(image, "image", (2,))
    return correlate2d(image, sobel_x(), mode), correlate2d(image, sobel_y(), mode)


def gradient_magnitude(gx, gy) -> np.ndarray:
    """``sqrt(gx² + gy²)``: edge strength.

    >>> gradient_magnitude(np.array([3.]), np.array([4.])).tolist()
    [5.0]
    """
    gx, gy = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
    if gx.shape != gy.shape:
        raise ValueError(f"gx and gy must have the same shape, got {gx.shape} and {gy.shape}")
    return np.hypot(gx, gy)


def gradient_direction(gx, gy) -> np.ndarray:
    """``atan2(gy, gx)`` in radians: the direction brightness grows fastest
    (0 = rightwards, π/2 = downwards, since image rows grow downwards).

    >>> float(gradient_direction(np.array([0.]), np.array([1.]))[0]) == np.pi / 2
    True
    """
    gx, gy = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
    if gx.shape != gy.shape:
        raise ValueError(f"gx and gy must have the same shape, got {gx.shape} and {gy.shape}")
    return np.arctan2(gy, gx)
