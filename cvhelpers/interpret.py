"""Looking inside a trained convnet (notebook 12): activations, filter patterns, Grad-CAM.

Three tools, each a few lines of TensorFlow:

* :func:`activation_model` — a model that returns the feature maps of chosen layers, and
  :func:`feature_grid` to tile one layer's maps into one picture.
* :func:`filter_patterns` — gradient *ascent* in input space: start from a grey noisy image and
  change the pixels so that one filter of one layer responds as strongly as possible.
* :func:`grad_cam` — Grad-CAM (Selvaraju et al., 2017): weight a conv layer's feature maps by the
  average gradient of the class score with respect to them, keep the positive part; where the
  heatmap is hot is where the evidence for that class lies. :func:`overlay` lays it on the image.

They work on *functional* (or Sequential) Keras models whose layers are reachable by name; for a
pretrained base wrapped inside a bigger model, build the classifier on ``base.output`` so that the
base's layers stay in the same graph.

>>> from cvhelpers.interpret import grad_cam, overlay      # doctest: +SKIP
>>> heat = grad_cam(model, images, "conv5")                 # doctest: +SKIP
>>> heat.shape, float(heat.max())                           # doctest: +SKIP
((4, 11, 11), 1.0)
"""

from __future__ import annotations

__all__ = ["conv_layer_names", "last_conv_layer", "activation_model", "feature_grid", "filter_patterns",
           "grad_cam", "overlay"]


# ----------------------------------------------------------------------------- layer lookup
def _output_rank(layer) -> int | None:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError, TypeError):
        return None


def _check_model(model):
    import keras

    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    try:
        inputs = model.inputs  # a subclassed model that was never called has no graph
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError("model has no symbolic inputs: build it with keras.Input(...) (functional or Sequential)")
    if len(inputs) != 1:
        raise ValueError(f"only single-input models are supported, this one has {len(inputs)} inputs")


def _layer(model, name: str):
    try:
        return model.get_layer(name)
    except ValueError:
        names = ", ".join(layer.name for layer in model.layers)
        raise ValueError(f"model {model.name!r} has no layer {name!r}; its layers: {names}") from None


def conv_layer_names(model) -> list[str]:
    """Names of the layers whose output is a 4-D feature map (conv, pooling, activation…), in order.

    >>> conv_layer_names(model)            # doctest: +SKIP
    ['conv1', 'pool1', 'conv2', 'pool2']
    """
    _check_model(model)
    return [layer.name for layer in model.layers
            if _output_rank(layer) == 4 and not layer.name.startswith("input")
            and type(layer).__name__ not in ("InputLayer", "Rescaling", "Normalization")]


def last_conv_layer(model) -> str:
    """Name of the last layer with a 4-D output: the usual Grad-CAM layer.

    >>> last_conv_layer(model)             # doctest: +SKIP
    'conv5'
    """
    names = conv_layer_names(model)
    if not names:
        raise ValueError(f"model {model.name!r} has no layer with a 4-D (feature-map) output")
    return names[-1]


# ----------------------------------------------------------------------------- activations
def activation_model(model, layer_names=None):
    """A model with the same input that returns the outputs of ``layer_names`` (a list, in order).

    Default: every feature-map layer (:func:`conv_layer_names`).

    >>> acts = activation_model(model, ["conv1", "conv2"]).predict(x)   # doctest: +SKIP
    >>> [a.shape for a in acts]                                           # doctest: +SKIP
    [(1, 126, 126, 32), (1, 61, 61, 64)]
    """
    import keras

    _check_model(model)
    if layer_names is None:
        layer_names = conv_layer_names(model)
    if isinstance(layer_names, str) or not list(layer_names):
        raise ValueError("layer_names must be a non-empty list of layer names")
    outputs = [_layer(model, n).output for n in layer_names]
    return keras.Model(model.inputs[0], outputs, name=f"{model.name}_activations")


def feature_grid(maps, columns: int = 8, max_maps: int | None = None, pad: int = 1, constant: float = 0.0):
    """Tile the feature maps of one image, shape ``(h, w, c)``, into one 2-D array for ``imshow``.

    Each map is standardised on its own (mean 0, std 1, then to 0..1 and clipped) so that weak and
    strong channels are equally visible; constant maps (dead ReLUs) are filled with ``constant``
    (0 by default; ``np.nan`` makes them blank, drawn in the colour map's "bad" colour, like the
    padding, which is NaN).

    >>> import numpy as np
    >>> feature_grid(np.random.rand(6, 6, 10), columns=4).shape
    (20, 27)
    """
    import numpy as np

    maps = np.asarray(maps, dtype="float32")
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"maps must be (height, width, channels) for one image, got shape {maps.shape}")
    if not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive int, got {columns!r}")
    h, w, c = maps.shape
    n = c if max_maps is None else min(c, int(max_maps))
    rows = -(-n // columns)
    cols = min(columns, n)
    grid = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, dtype="float32")
    for i in range(n):
        m = maps[..., i]
        sd = m.std()
        m = np.clip((m - m.mean()) / sd * 0.25 + 0.5, 0, 1) if sd > 1e-8 else np.full_like(m, constant)
        r, q = divmod(i, cols)
        grid[r * (h + pad): r * (h + pad) + h, q * (w + pad): q * (w + pad) + w] = m
    return grid


