"""No assignment answer in its lesson (issue 19): a pytest plugin and the matching it uses.

Every auto-graded answer of ``assignments/NN_*.ipynb`` is compared with what lesson
``notebooks/NN_*.ipynb`` prints when it runs (the fast profile, as ``make test`` runs it). A lesson
that prints an assignment's answer gives it away, so the run fails and lists the leaks.

**The answers of a question** (read from the source notebook, no kernel needed):

- the value of every ``name = <constant expression>`` in its solution cells (``# SOLUTION`` lines
  and ``# BEGIN SOLUTION`` blocks; arithmetic on literals and on earlier solution names is
  evaluated: ``block_params = 3 * (3 * 3 * 512 * 512 + 512)`` gives 7079424);
- every constant its test cells (public and hidden) compare an answer with: either side of ``==``,
  the arguments of ``approx``/``isclose``/``allclose``, the constant in ``abs(x - C)``.

**What counts as a leak**, in the text a lesson cell outputs (stdout, stderr, ``text/plain``,
errors), where numbers are read with thousands separators (``295,168``) and percentages
(``48.1%`` is also 0.481):

1. a *distinctive* number: an integer with at least 3 significant digits (295168, 128; not 100
   or 81) equal to an output integer; or a non-integer answer equal to an output number that has
   at least 3 significant digits once the answer is rounded to that number's decimals (answer
   0.9187 leaks through "0.919" or "91.9%"; not through "0.92", and 0.927 does not match "0.928");
2. a tuple/list of 3 or more numbers, or a pair with a non-integer or a number of 2+ digits
   (``(2, 16)``, ``(0.75, 0.125)``; not ``(3, 3)`` or ``(0, 1)``), printed with the same numbers in
   the same order, in parentheses or brackets (``(7, 7, 64)`` leaks through ``(7, 7, 64)``,
   ``[7, 7, 64]`` and a Keras shape ``(None, 7, 7, 64)``; not through ``(7, 7)`` or ``(7, 7, 64, 1)``);
3. *all* the answers of a question that has two or more, one of them at least 10, printed in one
   cell's output (``81`` and ``4`` and ``2`` together), because small numbers alone are everywhere.

Trivial numbers (0, 1, 2, ... any integer below 3 significant digits, small pairs) never leak alone. Answers
the solution computes with the library (``M.conv2d_params(3, 128, 256)``) are not evaluated: put
the literal in the hidden test (or the solution) to have it checked.

The plugin (loaded by the repository's conftest.py): while nbval executes a lesson, each worker
writes the cells' output text to ``build/lesson-outputs/NN_slug.json``; at the end of the session
the controller checks every lesson that ran this session against its assignment, prints the leaks
and sets the exit status to 1. ``python tests/answer_leaks.py EXECUTED.ipynb ...`` checks
executed notebooks offline (the lesson is named by the file name).
"""

from __future__ import annotations

import ast
import json
import math
import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "build" / "lesson-outputs"

# --------------------------------------------------------------------------------------------
# answers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    question: str
    value: object  # int, float or tuple of numbers
    origin: str    # "solution: name" or "test"


class _Unknown(Exception):
    pass


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Pow: lambda a, b: a ** b,
        ast.Mod: lambda a, b: a % b}


