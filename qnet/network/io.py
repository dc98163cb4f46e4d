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

Rules beyond the field values (each broken rule is one :class:`~qnet.errors.QnetError` line):

* node and fibre names use letters, digits, ``_`` and ``-`` only, so that every name can be
  reached by ``--set nodes.NAME.FIELD=...``, ``--vary`` (fields joined by ``,``) and ``--via A,B``;
* a node's name is its table's key: a ``name`` field inside ``[nodes.NAME]`` is refused;
* fibre names are unique; the default ``"A-B"`` can collide (``m`` - ``s-n`` and ``m-s`` - ``n``),
  and then one of the two fibres needs an explicit ``name`` (see
  :func:`~qnet.network.hardware.default_fibre_name` for why no separator avoids this);
* a fibre joins a memory node to a station: qnet's links are memory - station - memory, so a
  fibre between two memories or two stations would be ignored and is refused instead;
* tables and arrays nest at most :data:`MAX_NESTING` levels (deeper input, e.g. a value nested
  600 deep, would exhaust Python's recursion limit).

Graph layout: node attribute ``hardware`` (a :class:`~qnet.network.hardware.MemoryNode` or
:class:`~qnet.network.hardware.Station`), edge attribute ``fibre`` (:class:`~qnet.network.hardware.Fibre`),
graph attributes ``fibre_speed_km_per_s`` and ``source``.
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from pathlib import Path
from typing import Any, Iterable, Mapping

import networkx as nx

from qnet.errors import ConfigError, QnetError
from qnet.network.fields import NETWORK_FIELDS, FieldPath
from qnet.network.hardware import NAME_RULE, Fibre, MemoryNode, Station, is_valid_name, shown_key, validate_value

__all__ = ["load_network", "read_network_table", "network_from_dict", "apply_overrides", "parse_override", "check_layout",
           "DEFAULT_FIBRE_SPEED_KM_PER_S", "MAX_NESTING"]

DEFAULT_FIBRE_SPEED_KM_PER_S = 2.0e5
#: Deepest nesting of tables/arrays accepted (a valid network file needs 3: file, [nodes], [nodes.NAME]).
MAX_NESTING = 16
_KINDS = {"memory": MemoryNode, "station": Station}
_TOO_DEEP = f"tables or arrays nested more than {MAX_NESTING} levels deep (a network file needs 3)"


def _nesting(value: Any) -> int:
    """Depth of nested dicts/lists in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_NESTING:
            break
        stack += [(x, depth + 1) for x in item]
    return deepest


def _parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads`` that reports deep nesting as a ValueError like a syntax error."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None
    if _nesting(data) > MAX_NESTING:
        raise ValueError(_TOO_DEEP)
    return data


def read_network_table(path: str | Path) -> tuple[dict[str, Any], str]:
    """Read a network file.

    Parameters
    ----------
    path : str or path-like
        The TOML network file.

    Returns
    -------
    (dict, str)
        The parsed TOML table and the sha256 of the file's bytes.

    Raises
    ------
    QnetError
        One line naming the file: missing, a folder, unreadable, not UTF-8, not valid TOML, or
        nested more than :data:`MAX_NESTING` levels deep.
    """
    if not str(path):
        raise QnetError("network file '': expected a file name")
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise QnetError(f"network file {str(path)!r} not found") from None
    except IsADirectoryError:
        raise QnetError(f"network file {str(path)!r} is a folder, expected a TOML file") from None
    except OSError as exc:
        raise QnetError(f"network file {str(path)!r} cannot be read: {exc.strerror or exc}") from None
    try:
        data = _parse_toml(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise QnetError(f"network file {str(path)!r} is not valid TOML: {exc}") from None
    except ValueError as exc:
        raise QnetError(f"network file {str(path)!r} is refused: {exc}") from None
    return data, hashlib.sha256(raw).hexdigest()


def load_network(path: str | Path, overrides: Iterable[str] = ()) -> nx.Graph:
    """Load a TOML network file, apply ``--set``-style overrides, validate, return the graph."""
    data, _sha = read_network_table(path)
    return network_from_dict(data, source=str(path), overrides=overrides)


def parse_override(text: str) -> tuple[FieldPath, Any]:
    """Parse ``section.NAME.FIELD=VALUE`` (VALUE as a TOML value; a bare word is a string).

    Parameters
    ----------
    text : str
        One ``--set`` argument.

    Returns
    -------
    (FieldPath, Any)
        The field (:class:`~qnet.network.fields.FieldPath`) and the value.

    Raises
    ------
    QnetError
        If the key is malformed or VALUE is more than one TOML value or nested too deeply.
    """
    if "=" not in text:
        raise QnetError(f"--set {text!r}: expected SECTION.NAME.FIELD=VALUE (e.g. nodes.alice.t2_s=1.5)")
    key, raw = text.split("=", 1)
    path = FieldPath.parse(key.strip(), context=f"--set {text}")
    raw = raw.strip()
    try:
        parsed = _parse_toml(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return path, raw  # a bare word such as gaussian
    except ValueError as exc:
        raise QnetError(f"--set {text[:40]!r}...: VALUE is refused: {exc}") from None
    if list(parsed) != ["v"]:
        raise QnetError(f"--set {text!r}: VALUE must be one TOML value (a number, string, true/false)")
    return path, parsed["v"]


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of the raw network table with ``--set`` overrides applied.

    The table's layout (:func:`check_layout`) is checked first, so every override lands in a table.
    """
    check_layout(data)
    data = copy.deepcopy(dict(data))
    for text in overrides:
        path, value = parse_override(text)
        path.set(data, value, context=f"--set {text!r}")
    return data


def check_layout(data: Mapping[str, Any]) -> None:
    """Check the shape of a raw network table before any value is read.

    Allowed: the tables ``[network]``, ``[nodes.NAME]`` (at least one; NAME of
    :data:`~qnet.network.hardware.NAME_RULE`) and the array ``[[fibres]]`` of tables, nested at most
    :data:`MAX_NESTING` levels deep.

    Raises
    ------
    QnetError
        One line naming the first table that breaks the layout.
    """
    if not isinstance(data, Mapping):
        raise ConfigError("network file", None, type(data).__name__, "must be a table")
    if _nesting(dict(data)) > MAX_NESTING:
        raise QnetError(f"network table refused: {_TOO_DEEP}")
    for key in data:
        if key not in ("network", "nodes", "fibres"):
            raise ConfigError(shown_key(key), None, data[key], "unknown table; a network file has [network], [nodes.NAME] and [[fibres]]")
    if not isinstance(data.get("network", {}), dict):
        raise ConfigError("network", None, data["network"], "must be a table")
    nodes = data.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise ConfigError("nodes", None, None, "a network needs at least one [nodes.NAME] table")
    for name, table in nodes.items():
        if not is_valid_name(name):
            raise QnetError(f"node name {name!r} is invalid: use {NAME_RULE}")
        if not isinstance(table, dict):
            raise ConfigError(f"nodes.{name}", None, table, "must be a table")
    fibres = data.get("fibres", [])
    if not isinstance(fibres, list):
        raise ConfigError("fibres", None, fibres, "must be an array of tables ([[fibres]])")
    for i, table in enumerate(fibres):
        if not isinstance(table, dict):
            raise ConfigError(f"fibres[{i}]", None, table, "must be a table")


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
    """
    data = apply_overrides(data, overrides)
    net = data.get("network", {})
    for key in net:
        if key not in NETWORK_FIELDS:
            raise ConfigError("network", shown_key(key), net[key], "unknown field; allowed: " + ", ".join(NETWORK_FIELDS))
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
        if not isinstance(kind, str) or kind not in _KINDS:
            raise ConfigError(f"nodes.{name}", "kind", kind, "one of 'memory', 'station'")
        fields = {k: v for k, v in table.items() if k != "kind"}
        graph.add_node(name, hardware=_KINDS[kind].from_mapping(name, fields))
    _add_fibres(graph, data.get("fibres", []))
    return graph


def _add_fibres(graph: nx.Graph, tables: list[dict[str, Any]]) -> None:
    """Add the validated ``[[fibres]]`` to ``graph``: unique names, existing ends, memory - station."""
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        fibre = Fibre.from_mapping(i, table)
        where = f"fibres.{fibre.name}"
        if fibre.name in seen:
            how = "" if "name" in table else f" (the default name of a fibre {fibre.a} - {fibre.b})"
            raise ConfigError(where, "name", fibre.name, f"fibre names must be unique: fibres[{seen[fibre.name]}] and "
                              f"fibres[{i}] are both named {fibre.name!r}{how}; give one of them name = \"...\"")
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
            raise QnetError(f"{where}: joins two {kind} ({fibre.a}, {fibre.b}); a fibre joins a memory node to a "
                            "station (links are memory - fibre - station - fibre - memory)")
        if graph.has_edge(fibre.a, fibre.b):
            other = graph.edges[fibre.a, fibre.b]["fibre"].name
            raise ConfigError(where, None, fibre.name, f"a second fibre between {fibre.a} and {fibre.b} (already: {other})")
        graph.add_edge(fibre.a, fibre.b, fibre=fibre)
