"""What each profile needs: the plan behind ``cvhelpers data fetch --profile fast|full``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError
from .places import mirrors, offline
from .registry import WEIGHTS, Artifact, all_artifacts, dataset
from .sources import fetch, find_form, get, local_copy

__all__ = ["PROFILE_DATA", "OPTIONAL", "PlannedFile", "profile_plan", "fetch_profile", "verified_how"]


# Every dataset and weights file the notebooks load, per profile: a dataset name, or a WEIGHTS key
# (model, include_top). tests/test_notebook_data.py derives the same lists from the notebooks'
# loader calls and checks each has a public URL; `cvhelpers data fetch --profile` pre-fills them.
# OPTIONAL: loaded when they can be had; without them the notebook skips that part and says so.
PROFILE_DATA: dict[str, tuple] = {
    "fast": ("mnist", "fashion_mnist", "hoda", "cats_vs_dogs_small", "oxford_pets_subset",
             ("mobilenet_0.25", False), ("resnet50", True), ("efficientnetv2b0", False)),
    "full": ("mnist", "fashion_mnist", "hoda", "cats_vs_dogs", "oxford_pets",
             ("vgg16", False), ("mobilenet_0.25", False), ("resnet50", True), ("efficientnetv2b0", False)),
}


OPTIONAL = {("resnet50", True): "notebook 07's ImageNet demo", ("efficientnetv2b0", False): "notebook 08's modern backbone"}


@dataclass
class PlannedFile:
    """One file of a profile: what needs it, where it is (if here), its size, whether it is optional."""

    need: str  # the dataset name or "weights <model>"
    art: Artifact
    path: Path | None  # a verified local copy, or None (to download)
    size: int | None  # bytes if known
    optional: str = ""  # why the file is optional (what is skipped without it), or "" if it is needed
    dataset: str = ""  # the registry dataset the file belongs to ("" for weights)


def _remote_size(art: Artifact) -> int | None:
    """Content-Length from a HEAD request to the first source that answers (5 s each), or None."""
    import urllib.request
    from urllib.parse import quote

    for url in [f"{m}/{quote(art.filename)}" for m in mirrors()] + list(art.urls):
        try:
            req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "cvhelpers"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                n = resp.headers.get("Content-Length")
                if resp.status == 200 and n and n.isdigit():
                    return int(n)
        except Exception:  # noqa: BLE001 - a size is a nicety: any failure means "unknown"
            continue
    return None


def _form_to_fetch(name: str) -> tuple[str, tuple]:
    """The dataset and set of files ``fetch`` would end up with for ``name`` when nothing is here."""
    ds = dataset(name)
    if mirrors() and ds.alternatives:
        return name, ds.alternatives[0]  # mirrors are asked for the course bundle first
    if ds.fallback and not mirrors() and not all(a.urls for a in ds.artifacts):
        return _form_to_fetch(ds.fallback)  # mirror-only: the loader builds it from the public files
    return name, ds.artifacts


def profile_plan(profile: str, sizes: bool = True) -> list[PlannedFile]:
    """The files profile ``"fast"`` or ``"full"`` needs, each found here or to download.

    A dataset already complete here (in any of its forms) is listed as it is. Otherwise: its
    course bundle when mirrors are set (as ``fetch`` tries them first), else its official files;
    a mirror-only dataset without mirrors is replaced by the public dataset its loader builds it
    from. ``sizes=True`` asks the server for sizes the registry does not know (HEAD requests).
    """
    if profile not in PROFILE_DATA:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_DATA)}, got {profile!r}")
    rows = []
    for need in PROFILE_DATA[profile]:
        if isinstance(need, tuple):
            art = WEIGHTS[need]
            rows.append(PlannedFile(f"weights {need[0]}{' (with top)' if need[1] else ''}", art, local_copy(art),
                                    art.size, OPTIONAL.get(need, "")))
            continue
        ds = dataset(need)
        name, found = need, find_form(need)
        if found is None and ds.fallback and not mirrors():
            name, found = ds.fallback, find_form(ds.fallback)  # the loader builds the subset from these
        if found is not None:
            rows += [PlannedFile(name, a, p, None, dataset=name) for a, p in zip(*found)]
            continue
        name, form = _form_to_fetch(need)
        rows += [PlannedFile(name, a, local_copy(a), a.size, dataset=name) for a in form]
    for r in rows:
        if r.path is not None:
            r.size = r.path.stat().st_size
        elif r.size is None and sizes and not offline():
            r.size = _remote_size(r.art)
    return rows


def fetch_profile(profile: str, progress: bool = True, out=None) -> tuple[list[str], list[str]]:
    """Print the plan for ``profile``, then fetch every file in it. Returns (failed, optional_failed).

    Datasets are fetched whole (``fetch``); a mirror-only dataset whose mirror fails falls back
    to the public dataset its loader builds it from. Weights go into the cache's ``weights/``
    folder, where ``weights_path`` finds them.
    """
    out = out or sys.stdout
    plan = profile_plan(profile)
    mb = lambda n: f"{n / 1e6:,.1f} MB"  # noqa: E731
    todo = [r for r in plan if r.path is None]
    here = [r for r in plan if r.path is not None]
    print(f"{profile} profile: {len(plan)} files ({len(here)} here, {len(todo)} to download)", file=out)
    width, fwidth = max(len(r.need) for r in plan), max(len(r.art.filename) for r in plan)
    for r in plan:
        size = mb(r.size) if r.size is not None else "size unknown"
        where = f"here: {r.path}" if r.path else "to download"
        opt = f" (optional: {r.optional})" if r.optional else ""
        print(f"  {r.need:<{width}}  {r.art.filename:<{fwidth}}  {size:>12}  {where}{opt}", file=out)
    known = sum(r.size for r in todo if r.size is not None)
    unknown = sum(r.size is None for r in todo)
    print(f"to download: {len(todo)} files, {mb(known)}" + (f" + {unknown} of unknown size" if unknown else "")
          + f"; already here: {len(here)} files, {mb(sum(r.size or 0 for r in here))}", file=out)
    failed, optional_failed = [], []
    done = set()
    for r in todo:
        key = r.dataset or r.art.filename
        if key in done:
            continue
        done.add(key)
        try:
            if r.dataset:
                ds = dataset(r.dataset)
                try:
                    paths = fetch(r.dataset, progress=progress)
                except DataError as exc:
                    if not ds.fallback:
                        raise
                    print(f"{r.dataset}: {str(exc).split(';')[0]}; fetching {ds.fallback} instead "
                          "(the loader builds the same subset from it)", file=out)
                    paths = fetch(ds.fallback, progress=progress)
            else:
                paths = [get(r.art, None, progress)]
        except DataError as exc:
            (optional_failed if r.optional else failed).append(f"{r.need}: {exc}")
            continue
        for p in paths:
            print(f"{r.need}: {p} ({verified_how(p)})", file=out)
    return failed, optional_failed


def verified_how(path: Path) -> str:
    """How a file ``fetch`` returned was verified (its artifact matched by name), in words.

    >>> verified_how(Path("c/mnist.npz"))
    'checksum verified'
    """
    art = next((a for a in all_artifacts() if Path(a.filename).name == Path(path).name), None)
    if art is not None and art.hashes:
        return "checksum verified"
    if art is not None and art.size is not None:
        return "size verified; no published checksum, opened when used"
    return "no published checksum; opened when used"
