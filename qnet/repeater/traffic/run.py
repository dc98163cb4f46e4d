"""``simulate_traffic``: many requests on one network, on the repeater event engine.

From requests to a run: routes (one per request: the metric's best, or the least loaded of the
``k_paths`` best), memories per link (each node splits its ``memories`` evenly over the
elementary links it joins in the whole network, :func:`link_memories`), every distinct link
simulated once (:func:`qnet.link.distinct.run_specs`), the engine
(:mod:`qnet.repeater.engine`) run to ``duration_s``, then every delivered state evaluated from
its recorded tree (route by route, all deliveries together).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx
import numpy as np

from qnet._deprecation import renamed_keywords
from qnet.errors import ConfigError
from qnet.repeater.choices import MEMORY_POLICIES, METRICS, PROTOCOLS, SWAP_POLICIES
from qnet.repeater.engine import Engine, EngineRequest
from qnet.repeater.engine.model import demands_before
from qnet.repeater.engine.core import use_compiled
from qnet.link.prepared import PreparedNetwork, prepare_network
from qnet.repeater.traffic.records import TRACE_COLUMNS, LinkRecord, NodeRecord, RequestRecord, TrafficRun
from qnet.repeater.traffic.requests import Request
from qnet.repeater.traffic.setup import TrafficLinks, check_parties, choose_routes
from qnet.repeater.traffic.states import delivered_fidelities

__all__ = ["simulate_traffic"]


def _check_options(duration_s: Any, memory_policy: str, metric: str, k_paths: Any, swap_policy: str) -> float:
    d = float(duration_s) if isinstance(duration_s, (int, float)) and not isinstance(duration_s, bool) else math.nan
    if not (0.0 < d < math.inf):
        raise ConfigError("traffic", "duration_s", duration_s, "a simulated time > 0 in seconds (finite)")
    for name, value, allowed in (
        ("memory_policy", memory_policy, MEMORY_POLICIES),
        ("metric", metric, METRICS),
        ("swap_policy", swap_policy, SWAP_POLICIES),
    ):
        if value not in allowed:
            raise ConfigError("traffic", name, value, f"one of {', '.join(allowed)}")
    if isinstance(k_paths, bool) or not isinstance(k_paths, int) or k_paths < 1:
        raise ConfigError("traffic", "k_paths", k_paths, "an integer >= 1 (candidate routes per request)")
    return d


@renamed_keywords(policy="memory_policy", engine="link_backend")
def simulate_traffic(
    graph: nx.Graph | PreparedNetwork,
    requests: Sequence[Request],
    *,
    duration_s: float,
    seed: int | None = None,
    memory_policy: str = "shared",
    metric: str = "hops",
    k_paths: int = 1,
    swap_policy: str = "asap",
    link_backend: str | None = None,
    trace: bool = False,
    progress: Callable[[float, float], None] | None = None,
    occupancy_bins: int = 20,
    purify: str | None = None,
    twirl: bool = True,
    loop: str = "auto",
) -> TrafficRun:
    """Serve ``requests`` on ``graph`` for ``duration_s`` simulated seconds.

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network (:func:`qnet.load_network`), or the network prepared once
        (:func:`qnet.prepare_network`: links other calls simulated are not simulated again).
    requests : sequence of Request
        The requests (file order is kept in the result).
    duration_s : float
        Simulated time (s), > 0.
    seed : int, optional
        Makes the run reproducible.
    memory_policy : str
        ``"shared"`` (default) or ``"reserve"`` (:mod:`qnet.repeater.engine`).
    metric : str
        Route cost, one of :data:`qnet.repeater.choices.METRICS` (default ``"hops"``).
    k_paths : int
        Candidate routes per request; > 1 spreads load (:func:`choose_routes`).
    swap_policy : str
        ``"asap"`` (default) or ``"nested"``.
    link_backend : str, optional
        Link backend, ``"aer"`` or ``"batch"`` (default: the prepared network's, ``"aer"`` for a graph).
    trace : bool
        Record every event in ``run.trace``.
    progress : callable, optional
        ``progress(t_s, duration_s)`` now and then.
    occupancy_bins : int
        Time slices of each node's occupancy over time (``NodeRecord.occupied_over_time``;
        default 20, 0: none).
    purify : str or None
        ``"dejmps"`` or ``"bbpssw"`` purifies every elementary link once before it is used, as
        ``qnet chain --purify`` (two memories per node and link); None (default): raw links.
    twirl : bool
        BBPSSW re-twirls its output (default True).
    loop : str
        Event loop, one of :data:`qnet.repeater.choices.EVENT_LOOPS`: ``"auto"`` (default: the
        rules compiled with numba when it is installed and the run lasts), ``"compiled"`` (needs
        ``pip install 'qnet[fast]'``) or ``"python"`` (the same rules, not compiled); every loop
        gives the same run to the last bit (:class:`qnet.repeater.engine.core.Engine`).

    Returns
    -------
    TrafficRun
        A Ctrl-C stops the clock and returns what was finished (``interrupted=True``).

    Raises
    ------
    ConfigError
        A bad option, request field, or a node without a memory for a link a route uses; the
        compiled loop without numba.
    NetworkError
        A pair that no route joins, a GHZ request without a hub.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.traffic import Request, simulate_traffic
    >>> graph = qnet.load_network("examples/metro_ion_network.toml")
    >>> run = simulate_traffic(graph, [Request("campus", "airport"), Request("north", "downtown")], duration_s=20.0, seed=1)
    >>> [len(r.fidelity) > 0 for r in run.requests], run.simulated_time_s
    ([True, True], 20.0)
    """
    duration = _check_options(duration_s, memory_policy, metric, k_paths, swap_policy)
    if purify is not None and purify not in PROTOCOLS:
        raise ConfigError("traffic", "purify", purify, f"one of {', '.join(PROTOCOLS)} (or None: raw links)")
    if isinstance(occupancy_bins, bool) or not isinstance(occupancy_bins, int) or not 0 <= occupancy_bins <= 10_000:
        raise ConfigError("traffic", "occupancy_bins", occupancy_bins, "an integer from 0 (none) to 10000")
    use_compiled(loop)  # (checked before the links are simulated)
    requests = list(requests)
    if not requests:
        raise ConfigError("traffic", "requests", "[]", "at least one request")
    net = prepare_network(graph)
    check_parties(net, requests)
    needs_results = metric not in ("length", "hops") and any(r.c is None for r in requests)
    routes = choose_routes(net, requests, metric, k_paths, net.link_results(link_backend) if needs_results else None)
    build = TrafficLinks(net, routes, [r.c is not None for r in requests], link_backend, purify, twirl)
    users: dict[int, int] = {}
    eroutes = [build.route(hops, req.c is not None, swap_policy) for req, hops in zip(requests, routes)]
    for er in eroutes:
        for g in er.hops:
            users[g] = users.get(g, 0) + 1
    especs = [
        EngineRequest(
            er,
            req.priority,
            req.rate_hz,
            req.start_s,
            req.stop_s,
            share=tuple(_share(build.links[g], users[g], purify) for g in er.hops),
        )
        for req, er in zip(requests, eroutes)
    ]
    tie = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    eng = Engine(
        build.links, especs, build.names, memory_policy, np.random.default_rng(seed), tie, trace=trace, loop=loop
    )
    interrupted = False
    try:
        eng.run(duration, None if progress is None else (lambda t: progress(t, duration)), occupancy_bins)
    except KeyboardInterrupt:
        interrupted = True
    end = min(eng.now, duration) if interrupted else duration
    areas = eng.close(end)
    run = _records(
        net, requests, routes, build, eng, areas, end, duration, seed, memory_policy, swap_policy, interrupted
    )
    return _with_occupancy_over_time(run, eng, areas[0], duration, occupancy_bins)


def _share(link, users: int, purify: str | None) -> int:
    """Memories a request reserves at each end of a link: an even share (both copies to purify)."""
    return 2 if purify is not None else max(1, min(link.cap_a, link.cap_b) // users)


def _with_occupancy_over_time(
    run: TrafficRun, eng: Engine, final: list[float], duration: float, bins: int
) -> TrafficRun:
    """The nodes' mean memories in use per time slice (complete slices only when interrupted)."""
    if bins == 0:
        return run
    width = duration / bins
    cum = list(getattr(eng, "snapshots", []))
    if not run.interrupted:
        cum = cum + [final]
    series = np.diff(np.array([[0.0] * len(final)] + cum), axis=0).T / width  # (nodes, slices)
    nodes = tuple(
        dataclasses.replace(n, occupied_over_time=tuple(float(x) for x in series[k])) for k, n in enumerate(run.nodes)
    )
    return dataclasses.replace(run, nodes=nodes, occupancy_bin_s=width)


