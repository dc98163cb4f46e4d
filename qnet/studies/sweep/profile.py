"""Where a sweep spends its time: per-stage wall times (``qnet sweep --profile``).

An evaluator reports its stages through :func:`stage_clock` (a no-op unless a chunk is being
profiled); :func:`~qnet.studies.sweep.executors.evaluate_chunk` collects them per chunk, in
whichever process runs it, and :func:`~qnet.studies.sweep.run_sweep` adds them up with its own
stages (preparing, writing, finishing, waiting for workers) into a :class:`SweepProfile`.

Stages measured in worker processes are summed over the workers (CPU-side seconds, which can
exceed the wall time); the stages of the main process add up to the wall time of the run.

Only the standard library is imported at module level.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["StageTimes", "SweepProfile", "stage_clock", "recording", "record", "process_age_s", "STAGE_LABELS"]

#: What each stage name means (the table's labels), in table order.
STAGE_LABELS = {
    "startup": "python start + imports (before the command ran)",
    "setup": "setup (network file, checks, evaluator)",
    "prepare": "prepare (output lock, metadata, worker start)",
    "spec": "spec (point -> LinkSpec)",
    "compile": "compile (circuits or instruction lists)",
    "run": "run (Aer run() + extraction, or batch engine)",
    "figures": "figures (heralds, fidelity, CHSH, rates)",
    "evaluate": "evaluate (rest of the chunk: cache, rows)",
    "write": "write (CSV rows, flush)",
    "finish": "finish (final table, metadata)",
    "wait": "wait (for chunks, scheduling)",
}

_LOCAL = threading.local()


class StageTimes:
    """Seconds per stage, accumulated (one per profiled chunk, or per run).

    Examples
    --------
    >>> t = StageTimes()
    >>> t.add("spec", 0.5); t.add("spec", 0.25); t.merge({"run": 1.0})
    >>> t.seconds
    {'spec': 0.75, 'run': 1.0}
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        """Add ``seconds`` to ``stage``."""
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def merge(self, other: Mapping[str, float]) -> None:
        """Add every stage of ``other`` (a ``{stage: seconds}`` mapping)."""
        for stage, seconds in other.items():
            self.add(stage, seconds)


def recording() -> StageTimes | None:
    """The :class:`StageTimes` of the chunk being profiled in this thread, or None (not profiling).

    Examples
    --------
    >>> recording() is None
    True
    """
    return getattr(_LOCAL, "times", None)


class _Recording:
    """Context manager: profile this thread's stages into ``times``."""

    def __init__(self, times: StageTimes):
        self.times = times

    def __enter__(self) -> StageTimes:
        self.previous = recording()
        _LOCAL.times = self.times
        return self.times

    def __exit__(self, *exc: Any) -> None:
        _LOCAL.times = self.previous


def record(times: StageTimes) -> _Recording:
    """``with record(times):`` the stages reported in this thread go to ``times``.

    Examples
    --------
    >>> times = StageTimes()
    >>> with record(times):
    ...     clock = stage_clock()
    ...     clock("spec")
    >>> sorted(times.seconds), recording() is None
    (['spec'], True)
    """
    return _Recording(times)


def _no_clock(stage: str) -> None:
    return None


def stage_clock():
    """A function ``clock(stage)`` that charges the time since the previous call (or since now) to ``stage``.

    When no chunk is being profiled it is a function that does nothing (costs one call).

    Examples
    --------
    >>> clock = stage_clock()
    >>> clock("spec") is None
    True
    """
    times = recording()
    if times is None:
        return _no_clock
    last = [time.perf_counter()]

    def clock(stage: str) -> None:
        t = time.perf_counter()
        times.add(stage, t - last[0])
        last[0] = t

    return clock


@dataclass
class SweepProfile:
    """Stage times of one sweep run: the main process's (adding up to ``total_s``) and the workers' (summed).

    Attributes
    ----------
    total_s : float
        Wall time covered by the main-process stages (s).
    points : int
        Points evaluated.
    workers : int
        Processes evaluating at once (1: the chunks ran in the main process alone; see
        :func:`~qnet.studies.sweep.executors.start_executor`).
    main : dict
        ``{stage: seconds}`` in the main process; they add up to ``total_s``.
    in_workers : dict
        ``{stage: seconds}`` measured in worker processes, summed over them (empty when workers == 1).

    Examples
    --------
    >>> p = SweepProfile(2.0, 1000, 1, {"setup": 0.5, "run": 1.0, "wait": 0.5})
    >>> [s["stage"] for s in p.to_dict()["stages"]], p.to_dict()["stages"][1]["us_per_point"]
    (['setup', 'run', 'wait'], 1000.0)
    >>> print(p.format_table().splitlines()[0])
    qnet sweep profile: 1000 points, 1 process, 2.00 s wall
    """

    total_s: float
    points: int
    workers: int
    main: dict[str, float] = field(default_factory=dict)
    in_workers: dict[str, float] = field(default_factory=dict)

    def _rows(self) -> list[dict[str, Any]]:
        order = list(STAGE_LABELS)
        key = lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])  # noqa: E731
        rows = []
        for where, stages in (("main", self.main), ("workers", self.in_workers)):
            for stage, seconds in sorted(stages.items(), key=key):
                rows.append(
                    {
                        "stage": stage,
                        "where": where,
                        "seconds": seconds,
                        "us_per_point": seconds / self.points * 1e6 if self.points else None,
                    }
                )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: totals and one entry per stage (stage, where, seconds, us_per_point)."""
        return {
            "total_s": self.total_s,
            "points": self.points,
            "workers": self.workers,
            "workers_total_s": sum(self.in_workers.values()),
            "stages": self._rows(),
        }

    def format_table(self) -> str:
        """The stages as a table for people (seconds, share of the wall time, microseconds per point)."""
        procs = "1 process" if self.workers <= 1 else f"{self.workers} processes"
        lines = [
            f"qnet sweep profile: {self.points} points, {procs}, {self.total_s:.2f} s wall",
            f"  {'stage':<50} {'where':<8} {'seconds':>8} {'share':>6} {'us/point':>9}",
        ]
        for row in self._rows():
            share = f"{row['seconds'] / self.total_s:6.0%}" if self.total_s > 0 and row["where"] == "main" else " " * 6
            per = f"{row['us_per_point']:9.1f}" if row["us_per_point"] is not None else " " * 9
            label = STAGE_LABELS.get(row["stage"], row["stage"])
            lines.append(f"  {label:<50} {row['where']:<8} {row['seconds']:8.3f} {share} {per}")
        lines.append(f"  {'total (main process)':<50} {'main':<8} {sum(self.main.values()):8.3f}")
        if self.in_workers:
            lines.append(
                f"  {'total (workers, summed over processes)':<50} {'workers':<8} {sum(self.in_workers.values()):8.3f}"
            )
        return "\n".join(lines)


def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), or None where that cannot be read.

    Examples
    --------
    >>> age = process_age_s()
    >>> age is None or age >= 0
    True
    """
    import os

    try:
        with open("/proc/self/stat") as fh:
            start_ticks = float(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None
