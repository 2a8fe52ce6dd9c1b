"""HODA Persian handwritten digits: the ``.cdb`` reader, the course's 32×32 arrays, the loaders.

:func:`load_hoda` gives the arrays the notebooks train on (from the course's ``hoda.npz`` or, without
it, decoded once from HODA's official files, :func:`hoda_npz`); :func:`load_hoda_mnist_format` the
original scans brought to MNIST's 28×28 format (:mod:`cvhelpers.digits`).

HODA (Khosravi & Kabir, 2007) ships its Persian digits as three ``.cdb`` files: ``Train 60000.cdb``,
``Test 20000.cdb`` and ``RemainingSamples.cdb``. The format (little-endian):

* a 1,024-byte header: year u16, month u8, day u8, width u8, height u8 (both 0 when the images'
  sizes vary, as in all three files), record count u32, 128 × u32 per-class counts, image type u8
  (0 = binary), 256 bytes of comment, 245 reserved;
* one record per digit: the marker byte 0xFF, label u8, then width u8 and height u8 (only when
  the header's are 0), byte count u16, and that many bytes of run-length code: for each image
  row, alternating background / ink run lengths (u8 each), starting with background, until the
  row's width is covered.

:func:`read_cdb` decodes a whole file at once (the run lengths of all records are expanded in a
few vectorised NumPy calls) into the layout of the course's ``hoda.npz``: one flat uint8 array of
all images, row by row (ink 255, background 0), their (height, width) and their labels.
:func:`to_32x32` makes the fixed-size arrays the notebooks train on.

>>> import numpy as np
>>> rec = bytes([0xFF, 3, 3, 2]) + (4).to_bytes(2, "little") + bytes([1, 2, 0, 3])
>>> hdr = bytearray(1024); hdr[6:10] = (1).to_bytes(4, "little"); hdr[10 + 4 * 3] = 1
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "tiny.cdb"; _ = p.write_bytes(bytes(hdr) + rec)
>>> c = read_cdb(p)
>>> c.labels.tolist(), c.shapes.tolist()
([3], [[2, 3]])
>>> c.images()[0].tolist()     # row 1: 1 background, 2 ink; row 2: 0 background, 3 ink
[[0, 255, 255], [255, 255, 255]]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fetch import DataError, cache_dir, display_path, fetch, file_lock
from .common import load_npz, say

__all__ = ["CdbFormatError", "Cdb", "read_cdb", "to_32x32", "SIZE", "hoda_npz", "load_hoda", "load_hoda_mnist_format"]


SIZE = 32  # side of the course's fixed-size arrays


_HEADER = 1024


_FIX = "the file is damaged or not a HODA .cdb file: delete it and fetch it again"


class CdbFormatError(DataError):
    """A ``.cdb`` file does not follow the format. The message names the file and the fault."""


@dataclass(frozen=True)
class Cdb:
    """A decoded ``.cdb`` file, in ``hoda.npz``'s raw layout."""

    raw: np.ndarray  # flat uint8: every image's pixels, row by row, one image after the other
    shapes: np.ndarray  # (N, 2) uint16: (height, width) of each image
    labels: np.ndarray  # (N,) uint8: the digit 0-9
    header: dict  # year, month, day, count, class_counts, image_type, comment

    def images(self) -> list[np.ndarray]:
        """The images as a list of 2-D uint8 arrays of their original sizes."""
        ends = np.cumsum(self.shapes.astype(np.int64).prod(1))
        return [a.reshape(s) for a, s in zip(np.split(self.raw, ends[:-1]), self.shapes.astype(int))]


def _fail(path: Path, what: str) -> CdbFormatError:
    return CdbFormatError(f"{path}: {what}; {_FIX}")


def _header(buf: bytes, path: Path) -> dict:
    if len(buf) < _HEADER:
        raise _fail(path, f"truncated header ({len(buf):,} bytes, a .cdb header alone is {_HEADER:,})")
    h = np.frombuffer(buf, np.uint8, _HEADER)
    year = int(h[0]) | int(h[1]) << 8
    count = int(np.frombuffer(buf, "<u4", 1, 6)[0])
    class_counts = np.frombuffer(buf, "<u4", 128, 10)
    comment = bytes(h[523:779]).split(b"\0", 1)[0].decode("latin-1")
    return {"year": year, "month": int(h[2]), "day": int(h[3]), "width": int(h[4]), "height": int(h[5]),
            "count": count, "class_counts": class_counts.copy(), "image_type": int(h[522]), "comment": comment}


