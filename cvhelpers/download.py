"""Downloading and safe extraction under their old import path; the code lives in :mod:`cvhelpers.fetch`.

* :mod:`cvhelpers.fetch.downloader`: :func:`download` (resumable, verified, time-limited) and
  :func:`copy_verified`; the module's docstring gives the rules and the limits;
* :mod:`cvhelpers.fetch.checksums`: :func:`file_hash`, :func:`check_file`;
* :mod:`cvhelpers.fetch.extract`: :func:`safe_extract`, :func:`damaged_archive`;
* :mod:`cvhelpers.fetch.errors`: :class:`DataError`, :class:`ChecksumError`.

>>> from cvhelpers.download import file_hash, safe_extract
"""

from .fetch.checksums import check_file, file_hash
from .fetch.downloader import CERT_HINT, HTML_HINT, USER_AGENT, copy_verified, download
from .fetch.errors import ChecksumError, DataError
from .fetch.extract import DAMAGED_ARCHIVE, damaged_archive, safe_extract

__all__ = ["DataError", "ChecksumError", "file_hash", "check_file", "download", "copy_verified", "safe_extract",
           "damaged_archive", "DAMAGED_ARCHIVE", "USER_AGENT", "HTML_HINT", "CERT_HINT"]
