"""The course's data under the names the notebooks use: a facade over the fetch engine and the datasets.

Nothing is defined here. The pieces live in:

* :mod:`cvhelpers.fetch`: the registry (``REGISTRY``, ``WEIGHTS``), the data folder, cache,
  mirrors and offline mode, ``fetch``/``find``/``verify``/``status``, the profile plan;
* :mod:`cvhelpers.datasets`: one module per dataset (``mnist``, ``hoda``, ``cats_vs_dogs``,
  ``oxford_pets``) with its loaders and subset builders;
* :mod:`cvhelpers.backbones`: the pretrained models and their ImageNet weights (``pretrained``).

Where files are looked for: ``CVHELPERS_DATA_DIR`` (read-only), then the cache
(``CVHELPERS_CACHE_DIR``); what is missing comes from the mirrors (``CVHELPERS_MIRROR``), then the
official URL; ``CVHELPERS_OFFLINE=1`` never touches the network. See :mod:`cvhelpers.fetch.places`
and :mod:`cvhelpers.fetch.sources`.

>>> from cvhelpers import data
>>> sorted(data.REGISTRY)[:3]
['cats_vs_dogs', 'cats_vs_dogs_small', 'fashion_mnist']
"""

from __future__ import annotations

from .backbones import pretrained, weights_path
from .datasets.cats_vs_dogs import build_cats_vs_dogs_subset, cats_vs_dogs, describe_cats_vs_dogs
from .datasets.hoda import hoda_npz, load_hoda
from .datasets.mnist import FASHION_CLASSES, load_fashion_mnist, load_mnist
from .datasets.oxford_pets import build_pets_subset, oxford_pets, pets_subset_names
from .fetch import (OPTIONAL, PROFILE_DATA, REGISTRY, WEIGHTS, Artifact, ChecksumError, DataError, Dataset,
                    PlannedFile, cache_dir, data_dir, display_path, fetch, fetch_profile, find, mirrors, offline,
                    profile_plan, status, verified_how, verify)

__all__ = [
    "Artifact", "Dataset", "REGISTRY", "WEIGHTS", "DataError", "ChecksumError",
    "data_dir", "cache_dir", "display_path", "mirrors", "offline", "find", "fetch", "verify", "status",
    "load_mnist", "load_fashion_mnist", "FASHION_CLASSES", "load_hoda", "hoda_npz",
    "cats_vs_dogs", "describe_cats_vs_dogs", "build_cats_vs_dogs_subset",
    "oxford_pets", "pets_subset_names", "build_pets_subset",
    "PROFILE_DATA", "OPTIONAL", "PlannedFile", "profile_plan", "fetch_profile", "verified_how",
    "weights_path", "pretrained",
]
