"""Qubit order, superoperators and reductions (qnet.quantum.qubits) against hand calculations.

Basis indices are worked out by hand; unitary channels are checked against U rho U^dagger.
"""

from __future__ import annotations

import numpy as np
import pytest

from qnet.quantum import qubits
from qnet.quantum.states import fidelity
from qnet_testing import random_state


def random_unitary(rng, dim):
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def test_reverse_qubit_order_by_hand():
    # 3 qubits: big-endian |q0 q1 q2> = |110> is index 6; little-endian, sum b_q 2^q = 1 + 2 = 3
    rho = np.zeros((8, 8))
    rho[6, 6] = 1.0
    out = qubits.reverse_qubit_order(rho)
    assert out[3, 3] == 1.0 and np.count_nonzero(out) == 1
    stack = np.stack([random_state(np.random.default_rng(i), 8) for i in range(3)])
    assert np.allclose(qubits.reverse_qubit_order(qubits.reverse_qubit_order(stack)), stack)
    with pytest.raises(ValueError, match="not a power of 2"):
        qubits.reverse_qubit_order(np.eye(3))


def test_apply_superop_is_u_rho_u_dagger():
    rng = np.random.default_rng(7)
    u = random_unitary(rng, 4)
    s = np.kron(u.conj(), u)  # column stacking: vec(U rho U^+) = (U* x U) vec(rho)
    stack = np.stack([random_state(rng) for _ in range(3)])
    out = qubits.apply_superop(s, stack)
    for rho, got in zip(stack, out):
        assert np.allclose(got, u @ rho @ u.conj().T, atol=1e-12)


def test_partial_trace_by_hand():
    rng = np.random.default_rng(11)
    a, b = random_state(rng, 2), random_state(rng, 4)  # qubit 0 in a, qubits 1 and 2 in b
    rho = np.kron(a, b)
    assert np.allclose(qubits.partial_trace(rho, [0]), a, atol=1e-12)
    assert np.allclose(qubits.partial_trace(rho, (1, 2)), b, atol=1e-12)
    swapped = b.reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)  # b with its qubits exchanged
    assert np.allclose(qubits.partial_trace(rho, (2, 1)), swapped, atol=1e-12)
    assert np.allclose(qubits.partial_trace(np.stack([rho, rho]), [0]), np.stack([a, a]), atol=1e-12)


def test_project_and_trace_by_hand():
    # (|000> + |011> + |101> + |110>)/2: finding q2 = 0 leaves (|00> + |11>)/2, unnormalised
    v = np.zeros(8)
    v[[0, 3, 5, 6]] = 0.5
    rho = np.outer(v, v)
    out = qubits.project_and_trace(rho, keep=(0, 1), outcomes=[(0,)])
    assert np.trace(out).real == pytest.approx(0.5)
    assert fidelity(out / np.trace(out), "phi+") == pytest.approx(1.0)
    both = qubits.project_and_trace(rho, keep=(0, 1), outcomes=[(0,), (1,)])
    assert np.allclose(both, qubits.partial_trace(rho, (0, 1)))
    with pytest.raises(ValueError, match="distinct qubits"):
        qubits.project_and_trace(rho, keep=(0, 0))
    with pytest.raises(ValueError, match="each outcome must give 1 bits"):
        qubits.project_and_trace(rho, keep=(0, 1), outcomes=[(0, 1)])
    with pytest.raises(ValueError, match="outcomes repeat"):
        qubits.project_and_trace(rho, keep=(0, 1), outcomes=[(1,), (1,)])


def test_superop_tensor_acts_big_endian():
    rng = np.random.default_rng(4)
    u_little = random_unitary(rng, 8)
    s = np.kron(u_little.conj(), u_little)
    t = qubits.superop_tensor(s, 3).reshape(8, 8, 8, 8)
    rho_big = random_state(rng, 8)
    got = np.einsum("abcd,cd->ab", t, rho_big)
    want = qubits.reverse_qubit_order(u_little @ qubits.reverse_qubit_order(rho_big) @ u_little.conj().T)
    assert np.allclose(got, want, atol=1e-12)
