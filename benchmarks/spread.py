"""How much of a notebook's result is chance: run it under several seeds and thread settings.

Executes notebooks (fast profile unless ``--profile full``) once per (seed, threads) pair, each pair
with its own results folder, and collects

- every **check** the notebook makes (``cvhelpers.results.check``: the lesson's asserts that depend
  on training), with the threshold the notebook had when the run was made: the checks only measure here (``CVHELPERS_CHECKS_RAISE=0``), so
  one failing check does not hide the others;
- every number of every **record** the notebook writes (``results.record``: test metrics, best
  epoch, ...).

For each it writes min / mean / max / standard deviation (and, for a check, the threshold that the rule of
:func:`suggest` gives) to ``results/spread/NN.json`` (committed:
the thresholds in the notebooks cite these files) and prints a table. Runs are merged into an
existing file (a rerun of the same seed and thread count replaces its old run), so seeds can be
added later. A notebook passes a run when it executes without error and every check holds.

    python benchmarks/spread.py 03 05 06                  # seeds 1-5, 1 and 2 threads
    python benchmarks/spread.py 03 --seeds 1,2 --threads 2 --jobs 1
    python benchmarks/spread.py --table 03                # print the table of results/spread/03.json

Notebooks run in the order given, so a notebook that reads an earlier one's record (06 reads 05's)
finds the record of the same seed and thread count when both are listed. ``--jobs`` pairs run at once
(default 2: with one thread each they share a 2-CPU machine without slowing each other much).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cvhelpers.results import cpu_name  # noqa: E402
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "results" / "spread"
WORK = ROOT / "build" / "spread"
# Record fields that are descriptions, not results.
SKIP = {"history", "machine", "book", "date", "name", "profile", "data", "notes", "recipe", "seed", "epochs"}


def notebook(prefix: str) -> Path:
    found = sorted(NOTEBOOKS.glob(f"{prefix}_*.ipynb"))
    if len(prefix) != 2 or not prefix.isdigit() or len(found) != 1:
        raise SystemExit(f"spread: no single notebook notebooks/{prefix}_*.ipynb: give two-digit numbers such as 03")
    return found[0]


def numbers(rec: dict, prefix: str = "") -> dict:
    """The numeric leaves of a record (nested dicts flattened with '.'), minus descriptive fields."""
    out = {}
    for key, value in rec.items():
        if not prefix and key in SKIP:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(numbers(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def run_one(nb: Path, seed: int, threads: int, profile: str, timeout: int) -> dict:
    """Execute ``nb`` once; return its checks, its records' numbers and whether it passed."""
    tag = f"s{seed}-t{threads}"
    work = WORK / profile / tag
    (work / "executed").mkdir(parents=True, exist_ok=True)
    log = work / f"{nb.stem[:2]}.checks.jsonl"
    log.unlink(missing_ok=True)
    env = dict(os.environ, CVHELPERS_SEED=str(seed), CVHELPERS_THREADS=str(threads),
               CVHELPERS_FAST="1" if profile == "fast" else "0", CVHELPERS_RESULTS_DIR=str(work / "results"),
               CVHELPERS_CACHE_DIR=str(work / "cache"),  # checkpoints and extracted data: one run's own
               CVHELPERS_CHECKS_LOG=str(log), CVHELPERS_CHECKS_RAISE="0", PYTHONUNBUFFERED="1",
               OMP_NUM_THREADS=str(threads), TF_NUM_INTRAOP_THREADS=str(threads),
               TF_NUM_INTEROP_THREADS=str(threads))
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(nb),
         f"--ExecutePreprocessor.timeout={timeout}", "--output-dir", str(work / "executed")],
        env=env, cwd=str(nb.parent), capture_output=True, text=True)
    seconds = time.time() - started
    error = None
    if proc.returncode != 0:
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        error = next((l for l in reversed(lines) if "Error" in l or "Exception" in l), lines[-1] if lines else "?")[:300]
    checks = {}
    if log.is_file():
        for line in log.read_text().splitlines():
            c = json.loads(line)
            checks[c["name"]] = c
    records = {}
    for path in sorted((work / "results" / profile).glob(f"{nb.stem[:2]}_*.json")):
        if path.stat().st_mtime >= started - 1:
            records.update({f"{path.stem}/{k}": v for k, v in numbers(json.loads(path.read_text())).items()})
    ok = error is None and all(c["ok"] for c in checks.values())
    return {"seed": seed, "threads": threads, "ok": ok, "error": error, "seconds": round(seconds, 1),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "checks": checks, "records": records}


