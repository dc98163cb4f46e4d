"""The batch engine (qnet.link.batch) equals Aer on every circuit qnet compiles, and on generic circuits.

Aer is the reference: each circuit gets a ``save_density_matrix`` of all its qubits and runs
exactly (density-matrix method, one run() for all). The batch engine must return the same
final density matrices to 1e-12, hence the same heralded states and figures.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet.link import batch
from qnet.link.spec import elementary_links
from qnet.link.results import LINK_FIELDS

from qnet_testing import ALL_VARIANTS, TOL, aer_density_matrices, compiled

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


def assert_same_links(links):
    """Batch final states, heralded states and figures all equal Aer's."""
    want = aer_density_matrices([c.circuit for c in links])
    got = batch.density_matrices([c.circuit for c in links])
    for w, g in zip(want, got):
        assert g.shape == w.shape
        assert np.abs(g - w).max() <= TOL
    aer_results = qnet.run_links(links)
    batch_results = qnet.run_links(links, link_backend="batch")
    for a, b in zip(aer_results, batch_results):
        assert np.abs(a.density_matrix - b.density_matrix).max() <= TOL
        for name in LINK_FIELDS:
            x, y = getattr(a, name), getattr(b, name)
            if math.isinf(x):
                assert x == y
            else:
                assert y == pytest.approx(x, rel=1e-10, abs=TOL), name


@pytest.mark.parametrize("scheme, kwargs", ALL_VARIANTS)
def test_every_link_feature_equals_aer(scheme, kwargs):
    assert_same_links([compiled(scheme=scheme, **kwargs)])


@pytest.mark.parametrize("scheme, kwargs", ALL_VARIANTS)
def test_every_link_feature_equals_aer_as_an_instruction_list(scheme, kwargs):
    """The sweep's path: the link's instruction list (no QuantumCircuit) through the batch engine."""
    link = compiled(scheme=scheme, **kwargs)
    want = aer_density_matrices([link.circuit])[0]
    got = batch.density_matrices([qnet.link.circuit.link_program(link.spec)])[0]
    assert np.abs(got - want).max() <= TOL


@pytest.mark.slow
def test_all_variants_in_one_call_grouped_by_structure():
    """Mixed schemes and noise structures in one call: grouping must not mix them up."""
    links = [compiled(scheme=p.values[0], **p.values[1]) for p in ALL_VARIANTS]
    assert len({batch.circuit_structure(c.circuit) for c in links}) > 2
    assert_same_links(links)


@pytest.mark.slow
def test_points_that_differ_in_every_parameter_share_one_batch():
    """One structure, every parameter different per point (per-point superoperators)."""
    rng = np.random.default_rng(7)
    links = []
    for scheme in ("single_click", "two_photon"):
        for _ in range(12):
            station = {
                "visibility": float(rng.uniform(0.6, 1.0)),
                "dark_count_probability": float(rng.uniform(1e-4, 0.05)),
            }
            if scheme == "single_click":
                station["phase_noise_rad"] = float(rng.uniform(0.01, 0.8))
            links.append(
                compiled(
                    scheme=scheme,
                    length_a_km=float(rng.uniform(0.5, 40)),
                    length_b_km=float(rng.uniform(0.5, 40)),
                    alpha=float(rng.uniform(0.01, 0.4)),
                    alice={"t2_s": float(rng.uniform(1e-4, 1e-3)), "t1_s": float(rng.uniform(1e-4, 1e-2))},
                    bob={
                        "t2_s": float(rng.uniform(1e-4, 1e-3)),
                        "decay": "gaussian",
                        "emission_efficiency": float(rng.uniform(0.2, 1)),
                    },
                    station=station,
                )
            )
    assert len({batch.circuit_structure(c.circuit) for c in links}) == 2
    assert_same_links(links)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_compiled_examples_equal_aer(path):
    graph = qnet.load_network(path)
    links = [qnet.compile_link(qnet.link_spec(graph, a, b, s)) for a, b, s in elementary_links(graph)]
    assert links, f"{path.name} has no elementary link"
    assert_same_links(links)


def test_sub_batch_size_does_not_change_results():
    links = [compiled(length_a_km=float(x), alpha=0.1) for x in np.linspace(1, 30, 9)]
    circuits = [c.circuit for c in links]
    one = batch.density_matrices(circuits, block_bytes=1)  # one circuit per sub-batch
    many = batch.density_matrices(circuits)
    assert max(np.abs(a - b).max() for a, b in zip(one, many)) == 0.0


# --------------------------------------------------------------------------- generic circuits


def _random_kraus(rng, n_qubits: int, n_ops: int) -> list[np.ndarray]:
    """A random CPTP map: blocks of a random isometry (sum K^dagger K = 1)."""
    d = 2**n_qubits
    z = rng.normal(size=(n_ops * d, d)) + 1j * rng.normal(size=(n_ops * d, d))
    q, _ = np.linalg.qr(z)
    return [q[i * d : (i + 1) * d] for i in range(n_ops)]


