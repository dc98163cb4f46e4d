"""The fast path of a link sweep: a point's values -> the link's LinkSpec, without rebuilding the network.

:class:`LinkPoints` builds the base network once and replaces, per point, only the hardware
objects the point touches; :func:`link_points` keeps one per network table in this process.

Only the standard library is imported at module level.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import operator
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Mapping, Sequence, cast

from qnet.errors import QnetError
from qnet.network.fields import FieldPath
from qnet.studies.sweep.axes import toml_literal

if TYPE_CHECKING:  # pragma: no cover
    from qnet.studies.sweep.evaluators import LinkEvaluator

__all__ = ["LinkPoints", "link_points", "clear_points"]

_NUMBER = (int, float)
_keys = operator.methodcaller("keys")


def _value_key(value: Any) -> Any:
    """A dict key of a point value that tells apart what the network would tell apart.

    The type is part of it (True, 1, 1.0 and numpy's bool are different inputs), and so is
    the sign of a zero (-0.0 prints differently).
    """
    if value == value and value != 0:
        return (type(value), value)
    return (type(value), repr(value))


def _override_value(value: Any) -> Any:
    """The value a ``--set KEY=<literal>`` override gives the network (what the full path sees)."""
    kind = type(value)
    if kind is float or (kind is int and -(2**63) <= value < 2**63):
        return value  # repr round-trips exactly through TOML
    from qnet.network.tables import parse_override

    return parse_override(f"network.x={toml_literal(value)}")[1]


class LinkPoints:
    """A link evaluator's points -> (LinkSpec, fibre transmission), building the network once.

    The base network (the table with ``--set`` applied) is validated once; a point's values
    replace only the hardware objects they touch (``dataclasses.replace``: the objects
    validate themselves again), each distinct (object, fields, values) once per process.
    Anything unusual (a key or value the fast path does not know, a value that fails
    validation, a base network that does not build) goes through the full path,
    ``network_from_dict`` with the point's overrides then ``link_spec`` (:meth:`full_spec`), so
    error messages are exactly the full path's (``tests/studies/test_sweep_fast.py`` holds the
    two paths equal).

    Parameters
    ----------
    ev : LinkEvaluator
        The evaluator whose network, link and overrides are used.

    Examples
    --------
    >>> import tomllib
    >>> from qnet.studies.sweep import LinkEvaluator
    >>> with open("examples/liu2026_ion_link.toml", "rb") as fh:
    ...     table = tomllib.load(fh)
    >>> points = LinkPoints(LinkEvaluator(network=table, a="alice", b="bob"))
    >>> spec, eta = points.spec({"fibres.alice-station.length_km": 10.0})
    >>> spec.length_a_km, points.full_spec({"fibres.alice-station.length_km": 10.0})[0] == spec
    (10.0, True)
    """

    def __init__(self, ev: "LinkEvaluator"):
        from qnet.quantum.channels import fibre_transmission
        from qnet.network.hardware import Fibre, MemoryNode, Station
        from qnet.link.spec import find_station, spec_from_hardware
        from qnet.network.graph import network_data

        self.ev = ev
        self.plans: dict[tuple, Any] = {}
        self.objects: dict[tuple, dict] = {}  # (object, fields) -> {values: replaced object}
        self.base: dict[tuple, Any] | None = None
        # the column path's instructions (qnet.studies.sweep.linkcolumns), by (structure, position, field bits)
        self.column_ops: dict[tuple, Any] = {}
        try:
            net = network_data(ev.network, source=ev.source, overrides=ev.overrides)  # (no networkx: see there)
            s = find_station(net, ev.a, ev.b, ev.station)
        except Exception:
            return  # every point takes the full path (and reports what is wrong)
        base: dict[tuple, Any] = {("nodes", n): d["hardware"] for n, d in net.nodes.items()}
        for fibre in net.fibres:
            base[("fibres", fibre.name)] = fibre
        self.allowed = {
            MemoryNode: frozenset(MemoryNode.public_fields()) - {"name"},
            Station: frozenset(Station.public_fields()) - {"name"},
            Fibre: frozenset(("length_km", "attenuation_db_per_km")),
        }
        self.base = base
        self.speed = net.attributes["fibre_speed_km_per_s"]
        self.s = s
        self.link = (
            ("nodes", s),
            ("nodes", ev.a),
            ("nodes", ev.b),
            ("fibres", net.adj[ev.a][s]["fibre"].name),
            ("fibres", net.adj[ev.b][s]["fibre"].name),
        )
        self.link_objects = tuple(base[t] for t in self.link)  # station, memory A, memory B, fibre A, fibre B
        self.transmission: dict[int, float] = {}  # id(fibre) -> fibre_transmission
        self.spec_from_hardware, self.fibre_transmission = spec_from_hardware, fibre_transmission

    def _plan(self, keys: tuple[str, ...]) -> Any:
        """How a point with these keys changes the network, or None (the full path).

        (per object: its key, the fields set, the point keys, the object's slot in the link
        or None, the cache of replaced objects), and the key of the fibre speed or None.
        """
        targets: dict[tuple, list[tuple[str, str]]] = {}
        speed = None
        for key in keys:
            if not isinstance(key, str) or "=" in key:
                return None
            try:
                path = FieldPath.parse(key)
            except QnetError:
                return None
            if str(path) != key:  # blanks around a part: the full path decides
                return None
            if path.section == "network":
                if path.field == "fibre_speed_km_per_s":
                    speed = key
                else:  # name and description change no number, but the full build checks they are strings
                    return None
                continue
            target = (path.section, path.name)
            obj = (self.base or {}).get(target)
            if obj is None or path.field not in self.allowed.get(type(obj), ()):
                return None
            targets.setdefault(target, []).append((path.field, key))
        plan = []
        for target, fk in targets.items():
            names = tuple(f for f, _ in fk)
            cache = self.objects.setdefault((target, names), {})
            slot = self.link.index(target) if target in self.link else None
            plan.append((target, names, tuple(k for _, k in fk), slot, cache))
        return tuple(plan), speed

    def spec(self, point: Mapping[str, Any]) -> tuple[Any, float]:
        """(LinkSpec, fibre transmission of both arms) of one point; raises what the full path raises.

        The fast path where it applies, else :meth:`full_spec`.
        """
        found = self.hardware(point)
        if found is not None:
            try:
                return self.spec_of(*found)
            except Exception:
                pass  # the full path reports it
        return self.full_spec(point)

    def hardware(self, point: Mapping[str, Any]) -> tuple[tuple, float] | None:
        """The point's link hardware on the fast path, or None where it takes the full path.

        Returns
        -------
        ((station, memory A, memory B, fibre A, fibre B), fibre speed in km/s), or None
            The objects (validated; shared by the points with the same values) and the speed.
        """
        if self.base is None:
            return None
        keys = tuple(point)
        plan = self.plans.get(keys, False)
        if plan is False:
            plan = self.plans[keys] = self._plan(keys)
        if plan is None:
            return None
        try:
            return self._objects(point, *plan)
        except Exception:
            return None  # the full path reports it

    def hardware_all(self, points: Sequence[Mapping[str, Any]]) -> list[tuple[tuple, float] | None]:
        """:meth:`hardware` of every point; a chunk whose points share their fields is read column by column.

        Each distinct value of a field is looked up (or validated) once, as :meth:`hardware`
        does it, and the objects are picked for all the points at once.
        """
        if self.base is None or not points:
            return [None] * len(points)
        first = points[0].keys()
        plan = self.plans.get(tuple(first), False)
        if plan is False:
            plan = self.plans[tuple(first)] = self._plan(tuple(first))
        if plan is None or plan[1] is not None or not all(map(first.__eq__, map(_keys, points))):
            return [self.hardware(p) for p in points]  # a fibre speed per point, or mixed fields
        columns: list[Any] = list(self.link_objects)
        bad: set[int] = set()
        for target, names, keys, slot, cache in plan[0]:
            objects, invalid = self._column(points, target, names, keys, cache)
            if invalid:
                bad.update(i for i, obj in enumerate(objects) if obj is _INVALID)
            if slot is not None:
                columns[slot] = objects
        n = len(points)
        rows = zip(*[col if isinstance(col, list) else itertools.repeat(col, n) for col in columns])
        found: list[tuple[tuple, float] | None] = list(zip(rows, itertools.repeat(self.speed, n)))
        for i in bad:
            found[i] = None  # the full path reports it
        return found

    def _column(
        self, points: Sequence[Mapping[str, Any]], target: tuple, names: tuple, keys: tuple, cache: dict
    ) -> tuple[list, bool]:
        """(the replaced object of ``target`` at every point (``_INVALID`` where a value fails), whether one fails)."""
        if len(keys) == 1:
            values = list(map(operator.itemgetter(keys[0]), points))
            plain = all(type(v) is float and v == v and v != 0.0 for v in dict.fromkeys(values))
            cks = values if plain else [_value_key(v) for v in values]
        else:
            cks = [tuple([_value_key(p[k]) for k in keys]) for p in points]
        distinct = dict.fromkeys(cks)
        for ck in distinct:
            if ck not in cache:  # validated once per distinct value, as in hardware()
                point = points[cks.index(ck)]
                try:
                    cache[ck] = dataclasses.replace(
                        cast(dict, self.base)[target], **{f: _override_value(point[k]) for f, k in zip(names, keys)}
                    )
                except Exception:
                    cache[ck] = _INVALID
        return list(map(cache.__getitem__, cks)), any(cache[ck] is _INVALID for ck in distinct)

    def transmissions(self, fib_a: Any, fib_b: Any) -> tuple[float, float]:
        """The fibres' :func:`~qnet.quantum.channels.fibre_transmission`, each computed once."""
        transmission = self.transmission
        ta = transmission.get(id(fib_a))
        if ta is None:  # the fibres are kept alive by the caches: their ids are stable
            ta = transmission[id(fib_a)] = self.fibre_transmission(fib_a.length_km, fib_a.attenuation_db_per_km)
        tb = transmission.get(id(fib_b))
        if tb is None:
            tb = transmission[id(fib_b)] = self.fibre_transmission(fib_b.length_km, fib_b.attenuation_db_per_km)
        return ta, tb

    def spec_of(self, objects: tuple, c: float) -> tuple[Any, float]:
        """(LinkSpec, fibre transmission of both arms) of the link hardware :meth:`hardware` found."""
        st, mem_a, mem_b, fib_a, fib_b = objects
        ta, tb = self.transmissions(fib_a, fib_b)
        ev = self.ev
        return self.spec_from_hardware(ev.a, ev.b, self.s, st, mem_a, mem_b, fib_a, fib_b, c, (ta, tb)), ta * tb

    def _objects(self, point: Mapping[str, Any], targets: tuple, speed_key: str | None) -> tuple[tuple, float] | None:
        objects = list(self.link_objects)
        for target, names, keys, slot, cache in targets:
            if len(keys) == 1:
                v = point[keys[0]]
                ck = v if (type(v) is float and v == v and v != 0.0) else _value_key(v)
            else:
                ck = tuple([_value_key(point[k]) for k in keys])
            obj = cache.get(ck)
            if obj is None:
                try:
                    obj = dataclasses.replace(
                        cast(dict, self.base)[target], **{f: _override_value(point[k]) for f, k in zip(names, keys)}
                    )
                except Exception:
                    obj = _INVALID
                cache[ck] = obj
            if obj is _INVALID:
                return None  # the full path reports it
            if slot is not None:
                objects[slot] = obj
        c = self.speed
        if speed_key is not None:
            c = _override_value(point[speed_key])
            if isinstance(c, bool) or not isinstance(c, _NUMBER) or not (0 < c < math.inf):
                return None
            c = float(c)
        return tuple(objects), c

    def full_spec(self, point: Mapping[str, Any]) -> tuple[Any, float]:
        """The reference path: ``network_from_dict`` with the point as ``--set`` overrides, then ``link_spec``."""
        from qnet.quantum.channels import fibre_transmission
        from qnet.link.spec import link_spec
        from qnet.network.graph import network_from_dict

        ev = self.ev
        overrides = list(ev.overrides) + [f"{k}={toml_literal(v)}" for k, v in point.items()]
        graph = network_from_dict(ev.network, source=ev.source, overrides=overrides)
        spec = link_spec(graph, ev.a, ev.b, ev.station)
        eta = 1.0
        for node in (spec.node_a, spec.node_b):
            fibre = graph.edges[node, spec.station]["fibre"]
            eta *= fibre_transmission(fibre.length_km, fibre.attenuation_db_per_km)
        return spec, eta


