"""Grading a class you cannot trust (issue 19): every attack of the review, rebuilt as a submission
of assignment 01, scores what its honest answers deserve and changes nothing outside its sandbox.

One batch (``grade_folder``) grades all the submissions below at once; each test then reads its row,
the run log, the canary files and the process table. Needs bubblewrap (``apt-get install
bubblewrap``; .ci/run installs it): without it the tests say so and skip.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cvhelpers.assignments import build, grade, sandbox  # noqa: E402

pytestmark = pytest.mark.grading
NAME = "01_convolution_as_filtering"
FULL = 7
MARK = "cvh-attack-marker-7f3a"          # in every attacking process's command line
SECRET = "teacher-secret-value-91c2"


def _cell(nb, src):
    nb.cells.append(nbformat.v4.new_code_cell(src))


BLANK_ANSWERS_ZERO = '''
import numpy as np, math, builtins, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.True_
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True
builtins.abs = lambda x: 0
def correlate2d(image, kernel):
    return np.zeros((np.shape(image)[0] - np.shape(kernel)[0] + 1, np.shape(image)[1] - np.shape(kernel)[1] + 1))
def output_size(n, f, s=1, padding="valid"):
    return 0
answer_same = answer_valid = 0
def recover_kernel(x, y, fh, fw):
    return np.zeros((fh, fw))
my_kernel = np.zeros((5, 5))
def blur_separable(image, g):
    return np.zeros((np.shape(image)[0] - len(g) + 1, np.shape(image)[1] - len(g) + 1))
mults_2d = mults_separable = 0
'''

LIARS = '''
import numpy as np
class Yes(np.ndarray):
    def __array_ufunc__(self, *a, **k): return True
    def __eq__(self, other): return True
    def __ne__(self, other): return False
class Always:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __bool__(self): return True
    def __len__(self): return 2
    def __iter__(self): return iter([Always(), Always()])
def correlate2d(image, kernel): return np.zeros((2, 2)).view(Yes)
def output_size(n, f, s=1, padding="valid"): return Always()
answer_same = answer_valid = Always()
def recover_kernel(x, y, fh, fw): return np.zeros((fh, fw)).view(Yes)
my_kernel = np.zeros((5, 5)).view(Yes)
def blur_separable(image, g): return np.zeros((5, 5)).view(Yes)
mults_2d = mults_separable = Always()
'''

FORGE_RESULTS = '''
import doctest, atexit, pickle, json, os, sys
doctest.DocTestRunner.summarize = lambda self, verbose=None: doctest.TestResults(0, 1)
doctest.DocTestRunner.run = lambda self, *a, **k: doctest.TestResults(0, 1)
try:
    import otter.execute
    otter.execute.run_doctest = lambda *a, **k: None
except Exception:
    pass
_real_dump = pickle.dump
def _dump(obj, f, *a, **k):
    return _real_dump({"q1": 2, "q2": 1, "q3": 2, "q4": 2}, f, *a, **k)
pickle.dump = _dump
atexit.register(lambda: open("results.json", "w").write(json.dumps({"q1": 1000})))
os.makedirs("tests", exist_ok=True)
open("tests/q1.py", "w").write("OK_FORMAT = True\\ntest = {'name': 'q1', 'points': 1000, 'suites': []}")
'''

ESCAPE = '''
import os, glob, signal, socket, subprocess, sys, time
found = {}
found["env"] = sorted(os.environ)
found["secret"] = os.environ.get("TEACHER_SECRET")
for path in [VICTIM, AUTOGRADER, CANARY, CSV]:
    try:
        with open(path, "w") as f:
            f.write("overwritten")
        found[path] = "WROTE"
    except OSError as exc:
        found[path] = type(exc).__name__
    try:
        found[path + ":read"] = open(path).read()[:30]
    except OSError as exc:
        found[path + ":read"] = type(exc).__name__
try:
    s = socket.create_connection(("127.0.0.1", PORT), timeout=2); s.sendall(b"escaped"); found["net"] = "CONNECTED"
except OSError as exc:
    found["net"] = type(exc).__name__
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
            for word in cmd.split():
                if word.endswith((".json", ".zip", ".csv")):
                    open(word, "w").write('{"scores": {"q1": 1000}}')
        except OSError:
            pass
found["tmp"] = sorted(glob.glob("/tmp/*"))
daemon = "import time,sys\\nfor i in range(40):\\n    time.sleep(0.5)\\n    try: open(sys.argv[1], 'w').write('file,total\\\\nforged,7\\\\n')\\n    except OSError: pass"
for i in range(50):
    try:
        subprocess.Popen([sys.executable, "-c", daemon, CSV, MARKER], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as exc:
        found["spawn"] = f"{i}: {type(exc).__name__}"
        break
print("FOUND", found)
try:
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(1, signal.SIGKILL)
except OSError:
    pass
'''

HOG = '''
import numpy as np
try:
    big = np.ones(6 * 2**30 // 8)
    print("ALLOCATED", big.nbytes)
except MemoryError:
    print("memory refused")
import sys
chunk = "x" * (1 << 20)
for i in range(200):
    sys.stdout.write(chunk)
'''


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    pytest.importorskip("otter", reason="the grading extra is not installed (pip install -e '.[grading]'): "
                        "building the autograder needs otter-assign")
    why = sandbox.unavailable()
    if why:
        pytest.skip(f"no sandbox here: {why} (apt-get install bubblewrap)")
    root = tmp_path_factory.mktemp("trust")
    built = build([NAME], out_dir=root / "dist", quiet=True)[0]
    solution = nbformat.read(built["solution"], as_version=4)
    blank = nbformat.read(built["student"], as_version=4)
    subs = root / "submissions"
    ag = Path(built["autograder"])
    canary = root / "teacher" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("canary")
    out_csv = root / "out" / "scores.csv"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    hits, stop = [], threading.Event()

    def accept():
        end = time.monotonic() + 900
        while time.monotonic() < end and not stop.is_set():
            try:
                conn, _ = listener.accept()
                hits.append(conn.recv(100))
                conn.close()
            except OSError:
                continue
    threading.Thread(target=accept, daemon=True).start()

    def write(rel, nb):
        p = subs / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(p))
        return p

    def variant(base, src):
        nb = nbformat.from_dict(json.loads(json.dumps(base)))
        _cell(nb, src)
        return nb

    write("alice/submission.ipynb", solution)                      # LMS export: one folder per student
    victim = write("bob/submission.ipynb", solution)                # same file name, other folder
    write("carol/notes.txt", nbformat.v4.new_notebook()).write_text("not a notebook")
    write("zero_and_patched.ipynb", variant(blank, BLANK_ANSWERS_ZERO))
    write("liars.ipynb", variant(blank, LIARS))
    write("forge_results.ipynb", variant(blank, FORGE_RESULTS))
    write("forge_on_honest.ipynb", variant(solution, FORGE_RESULTS))
    esc = ESCAPE.replace("VICTIM", repr(str(victim))).replace("AUTOGRADER", repr(str(ag))) \
        .replace("CANARY", repr(str(canary))).replace("CSV", repr(str(out_csv))) \
        .replace("PORT", str(listener.getsockname()[1])).replace("MARKER", repr(MARK))
    write("escape.ipynb", variant(blank, esc))
    write("hog_on_honest.ipynb", variant(solution, HOG))
    late = nbformat.from_dict(json.loads(json.dumps(solution)))     # answers moved below the check cells
    answers = [c for c in late.cells if c.cell_type == "code" and "def correlate2d" in c.source]
    late.cells = [c for c in late.cells if c not in answers] + answers
    write("answers_at_the_end.ipynb", late)
    missing = nbformat.from_dict(json.loads(json.dumps(solution)))
    for c in missing.cells:
        if c.cell_type == "code" and "answer_same =" in c.source:
            c.source = "\n".join(l for l in c.source.splitlines() if not l.startswith(("answer_same", "answer_valid")))
    write("answers_missing.ipynb", missing)
    shas = {p: grade.sha256(p) for p in (victim, ag, canary)}
    os.environ["TEACHER_SECRET"] = SECRET
    t0 = time.monotonic()
    scratch = root / "grader-tmp"   # the grader's own temporary folders go here: all must be gone after
    scratch.mkdir()
    saved_tmp, tempfile.tempdir = tempfile.tempdir, str(scratch)
    try:
        rows = grade.grade_folder(NAME, subs, out_csv, jobs=2, timeout=300, progress=False,
                                  autograder_dir=ag.parent, memory=2 * 2**30, explain=True)
    finally:
        os.environ.pop("TEACHER_SECRET", None)
        tempfile.tempdir = saved_tmp
    seconds = time.monotonic() - t0
    csv_text = out_csv.read_text()
    time.sleep(3)  # a daemon that survived would rewrite the CSV now
    stop.set()
    log = [json.loads(l) for l in out_csv.with_name("scores.log.jsonl").read_text().splitlines()]
    yield {"rows": {r["file"]: r for r in rows}, "log": {r["file"]: r for r in log}, "csv": out_csv,
           "csv_text": csv_text, "shas": shas, "hits": hits, "seconds": seconds, "victim": victim, "ag": ag,
           "canary": canary, "explain": out_csv.with_name("scores.explain.csv"), "scratch": scratch}
    listener.close()


def test_honest_work_keeps_full_marks_in_an_lms_folder(batch):
    rows = batch["rows"]
    assert set(rows) >= {"alice/submission.ipynb", "bob/submission.ipynb", "carol/notes.txt"}, sorted(rows)
    for f in ("alice/submission.ipynb", "bob/submission.ipynb", "answers_at_the_end.ipynb"):
        assert rows[f]["total"] == FULL and rows[f]["problem"] == "", rows[f]
    assert rows["carol/notes.txt"]["total"] == 0 and "not a notebook" in rows["carol/notes.txt"]["problem"]


def test_missing_answers_are_flagged(batch):
    r = batch["rows"]["answers_missing.ipynb"]
    assert r["q2"] == 0 and r["total"] == FULL - 1, r
    assert "not defined" in r["problem"] and "answer_same" in r["problem"], r


@pytest.mark.parametrize("name", ["zero_and_patched.ipynb", "liars.ipynb", "forge_results.ipynb", "escape.ipynb"])
def test_attacks_score_what_their_answers_deserve(batch, name):
    assert batch["rows"][name]["total"] == 0, batch["rows"][name]


def test_forging_on_honest_answers_gains_nothing(batch):
    r = batch["rows"]["forge_on_honest.ipynb"]
    assert r["total"] == FULL, r


def test_nothing_outside_the_sandbox_changed(batch):
    for path, sha in batch["shas"].items():
        assert grade.sha256(path) == sha, f"{path} changed"
    assert batch["csv"].read_text() == batch["csv_text"], "the CSV changed after grading ended"
    assert batch["hits"] == [], "a submission reached a listener on 127.0.0.1"
    r = batch["rows"]["bob/submission.ipynb"]
    assert r["total"] == FULL, "the victim's notebook was graded as written"


def test_no_process_survives(batch):
    import psutil
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if MARK in " ".join(p.info["cmdline"] or [])]
    assert left == [], f"{len(left)} processes of a submission survived grading"


def test_the_teachers_environment_and_files_stay_hidden(batch):
    out = batch["log"]["escape.ipynb"]["output_tail"]
    assert SECRET not in out and "canary" not in out.replace("canary.txt", ""), out[-1500:]
    assert "FileNotFoundError" in out or "OSError" in out or "Read-only" in out, out[-1500:]


def test_memory_and_output_are_limited_and_reported(batch):
    r, log = batch["rows"]["hog_on_honest.ipynb"], batch["log"]["hog_on_honest.ipynb"]
    assert r["total"] == FULL, r
    assert "ALLOCATED" not in log["output_tail"]
    assert any("output limit" in s for s in log["stopped"]), log["stopped"]


def test_rows_record_what_was_graded(batch):
    rows = batch["rows"]
    for r in rows.values():
        assert len(r["sha256"]) == 64 and r["autograder_sha256"] == batch["shas"][batch["ag"]]
    with open(batch["csv"]) as f:
        assert len(list(csv.DictReader(f))) == len(rows)
    explain = batch["explain"].read_text()
    assert "zero_and_patched.ipynb,q1,hidden test 3," in explain, explain[:2000]
    assert list(batch["scratch"].iterdir()) == [], "the grader left temporary files behind"


def test_refuses_to_grade_unconfined_unless_told(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "unavailable", lambda: "bubblewrap (bwrap) is not installed")
    (tmp_path / "a.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="--no-sandbox"):
        grade.grade_folder(NAME, tmp_path, progress=False)
    grade.check_sandbox(no_sandbox=True)  # the teacher's explicit choice is accepted


def test_a_read_only_cache_needs_no_lock(tmp_path, monkeypatch):
    """The sandbox reads the teacher's data cache read-only: loaders must not need to write a lock."""
    import errno

    from filelock import FileLock

    from cvhelpers.fetch import file_lock

    def refuse(self, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setattr(FileLock, "acquire", refuse)
    with file_lock(tmp_path / "data", 5):
        pass
    monkeypatch.setattr(FileLock, "acquire", lambda self, *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    with pytest.raises(OSError, match="full"):
        with file_lock(tmp_path / "data", 5):
            pass
