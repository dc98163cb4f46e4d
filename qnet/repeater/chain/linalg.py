"""Linear algebra of two-qubit pairs for the chain engines: storage superoperators and the swap.

States are 4x4 density matrices (memory A first) or their row-major vectorisations (16,);
a channel on a pair is a 16x16 superoperator with vec(E(rho)) = S vec(rho). The swap of two
pairs is the bilinear map ``swap_fn(left, right)`` (default :func:`qnet.repeater.swapping.swap`),
batched over stacks or extracted once as a tensor (:func:`swap_tensor`) for the exact recursions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from qnet.errors import QnetError
from qnet.quantum.channels import storage_coherence_factors, storage_kraus
from qnet.quantum.states import bell_state
from qnet.repeater.chain.model import MemoryDecay

__all__ = [
    "SwapFn",
    "PSI_PLUS",
    "superop",
    "storage_superops",
    "apply_pair",
    "pair_superop",
    "storage_superop",
    "powers_apply",
    "waiting_filter",
    "default_swap_fn",
    "swap_batch",
    "swap_tensor",
    "bilinear",
    "fidelity_rows",
]

#: A swap: ``swap_fn(rho_left, rho_right, gate_fidelity=, readout_fidelity=)`` -> the new pair.
SwapFn = Callable[..., np.ndarray]

#: The target Bell state |Psi+> of every pair in a chain (links deliver it; swaps keep it).
PSI_PLUS = bell_state("psi+")


def superop(kraus: Sequence[np.ndarray]) -> np.ndarray:
    """Superoperator of a Kraus set for row-major vec: vec(K rho K^+) = (K (x) conj K) vec(rho).

    Parameters
    ----------
    kraus : sequence of ndarray, shape (d, d)
        Kraus operators.

    Returns
    -------
    ndarray, shape (d*d, d*d)

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain.linalg import superop
    >>> superop([np.eye(2)]).shape
    (4, 4)
    """
    terms = [np.kron(k, k.conj()) for k in kraus]
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    return out


def apply_pair(rho: np.ndarray, sa: np.ndarray | None, sb: np.ndarray | None) -> np.ndarray:
    """Apply per-sample single-memory superoperators to a stack of pairs.

    Parameters
    ----------
    rho : ndarray, shape (n, 4, 4)
        Pair states, memory A first.
    sa, sb : ndarray, shape (n, 4, 4), or None
        Superoperator on memory A (resp. B) of every sample; ``None``: identity.

    Returns
    -------
    ndarray, shape (n, 4, 4)

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain.linalg import PSI_PLUS, apply_pair
    >>> rho = np.outer(PSI_PLUS, PSI_PLUS.conj())[None]
    >>> bool(np.allclose(apply_pair(rho, None, None), rho))
    True
    """
    n = rho.shape[0]
    r = rho.reshape(n, 2, 2, 2, 2)  # [n, a, b, a', b']
    if sa is not None:
        r = np.einsum("nxzac,nabcd->nxbzd", sa.reshape(n, 2, 2, 2, 2), r)
    if sb is not None:
        r = np.einsum("nywbd,nabcd->naycw", sb.reshape(n, 2, 2, 2, 2), r)
    return np.ascontiguousarray(r).reshape(n, 4, 4)


def pair_superop(sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """16x16 superoperator of (channel A on memory A) (x) (channel B on memory B), row-major vec.

    Parameters
    ----------
    sa, sb : ndarray, shape (4, 4)
        Single-memory superoperators.

    Returns
    -------
    ndarray, shape (16, 16)

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain.linalg import pair_superop
    >>> bool(np.allclose(pair_superop(np.eye(4), np.eye(4)), np.eye(16)))
    True
    """
    s = np.einsum("xzac,ywbd->xyzwabcd", sa.reshape(2, 2, 2, 2), sb.reshape(2, 2, 2, 2))
    return s.reshape(16, 16)


def storage_superop(mem: MemoryDecay, t_from_s: float, t_to_s: float) -> np.ndarray:
    """4x4 superoperator of one memory stored from age ``t_from_s`` to age ``t_to_s``.

    Parameters
    ----------
    mem : MemoryDecay
        The memory's decoherence.
    t_from_s, t_to_s : float
        Ages of the memory (s) at the start and the end of the storage
        (:func:`qnet.quantum.channels.storage_kraus`).

    Returns
    -------
    ndarray, shape (4, 4)
        The identity when the memory does not decay or ``t_to_s <= t_from_s``.

    Examples
    --------
    >>> from qnet.repeater.chain import MemoryDecay
    >>> from qnet.repeater.chain.linalg import storage_superop
    >>> s = storage_superop(MemoryDecay(t2_s=1.0), 0.0, 1.0)
    >>> round(float(abs(s[1, 1])), 6)  # coherence kept: exp(-1)
    0.367879
    """
    if not mem.decays or t_to_s <= t_from_s:
        return np.eye(4, dtype=complex)
    return superop(storage_kraus(t_from_s, t_to_s, mem.t1_s, mem.t2_s, mem.decay))


def storage_superops(mem: MemoryDecay, t_from_s: np.ndarray, t_to_s: np.ndarray) -> np.ndarray:
    """:func:`storage_superop` of many storage intervals at once, in closed form.

    Dephasing by c then amplitude damping with survival eta = exp(-dt/T1) map (row-major vec)
    rho00 -> rho00 + (1 - eta) rho11, rho01 -> sqrt(eta) c rho01, rho10 -> sqrt(eta) c rho10,
    rho11 -> eta rho11.

    Parameters
    ----------
    mem : MemoryDecay
        The memory's decoherence.
    t_from_s, t_to_s : numpy.ndarray
        Ages (s) at the start and the end of each storage (an end before its start counts as no storage).

    Returns
    -------
    numpy.ndarray, shape (n, 4, 4)

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import MemoryDecay
    >>> from qnet.repeater.chain.linalg import storage_superop, storage_superops
    >>> m = MemoryDecay(t2_s=0.3, t1_s=2.0, decay="gaussian")
    >>> s = storage_superops(m, np.array([0.0, 0.1]), np.array([0.2, 0.4]))
    >>> bool(np.allclose(s[1], storage_superop(m, 0.1, 0.4), atol=1e-15))
    True
    """
    t_from_s = np.asarray(t_from_s, dtype=float)
    t_to_s = np.maximum(np.asarray(t_to_s, dtype=float), t_from_s)
    n = t_from_s.shape[0]
    out = np.zeros((n, 4, 4), dtype=complex)
    c = storage_coherence_factors(t_from_s, t_to_s, mem.t2_s, mem.decay)
    eta = np.ones(n) if math.isinf(mem.t1_s) else np.exp(-(t_to_s - t_from_s) / mem.t1_s)
    out[:, 0, 0] = 1.0
    out[:, 0, 3] = 1.0 - eta
    out[:, 1, 1] = out[:, 2, 2] = np.sqrt(eta) * c
    out[:, 3, 3] = eta
    return out


def _eig_or_none(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Diagonalise a superop for fast powers; ``None`` if not safely diagonalisable."""
    lam, v = np.linalg.eig(d)
    if np.linalg.cond(v) > 1e8:
        return None
    vinv = np.linalg.inv(v)
    if np.abs(v @ np.diag(lam) @ vinv - d).max() > 1e-12 * max(1.0, np.abs(d).max()):
        return None
    return lam, v, vinv


