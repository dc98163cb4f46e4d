"""qnet: circuit-level simulation of quantum-network links and repeaters.

Architecture: network file (TOML) -> ``networkx.Graph`` -> noisy Qiskit circuits -> Qiskit Aer
-> results. One call per step::

    import qnet
    g = qnet.load_network("examples/liu2026_ion_link.toml")
    spec = qnet.link_spec(g, "alice", "bob")        # physical parameters (SI-like units)
    link = qnet.compile_link(spec)                  # QuantumCircuit + herald metadata
    result = qnet.run_link(link)                    # Aer, exact density matrix
    print(result.fidelity, result.rate_hz, result.link_efficiency)
    chain = qnet.simulate_path(g, ["alice", "r1", "bob"], seed=1)   # a repeater chain by node names

Public names: links (``link_spec``, ``compile_link``, ``run_link``, ``simulate_link``; many at once:
``run_specs``, each distinct link simulated once, or ``run_links`` on compiled links), chains
(``simulate_path``, ``build_chain``, ``RepeaterChain``, ``simulate_chain``, ``exact_chain``),
routes (``best_path``, ``k_best_paths``), comparisons (``compare_path``), purification
(``purify``, ``purify_link``), many requests at once (``Request``, ``simulate_traffic``,
``TrafficResult``), the switch (``fuse``, ``switch_capacity``) and sweeps (``run_sweep``,
``LinkEvaluator``, ``ChainEvaluator``, ``TrafficEvaluator``).

Conventions (units, Bell states, timing, what "rate" counts) are in docs/conventions.md; every
elementary link delivers |Psi+> = (|01> + |10>)/sqrt2 with memory A first.
Qiskit is imported lazily, so ``import qnet`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> submodule; loaded on first use so that `import qnet` (and `qnet --help`) stays fast
_LAZY = {
    "QnetError": "errors",
    "ConfigError": "errors",
    "NetworkError": "errors",
    "MemoryNode": "network.hardware",
    "Station": "network.hardware",
    "Fibre": "network.hardware",
    "LinkSpec": "link.spec",
    "CompiledLink": "link.circuit",
    "compile_link": "link.circuit",
    "find_station": "link.spec",
    "link_spec": "link.spec",
    "elementary_links": "link.spec",
    "load_network": "network.io",
    "network_from_dict": "network.graph",
    "LinkResult": "link.results",
    "LINK_FIELDS": "link.results",
    "heralded_state": "link.run",
    "run_link": "link.run",
    "run_links": "link.run",
    "simulate_link": "link.run",
    "run_specs": "link.distinct",
    "PreparedNetwork": "link.prepared",
    "prepare_network": "link.prepared",
    "swap": "repeater.swapping",
    "swap_circuit": "repeater.swapping",
    "purify": "repeater.purification",
    "purify_circuit": "repeater.purification",
    "save_circuits": "link.export",
    "load_circuits": "link.export",
    # figures of a link and the one multiplexing rule
    "LINK_LABELS": "link.results",
    "link_figures": "link.run",
    "attempts_per_round": "link.multiplexing",
    "memories_per_link": "link.multiplexing",
    "success_per_round": "link.multiplexing",
    # repeater chains from a network: a path by node names or hops
    "ChainResult": "repeater.path",
    "CHAIN_FIELDS": "repeater.path",
    "build_chain": "repeater.path",
    "simulate_path": "repeater.path",
    "path_hops": "repeater.path",
    "format_chain": "repeater.path",
    # routes
    "best_path": "repeater.routing",
    "explicit_path": "repeater.routing",
    "link_graph": "repeater.routing",
    # the chain time process on its own
    "MemoryDecay": "repeater.chain",
    "LinkPurification": "repeater.chain",
    "ChainLink": "repeater.chain",
    "RepeaterNode": "repeater.chain",
    "RepeaterChain": "repeater.chain",
    "simulate_chain": "repeater.chain",
    "exact_chain": "repeater.chain",
    "run_chain": "repeater.chain",
    # direct link vs chain vs PLOB
    "compare_path": "repeater.compare",
    "Comparison": "repeater.compare",
    # purification: one round on two pairs, or on a link
    "twirl_to_werner": "repeater.purification",
    "purify_link": "repeater.link_purification",
    "PurifiedLinkResult": "repeater.link_purification",
    # many requests on a network, the entanglement switch
    "Request": "repeater.traffic",
    "read_requests": "repeater.traffic",
    "simulate_traffic": "repeater.traffic",
    "TrafficRun": "repeater.traffic",
    "TrafficResult": "repeater.traffic",
    "format_traffic": "repeater.traffic",
    "write_trace": "repeater.traffic",
    "k_best_paths": "repeater.routing",
    "fuse": "repeater.fusion",
    "ghz_fidelity": "repeater.fusion",
    "switch_capacity": "repeater.switch",
    # waiting-time laws of repeater chains (rounds of attempts; closed forms and grid tools)
    "TIME_RTOL": "repeater.waiting",
    "cutoff_rounds": "repeater.waiting",
    "geometric_pmf": "repeater.waiting",
    "max_iid_pmf": "repeater.waiting",
    "convolve": "repeater.waiting",
    "renewal": "repeater.waiting",
    "nested_completion_pmf": "repeater.waiting",
    "pmf_mean": "repeater.waiting",
    "two_link_mean_rounds": "repeater.waiting",
    "two_link_storage_pmf": "repeater.waiting",
    "two_link_mean_decay": "repeater.waiting",
    "n_link_mean_rounds": "repeater.waiting",
    "n_link_mean_rounds_alternating": "repeater.waiting",
    # parameter sweeps
    "Axis": "studies.sweep",
    "parse_vary": "studies.sweep",
    "grid": "studies.sweep",
    "LinkEvaluator": "studies.sweep",
    "ChainEvaluator": "studies.sweep",
    "TrafficEvaluator": "studies.sweep",
    "run_sweep": "studies.sweep",
    "read_table": "studies.sweep",
}

__all__ = sorted(_LAZY)


#: the layers, lowest first: a module imports only from its own layer and the ones before it
#: (errors, outputs and _lazy are below them all); tests/test_layers.py enforces it
LAYERS = ("quantum", "network", "link", "repeater", "studies", "cli")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"qnet.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    if name in LAYERS:
        return importlib.import_module(f"qnet.{name}")
    raise AttributeError(f"module 'qnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(LAYERS))
