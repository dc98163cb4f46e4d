"""qnet's public Python API and the meaning of its shared words.

* every name in ``qnet.__all__`` resolves (the lazy map points at real objects);
* a chain from Python by node names equals the same chain by hops;
* ``memories`` has one rule (qnet.link.multiplexing): a link makes k = min(memories per link at its
  two ends) attempts per round, end nodes included; ``success_probability`` stays per attempt
  and ``rate_hz`` = (1 - (1 - p)^k) / T_att, checked against that formula written out here;
* the same figure has the same name in link, chain and compare outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHAIN = str(ROOT / "examples" / "ion_repeater_chain.toml")
ION_LINK = str(ROOT / "examples" / "liu2026_ion_link.toml")


def test_every_public_name_resolves():
    assert len(qnet.__all__) == len(set(qnet.__all__))
    for name in qnet.__all__:
        assert getattr(qnet, name) is not None, name
    for name in (
        "simulate_path",
        "build_chain",
        "compare_path",
        "purify",
        "purify_link",
        "run_sweep",
        "best_path",
        "RepeaterChain",
        "exact_chain",
        "simulate_chain",
    ):
        assert name in qnet.__all__
    with pytest.raises(AttributeError):
        qnet.no_such_name  # noqa: B018


def test_simulate_path_by_node_names_equals_by_hops():
    graph = qnet.load_network(CHAIN)
    names = ["alice", "r1", "r2", "r3", "bob"]
    hops = qnet.explicit_path(graph, names)
    assert [h[:2] for h in hops] == list(zip(names, names[1:]))
    by_names = qnet.simulate_path(graph, names, samples=50, seed=3)
    by_hops = qnet.simulate_path(graph, hops, samples=50, seed=3)
    assert by_names.path == by_hops.path == tuple(names)
    assert by_names.stations == by_hops.stations == tuple(s for _a, _b, s in hops)
    assert by_names.fidelity == by_hops.fidelity and by_names.rate_hz == by_hops.rate_hz
    assert np.array_equal(by_names.density_matrix, by_hops.density_matrix)


@pytest.mark.parametrize(
    "path, needle",
    [
        ("alice", "single name"),
        ([], "at least one elementary link"),
        (["alice", ("r1", "r2", "m2")], "not a mix"),
        (["alice", "nobody"], "unknown node 'nobody'"),
    ],
)
def test_bad_paths_are_one_line_errors(path, needle):
    graph = qnet.load_network(CHAIN)
    with pytest.raises(qnet.QnetError, match=needle):
        qnet.simulate_path(graph, path, samples=10)


# --------------------------------------------------------------------------- memories


def two_node_net(mem_a=None, mem_b=None, length_km=10.0):
    nodes = {
        "alice": {"kind": "memory", "t2_s": 0.5, "emission_efficiency": 0.3, "prep_time_s": 20e-6},
        "bob": {"kind": "memory", "t2_s": 0.5, "emission_efficiency": 0.3, "prep_time_s": 20e-6},
        "mid": {"kind": "station", "scheme": "two_photon", "visibility": 0.95},
    }
    for name, m in (("alice", mem_a), ("bob", mem_b)):
        if m is not None:
            nodes[name]["memories"] = m
    fibres = [{"a": "alice", "b": "mid", "length_km": length_km}, {"a": "mid", "b": "bob", "length_km": length_km}]
    return qnet.network_from_dict({"network": {"name": "t"}, "nodes": nodes, "fibres": fibres})


@pytest.mark.parametrize("mem_a, mem_b, k", [(None, None, 1), (3, None, 1), (3, 2, 2), (4, 5, 4)])
def test_a_single_link_multiplexes_over_the_smaller_end(mem_a, mem_b, k):
    one = qnet.simulate_link(two_node_net(), "alice", "bob")
    res = qnet.simulate_link(two_node_net(mem_a, mem_b), "alice", "bob")
    p, T = one.success_probability, one.attempt_time_s
    assert 0 < p < 0.05  # far from 1: the k-fold gain is visible
    assert res.success_probability == pytest.approx(p, rel=1e-12)  # per attempt, unchanged
    assert res.fidelity == pytest.approx(one.fidelity, rel=1e-12)
    assert res.attempts_per_round == k
    want = (1.0 - (1.0 - p) ** k) / T  # at least one of k independent attempts heralds
    assert res.rate_hz == pytest.approx(want, rel=1e-12)
    assert res.link_efficiency == pytest.approx(want * res.pair_coherence_time_s, rel=1e-12)
    assert res.bb84_key_rate_hz == pytest.approx(res.bb84_key_fraction * want, rel=1e-12)
    assert res.diqkd_key_rate_hz == pytest.approx(res.diqkd_key_fraction * want, rel=1e-12)


def test_one_link_chain_rate_follows_the_same_rule():
    """A one-link chain with 3 and 2 memories at its ends delivers (1 - (1-p)^2)/T pairs per second."""
    graph = two_node_net(3, 2)
    link = qnet.simulate_link(graph, "alice", "bob")
    chain = qnet.simulate_path(graph, ["alice", "bob"], exact=True)
    p = link.success_probability
    assert chain.links[0].attempts_per_round == 2
    assert chain.rate_hz == pytest.approx((1 - (1 - p) ** 2) / link.attempt_time_s, rel=1e-9)
    assert chain.rate_hz == pytest.approx(link.rate_hz, rel=1e-9)


def test_end_node_memories_change_the_chain_attempts():
    """Repeaters with 4 memories (2 per link): end nodes with 1 memory limit their links to 1
    attempt, with 2 memories to 2; the inner links make 2 either way."""
    names = ["alice", "r1", "r2", "r3", "bob"]
    reps = [f"nodes.{r}.memories=4" for r in ("r1", "r2", "r3")]
    one = qnet.build_chain(qnet.load_network(CHAIN, reps), names)[0]
    two = qnet.build_chain(qnet.load_network(CHAIN, reps + ["nodes.alice.memories=2", "nodes.bob.memories=2"]), names)[
        0
    ]
    assert [one.attempts_per_round(i) for i in range(4)] == [1, 2, 2, 1]
    assert [two.attempts_per_round(i) for i in range(4)] == [2, 2, 2, 2]
    p = one.links[0].success_probability
    assert one.success_per_round(0) == pytest.approx(p, rel=1e-12)
    assert two.success_per_round(0) == pytest.approx(1 - (1 - p) ** 2, rel=1e-12)
    # and the chain's link results report the attempts the chain uses
    _chain, _specs, results = qnet.build_chain(qnet.load_network(CHAIN, reps), names)
    assert [r.attempts_per_round for r in results] == [1, 2, 2, 1]
    assert results[1].rate_hz == pytest.approx(
        (1 - (1 - results[1].success_probability) ** 2) / results[1].attempt_time_s, rel=1e-12
    )


def test_a_repeater_with_one_memory_is_refused():
    graph = qnet.load_network(CHAIN, ["nodes.r1.memories=1"])
    with pytest.raises(qnet.ConfigError, match="nodes.r1.memories = 1.*at least 2"):
        qnet.simulate_path(graph, ["alice", "r1", "r2", "r3", "bob"], samples=10)


def test_multiplexing_helpers():
    from qnet.link.multiplexing import rate_hz, success_per_round

    assert success_per_round(0.3, 1) == 0.3
    assert success_per_round(1.0, 5) == 1.0
    assert success_per_round(1e-20, 3) == pytest.approx(3e-20, rel=1e-12)  # no cancellation for tiny p
    ks = np.array([1, 2, 3])
    assert np.allclose(rate_hz(0.5, ks, 2.0), [0.25, 0.375, 0.4375], rtol=1e-15, atol=0)


# --------------------------------------------------------------------------- names


def test_link_json_names_the_link_and_both_keys(capsys):
    assert main(["link", ION_LINK, "alice", "bob", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == list(qnet.LINK_FIELDS) + list(qnet.LINK_LABELS)
    assert "key_rate_hz" not in out and not hasattr(qnet.LinkResult, "key_rate_hz")
    assert (out["node_a"], out["node_b"], out["method"]) == ("alice", "bob", "exact") and out["station"]
    assert out["attempts_per_round"] == 1 and isinstance(out["attempts_per_round"], int)
    assert out["bb84_key_rate_hz"] == pytest.approx(out["bb84_key_fraction"] * out["rate_hz"], rel=1e-12)
    assert out["diqkd_key_rate_hz"] == pytest.approx(out["diqkd_key_fraction"] * out["rate_hz"], rel=1e-12)


def test_chain_and_compare_use_the_link_names():
    graph = qnet.load_network(CHAIN)
    names = ["alice", "r1", "r2", "r3", "bob"]
    chain = qnet.simulate_path(graph, names, samples=20, seed=1).to_dict()
    row = qnet.compare_path(graph, names, [100.0], samples=20, seed=1).to_dict()["rows"][0]
    for name in ("diqkd_key_fraction", "diqkd_key_rate_hz", "bb84_key_fraction", "bb84_key_rate_hz"):
        assert name in chain
    for name in ("diqkd_key_rate_hz", "bb84_key_rate_hz", "rate_hz", "fidelity"):
        assert f"direct_{name}" in row and f"chain_{name}" in row
    assert row["direct_attempts_per_round"] == 1
