"""cvhelpers: the small helper package behind the *Deep Learning for Computer Vision* notebooks.

Modules are imported on demand so that ``import cvhelpers`` (and the ``cvhelpers`` command)
stay fast: nothing here imports TensorFlow until a function needs it.

>>> import cvhelpers
>>> cvhelpers.__version__ >= "0.1"
True
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
