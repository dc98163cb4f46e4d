"""The network prepared once: its link graph, every link's spec and result, memories per link.

:func:`prepare_network` reads a network graph once into a :class:`PreparedNetwork`, the object
the repeater layer works on (``simulate_path``, ``compare_path``, ``purify_link``,
``simulate_traffic`` and routing accept one wherever they accept a graph). It holds

* the *link graph*: memory nodes joined by one edge per elementary link (:func:`link_graph`);
* each node's hardware (:meth:`PreparedNetwork.hardware`, :meth:`PreparedNetwork.memory`);
* each link's :class:`~qnet.link.spec.LinkSpec` (:meth:`PreparedNetwork.spec`) and, evaluated
  on first use and kept, its :class:`~qnet.link.results.LinkResult`
  (:meth:`PreparedNetwork.results`): every distinct physics (:func:`~qnet.link.distinct.physics_key`)
  is simulated once per network and link backend, however many calls ask for it;
* the one rule for memories per link (:meth:`PreparedNetwork.memory_shares`,
  ``docs/conventions.md`` §4): a node shares its ``memories`` among the links *in use* at it —
  the links of the route considered (one for an end node, two for a repeater; a link taken
  alone: that link) or, for traffic, every link it joins in the network
  (:meth:`PreparedNetwork.network_memories`). Links its ``memory_split`` lists get their
  listed number, the others split the rest evenly (``//``); ``memories`` unset: one per link.

A program that runs several studies on one network prepares it once and passes the prepared
network to each; the links they share are simulated once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import networkx as nx

from qnet.errors import NetworkError, QnetError
from qnet.link.choices import check_link_backend
from qnet.link.distinct import physics_key, run_specs
from qnet.link.multiplexing import link_shares
from qnet.link.results import LinkResult
from qnet.link.spec import ElementaryLink, LinkSpec, elementary_links, link_spec
from qnet.network.graph import DEFAULT_FIBRE_SPEED_KM_PER_S
from qnet.network.hardware import MemoryNode, Station

__all__ = ["PreparedNetwork", "prepare_network", "link_graph"]


def link_graph(graph: nx.Graph) -> nx.MultiGraph:
    """Memory nodes joined by one edge per elementary link (edge key and attribute: the station).

    Parameters
    ----------
    graph : networkx.Graph
        A network (:func:`qnet.load_network`).

    Returns
    -------
    networkx.MultiGraph
        Edges carry ``station`` and ``length_km`` (total fibre, km).

    Examples
    --------
    >>> import qnet
    >>> lg = link_graph(qnet.load_network("examples/ion_repeater_chain.toml"))
    >>> sorted(lg.nodes), lg.number_of_edges()
    (['alice', 'bob', 'r1', 'r2', 'r3'], 4)
    """
    lg = nx.MultiGraph()
    lg.add_nodes_from(n for n, d in graph.nodes(data=True) if isinstance(d["hardware"], MemoryNode))
    for a, b, s in elementary_links(graph):
        length = graph.edges[a, s]["fibre"].length_km + graph.edges[s, b]["fibre"].length_km
        lg.add_edge(a, b, key=s, station=s, length_km=length)
    return lg


@dataclass(frozen=True, eq=False)
class PreparedNetwork:
    """A network read once for the link layer and above (module docstring); build it with :func:`prepare_network`.

    Parameters
    ----------
    graph : networkx.Graph
        The network (:func:`qnet.load_network`); treat it as read-only once prepared (the
        specs and results kept here are those of the graph as it was).
    link_backend : str
        Link backend of :meth:`results` when a call names none, one of
        :data:`qnet.link.choices.LINK_BACKENDS`.

    Examples
    --------
    >>> import qnet
    >>> net = qnet.prepare_network(qnet.load_network("examples/ion_repeater_chain.toml"), link_backend="batch")
    >>> len(net.links), net.memory("r1").name, round(net.result("alice", "r1").fidelity, 4)
    (4, 'r1', 0.973)
    """

    graph: nx.Graph
    link_backend: str = "aer"
    _specs: dict = field(default_factory=dict, init=False, repr=False)
    _results: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        check_link_backend(self.link_backend)

    @cached_property
    def link_graph(self) -> nx.MultiGraph:
        """The link graph (:func:`link_graph`), built once."""
        return link_graph(self.graph)

    @cached_property
    def links(self) -> tuple[ElementaryLink, ...]:
        """Every elementary link (:func:`~qnet.link.spec.elementary_links`), sorted."""
        return tuple(elementary_links(self.graph))

    @property
    def fibre_speed_km_per_s(self) -> float:
        """Speed of light in the network's fibre (km/s; ``network.fibre_speed_km_per_s``)."""
        return self.graph.graph.get("fibre_speed_km_per_s", DEFAULT_FIBRE_SPEED_KM_PER_S)

    def hardware(self, name: str) -> MemoryNode | Station:
        """The hardware of node ``name`` (a memory node or a station).

        Raises
        ------
        NetworkError
            An unknown node (naming the network's nodes).
        """
        try:
            return self.graph.nodes[name]["hardware"]
        except KeyError:
            raise NetworkError(f"unknown node {name!r} (nodes: {', '.join(sorted(map(str, self.graph)))})") from None

    def is_memory(self, name: str) -> bool:
        """True when ``name`` is a memory node of the network (False for a station or an unknown name)."""
        return name in self.graph and isinstance(self.graph.nodes[name]["hardware"], MemoryNode)

    def memory(self, name: str) -> MemoryNode:
        """The hardware of memory node ``name``.

        Raises
        ------
        NetworkError
            An unknown node, or a station.
        """
        hw = self.hardware(name)
        if not isinstance(hw, MemoryNode):
            raise NetworkError(f"node {name!r} is a station, not a memory node")
        return hw

    def spec(self, a: str, b: str, station: str | None = None) -> LinkSpec:
        """The :class:`~qnet.link.spec.LinkSpec` of link ``a`` - station - ``b`` (:func:`~qnet.link.spec.link_spec`), kept.

        Raises
        ------
        NetworkError, ConfigError
            As :func:`~qnet.link.spec.link_spec`.
        """
        key = (a, b, station)
        spec = self._specs.get(key)
        if spec is None:
            spec = self._specs[key] = link_spec(self.graph, a, b, station)
        return spec

    def results(
        self, specs: Sequence[LinkSpec], link_backend: str | None = None, shots: int | None = None
    ) -> list[LinkResult]:
        """The :class:`~qnet.link.results.LinkResult` of every spec; each distinct physics simulated once per network.

        Specs whose :func:`~qnet.link.distinct.physics_key` this network has evaluated before
        (on this backend) are not simulated again; the others are, all in one
        :func:`~qnet.link.distinct.run_specs` call. Every result carries its own spec's names
        and its own copy of the density matrix. Shots mode samples every spec afresh (no reuse:
        independent estimates).

        Parameters
        ----------
        specs : sequence of LinkSpec
            Links of this network (or any specs: the key is their physics).
        link_backend : str, optional
            ``"aer"`` or ``"batch"``; default the network's :attr:`link_backend`.
        shots : int, optional
            Sample ``shots`` per link instead of the exact state (:func:`~qnet.link.distinct.run_specs`).

        Returns
        -------
        list of LinkResult
            One per spec, in order.

        Raises
        ------
        QnetError
            An unknown link backend; as :func:`~qnet.link.run.run_links`.
        """
        backend = check_link_backend(self.link_backend if link_backend is None else link_backend)
        if shots is not None:
            return run_specs(list(specs), shots=shots, link_backend=backend)
        keys = [(backend, physics_key(s)) for s in specs]
        missing: dict = {}
        for spec, key in zip(specs, keys):
            if key not in self._results and key not in missing:
                missing[key] = spec
        if missing:
            self._results.update(zip(missing, run_specs(list(missing.values()), link_backend=backend)))
        return [_named(self._results[key], spec) for spec, key in zip(specs, keys)]

    def result(self, a: str, b: str, station: str | None = None, link_backend: str | None = None) -> LinkResult:
        """The exact :class:`~qnet.link.results.LinkResult` of link ``a`` - station - ``b`` (:meth:`results`)."""
        return self.results([self.spec(a, b, station)], link_backend)[0]

    def link_results(self, link_backend: str | None = None) -> dict[tuple[str, str, str], LinkResult]:
        """(a, b, station) -> exact :class:`~qnet.link.results.LinkResult` of every elementary link (:meth:`results`).

        Keys are the :attr:`links` (:class:`~qnet.link.spec.ElementaryLink`, in order).
        """
        out: dict[tuple[str, str, str], LinkResult] = {}
        out.update(zip(self.links, self.results([self.spec(*h) for h in self.links], link_backend)))
        return out

    def memory_shares(self, node: str, stations: Sequence[str], strict: bool = True) -> dict[str, int]:
        """Memories ``node`` devotes to each link in use at it (by station): the one rule (module docstring).

        Parameters
        ----------
        node : str
            A memory node.
        stations : sequence of str
            The stations of the links in use at ``node``: the route's links there (one or two),
            or every link it joins (:meth:`network_memories`).
        strict : bool
            Refuse a link that would get no memory (default); False gives it 0.

        Returns
        -------
        dict
            station -> memories, by :func:`qnet.link.multiplexing.link_shares`.

        Raises
        ------
        ConfigError
            Naming ``nodes.NODE.memories`` when ``strict`` and a link would get no memory.

        Examples
        --------
        >>> import qnet
        >>> g = qnet.load_network("examples/ion_repeater_chain.toml", ["nodes.r1.memories=5"])
        >>> net = qnet.prepare_network(g)
        >>> net.memory_shares("r1", ["s1", "s2"]), net.memory_shares("r1", ["s1"])
        ({'s1': 2, 's2': 2}, {'s1': 5})
        """
        hw = self.memory(node)
        return link_shares(node, hw.memories, hw.memory_split, stations, strict=strict)

    def route_memories(self, hops: Sequence[tuple[str, str, str]]) -> list[tuple[int, ...]]:
        """Memories each node of a route devotes to its route links: (one link) or (before, after).

        Parameters
        ----------
        hops : sequence of (a, b, station)
            The route, in order.

        Returns
        -------
        list of tuple of int
            Route order: a 1-tuple at each end, a pair (link before, link after) at a repeater.

        Raises
        ------
        ConfigError
            A node with too few memories for its links on the route.

        Examples
        --------
        >>> import qnet
        >>> g = qnet.load_network("examples/ion_repeater_chain.toml", ["nodes.r1.memories=4"])
        >>> qnet.prepare_network(g).route_memories([("alice", "r1", "s1"), ("r1", "r2", "s2")])
        [(1,), (2, 2), (1,)]
        """
        path = [hops[0][0]] + [h[1] for h in hops]
        out = []
        for k, n in enumerate(path):
            stations = [h[2] for h in hops[max(k - 1, 0) : k + 1]]
            shares = self.memory_shares(n, stations)
            out.append(tuple(shares[s] for s in stations))
        return out

    def network_memories(self) -> dict[tuple[str, str], int]:
        """(node, station) -> memories each node devotes to each link it joins in the whole network.

        The rule of :meth:`memory_shares` with every link a node joins in use (traffic: many
        routes share a node); a share may be 0 here (too few memories), which the caller
        refuses only for links a route uses.

        Examples
        --------
        >>> import qnet
        >>> net = qnet.prepare_network(qnet.load_network("examples/metro_ion_network.toml"))
        >>> net.network_memories()[("campus", "s_cd")]
        1
        """
        out: dict[tuple[str, str], int] = {}
        lg = self.link_graph
        for n in lg.nodes:
            shares = self.memory_shares(n, [s for _u, _v, s in lg.edges(n, keys=True)], strict=False)
            out.update(((n, s), k) for s, k in shares.items())
        return out


