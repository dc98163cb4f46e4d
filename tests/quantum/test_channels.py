"""Kraus channels and decay laws (qnet.quantum.channels) against hand calculations.

Each channel is applied to explicit single-qubit matrices and compared with the closed form
of docs/conventions.md (populations decay by exp(-t/T1), coherences by c(t) exp(-t/(2 T1))),
or with Qiskit's own named channels where the docstring claims equality.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qnet.quantum import channels

PLUS = np.full((2, 2), 0.5, dtype=complex)  # |+><+|
ONE = np.diag([0.0, 1.0]).astype(complex)  # |1><1|


def apply(kraus, rho):
    return sum(k @ rho @ k.conj().T for k in kraus)


def assert_trace_preserving(kraus):
    assert np.allclose(sum(k.conj().T @ k for k in kraus), np.eye(kraus[0].shape[0]), atol=1e-14)


def test_fibre_transmission_in_decibels():
    assert channels.fibre_transmission(100.0, 0.2) == pytest.approx(0.01, rel=1e-14)  # 20 dB
    assert channels.fibre_transmission(15.0, 0.2) == pytest.approx(10**-0.3, rel=1e-14)  # 3 dB ~ 1/2
    assert channels.fibre_transmission(0.0, 0.2) == 1.0


def test_coherence_factor_laws():
    assert channels.coherence_factor(2.0, 4.0) == pytest.approx(math.exp(-0.5), rel=1e-14)
    assert channels.coherence_factor(2.0, 4.0, "gaussian") == pytest.approx(math.exp(-0.25), rel=1e-14)
    assert channels.coherence_factor(0.0, 1e-9) == 1.0
    assert channels.coherence_factor(5.0, math.inf, "gaussian") == 1.0
    with pytest.raises(ValueError, match="decay must be one of"):
        channels.coherence_factor(1.0, 1.0, "lorentzian")


def test_storage_coherence_factor_is_a_ratio_of_coherence_factors():
    for decay in channels.DECAY_LAWS:
        whole = channels.coherence_factor(3.0, 2.0, decay)
        first = channels.coherence_factor(1.0, 2.0, decay)
        assert channels.storage_coherence_factor(1.0, 3.0, 2.0, decay) == pytest.approx(whole / first, rel=1e-13)
    with pytest.raises(ValueError, match="ends before it starts"):
        channels.storage_coherence_factor(2.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="decay must be one of"):
        channels.storage_coherence_factor(0.0, 1.0, 1.0, "linear")


@pytest.mark.parametrize("gamma", [0.0, 0.2, 1.0])
def test_amplitude_damping_by_hand(gamma):
    ks = channels.amplitude_damping_kraus(gamma)
    assert_trace_preserving(ks)
    assert np.allclose(apply(ks, ONE), np.diag([gamma, 1 - gamma]), atol=1e-15)
    assert np.allclose(apply(ks, PLUS)[0, 1], 0.5 * math.sqrt(1 - gamma), atol=1e-15)
    with pytest.raises(ValueError, match="gamma must be in"):
        channels.amplitude_damping_kraus(1.5)


def test_loss_keeps_relative_precision_of_tiny_transmissions():
    eta = 1e-20
    out = apply(channels.loss_kraus(eta), ONE)
    assert out[1, 1].real == pytest.approx(eta, rel=1e-14)  # not rounded to 0 via 1 - (1 - eta)
    with pytest.raises(ValueError, match="transmission must be in"):
        channels.loss_kraus(-0.1)


@pytest.mark.parametrize("c", [0.0, 0.37, 1.0])
def test_dephasing_scales_coherence_only(c):
    ks = channels.dephasing_kraus(c)
    assert_trace_preserving(ks)
    rho = np.array([[0.7, 0.2 - 0.1j], [0.2 + 0.1j, 0.3]])
    want = rho.copy()
    want[0, 1] *= c
    want[1, 0] *= c
    assert np.allclose(apply(ks, rho), want, atol=1e-15)
    with pytest.raises(ValueError, match="coherence factor must be in"):
        channels.dephasing_kraus(1.01)


def test_dephasing_equals_qiskit_phase_damping():
    from qiskit.quantum_info import Kraus, SuperOp
    from qiskit_aer.noise import phase_damping_error

    c = 0.62
    ours = SuperOp(Kraus(channels.dephasing_kraus(c)))
    theirs = SuperOp(phase_damping_error(1 - c**2))
    assert np.allclose(ours.data, theirs.data, atol=1e-12)


def test_compose_kraus_order_and_dropped_zeros():
    x = np.array([[0, 1], [1, 0]], dtype=complex)
    z = np.diag([1.0, -1.0]).astype(complex)
    ks = channels.compose_kraus([x], [z])
    assert len(ks) == 1 and np.allclose(ks[0], z @ x)  # "then" acts after "first"
    # full dephasing then full loss: only the operators that survive remain
    ks = channels.compose_kraus(channels.dephasing_kraus(0.0), channels.loss_kraus(0.0))
    assert len(ks) == 2  # diag(1, 0) and |0><1|; the two zero products are dropped
    assert_trace_preserving(ks)


@pytest.mark.parametrize("decay", channels.DECAY_LAWS)
def test_storage_and_memory_kraus_closed_forms(decay):
    t1, t2, t0, t = 3.0, 2.0, 0.5, 1.5
    ks = channels.storage_kraus(t0, t, t1, t2, decay)
    assert_trace_preserving(ks)
    survival = math.exp(-(t - t0) / t1)
    c = channels.storage_coherence_factor(t0, t, t2, decay)
    assert np.allclose(apply(ks, ONE), np.diag([1 - survival, survival]), atol=1e-14)
    assert apply(ks, PLUS)[0, 1].real == pytest.approx(0.5 * c * math.sqrt(survival), rel=1e-13)
    # memory_kraus is storage from emission
    mem = apply(channels.memory_kraus(t, t1, t2, decay), PLUS)[0, 1].real
    assert mem == pytest.approx(0.5 * channels.coherence_factor(t, t2, decay) * math.exp(-t / (2 * t1)), rel=1e-13)


def test_memory_kraus_without_decay_is_the_identity():
    ks = channels.memory_kraus(10.0, math.inf, math.inf)
    rho = np.array([[0.6, 0.3j], [-0.3j, 0.4]])
    assert np.allclose(apply(ks, rho), rho, atol=1e-15)


def test_pair_coherence_time_closed_forms():
    inf = math.inf
    # exponential: 1/T = 1/2 + 1/3; gaussian: 1/T^2 = 1/9 + 1/16
    assert channels.pair_coherence_time((2.0, inf, "exponential"), (3.0, inf, "exponential")) == pytest.approx(
        1.2, rel=1e-14
    )
    assert channels.pair_coherence_time((3.0, inf, "gaussian"), (4.0, inf, "gaussian")) == pytest.approx(2.4, rel=1e-14)
    # T1 alone: the coherence falls as exp(-t/(2 T1)) per memory
    assert channels.pair_coherence_time((inf, 2.0, "exponential"), (inf, 2.0, "exponential")) == pytest.approx(
        2.0, rel=1e-14
    )
    # mixed: t/1 + (t/1)^2 = 1 -> t = (sqrt5 - 1)/2
    t = channels.pair_coherence_time((1.0, inf, "exponential"), (1.0, inf, "gaussian"))
    assert t == pytest.approx((math.sqrt(5) - 1) / 2, rel=1e-14)
    assert channels.pair_coherence_time((inf, inf, "gaussian")) == inf
    with pytest.raises(ValueError, match="decay must be one of"):
        channels.pair_coherence_time((1.0, inf, "cubic"))


def test_storage_factors_vectorise_the_scalar_laws():
    t_from = np.array([0.0, 0.4, 1.0])
    t_to = np.array([0.5, 0.4, 2.5])
    for decay in channels.DECAY_LAWS:
        c, s = channels.storage_factors(t_from, t_to, 1.7, 0.9, decay)
        for i in range(3):
            assert c[i] == pytest.approx(channels.storage_coherence_factor(t_from[i], t_to[i], 0.9, decay), rel=1e-13)
            assert s[i] == pytest.approx(math.exp(-(t_to[i] - t_from[i]) / 1.7), rel=1e-13)
    c, s = channels.storage_factors(0.0, np.array([1.0, 2.0]), math.inf, math.inf)
    assert c.tolist() == [1.0, 1.0] and s.tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="ends before it starts"):
        channels.storage_factors(1.0, 0.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="decay must be one of"):
        channels.storage_factors(0.0, 1.0, 1.0, 1.0, "linear")


def test_apply_storage_on_memory_b_by_hand():
    # |Phi+> with memory B decayed: populations |x1> -> |x0> with 1 - s, coherence |00><11| * c sqrt(s)
    v = np.array([1.0, 0.0, 0.0, 1.0]) / math.sqrt(2)
    rho = np.outer(v, v)[None]
    c, s = 0.8, 0.5
    out = channels.apply_storage(rho, 1, np.array([c]), np.array([s]))[0]
    want = np.zeros((4, 4))
    want[0, 0], want[3, 3], want[2, 2] = 0.5, 0.5 * s, 0.5 * (1 - s)
    want[0, 3] = want[3, 0] = 0.5 * c * math.sqrt(s)
    assert np.allclose(out, want, atol=1e-15)
    assert np.allclose(rho[0], np.outer(v, v))  # input untouched
    with pytest.raises(ValueError, match="memory must be 0"):
        channels.apply_storage(rho, 2, np.array([c]), np.array([s]))
