"""Build the executed course as a Jupyter Book 1.x site (``make book`` runs this).

Steps, all under ``--work`` (default ``build/book/``, ignored by git):

1. **execute** every notebook once with nbclient (widget state stored, so the widget snapshots
   render), in the chosen profile, with ``CVHELPERS_RESULTS_DIR`` pointing into the build, so the
   records the notebooks write are those of this run (``executed/<profile>/``, ``results/<profile>/``).
   An executed copy is reused while the notebook, the ``cvhelpers`` code and the profile are unchanged
   (``--force`` re-runs);
2. **vendor** the three scripts the pages need (MathJax 3 with its fonts, require.js, the widget
   renderer ``@jupyter-widgets/html-manager``) from the npm registry with ``npm pack``, once, into
   ``build/book-assets/_vendor/`` (nothing is loaded from a CDN, so the book works offline);
3. **assemble** the book's sources (``src/``): ``book/_config.yml``, a table of contents, the landing
   page ``book/index.md``, the executed notebooks (each with a banner saying which profile and
   machine produced it, the Colab badge image replaced by a plain link), the results dashboard
   (``book/dashboard.py``) and the instructor page ``assignments/README.md`` when the repo has one;
4. **render** with ``jupyter-book build`` in strict mode (``-W -n --keep-going``: a broken
   cross-reference fails the build), copy the site to ``--out`` (default ``_book/``), and
5. **check** it with ``book/checker.py`` (missing files, broken anchors, assets from outside,
   leftover ``.ipynb`` links): any problem fails the build.

Usage (from the repository root, in the course's environment with the ``book`` extra)::

    python book/build.py                       # fast profile (or CVHELPERS_FAST's), all chapters
    python book/build.py --profile full        # for publishing (hours; the full data sets)
    python book/build.py --only 00 01 02       # a subset of the chapters (the CI test does this)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import checker  # noqa: E402
import dashboard  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
INSTRUCTOR_PAGE = ROOT / "assignments" / "README.md"
REPO_URL = "https://github.com/dlcv-course/deep-learning-cv"
# npm packages (exact versions) -> {path inside the package: path under _vendor/}
VENDOR = {
    "mathjax@3.2.2": {"es5/tex-mml-chtml.js": "mathjax/tex-mml-chtml.js", "es5/input": "mathjax/input",
                      "es5/output": "mathjax/output", "es5/a11y": "mathjax/a11y", "es5/ui": "mathjax/ui",
                      "es5/sre": "mathjax/sre", "es5/adaptors": "mathjax/adaptors", "LICENSE": "mathjax/LICENSE"},
    "requirejs@2.3.8": {"require.js": "requirejs/require.js"},
    # embed-amd.js finds its icon fonts next to itself
    "@jupyter-widgets/html-manager@1.0.15": {"dist/embed-amd.js": "html-manager/embed-amd.js",
                                             "dist/*.woff2": "html-manager/", "dist/*.woff": "html-manager/",
                                             "dist/*.ttf": "html-manager/", "dist/*.eot": "html-manager/",
                                             "dist/*.svg": "html-manager/"},
}
_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\((https://colab\.research\.google\.com/[^)]+)\)")
PROFILE_NOTES = {"fast": "CVHELPERS_FAST=1: subsets of the data and a few epochs, so a model trained here is far "
                         "from what the full profile reaches",
                 "full": "the official data sets and the books' numbers of epochs"}


class BuildError(RuntimeError):
    """A build step failed; the message says what to do."""


def log(msg: str) -> None:
    print(f"[book {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def select_notebooks(only: list[str] | None) -> list[Path]:
    """The course notebooks in order, or those whose names start with one of ``only`` ("00", "01_conv")."""
    all_nbs = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not only:
        return all_nbs
    chosen = []
    for prefix in only:
        hits = [p for p in all_nbs if p.stem.startswith(prefix)]
        if not hits:
            raise BuildError(f"--only {prefix}: no notebook in notebooks/ starts with {prefix!r} "
                             f"(they are {', '.join(p.stem[:2] for p in all_nbs)})")
        chosen += [p for p in hits if p not in chosen]
    return sorted(chosen)


def machine_text() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.machine()}, Python {platform.python_version()}"


# 1. execute ------------------------------------------------------------------------------------

def _sha(nb_path: Path) -> str:
    """A fingerprint of what a notebook's outputs depend on here: its source and the cvhelpers code."""
    h = hashlib.sha256(nb_path.read_bytes())
    for f in sorted((ROOT / "cvhelpers").glob("*.py")):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def execute(nb_path: Path, dest_dir: Path, profile: str, timeout: int, force: bool) -> dict:
    """Run ``nb_path`` into ``dest_dir`` (unless an executed copy of the same source and profile is there)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    dest = dest_dir / nb_path.name
    sha = _sha(nb_path)
    if dest.is_file() and not force:
        meta = nbformat.read(dest, as_version=4).metadata.get("cvbook", {})
        if meta.get("source_sha256") == sha and meta.get("profile") == profile:
            log(f"{nb_path.stem}: reusing the executed copy of {meta['date']} ({meta['seconds']:.0f} s)")
            return {"name": nb_path.stem, "seconds": meta["seconds"], "date": meta["date"], "reused": True,
                    "machine": meta.get("machine", "?")}
    nb = nbformat.read(nb_path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    log(f"{nb_path.stem}: executing ({profile} profile, at most {timeout} s per cell) ...")
    date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, DeadKernelError, TimeoutError) as exc:
        failed = dest_dir / f"{nb_path.stem}.failed.ipynb"
        nbformat.write(nb, failed)
        first = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()     # without the ANSI colours
        raise BuildError(f"{nb_path.name} failed ({type(exc).__name__}: {first[-1] if first else ''}); "
                         f"the partly executed copy is {failed}: fix the notebook and run `make book` again") from None
    seconds = round(time.perf_counter() - t0, 1)
    nb.metadata["cvbook"] = {"source_sha256": sha, "profile": profile, "date": date, "seconds": seconds,
                             "machine": machine_text()}
    tmp = dest.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, dest)
    (dest_dir / f"{nb_path.stem}.failed.ipynb").unlink(missing_ok=True)
    log(f"{nb_path.stem}: done in {seconds:.0f} s")
    return {"name": nb_path.stem, "seconds": seconds, "date": date, "reused": False, "machine": machine_text()}


# 2. vendor -------------------------------------------------------------------------------------

def vendor_assets(cache: Path) -> Path:
    """``cache/_vendor/`` with MathJax, require.js and the widget renderer (fetched once with npm pack)."""
    vendor = cache / "_vendor"
    stamp = vendor / ".complete"
    if stamp.is_file() and stamp.read_text().split() == sorted(VENDOR):
        return cache
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm not found: the book serves MathJax and the widget renderer itself and fetches them "
                         "once with `npm pack`; install Node.js/npm (e.g. `apt-get install npm`)")
    shutil.rmtree(vendor, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in VENDOR.items():
            log(f"npm pack {spec}")
            res = subprocess.run([npm, "pack", spec, "--silent"], cwd=tmp, capture_output=True, text=True)
            if res.returncode != 0:
                raise BuildError(f"`npm pack {spec}` failed (is the npm registry reachable?): "
                                 f"{(res.stderr or res.stdout).strip().splitlines()[-1:]}")
            tgz = Path(tmp) / res.stdout.strip().splitlines()[-1]
            unpacked = Path(tmp) / spec.replace("/", "_")
            with tarfile.open(tgz) as tar:
                tar.extractall(unpacked, filter="data")
            pkg = unpacked / "package"
            for src, dst in files.items():
                matches = sorted(pkg.glob(src))
                if not matches:
                    raise BuildError(f"{spec}: no {src} in the package; update VENDOR in book/build.py")
                for m in matches:
                    target = vendor / dst / m.name if dst.endswith("/") else vendor / dst
                    target.parent.mkdir(parents=True, exist_ok=True)
                    (shutil.copytree if m.is_dir() else shutil.copy2)(m, target)
    stamp.write_text("\n".join(sorted(VENDOR)))
    return cache


# 3. assemble -----------------------------------------------------------------------------------

def book_copy(executed: Path, dest: Path, profile: str) -> None:
    """The executed notebook as the book shows it: a profile banner under the title, no badge images."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.get("cvbook", {})
    banner = (f"\n\n:::{{note}}\nThis page shows the outputs of one run in the **{profile} profile** "
              f"({PROFILE_NOTES[profile]}), executed on {meta.get('date', '?')} in {meta.get('seconds', 0):.0f} s "
              f"on {meta.get('machine', '?')}. The books' figures and the full-profile records are on the "
              f"[results dashboard](results.md)."
              + (" The widgets show the state they had at the end of that run: to move their controls, "
                 "run the notebook in JupyterLab or Colab." if nb.metadata.get("widgets") else "")
              + "\n:::\n")
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _BADGE.sub(r"[Open in Colab](\1)", cell.source)
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if first is None:
        raise BuildError(f"{executed.name}: a chapter must start with a markdown title cell")
    head, _, rest = first.source.partition("\n")
    first.source = head + banner + rest
    nbformat.write(nb, dest)


