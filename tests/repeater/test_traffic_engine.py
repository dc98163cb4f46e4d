"""The traffic engine against chains, closed forms and its own invariants (docs/conventions.md, "Traffic")."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qnet
from qnet.errors import ConfigError, NetworkError
from qnet.link.distinct import run_specs
from qnet.link.spec import link_spec
from qnet.network.generate import Hardware, line, network_table, ring, star
from qnet.network.graph import network_from_dict
from qnet.repeater.path import simulate_path
from qnet.repeater.traffic import Request, simulate_traffic

MEMORY = {
    "t2_s": 0.5,
    "emission_efficiency": 0.4,
    "conversion_efficiency": 0.5,
    "prep_time_s": 380e-6,
    "bright_state_population": 0.05,
    "gate_fidelity": 0.99,
}
STATION = {"scheme": "single_click", "detector_efficiency": 0.8}


def network(topology, node_memories: dict | None = None, **memory):
    table = network_table(topology, Hardware(memory={**MEMORY, **memory}, station=STATION))
    for name, m in (node_memories or {}).items():
        table["nodes"][name]["memories"] = m
    return network_from_dict(table)


def link_p_t(graph, a, b):
    r = run_specs([link_spec(graph, a, b, f"s-{a}-{b}")])[0]
    return r.success_probability, r.attempt_time_s


# ---------------------------------------------------------------- one request is a chain


@pytest.mark.parametrize("policy", ["shared", "reserve"])
@pytest.mark.parametrize("extra", [{}, {"cutoff_s": 0.02, "swap_time_s": 1e-3, "memories": 2}])
def test_one_request_on_a_path_is_the_chain(policy, extra):
    """Same seed, same draws: the first deliveries equal `qnet chain`'s samples (times to 1e-12 s)."""
    graph = network(line(4, 10.0), **extra)
    chain = simulate_path(graph, ["n0", "n1", "n2", "n3"], samples=100, seed=11)
    run = simulate_traffic(
        graph, [Request("n0", "n3")], duration_s=1.5 * 100 / chain.rate_hz, seed=11, memory_policy=policy
    )
    rec = run.requests[0]
    assert len(rec.latency_s) >= 100
    np.testing.assert_allclose(rec.latency_s[:100], chain.completion_time_samples_s, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rec.fidelity[:100], chain.fidelity_samples, rtol=0, atol=1e-12)
    # deliveries are back to back: each starts when the previous one ends
    np.testing.assert_allclose(np.diff(rec.delivery_time_s[:100]), rec.latency_s[1:100], atol=1e-9)


def test_example_chain_file_one_request_matches_chain():
    graph = qnet.load_network("examples/ion_repeater_chain.toml")
    chain = simulate_path(graph, ["alice", "r1", "r2", "r3", "bob"], samples=50, seed=3)
    run = simulate_traffic(graph, [Request("alice", "bob")], duration_s=1.5 * 50 / chain.rate_hz, seed=3)
    np.testing.assert_allclose(run.requests[0].fidelity[:50], chain.fidelity_samples, atol=1e-12)


# ---------------------------------------------------------------- independence and contention


def _rate_and_se(rec, duration_s):
    """Rate and a renewal-process standard error (deliveries back to back: var N ~ N cv^2)."""
    n = len(rec.latency_s)
    lat = rec.latency_s
    cv2 = float(np.var(lat) / np.mean(lat) ** 2)
    return n / duration_s, math.sqrt(max(n, 1) * cv2) / duration_s


def test_disjoint_requests_are_independent():
    graph = network(ring(6, 10.0))
    reqs = [Request("n0", "n2"), Request("n3", "n5")]
    together = simulate_traffic(graph, reqs, duration_s=60.0, seed=1)
    for k, req in enumerate(reqs):
        alone = simulate_traffic(graph, [req], duration_s=60.0, seed=2).requests[0]
        both = together.requests[k]
        assert both.paths == alone.paths and set(both.paths[0]).isdisjoint(together.requests[1 - k].paths[0])
        r1, se1 = _rate_and_se(both, 60.0)
        r2, se2 = _rate_and_se(alone, 60.0)
        assert abs(r1 - r2) < 4 * math.hypot(se1, se2)
        f1, f2 = both.fidelity, alone.fidelity
        assert abs(f1.mean() - f2.mean()) < 4 * math.hypot(f1.std() / math.sqrt(f1.size), f2.std() / math.sqrt(f2.size))


