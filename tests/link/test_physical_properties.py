"""Physical properties of any delivered link state, on random valid parameters (hypothesis).

Whatever the parameters (lengths up to 1000 km), the delivered state must be a density
matrix (trace 1, Hermitian, positive semidefinite), probabilities must lie in [0, 1], the
fidelity in [0, 1] and equal <Psi+|rho|Psi+>, and no figure may be NaN. Tolerance 1e-12:
rounding in an exact double-precision simulation is ~1e-15 on O(1) quantities.
Examples are derandomised and few (the file runs in a few seconds).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qnet

S = 1.0 / math.sqrt(2.0)
PSI_PLUS = np.array([0.0, S, S, 0.0])
TOL = 1e-12

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

prob = st.floats(0.0, 1.0, allow_nan=False)
times = st.one_of(st.just(math.inf), st.floats(1e-7, 10.0, allow_nan=False))


@st.composite
def link_kwargs(draw, dark=st.floats(1e-6, 0.5), eff=st.floats(1e-3, 1.0), att=st.floats(0.0, 1.0)):
    scheme = draw(st.sampled_from(["single_click", "two_photon"]))

    def memory() -> dict:
        node = {
            "t2_s": draw(times),
            "t1_s": draw(times),
            "decay": draw(st.sampled_from(["exponential", "gaussian"])),
            "emission_efficiency": draw(eff),
            "conversion_efficiency": draw(eff),
            "prep_time_s": draw(st.floats(1e-7, 1e-4)),
        }
        if scheme == "single_click":
            node["bright_state_population"] = draw(st.floats(1e-3, 0.999))
        return node

    station = {
        "detector_efficiency": draw(eff),
        "dark_count_probability": draw(dark),
        "visibility": draw(prob),
    }
    if scheme == "single_click":
        station["phase_noise_rad"] = draw(st.floats(0.0, 3.0))
    return dict(
        scheme=scheme,
        length_a_km=draw(st.floats(0.0, 1000.0)),
        length_b_km=draw(st.floats(0.0, 1000.0)),
        attenuation_a_db_per_km=draw(att),
        attenuation_b_db_per_km=draw(att),
        alice=memory(),
        bob=memory(),
        station=station,
        network={"fibre_speed_km_per_s": draw(st.floats(1.0e5, 3.0e5))},
    )


def _check_physical(res: qnet.LinkResult) -> None:
    rho = np.asarray(res.density_matrix)
    assert rho.shape == (4, 4)
    assert np.all(np.isfinite(rho))
    assert np.trace(rho).real == pytest.approx(1.0, abs=TOL)
    assert abs(np.trace(rho).imag) <= TOL
    np.testing.assert_allclose(rho, rho.conj().T, atol=TOL)
    assert np.linalg.eigvalsh((rho + rho.conj().T) / 2).min() >= -TOL
    for name in qnet.LINK_FIELDS:
        assert not math.isnan(getattr(res, name)), name
    assert 0.0 < res.success_probability <= 1.0
    assert -TOL <= res.fidelity <= 1.0 + TOL
    assert res.fidelity == pytest.approx(float(PSI_PLUS @ rho.real @ PSI_PLUS), abs=TOL)
    assert 0.0 <= res.qber <= 1.0
    assert 0.0 <= res.chsh <= 2 * math.sqrt(2) + TOL
    assert 0.0 <= res.diqkd_key_fraction <= 1.0
    assert res.attempt_time_s > 0 and math.isfinite(res.attempt_time_s)
    assert res.rate_hz == pytest.approx(res.success_probability / res.attempt_time_s, rel=1e-12, abs=0)
    assert res.pair_coherence_time_s > 0
    assert res.link_efficiency >= 0 and res.diqkd_key_rate_hz >= 0


@pytest.mark.slow
@SETTINGS
@given(link_kwargs())
def test_delivered_state_is_physical(link_result, kwargs):
    """Dark counts >= 1e-6 keep the herald probability representable at any length."""
    _check_physical(link_result(**kwargs))


@pytest.mark.slow
@SETTINGS
@given(link_kwargs(dark=st.just(0.0), eff=st.floats(0.1, 1.0), att=st.floats(0.15, 0.25)))
def test_far_links_still_herald_without_dark_counts(link_result, kwargs):
    """With no dark counts P is a product of per-arm efficiencies (>= ~1e-50 here, far above
    the smallest double), so the link heralds and every figure is a number."""
    _check_physical(link_result(**kwargs))


@pytest.mark.parametrize("scheme", ["single_click", "two_photon"])
def test_1000_km_link_has_no_nan(link_result, scheme):
    res = link_result(scheme=scheme, length_a_km=1000.0, alice={"t2_s": 1.0}, bob={"t2_s": 1.0})
    _check_physical(res)
    eta = 10 ** (-0.2 * 1000.0 / 10)  # 1e-20
    expected = 2 * 0.1 * eta - (0.1 * eta) ** 2 if scheme == "single_click" else eta * eta / 2
    assert res.success_probability == pytest.approx(expected, rel=1e-6, abs=0)


@SETTINGS
@given(
    st.floats(1e-3, 0.999),
    st.floats(1e-3, 0.999),
    st.floats(0.0, 300.0),
    st.floats(0.0, 300.0),
    st.floats(0.1, 50.0),
)
def test_single_click_success_falls_with_length(link_result, alpha_a, alpha_b, la, lb, extra):
    """No dark counts, V = 1: P = aA eA + aB eB - aA aB eA eB grows with each eta
    (dP/deta_A = aA (1 - aB eB) >= 0), so lengthening a fibre cannot raise P."""
    kw = dict(
        scheme="single_click",
        alice={"bright_state_population": alpha_a, "prep_time_s": 1e-6},
        bob={"bright_state_population": alpha_b},
    )
    near = link_result(length_a_km=la, length_b_km=lb, **kw).success_probability
    far = link_result(length_a_km=la + extra, length_b_km=lb, **kw).success_probability
    assert far <= near * (1 + 1e-12)


@pytest.mark.slow
@SETTINGS
@given(st.floats(1e-5, 1e-1), st.sampled_from(["exponential", "gaussian"]), st.floats(1.0, 200.0), st.floats(0.1, 50.0))
def test_two_photon_fidelity_falls_with_storage(link_result, t2, law, length, extra):
    """Longer storage (t = 2L/c) can only lower the coherence c(t), hence F = (1 + c_A c_B)/2."""
    kw = dict(scheme="two_photon", alice={"t2_s": t2, "decay": law}, bob={"t2_s": t2, "decay": law})
    near = link_result(length_a_km=length, **kw).fidelity
    far = link_result(length_a_km=length + extra, **kw).fidelity
    assert far <= near + TOL
    assert far >= 0.5 - TOL  # pure dephasing of |Psi+> never goes below the classical 1/2
