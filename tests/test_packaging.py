"""The repository's promises: layout, README commands, deps that agree, clean notebooks."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from cvhelpers import home
from cvhelpers.nbtools import problems

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _norm(req: str) -> str:
    name = re.split(r"[<>=!~;\[ ]", req.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def test_layout():
    for p in ["notebooks", "cvhelpers", "data", "tests", "benchmarks", "environment.yml", "README.md",
              "pyproject.toml", "Makefile", ".ci/run"]:
        assert (REPO / p).exists(), p


def test_environment_yml_matches_pyproject():
    """environment.yml is a JupyterLab environment: the runtime dependencies plus the `lab` extra."""
    import yaml  # PyYAML comes with jupyter's dependencies

    py = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lab = py["optional-dependencies"]["lab"]
    runtime = {_norm(r) for r in py["dependencies"] + lab}
    cpu = {_norm(r) for r in py["optional-dependencies"]["cpu"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {_norm(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    pip = {_norm(d) for d in next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))}
    assert conda | pip == runtime | {"tensorflow-cpu"}, "environment.yml and pyproject.toml differ"
    assert "tensorflow-cpu" in cpu
    # versions agree too, where both give one (the `lab` extra's floor wins: ipywidgets 8 there)
    spec = {_norm(r): r.split(";")[0].split("#")[0].strip()[len(_norm(r)):] for r in py["dependencies"] + lab}
    for d in env["dependencies"]:
        if isinstance(d, str) and _norm(d) in spec:
            assert d[len(_norm(d)):] == spec[_norm(d)], d


def test_runtime_floors_accept_colabs_pins():
    """Every runtime dependency that Colab has is satisfied by Colab's version (tests/colab/colab-pins.txt):
    the setup cell must not replace Colab's packages. No kernel, Lab or grading tool among them."""
    from packaging.requirements import Requirement

    pins = dict(line.split("==") for line in (REPO / "tests/colab/colab-pins.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    pins = {_norm(k): v.strip() for k, v in pins.items()}
    py = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    checked = 0
    for r in map(Requirement, py["dependencies"]):
        if _norm(r.name) in pins:
            assert r.specifier.contains(pins[_norm(r.name)], prereleases=True), f"{r} rejects Colab's {pins[_norm(r.name)]}"
            checked += 1
    assert checked >= 10, checked
    names = {_norm(r) for r in py["dependencies"]}
    assert not names & {"jupyterlab", "ipykernel", "notebook", "otter-grader", "pytest", "jupyter-book"}, names


def test_readme_starts_with_the_two_commands():
    head = (REPO / "README.md").read_text().split("\n## ")[0]
    cmds = re.findall(r"^(make \w+)", head, flags=re.M)
    assert cmds == ["make lab", "make test"]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^lab:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (REPO / ".ci/run").read_text()


def test_notebooks_exist_in_course_order():
    names = [p.name for p in NOTEBOOKS]
    assert names, "no notebooks"
    assert names[0].startswith("00_")
    for n in names:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", n), n


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    assert problems(nb) == [], f"{path.name}: run `make strip`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_opens_with_badge_and_setup_cell(path):
    cells = json.loads(path.read_text())["cells"]
    first = "".join(cells[0]["source"])
    assert first.startswith(f"# {path.name[:2]} ")
    assert home.colab_url(f"notebooks/{path.name}") in first
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert "from cvhelpers.env import setup" in code[0] and "google.colab" in code[0]
    last = " ".join("".join(c["source"]) for c in cells[-3:]).lower()
    assert "references" in last


def test_readme_lists_every_notebook_with_a_badge():
    readme = (REPO / "README.md").read_text()
    for p in NOTEBOOKS:
        assert f"](notebooks/{p.name})" in readme, f"README's notebook table lacks {p.name}"
        assert f"]({home.colab_url(f'notebooks/{p.name}')})" in readme, f"README lacks the Colab badge of {p.name}"
