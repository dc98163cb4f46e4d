"""Exact mode of a repeater chain: state-valued PMFs on the round grid.

M(t) = P(T = t) E[rho | T = t], truncated where the remaining tail mass is below
``tail_tolerance``. Supported: one link; two links (any decay law, different p / rho / memories,
cutoff, probabilistic swap, swap time multiple of tau); nested 2^n chains of identical links with
exponential decay and no cutoff (Brand-Coopmans-Elkouss recursion with states, the earlier
segment decayed by a cached channel power). Anything else raises ``ValueError`` saying why;
chains with purified links are Monte Carlo only.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from qnet.errors import ConfigError, QnetError
from qnet.repeater.waiting import TIME_RTOL, convolve, renewal
from qnet.repeater.chain.linalg import (
    PSI_PLUS,
    SwapFn,
    apply_pair,
    bilinear,
    default_swap_fn,
    pair_superop,
    powers_apply,
    storage_superop,
    swap_tensor,
    waiting_filter,
)
from qnet.repeater.chain.model import ChainLink, Pair, RepeaterChain
from qnet.repeater.chain.results import ChainExactResult

__all__ = ["exact_chain", "two_link_pmf", "nested_pmf"]


def _unsupported(why: str) -> QnetError:
    return QnetError(f"exact mode is not available for this chain: {why}; use simulate_chain (Monte Carlo)")


def _rounds_of(time_s: float, tau: float, what: str) -> int:
    m = round(time_s / tau)
    if abs(time_s - m * tau) > TIME_RTOL * max(time_s, tau):
        raise _unsupported(f"{what} = {time_s!r} s is not a whole number of attempt rounds ({tau!r} s)")
    return int(m)


def _tr(vecs: np.ndarray) -> np.ndarray:
    """Traces of row-major vectorised 4x4 matrices (n, 16)."""
    return np.real(vecs[:, 0] + vecs[:, 5] + vecs[:, 10] + vecs[:, 15])


def _finish_exact(m: np.ndarray, tau: float) -> ChainExactResult:
    pmf = _tr(m)
    mass = float(pmf.sum())
    mean_rounds = float(np.dot(np.arange(len(pmf)), pmf) / mass)
    state = (m.sum(axis=0) / mass).reshape(4, 4)
    state = (state + state.conj().T) / 2
    pmf.setflags(write=False)
    return ChainExactResult(
        fidelity=float(np.real(PSI_PLUS.conj() @ state @ PSI_PLUS)),
        rate_hz=1.0 / (mean_rounds * tau),
        mean_completion_time_s=mean_rounds * tau,
        completion_time_pmf=pmf,
        round_time_s=tau,
        tail_mass=max(0.0, 1.0 - mass),
        mean_state=state,
    )


def _initial_rounds(p: float, tol: float, extra: int, max_rounds: int) -> int:
    """First grid length: one link's tail below ``tol``; refused up front beyond ``max_rounds``.

    The grid holds a 4x4 state per round, so this bounds the memory before anything is allocated.
    """
    n: float
    if p >= 1.0:
        n = 4 + extra
    else:
        n = math.ceil(math.log(tol) / math.log1p(-p)) + extra + 4 if p > 0.0 else math.inf
    if n > max_rounds:
        raise QnetError(
            f"exact mode would need about {n:.3g} rounds (success probability {p:.3g} per round), more than "
            f"max_rounds = {max_rounds} ({max_rounds * 256 / 2**20:.0f} MiB per state grid); use simulate_chain (Monte Carlo)"
        )
    return min(1 << max(4, int(math.ceil(math.log2(n)))), max(int(n), max_rounds))


def _link_series(p: float, rho_vec: np.ndarray, n: int) -> np.ndarray:
    """State-valued PMF of one link: M[t] = p (1-p)^(t-1) rho for t >= 1."""
    t = np.arange(n, dtype=float)
    w = np.zeros(n)
    w[1:] = p * np.power(1.0 - p, t[1:] - 1.0)
    return w[:, None] * rho_vec[None, :]


def _get_tensor(tensor_cache: dict, swap_fn: SwapFn, g: float, r: float) -> np.ndarray:
    """The swap tensor for fidelities (g, r), computed once per cache."""
    if (g, r) not in tensor_cache:
        tensor_cache[(g, r)] = swap_tensor(swap_fn, g, r)
    return tensor_cache[(g, r)]


def _waited(link: ChainLink, tau: float, kmax: int) -> np.ndarray:
    """vec of the link's pair after waiting k = 0..kmax rounds, (kmax+1, 16)."""
    rv = link.rho.ravel()
    if link.memory_a.semigroup and link.memory_b.semigroup:
        d1 = pair_superop(storage_superop(link.memory_a, 0.0, tau), storage_superop(link.memory_b, 0.0, tau))
        return powers_apply(d1, rv, kmax)
    s_a, s_b = link.storage_time_s  # type: ignore[misc]
    ks = np.arange(kmax + 1)
    sa = np.array([storage_superop(link.memory_a, s_a, s_a + k * tau) for k in ks])
    sb = np.array([storage_superop(link.memory_b, s_b, s_b + k * tau) for k in ks])
    return apply_pair(np.repeat(link.rho[None], kmax + 1, axis=0), sa, sb).reshape(-1, 16)


