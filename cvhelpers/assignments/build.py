"""The teacher's side, part 1: from ``assignments/NN_slug.ipynb`` to student copies and autograders.

One source notebook per lesson lives in ``assignments/`` (otter-assign format, with the solutions
and the hidden tests). :func:`build` (``make assignments``) writes ``dist/assignments/student/``
(solutions and hidden tests removed, no outputs, the public tests packed into the setup cell),
``dist/assignments/solution/`` and ``dist/assignments/autograder/NN_slug.zip`` (every test, for
:mod:`cvhelpers.assignments.grade`; also an otter-grader autograder).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cvhelpers import home
from cvhelpers.assignments.check import encode_tests


#: The setup cell of every assignment (the builder writes this exact text, with the assignment's
#: name and its packed public tests, into every student copy; sources carry it without tests).
#: The install line names the course's home (:mod:`cvhelpers.home`; `make retarget` moves it). It
#: installs plain ``cvhelpers``, as the lessons do: the self-checks need no otter-grader
#: (:mod:`cvhelpers.assignments.check`), and nothing of Colab's own is replaced.
SETUP_CELL = """\
# Setup: run this cell first, in JupyterLab or Colab. It installs the course helpers where they
# are missing (Colab) and loads this assignment's self-checks: grader.check("q1") tests q1.
import sys
try:
    import cvhelpers.assignments.check
except ModuleNotFoundError:
    if "google.colab" in sys.modules:
        %pip install -q "{install}"
    else:
        sys.path.insert(0, "..")  # the course repo without `pip install -e .`
from cvhelpers.assignments.check import Grader
grader = Grader("{name}")""".replace("{install}", home.install_spec())

_GRADER_CALL = re.compile(r"""^\s*grader\s*=\s*Grader\(""", re.M)
_NAME = re.compile(r"^(\d\d)_[a-z0-9_]+$")


def repo_root() -> Path:
    """The course folder: the working directory if it has ``assignments/``, else the package's repo."""
    here = Path.cwd()
    return here if (here / "assignments").is_dir() else Path(__file__).resolve().parents[2]


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
        proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), cwd=tmp)
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


def child_env() -> dict:
    """The environment for child processes, with this copy of cvhelpers importable first."""
    env = dict(os.environ)
    pkg_parent = str(Path(__file__).resolve().parents[2])
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if pkg_parent not in parts:
        env["PYTHONPATH"] = os.pathsep.join([pkg_parent, *parts])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env

