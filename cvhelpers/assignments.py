"""Classroom assignments: self-checks for students, student copies and autograders, grading.

One source notebook per lesson lives in ``assignments/NN_slug.ipynb`` (otter-assign format, with
the solutions and the hidden tests). From it:

- :func:`build` writes ``dist/assignments/student/NN_slug.ipynb`` (solutions and hidden tests
  removed, no outputs, the public tests embedded in the setup cell) and
  ``dist/assignments/autograder/NN_slug.zip`` (every test, for grading) — ``make assignments``;
- :func:`Grader` is what a student copy's setup cell creates: ``grader.check("q1")`` runs the
  public tests of q1, ``grader.check_all()`` all of them, in JupyterLab and in Colab (the tests
  come from the notebook itself, not from a ``tests/`` folder or the notebook file on disk);
- :func:`grade_folder` grades every ``.ipynb`` of a folder, each in its own process with a time
  limit, into one CSV row per file — ``cvhelpers grade NN FOLDER -o scores.csv``.

The engine is otter-grader (``pip install "cvhelpers[grading]"``); grading needs no Docker.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from cvhelpers import home

GRADING_HINT = 'the grader needs otter-grader: pip install "cvhelpers[grading]" (or `make install`)'


# --------------------------------------------------------------------------------------------
# the student's side: self-checks
# --------------------------------------------------------------------------------------------

def encode_tests(files: dict[str, str]) -> str:
    """Pack test files ``{"q1.py": source, ...}`` into one ASCII string (zlib + base64).

    >>> decode_tests(encode_tests({"q1.py": "test = {}"}))
    {'q1.py': 'test = {}'}
    """
    raw = json.dumps(dict(sorted(files.items())), sort_keys=True).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_tests(blob: str) -> dict[str, str]:
    """The inverse of :func:`encode_tests`."""
    try:
        files = json.loads(zlib.decompress(base64.b64decode(blob)))
    except (ValueError, zlib.error) as exc:
        raise ValueError("the self-check tests in the setup cell are damaged: re-download the "
                         "student copy (or rebuild it with `make assignments`)") from exc
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise ValueError("the self-check tests in the setup cell are not a {file: source} mapping")
    return files


_GRADER_CLASS = None


def _grader_class():
    """``otter.Notebook`` with the tests from the notebook itself and explicit environments."""
    global _GRADER_CLASS
    if _GRADER_CLASS is not None:
        return _GRADER_CLASS
    try:
        import otter
        from otter.check.utils import list_available_tests
        from otter.test_files import GradingResults
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(GRADING_HINT) from exc

    class _Grader(otter.Notebook):
        """See :func:`Grader`."""

        def __init__(self, assignment: str, tests: str | None = None):
            self.assignment = assignment
            tests_dir = "./tests"
            if tests and not type(self)._grading_mode:   # grading mode: otter's tests win
                files = decode_tests(tests)
                tests_dir = tempfile.mkdtemp(prefix=f"cvhelpers-{assignment}-tests-")
                for name, source in files.items():
                    Path(tests_dir, os.path.basename(name)).write_text(source, encoding="utf-8")
            super().__init__(tests_dir=tests_dir)

        def check(self, question: str, global_env: dict | None = None):
            """Run the public tests of ``question`` against the notebook's variables."""
            if global_env is None:
                global_env = sys._getframe(1).f_globals
            if not type(self)._grading_mode and not os.path.isfile(os.path.join(self._tests_dir, f"{question}.py")):
                known = ", ".join(self.questions()) or "none"
                raise ValueError(f"no self-check test {question!r} here (questions with tests: {known}); "
                                 "open the student copy built by `make assignments` and run its setup cell first")
            return super().check(question, global_env)

        def questions(self) -> list[str]:
            """The names of the questions that have tests, in order."""
            if not os.path.isdir(self._tests_dir):
                return []
            return sorted(list_available_tests(self._tests_dir, self._nbmeta_config), key=_question_key)

        def check_all(self):
            """Run every public test; shows one line per question."""
            env = sys._getframe(1).f_globals
            return GradingResults([self.check(q, env) for q in self.questions()])

    _GRADER_CLASS = _Grader
    return _Grader


def Grader(assignment: str, tests: str | None = None):
    """The ``grader`` of an assignment notebook: ``grader.check("q1")``, ``grader.check_all()``.

    ``tests`` is the packed public tests (:func:`encode_tests`) that :func:`build` writes into the
    student copy's setup cell; they are unpacked into a temporary folder, so no ``tests/`` folder
    and no notebook file on disk are needed (Colab). While the autograder runs a submission, its
    own full set of tests is used instead.
    """
    return _grader_class()(assignment, tests)


