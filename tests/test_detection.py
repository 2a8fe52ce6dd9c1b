"""Tests for cvhelpers.detection against independent references: IoU against counting pixels,
NMS against tf.image.non_max_suppression, AP/mAP against pycocotools' COCOeval, the grid encoding
against its decoder, and the digit canvases against their own pixels."""

import numpy as np
import pytest

from cvhelpers import detection as D


def _random_boxes(rng, n, size=40, sides=(1, 16)):
    xy = rng.integers(0, size - 2, size=(n, 2))
    wh = rng.integers(sides[0], sides[1], size=(n, 2))
    return np.concatenate([xy, np.minimum(xy + wh, size)], 1).astype(float)


def test_iou_against_pixel_counts():
    rng = np.random.default_rng(1)
    a, b = _random_boxes(rng, 12), _random_boxes(rng, 9)

    def mask(box):
        m = np.zeros((40, 40), bool)
        x1, y1, x2, y2 = box.astype(int)
        m[y1:y2, x1:x2] = True
        return m

    ref = np.array([[(mask(p) & mask(q)).sum() / (mask(p) | mask(q)).sum() for q in b] for p in a])
    assert np.allclose(D.iou(a, b), ref)
    assert D.iou(np.zeros((0, 4)), b).shape == (0, 9)


def test_iou_bad_boxes():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        D.iou([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="x2 >= x1"):
        D.iou([[5, 5, 2, 2]], [[0, 0, 1, 1]])


def test_nms_against_tensorflow():
    import tensorflow as tf

    rng = np.random.default_rng(2)
    for _ in range(5):
        boxes = _random_boxes(rng, 60)
        scores = rng.random(60)
        for thr in (0.3, 0.5, 0.7):
            ours = D.nms(boxes, scores, iou_threshold=thr)
            # TensorFlow wants (y1, x1, y2, x2)
            ref = tf.image.non_max_suppression(boxes[:, [1, 0, 3, 2]], scores, max_output_size=60, iou_threshold=thr)
            assert ours.tolist() == ref.numpy().tolist()
    assert D.nms(boxes, scores, score_threshold=2.0).tolist() == []
    assert len(D.nms(boxes, scores, max_boxes=3)) == 3
    with pytest.raises(ValueError, match="scores"):
        D.nms(boxes, scores[:3])


def test_box_conversions_roundtrip():
    rng = np.random.default_rng(3)
    b = _random_boxes(rng, 20)
    assert np.allclose(D.cxcywh_to_xyxy(D.xyxy_to_cxcywh(b)), b)


def test_match_counts_duplicates_as_false_positives():
    gt = [[0, 0, 10, 10]]
    tp = D.match([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 60, 60]], [0.5, 0.9, 0.8], gt, 0.5)
    assert tp.tolist() == [False, True, False]  # the best-scored duplicate takes the box


def test_average_precision_hand_cases():
    assert D.average_precision([True, True], [0.9, 0.8], 2, "voc") == 1.0
    assert D.average_precision([True, True], [0.9, 0.8], 4, "voc") == 0.5
    assert D.average_precision([], [], 3, "coco") == 0.0
    assert np.isnan(D.average_precision([False], [0.5], 0))
    # the envelope: precision 1/2 at recall 1/2 is lifted to 2/3 (reached later at recall 1)
    assert D.average_precision([False, True, True], [0.9, 0.8, 0.7], 2, "voc") == pytest.approx(2 / 3)


