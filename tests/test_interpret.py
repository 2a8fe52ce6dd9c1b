"""Tests for cvhelpers.interpret on small models whose right answer is known by construction."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cvhelpers import interpret as I  # noqa: E402

L = keras.layers


def two_blob_model():
    """Feature map = the input's two channels (1×1 identity conv); class k = mean of channel k."""
    x = keras.Input((16, 16, 2))
    feat = L.Conv2D(2, 1, use_bias=False, name="feat")(x)
    out = L.Dense(2, use_bias=False, name="logits")(L.GlobalAveragePooling2D()(feat))
    model = keras.Model(x, out)
    model.get_layer("feat").set_weights([np.eye(2, dtype="float32").reshape(1, 1, 2, 2)])
    model.get_layer("logits").set_weights([np.eye(2, dtype="float32")])
    return model


def blob_image(strong=0):
    img = np.zeros((16, 16, 2), "float32")
    img[2:5, 2:5, 0] = 1.0     # channel 0: a blob top-left
    img[11:14, 10:13, 1] = 1.0  # channel 1: a blob bottom-right
    img[..., strong] *= 2        # the strong channel decides the predicted class
    return img


def test_grad_cam_peaks_where_the_evidence_is():
    model = two_blob_model()
    batch = np.stack([blob_image(0), blob_image(1)])
    heat = I.grad_cam(model, batch, "feat")  # default: the predicted class, 0 then 1
    assert heat.shape == (2, 16, 16) and heat.dtype == np.float32
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    assert np.unravel_index(heat[0].argmax(), heat[0].shape) in {(r, c) for r in range(2, 5) for c in range(2, 5)}
    assert np.unravel_index(heat[1].argmax(), heat[1].shape) in {(r, c) for r in range(11, 14) for c in range(10, 13)}
    assert heat[0, 12, 11] == 0 and heat[1, 3, 3] == 0  # the other class's blob is not evidence
    # asking for the other class moves the heatmap to the other blob
    other = I.grad_cam(model, batch, "feat", class_index=[1, 0])
    assert other[0, 12, 11] == pytest.approx(1.0) and other[1, 3, 3] == pytest.approx(1.0)
    assert I.last_conv_layer(model) == "feat"
    np.testing.assert_allclose(I.grad_cam(model, batch), heat)  # the default layer is the last 4-D one


def test_grad_cam_single_sigmoid_unit():
    x = keras.Input((8, 8, 1))
    feat = L.Conv2D(1, 1, use_bias=False, name="feat")(x)
    out = L.Dense(1, activation="sigmoid", name="p")(L.GlobalAveragePooling2D()(feat))
    model = keras.Model(x, out)
    model.get_layer("feat").set_weights([np.ones((1, 1, 1, 1), "float32")])
    model.get_layer("p").set_weights([np.array([[5.0]], "float32"), np.array([-1.0], "float32")])
    img = np.zeros((1, 8, 8, 1), "float32")
    img[0, 1, 6, 0] = 8.0  # bright pixel: mean 0.125 → logit -0.375 → p < 0.5: predicted class 0
    cam0 = I.grad_cam(model, img, "feat")
    assert cam0.max() == 0  # evidence *against* class 1 is the absence of brightness: nothing to show
    cam1 = I.grad_cam(model, img, "feat", class_index=1)
    assert np.unravel_index(cam1[0].argmax(), (8, 8)) == (1, 6) and cam1.max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="classes 0 and 1"):
        I.grad_cam(model, img, "feat", class_index=2)


def test_grad_cam_errors():
    model = two_blob_model()
    with pytest.raises(ValueError, match="no layer"):
        I.grad_cam(model, blob_image()[None], "nope")
    with pytest.raises(ValueError, match="feature maps"):
        I.grad_cam(model, blob_image()[None], "logits")
    with pytest.raises(ValueError, match="class_index"):
        I.grad_cam(model, blob_image()[None], "feat", class_index=5)


