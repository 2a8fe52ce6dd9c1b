"""Checksums: ``"sha256:<hex>"``, ``"md5:<hex>"``, ``"sha1:<hex>"`` or ``"gitblob:<hex>"``.

The last is git's blob id, the SHA-1 of ``b"blob <size>\\0"`` followed by the bytes, which
verifies a file exactly even when its size is not recorded anywhere else. A file may also be
checked by its size alone (no checksum given). MD5 and SHA-1 serve as integrity checks only, so
they are asked for with ``usedforsecurity=False`` and work on FIPS-mode systems too.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"; _ = p.write_bytes(b"abc")
>>> file_hash(p)[:12]
'ba7816bf8f01'
>>> file_hash(p, "gitblob")[:12]   # the same as `git hash-object x.txt`
'f2ba8f84ab5c'
>>> parse_hash("MD5:AB12")
('md5', 'ab12')
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["file_hash", "parse_hash", "check_file"]

_CHUNK = 1 << 20


def _new_hash(algorithm: str, size: int):
    # Integrity checks, not security: usedforsecurity=False lets MD5/SHA-1 work on FIPS-mode systems.
    if algorithm == "gitblob":
        h = hashlib.sha1(usedforsecurity=False)
        h.update(b"blob %d\0" % size)
        return h
    return hashlib.new(algorithm, usedforsecurity=False)


def file_hash(path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks (``algorithm``: a hashlib name or ``"gitblob"``)."""
    path = Path(path)
    h = _new_hash(algorithm, path.stat().st_size)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_hash(spec: str) -> tuple[str, str]:
    """``"sha256:ab.."``, ``"md5:ab.."``, ``"sha1:.."``, ``"gitblob:.."`` or a bare hex digest (64 = sha256, 32 = md5)."""
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
        algo, digest = parse_hash(spec)
        by_algo.setdefault(algo, set()).add(digest)
    return any(file_hash(path, algo) in digests for algo, digests in by_algo.items())
