"""GHZ fusion at the hub of an entanglement switch, as a noisy Qiskit circuit whose channel comes from Aer.

Physics and conventions
-----------------------
A switch (hub) shares one elementary pair with each of three users a, b, c. Each pair is a
4x4 density matrix with **memory A = the user's memory first** and memory B = the hub's
memory second (``qnet.quantum.states``), delivered towards |Psi+> = (|01> + |10>)/sqrt2. The
hub fuses its three memories into a three-user GHZ state:

* CNOT from hub memory a to hub memory b, then CNOT from hub memory a to hub memory c;
* H on hub memory a, then Z measurements of the three hub memories (bits m_a, m_b, m_c):
  hub a is measured in the X basis, hubs b and c in the Z basis. Together these project the
  hub's memories onto the GHZ basis (|0 m_b m_c> + (-1)^m_a |1 ~m_b ~m_c>)/sqrt2;
* Pauli-frame correction Z^m_a on user a, X^m_b on user b, X^m_c on user c.

**Target.** With three |Psi+> inputs every outcome leaves, after the correction, exactly

    |GHZ> = (|000> + |111>)/sqrt2   on (user a, user b, user c)          (:data:`GHZ_TARGET`)

Derivation: |Psi+>^(x3) = sum_{x,y,z} |x y z>_users |~x ~y ~z>_hub / (2 sqrt2). The CNOTs
turn the hub into |~x, y xor x, z xor x>, so m_b = x xor y, m_c = x xor z and the users hold
sum_x (-1)^(m_a (1 xor x)) |x, x xor m_b, x xor m_c>; X^m_b, X^m_c and Z^m_a (the phase
(-1)^m_a is global) leave sum_x |x x x>. The fusion always succeeds (the outcomes are
averaged over with their probabilities); a probabilistic fusion is the switch model's q
(:mod:`qnet.repeater.switch`).

Node noise (both in [0, 1], 1 = perfect), as for swaps (``docs/conventions.md`` §11):

* ``gate_fidelity`` f: each CNOT is followed by the two-qubit depolarising channel
  rho -> f rho + (1 - f) I/4 on its two qubits (Qiskit ``depolarizing_error(1 - f, 2)``);
  single-qubit gates (H) are perfect.
* ``readout_fidelity`` r: each of the three measured bits is flipped with probability 1 - r
  (a bit flip just before the measurement), so a flipped bit applies the wrong correction.

Closed forms (checked in ``tests/repeater/test_fusion.py`` against an independent numpy
construction):

* Perfect nodes, Bell-diagonal inputs. A Bell-diagonal pair is |Psi+> with a random Pauli on
  the user's memory: I with weight p_I = <Psi+|rho|Psi+>, X with p_X = <Phi+|rho|Phi+>,
  Z with p_Z = <Psi-|rho|Psi->, Y with p_Y = <Phi-|rho|Phi->. The users' memories are not
  touched by the hub, and a Pauli commutes with the correction up to a sign, so the output is
  GHZ with the Pauli P_a (x) P_b (x) P_c. It overlaps |GHZ> iff it is in GHZ's stabiliser
  {III, ZZI, IZZ, ZIZ, XXX, XYY, YXY, YYX} (up to sign), so
  F = p_I p_I p_I + p_Z p_Z p_I + p_I p_Z p_Z + p_Z p_I p_Z + p_X p_X p_X + p_X p_Y p_Y
  + p_Y p_X p_Y + p_Y p_Y p_X (factors in the order a, b, c). Werner inputs of fidelity F_i
  (p_X = p_Y = p_Z = e_i = (1 - F_i)/3) give F = F_a F_b F_c + F_a e_b e_c + e_a F_b e_c
  + e_a e_b F_c + 4 e_a e_b e_c; for equal F: F^3 + 3 F e^2 + 4 e^3.
* Noisy nodes, |Psi+> inputs. A Pauli error on the hub before its measurement only flips
  measured bits (a flip of m_a is a wrong Z on user a, of m_b or m_c a wrong X on b or c), and
  no non-trivial pattern Z^e_a X^e_b X^e_c is in the stabiliser, so F = P(no bit flipped).
  With c = 2r - 1: F = [1 + f c + f^2 c (1 + c)(2 + c)] / 8 (r^3 at f = 1, 1/8 at f = 0 or
  r = 1/2).

Why the channel is the hub's
----------------------------
The users' memories only receive Paulis controlled by the hub's bits, so the whole operation
is rho -> sum_m C_m Tr_hub[(I (x) F_m) rho] C_m^dag, where F_m is the POVM element of outcome m of
the hub's noisy circuit and C_m the correction. qnet obtains the hub circuit's channel (three
qubits, a 64 x 64 superoperator) from Aer once per (f, r) (:mod:`qnet.quantum.aer_channels`,
kind ``"fusion"``), reads off the eight F_m, and adds the corrections in numpy; the result is
cached as one 64 x 4096 matrix from the three pairs' product state to the users' 8x8 state.
The full six-qubit circuit with the coherent (deferred-measurement) corrections is
:func:`fusion_circuit`; its own superoperator would be 4096 x 4096 (268 MB, about 2 s on Aer
per setting), and the tests check that simulating it on Aer gives the same states as
:func:`fuse`.
"""

