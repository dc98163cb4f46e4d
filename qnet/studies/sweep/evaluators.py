"""Sweep evaluators: what turns a chunk of points into result rows.

:class:`Evaluator` is the base class :func:`~qnet.studies.sweep.run_sweep` works with (sinter's
``Sampler`` is the model): :meth:`~Evaluator.evaluate` is the one abstract method, every other
member has a default. :class:`LinkEvaluator` evaluates one elementary link (the fast per-point
network update is :mod:`qnet.studies.sweep.linkpoints`; the figures of a chunk are computed at
once by :func:`link_rows`), :class:`ChainEvaluator` a repeater chain.

Only the standard library is imported at module level.
"""

from __future__ import annotations

import abc
import dataclasses
import gc
import hashlib
import json
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from qnet._deprecation import renamed_keywords
from qnet.errors import QnetError
from qnet.studies.sweep.axes import RUN_FIELDS, json_value, toml_literal
from qnet.studies.sweep.linkpoints import clear_points, link_points
from qnet.studies.sweep.profile import _no_clock, stage_clock
from qnet.studies.sweep.table import ERROR_COLUMN, ColumnRows

__all__ = [
    "Evaluator",
    "LinkEvaluator",
    "ChainEvaluator",
    "LINK_EXTRA_COLUMNS",
    "PLOB_COLUMN",
    "DEFAULT_CHUNK_SIZE",
    "link_rows",
    "clear_cache",
    "error_message",
    "table_sha256",
]

#: The PLOB bound column of a link sweep (bits/s).
PLOB_COLUMN = "plob_bits_per_s"
#: Columns a link sweep adds after LINK_FIELDS: the total fibre length L_A + L_B (km), the
#: fibres' transmission eta_f(L_A) eta_f(L_B), and the PLOB bound -log2(1 - eta_f) / T_att
#: (repeaterless capacity of the same fibre per attempt time, bits/s; docs/conventions.md).
LINK_EXTRA_COLUMNS = ("total_length_km", "fibre_transmission", PLOB_COLUMN)
#: Points per chunk of an evaluator that does not say.
DEFAULT_CHUNK_SIZE = 256


