"""Elementary heralded links: physical parameters (``LinkSpec``) and their Qiskit circuits.

A link is memory A - fibre - station - fibre - memory B. Per-arm efficiency
eta_i = emission_efficiency * conversion_efficiency * 10^(-alpha L_i / 10) * detector_efficiency;
memory i is stored t_i = 2 L_i / c (photon to the station, herald back); the attempt time is
T_att = max(prep_time_s) + 2 max(L_A, L_B) / c (``conventions.md``).

:func:`compile_link` turns a ``LinkSpec`` into a :class:`CompiledLink`: a ``QuantumCircuit``
(memories, photonic modes, emission, loss as amplitude damping, optical phase noise, memory
dephasing and T1 as raw Aer ``kraus`` instructions, the station as a click-record instrument)
plus the metadata needed to read the heralded state out of its final density matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from . import channels
from .errors import ConfigError, NetworkError
from .hardware import MemoryNode, Station
from .station import HERALDS, Herald, station_kraus

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

__all__ = ["LinkSpec", "CompiledLink", "link_spec", "find_station", "compile_link", "elementary_links", "TARGET"]

#: The Bell state every link delivers after its Pauli-frame correction.
TARGET = "psi+"


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

    @property
    def pair_coherence_time_s(self) -> float:
        """1/e time of the stored pair's coherence with both memories decaying (s)."""
        return channels.pair_coherence_time(
            (self.t2_a_s, self.t1_a_s, self.decay_a), (self.t2_b_s, self.t1_b_s, self.decay_b)
        )

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (all values are numbers, strings or None)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


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
    st: Station = graph.nodes[s]["hardware"]
    mem: dict[str, MemoryNode] = {n: graph.nodes[n]["hardware"] for n in (a, b)}
    fib = {n: graph.edges[n, s]["fibre"] for n in (a, b)}
    c = graph.graph.get("fibre_speed_km_per_s", 2.0e5)
    if st.scheme == "single_click":
        for n in (a, b):
            if mem[n].bright_state_population is None:
                raise ConfigError(
                    f"nodes.{n}", "bright_state_population", None,
                    f"required field is missing: station {s!r} uses the single_click scheme, which needs it",
                )
    eff = {
        n: mem[n].emission_efficiency
        * mem[n].conversion_efficiency
        * channels.fibre_transmission(fib[n].length_km, fib[n].attenuation_db_per_km)
        * st.detector_efficiency
        for n in (a, b)
    }
    attempt = max(mem[a].prep_time_s, mem[b].prep_time_s) + 2.0 * max(fib[a].length_km, fib[b].length_km) / c
    if attempt <= 0.0:
        raise ConfigError(
            f"nodes.{a}", "prep_time_s", mem[a].prep_time_s,
            f"the link {a}-{b} has zero attempt time (no fibre length and no preparation time); give prep_time_s > 0",
        )
    return LinkSpec(
        node_a=a, node_b=b, station=s, scheme=st.scheme,
        length_a_km=fib[a].length_km, length_b_km=fib[b].length_km,
        efficiency_a=eff[a], efficiency_b=eff[b],
        bright_state_population_a=mem[a].bright_state_population,
        bright_state_population_b=mem[b].bright_state_population,
        storage_time_a_s=2.0 * fib[a].length_km / c, storage_time_b_s=2.0 * fib[b].length_km / c,
        t2_a_s=mem[a].t2_s, t2_b_s=mem[b].t2_s, t1_a_s=mem[a].t1_s, t1_b_s=mem[b].t1_s,
        decay_a=mem[a].decay, decay_b=mem[b].decay,
        dark_count_probability=st.dark_count_probability, visibility=st.visibility,
        phase_noise_rad=st.phase_noise_rad, attempt_time_s=attempt,
    )


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


def _kraus(ops, label: str):
    from qiskit.circuit import Instruction

    ops = [np.asarray(k, dtype=complex) for k in ops]
    n = int(round(math.log2(ops[0].shape[0])))
    return Instruction("kraus", n, 0, ops, label=label)


def compile_link(spec: LinkSpec) -> CompiledLink:
    """Compile an elementary link into a noisy Qiskit circuit (see the module docstring).

    Qubits: ``single_click``: 0 = memory A, 1 = photon A, 2 = photon B, 3 = memory B;
    ``two_photon``: 0 = memory A, 1/2 = photon A (H/V rails), 3/4 = photon B (H/V), 5 = memory B.
    """
    from qiskit import QuantumCircuit

    if spec.scheme == "single_click":
        mem_a, mem_b, arm_a, arm_b = 0, 3, (1,), (2,)
        qc = QuantumCircuit(4, name=f"link_{spec.node_a}_{spec.node_b}")
        # node i: sqrt(1-alpha)|0>|vac> + sqrt(alpha)|1>|1 photon>
        for m, (p,), alpha in ((mem_a, arm_a, spec.bright_state_population_a), (mem_b, arm_b, spec.bright_state_population_b)):
            qc.ry(2.0 * math.asin(math.sqrt(alpha)), m)
            qc.cx(m, p)
    elif spec.scheme == "two_photon":
        mem_a, mem_b, arm_a, arm_b = 0, 5, (1, 2), (3, 4)
        qc = QuantumCircuit(6, name=f"link_{spec.node_a}_{spec.node_b}")
        # node i: (|0>|H> + |1>|V>)/sqrt2 with dual-rail photon (H rail, V rail)
        for m, (h, v) in ((mem_a, arm_a), (mem_b, arm_b)):
            qc.h(m)
            qc.cx(m, v)
            qc.x(h)
            qc.cx(m, h)
    else:  # pragma: no cover - guarded by Station validation
        raise ValueError(f"unknown scheme {spec.scheme!r}")
    qc.barrier(label="emission")

    for arm, eta, name in ((arm_a, spec.efficiency_a, "A"), (arm_b, spec.efficiency_b, "B")):
        loss = _kraus(channels.loss_kraus(eta), f"loss {name} (eta={eta:.3g})")
        for q in arm:
            qc.append(loss, [q], copy=False)
    if spec.phase_noise_rad > 0.0:
        c = math.exp(-0.5 * spec.phase_noise_rad**2)
        qc.append(_kraus(channels.dephasing_kraus(c), f"phase noise ({spec.phase_noise_rad:.3g} rad)"), [arm_a[0]])
    for m, t, t1, t2, law, name in (
        (mem_a, spec.storage_time_a_s, spec.t1_a_s, spec.t2_a_s, spec.decay_a, "A"),
        (mem_b, spec.storage_time_b_s, spec.t1_b_s, spec.t2_b_s, spec.decay_b, "B"),
    ):
        qc.append(_kraus(channels.memory_kraus(t, t1, t2, law), f"memory {name} ({t:.3g} s)"), [m])
    qc.barrier(label="fibre + storage")
    photons = arm_a + arm_b
    ops = station_kraus(spec.scheme, spec.visibility, spec.dark_count_probability)
    qc.append(_kraus(ops, f"station {spec.scheme}"), list(photons))
    metadata = {
        "scheme": spec.scheme,
        "target": TARGET,
        "memory_qubits": [mem_a, mem_b],
        "photon_qubits": list(photons),
        "heralds": [{"clicks": list(h.clicks), "detectors": list(h.detectors), "correction": list(h.correction)} for h in HERALDS[spec.scheme]],
        "spec": spec.as_dict(),
    }
    qc.metadata = metadata
    return CompiledLink(
        spec=spec,
        circuit=qc,
        memory_qubits=(mem_a, mem_b),
        photon_qubits=photons,
        heralds=HERALDS[spec.scheme],
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
