"""Channels of small repeater operations, obtained once from Qiskit Aer and reused in numpy.

A repeater operation (entanglement swap, one purification round) is a fixed circuit of gates
and noise on a few memories; only its two node parameters change (``gate_fidelity``,
``readout_fidelity``). Simulating that circuit with ``AerSimulator(method="superop")`` and
``save_superop`` gives the operation's whole channel in one run (a few ms). This module
caches that channel by ``(kind, gate_fidelity, readout_fidelity)`` and turns it into a small
numpy matrix that maps the input density matrix straight to the output on the kept memories
(partial trace over, or projection onto measurement outcomes of, the other qubits), so each
later use costs one matrix product and batches of states cost one ``matmul``.

Orders and conventions
----------------------
* Aer's superoperator uses Qiskit's conventions: qubits little-endian (basis index
  ``sum_q b_q 2**q``) and **column** stacking, ``vec(rho)[i + d*j] = rho[i, j]``, so
  ``vec(E(rho)) = S @ vec(rho)``. :func:`apply_superop` applies it to little-endian matrices.
* Everything else in qnet is big-endian with memory A first (``qnet.quantum.states``): for a circuit's
  qubits ``q0..q{n-1}``, ``q0`` is the most significant bit. :func:`reduced_map` returns maps
  in that order, acting on row-major flattened matrices: ``out.ravel() = M @ rho.ravel()``.
* Qiskit and qiskit_aer are imported lazily, inside the functions that need them.

Registered kinds (builders live in :mod:`qnet.repeater.swapping` and :mod:`qnet.repeater.purification`):
``"swap"``, ``"dejmps"``, ``"bbpssw"``. More can be added with :func:`register_channel`.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    from qiskit import QuantumCircuit
    from qiskit.circuit import Instruction

__all__ = [
    "CHANNEL_KINDS",
    "register_channel",
    "channel_circuit",
    "circuit_superop",
    "superop",
    "superop_tensor",
    "reduced_map",
    "clear_cache",
    "apply_superop",
    "reverse_qubit_order",
    "partial_trace",
    "project_and_trace",
    "check_probability",
    "kraus_instruction",
    "depolarizing_kraus",
    "bit_flip_kraus",
]

# kind -> (module, function, keyword arguments); the builder is called with
# gate_fidelity=..., readout_fidelity=... on top of these and returns a QuantumCircuit
# holding only gates and CPTP noise (no measurements, no saves).
_BUILDERS: dict[str, tuple[str, str, dict[str, Any]] | Callable[..., QuantumCircuit]] = {
    "swap": ("qnet.repeater.swapping", "swap_circuit", {}),
    "dejmps": ("qnet.repeater.purification", "purify_circuit", {"protocol": "dejmps"}),
    "bbpssw": ("qnet.repeater.purification", "purify_circuit", {"protocol": "bbpssw"}),
}

#: Names of the operations whose channel can be obtained with :func:`superop`.
CHANNEL_KINDS = tuple(_BUILDERS)


def register_channel(kind: str, builder: Callable[..., QuantumCircuit]) -> None:
    """Register ``builder(gate_fidelity=..., readout_fidelity=...) -> QuantumCircuit`` as ``kind``.

    The circuit must contain only unitary gates and trace-preserving noise (no measurement,
    reset or save instructions). Re-registering a kind clears the caches.
    """
    global CHANNEL_KINDS
    _BUILDERS[kind] = builder
    CHANNEL_KINDS = tuple(_BUILDERS)
    clear_cache()


def check_probability(name: str, value: float, where: str = "qnet") -> float:
    """Return ``value`` as a float after checking that it lies in [0, 1].

    Raises :class:`qnet.errors.ConfigError` (a ``ValueError``) naming ``where`` and ``name``.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not 0.0 <= v <= 1.0:  # also rejects NaN
        from qnet.errors import ConfigError

        raise ConfigError(where, name, value, "a probability in [0, 1] is required (1 = perfect)")
    return v


# --------------------------------------------------------------------------- noise as Kraus

