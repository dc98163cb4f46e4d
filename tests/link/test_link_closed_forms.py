"""Elementary-link numbers against closed forms (conventions.md; literature.md §5.2, §5.3).

Each expected value is derived in the test from the contract, never taken from qnet. qnet runs
an exact double-precision density-matrix simulation, so agreement is expected to rounding:
``rel=1e-10`` (probabilities, times) and ``abs=1e-12`` (O(1) matrix elements, fidelities) are
about four orders above accumulated rounding and far below any modelling difference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

S = 1.0 / math.sqrt(2.0)
PSI_PLUS = np.array([0.0, S, S, 0.0])
C = 2.0e5  # km/s, conventions.md default
REL = 1e-10
ABS = 1e-12


def fibre(L_km: float, att: float = 0.2) -> float:
    return 10.0 ** (-att * L_km / 10.0)


def fid(rho) -> float:
    return float(np.real(PSI_PLUS @ np.asarray(rho) @ PSI_PLUS))


def ket(bits: str) -> np.ndarray:
    v = np.zeros(4)
    v[int(bits, 2)] = 1.0
    return v


def proj(v) -> np.ndarray:
    return np.outer(v, np.conj(v))


# ------------------------------------------------------------------------ single click
@pytest.mark.parametrize(
    "alpha,L,emit,conv,det",
    [
        (0.1, 10.0, 1.0, 1.0, 1.0),
        (0.05, 0.0, 1.0, 1.0, 1.0),
        (0.3, 25.0, 0.5, 0.8, 0.9),
        (0.5, 100.0, 0.2, 1.0, 0.6),
        (0.01, 3.0, 1.0, 0.3, 1.0),
    ],
)
def test_single_click_symmetric_closed_form(link_result, alpha, L, emit, conv, det):
    """P = 2 a eta - (a eta)^2, F = (1 - a)/(1 - a eta/2), eta = emit*conv*fibre*det.

    Full state: the one-photon events give |Psi+> with weight 2a(1-a)eta, both-bright events
    give |11> with weight a^2(2 eta - eta^2) (bunched photons: one click).
    """
    res = link_result(
        scheme="single_click",
        length_a_km=L,
        alpha=alpha,
        alice={"emission_efficiency": emit, "conversion_efficiency": conv, "prep_time_s": 1e-6},
        bob={"emission_efficiency": emit, "conversion_efficiency": conv},
        station={"detector_efficiency": det},
    )
    eta = emit * conv * fibre(L) * det
    p = 2 * alpha * eta - (alpha * eta) ** 2
    assert res.success_probability == pytest.approx(p, rel=REL, abs=0)
    assert res.fidelity == pytest.approx((1 - alpha) / (1 - alpha * eta / 2), abs=ABS)
    expected = (2 * alpha * (1 - alpha) * eta * proj(PSI_PLUS) + alpha**2 * (2 * eta - eta**2) * proj(ket("11"))) / p
    np.testing.assert_allclose(res.density_matrix, expected, atol=ABS)


@pytest.mark.parametrize(
    "LA,LB,alpha_a,alpha_b", [(5.0, 40.0, 0.1, 0.1), (60.0, 2.0, 0.2, 0.2), (10.0, 30.0, 0.05, 0.25)]
)
def test_single_click_asymmetric_closed_form(link_result, LA, LB, alpha_a, alpha_b):
    """Equal alpha: P = a(eta_A + eta_B) - a^2 eta_A eta_B (literature §5.2).

    General (derived the same way): the herald leaves v = sqrt(aA(1-aB)eta_A)|10> +
    sqrt((1-aA)aB eta_B)|01> (after the Z correction of the d outcome) plus |11> with weight
    aA aB (eta_A + eta_B - eta_A eta_B); P = |v|^2 + that weight.
    """
    res = link_result(
        scheme="single_click",
        length_a_km=LA,
        length_b_km=LB,
        alice={"bright_state_population": alpha_a},
        bob={"bright_state_population": alpha_b},
    )
    ea, eb = fibre(LA), fibre(LB)
    v = math.sqrt(alpha_a * (1 - alpha_b) * ea) * ket("10") + math.sqrt((1 - alpha_a) * alpha_b * eb) * ket("01")
    w11 = alpha_a * alpha_b * (ea + eb - ea * eb)
    p = float(v @ v) + w11
    if alpha_a == alpha_b:
        a = alpha_a
        assert p == pytest.approx(a * (ea + eb) - a * a * ea * eb, rel=1e-14, abs=0)  # the literature form
    assert res.success_probability == pytest.approx(p, rel=REL, abs=0)
    np.testing.assert_allclose(res.density_matrix, (proj(v) + w11 * proj(ket("11"))) / p, atol=ABS)


@pytest.mark.parametrize("V", [1.0, 0.9, 0.6, 0.0])
@pytest.mark.parametrize("sigma", [0.0, 0.4, 1.2])
def test_single_click_visibility_and_phase_noise(link_result, V, sigma):
    """The Psi coherence is multiplied by V e^{-sigma^2/2}; the odd-sector weight 2a(1-a)eta
    (one photon: always exactly one click) does not change; F = p_odd (1 + V e^{-s^2/2})/2
    (literature §5.2) with p_odd the delivered odd-sector population."""
    alpha, L = 0.2, 15.0
    res = link_result(
        scheme="single_click",
        length_a_km=L,
        alpha=alpha,
        station={"visibility": V, "phase_noise_rad": sigma},
    )
    eta = fibre(L)
    p = res.success_probability
    rho = np.asarray(res.density_matrix)
    odd = 2 * alpha * (1 - alpha) * eta
    assert p * (rho[1, 1] + rho[2, 2]).real == pytest.approx(odd, rel=REL, abs=0)
    assert p * rho[1, 2].real == pytest.approx(odd / 2 * V * math.exp(-(sigma**2) / 2), rel=REL, abs=1e-15)
    p_odd = (rho[1, 1] + rho[2, 2]).real
    assert res.fidelity == pytest.approx(p_odd * (1 + V * math.exp(-(sigma**2) / 2)) / 2, abs=ABS)
    if V == 1.0:
        assert p == pytest.approx(2 * alpha * eta - (alpha * eta) ** 2, rel=REL, abs=0)
        assert res.fidelity == pytest.approx(
            (1 - alpha) / (1 - alpha * eta / 2) * (1 + math.exp(-(sigma**2) / 2)) / 2, abs=ABS
        )


def test_single_click_partially_distinguishable_photons_bunch_less(link_result):
    """Overlap o = V: two photons that both arrive bunch (one click) with probability
    o^2 + (1 - o^2)/2 = (1 + V^2)/2, so P = 2a(1-a)eta + a^2 [2 eta (1-eta) + eta^2 (1+V^2)/2]."""
    alpha, L, V = 0.4, 0.0, 0.5
    res = link_result(
        scheme="single_click", length_a_km=L, alpha=alpha, station={"visibility": V}, alice={"prep_time_s": 1e-6}
    )
    eta = fibre(L)
    p = 2 * alpha * (1 - alpha) * eta + alpha**2 * (2 * eta * (1 - eta) + eta**2 * (1 + V**2) / 2)
    assert res.success_probability == pytest.approx(p, rel=REL, abs=0)


# -------------------------------------------------------------------------- two photon
@pytest.mark.parametrize("LA,LB,emit_a,det", [(10.0, 10.0, 1.0, 1.0), (3.0, 70.0, 0.3, 0.9), (50.0, 0.0, 0.7, 0.5)])
def test_two_photon_ideal(link_result, LA, LB, emit_a, det):
    """P = eta_A eta_B / 2 and the delivered state is exactly |Psi+> (F = 1)."""
    res = link_result(
        scheme="two_photon",
        length_a_km=LA,
        length_b_km=LB,
        alice={"emission_efficiency": emit_a},
        station={"detector_efficiency": det},
    )
    ea, eb = emit_a * fibre(LA) * det, fibre(LB) * det
    assert res.success_probability == pytest.approx(ea * eb / 2, rel=REL, abs=0)
    assert res.fidelity == pytest.approx(1.0, abs=ABS)
    np.testing.assert_allclose(res.density_matrix, proj(PSI_PLUS), atol=ABS)


@pytest.mark.parametrize("V", [1.0, 0.95, 0.7, 0.3, 0.0])
def test_two_photon_visibility(link_result, V):
    """F = (1 + V)/2: populations of |01>, |10> stay 1/2, coherence V/2; P unchanged (HH and VV
    inputs never give a Bell pattern, distinguishable or not)."""
    res = link_result(scheme="two_photon", length_a_km=20.0, station={"visibility": V})
    assert res.success_probability == pytest.approx(fibre(20.0) ** 2 / 2, rel=REL, abs=0)
    assert res.fidelity == pytest.approx((1 + V) / 2, abs=ABS)
    expected = 0.5 * (proj(ket("01")) + proj(ket("10"))) + V / 2 * (
        np.outer(ket("01"), ket("10")) + np.outer(ket("10"), ket("01"))
    )
    np.testing.assert_allclose(res.density_matrix, expected, atol=ABS)


# --------------------------------------------------------------- memory decoherence
def _coh(t: float, t2: float, law: str) -> float:
    return math.exp(-t / t2) if law == "exponential" else math.exp(-((t / t2) ** 2))


@pytest.mark.parametrize(
    "LA,LB,T2A,T2B,lawA,lawB",
    [
        (10.0, 10.0, 1e-3, 1e-3, "exponential", "exponential"),
        (5.0, 60.0, 2e-4, 3e-3, "exponential", "exponential"),
        (30.0, 15.0, 4e-4, 2e-4, "gaussian", "gaussian"),
        (40.0, 8.0, 5e-4, 1e-4, "gaussian", "exponential"),
    ],
)
def test_stored_pair_dephasing(link_result, LA, LB, T2A, T2B, lawA, lawB):
    """t_i = 2 L_i / c; F = (1 + c_A(t_A) c_B(t_B))/2 on the two_photon |Psi+>
    (literature §5.3, exponential c = e^{-t/T2} or gaussian e^{-(t/T2)^2})."""
    res = link_result(
        scheme="two_photon",
        length_a_km=LA,
        length_b_km=LB,
        alice={"t2_s": T2A, "decay": lawA},
        bob={"t2_s": T2B, "decay": lawB},
    )
    gamma = _coh(2 * LA / C, T2A, lawA) * _coh(2 * LB / C, T2B, lawB)
    assert res.fidelity == pytest.approx((1 + gamma) / 2, abs=ABS)
    assert res.density_matrix[1, 2].real == pytest.approx(gamma / 2, abs=ABS)
    assert res.success_probability == pytest.approx(fibre(LA) * fibre(LB) / 2, rel=REL, abs=0)


def test_gaussian_and_exponential_laws_differ_as_documented(link_result):
    """Same T2 and storage: exponential e^{-x} vs gaussian e^{-x^2} with x = t/T2 = 2 here."""
    L, T2 = 20.0, 1e-4  # t = 2e-4 s, x = 2
    f_exp = link_result(scheme="two_photon", length_a_km=L, alice={"t2_s": T2}).fidelity
    f_gau = link_result(scheme="two_photon", length_a_km=L, alice={"t2_s": T2, "decay": "gaussian"}).fidelity
    assert f_exp == pytest.approx((1 + math.exp(-2.0)) / 2, abs=ABS)
    assert f_gau == pytest.approx((1 + math.exp(-4.0)) / 2, abs=ABS)


def test_single_click_dephasing_multiplies_coherence(link_result):
    alpha, LA, LB, T2A, T2B = 0.1, 12.0, 30.0, 1e-3, 5e-4
    res = link_result(
        scheme="single_click",
        length_a_km=LA,
        length_b_km=LB,
        alpha=alpha,
        alice={"t2_s": T2A},
        bob={"t2_s": T2B, "decay": "gaussian"},
    )
    ideal = link_result(scheme="single_click", length_a_km=LA, length_b_km=LB, alpha=alpha)
    gamma = _coh(2 * LA / C, T2A, "exponential") * _coh(2 * LB / C, T2B, "gaussian")
    # populations untouched by pure dephasing, the |01><10| coherence scaled by gamma
    np.testing.assert_allclose(np.diag(res.density_matrix), np.diag(ideal.density_matrix), atol=ABS)
    assert res.density_matrix[1, 2].real == pytest.approx(gamma * ideal.density_matrix[1, 2].real, abs=ABS)


@pytest.mark.parametrize("T1A,T1B,T2A", [(1e-3, 1e-3, math.inf), (2e-4, 5e-3, math.inf), (5e-4, math.inf, 1e-3)])
def test_amplitude_damping_closed_form(link_result, T1A, T1B, T2A):
    """gamma_i = 1 - e^{-t_i/T1}: |Psi+><Psi+| -> 1/2[(1-gB)|01><01| + (1-gA)|10><10|
    + (gA+gB)|00><00| + c_A c_B sqrt((1-gA)(1-gB))(|01><10| + h.c.)];
    symmetric, no dephasing: F = 1 - gamma."""
    LA, LB = 20.0, 35.0
    res = link_result(
        scheme="two_photon", length_a_km=LA, length_b_km=LB, alice={"t1_s": T1A, "t2_s": T2A}, bob={"t1_s": T1B}
    )
    tA, tB = 2 * LA / C, 2 * LB / C
    gA, gB = 1 - math.exp(-tA / T1A), 1 - math.exp(-tB / T1B)
    cA = 1.0 if math.isinf(T2A) else math.exp(-tA / T2A)
    coh = cA * math.sqrt((1 - gA) * (1 - gB))
    expected = 0.5 * (
        (1 - gB) * proj(ket("01"))
        + (1 - gA) * proj(ket("10"))
        + (gA + gB) * proj(ket("00"))
        + coh * (np.outer(ket("01"), ket("10")) + np.outer(ket("10"), ket("01")))
    )
    np.testing.assert_allclose(res.density_matrix, expected, atol=ABS)
    assert res.fidelity == pytest.approx((2 - gA - gB) / 4 + coh / 2, abs=ABS)


def test_amplitude_damping_symmetric_fidelity(link_result):
    L, T1 = 25.0, 1e-3
    res = link_result(scheme="two_photon", length_a_km=L, alice={"t1_s": T1}, bob={"t1_s": T1})
    assert res.fidelity == pytest.approx(math.exp(-2 * L / C / T1), abs=ABS)  # 1 - gamma


# ---------------------------------------------------------------------------- timing
@pytest.mark.parametrize(
    "LA,LB,prepA,prepB",
    [(10.0, 10.0, 0.0, 0.0), (5.0, 80.0, 1e-5, 3e-5), (80.0, 5.0, 2e-4, 0.0), (0.0, 0.0, 1e-6, 5e-6)],
)
def test_attempt_time_rate_and_storage(link_result, LA, LB, prepA, prepB):
    """T_att = max(prep) + 2 max(L)/c; rate = P/T_att; storage uses 2 L_i / c (no prep)."""
    T2 = 1e-3
    res = link_result(
        scheme="two_photon",
        length_a_km=LA,
        length_b_km=LB,
        alice={"prep_time_s": prepA, "t2_s": T2},
        bob={"prep_time_s": prepB, "t2_s": T2},
    )
    t_att = max(prepA, prepB) + 2 * max(LA, LB) / C
    assert res.attempt_time_s == pytest.approx(t_att, rel=REL, abs=0)
    assert res.rate_hz == pytest.approx(res.success_probability / t_att, rel=REL, abs=0)
    assert res.rate_hz == pytest.approx(fibre(LA) * fibre(LB) / 2 / t_att, rel=REL, abs=0)
    assert res.fidelity == pytest.approx((1 + math.exp(-(2 * LA / C + 2 * LB / C) / T2)) / 2, abs=ABS)


@pytest.mark.parametrize(
    "T2A,T2B,law,expected",
    [
        (1e-3, 1e-3, "exponential", 5e-4),  # 1/T = 1/T2A + 1/T2B
        (1e-3, 3e-3, "exponential", 1 / (1 / 1e-3 + 1 / 3e-3)),
        (1e-3, 1e-3, "gaussian", 1e-3 / math.sqrt(2)),  # 1/T^2 = 1/T2A^2 + 1/T2B^2
        (3e-4, 4e-4, "gaussian", 1 / math.sqrt(1 / 3e-4**2 + 1 / 4e-4**2)),  # 2.4e-4
        (2e-3, math.inf, "exponential", 2e-3),
        (math.inf, math.inf, "gaussian", math.inf),
    ],
)
def test_pair_coherence_time_and_link_efficiency(link_result, T2A, T2B, law, expected):
    res = link_result(
        scheme="single_click", length_a_km=10.0, alice={"t2_s": T2A, "decay": law}, bob={"t2_s": T2B, "decay": law}
    )
    if math.isinf(expected):
        assert math.isinf(res.pair_coherence_time_s)
        assert math.isinf(res.link_efficiency)
    else:
        assert res.pair_coherence_time_s == pytest.approx(expected, rel=REL, abs=0)
        assert res.link_efficiency == pytest.approx(res.rate_hz * expected, rel=REL, abs=0)


@pytest.mark.parametrize("t1", [math.inf, 2e-3])
def test_pair_coherence_time_is_the_1_over_e_time_of_mixed_laws(link_result, t1):
    """Definition (conventions.md): the time T at which the pair's coherence has fallen by 1/e,
    both memories decaying: c_A(T) c_B(T) [e^{-T/(2 T1)} per memory for amplitude damping] = 1/e.
    Mixed laws have no simple formula, so check the defining equation."""
    T2A, T2B = 1e-3, 6e-4
    res = link_result(
        scheme="two_photon",
        length_a_km=10.0,
        alice={"t2_s": T2A, "decay": "exponential", "t1_s": t1},
        bob={"t2_s": T2B, "decay": "gaussian", "t1_s": t1},
    )
    T = res.pair_coherence_time_s
    ad = 1.0 if math.isinf(t1) else math.exp(-T / t1)  # two memories, each e^{-T/(2 T1)}
    assert _coh(T, T2A, "exponential") * _coh(T, T2B, "gaussian") * ad == pytest.approx(math.exp(-1.0), rel=1e-9, abs=0)


@pytest.mark.parametrize("speed", [1.0e5, 2.0e5, 3.0e5])
def test_fibre_speed_setting(link_result, speed):
    """fibre_speed_km_per_s changes T_att and the storage times t_i = 2 L_i / c."""
    L, T2 = 50.0, 1e-3
    res = link_result(
        scheme="two_photon",
        length_a_km=L,
        network={"fibre_speed_km_per_s": speed},
        alice={"t2_s": T2},
        bob={"t2_s": T2},
    )
    assert res.attempt_time_s == pytest.approx(2 * L / speed, rel=REL, abs=0)
    assert res.fidelity == pytest.approx((1 + math.exp(-2 * (2 * L / speed) / T2)) / 2, abs=ABS)


def test_default_fibre_speed_is_5_us_per_km(link_result):
    assert link_result(scheme="two_photon", length_a_km=1.0).attempt_time_s == pytest.approx(1e-5, rel=REL, abs=0)


def test_two_photon_figures_of_delivered_state(link_result):
    """The V-limited two_photon state has T = diag(V, V, -1) (Pauli correlations), so
    S = 2 sqrt(1 + V^2), Q = 0 and r = 1 - h((1 + V)/2); key rate = r * rate."""
    V = 0.9
    res = link_result(scheme="two_photon", length_a_km=10.0, station={"visibility": V})
    assert res.chsh == pytest.approx(2 * math.sqrt(1 + V * V), abs=1e-9)
    assert res.qber == pytest.approx(0.0, abs=ABS)
    x = (1 + V) / 2
    r = 1 + x * math.log2(x) + (1 - x) * math.log2(1 - x)
    assert res.diqkd_key_fraction == pytest.approx(r, abs=1e-9)
    assert res.diqkd_key_rate_hz == pytest.approx(r * res.rate_hz, rel=1e-9, abs=0)


def test_single_click_qber_is_the_11_population(link_result):
    """Z-basis error for |Psi+> = probability of equal outcomes = rho_00 + rho_11; ideal
    single click: the |11> weight a^2 (2 eta - eta^2)/P = 1 - F."""
    alpha, L = 0.2, 10.0
    res = link_result(scheme="single_click", length_a_km=L, alpha=alpha)
    eta = fibre(L)
    q = alpha**2 * (2 * eta - eta**2) / (2 * alpha * eta - (alpha * eta) ** 2)
    assert res.qber == pytest.approx(q, abs=ABS)


# ---------------------------------------------------------------- far links (precision)
@pytest.mark.parametrize("L", [500.0, 1000.0])
def test_single_click_far_links_keep_precision(link_result, L):
    """P = 2 a eta - (a eta)^2 stays exact in double precision at any length: eta = 1e-10
    (500 km) or 1e-20 (1000 km) is a perfectly representable number and the closed form
    has no cancellation, so a relative error above 1e-9 is a numerical defect (e.g. forming
    1 - eta and losing eta's digits). At 1000 km the link does herald (P ~ 2e-21)."""
    alpha = 0.1
    res = link_result(scheme="single_click", length_a_km=L, alpha=alpha)
    eta = fibre(L)
    assert res.success_probability == pytest.approx(2 * alpha * eta - (alpha * eta) ** 2, rel=1e-9, abs=0)
    assert res.fidelity == pytest.approx((1 - alpha) / (1 - alpha * eta / 2), abs=ABS)
