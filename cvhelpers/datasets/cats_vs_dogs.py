"""Cats vs dogs (notebooks 07-09): Chollet's subset as a folder of JPEGs, and as cached arrays.

:func:`cats_vs_dogs` gives a folder ``train|validation|test/{cat,dog}/*.jpg``: the course mirror's
small zip (fast profile) or a subset built from Microsoft's official zip (full profile, or when
the mirror is missing). :func:`image_arrays` decodes such a folder once into uint8 arrays kept in
the cache.

>>> describe_cats_vs_dogs("/cache/extracted/cats_vs_dogs_small/cats_vs_dogs_small")
'course mirror subset, 1000/500/500 per class'
"""

from __future__ import annotations

import os
from pathlib import Path

from ..fetch import (DAMAGED_ARCHIVE, REGISTRY, DataError, cache_dir, damaged_archive, display_path, fetch, file_lock,
                     find, offline, removable, safe_extract)
from ..profile import pick
from .common import say

__all__ = ["cats_vs_dogs", "describe_cats_vs_dogs", "build_cats_vs_dogs_subset", "image_arrays"]


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
        raise damaged_archive(zip_path, exc, removable(zip_path)) from None
    with zf:
        members: dict[str, list] = {"cat": [], "dog": []}
        for info in zf.infolist():
            m = pat.search(info.filename)
            if m:
                members[m.group(1).lower()].append((int(m.group(2)), info))
        if not members["cat"] or not members["dog"]:
            zf.close()
            raise damaged_archive(zip_path, "no PetImages/Cat and PetImages/Dog folders: not Microsoft's zip",
                                  removable(zip_path))
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
            raise damaged_archive(zip_path, exc, removable(zip_path)) from None
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
        source = os.environ.get("CVHELPERS_CATS_VS_DOGS", "").strip().lower() or pick(fast="small", full="official")
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
            say(f"course subset unavailable ({str(exc).split(';')[0]}); using Microsoft's official zip")
            source, counts = "official", (1000, 500, 500)
        else:
            root = safe_extract(zpath, cache_dir() / "extracted" / "cats_vs_dogs_small",
                                remove_damaged=removable(zpath)) / "cats_vs_dogs_small"
    if source == "official":
        (zpath,) = fetch("cats_vs_dogs")
        root = cache_dir() / "extracted" / f"cats_vs_dogs_{'-'.join(map(str, counts))}"
        with file_lock(root, 3600):
            build_cats_vs_dogs_subset(zpath, root, counts)
    if verbose:
        counts = {s: sum(1 for _ in (root / s).glob("*/*.jpg")) for s in ("train", "validation", "test")}
        say(f"cats vs dogs ({describe_cats_vs_dogs(root)}) in {display_path(root)}: "
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


def image_arrays(root, split: str, image_size: int, verbose: bool = True):
    """The JPEGs of ``root/split/{class}/`` decoded once, resized to ``image_size`` and cached.

    Returns ``(images, labels, class_names)``: ``images`` uint8 of shape ``(n, image_size,
    image_size, 3)`` in the order of the sorted file names (classes in alphabetical order, like
    ``image_dataset_from_directory``: cat = 0, dog = 1), ``labels`` int32. Resizing is bilinear and
    stretches the photo (aspect ratio not kept), as ``image_dataset_from_directory`` does.

    The arrays are saved in ``cache_dir()/arrays/`` (one ``.npz`` per folder, split, size and TensorFlow version), so
    the second call, and every later notebook at the same size, reads them in a fraction of a
    second instead of decoding thousands of JPEGs again: decoding is done once, not once per epoch.

    >>> x, y, names = image_arrays(cats_vs_dogs(), "train", 96)   # doctest: +SKIP
    >>> x.shape, x.dtype, names                                         # doctest: +SKIP
    ((2000, 96, 96, 3), dtype('uint8'), ['cat', 'dog'])
    """
    import numpy as np

    root = Path(root)
    if not isinstance(image_size, int) or isinstance(image_size, bool) or not 8 <= image_size <= 1024:
        raise ValueError(f"image_size must be an int from 8 to 1024 pixels, got {image_size!r}")
    folder = root / split
    class_names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    files = [(str(f), k) for k, c in enumerate(class_names) for f in sorted((folder / c).glob("*.jpg"))]
    if not files:
        raise FileNotFoundError(f"no JPEGs in {folder}/<class>/: is {root} a folder made by data.cats_vs_dogs()?")
    import tensorflow as tf

    # keyed by TensorFlow's version too: another JPEG decoder or resize may give other pixels, and the
    # lessons compare these arrays with keras.utils.image_dataset_from_directory of the running version
    cache = cache_dir() / "arrays" / f"{root.name}_{split}_{image_size}px_tf{tf.__version__}.npz"
    if cache.is_file():
        with np.load(cache) as f:
            if f["images"].shape[0] == len(files) and list(f["class_names"]) == class_names:
                return f["images"], f["labels"], class_names

    def decode(path):
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        image = tf.image.resize(image, (image_size, image_size))  # bilinear, like image_dataset_from_directory
        return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)

    paths = tf.data.Dataset.from_tensor_slices([f for f, _ in files])
    batches = paths.map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(256)
    if verbose:
        from tqdm.auto import tqdm

        batches = tqdm(batches, total=-(-len(files) // 256), desc=f"decoding {split} at {image_size}px")
    images = np.concatenate([b.numpy() for b in batches])
    labels = np.array([k for _, k in files], dtype="int32")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, images=images, labels=labels, class_names=np.array(class_names))
    os.replace(tmp, cache)
    return images, labels, class_names
