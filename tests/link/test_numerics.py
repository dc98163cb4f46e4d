"""Numbers at the edges of double precision: each ends in a physical result or a one-line error.

Extreme but valid inputs (a T2 whose square underflows, a phase noise whose square overflows,
fibres too long to time, attempt times of zero, detectors that always click, links that never
herald or herald with P ~ 1e-41) must give either the physical limit, checked against a closed
form (conventions: F = (1 + c_A c_B)/2 for two_photon, the single_click coherence scaled by
V exp(-sigma^2/2)), or a :class:`qnet.QnetError` whose one line names the field — through the
Python API and through ``qnet link`` / ``qnet chain`` (exit status 2, one line on stderr).
Tolerances as in test_link_closed_forms: rel 1e-10 on probabilities, abs 1e-12 on O(1) entries.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import qnet
from qnet.quantum import channels
from qnet.cli import main
from qnet.link.run import final_states, herald_floor, heralded_states, never_heralds

ROOT = Path(__file__).resolve().parents[2]
LIU = str(ROOT / "examples" / "liu2026_ion_link.toml")  # single_click: alice - station - bob
CHAIN = str(ROOT / "examples" / "ion_repeater_chain.toml")  # alice - s1 - r1 - ... - bob
REL, ABS = 1e-10, 1e-12
S = 1.0 / math.sqrt(2.0)
PSI_PLUS = np.array([0.0, S, S, 0.0])


def _fibre(length_km: float, att: float = 0.2) -> float:
    return 10.0 ** (-att * length_km / 10.0)


def _physical(res: qnet.LinkResult) -> None:
    rho = np.asarray(res.density_matrix)
    assert np.all(np.isfinite(rho))
    assert np.trace(rho).real == pytest.approx(1.0, abs=ABS)
    np.testing.assert_allclose(rho, rho.conj().T, atol=ABS)
    assert np.linalg.eigvalsh((rho + rho.conj().T) / 2).min() >= -ABS
    assert 0.0 < res.success_probability <= 1.0
    assert 0.0 <= res.rate_hz < math.inf and 0.0 < res.attempt_time_s < math.inf
    for name in qnet.LINK_FIELDS:
        assert not math.isnan(getattr(res, name)), name


FIGURES = {
    "fidelity",
    "success_probability",
    "attempt_time_s",
    "rate_hz",
    "pair_coherence_time_s",
    "link_efficiency",
    "chsh",
    "qber",
    "mean_completion_time_s",
}


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _cli_error(capsys, *argv: str, fragments: tuple[str, ...]) -> str:
    """The command must exit 2 with exactly one line ``qnet: error: ...`` naming ``fragments``."""
    rc, out, err = _cli(capsys, *argv)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("qnet: error: "), (rc, err)
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    return lines[0]


def _cli_json(capsys, *argv: str) -> dict:
    rc, out, err = _cli(capsys, *argv, "--json")
    assert rc == 0, err
    data = json.loads(out)
    for key in FIGURES & set(data):
        assert data[key] is not None, key  # JSON null = an infinite or NaN figure
    return data


def _link_cli(*sets: str) -> list[str]:
    return ["link", LIU, "alice", "bob", *(x for s in sets for x in ("--set", s))]


def _chain_cli(*sets: str) -> list[str]:
    return [
        "chain",
        CHAIN,
        "alice",
        "bob",
        "--samples",
        "20",
        "--seed",
        "1",
        "--no-progress",
        *(x for s in sets for x in ("--set", s)),
    ]


# ------------------------------------------------------------ gaussian decay with tiny T2
def test_gaussian_factor_is_the_factored_closed_form():
    """exp(-(t_to^2 - t_from^2)/T2^2) for ordinary values; 0 (fully dephased) where T2^2 underflows
    or the ages' squares overflow, never ZeroDivisionError or OverflowError."""
    for t_from, t_to, t2 in ((0.0, 1e-4, 2e-4), (3e-4, 5e-4, 4e-4), (0.2, 1.1, 0.7)):
        expected = math.exp(-(t_to**2 - t_from**2) / t2**2)
        assert channels.storage_coherence_factor(t_from, t_to, t2, "gaussian") == pytest.approx(expected, rel=1e-14)
        c, _ = channels.storage_factors(t_from, t_to, math.inf, t2, "gaussian")
        assert float(c) == pytest.approx(expected, rel=1e-14)
    assert channels.coherence_factor(1e-5, 1e-162, "gaussian") <= 1e-300
    assert channels.storage_coherence_factor(0.0, 1e-5, 1e-162, "gaussian") <= 1e-300
    assert channels.storage_coherence_factor(1e200, 2e200, 1e190, "gaussian") <= 1e-300
    c, s = channels.storage_factors(np.array([0.0, 1e-3]), np.array([1e-5, 2e-3]), math.inf, 1e-162, "gaussian")
    assert np.all(c <= 1e-300) and np.allclose(s, 1.0, rtol=0, atol=1e-15)


