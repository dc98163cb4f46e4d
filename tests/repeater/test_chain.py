"""Repeater-chain time process (qnet.repeater.chain): exact mode and Monte Carlo against closed forms.

References: literature.md §5.6 (waiting times, cutoffs, probabilistic swaps, N links) and §5.3
(dephasing). Exact mode is held to 1e-9 relative; Monte Carlo is held to 4 standard errors of
its own estimate (seeded, so every run is the same; 4 SE keeps each assertion honest without
hunting for lucky seeds). The swap is the real :func:`qnet.repeater.swapping.swap` (Aer channel).

Closed form used for fidelities (two links, |Psi+> inputs, pure exponential dephasing, perfect
swap). A memory stored for t multiplies its coherence by exp(-t/T2); a waiting pair whose two
memories dephase for D rounds of tau has its |01><10| coherence multiplied by exp(-lam D) with
lam = tau (1/T2_A + 1/T2_B) = tau / T_coh (literature §5.3: F = (1 + exp(-t_A/T2A - t_B/T2B))/2).
It is then F|Psi+><Psi+| + (1-F)|Psi-><Psi-|, and a perfect swap with a fresh |Psi+> keeps F
(§5.4, rank-2 states: F = F1 F2 + (1-F1)(1-F2) with F2 = 1). Fidelity is linear in the state, so
the delivered mean fidelity is (1 + E[exp(-lam D)]) / 2 with E[exp(-lam D)] from §5.6
(p(1+q)/((2-p)(1-q)), q = (1-p) e^-lam; or the cutoff form). A swap taking m rounds lets both
outer memories dephase m more rounds: (1 + exp(-lam m) E[exp(-lam D)]) / 2.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import qnet
from qnet.repeater.chain import exact as qchain_exact
from qnet.repeater import waiting
from qnet.repeater.chain import (
    ChainLink,
    MemoryDecay,
    RepeaterChain,
    RepeaterNode,
    exact_chain,
    run_chain,
    simulate_chain,
)
from qnet.quantum.channels import pair_coherence_time
from qnet.quantum.states import bell_projector, fidelity

PSI = bell_projector("psi+")
TAU = 1e-3


def noisy_state(weight: float = 0.9, seed: int = 0) -> np.ndarray:
    """A full-rank, non-Bell-diagonal state near |Psi+> (tests that coherences are carried)."""
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    r = g @ g.conj().T
    return weight * PSI + (1 - weight) * r / np.trace(r)


def dephasing_link(p: float, t2a: float = 8e-3, t2b: float = 5e-3, rho=PSI, tau: float = TAU) -> ChainLink:
    return ChainLink(rho, p, tau, MemoryDecay(t2a), MemoryDecay(t2b))


def within(mc_value: float, se: float, ref: float, k: float = 4.0) -> bool:
    return abs(mc_value - ref) <= k * se


# --------------------------------------------------------------------------- two links, no cutoff


def test_two_links_mean_time_and_dephasing_fidelity():
    p = 0.3
    link = dephasing_link(p)
    ch = RepeaterChain((link, link))
    lam = TAU / pair_coherence_time((8e-3, math.inf, "exponential"), (5e-3, math.inf, "exponential"))
    t_ref = waiting.two_link_mean_rounds(p) * TAU  # (3 - 2p) / (p (2 - p)) attempts
    f_ref = (1 + waiting.two_link_mean_decay(p, lam)) / 2
    ex = exact_chain(ch)
    assert ex.method == "exact"
    assert ex.mean_completion_time_s == pytest.approx(t_ref, rel=1e-9)
    assert ex.rate_hz == pytest.approx(1 / t_ref, rel=1e-9)
    assert ex.fidelity == pytest.approx(f_ref, rel=1e-9)
    assert ex.tail_mass <= 1e-12
    assert ex.completion_time_pmf.sum() + ex.tail_mass == pytest.approx(1.0, abs=1e-12)
    mc = simulate_chain(ch, 3000, seed=11)
    assert mc.method == "monte_carlo" and mc.samples == 3000
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, t_ref)
    assert within(mc.fidelity, mc.fidelity_stderr, f_ref)
    # the reported 95 % intervals are the CLT ones
    hw = 1.959963984540054 * mc.completion_time_stderr_s
    assert mc.rate_hz_ci == pytest.approx((1 / (mc.mean_completion_time_s + hw), 1 / (mc.mean_completion_time_s - hw)))
    assert mc.rate_hz_ci[0] < mc.rate_hz < mc.rate_hz_ci[1]
    assert mc.fidelity_samples.shape == mc.completion_time_samples_s.shape == (3000,)
    assert mc.fidelity_std == pytest.approx(np.std(mc.fidelity_samples, ddof=1))
    assert fidelity(mc.mean_state, "psi+") == pytest.approx(mc.fidelity, rel=1e-12)
    # every completion time is a whole number of rounds (lockstep links)
    k = mc.completion_time_samples_s / TAU
    assert np.allclose(k, np.round(k), rtol=0, atol=1e-6)


@pytest.mark.parametrize("c", [1, 3])
def test_two_links_cutoff_matches_literature(c):
    """E[T] = [1 + 2(1-p)(1-(1-p)^c)] / [p(2-p) - 2p(1-p)^(c+1)], E[e^-lam D] with cutoff (§5.6)."""
    p = 0.3
    link = dephasing_link(p, 6e-3, 6e-3)
    ch = RepeaterChain((link, link), RepeaterNode(cutoff_s=c * TAU))
    lam = 2 * TAU / 6e-3
    t_ref = waiting.two_link_mean_rounds(p, c) * TAU
    f_ref = (1 + waiting.two_link_mean_decay(p, lam, c)) / 2
    ex = exact_chain(ch)
    assert ex.mean_completion_time_s == pytest.approx(t_ref, rel=1e-9)
    assert ex.fidelity == pytest.approx(f_ref, rel=1e-9)
    mc = simulate_chain(ch, 3000, seed=12)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, t_ref)
    assert within(mc.fidelity, mc.fidelity_stderr, f_ref)


def test_cutoff_boundary_keeps_partner_arriving_exactly_c_rounds_later():
    """With c = 1 the delivered pairs waited 0 or 1 rounds, never more, and 1-round waits occur.

    tau = 0.1 s makes c * tau and the herald times inexact binary fractions, so the boundary is
    decided by the relative time tolerance, not by float luck.
    """
    tau, t2 = 0.1, 1.0
    link = ChainLink(PSI, 0.3, tau, MemoryDecay(t2), MemoryDecay(t2))
    mc = simulate_chain(RepeaterChain((link, link), RepeaterNode(cutoff_s=1 * tau)), 2000, seed=3)
    f_wait = {d: (1 + math.exp(-2 * d * tau / t2)) / 2 for d in range(4)}
    f = mc.fidelity_samples
    assert np.all(np.isclose(f, f_wait[0], rtol=0, atol=1e-12) | np.isclose(f, f_wait[1], rtol=0, atol=1e-12))
    assert np.isclose(f, f_wait[1], rtol=0, atol=1e-12).sum() > 100


def test_probabilistic_swap_two_links():
    """E[T] = (3 - 2p) / (a p (2 - p)); a failure restarts both links, so the fidelity is unchanged."""
    p, a = 0.3, 0.6
    link = dephasing_link(p)
    ch = RepeaterChain((link, link), RepeaterNode(swap_success_probability=a))
    t_ref = (3 - 2 * p) / (a * p * (2 - p)) * TAU
    lam = TAU * (1 / 8e-3 + 1 / 5e-3)
    f_ref = (1 + waiting.two_link_mean_decay(p, lam)) / 2
    ex = exact_chain(ch)
    assert ex.mean_completion_time_s == pytest.approx(t_ref, rel=1e-9)
    assert ex.fidelity == pytest.approx(f_ref, rel=1e-9)
    mc = simulate_chain(ch, 3000, seed=13)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, t_ref)
    assert within(mc.fidelity, mc.fidelity_stderr, f_ref)


def test_swap_time_delays_delivery_and_decoheres_outer_memories():
    p, m = 0.4, 2
    link = dephasing_link(p)
    ch = RepeaterChain((link, link), RepeaterNode(swap_time_s=m * TAU))
    lam = TAU * (1 / 8e-3 + 1 / 5e-3)
    t_ref = (waiting.two_link_mean_rounds(p) + m) * TAU
    f_ref = (1 + math.exp(-lam * m) * waiting.two_link_mean_decay(p, lam)) / 2
    ex = exact_chain(ch)
    assert ex.mean_completion_time_s == pytest.approx(t_ref, rel=1e-9)
    assert ex.fidelity == pytest.approx(f_ref, rel=1e-9)
    mc = simulate_chain(ch, 2000, seed=14)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, t_ref)
    assert within(mc.fidelity, mc.fidelity_stderr, f_ref)


def test_memories_multiplex_attempts():
    """k memories per link at both of its nodes: k attempts per round, success 1 - (1-p)^k."""
    p, k = 0.1, 3
    link = dephasing_link(p)
    ch = RepeaterChain((link, link), RepeaterNode(memories=k), end_memories=k)
    assert ch.success_per_round(0) == pytest.approx(1 - (1 - p) ** k)
    t_ref = waiting.two_link_mean_rounds(1 - (1 - p) ** k) * TAU
    assert exact_chain(ch).mean_completion_time_s == pytest.approx(t_ref, rel=1e-9)
    mc = simulate_chain(ch, 2000, seed=15)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, t_ref)


def test_end_users_limit_the_attempts_of_their_links():
    """Every node limits its links: k_i = min(memories of link i's two nodes for it)."""
    p = 0.1
    link = dephasing_link(p)
    # repeaters with 3 memories per link; end users with 1 (default), 2, and (2, 5)
    assert [RepeaterChain((link, link), RepeaterNode(memories=3)).attempts_per_round(i) for i in (0, 1)] == [1, 1]
    ch = RepeaterChain((link, link, link), RepeaterNode(memories=3), end_memories=(2, 5))
    assert [ch.attempts_per_round(i) for i in range(3)] == [2, 3, 3]
    assert ch.success_per_round(0) == pytest.approx(1 - 0.9**2, rel=1e-12)
    assert ch.success_per_round(2) == pytest.approx(1 - 0.9**3, rel=1e-12)
    # one link: the two end users alone
    assert RepeaterChain((link,), end_memories=(4, 3)).success_per_round(0) == pytest.approx(1 - 0.9**3, rel=1e-12)
    # the two-link completion time follows the end users' memories (E[max] of two geometrics)
    two = RepeaterChain((link, link), RepeaterNode(memories=2), end_memories=(2, 1))
    q1, q2 = 1 - 0.9**2, 0.1  # link 0: min(2, 2) = 2 attempts; link 1: min(2, 1) = 1
    t_ref = (1 / q1 + 1 / q2 - 1 / (1 - (1 - q1) * (1 - q2))) * TAU
    assert exact_chain(two).mean_completion_time_s == pytest.approx(t_ref, rel=1e-9)


@pytest.mark.parametrize("bad", [0, 1.5, True, (1, 2, 3), (0, 1)])
def test_end_memories_must_be_counts(bad):
    with pytest.raises(qnet.ConfigError, match="chain.end_memories"):
        RepeaterChain((dephasing_link(0.1),), end_memories=bad)


def test_exact_mode_refuses_a_huge_grid_before_allocating():
    """p = 1e-12 per round needs ~2.8e13 rounds for a 1e-12 tail: refused up front, one line."""
    ch = RepeaterChain((dephasing_link(1e-12), dephasing_link(1e-12)))
    with pytest.raises(qnet.QnetError, match=r"exact mode would need about 2\.8\de\+13 rounds .*max_rounds = 1048576"):
        exact_chain(ch)


def test_heterogeneous_success_probabilities_two_links():
    """E[max(X, Y)] = 1/p1 + 1/p2 - 1/(1 - q1 q2) for independent geometric links."""
    p1, p2 = 0.2, 0.6
    rho2 = noisy_state(0.9, seed=4)
    l1 = ChainLink(noisy_state(0.95, seed=3), p1, TAU, MemoryDecay(7e-3, 3e-2), MemoryDecay(9e-3))
    l2 = ChainLink(rho2, p2, TAU, MemoryDecay(4e-3), MemoryDecay(1e-2, 5e-2))
    ch = RepeaterChain((l1, l2), RepeaterNode(gate_fidelity=0.98, readout_fidelity=0.99))
    t_ref = (1 / p1 + 1 / p2 - 1 / (1 - (1 - p1) * (1 - p2))) * TAU
    ex = exact_chain(ch)
    assert ex.mean_completion_time_s == pytest.approx(t_ref, rel=1e-9)
    mc = simulate_chain(ch, 3000, seed=16)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, t_ref)
    assert within(mc.fidelity, mc.fidelity_stderr, ex.fidelity)


