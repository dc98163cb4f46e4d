"""Shared by the benchmark scripts: the median wall time of repeated calls."""

from __future__ import annotations

import statistics
import time


def median_time(fn, repeats: int) -> tuple[float, object]:
    """(median seconds over ``repeats`` calls of ``fn``, the last call's return value)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out