def test_pair_coherence_time_of_tiny_t2():
    """1/T_coh^2 = sum 1/T2^2 without squaring: T_coh = T2 for one gaussian memory, 0 when a rate is inf."""
    assert channels.pair_coherence_time(
        (1e-162, math.inf, "gaussian"), (math.inf, math.inf, "gaussian")
    ) == pytest.approx(1e-162, rel=1e-14)
    assert channels.pair_coherence_time(
        (3e-200, math.inf, "gaussian"), (4e-200, math.inf, "gaussian")
    ) == pytest.approx(1 / math.sqrt(1 / 9 + 1 / 16) * 1e-200, rel=1e-14)
    assert channels.pair_coherence_time((5e-324, 5e-324, "gaussian")) <= 1e-300


def test_link_with_tiny_gaussian_t2_is_fully_dephased(link_result):
    """two_photon: F = (1 + c_A c_B)/2 with c_A = 0 gives F = 1/2, no coherence, P unchanged."""
    res = link_result(scheme="two_photon", length_a_km=10.0, alice={"t2_s": 1e-162, "decay": "gaussian"})
    _physical(res)
    assert res.fidelity == pytest.approx(0.5, abs=ABS)
    assert abs(res.density_matrix[1, 2]) <= ABS
    assert res.success_probability == pytest.approx(_fibre(10.0) ** 2 / 2, rel=REL)
    assert res.pair_coherence_time_s == pytest.approx(1e-162, rel=1e-12)


def test_cli_link_and_chain_with_tiny_gaussian_t2(capsys):
    sets = ("nodes.alice.decay=gaussian", "nodes.alice.t2_s=1e-162")
    link = _cli_json(capsys, *_link_cli(*sets))
    ideal = _cli_json(capsys, *_link_cli())
    assert link["success_probability"] == pytest.approx(ideal["success_probability"], rel=REL)
    assert link["fidelity"] < ideal["fidelity"]
    chain = _cli_json(capsys, *_chain_cli(*sets))
    assert 0.0 <= chain["fidelity"] <= 1.0 and 0.0 < chain["rate_hz"] < math.inf


# ----------------------------------------------------------------- huge optical phase noise
def test_huge_phase_noise_randomises_the_phase(link_result):
    """single_click, V = 1: the Psi coherence times exp(-sigma^2/2) = 0, so
    F = (1 - a)/(1 - a eta/2) / 2 and rho[1, 2] = 0; P is unchanged."""
    alpha, length = 0.1, 10.0
    res = link_result(scheme="single_click", length_a_km=length, alpha=alpha, station={"phase_noise_rad": 1.4e154})
    _physical(res)
    eta = _fibre(length)
    assert res.fidelity == pytest.approx((1 - alpha) / (1 - alpha * eta / 2) / 2, abs=ABS)
    assert abs(res.density_matrix[1, 2]) <= ABS
    assert res.success_probability == pytest.approx(2 * alpha * eta - (alpha * eta) ** 2, rel=REL)


def test_cli_link_and_chain_with_huge_phase_noise(capsys):
    link = _cli_json(capsys, *_link_cli("nodes.station.phase_noise_rad=1.4e154"))
    assert 0.0 <= link["fidelity"] <= 1.0
    chain = _cli_json(capsys, *_chain_cli("nodes.s1.phase_noise_rad=1.4e154"))
    assert 0.0 <= chain["fidelity"] <= 1.0


