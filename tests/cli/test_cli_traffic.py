"""``qnet traffic``: options reach the engine, outputs (table, JSON, trace), Ctrl-C, bad inputs.

STAND-IN ENGINE: every test here but the last replaces
``qnet.repeater.traffic.run.simulate_traffic`` with :func:`_fake_engine` (fixture ``engine``),
which returns a hand-built :class:`TrafficRun` (deliveries evenly spaced in each request's window).
These tests check the command around the engine, not the engine; the engine was written in
parallel, and the module ``qnet.repeater.traffic.run`` is put in place by the fixture while it
does not exist yet. ``test_real_engine_end_to_end`` runs the real engine when it is there.
"""

from __future__ import annotations

import csv
import json
import sys

import numpy as np
import pytest

from qnet.cli import main
from qnet.repeater.traffic.records import TRACE_COLUMNS, LinkRecord, NodeRecord, RequestRecord, TrafficRun

METRO = "examples/metro_ion_network.toml"
REQUESTS = "examples/requests/metro.toml"
BASE = ["traffic", METRO, "--requests", REQUESTS, "--duration", "60", "--seed", "1"]


def _fake_run(graph, requests, duration_s, seed, policy, trace, stop_at=None):
    end = duration_s if stop_at is None else stop_at
    records = []
    for r in requests:
        active = max(0.0, min(r.stop_s, end) - r.start_s)
        times = r.start_s + (np.arange(4) + 0.5) * active / 4 if active > 0 else np.array([])
        records.append(
            RequestRecord(
                r,
                (r.parties,),
                times,
                np.full(times.size, 0.01),
                np.full(times.size, 0.85),
                None if r.rate_hz is None else 4 + int(r.rate_hz * active),
                active,
            )
        )
    nodes = tuple(NodeRecord(n, 2, 0.5, 2) for n in ("campus", "north"))
    links = (LinkRecord("campus", "north", "s_nc", 1, 0.4, 33),)
    columns = None
    if trace:
        n = 3
        columns = {c: np.full(n, -1) for c in TRACE_COLUMNS}
        columns.update(
            time_s=np.array([0.1, 0.2, 0.3]),
            event=np.array(["herald", "herald", "swap"]),
            node=np.array(["", "", "north"]),
            node_a=np.array(["campus"] * n),
            node_b=np.array(["north"] * n),
            link=np.array(["s_nc", "s_an", ""]),
            fidelity=np.full(n, np.nan),
        )
    return TrafficRun(tuple(records), nodes, links, duration_s, end, seed, policy, stop_at is not None, columns)


@pytest.fixture
def engine(monkeypatch):
    """Install the stand-in engine; returns the list of its calls' keyword arguments (and ``stop_at`` to set)."""
    state = {"calls": [], "stop_at": None}

    def fake(
        graph,
        requests,
        *,
        duration_s,
        seed=None,
        memory_policy="shared",
        metric="hops",
        k_paths=1,
        swap_policy="asap",
        link_backend="aer",
        trace=False,
        progress=None,
        occupancy_bins=20,
        purify=None,
        twirl=True,
        loop="auto",
    ):
        state["calls"].append(
            dict(
                requests=requests,
                duration_s=duration_s,
                seed=seed,
                memory_policy=memory_policy,
                metric=metric,
                k_paths=k_paths,
                swap_policy=swap_policy,
                link_backend=link_backend,
                trace=trace,
                progress=progress,
                graph=graph,
                occupancy_bins=occupancy_bins,
                purify=purify,
                twirl=twirl,
                loop=loop,
            )
        )
        return _fake_run(graph, requests, duration_s, seed, memory_policy, trace, state["stop_at"])

    import qnet.repeater.traffic.run as module

    monkeypatch.setattr(module, "simulate_traffic", fake)
    return state


def test_defaults_reach_the_engine_and_the_table_is_printed(engine, capsys):
    assert main(BASE) == 0
    (call,) = engine["calls"]
    assert {
        k: call[k]
        for k in (
            "duration_s",
            "seed",
            "memory_policy",
            "metric",
            "k_paths",
            "swap_policy",
            "link_backend",
            "trace",
            "loop",
        )
    } == dict(
        duration_s=60.0,
        seed=1,
        memory_policy="shared",
        metric="hops",
        k_paths=1,
        swap_policy="asap",
        link_backend="aer",
        trace=False,
        loop="auto",
    )
    assert call["progress"] is None  # stderr is not a terminal here
    assert [r.parties for r in call["requests"]] == [
        ("campus", "airport"),
        ("downtown", "north"),
        ("campus", "harbour"),
    ]
    out, err = capsys.readouterr()
    assert out.startswith("traffic: 3 requests, 60 s simulated, policy shared, seed 1\n")
    assert "campus-airport" in out and "downtown-north" in out and "campus - s_nc - north" in out
    assert err == ""


