"""Image filtering by hand: kernels, a readable NumPy convolution, its matrix form, and layer arithmetic.

A package, one module per subject; every name is re-exported here, so ``filters.X`` is all a
notebook needs:

================  ==========================================================================
module            subject
================  ==========================================================================
``kernels``       box, Gaussian, sharpen, Sobel, Prewitt, Laplacian; ``PRESETS`` by name
``filtering``     ``correlate2d``, ``convolve2d`` (vectorised), 1-D versions, plain loops
``matrix``        convolution as a matrix product: ``conv_matrix``, ``patch_matrix``, ``recover_kernel``
``gradients``     Sobel gradients, their magnitude and direction
``samples``       sample photos shipped with scikit-image / scikit-learn, grey conversion
``timing``        ``benchmark``: loops vs NumPy vs SciPy vs TensorFlow
================  ==========================================================================

The layer arithmetic (``output_size``, ``conv_params``, ``receptive_field``...) lives in
:mod:`cvhelpers.layer_math` and is re-exported here; the input checks they share, in :mod:`cvhelpers.checks`.

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

from ..checks import MODES
from ..layer_math import (conv_layer, conv_memory, conv_multiplications, conv_output_shape, conv_params, format_bytes,
                          output_size, receptive_field)
from .filtering import convolve1d, convolve2d, correlate1d, correlate2d, correlate2d_loops
from .gradients import gradient_direction, gradient_magnitude, sobel_gradient
from .kernels import (PRESETS, box, directional_sobel, emboss, gaussian, identity, laplacian, preset, prewitt_x,
                      prewitt_y, sharpen, sobel_x, sobel_y)
from .matrix import conv_matrix, patch_matrix, recover_kernel
from .samples import LUMINANCE, SAMPLE_IMAGES, sample_image, to_gray
from .timing import benchmark, format_benchmark

__all__ = [
    # kernels
    "identity", "box", "gaussian", "sharpen", "emboss", "prewitt_x", "prewitt_y", "sobel_x",
    "sobel_y", "laplacian", "directional_sobel", "PRESETS", "preset",
    # filtering
    "MODES", "correlate2d", "convolve2d", "correlate1d", "convolve1d", "correlate2d_loops",
    # matrix form
    "conv_matrix", "patch_matrix", "recover_kernel",
    # gradients
    "sobel_gradient", "gradient_magnitude", "gradient_direction",
    # arithmetic (cvhelpers.layer_math)
    "output_size", "conv_params", "conv_output_shape", "conv_multiplications", "conv_memory",
    "conv_layer", "receptive_field", "format_bytes",
    # images and timing
    "SAMPLE_IMAGES", "sample_image", "LUMINANCE", "to_gray", "benchmark", "format_benchmark",
]