# ------------------------------------------------------------ fibres too long to time
def test_fibre_too_long_to_time_is_refused(link_network):
    with pytest.raises(qnet.ConfigError) as info:
        qnet.link_spec(qnet.network_from_dict(link_network(length_a_km=1e308)), "alice", "bob")
    msg = str(info.value)
    assert "fibres.alice-mid.length_km" in msg and "1e+308" in msg and "\n" not in msg


def test_slow_fibre_speed_names_the_speed(link_network):
    with pytest.raises(qnet.ConfigError, match="fibre_speed_km_per_s"):
        qnet.link_spec(qnet.network_from_dict(link_network(network={"fibre_speed_km_per_s": 1e-300})), "alice", "bob")


def test_preparation_too_long_to_time_is_refused(link_network):
    with pytest.raises(qnet.ConfigError, match=r"nodes\.bob\.prep_time_s"):
        qnet.link_spec(qnet.network_from_dict(link_network(bob={"prep_time_s": 1e308})), "alice", "bob")


def test_very_long_fibre_is_computed_safely(link_result):
    """1e6 km: 2 L / c = 10 s is finite while arm A transmits nothing (10^-20000 = 0), so only
    B's photon can click: P = a eta_B, F = (1 - a)/2 ... and the rate is P / 10 s."""
    alpha = 0.1
    res = link_result(scheme="single_click", length_a_km=1e6, length_b_km=10.0, alpha=alpha)
    _physical(res)
    assert res.attempt_time_s == pytest.approx(2 * 1e6 / 2e5, rel=1e-15)
    assert res.success_probability == pytest.approx(alpha * _fibre(10.0), rel=REL)
    assert res.rate_hz == pytest.approx(res.success_probability / res.attempt_time_s, rel=1e-14)


def test_cli_link_and_chain_refuse_a_fibre_too_long_to_time(capsys):
    _cli_error(
        capsys,
        *_link_cli("fibres.alice-station.length_km=1e308"),
        fragments=("fibres.alice-station.length_km", "1e+308"),
    )
    _cli_error(
        capsys, *_chain_cli("fibres.alice-s1.length_km=1e308"), fragments=("fibres.alice-s1.length_km", "1e+308")
    )


# ------------------------------------------------------------------ zero attempt time
@pytest.mark.parametrize("prep", [0.0, 1e-320])  # 1e-320: 1/T_att overflows, the rate would be inf
def test_attempt_time_without_a_finite_rate_is_refused(link_network, prep):
    data = link_network(length_a_km=0.0, alice={"prep_time_s": prep})
    with pytest.raises(qnet.ConfigError) as info:
        qnet.link_spec(qnet.network_from_dict(data), "alice", "bob")
    msg = str(info.value)
    for frag in (
        "nodes.alice.prep_time_s",
        "nodes.bob.prep_time_s",
        "fibres.alice-mid.length_km",
        "fibres.bob-mid.length_km",
        "infinite",
    ):
        assert frag in msg, (frag, msg)


def test_cli_link_and_chain_refuse_zero_attempt_time(capsys):
    zero = (
        "fibres.alice-station.length_km=0",
        "fibres.station-bob.length_km=0",
        "nodes.alice.prep_time_s=0",
        "nodes.bob.prep_time_s=0",
    )
    _cli_error(capsys, *_link_cli(*zero), fragments=("prep_time_s", "length_km"))
    zero = (
        "fibres.alice-s1.length_km=0",
        "fibres.s1-r1.length_km=0",
        "nodes.alice.prep_time_s=0",
        "nodes.r1.prep_time_s=0",
    )
    _cli_error(capsys, *_chain_cli(*zero), fragments=("prep_time_s", "length_km"))


# ------------------------------------------------------------- detectors that always click
def test_dark_counts_of_one_are_refused_by_name(link_network):
    for scheme in ("single_click", "two_photon"):
        with pytest.raises(qnet.ConfigError) as info:
            qnet.network_from_dict(link_network(scheme=scheme, station={"dark_count_probability": 1.0}))
        assert "nodes.mid.dark_count_probability" in str(info.value) and "every detector clicks" in str(info.value)


