"""Figures of a traffic run from hand-built engine records, each against an independent computation."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from qnet.errors import QnetError
from qnet.repeater.traffic.records import LinkRecord, NodeRecord, RequestRecord, TrafficRun
from qnet.repeater.traffic.requests import Request
from qnet.repeater.traffic.results import (
    BATCH_MIN_DELIVERIES,
    BATCHES,
    TrafficResult,
    format_traffic,
    rate_interval,
)

#: t quantile 0.975 with 9 degrees of freedom (tables), for BATCHES = 10
T_975_9 = 2.2621571627409915


def _record(request, times, fidelity=None, latency=None, demanded=None, active_s=10.0, paths=None):
    times = np.asarray(times, dtype=float)
    fidelity = np.full(times.size, 0.9) if fidelity is None else np.asarray(fidelity, dtype=float)
    latency = np.full(times.size, 0.1) if latency is None else np.asarray(latency, dtype=float)
    return RequestRecord(request, paths or ((request.a, request.b),), times, latency, fidelity, demanded, active_s)


def _run(*records, nodes=(), links=(), duration_s=10.0, simulated_time_s=None, interrupted=False, seed=3):
    t = duration_s if simulated_time_s is None else simulated_time_s
    return TrafficRun(tuple(records), tuple(nodes), tuple(links), duration_s, t, seed, "shared", interrupted)


def _linear_quantile(values, q):
    """Quantile by linear interpolation between order statistics (numpy's default), by hand."""
    s = sorted(values)
    h = (len(s) - 1) * q
    lo = math.floor(h)
    return s[lo] + (h - lo) * (s[min(lo + 1, len(s) - 1)] - s[lo])


def test_request_figures_against_hand_computations():
    rng = np.random.default_rng(5)
    fid = rng.uniform(0.6, 1.0, 37)
    fid[3] = 0.8  # exactly min_fidelity: counts as meeting it
    lat = rng.exponential(0.2, 37)
    times = np.sort(rng.uniform(2.0, 8.0, 37))
    req = Request("a", "b", rate_hz=5.0, min_fidelity=0.8, start_s=2.0, stop_s=8.0, priority=2)
    r = TrafficResult.from_run(_run(_record(req, times, fid, lat, demanded=30, active_s=6.0))).requests[0]
    assert (r.a, r.b, r.c, r.delivered, r.index) == ("a", "b", None, 37, 0)
    assert r.rate_hz == pytest.approx(37 / 6.0, rel=1e-15)
    assert r.fidelity == pytest.approx(sum(fid) / 37, rel=1e-14)
    for name, q in (("q05", 0.05), ("q50", 0.5), ("q95", 0.95)):
        assert r.fidelity_quantiles[name] == pytest.approx(_linear_quantile(fid, q), rel=1e-14)
        assert r.latency_s_quantiles[name] == pytest.approx(_linear_quantile(lat, q), rel=1e-14)
    assert r.fraction_above_min_fidelity == sum(1 for f in fid if f >= 0.8) / 37
    assert (r.demanded, r.unmet_demand, r.requested_rate_hz, r.priority, r.active_s) == (30, 30 - 37, 5.0, 2, 6.0)


def test_without_demand_unmet_is_none_and_ghz_keeps_its_third_party():
    req = Request("a", "b", c="d")
    legs = (("a", "s"), ("b", "s"), ("d", "s"))
    r = TrafficResult.from_run(_run(_record(req, [1.0, 2.0], paths=legs))).requests[0]
    assert (r.c, r.demanded, r.unmet_demand, r.paths) == ("d", None, None, legs)
    d = r.to_dict()
    assert d["c"] == "d" and d["paths"] == [["a", "s"], ["b", "s"], ["d", "s"]]


def test_nothing_delivered_gives_nulls_and_the_exact_poisson_bound():
    r = TrafficResult.from_run(_run(_record(Request("a", "b"), []))).requests[0]
    assert (r.delivered, r.rate_hz, r.fidelity, r.fraction_above_min_fidelity) == (0, 0.0, None, None)
    assert set(r.fidelity_quantiles.values()) == {None} and set(r.latency_s_quantiles.values()) == {None}
    # n = 0: P(N = 0 | mu) = exp(-mu) = 0.025 at the upper end
    assert r.rate_hz_ci == pytest.approx((0.0, -math.log(0.025) / 10.0), rel=1e-12)
    assert r.rate_hz_ci_method == "poisson_exact"


def _poisson_cdf(n, mu):
    return sum(math.exp(-mu) * mu**k / math.factorial(k) for k in range(n + 1))


@pytest.mark.parametrize("n", [1, 4, BATCH_MIN_DELIVERIES - 1])
def test_few_deliveries_use_the_garwood_interval(n):
    """Garwood: P(N >= n | mu_low) = 0.025 and P(N <= n | mu_high) = 0.025 (Poisson sums by hand)."""
    (low, high), method = rate_interval(np.linspace(0.5, 9.5, n), 0.0, 10.0)
    assert method == "poisson_exact"
    assert 1 - _poisson_cdf(n - 1, low * 10.0) == pytest.approx(0.025, rel=1e-9)
    assert _poisson_cdf(n, high * 10.0) == pytest.approx(0.025, rel=1e-9)


def test_many_deliveries_use_batch_means():
    rng = np.random.default_rng(1)
    start, active = 3.0, 20.0
    times = np.sort(rng.uniform(start, start + active, 250))
    (low, high), method = rate_interval(times, start, active)
    counts = [0] * BATCHES
    for t in times:  # batch of each delivery, by hand
        counts[min(int((t - start) / (active / BATCHES)), BATCHES - 1)] += 1
    rates = [c / (active / BATCHES) for c in counts]
    mean = sum(rates) / BATCHES
    sd = math.sqrt(sum((x - mean) ** 2 for x in rates) / (BATCHES - 1))
    assert method == "batch_means" and mean == pytest.approx(250 / active)
    assert (low, high) == pytest.approx(
        (mean - T_975_9 * sd / math.sqrt(BATCHES), mean + T_975_9 * sd / math.sqrt(BATCHES))
    )


def _coverage(sample_times, rate, duration, replicates, rng):
    hits, methods = 0, set()
    for _ in range(replicates):
        times = sample_times(rng, duration)
        (low, high), method = rate_interval(times, 0.0, duration)
        methods.add(method)
        hits += low <= rate <= high
    return hits / replicates, methods


def _poisson_times(rate):
    return lambda rng, duration: np.sort(rng.uniform(0.0, duration, rng.poisson(rate * duration)))


def _gamma_renewal_times(rate, shape):
    def sample(rng, duration):
        gaps = rng.gamma(shape, 1.0 / (shape * rate), int(3 * rate * duration) + 50)
        times = np.cumsum(gaps)
        return times[times < duration]

    return sample


@pytest.mark.parametrize(
    "name, sample, rate, low, high, method",
    [
        ("poisson, many deliveries", _poisson_times(5.0), 5.0, 0.91, 0.98, "batch_means"),
        ("poisson, few deliveries", _poisson_times(0.3), 0.3, 0.94, 1.00, "poisson_exact"),
        ("regular renewal (gamma shape 4)", _gamma_renewal_times(5.0, 4.0), 5.0, 0.90, 0.98, "batch_means"),
        ("bursty renewal (gamma shape 0.25)", _gamma_renewal_times(5.0, 0.25), 5.0, 0.88, 0.98, "batch_means"),
    ],
)
def test_rate_interval_covers_the_true_rate_about_95_percent(name, sample, rate, low, high, method):
    coverage, methods = _coverage(sample, rate, 40.0, 600, np.random.default_rng(2026))
    assert low <= coverage <= high, (name, coverage)
    assert method in methods


def test_nodes_links_and_total_rate():
    nodes = (NodeRecord("r1", 4, 3.0, 4), NodeRecord("r2", 2, 0.5, 1), NodeRecord("x", 0, 0.0, 0))
    links = (LinkRecord("a", "r1", "s1", 2, 0.75, 120),)
    run = _run(
        _record(Request("a", "b"), [1.0, 2.0, 3.0]),
        _record(Request("b", "c", start_s=5.0), [6.0], active_s=5.0),
        nodes=nodes,
        links=links,
    )
    result = TrafficResult.from_run(run)
    assert [(n.name, n.occupancy) for n in result.nodes] == [("r1", 0.75), ("r2", 0.25), ("x", None)]
    assert result.total_rate_hz == pytest.approx(4 / 10.0)
    assert [r.rate_hz for r in result.requests] == [pytest.approx(0.3), pytest.approx(0.2)]
    d = result.to_dict()
    assert d["links"] == [{"a": "a", "b": "r1", "station": "s1", "memories": 2, "utilisation": 0.75, "heralds": 120}]
    assert d["nodes"][0] == {
        "name": "r1",
        "memories": 4,
        "mean_occupied": 3.0,
        "peak_occupied": 4,
        "occupancy": 0.75,
        "occupied_over_time": [],
    }


ISSUE_REQUEST_KEYS = [
    "a",
    "b",
    "delivered",
    "rate_hz",
    "rate_hz_ci",
    "fidelity",
    "fidelity_quantiles",
    "fraction_above_min_fidelity",
    "latency_s_quantiles",
]


def test_json_has_the_issue_keys_and_no_nan_or_inf():
    run = _run(
        _record(Request("a", "b", rate_hz=1.0), [1.0, 2.0], demanded=9),
        _record(Request("a", "c", stop_s=math.inf), []),
        _record(Request("c", "d", start_s=20.0), [], active_s=0.0),  # never active in this run
        nodes=(NodeRecord("a", 2, 0.25, 1),),
        links=(LinkRecord("a", "b", "s", 1, 0.5, 3),),
    )
    d = TrafficResult.from_run(run).to_dict()
    text = json.dumps(d, allow_nan=False)  # raises on NaN or inf
    assert json.loads(text) == d
    assert list(d)[:6] == ["requests", "nodes", "links", "total_rate_hz", "simulated_time_s", "seed"]
    assert (d["seed"], d["policy"], d["interrupted"], d["duration_s"]) == (3, "shared", False, 10.0)
    for entry in d["requests"]:
        assert list(entry)[: len(ISSUE_REQUEST_KEYS) + 1] == ["a", "b", "c"] + ISSUE_REQUEST_KEYS[2:]
        assert set(entry["fidelity_quantiles"]) == set(entry["latency_s_quantiles"]) == {"q05", "q50", "q95"}
    first, second, third = d["requests"]
    assert (first["unmet_demand"], first["requested_rate_hz"], first["rate_hz_ci_method"]) == (7, 1.0, "poisson_exact")
    assert (second["stop_s"], second["fidelity"], second["fidelity_quantiles"]["q50"]) == (None, None, None)
    assert (third["rate_hz"], third["rate_hz_ci"], third["active_s"]) == (None, None, 0.0)


def test_json_is_what_qnet_draw_reads(tmp_path):
    from qnet.studies.draw import read_utilisation

    run = _run(nodes=(), links=(LinkRecord("alice", "r1", "s1", 1, 0.25, 5), LinkRecord("r1", "r2", "s2", 2, 1.0, 9)))
    path = tmp_path / "traffic.json"
    path.write_text(json.dumps(TrafficResult.from_run(run).to_dict()))
    assert read_utilisation(path) == {frozenset(("alice", "r1")): 0.25, frozenset(("r1", "r2")): 1.0}


def test_rows_are_flat_and_load_into_pandas():
    pd = pytest.importorskip("pandas")
    run = _run(
        _record(Request("a", "b", rate_hz=2.0), [1.0, 2.0, 4.0], demanded=20, paths=(("a", "r", "b"), ("a", "q", "b"))),
        _record(Request("a", "c"), []),
    )
    result = TrafficResult.from_run(run)
    rows = result.to_rows()
    assert all(not isinstance(v, (list, dict, tuple)) for row in rows for v in row.values())
    assert rows[0]["request"] == 0 and rows[0]["paths"] == "a-r-b; a-q-b"
    assert list(rows[0])[:6] == ["request", "a", "b", "c", "delivered", "rate_hz"]
    frame = pd.DataFrame(rows)
    assert frame.shape[0] == 2 and {"rate_hz_ci_low", "rate_hz_ci_high", "fidelity_q05", "latency_s_q95"} <= set(
        frame.columns
    )
    assert frame.loc[0, "rate_hz_ci_low"] == result.requests[0].rate_hz_ci[0]
    assert frame.loc[0, "unmet_demand"] == 17 and frame.loc[0, "fidelity_q50"] == pytest.approx(0.9)
    assert result.to_dataframe().equals(frame)


def test_to_dataframe_without_pandas_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(QnetError, match=r"^TrafficResult.to_dataframe needs pandas: pip install pandas"):
        TrafficResult.from_run(_run()).to_dataframe()


def test_engine_fault_of_unequal_arrays_is_caught():
    rec = RequestRecord(Request("a", "b"), (), np.array([1.0, 2.0]), np.array([0.1, 0.1]), np.array([0.9]), None, 10.0)
    with pytest.raises(QnetError, match=r"requests\[0\]: 2 delivery times but 1 fidelities"):
        TrafficResult.from_run(_run(rec))


def test_format_lists_requests_and_the_ten_busiest_nodes_and_links():
    nodes = [NodeRecord(f"n{i:02d}", 10, float(i % 11), i % 11) for i in range(15)]
    links = [LinkRecord(f"n{i:02d}", f"n{i + 1:02d}", f"s{i:02d}", 2, i / 20, 7 * i) for i in range(14)]
    run = _run(_record(Request("a", "b", rate_hz=1.0), [1.0, 5.0], demanded=4), nodes=nodes, links=links)
    text = format_traffic(TrafficResult.from_run(run))
    lines = text.splitlines()
    assert lines[0] == "traffic: 1 request, 10 s simulated, policy shared, seed 3"
    assert "delivered" in lines[1] and lines[2].split()[:3] == ["0", "a-b", "2"]
    node_lines = [line for line in lines if line.startswith("  n") and "peak" in line]
    assert len(node_lines) == 10 and node_lines[0].split()[0] == "n10"  # occupancy 10/10 first
    link_lines = [line for line in lines if "heralds" in line and line.startswith("  ")]
    assert len(link_lines) == 10 and link_lines[0].split()[:5] == ["n13", "-", "s13", "-", "n14"]
    assert "interrupted" not in text


def test_interrupted_run_says_where_it_stopped():
    run = _run(
        _record(Request("a", "b"), [0.5], active_s=1.25), duration_s=60.0, simulated_time_s=1.25, interrupted=True
    )
    result = TrafficResult.from_run(run)
    assert result.total_rate_hz == pytest.approx(1 / 1.25) and result.requests[0].rate_hz == pytest.approx(1 / 1.25)
    assert result.to_dict()["interrupted"] is True
    text = format_traffic(result)
    assert text.splitlines()[0].startswith("traffic: 1 request, 1.25 s simulated of 60 s")
    assert text.splitlines()[-1] == "interrupted at t = 1.25 s: figures cover what was finished"


def test_a_poisson_interval_would_undercover_bursty_deliveries():
    """Why batch means: counts of a bursty renewal process (gamma shape 0.25: variance 4x the
    mean) fall outside the exact Poisson interval far more often than 5 % of the time."""
    from scipy import stats

    rng, hits = np.random.default_rng(7), 0
    for _ in range(400):
        n = _gamma_renewal_times(5.0, 0.25)(rng, 40.0).size
        low, high = stats.chi2.ppf(0.025, 2 * n) / 2 / 40.0, stats.chi2.ppf(0.975, 2 * n + 2) / 2 / 40.0
        hits += low <= 5.0 <= high
    assert hits / 400 < 0.80


def test_numpy_integers_from_the_engine_still_give_json():
    rec = _record(Request("a", "b", rate_hz=1.0), [1.0], demanded=np.int64(3))
    run = TrafficRun(
        (rec,),
        (NodeRecord("a", np.int64(2), np.float64(0.5), np.int64(1)),),
        (LinkRecord("a", "b", "s", np.int64(1), np.float64(0.5), np.int64(4)),),
        10.0,
        np.float64(10.0),
        np.int64(5),
        "shared",
    )
    d = json.loads(json.dumps(TrafficResult.from_run(run).to_dict(), allow_nan=False))
    assert (d["requests"][0]["unmet_demand"], d["nodes"][0]["memories"], d["links"][0]["heralds"], d["seed"]) == (
        2,
        2,
        4,
        5,
    )
