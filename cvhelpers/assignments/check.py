"""The student's side of an assignment: ``grader.check("q1")`` and ``grader.check_all()``.

A student copy's setup cell creates the grader with :func:`Grader`; the public tests come packed in
that cell (:func:`encode_tests`), so no ``tests/`` folder and no file on disk are needed (Colab).
Cheating one's own self-check only hurts oneself: the teacher grades outside the student's kernel
(:mod:`cvhelpers.assignments.grade`).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import zlib
from pathlib import Path

GRADING_HINT = 'the grader needs otter-grader: pip install "cvhelpers[grading]" (or `make install`)'


def encode_tests(files: dict[str, str]) -> str:
    """Pack test files ``{"q1.py": source, ...}`` into one ASCII string (zlib + base64).

    >>> decode_tests(encode_tests({"q1.py": "test = {}"}))
    {'q1.py': 'test = {}'}
    """
    raw = json.dumps(dict(sorted(files.items())), sort_keys=True).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_tests(blob: str) -> dict[str, str]:
    """The inverse of :func:`encode_tests`."""
    try:
        files = json.loads(zlib.decompress(base64.b64decode(blob)))
    except (ValueError, zlib.error) as exc:
        raise ValueError("the self-check tests in the setup cell are damaged: re-download the "
                         "student copy (or rebuild it with `make assignments`)") from exc
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise ValueError("the self-check tests in the setup cell are not a {file: source} mapping")
    return files


_GRADER_CLASS = None


def _grader_class():
    """``otter.Notebook`` with the tests from the notebook itself and explicit environments."""
    global _GRADER_CLASS
    if _GRADER_CLASS is not None:
        return _GRADER_CLASS
    try:
        import otter
        from otter.check.utils import list_available_tests
        from otter.test_files import GradingResults
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(GRADING_HINT) from exc

    class _Grader(otter.Notebook):
        """See :func:`Grader`."""

        def __init__(self, assignment: str, tests: str | None = None):
            self.assignment = assignment
            tests_dir = "./tests"
            if tests and not type(self)._grading_mode:   # grading mode: otter's tests win
                files = decode_tests(tests)
                tests_dir = tempfile.mkdtemp(prefix=f"cvhelpers-{assignment}-tests-")
                for name, source in files.items():
                    Path(tests_dir, os.path.basename(name)).write_text(source, encoding="utf-8")
            super().__init__(tests_dir=tests_dir)

        def check(self, question: str, global_env: dict | None = None):
            """Run the public tests of ``question`` against the notebook's variables."""
            if global_env is None:
                global_env = sys._getframe(1).f_globals
            if not type(self)._grading_mode and not os.path.isfile(os.path.join(self._tests_dir, f"{question}.py")):
                known = ", ".join(self.questions()) or "none"
                raise ValueError(f"no self-check test {question!r} here (questions with tests: {known}); "
                                 "open the student copy built by `make assignments` and run its setup cell first")
            return super().check(question, global_env)

        def questions(self) -> list[str]:
            """The names of the questions that have tests, in order."""
            if not os.path.isdir(self._tests_dir):
                return []
            return sorted(list_available_tests(self._tests_dir, self._nbmeta_config), key=question_key)

        def check_all(self):
            """Run every public test; shows one line per question."""
            env = sys._getframe(1).f_globals
            return GradingResults([self.check(q, env) for q in self.questions()])

    _GRADER_CLASS = _Grader
    return _Grader


def Grader(assignment: str, tests: str | None = None):
    """The ``grader`` of an assignment notebook: ``grader.check("q1")``, ``grader.check_all()``.

    ``tests`` is the packed public tests (:func:`encode_tests`) that :func:`build` writes into the
    student copy's setup cell; they are unpacked into a temporary folder, so no ``tests/`` folder
    and no notebook file on disk are needed (Colab). While the autograder runs a submission, its
    own full set of tests is used instead.
    """
    return _grader_class()(assignment, tests)


def question_key(name: str):
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else 0, name)

