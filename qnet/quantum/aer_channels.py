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
  ``vec(E(rho)) = S @ vec(rho)``. :func:`qnet.quantum.qubits.apply_superop` applies it to
  little-endian matrices.
* Everything else in qnet is big-endian with memory A first (``qnet.quantum.states``): for a circuit's
  qubits ``q0..q{n-1}``, ``q0`` is the most significant bit. :func:`reduced_map` returns maps
  in that order, acting on row-major flattened matrices: ``out.ravel() = M @ rho.ravel()``.
* Qiskit and qiskit_aer are imported lazily, inside the functions that need them.

The registry starts empty: this layer knows no repeater operation. Each higher-layer module that
defines one registers its builder with :func:`register_channel` when it is imported
(:mod:`qnet.repeater.swapping`: ``"swap"``; :mod:`qnet.repeater.purification`: ``"dejmps"``,
``"bbpssw"``; :mod:`qnet.repeater.fusion`: ``"fusion"``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from qnet.quantum.qubits import check_keep_outcomes, project_and_trace, superop_tensor
from qnet.quantum.states import PAULI

if TYPE_CHECKING:  # pragma: no cover - typing only
    from qiskit import QuantumCircuit
    from qiskit.circuit import Instruction

__all__ = [
    "CHANNEL_KINDS",
    "register_channel",
    "channel_circuit",
    "circuit_superop",
    "superop",
    "reduced_map",
    "clear_cache",
    "check_probability",
    "kraus_instruction",
    "depolarizing_kraus",
    "bit_flip_kraus",
    "node_pair",
]

# kind -> builder, called as builder(gate_fidelity=..., readout_fidelity=...); it returns a
# QuantumCircuit holding only gates and CPTP noise (no measurements, no saves). Filled by the
# modules that define the operations (see the module docstring).
_BUILDERS: dict[str, Callable[..., QuantumCircuit]] = {}

#: Names of the operations whose channel can be obtained with :func:`superop`.
CHANNEL_KINDS = tuple(_BUILDERS)


def register_channel(kind: str, builder: Callable[..., QuantumCircuit]) -> None:
    """Register ``builder(gate_fidelity=..., readout_fidelity=...) -> QuantumCircuit`` as ``kind``.

    The circuit must contain only unitary gates and trace-preserving noise (no measurement,
    reset or save instructions). Registering a kind again with another builder clears the caches.

    Parameters
    ----------
    kind : str
        Name of the operation, then usable with :func:`superop` and :func:`reduced_map`.
    builder : callable
        Called as ``builder(gate_fidelity=f, readout_fidelity=r)``; returns a ``QuantumCircuit``.

    Returns
    -------
    None

    Examples
    --------
    A two-qubit idle step with depolarising noise of fidelity f (``readout_fidelity`` unused):

    >>> import numpy as np
    >>> from qiskit import QuantumCircuit
    >>> from qnet.quantum.aer_channels import depolarizing_kraus, kraus_instruction, reduced_map, register_channel
    >>> def idle(gate_fidelity, readout_fidelity):
    ...     qc = QuantumCircuit(2)
    ...     qc.append(kraus_instruction(depolarizing_kraus(gate_fidelity)), [0, 1])
    ...     return qc
    >>> register_channel("example_idle", idle)
    >>> m = reduced_map("example_idle", gate_fidelity=0.8, keep=(0,))   # what is left of qubit 0
    >>> out = (m @ np.diag([1.0, 0.0, 0.0, 0.0]).ravel()).reshape(2, 2)  # from |00>
    >>> np.diag(out).real.round(6).tolist()                            # 0.8 |0><0| + 0.2 I/2
    [0.9, 0.1]
    """
    global CHANNEL_KINDS
    replaced = kind in _BUILDERS and _BUILDERS[kind] != builder
    _BUILDERS[kind] = builder
    CHANNEL_KINDS = tuple(_BUILDERS)
    if replaced:
        clear_cache()


def check_probability(name: str, value: float, where: str = "qnet") -> float:
    """Return ``value`` as a float after checking that it lies in [0, 1].

    Parameters
    ----------
    name : str
        The parameter's name, for the error message.
    value : float
        The value to check (anything ``float()`` accepts).
    where : str, optional
        Where the parameter belongs (a function or table name), for the error message.

    Returns
    -------
    float
        ``float(value)``.

    Raises
    ------
    qnet.errors.ConfigError
        (a ``ValueError``) If ``value`` is not a number in [0, 1] (NaN included).

    Examples
    --------
    >>> from qnet.quantum.aer_channels import check_probability
    >>> check_probability("gate_fidelity", "0.99")
    0.99
    >>> check_probability("gate_fidelity", 1.5, "swap")
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: swap.gate_fidelity = 1.5 is invalid: a probability in [0, 1] is required (1 = perfect)
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

    Parameters
    ----------
    fidelity : float
        f in [0, 1] (1 = no noise).
    n_qubits : int, optional
        Number of qubits (default 2).

    Returns
    -------
    list of numpy.ndarray
        Kraus operators of size 2**n_qubits; just the identity when f = 1.

    Raises
    ------
    qnet.errors.ConfigError
        If ``fidelity`` is not in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.aer_channels import depolarizing_kraus
    >>> ks = depolarizing_kraus(0.9, n_qubits=1)
    >>> len(ks), np.allclose(sum(k.conj().T @ k for k in ks), np.eye(2))
    (4, True)
    >>> out = sum(k @ np.diag([1.0, 0.0]) @ k.conj().T for k in ks)   # 0.9 |0><0| + 0.1 I/2
    >>> np.diag(out).real.round(6).tolist()
    [0.95, 0.05]
    """
    f = check_probability("gate_fidelity", fidelity, "depolarizing_kraus")
    paulis1 = [PAULI[p] for p in "IXYZ"]
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
    """Kraus set of a bit flip with probability 1 - r (a readout error before a Z measurement).

    Parameters
    ----------
    readout_fidelity : float
        r in [0, 1] (1 = no error).

    Returns
    -------
    list of numpy.ndarray
        sqrt(r) I and sqrt(1 - r) X (2x2), without the one that is zero.

    Raises
    ------
    qnet.errors.ConfigError
        If ``readout_fidelity`` is not in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.aer_channels import bit_flip_kraus
    >>> out = sum(k @ np.diag([1.0, 0.0]) @ k.conj().T for k in bit_flip_kraus(0.97))
    >>> np.diag(out).real.round(6).tolist()            # |0> is read as 1 with probability 3%
    [0.97, 0.03]
    >>> len(bit_flip_kraus(1.0))
    1
    """
    r = check_probability("readout_fidelity", readout_fidelity, "bit_flip_kraus")
    ops = [np.sqrt(r) * PAULI["I"], np.sqrt(1.0 - r) * PAULI["X"]]
    return [k for k in ops if np.abs(k).max() > 0.0]


def kraus_instruction(kraus: Sequence[np.ndarray], label: str | None = None) -> Instruction:
    """A raw Aer ``kraus`` instruction (cheap; ``QuantumError.to_instruction()`` is slow).

    The matrices use Qiskit's little-endian order on the qubits the instruction is appended to.

    Parameters
    ----------
    kraus : sequence of numpy.ndarray
        Kraus operators of size 2**n (n qubits).
    label : str, optional
        Label shown in circuit drawings.

    Returns
    -------
    qiskit.circuit.Instruction
        An n-qubit instruction named ``"kraus"``.

    Examples
    --------
    >>> from qiskit import QuantumCircuit
    >>> from qnet.quantum.aer_channels import bit_flip_kraus, kraus_instruction
    >>> inst = kraus_instruction(bit_flip_kraus(0.99), "readout")
    >>> inst.name, inst.num_qubits, inst.label
    ('kraus', 1, 'readout')
    >>> qc = QuantumCircuit(2)
    >>> _ = qc.append(inst, [1])
    """
    from qiskit.circuit import Instruction

    mats = [np.asarray(k, dtype=complex) for k in kraus]
    n = int(round(math.log2(mats[0].shape[0])))
    return Instruction("kraus", n, 0, mats, label=label)


# --------------------------------------------------------------------------- Aer superops


def channel_circuit(kind: str, gate_fidelity: float = 1.0, readout_fidelity: float = 1.0) -> QuantumCircuit:
    """Build the (gates + noise) circuit registered as ``kind``.

    Parameters
    ----------
    kind : str
        One of :data:`CHANNEL_KINDS`.
    gate_fidelity, readout_fidelity : float or tuple of float, optional
        Node parameters in [0, 1] passed to the builder (default 1, perfect).

    Returns
    -------
    qiskit.QuantumCircuit
        Gates and noise only, no measurements.

    Raises
    ------
    ValueError
        If ``kind`` is not registered.

    Examples
    --------
    >>> from qnet.quantum.aer_channels import channel_circuit
    >>> import qnet.repeater.swapping                     # registers "swap"
    >>> channel_circuit("swap").num_qubits           # two pairs: q0-q1 and q2-q3
    4
    """
    return _builder(kind)(gate_fidelity=gate_fidelity, readout_fidelity=readout_fidelity)


def _builder(kind: str):
    """The registry entry of ``kind``; ValueError naming the known kinds otherwise."""
    try:
        return _BUILDERS[kind]
    except KeyError:
        raise ValueError(
            f"unknown channel kind {kind!r}; known: {sorted(_BUILDERS)} (the repeater operations register "
            "themselves when qnet.repeater.swapping, .purification and .fusion are imported)"
        ) from None


@functools.cache
def _superop_simulator():
    from qiskit_aer import AerSimulator

    # the operations are 4-qubit circuits: OpenMP threads only add overhead (~100 ms vs ~4 ms here)
    return AerSimulator(method="superop", max_parallel_threads=1)


def circuit_superop(circuit: QuantumCircuit) -> np.ndarray:
    """Run ``circuit`` (gates and CPTP noise only) on Aer's superop method; return the channel.

    The result is Aer's ``save_superop`` matrix as a ``(4**n, 4**n)`` complex numpy array
    (little-endian, column stacking; see the module docstring). Not cached.

    Parameters
    ----------
    circuit : qiskit.QuantumCircuit
        n qubits, gates and CPTP noise only (no measurement, reset or save).

    Returns
    -------
    numpy.ndarray
        Complex matrix of shape (4**n, 4**n).

    Raises
    ------
    RuntimeError
        If Aer reports a failed simulation.

    Examples
    --------
    >>> import numpy as np
    >>> from qiskit import QuantumCircuit
    >>> from qnet.quantum.aer_channels import circuit_superop
    >>> from qnet.quantum.qubits import apply_superop
    >>> qc = QuantumCircuit(1)
    >>> _ = qc.x(0)
    >>> s = circuit_superop(qc)
    >>> s.shape
    (4, 4)
    >>> (apply_superop(s, np.diag([1.0, 0.0])).real.round(6) + 0.0).tolist()   # X|0> = |1>
    [[0.0, 0.0], [0.0, 1.0]]
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

    Parameters
    ----------
    name : str
        The parameter's name, for error messages.
    value : float or sequence of float
        One probability for both nodes, or a pair (node A, node B) as a tuple or list.
    where : str, optional
        Where the parameter belongs, for error messages.

    Returns
    -------
    float or tuple of float
        One float, or a tuple of two different floats.

    Raises
    ------
    qnet.errors.ConfigError
        If a value is not in [0, 1] or a sequence does not have two entries.

    Examples
    --------
    >>> from qnet.quantum.aer_channels import node_pair
    >>> node_pair("gate_fidelity", 0.99), node_pair("gate_fidelity", [0.99, 0.99])
    (0.99, 0.99)
    >>> node_pair("gate_fidelity", (0.99, 0.98))
    (0.99, 0.98)
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            from qnet.errors import ConfigError

            raise ConfigError(where, name, value, "a probability or a pair (node A, node B) of them")
        a, b = (check_probability(name, v, where) for v in value)
        return a if a == b else (a, b)
    return check_probability(name, cast(float, value), where)


def _key(kind: str, gate_fidelity, readout_fidelity) -> tuple[str, Any, Any]:
    """The cache key of a setting: ``kind`` checked, the node parameters normalised (:func:`node_pair`)."""
    _builder(kind)
    return (
        kind,
        node_pair("gate_fidelity", gate_fidelity, kind),
        node_pair("readout_fidelity", readout_fidelity, kind),
    )


@functools.lru_cache(maxsize=32)
def _superop_cached(kind: str, gate_fidelity: float, readout_fidelity: float) -> np.ndarray:
    s = circuit_superop(channel_circuit(kind, gate_fidelity, readout_fidelity))
    s.setflags(write=False)
    return s


def superop(
    kind: str, gate_fidelity: float | Sequence[float] = 1.0, readout_fidelity: float | Sequence[float] = 1.0
) -> np.ndarray:
    """Aer superoperator of the registered operation ``kind``, computed once per parameter set.

    Read-only array (shared by the cache); little-endian, column stacking. Each distinct
    ``(kind, gate_fidelity, readout_fidelity)`` costs one Aer run the first time it is used.

    Parameters
    ----------
    kind : str
        One of :data:`CHANNEL_KINDS`.
    gate_fidelity, readout_fidelity : float or tuple of float, optional
        Node parameters in [0, 1], one for both nodes or a pair (node A, node B)
        (default 1, perfect).

    Returns
    -------
    numpy.ndarray
        Read-only complex matrix of shape (4**n, 4**n), n the circuit's qubits.

    Raises
    ------
    ValueError
        If ``kind`` is not registered.
    qnet.errors.ConfigError
        If a node parameter is not a probability.

    Examples
    --------
    >>> from qnet.quantum.aer_channels import superop
    >>> import qnet.repeater.swapping                     # registers "swap"
    >>> s = superop("swap", gate_fidelity=0.99)
    >>> s.shape, s.flags.writeable
    ((256, 256), False)
    >>> superop("swap", gate_fidelity=(0.99, 0.99)) is s      # the same cached channel
    True
    """
    return _superop_cached(*_key(kind, gate_fidelity, readout_fidelity))


_N_QUBITS: dict[str, int] = {}


@functools.lru_cache(maxsize=2048)
def _reduced_map_cached(kind, gate_fidelity, readout_fidelity, keep, outcomes) -> np.ndarray:
    s = _superop_cached(kind, gate_fidelity, readout_fidelity)
    n = int(round(math.log(s.shape[0], 4)))
    # the input axes (row, column) lead, so each input basis element is one state of a stack
    t = superop_tensor(s, n).transpose(list(range(2 * n, 4 * n)) + list(range(2 * n)))
    m = project_and_trace(t.reshape(4**n, 2**n, 2**n), keep, outcomes).reshape(4**n, -1).T
    m = np.ascontiguousarray(m)
    m.setflags(write=False)
    return m


def reduced_map(
    kind: str,
    gate_fidelity: float | Sequence[float] = 1.0,
    readout_fidelity: float | Sequence[float] = 1.0,
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

    Parameters
    ----------
    kind : str
        One of :data:`CHANNEL_KINDS`.
    gate_fidelity, readout_fidelity : float or tuple of float, optional
        Node parameters in [0, 1] (default 1, perfect), as for :func:`superop`.
    keep : iterable of int, optional
        Distinct circuit qubits to keep, in the output's order (default ``(0, 1)``).
    outcomes : iterable of sequence of int, optional
        Distinct bit tuples of the unkept qubits to project onto; ``None`` traces them out.

    Returns
    -------
    numpy.ndarray
        Read-only complex matrix of shape (4**len(keep), 4**n).

    Raises
    ------
    ValueError
        If ``kind`` is not registered, ``keep`` repeats or names no qubit of the circuit,
        or an outcome is malformed or repeated.
    qnet.errors.ConfigError
        If a node parameter is not a probability.

    Examples
    --------
    Swapping two |Psi+> pairs (q0-q1, q2-q3) gives |Psi+> on (q0, q3); a BSM gate of
    fidelity f = 0.9 leaves a Werner state with F = f + (1 - f)/4:

    >>> import numpy as np
    >>> from qnet.quantum.aer_channels import reduced_map
    >>> from qnet.quantum.states import bell_projector, fidelity
    >>> import qnet.repeater.swapping                     # registers "swap"
    >>> pairs = np.kron(bell_projector("psi+"), bell_projector("psi+"))
    >>> out = (reduced_map("swap", keep=(0, 3)) @ pairs.ravel()).reshape(4, 4)
    >>> round(fidelity(out, "psi+"), 6)
    1.0
    >>> out = (reduced_map("swap", 0.9, keep=(0, 3)) @ pairs.ravel()).reshape(4, 4)
    >>> round(fidelity(out, "psi+"), 6)
    0.925
    """
    key = _key(kind, gate_fidelity, readout_fidelity)
    n = _N_QUBITS.get(kind)
    if n is None:  # first use of this kind: learn its size from its superoperator
        n = _N_QUBITS[kind] = int(round(math.log(_superop_cached(*key).shape[0], 4)))
    keep_t, outs = check_keep_outcomes(n, keep, outcomes)
    # the reduced map is looked up first, so a setting whose superoperator has left the small
    # superoperator cache is not rebuilt on Aer while its reduced map is still cached
    return _reduced_map_cached(*key, keep_t, outs)


def clear_cache() -> None:
    """Forget every cached channel (e.g. to measure the first-use cost).

    Returns
    -------
    None

    Examples
    --------
    >>> from qnet.quantum.aer_channels import clear_cache, superop
    >>> import qnet.repeater.swapping                     # registers "swap"
    >>> s = superop("swap")
    >>> superop("swap") is s
    True
    >>> clear_cache()
    >>> superop("swap") is s                                   # computed again on Aer
    False
    """
    _superop_cached.cache_clear()
    _reduced_map_cached.cache_clear()