def _relink(text: str, page: Path, src_dir: Path) -> str:
    """Relative links of a markdown page copied into the book (``page``: its path in the repository).

    A link to a course notebook becomes a link to its chapter; a link to another file of the
    repository, which the book does not hold, a link to that file on GitHub; an image is copied
    into the book next to the page.
    """
    here = src_dir / page.parent.relative_to(ROOT)

    def fix(m):
        bang, label, target = m.group(1), m.group(2), m.group(3)
        if re.match(r"[a-z]+:|#", target):
            return m.group(0)
        path, _, frag = target.partition("#")
        file = Path(os.path.normpath(page.parent / path))
        frag = "#" + frag if frag else ""
        if bang and file.is_file():                                      # an image: into the book
            (here / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, here / path)
        if (here / path).exists():                                       # a page or file of the book
            return m.group(0)
        if file.parent == NOTEBOOKS and (src_dir / file.name).exists():  # a chapter
            return f"{label}({os.path.relpath(src_dir / file.name, here)}{frag})"
        try:
            repo_path = file.relative_to(ROOT).as_posix()
        except ValueError:
            return label
        return f"{label}({REPO_URL}/{'tree' if file.is_dir() else 'blob'}/main/{repo_path}{frag})"
    return re.sub(r"(!?)(\[[^\]]*\])\(([^)\s]+)\)", fix, text)


