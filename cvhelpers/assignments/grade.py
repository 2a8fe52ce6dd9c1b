"""The teacher's side, part 2: grading a folder of submissions into one CSV row per file.

``cvhelpers grade NN FOLDER -o scores.csv`` calls :func:`grade_folder`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from cvhelpers.assignments.build import autograder_meta, build, child_env, repo_root, resolve

def find_autograder(assignment: str, autograder_dir=None, src_dir=None, build_missing: bool = True) -> Path:
    """The autograder zip of an assignment (in ``dist/assignments/autograder`` unless told), built
    from its source when missing."""
    ag_dir = Path(autograder_dir) if autograder_dir else repo_root() / "dist" / "assignments" / "autograder"
    key = str(assignment).strip().removesuffix(".zip")
    for z in sorted(ag_dir.glob("[0-9][0-9]_*.zip")):
        if key == z.stem or (key.isdigit() and int(key) == int(z.stem[:2])):
            return z
    try:
        src = resolve(assignment, src_dir)
    except ValueError as exc:
        raise ValueError(f"{exc}; no autograder zip for it in {ag_dir} either") from None
    if not build_missing:
        raise ValueError(f"no autograder for {src.stem} in {ag_dir}: run `make assignments`")
    print(f"{src.stem}: no autograder yet, building it (`make assignments` builds them all)", file=sys.stderr)
    return Path(build([src.stem], src_dir=src.parent, out_dir=ag_dir.parent, quiet=True)[0]["autograder"])


def submissions(folder) -> tuple[list[Path], list[Path]]:
    """``(notebooks, ignored)``: the ``.ipynb`` files of a folder, and its other files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of submissions")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    nbs = [p for p in files if p.suffix.lower() == ".ipynb"]
    return nbs, [p for p in files if p not in nbs]


def grade_folder(assignment: str, folder, output=None, jobs: int = 2, timeout: float = 600,
                 progress: bool = True, autograder_dir=None, src_dir=None) -> list[dict]:
    """Grade every ``.ipynb`` in ``folder``; write a CSV to ``output`` (if given); return the rows.

    Each submission runs in its own process group with a time limit of ``timeout`` seconds and
    its kernel inherits this environment (``CVHELPERS_FAST``, ``CVHELPERS_DATA_DIR``...). A
    submission that is not a notebook, times out or kills its kernel scores 0 with the reason in
    the ``problem`` column; the others are still graded.
    """
    nbs, ignored = submissions(folder)
    if not nbs:
        raise ValueError(f"no .ipynb files in {folder}")
    ag = find_autograder(assignment, autograder_dir, src_dir)
    meta = autograder_meta(ag)
    if ignored:
        print(f"ignored {len(ignored)} file(s) that are not .ipynb: {', '.join(p.name for p in ignored)}", file=sys.stderr)
    rows = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(nbs), desc=f"grading {meta['assignment']}", unit="notebook", file=sys.stderr)
    with ThreadPoolExecutor(max(1, int(jobs))) as pool:
        futures = {pool.submit(grade_one, p, ag, timeout): p for p in nbs}
        for f in as_completed(futures):
            rows[futures[f]] = _row(futures[f], f.result(), meta)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    ordered = [rows[p] for p in nbs]
    if output is not None:
        write_csv(ordered, meta, output)
    return ordered


def _columns(meta) -> list[str]:
    qs = meta["questions"]
    return (["file"] + [q["name"] for q in qs if not q["manual"]]
            + [f"{q['name']} (manual)" for q in qs if q["manual"]] + ["total", "possible", "problem", "errors", "seconds"])


def _row(path: Path, result: dict, meta: dict) -> dict:
    qs = meta["questions"]
    possible = sum(q["points"] for q in qs if not q["manual"])
    scores = result.get("scores") or {}
    row = {"file": path.name}
    for q in qs:
        if q["manual"]:
            row[f"{q['name']} (manual)"] = ""
        else:
            row[q["name"]] = _num(scores.get(q["name"], 0))
    row["total"] = _num(sum(row[q["name"]] for q in qs if not q["manual"]))
    row["possible"] = _num(possible)
    row["problem"] = result.get("problem", "")
    row["errors"] = len(result.get("errors", []))  # cells that raised while the submission ran
    row["seconds"] = round(result.get("seconds", 0.0), 1)
    return row


