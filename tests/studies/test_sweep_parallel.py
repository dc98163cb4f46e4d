"""Parallel sweeps: chunks written in grid order as they finish out of order, the main process helping while workers start."""

from __future__ import annotations

import csv
import os
import tomllib
from pathlib import Path

import pytest

from qnet.studies.sweep import Evaluator, LinkEvaluator, parse_values, parse_vary, run_sweep
from qnet.studies.sweep import executors, runner

ROOT = Path(__file__).resolve().parents[2]
LIU = ROOT / "examples" / "liu2026_ion_link.toml"
ARMS = "fibres.alice-station.length_km,fibres.station-bob.length_km"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


class Square(Evaluator):
    """y = x^2, and the process that computed it."""

    columns = ("y", "pid")

    def evaluate(self, points):
        return [{"y": p["nodes.a.t2_s"] ** 2, "pid": float(os.getpid()), "error": ""} for p in points]


class ReversedExecutor(executors.Executor):
    """Finishes every chunk, then hands them over last first (the worst order for the writer)."""

    def __init__(self, evaluator, fields, chunks, **_):
        self.done = [executors.evaluate_chunk(evaluator, fields, c) for c in chunks]

    def __iter__(self):
        return iter(reversed(self.done))


def test_chunks_finishing_out_of_order_are_written_in_grid_order_without_a_rewrite(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "start_executor", ReversedExecutor)
    rewrites = []
    monkeypatch.setattr(runner, "finalize", lambda *a, **k: rewrites.append(a))
    out = tmp_path / "r.csv"
    summary = run_sweep(Square(), [parse_values("nodes.a.t2_s=1,2,3,4,5,6,7")], out, chunk_size=2, progress=False)
    assert summary.evaluated == 7 and rewrites == []  # the journal is the final table
    assert [float(r["y"]) for r in rows(out)] == [1.0, 4.0, 9.0, 16.0, 25.0, 36.0, 49.0]


class FailAfter(executors.Executor):
    """Hands over the chunks after the first, then fails: the first never arrives."""

    def __init__(self, evaluator, fields, chunks, **_):
        chunks = list(chunks)
        self.done = [executors.evaluate_chunk(evaluator, fields, c) for c in chunks[1:]]

    def __iter__(self):
        yield from self.done
        raise RuntimeError("boom")


def test_chunks_waiting_for_one_that_never_comes_are_still_written(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "start_executor", FailAfter)
    out = tmp_path / "f.csv"
    with pytest.raises(Exception, match="the 5 finished points are in"):
        run_sweep(Square(), [parse_values("nodes.a.t2_s=1,2,3,4,5,6,7")], out, chunk_size=2, progress=False)
    # the points of the missing first chunk (1, 2) are absent, the rest in grid order
    assert [float(r["y"]) for r in rows(out)] == [9.0, 16.0, 25.0, 36.0, 49.0]


def test_pooled_link_sweep_equals_serial_and_the_main_process_may_help():
    with open(LIU, "rb") as fh:
        ev = LinkEvaluator(network=tomllib.load(fh), a="alice", b="bob", link_backend="batch")
    assert ev.helps_while_workers_start and not Square().helps_while_workers_start
    axes = [parse_vary(f"{ARMS}=1:60:30")]
    fields = (ARMS.split(",")[0], ARMS.split(",")[1])
    chunks = [([i], [(v, v)]) for i, v in enumerate(axes[0].values)]
    pool = executors.start_executor(ev.for_parallel(), fields, iter(chunks), workers=2)
    try:
        got = {indices[0]: r[0] for indices, r in pool}
    finally:
        pool.close()
    want = {idx[0]: ev.evaluate([dict(zip(fields, p[0]))])[0] for idx, p in chunks}
    assert got.keys() == want.keys()
    for i in want:
        assert got[i]["fidelity"] == pytest.approx(want[i]["fidelity"], rel=1e-12)


def test_an_evaluator_that_does_not_help_runs_only_in_workers(tmp_path):
    out = tmp_path / "w.csv"
    run_sweep(Square(), [parse_values("nodes.a.t2_s=1,2,3,4,5,6,7,8")], out, chunk_size=1, workers=2, progress=False)
    got = rows(out)
    assert [float(r["y"]) for r in got] == [float(x * x) for x in range(1, 9)]
    assert os.getpid() not in {int(float(r["pid"])) for r in got}


class HelpingSquare(Square):
    helps_while_workers_start = True


