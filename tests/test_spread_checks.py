"""Lessons that hold on every run: the seed setting, checked asserts, paired comparisons, the spread tool."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from cvhelpers import env, results

ROOT = Path(__file__).resolve().parent.parent


def test_course_seed_reads_the_environment(monkeypatch):
    monkeypatch.delenv("CVHELPERS_SEED", raising=False)
    assert env.course_seed() == 42
    monkeypatch.setenv("CVHELPERS_SEED", " 7 ")
    assert env.course_seed() == 7
    for bad in ("-1", "seven", "1.5"):
        monkeypatch.setenv("CVHELPERS_SEED", bad)
        with pytest.raises(ValueError, match="CVHELPERS_SEED"):
            env.course_seed()


def test_records_store_the_seed_that_was_set(tmp_path, monkeypatch):
    monkeypatch.setenv("CVHELPERS_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("CVHELPERS_SEED", "5")
    env.seed_everything(3)  # an explicit seed wins over the environment
    rec = json.loads(results.record("nb_seed", test={"accuracy": 0.5}).read_text())
    assert rec["seed"] == 3
    env.seed_everything(env.course_seed())
    assert json.loads(results.record("nb_seed", test={"accuracy": 0.5}).read_text())["seed"] == 5


def test_check_raises_with_its_source_and_logs(tmp_path, monkeypatch):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("CVHELPERS_CHECKS_LOG", str(log))
    monkeypatch.delenv("CVHELPERS_CHECKS_RAISE", raising=False)
    assert results.check("acc", 0.9, ">=", 0.8, source="spread: worst 0.85")
    with pytest.raises(results.CheckFailed, match=r"acc: 0\.7000 is not >= 0\.8000 \(threshold: spread: worst 0\.85\)"):
        results.check("acc", 0.7, ">=", 0.8, source="spread: worst 0.85")
    assert isinstance(results.CheckFailed("x"), AssertionError)  # an assert that failed, to pytest and nbval
    monkeypatch.setenv("CVHELPERS_CHECKS_RAISE", "0")  # the spread tool measures every check
    assert results.check("gap", 0.2, "<", 0.1) is False
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(c["name"], c["value"], c["ok"]) for c in lines] == [("acc", 0.9, True), ("acc", 0.7, False), ("gap", 0.2, False)]
    for op, value, ok in ((">", 0.8, False), ("<=", 0.8, True), ("<", 0.79, True)):
        assert results.check("t", value, op, 0.8) is ok
    with pytest.raises(ValueError, match="op must be"):
        results.check("t", 1, "=>", 0)


def _mcnemar_exact(b, c):
    """Two-sided exact McNemar p-value written out from the binomial distribution."""
    n, k = b + c, min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


@pytest.mark.parametrize("a_only,b_only", [(0, 0), (3, 0), (10, 4), (40, 60), (7, 7)])
def test_paired_is_mcnemars_exact_test(a_only, b_only):
    both, neither = 50, 5
    y = np.zeros(both + neither + a_only + b_only, int)
    a = np.r_[np.zeros(both), np.ones(neither), np.zeros(a_only), np.ones(b_only)].astype(int)
    b = np.r_[np.zeros(both), np.ones(neither), np.ones(a_only), np.zeros(b_only)].astype(int)
    r = results.paired(y, a, b)
    assert (r["a_only"], r["b_only"], r["n"]) == (a_only, b_only, len(y))
    assert r["p_value"] == pytest.approx(_mcnemar_exact(a_only, b_only)) if a_only + b_only else r["p_value"] == 1.0
    assert r["diff"] == pytest.approx((a_only - b_only) / len(y))
    with pytest.raises(ValueError, match="equally long"):
        results.paired(y, a[:-1], b)


def test_paired_sees_what_independent_margins_miss():
    # Same 2,000 images: model A right on 50 images where B is wrong and never the reverse. Their accuracies are
    # 2.5 points apart, within the ±2.8 points of two *independent* test sets, yet the pairing is decisive.
    y = np.zeros(2000, int)
    b = np.r_[np.zeros(1400), np.ones(600)].astype(int)
    a = b.copy()
    a[1400:1450] = 0
    r = results.paired(y, a, b)
    assert r["diff"] == pytest.approx(0.025) and r["diff"] < results.chance_margin(0.73, 2000, 0.70, 2000)
    assert r["p_value"] < 1e-10


@pytest.fixture()
def spread():
    spec = importlib.util.spec_from_file_location("spread", ROOT / "benchmarks" / "spread.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(seed, threads, acc, gap, ok=True):
    return {"seed": seed, "threads": threads, "ok": ok, "error": None if ok else "AssertionError: x", "seconds": 1.0,
            "checks": {"acc": {"name": "acc", "value": acc, "op": ">=", "threshold": 0.6, "ok": acc >= 0.6, "source": "s"},
                       "gap": {"name": "gap", "value": gap, "op": "<", "threshold": 0.5, "ok": gap < 0.5, "source": "s"}},
            "records": {"05_x/test.accuracy": acc}}


def test_spread_summary_min_mean_max_and_failures(spread):
    runs = [_run(1, 1, 0.70, 0.20), _run(2, 1, 0.64, 0.30), _run(3, 2, 0.55, 0.10, ok=False)]
    s = spread.summarise("05", runs, "fast")
    acc, gap = s["checks"]["acc"], s["checks"]["gap"]
    assert (acc["min"], acc["max"], acc["n"], acc["failures"]) == (0.55, 0.70, 3, 1)
    assert acc["suggested"] == pytest.approx(min(0.55 - 0.075, 0.63 - 3 * acc["sd"]))
    assert gap["suggested"] == pytest.approx(max(0.30 + 0.1, 0.2 + 3 * gap["sd"]))
    assert acc["mean"] == pytest.approx(0.63) and acc["margin"] == pytest.approx(-0.05)
    assert gap["margin"] == pytest.approx(0.2) and gap["failures"] == 0  # worst of a "<" check is its maximum
    assert s["records"]["05_x/test.accuracy"]["sd"] == pytest.approx(np.std([0.70, 0.64, 0.55], ddof=1))
    assert s["runs_passed"] == 2
    table = spread.table(s)
    assert "2 of 3 runs passed" in table and "seed 3, 2 thread(s): AssertionError: x" in table


def test_spread_numbers_flatten_results_not_descriptions(spread):
    rec = {"name": "x", "seed": 3, "epochs": 10, "history": {"loss": [1.0]}, "machine": {"cpus": 2},
           "test": {"accuracy": 0.7, "per_class": {"cat": 0.6}}, "gap": 0.2, "ok": True, "nan": float("nan"),
           "best_epoch": 4, "notes": "text"}
    assert spread.numbers(rec) == {"test.accuracy": 0.7, "test.per_class.cat": 0.6, "gap": 0.2, "best_epoch": 4.0}


def test_spread_rejects_unknown_notebooks(spread):
    with pytest.raises(SystemExit, match="two-digit"):
        spread.notebook("3")
    with pytest.raises(SystemExit, match="no single notebook"):
        spread.notebook("99")


# Checks in sections that need weights the offline mirror lacks (they are skipped, and say so, without a network).
NOT_MEASURABLE_OFFLINE = {"08 modern backbone fine-tuned: test accuracy": "EfficientNetV2B0's ImageNet weights"}


def test_committed_spread_files_cover_every_check_in_the_notebooks():
    """Each lesson check cites results/spread/NN.json; that file exists and measured that very check."""
    import re

    import nbformat

    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        names = set(re.findall(r'check\(\s*f?"([^"{]+)', code))
        if not names:
            continue
        data = results.spread(nb_path.name[:2])
        assert data is not None, f"{nb_path.name} has checks but no results/spread/{nb_path.name[:2]}.json"
        measured = set(data["checks"])
        missing = [n for n in names if not any(m.startswith(n) for m in measured) and n not in NOT_MEASURABLE_OFFLINE]
        assert not missing, f"{nb_path.name}: checks never measured by benchmarks/spread.py: {missing}"
        assert len({(r['seed'], r['threads']) for r in data["runs"]}) >= 5, f"{nb_path.name}: fewer than 5 measured runs"


def test_spread_imports_a_run_made_elsewhere(spread, tmp_path):
    log = tmp_path / "checks.jsonl"
    log.write_text(json.dumps({"name": "05 test accuracy", "value": 0.7, "op": ">=", "threshold": 0.59, "ok": True,
                               "source": "s"}) + "\n" + json.dumps({"name": "06 other", "value": 1.0, "op": ">", "threshold": 0,
                                                                     "ok": True, "source": "s"}) + "\n")
    res = tmp_path / "fast"
    res.mkdir()
    (res / "05_from_scratch.json").write_text(json.dumps({"test": {"accuracy": 0.7}, "gap": 0.25, "seed": 42}))
    (res / "06_augmentation.json").write_text(json.dumps({"test": {"accuracy": 0.72}}))
    run = spread.import_run(spread.notebook("05"), 42, 2, res, log, "2026-12-03T00:00:00+00:00")
    assert list(run["checks"]) == ["05 test accuracy"] and run["records"] == {"05_from_scratch/test.accuracy": 0.7,
                                                                             "05_from_scratch/gap": 0.25}
    assert (run["seed"], run["threads"], run["ok"]) == (42, 2, True)
    with pytest.raises(SystemExit, match="nothing of notebook 07"):
        spread.import_run(spread.notebook("07"), 42, 2, res, log, "x")


def test_the_newest_runs_threshold_judges_every_run(spread):
    old = _run(5, 1, 0.975, 0.1)  # measured when the threshold was 0.98: failed then
    old["checks"]["acc"].update(threshold=0.98, ok=False)
    old["date"] = "2026-12-01"
    new = _run(1, 2, 0.99, 0.1)
    new["checks"]["acc"]["threshold"] = 0.97
    new["date"] = "2026-12-03"
    s = spread.summarise("05", [old, new], "fast")
    assert s["checks"]["acc"]["threshold"] == 0.97 and s["checks"]["acc"]["failures"] == 0 and s["runs_passed"] == 2


def test_no_lesson_threshold_is_tighter_than_the_rule():
    """Item 3 of the rule: each check's threshold (as the newest measured run used it) lies at or beyond what
    the committed runs give: half the measured range beyond the worst run and 3 sd beyond the mean."""
    tighter = []
    for path in sorted((ROOT / "results" / "spread").glob("*.json")):
        for name, c in json.loads(path.read_text())["checks"].items():
            rule = c.get("suggested")
            if rule is None or c.get("threshold") is None:
                continue
            lax = c["threshold"] <= rule + 1e-9 if c["op"] in (">=", ">") else c["threshold"] >= rule - 1e-9
            if not lax:
                tighter.append(f"{name}: {c['op']} {c['threshold']} (the rule gives {rule:.4g}; {path.name})")
    assert not tighter, "thresholds tighter than the measured spread allows:\n" + "\n".join(tighter)
