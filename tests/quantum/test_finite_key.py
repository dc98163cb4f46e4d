"""Finite-size key bounds (qnet.quantum.finite_key) against the papers' numbers and closed forms.

* BBM92: Tomamichel, Lim, Gisin & Renner, Nat. Commun. 3, 634 (2012), Eq. (2) and Table II.
* DI-QKD: the EAT bound of Arnon-Friedman et al., Nat. Commun. 9, 459 (2018), recomputed here
  independently with scipy's bounded optimiser instead of qnet's grid.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from qnet.errors import QnetError
from qnet.quantum.figures import (
    bb84_key_fraction_from_errors,
    binary_entropy,
    diqkd_key_fraction,
)
from qnet.quantum.finite_key import (
    asymptotic_fraction,
    finite_key,
    pairs_for_key,
    threshold_pairs,
    tomamichel_key_length,
)

TSIRELSON = 2 * math.sqrt(2)


# Table II of Tomamichel et al. 2012 (eps/l = 1e-14, leak_EC = 1.1 n h(Q)): n, Q, r (%), the
# test-basis probability (the table's "p_x" column is the basis of the k parameter-estimation
# bits), Q_tol and eps_rob. The n = 10^6 rows follow from Eq. (2) alone; the smaller blocks are
# 1-2 points above the table under this reading (docs/literature.md §5.8).
TABLE_II = [(1e6, 0.01, 47.8, 0.125, 0.0173, 0.006), (1e6, 0.025, 35.7, 0.137, 0.0321, 0.007)]


@pytest.mark.parametrize("n, q, rate_percent, p_test, q_tol, eps_rob", TABLE_II)
def test_tomamichel_eq2_reproduces_table_ii(n, q, rate_percent, p_test, q_tol, eps_rob):
    p_key = 1.0 - p_test
    k = n * (p_test / p_key) ** 2  # p_x = 1/(1 + sqrt(k/n)) in the paper's protocol
    ell = 1e5
    for _ in range(40):  # eps_sec = eps_cor = eps/2 with eps = 1e-14 l: a fixed point
        eps = 1e-14 * ell / 2
        ell = float(tomamichel_key_length(n, k, q_tol, 1.1 * n * binary_entropy(q), eps, eps))
    rate = (1 - eps_rob) * ell / (n / p_key**2)  # M(n, k) = n / p_x^2 exchanged signals
    assert round(100 * rate, 1) == rate_percent


def test_tomamichel_eq2_by_hand():
    # n = k = 10^4, Q_tol = 2 %, no leakage, eps = 1e-10: mu and the log term by hand
    mu = math.sqrt(2e4 / 1e8 * (1e4 + 1) / 1e4 * math.log(2 / 1e-10))
    expected = 1e4 * (1 - binary_entropy(0.02 + mu)) - math.log2(2 / (1e-20 * 1e-10))
    assert float(tomamichel_key_length(1e4, 1e4, 0.02, 0.0, 1e-10, 1e-10)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("s, q", [(2.7, 0.01), (2.5, 0.04), (TSIRELSON, 0.0)])
def test_asymptotic_fraction_is_qnets_asymptotic_key_at_the_shannon_limit(s, q):
    assert asymptotic_fraction("diqkd", s, q, q) == pytest.approx(diqkd_key_fraction(s, q), abs=1e-12)
    assert asymptotic_fraction("bbm92", s, q, 2 * q) == pytest.approx(bb84_key_fraction_from_errors(q, 2 * q), abs=1e-12)


def _eat_key_scipy(n, s, q, eps_sec=1e-10, eps_cor=1e-10):
    """The DI-QKD EAT bound written out afresh, optimised with scipy (gamma continuous, w_t on a fine grid)."""
    w = 0.5 + s / 8
    eps = eps_sec / 3

    def rate(x):
        root = math.sqrt(max(0.0, 16 * x * (x - 1) + 3))
        return 1 - binary_entropy(0.5 + 0.5 * root)

    def key(gamma, w_t):
        d = 1e-7
        slope = (rate(w_t + d) - rate(w_t - d)) / (2 * d)  # numerical derivative: independent of qnet's closed form
        f_min = (1 - gamma) * (rate(w_t) + slope * (w - w_t))
        v = 2 * (math.log2(13) + math.ceil((1 - gamma) * slope / gamma)) * math.sqrt(1 - 2 * math.log2(eps**2))
        leak = (1 - gamma) * binary_entropy(q) + gamma * binary_entropy(w)
        chain_rule = 3 * math.log2(32 / eps**2)  # 3 log2(1/(1 - sqrt(1 - (eps/4)^2))) to 1e-20
        return n * (f_min - leak) - math.sqrt(n) * v - chain_rule - math.log2(1 / eps_cor) - 2 * math.log2(1 / eps)

    best = 0.0
    for w_t in np.linspace(0.75 + 1e-4, w, 400):
        res = minimize_scalar(lambda lg: -key(10**lg, w_t), bounds=(-8, math.log10(0.5)), method="bounded",
                              options={"xatol": 1e-6})
        best = max(best, -res.fun)
    return best


@pytest.mark.parametrize("n, s, q", [(1e9, 2.677, 0.0144), (1e12, 2.6, 0.03), (3e7, 2.75, 0.01)])
def test_diqkd_grid_optimum_matches_a_continuous_optimum(n, s, q):
    # qnet's grid (241 gammas x 40 tangent points) must reach the continuous optimum within 1 %,
    # and never exceed it (a grid cannot beat the optimum of the same bound)
    reference = _eat_key_scipy(n, s, q)
    got = finite_key("diqkd", n, chsh=s, qber=q).key_bits
    assert reference > 0
    assert 0.99 * reference <= got <= reference + 1


@pytest.mark.parametrize("protocol, n_1pc, gap_at_1e12", [("bbm92", 1e14, 0.02), ("diqkd", 1e17, 0.07)])
def test_finite_key_approaches_the_asymptotic_fraction(protocol, n_1pc, gap_at_1e12):
    # docs/conventions.md §16 states these convergence figures for S = 2.677, Q = 1.44 %
    kw = dict(chsh=2.677, qber=0.0144)
    r_inf = asymptotic_fraction(protocol, 2.677, 0.0144, 0.0144)
    sizes = np.logspace(4, 17, 27)
    fractions = np.array([k.key_fraction for k in finite_key(protocol, sizes, **kw)])
    assert np.all(np.diff(fractions) >= 0) and np.all(fractions <= r_inf)
    assert 1 - finite_key(protocol, 1e12, **kw).key_fraction / r_inf < gap_at_1e12
    assert 1 - finite_key(protocol, n_1pc, **kw).key_fraction / r_inf < 0.01


@pytest.mark.parametrize("protocol", ["bbm92", "diqkd"])
def test_key_is_zero_below_the_threshold_and_positive_from_it(protocol):
    kw = dict(chsh=2.677, qber=0.0144)
    n0 = threshold_pairs(protocol, **kw)
    assert finite_key(protocol, n0, **kw).key_bits >= 1
    assert finite_key(protocol, n0 - 1, **kw).key_bits == 0  # one pair fewer: no key
    assert finite_key(protocol, np.logspace(0, math.log10(n0) - 0.01, 20), **kw)[-1].key_bits == 0


def test_thresholds_stated_in_the_docs():
    # docs/conventions.md §16 quotes these (eps_sec = eps_cor = 1e-10, f = 1)
    assert threshold_pairs("diqkd", chsh=2.677, qber=0.0144) == pytest.approx(8.64e6, rel=2e-3)
    assert threshold_pairs("bbm92", chsh=2.677, qber=0.0144) == pytest.approx(3.72e3, rel=2e-3)


def test_no_violation_no_key_at_any_size():
    assert finite_key("diqkd", 1e18, chsh=2.0, qber=0.0).key_bits == 0
    assert math.isinf(threshold_pairs("diqkd", chsh=1.9, qber=0.0))
    assert finite_key("bbm92", 1e18, chsh=2.0, qber=0.12).key_bits == 0  # beyond the ~11 % threshold


@pytest.mark.parametrize("protocol", ["bbm92", "diqkd"])
def test_pairs_for_key_is_the_fewest_reaching_the_target(protocol):
    kw = dict(chsh=2.7, qber=0.01)
    for target in (1.0, 1917.0, 1e6):
        n = pairs_for_key(protocol, target, **kw)
        assert finite_key(protocol, n, **kw).key_bits >= target
        assert finite_key(protocol, n - 1, **kw).key_bits < target


@pytest.mark.parametrize("call, needle", [
    (lambda: finite_key("bb84", 1e6, chsh=2.7, qber=0.01), "protocol 'bb84'"),
    (lambda: finite_key("diqkd", -5, chsh=2.7, qber=0.01), "pairs -5"),
    (lambda: finite_key("diqkd", float("nan"), chsh=2.7, qber=0.01), "pairs nan"),
    (lambda: finite_key("diqkd", 1e6, chsh=2.7, qber=0.01, eps_sec=1.0), "eps_sec 1.0"),
    (lambda: finite_key("diqkd", 1e6, chsh=2.7, qber=0.01, eps_cor=-1e-9), "eps_cor -1e-09"),
    (lambda: finite_key("bbm92", 1e6, chsh=2.7, qber=0.01, ec_efficiency=0.9), "ec_efficiency 0.9"),
    (lambda: pairs_for_key("bbm92", 0, chsh=2.7, qber=0.01), "target key 0"),
    (lambda: pairs_for_key("bbm92", 1e3, chsh=2.7, qber=0.2), "unreachable"),
    (lambda: pairs_for_key("diqkd", 1e20, chsh=2.7, qber=0.01), "needs more than 1e+18 pairs"),
])
def test_bad_input_is_one_line(call, needle):
    with pytest.raises(QnetError, match=None) as info:
        call()
    assert needle in str(info.value) and "\n" not in str(info.value)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(protocol=st.sampled_from(["bbm92", "diqkd"]), s=st.floats(2.0, TSIRELSON), q=st.floats(0.0, 0.15),
       log_n=st.floats(1.0, 16.0), eps=st.floats(-15.0, -2.0), f=st.floats(1.0, 1.3))
def test_key_is_physical_and_monotone(protocol, s, q, log_n, eps, f):
    kw = dict(chsh=s, qber=q, eps_sec=10**eps, eps_cor=10**eps, ec_efficiency=f)
    n = 10**log_n
    small, large = finite_key(protocol, [n, 3 * n], **kw)
    assert 0 <= small.key_bits <= large.key_bits                       # more pairs, never less key
    assert small.key_fraction <= small.asymptotic_fraction + 1e-12     # never above the asymptote
    assert small.key_bits == math.floor(small.key_bits)                # whole bits
    assert finite_key(protocol, n, **{**kw, "qber": min(0.5, q + 0.01)}).key_bits <= small.key_bits
    tighter = finite_key(protocol, n, **{**kw, "eps_sec": 10**eps / 100}).key_bits
    assert tighter <= small.key_bits                                   # more secrecy costs key
