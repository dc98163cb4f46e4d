"""An elementary link's Qiskit circuit, compiled from its :class:`~qnet.link.spec.LinkSpec`.

:func:`compile_link` turns a ``LinkSpec`` into a :class:`CompiledLink`: a ``QuantumCircuit``
(memories, photonic modes, emission, loss as amplitude damping, optical phase noise, memory
dephasing and T1 as raw Aer ``kraus`` instructions, the station as a click-record instrument)
plus the metadata needed to read the heralded state out of its final density matrix. The
circuit is built from a plain instruction list (:func:`link_program`, a :class:`LinkProgram` of
:class:`LinkOp`), which the batch engine (:mod:`qnet.link.batch`) also evaluates directly.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from qnet.link.spec import LinkSpec
from qnet.link.station import HERALDS, TARGET, Herald, station_factors
from qnet.quantum import channels

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

__all__ = [
    "CompiledLink",
    "LinkOp",
    "LinkProgram",
    "link_program",
    "program_circuit",
    "program_metadata",
    "program_fields",
    "compile_link",
]


@dataclass(frozen=True)
class CompiledLink:
    """A link's circuit and what is needed to read its heralded state.

    ``circuit`` ends with the station's click record on the photonic qubits; it has no save
    instruction, so it can be inspected, drawn, changed and saved (QPY). The heralded
    memory state for record ``h.clicks`` is the block of the final density matrix where the
    photonic qubits hold those bits; ``h.correction`` is applied to reach the target.
    Built by :func:`compile_link`.

    Parameters
    ----------
    spec : LinkSpec
        The link's physical parameters.
    circuit : qiskit.QuantumCircuit
        Its circuit (one attempt), without a save instruction.
    memory_qubits : tuple of int
        (memory A, memory B) qubit indices.
    photon_qubits : tuple of int
        The photonic qubits, in the station instrument's order.
    heralds : tuple of Herald
        The click records that herald, with their Pauli corrections.
    target : str, default TARGET
        The Bell state delivered after correction.
    metadata : dict
        The circuit's metadata (:func:`program_metadata`).

    Examples
    --------
    >>> import qnet
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> link = qnet.compile_link(spec)
    >>> link.memory_qubits, link.photon_qubits, [h.clicks for h in link.heralds], link.target
    ((0, 3), (1, 2), [(1, 0), (0, 1)], 'psi+')
    """

    spec: LinkSpec
    circuit: "QuantumCircuit"
    memory_qubits: tuple[int, int]  # (memory A, memory B)
    photon_qubits: tuple[int, ...]  # station instrument order (detector record after it)
    heralds: tuple[Herald, ...]
    target: str = TARGET
    metadata: dict[str, Any] = field(default_factory=dict)


class LinkOp(NamedTuple):
    """One instruction of a link circuit, without Qiskit: what :func:`compile_link` appends.

    ``name`` and ``qubits`` (circuit indices) as in the circuit; ``params`` the instruction's
    parameters: the angle of ``ry``, the Kraus matrices of ``kraus`` (read-only arrays, Qiskit's
    little-endian order on ``qubits``), nothing for ``cx``, ``h``, ``x``, ``barrier``.
    ``label`` is the instruction's label. ``key`` is hashable and names the instruction
    exactly (equal keys, equal instructions): compiled circuits share one Qiskit instruction
    object per key, and the batch engine one superoperator.

    Examples
    --------
    >>> import qnet
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> op = link_program(spec).ops[0]
    >>> op.name, op.qubits, round(op.params[0], 6)  # ry(2 asin(sqrt(alpha))) on memory A
    ('ry', (0,), 0.451027)
    """

    name: str
    qubits: tuple[int, ...]
    params: tuple = ()
    label: str | None = None
    key: tuple = ()


class LinkProgram(NamedTuple):
    """A link's circuit as a plain instruction list (:class:`LinkOp`), and how to read it.

    :func:`compile_link` builds its ``QuantumCircuit`` from exactly these instructions;
    :mod:`qnet.link.batch` evaluates them directly (no Qiskit objects). ``structure`` is the qubit
    count and the sequence of (name, qubits): programs with equal structure differ only in
    their parameters and are simulated together. Built by :func:`link_program`.

    Examples
    --------
    >>> import qnet
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> program = link_program(spec)
    >>> program.name, program.num_qubits, len(program.ops), program.structure[1][1]
    ('link_alice_bob', 4, 12, ('cx', (0, 1)))
    """

    spec: LinkSpec
    num_qubits: int
    ops: tuple[LinkOp, ...]
    memory_qubits: tuple[int, int]
    photon_qubits: tuple[int, ...]
    heralds: tuple[Herald, ...]
    structure: tuple
    target: str = TARGET

    @property
    def name(self) -> str:
        """The circuit's name, ``link_A_B``."""
        return f"link_{self.spec.node_a}_{self.spec.node_b}"


