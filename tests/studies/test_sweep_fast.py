"""The fast sweep paths equal the reference paths they stand in for.

* ``link_program`` (qnet's plain instruction list) is ``compile_link``'s circuit, instruction for
  instruction, and both are the circuit the original compiler built (kept below as a reference);
* the batch engine on instruction lists equals Aer on the compiled circuits (1e-12);
* a compiled circuit runs on Aer in place like a copy (Aer misreads read-only Kraus arrays);
* ``LinkEvaluator``'s per-point network update gives the spec (or the error message) of
  ``network_from_dict`` + ``link_spec`` on every kind of field and value;
* sweep rows equal ``qnet.run_links`` on mixed chunks (both schemes, phase noise or not,
  invalid and never-heralding points), with both engines;
* the vectorised herald extraction equals ``heralded_state``; the CSV writer equals
  ``csv.writer``; a fresh output written in order equals the rewritten one.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import random
import tomllib
from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet.link import batch
from qnet.studies import sweep
from qnet.studies.sweep.evaluators import error_message
from qnet.studies.sweep.axes import toml_literal
from qnet.studies.sweep.linkpoints import LinkPoints, link_points
from qnet.studies.sweep.table import RowFormatter, cell_text
from qnet.link.circuit import compile_link, link_program
from qnet.link.spec import elementary_links, link_spec
from qnet.link.results import LINK_FIELDS
from qnet.link.run import final_states, heralded_state, heralded_states

from qnet_testing import ALL_VARIANTS, TOL, aer_density_matrices, compiled

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
LIU = tomllib.loads((ROOT / "examples" / "liu2026_ion_link.toml").read_text())
METRO = tomllib.loads((ROOT / "examples" / "metro_ion_network.toml").read_text())


def _variant_specs():
    for p in ALL_VARIANTS:
        scheme, kwargs = p.values
        yield compiled(scheme=scheme, **kwargs).spec
    for path in EXAMPLES:
        graph = qnet.load_network(path)
        for a, b, s in elementary_links(graph):
            yield link_spec(graph, a, b, s)


SPECS = list(_variant_specs())


def _reference_circuit(spec):
    """The circuit as qnet's compiler built it before instruction lists (kept verbatim)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Instruction

    from qnet.quantum import channels
    from qnet.link.station import station_kraus

    def kraus(ops, label):
        ops = [np.asarray(k, dtype=complex) for k in ops]
        return Instruction("kraus", int(round(math.log2(ops[0].shape[0]))), 0, ops, label=label)

    if spec.scheme == "single_click":
        mem_a, mem_b, arm_a, arm_b = 0, 3, (1,), (2,)
        qc = QuantumCircuit(4)
        for m, (p,), alpha in (
            (mem_a, arm_a, spec.bright_state_population_a),
            (mem_b, arm_b, spec.bright_state_population_b),
        ):
            qc.ry(2.0 * math.asin(math.sqrt(alpha)), m)
            qc.cx(m, p)
    else:
        mem_a, mem_b, arm_a, arm_b = 0, 5, (1, 2), (3, 4)
        qc = QuantumCircuit(6)
        for m, (h, v) in ((mem_a, arm_a), (mem_b, arm_b)):
            qc.h(m)
            qc.cx(m, v)
            qc.x(h)
            qc.cx(m, h)
    qc.barrier(label="emission")
    for arm, eta, name in ((arm_a, spec.efficiency_a, "A"), (arm_b, spec.efficiency_b, "B")):
        loss = kraus(channels.loss_kraus(eta), f"loss {name} (eta={eta:.3g})")
        for q in arm:
            qc.append(loss, [q])
    if spec.phase_noise_rad > 0.0:
        c = math.exp(-0.5 * spec.phase_noise_rad**2)
        qc.append(kraus(channels.dephasing_kraus(c), f"phase noise ({spec.phase_noise_rad:.3g} rad)"), [arm_a[0]])
    for m, t, t1, t2, law, name in (
        (mem_a, spec.storage_time_a_s, spec.t1_a_s, spec.t2_a_s, spec.decay_a, "A"),
        (mem_b, spec.storage_time_b_s, spec.t1_b_s, spec.t2_b_s, spec.decay_b, "B"),
    ):
        qc.append(kraus(channels.memory_kraus(t, t1, t2, law), f"memory {name} ({t:.3g} s)"), [m])
    qc.barrier(label="fibre + storage")
    if spec.scheme == "single_click":
        ops = station_kraus(spec.scheme, spec.visibility, spec.dark_count_probability)
        qc.append(kraus(ops, f"station {spec.scheme}"), list(arm_a + arm_b))
    else:  # issue #9: one single-click instrument per polarisation (qnet.link.station.station_factors)
        ops = station_kraus("single_click", math.sqrt(spec.visibility), spec.dark_count_probability)
        for part, qubits in (("H", [arm_a[0], arm_b[0]]), ("V", [arm_a[1], arm_b[1]])):
            qc.append(kraus(ops, f"station two_photon {part}"), qubits)
    return qc


