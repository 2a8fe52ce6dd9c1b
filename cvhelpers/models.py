"""Classic CNN architectures and building blocks, written out layer by layer (notebook 09).

Each builder returns a plain Keras model (or, for blocks, a tensor in a functional graph) so a
student can print its summary and count its parameters. The custom layers
(:class:`LocalResponseNormalization`, :class:`ResidualUnit`) are registered with Keras, so a model
that uses them survives ``model.save("m.keras")`` / ``keras.models.load_model("m.keras")`` once
this module has been imported.

>>> from cvhelpers import models
>>> models.lenet5().count_params()          # doctest: +SKIP
61706
>>> models.conv2d_params(3, 64, 128), models.separable_conv2d_params(3, 64, 128)
(73856, 8896)

What is here (paper, ILSVRC top-5 error where it entered the competition):

* :func:`lenet5`: LeCun et al. 1998 (MNIST, not ILSVRC).
* :func:`geron_fashion_cnn`: Géron's Fashion-MNIST CNN (notebook 03), with or without batch norm.
* :func:`alexnet` with :class:`LocalResponseNormalization`: Krizhevsky et al. 2012, 17 %
  (15.3 % with extra data).
* :func:`inception_module`: Szegedy et al. 2014 (GoogLeNet), 6.7 %.
* :func:`vgg_block` / :func:`vgg16`: Simonyan & Zisserman 2014, 7.3 % (runner-up).
* :class:`ResidualUnit` / :func:`resnet34`: He et al. 2015, ResNet ensemble 3.6 %.
* :func:`separable_block`, :func:`conv2d_params`, :func:`separable_conv2d_params`: Xception
  (Chollet 2017).
* :func:`se_block`: Hu et al. 2017 (SENet), 2.25 %.

TensorFlow/Keras are imported inside the functions; importing this module imports Keras only to
register the custom layers (that is what makes ``load_model`` find them).
"""

from __future__ import annotations

import keras

from .layer_math import conv2d_params, separable_conv2d_params  # their home: the layer arithmetic

__all__ = [
    "LocalResponseNormalization", "ResidualUnit",
    "lenet5", "geron_fashion_cnn", "alexnet", "inception_module", "vgg_block", "vgg16", "resnet34",
    "conv2d_params", "separable_conv2d_params", "separable_block", "se_block",
]


# ----------------------------------------------------------------------------- helpers
def _check_shape(input_shape, min_side: int = 1, name: str = "input_shape"):
    """Validate an (height, width, channels) tuple of positive ints; return it as a tuple."""
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (height, width, channels), got {input_shape!r}") from None
    if len(shape) != 3 or min(shape) < 1 or min(shape[:2]) < min_side:
        raise ValueError(f"{name} must be (height, width, channels) with height and width >= {min_side}, "
                         f"got {input_shape!r}")
    return shape


def _check_positive(**values):
    for key, val in values.items():
        if not isinstance(val, int) or isinstance(val, bool) or val < 1:
            raise ValueError(f"{key} must be a positive int, got {val!r}")


def _check_tensor(x, name: str = "x"):
    """A functional-API block needs a 4-D (batch, h, w, c) Keras tensor."""
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) != 4 or shape[-1] is None:
        raise ValueError(f"{name} must be a 4-D Keras tensor (batch, height, width, channels) with a known "
                         f"channel count, e.g. keras.Input((32, 32, 3)); got {shape!r}")
    return int(shape[-1])


# ----------------------------------------------------------------------------- LeNet-5
def lenet5(input_shape=(32, 32, 1), num_classes: int = 10) -> keras.Model:
    """LeNet-5 (LeCun et al., 1998) as in its table, with a softmax output instead of RBF units.

    C1 6@28×28 (5×5, tanh) → S2 average pool → C3 16@10×10 → S4 → C5 120 (5×5) → F6 84 → output.
    Two simplifications, both standard: C3 connects to all six S2 maps (the paper wired each C3
    map to a subset), and the pools are plain averages (the paper's had a trainable weight and bias).
    With a 32×32×1 input: 61,706 parameters.

    >>> lenet5().output_shape
    (None, 10)
    """
    _check_shape(input_shape, min_side=32)
    _check_positive(num_classes=num_classes)
    L = keras.layers
    return keras.Sequential([
        keras.Input(input_shape),
        L.Conv2D(6, 5, activation="tanh", name="C1"),
        L.AveragePooling2D(2, name="S2"),
        L.Conv2D(16, 5, activation="tanh", name="C3"),
        L.AveragePooling2D(2, name="S4"),
        L.Conv2D(120, 5, activation="tanh", name="C5"),
        L.Flatten(name="flatten"),
        L.Dense(84, activation="tanh", name="F6"),
        L.Dense(num_classes, activation="softmax", name="output"),
    ], name="lenet5")


