"""Superoperators of circuit instructions, for the batch engine (:mod:`qnet.link.batch`).

Every instruction of a batch of circuits becomes ``S = sum_i K_i (x) conj(K_i)`` on its k qubits
(a gate is the one-operator case; Aer's ``superop`` instruction is read in Qiskit's
``SuperOp`` convention), computed once per *distinct* parameter set of the batch and shared by
the points that use it (:class:`Superops`). Qiskit is not imported here.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

__all__ = ["UnsupportedInstruction", "ROTATIONS", "gate_matrix", "Superops", "instruction_superops"]


class UnsupportedInstruction(ValueError):
    """The batch engine cannot simulate this instruction (use the Aer engine).

    Examples
    --------
    >>> from qiskit import QuantumCircuit
    >>> qc = QuantumCircuit(1, 1)
    >>> _ = qc.measure(0, 0)
    >>> from qnet.link.batch import density_matrices
    >>> density_matrices([qc])
    Traceback (most recent call last):
    ...
    qnet.link.superops.UnsupportedInstruction: instruction 'measure' uses classical bits; the batch engine is exact-only
    """


#: Rotation gates whose angles are vectorised over a batch.
ROTATIONS = ("rx", "ry", "rz", "p")


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


def gate_matrix(op: Any) -> np.ndarray:
    """Matrix of a gate: a circuit instruction (``to_matrix``) or an instruction-list entry (table).

    Parameters
    ----------
    op : qiskit.circuit.CircuitInstruction or qnet.link.circuit.LinkOp
        The instruction.

    Returns
    -------
    numpy.ndarray
        Its unitary (2^k x 2^k, Qiskit's qubit order).

    Raises
    ------
    UnsupportedInstruction
        For an instruction without a matrix (measure, reset, saves, ...).

    Examples
    --------
    >>> from qiskit import QuantumCircuit
    >>> qc = QuantumCircuit(1)
    >>> _ = qc.h(0)
    >>> (gate_matrix(qc.data[0]) * 2**0.5).real.round(6).tolist()
    [[1.0, 1.0], [1.0, -1.0]]
    """
    operation = getattr(op, "operation", None)
    if operation is None:  # an instruction-list entry
        m = _STANDARD.get(op.name)
        if m is None or op.params:
            raise UnsupportedInstruction(
                f"the batch engine cannot simulate instruction {op.name!r} of an instruction list "
                f"(supported: kraus, unitary, barrier, {', '.join(ROTATIONS)}, {', '.join(sorted(_STANDARD))})"
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


class Superops:
    """The superoperators of one instruction position across a batch.

    ``unique`` is (U, 4^k, 4^k): one superoperator per distinct parameter set; ``inverse``
    (N,) maps each point to its row, or is None when every point has ``unique[0]``.

    Examples
    --------
    >>> import numpy as np
    >>> same = Superops(np.stack([np.eye(4), np.eye(4)]), np.array([0, 1, 1]))
    >>> same.unique.shape, same.inverse, same.shared.shape   # equal rows collapse to one
    ((1, 4, 4), None, (4, 4))
    """

    __slots__ = ("unique", "inverse")

    def __init__(self, unique: np.ndarray, inverse: np.ndarray | None = None):
        if inverse is not None and (
            unique.shape[0] == 1 or np.array_equal(unique, np.broadcast_to(unique[0], unique.shape))
        ):
            unique, inverse = unique[:1], None
        self.unique, self.inverse = unique, inverse

    @property
    def shared(self) -> np.ndarray | None:
        """The one superoperator every point uses, or None when they differ."""
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


def instruction_superops(name: str, k: int, ops: Sequence[Any]) -> Superops:
    """The superoperators of one instruction position, one per point of the batch (shared when equal).

    Parameters
    ----------
    name : str
        The instruction's name (``kraus``, ``superop``, ``unitary``, a rotation or a gate).
    k : int
        How many qubits it acts on.
    ops : sequence
        The instruction at this position in every circuit of the batch.

    Returns
    -------
    Superops

    Raises
    ------
    UnsupportedInstruction
        For an instruction the batch engine cannot simulate, or an unbound parameter.

    Examples
    --------
    >>> from qiskit import QuantumCircuit
    >>> circuits = [QuantumCircuit(1) for _ in range(3)]
    >>> for qc, theta in zip(circuits, (0.1, 0.2, 0.1)):
    ...     _ = qc.ry(theta, 0)
    >>> sup = instruction_superops("ry", 1, [qc.data[0] for qc in circuits])
    >>> sup.unique.shape, sup.inverse.tolist()          # two distinct angles, three points
    ((2, 4, 4), [0, 1, 0])
    """
    d = 2**k
    if name in ROTATIONS:
        try:
            theta = np.array([float(op.params[0]) for op in ops])
        except TypeError:  # an unbound Parameter
            raise UnsupportedInstruction(f"instruction {name!r} has an unbound parameter; assign it first") from None
        if np.all(theta == theta[0]):
            return Superops(_superop_from_kraus(_rotation_unitaries(name, theta[:1])[:, None]))
        values, where = np.unique(theta, return_inverse=True)
        return Superops(_superop_from_kraus(_rotation_unitaries(name, values)[:, None]), where.reshape(-1))
    if name == "superop":
        mats = [op.params[0] for op in ops]
        starts, inverse = _distinct([id(m) for m in mats])
        # distinct objects may hold one matrix (circuits compiled without shared instructions)
        groups: dict[bytes, int] = {}
        remap = np.array([groups.setdefault(_digest([mats[i]]), len(groups)) for i in starts], dtype=np.intp)
        firsts = {g: starts[u] for u, g in reversed(list(enumerate(remap)))}
        unique = np.array([_from_qiskit_superop(mats[firsts[g]], d) for g in range(len(groups))])
        return Superops(unique, None if inverse is None else remap[inverse])
    if name == "kraus" or name == "unitary":
        if name == "unitary":
            sets: list = [[_unitary_matrix(op)] for op in ops]
        else:
            sets = [op.params for op in ops]
        starts, inverse = _distinct([_param_key(p) for p in sets])
        if inverse is None:
            # the same operator objects at every point (e.g. the station's, cached by qnet)
            return Superops(_cached_superop(sets[0], d)[None])
        unique_sets = [sets[i] for i in starts]
        if k <= 2:  # cheap: one S per distinct set
            return Superops(_superop_from_kraus(_kraus_stack(unique_sets, d)), inverse)
        # large: one S per distinct operator content (hash of the matrices)
        groups = {}
        remap = np.empty(len(unique_sets), dtype=np.intp)
        supers: list[np.ndarray] = []
        for u, params in enumerate(unique_sets):
            g = groups.setdefault(_digest(params), len(groups))
            if g == len(supers):
                supers.append(_cached_superop(params, d))
            remap[u] = g
        return Superops(np.array(supers), remap[inverse])
    # any other gate: matrix per distinct parameter set
    first = gate_matrix(ops[0])
    if not ops[0].params or all(list(op.params) == list(ops[0].params) for op in ops[1:]):
        return Superops(_superop_from_kraus(first[None, None]))
    starts, inverse = _distinct([tuple(repr(p) for p in op.params) for op in ops])
    stack = np.array([gate_matrix(ops[i]) for i in starts])[:, None]
    return Superops(_superop_from_kraus(stack), inverse)