def _const(node, env):
    """The value of an expression of literals, ``env`` names and arithmetic; else ``_Unknown``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _const(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a, b = _const(node.left, env), _const(node.right, env)
        if isinstance(a, tuple) or isinstance(b, tuple):
            raise _Unknown
        if isinstance(node.op, ast.Pow) and abs(b) > 64:
            raise _Unknown
        return _OPS[type(node.op)](a, b)
    if isinstance(node, (ast.Tuple, ast.List)) and node.elts:
        vals = tuple(_const(e, env) for e in node.elts)
        if all(isinstance(v, (int, float)) for v in vals):
            return vals
    raise _Unknown


def _try(node, env):
    try:
        return _const(node, env)
    except (_Unknown, ArithmeticError, TypeError, ValueError):
        return None


def _parse(src: str):
    lines = [line for line in src.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _solution_answers(q, src, env):
    """Top-level ``name = <constant expression>`` on solution lines (``# SOLUTION`` or inside a
    ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block) of a code cell."""
    inside, marked = False, set()
    for n, line in enumerate(src.splitlines(), 1):
        s = line.strip()
        if s.startswith("# BEGIN SOLUTION"):
            inside = True
        elif s.startswith("# END SOLUTION"):
            inside = False
        elif inside or s.endswith("# SOLUTION"):
            marked.add(n)
    tree = _parse(src)
    out = []
    for node in (tree.body if tree else []):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.lineno in marked):
            v = _try(node.value, env)
            if v is not None:
                env[node.targets[0].id] = v
                out.append(Answer(q, v, f"solution: {node.targets[0].id}"))
    return out


_CLOSE = {"approx", "isclose", "allclose", "assert_allclose", "assert_almost_equal"}


def _test_answers(q, src, env):
    tree = _parse(src)
    found = []
    for node in ast.walk(tree) if tree else []:
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq) for op in node.ops):
            found += [node.left, *node.comparators]
        elif isinstance(node, ast.Call):
            fn = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if fn in _CLOSE:
                found += list(node.args[:2])
            elif fn == "abs" and node.args and isinstance(node.args[0], ast.BinOp) and isinstance(node.args[0].op, ast.Sub):
                found += [node.args[0].left, node.args[0].right]
    out = []
    for n in found:
        v = _try(n, env)
        if v is not None:
            out.append(Answer(q, v, "test"))
    return out


def answers(nb: dict) -> dict[str, list[Answer]]:
    """``{question: [Answer, ...]}`` of a source notebook's auto-graded questions (JSON dict)."""
    q, manual, block, env = None, False, None, {}
    out: dict[str, list[Answer]] = {}
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        s = src.strip()
        if cell["cell_type"] == "raw":
            if s.startswith("# BEGIN QUESTION"):
                m = re.search(r"^name:\s*(\S+)", s, re.M)
                q, manual = (m.group(1) if m else "?"), bool(re.search(r"^manual:\s*true", s, re.M))
            elif s == "# END QUESTION":
                q = None
            elif s in ("# BEGIN SOLUTION", "# BEGIN TESTS"):
                block = s.split()[-1].lower()
            elif s in ("# END SOLUTION", "# END TESTS"):
                block = None
            continue
        if q is None or manual or cell["cell_type"] != "code":
            continue
        if block == "solution" or "# SOLUTION" in src:
            out.setdefault(q, []).extend(_solution_answers(q, src, env))
        elif block == "tests":
            out.setdefault(q, []).extend(_test_answers(q, src, env))
    # one entry per distinct value
    return {k: list({repr(a.value): a for a in reversed(v)}.values())[::-1] for k, v in out.items() if v}


# --------------------------------------------------------------------------------------------
# matching
# --------------------------------------------------------------------------------------------

_NUM = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?%?(?![\w])")
_SEQ = re.compile(r"[(\[]\s*(?:None\s*,\s*)?(-?[\d.]+(?:\s*,\s*-?[\d.]+)+)\s*,?\s*[)\]]")


def numbers(text: str) -> list[Decimal]:
    """The numbers in a text, as printed (``295,168`` -> 295168; ``48.1%`` -> 48.1 and 0.481)."""
    out = []
    for m in _NUM.finditer(text):
        tok = m.group().replace(",", "")
        pct = tok.endswith("%")
        try:
            d = Decimal(tok.rstrip("%"))
        except ArithmeticError:
            continue
        out.append(d)
        if pct:
            out.append(d.scaleb(-2))
    return out


def _sig(d: Decimal) -> int:
    """Significant digits as printed (integers: without trailing zeros; 0.928 -> 3; 100 -> 1)."""
    d = abs(d)
    if d == 0:
        return 0
    t = d.as_tuple()
    digits = "".join(map(str, t.digits)).lstrip("0")
    if t.exponent >= 0 or d == d.to_integral_value() and "." not in str(d):
        digits = digits.rstrip("0")
    return len(digits)


def _is_int(v) -> bool:
    return isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e15)


def distinctive(v) -> bool:
    """An answer that may leak alone: a tuple of 3+ numbers, or a pair with a non-integer or a number
    of 2+ digits; an integer of 3+ significant digits; a non-integer with 3+ significant digits."""
    if isinstance(v, tuple):   # (7, 7, 64), (2, 16), (0.75, 0.125); not (3, 3) or (0, 1)
        return len(v) >= 3 or (len(v) == 2 and any(not _is_int(x) or abs(x) >= 10 for x in v))
    if isinstance(v, float) and not math.isfinite(v):
        return False
    if _is_int(v):
        return _sig(Decimal(int(v))) >= 3
    return _sig(Decimal(repr(v))) >= 3


def matches(value, text: str) -> bool:
    """Whether ``text`` prints ``value`` (a distinctive answer), by the rules in the module doc."""
    if isinstance(value, tuple):
        want = [Decimal(repr(float(x))) for x in value]
        for m in _SEQ.finditer(text):
            try:
                got = [Decimal(x) for x in re.split(r"\s*,\s*", m.group(1))]
            except ArithmeticError:
                continue
            if len(got) == len(want) and all(g == w for g, w in zip(got, want)):
                return True
        return False
    if _is_int(value):
        iv = int(value)
        return _sig(Decimal(iv)) >= 3 and any(n == iv for n in numbers(text))
    for n in numbers(text):
        if _sig(n) < 3 or n == n.to_integral_value() and "." not in str(n):
            continue
        places = -n.as_tuple().exponent
        if Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places)) == n:
            return True
    return False


