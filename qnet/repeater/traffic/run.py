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

from qnet.errors import ConfigError, NetworkError
from qnet.link.distinct import run_specs
from qnet.link.multiplexing import link_shares
from qnet.link.spec import link_spec
from qnet.network.hardware import MemoryNode
from qnet.repeater.choices import METRICS, SWAP_POLICIES, TRAFFIC_POLICIES
from qnet.repeater.engine import Engine, EngineLink, EngineRequest, EngineRoute
from qnet.repeater.routing import Hop, all_link_results, k_best_paths, link_graph
from qnet.repeater.traffic.records import TRACE_COLUMNS, LinkRecord, NodeRecord, RequestRecord, TrafficRun
from qnet.repeater.traffic.requests import Request
from qnet.repeater.traffic.states import delivered_fidelities

__all__ = ["simulate_traffic", "link_memories", "choose_routes"]


def link_memories(graph: nx.Graph, lg: nx.MultiGraph) -> dict[tuple[str, str], int]:
    """Memories each node gives each elementary link it joins in the whole network.

    ``memories // links joined``, or a node's ``memory_split`` for the links it lists and the
    rest split evenly over the others (:func:`qnet.link.multiplexing.link_shares`; here a share
    may be 0, which is refused only for links a route uses). ``memories`` unset: one per link.
    Keys are (node, station).

    Parameters
    ----------
    graph : networkx.Graph
        The network.
    lg : networkx.MultiGraph
        Its link graph (:func:`qnet.repeater.routing.link_graph`).

    Returns
    -------
    dict
        (node, station) -> memories (0 when the node has fewer memories than links).

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.routing import link_graph
    >>> from qnet.repeater.traffic.run import link_memories
    >>> graph = qnet.load_network("examples/metro_ion_network.toml")
    >>> link_memories(graph, link_graph(graph))[("campus", "s_cd")]
    1
    """
    out = {}
    for n in lg.nodes:
        hw = graph.nodes[n]["hardware"]
        shares = link_shares(n, hw.memories, hw.memory_split, [s for _u, _v, s in lg.edges(n, keys=True)], strict=False)
        out.update(((n, s), k) for s, k in shares.items())
    return out


def _check_parties(graph: nx.Graph, requests: Sequence[Request]) -> None:
    for i, req in enumerate(requests):
        if not isinstance(req, Request):
            raise ConfigError("requests", f"[{i}]", type(req).__name__, "a qnet.repeater.traffic.Request")
        for key, name in zip("abc", req.parties):
            if name not in graph or not isinstance(graph.nodes[name]["hardware"], MemoryNode):
                what = "a station" if name in graph else "not in the network"
                raise ConfigError(f"requests[{i}]", key, name, f"a memory node of the network ({name!r} is {what})")


def _ghz_legs(graph: nx.Graph, lg: nx.MultiGraph, i: int, req: Request) -> list[Hop]:
    """The three legs hub - party of a GHZ request: the hub is joined to all three by links."""
    hubs = [h for h in lg.nodes if h not in req.parties and all(lg.has_edge(h, p) for p in req.parties)]
    if not hubs:
        raise NetworkError(
            f"requests[{i}]: no memory node is joined by elementary links to {req.a!r}, {req.b!r} and {req.c!r} "
            "(a GHZ request is fused at such a hub, an entanglement switch)"
        )
    hub = sorted(hubs)[0]
    return [Hop(p, hub, sorted(lg[p][hub])[0]) for p in req.parties]


