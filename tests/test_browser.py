"""The kernel explorer of notebook 01, live in JupyterLab in a real (headless) Chromium.

Starts JupyterLab on 127.0.0.1 (free port, fresh config/data/runtime dirs in a temp dir), opens
a copy of notebook 01 reduced to its setup cell and the kernel-explorer cell, runs it, then picks
another preset kernel and types one weight, and checks that the rendered output image changed
each time. Screenshots go to ``test-artifacts/`` (ignored by git).

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the Python ``playwright``
package (``playwright install`` is not needed: we launch /usr/bin/chromium). Skipped, with the
reason, when either is missing. Run it alone with ``pytest -m browser``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_convolution_as_filtering.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXPLORER = ".cvh-kernel-explorer"
IMG = f"{EXPLORER} img"


def _requirements_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: install it with `apt-get install -y chromium`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package `playwright` is not installed (pip install playwright)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _explorer_notebook(dest: Path) -> None:
    """Notebook 01's setup cell, hyper-parameter cell and kernel-explorer cell, as a new notebook."""
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "P = Profile(" in c.source]
    widget = [c for c in code if "widget" in c.metadata.get("tags", []) and "kernel_explorer(" in c.source]
    assert code and "env = setup()" in code[0].source, "notebook 01 must start with the setup cell"
    assert params, "notebook 01 must have a hyper-parameter cell (P = Profile(...))"
    assert widget, "notebook 01 must have a code cell tagged 'widget' that calls kernel_explorer("
    nb.cells = [code[0], params[0], widget[0]]
    nbformat.write(nb, dest)


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1 with fresh state; yields (base_url, token, env, log)."""
    missing = _requirements_missing()
    if missing:
        pytest.skip(missing)
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("browser-*"):          # screenshots of an earlier run
        old.unlink()
    port, token = _free_port(), "cvh-browser-test"
    root = tmp_path / "work"
    root.mkdir()
    _explorer_notebook(root / "explorer.ipynb")
    settings = tmp_path / "lab-settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false"}))
    env = dict(os.environ)
    env.update({
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "PYTHONPATH": os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
        "CVHELPERS_FAST": "1", "TMPDIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"), "TF_CPP_MIN_LOG_LEVEL": "2",
    })
    log = tmp_path / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
           "--LanguageServerManager.autodetect=False", "--LabApp.expose_app_in_browser=True", "--allow-root"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within 90 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, token, env, log
    finally:
        proc.terminate()                      # the server shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(log, ARTIFACTS / "browser-jupyterlab.log")


_NEW_IMAGE = """([sel, old]) => {
    const img = document.querySelector(sel);
    const failed = [...document.querySelectorAll('.jp-OutputArea-output')]
        .some(e => e.textContent.includes('Traceback'));
    return failed || (img !== null && img.src !== old && img.complete && img.naturalWidth > 0);
}"""


def _no_traceback(page) -> None:
    outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
    errors = [t for t in outputs if "Traceback" in t]
    assert not errors, "a notebook cell failed:\n" + errors[0][-2000:]


def _pixels(png: bytes):
    import io

    import matplotlib.image as mpimg

    return mpimg.imread(io.BytesIO(png), format="png")


def test_kernel_explorer_live_in_jupyterlab(jupyterlab):
    from playwright.sync_api import sync_playwright

    base, token, env, _log = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    browser_env = {k: env[k] for k in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "PATH", "HOME") if k in env}
    # Chromium puts a Unix socket in TMPDIR and aborts when its path is over ~107 characters, which
    # pytest's tmp_path (deeper still under pytest-xdist workers) can exceed: give it a short one.
    browser_env["TMPDIR"] = tempfile.mkdtemp(prefix="cvh-chromium-")
    with sync_playwright() as pw:
        console: list[str] = []
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
                                     env=browser_env)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.goto(f"{base}/lab/tree/explorer.ipynb?token={token}")
            # the kernel is ready when the status bar says "... | Idle" (the toolbar says idle too early)
            page.wait_for_function("""() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
                .some(e => e.textContent.trim().endsWith('| Idle') && !e.textContent.startsWith('No Kernel'))""",
                                   timeout=120_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(_NEW_IMAGE, arg=[IMG, ""], timeout=int(os.environ.get('CVH_BROWSER_TIMEOUT', 180)) * 1000)
            _no_traceback(page)
            explorer = page.locator(EXPLORER)
            explorer.scroll_into_view_if_needed()
            shots = {"initial": page.locator(IMG).screenshot(path=str(ARTIFACTS / "browser-1-initial.png"))}
            explorer.screenshot(path=str(ARTIFACTS / "browser-1-initial-explorer.png"))
            src = page.locator(IMG).get_attribute("src")

            # 1. another preset kernel
            page.select_option(f"{EXPLORER} .cvh-preset select", label="Laplacian 8")
            page.wait_for_function(_NEW_IMAGE, arg=[IMG, src], timeout=60_000)
            _no_traceback(page)
            shots["preset"] = page.locator(IMG).screenshot(path=str(ARTIFACTS / "browser-2-laplacian8.png"))
            src = page.locator(IMG).get_attribute("src")

            # 2. one weight typed by hand: the centre of the grid
            box = page.locator(f"{EXPLORER} .cvh-weight input").nth(4)
            box.fill("-2")
            box.press("Enter")
            page.wait_for_function(_NEW_IMAGE, arg=[IMG, src], timeout=60_000)
            _no_traceback(page)
            shots["weight"] = page.locator(IMG).screenshot(path=str(ARTIFACTS / "browser-3-weight.png"))
            explorer.screenshot(path=str(ARTIFACTS / "browser-3-weight-explorer.png"))
            selected = page.eval_on_selector(f"{EXPLORER} .cvh-preset select",
                                             "s => s.options[s.selectedIndex].textContent")
            assert selected == "custom"
            assert page.locator(IMG).count() == 1                # redrawn in place, never stacked
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser-failure-page.png"), full_page=True)
            (ARTIFACTS / "browser-failure-page.txt").write_text(page.inner_text("body") + "\n\nconsole:\n"
                                                                + "\n".join(console))
            raise
        finally:
            browser.close()

    a, b, c = (_pixels(shots[k]) for k in ("initial", "preset", "weight"))
    assert a.shape == b.shape == c.shape
    assert abs(a - b).mean() > 0.01, "the image did not change after picking another kernel"
    assert abs(b - c).mean() > 0.001, "the image did not change after editing a weight"
