"""Sweep and plot outputs: never lost, never mixed, nothing written outside what was asked.

Each test is one item of the hardening issue: output checks before computing, the overwrite
rule for sidecars, the lazy grid and its limits, a run that finished nothing leaves nothing, a
resume that names what differs and checks the table itself (``sweep_id``), one writer per
output (lock), workers that end with their parent, Dask's trust and TLS rule, plurals.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import tracemalloc
from pathlib import Path

import pytest

from qnet.studies import sweep
from qnet.studies.sweep.table import canonical
from qnet.cli import main
from qnet.errors import QnetError
from qnet.outputs import output_lock
from qnet.studies.progress import Progress, plural
from qnet.studies.sweep import Axis, Evaluator, Grid, LinkEvaluator, Range, parse_values, parse_vary, run_sweep

ROOT = Path(__file__).resolve().parents[2]
LIU = str(ROOT / "examples" / "liu2026_ion_link.toml")
LIU_DATA = tomllib.loads(Path(LIU).read_text())
ARMS = "fibres.alice-station.length_km,fibres.station-bob.length_km"
ALPHAS = "nodes.alice.bright_state_population,nodes.bob.bright_state_population"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("qnet: error: ") and err.count("\n") == 1, err
    return err


def sweep_cli(out, *args: str, network: str = LIU) -> int:
    return main(["sweep", network, "alice", "bob", "-o", str(out), "--no-progress", *args])


class Constant(Evaluator):
    """A trivial evaluator (y = 1 at every point) that can stop the run at chunk ``stop_at``."""

    columns = ("y",)

    def __init__(self, stop_at: int | None = None, exc: type[BaseException] = KeyboardInterrupt):
        self.stop_at, self.exc, self.calls = stop_at, exc, 0

    def describe(self):
        return {"evaluator": "constant"}

    def evaluate(self, points):
        self.calls += 1
        if self.calls == self.stop_at:
            raise self.exc("stopped on purpose")
        return [{"y": 1.0, "error": ""} for _ in points]


# --------------------------------------------------------------------------- paths checked first


def test_output_in_a_missing_folder_fails_before_the_network_is_read(tmp_path, capsys):
    # the network file does not exist either: the output is checked first, before any work
    assert sweep_cli(tmp_path / "nodir" / "x" / "s.csv", "--values", "nodes.alice.t2_s=1", network="missing.toml") == 2
    err = one_error_line(capsys)
    assert "nodir" in err and "does not exist" in err
    assert not (tmp_path / "nodir").exists()


def test_output_naming_a_folder_is_refused_even_with_overwrite(tmp_path, capsys):
    folder = tmp_path / "results"
    folder.mkdir()
    assert sweep_cli(folder, "--values", "nodes.alice.t2_s=1", "--overwrite") == 2
    assert "is a folder" in one_error_line(capsys)
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@pytest.mark.parametrize("sidecar", ["out.csv.meta.json", "out.csv.lock"])
def test_a_users_file_named_like_a_sidecar_is_never_overwritten(tmp_path, capsys, sidecar):
    mine = tmp_path / sidecar
    mine.write_text("my notes\n")
    assert sweep_cli(tmp_path / "out.csv", "--values", "nodes.alice.t2_s=1") == 2
    err = one_error_line(capsys)
    assert sidecar in err
    assert mine.read_text() == "my notes\n" and not (tmp_path / "out.csv").exists()
    if sidecar.endswith(".meta.json"):  # a sidecar is replaced with --overwrite, like the table
        assert sweep_cli(tmp_path / "out.csv", "--values", "nodes.alice.t2_s=1", "--overwrite") == 0
        assert json.loads(mine.read_text())["points"] == 1


def test_temporary_files_never_replace_a_users_file(tmp_path):
    # the table is rewritten at the end of a resumed run through a fresh temporary sibling
    out = tmp_path / "out.csv"
    for name in ("out.csv.tmp", "out.csv.meta.json.tmp"):
        (tmp_path / name).write_text("mine\n")
    ev = LinkEvaluator(network=LIU_DATA, a="alice", b="bob", link_backend="batch")
    axes = [parse_values("nodes.alice.t2_s=1,2")]
    run_sweep(ev, axes, out, progress=False)
    run_sweep(ev, [parse_values("nodes.alice.t2_s=1,2,3")], out, resume=True, progress=False)
    assert len(read_csv(out)) == 3
    assert all((tmp_path / n).read_text() == "mine\n" for n in ("out.csv.tmp", "out.csv.meta.json.tmp"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "out.csv",
        "out.csv.meta.json",
        "out.csv.meta.json.tmp",
        "out.csv.tmp",
    ]


def test_plot_refuses_to_overwrite_without_overwrite(tmp_path, capsys):
    table = tmp_path / "s.csv"
    table.write_text("x,rate_hz,error\n1,2,\n2,3,\n")
    fig = tmp_path / "s.png"
    assert main(["plot", str(table), "--x", "x", "--y", "rate_hz"]) == 0
    first = fig.read_bytes()
    capsys.readouterr()
    assert main(["plot", str(table), "--x", "x", "--y", "rate_hz", "--title", "other"]) == 2
    assert "exists; use --overwrite" in one_error_line(capsys) and fig.read_bytes() == first
    assert main(["plot", str(table), "--x", "x", "--y", "rate_hz", "--title", "other", "--overwrite"]) == 0
    assert fig.read_bytes() != first
    assert main(["plot", str(table), "--x", "x", "--y", "rate_hz", "-o", str(tmp_path / "no" / "f.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_plot_without_matplotlib_says_what_to_install(tmp_path, capsys, monkeypatch):
    table = tmp_path / "s.csv"
    table.write_text("x,rate_hz,error\n1,2,\n")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["plot", str(table), "--x", "x", "--y", "rate_hz"]) == 2
    assert "pip install 'qnet[plot]'" in one_error_line(capsys)
    assert not (tmp_path / "s.png").exists()


# --------------------------------------------------------------------------- the lazy grid


def test_range_values_are_computed_on_demand_and_found_again():
    lin, log = Range(0.5, 60.0, 120), Range(0.01, 100.0, 1000, log=True)
    for r in (lin, log):
        values = list(r)
        assert values[0] == r.start and values[-1] == r.stop and len(values) == r.n
        assert all(r.index(v) == i for i, v in enumerate(values))  # exact round trip through a CSV repr
        assert all(r.index(float(repr(v))) == i for i, v in enumerate(values))
        assert r.count(values[7]) == 1 and r.count(1e9) == 0
    assert lin[1] == 0.5 + 59.5 / 119 and lin[-1] == 60.0 and lin[2:4] == (lin[2], lin[3])
    with pytest.raises(ValueError):
        lin.index(0.6)
    flat = Range(3.0, 3.0, 4)
    assert flat.count(3.0) == 4 and flat.index(3.0) == 0
    with pytest.raises(QnetError, match="closer than float resolution"):
        parse_vary("nodes.alice.t2_s=1:1.0000000000000002:10")


def test_grid_finds_positions_without_listing_points():
    axes = [
        parse_vary(f"{ARMS}=1:10:100000"),
        parse_values("nodes.alice.decay=exponential,gaussian,exponential"),
        parse_vary("nodes.alice.t2_s=0.1:10:1000:log"),
    ]
    g = Grid(axes)
    assert len(g) == 100000 * 3 * 1000 and g.has_repeats
    arm, t2 = axes[0].values[4321], axes[2].values[999]
    key = (arm, arm, "gaussian", t2)
    assert g.index(key) == (4321 * 3 + 1) * 1000 + 999
    assert g.count(key) == 1 and g.count((arm, arm, "exponential", t2)) == 2  # listed twice
    assert g.index((arm, arm + 1e-9, "gaussian", t2)) is None  # joined fields take one value
    assert g.index((arm, arm, "uniform", t2)) is None
    small = Grid([parse_vary("nodes.alice.t2_s=1:3:3"), parse_values("nodes.bob.t2_s=5,6")])
    assert list(small) == [(1.0, 5), (1.0, 6), (2.0, 5), (2.0, 6), (3.0, 5), (3.0, 6)]
    assert [small.index((canonical(a), canonical(b))) for a, b in small] == list(range(6))


def test_a_grid_too_large_is_refused_in_one_line_before_anything_is_written(tmp_path, capsys):
    args = ["--vary", "nodes.alice.t2_s=1:10:100000", "--vary", "nodes.bob.t2_s=1:10:10000"]
    tracemalloc.start()
    try:
        assert sweep_cli(tmp_path / "big.csv", *args) == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = one_error_line(capsys)
    assert "1,000,000,000 points (100000 x 10000)" in err and "at most 100,000,000" in err
    assert peak < 20e6  # nothing was listed (10^9 floats would be tens of GB)
    assert list(tmp_path.iterdir()) == []


def test_a_table_that_cannot_fit_on_the_disk_is_refused(tmp_path, capsys, monkeypatch):
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=10**6))
    assert sweep_cli(tmp_path / "s.csv", "--vary", "nodes.alice.t2_s=1:10:100000") == 2
    err = one_error_line(capsys)
    assert "100,000 points" in err and "GB free" in err
    assert list(tmp_path.iterdir()) == []


def test_a_ten_million_point_grid_starts_at_once_and_its_metadata_stays_small(tmp_path):
    out = tmp_path / "huge.csv"
    axes = [parse_vary("nodes.alice.t2_s=1:10:10000000")]
    tracemalloc.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(Constant(stop_at=3), axes, out, chunk_size=1000, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6  # a listed grid would take >= 10^7 x 32 bytes
    rows = read_csv(out)
    assert len(rows) == 2000 and rows[1999]["nodes.alice.t2_s"] == repr(axes[0].values[1999])
    meta_path = tmp_path / "huge.csv.meta.json"
    assert meta_path.stat().st_size < 10_000  # the axis as its specification, not 10^7 values
    meta = json.loads(meta_path.read_text())
    assert meta["axes"][0]["range"] == {"start": 1.0, "stop": 10.0, "n": 10_000_000, "spacing": "lin"}
    assert meta["points"] == 10_000_000 and meta["runs"][-1]["status"] == "interrupted"


# --------------------------------------------------------------------------- failed runs


def test_a_run_that_finished_no_point_leaves_nothing_behind(tmp_path):
    out = tmp_path / "s.csv"
    axes = [parse_vary("nodes.alice.t2_s=1:10:20")]
    with pytest.raises(QnetError, match="the sweep stopped: RuntimeError: stopped on purpose; nothing was written"):
        run_sweep(Constant(stop_at=1, exc=RuntimeError), axes, out, chunk_size=5, progress=False)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(Constant(stop_at=1), axes, out, chunk_size=5, progress=False)
    assert list(tmp_path.iterdir()) == []
    assert run_sweep(Constant(), axes, out, chunk_size=5, progress=False).evaluated == 20  # no --overwrite needed


def test_a_failed_run_keeps_its_rows_and_says_to_resume(tmp_path):
    out = tmp_path / "s.csv"
    axes = [parse_vary("nodes.alice.t2_s=1:10:20")]
    with pytest.raises(QnetError, match=r"the 10 finished points are in .*s\.csv: rerun with --resume"):
        run_sweep(Constant(stop_at=3, exc=RuntimeError), axes, out, chunk_size=5, progress=False)
    assert len(read_csv(out)) == 10
    again = run_sweep(Constant(), axes, out, chunk_size=5, resume=True, progress=False)
    assert (again.skipped, again.evaluated) == (10, 10) and len(read_csv(out)) == 20


@pytest.mark.slow
def test_a_dask_run_that_cannot_connect_leaves_nothing_behind(tmp_path, capsys):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    out = tmp_path / "s.csv"
    args = ["--values", "nodes.alice.t2_s=1,2", "--dask", "tcp://127.0.0.1:9"]  # nothing listens on port 9
    with dask.config.set({"distributed.comm.timeouts.connect": "0.5s"}):
        assert sweep_cli(out, *args) == 2
    assert "cannot connect to the Dask scheduler" in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []
    assert sweep_cli(out, "--values", "nodes.alice.t2_s=1,2") == 0  # the rerun is not blocked


# --------------------------------------------------------------------------- resume checks


def test_resume_mismatch_names_the_differing_field(tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert sweep_cli(out, "--values", "nodes.alice.t2_s=1,2", "--set", "nodes.bob.t2_s=2") == 0
    assert sweep_cli(out, "--values", "nodes.alice.t2_s=1,2", "--set", "nodes.bob.t2_s=3", "--resume") == 2
    err = one_error_line(capsys)
    assert "set was ['nodes.bob.t2_s=2'], now ['nodes.bob.t2_s=3']" in err
    assert "network_table_sha256" not in err and "{" not in err  # only what differs, not two whole dicts


def test_resume_checks_the_table_itself_when_the_metadata_is_gone(tmp_path, capsys):
    network = tmp_path / "net.toml"
    network.write_text(Path(LIU).read_text())
    out = tmp_path / "s.csv"
    args = ["--values", "nodes.alice.t2_s=1,2"]
    assert sweep_cli(out, *args, network=str(network)) == 0
    before = out.read_text()
    meta = tmp_path / "s.csv.meta.json"
    edited = Path(LIU).read_text().replace("visibility = 0.97", "visibility = 0.90", 1)
    assert edited != Path(LIU).read_text()
    network.write_text(edited)  # the network is edited between the runs
    for damage in ("deleted", "truncated"):
        if damage == "deleted":
            meta.unlink()
        else:
            meta.write_text('{"format": "cs')
        assert sweep_cli(out, "--values", "nodes.alice.t2_s=1,2,3", "--resume", network=str(network)) == 2
        err = one_error_line(capsys)
        assert "cannot resume" in err and "sweep_id" in err
        assert out.read_text() == before
    network.write_text(Path(LIU).read_text())  # the same network again: resume goes on
    assert sweep_cli(out, "--values", "nodes.alice.t2_s=1,2,3", "--resume", network=str(network)) == 0
    assert len(read_csv(out)) == 3


def test_a_table_without_sweep_id_cannot_be_resumed(tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert sweep_cli(out, "--values", "nodes.alice.t2_s=1,2") == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    with open(out, "w", newline="") as fh:
        csv.writer(fh).writerows([r[:-1] for r in rows])  # as an older qnet wrote it
    assert sweep_cli(out, "--values", "nodes.alice.t2_s=1,2,3", "--resume") == 2
    assert "no sweep_id column" in one_error_line(capsys)


# --------------------------------------------------------------------------- one writer at a time


def test_a_second_run_on_a_locked_output_fails_naming_it(tmp_path, capsys):
    out = tmp_path / "s.csv"
    with output_lock(out):
        for extra in ((), ("--overwrite",), ("--resume",)):
            assert sweep_cli(out, "--values", "nodes.alice.t2_s=1", *extra) == 2
            err = one_error_line(capsys)
            assert str(out) in err and f"pid {os.getpid()}" in err and "is writing it" in err
    assert not (tmp_path / "s.csv.lock").exists()
    assert sweep_cli(out, "--values", "nodes.alice.t2_s=1") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.csv.meta.json"]


def _slow_sweep(out: Path, *extra: str) -> subprocess.Popen:
    args = [
        "--vary",
        f"{ARMS}=0.5:50:200",
        "--vary",
        f"{ALPHAS}=0.02:0.3:200",
        "--link-backend",
        "batch",
        "--chunk-size",
        "1",
    ]
    return subprocess.Popen(
        [sys.executable, "-m", "qnet", "sweep", LIU, "alice", "bob", "-o", str(out), "--no-progress", *args, *extra],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_rows(proc: subprocess.Popen, out: Path, rows: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") > rows:
            return
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    pytest.fail(f"the sweep did not write {rows} rows: {proc.stderr.read()!r}")


@pytest.mark.slow
def test_two_sweeps_never_write_one_output_and_a_killed_ones_lock_does_not_block(tmp_path, capsys):
    out = tmp_path / "s.csv"
    proc = _slow_sweep(out)
    try:
        _wait_for_rows(proc, out, 3)
        for extra in (("--overwrite",), ("--resume",)):
            assert sweep_cli(out, "--values", "nodes.alice.t2_s=1", *extra) == 2
            err = one_error_line(capsys)
            assert f"-o {out}: another qnet run (pid {proc.pid}) is writing it" in err
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert (tmp_path / "s.csv.lock").exists()  # SIGKILL: left behind, but the OS dropped the lock
    n = len(read_csv(out))
    args = ["--vary", f"{ARMS}=0.5:50:3", "--vary", f"{ALPHAS}=0.02:0.3:200", "--link-backend", "batch"]
    assert sweep_cli(out, *args, "--resume") == 0  # a sub-grid of the killed one: resumable at once
    rows = read_csv(out)
    assert len(rows) >= 600 and len(rows) - n <= 600
    assert not (tmp_path / "s.csv.lock").exists()


def _children(pid: int) -> dict[int, str]:
    """{pid: start time} of the live processes whose parent is ``pid`` (from /proc)."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out[int(stat.parent.name)] = fields[19]
    return out