def choose_routes(graph: nx.Graph, requests: Sequence[Request], metric: str, k_paths: int, link_results: dict | None,
                  lg: nx.MultiGraph | None = None) -> list[list[Hop]]:
    """One route per request: the best under ``metric``, or among the ``k_paths`` best the least loaded.

    Load spreading is greedy in request order: a request takes the candidate whose busiest link
    already carries the fewest routes (ties: the cheaper candidate). A GHZ request's route is its
    three legs (party -> hub).

    Parameters
    ----------
    graph : networkx.Graph
    requests : sequence of Request
    metric : str
        One of :data:`qnet.repeater.choices.METRICS`.
    k_paths : int
        Candidates per request (>= 1).
    link_results : dict or None
        Link results by hop (for the fidelity and rate metrics).
    lg : networkx.MultiGraph, optional
        The link graph, when the caller has it.

    Returns
    -------
    list of list of Hop

    Raises
    ------
    NetworkError
        A pair no route joins (naming the request), or a GHZ request without a hub.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.traffic import Request
    >>> from qnet.repeater.traffic.run import choose_routes
    >>> graph = qnet.load_network("examples/metro_ion_network.toml")
    >>> reqs = [Request("campus", "airport"), Request("campus", "airport")]
    >>> [[h.node_b for h in r] for r in choose_routes(graph, reqs, "hops", 2, None)]
    [['harbour', 'airport'], ['north', 'airport']]
    """
    lg = link_graph(graph) if lg is None else lg
    load: dict[str, int] = {}
    routes = []
    for i, req in enumerate(requests):
        if req.c is not None:
            route = _ghz_legs(graph, lg, i, req)
        else:
            try:
                candidates = k_best_paths(graph, req.a, req.b, k_paths, metric, link_results, lg)
            except NetworkError as exc:
                raise NetworkError(f"requests[{i}] ({req.a} - {req.b}): {exc}") from None
            route = min(candidates, key=lambda hops: max(load.get(h.station, 0) for h in hops))
        for h in route:
            load[h.station] = load.get(h.station, 0) + 1
        routes.append(route)
    return routes


def _check_options(duration_s: Any, policy: str, metric: str, k_paths: Any, swap_policy: str) -> float:
    d = float(duration_s) if isinstance(duration_s, (int, float)) and not isinstance(duration_s, bool) else math.nan
    if not (0.0 < d < math.inf):
        raise ConfigError("traffic", "duration_s", duration_s, "a simulated time > 0 in seconds (finite)")
    for name, value, allowed in (("policy", policy, TRAFFIC_POLICIES), ("metric", metric, METRICS), ("swap_policy", swap_policy, SWAP_POLICIES)):
        if value not in allowed:
            raise ConfigError("traffic", name, value, f"one of {', '.join(allowed)}")
    if isinstance(k_paths, bool) or not isinstance(k_paths, int) or k_paths < 1:
        raise ConfigError("traffic", "k_paths", k_paths, "an integer >= 1 (candidate routes per request)")
    return d


