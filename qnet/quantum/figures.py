"""Figures of merit of a delivered two-qubit state (``docs/conventions.md``, "Figures of merit").

* CHSH S: maximal value over measurement settings (Horodecki criterion), 2 sqrt(m1 + m2) with
  m1, m2 the two largest eigenvalues of T^T T, T_ij = Tr(rho sigma_i (x) sigma_j). The optimal
  settings as a weight matrix W (:func:`chsh_weights`) score any correlation matrix linearly,
  S = 2 <W, T> (:func:`chsh_score`): what shot estimates need to score settings chosen on
  other data (:mod:`qnet.link.shots`).
* QBER: probability that the two Z outcomes break the target's correlation (anti-correlation
  for |Psi+->, correlation for |Phi+->), after the Pauli-frame correction.
* DI-QKD key fraction (CHSH-based, asymptotic, collective attacks):
  r = 1 - h(Q) - h((1 + sqrt((S/2)^2 - 1))/2) for S > 2, else 0 (never negative).
* BB84-style (entanglement-based BBM92) key fraction: r = 1 - h(Q_Z) - h(Q_X), errors in the
  Z and X bases with respect to the target's correlations (Shor–Preskill, asymptotic), never
  negative.
* PLOB bound of a pure-loss channel with transmissivity eta: -log2(1 - eta) per channel use.
"""

from __future__ import annotations

import math

import numpy as np

from qnet.quantum.states import PAULI

__all__ = [
    "correlation_matrix",
    "chsh",
    "chsh_weights",
    "chsh_score",
    "qber",
    "binary_entropy",
    "diqkd_key_fraction",
    "bb84_key_fraction",
    "bb84_key_fraction_from_errors",
    "plob_bound",
    "plob_rate_hz",
]


_XX = np.kron(PAULI["X"], PAULI["X"])
_SIGMA_SIGMA = np.array([[np.kron(PAULI[p], PAULI[q]) for q in "XYZ"] for p in "XYZ"])  # (3, 3, 4, 4)


def correlation_matrix(rho: np.ndarray) -> np.ndarray:
    """T_ij = Tr(rho sigma_i (x) sigma_j), i, j in (X, Y, Z); rho with memory A first.

    A stack of states (..., 4, 4) gives a stack of matrices (..., 3, 3).
    """
    return np.einsum("...ab,ijba->...ij", rho, _SIGMA_SIGMA).real


def chsh(rho: np.ndarray):
    """Maximal CHSH value S of the state (Horodecki); 2 sqrt2 for a Bell state.

    One state (4, 4) gives a float; a stack (..., 4, 4) gives an array (...,), state by state
    the same numbers.
    """
    t = correlation_matrix(rho)
    m = np.linalg.eigvalsh(np.swapaxes(t, -1, -2) @ t)  # ascending: the two largest are last
    s = 2.0 * np.sqrt(np.maximum(0.0, m[..., 2] + m[..., 1]))
    return float(s) if s.ndim == 0 else s


def chsh_weights(t: np.ndarray) -> np.ndarray:
    """The optimal CHSH settings of correlation matrix ``t`` (..., 3, 3) as a weight matrix W.

    With t = sum_k d_k u_k v_k^T (singular values d1 >= d2 >= d3), Alice measuring u1, u2 and
    Bob (v1 cos th +- v2 sin th), tan th = d2/d1, give the CHSH value 2 <W, T> for any
    correlation matrix T, with W = (d1 u1 v1^T + d2 u2 v2^T) / sqrt(d1^2 + d2^2); at T = t
    this is the Horodecki maximum 2 sqrt(d1^2 + d2^2). W does not depend on the SVD's sign
    conventions (each u_k v_k^T pair flips together). W = 0 where t = 0.
    """
    u, d, vt = np.linalg.svd(np.asarray(t, dtype=float))
    norm = np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2)
    w = np.einsum("...k,...ik,...kj->...ij", d[..., :2], u[..., :, :2], vt[..., :2, :])
    return w / np.where(norm > 0, norm, 1.0)[..., None, None]


