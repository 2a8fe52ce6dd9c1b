"""Sample photos that ship with scikit-image and scikit-learn (no download), and grey conversion."""

from __future__ import annotations

import numpy as np

from ..checks import positive_int

__all__ = ["SAMPLE_IMAGES", "sample_image", "LUMINANCE", "to_gray"]

#: ITU-R BT.709 luminance weights of R, G, B (those of ``skimage.color.rgb2gray``).
#: (cvhelpers/widgets.py still writes them out itself; it should call :func:`to_gray`.)
LUMINANCE = (0.2125, 0.7154, 0.0721)


def to_gray(img) -> np.ndarray:
    """An (H, W, 3) RGB image as (H, W) luminance (:data:`LUMINANCE`), float32.

    >>> to_gray(np.ones((1, 1, 3))).tolist()
    [[1.0]]
    """
    return np.asarray(img, dtype=np.float32) @ np.array(LUMINANCE, dtype=np.float32)


#: Images that ship inside scikit-image and scikit-learn (no download).
SAMPLE_IMAGES = ("camera", "coins", "astronaut", "chelsea", "china", "flower")


def sample_image(name: str = "camera", gray: bool = False, max_size: int | None = None) -> np.ndarray:
    """A sample photo as float32 in [0, 1]: ``(H, W)`` grey or ``(H, W, 3)`` colour.

    ``camera``/``coins`` are grey (scikit-image), ``astronaut``/``chelsea`` colour
    (scikit-image), ``china``/``flower`` colour (scikit-learn). ``gray=True`` converts colour
    to luminance; ``max_size`` shrinks the longer side (anti-aliased) for speed.

    >>> sample_image("coins").shape
    (303, 384)
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"unknown sample image {name!r}; choose one of {SAMPLE_IMAGES}")
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image
        img = load_sample_image(f"{name}.jpg")
    else:
        import skimage.data
        img = getattr(skimage.data, name)()
    img = img.astype(np.float32) / 255.0
    if gray and img.ndim == 3:
        img = to_gray(img)
    if max_size is not None:
        max_size = positive_int(max_size, "max_size")
        scale = max_size / max(img.shape[:2])
        if scale < 1:
            from skimage.transform import rescale
            img = rescale(img, scale, anti_aliasing=True,
                          channel_axis=2 if img.ndim == 3 else None).astype(np.float32)
    return img
