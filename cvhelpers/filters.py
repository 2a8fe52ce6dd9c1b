"""Image filtering by hand: kernels, a readable NumPy convolution, its matrix form, and layer arithmetic.

Notebooks 01 and 02 teach with these functions; the tests check every one of them against an
independent reference (SciPy, TensorFlow, Keras)::

    >>> import numpy as np
    >>> from cvhelpers import filters
    >>> img = np.arange(25.0).reshape(5, 5)
    >>> filters.correlate2d(img, filters.box(3)).shape          # 'valid' shrinks by f - 1
    (3, 3)
    >>> filters.output_size(13, 6, 5, "same"), filters.output_size(13, 6, 5, "valid")
    (3, 2)

Conventions (the same as TensorFlow/Keras):

* **correlation** slides the kernel as it is; **convolution** flips it first (both axes).
  Deep-learning "convolution" layers compute a correlation.
* ``mode`` is ``"valid"`` (no padding), ``"same"`` (zero padding so that the output has
  ``ceil(n / stride)`` pixels, extra padding going to the bottom/right as in TensorFlow) or
  ``"full"`` (every overlap, ``f - 1`` zeros on each side).
* images are ``(H, W)`` or ``(H, W, C)``; kernels are ``(fh, fw)`` (applied to each channel),
  ``(fh, fw, C)`` (summed over channels: one feature map) or ``(fh, fw, C, N)`` (N feature maps,
  the layout of ``tf.nn.conv2d`` and of a Conv2D layer's weights).

Nothing here imports TensorFlow except :func:`benchmark`.
"""

from __future__ import annotations

import math
import time
from numbers import Integral

import numpy as np

__all__ = [
    # kernels
    "identity", "box", "gaussian", "sharpen", "emboss", "prewitt_x", "prewitt_y", "sobel_x",
    "sobel_y", "laplacian", "directional_sobel", "PRESETS", "preset",
    # filtering
    "correlate2d", "convolve2d", "correlate1d", "convolve1d", "correlate2d_loops",
    # matrix form
    "conv_matrix", "patch_matrix", "recover_kernel",
    # gradients
    "sobel_gradient", "gradient_magnitude", "gradient_direction",
    # arithmetic
    "output_size", "conv_params", "conv_output_shape", "conv_multiplications", "conv_memory",
    "conv_layer", "receptive_field", "format_bytes",
    # images and timing
    "SAMPLE_IMAGES", "sample_image", "benchmark", "format_benchmark",
]

MODES = ("valid", "same", "full")


# --------------------------------------------------------------------------------------------
# input checks (one clear error each)
# --------------------------------------------------------------------------------------------

