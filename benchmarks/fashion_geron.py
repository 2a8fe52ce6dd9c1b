"""Géron's Fashion-MNIST CNN, the book's recipe vs batch norm + cosine decay, over several seeds.

Notebook 03 trains each recipe once; one run says little when two recipes differ by a point
(the test accuracy of one recipe moves by several tenths from seed to seed). This script trains
the same models (``cvhelpers.models.geron_fashion_cnn``) on the same split as the notebook
(55,000 train / 5,000 validation / 10,000 test, pixels / 255) for several seeds and prints each
run, the mean and the spread, with the ratio of the two recipes' training times.

    python benchmarks/fashion_geron.py                      # both recipes, 3 seeds, 10 epochs
    python benchmarks/fashion_geron.py --recipes batchnorm --seeds 1
    KERAS_BACKEND=jax python benchmarks/fashion_geron.py    # any Keras 3 backend (no TensorFlow needed)

Recipes (both 10 epochs, Nadam):

* ``book``: Géron's CNN, batch 32, learning rate 1e-3, the weights of the epoch with the lowest
  validation loss kept (as notebook 03 does);
* ``batchnorm``: the same CNN with batch normalisation after each convolution, batch 64, learning
  rate decaying along a cosine from 1e-3 to 0, the last epoch's weights.

The runs go to ``results/<profile>/03_fashion_geron_seeds.json`` (one record, all runs), written
after each run so an interrupted sweep keeps what it measured. Needs only NumPy and Keras 3; the
data come from ``cvhelpers.data`` (``CVHELPERS_DATA_DIR`` for an offline copy).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECIPES = {
    "book": {"batch_norm": False, "batch_size": 32, "schedule": "constant", "keep": "lowest val_loss"},
    "batchnorm": {"batch_norm": True, "batch_size": 64, "schedule": "cosine", "keep": "last epoch"},
}


def load_split(train: int = 55_000, valid: int = 5_000, test: int = 10_000):
    """The notebook's split: train from the first 55,000, validation from the last 5,000, scaled to 0..1."""
    import numpy as np

    from cvhelpers.data import load_fashion_mnist

    (x, y), (xt, yt) = load_fashion_mnist()
    prep = lambda a: (a.astype("float32") / 255.0)[..., np.newaxis]  # noqa: E731
    return ((prep(x[:train]), y[:train]), (prep(x[55_000:55_000 + valid]), y[55_000:55_000 + valid]),
            (prep(xt[:test]), yt[:test]))


def train_once(recipe: str, seed: int, epochs: int, split, verbose: int = 2) -> dict:
    """Train one recipe with one seed; return its figures."""
    import keras
    import numpy as np

    from cvhelpers.models import geron_fashion_cnn

    spec = RECIPES[recipe]
    (x, y), (xv, yv), (xt, yt) = split
    keras.utils.set_random_seed(seed)
    model = geron_fashion_cnn(batch_norm=spec["batch_norm"])
    lr = 1e-3
    if spec["schedule"] == "cosine":
        steps = epochs * int(np.ceil(len(x) / spec["batch_size"]))
        lr = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.Nadam(learning_rate=lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    callbacks = []
    if spec["keep"] == "lowest val_loss":
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=epochs, restore_best_weights=True))
    start = time.perf_counter()
    hist = model.fit(x, y, batch_size=spec["batch_size"], epochs=epochs, validation_data=(xv, yv),
                     shuffle=True, callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - start
    _, acc = model.evaluate(xt, yt, batch_size=1024, verbose=0)
    h = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    best = int(np.argmin(h["val_loss"])) + 1 if spec["keep"] == "lowest val_loss" else len(h["val_loss"])
    return {"recipe": recipe, "seed": seed, "epochs": epochs, "test_accuracy": float(acc), "fit_s": seconds,
            "s_per_epoch": seconds / epochs, "epoch_kept": best, "history": h, **spec}


def summarize(runs: list[dict]) -> str:
    """One line per recipe: mean, standard deviation, min/max of the test accuracy and the time."""
    lines = []
    for recipe in RECIPES:
        accs = [r["test_accuracy"] for r in runs if r["recipe"] == recipe]
        secs = [r["s_per_epoch"] for r in runs if r["recipe"] == recipe]
        if not accs:
            continue
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        lines.append(f"{recipe:<10} {len(accs)} run(s): test accuracy mean {statistics.mean(accs):.2%} ± {sd:.2%} "
                     f"(min {min(accs):.2%}, max {max(accs):.2%}); {statistics.mean(secs):.1f} s per epoch")
    per = {rc: [r["s_per_epoch"] for r in runs if r["recipe"] == rc] for rc in RECIPES}
    if all(per.values()):
        lines.append(f"time per epoch, batchnorm / book: {statistics.mean(per['batchnorm']) / statistics.mean(per['book']):.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    ap.add_argument("--seeds", type=int, default=3, help="number of seeds (42, 43, ...)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--train", type=int, default=55_000, help="training images (fewer for a quick check)")
    ap.add_argument("--valid", type=int, default=5_000, help="validation images (the last of the 60,000)")
    ap.add_argument("--test", type=int, default=10_000, help="test images evaluated")
    ap.add_argument("--name", default="03_fashion_geron_seeds", help="record name under results/<profile>/")
    args = ap.parse_args(argv)
    if (args.seeds < 1 or args.epochs < 1 or not 1 <= args.train <= 55_000 or not 1 <= args.valid <= 5_000
            or not 1 <= args.test <= 10_000):
        ap.error("--seeds and --epochs must be >= 1, --train in 1..55000, --valid in 1..5000, --test in 1..10000")

    import keras

    from cvhelpers import results

    split = load_split(args.train, args.valid, args.test)
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}; "
          f"{len(split[0][1]):,} train / {len(split[1][1]):,} validation / {len(split[2][1]):,} test images")
    runs = []
    for seed in range(42, 42 + args.seeds):
        for recipe in args.recipes:
            run = train_once(recipe, seed, args.epochs, split)
            runs.append(run)
            print(f"{recipe:<10} seed {seed}: test accuracy {run['test_accuracy']:.4f} "
                  f"(weights of epoch {run['epoch_kept']}), fit {run['fit_s']:.0f} s", flush=True)
            out = results.record(args.name, test={r: [x["test_accuracy"] for x in runs if x["recipe"] == r]
                                                  for r in args.recipes},
                                 wall_time_s=sum(x["fit_s"] for x in runs), runs=runs,
                                 data=f"Fashion-MNIST {len(split[0][1]):,} train / {len(split[1][1]):,} validation / "
                                      f"{len(split[2][1]):,} test")
    print(summarize(runs))
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
