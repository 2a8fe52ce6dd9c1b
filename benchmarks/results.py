"""Run training notebooks in a profile, then print the "book vs this course" table from their records.

Each notebook records its test accuracy, history and training time with
``cvhelpers.results.record`` into ``results/<profile>/<name>.json``; this script executes the
notebooks (with nbclient, the engine of ``jupyter nbconvert --execute``, into a temporary
folder, so the committed notebooks
stay clean), times them cell by cell, and turns the records into a markdown table.

Usage (from the repository root)::

    python benchmarks/results.py                      # full profile, notebooks 03 and 04, then the table
    python benchmarks/results.py --table-only         # just the table from the existing records
    python benchmarks/results.py --profile fast 04_persian_digits --markdown /tmp/t.md
    python benchmarks/results.py 03_mnist_convnets --cells 1,3-8,32-38   # only some cells (Géron's CNNs)

The full profile is the default: ``CVHELPERS_FAST`` is removed from the notebooks' environment.
Data still come from ``CVHELPERS_DATA_DIR`` / the cache as usual (the offline mirror holds the
full MNIST, Fashion-MNIST and HODA sets). A notebook that fails or runs past ``--timeout`` is
reported as such; the records it wrote before stopping are still used, and missing ones show as
"not run". ``--timeout`` is one deadline per notebook: whatever cell is running then is
stopped and the partly executed notebook is saved (``--keep DIR`` chooses where).
``--cells`` runs only the listed cells (indices into the notebook's cells, as nbformat counts
them, markdown included); the setup and hyper-parameter cells must be among them.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cvhelpers import results  # noqa: E402

NOTEBOOKS = ["03_mnist_convnets", "04_persian_digits"]

# (record name, what, data, book figure as text, book/target accuracy or None)
ROWS = [
    ("03_mnist_chollet", "Chollet's 3×3 convnet", "MNIST", "99.1 % (Chollet, ch. 8)", 0.991),
    ("03_fashion_geron", "Géron's CNN", "Fashion-MNIST", "> 92 % (Géron, ch. 14)", 0.92),
    ("03_fashion_geron_bn", "Géron's CNN + batch norm, cosine decay", "Fashion-MNIST", "≥ 92 % (course target)", 0.92),
    ("04_hoda", "course 32-64-64 convnet", "HODA (Persian)", "≥ 99 % (course target)", 0.99),
    ("03_mnist_dense", "dense baseline (512 units)", "MNIST", "—", None),
    ("03_mnist_lenet5", "LeNet-5 (tanh, avg-pool, 32×32)", "MNIST", "—", None),
    ("04_mnist_course_model", "course 32-64-64 convnet", "MNIST", "—", None),
    ("05_from_scratch", "convnet from scratch (180 px)", "cats vs dogs", "69.5 % (Chollet, ch. 8)", 0.695),
    ("06_augmentation", "+ augmentation and dropout", "cats vs dogs", "83.5 % (Chollet, ch. 8)", 0.835),
    ("07_feature_extraction", "pretrained features + dense classifier", "cats vs dogs", "≈ 97 % (VGG16, Chollet)", 0.97),
    ("07_frozen_end_to_end", "frozen base + augmentation", "cats vs dogs", "≈ 98 % (VGG16, Chollet)", 0.98),
    ("08_fine_tuning", "fine-tuning the top block", "cats vs dogs", "98.5 % (VGG16, Chollet)", 0.985),
    ("08_modern_backbone", "a modern keras.applications backbone", "cats vs dogs", "—", None),
]

# seed sweeps written by benchmarks/fashion_geron.py: (record name, label per recipe)
_GERON = {"book": "the book's recipe (batch 32, constant rate, best val-loss epoch)",
          "batchnorm": "+ batch norm, cosine decay, batch 64"}
SWEEPS = [("03_fashion_geron_seeds", _GERON), ("03_fashion_geron_bn_e20", _GERON), ("03_fashion_geron_bn_e30", _GERON)]


def parse_cells(spec: str | None) -> set[int] | None:
    """``"1,3-5,9"`` -> ``{1, 3, 4, 5, 9}``; ``None`` or ``""`` -> ``None`` (all cells).

    >>> sorted(parse_cells("1,3-5, 9"))
    [1, 3, 4, 5, 9]
    >>> parse_cells(None) is None
    True
    """
    if not spec:
        return None
    cells: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            lo, _, hi = part.partition("-")
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise ValueError(f"--cells: {part!r} is not an index or a range like 3-8") from None
        if first < 0 or last < first:
            raise ValueError(f"--cells: {part!r} is not an increasing range of cell indices")
        cells.update(range(first, last + 1))
    return cells


def run_notebook(name: str, profile: str, timeout: int, keep: Path | None, cells_to_run: set[int] | None = None) -> dict:
    """Execute notebooks/<name>.ipynb in ``profile`` with a deadline of ``timeout`` seconds.

    Runs cell by cell (nbclient), so that a notebook stopped by the deadline or by an error is
    still saved, executed as far as it got, next to the cell timings. Returns the status, the
    wall time, per-cell times and the load averages before and after (the machine may be shared).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = ROOT / "notebooks" / f"{name}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    nb = nbformat.read(path, as_version=4)
    saved_env = dict(os.environ)
    os.environ.pop("CVHELPERS_FAST", None)
    if profile == "fast":
        os.environ["CVHELPERS_FAST"] = "1"
    os.environ.setdefault("CVHELPERS_RESULTS_DIR", str(ROOT / "results"))
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    out_dir = keep or Path(tempfile.mkdtemp(prefix=f"cvbench-{name}-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    load_before = os.getloadavg()
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    print(f"[{started}] running {name} ({profile} profile, deadline {timeout} s) ...", flush=True)
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    status, error, cells = "ok", "", []
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or (cells_to_run is not None and index not in cells_to_run):
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 1:
                    status = f"stopped at the {timeout} s deadline"
                    break
                client.timeout = int(remaining)
                t0 = time.perf_counter()
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    status = f"stopped at the {timeout} s deadline"
                except CellExecutionError as exc:
                    status, error = "failed", str(exc)[-3000:]
                finally:
                    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                    cells.append({"cell": index, "seconds": round(time.perf_counter() - t0, 1), "first_line": first[:80]})
                if status != "ok":
                    break
    except DeadKernelError as exc:
        status, error = "kernel died", str(exc)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        nbformat.write(nb, out_dir / f"{name}.ipynb")
    wall = time.perf_counter() - start
    print(f"    {name}: {status} in {wall:.0f} s (executed copy: {out_dir / (name + '.ipynb')})", flush=True)
    if error:
        print(error, file=sys.stderr)
    return {"notebook": name, "profile": profile, "status": status, "wall_time_s": round(wall, 1),
            "started": started, "cells_run": "all" if cells_to_run is None else sorted(cells_to_run),
            "loadavg_before": [round(v, 2) for v in load_before],
            "loadavg_after": [round(v, 2) for v in os.getloadavg()], "executed_copy": str(out_dir),
            "cells": cells}


def _ranges(indices) -> str:
    """[1, 3, 4, 5, 9] -> "1, 3-5, 9" (the inverse of parse_cells).

    >>> _ranges([1, 3, 4, 5, 9])
    '1, 3-5, 9'
    """
    out, indices = [], sorted(indices)
    for i in indices:
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in out)


def _fmt_pct(v) -> str:
    return "—" if v is None else f"{100 * v:.2f} %"


def markdown_table(profile: str, runs: list[dict] | None = None) -> str:
    """The "book vs this course" table (and the notebook wall times, if ``runs`` is given)."""
    lines = [f"### Book vs this course ({profile} profile)", "",
             "| model | data | book | this course | epochs | training time | vs book | run on |",
             "|---|---|---|---|---|---|---|---|"]
    machines = {}
    for name, what, data, book_text, book in ROWS:
        try:
            r = results.load(name, profile)
        except FileNotFoundError:
            lines.append(f"| {what} | {data} | {book_text} | not run | | | | |")
            continue
        acc = r["test"].get("accuracy")
        verdict = "" if book is None or acc is None else ("reached" if acc >= book else "below")
        m = r.get("machine", {})
        machine = f"{m.get('cpus', '?')} CPUs" + (f", GPU {', '.join(m['gpus'])}" if m.get("gpus") else ", no GPU")
        machines[machine] = m
        t = r.get("wall_time_s")
        epochs = f"{r.get('epochs')} (weights of epoch {r['best_epoch']})" if r.get("best_epoch") else r.get("epochs")
        lines.append(f"| {what} | {r.get('data') or data} | {book_text} | **{_fmt_pct(acc)}** | {epochs} | "
                     f"{'—' if t is None else f'{t:.0f} s'} | {verdict} | {machine} |")
    try:
        tr = results.load("04_hoda_transfer", profile)["test"]
        lines += ["", "HODA with few labelled digits (course model, all 20,000 test digits):", "",
                  "| digits per class | from scratch | fine-tuned from MNIST |", "|---|---|---|"]
        for n in sorted(tr["accuracy_scratch"], key=int):
            lines.append(f"| {n} | {_fmt_pct(tr['accuracy_scratch'][n])} | {_fmt_pct(tr['accuracy_finetuned'][n])} |")
    except (FileNotFoundError, KeyError):
        pass
    sweeps = []
    for name, label in SWEEPS:
        try:
            rec = results.load(name, profile)
        except FileNotFoundError:
            continue
        for run_recipe in label:
            accs = rec.get("test", {}).get(run_recipe)
            mine = [r for r in rec.get("runs", []) if r.get("recipe") == run_recipe]
            if not accs or not mine:
                continue
            sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
            m = rec.get("machine", {})
            where = f"GPU {', '.join(m['gpus'])}" if m.get("gpus") else f"{m.get('cpus', '?')} CPUs, no GPU"
            sweeps.append(f"| {label[run_recipe]} | {mine[0]['epochs']} | {len(accs)} | "
                          f"**{_fmt_pct(statistics.mean(accs))}** ± {100 * sd:.2f} | "
                          f"{_fmt_pct(min(accs))} – {_fmt_pct(max(accs))} | "
                          f"{statistics.mean(r['s_per_epoch'] for r in mine):.1f} s | "
                          f"{where}, Keras {m.get('keras', '?')} ({m.get('keras_backend', '?')}) |")
    if sweeps:
        lines += ["", "Géron's CNN on Fashion-MNIST over several seeds (`benchmarks/fashion_geron.py`; book: > 92 %):", "",
                  "| recipe | epochs | seeds | test accuracy, mean ± sd | min – max | time per epoch | run on |",
                  "|---|---|---|---|---|---|---|"] + sweeps
    if not runs:
        log = results.results_dir(profile) / "benchmark_runs.json"
        runs = json.loads(log.read_text()).get("runs", []) if log.is_file() else []
    if runs:
        lines += ["", "| notebook | status | wall time (whole notebook) | load average before → after |", "|---|---|---|---|"]
        for run in runs:
            part = "" if run.get("cells_run", "all") == "all" else f" (cells {_ranges(run['cells_run'])})"
            lines.append(f"| {run['notebook']}{part} | {run['status']} | {run['wall_time_s']:.0f} s | "
                         f"{run['loadavg_before'][0]} → {run['loadavg_after'][0]} |")
    lines += ["", f"Training times are the `fit()` wall times measured inside the notebooks. Machine: {results.cpu_name()}, "
              f"{os.cpu_count()} logical CPUs, {platform.platform(terse=True)}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", default=NOTEBOOKS, help="notebook names without .ipynb")
    ap.add_argument("--profile", choices=["full", "fast"], default="full")
    ap.add_argument("--timeout", type=int, default=4 * 3600, help="seconds per notebook")
    ap.add_argument("--until", help="a wall-clock deadline for all notebooks, HH:MM local time (caps --timeout)")
    ap.add_argument("--table-only", action="store_true", help="do not run anything, only print the table")
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    ap.add_argument("--keep", type=Path, help="folder for the executed notebooks (default: a temp folder)")
    ap.add_argument("--cells", help="run only these cells, e.g. 1,3-8,32-35 (indices into the notebook's cells)")
    args = ap.parse_args(argv)
    try:
        cells_to_run = parse_cells(args.cells)
    except ValueError as exc:
        ap.error(str(exc))
    if cells_to_run is not None and len(args.notebooks) != 1:
        ap.error("--cells needs exactly one notebook name")

    os.environ.setdefault("CVHELPERS_RESULTS_DIR", str(ROOT / "results"))
    runs = []
    if not args.table_only:
        until = None
        if args.until:
            hh, mm = (int(v) for v in args.until.split(":"))
            until = _dt.datetime.now().replace(hour=hh, minute=mm, second=0, microsecond=0)
        log = results.results_dir(args.profile) / "benchmark_runs.json"
        for name in args.notebooks:
            timeout = args.timeout
            if until is not None:
                timeout = min(timeout, int((until - _dt.datetime.now()).total_seconds()))
                if timeout <= 0:
                    print(f"    {name}: not started, the --until {args.until} deadline has passed")
                    continue
            runs.append(run_notebook(name, args.profile, timeout, args.keep, cells_to_run))
            previous = json.loads(log.read_text()).get("runs", []) if log.is_file() else []
            key = lambda r: (r["notebook"], str(r.get("cells_run", "all")))  # noqa: E731
            kept = [r for r in previous if key(r) not in {key(x) for x in runs}]
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(json.dumps({"cpu": results.cpu_name(), "cpus": os.cpu_count(), "platform": platform.platform(),
                                       "runs": kept + runs}, indent=1))
    table = markdown_table(args.profile, runs)
    print(table)
    if args.markdown:
        args.markdown.write_text(table)
    return 0 if all(r["status"] == "ok" for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
