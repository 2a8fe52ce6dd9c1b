"""The one error of the fetch engine: a dataset could not be had, said in one line with what to do."""

from __future__ import annotations

__all__ = ["DataError", "ChecksumError", "one_line"]


def one_line(text) -> str:
    """``text`` squashed to one line (every run of white space becomes one space)."""
    return " ".join(str(text).split())


class DataError(RuntimeError):
    """A dataset could not be obtained. The message is one line and says what to do.

    ``reason`` (if set) is the short "URL: what went wrong" part, without the advice, so that a
    caller trying several sources can list them in one line.
    """

    def __init__(self, message="", *args, reason: str | None = None):
        super().__init__(one_line(message), *args)
        self.reason = one_line(reason) if reason else None


class ChecksumError(DataError):
    """Downloaded bytes do not match the registered checksum."""