def test_dark_counts_just_below_one_still_herald(link_result):
    """single_click, V = 1, dark counts p = 0.999: light reaches the station in one detector (two
    photons bunch) unless no photon arrives, q0 = (1 - a eta)^2. A herald is exactly one click:
    P = q0 2 p (1 - p) + (1 - q0)(1 - p) = (1 - p)(1 + (2p - 1) q0): rare but finite."""
    alpha, length, p = 0.1, 10.0, 0.999
    res = link_result(scheme="single_click", length_a_km=length, alpha=alpha, station={"dark_count_probability": p})
    _physical(res)
    q0 = (1 - alpha * _fibre(length)) ** 2
    assert res.success_probability == pytest.approx((1 - p) * (1 + (2 * p - 1) * q0), rel=REL)


def test_cli_link_and_chain_refuse_dark_counts_of_one(capsys):
    _cli_error(
        capsys,
        *_link_cli("nodes.station.dark_count_probability=1"),
        fragments=("nodes.station.dark_count_probability",),
    )
    _cli_error(capsys, *_chain_cli("nodes.s2.dark_count_probability=1"), fragments=("nodes.s2.dark_count_probability",))


# ------------------------------------------------------------- never heralds / far links
NEVER = [
    {"scheme": "two_photon", "alice": {"emission_efficiency": 0.0}},
    {"scheme": "two_photon", "alice": {"emission_efficiency": 0.0}, "station": {"visibility": 0.7}},
    {"scheme": "single_click", "alice": {"emission_efficiency": 0.0}, "bob": {"conversion_efficiency": 0.0}},
    {"scheme": "single_click", "station": {"detector_efficiency": 0.0, "visibility": 0.8}},
    {"scheme": "two_photon", "length_a_km": 1e5},  # 10^-2000 underflows to 0
]


@pytest.mark.parametrize("engine", ["aer", "batch"])
@pytest.mark.parametrize("overrides", NEVER)
def test_link_that_never_heralds_on_each_engine(link_network, overrides, engine):
    compiled = qnet.compile_link(qnet.link_spec(qnet.network_from_dict(link_network(**overrides)), "alice", "bob"))
    rho = final_states([compiled], link_backend=engine)[0]
    p, _ = heralded_states(
        rho[None], compiled.circuit.num_qubits, compiled.memory_qubits, compiled.photon_qubits, compiled.heralds
    )
    assert never_heralds(p, compiled.circuit.num_qubits)[0]
    with pytest.raises(qnet.QnetError) as info:
        qnet.run_link(compiled, link_backend=engine)
    assert "alice-bob never heralds" in str(info.value)


def test_herald_floor_is_at_the_exponent_range():
    """Far links' P (5e-61 at 1500 km per arm, two_photon) must stay above the floor."""
    assert 1e-300 < herald_floor(4) < herald_floor(6) < 1e-280


@pytest.mark.parametrize("engine", ["aer", "batch"])
@pytest.mark.parametrize(
    "scheme, length_km", [("single_click", 1000.0), ("two_photon", 1000.0), ("two_photon", 1500.0)]
)
def test_far_links_herald_with_closed_form_probability(link_network, scheme, length_km, engine):
    """eta = 10^(-0.2 L/10) per arm (1e-20 at 1000 km): single_click P = 2 a eta - (a eta)^2,
    two_photon P = eta^2 / 2 (5e-41; 5e-61 at 1500 km), both far above the herald floor."""
    alpha = 0.1
    data = link_network(scheme=scheme, length_a_km=length_km, alpha=alpha, alice={"t2_s": 1.0}, bob={"t2_s": 1.0})
    res = qnet.run_link(
        qnet.compile_link(qnet.link_spec(qnet.network_from_dict(data), "alice", "bob")), link_backend=engine
    )
    _physical(res)
    eta = _fibre(length_km)
    expected = 2 * alpha * eta - (alpha * eta) ** 2 if scheme == "single_click" else eta * eta / 2
    assert res.success_probability == pytest.approx(expected, rel=1e-9)


