"""Shared by the benchmark scripts: the figures a run measured, for benchmarks/run_all.py's records.

A script calls :func:`figure` beside each ``print`` of a number the README may quote: a stable
key, the text exactly as the README writes it (``"2.3 s"``, ``"4,900 points/s"``) and the value.
When the environment variable ``QNET_BENCH_RECORD`` names a file (``run_all.py`` sets it), the
figures are written there as JSON when the script ends; otherwise nothing is written.
"""

from __future__ import annotations

import atexit
import json
import os
import sys

_FIGURES: dict[str, dict] = {}


def seconds(t: float) -> str:
    """A wall time as the README writes it: two decimals below 1 s, one from 1 s up (``0.43 s``, ``2.3 s``)."""
    return f"{t:.2f} s" if t < 1 else f"{t:.1f} s"


def rate(n: float, unit: str) -> str:
    """A rate as the README writes it: two significant digits, thousands separated (``4,900 points/s``)."""
    return f"{float(f'{n:.2g}'):,.0f} {unit}/s"


def figure(key: str, text: str, value: float | None = None, label: str = "") -> None:
    """Record one figure: ``key`` (stable), ``text`` (as quoted), ``value`` (the number) and what it is."""
    _FIGURES[key] = {"text": text, "value": value, "label": label}


def _write() -> None:
    path = os.environ.get("QNET_BENCH_RECORD")
    if path and _FIGURES:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"argv": sys.argv[1:], "figures": _FIGURES}, fh, indent=1)


atexit.register(_write)
