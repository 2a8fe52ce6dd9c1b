"""A pytest plugin (loaded by conftest.py): with ``CVHELPERS_ENV_GUARD=1`` (as `make unit` runs),
a test or doctest that leaves ``os.environ`` other than it found it (after its fixtures, monkeypatch
included, are torn down) errors at teardown, naming the variables, and the environment is restored
for the next test. Without it, nothing is checked (notebooks run in kernels of their own anyway)."""

from __future__ import annotations

import os

import pytest

# Set by libraries on their first import, not by a test (TensorFlow's, OpenMP's), and by pytest.
IGNORED = {"TF_CPP_MIN_LOG_LEVEL", "KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK", "PYTEST_CURRENT_TEST",
           "ENABLE_RUNTIME_UPTIME_TELEMETRY", "HDF5_PLUGIN_PATH", "TF2_BEHAVIOR", "TPU_ML_PLATFORM",
           "TPU_ML_PLATFORM_VERSION"}


def env_changes(before: dict, after: dict) -> list[str]:
    """``["NAME changed" | "NAME set" | "NAME unset", ...]``, sorted, ``IGNORED`` left out."""
    out = []
    for k in sorted(set(before) | set(after)):
        if k in IGNORED or before.get(k) == after.get(k):
            continue
        out.append(f"{k} {'set' if k not in before else 'unset' if k not in after else 'changed'}")
    return out


def _on() -> bool:
    return os.environ.get("CVHELPERS_ENV_GUARD", "") not in ("", "0")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _on():
        item._env_before = dict(os.environ)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    before = getattr(item, "_env_before", None)
    if before is not None:
        changed = env_changes(before, dict(os.environ))
        if changed:
            os.environ.clear()
            os.environ.update(before)
            raise AssertionError(f"{item.nodeid} left the environment changed: {', '.join(changed)} "
                                 "(use monkeypatch.setenv / mock.patch.dict(os.environ))")
    return result
