"""The batch backend's chunk path (qnet.studies.sweep.linkcolumns) equals the per-point path, bit for bit.

* its spec columns are the per-point ``LinkSpec`` fields, value for value (same bits), over
  random hardware (hypothesis);
* ``program_fields`` names every field an instruction depends on: two specs that agree on an
  instruction's fields get the same instruction from ``link_program``;
* ``density_stack_columns`` equals ``density_stack`` on the instruction lists it stands for,
  sub-batch by sub-batch;
* a chunk's rows equal the per-point path's rows (``repr`` of every cell equal: the same
  bits, the sign of zero included) on mixed chunks: both schemes, phase noise or not, several
  stations and memories, invalid values, never-heralding points and keys the fast path leaves.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import random
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qnet
from qnet.errors import QnetError
from qnet.link import batch
from qnet.link.circuit import link_program, program_fields
from qnet.link.spec import link_spec
from qnet.studies import sweep
from qnet.studies.sweep.linkcolumns import _Chunk, column_rows
from qnet.studies.sweep.linkpoints import link_points
from qnet.studies.sweep.table import ColumnRows

ROOT = Path(__file__).resolve().parents[2]
LIU = tomllib.loads((ROOT / "examples" / "liu2026_ion_link.toml").read_text())
METRO = tomllib.loads((ROOT / "examples" / "metro_ion_network.toml").read_text())


def _cells(row):
    """A row as the text of its cells (what the CSV holds): equal text, equal bits."""
    return {k: repr(v) for k, v in row.items()}


# --------------------------------------------------------------------------- spec columns

numbers = st.sampled_from([0.0, -0.0, 1e-300, 1e-6, 0.013, 0.2, 0.5, 0.999, 1.0])
lengths = st.sampled_from([0.0, -0.0, 1e-9, 0.5, 3.0, 25.0, 333.3, 1e6, 1e30])
times = st.sampled_from([1e-12, 1e-6, 0.5, 2.0, 1e20, math.inf])
POINT = st.fixed_dictionaries(
    {
        "fibres.alice-station.length_km": lengths,
        "fibres.station-bob.length_km": lengths,
        "nodes.alice.bright_state_population": numbers,
        "nodes.bob.emission_efficiency": numbers,
        "nodes.alice.t2_s": times,
        "nodes.bob.t1_s": times,
        "nodes.bob.decay": st.sampled_from(["exponential", "gaussian"]),
        "nodes.alice.prep_time_s": st.sampled_from([0.0, 1e-300, 1e-6, 2e-5, 1e25]),
        "nodes.station.detector_efficiency": numbers,
        "nodes.station.scheme": st.sampled_from(["single_click", "two_photon"]),
        "nodes.bob.memories": st.sampled_from([1, 2, 5]),
        "network.fibre_speed_km_per_s": st.sampled_from([1e-300, 2.0e5, 3.0e5]),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(POINT, min_size=1, max_size=12))
def test_spec_columns_are_the_per_point_specs(points):
    sweep.clear_cache()
    builder = link_points(sweep.LinkEvaluator(network=LIU, a="alice", b="bob", link_backend="batch"))
    found = [(i, builder.hardware(p)) for i, p in enumerate(points)]
    found = [(i, h) for i, h in found if h is not None]
    if not found:
        return
    chunk = _Chunk(builder, [h for _, h in found], [i for i, _ in found])
    for m, i in enumerate(chunk.taken):
        spec, eta = builder.spec(points[i])  # the per-point path (raises for a point the chunk dropped)
        for name, column in chunk.field.items():
            value = getattr(spec, name)
            if name.startswith("decay"):
                continue
            if name.startswith("bright") and value is None:
                assert math.isnan(column[m])
                continue
            assert repr(float(column[m])) == repr(float(value)), name
        assert repr(float(chunk.attempt[m])) == repr(spec.attempt_time_s)
        assert int(chunk.k[m]) == spec.attempts_per_round
        assert repr(float(chunk.t_coh[m])) == repr(spec.pair_coherence_time_s)
        assert repr(float(chunk.eta[m])) == repr(eta)
        assert repr(float(chunk.length_a[m] + chunk.length_b[m])) == repr(spec.length_a_km + spec.length_b_km)
    # decay codes: equal codes, equal laws
    specs = [builder.spec(points[i])[0] for i in chunk.taken]
    for name in ("decay_a", "decay_b"):
        pairs = {(int(code), getattr(s, name)) for code, s in zip(chunk.field[name], specs)}
        assert len({c for c, _ in pairs}) == len(pairs) == len({law for _, law in pairs})
    # a point the chunk dropped is one whose spec is an error
    for i, _ in found:
        if i not in chunk.taken:
            with pytest.raises(QnetError):
                builder.spec(points[i])


# --------------------------------------------------------------------------- instructions


def _specs():
    out = []
    graph = qnet.load_network(ROOT / "examples" / "liu2026_ion_link.toml")
    base = link_spec(graph, "alice", "bob")
    rng = random.Random(3)
    for scheme in ("single_click", "two_photon"):
        for _ in range(40):
            out.append(
                dataclasses.replace(
                    base,
                    scheme=scheme,
                    efficiency_a=rng.choice([0.01, 0.2]),
                    efficiency_b=rng.choice([0.01, 0.2]),
                    bright_state_population_a=rng.choice([0.05, 0.3]),
                    bright_state_population_b=rng.choice([0.05, 0.3]),
                    storage_time_a_s=rng.choice([1e-5, 1e-3]),
                    storage_time_b_s=rng.choice([1e-5, 1e-3]),
                    t1_a_s=rng.choice([math.inf, 0.2]),
                    t1_b_s=rng.choice([math.inf, 0.2]),
                    t2_a_s=rng.choice([0.5, 2.0]),
                    t2_b_s=rng.choice([0.5, 2.0]),
                    decay_a=rng.choice(["exponential", "gaussian"]),
                    decay_b=rng.choice(["exponential", "gaussian"]),
                    visibility=rng.choice([0.9, 1.0]),
                    dark_count_probability=rng.choice([0.0, 1e-4]),
                    phase_noise_rad=0.3,
                )
            )
    return out


def test_instructions_that_agree_on_their_fields_are_the_same():
    specs = _specs()
    programs = [link_program(s) for s in specs]
    compared = 0
    for s1, p1 in zip(specs, programs):
        fields = program_fields(p1)
        for s2, p2 in zip(specs, programs):
            if p2.structure != p1.structure:
                continue
            for j, names in enumerate(fields):
                if all(getattr(s1, n) == getattr(s2, n) for n in names):
                    assert p1.ops[j].key == p2.ops[j].key, (j, names)
                    compared += 1
                else:
                    assert p1.ops[j].key != p2.ops[j].key, (j, names)  # and a field it names does matter
    assert compared > 10_000


@pytest.mark.parametrize("block_bytes", [batch.BLOCK_BYTES, 16 * 2**6 * 3])  # one sub-batch, or 3 lists each
def test_density_stack_columns_equals_density_stack(block_bytes):
    specs = [s for s in _specs() if s.scheme == "single_click"]
    programs = [link_program(s) for s in specs]
    structure = programs[0].structure
    slots = []
    for j in range(len(structure[1])):
        distinct = list({id(p.ops[j]): p.ops[j] for p in programs}.values())
        index = {id(op): k for k, op in enumerate(distinct)}
        slots.append((distinct, np.array([index[id(p.ops[j])] for p in programs])))
    got = batch.density_stack_columns(structure[0], structure[1], slots, len(programs), block_bytes)
    (indices, want), *_ = batch.density_stack(programs, block_bytes)
    assert indices.tolist() == list(range(len(programs)))
    assert got.shape == want.shape and np.array_equal(got, want)
    assert np.array_equal(np.signbit(got.real), np.signbit(want.real))


# --------------------------------------------------------------------------- rows


def _mixed_points(rng, n, network, a, b, s):
    fa = next(f.get("name", f"{f['a']}-{f['b']}") for f in network["fibres"] if {f["a"], f["b"]} == {a, s})
    for _ in range(n):
        point = {
            f"fibres.{fa}.length_km": rng.choice([0.5, 3.0, 17.0, 60.0, 400.0]),
            f"nodes.{b}.bright_state_population": rng.choice([0.02, 0.2, 0.45]),
            f"nodes.{s}.scheme": rng.choice(["single_click", "two_photon"]),
            f"nodes.{s}.phase_noise_rad": rng.choice([0.0, 0.0, 0.3]),
            f"nodes.{a}.t1_s": rng.choice([math.inf, 0.05]),
            f"nodes.{b}.decay": rng.choice(["exponential", "gaussian"]),
            f"nodes.{a}.memories": rng.choice([1, 3]),
            f"nodes.{s}.visibility": rng.choice([0.9, 1.0]),
        }
        r = rng.random()
        if r < 0.1:
            for node in (a, b):  # never heralds (both 0, no dark counts), or invalid
                point[f"nodes.{node}.emission_efficiency"] = rng.choice([0.0, 0.0, 1.5, -0.0])
            point[f"nodes.{s}.dark_count_probability"] = 0.0
        elif r < 0.15:
            point[f"nodes.{a}.prep_time_s"] = rng.choice([1e30, 0.0])  # an attempt time out of range
        elif r < 0.2:
            point["network.name"] = "x"  # a key the fast path leaves to the full build
        elif r < 0.25:
            point["network.fibre_speed_km_per_s"] = rng.choice([1e5, 1e-310])
        yield point


@pytest.mark.parametrize(
    "network, a, b, seed", [(LIU, "alice", "bob", 1), (LIU, "alice", "bob", 2), (METRO, "campus", "downtown", 3)]
)
def test_chunk_rows_equal_the_per_point_rows(network, a, b, seed):
    s = qnet.link.spec.find_station(qnet.network_from_dict(network), a, b)
    points = list(_mixed_points(random.Random(seed), 300, network, a, b, s))
    sweep.clear_cache()
    ev = sweep.LinkEvaluator(network=network, a=a, b=b, link_backend="batch")
    got = ev.evaluate(points)
    sweep.clear_cache()
    want = ev._evaluate_points(points)
    assert [_cells(r) for r in got] == [_cells(r) for r in want]
    assert {bool(r["error"]) for r in got} == {True, False}
    # chunk by chunk (the instructions and rows of one chunk are reused by the next; repeated
    # points): the same rows as the per-point path chunk by chunk
    same_fields = [{k: p[k] for k in points[0] if k in p} for p in points]
    same_fields += same_fields[::7]
    sweep.clear_cache()
    by_chunk = [row for i in range(0, len(same_fields), 37) for row in ev.evaluate(same_fields[i : i + 37])]
    sweep.clear_cache()
    want = [row for i in range(0, len(same_fields), 37) for row in ev._evaluate_points(same_fields[i : i + 37])]
    assert [_cells(r) for r in by_chunk] == [_cells(r) for r in want]
    taken = column_rows(link_points(ev), points)
    assert sum(r is not None for r in taken) > 150  # most points took the column path
    assert any(r is not None and r["error"] for r in taken)  # never-heralding ones too
    assert any(r is None for r in taken)  # and the unusual ones the per-point path


ODD_VALUES = [0.5, 0.05, 2.0, 7, 0, 0.0, -0.0, 1.0, 1.5, math.inf, math.nan, True, "gaussian", np.float64(0.2), 2**70]


@pytest.mark.parametrize("seed", [1, 2])
def test_hardware_of_a_chunk_is_each_points_hardware(seed):
    rng = random.Random(seed)
    fields = [
        "fibres.alice-station.length_km",
        "nodes.alice.bright_state_population",
        "nodes.bob.t2_s",
        "nodes.station.visibility",
    ]
    plain = [0.3, 0.07, 12.0, 0.9]
    points = [{f: rng.choice(plain if rng.random() < 0.7 else ODD_VALUES) for f in fields} for _ in range(400)]
    sweep.clear_cache()
    builder = link_points(sweep.LinkEvaluator(network=LIU, a="alice", b="bob", link_backend="batch"))
    together = builder.hardware_all(points)
    sweep.clear_cache()
    builder = link_points(sweep.LinkEvaluator(network=LIU, a="alice", b="bob", link_backend="batch"))
    alone = [builder.hardware(p) for p in points]
    assert together == alone
    assert sum(h is None for h in alone) > 20 and sum(h is not None for h in alone) > 100


@pytest.mark.parametrize("pool", [[0.0, 0.5, math.inf], [0.0, -0.0, 0.5], [-0.0, 1e-300, math.nan], [3, 1, 2**70]])
def test_row_formatter_columns_of_repeated_numbers_print_as_csv_writer(pool):
    import csv
    import io

    from qnet.studies.sweep.table import RowFormatter, cell_text

    rng = random.Random(4)
    columns = [[rng.choice(pool) for _ in range(200)] for _ in range(3)]
    errors = [""] * 200
    got = RowFormatter(3).lines(columns, errors, "id")
    buf = io.StringIO()
    csv.writer(buf).writerows([[cell_text(v) for v in row] + ["", "id"] for row in zip(*columns)])
    assert got == buf.getvalue()


def test_a_chunk_the_column_path_cannot_take_goes_point_by_point(monkeypatch):
    from qnet.studies.sweep import linkcolumns

    points = [{"nodes.alice.emission_efficiency": v} for v in (0.5, 2.0, 0.3)]
    ev = sweep.LinkEvaluator(network=LIU, a="alice", b="bob", link_backend="batch")
    sweep.clear_cache()
    want = ev._evaluate_points(points)

    def broken(*args, **kwargs):
        raise MemoryError("no room for the stack")

    monkeypatch.setattr(linkcolumns.batch, "density_stack_columns", broken)
    sweep.clear_cache()
    assert [_cells(r) for r in ev.evaluate(points)] == [_cells(r) for r in want]
    assert want[1]["error"].startswith("nodes.alice.emission_efficiency = 2.0 is invalid")


def test_a_chunk_without_errors_stays_columns_equal_to_the_per_point_rows():
    points = [
        {"fibres.alice-station.length_km": length, "nodes.bob.bright_state_population": alpha}
        for length in (0.5, 3.0, 60.0, 400.0)
        for alpha in (0.02, 0.2, 0.45)
    ]
    ev = sweep.LinkEvaluator(network=LIU, a="alice", b="bob", link_backend="batch")
    sweep.clear_cache()
    got = ev.evaluate(points)
    sweep.clear_cache()
    want = ev._evaluate_points(points)
    assert isinstance(got, ColumnRows) and not isinstance(want, ColumnRows)
    assert len(got) == len(want) == 12
    assert [_cells(r) for r in got] == [_cells(r) for r in want]
    assert got == want and got[3:5] == want[3:5] and got[-1] == want[-1]
    assert pickle.loads(pickle.dumps(got)) == got  # (worker processes send it back)
    assert list(got.column("fidelity")) == [r["fidelity"] for r in want]


@pytest.mark.parametrize("link_backend", ["batch", "aer"])
def test_a_sweep_row_is_the_single_link_result_to_the_last_bit(link_backend):
    """A point's row in a chunk has exactly the figures ``qnet link`` gives that point alone
    (a state's figures do not depend on the stack it is evaluated in)."""
    points = [
        {"fibres.alice-station.length_km": length, "nodes.alice.bright_state_population": alpha}
        for length in (0.7, 9.0, 33.0)
        for alpha in (0.03, 0.11, 0.27)
    ]
    ev = sweep.LinkEvaluator(network=LIU, a="alice", b="bob", link_backend=link_backend)
    sweep.clear_cache()
    rows = ev.evaluate(points)
    for point, row in zip(points, rows):
        graph = qnet.network_from_dict(LIU, overrides=[f"{k}={v!r}" for k, v in point.items()])
        alone = qnet.run_link(qnet.compile_link(link_spec(graph, "alice", "bob")), link_backend=link_backend)
        for name in ("fidelity", "success_probability", "rate_hz", "chsh", "qber", "bb84_key_fraction"):
            assert repr(row[name]) == repr(getattr(alone, name)), (point, name)


def test_column_rows_as_a_sequence():
    rows = ColumnRows(("y", "error"), ([1.0, 2.0, 3.0], ["", "bad", ""]))
    assert rows == [{"y": 1.0, "error": ""}, {"y": 2.0, "error": "bad"}, {"y": 3.0, "error": ""}]
    assert rows != [{"y": 1.0, "error": ""}, {"y": 2.0, "error": "bad"}]
    assert rows != [{"y": 1.0, "error": ""}, {"y": 2.5, "error": "bad"}, {"y": 3.0, "error": ""}]
    assert rows[::2] == [{"y": 1.0, "error": ""}, {"y": 3.0, "error": ""}] and rows[-2]["error"] == "bad"
    with pytest.raises(KeyError):
        rows.column("x")
    with pytest.raises(IndexError):
        rows[3]
    for names, columns in [(("y",), ([1.0], [2.0])), (("y", "e"), ([1.0], [])), ((), ())]:
        with pytest.raises(ValueError):
            ColumnRows(names, columns)


class _Rows(sweep.Evaluator):
    """Rows with an error and a missing column, as dicts or as ColumnRows (same content)."""

    columns = ("y", "z")

    def __init__(self, as_columns: bool):
        self.as_columns = as_columns

    def evaluate(self, points):
        xs = [p["nodes.a.t2_s"] for p in points]
        ys = [x * 0.1 for x in xs]
        errors = ["x, too big" if x > 3 else "" for x in xs]
        if self.as_columns:
            return ColumnRows(("error", "z", "y"), (errors, [None] * len(xs), ys))
        return [{"y": y, "error": e} for y, e in zip(ys, errors)]


def test_a_sweep_writes_column_rows_as_the_same_rows(tmp_path):
    axes = [sweep.parse_values("nodes.a.t2_s=1,2,3,4,5")]
    out = {}
    for as_columns in (False, True):
        path = tmp_path / f"{as_columns}.csv"
        summary = sweep.run_sweep(_Rows(as_columns), axes, path, chunk_size=2, progress=False)
        assert summary.errors == 2
        out[as_columns] = path.read_text()
    assert out[True] == out[False]
    assert '"x, too big"' in out[True]


@pytest.mark.parametrize(
    "dist", ["qiskit", "qiskit-aer", "qiskit_aer", "numpy", "networkx", "Hypothesis", "no-such-dist"]
)
def test_recorded_versions_are_importlib_metadatas(dist):
    import importlib.metadata

    from qnet.studies.sweep.output import _installed_version

    try:
        want = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        want = None
    assert _installed_version(dist) == want
