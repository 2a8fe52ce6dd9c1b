"""The course's home is one setting (cvhelpers/home.py), and `make retarget` moves every link with it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

from cvhelpers import home

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENTS = sorted((ROOT / "assignments").glob("[0-9][0-9]_*.ipynb"))


def _text_files(root: Path) -> list[str]:
    return [f for f in home._tree_files(root) if home._is_text(f)]


def _snapshot(root: Path) -> dict[str, str]:
    return {f: hashlib.sha256((root / f).read_bytes()).hexdigest() for f in _text_files(root)}


def _course_links(root: Path, rel: str) -> list[home.Link]:
    repo, branch = home.read_setting(root)
    files = frozenset(home._tree_files(root))
    return [link for link in home.find_links((root / rel).read_text(encoding="utf-8"), repo, branch, files, rel)
            if link.course]


# ---- the tree agrees with the setting ----------------------------------------------------------

def test_the_setting_is_valid_and_is_the_one_in_the_tree():
    assert home.read_setting(ROOT) == (home.REPOSITORY, home.BRANCH), "run the tests with PYTHONPATH=this checkout"
    assert home.check_repository(home.REPOSITORY) == home.REPOSITORY
    assert home.check_branch(home.BRANCH) == home.BRANCH


def test_every_link_in_the_tree_agrees_with_the_setting():
    problems = home.disagreements(ROOT)
    assert problems == [], "links that disagree with cvhelpers/home.py (`make retarget REPO=...` fixes them):\n" + \
        "\n".join(problems)


def test_the_links_that_must_follow_the_setting_are_found():
    """The check above is only worth something if it sees the links: each kind, where the course has one."""
    for nb in NOTEBOOKS:
        rel = nb.relative_to(ROOT).as_posix()
        kinds = sorted(link.kind for link in _course_links(ROOT, rel))
        assert kinds == ["colab", "install"], (rel, kinds)
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        assert home.colab_url(rel) in "".join(cells[0]["source"]), f"{rel}: the badge belongs in the first cell"
        setup = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert f'"{home.install_spec()}"' in setup, f"{rel}: the setup cell's install line"
    for nb in ASSIGNMENTS:
        rel = nb.relative_to(ROOT).as_posix()
        assert [link.kind for link in _course_links(ROOT, rel)] == ["install"], rel
    readme = [link for link in _course_links(ROOT, "README.md") if link.kind == "colab"]
    assert {link.path for link in readme} == {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"] == home.repo_url()
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())["repository"]
    assert config == {"url": home.repo_url(), "branch": home.BRANCH}
    index = (ROOT / "book" / "index.md").read_text()
    assert f"git clone {home.repo_url()}.git\ncd {home.REPOSITORY.split('/')[1]}\n" in index


def test_python_code_reads_the_setting_instead_of_repeating_it():
    repeats = [f for f in _text_files(ROOT) if f.endswith(".py") and f != home.HOME_FILE
               and home.REPOSITORY.lower() in (ROOT / f).read_text(encoding="utf-8").lower()]
    assert repeats == [], f"use cvhelpers.home (repo_url, colab_url, install_spec) in {repeats}"


def test_the_urls():
    # hosts apart from owner/name: a literal link here would be one of the tree's links to check and move
    gh, colab = "https://github.com", "https://colab.research.google.com/github"
    assert home.repo_url("you/course") == f"{gh}/you/course"
    assert home.colab_url("notebooks/00_setup.ipynb", repository="you/course", branch="spring/2026") == \
        f"{colab}/you/course/blob/spring/2026/notebooks/00_setup.ipynb"
    assert home.blob_url("cvhelpers", tree=True, repository="you/course", branch="dev") == f"{gh}/you/course/tree/dev/cvhelpers"
    assert home.install_spec("grading", repository="you/course", branch="main") == f"cvhelpers[grading] @ git+{gh}/you/course"
    assert home.install_spec(repository="you/course", branch="dev") == f"cvhelpers @ git+{gh}/you/course@dev"


# ---- the check and the retarget on small trees --------------------------------------------------

def _tiny_course(root: Path, repository: str, branch: str = "main") -> Path:
    """A course of three files whose links point at ``repository`` (the setting says the default)."""
    (root / "cvhelpers").mkdir(parents=True)
    text = (ROOT / home.HOME_FILE).read_text(encoding="utf-8")
    text = re.sub(r'(?m)^REPOSITORY = ".*"$', f'REPOSITORY = "{home.REPOSITORY}"', text)
    (root / home.HOME_FILE).write_text(re.sub(r'(?m)^BRANCH = ".*"$', f'BRANCH = "{home.BRANCH}"', text))
    (root / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# 00 · x\n\n[![Open In Colab](badge.svg)]"
                                              f"({home.colab_url('notebooks/00_x.ipynb', repository=repository, branch=branch)})"),
                nbformat.v4.new_code_cell(f'%pip install -q "{home.install_spec(repository=repository, branch=branch)}"')]
    (root / "notebooks" / "00_x.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    (root / "README.md").write_text(
        f"Fashion-MNIST: https://github.com/zalandoresearch/fashion-mnist, a paper's code: "
        f"[code](https://github.com/someone-else/paper/blob/main/model.py).\n\n"
        f"```bash\ngit clone {home.repo_url(repository)}.git\ncd {repository.split('/')[1]}\n```\n")
    return root


def test_the_check_names_a_link_to_another_repository_and_retarget_repairs_it(tmp_path):
    root = _tiny_course(tmp_path, "hand/edited", branch="old")
    problems = home.disagreements(root)
    assert len(problems) == 6 and all("hand/edited" in p for p in problems), problems   # repo and branch/cd, x3
    assert not any("zalandoresearch" in p or "someone-else" in p for p in problems)
    assert main_ok(["retarget", home.REPOSITORY, "--branch", home.BRANCH, "--root", str(root)])
    assert home.disagreements(root) == []
    readme = (root / "README.md").read_text()
    assert "github.com/zalandoresearch/fashion-mnist" in readme and "someone-else/paper/blob/main" in readme


def main_ok(argv) -> bool:
    return home.main(argv) == 0


@pytest.mark.parametrize("repo, branch", [
    ("", "main"), ("you", "main"), ("you/fork/x", "main"), ("https://github.com/you/fork", "main"),
    ("-you/fork", "main"), ("you/fork.git", "main"), ("you/..", "main"), ("you/my fork", "main"),
    ("you/fork", ""), ("you/fork", "a..b"), ("you/fork", "x.lock"), ("you/fork", "/x"), ("you/fork", "x/"),
    ("you/fork", ".x"), ("you/fork", "has space"), ("you/fork", "x@{1}"), ("you/fork", "-x"),
])
def test_a_bad_repo_or_branch_is_refused_in_one_line(tmp_path, capsys, repo, branch):
    root = _tiny_course(tmp_path, home.REPOSITORY, home.BRANCH)
    before = _snapshot(root)
    assert home.main(["retarget", f"--branch={branch}", "--root", str(root), "--", repo]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("retarget: error: ") and "make retarget REPO=" in err, err
    assert _snapshot(root) == before


# ---- the retarget on a copy of the whole course ---------------------------------------------------

@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("course")
    for f in home._tree_files(ROOT):
        (copy / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, copy / f)
    return copy


def _retarget(root: Path, repo: str, branch: str) -> str:
    """``make retarget`` in ``root`` (or the script it runs, where there is no make)."""
    if shutil.which("make"):
        cmd = ["make", "-s", "retarget", f"REPO={repo}", f"BRANCH={branch}", f"PYTHON={sys.executable}"]
    else:
        cmd = [sys.executable, home.HOME_FILE, "retarget", repo, "--branch", branch]
    run = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_retarget_moves_every_link_and_only_the_links(course_copy):
    copy, old = course_copy, home.REPOSITORY
    original = {f: (copy / f).read_bytes() for f in _text_files(copy)}
    out = _retarget(copy, "someone/my-course", "dev")
    assert "someone/my-course (dev)" in out
    assert home.read_setting(copy) == ("someone/my-course", "dev")
    assert home.disagreements(copy) == []
    changed = [f for f in original if (copy / f).read_bytes() != original[f]]
    for must in ["README.md", "pyproject.toml", "book/_config.yml", "book/index.md", home.HOME_FILE,
                 *(p.relative_to(ROOT).as_posix() for p in NOTEBOOKS + ASSIGNMENTS)]:
        assert must in changed, must
    for f in changed:
        text = (copy / f).read_text(encoding="utf-8")
        assert old.lower() not in text.lower(), f"{f} still names {old}"
        before, after = original[f].decode().splitlines(keepends=True), text.splitlines(keepends=True)
        assert len(before) == len(after), f
        for a, b in zip(before, after):      # only lines with a link changed (and the clone's `cd`, branches)
            if a != b:
                assert "someone/my-course" in b or b.strip() in ("cd my-course", 'BRANCH = "dev"', "branch: dev"), (f, a, b)
        if f.endswith(".ipynb"):
            nbformat.validate(nbformat.reads(text, as_version=nbformat.NO_CONVERT))
            assert text.endswith("}\n") and not text.endswith("\n\n")
    nb = (copy / "notebooks" / "00_setup.ipynb").read_text()
    assert home.colab_url("notebooks/00_setup.ipynb", repository="someone/my-course", branch="dev") in nb
    assert home.install_spec(repository="someone/my-course", branch="dev") in nb.replace('\\"', '"')

    # again: nothing to change, not a byte
    snapshot = _snapshot(copy)
    assert "nothing to change" in _retarget(copy, "someone/my-course", "dev")
    assert _snapshot(copy) == snapshot

    # to another repository (found by the new setting), and back: byte for byte the original
    _retarget(copy, "other-org/course_2.x", "spring/2026")
    assert home.disagreements(copy) == [] and home.read_setting(copy) == ("other-org/course_2.x", "spring/2026")
    _retarget(copy, old, home.BRANCH)
    assert {f: (copy / f).read_bytes() for f in original} == original
