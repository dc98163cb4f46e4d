"""Waiting times of repeater chains: pure time distributions (no quantum states).

Time is counted in attempt *rounds* of length tau: every elementary link attempts once per
round and succeeds with probability ``p`` (``docs/conventions.md``, "Repeaters"). A probability mass
function (PMF) is an array ``pmf[t] = P(T = t rounds)`` on the grid t = 0, 1, ..., n - 1; the
tail beyond the grid is simply cut off, so ``1 - pmf.sum()`` is the truncated tail mass.

This module holds

* closed forms of docs/literature.md §5.6 (two links with and without a memory cutoff, N links
  without cutoff, probabilistic swapping), used as oracles by the tests and by people;
* grid tools shared with :mod:`qnet.repeater.chain`'s exact mode: truncated convolution
  (:func:`convolve`), the renewal equation R = S + K * R (:func:`renewal`), and the scalar
  Brand-Coopmans-Elkouss recursion for nested 2^n-link chains (:func:`nested_completion_pmf`).

The grid tools accept state-valued series too: any array of shape ``(n, ...)`` whose first
axis is time (qnet.repeater.chain convolves "state-valued PMFs" M(t) = P(T = t) E[rho | T = t] with them).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "TIME_RTOL",
    "cutoff_rounds",
    "geometric_pmf",
    "max_iid_pmf",
    "convolve",
    "renewal",
    "nested_completion_pmf",
    "pmf_mean",
    "two_link_mean_rounds",
    "two_link_storage_pmf",
    "two_link_mean_decay",
    "n_link_mean_rounds",
    "n_link_mean_rounds_alternating",
]

#: Relative tolerance used to compare times (``docs/conventions.md``: never exact float equality).
TIME_RTOL = 1e-9


def _check_p(name: str, p: float, allow_zero: bool = False) -> float:
    p = float(p)
    lo_ok = p >= 0.0 if allow_zero else p > 0.0
    if not (lo_ok and p <= 1.0):
        raise ValueError(f"{name} must be in {'[0' if allow_zero else '(0'}, 1], got {p!r}")
    return p


def cutoff_rounds(cutoff_s: float, attempt_time_s: float) -> int | None:
    """Number of rounds c a pair may wait under a cutoff: the largest c with c*tau <= cutoff_s.

    The comparison uses the relative tolerance :data:`TIME_RTOL`, so ``cutoff_s = 3 * tau``
    gives c = 3 even when the product rounds a hair below. ``inf`` (no cutoff) gives ``None``.
    """
    if math.isinf(cutoff_s):
        return None
    return int(math.floor(cutoff_s / attempt_time_s * (1.0 + TIME_RTOL)))


def geometric_pmf(p: float, n_rounds: int) -> np.ndarray:
    """PMF of the success round of one link: P(T = t) = p (1 - p)^(t - 1) for t >= 1."""
    p = _check_p("p", p)
    t = np.arange(n_rounds, dtype=float)
    out = np.zeros(n_rounds)
    if n_rounds > 1:
        out[1:] = p * np.power(1.0 - p, t[1:] - 1.0)
    return out


def max_iid_pmf(pmf: np.ndarray, k: int = 2) -> np.ndarray:
    """PMF of the maximum of ``k`` independent copies of a variable with PMF ``pmf``."""
    cdf = np.cumsum(np.asarray(pmf, dtype=float))
    ck = cdf**k
    return np.diff(ck, prepend=0.0)


def convolve(series: np.ndarray, kernel: np.ndarray, n: int | None = None) -> np.ndarray:
    """Truncated linear convolution over the first axis: out[t] = sum_k kernel[k] series[t-k].

    ``series`` has shape ``(m, ...)`` (real or complex; trailing axes are carried along),
    ``kernel`` is 1-D. The result has the shape of ``series`` with its first axis cut to ``n``
    (default: ``len(series)``). Uses FFTs (no wrap-around: the transform is zero-padded).
    """
    x = np.asarray(series)
    k = np.asarray(kernel)
    n = x.shape[0] if n is None else n
    m = min(x.shape[0], n)
    kk = min(k.shape[0], n)
    if m == 0 or kk == 0:
        return np.zeros((n,) + x.shape[1:], dtype=np.result_type(x, k, float))
    x = x[:m]
    k = k[:kk]
    size = 1 << int(math.ceil(math.log2(m + kk - 1))) if m + kk > 2 else 1
    kshape = (kk,) + (1,) * (x.ndim - 1)
    if np.iscomplexobj(x) or np.iscomplexobj(k):
        fx = np.fft.fft(x, size, axis=0)
        fk = np.fft.fft(k.reshape(kshape), size, axis=0)
        y = np.fft.ifft(fx * fk, size, axis=0)
    else:
        fx = np.fft.rfft(x, size, axis=0)
        fk = np.fft.rfft(k.reshape(kshape), size, axis=0)
        y = np.fft.irfft(fx * fk, size, axis=0)
    out = np.zeros((n,) + x.shape[1:], dtype=y.dtype)
    top = min(n, size)
    out[:top] = y[:top]
    return out


def renewal(first: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Solve R = first + kernel * R on the grid (truncated to ``len(first)``).

    ``kernel[t]`` is the (sub-)probability that an attempt fails and everything starts afresh
    t rounds after its start; ``first`` is what a single attempt delivers (possibly
    state-valued, shape ``(n, ...)``). The solution sum_j kernel^{*j} * first is built by
    doubling, R <- R + K^{*2^i} * R, which needs only log2(n) + 1 convolutions because the
    support of K^{*2^i} starts at lag >= 2^i. ``kernel[0]`` must be 0 (a restart takes time).
    """
    r = np.array(first, copy=True)
    n = r.shape[0]
    k = np.zeros(n)
    kin = np.asarray(kernel, dtype=float)[:n]
    k[: len(kin)] = kin
    if abs(k[0]) > 1e-12:
        raise ValueError("renewal kernel must vanish at lag 0 (a restart takes at least one round)")
    k[0] = 0.0  # FFT round-off
    while True:
        nz = np.flatnonzero(k)
        if nz.size == 0 or k.sum() < 1e-300:
            return r
        r = r + convolve(r, k, n)
        k = convolve(k, k, n)
        k[np.abs(k) < 1e-300] = 0.0