def test_heterogeneous_attempt_times_monte_carlo():
    """Links with different tau: E[max(tau1 X, tau2 Y)] from P(max > t), summed over breakpoints."""
    p1, p2, tau1, tau2 = 0.3, 0.4, 1e-3, 1.7e-3
    l1 = ChainLink(PSI, p1, tau1)
    l2 = ChainLink(PSI, p2, tau2)
    ch = RepeaterChain((l1, l2))
    grid = np.unique(np.concatenate([np.arange(0, 400) * tau1, np.arange(0, 400) * tau2]))
    grid = grid[grid < 0.3]
    surv = 1 - (1 - (1 - p1) ** np.floor(grid / tau1 + 1e-9)) * (1 - (1 - p2) ** np.floor(grid / tau2 + 1e-9))
    t_ref = float(np.sum(surv[:-1] * np.diff(grid)))
    mc = simulate_chain(ch, 3000, seed=17)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, t_ref)
    with pytest.raises(ValueError, match="different lengths"):
        exact_chain(ch)


# --------------------------------------------------------------------------- gaussian decay


def test_gaussian_two_links_continue_from_the_herald_age():
    """Gaussian dephasing continues from each memory's age at the herald, once per interval.

    A memory of age s kept D rounds more multiplies its coherence by
    exp(-((s + D tau)^2 - s^2) / T2^2); with |Psi+> inputs and a perfect swap,
    F(D) = (1 + prod over the waiting pair's two memories) / 2, averaged over the §5.6 storage
    PMF. Restarting gaussian decay at age 0 (or composing it from rounds) would give a
    different number, which this test would catch.
    """
    p, t2, s = 0.3, 6e-3, 2e-3
    mem = MemoryDecay(t2, math.inf, "gaussian")
    link = ChainLink(PSI, p, TAU, mem, mem, storage_time_s=s)
    ch = RepeaterChain((link, link))
    d = np.arange(3000)
    gamma = np.exp(-2 * ((s + d * TAU) ** 2 - s**2) / t2**2)
    f_ref = float(np.dot(waiting.two_link_storage_pmf(p, 3000), (1 + gamma) / 2))
    wrong = float(np.dot(waiting.two_link_storage_pmf(p, 3000), (1 + np.exp(-2 * (d * TAU) ** 2 / t2**2)) / 2))
    assert abs(f_ref - wrong) > 0.01
    ex = exact_chain(ch)
    assert ex.fidelity == pytest.approx(f_ref, rel=1e-9)
    mc = simulate_chain(ch, 3000, seed=18)
    assert within(mc.fidelity, mc.fidelity_stderr, f_ref)


