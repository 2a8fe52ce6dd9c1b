"""Transfer learning helpers: which pretrained conv base, at what input size, with which
preprocessing, and which top layers to unfreeze for fine-tuning (notebooks 07 and 08).

A *backbone* is a name in :data:`BACKBONES`. Each entry says how big the input images are, which
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
from dataclasses import dataclass

__all__ = ["Backbone", "BACKBONES", "VGG16_FACTS", "spec", "preprocess", "build_base",
           "layers_to_unfreeze", "freeze", "unfreeze_top", "count_trainable", "extract_features", "image_arrays"]


@dataclass(frozen=True)
class Backbone:
    """A pretrained conv base: how to build it, feed it and fine-tune it."""

    name: str
    keras_class: str  # attribute of keras.applications
    kwargs: tuple  # extra constructor arguments as (key, value) pairs
    input_size: int  # square input side in pixels
    preprocess: str  # dotted path of the preprocess_input function
    unfreeze: tuple  # layer-name prefixes that fine-tuning makes trainable
    in_registry: bool  # True if cvhelpers.data resolves its ImageNet weights (mirror, cache)
    note: str = ""


BACKBONES: dict[str, Backbone] = {b.name: b for b in [
    Backbone("vgg16", "VGG16", (), 180, "keras.applications.vgg16.preprocess_input",
             ("block5_",), True,
             "the book's conv base: 14.7 M parameters"),
    Backbone("mobilenet_0.25", "MobileNet", (("alpha", 0.25),), 224,
             "keras.applications.mobilenet.preprocess_input",
             ("conv_dw_13", "conv_pw_13"), True,
             "MobileNet v1 width 0.25: 0.22 M parameters"),
    Backbone("efficientnetv2b0", "EfficientNetV2B0", (), 224,
             "keras.applications.efficientnet_v2.preprocess_input",
             ("block6h_", "top_"), True,
             "a 2021 backbone (5.9 M parameters); its weights are in the course registry (official Keras URL)"),
]}

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

    ``weights="imagenet"``: real ImageNet weights. For registered backbones they are resolved by
    :func:`cvhelpers.data.pretrained` (offline mirror, cache, then download); for the others Keras
    downloads them, which raises :class:`cvhelpers.data.DataError` at once when
    ``CVHELPERS_OFFLINE=1``. ``weights=None``: the architecture with random weights (for counting
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
    from . import data

    if b.in_registry:
        return data.pretrained(name, include_top=False, input_shape=tuple(input_shape))
    if data.offline():
        raise data.DataError(f"{name}: ImageNet weights need a download and CVHELPERS_OFFLINE=1 is set")
    try:
        net = cls(weights="imagenet", include_top=False, input_shape=tuple(input_shape), **kwargs)
    except Exception as exc:  # Keras raises a bare Exception("URL fetch failure ...")
        raise data.DataError(f"{name}: could not download its ImageNet weights ({exc})") from exc
    print(f"{name}: ImageNet weights from Keras download (cached in ~/.keras/models)")
    return net


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


def image_arrays(root, split: str, image_size: int, verbose: bool = True):
    """The JPEGs of ``root/split/{class}/`` decoded once, resized to ``image_size`` and cached.

    Returns ``(images, labels, class_names)``: ``images`` uint8 of shape ``(n, image_size,
    image_size, 3)`` in the order of the sorted file names (classes in alphabetical order, like
    ``image_dataset_from_directory``: cat = 0, dog = 1), ``labels`` int32. Resizing is bilinear and
    stretches the photo (aspect ratio not kept), as ``image_dataset_from_directory`` does.

    The arrays are saved in ``cache_dir()/arrays/`` (one ``.npz`` per folder, split and size), so
    the second call, and every later notebook at the same size, reads them in a fraction of a
    second instead of decoding thousands of JPEGs again: decoding is done once, not once per epoch.

    >>> x, y, names = image_arrays(data.cats_vs_dogs(), "train", 96)   # doctest: +SKIP
    >>> x.shape, x.dtype, names                                         # doctest: +SKIP
    ((2000, 96, 96, 3), dtype('uint8'), ['cat', 'dog'])
    """
    import os
    from pathlib import Path

    import numpy as np

    from . import data

    root = Path(root)
    if not isinstance(image_size, int) or isinstance(image_size, bool) or not 8 <= image_size <= 1024:
        raise ValueError(f"image_size must be an int from 8 to 1024 pixels, got {image_size!r}")
    folder = root / split
    class_names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    files = [(str(f), k) for k, c in enumerate(class_names) for f in sorted((folder / c).glob("*.jpg"))]
    if not files:
        raise FileNotFoundError(f"no JPEGs in {folder}/<class>/: is {root} a folder made by data.cats_vs_dogs()?")
    cache = data.cache_dir() / "arrays" / f"{root.name}_{split}_{image_size}px.npz"
    if cache.is_file():
        with np.load(cache) as f:
            if f["images"].shape[0] == len(files) and list(f["class_names"]) == class_names:
                return f["images"], f["labels"], class_names
    import tensorflow as tf

    def decode(path):
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        image = tf.image.resize(image, (image_size, image_size))  # bilinear, like image_dataset_from_directory
        return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)

    paths = tf.data.Dataset.from_tensor_slices([f for f, _ in files])
    batches = paths.map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(256)
    if verbose:
        from tqdm.auto import tqdm

        batches = tqdm(batches, total=-(-len(files) // 256), desc=f"decoding {split} at {image_size}px")
    images = np.concatenate([b.numpy() for b in batches])
    labels = np.array([k for _, k in files], dtype="int32")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, images=images, labels=labels, class_names=np.array(class_names))
    os.replace(tmp, cache)
    return images, labels, class_names
