"""A validated network graph from a raw network table: nodes with hardware, fibres as edges.

Graph layout: node attribute ``hardware`` (a :class:`~qnet.network.hardware.MemoryNode` or
:class:`~qnet.network.hardware.Station`), edge attribute ``fibre`` (:class:`~qnet.network.hardware.Fibre`),
graph attributes ``fibre_speed_km_per_s``, ``source``, ``name`` and ``description``.
The rules are listed in :mod:`qnet.network.io`.

:func:`network_data` validates a table into a :class:`NetworkData` (the same node and adjacency
layout in plain dicts); :func:`network_from_dict` turns that into the ``networkx.Graph``.
networkx is imported only there: a link sweep reads its link off the validated data and starts
without it (~0.1 s of imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from qnet.errors import ConfigError, QnetError
from qnet.network.fields import NETWORK_FIELDS
from qnet.network.hardware import NODE_KINDS, Fibre, MemoryNode, Station, shown_key, validate_value
from qnet.network.tables import apply_overrides

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = ["network_from_dict", "network_data", "NetworkData", "DEFAULT_FIBRE_SPEED_KM_PER_S"]

#: Speed of light in fibre (km/s) when ``[network]`` does not set ``fibre_speed_km_per_s``.
DEFAULT_FIBRE_SPEED_KM_PER_S = 2.0e5


@dataclass(frozen=True)
class NetworkData:
    """A validated network in networkx's layout, before it is a graph.

    Attributes
    ----------
    nodes : dict
        Node name -> ``{"hardware": MemoryNode or Station}``, in table order (as ``graph.nodes``).
    adj : dict
        Node name -> neighbour -> ``{"fibre": Fibre}`` (as ``graph.adj``).
    fibres : tuple of Fibre
        In table order (the order the graph's edges are added).
    attributes : dict
        ``fibre_speed_km_per_s`` (km/s), ``source``, ``name``, ``description`` (as ``graph.graph``).

    Examples
    --------
    >>> import tomllib
    >>> with open("examples/liu2026_ion_link.toml", "rb") as fh:
    ...     data = network_data(tomllib.load(fh))
    >>> sorted(data.adj["station"]), data.adj["alice"]["station"]["fibre"].length_km
    (['alice', 'bob'], 5.0)
    >>> graph = data.graph()
    >>> sorted(graph.edges) == sorted(tuple(sorted((f.a, f.b))) for f in data.fibres), graph.graph == data.attributes
    (True, True)
    """

    nodes: dict[str, dict[str, Any]]
    adj: dict[str, dict[str, dict[str, Any]]]
    fibres: tuple[Fibre, ...]
    attributes: dict[str, Any]

    def graph(self) -> "nx.Graph":
        """The ``networkx.Graph``: the nodes, then the fibres as edges, in table order."""
        import networkx as nx

        graph = nx.Graph(**self.attributes)
        graph.add_nodes_from((name, dict(d)) for name, d in self.nodes.items())
        graph.add_edges_from((f.a, f.b, {"fibre": f}) for f in self.fibres)
        return graph


def network_from_dict(data: Mapping[str, Any], source: str = "<dict>", overrides: Iterable[str] = ()) -> "nx.Graph":
    """Build and validate the network graph from a parsed network table.

    Parameters
    ----------
    data : Mapping
        The parsed TOML table (see the module docstring).
    source : str
        Where it came from (stored as the graph attribute ``source``).
    overrides : iterable of str
        ``--set`` arguments applied before validation.

    Returns
    -------
    networkx.Graph
        Nodes carry ``hardware``, edges ``fibre``.

    Raises
    ------
    QnetError
        One line naming the table, field and value of the first problem.

    Examples
    --------
    >>> table = {
    ...     "nodes": {"alice": {"kind": "memory", "t2_s": 1.0, "emission_efficiency": 0.5},
    ...               "mid": {"kind": "station", "scheme": "two_photon"}},
    ...     "fibres": [{"a": "alice", "b": "mid", "length_km": 2.0}],
    ... }
    >>> graph = network_from_dict(table, overrides=["fibres.alice-mid.length_km=3"])
    >>> sorted(graph), graph.edges["alice", "mid"]["fibre"].length_km, graph.graph["fibre_speed_km_per_s"]
    (['alice', 'mid'], 3.0, 200000.0)
    >>> network_from_dict({"nodes": {"alice": {"kind": "ion"}}})
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: nodes.alice.kind = 'ion' is invalid: one of 'memory', 'station'
    """
    return network_data(data, source, overrides).graph()


def network_data(data: Mapping[str, Any], source: str = "<dict>", overrides: Iterable[str] = ()) -> NetworkData:
    """Validate a parsed network table: :func:`network_from_dict` without building the graph.

    Parameters and errors as :func:`network_from_dict`.

    Returns
    -------
    NetworkData
        The validated nodes and fibres in networkx's layout.
    """
    data = apply_overrides(data, overrides)
    net = data.get("network", {})
    for key in net:
        if key not in NETWORK_FIELDS:
            raise ConfigError(
                "network", shown_key(key), net[key], "unknown field; allowed: " + ", ".join(NETWORK_FIELDS)
            )
    for key in ("name", "description"):
        if not isinstance(net.get(key, ""), str):
            raise ConfigError("network", key, net[key], "a string")
    speed = net.get("fibre_speed_km_per_s", DEFAULT_FIBRE_SPEED_KM_PER_S)
    speed = validate_value("network", "fibre_speed_km_per_s", "positive", speed)
    attributes = dict(
        fibre_speed_km_per_s=speed, source=source, name=net.get("name", ""), description=net.get("description", "")
    )
    nodes: dict[str, dict[str, Any]] = {}
    for name, table in data["nodes"].items():
        kind = table.get("kind")
        if not isinstance(kind, str) or kind not in NODE_KINDS:
            raise ConfigError(f"nodes.{name}", "kind", kind, "one of 'memory', 'station'")
        fields = {k: v for k, v in table.items() if k != "kind"}
        nodes[name] = {"hardware": NODE_KINDS[kind].from_mapping(name, fields)}
    adj: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in nodes}
    fibres = _fibres(nodes, adj, data.get("fibres", []))
    _check_splits(nodes, adj)
    return NetworkData(nodes, adj, fibres, attributes)


def _check_splits(nodes: dict[str, dict[str, Any]], adj: dict[str, dict[str, Any]]) -> None:
    """Every station a node's ``memory_split`` names is one the node has a fibre to."""
    for name, d in nodes.items():
        for station, _count in getattr(d["hardware"], "memory_split", None) or ():
            if not (station in adj[name] and isinstance(nodes[station]["hardware"], Station)):
                joined = sorted(n for n in adj[name] if isinstance(nodes[n]["hardware"], Station))
                raise ConfigError(
                    f"nodes.{name}",
                    f"memory_split.{station}",
                    _count,
                    f"a station {name!r} has a fibre to ({', '.join(joined) or 'none'})",
                )


def _fibres(
    nodes: dict[str, dict[str, Any]], adj: dict[str, dict[str, dict[str, Any]]], tables: list[dict[str, Any]]
) -> tuple[Fibre, ...]:
    """The validated ``[[fibres]]``, entered into ``adj``: unique names, existing ends, memory - station."""
    seen: dict[str, int] = {}
    fibres = []
    for i, table in enumerate(tables):
        fibre = Fibre.from_mapping(i, table)
        where = f"fibres.{fibre.name}"
        if fibre.name in seen:
            how = "" if "name" in table else f" (the default name of a fibre {fibre.a} - {fibre.b})"
            raise ConfigError(
                where,
                "name",
                fibre.name,
                f"fibre names must be unique: fibres[{seen[fibre.name]}] and "
                f'fibres[{i}] are both named {fibre.name!r}{how}; give one of them name = "..."',
            )
        seen[fibre.name] = i
        for end in ("a", "b"):
            node = getattr(fibre, end)
            if node not in nodes:
                raise ConfigError(where, end, node, "an existing node (nodes: " + ", ".join(sorted(nodes)) + ")")
        if fibre.a == fibre.b:
            raise ConfigError(where, "b", fibre.b, "a node other than a (a fibre joins two nodes)")
        kinds = {type(nodes[n]["hardware"]) for n in (fibre.a, fibre.b)}
        if kinds != {MemoryNode, Station}:
            kind = "memory nodes" if kinds == {MemoryNode} else "stations"
            raise QnetError(
                f"{where}: joins two {kind} ({fibre.a}, {fibre.b}); a fibre joins a memory node to a "
                "station (links are memory - fibre - station - fibre - memory)"
            )
        if fibre.b in adj[fibre.a]:
            other = adj[fibre.a][fibre.b]["fibre"].name
            raise ConfigError(
                where, None, fibre.name, f"a second fibre between {fibre.a} and {fibre.b} (already: {other})"
            )
        adj[fibre.a][fibre.b] = adj[fibre.b][fibre.a] = {"fibre": fibre}
        fibres.append(fibre)
    return tuple(fibres)
