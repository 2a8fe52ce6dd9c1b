"""The student's side of an assignment: ``grader.check("q1")`` and ``grader.check_all()``.

A student copy's setup cell creates the grader with :func:`Grader`; the public tests come packed in
that cell (:func:`encode_tests`), so no ``tests/`` folder and no file on disk are needed (Colab). The
checker is light: the standard library only, no otter-grader (the teacher's tool, extra ``grading``),
so a student copy installs nothing heavy and replaces none of Colab's packages. The tests are otter's
"OK format" files (``OK_FORMAT = True`` and a ``test = {...}`` literal of doctest cases), read with
:func:`ast.literal_eval` (never executed as a file) and run with :mod:`doctest` in the notebook's
globals, as otter runs them. Cheating one's own self-check only hurts oneself: the teacher grades
outside the student's kernel (:mod:`cvhelpers.assignments.grade`).

>>> blob = encode_tests({"q1.py": "OK_FORMAT = True\\ntest = " + repr({"name": "q1", "points": 1, "suites": [
...     {"cases": [{"code": ">>> assert x == 2, 'x should be 2: one plus one'\\n", "hidden": False}],
...      "type": "doctest"}]})})
>>> grader = Grader("00_demo", tests=blob)
>>> x = 3
>>> r = grader.check("q1", {"x": x})
>>> print(repr(r).splitlines()[0])
q1 results: FAILED: x should be 2: one plus one
>>> grader.check("q1", {"x": 2})
q1 results: All test cases passed!
"""

from __future__ import annotations

import ast
import base64
import doctest
import html
import io
import json
import os
import sys
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path

#: Kept for callers of the teacher's tools (``make assignments``, ``cvhelpers grade``): the student's
#: self-checks need no extra any more.
GRADING_HINT = 'building and grading assignments needs otter-grader: pip install "cvhelpers[grading]" (or `make install`)'


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


def question_key(name: str):
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else 0, name)


def parse_test(source: str, filename: str = "test.py") -> dict:
    """The ``test`` dict of an OK-format test file, read without running the file.

    >>> parse_test("OK_FORMAT = True\\ntest = {'name': 'q1', 'points': 1, 'suites': []}")["name"]
    'q1'
    >>> parse_test("import os")
    Traceback (most recent call last):
    ...
    ValueError: test.py is not an OK-format test file (no `test = {...}` literal)
    """
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise ValueError(f"{filename} is not an OK-format test file ({exc.msg}, line {exc.lineno})") from None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "test"):
            try:
                test = ast.literal_eval(node.value)
            except ValueError:
                raise ValueError(f"{filename}: `test` is not a plain literal") from None
            if isinstance(test, dict) and isinstance(test.get("suites"), list):
                return test
    raise ValueError(f"{filename} is not an OK-format test file (no `test = {{...}}` literal)")


@dataclass
class Failure:
    """One failing doctest case: ``headline`` (one line: the check's own message) and ``details``."""
    headline: str
    details: str


@dataclass
class CheckResult:
    """The outcome of ``grader.check(question)``: ``passed``, the ``failures`` (first one first)."""
    question: str
    cases: int
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def headline(self) -> str:
        if self.passed:
            return f"{self.question} results: All test cases passed!"
        return f"{self.question} results: FAILED: {self.failures[0].headline}"

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if self.passed:
            return self.headline
        n = len(self.failures)
        lines = [self.headline,
                 f"({n} of {self.cases} check{'s' if self.cases != 1 else ''} failed; details below)"]
        for i, f in enumerate(self.failures, 1):
            lines += ["", f"--- failing check {i} of {n}: {f.headline}", f.details.rstrip()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#b42318"
        head = f'<p style="color:{colour};font-weight:bold;margin:0">{html.escape(self.headline)}</p>'
        if self.passed:
            return head
        body = "".join(f"<details><summary>{html.escape(f.headline)}</summary><pre>{html.escape(f.details)}</pre>"
                       "</details>" for f in self.failures)
        return head + body


@dataclass
class CheckAllResult:
    """The outcome of ``grader.check_all()``: one :class:`CheckResult` per question, one line each."""
    results: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def __bool__(self) -> bool:
        return self.passed

    def __iter__(self):
        return iter(self.results)

    def __repr__(self) -> str:
        lines = [r.headline for r in self.results]
        if any(not r.passed for r in self.results):
            lines.append('(details of one question: grader.check("qN"))')
        return "\n".join(lines) or "no self-checks loaded"

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() for r in self.results) or "<p>no self-checks loaded</p>"


