"""The grader's side of the wall: the channel to the sandbox and stand-ins for the submission's objects.

:class:`Channel` sends requests to :mod:`cvhelpers.assignments.runner` and reads its answers, as plain
data only (:mod:`cvhelpers.assignments.wire`). :class:`Remote` stands for an object that stays in the
submission's process: attribute access, items, calls, ``len``, iteration, ``np.asarray``, ``float``,
``int``, ``bool`` and ``repr`` are forwarded and their results come back through the same filter;
Python and NumPy protocols that could read memory or change behaviour (``__array_interface__``,
``__array_ufunc__``, ``__eq__``...) are not. Used by :mod:`cvhelpers.assignments.judge`.
"""

from __future__ import annotations

import builtins
import importlib
import os
import re
import select
import time

from cvhelpers.assignments import wire

#: Modules a submission may name (``np`` in the test means the grader's own NumPy, never its object).
MODULES_ALLOWED = re.compile(r"^(numpy|scipy|math|keras|tensorflow|cvhelpers|collections|itertools|functools|"
                             r"statistics|numbers|random|re|string|contextlib|io)(\.[A-Za-z0-9_.]+)?$")
#: Classes a stand-in may claim to be an instance of, for ``isinstance`` in tests (Keras models...).
CLASSES_ALLOWED = re.compile(r"^(keras|tensorflow|numpy|cvhelpers)\.[A-Za-z0-9_.]+$")
#: The statement that marks a test case to be run inside the submission's process (a statement,
#: not a comment: otter-assign drops comments from tests).
IN_SUBMISSION = '_judge = "in submission"'
IN_SUBMISSION_RE = re.compile(r"""^>>> _judge = ['"]in submission['"]""", re.M)

class RemoteError(Exception):
    """The submission's code raised while the grader used it (message: its type and text)."""


#: Exceptions raised by the submission's code that keep their meaning on this side (``getattr(x,
#: "a", None)``, ``for`` loops, ``in``), as subclasses of both :class:`RemoteError` and the builtin.
_MAPPED = {name: type(f"Remote{name}", (RemoteError, getattr(builtins, name)), {})
           for name in ("AttributeError", "KeyError", "IndexError", "TypeError", "ValueError", "StopIteration",
                        "NotImplementedError", "ZeroDivisionError", "AssertionError", "NameError")}


class ChannelBroken(Exception):
    """The sandbox stopped answering: it exited, was killed, timed out or sent garbage."""


# --------------------------------------------------------------------------------------------
# the channel to the sandbox and the stand-ins
# --------------------------------------------------------------------------------------------

class Channel:
    def __init__(self, proc, rx_fd: int, tx_fd: int, deadline: float):
        self.proc, self.rx, self.tx, self.deadline = proc, rx_fd, tx_fd, deadline
        self.buf = b""
        self.next_id = 0
        self.proxies: dict[int, Remote] = {}
        self.cell = -1

    def send(self, message):
        data = wire.dumps(message)
        try:
            while data:
                n = os.write(self.tx, data[:1 << 20])
                data = data[n:]
        except OSError as exc:
            raise ChannelBroken(f"the submission's process stopped ({exc.strerror})") from None

    def receive(self):
        while b"\n" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise ChannelBroken("timed out")
            ready, _, _ = select.select([self.rx], [], [], min(left, 5.0))
            if not ready:
                continue
            chunk = os.read(self.rx, 1 << 20)
            if not chunk:
                raise ChannelBroken("the submission's process ended")
            self.buf += chunk
            if len(self.buf) > wire.MAX_MESSAGE:
                raise ChannelBroken("the submission sent more than the grader reads")
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            return wire.loads(line)
        except wire.WireError as exc:
            raise ChannelBroken(f"the submission broke the channel: {exc}") from None

    def request(self, op: str, **fields):
        self.next_id += 1
        rid = self.next_id
        self.send({"id": rid, "op": op, **fields})
        reply = self.receive()
        if type(reply) is not dict or reply.get("id") != rid:
            raise ChannelBroken("the submission broke the channel: an answer out of turn")
        if "error" in reply:
            err = reply["error"] if type(reply["error"]) is dict else {}
            kind = str(err.get("type", "Error"))[:80]
            raise _MAPPED.get(kind, RemoteError)(f"{kind}: {str(err.get('message', ''))[:2000]}")
        try:
            return wire.decode(reply.get("ok"), self)
        except wire.WireError as exc:
            raise ChannelBroken(f"the submission answered with something that is not plain data: {exc}") from None

    # the maker that wire.decode uses
    def ref(self, n: int, info: dict):
        p = self.proxies.get(n)
        if p is None:
            p = self.proxies[n] = Remote(self, n, info)
        return p

    def module(self, name: str):
        if not MODULES_ALLOWED.match(name):
            raise RemoteError(f"ImportError: the tests cannot use the submission's module {name!r}")
        return importlib.import_module(name)

    # the encoder's registry on this side: stand-ins go back as references, nothing else
    def encode(self, x):
        return wire.encode(x, _Back(self))


