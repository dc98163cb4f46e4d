"""Finite-size secret keys from N delivered Bell pairs (``docs/conventions.md`` §17).

Two published bounds, evaluated at the expected statistics of the delivered state (an honest run
whose observed error rates and CHSH score equal their expectations; no completeness margin):

* **BBM92** (entanglement-based BB84): Tomamichel, Lim, Gisin & Renner, Nat. Commun. 3, 634
  (2012), Eq. (2). Each pair is measured by both parties in the key basis (Z) with probability
  p and in the test basis (X) with 1 - p; n = N p^2 sifted key bits, k = N (1 - p)^2 test bits:

      l = n (1 - h(Q_X + mu)) - leak_EC - log2(2 / (eps_sec^2 eps_cor)),
      mu = sqrt((n + k)/(n k) (k + 1)/k ln(2 / eps_sec)),   leak_EC = f n h(Q_Z).

* **DI-QKD** (CHSH): Proposition 2 (Supplementary Eq. 73) of Nadlinger et al., Nature 607, 682
  (2022), arXiv:2109.14600 — the bound under which the first DI-QKD key was extracted; its
  proof follows Arnon-Friedman, Renner & Vidick, SIAM J. Comput. 48, 181 (2019) with the
  entropy accumulation theorem of Dupuis & Fawzi (2019). Each of the N rounds is a test round
  (CHSH inputs) with probability gamma; the formula and its free parameters are in
  :mod:`qnet.quantum.diqkd_bound`. qnet evaluates it for an honest run at its expectation: the
  CHSH threshold is the expected winning probability w = 1/2 + S/8 and the syndrome is
  m = f N [(1 - gamma) h(Q) + gamma h(w)]; eps_sec is the soundness eps_snd, and the correctness
  is the paper's 2^-61 (64-bit hash tags; ``eps_cor`` is not used). Checked: with the paper's
  own n = 1.5e6, gamma = 13/256, omega_thr = 0.825538, m = 296 517 and eps_snd = 1e-10 it gives
  95 890 bits against the published 95 884 (``tests/quantum/test_finite_key.py``).

Both maximise l over their free parameters (p; or gamma, the tangent point and a Renyi order) on fixed grids, so the key is
a pure function of its arguments. ``f`` (``ec_efficiency``) is the error-correction leakage in
units of the Shannon limit (1 = ideal; practical codes 1.05-1.2). As N grows the key per pair
tends to the asymptotic fraction with the same ``f`` (:func:`asymptotic_fraction`), which is
:func:`qnet.quantum.figures.diqkd_key_fraction` / ``bb84_key_fraction_from_errors`` at f = 1.
Keys are whole bits (floored), never negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qnet.errors import QnetError
from qnet.quantum.diqkd_bound import EPS_HASH, diqkd_bits, eta
from qnet.quantum.figures import binary_entropy

__all__ = [
    "PROTOCOLS",
    "FiniteKey",
    "asymptotic_fraction",
    "check_key_parameters",
    "finite_key",
    "pairs_for_key",
    "threshold_pairs",
    "tomamichel_key_length",
]

#: The protocols a finite key can be computed for.
PROTOCOLS = ("diqkd", "bbm92")

#: The largest pair count searched for a target key (10^18 pairs: beyond any experiment).
MAX_PAIRS = 1e18

_S_MAX = 2.0 * math.sqrt(2.0)  # Tsirelson's bound on the CHSH value
# Free fraction searched: the test fraction 1 - p of BBM92 (log-spaced).
_TEST_FRACTIONS = np.logspace(-8, math.log10(0.5), 241)


@dataclass(frozen=True)
class FiniteKey:
    """A finite-size key: its length for ``pairs`` delivered pairs and the protocol's choices.

    Attributes
    ----------
    protocol : str
        ``"diqkd"`` or ``"bbm92"``.
    pairs : float
        Delivered Bell pairs N (every pair measured once).
    key_bits : float
        Secret key length l (bits; a whole number, 0 when no key can be extracted).
    key_fraction : float
        l / N (secret bits per delivered pair).
    asymptotic_fraction : float
        The same bound's N -> infinity limit (bits per pair, same ``ec_efficiency``).
    test_fraction : float
        The optimal fraction of test measurements: 1 - p (BBM92: probability of the X basis at
        each end) or gamma (DI-QKD: test-round probability); NaN when no key.
    """

    protocol: str
    pairs: float
    key_bits: float
    key_fraction: float
    asymptotic_fraction: float
    test_fraction: float


def check_key_parameters(protocol: str, eps_sec: float, eps_cor: float, ec_efficiency: float = 1.0) -> None:
    """Raise :class:`~qnet.errors.QnetError` (one line) unless the key parameters are allowed.

    Parameters
    ----------
    protocol : str
        One of :data:`PROTOCOLS`.
    eps_sec, eps_cor : float
        Secrecy and correctness parameters, each in (0, 1).
    ec_efficiency : float
        Error-correction leakage in units of the Shannon limit, >= 1 and finite.

    Examples
    --------
    >>> check_key_parameters("bbm92", 1e-10, 1e-10)
    >>> check_key_parameters("bb84", 1e-10, 1e-10)
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: protocol 'bb84': unknown (allowed: diqkd, bbm92)
    >>> check_key_parameters("diqkd", 0.0, 1e-10)
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: eps_sec 0.0: out of range (allowed: 0 < eps_sec < 1)
    """
    if protocol not in PROTOCOLS:
        raise QnetError(f"protocol {protocol!r}: unknown (allowed: {', '.join(PROTOCOLS)})")
    for name, value in (("eps_sec", eps_sec), ("eps_cor", eps_cor)):
        if not 0.0 < value < 1.0:
            raise QnetError(f"{name} {value!r}: out of range (allowed: 0 < {name} < 1)")
    if protocol == "diqkd" and eps_sec <= 4.0 * EPS_HASH:
        raise QnetError(f"eps_sec {eps_sec!r}: out of range for diqkd (allowed: > 4 x 2^-61, the hash tags' share)")
    if not 1.0 <= ec_efficiency < math.inf:
        raise QnetError(f"ec_efficiency {ec_efficiency!r}: out of range (allowed: a finite number >= 1)")


def asymptotic_fraction(protocol: str, chsh: float, qber: float, qber_x: float, ec_efficiency: float = 1.0) -> float:
    """The bound's N -> infinity key per pair (bits), with error correction at ``ec_efficiency``.

    DI-QKD: 1 - f h(Q) - h(1/2 + 1/2 sqrt((S/2)^2 - 1)) (Pironio et al. 2009); BBM92:
    1 - h(Q_X) - f h(Q_Z); never negative.

    Parameters
    ----------
    protocol : str
        ``"diqkd"`` or ``"bbm92"``.
    chsh : float
        CHSH value S (used by DI-QKD).
    qber, qber_x : float
        Error probabilities in the Z (key) and X bases (BBM92 uses both; DI-QKD uses ``qber``).
    ec_efficiency : float
        f >= 1 (default 1: the Shannon limit).

    Returns
    -------
    float
        Secret bits per delivered pair.

    Examples
    --------
    >>> from qnet.quantum.figures import diqkd_key_fraction
    >>> round(asymptotic_fraction("diqkd", 2.6, 0.02, 0.02), 12) == round(diqkd_key_fraction(2.6, 0.02), 12)
    True
    >>> round(asymptotic_fraction("bbm92", 2.6, 0.02, 0.03, ec_efficiency=1.1), 6)   # 1 - h(.03) - 1.1 h(.02)
    0.650024
    """
    if protocol == "diqkd":
        r = eta(0.5 + min(chsh, _S_MAX) / 8.0) - ec_efficiency * binary_entropy(qber)
    else:
        r = 1.0 - binary_entropy(qber_x) - ec_efficiency * binary_entropy(qber)
    return float(max(0.0, r))


def tomamichel_key_length(n, k, q_tol, leak_ec_bits, eps_sec: float, eps_cor: float):
    """Eq. (2) of Tomamichel, Lim, Gisin & Renner, Nat. Commun. 3, 634 (2012), with q = 1 (BB84 bases).

    l = n (1 - h(Q_tol + mu)) - leak_EC - log2(2 / (eps_sec^2 eps_cor)),
    mu = sqrt((n + k)/(n k) (k + 1)/k ln(2 / eps_sec)); 0 where Q_tol + mu >= 1/2 or n, k < 1.
    Not floored, not clipped at 0 (the raw bound; :func:`finite_key` floors and clips).

    Parameters
    ----------
    n, k : float or array_like
        Raw key bits (key basis) and parameter-estimation bits (test basis); broadcast together.
    q_tol : float or array_like
        Tolerated (here: observed) error rate in the test basis.
    leak_ec_bits : float or array_like
        Bits revealed by error correction.
    eps_sec, eps_cor : float
        Secrecy and correctness.

    Returns
    -------
    numpy.ndarray
        The key length l in bits (may be negative: no key).

    Examples
    --------
    Table II of the paper, n = 10^6, Q = 1 %, test basis 12.5 % (k = n (0.125/0.875)^2),
    Q_tol = 1.73 %, leak_EC = 1.1 n h(Q), eps_sec = eps_cor = eps/2 with eps = 10^-14 l,
    robustness 0.6 %: the expected rate (1 - 0.006) l p_x^2 / n is the table's 47.8 %
    (eps/2 = 3.14e-9 solves eps = 10^-14 l):

    >>> from qnet.quantum.figures import binary_entropy
    >>> n, px = 1e6, 0.875
    >>> ell = float(tomamichel_key_length(n, n * (0.125 / px) ** 2, 0.0173, 1.1 * n * binary_entropy(0.01),
    ...                                   eps_sec=3.14e-9, eps_cor=3.14e-9))
    >>> round(100 * (1 - 0.006) * ell * px**2 / n, 1)
    47.8
    """
    n, k = np.asarray(n, dtype=float), np.asarray(k, dtype=float)
    ok = (n >= 1.0) & (k >= 1.0)
    n_, k_ = np.where(ok, n, 1.0), np.where(ok, k, 1.0)
    mu = np.sqrt((n_ + k_) / (n_ * k_) * (k_ + 1.0) / k_ * math.log(2.0 / eps_sec))
    q = q_tol + mu
    ok = ok & (q < 0.5)
    ell = n_ * (1.0 - binary_entropy(np.where(ok, q, 0.25))) - leak_ec_bits - math.log2(2.0 / (eps_sec**2 * eps_cor))
    return np.where(ok, ell, 0.0)


def _bbm92_bits(n_pairs: np.ndarray, q_key: float, q_test: float, eps_sec: float, eps_cor: float, f: float):
    """Key bits (N,) maximised over the test fraction, and the optimal fraction (N,)."""
    big_n = n_pairs[:, None]
    t = _TEST_FRACTIONS[None, :]
    n = big_n * (1.0 - t) ** 2
    ell = tomamichel_key_length(n, big_n * t**2, q_test, f * n * binary_entropy(q_key), eps_sec, eps_cor)
    return _best(ell, _TEST_FRACTIONS)


def _best(ell: np.ndarray, fractions: np.ndarray):
    """Row-wise maximum of ``ell`` (N, F) floored to whole bits (>= 0), with the arg-max fraction."""
    i = np.argmax(ell, axis=1)
    best = np.floor(np.maximum(0.0, ell[np.arange(len(i)), i]))
    return best, np.where(best > 0, fractions[i], np.nan)


def finite_key(
    protocol: str,
    pairs,
    *,
    chsh: float,
    qber: float,
    qber_x: float | None = None,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-10,
    ec_efficiency: float = 1.0,
):
    """The finite-size secret key from ``pairs`` delivered Bell pairs (module docstring's bounds).

    Parameters
    ----------
    protocol : str
        ``"diqkd"`` (EAT bound, CHSH) or ``"bbm92"`` (Tomamichel et al. 2012).
    pairs : float or array_like
        Delivered pairs N > 0 (an array gives one result per entry).
    chsh : float
        CHSH value S of the delivered state (DI-QKD).
    qber : float
        Z-basis (key-basis) error probability Q.
    qber_x : float, optional
        X-basis error probability (BBM92's test basis); default: ``qber``.
    eps_sec, eps_cor : float
        Secrecy and correctness, in (0, 1) (default 1e-10 each).
    ec_efficiency : float
        Error-correction leakage f in units of the Shannon limit (default 1).

    Returns
    -------
    FiniteKey or list of FiniteKey
        One result for a scalar ``pairs``, a list for an array.

    Raises
    ------
    QnetError
        Unknown protocol, N <= 0 (or not finite), an eps outside (0, 1) or f < 1.

    Examples
    --------
    Tomamichel et al. 2012, Table II (n = 10^6 key bits, Q = 1 %, 12.5 % test basis): with
    N = n / p^2 pairs the key per pair is the table's r = 47.8 % (robustness aside):

    >>> key = finite_key("bbm92", 1e6 / 0.875**2, chsh=2.8, qber=0.01, eps_sec=1e-4, eps_cor=1e-4)
    >>> key.key_bits > 0, key.key_fraction < key.asymptotic_fraction
    (True, True)
    >>> finite_key("diqkd", 1e3, chsh=2.7, qber=0.01).key_bits      # far too few pairs
    0.0
    >>> finite_key("diqkd", 0, chsh=2.7, qber=0.01)
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: pairs 0: out of range (allowed: a finite number > 0)
    """
    check_key_parameters(protocol, eps_sec, eps_cor, ec_efficiency)
    n = np.atleast_1d(np.asarray(pairs, dtype=float))
    bad = ~(np.isfinite(n) & (n > 0))
    if bad.any():
        value = n[bad][0]
        raise QnetError(f"pairs {value:g}: out of range (allowed: a finite number > 0)")
    q_x = qber if qber_x is None else qber_x
    if protocol == "bbm92":
        bits, fraction = _bbm92_bits(n, qber, q_x, eps_sec, eps_cor, ec_efficiency)
    else:
        bits, fraction = diqkd_bits(n, chsh, qber, eps_sec, ec_efficiency)
    r_inf = asymptotic_fraction(protocol, chsh, qber, q_x, ec_efficiency)
    out = [
        FiniteKey(protocol, float(big_n), float(b), float(b / big_n), r_inf, float(t))
        for big_n, b, t in zip(n, bits, fraction)
    ]
    return out[0] if np.ndim(pairs) == 0 else out


def threshold_pairs(
    protocol: str,
    *,
    chsh: float,
    qber: float,
    qber_x: float | None = None,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-10,
    ec_efficiency: float = 1.0,
) -> float:
    """The fewest delivered pairs giving a positive key (whole pairs), ``inf`` if none up to 10^18.

    Parameters
    ----------
    protocol, chsh, qber, qber_x, eps_sec, eps_cor, ec_efficiency
        As :func:`finite_key`.

    Returns
    -------
    float
        Pairs N (the key is 0 below it, positive from it).

    Examples
    --------
    >>> n0 = threshold_pairs("bbm92", chsh=2.8, qber=0.01)
    >>> 1e3 < n0 < 1e5, finite_key("bbm92", n0 * 0.99, chsh=2.8, qber=0.01).key_bits
    (True, 0.0)
    """
    return pairs_for_key(
        protocol,
        1.0,
        chsh=chsh,
        qber=qber,
        qber_x=qber_x,
        eps_sec=eps_sec,
        eps_cor=eps_cor,
        ec_efficiency=ec_efficiency,
        missing=math.inf,
    )


def pairs_for_key(
    protocol: str,
    key_bits: float,
    *,
    chsh: float,
    qber: float,
    qber_x: float | None = None,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-10,
    ec_efficiency: float = 1.0,
    missing: float | None = None,
) -> float:
    """The fewest delivered pairs N whose finite key reaches ``key_bits`` (a whole number of pairs).

    Bisection in log N over [1, 10^18], then in whole pairs; the key grows with N (tested).

    Parameters
    ----------
    protocol, chsh, qber, qber_x, eps_sec, eps_cor, ec_efficiency
        As :func:`finite_key`.
    key_bits : float
        The target K > 0 (bits).
    missing : float, optional
        Returned when no N up to 10^18 reaches K; default: raise.

    Returns
    -------
    float
        N (pairs), rounded up to a whole pair.

    Raises
    ------
    QnetError
        K <= 0, or K unreachable (no key at all, or more than 10^18 pairs) and ``missing`` unset.

    Examples
    --------
    >>> n = pairs_for_key("bbm92", 1e6, chsh=2.8, qber=0.01)
    >>> finite_key("bbm92", n, chsh=2.8, qber=0.01).key_bits >= 1e6
    True
    >>> pairs_for_key("diqkd", 100, chsh=2.0, qber=0.1)
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: target key 100 bits: unreachable (the diqkd key is 0 for any number of pairs here: asymptotic fraction 0)
    """
    check_key_parameters(protocol, eps_sec, eps_cor, ec_efficiency)
    if not 0.0 < key_bits < math.inf:
        raise QnetError(f"target key {key_bits!r} bits: out of range (allowed: a finite number > 0)")

    def enough(n: float) -> bool:
        return (
            finite_key(
                protocol,
                n,
                chsh=chsh,
                qber=qber,
                qber_x=qber_x,
                eps_sec=eps_sec,
                eps_cor=eps_cor,
                ec_efficiency=ec_efficiency,
            ).key_bits
            >= key_bits
        )

    if not enough(MAX_PAIRS):
        if missing is not None:
            return missing
        r_inf = asymptotic_fraction(protocol, chsh, qber, qber if qber_x is None else qber_x, ec_efficiency)
        why = (
            f"the {protocol} key is 0 for any number of pairs here: asymptotic fraction 0"
            if r_inf <= 0
            else f"needs more than {MAX_PAIRS:.0e} pairs"
        )
        raise QnetError(f"target key {key_bits:g} bits: unreachable ({why})")
    lo, hi = 0.0, math.log10(MAX_PAIRS)
    while hi - lo > 1e-6:  # in log N first, then in whole pairs
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if enough(10.0**mid) else (mid, hi)
    below, above = math.floor(10.0**lo), math.ceil(10.0**hi)  # not enough at `below`, enough at `above`
    while above - below > 1:
        mid = (below + above) // 2
        below, above = (below, mid) if enough(float(mid)) else (mid, above)
    return float(above)
