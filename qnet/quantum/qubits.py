"""n-qubit density matrices in numpy: qubit order, Qiskit superoperators, partial traces.

* qnet writes matrices big-endian, memory A (qubit 0) first; Qiskit writes them little-endian
  (basis index ``sum_q b_q 2**q``). :func:`reverse_qubit_order` converts between the two.
* Qiskit's superoperators stack columns, ``vec(rho)[i + d*j] = rho[i, j]``, so
  ``vec(E(rho)) = S @ vec(rho)`` (:func:`apply_superop`); :func:`superop_tensor` rewrites one as
  a big-endian tensor.
* :func:`partial_trace` and :func:`project_and_trace` reduce a state to some of its qubits,
  tracing the others out or projecting them onto measurement outcomes.

Everything accepts a stack of matrices ``(..., d, d)`` where it says so. No Qiskit import.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "reverse_qubit_order",
    "apply_superop",
    "superop_tensor",
    "check_keep_outcomes",
    "project_and_trace",
    "partial_trace",
]


def _n_qubits(dim: int) -> int:
    """n for a matrix dimension d = 2**n; ValueError otherwise."""
    n = int(round(math.log2(dim)))
    if 2**n != dim:
        raise ValueError(f"matrix dimension {dim} is not a power of 2")
    return n


def _basis_index(bits: Sequence[int]) -> int:
    """Big-endian basis index of a bit tuple: (1, 0, 1) -> 5."""
    s = 0
    for b in bits:
        s = 2 * s + int(b)
    return s


def check_keep_outcomes(
    n: int, keep: Iterable[int], outcomes
) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...] | None]:
    """``keep`` and ``outcomes`` checked against ``n`` qubits, as hashable tuples.

    Parameters
    ----------
    n : int
        Number of qubits.
    keep : iterable of int
        Distinct qubits in 0 .. n - 1 to keep, in the output's order.
    outcomes : iterable of sequence of int or None
        Distinct bit tuples, one bit (0/1) per unkept qubit in ascending qubit order;
        ``None`` for a plain partial trace.

    Returns
    -------
    keep : tuple of int
    outcomes : tuple of tuple of int, or None

    Raises
    ------
    ValueError
        If ``keep`` repeats or names no qubit, or an outcome is malformed or repeated.

    Examples
    --------
    >>> from qnet.quantum.qubits import check_keep_outcomes
    >>> check_keep_outcomes(4, [0, 3], [[0, 1], (1, 1)])
    ((0, 3), ((0, 1), (1, 1)))
    >>> check_keep_outcomes(2, (1, 1), None)
    Traceback (most recent call last):
    ...
    ValueError: keep must list distinct qubits of 0..1, got (1, 1)
    """
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


def reverse_qubit_order(rho: np.ndarray) -> np.ndarray:
    """Convert a density matrix (or a stack ``(..., d, d)``) between big- and little-endian order.

    Reverses the qubit order of rows and columns; the map is its own inverse.

    Parameters
    ----------
    rho : numpy.ndarray
        Shape (..., d, d), d a power of 2.

    Returns
    -------
    numpy.ndarray
        The same state(s) in the other order, same shape.

    Raises
    ------
    ValueError
        If d is not a power of 2.

    Examples
    --------
    |01> (q1 = 1) is basis index 1 big-endian and 2 little-endian:

    >>> import numpy as np
    >>> from qnet.quantum.qubits import reverse_qubit_order
    >>> np.diag(reverse_qubit_order(np.diag([0.0, 1.0, 0.0, 0.0]))).tolist()
    [0.0, 0.0, 1.0, 0.0]
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
    """Apply an Aer/Qiskit superop (column stacking) to a little-endian ``rho`` or stack ``(m, d, d)``.

    Parameters
    ----------
    s : numpy.ndarray
        Superoperator of shape (d*d, d*d): ``vec(E(rho)) = s @ vec(rho)``, columns stacked.
    rho : numpy.ndarray
        Shape (d, d) or (m, d, d), little-endian.

    Returns
    -------
    numpy.ndarray
        E(rho), same shape as ``rho``.

    Examples
    --------
    The superoperator of a unitary U is conj(U) (x) U in column stacking:

    >>> import numpy as np
    >>> from qnet.quantum.qubits import apply_superop
    >>> h = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
    >>> out = apply_superop(np.kron(h.conj(), h), np.diag([1.0, 0.0]))    # H|0> = |+>
    >>> out.real.round(6).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    rho = np.asarray(rho)
    d = rho.shape[-1]
    vec = np.swapaxes(rho, -1, -2).reshape(rho.shape[:-2] + (d * d,))  # column stacking
    out = vec @ np.asarray(s).T
    return np.swapaxes(out.reshape(rho.shape[:-2] + (d, d)), -1, -2)


def superop_tensor(s: np.ndarray, n_qubits: int) -> np.ndarray:
    """Rewrite an Aer superop as a big-endian tensor ``T`` with ``4 * n_qubits`` axes of length 2.

    Returns shape ``(2,)*4n`` with axes (output row q0..q{n-1}, output column q0..,
    input row q0.., input column q0..), so that for big-endian matrices reshaped to
    ``(2,)*2n``: ``rho_out[a, b] = sum_{c,d} T[a, b, c, d] rho_in[c, d]``.

    Parameters
    ----------
    s : numpy.ndarray
        Aer superoperator of shape (4**n, 4**n) (:func:`circuit_superop`).
    n_qubits : int
        n.

    Returns
    -------
    numpy.ndarray
        A view of ``s`` with shape ``(2,) * (4 * n_qubits)``.

    Examples
    --------
    A CNOT from q0 to q1 takes |10> (q0 = 1, big-endian) to |11>:

    >>> import numpy as np
    >>> from qiskit import QuantumCircuit
    >>> from qnet.quantum.aer_channels import circuit_superop
    >>> from qnet.quantum.qubits import superop_tensor
    >>> qc = QuantumCircuit(2)
    >>> _ = qc.cx(0, 1)
    >>> t = superop_tensor(circuit_superop(qc), 2)
    >>> rho = np.diag([0.0, 0.0, 1.0, 0.0])
    >>> out = np.einsum("abcd,cd->ab", t.reshape(4, 4, 4, 4), rho)
    >>> (np.diag(out).real.round(6) + 0.0).tolist()
    [0.0, 0.0, 0.0, 1.0]
    """
    n = n_qubits
    d = 2**n
    s = np.asarray(s).reshape(d, d, d, d)  # [j, i, l, k] for S[i + d j, k + d l]
    t = s.transpose(1, 0, 3, 2).reshape((2,) * (4 * n))  # [i, j, k, l], each little-endian
    # a little-endian index reshaped C-order gives axes q{n-1}..q0: reverse each group
    perm = [g * n + (n - 1 - m) for g in range(4) for m in range(n)]
    return t.transpose(perm)


def project_and_trace(
    rho: np.ndarray,
    keep: Iterable[int],
    outcomes: Iterable[Sequence[int]] | None = None,
) -> np.ndarray:
    """Reduce a big-endian ``rho`` (or stack) to ``keep`` after projecting the other qubits.

    ``outcomes=None`` is the plain partial trace. Otherwise the unkept qubits (ascending
    order) are projected onto each listed bit tuple and the branches summed; the result is
    unnormalised, its trace the probability of the outcomes.

    Parameters
    ----------
    rho : numpy.ndarray
        Shape (..., d, d) in big-endian order, d = 2**n.
    keep : iterable of int
        Distinct qubits to keep, in the output's order.
    outcomes : iterable of sequence of int, optional
        Distinct bit tuples of the unkept qubits (ascending qubit order); ``None`` traces out.

    Returns
    -------
    numpy.ndarray
        Shape (..., 2**k, 2**k), k = len(keep).

    Raises
    ------
    ValueError
        If d is not a power of 2, ``keep`` repeats or names no qubit, or an outcome is
        malformed or repeated.

    Examples
    --------
    Finding q2 of a GHZ state (|000> + |111>)/sqrt2 in |1> leaves |11> on (q0, q1),
    with probability 1/2:

    >>> import numpy as np
    >>> from qnet.quantum.qubits import project_and_trace
    >>> ghz = np.zeros(8); ghz[[0, 7]] = 1 / np.sqrt(2)
    >>> out = project_and_trace(np.outer(ghz, ghz), keep=(0, 1), outcomes=[(1,)])
    >>> (np.diag(out).real.round(6) + 0.0).tolist()
    [0.0, 0.0, 0.0, 0.5]
    """
    rho = np.asarray(rho)
    d = rho.shape[-1]
    n = _n_qubits(d)
    keep_t, outs = check_keep_outcomes(n, keep, outcomes)
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
        s = _basis_index(bits)
        out += r[..., :, s, :, s]
    return out


def partial_trace(rho: np.ndarray, keep: Iterable[int]) -> np.ndarray:
    """Partial trace of a big-endian ``rho`` (or stack) onto ``keep`` (in that order).

    Parameters
    ----------
    rho : numpy.ndarray
        Shape (..., d, d) in big-endian order, d = 2**n.
    keep : iterable of int
        Distinct qubits to keep, in the output's order.

    Returns
    -------
    numpy.ndarray
        Shape (..., 2**k, 2**k), k = len(keep).

    Raises
    ------
    ValueError
        If d is not a power of 2 or ``keep`` repeats or names no qubit.

    Examples
    --------
    Each half of a Bell pair is maximally mixed; keeping (1, 0) swaps the qubits:

    >>> import numpy as np
    >>> from qnet.quantum.qubits import partial_trace
    >>> from qnet.quantum.states import bell_projector
    >>> (partial_trace(bell_projector("psi+"), [0]).real.round(6) + 0.0).tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    >>> ket01 = np.diag([0.0, 1.0, 0.0, 0.0])
    >>> np.diag(partial_trace(ket01, (1, 0))).tolist()          # |01> read as |10>
    [0.0, 0.0, 1.0, 0.0]
    """
    return project_and_trace(rho, keep, None)
