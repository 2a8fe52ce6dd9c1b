"""Object detection helpers (notebook 10): IoU, non-max suppression, average precision and mAP
(VOC and COCO style), a YOLO-like grid encoding, and canvases of MNIST digits with exact boxes.

Boxes are ``(x1, y1, x2, y2)`` in pixels (corners, x to the right, y down) unless a name says
otherwise (``cxcywh``: centre, width, height).

>>> iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2]]).round(4).tolist()   # overlap 1, union 7
[[0.1429, 1.0]]
>>> nms([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], [0.9, 0.8, 0.7]).tolist()
[0, 2]

Nothing here imports TensorFlow.
"""

from __future__ import annotations

__all__ = ["iou", "nms", "cxcywh_to_xyxy", "xyxy_to_cxcywh", "match", "average_precision",
           "evaluate", "digit_canvases", "grid_encode", "grid_decode", "kmeans_anchors"]


def _boxes(b, name: str = "boxes"):
    import numpy as np

    arr = np.asarray(b, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0, 4)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) as (x1, y1, x2, y2), got {arr.shape}")
    if np.any(arr[:, 2] < arr[:, 0]) or np.any(arr[:, 3] < arr[:, 1]):
        raise ValueError(f"{name}: every box needs x2 >= x1 and y2 >= y1 (corners, not width/height)")
    return arr


def iou(boxes_a, boxes_b):
    """Intersection over union of every box of ``boxes_a`` (N, 4) with every box of ``boxes_b`` (M, 4): (N, M)."""
    import numpy as np

    a, b = _boxes(boxes_a, "boxes_a"), _boxes(boxes_b, "boxes_b")
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def nms(boxes, scores, iou_threshold: float = 0.5, score_threshold: float | None = None, max_boxes: int | None = None):
    """Greedy non-max suppression: indices of the boxes kept, best score first.

    Boxes scoring below ``score_threshold`` are dropped first (the objectness threshold); then the
    best remaining box is kept and every box overlapping it with IoU > ``iou_threshold`` is
    dropped; repeat.
    """
    import numpy as np

    b = _boxes(boxes)
    s = np.asarray(scores, dtype=np.float64).ravel()
    if len(s) != len(b):
        raise ValueError(f"{len(b)} boxes but {len(s)} scores")
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    order = np.argsort(-s, kind="stable")
    if score_threshold is not None:
        order = order[s[order] >= score_threshold]
    keep = []
    while order.size and (max_boxes is None or len(keep) < max_boxes):
        best, order = order[0], order[1:]
        keep.append(best)
        if order.size:
            order = order[iou(b[best], b[order])[0] <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def cxcywh_to_xyxy(b):
    """(cx, cy, w, h) -> (x1, y1, x2, y2).

    >>> cxcywh_to_xyxy([[5, 5, 4, 2]]).tolist()
    [[3.0, 4.0, 7.0, 6.0]]
    """
    import numpy as np

    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], 1)


def xyxy_to_cxcywh(b):
    """(x1, y1, x2, y2) -> (cx, cy, w, h).

    >>> xyxy_to_cxcywh([[3, 4, 7, 6]]).tolist()
    [[5.0, 5.0, 4.0, 2.0]]
    """
    b = _boxes(b)
    import numpy as np

    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)


def match(det_boxes, det_scores, gt_boxes, iou_threshold: float = 0.5):
    """Which detections of one image and one class are true positives.

    Detections are taken best score first; each one is matched to the unmatched ground-truth box
    it overlaps most, if that IoU is at least ``iou_threshold`` (the rule of PASCAL VOC and of
    pycocotools). A ground-truth box is matched at most once, so a duplicate detection is a false
    positive. Returns a boolean array in the order of ``det_boxes``.
    """
    import numpy as np

    d, g = _boxes(det_boxes, "det_boxes"), _boxes(gt_boxes, "gt_boxes")
    s = np.asarray(det_scores, dtype=np.float64).ravel()
    if len(s) != len(d):
        raise ValueError(f"{len(d)} detections but {len(s)} scores")
    tp = np.zeros(len(d), dtype=bool)
    if not len(d) or not len(g):
        return tp
    overlaps = iou(d, g)
    taken = np.zeros(len(g), dtype=bool)
    for i in np.argsort(-s, kind="stable"):
        cand = np.where(taken, -1.0, overlaps[i])
        j = int(np.argmax(cand))
        if cand[j] >= iou_threshold - 1e-10:
            taken[j] = True
            tp[i] = True
    return tp


