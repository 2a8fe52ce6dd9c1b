"""Correlation and convolution in NumPy: the readable vectorised way, 1-D, and with plain loops."""

from __future__ import annotations

import numpy as np

from ..checks import as_float, check_mode, int_pair, numeric_array, positive_int

__all__ = ["correlate2d", "convolve2d", "correlate1d", "convolve1d", "correlate2d_loops", "padding", "prepare"]


def padding(n: int, f: int, s: int, mode: str) -> tuple[int, int]:
    """Zeros added before and after one axis of length ``n`` for kernel ``f`` and stride ``s``."""
    if mode == "valid":
        return 0, 0
    if mode == "full":
        return f - 1, f - 1
    out = -(-n // s)                              # ceil(n / s)
    total = max((out - 1) * s + f - n, 0)
    return total // 2, total - total // 2          # TensorFlow puts the odd one at the end


def prepare(image, kernel, mode, stride):
    """Validate and reshape inputs; return (image3, kernel4, per_channel, pads, stride)."""
    mode = check_mode(mode)
    sh, sw = int_pair(stride, "stride")
    img = as_float(numeric_array(image, "image", (2, 3)))
    ker = as_float(numeric_array(kernel, "kernel", (2, 3, 4)))
    fh, fw = ker.shape[:2]
    if img.ndim == 2:
        img = img[:, :, None]
    c = img.shape[2]
    per_channel = ker.ndim == 2
    if ker.ndim == 2:
        ker4 = ker[:, :, None, None]
    elif ker.ndim == 3:
        ker4 = ker[:, :, :, None]
    else:
        ker4 = ker
    if not per_channel and ker4.shape[2] != c:
        raise ValueError(f"kernel shape {ker.shape} expects {ker4.shape[2]} input channel(s) but the "
                         f"image has {c} (image shape {np.shape(image)})")
    h, w = img.shape[:2]
    if mode == "valid" and (fh > h or fw > w):
        raise ValueError(f"kernel {fh}×{fw} is larger than the image {h}×{w}: 'valid' would give "
                         "no output; use mode='same' or 'full'")
    pads = (padding(h, fh, sh, mode), padding(w, fw, sw, mode))
    return img, ker4, per_channel, pads, (sh, sw)


def correlate2d(image, kernel, mode: str = "valid", stride=1) -> np.ndarray:
    """Cross-correlation (what Conv2D layers compute), vectorised the readable way.

    For every kernel position (u, v) we take the whole shifted, strided view of the padded
    image and add ``kernel[u, v] × view`` to the output: ``fh·fw`` array operations instead
    of a Python loop over every pixel.

    Shapes: image ``(H, W)`` or ``(H, W, C)``; kernel ``(fh, fw)`` (each channel filtered
    separately), ``(fh, fw, C)`` (one map, summed over channels) or ``(fh, fw, C, N)``
    (``N`` maps). ``stride`` is an int or ``(rows, cols)``.

    >>> x = np.array([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]])
    >>> correlate2d(x, [[1., 0.], [0., -1.]]).tolist()    # x[i, j] - x[i+1, j+1]
    [[-4.0, -4.0], [-4.0, -4.0]]
    """
    img, ker4, per_channel, ((pt, pb), (pl, pr)), (sh, sw) = prepare(image, kernel, mode, stride)
    fh, fw = ker4.shape[:2]
    padded = np.pad(img, ((pt, pb), (pl, pr), (0, 0)))
    oh = (padded.shape[0] - fh) // sh + 1
    ow = (padded.shape[1] - fw) // sw + 1
    dtype = np.result_type(img.dtype, ker4.dtype)
    if per_channel:
        out = np.zeros((oh, ow, img.shape[2]), dtype=dtype)
    else:
        out = np.zeros((oh, ow, ker4.shape[3]), dtype=dtype)
    for u in range(fh):
        for v in range(fw):
            view = padded[u:u + (oh - 1) * sh + 1:sh, v:v + (ow - 1) * sw + 1:sw]   # (oh, ow, C)
            if per_channel:
                out += ker4[u, v, 0, 0] * view
            else:
                out += view @ ker4[u, v]                                          # (C,)@(C, N)
    k_ndim = np.ndim(kernel)
    if (np.ndim(image) == 2 and k_ndim == 2) or k_ndim == 3:
        out = out[:, :, 0]
    return out


def convolve2d(image, kernel, mode: str = "valid", stride=1) -> np.ndarray:
    """True convolution: flip the kernel in both spatial axes, then :func:`correlate2d`.

    In ``"same"`` mode the kernel must have odd sizes (an even kernel has no centre pixel to
    align; SciPy and TensorFlow disagree on where it goes).

    >>> x = np.arange(9.0).reshape(3, 3)
    >>> k = np.array([[0., 0., 0.], [0., 0., 1.], [0., 0., 0.]])
    >>> convolve2d(x, k, "same")[1].tolist()          # a flipped kernel shifts the other way
    [0.0, 3.0, 4.0]
    """
    ker = numeric_array(kernel, "kernel", (2, 3, 4))
    if check_mode(mode) == "same" and (ker.shape[0] % 2 == 0 or ker.shape[1] % 2 == 0):
        raise ValueError(f"'same' convolution needs odd kernel sizes, got {ker.shape[:2]}: an even "
                         "kernel has no centre; use mode='valid' or 'full', or correlate2d "
                         "(TensorFlow's 'SAME' rule)")
    return correlate2d(image, ker[::-1, ::-1], mode, stride)


def _as_row(x, what):
    a = numeric_array(x, what, (1,))
    return a[None, :]


def correlate1d(x, kernel, mode: str = "valid", stride: int = 1) -> np.ndarray:
    """1-D cross-correlation: ``out[i] = Σ_u x[i·s + u] · kernel[u]`` (after padding).

    >>> correlate1d([1., 2., 4., 7.], [-1., 1.]).tolist()      # forward differences
    [1.0, 2.0, 3.0]
    """
    s = positive_int(stride, "stride")
    return correlate2d(_as_row(x, "x"), _as_row(kernel, "kernel"), mode, (1, s))[0]


def convolve1d(x, kernel, mode: str = "valid", stride: int = 1) -> np.ndarray:
    """1-D convolution (kernel flipped), the same as ``np.convolve`` for mode valid/same/full
    when the kernel is odd-sized.

    >>> convolve1d([1., 2., 4., 7.], [1., -1.]).tolist()        # also forward differences
    [1.0, 2.0, 3.0]
    """
    s = positive_int(stride, "stride")
    return convolve2d(_as_row(x, "x"), _as_row(kernel, "kernel"), mode, (1, s))[0]


def correlate2d_loops(image, kernel, mode: str = "valid", stride=1) -> np.ndarray:
    """The same correlation written as four plain Python loops (grey image, 2-D kernel).

    Slow on purpose: it is the definition, one multiply-add at a time. Use it to read, and to
    measure how much vectorisation buys (:func:`benchmark`).

    >>> correlate2d_loops(np.ones((4, 4)), np.ones((3, 3))).tolist()
    [[9.0, 9.0], [9.0, 9.0]]
    """
    numeric_array(image, "image", (2,))
    numeric_array(kernel, "kernel", (2,))
    img, ker4, _, ((pt, pb), (pl, pr)), (sh, sw) = prepare(image, kernel, mode, stride)
    padded = np.pad(img[:, :, 0], ((pt, pb), (pl, pr)))
    k = ker4[:, :, 0, 0]
    fh, fw = k.shape
    oh = (padded.shape[0] - fh) // sh + 1
    ow = (padded.shape[1] - fw) // sw + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            total = 0.0
            for u in range(fh):
                for v in range(fw):
                    total += padded[i * sh + u, j * sw + v] * k[u, v]
            out[i, j] = total
    return out