def _two_link_rate_hz(p: float, t: float) -> float:
    """A 2-link chain, one memory per link, instant swaps, no cutoff: 1 / (T E[max(G1, G2)]), G ~ Geom(p)."""
    return 1.0 / (t * (2.0 / p - 1.0 / (1.0 - (1.0 - p) ** 2)))


@pytest.mark.parametrize(
    "policy,repeater_memories,each",
    [
        ("reserve", 2, 0.5),  # one memory per link at the repeater: the requests take turns
        ("reserve", 4, 1.0),  # two per link: each reserves one, two independent chains
        ("shared", 2, 0.5),  # one pair per link at a time, served first come first served
    ],
)
def test_two_requests_contending_for_one_repeater(policy, repeater_memories, each):
    """Worked example of docs/conventions.md ("Traffic"): a - r - b, two a-b requests, r with 2 vs 4 memories."""
    graph = network(line(3, 10.0), node_memories={"n0": 2, "n1": repeater_memories, "n2": 2}, t2_s=math.inf)
    p, t = link_p_t(graph, "n0", "n1")
    expected = each * _two_link_rate_hz(p, t)
    duration = 3000 / expected
    run = simulate_traffic(
        graph, [Request("n0", "n2"), Request("n0", "n2")], duration_s=duration, seed=4, memory_policy=policy
    )
    for rec in run.requests:
        n = len(rec.delivery_time_s)
        # deliveries of one request: a renewal-reward count; sd(N) <= sqrt(N) (inter-delivery cv <= 1 here)
        assert abs(n / duration - expected) < 4 * math.sqrt(n) / duration
    if each == 0.5:  # taking turns: never two pairs in the repeater's memories per link
        node = {nr.name: nr for nr in run.nodes}["n1"]
        assert node.peak_occupied <= 2


def test_more_memories_raise_total_rate_shared():
    """Shared, 4 memories at the repeater: a link can hold a pair for each request, so more get through."""
    base = {"n0": 2, "n2": 2}
    rates, counts = [], []
    for m in (2, 4):
        graph = network(line(3, 10.0), node_memories={**base, "n1": m})
        run = simulate_traffic(graph, [Request("n0", "n2"), Request("n0", "n2")], duration_s=60.0, seed=5)
        counts.append(sum(len(r.delivery_time_s) for r in run.requests))
        rates.append(counts[-1] / 60.0)
    assert rates[1] > rates[0] + 4 * math.sqrt(sum(counts)) / 60.0


# ---------------------------------------------------------------- demand, windows, bad input


def test_demand_and_window():
    graph = network(line(2, 5.0))
    req = Request("n0", "n1", rate_hz=2.0, start_s=1.0, stop_s=6.0)
    rec = simulate_traffic(graph, [req], duration_s=10.0, seed=1).requests[0]
    assert rec.demanded == 10  # arrivals at 1.0, 1.5, ..., 5.5
    assert len(rec.delivery_time_s) <= 10
    assert rec.delivery_time_s.min() >= 1.0 and rec.delivery_time_s.max() < 6.0
    assert rec.active_s == pytest.approx(5.0)
    # served in order: latency counts from each demand's arrival
    k = np.arange(len(rec.delivery_time_s))
    np.testing.assert_allclose(rec.delivery_time_s - rec.latency_s, 1.0 + k / 2.0, atol=1e-12)