def small_cnn():
    return keras.Sequential([keras.Input((12, 12, 3)), L.Conv2D(4, 3, activation="relu", name="c1"),
                             L.MaxPooling2D(2, name="p1"), L.Conv2D(6, 3, activation="relu", name="c2"),
                             L.Flatten(), L.Dense(2)], name="small")


def test_activation_model_matches_layer_by_layer():
    model = small_cnn()
    x = np.random.default_rng(0).random((2, 12, 12, 3)).astype("float32")
    assert I.conv_layer_names(model) == ["c1", "p1", "c2"]
    acts = I.activation_model(model)(x)
    h = x
    for layer, act in zip(model.layers[:3], acts):
        h = layer(h)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(act), keras.ops.convert_to_numpy(h), rtol=1e-6)
    assert [tuple(a.shape) for a in acts] == [(2, 10, 10, 4), (2, 5, 5, 4), (2, 3, 3, 6)]
    with pytest.raises(ValueError, match="non-empty"):
        I.activation_model(model, [])


def test_feature_grid_layout_and_range():
    maps = np.random.default_rng(1).random((6, 6, 10))
    maps[..., 3] = 7.0  # a dead (constant) channel
    grid = I.feature_grid(maps, columns=4)
    assert grid.shape == (2 * 7 + 6, 4 * 7 - 1)  # 3 rows × 4 columns of 6×6 maps, 1-pixel gaps
    vals = grid[~np.isnan(grid)]
    assert vals.min() >= 0 and vals.max() <= 1
    assert np.all(grid[:6, 3 * 7: 3 * 7 + 6] == 0)  # channel 3, row 0 column 3
    assert np.isnan(grid[-1, -1])  # the 11th and 12th cells are empty
    blank = I.feature_grid(maps, columns=4, constant=np.nan)
    assert np.isnan(blank[:6, 3 * 7: 3 * 7 + 6]).all()  # the dead channel left blank on request
    assert np.array_equal(np.isnan(blank).sum(), np.isnan(grid).sum() + 36)  # and nothing else changed
    with pytest.raises(ValueError, match="one image"):
        I.feature_grid(np.zeros((2, 4, 4, 3)))


def test_filter_patterns_find_the_preferred_colour():
    """A 1×1 filter that weighs red +1 and green -1: its best input is red, not green."""
    x = keras.Input((16, 16, 3))
    model = keras.Model(x, L.Conv2D(2, 1, name="colour")(x))
    w = np.zeros((1, 1, 3, 2), "float32")
    w[0, 0, :, 0] = [1, -1, 0]   # filter 0 likes red, dislikes green
    w[0, 0, :, 1] = [0, 0, 1]    # filter 1 likes blue
    model.get_layer("colour").set_weights([w, np.zeros(2, "float32")])
    imgs, raw, score = I.filter_patterns(model, "colour", [0, 1], steps=10, return_raw=True)
    assert imgs.shape == (2, 16, 16, 3) and imgs.min() >= 0 and imgs.max() <= 1
    start = 0.5 - 0.5  # the start is mid-grey: filter 0 responds ≈ 0 there, filter 1 ≈ 0.5
    assert score[0] > start + 0.3 and score[1] > 0.5 + 0.3
    red, green, blue = raw[0].mean(axis=(0, 1))
    assert red > 0.5 > green
    assert raw[1, ..., 2].mean() > raw[1, ..., :2].mean()
    with pytest.raises(ValueError, match="indices"):
        I.filter_patterns(model, "colour", [2])
    with pytest.raises(ValueError, match="takes 16×16 inputs"):
        I.filter_patterns(model, "colour", [0], size=(8, 8))


def test_overlay_shape_and_range():
    img = np.full((20, 30), 200, "uint8")
    heat = np.zeros((4, 6))
    heat[0, 0] = 1
    out = I.overlay(img, heat, alpha=0.5)
    assert out.shape == (20, 30, 3) and out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out[0, 0], out[-1, -1])  # the hot corner is coloured differently
    with pytest.raises(ValueError, match="alpha"):
        I.overlay(img, heat, alpha=2)
