"""Safe extraction of zip and tar archives, and the one-line error for a damaged archive.

:func:`safe_extract` unpacks a zip/tar archive and refuses absolute paths, ``..`` and links; an
archive that turns out to be damaged (truncated, not what its name says) is reported in one line
and, when the caller says the file may go (a file in the cache), removed so that the next run
fetches it again.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .errors import DataError
from .places import file_lock

__all__ = ["check_member_name", "DAMAGED_ARCHIVE", "damaged_archive", "safe_extract", "extract_to"]


def check_member_name(name: str, archive) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise DataError(f"{archive}: refusing absolute path {name!r} in the archive; delete the file and fetch it again")
    if ".." in p.parts:
        raise DataError(f"{archive}: refusing path {name!r} that climbs out with '..'; delete the file and fetch it again")
    return p


# What a damaged archive raises while it is read: a truncated or corrupt zip, tar or gzip stream.
DAMAGED_ARCHIVE = (zipfile.BadZipFile, tarfile.ReadError, tarfile.CompressionError, gzip.BadGzipFile,
                   EOFError, zlib.error)


def damaged_archive(archive, why, remove: bool = False) -> DataError:
    """The one-line error for a damaged ``archive``; with ``remove``, the file is deleted first.

    ``why`` is an exception or a short text. Only a file the caller owns (a download in the
    cache) may be removed, so that the next run fetches it again; a file in a read-only share
    is left alone and the message says to replace it.
    """
    archive = Path(archive)
    if isinstance(why, BaseException):
        why = f"{type(why).__name__}: {why}" if str(why) else type(why).__name__
    removed = False
    if remove:
        try:
            archive.unlink(missing_ok=True)
            removed = True
        except OSError:
            pass
    what = f"{archive}: the file is damaged ({why})"
    if removed:
        return DataError(f"{what}; it was removed: run this again to fetch it anew", reason=what)
    return DataError(f"{what}; delete or replace it and fetch it again", reason=what)


def safe_extract(archive, dest, *, remove_damaged: bool = False) -> Path:
    """Extract a zip or tar archive into ``dest`` and return ``dest``.

    Every member is checked *before* anything is written: absolute paths, ``..`` components,
    symbolic/hard links and device files are refused with :class:`DataError`. Extraction goes to
    a temporary folder beside ``dest`` that is renamed into place, so an interrupted extraction
    never leaves a half-filled ``dest``. An archive that is damaged (not a zip or tar at all, cut
    short, a bad CRC) is a :class:`DataError` saying so; with ``remove_damaged`` (a file in the
    cache) the archive is also deleted, so that the next fetch downloads it again.
    """
    archive, dest = Path(archive), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(dest, 3600.0):
        if dest.exists():
            return dest
        extract_to(archive, dest, remove_damaged)
    return dest


def extract_to(archive: Path, dest: Path, remove_damaged: bool = False) -> None:
    tmp = dest.with_name(f".{dest.name}.extract-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        _unpack(archive, tmp, remove_damaged)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _unpack(archive: Path, tmp: Path, remove_damaged: bool) -> None:
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                infos = zf.infolist()
                for info in infos:
                    check_member_name(info.filename, archive)
                    mode = info.external_attr >> 16
                    if stat.S_ISLNK(mode):
                        raise DataError(f"{archive}: refusing link {info.filename!r} in the archive; delete the file and fetch it again")
                zf.extractall(tmp)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = tf.getmembers()
                for m in members:
                    check_member_name(m.name, archive)
                    if not (m.isfile() or m.isdir()):
                        raise DataError(f"{archive}: refusing link or special file {m.name!r} in the archive; delete the file and fetch it again")
                tf.extractall(tmp, members=members, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        else:
            raise damaged_archive(archive, "not a zip or tar archive: cut short, or another kind of file",
                                  remove_damaged)
    except DAMAGED_ARCHIVE as exc:
        raise damaged_archive(archive, exc, remove_damaged) from None