def _fkey(x: float) -> tuple[float, float]:
    """A cache key of a float that tells 0.0 from -0.0 (they print differently in labels)."""
    return (x, math.copysign(1.0, x))


def _frozen(ops) -> tuple[np.ndarray, ...]:
    out = []
    for k in ops:
        k = np.array(k, dtype=complex)  # a private copy: the cached matrices are shared
        k.setflags(write=False)
        out.append(k)
    return tuple(out)


_OPS_CACHE = 4096


@lru_cache(maxsize=_OPS_CACHE)
def _ry_op(alpha: float, m: int) -> LinkOp:
    theta = 2.0 * math.asin(math.sqrt(alpha))
    return LinkOp("ry", (m,), (theta,), None, ("ry", m, _fkey(theta)))


@lru_cache(maxsize=_OPS_CACHE)
def _loss_op(eta_key: tuple[float, float], name: str, q: int) -> LinkOp:
    eta = eta_key[0]
    label = f"loss {name} (eta={eta:.3g})"
    return LinkOp("kraus", (q,), _frozen(channels.loss_kraus(eta)), label, ("loss", eta_key, label, q))


@lru_cache(maxsize=_OPS_CACHE)
def _phase_op(sigma_key: tuple[float, float], q: int) -> LinkOp:
    sigma = sigma_key[0]
    label = f"phase noise ({sigma:.3g} rad)"
    ops = _frozen(channels.dephasing_kraus(math.exp(-0.5 * sigma * sigma)))  # sigma * sigma: inf, not OverflowError
    return LinkOp("kraus", (q,), ops, label, ("phase", sigma_key, label, q))


@lru_cache(maxsize=_OPS_CACHE)
def _memory_op(t_key: tuple[float, float], t1: float, t2: float, law: str, name: str, m: int) -> LinkOp:
    t = t_key[0]
    label = f"memory {name} ({t:.3g} s)"
    ops = _frozen(channels.memory_kraus(t, t1, t2, law))
    return LinkOp("kraus", (m,), ops, label, ("memory", t_key, t1, t2, law, label, m))


@lru_cache(maxsize=256)
def _station_ops(scheme: str, visibility: float, dark: float, photons: tuple[int, ...]) -> tuple[LinkOp, ...]:
    out = []
    for part, kraus, where in station_factors(scheme, visibility, dark):
        label = f"station {scheme} {part}".rstrip()
        qubits = tuple(photons[j] for j in where)
        key = ("station", scheme, part, _fkey(visibility), _fkey(dark), qubits)
        out.append(LinkOp("kraus", qubits, _frozen(kraus), label, key))
    return tuple(out)


_EMISSION: dict[str, tuple[LinkOp, ...] | None] = {
    # single_click, node i: sqrt(1-alpha)|0>|vac> + sqrt(alpha)|1>|1 photon> (ry on the memory, cx onto the photon)
    "single_click": None,
    # two_photon, node i: (|0>|H> + |1>|V>)/sqrt2 with dual-rail photon (H rail, V rail): h, cx, x, cx
    "two_photon": tuple(
        op
        for m, (h, v) in ((0, (1, 2)), (5, (3, 4)))
        for op in (
            LinkOp("h", (m,), (), None, ("h", m)),
            LinkOp("cx", (m, v), (), None, ("cx", m, v)),
            LinkOp("x", (h,), (), None, ("x", h)),
            LinkOp("cx", (m, h), (), None, ("cx", m, h)),
        )
    ),
}
_CX_A = LinkOp("cx", (0, 1), (), None, ("cx", 0, 1))  # single_click: memory A -> photon A
_CX_B = LinkOp("cx", (3, 2), (), None, ("cx", 3, 2))  # memory B -> photon B