def test_bad_input_names_the_field():
    graph = network(line(3, 5.0))
    with pytest.raises(ConfigError, match=r"requests\[0\]\.b = 'zz'"):
        simulate_traffic(graph, [Request("n0", "zz")], duration_s=1.0)
    with pytest.raises(ConfigError, match=r"requests\[0\]\.b = 's-n0-n1'.*station"):
        simulate_traffic(graph, [Request("n0", "s-n0-n1")], duration_s=1.0)
    with pytest.raises(ConfigError, match="duration_s = 0"):
        simulate_traffic(graph, [Request("n0", "n2")], duration_s=0)
    with pytest.raises(ConfigError, match="policy"):
        simulate_traffic(graph, [Request("n0", "n2")], duration_s=1.0, memory_policy="greedy")
    with pytest.raises(ConfigError, match="rate_hz = -1"):
        Request("n0", "n2", rate_hz=-1)
    starved = network(line(3, 5.0), node_memories={"n1": 1})
    with pytest.raises(ConfigError, match=r"nodes\.n1\.memories = 1"):
        simulate_traffic(starved, [Request("n0", "n2")], duration_s=1.0)
    table = network_table(line(2, 5.0), Hardware(memory=MEMORY, station=STATION))
    table["nodes"]["lonely"] = dict(table["nodes"]["n0"])
    with pytest.raises(NetworkError, match=r"requests\[0\].*no path"):
        simulate_traffic(network_from_dict(table), [Request("n0", "lonely")], duration_s=1.0)


# ---------------------------------------------------------------- invariants of every trace


def _check_trace(run, cutoff_s):
    tr = run.trace
    n = len(tr["time_s"])
    created, ended, ends, parents, station = {}, {}, {}, {}, {}
    for i in range(n):
        ev, pid, t = tr["event"][i], int(tr["pair"][i]), float(tr["time_s"][i])
        pa = [int(tr[c][i]) for c in ("parent_a", "parent_b", "parent_c") if int(tr[c][i]) >= 0]
        if ev in ("herald", "swap"):
            assert pid not in created
            created[pid] = t
            ends[pid] = ((tr["node_a"][i], int(tr["memory_a"][i])), (tr["node_b"][i], int(tr["memory_b"][i])))
            parents[pid] = pa
            station[pid] = tr["link"][i]
            for q in pa:  # a swap consumes its parents, each within its cutoff
                assert q not in ended
                ended[q] = t
                assert t - created[q] <= cutoff_s * (1 + 1e-9) + 1e-12
        elif pid >= 0:
            assert pid in created and pid not in ended
            ended[pid] = t
        if ev == "fusion":  # a fused GHZ leg: held until the fusion, within its cutoff
            assert t - created[pid] <= cutoff_s * (1 + 1e-9) + 1e-12
    # no memory is held by two pairs at once (a child takes over its parents' outer memories at the swap)
    holds: dict = {}
    for pid, (ea, eb) in ends.items():
        for mem in (ea, eb):
            holds.setdefault(mem, []).append((created[pid], ended.get(pid, math.inf), pid))
    for mem, spans in holds.items():
        spans.sort()
        for (_s0, e0, p0), (s1, _e1, p1) in zip(spans, spans[1:]):
            assert s1 >= e0 - 1e-12, f"memory {mem} held by pairs {p0} and {p1}"
    # every delivered pair traces back to heralds of exactly its route's links
    for k, rec in enumerate(run.requests):
        rows = [i for i in range(n) if tr["event"][i] == "delivery" and int(tr["request"][i]) == k]
        assert len(rows) == len(rec.delivery_time_s)
        legs = rec.paths if rec.request.c is not None else [rec.paths[0]]
        route_links = {
            f"s-{a}-{b}" if f"s-{a}-{b}" in station.values() else f"s-{b}-{a}" for p in legs for a, b in zip(p, p[1:])
        }
        for i in rows:
            pid = int(tr["pair"][i])
            stack = [pid] if pid >= 0 else [int(tr[c][i]) for c in ("parent_a", "parent_b", "parent_c")]
            leaves = []
            while stack:
                q = stack.pop()
                if parents[q]:
                    stack.extend(parents[q])
                else:
                    leaves.append(station[q])
            assert sorted(leaves) == sorted(route_links)
        np.testing.assert_allclose(tr["fidelity"][rows], rec.fidelity)


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    users=st.integers(3, 5),
    groups=st.lists(st.lists(st.integers(0, 4), min_size=2, max_size=3, unique=True), min_size=1, max_size=4),
    cutoff=st.sampled_from([0.005, 0.05]),
    policy=st.sampled_from(["shared", "reserve"]),
    seed=st.integers(0, 2**16),
)
def test_trace_invariants_at_a_switch(users, groups, cutoff, policy, seed):
    """Bell pairs and GHZ states at a hub: the same invariants, fusions within their cutoff."""
    graph = network(star(users, 8.0), memories=1, cutoff_s=cutoff, node_memories={"hub": 2 * users})
    reqs = [Request(*[f"u{i % users}" for i in g]) for g in groups if len({i % users for i in g}) == len(g)]
    if not reqs:
        return
    run = simulate_traffic(graph, reqs, duration_s=0.5, seed=seed, trace=True, memory_policy=policy)
    _check_trace(run, cutoff)