def test_gaussian_two_links_with_swap_time_and_cutoff_mc_matches_exact():
    p = 0.35
    ga = MemoryDecay(9e-3, 4e-2, "gaussian")
    gb = MemoryDecay(7e-3, math.inf, "gaussian")
    l1 = ChainLink(noisy_state(0.93, 5), p, TAU, ga, gb, storage_time_s=(1e-3, 1.5e-3))
    l2 = ChainLink(noisy_state(0.93, 6), p, TAU, gb, ga, storage_time_s=(0.5e-3, 1e-3))
    ch = RepeaterChain((l1, l2), RepeaterNode(gate_fidelity=0.99, swap_time_s=TAU, cutoff_s=4 * TAU))
    ex = exact_chain(ch)
    mc = simulate_chain(ch, 3000, seed=19)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, ex.mean_completion_time_s)
    assert within(mc.fidelity, mc.fidelity_stderr, ex.fidelity)
    assert ex.mean_completion_time_s == pytest.approx((waiting.two_link_mean_rounds(p, 4) + 1) * TAU, rel=1e-9)


def test_gaussian_ages_through_swaps_on_three_links():
    """Deterministic 3-link case (p = 1, swap time d) built by hand with storage_kraus.

    All links herald at tau. Node 1 swaps links 0 and 1 at tau (busy until tau + d); link 2's
    pair waits d, then node 2 swaps at tau + d; delivery at tau + 2d. Every memory keeps its own
    age from emission (herald age s + time since herald), so link 0's memory A decays from s to
    s + 2d in two intervals that must chain exactly.
    """
    from qnet.quantum.channels import storage_kraus
    from qnet.repeater.swapping import swap

    tau, d, s, t2, t1 = 1e-3, 2e-3, 1.5e-3, 5e-3, 4e-2
    mem = MemoryDecay(t2, t1, "gaussian")
    rho = noisy_state(0.95, 7)
    link = ChainLink(rho, 1.0, tau, mem, mem, storage_time_s=s)
    ch = RepeaterChain((link,) * 3, RepeaterNode(gate_fidelity=0.97, readout_fidelity=0.99, swap_time_s=d))

    def store(r, age_a, age_b, dt):
        ka = storage_kraus(age_a, age_a + dt, t1, t2, "gaussian")
        kb = storage_kraus(age_b, age_b + dt, t1, t2, "gaussian")
        r = sum(np.kron(k, np.eye(2)) @ r @ np.kron(k, np.eye(2)).conj().T for k in ka)
        return sum(np.kron(np.eye(2), k) @ r @ np.kron(np.eye(2), k).conj().T for k in kb)

    left = store(swap(rho, rho, 0.97, 0.99), s, s, d)  # outer memories: link 0 A, link 1 B
    right = store(rho, s, s, d)  # link 2 waits for the busy node
    expected = store(swap(left, right, 0.97, 0.99), s + d, s + d, d)
    mc = simulate_chain(ch, 4, seed=0)
    assert np.allclose(mc.completion_time_samples_s, tau + 2 * d, rtol=1e-12, atol=0)
    assert np.allclose(mc.mean_state, expected, atol=1e-12)
    assert mc.fidelity == pytest.approx(fidelity(expected, "psi+"), abs=1e-12)