def depolarizing_kraus(fidelity: float, n_qubits: int = 2) -> list[np.ndarray]:
    """Kraus set of rho -> f rho + (1 - f) I/d on ``n_qubits`` (= ``depolarizing_error(1-f, n)``).

    Uses the 4**n Pauli products: weight f + (1-f)/4**n on the identity and (1-f)/4**n on each
    other Pauli. Operators with zero weight are dropped.
    """
    f = check_probability("gate_fidelity", fidelity, "depolarizing_kraus")
    paulis1 = [
        np.eye(2, dtype=complex),
        np.array([[0, 1], [1, 0]], dtype=complex),
        np.array([[0, -1j], [1j, 0]], dtype=complex),
        np.array([[1, 0], [0, -1]], dtype=complex),
    ]
    n4 = 4**n_qubits
    ops = [np.sqrt(f + (1.0 - f) / n4) * np.eye(2**n_qubits, dtype=complex)]
    if f < 1.0:
        w = np.sqrt((1.0 - f) / n4)
        for idx in range(1, n4):
            p = np.ones((1, 1), dtype=complex)
            for k in range(n_qubits):
                p = np.kron(p, paulis1[(idx >> (2 * k)) & 3])
            ops.append(w * p)
    return [k for k in ops if np.abs(k).max() > 0.0]


def bit_flip_kraus(readout_fidelity: float) -> list[np.ndarray]:
    """Kraus set of a bit flip with probability 1 - r (a readout error before a Z measurement)."""
    r = check_probability("readout_fidelity", readout_fidelity, "bit_flip_kraus")
    ops = [np.sqrt(r) * np.eye(2, dtype=complex), np.sqrt(1.0 - r) * np.array([[0, 1], [1, 0]], dtype=complex)]
    return [k for k in ops if np.abs(k).max() > 0.0]


def kraus_instruction(kraus: Sequence[np.ndarray], label: str | None = None) -> Instruction:
    """A raw Aer ``kraus`` instruction (cheap; ``QuantumError.to_instruction()`` is slow).

    The matrices use Qiskit's little-endian order on the qubits the instruction is appended to.
    """
    from qiskit.circuit import Instruction

    mats = [np.asarray(k, dtype=complex) for k in kraus]
    n = int(round(math.log2(mats[0].shape[0])))
    return Instruction("kraus", n, 0, mats, label=label)


# --------------------------------------------------------------------------- Aer superops

def channel_circuit(kind: str, gate_fidelity: float = 1.0, readout_fidelity: float = 1.0) -> QuantumCircuit:
    """Build the (gates + noise) circuit registered as ``kind``."""
    try:
        entry = _BUILDERS[kind]
    except KeyError:
        raise ValueError(f"unknown channel kind {kind!r}; known: {sorted(_BUILDERS)}") from None
    if callable(entry):
        return entry(gate_fidelity=gate_fidelity, readout_fidelity=readout_fidelity)
    module, func, kwargs = entry
    builder = getattr(importlib.import_module(module), func)
    return builder(gate_fidelity=gate_fidelity, readout_fidelity=readout_fidelity, **kwargs)


@functools.cache
def _superop_simulator():
    from qiskit_aer import AerSimulator

    # the operations are 4-qubit circuits: OpenMP threads only add overhead (~100 ms vs ~4 ms here)
    return AerSimulator(method="superop", max_parallel_threads=1)


def circuit_superop(circuit: QuantumCircuit) -> np.ndarray:
    """Run ``circuit`` (gates and CPTP noise only) on Aer's superop method; return the channel.

    The result is Aer's ``save_superop`` matrix as a ``(4**n, 4**n)`` complex numpy array
    (little-endian, column stacking; see the module docstring). Not cached.
    """
    import qiskit_aer  # noqa: F401  (registers QuantumCircuit.save_superop)

    qc = circuit.copy()
    qc.save_superop()
    result = _superop_simulator().run(qc, shots=1).result()
    if not result.success:  # pragma: no cover - Aer reports failures here
        raise RuntimeError(f"Aer superop simulation failed: {result.status}")
    return np.array(result.data(0)["superop"], dtype=complex)


