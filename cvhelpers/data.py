"""Datasets and pretrained weights for the course: a registry, a cache, loaders.

Where files are looked for, in order:

1. ``CVHELPERS_DATA_DIR`` if set: a read-only folder of pre-fetched files (a classroom share,
   the course's offline mirror). Nothing is ever written there.
2. The cache, ``CVHELPERS_CACHE_DIR`` or the user cache folder (``~/.cache/cvhelpers`` on Linux).
   Downloads, extracted archives and lock files go here.

What is missing is fetched into the cache: first from each mirror in ``CVHELPERS_MIRROR``
(space- or comma-separated), then from the official URL. A mirror is an ``http(s)://`` base URL
(the file is requested as ``<mirror>/<file name>``, weights as ``<mirror>/weights/<file name>``),
or a folder given as a path or a ``file://`` URL (the same names inside it; the file is verified
and copied into the cache). An entry that is neither is reported and skipped. Downloads keep what
they received and resume from the same source; see :mod:`cvhelpers.download` for the rules and the
time limits. ``CVHELPERS_OFFLINE=1`` never touches the network (folder mirrors are still used).

>>> from cvhelpers import data
>>> sorted(data.REGISTRY)[:3]
['cats_vs_dogs', 'cats_vs_dogs_small', 'fashion_mnist']
"""

from __future__ import annotations

import gzip
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .download import DataError, ChecksumError, check_file, copy_verified, damaged_archive, download, safe_extract
from . import profile as _profile

__all__ = [
    "Artifact", "Dataset", "REGISTRY", "WEIGHTS", "DataError",
    "data_dir", "cache_dir", "display_path", "mirrors", "offline", "find", "fetch", "verify", "status",
    "load_mnist", "load_fashion_mnist", "load_hoda", "hoda_npz", "cats_vs_dogs", "oxford_pets",
    "pets_subset_names", "build_pets_subset", "PROFILE_DATA", "profile_plan", "fetch_profile",
    "weights_path", "pretrained",
]


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Artifact:
    """One file: its name on disk and on mirrors, accepted checksums, size, official URL(s)."""

    filename: str  # relative path, e.g. "mnist.npz" or "weights/x.h5"
    hashes: tuple = ()  # accepted digests: "sha256:...", "md5:..." or "gitblob:..." (git's blob SHA-1)
    size: int | None = None  # bytes; with no hashes, the size alone is what is verified
    urls: tuple = ()  # official URLs, tried after the mirrors


@dataclass(frozen=True)
class Dataset:
    """A dataset: what it is, where it comes from, its licence, and the files that make it."""

    name: str
    title: str
    artifacts: tuple
    licence: str
    citation: str
    homepage: str = ""
    note: str = ""
    alternatives: tuple = field(default=())  # other complete sets of files (e.g. a course bundle)
    fallback: str = ""  # a dataset with public URLs from which the loader builds the same subset


_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_ZALANDO = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_KAPPS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_HODA_CDB = ("https://raw.githubusercontent.com/amir-saniyan/HodaDatasetReader/"
             "728dd5465fcf38c3c82a1d3fda721da30b2e70ed/DigitDB/")
# Oxford-IIIT Pet moved to thor.robots.ox.ac.uk (keras-io#1200; tensorflow-datasets downloads it
# there); the old address is kept as a fallback. The same checksums pin both.
_PETS = ("https://thor.robots.ox.ac.uk/datasets/pets/", "https://www.robots.ox.ac.uk/~vgg/data/pets/data/")

