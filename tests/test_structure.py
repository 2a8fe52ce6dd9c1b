"""The package's shape (ARCHITECTURE.md): modules keep to their own names, stay small, ship whole,
and every name the notebooks import from cvhelpers still exists."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "cvhelpers"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 500  # a module past this is split by subject (cvhelpers/fetch/, cvhelpers/filters/, cvhelpers/datasets/)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(path: Path, node: ast.ImportFrom, root: Path) -> str:
    """The absolute module an ``ImportFrom`` names (``from ..fetch import x`` in cvhelpers/datasets/hoda.py: cvhelpers.fetch)."""
    if not node.level:
        return node.module or ""
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(path: Path, root: Path = REPO) -> list[str]:
    """Each place where ``path`` takes another cvhelpers module's private name: ``from .x import _y``,
    ``from . import _x`` or ``mod._y`` on an imported cvhelpers module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(path, node, root)
            if not source.startswith("cvhelpers"):
                continue
            if any(_private(part) for part in source.split(".")):
                found.append(f"{path.name}:{node.lineno} imports private module {source}")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{path.name}:{node.lineno} imports {source}.{alias.name}")
                else:
                    modules[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cvhelpers"):
                    modules[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in modules):
            found.append(f"{path.name}:{node.lineno} uses {modules[node.value.id]}.{node.attr}")
    return sorted(found, key=lambda f: int(f.split(":")[1].split()[0]))


def test_the_checker_sees_private_imports(tmp_path):
    pkg = tmp_path / "cvhelpers" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "m.py").write_text("from ..fetch import _lock, ok\nfrom . import _hidden\nfrom .. import data\n"
                              "data._dataset('x')\nfrom cvhelpers.fetch import download as DL\nDL._Part\n")
    found = private_imports(pkg / "m.py", root=tmp_path)
    assert found == ["m.py:1 imports cvhelpers.fetch._lock", "m.py:2 imports cvhelpers.sub._hidden",
                     "m.py:4 uses cvhelpers.data._dataset", "m.py:6 uses cvhelpers.fetch.download._Part"]


KNOWN: set[str] = set()  # exceptions to the rule below (none)


def test_no_module_imports_another_modules_private_names():
    found = [f"{p.relative_to(PACKAGE)}: {f}" for p in MODULES for f in private_imports(p)]
    found = [f for f in found if re.sub(r" \S+:\d+ ", " ", f) not in KNOWN]
    assert not found, "use (or add) a public name instead:\n" + "\n".join(found)


def test_modules_stay_small():
    big = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"split these by subject (see ARCHITECTURE.md): {big}"


def test_package_docstring_lists_every_module():
    import cvhelpers

    doc = cvhelpers.__doc__
    top = sorted({p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES} - {"__init__"})
    missing = [m for m in top if f"``{m}``" not in doc]
    assert not missing, f"cvhelpers/__init__.py's docstring does not list {missing}"


def _notebook_sources():
    for nb in sorted((REPO / "notebooks").glob("*.ipynb")) + sorted((REPO / "assignments").glob("*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                src = "".join(cell["source"])
                # IPython magics and shell lines are not Python
                src = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines())
                try:
                    yield nb.name, ast.parse(src)
                except SyntaxError:
                    continue


@pytest.mark.slow
def test_every_name_the_notebooks_take_from_cvhelpers_exists():
    """``from cvhelpers.X import Y`` and ``X.Y`` on a cvhelpers module, in every notebook and assignment."""
    import importlib

    missing = set()
    for nb, tree in _notebook_sources():
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cvhelpers"):
                mod = importlib.import_module(node.module)
                for alias in node.names:
                    if hasattr(mod, alias.name):
                        value = getattr(mod, alias.name)
                        if type(value).__name__ == "module":
                            aliases[alias.asname or alias.name] = value
                    else:
                        try:
                            aliases[alias.asname or alias.name] = importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.add(f"{nb}: {node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("cvhelpers"):
                        importlib.import_module(alias.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                if not hasattr(aliases[node.value.id], node.attr):
                    missing.add(f"{nb}: {aliases[node.value.id].__name__}.{node.attr}")
    assert not missing, sorted(missing)


@pytest.mark.slow
def test_the_wheel_holds_every_module(tmp_path):
    """A non-editable install gets every subpackage (setuptools' packages.find, pyproject.toml)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(PACKAGE, src / "cvhelpers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(src)], check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("cvhelpers-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n for n in zf.namelist() if n.endswith(".py")}
    wanted = {p.relative_to(REPO).as_posix() for p in MODULES}
    assert wanted <= shipped, f"missing from the wheel: {sorted(wanted - shipped)}"
