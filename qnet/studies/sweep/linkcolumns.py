"""The batch backend's chunk path: a chunk of link points evaluated as columns, without a LinkSpec each.

The points of a link sweep share one link; only numbers differ. For the batch backend
(:mod:`qnet.link.batch`), :func:`column_rows` takes a chunk as a whole:

1. each point's hardware (:meth:`~qnet.studies.sweep.linkpoints.LinkPoints.hardware`: the
   validated objects, shared by the points with the same values);
2. the :class:`~qnet.link.spec.LinkSpec` numbers of every point at once, with
   :func:`~qnet.link.spec.spec_from_hardware`'s arithmetic done elementwise in numpy (the same
   IEEE operations in the same order, so the same bits); the attempts per round and the pair
   coherence time once per pair of memories;
3. each distinct instruction once: :func:`~qnet.link.circuit.program_fields` says which spec
   fields an instruction depends on, the points that agree on them share the instruction of
   the first one's :func:`~qnet.link.circuit.link_program`;
4. the final states (:func:`~qnet.link.batch.density_stack_columns`) and the figures of the
   stack, with the functions :func:`~qnet.studies.sweep.evaluators.link_rows` uses.

A point it does not take (its value takes the full network build, its spec would be an error:
no bright-state population, an attempt time out of range) gets None, and the evaluator's
per-point path evaluates it. ``tests/studies/test_sweep_columns.py`` holds the rows of both
paths equal, bit for bit.
"""

from __future__ import annotations

import itertools
import math
import threading
from typing import Any, Sequence

import numpy as np

from qnet.link import batch
from qnet.link.circuit import link_program, program_fields
from qnet.link.results import LINK_FIELDS
from qnet.link.run import never_heralds_error, stack_figures
from qnet.link.spec import MAX_ATTEMPT_TIME_S, link_attempts
from qnet.quantum import channels, figures
from qnet.studies.sweep.evaluators import (
    _CACHE_LOCK,
    _COLUMN_CACHE,
    _COLUMN_CACHE_SIZE,
    LINK_EXTRA_COLUMNS,
    error_message,
)
from qnet.studies.sweep.profile import _no_clock
from qnet.studies.sweep.table import ColumnRows

__all__ = ["column_rows"]


