"""Parameter sweeps at scale: a grid of points, evaluated in chunks, streamed to a table on disk.

The pieces, each usable on its own:

* **Axes and grid.** An :class:`Axis` gives one or more fields (``nodes.NAME.FIELD``,
  ``fibres.NAME.FIELD``, ``network.FIELD``, the keys of ``qnet link --set``) and their values;
  fields of one axis vary *together*. :func:`grid` is the outer product of the axes, the last
  axis varying fastest. :func:`parse_vary` reads ``FIELD[,FIELD...]=START:STOP:N[:log]`` and
  :func:`parse_values` reads ``FIELD[,FIELD...]=V1,V2,...`` (TOML values; a bare word is a string).
* **Evaluators** (pluggable). An evaluator turns a list of points (``{field: value}`` dicts) into
  one result dict per point: its ``columns`` (numbers) or ``{"error": message}``. It must be
  picklable (it travels to worker processes and Dask workers) and may have ``describe()`` (a
  JSON-ready dict identifying what it computes: a resumed sweep must match it),
  ``chunk_size`` (preferred points per chunk) and ``for_parallel()`` (a copy configured for
  one-thread workers). For ``workers > 1`` its class must be importable from a module (worker
  processes are spawned). :class:`LinkEvaluator` evaluates one elementary link; a chain
  evaluator can be added the same way.
* **Execution** (:func:`run_sweep`). Points go to the evaluator in chunks (256 by default:
  one Aer ``run()`` per chunk), in this process, in local worker processes (``workers > 1``,
  spawned, Aer ``max_parallel_threads=1`` each) or on an existing ``dask.distributed`` cluster
  (``dask=ADDRESS`` or a ``Client``).
* **Nothing lost.** Rows are appended to the output chunk by chunk and flushed (a Parquet
  output is journalled to ``OUT.partial.csv`` and written at the end). Ctrl-C waits for the
  chunks already running, writes them and stops; a killed worker stops the sweep with every
  finished point on disk. ``resume=True`` skips the points already in the output (matched on
  the varied inputs) and appends the rest. A point that fails (an invalid value, a link that
  never heralds) is a row with its message in ``error``. When the sweep ends (or is
  interrupted) the table is rewritten in grid order, atomically (a point listed twice in the
  grid is one row; rows of a resumed output that are not in this grid stay, after it).
* **Output.** One row per point: every varied field as a column (its full key as the name),
  the evaluator's columns (for a link: :data:`qnet.results.LINK_FIELDS` and
  :data:`LINK_EXTRA_COLUMNS`: total fibre length, fibre transmission, PLOB bound), then ``error``
  (empty when the point succeeded). CSV numbers are written with ``repr`` (they read back
  exactly); ``inf`` is written as ``inf``. A sidecar ``OUT.meta.json`` records the versions,
  the network file's sha256, the axes, the overrides, the engine, the workers and the start
  and finish times of every run into this output.

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
import os
import sys
import threading
import time
import tomllib
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Protocol, Sequence

from .errors import QnetError
from .progress import Progress

__all__ = [
    "Axis",
    "parse_vary",
    "parse_values",
    "grid",
    "check_field",
    "Evaluator",
    "LinkEvaluator",
    "ENGINES",
    "LINK_EXTRA_COLUMNS",
    "ChainEvaluator",
    "run_sweep",
    "SweepSummary",
    "read_table",
    "output_format",
    "clear_cache",
]

ENGINES = ("aer", "batch")
ERROR_COLUMN = "error"
#: Columns a link sweep adds after LINK_FIELDS: the total fibre length L_A + L_B (km), the
#: fibres' transmission eta_f(L_A) eta_f(L_B), and the PLOB bound -log2(1 - eta_f) / T_att
#: (repeaterless capacity of the same fibre per attempt time, bits/s; conventions.md).
LINK_EXTRA_COLUMNS = ("total_length_km", "fibre_transmission", "plob_bits_per_s")
DEFAULT_CHUNK_SIZE = 256


# --------------------------------------------------------------------------- axes and grid

@dataclass(frozen=True)
class Axis:
    """Fields that vary together over ``values`` (one grid dimension)."""

    fields: tuple[str, ...]
    values: tuple[Any, ...]
    text: str = ""  # how the user wrote it (for the metadata)

    def __post_init__(self) -> None:
        if not self.fields:
            raise QnetError("an axis needs at least one field")
        if not self.values:
            raise QnetError(f"axis {', '.join(self.fields)}: no values")
        for f in self.fields:
            _check_key(f, self.text or f)

    def as_dict(self) -> dict[str, Any]:
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
    if n == 1:
        values = [start]
    elif log:
        if start <= 0 or stop <= 0:
            raise QnetError(f"--vary {text!r}: a log axis needs START > 0 and STOP > 0")
        ratio = math.log(stop / start) / (n - 1)
        values = [start * math.exp(ratio * i) for i in range(n)]
        values[-1] = stop
    else:
        step = (stop - start) / (n - 1)
        values = [start + step * i for i in range(n)]
        values[-1] = stop
    return Axis(fields, tuple(values), f"--vary {text}")


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


def grid(axes: Sequence[Axis]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """(fields, points): the outer product of the axes, last axis fastest.

    Each point is a tuple aligned with ``fields`` (the fields of every axis, in order).
    """
    fields: list[str] = []
    for axis in axes:
        for f in axis.fields:
            if f in fields:
                raise QnetError(f"field {f!r} is varied by two axes; join them into one (FIELD1,FIELD2=...)")
            fields.append(f)
    if not axes:
        return (), [()]
    points = []
    for combo in itertools.product(*(axis.values for axis in axes)):
        point: list[Any] = []
        for axis, value in zip(axes, combo):
            point += [value] * len(axis.fields)
        points.append(tuple(point))
    return tuple(fields), points


def check_field(network: Mapping[str, Any], key: str) -> None:
    """Fail fast when ``key`` names no node, fibre or field of the network table.

    Invalid *values* are not checked here: they become per-point errors.
    """
    from .hardware import Fibre, MemoryNode, Station

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


@dataclass(frozen=True)
class LinkEvaluator:
    """Evaluate the elementary link ``a`` - station - ``b`` of a network table at each point.

    ``network`` is the raw table (a parsed TOML file); ``overrides`` are ``--set`` strings
    applied before each point's values. Identical points (equal :class:`~qnet.link.LinkSpec`)
    are compiled and run once, and remembered in this process. ``engine="aer"`` runs the
    compiled circuits of a chunk in one Aer ``run()`` (exact density matrix, no NoiseModel,
    no transpile); ``engine="batch"`` evaluates the same circuits with :mod:`qnet.batch`.
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
        from .results import LINK_FIELDS

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
        table = json.dumps(self.network, sort_keys=True, default=repr).encode()
        return {
            "evaluator": "link",
            "a": self.a,
            "b": self.b,
            "station": self.station,
            "set": list(self.overrides),
            "network_table_sha256": hashlib.sha256(table).hexdigest(),
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
        from . import channels, figures
        from .link import link_spec
        from .network import network_from_dict

        rows: list[dict[str, Any] | None] = [None] * len(points)
        extra: list[dict[str, float]] = [{}] * len(points)
        todo: dict[Any, list[int]] = {}
        for i, point in enumerate(points):
            try:
                overrides = list(self.overrides) + [f"{k}={_toml_literal(v)}" for k, v in point.items()]
                graph = network_from_dict(self.network, source=self.source, overrides=overrides)
                spec = link_spec(graph, self.a, self.b, self.station)
            except Exception as exc:  # invalid value for this point: recorded, not fatal
                rows[i] = {ERROR_COLUMN: _error_message(exc)}
                continue
            # per point, not cached: the attenuation is not part of the LinkSpec
            eta = 1.0
            for node in (spec.node_a, spec.node_b):
                fibre = graph.edges[node, spec.station]["fibre"]
                eta *= channels.fibre_transmission(fibre.length_km, fibre.attenuation_db_per_km)
            extra[i] = {
                "total_length_km": spec.length_a_km + spec.length_b_km,
                "fibre_transmission": eta,
                "plob_bits_per_s": figures.plob_bound(eta) / spec.attempt_time_s,
            }
            cached = _cache_get((self.engine, spec))
            if cached is not None:
                rows[i] = dict(cached)
            else:
                todo.setdefault(spec, []).append(i)
        specs = list(todo)
        for spec, row in zip(specs, self._evaluate_specs(specs)):
            _cache_put((self.engine, spec), row)
            for i in todo[spec]:
                rows[i] = dict(row)
        for row, more in zip(rows, extra):
            if row is not None and not row.get(ERROR_COLUMN):
                row.update(more)
        return rows  # type: ignore[return-value]

    def _evaluate_specs(self, specs: Sequence[Any]) -> list[dict[str, Any]]:
        from .link import compile_link

        rows: list[dict[str, Any] | None] = [None] * len(specs)
        compiled = []
        for j, spec in enumerate(specs):
            try:
                compiled.append((j, compile_link(spec)))
            except Exception as exc:
                rows[j] = {ERROR_COLUMN: _error_message(exc)}
        if compiled:
            links = [c for _, c in compiled]
            states = self._states(links)
            for (j, c), row in zip(compiled, link_rows(links, states)):
                rows[j] = row
        return rows  # type: ignore[return-value]

    def _states(self, links: Sequence[Any]) -> list[Any]:
        """(p, delivered state) or an exception per link: one Aer run() or one batch call per chunk."""
        from .run import final_states, heralded_state

        try:
            # the circuits were compiled by this evaluator for this chunk: safe to append to
            rhos = final_states(links, self.device, self.engine, threads=self.aer_threads, in_place=True)
        except Exception as exc:
            return [exc] * len(links)
        out: list[Any] = []
        for rho, c in zip(rhos, links):
            try:
                out.append(heralded_state(rho, c))
            except Exception as exc:
                out.append(exc)
        return out


@dataclass(frozen=True)
class ChainEvaluator:
    """Evaluate the repeater chain from ``a`` to ``b`` of a network table at each point.

    The path is ``via`` (inner memory nodes in order) or, without it, the route that
    :func:`qnet.routing.best_path` picks by ``metric`` for that point's parameters.
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
        from .repeater import CHAIN_FIELDS

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
        table = json.dumps(self.network, sort_keys=True, default=repr).encode()
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
            "network_table_sha256": hashlib.sha256(table).hexdigest(),
        }

    def _point_seed(self, point: Mapping[str, Any]) -> int | None:
        if self.seed is None:
            return None
        text = json.dumps({k: _json_value(v) for k, v in sorted(point.items())}, sort_keys=True)
        return (int(self.seed) * 1_000_003 + zlib.crc32(text.encode())) % 2**63

    def evaluate(self, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        from .network import network_from_dict
        from .repeater import simulate_path
        from .routing import best_path, explicit_path

        rows = []
        for point in points:
            try:
                overrides = list(self.overrides) + [f"{k}={_toml_literal(v)}" for k, v in point.items()]
                graph = network_from_dict(self.network, source=self.source, overrides=overrides)
                if self.via is not None:
                    hops = explicit_path(graph, [self.a, *self.via, self.b])
                else:
                    results = _route_link_results(graph) if self.metric in ("fidelity", "rate") else None
                    hops = best_path(graph, self.a, self.b, self.metric, results)
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


def _route_link_results(graph: Any) -> dict:
    from .link import compile_link, elementary_links, link_spec
    from .run import run_links

    links = elementary_links(graph)
    return dict(zip(links, run_links([compile_link(link_spec(graph, a, b, s)) for a, b, s in links])))


def link_rows(links: Sequence[Any], states: Sequence[Any]) -> list[dict[str, Any]]:
    """Result rows (``LINK_FIELDS`` + ``error``) from each link's (p, delivered state) or exception.

    The figures are those of :func:`qnet.run.link_result`, the same as ``qnet link``.
    """
    from .results import LINK_FIELDS
    from .run import link_result

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
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.table(arrays, names=list(header)), tmp)
    os.replace(tmp, path)


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

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()


# --------------------------------------------------------------------------- progress

# --------------------------------------------------------------------------- execution

def _init_worker() -> None:
    """Worker process setup: one OpenMP/BLAS thread each, and Ctrl-C is the parent's business."""
    import signal

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
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

    def __init__(self, evaluator: Any, fields: tuple[str, ...], chunks: Iterator, dask: Any):
        try:
            from distributed import Client
        except ImportError:
            raise QnetError("--dask needs dask.distributed: pip install 'qnet[dask]'") from None
        self.own = not isinstance(dask, Client)
        try:
            self.client = Client(dask) if self.own else dask
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

    from . import __version__

    out: dict[str, str | None] = {"qnet": __version__, "python": sys.version.split()[0]}
    for dist in ("qiskit", "qiskit-aer", "numpy", *extra):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=repr) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run_sweep(
    evaluator: Any,
    axes: Sequence[Axis],
    output: str | Path,
    *,
    fmt: str | None = None,
    chunk_size: int | None = None,
    workers: int = 1,
    dask: Any = None,
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
    scheduler address or a ``distributed.Client``) sends the chunks to a Dask cluster instead.
    An existing output is an error unless ``resume`` (skip the points it holds; with
    ``retry_errors`` the points recorded with an error are evaluated again) or ``overwrite``.
    ``metadata`` is merged into the sidecar ``OUT.meta.json``. Raises ``KeyboardInterrupt``
    after writing what finished, and :class:`WorkerDied` when a worker dies.
    """
    output = Path(output)
    fmt = output_format(output, fmt)
    if fmt == "parquet":
        _require_pyarrow()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise QnetError(f"workers = {workers!r} is invalid: an integer >= 1")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise QnetError(f"chunk size = {chunk_size!r} is invalid: an integer >= 1")
    fields, points = grid(axes)
    columns = list(fields) + [c for c in evaluator.columns] + [ERROR_COLUMN]
    if len(set(columns)) != len(columns):
        raise QnetError(f"a varied field has the name of a result column: {columns}")
    meta_path = output.with_name(output.name + ".meta.json")
    journal_path = output if fmt == "csv" else output.with_name(output.name + ".partial.csv")
    describe = evaluator.describe() if hasattr(evaluator, "describe") else {}
    text_columns = {f for f, v in zip(fields, points[0]) if isinstance(v, str)} if points else set()
    text_columns |= set(getattr(evaluator, "text_columns", ()))

    # -- what is already on disk
    existing: list[list[str]] = []
    meta: dict[str, Any] = {}
    if output.exists() or journal_path.exists():
        if not (resume or overwrite):
            raise QnetError(f"{output} exists: use --resume to continue it or --overwrite to replace it")
        if overwrite and not resume:
            for p in (output, journal_path, meta_path):
                if p.exists():
                    p.unlink()
        else:
            if meta_path.exists():
                try:
                    meta = json.loads(meta_path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    meta = {}
                if meta.get("evaluator") not in (None, describe):
                    raise QnetError(
                        f"cannot resume {output}: it was made for a different network, link or --set "
                        f"({meta.get('evaluator')} vs {describe}); write to a new output"
                    )
            for p in (output, journal_path) if journal_path != output else (output,):
                if not p.exists():
                    continue
                header, rows = read_table(p) if p == output else _read_csv(p)
                if header and header != columns:
                    raise QnetError(
                        f"cannot resume {p}: its columns ({', '.join(header)}) differ from this sweep's "
                        f"({', '.join(columns)}); vary the same fields or write to a new output"
                    )
                existing += rows
    n_fields = len(fields)
    error_at = len(columns) - 1
    done_keys = {tuple(_canon(c) for c in row[:n_fields]) for row in existing if not (retry_errors and row[error_at])}
    keys = [tuple(_canon(v) for v in p) for p in points]
    todo = [i for i, k in enumerate(keys) if k not in done_keys]
    skipped = len(points) - len(todo)

    # -- chunks
    parallel = dask is not None or workers > 1
    size = chunk_size or getattr(evaluator, "chunk_size", DEFAULT_CHUNK_SIZE)
    if parallel and chunk_size is None:
        n = workers if dask is None else 4
        size = max(16, min(size, math.ceil(len(todo) / (4 * n)) if todo else size))
    chunks = ([todo[i : i + size], [points[j] for j in todo[i : i + size]]] for i in range(0, len(todo), size))
    evaluator_copy = evaluator.for_parallel() if parallel and hasattr(evaluator, "for_parallel") else evaluator

    # -- metadata
    engine = getattr(evaluator, "engine", None)
    extra = (["dask", "distributed"] if dask is not None else []) + (["pyarrow"] if fmt == "parquet" else [])
    run_info = {
        "started": _now(),
        "finished": None,
        "status": "running",
        "engine": engine,
        "workers": workers if dask is None else None,
        "dask": None if dask is None else (dask if isinstance(dask, str) else _dask_address(dask)),
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
        "points": len(points),
        "evaluator": describe,
        "seed": getattr(evaluator, "seed", None),
        "method": getattr(evaluator, "method_description", "exact density matrix (no sampling)"),
    }
    meta.setdefault("runs", [])
    meta["runs"] = list(meta["runs"]) + [run_info]
    _write_json(meta_path, meta)

    # -- run
    journal = _Journal(journal_path, columns)
    bar = Progress(len(points), skipped, stream=progress_stream, interval=progress_interval, enabled=progress,
                   label="qnet sweep", unit="points")
    evaluated = errors = 0
    status = "failed"
    t0 = time.perf_counter()

    def write(indices: list[int], rows: list[dict[str, Any]]) -> None:
        nonlocal evaluated, errors
        lines = []
        n_err = 0
        for i, row in zip(indices, rows):
            err = " ".join(str(row.get(ERROR_COLUMN) or "").split())  # one line
            n_err += bool(err)
            lines.append([_cell(v) for v in points[i]] + [_cell(row.get(c)) for c in evaluator.columns] + [err])
        journal.write(lines)
        evaluated += len(lines)
        errors += n_err
        bar.update(len(lines), n_err)

    runner: Any = None
    try:
        if dask is not None:
            runner = _Dask(evaluator_copy, fields, chunks, dask)
        elif workers > 1 and todo:
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
        raise WorkerDied(
            f"{exc}; the {skipped + evaluated} finished points are in {output}: rerun with --resume to complete it"
        ) from None
    finally:
        if runner is not None:
            runner.close()
        journal.close()
        bar.close()
        _finalize(output, fmt, journal_path, columns, n_fields, keys, text_columns)
        run_info.update(
            finished=_now(), status=status, points_evaluated=evaluated, errors=errors,
            seconds=round(time.perf_counter() - t0, 3),
        )
        _write_json(meta_path, meta)
    return SweepSummary(output, len(points), skipped, evaluated, errors, time.perf_counter() - t0, status, meta_path)


def _finalize(output: Path, fmt: str, journal_path: Path, columns: list[str], n_fields: int, keys: list[tuple], text_columns: set[str]) -> None:
    """Rewrite the table in grid order (last row wins for a repeated point), atomically."""
    rows: list[list[str]] = []
    if fmt == "parquet" and output.exists():
        rows += _read_parquet(output)[1]
    if journal_path.exists():
        rows += _read_csv(journal_path)[1]
    order = {k: i for i, k in enumerate(keys)}
    latest: dict[tuple, list[str]] = {}
    for row in rows:
        key = tuple(_canon(c) for c in row[:n_fields])
        latest.pop(key, None)  # keep the last occurrence, at its last position
        latest[key] = row
    position = {key: n for n, key in enumerate(latest)}
    ordered = sorted(latest, key=lambda k: (0, order[k]) if k in order else (1, position[k]))
    table = [latest[k] for k in ordered]
    if fmt == "csv":
        _write_csv(output, columns, table)
    else:
        _write_parquet(output, columns, table, text_columns)
        journal_path.unlink(missing_ok=True)
