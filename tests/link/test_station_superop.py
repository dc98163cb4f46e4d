"""The compiled station (two_photon: one instrument per polarisation) is the full instrument's channel.

Independent references: Qiskit's ``SuperOp``/``Choi`` of the full Kraus list (not qnet's
formulas), and Aer and the batch engine running the old form (one ``kraus`` instruction of the
full 4-qubit list) and the full instrument as one ``superop`` next to the compiled circuit.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Instruction
from qiskit.quantum_info import Choi, Kraus, SuperOp

import qnet
from qnet.link import batch
from qnet.link.station import station_factors, station_kraus, station_superop
from qnet_testing import ALL_VARIANTS, TOL, aer_density_matrices, build_link_network

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARAMS = list(itertools.product(("single_click", "two_photon"), (1.0, 0.84, 0.3), (0.0, 6e-5, 0.02)))


@pytest.mark.parametrize("scheme, visibility, dark", PARAMS)
def test_superop_is_the_kraus_channel(scheme, visibility, dark):
    ops = station_kraus(scheme, visibility, dark)
    s = station_superop(scheme, visibility, dark)
    assert np.abs(s - SuperOp(Kraus(list(ops))).data).max() <= 1e-12
    assert np.abs(Choi(SuperOp(s)).data - Choi(Kraus(list(ops))).data).max() <= 1e-12
    assert not s.flags.writeable


@pytest.mark.parametrize("visibility, dark", [(1.0, 0.0), (0.84, 6e-5), (0.3, 0.02), (0.999, 0.4)])
def test_two_photon_station_is_the_product_of_its_polarisations(visibility, dark):
    full = SuperOp(Kraus(list(station_kraus("two_photon", visibility, dark))))
    product = SuperOp(np.eye(256))
    for _name, ops, qubits in station_factors("two_photon", visibility, dark):
        product = product.compose(SuperOp(Kraus(list(ops))), qargs=list(qubits))
    assert np.abs(product.data - full.data).max() <= 1e-12
    ((name, ops, qubits),) = station_factors("single_click", visibility, dark)
    assert ops is station_kraus("single_click", visibility, dark) and qubits == (0, 1)


def _old_form(qc, form="kraus"):
    """The circuit with its station as one instruction of the full instrument (as compiled before issue #9)."""
    spec = qc.metadata["spec"]
    old = qc.copy_empty_like()
    for inst in qc.data:
        if not (inst.operation.label or "").startswith("station"):
            old.append(inst)
    photons = [old.qubits[q] for q in qc.metadata["photon_qubits"]]
    args = (spec["scheme"], spec["visibility"], spec["dark_count_probability"])
    if form == "kraus":
        params = [np.array(k) for k in station_kraus(*args)]
    else:
        params = [np.array(station_superop(*args))]
    old.append(Instruction(form, len(photons), 0, params, label=f"station {spec['scheme']}"), photons)
    return old


def _example_links():
    for path in sorted((ROOT / "examples").glob("*.toml")):
        graph = qnet.load_network(path)
        for a, b, s in qnet.elementary_links(graph):
            yield qnet.compile_link(qnet.link_spec(graph, a, b, s))


def _random_links(n=6, seed=5):
    rng = np.random.default_rng(seed)
    for i in range(n):
        scheme = ("single_click", "two_photon")[i % 2]
        station = {
            "visibility": float(rng.uniform(0.5, 1)),
            "dark_count_probability": float(10 ** rng.uniform(-7, -1.5)),
        }
        data = build_link_network(
            scheme,
            length_a_km=float(rng.uniform(0.1, 40)),
            length_b_km=float(rng.uniform(0.1, 40)),
            alice={"t2_s": float(10 ** rng.uniform(-4, -1))},
            bob={"t1_s": float(10 ** rng.uniform(-3, 0))},
            station=station,
            alpha=float(rng.uniform(0.02, 0.4)),
        )
        yield qnet.compile_link(qnet.link_spec(qnet.network_from_dict(data), "alice", "bob"))


@pytest.mark.slow
def test_old_and_new_station_give_the_same_states_on_aer_and_batch():
    links = list(_example_links()) + list(_random_links())
    new = [link.circuit for link in links]
    old = [_old_form(qc) for qc in new]
    sup = [_old_form(qc, "superop") for qc in new]
    aer_new, aer_old, aer_sup = aer_density_matrices(new), aer_density_matrices(old), aer_density_matrices(sup)
    batch_new, batch_old = batch.density_matrices(new), batch.density_matrices(old)
    for a, b, c, d, e in zip(aer_new, aer_old, batch_new, batch_old, aer_sup):
        assert np.abs(a - b).max() <= TOL
        assert np.abs(a - e).max() <= TOL
        assert np.abs(c - d).max() <= TOL
        assert np.abs(a - c).max() <= TOL


@pytest.mark.parametrize("scheme, kwargs", [p for p in ALL_VARIANTS if "everything" in p.id or "dark" in p.id])
def test_link_results_equal_on_both_engines(scheme, kwargs):
    link = qnet.compile_link(
        qnet.link_spec(qnet.network_from_dict(build_link_network(scheme, **kwargs)), "alice", "bob")
    )
    (aer,) = qnet.run_links([link])
    (fast,) = qnet.run_links([link], link_backend="batch")
    for name in ("fidelity", "success_probability", "rate_hz", "chsh", "qber", "bb84_key_fraction"):
        assert getattr(fast, name) == pytest.approx(getattr(aer, name), rel=1e-10, abs=1e-14), name


def test_superop_instruction_convention_with_a_complex_channel():
    """Aer's ``superop`` (Qiskit's column-stacking convention) and the batch engine's reading agree with ``kraus``."""
    rng = np.random.default_rng(3)
    g = rng.normal(size=(3, 4, 4)) + 1j * rng.normal(size=(3, 4, 4))
    h = np.einsum("kab,kac->bc", g.conj(), g)
    w, v = np.linalg.eigh(h)
    ops = [k @ v @ np.diag(w**-0.5) @ v.conj().T for k in g]  # a complex, trace-preserving Kraus set
    circuits = []
    for form in ("kraus", "superop"):
        qc = QuantumCircuit(3)
        qc.h(0)
        qc.ry(0.4, 1)
        qc.cx(0, 2)
        qc.s(2)
        params = ops if form == "kraus" else [SuperOp(Kraus(ops)).data]
        qc.append(Instruction(form, 2, 0, [np.array(p) for p in params]), [2, 0])
        circuits.append(qc)
    aer = aer_density_matrices(circuits)
    fast = batch.density_matrices(circuits)
    assert np.abs(aer[0] - aer[1]).max() <= TOL
    assert np.abs(fast[1] - aer[0]).max() <= TOL and np.abs(fast[0] - aer[0]).max() <= TOL


def test_distinct_superop_objects_with_one_matrix_share_one_superoperator():
    links = list(_random_links(2))
    copies = [_old_form(links[1].circuit, "superop") for _ in range(3)]  # own instruction objects, equal matrices
    got = batch.density_matrices(copies)
    for g in got[1:]:
        assert np.array_equal(g, got[0])
