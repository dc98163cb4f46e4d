"""Parameter sweeps at scale: a grid of points, evaluated in chunks, streamed to a table on disk.

The pieces, each usable on its own:

* **Axes and grid.** An :class:`Axis` gives one or more fields (``nodes.NAME.FIELD``,
  ``fibres.NAME.FIELD``, ``network.FIELD``, the keys of ``qnet link --set``) and their values;
  fields of one axis vary *together*. :class:`Grid` is the outer product of the axes, the last
  axis varying fastest, generated point by point and never listed (:func:`grid` lists a small
  one). :func:`parse_vary` reads ``FIELD[,FIELD...]=START:STOP:N[:log]`` into a :class:`Range`
  (values computed on demand) and :func:`parse_values` reads ``FIELD[,FIELD...]=V1,V2,...``
  (TOML values; a bare word is a string). A grid of more than :data:`MAX_POINTS` points, or
  whose table would not fit on the disk, is refused before anything is written.
* **Evaluators** (pluggable). An evaluator turns a list of points (``{field: value}`` dicts) into
  one result dict per point: its ``columns`` (numbers) or ``{"error": message}``. It must be
  picklable (it travels to worker processes and Dask workers) and may have ``describe()`` (a
  JSON-ready dict identifying what it computes: a resumed sweep must match it),
  ``chunk_size`` (preferred points per chunk) and ``for_parallel()`` (a copy configured for
  one-thread workers). For ``workers > 1`` its class must be importable from a module (worker
  processes are spawned). :class:`LinkEvaluator` evaluates one elementary link,
  :class:`ChainEvaluator` a repeater chain (exact where available, else a seeded Monte Carlo
  whose per-point seed is derived from the point, so serial, parallel and resumed sweeps agree).
* **Execution** (:func:`run_sweep`). Points go to the evaluator in chunks (256 by default:
  one Aer ``run()`` per chunk), in this process, in local worker processes (``workers > 1``,
  spawned, Aer ``max_parallel_threads=1`` each) or on an existing ``dask.distributed`` cluster
  (``dask=ADDRESS`` or a ``Client``). The Dask scheduler runs the code it is sent and qnet
  unpickles what comes back, so the cluster must be trusted; an address on another machine
  needs ``tls://`` (:func:`dask_security`) or an explicit ``dask_insecure``
  (:func:`check_dask_address`).
* **Nothing lost.** Rows are appended to the output chunk by chunk and flushed (a Parquet
  output is journalled to ``OUT.partial.csv`` and written at the end). Ctrl-C waits for the
  chunks already running, writes them and stops; a killed worker stops the sweep with every
  finished point on disk; any other failure stops it with one line saying whether to resume.
  A run that finished no point leaves no file behind. ``resume=True`` skips the points already
  in the output (matched on the varied inputs) and appends the rest, after checking that the
  output was made by the same evaluator (its ``OUT.meta.json``, naming what differs, and every
  row's ``sweep_id``). While a run writes an output it holds :func:`qnet.outputs.output_lock`
  on it: a second run on the same output fails. A point that fails (an invalid value, a link that
  never heralds) is a row with its message in ``error``. When the sweep ends (or is
  interrupted) the table is rewritten in grid order, atomically (a point listed twice in the
  grid is one row; rows of a resumed output that are not in this grid stay, after it).
* **Output.** One row per point: every varied field as a column (its full key as the name),
  the evaluator's columns (for a link: :data:`qnet.link.results.LINK_FIELDS` and
  :data:`LINK_EXTRA_COLUMNS`: total fibre length, fibre transmission, PLOB bound), then ``error``
  (empty when the point succeeded) and ``sweep_id`` (:func:`sweep_id`: what computed the row).
  CSV numbers are written with ``repr`` (they read back exactly); ``inf`` is written as
  ``inf``. A sidecar ``OUT.meta.json`` records the versions, the network file's sha256, the
  axes (a range as its START, STOP, N), the overrides, the engine, the workers and the start
  and finish times of every run into this output. The table and its sidecars follow one
  overwrite rule (:func:`check_sweep_output`).

Only the standard library is imported at module level (numpy, qiskit, dask and pyarrow are
imported where they are used).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import gc
import hashlib
import io
import itertools
import json
import math
import numbers
import operator
import os
import shutil
import sys
import threading
import time
import tomllib
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Protocol

from qnet.errors import QnetError
from qnet.studies.progress import Progress

__all__ = [
    "Axis",
    "parse_vary",
    "parse_values",
    "grid",
    "Grid",
    "Range",
    "MAX_POINTS",
    "check_field",
    "Evaluator",
    "LinkEvaluator",
    "LINK_EXTRA_COLUMNS",
    "ChainEvaluator",
    "run_sweep",
    "check_sweep_output",
    "sidecar_paths",
    "sweep_id",
    "SWEEP_ID_COLUMN",
    "check_dask_address",
    "dask_security",
    "WorkerDied",
    "SweepSummary",
    "read_table",
    "output_format",
    "clear_cache",
]

ERROR_COLUMN = "error"
#: The last column of every sweep table: :func:`sweep_id` of what computed the row.
SWEEP_ID_COLUMN = "sweep_id"
#: Columns a link sweep adds after LINK_FIELDS: the total fibre length L_A + L_B (km), the
#: fibres' transmission eta_f(L_A) eta_f(L_B), and the PLOB bound -log2(1 - eta_f) / T_att
#: (repeaterless capacity of the same fibre per attempt time, bits/s; docs/conventions.md).
LINK_EXTRA_COLUMNS = ("total_length_km", "fibre_transmission", "plob_bits_per_s")
DEFAULT_CHUNK_SIZE = 256


# --------------------------------------------------------------------------- axes and grid

class Range(Sequence):
    """N evenly (or geometrically) spaced floats from ``start`` to ``stop``, both included.

    A sequence computed on demand: a range of 10^8 values takes a few bytes, not gigabytes.
    Value ``i`` is ``start + i (stop - start)/(N - 1)`` (``start exp(i ln(stop/start)/(N - 1))``
    when ``log``), the last one exactly ``stop``.
    """

    __slots__ = ("start", "stop", "n", "log", "_step")

    def __init__(self, start: float, stop: float, n: int, log: bool = False):
        self.start, self.stop, self.n, self.log = float(start), float(stop), int(n), bool(log)
        if self.n <= 1:
            self._step = 0.0
        elif self.log:
            self._step = math.log(self.stop / self.start) / (self.n - 1)
        else:
            self._step = (self.stop - self.start) / (self.n - 1)

    def _value(self, i: int) -> float:
        if i == self.n - 1 and i > 0:
            return self.stop
        return self.start * math.exp(self._step * i) if self.log else self.start + self._step * i

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return tuple(self._value(j) for j in range(*i.indices(self.n)))
        i = operator.index(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError("Range index out of range")
        return self._value(i)

    def __iter__(self) -> Iterator[float]:
        return map(self._value, range(self.n))

    def distinct(self) -> bool:
        """Whether consecutive values differ by more than float rounding (else they may repeat)."""
        if self.n == 1:
            return True
        if self.log:
            return abs(self._step) > 8 * sys.float_info.epsilon
        return abs(self._step) > 4 * math.ulp(max(abs(self.start), abs(self.stop)))

    def index(self, value: Any, *_: Any) -> int:
        """First position of ``value`` (compared exactly); ValueError when absent."""
        if type(value) is float and self.n:
            if self._step == 0.0:
                if value == self.start:
                    return 0
            elif value == value and (not self.log or value / self.start > 0):
                x = math.log(value / self.start) if self.log else value - self.start
                if math.isfinite(x):
                    guess = round(x / self._step)
                    for i in (guess - 1, guess, guess + 1):
                        if 0 <= i < self.n and self._value(i) == value:
                            return i
        raise ValueError(f"{value!r} is not in the range")

    def count(self, value: Any) -> int:
        try:
            self.index(value)
        except ValueError:
            return 0
        return self.n if self._step == 0.0 else 1

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "stop": self.stop, "n": self.n, "spacing": "log" if self.log else "lin"}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Range):
            return (self.start, self.stop, self.n, self.log) == (other.start, other.stop, other.n, other.log)
        if isinstance(other, (tuple, list)):
            return len(other) == self.n and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Range, self.start, self.stop, self.n, self.log))

    def __repr__(self) -> str:
        return f"Range({self.start!r}, {self.stop!r}, {self.n}{', log=True' if self.log else ''})"


@dataclass(frozen=True)
class Axis:
    """Fields that vary together over ``values`` (one grid dimension).

    ``values`` is any sequence: a tuple, or a :class:`Range` (what :func:`parse_vary` gives),
    whose values are computed on demand.
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
            _check_key(f, self.text or f)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: a range as its specification (start, stop, n, spacing), a list as its values."""
        if isinstance(self.values, Range):
            return {"fields": list(self.fields), "range": self.values.as_dict(), "text": self.text}
        return {"fields": list(self.fields), "values": [_json_value(v) for v in self.values], "text": self.text}


def _check_key(key: str, text: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in key.split("."))
    valid = (parts[0] in ("nodes", "fibres") and len(parts) == 3) or (parts[0] == "network" and len(parts) == 2)
    if not valid or not all(parts):
        raise QnetError(f"{text!r}: a field must be nodes.NAME.FIELD, fibres.NAME.FIELD or network.FIELD, got {key!r}")
    return parts


def _split_fields(text: str, option: str) -> tuple[tuple[str, ...], str]:
    if "=" not in text:
        raise QnetError(f"{option} {text!r}: expected FIELD=... (e.g. fibres.alice-station.length_km=1:50:20)")
    left, right = text.split("=", 1)
    fields = tuple(f.strip() for f in left.split(","))
    if len(set(fields)) != len(fields):
        raise QnetError(f"{option} {text!r}: a field is named twice")
    for f in fields:
        _check_key(f, f"{option} {text}")
    return fields, right.strip()


def parse_vary(text: str) -> Axis:
    """``FIELD[,FIELD...]=START:STOP:N[:log]``: N values from START to STOP (both included).

    Evenly spaced by default; ``:log`` spaces them geometrically (START, STOP > 0). Comma-joined
    fields take the same values together.
    """
    fields, spec = _split_fields(text, "--vary")
    parts = spec.split(":")
    if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3].strip() not in ("lin", "log")):
        raise QnetError(f"--vary {text!r}: expected FIELD=START:STOP:N or FIELD=START:STOP:N:log")
    try:
        start, stop = float(parts[0]), float(parts[1])
        n = int(parts[2])
    except ValueError:
        raise QnetError(f"--vary {text!r}: START and STOP must be numbers and N an integer") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise QnetError(f"--vary {text!r}: START and STOP must be finite (use --values for inf)")
    if n < 1:
        raise QnetError(f"--vary {text!r}: N = {n} is invalid: at least 1 point")
    log = len(parts) == 4 and parts[3].strip() == "log"
    if log and (start <= 0 or stop <= 0):
        raise QnetError(f"--vary {text!r}: a log axis needs START > 0 and STOP > 0")
    values = Range(start, stop, n, log)
    if start != stop and not values.distinct():
        raise QnetError(f"--vary {text!r}: {n} values from START to STOP are closer than float resolution; use a smaller N")
    return Axis(fields, values, f"--vary {text}")


def _toml_value(raw: str) -> Any:
    raw = raw.strip()
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # a bare word such as gaussian


def parse_values(text: str) -> Axis:
    """``FIELD[,FIELD...]=V1,V2,...``: an explicit list of values (TOML values, or bare words).

    Comma-joined fields take each value together, as with ``--vary``.
    """
    fields, spec = _split_fields(text, "--values")
    raw = [v for v in spec.split(",")]
    if not spec or any(not v.strip() for v in raw):
        raise QnetError(f"--values {text!r}: expected FIELD=V1,V2,... with no empty value")
    return Axis(fields, tuple(_toml_value(v) for v in raw), f"--values {text}")


#: The most points one sweep may have. Beyond about 10^8 points a table is tens of GB (a link
#: row is about 300 bytes of CSV), a resumed or Parquet sweep rewrites it in memory (about 1 kB
#: per row), and at 10^4 - 10^5 points/s per core the run takes hours to days: such a grid is
#: refused before anything is computed or written (split it into several sweeps).
MAX_POINTS = 10**8


class Grid:
    """The outer product of axes, last axis fastest, never listed in memory.

    ``len(grid)`` points; iterating yields each point as a tuple aligned with ``fields``;
    :meth:`index` finds a point's position from its values (what a resumed sweep needs).
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
        for v in self.axes[k].values:
            head = (v,) * width
            for tail in self._points(k + 1):
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
                c = _canon(v)
                first.setdefault(c, i)
                count[c] = count.get(c, 0) + 1
            self._lookups[k] = (first, count)
        return self._lookups[k]

    def _axis_value(self, k: int, key: tuple, start: int) -> Any:
        part = key[start : start + len(self.axes[k].fields)]
        return part[0] if all(c == part[0] for c in part) else _MISSING

    def index(self, key: Sequence[Any]) -> int | None:
        """The first position of the point with these canonical values (:func:`_canon`), or None."""
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
                i = self._lookup(k)[0].get(c) if c is not _MISSING else None
                if i is None:
                    return None
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
    """
    g = Grid(axes)
    return g.fields, list(g)


def check_field(network: Mapping[str, Any], key: str) -> None:
    """Fail fast when ``key`` names no node, fibre or field of the network table.

    Invalid *values* are not checked here: they become per-point errors.
    """
    from qnet.network.hardware import Fibre, MemoryNode, Station

    parts = _check_key(key, key)
    if parts[0] == "network":
        if parts[1] != "fibre_speed_km_per_s":
            raise QnetError(f"{key}: unknown field; the network table's numeric field is fibre_speed_km_per_s")
        return
    if parts[0] == "nodes":
        nodes = network.get("nodes", {})
        if parts[1] not in nodes:
            raise QnetError(f"{key}: no node named {parts[1]!r} (nodes: {', '.join(sorted(nodes))})")
        kind = nodes[parts[1]].get("kind")
        cls = {"memory": MemoryNode, "station": Station}.get(kind)
        if cls is None:
            return  # the network's own validation reports the bad kind
        allowed = [f for f in cls.public_fields() if f != "name"]
    else:
        fibres = network.get("fibres", [])
        names = [str(f.get("name", f"{f.get('a')}-{f.get('b')}")) for f in fibres if isinstance(f, Mapping)]
        if parts[1] not in names:
            raise QnetError(f"{key}: no fibre named {parts[1]!r} (fibres: {', '.join(names)})")
        allowed = [f for f in Fibre.public_fields() if f not in ("name", "a", "b")]
    if parts[2] not in allowed:
        raise QnetError(f"{key}: unknown field {parts[2]!r}; allowed: {', '.join(sorted(allowed))}")


# --------------------------------------------------------------------------- evaluators

class Evaluator(Protocol):
    """What :func:`run_sweep` needs from a per-point evaluator (see the module docstring)."""

    columns: tuple[str, ...]

    def evaluate(self, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]: ...


def _toml_literal(value: Any) -> str:
    """``value`` as a TOML literal for an override string (exact for floats, numpy scalars too)."""
    if isinstance(value, (bool, np_bool_types())):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return json.dumps(str(value))


def np_bool_types() -> tuple[type, ...]:
    numpy = sys.modules.get("numpy")
    return (numpy.bool_,) if numpy is not None else ()


def _json_value(v: Any) -> Any:
    if isinstance(v, (bool, str)) or v is None:
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        return v if math.isfinite(v) else repr(v)
    return str(v)


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, QnetError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


_CACHE: "OrderedDict[Any, dict[str, Any]]" = OrderedDict()
_CACHE_SIZE = 100_000


_CACHE_LOCK = threading.Lock()  # Dask runs chunks in threads


def clear_cache() -> None:
    """Forget the results cached by :class:`LinkEvaluator` in this process."""
    with _CACHE_LOCK:
        _CACHE.clear()
    with _POINTS_LOCK:
        _POINTS.clear()


def _cache_get(key: Any) -> dict[str, Any] | None:
    with _CACHE_LOCK:
        row = _CACHE.get(key)
        if row is not None:
            _CACHE.move_to_end(key)
        return row


def _cache_put(key: Any, row: dict[str, Any]) -> None:
    with _CACHE_LOCK:
        _CACHE[key] = row
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _table_sha256(network: Mapping[str, Any]) -> str:
    """Content hash of a parsed network table (a resumed sweep must be over the same network)."""
    return hashlib.sha256(json.dumps(network, sort_keys=True, default=repr).encode()).hexdigest()


@dataclass(frozen=True)
class LinkEvaluator:
    """Evaluate the elementary link ``a`` - station - ``b`` of a network table at each point.

    ``network`` is the raw table (a parsed TOML file); ``overrides`` are ``--set`` strings
    applied before each point's values. The network is built once per process (per table
    content); a point's values replace only the hardware objects they touch, which validate
    themselves again, so an invalid value is an error row with the message a full rebuild
    gives (anything unusual takes the full rebuild). Identical points (equal
    :class:`~qnet.link.spec.LinkSpec`) are compiled and run once, and remembered in this process.
    ``engine="aer"`` runs the compiled circuits of a chunk in one Aer ``run()`` (exact density
    matrix, no NoiseModel, no transpile); ``engine="batch"`` evaluates the same instructions
    (:func:`qnet.link.circuit.link_program`, the list the circuits are built from) with
    :mod:`qnet.link.batch`. Heralded states and figures are computed for the whole chunk at once,
    with the arithmetic of :func:`qnet.link.run.link_result`.
    """

    network: Mapping[str, Any]
    a: str
    b: str
    station: str | None = None
    overrides: tuple[str, ...] = ()
    engine: str = "aer"
    source: str = "<dict>"
    aer_threads: int = 0  # Aer max_parallel_threads (0: Aer's default, all cores)
    device: str = "CPU"  # Aer device ("GPU" needs qiskit-aer-gpu)
    columns: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        from qnet.link.results import LINK_FIELDS
        from qnet.link.run import ENGINES

        if self.engine not in ENGINES:
            raise QnetError(f"engine {self.engine!r} is invalid; allowed: {', '.join(ENGINES)}")
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "columns", tuple(LINK_FIELDS) + LINK_EXTRA_COLUMNS)

    @property
    def chunk_size(self) -> int:
        return 256 if self.engine == "aer" else 1024

    def for_parallel(self) -> "LinkEvaluator":
        return dataclasses.replace(self, aer_threads=1)

    def describe(self) -> dict[str, Any]:
        return {
            "evaluator": "link",
            "a": self.a,
            "b": self.b,
            "station": self.station,
            "set": list(self.overrides),
            "network_table_sha256": _table_sha256(self.network),
        }

    # -- per chunk
    def evaluate(self, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        # a chunk allocates many short-lived containers (graphs, circuits): the cyclic collector
        # would scan the long-lived qiskit objects again and again (about 20% of the time)
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._evaluate(points)
        finally:
            if enabled:
                gc.enable()

    def _evaluate(self, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        from qnet.quantum import figures

        rows: list[dict[str, Any] | None] = [None] * len(points)
        extra: list[tuple[float, float, float] | None] = [None] * len(points)
        todo: dict[_SpecKey, list[int]] = {}
        builder = _link_points(self)  # the base network once per chunk (or per process)
        engine = self.engine
        plob = figures.plob_rate_hz
        for i, point in enumerate(points):
            try:
                spec, eta = builder.spec(point)
            except Exception as exc:  # invalid value for this point: recorded, not fatal
                rows[i] = {ERROR_COLUMN: _error_message(exc)}
                continue
            # per point, not cached: the attenuation is not part of the LinkSpec
            extra[i] = (spec.length_a_km + spec.length_b_km, eta, plob(eta, spec.attempt_time_s, spec.attempts_per_round))
            key = _SpecKey(engine, spec)
            cached = _cache_get(key)
            if cached is not None:
                rows[i] = dict(cached)
            else:
                same = todo.get(key)
                if same is None:
                    todo[key] = [i]
                else:
                    same.append(i)
        keys = list(todo)
        for key, row in zip(keys, self._evaluate_specs([k.spec for k in keys])):
            _cache_put(key, row)
            for i in todo[key]:
                rows[i] = dict(row)
        for row, more in zip(rows, extra):
            if more is not None and not row.get(ERROR_COLUMN):
                row.update(zip(LINK_EXTRA_COLUMNS, more))
        return rows  # type: ignore[return-value]

    def _evaluate_specs(self, specs: Sequence[Any]) -> list[dict[str, Any]]:
        """One row per distinct spec: every circuit of the chunk in one Aer run() (or one batch call)."""
        from qnet.link import circuit as link_module
        from qnet.link.circuit import link_program

        rows: list[dict[str, Any] | None] = [None] * len(specs)
        compiled = []
        for j, spec in enumerate(specs):
            try:
                # Aer runs compile_link's circuits; the batch engine their instruction lists
                # (the same instructions, without building Qiskit objects)
                item = link_module.compile_link(spec, share_instructions=True) if self.engine == "aer" else link_program(spec)
            except Exception as exc:
                rows[j] = {ERROR_COLUMN: _error_message(exc)}
                continue
            compiled.append((j, item))
        if compiled:
            items = [c for _, c in compiled]
            for (j, _), row in zip(compiled, _link_rows_vectorised(items, self._final_states(items))):
                rows[j] = row
        return rows  # type: ignore[return-value]

    def _final_states(self, items: Sequence[Any]) -> Any:
        """The final density matrices of the chunk's links (a list), or the exception that stopped them."""
        try:
            if self.engine == "batch":
                from qnet.link import batch

                return batch.density_matrices(items)
            from qnet.link.run import final_states

            # the circuits were compiled by this evaluator for this chunk: safe to append to
            return final_states(items, self.device, self.engine, threads=self.aer_threads, in_place=True)
        except Exception as exc:
            return exc


