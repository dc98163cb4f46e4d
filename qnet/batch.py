"""The opt-in vectorised engine: qnet's compiled circuits evaluated in numpy, many points at once.

``qnet sweep --engine batch`` (and :func:`run_links` here) runs **the same compiled circuits**
that Aer runs (:func:`qnet.compile_link` output, raw ``kraus`` instructions and all), through a
small exact density-matrix simulator that works on a whole batch of circuits at a time:

* circuits are grouped by *structure* (qubit count and the sequence of instruction names and
  qubits); the parameters (rotation angles, Kraus matrices) may differ from point to point;
* every instruction becomes a superoperator ``S = sum_i K_i (x) conj(K_i)`` on its k qubits
  (a gate is the one-operator case); instructions whose parameters are identical across the
  batch share one ``S``;
* the state is batch-first, ``rho[n, i, j]`` (Qiskit's little-endian index on i and j);
  one-qubit instructions are applied as block updates on strided views of the state (the four
  2x2 blocks of the qubit, only the non-zero coefficients), larger ones as one matrix product on
  the regrouped state, restricted to the non-zero rows and columns of ``S`` (the station
  instrument writes only the diagonal blocks of its click record);
* the result is the final density matrix of each circuit, exactly what Aer's
  ``save_density_matrix`` of all qubits returns (to rounding, ~1e-15), from which
  :func:`qnet.heralded_state` reads the heralded memory state.

Supported instructions: ``barrier``; ``kraus`` on any number of qubits; ``unitary``; every
standard gate with a matrix (``ry``, ``rx``, ``rz``, ``p`` vectorised; ``cx``, ``h``, ``x``,
``sdg``, ... through ``Gate.to_matrix``). Anything else (measure, reset, saves, control flow)
raises :class:`UnsupportedInstruction`. ``tests/test_batch_engine.py`` proves the engine equal to
Aer to 1e-12 on every circuit qnet compiles.

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

    from .link import CompiledLink
    from .results import LinkResult

__all__ = [
    "UnsupportedInstruction",
    "circuit_structure",
    "density_matrices",
]

#: Target size of one sub-batch of density matrices (bytes): small enough to stay in cache.
BLOCK_BYTES = 2 * 2**20


class UnsupportedInstruction(ValueError):
    """The batch engine cannot simulate this instruction (use the Aer engine)."""


# --------------------------------------------------------------------------- circuit reading

def _instructions(qc: "QuantumCircuit") -> list[tuple[str, tuple[int, ...], Any]]:
    """(name, qubit indices, CircuitInstruction) of every instruction (operations built lazily)."""
    index = {q: i for i, q in enumerate(qc.qubits)}
    out = []
    for inst in qc.data:
        if inst.clbits:
            raise UnsupportedInstruction(f"instruction {inst.name!r} uses classical bits; the batch engine is exact-only")
        out.append((inst.name, tuple([index[q] for q in inst.qubits]), inst))
    return out


def circuit_structure(qc: "QuantumCircuit") -> tuple:
    """The grouping key: qubit count and the sequence of (instruction name, qubits)."""
    return (qc.num_qubits, tuple((name, qubits) for name, qubits, _ in _instructions(qc)))


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


_SUPEROP_CACHE: "OrderedDict[tuple[int, ...], tuple[list, np.ndarray]]" = OrderedDict()
_SUPEROP_LOCK = threading.Lock()


def _cached_superop(params: Sequence[np.ndarray], d: int) -> np.ndarray:
    """Superoperator of one operator set, remembered by the identity of its matrices.

    qnet's station instrument is the same (lru-cached) matrices at every point of a sweep, and
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


def _gate_matrix(inst: Any) -> np.ndarray:
    key = (inst.name, tuple(float(p) if isinstance(p, (int, float)) else repr(p) for p in inst.params))
    m = _GATE_CACHE.get(key)
    if m is None:
        op = inst.operation
        to_matrix = getattr(op, "to_matrix", None)
        if to_matrix is None:
            raise UnsupportedInstruction(
                f"the batch engine cannot simulate instruction {op.name!r} (only gates, unitary, kraus and barrier)"
            )
        try:
            m = np.asarray(to_matrix(), dtype=complex)
        except Exception as exc:  # parameterised or matrix-less gates
            raise UnsupportedInstruction(f"instruction {op.name!r} has no matrix: {exc}") from None
        if len(_GATE_CACHE) < 4096:
            _GATE_CACHE[key] = m
    return m


def _kraus_stack(sets: Sequence[Sequence[np.ndarray]], d: int) -> np.ndarray:
    """(N, m_max, d, d): each point's Kraus operators, zero-padded to the longest set."""
    counts = {len(ops) for ops in sets}
    if len(counts) == 1:
        return np.array(sets, dtype=complex).reshape(len(sets), counts.pop(), d, d)
    k = np.zeros((len(sets), max(counts), d, d), dtype=complex)
    for i, ops in enumerate(sets):
        k[i, : len(ops)] = ops
    return k