def assemble(src: Path, executed: list[Path], profile: str, runs: list[dict], results_dir: Path,
             assets: Path, built: str, machine: str) -> None:
    import yaml

    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    config = yaml.safe_load((HERE / "_config.yml").read_text())
    every = len(executed) == len(select_notebooks(None))
    config["parse"]["myst_substitutions"] = {
        "profile": profile, "profile_note": PROFILE_NOTES[profile], "built": built, "machine": machine,
        "chapters_note": "This build holds all the chapters." if every else
        f"This build holds only chapters {', '.join(p.stem[:2] for p in executed)}."}
    config["sphinx"]["config"]["html_extra_path"] = [str(HERE / "extra"), str(assets)]
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    shutil.copy(HERE / "index.md", src / "index.md")     # the landing page, index.html (not a redirect)
    for nb in executed:
        book_copy(nb, src / nb.name, profile)
    dashboard.write_page(src / "results.md", profile=profile, run_dir=results_dir,
                         notebooks=[p.stem for p in executed], runs=runs, built=built, machine=machine)
    parts = [{"caption": "Chapters", "chapters": [{"file": nb.stem} for nb in executed]},
             {"caption": "Results", "chapters": [{"file": "results"}]}]
    if INSTRUCTOR_PAGE.is_file():
        page = src / "assignments" / "README.md"
        page.parent.mkdir()
        page.write_text(_relink(INSTRUCTOR_PAGE.read_text(), INSTRUCTOR_PAGE, src))
        parts.append({"caption": "For instructors", "chapters": [{"file": "assignments/README"}]})
    toc = {"format": "jb-book", "root": "index", "parts": parts}
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))


# 4. render + 5. check ----------------------------------------------------------------------------

