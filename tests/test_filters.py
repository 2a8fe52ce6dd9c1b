"""cvhelpers.filters against independent references: SciPy, NumPy, TensorFlow and Keras.

Property-style: seeded random loops over many shapes, kernels, modes and strides (no extra
test dependency), plus the worked numbers of notebooks 01 and 02 and the error cases.
"""

import math

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from cvhelpers import filters as F

RNG_SEED = 1234


def _cases(n, seed=RNG_SEED):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield rng


# ---------------------------------------------------------------- reference: SciPy / NumPy

@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate2d_matches_scipy(mode):
    # a fixed seed per mode: hash(mode) differs from one process to the next (PYTHONHASHSEED)
    for rng in _cases(150, seed={"valid": 1, "same": 2, "full": 3}[mode]):
        h, w = rng.integers(1, 14, size=2)
        fh, fw = rng.integers(1, 6, size=2)
        if mode == "valid" and (fh > h or fw > w):
            continue
        x = rng.normal(size=(h, w))
        k = rng.normal(size=(fh, fw))
        ours = F.correlate2d(x, k, mode)
        ref = scipy.signal.correlate2d(x, k, mode)
        assert ours.shape == ref.shape, (x.shape, k.shape, mode)
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_convolve2d_matches_scipy(mode):
    for rng in _cases(150, seed=7 + len(mode)):
        h, w = rng.integers(1, 14, size=2)
        fh, fw = rng.integers(1, 6, size=2)
        if mode == "same":                       # 'same' convolution needs a centre pixel
            fh, fw = 2 * (fh // 2) + 1, 2 * (fw // 2) + 1
        if mode == "valid" and (fh > h or fw > w):
            continue
        x = rng.normal(size=(h, w))
        k = rng.normal(size=(fh, fw))
        np.testing.assert_allclose(F.convolve2d(x, k, mode), scipy.signal.convolve2d(x, k, mode),
                                   rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", ["valid", "full"])
def test_strided_equals_subsampled(mode):
    """With 'valid' and 'full' padding a stride just keeps every s-th output."""
    for rng in _cases(100, seed=99):
        h, w = rng.integers(3, 16, size=2)
        fh, fw = rng.integers(1, 4, size=2)
        sh, sw = rng.integers(1, 5, size=2)
        x, k = rng.normal(size=(h, w)), rng.normal(size=(fh, fw))
        ref = scipy.signal.correlate2d(x, k, mode)[::sh, ::sw]
        np.testing.assert_allclose(F.correlate2d(x, k, mode, (int(sh), int(sw))), ref, atol=1e-10)


def test_loops_match_vectorised():
    for rng in _cases(80, seed=5):
        h, w = rng.integers(2, 11, size=2)
        f = int(rng.integers(1, 4))
        s = int(rng.integers(1, 4))
        mode = ["valid", "same", "full"][int(rng.integers(3))]
        x, k = rng.normal(size=(h, w)), rng.normal(size=(f, f))
        np.testing.assert_allclose(F.correlate2d_loops(x, k, mode, s), F.correlate2d(x, k, mode, s),
                                   atol=1e-10)


def test_channel_layouts():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 8, 3))
    k2 = rng.normal(size=(3, 3))
    per_channel = F.correlate2d(x, k2, "same")
    assert per_channel.shape == (9, 8, 3)
    for c in range(3):
        np.testing.assert_allclose(per_channel[:, :, c], scipy.signal.correlate2d(x[:, :, c], k2, "same"))
    k3 = rng.normal(size=(3, 3, 3))
    summed = F.correlate2d(x, k3, "valid")
    ref = sum(scipy.signal.correlate2d(x[:, :, c], k3[:, :, c], "valid") for c in range(3))
    np.testing.assert_allclose(summed, ref, atol=1e-10)
    k4 = rng.normal(size=(3, 3, 3, 5))
    maps = F.correlate2d(x, k4, "valid")
    assert maps.shape == (7, 6, 5)
    np.testing.assert_allclose(maps[:, :, 4], F.correlate2d(x, k4[:, :, :, 4], "valid"), atol=1e-10)
    # a grey image with a 4-D kernel of one input channel
    assert F.correlate2d(x[:, :, 0], k4[:, :, :1, :], "same").shape == (9, 8, 5)


