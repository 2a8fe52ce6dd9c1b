"""What TensorFlow's deterministic ops cost on this machine, and what they buy.

For two training loops of the course (notebook 03's convnet on MNIST, notebook 05's convnet on the cats-vs-dogs
arrays, fast-profile sizes) this script trains the same model, with the same seed and thread count, in fresh
processes: twice with ``CVHELPERS_DETERMINISTIC=1`` (``tf.config.experimental.enable_op_determinism()``) and
twice without, interleaved (A B A B) so that a change in the machine's load hits both alike. It prints the
training time of each run and whether the two runs of each setting ended with bit-identical weights.

    python benchmarks/determinism.py                 # both loops, 2 threads
    python benchmarks/determinism.py --threads 1 --loops 03

Results of the development machine are in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r'''
import hashlib, json, os, sys, time
sys.path.insert(0, sys.argv[1])
from cvhelpers.env import setup
setup(seed=int(os.environ.get("CVHELPERS_SEED", "42")), quiet=True)
import numpy as np, keras
from keras import layers
from cvhelpers.pipeline import from_arrays
loop = sys.argv[2]
if loop == "03":
    from cvhelpers.data import load_mnist
    (x, y), _ = load_mnist()
    x = (x[:20_000].astype("float32") / 255)[..., None]; y = y[:20_000]
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Conv2D(128, 3, activation="relu"), layers.Flatten(), layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    ds, epochs = from_arrays(x, y, batch_size=128, shuffle=True), 1
else:
    from cvhelpers import data, transfer
    x, y = transfer.image_arrays(data.cats_vs_dogs(), "train", 80)[:2]
    inputs = keras.Input((80, 80, 3)); h = layers.Rescaling(1 / 255)(inputs)
    for f in (32, 64, 128, 256):
        h = layers.Conv2D(f, 3, use_bias=False)(h); h = layers.BatchNormalization(momentum=0.9)(h)
        h = layers.ReLU()(h); h = layers.MaxPooling2D(2)(h)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(layers.Flatten()(h)))
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    ds, epochs = from_arrays(x, y, batch_size=32, shuffle=True), 2
t0 = time.perf_counter()
model.fit(ds, epochs=epochs, verbose=0, shuffle=False)
seconds = time.perf_counter() - t0
digest = hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in model.get_weights())).hexdigest()[:16]
print(json.dumps({"seconds": seconds, "weights": digest}))
'''


def run(loop: str, deterministic: bool, threads: int) -> dict:
    env = dict(os.environ, CVHELPERS_FAST="1", CVHELPERS_THREADS=str(threads),
               CVHELPERS_DETERMINISTIC="1" if deterministic else "0", TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), loop], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"determinism: the {loop} run failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loops", default="03,05", help="comma-separated: 03 (MNIST convnet), 05 (cats vs dogs convnet)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    loops = args.loops.split(",")
    if not set(loops) <= {"03", "05"}:
        raise SystemExit("determinism: --loops takes 03 and/or 05")
    print(f"| loop | threads | default ops: s (2 runs) | deterministic ops: s (2 runs) | time ratio | "
          f"default: identical weights | deterministic: identical weights |\n|---|---|---|---|---|---|---|")
    for loop in loops:
        runs = {False: [], True: []}
        for _ in range(2):
            for det in (False, True):
                runs[det].append(run(loop, det, args.threads))
        t = {d: sorted(r["seconds"] for r in rs) for d, rs in runs.items()}
        same = {d: rs[0]["weights"] == rs[1]["weights"] for d, rs in runs.items()}
        ratio = (sum(t[True]) / sum(t[False]))
        print(f"| {loop} | {args.threads} | {t[False][0]:.1f}, {t[False][1]:.1f} | {t[True][0]:.1f}, {t[True][1]:.1f} | "
              f"×{ratio:.2f} | {'yes' if same[False] else 'no'} | {'yes' if same[True] else 'no'} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
