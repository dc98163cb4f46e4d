"""The finite-size DI-QKD key length of Nadlinger et al. (2022), Supplementary Proposition 2.

Nadlinger et al., "Experimental quantum key distribution certified by Bell's theorem", Nature
607, 682 (2022), arXiv:2109.14600, Supplementary Information §S10, Eq. (73) (the proof, §S11,
follows Arnon-Friedman, Renner & Vidick, SIAM J. Comput. 48, 181 (2019) and uses the entropy
accumulation theorem with the improved second-order term of Dupuis & Fawzi, IEEE Trans. Inf.
Theory 65, 7596 (2019)). With η(ω) = 1 − h(1/2 + ½√(16ω(ω − 1) + 3)) for |ω − 1/2| > 1/4 (else 0),
its tangent g_t(ω) = η(t) + (ω − t) η′(t), q(ω) = (γ(1 − ω), γω, 1 − γ) and ϑ_ε = log₂(1/(1 − √(1 − ε²))):

    ℓ = Υ_b( n g_t(ω_thr) + n inf_ω [η(ω) − g_t(ω) − (α′ − 1) V(ω)] − n (α′ − 1)² K_α′ − n γ
             − n (α″ − 1) log₂²5 − (ϑ_ε′ + α′ log₂(1/ε_EA))/(α′ − 1) − (ϑ_ε″ + α″ log₂(1/ε_EA))/(α″ − 1)
             − 3 ϑ_(ε_s − ε′ − 2ε″) − 5 log₂(1/ε_PA) − m − 264 ),

V(ω) = (ln 2/2)(log₂ 33 + √(2 + Var))², Var = (1 − ω)(1 − γ + γω) η′(t)²/γ (the variance of the
min-tradeoff function f_t over q(ω)), K_α′ = 2^((α′−1)s) ln³(2^s + e²)/(6 (2 − α′)³ ln 2) with
s = 2 + (1 − ω_min) η′(t), ω ranging over the quantum CHSH winning probabilities
[ω_min, ω_max] = [(2 − √2)/4, (2 + √2)/4], Υ_b(x) the y with y + b ln y = x (b = 4/ln 2: Trevisan's
extractor), m the error-correction syndrome length and 264 the bits of the protocol's hash tags,
authentication and extractor. The key is (max(ε_EA, ε_PA + 2ε_s) + 4ε_h)-sound, ε_h = 2⁻⁶¹ (64-bit
tags; it is also the correctness). The free parameters t, α′, α″ and the split of ε_s into ε′, ε″,
ε_s − ε′ − 2ε″ and of ε_snd − 4ε_h into ε_PA + 2ε_s are optimised here: α″ and the ε split in
closed form (the optimum of their log terms), t and α′ on a grid (and refined for
:func:`nadlinger_key_length`). Reproduces the paper's 95 884 bits (tests).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from qnet.quantum.figures import binary_entropy

__all__ = ["EPS_HASH", "eta", "nadlinger_key_length"]

#: Hash-collision (and correctness) probability of the paper's 64-bit tags (VHASH), 2⁻⁶¹.
EPS_HASH = 2.0**-61
_FIXED_BITS = 264.0  # |M| − m = 258 bits of tags and flags (Eq. 93) + 6 (extractor, Eq. 88)
_W_MIN, _W_MAX = (2.0 - math.sqrt(2.0)) / 4.0, (2.0 + math.sqrt(2.0)) / 4.0
_LOG2_5_SQ = math.log2(5.0) ** 2
_LOG2_33 = math.log2(33.0)
_B = 4.0 / math.log(2.0)
_OMEGAS = np.linspace(_W_MIN, _W_MAX, 241)  # the infimum over quantum winning probabilities ...
_NEAR = np.linspace(-0.02, 0.02, 401)  # ... plus a fine grid about t, where the infimum lies
_TANGENTS = 0.75 + (_W_MAX - 0.75) * np.linspace(0.0, 1.0, 50)[1:-1]  # t in (3/4, ω_max)
_ALPHAS = np.logspace(-9.0, -0.5, 69)  # α′ − 1
_GAMMAS = np.logspace(-4.0, math.log10(0.5), 61)  # test-round probabilities searched


def eta(w):
    """η(ω) = 1 − h(1/2 + ½√(16ω(ω − 1) + 3)) for |ω − 1/2| > 1/4, else 0 (Eq. 62; bits).

    Examples
    --------
    >>> float(eta(0.75)), round(float(eta((2 + 2**0.5) / 4)), 12)
    (0.0, 1.0)
    """
    u = np.minimum(np.maximum(np.asarray(w, dtype=float), 1.0 - np.asarray(w, dtype=float)), _W_MAX)
    root = np.sqrt(np.maximum(0.0, 16.0 * u * (u - 1.0) + 3.0))
    return np.where(u > 0.75, 1.0 - binary_entropy(0.5 + 0.5 * root), 0.0)


def _slope(t):
    """η′(t) for t in (3/4, ω_max): log₂(x/(1 − x)) (8t − 4)/R, x = (1 + R)/2, R = √(16t(t − 1) + 3)."""
    t = np.minimum(np.asarray(t, dtype=float), _W_MAX - 1e-12)
    root = np.sqrt(16.0 * t * (t - 1.0) + 3.0)
    x = 0.5 + 0.5 * root
    return np.log2(x / (1.0 - x)) * (8.0 * t - 4.0) / root


def _theta(eps):
    """ϑ_ε = log₂(1/(1 − √(1 − ε²))), written without cancellation for small ε."""
    eps = np.asarray(eps, dtype=float)
    return np.log2((1.0 + np.sqrt(1.0 - eps * eps)) / (eps * eps))


def _upsilon(x):
    """Υ_b(x): the y ≥ 1 with y + b ln y = x for x ≥ 1 (Newton), x itself below (no key there)."""
    x = np.asarray(x, dtype=float)
    y = np.where(x > 1.0, np.maximum(x - _B * np.log(np.maximum(x, 1.0)), 1.0), x)
    for _ in range(30):
        step = (y + _B * np.log(np.maximum(y, 1e-300)) - x) / (1.0 + _B / np.maximum(y, 1e-300))
        y = np.where(x > 1.0, np.maximum(y - step, 1.0), x)
    return y


@lru_cache(maxsize=256)
def _tradeoff_terms(gamma: float, tangents: tuple, alphas: tuple):
    """(T, A) arrays over the tangent t and α′ − 1: inf_ω[η − g_t − (α′−1)V] − (α′−1)² K_α′, and η′(t)."""
    t = np.asarray(tangents)[:, None, None]
    a = np.asarray(alphas)[None, :, None]
    d = _slope(t)
    w = np.concatenate(
        [np.broadcast_to(_OMEGAS, (t.shape[0], _OMEGAS.size)), np.clip(t[:, 0, :] + _NEAR, _W_MIN, _W_MAX)], axis=1
    )[:, None, :]
    delta = eta(w) - (eta(t) + (w - t) * d)
    var = (1.0 - w) * (1.0 - gamma + gamma * w) * d**2 / gamma
    v = 0.5 * math.log(2.0) * (_LOG2_33 + np.sqrt(2.0 + var)) ** 2
    inf = np.min(delta - a * v, axis=2)
    s = 2.0 + (1.0 - _W_MIN) * d[:, :, 0]
    k = 2.0 ** (a[:, :, 0] * s) * np.log(2.0**s + math.e**2) ** 3 / (6.0 * (1.0 - a[:, :, 0]) ** 3 * math.log(2.0))
    return inf - a[:, :, 0] ** 2 * k, d[:, :, 0]


def _eps_terms(n, a, eps_snd: float):
    """The n-dependent α″ term and every ε term of Eq. (73), for α′ − 1 = a (broadcast), in bits.

    ε_EA = ε_PA + 2ε_s = ε_snd − 4ε_h; the split minimises c₁ log(1/ε′) + c₂ log(1/ε″) + c₃ log(1/ε₃)
    + c_PA log(1/ε_PA) under ε_PA + 2(ε′ + 2ε″ + ε₃) = ε (c = 2/a, 2/(α″−1), 6, 5: ε_i ∝ c_i),
    and α″ − 1 = √((ϑ_ε″ + log₂(1/ε_EA))/(n log₂²5)) minimises the α″ terms (two passes).
    """
    eps = eps_snd - 4.0 * EPS_HASH
    log_ea = math.log2(1.0 / eps)
    x2 = np.sqrt((2.0 * log_ea + 1.0) / (n * _LOG2_5_SQ))
    for _ in range(2):
        x2 = np.minimum(x2, 0.999 / math.sqrt(_LOG2_5_SQ))
        c1, c2 = 2.0 / a, 2.0 / x2
        total = c1 + c2 + 6.0 + 5.0
        e1, e2, e3, e_pa = eps * c1 / (2 * total), eps * c2 / (4 * total), eps * 6.0 / (2 * total), eps * 5.0 / total
        x2 = np.sqrt((_theta(e2) + log_ea) / (n * _LOG2_5_SQ))
    x2 = np.minimum(x2, 0.999 / math.sqrt(_LOG2_5_SQ))
    return (
        -n * x2 * _LOG2_5_SQ
        - (_theta(e2) + (1.0 + x2) * log_ea) / x2
        - (_theta(e1) + (1.0 + a) * log_ea) / a
        - 3.0 * _theta(e3)
        - 5.0 * np.log2(1.0 / e_pa)
    )


def _raw_bits(n, gamma: float, omega_thr: float, syndrome_bits, eps_snd: float):
    """Eq. (73)'s argument of Υ_b (bits) on the (t, α′) grid: shape broadcast(n, syndrome) + (T, A)."""
    terms, _ = _tradeoff_terms(float(gamma), tuple(_TANGENTS), tuple(_ALPHAS))
    t = _TANGENTS[:, None]
    g = eta(t) + (omega_thr - t) * _slope(t)
    n = np.asarray(n, dtype=float)[..., None, None]
    m = np.asarray(syndrome_bits, dtype=float)[..., None, None]
    return n * (g + terms - gamma) + _eps_terms(n, _ALPHAS[None, :], eps_snd) - m - _FIXED_BITS


