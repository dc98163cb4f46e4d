"""Inputs and outputs of the repeater event engine (:mod:`qnet.repeater.engine`, rules in its docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from qnet.errors import ConfigError

__all__ = [
    "EngineLink",
    "EngineRoute",
    "EngineRequest",
    "Delivery",
    "HERALD",
    "SWAP_DONE",
    "CUTOFF",
    "STOP",
    "START",
    "ARRIVAL",
    "DEMAND_CAP",
    "demands_by",
    "demands_before",
    "MAX_LINK_MEMORIES",
    "check_link_memories",
]

# event kinds, in the order they apply within one instant
HERALD, SWAP_DONE, CUTOFF, STOP, START, ARRIVAL = range(6)

#: Where the engine's count of demands saturates (2^52: every count below it is exact in float64
#: arithmetic, and no request is ever served that many pairs).
DEMAND_CAP = 2**52


#: The most memories one node may devote to one link in repeater chains and traffic: the event
#: engine follows every memory (an attempt bundle takes each free one), so its time per herald
#: grows with this count. ``qnet link`` (a closed form in the count) has no such limit.
MAX_LINK_MEMORIES = 10_000


def check_link_memories(node: str, memories: int | None, shares: dict) -> None:
    """Refuse a node that devotes more than :data:`MAX_LINK_MEMORIES` memories to one link.

    Parameters
    ----------
    node : str
        The node's name (for the message: ``nodes.NODE.memories``).
    memories : int or None
        Its ``memories`` field.
    shares : dict
        station -> memories it devotes to that link (:func:`qnet.link.multiplexing.link_shares`).

    Raises
    ------
    ConfigError
        Naming ``nodes.NODE.memories``, its value and the bound.

    Examples
    --------
    >>> check_link_memories("r1", 20_000, {"s1": 10_000, "s2": 10_000})
    >>> check_link_memories("r1", 2**63 - 1, {"s1": 2**63 - 1})
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: nodes.r1.memories = 9223372036854775807 is invalid: at most 10000 per link in repeater chains and traffic (the event engine follows every memory; 'r1' would give 9223372036854775807 to link s1)
    """
    for station, count in shares.items():
        if count > MAX_LINK_MEMORIES:
            raise ConfigError(
                f"nodes.{node}",
                "memories",
                memories,
                f"at most {MAX_LINK_MEMORIES} per link in repeater chains and traffic (the event engine "
                f"follows every memory; {node!r} would give {count} to link {station})",
            )


def demands_by(start_s: float, rate_hz: float, t_s: float, inclusive: bool) -> int:
    """Demands of a request that have arrived by ``t_s``: arrivals at ``start_s + k / rate_hz``, k = 0, 1, ...

    Counted, not simulated: the engine asks this where it decides (a request that could start
    a pair), so a demand of any size costs nothing per arrival. The arrival times are the float
    expressions ``start_s + k / rate_hz``, exactly as if each arrival were an event. The count
    saturates at :data:`DEMAND_CAP` (the engine's decisions only compare it with pairs served);
    :func:`demands_before` gives the exact count for reports. Written for numba too (the compiled
    event loop compiles this very function).

    Parameters
    ----------
    start_s : float
        The first demand's time (s).
    rate_hz : float
        Demands per second (> 0).
    t_s : float
        The time (s).
    inclusive : bool
        Count an arrival at exactly ``t_s`` (True) or only those before it (False).

    Returns
    -------
    int
        min(number of k >= 0 with ``start_s + k / rate_hz`` < ``t_s`` (<= when inclusive), DEMAND_CAP).

    Examples
    --------
    >>> demands_by(0.0, 0.2, 60.0, False), demands_by(0.0, 0.2, 60.0, True), demands_by(1.0, 1e300, 6.0, False) == DEMAND_CAP
    (12, 13, True)
    """
    if t_s < start_s or (t_s == start_s and not inclusive):
        return 0
    x = (t_s - start_s) * rate_hz
    if not x < DEMAND_CAP:
        return DEMAND_CAP
    k = int(x)
    k = k - 1 if k > 0 else 0
    while (start_s + k / rate_hz <= t_s) if inclusive else (start_s + k / rate_hz < t_s):
        k += 1
    while k > 0 and ((start_s + (k - 1) / rate_hz > t_s) if inclusive else (start_s + (k - 1) / rate_hz >= t_s)):
        k -= 1
    return k


def demands_before(start_s: float, rate_hz: float, t_s: float) -> int:
    """The exact number of demands that arrived before ``t_s`` (what a run reports as ``demanded``).

    :func:`demands_by` below 2^52 demands; above, where consecutive arrival times are no longer
    distinct floats, the exact count of k >= 0 with start_s + k / rate_hz < t_s in rational
    arithmetic.

    Parameters
    ----------
    start_s, rate_hz, t_s : float
        As for :func:`demands_by` (``t_s`` finite).

    Returns
    -------
    int

    Examples
    --------
    >>> demands_before(0.0, 2.0, 5.0), demands_before(0.0, 2.0, 5.5), demands_before(0.0, 2.0**60, 4.0) == 2**62
    (10, 11, True)
    """
    n = demands_by(start_s, rate_hz, t_s, False)
    if n < DEMAND_CAP:
        return n
    from fractions import Fraction

    return math.ceil((Fraction(t_s) - Fraction(start_s)) * Fraction(rate_hz))


@dataclass(frozen=True)
class EngineLink:
    """One elementary link for the engine.

    ``p`` per attempt; ``attempt_time_s`` one round; ``node_a``/``node_b`` node indices;
    ``cap_a``/``cap_b`` its memories at each end; ``cutoff_s`` the cutoff of a pair waiting in
    it; ``source`` an optional sampler (``source.sample(rng, t) -> (time, leaf_id)``, chains with
    purified links) used instead of the geometric draw; ``name`` (its station) for traces.

    Examples
    --------
    >>> from qnet.repeater.engine import EngineLink
    >>> EngineLink(p=0.01, attempt_time_s=1e-4, node_a=0, node_b=1, cap_a=2, cap_b=1).cutoff_s
    inf
    """

    p: float
    attempt_time_s: float
    node_a: int
    node_b: int
    cap_a: int
    cap_b: int
    cutoff_s: float = math.inf
    source: Any = None
    name: str = ""


@dataclass(frozen=True)
class EngineRoute:
    """A request's route: link ids in order and, per boundary 0..n, cutoff, swap success and time.

    ``left_side[i]`` is 0 when the route enters link ``hops[i]`` at its ``node_a``, else 1. For a
    GHZ request (``hub`` set) the hops are its three legs, each with the hub at boundary 1.

    Examples
    --------
    >>> from qnet.repeater.engine import EngineRoute
    >>> inf = float("inf")
    >>> route = EngineRoute(hops=(0, 1), left_side=(0, 0), cutoff_s=(inf, 0.1, inf),
    ...                     swap_success=(1.0, 1.0, 1.0), swap_time_s=(0.0, 0.0, 0.0))
    >>> len(route.hops), route.hub
    (2, None)
    """

    hops: tuple[int, ...]
    left_side: tuple[int, ...]
    cutoff_s: tuple[float, ...]
    swap_success: tuple[float, ...]
    swap_time_s: tuple[float, ...]
    nested: bool = False
    hub: int | None = None


@dataclass(frozen=True)
class EngineRequest:
    """A request as the engine sees it (times in s, ``rate_hz`` None: as fast as possible).

    Examples
    --------
    >>> from qnet.repeater.engine import EngineRequest, EngineRoute
    >>> route = EngineRoute((0,), (0,), (float("inf"),) * 2, (1.0, 1.0), (0.0, 0.0))
    >>> EngineRequest(route, rate_hz=2.0).stop_s
    inf
    """

    route: EngineRoute
    priority: int = 0
    rate_hz: float | None = None
    start_s: float = 0.0
    stop_s: float = math.inf
    share: tuple[int, ...] = ()  # reserve policy: memories per end reserved on each hop


class Delivery(NamedTuple):
    """One delivery: request index, time (s), latency (s), tree (GHZ: a tuple of three leaves).

    Examples
    --------
    >>> from qnet.repeater.engine.trees import Leaf
    >>> from qnet.repeater.engine import Delivery
    >>> Delivery(0, 0.5, 0.5, Leaf(0, 0.5, 0)).latency_s
    0.5
    """

    request: int
    time_s: float
    latency_s: float
    tree: Any
