"""A validated network graph from a raw network table: nodes with hardware, fibres as edges.

Graph layout: node attribute ``hardware`` (a :class:`~qnet.network.hardware.MemoryNode` or
:class:`~qnet.network.hardware.Station`), edge attribute ``fibre`` (:class:`~qnet.network.hardware.Fibre`),
graph attributes ``fibre_speed_km_per_s``, ``source``, ``name`` and ``description``.
The rules are listed in :mod:`qnet.network.io`.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import networkx as nx

from qnet.errors import ConfigError, QnetError
from qnet.network.fields import NETWORK_FIELDS
from qnet.network.hardware import NODE_KINDS, Fibre, MemoryNode, Station, shown_key, validate_value
from qnet.network.tables import apply_overrides

__all__ = ["network_from_dict", "DEFAULT_FIBRE_SPEED_KM_PER_S"]

#: Speed of light in fibre (km/s) when ``[network]`` does not set ``fibre_speed_km_per_s``.
DEFAULT_FIBRE_SPEED_KM_PER_S = 2.0e5


def network_from_dict(data: Mapping[str, Any], source: str = "<dict>", overrides: Iterable[str] = ()) -> nx.Graph:
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
    graph = nx.Graph(
        fibre_speed_km_per_s=speed, source=source, name=net.get("name", ""), description=net.get("description", "")
    )
    for name, table in data["nodes"].items():
        kind = table.get("kind")
        if not isinstance(kind, str) or kind not in NODE_KINDS:
            raise ConfigError(f"nodes.{name}", "kind", kind, "one of 'memory', 'station'")
        fields = {k: v for k, v in table.items() if k != "kind"}
        graph.add_node(name, hardware=NODE_KINDS[kind].from_mapping(name, fields))
    _add_fibres(graph, data.get("fibres", []))
    _check_splits(graph)
    return graph


def _check_splits(graph: nx.Graph) -> None:
    """Every station a node's ``memory_split`` names is one the node has a fibre to."""
    for name, d in graph.nodes(data=True):
        for station, _count in getattr(d["hardware"], "memory_split", None) or ():
            if not (station in graph[name] and isinstance(graph.nodes[station]["hardware"], Station)):
                joined = sorted(n for n in graph[name] if isinstance(graph.nodes[n]["hardware"], Station))
                raise ConfigError(
                    f"nodes.{name}",
                    f"memory_split.{station}",
                    _count,
                    f"a station {name!r} has a fibre to ({', '.join(joined) or 'none'})",
                )


def _add_fibres(graph: nx.Graph, tables: list[dict[str, Any]]) -> None:
    """Add the validated ``[[fibres]]`` to ``graph``: unique names, existing ends, memory - station."""
    seen: dict[str, int] = {}
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
            if node not in graph:
                raise ConfigError(where, end, node, "an existing node (nodes: " + ", ".join(sorted(graph)) + ")")
        if fibre.a == fibre.b:
            raise ConfigError(where, "b", fibre.b, "a node other than a (a fibre joins two nodes)")
        kinds = {type(graph.nodes[n]["hardware"]) for n in (fibre.a, fibre.b)}
        if kinds != {MemoryNode, Station}:
            kind = "memory nodes" if kinds == {MemoryNode} else "stations"
            raise QnetError(
                f"{where}: joins two {kind} ({fibre.a}, {fibre.b}); a fibre joins a memory node to a "
                "station (links are memory - fibre - station - fibre - memory)"
            )
        if graph.has_edge(fibre.a, fibre.b):
            other = graph.edges[fibre.a, fibre.b]["fibre"].name
            raise ConfigError(
                where, None, fibre.name, f"a second fibre between {fibre.a} and {fibre.b} (already: {other})"
            )
        graph.add_edge(fibre.a, fibre.b, fibre=fibre)