def _records(
    graph, requests, routes, build, eng, areas, end, duration, seed, policy, swap_policy, interrupted
) -> TrafficRun:
    recs = []
    fid_by_request = []
    for r, (req, hops) in enumerate(zip(requests, routes)):
        done = [d for d in eng.requests[r].done if d.time_s < end]
        fids = delivered_fidelities(
            graph,
            hops,
            build.spec_of,
            done,
            req.c is not None,
            swap_policy,
            build.purify,
            build.twirl,
            build.route_sources(hops),
        )
        fid_by_request.append(fids)
        paths = (
            tuple((h.node_a, h.node_b) for h in hops)
            if req.c is not None
            else (tuple([hops[0].node_a] + [h.node_b for h in hops]),)
        )
        recs.append(
            RequestRecord(
                request=req,
                paths=paths,
                delivery_time_s=np.array([d.time_s for d in done], dtype=float),
                latency_s=np.array([d.latency_s for d in done], dtype=float),
                fidelity=fids,
                demanded=None
                if req.rate_hz is None
                else demands_before(req.start_s, req.rate_hz, min(req.stop_s, end)),
                active_s=max(0.0, min(req.stop_s, end) - req.start_s),
            )
        )
    nodes = tuple(
        NodeRecord(n, eng.node_memories[k], areas[0][k] / end if end > 0 else 0.0, eng.node_peak[k])
        for k, n in enumerate(build.names)
    )
    links = tuple(
        LinkRecord(
            h.node_a,
            h.node_b,
            h.station,
            min(lk.cap_a, lk.cap_b),
            areas[1][g] / (end * (lk.cap_a + lk.cap_b)) if end > 0 else 0.0,
            eng.heralds[g],
        )
        for g, (h, lk) in enumerate(zip(build.canon, build.links))
    )
    return TrafficRun(
        tuple(recs),
        nodes,
        links,
        duration,
        end,
        seed,
        policy,
        interrupted,
        _trace_columns(eng.rows, fid_by_request) if eng.record else None,
    )


def _trace_columns(rows: list[tuple], fids: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Columns of the trace; each delivery row gets its fidelity."""
    seen = [0] * len(fids)
    out = []
    for row in rows:
        if row[1] == "delivery":
            r = row[6]
            f = fids[r][seen[r]] if seen[r] < len(fids[r]) else math.nan
            seen[r] += 1
            row = row[:-1] + (float(f),)
        out.append(row)
    cols = list(zip(*out)) if out else [()] * len(TRACE_COLUMNS)
    kinds = (float, object, int, int, int, int, int, object, object, object, int, int, object, float)
    return {name: np.array(c, dtype=k) for name, c, k in zip(TRACE_COLUMNS, cols, kinds)}
