"""`qnet sweep --profile` and qnet.studies.sweep.profile: the stage table and its JSON (structure, sums; no timing thresholds)."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import pytest

from qnet.cli import main
from qnet.studies.sweep import Evaluator, LinkEvaluator, parse_values, parse_vary, run_sweep
from qnet.studies.sweep.profile import STAGE_LABELS, StageTimes, SweepProfile, record, stage_clock

ROOT = Path(__file__).resolve().parents[2]
LIU = str(ROOT / "examples" / "liu2026_ion_link.toml")
ARMS = "fibres.alice-station.length_km,fibres.station-bob.length_km"
LINK_STAGES = {"spec", "compile", "run", "figures", "evaluate"}


def _check_profile(profile: dict, points: int, workers: int) -> dict[tuple[str, str], float]:
    """The JSON profile's invariants; returns {(where, stage): seconds}."""
    assert profile["points"] == points and profile["workers"] == workers
    stages = {(s["where"], s["stage"]): s["seconds"] for s in profile["stages"]}
    assert len(stages) == len(profile["stages"])  # no stage listed twice
    assert all(s >= 0 and math.isfinite(s) for s in stages.values())
    assert {stage for _, stage in stages} <= set(STAGE_LABELS)
    for s in profile["stages"]:
        assert s["us_per_point"] == pytest.approx(s["seconds"] / points * 1e6)
    main_sum = sum(s for (where, _), s in stages.items() if where == "main")
    # the main process's stages partition its wall time (wait is what no stage claims)
    assert main_sum == pytest.approx(profile["total_s"], rel=1e-9, abs=1e-9)
    assert profile["workers_total_s"] == pytest.approx(sum(s for (w, _), s in stages.items() if w == "workers"))
    return stages


@pytest.mark.parametrize("engine", ["batch", "aer"])
def test_cli_profile_prints_the_stages_and_records_them(tmp_path, capsys, engine):
    out = tmp_path / "p.csv"
    code = main(
        [
            "sweep",
            LIU,
            "alice",
            "bob",
            "-o",
            str(out),
            "--no-progress",
            "--link-backend",
            engine,
            "--profile",
            "--vary",
            f"{ARMS}=1:40:12",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert err.startswith("qnet sweep profile: 12 points, 1 process")
    for stage in ("setup", "spec", "compile", "run", "figures", "write", "finish", "wait"):
        assert STAGE_LABELS[stage] in err
    meta = json.loads(out.with_name("p.csv.meta.json").read_text())
    stages = _check_profile(meta["runs"][-1]["profile"], 12, 1)
    # serial: every stage ran in this process, the evaluator's stages among them
    assert {stage for where, stage in stages if where == "main"} >= LINK_STAGES | {
        "setup",
        "prepare",
        "write",
        "finish",
    }
    assert not any(where == "workers" for where, _ in stages)
    # the table's total line is the JSON total
    total_line = next(line for line in err.splitlines() if "total (main process)" in line)
    assert float(total_line.split()[-1]) == pytest.approx(meta["runs"][-1]["profile"]["total_s"], abs=6e-4)


def test_profile_with_workers_splits_main_and_worker_stages(tmp_path):
    with open(LIU, "rb") as fh:
        ev = LinkEvaluator(network=tomllib.load(fh), a="alice", b="bob", link_backend="batch")
    out = tmp_path / "w.csv"
    summary = run_sweep(
        ev, [parse_vary(f"{ARMS}=1:40:40")], out, workers=2, chunk_size=10, progress=False, profile=True
    )
    profile = summary.profile.to_dict()
    stages = _check_profile(profile, 40, 2)
    # the main process evaluates chunks itself until the workers are up (how many: a race)
    in_workers = {stage for where, stage in stages if where == "workers"}
    in_main = {stage for where, stage in stages if where == "main"}
    assert in_workers <= LINK_STAGES and LINK_STAGES <= in_workers | in_main
    assert in_main >= {"prepare", "write", "wait"}
    recorded = json.loads(out.with_name("w.csv.meta.json").read_text())["runs"][-1]["profile"]
    _check_profile(recorded, 40, 2)


def test_no_profile_unless_asked(tmp_path):
    with open(LIU, "rb") as fh:
        ev = LinkEvaluator(network=tomllib.load(fh), a="alice", b="bob", link_backend="batch")
    out = tmp_path / "n.csv"
    summary = run_sweep(ev, [parse_values(f"{ARMS}=1,2")], out, progress=False)
    assert summary.profile is None
    assert "profile" not in json.loads(out.with_name("n.csv.meta.json").read_text())["runs"][-1]


def test_an_evaluator_without_stages_is_one_evaluate_stage(tmp_path):
    class Plain(Evaluator):
        columns = ("y",)

        def evaluate(self, points):
            return [{"y": 1.0, "error": ""} for _ in points]

    summary = run_sweep(Plain(), [parse_values("nodes.a.t2_s=1,2,3")], tmp_path / "e.csv", progress=False, profile=True)
    stages = _check_profile(summary.profile.to_dict(), 3, 1)
    assert {stage for _, stage in stages} & LINK_STAGES == {"evaluate"}


def test_stage_clock_charges_the_time_between_calls_to_each_stage():
    ticks = iter([10.0, 10.5, 12.0])
    times = StageTimes()
    import qnet.studies.sweep.profile as profile_module

    real = profile_module.time.perf_counter
    profile_module.time.perf_counter = lambda: next(ticks)
    try:
        with record(times):
            clock = stage_clock()  # starts at 10.0
            clock("spec")  # 10.5
            clock("run")  # 12.0
    finally:
        profile_module.time.perf_counter = real
    assert times.seconds == {"spec": 0.5, "run": 1.5}
    assert stage_clock()("spec") is None  # not recording: does nothing


def test_table_shares_and_totals():
    p = SweepProfile(4.0, 2000, 2, {"setup": 1.0, "wait": 3.0}, {"run": 5.0, "spec": 1.0})
    lines = p.format_table().splitlines()
    assert lines[0] == "qnet sweep profile: 2000 points, 2 processes, 4.00 s wall"
    setup = next(line for line in lines if STAGE_LABELS["setup"] in line)
    assert setup.split()[-3:] == ["1.000", "25%", "500.0"]
    assert [line.split()[-1] for line in lines[-2:]] == ["4.000", "6.000"]
    # stages in the documented order within each process
    order = [s["stage"] for s in p.to_dict()["stages"]]
    assert order == ["setup", "wait", "spec", "run"]