class _Layout(NamedTuple):
    """The qubits of a scheme's circuit."""

    memory_a: int
    memory_b: int
    arm_a: tuple[int, ...]  # photonic qubits of arm A
    arm_b: tuple[int, ...]
    num_qubits: int


_LAYOUT = {
    "single_click": _Layout(0, 3, (1,), (2,), 4),
    "two_photon": _Layout(0, 5, (1, 2), (3, 4), 6),
}


@lru_cache(maxsize=16)
def _barrier(n: int, label: str) -> LinkOp:
    return LinkOp("barrier", tuple(range(n)), (), label, ("barrier", n, label))


_STRUCTURES: dict[tuple, tuple] = {}


def link_program(spec: LinkSpec) -> LinkProgram:
    """The instruction list of ``spec``'s circuit (see :func:`compile_link` for the qubits).

    Channels are computed once per distinct value and shared (their matrices are read-only),
    so a sweep that repeats a value pays for it once.

    Parameters
    ----------
    spec : LinkSpec
        The link (:func:`qnet.link.spec.link_spec`).

    Returns
    -------
    LinkProgram

    Examples
    --------
    >>> import qnet
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> [op.name for op in link_program(spec).ops]
    ['ry', 'cx', 'ry', 'cx', 'barrier', 'kraus', 'kraus', 'kraus', 'kraus', 'kraus', 'barrier', 'kraus']
    """
    if spec.scheme not in _LAYOUT:  # pragma: no cover - guarded by Station validation
        raise ValueError(f"unknown scheme {spec.scheme!r}")
    mem_a, mem_b, arm_a, arm_b, n = _LAYOUT[spec.scheme]
    if spec.scheme == "single_click":
        ops = [
            _ry_op(spec.bright_state_population_a, mem_a),
            _CX_A,
            _ry_op(spec.bright_state_population_b, mem_b),
            _CX_B,
            _barrier(n, "emission"),
        ]
    else:
        ops = list(_EMISSION["two_photon"] or ())
        ops.append(_barrier(n, "emission"))
    for arm, eta, name in ((arm_a, spec.efficiency_a, "A"), (arm_b, spec.efficiency_b, "B")):
        key = _fkey(eta)
        for q in arm:
            ops.append(_loss_op(key, name, q))
    if spec.phase_noise_rad > 0.0:
        ops.append(_phase_op(_fkey(spec.phase_noise_rad), arm_a[0]))
    ops.append(_memory_op(_fkey(spec.storage_time_a_s), spec.t1_a_s, spec.t2_a_s, spec.decay_a, "A", mem_a))
    ops.append(_memory_op(_fkey(spec.storage_time_b_s), spec.t1_b_s, spec.t2_b_s, spec.decay_b, "B", mem_b))
    ops.append(_barrier(n, "fibre + storage"))
    photons = arm_a + arm_b
    ops.extend(_station_ops(spec.scheme, spec.visibility, spec.dark_count_probability, photons))
    structure = _STRUCTURES.get((spec.scheme, len(ops)))  # the layout is fixed by the scheme and the op count
    if structure is None:
        structure = _STRUCTURES.setdefault((spec.scheme, len(ops)), (n, tuple((op.name, op.qubits) for op in ops)))
    return LinkProgram(spec, n, tuple(ops), (mem_a, mem_b), photons, HERALDS[spec.scheme], structure)


