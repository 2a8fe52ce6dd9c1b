"""Plain data across the sandbox wall: what a submission's answers may be when the grader sees them.

The grader never unpickles or imports anything a submission sends. Values cross as JSON lines with
these types only, checked by exact type (never ``isinstance``: a subclass of ``ndarray``, ``tuple``
or ``float`` with its own ``__eq__`` or ``__array_ufunc__`` does not pass as one):

- ``None``, ``bool``, ``int``, ``float`` (``nan``/``inf`` included), ``str``;
- ``list``, ``tuple``, ``dict`` of those;
- NumPy arrays and scalars of a bool, integer, float, complex, bytes or unicode dtype, as ``.npy``
  bytes read back with ``allow_pickle=False``;
- a **reference** ``{"$ref": n}`` to any other object, which stays in the submission's process: the
  grader can only ask it for an attribute, an item, a call's result, its length, its elements or
  its value as an array (:mod:`cvhelpers.assignments.judge`), and every answer comes back through
  this same filter;
- a **module** ``{"$mod": "numpy"}``: the grader uses its own import of an allow-listed module.

>>> import numpy as np
>>> decode(json.loads(json.dumps(encode({"a": (1, 2.5, None), "b": np.arange(3)}, None))))["a"]
(1, 2.5, None)
>>> class Liar(np.ndarray):
...     def __eq__(self, other): return True
>>> encode(np.zeros(2).view(Liar), None)
Traceback (most recent call last):
...
cvhelpers.assignments.wire.NotPlain: Liar
"""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np

#: The largest message (bytes of one JSON line) either side accepts.
MAX_MESSAGE = 512 * 2**20
_KINDS = "biufcSU"  # bool, int, unsigned, float, complex, bytes, unicode: never object ("O") or void


class NotPlain(TypeError):
    """A value that cannot cross as plain data (and no reference registry was given)."""


class WireError(ValueError):
    """A message that is not valid plain data: a broken or hostile sender."""


def _array_bytes(a: np.ndarray) -> str:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def encode(x, refs, depth: int = 0):
    """``x`` as JSON-ready plain data; objects that are not plain become ``refs.ref(x)``.

    ``refs`` is a :class:`Refs` (the submission's side) or ``None`` (raise :class:`NotPlain`).
    """
    if depth > 50:
        raise NotPlain("nested deeper than 50 levels")
    t = type(x)
    if x is None or t is bool or t is int or t is str:
        return x
    if t is float:
        return x if math.isfinite(x) else {"$float": repr(x)}
    if t is list:
        return [encode(v, refs, depth + 1) for v in x]
    if t is tuple:
        return {"$tuple": [encode(v, refs, depth + 1) for v in x]}
    if t is dict:
        return {"$dict": [[encode(k, refs, depth + 1), encode(v, refs, depth + 1)] for k, v in x.items()]}
    if t is np.ndarray and x.dtype.kind in _KINDS:
        return {"$npy": _array_bytes(x)}
    if isinstance(x, np.generic) and t.__module__ == "numpy" and np.dtype(t).kind in _KINDS:
        return {"$npscalar": _array_bytes(np.asarray(x))}
    mod = getattr(x, "__name__", None) if t.__name__ == "module" and t.__module__ == "builtins" else None
    if isinstance(mod, str):
        return {"$mod": mod}
    if t.__module__ == "tensorflow.python.framework.tensor_shape" and t.__name__ == "TensorShape":
        try:
            return {"$tuple": [encode(d, refs, depth + 1) for d in x.as_list()]}
        except ValueError:  # unknown rank
            pass
    if refs is None:
        raise NotPlain(t.__name__)
    return refs.ref(x)


def decode(x, maker=None, depth: int = 0):
    """The inverse of :func:`encode`. ``maker.ref(n, info)`` gives the object for a reference (the
    grader: a stand-in; the submission: its own object) and ``maker.module(name)`` a module."""
    if depth > 50:
        raise WireError("nested deeper than 50 levels")
    t = type(x)
    if x is None or t in (bool, int, float, str):
        return x
    if t is list:
        return [decode(v, maker, depth + 1) for v in x]
    if t is not dict or len(x) < 1:
        raise WireError(f"unexpected {t.__name__}")
    (key, val), *rest = x.items()
    if key == "$float" and val in ("nan", "inf", "-inf"):
        return float(val)
    if key == "$tuple" and type(val) is list:
        return tuple(decode(v, maker, depth + 1) for v in val)
    if key == "$dict" and type(val) is list:
        out = {}
        for pair in val:
            if type(pair) is not list or len(pair) != 2:
                raise WireError("bad dict entry")
            k = decode(pair[0], maker, depth + 1)
            try:
                out[k] = decode(pair[1], maker, depth + 1)
            except TypeError as exc:  # an unhashable key
                raise WireError(f"bad dict key: {exc}") from None
        return out
    if key in ("$npy", "$npscalar") and type(val) is str:
        try:
            a = np.load(io.BytesIO(base64.b64decode(val, validate=True)), allow_pickle=False)
        except Exception as exc:
            raise WireError(f"bad array: {exc}") from None
        if type(a) is not np.ndarray or a.dtype.kind not in _KINDS:
            raise WireError("bad array dtype")
        return a[()] if key == "$npscalar" else a
    if key == "$mod" and type(val) is str:
        if maker is None:
            raise WireError("a module where plain data was expected")
        return maker.module(val)
    if key == "$ref" and type(val) is int and maker is not None:
        info = rest[0][1] if rest and rest[0][0] == "info" and type(rest[0][1]) is dict else {}
        return maker.ref(val, info)
    raise WireError(f"unexpected {key!r}")


class Refs:
    """The submission's side: objects the grader holds references to, by number (kept alive)."""

    def __init__(self):
        self.objects: dict[int, object] = {}
        self._ids: dict[int, int] = {}

    def ref(self, x) -> dict:
        n = self._ids.get(id(x))
        if n is None or self.objects.get(n) is not x:
            n = len(self.objects) + 1
            self.objects[n] = x
            self._ids[id(x)] = n
        t = type(x)
        return {"$ref": n, "info": {"type": f"{t.__module__}.{t.__qualname__}", "callable": callable(x)}}

    def get(self, n):
        if type(n) is not int or n not in self.objects:
            raise KeyError(f"no object #{n}")
        return self.objects[n]


def dumps(message) -> bytes:
    """One message as one JSON line (``allow_nan`` off: floats are finite or ``$float``)."""
    return json.dumps(message, allow_nan=False, separators=(",", ":")).encode() + b"\n"


def loads(line: bytes):
    if len(line) > MAX_MESSAGE:
        raise WireError(f"message of {len(line)} bytes, more than {MAX_MESSAGE}")
    try:
        return json.loads(line)
    except ValueError as exc:
        raise WireError(f"not JSON: {exc}") from None