class _Superops:
    """The superoperators of one instruction position across a batch.

    Exactly one of ``shared`` ((4^k, 4^k)), ``per_point`` ((N, 4^k, 4^k)) or ``subsets``
    (list of (point indices, shared S)) is set.
    """

    __slots__ = ("shared", "per_point", "subsets")

    def __init__(self, shared=None, per_point=None, subsets=None):
        self.shared, self.per_point, self.subsets = shared, per_point, subsets


def _collapse(s: np.ndarray) -> _Superops:
    """Per-point superoperators -> shared when every point has the same one."""
    if s.shape[0] == 1 or np.array_equal(s, np.broadcast_to(s[0], s.shape)):
        return _Superops(shared=s[0])
    return _Superops(per_point=s)


def _superops(name: str, k: int, ops: Sequence[Any]) -> _Superops:
    d = 2**k
    if name in _ROTATIONS:
        try:
            theta = np.array([float(op.params[0]) for op in ops])
        except TypeError:  # an unbound Parameter
            raise UnsupportedInstruction(f"instruction {name!r} has an unbound parameter; assign it first") from None
        if np.all(theta == theta[0]):
            theta = theta[:1]
        u = _rotation_unitaries(name, theta)
        return _collapse(_superop_from_kraus(u[:, None]))
    if name == "kraus" or name == "unitary":
        # the operator lists: Kraus operators, or the one unitary (a UnitaryGate keeps its
        # matrix on the Python operation)
        if name == "unitary":
            sets = [[np.asarray(op.operation.params[0], dtype=complex)] for op in ops]
        else:
            sets = [op.params for op in ops]
        first = sets[0]
        if all(len(other) == len(first) and all(a is b for a, b in zip(other, first)) for other in sets[1:]):
            # the same operator objects at every point (e.g. the station's, cached by qnet)
            return _Superops(shared=_cached_superop(first, d))
        if k <= 2:  # cheap: build every point's S, then see whether they coincide
            return _collapse(_superop_from_kraus(_kraus_stack(sets, d)))
        # large: one S per distinct operator set, found by content (hash of the matrices)
        digests: dict[tuple, bytes] = {}
        groups: dict[bytes, list[int]] = {}
        for i, params in enumerate(sets):
            ident = tuple(id(p) for p in params)
            key = digests.get(ident)
            if key is None:
                h = hashlib.blake2b(digest_size=20)
                for p in params:
                    h.update(np.ascontiguousarray(p, dtype=complex).tobytes())
                key = digests[ident] = h.digest()
            groups.setdefault(key, []).append(i)
        subsets = [(np.asarray(idx), _cached_superop(sets[idx[0]], d)) for idx in groups.values()]
        if len(subsets) == 1:
            return _Superops(shared=subsets[0][1])
        return _Superops(subsets=subsets)
    # any other gate: matrix per distinct parameter set
    first = _gate_matrix(ops[0])
    if not ops[0].params or all(op.params == ops[0].params for op in ops[1:]):
        return _Superops(shared=_superop_from_kraus(first[None, None])[0])
    mats = np.array([_gate_matrix(op) for op in ops])[:, None]
    return _collapse(_superop_from_kraus(mats))


# --------------------------------------------------------------------------- applying them

def _apply_blocks(rho: np.ndarray, s: np.ndarray, qubits: tuple[int, ...], n: int, per_point: bool) -> np.ndarray:
    """Block update: out[block r] = sum_c S[r, c] rho[block c] over the non-zero S[r, c] only.

    A block fixes the instruction's qubits to given (row, column) bits; blocks are strided views
    of the state, so nothing is regrouped. Used for one- and two-qubit instructions with few
    non-zero coefficients (channels, permutations such as cx).
    """
    nb, dim = rho.shape[0], rho.shape[1]
    k = len(qubits)
    d = 2**k
    view = rho.reshape((nb,) + (2,) * (2 * n))
    out = np.empty_like(rho)
    oview = out.reshape((nb,) + (2,) * (2 * n))
    row_axes = [1 + (n - 1 - q) for q in qubits]  # bit j of the operator index = qubit qubits[j]
    col_axes = [1 + n + (n - 1 - q) for q in qubits]

    def block(v: np.ndarray, index: int) -> np.ndarray:
        r, c = divmod(index, d)
        sel: list[Any] = [slice(None)] * (2 * n + 1)
        for j in range(k):
            sel[row_axes[j]] = (r >> j) & 1
            sel[col_axes[j]] = (c >> j) & 1
        return v[tuple(sel)]

    if per_point:
        nonzero = np.any(s != 0, axis=0)
        coefs = s.real if not np.any(s.imag) else s
        coefs = coefs.reshape((nb, d * d, d * d) + (1,) * (2 * n - 2 * k))
    else:
        nonzero = s != 0
        coefs = s.real if not np.any(s.imag) else s
    sources = {}
    for r in range(d * d):
        dest = block(oview, r)
        terms = np.flatnonzero(nonzero[r])
        if len(terms) == 0:
            dest[...] = 0.0
            continue
        for i, c in enumerate(terms):
            src = sources.get(c)
            if src is None:
                src = sources[c] = block(view, c)
            coef = coefs[:, r, c] if per_point else coefs[r, c]
            if i == 0:
                if not per_point and coef == 1.0:
                    np.copyto(dest, src)
                else:
                    np.multiply(src, coef, out=dest)
            elif not per_point and coef == 1.0:
                dest += src
            else:
                dest += src * coef
    return out.reshape(nb, dim, dim)


