"""argparse value types shared by every ``qnet`` command: one rule per kind of argument.

Each raises ``argparse.ArgumentTypeError`` with the allowed range, so argparse prints one line
naming the option and exits with status 2.
"""

from __future__ import annotations

import argparse

__all__ = ["SEED_MAX", "seed", "positive_int", "count"]

#: Seeds are integers in [0, SEED_MAX]: what numpy's and Aer's generators both accept.
SEED_MAX = 2**63 - 1


def seed(text: str) -> int:
    """A random seed: an integer in [0, 2^63 - 1]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer (allowed: 0 to 2^63-1)") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: 0 to 2^63-1)")
    return value


def positive_int(maximum: int = SEED_MAX):
    """An argparse type for integers in [1, maximum]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer (allowed: 1 to {maximum})") from None
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: 1 to {maximum})")
        return value

    parse.__name__ = "positive integer"
    return parse


#: shot and sample counts: at least 1, at most 2^31 - 1 (Aer's shot counter is a C int on some builds)
count = positive_int(2**31 - 1)
