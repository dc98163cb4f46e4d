"""The opt-in vectorised engine: qnet's compiled circuits evaluated in numpy, many points at once.

``qnet sweep --link-backend batch`` (and :func:`run_links` here) runs **the same compiled circuits**
that Aer runs (:func:`qnet.compile_link` output, raw ``kraus`` instructions and all), through a
small exact density-matrix simulator that works on a whole batch of circuits at a time:

* the input is Qiskit circuits or qnet's plain instruction lists (:class:`qnet.link.circuit.LinkProgram`,
  the very list :func:`qnet.compile_link` builds its circuit from; no Qiskit objects are made);
* circuits are grouped by *structure* (qubit count and the sequence of instruction names and
  qubits); the parameters (rotation angles, Kraus matrices) may differ from point to point;
* every instruction becomes a superoperator ``S = sum_i K_i (x) conj(K_i)`` on its k qubits
  (a gate is the one-operator case), computed once per *distinct* parameter set in the batch
  (the same matrices, by identity, or the same angle) and shared by the points that use it;
* the state of a batch is kept *sparse in structure*: only the entries of the density matrix
  that can be non-zero (at any point of the batch) are stored, as an (entries, points) array;
  an instruction maps them class by class (a class = the entries that agree off the
  instruction's qubits), one multiply-add per non-zero superoperator coefficient, each a
  vector over the points (a link circuit keeps at most a few dozen of its 256 entries, and the
  station instrument writes only the diagonal blocks of its click record);
* the arithmetic is elementwise only (no BLAS), so a point's result does not depend on the
  batch it was simulated in;
* the result is the final density matrix of each circuit, exactly what Aer's
  ``save_density_matrix`` of all qubits returns (to rounding, ~1e-15), from which
  :func:`qnet.heralded_state` reads the heralded memory state.

Supported instructions: ``barrier``; ``kraus`` and ``superop`` (Aer's, Qiskit ``SuperOp``
convention) on any number of qubits; ``unitary``; every
standard gate with a matrix (``ry``, ``rx``, ``rz``, ``p`` vectorised; ``cx``, ``h``, ``x``,
``sdg``, ... through ``Gate.to_matrix``, or a built-in table for instruction lists). Anything
else (measure, reset, saves, control flow) raises :class:`UnsupportedInstruction`.
``tests/link/test_batch_engine.py`` proves the engine equal to Aer to 1e-12 on every circuit qnet
compiles, and on every instruction list.

Qiskit is not imported by this module; it only reads the circuits it is given.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from qnet.link.superops import ROTATIONS, Superops, UnsupportedInstruction, gate_matrix, instruction_superops

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

__all__ = [
    "UnsupportedInstruction",
    "circuit_structure",
    "density_matrices",
    "density_stack",
    "density_stack_columns",
    "StateList",
]

#: Sets the points per sub-batch: ``BLOCK_BYTES // (16 * 2^(n+2))`` for n qubits (4096 points of a
#: 4-qubit link, 1024 of a 6-qubit one).
BLOCK_BYTES = 4 * 2**20


# --------------------------------------------------------------------------- reading the input


def _instructions(qc: "QuantumCircuit") -> tuple[tuple, list]:
    """(structure, instructions) of a circuit; structure = (name, qubit indices) per instruction."""
    index = {q: i for i, q in enumerate(qc.qubits)}
    data = list(qc.data)
    structure = []
    for inst in data:
        if inst.clbits:
            raise UnsupportedInstruction(
                f"instruction {inst.name!r} uses classical bits; the batch engine is exact-only"
            )
        structure.append((inst.name, tuple([index[q] for q in inst.qubits])))
    return tuple(structure), data


def _is_program(item: Any) -> bool:
    return hasattr(item, "ops") and hasattr(item, "num_qubits") and not hasattr(item, "data")


def _read(item: Any) -> tuple[tuple, Sequence[Any]]:
    """(grouping key, instructions) of a circuit or an instruction list (a :class:`~qnet.link.circuit.LinkProgram`)."""
    if _is_program(item):
        structure = getattr(item, "structure", None)
        if structure is None:
            structure = (item.num_qubits, tuple((op.name, tuple(op.qubits)) for op in item.ops))
        return structure, item.ops
    structure, data = _instructions(item)
    return (item.num_qubits, structure), data


def circuit_structure(qc: Any) -> tuple:
    """The grouping key: qubit count and the sequence of (instruction name, qubits).

    Items with equal keys are simulated together (their parameters may differ).

    Parameters
    ----------
    qc : qiskit.QuantumCircuit or LinkProgram
        A circuit or an instruction list.

    Returns
    -------
    tuple
        ``(num_qubits, ((name, qubits), ...))``.

    Raises
    ------
    UnsupportedInstruction
        For a circuit instruction with classical bits.

    Examples
    --------
    >>> import qnet
    >>> from qnet.link.circuit import link_program
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> n, ops = circuit_structure(link_program(spec))
    >>> n, ops[:2], circuit_structure(qnet.compile_link(spec).circuit) == (n, ops)
    (4, (('ry', (0,)), ('cx', (0, 1))), True)
    """
    return _read(qc)[0]


# --------------------------------------------------------------------------- applying them
#
# The state of a batch is kept *sparse in structure*: ``ent`` (E,) holds the flat indices
# i * D + j of the entries of the density matrix that can be non-zero at any point of the batch,
# ``vals`` (E, N) their values, point last. An instruction on qubits Q sees each entry as
# (class, code): ``code`` = the entry's row and column bits on Q (the superoperator's index),
# ``class`` = the entry with those bits cleared. Entries of one class form a vector over the
# codes, which the superoperator maps to a vector over the codes it can reach. A link circuit's
# state has at most a few dozen such entries of its 256, so this does a tenth of the dense work.


def _locate(ent: np.ndarray, qubits: tuple[int, ...], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(code, class) of every entry: its row/column bits on ``qubits``, and the rest of its index."""
    d = 1 << len(qubits)
    i, j = ent >> n, ent & ((1 << n) - 1)
    row = np.zeros_like(ent)
    col = np.zeros_like(ent)
    mask = 0
    for t, q in enumerate(qubits):  # bit t of the operator index = qubit qubits[t]
        row |= ((i >> q) & 1) << t
        col |= ((j >> q) & 1) << t
        mask |= 1 << q
    return row * d + col, ((i & ~mask) << n) | (j & ~mask)