# --------------------------------------------------------------------------- N links


@pytest.mark.parametrize("n", [4, 8])
def test_n_links_exact_mean_time(n):
    """E[T_N] = sum_k (-1)^(k+1) C(N,k) / (1 - (1-p)^k) (§5.6), nested exact mode, to 1e-9."""
    p = 0.25
    link = dephasing_link(p)
    ex = exact_chain(RepeaterChain((link,) * n, swap_policy="nested"))
    assert ex.mean_completion_time_s == pytest.approx(waiting.n_link_mean_rounds_alternating(n, p) * TAU, rel=1e-9)
    pmf = waiting.nested_completion_pmf(p, int(math.log2(n)), len(ex.completion_time_pmf))
    assert np.allclose(ex.completion_time_pmf, pmf, rtol=0, atol=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("n", "p", "a", "m"),
    [(4, 0.3, 1.0, 0), (4, 0.35, 0.7, 1), (8, 0.4, 0.9, 1)],
)
def test_nested_exact_matches_monte_carlo(n, p, a, m):
    link = ChainLink(noisy_state(0.95), p, TAU, MemoryDecay(3e-2, 8e-2), MemoryDecay(4e-2), storage_time_s=1e-4)
    node = RepeaterNode(gate_fidelity=0.98, readout_fidelity=0.99, swap_success_probability=a, swap_time_s=m * TAU)
    ch = RepeaterChain((link,) * n, node, swap_policy="nested")
    ex = exact_chain(ch)
    mc = simulate_chain(ch, 2500, seed=20 + n)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, ex.mean_completion_time_s)
    assert within(mc.fidelity, mc.fidelity_stderr, ex.fidelity)
    assert ex.fidelity > 0.35  # well above 1/4 (fully mixed): the comparison means something
    if a == 1.0 and m == 0:
        assert ex.mean_completion_time_s == pytest.approx(waiting.n_link_mean_rounds(n, p) * TAU, rel=1e-9)