class _Build:
    """The engine's links and routes for a set of routes (link ids by (frozenset(ends), station))."""

    def __init__(self, graph: nx.Graph, lg: nx.MultiGraph, routes: list[list[Hop]], ghz: list[bool], engine: str):
        mems = link_memories(graph, lg)
        self.names = sorted(lg.nodes)
        index = {n: k for k, n in enumerate(self.names)}
        self.ids: dict[tuple, int] = {}
        canon: list[Hop] = []
        interior: dict[int, set[str]] = {}
        for hops, fused in zip(routes, ghz):
            path = [hops[0].node_a] + [h.node_b for h in hops]
            for k, h in enumerate(hops):
                key = (frozenset((h.node_a, h.node_b)), h.station)
                if key not in self.ids:
                    self.ids[key] = len(canon)
                    canon.append(h)
                g = self.ids[key]
                inner = interior.setdefault(g, set())
                if fused:  # a GHZ leg party -> hub: the hub holds it as an inner node
                    inner.add(h.node_b)
                else:
                    inner.update(n for n in (path[k], path[k + 1]) if n not in (path[0], path[-1]))
        oriented = sorted({tuple(h) for hops in routes for h in hops} | {tuple(h) for h in canon})
        specs = [link_spec(graph, *h) for h in oriented]
        results = run_specs(specs, engine=engine)
        self.spec_of = {h: (s, r) for h, s, r in zip(oriented, specs, results)}
        self.links = []
        for g, h in enumerate(canon):
            caps = [mems[(n, h.station)] for n in (h.node_a, h.node_b)]
            for n, cap in zip((h.node_a, h.node_b), caps):
                if cap < 1:
                    hw = graph.nodes[n]["hardware"]
                    raise ConfigError(f"nodes.{n}", "memories", hw.memories,
                                      f"{n!r} joins {lg.degree(n)} elementary links; a route uses link {h.station}, so it needs at least one memory per link")
            cut = min([graph.nodes[n]["hardware"].cutoff_s for n in interior[g]], default=math.inf)
            res = self.spec_of[tuple(h)][1]
            self.links.append(EngineLink(p=res.success_probability, attempt_time_s=res.attempt_time_s,
                                         node_a=index[h.node_a], node_b=index[h.node_b], cap_a=caps[0], cap_b=caps[1],
                                         cutoff_s=cut, name=h.station))
        self.canon = canon

    def route(self, graph: nx.Graph, hops: list[Hop], ghz: bool, swap_policy: str) -> EngineRoute:
        ids = [self.ids[(frozenset((h.node_a, h.node_b)), h.station)] for h in hops]
        left = tuple(0 if self.canon[g].node_a == h.node_a else 1 for g, h in zip(ids, hops))
        if ghz:
            hub = graph.nodes[hops[0].node_b]["hardware"]
            return EngineRoute(tuple(ids), left, (math.inf, hub.cutoff_s), (1.0, 1.0), (0.0, hub.swap_time_s),
                               hub=self.names.index(hops[0].node_b))
        inner = [graph.nodes[h.node_a]["hardware"] for h in hops[1:]]
        return EngineRoute(tuple(ids), left, (math.inf, *[hw.cutoff_s for hw in inner], math.inf),
                           (1.0,) * (len(hops) + 1), (0.0, *[hw.swap_time_s for hw in inner], 0.0),
                           nested=swap_policy == "nested")