def _same_instructions(qc, instructions, num_qubits):
    """``instructions``: (name, qubits, params, label) tuples; exact equality, matrices included."""
    assert qc.num_qubits == num_qubits
    assert len(qc.data) == len(instructions)
    for inst, (name, qubits, params, label) in zip(qc.data, instructions):
        assert inst.operation.name == name
        assert tuple(qc.find_bit(q).index for q in inst.qubits) == tuple(qubits)
        assert all(q in qc.qubits for q in inst.qubits)  # a shared instruction is on this circuit's qubits
        got = inst.operation.params
        assert len(got) == len(params), name
        for a, b in zip(got, params):
            if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
                a, b = np.asarray(a), np.asarray(b)
                assert a.shape == b.shape and np.array_equal(a, b), (name, label)
            else:
                assert float(a) == float(b), name
        assert inst.operation.label == label, name


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.scheme}-{s.node_a}-{s.node_b}")
def test_instruction_list_is_the_compiled_circuit(spec):
    program = link_program(spec)
    link = compile_link(spec)
    ops = [(op.name, op.qubits, op.params, op.label) for op in program.ops]
    _same_instructions(link.circuit, ops, program.num_qubits)
    assert program.structure == (program.num_qubits, tuple((op.name, op.qubits) for op in program.ops))
    assert batch.circuit_structure(program) == batch.circuit_structure(link.circuit)
    assert (program.memory_qubits, program.photon_qubits, program.heralds) == (
        link.memory_qubits,
        link.photon_qubits,
        link.heralds,
    )
    # and the circuit is the one the compiler always built
    reference = _reference_circuit(spec)
    expected = [
        (
            i.operation.name,
            tuple(reference.find_bit(q).index for q in i.qubits),
            list(i.operation.params),
            i.operation.label,
        )
        for i in reference.data
    ]
    _same_instructions(link.circuit, expected, reference.num_qubits)
    assert link.circuit.metadata["spec"] == spec.to_dict()


def test_shared_instructions_stay_on_their_circuit():
    """The same loss value in a 4-qubit and a 6-qubit circuit: each instruction on its own qubits."""
    one = compiled(scheme="single_click", alpha=0.1)
    two = compiled(scheme="two_photon")
    again = compiled(scheme="single_click", alpha=0.1)
    assert one.spec.efficiency_a == two.spec.efficiency_a
    for link in (one, two, again):
        for inst in link.circuit.data:
            assert all(q in link.circuit.qubits for q in inst.qubits)
    # by default every compiled circuit owns its instructions: editing one leaves the others alone
    assert one.circuit.data[5].operation is not again.circuit.data[5].operation
    # the sweep's hot path shares one instruction object per distinct instruction
    shared = [compile_link(link.spec, share_instructions=True) for link in (one, two, again)]
    for link in shared:
        for inst in link.circuit.data:
            assert all(q in link.circuit.qubits for q in inst.qubits)
    assert shared[0].circuit.data[5].operation is shared[2].circuit.data[5].operation
    assert shared[0].circuit is not shared[2].circuit and shared[0].circuit.data[5].operation.name == "kraus"


def test_editing_a_compiled_circuit_in_place_does_not_leak_into_later_compiles():
    first = compiled(scheme="single_click", alpha=0.1)
    kraus = next(i for i in first.circuit.data if i.operation.name == "kraus")
    before = np.array(kraus.operation.params[0])
    kraus.operation.params[0][1, 1] = 0.123  # a user's in-place edit
    later = compiled(scheme="single_click", alpha=0.1)
    again = next(i for i in later.circuit.data if i.operation.name == "kraus")
    assert np.array_equal(again.operation.params[0], before)


