"""Doctests and tests leave the environment as they found it (issue 21): the doctests that set
``CVHELPERS_RESULTS_DIR`` and unset ``CVHELPERS_SEED`` restore them, and conftest.py's guard
(``CVHELPERS_ENV_GUARD=1``, as `make unit` runs) fails a test that changes ``os.environ``."""

from __future__ import annotations

import doctest
import os

import pytest

from cvhelpers import env, results


def _run_doctests(obj, name, module):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder(recurse=False).find(obj, name, globs=dict(vars(module))):
        runner.run(test, out=lambda s: None)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize("obj, name, module", [(results, "cvhelpers.results", results),
                                               (env.course_seed, "cvhelpers.env.course_seed", env)], ids=["results", "course_seed"])
def test_doctests_restore_the_environment(obj, name, module, monkeypatch, tmp_path):
    monkeypatch.setenv("CVHELPERS_RESULTS_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("CVHELPERS_SEED", "7")
    before = dict(os.environ)
    failed, attempted = _run_doctests(obj, name, module)
    assert attempted > 0 and failed == 0
    assert dict(os.environ) == before
    assert not (tmp_path / "mine").exists(), "the doctest writes its record elsewhere"


def test_the_guard_names_what_changed():
    import env_guard as guard   # the helper conftest.py loads

    before = {"A": "1", "B": "2"}
    assert guard.env_changes(before, {"A": "1", "B": "2"}) == []
    assert guard.env_changes(before, {"A": "1", "B": "3", "C": "4"}) == ["B changed", "C set"]
    assert guard.env_changes(before, {"B": "2"}) == ["A unset"]
