"""argparse value types shared by every ``qnet`` command: one rule per kind of argument.

Each raises ``argparse.ArgumentTypeError`` with the allowed range, so argparse prints one line
naming the option and exits with status 2.
"""

from __future__ import annotations

import argparse

__all__ = ["SEED_MAX", "integer_in", "seed", "positive_int", "count", "positive_number"]

#: Seeds are integers in [0, SEED_MAX]: what numpy's and Aer's generators both accept.
SEED_MAX = 2**63 - 1


def integer_in(minimum: int, maximum: int, shown_maximum: str | None = None):
    """An argparse type for integers in [minimum, maximum].

    Parameters
    ----------
    minimum, maximum : int
        The allowed range (both included).
    shown_maximum : str, optional
        How the messages write ``maximum`` (e.g. ``"2^63-1"``; default: the number).

    Returns
    -------
    callable
        ``parse(text) -> int``, raising ``argparse.ArgumentTypeError`` (one line naming the
        range) for a non-integer or a value outside it.

    Examples
    --------
    >>> parse = integer_in(1, 10)
    >>> parse("10")
    10
    >>> parse("ten")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'ten' is not an integer (allowed: 1 to 10)
    """
    allowed = f"allowed: {minimum} to {maximum if shown_maximum is None else shown_maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer ({allowed})") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text} is out of range ({allowed})")
        return value

    parse.__name__ = "integer"
    return parse


#: A random seed: an integer in [0, 2^63 - 1].
seed = integer_in(0, SEED_MAX, "2^63-1")
seed.__name__ = "seed"
seed.__doc__ = """A random seed: an integer in [0, 2^63 - 1].

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


def positive_int(maximum: int = SEED_MAX):
    """An argparse type for integers in [1, maximum] (:func:`integer_in` from 1).

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
    >>> positive_int(10)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 0 is out of range (allowed: 1 to 10)
    """
    parse = integer_in(1, maximum)
    parse.__name__ = "positive integer"
    return parse


#: shot and sample counts: at least 1, at most 2^31 - 1 (Aer's shot counter is a C int on some builds)
count = positive_int(2**31 - 1)


def positive_number(text: str) -> float:
    """An argparse type for a finite number > 0 (a duration in seconds, a length).

    Parameters
    ----------
    text : str
        The option's argument.

    Returns
    -------
    float

    Raises
    ------
    argparse.ArgumentTypeError
        If ``text`` is not a number, or not finite and > 0 (argparse prints it as one line naming
        the option and exits with 2).

    Examples
    --------
    >>> positive_number("2.5e-3")
    0.0025
    >>> positive_number("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 0 is out of range (allowed: a finite number > 0)
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (allowed: a finite number > 0)") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: a finite number > 0)")
    return value