_NUMBER = (int, float)


class _SpecKey:
    """(engine, LinkSpec) as a dict key whose hash is computed once (a spec has 22 fields)."""

    __slots__ = ("engine", "spec", "hash")

    def __init__(self, engine: str, spec: Any):
        self.engine, self.spec = engine, spec
        self.hash = hash((engine, spec))

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _SpecKey):
            return NotImplemented
        return self.hash == other.hash and self.engine == other.engine and self.spec == other.spec


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
    from qnet.network.io import parse_override

    return parse_override(f"network.x={_toml_literal(value)}")[1]


class _LinkPoints:
    """A link evaluator's points -> (LinkSpec, fibre transmission), building the network once.

    The base network (the table with ``--set`` applied) is validated once; a point's values
    replace only the hardware objects they touch (``dataclasses.replace``: the objects
    validate themselves again), each distinct (object, fields, values) once per process.
    Anything unusual (a key or value the fast path does not know, a value that fails
    validation, a base network that does not build) goes through the full path,
    ``network_from_dict`` with the point's overrides then ``link_spec``, so error messages are
    exactly the full path's (``tests/test_sweep_fast.py`` holds the two paths equal).
    """

    def __init__(self, ev: "LinkEvaluator"):
        from qnet.quantum.channels import fibre_transmission
        from qnet.network.hardware import Fibre, MemoryNode, Station
        from qnet.link.spec import find_station, spec_from_hardware
        from qnet.network.io import network_from_dict

        self.ev = ev
        self.plans: dict[tuple, Any] = {}
        self.objects: dict[tuple, dict] = {}  # (object, fields) -> {values: replaced object}
        self.base: dict[tuple, Any] | None = None
        try:
            graph = network_from_dict(ev.network, source=ev.source, overrides=ev.overrides)
            s = find_station(graph, ev.a, ev.b, ev.station)
        except Exception:
            return  # every point takes the full path (and reports what is wrong)
        base: dict[tuple, Any] = {("nodes", n): graph.nodes[n]["hardware"] for n in graph}
        for _, _, fibre in graph.edges(data="fibre"):
            base[("fibres", fibre.name)] = fibre
        self.allowed = {
            MemoryNode: frozenset(MemoryNode.public_fields()) - {"name"},
            Station: frozenset(Station.public_fields()) - {"name"},
            Fibre: frozenset(("length_km", "attenuation_db_per_km")),
        }
        self.base = base
        self.speed = graph.graph["fibre_speed_km_per_s"]
        self.s = s
        self.link = (
            ("nodes", s), ("nodes", ev.a), ("nodes", ev.b),
            ("fibres", graph.edges[ev.a, s]["fibre"].name), ("fibres", graph.edges[ev.b, s]["fibre"].name),
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
            parts = tuple(key.split("."))
            if any(not p or p != p.strip() for p in parts):
                return None
            if parts[0] == "network" and len(parts) == 2:
                if parts[1] == "fibre_speed_km_per_s":
                    speed = key
                else:  # name and description change no number, but the full build checks they are strings
                    return None
                continue
            if parts[0] not in ("nodes", "fibres") or len(parts) != 3:
                return None
            target = parts[:2]
            obj = self.base.get(target)
            if obj is None or parts[2] not in self.allowed.get(type(obj), ()):
                return None
            targets.setdefault(target, []).append((parts[2], key))
        plan = []
        for target, fk in targets.items():
            names = tuple(f for f, _ in fk)
            cache = self.objects.setdefault((target, names), {})
            slot = self.link.index(target) if target in self.link else None
            plan.append((target, names, tuple(k for _, k in fk), slot, cache))
        return tuple(plan), speed

    def spec(self, point: Mapping[str, Any]) -> tuple[Any, float]:
        """(LinkSpec, fibre transmission of both arms) of one point; raises what the full path raises."""
        if self.base is not None:
            keys = tuple(point)
            plan = self.plans.get(keys, False)
            if plan is False:
                plan = self.plans[keys] = self._plan(keys)
            if plan is not None:
                try:
                    out = self._fast(point, *plan)
                except Exception:
                    out = None
                if out is not None:
                    return out
        return self._full(point)

    def _fast(self, point: Mapping[str, Any], targets: tuple, speed_key: str | None) -> tuple[Any, float] | None:
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
                    obj = dataclasses.replace(self.base[target], **{f: _override_value(point[k]) for f, k in zip(names, keys)})
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
        st, mem_a, mem_b, fib_a, fib_b = objects
        transmission = self.transmission
        ta = transmission.get(id(fib_a))
        if ta is None:  # the fibres are kept alive by the caches: their ids are stable
            ta = transmission[id(fib_a)] = self.fibre_transmission(fib_a.length_km, fib_a.attenuation_db_per_km)
        tb = transmission.get(id(fib_b))
        if tb is None:
            tb = transmission[id(fib_b)] = self.fibre_transmission(fib_b.length_km, fib_b.attenuation_db_per_km)
        ev = self.ev
        return self.spec_from_hardware(ev.a, ev.b, self.s, st, mem_a, mem_b, fib_a, fib_b, c, (ta, tb)), ta * tb

    def _full(self, point: Mapping[str, Any]) -> tuple[Any, float]:
        from qnet.quantum.channels import fibre_transmission
        from qnet.link.spec import link_spec
        from qnet.network.io import network_from_dict

        ev = self.ev
        overrides = list(ev.overrides) + [f"{k}={_toml_literal(v)}" for k, v in point.items()]
        graph = network_from_dict(ev.network, source=ev.source, overrides=overrides)
        spec = link_spec(graph, ev.a, ev.b, ev.station)
        eta = 1.0
        for node in (spec.node_a, spec.node_b):
            fibre = graph.edges[node, spec.station]["fibre"]
            eta *= fibre_transmission(fibre.length_km, fibre.attenuation_db_per_km)
        return spec, eta


_INVALID = object()
_POINTS: "OrderedDict[tuple, _LinkPoints]" = OrderedDict()
_POINTS_LOCK = threading.Lock()


def _link_points(ev: "LinkEvaluator") -> _LinkPoints:
    """The evaluator's :class:`_LinkPoints`, kept across chunks in this process.

    Keyed by the network table's *content* (and the overrides, link and source), so a table
    changed in place between chunks is simply another entry.
    """
    try:
        table = json.dumps(ev.network, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return _LinkPoints(ev)
    key = (table, ev.overrides, ev.a, ev.b, ev.station, ev.source)
    with _POINTS_LOCK:
        hit = _POINTS.get(key)
        if hit is not None and sum(map(len, hit.objects.values())) < 200_000:
            _POINTS.move_to_end(key)
            return hit
    builder = _LinkPoints(ev)
    with _POINTS_LOCK:
        _POINTS[key] = builder
        while len(_POINTS) > 8:
            _POINTS.popitem(last=False)
    return builder


def _link_rows_vectorised(items: Sequence[Any], states: Any) -> list[dict[str, Any]]:
    """Result rows of compiled links (or link programs) from their final density matrices.

    The figures are those of :func:`qnet.link.run.link_result` (the same as ``qnet link``), computed
    for all links of one layout at once. ``states`` is a list of final states or the exception
    that stopped them all.
    """
    import numpy as np

    from qnet.quantum import figures
    from qnet.link.run import heralded_states, link_figures, never_heralds, never_heralds_error
    from qnet.quantum.states import BELL

    if isinstance(states, BaseException):
        return [{ERROR_COLUMN: _error_message(states)}] * len(items)
    rows: list[dict[str, Any] | None] = [None] * len(items)
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(items):
        n = c.circuit.num_qubits if hasattr(c, "circuit") else c.num_qubits
        groups.setdefault((n, c.memory_qubits, c.photon_qubits, c.heralds, c.target), []).append(i)
    # the batch engine hands its states over stacked already (qnet.link.batch.StateList)
    stacked = {tuple(idx.tolist()): st for idx, st in getattr(states, "groups", ())}
    coherence = {}
    for (n, memory_qubits, photon_qubits, heralds, target), members in groups.items():
        rhos = stacked.get(tuple(members))
        if rhos is None:
            rhos = np.stack([states[i] for i in members])
        p_all, rho = heralded_states(rhos, n, memory_qubits, photon_qubits, heralds)
        failed = never_heralds(p_all, n)
        if failed.any():  # never heralds: an error row; give the figures something finite to chew on
            rho[failed] = 0.0
        t = BELL[target]
        fid = np.real((t.conj() @ rho) @ t)
        corr = figures.correlation_matrix(rho)
        m = np.linalg.eigvalsh(np.matmul(corr.transpose(0, 2, 1), corr))
        chsh = 2.0 * np.sqrt(np.maximum(0.0, m[:, 2] + m[:, 1]))
        diag = np.real(np.diagonal(rho, axis1=1, axis2=2))
        same = diag[:, 0] + diag[:, 3]
        qber = np.clip(same if target.startswith("psi") else 1.0 - same, 0.0, 1.0)
        for k, (i, p, f, s, q, bad) in enumerate(zip(members, p_all.tolist(), fid.tolist(), chsh.tolist(), qber.tolist(), failed.tolist())):
            link = items[i]
            if bad:
                rows[i] = {ERROR_COLUMN: _error_message(never_heralds_error(link, p))}
                continue
            spec = link.spec
            p = min(1.0, p)
            memories = (spec.t2_a_s, spec.t1_a_s, spec.decay_a, spec.t2_b_s, spec.t1_b_s, spec.decay_b)
            t_coh = coherence.get(memories)
            if t_coh is None:
                t_coh = coherence[memories] = spec.pair_coherence_time_s
            row = link_figures(spec, p, f, s, q, figures.bb84_key_fraction(rho[k], target), t_coh)
            row[ERROR_COLUMN] = ""
            rows[i] = row
    return rows  # type: ignore[return-value]


@dataclass(frozen=True)
class ChainEvaluator:
    """Evaluate the repeater chain from ``a`` to ``b`` of a network table at each point.

    The path is ``via`` (inner memory nodes in order) or, without it, the route that
    :func:`qnet.repeater.routing.best_path` picks by ``metric`` for that point's parameters.
    ``exact``: True = exact mode only (an error row where unavailable), None = exact where
    available else Monte Carlo, False = Monte Carlo. The Monte Carlo seed of a point is derived
    from ``seed`` and the point's values, so a resumed or parallel sweep gives the same rows.
    """

    network: Mapping[str, Any]
    a: str
    b: str
    via: tuple[str, ...] | None = None
    metric: str = "hops"
    overrides: tuple[str, ...] = ()
    exact: bool | None = None
    samples: int = 1000
    seed: int | None = None
    swap_policy: str = "asap"
    source: str = "<dict>"
    chunk_size: int = 4
    columns: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)
    text_columns: tuple[str, ...] = field(default=("method", "path"), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        from qnet.repeater.path import CHAIN_FIELDS

        # the chain's JSON fields, with the rate interval split into two numeric columns
        columns = []
        for name in CHAIN_FIELDS:
            columns += ["rate_hz_ci_low", "rate_hz_ci_high"] if name == "rate_hz_ci" else [name]
        object.__setattr__(self, "columns", tuple(columns) + ("method", "samples", "path"))

    @property
    def method_description(self) -> str:
        modes = {True: "exact", None: "exact where available, else Monte Carlo", False: "Monte Carlo"}
        return f"repeater chain: {modes[self.exact]} ({self.samples} samples per Monte Carlo point)"

    def describe(self) -> dict[str, Any]:
        return {
            "evaluator": "chain",
            "a": self.a,
            "b": self.b,
            "via": list(self.via) if self.via is not None else None,
            "metric": self.metric,
            "set": list(self.overrides),
            "exact": self.exact,
            "samples": self.samples,
            "seed": self.seed,
            "swap_policy": self.swap_policy,
            "network_table_sha256": _table_sha256(self.network),
        }

    def _point_seed(self, point: Mapping[str, Any]) -> int | None:
        if self.seed is None:
            return None
        text = json.dumps({k: _json_value(v) for k, v in sorted(point.items())}, sort_keys=True)
        return (int(self.seed) * 1_000_003 + zlib.crc32(text.encode())) % 2**63

    def evaluate(self, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        from qnet.network.io import network_from_dict
        from qnet.repeater.path import simulate_path
        from qnet.repeater.routing import best_path, explicit_path

        rows = []
        for point in points:
            try:
                overrides = list(self.overrides) + [f"{k}={_toml_literal(v)}" for k, v in point.items()]
                graph = network_from_dict(self.network, source=self.source, overrides=overrides)
                if self.via is not None:
                    hops = explicit_path(graph, [self.a, *self.via, self.b])
                else:
                    hops = best_path(graph, self.a, self.b, self.metric)
                result = None
                if self.exact is not False:
                    try:
                        result = simulate_path(graph, hops, exact=True, swap_policy=self.swap_policy)
                    except QnetError:
                        if self.exact:
                            raise
                if result is None:
                    result = simulate_path(
                        graph, hops, samples=self.samples, seed=self._point_seed(point), swap_policy=self.swap_policy
                    )
            except Exception as exc:  # recorded, not fatal
                rows.append({ERROR_COLUMN: _error_message(exc)})
                continue
            ci = result.rate_hz_ci or (None, None)
            row = {name: getattr(result, name) for name in self.columns if hasattr(result, name)}
            row.update(rate_hz_ci_low=ci[0], rate_hz_ci_high=ci[1], path="-".join(result.path), error="")
            rows.append(row)
        return rows


def link_rows(links: Sequence[Any], states: Sequence[Any]) -> list[dict[str, Any]]:
    """Result rows (``LINK_FIELDS`` + ``error``) from each link's (p, delivered state) or exception.

    The figures are those of :func:`qnet.link.run.link_result`, the same as ``qnet link``.
    """
    from qnet.link.results import LINK_FIELDS
    from qnet.link.run import link_result

    rows: list[dict[str, Any]] = []
    for link, state in zip(links, states):
        if isinstance(state, BaseException):
            rows.append({ERROR_COLUMN: _error_message(state)})
            continue
        result = link_result(link, *state)
        row = {name: getattr(result, name) for name in LINK_FIELDS}
        row[ERROR_COLUMN] = ""
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- table files

def output_format(path: str | Path, fmt: str | None = None) -> str:
    """'csv' or 'parquet': ``fmt`` if given, else from the suffix (.parquet/.pq), else csv."""
    if fmt is not None:
        if fmt not in ("csv", "parquet"):
            raise QnetError(f"format {fmt!r} is invalid; allowed: csv, parquet")
        return fmt
    return "parquet" if Path(path).suffix.lower() in (".parquet", ".pq") else "csv"


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise QnetError("Parquet output needs pyarrow: pip install 'qnet[parquet]' (or write CSV)") from None


def _cell(value: Any) -> str:
    kind = type(value)
    if kind is float:  # the common case, first
        return repr(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if isinstance(value, (bool, np_bool_types())):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return str(value)


def _canon(value: Any) -> Any:
    """A comparable form of an input value (CSV cell or Python value): numbers as float."""
    if type(value) is float:
        return value
    if isinstance(value, (bool, np_bool_types())):
        return "true" if value else "false"
    if isinstance(value, numbers.Real):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return text


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and complete rows of a CSV table (an unterminated last line is dropped)."""
    data = path.read_bytes()
    if not data:
        return [], []
    if not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader, [])
    rows = [r for r in reader if len(r) == len(header)]
    return header, rows


def _read_parquet(path: Path) -> tuple[list[str], list[list[str]]]:
    _require_pyarrow()
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    header = table.column_names
    columns = [table.column(name).to_pylist() for name in header]
    return header, [[_cell(v) for v in row] for row in zip(*columns)]


def read_table(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows as strings) of a sweep output, CSV or Parquet (by suffix)."""
    path = Path(path)
    if output_format(path) == "parquet":
        return _read_parquet(path)
    return _read_csv(path)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    from qnet.outputs import replacing

    with replacing(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
        fh.flush()
        os.fsync(fh.fileno())


def _write_parquet(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: set[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for j, name in enumerate(header):
        cells = [r[j] for r in rows]
        numeric = name not in text_columns
        if numeric and name != ERROR_COLUMN:
            try:
                values = [float(c) if c != "" else None for c in cells]
                arrays.append(pa.array(values, type=pa.float64()))
                continue
            except ValueError:
                pass
        arrays.append(pa.array([c if c != "" else None for c in cells], type=pa.string()))
    from qnet.outputs import replacing

    with replacing(path) as tmp:
        pq.write_table(pa.table(arrays, names=list(header)), tmp)


class _Journal:
    """Append-only CSV file, flushed after every chunk."""

    def __init__(self, path: Path, header: Sequence[str]):
        self.path = path
        exists = path.exists() and path.stat().st_size > 0
        if exists:
            data = path.read_bytes()
            if not data.endswith(b"\n"):  # a killed writer left half a line: cut it
                with open(path, "r+b") as fh:
                    fh.truncate(data.rfind(b"\n") + 1)
        self.fh = open(path, "a", newline="", encoding="utf-8")
        self.writer = csv.writer(self.fh)
        if not exists or path.stat().st_size == 0:
            self.writer.writerow(header)
            self.fh.flush()

    def write(self, rows: Iterable[Sequence[str]]) -> None:
        self.writer.writerows(rows)
        self.fh.flush()

    def write_text(self, text: str) -> None:
        """Append lines already formatted as this CSV dialect (:class:`_RowFormatter`)."""
        self.fh.write(text)
        self.fh.flush()

    def close(self, sync: bool = False) -> None:
        if not self.fh.closed:
            if sync:  # the journal is the final table: on disk, as _write_csv leaves it
                self.fh.flush()
                os.fsync(self.fh.fileno())
            self.fh.close()


class _RowFormatter:
    """Table rows as CSV text, exactly as ``csv.writer`` writes their ``_cell`` strings.

    Formats column by column; a column whose values repeat (the grid's inputs, lengths,
    attempt times) remembers the text of each float, since ``repr`` of a float costs about
    half a microsecond. A row none of whose cells needs quoting is joined directly (what the
    csv module writes for it); any other row goes through the csv module.
    """

    def __init__(self, n_columns: int):
        self.caches: list[dict | None] = [{} for _ in range(n_columns)]
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    def _column(self, j: int, values: list[Any]) -> list[str]:
        cache = self.caches[j]
        if cache is None:
            return [repr(v) if type(v) is float else _cell(v) for v in values]
        out = []
        hits = 0
        for v in values:
            if type(v) is float:
                text = cache.get(v)
                if text is None:
                    text = repr(v)
                    if v != 0.0:  # 0.0 and -0.0 are equal keys but different text
                        cache[v] = text
                else:
                    hits += 1
            else:
                text = _cell(v)
            out.append(text)
        if hits < len(values) // 4 or len(cache) > 100_000:
            self.caches[j] = None  # values that do not repeat: plain repr from now on
        return out

    def lines(self, columns: list[list[Any]], errors: list[str], ident: str | None = None) -> str:
        """CSV lines: the columns' cells, then ``errors``, then ``ident`` on every row (when given)."""
        cells = [self._column(j, values) for j, values in enumerate(columns)]
        cells.append(errors)
        if ident is not None:
            cells.append([ident] * len(errors))
        n = len(cells)
        out = []
        for row in zip(*cells):
            line = ",".join(row)
            if n > 1 and line.count(",") == n - 1 and '"' not in line and "\n" not in line and "\r" not in line:
                out.append(line + "\r\n")
            else:  # a cell needs quoting (or the row is one empty cell): the csv module decides
                self.buffer.seek(0)
                self.buffer.truncate()
                self.writer.writerow(row)
                out.append(self.buffer.getvalue())
        return "".join(out)



# --------------------------------------------------------------------------- progress

# --------------------------------------------------------------------------- execution

def _init_worker(parent: int | None = None) -> None:
    """Worker process setup: one OpenMP/BLAS thread each, Ctrl-C is the parent's business, and
    the worker ends when its parent ``parent`` does (a killed sweep leaves no orphan)."""
    import signal

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), name="qnet-watch-parent", daemon=True).start()


def _watch_parent(parent: int, interval_s: float = 0.25) -> None:
    """End this process as soon as its parent ``parent`` is gone (it is then re-parented).

    Polls ``os.getppid()``, which changes when the parent dies on POSIX systems, so it works
    whatever killed the parent (SIGKILL included) and whatever the worker is busy with (Aer
    and numpy release the GIL; a Python loop yields it every few milliseconds).
    """
    while os.getppid() == parent:
        time.sleep(interval_s)
    os._exit(1)


def _evaluate_chunk(evaluator: Any, fields: tuple[str, ...], chunk: tuple[list[int], list[tuple]]) -> tuple[list[int], list[dict[str, Any]]]:
    """Evaluate one chunk (runs in this process, a worker process or a Dask worker)."""
    indices, values = chunk
    rows = evaluator.evaluate([dict(zip(fields, v)) for v in values])
    if len(rows) != len(indices):
        raise RuntimeError(f"evaluator returned {len(rows)} rows for {len(indices)} points")
    return indices, rows


class WorkerDied(QnetError):
    """A worker process or Dask worker died; the finished points are on disk."""


Result = tuple[list[int], list[dict[str, Any]]]


class _Serial:
    """Chunks evaluated one after the other in this process."""

    def __init__(self, evaluator: Any, fields: tuple[str, ...], chunks: Iterator):
        self.evaluator, self.fields, self.chunks = evaluator, fields, chunks

    def __iter__(self) -> Iterator[Result]:
        for chunk in self.chunks:
            yield _evaluate_chunk(self.evaluator, self.fields, chunk)

    def drain(self) -> list[Result]:
        return []  # an interrupted chunk in this process is not finished

    def close(self) -> None:
        pass


class _Pool:
    """Chunks on local spawned worker processes, at most two per worker in flight."""

    def __init__(self, evaluator: Any, fields: tuple[str, ...], chunks: Iterator, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.evaluator, self.fields, self.chunks, self.workers = evaluator, fields, chunks, workers
        self.executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        self.pending: set = set()

    def _submit(self, n: int) -> None:
        for chunk in itertools.islice(self.chunks, n):
            self.pending.add(self.executor.submit(_evaluate_chunk, self.evaluator, self.fields, chunk))

    def __iter__(self) -> Iterator[Result]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        self._submit(2 * self.workers)
        while self.pending:
            done, self.pending = wait(self.pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    result = fut.result()
                except BrokenProcessPool as exc:
                    raise WorkerDied(f"a worker process died ({exc})") from None
                self._submit(1)
                yield result

    def drain(self) -> list[Result]:
        """After Ctrl-C: cancel the queued chunks, wait for the running ones (workers ignore SIGINT)."""
        out = []
        for fut in list(self.pending):
            if fut.cancel():
                continue
            try:
                out.append(fut.result())
            except Exception:
                pass
        self.pending.clear()
        return out

    def close(self) -> None:
        for fut in self.pending:
            fut.cancel()
        self.executor.shutdown(wait=True, cancel_futures=True)


class _Dask:
    """Chunks on a dask.distributed cluster (an address or a ``Client``)."""

    def __init__(self, evaluator: Any, fields: tuple[str, ...], chunks: Iterator, dask: Any, security: Any = None):
        try:
            from distributed import Client
        except ImportError:
            raise QnetError("--dask needs dask.distributed: pip install 'qnet[dask]'") from None
        self.own = not isinstance(dask, Client)
        try:
            self.client = (Client(dask, security=security) if security is not None else Client(dask)) if self.own else dask
        except Exception as exc:  # unreachable scheduler, bad address
            raise QnetError(f"cannot connect to the Dask scheduler at {dask!r}: {exc}") from None
        self.fields, self.chunks = fields, chunks
        self.remote = self.client.scatter(evaluator, broadcast=True)
        workers = self.client.scheduler_info().get("workers", {}).values()
        self.slots = max(1, sum(w.get("nthreads", 1) for w in workers))
        self.futures: list = []

    def _submit(self, n: int) -> list:
        new = [
            self.client.submit(_evaluate_chunk, self.remote, self.fields, chunk, pure=False)
            for chunk in itertools.islice(self.chunks, n)
        ]
        self.futures += new
        return new

    def __iter__(self) -> Iterator[Result]:
        from distributed import as_completed

        queue = as_completed(self._submit(2 * self.slots))
        for fut in queue:
            try:
                result = fut.result()
            except Exception as exc:
                if type(exc).__name__ == "KilledWorker":
                    raise WorkerDied(f"a Dask worker died ({exc})") from None
                raise
            self.futures.remove(fut)
            for new in self._submit(1):
                queue.add(new)
            yield result

    def drain(self) -> list[Result]:
        out = []
        for fut in self.futures:
            if fut.status == "finished":
                out.append(fut.result())
        return out

    def close(self) -> None:
        if self.futures:
            self.client.cancel(self.futures)
            self.futures = []
        if self.own:
            self.client.close()


@dataclass
class SweepSummary:
    """What :func:`run_sweep` did."""

    output: Path
    points: int  # grid points
    skipped: int  # already in the output (resume)
    evaluated: int  # evaluated by this run
    errors: int  # of those, points recorded with an error
    seconds: float
    status: str  # complete, interrupted, failed
    metadata_path: Path

    @property
    def points_per_second(self) -> float:
        return self.evaluated / self.seconds if self.seconds > 0 else math.inf


def _dask_address(client: Any) -> str:
    try:
        return str(client.scheduler.address)
    except AttributeError:
        return repr(client)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")


def _versions(extra: Iterable[str] = ()) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    from qnet import __version__

    out: dict[str, str | None] = {"qnet": __version__, "python": sys.version.split()[0]}
    for dist in ("qiskit", "qiskit-aer", "numpy", *extra):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    from qnet.outputs import write_text_atomic

    write_text_atomic(path, json.dumps(data, indent=2, default=repr) + "\n")


def sweep_id(description: Mapping[str, Any]) -> str:
    """16 hex digits naming what a sweep computes (a hash of its evaluator's ``describe()``).

    Written on every row (column ``sweep_id``): a resumed sweep checks the table itself, so
    rows of another network, link or ``--set`` are never mixed in, even without ``OUT.meta.json``.

    Parameters
    ----------
    description : mapping
        The evaluator's ``describe()`` (JSON-ready; it holds the network table's sha256).

    Returns
    -------
    str
        The first 16 hex digits of the sha256 of its canonical JSON.
    """
    return hashlib.sha256(json.dumps(description, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) > 20:
        return repr(value[:12] + "...")
    return repr(value)


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """'FIELD was OLD, now NEW' for each field that differs between two descriptions."""
    keys = [k for k in dict.fromkeys([*old, *new]) if old.get(k, _MISSING) != new.get(k, _MISSING)]
    return "; ".join(
        f"{k} was {_shown(old[k]) if k in old else '(absent)'}, now {_shown(new[k]) if k in new else '(absent)'}"
        for k in keys
    )


def sidecar_paths(output: str | Path, fmt: str | None = None) -> tuple[Path, ...]:
    """The files a sweep writes next to ``output``: ``OUT.meta.json`` (and ``OUT.partial.csv`` for Parquet)."""
    output = Path(output)
    meta = output.with_name(output.name + ".meta.json")
    if output_format(output, fmt) == "parquet":
        return meta, output.with_name(output.name + ".partial.csv")
    return (meta,)


def check_sweep_output(output: str | Path, fmt: str | None = None, *, resume: bool = False, overwrite: bool = False) -> bool:
    """Check a sweep's output and its sidecars before anything is computed.

    The rule of :func:`qnet.outputs.check_output_path` for the table and for every sidecar: the
    folder exists, no path is a folder, and an existing file is replaced only with
    ``overwrite``; ``resume`` continues an existing table (its sidecars are then its own).

    Parameters
    ----------
    output : str or Path
        The table (``-o``).
    fmt : str, optional
        'csv' or 'parquet' (default: from the suffix).
    resume, overwrite : bool
        ``--resume`` and ``--overwrite``.

    Returns
    -------
    bool
        True when there is a table to resume.

    Raises
    ------
    QnetError
        One line naming the path that may not be written and the option that would allow it.
    """
    from qnet.outputs import check_output_path

    output = check_output_path(output, overwrite=True)
    sidecars = sidecar_paths(output, fmt)
    resuming = resume and any(p.exists() for p in (output, *sidecars[1:]))
    if resuming:
        return True
    if output.exists() and not overwrite:
        raise QnetError(f"-o {output}: exists; use --resume to continue it or --overwrite to replace it")
    for path in sidecars:
        check_output_path(path, overwrite=overwrite)
    return False


def _check_points(grid: Grid) -> None:
    """Refuse a grid of more than :data:`MAX_POINTS` points (one line)."""
    if grid.size > MAX_POINTS:
        shape = " x ".join(map(str, grid.sizes))
        raise QnetError(f"the grid has {grid.size:,} points ({shape}): at most {MAX_POINTS:,} in one sweep; split it into several")


def _check_disk(grid: Grid, todo: int, columns: Sequence[str], folder: Path) -> None:
    """Refuse a sweep whose table cannot fit on the disk (one line)."""
    shape = " x ".join(map(str, grid.sizes)) or "1"
    need = todo * 12 * len(columns)  # a number in CSV is 12-24 bytes with its comma
    free = shutil.disk_usage(folder).free
    if need > free:
        raise QnetError(
            f"the grid has {grid.size:,} points ({shape}): their table needs at least {need / 1e9:.3g} GB "
            f"and {str(folder)!r} has {free / 1e9:.3g} GB free; use fewer points"
        )


def _read_existing(output: Path, journal_path: Path, columns: list[str], ident: str) -> list[list[str]]:
    """Rows already in the output (and its Parquet journal), checked to come from this sweep."""
    rows: list[list[str]] = []
    for p in dict.fromkeys((output, journal_path)):
        if not p.exists():
            continue
        header, found = read_table(p) if p == output else _read_csv(p)
        if not header:
            continue
        if header != columns:
            if header == columns[:-1]:
                raise QnetError(
                    f"cannot resume {p}: it has no {SWEEP_ID_COLUMN} column (an older qnet wrote it), so its rows "
                    f"cannot be checked against this sweep; write to a new output or use --overwrite"
                )
            raise QnetError(
                f"cannot resume {p}: its columns ({', '.join(header)}) differ from this sweep's "
                f"({', '.join(columns)}); vary the same fields or write to a new output"
            )
        other = next((row[-1] for row in found if row[-1] != ident), None)
        if other is not None:
            raise QnetError(
                f"cannot resume {p}: its rows have {SWEEP_ID_COLUMN} {other or '(empty)'} and this sweep is {ident} "
                f"(another network table, link, --set or evaluator); write to a new output or use --overwrite"
            )
        rows += found
    return rows


def _read_meta(meta_path: Path, output: Path, describe: Mapping[str, Any]) -> dict[str, Any]:
    """The sidecar of a resumed output ({} when missing or unreadable); refuses another evaluator."""
    if not meta_path.exists():
        return {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict):
        return {}
    old = meta.get("evaluator")
    if isinstance(old, Mapping) and old != describe:
        raise QnetError(f"cannot resume {output}: it was made for a different network, link or --set ({_differences(old, describe)}); write to a new output")
    return meta


def _todo(grid: Grid, done: set[tuple]) -> Iterable[tuple[int, tuple]]:
    """(position, point) of every grid point not in ``done`` (canonical keys), lazily."""
    if not done:
        return enumerate(grid)
    return ((i, p) for i, p in enumerate(grid) if tuple([v if type(v) is float else _canon(v) for v in p]) not in done)


def _chunks(todo: Iterable[tuple[int, tuple]], size: int, inflight: dict[int, list[tuple]]) -> Iterator[tuple[list[int], list[tuple]]]:
    """Chunks (positions, points) of ``size`` points; each chunk's points wait in ``inflight`` until written."""
    it = iter(todo)
    while batch := list(itertools.islice(it, size)):
        indices = [i for i, _ in batch]
        values = [p for _, p in batch]
        inflight[indices[0]] = values
        yield indices, values


def _loopback(address: str) -> bool:
    import ipaddress

    scheme, _, rest = address.rpartition("://")
    if scheme == "inproc":
        return True
    host = rest.rsplit(":", 1)[0] if rest.count(":") == 1 or rest.startswith("[") else rest
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dask_security(*, tls_ca_file: str | None = None, tls_cert: str | None = None, tls_key: str | None = None) -> Any:
    """A ``distributed.security.Security`` requiring TLS from these files, or None when none is given.

    Parameters
    ----------
    tls_ca_file : str, optional
        The certificate authority that signed the cluster's certificates (``--dask-tls-ca-file``).
    tls_cert, tls_key : str, optional
        This client's certificate and private key (``--dask-tls-cert``, ``--dask-tls-key``).

    Returns
    -------
    distributed.security.Security or None
        With ``require_encryption=True``; None when no file is given (then a ``tls://``
        address uses dask's configuration ``distributed.comm.tls.*``).

    Raises
    ------
    QnetError
        When only some of the three are given, or a file does not exist.
    """
    given = {"--dask-tls-ca-file": tls_ca_file, "--dask-tls-cert": tls_cert, "--dask-tls-key": tls_key}
    if not any(given.values()):
        return None
    missing = [k for k, v in given.items() if not v]
    if missing:
        raise QnetError(f"{', '.join(missing)} missing: --dask-tls-ca-file, --dask-tls-cert and --dask-tls-key go together")
    for option, path in given.items():
        if not Path(path).is_file():
            raise QnetError(f"{option} {path}: no such file")
    try:
        from distributed.security import Security
    except ImportError:
        raise QnetError("--dask needs dask.distributed: pip install 'qnet[dask]'") from None
    return Security(tls_ca_file=tls_ca_file, tls_client_cert=tls_cert, tls_client_key=tls_key, require_encryption=True)


def check_dask_address(address: str, *, security: Any = None, insecure: bool = False) -> None:
    """Refuse to send pickles over plain TCP to another machine unless ``insecure`` is given.

    A Dask scheduler runs the code it is sent, and qnet unpickles what comes back: the cluster
    must be trusted, and the connection to it encrypted and authenticated (TLS) unless it stays
    on this machine. ``tls://`` addresses use ``security`` (or, without it, dask's own
    configuration ``distributed.comm.tls.*``).

    Parameters
    ----------
    address : str
        The scheduler address (``tcp://host:port``, ``tls://host:port``, ``host:port``, ``inproc://...``).
    security : distributed.security.Security, optional
        From :func:`dask_security`; needs a ``tls://`` address.
    insecure : bool
        ``--dask-insecure``: allow plain TCP to another machine.

    Raises
    ------
    QnetError
        One line: plain TCP to a host that is not loopback (127.0.0.0/8, ::1, localhost)
        without ``insecure``, TLS files with a non-TLS address, or TLS files with ``insecure``.
    """
    if not isinstance(address, str) or not address.strip():
        raise QnetError(f"--dask {address!r}: expected a scheduler address such as tcp://127.0.0.1:8786 or tls://host:8786")
    tls = address.startswith("tls://")
    if security is not None and not tls:
        raise QnetError(f"--dask {address}: the TLS options need a tls:// address")
    if security is not None and insecure:
        raise QnetError("--dask-insecure and the --dask-tls-* options exclude each other")
    if tls or insecure or _loopback(address):
        return
    raise QnetError(
        f"--dask {address}: plain TCP to another machine would send and run pickled code unauthenticated; "
        f"use tls:// with --dask-tls-ca-file/--dask-tls-cert/--dask-tls-key, or --dask-insecure on a network you trust"
    )


def run_sweep(
    evaluator: Any,
    axes: Sequence[Axis],
    output: str | Path,
    *,
    fmt: str | None = None,
    chunk_size: int | None = None,
    workers: int = 1,
    dask: Any = None,
    dask_security: Any = None,
    dask_insecure: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    retry_errors: bool = False,
    progress: bool = True,
    progress_stream: Any = None,
    progress_interval: float = 10.0,
    metadata: Mapping[str, Any] | None = None,
) -> SweepSummary:
    """Evaluate ``evaluator`` over the grid of ``axes`` and write the table to ``output``.

    See the module docstring. ``workers > 1`` uses local spawned processes; ``dask`` (a
    scheduler address or a ``distributed.Client``) sends the chunks to a Dask cluster instead;
    an address that is not on this machine needs ``tls://`` (``dask_security``, see
    :func:`dask_security`) or ``dask_insecure`` (:func:`check_dask_address`). An existing output
    is an error unless ``resume`` (skip the points it holds; with ``retry_errors`` the points
    recorded with an error are evaluated again) or ``overwrite``; the sidecars follow the same
    rule (:func:`check_sweep_output`), and the output is locked for the run (a second run on it
    fails). ``metadata`` is merged into the sidecar ``OUT.meta.json``. Raises
    ``KeyboardInterrupt`` after writing what finished, :class:`WorkerDied` when a worker dies,
    and :class:`~qnet.errors.QnetError` (saying whether to ``--resume``) when the run fails.
    A run that stops before finishing any point leaves no file behind.
    """
    from qnet.outputs import output_lock

    output = Path(output)
    fmt = output_format(output, fmt)
    if fmt == "parquet":
        _require_pyarrow()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise QnetError(f"workers = {workers!r} is invalid: an integer >= 1")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise QnetError(f"chunk size = {chunk_size!r} is invalid: an integer >= 1")
    if isinstance(dask, str):
        check_dask_address(dask, security=dask_security, insecure=dask_insecure)
    grid_ = Grid(axes)
    _check_points(grid_)
    columns = list(grid_.fields) + [c for c in evaluator.columns] + [ERROR_COLUMN, SWEEP_ID_COLUMN]
    if len(set(columns)) != len(columns):
        raise QnetError(f"a varied field has the name of a result column: {columns}")
    check_sweep_output(output, fmt, resume=resume, overwrite=overwrite)
    lock = output_lock(output)
    try:
        return _run_locked(
            evaluator, axes, grid_, output, fmt, columns, chunk_size=chunk_size, workers=workers, dask=dask,
            dask_security=dask_security, resume=resume, overwrite=overwrite, retry_errors=retry_errors,
            bar_args=dict(stream=progress_stream, interval=progress_interval, enabled=progress), metadata=metadata,
        )
    finally:
        lock.release()


def _run_locked(
    evaluator: Any, axes: Sequence[Axis], grid_: Grid, output: Path, fmt: str, columns: list[str], *,
    chunk_size: int | None, workers: int, dask: Any, dask_security: Any, resume: bool, overwrite: bool,
    retry_errors: bool, bar_args: dict[str, Any], metadata: Mapping[str, Any] | None,
) -> SweepSummary:
    """:func:`run_sweep` once the output is locked."""
    fields = grid_.fields
    meta_path, *rest = sidecar_paths(output, fmt)
    journal_path = rest[0] if rest else output
    resuming = check_sweep_output(output, fmt, resume=resume, overwrite=overwrite)  # again, under the lock
    describe = evaluator.describe() if hasattr(evaluator, "describe") else {}
    ident = sweep_id(describe)
    first = next(iter(grid_))
    text_columns = {f for f, v in zip(fields, first) if isinstance(v, str)} | {SWEEP_ID_COLUMN}
    text_columns |= set(getattr(evaluator, "text_columns", ()))

    # -- what is already on disk
    existing: list[list[str]] = []
    meta: dict[str, Any] = {}
    if resuming:
        meta = _read_meta(meta_path, output, describe)
        existing = _read_existing(output, journal_path, columns, ident)
    n_fields = len(fields)
    error_at = columns.index(ERROR_COLUMN)
    done_keys = {tuple(_canon(c) for c in row[:n_fields]) for row in existing if not (retry_errors and row[error_at])}
    skipped = sum(map(grid_.count, done_keys))
    n_todo = grid_.size - skipped
    _check_disk(grid_, n_todo, columns, output.parent)
    if not resuming:
        for p in (output, journal_path, meta_path):
            p.unlink(missing_ok=True)  # --overwrite (check_sweep_output allowed it)

    # -- chunks
    parallel = dask is not None or workers > 1
    size = chunk_size or getattr(evaluator, "chunk_size", DEFAULT_CHUNK_SIZE)
    if parallel and chunk_size is None:
        n = workers if dask is None else 4
        size = max(16, min(size, math.ceil(n_todo / (4 * n)) if n_todo else size))
    inflight: dict[int, list[tuple]] = {}
    chunks = _chunks(_todo(grid_, done_keys), size, inflight)
    evaluator_copy = evaluator.for_parallel() if parallel and hasattr(evaluator, "for_parallel") else evaluator

    # -- metadata
    engine = getattr(evaluator, "engine", None)
    extra = (["dask", "distributed"] if dask is not None else []) + (["pyarrow"] if fmt == "parquet" else [])
    address = None if dask is None else (dask if isinstance(dask, str) else _dask_address(dask))
    run_info = {
        "started": _now(),
        "finished": None,
        "status": "running",
        "engine": engine,
        "workers": workers if dask is None else None,
        "dask": address,
        "dask_tls": None if address is None else address.startswith("tls://"),
        "chunk_size": size,
        "points_skipped": skipped,
        "points_evaluated": 0,
        "errors": 0,
        "versions": _versions(extra),
    }
    meta = {
        **meta,
        **(dict(metadata) if metadata else {}),
        "format": fmt,
        "columns": columns,
        "axes": [a.as_dict() for a in axes],
        "points": grid_.size,
        "evaluator": describe,
        SWEEP_ID_COLUMN: ident,
        "seed": getattr(evaluator, "seed", None),
        "method": getattr(evaluator, "method_description", "exact density matrix (no sampling)"),
    }
    meta.setdefault("runs", [])
    meta["runs"] = list(meta["runs"]) + [run_info]
    _write_json(meta_path, meta)

    # -- run
    journal = _Journal(journal_path, columns)
    bar = Progress(grid_.size, skipped, label="qnet sweep", unit="points", **bar_args)
    evaluated = errors = 0
    status = "failed"
    t0 = time.perf_counter()

    # a fresh CSV output written in grid order with no repeated point is already the final
    # table: the rewrite at the end is then skipped
    in_order = fmt == "csv" and not existing and not grid_.has_repeats
    last = -1
    value_columns = tuple(evaluator.columns)
    formatter = _RowFormatter(n_fields + len(value_columns))

    def write(indices: list[int], rows: list[dict[str, Any]]) -> None:
        nonlocal evaluated, errors, in_order, last
        values = inflight.pop(indices[0])
        n_err = 0
        errs = []
        for i, row in zip(indices, rows):
            err = row.get(ERROR_COLUMN)
            err = " ".join(str(err).split()) if err else ""  # one line
            n_err += bool(err)
            errs.append(err)
            if i <= last:
                in_order = False
            last = i
        columns_ = [[v[j] for v in values] for j in range(n_fields)]
        columns_ += [[row.get(c) for row in rows] for c in value_columns]
        journal.write_text(formatter.lines(columns_, errs, ident))
        evaluated += len(indices)
        errors += n_err
        bar.update(len(indices), n_err)
        if gc_enabled:
            gc.collect(1)

    def finished() -> str:
        if skipped + evaluated == 0:
            return "nothing was written"
        return f"the {skipped + evaluated} finished points are in {output}: rerun with --resume to complete it"

    runner: Any = None
    # the cyclic garbage collector would walk everything alive (modules, the grid) again and
    # again (~10% of a fast sweep): young generations only, once per chunk, during the run
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        if dask is not None:
            runner = _Dask(evaluator_copy, fields, chunks, dask, dask_security)
        elif workers > 1 and n_todo:
            runner = _Pool(evaluator_copy, fields, chunks, workers)
        else:
            runner = _Serial(evaluator_copy, fields, chunks)
        for indices, rows in runner:
            write(indices, rows)
        status = "complete"
    except KeyboardInterrupt:
        status = "interrupted"
        if runner is not None:
            try:
                for indices, rows in runner.drain():
                    write(indices, rows)
            except KeyboardInterrupt:  # a second Ctrl-C: stop waiting for running chunks
                pass
        raise
    except WorkerDied as exc:
        raise WorkerDied(f"{exc}; {finished()}") from None
    except QnetError as exc:
        raise QnetError(f"{exc}; {finished()}" if evaluated else str(exc)) from None
    except Exception as exc:
        raise QnetError(f"the sweep stopped: {_error_message(exc)}; {finished()}") from exc
    finally:
        if gc_enabled:
            gc.enable()
        if runner is not None:
            runner.close()
        journal.close(sync=in_order)
        bar.close()
        if status != "complete" and not resuming and evaluated == 0:
            for p in (output, journal_path, meta_path):  # nothing finished: leave nothing to block a rerun
                p.unlink(missing_ok=True)
        else:
            if not in_order:
                _finalize(output, fmt, journal_path, columns, grid_, text_columns)
            run_info.update(
                finished=_now(), status=status, points_evaluated=evaluated, errors=errors,
                seconds=round(time.perf_counter() - t0, 3),
            )
            _write_json(meta_path, meta)
    return SweepSummary(output, grid_.size, skipped, evaluated, errors, time.perf_counter() - t0, status, meta_path)


def _finalize(output: Path, fmt: str, journal_path: Path, columns: list[str], grid_: Grid, text_columns: set[str]) -> None:
    """Rewrite the table in grid order (last row wins for a repeated point), atomically."""
    n_fields = len(grid_.fields)
    rows: list[list[str]] = []
    if fmt == "parquet" and output.exists():
        rows += _read_parquet(output)[1]
    if journal_path.exists():
        rows += _read_csv(journal_path)[1]
    latest: dict[tuple, list[str]] = {}
    for row in rows:
        key = tuple(_canon(c) for c in row[:n_fields])
        latest.pop(key, None)  # keep the last occurrence, at its last position
        latest[key] = row

    def place(item: tuple[int, tuple]) -> tuple[int, int]:
        i = grid_.index(item[1])
        return (0, i) if i is not None else (1, item[0])

    table = [latest[k] for _, k in sorted(enumerate(latest), key=place)]
    if fmt == "csv":
        _write_csv(output, columns, table)
    else:
        _write_parquet(output, columns, table, text_columns)
        journal_path.unlink(missing_ok=True)