def _swap_time_decay(
    chain: RepeaterChain, swap_s: float, states: np.ndarray, age_a_s: np.ndarray, age_b_s: np.ndarray
) -> np.ndarray:
    """Outer memories (A of link 1, B of link 2) decay during the swap time ``swap_s``."""
    if swap_s == 0:
        return states
    mem_a, mem_b = chain.links[0].memory_a, chain.links[1].memory_b
    if mem_a.semigroup and mem_b.semigroup:
        dd = pair_superop(storage_superop(mem_a, 0.0, swap_s), storage_superop(mem_b, 0.0, swap_s))
        return states @ dd.T
    sa = np.array([storage_superop(mem_a, x, x + swap_s) for x in age_a_s])
    sb = np.array([storage_superop(mem_b, y, y + swap_s) for y in age_b_s])
    return apply_pair(states.reshape(-1, 4, 4), sa, sb).reshape(-1, 16)


def two_link_pmf(chain: RepeaterChain, swap_fn: SwapFn, n_rounds: int, tensor_cache: dict) -> np.ndarray:
    """State-valued completion PMF of a two-link chain (any decay law, cutoff allowed).

    Renewal argument: from a fresh start both links attempt; at the first round u in which
    at least one succeeds either both did (swap at once), or one pair waits while the other
    link (memoryless) keeps trying: it succeeds k <= c rounds later (swap with the waiting pair
    decayed k rounds) or the pair is discarded after c rounds, which is a fresh start. A failed
    swap is a fresh start too. R = S + K * R with S the successful attempts and K the restarts.

    Parameters
    ----------
    chain : RepeaterChain
        Two links whose cutoff and swap time are whole rounds (as :func:`exact_chain` checks).
    swap_fn : callable
        The swap (a quantum channel on the two pairs).
    n_rounds : int
        Length of the round grid.
    tensor_cache : dict
        Swap tensors by (gate, readout) fidelity, filled on use (shared between grid sizes).

    Returns
    -------
    ndarray, shape (n_rounds, 16)
        M[t] = P(T = t) E[vec rho | T = t]; its traces are the completion-time PMF.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import ChainLink, RepeaterChain
    >>> from qnet.repeater.chain.exact import two_link_pmf
    >>> from qnet.repeater.chain.linalg import default_swap_fn
    >>> link = ChainLink(np.eye(4) / 4, 0.5, 1e-3)
    >>> m = two_link_pmf(RepeaterChain((link, link)), default_swap_fn(), 64, {})
    >>> pmf = np.real(m[:, 0] + m[:, 5] + m[:, 10] + m[:, 15])
    >>> [round(float(x), 6) for x in pmf[1:4]]  # P(T = t): max of two Geom(1/2)
    [0.25, 0.3125, 0.203125]
    """
    n = n_rounds
    l1, l2 = chain.links
    node = chain.node_at(1)
    assert node is not None
    tau = l1.attempt_time_s
    p1, p2 = chain.success_per_round(0), chain.success_per_round(1)
    q1, q2 = 1.0 - p1, 1.0 - p2
    a = node.swap_success_probability
    m_sw = _rounds_of(node.swap_time_s, tau, "swap_time_s")
    c = None if math.isinf(node.cutoff_s) else _rounds_of(node.cutoff_s, tau, "cutoff_s")
    kmax = n - 1 if c is None else min(c, n - 1)
    tens = _get_tensor(tensor_cache, swap_fn, node.gate_fidelity, node.readout_fidelity)
    ks = np.arange(kmax + 1)
    # the outer memories' storage times (ChainLink keeps a pair once constructed)
    s1a, s2b = cast(Pair, l1.storage_time_s)[0], cast(Pair, l2.storage_time_s)[1]
    w1 = _waited(l1, tau, kmax)  # link 1's pair waited k rounds
    w2 = _waited(l2, tau, kmax)
    r1 = np.repeat(l1.rho.ravel()[None], kmax + 1, axis=0)
    r2 = np.repeat(l2.rho.ravel()[None], kmax + 1, axis=0)
    first_wait = _swap_time_decay(chain, m_sw * tau, bilinear(tens, w1, r2), s1a + ks * tau, np.full(kmax + 1, s2b))
    second_wait = _swap_time_decay(chain, m_sw * tau, bilinear(tens, r1, w2), np.full(kmax + 1, s1a), s2b + ks * tau)
    # probability weights by offset k (rounds after the first success round u)
    w_first = np.zeros(kmax + 1)  # link 1 first, link 2 k rounds later
    w_second = np.zeros(kmax + 1)
    w_first[1:] = p1 * q2 * np.power(q2, ks[1:] - 1.0) * p2
    w_second[1:] = q1 * p2 * np.power(q1, ks[1:] - 1.0) * p1
    offsets = w_first[:, None] * first_wait + w_second[:, None] * second_wait
    offsets[0] = p1 * p2 * first_wait[0]  # both in the same round: no wait
    # shift by the swap time and spread over the first-success round u >= 1: G[u] = (q1 q2)^(u-1)
    shifted = np.zeros((n, 16), dtype=complex)
    top = min(n - m_sw, kmax + 1)
    if top > 0:
        shifted[m_sw : m_sw + top] = offsets[:top]
    g = np.zeros(n)
    g[1:] = np.power(q1 * q2, np.arange(n - 1, dtype=float))
    attempt = convolve(shifted, g, n)
    success = a * attempt
    restart = np.zeros(n)
    if c is not None and c < n:
        disc = np.zeros(n)
        disc[c] = p1 * q2 * q2**c + q1 * p2 * q1**c  # the waiting pair is discarded after c rounds
        restart += convolve(disc, g, n)
    if a < 1.0:
        restart += (1.0 - a) * _tr(attempt)
    if restart.any():
        return renewal(success, restart)
    return success