def test_one_d_matches_numpy():
    for rng in _cases(100, seed=11):
        n = int(rng.integers(1, 30))
        f = int(rng.integers(1, 7))
        x, k = rng.normal(size=n), rng.normal(size=f)
        for mode in ("valid", "full") + (("same",) if f % 2 else ()):
            if f > n and mode != "full":   # np.convolve then returns max(n, f) values
                continue
            np.testing.assert_allclose(F.convolve1d(x, k, mode), np.convolve(x, k, mode), atol=1e-10)
        if f <= n:
            np.testing.assert_allclose(F.correlate1d(x, k), np.correlate(x, k, "valid"), atol=1e-10)


def test_sobel_gradient_matches_ndimage():
    img = F.sample_image("coins")
    gx, gy = F.sobel_gradient(img)
    # ndimage.sobel differentiates along `axis` with the same [-1,0,1]x[1,2,1] weights;
    # borders differ (reflect vs zeros), so compare the interior.
    np.testing.assert_allclose(gx[1:-1, 1:-1], scipy.ndimage.sobel(img, axis=1)[1:-1, 1:-1], atol=1e-5)
    np.testing.assert_allclose(gy[1:-1, 1:-1], scipy.ndimage.sobel(img, axis=0)[1:-1, 1:-1], atol=1e-5)
    mag, ang = F.gradient_magnitude(gx, gy), F.gradient_direction(gx, gy)
    np.testing.assert_allclose(mag, np.sqrt(gx.astype(float) ** 2 + gy.astype(float) ** 2), rtol=1e-6)
    assert ang.min() >= -np.pi and ang.max() <= np.pi


# ---------------------------------------------------------------- reference: TensorFlow

def test_correlate2d_matches_tf_conv2d():
    tf = pytest.importorskip("tensorflow")
    for rng in _cases(80, seed=2024):
        h, w = (int(v) for v in rng.integers(1, 17, size=2))
        fh, fw = (int(v) for v in rng.integers(1, 6, size=2))
        sh, sw = (int(v) for v in rng.integers(1, 5, size=2))
        c, n = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        padding = ["VALID", "SAME"][int(rng.integers(2))]
        if padding == "VALID" and (fh > h or fw > w):
            padding = "SAME"
        x = rng.normal(size=(h, w, c)).astype(np.float32)
        k = rng.normal(size=(fh, fw, c, n)).astype(np.float32)
        ref = tf.nn.conv2d(x[None], k, strides=[1, sh, sw, 1], padding=padding).numpy()[0]
        ours = F.correlate2d(x, k, padding.lower(), (sh, sw))
        assert ours.shape == ref.shape, (x.shape, k.shape, padding, (sh, sw))
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)
        # and the output-size formula agrees with TensorFlow
        assert ref.shape[:2] == (F.output_size(h, fh, sh, padding.lower()),
                                 F.output_size(w, fw, sw, padding.lower()))


# ---------------------------------------------------------------- matrix form

def test_conv_matrix_product_equals_direct():
    for rng in _cases(120, seed=42):
        mode = ["valid", "same", "full"][int(rng.integers(3))]
        if rng.random() < 0.4:                                   # 1-D
            n, f, s = int(rng.integers(3, 20)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
            x, k = rng.normal(size=n), rng.normal(size=f)
            a = F.conv_matrix(n, k, mode, s)
            np.testing.assert_allclose(a @ x, F.correlate1d(x, k, mode, s), atol=1e-10)
        else:                                                    # 2-D
            h, w = (int(v) for v in rng.integers(3, 9, size=2))
            fh, fw = (int(v) for v in rng.integers(1, 4, size=2))
            s = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
            x, k = rng.normal(size=(h, w)), rng.normal(size=(fh, fw))
            a = F.conv_matrix((h, w), k, mode, s)
            np.testing.assert_allclose(a @ x.ravel(), F.correlate2d(x, k, mode, s).ravel(), atol=1e-10)


def test_conv_matrix_is_toeplitz_in_1d():
    k = np.array([1.0, -2.0, 1.0])
    a = F.conv_matrix(8, k)
    for offset in range(-a.shape[0] + 1, a.shape[1]):
        d = np.diagonal(a, offset)
        assert np.all(d == d[0])                                 # constant along every diagonal
    assert a.shape == (6, 8)


def test_patch_matrix_and_recovery():
    for rng in _cases(40, seed=8):
        h, w = (int(v) for v in rng.integers(6, 15, size=2))
        fh, fw = (int(v) for v in rng.integers(1, 5, size=2))
        mode = ["valid", "same", "full"][int(rng.integers(3))]
        x, k = rng.normal(size=(h, w)), rng.normal(size=(fh, fw))
        p = F.patch_matrix(x, (fh, fw), mode)
        y = F.correlate2d(x, k, mode)
        np.testing.assert_allclose(p @ k.ravel(), y.ravel(), atol=1e-10)
        np.testing.assert_allclose(F.recover_kernel(x, y, (fh, fw), mode), k, atol=1e-8)
    # with noise the estimate is close, not exact
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 40))
    k = F.sobel_x()
    y = F.correlate2d(x, k) + rng.normal(scale=0.1, size=(38, 38))
    est = F.recover_kernel(x, y, 3)
    assert 0 < np.abs(est - k).max() < 0.05


