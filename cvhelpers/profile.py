"""Course profiles: **full** (real data, real epochs) and **fast** (``CVHELPERS_FAST=1``).

A notebook reads every size, epoch count and assert threshold from one call, so the fast profile
changes *numbers*, never which code runs::

    >>> from cvhelpers.profile import pick
    >>> epochs = pick(fast=1, full=15)          # 1 under CVHELPERS_FAST=1, else 15
    >>> isinstance(epochs, int)
    True
"""

from __future__ import annotations

import os

__all__ = ["flag", "is_fast", "name", "pick", "Profile"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def flag(var: str) -> bool:
    """Read a boolean environment variable (1/0, true/false, yes/no, on/off; unset is off).

    Anything else raises a one-line error that says what to set.
    """
    raw = os.environ.get(var, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{var}={os.environ[var]!r} is not understood: set it to 1 (on) or 0 (off)")


def is_fast() -> bool:
    """True when the fast profile is active (``CVHELPERS_FAST=1``)."""
    return flag("CVHELPERS_FAST")


def name() -> str:
    """``"fast"`` or ``"full"``."""
    return "fast" if is_fast() else "full"


def pick(*, fast, full):
    """Return ``fast`` in the fast profile and ``full`` otherwise.

    >>> pick(fast=0.9, full=0.99) in (0.9, 0.99)
    True
    """
    return fast if is_fast() else full


class Profile(dict):
    """A dict of hyper-parameters chosen for the active profile, with attribute access.

    >>> p = Profile(epochs=(1, 10), batch_size=64)    # a (fast, full) pair, or one value for both
    >>> p.batch_size
    64
    """

    def __init__(self, **params):
        fast = is_fast()
        chosen = {}
        for key, value in params.items():
            if isinstance(value, tuple) and len(value) == 2:
                chosen[key] = value[0] if fast else value[1]
            else:
                chosen[key] = value
        super().__init__(chosen)
        self.name = "fast" if fast else "full"

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no hyper-parameter {key!r}; known: {', '.join(self)}") from None

    def show(self) -> None:
        """Print the chosen values, one per line, so a reader sees what the run used."""
        print(f"profile: {self.name}")
        for key, value in self.items():
            print(f"  {key:<18} {value}")