def _question_key(name: str):
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else 0, name)


# --------------------------------------------------------------------------------------------
# the teacher's side: sources, student copies, autograders
# --------------------------------------------------------------------------------------------

#: The setup cell of every assignment (the builder writes this exact text, with the assignment's
#: name and its packed public tests, into every student copy; sources carry it without tests).
#: The install line names the course's home (:mod:`cvhelpers.home`; `make retarget` moves it).
SETUP_CELL = """\
# Setup: run this cell first, in JupyterLab or Colab. It installs the course helpers where they
# are missing (Colab) and loads this assignment's self-checks: grader.check("q1") tests q1.
import sys
try:
    import otter, cvhelpers.assignments
except ModuleNotFoundError:
    if "google.colab" in sys.modules:
        %pip install -q "{install}"
    else:
        sys.path.insert(0, "..")  # the course repo without `pip install -e .`
from cvhelpers.assignments import Grader
grader = Grader("{name}")""".replace("{install}", home.install_spec("grading"))

_GRADER_CALL = re.compile(r"""^\s*grader\s*=\s*Grader\(""", re.M)
_NAME = re.compile(r"^(\d\d)_[a-z0-9_]+$")


def repo_root() -> Path:
    """The course folder: the working directory if it has ``assignments/``, else the package's repo."""
    here = Path.cwd()
    return here if (here / "assignments").is_dir() else Path(__file__).resolve().parents[1]


def sources(src_dir: str | os.PathLike | None = None) -> list[Path]:
    """The assignment sources ``NN_slug.ipynb``, in order."""
    d = Path(src_dir) if src_dir else repo_root() / "assignments"
    return sorted(p for p in d.glob("[0-9][0-9]_*.ipynb") if _NAME.match(p.stem))


def resolve(assignment: str, src_dir=None) -> Path:
    """The source of assignment ``"3"``, ``"03"`` or ``"03_mnist_convnets"``."""
    key = str(assignment).strip()
    key = key.removesuffix(".ipynb")
    found = sources(src_dir)
    for p in found:
        if key == p.stem or (key.isdigit() and int(key) == int(p.stem[:2])):
            return p
    names = ", ".join(p.stem for p in found) or "none"
    raise ValueError(f"no assignment {assignment!r} (assignments: {names})")


def _nb_read(path):
    import nbformat
    return nbformat.read(str(path), as_version=4)


def questions(nb) -> list[dict]:
    """``[{"name", "points", "manual"}, ...]`` from a source notebook's ``# BEGIN QUESTION`` cells."""
    import yaml
    out = []
    for cell in nb.cells:
        src = cell.source.lstrip()
        if cell.cell_type == "raw" and src.startswith("# BEGIN QUESTION"):
            cfg = yaml.safe_load(src.split("\n", 1)[1]) if "\n" in src else {}
            out.append({"name": str(cfg["name"]), "points": cfg.get("points", 0),
                        "manual": bool(cfg.get("manual", False))})
    return out


def _setup_source(name: str, tests_blob: str | None) -> str:
    src = SETUP_CELL.replace("{name}", name)
    if tests_blob:
        src = src[:-1] + f', tests="{tests_blob}")'
    return src


def _finish(nb, name: str, tests_blob: str | None, drop_meta: bool):
    """Canonical setup cell, no outputs, deterministic cell ids, no test-only metadata."""
    setup = [c for c in nb.cells if c.cell_type == "code" and _GRADER_CALL.search(c.source)]
    if not setup:
        raise ValueError(f"{name}: no setup cell (a code cell with `grader = Grader(\"{name}\")`); "
                         "copy the setup cell of assignments/01_convolution_as_filtering.ipynb")
    setup[0].source = _setup_source(name, tests_blob)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    if drop_meta:
        nb.metadata.pop("cvhelpers", None)
    return nb


def build(names=None, src_dir=None, out_dir=None, jobs: int | None = None, run_tests: bool = False,
          quiet: bool = False) -> list[dict]:
    """Build student copies, solution copies and autograders for the given assignments (default all).

    Writes ``OUT/student/NN.ipynb``, ``OUT/solution/NN.ipynb`` (the source's answers, as a student
    would hand them in) and ``OUT/autograder/NN.zip`` (OUT = ``dist/assignments``). Each
    assignment is written to a temporary folder first and moved into place when complete.
    ``run_tests`` also runs the solution against every test while building (slower).
    """
    paths = [resolve(n, src_dir) for n in names] if names else sources(src_dir)
    if not paths:
        raise ValueError("no assignment sources found (assignments/NN_slug.ipynb)")
    out = Path(out_dir) if out_dir else repo_root() / "dist" / "assignments"
    for sub in ("student", "solution", "autograder"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths)))
    built = []
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(_build_one, p, out, run_tests) for p in paths]
        for f in futures:
            built.append(f.result())
            if not quiet:
                b = built[-1]
                print(f"{b['name']}: {len(b['questions'])} questions, {b['auto_points']} auto-graded points "
                      f"+ {b['manual_points']} manual -> {b['student']}, {b['autograder']}")
    return built


