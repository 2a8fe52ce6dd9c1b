"""MNIST and Fashion-MNIST as NumPy arrays (notebooks 01-06).

The files are the registry's ``mnist`` and ``fashion_mnist`` (:mod:`cvhelpers.fetch.registry`):
the course's ``.npz`` bundles, or for Fashion-MNIST Zalando's four gzipped IDX files.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from ..fetch import display_path, fetch
from .common import load_npz, say

__all__ = ["load_mnist", "load_fashion_mnist", "FASHION_CLASSES", "read_idx"]


def load_mnist(verbose: bool = True):
    """MNIST as NumPy arrays: ``(x_train, y_train), (x_test, y_test)``, uint8, 28×28.

    >>> (x, y), (xt, yt) = load_mnist()     # doctest: +SKIP
    >>> x.shape, xt.shape                    # doctest: +SKIP
    ((60000, 28, 28), (10000, 28, 28))
    """
    (path,) = fetch("mnist")
    xtr, ytr, xte, yte = load_npz(path)
    if verbose:
        say(f"MNIST from {display_path(path)}: {len(xtr):,} train / {len(xte):,} test images")
    return (xtr, ytr), (xte, yte)


def read_idx(path: Path, offset: int):
    """The bytes of a gzipped IDX file after its ``offset``-byte header, as a flat uint8 array."""
    import numpy as np

    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_fashion_mnist(verbose: bool = True):
    """Fashion-MNIST as NumPy arrays: ``(x_train, y_train), (x_test, y_test)``; names in ``FASHION_CLASSES``."""
    paths = fetch("fashion_mnist")
    if len(paths) == 1:  # the course bundle
        xtr, ytr, xte, yte = load_npz(paths[0])
    else:
        by = {p.name: p for p in paths}
        ytr = read_idx(by["train-labels-idx1-ubyte.gz"], 8)
        xtr = read_idx(by["train-images-idx3-ubyte.gz"], 16).reshape(len(ytr), 28, 28)
        yte = read_idx(by["t10k-labels-idx1-ubyte.gz"], 8)
        xte = read_idx(by["t10k-images-idx3-ubyte.gz"], 16).reshape(len(yte), 28, 28)
    if verbose:
        say(f"Fashion-MNIST from {display_path(paths[0].parent)}: {len(xtr):,} train / {len(xte):,} test images")
    return (xtr, ytr), (xte, yte)