def test_two_link_and_nested_algorithms_agree():
    """The renewal (2-link) and the BCE-with-states (nested) code paths give the same series."""
    link = ChainLink(noisy_state(0.9), 0.3, TAU, MemoryDecay(6e-3, 2e-2), MemoryDecay(8e-3))
    node = RepeaterNode(gate_fidelity=0.97, readout_fidelity=0.98, swap_success_probability=0.8, swap_time_s=TAU)
    ch = RepeaterChain((link, link), node)
    from qnet.repeater.swapping import swap

    a = qchain_exact.two_link_pmf(ch, swap, 256, {})
    b = qchain_exact.nested_pmf(ch, swap, 256, {})
    assert np.allclose(a, b, rtol=0, atol=1e-14)


@pytest.mark.parametrize("n", [3, 5])
def test_asap_mean_time_is_max_of_links(n):
    """Deterministic swaps, no cutoff: T = max_i T_i whatever the order (§5.6)."""
    p = 0.3
    mc = simulate_chain(RepeaterChain((dephasing_link(p),) * n), 2000, seed=30 + n)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, waiting.n_link_mean_rounds(n, p) * TAU)


@pytest.mark.slow
def test_512_link_chain_runs():
    p = 0.2
    link = ChainLink(noisy_state(0.97), p, TAU, MemoryDecay(0.5, 2.0), MemoryDecay(0.5))
    ch = RepeaterChain((link,) * 512, RepeaterNode(gate_fidelity=0.999, readout_fidelity=0.999))
    mc = simulate_chain(ch, 60, seed=7)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, waiting.n_link_mean_rounds(512, p) * TAU)
    assert 0.0 <= mc.fidelity <= 1.0
    assert np.all(np.isfinite(mc.fidelity_samples))


