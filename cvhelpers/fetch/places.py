"""Where files are: the read-only data folder, the cache, the mirrors, offline mode, file locks.

1. ``CVHELPERS_DATA_DIR`` if set: a read-only folder of pre-fetched files (a classroom share,
   the course's offline mirror). Nothing is ever written there.
2. The cache, ``CVHELPERS_CACHE_DIR`` or the user cache folder (``~/.cache/cvhelpers`` on Linux).
   Downloads, extracted archives and lock files go here.
3. The mirrors, ``CVHELPERS_MIRROR``: base URLs or folders, tried before the official URL.

``CVHELPERS_OFFLINE=1`` never touches the network (folder mirrors are still used).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ..profile import flag
from .errors import DataError

__all__ = ["data_dir", "cache_dir", "mirrors", "mirror_source", "offline", "removable", "fix_hint",
           "display_path", "file_lock"]


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


def mirror_source(entry: str, filename: str) -> tuple[str, str | Path]:
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


def offline() -> bool:
    """True when ``CVHELPERS_OFFLINE=1``: never touch the network."""
    return flag("CVHELPERS_OFFLINE")


def removable(path) -> bool:
    """True if ``path`` lies in the cache (ours to delete), never when it is in ``CVHELPERS_DATA_DIR``."""
    p = Path(path).resolve()
    for base, ours in ((data_dir(), False), (cache_dir(), True)):
        if base is not None and p.is_relative_to(Path(base).resolve()):
            return ours
    return False


def fix_hint(art) -> str:
    """What to do when registered file ``art`` (an :class:`~cvhelpers.fetch.registry.Artifact`) cannot be had."""
    where = data_dir() or cache_dir()
    folder = Path(art.filename).parent
    return (f"put {Path(art.filename).name} in {where / folder if folder != Path('.') else where}"
            " (or set CVHELPERS_DATA_DIR / CVHELPERS_MIRROR to a folder or URL that has it)")


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


def file_lock(path, timeout: float):
    """A lock file ``<path>.lock``: two kernels fetching or building the same thing wait for each other.

    Where the cache is read-only (a classroom's shared copy, the grading sandbox) the lock is
    skipped: nothing can be written there, so there is nothing to serialise, and a write that is
    still needed fails with its own error.
    """
    from filelock import FileLock

    return ReadOnlyTolerantLock(FileLock(str(path) + ".lock", timeout=timeout))


class ReadOnlyTolerantLock:
    """A context manager around a ``FileLock`` that gives way on a read-only file system."""

    def __init__(self, lock):
        self.lock, self.held = lock, False

    def __enter__(self):
        try:
            self.lock.acquire()
            self.held = True
        except OSError as exc:
            if getattr(exc, "errno", None) not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
        return self

    def __exit__(self, *exc):
        if self.held:
            self.lock.release()
            self.held = False
