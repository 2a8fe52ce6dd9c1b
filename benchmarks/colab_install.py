"""What the Colab setup cell costs: install time and download size in Colab's pinned environment.

    python benchmarks/colab_install.py "cvhelpers @ SRC" ["cvhelpers[grading] @ SRC" ...]

needs `make colab-check` to have built build/colab-venv (Python 3.13, Colab's pins). For each spec, a
fresh copy of that venv gets `pip install --no-cache-dir SPEC` (what the setup cell runs, every
download from the registry), timed; then the wheels of what it installed are downloaded once more
(`pip download --no-deps`) and summed: the download size. Prints one line per spec, and which of
Colab's pins the install replaced. SRC: a folder (`git archive` of a commit) or a URL.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "colab"))
import check  # noqa: E402  (tests/colab/check.py: the pins and their comparison)


def measure(spec: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="colab-install-") as tmp:
        venv = Path(tmp, "venv")
        shutil.copytree(check.VENV, venv, symlinks=True)
        py = venv / "bin" / "python"
        baseline = json.loads((check.VENV / ".baseline.json").read_text())
        extra = sorted(set(check.installed_versions(py)) - set(baseline))
        if extra:   # what colab-check's course install added: back to Colab's state
            subprocess.run([str(py), "-m", "pip", "uninstall", "-q", "-y", *extra], check=True)
        report = Path(tmp, "report.json")
        t = time.monotonic()
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-cache-dir", "--report", str(report), spec],
                       check=True, stderr=subprocess.DEVNULL)
        seconds = time.monotonic() - t
        items = json.loads(report.read_text())["install"]
        wheels = [f"{i['metadata']['name']}=={i['metadata']['version']}" for i in items
                  if i["metadata"]["name"] != "cvhelpers"]
        dl = Path(tmp, "dl")
        if wheels:
            subprocess.run([str(py), "-m", "pip", "download", "-q", "--no-cache-dir", "--no-deps", "-d", str(dl), *wheels],
                           check=True, stderr=subprocess.DEVNULL)
        size = sum(f.stat().st_size for f in dl.glob("*")) if dl.exists() else 0
        replaced = check.compare(check.read_pins(), check.installed_versions(py))
    return {"spec": spec, "seconds": seconds, "packages": len(items), "download_mb": size / 1e6,
            "replaced": replaced}


def main(specs: list[str]) -> int:
    if not (check.VENV / "bin" / "python").exists():
        print("no build/colab-venv: run `make colab-check` first", file=sys.stderr)
        return 2
    for spec in specs:
        r = measure(spec)
        print(f"{r['spec']}: {r['seconds']:.0f} s, {r['packages']} packages, {r['download_mb']:.1f} MB downloaded; "
              f"Colab pins replaced: {len(r['replaced'])}" + (f" ({'; '.join(r['replaced'][:8])}...)" if r["replaced"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) if sys.argv[1:] else (print(__doc__), 2)[1])
