"""Downloading that never strands a student: verified, atomic, locked, retried, safely extracted.

The pieces are small and independent:

* :func:`download` streams a URL to a temporary file beside the target (with a tqdm progress bar),
  checks the size and checksum, and renames it into place atomically. Resets, truncated bodies
  and 5xx answers are retried with back-off; 404/403 and checksum mismatches are not.
* A file lock (``<file>.lock``) makes two kernels fetching the same file wait for each other.
* :func:`safe_extract` unpacks a zip/tar archive and refuses absolute paths, ``..`` and links.

Every failure is a :class:`DataError` whose message is one line saying what to do.

>>> from cvhelpers.download import file_hash
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"; _ = p.write_bytes(b"abc")
>>> file_hash(p)[:12]
'ba7816bf8f01'
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import stat
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["DataError", "ChecksumError", "file_hash", "check_file", "download", "safe_extract"]

USER_AGENT = "cvhelpers (deep-learning-for-computer-vision course)"
_CHUNK = 1 << 20
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class DataError(RuntimeError):
    """A dataset could not be obtained. The message is one line and says what to do."""


class ChecksumError(DataError):
    """Downloaded bytes do not match the registered checksum."""


def file_hash(path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks.

    ``"gitblob"`` is the SHA-1 git gives the file (``sha1(b"blob <size>\\0" + bytes)``): it checks a
    file pinned by a repository commit whose other checksums were never published.
    """
    if algorithm == "gitblob":
        h = hashlib.sha1(b"blob %d\0" % os.path.getsize(path))
    else:
        h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _parse_hash(spec: str) -> tuple[str, str]:
    """``"sha256:ab.."``, ``"md5:ab.."``, ``"gitblob:ab.."`` or a bare hex digest (64 = sha256, 32 = md5)."""
    if ":" in spec:
        algo, digest = spec.split(":", 1)
    else:
        algo, digest = ("md5" if len(spec) == 32 else "sha256"), spec
    return algo.lower(), digest.lower()


def check_file(path, hashes=(), size: int | None = None) -> bool:
    """True if ``path`` exists and matches ``size`` (if given) and one of ``hashes`` (if any)."""
    path = Path(path)
    if not path.is_file():
        return False
    if size is not None and path.stat().st_size != size:
        return False
    if not hashes:
        return True
    by_algo: dict[str, set[str]] = {}
    for spec in hashes:
        algo, digest = _parse_hash(spec)
        by_algo.setdefault(algo, set()).add(digest)
    return any(file_hash(path, algo) in digests for algo, digests in by_algo.items())


def _lock(path: Path, timeout: float):
    from filelock import FileLock

    return FileLock(str(path) + ".lock", timeout=timeout)


def _progress(total, desc, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False)


def _fetch_once(url: str, tmp: Path, timeout: float, progress: bool, desc: str) -> None:
    """One attempt: stream ``url`` into ``tmp``. Raises on any problem (the caller decides).

    If ``tmp`` already holds the start of the file (an earlier attempt broke off), ask only for
    the rest with an HTTP Range request; a server that ignores Range sends everything again.
    """
    have = tmp.stat().st_size if tmp.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        resumed = have > 0 and resp.status == 206 and \
            resp.headers.get("Content-Range", "").startswith(f"bytes {have}-")
        start = have if resumed else 0
        length = resp.headers.get("Content-Length")
        expected = start + int(length) if length and length.isdigit() else None
        bar = _progress(expected, desc, progress)
        if bar is not None and start:
            bar.update(start)
        got = start
        try:
            with open(tmp, "ab" if resumed else "wb") as out:
                while True:
                    chunk = resp.read1(_CHUNK)  # what has arrived: a reset loses nothing already received
                    if not chunk:
                        break
                    out.write(chunk)
                    got += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                out.flush()
                os.fsync(out.fileno())
        finally:
            if bar is not None:
                bar.close()
        if expected is not None and got != expected:
            raise http.client.IncompleteRead(b"", expected - got)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in _RETRY_STATUS
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, socket.gaierror):  # name lookup failed: no network, retrying won't help
            return False
        return isinstance(reason, (ConnectionError, TimeoutError, socket.timeout, OSError))
    return isinstance(exc, (http.client.IncompleteRead, http.client.HTTPException, ConnectionError,
                            TimeoutError, socket.timeout))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"network error ({exc.reason})"
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed before the whole file arrived"
    return f"{type(exc).__name__}: {exc}"