def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _pair(value, what: str) -> tuple[int, int]:
    """An int or a pair of ints, each >= 1 (a stride or a kernel size)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{what} must be an int or a pair (rows, cols), got {value!r}")
        return _positive_int(value[0], what), _positive_int(value[1], what)
    v = _positive_int(value, what)
    return v, v


def _mode(mode) -> str:
    m = str(mode).lower()
    if m not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return m


def _array(x, what: str, ndims: tuple[int, ...]) -> np.ndarray:
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


def _float(a: np.ndarray) -> np.ndarray:
    return a.astype(np.result_type(a.dtype, np.float32), copy=False)


# --------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------

def identity(size: int = 3) -> np.ndarray:
    """A kernel that returns its input: 1 in the centre, 0 elsewhere (odd ``size``).

    >>> identity(3).tolist()
    [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    """
    size = _positive_int(size, "size")
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
    size = _positive_int(size, "size")
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
    size = _positive_int(size, "size")
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


# --------------------------------------------------------------------------------------------
# filtering
# --------------------------------------------------------------------------------------------

def _padding(n: int, f: int, s: int, mode: str) -> tuple[int, int]:
    """Zeros added before and after one axis of length ``n`` for kernel ``f`` and stride ``s``."""
    if mode == "valid":
        return 0, 0
    if mode == "full":
        return f - 1, f - 1
    out = -(-n // s)                              # ceil(n / s)
    total = max((out - 1) * s + f - n, 0)
    return total // 2, total - total // 2          # TensorFlow puts the odd one at the end


def _prepare(image, kernel, mode, stride):
    """Validate and reshape inputs; return (image3, kernel4, per_channel, squeeze, pads, stride)."""
    mode = _mode(mode)
    sh, sw = _pair(stride, "stride")
    img = _float(_array(image, "image", (2, 3)))
    ker = _float(_array(kernel, "kernel", (2, 3, 4)))
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
    pads = (_padding(h, fh, sh, mode), _padding(w, fw, sw, mode))
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
    img, ker4, per_channel, ((pt, pb), (pl, pr)), (sh, sw) = _prepare(image, kernel, mode, stride)
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
    ker = _array(kernel, "kernel", (2, 3, 4))
    if _mode(mode) == "same" and (ker.shape[0] % 2 == 0 or ker.shape[1] % 2 == 0):
        raise ValueError(f"'same' convolution needs odd kernel sizes, got {ker.shape[:2]}: an even "
                         "kernel has no centre; use mode='valid' or 'full', or correlate2d "
                         "(TensorFlow's 'SAME' rule)")
    return correlate2d(image, ker[::-1, ::-1], mode, stride)


def _as_row(x, what):
    a = _array(x, what, (1,))
    return a[None, :]


def correlate1d(x, kernel, mode: str = "valid", stride: int = 1) -> np.ndarray:
    """1-D cross-correlation: ``out[i] = Σ_u x[i·s + u] · kernel[u]`` (after padding).

    >>> correlate1d([1., 2., 4., 7.], [-1., 1.]).tolist()      # forward differences
    [1.0, 2.0, 3.0]
    """
    s = _positive_int(stride, "stride")
    return correlate2d(_as_row(x, "x"), _as_row(kernel, "kernel"), mode, (1, s))[0]


def convolve1d(x, kernel, mode: str = "valid", stride: int = 1) -> np.ndarray:
    """1-D convolution (kernel flipped), the same as ``np.convolve`` for mode valid/same/full
    when the kernel is odd-sized.

    >>> convolve1d([1., 2., 4., 7.], [1., -1.]).tolist()        # also forward differences
    [1.0, 2.0, 3.0]
    """
    s = _positive_int(stride, "stride")
    return convolve2d(_as_row(x, "x"), _as_row(kernel, "kernel"), mode, (1, s))[0]


def correlate2d_loops(image, kernel, mode: str = "valid", stride=1) -> np.ndarray:
    """The same correlation written as four plain Python loops (grey image, 2-D kernel).

    Slow on purpose: it is the definition, one multiply-add at a time. Use it to read, and to
    measure how much vectorisation buys (:func:`benchmark`).

    >>> correlate2d_loops(np.ones((4, 4)), np.ones((3, 3))).tolist()
    [[9.0, 9.0], [9.0, 9.0]]
    """
    _array(image, "image", (2,))
    _array(kernel, "kernel", (2,))
    img, ker4, _, ((pt, pb), (pl, pr)), (sh, sw) = _prepare(image, kernel, mode, stride)
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


# --------------------------------------------------------------------------------------------
# convolution as a matrix product
# --------------------------------------------------------------------------------------------

def _shape2(shape) -> tuple[tuple[int, int], bool]:
    if isinstance(shape, Integral) and not isinstance(shape, bool):
        return (1, _positive_int(shape, "shape")), True
    if isinstance(shape, (tuple, list)) and len(shape) == 1:
        return (1, _positive_int(shape[0], "shape")), True
    if isinstance(shape, (tuple, list)) and len(shape) == 2:
        return (_positive_int(shape[0], "shape"), _positive_int(shape[1], "shape")), False
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
    ker = _array(kernel, "kernel", (1,) if one_d else (2,))
    k = _float(ker.reshape(1, -1) if one_d else ker)
    mode = _mode(mode)
    sh, sw = (1, _positive_int(stride, "stride")) if one_d else _pair(stride, "stride")
    fh, fw = k.shape
    if mode == "valid" and (fh > h or fw > w):
        raise ValueError(f"kernel {fh}×{fw} is larger than the input {h}×{w} in 'valid' mode")
    (pt, pb), (pl, pr) = _padding(h, fh, sh, mode), _padding(w, fw, sw, mode)
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
    a = _array(x, "x", (1, 2))
    one_d = a.ndim == 1
    if one_d:
        kh, kw = 1, _positive_int(kernel_shape if not isinstance(kernel_shape, (tuple, list))
                                  else kernel_shape[0], "kernel_shape")
        img = a[None, :]
        st = (1, _positive_int(stride, "stride"))
    else:
        kh, kw = _pair(kernel_shape, "kernel_shape")
        img = a
        st = _pair(stride, "stride")
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
    >>> y = correlate1d(x, [1., -2., 1.])
    >>> np.round(recover_kernel(x, y, 3), 6).tolist()
    [1.0, -2.0, 1.0]
    """
    p = patch_matrix(x, kernel_shape, mode, stride)
    target = _float(_array(y, "y", (1, 2))).ravel()
    if target.size != p.shape[0]:
        raise ValueError(f"y has {target.size} values but correlate(x, kernel, {mode!r}) gives "
                         f"{p.shape[0]}: check mode, stride and shapes")
    k, *_ = np.linalg.lstsq(p, target, rcond=None)
    if np.ndim(x) == 1:
        return k
    return k.reshape(_pair(kernel_shape, "kernel_shape"))


# --------------------------------------------------------------------------------------------
# gradients
# --------------------------------------------------------------------------------------------

def sobel_gradient(image, mode: str = "same") -> tuple[np.ndarray, np.ndarray]:
    """``(gx, gy)``: Sobel derivatives of a grey image (rightwards and downwards).

    >>> ramp = np.tile(np.arange(5.0), (5, 1))          # brightness grows to the right
    >>> gx, gy = sobel_gradient(ramp, "valid")
    >>> float(gx[0, 0]), float(gy[0, 0])
    (8.0, 0.0)
    """
    _array(image, "image", (2,))
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


# --------------------------------------------------------------------------------------------
# layer arithmetic
# --------------------------------------------------------------------------------------------

def output_size(n: int, f: int, s: int = 1, padding: str = "valid") -> int:
    """Output length of a convolution or pooling along one axis.

    'valid': ``floor((n - f) / s) + 1``; 'same': ``ceil(n / s)``; 'full': ``floor((n + f - 2) / s) + 1``.

    >>> output_size(28, 3), output_size(13, 6, 5, "same"), output_size(13, 6, 5, "valid")
    (26, 3, 2)
    """
    n, f, s = _positive_int(n, "n"), _positive_int(f, "f"), _positive_int(s, "s")
    padding = _mode(padding)
    if padding == "valid":
        if f > n:
            raise ValueError(f"filter {f} is larger than the input {n}: 'valid' gives no output")
        return (n - f) // s + 1
    if padding == "same":
        return -(-n // s)
    return (n + f - 2) // s + 1


def _shape3(input_shape) -> tuple[int, int, int]:
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    return tuple(_positive_int(v, "input_shape entry") for v in input_shape)


def conv_params(kernel_size, in_channels: int, filters: int, use_bias: bool = True) -> int:
    """Trainable parameters of a Conv2D layer: ``(fh·fw·C_in + 1)·filters``.

    >>> conv_params(5, 3, 200)          # Géron's example
    15200
    """
    fh, fw = _pair(kernel_size, "kernel_size")
    c, n = _positive_int(in_channels, "in_channels"), _positive_int(filters, "filters")
    return (fh * fw * c + (1 if use_bias else 0)) * n


def conv_output_shape(input_shape, filters: int, kernel_size, strides=1, padding: str = "valid"):
    """``(H', W', filters)`` for a Conv2D (or pooling with ``filters = C``).

    >>> conv_output_shape((28, 28, 1), 32, 3)
    (26, 26, 32)
    """
    h, w, _ = _shape3(input_shape)
    fh, fw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(strides, "strides")
    return (output_size(h, fh, sh, padding), output_size(w, fw, sw, padding),
            _positive_int(filters, "filters"))


def conv_multiplications(input_shape, filters: int, kernel_size, strides=1, padding="valid") -> int:
    """Multiplications in one forward pass of one image: every output value is a dot product of
    ``fh·fw·C_in`` terms.

    >>> conv_multiplications((150, 100, 3), 200, 5, padding="same")
    225000000
    """
    oh, ow, n = conv_output_shape(input_shape, filters, kernel_size, strides, padding)
    fh, fw = _pair(kernel_size, "kernel_size")
    return oh * ow * n * fh * fw * input_shape[2]


def conv_memory(shape, batch_size: int = 1, bytes_per_value: int = 4) -> int:
    """Bytes to hold a tensor of ``shape`` (e.g. a layer's output) for ``batch_size`` images
    (float32: 4 bytes per value).

    >>> conv_memory((150, 100, 200))            # 12 MB
    12000000
    """
    if not isinstance(shape, (tuple, list)) or not shape:
        raise ValueError(f"shape must be a non-empty tuple of positive ints, got {shape!r}")
    values = math.prod(_positive_int(v, "shape entry") for v in shape)
    return values * _positive_int(batch_size, "batch_size") * _positive_int(bytes_per_value, "bytes_per_value")


def conv_layer(input_shape, filters: int, kernel_size, strides=1, padding: str = "valid") -> dict:
    """Everything about one Conv2D layer at once: output shape, parameters, multiplications and
    float32 bytes of its output for one image.

    >>> conv_layer((200, 300, 3), 100, 3, 2, "same")["output_shape"]
    (100, 150, 100)
    """
    c_in = _shape3(input_shape)[2]
    out = conv_output_shape(input_shape, filters, kernel_size, strides, padding)
    return {"input_shape": tuple(input_shape), "output_shape": out,
            "params": conv_params(kernel_size, c_in, filters),
            "multiplications": conv_multiplications(input_shape, filters, kernel_size, strides, padding),
            "output_bytes": conv_memory(out)}


def receptive_field(layers) -> int:
    """Receptive field (in input pixels, along one axis) of one output unit after a stack of
    layers given as ``[(kernel, stride), ...]``; each layer adds ``(f - 1) × jump`` where
    ``jump`` is the product of the earlier strides.

    >>> receptive_field([(3, 1), (3, 1)]), receptive_field([(3, 1), (2, 2), (3, 1)])
    (5, 8)
    """
    if not isinstance(layers, (list, tuple)):
        raise ValueError(f"layers must be a list of (kernel, stride) pairs, got {layers!r}")
    rf, jump = 1, 1
    for item in layers:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError(f"each layer must be a (kernel, stride) pair, got {item!r}")
        f, s = _positive_int(item[0], "kernel"), _positive_int(item[1], "stride")
        rf += (f - 1) * jump
        jump *= s
    return rf


def format_bytes(n: int) -> str:
    """Bytes in decimal units, as the books count them (1 MB = 10⁶ bytes).

    >>> format_bytes(12_000_000), format_bytes(1_200_000_000)
    ('12.0 MB', '1.2 GB')
    """
    if isinstance(n, bool) or not isinstance(n, (Integral, float)) or n < 0:
        raise ValueError(f"n must be a non-negative number of bytes, got {n!r}")
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


# --------------------------------------------------------------------------------------------
# sample images
# --------------------------------------------------------------------------------------------

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
        img = img @ np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)   # ITU-R 709 luminance
    if max_size is not None:
        max_size = _positive_int(max_size, "max_size")
        scale = max_size / max(img.shape[:2])
        if scale < 1:
            from skimage.transform import rescale
            img = rescale(img, scale, anti_aliasing=True,
                          channel_axis=2 if img.ndim == 3 else None).astype(np.float32)
    return img


# --------------------------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------------------------

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

    size = _positive_int(size, "size")
    naive_size = min(_positive_int(naive_size, "naive_size"), size)
    repeat = _positive_int(repeat, "repeat")
    sizes = [_positive_int(k, "kernel size") for k in kernel_sizes]
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
