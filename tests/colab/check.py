"""`make colab-check`: the course in Google Colab's own environment, as far as one machine can tell.

1. A Python 3.13 venv with Colab's pins (tests/colab/colab-pins.txt), cached in build/colab-venv/ and
   reused while the pins and the Python are unchanged (anything a previous run added is removed first).
2. The course installed EXACTLY as the notebooks' setup cell does in Colab, `pip install "cvhelpers @ ..."`
   (non-editable, no extra), pointing at this checkout instead of GitHub; then (a) no Colab-pinned
   package may have changed version.
3. (b) notebooks 00-04 executed (fast profile) in that venv, with a stand-in `google.colab` imported at
   kernel start (tests/colab/standin/) and a stand-in `%pip` that checks the setup cell's install line.
4. (c) two assignments built (otter assign, this Python: `make install`'s venv) and their student and
   solution copies run there: `grader.check`/`grader.check_all()` work without otter; the solution
   passes, the blank student copy fails.
5. The fast unit tests (not slow/browser/network) under Python 3.13 with Colab's ipywidgets 7.7.1.

Exit status 0 only when every stage passed; 2 when Python 3.13 is missing. Stages: --only venv,install,
notebooks,assignments,unit (default all); --notebooks 00 01 02 for fewer lessons. Regenerate the pins after a Colab update with
`python tests/colab/check.py --pins-from pip-freeze.txt --source "REPO COMMIT (DATE)"`.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PINS = HERE / "colab-pins.txt"
STANDIN = HERE / "standin"
VENV = REPO / "build" / "colab-venv"
NOTEBOOKS = ["00", "01", "02", "03", "04"]
ASSIGNMENTS = ["01", "02"]
#: The packages whose version Colab fixes and the course must never replace (checked by name first;
#: every other pinned package is checked too).
GUARDED = ["ipykernel", "ipywidgets", "widgetsnbextension", "jupyter-client", "notebook", "tensorflow",
           "keras", "numpy", "ipython", "traitlets", "tornado", "protobuf", "matplotlib", "scipy", "pillow"]
PYTHON_HINT = ("Python 3.13 (Colab's) is needed and was not found: install it (`pyenv install 3.13`, "
               "`uv python install 3.13`, or your system's python3.13 package) or set COLAB_PYTHON=/path/to/python3.13")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = PINS) -> dict[str, str]:
    """``{normalised name: version}`` from a pip requirements file of ``name==version`` lines."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            if "==" not in line:
                raise ValueError(f"{path.name}: not a name==version pin: {line!r}")
            name, version = line.split("==", 1)
            pins[norm(name)] = version.strip()
    return pins


def compare(pins: dict[str, str], installed: dict[str, str]) -> list[str]:
    """One line per Colab pin that the environment no longer honours (changed or removed), guarded first.

    >>> compare({"ipywidgets": "7.7.1", "numpy": "2.1.3"}, {"ipywidgets": "8.1.5", "numpy": "2.1.3"})
    ['ipywidgets 7.7.1 -> 8.1.5 (Colab pins 7.7.1)']
    >>> compare({"ipywidgets": "7.7.1"}, {})
    ['ipywidgets 7.7.1 -> removed (Colab pins 7.7.1)']
    """
    order = sorted(pins, key=lambda n: (n not in GUARDED, n))
    return [f"{n} {pins[n]} -> {installed.get(n, 'removed')} (Colab pins {pins[n]})"
            for n in order if installed.get(n) != pins[n]]


def installed_versions(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                         capture_output=True, text=True, check=True).stdout
    return {norm(d["name"]): d["version"] for d in json.loads(out)}