REGISTRY: dict[str, Dataset] = {d.name: d for d in [
    Dataset(
        "mnist", "MNIST handwritten digits (60,000 train / 10,000 test, 28×28 grey)",
        (Artifact("mnist.npz", ("sha256:731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",  # Keras
                                "sha256:06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"),  # course mirror
                  None, (_KERAS + "mnist.npz",)),),
        "CC BY-SA 3.0 (per the Keras docs; the original site states none)",
        "Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits.",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    Dataset(
        "fashion_mnist", "Fashion-MNIST (Zalando; 60,000 train / 10,000 test, 28×28 grey, 10 classes)",
        tuple(Artifact(f, (h,), s, (_KERAS + f, _ZALANDO + f)) for f, h, s in [
            ("train-images-idx3-ubyte.gz", "sha256:3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
            ("train-labels-idx1-ubyte.gz", "sha256:a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
            ("t10k-images-idx3-ubyte.gz", "sha256:346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
            ("t10k-labels-idx1-ubyte.gz", "sha256:67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
        ]),
        "MIT (© 2017 Zalando SE)",
        "H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST, arXiv:1708.07747 (2017).",
        "https://github.com/zalandoresearch/fashion-mnist",
        alternatives=((Artifact("fashion_mnist.npz", ("sha256:5b6d2c4c694a91887af8ab7d039c04f80af3c29378d731c93a538d2e831aa469",),
                                30869925),),),
    ),
    Dataset(
        "hoda", "HODA Persian handwritten digits (60,000 train / 20,000 test; 32×32 arrays + original sizes)",
        # HODA's own .cdb files, pinned to a commit of a public repository; git's blob SHA-1 checks
        # each exactly (no sha256 was ever published for the train file).
        (Artifact("hoda_cdb/Train 60000.cdb", ("gitblob:a87ae8c4b1a9e9227f600194ae82a8af3d0e08ec",), None,
                  (_HODA_CDB + "Train%2060000.cdb",)),
         Artifact("hoda_cdb/Test 20000.cdb", ("gitblob:1928104d6d0537c653ec2105d666e0b6733aabbf",
                                              "sha256:f947c38071c886677ec212fe5000863fafae0b4ed349d97d51c33abe3c8e2b07"),
                  2184440, (_HODA_CDB + "Test%2020000.cdb",)),
         Artifact("hoda_cdb/RemainingSamples.cdb", ("gitblob:9d2fcb7a4e6ce0f8657a2bf27a6751f2317b2d52",
                                                    "sha256:11c9b0661b8de5f743b1b01ac76b4de19b238062d6da3500b5d6128fb1989e3d"),
                  2440199, (_HODA_CDB + "RemainingSamples.cdb",))),
        "free of charge for research and non-commercial use only (farsiocr.ir)",
        "H. Khosravi, E. Kabir, Introducing a very large dataset of handwritten Farsi digits..., "
        "Pattern Recognition Letters 28 (2007).",
        "http://farsiocr.ir",
        note="The official .cdb files are decoded by cvhelpers.hoda (once; the arrays are kept in the "
             "cache). The course mirror's hoda.npz holds the same arrays, ready to load.",
        alternatives=((Artifact("hoda.npz", ("sha256:99095458a63055d221a7f3f5a7a24ddabc4bebbf5d3874d2cfb0ca8a9be2c895",),
                                10104856),),),
    ),
    Dataset(
        "cats_vs_dogs", "Kaggle Dogs vs. Cats, Microsoft's official zip (25,000 photos, ~1,600 unreadable)",
        # Verified by its size only: the public records give 824,887,076 bytes. Its sha256 is not
        # pinned because Microsoft publishes none and no second public record of one could be
        # checked here; a zip of the right size that does not open is removed from the cache when used.
        (Artifact("kagglecatsanddogs_5340.zip", (), 824887076,
                  ("https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
                   "kagglecatsanddogs_5340.zip",)),),
        "Microsoft Research licence terms (download id 54765); no open licence",
        "J. Elson, J. R. Douceur, J. Howell, J. Saul, Asirra, ACM CCS 2007.",
        "https://www.microsoft.com/en-us/download/details.aspx?id=54765",
        note="Microsoft publishes no checksum for this zip: its size is checked, then it is checked by opening it.",
    ),
    Dataset(
        "cats_vs_dogs_small", "Chollet's small cats-vs-dogs subset (course mirror: 1000/500/500 per class)",
        (Artifact("cats_vs_dogs_small.zip", ("sha256:d908c461ca27f1a25d932a392f1b28bade0a124290eddf318a28a6e14091fb33",),
                  91534091),),
        "no open licence (Kaggle/Microsoft terms); do not redistribute",
        "J. Elson et al., Asirra, ACM CCS 2007; split of F. Chollet, Deep Learning with Python.",
        note="Only the course mirror serves this zip; without it cats_vs_dogs() builds a subset of the "
             "same size from Microsoft's official zip.",
        fallback="cats_vs_dogs",
    ),
    Dataset(
        "oxford_pets", "Oxford-IIIT Pet (7,390 images, 37 breeds, trimaps and head boxes)",
        (Artifact("images.tar.gz", ("sha256:67195c5e1c01f1ab5f9b6a5d22b8c27a580d896ece458917e61d459337fa318d",), 791918971,
                  tuple(base + "images.tar.gz" for base in _PETS)),
         Artifact("annotations.tar.gz", ("sha256:52425fb6de5c424942b7626b428656fcbd798db970a937df61750c0f1d358e91",), 19173078,
                  tuple(base + "annotations.tar.gz" for base in _PETS))),
        "CC BY-SA 4.0; image copyright stays with the owners",
        "O. M. Parkhi, A. Vedaldi, A. Zisserman, C. V. Jawahar, Cats and Dogs, CVPR 2012.",
        "https://www.robots.ox.ac.uk/~vgg/data/pets/",
    ),
    Dataset(
        "oxford_pets_subset", "Oxford-IIIT Pet subset (course mirror: 393 images, trimaps, 296 head boxes)",
        (Artifact("oxford_pets_subset.zip", ("sha256:24dac6f7e0cd4dd62646ad48bbfbc8d3552f5ebb1996b26679b9c2385d4ef984",),
                  37343221),),
        "CC BY-SA 4.0; image copyright stays with the owners",
        "O. M. Parkhi et al., Cats and Dogs, CVPR 2012.",
        "https://www.robots.ox.ac.uk/~vgg/data/pets/",
        note="Only the course mirror serves this zip; without it oxford_pets() builds the same 393-image "
             "subset from the official tarballs.",
        fallback="oxford_pets",
    ),
]}

# Pretrained ImageNet weights for keras.applications, by (model, include_top).
WEIGHTS: dict[tuple[str, bool], Artifact] = {
    ("vgg16", False): Artifact("weights/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                               ("md5:6d6bbae143d832006294945121d1f1fc",), None,
                               (_KAPPS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",)),
    ("vgg16", True): Artifact("weights/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                              ("md5:64373286793e3c8b2b4e3219cbf3544b",), None,
                              (_KAPPS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",)),
    ("resnet50", True): Artifact("weights/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
                                 ("md5:2cb95161c43110f7111970584f804107",), None,
                                 (_KAPPS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",)),
    ("resnet50", False): Artifact("weights/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                  ("md5:4d473c1dd8becc155b73f8504c6f6626",), None,
                                  (_KAPPS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",)),
    ("mobilenet_0.25", False): Artifact("weights/mobilenet_2_5_224_tf_no_top.h5",
                                        ("sha256:dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf",), 2108140,
                                        (_KAPPS + "mobilenet/mobilenet_2_5_224_tf_no_top.h5",)),
    ("efficientnetv2b0", False): Artifact("weights/efficientnetv2-b0_notop.h5",
                                          ("md5:893217f2bb855e2983157299931e43ff",), None,  # Keras' own hash
                                          (_KAPPS + "efficientnet_v2/efficientnetv2-b0_notop.h5",)),
}


# ----------------------------------------------------------------------------- locations
def data_dir() -> Path | None:
    """``CVHELPERS_DATA_DIR`` as a Path (read-only pre-fetched files), or None if unset."""
    raw = os.environ.get("CVHELPERS_DATA_DIR", "").strip()
    return Path(raw).expanduser().resolve() if raw else None


def cache_dir() -> Path:
    """Writable cache for downloads and extracted archives (``CVHELPERS_CACHE_DIR`` overrides)."""
    raw = os.environ.get("CVHELPERS_CACHE_DIR", "").strip()
    if raw:
        return Path(raw).expanduser().resolve()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("cvhelpers", appauthor=False))


def mirrors() -> list[str]:
    """The entries of ``CVHELPERS_MIRROR`` (base URLs or folders), tried in order before the official URL.

    Entries are separated by spaces or commas; a value that is as a whole an existing folder is one
    entry, even with spaces in its path (``/media/Course Data``).
    """
    raw = os.environ.get("CVHELPERS_MIRROR", "").strip()
    if raw and Path(raw).expanduser().is_dir():
        return [raw.rstrip("/\\") or raw]
    return [m.rstrip("/") or m for m in raw.replace(",", " ").split() if m.strip()]


def _mirror_source(entry: str, filename: str) -> tuple[str, str | Path]:
    """Where ``filename`` is on mirror ``entry``: ``("url", URL)`` or ``("folder", path)``.

    Raises :class:`DataError` (one line) if the entry is neither an http(s) URL nor an existing folder.
    """
    from urllib.parse import quote, urlsplit
    from urllib.request import url2pathname

    try:
        parts = urlsplit(entry)
    except ValueError:
        parts = None
    scheme = parts.scheme.lower() if parts else ""
    if scheme in ("http", "https") and parts.netloc:
        return "url", f"{entry}/{quote(filename)}"
    if scheme == "file":
        folder = Path(url2pathname(parts.path))
    elif len(scheme) > 1 or "://" in entry:  # (a one-letter "scheme" is a Windows drive, C:\...)
        raise DataError(f"CVHELPERS_MIRROR entry {entry!r} is not an http(s):// or file:// URL or a folder; skipped")
    else:
        folder = Path(entry).expanduser()
    if not folder.is_dir():
        raise DataError(f"CVHELPERS_MIRROR entry {entry!r}: no such folder ({folder}); skipped")
    return "folder", folder / filename


_NOTED: set[str] = set()


def _note_skipped(errors) -> None:
    """Say once per process (stderr) which mirror entries were skipped, when another source worked."""
    for e in errors:
        if str(e).startswith("CVHELPERS_MIRROR entry") and str(e) not in _NOTED:
            _NOTED.add(str(e))
            print(f"note: {e}", file=sys.stderr)


def offline() -> bool:
    """True when ``CVHELPERS_OFFLINE=1``: never touch the network."""
    return _profile.flag("CVHELPERS_OFFLINE")


def _dataset(name: str) -> Dataset:
    try:
        return REGISTRY[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def _local(art: Artifact) -> Path | None:
    """A verified local copy of ``art`` (data dir first, then cache), or None."""
    places = []
    if data_dir() is not None:
        places.append(data_dir() / art.filename)
    places.append(cache_dir() / art.filename)
    for p in places:
        if check_file(p, art.hashes, art.size):
            return p
    return None


def _removable(path) -> bool:
    """True if ``path`` lies in the cache (ours to delete), never when it is in ``CVHELPERS_DATA_DIR``."""
    p = Path(path).resolve()
    for base, ours in ((data_dir(), False), (cache_dir(), True)):
        if base is not None and p.is_relative_to(Path(base).resolve()):
            return ours
    return False


def _fix_hint(art: Artifact, ds: Dataset | None = None) -> str:
    where = data_dir() or cache_dir()
    return (f"put {Path(art.filename).name} in {where / Path(art.filename).parent if Path(art.filename).parent != Path('.') else where}"
            f" (or set CVHELPERS_DATA_DIR / CVHELPERS_MIRROR to a folder or URL that has it)")


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


def _get(art: Artifact, ds: Dataset | None = None, progress: bool = True) -> Path:
    """A verified path to ``art``: local copy, else mirrors, else official URL (into the cache)."""
    found = _local(art)
    if found is not None:
        return found
    hint = _fix_hint(art, ds)
    errors: list[DataError] = []
    sources: list[tuple[str, str | Path]] = []
    for entry in mirrors():
        try:
            sources.append(_mirror_source(entry, art.filename))
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


def _find_form(name: str) -> tuple[tuple, list[Path]] | None:
    """(files, verified local paths) of the first complete form of dataset ``name`` here, or None."""
    ds = _dataset(name)
    for form in (*ds.alternatives, ds.artifacts):
        paths = [_local(a) for a in form]
        if all(paths):
            return form, paths
    return None


def find(name: str) -> list[Path] | None:
    """Verified local paths of dataset ``name`` (any complete form), or None. Never downloads."""
    found = _find_form(name)
    return found[1] if found else None


def fetch(name: str, progress: bool = True) -> list[Path]:
    """Verified paths of dataset ``name``, downloading what is missing (see module docs)."""
    ds = _dataset(name)
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
            return [_get(a, ds, progress) for a in form]
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


# ----------------------------------------------------------------------------- what each profile needs
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
    ds = _dataset(name)
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
            rows.append(PlannedFile(f"weights {need[0]}{' (with top)' if need[1] else ''}", art, _local(art),
                                    art.size, OPTIONAL.get(need, "")))
            continue
        ds = _dataset(need)
        name, found = need, _find_form(need)
        if found is None and ds.fallback and not mirrors():
            name, found = ds.fallback, _find_form(ds.fallback)  # the loader builds the subset from these
        if found is not None:
            rows += [PlannedFile(name, a, p, None, dataset=name) for a, p in zip(*found)]
            continue
        name, form = _form_to_fetch(need)
        rows += [PlannedFile(name, a, _local(a), a.size, dataset=name) for a in form]
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
                ds = _dataset(r.dataset)
                try:
                    paths = fetch(r.dataset, progress=progress)
                except DataError as exc:
                    if not ds.fallback:
                        raise
                    print(f"{r.dataset}: {str(exc).split(';')[0]}; fetching {ds.fallback} instead "
                          "(the loader builds the same subset from it)", file=out)
                    paths = fetch(ds.fallback, progress=progress)
            else:
                paths = [_get(r.art, None, progress)]
        except DataError as exc:
            (optional_failed if r.optional else failed).append(f"{r.need}: {exc}")
            continue
        for p in paths:
            print(f"{r.need}: {p} ({_verified_how(p)})", file=out)
    return failed, optional_failed


def _verified_how(path: Path) -> str:
    """How a file ``fetch`` returned was verified (its artifact matched by name), in words."""
    arts = [a for ds in REGISTRY.values() for form in (ds.artifacts, *ds.alternatives) for a in form]
    art = next((a for a in [*arts, *WEIGHTS.values()] if Path(a.filename).name == Path(path).name), None)
    if art is not None and art.hashes:
        return "checksum verified"
    if art is not None and art.size is not None:
        return "size verified; no published checksum, opened when used"
    return "no published checksum; opened when used"


# ----------------------------------------------------------------------------- loaders
def display_path(path) -> str:
    """``path`` as a notebook may print it, without the folders of the machine that ran it.

    Relative to the course data folder (``CVHELPERS_DATA_DIR``) or the cache when it lies in one of
    them, ``~/...`` when it lies in the home folder, else only its name.

    >>> display_path(cache_dir() / "mnist.npz")
    'cache/mnist.npz'
    """
    p = Path(path)
    for label, base in (("course data folder", data_dir()), ("cache", cache_dir())):
        if base is None:
            continue
        try:
            rel = p.resolve().relative_to(Path(base).resolve()).as_posix()
        except (ValueError, OSError):
            continue
        return label if rel == "." else f"{label}/{rel}"
    try:
        home = Path.home()
        if len(home.parts) > 1:
            return "~/" + p.resolve().relative_to(home.resolve()).as_posix()
    except (RuntimeError, ValueError, OSError):
        pass
    return p.name


def _say(msg: str) -> None:
    print(msg, file=sys.stdout)


def _load_npz(path: Path, keys=("x_train", "y_train", "x_test", "y_test")):
    import numpy as np

    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in keys if k not in f]
        if missing:
            raise DataError(f"{path} lacks arrays {missing}; delete it and fetch it again")
        return [f[k] for k in keys]


def load_mnist(verbose: bool = True):
    """MNIST as NumPy arrays: ``(x_train, y_train), (x_test, y_test)``, uint8, 28×28.

    >>> (x, y), (xt, yt) = load_mnist()     # doctest: +SKIP
    >>> x.shape, xt.shape                    # doctest: +SKIP
    ((60000, 28, 28), (10000, 28, 28))
    """
    (path,) = fetch("mnist")
    xtr, ytr, xte, yte = _load_npz(path)
    if verbose:
        _say(f"MNIST from {display_path(path)}: {len(xtr):,} train / {len(xte):,} test images")
    return (xtr, ytr), (xte, yte)


def _read_idx(path: Path, offset: int):
    import numpy as np

    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_fashion_mnist(verbose: bool = True):
    """Fashion-MNIST as NumPy arrays: ``(x_train, y_train), (x_test, y_test)``; names in ``FASHION_CLASSES``."""
    paths = fetch("fashion_mnist")
    if len(paths) == 1:  # the course bundle
        xtr, ytr, xte, yte = _load_npz(paths[0])
    else:
        by = {p.name: p for p in paths}
        ytr = _read_idx(by["train-labels-idx1-ubyte.gz"], 8)
        xtr = _read_idx(by["train-images-idx3-ubyte.gz"], 16).reshape(len(ytr), 28, 28)
        yte = _read_idx(by["t10k-labels-idx1-ubyte.gz"], 8)
        xte = _read_idx(by["t10k-images-idx3-ubyte.gz"], 16).reshape(len(yte), 28, 28)
    if verbose:
        _say(f"Fashion-MNIST from {display_path(paths[0].parent)}: {len(xtr):,} train / {len(xte):,} test images")
    return (xtr, ytr), (xte, yte)


def hoda_npz(verbose: bool = False) -> Path:
    """An ``.npz`` in the layout of the course's ``hoda.npz`` (see ``load_hoda``), fetching what is missing.

    The course file itself if a data dir, the cache or a mirror has it; otherwise HODA's three
    official ``.cdb`` files, decoded once by :mod:`cvhelpers.hoda` into the same arrays
    (``x_<split>``, ``y_<split>``, ``x_<split>_raw``, ``<split>_shapes`` for train, test and
    remaining), kept in the cache's ``derived/`` folder.
    """
    paths = fetch("hoda")
    if len(paths) == 1:  # the course bundle
        return paths[0]
    import numpy as np

    from . import hoda
    from .download import _lock

    by = {p.name: p for p in paths}
    out = cache_dir() / "derived" / "hoda_from_cdb_v1.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    with _lock(out, 3600):
        if out.is_file():
            return out
        arrays = {}
        for split, fname in (("train", "Train 60000.cdb"), ("test", "Test 20000.cdb"),
                             ("remaining", "RemainingSamples.cdb")):
            cdb = hoda.read_cdb(by[fname])
            arrays.update({f"x_{split}": hoda.to_32x32(cdb.images()), f"y_{split}": cdb.labels,
                           f"x_{split}_raw": cdb.raw, f"{split}_shapes": cdb.shapes})
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.npz")
        try:
            np.savez_compressed(tmp, **arrays)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        if verbose:
            _say(f"HODA: decoded the official .cdb files in {by['Train 60000.cdb'].parent} into {out}")
    return out


def load_hoda(raw: bool = False, verbose: bool = True):
    """HODA Persian digits: ``(x_train, y_train), (x_test, y_test)``.

    By default 32×32 uint8 arrays (ink = 255, digit centred, aspect ratio kept). The test set is
    stored **sorted by class**: shuffle before taking a subset. ``raw=True`` returns the original
    variable-size scans instead, as lists of 2-D arrays. The arrays come from the course's
    ``hoda.npz`` or, without it, from HODA's official ``.cdb`` files (see :func:`hoda_npz`).
    """
    import numpy as np

    path = hoda_npz(verbose=verbose)
    if not raw:
        xtr, ytr, xte, yte = _load_npz(path)
    else:
        flat_tr, shp_tr, ytr, flat_te, shp_te, yte = _load_npz(
            path, ("x_train_raw", "train_shapes", "y_train", "x_test_raw", "test_shapes", "y_test"))

        def split(flat, shapes):
            ends = np.cumsum(shapes.astype(np.int64).prod(1))
            return [a.reshape(s) for a, s in zip(np.split(flat, ends[:-1]), shapes.astype(int))]

        xtr, xte = split(flat_tr, shp_tr), split(flat_te, shp_te)
    if verbose:
        _say(f"HODA from {display_path(path)}: {len(xtr):,} train / {len(xte):,} test images"
             + (" (original sizes)" if raw else " (32×32)"))
    return (xtr, ytr), (xte, yte)


def _is_jfif(path_or_bytes) -> bool:
    head = path_or_bytes[:10] if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()[:10]
    return b"JFIF" in head


def build_cats_vs_dogs_subset(zip_path, out_dir, counts=(1000, 500, 1000)) -> dict:
    """Build Chollet's subset from Microsoft's zip: ``out_dir/{train,validation,test}/{cat,dog}``.

    Files that are not JFIF JPEGs (the zip holds ~1,600 unreadable or non-JPEG files, some empty)
    are dropped, exactly as the Keras example does; the first ``counts`` readable images of each
    class, in numeric order, go to train, validation and test. Writes to a temporary folder that
    is renamed into place. Returns counts of kept and dropped files. A zip that does not open (cut
    short, corrupt, not Microsoft's) is a one-line :class:`DataError`; if it lies in the cache it
    is removed, so that the next run downloads it again.
    """
    import re
    import shutil
    import zipfile

    from .download import DAMAGED_ARCHIVE

    out_dir = Path(out_dir)
    if out_dir.exists():
        return {"dropped": None}
    tmp = out_dir.with_name(f".{out_dir.name}.build-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    pat = re.compile(r"(?:^|/)PetImages/(Cat|Dog)/(\d+)\.jpg$")
    need = sum(counts)
    dropped = 0
    try:
        zf = zipfile.ZipFile(zip_path)
    except DAMAGED_ARCHIVE as exc:
        raise damaged_archive(zip_path, exc, _removable(zip_path)) from None
    with zf:
        members: dict[str, list] = {"cat": [], "dog": []}
        for info in zf.infolist():
            m = pat.search(info.filename)
            if m:
                members[m.group(1).lower()].append((int(m.group(2)), info))
        if not members["cat"] or not members["dog"]:
            zf.close()
            raise damaged_archive(zip_path, "no PetImages/Cat and PetImages/Dog folders: not Microsoft's zip",
                                  _removable(zip_path))
        try:
            for label, items in members.items():
                items.sort(key=lambda t: t[0])
                kept = 0
                for num, info in items:
                    if kept == need:
                        break
                    with zf.open(info) as f:
                        blob = f.read()
                    if info.file_size == 0 or not _is_jfif(blob):
                        dropped += 1
                        continue
                    split = "train" if kept < counts[0] else "validation" if kept < counts[0] + counts[1] else "test"
                    target = tmp / split / label / f"{label}.{num}.jpg"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(blob)
                    kept += 1
                if kept < need:
                    raise DataError(f"{zip_path}: only {kept} readable {label} images, {need} needed")
            os.replace(tmp, out_dir)
        except DAMAGED_ARCHIVE as exc:  # a member that does not decompress (bad CRC, corrupt data)
            zf.close()
            raise damaged_archive(zip_path, exc, _removable(zip_path)) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return {"dropped_before_subset_complete": dropped}


def cats_vs_dogs(source: str | None = None, verbose: bool = True) -> Path:
    """A folder ``train|validation|test/{cat,dog}/*.jpg`` for ``image_dataset_from_directory``.

    ``source="official"`` (the full profile's default): Microsoft's zip, unreadable files dropped,
    Chollet's subset 1000/500/1000 per class. ``source="small"`` (the fast profile's default): the
    course mirror's ``cats_vs_dogs_small.zip``, 1000/500/500 per class. The environment variable
    ``CVHELPERS_CATS_VS_DOGS=small|official`` overrides the profile's default (e.g. to run the full
    profile's recipe on the mirror subset offline). ``describe_cats_vs_dogs(root)`` says which
    data a folder holds.
    """
    if source is None:
        source = os.environ.get("CVHELPERS_CATS_VS_DOGS", "").strip().lower() or _profile.pick(fast="small", full="official")
        if source not in ("small", "official"):
            raise DataError(f"CVHELPERS_CATS_VS_DOGS={source!r}: set it to 'small' or 'official', or unset it")
    if source not in ("small", "official"):
        raise ValueError(f"source must be 'small' or 'official', got {source!r}")
    counts = (1000, 500, 1000)
    if source == "small":
        try:
            (zpath,) = fetch("cats_vs_dogs_small")
        except DataError as exc:
            if find("cats_vs_dogs") is None and (offline() or not REGISTRY["cats_vs_dogs"].artifacts[0].urls):
                raise  # (a zip already here is used, offline too, as the offline message of _get says)
            # No course mirror: make a subset of the same size from the official zip instead.
            _say(f"course subset unavailable ({str(exc).split(';')[0]}); using Microsoft's official zip")
            source, counts = "official", (1000, 500, 500)
        else:
            root = safe_extract(zpath, cache_dir() / "extracted" / "cats_vs_dogs_small",
                                remove_damaged=_removable(zpath)) / "cats_vs_dogs_small"
    if source == "official":
        (zpath,) = fetch("cats_vs_dogs")
        root = cache_dir() / "extracted" / f"cats_vs_dogs_{'-'.join(map(str, counts))}"
        from .download import _lock

        with _lock(root, 3600):
            build_cats_vs_dogs_subset(zpath, root, counts)
    if verbose:
        counts = {s: sum(1 for _ in (root / s).glob("*/*.jpg")) for s in ("train", "validation", "test")}
        _say(f"cats vs dogs ({describe_cats_vs_dogs(root)}) in {display_path(root)}: "
             + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return root


def describe_cats_vs_dogs(root) -> str:
    """Which data a folder made by ``cats_vs_dogs()`` holds, in words (for printouts and records).

    >>> describe_cats_vs_dogs("/cache/extracted/cats_vs_dogs_small/cats_vs_dogs_small")
    'course mirror subset, 1000/500/500 per class'
    >>> describe_cats_vs_dogs("/cache/extracted/cats_vs_dogs_1000-500-1000")
    "Microsoft's official zip, unreadable files dropped, 1000/500/1000 per class"
    """
    name = Path(root).name
    if name == "cats_vs_dogs_small":
        return "course mirror subset, 1000/500/500 per class"
    if name.startswith("cats_vs_dogs_"):
        counts = name[len("cats_vs_dogs_"):].replace("-", "/")
        return f"Microsoft's official zip, unreadable files dropped, {counts} per class"
    return f"cats vs dogs in {name}"


# The course subset of Oxford-IIIT Pet (oxford_pets_subset.zip, see the mirror's MANIFEST), as
# "breed id id-id ...": with head boxes, all trainval images of three breeds that have one in the
# release (except american_bulldog_202, whose xml the source copy lacked); then 97 image + trimap
# pairs of 32 breeds, for segmentation. The train/test split is the dataset's own.
_PETS_SUBSET_WITH_XML = (
    "Abyssinian 1 10-19 100-103 105-146 148-161 164-170 172-185 190-193 195-197; "
    "american_bulldog 10-16 18-19 100-144 146-153 158 161 164 166-169 171-194 196-201; "
    "Bengal 10-18 100-110 112-174 176-180 182-191")
_PETS_SUBSET_NO_XML = (
    "Abyssinian 217; american_bulldog 86 93; american_pit_bull_terrier 66 175 180; beagle 14; Bengal 93; "
    "Birman 2 86 96 102 108 120 128 199; Bombay 76 81 127 191; boxer 26 98; British_Shorthair 178; "
    "chihuahua 47 111; Egyptian_Mau 5 18 47 57; english_cocker_spaniel 2 25; english_setter 55 96 123; "
    "great_pyrenees 108 164 175 187; havanese 26 139; japanese_chin 118 131 149; keeshond 30 71 97 164 173; "
    "leonberger 103 156; Maine_Coon 16 67 132 161 187; newfoundland 9 158 171; Persian 111 137 140 170 258; "
    "pomeranian 125; Ragdoll 99-100 126-127 169; Russian_Blue 110 197; saint_bernard 87 155 170 187; "
    "samoyed 32 147 163; scottish_terrier 76 178; shiba_inu 61 208; Siamese 61 63 91 117 196 257; "
    "Sphynx 15 93 131 160 247; staffordshire_bull_terrier 13 179; wheaten_terrier 1 119")


def _expand_names(spec: str) -> list[str]:
    names = []
    for group in spec.split(";"):
        breed, *ids = group.split()
        for item in ids:
            lo, _, hi = item.partition("-")
            names += [f"{breed}_{i}" for i in range(int(lo), int(hi or lo) + 1)]
    return names


def pets_subset_names() -> dict[str, bool]:
    """The course subset's 393 image names, each with whether its head-box xml is included (296)."""
    return {**{n: True for n in _expand_names(_PETS_SUBSET_WITH_XML)},
            **{n: False for n in _expand_names(_PETS_SUBSET_NO_XML)}}


def build_pets_subset(tarballs, out_dir) -> dict:
    """Build the course's Oxford-IIIT Pet subset from the official ``images.tar.gz`` + ``annotations.tar.gz``.

    The same 393 images as ``oxford_pets_subset.zip`` (:func:`pets_subset_names`), byte for byte,
    in the same layout: ``images/``, ``annotations/trimaps/``, ``annotations/xmls/`` (296), the
    dataset's ``list.txt``, ``trainval.txt`` and ``test.txt`` restricted to these images (header
    and order kept) and its ``README``. The tarballs are streamed once each; every member's name
    is checked as in ``safe_extract``. Everything is written to a staging folder renamed into
    place at the end: a bad archive (a missing file, a link, a path climbing out) leaves nothing.
    Returns counts of what was written.
    """
    import shutil
    import tarfile
    import zlib

    from .download import _check_member_name

    out_dir = Path(out_dir)
    if out_dir.exists():
        return {"built": False}
    names = pets_subset_names()
    want = {f"images/{n}.jpg" for n in names}
    want |= {f"annotations/trimaps/{n}.png" for n in names}
    want |= {f"annotations/xmls/{n}.xml" for n, xml in names.items() if xml}
    lists = {"annotations/list.txt", "annotations/trainval.txt", "annotations/test.txt"}
    want |= lists | {"annotations/README"}
    staging = out_dir.with_name(f".{out_dir.name}.build-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    found: set[str] = set()
    try:
        for tarball in tarballs:
            try:
                with tarfile.open(tarball, "r:*") as tf:
                    for m in tf:  # streamed: the 790 MB images tarball is read once, never unpacked whole
                        rel = str(_check_member_name(m.name, tarball)).removeprefix("./")
                        if rel not in want:
                            continue
                        if not m.isfile():
                            raise DataError(f"{tarball}: refusing link or special file {m.name!r} in the archive; "
                                            "delete the file and fetch it again")
                        target = staging / rel
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with tf.extractfile(m) as src, open(target, "wb") as dst:
                            shutil.copyfileobj(src, dst)
                        found.add(rel)
            except (tarfile.TarError, EOFError, zlib.error) as exc:
                raise damaged_archive(tarball, f"unreadable archive: {exc}", _removable(tarball)) from None
            except OSError as exc:  # gzip's "not a gzipped file" (BadGzipFile), or a disk problem
                if isinstance(exc, gzip.BadGzipFile):
                    raise damaged_archive(tarball, f"unreadable archive: {exc}", _removable(tarball)) from None
                raise DataError(f"{tarball}: reading or unpacking failed ({exc}); check the free disk space "
                                "and run this again") from None
        missing = sorted(want - found)
        if missing:
            raise DataError(f"the Oxford-IIIT Pet tarballs lack {len(missing)} file(s) of the course subset "
                            f"(first: {missing[0]}); delete them and fetch them again")
        for rel in lists:  # the dataset's own lists, restricted to the subset (comments and order kept)
            p = staging / rel
            lines = p.read_text().splitlines()
            p.write_text("".join(ln + "\n" for ln in lines if ln.startswith("#") or (ln.split() or [""])[0] in names))
        os.replace(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"built": True, "images": len(names), "xmls": sum(names.values())}


def oxford_pets(source: str | None = None, verbose: bool = True) -> Path:
    """Oxford-IIIT Pet in its original layout (``images/``, ``annotations/``).

    ``source="official"`` (full profile): the official tarballs, 7,390 images. ``source="subset"``
    (fast profile): the course's 393-image subset, from the mirror's zip or, without it, built
    from the official tarballs (:func:`build_pets_subset`; the same files).
    """
    source = source or _profile.pick(fast="subset", full="official")
    how = source
    if source == "subset":
        try:
            (zpath,) = fetch("oxford_pets_subset")
        except DataError as exc:
            root = cache_dir() / "extracted" / "oxford_pets_subset_from_official"
            if not root.is_dir():
                if offline() and find("oxford_pets") is None:
                    raise
                _say(f"course subset unavailable ({str(exc).split(';')[0]}); building the same 393 images "
                     "from the official Oxford-IIIT Pet tarballs")
                tarballs = fetch("oxford_pets")
                from .download import _lock

                with _lock(root, 3600):
                    build_pets_subset(tarballs, root)
            how = "course subset, built from the official tarballs"
        else:
            root = safe_extract(zpath, cache_dir() / "extracted" / "oxford_pets_subset",
                                remove_damaged=_removable(zpath)) / "oxford_pets_subset"
    elif source == "official":
        root = _extract_pets_tarballs(fetch("oxford_pets"), cache_dir() / "extracted" / "oxford_pets")
    else:
        raise ValueError(f"source must be 'subset' or 'official', got {source!r}")
    if verbose:
        _say(f"Oxford-IIIT Pet ({how}) in {display_path(root)}")
    return root


def _extract_pets_tarballs(paths, root: Path) -> Path:
    """images.tar.gz + annotations.tar.gz -> ``root/images/``, ``root/annotations/`` (as in the subset).

    Each tarball holds one top folder of its own name; both are extracted (checked member by
    member, see ``safe_extract``) into a staging folder that is renamed into place at the end,
    so an interrupted run leaves no half-built ``root``.
    """
    import shutil

    from .download import _extract_to, _lock

    with _lock(root, 3600):
        if (root / "images").is_dir() and (root / "annotations").is_dir():
            return root
        staging = root.with_name(f".{root.name}.build-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            for p in paths:
                top = Path(p).name.split(".")[0]  # "images" or "annotations"
                part = staging / f".part-{top}"
                _extract_to(Path(p), part, _removable(p))
                if not (part / top).is_dir():
                    raise DataError(f"{p}: expected a top folder {top!r} in the archive; delete the file and fetch it again")
                os.replace(part / top, staging / top)
                shutil.rmtree(part)
            if root.exists():  # a partial folder from an older version of this function
                shutil.rmtree(root)
            os.replace(staging, root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return root


# ----------------------------------------------------------------------------- pretrained weights
def weights_path(model: str, include_top: bool = False) -> str:
    """What to pass as ``weights=`` to a ``keras.applications`` constructor.

    A verified local file (data dir, cache, a ``CVHELPERS_MIRROR``) if one can be had; otherwise
    ``"imagenet"`` so that Keras downloads the weights itself. Offline with no local file: a
    :class:`DataError` naming the file and where to put it. Known models: see ``WEIGHTS``.
    """
    key = (model, bool(include_top))
    if key not in WEIGHTS:
        known = ", ".join(sorted({f"{m} (include_top={t})" for m, t in WEIGHTS}))
        raise DataError(f"no ImageNet weights registered for {model} include_top={include_top}; known: {known}")
    art = WEIGHTS[key]
    found = _local(art)
    if found is not None:
        return str(found)
    if offline() or mirrors():
        return str(_get(art))
    return "imagenet"


_BUILDERS = {
    "vgg16": ("VGG16", {}),
    "resnet50": ("ResNet50", {}),
    "mobilenet_0.25": ("MobileNet", {"alpha": 0.25}),
    "efficientnetv2b0": ("EfficientNetV2B0", {}),
}


def pretrained(model: str, include_top: bool = False, **kwargs):
    """Build ``keras.applications`` model ``model`` with real ImageNet weights and say where they came from.

    >>> base = pretrained("mobilenet_0.25", input_shape=(224, 224, 3))   # doctest: +SKIP
    """
    import keras

    if model not in _BUILDERS:
        raise DataError(f"unknown model {model!r}; known: {', '.join(sorted(_BUILDERS))}")
    w = weights_path(model, include_top)
    cls, extra = _BUILDERS[model]
    try:
        net = getattr(keras.applications, cls)(weights=w, include_top=include_top, **extra, **kwargs)
    except Exception as exc:  # Keras' own download failed (it raises a bare Exception)
        if w != "imagenet":
            raise
        art = WEIGHTS[(model, bool(include_top))]
        raise DataError(f"{model}: ImageNet weights could not be downloaded from {art.urls[0]} ({exc}); "
                        f"{_fix_hint(art)}") from None
    _say(f"{model}: ImageNet weights from {'Keras download (cached in ~/.keras/models)' if w == 'imagenet' else w}")
    return net
