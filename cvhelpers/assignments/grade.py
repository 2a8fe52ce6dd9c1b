"""The teacher's side, part 2: grading a folder of submissions into one CSV row per file.

``cvhelpers grade NN FOLDER -o scores.csv`` calls :func:`grade_folder`. Each submission is graded
by its own :mod:`cvhelpers.assignments.judge` process: the notebook runs in a sandbox
(:mod:`cvhelpers.assignments.sandbox`), the tests run outside it. Next to the CSV go a run log
(``scores.log.jsonl``: per file its sha256, the autograder's sha256, the time, what the sandbox
stopped, the cells that raised) and, with ``explain=True``, ``scores.explain.csv`` (per file and
question, each failing test and why: to answer a student's complaint).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from cvhelpers.assignments import sandbox
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
    """``(notebooks, others)``: every file under ``folder``, subfolders included (an LMS export has one
    folder per student), hidden files and ``.ipynb_checkpoints`` left out; sorted by relative path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of submissions")
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        files += [Path(root, n) for n in names if not n.startswith(".")]
    files.sort(key=lambda p: p.relative_to(folder).as_posix())
    nbs = [p for p in files if p.suffix.lower() == ".ipynb"]
    return nbs, [p for p in files if p.suffix.lower() != ".ipynb"]


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_sandbox(no_sandbox: bool) -> None:
    """Refuse to grade unconfined unless the teacher said so."""
    why = sandbox.unavailable()
    if why and not no_sandbox:
        raise ValueError(f"{why}: submissions are untrusted code and run in a sandbox; {sandbox.INSTALL_HINT}")


def grade_folder(assignment: str, folder, output=None, jobs: int = 2, timeout: float = 600,
                 progress: bool = True, autograder_dir=None, src_dir=None, no_sandbox: bool = False,
                 memory: int | None = 4 * 2**30, explain: bool = False) -> list[dict]:
    """Grade every file under ``folder`` (subfolders too); write a CSV to ``output`` (if given).

    Every file gets a row, named by its path relative to ``folder``: a file that is not a notebook,
    times out, or breaks the grader scores 0 with the reason in the ``problem`` column. Returns the
    rows. ``no_sandbox`` runs submissions unconfined (refused otherwise when no sandbox can be made).
    """
    folder = Path(folder)
    nbs, others = submissions(folder)
    if not nbs and not others:
        raise ValueError(f"no files in {folder} (or its subfolders)")
    check_sandbox(no_sandbox)
    ag = find_autograder(assignment, autograder_dir, src_dir)
    meta = autograder_meta(ag)
    ag_sha = sha256(ag)
    files = sorted(nbs + others, key=lambda p: p.relative_to(folder).as_posix())
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(files), desc=f"grading {meta['assignment']}", unit="file", file=sys.stderr)
    results = {}
    with tempfile.TemporaryDirectory(prefix="cvhelpers-grading-") as work, ThreadPoolExecutor(max(1, int(jobs))) as pool:
        futures = {}
        for p in files:
            if p.suffix.lower() == ".ipynb":
                futures[pool.submit(grade_one, p, ag, timeout, no_sandbox, memory, work)] = p
            else:
                results[p] = {"scores": {}, "problem": "not a notebook (.ipynb)", "seconds": 0.0}
                if bar is not None:
                    bar.update()
        for f in as_completed(futures):
            results[futures[f]] = f.result()
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    rows = []
    for p in files:
        rel = p.relative_to(folder).as_posix()
        r = results[p]
        rows.append(_row(rel, r, meta, sha256(p), ag_sha))
    if output is not None:
        write_csv(rows, meta, output)
        _write_log(rows, files, results, meta, ag, output, no_sandbox)
        if explain:
            _write_explain(rows, files, results, output)
    return rows


def _columns(meta) -> list[str]:
    qs = meta["questions"]
    return (["file"] + [q["name"] for q in qs if not q["manual"]]
            + [f"{q['name']} (manual)" for q in qs if q["manual"]]
            + ["total", "possible", "problem", "errors", "seconds", "sha256", "autograder_sha256"])


