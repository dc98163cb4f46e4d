"""The opt-in vectorised engine: qnet's compiled circuits evaluated in numpy, many points at once.

``qnet sweep --engine batch`` (and :func:`run_links` here) runs **the same compiled circuits**
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

import hashlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

__all__ = [
    "UnsupportedInstruction",
    "circuit_structure",
    "density_matrices",
    "density_stack",
    "StateList",
]

#: Sets the points per sub-batch: ``BLOCK_BYTES // (16 * 2^(n+2))`` for n qubits (4096 points of a
#: 4-qubit link, 1024 of a 6-qubit one).
BLOCK_BYTES = 4 * 2**20


class UnsupportedInstruction(ValueError):
    """The batch engine cannot simulate this instruction (use the Aer engine).

    Examples
    --------
    >>> from qiskit import QuantumCircuit
    >>> qc = QuantumCircuit(1, 1)
    >>> _ = qc.measure(0, 0)
    >>> density_matrices([qc])
    Traceback (most recent call last):
    ...
    qnet.link.batch.UnsupportedInstruction: instruction 'measure' uses classical bits; the batch engine is exact-only
    """


# --------------------------------------------------------------------------- reading the input

def _instructions(qc: "QuantumCircuit") -> tuple[tuple, list]:
    """(structure, instructions) of a circuit; structure = (name, qubit indices) per instruction."""
    index = {q: i for i, q in enumerate(qc.qubits)}
    data = list(qc.data)
    structure = []
    for inst in data:
        if inst.clbits:
            raise UnsupportedInstruction(f"instruction {inst.name!r} uses classical bits; the batch engine is exact-only")
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


# --------------------------------------------------------------------------- superoperators

_ROTATIONS = ("rx", "ry", "rz", "p")


def _rotation_unitaries(name: str, theta: np.ndarray) -> np.ndarray:
    """(N, 2, 2) matrices of a one-parameter rotation, vectorised over the angles."""
    n = theta.shape[0]
    u = np.zeros((n, 2, 2), dtype=complex)
    if name == "ry":
        c, s = np.cos(theta / 2), np.sin(theta / 2)
        u[:, 0, 0], u[:, 0, 1], u[:, 1, 0], u[:, 1, 1] = c, -s, s, c
    elif name == "rx":
        c, s = np.cos(theta / 2), np.sin(theta / 2)
        u[:, 0, 0], u[:, 0, 1], u[:, 1, 0], u[:, 1, 1] = c, -1j * s, -1j * s, c
    elif name == "rz":
        u[:, 0, 0], u[:, 1, 1] = np.exp(-0.5j * theta), np.exp(0.5j * theta)
    else:  # p
        u[:, 0, 0], u[:, 1, 1] = 1.0, np.exp(1j * theta)
    return u


def _superop_from_kraus(k: np.ndarray) -> np.ndarray:
    """(N, m, d, d) Kraus stacks -> (N, d*d, d*d) superoperators, S[(r,c),(a,b)] = sum_m K[r,a] K*[c,b]."""
    nb, m, d, _ = k.shape
    kt = np.ascontiguousarray(k.reshape(nb, m, d * d).transpose(0, 2, 1))  # [(r,a), m]; contiguous for BLAS
    s = np.matmul(kt, np.ascontiguousarray(k.reshape(nb, m, d * d).conj()))  # [(r,a), (c,b)]
    return s.reshape(nb, d, d, d, d).transpose(0, 1, 3, 2, 4).reshape(nb, d * d, d * d)


def _digest(mats: Sequence[Any]) -> bytes:
    """A hash of the content of a list of matrices."""
    h = hashlib.blake2b(digest_size=20)
    for p in mats:
        h.update(np.ascontiguousarray(p, dtype=complex).tobytes())
    return h.digest()


def _from_qiskit_superop(m: Any, d: int) -> np.ndarray:
    """A Qiskit/Aer ``superop`` matrix (column-stacking: [(c,r),(b,a)] = sum conj(K[c,b]) K[r,a]) in this module's order."""
    return np.asarray(m, dtype=complex).reshape(d, d, d, d).transpose(1, 0, 3, 2).reshape(d * d, d * d)


_SUPEROP_CACHE: "OrderedDict[tuple[int, ...], tuple[list, np.ndarray]]" = OrderedDict()
_SUPEROP_LOCK = threading.Lock()


