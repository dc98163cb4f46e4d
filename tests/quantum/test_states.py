"""Two-qubit state helpers (qnet.quantum.states) against hand calculations.

Bell vectors are written out here from their definitions in docs/conventions.md; orders are
checked with explicit basis states, not with qnet's own reshapes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qnet.quantum import states
from qnet_testing import random_state

S = 1.0 / math.sqrt(2.0)
KET = {"00": 0, "01": 1, "10": 2, "11": 3}  # |a b> -> index 2a + b, memory A first


def ket(*terms: tuple[float, str]) -> np.ndarray:
    v = np.zeros(4, dtype=complex)
    for amp, label in terms:
        v[KET[label]] += amp
    return v


BELL_BY_HAND = {
    "phi+": ket((S, "00"), (S, "11")),
    "phi-": ket((S, "00"), (-S, "11")),
    "psi+": ket((S, "01"), (S, "10")),
    "psi-": ket((S, "01"), (-S, "10")),
}


@pytest.mark.parametrize("name", sorted(BELL_BY_HAND))
def test_bell_state_and_projector_by_hand(name):
    assert np.allclose(states.bell_state(name), BELL_BY_HAND[name], atol=1e-15)
    assert np.allclose(states.bell_state(name.upper()), BELL_BY_HAND[name], atol=1e-15)
    v = BELL_BY_HAND[name]
    assert np.allclose(states.bell_projector(name), np.outer(v, v.conj()), atol=1e-15)


def test_bell_state_returns_a_copy_and_refuses_unknown_names():
    v = states.bell_state("psi+")
    v[:] = 0
    assert np.allclose(states.bell_state("psi+"), BELL_BY_HAND["psi+"])
    with pytest.raises(ValueError, match="unknown Bell state 'chi'"):
        states.bell_state("chi")


def test_fidelity_of_werner_and_of_a_vector_target():
    w = 0.6
    rho = w * states.bell_projector("psi+") + (1 - w) * np.eye(4) / 4
    assert states.fidelity(rho, "psi+") == pytest.approx(w + (1 - w) / 4, abs=1e-12)
    assert states.fidelity(rho, "phi-") == pytest.approx((1 - w) / 4, abs=1e-12)
    # a product-state target given as a vector: <01|rho|01> = (1-w)/4 + w/2
    assert states.fidelity(rho, ket((1.0, "01"))) == pytest.approx((1 - w) / 4 + w / 2, abs=1e-12)


@pytest.mark.parametrize("target", [*BELL_BY_HAND, "vector"])
def test_fidelity_of_a_state_is_the_same_alone_and_in_any_stack(target):
    """<t|rho|t> elementwise: each state's fidelity has the same bits alone and in stacks of any
    size (so a sweep's rows do not depend on its chunks), and equals np.vdot(t, rho t)."""
    rng = np.random.default_rng(7)
    rhos = np.stack([random_state(rng) for _ in range(300)])
    t = BELL_BY_HAND["psi+"] if target == "vector" else BELL_BY_HAND[target]
    if target == "vector":  # a general target: every w_ij non-zero
        t = rng.normal(size=4) + 1j * rng.normal(size=4)
        t /= np.linalg.norm(t)
    name = t if target == "vector" else target
    alone = [states.fidelity(r, name) for r in rhos]
    assert all(type(f) is float for f in alone)
    for size in (1, 2, 3, 17, 300):
        stacked = states.fidelity(rhos[:size], name)
        assert stacked.shape == (size,) and stacked.tolist() == alone[:size]
    by_hand = [np.vdot(t, r @ t).real for r in rhos]
    assert np.allclose(alone, by_hand, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "pa, pb, becomes",
    [
        ("I", "I", "psi+"),
        ("Z", "I", "psi-"),
        ("I", "Z", "psi-"),
        ("X", "I", "phi+"),
        ("I", "X", "phi+"),
        ("Y", "I", "phi-"),
    ],
)
def test_apply_pauli_maps_bell_states_as_by_hand(pa, pb, becomes):
    # (Z x I)(|01> + |10>) = |01> - |10>; (X x I)(|01> + |10>) = |11> + |00>; (Y x I) gives i|11> - i|00>
    out = states.apply_pauli(states.bell_projector("psi+"), pa, pb)
    assert states.fidelity(out, becomes) == pytest.approx(1.0, abs=1e-12)


def test_from_qiskit_order_reads_qiskit_basis_indices():
    # 3 qubits in Qiskit order: |q2 q1 q0> = |1 0 1>, basis index 1 + 4 = 5
    rho = np.zeros((8, 8))
    rho[5, 5] = 1.0
    assert np.diag(states.from_qiskit_order(rho, 3, (0, 1))).real.tolist() == [0.0, 0.0, 1.0, 0.0]  # |q0 q1> = |10>
    assert np.diag(states.from_qiskit_order(rho, 3, (1, 2))).real.tolist() == [0.0, 1.0, 0.0, 0.0]  # |q1 q2> = |01>
    assert np.diag(states.from_qiskit_order(rho, 3, (2, 0))).real.tolist() == [0.0, 0.0, 0.0, 1.0]  # |q2 q0> = |11>


def test_from_qiskit_order_keeps_coherences_and_traces_out_the_rest():
    # Qiskit-order Bell pair (|00> + |11>)/sqrt2 on qubits 0 and 2, qubit 1 in |1>: indices 2 and 7
    v = np.zeros(8)
    v[[2, 7]] = S
    out = states.from_qiskit_order(np.outer(v, v), 3, (0, 2))
    assert np.allclose(out, states.bell_projector("phi+"), atol=1e-15)
    assert np.allclose(states.from_qiskit_order(np.outer(v, v), 3, (1,)), np.diag([0.0, 1.0]))


def test_is_physical_by_case():
    assert states.is_physical(states.bell_projector("psi-"))
    assert states.is_physical(random_state(np.random.default_rng(3)))
    assert not states.is_physical(np.eye(4) / 2)  # trace 2
    assert not states.is_physical(np.array([[0.5, 0.5], [0.0, 0.5]]))  # not Hermitian
    assert not states.is_physical(np.diag([1.1, -0.1]))  # negative eigenvalue
    assert states.is_physical(np.diag([1.0 + 1e-12, -1e-12]))  # within atol
    assert not states.is_physical(np.diag([np.nan, 1.0]))


def test_nearest_physical_state_by_hand():
    # eigenvalues (0.6, 0.5, -0.05, -0.05): both negatives are zeroed, their -0.1 shared by the
    # two positive ones -> (0.55, 0.45, 0, 0), in the same eigenbasis
    u = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)))[0]
    rho = u @ np.diag([0.6, 0.5, -0.05, -0.05]) @ u.T
    assert np.allclose(states.nearest_physical_state(rho), u @ np.diag([0.55, 0.45, 0.0, 0.0]) @ u.T, atol=1e-12)
    # a physical state is its own nearest state; scale and Hermitian part are fixed first
    sigma = random_state(np.random.default_rng(2))
    assert np.allclose(states.nearest_physical_state(sigma), sigma, atol=1e-12)
    assert np.allclose(states.nearest_physical_state(3 * sigma), sigma, atol=1e-12)
    with pytest.raises(ValueError, match="trace"):
        states.nearest_physical_state(-np.eye(4))


def test_as_state_stack_and_broadcast():
    one = states.bell_projector("psi+")
    assert states.as_state_stack(one).shape == (1, 4, 4)
    assert states.as_state_stack(np.stack([one, one])).shape == (2, 4, 4)
    with pytest.raises(ValueError, match="sigma must be a 4x4"):
        states.as_state_stack(np.eye(2), "sigma")
    with pytest.raises(ValueError):
        states.as_state_stack(np.zeros((2, 2, 4, 4)))
    a, b = states.broadcast_state_stacks(np.stack([one] * 3), one)
    assert a.shape == b.shape == (3, 4, 4) and np.allclose(b[2], one)
    with pytest.raises(ValueError, match="different lengths: 2 and 3"):
        states.broadcast_state_stacks(np.stack([one] * 2), np.stack([one] * 3))
