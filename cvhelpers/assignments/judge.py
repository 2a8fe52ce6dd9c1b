"""Grading one submission with its answers judged outside the student's process.

``python -m cvhelpers.assignments.judge`` (started by :func:`cvhelpers.assignments.grade.grade_one`,
one per submission) does this:

1. reads the notebook (``nbformat``; the grader never executes it here) and the autograder's tests
   (read from the zip into memory: the hidden tests are never written anywhere);
2. starts :mod:`cvhelpers.assignments.runner` in the sandbox (:mod:`cvhelpers.assignments.sandbox`)
   and sends it the notebook's code cells; it runs them all, then waits for requests;
3. runs every test — public and hidden — **here**, with this process's own NumPy, doctest and
   Keras, against stand-ins for the names the tests use: plain data is copied out of the sandbox
   (:mod:`cvhelpers.assignments.wire`); a function or model stays in the sandbox, and calling it
   sends plain arguments in and brings a plain result (or another stand-in) back;
4. writes the scores, never above a question's points, and why points were lost, as JSON.

Whatever the submission patches in its own process (``np.allclose``, ``doctest``, ``pickle``,
``atexit``, the grader's classes) stays there; an object that lies about itself (``__eq__`` always
true, an ``ndarray`` subclass) does not cross. A test case that starts with the statement
``_judge = "in submission"`` runs inside the submission's process instead (for tests that need to hand
the student's function an object the sandbox cannot receive); its verdict could be forged, and the
result lists it under ``in_submission``.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

from cvhelpers.assignments import sandbox
from cvhelpers.assignments.remote import IN_SUBMISSION_RE, Channel, ChannelBroken, stand_in_type

OUTPUT_LIMIT = 2 * 2**20


# --------------------------------------------------------------------------------------------
# tests: otter's OK format, read without executing the file
# --------------------------------------------------------------------------------------------

def read_tests(zip_path) -> dict[str, dict]:
    """``{question: test dict}`` from the autograder's ``tests/*.py`` (parsed, never executed)."""
    tests = {}
    with zipfile.ZipFile(zip_path) as z:
        for name in sorted(z.namelist()):
            if not (name.startswith("tests/") and name.endswith(".py")):
                continue
            tree = ast.parse(z.read(name).decode("utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["test"]:
                    t = ast.literal_eval(node.value)
                    tests[str(t["name"])] = t
    return tests


def cases(test: dict) -> list[dict]:
    return [c for suite in test.get("suites", []) for c in suite.get("cases", [])]


def names_used(code: str) -> set[str]:
    """Every global name the doctest ``code`` could read (nested functions and comprehensions too),
    and the strings in it that could name one (``globals()["answer"]``)."""
    out = set()
    for ex in doctest.DocTestParser().get_examples(code):
        try:
            co = compile(ex.source, "<test>", "single")
        except SyntaxError:
            continue
        stack = [co]
        while stack:
            c = stack.pop()
            out.update(c.co_names)
            stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
            out.update(k for k in c.co_consts if type(k) is str and k.isidentifier())  # globals()["name"]
    return {n for n in out if not hasattr(builtins, n)}


def names_assigned(code: str) -> set[str]:
    """The names the doctest ``code`` binds itself (assignments, imports, loops, ``def``...)."""
    out = set()
    for ex in doctest.DocTestParser().get_examples(code):
        try:
            tree = ast.parse(ex.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                out.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.add(node.name)
            elif isinstance(node, ast.alias):
                out.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, ast.ExceptHandler) and node.name:
                out.add(node.name)
    return out


# --------------------------------------------------------------------------------------------
# one submission
# --------------------------------------------------------------------------------------------

def _drain(stream, keep: list, limit: int, flags: dict):
    total = 0
    while True:
        chunk = stream.read(65536)
        if not chunk:
            return
        total += len(chunk)
        if total <= limit:
            keep.append(chunk)
        else:
            flags["output_truncated"] = total


def _run_case(ch, globs: dict, code: str, name: str) -> tuple[bool, str]:
    """One doctest case here, in this process, against the stand-ins in ``globs``."""
    test = doctest.DocTestParser().get_doctest(code, globs, name, None, 0)
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=out.write, clear_globs=False)
    return result.failed == 0, _reason(out.getvalue())


def _reason(log: str) -> str:
    """The one line that says why a doctest failed: the assertion's message, else the last error line."""
    lines = [l.strip() for l in log.splitlines() if l.strip()]
    for l in reversed(lines):
        if re.match(r"^[A-Za-z_.]*(Error|Exception|Broken|Exit)\b", l) or l.startswith("AssertionError"):
            return l[:300]
    return (lines[-1] if lines else "")[:300]


def judge(notebook: str, autograder: str, timeout: float = 600, use_sandbox: bool = True,
          memory: int | None = 4 * 2**30) -> dict:
    """Grade one notebook; see the module docstring. Returns the result dict (JSON-ready)."""
    import nbformat
    t0 = time.monotonic()
    deadline = t0 + timeout
    result = {"scores": {}, "problem": "", "errors": [], "failed": [], "in_submission": [], "stopped": []}
    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - any unreadable file: JSON errors, wrong schema, binary...
        why = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        result["problem"] = f"not a notebook ({why})"
        return result
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    if not cells:
        result["problem"] = "no code cells"
        return result
    with zipfile.ZipFile(autograder) as z:
        meta = json.loads(z.read("cvhelpers.json"))
    tests = read_tests(autograder)
    questions = [q for q in meta["questions"] if not q["manual"]]

    argv = [sys.executable, "-m", "cvhelpers.assignments.runner"]
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    env = sandbox.environment()
    env["CVHELPERS_WIRE"] = f"{to_child_r},{from_child_w}"
    limit = None
    if use_sandbox:
        cmd = sandbox.command(argv, memory=memory, env=env)
        limit = sandbox.ProcessLimit()
        if not limit.enforced:
            result["stopped"].append("process limit not enforced (root without a cgroup)")
    else:
        cmd, env = argv, {**os.environ, **env}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            pass_fds=(to_child_r, from_child_w), env=None if use_sandbox else env,
                            preexec_fn=limit.enter if limit is not None else None)
    os.close(to_child_r)
    os.close(from_child_w)
    output, flags = [], {}
    drain = threading.Thread(target=_drain, args=(proc.stdout, output, OUTPUT_LIMIT, flags), daemon=True)
    drain.start()
    ch = Channel(proc, from_child_r, to_child_w, deadline)
    broken = ""
    try:
        ch.send({"cells": cells})
        while True:
            msg = ch.receive()
            if type(msg) is dict and msg.get("op") == "cell" and type(msg.get("n")) is int:
                ch.cell = msg["n"]
            elif type(msg) is dict and msg.get("op") == "ready":
                errs = msg.get("errors")
                result["errors"] = [str(e)[:200] for e in errs][:100] if type(errs) is list else []
                if type(msg.get("cpu")) in (int, float) and 0 <= msg["cpu"] < 1e7:
                    result["submission_cpu_seconds"] = float(msg["cpu"])
                break
            else:
                raise ChannelBroken("the submission broke the channel while its cells ran")
    except ChannelBroken as exc:
        what = f"timed out after {timeout:g} s" if str(exc) == "timed out" else str(exc)
        broken = f"{what} while running cell {ch.cell + 1} of {len(cells)}"
    missing = set()
    for q in questions:
        name, points = q["name"], float(q["points"])
        test = tests.get(name)
        if test is None:
            result["problem"] = (result["problem"] + "; " if result["problem"] else "") + f"{name}: no tests in the autograder"
            result["scores"][name] = 0.0
            continue
        if float(test.get("points", points) or points) != points:
            result["problem"] = (result["problem"] + "; " if result["problem"] else "") + \
                f"{name}: the autograder's tests claim {test.get('points')} points, the assignment gives {points:g}"
        qcases = cases(test)
        passed = []
        if broken:
            passed = [False] * len(qcases)
            result["failed"].append({"question": name, "test": "all", "hidden": None, "reason": broken})
        else:
            used = set().union(*(names_used(c["code"]) for c in qcases)) if qcases else set()
            own = set().union(*(names_assigned(c["code"]) for c in qcases)) if qcases else set()
            globs = {"__name__": "__main__", "type": stand_in_type}
            try:
                values = ch.request("names", names=sorted(used))
                if type(values) is dict:
                    globs.update({k: v for k, v in values.items() if type(k) is str})
                for i, c in enumerate(qcases):
                    label = f"{'hidden' if c.get('hidden') else 'public'} test {i + 1}"
                    if IN_SUBMISSION_RE.search(c["code"]):
                        r = ch.request("doctest", code=c["code"], name=f"{name} {label}")
                        ok = type(r) is dict and r.get("passed") is True
                        reason = "" if ok else _reason(str(r.get("log", "")) if type(r) is dict else "")
                        result["in_submission"].append(f"{name} {label}")
                    else:
                        ok, reason = _run_case(ch, globs, c["code"], f"{name} {label}")
                    passed.append(ok)
                    if not ok:
                        undefined = sorted(n for n in names_used(c["code"]) - set(values or {}) - own
                                           if re.search(rf"NameError: name '{re.escape(n)}' is not defined", reason))
                        missing.update(f"{name}: {n}" for n in undefined)
                        result["failed"].append({"question": name, "test": label, "hidden": bool(c.get("hidden")),
                                                 "reason": reason})
            except ChannelBroken as exc:
                what = f"timed out after {timeout:g} s" if str(exc) == "timed out" else str(exc)
                broken = f"{what} while grading {name}"
                passed += [False] * (len(qcases) - len(passed))
                result["failed"].append({"question": name, "test": "rest", "hidden": None, "reason": broken})
        if not qcases:
            score = 0.0
        elif test.get("all_or_nothing", True):
            score = points if all(passed) else 0.0
        else:
            score = points * sum(passed) / len(qcases)
        result["scores"][name] = max(0.0, min(points, score))
    if missing:
        result["problem"] = "; ".join(filter(None, [result["problem"], "not defined: " + ", ".join(sorted(missing))]))
    if broken:
        result["problem"] = "; ".join(filter(None, [result["problem"], broken]))
        if "timed out" in broken:
            result["stopped"].append(f"time limit ({timeout:g} s)")
    proc.kill()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    drain.join(timeout=5)
    for fd in (from_child_r, to_child_w):
        try:
            os.close(fd)
        except OSError:
            pass
    if limit is not None:
        limit.close()
    if "output_truncated" in flags:
        result["stopped"].append(f"output limit ({OUTPUT_LIMIT // 2**20} MB of {flags['output_truncated'] / 2**20:.0f} MB kept)")
    if any("MemoryError" in e for e in result["errors"]):
        result["stopped"].append(f"memory limit ({memory / 2**30:g} GB)" if memory else "memory")
    if any("Resource temporarily unavailable" in e or "BlockingIOError" in e for e in result["errors"]):
        result["stopped"].append("process limit")
    result["output"] = b"".join(output).decode("utf-8", "replace")[-20000:]
    result["sandbox"] = bool(use_sandbox)
    return result


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m cvhelpers.assignments.judge",
                                 description="grade one submission (internal; use `cvhelpers grade`)")
    ap.add_argument("notebook")
    ap.add_argument("autograder")
    ap.add_argument("result")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--memory", type=float, default=4 * 2**30)
    ap.add_argument("--no-sandbox", action="store_true")
    a = ap.parse_args(argv)
    res = judge(a.notebook, a.autograder, a.timeout, not a.no_sandbox, int(a.memory) or None)
    import resource
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    # the judge's own CPU time, plus what the submission's process reported when its cells had run
    # (the sandbox is killed, not waited for, so its time is not in RUSAGE_CHILDREN)
    res["cpu_seconds"] = sum(u.ru_utime + u.ru_stime for u in used) + (res.get("submission_cpu_seconds", 0.0)
                                                                       if not a.no_sandbox else 0.0)
    tmp = Path(a.result + ".tmp")
    tmp.write_text(json.dumps(res))
    os.replace(tmp, a.result)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
