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
    assert "not run" in rows["Géron's CNN"] and "not run" in rows["Géron's CNN + batch norm, cosine decay"]
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


def test_seed_sweep_table(bench):
    from cvhelpers import results

    runs = [{"recipe": "book", "epochs": 10, "s_per_epoch": 4.0}, {"recipe": "book", "epochs": 10, "s_per_epoch": 6.0},
            {"recipe": "batchnorm", "epochs": 10, "s_per_epoch": 3.0}]
    results.record("03_fashion_geron_seeds", test={"book": [0.90, 0.92], "batchnorm": [0.93]}, runs=runs)
    md = bench.markdown_table("full")
    book = next(line for line in md.splitlines() if line.startswith("| the book's recipe"))
    assert "**91.00 %** ± 1.41" in book and "90.00 % – 92.00 %" in book and "| 5.0 s |" in book and "| 2 |" in book
    bn = next(line for line in md.splitlines() if line.startswith("| + batch norm"))
    assert "**93.00 %** ± 0.00" in bn and "| 1 |" in bn
    assert md.index(book) < md.index(bn)  # the book's recipe first


def test_fashion_geron_sweep_tiny_run(tmp_path, monkeypatch, capsys, mirror_dir):
    """A real (tiny) sweep: both recipes train, the record holds every run, the summary adds up."""
    pytest.importorskip("keras")
    from cvhelpers import results

    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(mirror_dir))
    monkeypatch.delenv("CVHELPERS_FAST", raising=False)
    monkeypatch.setenv("CVHELPERS_RESULTS_DIR", str(tmp_path))
    spec = importlib.util.spec_from_file_location("fashion_geron", ROOT / "benchmarks" / "fashion_geron.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(SystemExit):
        mod.main(["--seeds", "0"])
    assert mod.main(["--seeds", "2", "--epochs", "1", "--train", "256", "--valid", "100", "--test", "200",
                     "--name", "tiny"]) == 0
    rec = results.load("tiny", "full")
    assert [(r["recipe"], r["seed"]) for r in rec["runs"]] == [("book", 42), ("batchnorm", 42), ("book", 43),
                                                             ("batchnorm", 43)]
    assert len(rec["test"]["book"]) == 2 and all(0.0 <= a <= 1.0 for a in rec["test"]["batchnorm"])
    assert rec["runs"][1]["batch_size"] == 64 and rec["runs"][1]["keep"] == "last epoch"
    out = capsys.readouterr().out
    assert "256 train / 100 validation / 200 test" in out and rec["data"].endswith("100 validation / 200 test")
    assert "book       2 run(s)" in out and "batchnorm / book" in out