def markov_asap_mean_rounds(n: int, p: float, c: int) -> float:
    """E[T] (rounds) of an n-link swap-ASAP chain with cutoff c, lockstep links, by a linear solve.

    Independent of qnet.repeater.chain: the state after each round is the set of stored segments
    (lo, hi, age in rounds since the segment was made). A round: every link not holding a pair
    attempts (all 2^k outcomes enumerated), stored segments age by one, new pairs have age 0,
    adjacent segments merge at once (deterministic swaps; the merged pair has age 0), the chain
    is done when one segment spans it, then segments that reached age c unswapped are discarded
    (a pair may wait up to c rounds) and their links attempt again from the next round.
    """
    start: tuple = ()
    index = {start: 0}
    states = [start]
    trans = []
    k = 0
    while k < len(states):
        s = states[k]
        k += 1
        covered = {i for lo, hi, _ in s for i in range(lo, hi)}
        attempting = [i for i in range(n) if i not in covered]
        out: dict = {}
        for outcome in itertools.product((0, 1), repeat=len(attempting)):
            pr = 1.0
            segs = [[lo, hi, age + 1] for lo, hi, age in s]
            for i, ok in zip(attempting, outcome):
                pr *= p if ok else 1 - p
                if ok:
                    segs.append([i, i + 1, 0])
            segs.sort()
            merged: list = []
            for sg in segs:
                if merged and merged[-1][1] == sg[0]:
                    merged[-1] = [merged[-1][0], sg[1], 0]
                else:
                    merged.append(sg)
            if len(merged) == 1 and merged[0][:2] == [0, n]:
                key = "done"
            else:
                key = tuple(tuple(x) for x in merged if x[2] < c)
            out[key] = out.get(key, 0.0) + pr
        trans.append(out)
        for key in out:
            if key != "done" and key not in index:
                index[key] = len(states)
                states.append(key)
    a = np.eye(len(states))
    for i, out in enumerate(trans):
        for key, pr in out.items():
            if key != "done":
                a[i, index[key]] -= pr
    return float(np.linalg.solve(a, np.ones(len(states)))[0])


@pytest.mark.parametrize(("n", "p", "c"), [(2, 0.3, 2), (3, 0.3, 2), (4, 0.5, 1), (4, 0.5, 3)])
def test_asap_cutoff_matches_markov_chain(n, p, c):
    if n == 2:  # the oracle itself reproduces literature §5.6
        assert markov_asap_mean_rounds(n, p, c) == pytest.approx(waiting.two_link_mean_rounds(p, c), rel=1e-10)
    ref = markov_asap_mean_rounds(n, p, c) * TAU
    ch = RepeaterChain((dephasing_link(p),) * n, RepeaterNode(cutoff_s=c * TAU))
    mc = simulate_chain(ch, 2500, seed=40 + n + c)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, ref)
    if n > 2:
        with pytest.raises(ValueError, match="order of heralds"):
            exact_chain(ch)
    if n == 4:
        with pytest.raises(ValueError, match="cutoffs are exact only for 2 links"):
            exact_chain(RepeaterChain(ch.links, ch.nodes, swap_policy="nested"))


# --------------------------------------------------------------------------- one link


def test_one_link_chain_is_the_link():
    p = 0.2
    rho = noisy_state(0.9)
    link = ChainLink(rho, p, TAU, MemoryDecay(1e-3), MemoryDecay(1e-3))
    ch = RepeaterChain((link,))
    ex = exact_chain(ch)
    assert ex.rate_hz == pytest.approx(p / TAU, rel=1e-9)
    assert ex.fidelity == pytest.approx(fidelity(rho, "psi+"), rel=1e-12)
    mc = run_chain(ch, "monte_carlo", samples=2000, seed=9)
    assert np.allclose(mc.fidelity_samples, fidelity(rho, "psi+"), rtol=0, atol=1e-12)
    assert within(mc.mean_completion_time_s, mc.completion_time_stderr_s, TAU / p)


