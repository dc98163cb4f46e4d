"""What a traffic run is made of: memories per link, one route per request, the engine's links.

:func:`link_memories` (a node's memories over the links it joins), :func:`choose_routes` (the
metric's best route, or the least loaded of the k best; a GHZ request's three legs to its hub)
and :class:`TrafficLinks` (every link a route uses: simulated once per distinct spec, its
memories, its cutoff, optionally purified; and each request's route for the engine).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import networkx as nx

from qnet.errors import ConfigError, NetworkError
from qnet.link.prepared import PreparedNetwork, prepare_network
from qnet.repeater.engine.model import check_link_memories
from qnet.repeater.engine import EngineLink, EngineRoute
from qnet.repeater.routing import Hop, k_best_paths
from qnet.repeater.traffic.requests import Request

__all__ = ["link_memories", "check_parties", "choose_routes", "TrafficLinks"]


def link_memories(graph: nx.Graph | PreparedNetwork, lg: nx.MultiGraph | None = None) -> dict[tuple[str, str], int]:
    """Memories each node gives each elementary link it joins in the whole network.

    ``memories // links joined``, or a node's ``memory_split`` for the links it lists and the
    rest split evenly over the others: the network's one rule with every link a node joins in
    use (:meth:`qnet.link.prepared.PreparedNetwork.network_memories`; here a share may be 0,
    which is refused only for links a route uses). ``memories`` unset: one per link. Keys are
    (node, station). A node would give more than the event engine follows to one link: refused
    (:func:`qnet.repeater.engine.model.check_link_memories`).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    lg : networkx.MultiGraph, optional
        Unused (the network's own link graph is used); kept for callers that pass it.

    Returns
    -------
    dict
        (node, station) -> memories (0 when the node has fewer memories than links).

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.routing import link_graph
    >>> from qnet.repeater.traffic.setup import link_memories
    >>> graph = qnet.load_network("examples/metro_ion_network.toml")
    >>> link_memories(graph, link_graph(graph))[("campus", "s_cd")]
    1
    """
    net = prepare_network(graph)
    out = net.network_memories()
    by_node: dict[str, dict[str, int]] = {}
    for (n, s), k in out.items():
        by_node.setdefault(n, {})[s] = k
    for n, shares in by_node.items():
        check_link_memories(n, net.memory(n).memories, shares)
    return out


def check_parties(graph: nx.Graph | PreparedNetwork, requests: Sequence[Request]) -> None:
    net = prepare_network(graph)
    for i, req in enumerate(requests):
        if not isinstance(req, Request):
            raise ConfigError("requests", f"[{i}]", type(req).__name__, "a qnet.repeater.traffic.Request")
        for key, name in zip("abc", req.parties):
            if not net.is_memory(name):
                what = "a station" if name in net.graph else "not in the network"
                raise ConfigError(f"requests[{i}]", key, name, f"a memory node of the network ({name!r} is {what})")


def _ghz_legs(lg: nx.MultiGraph, i: int, req: Request) -> list[Hop]:
    """The three legs hub - party of a GHZ request: the hub is joined to all three by links."""
    hubs = [h for h in lg.nodes if h not in req.parties and all(lg.has_edge(h, p) for p in req.parties)]
    if not hubs:
        raise NetworkError(
            f"requests[{i}]: no memory node is joined by elementary links to {req.a!r}, {req.b!r} and {req.c!r} "
            "(a GHZ request is fused at such a hub, an entanglement switch)"
        )
    hub = sorted(hubs)[0]
    return [Hop(p, hub, sorted(lg[p][hub])[0]) for p in req.parties]


def choose_routes(
    graph: nx.Graph | PreparedNetwork,
    requests: Sequence[Request],
    metric: str,
    k_paths: int,
    link_results: dict | None,
    lg: nx.MultiGraph | None = None,
) -> list[list[Hop]]:
    """One route per request: the best under ``metric``, or among the ``k_paths`` best the least loaded.

    Load spreading is greedy in request order: a request takes the candidate whose busiest link
    already carries the fewest routes (ties: the cheaper candidate). A GHZ request's route is its
    three legs (party -> hub).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
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
    >>> from qnet.repeater.traffic.setup import choose_routes
    >>> graph = qnet.load_network("examples/metro_ion_network.toml")
    >>> reqs = [Request("campus", "airport"), Request("campus", "airport")]
    >>> [[h.node_b for h in r] for r in choose_routes(graph, reqs, "hops", 2, None)]
    [['harbour', 'airport'], ['north', 'airport']]
    """
    net = prepare_network(graph)
    lg = net.link_graph if lg is None else lg
    load: dict[str, int] = {}
    routes = []
    for i, req in enumerate(requests):
        if req.c is not None:
            route = _ghz_legs(lg, i, req)
        else:
            try:
                candidates = k_best_paths(net, req.a, req.b, k_paths, metric, link_results, lg)
            except NetworkError as exc:
                raise NetworkError(f"requests[{i}] ({req.a} - {req.b}): {exc}") from None
            route = min(candidates, key=lambda hops: max(load.get(h.station, 0) for h in hops))
        for h in route:
            load[h.station] = load.get(h.station, 0) + 1
        routes.append(route)
    return routes


class TrafficLinks:
    """The elementary links a set of routes uses, ready for the engine.

    Each link (a pair of memory nodes and a station) is simulated once per distinct spec, all in
    one run (:meth:`qnet.link.prepared.PreparedNetwork.results`: links the prepared network
    evaluated before are not simulated again); its memories are its ends' shares
    (:func:`link_memories`); a pair waiting in it obeys the cutoff of any end that is an inner
    node of a route using it (a GHZ request's hub included). With ``purify`` every link is
    purified once (:class:`qnet.repeater.chain.LinkPurification`, as ``qnet chain --purify``):
    each end devotes exactly two memories to it, and its pairs come from a
    :class:`~qnet.repeater.chain.sources.PurifiedSource`.

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    routes : list of list of Hop
        One route per request (a GHZ request: its legs party -> hub).
    ghz : list of bool
        Which routes are GHZ legs.
    link_backend : str, optional
        Link backend (default: the prepared network's, ``"aer"`` for a graph).
    purify : str or None
        ``"dejmps"``, ``"bbpssw"`` or None (raw links).
    twirl : bool
        BBPSSW re-twirls its output.

    Raises
    ------
    ConfigError
        A node without a memory (two, to purify) for a link a route uses.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.path import path_hops
    >>> from qnet.repeater.traffic.setup import TrafficLinks
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> route = path_hops(graph, ["alice", "r1", "r2"])
    >>> links = TrafficLinks(graph, [route], [False], "batch")
    >>> [(k.name, k.cap_a, k.cap_b) for k in links.links], links.route(route, False, "asap").hops
    ([('s1', 1, 1), ('s2', 1, 1)], (0, 1))
    """

    def __init__(
        self,
        graph: nx.Graph | PreparedNetwork,
        routes: list[list[Hop]],
        ghz: list[bool],
        link_backend: str | None = None,
        purify: str | None = None,
        twirl: bool = True,
    ):
        self.net = net = prepare_network(graph)
        self.names = sorted(net.link_graph.nodes)
        self.ids: dict[tuple, int] = {}
        self.canon: list[Hop] = []
        interior = self._index(routes, ghz)
        oriented = sorted({tuple(h) for hops in routes for h in hops} | {tuple(h) for h in self.canon})
        specs = [net.spec(*h) for h in oriented]
        self.spec_of = {h: (s, r) for h, s, r in zip(oriented, specs, net.results(specs, link_backend))}
        self.purify, self.twirl = purify, twirl
        mems = link_memories(net)
        index = {n: k for k, n in enumerate(self.names)}
        self.links, self.sources = [], []
        for g, h in enumerate(self.canon):
            caps = self._caps(mems, h)
            spec, res = self.spec_of[tuple(h)]
            source = None if purify is None else self._purified(h)
            cut = min([net.memory(n).cutoff_s for n in interior[g]], default=math.inf)
            self.links.append(
                EngineLink(
                    p=res.success_probability,
                    attempt_time_s=res.attempt_time_s,
                    node_a=index[h.node_a],
                    node_b=index[h.node_b],
                    cap_a=caps[0],
                    cap_b=caps[1],
                    cutoff_s=cut,
                    source=source,
                    name=h.station,
                )
            )
            self.sources.append(source)

    def _index(self, routes: list[list[Hop]], ghz: list[bool]) -> dict[int, set[str]]:
        """Number the links the routes use; the inner nodes of routes at each link's ends."""
        interior: dict[int, set[str]] = {}
        for hops, fused in zip(routes, ghz):
            path = [hops[0].node_a] + [h.node_b for h in hops]
            for k, h in enumerate(hops):
                key = (frozenset((h.node_a, h.node_b)), h.station)
                if key not in self.ids:
                    self.ids[key] = len(self.canon)
                    self.canon.append(h)
                inner = interior.setdefault(self.ids[key], set())
                if fused:  # a GHZ leg party -> hub: the hub holds it as an inner node
                    inner.add(h.node_b)
                else:
                    inner.update(n for n in (path[k], path[k + 1]) if n not in (path[0], path[-1]))
        return interior

    def _caps(self, mems: dict, h: Hop) -> tuple[int, int]:
        """The link's memories at each end (exactly 2 to purify: the two copies), checked."""
        need = 1 if self.purify is None else 2
        for n in (h.node_a, h.node_b):
            if mems[(n, h.station)] < need:
                what = "at least one memory per link" if need == 1 else "two memories per link to purify"
                raise ConfigError(
                    f"nodes.{n}",
                    "memories",
                    self.net.memory(n).memories,
                    f"{n!r} joins {self.net.link_graph.degree(n)} elementary links; a route uses link {h.station}, so it needs {what}",
                )
        if need == 2:
            return 2, 2
        return mems[(h.node_a, h.station)], mems[(h.node_b, h.station)]

    def _purified(self, h: Hop):
        """The purified source of link ``h`` in its own orientation."""
        from qnet.repeater.chain.sources import PurifiedSource
        from qnet.repeater.path import assemble_chain

        spec, res = self.spec_of[tuple(h)]
        chain = assemble_chain(self.net, [h], [spec], [res], [2, 2], "asap", self.purify, self.twirl)
        return PurifiedSource(chain.links[0])

    def route_sources(self, hops: list[Hop]) -> list | None:
        """The sources of a route's hops in the route's orientation (None: raw links)."""
        if self.purify is None:
            return None
        from qnet.repeater.chain.sources import MirroredSource

        ids = [self.ids[(frozenset((h.node_a, h.node_b)), h.station)] for h in hops]
        return [
            self.sources[g] if self.canon[g].node_a == h.node_a else MirroredSource(self.sources[g])
            for g, h in zip(ids, hops)
        ]

    def route(self, hops: list[Hop], ghz: bool, swap_policy: str) -> EngineRoute:
        """The engine's view of one route: link ids, sides, per-boundary cutoffs and swaps."""
        ids = [self.ids[(frozenset((h.node_a, h.node_b)), h.station)] for h in hops]
        left = tuple(0 if self.canon[g].node_a == h.node_a else 1 for g, h in zip(ids, hops))
        if ghz:
            hub = self.net.memory(hops[0].node_b)
            return EngineRoute(
                tuple(ids),
                left,
                (math.inf, hub.cutoff_s),
                (1.0, 1.0),
                (0.0, hub.swap_time_s),
                hub=self.names.index(hops[0].node_b),
            )
        inner = [self.net.memory(h.node_a) for h in hops[1:]]
        return EngineRoute(
            tuple(ids),
            left,
            (math.inf, *[hw.cutoff_s for hw in inner], math.inf),
            (1.0,) * (len(hops) + 1),
            (0.0, *[hw.swap_time_s for hw in inner], 0.0),
            nested=swap_policy == "nested",
        )
