"""Generated topologies and their network tables: ``qnet generate``.

A *topology* is an abstract ``networkx.Graph``: nodes are the future memory nodes (names that
``--set``/``--via`` can reach), every edge carries ``length_km`` and every node ``pos`` (x, y in
km, where the generator knows it). :func:`network_table` turns a topology and a *hardware file*
(:func:`read_hardware`, e.g. ``examples/hardware/ion.toml``) into a qnet network table:

* every topology node is a memory node with the hardware file's ``[memory]`` fields;
* every edge u - v (u before v in the topology's node order) is a heralded link
  u - ``s-u-v`` - v: a station with the ``[station]`` fields in the middle and two fibres of
  ``length_km / 2`` each, with the ``[fibre]`` fields and their default names ``u-s-u-v`` and
  ``s-u-v-v`` (reachable by ``--set fibres.u-s-u-v.length_km=...``);
* memories: a hardware file without ``memories`` leaves the field unset (qnet's default, one
  memory per link the node joins); with ``memories = m`` a node of degree d gets ``max(m, d)``,
  so that every link it joins can hold a pair at once.

Node positions are not stored in the network file (its node tables admit no extra field);
``qnet draw`` lays the network out itself.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import networkx as nx
import numpy as np

from qnet.errors import ConfigError, QnetError
from qnet.network.choices import TOPOLOGIES
from qnet.network.graph import network_from_dict
from qnet.network.hardware import Fibre, MemoryNode, Station, is_valid_name, NAME_RULE

__all__ = [
    "line",
    "ring",
    "grid",
    "star",
    "waxman",
    "TOPOLOGIES",
    "Hardware",
    "read_hardware",
    "network_table",
    "MAX_NODES",
    "MAX_WAXMAN_NODES",
]


#: The most memory nodes a generated topology may have (its network file, graph and link graph
#: grow with them; a Waxman graph's construction with their square: :data:`MAX_WAXMAN_NODES`).
MAX_NODES = 100_000
MAX_WAXMAN_NODES = 5_000


def _check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise QnetError(f"{name} = {value!r} is invalid: an integer >= {minimum}")
    if maximum is not None and value > maximum:
        raise QnetError(
            f"{name} = {value!r} is invalid: an integer in [{minimum}, {maximum}] (a generated network's size)"
        )
    return int(value)


def _check_km(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 < value < math.inf):
        raise QnetError(f"{name} = {value!r} is invalid: a finite length in km > 0")
    return float(value)


def _from_positions(names: list[str], pos: np.ndarray, edges: list[tuple[int, int]]) -> nx.Graph:
    """A topology with nodes ``names`` at ``pos`` (km) and Euclidean edge lengths."""
    g = nx.Graph()
    for name, (x, y) in zip(names, pos):
        g.add_node(name, pos=(float(x), float(y)))
    for i, j in edges:
        g.add_edge(names[i], names[j], length_km=float(math.dist(pos[i], pos[j])))
    return g


def line(n: int, spacing_km: float) -> nx.Graph:
    """``n`` nodes ``n0 ... n{n-1}`` in a line, ``spacing_km`` apart.

    Examples
    --------
    >>> g = line(4, 25.0)
    >>> list(g), [g.edges[e]["length_km"] for e in g.edges]
    (['n0', 'n1', 'n2', 'n3'], [25.0, 25.0, 25.0])
    """
    n, spacing_km = _check_int("nodes", n, 2, MAX_NODES), _check_km("spacing_km", spacing_km)
    pos = np.column_stack([np.arange(n) * spacing_km, np.zeros(n)])
    return _from_positions([f"n{i}" for i in range(n)], pos, [(i, i + 1) for i in range(n - 1)])


def ring(n: int, spacing_km: float) -> nx.Graph:
    """``n`` nodes on a circle, neighbours ``spacing_km`` apart (chord length), ``n`` edges.

    Examples
    --------
    >>> g = ring(6, 10.0)
    >>> g.number_of_edges(), {d for _, d in g.degree}, round(g.edges["n5", "n0"]["length_km"], 9)
    (6, {2}, 10.0)
    """
    n, spacing_km = _check_int("nodes", n, 3, MAX_NODES), _check_km("spacing_km", spacing_km)
    radius = spacing_km / (2.0 * math.sin(math.pi / n))
    angle = 2.0 * math.pi * np.arange(n) / n
    pos = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    g = _from_positions([f"n{i}" for i in range(n)], pos, [(i, (i + 1) % n) for i in range(n)])
    for e in g.edges:  # the chord is spacing_km by construction; drop the rounding of cos/sin
        g.edges[e]["length_km"] = spacing_km
    return g


def grid(rows: int, cols: int, spacing_km: float) -> nx.Graph:
    """A ``rows`` x ``cols`` square grid, nodes ``n{row}_{col}``, neighbours ``spacing_km`` apart.

    Examples
    --------
    >>> g = grid(2, 3, 5.0)
    >>> g.number_of_nodes(), g.number_of_edges(), g.degree["n0_1"]
    (6, 7, 3)
    """
    rows, cols = _check_int("rows", rows, 1, MAX_NODES), _check_int("cols", cols, 1, MAX_NODES)
    spacing_km = _check_km("spacing_km", spacing_km)
    if rows * cols < 2:
        raise QnetError(f"grid {rows} x {cols} is invalid: at least 2 nodes")
    if rows * cols > MAX_NODES:
        raise QnetError(f"grid {rows} x {cols} is invalid: at most {MAX_NODES} nodes")
    names = [f"n{r}_{c}" for r in range(rows) for c in range(cols)]
    pos = np.array([(c * spacing_km, r * spacing_km) for r in range(rows) for c in range(cols)], dtype=float)
    edges = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    edges += [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    return _from_positions(names, pos, edges)


def star(users: int, length_km: float) -> nx.Graph:
    """A hub memory node ``hub`` (repeater/switch) joined to ``users`` nodes ``u0 ...``, each ``length_km`` away.

    Examples
    --------
    >>> g = star(3, 20.0)
    >>> list(g), g.degree["hub"], g.edges["hub", "u2"]["length_km"]
    (['hub', 'u0', 'u1', 'u2'], 3, 20.0)
    """
    users, length_km = _check_int("users", users, 1, MAX_NODES - 1), _check_km("length_km", length_km)
    angle = 2.0 * math.pi * np.arange(users) / users
    pos = np.vstack([[0.0, 0.0], length_km * np.column_stack([np.cos(angle), np.sin(angle)])])
    g = _from_positions(["hub"] + [f"u{i}" for i in range(users)], pos, [(0, i + 1) for i in range(users)])
    for e in g.edges:
        g.edges[e]["length_km"] = length_km
    return g


def waxman(n: int, alpha: float = 0.1, beta: float = 0.4, domain_km: float = 100.0, seed: int = 0) -> nx.Graph:
    """A connected Waxman random graph: ``n`` nodes uniform in a ``domain_km`` square, Euclidean fibres.

    ``networkx.waxman_graph`` joins u, v with probability ``beta * exp(-d / (alpha * L))``, L the
    largest distance between nodes. If the result is not connected, the components are joined by
    the fewest edges (one less than the number of components), each the shortest between the two
    components it joins, chosen as a minimum spanning tree over the components (so the added
    fibre is as short as possible). Nodes are ``n0 ... n{n-1}``.

    Parameters
    ----------
    n : int
        Nodes (>= 2).
    alpha, beta : float
        Waxman's distance scale and edge density, in (0, 1].
    domain_km : float
        Side of the square the nodes are placed in (km).
    seed : int
        Random seed (the same seed gives the same graph).

    Examples
    --------
    >>> g = waxman(50, seed=1)
    >>> g.number_of_nodes(), nx.is_connected(g), g.graph["added_edges"] >= 0
    (50, True, True)
    """
    n, domain_km = _check_int("nodes", n, 2, MAX_WAXMAN_NODES), _check_km("domain_km", domain_km)
    for name, value in (("alpha", alpha), ("beta", beta)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
            raise QnetError(f"{name} = {value!r} is invalid: a number in (0, 1]")
    seed = _check_int("seed", seed, 0)
    raw = nx.waxman_graph(n, beta=beta, alpha=alpha, domain=(0.0, 0.0, domain_km, domain_km), seed=seed)
    pos = np.array([raw.nodes[i]["pos"] for i in range(n)], dtype=float)
    edges = sorted((min(u, v), max(u, v)) for u, v in raw.edges)
    added = _joining_edges(pos, [sorted(c) for c in nx.connected_components(raw)])
    g = _from_positions([f"n{i}" for i in range(n)], pos, edges + added)
    g.graph["added_edges"] = len(added)
    return g


def _joining_edges(pos: np.ndarray, components: list[list[int]]) -> list[tuple[int, int]]:
    """The fewest, shortest edges that connect ``components`` (MST over inter-component distances).

    For every component the nearest node of every other component is found in row chunks (memory
    ~ 256 x n), then a minimum spanning tree over the k x k matrix of those distances picks k - 1.
    """
    from scipy.sparse.csgraph import minimum_spanning_tree

    k, n = len(components), len(pos)
    if k == 1:
        return []
    label = np.empty(n, dtype=np.intp)
    for c, members in enumerate(components):
        label[members] = c
    best = np.zeros((k, k))
    ends = np.zeros((k, k, 2), dtype=np.intp)
    for c, group in enumerate(components):
        ids = np.asarray(group)
        dist, near = np.full(n, np.inf), np.zeros(n, dtype=np.intp)  # nearest member of c for every node
        for start in range(0, len(ids), 256):
            rows = ids[start : start + 256]
            d = np.linalg.norm(pos[rows][:, None, :] - pos[None, :, :], axis=2)
            i = d.argmin(axis=0)
            closer = d[i, np.arange(n)] < dist
            dist[closer], near[closer] = d[i, np.arange(n)][closer], rows[i[closer]]
        idx = np.flatnonzero(label != c)
        order = idx[np.lexsort((idx, dist[idx], label[idx]))]  # by component, then distance, then index
        first = order[np.r_[True, label[order][1:] != label[order][:-1]]]
        # shifted by 1 so that a zero distance (coincident nodes) is not read as "no edge"
        best[c, label[first]] = dist[first] + 1.0
        ends[c, label[first], 0], ends[c, label[first], 1] = near[first], first
    tree = minimum_spanning_tree(np.triu(np.minimum(best, best.T))).tocoo()
    out = []
    for c, o in zip(tree.row, tree.col):
        u, v = ends[c, o] if best[c, o] <= best[o, c] else ends[o, c][::-1]
        out.append((int(min(u, v)), int(max(u, v))))
    return sorted(out)


@dataclass(frozen=True)
class Hardware:
    """The contents of a hardware file: the tables given to every generated node, station and fibre.

    ``memory`` and ``station`` hold the fields of a network file's ``[nodes.NAME]`` tables (without
    ``kind``), ``fibre`` those of a ``[[fibres]]`` entry other than ``a``, ``b``, ``name`` and
    ``length_km``, ``network`` the optional ``fibre_speed_km_per_s``.

    Examples
    --------
    >>> hw = Hardware(memory={"t2_s": 1.0, "emission_efficiency": 0.5}, station={"scheme": "two_photon"})
    >>> hw.fibre, hw.network
    ({}, {})
    """

    memory: Mapping[str, Any]
    station: Mapping[str, Any]
    fibre: Mapping[str, Any] = field(default_factory=dict)
    network: Mapping[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        """Validate every table (one :class:`~qnet.errors.ConfigError` line naming ``memory.FIELD`` etc.)."""
        for key, table in (
            ("memory", self.memory),
            ("station", self.station),
            ("fibre", self.fibre),
            ("network", self.network),
        ):
            if not isinstance(table, Mapping):
                raise ConfigError(key, None, None, f"[{key}] must be a table")
        for key, table in (("memory", self.memory), ("station", self.station)):
            if "kind" in table:
                raise ConfigError(key, "kind", table["kind"], f"not a field here; the table [{key}] gives the kind")
        MemoryNode._build("memory", self.memory, name="memory")
        Station._build("station", self.station, name="station")
        for key in ("a", "b", "name", "length_km"):
            if key in self.fibre:
                raise ConfigError(
                    "fibre",
                    key,
                    self.fibre[key],
                    "not a field here; generated fibres get ends, names and lengths from the topology",
                )
        Fibre._build("fibre", {**self.fibre, "a": "a", "b": "b", "length_km": 1.0}, name="fibre")
        for key in self.network:
            if key != "fibre_speed_km_per_s":
                raise ConfigError(
                    "network", str(key), self.network[key], "unknown field; allowed: fibre_speed_km_per_s"
                )


def read_hardware(path: str | Path) -> Hardware:
    """Read and validate a hardware file (``[memory]``, ``[station]``, optional ``[fibre]`` and ``[network]``).

    Examples
    --------
    >>> hw = read_hardware("examples/hardware/ion.toml")
    >>> hw.memory["t2_s"], hw.station["scheme"], hw.fibre["attenuation_db_per_km"]
    (10.0, 'single_click', 0.2)
    >>> read_hardware("examples/liu2026_ion_link.toml")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: hardware file 'examples/liu2026_ion_link.toml': unknown table [nodes]; allowed: [memory], [station], [fibre], [network]
    """
    where = f"hardware file {str(path)!r}"
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QnetError(f"{where} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QnetError(f"{where} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise QnetError(f"{where} is not valid TOML: {exc}") from None
    for key in data:
        if key not in ("memory", "station", "fibre", "network"):
            raise QnetError(f"{where}: unknown table [{key}]; allowed: [memory], [station], [fibre], [network]")
    for key in ("memory", "station"):
        if key not in data:
            raise QnetError(f"{where}: missing table [{key}]")
    hw = Hardware(data["memory"], data["station"], data.get("fibre", {}), data.get("network", {}))
    try:
        hw.check()
    except ConfigError as exc:
        raise QnetError(f"{where}: {exc}") from None
    return hw


def network_table(topology: nx.Graph, hardware: Hardware, name: str = "", description: str = "") -> dict[str, Any]:
    """The qnet network table of ``topology`` built with ``hardware`` (rules in the module docstring).

    Parameters
    ----------
    topology : networkx.Graph
        Node names that ``--set`` can reach; every edge has ``length_km`` (>= 0).
    hardware : Hardware
        The node, station and fibre tables.
    name, description : str
        The ``[network]`` name and description (omitted when empty).

    Returns
    -------
    dict
        A table :func:`qnet.network_from_dict` accepts (and :func:`qnet.network.writer.to_toml` writes).

    Examples
    --------
    >>> table = network_table(line(3, 20.0), read_hardware("examples/hardware/ion.toml"))
    >>> sorted(table["nodes"]), [(f["a"], f["b"], f["length_km"]) for f in table["fibres"][:2]]
    (['n0', 'n1', 'n2', 's-n0-n1', 's-n1-n2'], [('n0', 's-n0-n1', 10.0), ('s-n0-n1', 'n1', 10.0)])
    """
    hardware.check()
    if topology.number_of_nodes() < 2 or topology.number_of_edges() < 1:
        raise QnetError("topology: at least 2 nodes and 1 edge are needed")
    order = {node: i for i, node in enumerate(topology)}
    for node in topology:
        if not is_valid_name(node):
            raise QnetError(f"topology node {node!r}: invalid name: {NAME_RULE}")
    nodes: dict[str, dict[str, Any]] = {}
    for node in topology:
        entry = {"kind": "memory", **hardware.memory}
        if "memories" in hardware.memory:
            entry["memories"] = max(int(hardware.memory["memories"]), topology.degree[node])
        nodes[node] = entry
    fibres = []
    for u, v in sorted(topology.edges, key=lambda e: tuple(sorted((order[e[0]], order[e[1]])))):
        if order[u] > order[v]:
            u, v = v, u
        if u == v:
            raise QnetError(f"topology edge {u} - {v}: a self-loop is not a link")
        length = topology.edges[u, v].get("length_km")
        if isinstance(length, bool) or not isinstance(length, (int, float)) or not 0.0 <= length < math.inf:
            raise QnetError(f"topology edge {u} - {v}: length_km = {length!r} is invalid: a finite number >= 0")
        station = f"s-{u}-{v}"
        if station in nodes:
            raise QnetError(f"topology edge {u} - {v}: station name {station!r} is already a node's name")
        nodes[station] = {"kind": "station", **hardware.station}
        for a, b in ((u, station), (station, v)):
            fibres.append({"a": a, "b": b, "length_km": float(length) / 2.0, **hardware.fibre})
    network = {key: value for key, value in (("name", name), ("description", description)) if value}
    network.update(hardware.network)
    table: dict[str, Any] = {"network": network} if network else {}
    table.update(nodes=nodes, fibres=fibres)
    network_from_dict(table)  # refuses colliding fibre names etc. here, not when the file is read
    return table
