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

Public names: links (``link_spec``, ``compile_link``, ``run_link``, ``simulate_link``), chains
(``simulate_path``, ``build_chain``, ``RepeaterChain``, ``simulate_chain``, ``exact_chain``),
routes (``best_path``), comparisons (``compare_path``), purification (``purify``,
``purify_link``) and sweeps (``run_sweep``, ``LinkEvaluator``, ``ChainEvaluator``).

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
    "MemoryNode": "hardware",
    "Station": "hardware",
    "Fibre": "hardware",
    "LinkSpec": "link",
    "CompiledLink": "link",
    "compile_link": "link",
    "find_station": "link",
    "link_spec": "link",
    "elementary_links": "link",
    "load_network": "network",
    "network_from_dict": "network",
    "LinkResult": "results",
    "LINK_FIELDS": "results",
    "heralded_state": "run",
    "run_link": "run",
    "run_links": "run",
    "simulate_link": "run",
    "swap": "swapping",
    "swap_circuit": "swapping",
    "purify": "purification",
    "purify_circuit": "purification",
    "save_circuits": "export",
    "load_circuits": "export",
    # figures of a link and the one multiplexing rule
    "LINK_LABELS": "results",
    "link_figures": "run",
    "attempts_per_round": "multiplexing",
    "memories_per_link": "multiplexing",
    "success_per_round": "multiplexing",
    # repeater chains from a network: a path by node names or hops
    "ChainResult": "repeater",
    "CHAIN_FIELDS": "repeater",
    "build_chain": "repeater",
    "simulate_path": "repeater",
    "path_hops": "repeater",
    "format_chain": "repeater",
    # routes
    "best_path": "routing",
    "explicit_path": "routing",
    "link_graph": "routing",
    # the chain time process on its own
    "MemoryDecay": "chain",
    "LinkPurification": "chain",
    "ChainLink": "chain",
    "RepeaterNode": "chain",
    "RepeaterChain": "chain",
    "simulate_chain": "chain",
    "exact_chain": "chain",
    "run_chain": "chain",
    # direct link vs chain vs PLOB
    "compare_path": "compare",
    "Comparison": "compare",
    # purification: one round on two pairs, or on a link
    "twirl_to_werner": "purification",
    "purify_link": "link_purification",
    "PurifiedLinkResult": "link_purification",
    # parameter sweeps
    "Axis": "sweep",
    "parse_vary": "sweep",
    "grid": "sweep",
    "LinkEvaluator": "sweep",
    "ChainEvaluator": "sweep",
    "run_sweep": "sweep",
    "read_table": "sweep",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