def test_every_option_reaches_the_engine(engine, capsys):
    args = BASE + [
        "--memory-policy",
        "reserve",
        "--metric",
        "rate",
        "--k-paths",
        "3",
        "--swap-policy",
        "nested",
        "--link-backend",
        "batch",
        "--set",
        "nodes.campus.memories=4",
        "--occupancy-bins",
        "7",
        "--purify",
        "bbpssw",
        "--no-twirl",
        "--loop",
        "compiled",
    ]
    assert main(args) == 0
    (call,) = engine["calls"]
    assert call["loop"] == "compiled"
    assert (call["memory_policy"], call["metric"], call["k_paths"], call["swap_policy"], call["link_backend"]) == (
        "reserve",
        "rate",
        3,
        "nested",
        "batch",
    )
    assert (call["occupancy_bins"], call["purify"], call["twirl"]) == (7, "bbpssw", False)
    assert call["graph"].nodes["campus"]["hardware"].memories == 4


def test_json_output(engine, capsys):
    assert main(BASE + ["--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert list(d) == [
        "requests",
        "nodes",
        "links",
        "total_rate_hz",
        "simulated_time_s",
        "seed",
        "duration_s",
        "policy",
        "interrupted",
        "occupancy_bin_s",
    ]
    assert d["interrupted"] is False and d["seed"] == 1 and len(d["requests"]) == 3
    window = d["requests"][1]
    assert (window["a"], window["active_s"], window["rate_hz"]) == ("downtown", 30.0, 4 / 30.0)
    assert d["links"][0]["utilisation"] == 0.4


def test_trace_files(engine, tmp_path, capsys):
    out = tmp_path / "t.csv"
    assert main(BASE + ["--trace", str(out)]) == 0
    assert engine["calls"][0]["trace"] is True
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == TRACE_COLUMNS and len(rows) == 4
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "t.parquet"
    assert main(BASE + ["--trace", str(parquet)]) == 0
    import pyarrow.parquet as pq

    assert pq.read_table(parquet).num_rows == 3


def test_existing_trace_is_refused_before_the_run(engine, tmp_path, capsys):
    out = tmp_path / "t.csv"
    out.write_text("mine")
    assert main(BASE + ["--trace", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"qnet: error: --trace {out}: exists; use --overwrite to replace it\n"
    assert engine["calls"] == [] and out.read_text() == "mine"
    assert main(BASE + ["--trace", str(out), "--overwrite"]) == 0
    assert out.read_text().startswith("time_s,")


def test_ctrl_c_prints_what_was_finished_and_exits_130(engine, tmp_path, capsys):
    engine["stop_at"] = 12.5  # the engine caught Ctrl-C at t = 12.5 s
    trace = tmp_path / "t.csv"
    assert main(BASE + ["--trace", str(trace)]) == 130
    out, err = capsys.readouterr()
    assert out.startswith("traffic: 3 requests, 12.5 s simulated of 60 s")
    assert out.rstrip().endswith("interrupted at t = 12.5 s: figures cover what was finished")
    assert err == "qnet traffic: interrupted at t = 12.5 s of 60 s; the figures and the trace cover what was finished\n"
    assert trace.exists()
    assert main(BASE + ["--json"]) == 130
    out, err = capsys.readouterr()
    d = json.loads(out)
    assert d["interrupted"] is True and d["simulated_time_s"] == 12.5 and d["duration_s"] == 60.0
    assert d["requests"][1]["active_s"] == 2.5
    assert err.startswith("qnet traffic: interrupted at t = 12.5 s")


def test_progress_on_a_terminal(engine, monkeypatch, capsys):
    class Tty:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(BASE) == 0
    progress = engine["calls"][0]["progress"]
    assert progress is not None
    progress.last = -1.0  # draw now
    progress(30.0, 60.0)
    assert "qnet traffic: t = 30/60 s (50.0%)" in tty.text
    assert main(BASE + ["--no-progress"]) == 0
    assert engine["calls"][1]["progress"] is None


@pytest.mark.parametrize(
    "requests, args, message",
    [
        (
            '[[requests]]\na = "campus"\nb = "mars"\n',
            [],
            "qnet: error: requests[0].b = 'mars' is not a node of the network; its memory nodes are airport, campus, downtown",
        ),
        ('[[requests]]\na = "campus"\nb = "s_cd"\n', [], "qnet: error: requests[0].b = 's_cd' is a station"),
        (
            '[[requests]]\na = "campus"\nb = "north"\n[[requests]]\na = "campus"\nb = "airport"\nrate_hz = -2\n',
            [],
            "qnet: error: requests[1].rate_hz = -2 is invalid: a demand > 0 pairs per second",
        ),
        ("", [], "qnet: error: requests file 'REQ' : no [[requests]] table"),
        (None, [], "qnet: error: requests file 'REQ' not found"),
        (
            '[[requests]]\na = "campus"\nb = "north"\n',
            ["--trace", "TMP/no-such-folder/t.csv"],
            "qnet: error: --trace TMP/no-such-folder/t.csv: folder 'TMP/no-such-folder' does not exist",
        ),
        (
            '[[requests]]\na = "campus"\nb = "north"\n',
            ["--trace", "TMP/t.txt"],
            "qnet: error: --trace TMP/t.txt: expected a .parquet or .csv file name",
        ),
        (
            '[[requests]]\na = "campus"\nb = "north"\n',
            ["--set", "nodes.campus.t2_s=-1"],
            "qnet: error: nodes.campus.t2_s = -1.0 is invalid",
        ),
    ],
)
def test_bad_inputs_are_one_line_and_never_run(engine, tmp_path, capsys, requests, args, message):
    req = tmp_path / "req.toml"
    if requests is not None:
        req.write_text(requests)
    args = [a.replace("TMP", str(tmp_path)) for a in args]
    assert main(["traffic", METRO, "--requests", str(req), "--duration", "1", *args]) == 2
    err = capsys.readouterr().err
    expected = (
        message.replace("TMP", str(tmp_path)).replace("'REQ' :", f"{str(req)!r}:").replace("'REQ'", repr(str(req)))
    )
    assert err.startswith(expected) and err.count("\n") == 1
    assert engine["calls"] == []


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--duration", "0"], "argument --duration: 0 is out of range (allowed: a finite number > 0)"),
        (["--duration", "-3"], "argument --duration: -3 is out of range"),
        (["--duration", "inf"], "argument --duration: inf is out of range"),
        (["--duration", "nan"], "argument --duration: nan is out of range"),
        (["--duration", "soon"], "argument --duration: 'soon' is not a number"),
        (["--duration", "1", "--k-paths", "0"], "argument --k-paths: 0 is out of range"),
        (["--duration", "1", "--memory-policy", "greedy"], "argument --memory-policy: invalid choice: 'greedy'"),
        (["--duration", "1", "--policy", "greedy"], "argument --policy: invalid choice: 'greedy'"),  # the old spelling
        (["--duration", "1", "--seed", "-1"], "argument --seed: -1 is out of range"),
        ([], "the following arguments are required: --duration"),
    ],
)
def test_bad_options_are_refused_by_the_parser(engine, capsys, args, needle):
    with pytest.raises(SystemExit) as info:
        main(["traffic", METRO, "--requests", REQUESTS, *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    last = err.splitlines()[-1]
    assert last.startswith("qnet traffic: error: ") and needle in last
    assert engine["calls"] == []


def test_help_imports_nothing_heavy():
    import subprocess

    code = (
        "import sys\nfrom qnet.cli.app import build_parser\nbuild_parser()\n"
        "print([m for m in ('numpy', 'networkx', 'scipy', 'qiskit') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_real_engine_end_to_end(tmp_path, capsys):
    """The real engine, when it is there: the example runs and its JSON has the result's keys."""
    pytest.importorskip("qnet.repeater.traffic.run")
    trace = tmp_path / "t.csv"
    assert (
        main(
            [
                "traffic",
                METRO,
                "--requests",
                REQUESTS,
                "--duration",
                "0.5",
                "--seed",
                "1",
                "--link-backend",
                "batch",
                "--json",
                "--trace",
                str(trace),
            ]
        )
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert len(d["requests"]) == 3 and d["simulated_time_s"] == 0.5 and d["interrupted"] is False
    assert trace.read_text().startswith(",".join(TRACE_COLUMNS))
