"""The lessons write their code out in cells; where the package keeps a twin (for the assignments
and tests), the notebook's definition and the package's must agree on a small input.

The functions are taken from the notebook's code cells (top-level ``def``, ``class`` and UPPER_CASE
literal constants only, nothing else runs) and executed with the names a lesson imports.
"""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_defs(stem):
    """Namespace with the top-level functions and UPPER_CASE constants of notebooks/<stem>*.ipynb."""
    (path,) = NB_DIR.glob(f"{stem}*.ipynb")
    ns = {"np": np, "keras": keras, "tf": tf, "layers": keras.layers, "L": keras.layers}
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] != "code" or "%" in src.split("\n", 1)[0]:
            continue
        try:
            tree = ast.parse(src)
        except SyntaxError:  # a cell with IPython magics
            continue
        keep = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef)) or is_constant(node)]
        for node in keep:
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), ns)
            except NameError:  # a default taken from the lesson's settings (size=P.canvas): not a twin
                pass
    return ns


def is_constant(node):
    """``NAME = <literal>`` with an UPPER_CASE name, e.g. ``SKIPS = ("conv_pw_1_relu", ...)``."""
    if not (isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets)):
        return False
    try:
        ast.literal_eval(node.value)
    except ValueError:
        return False
    return True


def layer_table(model):
    """Name (not for inputs: Keras numbers those), type and parameter count of every layer, and the output shape."""
    rows = [(type(layer).__name__, layer.count_params()) if isinstance(layer, keras.layers.InputLayer)
            else (layer.name, type(layer).__name__, layer.count_params()) for layer in model.layers]
    return rows, tuple(model.output.shape)


def test_notebook_11_unet_is_the_package_unet():
    from cvhelpers import segmentation

    nb = notebook_defs("11_")
    mine, theirs = nb["unet"](64), segmentation.unet(64)
    assert mine.count_params() == theirs.count_params()
    assert layer_table(mine) == layer_table(theirs)


def test_notebook_11_mobilenet_unet_is_the_package_one():
    from cvhelpers import segmentation

    nb = notebook_defs("11_")
    base = keras.applications.MobileNet(weights=None, include_top=False, alpha=0.25, input_shape=(64, 64, 3))
    mine, theirs = nb["mobilenet_unet"](base), segmentation.mobilenet_unet(base)
    assert mine.count_params() == theirs.count_params()
    assert layer_table(mine) == layer_table(theirs)


def small_sigmoid_model():
    keras.utils.set_random_seed(0)
    x = keras.Input((16, 16, 3))
    feat = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="feat")(x)
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling2D()(feat))
    return keras.Model(x, out)


def test_notebook_12_grad_cam_is_the_package_one():
    from cvhelpers import interpret

    nb = notebook_defs("12_")
    model = small_sigmoid_model()
    images = np.random.default_rng(0).normal(size=(6, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(nb["grad_cam"](model, images, "feat"), interpret.grad_cam(model, images, "feat"),
                               atol=1e-6)


def test_notebook_12_filter_patterns_is_the_package_one():
    from cvhelpers import interpret

    nb = notebook_defs("12_")
    model = small_sigmoid_model()
    raw, scores = nb["filter_patterns"](model, "feat", range(3), steps=5)
    images, raw_pkg, scores_pkg = interpret.filter_patterns(model, "feat", range(3), steps=5, value_range=(-1, 1),
                                                           return_raw=True)
    np.testing.assert_allclose(raw, raw_pkg, atol=1e-5)
    np.testing.assert_allclose(scores, scores_pkg, atol=1e-5)
    np.testing.assert_allclose(nb["to_image"](raw), images, atol=1e-5)


def test_notebook_09_architectures_are_the_package_ones():
    from cvhelpers import models

    nb = notebook_defs("09_")
    assert nb["lenet5"]().count_params() == models.lenet5().count_params()
    assert (nb["vgg16"](input_shape=(32, 32, 3), include_top=False).count_params()
            == models.vgg16(input_shape=(32, 32, 3), include_top=False).count_params())
    assert (nb["resnet34"](input_shape=(64, 64, 3), num_classes=10).count_params()
            == models.resnet34(input_shape=(64, 64, 3), num_classes=10).count_params())
    x = keras.Input((16, 16, 32))
    for mine, theirs in [(nb["inception_module"](x, 8, 4, 8, 2, 4, 4, name="a"), models.inception_module(x, 8, 4, 8, 2, 4, 4)),
                         (nb["separable_block"](x, 64, strides=2), models.separable_block(x, 64, strides=2)),
                         (nb["se_block"](x, ratio=8), models.se_block(x, ratio=8))]:
        assert keras.Model(x, mine).count_params() == keras.Model(x, theirs).count_params()
        assert tuple(mine.shape) == tuple(theirs.shape)


def test_notebook_09_custom_layers_compute_what_the_package_ones_do():
    from cvhelpers import models

    nb = notebook_defs("09_")
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    np.testing.assert_allclose(nb["LocalResponseNormalization"]()(x), models.LocalResponseNormalization()(x), atol=1e-6)
    for strides, filters in [(1, 16), (2, 32)]:
        keras.utils.set_random_seed(3)
        mine = nb["ResidualUnit"](filters, strides=strides, momentum=0.9)
        out_mine = mine(x, training=True)
        keras.utils.set_random_seed(3)
        theirs = models.ResidualUnit(filters, strides=strides, momentum=0.9)
        out_theirs = theirs(x, training=True)
        assert mine.count_params() == theirs.count_params()
        np.testing.assert_allclose(out_mine, out_theirs, atol=1e-5)  # same weights drawn in the same order


def test_notebook_10_nms_and_grid_coding_are_the_package_ones():
    from cvhelpers import detection

    nb = notebook_defs("10_")
    nb["detection"] = detection
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 50, (40, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 20, (40, 2))], 1)
    scores = rng.random(40).astype("float32")
    for iou_t, score_t in [(0.3, None), (0.5, 0.4), (1.0, 0.9)]:
        np.testing.assert_array_equal(nb["nms"](boxes, scores, iou_t, score_t),
                                      detection.nms(boxes, scores, iou_threshold=iou_t, score_threshold=score_t))
    boxes_list = [boxes[:3], boxes[3:4], boxes[:0], boxes[4:9]]
    classes_list = [rng.integers(0, 10, len(b)) for b in boxes_list]
    mine = nb["grid_encode"](boxes_list, classes_list, 64, 8, 10)
    np.testing.assert_array_equal(mine, detection.grid_encode(boxes_list, classes_list, 64, 8, 10))
    pred = rng.random((8, 8, 15))
    for score_t in (0.05, 0.5):
        for a, b in zip(nb["grid_decode"](pred, 64, score_threshold=score_t),
                        detection.grid_decode(pred, 64, score_threshold=score_t)):
            np.testing.assert_array_equal(a, b)


def test_notebook_08_unfreezes_the_layers_the_package_does():
    from cvhelpers import transfer

    nb = notebook_defs("08_")
    nb["transfer"] = transfer
    for backbone in ("vgg16", "mobilenet_0.25"):
        mine = transfer.build_base(backbone, weights=None, input_shape=(64, 64, 3))
        theirs = transfer.build_base(backbone, weights=None, input_shape=(64, 64, 3))
        mine.trainable = theirs.trainable = False
        assert nb["unfreeze_top_block"](mine, backbone) == transfer.unfreeze_top(theirs, backbone)
        for a, b in zip(mine.layers, theirs.layers):  # the same layers trainable, batch norm kept frozen in the notebook
            assert a.trainable == (b.trainable and not isinstance(b, keras.layers.BatchNormalization)), a.name