def find_python() -> str | None:
    candidates = [os.environ.get("COLAB_PYTHON"), shutil.which("python3.13")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")), reverse=True)
    candidates += sorted(glob.glob("/root/.pyenv/versions/3.13*/bin/python3.13"), reverse=True)
    for c in candidates:
        if c and os.access(c, os.X_OK):
            v = subprocess.run([c, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
                               capture_output=True, text=True)
            if v.stdout.strip() == "True":
                return c
    return None


def run(cmd, **kw):
    print("   $", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], **kw)


def pip(python: Path, *args, **kw):
    return run([python, "-m", "pip", "--disable-pip-version-check", *args], **kw)


# --------------------------------------------------------------------------------------------
# stages
# --------------------------------------------------------------------------------------------

def ensure_venv(base_python: str) -> Path:
    """The cached venv with Colab's pins, rebuilt when the pins or the Python changed."""
    py = VENV / "bin" / "python"
    version = subprocess.run([base_python, "-VV"], capture_output=True, text=True).stdout.strip()
    stamp = hashlib.sha256(PINS.read_bytes() + version.encode()).hexdigest()
    stamp_file, baseline_file = VENV / ".colab-pins.sha256", VENV / ".baseline.json"
    if py.exists() and stamp_file.is_file() and stamp_file.read_text() == stamp and baseline_file.is_file():
        baseline = json.loads(baseline_file.read_text())
        extra = sorted(set(installed_versions(py)) - set(baseline))
        if extra:   # what the last run's course install added: back to Colab's state
            pip(py, "uninstall", "-q", "-y", *extra, check=True)
        if installed_versions(py) == baseline:
            print(f"== venv: reusing {VENV.relative_to(REPO)} ({version}; pins unchanged)")
            return py
    t = time.monotonic()
    shutil.rmtree(VENV, ignore_errors=True)
    VENV.parent.mkdir(parents=True, exist_ok=True)
    run([base_python, "-m", "venv", VENV], check=True)
    pip(py, "install", "-q", "-r", PINS, check=True)
    baseline = installed_versions(py)
    baseline_file.write_text(json.dumps(baseline, indent=1, sort_keys=True))
    stamp_file.write_text(stamp)
    print(f"== venv: built {VENV.relative_to(REPO)} with {len(read_pins())} Colab pins in {time.monotonic() - t:.0f} s "
          f"({version})")
    return py


def checkout_copy(dest: Path) -> Path:
    """This checkout's files (tracked and untracked, not ignored: uncommitted edits included) copied to
    ``dest``, so that pip builds from what GitHub would serve, without build/ (the venv) in the tree."""
    ls = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True)
    if ls.returncode:          # not a git checkout (an unpacked archive): build from the folder itself
        return REPO
    for rel in filter(None, ls.stdout.decode().split("\0")):
        src = REPO / rel
        if src.is_file():      # a tracked file deleted in the work tree is left out, as a commit would
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def predicted(py: Path, *requirements: str) -> dict[str, str]:
    """The versions the venv would have after ``pip install REQUIREMENTS`` (pip's own resolver,
    ``--dry-run``: the venv is not changed)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp, "report.json")
        pip(py, "install", "-q", "--dry-run", "--report", report, *requirements, check=True)
        after = installed_versions(py)
        for item in json.loads(report.read_text())["install"]:
            after[norm(item["metadata"]["name"])] = item["metadata"]["version"]
    return after


def probe_fails_on_a_floor(py: Path) -> list[str]:
    """The check must be able to fail: a throwaway package that requires ipywidgets>=8 (a floor above
    Colab's 7.7.1), resolved by pip against the venv, must be reported. Returns the problems."""
    with tempfile.TemporaryDirectory(prefix="colab-check-probe-") as tmp:
        Path(tmp, "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
            '[project]\nname = "colab-check-floor-probe"\nversion = "0"\ndependencies = ["ipywidgets>=8"]\n'
            '[tool.setuptools]\npy-modules = []\n')
        found = compare(read_pins(), predicted(py, f"colab-check-floor-probe @ {Path(tmp).as_uri()}"))
    if not any(line.startswith("ipywidgets 7.7.1 -> 8.") for line in found):
        return [f"the pin check missed a package requiring ipywidgets>=8 (it reported: {found})"]
    print(f"   ok: the check does fail on a floor above Colab's pin (probe package: {found[0]})")
    return []


def install_course(py: Path) -> list[str]:
    """Install the course as the setup cell does; return the problems (pins changed)."""
    before = installed_versions(py)
    t = time.monotonic()
    report = VENV / ".course-install.json"
    with tempfile.TemporaryDirectory(prefix="colab-check-src-") as tmp:
        from_checkout = f"cvhelpers @ {checkout_copy(Path(tmp)).as_uri()}"
        pip(py, "install", "-q", "--report", report, from_checkout, check=True)
    seconds = time.monotonic() - t
    after = installed_versions(py)
    added = sorted(f"{n} {v}" for n, v in after.items() if n not in before)
    print(f"== install: pip install {from_checkout!r} (this checkout, as the setup cell does) in {seconds:.0f} s; added: {', '.join(added) or 'nothing'}")
    problems = compare(read_pins(), after)
    if problems:
        print("FAIL: the course's install replaced Colab's packages (a dependency floor in pyproject.toml "
              "rejects Colab's pin; lower it):\n   " + "\n   ".join(problems))
    else:
        print(f"   ok: all {len(read_pins())} Colab pins unchanged ({', '.join(GUARDED)} among them)")
    return problems


def _colab_env(tmp: Path) -> dict:
    """Environment of a stand-in Colab kernel: google.colab importable and imported at start."""
    ipython = tmp / "ipython"
    shutil.copytree(STANDIN / "ipython", ipython)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH")}
    env["PYTHONPATH"] = str(STANDIN)            # the stand-in only: cvhelpers comes from site-packages
    env["IPYTHONDIR"] = str(ipython)
    env["JUPYTER_DATA_DIR"] = str(tmp / "jupyter-data")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"   # ipykernel's debugger: no frozen-modules warning
    env["COLAB_STANDIN_LOG"] = str(tmp / "pip-calls.log")
    sys.path.insert(0, str(REPO))
    from cvhelpers import home
    env["COLAB_STANDIN_PIP_EXPECT"] = home.install_spec()
    env.setdefault("CVHELPERS_FAST", "1")
    return env


PROBE = ("import sys, importlib.util, ipywidgets, google.colab.output as _o\n"
         "print('COLAB-PROBE', 'google.colab' in sys.modules, ipywidgets.__version__, _o.calls, "
         "importlib.util.find_spec('otter') is not None, __import__('cvhelpers').__file__)")


def execute(paths: list[str], cwd: str, allow_errors: bool) -> int:
    """(Run by the venv's Python.) Execute notebooks with nbclient; write each executed copy next to
    its name + '.out.ipynb'; print one line per notebook. Exit 1 if one raised (unless allowed)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    bad = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
        t = time.monotonic()
        try:
            NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=allow_errors).execute(cwd=cwd)
            status = "ok"
        except CellExecutionError as exc:
            bad += 1
            lines = [l for l in str(exc).splitlines() if l.strip()]
            status = f"FAILED: {lines[-1] if lines else exc.__class__.__name__}"
        nbformat.write(nb, path + ".out.ipynb")
        print(f"   {Path(path).name}: {status} ({time.monotonic() - t:.0f} s)", flush=True)
    return 1 if bad else 0


def _outputs(cell) -> str:
    sys.path.insert(0, str(REPO))   # imported late: `--only venv` runs under any python3
    from cvhelpers.nbtools import output_text
    return output_text(cell)


def _probe(nb) -> str:
    return _outputs(nb.cells[-1])


def run_notebooks(py: Path) -> list[str]:
    problems = []
    with tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
        tmp = Path(tmp)
        env = _colab_env(tmp)
        content = tmp / "content"            # Colab's working folder: no repo, no notebook file
        content.mkdir()
        copies = []
        for key in NOTEBOOKS:
            (src,) = (REPO / "notebooks").glob(f"{key}_*.ipynb")
            shutil.copy(src, tmp / src.name)
            copies.append(str(tmp / src.name))
        t = time.monotonic()
        proc = run([py, __file__, "--execute", *copies, "--cwd", content], env=env)
        print(f"== notebooks {', '.join(NOTEBOOKS)}: {time.monotonic() - t:.0f} s")
        if proc.returncode:
            problems.append("a notebook failed in the Colab venv (see above)")
        calls = (tmp / "pip-calls.log").read_text().splitlines() if (tmp / "pip-calls.log").exists() else []
        if len(calls) != len(NOTEBOOKS):
            problems.append(f"expected one `%pip install` per notebook's setup cell, got {calls}")
        import nbformat
        for c in copies:
            out = c + ".out.ipynb"
            if Path(out).exists():
                probe = _probe(nbformat.read(out, as_version=4))
                if "COLAB-PROBE True 7.7.1 [] False" not in probe or "site-packages" not in probe:
                    problems.append(f"{Path(c).name}: not Colab-like (google.colab imported, ipywidgets 7.7.1, "
                                    f"no widget manager call, no otter, cvhelpers installed): {probe.strip()}")
    return problems


def run_assignments(py: Path) -> list[str]:
    problems = []
    sys.path.insert(0, str(REPO))
    from cvhelpers.assignments import build
    import nbformat
    with tempfile.TemporaryDirectory(prefix="colab-check-assign-") as tmp:
        tmp = Path(tmp)
        t = time.monotonic()
        built = build(ASSIGNMENTS, out_dir=tmp / "dist", quiet=True)
        print(f"== assignments {', '.join(b['name'] for b in built)} built in {time.monotonic() - t:.0f} s")
        env = _colab_env(tmp)
        content = tmp / "content"
        content.mkdir()
        copies = []
        for b in built:
            for kind in ("solution", "student"):
                dest = tmp / f"{kind}-{Path(b[kind]).name}"
                shutil.copy(b[kind], dest)
                copies.append((b, kind, str(dest)))
        proc = run([py, __file__, "--execute", *[c[2] for c in copies], "--cwd", content, "--allow-errors"], env=env)
        if proc.returncode:
            problems.append("an assignment copy could not be executed")
        for b, kind, path in copies:
            nb = nbformat.read(path + ".out.ipynb", as_version=4)
            code = [c for c in nb.cells if c.cell_type == "code"]
            setup = _outputs(code[0])
            checks = [c for c in code if re.fullmatch(r'grader\.check\("q\d+"\)', c.source.strip())]
            final = [c for c in code if c.source.strip() == "grader.check_all()"]
            tag = f"{b['name']} {kind}"
            if "ERROR" in setup:
                problems.append(f"{tag}: the setup cell raised: {setup.strip()}")
            if not checks or not final:
                problems.append(f"{tag}: no grader.check / grader.check_all() cells")
                continue
            outs = [_outputs(c) for c in checks]
            summary = _outputs(final[-1])
            crashed = [o for o in outs + [summary] if "ERROR" in o]
            if crashed:
                problems.append(f"{tag}: a self-check crashed: {crashed[0].strip()[:200]}")
            passed = sum("All test cases passed" in o for o in outs)
            if kind == "solution" and (passed != len(outs) or "failed" in summary.lower()):
                problems.append(f"{tag}: the solution does not pass its self-checks: {summary.strip()[:300]}")
            if kind == "student" and (passed or "failed" not in summary.lower()):
                problems.append(f"{tag}: the blank copy passes a self-check: {summary.strip()[:300]}")
            probe = _probe(nb)
            if "COLAB-PROBE True 7.7.1" not in probe or " False " not in probe:
                problems.append(f"{tag}: not run like Colab (or otter importable): {probe.strip()}")
            print(f"   {tag}: {passed}/{len(outs)} self-checks pass; check_all: "
                  f"{summary.strip().splitlines()[0] if summary.strip() else '(no output)'}")
    return problems


def run_unit(py: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PYTHONPATH"] = str(REPO)
    env.setdefault("CVHELPERS_FAST", "1")
    t = time.monotonic()
    proc = run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow and not browser and not network",
                "cvhelpers", "tests", "-rs"], cwd=REPO, env=env)
    print(f"== unit tests under Python 3.13 / ipywidgets 7.7.1: {time.monotonic() - t:.0f} s")
    return ["the fast unit tests failed under Python 3.13 (see above)"] if proc.returncode else []


def pins_from(freeze: Path, source: str) -> int:
    """Rewrite colab-pins.txt from a Colab pip-freeze: the course's closure at Colab's versions."""
    base = find_python()
    if not base:
        print(PYTHON_HINT, file=sys.stderr)
        return 2
    eq = [l.strip() for l in freeze.read_text().splitlines() if re.match(r"^[A-Za-z0-9_.-]+==", l)]
    colab = {norm(l.split("==")[0]): l.split("==")[1] for l in eq}
    roots = ["tensorflow", "ipykernel", "ipython", "ipywidgets", "jupyter_client", "notebook", "widgetsnbextension",
             "traitlets", "tornado", "protobuf", "nbclient", "nbformat", "pytest", str(REPO)]
    with tempfile.TemporaryDirectory() as tmp:
        cons, report = Path(tmp, "c.txt"), Path(tmp, "r.json")
        cons.write_text("\n".join(eq) + "\n")
        run([base, "-m", "venv", Path(tmp, "v")], check=True)
        pip(Path(tmp, "v", "bin", "python"), "install", "-q", "--dry-run", "--ignore-installed", "--report", report,
            "-c", cons, *roots, check=True)
        names = [i["metadata"]["name"] for i in json.loads(report.read_text())["install"]]
    header = [l for l in PINS.read_text().splitlines() if l.startswith("#")]
    pins = sorted((f"{n}=={colab[norm(n)]}" for n in names if norm(n) in colab), key=str.lower)
    header[1:3] = [f"# Source: {source}"]
    PINS.write_text("\n".join(header + pins) + "\n")
    print(f"{PINS}: {len(pins)} pins")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="venv,install,notebooks,assignments,unit")
    ap.add_argument("--execute", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--cwd", help=argparse.SUPPRESS)
    ap.add_argument("--allow-errors", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--notebooks", nargs="+", metavar="NN", help=f"lesson numbers (default: {' '.join(NOTEBOOKS)})")
    ap.add_argument("--pins-from", type=Path)
    ap.add_argument("--source", default="(say which repository, commit and date)")
    args = ap.parse_args(argv)
    if args.execute:
        return execute(args.execute, args.cwd, args.allow_errors)
    if args.pins_from:
        return pins_from(args.pins_from, args.source)
    stages = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = stages - {"venv", "install", "notebooks", "assignments", "unit"}
    if unknown:
        print(f"colab-check: unknown stage(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.notebooks:
        known = {p.name[:2] for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")}
        bad = [n for n in args.notebooks if n not in known]
        if bad:
            print(f"colab-check: no notebook {', '.join(bad)} (give two-digit numbers: 00 01 ...)", file=sys.stderr)
            return 2
        NOTEBOOKS[:] = args.notebooks
    t0 = time.monotonic()
    base = find_python()
    if not base:
        print(f"colab-check: {PYTHON_HINT}", file=sys.stderr)
        return 2
    py = ensure_venv(base)
    problems = []
    if stages & {"install", "notebooks", "assignments", "unit"}:
        problems += install_course(py)
    if "install" in stages:
        problems += probe_fails_on_a_floor(py)
    if "notebooks" in stages:
        problems += run_notebooks(py)
    if "assignments" in stages:
        problems += run_assignments(py)
    if "unit" in stages:
        problems += run_unit(py)
    print(f"== colab-check: {'FAILED' if problems else 'passed'} in {time.monotonic() - t0:.0f} s")
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