@pytest.mark.slow
def test_compiled_circuit_runs_in_place_like_a_copy():
    """Aer 0.18 reads a read-only Kraus array as if it were transposed: qnet hands it writable ones."""
    links = [compiled(scheme=p.values[0], **p.values[1]) for p in ALL_VARIANTS]
    for link in links:
        for inst in link.circuit.data:
            for param in inst.operation.params:
                if isinstance(param, np.ndarray):
                    assert param.flags.writeable
    copied = final_states(links)
    in_place = final_states([compile_link(c.spec) for c in links], in_place=True)
    assert max(np.abs(a - b).max() for a, b in zip(copied, in_place)) <= TOL


def test_batch_engine_on_instruction_lists_equals_aer():
    """Every variant and example link: instruction lists (no Qiskit objects) through the batch engine."""
    programs = [link_program(spec) for spec in SPECS]
    want = aer_density_matrices([compile_link(spec).circuit for spec in SPECS])
    got = batch.density_matrices(programs)
    assert max(np.abs(w - g).max() for w, g in zip(want, got)) <= TOL
    # mixed input: circuits and instruction lists of the same structure in one call
    mixed = [p if i % 2 else compile_link(p.spec).circuit for i, p in enumerate(programs)]
    again = batch.density_matrices(mixed)
    assert max(np.abs(a - b).max() for a, b in zip(got, again)) <= TOL
    # the stacked form holds the same states
    for idx, stack in got.groups:
        for i, rho in zip(idx.tolist(), stack):
            assert np.array_equal(rho, got[i])


def test_batch_engine_refuses_unknown_instruction_list_entries():
    from qnet.link.circuit import LinkOp

    program = link_program(SPECS[0])
    bad = program._replace(ops=program.ops[:1] + (LinkOp("measure", (0,)),), structure=None)
    with pytest.raises(batch.UnsupportedInstruction, match="measure"):
        batch.density_matrices([bad])


def test_batch_results_do_not_depend_on_the_batch():
    """A point's state is the same number alone or among a thousand (elementwise arithmetic only)."""
    rng = np.random.default_rng(3)
    specs = [
        compiled(length_a_km=float(x), alpha=float(a)).spec
        for x, a in zip(rng.uniform(1, 60, 40), rng.uniform(0.01, 0.3, 40))
    ]
    programs = [link_program(s) for s in specs]
    together = batch.density_matrices(programs)
    for i in (0, 17, 39):
        assert np.array_equal(batch.density_matrices([programs[i]])[0], together[i])


def test_vectorised_heralds_equal_heralded_state():
    links = [compiled(scheme=p.values[0], **p.values[1]) for p in ALL_VARIANTS]
    rhos = final_states(links)
    for link, rho in zip(links, rhos):
        p_want, state_want = heralded_state(rho, link)
        p, states = heralded_states(
            rho[None], link.circuit.num_qubits, link.memory_qubits, link.photon_qubits, link.heralds
        )
        assert min(1.0, p[0]) == pytest.approx(p_want, rel=1e-14, abs=0)
        assert np.abs(states[0] - state_want).max() <= 1e-14
        program = link_program(link.spec)
        assert heralded_state(rho, program)[0] == p_want  # an instruction list reads the same


# --------------------------------------------------------------------------- the per-point network update

NODE_FIELDS = [
    "t2_s",
    "t1_s",
    "emission_efficiency",
    "conversion_efficiency",
    "prep_time_s",
    "bright_state_population",
    "decay",
    "memories",
    "gate_fidelity",
    "cutoff_s",
]
STATION_FIELDS = ["detector_efficiency", "dark_count_probability", "visibility", "phase_noise_rad", "scheme"]
FIBRE_FIELDS = ["length_km", "attenuation_db_per_km"]
VALUES = [
    0.5,
    0.05,
    1e-3,
    2.0,
    7,
    0,
    0.0,
    -0.0,
    1.0,
    -1.0,
    1.5,
    math.inf,
    math.nan,
    True,
    False,
    "gaussian",
    "exponential",
    "two_photon",
    "single_click",
    "bogus",
    np.float64(0.2),
    np.int64(3),
    np.bool_(True),
    2**70,
    12.5,
]
ODD_KEYS = [
    "nodes.{a}.kind",
    "nodes.{a}.name",
    "nodes.nope.t2_s",
    "fibres.nope.length_km",
    "fibres.{fa}.a",
    "network.bogus",
    "network.name",
    "nodes.{a}.t2_s ",
    "nodes.{a}.unknown_field",
]


