"""Number ranges written as text: ``START:STOP:N[:log]``, ``LO:HI`` and comma-separated lists.

The one parser of ranges for ``qnet sweep --vary`` (:func:`qnet.studies.sweep.parse_vary`),
``qnet optimize --vary`` (:func:`qnet.studies.optimize.parse_vary_range`) and ``qnet compare
--distances``. Each function parses the text after ``FIELD=``; a malformed text raises
:class:`RangeError`, whose message is the reason alone, so that each caller names its option.

Only the standard library is imported.
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Sequence
from typing import Any, Callable, Iterator

from qnet.errors import QnetError

__all__ = ["Range", "RangeError", "parse_range", "parse_bounds", "parse_list"]


class RangeError(QnetError):
    """A range text that does not parse; the message is the reason, without the option.

    Examples
    --------
    >>> try:
    ...     parse_range("1:2")
    ... except RangeError as exc:
    ...     print(f"--vary 'x=1:2': {exc}")
    --vary 'x=1:2': expected START:STOP:N or START:STOP:N:log
    """


class Range(Sequence):
    """N evenly (or geometrically) spaced floats from ``start`` to ``stop``, both included.

    A sequence computed on demand: a range of 10^8 values takes a few bytes, not gigabytes.
    Value ``i`` is ``start + i (stop - start)/(N - 1)`` (``start exp(i ln(stop/start)/(N - 1))``
    when ``log``), the last one exactly ``stop``.

    Parameters
    ----------
    start, stop : float
        The first and last values (both included).
    n : int
        How many values.
    log : bool
        Geometric spacing (``start`` and ``stop`` > 0) instead of even spacing.

    Examples
    --------
    >>> r = Range(1.0, 2.0, 5)
    >>> len(r), list(r), r[-1], r.index(1.5)
    (5, [1.0, 1.25, 1.5, 1.75, 2.0], 2.0, 2)
    >>> [round(v, 6) for v in Range(1.0, 100.0, 3, log=True)]
    [1.0, 10.0, 100.0]
    """

    __slots__ = ("start", "stop", "n", "log", "_step")

    def __init__(self, start: float, stop: float, n: int, log: bool = False):
        self.start, self.stop, self.n, self.log = float(start), float(stop), int(n), bool(log)
        if self.n <= 1:
            self._step = 0.0
        elif self.log:
            self._step = math.log(self.stop / self.start) / (self.n - 1)
        else:
            self._step = (self.stop - self.start) / (self.n - 1)

    def _value(self, i: int) -> float:
        if i == self.n - 1 and i > 0:
            return self.stop
        return self.start * math.exp(self._step * i) if self.log else self.start + self._step * i

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return tuple(self._value(j) for j in range(*i.indices(self.n)))
        i = operator.index(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError("Range index out of range")
        return self._value(i)

    def __iter__(self) -> Iterator[float]:
        return map(self._value, range(self.n))

    def distinct(self) -> bool:
        """Whether consecutive values differ by more than float rounding (else they may repeat)."""
        if self.n == 1:
            return True
        if self.log:
            return abs(self._step) > 8 * sys.float_info.epsilon
        return abs(self._step) > 4 * math.ulp(max(abs(self.start), abs(self.stop)))

    def index(self, value: Any, *_: Any) -> int:
        """First position of ``value`` (compared exactly); ValueError when absent."""
        if type(value) is float and self.n:
            if self._step == 0.0:
                if value == self.start:
                    return 0
            elif value == value and (not self.log or value / self.start > 0):
                x = math.log(value / self.start) if self.log else value - self.start
                if math.isfinite(x):
                    guess = round(x / self._step)
                    for i in (guess - 1, guess, guess + 1):
                        if 0 <= i < self.n and self._value(i) == value:
                            return i
        raise ValueError(f"{value!r} is not in the range")

    def count(self, value: Any) -> int:
        """How many positions hold ``value`` (all of them when start == stop)."""
        try:
            self.index(value)
        except ValueError:
            return 0
        return self.n if self._step == 0.0 else 1

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready specification: start, stop, n and spacing ('lin' or 'log')."""
        return {"start": self.start, "stop": self.stop, "n": self.n, "spacing": "log" if self.log else "lin"}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Range):
            return (self.start, self.stop, self.n, self.log) == (other.start, other.stop, other.n, other.log)
        if isinstance(other, (tuple, list)):
            return len(other) == self.n and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Range, self.start, self.stop, self.n, self.log))

    def __repr__(self) -> str:
        return f"Range({self.start!r}, {self.stop!r}, {self.n}{', log=True' if self.log else ''})"


