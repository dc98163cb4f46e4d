"""Chains, routing, comparisons and purification: each distinct link once, one run; engine batch equals aer."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet.cli.app import main
from qnet.link import distinct
from qnet.repeater.compare import compare_path
from qnet.repeater.link_purification import purify_link
from qnet.repeater.path import build_chain, simulate_path
from qnet.repeater.routing import all_link_results

ROOT = Path(__file__).resolve().parents[2]
CHAIN = str(ROOT / "examples" / "ion_repeater_chain.toml")
METRO = str(ROOT / "examples" / "metro_ion_network.toml")
TOL = 1e-10
FIGURES = ("fidelity", "success_probability", "rate_hz", "chsh", "qber", "bb84_key_fraction", "diqkd_key_fraction")


def _close(x, y):
    if isinstance(x, dict):
        assert x.keys() == y.keys()
        for k in x:
            _close(x[k], y[k])
    elif isinstance(x, list):
        assert len(x) == len(y)
        for a, b in zip(x, y):
            _close(a, b)
    elif isinstance(x, float) and isinstance(y, float):
        assert y == pytest.approx(x, rel=TOL, abs=1e-14, nan_ok=True)
    else:
        assert x == y


def _counting(monkeypatch):
    calls = []
    real = distinct.final_states

    def final_states(compiled, *args, **kw):
        calls.append(len(compiled))
        return real(compiled, *args, **kw)

    monkeypatch.setattr(distinct, "final_states", final_states)
    return calls


def test_identical_links_are_simulated_once_and_keep_their_names(monkeypatch):
    graph = qnet.load_network(CHAIN)
    base = qnet.link_spec(graph, "alice", "r1")
    specs = [replace(base, node_a=f"n{i}", node_b=f"n{i + 1}", station=f"s{i}") for i in range(8)]
    specs.append(replace(base, visibility=0.9))
    calls = _counting(monkeypatch)
    results = distinct.run_specs(specs)
    assert calls == [2]  # 8 names of one link + another link: one run of two circuits
    reference = qnet.run_links([qnet.compile_link(s) for s in specs])
    for spec, r, ref in zip(specs, results, reference):
        assert (r.node_a, r.node_b, r.station) == (spec.node_a, spec.node_b, spec.station)
        for name in FIGURES:
            assert getattr(r, name) == getattr(ref, name)
        assert np.array_equal(r.density_matrix, ref.density_matrix)
    assert results[0].density_matrix is not results[1].density_matrix


def test_shots_mode_samples_every_link(monkeypatch):
    graph = qnet.load_network(CHAIN)
    spec = qnet.link_spec(graph, "alice", "r1")
    calls = []
    monkeypatch.setattr(distinct, "run_links", lambda compiled, **kw: calls.append((len(compiled), kw["shots"])))
    distinct.run_specs([spec, spec], shots=200, seed=1)
    assert calls == [(2, 200)]


def test_a_chain_runs_its_links_in_one_call(monkeypatch):
    calls = _counting(monkeypatch)
    chain, specs, results = build_chain(qnet.load_network(CHAIN), ["alice", "r1", "r2", "r3", "bob"])
    assert calls == [len({distinct.physics_key(s) for s in specs})] and len(results) == 4


@pytest.mark.slow
@pytest.mark.parametrize(
    "nodes, policy", [(["alice", "r1", "r2", "r3", "bob"], "nested"), (["alice", "r1", "r2"], "asap")]
)
def test_chain_batch_engine_equals_aer(nodes, policy):
    graph = qnet.load_network(CHAIN)
    aer = simulate_path(graph, nodes, exact=True, swap_policy=policy)
    fast = simulate_path(graph, nodes, exact=True, swap_policy=policy, link_backend="batch")
    _close(aer.to_dict(), fast.to_dict())


@pytest.mark.slow
def test_routing_compare_and_purify_batch_engine_equals_aer():
    graph = qnet.load_network(METRO)
    aer, fast = all_link_results(graph), all_link_results(graph, link_backend="batch")
    assert aer.keys() == fast.keys()
    for k in aer:
        for name in FIGURES:
            assert getattr(fast[k], name) == pytest.approx(getattr(aer[k], name), rel=TOL, abs=1e-14)
    chain = qnet.load_network(CHAIN)
    _close(
        compare_path(chain, ["alice", "r1", "r2"], [20.0, 40.0]).to_dict(),
        compare_path(chain, ["alice", "r1", "r2"], [20.0, 40.0], link_backend="batch").to_dict(),
    )
    two = qnet.load_network(
        str(ROOT / "examples" / "liu2026_ion_link.toml"), ["nodes.alice.memories=2", "nodes.bob.memories=2"]
    )
    _close(purify_link(two, "alice", "bob").to_dict(), purify_link(two, "alice", "bob", link_backend="batch").to_dict())


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["chain", CHAIN, "alice", "bob", "--via", "r1,r2,r3", "--exact", "--swap-policy", "nested"],
        ["path", METRO, "campus", "airport", "--samples", "50", "--seed", "1", "--no-progress"],
        ["compare", CHAIN, "alice", "r2", "--via", "r1", "--distances", "20,40", "--exact"],
        [
            "purify",
            str(ROOT / "examples" / "liu2026_ion_link.toml"),
            "alice",
            "bob",
            "--set",
            "nodes.alice.memories=2",
            "--set",
            "nodes.bob.memories=2",
        ],
    ],
)
def test_cli_engine_option(capsys, argv):
    assert main([*argv, "--json"]) == 0
    aer = json.loads(capsys.readouterr().out)
    assert main([*argv, "--json", "--link-backend", "batch"]) == 0
    _close(aer, json.loads(capsys.readouterr().out))


def test_cli_refuses_an_unknown_engine(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["chain", CHAIN, "alice", "bob", "--link-backend", "gpu"])
    assert exc.value.code == 2
    assert "--link-backend" in capsys.readouterr().err


def test_compare_runs_every_distance_in_one_run(monkeypatch):
    """The direct links in one run and every distance's chain links in another (not one run per distance)."""
    from qnet.repeater.compare import compare_path

    graph = qnet.load_network(CHAIN)
    calls = _counting(monkeypatch)
    c = compare_path(graph, ["alice", "r1", "r2"], [20.0, 40.0, 80.0, 160.0], samples=20, seed=1)
    assert len(c.rows) == 4 and len(calls) == 2