def nadlinger_key_length(
    n: float, gamma: float, omega_thr: float, syndrome_bits: float, eps_snd: float = 1e-10
) -> float:
    """Eq. (73) of Nadlinger et al. 2022 (module docstring): the secure key length, whole bits.

    The tangent point t and α′ are optimised on a grid, then refined continuously (Nelder–Mead);
    α″ and the ε split in closed form. Valid for ε_snd > 4 · 2⁻⁶¹.

    Parameters
    ----------
    n : float
        Rounds (Bell pairs).
    gamma : float
        Test-round probability γ in (0, 1).
    omega_thr : float
        The CHSH winning-probability threshold ω_thr of the protocol's test.
    syndrome_bits : float
        Error-correction syndrome length m (bits).
    eps_snd : float
        Soundness ε_snd = max(ε_EA, ε_PA + 2ε_s) + 4ε_h.

    Returns
    -------
    float
        ℓ (bits, floored; 0 when Eq. (73) gives less than one bit).

    Examples
    --------
    The paper's run: n = 1.5 × 10⁶, γ = 13/256, ω_thr = 0.825538, m = 296 517, ε_snd = 10⁻¹⁰ gave
    95 884 bits (main text and Fig. 4); qnet's optimiser finds a few bits more:

    >>> ell = nadlinger_key_length(1.5e6, 13 / 256, 0.825538, 296517)
    >>> 95884 <= ell < 95884 * 1.001
    True
    """
    from scipy.optimize import minimize

    raw = _raw_bits(n, gamma, omega_thr, syndrome_bits, eps_snd)
    i, j = np.unravel_index(int(np.argmax(raw)), raw.shape)

    def negative(p):
        t, log_a = p
        if not (0.75 < t < _W_MAX and -8.0 < log_a < -0.5):
            return 1e30
        tangents, alphas = (float(t),), (10.0**log_a,)
        terms, _ = _tradeoff_terms(float(gamma), tangents, alphas)
        g = float(eta(t) + (omega_thr - t) * _slope(t))
        val = n * (g + terms[0, 0] - gamma) + float(_eps_terms(n, 10.0**log_a, eps_snd)) - syndrome_bits - _FIXED_BITS
        return -val

    best = minimize(
        negative,
        [_TANGENTS[i], math.log10(_ALPHAS[j])],
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-3, "maxiter": 2000},
    )
    top = max(-best.fun, float(raw[i, j]))
    return float(np.floor(_upsilon(top))) if top >= 1.0 else 0.0


