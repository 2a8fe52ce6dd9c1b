"""benchmarks/input_pipeline.py: its three loaders give the same shapes on synthetic JPEGs."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "input_pipeline.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("input_pipeline", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("jpegs")
    rng = np.random.default_rng(0)
    files = []
    for i in range(10):
        cls = "dog" if i % 2 else "cat"
        (root / cls).mkdir(exist_ok=True)
        path = root / cls / f"{cls}.{i}.jpg"
        Image.fromarray(rng.integers(0, 255, (40 + i, 60, 3), dtype=np.uint8)).save(path, quality=90)
        files.append(str(path))
    return files, [int("/dog/" in f) for f in files]


@pytest.mark.tf  # tfdata_batches imports TensorFlow
def test_python_and_tfdata_batches_agree_on_shapes(bench, jpegs):
    files, labels = jpegs
    py = list(bench.python_batches(files, labels, size=16, batch=4))
    assert [x.shape for x, _ in py] == [(4, 16, 16, 3), (4, 16, 16, 3), (2, 16, 16, 3)]
    assert all(x.dtype == np.float32 and 0 <= x.min() and x.max() <= 255 for x, _ in py)
    np.testing.assert_array_equal(np.concatenate([y for _, y in py]), labels)
    tfd = [(np.asarray(x), np.asarray(y)) for x, y in bench.tfdata_batches(files, labels, 16, 4)]
    assert [x.shape for x, _ in tfd] == [x.shape for x, _ in py]
    np.testing.assert_array_equal(np.concatenate([y for _, y in tfd]), labels)


def test_timed_counts_images_after_the_warmup_batch(bench, jpegs):
    files, labels = jpegs
    speed = bench.timed(bench.python_batches(files, labels, 16, 4), len(files))
    assert np.isfinite(speed) and speed > 0


def test_arguments_are_validated(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(["--images", "8", "--batch", "32"])
    assert bench.parse_args(["--images", "64"]).size == 180
