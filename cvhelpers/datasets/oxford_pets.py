"""Oxford-IIIT Pet (notebooks 10 and 11): the official set or the course's 393-image subset, and its trimaps.

:func:`oxford_pets` gives a folder in the dataset's own layout (``images/``, ``annotations/``);
:func:`pet_split` and :func:`load_pets` read the train/test lists and the images with their
trimaps as class masks (:data:`PET_CLASSES`).

>>> len(pets_subset_names()), sum(pets_subset_names().values())
(393, 296)
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from ..fetch import (DataError, cache_dir, check_member_name, damaged_archive, display_path, extract_to, fetch,
                     file_lock, find, offline, removable, safe_extract)
from ..profile import pick
from .common import say

__all__ = ["oxford_pets", "pets_subset_names", "build_pets_subset", "PET_CLASSES", "pet_split", "load_pets"]

PET_CLASSES = ("pet", "background", "border")


def pet_split(root, split: str) -> list[str]:
    """Image names (no extension) of ``split`` = ``"trainval"`` or ``"test"``, as the dataset lists them.

    ``root`` is a folder from :func:`oxford_pets` (the subset or the official set).
    Names without both an image and a trimap are left out (the official lists name a few).
    """
    if split not in ("trainval", "test"):
        raise ValueError(f"split must be 'trainval' or 'test', got {split!r}")
    root = Path(root)
    listing = root / "annotations" / f"{split}.txt"
    if not listing.is_file():
        raise FileNotFoundError(f"{listing} is missing: is {root} an Oxford-IIIT Pet folder from oxford_pets()?")
    names = [ln.split()[0] for ln in listing.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return [n for n in names if (root / "images" / f"{n}.jpg").is_file()
            and (root / "annotations" / "trimaps" / f"{n}.png").is_file()]


def load_pets(root, names, image_size: int):
    """Images and masks of ``names``, resized to ``image_size`` × ``image_size`` (stretched).

    Returns ``(images, masks)``: uint8 arrays of shapes (N, S, S, 3) (bilinear resize, RGB) and
    (N, S, S) holding class indices 0 = pet, 1 = background, 2 = border (nearest-neighbour
    resize, so no new labels appear between classes).
    """
    import numpy as np
    from PIL import Image

    if not isinstance(image_size, int) or image_size < 8:
        raise ValueError(f"image_size must be an int >= 8, got {image_size!r}")
    root = Path(root)
    images = np.empty((len(names), image_size, image_size, 3), np.uint8)
    masks = np.empty((len(names), image_size, image_size), np.uint8)
    for i, name in enumerate(names):
        with Image.open(root / "images" / f"{name}.jpg") as im:
            images[i] = np.asarray(im.convert("RGB").resize((image_size, image_size), Image.BILINEAR))
        with Image.open(root / "annotations" / "trimaps" / f"{name}.png") as tm:
            trimap = np.asarray(tm.resize((image_size, image_size), Image.NEAREST))
        if trimap.ndim != 2 or not set(np.unique(trimap)) <= {1, 2, 3}:
            raise ValueError(f"{name}.png is not a trimap with values 1, 2, 3")
        masks[i] = trimap - 1
    return images, masks


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
    import tarfile
    import zlib

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
                        rel = str(check_member_name(m.name, tarball)).removeprefix("./")
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
                raise damaged_archive(tarball, f"unreadable archive: {exc}", removable(tarball)) from None
            except OSError as exc:  # gzip's "not a gzipped file" (BadGzipFile), or a disk problem
                if isinstance(exc, gzip.BadGzipFile):
                    raise damaged_archive(tarball, f"unreadable archive: {exc}", removable(tarball)) from None
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
    source = source or pick(fast="subset", full="official")
    how = source
    if source == "subset":
        try:
            (zpath,) = fetch("oxford_pets_subset")
        except DataError as exc:
            root = cache_dir() / "extracted" / "oxford_pets_subset_from_official"
            if not root.is_dir():
                if offline() and find("oxford_pets") is None:
                    raise
                say(f"course subset unavailable ({str(exc).split(';')[0]}); building the same 393 images "
                     "from the official Oxford-IIIT Pet tarballs")
                tarballs = fetch("oxford_pets")
                with file_lock(root, 3600):
                    build_pets_subset(tarballs, root)
            how = "course subset, built from the official tarballs"
        else:
            root = safe_extract(zpath, cache_dir() / "extracted" / "oxford_pets_subset",
                                remove_damaged=removable(zpath)) / "oxford_pets_subset"
    elif source == "official":
        root = _extract_pets_tarballs(fetch("oxford_pets"), cache_dir() / "extracted" / "oxford_pets")
    else:
        raise ValueError(f"source must be 'subset' or 'official', got {source!r}")
    if verbose:
        say(f"Oxford-IIIT Pet ({how}) in {display_path(root)}")
    return root


def _extract_pets_tarballs(paths, root: Path) -> Path:
    """images.tar.gz + annotations.tar.gz -> ``root/images/``, ``root/annotations/`` (as in the subset).

    Each tarball holds one top folder of its own name; both are extracted (checked member by
    member, see ``safe_extract``) into a staging folder that is renamed into place at the end,
    so an interrupted run leaves no half-built ``root``.
    """
    with file_lock(root, 3600):
        if (root / "images").is_dir() and (root / "annotations").is_dir():
            return root
        staging = root.with_name(f".{root.name}.build-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            for p in paths:
                top = Path(p).name.split(".")[0]  # "images" or "annotations"
                part = staging / f".part-{top}"
                extract_to(Path(p), part, removable(p))
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
