"""The course book (``make book``, ``book/build.py``): the site checker on hand-made sites, then a
real build of chapters 00-02 in the fast profile opened in headless Chromium.

The browser part serves the site with ``python -m http.server`` on 127.0.0.1 and also opens it
from ``file://``; it checks that MathJax typeset an equation (no raw ``$...$`` left), that a figure
is there, that the widget snapshot of chapter 01 rendered, and that no request left the machine.
A second build (chapter 02 and a notebook that raises) checks that a failing chapter does not
stop the book: it is shown up to the failing cell under an error banner, and reported at the end.
Screenshots go to ``test-artifacts/book-*.png`` (ignored by git). Needs the ``book`` extra
(jupyter-book 1.x), npm (the first build fetches MathJax and the widget renderer with
``npm pack``), Debian's ``chromium`` and the Python ``playwright`` package (the failing-chapter
build needs no browser); skipped with the reason when one is missing.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cvhelpers import home

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(f"test_book_{path.parent.name}_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


checker = _module(ROOT / "book" / "checker.py")
shared_data_dir = _module(ROOT / "tests" / "conftest.py").shared_data_dir


# ---- the site checker, on small hand-made sites -------------------------------------------------

def _site(tmp_path: Path, pages: dict[str, str]) -> Path:
    site = tmp_path / "site"
    for rel, text in pages.items():
        p = site / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return site


GOOD = {
    "index.html": """<html><head><link rel="stylesheet" href="_static/s.css">
        <script src="_vendor/m.js"></script></head><body id="top">
        <a href="ch/one.html#sec-1">one</a> <a href="#top">top</a> <a href="https://example.org/">out</a>
        <a href="mailto:a@b.c">mail</a> <img src="fig.png"> <a href="_sources/one.ipynb">download</a>
        <a href="ch/">folder</a></body></html>""",
    "ch/one.html": '<html><body><h2 id="sec-1">S</h2><a href="../index.html">home</a></body></html>',
    "ch/index.html": "<html></html>",
    "_static/s.css": "body { background: url('../fig.png') } /* url(http://commented.out/x.png) */",
    "_vendor/m.js": "", "fig.png": "", "_sources/one.ipynb": "{}",
    "_vendor/demo.html": '<script src="https://cdn.example.org/x.js"></script>',   # third-party: not checked
}


def test_checker_passes_a_clean_site(tmp_path):
    assert checker.check_site(_site(tmp_path, GOOD)) == []


@pytest.mark.parametrize("page, expected", [
    ('<img src="missing.png">', "missing file <img> missing.png"),
    ('<a href="ch/two.html">two</a>', "missing file <a> ch/two.html"),
    ('<a href="ch/one.html#nowhere">x</a>', "broken anchor <a> ch/one.html#nowhere"),
    ('<a href="#nowhere">x</a>', "broken anchor <a> #nowhere"),
    ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/tex-mml-chtml.js"></script>', "external asset <script>"),
    ('<link rel="stylesheet" href="//fonts.example.org/f.css">', "external asset <link>"),
    ('<img src="https://colab.research.google.com/assets/colab-badge.svg">', "external asset <img>"),
    ('<a href="ch/one.ipynb">nb</a>', "leftover .ipynb link <a> ch/one.ipynb"),
])
def test_checker_finds_each_kind_of_problem(tmp_path, page, expected):
    site = _site(tmp_path, {**GOOD, "bad.html": f"<html><body>{page}</body></html>"})
    problems = checker.check_site(site)
    assert len(problems) == 1, problems
    assert problems[0].startswith("bad.html: ") and expected in problems[0], problems


def test_checker_reads_css(tmp_path):
    css = "@import 'https://fonts.example.org/f.css'; .a { background: url(../none.png) }"
    problems = checker.check_site(_site(tmp_path, {**GOOD, "_static/s.css": css}))
    assert sorted(p.split(": ", 1)[1] for p in problems) == [
        "external asset (CSS) https://fonts.example.org/f.css", "missing file (CSS) ../none.png"]


def test_checker_needs_an_index(tmp_path):
    (tmp_path / "x.html").write_text("<html></html>")
    assert "no index.html" in checker.check_site(tmp_path)[0]
    assert checker.main([str(tmp_path)]) == 1


# ---- pieces of the build: links of the instructor page, the dashboard -----------------------------

def test_instructor_page_links_point_into_the_book_or_to_the_repository(tmp_path):
    build = _module(ROOT / "book" / "build.py")
    src = tmp_path / "src"
    (src / "assignments").mkdir(parents=True)
    (src / "01_convolution_as_filtering.ipynb").write_text("{}")
    (src / "assignments" / "grading.md").write_text("x")
    text = ("[ch](../notebooks/01_convolution_as_filtering.ipynb#exercises) [gone](../notebooks/09_cnn_architectures.ipynb) "
            "[page](grading.md) [code](../cvhelpers/assignments.py) [web](https://example.org/a.ipynb) [sec](#top)"
            " ![fig](../data/README.md)")
    out = build._relink(text, ROOT / "assignments" / "README.md", src)
    assert (src / "data" / "README.md").read_bytes() == (ROOT / "data" / "README.md").read_bytes()   # copied
    repo = home.blob_url("").rstrip("/")   # the course on GitHub, on its branch (cvhelpers/home.py)
    assert out == ("[ch](../01_convolution_as_filtering.ipynb#exercises) "
                   f"[gone]({repo}/notebooks/09_cnn_architectures.ipynb) [page](grading.md) "
                   f"[code]({repo}/cvhelpers/assignments.py) [web](https://example.org/a.ipynb) [sec](#top)"
                   " ![fig](../data/README.md)")


def test_dashboard_from_the_records_of_a_run(tmp_path, monkeypatch):
    dashboard = _module(ROOT / "book" / "dashboard.py")
    monkeypatch.setenv("CVHELPERS_RESULTS_DIR", str(tmp_path / "records"))
    monkeypatch.setenv("CVHELPERS_FAST", "1")
    from cvhelpers import results

    results.record("04_hoda", history={"accuracy": [0.9, 0.95], "val_accuracy": [0.92, 0.94]},
                   test={"accuracy": 0.9512}, wall_time_s=42.0)
    results.record("10_detection", test={"map50": 0.5})
    results.record("12_gradcam", test={"accuracy": 0.6})             # a chapter not in this build
    runs = [{"name": "04_persian_digits", "seconds": 50.0, "date": "2026-01-01 10:00 UTC", "reused": False},
            {"name": "10_object_detection", "seconds": 60.0, "date": "2026-01-01 10:01 UTC", "reused": True}]
    page = dashboard.write_page(tmp_path / "src" / "results.md", profile="fast",
                                run_dir=tmp_path / "records" / "fast", notebooks=[r["name"] for r in runs],
                                runs=runs, built="2026-01-01 10:02 UTC", machine="2 CPUs")
    text = page.read_text()
    hoda = next(line for line in text.splitlines() if line.startswith("| course 32-64-64 convnet | HODA"))
    assert "≥ 99 %" in hoda and "**95.12 %** (2 epochs, 42 s)" in hoda
    assert "99.12 %" in hoda                      # the committed full-profile record, results/full/04_hoda.json
    assert "| `10_detection` | **map50 0.5** |" in text and "12_gradcam" not in text
    assert "an earlier build, same notebook and profile" in text and "**fast profile**" in text
    assert (tmp_path / "src" / "results_figures" / "curve_04_hoda.png").stat().st_size > 1000
    assert "![learning curves of 04_hoda](results_figures/curve_04_hoda.png)" in text


def test_failure_banner_names_the_cell_and_the_error():
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    build = _module(ROOT / "book" / "build.py")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"),
                                         nbformat.v4.new_code_cell("\n  train(model)  # slow\nmore()")])
    f = build._failure(nb, 1, CellTimeoutError("\x1b[31mA cell timed out while it was being executed, after 5 "
                                               "seconds.\x1b[0m\nThe message was: Cell execution timed out."))
    assert build._failure_text(f) == ("cell 2 of 2 (train(model)  # slow): CellTimeoutError: A cell timed out "
                                      "while it was being executed, after 5 seconds.")
    f = build._failure(nb, None, DeadKernelError("Kernel died"))              # the kernel never started
    assert (f["cell"], f["error"], f["message"]) == (2, "DeadKernelError", "Kernel died")
    f = {**f, "first_line": "x = `a`", "message": "``b``"}
    assert "(`` x = `a` ``): ``` DeadKernelError: ``b`` ```." in build.failure_banner(f)


# ---- a real build of chapters 00-02, opened in Chromium ------------------------------------------

def _build_requirements_missing(browser: bool = True) -> str | None:
    if not Path(sys.executable).with_name("jupyter-book").exists():
        return "jupyter-book is not installed here: pip install -e '.[book]'"
    if shutil.which("npm") is None and not (ROOT / "build" / "book-assets" / "_vendor" / ".complete").is_file():
        return "npm is missing (the first build fetches MathJax and the widget renderer with npm pack)"
    if not browser:
        return None
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: install it with `apt-get install -y chromium`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package `playwright` is not installed"
    return None


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    """Chapters 00-02 built in the fast profile into a temp folder; yields the site's folder."""
    missing = _build_requirements_missing()
    if missing:
        pytest.skip(missing)
    data = shared_data_dir()
    if data is None:
        pytest.skip("the offline data mirror is not here (set CVHELPERS_DATA_DIR): chapter 00 loads MNIST")
    tmp = tmp_path_factory.mktemp("book")
    for old in ARTIFACTS.glob("book-*"):          # screenshots and log of an earlier run
        old.unlink()
    env = {**os.environ, "CVHELPERS_FAST": "1", "CVHELPERS_DATA_DIR": str(data)}
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, str(ROOT / "book" / "build.py"), "--only", "00", "01", "02",
                          "--work", str(tmp / "work"), "--out", str(tmp / "site"), "--timeout", "600"],
                         env=env, capture_output=True, text=True, timeout=900)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "book-build.log").write_text(res.stdout + res.stderr + f"\n{time.perf_counter() - t0:.0f} s\n")
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return tmp / "site"