def _points(network, a, b, s, rng, n):
    fibres = [f.get("name", f"{f['a']}-{f['b']}") for f in network["fibres"]]
    fa = next(f for f in fibres if a in f.split("-") and s in f.split("-"))
    others = [x for x in network["nodes"] if x not in (a, b, s)]
    keys = [f"nodes.{x}.{f}" for x in (a, b) + tuple(others[:2]) for f in NODE_FIELDS]
    keys += [f"nodes.{s}.{f}" for f in STATION_FIELDS] + [f"fibres.{f}.{g}" for f in fibres[:4] for g in FIBRE_FIELDS]
    keys += ["network.fibre_speed_km_per_s"]
    for _ in range(n):
        point = {}
        for key in rng.sample(keys, rng.randint(1, 4)):
            # mostly valid numbers, sometimes anything
            point[key] = rng.choice([0.3, 0.07, 12.0, 0.9, 1e5]) if rng.random() < 0.6 else rng.choice(VALUES)
        if rng.random() < 0.05:
            point[rng.choice(ODD_KEYS).format(a=a, fa=fa)] = rng.choice([1.0, "memory", 0.5])
        yield point


@pytest.mark.parametrize(
    "network, a, b", [(LIU, "alice", "bob"), (METRO, "campus", "downtown"), (METRO, "airport", "harbour")]
)
def test_per_point_update_equals_the_full_network_build(network, a, b, monkeypatch):
    sweep.clear_cache()
    s = qnet.link.spec.find_station(qnet.network_from_dict(network), a, b)
    ev = sweep.LinkEvaluator(network=network, a=a, b=b, overrides=("nodes.%s.t2_s=0.8" % a,))
    builder = link_points(ev)
    full = []
    monkeypatch.setattr(builder, "full_spec", lambda point, real=builder.full_spec: full.append(point) or real(point))
    rng = random.Random(5)
    points = list(_points(network, a, b, s, rng, 400))
    # the same values under different fields must not share a cached object
    points += [{f"nodes.{a}.t2_s": 0.25}, {f"nodes.{a}.emission_efficiency": 0.25}, {f"nodes.{a}.t2_s": 0.25}]
    fast_ok = 0
    for point in points:
        try:
            got = builder.spec(point)
        except Exception as exc:
            got = (type(exc), str(exc))
        try:
            want = LinkPoints.full_spec(builder, point)
        except Exception as exc:
            want = (type(exc), str(exc))
        if isinstance(want[0], type):
            assert got == want, point
        else:
            assert got[0] == want[0] and got[1] == want[1], point
            fast_ok += point not in full
    assert fast_ok > 100  # most valid points did take the fast path
    assert len(full) > 20  # and the unusual ones the full path


def test_per_point_update_after_a_bad_base_uses_the_full_path():
    """A --set that breaks the network is fixed by the point's own value: the point still works."""
    ev = sweep.LinkEvaluator(network=LIU, a="alice", b="bob", overrides=("nodes.alice.emission_efficiency=2",))
    rows = ev.evaluate([{"nodes.alice.emission_efficiency": 0.5}, {"nodes.bob.t2_s": 1.0}])
    assert rows[0]["error"] == "" and rows[0]["fidelity"] > 0.5
    assert rows[1]["error"].startswith("nodes.alice.emission_efficiency = 2.0 is invalid")


# --------------------------------------------------------------------------- rows


def _reference_rows(network, points):
    """Each point through the public API: network_from_dict, link_spec, compile_link, run_links."""
    out = []
    for point in points:
        sets = [f"{k}={toml_literal(v)}" for k, v in point.items()]
        try:
            graph = qnet.network_from_dict(network, overrides=sets)
            link = compile_link(link_spec(graph, "alice", "bob"))
            result = qnet.run_links([link])[0]
        except Exception as exc:
            out.append({"error": error_message(exc)})
            continue
        row = {name: getattr(result, name) for name in LINK_FIELDS}
        row["error"] = ""
        out.append(row)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["aer", "batch"])