#: Random traffic on rings: ring size, request end pairs (mod size), memories per node, cutoff, policy, seed.
RING_TRAFFIC = dict(
    nodes=st.integers(4, 6),
    pairs=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=4),
    memories=st.integers(2, 4),
    cutoff=st.sampled_from([0.005, 0.02, 0.2]),
    policy=st.sampled_from(["shared", "reserve"]),
    seed=st.integers(0, 2**16),
)


def ring_case(nodes: int, pairs, memories: int, cutoff: float):
    """A RING_TRAFFIC example: the ring network and its requests (pairs of equal ends dropped)."""
    graph = network(ring(nodes, 8.0), memories=memories, cutoff_s=cutoff)
    return graph, [Request(f"n{a % nodes}", f"n{b % nodes}") for a, b in pairs if a % nodes != b % nodes]


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(**RING_TRAFFIC)
def test_trace_invariants(nodes, pairs, memories, cutoff, policy, seed):
    graph, reqs = ring_case(nodes, pairs, memories, cutoff)
    if not reqs:
        return
    run = simulate_traffic(graph, reqs, duration_s=0.5, seed=seed, memory_policy=policy, trace=True)
    _check_trace(run, cutoff)
    for node in run.nodes:
        assert 0 <= node.mean_occupied <= node.memories and node.peak_occupied <= node.memories
    for link in run.links:
        assert 0.0 <= link.utilisation <= 1.0
    for rec in run.requests:
        assert ((rec.fidelity >= 0) & (rec.fidelity <= 1 + 1e-12)).all()


def test_reserve_never_starves_a_long_request():
    """A long request crossing four busy one-hop requests still gets its turn (no backfilling past it)."""
    graph = network(line(5, 10.0), memories=2)
    reqs = [Request("n0", "n4")] + [Request(f"n{i}", f"n{i + 1}") for i in range(4)]
    run = simulate_traffic(graph, reqs, duration_s=30.0, seed=2, memory_policy="reserve")
    counts = [len(r.delivery_time_s) for r in run.requests]
    assert min(counts) > 0, counts


def test_a_request_that_delivered_nothing_is_pointed_out():
    """Under shared, pairs held for one request can block another's links for good without cutoffs: the report says so."""
    from qnet.repeater.traffic import TrafficResult, format_traffic

    graph = network(line(3, 10.0))
    for policy, said in (("shared", True), ("reserve", False)):
        res = TrafficResult.from_run(
            simulate_traffic(graph, [Request("n0", "n2")], duration_s=1e-3, seed=1, memory_policy=policy)
        )
        assert res.requests[0].delivered == 0
        assert ("delivered nothing" in format_traffic(res)) is said


def test_occupancy_over_time_follows_the_windows_and_averages_to_the_mean():
    """Slices of equal length: their mean is the run's mean occupancy; a node idle outside a window reads 0 there."""
    graph = network(line(3, 10.0))
    reqs = [Request("n0", "n1", start_s=2.0, stop_s=4.0), Request("n1", "n2")]
    run = simulate_traffic(graph, reqs, duration_s=8.0, seed=1, occupancy_bins=4)
    assert run.occupancy_bin_s == 2.0
    for node in run.nodes:
        assert len(node.occupied_over_time) == 4
        assert np.mean(node.occupied_over_time) == pytest.approx(node.mean_occupied, rel=1e-12, abs=1e-15)
        assert all(0.0 <= x <= node.memories for x in node.occupied_over_time)
    n0 = {n.name: n for n in run.nodes}["n0"]
    assert n0.occupied_over_time[0] == 0.0 and n0.occupied_over_time[2:] == (0.0, 0.0)
    assert n0.occupied_over_time[1] > 0.5  # its one memory works for the request while it is active


