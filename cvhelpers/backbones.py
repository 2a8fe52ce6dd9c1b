"""The pretrained backbones: one table of the ``keras.applications`` models the course builds.

Each :class:`Backbone` says how to build the model (its Keras class and arguments), how to feed
it (input size, ``preprocess_input``) and, for the ones notebooks 07 and 08 fine-tune, which top
layers fine-tuning unfreezes. Their ImageNet weights files are registered in
:data:`cvhelpers.fetch.registry.WEIGHTS`; :func:`pretrained` builds a model with them, found in
the data folder, the cache or a mirror, else downloaded.

>>> sorted(BACKBONES)
['efficientnetv2b0', 'mobilenet_0.25', 'resnet50', 'vgg16']
>>> BACKBONES["mobilenet_0.25"].kwargs
(('alpha', 0.25),)
"""

from __future__ import annotations

from dataclasses import dataclass

from .fetch import WEIGHTS, DataError, display_path, fix_hint, get, local_copy, mirrors, offline

__all__ = ["Backbone", "BACKBONES", "weights_path", "pretrained"]


@dataclass(frozen=True)
class Backbone:
    """A pretrained model: how to build it, feed it and (if ``unfreeze``) fine-tune it."""

    name: str
    keras_class: str  # attribute of keras.applications
    kwargs: tuple  # extra constructor arguments as (key, value) pairs
    input_size: int  # square input side in pixels
    preprocess: str  # dotted path of the preprocess_input function
    unfreeze: tuple = ()  # layer-name prefixes that fine-tuning makes trainable (() = not fine-tuned here)
    note: str = ""


BACKBONES: dict[str, Backbone] = {b.name: b for b in [
    Backbone("vgg16", "VGG16", (), 180, "keras.applications.vgg16.preprocess_input",
             ("block5_",), "the book's conv base: 14.7 M parameters"),
    Backbone("mobilenet_0.25", "MobileNet", (("alpha", 0.25),), 224,
             "keras.applications.mobilenet.preprocess_input",
             ("conv_dw_13", "conv_pw_13"), "MobileNet v1 width 0.25: 0.22 M parameters"),
    Backbone("efficientnetv2b0", "EfficientNetV2B0", (), 224,
             "keras.applications.efficientnet_v2.preprocess_input",
             ("block6h_", "top_"), "a 2021 backbone (5.9 M parameters); its weights are in the course registry"),
    Backbone("resnet50", "ResNet50", (), 224, "keras.applications.resnet50.preprocess_input",
             note="notebook 07's ImageNet classifier demo (include_top=True)"),
]}


def weights_path(model: str, include_top: bool = False) -> str:
    """What to pass as ``weights=`` to a ``keras.applications`` constructor.

    A verified local file (data dir, cache, a ``CVHELPERS_MIRROR``) if one can be had; otherwise
    ``"imagenet"`` so that Keras downloads the weights itself. Offline with no local file: a
    :class:`DataError` naming the file and where to put it. Known models: see ``WEIGHTS``.
    """
    key = (model, bool(include_top))
    if key not in WEIGHTS:
        known = ", ".join(sorted({f"{m} (include_top={t})" for m, t in WEIGHTS}))
        raise DataError(f"no ImageNet weights registered for {model} include_top={include_top}; known: {known}")
    art = WEIGHTS[key]
    found = local_copy(art)
    if found is not None:
        return str(found)
    if offline() or mirrors():
        return str(get(art))
    return "imagenet"


def pretrained(model: str, include_top: bool = False, **kwargs):
    """Build ``keras.applications`` model ``model`` with real ImageNet weights and say where they came from.

    >>> base = pretrained("mobilenet_0.25", input_shape=(224, 224, 3))   # doctest: +SKIP
    """
    import keras

    if model not in BACKBONES:
        raise DataError(f"unknown model {model!r}; known: {', '.join(sorted(BACKBONES))}")
    w = weights_path(model, include_top)
    b = BACKBONES[model]
    try:
        net = getattr(keras.applications, b.keras_class)(weights=w, include_top=include_top, **dict(b.kwargs), **kwargs)
    except Exception as exc:  # Keras' own download failed (it raises a bare Exception)
        if w != "imagenet":
            raise
        art = WEIGHTS[(model, bool(include_top))]
        raise DataError(f"{model}: ImageNet weights could not be downloaded from {art.urls[0]} ({exc}); "
                        f"{fix_hint(art)}") from None
    where = "Keras download (cached in ~/.keras/models)" if w == "imagenet" else display_path(w)
    print(f"{model}: ImageNet weights from {where}")
    return net
