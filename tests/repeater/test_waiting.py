"""Pure waiting-time tools (qnet.repeater.waiting) against independent references.

The references are written here from first principles: a per-round Markov chain solved as a
linear system for two links with a cutoff, brute-force enumeration of maxima of geometric
variables, and O(n^2) direct recursions for convolutions and renewal equations. The closed
forms are literature.md §5.6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qnet.repeater import waiting


def markov_two_links(p: float, c: int | None, lam: float = 0.0):
    """E[T] (rounds) and E[exp(-lam D)] of two lockstep links with cutoff c, by a linear solve.

    States: s0 = both links attempting; w_j = one pair stored, age j rounds (0 <= j < c).
    Each round both attempting links try once. From s0: both succeed -> done (D = 0); one
    succeeds -> w_0, or straight back to s0 when c = 0 (the pair is discarded at once and its
    link attempts again next round, in lockstep); none -> s0. From w_j: the other link
    succeeds -> done with D = j + 1; fails -> w_{j+1}, or s0 if the pair has now waited c
    rounds (discarded; its link restarts at once). c = None: no cutoff (truncated at a large
    age where the remaining probability is negligible).
    """
    q = 1.0 - p
    cc = int(40 / p) + 10 if c is None else c  # q^cc < 1e-17: the truncated tail is negligible
    ns = 1 + cc  # s0, w_0..w_{cc-1}
    a_t = np.eye(ns)
    b_t = np.ones(ns)
    a_v = np.eye(ns)
    b_v = np.zeros(ns)
    # s0
    a_t[0, 0] -= q * q
    a_v[0, 0] -= q * q
    b_v[0] += p * p
    nxt = 0 if cc == 0 else 1
    a_t[0, nxt] -= 2 * p * q
    a_v[0, nxt] -= 2 * p * q
    for j in range(cc):
        row = 1 + j
        b_v[row] += p * math.exp(-lam * (j + 1))
        target = row + 1 if j + 1 < cc else (0 if c is not None else None)
        if target is not None:
            a_t[row, target] -= q
            a_v[row, target] -= q
    et = np.linalg.solve(a_t, b_t)[0]
    ev = np.linalg.solve(a_v, b_v)[0]
    return et, ev


@pytest.mark.parametrize("p", [0.05, 0.3, 0.77, 1.0])
@pytest.mark.parametrize("c", [0, 1, 2, 5, 17, None])
def test_two_link_mean_and_decay_match_markov_chain(p, c):
    lam = 0.13
    et, ev = markov_two_links(p, c, lam)
    assert waiting.two_link_mean_rounds(p, c) == pytest.approx(et, rel=1e-10)
    if p < 1.0:
        assert waiting.two_link_mean_decay(p, lam, c) == pytest.approx(ev, rel=1e-10)
    # the delivered storage-time PMF is normalised and gives the same E[exp(-lam D)]
    pmf = waiting.two_link_storage_pmf(p, 5000, c)
    assert pmf.sum() == pytest.approx(1.0, rel=1e-12)
    assert np.dot(pmf, np.exp(-lam * np.arange(5000))) == pytest.approx(
        waiting.two_link_mean_decay(p, lam, c), rel=1e-10
    )


def test_two_link_limits():
    p = 0.2
    assert waiting.two_link_mean_rounds(p, 0) == pytest.approx(1 / p**2, rel=1e-12)
    assert waiting.two_link_mean_rounds(p, 10_000) == pytest.approx(waiting.two_link_mean_rounds(p), rel=1e-12)
    # probabilistic swap and swap time: (E + m)/a
    assert waiting.two_link_mean_rounds(p, None, 0.5, 2) == pytest.approx(((3 - 2 * p) / (p * (2 - p)) + 2) / 0.5)


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.01, 0.99), c=st.integers(0, 60))
def test_cutoff_mean_is_between_no_cutoff_and_lockstep(p, c):
    e = waiting.two_link_mean_rounds(p, c)
    assert waiting.two_link_mean_rounds(p) * (1 - 1e-12) <= e <= (1 / p**2) * (1 + 1e-12)
    assert waiting.two_link_mean_rounds(p, c + 1) <= e * (1 + 1e-12)


def brute_max_mean(n: int, p: float, t_max: int = 3000) -> float:
    """E[max of n geometric(p)] from the PMF of the max, enumerated on a grid."""
    cdf = 1.0 - (1.0 - p) ** np.arange(t_max)
    pmf = np.diff(cdf**n, prepend=0.0)
    return float(np.dot(np.arange(t_max), pmf))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 8, 13])
@pytest.mark.parametrize("p", [0.05, 0.5])
def test_n_link_mean(n, p):
    ref = brute_max_mean(n, p)
    assert waiting.n_link_mean_rounds(n, p) == pytest.approx(ref, rel=1e-10)
    assert waiting.n_link_mean_rounds_alternating(n, p) == pytest.approx(ref, rel=1e-8)
    if n == 1:
        assert waiting.n_link_mean_rounds(1, p) == pytest.approx(1 / p, rel=1e-12)
    if n == 2:
        assert waiting.n_link_mean_rounds(2, p) == pytest.approx(waiting.two_link_mean_rounds(p), rel=1e-12)


def test_n_link_mean_large_n_is_stable():
    # the alternating sum is useless at n = 512; the stable sum tends to H_n / p for small p
    p = 1e-3
    h = sum(1 / k for k in range(1, 513))
    assert waiting.n_link_mean_rounds(512, p) == pytest.approx(h / p, rel=2e-3)
    assert waiting.n_link_mean_rounds(512, 0.1) == pytest.approx(brute_max_mean(512, 0.1), rel=1e-10)


def test_geometric_and_max_pmf():
    p = 0.3
    g = waiting.geometric_pmf(p, 200)
    assert g[0] == 0 and g[1] == p and g[3] == pytest.approx(p * (1 - p) ** 2)
    m = waiting.max_iid_pmf(g, 2)
    direct = np.zeros(200)
    for x in range(1, 60):
        for y in range(1, 60):
            direct[max(x, y)] += g[x] * g[y]
    assert np.allclose(m[:60], direct[:60], atol=1e-15)


def test_convolve_matches_numpy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(37, 3)) + 1j * rng.normal(size=(37, 3))
    k = rng.random(20)
    out = waiting.convolve(a, k, 37)
    for col in range(3):
        assert np.allclose(out[:, col], np.convolve(a[:, col], k)[:37], atol=1e-12)
    r = waiting.convolve(a.real[:, 0], k, 50)
    assert np.allclose(r, np.convolve(a.real[:, 0], k)[:50], atol=1e-12)


def test_renewal_matches_direct_recursion():
    rng = np.random.default_rng(2)
    n = 300
    kernel = np.zeros(n)
    kernel[1:40] = rng.random(39)
    kernel *= 0.9 / kernel.sum()
    first = np.zeros((n, 2))
    first[3:30] = rng.random((27, 2))
    r = waiting.renewal(first, kernel)
    direct = np.zeros_like(first)
    for t in range(n):
        direct[t] = first[t] + sum(kernel[s] * direct[t - s] for s in range(1, min(t, 39) + 1))
    assert np.allclose(r, direct, atol=1e-13)
    with pytest.raises(ValueError):
        waiting.renewal(first, np.ones(n))


@pytest.mark.parametrize("levels", [1, 2, 3])
def test_nested_pmf_mean(levels):
    p = 0.25
    pmf = waiting.nested_completion_pmf(p, levels, 1024)
    assert 1 - pmf.sum() < 1e-12
    assert waiting.pmf_mean(pmf) == pytest.approx(waiting.n_link_mean_rounds(2**levels, p), rel=1e-10)


def test_nested_pmf_probabilistic_swap_two_links():
    p, a, m = 0.3, 0.6, 2
    pmf = waiting.nested_completion_pmf(p, 1, 2048, swap_success=a, swap_rounds=m)
    assert 1 - pmf.sum() < 1e-12
    assert waiting.pmf_mean(pmf) == pytest.approx(waiting.two_link_mean_rounds(p, None, a, m), rel=1e-10)


def test_cutoff_rounds_uses_tolerance():
    tau = 0.1
    assert waiting.cutoff_rounds(3 * tau, tau) == 3
    assert waiting.cutoff_rounds(0.3, tau) == 3  # 0.3 / 0.1 = 2.9999999999999996
    assert waiting.cutoff_rounds(0.35, tau) == 3
    assert waiting.cutoff_rounds(math.inf, tau) is None
