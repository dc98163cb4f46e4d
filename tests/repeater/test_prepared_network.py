"""simulate_path, compare_path, purify_link and simulate_traffic on a PreparedNetwork: the same results as
on the graph, and a program that runs several of them on one prepared network simulates each distinct
link once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet_testing import SpecCounter
from qnet.link.distinct import physics_key

ROOT = Path(__file__).resolve().parents[2]
CHAIN = str(ROOT / "examples" / "ion_repeater_chain.toml")
METRO = str(ROOT / "examples" / "metro_ion_network.toml")
LIU = str(ROOT / "examples" / "liu2026_ion_link.toml")


def same_chain(x, y) -> bool:
    return x.to_dict() == y.to_dict() and np.array_equal(x.density_matrix, y.density_matrix)


def same_traffic(x, y) -> bool:
    for rx, ry in zip(x.requests, y.requests, strict=True):
        for name in ("fidelity", "delivery_time_s", "latency_s"):
            if not np.array_equal(getattr(rx, name), getattr(ry, name)):
                return False
        if rx.paths != ry.paths:
            return False
    return x.nodes == y.nodes and x.links == y.links and x.simulated_time_s == y.simulated_time_s


@pytest.mark.parametrize("backend", ["aer", "batch"])
def test_simulate_path_on_a_prepared_network_equals_on_the_graph(backend):
    g = qnet.load_network(CHAIN, ["nodes.r1.memories=3", "nodes.r2.memories=4"])
    net = qnet.prepare_network(g, link_backend=backend)
    route = ["alice", "r1", "r2"]
    assert same_chain(
        qnet.simulate_path(net, route, exact=True), qnet.simulate_path(g, route, exact=True, link_backend=backend)
    )
    mc = dict(samples=50, seed=4, swap_policy="nested")
    route = ["alice", "r1", "r2", "r3", "bob"]
    assert same_chain(qnet.simulate_path(net, route, **mc), qnet.simulate_path(g, route, link_backend=backend, **mc))


def test_compare_path_on_a_prepared_network_equals_on_the_graph():
    g = qnet.load_network(CHAIN)
    net = qnet.prepare_network(g)
    a = qnet.compare_path(net, ["alice", "r1", "r2"], [20.0, 60.0])
    b = qnet.compare_path(g, ["alice", "r1", "r2"], [20.0, 60.0])
    assert a.to_dict() == b.to_dict()
    for ra, rb in zip(a.rows, b.rows):
        assert np.array_equal(ra.direct.density_matrix, rb.direct.density_matrix)
        assert same_chain(ra.chain, rb.chain)


def test_purify_link_on_a_prepared_network_equals_on_the_graph():
    g = qnet.load_network(LIU, ["nodes.alice.memories=2", "nodes.bob.memories=2"])
    net = qnet.prepare_network(g)
    for protocol in ("dejmps", "bbpssw"):
        a, b = (
            qnet.purify_link(net, "alice", "bob", protocol=protocol),
            qnet.purify_link(g, "alice", "bob", protocol=protocol),
        )
        assert a.to_dict() == b.to_dict()
        assert np.array_equal(a.density_matrix, b.density_matrix) and np.array_equal(a.waiting_pmf, b.waiting_pmf)
        assert a.raw.to_dict() == b.raw.to_dict()


@pytest.mark.parametrize("metric", ["hops", "fidelity"])
def test_simulate_traffic_on_a_prepared_network_equals_on_the_graph(metric):
    g = qnet.load_network(METRO)
    reqs = [qnet.Request("campus", "airport"), qnet.Request("north", "downtown")]
    kw = dict(duration_s=5.0, seed=3, metric=metric, k_paths=2, link_backend="batch", loop="python")
    net = qnet.prepare_network(g)
    assert same_traffic(qnet.simulate_traffic(net, reqs, **kw), qnet.simulate_traffic(g, reqs, **kw))
    purified = dict(kw, purify="dejmps")
    g2 = qnet.load_network(CHAIN, [f"nodes.{n}.memories=4" for n in ("alice", "r1", "r2")])
    reqs2 = [qnet.Request("alice", "r2")]
    a = qnet.simulate_traffic(qnet.prepare_network(g2), reqs2, **purified)
    assert same_traffic(a, qnet.simulate_traffic(g2, reqs2, **purified))


def test_two_studies_on_one_prepared_network_simulate_each_distinct_link_once(monkeypatch):
    runs = SpecCounter(monkeypatch)
    g = qnet.load_network(METRO)
    net = qnet.prepare_network(g, link_backend="batch")
    route = ["campus", "harbour", "airport"]
    chain = qnet.simulate_path(net, route, samples=20, seed=1)
    after_path = len(runs.specs)
    run = qnet.simulate_traffic(
        net,
        [qnet.Request("campus", "airport"), qnet.Request("airport", "campus")],
        duration_s=2.0,
        seed=1,
        metric="fidelity",
        loop="python",
    )
    qnet.simulate_path(net, route, samples=20, seed=2)  # again: nothing new
    # what the two studies needed: the path's links (at the route's k) and every link of the
    # network (the fidelity metric) plus the traffic routes' links in their own orientation
    needed = [net.spec(*h) for h in zip(route, route[1:])]
    needed += [net.spec(*h) for h in net.links]
    needed += [net.spec(*h) for r in run.requests for h in _hops(net, r.paths[0])]
    keys = {physics_key(s) for s in needed}
    assert len(runs.specs) == len({physics_key(s) for s in runs.specs})  # none simulated twice
    assert {physics_key(s) for s in runs.specs} == keys
    assert after_path == len({physics_key(s) for s in needed[:2]}) and len(chain.links) == 2
    # the same program on the bare graph simulates the shared links again (the counter counts)
    before = len(runs.specs)
    qnet.simulate_path(g, route, samples=20, seed=1, link_backend="batch")
    qnet.simulate_path(g, route, samples=20, seed=1, link_backend="batch")
    assert len(runs.specs) == before + 2 * after_path


def _hops(net, nodes):
    return [(a, b, next(iter(net.link_graph[a][b]))) for a, b in zip(nodes, nodes[1:])]


def test_a_prepared_networks_backend_is_the_default():
    g = qnet.load_network(CHAIN)
    net = qnet.prepare_network(g, link_backend="batch")
    links = qnet.simulate_path(net, ["alice", "r1"], exact=True).links
    batch = qnet.run_links([qnet.compile_link(qnet.link_spec(g, "alice", "r1"))], link_backend="batch")
    assert links[0].to_dict() == batch[0].to_dict()
    assert qnet.simulate_path(net, ["alice", "r1"], exact=True, link_backend="aer").links[0].to_dict() == (
        qnet.run_link(qnet.compile_link(qnet.link_spec(g, "alice", "r1"))).to_dict()
    )