def _row(rel: str, result: dict, meta: dict, file_sha: str, ag_sha: str) -> dict:
    qs = meta["questions"]
    possible = sum(q["points"] for q in qs if not q["manual"])
    scores = result.get("scores") or {}
    row = {"file": rel}
    problems = [result.get("problem", "")] if result.get("problem") else []
    for q in qs:
        if q["manual"]:
            row[f"{q['name']} (manual)"] = ""
            continue
        try:
            got = float(scores.get(q["name"], 0))
        except (TypeError, ValueError):
            got = 0.0
        if not 0 <= got <= q["points"]:  # never more than the question's points
            problems.append(f"{q['name']}: score {got:g} outside 0..{q['points']}, counted 0")
            got = 0.0
        row[q["name"]] = _num(got)
    row["total"] = _num(sum(row[q["name"]] for q in qs if not q["manual"]))
    row["possible"] = _num(possible)
    row["problem"] = "; ".join(problems)
    row["errors"] = len(result.get("errors", []))  # cells that raised while the submission ran
    row["seconds"] = round(result.get("seconds", 0.0), 1)
    row["sha256"], row["autograder_sha256"] = file_sha, ag_sha
    return row


def _num(x):
    return int(x) if float(x).is_integer() else round(float(x), 3)


def _atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_csv(rows: list[dict], meta: dict, output) -> Path:
    """Write the grade table (written to a temporary file, then renamed: never half written)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=_columns(meta), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return _atomic_write(Path(output), buf.getvalue())


def _side(output, suffix: str) -> Path:
    out = Path(output)
    return out.with_name(out.stem + suffix)


def _write_log(rows, files, results, meta, ag, output, no_sandbox):
    lines = []
    for row, p in zip(rows, files):
        r = results[p]
        lines.append(json.dumps({
            "file": row["file"], "sha256": row["sha256"], "autograder": Path(ag).name,
            "autograder_sha256": row["autograder_sha256"], "total": row["total"], "possible": row["possible"],
            "seconds": row["seconds"], "cpu_seconds": round(r.get("cpu_seconds", 0.0), 1),
            "sandbox": not no_sandbox, "stopped": r.get("stopped", []), "problem": row["problem"],
            "cells_raised": r.get("errors", []), "judged_in_submission": r.get("in_submission", []),
            "output_tail": r.get("output", "")[-2000:]}))
    return _atomic_write(_side(output, ".log.jsonl"), "\n".join(lines) + "\n")


def _write_explain(rows, files, results, output):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "question", "test", "reason"])
    for row, p in zip(rows, files):
        for f in results[p].get("failed", []):
            w.writerow([row["file"], f.get("question", ""), f.get("test", ""), f.get("reason", "")])
    return _atomic_write(_side(output, ".explain.csv"), buf.getvalue())


def grade_one(path, autograder, timeout: float = 600, no_sandbox: bool = False, memory: int | None = 4 * 2**30,
              workdir=None) -> dict:
    """Grade one submission in a :mod:`~cvhelpers.assignments.judge` process (killed after ``timeout`` s + 60).

    Returns ``{"scores": {q: points}, "problem": str, "errors": [str], "failed": [...], "stopped": [...],
    "seconds": float, "cpu_seconds": float}`` (``errors``: the cells that raised; ``failed``: each
    failing test and why; ``stopped``: what the sandbox stopped).
    """
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="judge-", dir=workdir)
    try:
        result_file, log_file = Path(tmp, "result.json"), Path(tmp, "judge.txt")
        cmd = [sys.executable, "-m", "cvhelpers.assignments.judge", str(Path(path).resolve()),
               str(Path(autograder).resolve()), str(result_file), "--timeout", str(timeout),
               "--memory", str(memory or 0)] + (["--no-sandbox"] if no_sandbox else [])
        with open(log_file, "w") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=tmp, env=child_env(), start_new_session=True)
            try:
                proc.wait(timeout=timeout + 60)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_tree(proc)
        seconds = time.monotonic() - t0
        if timed_out:
            return {"scores": {}, "problem": f"timed out after {timeout:g} s", "seconds": seconds,
                    "stopped": [f"time limit ({timeout:g} s)"]}
        if result_file.is_file():
            result = json.loads(result_file.read_text())
            result["seconds"] = seconds
            return result
        lines = [l for l in log_file.read_text(errors="replace").splitlines() if l.strip()]
        rc = proc.returncode
        how = f"killed by signal {-rc}" if rc is not None and rc < 0 else f"exit {rc}"
        return {"scores": {}, "seconds": seconds,
                "problem": f"grader failed ({how}): {lines[-1][:160] if lines else 'no output'}"}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _kill_tree(proc: subprocess.Popen):
    """Kill a child, its process group and every descendant (the sandbox dies with its parent)."""
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