# ----------------------------------------------------------------------------- filter patterns
def _to_image(x):
    """Deprocess optimised inputs for display: per image, centre, scale to std 0.15, shift to 0.5, clip."""
    import numpy as np

    x = np.asarray(x, dtype="float32")
    axes = tuple(range(1, x.ndim))
    x = x - x.mean(axis=axes, keepdims=True)
    x = x / (x.std(axis=axes, keepdims=True) + 1e-6) * 0.15 + 0.5
    return np.clip(x, 0, 1)


def filter_patterns(model, layer_name: str, filters, size=None, steps: int = 30, step_size: float = 10.0,
                    value_range=(0.0, 1.0), border: int = 2, seed: int = 0, return_raw: bool = False):
    """Images that maximise filters of a layer, found by gradient ascent in input space.

    For every index in ``filters`` one image is optimised (all at once, as a batch): start from
    mid-grey plus a little noise in the model's ``value_range``, then ``steps`` times move the
    pixels along the normalised gradient of the filter's mean activation (``border`` pixels at the
    edges are left out of the mean; edge effects dominate there). Returns float32 images in
    ``[0, 1]``, shape ``(len(filters), h, w, channels)``, contrast-stretched for display; with
    ``return_raw=True`` also the raw optimised inputs and the final mean activations.

    >>> imgs = filter_patterns(model, "conv2", range(8), size=(64, 64))   # doctest: +SKIP
    >>> imgs.shape, float(imgs.min()) >= 0, float(imgs.max()) <= 1          # doctest: +SKIP
    ((8, 64, 64, 3), True, True)

    Taught in notebook 12, whose cell writes the same ascent out (tests/test_notebook_twins.py).
    """
    import keras
    import numpy as np
    import tensorflow as tf

    _check_model(model)
    layer = _layer(model, layer_name)
    if _output_rank(layer) != 4:
        raise ValueError(f"layer {layer_name!r} does not output feature maps (shape {layer.output.shape})")
    n_filters = int(layer.output.shape[-1])
    filters = [int(f) for f in filters]
    if not filters or min(filters) < 0 or max(filters) >= n_filters:
        raise ValueError(f"filters must be indices in 0..{n_filters - 1} of layer {layer_name!r}, got {filters}")
    in_shape = tuple(model.inputs[0].shape[1:])
    if size is None:
        if None in in_shape[:2]:
            raise ValueError("the model's input size is not fixed: pass size=(height, width)")
        size = in_shape[:2]
    h, w = (int(s) for s in size)
    if None not in in_shape[:2] and (h, w) != tuple(in_shape[:2]):
        raise ValueError(f"model {model.name!r} takes {in_shape[0]}×{in_shape[1]} inputs, not {h}×{w}: "
                         "pass size=None, or build the model with the input size you want")
    lo, hi = (float(v) for v in value_range)
    if not hi > lo:
        raise ValueError(f"value_range must be (low, high) with high > low, got {value_range!r}")
    feat = keras.Model(model.inputs[0], layer.output)
    rng = np.random.default_rng(seed)
    mid, span = (lo + hi) / 2, hi - lo
    x0 = mid + span * 0.05 * rng.standard_normal((len(filters), h, w, in_shape[-1]))
    x = tf.constant(x0.astype("float32"))
    idx = tf.constant(filters)
    b = max(0, int(border))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            a = feat(x, training=False)
            if b and a.shape[1] > 2 * b and a.shape[2] > 2 * b:
                a = a[:, b:-b, b:-b, :]
            # image i maximises filter filters[i]: keep a[i, :, :, filters[i]]
            a = tf.gather(a, idx, axis=3)                            # (n, h', w', n)
            a = tf.linalg.diag_part(tf.transpose(a, [1, 2, 0, 3]))   # (h', w', n)
            score = tf.reduce_mean(a, axis=[0, 1])                   # (n,) mean activation per image
            total = tf.reduce_sum(score)  # images are independent: one gradient serves them all
        g = tape.gradient(total, x)
        g = g / (tf.sqrt(tf.reduce_mean(tf.square(g), axis=[1, 2, 3], keepdims=True)) + 1e-8)
        return tf.clip_by_value(x + step_size * span / 255.0 * g, lo - span, hi + span), score

    for _ in range(int(steps)):
        x, score = step(x)
    raw = x.numpy()
    images = _to_image(raw)
    if return_raw:
        return images, raw, score.numpy()
    return images


