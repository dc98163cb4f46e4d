"""The grid of a sweep: axes of fields and values, their outer product, and point values.

An :class:`Axis` gives one or more fields (``nodes.NAME.FIELD``, ``fibres.NAME.FIELD``,
``network.FIELD``: a :class:`~qnet.network.fields.FieldPath`, the keys of ``qnet link --set``)
and their values; fields of one axis vary *together*. :class:`Grid` is the outer product of
the axes, the last axis varying fastest, generated point by point and never listed
(:func:`grid` lists a small one). :func:`parse_vary` reads ``FIELD[,FIELD...]=START:STOP:N[:log]``
into a :class:`~qnet.studies.ranges.Range` (values computed on demand) and :func:`parse_values`
reads ``FIELD[,FIELD...]=V1,V2,...`` (TOML values; a bare word is a string).

Only the standard library is imported at module level.
"""

from __future__ import annotations

import json
import math
import numbers
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from qnet.errors import QnetError
from qnet.network.fields import FieldPath
from qnet.network.writer import toml_scalar
from qnet.studies.ranges import Range, RangeError, parse_list, parse_range
from qnet.studies.sweep.table import canonical

__all__ = [
    "Axis",
    "parse_vary",
    "parse_values",
    "Grid",
    "grid",
    "MAX_POINTS",
    "check_field",
    "Range",
    "toml_value",
    "toml_literal",
    "json_value",
    "RUN_FIELDS",
]

#: Axis fields that are not network fields but parameters of the run itself: ``seed`` (the Monte
#: Carlo seed of a chain or traffic point; an axis over it is a set of replications).
RUN_FIELDS = ("seed",)