def node_pair(name: str, value: float | Sequence[float], where: str = "qnet") -> float | tuple[float, float]:
    """A probability, or a pair of them (node A, node B) for operations that both nodes do.

    A pair with equal entries becomes that one float, so both spellings share a cache entry.
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            from qnet.errors import ConfigError

            raise ConfigError(where, name, value, "a probability or a pair (node A, node B) of them")
        a, b = (check_probability(name, v, where) for v in value)
        return a if a == b else (a, b)
    return check_probability(name, value, where)


def _key(kind: str, gate_fidelity, readout_fidelity) -> tuple[str, Any, Any]:
    if kind not in _BUILDERS:
        raise ValueError(f"unknown channel kind {kind!r}; known: {sorted(_BUILDERS)}")
    return (kind, node_pair("gate_fidelity", gate_fidelity, kind), node_pair("readout_fidelity", readout_fidelity, kind))


@functools.lru_cache(maxsize=32)
def _superop_cached(kind: str, gate_fidelity: float, readout_fidelity: float) -> np.ndarray:
    s = circuit_superop(channel_circuit(kind, gate_fidelity, readout_fidelity))
    s.setflags(write=False)
    return s


def superop(kind: str, gate_fidelity: float = 1.0, readout_fidelity: float = 1.0) -> np.ndarray:
    """Aer superoperator of the registered operation ``kind``, computed once per parameter set.

    Read-only array (shared by the cache); little-endian, column stacking. Each distinct
    ``(kind, gate_fidelity, readout_fidelity)`` costs one Aer run the first time it is used.
    """
    return _superop_cached(*_key(kind, gate_fidelity, readout_fidelity))


def superop_tensor(s: np.ndarray, n_qubits: int) -> np.ndarray:
    """Rewrite an Aer superop as a big-endian tensor ``T`` with ``4 * n_qubits`` axes of length 2.

    Returns shape ``(2,)*4n`` with axes (output row q0..q{n-1}, output column q0..,
    input row q0.., input column q0..), so that for big-endian matrices reshaped to
    ``(2,)*2n``: ``rho_out[a, b] = sum_{c,d} T[a, b, c, d] rho_in[c, d]``.
    """
    n = n_qubits
    d = 2**n
    s = np.asarray(s).reshape(d, d, d, d)  # [j, i, l, k] for S[i + d j, k + d l]
    t = s.transpose(1, 0, 3, 2).reshape((2,) * (4 * n))  # [i, j, k, l], each little-endian
    # a little-endian index reshaped C-order gives axes q{n-1}..q0: reverse each group
    perm = [g * n + (n - 1 - m) for g in range(4) for m in range(n)]
    return t.transpose(perm)


def _reduce_tensor(t: np.ndarray, n: int, keep: tuple[int, ...], outcomes: tuple[tuple[int, ...], ...] | None) -> np.ndarray:
    others = [q for q in range(n) if q not in keep]
    k, o = len(keep), len(others)
    order = list(keep) + others
    perm = order + [n + q for q in order] + list(range(2 * n, 4 * n))
    t = t.transpose(perm).reshape(2**k, 2**o, 2**k, 2**o, 4**n)
    if outcomes is None:
        m = np.einsum("asbsx->abx", t)
    else:
        m = np.zeros((2**k, 2**k, 4**n), dtype=complex)
        for bits in outcomes:
            s = 0
            for b in bits:
                s = 2 * s + int(b)
            m += t[:, s, :, s, :]
    return m.reshape(4**k, 4**n)


def _normalise_keep_outcomes(n: int, keep: Iterable[int], outcomes) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...] | None]:
    keep = tuple(int(q) for q in keep)
    if len(set(keep)) != len(keep) or any(not 0 <= q < n for q in keep):
        raise ValueError(f"keep must list distinct qubits of 0..{n - 1}, got {keep}")
    if outcomes is None:
        return keep, None
    n_other = n - len(keep)
    outs = tuple(tuple(int(b) for b in o) for o in outcomes)
    for o in outs:
        if len(o) != n_other or any(b not in (0, 1) for b in o):
            raise ValueError(f"each outcome must give {n_other} bits (0/1) for the unkept qubits, got {o}")
    if len(set(outs)) != len(outs):
        raise ValueError(f"outcomes repeat: {outs}")
    return keep, outs


_N_QUBITS: dict[str, int] = {}


@functools.lru_cache(maxsize=2048)
def _reduced_map_cached(kind, gate_fidelity, readout_fidelity, keep, outcomes) -> np.ndarray:
    s = _superop_cached(kind, gate_fidelity, readout_fidelity)
    n = int(round(math.log(s.shape[0], 4)))
    m = _reduce_tensor(superop_tensor(s, n), n, keep, outcomes)
    m = np.ascontiguousarray(m)
    m.setflags(write=False)
    return m


def reduced_map(
    kind: str,
    gate_fidelity: float = 1.0,
    readout_fidelity: float = 1.0,
    keep: Iterable[int] = (0, 1),
    outcomes: Iterable[Sequence[int]] | None = None,
) -> np.ndarray:
    """Matrix ``M`` of the operation ``kind`` followed by reduction to the qubits ``keep``.

    ``M`` has shape ``(4**k, 4**n)`` and acts on big-endian, row-major flattened matrices:
    ``rho_out.ravel() = M @ rho_in.ravel()``, with ``rho_out`` on ``keep`` in that order
    (first listed = most significant). The unkept qubits are traced out (``outcomes=None``)
    or projected onto the listed computational-basis ``outcomes`` (bit tuples for the unkept
    qubits in ascending qubit order) and summed: the result is then not normalised and its
    trace is the probability of those outcomes. Cached; read-only.
    """
    key = _key(kind, gate_fidelity, readout_fidelity)
    n = _N_QUBITS.get(kind)
    if n is None:  # first use of this kind: learn its size from its superoperator
        n = _N_QUBITS[kind] = int(round(math.log(_superop_cached(*key).shape[0], 4)))
    keep_t, outs = _normalise_keep_outcomes(n, keep, outcomes)
    # the reduced map is looked up first, so a setting whose superoperator has left the small
    # superoperator cache is not rebuilt on Aer while its reduced map is still cached
    return _reduced_map_cached(*key, keep_t, outs)


def clear_cache() -> None:
    """Forget every cached channel (e.g. to measure the first-use cost)."""
    _superop_cached.cache_clear()
    _reduced_map_cached.cache_clear()


# --------------------------------------------------------------------------- numpy helpers

def _n_qubits(dim: int) -> int:
    n = int(round(math.log2(dim)))
    if 2**n != dim:
        raise ValueError(f"matrix dimension {dim} is not a power of 2")
    return n


def reverse_qubit_order(rho: np.ndarray) -> np.ndarray:
    """Convert a density matrix (or a stack ``(..., d, d)``) between big- and little-endian order.

    Reverses the qubit order of rows and columns; the map is its own inverse.
    """
    rho = np.asarray(rho)
    d = rho.shape[-1]
    n = _n_qubits(d)
    lead = rho.shape[:-2]
    r = rho.reshape(lead + (2,) * (2 * n))
    b = len(lead)
    perm = list(range(b)) + [b + n - 1 - m for m in range(n)] + [b + 2 * n - 1 - m for m in range(n)]
    return r.transpose(perm).reshape(rho.shape)


def apply_superop(s: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Apply an Aer/Qiskit superop (column stacking) to a little-endian ``rho`` or stack ``(m, d, d)``."""
    rho = np.asarray(rho)
    d = rho.shape[-1]
    vec = np.swapaxes(rho, -1, -2).reshape(rho.shape[:-2] + (d * d,))  # column stacking
    out = vec @ np.asarray(s).T
    return np.swapaxes(out.reshape(rho.shape[:-2] + (d, d)), -1, -2)


