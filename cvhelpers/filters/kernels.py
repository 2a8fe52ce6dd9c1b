"""Classic kernels as NumPy arrays: box, Gaussian, sharpen, Sobel, Prewitt, Laplacian, presets by name."""

from __future__ import annotations

import math

import numpy as np

from ..checks import positive_int

__all__ = ["identity", "box", "gaussian", "sharpen", "emboss", "prewitt_x", "prewitt_y", "sobel_x",
           "sobel_y", "laplacian", "directional_sobel", "PRESETS", "preset"]


def identity(size: int = 3) -> np.ndarray:
    """A kernel that returns its input: 1 in the centre, 0 elsewhere (odd ``size``).

    >>> identity(3).tolist()
    [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    """
    size = positive_int(size, "size")
    if size % 2 == 0:
        raise ValueError(f"identity needs an odd size (a centre pixel), got {size}")
    k = np.zeros((size, size))
    k[size // 2, size // 2] = 1.0
    return k


def box(size: int = 3) -> np.ndarray:
    """Box blur (mean filter): ``size × size`` ones divided by ``size²``.

    >>> float(box(3).sum())
    1.0
    """
    size = positive_int(size, "size")
    return np.full((size, size), 1.0 / size**2)


def gaussian(sigma: float = 1.0, size: int | None = None) -> np.ndarray:
    """Gaussian blur kernel exp(-(x² + y²) / 2σ²), normalised to sum 1.

    ``size`` defaults to ``2·ceil(3σ) + 1`` (covers ±3σ); it must be odd.

    >>> k = gaussian(1.0)
    >>> k.shape, round(float(k.sum()), 6)
    ((7, 7), 1.0)
    """
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating, np.integer)) \
            or not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    if size is None:
        size = 2 * math.ceil(3 * sigma) + 1
    size = positive_int(size, "size")
    if size % 2 == 0:
        raise ValueError(f"a Gaussian kernel needs an odd size (a centre pixel), got {size}")
    r = np.arange(size) - size // 2
    g = np.exp(-(r**2) / (2.0 * sigma**2))
    k = np.outer(g, g)          # separable: a 2-D Gaussian is the product of two 1-D ones
    return k / k.sum()


def sharpen() -> np.ndarray:
    """Sharpen: the identity plus a negative 4-neighbour Laplacian (sum 1).

    >>> sharpen().tolist()
    [[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]
    """
    return np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)


def emboss() -> np.ndarray:
    """Emboss: a diagonal derivative plus the centre pixel, which makes edges look raised.

    >>> float(emboss().sum())
    1.0
    """
    return np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float)


def prewitt_x() -> np.ndarray:
    """Prewitt horizontal derivative: every row is (-1, 0, +1); responds to vertical edges.

    >>> prewitt_x()[0].tolist()
    [-1.0, 0.0, 1.0]
    """
    return np.array([[-1, 0, 1]] * 3, dtype=float)


def prewitt_y() -> np.ndarray:
    """Prewitt vertical derivative (the transpose of :func:`prewitt_x`); horizontal edges.

    >>> prewitt_y()[:, 0].tolist()
    [-1.0, 0.0, 1.0]
    """
    return prewitt_x().T.copy()


def sobel_x() -> np.ndarray:
    """Sobel Gx: like Prewitt but the middle row counts twice (a little smoothing across).

    >>> sobel_x()[1].tolist()
    [-2.0, 0.0, 2.0]
    """
    return np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)


def sobel_y() -> np.ndarray:
    """Sobel Gy (the transpose of Gx): positive where brightness grows downwards.

    >>> sobel_y()[:, 1].tolist()
    [-2.0, 0.0, 2.0]
    """
    return sobel_x().T.copy()


def laplacian(neighbours: int = 4) -> np.ndarray:
    """Discrete Laplacian, 4- or 8-neighbour (sum 0: flat regions give 0).

    >>> laplacian(4).tolist()
    [[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]
    """
    if neighbours == 4:
        return np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float)
    if neighbours == 8:
        return np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]], dtype=float)
    raise ValueError(f"neighbours must be 4 or 8, got {neighbours!r}")


def directional_sobel(angle_deg: float) -> np.ndarray:
    """Derivative in direction ``angle`` (degrees, 0 = rightwards, 90 = downwards):
    ``cos(a)·Gx + sin(a)·Gy`` — Sobel kernels are *steerable*.

    >>> np.allclose(directional_sobel(0), sobel_x()), np.allclose(directional_sobel(90), sobel_y())
    (True, True)
    """
    if isinstance(angle_deg, bool) or not isinstance(angle_deg, (int, float, np.integer, np.floating)) \
            or not np.isfinite(angle_deg):
        raise ValueError(f"angle_deg must be a finite number, got {angle_deg!r}")
    a = np.deg2rad(angle_deg)
    k = np.cos(a) * sobel_x() + np.sin(a) * sobel_y()
    return np.round(k, 12) + 0.0          # cos(90°) is 6e-17 in floating point: show it as 0


#: Named kernels for menus (the widgets) and quick experiments.
PRESETS = {
    "identity": lambda: identity(3),
    "box blur 3×3": lambda: box(3),
    "box blur 5×5": lambda: box(5),
    "Gaussian σ=1 (5×5)": lambda: gaussian(1.0, 5),
    "sharpen": sharpen,
    "emboss": emboss,
    "Prewitt x": prewitt_x,
    "Prewitt y": prewitt_y,
    "Sobel x": sobel_x,
    "Sobel y": sobel_y,
    "Laplacian 4": lambda: laplacian(4),
    "Laplacian 8": lambda: laplacian(8),
}


def preset(name: str) -> np.ndarray:
    """The kernel called ``name`` in :data:`PRESETS` (a fresh copy).

    >>> preset("Sobel x").shape
    (3, 3)
    """
    if name not in PRESETS:
        raise ValueError(f"unknown kernel {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]()
