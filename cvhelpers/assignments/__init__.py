"""Classroom assignments, in three parts:

- :mod:`~cvhelpers.assignments.check`: the student's self-checks (``grader.check("q1")``);
- :mod:`~cvhelpers.assignments.build`: student copies and autograders from ``assignments/`` (``make assignments``);
- :mod:`~cvhelpers.assignments.grade`: grading a folder of submissions (``cvhelpers grade``).

The names most callers need are importable from here.
"""

from cvhelpers.assignments.build import (SETUP_CELL, autograder_meta, build, child_env, questions,
                                         repo_root, resolve, sources)
from cvhelpers.assignments.check import GRADING_HINT, Grader, decode_tests, encode_tests, question_key
from cvhelpers.assignments.grade import find_autograder, grade_folder, grade_one, submissions, write_csv

__all__ = ["GRADING_HINT", "Grader", "SETUP_CELL", "autograder_meta", "build", "child_env", "decode_tests",
           "encode_tests", "find_autograder", "grade_folder", "grade_one", "question_key", "questions",
           "repo_root", "resolve", "sources", "submissions", "write_csv"]
