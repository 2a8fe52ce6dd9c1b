"""Stripping notebooks: outputs, counts and widget state go; sources stay."""

import json

from cvhelpers.nbtools import main, problems, strip


def test_strip_and_check(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1"], "metadata": {"widgets": {}},
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": ["1"]}], "execution_count": 3},
                    {"cell_type": "markdown", "source": ["# hi"], "metadata": {}}],
          "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {}}}, "nbformat": 4, "nbformat_minor": 5}
    p = tmp_path / "dirty nb.ipynb"
    p.write_text(json.dumps(nb))
    assert len(problems(nb)) == 4
    assert main(["check", str(p)]) == 1
    assert strip(p) is True
    clean = json.loads(p.read_text())
    assert problems(clean) == [] and clean["cells"][0]["source"] == ["x = 1"] and clean["cells"][1]["source"] == ["# hi"]
    assert strip(p) is False and main(["check", str(p)]) == 0
    assert main([]) == 2