def _alive(pid: int, start: str) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[19] == start and fields[0] != "Z"  # same process (not a reused pid), not a zombie


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker processes in /proc")
def test_killing_the_main_process_ends_its_workers(tmp_path):
    out = tmp_path / "s.csv"
    proc = _slow_sweep(out, "--workers", "2")
    children: dict[int, str] = {}
    try:
        _wait_for_rows(proc, out, 3)  # both workers are up and evaluating
        children = _children(proc.pid)
        assert len(children) >= 2  # two workers (and multiprocessing's resource tracker)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30  # generous: the workers poll their parent every 0.25 s
        while time.monotonic() < deadline and any(_alive(p, s) for p, s in children.items()):
            time.sleep(0.05)
        assert [p for p, s in children.items() if _alive(p, s)] == []
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
        for p, s in children.items():  # only if the test failed: do not leave them running
            if _alive(p, s):
                os.kill(p, signal.SIGKILL)


# --------------------------------------------------------------------------- Dask: trust and TLS


class FakeClient:
    """Records how qnet would connect, then fails as an unreachable scheduler does."""

    calls: list = []

    def __init__(self, address, security=None):
        FakeClient.calls.append((address, security))
        raise OSError("no scheduler here")


@pytest.mark.slow
def test_plain_tcp_to_another_machine_is_refused_unless_insecure(tmp_path, capsys, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(distributed, "Client", FakeClient)
    FakeClient.calls = []
    out = tmp_path / "s.csv"
    args = ["--values", "nodes.alice.t2_s=1"]
    assert sweep_cli(out, *args, "--dask", "tcp://10.1.2.3:8786") == 2
    err = one_error_line(capsys)
    assert "--dask tcp://10.1.2.3:8786: plain TCP" in err and "--dask-insecure" in err and "tls://" in err
    assert FakeClient.calls == [] and list(tmp_path.iterdir()) == []
    assert sweep_cli(out, *args, "--dask", "tcp://10.1.2.3:8786", "--dask-insecure") == 2
    assert "cannot connect" in one_error_line(capsys)
    assert FakeClient.calls == [("tcp://10.1.2.3:8786", None)]
    for loopback in ("tcp://127.0.0.1:8786", "localhost:8786", "tcp://[::1]:8786", "inproc://10.1.2.3/1/2"):
        sweep.check_dask_address(loopback)  # allowed without TLS
    for remote in ("10.1.2.3:8786", "tcp://example.org:8786", "ws://[2001:db8::1]:8786", "ucx://10.0.0.1:1"):
        with pytest.raises(QnetError, match="plain TCP"):
            sweep.check_dask_address(remote)


def test_tls_options_build_a_security_that_requires_encryption(tmp_path, capsys, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(distributed, "Client", FakeClient)
    FakeClient.calls = []
    pems = {}
    for name in ("ca", "cert", "key"):
        pems[name] = tmp_path / f"{name}.pem"
        pems[name].write_text("-----BEGIN-----\n")
    tls = [
        "--dask-tls-ca-file",
        str(pems["ca"]),
        "--dask-tls-cert",
        str(pems["cert"]),
        "--dask-tls-key",
        str(pems["key"]),
    ]
    out = tmp_path / "s.csv"
    args = ["--values", "nodes.alice.t2_s=1"]
    assert sweep_cli(out, *args, "--dask", "tls://10.1.2.3:8786", *tls) == 2
    assert "cannot connect" in one_error_line(capsys)
    [(address, security)] = FakeClient.calls
    assert address == "tls://10.1.2.3:8786" and security.require_encryption
    assert (security.tls_ca_file, security.tls_client_cert, security.tls_client_key) == tuple(
        str(pems[n]) for n in ("ca", "cert", "key")
    )
    bad = [
        (["--dask", "tls://h:1", *tls[:4]], "--dask-tls-key missing"),
        (["--dask", "tcp://127.0.0.1:1", *tls], "need a tls:// address"),
        (["--dask", "tls://h:1", *tls, "--dask-insecure"], "exclude each other"),
        (
            ["--dask", "tls://h:1", *tls[:2], "--dask-tls-cert", "nope.pem", *tls[4:]],
            "--dask-tls-cert nope.pem: no such file",
        ),
        ([*tls], "apply to --dask ADDRESS only"),
    ]
    for extra, needle in bad:
        assert sweep_cli(out, *args, *extra) == 2
        assert needle in one_error_line(capsys)
    assert len(FakeClient.calls) == 1 and not out.exists()


def test_a_loopback_tcp_cluster_needs_no_tls(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert (
            sweep_cli(
                tmp_path / "s.csv",
                "--values",
                "nodes.alice.t2_s=1,2",
                "--link-backend",
                "batch",
                "--dask",
                cluster.scheduler_address,
            )
            == 0
        )
    meta = json.loads((tmp_path / "s.csv.meta.json").read_text())
    assert meta["runs"][-1]["dask"] == cluster.scheduler_address and meta["runs"][-1]["dask_tls"] is False
    assert len(read_csv(tmp_path / "s.csv")) == 2


def test_help_says_the_dask_scheduler_must_be_trusted():
    proc = subprocess.run([sys.executable, "-m", "qnet", "sweep", "--help"], cwd=ROOT, capture_output=True, text=True)
    text = " ".join(proc.stdout.split())
    assert (
        proc.returncode == 0
        and "cluster you trust" in text
        and "--dask-tls-ca-file" in text
        and "--dask-insecure" in text
    )


# --------------------------------------------------------------------------- words


def test_counts_of_one_are_singular():
    assert [
        plural(1, "points"),
        plural(2, "points"),
        plural(1, "errors"),
        plural(1, "deliveries"),
        plural(0, "links"),
    ] == ["1 point", "2 points", "1 error", "1 delivery", "0 links"]
    stream = io.StringIO()
    bar = Progress(1, stream=stream, interval=0.0, label="qnet sweep", unit="points")
    bar.update(1, 1)
    bar.close()
    line = stream.getvalue().splitlines()[-1]
    assert "1/1 point (100.0%)" in line and ", 1 error," in line and "errors" not in line


def test_the_summary_line_says_1_point(tmp_path, capsys):
    assert main(["sweep", LIU, "alice", "bob", "-o", str(tmp_path / "s.csv"), "--values", "nodes.alice.t2_s=1"]) == 0
    err = capsys.readouterr().err
    assert "(1 point;" in err and not re.search(r"(?<![\d,.])1 points", err)


def test_axis_values_stay_a_sequence():
    axis = Axis(("nodes.alice.t2_s",), [1, 2])
    assert axis.values == (1, 2) and axis.as_dict()["values"] == [1, 2]
    assert parse_vary("nodes.alice.t2_s=1:3:3").values == (1.0, 2.0, 3.0)
