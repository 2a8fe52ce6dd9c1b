"""Plots the notebooks share: learning curves, image grids, confusion matrices, feature maps, boxes.

Every function returns the matplotlib ``Figure`` it drew (so a notebook can save it, and a test
can check titles and labels) and never calls ``plt.show()``: in Jupyter the figure appears by
itself when it is the last value of a cell. ``draw_boxes`` is the exception: it draws on an axis
the notebook already has (over an image) and returns the rectangles it added. Nothing here
imports TensorFlow.

>>> import numpy as np
>>> fig = image_grid(np.zeros((6, 28, 28)), labels=[0, 1, 2, 3, 4, 5], ncols=3)
>>> len(fig.axes)
6
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["plot_history", "image_grid", "confusion_counts", "confusion_matrix",
           "most_confused", "feature_maps", "draw_boxes"]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _hist_dict(history) -> dict:
    """A Keras ``History`` or its ``.history`` dict, as a dict of lists (validated)."""
    hist = getattr(history, "history", history)
    if not isinstance(hist, Mapping) or not hist:
        raise TypeError("history must be a Keras History or a non-empty dict like "
                        "{'loss': [...], 'val_loss': [...]}, got " + type(history).__name__)
    return {k: list(v) for k, v in hist.items()}


def plot_history(history, metrics: Sequence[str] = ("loss", "accuracy"), title: str | None = None,
                 mark_epoch: float | None = None, mark_label: str = "epoch kept", others=None):
    """Learning curves: one panel per metric, training (solid) and validation (dashed) per epoch.

    ``history`` is what ``model.fit`` returns (or its ``.history`` dict). Metrics absent from the
    history raise a ``KeyError`` that lists the ones present. ``mark_epoch`` (1-based) draws a
    dotted line at that epoch, e.g. the one whose weights were kept (a whole epoch is named in the
    legend; a half, e.g. 2.5, marks the boundary between two phases of training). Epoch ticks are
    whole numbers.

    ``others`` adds the validation curves of other runs for comparison: ``{label: history}`` or
    ``{label: (history, first_epoch)}`` when that run starts later than epoch 1 (e.g. a control
    trained from the same weights after the first phase). Notebooks 03–08 and 11 draw their
    learning curves with this function.

    >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, metrics=("loss",))
    >>> fig.axes[0].get_title()
    'loss'
    """
    hist = _hist_dict(history)
    if isinstance(metrics, str):
        metrics = (metrics,)
    missing = [m for m in metrics if m not in hist]
    if missing or not metrics:
        raise KeyError(f"metrics {missing or list(metrics)} are not in the history; it has {sorted(hist)}")
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.3), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        epochs = range(1, len(hist[m]) + 1)
        ax.plot(epochs, hist[m], "o-", label=f"training {m}")
        if f"val_{m}" in hist:
            ax.plot(range(1, len(hist[f"val_{m}"]) + 1), hist[f"val_{m}"], "s--", label=f"validation {m}")
        for k, (label, other) in enumerate((others or {}).items()):
            other, first = other if isinstance(other, tuple) else (other, 1)
            values = _hist_dict(other).get(f"val_{m}")
            if values is None:
                raise KeyError(f"val_{m} is not in the history of {label!r}")
            ax.plot(range(first, first + len(values)), values, "x--", color=f"C{k + 3}", label=f"validation {m}, {label}")
        if mark_epoch is not None:
            whole = float(mark_epoch).is_integer()
            ax.axvline(mark_epoch, color="grey", ls=":", lw=1.2,
                       label=f"{mark_label} ({int(mark_epoch)})" if whole else mark_label)
        ax.set_title(m)
        ax.set_xlabel("epoch")
        ax.set_ylabel(m)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _name(i, class_names):
    if class_names is None:
        return str(i)
    return str(class_names[int(i)])


def image_grid(images, labels=None, preds=None, class_names=None, ncols: int = 8,
               titles: Sequence[str] | None = None, cmap: str = "gray", size: float = 1.4,
               suptitle: str | None = None):
    """Show images in a grid, each titled by its label (and prediction, red when wrong).

    ``images``: an array (N, H, W), (N, H, W, 1) or (N, H, W, 3), or a list of 2-D/3-D arrays of
    any sizes. ``labels``/``preds``: N class indices; ``class_names`` maps an index to a name.
    ``titles`` (N strings) overrides the automatic titles.

    >>> import numpy as np
    >>> fig = image_grid(np.zeros((2, 8, 8)), labels=[1, 2], preds=[1, 0], class_names="abc")
    >>> [ax.get_title() for ax in fig.axes]
    ['b', 'c (pred a)']
    """
    import numpy as np

    imgs = list(images)
    n = len(imgs)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    for name, seq in (("labels", labels), ("preds", preds), ("titles", titles)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} entries but there are {n} images")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    plt = _plt()
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    lines = max((str(t).count("\n") + 1 for t in titles), default=1) if titles is not None else 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.3 * lines) * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            fig.delaxes(ax)
            continue
        img = np.asarray(imgs[k])
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.ndim not in (2, 3):
            raise ValueError(f"image {k} has shape {img.shape}; expected (H, W), (H, W, 1) or (H, W, 3)")
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize=9)
        elif labels is not None:
            text = _name(labels[k], class_names)
            wrong = preds is not None and int(preds[k]) != int(labels[k])
            if wrong:
                text += f" (pred {_name(preds[k], class_names)})"
            ax.set_title(text, fontsize=9, color="red" if wrong else "black")
        elif preds is not None:
            ax.set_title(f"pred {_name(preds[k], class_names)}", fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def confusion_counts(y_true, y_pred, num_classes: int | None = None):
    """The confusion matrix as an int array: row = true class, column = predicted class.

    >>> confusion_counts([0, 1, 1], [0, 1, 0]).tolist()
    [[1, 0], [1, 1]]
    """
    import numpy as np

    yt = np.asarray(y_true).ravel()
    yp = np.asarray(y_pred).ravel()
    if yt.shape != yp.shape:
        raise ValueError(f"y_true and y_pred differ in length: {yt.size} vs {yp.size}")
    if yt.size and (yt.min() < 0 or yp.min() < 0):
        raise ValueError("class indices must be non-negative integers")
    yt, yp = yt.astype(np.int64), yp.astype(np.int64)
    k = num_classes if num_classes is not None else int(max(yt.max(initial=-1), yp.max(initial=-1)) + 1)
    if yt.size and max(yt.max(), yp.max()) >= k:
        raise ValueError(f"a class index is >= num_classes={k}")
    return np.bincount(yt * k + yp, minlength=k * k).reshape(k, k)


def confusion_matrix(y_true, y_pred, class_names=None, normalize: bool = False, title: str | None = None):
    """Plot the confusion matrix (row = true, column = predicted), with counts in the cells.

    The counts come from :func:`confusion_counts` and are kept on the figure as ``fig.counts``.
    ``normalize=True`` colours (and labels) each row as fractions of that true class.

    >>> fig = confusion_matrix([0, 1, 1], [0, 1, 0], class_names=["cat", "dog"])
    >>> fig.counts.tolist(), fig.axes[0].get_ylabel()
    ([[1, 0], [1, 1]], 'true class')
    """
    import numpy as np

    k = len(class_names) if class_names is not None else None
    cm = confusion_counts(y_true, y_pred, num_classes=k)
    k = cm.shape[0]
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    shown = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalize else cm
    plt = _plt()
    side = max(4.0, 0.55 * k + 1.5)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    im = ax.imshow(shown, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right" if max(map(len, names)) > 2 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(title or f"confusion matrix (accuracy {acc:.2%})")
    hi = shown.max() if shown.size else 0
    for i in range(k):
        for j in range(k):
            text = f"{shown[i, j]:.2f}" if normalize else str(cm[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=7 if k > 10 else 8,
                    color="white" if shown[i, j] > hi / 2 else "black")
    fig.tight_layout()
    fig.counts = cm
    return fig


def most_confused(y_true, y_pred, k: int = 5, class_names=None):
    """The ``k`` largest off-diagonal cells: a list of ``(true, predicted, count)``, largest first.

    >>> most_confused([0, 0, 1, 2], [1, 1, 1, 0], k=2)
    [('0', '1', 2), ('2', '0', 1)]
    """
    import numpy as np

    cm = confusion_counts(y_true, y_pred, num_classes=len(class_names) if class_names is not None else None)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:k]
    out = []
    for flat in order:
        i, j = divmod(int(flat), cm.shape[1])
        if off[i, j] == 0:
            break
        out.append((_name(i, class_names), _name(j, class_names), int(off[i, j])))
    return out


def feature_maps(activations, n: int = 16, ncols: int = 8, title: str | None = None, cmap: str = "viridis"):
    """Show the first ``n`` channels of one layer's activations for one image.

    ``activations``: an array (H, W, C) or (1, H, W, C), e.g. ``layer_model.predict(x[:1])``.
    Each panel is titled with its channel index.

    >>> import numpy as np
    >>> fig = feature_maps(np.random.rand(1, 26, 26, 32), n=8, ncols=4)
    >>> len(fig.axes), fig.axes[0].get_title()
    (8, 'ch 0')
    """
    import numpy as np

    a = np.asarray(activations)
    if a.ndim == 4:
        if a.shape[0] != 1:
            raise ValueError(f"pass the activations of ONE image: got a batch of {a.shape[0]}")
        a = a[0]
    if a.ndim != 3:
        raise ValueError(f"activations must be (H, W, C) or (1, H, W, C), got shape {np.shape(activations)}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    n = min(n, a.shape[-1])
    fig = image_grid([a[..., c] for c in range(n)], titles=[f"ch {c}" for c in range(n)],
                     ncols=ncols, cmap=cmap, suptitle=title)
    return fig


def draw_boxes(ax, boxes, color: str = "red", labels=None, scores=None, linewidth: float = 1.5):
    """Draw boxes ``(x1, y1, x2, y2)`` in pixel coordinates on a matplotlib axis showing the image.

    ``labels`` (one per box: a class index or a name) and ``scores`` (floats) are written above
    each box. Pixel ``(0, 0)`` is the centre of the top-left pixel in ``imshow``, so a box is drawn
    from ``x1 - 0.5`` to cover the pixels it names. Returns the list of rectangles added.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> rects = draw_boxes(ax, [[2, 3, 10, 12]], "lime", labels=["7"], scores=[0.93])
    >>> rects[0].get_width(), rects[0].get_height(), ax.texts[0].get_text()
    (8.0, 9.0, '7 0.93')
    """
    import numpy as np
    from matplotlib.patches import Rectangle

    b = np.asarray(boxes, dtype=float)
    if b.size and b.shape[-1] != 4:
        raise ValueError(f"boxes must be (x1, y1, x2, y2) rows, shape (n, 4); got shape {b.shape}")
    b = b.reshape(-1, 4)
    for name, seq in (("labels", labels), ("scores", scores)):
        if seq is not None and len(seq) != len(b):
            raise ValueError(f"{name} must have one entry per box: {len(seq)} for {len(b)} boxes")
    if (b[:, 2] < b[:, 0]).any() or (b[:, 3] < b[:, 1]).any():
        raise ValueError("each box must have x2 >= x1 and y2 >= y1 (corners, not centre/width/height: "
                         "convert with cvhelpers.detection.cxcywh_to_xyxy)")
    rects = []
    for k, (x1, y1, x2, y2) in enumerate(b.tolist()):
        rect = Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, color=color, lw=linewidth)
        ax.add_patch(rect)
        rects.append(rect)
        text = "" if labels is None else str(labels[k])
        if scores is not None:
            text = f"{text} {float(scores[k]):.2f}".strip()
        if text:
            ax.text(x1, y1 - 1.5, text, color=color, fontsize=8, va="bottom")
    return rects
