"""HODA's ``.cdb`` reader under its old import path; it lives in :mod:`cvhelpers.datasets.hoda`
with the HODA loaders (``load_hoda``, ``hoda_npz``, ``load_hoda_mnist_format``).

>>> from cvhelpers import hoda
>>> hoda.SIZE
32
"""

from .datasets.hoda import SIZE, Cdb, CdbFormatError, read_cdb, to_32x32

__all__ = ["CdbFormatError", "Cdb", "read_cdb", "to_32x32", "SIZE"]