def nested_completion_pmf(
    p: float,
    levels: int,
    n_rounds: int,
    swap_success: float = 1.0,
    swap_rounds: int = 0,
) -> np.ndarray:
    """Completion-time PMF of a nested 2^levels-link chain (Brand-Coopmans-Elkouss recursion).

    T_{k+1} = sum_{j=1}^{K} [max(T_k^A, T_k^B) + swap_rounds] with K ~ Geom(swap_success): a
    failed swap restarts both halves from scratch. Links are geometric with success ``p`` per
    round; no cutoff. Truncated to ``n_rounds``.
    """
    a = _check_p("swap_success", swap_success)
    pmf = geometric_pmf(p, n_rounds)
    for _ in range(levels):
        att = np.zeros(n_rounds)
        mx = max_iid_pmf(pmf, 2)
        att[swap_rounds:] = mx[: n_rounds - swap_rounds]
        pmf = att if a == 1.0 else renewal(a * att, (1.0 - a) * att)
    return pmf


def pmf_mean(pmf: np.ndarray) -> float:
    """Mean of a (truncated) PMF on the round grid, normalised by the captured mass."""
    pmf = np.asarray(pmf, dtype=float)
    return float(np.dot(np.arange(len(pmf)), pmf) / pmf.sum())


# --------------------------------------------------------------------------- closed forms


def two_link_mean_rounds(
    p: float, cutoff: int | None = None, swap_success: float = 1.0, swap_rounds: int = 0
) -> float:
    """Mean completion time (rounds) of two geometric links, docs/literature.md §5.6.

    No cutoff: (3 - 2p) / (p (2 - p)). Cutoff c (a pair may wait up to c rounds):
    [1 + 2(1-p)(1-(1-p)^c)] / [p(2-p) - 2p(1-p)^(c+1)]; it is 1/p^2 at c = 0. A swap that
    succeeds with probability a and takes ``swap_rounds`` m restarts both links on failure:
    E[T] = (E[T_attempt] + m) / a (renewal argument; a = 1, m = 0 gives the formulas above).
    """
    p = _check_p("p", p)
    a = _check_p("swap_success", swap_success)
    if cutoff is None:
        base = (3.0 - 2.0 * p) / (p * (2.0 - p))
    else:
        if cutoff < 0:
            raise ValueError(f"cutoff must be >= 0 rounds, got {cutoff}")
        q = 1.0 - p
        base = (1.0 + 2.0 * q * (1.0 - q**cutoff)) / (p * (2.0 - p) - 2.0 * p * q ** (cutoff + 1))
    return (base + swap_rounds) / a