def import_run(nb: Path, seed: int, threads: int, results_dir: Path, checks_log: Path, date: str) -> dict:
    """A run made elsewhere (e.g. by `make test` with ``CVHELPERS_CHECKS_LOG`` set), as :func:`run_one` returns it:
    the notebook's checks from the log (names start with its number) and its records from ``results_dir``."""
    prefix = nb.stem[:2]
    checks = {}
    for line in checks_log.read_text().splitlines():
        c = json.loads(line)
        if c["name"].startswith(prefix + " "):
            checks[c["name"]] = c
    records = {}
    for path in sorted(results_dir.glob(f"{prefix}_*.json")):
        records.update({f"{path.stem}/{k}": v for k, v in numbers(json.loads(path.read_text())).items()})
    if not checks and not records:
        raise SystemExit(f"spread: nothing of notebook {prefix} in {checks_log} or {results_dir}")
    return {"seed": seed, "threads": threads, "ok": all(c["ok"] for c in checks.values()), "error": None,
            "seconds": None, "date": date, "imported": f"{checks_log.name} + {results_dir}", "checks": checks,
            "records": records}


def stats(values: list[float]) -> dict:
    n = len(values)
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return {"n": n, "min": min(values), "mean": mean, "max": max(values), "sd": sd}


def current_checks(nb: Path) -> list[str]:
    """The names of the checks in the notebook's code now (an f-string name up to its first brace)."""
    import re

    code = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
    return re.findall(r'check\(\s*f?"([^"{]+)', code)


def summarise(prefix: str, runs: list[dict], profile: str, keep: list[str] | None = None) -> dict:
    """Min / mean / max / sd of every check and record over ``runs``; with ``keep``, only the checks whose name
    starts with one of those (a check since renamed or removed from the notebook is left out)."""
    checks, records = {}, {}
    for r in runs:
        for name, c in r["checks"].items():
            if keep is not None and not any(name.startswith(k) for k in keep):
                continue
            entry = checks.setdefault(name, {"op": c["op"], "threshold": c["threshold"], "source": c["source"],
                                             "values": [], "failures": 0, "date": r.get("date", "")})
            if r.get("date", "") >= entry.get("date", ""):  # the threshold of the most recent run
                entry.update(op=c["op"], threshold=c["threshold"], source=c["source"], date=r.get("date", ""))
            entry["values"].append(c["value"])
        for name, v in r["records"].items():
            records.setdefault(name, {"values": []})["values"].append(v)
    for entry in checks.values():
        entry.update(stats(entry["values"]))
        # judged against the current threshold, so a file re-summarised after a threshold change stays true
        entry["failures"] = sum(not _holds(v, entry["op"], entry["threshold"]) for v in entry["values"])
        worst = entry["min"] if entry["op"] in (">=", ">") else entry["max"]
        entry["margin"] = abs(worst - entry["threshold"]) * (1 if _holds(worst, entry["op"], entry["threshold"]) else -1)
        entry["suggested"] = suggest(entry)
    for entry in records.values():
        entry.update(stats(entry["values"]))
    for r in runs:  # a run passes when it ran through and every check still in the notebook holds at its threshold now
        r["ok"] = r["error"] is None and all(_holds(c["value"], checks[n]["op"], checks[n]["threshold"])
                                             for n, c in r["checks"].items() if n in checks)
    return {"notebook": prefix, "profile": profile,
            "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"platform": platform.platform(terse=True), "cpus": os.cpu_count(), "cpu": cpu_name()},
            "runs_passed": sum(r["ok"] for r in runs), "runs": runs, "checks": checks, "records": records}


def suggest(entry: dict) -> float:
    """The threshold rule the notebooks follow: at least half the measured range beyond the worst run, and at
    least 3 standard deviations beyond the mean (about 1 failure in 1,000 runs for a normal spread), whichever is
    further from the values; never tighter than a threshold of 0 for a difference that must keep its sign."""
    spread_ = entry["max"] - entry["min"]
    if entry["op"] in (">=", ">"):
        t = min(entry["min"] - spread_ / 2, entry["mean"] - 3 * entry["sd"])
    else:
        t = max(entry["max"] + spread_ / 2, entry["mean"] + 3 * entry["sd"])
    return float(t)


def _holds(v: float, op: str, t: float) -> bool:
    return {">=": v >= t, ">": v > t, "<=": v <= t, "<": v < t}[op]