def average_precision(tp, scores, n_gt: int, method: str = "coco"):
    """Average precision of one class from its detections over all images.

    ``tp``: per detection, whether it matched (see :func:`match`); ``scores``: their confidences;
    ``n_gt``: the number of ground-truth boxes. The precision–recall curve is made monotone
    (the precision at recall r becomes the *maximum precision at any recall ≥ r*); then
    ``method="voc"`` takes the area under it (PASCAL VOC 2010+, all points) and ``"coco"`` its mean
    at the 101 recalls 0, 0.01, …, 1 (as pycocotools does). Returns NaN when ``n_gt`` is 0.

    >>> average_precision([True, False, True], [0.9, 0.8, 0.7], n_gt=2, method="voc")   # 1·½ + ⅔·½
    0.8333333333333333
    """
    import numpy as np

    if method not in ("voc", "coco"):
        raise ValueError(f"method must be 'voc' or 'coco', got {method!r}")
    tp = np.asarray(tp, dtype=bool).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if len(tp) != len(s):
        raise ValueError(f"{len(tp)} tp flags but {len(s)} scores")
    if n_gt <= 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    tps = np.cumsum(tp[order])
    fps = np.cumsum(~tp[order])
    recall = tps / n_gt
    precision = tps / np.maximum(tps + fps, np.finfo(np.float64).eps)
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision
    if method == "voc":
        r = np.concatenate([[0.0], recall])
        return float(np.sum((r[1:] - r[:-1]) * envelope))
    points = np.linspace(0.0, 1.0, 101)
    idx = np.searchsorted(recall, points, side="left")
    values = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)] if len(envelope) else 0.0, 0.0)
    return float(np.mean(values))


def evaluate(detections, ground_truths, num_classes: int, iou_thresholds=(0.5,), method: str = "coco"):
    """AP per class and mAP of a detector over a set of images.

    ``detections``: one ``(boxes, scores, labels)`` per image; ``ground_truths``: one
    ``(boxes, labels)`` per image. Returns ``{"ap": array (len(iou_thresholds), num_classes),
    "map": mean over classes with ground truth and over the thresholds}``. With
    ``iou_thresholds=np.arange(0.5, 0.96, 0.05)`` and ``method="coco"`` this is COCO's
    mAP@[.50:.05:.95]; with ``(0.5,)`` and ``method="voc"`` PASCAL VOC's mAP@0.5.
    """
    import numpy as np

    if len(detections) != len(ground_truths):
        raise ValueError(f"{len(detections)} images of detections but {len(ground_truths)} of ground truth")
    thresholds = np.atleast_1d(np.asarray(iou_thresholds, dtype=np.float64))
    ap = np.full((len(thresholds), num_classes), np.nan)
    for c in range(num_classes):
        n_gt = 0
        per_image = []
        for (db, ds, dl), (gb, gl) in zip(detections, ground_truths):
            db, gb = _boxes(db, "detection boxes"), _boxes(gb, "ground-truth boxes")
            dl, gl = np.asarray(dl).ravel(), np.asarray(gl).ravel()
            ds = np.asarray(ds, dtype=np.float64).ravel()
            dm, gm = dl == c, gl == c
            n_gt += int(gm.sum())
            per_image.append((db[dm], ds[dm], gb[gm]))
        scores = np.concatenate([p[1] for p in per_image]) if per_image else np.zeros(0)
        for t_i, t in enumerate(thresholds):
            tp = np.concatenate([match(b, s, g, t) for b, s, g in per_image]) if per_image else np.zeros(0, bool)
            ap[t_i, c] = average_precision(tp, scores, n_gt, method)
    valid = ~np.isnan(ap[0])
    return {"ap": ap, "map": float(np.mean(ap[:, valid])) if valid.any() else float("nan"),
            "iou_thresholds": thresholds}


def digit_canvases(images, labels, n: int, canvas: int = 64, max_digits: int = 3, sizes=(16, 28),
                   max_overlap: float = 0.1, seed: int = 0):
    """``n`` black canvases with 1 to ``max_digits`` MNIST digits pasted at random sizes and places.

    ``images``: uint8 (N, 28, 28) digits, ``labels``: (N,). Each digit is resized to a random side
    in ``sizes`` and its box is the tight box of its ink, so the ground truth is exact. Placements
    overlapping an earlier digit's box with IoU > ``max_overlap`` are drawn again. Returns
    ``(x, boxes, classes)``: float32 (n, canvas, canvas, 1) in 0–1, and per canvas an (k, 4)
    array of boxes in pixels and a (k,) array of digit labels.
    """
    import numpy as np
    from PIL import Image

    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"images must be (N, H, W) with one label each, got {images.shape} and {labels.shape}")
    if not (8 <= sizes[0] <= sizes[1] <= canvas):
        raise ValueError(f"sizes {sizes} must lie between 8 and the canvas side {canvas}")
    rng = np.random.default_rng(seed)
    x = np.zeros((n, canvas, canvas), np.float32)
    all_boxes, all_classes = [], []
    for i in range(n):
        boxes, classes = [], []
        for _ in range(int(rng.integers(1, max_digits + 1))):
            k = int(rng.integers(len(images)))
            side = int(rng.integers(sizes[0], sizes[1] + 1))
            digit = np.asarray(Image.fromarray(images[k]).resize((side, side), Image.BILINEAR), np.float32) / 255.0
            ys, xs = np.nonzero(digit > 0.1)
            if not len(ys):
                continue
            for _attempt in range(20):
                ox, oy = (int(v) for v in rng.integers(0, canvas - side + 1, size=2))
                box = [ox + xs.min(), oy + ys.min(), ox + xs.max() + 1, oy + ys.max() + 1]
                if not boxes or iou([box], boxes).max() <= max_overlap:
                    break
            else:
                continue
            x[i, oy:oy + side, ox:ox + side] = np.maximum(x[i, oy:oy + side, ox:ox + side], digit)
            boxes.append(box)
            classes.append(int(labels[k]))
        all_boxes.append(np.asarray(boxes, np.float64).reshape(-1, 4))
        all_classes.append(np.asarray(classes, np.int64))
    return x[..., None], all_boxes, all_classes


