"""Transfer learning helpers: which pretrained conv base, at what input size, with which
preprocessing, and which top layers to unfreeze for fine-tuning (notebooks 07 and 08).

A *backbone* is a name in :data:`BACKBONES` (the fine-tunable entries of the one backbone table,
:data:`cvhelpers.backbones.BACKBONES`). Each entry says how big the input images are, which
``preprocess_input`` function turns 0–255 RGB pixels into what the network was trained on, and
which layers form "the top of the base" that fine-tuning unfreezes:

==================  ==========  =================================  ===================================
backbone            input size  preprocess_input                   unfrozen for fine-tuning
==================  ==========  =================================  ===================================
``vgg16``           180×180     ``vgg16`` (BGR, ImageNet mean)     block5: 3 convs + pool (last 4 layers)
``mobilenet_0.25``  224×224     ``mobilenet`` (scale to −1…1)      last depthwise + pointwise block (13)
``efficientnetv2b0`` 224×224    ``efficientnet_v2`` (inside model)  block6h + top conv
==================  ==========  =================================  ===================================

>>> spec("vgg16").input_size
180
>>> spec("mobilenet_0.25").unfreeze
('conv_dw_13', 'conv_pw_13')

Nothing here imports TensorFlow until a function needs it.
"""

from __future__ import annotations

import importlib

from .backbones import BACKBONES as _ALL_BACKBONES
from .backbones import Backbone, pretrained
from .datasets.cats_vs_dogs import image_arrays  # noqa: F401 - its old home; it lives with the dataset now

__all__ = ["Backbone", "BACKBONES", "VGG16_FACTS", "spec", "preprocess", "build_base",
           "layers_to_unfreeze", "freeze", "unfreeze_top", "count_trainable", "extract_features", "image_arrays"]


# The backbones fine-tuned here: the entries of the one table (cvhelpers.backbones) that name the
# layers fine-tuning unfreezes.
BACKBONES: dict[str, Backbone] = {n: b for n, b in _ALL_BACKBONES.items() if b.unfreeze}

# The facts of the book's VGG16 conv base (include_top=False, 180×180×3), checked in notebook 07
# and in the tests on the architecture alone (weights=None needs no download).
VGG16_FACTS = {"params": 14_714_688, "trainable_tensors": 26, "block5_layers": 4}


def spec(name: str) -> Backbone:
    """The :class:`Backbone` called ``name``.

    >>> spec("mobilenet_0.25").input_size
    224
    """
    try:
        return BACKBONES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}") from None


def preprocess(name: str):
    """The ``preprocess_input`` function of backbone ``name`` (0–255 RGB in, network input out).

    >>> import numpy as np
    >>> float(preprocess("mobilenet_0.25")(np.array([0.0, 255.0]))[1])   # doctest: +SKIP
    1.0
    """
    module, _, func = spec(name).preprocess.rpartition(".")
    return getattr(importlib.import_module(module), func)


def build_base(name: str, weights: str | None = "imagenet", input_shape=None):
    """The conv base of backbone ``name`` (``include_top=False``).

    ``weights="imagenet"``: real ImageNet weights, resolved by :func:`cvhelpers.backbones.pretrained`
    (offline mirror, cache, then download; offline with no local copy: a ``DataError``).
    ``weights=None``: the architecture with random weights (for counting
    parameters, never for calling it pretrained). ``input_shape`` defaults to the backbone's size.

    >>> base = build_base("vgg16", weights=None)     # doctest: +SKIP
    >>> base.count_params()                          # doctest: +SKIP
    14714688
    """
    b = spec(name)
    if weights not in ("imagenet", None):
        raise ValueError(f"weights must be 'imagenet' or None, got {weights!r}")
    if input_shape is None:
        input_shape = (b.input_size, b.input_size, 3)
    if len(tuple(input_shape)) != 3 or tuple(input_shape)[-1] != 3:
        raise ValueError(f"input_shape must be (height, width, 3), got {input_shape!r}")
    import keras

    cls = getattr(keras.applications, b.keras_class)
    kwargs = dict(b.kwargs)
    if weights is None:
        return cls(weights=None, include_top=False, input_shape=tuple(input_shape), **kwargs)
    return pretrained(name, include_top=False, input_shape=tuple(input_shape))


def layers_to_unfreeze(base, name: str) -> list[str]:
    """Names of the layers of ``base`` that fine-tuning unfreezes for backbone ``name``.

    Raises ValueError if none match (wrong backbone for this model).
    """
    prefixes = spec(name).unfreeze
    found = [layer.name for layer in base.layers if layer.name.startswith(prefixes)]
    if not found:
        raise ValueError(f"no layer of {base.name!r} starts with {prefixes}: is it a {name} base?")
    return found


def freeze(base) -> int:
    """Freeze the whole base (``base.trainable = False``); return its trainable tensors left (0).

    Notebooks 07 and 08 teach the one line itself; this twin serves the assignments and tests.
    """
    base.trainable = False
    return len(base.trainable_weights)


def unfreeze_top(base, name: str) -> list[str]:
    """Make only the top layers of ``base`` trainable (see :data:`BACKBONES`); return their names.

    >>> base = build_base("vgg16", weights=None)     # doctest: +SKIP
    >>> unfreeze_top(base, "vgg16")                  # doctest: +SKIP
    ['block5_conv1', 'block5_conv2', 'block5_conv3', 'block5_pool']

    Taught in notebook 08 (``unfreeze_top_block``, which also keeps batch norm frozen).
    """
    names = set(layers_to_unfreeze(base, name))
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name in names
    return [layer.name for layer in base.layers if layer.name in names]


def count_trainable(model) -> int:
    """Number of trainable weight tensors (kernels, biases, BN scales...) of ``model``."""
    if not hasattr(model, "trainable_weights"):
        raise TypeError(f"expected a Keras model or layer, got {type(model).__name__}")
    return len(model.trainable_weights)


def extract_features(base, dataset, name: str, verbose: bool = True):
    """Run ``base`` once over ``dataset`` (batches of 0–255 images and labels): ``(features, labels)``.

    This is the book's "fast feature extraction": the expensive conv base runs once per image, and
    a small classifier then trains on the stored features in seconds.

    >>> feats, labels = extract_features(base, train_ds, "mobilenet_0.25")   # doctest: +SKIP
    """
    import numpy as np
    import tensorflow as tf

    prep = preprocess(name)
    # one compiled graph for all batches: much faster than calling the model eagerly batch by batch
    run = tf.function(lambda images: base(prep(images), training=False), reduce_retracing=True)
    feats, labels = [], []
    batches = dataset
    if verbose:
        from tqdm.auto import tqdm

        n = getattr(dataset, "cardinality", lambda: -1)()
        batches = tqdm(dataset, total=int(n) if int(n) > 0 else None, desc=f"{name} features")
    for images, y in batches:
        feats.append(np.asarray(run(tf.cast(images, "float32"))))
        labels.append(np.asarray(y))
    if not feats:
        raise ValueError("the dataset yielded no batches")
    return np.concatenate(feats), np.concatenate(labels)