def powers_apply(d: np.ndarray, x: np.ndarray, kmax: int) -> np.ndarray:
    """The powers of a superoperator applied to one vector: [d^k x for k = 0..kmax].

    Parameters
    ----------
    d : ndarray, shape (m, m)
        Superoperator (diagonalised when that is safe, else repeated products).
    x : ndarray, shape (m,)
        Vectorised state.
    kmax : int
        Highest power.

    Returns
    -------
    ndarray, shape (kmax + 1, m)

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain.linalg import powers_apply
    >>> powers_apply(0.5 * np.eye(2), np.ones(2), 2).real.round(6).tolist()
    [[1.0, 1.0], [0.5, 0.5], [0.25, 0.25]]
    """
    eig = _eig_or_none(d)
    if eig is not None:
        lam, v, vinv = eig
        c = vinv @ x
        k = np.arange(kmax + 1)[:, None]
        return (np.power(lam[None, :], k) * c[None, :]) @ v.T
    out = np.empty((kmax + 1, x.shape[0]), dtype=complex)
    out[0] = x
    for j in range(1, kmax + 1):
        out[j] = d @ out[j - 1]
    return out


def waiting_filter(d: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The earlier half's decayed mass: W[0] = 0, W[t] = d (W[t-1] + m[t-1]) = sum_{k>=1} d^k m[t-k].

    In d's eigenbasis every mode is a scalar convolution with lam^k, done with one FFT.

    Parameters
    ----------
    d : ndarray, shape (16, 16)
        One round of storage of a pair (a semigroup).
    m : ndarray, shape (n, 16)
        State-valued PMF on the round grid.

    Returns
    -------
    ndarray, shape (n, 16)

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain.linalg import waiting_filter
    >>> m = np.zeros((4, 2)); m[1] = 1.0
    >>> waiting_filter(0.5 * np.eye(2), m).real.round(6)[:, 0].tolist()
    [0.0, 0.0, 0.5, 0.25]
    """
    n = m.shape[0]
    eig = _eig_or_none(d)
    if eig is not None:
        lam, v, vinv = eig
        mt = m @ vinv.T  # modal coordinates
        k = np.arange(n, dtype=float)[:, None]
        kern = np.power(lam[None, :], k)
        kern[0] = 0.0
        size = 1 << int(math.ceil(math.log2(2 * n)))
        wt = np.fft.ifft(np.fft.fft(mt, size, axis=0) * np.fft.fft(kern, size, axis=0), axis=0)[:n]
        return wt @ v.T
    w = np.zeros_like(m)
    for t in range(1, n):
        w[t] = d @ (w[t - 1] + m[t - 1])
    return w


def default_swap_fn() -> SwapFn:
    """The default swap, :func:`qnet.repeater.swapping.swap` (imported on first use).

    Returns
    -------
    callable

    Examples
    --------
    >>> from qnet.repeater.chain.linalg import default_swap_fn
    >>> default_swap_fn().__name__
    'swap'
    """
    from qnet.repeater.swapping import swap

    return swap


def swap_batch(swap_fn: SwapFn, left: np.ndarray, right: np.ndarray, g: float, r: float) -> np.ndarray:
    """Swap two stacks of pairs through ``swap_fn``, one call per pair if it cannot batch.

    Parameters
    ----------
    swap_fn : callable
        ``swap_fn(left, right, gate_fidelity=, readout_fidelity=)``.
    left, right : ndarray, shape (n, 4, 4)
        The pairs to the left and to the right of the repeater.
    g, r : float
        The repeater's gate and readout fidelities.

    Returns
    -------
    ndarray, shape (n, 4, 4)

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain.linalg import PSI_PLUS, fidelity_rows, swap_batch
    >>> pairs = np.repeat(np.outer(PSI_PLUS, PSI_PLUS.conj())[None], 2, axis=0)
    >>> fake = lambda a, b, gate_fidelity, readout_fidelity: a  # keeps the left pair
    >>> fidelity_rows(swap_batch(fake, pairs, pairs, 1.0, 1.0)).round(6).tolist()
    [1.0, 1.0]
    """
    out = None
    try:
        out = np.asarray(swap_fn(left, right, gate_fidelity=g, readout_fidelity=r))
    except (TypeError, ValueError):
        out = None
    if out is None or out.shape != left.shape:
        out = np.stack([np.asarray(swap_fn(a, b, gate_fidelity=g, readout_fidelity=r)) for a, b in zip(left, right)])
    return out


def _product_basis() -> np.ndarray:
    """16 physical product states that span the 4x4 matrices (tomographically complete)."""
    s = 1 / math.sqrt(2)
    kets = [np.array([1, 0]), np.array([0, 1]), np.array([s, s]), np.array([s, 1j * s])]
    singles = [np.outer(k, k.conj()).astype(complex) for k in kets]
    return np.array([np.kron(a, b) for a in singles for b in singles])


def swap_tensor(swap_fn: SwapFn, g: float, r: float) -> np.ndarray:
    """Bilinear tensor T with vec(swap(X, Y)) = T[o,u,v] vec(X)_u vec(Y)_v, extracted from ``swap_fn``.

    Evaluates ``swap_fn`` on the 256 products of a basis of physical states, so it works for any
    swap that is a quantum channel on the two pairs (linear), and then checks the tensor against
    ``swap_fn`` on random states.

    Parameters
    ----------
    swap_fn : callable
        ``swap_fn(left, right, gate_fidelity=, readout_fidelity=)``.
    g, r : float
        Gate and readout fidelities passed to it.

    Returns
    -------
    ndarray, shape (16, 16, 16)

    Raises
    ------
    QnetError
        ``swap_fn`` is not linear in each pair.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain.linalg import bilinear, swap_tensor
    >>> keep_left = lambda a, b, gate_fidelity, readout_fidelity: a * np.trace(b, axis1=-2, axis2=-1)[..., None, None]
    >>> t = swap_tensor(keep_left, 1.0, 1.0)
    >>> x = np.eye(4).ravel()[None] / 4
    >>> bool(np.allclose(bilinear(t, x, x), x))
    True
    """
    basis = _product_basis()
    left = np.repeat(basis, 16, axis=0)
    right = np.tile(basis, (16, 1, 1))
    out = swap_batch(swap_fn, left, right, g, r).reshape(16, 16, 16)  # [i, j, o]
    vinv = np.linalg.inv(basis.reshape(16, 16).T)  # coefficients of vec(X) in the basis
    t = np.einsum("ijo,iu,jv->ouv", out, vinv, vinv)
    rng = np.random.default_rng(12345)
    tests = []
    for _ in range(2):
        gm = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        x = gm @ gm.conj().T
        tests.append(x / np.trace(x))
    direct = swap_batch(swap_fn, np.array(tests[:1]), np.array(tests[1:]), g, r)[0]
    via = np.einsum("ouv,u,v->o", t, tests[0].ravel(), tests[1].ravel()).reshape(4, 4)
    if np.abs(direct - via).max() > 1e-9:
        raise QnetError("swap_fn is not linear in each input pair; exact mode needs a quantum-channel swap")
    return t


def bilinear(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rows of B(x, y) = T[o,u,v] x_u y_v for stacks of vectorised pairs.

    Parameters
    ----------
    t : ndarray, shape (16, 16, 16)
        A swap tensor (:func:`swap_tensor`).
    x, y : ndarray, shape (n, 16)
        Left and right pairs, vectorised.

    Returns
    -------
    ndarray, shape (n, 16)

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain.linalg import bilinear
    >>> t = np.zeros((16, 16, 16)); t[0, 0, 0] = 1.0
    >>> bilinear(t, np.ones((1, 16)), 2 * np.ones((1, 16)))[0, :2].tolist()
    [2.0, 0.0]
    """
    tx = (x @ t.transpose(1, 0, 2).reshape(16, 256)).reshape(-1, 16, 16)  # [n, o, v]
    return np.matmul(tx, y[:, :, None])[:, :, 0]


def fidelity_rows(rho: np.ndarray) -> np.ndarray:
    """<Psi+|rho|Psi+> of every state of a stack.

    Parameters
    ----------
    rho : ndarray, shape (n, 4, 4)

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain.linalg import fidelity_rows
    >>> fidelity_rows(np.eye(4)[None] / 4).round(6).tolist()
    [0.25]
    """
    v = PSI_PLUS
    return np.real(np.einsum("i,nij,j->n", v.conj(), rho, v))