def grid_encode(boxes_list, classes_list, image_size: int, grid: int, num_classes: int):
    """YOLO-style targets: (n, grid, grid, 5 + num_classes) float32.

    The cell that contains a box's centre is responsible for it. Channels: objectness (1 or 0),
    the centre's offset inside the cell (x, y in 0–1), the square roots of width and height as
    shares of the image (so small boxes' errors weigh more), then the one-hot class. When two
    centres fall in one cell, the larger box wins (one box per cell, as in YOLO v1).
    """
    import numpy as np

    cell = image_size / grid
    out = np.zeros((len(boxes_list), grid, grid, 5 + num_classes), np.float32)
    for i, (boxes, classes) in enumerate(zip(boxes_list, classes_list)):
        b = _boxes(boxes)
        if not len(b):
            continue
        cxcywh = xyxy_to_cxcywh(b)
        for j in np.argsort(cxcywh[:, 2] * cxcywh[:, 3]):  # small first: larger ones overwrite
            cx, cy, w, h = cxcywh[j]
            col, row = min(int(cx // cell), grid - 1), min(int(cy // cell), grid - 1)
            out[i, row, col, :5] = (1.0, cx / cell - col, cy / cell - row,
                                    np.sqrt(w / image_size), np.sqrt(h / image_size))
            out[i, row, col, 5:] = 0.0
            out[i, row, col, 5 + int(classes[j])] = 1.0
    return out


def grid_decode(pred, image_size: int, score_threshold: float = 0.5, iou_threshold: float = 0.5):
    """Boxes from one grid prediction (grid, grid, 5 + C), after the objectness threshold and NMS.

    The score of a box is objectness × its best class probability. Returns ``(boxes, scores,
    classes)`` sorted by score. ``grid_decode(grid_encode(...)[0], ...)`` gives the boxes back.
    """
    import numpy as np

    p = np.asarray(pred, dtype=np.float64)
    if p.ndim != 3 or p.shape[0] != p.shape[1] or p.shape[2] < 6:
        raise ValueError(f"pred must be (grid, grid, 5 + num_classes), got {p.shape}")
    grid = p.shape[0]
    cell = image_size / grid
    rows, cols = np.mgrid[0:grid, 0:grid]
    cx = (cols + p[..., 1]) * cell
    cy = (rows + p[..., 2]) * cell
    w = np.square(p[..., 3]) * image_size
    h = np.square(p[..., 4]) * image_size
    classes = p[..., 5:].argmax(-1)
    scores = p[..., 0] * p[..., 5:].max(-1)
    boxes = cxcywh_to_xyxy(np.stack([cx, cy, w, h], -1).reshape(-1, 4))
    scores, classes = scores.ravel(), classes.ravel()
    keep = nms(boxes, scores, iou_threshold=iou_threshold, score_threshold=score_threshold)
    return boxes[keep], scores[keep], classes[keep]


def kmeans_anchors(wh, k: int, iters: int = 100, seed: int = 0):
    """``k`` anchor box shapes (w, h) by k-means with distance 1 − IoU (boxes aligned at a corner).

    This is how YOLO v2 chose its anchors: clusters of box *shapes*, compared by overlap rather
    than by Euclidean distance, so large boxes do not dominate. Returns (k, 2) sorted by area.
    """
    import numpy as np

    wh = np.asarray(wh, dtype=np.float64)
    if wh.ndim != 2 or wh.shape[1] != 2 or len(wh) < k or k < 1:
        raise ValueError(f"wh must be (N, 2) with N >= k >= 1, got {wh.shape} and k={k}")
    rng = np.random.default_rng(seed)
    centres = wh[rng.choice(len(wh), k, replace=False)]

    def shape_iou(a, b):
        inter = np.minimum(a[:, None, 0], b[None, :, 0]) * np.minimum(a[:, None, 1], b[None, :, 1])
        return inter / (a[:, None, 0] * a[:, None, 1] + b[None, :, 0] * b[None, :, 1] - inter)

    for _ in range(iters):
        assign = np.argmax(shape_iou(wh, centres), axis=1)
        new = np.array([np.median(wh[assign == j], axis=0) if np.any(assign == j) else centres[j] for j in range(k)])
        if np.allclose(new, centres):
            break
        centres = new
    return centres[np.argsort(centres[:, 0] * centres[:, 1])]
