"""Key-rate routing (qnet.repeater.keyroute): the route model against independent calculations,
the exact search against brute force over every simple route, and the command line.

Oracles: closed forms for E[max] of exponential times (H_n / lambda, inclusion-exclusion), qnet's
swap circuit on hand-built Bell-diagonal density matrices, the key-fraction formulas on those
matrices, build_chain's attempts per round, and exhaustive enumeration of simple paths.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qnet
from qnet.cli import main
from qnet.errors import NetworkError
from qnet.network.generate import network_table, read_hardware, waxman
from qnet.network.graph import network_from_dict
from qnet.quantum.figures import bb84_key_fraction, chsh, diqkd_key_fraction, qber
from qnet.repeater.keyroute import (
    KeyRouteModel,
    best_key_route,
    exhaustive_key_route,
    key_fraction,
    link_correlations,
    mean_max_exponential,
    swap_factors,
)
from qnet.repeater.routing import best_path, k_best_paths
from qnet.repeater.swapping import swap

ROOT = Path(__file__).resolve().parents[2]
CHAIN = str(ROOT / "examples" / "ion_repeater_chain.toml")
METRO = str(ROOT / "examples" / "metro_ion_network.toml")
HW = str(ROOT / "examples" / "hardware" / "ion.toml")
PAULI = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])]
#: Correlations (<XX>, <YY>, -<ZZ>) of |Psi+> after a Pauli error I, X, Y, Z on one memory.
ERROR_S = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float)


def bell_diagonal(s) -> np.ndarray:
    """Hand-built 4x4 state (I + s_x XX + s_y YY - s_z ZZ)/4."""
    t = (s[0], s[1], -s[2])
    return (np.eye(4) + sum(t[i] * np.kron(PAULI[i + 1], PAULI[i + 1]) for i in range(3))) / 4


def random_s(rng, noise: float) -> np.ndarray:
    """Correlations of |Psi+> hit by Pauli errors of total probability <= noise."""
    w = rng.dirichlet([1.0, 1.0, 1.0]) * rng.uniform(0.0, noise)
    return ERROR_S.T @ np.concatenate([[1.0 - w.sum()], w])


# --- E[max] of exponential times -------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 40])
def test_mean_max_identical_rates_is_harmonic(n):
    lam = 7.3
    harmonic = sum(1.0 / k for k in range(1, n + 1))
    assert mean_max_exponential([lam] * n) == pytest.approx(harmonic / lam, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1e-2, 1e3), min_size=1, max_size=6))
def test_mean_max_matches_inclusion_exclusion(rates):
    exact = sum(
        (-1) ** (len(sub) + 1) / sum(sub) for r in range(1, len(rates) + 1) for sub in itertools.combinations(rates, r)
    )
    assert mean_max_exponential(rates) == pytest.approx(exact, rel=1e-11)


# --- states: swap composition and key fractions ----------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.8, 1.0), st.floats(0.8, 1.0))
def test_swap_of_bell_diagonal_pairs_multiplies_correlations(seed, f, r):
    rng = np.random.default_rng(seed)
    s1, s2 = random_s(rng, 0.6), random_s(rng, 0.6)
    out = swap(bell_diagonal(s1), bell_diagonal(s2), gate_fidelity=f, readout_fidelity=r)
    np.testing.assert_allclose(link_correlations(out), s1 * swap_factors(f, r) * s2, atol=1e-12)
    np.testing.assert_allclose(out, bell_diagonal(s1 * swap_factors(f, r) * s2), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_key_fractions_equal_the_figures_of_the_state(seed):
    s = random_s(np.random.default_rng(seed), 0.3)
    rho = bell_diagonal(s)
    assert key_fraction(s, "key_rate") == pytest.approx(bb84_key_fraction(rho), abs=1e-12)
    assert key_fraction(s, "diqkd_key_rate") == pytest.approx(diqkd_key_fraction(chsh(rho), qber(rho)), abs=1e-12)


def test_key_fraction_is_monotone_in_each_correlation():
    rng = np.random.default_rng(3)
    for _ in range(300):
        s = np.abs(random_s(rng, 0.2))
        for c in range(3):
            up = s.copy()
            up[c] = min(1.0, up[c] + rng.uniform(0, 0.05))
            for metric in ("key_rate", "diqkd_key_rate"):
                assert key_fraction(up, metric) >= key_fraction(s, metric)


# --- the route model on a real network -------------------------------------------------------


def test_two_link_route_by_hand():
    graph = qnet.load_network(CHAIN)
    model = KeyRouteModel(graph)
    r = model.evaluate(["alice", "r1", "r2"])
    links = [model.links.index(x) for x in (("alice", "r1", "s1"), ("r1", "r2", "s2"))]
    lam = [model.p[i] / model.t_att[i] for i in links]
    mean = 1 / lam[0] + 1 / lam[1] - 1 / (lam[0] + lam[1])
    hw = graph.nodes["r1"]["hardware"]
    s = model.s[links[0]] * swap_factors(hw.gate_fidelity, hw.readout_fidelity) * model.s[links[1]]
    assert r.rate_hz == pytest.approx(1 / mean, rel=1e-12)
    assert r.key_rate_hz == pytest.approx(bb84_key_fraction(bell_diagonal(s)) / mean, rel=1e-12)
    assert r.fidelity == pytest.approx(
        np.real(bell_diagonal(s)[1, 1] + bell_diagonal(s)[2, 2] + 2 * bell_diagonal(s)[1, 2]) / 2, rel=1e-12
    )


def _network(seed: int, n: int, heterogeneous: bool = True, splits: bool = False):
    """A small Waxman network with random node hardware (and memory splits)."""
    rng = np.random.default_rng(seed)
    table = network_table(waxman(n, alpha=1.0, beta=0.9, domain_km=40.0, seed=seed), read_hardware(HW))
    names = [k for k, v in table["nodes"].items() if v["kind"] == "memory"]
    stations = [k for k, v in table["nodes"].items() if v["kind"] == "station"]
    for station in stations[: seed % 3]:  # parallel links: a second station between the same two nodes
        twin = "q" + station[1:]
        table["nodes"][twin] = dict(table["nodes"][station])
        _s, u, v = station.split("-")
        table["fibres"] += [
            {"a": u, "b": twin, "length_km": float(rng.uniform(1, 20))},
            {"a": twin, "b": v, "length_km": float(rng.uniform(1, 20))},
        ]
    stations_of = {k: [] for k in names}
    for name, node in table["nodes"].items():
        if node["kind"] == "station":
            for k in name.split("-")[1:]:
                stations_of[k].append(name)
    for k in names:
        node = table["nodes"][k]
        if heterogeneous:
            node["gate_fidelity"] = float(rng.uniform(0.97, 1.0))
            node["readout_fidelity"] = float(rng.uniform(0.98, 1.0))
        deg = len(stations_of[k])
        if rng.uniform() < 0.5 and deg:
            node["memories"] = int(max(deg, rng.integers(1, 7)))
            if splits and deg >= 2 and rng.uniform() < 0.5:
                node["memory_split"] = {stations_of[k][0]: int(rng.integers(1, node["memories"] - deg + 2))}
    return network_from_dict(table)


def _fake_results(graph, seed: int, noise: float):
    """Random link results: success probability, attempt time, Bell-diagonal state (either orientation)."""
    rng = np.random.default_rng(seed + 1)
    from qnet.link.spec import elementary_links

    out = {}
    for a, b, s in elementary_links(graph):
        p, t_att, corr = float(10 ** rng.uniform(-3, -0.3)), float(rng.uniform(1e-4, 1e-3)), random_s(rng, noise)
        out[(a, b, s)] = SimpleNamespace(
            success_probability=p,
            attempt_time_s=t_att,
            rate_hz=p / t_att,
            fidelity=(1 + corr.sum()) / 4,
            density_matrix=bell_diagonal(corr),
        )
    return out


def test_attempts_per_round_match_the_chain():
    from qnet.repeater.path import build_chain

    for seed in range(6):
        graph = _network(seed, 7, splits=True)
        model = KeyRouteModel(graph, _fake_results(graph, seed, 0.05))
        for edges in itertools.islice(
            __import__("networkx").all_simple_edge_paths(model.lg, model.nodes[0], model.nodes[-1]), 8
        ):
            hops = [tuple(e) for e in edges]
            try:
                r = model.evaluate(hops)
            except qnet.errors.ConfigError:
                continue
            _chain, specs, _res = build_chain(graph, hops, link_backend="batch")
            assert r.attempts_per_round == tuple(sp.attempts_per_round for sp in specs)


# --- the search is exact ---------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 8), st.booleans(), st.sampled_from(["key_rate", "diqkd_key_rate"]))
def test_search_equals_brute_force(seed, n, splits, metric):
    graph = _network(seed, n, splits=splits)
    results = _fake_results(graph, seed, 0.08)
    model = KeyRouteModel(graph, results)
    a, b = model.nodes[0], model.nodes[-1]
    brute = exhaustive_key_route(model, a, b, metric)
    if brute is None:
        with pytest.raises(NetworkError, match="delivers key"):
            model.best(a, b, metric)
        return
    found = model.best(a, b, metric)
    assert found.key_rate_hz == pytest.approx(brute.key_rate_hz, rel=1e-12)
    assert model.evaluate(found.hops, metric).key_rate_hz == found.key_rate_hz  # the reported value is the route's
    for additive in ("fidelity", "rate", "length", "hops"):  # no additive route beats it
        try:
            other = model.evaluate(best_path(graph, a, b, additive, link_results=results), metric)
        except (NetworkError, qnet.errors.ConfigError):
            continue
        assert other.key_rate_hz <= found.key_rate_hz * (1 + 1e-12)


def test_additive_metrics_can_lose_key():
    """Non-isotonic: on some random network the fidelity route is not the key-rate route."""
    losses = []
    for seed in range(40):
        graph = _network(seed, 8)
        results = _fake_results(graph, seed, 0.06)
        model = KeyRouteModel(graph, results)
        a, b = model.nodes[0], model.nodes[-1]
        try:
            best = model.best(a, b)
            fid = model.evaluate(best_path(graph, a, b, "fidelity", link_results=results))
        except (NetworkError, qnet.errors.ConfigError):
            continue
        losses.append(1 - fid.key_rate_hz / best.key_rate_hz)
    assert min(losses) >= -1e-12 and max(losses) > 0.01


# --- errors, routing entry points, command line ----------------------------------------------


def test_errors_name_the_problem():
    graph = qnet.load_network(METRO)
    with pytest.raises(NetworkError, match="no route from 'campus' to 'airport' delivers key"):
        best_key_route(graph, "campus", "airport")
    with pytest.raises(NetworkError, match="metric = 'keyrate' is invalid"):
        best_key_route(graph, "campus", "airport", metric="keyrate")
    with pytest.raises(NetworkError, match="unknown node"):
        best_key_route(graph, "campus", "nowhere")


def test_k_best_paths_delegates_to_the_search():
    graph = qnet.load_network(CHAIN)
    routes = k_best_paths(graph, "alice", "bob", 3, "key_rate")
    assert len(routes) == 1 and [h.station for h in routes[0]] == ["s1", "s2", "s3", "s4"]


def test_cli_path_key_rate(capsys):
    graph = qnet.load_network(CHAIN)
    want = exhaustive_key_route(KeyRouteModel(graph), "alice", "r3", "diqkd_key_rate").nodes
    assert (
        main(
            [
                "path",
                CHAIN,
                "alice",
                "r3",
                "--metric",
                "diqkd_key_rate",
                "--samples",
                "20",
                "--seed",
                "1",
                "--no-progress",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["path"] == want


def test_cli_no_key_is_one_line_exit_2(capsys):
    assert main(["path", METRO, "campus", "airport", "--metric", "key_rate", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("qnet: error: no route from 'campus' to 'airport' delivers key")


def test_cli_unknown_metric_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["path", CHAIN, "alice", "bob", "--metric", "keyrate"])
    assert exc.value.code == 2
    assert "invalid choice: 'keyrate'" in capsys.readouterr().err


def test_traffic_routes_by_key_rate():
    from qnet.repeater.traffic.setup import choose_routes

    graph = qnet.load_network(CHAIN)
    want = best_key_route(graph, "alice", "r2").hops
    reqs = [SimpleNamespace(a="alice", b="r2", c=None)]
    assert tuple(choose_routes(graph, reqs, "key_rate", 2, None)[0]) == want


def test_traffic_requests_each_get_their_exact_route():
    """Several requests on one network (the model is built once and reused): each route is the brute-force best."""
    from qnet.repeater.traffic.setup import choose_routes

    graph = _network(7, 7)
    results = _fake_results(graph, 7, 0.05)
    model = KeyRouteModel(graph, results)
    pairs = [(a, b) for a, b in itertools.combinations(model.nodes, 2) if exhaustive_key_route(model, a, b)][:4]
    assert len(pairs) == 4
    routes = choose_routes(graph, [SimpleNamespace(a=a, b=b, c=None) for a, b in pairs], "key_rate", 1, results)
    for (a, b), hops in zip(pairs, routes):
        assert model.evaluate(hops).key_rate_hz == pytest.approx(
            exhaustive_key_route(model, a, b).key_rate_hz, rel=1e-12
        )


def test_route_model_is_the_exact_chain_without_waiting_noise():
    """No decoherence and no cutoff: the model's state figures are qnet chain --exact's; its rate differs only
    by exponential vs round-grid link times (two equal links: E[max] = 1.5/p vs (3 - 2p)/(p(2 - p)) rounds)."""
    from qnet.repeater.path import simulate_path

    nodes = ["alice", "r1", "r2", "r3", "bob"]
    overrides = [f"nodes.{n}.t2_s=inf" for n in nodes] + [f"nodes.{n}.cutoff_s=inf" for n in nodes[1:-1]]
    graph = qnet.load_network(CHAIN, overrides)
    model = KeyRouteModel(graph)
    chain = simulate_path(graph, ["alice", "r1", "r2"], exact=True)
    for metric, want in (("key_rate", chain.bb84_key_fraction), ("diqkd_key_rate", chain.diqkd_key_fraction)):
        r = model.evaluate(["alice", "r1", "r2"], metric)
        assert r.key_fraction == pytest.approx(want, rel=1e-10)
        assert r.fidelity == pytest.approx(chain.fidelity, rel=1e-10)
    p = model.p[0]
    assert r.rate_hz / chain.rate_hz == pytest.approx((3 - 2 * p) / (1.5 * (2 - p)), rel=1e-6)
