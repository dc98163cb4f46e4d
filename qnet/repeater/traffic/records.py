"""What one traffic run records, before any statistics: the engine's raw output.

:func:`qnet.repeater.traffic.simulate_traffic` returns a :class:`TrafficRun`;
:class:`qnet.repeater.traffic.results.TrafficResult` turns it into per-request figures.
Times are seconds on the simulation clock (0 = start of the run).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qnet.repeater.traffic.requests import Request

__all__ = ["RequestRecord", "NodeRecord", "LinkRecord", "TrafficRun", "TRACE_COLUMNS"]

#: Columns of a trace (one row per event), in order. ``event`` is one of "herald", "swap",
#: "swap_failed", "cutoff", "discarded" (a pair no request needs any more, or its request stopped),
#: "delivery", "fusion". ``pair`` is the id of the pair the event creates or ends; ``parent_a``,
#: ``parent_b``, ``parent_c`` the pairs a swap / delivery / fusion consumed (-1: none);
#: ``request`` the request index (-1: a link pair not yet given to a request); ``node`` the node
#: where a swap or fusion happened ("" otherwise; a GHZ delivery: its hub, pair -1 and the three
#: fused legs as parents); ``node_a``, ``node_b`` the pair's ends and
#: ``memory_a``, ``memory_b`` the memory slot it holds at each end (per node and link, from 0);
#: ``link`` the station of a herald's link ("" otherwise); ``fidelity`` of a delivery (NaN otherwise).
TRACE_COLUMNS = (
    "time_s",
    "event",
    "pair",
    "parent_a",
    "parent_b",
    "parent_c",
    "request",
    "node",
    "node_a",
    "node_b",
    "memory_a",
    "memory_b",
    "link",
    "fidelity",
)


@dataclass(frozen=True)
class RequestRecord:
    """Deliveries of one request (engine output).

    Attributes
    ----------
    request : Request
    paths : tuple of tuple of str
        The routes (memory-node names) the request used; a GHZ request lists its three legs.
    delivery_time_s : numpy.ndarray
        Time of each delivery (s).
    latency_s : numpy.ndarray
        Per delivery: time from the demand it served (or, without ``rate_hz``, from the start of
        building that pair) to its delivery (s).
    fidelity : numpy.ndarray
        Per delivery: <Psi+|rho|Psi+> (bipartite) or <GHZ|rho|GHZ> (three parties).
    demanded : int or None
        Pairs demanded in the run (arrivals of ``rate_hz``); None without ``rate_hz``.
    active_s : float
        Length of the request's active window inside the run, [start_s, min(stop_s, end)) (s).

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.traffic import Request, RequestRecord
    >>> rec = RequestRecord(Request("a", "b"), (("a", "b"),), np.array([0.4, 0.9]), np.array([0.4, 0.5]),
    ...                     np.array([0.9, 0.8]), None, 1.0)
    >>> len(rec.delivery_time_s) / rec.active_s
    2.0
    """

    request: Request
    paths: tuple[tuple[str, ...], ...]
    delivery_time_s: np.ndarray
    latency_s: np.ndarray
    fidelity: np.ndarray
    demanded: int | None
    active_s: float


@dataclass(frozen=True)
class NodeRecord:
    """Memory use at one node: ``memories`` in total, time-average and peak number in use.

    ``occupied_over_time``: the time-average number in use in each of the run's equal time
    slices (:attr:`TrafficRun.occupancy_bin_s` long), in order; empty when not recorded.

    Examples
    --------
    >>> from qnet.repeater.traffic import NodeRecord
    >>> NodeRecord("r1", memories=4, mean_occupied=1.5, peak_occupied=4).mean_occupied / 4
    0.375
    """

    name: str
    memories: int
    mean_occupied: float
    peak_occupied: int
    occupied_over_time: tuple[float, ...] = ()


@dataclass(frozen=True)
class LinkRecord:
    """Use of one elementary link a - station - b.

    ``memories``: memory pairs it can use (min of its ends' shares); ``utilisation``: time-average
    fraction of them in use (attempting or holding a pair), in [0, 1]; ``heralds``: pairs made.

    Examples
    --------
    >>> from qnet.repeater.traffic import LinkRecord
    >>> LinkRecord("a", "b", "s-a-b", memories=1, utilisation=0.5, heralds=12).station
    's-a-b'
    """

    a: str
    b: str
    station: str
    memories: int
    utilisation: float
    heralds: int


@dataclass(frozen=True)
class TrafficRun:
    """Everything one run recorded.

    ``simulated_time_s`` is where the clock stopped (``duration_s``, or earlier when
    ``interrupted``: a Ctrl-C keeps what was finished). ``trace`` maps :data:`TRACE_COLUMNS`
    to equal-length arrays (None unless asked for). ``occupancy_bin_s``: the length of the time
    slices of the nodes' ``occupied_over_time`` (None when not recorded).

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.traffic import Request, simulate_traffic
    >>> run = simulate_traffic(qnet.load_network("examples/ion_repeater_chain.toml"), [Request("alice", "r1")],
    ...                        duration_s=2.0, seed=1, trace=True)
    >>> run.simulated_time_s, run.interrupted, sorted(set(run.trace["event"]))
    (2.0, False, ['delivery', 'herald'])
    """

    requests: tuple[RequestRecord, ...]
    nodes: tuple[NodeRecord, ...]
    links: tuple[LinkRecord, ...]
    duration_s: float
    simulated_time_s: float
    seed: int | None
    policy: str
    interrupted: bool = False
    trace: dict[str, np.ndarray] | None = field(default=None, repr=False)
    occupancy_bin_s: float | None = None