def test_chain_refuses_links_too_rare_to_count():
    """Geometric waits of ~1/p rounds are int64: numpy saturates them at 2^63 - 1 for p ~ 1e-22,
    which would give silently wrong times, so a chain link needs p >= 1e-15."""
    from qnet.repeater.chain import MIN_LINK_SUCCESS_PROBABILITY, ChainLink

    rho = np.outer(PSI_PLUS, PSI_PLUS)
    assert ChainLink(rho, MIN_LINK_SUCCESS_PROBABILITY, 1e-3).success_probability == MIN_LINK_SUCCESS_PROBABILITY
    with pytest.raises(qnet.ConfigError, match="success_probability"):
        ChainLink(rho, 1e-22, 1e-3)


def test_cli_chain_refuses_links_too_rare_to_count(capsys):
    fibres = ("alice-s1", "s1-r1", "r1-s2", "s2-r2", "r2-s3", "s3-r3", "r3-s4", "s4-bob")
    sets = [f"fibres.{f}.length_km=1000" for f in fibres] + [
        f"nodes.s{i}.dark_count_probability=0" for i in range(1, 5)
    ]
    _cli_error(capsys, *_chain_cli(*sets), fragments=("success_probability", "64-bit"))


# ------------------------------------------------------------------- property test
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _log_uniform(lo: float, hi: float):
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda x: 10.0**x)


@st.composite
def physical_links(draw):
    scheme = draw(st.sampled_from(["single_click", "two_photon"]))
    unit = st.floats(0.0, 1.0)

    def memory() -> dict:
        node = {
            "t2_s": draw(_log_uniform(1e-9, 1e3)),
            "t1_s": draw(st.one_of(st.just(math.inf), _log_uniform(1e-9, 1e3))),
            "decay": draw(st.sampled_from(["exponential", "gaussian"])),
            "emission_efficiency": draw(unit),
            "conversion_efficiency": draw(unit),
            "prep_time_s": draw(st.one_of(st.just(0.0), _log_uniform(1e-9, 1e-2))),
        }
        if scheme == "single_click":
            node["bright_state_population"] = draw(st.floats(1e-6, 1 - 1e-6))
        return node

    station = {
        "detector_efficiency": draw(unit),
        "dark_count_probability": draw(st.floats(0.0, 0.999)),
        "visibility": draw(unit),
    }
    if scheme == "single_click":
        station["phase_noise_rad"] = draw(st.one_of(st.floats(0.0, 5.0), _log_uniform(1.0, 1e200)))
    return dict(
        scheme=scheme,
        length_a_km=draw(_log_uniform(1e-3, 1e3)),
        length_b_km=draw(_log_uniform(1e-3, 1e3)),
        alice=memory(),
        bob=memory(),
        station=station,
    )


_SUBNORMAL_LINK = dict(  # found by the test below: P ~ 1e-313 overflowed the normalisation
    scheme="two_photon",
    length_a_km=1.0,
    length_b_km=1.0,
    alice=dict(t2_s=1.0, emission_efficiency=1.0, conversion_efficiency=1.0),
    bob=dict(t2_s=1.0, emission_efficiency=1.0, conversion_efficiency=2.2250738585e-313),
    station=dict(detector_efficiency=1.0, dark_count_probability=0.0, visibility=0.0),
)


@pytest.mark.slow
@FUZZ
@example(kwargs=_SUBNORMAL_LINK, engine="aer")
@example(kwargs=_SUBNORMAL_LINK, engine="batch")
@given(kwargs=physical_links(), engine=st.sampled_from(["aer", "batch"]))
def test_random_physical_links_give_a_physical_result_or_a_qnet_error(link_network, kwargs, engine):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value warnings on the way
        try:
            graph = qnet.network_from_dict(link_network(**kwargs))
            res = qnet.run_link(qnet.compile_link(qnet.link_spec(graph, "alice", "bob")), link_backend=engine)
        except qnet.QnetError as exc:
            assert "\n" not in str(exc)
            return
    _physical(res)
    for name in ("fidelity", "qber", "diqkd_key_fraction"):
        assert -ABS <= getattr(res, name) <= 1 + ABS, name
    assert 0.0 <= res.pair_coherence_time_s and 0.0 <= res.link_efficiency < math.inf
