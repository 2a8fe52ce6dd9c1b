"""Tests for cvhelpers.models: output shapes, parameter counts against hand formulas and published
figures, the LRN layer against a NumPy reference, and a save/load round trip with the custom layers."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cvhelpers import models as M  # noqa: E402


def conv(k, cin, cout, bias=True):  # hand formula, kept independent of cvhelpers.models
    return k * k * cin * cout + (cout if bias else 0)


def dense(nin, nout):
    return nin * nout + nout


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_param_formulas_match_keras_layers():
    for k, cin, cout in [(3, 64, 128), (5, 3, 16), (1, 8, 8)]:
        x = keras.Input((9, 9, cin))
        assert M.conv2d_params(k, cin, cout) == keras.Model(x, keras.layers.Conv2D(cout, k)(x)).count_params()
        sep = keras.Model(x, keras.layers.SeparableConv2D(cout, k)(x)).count_params()
        assert M.separable_conv2d_params(k, cin, cout) == sep == k * k * cin + cin * cout + cout
    assert M.conv2d_params(3, 64, 128) / M.separable_conv2d_params(3, 64, 128) > 8
    with pytest.raises(ValueError, match="kernel_size"):
        M.conv2d_params(0, 3, 3)


def test_lenet5_shapes_and_count():
    model = M.lenet5()
    shapes = [layer.output.shape[1:] for layer in model.layers]
    assert shapes[:6] == [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (1, 1, 120), (120,)]
    assert model.output_shape == (None, 10)
    expected = conv(5, 1, 6) + conv(5, 6, 16) + conv(5, 16, 120) + dense(120, 84) + dense(84, 10)
    assert model.count_params() == expected == 61_706
    with pytest.raises(ValueError, match="input_shape"):
        M.lenet5(input_shape=(28, 28, 1))


def test_lrn_matches_numpy_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 3, 11)).astype("float32") * 30
    r, k, a, b = 2, 1.0, 0.00002, 0.75
    sq = x ** 2
    ref = np.empty_like(x)
    for c in range(x.shape[-1]):
        s = sq[..., max(0, c - r): c + r + 1].sum(-1)
        ref[..., c] = x[..., c] / (k + a * s) ** b
    out = keras.ops.convert_to_numpy(M.LocalResponseNormalization()(x))
    np.testing.assert_allclose(out, ref, rtol=1e-5)
    assert not np.allclose(out, x)  # the large values really were normalised
    with pytest.raises(ValueError):
        M.LocalResponseNormalization(depth_radius=-1)


def alexnet_count(side, classes, units):
    s = (side - 11) // 4 + 1           # C1, valid, stride 4
    s = (s - 3) // 2 + 1               # S2
    s = (s - 3) // 2 + 1               # S4 (C3 keeps the size)
    s = (s - 3) // 2 + 1               # S8
    return (conv(11, 3, 96) + conv(5, 96, 256) + conv(3, 256, 384) + conv(3, 384, 384) + conv(3, 384, 256)
            + dense(s * s * 256, units) + dense(units, units) + dense(units, classes))


def test_alexnet_count_small_and_full():
    small = M.alexnet(input_shape=(67, 67, 3), num_classes=10, dense_units=64)
    assert small.output_shape == (None, 10)
    assert small.count_params() == alexnet_count(67, 10, 64)
    assert alexnet_count(227, 1000, 4096) == 62_378_344  # the usual one-tower AlexNet figure (≈ 62.4 M)
    full = M.alexnet()
    assert full.get_layer("S8").output.shape[1:] == (6, 6, 256)
    assert full.count_params() == 62_378_344


def test_inception_3a():
    x = keras.Input((28, 28, 192))
    model = keras.Model(x, M.inception_module(x, 64, 96, 128, 16, 32, 32, name="3a"))
    assert model.output_shape == (None, 28, 28, 256)
    weights = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32
    biases = 64 + 96 + 128 + 16 + 32 + 32
    assert model.count_params() == weights + biases
    assert weights // 1024 == 159  # the GoogLeNet paper's table: 159K parameters (K = 1024) for inception (3a)
    with pytest.raises(ValueError, match="4-D"):
        M.inception_module(keras.Input((10,)), 1, 1, 1, 1, 1, 1)


def vgg_conv_count():
    total, cin = 0, 3
    for convs, filters in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]:
        for _ in range(convs):
            total += conv(3, cin, filters)
            cin = filters
    return total


def test_vgg16_base_matches_keras_applications():
    base = M.vgg16(input_shape=(32, 32, 3), include_top=False)
    ref = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert base.output_shape == (None, 1, 1, 512)
    assert base.count_params() == ref.count_params() == vgg_conv_count() == 14_714_688
    top = M.vgg16(input_shape=(32, 32, 3), num_classes=5, dense_units=32)
    assert top.count_params() == vgg_conv_count() + dense(512, 32) + dense(32, 32) + dense(32, 5)
    assert vgg_conv_count() + dense(7 * 7 * 512, 4096) + dense(4096, 4096) + dense(4096, 1000) == 138_357_544


def test_residual_unit_shapes_and_skip():
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 16)).astype("float32")
    same = M.ResidualUnit(16)
    assert tuple(same(x).shape) == (2, 8, 8, 16) and same.skip_conv is None
    down = M.ResidualUnit(32, strides=2)
    assert tuple(down(x).shape) == (2, 4, 4, 32) and down.skip_conv is not None
    wider = M.ResidualUnit(32)  # channel count changes: a 1×1 skip even with stride 1
    assert tuple(wider(x).shape) == (2, 8, 8, 32) and wider.skip_conv is not None
    # with the residual branch zeroed, an identity unit is just relu(x): the skip really is the input
    for v in same.conv2.weights:
        v.assign(np.zeros(v.shape, "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(same(x, training=False)), np.maximum(x, 0), atol=1e-6)
    with pytest.raises(ValueError, match="filters"):
        M.ResidualUnit(0)


def resnet34_counts(classes):
    """(trainable, all) parameters by hand: BN has 2 trainable (γ, β) + 2 statistics per channel."""
    train = 7 * 7 * 3 * 64 + 2 * 64
    stats = 2 * 64
    cin = 64
    for units, c in [(3, 64), (4, 128), (6, 256), (3, 512)]:
        for _ in range(units):
            train += 9 * cin * c + 2 * c + 9 * c * c + 2 * c
            stats += 4 * c
            if cin != c:  # 1×1 stride-2 skip conv + BN
                train += cin * c + 2 * c
                stats += 2 * c
            cin = c
    train += dense(512, classes)
    return train, train + stats


def test_resnet34_count():
    model = M.resnet34(input_shape=(32, 32, 3), num_classes=1000)
    units = [layer for layer in model.layers if isinstance(layer, M.ResidualUnit)]
    assert len(units) == 16 and sum(u.skip_conv is not None for u in units) == 3
    assert model.get_layer("stage4_unit3").output.shape[1:] == (1, 1, 512)
    train, total = resnet34_counts(1000)
    assert train == 21_797_672  # ResNet-34's published count (torchvision: 21.8 M)
    assert trainable(model) == train and model.count_params() == total


def test_separable_block_and_se_block_counts():
    x = keras.Input((16, 16, 32))
    model = keras.Model(x, M.separable_block(x, 64, strides=2))
    assert model.output_shape == (None, 8, 8, 64)
    expected = (9 * 32 + 32 * 64) + 4 * 64 + (9 * 64 + 64 * 64) + 4 * 64 + 32 * 64 + 4 * 64
    assert model.count_params() == expected
    y = keras.Input((8, 8, 64))
    se = keras.Model(y, M.se_block(y, ratio=16))
    assert se.output_shape == (None, 8, 8, 64)
    assert se.count_params() == dense(64, 4) + dense(4, 64)
    # the block only rescales channels by a factor in (0, 1)
    a = np.abs(np.random.default_rng(2).normal(size=(1, 8, 8, 64))).astype("float32") + 0.1
    ratio = keras.ops.convert_to_numpy(se(a)) / a
    assert np.all((ratio > 0) & (ratio < 1))
    np.testing.assert_allclose(ratio, ratio[:, :1, :1, :].repeat(8, 1).repeat(8, 2), rtol=1e-5)
    with pytest.raises(ValueError, match="ratio"):
        M.se_block(keras.Input((4, 4, 8)), ratio=16)


def test_save_load_round_trip(tmp_path):
    L = keras.layers
    x = keras.Input((32, 32, 3))
    y = L.Conv2D(16, 3, padding="same")(x)
    y = M.LocalResponseNormalization(name="lrn")(y)
    y = M.ResidualUnit(16, name="res_same")(y)
    y = M.ResidualUnit(32, strides=2, momentum=0.9, name="res_down")(y)
    y = M.inception_module(y, 8, 8, 16, 4, 8, 8, name="inc")
    y = M.separable_block(y, 48, strides=2, name="sep")
    y = M.se_block(y, ratio=8, name="se")
    out = L.Dense(3, activation="softmax")(L.GlobalAveragePooling2D()(y))
    model = keras.Model(x, out)
    rng = np.random.default_rng(3)
    data = rng.normal(size=(8, 32, 32, 3)).astype("float32")
    model(data, training=True)  # a training-mode call moves the batch-norm statistics off their defaults
    before = keras.ops.convert_to_numpy(model(data, training=False))
    path = tmp_path / "blocks.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.get_layer("res_down")) is M.ResidualUnit
    assert loaded.get_layer("res_down").get_config()["strides"] == 2
    assert loaded.get_layer("res_down").bn2.momentum == pytest.approx(0.9)
    assert loaded.get_layer("lrn").get_config()["alpha"] == pytest.approx(0.00002)
    assert loaded.count_params() == model.count_params()
    assert not np.allclose(loaded.get_layer("res_down").bn1.moving_mean.numpy(), 0)
    after = keras.ops.convert_to_numpy(loaded(data, training=False))
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)


def test_lenet5_round_trip(tmp_path):
    model = M.lenet5()
    data = np.random.default_rng(4).normal(size=(4, 32, 32, 1)).astype("float32")
    model.save(tmp_path / "lenet.keras")
    loaded = keras.models.load_model(tmp_path / "lenet.keras")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(data)), keras.ops.convert_to_numpy(model(data)))


def test_geron_fashion_cnn_counts_and_layers():
    plain, bn = M.geron_fashion_cnn(), M.geron_fashion_cnn(batch_norm=True)
    assert plain.count_params() == 1_413_834 and plain.output_shape == (None, 10)
    channels = 64 + 128 + 128 + 256 + 256
    assert bn.count_params() == plain.count_params() - channels + 4 * channels == 1_416_330
    bns = [l for l in bn.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(bns) == 5 and all(abs(l.momentum - 0.9) < 1e-12 for l in bns)
    convs = [l for l in bn.layers if isinstance(l, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [64, 128, 128, 256, 256] and not any(c.use_bias for c in convs)
    assert sum(int(np.prod(w.shape)) for w in bn.non_trainable_weights) == 2 * channels
    with pytest.raises(ValueError, match="momentum"):
        M.geron_fashion_cnn(batch_norm=True, momentum=1.0)