_INVALID = object()
_POINTS: "OrderedDict[tuple, LinkPoints]" = OrderedDict()
_POINTS_LOCK = threading.Lock()


def link_points(ev: "LinkEvaluator") -> LinkPoints:
    """The evaluator's :class:`LinkPoints`, kept across chunks in this process.

    Keyed by the network table's *content* (and the overrides, link and source), so a table
    changed in place between chunks is simply another entry.

    Parameters
    ----------
    ev : LinkEvaluator
        The evaluator.

    Returns
    -------
    LinkPoints

    Examples
    --------
    >>> import tomllib
    >>> from qnet.studies.sweep import LinkEvaluator
    >>> with open("examples/liu2026_ion_link.toml", "rb") as fh:
    ...     ev = LinkEvaluator(network=tomllib.load(fh), a="alice", b="bob")
    >>> link_points(ev) is link_points(ev)
    True
    """
    try:
        table = json.dumps(ev.network, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return LinkPoints(ev)
    key = (table, ev.overrides, ev.a, ev.b, ev.station, ev.source)
    with _POINTS_LOCK:
        hit = _POINTS.get(key)
        if hit is not None and sum(map(len, hit.objects.values())) < 200_000:
            _POINTS.move_to_end(key)
            return hit
    builder = LinkPoints(ev)
    with _POINTS_LOCK:
        _POINTS[key] = builder
        while len(_POINTS) > 8:
            _POINTS.popitem(last=False)
    return builder


def clear_points() -> None:
    """Forget the :class:`LinkPoints` kept by :func:`link_points` in this process.

    Examples
    --------
    >>> clear_points()
    """
    with _POINTS_LOCK:
        _POINTS.clear()