def test_mixed_chunk_rows_equal_run_links(engine):
    rng = random.Random(11)
    points = []
    for _ in range(60):
        point = {
            "fibres.alice-station.length_km": rng.choice([0.5, 3.0, 17.0, 60.0]),
            "nodes.bob.bright_state_population": rng.choice([0.02, 0.2, 0.45]),
            "nodes.station.scheme": rng.choice(["single_click", "two_photon"]),
            "nodes.station.phase_noise_rad": rng.choice([0.0, 0.0, 0.3]),
            "nodes.alice.t1_s": rng.choice([math.inf, 0.05]),
            "nodes.bob.decay": rng.choice(["exponential", "gaussian"]),
        }
        if rng.random() < 0.1:
            point["nodes.alice.emission_efficiency"] = rng.choice([0.0, 1.5])  # never heralds / invalid
        points.append(point)
    sweep.clear_cache()
    rows = sweep.LinkEvaluator(network=LIU, a="alice", b="bob", link_backend=engine).evaluate(points)
    want = _reference_rows(LIU, points)
    assert {bool(r["error"]) for r in rows} == {True, False}
    for point, row, ref in zip(points, rows, want):
        assert row["error"] == ref["error"], point
        if ref["error"]:
            assert set(row) == {"error"}
            continue
        for name in LINK_FIELDS:
            if math.isinf(ref[name]):
                assert row[name] == ref[name]
            else:
                assert row[name] == pytest.approx(ref[name], rel=1e-12, abs=1e-14), (name, point)
        assert row["total_length_km"] == point["fibres.alice-station.length_km"] + 5.0


# --------------------------------------------------------------------------- the table


def test_row_formatter_writes_what_csv_writer_writes():
    values = [
        0.1,
        -0.0,
        0.0,
        math.nan,
        math.inf,
        -math.inf,
        1e-300,
        123456789.0,
        7,
        True,
        False,
        None,
        np.float64(0.5),
        np.int64(4),
        np.bool_(False),
        "plain",
        "with, comma",
        'quote "q"',
        "new\nline",
        "",
        " spaced ",
    ]
    rng = random.Random(2)
    rows = [[rng.choice(values) for _ in range(5)] for _ in range(300)] + [[0.1] * 5] * 50
    errors = [rng.choice(["", "nodes.alice.t2_s = -1 is invalid: a number > 0", 'x, "y"']) for _ in rows]
    formatter = RowFormatter(5)
    got = formatter.lines([list(col) for col in zip(*rows)], errors)
    buf = io.StringIO()
    csv.writer(buf).writerows([[cell_text(v) for v in row] + [e] for row, e in zip(rows, errors)])
    assert got == buf.getvalue()
    # again, with the caches warm (and some columns switched off)
    assert formatter.lines([list(col) for col in zip(*rows)], errors) == buf.getvalue()
    one = RowFormatter(0)
    buf = io.StringIO()
    csv.writer(buf).writerows([[""], ["x"]])
    assert one.lines([], ["", "x"]) == buf.getvalue()


@pytest.mark.slow
def test_an_output_written_in_order_is_the_final_table(tmp_path):
    ev = sweep.LinkEvaluator(network=LIU, a="alice", b="bob", link_backend="batch")
    axes = [
        sweep.parse_vary("fibres.alice-station.length_km=1:40:7"),
        sweep.parse_values("nodes.alice.emission_efficiency=0.05,1.5,0.0"),
        sweep.parse_values("nodes.bob.decay=exponential,gaussian"),
    ]
    out = tmp_path / "t.csv"
    sweep.run_sweep(ev, axes, out, chunk_size=5, progress=False)
    written = out.read_bytes()
    again = sweep.run_sweep(ev, axes, out, chunk_size=5, resume=True, progress=False)  # rewrites the table
    assert again.skipped == 42 and out.read_bytes() == written
    shuffled = sweep.run_sweep(ev, axes, tmp_path / "p.csv", chunk_size=5, workers=2, progress=False)
    assert shuffled.evaluated == 42 and (tmp_path / "p.csv").read_bytes() == written


@pytest.mark.parametrize("sizes", [(3,), (2, 3), (2, 1, 3), (1, 2, 2, 2)])
def test_grid_is_the_outer_product(sizes):
    axes = [
        sweep.Axis(tuple(f"nodes.n{i}.f{j}" for j in range(i % 2 + 1)), tuple(range(10 * i, 10 * i + k)))
        for i, k in enumerate(sizes)
    ]
    fields, points = sweep.grid(axes)
    want = []
    for combo in itertools.product(*(a.values for a in axes)):
        point = []
        for axis, value in zip(axes, combo):
            point += [value] * len(axis.fields)
        want.append(tuple(point))
    assert points == want and fields == tuple(f for a in axes for f in a.fields)
