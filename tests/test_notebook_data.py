"""Every dataset and weights file a notebook loads, in either profile, has a public (non-mirror) URL.

The notebooks' code cells are parsed (``ast``) and every call is looked at:

* a call to a data loader of ``cvhelpers`` (``LOADERS`` below) is resolved, per profile, to the
  registry datasets / ``WEIGHTS`` keys it reads; its arguments may be literals or ``P.<name>``
  read from the notebook's ``Profile(...)`` cell, in the profile being mapped;
* a call to any *other* public function of ``cvhelpers.data`` must be in ``NOT_LOADING`` —
  so a new loader used in a notebook fails this test until it is mapped here;
* Keras' own downloaders (``keras.datasets``, ``get_file``, ``weights=`` other than ``None`` in a
  ``keras.applications`` constructor) and ``tensorflow_datasets`` are refused: they would load
  data the registry does not know.

The result must equal ``cvhelpers.data.PROFILE_DATA`` (what ``cvhelpers data fetch --profile``
fetches), and each entry must be downloadable from a public URL (a mirror-only dataset through
the public dataset its loader builds it from).
"""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from cvhelpers import data as D

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PROFILES = ("fast", "full")

# loader -> (positional parameter names, function(args, profile) -> list of needs)
LOADERS = {
    "load_mnist": ((), lambda a, p: ["mnist"]),
    "load_fashion_mnist": ((), lambda a, p: ["fashion_mnist"]),
    "load_hoda": ((), lambda a, p: ["hoda"]),
    "hoda_npz": ((), lambda a, p: ["hoda"]),
    "load_hoda_mnist_format": ((), lambda a, p: ["hoda"]),  # cvhelpers.digits, on load_hoda's arrays
    "cats_vs_dogs": (("source",), lambda a, p: [
        {"small": "cats_vs_dogs_small", "official": "cats_vs_dogs"}[a.get("source") or ("small" if p == "fast" else "official")]]),
    "oxford_pets": (("source",), lambda a, p: [
        {"subset": "oxford_pets_subset", "official": "oxford_pets"}[a.get("source") or ("subset" if p == "fast" else "official")]]),
    "pretrained": (("model", "include_top"), lambda a, p: [(a["model"], bool(a.get("include_top", False)))]),
    "weights_path": (("model", "include_top"), lambda a, p: [(a["model"], bool(a.get("include_top", False)))]),
    "build_base": (("name", "weights"), lambda a, p: [] if a.get("weights", "imagenet") is None else [(a["name"], False)]),
    "fetch": (("name",), lambda a, p: [a["name"]]),
}
# Public functions of cvhelpers.data that read no dataset (a notebook may call them freely).
NOT_LOADING = {"data_dir", "cache_dir", "mirrors", "offline", "find", "verify", "status", "describe_cats_vs_dogs",
               "pets_subset_names", "profile_plan", "Artifact", "Dataset", "DataError",
               "load_pets"}  # cvhelpers.segmentation: reads the folder oxford_pets() returned
REFUSED = {"get_file": "keras.utils.get_file downloads outside the registry",
           "load_data": "keras.datasets' load_data downloads outside the registry",
           "tfds": "tensorflow_datasets downloads outside the registry"}


def _cells(nb_path: Path) -> list[str]:
    """The code cells; IPython magics and shell escapes become ``pass`` (same indentation and line)."""
    cells = json.loads(nb_path.read_text())["cells"]
    out = []
    for c in cells:
        if c["cell_type"] == "code":
            lines = "".join(c["source"]).splitlines()
            out.append("\n".join(ln[:len(ln) - len(ln.lstrip())] + "pass" if ln.lstrip().startswith(("%", "!")) else ln
                                 for ln in lines))
    return out


