"""Routes through a network: which elementary links, in which order, join two memory nodes.

The *link graph* has the memory nodes as vertices and one edge per elementary link
(memory - station - memory). A route is a path in it; each hop names its station.
:func:`best_path` picks a route by a documented cost (networkx ``shortest_path``):

* ``"fidelity"`` (default): minimise sum_i -ln w_i with w_i = (4 F_i - 1)/3 the Werner parameter
  of link i. For Werner links and perfect swaps the end-to-end parameter is prod_i w_i
  (``docs/literature.md`` §5.4), so this maximises the end-to-end fidelity before waiting.
* ``"rate"``: minimise sum_i 1/rate_i, the mean time to generate every link one after another
  (an upper bound on a swap-as-soon-as-possible chain's completion time).
* ``"length"``: minimise the total fibre length (km).
* ``"hops"``: the fewest elementary links.
* ``"key_rate"`` / ``"diqkd_key_rate"``: the highest BB84/BBM92 or DI-QKD secret-key rate under
  the route model of :mod:`qnet.repeater.keyroute` (not an additive cost: an exact best-first
  label-setting search, one route).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import networkx as nx

from qnet._deprecation import renamed_keywords
from qnet.errors import NetworkError
from qnet.link.prepared import PreparedNetwork, link_graph, prepare_network
from qnet.link.spec import find_station
from qnet.repeater.choices import KEY_METRICS, METRICS

__all__ = ["METRICS", "Hop", "link_graph", "explicit_path", "all_link_results", "best_path", "k_best_paths"]

#: Route costs of :func:`best_path` (module docstring).


class Hop(NamedTuple):
    """One elementary link of a path: memory ``node_a`` - ``station`` - memory ``node_b``.

    Examples
    --------
    >>> from qnet.repeater.routing import Hop
    >>> a, b, station = Hop("alice", "r1", "s1")
    >>> Hop("alice", "r1", "s1").station, station
    ('s1', 's1')
    """

    node_a: str
    node_b: str
    station: str


def _check_node(network: nx.Graph | PreparedNetwork, node: str) -> None:
    net = prepare_network(network)
    if not net.is_memory(node):
        net.hardware(node)  # an unknown node: the error names the network's nodes
        raise NetworkError(f"node {node!r} is a station; a path joins memory nodes")


def explicit_path(graph: nx.Graph | PreparedNetwork, nodes: Sequence[str]) -> list[Hop]:
    """The hops of a path given by its memory nodes in order (stations are found).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    nodes : sequence of str
        Memory nodes in path order (at least two, each once).

    Returns
    -------
    list of Hop

    Raises
    ------
    NetworkError
        An unknown node, a station, a repeated node, or two neighbours without a station.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.routing import explicit_path
    >>> [tuple(h) for h in explicit_path(graph, ["alice", "r1", "r2"])]
    [('alice', 'r1', 's1'), ('r1', 'r2', 's2')]
    """
    if len(nodes) < 2:
        raise NetworkError("a path needs at least two memory nodes")
    net = prepare_network(graph)
    for n in nodes:
        _check_node(net, n)
    if len(set(nodes)) != len(nodes):
        raise NetworkError(f"a path visits each node once: {' -> '.join(nodes)}")
    return [Hop(a, b, find_station(net.graph, a, b)) for a, b in zip(nodes, nodes[1:])]


@renamed_keywords(engine="link_backend")
def all_link_results(graph: nx.Graph | PreparedNetwork, link_backend: str | None = None) -> dict:
    """(a, b, station) -> :class:`~qnet.link.results.LinkResult` of every elementary link, one run.

    Each distinct link is simulated once (:func:`qnet.link.distinct.run_specs`); a prepared
    network keeps them (:meth:`qnet.link.prepared.PreparedNetwork.link_results`).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    link_backend : str, optional
        Link backend, one of :data:`qnet.link.choices.LINK_BACKENDS`: ``"aer"`` or ``"batch"``
        (default: the prepared network's, ``"aer"`` for a graph).

    Returns
    -------
    dict of Hop to LinkResult

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.routing import all_link_results
    >>> results = all_link_results(graph)
    >>> len(results), round(results[("alice", "r1", "s1")].fidelity, 4)
    (4, 0.973)
    """
    return prepare_network(graph).link_results(link_backend)


def best_path(
    graph: nx.Graph | PreparedNetwork, a: str, b: str, metric: str = "fidelity", link_results: dict | None = None
) -> list[Hop]:
    """The route from ``a`` to ``b`` minimising ``metric``'s cost (see the module docstring).

    ``link_results`` maps (a, b, station) -> :class:`~qnet.link.results.LinkResult` for the
    ``fidelity`` and ``rate`` metrics (either orientation); without it they are computed with
    :func:`all_link_results` (every elementary link in one Aer run).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    a, b : str
        The two end memory nodes.
    metric : str
        One of :data:`METRICS` (default ``"fidelity"``).
    link_results : dict, optional
        Link results by hop, for the ``fidelity`` and ``rate`` metrics.

    Returns
    -------
    list of Hop

    Raises
    ------
    NetworkError
        An unknown metric or node, equal ends, or no (usable) path.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.routing import best_path
    >>> [h.station for h in best_path(graph, "alice", "bob", metric="hops")]
    ['s1', 's2', 's3', 's4']
    """
    hops = k_best_paths(graph, a, b, 1, metric, link_results)[0]
    return hops


def _cost_function(graph: nx.Graph | PreparedNetwork, lg: nx.MultiGraph, metric: str, link_results: dict | None):
    """cost(u, v, station) of one elementary link under ``metric`` (module docstring)."""
    results: dict = {} if link_results is None else link_results
    if metric in ("fidelity", "rate") and link_results is None:
        results = all_link_results(graph)

    def cost(u: str, v: str, s: str) -> float:
        if metric == "length":
            return lg.edges[u, v, s]["length_km"]
        if metric == "hops":
            return 1.0
        r = results.get((u, v, s)) or results[(v, u, s)]
        if metric == "rate":
            return math.inf if r.rate_hz <= 0 else 1.0 / r.rate_hz
        w = (4.0 * r.fidelity - 1.0) / 3.0
        return math.inf if w <= 0 else -math.log(w)

    return cost


def k_best_paths(
    graph: nx.Graph | PreparedNetwork,
    a: str,
    b: str,
    k: int,
    metric: str = "fidelity",
    link_results: dict | None = None,
    lg: nx.MultiGraph | None = None,
) -> list[list[Hop]]:
    """Up to ``k`` loop-free routes from ``a`` to ``b``, cheapest first under ``metric``.

    The first is :func:`best_path`'s; the others follow in order of cost (networkx
    ``shortest_simple_paths``, Yen's algorithm) and differ in their sequence of memory nodes;
    between two adjacent nodes the cheapest station is used. Links delivering nothing are not
    used. The key-rate metrics give their one best route
    (:func:`qnet.repeater.keyroute.best_key_route`), whatever ``k``.

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    a, b : str
        The two end memory nodes.
    k : int
        Number of routes wanted (>= 1).
    metric : str
        One of :data:`METRICS` (default ``"fidelity"``).
    link_results : dict, optional
        Link results by hop, for the ``fidelity`` and ``rate`` metrics.
    lg : networkx.MultiGraph, optional
        The network's link graph (:func:`link_graph`), when the caller already has it.

    Returns
    -------
    list of list of Hop
        At least one route.

    Raises
    ------
    NetworkError
        An unknown metric or node, equal ends, or no (usable) path.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.routing import k_best_paths
    >>> graph = qnet.load_network("examples/metro_ion_network.toml")
    >>> for route in k_best_paths(graph, "campus", "airport", 2, metric="hops"):
    ...     print([h.node_a for h in route] + [route[-1].node_b])
    ['campus', 'harbour', 'airport']
    ['campus', 'north', 'airport']
    """
    if metric not in METRICS:
        raise NetworkError(f"metric = {metric!r} is invalid: one of {', '.join(METRICS)}")
    net = prepare_network(graph)
    _check_node(net, a)
    _check_node(net, b)
    if a == b:
        raise NetworkError(f"a path needs two different nodes, got {a!r} twice")
    if metric in KEY_METRICS:
        from qnet.repeater.keyroute import best_key_route

        return [list(best_key_route(net, a, b, metric, link_results).hops)]
    lg = net.link_graph if lg is None else lg
    cost = _cost_function(net, lg, metric, link_results)
    weights: dict[tuple[str, str], float] = {}

    def weight(u: str, v: str, edges: dict) -> float:
        w = weights.get((u, v))
        if w is None:
            w = weights[(u, v)] = min(cost(u, v, s) for s in edges)
        return w

    def hops_of(nodes: list[str]) -> list[Hop]:
        return [Hop(u, v, min(lg[u][v], key=lambda key: cost(u, v, key))) for u, v in zip(nodes, nodes[1:])]

    def usable(hops: list[Hop]) -> bool:
        return not any(math.isinf(cost(*h)) for h in hops)

    try:
        first = nx.shortest_path(lg, a, b, weight=weight)
    except nx.NetworkXNoPath:
        raise NetworkError(f"no path of elementary links joins {a!r} and {b!r}") from None
    routes = [hops_of(first)] if usable(hops_of(first)) else []
    if k > 1 and routes:
        simple = nx.Graph()
        simple.add_nodes_from(lg.nodes)
        for u, v in lg.edges():
            w = weight(u, v, lg[u][v])
            if not math.isinf(w):
                simple.add_edge(u, v, weight=w)
        for nodes in nx.shortest_simple_paths(simple, a, b, weight="weight"):
            if nodes != first:
                routes.append(hops_of(nodes))
            if len(routes) == k:
                break
    if not routes:
        bad = next(h for h in hops_of(first) if math.isinf(cost(*h)))
        raise NetworkError(
            f"no usable path joins {a!r} and {b!r}: link {bad.node_a}-{bad.node_b} delivers nothing ({metric})"
        )
    return routes
