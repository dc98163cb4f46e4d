"""`qnet sweep` and qnet.studies.sweep: grid, output table, engines, workers, Dask, resume, errors."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

import qnet
from qnet.studies import sweep
from qnet.studies.sweep.table import canonical
from qnet.cli import main
from qnet.link.results import LINK_FIELDS
from qnet.studies.progress import Progress
from qnet.studies.sweep import Axis, Evaluator, LinkEvaluator, WorkerDied, grid, parse_values, parse_vary, run_sweep

ROOT = Path(__file__).resolve().parents[2]
LIU = str(ROOT / "examples" / "liu2026_ion_link.toml")
LIU_DATA = tomllib.loads(Path(LIU).read_text())
ARMS = "fibres.alice-station.length_km,fibres.station-bob.length_km"
ALPHAS = "nodes.alice.bright_state_population,nodes.bob.bright_state_population"
KEY_RATE = "diqkd_key_rate_hz" if "diqkd_key_rate_hz" in LINK_FIELDS else "key_rate_hz"  # the name LINK_FIELDS uses


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def number(cell: str) -> float:
    return float(cell)


def assert_rows_close(got: list[dict[str, str]], want: list[dict[str, str]], rel: float = 1e-10, abs_: float = 1e-12):
    assert len(got) == len(want)
    assert list(got[0]) == list(want[0])
    for g, w in zip(got, want):
        for key in g:
            if key in ("error", "sweep_id"):
                assert g[key] == w[key], key
            elif key.startswith(("nodes.", "fibres.", "network.")):  # inputs: the same value
                assert canonical(g[key]) == canonical(w[key]), key
            elif g[key] == "" or math.isinf(number(w[key])):
                assert g[key] == w[key], key
            else:
                assert number(g[key]) == pytest.approx(number(w[key]), rel=rel, abs=abs_), key


def reference(rows: list[dict[str, str]], fields: list[str], overrides=()) -> list[qnet.LinkResult]:
    """qnet.run_links on the same points, built through the public API."""
    compiled = []
    for row in rows:
        sets = list(overrides) + [f"{f}={row[f]}" for f in fields]
        graph = qnet.network_from_dict(LIU_DATA, overrides=sets)
        compiled.append(qnet.compile_link(qnet.link_spec(graph, "alice", "bob")))
    return qnet.run_links(compiled)


def cli(tmp_path, *args: str, name: str = "out.csv") -> tuple[int, Path]:
    out = tmp_path / name
    code = main(["sweep", LIU, "alice", "bob", "-o", str(out), "--no-progress", *args])
    return code, out


# --------------------------------------------------------------------------- axes and grid


def test_vary_is_inclusive_linear_or_log_and_joins_fields():
    axis = parse_vary(f"{ARMS}=1:5:5")
    assert axis.fields == ("fibres.alice-station.length_km", "fibres.station-bob.length_km")
    assert axis.values == (1.0, 2.0, 3.0, 4.0, 5.0)
    log = parse_vary("nodes.alice.t2_s=0.01:100:5:log")
    assert log.values[0] == 0.01 and log.values[-1] == 100.0
    assert log.values[2] == pytest.approx(1.0, rel=1e-12)
    assert parse_vary("nodes.alice.t2_s=3:9:1").values == (3.0,)


def test_values_are_toml_values_or_bare_words():
    axis = parse_values("nodes.alice.decay,nodes.bob.decay=exponential,gaussian")
    assert axis.values == ("exponential", "gaussian") and len(axis.fields) == 2
    assert parse_values("nodes.alice.t2_s=1,inf,2.5e-3").values == (1, math.inf, 2.5e-3)


def test_grid_is_the_outer_product_last_axis_fastest():
    fields, points = grid([parse_values("nodes.alice.t2_s=1,2"), parse_values(f"{ARMS}=10,20,30")])
    assert fields == ("nodes.alice.t2_s", "fibres.alice-station.length_km", "fibres.station-bob.length_km")
    assert points == [(1, 10, 10), (1, 20, 20), (1, 30, 30), (2, 10, 10), (2, 20, 20), (2, 30, 30)]
    with pytest.raises(qnet.QnetError, match="varied by two axes"):
        grid([parse_values("nodes.alice.t2_s=1"), parse_values("nodes.alice.t2_s=2")])


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--vary", "nodes.alice.t2_s=1:2"], "START:STOP:N"),
        (["--vary", "nodes.alice.t2_s=a:2:3"], "must be numbers"),
        (["--vary", "nodes.alice.t2_s=1:2:0"], "at least 1 point"),
        (["--vary", "nodes.alice.t2_s=0:2:3:log"], "log axis"),
        (["--vary", "alice.t2_s=1:2:3"], "nodes.NAME.FIELD"),
        (["--values", "nodes.alice.t2_s=1,,2"], "no empty value"),
        (["--vary", "nodes.zed.t2_s=1:2:3"], "no node named 'zed'"),
        (["--vary", "nodes.alice.t3_s=1:2:3"], "unknown field 't3_s'"),
        (["--vary", "fibres.nope.length_km=1:2:3"], "no fibre named 'nope'"),
        (["--vary", "nodes.alice.t2_s=1:2:3", "--set", "nodes.alice.emission_efficiency=2"], "emission_efficiency = 2"),
        (["--values", "nodes.alice.t2_s=1", "--format", "csv", "--workers", "0"], "workers = 0"),
    ],
)
def test_bad_requests_are_one_line_errors(tmp_path, capsys, args, needle):
    code, out = cli(tmp_path, *args)
    assert code == 2
    err = capsys.readouterr().err
    assert needle in err and err.startswith("qnet: error: ") and err.count("\n") == 1
    assert not out.exists()


# --------------------------------------------------------------------------- the table


def test_cli_sweep_matches_run_links_and_writes_metadata(tmp_path):
    code, out = cli(
        tmp_path, "--vary", f"{ARMS}=0.5:40:3", "--values", "nodes.alice.t2_s=0.5,inf", "--set", "nodes.bob.t2_s=2.0"
    )
    assert code == 0
    rows = read_csv(out)
    fields = ["fibres.alice-station.length_km", "fibres.station-bob.length_km", "nodes.alice.t2_s"]
    assert list(rows[0]) == fields + list(LINK_FIELDS) + list(sweep.LINK_EXTRA_COLUMNS) + ["error", "sweep_id"]
    assert [(r[fields[0]], r[fields[2]]) for r in rows] == [
        ("0.5", "0.5"),
        ("0.5", "inf"),
        ("20.25", "0.5"),
        ("20.25", "inf"),
        ("40.0", "0.5"),
        ("40.0", "inf"),
    ]
    for row, want in zip(rows, reference(rows, fields, ["nodes.bob.t2_s=2.0"])):
        assert row["error"] == ""
        for name in LINK_FIELDS:
            assert float(row[name]) == pytest.approx(getattr(want, name), rel=1e-12, abs=1e-14), name
        total = 2 * float(row[fields[0]])
        eta = 10 ** (-0.2 * total / 10)  # both fibres 0.2 dB/km
        assert float(row["total_length_km"]) == pytest.approx(total, rel=1e-12)
        assert float(row["fibre_transmission"]) == pytest.approx(eta, rel=1e-12)
        assert float(row["plob_bits_per_s"]) == pytest.approx(-math.log2(1 - eta) / want.attempt_time_s, rel=1e-12)
    meta = json.loads(Path(str(out) + ".meta.json").read_text())
    assert meta["network_sha256"] == hashlib.sha256(Path(LIU).read_bytes()).hexdigest()
    assert meta["set"] == ["nodes.bob.t2_s=2.0"] and meta["vary"] == [f"{ARMS}=0.5:40:3"]
    assert meta["values"] == ["nodes.alice.t2_s=0.5,inf"] and meta["seed"] is None
    assert meta["columns"] == list(rows[0])
    assert {r["sweep_id"] for r in rows} == {meta["sweep_id"]} == {sweep.sweep_id(meta["evaluator"])}
    run = meta["runs"][-1]
    assert run["link_backend"] == "aer" and run["workers"] == 1 and run["status"] == "complete"
    assert run["started"] <= run["finished"] and run["points_evaluated"] == 6
    assert set(run["versions"]) >= {"qnet", "qiskit", "qiskit-aer", "numpy", "python"}


def test_failed_points_are_rows_with_their_error(tmp_path):
    code, out = cli(
        tmp_path,
        "--values",
        "nodes.alice.emission_efficiency,nodes.bob.emission_efficiency=0.5,1.5,0.0,0.7",
        "--set",
        "nodes.station.dark_count_probability=0",
    )
    assert code == 0
    rows = read_csv(out)
    assert [r["error"] == "" for r in rows] == [True, False, False, True]
    assert "nodes.alice.emission_efficiency = 1.5 is invalid" in rows[1]["error"]
    assert "never heralds" in rows[2]["error"]
    assert all(rows[i][name] == "" for i in (1, 2) for name in LINK_FIELDS + sweep.LINK_EXTRA_COLUMNS)
    meta = json.loads(Path(str(out) + ".meta.json").read_text())
    assert meta["runs"][-1]["errors"] == 2


def test_batch_engine_sweep_equals_aer(tmp_path, monkeypatch):
    from qnet.link import batch

    simulated = []
    real = batch.density_matrices
    monkeypatch.setattr(batch, "density_matrices", lambda circuits: simulated.append(len(circuits)) or real(circuits))
    columns = batch.density_stack_columns  # the chunk path of the batch engine (qnet.studies.sweep.linkcolumns)
    monkeypatch.setattr(batch, "density_stack_columns", lambda *args: simulated.append(args[3]) or columns(*args))
    axes = [
        "--vary",
        f"{ARMS}=0.5:60:6",
        "--vary",
        f"{ALPHAS}=0.02:0.3:4",
        "--values",
        "nodes.station.dark_count_probability=0,0.01",
    ]
    assert cli(tmp_path, *axes, name="aer.csv")[0] == 0
    assert cli(tmp_path, *axes, "--link-backend", "batch", name="batch.csv")[0] == 0
    assert sum(simulated) == 48  # every point went through the batch engine (no cached Aer row)
    assert_rows_close(read_csv(tmp_path / "batch.csv"), read_csv(tmp_path / "aer.csv"))
    meta = json.loads((tmp_path / "batch.csv.meta.json").read_text())
    assert meta["runs"][-1]["link_backend"] == "batch"


def test_identical_points_are_compiled_and_run_once(monkeypatch):
    import qnet.link.circuit

    calls = []
    real = qnet.link.circuit.compile_link
    monkeypatch.setattr(qnet.link.circuit, "compile_link", lambda spec, **kw: calls.append(spec) or real(spec, **kw))
    sweep.clear_cache()
    ev = LinkEvaluator(network=LIU_DATA, a="alice", b="bob")
    # 2.0 and 2 are the same length; the t2 values differ only at a point that never matters
    points = [{"fibres.alice-station.length_km": v} for v in (2.0, 2, 3.0, 2.0)]
    rows = ev.evaluate(points)
    assert len(calls) == 2
    assert rows[0] == rows[1] == rows[3] and rows[0] != rows[2]
    ev.evaluate(points[:1])  # remembered across chunks
    assert len(calls) == 2
    sweep.clear_cache()


def test_numpy_axis_values_and_the_python_api(tmp_path):
    np = pytest.importorskip("numpy")
    ev = LinkEvaluator(network=LIU_DATA, a="alice", b="bob", link_backend="batch")
    axes = [
        Axis((ARMS.split(",")[0],), tuple(np.linspace(1.0, 9.0, 5))),
        Axis(("nodes.alice.memories",), (np.int64(1),)),
    ]
    summary = run_sweep(ev, axes, tmp_path / "np.csv", progress=False)
    assert (summary.points, summary.evaluated, summary.errors, summary.status) == (5, 5, 0, "complete")
    rows = read_csv(tmp_path / "np.csv")
    assert [r["fibres.alice-station.length_km"] for r in rows] == ["1.0", "3.0", "5.0", "7.0", "9.0"]
    assert [r["nodes.alice.memories"] for r in rows] == ["1"] * 5
    again = run_sweep(ev, axes, tmp_path / "np.csv", resume=True, progress=False)
    assert (again.skipped, again.evaluated) == (5, 0)


def test_parquet_output_has_typed_columns(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    args = [
        "--values",
        "nodes.alice.decay,nodes.bob.decay=exponential,gaussian",
        "--values",
        "nodes.alice.emission_efficiency=0.05,2",
    ]
    assert cli(tmp_path, *args, name="t.csv")[0] == 0
    assert cli(tmp_path, *args, name="t.parquet")[0] == 0
    assert not (tmp_path / "t.parquet.partial.csv").exists()
    table = pq.read_table(tmp_path / "t.parquet")
    assert str(table.schema.field("nodes.alice.decay").type) == "string"
    assert str(table.schema.field("fidelity").type) == "double"
    assert str(table.schema.field("error").type) == "string"
    header, rows = sweep.read_table(tmp_path / "t.parquet")
    as_dicts = [dict(zip(header, r)) for r in rows]
    assert_rows_close(as_dicts, read_csv(tmp_path / "t.csv"), rel=0, abs_=0)
    assert table.column("error").to_pylist()[0] is None


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    code, out = cli(tmp_path, "--values", "nodes.alice.t2_s=1", "--format", "parquet")
    assert code == 2
    assert "needs pyarrow" in capsys.readouterr().err
    assert not out.exists()


def test_an_existing_output_needs_resume_or_overwrite(tmp_path, capsys):
    assert cli(tmp_path, "--values", "nodes.alice.t2_s=1,2")[0] == 0
    assert cli(tmp_path, "--values", "nodes.alice.t2_s=1,2")[0] == 2
    assert "--resume" in capsys.readouterr().err
    assert cli(tmp_path, "--values", "nodes.alice.t2_s=3", "--overwrite")[0] == 0
    assert [r["nodes.alice.t2_s"] for r in read_csv(tmp_path / "out.csv")] == ["3"]


# --------------------------------------------------------------------------- nothing lost


class InterruptAfter(Evaluator):
    """An evaluator that behaves like ``inner`` and raises KeyboardInterrupt on chunk ``n``."""

    def __init__(self, inner, n):
        self.inner, self.n, self.calls = inner, n, 0
        self.columns, self.chunk_size = inner.columns, inner.chunk_size

    def describe(self):
        return self.inner.describe()

    def evaluate(self, points):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.inner.evaluate(points)


AXES = [parse_vary(f"{ARMS}=1:30:6"), parse_values("nodes.alice.emission_efficiency=0.05,0.5,1.5")]


def test_interrupted_sweep_keeps_finished_chunks_and_resume_completes_it(tmp_path):
    ev = LinkEvaluator(network=LIU_DATA, a="alice", b="bob")
    full = run_sweep(ev, AXES, tmp_path / "full.csv", chunk_size=4, progress=False)
    assert full.evaluated == 18 and full.errors == 6
    with pytest.raises(KeyboardInterrupt):
        run_sweep(InterruptAfter(ev, 3), AXES, tmp_path / "cut.csv", chunk_size=4, progress=False)
    assert len(read_csv(tmp_path / "cut.csv")) == 8  # two finished chunks, on disk
    meta = json.loads((tmp_path / "cut.csv.meta.json").read_text())
    assert meta["runs"][-1]["status"] == "interrupted"
    resumed = run_sweep(ev, AXES, tmp_path / "cut.csv", chunk_size=4, resume=True, progress=False)
    assert (resumed.skipped, resumed.evaluated) == (8, 10)
    assert (tmp_path / "cut.csv").read_text() == (tmp_path / "full.csv").read_text()
    assert [r["status"] for r in json.loads((tmp_path / "cut.csv.meta.json").read_text())["runs"]] == [
        "interrupted",
        "complete",
    ]


def test_resume_can_retry_errors_and_refuses_another_network(tmp_path, capsys):
    args = ["--values", "nodes.alice.emission_efficiency=0.05,1.5"]
    assert cli(tmp_path, *args)[0] == 0
    assert cli(tmp_path, *args, "--resume", "--retry-errors")[0] == 0
    rows = read_csv(tmp_path / "out.csv")
    assert len(rows) == 2 and rows[1]["error"]
    assert cli(tmp_path, *args, "--resume", "--set", "nodes.bob.t2_s=3")[0] == 2
    assert "different network, link or --set" in capsys.readouterr().err
    assert cli(tmp_path, "--values", "nodes.alice.t2_s=1", "--resume")[0] == 2
    assert "columns" in capsys.readouterr().err


@pytest.mark.slow
def test_sweep_killed_in_a_subprocess_then_resumed_equals_an_uninterrupted_one(tmp_path):
    args = [
        "--vary",
        f"{ARMS}=0.5:50:60",
        "--vary",
        f"{ALPHAS}=0.02:0.3:60",
        "--link-backend",
        "batch",
        "--no-progress",
    ]
    out = tmp_path / "killed.csv"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(  # small chunks: a slow sweep, killed once two chunks are on disk
        [sys.executable, "-m", "qnet", "sweep", LIU, "alice", "bob", "-o", str(out), *args, "--chunk-size", "3"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 7:  # header + two chunks
            break
        time.sleep(0.01)
    assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.stderr.read()!r}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    done = read_csv(out)  # a half-written last line is not a row
    assert 6 <= len(done) < 3600
    assert all(r["error"] == "" and r[KEY_RATE] != "" for r in done)
    assert main(["sweep", LIU, "alice", "bob", "-o", str(out), "--resume", *args]) == 0
    assert main(["sweep", LIU, "alice", "bob", "-o", str(tmp_path / "whole.csv"), *args]) == 0
    assert_rows_close(read_csv(out), read_csv(tmp_path / "whole.csv"))


# --------------------------------------------------------------------------- parallel


class ExitOnPoint(Evaluator):
    """Kills its worker process (os._exit) when it meets the given length; else like ``inner``."""

    def __init__(self, inner, length):
        self.inner, self.length = inner, length
        self.columns, self.chunk_size = inner.columns, inner.chunk_size

    def describe(self):
        return self.inner.describe()

    def for_parallel(self):
        return ExitOnPoint(self.inner.for_parallel(), self.length)

    def evaluate(self, points):
        if any(p["fibres.alice-station.length_km"] == self.length for p in points):
            os._exit(3)
        return self.inner.evaluate(points)


@pytest.mark.slow
def test_worker_processes_equal_serial_and_a_killed_worker_loses_nothing(tmp_path):
    ev = LinkEvaluator(network=LIU_DATA, a="alice", b="bob")
    axes = [parse_vary(f"{ARMS}=1:40:12"), parse_values("nodes.alice.t2_s=0.5,1.0,inf")]
    serial = run_sweep(ev, axes, tmp_path / "serial.csv", chunk_size=3, progress=False)
    pooled = run_sweep(ev, axes, tmp_path / "pool.csv", chunk_size=3, workers=2, progress=False)
    assert pooled.evaluated == serial.evaluated == 36
    assert_rows_close(read_csv(tmp_path / "pool.csv"), read_csv(tmp_path / "serial.csv"))
    meta = json.loads((tmp_path / "pool.csv.meta.json").read_text())
    assert meta["runs"][-1]["workers"] == 2

    with pytest.raises(WorkerDied, match="--resume"):
        run_sweep(ExitOnPoint(ev, 40.0), axes, tmp_path / "died.csv", chunk_size=3, workers=2, progress=False)
    done = read_csv(tmp_path / "died.csv")
    assert 0 < len(done) < 36 and all(r["error"] == "" for r in done)
    assert all(float(r["fibres.alice-station.length_km"]) < 40.0 for r in done)
    run_sweep(ev, axes, tmp_path / "died.csv", chunk_size=3, resume=True, progress=False)
    assert_rows_close(read_csv(tmp_path / "died.csv"), read_csv(tmp_path / "serial.csv"))


@pytest.mark.slow
def test_dask_cluster_sweep_equals_the_local_one(tmp_path):
    distributed = pytest.importorskip("distributed")
    ev = LinkEvaluator(network=LIU_DATA, a="alice", b="bob")
    axes = [parse_vary(f"{ARMS}=1:40:8"), parse_values("nodes.alice.emission_efficiency=0.05,1.5")]
    run_sweep(ev, axes, tmp_path / "local.csv", chunk_size=4, progress=False)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        # an address, as `qnet sweep --dask ADDRESS` gives it (qnet connects and disconnects) ...
        code = main(
            [
                "sweep",
                LIU,
                "alice",
                "bob",
                "-o",
                str(tmp_path / "dask.csv"),
                "--no-progress",
                "--chunk-size",
                "4",
                "--dask",
                cluster.scheduler_address,
                "--vary",
                f"{ARMS}=1:40:8",
                "--values",
                "nodes.alice.emission_efficiency=0.05,1.5",
            ]
        )
        assert code == 0
        # ... or a Client of the caller's (left open)
        with distributed.Client(cluster) as client:
            summary = run_sweep(ev, axes, tmp_path / "client.csv", chunk_size=4, dask=client, progress=False)
            assert client.status == "running"
    assert summary.evaluated == 16
    local = read_csv(tmp_path / "local.csv")
    assert_rows_close(read_csv(tmp_path / "dask.csv"), local)
    assert_rows_close(read_csv(tmp_path / "client.csv"), local)
    meta = json.loads((tmp_path / "dask.csv.meta.json").read_text())
    assert meta["runs"][-1]["dask"] == cluster.scheduler_address


# --------------------------------------------------------------------------- progress and CLI


class FakeStream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_redraws_on_a_tty_and_logs_plain_lines_otherwise():
    tty = FakeStream(True)
    bar = Progress(100, 20, stream=tty, label="qnet sweep", unit="points")
    bar.update(30, 2)
    bar.last = 0.0  # force a redraw
    bar.update(10)
    bar.close()
    text = tty.getvalue()
    assert text.startswith("\r") and "\x1b[K" in text and text.endswith("\n")
    assert "60/100 points (60.0%)" in text and "2 errors" in text and "ETA" in text

    log = FakeStream(False)
    bar = Progress(10, stream=log, interval=0.0, label="qnet sweep", unit="points")
    bar.update(5)
    bar.update(5)
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in log.getvalue()
    assert lines[-1].startswith("qnet sweep: 10/10 points (100.0%)")


def test_sweep_is_a_qnet_command_that_imports_nothing_heavy():
    code = (
        "import sys, qnet.cli.app; p = qnet.cli.app.build_parser(); "
        "a = p.parse_args(['sweep', 'n.toml', 'a', 'b', '--vary', 'nodes.a.t2_s=1:2:3', '--values', 'nodes.a.t1_s=1']); "
        "assert a.handler.__module__ == 'qnet.cli.sweep', a; "
        "assert a.axes == [('--vary', 'nodes.a.t2_s=1:2:3'), ('--values', 'nodes.a.t1_s=1')]; "
        "heavy = [m for m in ('qiskit', 'qiskit_aer', 'numpy', 'networkx', 'dask', 'pyarrow') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "qnet", "sweep", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert help_text.returncode == 0 and "--vary" in help_text.stdout and "--resume" in help_text.stdout


def test_axis_needs_fields_and_values():
    with pytest.raises(qnet.QnetError):
        Axis((), (1,))
    with pytest.raises(qnet.QnetError):
        Axis(("nodes.alice.t2_s",), ())