@pytest.mark.slow
def test_small_book_builds_and_checks_clean(small_book):
    names = sorted(p.name for p in small_book.glob("*.html"))
    for page in ("index.html", "00_setup.html", "01_convolution_as_filtering.html",
                 "02_convnet_building_blocks.html", "results.html"):
        assert page in names
    assert not (small_book / "03_mnist_convnets.html").exists()
    assert checker.check_site(small_book) == []
    chapter = (small_book / "01_convolution_as_filtering.html").read_text()
    assert "fast profile" in chapter and "colab-badge.svg" not in chapter
    assert "The widgets show the state they had at the end of that run" in chapter
    assert "The widgets show" not in (small_book / "02_convnet_building_blocks.html").read_text()
    assert "application/vnd.jupyter.widget-state+json" in chapter       # the widget snapshot is in the page
    results = (small_book / "results.html").read_text()
    assert "fast profile" in results and "full profile (committed)" in results


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(small_book):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                            cwd=small_book, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "/index.html", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("python -m http.server did not start")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


_TYPESET = "() => document.querySelectorAll('mjx-container').length > 0"
_MATH = """() => { const m = [...document.querySelectorAll('main .math')];
    return [m.length, m.filter(e => e.querySelector('mjx-container')).length]; }"""
# The visible text of a chapter outside code and outputs (where a `$` could be legitimate).
_PROSE = """() => { const m = document.querySelector('main').cloneNode(true);
    m.querySelectorAll('pre, code, .cell_output, mjx-container, script').forEach(e => e.remove());
    return m.innerText; }"""