def test_a_short_sweep_starts_no_worker(tmp_path):
    """The first chunk shows the rest is quicker done here than starting a worker (executors.WORKER_START_S)."""
    out = tmp_path / "s.csv"
    run_sweep(
        HelpingSquare(), [parse_values("nodes.a.t2_s=1,2,3,4,5,6,7,8")], out, chunk_size=2, workers=2, progress=False
    )
    got = rows(out)
    assert [float(r["y"]) for r in got] == [float(x * x) for x in range(1, 9)]
    assert {int(float(r["pid"])) for r in got} == {os.getpid()}


def test_workers_counts_the_processes_evaluating_at_once():
    """A helping evaluator's pool starts workers - 1 processes (this one is the last); another starts workers."""
    fields = ("nodes.a.t2_s",)
    for evaluator, workers, spawned in ((HelpingSquare(), 2, 1), (HelpingSquare(), 3, 2), (Square(), 2, 2)):
        pool = executors.start_executor(evaluator, fields, iter([]), workers=workers)
        try:
            assert pool.spawned == spawned and pool.executor._max_workers == spawned
        finally:
            pool.close()


class SlowHelpingSquare(HelpingSquare):
    """Chunks of 20 ms: long enough that the pool starts its workers (with WORKER_START_S = 0)."""

    def evaluate(self, points):
        import time

        time.sleep(0.02)
        return super().evaluate(points)


def test_a_helping_sweep_on_two_workers_runs_in_at_most_two_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "WORKER_START_S", 0.0)
    out = tmp_path / "h.csv"
    values = ",".join(str(x) for x in range(1, 101))
    run_sweep(
        SlowHelpingSquare(), [parse_values(f"nodes.a.t2_s={values}")], out, chunk_size=1, workers=2, progress=False
    )
    got = rows(out)
    assert [float(r["y"]) for r in got] == [float(x * x) for x in range(1, 101)]
    pids = {int(float(r["pid"])) for r in got}
    assert os.getpid() in pids and len(pids) <= 2


class VouchedSquare(HelpingSquare):
    """Claims at least 1 s per point: any sweep of it is long enough to start workers at once."""

    min_seconds_per_point = 1.0


@pytest.mark.parametrize("evaluator, started", [(HelpingSquare(), False), (VouchedSquare(), True)])
def test_workers_start_before_the_first_chunk_only_when_the_evaluator_vouches(evaluator, started):
    fields = ("nodes.a.t2_s",)
    chunks = [([i], [(float(i),)]) for i in range(4)]
    pool = executors.start_executor(evaluator, fields, iter(chunks), workers=2, points=4)
    try:
        rows_ = list(pool)  # instant chunks: without the claim the first one shows workers do not pay
        assert sorted((r[0][0], r[1][0]["y"]) for r in rows_) == [(0, 0.0), (1, 1.0), (2, 4.0), (3, 9.0)]
        assert bool(pool.starting or pool.pending) == started
    finally:
        pool.close()


@pytest.mark.parametrize(
    "left, pending, starting, asked", [(100, 0, 0, 2), (100, 1, 0, 1), (30, 0, 0, 1), (30, 1, 0, 0), (100, 0, 1, 0)]
)
def test_a_helping_pool_keeps_two_chunks_per_worker_in_flight_until_the_end_is_near(left, pending, starting, asked):
    """One worker (workers=2, helping), chunks of 10: two in flight while more than 2 x 2 x 10 points are left."""
    pool = executors.start_executor(HelpingSquare(), ("nodes.a.t2_s",), iter([]), workers=2, points=1000)
    try:
        pool.left, pool.chunk_points = left, 10
        pool.pending, pool.starting = set(range(pending)), set(range(starting))
        submitted = []
        pool._submit = submitted.append
        pool._top_up()
        assert submitted == [asked]
    finally:
        pool.pending, pool.starting = set(), set()
        pool.close()


def test_idle_workers_are_stopped_at_once_when_the_pool_closes():
    """Every chunk back, no chunk running: close() terminates the workers instead of waiting for them to wind down."""
    import signal

    pool = executors.start_executor(
        Square(), ("nodes.a.t2_s",), iter([([i], [(float(i),)]) for i in range(6)]), workers=2
    )
    try:
        got = sorted((positions[0], rows_[0]["y"]) for positions, rows_ in pool)
        processes = list(pool.executor._processes.values())
    finally:
        pool.close()
    assert got == [(i, float(i * i)) for i in range(6)]
    assert processes and all(p.exitcode == -signal.SIGTERM for p in processes)