@dataclass(frozen=True)
class Axis:
    """Fields that vary together over ``values`` (one grid dimension).

    ``values`` is any sequence: a tuple, or a :class:`~qnet.studies.ranges.Range` (what
    :func:`parse_vary` gives), whose values are computed on demand.

    Parameters
    ----------
    fields : tuple of str
        The keys (``nodes.NAME.FIELD``, ``fibres.NAME.FIELD``, ``network.FIELD``).
    values : sequence
        The values the fields take together.
    text : str
        How the user wrote it (for error messages and the metadata).

    Raises
    ------
    QnetError
        For no field, no value, or a key of the wrong shape.

    Examples
    --------
    >>> axis = Axis(("nodes.alice.t2_s",), (0.5, 1.0))
    >>> axis.as_dict()
    {'fields': ['nodes.alice.t2_s'], 'values': [0.5, 1.0], 'text': ''}
    """

    fields: tuple[str, ...]
    values: Sequence[Any]
    text: str = ""  # how the user wrote it (for the metadata)

    def __post_init__(self) -> None:
        if not self.fields:
            raise QnetError("an axis needs at least one field")
        if not isinstance(self.values, Range):
            object.__setattr__(self, "values", tuple(self.values))
        if not len(self.values):
            raise QnetError(f"axis {', '.join(self.fields)}: no values")
        for f in self.fields:
            if f not in RUN_FIELDS:
                FieldPath.parse(f, context=self.text or f)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: a range as its specification (start, stop, n, spacing), a list as its values."""
        if isinstance(self.values, Range):
            return {"fields": list(self.fields), "range": self.values.as_dict(), "text": self.text}
        return {"fields": list(self.fields), "values": [json_value(v) for v in self.values], "text": self.text}


def _split_fields(text: str, option: str) -> tuple[tuple[str, ...], str]:
    if "=" not in text:
        raise QnetError(f"{option} {text!r}: expected FIELD=... (e.g. fibres.alice-station.length_km=1:50:20)")
    left, right = text.split("=", 1)
    fields = tuple(f.strip() for f in left.split(","))
    if len(set(fields)) != len(fields):
        raise QnetError(f"{option} {text!r}: a field is named twice")
    for f in fields:
        if f not in RUN_FIELDS:
            FieldPath.parse(f, context=f"{option} {text}")
    return fields, right.strip()


def parse_vary(text: str) -> Axis:
    """``FIELD[,FIELD...]=START:STOP:N[:log]``: N values from START to STOP (both included).

    Evenly spaced by default; ``:log`` spaces them geometrically (START, STOP > 0). Comma-joined
    fields take the same values together.

    Parameters
    ----------
    text : str
        The option's text, e.g. ``"fibres.alice-station.length_km=1:50:20"``.

    Returns
    -------
    Axis
        With a :class:`~qnet.studies.ranges.Range` of values.

    Raises
    ------
    QnetError
        One line naming the option, for a malformed key or range.

    Examples
    --------
    >>> axis = parse_vary("nodes.alice.t2_s,nodes.bob.t2_s=1:2:3")
    >>> axis.fields, list(axis.values)
    (('nodes.alice.t2_s', 'nodes.bob.t2_s'), [1.0, 1.5, 2.0])
    """
    fields, spec = _split_fields(text, "--vary")
    try:
        values = parse_range(spec)
    except RangeError as exc:
        raise QnetError(f"--vary {text!r}: {exc}") from None
    return Axis(fields, values, f"--vary {text}")


def toml_value(raw: str) -> Any:
    """A value as TOML reads it (``1e3``, ``inf``, ``true``, ``"a"``); a bare word stays a string.

    Parameters
    ----------
    raw : str
        One value as written on the command line.

    Returns
    -------
    int, float, bool or str

    Examples
    --------
    >>> toml_value(" 1e3"), toml_value("inf"), toml_value("true"), toml_value("gaussian")
    (1000.0, inf, True, 'gaussian')
    """
    raw = raw.strip()
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # a bare word such as gaussian


def parse_values(text: str) -> Axis:
    """``FIELD[,FIELD...]=V1,V2,...``: an explicit list of values (TOML values, or bare words).

    Comma-joined fields take each value together, as with ``--vary``.

    Parameters
    ----------
    text : str
        The option's text, e.g. ``"nodes.bob.decay=exponential,gaussian"``.

    Returns
    -------
    Axis
        With the values as a tuple.

    Raises
    ------
    QnetError
        One line naming the option, for a malformed key or an empty value.

    Examples
    --------
    >>> parse_values("nodes.alice.t2_s=0.5,1,inf").values
    (0.5, 1, inf)
    """
    fields, spec = _split_fields(text, "--values")
    try:
        values = parse_list(spec, toml_value)
    except RangeError as exc:
        raise QnetError(f"--values {text!r}: {exc}") from None
    return Axis(fields, values, f"--values {text}")


#: The most points one sweep may have. Beyond about 10^8 points a table is tens of GB (a link
#: row is about 300 bytes of CSV), a resumed or Parquet sweep rewrites it in memory (about 1 kB
#: per row), and at 10^4 - 10^5 points/s per core the run takes hours to days: such a grid is
#: refused before anything is computed or written (split it into several sweeps).
MAX_POINTS = 10**8


#: The most inner points :class:`Grid` lists once while iterating (more are generated again per outer value).
_KEPT_TAILS = 1 << 16


class Grid:
    """The outer product of axes, last axis fastest, never listed in memory.

    ``len(grid)`` points; iterating yields each point as a tuple aligned with ``fields``;
    :meth:`index` finds a point's position from its values (what a resumed sweep needs).

    Parameters
    ----------
    axes : sequence of Axis
        The grid's dimensions, the last one varying fastest.

    Raises
    ------
    QnetError
        When a field is varied by two axes.

    Examples
    --------
    >>> g = Grid([parse_vary("nodes.a.t2_s=1:2:2"), parse_values("nodes.b.t2_s=5,6,7")])
    >>> len(g), g.fields, list(g)[:2], g.index((2.0, 6.0))
    (6, ('nodes.a.t2_s', 'nodes.b.t2_s'), [(1.0, 5), (1.0, 6)], 4)
    """

    def __init__(self, axes: Sequence[Axis]):
        fields: list[str] = []
        for axis in axes:
            for f in axis.fields:
                if f in fields:
                    raise QnetError(f"field {f!r} is varied by two axes; join them into one (FIELD1,FIELD2=...)")
                fields.append(f)
        self.axes = tuple(axes)
        self.fields = tuple(fields)
        self.sizes = tuple(len(a.values) for a in self.axes)
        self.size = math.prod(self.sizes)
        self._lookups: list[Any] = [None] * len(self.axes)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self._points(0)

    def _points(self, k: int) -> Iterator[tuple[Any, ...]]:
        if k == len(self.axes):
            yield ()
            return
        width = len(self.axes[k].fields)
        if k == len(self.axes) - 1:
            if width == 1:
                yield from ((v,) for v in self.axes[k].values)
            else:
                yield from ((v,) * width for v in self.axes[k].values)
            return
        tails: Any = None
        if math.prod(self.sizes[k + 1 :]) <= _KEPT_TAILS:  # the inner points, listed once (not per outer value)
            tails = list(self._points(k + 1))
        for v in self.axes[k].values:
            head = (v,) * width
            for tail in self._points(k + 1) if tails is None else tails:
                yield head + tail

    @property
    def has_repeats(self) -> bool:
        """Whether some point occurs twice (an axis repeats a value)."""
        for k, axis in enumerate(self.axes):
            values = axis.values
            if isinstance(values, Range):
                if values.n > 1 and (values.start == values.stop or not values.distinct()):
                    return True
            elif len(self._lookup(k)[0]) != len(values):
                return True
        return False

    def _lookup(self, k: int) -> tuple[dict[Any, int], dict[Any, int]]:
        """(first position, count) of each canonical value of an explicit axis, built once."""
        if self._lookups[k] is None:
            first: dict[Any, int] = {}
            count: dict[Any, int] = {}
            for i, v in enumerate(self.axes[k].values):
                c = canonical(v)
                first.setdefault(c, i)
                count[c] = count.get(c, 0) + 1
            self._lookups[k] = (first, count)
        return self._lookups[k]

    def _axis_value(self, k: int, key: Sequence[Any], start: int) -> Any:
        part = key[start : start + len(self.axes[k].fields)]
        return part[0] if all(c == part[0] for c in part) else _MISSING

    def index(self, key: Sequence[Any]) -> int | None:
        """The first position of the point with these canonical values (:func:`canonical`), or None."""
        if len(key) != len(self.fields):
            return None
        position, start = 0, 0
        for k, axis in enumerate(self.axes):
            c = self._axis_value(k, key, start)
            start += len(axis.fields)
            if isinstance(axis.values, Range):
                try:
                    i = axis.values.index(c)
                except ValueError:
                    return None
            else:
                found = self._lookup(k)[0].get(c) if c is not _MISSING else None
                if found is None:
                    return None
                i = found
            position = position * self.sizes[k] + i
        return position

    def count(self, key: Sequence[Any]) -> int:
        """How many positions of the grid hold the point with these canonical values."""
        if self.index(key) is None:
            return 0
        n, start = 1, 0
        for k, axis in enumerate(self.axes):
            c = self._axis_value(k, key, start)
            start += len(axis.fields)
            n *= axis.values.count(c) if isinstance(axis.values, Range) else self._lookup(k)[1][c]
        return n


_MISSING = object()


def grid(axes: Sequence[Axis]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """(fields, points): the outer product of the axes as a list, last axis fastest.

    Each point is a tuple aligned with ``fields`` (the fields of every axis, in order). For a
    large grid use :class:`Grid`, which never lists its points.

    Parameters
    ----------
    axes : sequence of Axis
        The grid's dimensions.

    Returns
    -------
    (tuple of str, list of tuple)

    Examples
    --------
    >>> grid([parse_values("nodes.a.t2_s=1,2"), parse_values("fibres.a-s.length_km,fibres.s-b.length_km=10,20")])
    (('nodes.a.t2_s', 'fibres.a-s.length_km', 'fibres.s-b.length_km'), [(1, 10, 10), (1, 20, 20), (2, 10, 10), (2, 20, 20)])
    """
    g = Grid(axes)
    return g.fields, list(g)


def check_field(network: Mapping[str, Any], key: str) -> None:
    """Fail fast when ``key`` names no node, fibre or field of the network table.

    Invalid *values* are not checked here: they become per-point errors. The one field of the
    ``[network]`` table a sweep may vary is ``fibre_speed_km_per_s``.

    Parameters
    ----------
    network : mapping
        The raw network table (a parsed TOML file).
    key : str
        The field (:class:`~qnet.network.fields.FieldPath` syntax).

    Raises
    ------
    QnetError
        One line naming the key and what is wrong.

    Examples
    --------
    >>> table = {"nodes": {"alice": {"kind": "memory"}}}
    >>> check_field(table, "nodes.alice.t2_s")
    >>> check_field(table, "nodes.zed.t2_s")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: nodes.zed.t2_s: no node named 'zed' (nodes: alice)
    """
    path = FieldPath.parse(key)
    if path.section == "network" and path.field != "fibre_speed_km_per_s":
        raise QnetError(f"{key}: unknown field; the network table's numeric field is fibre_speed_km_per_s")
    path.check(network, context=key)


def json_value(v: Any) -> Any:
    """A point value as JSON can hold it: numbers as int/float, non-finite floats as their repr.

    Parameters
    ----------
    v : object
        A point value (bool, number, str or None; anything else becomes its str).

    Returns
    -------
    bool, int, float, str or None

    Examples
    --------
    >>> json_value(1.5), json_value(float("inf")), json_value(True), json_value(2)
    (1.5, 'inf', True, 2)
    """
    if isinstance(v, (bool, str)) or v is None:
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        return v if math.isfinite(v) else repr(v)
    return str(v)


def toml_literal(value: Any) -> str:
    """``value`` as a TOML literal for an override string (exact for floats, numpy scalars too).

    The inverse of :func:`toml_value`: ``toml_value(toml_literal(v)) == v``.

    Parameters
    ----------
    value : object
        A point value (bool, number, numpy scalar or str).

    Returns
    -------
    str

    Examples
    --------
    >>> toml_literal(0.1), toml_literal(float("-inf")), toml_literal(True), toml_literal("gaussian")
    ('0.1', '-inf', 'true', '"gaussian"')
    """
    try:
        return toml_scalar(value)
    except TypeError:
        return json.dumps(str(value))