def project_and_trace(
    rho: np.ndarray,
    keep: Iterable[int],
    outcomes: Iterable[Sequence[int]] | None = None,
) -> np.ndarray:
    """Reduce a big-endian ``rho`` (or stack) to ``keep`` after projecting the other qubits.

    ``outcomes=None`` is the plain partial trace. Otherwise the unkept qubits (ascending
    order) are projected onto each listed bit tuple and the branches summed; the result is
    unnormalised, its trace the probability of the outcomes.
    """
    rho = np.asarray(rho)
    d = rho.shape[-1]
    n = _n_qubits(d)
    keep_t, outs = _normalise_keep_outcomes(n, keep, outcomes)
    others = [q for q in range(n) if q not in keep_t]
    lead = rho.shape[:-2]
    b = len(lead)
    r = rho.reshape(lead + (2,) * (2 * n))
    order = list(keep_t) + others
    perm = list(range(b)) + [b + q for q in order] + [b + n + q for q in order]
    k, o = len(keep_t), len(others)
    r = r.transpose(perm).reshape(lead + (2**k, 2**o, 2**k, 2**o))
    if outs is None:
        return np.einsum("...asbs->...ab", r)
    out = np.zeros(lead + (2**k, 2**k), dtype=np.result_type(rho.dtype, complex))
    for bits in outs:
        s = 0
        for bit in bits:
            s = 2 * s + bit
        out += r[..., :, s, :, s]
    return out


def partial_trace(rho: np.ndarray, keep: Iterable[int]) -> np.ndarray:
    """Partial trace of a big-endian ``rho`` (or stack) onto ``keep`` (in that order)."""
    return project_and_trace(rho, keep, None)
