"""benchmarks/results.py: the "book vs this course" table is built from the results records."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def bench(tmp_path, monkeypatch):
    monkeypatch.setenv("CVHELPERS_RESULTS_DIR", str(tmp_path))
    monkeypatch.delenv("CVHELPERS_FAST", raising=False)
    spec = importlib.util.spec_from_file_location("bench_results", ROOT / "benchmarks" / "results.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_table_from_records(bench):
    from cvhelpers import results

    results.record("03_mnist_chollet", history={"accuracy": [0.98, 0.99]}, test={"accuracy": 0.9925},
                   wall_time_s=321.0, data="MNIST")
    results.record("04_hoda", history={"accuracy": [0.97]}, test={"accuracy": 0.985}, wall_time_s=60.0, data="HODA")
    results.record("04_hoda_transfer", test={"accuracy_scratch": {"10": 0.8}, "accuracy_finetuned": {"10": 0.875}})
    md = bench.markdown_table("full")
    rows = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| ")}
    chollet = rows["Chollet's 3×3 convnet"]
    assert "**99.25 %**" in chollet and "321 s" in chollet and "| reached |" in chollet and "| 2 |" in chollet
    hoda = next(line for line in md.splitlines() if line.startswith("| course 32-64-64 convnet | HODA"))
    assert "**98.50 %**" in hoda and "| below |" in hoda  # 98.5 % < the 99 % target
    assert "not run" in rows["Géron's CNN"]
    assert "| 10 | 80.00 % | 87.50 % |" in md


def test_table_only_cli_writes_markdown(bench, tmp_path, capsys):
    out = tmp_path / "t.md"
    assert bench.main(["--table-only", "--markdown", str(out)]) == 0
    assert out.read_text().startswith("### Book vs this course (full profile)")
    assert "not run" in capsys.readouterr().out


def test_cells_option(bench, capsys):
    assert sorted(bench.parse_cells("0, 2-4,9")) == [0, 2, 3, 4, 9]
    assert bench._ranges(bench.parse_cells("0, 2-4,9")) == "0, 2-4, 9"
    for bad in ("a", "5-3", "-1", "1-x"):
        with pytest.raises(ValueError, match="--cells"):
            bench.parse_cells(bad)
    with pytest.raises(SystemExit) as exc:
        bench.main(["03_mnist_convnets", "04_persian_digits", "--cells", "1-3"])
    assert exc.value.code == 2 and "exactly one notebook" in capsys.readouterr().err
