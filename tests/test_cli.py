"""The `cvhelpers` command, run as a student would run it (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest


def run(*args, env=None, timeout=120):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CVHELPERS_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "cvhelpers.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout)


def test_fetch_from_mirror_prints_verified_path(mirror_dir, tmp_path):
    r = run("data", "fetch", "mnist", env={"CVHELPERS_DATA_DIR": str(mirror_dir), "CVHELPERS_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    # data_dir() resolves symbolic links (../shared may be one): compare resolved paths
    assert r.stdout.strip() == f"mnist: {(mirror_dir / 'mnist.npz').resolve()} (checksum verified)"


def test_fetch_with_nothing_and_no_network_fails_fast_with_one_error_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    t = time.monotonic()
    # A mirror that refuses connections stands in for "no network" on machines that have one.
    r = run("data", "fetch", "mnist", env={"CVHELPERS_DATA_DIR": str(empty), "CVHELPERS_CACHE_DIR": str(tmp_path / "c"),
                                           "CVHELPERS_MIRROR": "http://127.0.0.1:9"}, timeout=60)
    assert time.monotonic() - t < 30
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert "mnist.npz" in lines[0] and "put mnist.npz in" in lines[0] and "http" in lines[0]


def test_offline_flag(tmp_path):
    r = run("data", "fetch", "mnist", env={"CVHELPERS_OFFLINE": "1", "CVHELPERS_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 1 and r.stderr.startswith("error:") and "storage.googleapis.com" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_unknown_dataset_and_usage_errors(tmp_path):
    r = run("data", "fetch", "imagenet", env={"CVHELPERS_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 1 and r.stderr.strip().startswith("error: unknown dataset 'imagenet'")
    r = run("data", "fetch", env={"CVHELPERS_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 1 and "--all" in r.stderr
    r = run("data", "frobnicate")
    assert r.returncode == 2 and "error:" in r.stderr.strip().splitlines()[-1]


def test_list_verify_and_path(mirror_dir, tmp_path):
    env = {"CVHELPERS_DATA_DIR": str(mirror_dir), "CVHELPERS_CACHE_DIR": str(tmp_path)}
    r = run("data", "list", env=env)
    assert r.returncode == 0 and "mnist" in r.stdout and "licence" in r.stdout
    r = run("data", "verify", "mnist", "hoda", env=env)
    assert r.returncode == 0 and r.stdout.count(": ok ") == 2
    r = run("data", "path", "hoda", env=env)
    assert r.returncode == 0 and r.stdout.strip() == str((mirror_dir / "hoda.npz").resolve())
    r = run("data", "path", "oxford_pets", env=env)
    assert r.returncode == 1 and "cvhelpers data fetch oxford_pets" in r.stderr


def test_fetch_all_reports_each_failure_and_exits_nonzero(tmp_path):
    r = run("data", "fetch", "--all", "-q", env={"CVHELPERS_OFFLINE": "1", "CVHELPERS_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("error: 7 of 7 datasets could not be fetched")


@pytest.mark.slow
def test_doctor_runs_and_says_what_it_found(mirror_dir, tmp_path):
    r = run("doctor", env={"CVHELPERS_DATA_DIR": str(mirror_dir), "CVHELPERS_CACHE_DIR": str(tmp_path)}, timeout=300)
    assert r.returncode == 0, r.stderr
    for word in ("Python", "TensorFlow", "GPU:", "profile:", "datasets here:", "verdict:"):
        assert word in r.stdout


def test_fetch_profile_with_everything_in_the_data_dir(mirror_dir, tmp_path):
    """As a student on a classroom machine would run it: a plan, nothing to download but the optional weights."""
    r = run("data", "fetch", "--profile", "fast", env={"CVHELPERS_DATA_DIR": str(mirror_dir), "CVHELPERS_OFFLINE": "1",
                                                      "CVHELPERS_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "fast profile: 8 files (6 here, 2 to download)"
    assert sum(f"here: {mirror_dir.resolve()}" in ln for ln in lines) == 6
    assert "already here: 6 files, 183.5 MB" in r.stdout
    assert lines[-1] == "the fast profile's data is here (2 optional file(s) missing, see warnings)"
    warnings = r.stderr.strip().splitlines()
    assert len(warnings) == 2 and all(w.startswith("warning: optional file not fetched") for w in warnings)