def _records(buf: bytes, hdr: dict, path: Path):
    """Walk the record chain: per record its label, width, height, and where its run bytes lie."""
    n, fixed_w, fixed_h = hdr["count"], hdr["width"], hdr["height"]
    head = 4 if fixed_w and fixed_h else 6
    labels = np.empty(n, np.uint8)
    widths = np.empty(n, np.int64)
    heights = np.empty(n, np.int64)
    starts = np.empty(n, np.int64)
    lengths = np.empty(n, np.int64)
    off, size = _HEADER, len(buf)
    for i in range(n):  # each record's place depends on the previous one's length: a plain loop
        if off + head > size:
            raise _fail(path, f"truncated: the header announces {n:,} records; the file ends inside record {i + 1:,}")
        if buf[off] != 0xFF:
            raise _fail(path, f"record {i + 1:,} at byte {off:,} starts with 0x{buf[off]:02X}, not the marker 0xFF")
        labels[i] = buf[off + 1]
        if head == 6:
            widths[i], heights[i] = buf[off + 2], buf[off + 3]
        else:
            widths[i], heights[i] = fixed_w, fixed_h
        lengths[i] = buf[off + head - 2] | buf[off + head - 1] << 8
        starts[i] = off + head
        off += head + int(lengths[i])
        if off > size:
            raise _fail(path, f"truncated: the header announces {n:,} records; record {i + 1:,} needs "
                              f"{lengths[i]:,} bytes of run codes, the file ends {off - size:,} bytes too early")
    if off != size:
        raise _fail(path, f"{size - off:,} unexpected bytes after the {n:,} records the header announces")
    return labels, widths, heights, starts, lengths


def read_cdb(path) -> Cdb:
    """Decode a HODA ``.cdb`` file; raise :class:`CdbFormatError` (one line) if it is malformed.

    Checked: the header is complete and says binary images; every record starts with 0xFF; no
    record runs past the end of the file and nothing follows the last one; labels are 0–9 and
    match the header's per-class counts; every image is at least 1×1; every row's runs add up
    to exactly its width and each record's runs cover exactly its rows.
    """
    path = Path(path)
    buf = path.read_bytes()
    hdr = _header(buf, path)
    if hdr["image_type"] != 0:
        raise _fail(path, f"image type {hdr['image_type']} in the header; only binary images (0) are HODA's")
    labels, w, h, starts, lengths = _records(buf, hdr, path)
    n = len(labels)
    if n and labels.max() > 9:
        i = int(np.argmax(labels > 9))
        raise _fail(path, f"record {i + 1:,} has label {labels[i]}, not a digit 0-9")
    found = np.bincount(labels, minlength=128)[:128]
    if not np.array_equal(found, hdr["class_counts"]):
        d = int(np.argmax(found != hdr["class_counts"]))
        raise _fail(path, f"{found[d]:,} records of class {d}, the header says {hdr['class_counts'][d]:,}")
    if n and (w.min() == 0 or h.min() == 0):
        i = int(np.argmax((w == 0) | (h == 0)))
        raise _fail(path, f"record {i + 1:,} has an empty image ({w[i]}×{h[i]})")

    # All records' run bytes, one after the other, and which record each run belongs to.
    data = np.frombuffer(buf, np.uint8)
    run_rec = np.repeat(np.arange(n), lengths)
    run_first = np.cumsum(lengths) - lengths  # index of each record's first run
    idx = np.arange(len(run_rec)) - run_first[run_rec] + starts[run_rec]
    runs = data[idx]
    del run_rec, idx  # the train file has millions of runs: keep the peak memory low
    # Pixels covered so far, counted from the record's own start.
    pix = np.cumsum(runs, dtype=np.int64)
    pixels = w * h
    rec_base = np.cumsum(pixels) - pixels
    # Where each row must end: pixel rec_base + k*w for k = 1..h. The first run reaching it ends the row.
    rows = np.repeat(np.arange(n), h)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(h) - h, h) + 1
    targets = rec_base[rows] + k * w[rows]
    end = np.searchsorted(pix, targets, side="left")  # first run whose running total reaches the row's end
    rec_end = run_first[rows] + lengths[rows]  # one past the record's last run
    bad = (end >= rec_end) if len(pix) == 0 else (end >= rec_end) | (pix[np.minimum(end, len(pix) - 1)] != targets)
    last = np.cumsum(h) - 1  # each record's last row
    extra = rec_end[last] - 1 - end[last]  # run bytes left after it (meaningful where its rows are whole)
    first_bad_row = int(np.argmax(bad)) if bad.any() else None
    first_extra = int(np.argmax(extra != 0)) if (extra != 0).any() else None
    rec_off = starts - (4 if hdr["width"] and hdr["height"] else 6)
    if first_bad_row is not None and (first_extra is None or rows[first_bad_row] <= first_extra):
        r = first_bad_row
        i, row = int(rows[r]), int(k[r])
        where = (f"its runs stop before row {row} of {h[i]} is complete" if end[r] >= rec_end[r]
                 else f"a run overflows row {row} of {h[i]} (width {w[i]})")
        raise _fail(path, f"record {i + 1:,} at byte {rec_off[i]:,}: {where}")
    if first_extra is not None:
        i = first_extra
        raise _fail(path, f"record {i + 1:,} at byte {rec_off[i]:,}: {extra[i]} run byte(s) left after its last row")
    # Colour of each run: background at even positions within its row, ink at odd ones.
    row_start = np.empty(len(rows), np.int64)
    row_start[:] = end + 1
    row_start = np.concatenate([[0], row_start[:-1]])
    first_rows = np.cumsum(h) - h
    row_start[first_rows] = run_first  # a record's first row starts at its first run
    run_row = np.repeat(np.arange(len(rows)), end - row_start + 1)
    ink = ((np.arange(len(runs)) - row_start[run_row]) & 1).astype(bool)
    del run_row, pix
    raw = np.repeat(np.where(ink, np.uint8(255), np.uint8(0)), runs)
    shapes = np.stack([h, w], axis=1).astype(np.uint16)
    return Cdb(raw=raw, shapes=shapes, labels=labels, header=hdr)


