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
    gives c = 3 even when the product rounds a hair below.

    Parameters
    ----------
    cutoff_s : float
        Longest time a pair may wait in memory (s); ``inf`` for no cutoff.
    attempt_time_s : float
        Round length tau (s), > 0.

    Returns
    -------
    int or None
        The cutoff c in rounds, or ``None`` for no cutoff.

    Examples
    --------
    >>> import math
    >>> from qnet.repeater.waiting import cutoff_rounds
    >>> 0.3 / 0.1                       # floor() of this alone would give 2
    2.9999999999999996
    >>> cutoff_rounds(0.3, 0.1), cutoff_rounds(3.5e-3, 1e-3), cutoff_rounds(math.inf, 1e-3)
    (3, 3, None)
    """
    if math.isinf(cutoff_s):
        return None
    return int(math.floor(cutoff_s / attempt_time_s * (1.0 + TIME_RTOL)))


def geometric_pmf(p: float, n_rounds: int) -> np.ndarray:
    """PMF of the success round of one link: P(T = t) = p (1 - p)^(t - 1) for t >= 1.

    Parameters
    ----------
    p : float
        Success probability per round, in (0, 1].
    n_rounds : int
        Length of the grid t = 0 .. n_rounds - 1.

    Returns
    -------
    numpy.ndarray
        ``pmf[t]``, with ``pmf[0] = 0`` (a link needs at least one round).

    Raises
    ------
    ValueError
        If ``p`` is outside (0, 1].

    Examples
    --------
    >>> from qnet.repeater.waiting import geometric_pmf, pmf_mean
    >>> geometric_pmf(0.5, 5).tolist()
    [0.0, 0.5, 0.25, 0.125, 0.0625]
    >>> round(pmf_mean(geometric_pmf(0.25, 400)), 6)       # mean 1/p
    4.0
    """
    p = _check_p("p", p)
    t = np.arange(n_rounds, dtype=float)
    out = np.zeros(n_rounds)
    if n_rounds > 1:
        out[1:] = p * np.power(1.0 - p, t[1:] - 1.0)
    return out


def max_iid_pmf(pmf: np.ndarray, k: int = 2) -> np.ndarray:
    """PMF of the maximum of ``k`` independent copies of a variable with PMF ``pmf``.

    Parameters
    ----------
    pmf : numpy.ndarray
        PMF on the round grid.
    k : int, optional
        Number of copies (default 2).

    Returns
    -------
    numpy.ndarray
        P(max = t) = F(t)^k - F(t-1)^k on the same grid, F the CDF of ``pmf``.

    Examples
    --------
    Two links that must both succeed wait (3 - 2p)/(p (2 - p)) rounds on average:

    >>> from qnet.repeater.waiting import geometric_pmf, max_iid_pmf, pmf_mean
    >>> round(pmf_mean(max_iid_pmf(geometric_pmf(0.5, 200))), 6)    # 2/0.75
    2.666667
    """
    cdf = np.cumsum(np.asarray(pmf, dtype=float))
    ck = cdf**k
    return np.diff(ck, prepend=0.0)


def convolve(series: np.ndarray, kernel: np.ndarray, n: int | None = None) -> np.ndarray:
    """Truncated linear convolution over the first axis: out[t] = sum_k kernel[k] series[t-k].

    ``series`` has shape ``(m, ...)`` (real or complex; trailing axes are carried along),
    ``kernel`` is 1-D. The result has the shape of ``series`` with its first axis cut to ``n``
    (default: ``len(series)``). Uses FFTs (no wrap-around: the transform is zero-padded).

    Parameters
    ----------
    series : numpy.ndarray
        Shape (m, ...), time on the first axis.
    kernel : numpy.ndarray
        1-D, time on its only axis.
    n : int, optional
        Length of the result's first axis.

    Returns
    -------
    numpy.ndarray
        Shape (n, ...) (real for real inputs, complex otherwise).

    Examples
    --------
    A kernel that is one round of delay shifts the series:

    >>> import numpy as np
    >>> from qnet.repeater.waiting import convolve
    >>> (convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0]), 4).round(6) + 0.0).tolist()
    [0.0, 1.0, 2.0, 3.0]
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
    y: np.ndarray
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

    Parameters
    ----------
    first : numpy.ndarray
        Shape (n, ...): what one attempt delivers at each lag.
    kernel : numpy.ndarray
        1-D restart (sub-)PMF; cut or zero-padded to length n.

    Returns
    -------
    numpy.ndarray
        R, the shape of ``first``.

    Raises
    ------
    ValueError
        If ``kernel[0]`` is not 0.

    Examples
    --------
    An attempt of one round that succeeds with probability 1/2 and restarts otherwise
    completes at a geometric time:

    >>> import numpy as np
    >>> from qnet.repeater.waiting import renewal
    >>> one_round = np.array([0.0, 0.5, 0.0, 0.0, 0.0])
    >>> (renewal(one_round, one_round).round(6) + 0.0).tolist()
    [0.0, 0.5, 0.25, 0.125, 0.0625]
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

    Parameters
    ----------
    p : float
        Link success probability per round, in (0, 1].
    levels : int
        Nesting levels n (2^n links).
    n_rounds : int
        Grid length.
    swap_success : float, optional
        Swap success probability a, in (0, 1] (default 1).
    swap_rounds : int, optional
        Rounds a swap takes, m (default 0).

    Returns
    -------
    numpy.ndarray
        The completion-time PMF on the grid.

    Raises
    ------
    ValueError
        If ``p`` or ``swap_success`` is outside (0, 1].

    Examples
    --------
    One level with a = 1/2, m = 1 against the renewal closed form (E[max] + m) / a:

    >>> from qnet.repeater.waiting import nested_completion_pmf, pmf_mean, two_link_mean_rounds
    >>> pmf = nested_completion_pmf(0.5, 1, 300, swap_success=0.5, swap_rounds=1)
    >>> round(pmf_mean(pmf), 6), round(two_link_mean_rounds(0.5, swap_success=0.5, swap_rounds=1), 6)
    (7.333333, 7.333333)
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
    """Mean of a (truncated) PMF on the round grid, normalised by the captured mass.

    Parameters
    ----------
    pmf : numpy.ndarray
        ``pmf[t] = P(T = t)`` with a positive sum.

    Returns
    -------
    float
        sum_t t pmf[t] / sum_t pmf[t] (rounds).

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.waiting import pmf_mean
    >>> pmf_mean(np.array([0.0, 0.25, 0.25]))           # mass 1/2, conditional mean 1.5
    1.5
    """
    pmf = np.asarray(pmf, dtype=float)
    return float(np.dot(np.arange(len(pmf)), pmf) / pmf.sum())