def _prints_small(value, text: str) -> bool:
    if isinstance(value, tuple):
        return matches(value, text)
    if _is_int(value):
        return any(n == int(value) for n in numbers(text))
    return matches(value, text)


def leaks(question_answers: dict[str, list[Answer]], cells: list[tuple[int, str]]) -> list[str]:
    """Messages, one per leak, for one assignment's answers against one lesson's ``(cell, text)``."""
    out = []
    for q, ans in question_answers.items():
        for cell, text in cells:
            for a in ans:
                if distinctive(a.value) and matches(a.value, text):
                    out.append(f"{q} = {a.value!r} ({a.origin}) is printed by cell {cell}")
            vals = [a.value for a in ans]
            if (len(vals) >= 2 and any(not isinstance(v, tuple) and abs(v) >= 10 for v in vals)
                    and not any(distinctive(v) for v in vals)
                    and all(_prints_small(v, text) for v in vals)):
                out.append(f"{q}: all its answers {', '.join(map(repr, vals))} are printed by cell {cell}")
    return out


# --------------------------------------------------------------------------------------------
# notebooks
# --------------------------------------------------------------------------------------------

def _text(outputs) -> str:
    parts = []
    for o in outputs or []:
        if o.get("output_type") == "stream":
            t = o.get("text", "")
        elif o.get("output_type") == "error":
            t = "\n".join([o.get("ename", ""), o.get("evalue", "")])
        else:
            t = (o.get("data") or {}).get("text/plain", "")
        parts.append("".join(t) if isinstance(t, list) else str(t))
    return "\n".join(parts)


def executed_cells(path: Path) -> list[tuple[int, str]]:
    """``[(cell index, output text)]`` of an executed notebook (code cells with outputs)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return [(i, _text(c.get("outputs"))) for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "code" and c.get("outputs")]


def assignment_for(lesson_stem: str, root: Path = REPO) -> Path | None:
    p = root / "assignments" / f"{lesson_stem}.ipynb"
    return p if p.is_file() else None


def check(lesson_stem: str, cells: list[tuple[int, str]], root: Path = REPO) -> list[str]:
    src = assignment_for(lesson_stem, root)
    if src is None:
        return []
    nb = json.loads(src.read_text(encoding="utf-8"))
    return [f"assignments/{src.name}: {m}" for m in leaks(answers(nb), cells)]


# --------------------------------------------------------------------------------------------
# the pytest plugin
# --------------------------------------------------------------------------------------------

_recorded: dict[str, list[tuple[int, str]]] = {}


def _lesson(nodeid: str) -> str | None:
    m = re.match(r"notebooks/(\d\d_[A-Za-z0-9_]+)\.ipynb::", nodeid)
    return m.group(1) if m else None


def pytest_runtest_teardown(item):
    """A lesson cell nbval ran: keep its output text (on the worker that ran it)."""
    outs = getattr(item, "test_outputs", None)
    stem = _lesson(item.nodeid)
    if outs is None or stem is None:
        return
    _recorded.setdefault(stem, []).append((getattr(item, "cell_num", -1), _text(outs)))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = OUT_DIR / f"{stem}.json.tmp"
    tmp.write_text(json.dumps(_recorded[stem]), encoding="utf-8")
    tmp.replace(OUT_DIR / f"{stem}.json")


_ran: set[str] = set()
_found: list[str] = []


def pytest_runtest_logreport(report):
    stem = _lesson(report.nodeid)
    if stem and report.when == "call":
        _ran.add(stem)


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        for stem in list(_recorded):
            _recorded.pop(stem)
        if OUT_DIR.is_dir():
            for p in OUT_DIR.glob("*.json"):
                p.unlink()


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):
        return
    for stem in sorted(_ran):
        f = OUT_DIR / f"{stem}.json"
        if f.is_file():
            _found.extend(check(stem, [tuple(c) for c in json.loads(f.read_text(encoding="utf-8"))]))
    if _found and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _found:
        terminalreporter.section("assignment answers printed by their lesson (tests/answer_leaks.py)", red=True)
        for line in _found:
            terminalreporter.write_line(line)
        terminalreporter.write_line("change the assignment (another layer, size, number) so that the lesson shows "
                                    "the method but not the answer; then update its solution and tests")


def main(argv: list[str]) -> int:
    bad = 0
    for arg in argv:
        stem = re.match(r"\d\d_[a-z0-9_]+", Path(arg).stem)
        found = check(stem.group(), executed_cells(Path(arg))) if stem else []
        print(f"{arg}: {len(found)} leak(s)")
        for line in found:
            print("   ", line)
        bad += len(found)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
