"""The heralding station as a quantum instrument on the photonic qubits.

The photons meet on a 50:50 beamsplitter (``a -> (c + d)/sqrt2``, ``b -> (c - d)/sqrt2``;
for ``two_photon`` a polarising splitter follows on each output) and threshold detectors
click when at least one photon arrives or a dark count happens (probability
``dark_count_probability`` per detector per window, independently). The instrument is derived
from first-principles linear optics in Fock space, so two photons that bunch
(Hong–Ou–Mandel) give a single click, and partially distinguishable photons are modelled
with an internal mode: photon A = o |psi> + sqrt(1 - o^2) |psi_perp>, photon B = |psi>.

``visibility`` V is the visibility of the scheme's own interference and multiplies the
heralded |Psi> coherence by V in both schemes (``docs/conventions.md``): first-order
(single-photon) interference for ``single_click`` (mode overlap o = V; the two-photon term
then bunches with probability (1 + V^2)/2), two-photon (HOM) interference for
``two_photon`` (o = sqrt(V)).

Photonic qubits (Qiskit order, qubit j of the instruction = bit j of the index):

* ``single_click``: [photon A, photon B], occupation 0/1; detectors [c, d];
* ``two_photon``: [A_H, A_V, B_H, B_V], dual-rail occupations; detectors [c_H, c_V, d_H, d_V].

The instrument is written as a trace-preserving Kraus channel of operators K = |o><r| that
replace the photonic state by the click record ``o`` (same qubits), with sum of r^dagger r over
the operators of ``o`` equal to E_o, the POVM element of observing pattern ``o``. The memories'
state conditioned on ``o`` is then the block of the density matrix with record ``o``. The rows
r are canonical (:func:`canonical_factor`): fixed order and phases, independent of any
eigen-decomposition, so compiled circuits agree entry by entry across machines.

The ``two_photon`` instrument factorises (:func:`station_factors`): the polarising splitters
send H photons only to H detectors and V photons only to V detectors, so the H modes
(A_H, B_H -> c_H, d_H) and the V modes form two independent ``single_click`` stations, and the
internal-mode overlap o = sqrt(V) of photon A enters each as it enters the whole (a coherence
between |A_H B_V> and |A_V B_H> picks up o from each polarisation, o^2 = V in all). Dark counts
are independent per detector. Compiled circuits therefore carry it as two 2-qubit ``kraus``
instructions of 13 operators each instead of one 4-qubit instruction of 169 (the same channel;
``tests/link/test_station_superop.py`` proves it): Aer turns every ``kraus`` instruction into a
superoperator at each run, which cost ~50 ms per circuit for the 4-qubit form and ~0.3 ms now.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "Herald",
    "HERALDS",
    "TARGET",
    "station_povm",
    "station_kraus",
    "station_superop",
    "station_factors",
    "canonical_factor",
    "N_PHOTON_QUBITS",
]

#: The Bell state every link delivers after its Pauli-frame correction (the heralds' corrections map to it).
TARGET = "psi+"


@dataclass(frozen=True)
class Herald:
    """A click pattern that heralds a Bell state, and the Pauli correction to |Psi+>.

    Parameters
    ----------
    clicks : tuple of int
        One bit per detector, in detector order.
    detectors : tuple of str
        Names of the clicking detectors.
    heralded_state : str
        The Bell state heralded in the ideal case.
    correction : tuple of str
        Pauli on (memory A, memory B) that maps it to |Psi+>.

    Examples
    --------
    >>> HERALDS["single_click"][1]
    Herald(clicks=(0, 1), detectors=('d',), heralded_state='psi-', correction=('Z', 'I'))
    """

    clicks: tuple[int, ...]  # one bit per detector, in detector order
    detectors: tuple[str, ...]  # names of the clicking detectors
    heralded_state: str  # Bell state heralded in the ideal case
    correction: tuple[str, str]  # Pauli on (memory A, memory B) that maps it to |Psi+>


#: The heralds of each scheme, in click-record order.
HERALDS: dict[str, tuple[Herald, ...]] = {
    "single_click": (
        Herald((1, 0), ("c",), "psi+", ("I", "I")),
        Herald((0, 1), ("d",), "psi-", ("Z", "I")),
    ),
    "two_photon": (
        Herald((1, 1, 0, 0), ("c_H", "c_V"), "psi+", ("I", "I")),
        Herald((0, 0, 1, 1), ("d_H", "d_V"), "psi+", ("I", "I")),
        Herald((1, 0, 0, 1), ("c_H", "d_V"), "psi-", ("Z", "I")),
        Herald((0, 1, 1, 0), ("c_V", "d_H"), "psi-", ("Z", "I")),
    ),
}

# input photon qubits -> (arm, polarisation); output detectors -> (port, polarisation)
_INPUTS = {"single_click": (("a", "H"), ("b", "H")), "two_photon": (("a", "H"), ("a", "V"), ("b", "H"), ("b", "V"))}
_DETECTORS = {"single_click": (("c", "H"), ("d", "H")), "two_photon": (("c", "H"), ("c", "V"), ("d", "H"), ("d", "V"))}
#: Photonic qubits of each scheme's station instrument (one per input mode).
N_PHOTON_QUBITS = {scheme: len(inputs) for scheme, inputs in _INPUTS.items()}


def _output_amplitudes(scheme: str, photons: list[tuple[str, str]], overlap: float) -> dict[tuple, complex]:
    """Fock amplitudes of the output modes (port, pol, internal) for the given input photons."""
    s = 1.0 / math.sqrt(2.0)
    perp = math.sqrt(max(0.0, 1.0 - overlap * overlap))
    per_photon = []
    for arm, pol in photons:
        internal = [("psi", overlap), ("perp", perp)] if arm == "a" else [("psi", 1.0)]
        sign_d = 1.0 if arm == "a" else -1.0
        terms = []
        for inner, amp in internal:
            if amp == 0.0:
                continue
            terms.append((("c", pol, inner), amp * s))
            terms.append((("d", pol, inner), amp * s * sign_d))
        per_photon.append(terms)
    out: dict[tuple, complex] = {}
    for choice in itertools.product(*per_photon):
        amp = 1.0
        modes = []
        for mode, a in choice:
            amp *= a
            modes.append(mode)
        key = tuple(sorted(modes))
        out[key] = out.get(key, 0.0) + amp
    # prod a^dagger |0> = prod_m sqrt(n_m!) |n>
    for key in out:
        norm = 1.0
        for mode in set(key):
            norm *= math.sqrt(math.factorial(key.count(mode)))
        out[key] *= norm
    return out


def _fock_amplitudes(scheme: str, visibility: float) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """The linear-optics map and the click pattern of each output Fock state.

    Returns ``(amp, clicks)``: ``amp[i, x]`` is the amplitude of output Fock state ``i`` for input
    basis state ``x`` (Qiskit index of the photonic qubits), rows in the sorted order of the Fock
    states; ``clicks[i]`` the detectors that state fires (no dark counts). Pure Python
    arithmetic: the same numbers on every machine.
    """
    if scheme not in _INPUTS:
        raise ValueError(f"unknown scheme {scheme!r}; allowed: {sorted(_INPUTS)}")
    inputs, detectors = _INPUTS[scheme], _DETECTORS[scheme]
    n = len(inputs)
    overlap = visibility if scheme == "single_click" else math.sqrt(visibility)
    columns: dict[int, dict[tuple, complex]] = {}
    for index in range(2**n):
        photons = [inputs[j] for j in range(n) if (index >> j) & 1]
        columns[index] = _output_amplitudes(scheme, photons, overlap)
    fock_states = sorted({key for col in columns.values() for key in col})
    amp = np.zeros((len(fock_states), 2**n), dtype=complex)
    for i, key in enumerate(fock_states):
        for index, col in columns.items():
            amp[i, index] = col.get(key, 0.0)
    clicks = [tuple(int(any((m[0], m[1]) == det for m in key)) for det in detectors) for key in fock_states]
    return amp, clicks


@lru_cache(maxsize=256)
def station_povm(scheme: str, visibility: float, dark_count_probability: float) -> dict[tuple[int, ...], np.ndarray]:
    """POVM elements E_o on the photonic qubits for every observed click pattern ``o``.

    Parameters
    ----------
    scheme : str
        ``"single_click"`` or ``"two_photon"``.
    visibility : float
        Visibility of the scheme's interference, in [0, 1].
    dark_count_probability : float
        Dark-count probability per detector per window.

    Returns
    -------
    dict
        Click pattern (one bit per detector) -> its POVM element (2^m x 2^m, m photonic qubits).
        The elements sum to the identity.

    Raises
    ------
    ValueError
        For an unknown scheme.

    Examples
    --------
    >>> import numpy as np
    >>> povm = station_povm("single_click", 0.97, 1e-6)
    >>> sorted(povm), bool(np.allclose(sum(povm.values()), np.eye(4), atol=1e-12))
    ([(0, 0), (0, 1), (1, 0), (1, 1)], True)
    """
    amp, real_clicks = _fock_amplitudes(scheme, visibility)
    n_det = len(_DETECTORS[scheme])
    p = dark_count_probability
    povm = {o: np.zeros((amp.shape[1],) * 2, dtype=complex) for o in itertools.product((0, 1), repeat=n_det)}
    for i, clicks in enumerate(real_clicks):
        outer = np.outer(amp[i].conj(), amp[i])
        for dark in itertools.product((0, 1), repeat=n_det):
            weight = math.prod(p if d else 1.0 - p for d in dark)
            if weight == 0.0:
                continue
            observed = tuple(c | d for c, d in zip(clicks, dark))
            povm[observed] += weight * outer
    return povm


#: Relative residual column norm below which :func:`canonical_factor` stops.
FACTOR_RTOL = 1e-13
_PIVOT_SLACK = 1e-6  # a column within this relative margin of the largest norm counts as a tie


def canonical_factor(rows: np.ndarray, rtol: float = FACTOR_RTOL) -> np.ndarray:
    """The canonical factor R of the PSD matrix E = A^dagger A given by any factor A (``rows``).

    R (r x d) satisfies R^dagger R = E and is the R of a column-pivoted QR of A: row k has a
    real positive entry at its pivot column p_k and zeros at the earlier pivots
    p_0..p_{k-1}; the pivot is the lowest-index column whose residual norm is within a
    relative 1e-6 of the largest. R depends on E alone, not on which factor A is given:
    R_k = S_k[p_k, :] / sqrt(S_k[p_k, p_k]) with S_k the Schur complement of E after k steps
    (pivoted Cholesky), and the pivots are read off the diagonals of S_k. So factors U A
    (U an isometry) and A, e.g. eigen-decompositions that differ in the signs, phases or
    order of degenerate eigenvectors, give the same R to rounding.

    The elimination is modified Gram-Schmidt with one reorthogonalisation, in elementwise
    numpy (no LAPACK, so its error is a few eps times the column norms). It stops when every
    residual column norm is <= ``rtol`` times the largest column norm of A; the dropped part
    of E then has trace <= d (rtol |A|)^2 (1.6e-25 for the station's O(1) amplitudes).

    Parameters
    ----------
    rows : array_like
        Any factor A (n x d, complex) of E = A^dagger A.
    rtol : float, default FACTOR_RTOL
        Relative residual norm at which the elimination stops.

    Returns
    -------
    numpy.ndarray
        R (rank x d).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[1, 1j], [0, 1]])
    >>> r = canonical_factor(a)
    >>> bool(np.allclose(r.conj().T @ r, a.conj().T @ a)), round(float(r[0, 1].real), 6)
    (True, 1.414214)
    >>> swap_and_phase = 1j * np.array([[0, 1], [1, 0]])  # another factor of the same E
    >>> bool(np.allclose(canonical_factor(swap_and_phase @ a), r))
    True
    """
    res = np.array(rows, dtype=complex)
    d = res.shape[1]
    norms2 = np.sum(res.real**2 + res.imag**2, axis=0)
    tol2 = (rtol * rtol) * float(norms2.max()) if norms2.size else 0.0
    basis = np.zeros((d, res.shape[0]), dtype=complex)  # orthonormal directions found so far
    out = np.zeros((d, d), dtype=complex)
    pivots: list[int] = []
    for k in range(d):
        norms2 = np.sum(res.real**2 + res.imag**2, axis=0)
        norms2[pivots] = 0.0
        top = float(norms2.max())
        if top <= tol2 or top == 0.0:
            break
        p = int(np.flatnonzero(norms2 >= (1.0 - _PIVOT_SLACK) * top)[0])
        q = res[:, p] - np.sum(
            np.sum(basis[:k].conj() * res[:, p], axis=1)[:, None] * basis[:k], axis=0
        )  # reorthogonalise
        norm = math.sqrt(float(np.sum(q.real**2 + q.imag**2)))
        q /= norm
        row = np.sum(q.conj()[:, None] * res, axis=0)
        row[pivots] = 0.0
        row[p] = norm
        res -= q[:, None] * row[None, :]
        res[:, p] = 0.0
        basis[k] = q
        pivots.append(p)
        out[k] = row
    return out[: len(pivots)]


def _dark_weight(real: tuple[int, ...], observed: tuple[int, ...], p: float) -> float:
    """Probability that dark counts (p per detector) turn real click pattern ``real`` into ``observed``.

    Every detector in ``observed`` but not in ``real`` has a dark count, every detector
    outside ``observed`` has none, and the ones that click anyway may or may not:
    p^|observed - real| (1 - p)^(detectors - |observed|), or 0 if ``real`` is not within
    ``observed``.
    """
    if any(r > o for r, o in zip(real, observed)):
        return 0.0
    return p ** sum(o - r for r, o in zip(real, observed)) * (1.0 - p) ** (len(observed) - sum(observed))


@lru_cache(maxsize=256)
def station_kraus(scheme: str, visibility: float, dark_count_probability: float) -> tuple[np.ndarray, ...]:
    """Kraus operators |o><r| of the station instrument, in a canonical order and phase.

    With no dark counts the POVM element of click pattern ``c`` is Pi_c = A_c^dagger A_c, A_c the
    rows of the linear-optics map that fire exactly ``c``. With dark counts (probability p per
    detector, independently) pattern ``o`` is observed from every real pattern c within o,
    E_o = sum_c W(c, o) Pi_c (:func:`_dark_weight`). The rows r of pattern ``o`` are the
    canonical factor (:func:`canonical_factor`) of E_o, computed from the stacked rows
    sqrt(W) A_c (so dark-count weights far below the double-precision epsilon keep their
    relative precision): a fixed order (patterns ``o`` in binary counting, then pivot order)
    and phase (each row's pivot entry real positive). No eigen-decomposition is involved: the
    list is a function of the instrument alone, the same to rounding on every LAPACK build.
    Linear optics conserves photon number, so every row lies in one photon-number sector and
    is exactly zero outside it (products with exact zeros): a photonic state with no
    amplitude that can fire pattern ``o`` gets probability exactly 0 for it, not rounding noise.

    Parameters
    ----------
    scheme : str
        ``"single_click"`` or ``"two_photon"``.
    visibility : float
        Visibility of the scheme's interference, in [0, 1].
    dark_count_probability : float
        Dark-count probability per detector per window.

    Returns
    -------
    tuple of numpy.ndarray
        The Kraus operators (2^m x 2^m each, m photonic qubits); trace preserving.

    Raises
    ------
    ValueError
        For an unknown scheme.

    Examples
    --------
    >>> import numpy as np
    >>> ops = station_kraus("single_click", 0.97, 1e-6)
    >>> len(ops), ops[0].shape, bool(np.allclose(sum(k.conj().T @ k for k in ops), np.eye(4), atol=1e-12))
    (13, (4, 4), True)
    """
    amp, real_clicks = _fock_amplitudes(scheme, visibility)
    dim = amp.shape[1]
    patterns = list(itertools.product((0, 1), repeat=len(_DETECTORS[scheme])))
    rows = {
        c: canonical_factor(amp[[i for i, k in enumerate(real_clicks) if k == c]].reshape(-1, dim)) for c in patterns
    }
    ops = []
    for o in patterns:
        weights = {c: _dark_weight(c, o, dark_count_probability) for c in patterns}
        stack = [math.sqrt(w) * rows[c] for c, w in weights.items() if w > 0.0 and len(rows[c])]
        if not stack:
            continue
        out_index = sum(bit << j for j, bit in enumerate(o))
        # one block: sqrt(W) R_c is already the canonical factor of W Pi_c
        for row in stack[0] if len(stack) == 1 else canonical_factor(np.vstack(stack)):
            k = np.zeros((dim, dim), dtype=complex)
            k[out_index, :] = row
            ops.append(k)
    return tuple(ops)


@lru_cache(maxsize=256)
def station_superop(scheme: str, visibility: float, dark_count_probability: float) -> np.ndarray:
    """The station instrument as one superoperator, in Qiskit's ``SuperOp`` convention.

    S = sum_K conj(K) (x) K over :func:`station_kraus`'s operators, so that
    vec(E(rho)) = S vec(rho) with column-stacking ``vec`` (``qiskit.quantum_info.SuperOp``,
    and Aer's ``superop`` instruction). Unlike a Kraus list, S is unique to the channel. Formed
    with elementwise products and sums in a fixed order (no BLAS): the same bits on every machine.

    Parameters
    ----------
    scheme : str
        ``"single_click"`` or ``"two_photon"``.
    visibility : float
        Visibility of the scheme's interference, in [0, 1].
    dark_count_probability : float
        Dark-count probability per detector per window.

    Returns
    -------
    numpy.ndarray
        (4^m, 4^m) complex, m photonic qubits; read-only (cached).

    Raises
    ------
    ValueError
        For an unknown scheme.

    Examples
    --------
    >>> import numpy as np
    >>> s = station_superop("two_photon", 0.84, 6e-5)
    >>> ops = station_kraus("two_photon", 0.84, 6e-5)
    >>> s.shape, bool(np.allclose(s, sum(np.kron(k.conj(), k) for k in ops), atol=1e-15))
    ((256, 256), True)
    """
    ops = station_kraus(scheme, visibility, dark_count_probability)
    d = ops[0].shape[0]
    s = np.zeros((d, d, d, d), dtype=complex)  # [c, r, b, a] = conj(K[c, b]) K[r, a]
    for k in ops:
        s += k.conj()[:, None, :, None] * k[None, :, None, :]
    out = s.reshape(d * d, d * d)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=256)
def station_factors(scheme: str, visibility: float, dark_count_probability: float) -> tuple:
    """The instrument as a product of independent instruments, each on some of its photonic qubits.

    ``single_click``: itself (:func:`station_kraus` on qubits (0, 1)). ``two_photon``: two
    ``single_click`` instruments of visibility sqrt(V) (the photons' internal-mode overlap),
    one on the H rails (qubits (0, 2): A_H, B_H -> records c_H, d_H), one on the V rails
    (qubits (1, 3)) (module docstring). Their product is :func:`station_kraus`'s channel.

    Parameters
    ----------
    scheme : str
        ``"single_click"`` or ``"two_photon"``.
    visibility : float
        Visibility of the scheme's interference, in [0, 1].
    dark_count_probability : float
        Dark-count probability per detector per window.

    Returns
    -------
    tuple of (str, tuple of numpy.ndarray, tuple of int)
        (part name, Kraus operators, the instrument's photonic qubits it acts on), in order;
        the name is "" for a station of one part.

    Raises
    ------
    ValueError
        For an unknown scheme.

    Examples
    --------
    >>> [(name, len(ops), qubits) for name, ops, qubits in station_factors("two_photon", 0.84, 6e-5)]
    [('H', 13, (0, 2)), ('V', 13, (1, 3))]
    """
    if scheme == "two_photon":
        ops = station_kraus("single_click", math.sqrt(visibility), dark_count_probability)
        return (("H", ops, (0, 2)), ("V", ops, (1, 3)))
    return (("", station_kraus(scheme, visibility, dark_count_probability), tuple(range(N_PHOTON_QUBITS[scheme]))),)