# ----------------------------------------------------------------------------- Géron's Fashion-MNIST CNN
def geron_fashion_cnn(batch_norm: bool = False, momentum: float = 0.9, input_shape=(28, 28, 1),
                      num_classes: int = 10) -> keras.Model:
    """Géron's Fashion-MNIST CNN (*Hands-On ML*, ch. 14), optionally with batch normalisation.

    Conv 64@7×7 → max-pool → 2 × conv 128@3×3 → max-pool → 2 × conv 256@3×3 → max-pool →
    Dense 128 → dropout 0.5 → Dense 64 → dropout 0.5 → softmax; ReLU, ``same`` padding, He
    initialisation. 1,413,834 parameters on 28×28×1.

    ``batch_norm=True`` puts a ``BatchNormalization(momentum)`` between every convolution and its
    ReLU and drops the convolutions' biases (batch norm has its own offset): 832 biases fewer,
    4 × 832 batch-norm numbers more (2 × 832 of them not trained), 1,416,330 in all. Notebook 03
    and ``benchmarks/fashion_geron.py`` both build the model here.

    >>> geron_fashion_cnn().count_params(), geron_fashion_cnn(batch_norm=True).count_params()
    (1413834, 1416330)
    """
    _check_shape(input_shape, min_side=8)
    _check_positive(num_classes=num_classes)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    L = keras.layers

    def conv(filters, size=3):
        if not batch_norm:
            return [L.Conv2D(filters, size, padding="same", activation="relu", kernel_initializer="he_normal")]
        return [L.Conv2D(filters, size, padding="same", use_bias=False, kernel_initializer="he_normal"),
                L.BatchNormalization(momentum=momentum), L.Activation("relu")]

    return keras.Sequential([
        keras.Input(input_shape),
        *conv(64, 7),
        L.MaxPooling2D(2),
        *conv(128), *conv(128),
        L.MaxPooling2D(2),
        *conv(256), *conv(256),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(128, activation="relu", kernel_initializer="he_normal"),
        L.Dropout(0.5),
        L.Dense(64, activation="relu", kernel_initializer="he_normal"),
        L.Dropout(0.5),
        L.Dense(num_classes, activation="softmax"),
    ], name="geron_cnn_batchnorm" if batch_norm else "geron_fashion_cnn")


