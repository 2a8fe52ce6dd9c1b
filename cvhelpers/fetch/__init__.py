"""The fetch engine: the course's files, verified, from a local folder, a mirror or the official URL.

Nothing here knows what a dataset *is* (that is :mod:`cvhelpers.datasets`); it knows which files
make it, where they may be found, and how to get them safely.

==================  ==========================================================================
module              subject
==================  ==========================================================================
``registry``        every dataset and weights file as plain data (names, digests, sizes, URLs)
``places``          the data folder, the cache, the mirrors, offline mode, file locks
``sources``         a verified copy of a registered file: local, mirror, official URL
``plan``            what each profile (fast, full) needs; ``cvhelpers data fetch --profile``
``downloader``      resumable, verified, time-limited downloads and verified copies
``checksums``       sha256 / md5 / sha1 / git-blob digests of files
``extract``         safe extraction of zip and tar archives, damaged-archive errors
``errors``          :class:`DataError`, the one-line error every failure raises
==================  ==========================================================================

>>> from cvhelpers import fetch
>>> fetch.dataset("mnist").title.split(" (")[0]
'MNIST handwritten digits'
"""

from .checksums import check_file, file_hash, parse_hash
from .downloader import copy_verified, download
from .errors import ChecksumError, DataError
from .extract import DAMAGED_ARCHIVE, check_member_name, damaged_archive, extract_to, safe_extract
from .places import (cache_dir, data_dir, display_path, file_lock, fix_hint, mirror_source, mirrors, offline,
                     removable)
from .plan import OPTIONAL, PROFILE_DATA, PlannedFile, fetch_profile, profile_plan, verified_how
from .registry import REGISTRY, WEIGHTS, Artifact, Dataset, all_artifacts, dataset
from .sources import fetch, find, find_form, get, local_copy, status, verify

__all__ = [
    "check_file", "file_hash", "parse_hash", "copy_verified", "download", "ChecksumError", "DataError",
    "DAMAGED_ARCHIVE", "check_member_name", "damaged_archive", "extract_to", "safe_extract",
    "cache_dir", "data_dir", "display_path", "file_lock", "fix_hint", "mirror_source", "mirrors", "offline", "removable",
    "OPTIONAL", "PROFILE_DATA", "PlannedFile", "fetch_profile", "profile_plan", "verified_how",
    "REGISTRY", "WEIGHTS", "Artifact", "Dataset", "all_artifacts", "dataset",
    "fetch", "find", "find_form", "get", "local_copy", "status", "verify",
]
