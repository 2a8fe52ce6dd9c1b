"""The student's self-checks (cvhelpers/assignments/check.py): no otter, the test's own message first."""

import pytest

from cvhelpers.assignments import check as C


def _blob(*cases, name="q1", extra_files=None):
    test = {"name": name, "points": 2, "suites": [{"cases": [{"code": c, "hidden": h} for c, h in cases],
                                                    "scored": True, "setup": "", "teardown": "", "type": "doctest"}]}
    files = {f"{name}.py": f"OK_FORMAT = True\n\ntest = {test!r}\n", **(extra_files or {})}
    return C.encode_tests(files)


SHAPE = (">>> import numpy as np\n>>> assert isinstance(kernel, np.ndarray), 'kernel must be a NumPy array'\n"
         ">>> assert kernel.shape == (3, 3), f'kernel must be 3x3, got {kernel.shape}'\n", False)
SUM = (">>> round(float(kernel.sum()), 3)\n1.0\n", False)
HIDDEN = (">>> assert False, 'a hidden case must not run in a self-check'\n", True)


def test_passing_check_is_one_line():
    import numpy as np
    g = C.Grader("01_demo", tests=_blob(SHAPE, SUM, HIDDEN))
    r = g.check("q1", {"kernel": np.ones((3, 3)) / 9})
    assert r.passed and bool(r) and repr(r) == "q1 results: All test cases passed!"
    assert "All test cases passed" in r._repr_html_()


def test_failed_assertion_shows_its_own_message_first():
    import numpy as np
    r = C.Grader("01_demo", tests=_blob(SHAPE, SUM)).check("q1", {"kernel": np.ones((5, 5))})
    lines = repr(r).splitlines()
    assert not r.passed
    assert lines[0] == "q1 results: FAILED: kernel must be 3x3, got (5, 5)"
    assert lines[1] == "(2 of 2 checks failed; details below)"
    assert "`round(float(kernel.sum()), 3)` gave '25.0', expected '1.0'" in repr(r)
    assert "Traceback" in repr(r) or "AssertionError" in repr(r)      # the details follow
    assert "&lt;" not in lines[0] and "kernel must be 3x3" in r._repr_html_()


def test_blank_answer_is_a_clear_failure_not_a_crash():
    r = C.Grader("01_demo", tests=_blob(SHAPE)).check("q1", {})
    assert repr(r).splitlines()[0] == "q1 results: FAILED: NameError: name 'kernel' is not defined"
    all_ = C.Grader("01_demo", tests=_blob(SHAPE)).check_all({})
    assert not all_.passed and repr(all_).splitlines()[0].startswith("q1 results: FAILED: NameError")


kernel = None   # the default environment is the caller's globals (a notebook's), as in otter


def test_check_uses_the_callers_globals_and_leaves_them_alone():
    import numpy as np
    global kernel
    kernel = np.eye(3) / 3
    g = C.Grader("01_demo", tests=_blob(SHAPE, SUM))
    assert g.check("q1").passed and g.check_all().passed
    assert "np" not in globals()    # a copy of the notebook's namespace (doctest's, as in otter): nothing leaks


def test_tests_are_read_not_executed(tmp_path):
    marker = tmp_path / "ran"
    evil = f"open({str(marker)!r}, 'w').write('x')\nOK_FORMAT = True\ntest = {{'name': 'q2', 'points': 1, 'suites': []}}\n"
    g = C.Grader("01_demo", tests=_blob(SHAPE, extra_files={"q2.py": evil}))
    assert g.questions() == ["q1", "q2"] and not marker.exists()
    with pytest.raises(ValueError, match="q3.py: `test` is not a plain literal"):
        C.Grader("01_demo", tests=C.encode_tests({"q3.py": "test = make_test()"}))


def test_unknown_question_is_one_clear_error():
    g = C.Grader("01_demo", tests=_blob(SHAPE))
    with pytest.raises(ValueError, match=r"no self-check test 'q9' here \(questions with tests: q1\)"):
        g.check("q9", {})


def test_questions_in_numeric_order_and_tests_folder_fallback(tmp_path, monkeypatch):
    files = {f"q{i}.py": f"OK_FORMAT = True\ntest = {{'name': 'q{i}', 'points': 1, 'suites': []}}\n" for i in (1, 2, 10)}
    assert C.Grader("01_demo", tests=C.encode_tests(files)).questions() == ["q1", "q2", "q10"]
    (tmp_path / "tests").mkdir()
    for n, src in files.items():
        (tmp_path / "tests" / n).write_text(src)
    monkeypatch.chdir(tmp_path)
    assert C.Grader("01_demo").questions() == ["q1", "q2", "q10"]     # otter's tests/ layout
    assert "q1 results: All test cases passed!" in repr(C.Grader("01_demo").check_all({}))


def test_no_otter_needed():
    """A kernel where otter cannot be imported (Colab's): the setup cell's import and a check work."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; sys.modules['otter'] = None\n"          # `import otter` now raises ImportError
            "from cvhelpers.assignments.check import Grader, encode_tests\n"
            f"g = Grader('01_demo', tests={_blob(SHAPE)!r})\n"
            "print(repr(g.check('q1', {})).splitlines()[0])")
    env = {"PYTHONPATH": str(Path(C.__file__).resolve().parents[2]), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "q1 results: FAILED: NameError: name 'kernel' is not defined"
    src = Path(C.__file__).read_text(encoding="utf-8")
    assert "import otter" not in src and "from otter" not in src and "exec(" not in src