def two_link_storage_pmf(p: float, n_rounds: int, cutoff: int | None = None) -> np.ndarray:
    """PMF of the storage time D = |X - Y| (rounds) of the *delivered* pair, two links.

    No cutoff: P(D=0) = p/(2-p), P(D=k) = 2p(1-p)^k/(2-p). Cutoff c: P(D=0) = p^2/Z,
    P(D=k) = 2p^2(1-p)^k/Z for 1 <= k <= c, Z = p^2 + 2p(1-p)(1-(1-p)^c) (docs/literature.md §5.6).
    """
    p = _check_p("p", p)
    q = 1.0 - p
    k = np.arange(n_rounds, dtype=float)
    if cutoff is None:
        out = 2.0 * p * q**k / (2.0 - p)
        out[0] = p / (2.0 - p)
        return out
    z = p * p + 2.0 * p * q * (1.0 - q**cutoff)
    out = np.where(k <= cutoff, 2.0 * p * p * q**k / z, 0.0)
    out[0] = p * p / z
    return out


def two_link_mean_decay(p: float, lam: float, cutoff: int | None = None) -> float:
    """E[exp(-lam D)] for the storage time D of the delivered pair (docs/literature.md §5.6).

    No cutoff: p(1+q)/((2-p)(1-q)) with q = (1-p) e^(-lam). Cutoff c:
    [p^2 + 2p^2(1-p) e^(-lam) (1-q^c)/(1-q)] / Z. ``lam`` is the decay exponent per round of
    the quantity considered (e.g. 2 tau / T2 for the coherence of a pair whose two memories
    dephase exponentially with T2, or tau / T_coh in general).
    """
    p = _check_p("p", p)
    q = (1.0 - p) * math.exp(-lam)
    if cutoff is None:
        return p * (1.0 + q) / ((2.0 - p) * (1.0 - q))
    z = p * p + 2.0 * p * (1.0 - p) * (1.0 - (1.0 - p) ** cutoff)
    return (p * p + 2.0 * p * p * (1.0 - p) * math.exp(-lam) * (1.0 - q**cutoff) / (1.0 - q)) / z


def n_link_mean_rounds_alternating(n: int, p: float) -> float:
    """E[max of n geometric(p)] = sum_{k=1}^{n} (-1)^(k+1) C(n,k) / (1 - (1-p)^k).

    The textbook form of docs/literature.md §5.6; it cancels catastrophically for large n (use
    :func:`n_link_mean_rounds` beyond n ~ 30).
    """
    p = _check_p("p", p)
    return float(sum((-1) ** (k + 1) * math.comb(n, k) / (1.0 - (1.0 - p) ** k) for k in range(1, n + 1)))


def n_link_mean_rounds(n: int, p: float, rtol: float = 1e-15) -> float:
    """E[max of n independent geometric(p)] = sum_{t>=0} [1 - (1 - (1-p)^t)^n], summed stably.

    This is the mean completion time of n links with deterministic swaps and no cutoff,
    whatever the swap order (docs/literature.md §5.6). Terms are evaluated as -expm1(n log1p(-q^t)).
    """
    p = _check_p("p", p)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if p == 1.0:
        return 1.0
    q = 1.0 - p
    # the term is ~ n q^t; stop once n q^t < rtol * (1/p)
    t_max = int(math.ceil((math.log(rtol) - math.log(n) - math.log(1.0 / p)) / math.log(q))) + 2
    t = np.arange(1, max(t_max, 2), dtype=float)
    terms = -np.expm1(n * np.log1p(-np.power(q, t)))  # P(max > t) for t >= 1
    return float(1.0 + terms.sum())  # t = 0 contributes P(max > 0) = 1
