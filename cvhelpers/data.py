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

from .download import DataError, ChecksumError, check_file, copy_verified, download, safe_extract
from . import profile as _profile

__all__ = [
    "Artifact", "Dataset", "REGISTRY", "WEIGHTS", "DataError",
    "data_dir", "cache_dir", "mirrors", "offline", "find", "fetch", "verify", "status",
    "load_mnist", "load_fashion_mnist", "load_hoda", "cats_vs_dogs", "oxford_pets",
    "weights_path", "pretrained",
]


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Artifact:
    """One file: its name on disk and on mirrors, accepted checksums, size, official URL(s)."""

    filename: str  # relative path, e.g. "mnist.npz" or "weights/x.h5"
    hashes: tuple = ()  # accepted digests: "sha256:..." or "md5:..."
    size: int | None = None
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


_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_ZALANDO = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_KAPPS = "https://storage.googleapis.com/tensorflow/keras-applications/"

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
        (Artifact("hoda.npz", ("sha256:99095458a63055d221a7f3f5a7a24ddabc4bebbf5d3874d2cfb0ca8a9be2c895",), 10104856),),
        "free of charge for research and non-commercial use only (farsiocr.ir)",
        "H. Khosravi, E. Kabir, Introducing a very large dataset of handwritten Farsi digits..., "
        "Pattern Recognition Letters 28 (2007).",
        "http://farsiocr.ir",
        note="Only the course mirror serves hoda.npz (built from the original .cdb files): set "
             "CVHELPERS_MIRROR or CVHELPERS_DATA_DIR to a folder that has it.",
    ),
    Dataset(
        "cats_vs_dogs", "Kaggle Dogs vs. Cats, Microsoft's official zip (25,000 photos, ~1,600 unreadable)",
        (Artifact("kagglecatsanddogs_5340.zip", (), None,
                  ("https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
                   "kagglecatsanddogs_5340.zip",)),),
        "Microsoft Research licence terms (download id 54765); no open licence",
        "J. Elson, J. R. Douceur, J. Howell, J. Saul, Asirra, ACM CCS 2007.",
        "https://www.microsoft.com/en-us/download/details.aspx?id=54765",
        note="Microsoft publishes no checksum for this zip: it is checked by opening it.",
    ),
    Dataset(
        "cats_vs_dogs_small", "Chollet's small cats-vs-dogs subset (course mirror: 1000/500/500 per class)",
        (Artifact("cats_vs_dogs_small.zip", ("sha256:d908c461ca27f1a25d932a392f1b28bade0a124290eddf318a28a6e14091fb33",),
                  91534091),),
        "no open licence (Kaggle/Microsoft terms); do not redistribute",
        "J. Elson et al., Asirra, ACM CCS 2007; split of F. Chollet, Deep Learning with Python.",
        note="Only the course mirror serves this zip; the full profile builds its own subset "
             "from Microsoft's official zip.",
    ),
    Dataset(
        "oxford_pets", "Oxford-IIIT Pet (7,390 images, 37 breeds, trimaps and head boxes)",
        (Artifact("images.tar.gz", ("sha256:67195c5e1c01f1ab5f9b6a5d22b8c27a580d896ece458917e61d459337fa318d",), 791918971,
                  ("https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz",)),
         Artifact("annotations.tar.gz", ("sha256:52425fb6de5c424942b7626b428656fcbd798db970a937df61750c0f1d358e91",), 19173078,
                  ("https://www.robots.ox.ac.uk/~vgg/data/pets/data/annotations.tar.gz",))),
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
        note="Only the course mirror serves this zip; the full profile uses the official dataset.",
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
    return _profile._flag("CVHELPERS_OFFLINE")


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


def _fix_hint(art: Artifact, ds: Dataset | None = None) -> str:
    where = data_dir() or cache_dir()
    return (f"put {Path(art.filename).name} in {where / Path(art.filename).parent if Path(art.filename).parent != Path('.') else where}"
            f" (or set CVHELPERS_DATA_DIR / CVHELPERS_MIRROR to a folder or URL that has it)")


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
            raise DataError(f"{art.filename} is not available offline (CVHELPERS_OFFLINE=1; official URL: "
                            f"{art.urls[0] if art.urls else 'none, course mirror only'}); {hint}")
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
    elif not art.urls:
        reasons += "; no official download URL" + (f" ({ds.note})" if ds is not None and ds.note else "")
    raise DataError(f"{art.filename}: every source failed ({reasons}); {hint}")


def find(name: str) -> list[Path] | None:
    """Verified local paths of dataset ``name`` (any complete form), or None. Never downloads."""
    ds = _dataset(name)
    for form in (*ds.alternatives, ds.artifacts):
        paths = [_local(a) for a in form]
        if all(paths):
            return paths
    return None


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


# ----------------------------------------------------------------------------- loaders
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
        _say(f"MNIST from {path}: {len(xtr):,} train / {len(xte):,} test images")
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
        _say(f"Fashion-MNIST from {paths[0].parent}: {len(xtr):,} train / {len(xte):,} test images")
    return (xtr, ytr), (xte, yte)


def load_hoda(raw: bool = False, verbose: bool = True):
    """HODA Persian digits: ``(x_train, y_train), (x_test, y_test)``.

    By default 32×32 uint8 arrays (ink = 255, digit centred, aspect ratio kept). The test set is
    stored **sorted by class**: shuffle before taking a subset. ``raw=True`` returns the original
    variable-size scans instead, as lists of 2-D arrays.
    """
    import numpy as np

    (path,) = fetch("hoda")
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
        _say(f"HODA from {path}: {len(xtr):,} train / {len(xte):,} test images"
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
    is renamed into place. Returns counts of kept and dropped files.
    """
    import re
    import shutil
    import zipfile

    out_dir = Path(out_dir)
    if out_dir.exists():
        return {"dropped": None}
    tmp = out_dir.with_name(f".{out_dir.name}.build-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    pat = re.compile(r"(?:^|/)PetImages/(Cat|Dog)/(\d+)\.jpg$")
    need = sum(counts)
    dropped = 0
    with zipfile.ZipFile(zip_path) as zf:
        members: dict[str, list] = {"cat": [], "dog": []}
        for info in zf.infolist():
            m = pat.search(info.filename)
            if m:
                members[m.group(1).lower()].append((int(m.group(2)), info))
        if not members["cat"] or not members["dog"]:
            raise DataError(f"{zip_path} has no PetImages/Cat and PetImages/Dog folders; delete it and fetch it again")
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
            if offline() or find("cats_vs_dogs") is None and not REGISTRY["cats_vs_dogs"].artifacts[0].urls:
                raise
            # No course mirror: make a subset of the same size from the official zip instead.
            _say(f"course subset unavailable ({str(exc).split(';')[0]}); using Microsoft's official zip")
            source, counts = "official", (1000, 500, 500)
        else:
            root = safe_extract(zpath, cache_dir() / "extracted" / "cats_vs_dogs_small") / "cats_vs_dogs_small"
    if source == "official":
        (zpath,) = fetch("cats_vs_dogs")
        root = cache_dir() / "extracted" / f"cats_vs_dogs_{'-'.join(map(str, counts))}"
        from .download import _lock

        with _lock(root, 3600):
            build_cats_vs_dogs_subset(zpath, root, counts)
    if verbose:
        counts = {s: sum(1 for _ in (root / s).glob("*/*.jpg")) for s in ("train", "validation", "test")}
        _say(f"cats vs dogs ({describe_cats_vs_dogs(root)}) in {root}: "
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


def oxford_pets(source: str | None = None, verbose: bool = True) -> Path:
    """Oxford-IIIT Pet in its original layout (``images/``, ``annotations/``).

    ``source="official"`` (full profile): the official tarballs. ``source="subset"`` (fast
    profile): the course mirror's 393-image subset.
    """
    source = source or _profile.pick(fast="subset", full="official")
    if source == "subset":
        (zpath,) = fetch("oxford_pets_subset")
        root = safe_extract(zpath, cache_dir() / "extracted" / "oxford_pets_subset") / "oxford_pets_subset"
    elif source == "official":
        root = _extract_pets_tarballs(fetch("oxford_pets"), cache_dir() / "extracted" / "oxford_pets")
    else:
        raise ValueError(f"source must be 'subset' or 'official', got {source!r}")
    if verbose:
        _say(f"Oxford-IIIT Pet ({source}) in {root}")
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
                _extract_to(Path(p), part)
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