def _open_pages(base: str, label: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    local = ("http://127.0.0.1", "file://", "data:", "blob:", "about:")
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 950})
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(local) else None)
            page.on("pageerror", lambda e: outside.append(f"page error: {e}"))

            # 1. a chapter with math (01: the convolution sum) and figures
            page.goto(f"{base}/01_convolution_as_filtering.html")
            page.wait_for_function(_TYPESET, timeout=60_000)
            total, typeset = page.evaluate(_MATH)
            assert total >= 5 and typeset == total, f"{typeset} of the {total} equations of chapter 01 typeset"
            prose = page.evaluate(_PROSE)
            raw = [w for w in ("$", "\\sum", "\\(") if w in prose]
            assert not raw, f"raw TeX ({raw}) left in the text of chapter 01"
            imgs = page.eval_on_selector_all(
                ".cell_output img", "els => els.filter(e => e.complete && e.naturalWidth > 0).length")
            assert imgs >= 1, "no figure rendered in chapter 01"
            page.wait_for_function("() => document.querySelector('.widget-image img, .jupyter-widgets img') !== null",
                                   timeout=60_000)   # the kernel explorer's snapshot, drawn by the widget renderer
            page.locator("main div.math").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"book-{label}-01-math.png"))
            page.locator(".jupyter-widgets").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"book-{label}-01-widget.png"))

            # 2. the landing page: navigation to every chapter, typeset math nowhere needed
            page.goto(f"{base}/index.html")
            links = page.eval_on_selector_all("nav a.reference.internal", "els => els.map(e => e.getAttribute('href'))")
            assert any("02_convnet_building_blocks.html" in h for h in links), links
            page.screenshot(path=str(ARTIFACTS / f"book-{label}-index.png"))

            # 3. the results dashboard: its table and the learning curves it drew
            page.goto(f"{base}/results.html")          # goto waits for the load event: images are in
            assert page.locator("main table").count() >= 2
            curves = page.eval_on_selector_all(
                "main img", "els => els.filter(e => e.complete && e.naturalWidth > 0).length")
            assert curves >= 1, "no learning curve on the dashboard"
            page.screenshot(path=str(ARTIFACTS / f"book-{label}-results.png"), full_page=True)
        finally:
            browser.close()
    assert outside == [], f"requests left the machine or failed: {outside[:5]}"