def _build_one(src: Path, out: Path, run_tests: bool) -> dict:
    import nbformat
    name = src.stem
    source_nb = _nb_read(src)
    qs = questions(source_nb)
    with tempfile.TemporaryDirectory(prefix=f"cvhelpers-build-{name}-") as tmp:
        tmp = Path(tmp)
        work = tmp / "src" / src.name
        work.parent.mkdir()
        # build from a copy whose setup cell is the canonical one (older templates still build)
        nbformat.write(_finish(source_nb, name, None, drop_meta=False), str(work))
        cmd = [sys.executable, "-m", "otter", "assign", "--no-pdfs", str(work), str(tmp / "out")]
        if not run_tests:
            cmd.insert(4, "--no-run-tests")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(), cwd=tmp)
        if proc.returncode != 0:
            last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            raise ValueError(f"{name}: otter assign failed: {last}")
        student_dir, ag_dir = tmp / "out" / "student", tmp / "out" / "autograder"
        public = {p.name: p.read_text(encoding="utf-8") for p in sorted((student_dir / "tests").glob("*.py"))}
        student = _finish(_nb_read(student_dir / src.name), name, encode_tests(public), drop_meta=True)
        solution = _finish(_nb_read(ag_dir / src.name), name, encode_tests(public), drop_meta=True)
        zips = sorted(ag_dir.glob("*.zip"))
        if len(zips) != 1:
            raise ValueError(f"{name}: otter assign wrote {len(zips)} autograder zips, expected 1")
        meta = {"assignment": name, "questions": qs}
        tmp_zip = tmp / f"{name}.zip"
        _repack(zips[0], tmp_zip, meta)
        targets = {"student": out / "student" / src.name, "solution": out / "solution" / src.name,
                   "autograder": out / "autograder" / f"{name}.zip"}
        staged = {}
        for key, nb in (("student", student), ("solution", solution)):
            staged[key] = tmp / f"{key}.ipynb"
            nbformat.validate(nb)
            nbformat.write(nb, str(staged[key]))
        staged["autograder"] = tmp_zip
        for key, target in targets.items():
            shutil.move(str(staged[key]), str(target))
    auto = sum(q["points"] for q in qs if not q["manual"])
    return {"name": name, "questions": qs, "auto_points": auto,
            "manual_points": sum(q["points"] for q in qs if q["manual"]),
            **{k: str(v) for k, v in targets.items()}}


def _repack(src_zip: Path, dest: Path, meta: dict):
    """Otter's autograder zip with fixed timestamps, sorted entries, plus ``cvhelpers.json``."""
    with zipfile.ZipFile(src_zip) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        entries = {i.filename: zin.read(i) for i in zin.infolist() if not i.is_dir()}
        entries["cvhelpers.json"] = json.dumps(meta, indent=1).encode()
        for fname in sorted(entries):
            info = zipfile.ZipInfo(fname, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if fname == "run_autograder" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, entries[fname])


def autograder_meta(zip_path) -> dict:
    with zipfile.ZipFile(zip_path) as z:
        return json.loads(z.read("cvhelpers.json"))


def _child_env() -> dict:
    """The environment for child processes, with this copy of cvhelpers importable first."""
    env = dict(os.environ)
    pkg_parent = str(Path(__file__).resolve().parents[1])
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if pkg_parent not in parts:
        env["PYTHONPATH"] = os.pathsep.join([pkg_parent, *parts])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# --------------------------------------------------------------------------------------------
# grading a folder of submissions
# --------------------------------------------------------------------------------------------

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
        cmd = [sys.executable, "-m", "cvhelpers.assignments", "grade-one", str(Path(path).resolve()),
               str(Path(autograder).resolve()), str(result_file)]
        with open(log_file, "w") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=tmp, env=_child_env(), start_new_session=True)
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
    print("usage: python -m cvhelpers.assignments grade-one NOTEBOOK AUTOGRADER.zip RESULT.json "
          "(internal; use `cvhelpers grade` or `make assignments`)", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