def nested_pmf(chain: RepeaterChain, swap_fn: SwapFn, n_rounds: int, tensor_cache: dict) -> np.ndarray:
    """State-valued completion PMF of a nested 2^k chain of identical links (exponential decay).

    Level by level (Brand-Coopmans-Elkouss with states): both halves have state-valued PMF M;
    W(t) = sum_{k>=1} D^k M(t-k) is the earlier half's mass decayed to t (D = one round of storage
    of a pair, a semigroup), so the swap attempt completing at t + m carries
    D^m [B(W(t), M(t)) + B(M(t), W(t)) + B(M(t), M(t))]; a failed swap (prob 1 - a) restarts both
    halves: M' = a A + (1 - a) tr(A) * M'.

    Parameters
    ----------
    chain : RepeaterChain
        2^k identical links with semigroup memories and no cutoffs (as :func:`exact_chain` checks).
    swap_fn : callable
        The swap (a quantum channel on the two pairs).
    n_rounds : int
        Length of the round grid.
    tensor_cache : dict
        Swap tensors by (gate, readout) fidelity, filled on use.

    Returns
    -------
    ndarray, shape (n_rounds, 16)
        M[t] = P(T = t) E[vec rho | T = t].

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import ChainLink, RepeaterChain
    >>> from qnet.repeater.chain.exact import nested_pmf, two_link_pmf
    >>> from qnet.repeater.chain.linalg import default_swap_fn
    >>> link = ChainLink(np.eye(4) / 4, 0.5, 1e-3, memory_a=(0.01, float("inf"), "exponential"))
    >>> chain = RepeaterChain((link, link))
    >>> a = nested_pmf(chain, default_swap_fn(), 64, {})
    >>> bool(np.allclose(a, two_link_pmf(chain, default_swap_fn(), 64, {}), atol=1e-12))
    True
    """
    n = n_rounds
    link = chain.links[0]
    tau = link.attempt_time_s
    levels = int(round(math.log2(chain.n_links)))
    d1 = pair_superop(storage_superop(link.memory_a, 0.0, tau), storage_superop(link.memory_b, 0.0, tau))
    m = _link_series(chain.success_per_round(0), link.rho.ravel(), n)
    for lev in range(levels):
        size = 1 << lev
        node = chain.node_at(size)
        assert node is not None
        a = node.swap_success_probability
        m_sw = _rounds_of(node.swap_time_s, tau, "swap_time_s")
        tens = _get_tensor(tensor_cache, swap_fn, node.gate_fidelity, node.readout_fidelity)
        w = waiting_filter(d1, m)
        pre = bilinear(tens, w, m) + bilinear(tens, m, w) + bilinear(tens, m, m)
        if m_sw:
            pre = pre @ np.linalg.matrix_power(d1, m_sw).T
        attempt = np.zeros_like(pre)
        if m_sw < n:
            attempt[m_sw:] = pre[: n - m_sw]
        m = attempt if a >= 1.0 else renewal(a * attempt, (1.0 - a) * _tr(attempt))
    return m


