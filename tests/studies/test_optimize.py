"""``qnet optimize`` / qnet.studies.optimize.optimize_link against closed forms worked out by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import qnet
from qnet.cli import main
from qnet.errors import QnetError
from qnet.studies.optimize import optimize_link, parse_vary_range
from qnet.link.results import LINK_FIELDS

from qnet_testing import build_link_network

LIU = str(Path(__file__).resolve().parents[2] / "examples" / "liu2026_ion_link.toml")
ALPHAS = "nodes.alice.bright_state_population,nodes.bob.bright_state_population"
KEY = "diqkd_key_rate_hz" if "diqkd_key_rate_hz" in LINK_FIELDS else "key_rate_hz"  # the name LINK_FIELDS uses


def evaluate(data, overrides=()):
    graph = qnet.network_from_dict(data, overrides=list(overrides))
    return qnet.run_link(qnet.compile_link(qnet.link_spec(graph, "alice", "bob")))


def single_click(length_km=10.0, emission=0.5):
    """Symmetric single-click link: no memory decay, no dark counts, V = 1, no phase noise."""
    return build_link_network(
        scheme="single_click",
        length_a_km=length_km,
        alpha=0.1,
        alice={"emission_efficiency": emission},
        bob={"emission_efficiency": emission},
    )


@pytest.mark.slow
def test_rate_at_min_fidelity_is_the_closed_form_alpha():
    # F(alpha) = (1 - alpha)/(1 - alpha eta/2) falls and P = 2 alpha eta - (alpha eta)^2 rises with
    # alpha, so the best rate at F >= F0 sits where F = F0:
    # 1 - a = F0 (1 - a eta/2)  =>  a = (1 - F0)/(1 - F0 eta/2)
    eta = 0.5 * 10 ** (-0.2 * 10.0 / 10)
    f0 = 0.95
    alpha = (1 - f0) / (1 - f0 * eta / 2)
    graph = qnet.network_from_dict(single_click())
    res = optimize_link(graph, "alice", "bob", ALPHAS, (0.01, 0.5), "rate_hz", min_fidelity=f0)
    assert res.value == pytest.approx(alpha, rel=1e-8)
    assert res.fidelity == pytest.approx(f0, abs=1e-9) and res.fidelity >= f0 - 1e-12
    assert res.constraint_active and res.at_bound is None
    p = 2 * alpha * eta - (alpha * eta) ** 2
    assert res.objective == pytest.approx(p / res.link.attempt_time_s, rel=1e-7)
    # the batch engine evaluates the same circuits: same optimum
    same = optimize_link(graph, "alice", "bob", ALPHAS, (0.01, 0.5), "rate_hz", min_fidelity=f0, link_backend="batch")
    assert same.value == pytest.approx(res.value, rel=1e-9)


def test_unconstrained_monotone_rate_ends_at_the_upper_bound():
    # dP/dalpha = 2 eta (1 - alpha eta) > 0: the rate rises over the whole range
    graph = qnet.network_from_dict(single_click())
    res = optimize_link(graph, "alice", "bob", ALPHAS, (0.01, 0.4), "rate_hz")
    assert res.value == 0.4 and res.at_bound == "upper" and not res.constraint_active
    # and maximising the fidelity instead picks the lowest alpha
    res = optimize_link(graph, "alice", "bob", ALPHAS, (0.01, 0.4), "fidelity")
    assert res.value == 0.01 and res.at_bound == "lower"


@pytest.mark.slow
def test_two_photon_rate_is_best_with_the_station_in_the_middle():
    # two_photon: P = eta_A eta_B / 2 = e^2 10^(-0.2 L/10)/2 does not depend on where the station is
    # (same attenuation on both arms); T_att = prep + 2 max(L_A, L_B)/c is smallest at L_A = L_B.
    data = build_link_network(
        scheme="two_photon",
        length_a_km=30.0,
        length_b_km=10.0,
        alice={"emission_efficiency": 0.5, "prep_time_s": 1e-4},
        bob={"emission_efficiency": 0.5, "prep_time_s": 1e-4},
    )
    graph = qnet.network_from_dict(data)
    res = optimize_link(graph, "alice", "bob", "station_position", (0.1, 0.83), "rate_hz")  # 0.5 is not a grid point
    assert res.value == pytest.approx(0.5, abs=1e-6)
    assert res.arm_lengths_km == pytest.approx((20.0, 20.0), abs=4e-5)
    p = 0.25 * 10 ** (-0.2 * 40.0 / 10) / 2
    assert res.link.success_probability == pytest.approx(p, rel=1e-9)
    assert res.objective == pytest.approx(p / (1e-4 + 2 * 20.0 / 2e5), rel=1e-8)
    assert res.link.fidelity == pytest.approx(1.0, abs=1e-12)


def test_narrow_feasible_window_between_grid_points():
    # single-click fidelity peaks near balanced arms (here near L_A = 8.7 km for L_B = 10 km) and
    # the rate rises as L_A shrinks; with 4 grid points (0, 6.7, 13.3, 20 km) none meets F >= F(9 km),
    # so the search must find the window first, then its left edge F(L_A) = F(9 km)
    data = single_click()
    f0 = evaluate(data, ["fibres.alice-mid.length_km=9.0"]).fidelity
    graph = qnet.network_from_dict(data)
    res = optimize_link(graph, "alice", "bob", "fibres.alice-mid.length_km", (0.0, 20.0), "rate_hz", f0, grid_points=4)
    assert all(f < f0 for _x, _v, f in res.grid)
    assert 6.67 < res.value < 9.0 and res.constraint_active
    assert res.fidelity == pytest.approx(f0, abs=1e-9)
    assert evaluate(data, [f"fibres.alice-mid.length_km={res.value - 1e-5!r}"]).fidelity < f0  # it is the edge
    assert res.objective > evaluate(data, ["fibres.alice-mid.length_km=9.0"]).rate_hz


def test_interior_optimum_is_a_local_maximum_of_the_key_rate():
    graph = qnet.load_network(LIU, ["fibres.alice-station.length_km=25", "fibres.station-bob.length_km=25"])
    res = optimize_link(graph, "alice", "bob", ALPHAS, (0.005, 0.3), KEY)
    assert res.at_bound is None and 0.005 < res.value < 0.3
    assert res.objective >= max(v for _x, v, _f in res.grid)
    for dx in (-1e-4, 1e-4):
        x = res.value + dx
        other = qnet.run_link(
            qnet.compile_link(
                qnet.link_spec(
                    qnet.load_network(
                        LIU,
                        [
                            "fibres.alice-station.length_km=25",
                            "fibres.station-bob.length_km=25",
                            f"nodes.alice.bright_state_population={x!r}",
                            f"nodes.bob.bright_state_population={x!r}",
                        ],
                    ),
                    "alice",
                    "bob",
                )
            )
        )
        assert getattr(other, KEY) <= res.objective


def test_infeasible_constraint_names_the_best_fidelity():
    graph = qnet.network_from_dict(single_click())
    eta = 0.5 * 10 ** (-0.2)
    f_best = (1 - 0.05) / (1 - 0.05 * eta / 2)  # fidelity falls with alpha: best at the lower bound
    with pytest.raises(QnetError) as info:
        optimize_link(graph, "alice", "bob", ALPHAS, (0.05, 0.5), "rate_hz", min_fidelity=0.99)
    msg = str(info.value)
    assert "gives fidelity >= 0.99" in msg and f"{f_best:.6g} (at 0.05)" in msg


@pytest.mark.parametrize(
    "fields, bounds, maximize, needle",
    [
        (ALPHAS, (0.01, 0.5), "speed", "unknown figure; one of fidelity"),
        (
            "nodes.alice.gate_fidelity",
            (0.9, 1.0),
            "rate_hz",
            "'gate_fidelity' is not a numeric field of an elementary link's memory",
        ),
        ("nodes.carol.t2_s", (1, 2), "rate_hz", "no node named 'carol'"),
        ("fibres.x.length_km", (1, 2), "rate_hz", "no fibre named 'x'"),
        ("station_position", (0.2, 1.2), "rate_hz", "within 0:1"),
        ("station_position,nodes.alice.t2_s", (0.2, 0.8), "rate_hz", "varied on its own"),
        (
            ALPHAS,
            (0.0, 0.5),
            "rate_hz",
            "range 0:0.5 of nodes.alice.bright_state_population,nodes.bob.bright_state_population: "
            "nodes.alice.bright_state_population = 0.0 is invalid",
        ),
        (ALPHAS, (0.5, 0.1), "rate_hz", "LO < HI"),
    ],
)
def test_errors_are_clear(fields, bounds, maximize, needle):
    graph = qnet.network_from_dict(single_click())
    with pytest.raises(QnetError) as info:
        optimize_link(graph, "alice", "bob", fields, bounds, maximize)
    assert needle in str(info.value)


def test_node_outside_the_link_is_refused():
    data = single_click()
    data["nodes"]["carol"] = {"kind": "memory", "t2_s": 1.0, "emission_efficiency": 0.5}
    graph = qnet.network_from_dict(data)
    with pytest.raises(QnetError, match="not part of the link alice - mid - bob"):
        optimize_link(graph, "alice", "bob", "nodes.carol.t2_s", (1, 2), "rate_hz")


def test_parse_vary_range():
    assert parse_vary_range("a.b.c,a.b.d=0.1:2") == (("a.b.c", "a.b.d"), (0.1, 2.0))
    with pytest.raises(QnetError, match="LO:HI"):
        parse_vary_range("station_position=0.1:0.5:3")


def test_cli_json_and_one_line_error(capsys):
    argv = [
        "optimize",
        LIU,
        "alice",
        "bob",
        "--vary",
        f"{ALPHAS}=0.005:0.3",
        "--maximize",
        "rate_hz",
        "--min-fidelity",
        "0.9",
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fields"] == ALPHAS.split(",") and out["constraint_active"] is True
    assert out["link"]["fidelity"] == pytest.approx(0.9, abs=1e-9)
    assert out["objective"] == out["link"]["rate_hz"]
    assert main(argv[:-1]) == 0
    text = capsys.readouterr().out
    assert "best value:" in text and "fidelity constraint is active" in text
    assert main(["optimize", LIU, "alice", "bob", "--vary", "station_position=0.1:0.9", "--maximize", "rate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qnet: error: maximize 'rate': unknown figure") and "\n" not in err
    assert math.isfinite(out["value"])
