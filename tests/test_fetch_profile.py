"""`cvhelpers data fetch --profile fast|full`: a plan first, then every file of the profile, verified.

The real course files are served by Python's own ``http.server`` on 127.0.0.1 from a temporary
folder of symbolic links to the offline mirror, as a classroom would serve them.
"""

from __future__ import annotations

import functools
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cvhelpers import cli
from cvhelpers import data as D
from cvhelpers.download import check_file

FAST_MIRROR_FILES = ["mnist.npz", "fashion_mnist.npz", "hoda.npz", "cats_vs_dogs_small.zip", "oxford_pets_subset.zip",
                     "weights/mobilenet_2_5_224_tf_no_top.h5"]


@pytest.fixture
def http_mirror(mirror_dir, tmp_path):
    """``python -m http.server``'s handler on 127.0.0.1, serving symlinks to the offline mirror's files."""
    root = tmp_path / "served"
    for rel in FAST_MIRROR_FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(mirror_dir / rel)
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            requests.append(f"{args[0]} {args[1]}" if len(args) > 1 else fmt % args)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def no_official_weights(monkeypatch):
    """The optional weights' official URLs point at a closed local port (this test never uses the internet)."""
    for key in D.OPTIONAL:
        art = D.WEIGHTS[key]
        monkeypatch.setitem(D.WEIGHTS, key, D.Artifact(art.filename, art.hashes, art.size,
                                                        (f"http://127.0.0.1:9/{Path(art.filename).name}",)))


@pytest.mark.slow  # seconds of real archive work: not in `make unit`
def test_fast_profile_from_a_loopback_mirror(clean_env, http_mirror, no_official_weights, monkeypatch, capsys):
    url, requests = http_mirror
    monkeypatch.setenv("CVHELPERS_MIRROR", url)
    assert cli.main(["data", "fetch", "--profile", "fast", "-q"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    # the plan comes first: every file, its size, what is here, the total
    assert lines[0] == "fast profile: 8 files (0 here, 8 to download)"
    plan = lines[1:9]
    for rel in FAST_MIRROR_FILES:
        row = next(ln for ln in plan if f" {rel} " in ln)
        assert "to download" in row and re.search(r"\d+\.\d MB", row), row
    assert sum("size unknown" in ln and "(optional: " in ln for ln in plan) == 2
    assert lines[9] == "to download: 8 files, 183.5 MB + 2 of unknown size; already here: 0 files, 0.0 MB"
    # then the downloads: every required file lands in the cache, verified
    for rel in FAST_MIRROR_FILES:
        art = next(a for a in [*D.WEIGHTS.values()] + [a for ds in D.REGISTRY.values()
                                                        for form in (ds.artifacts, *ds.alternatives) for a in form]
                   if a.filename == rel)
        assert check_file(clean_env / rel, art.hashes, art.size), rel
        assert any(ln.endswith(f"{clean_env / rel} (checksum verified)") for ln in lines), rel
    for name in ("mnist", "fashion_mnist", "hoda", "cats_vs_dogs_small", "oxford_pets_subset"):
        assert D.find(name) is not None, name
    assert lines[-1] == "the fast profile's data is here (2 optional file(s) missing, see warnings)"
    warnings = err.strip().splitlines()
    assert len(warnings) == 2 and all(w.startswith("warning: optional file not fetched") for w in warnings)
    assert sum(r.startswith("GET ") for r in requests) == len(FAST_MIRROR_FILES) + 2  # + the 2 optional (404)
    assert not [p for p in clean_env.rglob("*") if p.name.endswith(".part")]

    # a second run finds everything and downloads nothing
    n = len(requests)
    assert cli.main(["data", "fetch", "--profile", "fast", "-q"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[0] == "fast profile: 8 files (6 here, 2 to download)"
    assert "already here: 6 files, 183.5 MB" in out
    assert sum(r.startswith("GET ") for r in requests[n:]) == 2  # only the optional files are asked for again


def test_plan_without_mirror_lists_the_public_files(clean_env, monkeypatch):
    """No mirror, no data dir: the fast profile's plan is made of public files only (subsets are built from them)."""
    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")  # no HEAD requests for unknown sizes
    for profile in ("fast", "full"):
        names = {r.art.filename for r in D.profile_plan(profile)}
        assert {"mnist.npz", "train-images-idx3-ubyte.gz", "hoda_cdb/Train 60000.cdb", "hoda_cdb/Test 20000.cdb",
                "hoda_cdb/RemainingSamples.cdb", "kagglecatsanddogs_5340.zip", "images.tar.gz", "annotations.tar.gz",
                "weights/mobilenet_2_5_224_tf_no_top.h5"} <= names, profile
        assert not names & {"cats_vs_dogs_small.zip", "oxford_pets_subset.zip", "hoda.npz", "fashion_mnist.npz"}
        assert all(r.art.urls for r in D.profile_plan(profile))
    assert "weights/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in {r.art.filename for r in D.profile_plan("full")}


def test_plan_counts_files_already_in_the_data_dir(clean_env, mirror_dir, monkeypatch):
    monkeypatch.setenv("CVHELPERS_DATA_DIR", str(mirror_dir))
    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")
    plan = D.profile_plan("fast")
    here = {r.art.filename for r in plan if r.path is not None}
    assert here == set(FAST_MIRROR_FILES)
    assert {r.art.filename for r in plan if r.path is None} == {D.WEIGHTS[k].filename for k in D.OPTIONAL}


def test_fetch_profile_offline_and_usage_errors(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("CVHELPERS_OFFLINE", "1")
    assert cli.main(["data", "fetch", "--profile", "full", "-q"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("full profile: ") and "images.tar.gz" in out and "to download:" in out
    errors = err.strip().splitlines()
    assert errors[-1] == "error: 7 of the full profile's datasets/weights could not be fetched"  # 2 more are optional
    assert sum(e.startswith("warning: optional file not fetched") for e in errors) == 2
    assert sum(e.startswith("error: ") and "not available offline" in e for e in errors) == 7
    assert len(errors) == 10
    assert cli.main(["data", "fetch", "--profile", "fast", "mnist"]) == 1
    assert capsys.readouterr().err.strip() == "error: --profile fetches a whole profile: give no dataset names and no --all"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["data", "fetch", "--profile", "huge"])
    assert exit_.value.code == 2


def test_fetch_profile_says_how_each_file_was_verified():
    assert D.verified_how(Path("c/mnist.npz")) == "checksum verified"
    assert D.verified_how(Path("c/kagglecatsanddogs_5340.zip")) == "size verified; no published checksum, opened when used"
    assert D.verified_how(Path("c/unknown.bin")) == "no published checksum; opened when used"