def table(summary: dict) -> str:
    runs = summary["runs"]
    lines = [f"## {summary['notebook']} ({summary['profile']} profile): {summary['runs_passed']} of {len(runs)} runs passed "
             f"(seeds {sorted({r['seed'] for r in runs})}, threads {sorted({r['threads'] for r in runs})})"]
    for r in runs:
        if not r["ok"]:
            failed = [n for n, c in r["checks"].items() if not c["ok"] and n in summary["checks"]]
            lines.append(f"- seed {r['seed']}, {r['threads']} thread(s): " + (r["error"] or f"check(s) failed: {failed}"))
    lines += ["", "| check | threshold | min | mean | max | sd | worst − threshold | failures | rule's threshold |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, c in summary["checks"].items():
        lines.append(f"| {name} | {c['op']} {c['threshold']:.4g} | {c['min']:.4g} | {c['mean']:.4g} | {c['max']:.4g} | "
                     f"{c['sd']:.3g} | {c['margin']:+.4g} | {c['failures']}/{c['n']} | {c['op']} {c['suggested']:.4g} |")
    lines += ["", "| record value | min | mean | max | sd |", "|---|---|---|---|---|"]
    for name, c in summary["records"].items():
        if "wall_time" not in name:
            lines.append(f"| {name} | {c['min']:.4g} | {c['mean']:.4g} | {c['max']:.4g} | {c['sd']:.3g} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="+", help="two-digit notebook numbers, e.g. 03 05")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated seeds (default 1,2,3,4,5)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--jobs", type=int, default=2, help="(seed, threads) pairs run at once (default 2)")
    ap.add_argument("--profile", choices=("fast", "full"), default="fast")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    ap.add_argument("--fresh", action="store_true", help="replace results/spread/NN.json instead of merging")
    ap.add_argument("--table", action="store_true", help="only print the tables of the existing files")
    ap.add_argument("--import-run", nargs=2, metavar=("RESULTS_DIR", "CHECKS_LOG"),
                    help="add a run made elsewhere (records folder of the profile, checks log) under --seeds/--threads "
                         "(one each) instead of running the notebooks")
    ap.add_argument("--resummarise", action="store_true",
                    help="recompute the summaries of the existing files from their runs (no notebook is run)")
    args = ap.parse_args(argv)
    nbs = [notebook(p) for p in args.notebooks]
    if args.table or args.resummarise:
        for nb in nbs:
            path = OUT / f"{nb.stem[:2]}.json"
            summary = json.loads(path.read_text())
            if args.resummarise:
                summary = summarise(summary["notebook"], summary["runs"], summary["profile"], current_checks(nb))
                tmp = path.with_suffix(".json.tmp")
                tmp.write_text(json.dumps(summary, indent=1, sort_keys=True))
                os.replace(tmp, path)
            print(table(summary), "\n")
        return 0
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
        threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        raise SystemExit("spread: --seeds and --threads take comma-separated integers, e.g. --seeds 1,2,3") from None
    pairs = [(s, t) for t in threads for s in seeds]
    if args.import_run:
        if len(pairs) != 1:
            raise SystemExit("spread: --import-run takes one seed and one thread count (e.g. --seeds 42 --threads 2)")
        date = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        imported = {nb.stem[:2]: [import_run(nb, *pairs[0], Path(args.import_run[0]), Path(args.import_run[1]), date)]
                    for nb in nbs}
        return _write(imported, args)

    def chain(pair):
        out = []
        for nb in nbs:
            r = run_one(nb, *pair, args.profile, args.timeout)
            print(f"[spread {time.strftime('%H:%M:%S')}] {nb.stem[:2]} seed {pair[0]} threads {pair[1]}: "
                  f"{'ok' if r['ok'] else 'FAILED ' + (r['error'] or 'check')} in {r['seconds']:.0f} s", flush=True)
            out.append((nb, r))
        return out

    results: dict[str, list[dict]] = {nb.stem[:2]: [] for nb in nbs}
    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for done in pool.map(chain, pairs):
            for nb, r in done:
                results[nb.stem[:2]].append(r)
    return _write(results, args)


def _write(results: dict, args) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    bad = 0
    for prefix, runs in results.items():
        path = OUT / f"{prefix}.json"
        if path.is_file() and not args.fresh:
            old = json.loads(path.read_text())
            new_keys = {(r["seed"], r["threads"]) for r in runs}
            runs = [r for r in old["runs"] if (r["seed"], r["threads"]) not in new_keys] + runs
        runs.sort(key=lambda r: (r["threads"], r["seed"]))
        summary = summarise(prefix, runs, args.profile, current_checks(notebook(prefix)))
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(summary, indent=1, sort_keys=True))
        os.replace(tmp, path)
        print(table(summary), "\n")
        bad += len(runs) - summary["runs_passed"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
