"""Two-qubit states: Bell vectors, Pauli frames and fidelities.

Conventions (``docs/conventions.md``): |Phi+-> = (|00> +- |11>)/sqrt2, |Psi+-> = (|01> +- |10>)/sqrt2,
memory A is the *first* qubit. Matrices in this module use the textbook (big-endian) order:
basis index = 2*a + b for |a b>. Qiskit orders qubits little-endian; the conversion lives in
:func:`from_qiskit_order`.
"""

from __future__ import annotations

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
    """Return the Bell vector ``name`` (one of phi+, phi-, psi+, psi-)."""
    try:
        return BELL[name.lower()].copy()
    except KeyError:
        raise ValueError(f"unknown Bell state {name!r}; allowed: {sorted(BELL)}") from None


def bell_projector(name: str) -> np.ndarray:
    """Return |B><B| for the Bell state ``name`` (4x4, memory A first)."""
    v = bell_state(name)
    return np.outer(v, v.conj())


def fidelity(rho: np.ndarray, target: str | np.ndarray) -> float:
    """Fidelity <t|rho|t> of a two-qubit density matrix with a pure target (name or vector)."""
    t = bell_state(target) if isinstance(target, str) else np.asarray(target, dtype=complex)
    f = np.real(t.conj() @ rho @ t)  # a stack of states (..., 4, 4) gives an array (...,)
    return float(f) if f.ndim == 0 else f


def apply_pauli(rho: np.ndarray, pauli_a: str, pauli_b: str) -> np.ndarray:
    """Apply the Pauli correction ``pauli_a (x) pauli_b`` to a two-qubit state (A first)."""
    u = np.kron(PAULI[pauli_a], PAULI[pauli_b])
    return u @ rho @ u.conj().T


def from_qiskit_order(rho: np.ndarray, n_qubits: int, keep: tuple[int, ...]) -> np.ndarray:
    """Reduce a Qiskit (little-endian) density matrix to the qubits ``keep``, in that order.

    The result is in big-endian order: ``keep[0]`` is the most significant (first) qubit,
    so ``keep=(mem_a, mem_b)`` gives a matrix with memory A first, as everywhere in qnet.
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
    """True when ``rho`` is Hermitian, has unit trace and no eigenvalue below ``-atol``."""
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
    Hermitian and scaled to unit trace; a trace <= 0 is a ValueError.
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
    """A 4x4 state or a stack (n, 4, 4) as a stack of shape (n, 4, 4); ValueError otherwise."""
    a = np.asarray(rho)
    if a.shape[-2:] != (4, 4) or a.ndim not in (2, 3):
        raise ValueError(f"{name} must be a 4x4 density matrix or a stack of shape (n, 4, 4), got shape {a.shape}")
    return a.reshape((-1, 4, 4))


def broadcast_state_stacks(first: np.ndarray, second: np.ndarray, names: tuple[str, str] = ("rho1", "rho2")):
    """Two states or stacks as two stacks of equal length (a single state broadcasts)."""
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