def chsh_score(t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """CHSH value 2 <W, T> of the settings ``w`` (:func:`chsh_weights`) on correlations ``t``."""
    return 2.0 * np.einsum("...ij,...ij->...", w, t)


def _unit(value):
    """``value`` clipped to [0, 1] (NaN and -0.0 give 0.0, as ``min(1, max(0, v))`` does)."""
    return np.where(value > 0.0, np.minimum(value, 1.0), 0.0)


def qber(rho: np.ndarray, target: str = "psi+"):
    """Z-basis error probability with respect to the target's correlation.

    One state (4, 4) gives a float; a stack (..., 4, 4) gives an array (...,).
    """
    diag = np.real(np.diagonal(rho, axis1=-2, axis2=-1))
    same = diag[..., 0] + diag[..., 3]
    q = _unit(same if target.startswith("psi") else 1.0 - same)
    return float(q) if q.ndim == 0 else q


def binary_entropy(p):
    """h(p) = -p log2 p - (1-p) log2 (1-p), with h(0) = h(1) = 0 (0 outside [0, 1], NaN for NaN).

    A float gives a float; an array gives an array (elementwise).
    """
    a = np.asarray(p, dtype=float)
    inside = (a > 0.0) & (a < 1.0)
    x = np.where(inside, a, 0.5)
    h = np.where(inside, -x * np.log2(x) - (1.0 - x) * np.log2(1.0 - x), np.where(np.isnan(a), np.nan, 0.0))
    return float(h) if h.ndim == 0 else h


def diqkd_key_fraction(s, q):
    """Asymptotic DI-QKD key per pair from CHSH value ``s`` and QBER ``q`` (0 when S <= 2).

    Floats give a float; arrays broadcast elementwise.
    """
    s, q = np.asarray(s, dtype=float), np.asarray(q, dtype=float)
    root = np.sqrt(np.maximum(0.0, (np.minimum(s, 2.0 * math.sqrt(2.0)) / 2.0) ** 2 - 1.0))
    r = np.where(s > 2.0, np.maximum(0.0, 1.0 - binary_entropy(q) - binary_entropy((1.0 + root) / 2.0)), 0.0)
    return float(r) if r.ndim == 0 else r


def bb84_key_fraction_from_errors(q_z, q_x):
    """Asymptotic BB84/BBM92 key per pair from the Z and X error rates: max(0, 1 - h(Q_Z) - h(Q_X)).

    Floats give a float; arrays broadcast elementwise.
    """
    r = np.maximum(0.0, 1.0 - binary_entropy(q_z) - binary_entropy(q_x))
    return float(r) if np.ndim(r) == 0 else r


def bb84_key_fraction(rho: np.ndarray, target: str = "psi+"):
    """Asymptotic BB84/BBM92 key per pair of state ``rho``: 1 - h(Q_Z) - h(Q_X), clipped at 0.

    Q_X is the probability that the X outcomes break the target's X correlation
    (<XX> = +1 for |Psi+> and |Phi+>, -1 for |Psi-> and |Phi->). One state (4, 4) gives a
    float; a stack (..., 4, 4) gives an array (...,).
    """
    xx = np.real(np.trace(rho @ _XX, axis1=-2, axis2=-1))
    sign = 1.0 if target in ("psi+", "phi+") else -1.0
    q_x = _unit((1.0 - sign * xx) / 2.0)
    return bb84_key_fraction_from_errors(qber(rho, target), float(q_x) if q_x.ndim == 0 else q_x)


def plob_bound(transmissivity: float) -> float:
    """PLOB repeaterless capacity -log2(1 - eta) (ebits or secret bits per channel use)."""
    if not 0.0 <= transmissivity <= 1.0:
        raise ValueError(f"transmissivity must be in [0, 1], got {transmissivity}")
    return math.inf if transmissivity == 1.0 else -math.log1p(-transmissivity) / math.log(2.0)


def plob_rate_hz(transmissivity: float, attempt_time_s: float, attempts_per_round: int = 1) -> float:
    """The PLOB bound per second of a link using the fibre ``attempts_per_round`` times per T_att.

    ``plob_bound(eta) * k / T_att`` (bits per second): the repeaterless bound on the link's own
    clock, with the same k parallel uses as the link it is compared with (docs/conventions.md).
    """
    return plob_bound(transmissivity) * attempts_per_round / attempt_time_s
