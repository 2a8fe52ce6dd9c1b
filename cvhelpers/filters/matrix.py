"""Convolution as a matrix product: the matrix of a correlation, the patch matrix, a kernel recovered."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ..checks import as_float, check_mode, int_pair, numeric_array, positive_int
from .filtering import correlate2d, padding

__all__ = ["conv_matrix", "patch_matrix", "recover_kernel"]


def _shape2(shape) -> tuple[tuple[int, int], bool]:
    if isinstance(shape, Integral) and not isinstance(shape, bool):
        return (1, positive_int(shape, "shape")), True
    if isinstance(shape, (tuple, list)) and len(shape) == 1:
        return (1, positive_int(shape[0], "shape")), True
    if isinstance(shape, (tuple, list)) and len(shape) == 2:
        return (positive_int(shape[0], "shape"), positive_int(shape[1], "shape")), False
    raise ValueError(f"shape must be n, (n,) or (H, W), got {shape!r}")


def conv_matrix(shape, kernel, mode: str = "valid", stride=1) -> np.ndarray:
    """The matrix ``A`` with ``A @ x.ravel() == correlate2d(x, kernel, mode, stride).ravel()``.

    ``shape`` is the input's shape: ``n`` / ``(n,)`` for 1-D (then ``kernel`` is 1-D) or
    ``(H, W)``. Row ``r`` of ``A`` holds the kernel weights at the input pixels that output
    ``r`` reads; in 1-D with stride 1 this is a Toeplitz matrix (constant diagonals).

    >>> conv_matrix(4, [1., 2.]).tolist()
    [[1.0, 2.0, 0.0, 0.0], [0.0, 1.0, 2.0, 0.0], [0.0, 0.0, 1.0, 2.0]]
    """
    (h, w), one_d = _shape2(shape)
    ker = numeric_array(kernel, "kernel", (1,) if one_d else (2,))
    k = as_float(ker.reshape(1, -1) if one_d else ker)
    mode = check_mode(mode)
    sh, sw = (1, positive_int(stride, "stride")) if one_d else int_pair(stride, "stride")
    fh, fw = k.shape
    if mode == "valid" and (fh > h or fw > w):
        raise ValueError(f"kernel {fh}×{fw} is larger than the input {h}×{w} in 'valid' mode")
    (pt, pb), (pl, pr) = padding(h, fh, sh, mode), padding(w, fw, sw, mode)
    oh = (h + pt + pb - fh) // sh + 1
    ow = (w + pl + pr - fw) // sw + 1
    a = np.zeros((oh * ow, h * w), dtype=k.dtype)
    for i in range(oh):
        for j in range(ow):
            for u in range(fh):
                for v in range(fw):
                    r, c = i * sh + u - pt, j * sw + v - pl     # input pixel under k[u, v]
                    if 0 <= r < h and 0 <= c < w:              # else it is a padding zero
                        a[i * ow + j, r * w + c] += k[u, v]
    return a


def patch_matrix(x, kernel_shape, mode: str = "valid", stride=1) -> np.ndarray:
    """im2col: the matrix ``P`` of input patches, one row per output pixel, so that
    ``P @ kernel.ravel() == correlate2d(x, kernel, mode, stride).ravel()``.

    The same numbers as :func:`conv_matrix` arranged the other way round: here the *input* is
    known and the kernel is the unknown vector — the set-up for :func:`recover_kernel`.

    >>> patch_matrix([1., 2., 3.], 2).tolist()
    [[1.0, 2.0], [2.0, 3.0]]
    """
    a = numeric_array(x, "x", (1, 2))
    one_d = a.ndim == 1
    if one_d:
        kh, kw = 1, positive_int(kernel_shape if not isinstance(kernel_shape, (tuple, list))
                                  else kernel_shape[0], "kernel_shape")
        img = a[None, :]
        st = (1, positive_int(stride, "stride"))
    else:
        kh, kw = int_pair(kernel_shape, "kernel_shape")
        img = a
        st = int_pair(stride, "stride")
    cols = []
    for u in range(kh):                     # column u*kw + v = the pixel under k[u, v]
        for v in range(kw):
            e = np.zeros((kh, kw))
            e[u, v] = 1.0
            cols.append(correlate2d(img, e, mode, st).ravel())
    return np.stack(cols, axis=1)


def recover_kernel(x, y, kernel_shape, mode: str = "valid", stride=1) -> np.ndarray:
    """Least-squares estimate of the kernel ``k`` with ``correlate(x, k) ≈ y``
    (``min ||P k - y||²`` with ``P = patch_matrix(x)``): learning a filter from data.

    >>> x = np.random.default_rng(0).normal(size=50)
    >>> from cvhelpers.filters import correlate1d
    >>> y = correlate1d(x, [1., -2., 1.])
    >>> np.round(recover_kernel(x, y, 3), 6).tolist()
    [1.0, -2.0, 1.0]
    """
    p = patch_matrix(x, kernel_shape, mode, stride)
    target = as_float(numeric_array(y, "y", (1, 2))).ravel()
    if target.size != p.shape[0]:
        raise ValueError(f"y has {target.size} values but correlate(x, kernel, {mode!r}) gives "
                         f"{p.shape[0]}: check mode, stride and shapes")
    k, *_ = np.linalg.lstsq(p, target, rcond=None)
    if np.ndim(x) == 1:
        return k
    return k.reshape(int_pair(kernel_shape, "kernel_shape"))
