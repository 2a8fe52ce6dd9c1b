"""Getting a registered file: a verified local copy, else the mirrors, else the official URL.

What is missing is fetched into the cache: first from each mirror in ``CVHELPERS_MIRROR``
(space- or comma-separated), then from the official URL. A mirror is an ``http(s)://`` base URL
(the file is requested as ``<mirror>/<file name>``, weights as ``<mirror>/weights/<file name>``),
or a folder given as a path or a ``file://`` URL (the same names inside it; the file is verified
and copied into the cache). An entry that is neither is reported and skipped. Downloads keep what
they received and resume from the same source; see :mod:`cvhelpers.fetch.downloader` for the rules
and the time limits. ``CVHELPERS_OFFLINE=1`` never touches the network.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .checksums import check_file
from .downloader import copy_verified, download
from .errors import DataError
from .places import cache_dir, data_dir, fix_hint, mirror_source, mirrors, offline
from .registry import REGISTRY, Artifact, Dataset, dataset

__all__ = ["local_copy", "get", "find_form", "find", "fetch", "verify", "status"]


_NOTED: set[str] = set()


def _note_skipped(errors) -> None:
    """Say once per process (stderr) which mirror entries were skipped, when another source worked."""
    for e in errors:
        if str(e).startswith("CVHELPERS_MIRROR entry") and str(e) not in _NOTED:
            _NOTED.add(str(e))
            print(f"note: {e}", file=sys.stderr)


def local_copy(art: Artifact) -> Path | None:
    """A verified local copy of ``art`` (data dir first, then cache), or None."""
    places = []
    if data_dir() is not None:
        places.append(data_dir() / art.filename)
    places.append(cache_dir() / art.filename)
    for p in places:
        if check_file(p, art.hashes, art.size):
            return p
    return None


def _fallback_note(ds: Dataset | None) -> tuple[str, str]:
    """For a mirror-only dataset: (which official files its loader builds a subset from, "it"/"them"), else ("", "")."""
    fb = REGISTRY.get(ds.fallback) if ds is not None and ds.fallback else None
    if fb is None:
        return "", ""
    one = len(fb.artifacts) == 1
    files = ", ".join(Path(a.filename).name for a in fb.artifacts)
    homes = sorted({a.urls[0].rsplit("/", 1)[0] + "/" for a in fb.artifacts if a.urls})
    where = f" ({', '.join(homes)})" if homes else ""
    return (f"the loader builds a subset of the same size from the official {fb.name} "
            f"{'file' if one else 'files'} {files}{where} when {'it is' if one else 'they are'} here"), \
        ("it" if one else "them")


def get(art: Artifact, ds: Dataset | None = None, progress: bool = True) -> Path:
    """A verified path to ``art``: local copy, else mirrors, else official URL (into the cache)."""
    found = local_copy(art)
    if found is not None:
        return found
    hint = fix_hint(art)
    errors: list[DataError] = []
    sources: list[tuple[str, str | Path]] = []
    for entry in mirrors():
        try:
            sources.append(mirror_source(entry, art.filename))
        except DataError as exc:
            errors.append(exc)
    sources += [("url", u) for u in art.urls]
    if offline():
        sources = [s for s in sources if s[0] == "folder"]  # a local folder is not the network
        if not sources:
            if art.urls:
                where = f"official URL: {art.urls[0]}"
            elif _fallback_note(ds)[0]:  # what oxford_pets() / cats_vs_dogs() really do without the mirror's zip
                note, them = _fallback_note(ds)
                where = (f"only the course mirror has this file, but {note}: unset CVHELPERS_OFFLINE to "
                         f"download {them}, or put {them} in {data_dir() or cache_dir()}")
            else:
                where = "no official URL, only the course mirror has this file"
            raise DataError(f"{art.filename} is not available offline (CVHELPERS_OFFLINE=1; {where}); {hint}")
    if not sources and not errors:
        note = f" {ds.note}" if ds is not None and ds.note else ""
        raise DataError(f"{art.filename} has no official download URL.{note} Fix: {hint}")
    dest = cache_dir() / art.filename
    for kind, where in sources:
        try:
            if kind == "folder":
                got = copy_verified(where, dest, hashes=art.hashes, size=art.size, progress=progress, manual_hint=hint)
            else:
                got = download(where, dest, hashes=art.hashes, size=art.size, progress=progress, manual_hint=hint)
        except DataError as exc:
            errors.append(exc)
            continue
        _note_skipped(errors)
        return got
    if len(errors) == 1 and not str(errors[0]).startswith("CVHELPERS_MIRROR entry"):
        raise errors[0]
    reasons = "; ".join(e.reason or str(e).split("; ")[0] for e in errors)
    if offline():
        reasons += "; CVHELPERS_OFFLINE=1, so no download was tried"
        if not art.urls and _fallback_note(ds)[0]:
            reasons += f" ({_fallback_note(ds)[0]})"
    elif not art.urls:
        reasons += "; no official download URL" + (f" ({ds.note})" if ds is not None and ds.note else "")
    raise DataError(f"{art.filename}: every source failed ({reasons}); {hint}")


def find_form(name: str) -> tuple[tuple, list[Path]] | None:
    """(files, verified local paths) of the first complete form of dataset ``name`` here, or None."""
    ds = dataset(name)
    for form in (*ds.alternatives, ds.artifacts):
        paths = [local_copy(a) for a in form]
        if all(paths):
            return form, paths
    return None


def find(name: str) -> list[Path] | None:
    """Verified local paths of dataset ``name`` (any complete form), or None. Never downloads."""
    found = find_form(name)
    return found[1] if found else None


def fetch(name: str, progress: bool = True) -> list[Path]:
    """Verified paths of dataset ``name``, downloading what is missing (see module docs)."""
    ds = dataset(name)
    have = find(name)
    if have:
        return have
    forms = [*ds.alternatives, ds.artifacts]
    first_error = None
    # Mirrors may hold a course bundle (e.g. fashion_mnist.npz): try bundles from mirrors first.
    for form in forms:
        if form is not ds.artifacts and not mirrors():
            continue
        try:
            return [get(a, ds, progress) for a in form]
        except DataError as exc:
            first_error = first_error or exc
            if form is ds.artifacts:
                raise
    raise first_error  # pragma: no cover


def verify(name: str) -> tuple[bool, str]:
    """(ok, message) for dataset ``name``'s local files, without downloading."""
    paths = find(name)
    if paths:
        return True, ", ".join(str(p) for p in paths)
    return False, "not present (cvhelpers data fetch " + name + ")"


def status() -> list[dict]:
    """One dict per registered dataset: name, title, licence, whether it is present, where."""
    rows = []
    for name, ds in REGISTRY.items():
        paths = find(name)
        rows.append({"name": name, "title": ds.title, "licence": ds.licence,
                     "present": bool(paths), "paths": [str(p) for p in paths or []]})
    return rows
