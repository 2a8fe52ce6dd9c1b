"""What the dataset loaders share: how they speak, and reading the course's ``.npz`` files."""

from __future__ import annotations

import sys
from pathlib import Path

from ..fetch import DataError

__all__ = ["say", "load_npz"]


def say(msg: str) -> None:
    """Print a loader's one-line report (where the data came from, how much) to the notebook."""
    print(msg, file=sys.stdout)


def load_npz(path: Path, keys=("x_train", "y_train", "x_test", "y_test")):
    """The arrays ``keys`` of the ``.npz`` at ``path``, in that order; a missing one is a :class:`DataError`."""
    import numpy as np

    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in keys if k not in f]
        if missing:
            raise DataError(f"{path} lacks arrays {missing}; delete it and fetch it again")
        return [f[k] for k in keys]