def _num(x):
    return int(x) if float(x).is_integer() else round(float(x), 3)


def write_csv(rows: list[dict], meta: dict, output) -> Path:
    """Write the grade table (written to a temporary file, then renamed: never half written)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=_columns(meta), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, output)
    return output


def grade_one(path, autograder, timeout: float = 600) -> dict:
    """Grade one submission in a child process (own process group, killed after ``timeout`` s).

    Returns ``{"scores": {q: points}, "problem": str, "errors": [str], "seconds": float,
    "cpu_seconds": float}`` (``errors``: the cells that raised; ``cpu_seconds``: CPU time used by
    the grading process and its kernel, a measure that does not depend on the machine's load).
    """
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cvhelpers-grade-") as tmp:
        result_file, log_file = Path(tmp, "result.json"), Path(tmp, "stderr.txt")
        cmd = [sys.executable, "-m", "cvhelpers.assignments.grade", "grade-one", str(Path(path).resolve()),
               str(Path(autograder).resolve()), str(result_file)]
        with open(log_file, "w") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=tmp, env=child_env(), start_new_session=True)
            try:
                proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_tree(proc)
        seconds = time.monotonic() - t0
        if timed_out:
            return {"scores": {}, "problem": f"timed out after {timeout:g} s", "seconds": seconds}
        if result_file.is_file():
            result = json.loads(result_file.read_text())
            result["seconds"] = seconds
            return result
        lines = [l for l in log_file.read_text(errors="replace").splitlines() if l.strip()]
        return {"scores": {}, "seconds": seconds,
                "problem": f"grader failed (exit {proc.returncode}): {lines[-1] if lines else 'no output'}"}


def _kill_tree(proc: subprocess.Popen):
    """Kill a child, its process group and every descendant (a kernel runs in its own group)."""
    try:
        import psutil
        kids = psutil.Process(proc.pid).children(recursive=True)
    except Exception:  # psutil missing, or the process is gone already
        kids = []
    for pid in [proc.pid] + [k.pid for k in kids]:
        for kill in (lambda p: os.killpg(p, signal.SIGKILL), lambda p: os.kill(p, signal.SIGKILL)):
            try:
                kill(pid)
            except (ProcessLookupError, PermissionError, OSError):
                pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _grade_in_this_process(path: str, autograder: str) -> dict:
    """What the child of :func:`grade_one` does: check the file is a notebook, then run otter."""
    import nbformat
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # any unreadable file: JSON errors, wrong schema, binary...
        why = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        return {"scores": {}, "problem": f"not a notebook ({why})"}
    if not any(c.cell_type == "code" for c in nb.cells):
        return {"scores": {}, "problem": "no code cells"}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory(prefix="cvhelpers-submission-") as tmp:
        sub = Path(tmp, "submission.ipynb")
        nbformat.write(nb, str(sub))
        import otter.api
        try:
            results = otter.api.grade_submission(str(sub), autograder, quiet=True)
        except Exception as exc:
            name = type(exc).__name__
            if name == "DeadKernelError" or "kernel died" in str(exc).lower():
                return {"scores": {}, "problem": "kernel died"}
            return {"scores": {}, "problem": f"{name}: {str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ''}"}
    if results.catastrophic_error is not None:
        return {"scores": {}, "problem": f"grading failed: {results.catastrophic_error}"[:160]}
    executed, errors = getattr(results, "notebook", None), []   # cells that raised, for the CSV
    for cell in executed.cells if executed is not None else []:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"{out.get('ename', '')}: {str(out.get('evalue', ''))[:100]}")
    return {"scores": {t: results.get_score(t) for t in results.test_files}, "problem": "", "errors": errors}


def _main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 4 and argv[0] == "grade-one":
        _, path, autograder, out = argv
        result = _grade_in_this_process(path, autograder)
        import resource
        used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        result["cpu_seconds"] = sum(u.ru_utime + u.ru_stime for u in used)  # the kernel included
        Path(out).write_text(json.dumps(result))
        return 0
    print("usage: python -m cvhelpers.assignments.grade grade-one NOTEBOOK AUTOGRADER.zip RESULT.json "
          "(internal; use `cvhelpers grade` or `make assignments`)", file=sys.stderr)
    return 2



if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
