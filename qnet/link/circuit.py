"""Elementary heralded links: physical parameters (``LinkSpec``) and their Qiskit circuits.

A link is memory A - fibre - station - fibre - memory B. Per-arm efficiency
eta_i = emission_efficiency * conversion_efficiency * 10^(-alpha L_i / 10) * detector_efficiency;
memory i is stored t_i = 2 L_i / c (photon to the station, herald back); the attempt time is
T_att = max(prep_time_s) + 2 max(L_A, L_B) / c (``docs/conventions.md``).

:func:`compile_link` turns a ``LinkSpec`` into a :class:`CompiledLink`: a ``QuantumCircuit``
(memories, photonic modes, emission, loss as amplitude damping, optical phase noise, memory
dephasing and T1 as raw Aer ``kraus`` instructions, the station as a click-record instrument)
plus the metadata needed to read the heralded state out of its final density matrix.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import networkx as nx
import numpy as np

from qnet.quantum import channels
from qnet.errors import ConfigError, NetworkError
from qnet.network.hardware import MAX_TIME_S, MemoryNode, Station
from qnet.link.station import HERALDS, Herald, station_kraus

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

__all__ = [
    "LinkSpec",
    "CompiledLink",
    "LinkOp",
    "LinkProgram",
    "link_spec",
    "spec_from_hardware",
    "find_station",
    "link_program",
    "program_circuit",
    "compile_link",
    "elementary_links",
    "TARGET",
    "MAX_ATTEMPT_TIME_S",
]

#: The Bell state every link delivers after its Pauli-frame correction.
TARGET = "psi+"


#: Longest attempt time accepted (s), ~3e22 years (:data:`qnet.network.hardware.MAX_TIME_S`): times are
#: floats, and the repeater chain multiplies attempt times by round counts (< 2^63) and sums them
#: over samples (< 2^31), which stays far from overflow (1e30 * 9.2e18 * 2.1e9 ~ 2e58).
MAX_ATTEMPT_TIME_S = MAX_TIME_S


@dataclass(frozen=True)
class LinkSpec:
    """Everything that determines one elementary link's circuits and timing (SI-like units)."""

    node_a: str
    node_b: str
    station: str
    scheme: str
    length_a_km: float
    length_b_km: float
    efficiency_a: float  # total per-arm efficiency eta_A (every lossy stage)
    efficiency_b: float
    bright_state_population_a: float | None  # alpha, single_click only
    bright_state_population_b: float | None
    storage_time_a_s: float  # 2 L_A / c
    storage_time_b_s: float
    t2_a_s: float
    t2_b_s: float
    t1_a_s: float
    t1_b_s: float
    decay_a: str
    decay_b: str
    dark_count_probability: float
    visibility: float
    phase_noise_rad: float
    attempt_time_s: float
    #: parallel attempts per round, k = min(memories of A, memories of B) for this link
    #: (:mod:`qnet.link.multiplexing`); the circuit is one attempt, the rate counts k of them
    attempts_per_round: int = 1

    def __post_init__(self) -> None:
        t = self.attempt_time_s
        if not (0.0 < t <= MAX_ATTEMPT_TIME_S and math.isfinite(1.0 / t)):  # also rejects NaN
            raise ConfigError(
                f"link {self.node_a}-{self.node_b}", "attempt_time_s", t,
                f"a time in seconds > 0 whose rate 1/T is finite, at most {MAX_ATTEMPT_TIME_S:g}",
            )

    @property
    def pair_coherence_time_s(self) -> float:
        """1/e time of the stored pair's coherence with both memories decaying (s)."""
        return channels.pair_coherence_time(
            (self.t2_a_s, self.t1_a_s, self.decay_a), (self.t2_b_s, self.t1_b_s, self.decay_b)
        )

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (all values are numbers, strings or None)."""
        return {name: getattr(self, name) for name in _SPEC_FIELDS}


_SPEC_FIELDS = tuple(f.name for f in fields(LinkSpec))


def find_station(graph: nx.Graph, a: str, b: str, station: str | None = None) -> str:
    """Name of the station that joins memory nodes ``a`` and ``b`` by fibres."""
    for node in (a, b):
        if node not in graph:
            raise NetworkError(f"unknown node {node!r} (nodes: {', '.join(sorted(map(str, graph)))})")
        if not isinstance(graph.nodes[node]["hardware"], MemoryNode):
            raise NetworkError(f"node {node!r} is a station; a link joins two memory nodes")
    if a == b:
        raise NetworkError(f"a link needs two different memory nodes, got {a!r} twice")
    stations = sorted(
        s for s in nx.common_neighbors(graph, a, b) if isinstance(graph.nodes[s]["hardware"], Station)
    )
    if station is not None:
        if station not in stations:
            raise NetworkError(f"{station!r} is not a station joined by fibres to both {a!r} and {b!r}")
        return station
    if not stations:
        raise NetworkError(f"{a!r} and {b!r} are not an elementary link: no station is joined by fibres to both")
    if len(stations) > 1:
        raise NetworkError(f"{a!r} and {b!r} share several stations ({', '.join(stations)}); name one")
    return stations[0]


def link_spec(graph: nx.Graph, a: str, b: str, station: str | None = None) -> LinkSpec:
    """Derive the physical parameters of the elementary link ``a`` - station - ``b``."""
    s = find_station(graph, a, b, station)
    return spec_from_hardware(
        a, b, s, graph.nodes[s]["hardware"], graph.nodes[a]["hardware"], graph.nodes[b]["hardware"],
        graph.edges[a, s]["fibre"], graph.edges[b, s]["fibre"], graph.graph.get("fibre_speed_km_per_s", 2.0e5),
    )


def spec_from_hardware(
    a: str, b: str, s: str, st: Station, mem_a: MemoryNode, mem_b: MemoryNode, fib_a: Any, fib_b: Any, c: float,
    transmissions: tuple[float, float] | None = None,
) -> LinkSpec:
    """The :class:`LinkSpec` of ``a`` - ``s`` - ``b`` from the hardware objects themselves.

    :func:`link_spec` is this after finding the station and reading the objects off the graph;
    a sweep that replaces only the objects a point changes calls it directly (same checks,
    same errors, same numbers). ``transmissions``: the fibres' ``fibre_transmission`` values,
    when the caller has them already.
    """
    if st.scheme == "single_click":
        for n, mem in ((a, mem_a), (b, mem_b)):
            if mem.bright_state_population is None:
                raise ConfigError(
                    f"nodes.{n}", "bright_state_population", None,
                    f"required field is missing: station {s!r} uses the single_click scheme, which needs it",
                )
    if transmissions is None:
        transmissions = (
            channels.fibre_transmission(fib_a.length_km, fib_a.attenuation_db_per_km),
            channels.fibre_transmission(fib_b.length_km, fib_b.attenuation_db_per_km),
        )
    det = st.detector_efficiency
    eff_a = mem_a.emission_efficiency * mem_a.conversion_efficiency * transmissions[0] * det
    eff_b = mem_b.emission_efficiency * mem_b.conversion_efficiency * transmissions[1] * det
    storage = (2.0 * (fib_a.length_km / c), 2.0 * (fib_b.length_km / c))  # = 2 L / c, without overflowing 2 L
    attempt = _attempt_time(a, b, (mem_a, mem_b), (fib_a, fib_b), storage, c)
    return LinkSpec(
        a, b, s, st.scheme,
        fib_a.length_km, fib_b.length_km,
        eff_a, eff_b,
        mem_a.bright_state_population, mem_b.bright_state_population,
        storage[0], storage[1],
        mem_a.t2_s, mem_b.t2_s, mem_a.t1_s, mem_b.t1_s,
        mem_a.decay, mem_b.decay,
        st.dark_count_probability, st.visibility,
        st.phase_noise_rad, attempt,
        attempts_per_round=link_attempts(a, mem_a, b, mem_b),
    )


def _attempt_time(a: str, b: str, mems: tuple, fibs: tuple, storage: tuple[float, float], c: float) -> float:
    """T_att = max(prep_time_s) + max(2 L / c), refused unless finite and the attempt rate 1/T_att too.

    An attempt time above :data:`MAX_ATTEMPT_TIME_S` (or infinite) names the field that makes
    it: the longer fibre's ``length_km`` when 2 L / c is that long, else the slower node's
    ``prep_time_s``. A zero one (or one so short that 1/T_att overflows: the rate would be
    infinite) names node ``a``'s ``prep_time_s`` and both fibres' lengths.
    """
    attempt = max(m.prep_time_s for m in mems) + max(storage)
    if not attempt <= MAX_ATTEMPT_TIME_S:
        if not max(storage) <= MAX_ATTEMPT_TIME_S:
            longer = max(fibs, key=lambda f: f.length_km)
            raise ConfigError(
                f"fibres.{longer.name}", "length_km", longer.length_km,
                f"too long: the link {a}-{b}'s attempt time 2 L / c (network.fibre_speed_km_per_s = {c:g}) is {max(storage):.3g} s, "
                f"above the {MAX_ATTEMPT_TIME_S:g} s qnet can time",
            )
        slow = max(mems, key=lambda m: m.prep_time_s)
        raise ConfigError(
            f"nodes.{slow.name}", "prep_time_s", slow.prep_time_s,
            f"too long: the link {a}-{b}'s attempt time is {attempt:.3g} s, above the {MAX_ATTEMPT_TIME_S:g} s qnet can time",
        )
    if not (attempt > 0.0 and math.isfinite(1.0 / attempt)):
        lengths = ", ".join(f"fibres.{f.name}.length_km = {f.length_km:g}" for f in fibs)
        preps = ", ".join(f"nodes.{m.name}.prep_time_s = {m.prep_time_s:g}" for m in mems)
        raise ConfigError(
            f"nodes.{a}", "prep_time_s", mems[0].prep_time_s,
            f"the link {a}-{b} has attempt time {attempt:.3g} s ({preps}; {lengths}), so its rate would be "
            "infinite; give prep_time_s > 0 or a fibre length > 0",
        )
    return attempt


def link_attempts(a: str, mem_a: MemoryNode, b: str, mem_b: MemoryNode) -> int:
    """k of a link taken alone: each end gives it all its memories (:mod:`qnet.link.multiplexing`)."""
    from qnet.link.multiplexing import attempts_per_round, memories_per_link

    return attempts_per_round(memories_per_link(a, mem_a.memories, 1), memories_per_link(b, mem_b.memories, 1))


@dataclass(frozen=True)
class CompiledLink:
    """A link's circuit and what is needed to read its heralded state.

    ``circuit`` ends with the station's click record on the photonic qubits; it has no save
    instruction, so it can be inspected, drawn, changed and saved (QPY). The heralded
    memory state for record ``h.clicks`` is the block of the final density matrix where the
    photonic qubits hold those bits; ``h.correction`` is applied to reach the target.
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
    their parameters and are simulated together.
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
def _station_op(scheme: str, visibility: float, dark: float, photons: tuple[int, ...]) -> LinkOp:
    label = f"station {scheme}"
    ops = _frozen(station_kraus(scheme, visibility, dark))
    return LinkOp("kraus", photons, ops, label, ("station", scheme, _fkey(visibility), _fkey(dark), photons))


