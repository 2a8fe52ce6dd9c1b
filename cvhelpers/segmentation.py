"""Semantic segmentation helpers (notebook 11): IoU, a U-Net, mask overlays.

The Oxford-IIIT Pet data itself (:func:`pet_split`, :func:`load_pets`, :data:`PET_CLASSES`) lives
in :mod:`cvhelpers.datasets.oxford_pets` and is re-exported here under its old names.

The Oxford-IIIT Pet trimaps label every pixel 1 = pet, 2 = background, 3 = border (the uncertain
outline). Here they become class indices 0, 1, 2 (:data:`PET_CLASSES`).

>>> import numpy as np
>>> t = np.array([[0, 0, 1], [2, 1, 1]]); p = np.array([[0, 1, 1], [2, 1, 0]])
>>> iou_per_class(t, p, 3).round(3).tolist()     # pet: 1/3, background: 2/4, border: 1/1
[0.333, 0.5, 1.0]
>>> round(mean_iou(t, p, 3), 3)
0.611

Nothing here imports TensorFlow until a function needs it.
"""

from __future__ import annotations

from .datasets.oxford_pets import PET_CLASSES, load_pets, pet_split

__all__ = ["PET_CLASSES", "PET_COLORS", "pet_split", "load_pets", "iou_per_class", "mean_iou",
           "unet", "mobilenet_unet", "overlay_mask", "overlay"]

PET_COLORS = ((0.95, 0.35, 0.10), (0.15, 0.35, 0.85), (1.0, 0.9, 0.1))  # orange, blue, yellow


def iou_per_class(y_true, y_pred, num_classes: int):
    """Intersection over union of each class over all pixels: TP / (TP + FP + FN).

    A class absent from both ``y_true`` and ``y_pred`` gets NaN (it is neither right nor wrong).
    """
    import numpy as np

    from .plots import confusion_counts

    cm = confusion_counts(np.asarray(y_true).ravel(), np.asarray(y_pred).ravel(), num_classes).astype(np.float64)
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def mean_iou(y_true, y_pred, num_classes: int) -> float:
    """The mean of :func:`iou_per_class` over the classes present (what ``keras.metrics.MeanIoU`` reports)."""
    import numpy as np

    return float(np.nanmean(iou_per_class(y_true, y_pred, num_classes)))


def _conv_block(x, filters: int, name: str):
    from keras import layers

    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return x


def unet(image_size: int, num_classes: int = 3, filters=(16, 32, 64, 128), name: str = "unet"):
    """A U-Net (Ronneberger et al., 2015) for ``image_size`` × ``image_size`` RGB input (0–255).

    Encoder: per level two 3×3 conv + batch-norm + ReLU, then 2×2 max-pooling; the last entry of
    ``filters`` is the bottleneck. Decoder: a stride-2 ``Conv2DTranspose`` doubles the resolution,
    the encoder's map of the same size is concatenated (the skip connection), two convs follow.
    A 1×1 conv with softmax gives a class distribution per pixel.

    Taught in notebook 11, whose cells define the same network (tests/test_notebook_twins.py).
    """
    import keras
    from keras import layers

    levels = len(filters) - 1
    if levels < 1 or image_size % (2 ** levels):
        raise ValueError(f"image_size={image_size} must be divisible by 2**{levels} for filters={filters}")
    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    skips = []
    for i, f in enumerate(filters[:-1]):
        x = _conv_block(x, f, f"down{i + 1}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = _conv_block(x, filters[-1], "bottleneck")
    for i, (f, skip) in reversed(list(enumerate(zip(filters[:-1], skips)))):
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", name=f"up{i + 1}_transpose")(x)
        x = layers.Concatenate(name=f"up{i + 1}_skip")([x, skip])
        x = _conv_block(x, f, f"up{i + 1}")
    outputs = layers.Conv2D(num_classes, 1, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name=name)


# Layers of keras.applications.MobileNet whose outputs have strides 2, 4, 8 and 16 (skips) and 32.
MOBILENET_SKIPS = ("conv_pw_1_relu", "conv_pw_3_relu", "conv_pw_5_relu", "conv_pw_11_relu")
MOBILENET_DEEPEST = "conv_pw_13_relu"


def mobilenet_unet(base, num_classes: int = 3, filters=(96, 64, 48, 32, 16), name: str = "mobilenet_unet"):
    """A U-Net whose encoder is a (pretrained) ``keras.applications.MobileNet`` conv base ``base``.

    The decoder climbs from the stride-32 output back to full resolution in five ×2 steps
    (``Conv2DTranspose``), concatenating the encoder's maps at strides 16, 8, 4 and 2 on the way
    (the U-Net's skip connections). The input is 0–255 RGB; MobileNet's preprocessing (scale to
    −1…1) is the first layer. Freeze ``base`` (``base.trainable = False``) to train only the decoder.

    Taught in notebook 11, whose cells define the same network (tests/test_notebook_twins.py).
    """
    import keras
    from keras import layers

    size = base.input_shape[1]
    if size is None or size % 32:
        raise ValueError(f"the base's input size must be a multiple of 32, got {base.input_shape}")
    encoder = keras.Model(base.input, [base.get_layer(n).output for n in MOBILENET_SKIPS]
                          + [base.get_layer(MOBILENET_DEEPEST).output], name="encoder")
    inputs = keras.Input((size, size, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1, name="mobilenet_preprocess")(inputs)
    *skips, x = encoder(x)
    for i, f in enumerate(filters):
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", use_bias=False, name=f"up{i + 1}")(x)
        x = layers.BatchNormalization(name=f"up{i + 1}_bn")(x)
        x = layers.Activation("relu", name=f"up{i + 1}_relu")(x)
        if i < len(skips):
            x = layers.Concatenate(name=f"up{i + 1}_skip")([x, skips[-1 - i]])
    outputs = layers.Conv2D(num_classes, 3, padding="same", activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name=name)


def overlay_mask(image, mask, alpha: float = 0.45, colors=PET_COLORS):
    """``image`` (H, W, 3; uint8 0–255 or float 0–1) with each class of ``mask`` (H, W) tinted.

    Returns a float array in 0–1 for ``plt.imshow``.

    >>> import numpy as np
    >>> overlay_mask(np.zeros((2, 2, 3), np.uint8), np.array([[0, 1], [2, 0]]), alpha=1.0)[0, 1].tolist()
    [0.15, 0.35, 0.85]
    """
    import numpy as np

    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f"image must be (H, W, 3), got {img.shape}")
    if img.max(initial=0) > 1.0:
        img = img / 255.0
    mask = np.asarray(mask)
    if mask.shape != img.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} differs from the image's {img.shape[:2]}")
    tint = np.asarray(colors, dtype=np.float64)[mask.astype(np.int64)]
    return (1 - alpha) * img + alpha * tint


# The old name, used by notebook 11. Not to be confused with cvhelpers.interpret.overlay (a heatmap
# painted over an image): new code says overlay_mask.
overlay = overlay_mask
