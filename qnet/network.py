"""Network files (TOML) -> ``networkx.Graph``.

File format (field names are public and stable)::

    [network]
    fibre_speed_km_per_s = 2.0e5      # optional, speed of light in fibre

    [nodes.alice]
    kind = "memory"                   # t2_s, t1_s, decay, emission_efficiency, ...
    [nodes.mid]
    kind = "station"                  # scheme, detector_efficiency, dark_count_probability, ...

    [[fibres]]
    a = "alice"
    b = "mid"
    length_km = 5.0
    attenuation_db_per_km = 0.2       # optional; name optional (default "alice-mid")

Graph layout: node attribute ``hardware`` (a :class:`~qnet.hardware.MemoryNode` or
:class:`~qnet.hardware.Station`), edge attribute ``fibre`` (:class:`~qnet.hardware.Fibre`),
graph attributes ``fibre_speed_km_per_s`` and ``source``.
"""

from __future__ import annotations

import copy
import hashlib
import math
import tomllib
from pathlib import Path
from typing import Any, Iterable, Mapping

import networkx as nx

from .errors import ConfigError, QnetError
from .hardware import Fibre, MemoryNode, Station

__all__ = ["load_network", "read_network_table", "network_from_dict", "apply_overrides", "parse_override", "DEFAULT_FIBRE_SPEED_KM_PER_S"]

DEFAULT_FIBRE_SPEED_KM_PER_S = 2.0e5
_NETWORK_FIELDS = ("fibre_speed_km_per_s", "name", "description")
_KINDS = {"memory": MemoryNode, "station": Station}


def read_network_table(path: str | Path) -> tuple[dict[str, Any], str]:
    """(parsed TOML table, sha256 of the file's bytes) of a network file; clear errors otherwise."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise QnetError(f"network file {str(path)!r} not found") from None
    except OSError as exc:
        raise QnetError(f"network file {str(path)!r} cannot be read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise QnetError(f"network file {str(path)!r} is not valid TOML: {exc}") from None
    return data, hashlib.sha256(raw).hexdigest()


def load_network(path: str | Path, overrides: Iterable[str] = ()) -> nx.Graph:
    """Load a TOML network file, apply ``--set``-style overrides, validate, return the graph."""
    data, _sha = read_network_table(path)
    return network_from_dict(data, source=str(path), overrides=overrides)


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """Parse ``section.NAME.FIELD=VALUE`` (VALUE as a TOML value; a bare word is a string)."""
    if "=" not in text:
        raise QnetError(f"--set {text!r}: expected SECTION.NAME.FIELD=VALUE (e.g. nodes.alice.t2_s=1.5)")
    key, raw = text.split("=", 1)
    parts = tuple(p.strip() for p in key.strip().split("."))
    valid = (parts[0] in ("nodes", "fibres") and len(parts) == 3) or (parts[0] == "network" and len(parts) == 2)
    if not valid or not all(parts):
        raise QnetError(
            f"--set {text!r}: the key must be nodes.NAME.FIELD, fibres.NAME.FIELD or network.FIELD"
        )
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as gaussian
    return parts, value


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of the raw network table with ``--set`` overrides applied."""
    data = copy.deepcopy(dict(data))
    for text in overrides:
        parts, value = parse_override(text)
        if parts[0] == "network":
            data.setdefault("network", {})[parts[1]] = value
        elif parts[0] == "nodes":
            nodes = data.get("nodes", {})
            if parts[1] not in nodes:
                raise QnetError(f"--set {text!r}: no node named {parts[1]!r} (nodes: {', '.join(sorted(nodes))})")
            nodes[parts[1]][parts[2]] = value
        else:
            fibres = data.get("fibres", [])
            names = [_fibre_name(f) for f in fibres]
            if parts[1] not in names:
                raise QnetError(f"--set {text!r}: no fibre named {parts[1]!r} (fibres: {', '.join(names)})")
            fibres[names.index(parts[1])][parts[2]] = value
    return data


def _fibre_name(table: Mapping[str, Any]) -> str:
    return str(table.get("name", f"{table.get('a')}-{table.get('b')}"))


def network_from_dict(data: Mapping[str, Any], source: str = "<dict>", overrides: Iterable[str] = ()) -> nx.Graph:
    """Build and validate the network graph from a parsed network table."""
    data = apply_overrides(data, overrides)
    for key in data:
        if key not in ("network", "nodes", "fibres"):
            raise ConfigError(key, None, data[key], "unknown table; a network file has [network], [nodes.NAME] and [[fibres]]")
    net = data.get("network", {})
    if not isinstance(net, dict):
        raise ConfigError("network", None, net, "must be a table")
    for key in net:
        if key not in _NETWORK_FIELDS:
            raise ConfigError("network", key, net[key], "unknown field; allowed: " + ", ".join(_NETWORK_FIELDS))
    speed = net.get("fibre_speed_km_per_s", DEFAULT_FIBRE_SPEED_KM_PER_S)
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not (0 < speed < math.inf):
        raise ConfigError("network", "fibre_speed_km_per_s", speed, "a finite number > 0 (km/s)")

    graph = nx.Graph(fibre_speed_km_per_s=float(speed), source=source, name=net.get("name", ""))
    nodes = data.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise ConfigError("nodes", None, None, "a network needs at least one [nodes.NAME] table")
    for name, table in nodes.items():
        if not isinstance(table, dict):
            raise ConfigError(f"nodes.{name}", None, table, "must be a table")
        kind = table.get("kind")
        if kind not in _KINDS:
            raise ConfigError(f"nodes.{name}", "kind", kind, "one of 'memory', 'station'")
        fields = {k: v for k, v in table.items() if k != "kind"}
        graph.add_node(name, hardware=_KINDS[kind].from_mapping(name, fields))

    fibres = data.get("fibres", [])
    if not isinstance(fibres, list):
        raise ConfigError("fibres", None, fibres, "must be an array of tables ([[fibres]])")
    seen: set[str] = set()
    for i, table in enumerate(fibres):
        if not isinstance(table, dict):
            raise ConfigError(f"fibres[{i}]", None, table, "must be a table")
        fibre = Fibre.from_mapping(i, table)
        where = f"fibres.{fibre.name}"
        if fibre.name in seen:
            raise ConfigError(where, "name", fibre.name, "fibre names must be unique")
        seen.add(fibre.name)
        for end in ("a", "b"):
            node = getattr(fibre, end)
            if node not in graph:
                raise ConfigError(where, end, node, "an existing node (nodes: " + ", ".join(sorted(graph)) + ")")
        if fibre.a == fibre.b:
            raise ConfigError(where, "b", fibre.b, "a node other than a (a fibre joins two nodes)")
        if graph.has_edge(fibre.a, fibre.b):
            other = graph.edges[fibre.a, fibre.b]["fibre"].name
            raise ConfigError(where, None, fibre.name, f"a second fibre between {fibre.a} and {fibre.b} (already: {other})")
        graph.add_edge(fibre.a, fibre.b, fibre=fibre)
    return graph
