"""Entanglement purification (BBPSSW, DEJMPS) as noisy bilateral-CNOT circuits, channel from Aer.

Physics and conventions
-----------------------
Two pairs shared by the same two nodes enter one round: pair 1 = (q0, q1) is kept, pair 2 =
(q2, q3) is sacrificed. q0, q2 are node A's memories and q1, q3 node B's; states are 4x4
density matrices with memory A first (``qnet.quantum.states``). Each node applies a CNOT from its
pair-1 memory onto its pair-2 memory (bilateral CNOT: q0 -> q2 at A, q1 -> q3 at B), both
nodes measure their pair-2 memory in Z and the round succeeds when the two bits coincide
(docs/literature.md §5.5); pair 1 is kept, normalised, on success.

**Target frame.** The literature states the recurrences for the |Phi+> target; qnet's links
deliver |Psi+> = (I (x) X)|Phi+>. The circuit therefore starts with X on memory B of both
pairs (q1, q3), which maps Psi+ -> Phi+, Phi+ -> Psi+, Psi- -> Phi-, Phi- -> Psi- (up to
sign), runs the textbook protocol in the Phi+ frame and ends with X on the kept pair's memory
B (q1). Inputs and output are thus expressed towards |Psi+>, and in the literature's DEJMPS
labels A = Phi+, B = Psi-, C = Psi+, D = Phi- (Phi+ frame) our coefficients are
A = <Psi+|rho|Psi+>, B = <Phi-|..>, C = <Phi+|..>, D = <Psi-|..>.

* **BBPSSW** (Bennett et al. 1996): each input is first twirled to the Werner state of the same
  fidelity F towards |Psi+> (:func:`twirl_to_werner`, done in numpy: the twirl is a random
  bilateral rotation whose average is exactly that Werner state), then the bilateral CNOT.
  With perfect nodes: p = F^2 + 2F(1-F)/3 + 5((1-F)/3)^2, F' = (F^2 + ((1-F)/3)^2)/p.
  ``twirl=True`` (default, the protocol as Bennett et al., PRL 76, 722 (1996) state it): the
  kept pair is twirled again, so the output is the Werner state of fidelity F'.
  ``twirl=False``: the output as it comes out of the circuit (Bell-diagonal, same F' and p,
  not Werner); a next round would twirl it anyway. The choice changes the delivered state's
  other figures (CHSH, QBER, keys), never its fidelity or the success probability.
* **DEJMPS** (Deutsch et al. 1996): no twirl; in the Phi+ frame node A applies Rx(pi/2) and node
  B Rx(-pi/2) to both of their memories before the bilateral CNOT (Rx(t) = exp(-i t X/2)).
  For Bell-diagonal inputs and perfect nodes: N = (A+B)^2 + (C+D)^2 = p, A' = (A^2+B^2)/N,
  B' = 2CD/N, C' = (C^2+D^2)/N, D' = 2AB/N.

Node noise (both parameters in [0, 1], 1 = perfect):

Each may also be a pair (node A, node B) when the two nodes differ.

* ``gate_fidelity`` f: each CNOT is followed by the two-qubit depolarising channel
  rho -> f rho + (1 - f) I/4 on its two memories (Qiskit ``depolarizing_error(1 - f, 2)``).
  Single-qubit gates (the frame X's and the DEJMPS rotations) are perfect.
* ``readout_fidelity`` r: each measured bit (q2, q3) is flipped with probability 1 - r (a bit-flip
  channel just before measurement), so a wrong coincidence decision can be taken.

The (gates + noise) circuit's channel is obtained from Aer once per (protocol, f, r) and cached
(:mod:`qnet.quantum.aer_channels`); projection onto the kept outcomes (q2, q3) in {00, 11} and the
trace over q2, q3 are done in numpy, so the unnormalised output's trace is the success
probability.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np

from qnet.quantum.aer_channels import (
    bit_flip_kraus,
    depolarizing_kraus,
    kraus_instruction,
    node_pair,
    reduced_map,
    register_channel,
)
from qnet.quantum.states import bell_projector, broadcast_state_stacks
from qnet.repeater.choices import PROTOCOLS

if TYPE_CHECKING:  # pragma: no cover - typing only
    from qiskit import QuantumCircuit

__all__ = ["PROTOCOLS", "KEPT_OUTCOMES", "purify_circuit", "purify", "twirl_to_werner"]

#: Supported protocols.

#: Outcomes of the measured pair-2 memories (q2, q3) on which a round succeeds.
KEPT_OUTCOMES = ((0, 0), (1, 1))

_PSI_PLUS = bell_projector("psi+")
_EYE4 = np.eye(4, dtype=complex)


def _protocol(protocol: str) -> str:
    p = str(protocol).lower()
    if p not in PROTOCOLS:
        from qnet.errors import ConfigError

        raise ConfigError("purify", "protocol", protocol, f"one of {', '.join(PROTOCOLS)}")
    return p


def purify_circuit(
    protocol: str = "dejmps",
    gate_fidelity: float = 1.0,
    readout_fidelity: float = 1.0,
    measure: bool = False,
) -> QuantumCircuit:
    """One purification round as a 4-qubit circuit (pair 1 = (q0, q1) kept, pair 2 = (q2, q3)).

    Order: X on q1, q3 (Psi+ -> Phi+ frame); for DEJMPS Rx(pi/2) on q0, q2 and Rx(-pi/2) on
    q1, q3; CX q0 -> q2 and CX q1 -> q3, each followed by gate noise; readout flips on q2, q3;
    X on q1 (back to the Psi+ frame). Noise is raw Aer ``kraus`` instructions, omitted when the
    fidelity is 1. With ``measure=True`` q2, q3 are also measured into two classical bits (for
    inspection and drawing); the channel used by :func:`purify` is the circuit without them.
    BBPSSW's twirl acts on the input states and is not part of the circuit.

    Parameters
    ----------
    protocol : str
        One of :data:`PROTOCOLS`.
    gate_fidelity, readout_fidelity : float or (float, float)
        Noise of nodes A and B (one number for both), in [0, 1].
    measure : bool
        Also measure q2, q3 into two classical bits.

    Returns
    -------
    qiskit.QuantumCircuit

    Raises
    ------
    ConfigError
        An unknown protocol or a fidelity outside [0, 1].

    Examples
    --------
    >>> from qnet.repeater.purification import purify_circuit
    >>> qc = purify_circuit("dejmps", measure=True)
    >>> qc.num_qubits, qc.num_clbits, dict(qc.count_ops())["rx"]
    (4, 2, 4)
    """
    from qiskit import QuantumCircuit

    proto = _protocol(protocol)
    f_a, f_b = _per_node(node_pair("gate_fidelity", gate_fidelity, "purify_circuit"))
    r_a, r_b = _per_node(node_pair("readout_fidelity", readout_fidelity, "purify_circuit"))
    qc = QuantumCircuit(4, 2 if measure else 0, name=f"purify_{proto}")
    qc.x(1)
    qc.x(3)
    if proto == "dejmps":
        qc.rx(math.pi / 2, 0)
        qc.rx(math.pi / 2, 2)
        qc.rx(-math.pi / 2, 1)
        qc.rx(-math.pi / 2, 3)
    for (control, target), f in (((0, 2), f_a), ((1, 3), f_b)):  # node A's CNOT, node B's CNOT
        qc.cx(control, target)
        if f < 1.0:
            qc.append(kraus_instruction(depolarizing_kraus(f, 2), label="gate noise"), [control, target])
    for q, r in ((2, r_a), (3, r_b)):
        if r < 1.0:
            qc.append(kraus_instruction(bit_flip_kraus(r), label="readout flip"), [q])
    qc.x(1)
    if measure:
        qc.measure([2, 3], [0, 1])
    return qc


def _per_node(value: float | tuple[float, float]) -> tuple[float, float]:
    return value if isinstance(value, tuple) else (value, value)


def twirl_to_werner(rho: np.ndarray) -> np.ndarray:
    """Werner state F|Psi+><Psi+| + (1-F)(I - |Psi+><Psi+|)/3 with F = <Psi+|rho|Psi+>.

    This is the average of rho over random bilateral rotations U (x) U* conjugated into the
    Psi+ frame, i.e. the BBPSSW twirl. Accepts a 4x4 matrix or a stack ``(n, 4, 4)``.

    Parameters
    ----------
    rho : ndarray, shape (4, 4) or (n, 4, 4)
        Pair states.

    Returns
    -------
    ndarray, same shape as ``rho``

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import fidelity
    >>> from qnet.repeater.purification import twirl_to_werner
    >>> w = twirl_to_werner(np.diag([0.0, 0.5, 0.5, 0.0]))  # |01><01|/2 + |10><10|/2: F = 1/2
    >>> round(fidelity(w, "psi+"), 6), round(float(np.real(w[0, 0])), 6)
    (0.5, 0.166667)
    """
    rho = np.asarray(rho)
    f = np.real(np.einsum("ij,...ji->...", _PSI_PLUS, rho))[..., None, None]
    return f * _PSI_PLUS + (1.0 - f) / 3.0 * (_EYE4 - _PSI_PLUS)


def purify(
    rho1: np.ndarray,
    rho2: np.ndarray,
    protocol: str = "dejmps",
    gate_fidelity: float | tuple[float, float] = 1.0,
    readout_fidelity: float | tuple[float, float] = 1.0,
    twirl: bool = True,
) -> tuple[float | np.ndarray, np.ndarray]:
    """One purification round on pairs ``rho1`` (kept) and ``rho2`` (sacrificed).

    Returns ``(success_probability, rho_out)``: the probability that the measured bits
    coincide and the kept pair's normalised state on success, both towards |Psi+> (see the
    module docstring for the frame conversion, the protocols and the noise). Either input
    may be a stack ``(n, 4, 4)`` (a single 4x4 broadcasts against a stack); then an array of
    n probabilities and a stack of states are returned. Where the success probability is 0
    the state is undefined: a single pair raises :class:`qnet.errors.QnetError`; in a stack
    that state is NaN (its probability, 0, says why). ``twirl`` (BBPSSW only; DEJMPS never
    twirls): re-twirl the kept pair to Werner form (default True, module docstring).

    Parameters
    ----------
    rho1, rho2 : ndarray, shape (4, 4) or (n, 4, 4)
        The kept and the sacrificed pair.
    protocol : str
        One of :data:`PROTOCOLS`.
    gate_fidelity, readout_fidelity : float or (float, float)
        Noise of nodes A and B (one number for both), in [0, 1].
    twirl : bool
        BBPSSW re-twirls its output (default True).

    Returns
    -------
    (float, ndarray) or (ndarray, ndarray)
        Success probability and the kept pair's state on success.

    Raises
    ------
    ConfigError
        An unknown protocol or a fidelity outside [0, 1].
    QnetError
        Two single pairs whose purification never succeeds.

    Examples
    --------
    BBPSSW on two Werner pairs of F = 0.9 (perfect nodes; p = F^2 + 2F(1-F)/3 + 5((1-F)/3)^2):

    >>> import numpy as np
    >>> from qnet.quantum.states import bell_projector, fidelity
    >>> P = bell_projector("psi+")
    >>> werner = 0.9 * P + 0.1 * (np.eye(4) - P) / 3
    >>> from qnet.repeater.purification import purify
    >>> p, rho = purify(werner, werner, protocol="bbpssw")
    >>> round(p, 6), round(fidelity(rho, "psi+"), 6)
    (0.875556, 0.926396)
    """
    proto = _protocol(protocol)
    single = np.ndim(rho1) == 2 and np.ndim(rho2) == 2
    a, b = broadcast_state_stacks(rho1, rho2)
    if proto == "bbpssw":
        a = twirl_to_werner(a)
        b = twirl_to_werner(b)
    m = reduced_map(proto, gate_fidelity, readout_fidelity, keep=(0, 1), outcomes=KEPT_OUTCOMES)
    joint = (a[:, :, None, :, None] * b[:, None, :, None, :]).reshape(len(a), 256)
    out = (joint @ m.T).reshape(-1, 4, 4)
    p = np.real(np.einsum("nii->n", out))
    ok = p > 1e-15
    rho_out = np.full(out.shape, np.nan, dtype=complex)
    np.divide(out, p[:, None, None], out=rho_out, where=ok[:, None, None])
    p = np.where(ok, p, 0.0)
    if proto == "bbpssw" and twirl:
        rho_out = np.where(ok[:, None, None], twirl_to_werner(rho_out), rho_out)
    if single:
        if not ok[0]:
            from qnet.errors import QnetError

            raise QnetError(f"{proto} purification of these two pairs never succeeds (success probability 0)")
        return float(p[0]), rho_out[0]
    return p, rho_out


# their Aer channels, for reduced_map("dejmps", ...) and reduced_map("bbpssw", ...)
for _name in PROTOCOLS:
    register_channel(_name, functools.partial(purify_circuit, _name))
del _name
