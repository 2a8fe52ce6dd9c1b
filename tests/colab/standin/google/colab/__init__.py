"""Stand-in for Google Colab's ``google.colab`` package (tests only: `make colab-check`).

Colab imports ``google.colab`` before the first cell runs, so ``"google.colab" in sys.modules`` is
True in every Colab kernel; the course's setup cells and :func:`cvhelpers.env.in_colab` rely on it.
Only what the course calls is here. No ``google/__init__.py``: ``google`` stays a namespace package,
so ``google.protobuf`` (TensorFlow's) still imports.
"""

from google.colab import output  # noqa: F401  (Colab's own package imports it too)

__all__ = ["output"]