def _named(result: LinkResult, spec: LinkSpec) -> LinkResult:
    """``result`` under ``spec``'s names, with its own copy of the density matrix."""
    return dataclasses.replace(
        result,
        node_a=spec.node_a,
        node_b=spec.node_b,
        station=spec.station,
        density_matrix=result.density_matrix.copy(),
    )


def prepare_network(graph: nx.Graph | PreparedNetwork, link_backend: str = "aer") -> PreparedNetwork:
    """The network read once (:class:`PreparedNetwork`); a prepared network is returned as it is.

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network (:func:`qnet.load_network`).
    link_backend : str
        Default link backend of its results: ``"aer"`` (default) or ``"batch"`` (ignored when
        ``graph`` is prepared already: it keeps its own).

    Returns
    -------
    PreparedNetwork

    Raises
    ------
    QnetError
        An unknown link backend, or ``graph`` not a network graph.

    Examples
    --------
    >>> import qnet
    >>> net = qnet.prepare_network(qnet.load_network("examples/ion_repeater_chain.toml"))
    >>> qnet.prepare_network(net) is net, net.link_graph.number_of_edges()
    (True, 4)
    """
    if isinstance(graph, PreparedNetwork):
        return graph
    if not isinstance(graph, nx.Graph):
        raise QnetError(f"a network is a graph (qnet.load_network) or a PreparedNetwork, not {type(graph).__name__}")
    return PreparedNetwork(graph, link_backend)