#: The LinkSpec fields each kind of :func:`link_program` instruction (its ``key[0]``) depends
#: on: (at memory A's end, at memory B's end).
_OP_FIELDS = {
    "ry": (("bright_state_population_a",), ("bright_state_population_b",)),
    "loss": (("efficiency_a",), ("efficiency_b",)),
    "phase": (("phase_noise_rad",),) * 2,
    "memory": (
        ("storage_time_a_s", "t1_a_s", "t2_a_s", "decay_a"),
        ("storage_time_b_s", "t1_b_s", "t2_b_s", "decay_b"),
    ),
    "station": (("visibility", "dark_count_probability"),) * 2,
}


def program_fields(program: LinkProgram) -> tuple[tuple[str, ...], ...]:
    """The :class:`~qnet.link.spec.LinkSpec` fields each instruction of ``program`` depends on.

    Two specs with the scheme (and so the structure) of ``program`` that agree on an
    instruction's fields get the same instruction there from :func:`link_program`: a sweep
    builds each distinct instruction once and shares it (:mod:`qnet.studies.sweep.linkbatch`).
    Instructions that depend on no field (``cx``, ``h``, ``x``, barriers) get ``()``.

    Parameters
    ----------
    program : LinkProgram
        A link's instruction list (:func:`link_program`).

    Returns
    -------
    tuple of tuple of str
        One tuple of field names per instruction, in order.

    Examples
    --------
    >>> import qnet
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> program_fields(link_program(spec))[:3]
    (('bright_state_population_a',), (), ('bright_state_population_b',))
    """
    layout = _LAYOUT[program.spec.scheme]
    a_side = {layout.memory_a, *layout.arm_a}
    out = []
    for op in program.ops:
        sides = _OP_FIELDS.get(op.key[0])
        out.append(() if sides is None else sides[op.qubits[0] not in a_side])
    return tuple(out)


_INSTRUCTIONS: "OrderedDict[tuple, Any]" = OrderedDict()
_INSTRUCTIONS_LOCK = threading.Lock()


def _make_instruction(op: LinkOp, n: int):
    """A new Qiskit ``CircuitInstruction`` of ``op`` in a circuit of ``n`` qubits (shared register)."""
    from qiskit.circuit import Barrier, CircuitInstruction, Instruction
    from qiskit.circuit.library import CXGate, HGate, RYGate, XGate

    if op.name == "kraus":
        # writable copies: Aer (0.18) reads a read-only numpy array as if it were transposed
        operation = Instruction("kraus", len(op.qubits), 0, [np.array(k) for k in op.params], label=op.label)
    elif op.name == "ry":
        operation = RYGate(op.params[0])
    elif op.name == "barrier":
        operation = Barrier(len(op.qubits), label=op.label)
    else:
        operation = {"cx": CXGate, "h": HGate, "x": XGate}[op.name]()
    qubits = _register(n)
    return CircuitInstruction(operation, tuple(qubits[q] for q in op.qubits))


def _instruction(op: LinkOp, n: int):
    """The shared Qiskit instruction of ``op`` in a circuit of ``n`` qubits.

    One ``CircuitInstruction`` per (``n``, ``op.key``), shared by every circuit built with
    ``share_instructions=True`` (as ``append(copy=False)`` would share it), so such a circuit
    costs a dozen appends and no object construction.
    """
    key = (n, op.key)
    with _INSTRUCTIONS_LOCK:
        inst = _INSTRUCTIONS.get(key)
    if inst is not None:
        return inst
    inst = _make_instruction(op, n)
    with _INSTRUCTIONS_LOCK:
        _INSTRUCTIONS[key] = inst
        if len(_INSTRUCTIONS) > 4 * _OPS_CACHE:
            _INSTRUCTIONS.popitem(last=False)
    return inst


@lru_cache(maxsize=8)
def _register(n: int):
    """The quantum register ``q`` of ``n`` qubits that compiled circuits share."""
    from qiskit import QuantumRegister

    return QuantumRegister(n, "q")


