"""qnet: circuit-level simulation of quantum-network links and repeaters.

Architecture: network file (TOML) -> ``networkx.Graph`` -> noisy Qiskit circuits -> Qiskit Aer
-> results. One call per step::

    import qnet
    g = qnet.load_network("examples/liu2026_ion_link.toml")
    spec = qnet.link_spec(g, "alice", "bob")        # physical parameters (SI-like units)
    link = qnet.compile_link(spec)                  # QuantumCircuit + herald metadata
    result = qnet.run_link(link)                    # Aer, exact density matrix
    print(result.fidelity, result.rate_hz, result.link_efficiency)

Conventions (units, Bell states, timing, what "rate" counts) are in the README; every
elementary link delivers |Psi+> = (|01> + |10>)/sqrt2 with memory A first.
Qiskit is imported lazily, so ``import qnet`` is cheap.
"""

from __future__ import annotations

from .errors import ConfigError, NetworkError, QnetError
from .hardware import Fibre, MemoryNode, Station
from .link import CompiledLink, LinkSpec, compile_link, find_station, link_spec
from .network import load_network, network_from_dict
from .results import LINK_FIELDS, LinkResult
from .run import heralded_state, run_link, run_links, simulate_link

__version__ = "0.1.0"

__all__ = [
    "QnetError",
    "ConfigError",
    "NetworkError",
    "MemoryNode",
    "Station",
    "Fibre",
    "LinkSpec",
    "CompiledLink",
    "LinkResult",
    "LINK_FIELDS",
    "load_network",
    "network_from_dict",
    "find_station",
    "link_spec",
    "compile_link",
    "run_link",
    "run_links",
    "simulate_link",
    "heralded_state",
]
