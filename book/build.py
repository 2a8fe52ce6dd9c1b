"""Build the executed course as a Jupyter Book 1.x site (``make book`` runs this).

Steps, all under ``--work`` (default ``build/book/``, ignored by git):

1. **execute** every notebook once with nbclient (widget state stored, so the widget snapshots
   render), in the chosen profile, with ``CVHELPERS_RESULTS_DIR`` pointing into the build, so the
   records the notebooks write are those of this run (``executed/<profile>/``, ``results/<profile>/``).
   An executed copy is reused while the notebook, the ``cvhelpers`` code and the profile are unchanged
   (``--force`` re-runs). A notebook whose execution fails does not stop the build: its partly
   executed copy (outputs up to the failing cell, ``<name>.failed.ipynb``, never reused) becomes the
   chapter, with an error banner under its title naming the failing cell and the error;
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

When chapters failed to execute, the other steps still run to the end (the whole site is built and
checked), then a summary lists each failed chapter (file, cell, error) and the exit status is 1.

Usage (from the repository root, in the course's environment with the ``book`` extra)::

    python book/build.py                       # fast profile (or CVHELPERS_FAST's), all chapters
    python book/build.py --profile full        # for publishing (hours; the full data sets)
    python book/build.py --only 00 01 02       # a subset of the chapters (the CI test does this)
    python book/build.py --notebooks-dir DIR   # the notebooks of another folder (the tests use this)
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
sys.path.insert(1, str(ROOT))   # this checkout's cvhelpers, whose home.py says where the course lives

from cvhelpers import home  # noqa: E402

import checker  # noqa: E402
import dashboard  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
INSTRUCTOR_PAGE = ROOT / "assignments" / "README.md"
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


def select_notebooks(only: list[str] | None, folder: Path = NOTEBOOKS) -> list[Path]:
    """The course notebooks in order, or those whose names start with one of ``only`` ("00", "01_conv")."""
    all_nbs = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not all_nbs:
        raise BuildError(f"no notebook NN_*.ipynb in {folder}")
    if not only:
        return all_nbs
    chosen = []
    for prefix in only:
        hits = [p for p in all_nbs if p.stem.startswith(prefix)]
        if not hits:
            raise BuildError(f"--only {prefix}: no notebook in {folder} starts with {prefix!r} "
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
    for f in sorted((ROOT / "cvhelpers").rglob("*.py")):  # subpackages too (fetch/, datasets/, filters/, ...)
        h.update(f.relative_to(ROOT).as_posix().encode() + f.read_bytes())
    return h.hexdigest()


def _one_line(text: str, limit: int = 200) -> str:
    """The first non-empty line of ``text`` without ANSI colours, at most ``limit`` characters."""
    lines = [ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", text or "").splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _failure(nb, cell_index: int | None, exc: Exception) -> dict:
    """What the banner and the summary say about a failed execution: the cell and the error."""
    if cell_index is None:          # the kernel did not start: no cell ran
        cell_index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), 0)
    source = nb.cells[cell_index].source if cell_index < len(nb.cells) else ""
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = getattr(exc, "evalue", None)
    if evalue is None:              # DeadKernelError, CellTimeoutError: the message is the error
        evalue = _one_line(str(exc))
    return {"cell_index": cell_index, "cell": cell_index + 1, "cells": len(nb.cells),
            "first_line": _one_line(source), "error": ename, "message": _one_line(str(evalue))}


def _failure_text(f: dict) -> str:
    error = f"{f['error']}: {f['message']}" if f["message"] else f["error"]
    return f"cell {f['cell']} of {f['cells']} ({f['first_line'] or 'empty'}): {error}"


def execute(nb_path: Path, dest_dir: Path, profile: str, timeout: int, force: bool) -> dict:
    """Run ``nb_path`` into ``dest_dir`` (unless an executed copy of the same source and profile is there).

    Returns the run (name, seconds, date, reused, machine, ``path`` of the executed copy). When a cell
    fails, the run has ``failed`` (the cell and the error, see ``_failure``) and its ``path`` is the
    partly executed copy ``<name>.failed.ipynb``; the executed copy of an earlier run is removed, so
    the next build executes the notebook again.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    dest = dest_dir / nb_path.name
    failed_copy = dest_dir / f"{nb_path.stem}.failed.ipynb"
    sha = _sha(nb_path)
    if dest.is_file() and not force:
        meta = nbformat.read(dest, as_version=4).metadata.get("cvbook", {})
        if meta.get("source_sha256") == sha and meta.get("profile") == profile and not meta.get("failed"):
            log(f"{nb_path.stem}: reusing the executed copy of {meta['date']} ({meta['seconds']:.0f} s)")
            return {"name": nb_path.stem, "seconds": meta["seconds"], "date": meta["date"], "reused": True,
                    "machine": meta.get("machine", "?"), "path": str(dest)}
    nb = nbformat.read(nb_path, as_version=4)
    current: dict = {}

    def started(cell, cell_index, **_):
        current["index"] = cell_index

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(nb_path.parent)}}, on_cell_start=started)
    log(f"{nb_path.stem}: executing ({profile} profile, at most {timeout} s per cell) ...")
    date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    failure = None
    try:
        client.execute()
    except (CellExecutionError, DeadKernelError, TimeoutError, RuntimeError) as exc:
        failure = _failure(nb, current.get("index"), exc)
    seconds = round(time.perf_counter() - t0, 1)
    nb.metadata["cvbook"] = {"source_sha256": sha, "profile": profile, "date": date, "seconds": seconds,
                             "machine": machine_text()}
    run = {"name": nb_path.stem, "seconds": seconds, "date": date, "reused": False, "machine": machine_text()}
    if failure is not None:
        nb.metadata["cvbook"]["failed"] = failure
        nbformat.write(nb, failed_copy)
        dest.unlink(missing_ok=True)          # never reuse an older copy over a failure: run it again next time
        log(f"{nb_path.stem}: FAILED after {seconds:.0f} s at {_failure_text(failure)}; "
            f"the chapter shows the partly executed copy {failed_copy}")
        return {**run, "failed": failure, "path": str(failed_copy)}
    tmp = dest.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, dest)
    failed_copy.unlink(missing_ok=True)
    log(f"{nb_path.stem}: done in {seconds:.0f} s")
    return {**run, "path": str(dest)}


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

