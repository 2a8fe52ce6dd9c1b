"""Tests for cvhelpers.segmentation: IoU against Keras' MeanIoU and hand counts, the Oxford-IIIT
Pet loader on the offline mirror, the two U-Nets' shapes, and the overlay."""

import numpy as np
import pytest

from cvhelpers import segmentation as S


def test_iou_hand_counted():
    t = np.array([[0, 0, 1, 1], [2, 2, 1, 1]])
    p = np.array([[0, 1, 1, 1], [2, 0, 1, 2]])
    # pet: TP 1, FP 1 (p=0,t=2), FN 1 (t=0,p=1) -> 1/3; background: TP 3, FP 1, FN 1 -> 3/5; border: TP 1, FP 1, FN 1 -> 1/3
    assert np.allclose(S.iou_per_class(t, p, 3), [1 / 3, 3 / 5, 1 / 3])
    assert S.mean_iou(t, p, 3) == pytest.approx((1 / 3 + 3 / 5 + 1 / 3) / 3)
    assert S.mean_iou(t, t, 3) == 1.0


def test_iou_absent_class_is_nan_and_skipped():
    t = np.array([0, 0, 1, 1])
    ious = S.iou_per_class(t, t, 3)
    assert ious[:2].tolist() == [1.0, 1.0] and np.isnan(ious[2])
    assert S.mean_iou(t, t, 3) == 1.0


def test_iou_matches_keras_meaniou():
    import keras

    rng = np.random.default_rng(0)
    t = rng.integers(0, 3, size=(4, 16, 16))
    p = np.where(rng.random(t.shape) < 0.7, t, rng.integers(0, 3, size=t.shape))
    m = keras.metrics.MeanIoU(num_classes=3)
    m.update_state(t.ravel(), p.ravel())
    assert S.mean_iou(t, p, 3) == pytest.approx(float(m.result()), abs=1e-6)


def test_iou_bad_input():
    with pytest.raises(ValueError, match="differ in length"):
        S.iou_per_class([0, 1], [0], 2)
    with pytest.raises(ValueError, match="num_classes"):
        S.iou_per_class([0, 3], [0, 1], 3)


def test_pets_from_mirror(clean_env, mirror_dir, monkeypatch):
    from cvhelpers import data

    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(mirror_dir))
    root = data.oxford_pets(source="subset", verbose=False)
    trainval, test = S.pet_split(root, "trainval"), S.pet_split(root, "test")
    assert (len(trainval), len(test)) == (352, 41) and not set(trainval) & set(test)
    x, m = S.load_pets(root, test[:5], 64)
    assert x.shape == (5, 64, 64, 3) and x.dtype == np.uint8
    assert m.shape == (5, 64, 64) and set(np.unique(m)) == {0, 1, 2}  # nearest resize: no new labels
    # the mask of the first image, resized by hand, agrees
    from PIL import Image

    with Image.open(root / "annotations" / "trimaps" / f"{test[0]}.png") as tm:
        ref = np.asarray(tm.resize((64, 64), Image.NEAREST)) - 1
    assert np.array_equal(m[0], ref)
    with pytest.raises(ValueError, match="split must be"):
        S.pet_split(root, "train")
    with pytest.raises(ValueError, match="image_size"):
        S.load_pets(root, test[:1], 4)


def test_pet_split_on_a_wrong_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="trainval.txt is missing"):
        S.pet_split(tmp_path, "trainval")


def test_pet_split_skips_names_without_files(tmp_path):
    (tmp_path / "annotations" / "trimaps").mkdir(parents=True)
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations" / "test.txt").write_text("a 1 1 1\nb 1 1 1\n")
    (tmp_path / "images" / "a.jpg").write_bytes(b"x")
    (tmp_path / "annotations" / "trimaps" / "a.png").write_bytes(b"x")
    (tmp_path / "images" / "b.jpg").write_bytes(b"x")  # no trimap
    assert S.pet_split(tmp_path, "test") == ["a"]


def test_unet_shapes():
    model = S.unet(64, num_classes=3, filters=(8, 16, 32))
    assert model.output.shape[1:] == (64, 64, 3)
    out = model.predict(np.zeros((2, 64, 64, 3), np.float32), verbose=0)
    assert np.allclose(out.sum(-1), 1.0, atol=1e-5)  # a distribution per pixel
    with pytest.raises(ValueError, match="divisible"):
        S.unet(62, filters=(8, 16, 32))


def test_mobilenet_unet_shapes():
    import keras

    base = keras.applications.MobileNet(weights=None, include_top=False, alpha=0.25, input_shape=(96, 96, 3))
    base.trainable = False
    model = S.mobilenet_unet(base)
    assert model.output.shape[1:] == (96, 96, 3)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert frozen >= base.count_params()  # the whole encoder is frozen (plus BN statistics)
    bad = keras.applications.MobileNet(weights=None, include_top=False, alpha=0.25, input_shape=(100, 100, 3))
    with pytest.raises(ValueError, match="multiple of 32"):
        S.mobilenet_unet(bad)


def test_overlay():
    img = np.full((2, 2, 3), 255, np.uint8)
    out = S.overlay(img, np.zeros((2, 2), int), alpha=0.5)
    assert out.max() <= 1.0 and np.allclose(out[0, 0], 0.5 * 1.0 + 0.5 * np.array(S.PET_COLORS[0]))
    with pytest.raises(ValueError, match="differs"):
        S.overlay(img, np.zeros((3, 2), int))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        S.overlay(np.zeros((2, 2)), np.zeros((2, 2), int))
