"""Switch capacities (qnet.repeater.switch) against a CTMC built here over the full state space.

The reference keeps one stored-pair count per link (no symmetry reduction): from state
(n_1, ..., n_k) link i generates at rate mu while n_i < B; if the new pair makes ``parties``
links non-empty, one pair of each is consumed at once (a measurement). The stationary
distribution solves pi Q = 0 with sum(pi) = 1 (least squares on the stacked system), and the
capacity is q x sum_states pi(state) x (rate of the generations that trigger a measurement).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qnet.errors import ConfigError
from qnet.repeater.switch import SWITCH_PARTIES, switch_capacity


def full_ctmc_capacity(k, mu, parties, buffer, q=1.0):
    """Capacity from the full per-link CTMC, states found by exploring from the empty switch."""
    start = (0,) * k
    index, order, edges = {start: 0}, [start], []
    i = 0
    while i < len(order):
        state = order[i]
        for link in range(k):
            if state[link] >= buffer:
                continue
            new = list(state)
            new[link] += 1
            busy = [j for j in range(k) if new[j] > 0]
            fires = len(busy) >= parties
            if fires:
                assert len(busy) == parties  # pairs are used at once: never more
                for j in busy:
                    new[j] -= 1
            new = tuple(new)
            if new not in index:
                index[new] = len(order)
                order.append(new)
            edges.append((i, index[new], mu, fires))
        i += 1
    n = len(order)
    Q = np.zeros((n, n))
    for a, b, rate, _ in edges:
        Q[a, b] += rate
    Q -= np.diag(Q.sum(axis=1))
    A = np.vstack([Q.T, np.ones(n)])
    rhs = np.zeros(n + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(A, rhs, rcond=None)[0]
    assert np.allclose(pi @ Q, 0, atol=1e-12) and pi.min() > -1e-12
    return q * sum(pi[a] * rate for a, _, rate, fires in edges if fires)


# --------------------------------------------------------------------------- Bell pairs


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6])
def test_bell_buffer_one_closed_form(k):
    mu = 7.0
    assert switch_capacity(k, mu) == pytest.approx(k * (k - 1) * mu / (2 * k - 1), rel=1e-12)
    assert switch_capacity(k, mu) == pytest.approx(full_ctmc_capacity(k, mu, 2, 1), rel=1e-10)


@pytest.mark.parametrize("k,B", [(2, 2), (2, 5), (3, 2), (3, 4), (4, 3), (5, 2)])
def test_bell_finite_buffer_vs_full_ctmc(k, B):
    mu = 2.5
    assert switch_capacity(k, mu, buffer=B) == pytest.approx(full_ctmc_capacity(k, mu, 2, B), rel=1e-10)


def heterogeneous_bell_capacity(mus, B, q=1.0):
    """Vardoyan et al.'s CTMC capacity for Bell pairs, links of rates mus, buffer B, no decoherence.

    In that form, gamma = sum(mus) and the stored pairs of link i follow
    P(j pairs on link i) = pi_0 prod_{l=1}^{j} mu_i / (gamma - mu_i); each is matched at rate
    gamma - mu_i (written here from the formula, as a second, independent expression).
    """
    gamma = sum(mus)
    terms = [[(mu / (gamma - mu)) ** j for j in range(1, B + 1)] for mu in mus]
    pi0 = 1 / (1 + sum(sum(t) for t in terms))
    return q * pi0 * sum((gamma - mu) * sum(t) for mu, t in zip(mus, terms))


@pytest.mark.parametrize("k,B", [(2, 1), (2, 4), (3, 1), (3, 6), (5, 2), (9, 30)])
def test_bell_matches_the_heterogeneous_form(k, B):
    assert switch_capacity(k, 0.7, buffer=B, success_probability=0.8) == pytest.approx(
        heterogeneous_bell_capacity([0.7] * k, B, q=0.8), rel=1e-12
    )


def test_bell_two_users_closed_form():
    for B in (1, 2, 7, 40):
        assert switch_capacity(2, 3.0, buffer=B) == pytest.approx(3.0 * 2 * B / (2 * B + 1), rel=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4, 8])
def test_bell_infinite_buffer_is_the_limit(k):
    mu = 1.5
    inf = switch_capacity(k, mu, buffer=math.inf)
    assert inf == pytest.approx(k * mu / 2, rel=1e-12)
    caps = [switch_capacity(k, mu, buffer=B) for B in (1, 2, 5, 20, 100, 10_000)]
    assert all(a < b for a, b in zip(caps, caps[1:]) if b < inf * (1 - 1e-12))  # grows with B
    assert caps[-1] == pytest.approx(inf, rel=1e-4)
    assert caps[-1] <= inf * (1 + 1e-12)


# --------------------------------------------------------------------------- GHZ states


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_ghz_buffer_one_closed_form(k):
    mu = 4.0
    closed = 1 / (1 / (k * mu) + 1 / ((k - 1) * mu) + 1 / ((k - 2) * mu))
    assert switch_capacity(k, mu, parties=3) == pytest.approx(closed, rel=1e-12)
    assert switch_capacity(k, mu, parties=3) == pytest.approx(full_ctmc_capacity(k, mu, 3, 1), rel=1e-10)


@pytest.mark.parametrize("k,B", [(3, 2), (4, 2), (5, 2), (3, 3), (4, 3), (3, 4)])
def test_ghz_finite_buffer_vs_full_ctmc(k, B):
    mu = 1.25
    assert switch_capacity(k, mu, parties=3, buffer=B) == pytest.approx(full_ctmc_capacity(k, mu, 3, B), rel=1e-9)


@pytest.mark.parametrize("k", [3, 4, 6])
def test_ghz_infinite_buffer_is_the_limit(k):
    mu = 3.0
    inf = switch_capacity(k, mu, parties=3, buffer=math.inf)
    assert inf == pytest.approx(k * mu / 3, rel=1e-12)
    caps = [switch_capacity(k, mu, parties=3, buffer=B) for B in (1, 2, 4, 16, 64, 200)]
    assert all(a < b for a, b in zip(caps, caps[1:]) if b < inf * (1 - 1e-9))
    # k >= 4 converges geometrically; k = 3 (null recurrent at B = inf) only like 1/B
    assert caps[-1] == pytest.approx(inf, rel=1e-6 if k >= 4 else 1e-2)


# --------------------------------------------------------------------------- q scaling, API


@pytest.mark.parametrize("parties,B", [(2, 1), (2, 3), (2, math.inf), (3, 1), (3, 2), (3, math.inf)])
def test_success_probability_scales_linearly(parties, B):
    full = switch_capacity(5, 2.0, parties=parties, buffer=B)
    for q in (0.9, 0.5, 1e-3):
        assert switch_capacity(5, 2.0, parties=parties, buffer=B, success_probability=q) == pytest.approx(
            q * full, rel=1e-12
        )


def test_rate_scales_linearly():
    for parties, B in [(2, 3), (3, 2)]:
        assert switch_capacity(4, 10.0, parties=parties, buffer=B) == pytest.approx(
            10 * switch_capacity(4, 1.0, parties=parties, buffer=B), rel=1e-12
        )


def test_integral_float_buffer_accepted():
    assert switch_capacity(3, 1.0, buffer=2.0) == switch_capacity(3, 1.0, buffer=2)
    assert SWITCH_PARTIES == (2, 3)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"users": 1}, r"^switch_capacity\.users = 1 is invalid: an integer >= parties = 2"),
        ({"users": 2, "parties": 3}, r"^switch_capacity\.users = 2 is invalid: an integer >= parties = 3"),
        ({"users": 3.5}, r"^switch_capacity\.users = 3\.5 is invalid"),
        ({"users": True}, r"^switch_capacity\.users = True is invalid"),
        ({"parties": 4}, r"^switch_capacity\.parties = 4 is invalid: 2 \(Bell pairs\) or 3 \(GHZ states\)"),
        ({"link_rate_hz": 0.0}, r"^switch_capacity\.link_rate_hz = 0\.0 is invalid: a finite rate > 0"),
        ({"link_rate_hz": math.inf}, r"^switch_capacity\.link_rate_hz = inf is invalid"),
        ({"link_rate_hz": "fast"}, r"^switch_capacity\.link_rate_hz = 'fast' is invalid"),
        ({"buffer": 0}, r"^switch_capacity\.buffer = 0 is invalid: an integer >= 1 \(pairs stored per link\) or inf"),
        ({"buffer": 1.5}, r"^switch_capacity\.buffer = 1\.5 is invalid"),
        ({"buffer": math.nan}, r"^switch_capacity\.buffer = nan is invalid"),
        (
            {"buffer": 201, "parties": 3},
            r"^switch_capacity\.buffer = 201 is invalid: at most 200 for GHZ states, or inf",
        ),
        (
            {"success_probability": 0.0},
            r"^switch_capacity\.success_probability = 0\.0 is invalid: a probability in \(0, 1\]",
        ),
        ({"success_probability": 1.2}, r"^switch_capacity\.success_probability = 1\.2 is invalid"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"users": 4, "link_rate_hz": 1.0} | kwargs
    users, rate = args.pop("users"), args.pop("link_rate_hz")
    with pytest.raises(ConfigError, match=match) as info:
        switch_capacity(users, rate, **args)
    assert "\n" not in str(info.value)
