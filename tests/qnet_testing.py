"""Helpers shared by qnet's tests (imported as ``from qnet_testing import ...``).

``build_link_network(...)`` builds the raw network table (the dict a TOML file parses to) of one
elementary link ``alice - fibre - mid - fibre - bob``; ``run_network(...)`` takes such a
table through the public API (network_from_dict -> link_spec -> compile_link -> run_link).
Everything defaults to an *ideal* link (unit efficiencies, memories that never decay,
V = 1, no dark counts, no phase noise), so each test names only the parameters it checks.
``random_state`` and ``assert_physical`` serve the state-level tests.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

import qnet


def build_link_network(
    scheme: str = "single_click",
    length_a_km: float = 10.0,
    length_b_km: float | None = None,
    attenuation_a_db_per_km: float = 0.2,
    attenuation_b_db_per_km: float | None = None,
    alice: dict[str, Any] | None = None,
    bob: dict[str, Any] | None = None,
    station: dict[str, Any] | None = None,
    network: dict[str, Any] | None = None,
    alpha: float = 0.1,
) -> dict[str, Any]:
    """Raw network table of one link; ``alice``/``bob``/``station`` override node fields."""
    length_b_km = length_a_km if length_b_km is None else length_b_km
    attenuation_b_db_per_km = attenuation_a_db_per_km if attenuation_b_db_per_km is None else attenuation_b_db_per_km

    def memory(extra: dict[str, Any] | None) -> dict[str, Any]:
        node: dict[str, Any] = {"kind": "memory", "t2_s": math.inf, "emission_efficiency": 1.0}
        if scheme == "single_click":
            node["bright_state_population"] = alpha
        node.update(extra or {})
        return node

    data: dict[str, Any] = {
        "nodes": {
            "alice": memory(alice),
            "bob": memory(bob),
            "mid": {"kind": "station", "scheme": scheme, **(station or {})},
        },
        "fibres": [
            {"a": "alice", "b": "mid", "length_km": length_a_km, "attenuation_db_per_km": attenuation_a_db_per_km},
            {"a": "bob", "b": "mid", "length_km": length_b_km, "attenuation_db_per_km": attenuation_b_db_per_km},
        ],
    }
    if network:
        data["network"] = dict(network)
    return data


def run_network(data: dict[str, Any], shots: int | None = None, seed: int | None = None) -> qnet.LinkResult:
    """Public-API path for the alice-bob link of ``data``."""
    graph = qnet.network_from_dict(copy.deepcopy(data))
    return qnet.run_link(qnet.compile_link(qnet.link_spec(graph, "alice", "bob")), shots=shots, seed=seed)


def random_state(rng, dim=4):
    """A random full-rank density matrix (Ginibre) of dimension ``dim``."""
    g = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    r = g @ g.conj().T
    return r / np.trace(r)


def assert_physical(rho, atol=1e-10):
    """Hermitian, unit trace, no eigenvalue below -atol."""
    assert np.allclose(rho, rho.conj().T, atol=atol)
    assert abs(np.trace(rho) - 1) < atol
    assert np.linalg.eigvalsh((rho + rho.conj().T) / 2).min() > -atol
