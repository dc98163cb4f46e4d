"""Issue #17: inputs that set a count or a rate of events run in bounded time or are refused.

* demand (``rate_hz``) is counted, not simulated: :func:`demands_by` against a brute-force
  count of the arrival times ``start + k / rate``, and a run's deliveries never precede the
  demand they serve;
* memories per link in repeater chains and traffic are bounded (:data:`MAX_LINK_MEMORIES`);
* generated topologies are bounded (:data:`MAX_NODES`, :data:`MAX_WAXMAN_NODES`);
* ``--replications`` is bounded by the most points of one sweep.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qnet
from qnet.cli import main
from qnet.errors import ConfigError, QnetError
from qnet.network.generate import MAX_NODES, MAX_WAXMAN_NODES, grid, line, waxman
from qnet.repeater.engine.model import DEMAND_CAP, MAX_LINK_MEMORIES, check_link_memories, demands_before, demands_by
from qnet.repeater.engine import jit
from qnet.repeater.traffic import Request, simulate_traffic

METRO = "examples/metro_ion_network.toml"


def _brute(start: float, rate: float, t: float, inclusive: bool) -> int:
    k = 0
    while (start + k / rate <= t) if inclusive else (start + k / rate < t):
        k += 1
    return k


@settings(max_examples=300, deadline=None)
@given(
    start=st.one_of(st.just(0.0), st.floats(0, 100)),
    rate=st.one_of(st.sampled_from([0.2, 1 / 3, 7.0, 0.1]), st.floats(1e-2, 1e3)),
    dt=st.floats(0, 50),
    on_grid=st.integers(0, 60),
    use_grid=st.booleans(),
    inclusive=st.booleans(),
)
def test_demand_count_equals_counting_the_arrival_times(start, rate, dt, on_grid, use_grid, inclusive):
    t = start + on_grid / rate if use_grid else start + dt  # often exactly on an arrival time
    assert demands_by(start, rate, t, inclusive) == _brute(start, rate, t, inclusive)
    assert demands_before(start, rate, t) == _brute(start, rate, t, False)


def test_demand_count_saturates_in_the_engine_and_is_exact_in_reports():
    assert demands_by(0.0, 1e300, 5.0, True) == DEMAND_CAP
    assert demands_by(0.0, math.inf, 5.0, False) == DEMAND_CAP
    assert demands_before(0.0, 2.0**60, 4.0) == 2**62  # exact: beyond float64's integers
    assert demands_before(0.0, 1e300, 5.0) == math.ceil(5 * __import__("fractions").Fraction(1e300))
    assert demands_before(3.0, 1.0, 3.0) == 0 and demands_by(3.0, 1.0, 3.0, True) == 1


@pytest.mark.parametrize(
    "loop",
    ["python", pytest.param("compiled", marks=pytest.mark.skipif(not jit.available(), reason="needs numba"))],
)
def test_deliveries_serve_demands_in_order_and_never_early(loop):
    """Delivery k serves the demand at start + k / rate: its latency is its time minus that, >= 0.

    A demand of 0.5 Hz on the campus - harbour link (which delivers many pairs per second)
    is met: every demand of the window has its pair, none before its demand arrived.
    """
    graph = qnet.load_network(METRO)
    req = Request("campus", "harbour", rate_hz=0.5, start_s=1.0, stop_s=9.0)
    run = simulate_traffic(graph, [req], duration_s=10.0, seed=3, link_backend="batch", loop=loop)
    rec = run.requests[0]
    assert rec.demanded == 4  # arrivals at 1 + k / 0.5 s < 9 s: k = 0, 1, 2, 3
    assert len(rec.delivery_time_s) == 4
    arrival = 1.0 + np.arange(4) / 0.5
    assert np.all(rec.delivery_time_s >= arrival)
    np.testing.assert_allclose(rec.latency_s, rec.delivery_time_s - arrival, rtol=0, atol=1e-12)


def test_a_demand_above_any_source_costs_what_as_fast_as_possible_costs():
    """1e300 demands per second deliver exactly the pairs of a request without a rate (same draws).

    With demand always ahead, the request builds pair after pair from the previous delivery,
    as an as-fast-as-possible request does; only the latency's origin differs (its demand).
    """
    graph = qnet.load_network(METRO)
    runs = [
        simulate_traffic(
            graph, [Request("campus", "airport", rate_hz=rate)], duration_s=5.0, seed=2, link_backend="batch"
        )
        for rate in (None, 1e300)
    ]
    np.testing.assert_array_equal(runs[0].requests[0].delivery_time_s, runs[1].requests[0].delivery_time_s)
    assert runs[1].requests[0].demanded == demands_before(0.0, 1e300, 5.0)


def test_memories_per_link_are_bounded_where_the_event_engine_follows_them():
    check_link_memories("r1", 2 * MAX_LINK_MEMORIES, {"s1": MAX_LINK_MEMORIES, "s2": MAX_LINK_MEMORIES})
    with pytest.raises(ConfigError, match=r"nodes\.r1\.memories = 20002 is invalid: at most 10000 per link"):
        check_link_memories("r1", 20_002, {"s1": 10_001, "s2": 10_001})


@pytest.mark.parametrize(
    "argv",
    [
        [
            "traffic",
            METRO,
            "--requests",
            "examples/requests/metro.toml",
            "--duration",
            "1",
            "--set",
            "nodes.campus.memories=9223372036854775807",
        ],
        [
            "chain",
            "examples/ion_repeater_chain.toml",
            "alice",
            "bob",
            "--via",
            "r1,r2,r3",
            "--samples",
            "5",
            "--set",
            "nodes.r1.memories=20002",
        ],
    ],
)
def test_huge_memory_counts_are_one_line_errors(capsys, argv):
    assert main(argv + ["--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qnet: error: nodes.") and ".memories = " in err
    assert "9223372036854775807" in err or "20002" in err  # the value as typed, every digit


def test_link_figures_accept_any_memory_count():
    """``qnet link`` computes 1 - (1 - p)^k in closed form: no bound there."""
    graph = qnet.load_network(
        "examples/liu2026_ion_link.toml", overrides=["nodes.alice.memories=1000000", "nodes.bob.memories=1000000"]
    )
    spec = qnet.link_spec(graph, "alice", "bob")
    assert spec.attempts_per_round == 1_000_000


def test_generated_topologies_are_bounded():
    assert line(3, 1.0).number_of_nodes() == 3
    with pytest.raises(QnetError, match=f"nodes = {MAX_NODES + 1} is invalid: an integer in \\[2, {MAX_NODES}\\]"):
        line(MAX_NODES + 1, 1.0)
    with pytest.raises(QnetError, match=f"at most {MAX_NODES}"):
        grid(MAX_NODES // 2, 3, 1.0)
    with pytest.raises(QnetError, match=f"\\[2, {MAX_WAXMAN_NODES}\\]"):
        waxman(10**9)


def test_replications_are_bounded_by_one_sweeps_points(capsys, tmp_path):
    assert (
        main(
            [
                "sweep",
                METRO,
                "--traffic",
                "examples/requests/metro.toml",
                "--duration",
                "1",
                "--replications",
                "1000000000",
                "-o",
                str(tmp_path / "s.csv"),
            ]
        )
        == 2
    )
    assert (
        capsys.readouterr().err
        == "qnet: error: --replications = 1000000000 is invalid: at most 100,000,000, the most points in one sweep\n"
    )
