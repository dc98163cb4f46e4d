"""Requests for entanglement: who wants pairs (or GHZ states), how fast, from when to when.

(The requests-file parser and graph checks live here too.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qnet.errors import ConfigError

__all__ = ["Request"]


@dataclass(frozen=True)
class Request:
    """One user request.

    Parameters
    ----------
    a, b : str
        The memory nodes that want pairs.
    c : str or None
        A third party: the request wants GHZ states of (a, b, c), fused at a node joined to all
        three by elementary links (an entanglement switch).
    rate_hz : float or None
        Demand (pairs per second; one demand every 1/rate_hz seconds from ``start_s``). None
        (default): as fast as possible.
    min_fidelity : float
        Fidelity the user needs; the result reports the fraction of deliveries above it.
    start_s, stop_s : float
        Active window [start_s, stop_s) on the simulation clock (s).
    priority : int
        Higher is served first when requests contend for a memory (default 0).

    Raises
    ------
    ConfigError
        A field out of range, naming it.

    Examples
    --------
    >>> from qnet.repeater.traffic.requests import Request
    >>> Request("alice", "bob", rate_hz=2.0).stop_s
    inf
    """

    a: str
    b: str
    c: str | None = None
    rate_hz: float | None = None
    min_fidelity: float = 0.0
    start_s: float = 0.0
    stop_s: float = math.inf
    priority: int = 0

    def __post_init__(self) -> None:
        names = [n for n in (self.a, self.b, self.c) if n is not None]
        for key, n in zip("abc", names):
            if not isinstance(n, str) or not n:
                raise ConfigError("request", key, n, "a memory-node name")
        if len(set(names)) < len(names):
            raise ConfigError("request", "b" if self.a == self.b else "c", names[-1], "a node different from the others")
        if self.rate_hz is not None:
            r = float(self.rate_hz)
            if not (r > 0.0 and math.isfinite(r)):
                raise ConfigError("request", "rate_hz", self.rate_hz, "a demand > 0 pairs per second (omit it: as fast as possible)")
            object.__setattr__(self, "rate_hz", r)
        f = float(self.min_fidelity)
        if not 0.0 <= f <= 1.0:
            raise ConfigError("request", "min_fidelity", self.min_fidelity, "a fidelity in [0, 1]")
        object.__setattr__(self, "min_fidelity", f)
        s, e = float(self.start_s), float(self.stop_s)
        if not (s >= 0.0 and math.isfinite(s)):
            raise ConfigError("request", "start_s", self.start_s, "a time >= 0 in seconds")
        if not e > s:
            raise ConfigError("request", "stop_s", self.stop_s, f"a time > start_s = {s:g} s (inf: until the end)")
        object.__setattr__(self, "start_s", s)
        object.__setattr__(self, "stop_s", e)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ConfigError("request", "priority", self.priority, "an integer (higher is served first)")

    @property
    def parties(self) -> tuple[str, ...]:
        """(a, b) or (a, b, c)."""
        return (self.a, self.b) if self.c is None else (self.a, self.b, self.c)
