"""Real fibre maps as topologies: GraphML and GML files (``qnet import``).

:func:`read_topology` reads a GraphML (``.graphml``) or GML (``.gml``) file with networkx and
returns a topology for :func:`qnet.network.generate.network_table`:

* **edge lengths** come from an edge attribute: ``length_attr`` if given, else the first of
  :data:`LENGTH_ATTRS` that every edge has, in ``length_unit`` (``km`` or ``m``); without any,
  from node coordinates: ``Latitude``/``Longitude`` (Internet Topology Zoo GraphML) as the
  great-circle distance on a sphere of radius :data:`EARTH_RADIUS_KM`, or ``x``/``y`` in km;
* **node names** are the file's node ids with every character outside letters, digits, ``_``
  and ``-`` replaced by ``_`` (``--set``/``--via`` must reach them); two ids that become the
  same name are refused;
* **refused** (one line each): an empty graph, a self-loop, a missing or negative length, an
  unknown ``length_attr``, a disconnected graph (unless ``largest_component=True``, which keeps
  the component with the most nodes and says how many nodes it dropped in
  ``topology.graph["dropped_nodes"]``). Parallel edges (multigraph files) keep the shortest.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import networkx as nx

from qnet.errors import QnetError
from qnet.network.choices import LENGTH_UNITS

__all__ = ["read_topology", "great_circle_km", "LENGTH_ATTRS", "LENGTH_UNITS", "EARTH_RADIUS_KM"]

#: Edge attributes tried, in order, when no ``length_attr`` is given.
LENGTH_ATTRS = ("length_km", "length", "LinkLength", "weight")
#: Mean Earth radius (km, IUGG) used for great-circle distances.
EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (km) between two points given in degrees (haversine, radius :data:`EARTH_RADIUS_KM`).

    Examples
    --------
    >>> round(great_circle_km(0.0, 0.0, 0.0, 90.0), 3)  # a quarter of the equator
    10007.557
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _read(path: Path) -> nx.Graph:
    suffix = path.suffix.lower()
    if suffix not in (".graphml", ".gml"):
        raise QnetError(
            f"topology file {str(path)!r}: unknown format {suffix or '(no suffix)'!r}; expected .graphml or .gml"
        )
    if not path.is_file():
        raise QnetError(f"topology file {str(path)!r} not found")
    try:
        if suffix == ".graphml":
            return nx.read_graphml(path)
        return nx.read_gml(path, label="id")
    except Exception as exc:  # networkx raises many kinds (XML, parse, key errors) on a bad file
        raise QnetError(
            f"topology file {str(path)!r} cannot be read as {suffix[1:]}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None


def _number(where: str, value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise QnetError(f"{where} = {value!r} is invalid: a number") from None
    if not 0.0 <= x < math.inf:
        raise QnetError(f"{where} = {value!r} is invalid: a finite number >= 0")
    return x


def _lengths(raw: nx.Graph, length_attr: str | None, unit: float) -> dict[tuple[Any, Any], float]:
    """Length (km) of every edge of ``raw``, from an attribute or from node coordinates."""
    edges = list(raw.edges(data=True))
    if length_attr is not None:
        missing = [(u, v) for u, v, d in edges if length_attr not in d]
        if len(missing) == len(edges):
            found = sorted({k for *_, d in edges for k in d})
            raise QnetError(
                f"--length-attr {length_attr!r}: no edge has it; edge attributes: {', '.join(found) or 'none'}"
            )
        if missing:
            raise QnetError(f"edge {missing[0][0]} - {missing[0][1]}: no {length_attr!r} length")
        attr: str | None = length_attr
    else:
        attr = next((a for a in LENGTH_ATTRS if all(a in d for *_, d in edges)), None)
    if attr is not None:
        return {(u, v): _number(f"edge {u} - {v} {attr}", d[attr]) * unit for u, v, d in edges}
    nodes = raw.nodes
    for lat, lon in (("Latitude", "Longitude"), ("latitude", "longitude"), ("lat", "lon")):
        if all(lat in nodes[n] and lon in nodes[n] for n in raw):
            return {
                (u, v): great_circle_km(
                    float(nodes[u][lat]), float(nodes[u][lon]), float(nodes[v][lat]), float(nodes[v][lon])
                )
                for u, v, _ in edges
            }
    if all("x" in nodes[n] and "y" in nodes[n] for n in raw):
        return {
            (u, v): math.dist(
                (float(nodes[u]["x"]), float(nodes[u]["y"])), (float(nodes[v]["x"]), float(nodes[v]["y"]))
            )
            for u, v, _ in edges
        }
    raise QnetError(
        "no edge lengths: no edge attribute "
        + ", ".join(LENGTH_ATTRS)
        + " on every edge and no Latitude/Longitude or x/y on every node (use --length-attr)"
    )


def read_topology(
    path: str | Path, length_attr: str | None = None, length_unit: str = "km", largest_component: bool = False
) -> nx.Graph:
    """A topology (names, ``length_km`` on edges) from a GraphML or GML fibre map (rules in the module docstring).

    Parameters
    ----------
    path : str or path-like
        A ``.graphml`` or ``.gml`` file.
    length_attr : str, optional
        The edge attribute holding the length (default: the first of :data:`LENGTH_ATTRS` every
        edge has, else node coordinates).
    length_unit : {"km", "m"}
        Unit of the length attribute.
    largest_component : bool
        Keep the largest connected component instead of refusing a disconnected graph.

    Returns
    -------
    networkx.Graph
        Nodes named for ``--set``, ``pos`` (longitude, latitude or x, y) where the file has
        coordinates, edges with ``length_km``.

    Examples
    --------
    >>> g = read_topology("tests/data/small_fibre_map.graphml")
    >>> sorted(g), g.edges["Geneva", "Lausanne"]["length_km"]
    (['Basel', 'Bern', 'Geneva', 'Lausanne', 'Zurich'], 62.0)
    >>> read_topology("tests/data/small_fibre_map.graphml", length_attr="fibre_km")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: --length-attr 'fibre_km': no edge has it; edge attributes: LinkLabel, length_km
    """
    if length_unit not in LENGTH_UNITS:
        raise QnetError(f"--length-unit {length_unit!r} is invalid: one of {', '.join(LENGTH_UNITS)}")
    path = Path(path)
    raw = _read(path)
    if raw.number_of_nodes() == 0:
        raise QnetError(f"topology file {str(path)!r}: the graph has no nodes")
    loops = list(nx.selfloop_edges(raw))
    if loops:
        raise QnetError(f"topology file {str(path)!r}: self-loop at node {loops[0][0]} (a link needs two nodes)")
    if raw.number_of_edges() == 0:
        raise QnetError(f"topology file {str(path)!r}: the graph has no edges")
    lengths = _lengths(raw, length_attr, LENGTH_UNITS[length_unit])
    names: dict[Any, str] = {}
    for node in raw:
        name = re.sub(r"[^\w-]", "_", str(node), flags=re.ASCII)
        if name in names.values():
            raise QnetError(f"topology file {str(path)!r}: nodes {node!r} and another both become the name {name!r}")
        names[node] = name
    g = nx.Graph(source=str(path))
    for node, data in raw.nodes(data=True):
        g.add_node(names[node])
        if "Longitude" in data and "Latitude" in data:
            g.nodes[names[node]]["pos"] = (float(data["Longitude"]), float(data["Latitude"]))
        elif "x" in data and "y" in data:
            g.nodes[names[node]]["pos"] = (float(data["x"]), float(data["y"]))
    for (u, v), km in lengths.items():
        a, b = names[u], names[v]
        if not g.has_edge(a, b) or km < g.edges[a, b]["length_km"]:
            g.add_edge(a, b, length_km=km)
    if not nx.is_connected(g):
        parts = sorted(nx.connected_components(g), key=len, reverse=True)
        if not largest_component:
            raise QnetError(
                f"topology file {str(path)!r}: the graph has {len(parts)} separate parts "
                f"(sizes {', '.join(str(len(p)) for p in parts[:5])}{', ...' if len(parts) > 5 else ''}); "
                "use --largest-component to keep the largest"
            )
        g.graph["dropped_nodes"] = g.number_of_nodes() - len(parts[0])
        g = g.subgraph(parts[0]).copy()
    g.graph.setdefault("dropped_nodes", 0)
    return g