from __future__ import annotations

import functools
import itertools
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

if TYPE_CHECKING:  # pragma: no cover - typing only
    from qiskit import QuantumCircuit

__all__ = ["GHZ_TARGET", "fusion_hub_circuit", "fusion_circuit", "fuse", "ghz_fidelity"]

#: The fused state's target (|000> + |111>)/sqrt2 on (user a, user b, user c), index 4a + 2b + c.
GHZ_TARGET = np.zeros(8, dtype=complex)
GHZ_TARGET[[0, 7]] = 1.0 / np.sqrt(2.0)
GHZ_TARGET.setflags(write=False)

_TOL = 1e-9  # physicality tolerance of input states (as qnet.quantum.states.is_physical)
_CHUNK = 512  # states per matmul block (a block of product states is 512 x 4096 complex, 32 MB)


def _hub_ops(qc: QuantumCircuit, hubs: tuple[int, int, int], f: float, r: float) -> None:
    """Append the hub's noisy fusion (CNOTs, gate noise, H, readout flips) on ``hubs``."""
    ha, hb, hc = hubs
    noise = kraus_instruction(depolarizing_kraus(f, 2), label="gate noise") if f < 1.0 else None
    for target in (hb, hc):
        qc.cx(ha, target)
        if noise is not None:
            qc.append(noise, [ha, target])
    qc.h(ha)
    if r < 1.0:
        flip = kraus_instruction(bit_flip_kraus(r), label="readout flip")
        for q in hubs:
            qc.append(flip, [q])


def fusion_hub_circuit(gate_fidelity: float = 1.0, readout_fidelity: float = 1.0) -> QuantumCircuit:
    """The hub's part of the fusion: a 3-qubit circuit of gates and noise (no measurements).

    Qubits 0, 1, 2 are the hub's memories of the pairs with users a, b, c: CNOT 0 -> 1 and
    CNOT 0 -> 2, each followed by gate noise, H on qubit 0, then a readout bit flip on each
    qubit. Measuring the three qubits in Z afterwards gives the bits (m_a, m_b, m_c). This is
    the circuit registered with :mod:`qnet.quantum.aer_channels` as kind ``"fusion"``.

    Parameters
    ----------
    gate_fidelity : float
        f of each CNOT, in [0, 1] (1 = perfect).
    readout_fidelity : float
        r of each measured bit, in [0, 1] (1 = perfect).

    Returns
    -------
    qiskit.QuantumCircuit
        Three qubits, no classical bits.

    Raises
    ------
    ConfigError
        A fidelity outside [0, 1].

    Examples
    --------
    >>> from qnet.repeater.fusion import fusion_hub_circuit
    >>> qc = fusion_hub_circuit(gate_fidelity=0.99, readout_fidelity=0.98)
    >>> qc.num_qubits, dict(qc.count_ops())["cx"], dict(qc.count_ops())["kraus"]
    (3, 2, 5)
    """
    from qiskit import QuantumCircuit

    f = check_probability("gate_fidelity", gate_fidelity, "fusion")
    r = check_probability("readout_fidelity", readout_fidelity, "fusion")
    qc = QuantumCircuit(3, name="fusion_hub")
    _hub_ops(qc, (0, 1, 2), f, r)
    return qc


def fusion_circuit(gate_fidelity: float = 1.0, readout_fidelity: float = 1.0) -> QuantumCircuit:
    """The whole fusion as a 6-qubit circuit with coherent Pauli-frame corrections.

    Qubits: pair a = (q0 = user a, q1 = hub a), pair b = (q2, q3), pair c = (q4, q5), so the
    input state is ``kron(rho_a, rho_b, rho_c)`` with qnet's big-endian order. The hub's part
    (:func:`fusion_hub_circuit` on q1, q3, q5) is followed by the corrections as controlled
    gates (deferred measurement): CZ q1 -> q0, CX q3 -> q2, CX q5 -> q4. Tracing out the hub
    qubits afterwards leaves the fused state on (q0, q2, q4) = (user a, b, c), the same as
    measuring and correcting classically and averaging over the outcomes. :func:`fuse` uses
    the same operation (see the module docstring for why it is not simulated as a whole).

    Parameters
    ----------
    gate_fidelity, readout_fidelity : float
        The hub's noise, in [0, 1] (1 = perfect).

    Returns
    -------
    qiskit.QuantumCircuit
        Six qubits, no classical bits.

    Raises
    ------
    ConfigError
        A fidelity outside [0, 1].

    Examples
    --------
    >>> from qnet.repeater.fusion import fusion_circuit
    >>> qc = fusion_circuit(gate_fidelity=0.99)
    >>> qc.num_qubits, dict(qc.count_ops())["cx"], dict(qc.count_ops())["cz"]
    (6, 4, 1)
    """
    from qiskit import QuantumCircuit

    f = check_probability("gate_fidelity", gate_fidelity, "fusion")
    r = check_probability("readout_fidelity", readout_fidelity, "fusion")
    qc = QuantumCircuit(6, name="fusion")
    _hub_ops(qc, (1, 3, 5), f, r)
    qc.cz(1, 0)
    qc.cx(3, 2)
    qc.cx(5, 4)
    return qc


