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

    Parameters
    ----------
    rho : numpy.ndarray
        Two-qubit density matrix (4, 4) or a stack (..., 4, 4), memory A first.

    Returns
    -------
    numpy.ndarray
        Real correlation matrix T of shape (..., 3, 3); rows are A's Pauli, columns B's.

    Examples
    --------
    |Psi+> is correlated in X and Y and anti-correlated in Z:

    >>> from qnet.quantum.figures import correlation_matrix
    >>> from qnet.quantum.states import bell_projector
    >>> (correlation_matrix(bell_projector("psi+")).round(6) + 0.0).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]]
    """
    return np.einsum("...ab,ijba->...ij", rho, _SIGMA_SIGMA).real


def chsh(rho: np.ndarray):
    """Maximal CHSH value S of the state (Horodecki criterion); 2 sqrt2 for a Bell state.

    S = 2 sqrt(m1 + m2), m1 >= m2 the two largest eigenvalues of T^T T
    (:func:`correlation_matrix`). S > 2 violates the CHSH inequality.

    Parameters
    ----------
    rho : numpy.ndarray
        4x4 density matrix, memory A first, or a stack (..., 4, 4) of them.

    Returns
    -------
    float or numpy.ndarray
        S in [0, 2 sqrt2] for a physical state; one value per state for a stack (the same
        numbers as state by state).

    Examples
    --------
    A Werner state of fidelity F has S = 2 sqrt2 (4F - 1)/3:

    >>> import math
    >>> import numpy as np
    >>> from qnet.quantum.figures import chsh
    >>> from qnet.quantum.states import bell_projector
    >>> round(chsh(bell_projector("phi-")), 6)
    2.828427
    >>> f = 0.85
    >>> werner = (4 * f - 1) / 3 * bell_projector("psi+") + (1 - (4 * f - 1) / 3) * np.eye(4) / 4
    >>> round(chsh(werner), 6) == round(2 * math.sqrt(2) * (4 * f - 1) / 3, 6)
    True
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

    Parameters
    ----------
    t : numpy.ndarray
        Correlation matrix (3, 3) or a stack (..., 3, 3) (:func:`correlation_matrix`).

    Returns
    -------
    numpy.ndarray
        Real weight matrices W of the same shape, for :func:`chsh_score`.

    Examples
    --------
    Settings chosen on one state, scored on another (here the same state with white noise):

    >>> import numpy as np
    >>> from qnet.quantum.figures import chsh_score, chsh_weights, correlation_matrix
    >>> from qnet.quantum.states import bell_projector
    >>> t = correlation_matrix(bell_projector("psi+"))
    >>> w = chsh_weights(t)
    >>> round(float(chsh_score(t, w)), 6)                     # the Horodecki maximum
    2.828427
    >>> noisy = correlation_matrix(0.8 * bell_projector("psi+") + 0.2 * np.eye(4) / 4)
    >>> round(float(chsh_score(noisy, w)), 6)                 # 0.8 * 2 sqrt2
    2.262742
    """
    u, d, vt = np.linalg.svd(np.asarray(t, dtype=float))
    norm = np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2)
    w = np.einsum("...k,...ik,...kj->...ij", d[..., :2], u[..., :, :2], vt[..., :2, :])
    return w / np.where(norm > 0, norm, 1.0)[..., None, None]


def chsh_score(t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """CHSH value 2 <W, T> of the settings ``w`` (:func:`chsh_weights`) on correlations ``t``.

    Parameters
    ----------
    t : numpy.ndarray
        Correlation matrices (..., 3, 3), e.g. estimated from shots.
    w : numpy.ndarray
        Weight matrices (..., 3, 3) of the chosen settings; broadcasts against ``t``.

    Returns
    -------
    numpy.ndarray
        The CHSH values, shape of the broadcast leading axes (a 0-d array for single matrices).

    Examples
    --------
    Settings fitted to a noisy state, with T = diag(0.8, 0.4, -0.6), score that state's
    Horodecki value, and 2 (0.8 + 0.6) on the ideal |Psi+>:

    >>> from qnet.quantum.figures import chsh, chsh_score, chsh_weights, correlation_matrix
    >>> from qnet.quantum.states import bell_projector as bell
    >>> rho = 0.7 * bell("psi+") + 0.2 * bell("phi+") + 0.1 * bell("psi-")
    >>> w = chsh_weights(correlation_matrix(rho))
    >>> (w.round(6) + 0.0).tolist()
    [[0.8, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, -0.6]]
    >>> round(float(chsh_score(correlation_matrix(rho), w)), 6), round(chsh(rho), 6)
    (2.0, 2.0)
    >>> round(float(chsh_score(correlation_matrix(bell("psi+")), w)), 6)
    2.8
    """
    return 2.0 * np.einsum("...ij,...ij->...", w, t)


def _unit(value):
    """``value`` clipped to [0, 1] (NaN and -0.0 give 0.0, as ``min(1, max(0, v))`` does)."""
    return np.where(value > 0.0, np.minimum(value, 1.0), 0.0)


def qber(rho: np.ndarray, target: str = "psi+"):
    """Z-basis error probability (QBER) with respect to the target's correlation.

    Parameters
    ----------
    rho : numpy.ndarray
        4x4 density matrix, memory A first (after the Pauli-frame correction), or a stack
        (..., 4, 4) of them.
    target : str, optional
        The Bell state aimed at: a ``"psi..."`` target expects anti-correlated Z outcomes,
        a ``"phi..."`` target correlated ones (default ``"psi+"``).

    Returns
    -------
    float or numpy.ndarray
        The error probability, clipped to [0, 1] (one per state for a stack).

    Examples
    --------
    White noise of weight 1 - w gives Q = (1 - w)/2:

    >>> import numpy as np
    >>> from qnet.quantum.figures import qber
    >>> from qnet.quantum.states import bell_projector
    >>> round(qber(bell_projector("psi+")), 6), round(qber(bell_projector("psi+"), "phi+"), 6)
    (0.0, 1.0)
    >>> round(qber(0.8 * bell_projector("psi+") + 0.2 * np.eye(4) / 4), 6)
    0.1
    """
    diag = np.real(np.diagonal(rho, axis1=-2, axis2=-1))
    same = diag[..., 0] + diag[..., 3]
    q = _unit(same if target.startswith("psi") else 1.0 - same)
    return float(q) if q.ndim == 0 else q


def binary_entropy(p):
    """h(p) = -p log2 p - (1-p) log2 (1-p), with h(0) = h(1) = 0 (0 outside [0, 1], NaN for NaN).

    Parameters
    ----------
    p : float or array_like
        Probabilities.

    Returns
    -------
    float or numpy.ndarray
        h(p) in bits: a float for a scalar, an array (elementwise) for an array.

    Examples
    --------
    >>> from qnet.quantum.figures import binary_entropy
    >>> binary_entropy(0.5), binary_entropy(0.0)
    (1.0, 0.0)
    >>> round(binary_entropy(0.11), 4)          # the BB84 threshold: h(0.11) ~ 1/2
    0.4999
    """
    if isinstance(p, float) or type(p) is int:  # one link's figures: plain math, ~20x faster than numpy on a scalar
        x = float(p)
        return -x * math.log2(x) - (1.0 - x) * math.log2(1.0 - x) if 0.0 < x < 1.0 else (math.nan if x != x else 0.0)
    a = np.asarray(p, dtype=float)
    inside = (a > 0.0) & (a < 1.0)
    x = np.where(inside, a, 0.5)
    h = np.where(inside, -x * np.log2(x) - (1.0 - x) * np.log2(1.0 - x), np.where(np.isnan(a), np.nan, 0.0))
    return float(h) if h.ndim == 0 else h


def diqkd_key_fraction(s, q):
    """Asymptotic DI-QKD key per pair from CHSH value ``s`` and QBER ``q`` (0 when S <= 2).

    r = 1 - h(Q) - h((1 + sqrt((S/2)^2 - 1))/2), clipped at 0 (S capped at 2 sqrt2).

    Parameters
    ----------
    s : float or array_like
        CHSH value S (:func:`chsh`).
    q : float or array_like
        QBER (:func:`qber`); broadcasts against ``s``.

    Returns
    -------
    float or numpy.ndarray
        Secret bits per delivered pair: a float for scalars, else an array.

    Examples
    --------
    >>> import math
    >>> from qnet.quantum.figures import diqkd_key_fraction
    >>> round(diqkd_key_fraction(2 * math.sqrt(2), 0.0), 6)    # a perfect Bell pair
    1.0
    >>> round(diqkd_key_fraction(2.5, 0.02), 6)       # 1 - h(0.02) - h(0.875)
    0.314995
    >>> diqkd_key_fraction(2.0, 0.0)                           # no Bell violation, no key
    0.0
    """
    s, q = np.asarray(s, dtype=float), np.asarray(q, dtype=float)
    root = np.sqrt(np.maximum(0.0, (np.minimum(s, 2.0 * math.sqrt(2.0)) / 2.0) ** 2 - 1.0))
    r = np.where(s > 2.0, np.maximum(0.0, 1.0 - binary_entropy(q) - binary_entropy((1.0 + root) / 2.0)), 0.0)
    return float(r) if r.ndim == 0 else r


def bb84_key_fraction_from_errors(q_z, q_x):
    """Asymptotic BB84/BBM92 key per pair from the Z and X error rates: max(0, 1 - h(Q_Z) - h(Q_X)).

    Parameters
    ----------
    q_z, q_x : float or array_like
        Error probabilities in the Z and X bases; broadcast together.

    Returns
    -------
    float or numpy.ndarray
        Secret bits per pair: a float for scalars, else an array.

    Examples
    --------
    >>> from qnet.quantum.figures import bb84_key_fraction_from_errors, binary_entropy
    >>> round(bb84_key_fraction_from_errors(0.05, 0.05), 6) == round(1 - 2 * binary_entropy(0.05), 6)
    True
    >>> bb84_key_fraction_from_errors(0.12, 0.12)               # beyond the ~11% threshold
    0.0
    """
    r = np.maximum(0.0, 1.0 - binary_entropy(q_z) - binary_entropy(q_x))
    return float(r) if np.ndim(r) == 0 else r


def bb84_key_fraction(rho: np.ndarray, target: str = "psi+"):
    """Asymptotic BB84/BBM92 key per pair of state ``rho``: 1 - h(Q_Z) - h(Q_X), clipped at 0.

    Q_X is the probability that the X outcomes break the target's X correlation
    (<XX> = +1 for |Psi+> and |Phi+>, -1 for |Psi-> and |Phi->).

    Parameters
    ----------
    rho : numpy.ndarray
        4x4 density matrix, memory A first, or a stack (..., 4, 4) of them.
    target : str, optional
        The Bell state aimed at (default ``"psi+"``).

    Returns
    -------
    float or numpy.ndarray
        Secret bits per delivered pair, >= 0 (one per state for a stack).

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.figures import bb84_key_fraction
    >>> from qnet.quantum.states import bell_projector
    >>> round(bb84_key_fraction(bell_projector("phi-"), "phi-"), 6)
    1.0
    >>> round(bb84_key_fraction(0.8 * bell_projector("psi+") + 0.2 * np.eye(4) / 4), 6)  # 1 - 2 h(0.1)
    0.062009
    """
    xx = np.real(np.trace(rho @ _XX, axis1=-2, axis2=-1))
    sign = 1.0 if target in ("psi+", "phi+") else -1.0
    q_x = _unit((1.0 - sign * xx) / 2.0)
    return bb84_key_fraction_from_errors(qber(rho, target), float(q_x) if q_x.ndim == 0 else q_x)


def plob_bound(transmissivity: float) -> float:
    """PLOB repeaterless capacity -log2(1 - eta) (ebits or secret bits per channel use).

    Parameters
    ----------
    transmissivity : float
        Transmissivity eta of the pure-loss channel, in [0, 1].

    Returns
    -------
    float
        Bits per channel use; ``inf`` at eta = 1.

    Raises
    ------
    ValueError
        If ``transmissivity`` is outside [0, 1].

    Examples
    --------
    >>> from qnet.quantum.figures import plob_bound
    >>> plob_bound(0.5)
    1.0
    >>> round(plob_bound(1e-3) / 1e-3, 4)      # ~ 1.44 eta for small eta
    1.4434
    """
    if not 0.0 <= transmissivity <= 1.0:
        raise ValueError(f"transmissivity must be in [0, 1], got {transmissivity}")
    return math.inf if transmissivity == 1.0 else -math.log1p(-transmissivity) / math.log(2.0)


def plob_rate_hz(transmissivity: float, attempt_time_s: float, attempts_per_round: int = 1) -> float:
    """The PLOB bound per second of a link using the fibre ``attempts_per_round`` times per T_att.

    ``plob_bound(eta) * k / T_att`` (bits per second): the repeaterless bound on the link's own
    clock, with the same k parallel uses as the link it is compared with (docs/conventions.md).

    Parameters
    ----------
    transmissivity : float
        Transmissivity eta of the link's fibre, in [0, 1].
    attempt_time_s : float
        Attempt period T_att (s).
    attempts_per_round : int, optional
        Parallel uses k of the fibre per attempt period (default 1).

    Returns
    -------
    float
        The bound (bits per second).

    Raises
    ------
    ValueError
        If ``transmissivity`` is outside [0, 1].

    Examples
    --------
    >>> from qnet.quantum.figures import plob_rate_hz
    >>> plob_rate_hz(0.5, 1e-3, attempts_per_round=2)     # 1 bit per use, 2 uses per ms
    2000.0
    """
    return plob_bound(transmissivity) * attempts_per_round / attempt_time_s