def download(url: str, dest, *, hashes=(), size: int | None = None, retries: int = 4,
             backoff: float = 0.5, timeout: float = 30.0, progress: bool = True,
             lock_timeout: float = 3600.0, manual_hint: str | None = None) -> Path:
    """Download ``url`` to ``dest`` (a file path), verified and atomic; return ``dest``.

    ``hashes`` lists accepted digests (``"sha256:..."``/``"md5:..."``); ``size`` the byte count if
    known. If ``dest`` already exists and verifies, nothing is downloaded. While one process
    downloads, another asking for the same ``dest`` waits on the lock and then finds the file.

    Raises :class:`DataError` (one line naming the URL and where to put the file by hand).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    hint = manual_hint or f"download it by hand and save it as {dest}"
    with _lock(dest, lock_timeout):
        if dest.exists():
            if check_file(dest, hashes, size):
                return dest
            dest.unlink()  # a stale or foreign file under our name: replace it
        # One partial file per target, guarded by the lock: if a kernel was killed mid-download,
        # the next attempt resumes from where it stopped instead of starting again.
        tmp = dest.with_name(f".{dest.name}.part")
        keep_partial = False
        last: BaseException | None = None
        try:
            for attempt in range(retries + 1):
                try:
                    _fetch_once(url, tmp, timeout, progress, dest.name)
                    last = None
                    break
                except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                    last = exc
                    if isinstance(exc, urllib.error.HTTPError) and exc.code in (401, 403, 404, 410):
                        raise DataError(f"{url}: {_describe(exc)}; {hint}") from None
                    if not _is_transient(exc) or attempt == retries:
                        break
                    time.sleep(backoff * (2 ** attempt))
            if last is not None:
                keep_partial = _is_transient(last)
                raise DataError(f"{url}: {_describe(last)}"
                                f"{' (the part received is kept: the next try resumes)' if keep_partial and tmp.exists() else ''}"
                                f"; {hint}") from None
            if size is not None and tmp.stat().st_size != size:
                raise ChecksumError(f"{url}: got {tmp.stat().st_size:,} bytes, expected {size:,}; {hint}")
            if hashes and not check_file(tmp, hashes):
                raise ChecksumError(f"{url}: checksum mismatch (sha256 {file_hash(tmp)[:16]}…, expected "
                                    f"{_parse_hash(hashes[0])[1][:16]}…); {hint}")
            os.replace(tmp, dest)
        finally:
            if tmp.exists() and not keep_partial:
                tmp.unlink()
    return dest


# ----------------------------------------------------------------------------- safe extraction
def _check_member_name(name: str, archive) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise DataError(f"{archive}: refusing absolute path {name!r} in the archive; delete the file and fetch it again")
    if ".." in p.parts:
        raise DataError(f"{archive}: refusing path {name!r} that climbs out with '..'; delete the file and fetch it again")
    return p


def safe_extract(archive, dest) -> Path:
    """Extract a zip or tar archive into ``dest`` and return ``dest``.

    Every member is checked *before* anything is written: absolute paths, ``..`` components,
    symbolic/hard links and device files are refused with :class:`DataError`. Extraction goes to
    a temporary folder beside ``dest`` that is renamed into place, so an interrupted extraction
    never leaves a half-filled ``dest``.
    """
    archive, dest = Path(archive), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _lock(dest, 3600.0):
        if dest.exists():
            return dest
        _extract_to(archive, dest)
    return dest


def _extract_to(archive: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.extract-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                infos = zf.infolist()
                for info in infos:
                    _check_member_name(info.filename, archive)
                    mode = info.external_attr >> 16
                    if stat.S_ISLNK(mode):
                        raise DataError(f"{archive}: refusing link {info.filename!r} in the archive; delete the file and fetch it again")
                zf.extractall(tmp)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                members = tf.getmembers()
                for m in members:
                    _check_member_name(m.name, archive)
                    if not (m.isfile() or m.isdir()):
                        raise DataError(f"{archive}: refusing link or special file {m.name!r} in the archive; delete the file and fetch it again")
                tf.extractall(tmp, members=members, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        else:
            raise DataError(f"{archive}: not a zip or tar archive; delete it and fetch it again")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