_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Z = np.diag([1.0, -1.0]).astype(complex)
_I = np.eye(2, dtype=complex)


@functools.lru_cache(maxsize=16)
def _fusion_map(gate_fidelity: float, readout_fidelity: float) -> np.ndarray:
    """The 64 x 4096 map from ``kron(rho_a, rho_b, rho_c).ravel()`` to the users' ``rho.ravel()``."""
    k = np.zeros((8, 8, 8, 8, 8, 8), dtype=complex)  # [u, u', v, h, v', h'], users v, hubs h
    for m in itertools.product((0, 1), repeat=3):
        # Tr[Pi_m E(sigma)] = sum_{h,h'} g[h, h'] sigma[h, h'] for the hub's 3-qubit state sigma
        g = reduced_map("fusion", gate_fidelity, readout_fidelity, keep=(), outcomes=[m]).reshape(8, 8)
        c = np.kron(np.kron(_Z if m[0] else _I, _X if m[1] else _I), _X if m[2] else _I)
        k += np.einsum("uv,hk,wx->uwvhxk", c, g, c.conj())
    # input order (users a b c, hubs a b c) -> pair order (ua, ha, ub, hb, uc, hc), rows and columns
    t = k.reshape((8, 8) + (2,) * 12)
    pairs = [0, 3, 1, 4, 2, 5]
    t = t.transpose([0, 1] + [2 + q for q in pairs] + [8 + q for q in pairs])
    m_out = np.ascontiguousarray(t.reshape(64, 4096))
    m_out.setflags(write=False)
    return m_out


def _check_pairs(states, where: str) -> list[np.ndarray]:
    """Three states or stacks as three (n, 4, 4) stacks of one length; ConfigError naming the bad one."""
    from qnet.errors import ConfigError

    stacks = []
    for name, rho in states:
        a = np.asarray(rho)
        if a.ndim not in (2, 3) or a.shape[-2:] != (4, 4) or a.shape[0] == 0:
            raise ConfigError(
                where, name, None, f"a 4x4 density matrix or a stack (n, 4, 4) of them is required, got shape {a.shape}"
            )
        a = a.reshape(-1, 4, 4).astype(complex, copy=False)
        bad = _unphysical(a)
        if bad is not None:
            raise ConfigError(
                where, name, None, f"not a density matrix (Hermitian, trace 1, no eigenvalue below -{_TOL:g}): {bad}"
            )
        stacks.append((name, a))
    n = max(len(a) for _, a in stacks)
    for name, a in stacks:
        if len(a) not in (1, n):
            raise ConfigError(where, name, None, f"a stack of {len(a)} states cannot be combined with a stack of {n}")
    return [np.broadcast_to(a, (n, 4, 4)) for _, a in stacks]


def _unphysical(a: np.ndarray) -> str | None:
    """Why the first unphysical state of the stack ``a`` is not a density matrix, or None."""
    if not np.all(np.isfinite(a)):
        return "it holds NaN or infinite entries"
    herm = np.abs(a - a.conj().transpose(0, 2, 1)).max(axis=(1, 2))
    trace = np.trace(a, axis1=1, axis2=2)
    low = np.linalg.eigvalsh((a + a.conj().transpose(0, 2, 1)) / 2)[:, 0]
    for i in range(len(a)):
        where = f"state {i} of the stack" if len(a) > 1 else "the state"
        if herm[i] > _TOL:
            return f"{where} is not Hermitian"
        if abs(trace[i] - 1.0) > _TOL:
            return f"{where} has trace {complex(trace[i]).real:.6g}"
        if low[i] < -_TOL:
            return f"{where} has eigenvalue {low[i]:.3g}"
    return None