# ----------------------------------------------------------------------------- AlexNet
@keras.saving.register_keras_serializable(package="cvhelpers")
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalisation across channels, ``tf.nn.local_response_normalization``.

    Each activation is divided by ``(bias + alpha · Σ a_j²) ** beta``, the sum running over the
    ``2·depth_radius + 1`` neighbouring feature maps at the same pixel. AlexNet's values:
    ``depth_radius=2`` (5 maps), ``alpha=0.00002``, ``beta=0.75``, ``bias=1``. No weights.

    >>> import numpy as np
    >>> LocalResponseNormalization()(np.ones((1, 2, 2, 8), "float32")).shape   # doctest: +SKIP
    (1, 2, 2, 8)
    """

    def __init__(self, depth_radius: int = 2, bias: float = 1.0, alpha: float = 0.00002, beta: float = 0.75,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(depth_radius, int) or depth_radius < 0:
            raise ValueError(f"depth_radius must be a non-negative int, got {depth_radius!r}")
        if alpha < 0 or beta < 0 or bias <= 0:
            raise ValueError(f"need bias > 0, alpha >= 0, beta >= 0; got bias={bias}, alpha={alpha}, beta={beta}")
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, float(bias), float(alpha), float(beta)

    def call(self, inputs):
        import tensorflow as tf

        return tf.nn.local_response_normalization(inputs, depth_radius=self.depth_radius, bias=self.bias,
                                                  alpha=self.alpha, beta=self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}


def alexnet(input_shape=(227, 227, 3), num_classes: int = 1000, dense_units: int = 4096,
            dropout: float = 0.5) -> keras.Model:
    """AlexNet (Krizhevsky, Sutskever & Hinton, 2012) as one tower, with local response normalisation.

    C1 96 11×11/4 valid → LRN → max-pool 3/2 → C3 256 5×5 → LRN → max-pool 3/2 → C5 384 3×3 →
    C6 384 3×3 → C7 256 3×3 → max-pool 3/2 → F9, F10 ``dense_units`` (ReLU, dropout) → softmax.
    With the defaults: 62,378,344 parameters. ``dense_units`` and a smaller ``input_shape``
    (at least 67×67) make a small copy for tests.

    >>> alexnet(input_shape=(67, 67, 3), num_classes=10, dense_units=64).output_shape   # doctest: +SKIP
    (None, 10)
    """
    _check_shape(input_shape, min_side=67)
    _check_positive(num_classes=num_classes, dense_units=dense_units)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    L = keras.layers
    return keras.Sequential([
        keras.Input(input_shape),
        L.Conv2D(96, 11, strides=4, activation="relu", name="C1"),
        LocalResponseNormalization(name="lrn1"),
        L.MaxPooling2D(3, strides=2, name="S2"),
        L.Conv2D(256, 5, padding="same", activation="relu", name="C3"),
        LocalResponseNormalization(name="lrn2"),
        L.MaxPooling2D(3, strides=2, name="S4"),
        L.Conv2D(384, 3, padding="same", activation="relu", name="C5"),
        L.Conv2D(384, 3, padding="same", activation="relu", name="C6"),
        L.Conv2D(256, 3, padding="same", activation="relu", name="C7"),
        L.MaxPooling2D(3, strides=2, name="S8"),
        L.Flatten(name="flatten"),
        L.Dense(dense_units, activation="relu", name="F9"),
        L.Dropout(dropout, name="drop9"),
        L.Dense(dense_units, activation="relu", name="F10"),
        L.Dropout(dropout, name="drop10"),
        L.Dense(num_classes, activation="softmax", name="output"),
    ], name="alexnet")


# ----------------------------------------------------------------------------- GoogLeNet
def inception_module(x, f1: int, f3_reduce: int, f3: int, f5_reduce: int, f5: int, pool_proj: int,
                     name: str | None = None):
    """A GoogLeNet inception module on the Keras tensor ``x`` (functional API).

    Four parallel branches, concatenated along the channels (depth concat):
    ``1×1`` (``f1``); ``1×1`` bottleneck (``f3_reduce``) → ``3×3`` (``f3``); ``1×1`` bottleneck
    (``f5_reduce``) → ``5×5`` (``f5``); ``3×3`` max-pool (stride 1) → ``1×1`` (``pool_proj``).
    All convolutions use ReLU and 'same' padding, so height and width are kept and the output has
    ``f1 + f3 + f5 + pool_proj`` channels.

    >>> inp = keras.Input((28, 28, 192))
    >>> inception_module(inp, 64, 96, 128, 16, 32, 32).shape    # GoogLeNet's inception (3a)
    (None, 28, 28, 256)
    """
    _check_tensor(x)
    _check_positive(f1=f1, f3_reduce=f3_reduce, f3=f3, f5_reduce=f5_reduce, f5=f5, pool_proj=pool_proj)
    L = keras.layers
    p = (name + "_") if name else ""

    def conv(filters, size, tag):
        return L.Conv2D(filters, size, padding="same", activation="relu", name=(p + tag) if name else None)

    b1 = conv(f1, 1, "1x1")(x)
    b3 = conv(f3, 3, "3x3")(conv(f3_reduce, 1, "3x3_reduce")(x))
    b5 = conv(f5, 5, "5x5")(conv(f5_reduce, 1, "5x5_reduce")(x))
    bp = conv(pool_proj, 1, "pool_proj")(
        L.MaxPooling2D(3, strides=1, padding="same", name=(p + "pool") if name else None)(x))
    return L.Concatenate(axis=-1, name=(p + "concat") if name else None)([b1, b3, b5, bp])


# ----------------------------------------------------------------------------- VGG
VGG16_BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


def vgg_block(x, convs: int, filters: int, name: str | None = None):
    """VGG's pattern on the Keras tensor ``x``: ``convs`` 3×3 ReLU convolutions, then 2×2 max-pool.

    >>> vgg_block(keras.Input((32, 32, 3)), 2, 64).shape
    (None, 16, 16, 64)
    """
    _check_tensor(x)
    _check_positive(convs=convs, filters=filters)
    L = keras.layers
    for i in range(convs):
        x = L.Conv2D(filters, 3, padding="same", activation="relu",
                     name=f"{name}_conv{i + 1}" if name else None)(x)
    return L.MaxPooling2D(2, name=f"{name}_pool" if name else None)(x)


def vgg16(input_shape=(224, 224, 3), num_classes: int = 1000, include_top: bool = True,
          dense_units: int = 4096) -> keras.Model:
    """VGG-16 from :func:`vgg_block`: five blocks (2, 2, 3, 3, 3 convolutions of 64…512 filters).

    With ``include_top`` two ``dense_units`` ReLU layers and a softmax follow (138,357,544
    parameters at 224×224×3 and 1000 classes); without it, the 14,714,688-parameter convolutional
    base, the same count as ``keras.applications.VGG16(include_top=False)`` at any input size.

    >>> vgg16(input_shape=(32, 32, 3), include_top=False).output_shape   # doctest: +SKIP
    (None, 1, 1, 512)
    """
    _check_shape(input_shape, min_side=32)
    _check_positive(num_classes=num_classes, dense_units=dense_units)
    L = keras.layers
    inputs = keras.Input(input_shape)
    x = inputs
    for i, (convs, filters) in enumerate(VGG16_BLOCKS, start=1):
        x = vgg_block(x, convs, filters, name=f"block{i}")
    if include_top:
        x = L.Flatten(name="flatten")(x)
        x = L.Dense(dense_units, activation="relu", name="fc1")(x)
        x = L.Dense(dense_units, activation="relu", name="fc2")(x)
        x = L.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name="vgg16")


# ----------------------------------------------------------------------------- ResNet
@keras.saving.register_keras_serializable(package="cvhelpers")
class ResidualUnit(keras.layers.Layer):
    """ResNet's basic residual unit: ``relu(F(x) + skip(x))``.

    ``F`` is conv 3×3 (stride ``strides``) → batch norm → ReLU → conv 3×3 → batch norm. ``skip`` is
    the identity, or, when the shape changes (``strides > 1`` or a different channel count), a
    1×1 convolution with the same stride followed by batch norm. Convolutions have no bias (batch
    norm's beta plays that role). ``momentum`` is the batch norms' moving-average momentum: Keras'
    0.99 needs a few hundred steps before the inference-time statistics settle; 0.9 suits short runs.

    >>> unit = ResidualUnit(128, strides=2)
    >>> tuple(unit(keras.ops.zeros((1, 8, 8, 64))).shape)
    (1, 4, 4, 128)
    """

    def __init__(self, filters: int, strides: int = 1, activation: str = "relu", momentum: float = 0.99,
                 **kwargs):
        super().__init__(**kwargs)
        _check_positive(filters=filters, strides=strides)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum (of the batch-norm moving statistics) must be in [0, 1), got {momentum!r}")
        self.filters, self.strides, self.momentum = filters, strides, float(momentum)
        self.activation = keras.activations.get(activation)
        self._activation_name = activation if isinstance(activation, str) else keras.activations.serialize(activation)
        L = keras.layers
        self.conv1 = L.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name="conv1")
        self.bn1 = L.BatchNormalization(momentum=momentum, name="bn1")
        self.conv2 = L.Conv2D(filters, 3, strides=1, padding="same", use_bias=False, name="conv2")
        self.bn2 = L.BatchNormalization(momentum=momentum, name="bn2")
        self.skip_conv = self.skip_bn = None  # created in build() when the shape changes

    def build(self, input_shape):
        in_channels = input_shape[-1]
        self.conv1.build(input_shape)
        mid = self.conv1.compute_output_shape(input_shape)
        self.bn1.build(mid)
        self.conv2.build(mid)
        self.bn2.build(mid)
        if self.strides > 1 or in_channels != self.filters:
            self.skip_conv = keras.layers.Conv2D(self.filters, 1, strides=self.strides, padding="same",
                                                 use_bias=False, name="skip_conv")
            self.skip_bn = keras.layers.BatchNormalization(momentum=self.momentum, name="skip_bn")
            self.skip_conv.build(input_shape)
            self.skip_bn.build(mid)
        self.built = True

    def call(self, inputs, training=None):
        z = self.activation(self.bn1(self.conv1(inputs), training=training))
        z = self.bn2(self.conv2(z), training=training)
        skip = inputs
        if self.skip_conv is not None:
            skip = self.skip_bn(self.skip_conv(inputs), training=training)
        return self.activation(z + skip)

    def compute_output_shape(self, input_shape):
        return self.conv1.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides,
                "activation": self._activation_name, "momentum": self.momentum}


RESNET34_STAGES = ((3, 64), (4, 128), (6, 256), (3, 512))


def resnet34(input_shape=(224, 224, 3), num_classes: int = 1000) -> keras.Model:
    """ResNet-34 (He et al., 2015) from :class:`ResidualUnit`.

    Stem: 7×7/2 conv (64, no bias) → batch norm → ReLU → 3×3/2 max-pool; then 3, 4, 6 and 3
    residual units of 64, 128, 256 and 512 filters (the first unit of each new stage has stride 2
    and a 1×1 skip convolution); global average pooling; a softmax layer. 21,797,672 trainable
    parameters with 1000 classes (plus 17,024 non-trainable batch-norm statistics).

    >>> resnet34(input_shape=(64, 64, 3), num_classes=10).output_shape   # doctest: +SKIP
    (None, 10)
    """
    _check_shape(input_shape, min_side=32)
    _check_positive(num_classes=num_classes)
    L = keras.layers
    inputs = keras.Input(input_shape)
    x = L.Conv2D(64, 7, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.Activation("relu", name="stem_relu")(x)
    x = L.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    prev = 64
    for stage, (units, filters) in enumerate(RESNET34_STAGES, start=1):
        for u in range(units):
            strides = 1 if filters == prev else 2
            x = ResidualUnit(filters, strides=strides, name=f"stage{stage}_unit{u + 1}")(x)
            prev = filters
    x = L.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = L.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="resnet34")


# ----------------------------------------------------------------------------- Xception, SENet
def separable_block(x, filters: int, strides: int = 1, name: str | None = None):
    """An Xception-style block: two ``SeparableConv2D`` 3×3 (+ batch norm, ReLU) with a residual skip.

    With ``strides=2`` a 3×3/2 max-pool ends the main path and the skip is a 1×1/2 convolution
    (+ batch norm), as in Xception's entry flow; otherwise the skip is the identity (or a 1×1
    convolution when the channel count changes).

    >>> separable_block(keras.Input((16, 16, 32)), 64, strides=2).shape
    (None, 8, 8, 64)
    """
    in_channels = _check_tensor(x)
    _check_positive(filters=filters, strides=strides)
    L = keras.layers
    n = (lambda tag: f"{name}_{tag}") if name else (lambda tag: None)
    z = x
    for i in (1, 2):
        z = L.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=n(f"sepconv{i}"))(z)
        z = L.BatchNormalization(name=n(f"bn{i}"))(z)
        if i == 1:
            z = L.Activation("relu", name=n("relu1"))(z)
    skip = x
    if strides > 1:
        z = L.MaxPooling2D(3, strides=strides, padding="same", name=n("pool"))(z)
    if strides > 1 or in_channels != filters:
        skip = L.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False, name=n("skip_conv"))(x)
        skip = L.BatchNormalization(name=n("skip_bn"))(skip)
    return L.Activation("relu", name=n("out"))(L.Add(name=n("add"))([z, skip]))


def se_block(x, ratio: int = 16, name: str | None = None):
    """A squeeze-and-excitation block (Hu et al., 2017) on the Keras tensor ``x``.

    Squeeze: global average pooling gives one number per channel. Excite: Dense(``c // ratio``,
    ReLU) → Dense(``c``, sigmoid) gives a weight in (0, 1) per channel. Scale: the input's channels
    are multiplied by those weights. Adds ``2·c·(c//ratio) + c//ratio + c`` parameters.

    >>> se_block(keras.Input((8, 8, 64))).shape
    (None, 8, 8, 64)
    """
    channels = _check_tensor(x)
    _check_positive(ratio=ratio)
    if channels // ratio < 1:
        raise ValueError(f"ratio={ratio} leaves no units for {channels} channels: use ratio <= {channels}")
    L = keras.layers
    n = (lambda tag: f"{name}_{tag}") if name else (lambda tag: None)
    s = L.GlobalAveragePooling2D(name=n("squeeze"))(x)
    s = L.Dense(channels // ratio, activation="relu", name=n("reduce"))(s)
    s = L.Dense(channels, activation="sigmoid", name=n("expand"))(s)
    s = L.Reshape((1, 1, channels), name=n("reshape"))(s)
    return L.Multiply(name=n("scale"))([x, s])
