"""The filter explorers, headless: they build, and a change of any control redraws the one view."""

import numpy as np
import pytest

from cvhelpers import filters as F
from cvhelpers import widgets as W


def _png(view):
    data = view.value
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return data


def test_kernel_explorer_updates_in_place():
    w = W.kernel_explorer(kernel="box blur 3×3", max_size=64)
    view, children = w.view, list(w.children)
    first = _png(view)
    np.testing.assert_allclose(w.kernel, F.box(3), atol=1e-4)      # the grid shows 4 decimals
    np.testing.assert_allclose(w.output, F.correlate2d(w.image, w.kernel, "same"), atol=1e-6)

    w.preset_menu.value = "Sobel x"                        # a preset
    second = _png(view)
    assert second != first
    np.testing.assert_allclose(w.kernel, F.sobel_x())
    np.testing.assert_allclose(w.output, F.correlate2d(w.image, F.sobel_x(), "same"), atol=1e-5)

    w.weights[4].value = 3.0                               # one weight by hand
    assert w.preset_menu.value == "custom"
    expected = F.sobel_x()
    expected[1, 1] = 3.0
    np.testing.assert_allclose(w.output, F.correlate2d(w.image, expected, "same"), atol=1e-5)
    assert _png(view) != second

    h, wd = w.image.shape
    w.padding.value = "valid"
    assert w.output.shape == (h - 2, wd - 2)
    w.stride.value = 2
    assert w.output.shape == (F.output_size(h, 3, 2), F.output_size(wd, 3, 2))

    w.size.value = 5                                       # the grid grows, kernel kept in the middle
    assert len(w.weights) == 25 and len(w.grid.children) == 25
    assert w.kernel[2, 2] == 3.0 and w.kernel[0].sum() == 0

    w.preset_menu.value = "Gaussian σ=1 (5×5)"
    np.testing.assert_allclose(w.kernel, F.gaussian(1.0, 5), atol=1e-4)
    w.preset_menu.value = "Laplacian 4"
    assert w.size.value == 3 and len(w.weights) == 9

    w.image_menu.value = "coins"
    assert w.image.shape == F.sample_image("coins", gray=True, max_size=64).shape

    # the same widget objects throughout: updated in place, never stacked
    assert w.view is view and list(w.children) == children
    assert w.renders >= 9


def test_kernel_explorer_own_image_and_set_kernel():
    rng = np.random.default_rng(0)
    own = (rng.random((40, 30, 3)) * 255).astype(np.uint8)
    w = W.kernel_explorer(own, kernel="identity")
    assert w.image_menu.value == W.OWN and w.image.shape == (40, 30)
    np.testing.assert_allclose(w.output, w.image, atol=1e-6)
    w.set_kernel(F.laplacian(8))
    assert w.preset_menu.value == "custom"
    np.testing.assert_allclose(w.output, F.correlate2d(w.image, F.laplacian(8), "same"), atol=1e-5)
    with pytest.raises(ValueError, match="3×3 or 5×5"):
        w.set_kernel(np.ones((4, 4)))


def test_gaussian_and_sobel_explorers():
    g = W.gaussian_explorer(sigma=1.0, max_size=64)
    first = _png(g.view)
    ref = F.correlate2d(g.image, F.gaussian(1.0), "same")
    np.testing.assert_allclose(g.output, ref, atol=1e-5)       # separable == 2-D kernel
    g.sigma.value = 3.0
    assert _png(g.view) != first and g.output.std() < ref.std()

    s = W.sobel_explorer(angle=0, max_size=64)
    first = _png(s.view)
    np.testing.assert_allclose(s.output, F.correlate2d(s.image, F.sobel_x(), "same"), atol=1e-5)
    s.angle.value = 90
    assert _png(s.view) != first
    np.testing.assert_allclose(s.output, F.correlate2d(s.image, F.sobel_y(), "same"), atol=1e-5)


@pytest.mark.parametrize("bad, message", [
    (np.ones((4, 4)), "at least 5"),
    (np.ones((10, 10, 2)), "shape"),
    (np.array([["x"] * 6] * 6), "numeric"),
])
def test_bad_images(bad, message):
    with pytest.raises(ValueError, match=message):
        W.kernel_explorer(bad)


def test_bad_kernel_name():
    with pytest.raises(ValueError, match="unknown kernel"):
        W.kernel_explorer(kernel="blur")


def test_to_gray_ranges():
    assert W.to_gray(np.full((6, 6), 2.0)).max() <= 1.0          # floats outside 0..1 rescaled
    img = W.to_gray(np.full((6, 6, 4), 255, dtype=np.uint8))     # RGBA: alpha dropped
    np.testing.assert_allclose(img, 1.0, atol=1e-6)


def test_widgets_version_is_one_the_course_supports():
    """These tests run under ipywidgets 8 (`make test`) and Colab's 7.7.1 (`make colab-check`)."""
    import ipywidgets
    major, minor = (int(x) for x in ipywidgets.__version__.split(".")[:2])
    assert (major, minor) >= (7, 7) and major <= 8, ipywidgets.__version__


@pytest.mark.parametrize("version, enabled", [("8.1.5", True), ("7.7.1", False)])
def test_colab_widget_manager_only_for_ipywidgets_8(monkeypatch, version, enabled):
    import sys
    import types

    import ipywidgets

    from cvhelpers import env

    calls = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("enable"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", colab.output)
    monkeypatch.setattr(ipywidgets, "__version__", version)
    line = env.colab_widgets()
    assert calls == (["enable"] if enabled else []), line
    assert version in line and ("custom widget manager turned on" in line) == enabled
    info = {"python": "3.13", "tensorflow": "2.20.0", "keras": "3.13.2", "colab": True, "widgets": line,
            "gpus": [], "mixed_precision": "off", "profile": "fast", "data_dir": None, "cache_dir": "/tmp/x",
            "offline": True, "mirrors": [], "seed": 42, "fixes": []}
    assert f"widgets:         {line}" in env.report(info).splitlines()
    monkeypatch.delitem(sys.modules, "google.colab")
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert env.colab_widgets() is None                      # outside Colab: nothing to do, no line