def _cached_superop(params: Sequence[np.ndarray], d: int) -> np.ndarray:
    """Superoperator of one operator set, remembered by the identity of its matrices.

    qnet's station instrument is the same (cached) matrices at every point of a sweep, and
    building its superoperator costs milliseconds. The cache holds references to the matrices,
    so their ids cannot be reused while an entry exists.
    """
    key = tuple(id(p) for p in params)
    with _SUPEROP_LOCK:  # Dask runs chunks in threads
        hit = _SUPEROP_CACHE.get(key)
        if hit is not None:
            _SUPEROP_CACHE.move_to_end(key)
            return hit[1]
    s = _superop_from_kraus(np.array(params, dtype=complex).reshape(1, len(params), d, d))[0]
    s.setflags(write=False)
    with _SUPEROP_LOCK:
        _SUPEROP_CACHE[key] = (list(params), s)
        if len(_SUPEROP_CACHE) > 64:
            _SUPEROP_CACHE.popitem(last=False)
    return s


_GATE_CACHE: dict[tuple, np.ndarray] = {}

_SQ = 1.0 / np.sqrt(2.0)
#: Matrices (Qiskit's little-endian order on the instruction's qubits) of the parameterless
#: gates an instruction list may hold; a circuit's gates use ``Gate.to_matrix`` instead.
_STANDARD = {
    "id": np.eye(2, dtype=complex),
    "x": np.array([[0, 1], [1, 0]], dtype=complex),
    "y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "z": np.array([[1, 0], [0, -1]], dtype=complex),
    "h": np.array([[_SQ, _SQ], [_SQ, -_SQ]], dtype=complex),
    "s": np.array([[1, 0], [0, 1j]], dtype=complex),
    "sdg": np.array([[1, 0], [0, -1j]], dtype=complex),
    "cx": np.array([[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0]], dtype=complex),
    "cz": np.diag([1, 1, 1, -1]).astype(complex),
    "swap": np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex),
}


def _gate_matrix(op: Any) -> np.ndarray:
    """Matrix of a gate: a circuit instruction (``to_matrix``) or an instruction-list entry (table)."""
    operation = getattr(op, "operation", None)
    if operation is None:  # an instruction-list entry
        m = _STANDARD.get(op.name)
        if m is None or op.params:
            raise UnsupportedInstruction(
                f"the batch engine cannot simulate instruction {op.name!r} of an instruction list "
                f"(supported: kraus, unitary, barrier, {', '.join(_ROTATIONS)}, {', '.join(sorted(_STANDARD))})"
            )
        return m
    key = (op.name, tuple(float(p) if isinstance(p, (int, float)) else repr(p) for p in op.params))
    m = _GATE_CACHE.get(key)
    if m is None:
        to_matrix = getattr(operation, "to_matrix", None)
        if to_matrix is None:
            raise UnsupportedInstruction(
                f"the batch engine cannot simulate instruction {operation.name!r} (only gates, unitary, kraus and barrier)"
            )
        try:
            m = np.asarray(to_matrix(), dtype=complex)
        except Exception as exc:  # parameterised or matrix-less gates
            raise UnsupportedInstruction(f"instruction {operation.name!r} has no matrix: {exc}") from None
        if len(_GATE_CACHE) < 4096:
            _GATE_CACHE[key] = m
    return m


def _unitary_matrix(op: Any) -> np.ndarray:
    operation = getattr(op, "operation", None)
    # a circuit's UnitaryGate keeps its matrix on the Python operation
    return np.asarray((operation if operation is not None else op).params[0], dtype=complex)


def _kraus_stack(sets: Sequence[Sequence[np.ndarray]], d: int) -> np.ndarray:
    """(N, m_max, d, d): each set's Kraus operators, zero-padded to the longest set."""
    counts = {len(ops) for ops in sets}
    if len(counts) == 1:
        return np.array(sets, dtype=complex).reshape(len(sets), counts.pop(), d, d)
    k = np.zeros((len(sets), max(counts), d, d), dtype=complex)
    for i, ops in enumerate(sets):
        k[i, : len(ops)] = ops
    return k


