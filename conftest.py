"""Repository-wide pytest hook: print how long each notebook and test file took, in total.

`make test` runs pytest on two workers (pytest-xdist, ``--dist loadscope``): each notebook and each
test module runs whole on one worker (a notebook's cells in order, a module's session fixtures
built once), two at a time. Notebooks 05-08 form one unit, run in that order on one worker: 06
compares itself with the record 05 writes, and 08's table reads the records of 05, 06 and 07 (without
this, another worker could reach 06 before 05 has finished and 06 would retrain 05's baseline).

Plugins in tests/: answer_leaks.py (no assignment answer printed by its lesson: the lessons'
outputs are recorded under build/lesson-outputs/ as nbval runs them and checked at the end, which
fails the run on a leak) and env_guard.py (with CVHELPERS_ENV_GUARD=1, a test that leaves os.environ
changed errors). Markers set from each test's code and module (TEST_MARKS below), so that
`make unit` can deselect TensorFlow, grading, the book, the browser and notebooks with ``-m``.
"""

import ast
import functools
import importlib.util
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent

import pytest

_totals: dict = defaultdict(float)


def pytest_runtest_logreport(report):
    _totals[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    _tf_warning(terminalreporter)
    if not _totals:
        return
    terminalreporter.section("time per file (setup + call + teardown)")
    for path, secs in sorted(_totals.items()):
        terminalreporter.write_line(f"{secs:8.1f} s  {path}")


# Notebooks that read the results records of earlier ones: one xdist work unit, run in this order.
CHAINED_NOTEBOOKS = ("notebooks/05_", "notebooks/06_", "notebooks/07_", "notebooks/08_")


@pytest.hookimpl(optionalhook=True)   # without pytest-xdist (colab-check's Python 3.13 venv): unused
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist", None) != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            if nodeid.startswith(CHAINED_NOTEBOOKS):
                return "notebooks/05-08 (chained)"
            return super()._split_scope(nodeid)

    return CourseScheduling(config, log)


def _load(filename, name):
    spec = importlib.util.spec_from_file_location(name, _HERE / "tests" / filename)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod   # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def pytest_configure(config):
    """The plugins in tests/: answer_leaks.py (issue 19) and env_guard.py (issue 21)."""
    for filename, name in (("answer_leaks.py", "course-answer-leaks"), ("env_guard.py", "course-env-guard")):
        if not config.pluginmanager.has_plugin(name):
            config.pluginmanager.register(_load(filename, name.replace("-", "_")), name)


# Markers. By module (TEST_MARKS): `grading` builds and grades assignments, `book` builds the Jupyter
# Book, `browser` drives Chromium, `notebook` runs a notebook (nbval, or a kernel). By reading the code
# (no import): `tf` for a test or doctest that imports TensorFlow/Keras: its module does at its top
# (`import keras`, `pytest.importorskip("keras")`, `from cvhelpers import models`), or the test function,
# a fixture or module helper it names does (one level), or calls a cvhelpers function that imports it
# when called (_tf_functions). `make unit` runs
# `-m "not (tf or grading or book or browser or notebook or slow)"`; a run that deselects `tf` does not
# even collect (import) the modules that import TensorFlow at their top.
TEST_MARKS = {
    "test_assignments.py": ("grading", "tf", "slow"),
    "test_book.py": ("book", "slow"),
    "test_browser.py": ("browser", "slow"),
    "test_seed_rotation.py": ("notebook",),
}
_TF_NAME = re.compile(r"^\s*(import (tensorflow|keras)|from (tensorflow|keras)\b)|(?<![\w.])keras\.\w"
                      r"|importorskip\(\s*[\"']?(tensorflow|keras)\b|from cvhelpers import [^\n]*\bmodels\b"
                      r"|cvhelpers\.models|from cvhelpers\.(models|interpret)\b", re.M)


def _code_only(src: str) -> str:
    """The source with its string literals and comments blanked (``"tensorflow-cpu"`` is no import);
    a string that is exactly "tensorflow" or "keras" (importorskip's argument) is kept."""
    import io
    import tokenize
    lines = src.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    cuts = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.COMMENT or (tok.type == tokenize.STRING and tok.string.strip("\"'") not in ("tensorflow", "keras")):
                cuts.append((offsets[tok.start[0] - 1] + tok.start[1], offsets[tok.end[0] - 1] + tok.end[1]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return src
    out, at = [], 0
    for a, b in cuts:
        out += [src[at:a], '""']
        at = b
    return "".join(out) + src[at:]




def _top_level_source(tree, text):
    lines = text.splitlines()
    return "\n".join("\n".join(lines[n.lineno - 1:n.end_lineno]) for n in tree.body
                     if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))


@functools.lru_cache(maxsize=None)
def _module_info(path: str):
    """(module imports TF at its top, {function name: source}, top-level source) of a Python file."""
    text = Path(path).read_text(encoding="utf-8")
    tree = ast.parse(text)
    top = _top_level_source(tree, text)
    top_tf = bool(re.search(r"^\s*(import (tensorflow|keras)|from (tensorflow|keras)\b)", top, re.M)) or \
        bool(re.search(r"importorskip\([\"'](tensorflow|keras)|from cvhelpers import [^\n]*\bmodels\b", top))
    funcs = {n.name: ast.get_source_segment(text, n) or "" for n in ast.walk(tree)
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return top_tf, funcs, top


_IMPORTS_TF = re.compile(r"^\s*(import (tensorflow|keras)|from (tensorflow|keras)\b)", re.M)


@functools.lru_cache(maxsize=None)
def _tf_functions() -> frozenset:
    """Names of the public cvhelpers functions that import TensorFlow/Keras when called (lazily), or
    call one of those of their module (two levels): a test that calls one is a `tf` test."""
    names = set()
    for path in sorted((_HERE / "cvhelpers").rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        top_tf = bool(_IMPORTS_TF.search(_top_level_source(tree, text)))
        funcs = {n.name: ast.get_source_segment(text, n) or "" for n in tree.body
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        tf = {n for n, src in funcs.items() if top_tf or _IMPORTS_TF.search(src)}
        for _ in range(2):
            tf |= {n for n, src in funcs.items() if any(re.search(rf"\b{re.escape(t)}\(", src) for t in tf - {n})}
        names |= {n for n in tf if not n.startswith("_")}
    return frozenset(names)


def _calls_tf_function(path: str, text: str) -> bool:
    """``module.name(`` for a TF function ``name``, or ``name(`` when the test module imports it
    from cvhelpers."""
    top = _module_info(path)[2]
    for t in _tf_functions():
        if re.search(rf"\.{re.escape(t)}\(", text):
            return True
        if re.search(rf"\b{re.escape(t)}\(", text) and re.search(rf"from cvhelpers[.\w]* import [^\n]*\b{re.escape(t)}\b", top):
            return True
    return False


def _uses_tf(path: str, name: str, fixtures=()) -> bool:
    top_tf, funcs, _ = _module_info(path)
    if top_tf:
        return True
    src = funcs.get(name, "")
    seen = [src] + [funcs.get(f, "") for f in fixtures]
    for called in set(re.findall(r"\b(_?[A-Za-z]\w*)\(", src)):
        if called != name:
            seen.append(funcs.get(called, ""))
    text = _code_only("\n".join(seen))
    if _TF_NAME.search(text):
        return True
    if path.startswith(str(_HERE / "cvhelpers")):   # a doctest: the function it documents
        return name in _tf_functions()
    return _calls_tf_function(path, text)


def _deselects(config, mark: str) -> bool:
    """Whether ``-m`` deselects an item that has only ``mark``."""
    expr = config.getoption("markexpr", "") or ""
    if not expr:
        return False
    from _pytest.mark.expression import Expression
    try:
        return not Expression.compile(expr).evaluate(lambda m, **kw: m == mark)
    except Exception:
        return False


def pytest_ignore_collect(collection_path, config):
    p = Path(collection_path)
    if p.suffix == ".py" and p.name != "conftest.py" and p.is_file() and _deselects(config, "tf"):
        try:
            return True if _module_info(str(p))[0] else None
        except (SyntaxError, UnicodeDecodeError, OSError):
            return None
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
            item.add_marker(pytest.mark.slow)
            continue
        for name in TEST_MARKS.get(path.name, ()):
            item.add_marker(getattr(pytest.mark, name))
        if path.suffix != ".py":
            continue
        fn = getattr(item, "originalname", None) or item.name.split("[")[0]
        if item.__class__.__name__ == "DoctestItem":
            fn = item.name.rsplit(".", 1)[-1]
        if _uses_tf(str(path), fn, tuple(getattr(item, "fixturenames", ()))):
            item.add_marker(pytest.mark.tf)


# A run that deselects `tf` (make unit) says which test imported TensorFlow anyway: it should be marked.
_tf_first: list = []


def pytest_collection_finish(session):
    if "tensorflow" in sys.modules or "keras" in sys.modules:
        _tf_first.append("collection (a module imports it at its top)")


def pytest_runtest_teardown(item):
    if not _tf_first and ("tensorflow" in sys.modules or "keras" in sys.modules):
        _tf_first.append(item.nodeid)


def _tf_warning(terminalreporter):
    if _tf_first and _deselects(terminalreporter.config, "tf"):
        terminalreporter.write_line(f"WARNING: TensorFlow/Keras was imported by {_tf_first[0]} although `tf` is "
                                    "deselected: mark it (conftest.py TEST_MARKS, or pytest.mark.tf)", yellow=True)