class Evaluator(abc.ABC):
    """What :func:`~qnet.studies.sweep.run_sweep` needs from a per-point evaluator.

    An evaluator turns a list of points (``{field: value}`` dicts) into one result dict per
    point: its :attr:`columns` (numbers, or text for :attr:`text_columns`) or
    ``{"error": message}``. It must be picklable (it travels to worker processes and Dask
    workers); for ``workers > 1`` its class must be importable from a module (worker processes
    are spawned). Subclasses implement :meth:`evaluate` and set :attr:`columns`; the other
    members have defaults.

    Examples
    --------
    >>> class Double(Evaluator):
    ...     columns = ("y",)
    ...     def evaluate(self, points):
    ...         return [{"y": 2 * p["nodes.a.t2_s"], "error": ""} for p in points]
    >>> ev = Double()
    >>> ev.evaluate([{"nodes.a.t2_s": 1.5}]), ev.chunk_size, ev.describe(), ev.for_parallel() is ev
    ([{'y': 3.0, 'error': ''}], 256, {}, True)
    """

    #: The result columns, in table order (after the varied fields, before ``error``).
    columns: tuple[str, ...] = ()
    #: Columns that hold text (a Parquet table stores them as strings).
    text_columns: tuple[str, ...] = ()
    #: Preferred points per chunk.
    chunk_size: int = DEFAULT_CHUNK_SIZE
    #: The link backend (aer or batch), recorded in the metadata (None: not applicable).
    link_backend: str | None = None
    #: The seed, recorded in the metadata (None: none or not applicable).
    seed: int | None = None
    #: How the figures are computed, recorded in the metadata.
    method_description: str = "exact density matrix (no sampling)"
    #: With local worker processes, may the main process evaluate chunks while the workers start?
    #: (Worth it for cheap chunks; an evaluator that must never run in the main process says no.)
    helps_while_workers_start: bool = False
    #: A lower bound of the seconds a point costs (0: unknown). When it shows that the sweep is
    #: long enough, a helping pool starts its workers at once instead of after the first chunk.
    min_seconds_per_point: float = 0.0

    @abc.abstractmethod
    def evaluate(self, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row per point: the :attr:`columns` and ``error`` ('' or a one-line message).

        A :class:`~qnet.studies.sweep.table.ColumnRows` (the same rows held as columns) may be
        returned instead of the list: the sweep writes its columns as they are.
        """

    def describe(self) -> dict[str, Any]:
        """JSON-ready identification of what is computed (a resumed sweep must match it); default {}."""
        return {}

    def for_parallel(self) -> "Evaluator":
        """A copy configured for one-thread worker processes; default: this evaluator."""
        return self


def error_message(exc: BaseException) -> str:
    """The one-line message of a point that failed: a QnetError's text, else 'Type: text'.

    Parameters
    ----------
    exc : BaseException
        What the point raised.

    Returns
    -------
    str

    Examples
    --------
    >>> error_message(QnetError("bad value")), error_message(ZeroDivisionError("division by zero"))
    ('bad value', 'ZeroDivisionError: division by zero')
    """
    if isinstance(exc, QnetError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


_CACHE: "OrderedDict[Any, dict[str, Any]]" = OrderedDict()
_CACHE_SIZE = 100_000


_CACHE_LOCK = threading.Lock()  # Dask runs chunks in threads
#: The batch backend's column path keeps its rows by spec too (qnet.studies.sweep.linkcolumns):
#: (node A, node B, station, the spec's numbers as bytes) -> LINK_FIELDS values or an error message.
_COLUMN_CACHE: "OrderedDict[tuple, Any]" = OrderedDict()
_COLUMN_CACHE_SIZE = _CACHE_SIZE


def clear_cache() -> None:
    """Forget the results cached by :class:`LinkEvaluator` in this process (and its built networks).

    Examples
    --------
    >>> clear_cache()
    """
    with _CACHE_LOCK:
        _CACHE.clear()
        _COLUMN_CACHE.clear()
    clear_points()


def table_sha256(network: Mapping[str, Any]) -> str:
    """Content hash of a parsed network table (a resumed sweep must be over the same network).

    Parameters
    ----------
    network : mapping
        The raw network table.

    Returns
    -------
    str
        64 hex digits, independent of the key order.

    Examples
    --------
    >>> table_sha256({"a": 1, "b": 2}) == table_sha256({"b": 2, "a": 1})
    True
    """
    return hashlib.sha256(json.dumps(network, sort_keys=True, default=repr).encode()).hexdigest()


@renamed_keywords(engine="link_backend")
@dataclass(frozen=True)
class LinkEvaluator(Evaluator):
    """Evaluate the elementary link ``a`` - station - ``b`` of a network table at each point.

    ``network`` is the raw table (a parsed TOML file); ``overrides`` are ``--set`` strings
    applied before each point's values. The network is built once per process (per table
    content); a point's values replace only the hardware objects they touch, which validate
    themselves again, so an invalid value is an error row with the message a full rebuild
    gives (anything unusual takes the full rebuild). Identical points (equal
    :class:`~qnet.link.spec.LinkSpec`) are compiled and run once, and remembered in this process.
    ``link_backend="aer"`` runs the compiled circuits of a chunk in one Aer ``run()`` (exact density
    matrix, no NoiseModel, no transpile); ``link_backend="batch"`` evaluates the same instructions
    (:func:`qnet.link.circuit.link_program`, the list the circuits are built from) with
    :mod:`qnet.link.batch`. Heralded states and figures are computed for the whole chunk at once
    (:func:`link_rows`), with the functions of :func:`qnet.link.run.link_result`.

    Parameters
    ----------
    network : mapping
        The raw network table.
    a, b : str
        The link's memory nodes.
    station : str, optional
        The station between them (default: the one there is).
    overrides : tuple of str
        ``--set`` strings applied before each point's values.
    link_backend : str
        "aer" or "batch".
    source : str
        The table's file name, for error messages.
    aer_threads : int
        Aer ``max_parallel_threads`` (0: Aer's default, all cores).
    device : str
        Aer device ("CPU", or "GPU" with qiskit-aer-gpu).

    Raises
    ------
    QnetError
        For an unknown link backend.

    Examples
    --------
    >>> import tomllib
    >>> with open("examples/liu2026_ion_link.toml", "rb") as fh:
    ...     ev = LinkEvaluator(network=tomllib.load(fh), a="alice", b="bob", link_backend="batch")
    >>> good, bad = ev.evaluate([{"nodes.alice.emission_efficiency": 0.5}, {"nodes.alice.emission_efficiency": 2.0}])
    >>> round(good["fidelity"], 4), good["error"], bad["error"]
    (0.7283, '', 'nodes.alice.emission_efficiency = 2.0 is invalid: a number in [0, 1]')
    >>> ev.chunk_size, ev.columns[-3:]
    (1024, ('total_length_km', 'fibre_transmission', 'plob_bits_per_s'))
    """

    network: Mapping[str, Any]
    a: str
    b: str
    station: str | None = None
    overrides: tuple[str, ...] = ()
    link_backend: str = "aer"
    source: str = "<dict>"
    aer_threads: int = 0  # Aer max_parallel_threads (0: Aer's default, all cores)
    device: str = "CPU"  # Aer device ("GPU" needs qiskit-aer-gpu)
    columns: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)
    helps_while_workers_start = True  # chunks of milliseconds: the main process evaluates some while workers spawn

    def __post_init__(self) -> None:
        from qnet.link.results import LINK_FIELDS
        from qnet.link.choices import check_link_backend

        check_link_backend(self.link_backend)
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "columns", tuple(LINK_FIELDS) + LINK_EXTRA_COLUMNS)

    @property
    def chunk_size(self) -> int:  # type: ignore[override]
        """256 points (one Aer ``run()``) or 1024 for the batch engine."""
        return 256 if self.link_backend == "aer" else 1024

    @property
    def min_seconds_per_point(self) -> float:  # type: ignore[override]
        """100 us with Aer (its assembly and run of one link circuit alone cost more), else 0 (unknown)."""
        return 1e-4 if self.link_backend == "aer" else 0.0

    def for_parallel(self) -> "LinkEvaluator":
        """A copy whose Aer runs one thread (one per worker process)."""
        return dataclasses.replace(self, aer_threads=1)

    def describe(self) -> dict[str, Any]:
        """The link, the overrides and the network table's sha256 (what a resumed sweep must match)."""
        return {
            "evaluator": "link",
            "a": self.a,
            "b": self.b,
            "station": self.station,
            "set": list(self.overrides),
            "network_table_sha256": table_sha256(self.network),
        }

    # -- per chunk
    def evaluate(self, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row per point (see the class docstring)."""
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
        clock = stage_clock()  # stage times when the chunk is profiled (qnet sweep --profile)
        if self.link_backend != "batch":
            return self._evaluate_points(points, clock)
        # the batch engine takes the chunk as columns (qnet.studies.sweep.linkcolumns); the points
        # that path leaves (errors, unusual values) go point by point
        from qnet.studies.sweep.linkcolumns import column_rows

        try:
            rows = column_rows(link_points(self), points, clock)
        except Exception:  # whatever stopped it, the per-point path evaluates (or reports) every point
            rows = [None] * len(points)
        if isinstance(rows, ColumnRows):  # every point, as columns
            return rows  # type: ignore[return-value]
        rest = [i for i, row in enumerate(rows) if row is None]
        if rest:
            for i, row in zip(rest, self._evaluate_points([points[i] for i in rest], clock)):
                rows[i] = row
        return rows  # type: ignore[return-value]

    def _evaluate_points(self, points: Sequence[Mapping[str, Any]], clock: Any = _no_clock) -> list[dict[str, Any]]:
        """The per-point path: a LinkSpec per point, identical specs evaluated once (and cached)."""
        from qnet.quantum import figures

        rows: list[dict[str, Any] | None] = [None] * len(points)
        extra: list[tuple[float, float, float] | None] = [None] * len(points)
        todo: dict[_SpecKey, list[int]] = {}
        builder = link_points(self)  # the base network once per chunk (or per process)
        link_backend = self.link_backend
        plob = figures.plob_rate_hz
        keyed: list[tuple[int, _SpecKey]] = []
        for i, point in enumerate(points):
            try:
                spec, eta = builder.spec(point)
            except Exception as exc:  # invalid value for this point: recorded, not fatal
                rows[i] = {ERROR_COLUMN: error_message(exc)}
                continue
            # per point, not cached: the attenuation is not part of the LinkSpec
            extra[i] = (
                spec.length_a_km + spec.length_b_km,
                eta,
                plob(eta, spec.attempt_time_s, spec.attempts_per_round),
            )
            keyed.append((i, _SpecKey(link_backend, spec)))
        with _CACHE_LOCK:  # once per chunk
            get, move = _CACHE.get, _CACHE.move_to_end
            for i, key in keyed:
                cached = get(key)
                if cached is not None:
                    move(key)
                    rows[i] = cached
                else:
                    same = todo.get(key)
                    if same is None:
                        todo[key] = [i]
                    else:
                        same.append(i)
        keys = list(todo)
        clock("spec")
        new = list(zip(keys, self._evaluate_specs([k.spec for k in keys], clock)))
        with _CACHE_LOCK:
            for key, row in new:
                _CACHE[key] = row
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        for key, row in new:
            for i in todo[key]:
                rows[i] = row
        # every row its own dict (cached rows are shared): the figures, then the per-point columns
        for i, (got, more) in enumerate(zip(rows, extra)):
            own = dict(got or ())
            if more is not None and not own.get(ERROR_COLUMN):
                own.update(zip(LINK_EXTRA_COLUMNS, more))
            rows[i] = own
        return rows  # type: ignore[return-value]

    def _evaluate_specs(self, specs: Sequence[Any], clock: Any = _no_clock) -> list[dict[str, Any]]:
        """One row per distinct spec: every circuit of the chunk in one Aer run() (or one batch call)."""
        from qnet.link import circuit as link_module
        from qnet.link.circuit import link_program

        rows: list[dict[str, Any] | None] = [None] * len(specs)
        compiled = []
        for j, spec in enumerate(specs):
            try:
                # Aer runs compile_link's circuits; the batch engine their instruction lists
                # (the same instructions, without building Qiskit objects)
                item = (
                    link_module.compile_link(spec, share_instructions=True)
                    if self.link_backend == "aer"
                    else link_program(spec)
                )
            except Exception as exc:
                rows[j] = {ERROR_COLUMN: error_message(exc)}
                continue
            compiled.append((j, item))
        clock("compile")
        if compiled:
            items = [c for _, c in compiled]
            states = self._final_states(items)
            clock("run")
            for (j, _), row in zip(compiled, link_rows(items, states)):
                rows[j] = row
            clock("figures")
        return rows  # type: ignore[return-value]

    def _final_states(self, items: Sequence[Any]) -> Any:
        """The final density matrices of the chunk's links (a list), or the exception that stopped them."""
        try:
            if self.link_backend == "batch":
                from qnet.link import batch

                return batch.density_matrices(items)
            from qnet.link.run import final_states

            # the circuits were compiled by this evaluator for this chunk: safe to append to
            return final_states(items, self.device, self.link_backend, threads=self.aer_threads, in_place=True)
        except Exception as exc:
            return exc


class _SpecKey:
    """(link backend, LinkSpec) as a dict key whose hash is computed once (a spec has 22 fields)."""

    __slots__ = ("link_backend", "spec", "hash")

    def __init__(self, link_backend: str, spec: Any):
        self.link_backend, self.spec = link_backend, spec
        self.hash = hash((link_backend, spec))

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _SpecKey):
            return NotImplemented
        return self.hash == other.hash and self.link_backend == other.link_backend and self.spec == other.spec


def link_rows(items: Sequence[Any], states: Any) -> list[dict[str, Any]]:
    """Result rows of compiled links (or link programs) from their final density matrices.

    The figures are those of :func:`qnet.link.run.link_result` (the same as ``qnet link``): the
    same functions (:mod:`qnet.quantum.figures`, :func:`qnet.quantum.states.fidelity`,
    :func:`qnet.link.run.link_figures`), given the stack of all links of one layout at once.

    Parameters
    ----------
    items : sequence of CompiledLink or LinkProgram
        The chunk's links.
    states : sequence of ndarray, or BaseException
        Their final density matrices (:func:`qnet.link.run.final_states`, or
        :func:`qnet.link.batch.density_matrices`), or the exception that stopped them all.

    Returns
    -------
    list of dict
        Per link: :data:`~qnet.link.results.LINK_FIELDS` and ``error`` (''), or only ``error``.

    Examples
    --------
    >>> import qnet
    >>> from qnet.link.batch import density_matrices
    >>> from qnet.link.circuit import compile_link, link_program
    >>> from qnet.link.spec import link_spec
    >>> from qnet.link.run import run_links
    >>> spec = link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> program = link_program(spec)
    >>> row = link_rows([program], density_matrices([program]))[0]
    >>> reference = run_links([compile_link(spec)], link_backend="batch")[0]
    >>> abs(row["fidelity"] - reference.fidelity) < 1e-9, abs(row["chsh"] - reference.chsh) < 1e-9, row["error"]
    (True, True, '')
    """
    import numpy as np

    from qnet.link.run import layout_groups

    if isinstance(states, BaseException):
        return [{ERROR_COLUMN: error_message(states)}] * len(items)
    rows: list[dict[str, Any] | None] = [None] * len(items)
    # the batch engine hands its states over stacked already (qnet.link.batch.StateList)
    stacked = {tuple(idx.tolist()): st for idx, st in getattr(states, "groups", ())}
    coherence: dict[tuple, float] = {}
    for layout, (heralds, members) in layout_groups(items).items():
        rhos = stacked.get(tuple(members))
        if rhos is None:
            rhos = np.stack([states[i] for i in members])
        _layout_rows(items, members, rhos, layout, heralds, coherence, rows)
    return rows  # type: ignore[return-value]


def _layout_rows(items, members, rhos, layout, heralds, coherence, rows) -> None:
    """Fill ``rows`` for the links ``members`` of one layout from their final states (a stack).

    Every figure is computed for the whole stack at once (:func:`qnet.link.run.stack_figures`,
    the formulas of ``qnet link``); only the rows are built point by point.
    """
    import numpy as np

    from qnet.link.results import LINK_FIELDS
    from qnet.link.run import never_heralds_error, stack_figures

    specs = [items[i].spec for i in members]
    t_coh = []
    for spec in specs:
        memories = (spec.t2_a_s, spec.t1_a_s, spec.decay_a, spec.t2_b_s, spec.t1_b_s, spec.decay_b)
        t = coherence.get(memories)
        if t is None:
            t = coherence[memories] = spec.pair_coherence_time_s
        t_coh.append(t)
    p_all, failed, _, columns = stack_figures(
        rhos,
        layout,
        heralds,
        np.array([spec.attempts_per_round for spec in specs]),
        np.array([spec.attempt_time_s for spec in specs]),
        np.array(t_coh, dtype=float),
    )
    values = zip(*(columns[name].tolist() for name in LINK_FIELDS))
    for i, p, bad, row in zip(members, p_all.tolist(), failed.tolist(), values):
        if bad:
            rows[i] = {ERROR_COLUMN: error_message(never_heralds_error(items[i], p))}
        else:
            rows[i] = dict(zip(LINK_FIELDS, row), error="")


@dataclass(frozen=True)
class ChainEvaluator(Evaluator):
    """Evaluate the repeater chain from ``a`` to ``b`` of a network table at each point.

    The path is ``via`` (inner memory nodes in order) or, without it, the route that
    :func:`qnet.repeater.routing.best_path` picks by ``metric`` for that point's parameters.
    ``exact``: True = exact mode only (an error row where unavailable), None = exact where
    available else Monte Carlo, False = Monte Carlo. The Monte Carlo seed of a point is derived
    from ``seed`` and the point's values, so a resumed or parallel sweep gives the same rows.

    Parameters
    ----------
    network : mapping
        The raw network table.
    a, b : str
        The chain's end nodes.
    via : tuple of str, optional
        The inner memory nodes in order (default: the route by ``metric``).
    metric : str
        The routing metric when ``via`` is None.
    overrides : tuple of str
        ``--set`` strings applied before each point's values.
    exact : bool or None
        Exact mode only, exact where available, or Monte Carlo (see above).
    samples : int
        Monte Carlo deliveries per point.
    seed : int, optional
        The Monte Carlo seed.
    swap_policy : str
        "asap" or "nested".
    source : str
        The table's file name, for error messages.
    chunk_size : int
        Points per chunk.

    Examples
    --------
    >>> import tomllib
    >>> with open("examples/ion_repeater_chain.toml", "rb") as fh:
    ...     ev = ChainEvaluator(network=tomllib.load(fh), a="alice", b="bob", via=("r1", "r2", "r3"), samples=50, seed=1)
    >>> row = ev.evaluate([{"nodes.r1.cutoff_s": 0.5}])[0]
    >>> row["method"], row["samples"], row["path"], row["error"]
    ('monte_carlo', 50, 'alice-r1-r2-r3-bob', '')
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
    def method_description(self) -> str:  # type: ignore[override]
        """The mode and the samples per Monte Carlo point, for the metadata."""
        modes = {True: "exact", None: "exact where available, else Monte Carlo", False: "Monte Carlo"}
        return f"repeater chain: {modes[self.exact]} ({self.samples} samples per Monte Carlo point)"

    def describe(self) -> dict[str, Any]:
        """The chain, its options and the network table's sha256 (what a resumed sweep must match)."""
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
            "network_table_sha256": table_sha256(self.network),
        }

    def _point_seed(self, point: Mapping[str, Any]) -> int | None:
        if "seed" in point:  # a replications axis
            return int(point["seed"])
        if self.seed is None:
            return None
        text = json.dumps({k: json_value(v) for k, v in sorted(point.items())}, sort_keys=True)
        return (int(self.seed) * 1_000_003 + zlib.crc32(text.encode())) % 2**63

    def evaluate(self, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row per point: the chain's figures, or an error row."""
        from qnet.network.graph import network_from_dict
        from qnet.repeater.path import simulate_path
        from qnet.repeater.routing import best_path, explicit_path

        rows = []
        for point in points:
            try:
                overrides = list(self.overrides) + [
                    f"{k}={toml_literal(v)}" for k, v in point.items() if k not in RUN_FIELDS
                ]
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
                rows.append({ERROR_COLUMN: error_message(exc)})
                continue
            ci = result.rate_hz_ci or (None, None)
            row = {name: getattr(result, name) for name in self.columns if hasattr(result, name)}
            row.update(rate_hz_ci_low=ci[0], rate_hz_ci_high=ci[1], path="-".join(result.path), error="")
            rows.append(row)
        return rows