def diqkd_bits(n_pairs: np.ndarray, chsh: float, qber: float, eps_snd: float, ec_efficiency: float):
    """qnet's DI-QKD key (N,) and optimal γ (N,) from Eq. (73) at the expected statistics.

    ω_thr = w = 1/2 + S/8 (an honest run exactly at its expectation, no completeness margin) and
    m = f N [(1 − γ) h(Q) + γ h(w)] (the paper's asymptotic error-correction overhead,
    Supplementary Eq. 17, times f: key rounds at the QBER, test rounds given Bob's output and both
    inputs at the CHSH loss rate 1 − w). Maximised over γ, t and α′ on fixed grids.
    """
    w = 0.5 + min(chsh, 2.0 * math.sqrt(2.0)) / 8.0
    best = np.zeros(n_pairs.shape)
    arg = np.full(n_pairs.shape, np.nan)
    if w <= 0.75:
        return best, arg
    for gamma in _GAMMAS:
        m = ec_efficiency * n_pairs * ((1.0 - gamma) * binary_entropy(qber) + gamma * binary_entropy(w))
        raw = _raw_bits(n_pairs, float(gamma), w, m, eps_snd).reshape(len(n_pairs), -1).max(axis=1)
        better = raw > best
        best = np.where(better, raw, best)
        arg = np.where(better, gamma, arg)
    bits = np.where(best >= 1.0, np.floor(_upsilon(np.maximum(best, 1.0))), 0.0)
    return bits, np.where(bits > 0, arg, np.nan)