def simulate_traffic(
    graph: nx.Graph,
    requests: Sequence[Request],
    *,
    duration_s: float,
    seed: int | None = None,
    policy: str = "shared",
    metric: str = "hops",
    k_paths: int = 1,
    swap_policy: str = "asap",
    engine: str = "aer",
    trace: bool = False,
    progress: Callable[[float, float], None] | None = None,
    occupancy_bins: int = 20,
) -> TrafficRun:
    """Serve ``requests`` on ``graph`` for ``duration_s`` simulated seconds.

    Parameters
    ----------
    graph : networkx.Graph
        The network (:func:`qnet.load_network`).
    requests : sequence of Request
        The requests (file order is kept in the result).
    duration_s : float
        Simulated time (s), > 0.
    seed : int, optional
        Makes the run reproducible.
    policy : str
        ``"shared"`` (default) or ``"reserve"`` (:mod:`qnet.repeater.engine`).
    metric : str
        Route cost, one of :data:`qnet.repeater.choices.METRICS` (default ``"hops"``).
    k_paths : int
        Candidate routes per request; > 1 spreads load (:func:`choose_routes`).
    swap_policy : str
        ``"asap"`` (default) or ``"nested"``.
    engine : str
        Link engine, ``"aer"`` (default) or ``"batch"``.
    trace : bool
        Record every event in ``run.trace``.
    progress : callable, optional
        ``progress(t_s, duration_s)`` now and then.
    occupancy_bins : int
        Time slices of each node's occupancy over time (``NodeRecord.occupied_over_time``;
        default 20, 0: none).

    Returns
    -------
    TrafficRun
        A Ctrl-C stops the clock and returns what was finished (``interrupted=True``).

    Raises
    ------
    ConfigError
        A bad option, request field, or a node without a memory for a link a route uses.
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
    duration = _check_options(duration_s, policy, metric, k_paths, swap_policy)
    if isinstance(occupancy_bins, bool) or not isinstance(occupancy_bins, int) or not 0 <= occupancy_bins <= 10_000:
        raise ConfigError("traffic", "occupancy_bins", occupancy_bins, "an integer from 0 (none) to 10000")
    requests = list(requests)
    if not requests:
        raise ConfigError("traffic", "requests", "[]", "at least one request")
    _check_parties(graph, requests)
    needs_results = metric in ("fidelity", "rate") and any(r.c is None for r in requests)
    lg = link_graph(graph)
    routes = choose_routes(graph, requests, metric, k_paths, all_link_results(graph, engine) if needs_results else None, lg)
    build = _Build(graph, lg, routes, [r.c is not None for r in requests], engine)
    users: dict[int, int] = {}
    eroutes = [build.route(graph, hops, req.c is not None, swap_policy) for req, hops in zip(requests, routes)]
    for er in eroutes:
        for g in er.hops:
            users[g] = users.get(g, 0) + 1
    especs = [
        EngineRequest(er, req.priority, req.rate_hz, req.start_s, req.stop_s,
                      share=tuple(max(1, min(build.links[g].cap_a, build.links[g].cap_b) // users[g]) for g in er.hops))
        for req, er in zip(requests, eroutes)
    ]
    tie = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    eng = Engine(build.links, especs, build.names, policy, np.random.default_rng(seed), tie, trace=trace)
    interrupted = False
    try:
        eng.run(duration, None if progress is None else (lambda t: progress(t, duration)), occupancy_bins)
    except KeyboardInterrupt:
        interrupted = True
    end = min(eng.now, duration) if interrupted else duration
    areas = eng.close(end)
    run = _records(graph, requests, routes, build, eng, areas, end, duration, seed, policy, swap_policy, interrupted)
    return _with_occupancy_over_time(run, eng, areas[0], duration, occupancy_bins)


def _with_occupancy_over_time(run: TrafficRun, eng: Engine, final: list[float], duration: float, bins: int) -> TrafficRun:
    """The nodes' mean memories in use per time slice (complete slices only when interrupted)."""
    if bins == 0:
        return run
    width = duration / bins
    cum = list(getattr(eng, "snapshots", []))
    if not run.interrupted:
        cum = cum + [final]
    series = np.diff(np.array([[0.0] * len(final)] + cum), axis=0).T / width  # (nodes, slices)
    nodes = tuple(dataclasses.replace(n, occupied_over_time=tuple(float(x) for x in series[k])) for k, n in enumerate(run.nodes))
    return dataclasses.replace(run, nodes=nodes, occupancy_bin_s=width)


def _records(graph, requests, routes, build, eng, areas, end, duration, seed, policy, swap_policy, interrupted) -> TrafficRun:
    recs = []
    fid_by_request = []
    for r, (req, hops) in enumerate(zip(requests, routes)):
        done = [d for d in eng.requests[r].done if d.time_s < end]
        fids = delivered_fidelities(graph, hops, build.spec_of, done, req.c is not None, swap_policy)
        fid_by_request.append(fids)
        paths = tuple((h.node_a, h.node_b) for h in hops) if req.c is not None else (tuple([hops[0].node_a] + [h.node_b for h in hops]),)
        recs.append(RequestRecord(
            request=req, paths=paths,
            delivery_time_s=np.array([d.time_s for d in done], dtype=float),
            latency_s=np.array([d.latency_s for d in done], dtype=float), fidelity=fids,
            demanded=None if req.rate_hz is None else eng.requests[r].demanded,
            active_s=max(0.0, min(req.stop_s, end) - req.start_s),
        ))
    nodes = tuple(
        NodeRecord(n, eng.node_memories[k], areas[0][k] / end if end > 0 else 0.0, eng.node_peak[k])
        for k, n in enumerate(build.names)
    )
    links = tuple(
        LinkRecord(h.node_a, h.node_b, h.station, min(lk.cap_a, lk.cap_b),
                   areas[1][g] / (end * (lk.cap_a + lk.cap_b)) if end > 0 else 0.0, eng.heralds[g])
        for g, (h, lk) in enumerate(zip(build.canon, build.links))
    )
    return TrafficRun(tuple(recs), nodes, links, duration, end, seed, policy, interrupted,
                      _trace_columns(eng.rows, fid_by_request) if eng.record else None)


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
