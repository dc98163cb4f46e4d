"""Two-qubit states: Bell vectors, Pauli frames and fidelities.

Conventions (``docs/conventions.md``): |Phi+-> = (|00> +- |11>)/sqrt2, |Psi+-> = (|01> +- |10>)/sqrt2,
memory A is the *first* qubit. Matrices in this module use the textbook (big-endian) order:
basis index = 2*a + b for |a b>. Qiskit orders qubits little-endian; the conversion lives in
:func:`from_qiskit_order`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "BELL",
    "PAULI",
    "bell_state",
    "bell_projector",
    "fidelity",
    "apply_pauli",
    "from_qiskit_order",
    "is_physical",
    "nearest_physical_state",
    "as_state_stack",
    "broadcast_state_stacks",
]

_S = 1.0 / np.sqrt(2.0)

#: Bell vectors in the |a b> basis (index 2a + b), memory A first.
BELL: dict[str, np.ndarray] = {
    "phi+": np.array([_S, 0, 0, _S], dtype=complex),
    "phi-": np.array([_S, 0, 0, -_S], dtype=complex),
    "psi+": np.array([0, _S, _S, 0], dtype=complex),
    "psi-": np.array([0, _S, -_S, 0], dtype=complex),
}

#: Single-qubit Pauli matrices.
PAULI: dict[str, np.ndarray] = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}


def bell_state(name: str) -> np.ndarray:
    """Return the Bell vector ``name`` in the |a b> basis, memory A first.

    Parameters
    ----------
    name : str
        One of ``"phi+"``, ``"phi-"``, ``"psi+"``, ``"psi-"`` (case-insensitive).

    Returns
    -------
    numpy.ndarray
        A fresh complex vector of length 4 (index 2a + b), unit norm.

    Raises
    ------
    ValueError
        If ``name`` is not a Bell state.

    Examples
    --------
    >>> from qnet.quantum.states import bell_state
    >>> v = bell_state("psi+")          # (|01> + |10>)/sqrt2
    >>> (v.real.round(6) + 0.0).tolist()
    [0.0, 0.707107, 0.707107, 0.0]
    >>> round(float(abs(v @ bell_state("psi-"))), 6)    # Bell states are orthogonal
    0.0
    """
    try:
        return BELL[name.lower()].copy()
    except KeyError:
        raise ValueError(f"unknown Bell state {name!r}; allowed: {sorted(BELL)}") from None


def bell_projector(name: str) -> np.ndarray:
    """Return the projector |B><B| onto the Bell state ``name``.

    Parameters
    ----------
    name : str
        One of ``"phi+"``, ``"phi-"``, ``"psi+"``, ``"psi-"`` (case-insensitive).

    Returns
    -------
    numpy.ndarray
        The 4x4 complex density matrix of the pure Bell state, memory A first.

    Raises
    ------
    ValueError
        If ``name`` is not a Bell state.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import bell_projector
    >>> p = bell_projector("phi+")
    >>> round(float(np.trace(p).real), 6), round(float(np.trace(p @ p).real), 6)   # a pure state
    (1.0, 1.0)
    >>> round(float(p[0, 3].real), 6)          # coherence between |00> and |11>
    0.5
    """
    v = bell_state(name)
    return np.outer(v, v.conj())


def fidelity(rho: np.ndarray, target: str | np.ndarray) -> float:
    """Fidelity <t|rho|t> of a two-qubit density matrix with a pure target state.

    Parameters
    ----------
    rho : numpy.ndarray
        4x4 density matrix, memory A first.
    target : str or numpy.ndarray
        A Bell-state name (see :func:`bell_state`) or a normalised state vector of length 4.

    Returns
    -------
    float
        The overlap <t|rho|t>, in [0, 1] for a physical ``rho``.

    Raises
    ------
    ValueError
        If ``target`` is a string that names no Bell state.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import bell_projector, fidelity
    >>> round(fidelity(bell_projector("psi+"), "psi+"), 6)
    1.0
    >>> werner = 0.8 * bell_projector("psi+") + 0.2 * np.eye(4) / 4   # F = 0.8 + 0.2/4
    >>> round(fidelity(werner, "psi+"), 6), round(fidelity(werner, "phi+"), 6)
    (0.85, 0.05)
    """
    terms = _bell_terms(target) if isinstance(target, str) else _overlap_terms(np.asarray(target, dtype=complex))
    rho = np.asarray(rho)
    # the sum over the non-zero w_ij = conj(t_i) t_j of Re(w_ij rho_ij) = Re w Re rho - Im w Im rho,
    # one real operation at a time in one fixed order: a state gives the same bits alone or in a
    # stack of any size, on any machine (a matrix product's rounding depends on the stack; a
    # complex product's on the CPU's fused multiply-adds), so a link's figures do not depend on
    # how a sweep chunks its points
    f: Any = 0.0
    for i, j, re, im in terms:
        x = rho[..., i, j]
        f = f + (re * x.real if not im else re * x.real - im * x.imag)
    return float(f) if np.ndim(f) == 0 else f


def _overlap_terms(t: np.ndarray) -> tuple[tuple[int, int, float, float], ...]:
    """(i, j, Re w_ij, Im w_ij) of the non-zero w_ij = conj(t_i) t_j, in row order."""
    w = np.outer(t.conj(), t)
    return tuple((int(i), int(j), float(w.real[i, j]), float(w.imag[i, j])) for i, j in zip(*np.nonzero(w)))


@lru_cache(maxsize=None)
def _bell_terms(name: str) -> tuple[tuple[int, int, float, float], ...]:
    """:func:`_overlap_terms` of a Bell state, once per name (raises ValueError for an unknown one)."""
    return _overlap_terms(bell_state(name))


def apply_pauli(rho: np.ndarray, pauli_a: str, pauli_b: str) -> np.ndarray:
    """Apply the Pauli correction ``pauli_a (x) pauli_b`` to a two-qubit state (A first).

    Parameters
    ----------
    rho : numpy.ndarray
        4x4 density matrix, memory A first.
    pauli_a, pauli_b : str
        Keys of :data:`PAULI` (``"I"``, ``"X"``, ``"Y"``, ``"Z"``) applied to memory A and B.

    Returns
    -------
    numpy.ndarray
        U rho U^dagger with U = pauli_a (x) pauli_b.

    Raises
    ------
    KeyError
        If a Pauli name is not a key of :data:`PAULI`.

    Examples
    --------
    Z on memory A turns |Psi+> into |Psi->, X on memory B turns it into |Phi+>:

    >>> from qnet.quantum.states import apply_pauli, bell_projector, fidelity
    >>> psi = bell_projector("psi+")
    >>> round(fidelity(apply_pauli(psi, "Z", "I"), "psi-"), 6)
    1.0
    >>> round(fidelity(apply_pauli(psi, "I", "X"), "phi+"), 6)
    1.0
    """
    u = np.kron(PAULI[pauli_a], PAULI[pauli_b])
    return u @ rho @ u.conj().T


def from_qiskit_order(rho: np.ndarray, n_qubits: int, keep: tuple[int, ...]) -> np.ndarray:
    """Reduce a Qiskit (little-endian) density matrix to the qubits ``keep``, in that order.

    The result is in big-endian order: ``keep[0]`` is the most significant (first) qubit,
    so ``keep=(mem_a, mem_b)`` gives a matrix with memory A first, as everywhere in qnet.

    Parameters
    ----------
    rho : numpy.ndarray
        Density matrix of ``n_qubits`` qubits in Qiskit's order (basis index sum_q b_q 2**q),
        of shape (2**n_qubits, 2**n_qubits).
    n_qubits : int
        Number of qubits of ``rho``.
    keep : tuple of int
        Qiskit indices of the qubits to keep, in the order wanted (first = most significant).
        The others are traced out.

    Returns
    -------
    numpy.ndarray
        The reduced density matrix of shape (2**len(keep), 2**len(keep)).

    Examples
    --------
    Qubit 0 in |1> and qubit 1 in |0>: Qiskit's basis index is 1; keeping (0, 1) in
    qnet's order gives |10>, basis index 2:

    >>> import numpy as np
    >>> from qnet.quantum.states import from_qiskit_order
    >>> rho = np.zeros((4, 4)); rho[1, 1] = 1.0
    >>> np.diag(from_qiskit_order(rho, 2, (0, 1))).real.tolist()
    [0.0, 0.0, 1.0, 0.0]
    >>> np.diag(from_qiskit_order(rho, 2, (0,))).real.tolist()   # qubit 0 alone is |1>
    [0.0, 1.0]
    """
    r = np.asarray(rho).reshape((2,) * (2 * n_qubits))
    # axis k of the first half is qubit n-1-k (Qiskit little-endian)
    axes_row = [n_qubits - 1 - q for q in keep]
    traced = [n_qubits - 1 - q for q in range(n_qubits) if q not in keep]
    perm = axes_row + traced + [n_qubits + a for a in axes_row] + [n_qubits + a for a in traced]
    r = np.transpose(r, perm)
    k, t = len(keep), n_qubits - len(keep)
    r = r.reshape(2**k, 2**t, 2**k, 2**t)
    return np.einsum("ajbj->ab", r)


def is_physical(rho: np.ndarray, atol: float = 1e-9) -> bool:
    """True when ``rho`` is Hermitian, has unit trace and no eigenvalue below ``-atol``.

    Parameters
    ----------
    rho : numpy.ndarray
        Square matrix to check.
    atol : float, optional
        Absolute tolerance of the three checks (default 1e-9).

    Returns
    -------
    bool
        False also when ``rho`` holds a NaN or an infinity.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import is_physical
    >>> is_physical(np.eye(4) / 4)
    True
    >>> is_physical(np.diag([1.2, -0.2, 0.0, 0.0]))       # unit trace, negative eigenvalue
    False
    """
    rho = np.asarray(rho)
    if not np.all(np.isfinite(rho)):
        return False
    if not np.allclose(rho, rho.conj().T, atol=atol):
        return False
    if abs(np.trace(rho).real - 1.0) > atol:
        return False
    return bool(np.linalg.eigvalsh((rho + rho.conj().T) / 2).min() >= -atol)


def nearest_physical_state(rho: np.ndarray) -> np.ndarray:
    """The density matrix nearest to ``rho`` (Frobenius norm): Hermitian, PSD, trace 1.

    For an estimate with unit trace and some negative eigenvalues (e.g. linear-inversion
    tomography), the Smolin-Gambetta-Smith projection (PRL 108, 070502 (2012)): keep the
    eigenvectors, zero the most negative eigenvalues one by one while spreading their weight
    evenly over the rest, until the remaining ones are all >= 0. ``rho`` is first made
    Hermitian and scaled to unit trace.

    Parameters
    ----------
    rho : numpy.ndarray
        Square matrix with a positive trace (e.g. a tomography estimate).

    Returns
    -------
    numpy.ndarray
        A physical density matrix (:func:`is_physical`) of the same shape.

    Raises
    ------
    ValueError
        If the trace of ``rho`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import nearest_physical_state
    >>> sigma = nearest_physical_state(np.diag([0.7, 0.4, 0.0, -0.1]))
    >>> (np.diag(sigma).real.round(6) + 0.0).tolist()   # -0.1 spread over the rest, then 0 clipped
    [0.65, 0.35, 0.0, 0.0]
    """
    h = (np.asarray(rho) + np.asarray(rho).conj().T) / 2
    trace = np.trace(h).real
    if not trace > 0:
        raise ValueError(f"cannot normalise a matrix of trace {trace:.3g} to a state")
    vals, vecs = np.linalg.eigh(h / trace)  # ascending
    lam, spill, n = vals.copy(), 0.0, len(vals)
    for i in range(n):
        if lam[i] + spill / (n - i) >= 0:
            lam[i:] += spill / (n - i)
            break
        spill += lam[i]
        lam[i] = 0.0
    return (vecs * lam) @ vecs.conj().T


def as_state_stack(rho: np.ndarray, name: str = "rho") -> np.ndarray:
    """A 4x4 state or a stack (n, 4, 4) as a stack of shape (n, 4, 4).

    Parameters
    ----------
    rho : numpy.ndarray
        One two-qubit density matrix (4, 4) or a stack of them (n, 4, 4).
    name : str, optional
        What the error message calls ``rho``.

    Returns
    -------
    numpy.ndarray
        A view of ``rho`` with shape (n, 4, 4); n = 1 for a single state.

    Raises
    ------
    ValueError
        If ``rho`` has any other shape.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import as_state_stack
    >>> as_state_stack(np.eye(4) / 4).shape
    (1, 4, 4)
    >>> as_state_stack(np.zeros((3, 4, 4))).shape
    (3, 4, 4)
    """
    a = np.asarray(rho)
    if a.shape[-2:] != (4, 4) or a.ndim not in (2, 3):
        raise ValueError(f"{name} must be a 4x4 density matrix or a stack of shape (n, 4, 4), got shape {a.shape}")
    return a.reshape((-1, 4, 4))


def broadcast_state_stacks(first: np.ndarray, second: np.ndarray, names: tuple[str, str] = ("rho1", "rho2")):
    """Two states or stacks as two stacks of equal length (a single state broadcasts).

    Parameters
    ----------
    first, second : numpy.ndarray
        Each a 4x4 density matrix or a stack (n, 4, 4).
    names : tuple of str, optional
        What error messages call the two arguments.

    Returns
    -------
    tuple of numpy.ndarray
        Two arrays of the same shape (n, 4, 4); a stack of one is broadcast (read-only view).

    Raises
    ------
    ValueError
        If a shape is not (4, 4) or (n, 4, 4), or the stacks have different lengths above 1.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import broadcast_state_stacks
    >>> a, b = broadcast_state_stacks(np.eye(4) / 4, np.zeros((5, 4, 4)))
    >>> a.shape, b.shape
    ((5, 4, 4), (5, 4, 4))
    """
    a = as_state_stack(first, names[0])
    b = as_state_stack(second, names[1])
    if len(a) != len(b):
        if len(a) == 1:
            a = np.broadcast_to(a, b.shape)
        elif len(b) == 1:
            b = np.broadcast_to(b, a.shape)
        else:
            raise ValueError(f"stacks of different lengths: {len(a)} and {len(b)}")
    return a, b
