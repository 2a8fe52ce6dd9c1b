"""Layer arithmetic: output sizes, parameter counts, multiplications, memory, receptive fields.

One home for the numbers notebooks 02-06 work out by hand (``cvhelpers.filters`` and
``cvhelpers.models`` re-export them under their old names). Plain Python, checked against Keras
in the tests.

>>> conv_params(3, 64, 128), separable_conv2d_params(3, 64, 128)
(73856, 8896)
"""

from __future__ import annotations

import math
from numbers import Integral

from .checks import check_mode, int_pair, positive_int

__all__ = ["output_size", "conv_params", "conv2d_params", "separable_conv2d_params", "conv_output_shape",
           "conv_multiplications", "conv_memory", "conv_layer", "receptive_field", "format_bytes", "shape3"]


def output_size(n: int, f: int, s: int = 1, padding: str = "valid") -> int:
    """Output length of a convolution or pooling along one axis.

    'valid': ``floor((n - f) / s) + 1``; 'same': ``ceil(n / s)``; 'full': ``floor((n + f - 2) / s) + 1``.

    >>> output_size(28, 3), output_size(13, 6, 5, "same"), output_size(13, 6, 5, "valid")
    (26, 3, 2)
    """
    n, f, s = positive_int(n, "n"), positive_int(f, "f"), positive_int(s, "s")
    padding = check_mode(padding)
    if padding == "valid":
        if f > n:
            raise ValueError(f"filter {f} is larger than the input {n}: 'valid' gives no output")
        return (n - f) // s + 1
    if padding == "same":
        return -(-n // s)
    return (n + f - 2) // s + 1


def shape3(input_shape) -> tuple[int, int, int]:
    """``(height, width, channels)`` of positive ints, else a ValueError."""
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    return tuple(positive_int(v, "input_shape entry") for v in input_shape)


def conv_params(kernel_size, in_channels: int, filters: int, use_bias: bool = True) -> int:
    """Trainable parameters of a Conv2D layer: ``(fh·fw·C_in + 1)·filters``.

    >>> conv_params(5, 3, 200)          # Géron's example
    15200
    """
    fh, fw = int_pair(kernel_size, "kernel_size")
    c, n = positive_int(in_channels, "in_channels"), positive_int(filters, "filters")
    return (fh * fw * c + (1 if use_bias else 0)) * n



# The name cvhelpers.models uses (notebooks 05 and 06, the assignments): the same count.
conv2d_params = conv_params


def separable_conv2d_params(kernel_size, in_channels: int, filters: int, depth_multiplier: int = 1,
                            use_bias: bool = True) -> int:
    """Parameters of a depthwise separable ``SeparableConv2D``.

    A depthwise ``k×k`` filter per input channel (``k·k·c_in·m``), then a pointwise ``1×1``
    convolution mixing channels (``c_in·m·c_out``), plus ``c_out`` biases.

    >>> separable_conv2d_params(3, 64, 128)
    8896
    """
    fh, fw = int_pair(kernel_size, "kernel_size")
    c, n = positive_int(in_channels, "in_channels"), positive_int(filters, "filters")
    m = positive_int(depth_multiplier, "depth_multiplier")
    return fh * fw * c * m + c * m * n + (n if use_bias else 0)

def conv_output_shape(input_shape, filters: int, kernel_size, strides=1, padding: str = "valid"):
    """``(H', W', filters)`` for a Conv2D (or pooling with ``filters = C``).

    >>> conv_output_shape((28, 28, 1), 32, 3)
    (26, 26, 32)
    """
    h, w, _ = shape3(input_shape)
    fh, fw = int_pair(kernel_size, "kernel_size")
    sh, sw = int_pair(strides, "strides")
    return (output_size(h, fh, sh, padding), output_size(w, fw, sw, padding),
            positive_int(filters, "filters"))


def conv_multiplications(input_shape, filters: int, kernel_size, strides=1, padding="valid") -> int:
    """Multiplications in one forward pass of one image: every output value is a dot product of
    ``fh·fw·C_in`` terms.

    >>> conv_multiplications((150, 100, 3), 200, 5, padding="same")
    225000000
    """
    oh, ow, n = conv_output_shape(input_shape, filters, kernel_size, strides, padding)
    fh, fw = int_pair(kernel_size, "kernel_size")
    return oh * ow * n * fh * fw * input_shape[2]


def conv_memory(shape, batch_size: int = 1, bytes_per_value: int = 4) -> int:
    """Bytes to hold a tensor of ``shape`` (e.g. a layer's output) for ``batch_size`` images
    (float32: 4 bytes per value).

    >>> conv_memory((150, 100, 200))            # 12 MB
    12000000
    """
    if not isinstance(shape, (tuple, list)) or not shape:
        raise ValueError(f"shape must be a non-empty tuple of positive ints, got {shape!r}")
    values = math.prod(positive_int(v, "shape entry") for v in shape)
    return values * positive_int(batch_size, "batch_size") * positive_int(bytes_per_value, "bytes_per_value")


def conv_layer(input_shape, filters: int, kernel_size, strides=1, padding: str = "valid") -> dict:
    """Everything about one Conv2D layer at once: output shape, parameters, multiplications and
    float32 bytes of its output for one image.

    >>> conv_layer((200, 300, 3), 100, 3, 2, "same")["output_shape"]
    (100, 150, 100)
    """
    c_in = shape3(input_shape)[2]
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
        f, s = positive_int(item[0], "kernel"), positive_int(item[1], "stride")
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
