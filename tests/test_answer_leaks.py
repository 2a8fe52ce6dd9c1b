"""The check that no assignment answer is printed by its lesson (tests/answer_leaks.py), on synthetic
notebooks: what counts as an answer, a leak caught, near-misses not; and on the real assignments:
the answers it reads are the ones their hidden tests expect."""

from __future__ import annotations

import json
from pathlib import Path

import answer_leaks as L

REPO = Path(__file__).resolve().parent.parent


def _nb(*cells):
    out = []
    for kind, src in cells:
        out.append({"cell_type": kind, "source": src, "metadata": {}, **({"outputs": []} if kind == "code" else {})})
    return {"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _question(name, solution, tests, manual=False):
    head = f"# BEGIN QUESTION\nname: {name}\npoints: 1\n" + ("manual: true\n" if manual else "all_or_nothing: true\n")
    cells = [("raw", head), ("markdown", f"**{name} (1 point).** ..."), ("raw", "# BEGIN SOLUTION"),
             ("code", solution), ("raw", "# END SOLUTION"), ("raw", "# BEGIN TESTS")]
    cells += [("code", t) for t in tests]
    return cells + [("raw", "# END TESTS"), ("raw", "# END QUESTION")]


ASSIGNMENT = _nb(
    ("code", "grader = Grader('99_x')"),
    *_question("q1", "regular = 3 * 3 * 128 * 256 + 256  # SOLUTION\nratio = regular / 34_176  # SOLUTION",
               ["assert regular > 0", '""" # BEGIN TEST CONFIG\nhidden: true\n""" # END TEST CONFIG\n'
                                      "assert abs(acc - 0.9187) < 0.01 and shape == (7, 7, 64)"]),
    *_question("q2", "tensors = (1 + 2) + 13 * 2 * (1 + 2)  # SOLUTION\nhead = 2 + 2  # SOLUTION\nlast = 2  # SOLUTION",
               ["assert tensors == 81 and head == 4 and last == 2"]),
    *_question("q3", "def f(x):\n    # BEGIN SOLUTION\n    return x + 12345\n    # END SOLUTION\n\n\nhelper = 5 * 7  # SOLUTION",
               ["assert f(0) == 12_345", "import numpy as np\nassert np.isclose(f(0.5), 12345.5)"]),
    *_question("q4", "Written answer: 4096 photos.", [], manual=True),
)


def _values(q):
    return sorted(map(repr, (a.value for a in L.answers(ASSIGNMENT)[q])))


def test_answers_are_solution_constants_and_test_literals():
    got = L.answers(ASSIGNMENT)
    assert set(got) == {"q1", "q2", "q3"}, "manual questions have no auto-graded answer"
    assert _values("q1") == sorted(map(repr, [295168, 295168 / 34176, 0.9187, (7, 7, 64)]))
    assert _values("q2") == sorted(map(repr, [81, 4, 2]))
    assert _values("q3") == sorted(map(repr, [35, 12345, 12345.5])), "a function's body is not an answer; tests' literals are"
    assert [a.origin for a in got["q2"]] == ["solution: tensors", "solution: head", "solution: last"]


def _leaks(text):
    return L.leaks(L.answers(ASSIGNMENT), [(7, text)])


def test_a_printed_answer_is_caught():
    for text in ["3×3, 128→256     295,168   34,176", "params: 295168", "accuracy 0.919", "test acc 91.9%",
                 "output shape (None, 7, 7, 64)", "[7, 7, 64]", "f(0) = 12345",
                 "tensors before freezing: 81\nafter: 0\nmodel: 4\nEpoch 2/3"]:
        assert _leaks(text), text
    msg = _leaks("params: 295,168")[0]
    assert "q1" in msg and "295168" in msg and "cell 7" in msg


def test_near_misses_and_trivial_numbers_are_not_leaks():
    for text in ["params: 295,169", "params: 2,295,168", "accuracy 0.92", "accuracy 0.927", "accuracy 0.9",
                 "shape (7, 7)", "shape (7, 7, 64, 1)", "tensors: 81", "81 tensors, 4 layers",   # not all of q2's
                 "epoch 1/2", "f(0) = 12,346", "12345.6", "version 1.2.3", "4096 photos"]:
        assert _leaks(text) == [], text


def test_counting_rules():
    assert L.distinctive(295168) and L.distinctive(128) and L.distinctive(0.919) and L.distinctive((7, 7, 64))
    assert L.distinctive((2, 16)) and L.distinctive((0.75, 0.125)) and not L.distinctive((3, 3)) and not L.distinctive((0, 1))
    assert not L.distinctive(81) and not L.distinctive(100) and not L.distinctive(2) and not L.distinctive(0.5)
    assert not L.distinctive(1e-5) and not L.distinctive(3e-05) and not L.distinctive(1.0)
    assert L.numbers("1,180,160 and 48.1%") == [1180160, L.Decimal("48.1"), L.Decimal("0.481")]


def test_check_reads_the_assignment_named_like_the_lesson(tmp_path):
    (tmp_path / "assignments").mkdir()
    (tmp_path / "assignments" / "99_x.ipynb").write_text(json.dumps(ASSIGNMENT))
    assert L.check("99_x", [(3, "34,176 parameters")], root=tmp_path) == [], "a number the solution divides by is no answer"
    assert L.check("99_x", [(3, "295,168 parameters")], root=tmp_path) == [
        "assignments/99_x.ipynb: q1 = 295168 (solution: regular) is printed by cell 3"]
    assert L.check("98_no_assignment", [(3, "295,168 parameters")], root=tmp_path) == []


def test_an_executed_notebook_is_read_cell_by_cell(tmp_path):
    nb = _nb(("markdown", "295,168 in prose is not an output"), ("code", "print(n)"), ("code", "n"))
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["a\n", "295,168\n"]}]
    nb["cells"][2]["outputs"] = [{"output_type": "execute_result", "data": {"text/plain": "(None, 7, 7, 64)"},
                                  "metadata": {}, "execution_count": 1}]
    (tmp_path / "99_x.ipynb").write_text(json.dumps(nb))
    cells = L.executed_cells(tmp_path / "99_x.ipynb")
    assert cells == [(1, "a\n295,168\n"), (2, "(None, 7, 7, 64)")]
    assert [m.split(" is ")[0] for m in L.leaks(L.answers(ASSIGNMENT), cells)] == [
        "q1 = 295168 (solution: regular)", "q1 = (7, 7, 64) (test)"]


def test_the_real_assignments_answers_are_read():
    """Their hidden tests' numbers are what the check compares: a few known ones (issue 19)."""
    got = {p.stem: L.answers(json.loads(p.read_text(encoding="utf-8"))) for p in sorted((REPO / "assignments").glob("[0-9][0-9]_*.ipynb"))}
    assert len(got) >= 12
    vals = {name: {a.value for q in qs.values() for a in q} for name, qs in got.items()}
    assert {307_392, 14_080} <= vals["09_cnn_architectures"]
    assert 12_979_200 in vals["08_fine_tuning"] and 108 in vals["07_pretrained_feature_extraction"]
    assert 62_558 in vals["03_mnist_convnets"]


def test_the_plugin_is_registered(request):
    assert request.config.pluginmanager.has_plugin("course-answer-leaks")