_EMISSION = {
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
_LAYOUT = {  # scheme -> (memory A, memory B, photonic qubits of arm A, of arm B, qubits)
    "single_click": (0, 3, (1,), (2,), 4),
    "two_photon": (0, 5, (1, 2), (3, 4), 6),
}


@lru_cache(maxsize=16)
def _barrier(n: int, label: str) -> LinkOp:
    return LinkOp("barrier", tuple(range(n)), (), label, ("barrier", n, label))


_STRUCTURES: dict[tuple, tuple] = {}


def link_program(spec: LinkSpec) -> LinkProgram:
    """The instruction list of ``spec``'s circuit (see :func:`compile_link` for the qubits).

    Channels are computed once per distinct value and shared (their matrices are read-only),
    so a sweep that repeats a value pays for it once.
    """
    if spec.scheme not in _LAYOUT:  # pragma: no cover - guarded by Station validation
        raise ValueError(f"unknown scheme {spec.scheme!r}")
    mem_a, mem_b, arm_a, arm_b, n = _LAYOUT[spec.scheme]
    if spec.scheme == "single_click":
        ops = [
            _ry_op(spec.bright_state_population_a, mem_a), _CX_A,
            _ry_op(spec.bright_state_population_b, mem_b), _CX_B,
            _barrier(n, "emission"),
        ]
    else:
        ops = list(_EMISSION["two_photon"])
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
    ops.append(_station_op(spec.scheme, spec.visibility, spec.dark_count_probability, photons))
    structure = _STRUCTURES.get((spec.scheme, len(ops)))  # the layout is fixed by the scheme and the op count
    if structure is None:
        structure = _STRUCTURES.setdefault((spec.scheme, len(ops)), (n, tuple((op.name, op.qubits) for op in ops)))
    return LinkProgram(spec, n, tuple(ops), (mem_a, mem_b), photons, HERALDS[spec.scheme], structure)


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


def program_circuit(program: LinkProgram, name: str | None = None, share_instructions: bool = False) -> "QuantumCircuit":
    """A ``QuantumCircuit`` of exactly ``program.ops`` (no metadata, no save instruction).

    ``share_instructions=True`` reuses one cached instruction object per distinct instruction
    (fast; for circuits that only qnet runs and discards, such as a sweep's): editing such a
    circuit's matrices in place would change every circuit sharing them.
    """
    from qiskit import QuantumCircuit

    n = program.num_qubits
    make = _instruction if share_instructions else _make_instruction
    qc = QuantumCircuit(_register(n), name=name or program.name)
    for op in program.ops:
        qc._append(make(op, n))
    return qc


def program_metadata(program: LinkProgram) -> dict[str, Any]:
    """The circuit metadata of a compiled link (qubit roles, herald records, the spec)."""
    scheme = program.spec.scheme
    return {
        "scheme": scheme,
        "target": TARGET,
        "memory_qubits": list(program.memory_qubits),
        "photon_qubits": list(program.photon_qubits),
        "heralds": [{"clicks": list(h.clicks), "detectors": list(h.detectors), "correction": list(h.correction)} for h in program.heralds],
        "spec": program.spec.as_dict(),
    }


def compile_link(spec: LinkSpec, share_instructions: bool = False) -> CompiledLink:
    """Compile an elementary link into a noisy Qiskit circuit (see the module docstring).

    Qubits: ``single_click``: 0 = memory A, 1 = photon A, 2 = photon B, 3 = memory B;
    ``two_photon``: 0 = memory A, 1/2 = photon A (H/V rails), 3/4 = photon B (H/V), 5 = memory B.
    The circuit is :func:`link_program`'s instruction list: emission (``ry`` + ``cx``, or
    ``h``, ``cx``, ``x``, ``cx``), a barrier, loss, phase noise and memory decay as ``kraus``,
    a barrier, the station instrument. The circuit's instructions are its own, free to edit;
    ``share_instructions=True`` (for qnet's own hot paths, e.g. sweeps, whose circuits are run
    and discarded) reuses one cached instruction object per distinct instruction instead.
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


def elementary_links(graph: nx.Graph) -> list[tuple[str, str, str]]:
    """Every (memory A, memory B, station) joined memory - fibre - station - fibre - memory."""
    out = []
    for s, data in graph.nodes(data=True):
        if not isinstance(data["hardware"], Station):
            continue
        mems = sorted(n for n in graph.neighbors(s) if isinstance(graph.nodes[n]["hardware"], MemoryNode))
        out += [(a, b, s) for i, a in enumerate(mems) for b in mems[i + 1 :]]
    return sorted(out)