def _place(classes: np.ndarray, codes: np.ndarray, qubits: tuple[int, ...], n: int) -> np.ndarray:
    """Flat indices of the entries (class, code): the inverse of :func:`_locate`."""
    d = 1 << len(qubits)
    row, col = codes // d, codes % d
    i, j = classes >> n, classes & ((1 << n) - 1)
    for t, q in enumerate(qubits):
        i = i | (((row >> t) & 1) << q)
        j = j | (((col >> t) & 1) << q)
    return (i << n) | j


class _Workspace(threading.local):
    """Flat work buffers, reused from call to call (per thread).

    The arrays of a large batch are hundreds of KiB; fresh ones would come from ``mmap`` and
    cost a page fault per 4 KiB at every instruction, as much time as the arithmetic.
    """

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any = complex) -> np.ndarray:
        size = int(np.prod(shape))
        buf = self.buffers.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self.buffers[name] = np.empty(max(size, 1024), dtype=dtype)
        return buf[:size].reshape(shape)


_WORK = _Workspace()


def _apply(
    ent: np.ndarray, vals: np.ndarray, sup: Superops, qubits: tuple[int, ...], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The (entries, values) after one instruction with superoperators ``sup``.

    The values returned live in this thread's workspace (valid until the next call).
    """
    nb = vals.shape[1]
    if sup.inverse is None and _is_identity(sup.unique[0]):
        # every entry maps to itself times 1: what the loop below computes, 0.0 + value (which
        # turns -0.0 into 0.0), without the loop (a memory that does not decay, ...)
        out = _WORK.get("v", vals.shape)
        np.add(vals, 0.0, out=out)
        return ent, out
    layout = _layout(ent, qubits, n)
    classes, cls, cols, colpos, present, full = layout[1:]
    nc = len(classes)
    x = _WORK.get("x", (nc, len(cols), nb))
    if not full:  # (entries every class has at every code present overwrite all of x)
        x.fill(0.0)
    x[cls, colpos] = vals
    unique = sup.unique[:, :, cols]  # (U, 4^k, C): only the codes present
    structural = np.any(unique != 0, axis=0)  # (4^k, C): which code reaches which
    rows, pairs, pair_list, take, new = _routes(layout, structural, qubits, n)
    unique = unique[:, rows]
    # elementwise arithmetic only (no BLAS): each value is the same sum, in the same order,
    # whatever the batch size
    if len(pairs) <= 256:  # one multiply-add per coefficient, each a vector over the points
        y = _WORK.get("y", (nc, len(rows), nb))
        y.fill(0.0)
        tmp = _WORK.get("t", (nc, nb))
        coef = unique[:, pairs[:, 0], pairs[:, 1]]  # (U, P)
        if sup.inverse is None:
            same = [True] * len(pairs)
        else:
            same = np.all(coef == coef[:1], axis=0)
            varying = coef[:, ~same]
            if not np.any(varying.imag):
                varying = varying.real
            per_point = _WORK.get("c" + varying.dtype.char, (varying.shape[1], nb), varying.dtype)
            np.take(varying.T, sup.inverse, axis=1, out=per_point)  # (P', N)
            slot = np.cumsum(~same) - 1
            same = same.tolist()
        shared = coef[0].tolist()  # as Python numbers: the same float64/complex128 values
        slots = slot.tolist() if sup.inverse is not None else []  # (without an inverse every entry is shared)
        for p, (a, b) in enumerate(pair_list):
            dest = y[:, a]
            if same[p]:
                c = shared[p]
                if c == 1.0:
                    np.add(dest, x[:, b], out=dest)
                    continue
                np.multiply(x[:, b], c.real if c.imag == 0 else c, out=tmp)
            else:
                np.multiply(x[:, b], per_point[slots[p]], out=tmp)
            np.add(dest, tmp, out=dest)
    elif sup.inverse is None:
        y = np.einsum("ab,rbn->ran", unique[0], x)
    else:
        y = np.einsum("nab,rbn->ran", unique[sup.inverse], x)
    out = _WORK.get("v", (len(new), nb))
    np.take(y.reshape(-1, nb), take, axis=0, out=out)
    return new, out


#: How an instruction's entries fall into classes and codes (:func:`_layout`), and where the
#: superoperators send them (:func:`_routes`): the same in every chunk of a sweep, so kept.
_LAYOUTS: dict[tuple, tuple] = {}
_ROUTES: dict[tuple, tuple] = {}


def _layout(ent: np.ndarray, qubits: tuple[int, ...], n: int) -> tuple:
    """(key, classes, each entry's class, the codes present, each entry's code, classes x codes present, all present)."""
    key = (ent.tobytes(), qubits, n)
    found = _LAYOUTS.get(key)
    if found is None:
        code, rest = _locate(ent, qubits, n)
        classes, cls = np.unique(rest, return_inverse=True)
        cols, colpos = np.unique(code, return_inverse=True)
        present = np.zeros((len(classes), len(cols)), dtype=np.int64)
        present[cls, colpos] = 1
        if len(_LAYOUTS) > 4096:
            _LAYOUTS.clear()
        found = _LAYOUTS[key] = (key, classes, cls, cols, colpos, present, bool(present.all()))
    return found


def _routes(layout: tuple, structural: np.ndarray, qubits: tuple[int, ...], n: int) -> tuple:
    """(codes reached, (reached code, present code) pairs, their entries, where each new entry is, new entries sorted)."""
    key = (layout[0], structural.shape, structural.tobytes())
    found = _ROUTES.get(key)
    if found is None:
        classes, present = layout[1], layout[5]
        reach = (present @ structural.T.astype(np.int64)) > 0  # (classes, 4^k)
        rows = np.flatnonzero(reach.any(axis=0))
        pairs = np.argwhere(structural[rows])
        rr, aa = np.nonzero(reach[:, rows])
        new = _place(classes[rr], rows[aa], qubits, n)
        order = np.argsort(new)
        new = new[order]
        new.setflags(write=False)  # the entries of every chunk's states from here: shared
        if len(_ROUTES) > 4096:
            _ROUTES.clear()
        found = _ROUTES[key] = (rows, pairs, pairs.tolist(), (rr * len(rows) + aa)[order], new)
    return found


def _is_identity(s: np.ndarray) -> bool:
    """Whether the superoperator ``s`` is exactly the identity."""
    return bool(np.array_equal(s, np.eye(len(s))))


def _simulate_group(n: int, structure: tuple, programs: Sequence[Sequence[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(entries, values) of the final density matrices of circuits sharing ``structure``.

    ``entries`` (E,) are flat indices i * 2^n + j of the entries that can be non-zero, ``values``
    (E, N) their values at each of the N circuits (all others are exactly zero). ``values``
    lives in this thread's workspace: use it before the next call.
    """
    return _simulate(n, structure, len(programs), lambda j: [prog[j] for prog in programs])


def _simulate(n: int, structure: tuple, count: int, ops_at: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_simulate_group` of ``count`` circuits whose instructions at position j are ``ops_at(j)``
    (a list of one instruction per circuit, or a :class:`Superops` already)."""
    ent = np.zeros(1, dtype=np.int64)  # |0...0><0...0|
    vals = _WORK.get("v", (1, count))
    vals.fill(1.0)
    for j, (name, qubits) in enumerate(structure):
        if name == "barrier":
            continue
        ops = ops_at(j)
        if not isinstance(ops, Superops):
            if name not in ROTATIONS and name not in ("kraus", "superop", "unitary"):
                gate_matrix(ops[0])  # raises UnsupportedInstruction early for measure, reset, saves, ...
            ops = instruction_superops(name, len(qubits), ops)
        ent, vals = _apply(ent, vals, ops, qubits, n)
    return ent, vals


def density_stack_columns(
    n: int, structure: tuple, slots: Sequence[tuple[Sequence[Any], Any]], count: int, block_bytes: int = BLOCK_BYTES
) -> np.ndarray:
    """Final states (count, 2^n, 2^n) of ``count`` instruction lists of one structure, given by columns.

    ``slots[j]`` is (the distinct instructions at position j, which one each list has: an index
    array (count,), or None when they all have the first). The same arithmetic as
    :func:`density_stack` on the lists themselves, sub-batch by sub-batch (each sub-batch's
    superoperators from the instructions it uses, as there), without building the lists.

    Parameters
    ----------
    n : int
        Qubits.
    structure : tuple
        ``((name, qubits), ...)``: the instructions' names and qubits.
    slots : sequence of (sequence, numpy.ndarray or None)
        Per instruction: the distinct instructions and each list's choice among them.
    count : int
        How many instruction lists.
    block_bytes : int, default BLOCK_BYTES
        Sets how many lists are simulated at a time.

    Returns
    -------
    numpy.ndarray
        (count, 2^n, 2^n).

    Examples
    --------
    >>> import numpy as np, qnet
    >>> from qnet.link.circuit import link_program
    >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> p1 = link_program(qnet.link_spec(g, "alice", "bob"))
    >>> p2 = link_program(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml", ["nodes.alice.bright_state_population=0.2"]), "alice", "bob"))
    >>> slots = [((a,), None) if a is b else ((a, b), np.array([0, 1, 0])) for a, b in zip(p1.ops, p2.ops)]
    >>> rho = density_stack_columns(4, p1.structure[1], slots, 3)
    >>> [bool(np.array_equal(rho[i], r)) for i, r in enumerate(density_matrices([p1, p2, p1]))]
    [True, True, True]
    """

    def block(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        def ops_at(j: int) -> Any:
            distinct, which = slots[j]
            if which is None:
                return [distinct[0]]
            chosen = which[start:stop]
            used: Sequence[int]
            if stop - start == count and np.bincount(chosen, minlength=len(distinct)).all():
                used, where = range(len(distinct)), chosen  # one sub-batch that uses every instruction
            else:
                firsts, where = np.unique(chosen, return_inverse=True)
                used = firsts.tolist()
            sup = instruction_superops(structure[j][0], len(structure[j][1]), [distinct[u] for u in used])
            return Superops(sup.unique) if sup.inverse is None else Superops(sup.unique, sup.inverse[where.reshape(-1)])

        return _simulate(n, structure, stop - start, ops_at)

    return _stack(n, count, block_bytes, block)


def _stack(n: int, count: int, block_bytes: int, block: Any) -> np.ndarray:
    """The (count, 2^n, 2^n) final states, sub-batch by sub-batch: ``block(start, stop)`` gives
    the (entries, values) of circuits start..stop-1 (:func:`_simulate`).

    The work buffers hold the non-zero entries of a point's state: a few times 2^n for qnet's
    circuits (at most 4^n), the output 4^n; ``block_bytes`` sets the points per sub-batch.
    """
    per_block = max(1, block_bytes // (16 * 2 ** (n + 2)))
    dim = 2**n
    stack = np.zeros((count, dim * dim), dtype=complex)
    for start in range(0, count, per_block):
        stop = min(count, start + per_block)
        ent, vals = block(start, stop)
        stack[start:stop, ent] = vals.T
    return stack.reshape(count, dim, dim)


def density_stack(items: Sequence[Any], block_bytes: int = BLOCK_BYTES) -> list[tuple[np.ndarray, np.ndarray]]:
    """The final states grouped: ``[(indices, rho)]`` with ``rho[m]`` the state of ``items[indices[m]]``.

    Items of one structure (same qubit count) come out as one (M, D, D) array; see
    :func:`density_matrices` for the items and the conventions.

    Parameters
    ----------
    items : sequence of qiskit.QuantumCircuit or LinkProgram
        The circuits or instruction lists.
    block_bytes : int, default BLOCK_BYTES
        Sets how many points are simulated at a time.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        Per structure: the indices (M,) of its items and their final states (M, D, D).

    Examples
    --------
    >>> import qnet
    >>> from qnet.link.circuit import link_program
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> from qiskit import QuantumCircuit
    >>> bell = QuantumCircuit(2)
    >>> _ = bell.h(0), bell.cx(0, 1)
    >>> [(indices.tolist(), rho.shape) for indices, rho in density_stack([bell, link_program(spec), bell])]
    [([0, 2], (2, 4, 4)), ([1], (1, 16, 16))]
    """
    read = [_read(item) for item in items]
    by_id: dict[int, tuple[tuple, list[int]]] = {}  # instruction lists share one structure object
    for i, (key, _) in enumerate(read):
        entry = by_id.get(id(key))
        if entry is None:
            entry = by_id[id(key)] = (key, [])
        entry[1].append(i)
    groups: dict[tuple, list[int]] = {}
    for key, members in by_id.values():
        groups.setdefault(key, []).extend(members)
    for members in groups.values():
        members.sort()
    out = []
    for (n, structure), members in groups.items():

        def block(start: int, stop: int, n: int = n, structure: tuple = structure, members: list = members) -> Any:
            return _simulate_group(n, structure, [read[i][1] for i in members[start:stop]])

        out.append((np.asarray(members, dtype=np.intp), _stack(n, len(members), block_bytes, block)))
    return out


class StateList(list):
    """The list :func:`density_matrices` returns; ``groups`` keeps the states stacked.

    ``groups`` is :func:`density_stack`'s ``[(indices, (M, D, D) array)]``; the list's items
    are views into those arrays.

    Examples
    --------
    >>> import qnet
    >>> from qnet.link.circuit import link_program
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> states = density_matrices([link_program(spec)] * 3)
    >>> type(states).__name__, len(states), [(i.tolist(), rho.shape) for i, rho in states.groups]
    ('StateList', 3, [([0, 1, 2], (3, 16, 16))])
    """

    groups: list[tuple[np.ndarray, np.ndarray]] = []


def density_matrices(items: Sequence[Any], block_bytes: int = BLOCK_BYTES) -> list[np.ndarray]:
    """Final density matrix of every circuit (Qiskit's little-endian order, all qubits).

    ``items`` are Qiskit circuits or instruction lists (:class:`qnet.link.circuit.LinkProgram`: the
    instructions :func:`qnet.compile_link` builds its circuit from). Equal (to ~1e-15) to Aer's
    ``save_density_matrix`` over all qubits at the end of the circuit, starting from |0...0>.
    Items of the same structure are simulated together.

    Parameters
    ----------
    items : sequence of qiskit.QuantumCircuit or LinkProgram
        The circuits or instruction lists.
    block_bytes : int, default BLOCK_BYTES
        Sets how many points are simulated at a time.

    Returns
    -------
    StateList
        One (2^n, 2^n) density matrix per item, in order.

    Raises
    ------
    UnsupportedInstruction
        For an instruction the engine cannot simulate (measure, reset, saves, control flow).

    Examples
    --------
    >>> import qnet
    >>> from qnet.link.circuit import link_program
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> import numpy as np
    >>> from qiskit import QuantumCircuit
    >>> from qnet.quantum.states import bell_projector
    >>> bell = QuantumCircuit(2)
    >>> _ = bell.h(0), bell.cx(0, 1)
    >>> rho_bell, rho_link = density_matrices([bell, link_program(spec)])
    >>> bool(np.allclose(rho_bell, bell_projector("phi+"))), rho_link.shape
    (True, (16, 16))
    """
    out = StateList([None] * len(items))
    out.groups = density_stack(items, block_bytes)
    for indices, stack in out.groups:
        for i, r in zip(indices.tolist(), stack):
            out[i] = r
    return out