class _Back:
    def __init__(self, ch):
        self.ch = ch

    def ref(self, x):
        if type(x) is Remote and object.__getattribute__(x, "_ch") is self.ch:
            return {"$ref": object.__getattribute__(x, "_n")}
        raise RemoteError(f"TypeError: a {type(x).__name__} cannot be sent to the submission's code "
                          "(only plain data or the submission's own objects); start this test with the "
                          f"statement {IN_SUBMISSION} in the assignment")


_FORWARDED_DUNDERS = {"__name__", "__qualname__"}


class Remote:
    """The grader's stand-in for an object that stays in the submission's process."""

    __slots__ = ("_ch", "_n", "_info")

    def __init__(self, ch, n, info):
        object.__setattr__(self, "_ch", ch)
        object.__setattr__(self, "_n", n)
        object.__setattr__(self, "_info", info)

    def _ask(self, op, **fields):
        return object.__getattribute__(self, "_ch").request(op, ref=object.__getattribute__(self, "_n"), **fields)

    def __getattr__(self, name):
        if name.startswith("__") and name not in _FORWARDED_DUNDERS:
            raise AttributeError(name)  # never let NumPy or Python protocols reach into the sandbox
        return self._ask("getattr", name=name)

    def __setattr__(self, name, value):
        ch = object.__getattribute__(self, "_ch")
        self._ask("setattr", name=name, args=[ch.encode(value)])

    def __call__(self, *args, **kwargs):
        ch = object.__getattribute__(self, "_ch")
        return self._ask("call", args=ch.encode(list(args)), kwargs=ch.encode(dict(kwargs)))

    def __getitem__(self, key):
        ch = object.__getattribute__(self, "_ch")
        return self._ask("getitem", args=[ch.encode(key)])

    def __len__(self):
        n = self._ask("len")
        if type(n) is not int or n < 0:
            raise RemoteError("TypeError: len() of the submission's object is not a whole number")
        return n

    def __iter__(self):
        items = self._ask("iter")
        if type(items) is not list:
            raise RemoteError("TypeError: the submission's object did not give a list of elements")
        return iter(items)

    def __array__(self, dtype=None, copy=None):
        import numpy as np
        a = self._ask("array")
        if type(a) is not np.ndarray:
            a = np.asarray(a)
        return a.astype(dtype) if dtype is not None else a

    def _convert(self, kind, want):
        v = self._ask("convert", kind=kind)
        if type(v) is not want:
            raise RemoteError(f"TypeError: {kind}() of the submission's object is not a {want.__name__}")
        return v

    def __float__(self):
        return self._convert("float", float)

    def __int__(self):
        return self._convert("int", int)

    def __index__(self):
        return self._convert("index", int)

    def __bool__(self):
        return self._convert("bool", bool)

    def __repr__(self):
        try:
            return self._convert("repr", str)
        except (RemoteError, ChannelBroken):
            return f"<the submission's {object.__getattribute__(self, '_info').get('type', 'object')}>"

    def __str__(self):
        try:
            return self._convert("str", str)
        except (RemoteError, ChannelBroken):
            return repr(self)

    def __format__(self, spec):
        return format(str(self), spec) if spec else str(self)

    @property
    def __class__(self):
        """The class it is an instance of, when that is an allow-listed class (``keras.Model``)."""
        name = str(object.__getattribute__(self, "_info").get("type", ""))
        if CLASSES_ALLOWED.match(name):
            module, _, qual = name.rpartition(".")
            while module:
                try:
                    obj = importlib.import_module(module)
                    for part in qual.split("."):
                        obj = getattr(obj, part)
                    if isinstance(obj, type):
                        return obj
                    break
                except (ImportError, AttributeError):
                    module, _, head = module.rpartition(".")
                    qual = f"{head}.{qual}"
        return _stand_in_class(name)


_CLASSES: dict[str, type] = {}


def _stand_in_class(name: str) -> type:
    """A class named like the submission's (``type(x).__name__`` reads right); nothing is an instance."""
    if name not in _CLASSES:
        module, _, qual = name.rpartition(".")
        _CLASSES[name] = builtins.type(qual.rpartition(".")[2] or "object", (), {"__module__": module or "?",
                                                                           "__qualname__": qual or "object"})
    return _CLASSES[name]


def stand_in_type(*args):
    """``type`` for tests: the class a stand-in stands for (``type(layer).__name__ == "Conv2D"``)."""
    if len(args) == 1 and builtins.type(args[0]) is Remote:
        return args[0].__class__
    return builtins.type(*args)