PURIFY_MEMORIES = [
    "nodes.alice.memories=2",
    "nodes.r1.memories=4",
    "nodes.r2.memories=4",
    "nodes.r3.memories=4",
    "nodes.bob.memories=2",
]


@pytest.mark.parametrize("policy", ["shared", "reserve"])
def test_one_purified_request_is_the_purified_chain(policy):
    """Every link purified once (DEJMPS): the same draws and states as `qnet chain --purify dejmps`."""
    graph = qnet.load_network("examples/ion_repeater_chain.toml", PURIFY_MEMORIES)
    chain = simulate_path(graph, ["alice", "r1", "r2", "r3", "bob"], samples=40, seed=4, purify="dejmps")
    run = simulate_traffic(
        graph,
        [Request("alice", "bob")],
        duration_s=1.5 * 40 / chain.rate_hz,
        seed=4,
        purify="dejmps",
        memory_policy=policy,
    )
    rec = run.requests[0]
    assert len(rec.latency_s) >= 40
    np.testing.assert_allclose(rec.latency_s[:40], chain.completion_time_samples_s, atol=1e-12)
    np.testing.assert_allclose(rec.fidelity[:40], chain.fidelity_samples, atol=1e-12)


def test_a_route_crossing_links_backwards_sees_mirrored_states():
    """Links keep the orientation of the first route that uses them; a request crossing them the other
    way evaluates the same pairs mirrored, which must equal the chain built in its own direction."""
    graph = qnet.load_network("examples/ion_repeater_chain.toml", PURIFY_MEMORIES + ["nodes.r1.t2_s=0.2"])
    chain = simulate_path(graph, ["bob", "r3", "r2", "r1", "alice"], samples=30, seed=6, purify="bbpssw")
    duration = 1.5 * 30 / chain.rate_hz
    never = Request("alice", "bob", start_s=2 * duration)  # fixes the links' orientation, never runs
    run = simulate_traffic(graph, [never, Request("bob", "alice")], duration_s=duration, seed=6, purify="bbpssw")
    rec = run.requests[1]
    assert len(run.requests[0].latency_s) == 0 and len(rec.latency_s) >= 30
    np.testing.assert_allclose(rec.latency_s[:30], chain.completion_time_samples_s, atol=1e-12)
    np.testing.assert_allclose(rec.fidelity[:30], chain.fidelity_samples, atol=1e-12)
    graph_raw = qnet.load_network("examples/ion_repeater_chain.toml", ["nodes.r1.t2_s=0.2"])
    raw = simulate_path(graph_raw, ["bob", "r3", "r2", "r1", "alice"], samples=30, seed=6)
    run = simulate_traffic(graph_raw, [never, Request("bob", "alice")], duration_s=1.5 * 30 / raw.rate_hz, seed=6)
    np.testing.assert_allclose(run.requests[1].fidelity[:30], raw.fidelity_samples, atol=1e-12)


def test_purifying_needs_two_memories_per_link():
    graph = qnet.load_network("examples/ion_repeater_chain.toml")
    with pytest.raises(ConfigError, match=r"nodes\.alice\.memories.*two memories per link to purify"):
        simulate_traffic(graph, [Request("alice", "r2")], duration_s=1.0, purify="dejmps")
    with pytest.raises(ConfigError, match="purify = 'x'"):
        simulate_traffic(graph, [Request("alice", "r2")], duration_s=1.0, purify="x")


def test_k_paths_spread_requests_over_routes():
    """Four identical requests across a ring, two candidate routes each: two take each side."""
    from qnet.repeater.routing import link_graph
    from qnet.repeater.traffic import choose_routes

    graph = network(ring(6, 10.0))
    reqs = [Request("n0", "n3")] * 4
    one = choose_routes(graph, reqs, "hops", 1, None)
    assert len({tuple(h.station for h in r) for r in one}) == 1  # the best route only
    two = choose_routes(graph, reqs, "hops", 2, None, link_graph(graph))
    sides = [tuple(h.node_b for h in r) for r in two]
    assert sides.count(sides[0]) == 2 and len(set(sides)) == 2
    for route in two:  # loop-free, from n0 to n3
        nodes = [route[0].node_a] + [h.node_b for h in route]
        assert nodes[0] == "n0" and nodes[-1] == "n3" and len(set(nodes)) == len(nodes)