def program_circuit(
    program: LinkProgram, name: str | None = None, share_instructions: bool = False
) -> "QuantumCircuit":
    """A ``QuantumCircuit`` of exactly ``program.ops`` (no metadata, no save instruction).

    ``share_instructions=True`` reuses one cached instruction object per distinct instruction
    (fast; for circuits that only qnet runs and discards, such as a sweep's): editing such a
    circuit's matrices in place would change every circuit sharing them.

    Parameters
    ----------
    program : LinkProgram
        The instruction list (:func:`link_program`).
    name : str, optional
        The circuit's name (default ``program.name``).
    share_instructions : bool, default False
        Reuse cached instruction objects.

    Returns
    -------
    qiskit.QuantumCircuit

    Examples
    --------
    >>> import qnet
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> qc = program_circuit(link_program(spec))
    >>> qc.name, qc.num_qubits, len(qc.data)
    ('link_alice_bob', 4, 12)
    """
    from qiskit import QuantumCircuit

    n = program.num_qubits
    make = _instruction if share_instructions else _make_instruction
    qc = QuantumCircuit(_register(n), name=name or program.name)
    for op in program.ops:
        qc._append(make(op, n))
    return qc


def program_metadata(program: LinkProgram) -> dict[str, Any]:
    """The circuit metadata of a compiled link (qubit roles, herald records, the spec).

    Parameters
    ----------
    program : LinkProgram

    Returns
    -------
    dict
        JSON-ready: ``scheme``, ``target``, ``memory_qubits``, ``photon_qubits``, ``heralds``
        (click record, detectors, correction of each) and ``spec`` (:meth:`LinkSpec.to_dict`).

    Examples
    --------
    >>> import qnet
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> meta = program_metadata(link_program(spec))
    >>> list(meta), meta["heralds"][1]
    (['scheme', 'target', 'memory_qubits', 'photon_qubits', 'heralds', 'spec'],
     {'clicks': [0, 1], 'detectors': ['d'], 'correction': ['Z', 'I']})
    """
    scheme = program.spec.scheme
    return {
        "scheme": scheme,
        "target": TARGET,
        "memory_qubits": list(program.memory_qubits),
        "photon_qubits": list(program.photon_qubits),
        "heralds": [
            {"clicks": list(h.clicks), "detectors": list(h.detectors), "correction": list(h.correction)}
            for h in program.heralds
        ],
        "spec": program.spec.to_dict(),
    }


def compile_link(spec: LinkSpec, share_instructions: bool = False) -> CompiledLink:
    """Compile an elementary link into a noisy Qiskit circuit (see the module docstring).

    Qubits: ``single_click``: 0 = memory A, 1 = photon A, 2 = photon B, 3 = memory B;
    ``two_photon``: 0 = memory A, 1/2 = photon A (H/V rails), 3/4 = photon B (H/V), 5 = memory B.
    The circuit is :func:`link_program`'s instruction list: emission (``ry`` + ``cx``, or
    ``h``, ``cx``, ``x``, ``cx``), a barrier, loss, phase noise and memory decay as ``kraus``,
    a barrier, the station instrument (``kraus``; for ``two_photon`` one per polarisation,
    :func:`qnet.link.station.station_factors`). The circuit's instructions are its own, free to edit;
    ``share_instructions=True`` (for qnet's own hot paths, e.g. sweeps, whose circuits are run
    and discarded) reuses one cached instruction object per distinct instruction instead.

    Parameters
    ----------
    spec : LinkSpec
        The link (:func:`qnet.link.spec.link_spec`).
    share_instructions : bool, default False
        Reuse cached instruction objects (:func:`program_circuit`).

    Returns
    -------
    CompiledLink

    Examples
    --------
    >>> import qnet
    >>> spec = qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> link = compile_link(spec)
    >>> link.circuit.num_qubits, link.circuit.size(), sorted(link.circuit.count_ops().items())
    (4, 10, [('barrier', 2), ('cx', 2), ('kraus', 6), ('ry', 2)])
    """
    program = link_program(spec)
    qc = program_circuit(program, share_instructions=share_instructions)
    metadata = program_metadata(program)
    qc.metadata = metadata
    return CompiledLink(
        spec=spec,
        circuit=qc,
        memory_qubits=program.memory_qubits,
        photon_qubits=program.photon_qubits,
        heralds=program.heralds,
        metadata=metadata,
    )
