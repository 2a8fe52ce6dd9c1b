"""Tests for cvhelpers.transfer: the backbone table, freezing/unfreezing, feature extraction.

No network: VGG16 is checked on its architecture (weights=None); MobileNet's real ImageNet
weights come from the offline mirror (CVHELPERS_DATA_DIR) and those tests skip without it.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from cvhelpers import transfer

MOBILENET_FILE = "weights/mobilenet_2_5_224_tf_no_top.h5"


def _mirror_has_mobilenet() -> bool:
    raw = os.environ.get("CVHELPERS_DATA_DIR", "").strip()
    return bool(raw) and (Path(raw) / MOBILENET_FILE).is_file()


needs_mobilenet = pytest.mark.skipif(not _mirror_has_mobilenet(),
                                     reason="MobileNet weights not in CVHELPERS_DATA_DIR")


def test_spec_table_and_errors():
    assert transfer.spec("vgg16").input_size == 180
    assert transfer.spec("mobilenet_0.25").input_size == 224
    with pytest.raises(ValueError, match="unknown backbone"):
        transfer.spec("vgg19")
    with pytest.raises(ValueError, match="weights must be"):
        transfer.build_base("vgg16", weights="random")
    with pytest.raises(ValueError, match="input_shape"):
        transfer.build_base("vgg16", weights=None, input_shape=(180, 180))


@pytest.mark.tf  # transfer.preprocess loads keras.applications' functions
def test_preprocess_functions_match_keras_definitions():
    x = np.array([[[[0.0, 127.5, 255.0]]]], dtype="float32")
    mob = np.asarray(transfer.preprocess("mobilenet_0.25")(x.copy()))
    np.testing.assert_allclose(mob, [[[[-1.0, 0.0, 1.0]]]], atol=1e-6)  # x / 127.5 - 1
    vgg = np.asarray(transfer.preprocess("vgg16")(x.copy()))
    # 'caffe' mode: RGB -> BGR, minus the ImageNet channel means (B 103.939, G 116.779, R 123.68)
    np.testing.assert_allclose(vgg, [[[[255.0 - 103.939, 127.5 - 116.779, 0.0 - 123.68]]]], atol=1e-3)


def test_vgg16_book_facts_on_the_architecture():
    base = transfer.build_base("vgg16", weights=None)
    assert base.input_shape[1:] == (180, 180, 3)
    assert base.count_params() == transfer.VGG16_FACTS["params"] == 14_714_688
    assert transfer.count_trainable(base) == 26
    assert transfer.freeze(base) == 0
    names = transfer.unfreeze_top(base, "vgg16")
    assert names == [layer.name for layer in base.layers[-4:]]  # block5 = the last 4 layers
    assert names == ["block5_conv1", "block5_conv2", "block5_conv3", "block5_pool"]
    assert transfer.count_trainable(base) == 6  # 3 convs x (kernel, bias)
    assert not base.get_layer("block4_conv3").trainable


def test_unfreeze_top_rejects_the_wrong_backbone():
    import keras

    inp = keras.Input((8, 8, 3))
    model = keras.Model(inp, keras.layers.Conv2D(2, 3, name="conv")(inp))
    with pytest.raises(ValueError, match="is it a vgg16 base"):
        transfer.unfreeze_top(model, "vgg16")
    with pytest.raises(TypeError):
        transfer.count_trainable(object())


def test_mobilenet_architecture_unfreeze_block13():
    base = transfer.build_base("mobilenet_0.25", weights=None)
    assert base.count_params() == 218_544
    names = transfer.unfreeze_top(base, "mobilenet_0.25")
    assert names == ["conv_dw_13", "conv_dw_13_bn", "conv_dw_13_relu",
                     "conv_pw_13", "conv_pw_13_bn", "conv_pw_13_relu"]
    # depthwise kernel + BN (gamma, beta) + pointwise kernel + BN (gamma, beta)
    assert transfer.count_trainable(base) == 6


def test_extract_features_runs_base_once_per_batch():
    import keras
    import tensorflow as tf

    inp = keras.Input((4, 4, 3))
    base = keras.Model(inp, keras.layers.GlobalAveragePooling2D()(inp))
    images = np.random.default_rng(0).uniform(0, 255, (10, 4, 4, 3)).astype("float32")
    labels = np.arange(10) % 2
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    feats, y = transfer.extract_features(base, ds, "mobilenet_0.25", verbose=False)
    np.testing.assert_allclose(feats, (images / 127.5 - 1).mean(axis=(1, 2)), atol=1e-5)
    np.testing.assert_array_equal(y, labels)
    with pytest.raises(ValueError, match="no batches"):
        transfer.extract_features(base, ds.take(0), "mobilenet_0.25", verbose=False)


@needs_mobilenet
def test_mobilenet_real_weights_from_the_mirror():
    base = transfer.build_base("mobilenet_0.25")
    random_base = transfer.build_base("mobilenet_0.25", weights=None)
    assert base.output_shape[1:] == (7, 7, 256)
    w, w0 = base.get_layer("conv1").get_weights()[0], random_base.get_layer("conv1").get_weights()[0]
    assert not np.allclose(w, w0)  # loaded, not the random initialisation
    # ImageNet BN statistics are not the initial (0, 1) values
    mean, var = base.get_layer("conv1_bn").get_weights()[2:]
    assert np.abs(mean).max() > 0.01 and not np.allclose(var, 1.0)


def test_offline_backbone_without_its_weights_fails_clearly(monkeypatch):
    from cvhelpers.data import DataError

    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")
    with pytest.raises(DataError, match="CVHELPERS_OFFLINE"):
        transfer.build_base("efficientnetv2b0")


def _jpeg_tree(root, sizes_per_class):
    """A split/class/*.jpg tree of small JPEGs (smooth random colours) for image_arrays."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    for cls, sizes in sizes_per_class.items():
        folder = root / "train" / cls
        folder.mkdir(parents=True)
        for i, (h, w) in enumerate(sizes):
            img = (rng.uniform(0, 255, (h // 4 + 1, w // 4 + 1, 3)).repeat(4, 0).repeat(4, 1)[:h, :w]).astype("uint8")
            (folder / f"{cls}.{i}.jpg").write_bytes(tf.io.encode_jpeg(img).numpy())
    return root


def test_image_arrays_match_image_dataset_from_directory_and_cache(tmp_path, monkeypatch):
    import keras
    import tensorflow as tf

    monkeypatch.setenv("CVHELPERS_CACHE_DIR", str(tmp_path / "cache"))
    root = _jpeg_tree(tmp_path / "cvd", {"dog": [(40, 60), (33, 21)], "cat": [(50, 50), (64, 30), (20, 90)]})
    x, y, names = transfer.image_arrays(root, "train", 24, verbose=False)
    assert names == ["cat", "dog"] and x.shape == (5, 24, 24, 3) and x.dtype == np.uint8
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1])
    ref = keras.utils.image_dataset_from_directory(root / "train", image_size=(24, 24), batch_size=8,
                                                   shuffle=False, verbose=False)
    ref_x, ref_y = next(iter(ref))
    assert np.abs(ref_x.numpy() - x).max() <= 0.5 + 1e-3  # the same pixels, rounded to whole numbers
    np.testing.assert_array_equal(ref_y.numpy(), y)
    cache = tmp_path / "cache" / "arrays" / f"cvd_train_24px_tf{tf.__version__}.npz"
    assert cache.is_file()  # one file per TensorFlow version: another version's decoder may differ
    # a second call reads the cache: poison it and the result shows it
    np.savez(cache, images=np.zeros_like(x), labels=y, class_names=np.array(names))
    assert transfer.image_arrays(root, "train", 24, verbose=False)[0].max() == 0
    # ...unless the folder changed: one more photo -> decoded again
    (root / "train" / "dog" / "dog.9.jpg").write_bytes((root / "train" / "dog" / "dog.0.jpg").read_bytes())
    x2, y2, _ = transfer.image_arrays(root, "train", 24, verbose=False)
    assert x2.shape[0] == 6 and x2.max() > 0 and y2.tolist() == [0, 0, 0, 1, 1, 1]


def test_image_arrays_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="image_size"):
        transfer.image_arrays(tmp_path, "train", 0)
    with pytest.raises(ValueError, match="image_size"):
        transfer.image_arrays(tmp_path, "train", 96.0)
    with pytest.raises(FileNotFoundError, match="no JPEGs"):
        transfer.image_arrays(tmp_path, "train", 32)


def test_committed_results_read_the_repository_records():
    from cvhelpers import results

    rec = results.committed("05_from_scratch", "full")
    assert rec["profile"] == "full" and 0.5 < rec["test"]["accuracy"] <= 1.0
    assert results.committed("no_such_record", "full") is None
    with pytest.raises(ValueError, match="plain file names"):
        results.committed("../full/05_from_scratch")
