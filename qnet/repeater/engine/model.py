"""Inputs and state of the repeater event engine (:mod:`qnet.repeater.engine`, rules in its docstring)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["EngineLink", "EngineRoute", "EngineRequest", "Delivery", "Event", "Pool", "Pair", "RequestState",
           "HERALD", "SWAP_DONE", "CUTOFF", "STOP", "START", "ARRIVAL"]

# event kinds, in the order they apply within one instant
HERALD, SWAP_DONE, CUTOFF, STOP, START, ARRIVAL = range(6)


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
    >>> from qnet.repeater.chain.trees import Leaf
    >>> from qnet.repeater.engine import Delivery
    >>> Delivery(0, 0.5, 0.5, Leaf(0, 0.5, 0)).latency_s
    0.5
    """

    request: int
    time_s: float
    latency_s: float
    tree: Any


class Event(NamedTuple):
    """A scheduled event; heap order (time_s, kind, seq).

    Examples
    --------
    >>> from qnet.repeater.engine.model import CUTOFF, HERALD, Event
    >>> Event(1.0, HERALD, 7) < Event(1.0, CUTOFF, 3)  # heralds first within an instant
    True
    """

    time_s: float
    kind: int
    seq: int
    target: Any = None  # HERALD: the pool; SWAP_DONE/CUTOFF: the pair; else the request
    token: int = 0  # HERALD: the bundle's token
    leaf_id: int = 0


class Pool:
    """Where pairs of one link are made: the link's memories, or one request's reservation on it.

    Examples
    --------
    >>> from qnet.repeater.engine.model import Pool
    >>> pool = Pool(link=0, owner=-1, free=([0, 1], [0]), private=False)
    >>> pool.need, len(pool.waiting), pool.bundle
    (0, 0, None)
    """

    __slots__ = ("link", "owner", "free", "private", "counted", "need", "waiting", "bundle", "token", "users")

    def __init__(self, link: int, owner: int, free: tuple[list[int], list[int]], private: bool, counted: bool | None = None):
        self.link, self.owner, self.free, self.private = link, owner, free, private
        self.counted = not private if counted is None else counted  # memory use is integrated (occupancy)
        self.need = 0
        self.waiting: deque[Pair] = deque()
        self.bundle: tuple[list[int], list[int]] | None = None
        self.token = 0
        self.users: list[tuple[int, int]] = []  # (request, hop) that take pairs from this pool


class Pair:
    """A pair: waiting in a pool (owner -1) or owned by a request over boundaries lo..hi.

    Examples
    --------
    >>> from qnet.repeater.engine.model import Pair
    >>> pair = Pair(0, exists_s=0.25, tree=None, mem_lo=(0, None, 0), mem_hi=(1, None, 0))
    >>> pair.owner, pair.alive
    (-1, True)
    """

    __slots__ = ("id", "lo", "hi", "exists_s", "tree", "swapping", "swap_ok", "owner", "mem_lo", "mem_hi", "alive", "pool", "leaf_id", "cut_at")

    def __init__(self, pid: int, exists_s: float, tree: Any, mem_lo: tuple, mem_hi: tuple, owner: int = -1,
                 pool: Pool | None = None, leaf_id: int = 0, lo: int = 0, hi: int = 0):
        self.id, self.exists_s, self.tree, self.mem_lo, self.mem_hi, self.owner = pid, exists_s, tree, mem_lo, mem_hi, owner
        self.pool, self.leaf_id, self.lo, self.hi = pool, leaf_id, lo, hi
        self.swapping, self.swap_ok, self.alive, self.cut_at = False, True, True, math.inf


class RequestState:
    """What the engine knows of one request while it runs.

    Examples
    --------
    >>> from qnet.repeater.engine import EngineRequest, EngineRoute
    >>> from qnet.repeater.engine.model import RequestState
    >>> route = EngineRoute((0, 1), (0, 0), (float("inf"),) * 3, (1.0,) * 3, (0.0,) * 3)
    >>> state = RequestState(0, EngineRequest(route))
    >>> state.n, state.building, state.done
    (2, False, [])
    """

    __slots__ = ("index", "spec", "n", "ghz", "by_lo", "by_hi", "covered", "pools", "building", "active", "build_start_s",
                 "key", "demanded", "served", "done")

    def __init__(self, index: int, spec: EngineRequest):
        self.index, self.spec, self.n = index, spec, len(spec.route.hops)
        self.ghz = spec.route.hub is not None
        self.active = self.building = False
        self.demanded = self.served = 0
        self.pools: list[Pool] = []
        self.done: list[Delivery] = []
        self.key: tuple = (0,)


