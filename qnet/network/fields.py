"""One name for one field of a network table: ``nodes.NAME.FIELD``, ``fibres.NAME.FIELD``, ``network.FIELD``.

:class:`FieldPath` parses such a key, checks that it names a node or fibre and a field that
exist, reads it from and writes it into a raw network table (the dict a TOML file parses to).
``--set``, sweeps (``--vary``/``--values``) and ``qnet optimize`` all go through it, so a key
means the same everywhere and is refused with the same one-line error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, MutableMapping

from qnet.errors import QnetError
from qnet.network.hardware import NODE_KINDS, Fibre, default_fibre_name, shown_key

__all__ = ["FieldPath", "SECTIONS", "NETWORK_FIELDS", "fibre_name"]

#: The tables a key can address.
SECTIONS = ("nodes", "fibres", "network")
#: The fields of the ``[network]`` table.
NETWORK_FIELDS = ("fibre_speed_km_per_s", "name", "description")


def fibre_name(table: Mapping[str, Any]) -> str:
    """The name of a raw ``[[fibres]]`` table: its ``name``, else ``"A-B"`` (:func:`default_fibre_name`).

    Parameters
    ----------
    table : Mapping
        One entry of the raw ``fibres`` array.

    Returns
    -------
    str
        The fibre's name, as ``--set fibres.NAME.FIELD`` addresses it.

    Examples
    --------
    >>> fibre_name({"a": "alice", "b": "mid"}), fibre_name({"a": "alice", "b": "mid", "name": "f1"})
    ('alice-mid', 'f1')
    """
    return str(table.get("name", default_fibre_name(str(table.get("a")), str(table.get("b")))))


#: Node fields that are tables; one entry is addressed as nodes.NAME.FIELD.KEY (``--set``, sweeps).
TABLE_FIELDS = ("memory_split",)

_SHAPES = "nodes.NAME.FIELD, fibres.NAME.FIELD, network.FIELD or nodes.NAME.memory_split.STATION"


@dataclass(frozen=True)
class FieldPath:
    """The address of one field of a network table (or of one entry of a table-valued node field).

    Parameters
    ----------
    section : str
        ``"nodes"``, ``"fibres"`` or ``"network"``.
    name : str or None
        The node or fibre name (None for ``network``).
    field : str
        The field within that table.
    key : str or None
        One entry of a table-valued node field (:data:`TABLE_FIELDS`), e.g. the station of
        ``nodes.r1.memory_split.s1``; None for a whole field.

    Examples
    --------
    >>> p = FieldPath.parse("nodes.alice.t2_s")
    >>> p, str(p)
    (FieldPath(section='nodes', name='alice', field='t2_s', key=None), 'nodes.alice.t2_s')
    >>> table = {"nodes": {"alice": {"kind": "memory", "t2_s": 1.0}}}
    >>> p.get(table), p.replace(table, 2.0)["nodes"]["alice"]["t2_s"], table["nodes"]["alice"]["t2_s"]
    (1.0, 2.0, 1.0)
    >>> FieldPath.parse("nodes.alice")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: 'nodes.alice': a field must be nodes.NAME.FIELD, fibres.NAME.FIELD, network.FIELD or nodes.NAME.memory_split.STATION
    >>> split = FieldPath.parse("nodes.alice.memory_split.s1")
    >>> str(split), split.replace(table, 2)["nodes"]["alice"]["memory_split"]
    ('nodes.alice.memory_split.s1', {'s1': 2})
    """

    section: str
    name: str | None
    field: str
    key: str | None = None

    @classmethod
    def parse(cls, key: str, context: str | None = None) -> "FieldPath":
        """Parse ``key``; ``context`` (e.g. ``"--set nodes.a.x=1"``) names it in the error.

        Parameters
        ----------
        key : str
            ``nodes.NAME.FIELD``, ``fibres.NAME.FIELD``, ``network.FIELD`` or
            ``nodes.NAME.FIELD.KEY`` for a table-valued field (:data:`TABLE_FIELDS`).
        context : str, optional
            What the error message quotes instead of ``key``.

        Returns
        -------
        FieldPath

        Raises
        ------
        QnetError
            If the key has none of those shapes.

        Examples
        --------
        >>> FieldPath.parse("network.fibre_speed_km_per_s")
        FieldPath(section='network', name=None, field='fibre_speed_km_per_s', key=None)
        """
        parts = tuple(p.strip() for p in str(key).split("."))
        shaped = (
            (parts[0] in ("nodes", "fibres") and len(parts) == 3)
            or (parts[0] == "network" and len(parts) == 2)
            or (parts[0] == "nodes" and len(parts) == 4 and parts[2] in TABLE_FIELDS)
        )
        if not shaped or not all(parts):
            where = context if context is not None else key
            raise QnetError(f"{where!r}: a field must be {_SHAPES}")
        if parts[0] == "network":
            return cls("network", None, parts[1])
        return cls(parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else None)

    def __str__(self) -> str:
        return ".".join(p for p in (self.section, self.name, self.field, self.key) if p is not None)

    def _table(self, data: Mapping[str, Any], context: str) -> Any:
        """The node, fibre or network table this path points into (QnetError when absent)."""
        if self.section == "network":
            return data.get("network", {})
        if self.section == "nodes":
            nodes = data.get("nodes", {})
            if self.name not in nodes:
                raise QnetError(f"{context}: no node named {self.name!r} (nodes: {', '.join(sorted(nodes))})")
            return nodes[self.name]
        fibres = [f for f in data.get("fibres", []) if isinstance(f, Mapping)]
        names = [fibre_name(f) for f in fibres]
        if self.name not in names:
            raise QnetError(f"{context}: no fibre named {self.name!r} (fibres: {', '.join(map(shown_key, names))})")
        return fibres[names.index(self.name)]

    def check(self, data: Mapping[str, Any], context: str | None = None) -> None:
        """Fail fast when the node, fibre or field does not exist in the table ``data``.

        Values are not checked here (the network's validation names a bad value).

        Parameters
        ----------
        data : Mapping
            The raw network table.
        context : str, optional
            What the error message names (default: the key).

        Raises
        ------
        QnetError
            Naming the missing node or fibre (with the existing ones) or the unknown field (with the allowed ones).

        Examples
        --------
        >>> table = {"nodes": {"alice": {"kind": "memory"}}}
        >>> FieldPath.parse("nodes.alice.t2_s").check(table)
        >>> FieldPath.parse("nodes.alice.t3_s").check(table)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        qnet.errors.QnetError: nodes.alice.t3_s: unknown field 't3_s'; allowed: bright_state_population, ...
        """
        where = context if context is not None else str(self)
        table = self._table(data, where)
        if self.section == "network":
            allowed = list(NETWORK_FIELDS)
        elif self.section == "nodes":
            cls = NODE_KINDS.get(str(table.get("kind"))) if isinstance(table, Mapping) else None
            if cls is None:
                return  # the network's own validation reports the bad kind
            allowed = [f for f in cls.public_fields() if f != "name"]
        else:
            allowed = [f for f in Fibre.public_fields() if f not in ("name", "a", "b")]
        if self.field not in allowed:
            raise QnetError(f"{where}: unknown field {self.field!r}; allowed: {', '.join(sorted(allowed))}")

    def get(self, data: Mapping[str, Any], default: Any = None) -> Any:
        """The field's value in ``data`` (``default`` when the table does not set it).

        Examples
        --------
        >>> table = {"fibres": [{"a": "alice", "b": "mid", "length_km": 2.0}]}
        >>> FieldPath.parse("fibres.alice-mid.length_km").get(table), FieldPath.parse("network.name").get(table, "")
        (2.0, '')
        """
        value = self._table(data, str(self)).get(self.field, default)
        if self.key is None:
            return value
        return value.get(self.key, default) if isinstance(value, Mapping) else default

    def set(self, data: MutableMapping[str, Any], value: Any, context: str | None = None) -> None:
        """Write ``value`` into ``data`` in place (the ``[network]`` table is created if absent).

        Examples
        --------
        >>> table = {"nodes": {"alice": {"kind": "memory"}}}
        >>> FieldPath.parse("network.fibre_speed_km_per_s").set(table, 1.5e5)
        >>> table["network"]
        {'fibre_speed_km_per_s': 150000.0}
        """
        if self.section == "network":
            data.setdefault("network", {})[self.field] = value
            return
        table = self._table(data, context if context is not None else str(self))
        table[self.field] = self._field_value(table, value)

    def replace(self, data: Mapping[str, Any], value: Any) -> dict[str, Any]:
        """A copy of ``data`` with this field set to ``value``; ``data`` is not changed.

        Only the tables on the path are copied (the rest is shared), so this is cheap in sweeps.

        Examples
        --------
        >>> table = {"fibres": [{"a": "alice", "b": "mid", "length_km": 2.0}]}
        >>> FieldPath.parse("fibres.alice-mid.length_km").replace(table, 5.0)["fibres"], table["fibres"]
        ([{'a': 'alice', 'b': 'mid', 'length_km': 5.0}], [{'a': 'alice', 'b': 'mid', 'length_km': 2.0}])
        """
        out = dict(data)
        if self.section == "network":
            out["network"] = {**data.get("network", {}), self.field: value}
            return out
        self._table(data, str(self))  # the same error as get/set for a missing node or fibre
        if self.section == "nodes":
            node = data["nodes"][self.name]
            out["nodes"] = {**data["nodes"], self.name: {**node, self.field: self._field_value(node, value)}}
        else:
            out["fibres"] = [
                {**f, self.field: value} if isinstance(f, Mapping) and fibre_name(f) == self.name else f
                for f in data["fibres"]
            ]
        return out

    def _field_value(self, table: Mapping[str, Any], value: Any) -> Any:
        """The field's new value: ``value``, or for a key the field's table with that entry set."""
        if self.key is None:
            return value
        old = table.get(self.field)
        return {**(old if isinstance(old, Mapping) else {}), self.key: value}
