"""Writing a traffic trace: CSV and Parquet round trips, column order and types, the output rule."""

from __future__ import annotations

import csv
import math
import sys

import numpy as np
import pytest

from qnet.errors import QnetError
from qnet.repeater.traffic.records import TRACE_COLUMNS
from qnet.repeater.traffic.trace import check_trace_path, write_trace


def _trace(n=5):
    rng = np.random.default_rng(0)
    events = np.array(["herald", "herald", "swap", "delivery", "cutoff"] * (n // 5 + 1))[:n]
    fidelity = np.where(events == "delivery", rng.uniform(0.5, 1.0, n), np.nan)
    return {
        "time_s": np.sort(rng.uniform(0, 1, n)) + 1e-9 / 3,
        "event": events,
        "pair": np.arange(n),
        "parent_a": np.full(n, -1),
        "parent_b": np.full(n, -1),
        "parent_c": np.full(n, -1),
        "request": rng.integers(-1, 3, n),
        "node": np.where(events == "swap", "r1", ""),
        "node_a": np.full(n, "alice"),
        "node_b": np.full(n, "r1"),
        "memory_a": np.zeros(n, dtype=np.int64),
        "memory_b": np.ones(n, dtype=np.int32),
        "link": np.where(events == "herald", "s1", ""),
        "fidelity": fidelity,
    }


def test_csv_round_trip_keeps_every_number_and_the_column_order(tmp_path):
    trace = _trace(12)
    out = write_trace(trace, tmp_path / "t.csv")
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == TRACE_COLUMNS and len(rows) == 13
    for j, name in enumerate(TRACE_COLUMNS):
        cells = [r[j] for r in rows[1:]]
        if name in ("time_s", "fidelity"):
            back = np.array([float(c) if c else np.nan for c in cells])
            assert np.array_equal(back, trace[name], equal_nan=True)  # repr: exact
        elif trace[name].dtype.kind in "iu":
            assert [int(c) for c in cells] == trace[name].tolist()
        else:
            assert cells == trace[name].tolist()
    assert rows[1][TRACE_COLUMNS.index("fidelity")] == ""  # a herald has no fidelity: an empty cell


def test_parquet_round_trip_with_types_and_nulls(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    trace = _trace(10)
    table = pq.read_table(write_trace(trace, tmp_path / "t.parquet"))
    assert tuple(table.column_names) == TRACE_COLUMNS
    types = {name: str(table.schema.field(name).type) for name in TRACE_COLUMNS}
    assert types["time_s"] == types["fidelity"] == "double"
    assert types["pair"] == types["memory_b"] == types["request"] == "int64"
    assert types["event"] == types["node"] == types["link"] == "string"
    fidelity = table.column("fidelity").to_pylist()
    assert [f is None for f in fidelity] == [math.isnan(f) for f in trace["fidelity"]]
    assert table.column("time_s").to_pylist() == trace["time_s"].tolist()
    assert table.column("event").to_pylist() == trace["event"].tolist()


def test_output_rule_suffix_and_missing_pieces(tmp_path, monkeypatch):
    trace = _trace()
    out = tmp_path / "t.csv"
    out.write_text("mine")
    with pytest.raises(QnetError, match=r"^--trace .*t.csv: exists; use --overwrite to replace it$"):
        write_trace(trace, out)
    assert out.read_text() == "mine"
    write_trace(trace, out, overwrite=True)
    assert out.read_text().startswith("time_s,event,")
    with pytest.raises(QnetError, match="folder .* does not exist"):
        check_trace_path(tmp_path / "nope" / "t.csv")
    with pytest.raises(QnetError, match=r"^--trace .*t.json: expected a .parquet or .csv file name$"):
        check_trace_path(tmp_path / "t.json")
    with pytest.raises(QnetError, match="the run recorded no trace"):
        write_trace(None, tmp_path / "u.csv")
    with pytest.raises(QnetError, match="trace lacks the columns fidelity"):
        write_trace({k: v for k, v in trace.items() if k != "fidelity"}, tmp_path / "u.csv")
    with pytest.raises(QnetError, match="equal length"):
        write_trace({**trace, "pair": np.arange(2)}, tmp_path / "u.csv")
    assert not (tmp_path / "u.csv").exists()
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(QnetError, match=r"^a Parquet trace needs pyarrow: pip install 'qnet\[parquet\]'"):
        check_trace_path(tmp_path / "t.parquet")


def test_empty_trace_writes_the_header_only(tmp_path):
    empty = {c: np.array([]) for c in TRACE_COLUMNS}  # float64 arrays: each column keeps its own type
    assert write_trace(empty, tmp_path / "e.csv").read_text().splitlines() == [",".join(TRACE_COLUMNS)]
    pq = pytest.importorskip("pyarrow.parquet")
    schema = pq.read_table(write_trace(empty, tmp_path / "e.parquet")).schema
    assert [str(schema.field(c).type) for c in ("time_s", "pair", "event")] == ["double", "int64", "string"]