def _regroup_axes(qubits: tuple[int, ...], n: int) -> tuple[list[int], list[int]]:
    """Axes of the (N, 2.. rows, 2.. cols) view: the instruction's (row, col) axes, then the rest.

    The instruction's row axes run from its last qubit to its first, so that their C-order
    flattening is Qiskit's little-endian index of the k-qubit operator.
    """
    rows = [1 + (n - 1 - q) for q in reversed(qubits)]
    cols = [1 + n + (n - 1 - q) for q in reversed(qubits)]
    target = rows + cols
    rest = [ax for ax in range(1, 2 * n + 1) if ax not in target]
    return target, rest


def _apply_matmul(rho: np.ndarray, sup: _Superops, qubits: tuple[int, ...], n: int) -> np.ndarray:
    """Apply a k-qubit superoperator by regrouping the state into (4^k, rest) matrices."""
    nb, dim = rho.shape[0], rho.shape[1]
    k = len(qubits)
    kk = 4**k
    target, rest = _regroup_axes(qubits, n)
    view = rho.reshape((nb,) + (2,) * (2 * n))
    if sup.per_point is not None:
        perm = [0] + target + rest
        x = view.transpose(perm).reshape(nb, kk, -1)
        y = np.matmul(sup.per_point, x)
        shape = [nb] + [2] * (2 * n)
    else:
        perm = target + [0] + rest
        x = view.transpose(perm).reshape(kk, -1)
        s = sup.shared
        rows = np.flatnonzero(np.any(s != 0, axis=1))
        cols = np.flatnonzero(np.any(s != 0, axis=0))
        if len(rows) == kk and len(cols) == kk:
            y = s @ x
        else:
            y = np.zeros_like(x)
            if len(rows) and len(cols):
                y[rows] = s[np.ix_(rows, cols)] @ x[cols]
        shape = [2] * (2 * k) + [nb] + [2] * (2 * n - 2 * k)
    inverse = np.argsort(perm)
    y = y.reshape(shape).transpose(inverse)
    return np.ascontiguousarray(y).reshape(nb, dim, dim)


def _apply(rho: np.ndarray, sup: _Superops, qubits: tuple[int, ...], n: int) -> np.ndarray:
    if sup.subsets is not None:
        for idx, s in sup.subsets:
            rho[idx] = _apply(rho[idx], _Superops(shared=s), qubits, n)
        return rho
    k = len(qubits)
    s = sup.shared if sup.per_point is None else sup.per_point
    nonzero = np.count_nonzero(s != 0 if sup.per_point is None else np.any(s != 0, axis=0))
    if k <= 2 and nonzero <= 4 * 4**k:  # sparse: a few strided multiply-adds beat regrouping
        return _apply_blocks(rho, s, qubits, n, sup.per_point is not None)
    return _apply_matmul(rho, sup, qubits, n)


def _simulate_group(n: int, structure: tuple, programs: list[list[tuple[str, tuple[int, ...], Any]]]) -> np.ndarray:
    """Final density matrices (N, D, D) of circuits sharing ``structure``."""
    dim = 2**n
    nb = len(programs)
    rho = np.zeros((nb, dim, dim), dtype=complex)
    rho[:, 0, 0] = 1.0
    for j, (name, qubits) in enumerate(structure):
        if name == "barrier":
            continue
        ops = [prog[j][2] for prog in programs]
        if name not in _ROTATIONS and name not in ("kraus", "unitary"):
            _gate_matrix(ops[0])  # raises UnsupportedInstruction early for measure, reset, saves, ...
        rho = _apply(rho, _superops(name, len(qubits), ops), qubits, n)
    return rho


def density_matrices(circuits: Sequence["QuantumCircuit"], block_bytes: int = BLOCK_BYTES) -> list[np.ndarray]:
    """Final density matrix of every circuit (Qiskit's little-endian order, all qubits).

    Equal (to ~1e-15) to Aer's ``save_density_matrix`` over all qubits at the end of the
    circuit, starting from |0...0>. Circuits of the same structure are simulated together.
    """
    programs = [_instructions(qc) for qc in circuits]
    groups: dict[tuple, list[int]] = {}
    for i, (qc, prog) in enumerate(zip(circuits, programs)):
        key = (qc.num_qubits, tuple((name, qubits) for name, qubits, _ in prog))
        groups.setdefault(key, []).append(i)
    out: list[np.ndarray | None] = [None] * len(circuits)
    for (n, structure), members in groups.items():
        per_block = max(1, block_bytes // (16 * 4**n))
        for start in range(0, len(members), per_block):
            idx = members[start : start + per_block]
            rho = _simulate_group(n, structure, [programs[i] for i in idx])
            for i, r in zip(idx, rho):
                out[i] = r
    return out  # type: ignore[return-value]