def _distinct(objects: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """(the distinct objects by identity, in order of first use; each point's index among them)."""
    ids = list(map(id, objects))
    if ids.count(ids[0]) == len(ids):  # one object (the base station, a fibre no axis changes, ...)
        return [objects[0]], np.zeros(len(ids), dtype=np.intp)
    by_id = dict(zip(ids, objects))
    index = {k: i for i, k in enumerate(dict.fromkeys(ids))}
    return [by_id[k] for k in index], np.fromiter(map(index.__getitem__, ids), dtype=np.intp, count=len(ids))


def _same(memories: Sequence[Any]) -> np.ndarray:
    """Per memory, the index of the first one with the same fields for the attempts per round and
    the pair coherence time (memories, memory_split, t2_s, t1_s, decay)."""
    seen: dict[Any, int] = {}
    out = []
    for i, m in enumerate(memories):
        key: Any = (m.memories, m.memory_split, m.t2_s, m.t1_s, m.decay)
        try:
            out.append(seen.setdefault(key, i))
        except TypeError:  # an unhashable field: by itself
            out.append(i)
    return np.array(out, dtype=np.int64)


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


_CODES: dict[Any, int] = {}
_CODES_LOCK = threading.Lock()  # Dask runs chunks in threads: one code per value, whoever asks first


def _codes(values: Sequence[Any]) -> np.ndarray:
    """An integer per value, the same for equal values in this whole process (strings such as a decay law)."""
    with _CODES_LOCK:
        return np.array([_CODES.setdefault((type(v), v), len(_CODES)) for v in values], dtype=np.int64)


class _Chunk:
    """The spec numbers of a chunk's points (those the path takes), as columns.

    ``taken`` holds the positions (in the chunk) of the points whose columns these are;
    ``field[name]`` the LinkSpec field ``name`` of each (floats, or codes for strings).
    """

    def __init__(self, builder: Any, found: list[tuple[tuple, float]], taken: list[int]):
        self.builder = builder
        self.found = found
        self.field: dict[str, np.ndarray] = {}
        st, mem_a, mem_b, fib_a, fib_b = zip(*(objects for objects, _ in found))
        self.c = np.array([c for _, c in found], dtype=float)
        self.st, self.i_st = _distinct(st)
        self.mem_a, self.i_a = _distinct(mem_a)
        self.mem_b, self.i_b = _distinct(mem_b)
        self.fib_a, self.i_fa = _distinct(fib_a)
        self.fib_b, self.i_fb = _distinct(fib_b)
        with np.errstate(all="ignore"):  # overflow to inf as Python's floats do (such points are dropped)
            ok = self._spec_columns()
        ok &= self._pair_columns()
        keep = np.flatnonzero(ok)
        self.taken = [taken[i] for i in keep.tolist()]
        self.found = [found[i] for i in keep.tolist()]
        for name in (
            "c",
            "i_st",
            "i_a",
            "i_b",
            "i_fa",
            "i_fb",
            "length_a",
            "length_b",
            "eta",
            "attempt",
            "k",
            "t_coh",
            "scheme",
        ):
            setattr(self, name, getattr(self, name)[keep])
        self.field = {name: column[keep] for name, column in self.field.items()}

    def _spec_columns(self) -> np.ndarray:
        """The LinkSpec numbers (spec_from_hardware's arithmetic, elementwise); which points have a valid spec."""
        i_st, i_a, i_b, i_fa, i_fb, c = self.i_st, self.i_a, self.i_b, self.i_fa, self.i_fb, self.c
        t_a = np.array([self.builder.transmissions(f, f)[0] for f in self.fib_a])[i_fa]
        t_b = np.array([self.builder.transmissions(f, f)[0] for f in self.fib_b])[i_fb]
        length_a = _floats([f.length_km for f in self.fib_a])[i_fa]
        length_b = _floats([f.length_km for f in self.fib_b])[i_fb]
        det = _floats([s.detector_efficiency for s in self.st])[i_st]
        # (emission * conversion) * transmission * detector, left to right as spec_from_hardware
        eff_a = _floats([m.emission_efficiency * m.conversion_efficiency for m in self.mem_a])[i_a] * t_a * det
        eff_b = _floats([m.emission_efficiency * m.conversion_efficiency for m in self.mem_b])[i_b] * t_b * det
        storage_a, storage_b = 2.0 * (length_a / c), 2.0 * (length_b / c)
        prep_a = _floats([m.prep_time_s for m in self.mem_a])[i_a]
        prep_b = _floats([m.prep_time_s for m in self.mem_b])[i_b]
        # max() keeps the first unless a later one is larger: np.where(b > a, b, a), bit for bit
        attempt = np.where(prep_b > prep_a, prep_b, prep_a) + np.where(storage_b > storage_a, storage_b, storage_a)
        ok = (attempt > 0.0) & (attempt <= MAX_ATTEMPT_TIME_S) & np.isfinite(1.0 / attempt)
        decay = _codes([m.decay for m in self.mem_a + self.mem_b])
        alpha_a = _floats([m.bright_state_population for m in self.mem_a])
        alpha_b = _floats([m.bright_state_population for m in self.mem_b])
        single = np.array([s.scheme == "single_click" for s in self.st])[i_st]
        self.scheme = _codes([s.scheme for s in self.st])[i_st]
        ok &= ~(single & (np.isnan(alpha_a[i_a]) | np.isnan(alpha_b[i_b])))  # the missing-field error
        ok &= np.array([type(f.length_km) is float for f in self.fib_a])[i_fa]
        ok &= np.array([type(f.length_km) is float for f in self.fib_b])[i_fb]
        self.length_a, self.length_b, self.eta, self.attempt = length_a, length_b, t_a * t_b, attempt
        self.field = {
            "bright_state_population_a": alpha_a[i_a],
            "bright_state_population_b": alpha_b[i_b],
            "efficiency_a": eff_a,
            "efficiency_b": eff_b,
            "storage_time_a_s": storage_a,
            "storage_time_b_s": storage_b,
            "t1_a_s": _floats([m.t1_s for m in self.mem_a])[i_a],
            "t1_b_s": _floats([m.t1_s for m in self.mem_b])[i_b],
            "t2_a_s": _floats([m.t2_s for m in self.mem_a])[i_a],
            "t2_b_s": _floats([m.t2_s for m in self.mem_b])[i_b],
            "decay_a": decay[: len(self.mem_a)][i_a],
            "decay_b": decay[len(self.mem_a) :][i_b],
            "visibility": _floats([s.visibility for s in self.st])[i_st],
            "dark_count_probability": _floats([s.dark_count_probability for s in self.st])[i_st],
            "phase_noise_rad": _floats([s.phase_noise_rad for s in self.st])[i_st],
        }
        return ok

    def _pair_columns(self) -> np.ndarray:
        """Attempts per round and pair coherence time, once per (station, memory A, memory B) that differ in them."""
        ev, s = self.builder.ev, self.builder.s
        key = (self.i_st * len(self.mem_a) + _same(self.mem_a)[self.i_a]) * len(self.mem_b) + _same(self.mem_b)[
            self.i_b
        ]
        pairs, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        k = np.zeros(len(pairs), dtype=np.int64)
        t_coh = np.zeros(len(pairs))
        good = np.ones(len(pairs), dtype=bool)
        for u, i in enumerate(first.tolist()):
            ma, mb = self.mem_a[self.i_a[i]], self.mem_b[self.i_b[i]]
            try:
                k[u] = link_attempts(ev.a, ma, ev.b, mb, s)
                t_coh[u] = channels.pair_coherence_time((ma.t2_s, ma.t1_s, ma.decay), (mb.t2_s, mb.t1_s, mb.decay))
            except Exception:
                good[u] = False  # the per-point path reports it
        inverse = inverse.reshape(-1)
        self.k, self.t_coh = k[inverse], t_coh[inverse]
        return good[inverse]

    def spec(self, i: int) -> Any:
        """The LinkSpec of point ``i`` (of the kept ones), as the per-point path builds it."""
        return self.builder.spec_of(*self.found[i])[0]


def _bits(column: np.ndarray) -> np.ndarray:
    return column.view(np.int64) if column.dtype == float else column


def _slots(chunk: _Chunk, members: np.ndarray, program: Any, programs: dict[int, Any]) -> list[tuple]:
    """Per instruction of ``program``'s structure: (the distinct instructions, each member's choice or None)."""
    slots: list[tuple[Sequence[Any], np.ndarray | None]] = []
    for j, names in enumerate(program_fields(program)):
        if not names:
            slots.append(((program.ops[j],), None))
            continue
        keys = np.ascontiguousarray(np.stack([_bits(chunk.field[name][members]) for name in names], axis=1))
        rows_ = keys[:, 0] if len(names) == 1 else keys.view(np.dtype((np.void, 8 * len(names)))).reshape(-1)
        _, first, which = np.unique(rows_, return_index=True, return_inverse=True)
        if len(first) == 1:
            slots.append(((program.ops[j],), None))
            continue
        # each distinct instruction once per process: known ones from the builder's cache, the
        # others from the program of the first point that has them
        known = chunk.builder.column_ops
        if len(known) > 100_000:
            known.clear()
        rows = keys[first].tolist()
        ops = []
        for f, row in zip(first.tolist(), rows):
            key = (id(program.structure), j, *row)
            op = known.get(key)
            if op is None:
                i = int(members[f])
                rep = programs.get(i)
                if rep is None:
                    rep = programs[i] = link_program(chunk.spec(i))
                op = known[key] = rep.ops[j]
            ops.append(op)
        slots.append((ops, which.reshape(-1)))
    return slots


def column_rows(
    builder: Any, points: Sequence[Any], clock: Any = _no_clock
) -> list[dict[str, Any] | None] | ColumnRows:
    """The rows of a chunk's points the column path takes; None for the others (the per-point path's).

    Parameters
    ----------
    builder : LinkPoints
        The evaluator's :func:`~qnet.studies.sweep.linkpoints.link_points`.
    points : sequence of mapping
        The chunk's points.
    clock : callable
        The chunk's stage clock (:func:`~qnet.studies.sweep.profile.stage_clock`).

    Returns
    -------
    list of dict or None, or ColumnRows
        Per point: its row (LINK_FIELDS, the sweep's extra columns and ``error``), or None;
        a :class:`~qnet.studies.sweep.table.ColumnRows` when the path takes every point without error.

    Examples
    --------
    >>> import tomllib
    >>> from qnet.studies.sweep import LinkEvaluator
    >>> from qnet.studies.sweep.linkpoints import link_points
    >>> with open("examples/liu2026_ion_link.toml", "rb") as fh:
    ...     ev = LinkEvaluator(network=tomllib.load(fh), a="alice", b="bob", link_backend="batch")
    >>> points = [{"nodes.alice.emission_efficiency": 0.5}, {"nodes.alice.emission_efficiency": 2.0}]
    >>> rows = column_rows(link_points(ev), points)
    >>> rows[0] == ev.evaluate(points[:1])[0], rows[1]    # the invalid point: the per-point path's
    (True, None)
    """
    rows: list[dict[str, Any] | None] = [None] * len(points)
    hardware = builder.hardware_all(points)
    taken = [i for i, h in enumerate(hardware) if h is not None]
    found = [hardware[i] for i in taken] if len(taken) < len(points) else hardware
    if not taken:
        return rows
    chunk = _Chunk(builder, found, taken)
    if not chunk.taken:
        return rows
    extra = _extra_columns(chunk)
    # as the per-point path: equal specs are evaluated once, and rows known from an earlier
    # chunk are reused (a link's figures do not depend on the stack it is evaluated in, so
    # this saves work only)
    keys = _spec_keys(chunk)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # the distinct specs in order of first occurrence
    first = first[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    inverse = rank[inverse.reshape(-1)]
    ev = builder.ev
    width = keys.dtype.itemsize
    data = keys.tobytes()
    cache_keys = [(ev.a, ev.b, builder.s, data[i * width : (i + 1) * width]) for i in first.tolist()]
    known: list[Any] = [None] * len(first)
    todo = []
    with _CACHE_LOCK:
        for u, key in enumerate(cache_keys):
            cached = _COLUMN_CACHE.get(key)
            if cached is None:
                todo.append(u)
            else:
                _COLUMN_CACHE.move_to_end(key)
                known[u] = cached
    clock("spec")
    if todo:
        new = _evaluate_distinct(chunk, first[todo], clock)
        with _CACHE_LOCK:
            for u, value in zip(todo, new):
                known[u] = value
                _COLUMN_CACHE[cache_keys[u]] = value
            while len(_COLUMN_CACHE) > _COLUMN_CACHE_SIZE:
                _COLUMN_CACHE.popitem(last=False)
    columns = LINK_FIELDS + LINK_EXTRA_COLUMNS + ("error",)
    values = list(map(known.__getitem__, inverse.tolist()))
    if any(type(v) is str for v in known):  # some error rows
        for place, value, more in zip(chunk.taken, values, zip(*extra)):
            rows[place] = {"error": value} if type(value) is str else dict(zip(columns, value + more + ("",)))
    else:
        cells = [*zip(*values), *extra, [""] * len(values)]
        if len(chunk.taken) == len(points):  # every point: the rows stay columns (the writer takes them so)
            clock("figures")
            return ColumnRows(columns, cells)
        for place, row in zip(chunk.taken, map(dict, map(zip, itertools.repeat(columns), zip(*cells)))):
            rows[place] = row
    clock("figures")
    return rows


def _extra_columns(chunk: _Chunk) -> tuple[list, list, list]:
    """The sweep's extra columns (LINK_EXTRA_COLUMNS) of every point, as the per-point path computes them."""
    plob = figures.plob_rate_hz
    key = np.ascontiguousarray(np.stack([chunk.eta.view(np.int64), chunk.attempt.view(np.int64), chunk.k], axis=1))
    _, first, inverse = np.unique(key.view(np.dtype((np.void, 24))).reshape(-1), return_index=True, return_inverse=True)
    plob_u = np.array([plob(float(chunk.eta[i]), float(chunk.attempt[i]), int(chunk.k[i])) for i in first.tolist()])
    return (
        (chunk.length_a + chunk.length_b).tolist(),
        chunk.eta.tolist(),
        plob_u[inverse.reshape(-1)].tolist(),
    )


#: The LinkSpec fields that are numbers or strings the chunk has as columns (with the attempt
#: time and the attempts per round, and the names, which the evaluator fixes, that is all of them).
_KEY_FIELDS = (
    "efficiency_a",
    "efficiency_b",
    "bright_state_population_a",
    "bright_state_population_b",
    "storage_time_a_s",
    "storage_time_b_s",
    "t2_a_s",
    "t2_b_s",
    "t1_a_s",
    "t1_b_s",
    "decay_a",
    "decay_b",
    "dark_count_probability",
    "visibility",
    "phase_noise_rad",
)


def _spec_keys(chunk: _Chunk) -> np.ndarray:
    """Per point, bytes equal exactly when the LinkSpecs are equal (floats by value: 0.0 and -0.0 alike)."""
    numbers = [chunk.length_a, chunk.length_b, chunk.attempt] + [chunk.field[name] for name in _KEY_FIELDS]
    columns = [(c + 0.0).view(np.int64) if c.dtype == float else c for c in numbers]  # + 0.0: -0.0 -> 0.0
    columns += [chunk.k, chunk.scheme]
    table = np.ascontiguousarray(np.stack(columns, axis=1))
    return table.view(np.dtype((np.void, table.shape[1] * 8))).reshape(-1)


def _evaluate_distinct(chunk: _Chunk, reps: np.ndarray, clock: Any) -> list[Any]:
    """Per point ``reps[u]`` (distinct specs, in order): the LINK_FIELDS values (a tuple), or the error message.

    As the per-point path: one batch-engine run per structure, the figures per layout (the
    structures of one qubit layout together, in this order).
    """
    programs: dict[int, Any] = {}
    stations = chunk.i_st[reps]
    _, first = np.unique(stations, return_index=True)
    structures: dict[tuple, list[int]] = {}  # structure -> first positions in reps of its stations
    for u in sorted(first.tolist()):  # the station decides the structure
        program = programs[int(reps[u])] = link_program(chunk.spec(int(reps[u])))
        structures.setdefault(program.structure, []).append(u)
    layouts: dict[tuple, tuple[Any, list[tuple[list[int], np.ndarray]]]] = {}
    for firsts in structures.values():
        # the positions of this structure's points, in order
        positions = np.flatnonzero(np.isin(stations, stations[firsts])).tolist()
        members = reps[positions]
        program = programs[int(members[0])]  # its first point is its first station's
        slots = _slots(chunk, members, program, programs)
        clock("compile")
        stack = batch.density_stack_columns(program.num_qubits, program.structure[1], slots, len(members))
        clock("run")
        layout = (program.num_qubits, program.memory_qubits, program.photon_qubits, id(program.heralds), program.target)
        layouts.setdefault(layout, (program, []))[1].append((positions, stack))
    out: list[Any] = [None] * len(reps)
    for layout, (program, parts) in layouts.items():
        if len(parts) == 1:
            positions, rhos = parts[0]
        else:  # the structures of one layout, in order of first occurrence
            positions = [u for where, _ in parts for u in where]
            order = np.argsort(positions, kind="stable")
            rhos = np.concatenate([stack for _, stack in parts])[order]
            positions = sorted(positions)
        members = reps[positions]
        p_all, failed, _, columns = stack_figures(
            rhos, layout, program.heralds, chunk.k[members], chunk.attempt[members], chunk.t_coh[members]
        )
        for u, value in zip(positions, zip(*(columns[name].tolist() for name in LINK_FIELDS))):
            out[u] = value
        for m in np.flatnonzero(failed).tolist():
            link = link_program(chunk.spec(int(members[m])))
            out[positions[m]] = error_message(never_heralds_error(link, float(p_all[m])))
        clock("figures")
    return out