# ----------------------------------------------------------------------------- Grad-CAM
def grad_cam(model, images, layer_name: str | None = None, class_index=None):
    """Grad-CAM heatmaps, one per image, shape ``(n, h', w')`` in ``[0, 1]`` (``h', w'`` = the layer's).

    ``class_index``: an int or one per image; default the predicted class. For a model with one
    sigmoid/logit output unit, class 1 scores the unit itself and class 0 its negative (the
    evidence *against* class 1), and the default is class 1 when the output says so (>0.5 for a
    sigmoid). The heatmap is ``relu(Σ_k α_k A_k)`` with ``α_k`` the spatial mean of
    ``∂score/∂A_k``, divided by its maximum (an all-zero map stays zero).

    >>> heat = grad_cam(model, x[:4], "conv5")       # doctest: +SKIP
    >>> heat.shape                                    # doctest: +SKIP
    (4, 11, 11)

    Taught in notebook 12, whose cell writes it out for one sigmoid unit (tests/test_notebook_twins.py).
    """
    import keras
    import numpy as np
    import tensorflow as tf

    _check_model(model)
    layer_name = layer_name or last_conv_layer(model)
    layer = _layer(model, layer_name)
    if _output_rank(layer) != 4:
        raise ValueError(f"layer {layer_name!r} does not output feature maps (shape {layer.output.shape})")
    images = np.asarray(images, dtype="float32")
    if images.ndim == len(model.inputs[0].shape) - 1:
        images = images[None]
    if images.ndim != len(model.inputs[0].shape):
        raise ValueError(f"images must be a batch shaped like the model's input {model.inputs[0].shape}, "
                         f"got {images.shape}")
    both = keras.Model(model.inputs[0], [layer.output, model.outputs[0]])
    with tf.GradientTape() as tape:
        feats, out = both(images, training=False)
        tape.watch(feats)
        out = tf.reshape(out, (tf.shape(out)[0], -1))
        units = out.shape[-1]
        if units == 1:
            sigmoid_like = float(tf.reduce_min(out)) >= 0 and float(tf.reduce_max(out)) <= 1
            if class_index is None:
                cls = (out[:, 0] > (0.5 if sigmoid_like else 0.0)).numpy().astype(int)
            else:
                cls = np.broadcast_to(np.asarray(class_index, dtype=int), (len(images),))
            if not set(np.unique(cls)) <= {0, 1}:
                raise ValueError(f"a one-unit output has classes 0 and 1, got class_index={class_index!r}")
            sign = tf.constant(np.where(cls == 1, 1.0, -1.0), dtype=out.dtype)
            score = out[:, 0] * sign
        else:
            if class_index is None:
                cls = tf.argmax(out, axis=-1).numpy()
            else:
                cls = np.broadcast_to(np.asarray(class_index, dtype=int), (len(images),))
            if cls.min() < 0 or cls.max() >= units:
                raise ValueError(f"class_index must be in 0..{units - 1}, got {class_index!r}")
            score = tf.gather(out, tf.constant(cls), axis=1, batch_dims=1)
    grads = tape.gradient(score, feats)
    if grads is None:
        raise ValueError(f"the output does not depend on layer {layer_name!r}")
    alpha = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)             # (n, 1, 1, k)
    cam = tf.nn.relu(tf.reduce_sum(alpha * feats, axis=-1)).numpy()       # (n, h', w')
    peak = cam.reshape(len(cam), -1).max(axis=1).reshape(-1, 1, 1)
    return np.where(peak > 0, cam / np.where(peak > 0, peak, 1), 0).astype("float32")


def overlay(image, heatmap, alpha: float = 0.4, cmap: str = "jet"):
    """Lay a heatmap (any size, values 0..1) over an image: an RGB float array in ``[0, 1]``.

    The heatmap is resized (bilinear) to the image, coloured with ``cmap`` and blended:
    ``(1 - alpha)·image + alpha·colour``. ``image`` may be 0..1 or 0..255, grey or RGB.

    >>> import numpy as np
    >>> overlay(np.zeros((32, 32, 3)), np.eye(4)).shape
    (32, 32, 3)
    """
    import matplotlib
    import numpy as np
    from skimage.transform import resize

    img = np.asarray(image, dtype="float32")
    heat = np.asarray(heatmap, dtype="float32")
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    if img.ndim != 3 or img.shape[-1] != 3:
        raise ValueError(f"image must be (h, w), (h, w, 1) or (h, w, 3), got {np.shape(image)}")
    if heat.ndim != 2:
        raise ValueError(f"heatmap must be 2-D (h, w), got shape {heat.shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if img.max() > 1.0:
        img = img / 255.0
    heat = np.clip(resize(heat, img.shape[:2], order=1, mode="edge", anti_aliasing=False), 0, 1)
    colour = matplotlib.colormaps[cmap](heat)[..., :3].astype("float32")
    return np.clip((1 - alpha) * img + alpha * colour, 0, 1)