def _code(text: str) -> str:
    """``text`` as a MyST inline code span, whatever backticks it holds."""
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0) + 1
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{'`' * ticks}{pad}{text}{pad}{'`' * ticks}"


def _error_text(f: dict) -> str:
    return _code(f"{f['error']}: {f['message']}" if f["message"] else f["error"])


def failure_banner(f: dict) -> str:
    """The error banner under the title of a chapter whose execution failed (``f``: see ``_failure``)."""
    cell = f"cell {f['cell']} of {f['cells']}" + (f" ({_code(f['first_line'])})" if f["first_line"] else "")
    return (f"\n\n:::{{error}}\n**Executing this chapter failed** at {cell}: {_error_text(f)}. "
            "This page shows the outputs up to that cell; the cells after it were not run in this build. "
            "Fix the notebook and run `make book` again.\n:::\n")


def book_copy(executed: Path, dest: Path, profile: str) -> None:
    """The executed notebook as the book shows it: a profile banner under the title, no badge images;
    when its execution failed, an error banner above the profile banner and one above the failing cell."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.get("cvbook", {})
    failed = meta.get("failed")
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
    if failed and first is not nb.cells[failed["cell_index"]]:
        marker = nbformat.v4.new_markdown_cell(
            f":::{{error}}\n**Execution stopped at the next cell**, which raised {_error_text(failed)}; "
            "the cells after it were not run.\n:::")
        nb.cells.insert(failed["cell_index"], marker)
    head, _, rest = first.source.partition("\n")
    first.source = head + (failure_banner(failed) if failed else "") + banner + rest
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
        return f"{label}({home.blob_url(repo_path, tree=file.is_dir())}{frag})"
    return re.sub(r"(!?)(\[[^\]]*\])\(([^)\s]+)\)", fix, text)


def assemble(src: Path, executed: list[Path], profile: str, runs: list[dict], results_dir: Path,
             assets: Path, built: str, machine: str, every: bool) -> None:
    """The book's sources in ``src``; ``executed``: the executed copies, one per chapter, in order
    (their file names may end in ``.failed.ipynb``); ``every``: whether these are all the chapters."""
    import yaml

    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    config = yaml.safe_load((HERE / "_config.yml").read_text())
    config["parse"]["myst_substitutions"] = {
        "profile": profile, "profile_note": PROFILE_NOTES[profile], "built": built, "machine": machine,
        "chapters_note": "This build holds all the chapters." if every else
        f"This build holds only chapters {', '.join(p.stem[:2] for p in executed)}."}
    config["sphinx"]["config"]["html_extra_path"] = [str(HERE / "extra"), str(assets)]
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    shutil.copy(HERE / "index.md", src / "index.md")     # the landing page, index.html (not a redirect)
    chapters = [Path(nb.name.replace(".failed.ipynb", ".ipynb")) for nb in executed]
    for nb, chapter in zip(executed, chapters):
        book_copy(nb, src / chapter.name, profile)
    dashboard.write_page(src / "results.md", profile=profile, run_dir=results_dir,
                         notebooks=[p.stem for p in chapters], runs=runs, built=built, machine=machine)
    parts = [{"caption": "Chapters", "chapters": [{"file": nb.stem} for nb in chapters]},
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


def build(profile: str, only: list[str] | None, work: Path, out: Path, timeout: int, force: bool,
          notebooks_dir: Path = NOTEBOOKS, failures: list[dict] | None = None) -> dict:
    """Build the book; the runs of the chapters whose execution failed are appended to ``failures``
    (the book is still built and checked: the caller reports them)."""
    t0 = time.perf_counter()
    failures = [] if failures is None else failures
    notebooks = select_notebooks(only, notebooks_dir)
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
    runs = []
    for nb in notebooks:
        run = execute(nb, exec_dir, profile, timeout, force)
        runs.append(run)
        if run.get("failed"):
            failures.append({**run, "notebook": str(nb)})
    t_exec = time.perf_counter() - t0
    built = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_text()
    every = len(notebooks) == len(select_notebooks(None, notebooks_dir))
    assemble(work / "src", [Path(r["path"]) for r in runs], profile, runs, results_root / profile,
             assets, built, machine, every)
    t1 = time.perf_counter()
    render(work / "src", out)
    t_render = time.perf_counter() - t1
    problems = checker.check_site(out)
    if problems:
        print("\n".join(problems[:50]), file=sys.stderr)
        raise BuildError(f"the site checker found {len(problems)} problem(s) in {out} (listed above)")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    summary = {"profile": profile, "chapters": len(notebooks), "failed": len(failures),
               "execute_s": round(t_exec, 1),
               "render_s": round(t_render, 1), "total_s": round(time.perf_counter() - t0, 1),
               "size_mb": round(size / 1e6, 1), "out": str(out)}
    (work / f"summary-{profile}.json").write_text(json.dumps({**summary, "runs": runs}, indent=1))
    reused = sum(r["reused"] for r in runs)
    log(f"{out}/index.html: {len(notebooks)} chapters, {profile} profile; notebooks {t_exec:.0f} s "
        f"({len(runs) - reused} executed, {reused} reused"
        + (f", {len(failures)} failed" if failures else "")
        + f"), rendering {t_render:.0f} s, {summary['size_mb']} MB; site check: no problems")
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
    ap.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS, metavar="DIR",
                    help="the folder of the NN_*.ipynb chapters (default notebooks/)")
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
    failures: list[dict] = []
    status = 0
    try:
        build(profile, args.only, args.work.resolve(), args.out.resolve(), args.timeout, args.force,
              args.notebooks_dir.resolve(), failures)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        status = 1
    if failures:
        report_failures(failures)
        status = 1
    return status


def report_failures(failures: list[dict]) -> None:
    """The summary at the end of a build in which chapters failed to execute."""
    lines = [f"error: {len(failures)} chapter(s) failed to execute; each is in the book up to its failing "
             "cell, under an error banner:"]
    for f in failures:
        nb = Path(f["notebook"])
        shown = nb.relative_to(ROOT) if nb.is_relative_to(ROOT) else nb
        lines += [f"  {shown}: {_failure_text(f['failed'])}",
                  f"    partly executed copy: {f['path']}"]
    lines.append("Fix these notebooks and run `make book` again (the chapters that succeeded are reused).")
    print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
