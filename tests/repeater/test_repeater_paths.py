"""Repeater chains built from network files: CLI, routing, comparisons, bad input.

The chain's time process and swap/purification circuits are tested against closed forms in
test_chain.py, test_waiting.py, test_swapping.py and test_purification.py; here the checks
are that a network becomes the right chain and that the figures reach the user intact.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet.cli import main
from qnet.repeater.compare import compare_path
from qnet.repeater.path import simulate_path
from qnet.repeater.routing import best_path, explicit_path

ROOT = Path(__file__).resolve().parents[2]
CHAIN = str(ROOT / "examples" / "ion_repeater_chain.toml")
METRO = str(ROOT / "examples" / "metro_ion_network.toml")
VIA = "r1,r2,r3"


def cli_json(capsys, *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_chain_json_holds_the_documented_fields(capsys):
    out = cli_json(
        capsys, "chain", CHAIN, "alice", "bob", "--via", VIA, "--samples", "200", "--seed", "1", "--no-progress"
    )
    for key in (
        "fidelity",
        "fidelity_std",
        "rate_hz",
        "rate_hz_ci",
        "mean_completion_time_s",
        "method",
        "samples",
        "links",
    ):
        assert key in out
    assert out["method"] == "monte_carlo" and out["samples"] == 200
    lo, hi = out["rate_hz_ci"]
    assert lo < out["rate_hz"] < hi
    assert out["rate_hz"] == pytest.approx(1.0 / out["mean_completion_time_s"], rel=1e-12)
    assert [list(link) for link in out["links"]] == [list(qnet.LINK_FIELDS) + list(qnet.LINK_LABELS)] * 4
    assert [(link["node_a"], link["node_b"]) for link in out["links"]] == [
        ("alice", "r1"),
        ("r1", "r2"),
        ("r2", "r3"),
        ("r3", "bob"),
    ]
    assert out["entangled"] is True and out["fidelity"] > 0.5
    assert out["path"] == ["alice", "r1", "r2", "r3", "bob"]


def test_same_seed_same_numbers(capsys):
    args = ("chain", CHAIN, "alice", "bob", "--via", VIA, "--samples", "100", "--seed", "7", "--no-progress")
    assert cli_json(capsys, *args) == cli_json(capsys, *args)


def test_one_link_chain_equals_qnet_link(capsys):
    link = cli_json(capsys, "link", CHAIN, "alice", "r1")
    chain = cli_json(capsys, "chain", CHAIN, "alice", "r1", "--exact")
    # a single link delivers its heralded pair with no waiting: rate p / tau, same state
    assert chain["rate_hz"] == pytest.approx(link["success_probability"] / link["attempt_time_s"], rel=1e-9)
    assert chain["fidelity"] == pytest.approx(link["fidelity"], abs=1e-9)
    assert chain["links"][0] == link


@pytest.mark.slow
def test_nested_exact_and_monte_carlo_agree_on_the_example(capsys):
    exact = cli_json(capsys, "chain", CHAIN, "alice", "bob", "--via", VIA, "--swap-policy", "nested", "--exact")
    mc = cli_json(
        capsys,
        "chain",
        CHAIN,
        "alice",
        "bob",
        "--via",
        VIA,
        "--swap-policy",
        "nested",
        "--samples",
        "3000",
        "--seed",
        "5",
        "--no-progress",
    )
    lo, hi = mc["rate_hz_ci"]
    assert lo < exact["rate_hz"] < hi
    # 4 standard errors of the Monte Carlo mean fidelity
    assert abs(mc["fidelity"] - exact["fidelity"]) < 4 * mc["fidelity_std"] / math.sqrt(mc["samples"])
    # two swaps of nearly Werner links cannot beat the product of link fidelities' Werner parameters
    w = (4 * exact["links"][0]["fidelity"] - 1) / 3
    assert exact["fidelity"] < (1 + 3 * w**4) / 4 + 1e-9


def test_routing_metrics_pick_the_documented_routes():
    graph = qnet.load_network(METRO)
    # by the file: campus-north-airport is 10 + 12 = 22 km; campus-harbour-airport 15 + 18 = 33 km
    assert [h[:2] for h in best_path(graph, "campus", "airport", "length")] == [
        ("campus", "north"),
        ("north", "airport"),
    ]
    hops = best_path(graph, "campus", "airport", "hops")
    assert len(hops) == 2
    # downtown -> airport: via harbour (3 + 3.5 + 9 + 9 = 24.5 km) beats campus-north (8 + 10 + 12 = 30 km)
    assert [h[1] for h in best_path(graph, "downtown", "airport", "length")] == ["harbour", "airport"]


def test_path_command_reports_the_route(capsys):
    out = cli_json(
        capsys,
        "path",
        METRO,
        "downtown",
        "airport",
        "--metric",
        "length",
        "--samples",
        "100",
        "--seed",
        "2",
        "--no-progress",
    )
    assert out["path"] == ["downtown", "harbour", "airport"]
    assert out["total_length_km"] == pytest.approx(24.5)


def test_comparison_plob_and_direct_link_follow_their_definitions():
    graph = qnet.load_network(CHAIN)
    hops = explicit_path(graph, ["alice", "r1", "r2", "r3", "bob"])
    result = compare_path(graph, hops, [100.0, 300.0], samples=100, seed=1)
    for row in result.rows:
        d = row.total_km
        eta = 10 ** (-0.2 * d / 10)
        t_att = 380e-6 + 2 * (d / 2) / 2e5  # direct link: station at the middle
        assert row.direct.attempt_time_s == pytest.approx(t_att, rel=1e-12)
        assert row.plob_bits_per_s == pytest.approx(-math.log2(1 - eta) / t_att, rel=1e-9)
        assert row.chain.total_length_km == pytest.approx(d)
    # at 300 km the chain's pair rate is above the repeaterless bound, at 100 km below it
    assert result.rows[0].chain.rate_hz < result.rows[0].plob_bits_per_s
    assert result.rows[1].chain.rate_hz > result.rows[1].plob_bits_per_s
    assert 100.0 < result.crossovers_km["chain_rate_above_plob"] < 300.0


@pytest.mark.parametrize(
    "args, needle",
    [
        (["chain", METRO, "campus", "airport", "--via", "downtown"], "not an elementary link"),
        (
            ["chain", CHAIN, "alice", "bob", "--via", "r1,r2,r3", "--set", "nodes.r2.memories=1"],
            "nodes.r2.memories = 1",
        ),
        (
            ["chain", CHAIN, "alice", "bob", "--via", "r1,r2,r3", "--set", "nodes.r1.cutoff_s=0"],
            "nodes.r1.cutoff_s = 0",
        ),
        (["chain", CHAIN, "alice", "bob", "--via", "r1,r2,r3", "--exact"], "exact mode is not available"),
        (["chain", CHAIN, "alice", "bob", "--via", "r1,zed"], "unknown node 'zed'"),
        (["path", CHAIN, "alice", "s1"], "is a station"),
        (["chain", CHAIN, "alice", "bob", "--via", "r1,r2,r3", "--samples", "1"], "samples = 1"),
    ],
)
def test_bad_chain_requests_are_one_line_errors(capsys, args, needle):
    assert main([*args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_a_path_that_does_not_exist(tmp_path):
    text = Path(CHAIN).read_text() + '\n[nodes.island]\nkind = "memory"\nt2_s = 1.0\nemission_efficiency = 0.5\n'
    path = tmp_path / "island.toml"
    path.write_text(text)
    graph = qnet.load_network(path)
    with pytest.raises(qnet.NetworkError, match="no path of elementary links joins 'alice' and 'island'"):
        best_path(graph, "alice", "island", "length")


@pytest.mark.slow
def test_a_512_link_chain_runs_to_a_result():
    n = 512
    mem = {
        "kind": "memory",
        "t2_s": 10.0,
        "emission_efficiency": 0.4,
        "conversion_efficiency": 0.5,
        "prep_time_s": 380e-6,
        "bright_state_population": 0.02,
    }
    nodes = {f"n{i}": dict(mem) for i in range(n + 1)}
    nodes.update({f"s{i}": {"kind": "station", "scheme": "single_click", "detector_efficiency": 0.8} for i in range(n)})
    fibres = []
    for i in range(n):
        fibres += [{"a": f"n{i}", "b": f"s{i}", "length_km": 2.0}, {"a": f"s{i}", "b": f"n{i + 1}", "length_km": 2.0}]
    graph = qnet.network_from_dict({"nodes": nodes, "fibres": fibres})
    hops = explicit_path(graph, [f"n{i}" for i in range(n + 1)])
    result = simulate_path(graph, hops, samples=20, seed=1)
    assert len(result.links) == n and result.total_length_km == pytest.approx(4.0 * n)
    assert np.isfinite(result.rate_hz) and result.rate_hz > 0
    assert qnet.quantum.states.is_physical(result.density_matrix)
    # completion takes at least as long as the slowest of 512 geometric links on average:
    # E[max] >= E[single] = tau / p
    link = result.links[0]
    assert result.mean_completion_time_s > link.attempt_time_s / link.success_probability


def _read_rows(path):
    import csv

    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_chain_sweep_rows_equal_direct_chain_runs(tmp_path):
    out = tmp_path / "chain.csv"
    field = "nodes.r1.gate_fidelity,nodes.r2.gate_fidelity,nodes.r3.gate_fidelity"
    assert (
        main(
            [
                "sweep",
                CHAIN,
                "alice",
                "bob",
                "--via",
                VIA,
                "--swap-policy",
                "nested",
                "--vary",
                f"{field}=0.98:1:2",
                "-o",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    rows = _read_rows(out)
    assert [r["method"] for r in rows] == ["exact", "exact"]
    for row in rows:
        f = row["nodes.r1.gate_fidelity"]
        graph = qnet.load_network(CHAIN, [f"nodes.{n}.gate_fidelity={f}" for n in ("r1", "r2", "r3")])
        direct = simulate_path(
            graph, explicit_path(graph, ["alice", "r1", "r2", "r3", "bob"]), exact=True, swap_policy="nested"
        )
        assert float(row["fidelity"]) == pytest.approx(direct.fidelity, rel=1e-12)
        assert float(row["rate_hz"]) == pytest.approx(direct.rate_hz, rel=1e-12)
    # worse gates, worse pairs (same timing: the swap is deterministic)
    assert float(rows[0]["fidelity"]) < float(rows[1]["fidelity"])
    assert float(rows[0]["rate_hz"]) == pytest.approx(float(rows[1]["rate_hz"]), rel=1e-12)


@pytest.mark.slow
def test_seeded_monte_carlo_chain_sweep_is_the_same_serial_and_parallel(tmp_path):
    field = "nodes.r1.cutoff_s,nodes.r2.cutoff_s,nodes.r3.cutoff_s"
    common = [
        "sweep",
        CHAIN,
        "alice",
        "bob",
        "--via",
        VIA,
        "--values",
        f"{field}=0.05,0.3",
        "--samples",
        "50",
        "--seed",
        "4",
        "--no-progress",
    ]
    assert main([*common, "-o", str(tmp_path / "a.csv")]) == 0
    assert main([*common, "-o", str(tmp_path / "b.csv"), "--workers", "2"]) == 0
    a, b = _read_rows(tmp_path / "a.csv"), _read_rows(tmp_path / "b.csv")
    assert a == b and {r["method"] for r in a} == {"monte_carlo"}
    # a 50 ms cutoff (~100 attempt rounds) discards pairs: slower delivery than with 300 ms
    assert float(a[0]["rate_hz"]) < float(a[1]["rate_hz"])


def test_purified_chain_key_beats_plob_at_250_km():
    """250 km: with two memories per node and link the bound counts two channel uses per round
    (the direct link multiplexes over the same memories), so the purified chain's BB84 key
    passes it later than at 200 km (~203 km with seed 1); at 250 km it is 4x above it."""
    path = ["alice", "r1", "r2", "r3", "bob"]
    plain = qnet.load_network(CHAIN)  # one memory per link
    raw = compare_path(plain, explicit_path(plain, path), [250.0], samples=300, seed=1).rows[0]
    memories = [f"nodes.{n}.memories={2 if n in ('alice', 'bob') else 4}" for n in path]
    graph = qnet.load_network(CHAIN, memories)  # two memories per node per link, for the purification
    pur = compare_path(graph, explicit_path(graph, path), [250.0], samples=300, seed=1, purify="dejmps").rows[0]
    assert pur.chain.purify == "dejmps" and raw.chain.purify is None
    # one DEJMPS round per link lowers the end-to-end QBER enough for a key above the bound
    assert pur.chain.qber < raw.chain.qber
    assert pur.chain.bb84_key_rate_hz > pur.plob_bits_per_s > raw.chain.bb84_key_rate_hz
    # the direct link stays raw; with two memories at alice and bob it makes two attempts per round
    p = raw.direct.success_probability
    assert pur.direct.success_probability == pytest.approx(p, rel=1e-12)
    assert (raw.direct.attempts_per_round, pur.direct.attempts_per_round) == (1, 2)
    assert pur.plob_bits_per_s == pytest.approx(2 * raw.plob_bits_per_s, rel=1e-12)  # two channel uses per round
    assert pur.direct.rate_hz == pytest.approx((1 - (1 - p) ** 2) / raw.direct.attempt_time_s, rel=1e-12)


# --------------------------------------------------------------------------- CLI hardening


@pytest.mark.parametrize(
    "option, value", [("--seed", "-1"), ("--seed", "2**63"), ("--samples", "0"), ("--samples", "x")]
)
def test_seed_and_samples_are_checked_by_argparse(capsys, option, value):
    with pytest.raises(SystemExit) as exc:
        main(["chain", CHAIN, "alice", "bob", "--via", VIA, option, value, "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and "Traceback" not in err


def _compare_must_not_run(monkeypatch):
    import qnet.repeater.compare

    def boom(*args, **kwargs):
        raise AssertionError("compare_path ran before the --csv path was checked")

    monkeypatch.setattr(qnet.repeater.compare, "compare_path", boom)


def test_compare_csv_in_a_missing_folder_fails_before_computing(capsys, tmp_path, monkeypatch):
    _compare_must_not_run(monkeypatch)
    target = tmp_path / "nodir" / "c.csv"
    assert main(["compare", CHAIN, "alice", "bob", "--via", VIA, "--csv", str(target), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qnet: error: --csv") and "does not exist" in err and err.count("\n") == 1


def test_compare_csv_is_not_overwritten_silently(capsys, tmp_path, monkeypatch):
    target = tmp_path / "c.csv"
    target.write_text("keep me\n")
    with monkeypatch.context() as m:
        _compare_must_not_run(m)
        assert main(["compare", CHAIN, "alice", "bob", "--via", VIA, "--csv", str(target), "--no-progress"]) == 2
    assert "--overwrite" in capsys.readouterr().err and target.read_text() == "keep me\n"
    args = ["compare", CHAIN, "alice", "bob", "--via", VIA, "--distances", "100", "--samples", "20", "--seed", "1"]
    assert main([*args, "--csv", str(target), "--overwrite", "--no-progress"]) == 0
    header = target.read_text().splitlines()[0].split(",")
    assert header[:2] == ["total_km", "fibre_transmission"] and "direct_diqkd_key_rate_hz" in header
    assert "chain_entangled" in header and "direct_attempts_per_round" in header


def test_an_exact_compare_too_large_for_the_grid_is_refused_in_one_line(capsys):
    """1e6 km: the direct-link-free chain's links herald from dark counts (p ~ 2e-6 per round),
    which needs ~1.4e7 rounds for the exact tail: refused before any grid is allocated."""
    args = ["compare", CHAIN, "alice", "bob", "--via", VIA, "--swap-policy", "nested", "--exact", "--distances", "1e6"]
    assert main([*args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "total distance 1e+06 km (--distances)" in err and "max_rounds = 1048576" in err
    assert "drop --exact" in err and err.count("\n") == 1


def test_a_chain_that_delivers_no_entanglement_says_so(capsys):
    """Dark counts at p_dc = 0.3 per attempt: the heralded pair is separable (PPT), said in plain words."""
    args = ["chain", CHAIN, "alice", "r1", "--exact", "--set", "nodes.s1.dark_count_probability=0.3"]
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "NO  the delivered pair is not entangled" in table
    out = cli_json(capsys, *args)
    assert out["entangled"] is False and out["fidelity"] <= 0.5
    # an independent PPT check of the same state (Python API): the partial transpose is >= 0
    res = simulate_path(qnet.load_network(CHAIN, ["nodes.s1.dark_count_probability=0.3"]), ["alice", "r1"], exact=True)
    rho = res.density_matrix
    pt = np.array([[rho[2 * a + d, 2 * c + b] for c in range(2) for d in range(2)] for a in range(2) for b in range(2)])
    assert np.linalg.eigvalsh(pt).min() > -1e-12


def test_twirl_flags_reach_purify_and_chain(capsys):
    mem = ["--set", "nodes.alice.memories=2", "--set", "nodes.r1.memories=2"]
    base = ["purify", CHAIN, "alice", "r1", "--purify", "bbpssw", *mem]
    on, off = cli_json(capsys, *base), cli_json(capsys, *base, "--no-twirl")
    assert (on["twirl"], off["twirl"]) == (True, False)
    # same round, same fidelity out of it; the kept pair then dephases for t_c, which treats the
    # Werner and the Bell-diagonal output slightly differently (1e-7 here), hence the tolerance
    assert on["fidelity"] == pytest.approx(off["fidelity"], rel=1e-5)
    assert on["rate_hz"] == pytest.approx(off["rate_hz"], rel=1e-12)
    assert on["qber"] != pytest.approx(off["qber"], rel=1e-6)  # Werner vs Bell-diagonal output
    assert cli_json(capsys, "purify", CHAIN, "alice", "r1", *mem)["twirl"] is None  # DEJMPS: not applicable
    chain = [
        "chain",
        CHAIN,
        "alice",
        "r1",
        "--purify",
        "bbpssw",
        *mem,
        "--samples",
        "50",
        "--seed",
        "2",
        "--no-progress",
    ]
    c_on, c_off = cli_json(capsys, *chain), cli_json(capsys, *chain, "--no-twirl")
    assert c_on["fidelity"] == pytest.approx(c_off["fidelity"], rel=1e-4)
    assert c_on["qber"] != pytest.approx(c_off["qber"], rel=1e-6)