@pytest.mark.slow
@pytest.mark.browser
def test_small_book_renders_offline_served(served):
    _open_pages(served, "served")


@pytest.mark.slow
@pytest.mark.browser
def test_small_book_renders_offline_from_disk(small_book):
    _open_pages(small_book.as_uri(), "file")


# ---- a chapter that fails: the build goes on, shows it, reports it --------------------------------

def _failing_notebook(path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[
        new_markdown_cell("# A chapter that fails\n\nIt prints, then raises."),
        new_code_cell('print("printed before the failure")'),
        new_code_cell('# the failing cell\nraise ValueError("deliberate failure, `x` was 3")'),
        new_code_cell('print("never printed")'),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)


@pytest.mark.slow
def test_book_goes_on_past_a_failing_chapter(tmp_path):
    """Chapter 02 and a notebook that raises in its third cell: both chapters are in the checked site,
    the failing one under a banner naming the cell and the error; the build then reports it and fails."""
    missing = _build_requirements_missing(browser=False)
    if missing:
        pytest.skip(missing)
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    shutil.copy(ROOT / "notebooks" / "02_convnet_building_blocks.ipynb", nbs)
    _failing_notebook(nbs / "99_fails.ipynb")
    work, site = tmp_path / "work", tmp_path / "site"
    env = {**os.environ, "CVHELPERS_FAST": "1"}
    cmd = [sys.executable, str(ROOT / "book" / "build.py"), "--notebooks-dir", str(nbs),
           "--work", str(work), "--out", str(site), "--timeout", "300"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out[-4000:]
    summary = res.stderr[res.stderr.index("1 chapter(s) failed to execute"):]
    assert "99_fails.ipynb: cell 3 of 4 (# the failing cell): ValueError: deliberate failure, `x` was 3" in summary
    assert "02_convnet" not in summary
    assert "site check: no problems" in res.stdout                     # rendered and checked all the same
    assert checker.check_site(site) == []

    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (site / "99_fails.html").read_text()))    # its text
    assert ("Executing this chapter failed at cell 3 of 4 ( # the failing cell ): ValueError: deliberate "
            "failure, `x` was 3 . This page shows the outputs up to that cell") in page    # the banner
    assert page.index("Executing this chapter failed") < page.index("fast profile") < page.index("It prints")
    assert "Execution stopped at the next cell , which raised ValueError: deliberate failure" in page
    assert "printed before the failure" in page                          # the outputs up to the failing cell
    assert page.count("never printed") == 1                              # its source, not an output
    good = (site / "02_convnet_building_blocks.html").read_text()
    assert "fast profile" in good and "Executing this chapter failed" not in good
    results = (site / "results.html").read_text()
    assert "failed" in results and "ValueError" in results

    executed = work / "executed" / "fast"
    assert (executed / "02_convnet_building_blocks.ipynb").is_file()
    assert (executed / "99_fails.failed.ipynb").is_file() and not (executed / "99_fails.ipynb").exists()
    # the next build reuses chapter 02 but executes the failed chapter again
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 1 and "02_convnet_building_blocks: reusing" in res.stdout, res.stdout[-3000:]
    assert "99_fails: executing" in res.stdout and "99_fails: FAILED" in res.stdout