# --------------------------------------------------------------------------- plumbing


def test_reproducible_and_progress():
    link = dephasing_link(0.3, rho=noisy_state(0.9))
    ch = RepeaterChain((link,) * 3, RepeaterNode(cutoff_s=2 * TAU, swap_success_probability=0.9))
    calls = []
    a = simulate_chain(ch, 200, seed=42, progress=lambda d, t: calls.append((d, t)))
    b = simulate_chain(ch, 200, seed=42)
    c = simulate_chain(ch, 200, seed=43)
    assert np.array_equal(a.completion_time_samples_s, b.completion_time_samples_s)
    assert np.array_equal(a.fidelity_samples, b.fidelity_samples)
    assert not np.array_equal(a.completion_time_samples_s, c.completion_time_samples_s)
    done = [d for d, _ in calls]  # now and then (calls ~0.1 s apart), always at the end
    assert calls[0] == (1, 200) and calls[-1] == (200, 200) and done == sorted(set(done))


def test_swap_fn_is_used_and_may_be_unbatched():
    from qnet.repeater.swapping import swap

    seen = []

    def one_at_a_time(left, right, gate_fidelity=1.0, readout_fidelity=1.0):
        if np.ndim(left) != 2:
            raise ValueError("4x4 only")
        seen.append(1)
        return swap(left, right, gate_fidelity, readout_fidelity)

    link = dephasing_link(0.4, rho=noisy_state(0.9))
    ch = RepeaterChain((link,) * 3, RepeaterNode(gate_fidelity=0.95))
    a = simulate_chain(ch, 50, seed=1)
    b = simulate_chain(ch, 50, seed=1, swap_fn=one_at_a_time)
    assert len(seen) == 100  # two swaps per delivery
    assert np.allclose(a.fidelity_samples, b.fidelity_samples, rtol=0, atol=1e-12)


def test_bad_inputs():
    link = dephasing_link(0.3)
    for bad in (0.0, -1e-3, float("nan")):
        with pytest.raises(ValueError, match="cutoff_s"):
            RepeaterNode(cutoff_s=bad)
    with pytest.raises(ValueError, match="memories"):
        RepeaterNode(memories=0)
    with pytest.raises(ValueError, match="memories"):
        RepeaterNode(memories=1.5)
    with pytest.raises(ValueError, match="success_probability"):
        ChainLink(PSI, 0.0, TAU)
    with pytest.raises(ValueError, match="rho"):
        ChainLink(2 * PSI, 0.3, TAU)
    with pytest.raises(ValueError, match="nodes"):
        RepeaterChain((link, link, link), (RepeaterNode(),))
    with pytest.raises(ValueError, match="2\\^k links"):
        RepeaterChain((link,) * 3, swap_policy="nested")
    with pytest.raises(ValueError, match="samples"):
        simulate_chain(RepeaterChain((link,)), 1)


def test_exact_refuses_unsupported_chains():
    link = dephasing_link(0.3)
    gauss = ChainLink(PSI, 0.3, TAU, MemoryDecay(5e-3, math.inf, "gaussian"), MemoryDecay(5e-3))
    with pytest.raises(ValueError, match="gaussian"):
        exact_chain(RepeaterChain((gauss,) * 4, swap_policy="nested"))
    other = dephasing_link(0.4)
    with pytest.raises(ValueError, match="identical links"):
        exact_chain(RepeaterChain((link, other, link, link), swap_policy="nested"))
    with pytest.raises(ValueError, match="identical repeaters"):
        nodes = (
            RepeaterNode(),
            RepeaterNode(),
            RepeaterNode(gate_fidelity=0.9),
            RepeaterNode(),
            RepeaterNode(),
            RepeaterNode(),
            RepeaterNode(),
        )
        exact_chain(RepeaterChain((link,) * 8, nodes, swap_policy="nested"))
    with pytest.raises(ValueError, match="whole number of attempt rounds"):
        exact_chain(RepeaterChain((link, link), RepeaterNode(cutoff_s=2.5 * TAU)))
    with pytest.raises(ValueError, match="order of heralds"):
        exact_chain(RepeaterChain((link,) * 3))
