"""Progress reporting for long runs: a redrawn line with ETA on a terminal, plain lines otherwise."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

__all__ = ["Progress", "clock", "plural", "singular", "per_second"]


def plural(n: int, word: str) -> str:
    """``n`` and ``word`` (a plural noun) agreeing in number: '1 point', '2 points', '1 delivery'.

    Parameters
    ----------
    n : int
        The count.
    word : str
        A plural noun.

    Returns
    -------
    str

    Examples
    --------
    >>> plural(1, "errors"), plural(0, "links"), plural(1, "deliveries"), plural(3, "points")
    ('1 error', '0 links', '1 delivery', '3 points')
    """
    return f"{n} {singular(word) if n == 1 else word}"


def singular(word: str) -> str:
    """The singular of a plural noun ('points' -> 'point', 'deliveries' -> 'delivery').

    Parameters
    ----------
    word : str
        A plural noun.

    Returns
    -------
    str

    Examples
    --------
    >>> singular("points"), singular("deliveries"), singular("data")
    ('point', 'delivery', 'data')
    """
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def per_second(rate: float, word: str) -> str:
    """A rate with its unit: '1 point/s', '1,200 points/s' (``word`` a plural noun).

    Parameters
    ----------
    rate : float
        Items per second.
    word : str
        A plural noun.

    Returns
    -------
    str

    Examples
    --------
    >>> per_second(1200.4, "points"), per_second(1.2, "points")
    ('1,200 points/s', '1 point/s')
    """
    text = f"{rate:,.0f}"
    return f"{text} {singular(word) if text == '1' else word}/s"


def clock(seconds: float) -> str:
    """H:MM:SS (or M:SS) for a duration in seconds; '?' when unknown.

    Parameters
    ----------
    seconds : float
        A duration (s); inf or NaN when unknown.

    Returns
    -------
    str

    Examples
    --------
    >>> clock(75), clock(3725.4), clock(float("inf"))
    ('1:15', '1:02:05', '?')
    """
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Progress of ``total`` items on ``stream`` (stderr by default).

    On a terminal the line is redrawn at most every 0.2 s; otherwise a plain log line is
    written every ``interval`` seconds. ``label`` and ``unit`` name the work ("qnet sweep",
    "points": a plural noun, made singular for a count of 1). ``done`` counts items already finished before this run (e.g. resumed).

    Parameters
    ----------
    total : int
        Items in all.
    done : int
        Items finished before this run.
    stream : file, optional
        Where to write (stderr by default).
    interval : float
        Seconds between lines when the stream is not a terminal.
    enabled : bool
        Write anything at all.
    label, unit : str
        The line's prefix and the items' plural noun.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> bar = Progress(4, stream=stream, label="qnet sweep", unit="points")
    >>> bar.update(3, errors=1)
    >>> bar.close()
    >>> stream.getvalue().split(",")[0]
    'qnet sweep: 3/4 points (75.0%)'
    """

    def __init__(
        self,
        total: int,
        done: int = 0,
        stream: Any = None,
        interval: float = 10.0,
        enabled: bool = True,
        label: str = "qnet",
        unit: str = "items",
    ):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.start_done, self.done, self.errors = total, done, done, 0
        self.interval = 0.2 if self.tty else interval
        self.label, self.unit = label, unit
        self.t0 = time.perf_counter()
        self.last = self.t0

    def line(self) -> str:
        """The progress line: done/total, percentage, rate, errors, elapsed time and ETA."""
        elapsed = time.perf_counter() - self.t0
        new = self.done - self.start_done
        rate = new / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = left / rate if rate > 0 else (0.0 if left == 0 else math.inf)
        pct = 100.0 * self.done / self.total if self.total else 100.0
        errors = f", {plural(self.errors, 'errors')}" if self.errors else ""
        return (
            f"{self.label}: {self.done}/{plural(self.total, self.unit)} ({pct:.1f}%), {per_second(rate, self.unit)}"
            f"{errors}, elapsed {clock(elapsed)}, ETA {clock(eta)}"
        )

    def update(self, items: int, errors: int = 0) -> None:
        """Count ``items`` more finished (``errors`` of them failed); redraw when it is time."""
        self.done += items
        self.errors += errors
        now = time.perf_counter()
        if self.enabled and now - self.last >= self.interval:
            self.last = now
            self._show()

    def set(self, done: int) -> None:
        """Callback form ``progress(done, total)``-style: set the absolute count."""
        self.update(done - self.done)

    def _show(self, final: bool = False) -> None:
        if self.tty:
            self.stream.write("\r" + self.line() + "\x1b[K" + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Write the final line (with a newline on a terminal)."""
        if self.enabled:
            self._show(final=True)
