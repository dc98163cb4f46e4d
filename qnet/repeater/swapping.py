"""Entanglement swapping at a repeater node, as a noisy Qiskit circuit whose channel comes from Aer.

Physics and conventions
-----------------------
Two elementary pairs meet at a repeater: pair L = (q0, q1) and pair R = (q2, q3), where q1 and
q2 are the repeater's two memories and q0, q3 are the outer memories at the neighbouring
nodes. States are 4x4 density matrices with memory A first (``qnet.quantum.states``): the left pair's
A is its outer memory q0, the right pair's B is its outer memory q3, and the swapped pair
is (A = q0, B = q3). Elementary links deliver |Psi+> = (|01> + |10>)/sqrt2, and the swap
keeps that target: the Bell-state measurement (BSM) outcome's Pauli-frame correction is
chosen so that |Psi+> (x) |Psi+> gives exactly |Psi+> on (q0, q3).

The BSM is CNOT q1 -> q2, then H on q1, then Z measurements of q1 (bit m1) and q2 (bit m2).
The outcomes (m1, m2) = (0,0), (0,1), (1,0), (1,1) project q1 q2 onto Phi+, Psi+, Phi-, Psi-;
for Psi+ (x) Psi+ inputs the outer pair is then Phi+, Psi+, Phi-, Psi- (up to sign) and the
correction X^(1 xor m2) Z^m1 on q3 turns each into |Psi+>. The circuit applies that
correction coherently (deferred measurement): X on q3, CX(q2 -> q3), CZ(q1 -> q3); tracing
out q1 q2 afterwards is the same as measuring them and correcting classically, averaged over
the outcomes with their probabilities (the swap is deterministic).

Node noise (both parameters in [0, 1], 1 = perfect):

* ``gate_fidelity`` f: the BSM's CNOT is followed by the two-qubit depolarising channel
  rho -> f rho + (1 - f) I/4 on (q1, q2) (Qiskit ``depolarizing_error(1 - f, 2)``). Single-qubit
  gates (H) are perfect.
* ``readout_fidelity`` r: each measured bit is flipped with probability 1 - r, modelled as a
  bit-flip channel on q1 and q2 just before the (deferred) measurement, so a flipped bit
  applies the wrong Pauli correction.

The controlled corrections stand for classical feed-forward and are noiseless.
With f = r = 1 and Werner inputs of fidelities F1, F2 (towards Psi+) the output is Werner with
F = F1 F2 + (1 - F1)(1 - F2)/3 (``docs/conventions.md``); for Bell-diagonal inputs the output's
coefficients are the Klein-group (XOR) convolution of the inputs' (docs/literature.md §5.4).

The channel of the circuit is obtained from Aer once per (f, r) and cached
(:mod:`qnet.quantum.aer_channels`); each :func:`swap` call is then one small matrix product, and a
stack of input pairs is swapped with one ``matmul``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qnet.quantum.aer_channels import (
    bit_flip_kraus,
    check_probability,
    depolarizing_kraus,
    kraus_instruction,
    reduced_map,
    register_channel,
)
from qnet.quantum.states import broadcast_state_stacks

if TYPE_CHECKING:  # pragma: no cover - typing only
    from qiskit import QuantumCircuit

__all__ = ["swap_circuit", "swap"]


def swap_circuit(gate_fidelity: float = 1.0, readout_fidelity: float = 1.0) -> QuantumCircuit:
    """The swap as a 4-qubit circuit of gates and noise (no measurement instructions).

    Qubits: pair L = (q0, q1), pair R = (q2, q3); the repeater's memories q1, q2 undergo the
    Bell-state measurement (CNOT q1 -> q2 followed by gate noise, H on q1, readout flips on
    q1 and q2) and the Pauli-frame correction X^(1 xor m2) Z^m1 is applied to q3 coherently
    (X q3, CX q2 -> q3, CZ q1 -> q3). Noise is raw Aer ``kraus`` instructions, omitted when the
    corresponding fidelity is 1. The swapped pair is (q0, q3) once q1 and q2 are traced out.
    See the module docstring for the physics.

    Parameters
    ----------
    gate_fidelity : float
        f of the BSM's CNOT, in [0, 1] (1 = perfect).
    readout_fidelity : float
        r of each measured bit, in [0, 1] (1 = perfect).

    Returns
    -------
    qiskit.QuantumCircuit
        Four qubits, no classical bits.

    Raises
    ------
    ConfigError
        A fidelity outside [0, 1].

    Examples
    --------
    >>> from qnet.repeater.swapping import swap_circuit
    >>> qc = swap_circuit(gate_fidelity=0.99)
    >>> qc.num_qubits, dict(qc.count_ops())["cx"]
    (4, 2)
    """
    from qiskit import QuantumCircuit

    f = check_probability("gate_fidelity", gate_fidelity, "swap_circuit")
    r = check_probability("readout_fidelity", readout_fidelity, "swap_circuit")
    qc = QuantumCircuit(4, name="swap")
    # Bell-state measurement on the repeater's memories q1, q2
    qc.cx(1, 2)
    if f < 1.0:
        qc.append(kraus_instruction(depolarizing_kraus(f, 2), label="gate noise"), [1, 2])
    qc.h(1)
    if r < 1.0:
        flip = kraus_instruction(bit_flip_kraus(r), label="readout flip")
        qc.append(flip, [1])
        qc.append(flip, [2])
    # Pauli-frame correction X^(1 xor m2) Z^m1 on q3, deferred measurement
    qc.x(3)
    qc.cx(2, 3)
    qc.cz(1, 3)
    return qc


def swap(
    rho_left: np.ndarray,
    rho_right: np.ndarray,
    gate_fidelity: float = 1.0,
    readout_fidelity: float = 1.0,
) -> np.ndarray:
    """Swap two pairs at a repeater; return the 4x4 state of the outer memories.

    ``rho_left`` is pair (A = outer memory, B = repeater memory), ``rho_right`` is pair
    (A = repeater memory, B = outer memory); the result has A = left's outer memory and
    B = right's outer memory, Pauli-frame corrected towards |Psi+>, averaged over the BSM
    outcomes (the swap always succeeds). Either argument may be a stack ``(n, 4, 4)``; stacks
    are broadcast against each other (a single 4x4 against a stack is allowed) and a stack is
    returned. Noise parameters as in the module docstring.

    Parameters
    ----------
    rho_left : ndarray, shape (4, 4) or (n, 4, 4)
        Left pair (A = outer memory, B = repeater memory).
    rho_right : ndarray, shape (4, 4) or (n, 4, 4)
        Right pair (A = repeater memory, B = outer memory).
    gate_fidelity, readout_fidelity : float
        The repeater's noise, in [0, 1] (1 = perfect).

    Returns
    -------
    ndarray, shape (4, 4) or (n, 4, 4)
        The swapped pair (left's outer memory, right's outer memory).

    Raises
    ------
    ConfigError
        A fidelity outside [0, 1] or states of the wrong shape.

    Examples
    --------
    Two Werner pairs of fidelity 0.9 give F = 0.9 * 0.9 + 0.1 * 0.1 / 3:

    >>> import numpy as np
    >>> from qnet.quantum.states import bell_projector, fidelity
    >>> P = bell_projector("psi+")
    >>> werner = 0.9 * P + 0.1 * (np.eye(4) - P) / 3
    >>> from qnet.repeater.swapping import swap
    >>> out = swap(werner, werner)
    >>> round(fidelity(out, "psi+"), 6)
    0.813333
    """
    single = np.ndim(rho_left) == 2 and np.ndim(rho_right) == 2
    left, right = broadcast_state_stacks(rho_left, rho_right, ("rho_left", "rho_right"))
    m = reduced_map("swap", gate_fidelity, readout_fidelity, keep=(0, 3))
    # kron(left, right) in big-endian order (q0 q1 q2 q3), row-major flattened: [n, i, k, j, l]
    joint = (left[:, :, None, :, None] * right[:, None, :, None, :]).reshape(len(left), 256)
    out = (joint @ m.T).reshape(-1, 4, 4)
    return out[0] if single else out


register_channel("swap", swap_circuit)  # its Aer channel, for reduced_map("swap", ...)