# --------------------------------------------------------------------------- closed forms


def two_link_mean_rounds(p: float, cutoff: int | None = None, swap_success: float = 1.0, swap_rounds: int = 0) -> float:
    """Mean completion time (rounds) of two geometric links, docs/literature.md §5.6.

    No cutoff: (3 - 2p) / (p (2 - p)). Cutoff c (a pair may wait up to c rounds):
    [1 + 2(1-p)(1-(1-p)^c)] / [p(2-p) - 2p(1-p)^(c+1)]; it is 1/p^2 at c = 0. A swap that
    succeeds with probability a and takes ``swap_rounds`` m restarts both links on failure:
    E[T] = (E[T_attempt] + m) / a (renewal argument; a = 1, m = 0 gives the formulas above).

    Parameters
    ----------
    p : float
        Link success probability per round, in (0, 1].
    cutoff : int or None, optional
        Cutoff c in rounds (:func:`cutoff_rounds`), >= 0; ``None`` for none.
    swap_success : float, optional
        Swap success probability a, in (0, 1] (default 1).
    swap_rounds : int, optional
        Rounds a swap takes, m (default 0).

    Returns
    -------
    float
        Mean completion time (rounds).

    Raises
    ------
    ValueError
        If ``p`` or ``swap_success`` is outside (0, 1] or ``cutoff < 0``.

    Examples
    --------
    >>> from qnet.repeater.waiting import two_link_mean_rounds
    >>> round(two_link_mean_rounds(0.5), 6)                 # (3 - 1)/(0.5 * 1.5)
    2.666667
    >>> round(two_link_mean_rounds(0.5, cutoff=0), 6)       # both in the same round: 1/p^2
    4.0
    >>> round(two_link_mean_rounds(0.5, cutoff=2), 6)
    2.8
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

    Parameters
    ----------
    p : float
        Link success probability per round, in (0, 1].
    n_rounds : int
        Grid length.
    cutoff : int or None, optional
        Cutoff c in rounds; ``None`` for none.

    Returns
    -------
    numpy.ndarray
        ``pmf[k] = P(D = k)`` on the grid k = 0 .. n_rounds - 1.

    Raises
    ------
    ValueError
        If ``p`` is outside (0, 1].

    Examples
    --------
    >>> from qnet.repeater.waiting import two_link_storage_pmf
    >>> two_link_storage_pmf(0.5, 4).round(6).tolist()       # p/(2-p) = 1/3 at D = 0
    [0.333333, 0.333333, 0.166667, 0.083333]
    >>> two_link_storage_pmf(0.5, 4, cutoff=1).round(6).tolist()
    [0.5, 0.5, 0.0, 0.0]
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

    Parameters
    ----------
    p : float
        Link success probability per round, in (0, 1].
    lam : float
        Decay exponent per round, >= 0.
    cutoff : int or None, optional
        Cutoff c in rounds; ``None`` for none.

    Returns
    -------
    float
        The mean decay factor, in (0, 1].

    Raises
    ------
    ValueError
        If ``p`` is outside (0, 1].

    Examples
    --------
    The closed form against the sum over :func:`two_link_storage_pmf`:

    >>> import numpy as np
    >>> from qnet.repeater.waiting import two_link_mean_decay, two_link_storage_pmf
    >>> d = two_link_storage_pmf(0.5, 400, cutoff=2)
    >>> round(two_link_mean_decay(0.5, 0.1, cutoff=2), 6) == round(float(d @ np.exp(-0.1 * np.arange(400))), 6)
    True
    >>> round(two_link_mean_decay(0.5, 0.0), 6)                 # no decay
    1.0
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

    Parameters
    ----------
    n : int
        Number of links.
    p : float
        Link success probability per round, in (0, 1].

    Returns
    -------
    float
        Mean completion time (rounds).

    Raises
    ------
    ValueError
        If ``p`` is outside (0, 1].

    Examples
    --------
    >>> from qnet.repeater.waiting import n_link_mean_rounds_alternating
    >>> round(n_link_mean_rounds_alternating(2, 0.5), 6)        # 2/p - 1/(1 - (1-p)^2)
    2.666667
    """
    p = _check_p("p", p)
    return float(sum((-1) ** (k + 1) * math.comb(n, k) / (1.0 - (1.0 - p) ** k) for k in range(1, n + 1)))


def n_link_mean_rounds(n: int, p: float, rtol: float = 1e-15) -> float:
    """E[max of n independent geometric(p)] = sum_{t>=0} [1 - (1 - (1-p)^t)^n], summed stably.

    This is the mean completion time of n links with deterministic swaps and no cutoff,
    whatever the swap order (docs/literature.md §5.6). Terms are evaluated as -expm1(n log1p(-q^t)).

    Parameters
    ----------
    n : int
        Number of links, >= 1.
    p : float
        Link success probability per round, in (0, 1].
    rtol : float, optional
        Relative accuracy at which the sum stops (default 1e-15).

    Returns
    -------
    float
        Mean completion time (rounds).

    Raises
    ------
    ValueError
        If ``p`` is outside (0, 1] or ``n < 1``.

    Examples
    --------
    >>> from qnet.repeater.waiting import n_link_mean_rounds, n_link_mean_rounds_alternating
    >>> round(n_link_mean_rounds(1, 0.25), 6)                   # one link: 1/p
    4.0
    >>> round(n_link_mean_rounds(8, 0.1), 6) == round(n_link_mean_rounds_alternating(8, 0.1), 6)
    True
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
