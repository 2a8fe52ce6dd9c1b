"""Downloading that never strands a student: verified, atomic, locked, retried, safely extracted.

The pieces are small and independent:

* :func:`download` streams a URL to a partial file beside the target (with a tqdm progress bar),
  checks the size and checksum, and renames it into place atomically. Resets, truncated bodies,
  stalls and 5xx/429 answers are retried with back-off (a ``Retry-After`` the server sends is
  honoured when it fits the limits below); 404/403, redirect loops, checksum mismatches, a
  connection that is too slow and a certificate that fails verification are not.
* :func:`copy_verified` does the same for a file in a local folder (a classroom share used as a
  mirror): copied to a temporary file, verified, renamed into place.
* A file lock (``<file>.lock``) makes two kernels fetching the same file wait for each other.
* :func:`~cvhelpers.fetch.extract.safe_extract` unpacks a zip/tar archive and refuses absolute paths, ``..`` and links;
  an archive that turns out to be damaged (truncated, not what its name says) is reported in one
  line and, when the caller says the file may go (a file in the cache), removed so that the next
  run fetches it again.

**Partial files and resuming.** Each source has its own partial file,
``.<name>.<key>.part`` (``key``: 10 hex digits of the SHA-1 of the URL), and beside it a small
record, ``.<name>.<key>.part.json``, written before the first byte: the URL and the validators the
server sent (``ETag``, ``Last-Modified``, the full length). A part is resumed only from the URL it
came from, with ``Range`` and ``If-Range`` (so a server whose file changed sends it whole), and
only if the validators of the answer still match the record; a part of unknown origin (no record)
is never resumed. Another source starts its own part from byte 0 and leaves the first one alone,
so a mirror that broke off can still be resumed later even if the official URL failed in between.
A part is deleted only when its bytes are known to be wrong (checksum or size mismatch, a
changed file on the server) or when the file is complete; all parts of a file go once it is in
place. A part whose length is already the full length is verified without asking the server
again, and an HTTP 416 answer to a resume request means "you have it all" (the part is verified)
or, if it is not complete, a restart without ``Range``. A resumed file that fails its checksum is
downloaded once more from byte 0 before the error is reported.

**Limits** (keyword arguments of :func:`download`, or environment variables; ``0`` switches a limit off):

====================  ==========================  =========  ==================================================
argument              variable                    default    meaning
====================  ==========================  =========  ==================================================
``timeout``           ``CVHELPERS_STALL_TIMEOUT``  30 s       no byte (or no answer) for this long: retried
``min_speed``         ``CVHELPERS_MIN_SPEED``      1024 B/s   slower than this on average over ``speed_window``:
                                                              stop (not retried), keep the part
``speed_window``      ``CVHELPERS_SPEED_WINDOW``   60 s       the window over which the speed is measured
``deadline``          ``CVHELPERS_DEADLINE``       off        seconds for the whole download of one file from
                                                              one URL, retries and waits included
====================  ==========================  =========  ==================================================

A slow classroom line (even 10 kB/s, 7 minutes per 4 MB) passes; a server that dribbles a byte every
20 s is given up after about ``speed_window`` + ``timeout`` seconds. A ``Retry-After`` longer than
``max_wait`` (120 s) or than what is left of the deadline is not waited for: the error says so.

Every failure is a :class:`DataError` whose message is one line saying what to do (the message is
squashed to one line whatever text it is given). An answer that is an HTML page where a data
file was expected (a captive portal or login page) is reported as such.

Checksums: see :mod:`cvhelpers.fetch.checksums`; safe extraction: :mod:`cvhelpers.fetch.extract`.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

from .checksums import check_file, file_hash, parse_hash
from .errors import ChecksumError, DataError, one_line
from .places import file_lock

__all__ = ["download", "copy_verified", "USER_AGENT", "HTML_HINT", "CERT_HINT"]


USER_AGENT = "cvhelpers (deep-learning-for-computer-vision course)"


_CHUNK = 1 << 20


_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


_REDIRECT_STATUS = {301, 302, 303, 307, 308}


HTML_HINT = "got an HTML page — are you behind a login portal? (open any web page in a browser, log in, try again)"


def _looks_like_html(head: bytes, content_type: str = "") -> bool:
    """True if the first bytes of a body are an HTML page (what captive portals and login pages send)."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head")) or (
        "html" in content_type.lower() and start.startswith(b"<"))


