"""Handwritten-digit helpers: bring variable-size scans (HODA) to MNIST's 28×28 format.

The HODA loader that applies them, :func:`load_hoda_mnist_format`, lives with the dataset in
:mod:`cvhelpers.datasets.hoda` (re-exported here under its old name).

MNIST digits were size-normalised to fit a 20×20 box, keeping their aspect ratio, then placed in
a 28×28 image with their centre of mass at the centre. HODA's scans come in every size (from 3 to
64 pixels a side); :func:`fit_box` and :func:`to_mnist_format` do the same normalisation so that a
model trained on one set can read the other.

>>> import numpy as np
>>> tall = np.zeros((40, 10), np.uint8); tall[:, 3:7] = 255      # a thin vertical stroke
>>> fit_box(tall, size=28, box=20).shape
(28, 28)
"""

from __future__ import annotations

from .datasets.hoda import load_hoda_mnist_format

__all__ = ["PERSIAN_DIGITS", "fit_box", "to_mnist_format", "load_hoda_mnist_format"]

PERSIAN_DIGITS = ["۰", "۱", "۲", "۳", "۴", "۵", "۶", "۷", "۸", "۹"]
"""Persian (Extended Arabic-Indic) digits zero to nine, indexed by their value."""


def fit_box(img, size: int = 28, box: int | None = 20, center: str = "mass", upscale: bool = True):
    """Resize one 2-D digit image into a ``size``×``size`` uint8 canvas, keeping its aspect ratio.

    The longer side is scaled to ``box`` pixels (``None``: to ``size``); with ``upscale=False``
    images already smaller than the box keep their size (useful when size carries meaning, like
    HODA's small dot-shaped ۰). The other side follows the same factor (at least 1 pixel); then the digit is
    placed on a zero canvas, centred by its centre of mass (``center="mass"``, like MNIST) or by
    its bounding box (``center="box"``). Interpolation is Pillow's bilinear-with-antialias
    resampling, so binary scans become grey edges, as in MNIST.

    >>> import numpy as np
    >>> out = fit_box(np.full((10, 5), 255, np.uint8), size=28, box=20, center="box")
    >>> out.shape, out.dtype.name, [int(v) for v in (out.sum(1) > 0).nonzero()[0][[0, -1]]]
    ((28, 28), 'uint8', [4, 23])
    """
    import numpy as np
    from PIL import Image

    a = np.asarray(img)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"fit_box expects one non-empty 2-D image, got shape {a.shape}")
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    box = size if box is None else box
    if not isinstance(box, int) or not 1 <= box <= size:
        raise ValueError(f"box must be an int in 1..size ({size}), got {box!r}")
    if center not in ("mass", "box"):
        raise ValueError(f"center must be 'mass' or 'box', got {center!r}")
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    h, w = a.shape
    scale = box / max(h, w)
    if not upscale:
        scale = min(scale, 1.0)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.asarray(Image.fromarray(a).resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=None))
    canvas = np.zeros((size, size), np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    if center == "mass" and small.sum() > 0:
        m = small.astype(np.float64)
        total = m.sum()
        cy = m.sum(1) @ np.arange(nh) / total  # centre of mass, row and column
        cx = m.sum(0) @ np.arange(nw) / total
        top = int(round((size - 1) / 2 - cy))
        left = int(round((size - 1) / 2 - cx))
        top = min(max(top, 0), size - nh)  # never push ink off the canvas
        left = min(max(left, 0), size - nw)
    canvas[top:top + nh, left:left + nw] = small
    return canvas


def to_mnist_format(images, size: int = 28, box: int | None = 20, center: str = "mass", upscale: bool = True):
    """Apply :func:`fit_box` to a list of 2-D images (any sizes): an ``(N, size, size)`` uint8 array.

    >>> import numpy as np
    >>> to_mnist_format([np.ones((5, 3)), np.ones((30, 12))]).shape
    (2, 28, 28)
    """
    import numpy as np

    imgs = list(images)
    if not imgs:
        raise ValueError("to_mnist_format needs at least one image")
    out = np.zeros((len(imgs), size, size), np.uint8)
    for i, img in enumerate(imgs):
        out[i] = fit_box(img, size=size, box=box, center=center, upscale=upscale)
    return out

