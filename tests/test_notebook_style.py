"""Style rules for the lessons in notebooks/: short code cells, and no package source cut up by string.

A lesson shows its code top-down, in cells a student can read at a glance (keras.io's style):
no code cell is longer than MAX_LINES lines. A lesson that shows package code prints a whole
function with ``print(inspect.getsource(f))``; cutting the source text at a string
(``src[src.index("    img, ker4"):]``, ``.split('\"\"\"')``) breaks silently on any rename.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_LINES = 40
WHOLE_FUNCTION = re.compile(r"print\(inspect\.getsource\([\w.]+\)\)")


def code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            yield i, src


def test_the_lessons_are_found():
    assert len(NOTEBOOKS) >= 13


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_code_cell_is_longer_than_40_lines(path):
    long = [(i, len(src.splitlines())) for i, src in code_cells(path) if len(src.splitlines()) > MAX_LINES]
    assert not long, f"{path.name}: code cells (index, lines) over {MAX_LINES} lines: {long}; split them with prose"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_package_source_is_shown_whole(path):
    for i, src in code_cells(path):
        for line in src.splitlines():
            if "getsource(" in line:
                assert WHOLE_FUNCTION.search(line) and line.count("getsource(") == 1, (
                    f"{path.name} cell {i}: {line.strip()!r}: print a whole function "
                    "(print(inspect.getsource(f))) or write the code in the cell")
        assert not re.search(r"\bsrc\s*\[|\.index\(\s*[\"']\s", src), (
            f"{path.name} cell {i}: source text is cut at a string; write the code in the cell instead")


@pytest.mark.parametrize("bad", [
    'src = inspect.getsource(F.correlate2d)\nprint(src[src.index("    img, ker4"):])',
    "print(inspect.getsource(F.correlate2d_loops).split('\"\"\"')[-1])",
    "x = 1\n" * 41,
])
def test_the_rules_catch_what_they_are_for(tmp_path, bad):
    nb = {"cells": [{"cell_type": "code", "source": bad, "metadata": {}, "outputs": [], "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "99_bad.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(AssertionError):
        test_no_code_cell_is_longer_than_40_lines(path)
        test_package_source_is_shown_whole(path)
