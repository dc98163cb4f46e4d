"""Traffic sweeps: one run per point through the sweep machinery (serial, workers, replications)."""

from __future__ import annotations

import csv

import pytest

from qnet.cli import main
from qnet.repeater.traffic import TrafficResult, simulate_traffic
from qnet.network.io import load_network

NET = "examples/metro_ion_network.toml"
REQ = "examples/requests/metro.toml"


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_replications_serial_and_workers_agree_and_match_direct_runs(tmp_path, capsys):
    common = [
        NET,
        "--traffic",
        REQ,
        "--duration",
        "20",
        "--values",
        "nodes.campus.memories=3,6",
        "--replications",
        "2",
        "--seed",
        "5",
        "--link-backend",
        "batch",
        "--no-progress",
    ]
    assert main(["sweep", *common, "-o", str(tmp_path / "a.csv")]) == 0
    assert main(["sweep", *common, "-o", str(tmp_path / "b.csv"), "--workers", "2"]) == 0
    a, b = _rows(tmp_path / "a.csv"), _rows(tmp_path / "b.csv")
    assert [r["seed"] for r in a] == ["5", "6", "5", "6"]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "sweep_id"} for r in rows]  # noqa: E731
    assert strip(a) == strip(b)
    # a row is the run `qnet traffic --seed S` makes with that point's values
    from qnet.repeater.traffic import read_requests

    graph = load_network(NET, overrides=["nodes.campus.memories=6"])
    direct = TrafficResult.from_run(
        simulate_traffic(graph, read_requests(REQ), duration_s=20.0, seed=6, link_backend="batch")
    )
    row = a[3]
    assert int(row["r1_delivered"]) == direct.requests[1].delivered
    assert float(row["total_rate_hz"]) == pytest.approx(direct.total_rate_hz, rel=1e-12)


@pytest.mark.parametrize(
    "args,message",
    [
        ([NET, "--traffic", REQ], "--traffic needs --duration"),
        ([NET, "campus", "north", "--traffic", REQ, "--duration", "5"], "give no A B"),
        ([NET, "--duration", "5"], "needs A and B"),
        ([NET, "campus", "north", "--replications", "3"], "seed axis"),
        ([NET, "campus", "north", "--values", "seed=1,2"], "seed axis"),
    ],
)
def test_bad_traffic_sweeps_are_one_line(tmp_path, capsys, args, message):
    assert main(["sweep", *args, "-o", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "x.csv").exists()


def test_chain_sweep_seed_axis_sets_the_seed(tmp_path):
    from qnet.repeater.path import simulate_path

    out = tmp_path / "c.csv"
    assert (
        main(
            [
                "sweep",
                "examples/ion_repeater_chain.toml",
                "alice",
                "r3",
                "--chain",
                "--samples",
                "20",
                "--values",
                "seed=3,4",
                "-o",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    rows = _rows(out)
    graph = load_network("examples/ion_repeater_chain.toml")
    assert [row["seed"] for row in rows] == ["3", "4"] and {row["method"] for row in rows} == {"monte_carlo"}
    for row in rows:
        r = simulate_path(graph, ["alice", "r1", "r2", "r3"], samples=20, seed=int(row["seed"]))
        assert float(row["fidelity"]) == pytest.approx(r.fidelity, rel=1e-12)