def _check_exact_supported(chain: RepeaterChain) -> str:
    """Which exact algorithm applies ("one", "two", "nested"); raise ValueError if none does."""
    links, n = chain.links, chain.n_links
    for i, link in enumerate(links):
        if link.purification is not None:
            raise _unsupported(
                f"link {i} purifies before swapping (its time is a sum of purification trials, not "
                "geometric on the round grid)"
            )
    if n == 1:
        return "one"
    tau = links[0].attempt_time_s
    for i, link in enumerate(links):
        if abs(link.attempt_time_s - tau) > TIME_RTOL * tau:
            raise _unsupported(
                f"links attempt in rounds of different lengths (link 0: {tau!r} s, link {i}: {link.attempt_time_s!r} s)"
            )
    for j in range(1, n):
        node = chain.node_at(j)
        assert node is not None
        _rounds_of(node.swap_time_s, tau, f"nodes[{j - 1}].swap_time_s")
        if math.isfinite(node.cutoff_s):
            # a discard off the round grid restarts the link mid-round: the links leave lockstep
            _rounds_of(node.cutoff_s, tau, f"nodes[{j - 1}].cutoff_s")
    if n == 2:
        return "two"
    if chain.swap_policy != "nested":
        raise _unsupported(
            f"swap-as-soon-as-possible on {n} links makes the delivered state depend on the order of "
            "heralds (no state recursion); exact mode covers 1 or 2 links, or swap_policy='nested' on 2^k links"
        )
    for j in range(1, n):
        node = chain.node_at(j)
        assert node is not None
        if math.isfinite(node.cutoff_s):
            raise _unsupported(
                f"cutoffs are exact only for 2 links (nodes[{j - 1}].cutoff_s = {node.cutoff_s!r} s on {n} links)"
            )
    l0 = links[0]
    for mem in (l0.memory_a, l0.memory_b):
        if not mem.semigroup:
            raise _unsupported(
                "gaussian dephasing depends on each memory's absolute age, which the nested recursion "
                "does not track (it is exact for exponential decay only beyond 2 links)"
            )
    p0 = chain.success_per_round(0)
    for i, link in enumerate(links[1:], start=1):
        same = (
            np.allclose(link.rho, l0.rho, rtol=0, atol=1e-12)
            and abs(chain.success_per_round(i) - p0) <= 1e-12 * p0
            and link.memory_a == l0.memory_a
            and link.memory_b == l0.memory_b
        )
        if not same:
            raise _unsupported(f"the nested recursion needs identical links (link {i} differs from link 0)")
    levels = int(round(math.log2(n)))
    for lev in range(levels):
        size = 1 << lev
        ref = chain.node_at(size)
        for j in range(size, n, 2 * size):
            node = chain.node_at(j)
            if node != ref:
                raise _unsupported(
                    f"the nested recursion needs identical repeaters per nesting level (node at boundary {j} differs from boundary {size})"
                )
    return "nested"


