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
    """A random seed: an integer in [0, 2^63 - 1].

    Parameters
    ----------
    text : str
        The option's argument.

    Returns
    -------
    int

    Raises
    ------
    argparse.ArgumentTypeError
        If ``text`` is not an integer in range (argparse prints it as one line and exits with 2).

    Examples
    --------
    >>> seed("42")
    42
    >>> seed("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: -1 is out of range (allowed: 0 to 2^63-1)
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer (allowed: 0 to 2^63-1)") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: 0 to 2^63-1)")
    return value


def positive_int(maximum: int = SEED_MAX):
    """An argparse type for integers in [1, maximum].

    Parameters
    ----------
    maximum : int
        The largest value allowed (default :data:`SEED_MAX`).

    Returns
    -------
    callable
        ``parse(text) -> int``, raising ``argparse.ArgumentTypeError`` outside [1, maximum].

    Examples
    --------
    >>> parse = positive_int(10)
    >>> parse("10")
    10
    >>> parse("ten")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'ten' is not an integer (allowed: 1 to 10)
    """

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