def to_32x32(images, size: int = SIZE) -> np.ndarray:
    """The course's fixed-size arrays: ``(N, size, size)`` uint8, ink 255.

    An image with a side over ``size`` is shrunk, keeping its aspect ratio, with Pillow's bicubic
    resampling and a threshold at 128; smaller images are not enlarged. Each image is centred on
    a zero canvas. This is the convention of ``hoda.npz`` (and of the common HodaDatasetReader).
    """
    from PIL import Image

    out = np.zeros((len(images), size, size), np.uint8)
    for i, img in enumerate(images):
        hh, ww = img.shape
        if hh > size or ww > size:
            scale = size / max(hh, ww)
            nh, nw = max(1, round(hh * scale)), max(1, round(ww * scale))
            small = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BICUBIC))
            img = np.where(small >= 128, 255, 0).astype(np.uint8)
            hh, ww = img.shape
        top, left = (size - hh) // 2, (size - ww) // 2
        out[i, top:top + hh, left:left + ww] = img
    return out


# ----------------------------------------------------------------------------- loaders
def hoda_npz(verbose: bool = False) -> Path:
    """An ``.npz`` in the layout of the course's ``hoda.npz`` (see ``load_hoda``), fetching what is missing.

    The course file itself if a data dir, the cache or a mirror has it; otherwise HODA's three
    official ``.cdb`` files, decoded once by :func:`read_cdb` into the same arrays
    (``x_<split>``, ``y_<split>``, ``x_<split>_raw``, ``<split>_shapes`` for train, test and
    remaining), kept in the cache's ``derived/`` folder.
    """
    paths = fetch("hoda")
    if len(paths) == 1:  # the course bundle
        return paths[0]
    by = {p.name: p for p in paths}
    out = cache_dir() / "derived" / "hoda_from_cdb_v1.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(out, 3600):
        if out.is_file():
            return out
        arrays = {}
        for split, fname in (("train", "Train 60000.cdb"), ("test", "Test 20000.cdb"),
                             ("remaining", "RemainingSamples.cdb")):
            cdb = read_cdb(by[fname])
            arrays.update({f"x_{split}": to_32x32(cdb.images()), f"y_{split}": cdb.labels,
                           f"x_{split}_raw": cdb.raw, f"{split}_shapes": cdb.shapes})
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.npz")
        try:
            np.savez_compressed(tmp, **arrays)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        if verbose:
            say(f"HODA: decoded the official .cdb files in {by['Train 60000.cdb'].parent} into {out}")
    return out