def _synthetic(seed, n_images=25, n_classes=3):
    rng = np.random.default_rng(seed)
    gts, dets = [], []
    for _ in range(n_images):
        k = int(rng.integers(0, 5))
        gb = _random_boxes(rng, k, size=100, sides=(8, 40)) if k else np.zeros((0, 4))
        gl = rng.integers(0, n_classes, size=k)
        db, ds, dl = [], [], []
        for box, lab in zip(gb, gl):
            if rng.random() < 0.8:  # found, with some jitter
                db.append(np.clip(box + rng.normal(0, 2.0, 4), 0, None))
                ds.append(rng.random())
                dl.append(lab if rng.random() < 0.9 else (lab + 1) % n_classes)
        for _ in range(int(rng.integers(0, 3))):  # false alarms
            db.append(_random_boxes(rng, 1, size=100, sides=(8, 40))[0])
            ds.append(rng.random() * 0.7)
            dl.append(int(rng.integers(0, n_classes)))
        db = np.array(db).reshape(-1, 4)
        db[:, 2:] = np.maximum(db[:, 2:], db[:, :2] + 0.5)
        gts.append((gb, gl))
        dets.append((db, np.array(ds), np.array(dl, dtype=int)))
    return dets, gts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_against_pycocotools(seed):
    pytest.importorskip("pycocotools", reason="pycocotools is in the dev extra: pip install -e '.[dev]'")
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    dets, gts = _synthetic(seed)
    images, anns, results = [], [], []
    for i, ((gb, gl), (db, ds, dl)) in enumerate(zip(gts, dets)):
        images.append({"id": i, "width": 100, "height": 100})
        for box, lab in zip(gb, gl):
            w, h = box[2] - box[0], box[3] - box[1]
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": int(lab), "bbox": [box[0], box[1], w, h],
                         "area": w * h, "iscrowd": 0})
        for box, s, lab in zip(db, ds, dl):
            results.append({"image_id": i, "category_id": int(lab), "score": float(s),
                            "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]]})
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = {"images": images, "annotations": anns, "categories": [{"id": c} for c in range(3)]}
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(results), "bbox")
        ev.evaluate(); ev.accumulate(); ev.summarize()
    ours_coco = D.evaluate(dets, gts, 3, iou_thresholds=np.arange(0.5, 0.96, 0.05), method="coco")
    ours_50 = D.evaluate(dets, gts, 3, iou_thresholds=(0.5,), method="coco")
    assert ours_coco["map"] == pytest.approx(ev.stats[0], abs=1e-9)
    assert ours_50["map"] == pytest.approx(ev.stats[1], abs=1e-9)
    assert ours_coco["ap"].shape == (10, 3)


def test_grid_roundtrip():
    boxes = [np.array([[2, 3, 20, 30], [40, 40, 60, 62]], float), np.zeros((0, 4))]
    classes = [np.array([7, 1]), np.array([], int)]
    y = D.grid_encode(boxes, classes, image_size=64, grid=8, num_classes=10)
    assert y.shape == (2, 8, 8, 15) and y[..., 0].sum() == 2 and y[1].sum() == 0
    b, s, c = D.grid_decode(y[0], image_size=64)
    order = np.argsort(b[:, 0])
    assert np.allclose(b[order], boxes[0]) and c[order].tolist() == [7, 1] and np.allclose(s, 1.0)
    with pytest.raises(ValueError, match="grid, grid"):
        D.grid_decode(y[0, :4], image_size=64)


def test_digit_canvases_boxes_are_exact():
    rng = np.random.default_rng(0)
    digits = np.zeros((5, 28, 28), np.uint8)
    for d in digits:  # a filled rectangle of random place and size per "digit"
        y, x = rng.integers(2, 10, size=2)
        d[y:y + 12, x:x + 8] = 255
    x, boxes, classes = D.digit_canvases(digits, np.arange(5), n=30, canvas=64, max_digits=3, seed=1)
    assert x.shape == (30, 64, 64, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    for img, bx, cl in zip(x[..., 0], boxes, classes):
        assert 1 <= len(bx) <= 3 and len(cl) == len(bx)
        ink = img > 0.1
        covered = np.zeros_like(ink)
        for x1, y1, x2, y2 in bx.astype(int):
            covered[y1:y2, x1:x2] = True
            assert ink[y1:y2, x1:x2].any(0).all() and ink[y1:y2, x1:x2].any(1).all()  # tight: ink on every edge row/col
        assert not (ink & ~covered).any()  # all ink is inside a box
    with pytest.raises(ValueError, match="sizes"):
        D.digit_canvases(digits, np.arange(5), n=1, canvas=20, sizes=(16, 28))


def test_kmeans_anchors_finds_two_shapes():
    rng = np.random.default_rng(0)
    wh = np.concatenate([rng.normal([10, 30], 1, (50, 2)), rng.normal([30, 10], 1, (50, 2))])
    anchors = D.kmeans_anchors(wh, 2)
    assert sorted(np.round(anchors).astype(int).tolist()) == [[10, 30], [30, 10]]