def _profile_params(tree: ast.AST, profile: str) -> dict:
    """The notebook's ``P = Profile(...)`` values for ``profile`` (a 2-tuple is (fast, full))."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Profile":
            out = {}
            for kw in node.keywords:
                try:
                    v = ast.literal_eval(kw.value)
                except ValueError:
                    continue
                out[kw.arg] = v[PROFILES.index(profile)] if isinstance(v, tuple) and len(v) == 2 else v
            return out
    return {}


class _Resolver:
    """Values an argument can take: literals, ``P.<name>`` (this profile), and parameters of a
    notebook function traced back to the calls of that function (``f(P.backbone)``)."""

    def __init__(self, trees, params):
        self.params = params
        self.parent = {c: n for tree in trees for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        self.funcs = {n.name: n for tree in trees for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        self.calls = [n for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Call)]

    def values(self, node, where, depth=0) -> list:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "P":
            if node.attr not in self.params:
                raise AssertionError(f"{where}: P.{node.attr} is not a literal in the notebook's Profile(...)")
            return [self.params[node.attr]]
        if isinstance(node, ast.Name) and depth < 5:
            f = self.parent.get(node)
            while f is not None and not isinstance(f, ast.FunctionDef):
                f = self.parent.get(f)
            names = [a.arg for a in f.args.args] if f is not None else []
            if node.id in names:
                i = names.index(node.id)
                defaults = dict(zip(names[len(names) - len(f.args.defaults):], f.args.defaults))
                out = []
                for c in self.calls:
                    if (getattr(c.func, "id", None) or getattr(c.func, "attr", None)) != f.name:
                        continue
                    arg = c.args[i] if i < len(c.args) else next(
                        (k.value for k in c.keywords if k.arg == node.id), defaults.get(node.id))
                    if arg is not None:
                        out += self.values(arg, where, depth + 1)
                return out
        try:
            return [ast.literal_eval(node)]
        except ValueError:
            raise AssertionError(f"{where}: cannot tell which data `{ast.unparse(node)}` names; "
                                 "use a literal or a P.<name> from Profile(...)") from None


def _aliases(trees) -> tuple[set, set, set, set]:
    """Names bound to ``cvhelpers.data`` and to other ``cvhelpers`` modules; names imported from each."""
    data_mods, other_mods, data_names, other_names = {"cvhelpers.data"}, set(), set(), set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "cvhelpers":
                for a in node.names:
                    (data_mods if a.name == "data" else other_mods).add(a.asname or a.name)
            elif isinstance(node, ast.ImportFrom) and node.module == "cvhelpers.data":
                data_names |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cvhelpers."):
                other_names |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == "cvhelpers.data":
                        data_mods.add(a.asname or a.name)
    return data_mods, other_mods, data_names, other_names


def needs_of_source(sources, profile: str, label: str = "<notebook>") -> set:
    """The registry datasets / WEIGHTS keys that code cells ``sources`` (a list, or one string) load in ``profile``."""
    trees = [ast.parse(src) for src in ([sources] if isinstance(sources, str) else sources)]
    params = {}
    for tree in trees:
        params = params or _profile_params(tree, profile)
    data_mods, other_mods, data_names, other_names = _aliases(trees)
    resolver = _Resolver(trees, params)
    found = set()
    for node in (n for tree in trees for n in ast.walk(tree)):
        if isinstance(node, ast.Attribute) and node.attr == "datasets" and "keras" in ast.unparse(node.value):
            raise AssertionError(f"{label}:{node.lineno}: keras.datasets loads data outside the registry")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            if any(m and m.split(".")[0] == "tensorflow_datasets" for m in mods):
                raise AssertionError(f"{label}:{node.lineno}: {REFUSED['tfds']}")
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        owner = ast.unparse(node.func.value) if isinstance(node.func, ast.Attribute) else ""
        where = f"{label}:{node.lineno}"
        if name in REFUSED and name != "tfds":
            raise AssertionError(f"{where}: {REFUSED[name]}")
        if owner.startswith(("keras.applications", "applications")) and name[:1].isupper():
            w = next((kw.value for kw in node.keywords if kw.arg == "weights"), None)
            if w is None or resolver.values(w, where) != [None]:
                raise AssertionError(f"{where}: {ast.unparse(node.func)} without weights=None loads ImageNet weights "
                                     "outside the registry; use cvhelpers.data.pretrained or transfer.build_base")
        from_data = owner in data_mods or (owner == "" and name in data_names)
        from_cvhelpers = from_data or owner in other_mods or (owner == "" and name in other_names)
        if not from_cvhelpers or name in NOT_LOADING:
            continue
        if name in LOADERS:
            params_order, resolve = LOADERS[name]
            given = dict(zip(params_order, node.args))
            given.update({kw.arg: kw.value for kw in node.keywords if kw.arg in params_order})
            options = {k: resolver.values(v, where) for k, v in given.items()}
            for combo in itertools.product(*options.values()):
                found.update(resolve(dict(zip(options, combo)), profile))
        elif from_data or name.startswith(("load_", "fetch")):
            raise AssertionError(f"{where}: cvhelpers {owner + '.' if owner else ''}{name} is called but this test does "
                                 "not know what it loads: map it in LOADERS (tests/test_notebook_data.py) or list it "
                                 "in NOT_LOADING")
    return found


def notebook_needs(profile: str) -> set:
    out = set()
    for nb in NOTEBOOKS:
        out |= needs_of_source(_cells(nb), profile, nb.name)
    return out


def _is_public(url: str) -> bool:
    u = urlparse(url)
    return u.scheme in ("http", "https") and u.hostname not in (None, "localhost", "127.0.0.1", "::1")


def public_urls(need) -> list[str]:
    """The official URLs that provide ``need`` without any mirror ([] if some file has none)."""
    if isinstance(need, tuple):
        art = D.WEIGHTS.get(need)
        return list(art.urls) if art else []
    ds = D.REGISTRY[need]
    urls = [u for a in ds.artifacts for u in a.urls[:1] if _is_public(u)]
    if len(urls) == len(ds.artifacts):
        return urls
    return public_urls(ds.fallback) if ds.fallback else []


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_data_is_what_the_notebooks_load(profile):
    assert NOTEBOOKS, "no notebooks found"
    found = notebook_needs(profile)
    declared = set(D.PROFILE_DATA[profile])
    assert found == declared, (f"{profile} profile: notebooks load {sorted(map(str, found - declared))} not in "
                               f"PROFILE_DATA; PROFILE_DATA lists {sorted(map(str, declared - found))} no notebook loads")


@pytest.mark.parametrize("profile", PROFILES)
def test_everything_a_notebook_loads_has_a_public_url(profile):
    for need in notebook_needs(profile) | set(D.PROFILE_DATA[profile]):
        urls = public_urls(need)
        assert urls and all(_is_public(u) for u in urls), f"{profile} profile: {need} has no public download URL"
    assert set(D.OPTIONAL) <= set(D.PROFILE_DATA["fast"]) | set(D.PROFILE_DATA["full"])


def test_scanner_catches_new_and_hidden_loads():
    """The checks above can fail: an unmapped loader, an unresolvable argument, Keras' own downloads."""
    with pytest.raises(AssertionError, match="cvhelpers data.load_hoda_v2 is called but"):
        needs_of_source("from cvhelpers import data\nx = data.load_hoda_v2()", "fast")
    with pytest.raises(AssertionError, match="cvhelpers load_cifar is called but"):
        needs_of_source("from cvhelpers.data import load_cifar\nx = load_cifar()", "fast")
    with pytest.raises(AssertionError, match="cvhelpers digits.load_mnist_m is called but"):
        needs_of_source("from cvhelpers import digits\nx = digits.load_mnist_m()", "fast")
    with pytest.raises(AssertionError, match="cannot tell which data `name` names"):
        needs_of_source("from cvhelpers import data\nname = 'x'\ndata.fetch(name)", "fast")
    with pytest.raises(AssertionError, match="keras.datasets"):
        needs_of_source("import keras\n(x, y), _ = keras.datasets.cifar10.load_data()", "full")
    with pytest.raises(AssertionError, match="without weights=None"):
        needs_of_source("import keras\nm = keras.applications.ResNet50()", "full")
    with pytest.raises(AssertionError, match="tensorflow_datasets"):
        needs_of_source("import tensorflow_datasets as tfds", "full")
    src = ("from cvhelpers.profile import Profile\nfrom cvhelpers import data, transfer\n"
           "P = Profile(backbone=('mobilenet_0.25', 'vgg16'))\n"
           "root = data.cats_vs_dogs()\nb = transfer.build_base(P.backbone)\n"
           "a = transfer.build_base('vgg16', weights=None)\nk = keras.applications.VGG16(weights=None)\n")
    assert needs_of_source(src, "fast") == {"cats_vs_dogs_small", ("mobilenet_0.25", False)}
    assert needs_of_source(src, "full") == {"cats_vs_dogs", ("vgg16", False)}
    assert public_urls("cats_vs_dogs_small") == public_urls("cats_vs_dogs")  # mirror-only: through its fallback