def fuse(
    rho_a: np.ndarray,
    rho_b: np.ndarray,
    rho_c: np.ndarray,
    gate_fidelity: float = 1.0,
    readout_fidelity: float = 1.0,
) -> np.ndarray:
    """Fuse three user-hub pairs at the hub; return the users' 8x8 state, corrected towards GHZ.

    Each pair has memory A = the user's memory and B = the hub's memory, target |Psi+>. The
    result is on (user a, user b, user c) (index 4a + 2b + c), Pauli-frame corrected towards
    :data:`GHZ_TARGET` = (|000> + |111>)/sqrt2 and averaged over the hub's outcomes (the fusion
    always succeeds). Each argument may be a stack ``(n, 4, 4)``; a single state broadcasts
    against the stacks and a stack ``(n, 8, 8)`` is returned if any argument is one. The
    operation's channel is computed once per (f, r) (one Aer run) and cached; each call is a
    product with a 64 x 4096 matrix. Physics and closed forms: module docstring.

    Parameters
    ----------
    rho_a, rho_b, rho_c : ndarray, shape (4, 4) or (n, 4, 4)
        The pairs (A = user's memory, B = hub's memory) of users a, b, c.
    gate_fidelity, readout_fidelity : float
        The hub's noise, in [0, 1] (1 = perfect).

    Returns
    -------
    ndarray, shape (8, 8) or (n, 8, 8)
        The fused state(s) of the three users.

    Raises
    ------
    ConfigError
        A state of the wrong shape or not a density matrix (within 1e-9), stacks of different
        lengths, or a fidelity outside [0, 1]; the message names the argument.

    Examples
    --------
    Three Werner pairs of fidelity F = 0.9 (e = (1 - F)/3) give F^3 + 3 F e^2 + 4 e^3:

    >>> import numpy as np
    >>> from qnet.quantum.states import bell_projector
    >>> from qnet.repeater.fusion import fuse, ghz_fidelity
    >>> P = bell_projector("psi+")
    >>> werner = 0.9 * P + 0.1 * (np.eye(4) - P) / 3
    >>> round(ghz_fidelity(fuse(werner, werner, werner)), 6)
    0.732148
    >>> round(ghz_fidelity(fuse(P, P, P, gate_fidelity=1.0, readout_fidelity=0.99)), 6)   # r^3
    0.970299
    >>> fuse(np.stack([P, werner]), P, P).shape
    (2, 8, 8)
    """
    where = "fuse"
    f = check_probability("gate_fidelity", gate_fidelity, where)
    r = check_probability("readout_fidelity", readout_fidelity, where)
    single = all(np.ndim(x) == 2 for x in (rho_a, rho_b, rho_c))
    a, b, c = _check_pairs((("rho_a", rho_a), ("rho_b", rho_b), ("rho_c", rho_c)), where)
    m_t = _fusion_map(f, r).T
    out = np.empty((len(a), 64), dtype=complex)
    for s in range(0, len(a), _CHUNK):
        sl = slice(s, s + _CHUNK)
        # kron(a, b, c) row-major flattened: [n, i_a, i_b, i_c, j_a, j_b, j_c]
        joint = np.einsum("nad,nbe,ncf->nabcdef", a[sl], b[sl], c[sl]).reshape(-1, 4096)
        out[sl] = joint @ m_t
    states = out.reshape(-1, 8, 8)
    return states[0] if single else states


def ghz_fidelity(rho: np.ndarray):
    """Fidelity <GHZ|rho|GHZ> of a three-user state with :data:`GHZ_TARGET`.

    Parameters
    ----------
    rho : ndarray, shape (8, 8) or (n, 8, 8)
        Three-qubit density matrix(es), user a first (index 4a + 2b + c).

    Returns
    -------
    float or ndarray of shape (n,)
        (rho[0, 0] + rho[7, 7] + 2 Re rho[0, 7]) / 2, in [0, 1] for a physical state.

    Raises
    ------
    ConfigError
        ``rho`` is not 8x8 or a stack of 8x8 matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.fusion import GHZ_TARGET, ghz_fidelity
    >>> round(ghz_fidelity(np.outer(GHZ_TARGET, GHZ_TARGET.conj())), 12)
    1.0
    >>> ghz_fidelity(np.eye(8) / 8)                # the maximally mixed state
    0.125
    >>> ghz_fidelity(np.stack([np.eye(8) / 8] * 2)).tolist()
    [0.125, 0.125]
    """
    a = np.asarray(rho)
    if a.ndim not in (2, 3) or a.shape[-2:] != (8, 8):
        from qnet.errors import ConfigError

        raise ConfigError(
            "ghz_fidelity", "rho", None, f"an 8x8 density matrix or a stack (n, 8, 8) is required, got shape {a.shape}"
        )
    fid = (a[..., 0, 0].real + a[..., 7, 7].real + 2.0 * a[..., 0, 7].real) / 2.0
    return float(fid) if fid.ndim == 0 else fid


register_channel("fusion", fusion_hub_circuit)  # its Aer channel, for reduced_map("fusion", ...)