class _Superops:
    """The superoperators of one instruction position across a batch.

    ``unique`` is (U, 4^k, 4^k): one superoperator per distinct parameter set; ``inverse``
    (N,) maps each point to its row, or is None when every point has ``unique[0]``.
    """

    __slots__ = ("unique", "inverse")

    def __init__(self, unique: np.ndarray, inverse: np.ndarray | None = None):
        if inverse is not None and (unique.shape[0] == 1 or np.array_equal(unique, np.broadcast_to(unique[0], unique.shape))):
            unique, inverse = unique[:1], None
        self.unique, self.inverse = unique, inverse

    @property
    def shared(self) -> np.ndarray | None:
        return self.unique[0] if self.inverse is None else None


def _distinct(keys: Sequence[Any]) -> tuple[list[int], np.ndarray | None]:
    """(index of the first point of each distinct key, inverse map; None when all keys are equal)."""
    seen: dict[Any, int] = {}
    starts: list[int] = []
    inverse = []
    for i, key in enumerate(keys):
        u = seen.get(key)
        if u is None:
            u = seen[key] = len(starts)
            starts.append(i)
        inverse.append(u)
    if len(starts) == 1:
        return starts, None
    return starts, np.asarray(inverse, dtype=np.intp)


def _param_key(params: Any) -> Any:
    """Identity of an operator set: a tuple is immutable (its id names its content); a list by its matrices."""
    return id(params) if type(params) is tuple else tuple(map(id, params))


def _superops(name: str, k: int, ops: Sequence[Any]) -> _Superops:
    d = 2**k
    if name in _ROTATIONS:
        try:
            theta = np.array([float(op.params[0]) for op in ops])
        except TypeError:  # an unbound Parameter
            raise UnsupportedInstruction(f"instruction {name!r} has an unbound parameter; assign it first") from None
        if np.all(theta == theta[0]):
            return _Superops(_superop_from_kraus(_rotation_unitaries(name, theta[:1])[:, None]))
        values, inverse = np.unique(theta, return_inverse=True)
        return _Superops(_superop_from_kraus(_rotation_unitaries(name, values)[:, None]), inverse.reshape(-1))
    if name == "superop":
        mats = [op.params[0] for op in ops]
        starts, inverse = _distinct([id(m) for m in mats])
        # distinct objects may hold one matrix (circuits compiled without shared instructions)
        groups: dict[bytes, int] = {}
        remap = np.array([groups.setdefault(_digest([mats[i]]), len(groups)) for i in starts], dtype=np.intp)
        firsts = {g: starts[u] for u, g in reversed(list(enumerate(remap)))}
        unique = np.array([_from_qiskit_superop(mats[firsts[g]], d) for g in range(len(groups))])
        return _Superops(unique, None if inverse is None else remap[inverse])
    if name == "kraus" or name == "unitary":
        if name == "unitary":
            sets: list = [[_unitary_matrix(op)] for op in ops]
        else:
            sets = [op.params for op in ops]
        starts, inverse = _distinct([_param_key(p) for p in sets])
        if inverse is None:
            # the same operator objects at every point (e.g. the station's, cached by qnet)
            return _Superops(_cached_superop(sets[0], d)[None])
        unique_sets = [sets[i] for i in starts]
        if k <= 2:  # cheap: one S per distinct set
            return _Superops(_superop_from_kraus(_kraus_stack(unique_sets, d)), inverse)
        # large: one S per distinct operator content (hash of the matrices)
        groups: dict[bytes, int] = {}
        remap = np.empty(len(unique_sets), dtype=np.intp)
        supers = []
        for u, params in enumerate(unique_sets):
            g = groups.setdefault(_digest(params), len(groups))
            if g == len(supers):
                supers.append(_cached_superop(params, d))
            remap[u] = g
        return _Superops(np.array(supers), remap[inverse])
    # any other gate: matrix per distinct parameter set
    first = _gate_matrix(ops[0])
    if not ops[0].params or all(list(op.params) == list(ops[0].params) for op in ops[1:]):
        return _Superops(_superop_from_kraus(first[None, None]))
    starts, inverse = _distinct([tuple(repr(p) for p in op.params) for op in ops])
    mats = np.array([_gate_matrix(ops[i]) for i in starts])[:, None]
    return _Superops(_superop_from_kraus(mats), inverse)


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