def parse_range(spec: str, *, log: bool = True) -> Range:
    """``START:STOP:N`` (or ``START:STOP:N:log`` when ``log`` is allowed) as a :class:`Range`.

    Parameters
    ----------
    spec : str
        The text, e.g. ``"1:50:20"`` or ``"0.01:1:9:log"``.
    log : bool
        Whether the ``:log`` (and ``:lin``) suffix is accepted.

    Returns
    -------
    Range
        N values from START to STOP, both included (evenly spaced, or geometrically with ``:log``).

    Raises
    ------
    RangeError
        When the text is not of that form, START or STOP is not a finite number, N < 1, a log
        range does not have START, STOP > 0, or the values are closer than float resolution.

    Examples
    --------
    >>> list(parse_range("50:400:8"))
    [50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 350.0, 400.0]
    >>> parse_range("0.01:1:3:log")
    Range(0.01, 1.0, 3, log=True)
    """
    parts = spec.split(":")
    suffixes = ("lin", "log") if log else ()
    if len(parts) not in ((3, 4) if log else (3,)) or (len(parts) == 4 and parts[3].strip() not in suffixes):
        raise RangeError("expected START:STOP:N or START:STOP:N:log" if log else "expected START:STOP:N")
    try:
        start, stop = float(parts[0]), float(parts[1])
        n = int(parts[2])
    except ValueError:
        raise RangeError("START and STOP must be numbers and N an integer") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise RangeError("START and STOP must be finite (list infinite values explicitly, e.g. --values)")
    if n < 1:
        raise RangeError(f"N = {n} is invalid: at least 1 point")
    is_log = len(parts) == 4 and parts[3].strip() == "log"
    if is_log and (start <= 0 or stop <= 0):
        raise RangeError("a log axis needs START > 0 and STOP > 0")
    values = Range(start, stop, n, is_log)
    if start != stop and not values.distinct():
        raise RangeError(f"{n} values from START to STOP are closer than float resolution; use a smaller N")
    return values


def parse_bounds(spec: str) -> tuple[float, float]:
    """``LO:HI`` as two floats (their order and finiteness are the caller's to check).

    Parameters
    ----------
    spec : str
        The text, e.g. ``"0.005:0.3"``.

    Returns
    -------
    (float, float)
        LO and HI.

    Raises
    ------
    RangeError
        When the text is not two numbers joined by a colon.

    Examples
    --------
    >>> parse_bounds("0.005:0.3")
    (0.005, 0.3)
    """
    parts = spec.split(":")
    if len(parts) != 2:
        raise RangeError("expected LO:HI (two numbers)")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise RangeError("LO and HI must be numbers") from None


def parse_list(spec: str, convert: Callable[[str], Any] = float) -> tuple[Any, ...]:
    """``V1,V2,...`` with each value converted by ``convert`` (what it raises, it raises).

    Parameters
    ----------
    spec : str
        The text, e.g. ``"10,20,40"``.
    convert : callable
        str -> value (default ``float``).

    Returns
    -------
    tuple
        The converted values, in order.

    Raises
    ------
    RangeError
        When the text is empty or a value is empty.

    Examples
    --------
    >>> parse_list("10, 20,40")
    (10.0, 20.0, 40.0)
    """
    raw = spec.split(",")
    if not spec.strip() or any(not v.strip() for v in raw):
        raise RangeError("expected V1,V2,... with no empty value")
    return tuple(convert(v) for v in raw)