def render(src: Path, out: Path) -> None:
    jb = Path(sys.executable).with_name("jupyter-book")
    if not jb.exists():
        raise BuildError("jupyter-book is not installed in this environment: `pip install -e \".[book]\"` "
                         "(or `make install`, which installs the book extra)")
    build_dir = src.parent / "site"
    shutil.rmtree(build_dir, ignore_errors=True)
    cmd = [str(jb), "build", str(src), "--path-output", str(build_dir), "--builder", "html", "-W", "-n", "--keep-going"]
    log("rendering: " + " ".join(cmd[1:]))
    res = subprocess.run(cmd, capture_output=True, text=True)
    html = build_dir / "_build" / "html"
    if res.returncode != 0 or not (html / "index.html").is_file():
        warnings = [ln for ln in (res.stdout + res.stderr).splitlines() if "WARNING" in ln or "ERROR" in ln]
        print("\n".join(warnings[-40:] or (res.stdout + res.stderr).splitlines()[-40:]), file=sys.stderr)
        raise BuildError(f"jupyter-book build failed ({len(warnings)} warnings/errors above; strict mode "
                         f"turns warnings into errors); sources in {src}")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(html, out)
    (out / ".nojekyll").touch()       # GitHub Pages: serve _static/ and friends as they are


def build(profile: str, only: list[str] | None, work: Path, out: Path, timeout: int, force: bool) -> dict:
    t0 = time.perf_counter()
    notebooks = select_notebooks(only)
    work.mkdir(parents=True, exist_ok=True)
    exec_dir = work / "executed" / profile
    exec_dir.mkdir(parents=True, exist_ok=True)
    results_root = work / "results"
    # The kernels inherit this process's environment: profile, records folder, this checkout's cvhelpers.
    os.environ["CVHELPERS_FAST"] = "1" if profile == "fast" else "0"
    os.environ["CVHELPERS_RESULTS_DIR"] = str(results_root)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    assets = vendor_assets(ROOT / "build" / "book-assets")
    runs = [execute(nb, exec_dir, profile, timeout, force) for nb in notebooks]
    t_exec = time.perf_counter() - t0
    built = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_text()
    assemble(work / "src", [exec_dir / nb.name for nb in notebooks], profile, runs, results_root / profile,
             assets, built, machine)
    t1 = time.perf_counter()
    render(work / "src", out)
    t_render = time.perf_counter() - t1
    problems = checker.check_site(out)
    if problems:
        print("\n".join(problems[:50]), file=sys.stderr)
        raise BuildError(f"the site checker found {len(problems)} problem(s) in {out} (listed above)")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    summary = {"profile": profile, "chapters": len(notebooks), "execute_s": round(t_exec, 1),
               "render_s": round(t_render, 1), "total_s": round(time.perf_counter() - t0, 1),
               "size_mb": round(size / 1e6, 1), "out": str(out)}
    (work / f"summary-{profile}.json").write_text(json.dumps({**summary, "runs": runs}, indent=1))
    reused = sum(r["reused"] for r in runs)
    log(f"{out}/index.html: {len(notebooks)} chapters, {profile} profile; notebooks {t_exec:.0f} s "
        f"({len(runs) - reused} executed, {reused} reused), rendering {t_render:.0f} s, {summary['size_mb']} MB; "
        "site check: no problems")
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=["fast", "full"],
                    help="default: the profile CVHELPERS_FAST selects if it is set, else fast")
    ap.add_argument("--only", nargs="+", metavar="NN", help="only the notebooks whose names start with these")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "book", help="build folder (default build/book)")
    ap.add_argument("--out", type=Path, default=ROOT / "_book", help="the site (default _book)")
    ap.add_argument("--timeout", type=int, default=3 * 3600, help="seconds allowed per cell (default 3 h)")
    ap.add_argument("--force", action="store_true", help="execute every notebook again, even if unchanged")
    args = ap.parse_args(argv)
    profile = args.profile
    if profile is None:
        raw = os.environ.get("CVHELPERS_FAST")
        if raw is None or not raw.strip():
            profile = "fast"
        else:
            sys.path.insert(0, str(ROOT))
            from cvhelpers.profile import name

            try:
                profile = name()
            except ValueError as exc:
                ap.error(str(exc))
    try:
        build(profile, args.only, args.work.resolve(), args.out.resolve(), args.timeout, args.force)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