def _mismatch(path: Path, hashes, size: int | None, what: str) -> tuple[str, type] | None:
    """None if ``path`` verifies; else (one-line reason, exception class)."""
    if not hashes and size is None:
        return None
    if check_file(path, hashes, size):
        return None
    if not what.lower().endswith((".html", ".htm")):
        with open(path, "rb") as f:
            if _looks_like_html(f.read(4096)):
                return HTML_HINT, DataError
    got = path.stat().st_size
    if size is not None and got != size:
        return f"got {got:,} bytes, expected {size:,}", ChecksumError
    algo, digest = parse_hash(hashes[0])
    return f"checksum mismatch ({algo} {file_hash(path, algo)[:16]}…, expected {digest[:16]}…)", ChecksumError


def _progress(total, desc, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False)


def _setting(value, env: str, default: float | None) -> float | None:
    """A limit from its keyword argument, else its environment variable, else the default; 0 = off."""
    if value is None:
        raw = os.environ.get(env, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise DataError(f"{env}={raw!r} is not a number; set it to a number of seconds or bytes/s (0 = no limit)") from None
    return float(value) if value and value > 0 else None


class _Limits:
    def __init__(self, timeout, min_speed, speed_window, deadline, max_wait):
        self.timeout = _setting(timeout, "CVHELPERS_STALL_TIMEOUT", 30.0)
        self.min_speed = _setting(min_speed, "CVHELPERS_MIN_SPEED", 1024.0)
        self.window = _setting(speed_window, "CVHELPERS_SPEED_WINDOW", 60.0) or 60.0
        self.deadline = _setting(deadline, "CVHELPERS_DEADLINE", None)
        self.max_wait = max_wait
        self.start = time.monotonic()

    def left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - (time.monotonic() - self.start)


class _TooSlow(Exception):
    """The transfer is alive but too slow, or past the deadline (not retried)."""


class _Part:
    """The partial download of ``dest`` from one ``url`` and its record (see the module docstring)."""

    def __init__(self, dest: Path, url: str):
        key = hashlib.sha1(url.encode(), usedforsecurity=False).hexdigest()[:10]  # a file name, not security
        self.url = url
        self.path = dest.with_name(f".{dest.name}.{key}.part")
        self.record = dest.with_name(f".{dest.name}.{key}.part.json")

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def meta(self) -> dict | None:
        """The record if it belongs to this URL, else None (then the part is of unknown origin)."""
        try:
            meta = json.loads(self.record.read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) and meta.get("url") == self.url else None

    def start(self, headers, total: int | None) -> None:
        """Begin a fresh part: record where it comes from, then truncate the part file."""
        meta = {"url": self.url, "etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified"),
                "length": total}
        tmp = self.record.with_name(self.record.name + ".tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, self.record)
        self.path.write_bytes(b"")

    def discard(self) -> None:
        for p in (self.path, self.record):
            if p.exists():
                p.unlink()


def _clean_parts(dest: Path) -> None:
    """Remove every partial file of ``dest`` (from any source, old-style too) once it is in place."""
    import glob

    for p in dest.parent.glob(f".{glob.escape(dest.name)}.*part*"):
        if p.name.endswith((".part", ".part.json", ".part.json.tmp")):
            p.unlink(missing_ok=True)


def _content_range(value: str) -> tuple[int | None, int | None]:
    """``"bytes 100-199/1000"`` -> (100, 1000); ``"bytes */1000"`` -> (None, 1000)."""
    try:
        unit, rest = value.strip().split(" ", 1)
        span, total = rest.split("/", 1)
        first = None if span.strip() == "*" else int(span.split("-")[0])
        return first, (int(total) if total.strip().isdigit() else None)
    except ValueError:
        return None, None


def _fetch_once(url: str, part: _Part, lim: _Limits, size: int | None, progress: bool, desc: str) -> bool:
    """One attempt: stream ``url`` into ``part``; return True if an earlier part was continued.

    Raises on any problem (the caller decides about retries). See the module docstring for the
    rules on resuming.
    """
    meta = part.meta() if part.path.exists() else None
    if meta is None:
        part.discard()  # nothing there, or a part of unknown origin: never resumed
    have = part.size()
    total = size or (meta or {}).get("length")
    if have and total and have > total:
        part.discard()
        have, meta = 0, None
    if have and total and have == total:
        return True  # complete already (e.g. a kernel killed before the rename): verified by the caller
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
        etag, modified = meta.get("etag"), meta.get("last_modified")
        if etag and not etag.startswith("W/"):
            headers["If-Range"] = etag
        elif modified:
            headers["If-Range"] = modified
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(req, timeout=lim.timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not have:
            raise
        # "Range not satisfiable": the part already holds everything, or the file is not what we had.
        _, full = _content_range(exc.headers.get("Content-Range", ""))
        if full is not None and have == full:
            return True
        part.discard()
        return _fetch_once(url, part, lim, size, progress, desc)
    with resp:
        status = resp.status or 200  # file:// answers have no status
        first, full = _content_range(resp.headers.get("Content-Range", ""))
        length = resp.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        resumed = bool(have) and status == 206
        if resumed:
            changed = (first != have
                       or (full is not None and meta.get("length") not in (None, full))
                       or (resp.headers.get("ETag") and meta.get("etag")
                           and resp.headers.get("ETag") != meta.get("etag")))
            if changed:  # another range, or another file than the one the part was taken from
                part.discard()
                raise http.client.HTTPException("the server's file changed since the part was received; starting again")
            start = have
            expected = have + length if length is not None else full
        else:
            start = 0
            expected = full if status == 206 and first == 0 else length
        head = resp.read1(_CHUNK)
        if not resumed:
            if head and not desc.lower().endswith((".html", ".htm")) and \
                    _looks_like_html(head, resp.headers.get("Content-Type", "")):
                raise _Html()
            part.start(resp.headers, expected)  # only now is the old part replaced
        bar = _progress(expected, desc, progress)
        if bar is not None and start:
            bar.update(start)
        got = start
        win_t, win_got = time.monotonic(), got
        try:
            with open(part.path, "ab") as out:
                chunk = head
                while chunk:
                    out.write(chunk)
                    got += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                    now = time.monotonic()
                    if lim.deadline is not None and lim.left() <= 0:
                        out.flush()
                        raise _TooSlow(f"not finished within the deadline of {lim.deadline:g} s, "
                                       f"{got - start:,} bytes this try")
                    if lim.min_speed is not None and now - win_t >= lim.window:
                        rate = (got - win_got) / (now - win_t)
                        if rate < lim.min_speed:
                            out.flush()
                            shown = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"
                            raise _TooSlow(f"{shown} bytes/s over the last {now - win_t:.0f} s, "
                                           f"less than the minimum of {lim.min_speed:,.0f} bytes/s")
                        win_t, win_got = now, got
                    chunk = resp.read1(_CHUNK)  # what has arrived: a reset loses nothing already received
                out.flush()
                os.fsync(out.fileno())
        finally:
            if bar is not None:
                bar.close()
        if expected is not None and got != expected:
            raise http.client.IncompleteRead(b"", expected - got)
        return resumed


class _Html(Exception):
    """The answer is an HTML page where a data file was expected."""


def _cert_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error inside ``exc`` (a URLError or the error itself), or None."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return reason if isinstance(reason, ssl.SSLCertVerificationError) else None


CERT_HINT = ("usually a proxy or firewall that inspects HTTPS, a wrong clock or an outdated certificate "
             "store: run `pip install -U certifi` and set SSL_CERT_FILE to the path `python -m certifi` "
             "prints (python.org's macOS Python: run 'Install Certificates.command'), or")


def _is_transient(exc: BaseException) -> bool:
    if _cert_failure(exc) is not None:  # a certificate does not heal by asking again
        return False
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code in _RETRY_STATUS
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, socket.gaierror):  # name lookup failed: no network, retrying won't help
            return False
        if isinstance(reason, (FileNotFoundError, PermissionError, IsADirectoryError)):
            return False
        return isinstance(reason, (ConnectionError, TimeoutError, socket.timeout, OSError))
    return isinstance(exc, (http.client.IncompleteRead, http.client.HTTPException, ConnectionError,
                            TimeoutError, socket.timeout))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code in _REDIRECT_STATUS:
            return f"HTTP {exc.code}: the server redirects in a loop (or too often)"
        return f"HTTP {exc.code} {one_line(exc.reason)}"
    cert = _cert_failure(exc)
    if cert is not None:
        why = cert.verify_message or cert.reason or str(cert)
        return f"SSL certificate verification failed ({one_line(why)})"
    if isinstance(exc, urllib.error.URLError):
        return f"network error ({one_line(exc.reason)})"
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed before the whole file arrived"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "no data for too long (stalled connection)"
    return f"{type(exc).__name__}: {one_line(exc)}"


def _retry_after(exc: BaseException) -> float | None:
    """Seconds a 503/429 answer asks us to wait (``Retry-After``: seconds or an HTTP date), or None."""
    if not isinstance(exc, urllib.error.HTTPError) or exc.headers is None:
        return None
    raw = (exc.headers.get("Retry-After") or "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    import datetime

    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())


def _transfer(url, part: _Part, lim: _Limits, size, retries, backoff, progress, desc, hint) -> bool:
    """Attempts with back-off until ``part`` holds the whole body; True if a part was continued."""
    def fail(why, keep=True):
        kept = part.size() if keep else 0
        if kept:
            why += f" (the {kept:,} bytes received are kept: the next try from this source resumes)"
        return DataError(f"{url}: {why}; {hint}", reason=f"{url}: {why}")

    last: BaseException | None = None
    resumed = False
    for attempt in range(retries + 1):
        try:
            resumed = _fetch_once(url, part, lim, size, progress, desc) or resumed
            return resumed
        except _Html:
            raise DataError(f"{url}: {HTML_HINT}; {hint}", reason=f"{url}: {HTML_HINT}") from None
        except _TooSlow as exc:
            raise fail(f"the connection was too slow: {exc}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            last = exc
            if isinstance(exc, urllib.error.HTTPError) and exc.code in (401, 403, 404, 410):
                raise fail(_describe(exc), keep=False) from None
            if _cert_failure(exc) is not None:  # not retried: say what it is and what to do
                why = _describe(exc)
                raise DataError(f"{url}: {why}, {CERT_HINT} {hint}", reason=f"{url}: {why}") from None
            if not _is_transient(exc) or attempt == retries:
                break
            wait = backoff * (2 ** attempt)
            asked = _retry_after(exc)
            if asked is not None:
                if asked > lim.max_wait or asked > lim.left():
                    raise fail(f"{_describe(exc)}, and the server asks to wait {asked:,.0f} s, longer than "
                               f"this download waits (try again later)") from None
                wait = max(wait, asked)
            if wait > lim.left():
                break
            time.sleep(wait)
    raise fail(_describe(last)) from None


def download(url: str, dest, *, hashes=(), size: int | None = None, retries: int = 4,
             backoff: float = 0.5, timeout: float | None = None, min_speed: float | None = None,
             speed_window: float | None = None, deadline: float | None = None, max_wait: float = 120.0,
             progress: bool = True, lock_timeout: float = 3600.0, manual_hint: str | None = None) -> Path:
    """Download ``url`` to ``dest`` (a file path), verified and atomic; return ``dest``.

    ``hashes`` lists accepted digests (``"sha256:..."``/``"md5:..."``/``"gitblob:..."``); ``size``
    the byte count if known. If ``dest`` already exists and verifies, nothing is downloaded. While
    one process downloads, another asking for the same ``dest`` waits on the lock and then finds
    the file. ``timeout``, ``min_speed``, ``speed_window``, ``deadline`` and ``max_wait`` bound the
    time spent (see the module docstring; None = the environment variable or the default).

    Raises :class:`DataError` (one line naming the URL and where to put the file by hand).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    hint = manual_hint or f"download it by hand and save it as {dest}"
    lim = _Limits(timeout, min_speed, speed_window, deadline, max_wait)
    with file_lock(dest, lock_timeout):
        if dest.exists():
            if check_file(dest, hashes, size):
                _clean_parts(dest)
                return dest
            dest.unlink()  # a stale or foreign file under our name: replace it
        lim.start = time.monotonic()  # waiting for another kernel's download does not count
        part = _Part(dest, url)
        for fresh_try in (False, True):
            resumed = _transfer(url, part, lim, size, retries, backoff, progress, dest.name, hint)
            problem = _mismatch(part.path, hashes, size, dest.name)
            if problem is None:
                break
            part.discard()  # these bytes are wrong: never resume them
            if not resumed or fresh_try:
                why, cls = problem
                raise cls(f"{url}: {why}; {hint}", reason=f"{url}: {why}")
        os.replace(part.path, dest)
        _clean_parts(dest)
    return dest


def copy_verified(src, dest, *, hashes=(), size: int | None = None, progress: bool = True,
                  lock_timeout: float = 3600.0, manual_hint: str | None = None) -> Path:
    """Copy a local file ``src`` (a mirror folder, a share) to ``dest``, verified and atomic; return ``dest``."""
    src, dest = Path(src), Path(dest)
    hint = manual_hint or f"copy it by hand to {dest}"
    if not src.is_file():
        raise DataError(f"{src}: no such file; {hint}", reason=f"{src}: no such file")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(dest, lock_timeout):
        if dest.exists():
            if check_file(dest, hashes, size):
                return dest
            dest.unlink()
        tmp = dest.with_name(f".{dest.name}.copy-{os.getpid()}.part")
        try:
            bar = _progress(src.stat().st_size, dest.name, progress)
            try:
                with open(src, "rb") as fin, open(tmp, "wb") as fout:
                    for chunk in iter(lambda: fin.read(_CHUNK), b""):
                        fout.write(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                    fout.flush()
                    os.fsync(fout.fileno())
            finally:
                if bar is not None:
                    bar.close()
            problem = _mismatch(tmp, hashes, size, dest.name)
            if problem is not None:
                why, cls = problem
                raise cls(f"{src}: {why}; {hint}", reason=f"{src}: {why}")
            os.replace(tmp, dest)
        except OSError as exc:
            raise DataError(f"{src}: could not be copied ({exc}); {hint}", reason=f"{src}: {exc}") from None
        finally:
            if tmp.exists():
                tmp.unlink()
    return dest