def exact_chain(
    chain: RepeaterChain,
    *,
    swap_fn: SwapFn | None = None,
    tail_tolerance: float = 1e-12,
    max_rounds: int = 1 << 20,
) -> ChainExactResult:
    """Exact completion-time PMF, rate and mean delivered fidelity (where an exact method exists).

    The grid starts long enough for one link's tail to fall below ``tail_tolerance`` and doubles
    until the captured mass of the end-to-end completion time is >= 1 - tail_tolerance (at most
    ``max_rounds`` rounds). Supported chains: see :mod:`qnet.repeater.chain.exact`.

    Parameters
    ----------
    chain : RepeaterChain
        The chain.
    swap_fn : callable, optional
        A swap that is a quantum channel on the two pairs; default :func:`qnet.repeater.swapping.swap`.
    tail_tolerance : float
        Completion-time mass allowed beyond the grid, in (0, 1e-3).
    max_rounds : int
        Longest grid (rounds); each round holds a 4x4 state.

    Returns
    -------
    ChainExactResult

    Raises
    ------
    ConfigError
        ``chain`` is not a RepeaterChain or ``tail_tolerance`` is out of range.
    QnetError
        (a ``ValueError``) naming the reason when the chain is outside the supported cases, or
        the grid would need more than ``max_rounds`` rounds.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import bell_state
    >>> from qnet.repeater.chain import ChainLink, RepeaterChain, RepeaterNode, exact_chain
    >>> psi = bell_state("psi+")
    >>> rho = 0.9 * np.outer(psi, psi.conj()) + 0.1 * np.eye(4) / 4
    >>> link = ChainLink(rho, success_probability=0.2, attempt_time_s=1e-3)
    >>> r = exact_chain(RepeaterChain((link, link), RepeaterNode(gate_fidelity=0.99)))
    >>> round(r.fidelity, 4), round(r.rate_hz, 2), r.tail_mass < 1e-12
    (0.8514, 138.46, True)
    """
    if not isinstance(chain, RepeaterChain):
        raise ConfigError("exact_chain", "chain", type(chain).__name__, "a RepeaterChain")
    if not 0.0 < tail_tolerance < 1e-3:
        raise ConfigError("exact_chain", "tail_tolerance", tail_tolerance, "a number in (0, 1e-3)")
    algo = _check_exact_supported(chain)
    tau = chain.links[0].attempt_time_s
    if algo == "one":
        p = chain.success_per_round(0)
        n = _initial_rounds(p, tail_tolerance, 0, max_rounds)
        while True:
            m = _link_series(p, chain.links[0].rho.ravel(), n)
            if 1.0 - _tr(m).sum() <= tail_tolerance or n >= max_rounds:
                break
            n *= 2
    else:
        swap_fn = default_swap_fn() if swap_fn is None else swap_fn
        p_min = min(chain.success_per_round(i) for i in range(chain.n_links))
        extra = sum(_rounds_of(node.swap_time_s, tau, "swap_time_s") for node in chain.nodes or ())
        n = _initial_rounds(p_min, tail_tolerance / chain.n_links, extra, max_rounds)
        tensors: dict = {}
        while True:
            m = (two_link_pmf if algo == "two" else nested_pmf)(chain, swap_fn, n, tensors)
            if 1.0 - _tr(m).sum() <= tail_tolerance or n >= max_rounds:
                break
            n *= 2
    tail = 1.0 - _tr(m).sum()
    if tail > tail_tolerance:
        raise QnetError(
            f"exact mode would need more than max_rounds = {max_rounds} rounds to capture all but "
            f"{tail_tolerance:g} of the completion-time distribution (tail {tail:.3g}); raise max_rounds "
            "or use simulate_chain"
        )
    return _finish_exact(m, tau)