def _generic_circuit(rng, shared):
    """Every supported instruction kind; ``shared`` holds the parameters common to all points."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Instruction
    from qiskit.circuit.library import UnitaryGate

    qc = QuantumCircuit(5)
    qc.ry(float(rng.uniform(0, 3)), 0)
    qc.rx(float(rng.uniform(0, 3)), 3)
    qc.h(1)
    qc.x(4)
    qc.cx(0, 2)
    qc.sdg(2)
    qc.rz(shared["rz"], 1)
    qc.barrier()
    qc.append(Instruction("kraus", 1, 0, _random_kraus(rng, 1, 3)), [4])
    qc.append(Instruction("kraus", 2, 0, shared["k2"]), [3, 0])  # shared, dense
    qc.append(Instruction("kraus", 2, 0, _random_kraus(rng, 2, 2)), [1, 4])  # per point, dense
    qc.append(UnitaryGate(shared["u"]), [2, 1])
    qc.append(Instruction("kraus", 3, 0, _random_kraus(rng, 3, 2)), [4, 0, 2])  # per point
    qc.append(Instruction("kraus", 4, 0, shared["k4"]), [1, 2, 3, 4])  # shared, 4 qubits
    qc.append(Instruction("kraus", 4, 0, _random_kraus(rng, 4, 2)), [0, 3, 2, 1])  # per point
    qc.cx(4, 3)
    qc.p(float(rng.uniform(0, 3)), 4)
    return qc


@pytest.mark.slow
def test_generic_instructions_equal_aer():
    from scipy.stats import unitary_group

    rng = np.random.default_rng(11)
    shared = {
        "rz": 0.7,
        "k2": _random_kraus(rng, 2, 3),
        "k4": _random_kraus(rng, 4, 2),
        "u": unitary_group.rvs(4, random_state=3),
    }
    circuits = [_generic_circuit(rng, shared) for _ in range(5)]
    want = aer_density_matrices(circuits)
    got = batch.density_matrices(circuits)
    assert max(np.abs(w - g).max() for w, g in zip(want, got)) <= TOL


@pytest.mark.parametrize("instruction", ["measure", "reset"])
def test_unsupported_instructions_are_refused(instruction):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2)
    qc.h(0)
    if instruction == "measure":
        qc.measure(0, 0)
    else:
        qc.reset(1)
    with pytest.raises(batch.UnsupportedInstruction, match=instruction):
        batch.density_matrices([qc])


def test_heralded_states_use_qnet_heralded_state():
    links = [compiled(alpha=0.1), compiled(scheme="two_photon")]
    batch_results = qnet.run_links(links, link_backend="batch")
    for res, c, r in zip(batch_results, links, aer_density_matrices([c.circuit for c in links])):
        p_aer, rho_aer = qnet.heralded_state(r, c)
        assert res.success_probability == pytest.approx(p_aer, abs=TOL)
        assert np.abs(res.density_matrix - rho_aer).max() <= TOL


@pytest.mark.parametrize("correction", [(a, b) for a in "IXYZ" for b in "IXYZ"])
def test_herald_corrections_are_the_pauli_products_exactly(correction):
    """heralded_states applies a herald's Pauli correction as a signed permutation of the block:
    the same numbers as the sum u_ik S_kl conj(u_jl) over k, l (every product there is by 0, +-1
    or +-i, so exact: equal, not close), on random dense 4-qubit states."""
    from qnet.link.run import heralded_states
    from qnet.link.station import Herald
    from qnet.quantum.states import PAULI

    rng = np.random.default_rng(sum(map(ord, "".join(correction))))
    m = rng.normal(size=(20, 16, 16)) + 1j * rng.normal(size=(20, 16, 16))
    rhos = m @ m.conj().transpose(0, 2, 1)
    rhos /= np.trace(rhos, axis1=1, axis2=2).real[:, None, None]
    heralds = (Herald((1, 0), ("c",), "psi+", ("I", "I")), Herald((0, 1), ("d",), "psi-", correction))
    p, states = heralded_states(rhos, 4, (0, 3), (1, 2), heralds)
    # by hand: each herald's memory block (photons at its clicks), summed, corrected by u S u^dagger
    total = np.zeros((20, 4, 4), dtype=complex)
    for h in heralds:
        rows = [(a >> 1) << 0 | (a & 1) << 3 | h.clicks[0] << 1 | h.clicks[1] << 2 for a in range(4)]
        block = rhos[:, rows][:, :, rows]
        u = np.kron(PAULI[h.correction[0]], PAULI[h.correction[1]])
        total += np.einsum("ik,nkl,jl->nij", u, block, u.conj(), optimize=False)  # elementwise, no BLAS
    want_p = np.trace(total, axis1=1, axis2=2).real
    want = total / want_p[:, None, None]
    want = (want + want.conj().transpose(0, 2, 1)) / 2
    assert np.array_equal(p, want_p)
    assert np.array_equal(states, want)
