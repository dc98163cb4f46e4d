"""The network prepared once (qnet.link.prepared): the same specs and results as link_spec / run_link,
each distinct physics simulated once, and the one memories-per-link rule against hand-computed shares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet_testing import SpecCounter
from qnet.errors import ConfigError, NetworkError, QnetError
from qnet.link.circuit import compile_link
from qnet.link.distinct import physics_key
from qnet.link.prepared import PreparedNetwork, prepare_network

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.toml"))
CHAIN = str(ROOT / "examples" / "ion_repeater_chain.toml")  # alice - s1 - r1 - s2 - r2 - s3 - r3 - s4 - bob
METRO = str(ROOT / "examples" / "metro_ion_network.toml")


def same_result(x, y) -> bool:
    return x.to_dict() == y.to_dict() and np.array_equal(x.density_matrix, y.density_matrix)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: Path(p).stem)
def test_specs_and_results_are_link_spec_and_run_link_of_every_link(path):
    g = qnet.load_network(path)
    net = prepare_network(g)
    assert net.links == tuple(qnet.elementary_links(g))
    assert net.links  # every shipped example has a link
    for a, b, s in net.links:
        for x, y in ((a, b), (b, a)):  # both orientations
            spec = qnet.link_spec(g, x, y, s)
            assert net.spec(x, y, s) == spec
            assert same_result(net.result(x, y, s), qnet.run_link(compile_link(spec)))
    # the link graph: memory nodes, one edge per link with its station and total fibre
    assert sorted(net.link_graph.nodes) == sorted(n for n in g if isinstance(g.nodes[n]["hardware"], qnet.MemoryNode))
    for a, b, s in net.links:
        total = g.edges[a, s]["fibre"].length_km + g.edges[s, b]["fibre"].length_km
        assert net.link_graph.edges[a, b, s]["length_km"] == total


def test_batch_results_are_the_batch_engines():
    g = qnet.load_network(METRO)
    net = prepare_network(g, link_backend="batch")
    specs = [qnet.link_spec(g, *h) for h in net.links]
    want = qnet.run_links([compile_link(s) for s in specs], link_backend="batch")
    got = net.link_results()
    assert list(got) == list(net.links)
    assert all(same_result(x, y) for x, y in zip(got.values(), want))


def test_each_distinct_physics_is_simulated_once_per_network(monkeypatch):
    runs = SpecCounter(monkeypatch)
    g = qnet.load_network(METRO)
    net = prepare_network(g, link_backend="batch")
    specs = [net.spec(*h) for h in net.links] + [net.spec(b, a, s) for a, b, s in net.links]
    first = net.results(specs)
    distinct = {physics_key(s) for s in specs}
    assert len(runs.specs) == len(distinct) < len(specs)
    assert [(r.node_a, r.node_b, r.station) for r in first] == [(s.node_a, s.node_b, s.station) for s in specs]
    again = net.results(specs[::-1])
    assert len(runs.specs) == len(distinct)  # nothing simulated again
    assert all(same_result(x, y) for x, y in zip(again, first[::-1]))
    again[0].density_matrix[0, 0] = 7.0  # every result has its own copy
    assert net.results(specs[-1:])[0].density_matrix[0, 0] != 7.0
    net.results(specs[:1], link_backend="aer")  # another backend: its own results
    assert len(runs.specs) == len(distinct) + 1
    net.results(specs[:1], link_backend="aer", shots=100_000)  # shots: sampled afresh
    assert len(runs.specs) == len(distinct) + 2


def test_node_lookups_and_errors():
    g = qnet.load_network(CHAIN)
    net = prepare_network(g)
    assert net.memory("r1") is g.nodes["r1"]["hardware"] and net.hardware("s1") is g.nodes["s1"]["hardware"]
    assert net.is_memory("r1") and not net.is_memory("s1") and not net.is_memory("nobody")
    assert net.fibre_speed_km_per_s == 2.0e5
    with pytest.raises(NetworkError, match="'s1' is a station"):
        net.memory("s1")
    with pytest.raises(NetworkError, match="unknown node 'nobody'"):
        net.hardware("nobody")
    with pytest.raises(QnetError, match="link_backend = 'gpu'"):
        prepare_network(g, link_backend="gpu")
    with pytest.raises(QnetError, match="link_backend = 'gpu'"):
        net.results([net.spec("alice", "r1")], link_backend="gpu")
    with pytest.raises(QnetError, match="not str"):
        prepare_network("examples/ion_repeater_chain.toml")
    assert prepare_network(net) is net and isinstance(net, PreparedNetwork)
    assert qnet.prepare_network is prepare_network and qnet.PreparedNetwork is PreparedNetwork


# ------------------------------------------------------------------ the memories-per-link rule


@pytest.mark.parametrize(
    "memories, split, stations, want",
    [
        # memories unset: one per link in use
        (None, None, ["s_cd", "s_ch", "s_nc"], {"s_cd": 1, "s_ch": 1, "s_nc": 1}),
        # 7 over the three links campus joins: 7 // 3 = 2 each; over a route's two: 3 each; alone: 7
        (7, None, ["s_cd", "s_ch", "s_nc"], {"s_cd": 2, "s_ch": 2, "s_nc": 2}),
        (7, None, ["s_ch", "s_nc"], {"s_ch": 3, "s_nc": 3}),
        (7, None, ["s_nc"], {"s_nc": 7}),
        # memory_split lists s_ch = 4: the other 3 split over the unlisted links in use
        (7, "{s_ch=4}", ["s_cd", "s_ch", "s_nc"], {"s_cd": 1, "s_ch": 4, "s_nc": 1}),
        (7, "{s_ch=4}", ["s_ch", "s_nc"], {"s_ch": 4, "s_nc": 3}),
        (7, "{s_ch=4}", ["s_cd"], {"s_cd": 3}),
        (7, "{s_ch=4}", ["s_ch"], {"s_ch": 4}),
    ],
)
def test_memory_shares_against_hand_computed(memories, split, stations, want):
    overrides = [] if memories is None else [f"nodes.campus.memories={memories}"]
    overrides += [] if split is None else [f"nodes.campus.memory_split={split}"]
    net = prepare_network(qnet.load_network(METRO, overrides))
    assert net.memory_shares("campus", stations) == want
    if len(stations) == 3:  # every link campus joins: what traffic uses
        assert {s: net.network_memories()[("campus", s)] for s in stations} == want


def test_route_memories_and_too_few():
    net = prepare_network(qnet.load_network(CHAIN, ["nodes.r1.memories=5", "nodes.r2.memories=3"]))
    hops = [("alice", "r1", "s1"), ("r1", "r2", "s2"), ("r2", "r3", "s3")]
    assert net.route_memories(hops) == [(1,), (2, 2), (1, 1), (1,)]  # 5 // 2, 3 // 2
    assert net.route_memories(hops[1:2]) == [(5,), (3,)]  # a one-link route: all of them
    starved = prepare_network(qnet.load_network(CHAIN, ["nodes.r1.memories=4", "nodes.r1.memory_split={s1=4}"]))
    with pytest.raises(ConfigError, match=r"nodes\.r1\.memories = 4 .*none is left for s2"):
        starved.route_memories(hops[:2])
    assert starved.memory_shares("r1", ["s1", "s2"], strict=False) == {"s1": 4, "s2": 0}
    assert starved.network_memories()[("r1", "s2")] == 0