def test_recover_kernel_1d_and_shape_error():
    x = np.random.default_rng(1).normal(size=100)
    y = np.convolve(x, [1.0, -2.0, 1.0], "valid")
    np.testing.assert_allclose(F.recover_kernel(x, y, 3), [1.0, -2.0, 1.0], atol=1e-10)
    with pytest.raises(ValueError, match="y has"):
        F.recover_kernel(x, y[:-1], 3)


# ---------------------------------------------------------------- kernels

def test_kernels():
    lap = np.zeros((3, 3))
    lap[1] += [1, -2, 1]
    lap[:, 1] += [1, -2, 1]
    np.testing.assert_array_equal(lap, F.laplacian(4))
    np.testing.assert_array_equal(F.sobel_x(), np.outer([1, 2, 1], [-1, 0, 1]))
    np.testing.assert_array_equal(F.sobel_y(), F.sobel_x().T)
    np.testing.assert_array_equal(F.prewitt_x(), np.outer([1, 1, 1], [-1, 0, 1]))
    for sigma in (0.5, 1.0, 2.3):
        g = F.gaussian(sigma)
        assert g.shape[0] % 2 == 1 and abs(g.sum() - 1) < 1e-12
        np.testing.assert_allclose(g, g.T)
        np.testing.assert_allclose(g, g[::-1, ::-1])
        assert g.argmax() == g.size // 2
    for name in F.PRESETS:
        assert F.preset(name).ndim == 2
    assert F.laplacian(8).sum() == 0 and F.sharpen().sum() == 1 and F.box(4).sum() == pytest.approx(1)
    np.testing.assert_allclose(F.directional_sobel(45), (F.sobel_x() + F.sobel_y()) / np.sqrt(2), atol=1e-12)


# ---------------------------------------------------------------- arithmetic vs Keras

def test_output_size_brute_force():
    for n in range(1, 30):
        for f in range(1, 8):
            for s in range(1, 6):
                x = np.zeros(n)
                for mode in ("valid", "same", "full"):
                    if mode == "valid" and f > n:
                        continue
                    assert F.output_size(n, f, s, mode) == F.correlate1d(x, np.ones(f), mode, s).size
    assert (F.output_size(13, 6, 5, "same"), F.output_size(13, 6, 5, "valid")) == (3, 2)
    assert F.output_size(28, 3) == 26


def test_worked_numbers():
    assert F.conv_params(5, 3, 200) == 15_200
    assert F.conv_multiplications((150, 100, 3), 200, 5, 1, "same") == 225_000_000
    out = F.conv_output_shape((150, 100, 3), 200, 5, 1, "same")
    assert F.conv_memory(out) == 12_000_000 and F.conv_memory(out, batch_size=100) == 1_200_000_000
    assert F.format_bytes(12_000_000) == "12.0 MB" and F.format_bytes(1_200_000_000) == "1.2 GB"
    shape, total = (200, 300, 3), 0
    for maps in (100, 200, 400):
        layer = F.conv_layer(shape, maps, 3, 2, "same")
        total += layer["params"]
        shape = layer["output_shape"]
    assert total == 903_400 and shape == (25, 38, 400)


def test_conv_arithmetic_matches_keras():
    keras = pytest.importorskip("keras")
    for rng in _cases(25, seed=77):
        h, w, c = int(rng.integers(5, 40)), int(rng.integers(5, 40)), int(rng.integers(1, 5))
        layers, shape, expected = [], (h, w, c), 0
        for _ in range(int(rng.integers(1, 4))):
            f, s = int(rng.integers(1, 6)), int(rng.integers(1, 4))
            n = int(rng.integers(1, 9))
            pad = "same" if (f > min(shape[:2]) or rng.random() < 0.5) else "valid"
            layers.append(keras.layers.Conv2D(n, f, strides=s, padding=pad))
            expected += F.conv_params(f, shape[2], n)
            shape = F.conv_output_shape(shape, n, f, s, pad)
        model = keras.Sequential([keras.Input((h, w, c))] + layers)
        assert model.count_params() == expected
        assert tuple(model.output_shape[1:]) == shape


