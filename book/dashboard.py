"""The book's results page: the records written by the notebooks of *this* build, side by side
with the books' figures and the committed full-profile records, plus the learning curves.

The notebooks write their records with ``cvhelpers.results.record`` (one JSON file per trained
model); the build points ``CVHELPERS_RESULTS_DIR`` at its own folder, so the page shows the run
the reader sees in the chapters. The list of models and the books' figures are those of
``benchmarks/results.py`` (one place for them); any other record of the run is listed after them.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "results"          # results/full/*.json: the committed full-profile records


def _bench():
    """benchmarks/results.py as a module (its ROWS: record name, model, data, book figure)."""
    spec = importlib.util.spec_from_file_location("bench_results", ROOT / "benchmarks" / "results.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _load(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable results record ({exc}); delete it and rebuild") from None


def _pct(v) -> str:
    return "—" if not isinstance(v, (int, float)) else f"{100 * v:.2f} %"


def _metrics(test: dict) -> str:
    """The test metrics of a record in one cell: the accuracy if any, else every scalar metric."""
    if isinstance(test.get("accuracy"), (int, float)):
        return _pct(test["accuracy"])
    parts = [f"{k} {v:.4g}" for k, v in sorted(test.items()) if isinstance(v, (int, float))]
    return ", ".join(parts) or "see the chapter"


def _machine(rec: dict) -> str:
    m = rec.get("machine") or {}
    gpus = m.get("gpus") or []
    return f"{m.get('cpus', '?')} CPUs" + (f", GPU {', '.join(gpus)}" if gpus else ", no GPU")


def _run_cell(rec: dict | None) -> str:
    if rec is None:
        return "not run"
    epochs = rec.get("epochs") or 0
    t = rec.get("wall_time_s")
    extra = ", ".join(x for x in (f"{epochs} epochs" if epochs else "", f"{t:.0f} s" if t else "") if x)
    return f"**{_metrics(rec.get('test') or {})}**" + (f" ({extra})" if extra else "")


def _curves(name: str, runs: dict[str, dict], out: Path) -> str | None:
    """Plot the accuracy and loss histories of one model (this run vs full profile); return the file name."""
    colours = dict(zip(runs, ("tab:blue", "tab:orange")))        # the same colour for a source on every plot
    hists = {label: rec.get("history") or {} for label, rec in runs.items() if rec and rec.get("history")}
    keys = [k for k in ("accuracy", "loss") if any(k in h or f"val_{k}" in h for h in hists.values())]
    if not keys:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(5.2 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for label, hist in hists.items():
            colour = colours[label]
            for split, style in ((key, "--"), (f"val_{key}", "-")):
                ys = hist.get(split)
                if ys:
                    ax.plot(range(1, len(ys) + 1), ys, style, color=colour, marker="." if len(ys) < 3 else None,
                            label=f"{label}, {'validation' if split.startswith('val_') else 'training'}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(name, fontsize=10)
    fig.tight_layout()
    file = f"curve_{name}.png"
    fig.savefig(out / file, dpi=90)
    plt.close(fig)
    return file


def write_page(dest: Path, *, profile: str, run_dir: Path, notebooks: list[str], runs: list[dict],
               built: str, machine: str) -> Path:
    """Write ``dest`` (a MyST markdown page) and its figures into ``dest.parent/results_figures``.

    ``run_dir`` holds the records of this build (``<CVHELPERS_RESULTS_DIR>/<profile>``);
    ``notebooks`` the names of the notebooks in the book (records of others are not shown);
    ``runs`` one dict per notebook execution (name, seconds, date, reused; ``failed`` with the failing
    ``cell`` and the ``error`` type when it failed).
    """
    bench = _bench()
    figs = dest.parent / "results_figures"
    figs.mkdir(parents=True, exist_ok=True)
    prefixes = tuple(nb.split("_", 1)[0] + "_" for nb in notebooks)
    full_dir = COMMITTED / "full"
    in_book = lambda name: name.startswith(prefixes)  # noqa: E731
    this_label = f"this build ({profile})"
    lines = [
        "# Results dashboard", "",
        f"Generated on {built} from the results records written by the notebooks of this build "
        f"(**{profile} profile**, {machine}), next to the figures the books report and the full-profile "
        "records committed in the repository (`results/full/`).",
        "" if profile == "full" else
        "The fast profile trains on subsets of the data for a few epochs: its figures show each lesson at a small budget, "
        "not what the models reach with full training.", "",
        "## Notebook runs", "",
        "| chapter | executed | time |", "|---|---|---|",
    ]
    for r in runs:
        how = "an earlier build, same notebook and profile" if r.get("reused") else "this build"
        f = r.get("failed")
        if f:
            how += f"; **failed** at cell {f['cell']}, {f['error']}: the chapter shows the outputs up to it"
        lines.append(f"| [{r['name']}]({r['name']}.ipynb) | {r['date']} ({how}) | {r['seconds']:.0f} s |")
    lines += ["", "## Book vs this build vs the full profile", "",
              f"| model | data | book | {this_label} | full profile (committed) | full-profile run on |",
              "|---|---|---|---|---|---|"]
    shown, curves = set(), []
    for name, what, data, book_text, _book in bench.ROWS:
        mine, full = _load(run_dir, name), _load(full_dir, name)
        shown.add(name)
        if not in_book(name) and full is None:
            continue
        cell = _run_cell(mine) if in_book(name) else "not in this build"
        where = f"{_machine(full)}, {str(full.get('date', '?'))[:10]}" if full else "—"
        lines.append(f"| {what} | {data} | {book_text} | {cell} | {_run_cell(full) if full else '—'} | {where} |")
        curves.append((name, {this_label: mine, "full profile (committed)": full}))
    others = sorted(p.stem for p in run_dir.glob("*.json") if in_book(p.stem) and p.stem not in shown) \
        if run_dir.is_dir() else []
    if others:
        lines += ["", "Other models trained in this build:", "", f"| record | {this_label} | full profile (committed) |",
                  "|---|---|---|"]
        for name in others:
            mine, full = _load(run_dir, name), _load(full_dir, name)
            lines.append(f"| `{name}` | {_run_cell(mine)} | {_run_cell(full) if full else '—'} |")
            curves.append((name, {this_label: mine, "full profile (committed)": full}))
    mine_any = [n for n in (list(shown) + others) if _load(run_dir, n)]
    lines += ["", f"Records of this build: {len(mine_any)} (machine: {machine}).",
              "Training times are the `fit()` wall times measured inside the notebooks.", ""]
    plots = [(name, _curves(name, recs, figs)) for name, recs in curves]
    plots = [(n, f) for n, f in plots if f]
    lines += ["## Learning curves", ""]
    if not plots:
        lines.append("No record with a training history among the chapters of this build.")
    for name, file in plots:
        lines += [f"### {name}", "", f"![learning curves of {name}](results_figures/{file})", ""]
    dest.write_text("\n".join(lines) + "\n")
    return dest