def load_hoda(raw: bool = False, verbose: bool = True):
    """HODA Persian digits: ``(x_train, y_train), (x_test, y_test)``.

    By default 32×32 uint8 arrays (ink = 255, digit centred, aspect ratio kept). The test set is
    stored **sorted by class**: shuffle before taking a subset. ``raw=True`` returns the original
    variable-size scans instead, as lists of 2-D arrays. The arrays come from the course's
    ``hoda.npz`` or, without it, from HODA's official ``.cdb`` files (see :func:`hoda_npz`).
    """
    path = hoda_npz(verbose=verbose)
    if not raw:
        xtr, ytr, xte, yte = load_npz(path)
    else:
        flat_tr, shp_tr, ytr, flat_te, shp_te, yte = load_npz(
            path, ("x_train_raw", "train_shapes", "y_train", "x_test_raw", "test_shapes", "y_test"))

        def split(flat, shapes):
            ends = np.cumsum(shapes.astype(np.int64).prod(1))
            return [a.reshape(s) for a, s in zip(np.split(flat, ends[:-1]), shapes.astype(int))]

        xtr, xte = split(flat_tr, shp_tr), split(flat_te, shp_te)
    if verbose:
        say(f"HODA from {display_path(path)}: {len(xtr):,} train / {len(xte):,} test images"
             + (" (original sizes)" if raw else " (32×32)"))
    return (xtr, ytr), (xte, yte)


def load_hoda_mnist_format(box: int = 20, center: str = "mass", upscale: bool = False, verbose: bool = True):
    """HODA's original scans in MNIST's format: ``(x_train, y_train), (x_test, y_test)``, 28×28 uint8.

    Runs :func:`cvhelpers.digits.to_mnist_format` on ``load_hoda(raw=True)`` (about 80,000 images, 10–30 s on a
    small CPU) and keeps the result in the cache folder, so later calls take a fraction of a
    second. The test set stays sorted by class, as in the original file. By default digits
    smaller than the box are not enlarged (``upscale=False``): a Persian zero is a small dot, and
    its size is what tells it from a five.

    >>> (x, y), (xt, yt) = load_hoda_mnist_format()    # doctest: +SKIP
    >>> x.shape, xt.shape                               # doctest: +SKIP
    ((60000, 28, 28), (20000, 28, 28))
    """
    import time

    from ..digits import to_mnist_format

    if center not in ("mass", "box"):
        raise ValueError(f"center must be 'mass' or 'box', got {center!r}")
    path = hoda_npz()  # the course file, or decoded once from the official .cdb files
    import PIL

    # keyed by Pillow's version too: its resize is not bit-stable across versions, and lesson 04 checks the
    # cached arrays against a fresh to_mnist_format call
    stamp = f"{path.stat().st_size}-{int(path.stat().st_mtime)}_pil{PIL.__version__}"
    out = cache_dir() / "derived" / f"hoda_28x28_box{box}_{center}_up{int(upscale)}_{stamp}.npz"
    keys = ("x_train", "y_train", "x_test", "y_test")
    if out.is_file():
        with np.load(out) as f:
            xtr, ytr, xte, yte = (f[k] for k in keys)
        how = f"cached in {display_path(out)}"
    else:
        start = time.perf_counter()
        (rtr, ytr), (rte, yte) = load_hoda(raw=True, verbose=False)
        xtr = to_mnist_format(rtr, box=box, center=center, upscale=upscale)
        xte = to_mnist_format(rte, box=box, center=center, upscale=upscale)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.npz")
        np.savez(tmp, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
        os.replace(tmp, out)
        how = (f"resized from the original scans in {time.perf_counter() - start:.0f} s, "
               f"saved to {display_path(out)}")
    if verbose:
        print(f"HODA in MNIST format (28×28, {box}×{box} box, {'' if upscale else 'no '}enlarging, centred by {center}): "
              f"{len(xtr):,} train / {len(xte):,} test; {how}")
    return (xtr, ytr), (xte, yte)
