"""The submission's side of grading: runs inside the sandbox, as ``python -m cvhelpers.assignments.runner``.

It executes the notebook's code cells in one IPython shell (magics work, errors do not stop the
run), then answers the grader's requests over two pipes (file descriptors in ``CVHELPERS_WIRE``):
the values of names, and attributes, items, calls, lengths, elements and array values of objects
it holds (:mod:`cvhelpers.assignments.wire`). No test, hidden or public, is ever sent here, except
the cases an assignment marks ``_judge = "in submission"`` (their verdict can be forged by the
submission; the grader reports them as such).

Everything here runs in the same process as the student's code and can be changed by it: the
grader trusts none of it beyond "the submission answered this plain value".
"""

from __future__ import annotations

import builtins
import doctest
import io
import os
import sys
import time

import numpy as np

from cvhelpers.assignments import wire

#: Names IPython puts in the namespace; never answers.
_SHELL_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "_", "__", "___", "_oh", "_dh", "_ih", "_ii", "_iii"}


class _Maker:
    def __init__(self, refs):
        self.refs = refs

    def ref(self, n, info):
        return self.refs.get(n)

    def module(self, name):
        import importlib
        return importlib.import_module(name)


def _describe(exc: BaseException) -> dict:
    msg = str(exc)
    return {"type": type(exc).__name__, "message": msg[:2000]}


def _run_cells(shell, cells, tx) -> list[str]:
    errors = []
    for i, src in enumerate(cells):
        tx.write(wire.dumps({"op": "cell", "n": i}))
        tx.flush()
        try:
            res = shell.run_cell(src, store_history=True)
            exc = res.error_before_exec or res.error_in_exec
        except BaseException as e:  # noqa: BLE001 - the student's code may raise anything
            exc = e
        if exc is not None:
            errors.append(f"cell {i + 1}: {type(exc).__name__}: {str(exc)[:160]}")
    return errors


def _serve(shell, rx, tx):
    ns = shell.user_ns
    refs = wire.Refs()
    maker = _Maker(refs)
    for line in rx:
        try:
            req = wire.loads(line)
        except wire.WireError as exc:
            tx.write(wire.dumps({"id": None, "error": _describe(exc)}))
            tx.flush()
            continue
        rid, op = req.get("id"), req.get("op")
        try:
            if op == "names":
                out = {}
                for name in req["names"]:
                    if isinstance(name, str) and name in ns and name not in _SHELL_NAMES \
                            and not (name.startswith("_i") and name[2:].isdigit()):
                        out[name] = wire.encode(ns[name], refs)
                result = {"$dict": [[k, v] for k, v in out.items()]}
            elif op == "doctest":
                result = _doctest(ns, req["code"], req.get("name", "test"))
            else:
                obj = refs.get(req["ref"])
                args = wire.decode(req.get("args", []), maker)
                kwargs = wire.decode(req.get("kwargs", {"$dict": []}), maker)
                if op == "getattr":
                    value = getattr(obj, req["name"])
                elif op == "setattr":
                    setattr(obj, req["name"], args[0])
                    value = None
                elif op == "getitem":
                    value = obj[args[0]]
                elif op == "call":
                    value = obj(*args, **kwargs)
                elif op == "len":
                    value = int(len(obj))
                elif op == "iter":
                    value = []
                    for v in obj:
                        value.append(v)
                        if len(value) > 10**6:
                            raise ValueError("more than a million elements")
                elif op == "array":
                    value = np.array(obj)
                    if value.dtype.kind not in "biufcSU":
                        raise TypeError(f"not an array of numbers or text (dtype {value.dtype})")
                elif op == "convert":
                    kind = {"float": float, "int": int, "bool": bool, "index": lambda v: int(v.__index__()),
                            "repr": lambda v: repr(v)[:2000], "str": lambda v: str(v)[:2000]}[req["kind"]]
                    value = kind(obj)
                else:
                    raise ValueError(f"unknown request {op!r}")
                result = wire.encode(value, refs)
            reply = {"id": rid, "ok": result}
        except BaseException as exc:  # noqa: BLE001 - a student's function may raise anything
            reply = {"id": rid, "error": _describe(exc)}
        try:
            data = wire.dumps(reply)
        except (TypeError, ValueError) as exc:
            data = wire.dumps({"id": rid, "error": _describe(exc)})
        tx.write(data)
        tx.flush()


def _doctest(ns, code: str, name: str) -> dict:
    """A case marked ``_judge = "in submission"``: run here, in the student's namespace (forgeable)."""
    test = doctest.DocTestParser().get_doctest(code, ns, name, None, 0)
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=out.write, clear_globs=False)
    return {"$dict": [["passed", result.failed == 0], ["log", out.getvalue()[-4000:]]]}


def main() -> int:
    rfd, wfd = (int(v) for v in os.environ.pop("CVHELPERS_WIRE").split(","))
    rx, tx = os.fdopen(rfd, "rb"), os.fdopen(wfd, "wb")
    first = wire.loads(rx.readline())
    cells = first["cells"]
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    shell.user_ns["__name__"] = "__main__"
    t0 = time.monotonic()
    errors = _run_cells(shell, cells, tx)
    import resource
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in used)  # for the run log only: the submission could fake it
    tx.write(wire.dumps({"op": "ready", "errors": errors, "seconds": time.monotonic() - t0, "cpu": cpu}))
    tx.flush()
    sys.stdout.flush()
    _serve(shell, rx, tx)
    return 0


if __name__ == "__main__":  # pragma: no cover
    builtins.__dict__.pop("_", None)
    sys.exit(main())