class _Runner(doctest.DocTestRunner):
    """A doctest runner that keeps, per failing example, a one-line headline."""

    def __init__(self):
        super().__init__(verbose=False)
        self.headlines: list[str] = []

    def report_failure(self, out, test, example, got):
        src = example.source.strip().splitlines()[0]
        self.headlines.append(f"`{src}` gave {got.strip()[:200]!r}, expected {example.want.strip()[:200]!r}")
        super().report_failure(out, test, example, got)

    def report_unexpected_exception(self, out, test, example, exc_info):
        exc_type, exc, _ = exc_info
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if exc_type is AssertionError:
            self.headlines.append(msg or f"`{example.source.strip().splitlines()[0]}` is not true")
        else:
            self.headlines.append(f"{exc_type.__name__}: {msg}" if msg else exc_type.__name__)
        super().report_unexpected_exception(out, test, example, exc_info)


def run_case(name: str, code: str, env: dict) -> Failure | None:
    """Run one doctest case against ``env`` (the notebook's globals; doctest runs in a shallow copy, as
    in otter, so a test's own imports do not land in the notebook). None if it passes."""
    examples = [e for e in doctest.DocTestParser().parse(code, name) if isinstance(e, doctest.Example)]
    test = doctest.DocTest(examples, env, name, None, None, code)
    runner, out = _Runner(), io.StringIO()
    try:
        runner.run(test, out=out.write, clear_globs=False)
    except Exception:  # the doctest machinery itself broke: still one line, never a crash
        return Failure(f"the check could not run: {sys.exc_info()[0].__name__}", traceback.format_exc())
    if not runner.headlines:
        return None
    return Failure(runner.headlines[0], out.getvalue())


class Grader:
    """The ``grader`` of an assignment notebook: ``grader.check("q1")``, ``grader.check_all()``.

    ``tests`` is the packed public tests (:func:`encode_tests`) that
    :func:`~cvhelpers.assignments.build.build` writes into the student copy's setup cell. Without
    it, the OK-format files of a ``tests/`` folder in the working directory are used (otter's layout).
    """

    def __init__(self, assignment: str, tests: str | None = None):
        self.assignment = str(assignment)
        if tests:
            files = decode_tests(tests)
        elif os.path.isdir("tests"):
            files = {p.name: p.read_text(encoding="utf-8") for p in Path("tests").glob("*.py")}
        else:
            files = {}
        self._tests: dict[str, dict] = {}
        for fname, source in files.items():
            test = parse_test(source, os.path.basename(fname))
            self._tests[str(test.get("name") or Path(fname).stem)] = test

    def __repr__(self) -> str:
        return f"Grader({self.assignment!r}: self-checks for {', '.join(self.questions()) or 'no question'})"

    def questions(self) -> list[str]:
        """The names of the questions that have tests, in order."""
        return sorted(self._tests, key=question_key)

    def check(self, question: str, global_env: dict | None = None) -> CheckResult:
        """Run the public tests of ``question`` against the notebook's variables."""
        if global_env is None:
            global_env = sys._getframe(1).f_globals
        test = self._tests.get(str(question))
        if test is None:
            known = ", ".join(self.questions()) or "none"
            raise ValueError(f"no self-check test {question!r} here (questions with tests: {known}); "
                             "open the student copy built by `make assignments` and run its setup cell first")
        cases = [c for s in test["suites"] for c in s.get("cases", []) if not c.get("hidden")]
        result = CheckResult(str(question), len(cases))
        for i, case in enumerate(cases):
            failure = run_case(f"{question} {i}", case.get("code", ""), global_env)
            if failure is not None:
                result.failures.append(failure)
        return result

    def check_all(self, global_env: dict | None = None) -> CheckAllResult:
        """Run every public test; shows one line per question."""
        if global_env is None:
            global_env = sys._getframe(1).f_globals
        return CheckAllResult([self.check(q, global_env) for q in self.questions()])
