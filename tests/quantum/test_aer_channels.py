"""Aer channel helpers (qnet.quantum.aer_channels) against hand calculations and Qiskit.

References: U rho U^dagger with explicit matrices, basis indices worked out by hand, and
``qiskit.quantum_info`` / ``qiskit_aer.noise`` for the named noise channels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qnet.errors import ConfigError
import qnet.repeater.fusion  # noqa: F401  (the repeater operations register their channels on import)
import qnet.repeater.purification  # noqa: F401
import qnet.repeater.swapping  # noqa: F401
from qnet.quantum import aer_channels as ac
from qnet.quantum import qubits
from qnet.quantum.states import bell_projector, fidelity
from qnet_testing import random_state

H = np.array([[1.0, 1.0], [1.0, -1.0]]) / math.sqrt(2)


def random_unitary(rng, dim):
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


# ------------------------------------------------------------------------ parameter checks
def test_check_probability():
    assert ac.check_probability("f", 0) == 0.0 and ac.check_probability("f", "1") == 1.0
    for bad in (1.5, -0.1, math.nan, "abc", None):
        with pytest.raises(ConfigError, match=r"where\.f.*a probability in \[0, 1\]"):
            ac.check_probability("f", bad, "where")


def test_node_pair():
    assert ac.node_pair("f", 0.9) == 0.9
    assert ac.node_pair("f", (0.9, 0.9)) == 0.9 and isinstance(ac.node_pair("f", [0.9, 0.9]), float)
    assert ac.node_pair("f", [0.9, 0.8]) == (0.9, 0.8)
    with pytest.raises(ConfigError, match="a pair"):
        ac.node_pair("f", (0.9, 0.8, 0.7), "swap")
    with pytest.raises(ConfigError, match=r"swap\.f"):
        ac.node_pair("f", (0.9, 1.2), "swap")


# ------------------------------------------------------------------------ noise as Kraus
@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("f", [1.0, 0.93, 0.0])
def test_depolarizing_kraus_is_qiskits_depolarizing_error(n, f):
    from qiskit.quantum_info import Kraus, SuperOp
    from qiskit_aer.noise import depolarizing_error

    ks = ac.depolarizing_kraus(f, n)
    assert len(ks) == (1 if f == 1.0 else 4**n)
    assert np.allclose(SuperOp(Kraus(ks)).data, SuperOp(depolarizing_error(1 - f, n)).data, atol=1e-12)
    rho = random_state(np.random.default_rng(5), 2**n)
    out = sum(k @ rho @ k.conj().T for k in ks)
    assert np.allclose(out, f * rho + (1 - f) * np.eye(2**n) / 2**n, atol=1e-12)


def test_bit_flip_kraus_by_hand():
    rho = np.array([[0.8, 0.1], [0.1, 0.2]])
    out = sum(k @ rho @ k.conj().T for k in ac.bit_flip_kraus(0.9))
    x = np.array([[0, 1], [1, 0]])
    assert np.allclose(out, 0.9 * rho + 0.1 * x @ rho @ x)
    assert len(ac.bit_flip_kraus(0.0)) == 1 and len(ac.bit_flip_kraus(1.0)) == 1
    with pytest.raises(ConfigError, match="readout_fidelity"):
        ac.bit_flip_kraus(2.0)


# ------------------------------------------------------------------------ Aer superoperators
def test_circuit_superop_and_kraus_instruction_match_qiskit():
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Kraus, SuperOp

    rng = np.random.default_rng(3)
    u = random_unitary(rng, 4)
    ks = [math.sqrt(0.7) * u, math.sqrt(0.3) * np.eye(4)]
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.append(ac.kraus_instruction(ks, "mix"), [0, 1])
    # little-endian: H on q0 is I (x) H; the Kraus matrices act with q0 as the low bit
    hh = np.kron(np.eye(2), H)
    by_hand = sum(np.kron((k @ hh).conj(), k @ hh) for k in ks)
    assert np.allclose(ac.circuit_superop(qc), by_hand, atol=1e-10)
    want = SuperOp(Kraus([k @ hh for k in ks])).data  # Qiskit's own column-stacked superoperator
    assert np.allclose(want, by_hand, atol=1e-10)
    inst = ac.kraus_instruction(ks)
    assert (inst.name, inst.num_qubits, inst.label) == ("kraus", 2, None)


def test_the_quantum_layer_knows_no_repeater_operation_until_the_repeater_layer_registers_it():
    import subprocess
    import sys

    code = (
        "import qnet.quantum.aer_channels as ac; print(ac.CHANNEL_KINDS); "
        "import qnet.repeater.swapping, qnet.repeater.purification, qnet.repeater.fusion; print(ac.CHANNEL_KINDS)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "()"
    assert set(eval(out[1])) == {"swap", "dejmps", "bbpssw", "fusion"}


def test_registering_the_same_builder_again_keeps_the_cache():
    s = ac.superop("swap", 0.93, 0.99)
    ac.register_channel("swap", ac._BUILDERS["swap"])
    assert ac.superop("swap", 0.93, 0.99) is s


def test_channel_circuit_and_unknown_kinds():
    assert set(("swap", "dejmps", "bbpssw")) <= set(ac.CHANNEL_KINDS)
    assert ac.channel_circuit("swap", 0.9, 0.95).num_qubits == 4
    for call in (
        lambda: ac.channel_circuit("teleport"),
        lambda: ac.superop("teleport"),
        lambda: ac.reduced_map("teleport"),
    ):
        with pytest.raises(ValueError, match="unknown channel kind 'teleport'"):
            call()


def test_superop_is_cached_per_setting_and_cleared():
    s = ac.superop("swap", 0.97, 0.99)
    assert not s.flags.writeable
    assert ac.superop("swap", (0.97, 0.97), [0.99, 0.99]) is s
    assert ac.superop("swap", 0.96, 0.99) is not s
    assert np.allclose(s, ac.circuit_superop(ac.channel_circuit("swap", 0.97, 0.99)), atol=1e-12)
    ac.clear_cache()
    assert ac.superop("swap", 0.97, 0.99) is not s


def test_reduced_map_is_the_superop_then_the_reduction():
    rng = np.random.default_rng(8)
    rho = random_state(rng, 16)
    s = ac.superop("swap", 0.9, 0.95)
    full = qubits.reverse_qubit_order(qubits.apply_superop(s, qubits.reverse_qubit_order(rho)))
    m = ac.reduced_map("swap", 0.9, 0.95, keep=(3, 0))
    assert m.shape == (16, 256) and not m.flags.writeable
    assert np.allclose((m @ rho.ravel()).reshape(4, 4), qubits.partial_trace(full, (3, 0)), atol=1e-12)
    m = ac.reduced_map("swap", 0.9, 0.95, keep=(0, 3), outcomes=[(0, 1), (1, 1)])
    want = qubits.project_and_trace(full, (0, 3), [(0, 1), (1, 1)])
    assert np.allclose((m @ rho.ravel()).reshape(4, 4), want, atol=1e-12)


def test_swap_outcomes_by_hand():
    # each of the four BSM outcomes has probability 1/4 and, corrected, leaves |Psi+> on (q0, q3)
    pairs = np.kron(bell_projector("psi+"), bell_projector("psi+"))
    for bits in ((0, 0), (0, 1), (1, 0), (1, 1)):
        out = (ac.reduced_map("swap", keep=(0, 3), outcomes=[bits]) @ pairs.ravel()).reshape(4, 4)
        assert np.trace(out).real == pytest.approx(0.25, abs=1e-12)
        assert fidelity(out / np.trace(out), "psi+") == pytest.approx(1.0, abs=1e-12)


def test_register_channel_builds_the_new_kind():
    from qiskit import QuantumCircuit

    def flip(gate_fidelity, readout_fidelity):
        qc = QuantumCircuit(2)
        qc.append(ac.kraus_instruction(ac.bit_flip_kraus(readout_fidelity)), [1])
        return qc

    ac.register_channel("test_flip_q1", flip)
    assert "test_flip_q1" in ac.CHANNEL_KINDS
    m = ac.reduced_map("test_flip_q1", readout_fidelity=0.75, keep=(1,))
    out = (m @ np.diag([1.0, 0.0, 0.0, 0.0]).ravel()).reshape(2, 2)
    assert np.allclose(out, np.diag([0.75, 0.25]), atol=1e-12)
