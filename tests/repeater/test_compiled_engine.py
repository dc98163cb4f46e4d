"""The rules compiled (loop="compiled") and not (loop="python") give the same runs to the last bit.

The rules are written once (:mod:`qnet.repeater.engine.rules`); ``loop="python"`` runs plain
copies of the same functions. Both draw the same numbers from the same generators in the same
order, so every delivery time, latency, delivered state, occupancy integral, herald count and
trace row must be *equal* (not close): any difference is numba and Python computing one rule
differently (integer or float semantics, a typed container).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")
from qnet.repeater.engine import jit  # noqa: E402

if not jit.available():
    pytest.skip("the compiled rules are off here (QNET_JIT=0)", allow_module_level=True)

import qnet  # noqa: E402
from qnet.errors import ConfigError  # noqa: E402
from qnet.network.generate import line, ring, star  # noqa: E402
from qnet.repeater.engine import Engine, EngineLink, EngineRequest, EngineRoute  # noqa: E402
from qnet.repeater.engine import core as engine_core  # noqa: E402
from qnet.repeater.traffic import Request, simulate_traffic  # noqa: E402
from qnet.repeater.traffic.requests import read_requests  # noqa: E402

from test_traffic_engine import RING_TRAFFIC, network, ring_case  # noqa: E402


def assert_same_run(a, b) -> None:
    """Every field of two TrafficRuns equal (arrays element by element, NaN equal to NaN)."""
    assert type(a) is type(b)
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same_run(getattr(a, f.name), getattr(b, f.name))
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same_run(a[k], b[k])
    elif isinstance(a, np.ndarray) and a.dtype == object:
        assert a.shape == b.shape and all(x == y for x, y in zip(a.tolist(), b.tolist()))
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, strict=True)
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_run(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def both(graph, requests, **kw):
    """The run on each loop (batch link engine: the links are evaluated identically either way)."""
    kw.setdefault("link_backend", "batch")
    return (
        simulate_traffic(graph, requests, loop="python", **kw),
        simulate_traffic(graph, requests, loop="compiled", **kw),
    )


@pytest.mark.parametrize("policy", ["shared", "reserve"])
@pytest.mark.parametrize("swap_policy", ["asap", "nested"])
def test_one_request_on_a_chain(policy, swap_policy):
    """Cutoffs, swap time and two memories per link end (bundles of two)."""
    graph = network(line(5, 10.0), cutoff_s=0.02, swap_time_s=1e-3, memories=4)
    py, cc = both(graph, [Request("n0", "n4")], duration_s=3.0, seed=5, memory_policy=policy, swap_policy=swap_policy)
    assert len(py.requests[0].latency_s) > 20
    assert_same_run(py, cc)


@pytest.mark.parametrize("policy", ["shared", "reserve"])
def test_many_requests_with_demand_windows_priorities_and_spread_routes(policy):
    graph = network(ring(6, 8.0), memories=3, cutoff_s=0.05)
    reqs = [
        Request("n0", "n3"),
        Request("n1", "n4", rate_hz=40.0, priority=1),
        Request("n5", "n2", start_s=0.3, stop_s=1.2),
        Request("n0", "n2", min_fidelity=0.8),
        Request("n3", "n0"),
    ]
    py, cc = both(graph, reqs, duration_s=2.0, seed=9, memory_policy=policy, k_paths=2, occupancy_bins=7)
    assert all(len(r.latency_s) > 0 for r in py.requests)
    assert_same_run(py, cc)


def test_switch_with_ghz_and_bell_requests():
    graph = network(star(5, 8.0), memories=1, cutoff_s=0.05, node_memories={"hub": 7})
    reqs = [Request("u0", "u1", c="u2"), Request("u3", "u4"), Request("u1", "u3", rate_hz=50.0, priority=1)]
    py, cc = both(graph, reqs, duration_s=5.0, seed=7, trace=True)
    assert "fusion" in set(py.trace["event"])
    assert len(py.requests[0].latency_s) > 5
    assert_same_run(py, cc)


@pytest.mark.parametrize("policy", ["shared", "reserve"])
@pytest.mark.parametrize("swap_time_s", [0.0, 2e-3])
def test_failed_swaps_on_engine_inputs(swap_time_s, policy):
    """Swaps that fail (probability 0.6 of success), done at once or after a swap time, at two inner nodes;
    a window that closes on pairs in flight: the same deliveries, counts and trace rows."""
    inf = float("inf")
    links = [
        EngineLink(p=0.2, attempt_time_s=1e-3, node_a=i, node_b=i + 1, cap_a=2, cap_b=2, cutoff_s=0.05, name=f"s{i}")
        for i in range(3)
    ]
    route = EngineRoute(
        hops=(0, 1, 2),
        left_side=(0, 0, 0),
        cutoff_s=(inf, 0.05, 0.05, inf),
        swap_success=(1.0, 0.6, 0.6, 1.0),
        swap_time_s=(0.0, swap_time_s, swap_time_s, 0.0),
    )
    reverse = EngineRoute(
        hops=(2, 1),
        left_side=(1, 1),
        cutoff_s=(inf, 0.05, inf),
        swap_success=(1.0, 0.6, 1.0),
        swap_time_s=(0.0, swap_time_s, 0.0),
    )
    requests = [
        EngineRequest(route, stop_s=3.0, share=(1, 1, 1)),
        EngineRequest(reverse, priority=1, rate_hz=30.0, start_s=0.5, share=(1, 1)),
    ]
    args = (links, requests, ["a", "b", "c", "d"], policy)
    runs = []
    for loop in ("compiled", "python"):
        eng = Engine(*args, np.random.default_rng(2), np.random.default_rng(3), trace=True, loop=loop)
        eng.run(until_s=5.0, bins=4)
        done = [[(d.request, d.time_s, d.latency_s, d.tree.tree()) for d in r.done] for r in eng.requests]
        runs.append((eng, done, eng.heralds, eng.node_peak, eng.snapshots, eng.close(5.0), repr(eng.rows)))
    assert len(runs[0][1][0]) > 10 and len(runs[0][1][1]) > 10
    events = {row[1] for row in runs[0][0].rows}
    assert {"swap_failed", "delivery", "swap", "herald"} <= events
    assert runs[0][1:] == runs[1][1:]
    assert runs[0][0].events == runs[1][0].events


def test_shipped_example():
    graph = qnet.load_network("examples/metro_ion_network.toml")
    py, cc = both(graph, read_requests("examples/requests/metro.toml"), duration_s=60.0, seed=1)
    assert_same_run(py, cc)


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(**RING_TRAFFIC)
def test_random_rings(nodes, pairs, memories, cutoff, policy, seed):
    graph, reqs = ring_case(nodes, pairs, memories, cutoff)
    if not reqs:
        return
    assert_same_run(*both(graph, reqs, duration_s=0.5, seed=seed, memory_policy=policy))


def test_chunked_calls_change_nothing_and_report_progress(monkeypatch):
    """The compiled loop returns to Python every so many instants (progress, Ctrl-C): the run is the same."""
    graph = network(ring(5, 8.0), memories=2, cutoff_s=0.02)
    reqs = [Request("n0", "n2"), Request("n1", "n3")]
    whole = simulate_traffic(graph, reqs, duration_s=1.0, seed=3, link_backend="batch", loop="compiled")
    monkeypatch.setattr(engine_core, "_CHUNK_INSTANTS", 7)
    seen: list[float] = []
    chunked = simulate_traffic(
        graph, reqs, duration_s=1.0, seed=3, link_backend="batch", loop="compiled", progress=lambda t, d: seen.append(t)
    )
    assert_same_run(whole, chunked)
    assert len(seen) > 10 and seen == sorted(seen) and 0.0 < seen[-1] <= 1.0


def test_ctrl_c_keeps_what_finished(monkeypatch):
    graph = network(ring(5, 8.0), memories=2)
    reqs = [Request("n0", "n2")]
    full = simulate_traffic(graph, reqs, duration_s=2.0, seed=4, link_backend="batch", loop="compiled")
    monkeypatch.setattr(engine_core, "_CHUNK_INSTANTS", 50)

    def interrupt(t, duration):
        if t > 0.5:
            raise KeyboardInterrupt

    cut = simulate_traffic(
        graph, reqs, duration_s=2.0, seed=4, link_backend="batch", loop="compiled", progress=interrupt
    )
    assert cut.interrupted and 0.5 < cut.simulated_time_s < 2.0
    kept = cut.requests[0].delivery_time_s
    assert 0 < len(kept) < len(full.requests[0].delivery_time_s)
    np.testing.assert_array_equal(kept, full.requests[0].delivery_time_s[: len(kept)])


def test_loops_without_numba_and_bad_loops(monkeypatch):
    """Without numba, ``auto`` runs the plain rules and ``compiled`` is one line naming the field."""
    graph = network(line(3, 10.0), memories=4)
    reqs = [Request("n0", "n2")]
    with pytest.raises(ConfigError, match="traffic.loop = 'fast' is invalid: one of auto, compiled, python"):
        simulate_traffic(graph, reqs, duration_s=1.0, loop="fast")
    monkeypatch.setattr(engine_core, "available", lambda: False)
    with pytest.raises(ConfigError, match=r"needs numba: pip install 'qnet\[fast\]'"):
        simulate_traffic(graph, reqs, duration_s=1.0, loop="compiled")
    assert engine_core.use_compiled("auto") is False


@pytest.mark.parametrize("extra", [[], ["--memory-policy", "reserve"]])
def test_command_line(capsys, extra):
    """`qnet traffic` prints the same with --loop compiled, python and auto; a bad loop is one line, exit 2."""
    from qnet.cli import main

    base = [
        "traffic",
        "examples/metro_ion_network.toml",
        "--requests",
        "examples/requests/metro.toml",
        "--duration",
        "30",
        "--seed",
        "2",
        "--link-backend",
        "batch",
        "--json",
        *extra,
    ]
    assert main(base + ["--loop", "python"]) == 0
    python_out = capsys.readouterr().out
    assert main(base + ["--loop", "compiled"]) == 0
    assert capsys.readouterr().out == python_out
    assert main(base) == 0  # auto
    assert capsys.readouterr().out == python_out
    with pytest.raises(SystemExit):
        main(base + ["--loop", "fast"])
    assert "invalid choice: 'fast'" in capsys.readouterr().err


def test_a_long_run_holds_only_live_pairs_and_delivered_trees():
    """Pair ids are reused and undelivered trees dropped: storage follows what is alive, not the heralds."""
    from qnet.repeater.engine import store
    from qnet.repeater.traffic import run as run_module

    engines = []

    class Kept(Engine):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            engines.append(self)

    graph = network(line(4, 10.0), memories=2, cutoff_s=0.01)  # most link pairs are cut off before they are swapped
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run_module, "Engine", Kept)
        run = simulate_traffic(
            graph, [Request("n0", "n3")], duration_s=100.0, seed=1, link_backend="batch", loop="compiled"
        )
    heralds = sum(link.heralds for link in run.links)
    pair_ids, tree_nodes, deliveries = store.sizes(engines[0].state._state)
    assert heralds > 5000 and deliveries == len(run.requests[0].latency_s) > 10
    assert pair_ids < 100  # at most a few pairs per link exist at once
    assert tree_nodes <= 2 * 3 * deliveries + 100  # a delivered tree has 3 leaves and 2 swaps; few others are held


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    users=st.integers(3, 5),
    groups=st.lists(st.lists(st.integers(0, 4), min_size=2, max_size=3, unique=True), min_size=1, max_size=4),
    rates=st.lists(st.one_of(st.none(), st.floats(5.0, 200.0)), min_size=4, max_size=4),
    windows=st.lists(st.tuples(st.floats(0.0, 0.3), st.floats(0.05, 1.0)), min_size=4, max_size=4),
    priorities=st.lists(st.integers(0, 2), min_size=4, max_size=4),
    hub_memories=st.integers(0, 3),
    cutoff=st.sampled_from([0.005, 0.05, float("inf")]),
    policy=st.sampled_from(["shared", "reserve"]),
    seed=st.integers(0, 2**16),
)
def test_random_switch_traffic(users, groups, rates, windows, priorities, hub_memories, cutoff, policy, seed):
    """Bell and GHZ requests at a hub with random demands, windows and priorities: both loops equal."""
    graph = network(star(users, 8.0), memories=1, cutoff_s=cutoff, node_memories={"hub": users + hub_memories})
    reqs = []
    for k, g in enumerate(groups):
        parties = [f"u{i % users}" for i in g]
        if len(set(parties)) == len(parties):
            start, length = windows[k]
            reqs.append(
                Request(*parties, rate_hz=rates[k], start_s=start, stop_s=start + length, priority=priorities[k])
            )
    if not reqs:
        return
    assert_same_run(*both(graph, reqs, duration_s=1.0, seed=seed, memory_policy=policy, occupancy_bins=3))


def test_purified_links_in_traffic_grow_their_tables_alike():
    """Purified links (the sources' draws, their tables grown mid-run by a call back into Python): equal runs."""
    graph = network(line(4, 60.0), memories=4)  # long links, no cutoff: waits far beyond the first 1024-round table
    reqs = [Request("n0", "n3"), Request("n1", "n2")]
    for policy in ("shared", "reserve"):
        py, cc = both(graph, reqs, duration_s=20.0, seed=3, memory_policy=policy, purify="dejmps", trace=True)
        assert all(len(r.latency_s) > 3 for r in py.requests)
        assert_same_run(py, cc)


@pytest.mark.parametrize("purify", [None, "bbpssw"])
@pytest.mark.parametrize("policy", ["asap", "nested"])
def test_chain_mode_deliveries_are_equal(purify, policy):
    """Chain mode (each delivery from a fresh start): the same latencies and trees compiled or not,
    with cutoffs, failed swaps, swap times and (purified) tables grown mid-run."""
    from qnet.repeater.chain import ChainLink, LinkPurification, RepeaterChain, RepeaterNode
    from qnet.repeater.chain.montecarlo import chain_engine
    from qnet.repeater.chain.sources import link_sources

    rho = 0.9 * np.diag([0, 0.5, 0.5, 0]) + 0.1 * np.eye(4) / 4
    rho[1, 2] = rho[2, 1] = 0.45
    pur = None if purify is None else LinkPurification(protocol=purify, communication_time_s=1e-4)
    link = ChainLink(rho, 0.002 if purify else 0.05, 1e-3, purification=pur)
    node = RepeaterNode(
        cutoff_s=float("inf") if purify else 0.2,
        swap_success_probability=0.8,
        swap_time_s=1e-3,
        memories=2 if purify else 1,
    )
    chain = RepeaterChain((link,) * 4, node, swap_policy=policy, end_memories=2 if purify else 1)
    runs = []
    for loop in ("compiled", "python"):
        sources = link_sources(chain)
        times, trees = chain_engine(chain, np.random.default_rng(5), sources, loop=loop).deliver(60, 10_000_000)
        runs.append((times.tolist(), [t.tree() for t in trees]))
        if purify:
            assert len(sources[0].success_by_wait) > 1024  # the table grew during the run
    assert runs[0] == runs[1]


@pytest.mark.parametrize("policy", ["shared", "reserve"])
def test_auto_moves_a_long_run_from_the_plain_to_the_compiled_rules_unchanged(monkeypatch, policy):
    """loop="auto" starts on the plain rules and moves the state (every array, the reserve queue) to the
    compiled rules once the run proves long: the same run as either throughout, traced and purified."""
    monkeypatch.setattr(engine_core, "_PLAIN_S", 0.0)  # move after the first chunk
    monkeypatch.setattr(engine_core, "_PLAIN_CHUNK", 50)
    monkeypatch.setattr(engine_core, "cached", lambda kernel, entry: True)
    moved = []
    original = Engine._to_compiled
    monkeypatch.setattr(Engine, "_to_compiled", lambda self, S: moved.append(1) or original(self, S))
    graph = network(ring(6, 8.0), memories=3, cutoff_s=0.05)
    reqs = [
        Request("n0", "n3"),
        Request("n1", "n4", rate_hz=40.0, priority=1),
        Request("n5", "n2", start_s=0.3, stop_s=1.2),
    ]
    kw = dict(
        duration_s=2.0, seed=9, memory_policy=policy, k_paths=2, occupancy_bins=7, link_backend="batch", trace=True
    )
    auto = simulate_traffic(graph, reqs, loop="auto", **kw)
    assert moved == [1]
    assert_same_run(auto, simulate_traffic(graph, reqs, loop="python", **kw))


def test_auto_moves_a_long_chain_to_the_compiled_rules_unchanged(monkeypatch):
    from qnet.repeater.chain import ChainLink, RepeaterChain, RepeaterNode, simulate_chain

    monkeypatch.setattr(engine_core, "_PLAIN_S", 0.0)  # move after the first chunk (one delivery)
    monkeypatch.setattr(engine_core, "cached", lambda kernel, entry: True)
    moved = []
    original = Engine._to_compiled
    monkeypatch.setattr(Engine, "_to_compiled", lambda self, S: moved.append(1) or original(self, S))
    rho = np.diag([0.0, 0.5, 0.5, 0.0])
    chain = RepeaterChain((ChainLink(rho, 0.05, 1e-3),) * 3, RepeaterNode(cutoff_s=0.1, swap_success_probability=0.9))
    auto = simulate_chain(chain, 300, seed=4)
    assert moved == [1]
    monkeypatch.setattr(engine_core, "available", lambda: False)  # auto = plain throughout
    plain = simulate_chain(chain, 300, seed=4)
    np.testing.assert_array_equal(auto.completion_time_samples_s, plain.completion_time_samples_s)
    np.testing.assert_array_equal(auto.fidelity_samples, plain.fidelity_samples)
