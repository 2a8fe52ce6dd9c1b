"""Input-pipeline throughput: tf.data vs ImageDataGenerator vs a plain Python (PIL) loop.

All three read the same cats-vs-dogs JPEGs, decode them, resize to SIZE×SIZE, augment (horizontal flip,
rotation up to ±36°, zoom ±20 %) and yield float32 batches. Each is timed for one pass over the files
after one warm-up batch (graph tracing, thread start-up); images per second and ratios are printed and
saved as the results record ``benchmark_input_pipeline``.

    PYTHONPATH=. CVHELPERS_FAST=1 python benchmarks/input_pipeline.py --images 512

``ImageDataGenerator`` was removed from Keras 3; it is measured only where an installed Keras
(``keras.preprocessing.image`` or the ``tf_keras`` package) still has it.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=512, help="number of training JPEGs to read (default 512)")
    ap.add_argument("--size", type=int, default=180, help="output side in pixels (default 180)")
    ap.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    ap.add_argument("--no-record", action="store_true", help="do not write a results record")
    args = ap.parse_args(argv)
    if args.images < args.batch or args.size < 8 or args.batch < 1:
        ap.error("need --images >= --batch >= 1 and --size >= 8")
    return args


def pick_files(n: int):
    import numpy as np
    from cvhelpers import data

    root = data.cats_vs_dogs(verbose=False)
    files = sorted(str(p) for p in (root / "train").glob("*/*.jpg"))
    if len(files) < n:
        raise SystemExit(f"only {len(files)} training images in {root}, {n} asked")
    files = list(np.random.default_rng(0).permutation(files)[:n])
    return root, files, [int("/dog/" in f.replace(os.sep, "/")) for f in files]


def timed(batches, n_images: int) -> float:
    """Images per second over one pass of ``batches`` (an iterator), after one warm-up batch."""
    it = iter(batches)
    first = next(it)
    seen = int(first[0].shape[0])
    t0 = time.perf_counter()
    for x, _ in it:
        seen += int(x.shape[0])
        if seen >= n_images:
            break
    elapsed = time.perf_counter() - t0
    return (seen - int(first[0].shape[0])) / elapsed


def tfdata_batches(files, labels, size, batch):
    import keras
    import tensorflow as tf

    augment = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1),
                                keras.layers.RandomZoom(0.2)])

    def load(path, label):
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        return tf.image.resize(image, (size, size)), label

    ds = tf.data.Dataset.from_tensor_slices((files, labels))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(batch)
    ds = ds.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def image_data_generator():
    """The ImageDataGenerator class if some installed Keras still has it, else None."""
    try:
        from keras.preprocessing.image import ImageDataGenerator  # Keras 2 / early Keras 3
        return ImageDataGenerator
    except ImportError:
        pass
    try:
        from tf_keras.preprocessing.image import ImageDataGenerator  # the tf_keras package
        return ImageDataGenerator
    except ImportError:
        return None


def generator_batches(gen_cls, root, size, batch):
    gen = gen_cls(rotation_range=36, zoom_range=0.2, horizontal_flip=True, fill_mode="reflect")
    return gen.flow_from_directory(str(root / "train"), target_size=(size, size), batch_size=batch,
                                   class_mode="binary", seed=0)


def python_batches(files, labels, size, batch, seed=0):
    """A plain loop: PIL decodes, resizes, flips, rotates and zooms one image at a time."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for start in range(0, len(files), batch):
        xs = []
        for f in files[start:start + batch]:
            with Image.open(f) as im:
                im = im.convert("RGB").resize((size, size), Image.BILINEAR)
            if rng.random() < 0.5:
                im = im.transpose(Image.FLIP_LEFT_RIGHT)
            im = im.rotate(rng.uniform(-36, 36), resample=Image.BILINEAR)
            zoom = rng.uniform(0.8, 1.2)
            side = max(8, int(round(size * zoom)))
            im = im.resize((side, side), Image.BILINEAR)
            if side >= size:  # zoom in: crop the centre
                off = (side - size) // 2
                im = im.crop((off, off, off + size, off + size))
            else:  # zoom out: paste on a black canvas
                canvas = Image.new("RGB", (size, size))
                canvas.paste(im, ((size - side) // 2, (size - side) // 2))
                im = canvas
            xs.append(np.asarray(im, dtype=np.float32))
        yield np.stack(xs), np.asarray(labels[start:start + batch], dtype=np.float32)


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    root, files, labels = pick_files(args.images)
    print(f"{args.images} JPEGs from {root / 'train'} -> {args.size}x{args.size}, augmented, batches of {args.batch}")
    print(f"machine: {platform.platform(terse=True)}, {os.cpu_count()} CPUs, TensorFlow {tf.__version__}, "
          f"GPUs {len(tf.config.list_physical_devices('GPU'))}\n")
    speeds = {}
    speeds["tf.data (parallel map + prefetch)"] = timed(tfdata_batches(files, labels, args.size, args.batch), args.images)
    gen_cls = image_data_generator()
    if gen_cls is not None:
        speeds["ImageDataGenerator.flow_from_directory"] = timed(
            generator_batches(gen_cls, root, args.size, args.batch), args.images)
    speeds["plain Python loop (PIL)"] = timed(python_batches(files, labels, args.size, args.batch), args.images)

    base = speeds["plain Python loop (PIL)"]
    for name, s in speeds.items():
        print(f"{name:<40} {s:8.1f} images/s   x{s / base:5.2f} vs the Python loop")
    if gen_cls is None:
        print("ImageDataGenerator                       not measured: removed from Keras 3 "
              "(install tf_keras to measure the legacy API)")
    if not args.no_record:
        from cvhelpers import results

        path = results.record("benchmark_input_pipeline", test={k: round(v, 2) for k, v in speeds.items()},
                              data=f"cats_vs_dogs train, {args.images} files, {args.size}px, batch {args.batch}",
                              notes="images per second, one pass after one warm-up batch")
        print(f"\nrecord: {path}")
    assert all(math.isfinite(v) and v > 0 for v in speeds.values())
    return speeds


if __name__ == "__main__":
    main()