def test_receptive_field_matches_matrix_product():
    for rng in _cases(40, seed=13):
        layers = [(int(rng.integers(1, 6)), int(rng.integers(1, 4))) for _ in range(int(rng.integers(1, 5)))]
        rf = F.receptive_field(layers)
        # compose the 1-D conv matrices of all-ones kernels: the span of the first output's inputs
        n = rf + 40
        a, size = np.eye(n), n
        for f, s in layers:
            m = F.conv_matrix(size, np.ones(f), "valid", s)
            a, size = m @ a, m.shape[0]
        used = np.flatnonzero(a[0])
        assert used[-1] - used[0] + 1 == rf, layers


# ---------------------------------------------------------------- images and timing

def test_sample_images():
    for name in F.SAMPLE_IMAGES:
        img = F.sample_image(name, max_size=100)
        assert img.dtype == np.float32 and 0 <= img.min() and img.max() <= 1
        assert max(img.shape[:2]) <= 100
    assert F.sample_image("astronaut", gray=True).shape == (512, 512)


def test_benchmark_small():
    pytest.importorskip("tensorflow")
    rows = F.benchmark(size=48, kernel_sizes=(3,), naive_size=16, repeat=1)
    assert {r["method"] for r in rows} >= {"Python loops", "NumPy (vectorised)", "tf.nn.conv2d"}
    assert all(r["seconds"] > 0 for r in rows)
    text = F.format_benchmark(rows, 48)
    assert "Python loops" in text and "×9" in text


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("call, message", [
    (lambda: F.correlate2d(np.ones((5, 5)), np.ones((3, 3)), "middle"), "mode"),
    (lambda: F.correlate2d(np.ones((5, 5)), np.ones((3, 3)), stride=0), "stride"),
    (lambda: F.correlate2d(np.ones((5, 5)), np.ones((3, 3)), stride=-1), "stride"),
    (lambda: F.correlate2d(np.ones((5, 5)), np.ones((3, 3)), stride=True), "stride"),
    (lambda: F.correlate2d(np.ones((5, 5)), np.ones((3, 3)), stride=(1, 2, 3)), "stride"),
    (lambda: F.correlate2d(np.ones((5, 5)), np.ones((3, 3)), stride=1.5), "stride"),
    (lambda: F.correlate2d(np.ones(5), np.ones((3, 3))), "image"),
    (lambda: F.correlate2d(np.ones((2, 2, 2, 2)), np.ones((3, 3))), "image"),
    (lambda: F.correlate2d(np.ones((0, 5)), np.ones((3, 3))), "empty"),
    (lambda: F.correlate2d(np.array([["a"]]), np.ones((1, 1))), "numeric"),
    (lambda: F.correlate2d(np.ones((5, 5)), np.ones(3)), "kernel"),
    (lambda: F.correlate2d(np.ones((2, 2)), np.ones((3, 3))), "larger"),
    (lambda: F.correlate2d(np.ones((5, 5, 3)), np.ones((3, 3, 2))), "channel"),
    (lambda: F.convolve2d(np.ones((5, 5)), np.ones((2, 2)), "same"), "odd"),
    (lambda: F.gaussian(1.0, 4), "odd"),
    (lambda: F.gaussian(-1.0), "sigma"),
    (lambda: F.identity(2), "odd"),
    (lambda: F.box(0), "size"),
    (lambda: F.laplacian(6), "4 or 8"),
    (lambda: F.preset("blur"), "unknown"),
    (lambda: F.output_size(5, 7), "larger"),
    (lambda: F.output_size(-5, 3), "positive"),
    (lambda: F.output_size(5, 3, 0), "positive"),
    (lambda: F.conv_params(3, 0, 10), "positive"),
    (lambda: F.conv_output_shape((28, 28), 3, 3), "height, width, channels"),
    (lambda: F.conv_memory(()), "shape"),
    (lambda: F.receptive_field([(3,)]), "pair"),
    (lambda: F.conv_matrix((3, 3, 3), np.ones((2, 2))), "shape"),
    (lambda: F.gradient_magnitude(np.ones(3), np.ones(4)), "same shape"),
    (lambda: F.sample_image("lena"), "unknown"),
    (lambda: F.format_bytes(-1), "non-negative"),
])
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