def _apply(ent: np.ndarray, vals: np.ndarray, sup: _Superops, qubits: tuple[int, ...], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The (entries, values) after one instruction with superoperators ``sup``.

    The values returned live in this thread's workspace (valid until the next call).
    """
    nb = vals.shape[1]
    code, rest = _locate(ent, qubits, n)
    classes, cls = np.unique(rest, return_inverse=True)
    cols, colpos = np.unique(code, return_inverse=True)
    nc = len(classes)
    x = _WORK.get("x", (nc, len(cols), nb))
    x.fill(0.0)
    x[cls, colpos] = vals
    present = np.zeros((nc, len(cols)), dtype=np.int64)
    present[cls, colpos] = 1
    unique = sup.unique[:, :, cols]  # (U, 4^k, C): only the codes present
    structural = np.any(unique != 0, axis=0)  # (4^k, C): which code reaches which
    reach = (present @ structural.T.astype(np.int64)) > 0  # (classes, 4^k)
    rows = np.flatnonzero(reach.any(axis=0))
    unique = unique[:, rows]
    pairs = np.argwhere(structural[rows])
    # elementwise arithmetic only (no BLAS): each value is the same sum, in the same order,
    # whatever the batch size
    if len(pairs) <= 256:  # one multiply-add per coefficient, each a vector over the points
        y = _WORK.get("y", (nc, len(rows), nb))
        y.fill(0.0)
        tmp = _WORK.get("t", (nc, nb))
        coef = unique[:, pairs[:, 0], pairs[:, 1]]  # (U, P)
        if sup.inverse is None:
            same = np.ones(len(pairs), dtype=bool)
        else:
            same = np.all(coef == coef[:1], axis=0)
            varying = coef[:, ~same]
            if not np.any(varying.imag):
                varying = varying.real
            per_point = _WORK.get("c" + varying.dtype.char, (varying.shape[1], nb), varying.dtype)
            np.take(varying.T, sup.inverse, axis=1, out=per_point)  # (P', N)
            slot = np.cumsum(~same) - 1
        for p, (a, b) in enumerate(pairs.tolist()):
            dest = y[:, a]
            if same[p]:
                c = coef[0, p]
                if c == 1.0:
                    np.add(dest, x[:, b], out=dest)
                    continue
                np.multiply(x[:, b], c.real if c.imag == 0 else c, out=tmp)
            else:
                np.multiply(x[:, b], per_point[slot[p]], out=tmp)
            np.add(dest, tmp, out=dest)
    elif sup.inverse is None:
        y = np.einsum("ab,rbn->ran", unique[0], x)
    else:
        y = np.einsum("nab,rbn->ran", unique[sup.inverse], x)
    rr, aa = np.nonzero(reach[:, rows])
    new = _place(classes[rr], rows[aa], qubits, n)
    order = np.argsort(new)
    out = _WORK.get("v", (len(new), nb))
    np.take(y.reshape(-1, nb), (rr * len(rows) + aa)[order], axis=0, out=out)
    return new[order], out


def _simulate_group(n: int, structure: tuple, programs: Sequence[Sequence[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(entries, values) of the final density matrices of circuits sharing ``structure``.

    ``entries`` (E,) are flat indices i * 2^n + j of the entries that can be non-zero, ``values``
    (E, N) their values at each of the N circuits (all others are exactly zero). ``values``
    lives in this thread's workspace: use it before the next call.
    """
    ent = np.zeros(1, dtype=np.int64)  # |0...0><0...0|
    vals = _WORK.get("v", (1, len(programs)))
    vals.fill(1.0)
    for j, (name, qubits) in enumerate(structure):
        if name == "barrier":
            continue
        ops = [prog[j] for prog in programs]
        if name not in _ROTATIONS and name not in ("kraus", "superop", "unitary"):
            _gate_matrix(ops[0])  # raises UnsupportedInstruction early for measure, reset, saves, ...
        ent, vals = _apply(ent, vals, _superops(name, len(qubits), ops), qubits, n)
    return ent, vals


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
        # the work buffers hold the non-zero entries of a point's state: a few times 2^n for
        # qnet's circuits (at most 4^n), the output 4^n
        per_block = max(1, block_bytes // (16 * 2 ** (n + 2)))
        dim = 2**n
        stack = np.zeros((len(members), dim * dim), dtype=complex)
        for start in range(0, len(members), per_block):
            idx = members[start : start + per_block]
            ent, vals = _simulate_group(n, structure, [read[i][1] for i in idx])
            stack[start : start + len(idx), ent] = vals.T
        out.append((np.asarray(members, dtype=np.intp), stack.reshape(len(members), dim, dim)))
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
