"""cvhelpers.digits: resizing variable-size digit scans to MNIST's 28×28 format."""

import numpy as np
import pytest

from cvhelpers import digits


def _ink_bbox(a):
    ys, xs = np.nonzero(a)
    return ys.min(), ys.max(), xs.min(), xs.max()


@pytest.mark.parametrize("h,w", [(40, 10), (10, 40), (5, 3), (64, 54), (20, 20)])
def test_fit_box_keeps_aspect_ratio(h, w):
    img = np.full((h, w), 255, np.uint8)  # a solid rectangle: its ink box is the whole image
    out = digits.fit_box(img, size=28, box=20, center="box")
    assert out.shape == (28, 28) and out.dtype == np.uint8
    y0, y1, x0, x1 = _ink_bbox(out)
    oh, ow = y1 - y0 + 1, x1 - x0 + 1
    assert max(oh, ow) == 20  # the longer side fills the box, small images are enlarged
    assert abs(oh / ow - h / w) <= 0.15 * max(h / w, 1)  # same shape, up to rounding
    # centred: equal margins up to one pixel
    assert abs(y0 - (27 - y1)) <= 1 and abs(x0 - (27 - x1)) <= 1


def test_fit_box_centre_of_mass_is_centred():
    img = np.zeros((30, 20), np.uint8)
    img[2:10, 2:18] = 255  # a heavy top bar
    img[10:28, 9:11] = 255  # a thin stem
    out = digits.fit_box(img, size=28, box=20, center="mass").astype(float)
    ys, xs = np.indices(out.shape)
    cy, cx = (ys * out).sum() / out.sum(), (xs * out).sum() / out.sum()
    assert abs(cy - 13.5) <= 0.75 and abs(cx - 13.5) <= 0.75
    # the bounding-box placement puts the mass off-centre (the bar is heavy)
    ob = digits.fit_box(img, size=28, box=20, center="box").astype(float)
    assert (ys * ob).sum() / ob.sum() < cy - 1


def test_fit_box_full_size_and_errors():
    out = digits.fit_box(np.full((8, 4), 255, np.uint8), size=32, box=None, center="box")
    y0, y1, _, _ = _ink_bbox(out)
    assert (y0, y1) == (0, 31)
    assert digits.fit_box(np.zeros((7, 5)), size=28).sum() == 0  # empty scan stays empty
    with pytest.raises(ValueError, match="2-D"):
        digits.fit_box(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="box"):
        digits.fit_box(np.zeros((3, 4)), size=28, box=30)
    with pytest.raises(ValueError, match="center"):
        digits.fit_box(np.zeros((3, 4)), center="middle")


def test_to_mnist_format_batch():
    imgs = [np.full((h, w), 255, np.uint8) for h, w in [(4, 3), (62, 51), (29, 21)]]
    out = digits.to_mnist_format(imgs)
    assert out.shape == (3, 28, 28) and out.dtype == np.uint8
    assert np.array_equal(out[1], digits.fit_box(imgs[1]))
    with pytest.raises(ValueError):
        digits.to_mnist_format([])


def test_persian_digits_are_the_unicode_block():
    assert [ord(c) for c in digits.PERSIAN_DIGITS] == list(range(0x06F0, 0x06FA))


def test_load_hoda_mnist_format_caches(tmp_path, monkeypatch):
    from cvhelpers.datasets import hoda as data  # the loader's module: what it fetches and loads through

    raw_tr = [np.full((h, w), 255, np.uint8) for h, w in [(30, 10), (6, 8)]]
    raw_te = [np.full((40, 20), 255, np.uint8)]
    fake_npz = tmp_path / "hoda.npz"
    fake_npz.write_bytes(b"x")  # only its size and date are used for the cache key
    calls = []

    def fake_load_hoda(raw=False, verbose=True):
        calls.append(raw)
        return (raw_tr, np.array([1, 0], np.uint8)), (raw_te, np.array([7], np.uint8))

    monkeypatch.setattr(data, "fetch", lambda name: [fake_npz])
    monkeypatch.setattr(data, "load_hoda", fake_load_hoda)
    monkeypatch.setenv("CVHELPERS_CACHE_DIR", str(tmp_path / "cache"))
    (x, y), (xt, yt) = digits.load_hoda_mnist_format(verbose=False)
    assert x.shape == (2, 28, 28) and xt.shape == (1, 28, 28) and y.tolist() == [1, 0] and yt.tolist() == [7]
    assert np.array_equal(x[0], digits.fit_box(raw_tr[0], upscale=False))
    (x2, _), _ = digits.load_hoda_mnist_format(verbose=False)  # second call: from the cache
    assert calls == [True] and np.array_equal(x, x2)
    assert len(list((tmp_path / "cache" / "derived").glob("*.npz"))) == 1
    # another Pillow resizes differently: its arrays are made again, not read from this cache
    import PIL

    monkeypatch.setattr(PIL, "__version__", "0.1")
    digits.load_hoda_mnist_format(verbose=False)
    assert calls == [True, True] and len(list((tmp_path / "cache" / "derived").glob("*.npz"))) == 2


def test_fit_box_without_upscaling_keeps_small_digits_small():
    dot = np.full((6, 8), 255, np.uint8)
    y0, y1, x0, x1 = _ink_bbox(digits.fit_box(dot, upscale=False, center="box"))
    assert (y1 - y0 + 1, x1 - x0 + 1) == (6, 8)
    big = np.full((40, 20), 255, np.uint8)  # larger than the box: still shrunk to 20
    y0, y1, _, _ = _ink_bbox(digits.fit_box(big, upscale=False, center="box"))
    assert y1 - y0 + 1 == 20
