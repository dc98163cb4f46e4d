"""The raw network table (the dict a TOML network file parses to): parsing, layout, ``--set``.

Before any value is validated (:mod:`qnet.network.graph` does that), the table is parsed with a
nesting limit (:func:`parse_toml`), its shape is checked (:func:`check_layout`: ``[network]``,
``[nodes.NAME]``, ``[[fibres]]``) and ``--set`` overrides are written into a copy of it
(:func:`apply_overrides`, through :class:`~qnet.network.fields.FieldPath`).
"""

from __future__ import annotations

import copy
import tomllib
from typing import Any, Iterable, Mapping

from qnet.errors import ConfigError, QnetError
from qnet.network.fields import FieldPath
from qnet.network.hardware import NAME_RULE, is_valid_name, shown_key

__all__ = ["MAX_NESTING", "parse_toml", "check_layout", "parse_override", "apply_overrides"]

#: Deepest nesting of tables/arrays accepted (a valid network file needs 3: file, [nodes], [nodes.NAME]).
MAX_NESTING = 16
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


def parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads`` that refuses tables or arrays nested deeper than :data:`MAX_NESTING`.

    Parameters
    ----------
    text : str
        TOML text.

    Returns
    -------
    dict
        The parsed table.

    Raises
    ------
    tomllib.TOMLDecodeError
        If ``text`` is not valid TOML.
    ValueError
        If it nests more than :data:`MAX_NESTING` levels (reported like a syntax error; deeper
        input would otherwise exhaust Python's recursion limit).

    Examples
    --------
    >>> parse_toml('[nodes.alice]\\nkind = "memory"')
    {'nodes': {'alice': {'kind': 'memory'}}}
    >>> parse_toml("v = " + "[" * 20 + "]" * 20)
    Traceback (most recent call last):
    ...
    ValueError: tables or arrays nested more than 16 levels deep (a network file needs 3)
    """
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None
    if _nesting(data) > MAX_NESTING:
        raise ValueError(_TOO_DEEP)
    return data


def check_layout(data: Mapping[str, Any]) -> None:
    """Check the shape of a raw network table before any value is read.

    Allowed: the tables ``[network]``, ``[nodes.NAME]`` (at least one; NAME of
    :data:`~qnet.network.hardware.NAME_RULE`) and the array ``[[fibres]]`` of tables, nested at most
    :data:`MAX_NESTING` levels deep.

    Parameters
    ----------
    data : Mapping
        The raw network table.

    Raises
    ------
    QnetError
        One line naming the first table that breaks the layout.

    Examples
    --------
    >>> check_layout({"nodes": {"alice": {"kind": "memory"}}})
    >>> check_layout({"nodes": {}, "links": []})
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: links = [] is invalid: unknown table; a network file has [network], [nodes.NAME] and [[fibres]]
    """
    if not isinstance(data, Mapping):
        raise ConfigError("network file", None, type(data).__name__, "must be a table")
    if _nesting(dict(data)) > MAX_NESTING:
        raise QnetError(f"network table refused: {_TOO_DEEP}")
    for key in data:
        if key not in ("network", "nodes", "fibres"):
            raise ConfigError(
                shown_key(key),
                None,
                data[key],
                "unknown table; a network file has [network], [nodes.NAME] and [[fibres]]",
            )
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

    Examples
    --------
    >>> path, value = parse_override("fibres.alice-station.length_km=2.5")
    >>> str(path), value
    ('fibres.alice-station.length_km', 2.5)
    >>> parse_override("nodes.alice.decay=gaussian")[1]
    'gaussian'
    >>> parse_override("nodes.alice.t2_s")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: --set 'nodes.alice.t2_s': expected SECTION.NAME.FIELD=VALUE (e.g. nodes.alice.t2_s=1.5)
    """
    if "=" not in text:
        raise QnetError(f"--set {text!r}: expected SECTION.NAME.FIELD=VALUE (e.g. nodes.alice.t2_s=1.5)")
    key, raw = text.split("=", 1)
    path = FieldPath.parse(key.strip(), context=f"--set {text}")
    raw = raw.strip()
    try:
        parsed = parse_toml(f"v = {raw}")
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

    Parameters
    ----------
    data : Mapping
        The raw network table (left unchanged).
    overrides : iterable of str
        ``--set`` arguments, ``SECTION.NAME.FIELD=VALUE``.

    Returns
    -------
    dict
        A deep copy of ``data`` with the values written in.

    Raises
    ------
    QnetError
        On a bad layout, a malformed override or one naming a node, fibre or field that does not exist.

    Examples
    --------
    >>> table = {"nodes": {"alice": {"kind": "memory", "t2_s": 1.0}}}
    >>> apply_overrides(table, ["nodes.alice.t2_s=0.5"])["nodes"]["alice"]["t2_s"], table["nodes"]["alice"]["t2_s"]
    (0.5, 1.0)
    """
    check_layout(data)
    out: dict[str, Any] = copy.deepcopy(dict(data))
    for text in overrides:
        path, value = parse_override(text)
        path.set(out, value, context=f"--set {text!r}")
    return out
